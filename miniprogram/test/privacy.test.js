// Privacy consent and the paid phone button, on the phone: the kit's one
// onNeedPrivacyAuthorization listener and its consent sheet, the nickname input that asks before
// it is used, the login page's consent box and its documents, and the getPhoneNumber button's
// guards. The fake `wx` holds personal-data calls as WeChat does (testing/fake-wx.js); requests
// are answered by the stand-in API (testing/stand-in-api.js), so these run without Postgres. The
// consent reaching the real server is in test/kit.test.js.
'use strict';

const assert = require('node:assert/strict');
const test = require('node:test');

const { installRuntime } = require('../testing/runtime.js');

installRuntime();

const { createFakeWx, PRIVACY_REFUSED } = require('../testing/fake-wx.js');
const pages = require('../testing/pages.js');
const { createStandInApi } = require('../testing/stand-in-api.js');
const { MESSAGES } = require('../lib/messages.js');
const policies = require('../policies.js');

const KIT_MODULES = ['../lib/auth.js', '../lib/privacy.js'].map((id) => require.resolve(id));

/** A phone: the fake wx (consent still needed unless `consented`) and the stand-in API. */
function phone({ consented = false, policyVersion = policies.version } = {}) {
  const wx = createFakeWx({ needPrivacyAuthorization: !consented });
  const api = createStandInApi({ policyVersion });
  wx.intercept = api.intercept;
  globalThis.wx = wx;
  // The app-wide kit instances bind to the wx they were created with: fresh ones per test.
  for (const id of KIT_MODULES) delete require.cache[id];
  return { wx, api };
}

/** Lets the fake wx's and the pages' callbacks run until `condition()` holds. */
async function until(condition, what) {
  for (let turn = 0; turn < 200; turn += 1) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`never happened: ${what}`);
}

const SHEET_TITLE = '隐私保护提示';

function sheetShown(page) {
  return pages.shownText(page).includes(SHEET_TITLE);
}

/** The home page of a logged-in user who ticked the box, loaded. */
async function homePage(options) {
  const { wx, api } = phone(options);
  api.consents.push(api.policyVersion);
  await require('../lib/auth.js').login();
  const home = pages.loadPage('pages/home/index');
  await home.onLoad();
  assert.equal(home.data.error, '');
  return { wx, api, home };
}

function requestsTo(wx, path) {
  return wx.calls(path).length;
}

// ---- the kit's listener --------------------------------------------------------------------

test('the kit registers one onNeedPrivacyAuthorization listener for the app and fans it out', async () => {
  const { wx } = phone();
  const privacy = require('../lib/privacy.js');
  privacy.install();
  privacy.install();
  const first = [];
  const second = [];
  privacy.subscribe((state) => first.push(state.pending));
  const stop = privacy.subscribe((state) => second.push(state.pending));
  assert.equal(wx.privacy.registrations, 1, 'registered once: a second one would replace the first');

  const asking = privacy.require();
  await until(() => privacy.pending() === 1, 'the request is queued');
  assert.deepEqual(first, [0, 1]);
  assert.deepEqual(second, [0, 1]);
  stop();
  privacy.disagree();
  await assert.rejects(asking, { code: 'privacy_denied', message: `requirePrivacyAuthorize:fail ${PRIVACY_REFUSED}` });
  assert.deepEqual(first, [0, 1, 0]);
  assert.deepEqual(second, [0, 1], 'an unsubscribed sheet hears nothing more');
});

test('WeChat ignores an agree that no agree button backs (so the sheet must use one)', async () => {
  const { wx } = phone();
  const privacy = require('../lib/privacy.js');
  let done = false;
  privacy.require().then(() => {
    done = true;
  });
  await until(() => privacy.pending() === 1, 'the request is queued');
  privacy.agree('privacy-agree');
  await until(() => wx.privacy.ignoredAnswers.length === 1, 'WeChat refuses the agree');
  assert.equal(done, false, 'the call is still held');
  assert.equal(wx.privacy.needAuthorization, true);
  assert.deepEqual(wx.privacy.held.map((held) => held.referrer), ['requirePrivacyAuthorize']);
});

