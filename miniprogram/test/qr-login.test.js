// The scan-to-login page (pages/qr-login) and lib/qr-login.js, against a real wxlogin server,
// the fake WeChat and Postgres: a "browser" asks for a ticket over HTTP with its user agent, the
// page loads with that ticket as WeChat hands it over (URL-encoded in `options.scene`), and the
// browser's poll shows what the page did.
'use strict';

const assert = require('node:assert/strict');

const { serverSuite, freshLabel } = require('../testing/suite.js');

const suite = serverSuite();
const { serverTest, usePagesWith } = suite;

const { createFakeWx } = require('../testing/fake-wx.js');
const pages = require('../testing/pages.js');
const { MESSAGES, QR_LOGIN_MESSAGES } = require('../lib/messages.js');

const QR_LOGIN_MODULE = require.resolve('../lib/qr-login.js');
const FIREFOX_ON_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0';

/** A browser showing the code: plain HTTP with a desktop user agent, no kit. */
function browser() {
  const http = createFakeWx();
  const call = (method, path, header) =>
    new Promise((resolve, reject) =>
      http.request({
        url: suite.servers.apiBase + path,
        method,
        header: Object.assign({ 'User-Agent': FIREFOX_ON_MAC }, header),
        success: resolve,
        fail: (res) => reject(new Error(res.errMsg)),
      }),
    );
  return {
    async newTicket() {
      const res = await call('POST', '/api/qr-login');
      assert.equal(res.statusCode, 201, JSON.stringify(res.data));
      return res.data;
    },
    poll(ticket) {
      const secret = encodeURIComponent(ticket.poll_secret);
      return call('GET', `/api/qr-login/${encodeURIComponent(ticket.ticket)}?poll_secret=${secret}`);
    },
    me(accessToken) {
      return call('GET', '/api/me', { Authorization: `Bearer ${accessToken}` });
    },
  };
}

/** The page as WeChat opens it from a scan, for a phone of its own (`label` picks the user). */
function openPage(label = freshLabel()) {
  const wx = createFakeWx({ codePrefix: label });
  usePagesWith(wx);
  // lib/qr-login.js holds the kit instance it was loaded with: a fresh one for this phone.
  delete require.cache[QR_LOGIN_MODULE];
  const page = pages.loadPage('pages/qr-login/index');
  return { wx, page, auth: require('../lib/auth.js') };
}

function sceneOf(ticket) {
  return encodeURIComponent(ticket.ticket);
}

/** A browser's new ticket, scanned by the page on a phone of its own: the page asks. */
async function scannedTicket(label) {
  const web = browser();
  const ticket = await web.newTicket();
  const opened = openPage(label);
  await opened.page.onLoad({ scene: sceneOf(ticket) });
  assert.equal(opened.page.data.error, '');
  assert.equal(opened.page.data.state, 'ask');
  return Object.assign({ web, ticket }, opened);
}

function buttonsOf(page) {
  return pages
    .findAll(pages.render(page), (node) => node.tag === 'wx-button')
    .map((node) => pages.textOf(node).trim());
}

function qrCalls(wx) {
  return wx.log.filter((entry) => entry.path.startsWith('/api/qr-login/'));
}

serverTest('the page asks about the browser that shows the code, and 确认登录 signs that browser in as this user', async () => {
  const web = browser();
  const ticket = await web.newTicket();
  const { wx, page, auth } = openPage();

  await page.onLoad({ scene: sceneOf(ticket) });
  assert.equal(page.data.error, '');
  assert.equal(wx.calls('/api/auth/login').length, 1, 'the kit logged in first');
  assert.equal(page.data.state, 'ask');
  const text = pages.shownText(page);
  assert.ok(text.includes('在 Firefox / macOS 上登录?'), text);
  assert.ok(text.includes('IP 127.0.0.1'), text);
  assert.deepEqual(buttonsOf(page), ['确认登录', '取消']);
  assert.equal((await web.poll(ticket)).data.state, 'scanned');

  await pages.tap(page, '确认登录');
  assert.equal(page.data.error, '');
  assert.equal(page.data.state, 'confirmed');
  assert.ok(pages.shownText(page).includes('已在 Firefox / macOS 上登录'));
  assert.deepEqual(
    qrCalls(wx).map((entry) => [entry.method, entry.path.split('/').pop(), entry.statusCode]),
    [
      ['POST', 'scan', 200],
      ['POST', 'confirm', 200],
    ],
  );

  // The browser's poll hands over a session of the phone's user, once.
  const confirmed = await web.poll(ticket);
  assert.equal(confirmed.statusCode, 200);
  assert.equal(confirmed.data.state, 'confirmed');
  const phoneUser = (await auth.request({ url: '/api/me' })).data;
  const browserUser = await web.me(confirmed.data.tokens.access_token);
  assert.equal(browserUser.statusCode, 200);
  assert.equal(browserUser.data.id, phoneUser.id);
  const again = await web.poll(ticket);
  assert.equal(again.statusCode, 410);
  assert.equal(again.data.error.code, 'ticket_used');
});

