#!/usr/bin/env node
// Self-test of provider.mjs: drives the same HTTP steps a Rust test will
// (authorization code + PKCE, form login, token exchange) with plain fetch,
// a hand-made cookie jar and manual redirects, then checks each --tamper mode
// yields an ID token with exactly its intended defect. Exit code != 0 on failure.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import crypto from 'node:crypto';
import * as jose from 'jose';

const PROVIDER = new URL('./provider.mjs', import.meta.url).pathname;
const CLIENT_ID = 'hocvuso';
const CLIENT_SECRET = 'secret';
const REDIRECT_URI = 'http://127.0.0.1:8080/dang-nhap/vneid/callback';
const CCCD = '001099012345';
const NAME = 'Nguyễn Văn Thử';

let passed = 0;
let failed = 0;
function check(name, cond, detail = '') {
  if (cond) { passed += 1; console.log(`ok   ${name}`); } else { failed += 1; console.log(`FAIL ${name} ${detail}`); }
}

// Spawn the provider and wait for its READY line; stdin stays piped so that
// ending it (or this process dying) stops the provider.
async function start(extra = []) {
  const child = spawn(process.execPath, [PROVIDER, '--port', '0', '--client-id', CLIENT_ID,
    '--client-secret', CLIENT_SECRET, '--redirect-uri', REDIRECT_URI, ...extra],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no READY within 15s; stderr:\n${stderr}`)), 15000);
    createInterface({ input: child.stdout }).once('line', (l) => { clearTimeout(timer); resolve(l); });
    child.once('exit', (code) => reject(new Error(`provider exited ${code}; stderr:\n${stderr}`)));
  });
  if (!line.startsWith('READY ')) throw new Error(`unexpected first line: ${line}`);
  const { issuer } = JSON.parse(line.slice(6));
  const stop = () => new Promise((resolve) => { child.once('exit', resolve); child.stdin.end(); });
  return { issuer, child, stop, stderr: () => stderr };
}

// Minimal RFC 6265 jar: host-only cookies, path-prefix match; enough to prove
// which cookies the flow needs and that their paths are honoured.
class Jar {
  cookies = new Map(); // `${name};${path}` -> {name, value, path}
  store(res, url) {
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const pathAttr = attrs.find((a) => a.toLowerCase().startsWith('path='));
      const path = pathAttr ? pathAttr.slice(5) : new URL(url).pathname.replace(/\/[^/]*$/, '') || '/';
      const expired = attrs.some((a) => /^expires=/i.test(a) && new Date(a.slice(8)) < new Date())
        || attrs.some((a) => /^max-age=(0|-)/i.test(a));
      if (expired || value === '') this.cookies.delete(`${name};${path}`);
      else this.cookies.set(`${name};${path}`, { name, value, path });
    }
  }
  header(url) {
    const p = new URL(url).pathname;
    return [...this.cookies.values()]
      .filter((c) => p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// GET `url`, following redirects by hand until we reach the RP's redirect_uri
// or a page that is not a redirect. Returns {final: URL|null, res, trail}.
async function follow(jar, url, init = {}) {
  const trail = [];
  let res = await request(jar, url, init);
  for (let hops = 0; hops < 10; hops += 1) {
    trail.push(`${res.status} ${url}`);
    const loc = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !loc) return { final: null, res, url, trail };
    url = new URL(loc, url).href;
    if (url.startsWith(REDIRECT_URI)) return { final: new URL(url), res, url, trail };
    res = await request(jar, url);
  }
  throw new Error(`too many redirects: ${trail.join(' -> ')}`);
}
async function request(jar, url, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(5000) });
  jar.store(res, url);
  return res;
}

// One complete login. Returns what a RP would have after the token call.
async function login(issuer, { level = '2', name = NAME, withPkce = true, jar = new Jar(), extra = {} } = {}) {
  const disco = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const state = b64url(crypto.randomBytes(16));
  const nonce = b64url(crypto.randomBytes(16));
  const verifier = b64url(crypto.randomBytes(32));
  const auth = new URL(disco.authorization_endpoint);
  auth.search = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid vneid', state, nonce,
    ...(withPkce ? { code_challenge: b64url(crypto.hash('sha256', verifier, 'buffer')), code_challenge_method: 'S256' } : {}),
    ...extra,
  });
  const step1 = await follow(jar, auth.href);
  if (step1.final) return { disco, jar, callback: step1.final, trail: step1.trail, state, nonce, verifier };
  const form = await step1.res.text();
  const cookiesAtForm = jar.header(step1.url);
  const step2 = await follow(jar, step1.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ cccd: CCCD, name, level }).toString(),
  });
  return { disco, jar, form, formUrl: step1.url, cookiesAtForm, callback: step2.final, trail: [...step1.trail, ...step2.trail], state, nonce, verifier };
}

async function redeem(disco, code, verifier) {
  const res = await fetch(disco.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
  });
  return { status: res.status, json: await res.json() };
}

async function expectError(p) {
  try { await p; return null; } catch (e) { return e; }
}

// --- transparent mode -------------------------------------------------------
const tampered = {};
{
  const prov = await start();
  const { issuer } = prov;
  try {
    check('READY issuer is http://127.0.0.1:PORT', /^http:\/\/127\.0\.0\.1:\d+$/.test(issuer), issuer);
    const flow = await login(issuer);
    const d = flow.disco;
    check('discovery on public port', [d.issuer, d.authorization_endpoint, d.token_endpoint, d.jwks_uri]
      .every((u) => u.startsWith(issuer)) && d.issuer === issuer, JSON.stringify(d));
    check('form has Vietnamese title and fields', flow.form.includes('Nhà cung cấp định danh thử nghiệm (VNeID giả lập)')
      && ['name="cccd"', 'name="name"', 'name="level"'].every((f) => flow.form.includes(f)));
    console.log(`     cookies sent to ${new URL(flow.formUrl).pathname}: ${flow.cookiesAtForm.replace(/=[^;]*/g, '=…')}`);
    console.log(`     trail: ${flow.trail.join(' -> ')}`);
    const cb = flow.callback;
    check('ends at redirect_uri with code and state', cb && cb.searchParams.get('code') && cb.searchParams.get('state') === flow.state, cb?.href);
    check('callback carries iss (RFC 9207)', cb?.searchParams.get('iss') === issuer, cb?.href);
    const tok = await redeem(d, cb.searchParams.get('code'), flow.verifier);
    check('token endpoint 200 with id_token', tok.status === 200 && tok.json.id_token, JSON.stringify(tok.json));
    const jwks = jose.createRemoteJWKSet(new URL(d.jwks_uri));
    const { payload, protectedHeader } = await jose.jwtVerify(tok.json.id_token, jwks, { issuer, audience: CLIENT_ID });
    check('id_token verifies (sig, iss, aud, exp)', true);
    check('id_token nonce matches', payload.nonce === flow.nonce);
    check('id_token cccd/sub/name/acr', payload.cccd === CCCD && payload.sub === CCCD && payload.name === NAME && payload.acr === '2', JSON.stringify(payload));
    check('id_token alg RS256 with kid', protectedHeader.alg === 'RS256' && !!protectedHeader.kid);
    const again = await redeem(d, cb.searchParams.get('code'), flow.verifier);
    check('code reuse refused (invalid_grant)', again.status === 400 && again.json.error === 'invalid_grant', JSON.stringify(again));

    // Same cookie jar again: the provider session (cookie _session) gives SSO,
    // prompt=consent is auto-granted, prompt=login shows the form again.
    const sso = await login(issuer, { jar: flow.jar });
    check('SSO: second request with same jar skips the form', sso.callback?.searchParams.get('code') && !sso.form, sso.trail?.join(' -> '));
    const ssoTok = await redeem(d, sso.callback.searchParams.get('code'), sso.verifier);
    check('SSO: id_token still has cccd + acr', jose.decodeJwt(ssoTok.json.id_token).cccd === CCCD && jose.decodeJwt(ssoTok.json.id_token).acr === '2');
    const pc = await login(issuer, { jar: flow.jar, extra: { prompt: 'consent' } });
    check('prompt=consent auto-granted via /interaction', pc.callback?.searchParams.get('code') && pc.trail.some((t) => t.includes('/interaction/')), pc.trail?.join(' -> '));
    const pl = await login(issuer, { jar: flow.jar, extra: { prompt: 'login' }, level: '1' });
    check('prompt=login shows the form again', !!pl.form && pl.callback?.searchParams.get('code'));
    const plTok = await redeem(d, pl.callback.searchParams.get('code'), pl.verifier);
    check('prompt=login re-login at level 1 -> acr "1"', jose.decodeJwt(plTok.json.id_token).acr === '1');
    console.log(`     cookies in jar after login: ${[...flow.jar.cookies.values()].map((c) => `${c.name} (path ${c.path})`).join(', ')}`);

    const lvl1 = await login(issuer, { level: '1', name: '' });
    const tok1 = await redeem(lvl1.disco, lvl1.callback.searchParams.get('code'), lvl1.verifier);
    const p1 = jose.decodeJwt(tok1.json.id_token);
    check('level 1, empty name -> acr "1", default name', p1.acr === '1' && p1.name === 'Người Dùng Thử', JSON.stringify(p1));

    const wrongVerifier = await login(issuer);
    const bad = await redeem(wrongVerifier.disco, wrongVerifier.callback.searchParams.get('code'), b64url(crypto.randomBytes(32)));
    check('wrong code_verifier refused (invalid_grant)', bad.status === 400 && bad.json.error === 'invalid_grant', JSON.stringify(bad));

    const noPkce = await login(issuer, { withPkce: false });
    check('request without PKCE refused', noPkce.callback?.searchParams.get('error') === 'invalid_request', noPkce.callback?.href);

    // Abort link and input validation, on a fresh interaction.
    const jar = new Jar();
    const auth = new URL(d.authorization_endpoint);
    auth.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid vneid', state: 's1', nonce: 'n1', code_challenge: b64url(crypto.hash('sha256', 'x'.repeat(43), 'buffer')), code_challenge_method: 'S256' });
    const s1 = await follow(jar, auth.href);
    const badForm = await request(jar, s1.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'cccd=123&level=2' });
    check('non-12-digit cccd -> 400 form', badForm.status === 400 && (await badForm.text()).includes('12 chữ số'));
    const ab = await follow(jar, `${s1.url}/abort`);
    check('abort -> error=access_denied', ab.final?.searchParams.get('error') === 'access_denied' && ab.final?.searchParams.get('state') === 's1', ab.final?.href);

    tampered.jwks = jwks;
  } catch (err) {
    check('transparent mode ran without exception', false, `${err.stack}\n${prov.stderr()}`);
  } finally {
    await prov.stop();
  }
}

// --- tamper modes -----------------------------------------------------------
// For each mode: verification with the normal RP checks must fail for exactly
// the intended reason, and relaxing only that check must make it pass.
const modes = {
  async expired(t, ctx) {
    const e = await expectError(jose.jwtVerify(t, ctx.jwks, ctx.opts));
    check('expired: rejected as expired', e?.code === 'ERR_JWT_EXPIRED', e?.code);
    const p = jose.decodeJwt(t);
    const now = Date.now() / 1000;
    check('expired: iat≈now-7200, exp≈now-3600', Math.abs(p.iat - (now - 7200)) < 30 && Math.abs(p.exp - (now - 3600)) < 30);
    await jose.jwtVerify(t, ctx.jwks, { ...ctx.opts, currentDate: new Date((p.iat + 1) * 1000) });
    check('expired: otherwise valid', jose.decodeJwt(t).nonce === ctx.nonce);
  },
  async wrong_audience(t, ctx) {
    const e = await expectError(jose.jwtVerify(t, ctx.jwks, ctx.opts));
    check('wrong_audience: rejected on aud', e?.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e.claim === 'aud', e?.code);
    const { payload } = await jose.jwtVerify(t, ctx.jwks, { ...ctx.opts, audience: undefined });
    check('wrong_audience: aud=some-other-client, otherwise valid', payload.aud === 'some-other-client' && payload.nonce === ctx.nonce);
  },
  async wrong_issuer(t, ctx) {
    const e = await expectError(jose.jwtVerify(t, ctx.jwks, ctx.opts));
    check('wrong_issuer: rejected on iss', e?.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e.claim === 'iss', e?.code);
    const { payload } = await jose.jwtVerify(t, ctx.jwks, { ...ctx.opts, issuer: undefined });
    const other = await (await fetch(`${payload.iss}/.well-known/openid-configuration`)).json();
    check('wrong_issuer: iss is provider B (real, different issuer), signed by A', other.issuer === payload.iss && payload.iss !== ctx.issuer && payload.nonce === ctx.nonce);
    ctx.issuerB = payload.iss;
  },
  async other_key(t, ctx) {
    const e = await expectError(jose.jwtVerify(t, ctx.jwks, ctx.opts));
    check('other_key: signature check fails', e?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', e?.code);
    const header = jose.decodeProtectedHeader(t);
    const { keys } = await (await fetch(ctx.disco.jwks_uri)).json();
    const p = jose.decodeJwt(t);
    check('other_key: header names A\'s kid, claims intact', keys.some((k) => k.kid === header.kid)
      && p.iss === ctx.issuer && p.aud === CLIENT_ID && p.nonce === ctx.nonce && p.exp > Date.now() / 1000);
  },
  async no_nonce(t, ctx) {
    const { payload } = await jose.jwtVerify(t, ctx.jwks, ctx.opts);
    check('no_nonce: signature/iss/aud/exp valid but nonce absent', !('nonce' in payload) && payload.cccd === CCCD);
  },
};

for (const [mode, fn] of Object.entries(modes)) {
  const prov = await start(['--tamper', mode]);
  try {
    const flow = await login(prov.issuer);
    const code = flow.callback.searchParams.get('code');
    const tok = await redeem(flow.disco, code, flow.verifier);
    check(`${mode}: token response 200`, tok.status === 200 && tok.json.access_token && tok.json.id_token);
    const jwks = jose.createRemoteJWKSet(new URL(flow.disco.jwks_uri));
    await fn(tok.json.id_token, { jwks, disco: flow.disco, issuer: prov.issuer, nonce: flow.nonce, opts: { issuer: prov.issuer, audience: CLIENT_ID } });
    const again = await redeem(flow.disco, code, flow.verifier);
    check(`${mode}: code reuse still refused`, again.json.error === 'invalid_grant');
  } catch (err) {
    check(`${mode}: ran without exception`, false, `${err.stack}\n${prov.stderr()}`);
  } finally {
    await prov.stop();
  }
}

// Unknown mode must be refused at start-up.
const bad = spawn(process.execPath, [PROVIDER, '--tamper', 'bogus'], { stdio: ['pipe', 'pipe', 'pipe'] });
let badErr = '';
bad.stderr.on('data', (d) => { badErr += d; });
const badCode = await new Promise((r) => bad.once('exit', r));
check('unknown --tamper mode exits non-zero with message', badCode !== 0 && badErr.includes('bogus'), `${badCode} ${badErr}`);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