test('wx.chooseMedia waits in the same queue, named by its referrer, and fails when declined', async () => {
  const { wx } = phone();
  const privacy = require('../lib/privacy.js');
  const seen = [];
  privacy.subscribe((state) => seen.push(state.referrers));
  wx.mediaToChoose.push({ tempFilePath: '/tmp/wx-photo.jpg', size: 1024, fileType: 'image' });
  const choose = () =>
    new Promise((resolve) => wx.chooseMedia({ count: 1, success: resolve, fail: resolve }));

  const declined = choose();
  await until(() => privacy.pending() === 1, 'the call is queued');
  assert.deepEqual(seen.at(-1), ['chooseMedia']);
  privacy.disagree();
  assert.deepEqual(await declined, { errMsg: `chooseMedia:fail ${PRIVACY_REFUSED}`, errno: 104 });
  assert.equal(wx.mediaToChoose.length, 1, 'nothing was handed over');
  assert.equal(wx.privacy.builtInPopups.length, 0);
});

// ---- the consent sheet ---------------------------------------------------------------------

test('a chooseAvatar tap without consent shows the sheet; agreeing lets the avatar through', async () => {
  const { wx, api, home } = await homePage();
  assert.equal(sheetShown(home), false, 'no sheet before anything asks');

  const choosing = pages.chooseAvatar(home, '/tmp/wx-avatar.png');
  await until(() => sheetShown(home), 'the sheet shows');
  assert.deepEqual(wx.privacy.exposures, ['button.chooseAvatar'], 'WeChat is told the app showed its sheet');
  await until(() => pages.shownText(home).includes(wx.privacy.contractName), 'the guide is named');
  assert.equal(requestsTo(wx, '/api/me/avatar'), 0, 'nothing chosen yet');
  assert.equal(wx.privacy.builtInPopups.length, 0, "WeChat's own popup never shows");

  await pages.tapText(home, wx.privacy.contractName);
  await until(() => wx.privacy.contractOpened === 1, 'the guide opens');
  assert.equal(sheetShown(home), true, 'reading the guide keeps the sheet');

  pages.agreePrivacy(home);
  await choosing;
  await until(() => home.data.avatarBusy === false && requestsTo(wx, '/api/me/avatar') === 1, 'the upload is done');
  assert.equal(sheetShown(home), false);
  assert.deepEqual(wx.privacy.ignoredAnswers, []);
  assert.equal(wx.privacy.needAuthorization, false);
  assert.equal(home.data.avatarError, '');
  assert.equal(home.data.user.avatar_url, api.user.avatar_url);

  // Consent given: the next tap goes straight through.
  await pages.chooseAvatar(home, '/tmp/wx-avatar-2.png');
  assert.equal(sheetShown(home), false);
  assert.deepEqual(wx.privacy.exposures, ['button.chooseAvatar']);
});

test('one agree answers every held call', async () => {
  const { wx, home } = await homePage();
  const choosing = pages.chooseAvatar(home, '/tmp/wx-avatar.png');
  const asking = pages.tapText(home, '点击设置昵称');
  await until(() => wx.privacy.exposures.length === 2, 'the sheet is shown for both calls');
  assert.equal(wx.privacy.held.length, 2);
  assert.equal(sheetShown(home), true);
  assert.deepEqual(wx.privacy.exposures.sort(), ['button.chooseAvatar', 'requirePrivacyAuthorize']);

  pages.agreePrivacy(home);
  await Promise.all([choosing, asking]);
  assert.equal(wx.privacy.held.length, 0);
  assert.equal(sheetShown(home), false);
  assert.equal(pages.input(home, 'nickname').attr.focus, true, 'the nickname input is handed over, focused');
  await until(() => requestsTo(wx, '/api/me/avatar') === 1, 'the avatar is uploaded');
});

