// Scan-to-login end to end: wxlogin and the fake WeChat on a scratch database, the /login page in
// headless Chromium, and the mini program's pages/qr-login driven with the fake `wx` runtime as
// the phone. The browser shows a code, the phone scans its ticket and confirms, the browser shows
// the user; a second run denies, a third lets the code expire. Screenshots of each state go to
// target/web-tests/qr-login-*.png.
//
// Run with `node scripts/with-db.js node --test web-tests/qr-login.test.js`.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');
const zlib = require('node:zlib');

const { startStack, ROOT } = require('../scripts/live-stack.js');
const { launch, screenshot } = require('../scripts/browser.js');

const MINIPROGRAM = path.join(ROOT, 'miniprogram');
const { createFakeWx } = require(path.join(MINIPROGRAM, 'testing', 'fake-wx.js'));
const { fakeWXWebAssembly } = require(path.join(MINIPROGRAM, 'testing', 'runtime.js'));
const pages = require(path.join(MINIPROGRAM, 'testing', 'pages.js'));
const { MESSAGES } = require(path.join(MINIPROGRAM, 'lib', 'messages.js'));

const CI = !!process.env.CI && process.env.CI !== 'false';
const NICKNAME = '林小满';
const WAIT = { timeout: 15000 };
/** What each stack's server needs beyond startStack's defaults. */
const SERVER_ENV = { JWT_SECRET: crypto.randomBytes(48).toString('base64') };

// ---- the phone ---------------------------------------------------------------------------

/** A 96×96 PNG, a diagonal green gradient, as the avatar a user picked. */
function avatarPng() {
  const size = 96;
  const rows = [];
  for (let y = 0; y < size; y += 1) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x += 1) {
      const t = (x + y) / (2 * size);
      row.writeUInt8(Math.round(20 + 40 * t), 1 + x * 3);
      row.writeUInt8(Math.round(200 - 60 * t), 2 + x * 3);
      row.writeUInt8(Math.round(110 + 100 * t), 3 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * The mini program on a phone of its own, talking to `base`: the app-wide kit the pages use, and
 * pages/qr-login opened as WeChat opens it from a scanned code (the ticket URL-encoded in
 * `options.scene`).
 */
function phone(base) {
  globalThis.WXWebAssembly = globalThis.WXWebAssembly || fakeWXWebAssembly(WebAssembly);
  const wx = createFakeWx({ codePrefix: `qrweb${crypto.randomBytes(6).toString('hex')}` });
  globalThis.wx = wx;
  require(path.join(MINIPROGRAM, 'config.js')).apiBase = base;
  // Both hold the kit instance they were first loaded with: fresh ones for this phone.
  for (const lib of ['auth.js', 'qr-login.js']) delete require.cache[path.join(MINIPROGRAM, 'lib', lib)];
  const auth = require(path.join(MINIPROGRAM, 'lib', 'auth.js'));
  return {
    wx,
    auth,
    async scan(ticket) {
      const page = pages.loadPage('pages/qr-login/index');
      await page.onLoad({ scene: encodeURIComponent(ticket) });
      assert.equal(page.data.error, '', 'the page scanned the ticket');
      return page;
    },
    async sessions() {
      return (await auth.request({ url: '/api/auth/sessions' })).data.sessions;
    },
  };
}

/** A phone whose user has a nickname and an avatar. */
async function phoneWithProfile(base, tmpDir) {
  const device = phone(base);
  await device.auth.login();
  await device.auth.request({ url: '/api/me', method: 'PATCH', data: { nickname: NICKNAME } });
  const file = path.join(tmpDir, 'avatar.png');
  fs.writeFileSync(file, avatarPng());
  await device.auth.uploadFile({ url: '/api/me/avatar', filePath: file, name: 'file' });
  return device;
}

// ---- the browser -------------------------------------------------------------------------

/**
 * `/login` in a new tab. Records every request the page makes and every error it reports;
 * `withoutEventSource` takes EventSource away before the page's script runs, as in a browser
 * without it, so the page has to poll.
 */
async function openLoginPage(browser, base, { withoutEventSource = false } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width: 720, height: 640 });
  const requests = [];
  const errors = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // Chromium logs every 4xx answer as an error (its own /favicon.ico, a refused refresh
    // token); the page deals with those. Script errors and policy violations count.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded')) {
      errors.push(message.text());
    }
  });
  if (withoutEventSource) {
    await page.evaluateOnNewDocument(() => {
      delete window.EventSource;
    });
  }
  const response = await page.goto(`${base}/login`);
  assert.equal(response.headers()['content-type'], 'text/html; charset=utf-8');
  assert.match(response.headers()['content-security-policy'], /default-src 'none'/);
  return { page, requests, errors, ticket: await newTicketShown(page, '') };
}

