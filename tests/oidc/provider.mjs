#!/usr/bin/env node
// Local OpenID Connect test provider for hocvuso ("VNeID giả lập").
//
// Why this shape: the relying party must be tested against a real, certified
// OpenID Provider (panva's `oidc-provider`), not a fake that agrees with our own
// bugs. Faults the real provider never produces (expired / mis-addressed /
// mis-signed ID tokens) are injected by a small reverse proxy in front of it, so
// everything except the one injected defect stays genuine.
//
//   client ──> proxy (public PORT, issuer URL) ──> provider A (internal port)
//   provider B: second real instance, other issuer + keys, used only as the
//               "someone else" for the wrong_issuer / other_key defects.
//
// Usage: see README.md. Prints `READY {"issuer":"http://127.0.0.1:PORT"}` once.
import http from 'node:http';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import * as jose from 'jose';
import Provider from 'oidc-provider';

// oidc-provider prints its "default X function called" notices with
// console.info (= stdout). Our stdout carries exactly one machine-read line, so
// send everything else to stderr.
console.info = console.log = (...a) => console.error(...a);

const TAMPER_MODES = ['expired', 'wrong_audience', 'wrong_issuer', 'other_key', 'no_nonce'];
const usage = (msg) => { console.error(`${msg}\nsee tests/oidc/README.md`); process.exit(2); };
let args;
try {
  ({ values: args } = parseArgs({ options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string', default: 'hocvuso' },
    'client-secret': { type: 'string', default: 'secret' },
    'redirect-uri': { type: 'string', multiple: true },
    tamper: { type: 'string' },
    // Background jobs of a non-interactive shell get stdin = /dev/null (instant
    // EOF); this lets a human keep the provider alive in that case.
    'ignore-stdin': { type: 'boolean', default: false },
  } }));
} catch (err) { usage(err.message); }
if (args.tamper !== undefined && !TAMPER_MODES.includes(args.tamper)) {
  usage(`unknown --tamper mode "${args.tamper}"; expected one of: ${TAMPER_MODES.join(', ')}`);
}
if (!/^\d+$/.test(args.port)) usage(`--port must be a number, got "${args.port}"`);
const redirectUris = args['redirect-uri'] ?? ['http://127.0.0.1:8080/dang-nhap/vneid/callback'];

const listen = (server, port) => new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve(server.address().port));
});

// A fresh RS256 key per run; the private JWK stays in memory so the proxy can
// re-sign tokens "as A" (or "as B") after altering one claim.
async function makeKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  jwk.kid = await jose.calculateJwkThumbprint(jwk);
  return { ...jwk, alg: 'RS256', use: 'sig' };
}

// Accounts are whatever the form said; remembered by cccd so findAccount (called
// later, at the token endpoint) can return the name typed in.
const accounts = new Map();

function makeProvider(issuer, jwk, client) {
  const provider = new Provider(issuer, {
    clients: [{
      ...client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [jwk] },
    // Advertise only what the RP uses (no implicit/hybrid, no offline_access).
    responseTypes: ['code'],
    scopes: ['openid'], // `vneid` is added from the claims map below
    // v9 only *requires* PKCE for public clients; our RP is confidential, and we
    // want a missing code_verifier to be refused, as the real VNeID does.
    pkce: { required: () => true },
    // `acr` is listed under `openid` because oidc-provider otherwise puts it in
    // the ID token only when the RP sends acr_values; we want it always there.
    claims: { openid: ['sub', 'acr'], vneid: ['cccd', 'name', 'birthdate'] },
    // The RP reads cccd/name from the ID token itself, not from userinfo.
    conformIdTokenClaims: false,
    // Identity level (mức 1 / mức 2) travels in the standard acr claim.
    acrValues: ['1', '2'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // Fixed keys: restarting the provider need not invalidate cookies mid-test.
    cookies: { keys: ['hocvuso-oidc-test-cookie-key-1', 'hocvuso-oidc-test-cookie-key-2'] },
    async findAccount(ctx, id) {
      const acct = accounts.get(id) ?? {};
      return {
        accountId: id,
        async claims() {
          return {
            sub: id, cccd: id, name: acct.name || 'Người Dùng Thử',
            ...(acct.birthdate ? { birthdate: acct.birthdate } : {}),
          };
        },
      };
    },
  });
  // Requests reach A through our proxy; trust its X-Forwarded-* headers.
  provider.proxy = true;
  provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));
  return provider;
}

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function formPage(uid, details, error, prev = {}) {
  const level = prev.level ?? '2';
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Đăng nhập thử nghiệm</title></head><body>
<h1>Nhà cung cấp định danh thử nghiệm (VNeID giả lập)</h1>
<p>Ứng dụng <b>${esc(details.params.client_id)}</b> yêu cầu: ${esc(details.params.scope)}</p>
${error ? `<p role="alert" style="color:#b00">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}">
<p><label>Số định danh cá nhân (CCCD, 12 chữ số)
 <input name="cccd" inputmode="numeric" pattern="[0-9]{12}" required value="${esc(prev.cccd)}"></label></p>
<p><label>Họ và tên (không bắt buộc) <input name="name" value="${esc(prev.name)}"></label></p>
<p><label>Ngày sinh (không bắt buộc) <input name="birthdate" type="date" value="${esc(prev.birthdate)}"></label></p>
<p><label>Mức định danh <select name="level">
 <option value="1"${level === '1' ? ' selected' : ''}>Mức 1</option>
 <option value="2"${level === '2' ? ' selected' : ''}>Mức 2</option></select></label></p>
<p><button type="submit">Đăng nhập và đồng ý</button>
 <a href="/interaction/${esc(uid)}/abort">Hủy</a></p>
</form></body></html>`;
}

// Grant everything the client asked for (scopes + claims-parameter claims):
// this test provider's user always consents, in the same step as login.
async function saveGrant(provider, details, accountId) {
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  if (details.params.claims) {
    const c = JSON.parse(details.params.claims);
    grant.addOIDCClaims([...Object.keys(c.id_token ?? {}), ...Object.keys(c.userinfo ?? {})]);
  }
  return grant.save();
}

async function interactions(provider, req, res) {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  };
  const [, , uid, action] = new URL(req.url, 'http://x').pathname.split('/');
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return send(400, 'interaction uid mismatch');
    const finish = (result) => provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    if (action === 'abort') {
      return await finish({ error: 'access_denied', error_description: 'End-User aborted interaction' });
    }
    // Second prompt (consent after an existing login session): grant silently.
    if (details.prompt.name === 'consent') {
      return await finish({ consent: { grantId: await saveGrant(provider, details, details.session.accountId) } });
    }
    if (req.method === 'GET') return send(200, formPage(uid, details));
    if (req.method !== 'POST') return send(405, 'method not allowed');
    let body = '';
    for await (const chunk of req) body += chunk;
    const form = Object.fromEntries(new URLSearchParams(body));
    const cccd = (form.cccd ?? '').trim();
    const level = form.level ?? '2';
    if (!/^\d{12}$/.test(cccd)) return send(400, formPage(uid, details, 'Số CCCD phải gồm đúng 12 chữ số.', form));
    if (!['1', '2'].includes(level)) return send(400, formPage(uid, details, 'Mức định danh phải là 1 hoặc 2.', form));
    accounts.set(cccd, { name: form.name?.trim(), birthdate: form.birthdate || undefined });
    const grantId = await saveGrant(provider, details, cccd);
    return await finish({ login: { accountId: cccd, acr: level }, consent: { grantId } });
  } catch (err) {
    console.error('interaction error:', err);
    if (!res.headersSent) send(400, `Lỗi tương tác: ${esc(err.message)}`);
  }
}

