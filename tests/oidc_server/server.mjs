// A real OpenID provider for bodhi_nb's tests: panva's oidc-provider with Keycloak's conventions
// (roles in resource_access[client_id].roles of JWT access tokens), the Bodhi resource routes
// (/bodhi/resources/...), custom login/consent/device pages as plain HTML forms (so a test can
// play the browser with an HTTP client and a wrong password is refused), and test-control
// routes under /__test__/. Everything lives in memory; nothing here is fit for production.
//
//   node server.mjs [config.json]     (or PORT env; port 0 by default)
//   prints `READY <issuer>` once listening; exits on SIGTERM/SIGINT.
//
// config.json: {"users": [{"id", "username", "password", "first_name", "last_name", "email"}],
//               "device_interval": 5 (seconds, added to the device authorization response),
//               "access_token_ttl": 300, "refresh_token_ttl": 86400}
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import process from 'node:process';

import { Provider } from 'oidc-provider';

const config = process.argv[2] ? JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) : {};
const ROLES = ['resource_user', 'resource_power_user', 'resource_manager', 'resource_admin'];
const RESOURCE_SCOPES = 'roles service_account';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

// ---- in-memory state --------------------------------------------------------------------
const users = new Map(); // user id -> {id, username, password, first_name, last_name, email}
for (const u of config.users ?? [
  { username: 'admin', password: 'admin-pass' },
  { username: 'alice', password: 'alice-pass' },
  { username: 'bob', password: 'bob-pass' },
]) {
  const id = u.id ?? crypto.randomUUID();
  users.set(id, {
    id, username: u.username, password: u.password,
    first_name: u.first_name ?? u.username, last_name: u.last_name ?? 'Test',
    email: u.email ?? `${u.username}@example.test`,
  });
}
const byUsername = (name) => [...users.values()].find((u) => u.username === name);
const roles = new Map(); // client id -> Map(user id -> role)
const rolesOf = (clientId) => {
  if (!roles.has(clientId)) roles.set(clientId, new Map());
  return roles.get(clientId);
};
const control = {
  failToken: 0, failStatus: 503, slowDown: 0, deviceInterval: config.device_interval ?? 5,
  // the next failAssign assign-role calls wait assignDelay seconds (a hang, for a client
  // timeout), then answer assignStatus without assigning anything
  failAssign: 0, assignStatus: 500, assignDelay: 0,
  exchangeCalls: 0, // token-exchange requests answered with a token
};
const assignCalls = new Map(); // user id -> assign-role calls that assigned a role

// The adapter: one Map for every model, so a provider rebuilt for a key rotation keeps
// clients, sessions, grants and tokens.
const store = new Map();
const grantIndex = new Map(); // grant id -> Set(key)
class MemoryAdapter {
  constructor(name) { this.name = name; }

