// The client kit and the pages against a real wxlogin server, the fake WeChat and Postgres,
// with a fake `wx` whose request does real HTTP and the shipped wasm core, on a phone-like
// runtime (no WebAssembly, TextEncoder, TextDecoder or fetch globals).
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const test = require('node:test');

const { serverSuite, freshLabel } = require('../testing/suite.js');

const TTL = 3600;
const suite = serverSuite({ accessTokenTtl: TTL });
const { serverTest, usePagesWith } = suite;
const { WXWebAssembly } = suite.runtime;

const { query } = require('../testing/database.js');
const { createFakeWx, devOpenid } = require('../testing/fake-wx.js');
const pages = require('../testing/pages.js');
const { loadReferenceCore } = require('../testing/runtime.js');
const authModule = require('../lib/auth.js');
const core = require('../lib/core.js');
const { MESSAGES } = require('../lib/messages.js');
const policies = require('../policies.js');

const { createAuth, STORAGE_KEYS } = authModule;

function setup(options = {}) {
  const wx = createFakeWx({ codePrefix: options.codePrefix || freshLabel() });
  const auth = createAuth({ wx, apiBase: suite.servers.apiBase, now: options.now, renewThreshold: options.renewThreshold });
  return { wx, auth };
}

/** A clock `skew` seconds ahead of the real one, adjustable during a test. */
function skewedClock() {
  const clock = () => Date.now() / 1000 + clock.skew;
  clock.skew = 0;
  return clock;
}

/** A JWT-shaped token with `claims` (an object, or raw JSON text) that no server signed. */
function unsignedToken(claims) {
  const b64 = (text) => Buffer.from(text).toString('base64url');
  const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64(typeof claims === 'string' ? claims : JSON.stringify(claims));
  return `${header}.${payload}.${crypto.randomBytes(32).toString('base64url')}`;
}

/** A token the wasm core reads as fresh for a year but that no server signed. */
function forgedToken() {
  const now = Math.floor(Date.now() / 1000);
  return unsignedToken({ sub: '1', iat: now, exp: now + 31536000, iss: 'wxlogin' });
}

// ---- pages ---------------------------------------------------------------------------------

serverTest('tapping 授权登录 stores the tokens, records the consent and the home page shows the user', async () => {
  const wx = createFakeWx({ codePrefix: freshLabel() });
  usePagesWith(wx);

  const login = pages.loadPage('pages/login/index');
  login.onLoad();
  assert.equal(wx.navigation.length, 0, 'no session yet, so the login page stays');

  pages.toggleCheckbox(login);
  const tapped = pages.tap(login, '授权登录');
  assert.equal(pages.button(login, '授权登录').attr.disabled, true, 'disabled while logging in');
  assert.equal(pages.tap(login, '授权登录'), undefined, 'a second tap does nothing');
  await tapped;

  assert.equal(wx.codes.length, 1, 'one wx.login');
  assert.equal(wx.calls('/api/auth/login').length, 1);
  assert.equal(pages.button(login, '授权登录').attr.disabled, false);
  assert.equal(login.data.error, '');
  const [consent] = wx.calls('/api/me/consents');
  assert.deepEqual(consent.data, { version: policies.version });
  assert.equal(consent.statusCode, 201);
  const accessToken = wx.getStorageSync(STORAGE_KEYS.accessToken);
  assert.equal(accessToken.split('.').length, 3, 'an access token in storage');
  assert.deepEqual(wx.navigation, [{ method: 'reLaunch', url: '/pages/home/index' }]);

  const home = pages.loadPage('pages/home/index');
  await home.onLoad();
  assert.equal(home.data.error, '');
  const user = wx.getStorageSync(STORAGE_KEYS.user);
  assert.equal(user.openid, devOpenid(wx.codePrefix), 'the user WeChat named');
  assert.equal(home.data.user.id, user.id);
  assert.equal(home.data.user.consent_required, false, 'the server has the consent');
  const shown = pages.shownText(home);
  assert.ok(shown.includes(user.openid), `the openid is shown: ${shown}`);
  assert.ok(shown.includes(String(user.id)), 'the user id is shown');
  assert.equal(wx.calls('/api/me')[0].authorization, `Bearer ${accessToken}`);

  await pages.tap(home, '退出登录');
  assert.equal(wx.getStorageSync(STORAGE_KEYS.accessToken), '', 'logout clears the token');
  assert.deepEqual(wx.navigation.at(-1), { method: 'reLaunch', url: '/pages/login/index' });
});

