// The home page's profile section (avatar, nickname, phone number) and the kit's uploadFile,
// against a real wxlogin server, the fake WeChat and Postgres, with a fake `wx` whose request
// and uploadFile do real HTTP, on a phone-like runtime.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const { serverSuite, freshLabel } = require('../testing/suite.js');

const TTL = 3600;
const suite = serverSuite({ accessTokenTtl: TTL });
const { serverTest, usePagesWith } = suite;

const { createFakeWx, devPhoneNumber } = require('../testing/fake-wx.js');
const pages = require('../testing/pages.js');
const { createAuth, STORAGE_KEYS } = require('../lib/auth.js');
const { MESSAGES, NICKNAME_MESSAGES } = require('../lib/messages.js');

// A 1×1 PNG (one opaque red pixel), byte by byte: signature, IHDR (1×1, 8-bit RGBA), IDAT (the
// zlib-deflated scanline 00 ff0000ff), IEND; each chunk ends with its CRC-32.
const PNG = Buffer.from(
  '89504e470d0a1a0a' +
    '0000000d49484452000000010000000108060000001f15c489' +
    '0000000d4944415478da63f8cfc0f01f00050001ff56c72f0d' +
    '0000000049454e44ae426082',
  'hex',
);

let tmpDir = null;
test.before(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxlogin-avatars-'));
});
test.after(() => {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

/** A file on disk, as WeChat's temporary file from chooseAvatar would be. */
function tempFile(name, bytes) {
  const file = path.join(tmpDir, `${freshLabel()}-${name}`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A made-up getPhoneNumber code the fake WeChat (dev mode) accepts once. */
function phoneCode() {
  return `phone-${freshLabel()}`;
}

/** The home page, loaded (and so logged in) for a fresh user, with the kit it uses. */
async function homePage() {
  const wx = createFakeWx({ codePrefix: freshLabel() });
  usePagesWith(wx);
  // As the login page does once the box is ticked: the home page then has no consent to ask for.
  await require('../lib/auth.js').login({ consent: true });
  const home = pages.loadPage('pages/home/index');
  await home.onLoad();
  assert.equal(home.data.error, '');
  assert.ok(home.data.user, 'the user is shown');
  assert.deepEqual(wx.navigation, [], 'no consent asked for again');
  // The page's kit instance: lib/auth.js as the page required it.
  const auth = require('../lib/auth.js');
  return { wx, home, auth };
}

async function me(auth) {
  return (await auth.request({ url: '/api/me' })).data;
}

/** GET `url` through the fake wx, as bytes. */
function download(wx, url) {
  return new Promise((resolve, reject) =>
    wx.request({ url, responseType: 'arraybuffer', success: resolve, fail: reject }),
  );
}

// ---- nickname ------------------------------------------------------------------------------

serverTest('a nickname typed into the page is saved and comes back from GET /api/me', async () => {
  const { wx, home, auth } = await homePage();
  assert.ok(!pages.input(home, 'nickname').attr.value, 'no nickname yet');

  const saving = pages.enterNickname(home, '  小明同学 ', 'confirm');
  // Confirming fires blur too: the same value is not sent twice.
  pages.enterNickname(home, '  小明同学 ', 'blur');
  await saving;
  assert.equal(home.data.nicknameError, '');
  assert.equal(pages.input(home, 'nickname').attr.value, '小明同学', 'trimmed, as the server stored it');

  const patches = wx.log.filter((entry) => entry.path === '/api/me' && entry.method === 'PATCH');
  assert.equal(patches.length, 1, 'one PATCH');
  assert.deepEqual(patches[0].data, { nickname: '小明同学' });
  assert.equal(patches[0].statusCode, 200);
  assert.equal((await me(auth)).nickname, '小明同学');

  // Leaving the input unchanged sends nothing.
  await pages.enterNickname(home, '小明同学');
  assert.equal(wx.log.filter((entry) => entry.method === 'PATCH').length, 1);
});

serverTest('a nickname the server refuses shows the nickname message and changes nothing', async () => {
  const { wx, home, auth } = await homePage();
  await pages.enterNickname(home, 'x'.repeat(33));
  assert.equal(wx.log.filter((entry) => entry.method === 'PATCH').at(-1).statusCode, 400);
  assert.equal(home.data.nicknameError, NICKNAME_MESSAGES.invalid_request);
  assert.ok(pages.shownText(home).includes(NICKNAME_MESSAGES.invalid_request));
  assert.equal((await me(auth)).nickname, null);

  // An empty input is not sent at all.
  await pages.enterNickname(home, '   ');
  assert.equal(wx.log.filter((entry) => entry.method === 'PATCH').length, 1);
});

serverTest('a nickname WeChat\'s content check refuses shows the content_rejected message', async () => {
  const { wx, home, auth } = await homePage();
  // The fake WeChat's msg_sec_check finds "risky-word" risky, as WeChat would a real insult.
  await pages.enterNickname(home, '小明risky-word');
  const [patch] = wx.log.filter((entry) => entry.method === 'PATCH');
  assert.equal(patch.statusCode, 422);
  assert.equal(home.data.nicknameError, NICKNAME_MESSAGES.content_rejected);
  assert.ok(pages.shownText(home).includes(NICKNAME_MESSAGES.content_rejected));
  assert.equal((await me(auth)).nickname, null, 'nothing saved');
});

// ---- avatar --------------------------------------------------------------------------------

serverTest('a chosen PNG is uploaded, shown, and served back as image/png', async () => {
  const { wx, home, auth } = await homePage();
  const file = tempFile('avatar.png', PNG);
  await pages.chooseAvatar(home, file);

  assert.equal(home.data.avatarError, '');
  const [upload] = wx.log.filter((entry) => entry.kind === 'upload');
  assert.equal(upload.path, '/api/me/avatar');
  assert.equal(upload.name, 'file');
  assert.equal(upload.statusCode, 200);
  assert.equal(upload.authorization, `Bearer ${wx.getStorageSync(STORAGE_KEYS.accessToken)}`);

  const user = await me(auth);
  assert.match(user.avatar_url, /^\/avatars\/[0-9a-f-]{36}$/);
  assert.equal(home.data.user.avatar_url, user.avatar_url);

  // The page shows it from the API server, not as a server-relative path.
  const [image] = pages.findAll(pages.render(home), (node) => node.tag === 'wx-image');
  assert.equal(image.attr.src, `${suite.servers.apiBase}${user.avatar_url}`);

  const res = await download(wx, image.attr.src);
  assert.equal(res.statusCode, 200);
  assert.equal(res.header['content-type'], 'image/png');
  assert.deepEqual(Buffer.from(res.data), PNG, 'the very bytes uploaded');
});

serverTest('a file that is not an image shows the unsupported_media_type message', async () => {
  const { wx, home, auth } = await homePage();
  // Named .png: the server goes by the bytes, not the name.
  await pages.chooseAvatar(home, tempFile('avatar.png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')));
  assert.equal(wx.log.at(-1).statusCode, 415);
  assert.equal(home.data.avatarError, MESSAGES.unsupported_media_type);
  assert.ok(pages.shownText(home).includes(MESSAGES.unsupported_media_type));
  assert.equal((await me(auth)).avatar_url, null);
  assert.equal(pages.findAll(pages.render(home), (node) => node.tag === 'wx-image').length, 0);
});

serverTest('an image over 1 MB shows the payload_too_large message', async () => {
  const { wx, home } = await homePage();
  const big = Buffer.alloc(1024 * 1024 + 1);
  PNG.copy(big);
  await pages.chooseAvatar(home, tempFile('big.png', big));
  assert.equal(wx.log.at(-1).statusCode, 413);
  assert.equal(home.data.avatarError, MESSAGES.payload_too_large);
});

// ---- phone number --------------------------------------------------------------------------

serverTest('the getPhoneNumber button binds the number, then goes away', async () => {
  const { wx, home, auth } = await homePage();
  assert.ok(pages.shownText(home).includes('未绑定'));
  assert.equal(pages.textOf(pages.openTypeButton(home, 'getPhoneNumber')).trim(), '绑定手机号');

  const code = phoneCode();
  await pages.getPhoneNumber(home, { code, errMsg: 'getPhoneNumber:ok' });
  assert.equal(home.data.phoneError, '');
  const expected = devPhoneNumber(code);
  const [bind] = wx.calls('/api/me/phone');
  assert.deepEqual(bind.data, { code }, 'no `change` for a first number');
  assert.equal(bind.statusCode, 200);
  assert.ok(pages.shownText(home).includes(`+86 ${expected.pure}`), pages.shownText(home));
  const user = await me(auth);
  assert.equal(user.phone, expected.pure);
  assert.equal(user.phone_country_code, '86');

  // WeChat bills every number it hands over: with one verified, there is nothing more to offer.
  assert.equal(pages.hasOpenTypeButton(home, 'getPhoneNumber'), false);
  const reloaded = pages.loadPage('pages/home/index');
  await reloaded.onLoad();
  assert.equal(pages.hasOpenTypeButton(reloaded, 'getPhoneNumber'), false, 'nor after a reload (GET /api/me)');
  assert.ok(pages.shownText(reloaded).includes(`+86 ${expected.pure}`));
});

serverTest('the phone button stays disabled from the tap until the server has answered', async () => {
  const { wx, home } = await homePage();
  const sheet = await pages.openPhoneSheet(home);
  assert.equal(pages.openTypeButton(home, 'getPhoneNumber').attr.disabled, true);
  const saving = sheet.answer({ code: phoneCode(), errMsg: 'getPhoneNumber:ok' });
  assert.equal(await pages.openPhoneSheet(home), undefined, 'a tap while the server works does nothing');
  await saving;
  assert.equal(wx.calls('/api/me/phone').length, 1);
  assert.equal(wx.calls('/api/me/phone')[0].statusCode, 200);
  assert.equal(pages.hasOpenTypeButton(home, 'getPhoneNumber'), false);
});

serverTest('a declined phone prompt sends nothing and shows no error', async () => {
  const { wx, home } = await homePage();
  const before = wx.log.length;
  await pages.getPhoneNumber(home, { errMsg: 'getPhoneNumber:fail user deny' });
  assert.equal(wx.log.length, before, 'no request at all');
  assert.equal(home.data.phoneError, '');
  assert.ok(pages.shownText(home).includes('未绑定'));

  // No code for another reason (no permission, an old base library): still nothing sent, but said.
  await pages.getPhoneNumber(home, { errMsg: 'getPhoneNumber:fail no permission' });
  assert.equal(wx.log.length, before);
  assert.equal(home.data.phoneError, MESSAGES.phone_unavailable);

  // The app's quota is used up: said, and not reported to the server either.
  await pages.getPhoneNumber(home, { errMsg: 'getPhoneNumber:fail', errno: 1400001 });
  assert.equal(wx.log.length, before);
  assert.equal(home.data.phoneError, MESSAGES.phone_quota_exhausted);
  assert.equal(pages.openTypeButton(home, 'getPhoneNumber').attr.disabled, false, 'usable again');
});

serverTest('a phone code WeChat refuses shows the invalid_phone_code message', async () => {
  const { wx, home, auth } = await homePage();
  await pages.getPhoneNumber(home, { code: `err40029:${freshLabel()}` });
  assert.equal(wx.calls('/api/me/phone')[0].statusCode, 400);
  assert.equal(home.data.phoneError, MESSAGES.invalid_phone_code);
  assert.ok(pages.shownText(home).includes(MESSAGES.invalid_phone_code));
  assert.equal((await me(auth)).phone, null);
});

// ---- the kit's uploadFile ------------------------------------------------------------------

function setup(options = {}) {
  const wx = createFakeWx({ codePrefix: freshLabel() });
  const auth = createAuth({ wx, apiBase: suite.servers.apiBase, now: options.now, renewThreshold: 300 });
  return { wx, auth };
}

serverTest('uploadFile() parses the JSON answer and surfaces error codes', async () => {
  const { auth } = setup();
  const res = await auth.uploadFile({ url: '/api/me/avatar', filePath: tempFile('a.png', PNG) });
  assert.equal(res.statusCode, 200);
  // Parsed, not the string wx.uploadFile gives: the user, as GET /api/me has it now.
  assert.deepEqual(res.data, await me(auth));
  assert.match(res.data.avatar_url, /^\/avatars\/[0-9a-f-]{36}$/);
  assert.equal(auth.url(res.data.avatar_url), `${suite.servers.apiBase}${res.data.avatar_url}`);

  await assert.rejects(auth.uploadFile({ url: '/api/me/avatar', filePath: tempFile('a.txt', 'hello') }), {
    code: 'unsupported_media_type',
    status: 415,
  });
  await assert.rejects(auth.uploadFile({ url: '/api/me/avatar', filePath: path.join(tmpDir, 'missing.png') }), {
    code: 'network_error',
  });
});

serverTest('uploadFile() renews a token near expiry first, sharing the renewal with request()', async () => {
  const clock = () => Date.now() / 1000 + clock.skew;
  clock.skew = 0;
  const { wx, auth } = setup({ now: clock });
  await auth.login();
  clock.skew = TTL - 60;
  const file = tempFile('a.png', PNG);
  const results = await Promise.all([
    auth.uploadFile({ url: '/api/me/avatar', filePath: file }),
    auth.request({ url: '/api/me' }),
    auth.uploadFile({ url: '/api/me/avatar', filePath: file }),
  ]);
  assert.ok(results.every((res) => res.statusCode === 200));
  assert.equal(wx.calls('/api/auth/refresh').length, 1, 'one refresh for all three');
  assert.equal(wx.codes.length, 1, 'no re-login');
  const token = wx.getStorageSync(STORAGE_KEYS.accessToken);
  assert.ok(wx.calls('/api/me/avatar').every((entry) => entry.authorization === `Bearer ${token}`));
});

serverTest('an upload answered 401 invalid_token re-logs in once and is retried once', async () => {
  const { wx, auth } = setup();
  await auth.login();
  // A token the wasm core reads as fresh but that the server refuses.
  wx.setStorageSync(STORAGE_KEYS.accessToken, `${wx.getStorageSync(STORAGE_KEYS.accessToken)}x`);
  const res = await auth.uploadFile({ url: '/api/me/avatar', filePath: tempFile('a.png', PNG) });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(wx.calls('/api/me/avatar').map((entry) => entry.statusCode), [401, 200]);
  assert.equal(wx.codes.length, 2, 'the first login and one re-login');
});

serverTest('an upload that keeps getting 401 is retried once, never looped', async () => {
  const { wx, auth } = setup();
  await auth.login();
  wx.intercept = (entry) =>
    entry.kind === 'upload' ? { statusCode: 401, data: { error: { code: 'invalid_token', message: 'no' } } } : null;
  await assert.rejects(auth.uploadFile({ url: '/api/me/avatar', filePath: tempFile('a.png', PNG) }), {
    code: 'invalid_token',
    status: 401,
  });
  assert.equal(wx.calls('/api/me/avatar').length, 2, 'the upload and one retry');
  assert.equal(wx.codes.length, 2, 'the first login and one re-login');
});
