#!/usr/bin/env node
// The door-to-door visit form with no signal, in a real headless Chromium (issue 22).
//
//   node visits.mjs BASE_URL
//
// Environment: HOCVUSO_E2E_VOLUNTEER, HOCVUSO_E2E_VOLUNTEER_PASSWORD (role to_cong_nghe_so, member of a
// team covering the households HO-1 and HO-2), HOCVUSO_E2E_OFFICER, HOCVUSO_E2E_OFFICER_PASSWORD (role
// can_bo_xa of the commune), HOCVUSO_E2E_TEAM (the team's id), HOCVUSO_E2E_MENTOR, _PASSWORD (dai_su_so
// with mentees), HOCVUSO_E2E_DESK, _PASSWORD (ho_tro_mot_cua of the commune), HOCVUSO_E2E_CHROMIUM.
//
// 1. Online once, so that the service worker keeps the form and the household list.
// 2. Offline (Playwright's context.setOffline): two visits filled and saved; the page says
//    “2 lượt thăm chưa gửi”; the page reloaded while offline: the form and the queue survive.
// 3. Online again: both visits are sent, once; the same request replayed is a harmless 200; a changed
//    resend under a sent id is a 409, shown, and the visit stays queued, marked; “Sửa lại” brings it back
//    into the form, and saving it sends it as a new visit and only then takes the refused one off the queue.
// 4. axe-core (WCAG 2.0/2.1 A and AA) on the community pages at 320 px and at 200 % text.
// 5. The bytes the offline page costs: HTML + CSS + its script, uncompressed, ≤ 50 KB.
//
// Prints the ids of the two visits (“visit ids: a b”) for the Rust side to count in the database.

import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axe = require('axe-core');
const env = process.env;
const BASE = (process.argv[2] ?? env.HOCVUSO_E2E_BASE_URL ?? '').replace(/\/$/, '');
const VOLUNTEER = env.HOCVUSO_E2E_VOLUNTEER;
const VOLUNTEER_PASSWORD = env.HOCVUSO_E2E_VOLUNTEER_PASSWORD;
const OFFICER = env.HOCVUSO_E2E_OFFICER;
const OFFICER_PASSWORD = env.HOCVUSO_E2E_OFFICER_PASSWORD;
const TEAM = env.HOCVUSO_E2E_TEAM;
const MENTOR = env.HOCVUSO_E2E_MENTOR;
const MENTOR_PASSWORD = env.HOCVUSO_E2E_MENTOR_PASSWORD;
// The mentor's account id, for the officers' view of the mentor's page (issue 22, corrections).
const MENTOR_ACCOUNT = env.HOCVUSO_E2E_MENTOR_ACCOUNT;
const DESK = env.HOCVUSO_E2E_DESK;
const DESK_PASSWORD = env.HOCVUSO_E2E_DESK_PASSWORD;
const CHROMIUM = env.HOCVUSO_E2E_CHROMIUM ?? '/usr/bin/chromium';
const PAGE_BUDGET = 50 * 1000;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const TIMEOUT = 10_000;
if (!BASE || !VOLUNTEER || !VOLUNTEER_PASSWORD || !OFFICER || !OFFICER_PASSWORD || !TEAM || !MENTOR || !MENTOR_PASSWORD || !DESK || !DESK_PASSWORD) {
  console.error('usage: node visits.mjs BASE_URL (with HOCVUSO_E2E_VOLUNTEER, _PASSWORD, HOCVUSO_E2E_OFFICER, _PASSWORD, HOCVUSO_E2E_TEAM)');
  process.exit(2);
}

const failures = [];
const fail = (what) => { failures.push(what); console.log(`  FAIL ${what}`); };
const step = (what) => console.log(`- ${what}`);