  key(id) { return `${this.name}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt && entry.expiresAt < Date.now() - 600_000) { // kept a while: expiry is the model's
      store.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUserCode(userCode) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.name}:`) && payload.userCode === userCode) return payload;
    }
    return undefined;
  }

  async findByUid(uid) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.name}:`) && payload.uid === uid) return payload;
    }
    return undefined;
  }

  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

// ---- signing keys -----------------------------------------------------------------------
function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' };
}
let keys = [newKey()]; // the first one signs
const cookieKeys = [crypto.randomBytes(32).toString('hex')];

// ---- the provider -----------------------------------------------------------------------
const resourceFor = (clientId) => `urn:bodhi:resource:${clientId}`;
let issuer = '';

function makeProvider() {
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    jwks: { keys },
    cookies: { keys: cookieKeys },
    clients: [],
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'roles', 'service_account'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'given_name', 'family_name', 'name'],
    },
    pkce: { required: () => true },
    ttl: {
      AccessToken: config.access_token_ttl ?? 300,
      ClientCredentials: config.access_token_ttl ?? 300,
      RefreshToken: config.refresh_token_ttl ?? 86400,
      DeviceCode: 600,
      Interaction: 600,
      Session: 86400,
      Grant: 86400,
      AuthorizationCode: 60,
      IdToken: 300,
    },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    findAccount: async (ctx, sub) => {
      const u = users.get(sub);
      if (!u) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub, preferred_username: u.username, email: u.email, email_verified: true,
          given_name: u.first_name, family_name: u.last_name, name: `${u.first_name} ${u.last_name}`,
        }),
      };
    },
    extraTokenClaims: async (ctx, token) => {
      if (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials') return undefined;
      const extra = { azp: token.clientId };
      if (token.accountId) {
        const u = users.get(token.accountId);
        const role = rolesOf(token.clientId).get(token.accountId);
        extra.preferred_username = u?.username;
        extra.given_name = u?.first_name;
        extra.family_name = u?.last_name;
        extra.resource_access = role ? { [token.clientId]: { roles: [role] } } : {};
      }
      return extra;
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      deviceFlow: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client) => resourceFor(client.clientId),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource, client) => {
          if (resource !== resourceFor(client.clientId)) {
            throw new Error(`unknown resource ${resource}`);
          }
          return {
            scope: RESOURCE_SCOPES,
            audience: client.clientId,
            accessTokenTTL: config.access_token_ttl ?? 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });
  provider.proxy = false;
  provider.registerGrantType(EXCHANGE_GRANT, tokenExchange,
    ['subject_token', 'subject_token_type', 'audience', 'scope', 'requested_token_type']);
  // Test controls around the token endpoint, and the device flow's poll interval.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && ctx.method === 'POST' && control.failToken > 0) {
      control.failToken -= 1;
      ctx.status = control.failStatus;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'injected by the test' };
      return;
    }
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body) {
      ctx.body.interval = control.deviceInterval;
    }
    if (ctx.path === '/token' && ctx.status === 400 && ctx.body?.error === 'authorization_pending'
        && control.slowDown > 0) {
      control.slowDown -= 1;
      ctx.body = { error: 'slow_down', error_description: 'poll less often' };
    }
  });
  return provider;
}
// RFC 8693 token exchange: the (authenticated) client trades an access token this provider
// issued to another client for a JWT access token of its own, for the same user, carrying
// that user's roles on the exchanging client (Keycloak's internal-to-internal exchange).
async function tokenExchange(ctx) {
  const { params, client } = ctx.oidc;
  const refuse = (error, description) => {
    ctx.status = 400;
    ctx.body = { error, error_description: description };
  };
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
    return refuse('invalid_request', 'subject_token_type must be an access token');
  }
  if (params.audience && params.audience !== client.clientId) {
    return refuse('invalid_target', 'the audience must be the requesting client');
  }
  const claims = verifyBearer({ headers: { authorization: `Bearer ${params.subject_token ?? ''}` } });
  if (!claims || !claims.sub || claims.sub === claims.azp || !users.has(claims.sub)) {
    return refuse('invalid_grant', 'the subject token is invalid, expired or not a user token');
  }
  const ttl = config.access_token_ttl ?? 300;
  const token = new provider.AccessToken({
    accountId: claims.sub, client, gty: EXCHANGE_GRANT, scope: 'roles',
  });
  token.resourceServer = new provider.ResourceServer(resourceFor(client.clientId), {
    scope: RESOURCE_SCOPES, audience: client.clientId, accessTokenTTL: ttl,
    accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } },
  });
  const value = await token.save();
  control.exchangeCalls += 1;
  ctx.body = {
    access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer',
    expires_in: token.expiration, scope: 'roles',
  };
  return undefined;
}

let provider;
let handler;

// ---- small HTTP helpers -----------------------------------------------------------------
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    return raw ? JSON.parse(raw) : {};
  }
  return Object.fromEntries(new URLSearchParams(raw));
}
function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
function page(res, status, title, inner) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><head><title>${esc(title)}</title></head><body>`
    + `<h1>${esc(title)}</h1>${inner}</body></html>`);
}
const errorP = (error) => (error ? `<p class="error" role="alert">${esc(error)}</p>` : '');