// --- start-up --------------------------------------------------------------
// The public (proxy) port must be known before A exists, because A's issuer,
// and hence every URL in its discovery document, is built from it.
const proxy = http.createServer();
const publicPort = await listen(proxy, Number(args.port));
const issuer = `http://127.0.0.1:${publicPort}`;
const client = { client_id: args['client-id'], client_secret: args['client-secret'], redirect_uris: redirectUris };
const [jwkA, jwkB] = await Promise.all([makeKey(), makeKey()]);
const providerA = makeProvider(issuer, jwkA, client);
const callbackA = providerA.callback();
const serverA = http.createServer((req, res) => (req.url.startsWith('/interaction/')
  ? interactions(providerA, req, res) : callbackA(req, res)));
const portA = await listen(serverA, 0);

// B: a real provider listening on its own port, so its issuer URL is real too.
const serverB = http.createServer();
const issuerB = `http://127.0.0.1:${await listen(serverB, 0)}`;
serverB.on('request', makeProvider(issuerB, jwkB, {
  client_id: 'some-other-client', client_secret: 'other-secret', redirect_uris: ['http://127.0.0.1/cb'],
}).callback());

const keyA = await jose.importJWK(jwkA, 'RS256');
const keyB = await jose.importJWK(jwkB, 'RS256');
const tokenPath = new URL(providerA.urlFor('token')).pathname;

// Re-issue the genuine ID token with exactly one defect (see README).
async function tamper(idToken) {
  const header = jose.decodeProtectedHeader(idToken); // keeps alg + A's kid
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = keyA;
  switch (args.tamper) {
    case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; break;
    case 'wrong_audience': claims.aud = 'some-other-client'; break;
    case 'wrong_issuer': claims.iss = issuerB; break;
    case 'other_key': key = keyB; break;
    case 'no_nonce': delete claims.nonce; break;
  }
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(key);
}

proxy.on('request', (req, res) => {
  const intercept = args.tamper && req.method === 'POST' && req.url.split('?')[0] === tokenPath;
  const upstream = http.request({
    host: '127.0.0.1', port: portA, method: req.method, path: req.url,
    // Host is passed through unchanged (it already names the public port).
    headers: { ...req.headers, 'x-forwarded-proto': 'http', 'x-forwarded-for': req.socket.remoteAddress },
  }, async (up) => {
    if (!intercept) {
      res.writeHead(up.statusCode, up.rawHeaders); // rawHeaders keeps every Set-Cookie
      up.pipe(res);
      return;
    }
    const chunks = [];
    for await (const c of up) chunks.push(c);
    let body = Buffer.concat(chunks);
    try {
      const json = JSON.parse(body.toString('utf8'));
      if (up.statusCode === 200 && json.id_token) {
        json.id_token = await tamper(json.id_token);
        body = Buffer.from(JSON.stringify(json));
      }
    } catch (err) { console.error('tamper: leaving response unchanged:', err.message); }
    const headers = { ...up.headers, 'content-length': body.length };
    delete headers['transfer-encoding'];
    res.writeHead(up.statusCode, headers);
    res.end(body);
  });
  upstream.on('error', (err) => { res.writeHead(502); res.end(`upstream error: ${err.message}`); });
  req.pipe(upstream);
});

const shutdown = () => process.exit(0);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (!args['ignore-stdin']) {
  // Exit when our parent goes away (its end of our stdin closes), so a crashed
  // test run never leaves an orphaned provider holding a port.
  process.stdin.on('end', shutdown).on('error', shutdown).resume();
}
console.error(`provider A internal port ${portA}; provider B issuer ${issuerB}; tamper=${args.tamper ?? 'none'}`);
process.stdout.write(`READY ${JSON.stringify({ issuer })}\n`);