async function login(page, user, password) {
  await page.goto(`${BASE}/dang-nhap`);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForNavigation(), page.locator('main form[action="/dang-nhap"] button[type="submit"]').click()]);
  if (new URL(page.url()).pathname.startsWith('/dong-y')) {
    await page.locator('input[name="dong_y"][value="co"]').check();
    await Promise.all([page.waitForNavigation(), page.locator('main form[action="/dong-y"] button[type="submit"]').click()]);
  }
  if (new URL(page.url()).pathname.startsWith('/dang-nhap')) throw new Error(`login of ${user} failed`);
}

const status = (page) => page.locator('#hang-doi').innerText();
async function waitStatus(page, text) {
  try {
    await page.waitForFunction((t) => (document.getElementById('hang-doi')?.textContent ?? '').includes(t), text, { timeout: TIMEOUT });
  } catch (e) {
    throw new Error(`expected “${text}” in the queue's status; it says “${await status(page).catch(() => '?')}”`);
  }
}
const queued = (page) => page.evaluate(async () => (await window.thamNha.all()).map((i) => ({ id: i.id, state: i.state, message: i.message, visit: i.visit })));

async function fillVisit(page, household, { level, bank, note }) {
  await page.locator('#ma-ho').fill(household);
  await page.locator('#chon-ho button[type="submit"]').click();
  await page.locator('#ds-thanh-vien input[name="co_mat"]').first().waitFor();
  if (new URL(page.url()).searchParams.get('ho')) throw new Error('choosing the household navigated: the script did not render the members');
  await page.locator('#ds-thanh-vien input[name="co_mat"]').first().check();
  if (level) await page.locator('#ds-thanh-vien input[name="muc2"]').first().check();
  if (bank) await page.locator('#ds-thanh-vien input[name="ngan_hang"]').first().check();
  await page.locator('input[name="da_lam"][value="hoc_bai"]').check();
  await page.locator('#con-can').fill(note);
  await page.locator('#mau-tham button[type="submit"]').click();
}