// Verifies one of our own ES256 JWT access tokens (any key still in the JWKS).
function verifyBearer(req) {
  const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const parts = m[1].split('.');
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const key = keys.find((k) => k.kid === header.kid);
    if (!key || header.alg !== 'ES256') return null;
    const { d, ...pub } = key;
    const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: crypto.createPublicKey({ key: pub, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
      Buffer.from(parts[2], 'base64url'));
    if (!ok) return null;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (claims.iss !== issuer || claims.exp < Date.now() / 1000) return null;
    return claims;
  } catch {
    return null;
  }
}
const rank = (role) => ROLES.indexOf(role);
const tokenRole = (claims) => {
  const list = claims.resource_access?.[claims.azp]?.roles ?? [];
  return list.reduce((best, r) => (rank(r) > rank(best) ? r : best), null);
};
const userView = (clientId, id) => {
  const u = users.get(id);
  return {
    user_id: id, username: u.username, first_name: u.first_name, last_name: u.last_name,
    role: rolesOf(clientId).get(id) ?? null,
  };
};

// ---- login and consent pages ------------------------------------------------------------
function loginForm(res, uid, clientId, error, status = 200) {
  page(res, status, 'Sign in', `${errorP(error)}<p>to ${esc(clientId)}</p>`
    + `<form method="post" action="/interaction/${esc(uid)}/login">`
    + '<input name="username" autocomplete="username">'
    + '<input name="password" type="password" autocomplete="current-password">'
    + '<button type="submit">Sign in</button></form>');
}

async function interaction(req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, { error: 'interaction mismatch' });
  const { prompt, params } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') return loginForm(res, uid, params.client_id);
    return page(res, 200, 'Authorize', `<p>${esc(params.client_id)} asks for ${esc(params.scope)}</p>`
      + `<form method="post" action="/interaction/${esc(uid)}/confirm">`
      + '<button type="submit" name="decision" value="approve">Allow</button>'
      + '<button type="submit" name="decision" value="deny">Deny</button></form>');
  }
  const form = await readBody(req);
  if (action === 'login' && prompt.name === 'login') {
    const user = byUsername(form.username);
    if (!user || user.password !== form.password) {
      return loginForm(res, uid, params.client_id, 'Invalid username or password.');
    }
    return provider.interactionFinished(req, res, { login: { accountId: user.id } },
      { mergeWithLastSubmission: false });
  }
  if (action === 'confirm' && prompt.name === 'consent') {
    if (form.decision !== 'approve') {
      return provider.interactionFinished(req, res,
        { error: 'access_denied', error_description: 'the user denied the request' },
        { mergeWithLastSubmission: false });
    }
    const { details: missing } = prompt;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } },
      { mergeWithLastSubmission: true });
  }
  return send(res, 400, { error: `unexpected ${action} during ${prompt.name}` });
}

// ---- device verification page (replaces the provider's /device) ---------------------------
function deviceForm(res, userCode, error, status = 200) {
  page(res, status, 'Device login', `${errorP(error)}<form method="post" action="/device">`
    + `<input name="user_code" value="${esc(userCode)}">`
    + '<input name="username"><input name="password" type="password">'
    + '<button type="submit" name="decision" value="approve">Allow</button>'
    + '<button type="submit" name="decision" value="deny">Deny</button></form>');
}
const normalizeCode = (s) => String(s ?? '').toUpperCase().replace(/\W/g, '');