/** Waits until the page shows a ticket other than `previous`, and returns it. */
async function newTicketShown(page, previous) {
  const handle = await page.waitForFunction(
    (old) => {
      const app = document.getElementById('app');
      const qr = document.getElementById('qr');
      const shown = app.dataset.state === 'pending' && qr.complete && qr.naturalWidth > 0;
      return shown && app.dataset.ticket && app.dataset.ticket !== old ? app.dataset.ticket : null;
    },
    WAIT,
    previous,
  );
  return handle.jsonValue();
}

async function waitForState(page, state) {
  await page.waitForSelector(`#app[data-state="${state}"]`, WAIT);
}

/** The text of the element with `id`, as shown. */
function textOf(page, id) {
  return page.$eval(`#${id}`, (element) => element.innerText.trim());
}

function isVisible(page, id) {
  return page.$eval(`#${id}`, (element) => element.offsetParent !== null);
}

/** The page spoke only to wxlogin, and reported no error (a CSP violation would be one). */
function assertStayedHome(base, { requests, errors }) {
  assert.deepEqual(errors, []);
  assert.ok(requests.length > 0);
  const elsewhere = requests.filter((url) => new URL(url).origin !== base);
  assert.deepEqual(elsewhere, [], 'every request went to wxlogin on 127.0.0.1');
}

function pollsOf(requests, ticket) {
  return requests.filter((url) => new URL(url).pathname === `/api/qr-login/${ticket}`);
}

function streamsOf(requests, ticket) {
  return requests.filter((url) => new URL(url).pathname === `/api/qr-login/${ticket}/events`);
}

// ---- the runs ----------------------------------------------------------------------------

let browser = null;
let stack = null;
let tmpDir = null;
let skipReason = null;

test.before(async () => {
  if (!process.env.DATABASE_URL) {
    skipReason = 'DATABASE_URL is not set (run through scripts/with-db.js, as `just test` does)';
    if (CI) throw new Error(`under CI the browser tests must run: ${skipReason}`);
    console.error(`web-tests/qr-login: SKIPPED, ${skipReason}`);
    return;
  }
  const launched = await launch();
  if (launched.skip) {
    skipReason = launched.skip;
    return;
  }
  browser = launched.browser;
  stack = await startStack({ dbPrefix: 'wxlogin_qrweb', serverEnv: SERVER_ENV });
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxlogin-qrweb-'));
});

test.after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

test('a confirmed scan signs the browser in as the phone\'s user, until it logs out', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const { base } = stack;
  const device = await phoneWithProfile(base, tmpDir);
  const tab = await openLoginPage(browser, base);
  const { page, ticket } = tab;
  assert.equal(await textOf(page, 'code-view').then((text) => text.includes('扫码登录')), true);
  await screenshot(page, 'qr-login-code');

  const question = await device.scan(ticket);
  const userAgent = await browser.userAgent();
  assert.ok(userAgent.includes('Linux'), userAgent);
  assert.ok(pages.shownText(question).includes('在 Chrome / Linux 上登录?'), pages.shownText(question));
  await waitForState(page, 'scanned');
  assert.equal(await textOf(page, 'status'), '已扫码，请在手机上确认');
  assert.ok(await isVisible(page, 'scanned-mask'));
  await screenshot(page, 'qr-login-scanned');

  await pages.tap(question, '确认登录');
  assert.equal(question.data.state, 'confirmed');
  await waitForState(page, 'signed-in');
  assert.equal(await textOf(page, 'nickname'), NICKNAME);
  // The avatar is the one uploaded from the phone, loaded from /avatars/{id}.
  await page.waitForFunction(() => {
    const avatar = document.getElementById('avatar');
    return !avatar.hidden && avatar.complete && avatar.naturalWidth === 96;
  }, WAIT);
  assert.match(await page.$eval('#avatar', (img) => new URL(img.src).pathname), /^\/avatars\/[0-9a-f-]{36}$/);
  assert.ok(await isVisible(page, 'logout'));
  await screenshot(page, 'qr-login-confirmed');

  // The stream carried the states: the page never had to poll.
  assert.equal(streamsOf(tab.requests, ticket).length, 1);
  assert.deepEqual(pollsOf(tab.requests, ticket), []);

  // The browser's session is the user's, named by the browser's user agent.
  const browserSessions = (await device.sessions()).filter((session) => session.user_agent === userAgent);
  assert.equal(browserSessions.length, 1, JSON.stringify(await device.sessions()));
  assert.equal(browserSessions[0].current, false);

  // Only the refresh token is stored, and only for this tab; a reload keeps the user signed in.
  const stored = await page.evaluate(() => Object.keys(sessionStorage));
  assert.deepEqual(stored, ['wxlogin.refresh_token']);
  await page.reload();
  await waitForState(page, 'signed-in');
  assert.equal(await textOf(page, 'nickname'), NICKNAME);

  // Logging out ends that session and shows a fresh code.
  await page.click('#logout');
  const next = await newTicketShown(page, ticket);
  assert.notEqual(next, ticket);
  assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), []);
  const remaining = (await device.sessions()).filter((session) => session.user_agent === userAgent);
  assert.deepEqual(remaining, [], 'the browser session ended');

  assertStayedHome(base, tab);
  await page.close();
});