async function offlineVisits(browser) {
  const context = await browser.newContext({ locale: 'vi-VN', viewport: { width: 360, height: 740 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const posted = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/v1/visits')) posted.push({ body: r.postData(), headers: r.headers() });
  });
  await login(page, VOLUNTEER, VOLUNTEER_PASSWORD);

  step('online once: the service worker keeps the form and the household list');
  await page.goto(`${BASE}/tham-nha/`);
  await page.evaluate(() => navigator.serviceWorker.ready);
  // Once the worker controls the page, its fetches (the household list) go through it and are kept.
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null && document.documentElement.dataset.thamNha === 'san-sang');
  await waitStatus(page, '0 lượt thăm chưa gửi');

  step('offline: two visits saved on the phone');
  await context.setOffline(true);
  await fillVisit(page, 'HO-1', { level: true, bank: true, note: 'Cần học thêm về mật khẩu' });
  await waitStatus(page, '1 lượt thăm chưa gửi');
  await fillVisit(page, 'HO-2', { level: false, bank: true, note: '' });
  await waitStatus(page, '2 lượt thăm chưa gửi');
  if (posted.length !== 0 && (await queued(page)).some((i) => i.state !== 'cho')) fail('a visit left the queue while offline');

  step('reloaded while offline: the form and the queue survive');
  await page.reload();
  await page.waitForFunction(() => document.documentElement.dataset.thamNha === 'san-sang');
  if ((await page.locator('#mau-tham').count()) !== 1) fail('the form is not there after an offline reload');
  await waitStatus(page, '2 lượt thăm chưa gửi');
  const waiting = await queued(page);
  if (waiting.length !== 2 || waiting.some((i) => i.state !== 'cho')) fail(`the queue after the reload: ${JSON.stringify(waiting)}`);
  // The household list is there offline too.
  await page.locator('#ma-ho').fill('HO-1');
  await page.locator('#chon-ho button[type="submit"]').click();
  await page.locator('#ds-thanh-vien input[name="co_mat"]').first().waitFor();

  step('online again: both are sent, once');
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await waitStatus(page, '0 lượt thăm chưa gửi');
  await waitStatus(page, '2 lượt đã gửi');
  const sent = await queued(page);
  if (sent.filter((i) => i.state === 'da_gui').length !== 2) fail(`after sending: ${JSON.stringify(sent)}`);
  const ids = sent.map((i) => i.id);

  step('the same request replayed: a harmless 200');
  const first = posted[0];
  if (!first) throw new Error('no visit was posted');
  const replay = await page.request.post(`${BASE}/api/v1/visits`, {
    headers: { 'content-type': 'application/json', 'x-csrf-token': first.headers['x-csrf-token'] },
    data: first.body,
  });
  if (replay.status() !== 200) fail(`the replayed request answered ${replay.status()}: ${await replay.text()}`);

  step('a changed resend under a sent id: 409, shown, kept');
  const first_ho1 = sent.find((i) => i.visit.household === 'HO-1');
  // The phone's copy of a sent visit, changed (IndexedDB keeps one record per id: it replaces the sent one).
  const changed = { ...first_ho1, state: 'cho', message: '', visit: { ...first_ho1.visit, still_needed: 'Nội dung đã sửa' } };
  await page.evaluate(async (item) => { await window.thamNha.put(item); await window.thamNha.show(); }, changed);
  await page.locator('#gui-lai').click();
  await waitStatus(page, '1 lượt thăm bị từ chối');
  const after = await queued(page);
  const kept = after.find((i) => i.id === changed.id);
  if (!kept || kept.state !== 'loi' || !kept.message) fail(`the refused visit is not kept, marked: ${JSON.stringify(kept)}`);
  if (!(await page.locator('#hang-doi-ds').innerText()).includes('bị từ chối')) fail('the refused visit is not listed on the page');
  // Sending again (the retry button) keeps it still.
  await page.locator('#gui-lai').click();
  await waitStatus(page, '1 lượt thăm bị từ chối');
  if ((await queued(page)).length !== 2) fail('a visit was dropped after a 4xx');

  step('the volunteer fixes the refused visit: saved as a new visit, the refused one then leaves the queue');
  await page.locator('#hang-doi-ds li[data-state="loi"] button').click();
  if ((await page.locator('#con-can').inputValue()) !== 'Nội dung đã sửa') fail('“Sửa lại” did not bring the visit back into the form');
  if ((await page.locator('#ho').inputValue()) !== 'HO-1') fail('“Sửa lại” did not bring the household back');
  await page.locator('#mau-tham button[type="submit"]').click();
  await waitStatus(page, '0 lượt thăm chưa gửi');
  await waitStatus(page, '2 lượt đã gửi');
  const fixed = await queued(page);
  if (fixed.some((i) => i.state !== 'da_gui') || fixed.some((i) => i.id === changed.id)) fail(`after the fix: ${JSON.stringify(fixed)}`);

  const cookies = await context.cookies();
  await context.close();
  return { ids, cookies };
}

