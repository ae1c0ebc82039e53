// Every error code the server can send (docs/error-codes.json) and the kit's own have a text in
// lib/messages.js, so a page never falls back to showing the user a raw code.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');

const { MESSAGES, messageFor } = require('../lib/messages.js');

const SERVER_CODES = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'error-codes.json'), 'utf8'),
).map((entry) => entry.code);
/**
 * The failures that never reach the server: the kit's (lib/auth.js, lib/privacy.js) and the
 * pages' own (WeChat refusing a phone number, the consent box left unticked).
 */
const KIT_CODES = [
  'network_error',
  'wx_login_failed',
  'privacy_denied',
  'phone_unavailable',
  'phone_quota_exhausted',
  'agreement_unchecked',
];
/**
 * Codes the compliance features send (the server lists them in docs/error-codes.json too): the
 * content check, the risk check at sign-up, a busy WeChat, the message push's signature.
 */
const COMPLIANCE_CODES = ['content_rejected', 'user_blocked', 'upstream_busy', 'invalid_signature'];

/** A message a user can read: a string with some Chinese in it. */
function isChineseText(text) {
  return typeof text === 'string' && /\p{Script=Han}/u.test(text);
}

test('docs/error-codes.json lists the server codes, each once', () => {
  // An unreadable or emptied list would make the next test pass without checking anything.
  assert.ok(SERVER_CODES.length > 0);
  for (const code of SERVER_CODES) assert.match(code, /^[a-z]+(_[a-z]+)*$/);
  assert.equal(new Set(SERVER_CODES).size, SERVER_CODES.length);
});

test('every code the kit can reject with has a Chinese message', () => {
  const codes = SERVER_CODES.concat(KIT_CODES, COMPLIANCE_CODES);
  // All the missing ones in one failure, by name.
  const missing = codes.filter((code) => !Object.hasOwn(MESSAGES, code) || !isChineseText(MESSAGES[code]));
  assert.deepEqual(missing, []);
  for (const code of codes) assert.equal(messageFor({ code }), MESSAGES[code], code);
});

test('every message is for a code someone sends: no stale entries', () => {
  const known = new Set(SERVER_CODES.concat(KIT_CODES, COMPLIANCE_CODES));
  assert.deepEqual(Object.keys(MESSAGES).filter((code) => !known.has(code)), []);
});
