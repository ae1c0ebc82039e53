// A stand-in for the wxlogin API inside the test process, answering the fake `wx`'s requests
// through `wx.intercept`, for page tests about what the phone does (the consent sheet, the
// consent box, the phone button) that need no Postgres. It answers as docs/integrate.md and
// docs/error-codes.json describe the server: the same paths, statuses and `{ error: { code,
// message } }` bodies, a user view with `consent_required`, tokens the wasm core can read. What
// the real server stores and checks is tested against the real server (test/kit.test.js,
// test/profile.test.js, and crates/server's own tests).
//
//   const api = createStandInApi({ policyVersion: '1' });
//   wx.intercept = api.intercept;
//   api.hold('/api/me/phone');    // the next request to that path waits until api.release(path)
'use strict';

const crypto = require('node:crypto');

const TTL = 3600;

function base64url(text) {
  return Buffer.from(text).toString('base64url');
}

/** A JWT-shaped token the kit's wasm core reads (`exp`); no server signed it. */
function token(userId) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ sub: String(userId), iat: now, exp: now + TTL, iss: 'wxlogin' }));
  return `${header}.${payload}.${crypto.randomBytes(32).toString('base64url')}`;
}

function failure(statusCode, code, message) {
  return { statusCode, data: { error: { code, message } } };
}

function createStandInApi({ policyVersion = '1' } = {}) {
  const api = {
    policyVersion,
    /** The one user, as the server keeps it. */
    user: {
      id: 1,
      openid: 'oStandInUser0000000000000000',
      unionid: null,
      nickname: null,
      avatar_url: null,
      phone: null,
      phone_country_code: null,
      created_at: new Date().toISOString(),
    },
    /** The versions the user accepted, in order, as POST /api/me/consents recorded them. */
    consents: [],
    /** Access tokens handed out. */
    tokens: new Set(),
    /** Requests made to wait, by path (see hold). */
    held: new Map(),
  };

  function view() {
    const accepted = api.consents.includes(api.policyVersion);
    return Object.assign({}, api.user, { consent_required: !accepted });
  }

  function answer(entry, opts) {
    if (entry.method === 'POST' && entry.path === '/api/auth/login') {
      const access = token(api.user.id);
      api.tokens.add(access);
      return {
        statusCode: 200,
        data: {
          access_token: access,
          token_type: 'Bearer',
          expires_in: TTL,
          refresh_token: crypto.randomUUID(),
          user: view(),
        },
      };
    }
    const bearer = (entry.authorization || '').replace(/^Bearer /, '');
    if (!api.tokens.has(bearer)) return failure(401, 'invalid_token', 'missing or invalid token');
    const route = `${entry.method} ${entry.path}`;
    const body = opts.data || {};
    if (route === 'GET /api/me') return { statusCode: 200, data: view() };
    if (route === 'POST /api/me/consents') {
      if (body.version !== api.policyVersion) return failure(400, 'invalid_request', 'unknown privacy policy version');
      api.consents.push(body.version);
      return { statusCode: 201, data: {} };
    }
    if (route === 'PATCH /api/me') {
      api.user.nickname = String(body.nickname).trim();
      return { statusCode: 200, data: view() };
    }
    if (route === 'POST /api/me/avatar') {
      api.user.avatar_url = `/avatars/${crypto.randomUUID()}`;
      return { statusCode: 200, data: view() };
    }
    if (route === 'POST /api/me/phone') {
      // A number of its own per code, as WeChat would reveal.
      const digits = crypto.createHash('sha256').update(String(body.code)).digest().readUInt32BE(0) % 100000000;
      api.user.phone = `138${String(digits).padStart(8, '0')}`;
      api.user.phone_country_code = '86';
      return { statusCode: 200, data: view() };
    }
    return failure(404, 'not_found', 'no such route');
  }

  /** For `wx.intercept`: every request is answered here, never by the network. */
  api.intercept = (entry, opts) => {
    const held = api.held.get(entry.path);
    if (held && !held.taken) {
      held.taken = true;
      return held.gate.then(() => answer(entry, opts));
    }
    return answer(entry, opts);
  };

  /** The next request to `path` waits for release(path): a server taking its time. */
  api.hold = (path) => {
    const held = { taken: false };
    held.gate = new Promise((resolve) => {
      held.open = resolve;
    });
    api.held.set(path, held);
  };

  api.release = (path) => {
    const held = api.held.get(path);
    if (!held) throw new Error(`nothing held on ${path}`);
    api.held.delete(path);
    held.open();
  };

  return api;
}

module.exports = { createStandInApi };