test('declining fails the held call with privacy_denied and leaves the page usable', async () => {
  const { wx, home } = await homePage();
  const asking = pages.tapText(home, '点击设置昵称');
  await until(() => sheetShown(home), 'the sheet shows');
  await pages.tap(home, '不同意');
  await asking;
  assert.equal(sheetShown(home), false);
  assert.equal(home.data.nicknameError, MESSAGES.privacy_denied);
  assert.ok(pages.shownText(home).includes(MESSAGES.privacy_denied));
  assert.throws(() => pages.input(home, 'nickname'), /found 0/, 'no plain text field in place of the nickname input');

  // The phone button within WeChat's 10 s after a refusal: refused at once, no sheet, nothing sent.
  await pages.getPhoneNumber(home, { code: 'never-used' });
  assert.equal(sheetShown(home), false);
  assert.equal(home.data.phoneError, MESSAGES.privacy_denied);
  assert.equal(home.data.phoneBusy, false, 'the button is usable again');
  assert.equal(requestsTo(wx, '/api/me/phone'), 0);

  // What needs no personal data still works: refreshing the profile, logging out.
  await home.onPullDownRefresh();
  assert.equal(home.data.error, '');
  assert.equal(requestsTo(wx, '/api/me'), 2);
  await pages.tap(home, '退出登录');
  assert.deepEqual(wx.navigation.at(-1), { method: 'reLaunch', url: '/pages/login/index' });
});

test('after WeChat\'s quiet time a declined user is asked again and can agree', async () => {
  const { wx, home } = await homePage();
  const first = pages.tapText(home, '点击设置昵称');
  await until(() => sheetShown(home), 'the sheet shows');
  await pages.tap(home, '不同意');
  await first;

  const later = Date.now() + 11000;
  wx.clock.now = () => later;
  const second = pages.tapText(home, '点击设置昵称');
  await until(() => sheetShown(home), 'the sheet shows again');
  assert.equal(home.data.nicknameError, '', 'the old message is gone');
  pages.agreePrivacy(home);
  await second;
  assert.equal(pages.input(home, 'nickname').attr.focus, true);
  await pages.enterNickname(home, '小明');
  assert.equal(home.data.user.nickname, '小明');
});

// ---- the nickname input --------------------------------------------------------------------

test('the nickname input is shown at once when consent is already given', async () => {
  const { wx, home } = await homePage({ consented: true });
  const input = pages.input(home, 'nickname');
  assert.notEqual(input.attr.focus, true, 'not focused on its own');
  await pages.enterNickname(home, '小红');
  assert.equal(home.data.user.nickname, '小红');
  assert.equal(wx.privacy.held.length + wx.privacy.exposures.length, 0, 'nothing asked');
});

// ---- the login page's consent box ----------------------------------------------------------

test('授权登录 without the box ticked says why; ticked, it logs in and records the consent', async () => {
  const { wx, api } = phone();
  const login = pages.loadPage('pages/login/index');
  login.onLoad({});
  assert.ok(pages.shownText(login).includes('我已阅读并同意《用户协议》和《隐私政策》'));
  assert.equal(pages.checkbox(login).box.attr.checked, false, 'unticked to begin with');

  await pages.tap(login, '授权登录');
  assert.equal(login.data.error, MESSAGES.agreement_unchecked);
  assert.ok(pages.shownText(login).includes(MESSAGES.agreement_unchecked), 'said on the page');
  assert.equal(wx.codes.length, 0, 'no wx.login');
  assert.equal(wx.log.length, 0, 'no request');

  pages.toggleCheckbox(login);
  assert.equal(pages.checkbox(login).box.attr.checked, true);
  assert.equal(login.data.error, '', 'ticking clears the explanation');
  pages.toggleCheckbox(login);
  await pages.tap(login, '授权登录');
  assert.equal(wx.codes.length, 0, 'unticked again: still nothing');

  pages.toggleCheckbox(login);
  await pages.tap(login, '授权登录');
  assert.equal(login.data.error, '');
  assert.deepEqual(
    wx.log.map((entry) => `${entry.method} ${entry.path}`),
    ['POST /api/auth/login', 'POST /api/me/consents'],
    'the consent right after the login',
  );
  assert.deepEqual(wx.calls('/api/me/consents')[0].data, { version: policies.version });
  assert.equal(wx.calls('/api/me/consents')[0].statusCode, 201);
  assert.deepEqual(api.consents, [policies.version]);
  assert.deepEqual(wx.navigation, [{ method: 'reLaunch', url: '/pages/home/index' }]);

  // The home page then finds nothing to ask.
  const home = pages.loadPage('pages/home/index');
  await home.onLoad();
  assert.equal(home.data.user.consent_required, false);
  assert.equal(wx.navigation.length, 1);
});