for (const [name, prefix, code] of [
  ['a blocked user', 'err40226', 'user_blocked'],
  ['a rate-limited user', 'err45011', 'rate_limited'],
  ['a busy WeChat', 'err-1', 'upstream_busy'],
  ['a rejected code', 'err40029', 'invalid_code'],
]) {
  serverTest(`${name} sees the ${code} message`, async () => {
    const wx = createFakeWx({ codePrefix: prefix });
    usePagesWith(wx);
    const login = pages.loadPage('pages/login/index');
    pages.toggleCheckbox(login);
    await pages.tap(login, '授权登录');
    assert.equal(login.data.error, MESSAGES[code]);
    assert.ok(pages.shownText(login).includes(MESSAGES[code]));
    assert.equal(wx.getStorageSync(STORAGE_KEYS.accessToken), '', 'no token stored');
    assert.equal(wx.navigation.length, 0, 'stays on the login page');
  });
}

serverTest('a rate-limited login says when to try again', async () => {
  const { auth } = setup({ codePrefix: 'err45011' });
  await assert.rejects(auth.login(), (error) => {
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.status, 429);
    // WeChat's quotas are per minute, so the server asks for a minute.
    assert.equal(error.retryAfter, 60);
    return true;
  });
});

serverTest('a network failure shows the network message', async () => {
  const wx = createFakeWx({ codePrefix: freshLabel() });
  usePagesWith(wx);
  wx.intercept = () => ({ fail: 'connect ECONNREFUSED' });
  const login = pages.loadPage('pages/login/index');
  pages.toggleCheckbox(login);
  await pages.tap(login, '授权登录');
  assert.equal(login.data.error, MESSAGES.network_error);
});

// ---- consent -------------------------------------------------------------------------------

serverTest('the server asks for consent until the current policy version is recorded', async () => {
  const { wx, auth } = setup();
  await auth.login();
  const before = (await auth.request({ url: '/api/me' })).data;
  assert.equal(before.consent_required, true, 'a login without the box records nothing');
  assert.equal(auth.consentRequired(before), true);

  await auth.recordConsent();
  assert.equal(wx.calls('/api/me/consents')[0].statusCode, 201);
  const after = (await auth.request({ url: '/api/me' })).data;
  assert.equal(after.consent_required, false);
  assert.equal(auth.consentRequired(after), false);

  // A version the server does not publish is refused, and changes nothing.
  const stale = createAuth({ wx, apiBase: suite.servers.apiBase, privacyPolicyVersion: `${policies.version}.0-unknown` });
  await assert.rejects(stale.recordConsent(), { code: 'invalid_request', status: 400 });
  assert.equal((await auth.request({ url: '/api/me' })).data.consent_required, false);
});

serverTest('login({ consent: true }) records the consent once, not on every login', async () => {
  const label = freshLabel();
  const { wx, auth } = setup({ codePrefix: label });
  const user = await auth.login({ consent: true });
  assert.equal(wx.calls('/api/me/consents').length, 1);
  assert.equal(wx.calls('/api/me/consents')[0].statusCode, 201);
  assert.equal(user.consent_required, false, 'the stored user knows the consent is recorded');
  assert.equal(wx.getStorageSync(STORAGE_KEYS.user).consent_required, false);

  // The same user on another phone, box ticked again: the login answer says this version is
  // accepted already, so the audit log gets no second row for it.
  const other = setup({ codePrefix: label });
  const again = await other.auth.login({ consent: true });
  assert.equal(again.consent_required, false);
  assert.equal(other.wx.calls('/api/me/consents').length, 0);
  assert.equal((await other.auth.request({ url: '/api/me' })).data.consent_required, false);
});

