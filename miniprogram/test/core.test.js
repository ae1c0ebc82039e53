// The shipped WebAssembly core, loaded as the phone loads it: through WXWebAssembly from the
// .wasm.br in miniprogram/, with no WebAssembly, TextEncoder, TextDecoder or fetch globals.
'use strict';

const assert = require('node:assert/strict');
const test = require('node:test');

const { installRuntime, REMOVED } = require('../testing/runtime.js');

// Node's own UTF-8 codecs, kept to check the shim against before the runtime removes them.
const Native = { TextEncoder: globalThis.TextEncoder, TextDecoder: globalThis.TextDecoder };
const { WXWebAssembly } = installRuntime();
const shim = require('../wasm/shim.js');
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
  assert.deepEqual(WXWebAssembly.stats.loaded.map((module) => module.path), ['/wasm/wxlogin_core_bg.wasm.br']);
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
    // None of it is a token with an exp, so every one is rejected.
    assert.throws(
      () => checks.readExpiry(s),
      (error) => error instanceof Error && codes.has(error.code),
      `no coded Error for ${JSON.stringify(s)}`,
    );
  }
  const long = `a.${Buffer.from(`{"x":${'['.repeat(5000)}`).toString('base64url')}.b`;
  assert.throws(() => checks.readExpiry(long), { code: 'token_json' });
  assert.equal(checks.readExpiry(table.cases[0].token), table.cases[0].expect.exp);
});

test('the UTF-8 shim encodes and decodes as the WHATWG codecs do', () => {
  const encoder = new shim.TextEncoder();
  const decoder = new shim.TextDecoder('utf-8', { ignoreBOM: true });
  const nativeEncoder = new Native.TextEncoder();
  const nativeDecoder = new Native.TextDecoder('utf-8', { ignoreBOM: true });
  const strings = ['', 'eyJhbGciOi.x_-', '微信登录', 'é ß ∑ 😀 𝄞', 'lone \ud800 high', 'lone \udc00 low', '\u0000\u007f\u0080\u07ff\u0800\uffff'];
  for (const text of strings) {
    assert.deepEqual(Array.from(encoder.encode(text)), Array.from(nativeEncoder.encode(text)), JSON.stringify(text));
    assert.equal(decoder.decode(nativeEncoder.encode(text)), nativeDecoder.decode(nativeEncoder.encode(text)));
  }
  const broken = [[0xff], [0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61, 0xf0, 0x9f, 0x98], [0x80, 0x61]];
  for (const bytes of broken) {
    assert.equal(decoder.decode(new Uint8Array(bytes)), nativeDecoder.decode(new Uint8Array(bytes)), bytes.join(','));
  }
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  let seed = 7;
  for (let round = 0; round < 5000; round++) {
    const bytes = new Uint8Array(round % 9);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      bytes[i] = interesting[seed % interesting.length];
    }
    assert.equal(decoder.decode(bytes), nativeDecoder.decode(bytes), Array.from(bytes).join(','));
  }
  assert.equal(decoder.decode(), '');
  const big = 'x'.repeat(10000) + '😀';
  assert.equal(decoder.decode(encoder.encode(big)), big);
});
