// An OpenID Connect provider for Gatehouse's integration tests and demo,
// built on the `oidc-provider` package (the certified implementation) with
// its own sign-in pages.
//
//   node server.mjs --port P [--host 127.0.0.1] [--issuer URL] [--config FILE.json]
//
// Prints one JSON line {"message":"listening","issuer":...,"port":...} on
// stdout when it accepts connections, then one JSON line per request; exits
// 0 on SIGTERM or SIGINT. The config file is described in README.md next to
// this file.

import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

// ---------------------------------------------------------------------------
// Arguments and configuration.

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    issuer: { type: 'string' },
    config: { type: 'string' },
  },
});

const config = args.config ? JSON.parse(readFileSync(args.config, 'utf8')) : {};
const host = args.host || config.host || '127.0.0.1';
const port = Number(args.port ?? config.port ?? 0);
const tls = config.tls && config.tls.cert ? config.tls : null;
const scheme = tls ? 'https' : 'http';

const users = new Map(Object.entries(config.users || {
  alice: {
    password: 'alice-password', email: 'alice@example.com', email_verified: true,
    name: 'Alice Example', groups: ['admins', 'users'],
  },
}));
const pkce = {
  advertise: true, required: false, methods: ['S256'], ...(config.pkce || {}),
};
const consentMode = config.consent || 'auto';
const refreshTokens = config.refresh_tokens || 'always';
const testControl = config.test_control === true;
const logRequests = config.log_requests !== false;
const stateDir = config.state_dir || null;

function log(fields) {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

// Claims that are not standard profile/email claims are released with the
// `openid` scope, so that whatever a user entry holds reaches the ID token.
const STANDARD = new Set(['password', 'sub']);
const EMAIL = ['email', 'email_verified'];
const PROFILE = ['name', 'given_name', 'family_name', 'preferred_username', 'nickname', 'picture',
  'locale', 'zoneinfo', 'updated_at', 'website', 'profile', 'middle_name', 'gender', 'birthdate'];
function extraClaimNames() {
  const names = new Set(['groups']);
  for (const entry of users.values()) {
    for (const k of Object.keys(entry)) {
      if (!STANDARD.has(k) && !EMAIL.includes(k) && !PROFILE.includes(k)) names.add(k);
    }
  }
  names.delete('groups');
  return [...names];
}

function accountClaims(login) {
  const entry = users.get(login);
  if (!entry) return undefined;
  const claims = { sub: entry.sub || login };
  for (const [k, v] of Object.entries(entry)) {
    if (k !== 'password' && k !== 'sub') claims[k] = v;
  }
  return claims;
}

// ---------------------------------------------------------------------------
// Storage: an in-memory adapter that can be listed (for the test-control
// endpoints) and, with state_dir, saved to a file so that a restarted
// provider keeps its sessions, grants and tokens.

const store = new Map(); // `${model}:${id}` -> { payload, expiresAt }
const stateFile = stateDir ? join(stateDir, 'idp-state.json') : null;

function loadState() {
  if (!stateFile || !existsSync(stateFile)) return;
  const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
  for (const [k, v] of Object.entries(saved)) store.set(k, v);
}

let saveTimer = null;
function saveState() {
  if (!stateFile) return;
  const now = Date.now();
  const out = {};
  for (const [k, v] of store) if (!v.expiresAt || v.expiresAt > now) out[k] = v;
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(out));
  renameSync(`${stateFile}.tmp`, stateFile);
}

class Adapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  static get(key) {
    const item = store.get(key);
    if (!item) return undefined;
    if (item.expiresAt && item.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return item.payload;
  }

  async upsert(id, payload, expiresIn) {
    store.set(this.key(id), {
      payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null,
    });
    saveState();
  }

  async find(id) {
    return Adapter.get(this.key(id));
  }

  async findByUserCode(userCode) {
    return this.findBy((p) => p.userCode === userCode);
  }

  async findByUid(uid) {
    return this.findBy((p) => p.uid === uid);
  }

  findBy(pred) {
    for (const k of store.keys()) {
      if (k.startsWith(`${this.model}:`)) {
        const p = Adapter.get(k);
        if (p && pred(p)) return p;
      }
    }
    return undefined;
  }

  async consume(id) {
    const p = Adapter.get(this.key(id));
    if (p) p.consumed = Math.floor(Date.now() / 1000);
    saveState();
  }