serverTest('取消 refuses the browser, which is told so and gets no tokens', async () => {
  const { web, ticket, page } = await scannedTicket();

  await pages.tap(page, '取消');
  assert.equal(page.data.state, 'denied');
  assert.ok(pages.shownText(page).includes('已取消登录'));
  assert.deepEqual(buttonsOf(page), ['完成']);
  const answer = await web.poll(ticket);
  assert.equal(answer.data.state, 'denied');
  assert.equal(answer.data.tokens, undefined);
});

serverTest('a user already signed in on the phone is not logged in again', async () => {
  const web = browser();
  const ticket = await web.newTicket();
  const { wx, page, auth } = openPage();
  await auth.login();
  assert.equal(wx.calls('/api/auth/login').length, 1);

  await page.onLoad({ scene: sceneOf(ticket) });
  assert.equal(page.data.state, 'ask');
  assert.equal(wx.calls('/api/auth/login').length, 1, 'no second login');
});

serverTest('a code another user scanned first is refused with its message, and the first user can still confirm', async () => {
  const { web, ticket, page: firstPage } = await scannedTicket();
  // `firstPage` keeps its own kit instance; the second phone gets another.

  const second = openPage();
  await second.page.onLoad({ scene: sceneOf(ticket) });
  assert.equal(second.page.data.state, 'error');
  assert.equal(second.page.data.error, MESSAGES.ticket_taken);
  assert.ok(pages.shownText(second.page).includes(MESSAGES.ticket_taken));
  assert.deepEqual(buttonsOf(second.page), ['返回首页'], 'nothing to confirm, nothing to retry');
  assert.equal(qrCalls(second.wx).at(-1).statusCode, 409);

  await pages.tap(firstPage, '确认登录');
  assert.equal(firstPage.data.state, 'confirmed');
  assert.equal((await web.poll(ticket)).data.state, 'confirmed');
});

serverTest('a code already answered cannot be scanned again', async () => {
  const label = freshLabel();
  const { ticket, page: first } = await scannedTicket(label);
  await pages.tap(first, '取消');
  assert.equal(first.data.state, 'denied');

  const again = openPage(label);
  await again.page.onLoad({ scene: sceneOf(ticket) });
  assert.equal(again.page.data.state, 'error');
  assert.equal(again.page.data.error, MESSAGES.ticket_used);
  assert.equal(qrCalls(again.wx).at(-1).statusCode, 410);
});

serverTest('an unknown ticket says the code is no longer valid', async () => {
  const { wx, page } = openPage();
  await page.onLoad({ scene: encodeURIComponent(`nope${freshLabel()}`) });
  assert.equal(page.data.state, 'error');
  assert.equal(page.data.error, QR_LOGIN_MESSAGES.not_found);
  assert.equal(qrCalls(wx).at(-1).statusCode, 404);
});

serverTest('a missing, empty or undecodable scene is refused without a request', async () => {
  for (const options of [undefined, {}, { scene: '' }, { scene: '%20' }, { scene: '%E0%A4%A' }]) {
    const { wx, page } = openPage();
    await page.onLoad(options);
    assert.equal(page.data.state, 'error', JSON.stringify(options));
    assert.equal(page.data.error, MESSAGES.qr_scene_invalid);
    assert.deepEqual(wx.log, [], 'nothing was sent, not even a login');
  }
});

serverTest('a confirm lost on the network keeps the question, and tapping again signs the browser in', async () => {
  const { web, ticket, wx, page } = await scannedTicket();

  wx.intercept = (entry) => (entry.path.endsWith('/confirm') ? { fail: 'timeout' } : null);
  await pages.tap(page, '确认登录');
  assert.equal(page.data.state, 'ask');
  assert.equal(page.data.error, MESSAGES.network_error);
  assert.deepEqual(buttonsOf(page), ['确认登录', '取消']);
  assert.equal((await web.poll(ticket)).data.state, 'scanned');

  wx.intercept = null;
  await pages.tap(page, '确认登录');
  assert.equal(page.data.state, 'confirmed');
  assert.equal(page.data.error, '');
  assert.equal((await web.poll(ticket)).data.state, 'confirmed');
});

serverTest('a scan lost on the network offers 重试, which scans again', async () => {
  const web = browser();
  const ticket = await web.newTicket();
  const { wx, page } = openPage();
  wx.intercept = (entry) => (entry.path.endsWith('/scan') ? { fail: 'timeout' } : null);
  await page.onLoad({ scene: sceneOf(ticket) });
  assert.equal(page.data.state, 'error');
  assert.equal(page.data.error, MESSAGES.network_error);

  wx.intercept = null;
  await pages.tap(page, '重试');
  assert.equal(page.data.state, 'ask');
  assert.equal((await web.poll(ticket)).data.state, 'scanned');
});

serverTest('tapping 确认登录 twice sends one confirm', async () => {
  const { wx, page } = await scannedTicket();

  const first = pages.tap(page, '确认登录');
  // The button is disabled while the first is in flight.
  await pages.tap(page, '确认登录');
  await page.onConfirm();
  await first;
  assert.equal(page.data.state, 'confirmed');
  assert.equal(wx.log.filter((entry) => entry.path.endsWith('/confirm')).length, 1);
});