// ---- the kit -------------------------------------------------------------------------------

serverTest('a login code the server finds used is replaced: one more wx.login, one retry', async () => {
  const label = freshLabel();
  // Another kit with the same codes spends the first one, as a login whose answer was lost would.
  await setup({ codePrefix: label }).auth.login();
  const { wx, auth } = setup({ codePrefix: label });
  const user = await auth.login();
  assert.deepEqual(wx.codes, [`${label}:1`, `${label}:2`]);
  assert.deepEqual(wx.calls('/api/auth/login').map((call) => call.statusCode), [401, 200]);
  assert.equal(user.openid, devOpenid(label));
  assert.ok(wx.getStorageSync(STORAGE_KEYS.accessToken), 'the tokens of the retry are stored');
});

serverTest('a login whose every code is refused tries twice, never more', async () => {
  const { wx, auth } = setup({ codePrefix: 'err40163' });
  await assert.rejects(auth.login(), (error) => error.code === 'invalid_code' && error.status === 401);
  assert.equal(wx.codes.length, 2, 'two wx.login calls');
  assert.equal(wx.calls('/api/auth/login').length, 2, 'two login requests');
});

serverTest('the server keeps its users in a database of the tests\' own, not DATABASE_URL\'s', async () => {
  const { wx, auth } = setup();
  const user = await auth.login();
  const { databaseUrl } = suite.servers;
  assert.notEqual(new URL(databaseUrl).pathname, new URL(process.env.DATABASE_URL).pathname);
  const rows = query(databaseUrl, 'SELECT openid FROM users WHERE id = $1', [user.id]);
  assert.deepEqual(rows, [{ openid: devOpenid(wx.codePrefix) }]);
});

serverTest('concurrent login() calls share one wx.login', async () => {
  const { wx, auth } = setup();
  const users = await Promise.all([auth.login(), auth.login(), auth.login()]);
  assert.equal(wx.codes.length, 1);
  assert.equal(wx.calls('/api/auth/login').length, 1);
  assert.equal(users[0].openid, devOpenid(wx.codePrefix));
  assert.deepEqual(users, [users[0], users[0], users[0]], 'all three get that one login\'s user');
});

serverTest('request() logs in first when there is no token, then sends the bearer token', async () => {
  const { wx, auth } = setup();
  const res = await auth.request({ url: '/api/me' });
  assert.equal(res.statusCode, 200);
  assert.equal(wx.codes.length, 1);
  assert.equal(res.data.id, wx.getStorageSync(STORAGE_KEYS.user).id);
});

serverTest('a token near expiry is renewed before the request, as the wasm core decides', async () => {
  const clock = skewedClock();
  const { wx, auth } = setup({ now: clock, renewThreshold: 300 });
  const user = await auth.login();
  const loginHadRefreshToken = Boolean(wx.getStorageSync(STORAGE_KEYS.refreshToken));

  // Fresh: no renewal.
  await auth.request({ url: '/api/me' });
  assert.equal(wx.log.length, 2, 'login + /api/me only');

  // Four minutes before expiry (the threshold is five).
  clock.skew = TTL - 240;
  const before = WXWebAssembly.stats.instantiations;
  const res = await auth.request({ url: '/api/me' });
  assert.equal(res.data.id, user.id);
  assert.equal(WXWebAssembly.stats.instantiations, before, 'the core is instantiated once');

  const paths = wx.log.slice(2).map((entry) => entry.path);
  assert.ok(loginHadRefreshToken, 'the server hands out refresh tokens');
  assert.deepEqual(paths, ['/api/auth/refresh', '/api/me'], 'refresh, then the request');
  assert.equal(wx.codes.length, 1, 'no second wx.login');
  // (A re-login within the same second may mint the very same token, so compare by call order.)
  const newToken = wx.getStorageSync(STORAGE_KEYS.accessToken);
  assert.equal(wx.log.at(-1).authorization, `Bearer ${newToken}`, 'the request used the new token');
});