async function device(req, res, url) {
  if (req.method === 'GET') return deviceForm(res, url.searchParams.get('user_code') ?? '');
  const form = await readBody(req);
  const code = await provider.DeviceCode.findByUserCode(normalizeCode(form.user_code),
    { ignoreExpiration: true });
  if (!code || code.isExpired || code.accountId || code.error) {
    return deviceForm(res, form.user_code, 'Unknown, used or expired code.');
  }
  const user = byUsername(form.username);
  if (!user || user.password !== form.password) {
    return deviceForm(res, form.user_code, 'Invalid username or password.');
  }
  if (form.decision !== 'approve') {
    Object.assign(code, { error: 'access_denied', errorDescription: 'the user denied the request' });
    await code.save();
    return page(res, 200, 'Denied', '<p>The device was denied.</p>');
  }
  const resource = resourceFor(code.clientId);
  const requested = new Set(String(code.params.scope ?? 'openid').split(' '));
  const grant = new provider.Grant({ accountId: user.id, clientId: code.clientId });
  grant.addOIDCScope([...requested].filter((s) => ['openid', 'email', 'profile', 'offline_access'].includes(s)).join(' '));
  grant.addResourceScope(resource, RESOURCE_SCOPES);
  const grantId = await grant.save();
  Object.assign(code, {
    accountId: user.id, authTime: Math.floor(Date.now() / 1000), grantId,
    scope: [...requested].join(' '), resource,
  });
  await code.save();
  return page(res, 200, 'Approved', '<p>The device is signed in. You can close this page.</p>');
}