  async destroy(id) {
    store.delete(this.key(id));
    saveState();
  }

  async revokeByGrantId(grantId) {
    for (const k of [...store.keys()]) {
      const p = Adapter.get(k);
      if (p && p.grantId === grantId) store.delete(k);
    }
    saveState();
  }
}

// ---------------------------------------------------------------------------
// Keys: an RSA (RS256) and an EC P-256 (ES256) signing key, generated at the
// first start (kept in state_dir when there is one).

async function signingKeys() {
  const keyFile = stateDir ? join(stateDir, 'idp-keys.json') : null;
  if (keyFile && existsSync(keyFile)) return JSON.parse(readFileSync(keyFile, 'utf8'));
  const keys = [];
  for (const [alg, opts] of [['RS256', { modulusLength: 2048 }], ['ES256', {}]]) {
    const { privateKey } = await generateKeyPair(alg, { ...opts, extractable: true });
    const jwk = await exportJWK(privateKey);
    keys.push({
      ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`,
    });
  }
  if (keyFile) writeFileSync(keyFile, JSON.stringify({ keys }));
  return { keys };
}

// ---------------------------------------------------------------------------
// Counters and fault injection for the test-control endpoints.

function freshStats() {
  return {
    requests: {}, // path -> count
    token: {}, // grant_type -> count of successful grants
    token_errors: [], // {grant_type, error}
    token_requests: [], // {grant_type, client_id, client_auth, code_verifier}
    authorizations: [], // query parameters of each authorization request
    logins: 0,
    failed_logins: 0,
  };
}
let stats = freshStats();
const faults = []; // {path, status, body, remaining}

// ---------------------------------------------------------------------------
// The provider.

function clientMetadata(c) {
  const { pkce: unused, ...meta } = c;
  return {
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...meta,
  };
}
const clients = (config.clients || []).map(clientMetadata);
const pkceClients = new Set((config.clients || []).filter((c) => c.pkce).map((c) => c.client_id));

const ttl = config.ttl || {};
const issuer = args.issuer || config.issuer || null;

function html(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:4em auto}label,input,button{display:block;margin:.4em 0}
.error{color:#b00020}</style></head>
<body><h1>${escape(title)}</h1>
${body}
</body></html>
`;
}

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function makeProvider(issuerUrl) {
  const provider = new Provider(issuerUrl, {
    adapter: Adapter,
    clients,
    jwks: await signingKeys(),
    cookies: { keys: [config.cookie_key || randomBytes(32).toString('hex')] },
    findAccount: async (ctx, id) => {
      if (!users.has(id)) return undefined;
      return { accountId: id, claims: async () => accountClaims(id) };
    },
    claims: {
      openid: ['sub', 'groups', ...extraClaimNames()],
      email: EMAIL,
      profile: PROFILE,
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: {
      methods: pkce.methods,
      required: (ctx, client) => pkce.required || pkceClients.has(client.clientId)
        || client.clientAuthMethod === 'none',
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = html('Sign out', `${form}
<p>Sign out of the test identity provider?</p>
<button type="submit" form="op.logoutForm" id="logout" name="logout" value="yes">Yes, sign me out</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = html('Signed out', '<p id="signed-out">You are signed out.</p>');
        },
      },
    },
    // A normal login (no prompt=consent) still gets a refresh token, as with
    // most real providers; "offline_access" keeps oidc-provider's rule.
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && (refreshTokens === 'always' || code.scopes.has('offline_access')),
    ...(config.rotate_refresh_tokens === undefined ? {}
      : { rotateRefreshToken: () => config.rotate_refresh_tokens }),
    ttl: {
      AccessToken: config.access_token_ttl ?? 3600,
      IdToken: config.id_token_ttl ?? 3600,
      RefreshToken: config.refresh_token_ttl ?? 14 * 24 * 3600,
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: config.session_ttl ?? 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      ...ttl,
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = html('Error', `<p id="error" class="error">${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
    },
  });
  provider.proxy = config.trust_proxy === true;

  provider.on('grant.success', (ctx) => {
    const gt = ctx.oidc.params.grant_type;
    stats.token[gt] = (stats.token[gt] || 0) + 1;
  });
  provider.on('grant.error', (ctx, err) => {
    stats.token_errors.push({ grant_type: ctx.oidc?.params?.grant_type, error: err.error || err.message });
  });
  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`server_error: ${err.stack}\n`);
  });

  // Advertising PKCE can be switched off while the provider still accepts it.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/.well-known/openid-configuration' && ctx.status === 200 && !pkce.advertise) {
      delete ctx.body.code_challenge_methods_supported;
    }
    if (ctx.path === '/token' && ctx.method === 'POST' && ctx.oidc?.params) {
      stats.token_requests.push({
        grant_type: ctx.oidc.params.grant_type,
        client_id: ctx.oidc.client?.clientId ?? null,
        client_auth: ctx.get('authorization') ? 'basic' : 'body',
        code_verifier: ctx.oidc.params.code_verifier ?? null,
        status: ctx.status,
      });
    }
  });
  return provider;
}