test('a user who already accepted this version is not recorded again', async () => {
  const { wx, api } = phone();
  api.consents.push(policies.version);
  const login = pages.loadPage('pages/login/index');
  login.onLoad({});
  pages.toggleCheckbox(login);
  await pages.tap(login, '授权登录');
  assert.equal(requestsTo(wx, '/api/auth/login'), 1);
  assert.equal(requestsTo(wx, '/api/me/consents'), 0);
  assert.deepEqual(wx.navigation, [{ method: 'reLaunch', url: '/pages/home/index' }]);
});

test('a consent the server refuses keeps the user on the login page, saying so', async () => {
  // A server already on a newer policy than this app knows: POST /api/me/consents is a 400.
  const { wx, api } = phone({ policyVersion: `${policies.version}-newer` });
  const login = pages.loadPage('pages/login/index');
  pages.toggleCheckbox(login);
  await pages.tap(login, '授权登录');
  assert.equal(wx.calls('/api/me/consents')[0].statusCode, 400);
  assert.deepEqual(api.consents, []);
  assert.equal(login.data.error, MESSAGES.invalid_request);
  assert.deepEqual(wx.navigation, [], 'not let in without a recorded consent');
});

test('both documents open from the login page, with the app\'s own text', async () => {
  const { wx } = phone();
  const login = pages.loadPage('pages/login/index');
  for (const [link, name] of [
    ['《用户协议》', 'agreement'],
    ['《隐私政策》', 'privacy'],
  ]) {
    pages.tapText(login, link);
    const url = `/pages/policy/index?name=${name}`;
    assert.deepEqual(wx.navigation.at(-1), { method: 'navigateTo', url });
    assert.equal(login.data.agreed, false, 'opening a document ticks nothing');

    const document = pages.loadPage('pages/policy/index');
    document.onLoad({ name });
    const shown = pages.shownText(document);
    const expected = policies.documents[name];
    assert.ok(shown.includes(expected.title));
    for (const paragraph of expected.paragraphs) assert.ok(shown.includes(paragraph), paragraph);
    assert.equal(wx.titles.at(-1), expected.title);
  }
});

test('a server asking for consent again sends the user back to an unticked box', async () => {
  const { wx, api } = phone();
  api.consents.push(policies.version);
  await require('../lib/auth.js').login();
  // A new policy is published: the server no longer counts the old consent.
  api.consents.length = 0;

  const home = pages.loadPage('pages/home/index');
  await home.onLoad();
  assert.equal(home.data.user.consent_required, true);
  const url = '/pages/login/index?reason=policy_updated';
  assert.deepEqual(wx.navigation, [{ method: 'reLaunch', url }]);

  const login = pages.loadPage('pages/login/index');
  login.onLoad({ reason: 'policy_updated' });
  assert.deepEqual(wx.navigation, [{ method: 'reLaunch', url }], 'stays, though tokens are stored');
  assert.ok(pages.shownText(login).includes('《隐私政策》已更新'));
  assert.equal(pages.checkbox(login).box.attr.checked, false);
  await pages.tap(login, '授权登录');
  assert.equal(requestsTo(wx, '/api/me/consents'), 0);

  pages.toggleCheckbox(login);
  await pages.tap(login, '授权登录');
  assert.deepEqual(api.consents, [policies.version]);
  assert.deepEqual(wx.navigation.at(-1), { method: 'reLaunch', url: '/pages/home/index' });
});

// ---- the phone button ----------------------------------------------------------------------

