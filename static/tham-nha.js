// The visit form with no signal. A visit is saved into IndexedDB first, then sent to
// POST /api/v1/visits with the id made here: the server takes a resend of the same visit as harmless
// (200) and a different visit under the same id as a conflict (409). Sending happens on page load,
// on `online` and on the retry button. A visit the server refuses (4xx) is kept, marked, never dropped.
(() => {
  'use strict';
  const form = document.getElementById('mau-tham');
  if (!form || !window.indexedDB || !window.fetch) return;
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/tham-nha/sw.js').catch(() => {});
  const $ = (id) => document.getElementById(id);
  const team = Number(form.dataset.team);
  const csrf = form.elements.csrf.value;
  const box = $('hang-doi-khung');
  const WAITING = 'cho';
  const FAILED = 'loi';
  const SENT = 'da_gui';
  let households = [];

  // IndexedDB: one store of visits, by id.
  let opened;
  const db = () => opened || (opened = new Promise((ok, ko) => {
    const r = indexedDB.open('tham-nha', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('visits', { keyPath: 'id' });
    r.onsuccess = () => ok(r.result);
    r.onerror = () => ko(r.error);
  }));
  const store = async (mode, work) => {
    const d = await db();
    return new Promise((ok, ko) => {
      const t = d.transaction('visits', mode);
      const r = work(t.objectStore('visits'));
      t.oncomplete = () => ok(r && r.result);
      t.onerror = () => ko(t.error);
    });
  };
  const all = () => store('readonly', (s) => s.getAll());
  const put = (item) => store('readwrite', (s) => s.put(item));

  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : ([1e7] + -1e3 + -4e3 + -8e3 + -1e11).replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));
  const text = (tag, value) => { const e = document.createElement(tag); e.textContent = value; return e; };

  async function show() {
    const items = await all();
    const waiting = items.filter((i) => i.state === WAITING);
    const failed = items.filter((i) => i.state === FAILED);
    const sent = items.filter((i) => i.state === SENT);
    box.hidden = false;
    const parts = [`${waiting.length} lượt thăm chưa gửi`];
    if (failed.length) parts.push(`${failed.length} lượt thăm bị từ chối, đang giữ lại để sửa`);
    parts.push(`${sent.length} lượt đã gửi`);
    $('hang-doi').textContent = parts.join(' · ') + (navigator.onLine ? '' : ' (đang mất mạng)');
    const list = $('hang-doi-ds');
    list.replaceChildren(...waiting.concat(failed).map((i) => {
      const li = text('li', `Hộ ${i.visit.household}, ngày ${i.visit.visited_on}: `);
      li.append(text('strong', i.state === WAITING ? 'chưa gửi' : 'bị từ chối'));
      if (i.message) li.append(text('span', ` — ${i.message}`));
      if (i.state === FAILED) {
        // Back into the form; the refused visit stays queued until the corrected one is saved.
        const fix = text('button', 'Sửa lại');
        fix.type = 'button';
        fix.addEventListener('click', () => edit(i));
        li.append(' ', fix);
      }
      li.dataset.id = i.id;
      li.dataset.state = i.state;
      return li;
    }));
  }

  let sending = false;
  async function send(includeFailed) {
    if (sending) return;
    sending = true;
    try {
      for (const item of await all()) {
        if (item.state === SENT || (item.state === FAILED && !includeFailed)) continue;
        let response;
        try {
          response = await fetch('/api/v1/visits', {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'x-csrf-token': csrf },
            body: JSON.stringify(item.visit),
          });
        } catch (e) {
          break; // no network: everything stays queued
        }
        if (response.ok) {
          item.state = SENT;
          item.message = '';
        } else if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
          let message = `lỗi ${response.status}`;
          try { message = (await response.json()).message || message; } catch (e) { /* not JSON */ }
          item.state = FAILED;
          item.message = message;
        } else {
          break; // the server is busy or down: try again later
        }
        item.sent_at = Date.now();
        await put(item);
      }
    } finally {
      sending = false;
      await show();
    }
  }

  function renderMembers(code) {
    const h = households.find((x) => x.code === code);
    const list = $('ds-thanh-vien');
    form.elements.ho.value = h ? h.code : '';
    $('ten-ho').textContent = h ? `${h.code} — ${h.village_name}` : '(chưa chọn)';
    if (!h) { list.replaceChildren(text('p', `Không có hộ “${code}” trong các thôn của tổ.`)); return; }
    list.replaceChildren(...h.members.map((m) => {
      const div = document.createElement('div');
      div.className = 'member';
      const p = document.createElement('p');
      p.append(text('strong', m.name), ` (${m.birth_year})`);
      div.append(p);
      for (const [name, label] of [['co_mat', 'Có mặt'], ['muc2', 'Đã có VNeID mức 2'], ['ngan_hang', 'Đã có tài khoản ngân hàng số']]) {
        const l = document.createElement('label');
        l.className = 'choice';
        const input = document.createElement('input');
        input.type = 'checkbox';
        input.name = name;
        input.value = String(m.id);
        l.append(input, ` ${label}`);
        div.append(l);
      }
      return div;
    }));
  }

  let editing = null;
  function edit(item) {
    const v = item.visit;
    editing = item.id;
    $('ma-ho').value = v.household;
    renderMembers(v.household);
    form.elements.ngay.value = v.visited_on;
    form.elements.con_can.value = v.still_needed || '';
    form.elements.lan_sau.value = v.next_visit_on || '';
    for (const input of form.querySelectorAll('input[type=checkbox]')) {
      const p = v.present.find((x) => String(x.person) === input.value);
      input.checked = input.name === 'da_lam' ? v.done.includes(input.value)
        : Boolean(p && (input.name === 'co_mat' || (input.name === 'muc2' ? p.vneid_level2 : p.bank_account)));
    }
    form.scrollIntoView();
  }

  async function loadHouseholds() {
    try {
      const r = await fetch(`/api/v1/visits/households?team=${team}`, { credentials: 'same-origin' });
      if (r.ok) households = (await r.json()).households;
    } catch (e) { /* offline and never cached: the household must be typed and sent online */ }
    $('ds-ho').replaceChildren(...households.map((h) => {
      const o = document.createElement('option');
      o.value = h.code;
      o.label = `${h.code} — ${h.village_name}`;
      return o;
    }));
  }

  $('chon-ho').addEventListener('submit', (event) => {
    const other = $('chon-to');
    // No list kept, or another team chosen: the plain form does it (a page load).
    if (!households.length || (other && Number(other.value) !== team)) return;
    event.preventDefault();
    renderMembers($('ma-ho').value.trim());
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = form.elements;
    const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
    const level = checked('muc2');
    const bank = checked('ngan_hang');
    const people = [...new Set(checked('co_mat').concat(level, bank))];
    const visit = {
      id: uuid(),
      team,
      household: f.ho.value,
      visited_on: f.ngay.value,
      present: people.map((p) => ({ person: Number(p), vneid_level2: level.includes(p), bank_account: bank.includes(p) })),
      done: checked('da_lam'),
      still_needed: f.con_can.value,
      next_visit_on: f.lan_sau.value,
    };
    if (!visit.household) { $('hang-doi').textContent = 'Chọn hộ trước khi lưu.'; return; }
    await put({ id: visit.id, visit, state: WAITING, message: '', saved_at: Date.now() });
    if (editing) {
      const replaced = editing;
      editing = null;
      await store('readwrite', (s) => s.delete(replaced));
    }
    for (const input of form.querySelectorAll('input[type=checkbox]')) input.checked = false;
    f.con_can.value = '';
    f.lan_sau.value = '';
    await show();
    send(false);
  });

  $('gui-lai').addEventListener('click', () => send(true));
  // Logging out from this page forgets the kept page and household list (names of people); the
  // visits not yet sent stay in the queue, to be sent at the next login.
  const logout = document.querySelector('form[action="/dang-xuat"]');
  if (logout && window.caches) {
    logout.addEventListener('submit', (event) => {
      event.preventDefault();
      caches.delete('tham-nha-v1').finally(() => logout.submit());
    }, { once: true });
  }
  window.addEventListener('online', () => send(false));
  window.addEventListener('offline', show);
  // For the volunteer's own checks (and the browser test): what is queued.
  window.thamNha = { all, put, send, show };
  loadHouseholds().then(show).then(() => send(false)).then(() => { document.documentElement.dataset.thamNha = 'san-sang'; });
})();