// ---- Bodhi resource routes --------------------------------------------------------------
async function bodhi(req, res, url) {
  const path = url.pathname;
  if (path === '/bodhi/resources' && req.method === 'POST') {
    const body = await readBody(req);
    if (!body.name) return send(res, 400, { error: 'invalid_request', error_description: 'name is required' });
    const redirectUris = body.redirect_uris ?? [];
    const loopback = redirectUris.length > 0 && redirectUris.every(
      (u) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(u));
    const clientId = `resource-${crypto.randomBytes(6).toString('hex')}`;
    const clientSecret = crypto.randomBytes(24).toString('base64url');
    await new MemoryAdapter('Client').upsert(clientId, {
      client_id: clientId,
      client_secret: clientSecret,
      client_name: body.name,
      application_type: loopback ? 'native' : 'web',
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT,
        EXCHANGE_GRANT],
      response_types: redirectUris.length ? ['code'] : [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    rolesOf(clientId);
    return send(res, 201, { client_id: clientId, client_secret: clientSecret });
  }
  const claims = verifyBearer(req);
  if (!claims) return send(res, 401, { error: 'invalid_token', error_description: 'a valid bearer token is required' });
  const clientId = claims.azp;
  const clientRoles = rolesOf(clientId);
  if (path === '/bodhi/resources/make-resource-admin' && req.method === 'POST') {
    if (claims.sub !== clientId) return send(res, 403, { error: 'forbidden', error_description: 'a service account token is required' });
    const { user_id: userId } = await readBody(req);
    if (!users.has(userId)) return send(res, 404, { error: 'not_found', error_description: 'no such user' });
    if ([...clientRoles.values()].includes('resource_admin')) {
      return send(res, 409, { error: 'conflict', error_description: 'the resource already has an admin' });
    }
    clientRoles.set(userId, 'resource_admin');
    return send(res, 201, {});
  }
  // Everything below acts for a user of the client: manager or above.
  const callerRole = tokenRole(claims);
  if (claims.sub === clientId || rank(callerRole) < rank('resource_manager')) {
    return send(res, 403, { error: 'forbidden', error_description: 'resource_manager or above is required' });
  }
  if (path === '/bodhi/resources/users' && req.method === 'GET') {
    const pageNo = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const size = Math.min(100, Math.max(1, Number(url.searchParams.get('page_size') ?? 30) || 30));
    const all = [...clientRoles.keys()].filter((id) => users.has(id)).map((id) => userView(clientId, id))
      .sort((a, b) => a.username.localeCompare(b.username));
    const totalPages = Math.ceil(all.length / size);
    return send(res, 200, {
      client_id: clientId, users: all.slice((pageNo - 1) * size, pageNo * size),
      page: pageNo, page_size: size, total_pages: totalPages, total_users: all.length,
      has_next: pageNo < totalPages, has_previous: pageNo > 1,
    });
  }
  if (path === '/bodhi/resources/user' && req.method === 'GET') {
    const id = url.searchParams.get('user_id');
    if (!users.has(id)) return send(res, 404, { error: 'not_found', error_description: 'no such user' });
    return send(res, 200, userView(clientId, id));
  }
  if (path === '/bodhi/resources/assign-role' && req.method === 'POST') {
    const { user_id: userId, role } = await readBody(req);
    if (control.failAssign > 0) {
      control.failAssign -= 1;
      if (control.assignDelay > 0) {
        await new Promise((resolve) => { setTimeout(resolve, control.assignDelay * 1000); });
      }
      if (res.destroyed) return undefined; // the client gave up waiting
      return send(res, control.assignStatus, { error: 'server_error', error_description: 'injected by the test' });
    }
    if (!users.has(userId)) return send(res, 404, { error: 'not_found', error_description: 'no such user' });
    if (rank(role) < 0) return send(res, 400, { error: 'invalid_request', error_description: 'unknown role' });
    if (rank(role) > rank(callerRole)) return send(res, 403, { error: 'forbidden', error_description: 'role above the caller' });
    clientRoles.set(userId, role);
    assignCalls.set(userId, (assignCalls.get(userId) ?? 0) + 1);
    return send(res, 200, {});
  }
  if (path === '/bodhi/resources/remove-user' && req.method === 'POST') {
    const { user_id: userId } = await readBody(req);
    if (!clientRoles.has(userId)) return send(res, 404, { error: 'not_found', error_description: 'not a user of this resource' });
    clientRoles.delete(userId);
    return send(res, 200, {});
  }
  return send(res, 404, { error: 'not_found' });
}

// ---- test controls ----------------------------------------------------------------------
async function testControl(req, res, url) {
  const body = req.method === 'POST' ? await readBody(req) : {};
  switch (url.pathname) {
    case '/__test__/rotate-key': {
      const key = newKey();
      keys = body.keep_old === false ? [key] : [key, ...keys];
      provider = makeProvider();
      handler = provider.callback();
      return send(res, 200, { kid: key.kid });
    }
    case '/__test__/fail-token':
      control.failToken = Number(body.count ?? 1);
      control.failStatus = Number(body.status ?? 503);
      return send(res, 200, {});
    case '/__test__/fail-assign':
      control.failAssign = Number(body.count ?? 1);
      control.assignStatus = Number(body.status ?? 500);
      control.assignDelay = Number(body.delay ?? 0);
      return send(res, 200, {});
    case '/__test__/exchange-calls':
      return send(res, 200, { count: control.exchangeCalls });
    case '/__test__/assign-calls':
      return send(res, 200, Object.fromEntries(assignCalls));
    case '/__test__/slow-down':
      control.slowDown = Number(body.count ?? 1);
      return send(res, 200, {});
    case '/__test__/device-interval':
      control.deviceInterval = Number(body.interval);
      return send(res, 200, {});
    case '/__test__/expire-device-code': {
      const wanted = normalizeCode(body.user_code);
      for (const [key, entry] of store) {
        if (key.startsWith('DeviceCode:') && entry.payload.userCode === wanted) {
          entry.payload.exp = Math.floor(Date.now() / 1000) - 1;
          return send(res, 200, {});
        }
      }
      return send(res, 404, { error: 'not_found' });
    }
    case '/__test__/users':
      return send(res, 200, [...users.values()].map(({ password, ...u }) => u));
    default:
      return send(res, 404, { error: 'not_found' });
  }
}

// ---- the server -------------------------------------------------------------------------
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res, url);
    if (url.pathname === '/device') return await device(req, res, url);
    if (url.pathname.startsWith('/bodhi/')) return await bodhi(req, res, url);
    if (url.pathname.startsWith('/__test__/')) return await testControl(req, res, url);
    return handler(req, res);
  } catch (err) {
    if (!res.headersSent) send(res, 500, { error: 'server_error', error_description: String(err?.message ?? err) });
    else res.end();
  }
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = makeProvider();
  handler = provider.callback();
  process.stdout.write(`READY ${issuer}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
