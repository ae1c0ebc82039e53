#!/usr/bin/env node
// What the wasm core costs on a phone-like runtime: the size of the shipped .wasm.br, the time to
// instantiate it through (fake) WXWebAssembly, and the time per expiry check, next to the same
// check written in plain JavaScript.
//
//   node miniprogram/bench/expiry.js [iterations]
//
// Node's V8 is faster than a phone's JavaScriptCore or V8-lite; compare the two columns with each
// other, not with a device.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const { installRuntime, MINIPROGRAM_ROOT } = require('../testing/runtime.js');

const ITERATIONS = Number(process.argv[2]) || 100000;
const THRESHOLD = 300;

/** The same decision in plain JS: base64url-decode the payload, JSON.parse, compare. */
function plainShouldRenew(token, now, threshold) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('token_segments');
  const json = JSON.parse(utf8(base64url(parts[1])));
  if (!Number.isInteger(json.exp)) throw new Error('token_invalid_exp');
  return json.exp - Math.floor(now) <= threshold;
}

const SEXTETS = (() => {
  const table = new Int16Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

function base64url(text) {
  const out = [];
  let bits = 0;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? SEXTETS[code] : -1;
    if (value < 0) throw new Error('token_base64');
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push((bits >> count) & 0xff);
    }
  }
  return out;
}

function utf8(bytes) {
  // JWT payloads from wxlogin are ASCII; a real client would need the full decoder here too.
  return String.fromCharCode.apply(null, bytes);
}

function sampleToken() {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return [
    b64({ typ: 'JWT', alg: 'HS256' }),
    b64({ sub: '6f1c2a4e-58b4-4000-92b0-39285303b94a', iat: now, exp: now + 7200, iss: 'wxlogin' }),
    'G6jlgukKYz75T_xOoHgQu2fD6Bvfsxulg6aWNotn4JQ',
  ].join('.');
}

/** Nanoseconds per call: the median of five rounds, after a warm-up, to ride out a busy machine. */
function timePerCall(fn) {
  for (let i = 0; i < Math.min(ITERATIONS, 20000); i++) fn();
  const rounds = [];
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - started) / ITERATIONS);
  }
  return rounds.sort((a, b) => a - b)[2];
}

async function main() {
  const { WXWebAssembly } = installRuntime();
  const core = require('../lib/core.js');

  const wasmPath = path.join(MINIPROGRAM_ROOT, core.WASM_PATH);
  const size = fs.statSync(wasmPath).size;

  const started = process.hrtime.bigint();
  const checks = await core.load();
  const loadMs = Number(process.hrtime.bigint() - started) / 1e6;

  const token = sampleToken();
  const now = Date.now() / 1000;
  if (checks.shouldRenew(token, now, THRESHOLD) !== plainShouldRenew(token, now, THRESHOLD)) {
    throw new Error('the wasm and plain JS checks disagree');
  }
  const wasmNs = timePerCall(() => checks.shouldRenew(token, now, THRESHOLD));
  const plainNs = timePerCall(() => plainShouldRenew(token, now, THRESHOLD));
  const readNs = timePerCall(() => checks.readExpiry(token));

  const rows = [
    ['.wasm.br size', `${size} bytes (${(size / 1024).toFixed(1)} KB)`],
    ['instantiate (read + brotli + compile)', `${WXWebAssembly.stats.lastInstantiateMs.toFixed(2)} ms`],
    ['first load() incl. glue', `${loadMs.toFixed(2)} ms`],
    ['shouldRenew via wasm', `${(wasmNs / 1000).toFixed(2)} µs per check`],
    ['readExpiry via wasm', `${(readNs / 1000).toFixed(2)} µs per check`],
    ['same check in plain JS', `${(plainNs / 1000).toFixed(2)} µs per check`],
    ['wasm / plain JS', `${(wasmNs / plainNs).toFixed(2)}×`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`wxlogin core benchmark (median of 5 × ${ITERATIONS} checks, Node ${process.version}, token ${token.length} chars)`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
