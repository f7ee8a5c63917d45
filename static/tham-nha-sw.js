// The visit form's service worker: keeps the form, its script, the style sheet and the team's
// household list, so that the form opens and fills with no signal. Network first, the cache when the
// network fails. Visits themselves are never cached here: the page queues them in IndexedDB.
'use strict';
const CACHE = 'tham-nha-v1';
const SHELL = ['/tham-nha/', '/tham-nha/tham-nha.js', '/static/app.css'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function kept(url) {
  return url.pathname.startsWith('/tham-nha/') || url.pathname === '/static/app.css'
    || url.pathname === '/api/v1/visits/households';
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || !kept(url)) return;
  // The form's pages differ only by their query (a household chosen, a notice): one copy serves them offline.
  const key = url.pathname.startsWith('/tham-nha/') && !url.pathname.endsWith('.js') ? '/tham-nha/' : request;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.ok && !response.redirected && response.type === 'basic') {
        const copy = response.clone();
        caches.open(CACHE).then((c) => c.put(key, copy));
      }
      return response;
    }).catch(() => caches.match(key).then((hit) => hit || Response.error())),
  );
});
