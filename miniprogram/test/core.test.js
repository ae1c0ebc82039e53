// The shipped WebAssembly core, loaded as the phone loads it: through WXWebAssembly from the
// .wasm.br in miniprogram/, with no WebAssembly, TextEncoder, TextDecoder or fetch globals.
'use strict';

const assert = require('node:assert/strict');
const test = require('node:test');

const { installRuntime, REMOVED } = require('../testing/runtime.js');

const { WXWebAssembly } = installRuntime();
const core = require('../lib/core.js');
const table = require('../../crates/core/tests/cases/token_cases.json');

test('the phone-like globals are in place', () => {
  for (const name of REMOVED) assert.equal(typeof globalThis[name], 'undefined', name);
  assert.equal(typeof globalThis.WXWebAssembly, 'object');
});

test('the module is the brotli file, instantiated once through WXWebAssembly', async () => {
  const [a, b] = await Promise.all([core.load(), core.load()]);
  assert.equal(a, b);
  assert.equal(WXWebAssembly.stats.instantiations, 1);
  assert.match(core.WASM_PATH, /\.wasm\.br$/);
});

test('the shared case table gives the same answers as the Rust core', async () => {
  const checks = await core.load();
  assert.ok(table.cases.length >= 30);
  for (const c of table.cases) {
    const { expect } = c;
    if (expect.error) {
      for (const call of [
        () => checks.readExpiry(c.token),
        () => checks.isExpired(c.token, c.now, c.leeway),
        () => checks.shouldRenew(c.token, c.now, c.threshold),
      ]) {
        assert.throws(call, (error) => error instanceof Error && error.code === expect.error, c.name);
      }
    } else {
      assert.equal(checks.readExpiry(c.token), expect.exp, `${c.name}: exp`);
      assert.equal(checks.isExpired(c.token, c.now, c.leeway), expect.expired, `${c.name}: expired`);
      assert.equal(checks.shouldRenew(c.token, c.now, c.threshold), expect.renew, `${c.name}: renew`);
    }
  }
});

test('times that are not finite numbers are a coded error', async () => {
  const checks = await core.load();
  const token = table.cases[0].token;
  assert.throws(() => checks.isExpired(token, NaN, 0), { code: 'invalid_time' });
  assert.throws(() => checks.shouldRenew(token, 0, Infinity), { code: 'invalid_time' });
  assert.throws(() => checks.isExpired(token, undefined, 0), { code: 'invalid_time' });
  // Fractional seconds (Date.now() / 1000) are floored, as the Rust side documents.
  const exp = checks.readExpiry(token);
  assert.equal(checks.isExpired(token, exp - 0.5, 0), false);
});

test('garbage never traps: every bad input is an Error with a code and the module lives on', async () => {
  const checks = await core.load();
  const codes = new Set(['token_segments', 'token_base64', 'token_json', 'token_missing_exp',
    'token_invalid_exp', 'token_invalid_claim', 'token_duplicate_claim']);
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const alphabet = 'eyJ.-_=+/{}[]":,0123456789abcxyzABC \\u微😀\u0000';
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const length = Math.floor(random() * 80);
    for (let j = 0; j < length; j++) s += alphabet[Math.floor(random() * alphabet.length)];
    if (i % 3 === 0) s = `a.${Buffer.from(s).toString('base64url')}.b`;
    try {
      checks.readExpiry(s);
    } catch (error) {
      assert.ok(error instanceof Error, 'thrown value is an Error');
      assert.ok(codes.has(error.code), `unexpected code ${error.code} for ${JSON.stringify(s)}`);
    }
  }
  const long = `a.${Buffer.from(`{"x":${'['.repeat(5000)}`).toString('base64url')}.b`;
  assert.throws(() => checks.readExpiry(long), { code: 'token_json' });
  assert.equal(checks.readExpiry(table.cases[0].token), table.cases[0].expect.exp);
});