// ---------------------------------------------------------------------------
// Sign-in pages. Form field names and actions are fixed so that scripts and
// browsers can both complete them:
//   GET  /interaction/<uid>          the login form (id "login-form") or, with
//                                    "consent": "form", the consent form
//   POST /interaction/<uid>/login    fields login, password
//   POST /interaction/<uid>/confirm  grants every requested scope
//   POST /interaction/<uid>/abort    ends the request with access_denied

function loginPage(uid, details, error, login) {
  const client = details.params.client_id;
  return html('Sign in', `<p>Sign in to continue to <b id="client">${escape(client)}</b>.</p>
${error ? `<p id="error" class="error">${escape(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${uid}/login" autocomplete="off">
<label for="login">User name</label>
<input type="text" id="login" name="login" value="${escape(login || '')}" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password">
<button type="submit" id="submit">Sign in</button>
</form>
<form id="abort-form" method="post" action="/interaction/${uid}/abort">
<button type="submit" id="abort">Cancel</button>
</form>`);
}

function consentPage(uid, details) {
  const scopes = details.prompt.details.missingOIDCScope || [];
  return html('Allow access', `<p><b id="client">${escape(details.params.client_id)}</b> asks for: <span id="scopes">${escape(scopes.join(' '))}</span></p>
<form id="consent-form" method="post" action="/interaction/${uid}/confirm">
<button type="submit" id="allow">Allow</button>
</form>
<form id="abort-form" method="post" action="/interaction/${uid}/abort">
<button type="submit" id="abort">Deny</button>
</form>`);
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  const data = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': type, 'Content-Length': data.length, 'Cache-Control': 'no-store',
  });
  res.end(data);
}

function passwordMatches(expected, given) {
  const a = Buffer.from(String(expected));
  const b = Buffer.from(String(given));
  return a.length === b.length && timingSafeEqual(a, b);
}

async function grantConsent(provider, req, res, details) {
  const { prompt: { details: missing }, params, session: { accountId } } = details;
  let grant;
  if (details.grantId) {
    grant = await provider.Grant.find(details.grantId);
  } else {
    grant = new provider.Grant({ accountId, clientId: params.client_id });
  }
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

async function interaction(provider, req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    return send(res, 400, html('Error', `<p id="error" class="error">${escape(err.message)}</p>`));
  }
  if (details.uid !== uid) return send(res, 400, html('Error', '<p id="error" class="error">interaction mismatch</p>'));
  const prompt = details.prompt.name;

  if (req.method === 'GET' && !action) {
    if (prompt === 'login') return send(res, 200, loginPage(uid, details));
    if (prompt === 'consent') {
      if (consentMode === 'form') return send(res, 200, consentPage(uid, details));
      return grantConsent(provider, req, res, details);
    }
    return send(res, 400, html('Error', `<p id="error" class="error">unknown prompt ${escape(prompt)}</p>`));
  }
  if (req.method !== 'POST') return send(res, 405, 'method not allowed\n', 'text/plain');
  const form = new URLSearchParams(await readBody(req));

  if (action === 'login' && prompt === 'login') {
    const login = form.get('login') || '';
    const entry = users.get(login);
    if (!entry || !passwordMatches(entry.password, form.get('password') || '')) {
      stats.failed_logins += 1;
      return send(res, 401, loginPage(uid, details, 'Invalid user name or password.', login));
    }
    stats.logins += 1;
    return provider.interactionFinished(req, res, {
      login: { accountId: login, remember: config.remember_login !== false },
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'confirm' && prompt === 'consent') return grantConsent(provider, req, res, details);
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'the user cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
  }
  return send(res, 400, html('Error', `<p id="error" class="error">unexpected ${escape(action)} for prompt ${escape(prompt)}</p>`));
}

// ---------------------------------------------------------------------------
// Test control (only with "test_control": true):
//   GET  /__test/stats                 counters, token requests, authorization requests
//   POST /__test/reset                 clears the counters
//   POST /__test/users/<login>         JSON body merged into the user entry (new user if absent)
//   POST /__test/revoke?login=L        destroys L's grants and their tokens (all with no login)
//   POST /__test/sessions/clear        forgets every sign-in session (the next login shows the form)
//   POST /__test/fault                 JSON {path, status, body?, count?}: the next `count`
//                                      requests to `path` get this answer

function sendJson(res, status, value) {
  send(res, status, `${JSON.stringify(value)}\n`, 'application/json');
}

async function testControlRequest(req, res, url) {
  const path = url.pathname;
  if (req.method === 'GET' && path === '/__test/stats') return sendJson(res, 200, stats);
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
  const body = await readBody(req);
  if (path === '/__test/reset') {
    stats = freshStats();
    return sendJson(res, 200, {});
  }
  const m = path.match(/^\/__test\/users\/([^/]+)$/);
  if (m) {
    const login = decodeURIComponent(m[1]);
    users.set(login, { ...(users.get(login) || {}), ...JSON.parse(body || '{}') });
    return sendJson(res, 200, accountClaims(login));
  }
  if (path === '/__test/revoke') {
    const login = url.searchParams.get('login');
    let grants = 0;
    for (const k of [...store.keys()]) {
      if (!k.startsWith('Grant:')) continue;
      const g = Adapter.get(k);
      if (g && (!login || g.accountId === login)) {
        store.delete(k);
        await new Adapter('any').revokeByGrantId(k.slice('Grant:'.length));
        grants += 1;
      }
    }
    saveState();
    return sendJson(res, 200, { grants });
  }
  if (path === '/__test/sessions/clear') {
    let sessions = 0;
    for (const k of [...store.keys()]) {
      if (k.startsWith('Session:')) {
        store.delete(k);
        sessions += 1;
      }
    }
    saveState();
    return sendJson(res, 200, { sessions });
  }
  if (path === '/__test/fault') {
    const f = JSON.parse(body);
    faults.push({
      path: f.path, status: f.status || 503, body: f.body ?? { error: 'temporarily_unavailable' },
      remaining: f.count ?? 1,
    });
    return sendJson(res, 200, {});
  }
  return sendJson(res, 404, { error: 'not found' });
}

// ---------------------------------------------------------------------------
// The server.

async function main() {
  if (stateDir) mkdirSync(stateDir, { recursive: true });
  loadState();
  const server = tls
    ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) })
    : createHttpServer();
  // The issuer names the bound port, so the provider is made after listen();
  // requests that arrive before it is ready wait for it.
  let handler = null;
  const early = [];
  server.on('request', (req, res) => (handler ? handler(req, res) : early.push([req, res])));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const issuerUrl = issuer || `${scheme}://${hostPart}:${bound}`;
  const provider = await makeProvider(issuerUrl);
  const callback = provider.callback();

  handler = (req, res) => {
    const url = new URL(req.url, issuerUrl);
    const started = Date.now();
    res.on('finish', () => {
      stats.requests[url.pathname] = (stats.requests[url.pathname] || 0) + 1;
      if (logRequests) {
        log({
          message: 'request', method: req.method, path: url.pathname, status: res.statusCode,
          ms: Date.now() - started,
        });
      }
    });
    if (req.method === 'GET' && url.pathname === '/auth') {
      stats.authorizations.push(Object.fromEntries(url.searchParams));
    }
    const fault = faults.find((f) => f.path === url.pathname && f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      req.resume();
      return sendJson(res, fault.status, fault.body);
    }
    const m = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
    const handle = m ? interaction(provider, req, res, m[1], m[2])
      : testControl && url.pathname.startsWith('/__test/') ? testControlRequest(req, res, url)
        : null;
    if (!handle) return callback(req, res);
    return handle.catch((err) => {
      process.stderr.write(`${err.stack}\n`);
      if (!res.headersSent) send(res, 500, 'internal error\n', 'text/plain');
    });
  };
  for (const [req, res] of early.splice(0)) handler(req, res);

  const stop = () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log({ message: 'listening', issuer: issuerUrl, port: bound });
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