async function runAxe(page, label) {
  await page.evaluate(axe.source);
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  for (const v of result.violations) {
    fail(`${label}: axe ${v.id} (${v.help}) on ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }
  console.log(`  ${result.violations.length === 0 ? 'ok  ' : 'FAIL'} ${label}`);
}

async function accessibility(browser, cookies, officerCookies, mentorCookies, deskCookies, visit) {
  const pages = [
    ['staff home of a volunteer', '/quan-ly', cookies],
    ['mentor page and session form', '/dai-su-so', mentorCookies],
    ['one-stop desk with its forms', '/quan-ly/don-vi/04792/mot-cua', deskCookies],
    ['visit form', `/tham-nha/`, cookies],
    ['visit form with a household', `/tham-nha/?ho=HO-1`, cookies],
    ['teams of the commune', `/quan-ly/don-vi/04792/to-cong-nghe`, officerCookies],
    ['team', `/quan-ly/don-vi/04792/to-cong-nghe/${TEAM}`, officerCookies],
    ['ambassadors', `/quan-ly/don-vi/04792/dai-su-so`, officerCookies],
    ['one-stop desk', `/quan-ly/don-vi/04792/mot-cua`, officerCookies],
    ['correcting a visit', `/quan-ly/don-vi/04792/to-cong-nghe/${TEAM}/tham/${visit}`, officerCookies],
    ['a mentor for the officers (remove a mentee, delete a session)', `/quan-ly/dai-su-so/${MENTOR_ACCOUNT}`, officerCookies],
  ];
  for (const text200 of [false, true]) {
    const name = text200 ? '320px + text 200%' : '320px';
    console.log(`\n== axe, ${name} ==`);
    for (const [label, path, jar] of pages) {
      const context = await browser.newContext({ locale: 'vi-VN', viewport: { width: 320, height: 640 }, serviceWorkers: 'block' });
      context.setDefaultTimeout(TIMEOUT);
      await context.addCookies(jar);
      const page = await context.newPage();
      const response = await page.goto(BASE + path);
      if (!response || response.status() !== 200) fail(`${label}: GET ${path} answered ${response?.status()}`);
      if (text200) await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
      await runAxe(page, `${label} [${name}]`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      if (wide) fail(`${label} [${name}]: scrolls sideways`);
      await context.close();
    }
  }
}

async function weight(browser, cookies) {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  await context.addCookies(cookies);
  const page = await context.newPage();
  let bytes = 0;
  const parts = [];
  page.on('response', async (r) => {
    const body = await r.body().catch(() => Buffer.alloc(0));
    bytes += body.length;
    parts.push(`${new URL(r.url()).pathname} ${body.length}`);
  });
  await page.goto(`${BASE}/tham-nha/`);
  await page.waitForFunction(() => document.documentElement.dataset.thamNha === 'san-sang');
  await page.waitForTimeout(200);
  const own = parts.filter((p) => !p.startsWith('/api/'));
  const shell = own.reduce((n, p) => n + Number(p.split(' ')[1]), 0);
  console.log(`offline visit page: ${shell} bytes uncompressed (${own.join(', ')}); with the household list: ${bytes}`);
  if (shell > PAGE_BUDGET) fail(`the offline visit page costs ${shell} bytes, over ${PAGE_BUDGET}`);
  await context.close();
}

/** Logging out from the form forgets the kept page and household list (they name people). */
async function logoutForgets(browser) {
  step('logging out from the form forgets what the phone kept');
  const context = await browser.newContext({ locale: 'vi-VN' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  await login(page, VOLUNTEER, VOLUNTEER_PASSWORD);
  await page.goto(`${BASE}/tham-nha/`);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null && document.documentElement.dataset.thamNha === 'san-sang');
  await page.waitForFunction(() => caches.has('tham-nha-v1'));
  await Promise.all([page.waitForNavigation(), page.locator('header.site').getByRole('button', { name: 'Đăng xuất' }).click()]);
  if (await page.evaluate(() => caches.has('tham-nha-v1'))) fail('the kept household list survived the logout');
  await context.close();
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
try {
  const { ids, cookies } = await offlineVisits(browser);
  console.log(`visit ids: ${ids.join(' ')}`);
  const jar = async (user, password) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page, user, password);
    const kept = await context.cookies();
    await context.close();
    return kept;
  };
  const officer = await jar(OFFICER, OFFICER_PASSWORD);
  await accessibility(browser, cookies, officer, await jar(MENTOR, MENTOR_PASSWORD), await jar(DESK, DESK_PASSWORD), ids[0]);
  await weight(browser, cookies);
  await logoutForgets(browser);
} catch (e) {
  fail(e.stack ?? String(e));
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`\n${failures.length} failures`);
  process.exit(1);
}
console.log('all visit checks passed');