test('the phone button is disabled from the tap until the server answers, then gone', async () => {
  const { wx, api, home } = await homePage({ consented: true });
  assert.equal(pages.textOf(pages.openTypeButton(home, 'getPhoneNumber')).trim(), '绑定手机号');
  api.hold('/api/me/phone');

  const sheet = await pages.openPhoneSheet(home);
  assert.ok(sheet, "WeChat's sheet is open");
  assert.equal(pages.openTypeButton(home, 'getPhoneNumber').attr.disabled, true, 'disabled by the tap itself');
  assert.equal(await pages.openPhoneSheet(home), undefined, 'a second tap does nothing');

  const saving = sheet.answer({ code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' });
  await until(() => requestsTo(wx, '/api/me/phone') === 1, 'the code is sent');
  assert.equal(pages.openTypeButton(home, 'getPhoneNumber').attr.disabled, true, 'still disabled: no answer yet');
  api.release('/api/me/phone');
  await saving;

  assert.equal(home.data.phoneError, '');
  assert.equal(requestsTo(wx, '/api/me/phone'), 1);
  assert.deepEqual(wx.calls('/api/me/phone')[0].data, { code: 'phone-code-1' });
  assert.ok(pages.shownText(home).includes(`+86 ${api.user.phone}`));
  assert.equal(pages.hasOpenTypeButton(home, 'getPhoneNumber'), false, 'a verified number: no button to pay for');
});

test('a user with a verified number gets no phone button', async () => {
  const { api, home: before } = await homePage({ consented: true });
  assert.equal(pages.hasOpenTypeButton(before, 'getPhoneNumber'), true);
  api.user.phone = '13800000000';
  api.user.phone_country_code = '86';
  const home = pages.loadPage('pages/home/index');
  await home.onLoad();
  assert.equal(pages.hasOpenTypeButton(home, 'getPhoneNumber'), false);
  assert.ok(pages.shownText(home).includes('+86 13800000000'));
});

test('without consent the phone button asks first, and the sheet opens only after agreeing', async () => {
  const { wx, api, home } = await homePage();
  const opening = pages.openPhoneSheet(home);
  await until(() => sheetShown(home), 'the consent sheet shows');
  assert.equal(pages.openTypeButton(home, 'getPhoneNumber').attr.disabled, true);
  assert.deepEqual(wx.privacy.exposures, ['button.getPhoneNumber']);
  pages.agreePrivacy(home);
  const sheet = await opening;
  assert.ok(sheet);
  await sheet.answer({ code: 'phone-code-2', errMsg: 'getPhoneNumber:ok' });
  assert.equal(home.data.user.phone, api.user.phone);
});

test('nothing navigates while WeChat\'s phone sheet is open', async () => {
  const { wx, api, home } = await homePage({ consented: true });
  const sheet = await pages.openPhoneSheet(home);
  // A refresh finds the policy changed: the page wants the login page, but not with the sheet up.
  api.consents.length = 0;
  await home.onPullDownRefresh();
  assert.equal(home.data.user.consent_required, true);
  assert.deepEqual(wx.navigation, [], 'held while the sheet is open');

  await sheet.answer({ code: 'phone-code-3', errMsg: 'getPhoneNumber:ok' });
  assert.equal(requestsTo(wx, '/api/me/phone'), 1, 'the code WeChat billed for is still redeemed');
  assert.deepEqual(wx.navigation, [{ method: 'reLaunch', url: '/pages/login/index?reason=policy_updated' }]);

  // Logging out waits the same way.
  const { wx: wx2, home: home2 } = await homePage({ consented: true });
  const sheet2 = await pages.openPhoneSheet(home2);
  await home2.onLogout();
  assert.deepEqual(wx2.navigation, []);
  await sheet2.answer({ errMsg: 'getPhoneNumber:fail user deny' });
  assert.deepEqual(wx2.navigation, [{ method: 'reLaunch', url: '/pages/login/index' }]);
});

test('errno 1400001 (quota used up) says so and sends nothing', async () => {
  const { wx, home } = await homePage({ consented: true });
  await pages.getPhoneNumber(home, { errMsg: 'getPhoneNumber:fail no quota', errno: 1400001 });
  assert.equal(home.data.phoneError, MESSAGES.phone_quota_exhausted);
  assert.ok(pages.shownText(home).includes(MESSAGES.phone_quota_exhausted));
  assert.equal(requestsTo(wx, '/api/me/phone'), 0, 'not sent to the server');
  assert.equal(pages.openTypeButton(home, 'getPhoneNumber').attr.disabled, false);
  assert.deepEqual(
    wx.log.map((entry) => entry.path),
    ['/api/auth/login', '/api/me'],
    'no request at all after the page loaded',
  );

  // The user saying no is not an error; a failure of another kind is.
  await pages.getPhoneNumber(home, { errMsg: 'getPhoneNumber:fail user deny' });
  assert.equal(home.data.phoneError, '');
  await pages.getPhoneNumber(home, { errMsg: 'getPhoneNumber:fail no permission' });
  assert.equal(home.data.phoneError, MESSAGES.phone_unavailable);
});
