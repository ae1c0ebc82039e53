// What every server-backed test file sets up: the phone-like runtime, a real wxlogin server (on a
// fresh database of its own) and the fake WeChat started once for the file, a test that fails in
// CI when they cannot run (a skipped suite would look like a pass), fresh users, and the app-wide
// kit pointed at a fake `wx` for the page tests.
//
// Call `serverSuite()` at the top of a test file, before requiring anything from miniprogram/.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const test = require('node:test');

const { installRuntime } = require('./runtime.js');
const { startServers, unavailableReason } = require('./servers.js');

const AUTH_MODULE = require.resolve('../lib/auth.js');
const PRIVACY_MODULE = require.resolve('../lib/privacy.js');

/**
 * Returns `{ runtime, reason, serverTest, servers, usePagesWith }`; `servers` ({ apiBase,
 * wechatBase }) is set once the file's `before` hook has run.
 */
function serverSuite({ accessTokenTtl = 3600 } = {}) {
  const runtime = installRuntime();
  const reason = unavailableReason();
  if (reason && process.env.CI) {
    test('the server-backed tests can run', () => assert.fail(reason));
  }
  const suite = {
    runtime,
    reason,
    servers: null,
    serverTest: reason ? (name, fn) => test(name, { skip: reason }, fn) : test,

    /** Points the app-wide kit instance (the one pages use) at `wx` and the test server. */
    usePagesWith(wx) {
      globalThis.wx = wx;
      require('../config.js').apiBase = suite.servers.apiBase;
      // The shared instances bind to the wx they were created with: start fresh ones per test.
      delete require.cache[AUTH_MODULE];
      delete require.cache[PRIVACY_MODULE];
    },
  };
  test.before(async () => {
    if (!reason) suite.servers = await startServers({ accessTokenTtl });
  });
  test.after(async () => {
    if (suite.servers) await suite.servers.stop();
  });
  return suite;
}

/** A user of our own per test, so tests never share server-side state. */
function freshLabel() {
  return `mp${crypto.randomBytes(6).toString('hex')}`;
}

module.exports = { serverSuite, freshLabel };