for (const [direction, skew] of [['ahead', 86400], ['behind', -86400]]) {
  serverTest(`a phone clock a day ${direction} neither renews on every request nor misses renewal`, async () => {
    const clock = skewedClock();
    clock.skew = skew;
    const { wx, auth } = setup({ now: clock, renewThreshold: 300 });
    await auth.login();
    for (let i = 0; i < 3; i++) await auth.request({ url: '/api/me' });
    assert.equal(wx.log.length, 4, 'one login and three requests, no renewal');

    clock.skew = skew + TTL - 60; // an hour later, on the same wrong clock
    await auth.request({ url: '/api/me' });
    const renewals = wx.log.slice(4).map((entry) => entry.path);
    assert.deepEqual(renewals, ['/api/auth/refresh', '/api/me'], 'one renewal, then the request');
  });
}

serverTest('10 concurrent requests with a stale token renew it exactly once', async () => {
  const clock = skewedClock();
  const { wx, auth } = setup({ now: clock, renewThreshold: 300 });
  await auth.login();
  const loginHadRefreshToken = Boolean(wx.getStorageSync(STORAGE_KEYS.refreshToken));
  const loginsBefore = wx.codes.length;

  clock.skew = TTL - 60;
  const results = await Promise.all(Array.from({ length: 10 }, () => auth.request({ url: '/api/me' })));
  assert.ok(results.every((res) => res.statusCode === 200));

  assert.ok(loginHadRefreshToken, 'the server hands out refresh tokens');
  assert.equal(wx.calls('/api/auth/refresh').length, 1, 'exactly one refresh');
  assert.equal(wx.codes.length, loginsBefore, 'and no re-login');
  const token = wx.getStorageSync(STORAGE_KEYS.accessToken);
  const me = wx.calls('/api/me');
  assert.equal(me.length, 10);
  assert.ok(me.every((entry) => entry.authorization === `Bearer ${token}`), 'all ten used the new token');
});

serverTest('without a refresh token the kit renews by logging in again, once', async () => {
  const clock = skewedClock();
  const { wx, auth } = setup({ now: clock, renewThreshold: 300 });
  await auth.login();
  wx.removeStorageSync(STORAGE_KEYS.refreshToken); // as from a server without refresh
  clock.skew = TTL - 60;
  const results = await Promise.all(Array.from({ length: 5 }, () => auth.request({ url: '/api/me' })));
  assert.ok(results.every((res) => res.statusCode === 200));
  assert.equal(wx.calls('/api/auth/refresh').length, 0);
  assert.equal(wx.codes.length, 2, 'the first login and one re-login');
});