test('a denied scan tells the browser so, and one click brings a fresh code (polling, no EventSource)', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const { base } = stack;
  const device = phone(base);
  const tab = await openLoginPage(browser, base, { withoutEventSource: true });
  const { page, ticket } = tab;

  const question = await device.scan(ticket);
  await waitForState(page, 'scanned');
  await pages.tap(question, '取消');
  assert.equal(question.data.state, 'denied');
  await waitForState(page, 'denied');
  assert.equal(await textOf(page, 'status'), '已在手机上取消登录');
  assert.ok(await isVisible(page, 'refresh'));
  await screenshot(page, 'qr-login-denied');
  assert.ok(pollsOf(tab.requests, ticket).length >= 2, 'the page polled');
  assert.deepEqual(streamsOf(tab.requests, ticket), []);
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).length), 0, 'no tokens');

  await page.click('#refresh');
  const next = await newTicketShown(page, ticket);
  assert.notEqual(next, ticket);
  assertStayedHome(base, tab);
  await page.close();
});

test('an expired code says so, and one click replaces it', async (t) => {
  if (skipReason) return t.skip(skipReason);
  // The shortest lifetime wxlogin accepts, on a stack of its own.
  const shortLived = await startStack({ dbPrefix: 'wxlogin_qrweb_ttl', serverEnv: { ...SERVER_ENV, QR_LOGIN_TTL: '10' } });
  try {
    const tab = await openLoginPage(browser, shortLived.base);
    const { page, ticket } = tab;
    // Scanned, then left unanswered on the phone until the code expires.
    const question = await phone(shortLived.base).scan(ticket);
    await waitForState(page, 'scanned');
    await page.waitForSelector('#app[data-state="expired"]', { timeout: 25000 });
    assert.equal(await textOf(page, 'refresh-text'), '二维码已过期，点击刷新');
    // The stream said so itself: the page never fell back to polling.
    assert.deepEqual(pollsOf(tab.requests, ticket), []);
    await screenshot(page, 'qr-login-expired');

    // Confirming now is too late, and so is scanning the old code on another phone.
    await pages.tap(question, '确认登录');
    assert.equal(question.data.state, 'error');
    assert.equal(question.data.error, MESSAGES.ticket_expired);
    const device = phone(shortLived.base);
    const late = pages.loadPage('pages/qr-login/index');
    await late.onLoad({ scene: encodeURIComponent(ticket) });
    assert.equal(late.data.error, MESSAGES.ticket_expired);
    assert.equal(device.wx.log.at(-1).statusCode, 410);

    await page.click('#refresh');
    assert.notEqual(await newTicketShown(page, ticket), ticket);
    assertStayedHome(shortLived.base, tab);
    await page.close();
  } finally {
    await shortLived.stop();
  }
});

test('a browser session ended from the phone sends the reloaded tab back to a code', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const { base } = stack;
  const device = phone(base);
  const tab = await openLoginPage(browser, base);
  const { page, ticket } = tab;
  await pages.tap(await device.scan(ticket), '确认登录');
  await waitForState(page, 'signed-in');

  const userAgent = await browser.userAgent();
  const [session] = (await device.sessions()).filter((listed) => listed.user_agent === userAgent);
  await device.auth.request({ url: `/api/auth/sessions/${session.id}`, method: 'DELETE' });
  await page.reload();
  await newTicketShown(page, '');
  assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), [], 'the dead refresh token is dropped');
  assert.equal(await isVisible(page, 'user-view'), false);
  assertStayedHome(base, tab);
  await page.close();
});