serverTest('a refresh token the server refuses leads to one re-login', async () => {
  const clock = skewedClock();
  const { wx, auth } = setup({ now: clock, renewThreshold: 300 });
  await auth.login();
  wx.setStorageSync(STORAGE_KEYS.refreshToken, 'revoked-or-unknown');
  clock.skew = TTL - 60;
  const res = await auth.request({ url: '/api/me' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(
    wx.log.slice(1).map((entry) => `${entry.path} ${entry.statusCode}`),
    ['/api/auth/refresh 401', '/api/auth/login 200', '/api/me 200'],
  );
  assert.notEqual(wx.getStorageSync(STORAGE_KEYS.refreshToken), 'revoked-or-unknown');
});

serverTest('a 401 invalid_token triggers one re-login and one retry', async () => {
  const { wx, auth } = setup();
  wx.setStorageSync(STORAGE_KEYS.accessToken, forgedToken());

  const res = await auth.request({ url: '/api/me' });
  assert.equal(res.statusCode, 200);
  assert.equal(wx.codes.length, 1, 'one re-login');
  const me = wx.calls('/api/me');
  assert.deepEqual(me.map((entry) => entry.statusCode), [401, 200], 'the rejected call, then one retry');
});

serverTest('concurrent 401s share one re-login', async () => {
  const { wx, auth } = setup();
  wx.setStorageSync(STORAGE_KEYS.accessToken, forgedToken());
  const results = await Promise.all(Array.from({ length: 5 }, () => auth.request({ url: '/api/me' })));
  assert.ok(results.every((res) => res.statusCode === 200));
  assert.equal(wx.codes.length, 1);
  const statuses = wx.calls('/api/me').map((entry) => entry.statusCode);
  assert.deepEqual(statuses.sort(), [200, 200, 200, 200, 200, 401, 401, 401, 401, 401], 'five rejected, five retried');
});

serverTest('a server that keeps answering 401 gets one retry, never a loop', async () => {
  const { wx, auth } = setup();
  await auth.login();
  wx.intercept = (entry) =>
    entry.path === '/api/me'
      ? { statusCode: 401, data: { error: { code: 'invalid_token', message: 'no' } } }
      : null;
  await assert.rejects(auth.request({ url: '/api/me' }), { code: 'invalid_token', status: 401 });
  assert.equal(wx.calls('/api/me').length, 2, 'the call and one retry');
  assert.equal(wx.codes.length, 2, 'the first login and one re-login');
});

serverTest('errors carry the server error code and HTTP status', async () => {
  const { wx, auth } = setup();
  await auth.login();
  await assert.rejects(auth.request({ url: '/api/nothing-here' }), { code: 'not_found', status: 404 });
  await assert.rejects(auth.request({ url: '/api/me', method: 'DELETE' }), { code: 'method_not_allowed', status: 405 });
  wx.intercept = () => ({ fail: 'timeout' });
  await assert.rejects(auth.request({ url: '/api/me' }), (error) => {
    assert.equal(error.code, 'network_error');
    assert.equal(error.status, undefined, 'no HTTP status: nothing came back');
    return true;
  });
});

serverTest('an unreadable stored token is replaced, not sent', async () => {
  const { wx, auth } = setup();
  wx.setStorageSync(STORAGE_KEYS.accessToken, 'not-a-jwt');
  const res = await auth.request({ url: '/api/me' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(wx.log.map((entry) => entry.path), ['/api/auth/login', '/api/me'], 'a login first');
  assert.equal(wx.log[1].authorization, `Bearer ${wx.getStorageSync(STORAGE_KEYS.accessToken)}`);
});

serverTest('logout() clears storage and resolves even when the network fails', async () => {
  const { wx, auth } = setup();
  await auth.login();
  wx.intercept = () => ({ fail: 'connect ECONNREFUSED' });
  await auth.logout();
  for (const key of Object.values(STORAGE_KEYS)) assert.equal(wx.getStorageSync(key), '', key);
  assert.equal(wx.calls('/api/auth/logout').length, 1, 'it did try the server');
  assert.equal(auth.hasSession(), false);
});

serverTest('logout() ends the session on the server', async () => {
  const { wx, auth } = setup();
  await auth.login();
  const token = wx.getStorageSync(STORAGE_KEYS.accessToken);
  const refreshToken = wx.getStorageSync(STORAGE_KEYS.refreshToken);
  await auth.logout();
  const [call] = wx.calls('/api/auth/logout');
  assert.equal(call.method, 'POST');
  assert.equal(call.authorization, `Bearer ${token}`);
  assert.equal(call.statusCode, 204);
  assert.equal(wx.getStorageSync(STORAGE_KEYS.accessToken), '');

  // The session's refresh token died with it.
  const res = await new Promise((resolve, reject) =>
    wx.request({
      url: `${suite.servers.apiBase}/api/auth/refresh`,
      method: 'POST',
      data: { refresh_token: refreshToken },
      success: resolve,
      fail: reject,
    }),
  );
  assert.equal(res.statusCode, 401);
});

serverTest('the wasm core reads the tokens the server issues as the server means them', async () => {
  const wx = createFakeWx({ codePrefix: freshLabel() });
  const checks = await core.load();
  const before = Math.floor(Date.now() / 1000);
  const res = await new Promise((resolve, reject) =>
    wx.request({
      url: `${suite.servers.apiBase}/api/auth/login`,
      method: 'POST',
      data: { code: `${freshLabel()}:1` },
      success: resolve,
      fail: reject,
    }),
  );
  const after = Math.ceil(Date.now() / 1000);
  assert.equal(res.statusCode, 200);
  const { access_token: token, expires_in: expiresIn } = res.data;
  assert.equal(expiresIn, TTL);
  const exp = checks.readExpiry(token);
  assert.ok(exp >= before + TTL && exp <= after + TTL, `exp ${exp} is issue time + expires_in`);
  assert.equal(checks.isExpired(token, after, 0), false);
  assert.equal(checks.isExpired(token, exp, 0), true);
  assert.equal(checks.shouldRenew(token, exp - 300, 300), true);
  assert.equal(checks.shouldRenew(token, exp - 301, 300), false);
});

test('the kit uses the wasm core that ships (not a stand-in)', async () => {
  const checks = await core.load();
  const exp = 1700000000;
  // One module was instantiated, the file the build ships...
  const { loaded } = WXWebAssembly.stats;
  assert.deepEqual(loaded.map((module) => module.path), ['/wasm/wxlogin_core_bg.wasm.br']);
  // ...and the kit's checks run in it: the glue copies each token into the instance's memory
  // before calling in, so a token checked by anything else would not be there.
  const marker = unsignedToken({ exp, jti: crypto.randomUUID() });
  assert.equal(checks.readExpiry(marker), exp);
  assert.ok(Buffer.from(loaded[0].instance.exports.memory.buffer).includes(marker), 'the token reached the module');

  // They answer as the shipped module does when run the ordinary way, at the boundaries and on
  // the inputs it refuses (a stand-in would differ somewhere here).
  const reference = await loadReferenceCore();
  const tokens = [
    unsignedToken({ exp }),
    unsignedToken({ exp, name: '微信用户 😀' }),
    unsignedToken({ exp: 0 }),
    unsignedToken({ exp: -1 }),
    unsignedToken({ exp: 2 ** 53 }),
    unsignedToken({ exp: 1e20 }),
    unsignedToken({ exp: exp + 0.5 }),
    unsignedToken({ exp: String(exp) }),
    unsignedToken({ sub: '1' }),
    unsignedToken(`{"exp":${exp},"exp":${exp}}`),
    unsignedToken('not json'),
    'only.two',
    '',
  ];
  const outcome = (call) => {
    try {
      return call();
    } catch (error) {
      return `throws ${error.code}`;
    }
  };
  for (const token of tokens) {
    assert.equal(outcome(() => checks.readExpiry(token)), outcome(() => reference.readExpiry(token)), token);
    for (const offset of [-301, -300, -299.5, -1, -0.5, 0, 0.5, 1, 300]) {
      for (const margin of [0, 300, -5]) {
        const now = exp + offset;
        const why = `${token} at exp${offset >= 0 ? '+' : ''}${offset}, margin ${margin}`;
        for (const check of ['isExpired', 'shouldRenew']) {
          const kit = outcome(() => checks[check](token, now, margin));
          assert.equal(kit, outcome(() => reference[check](token, now, margin)), `${check}: ${why}`);
        }
      }
    }
  }
  // The boundaries themselves, so that the comparison above is not between two wrong answers.
  assert.equal(checks.shouldRenew(tokens[0], exp - 300, 300), true);
  assert.equal(checks.shouldRenew(tokens[0], exp - 301, 300), false);
  assert.equal(checks.isExpired(tokens[0], exp, 0), true);
  assert.equal(checks.isExpired(tokens[0], exp - 1, 0), false);
  assert.equal(WXWebAssembly.stats.instantiations, 1, 'the reference did not go through WXWebAssembly');
});
