// The signed-in user: their avatar, nickname and phone number, each editable in place, and a
// logout button.
//
// - Privacy: the avatar, nickname and phone components are personal data. `<privacy-sheet>`
//   asks for consent when WeChat holds one of them; declining closes it and leaves the rest of
//   the page working.
// - Avatar: `<button open-type="chooseAvatar">` hands over a temporary file, which is uploaded
//   with auth.uploadFile to POST /api/me/avatar. The server answers with the user, whose
//   `avatar_url` is relative to the API base.
// - Nickname: `<input type="nickname">` (which offers the WeChat nickname above the keyboard)
//   saves through PATCH /api/me when it loses focus or is confirmed; both may fire for one edit,
//   so an unchanged or already-sending value is not sent again. WeChat does not hold that input
//   for consent (without it the input silently becomes a plain text field), so while consent is
//   needed a tap on the field asks first (wx.requirePrivacyAuthorize) and only then shows the
//   input, focused.
// - Phone: WeChat bills every successful getPhoneNumber on the phone, so the button shows only
//   while the user has no verified number, is disabled from the tap until the server has
//   answered, and nothing navigates while WeChat's sheet is open. Its one-time code goes to POST
//   /api/me/phone. No code means the user declined, consent was refused, or the app's quota is
//   spent (errno 1400001): nothing is sent.
// - A server that says the current privacy policy is not accepted yet (`consent_required`)
//   sends the user back to the login page to accept it.
'use strict';

const auth = require('../../lib/auth.js');
const { messageFor, NICKNAME_MESSAGES } = require('../../lib/messages.js');
const privacy = require('../../lib/privacy.js');

/** WeChat's errno when the app's phone number quota is used up. */
const PHONE_QUOTA_EXHAUSTED = 1400001;

/** Whether a getPhoneNumber result without a code is the user saying no (not a failure). */
function declined(detail) {
  return /deny|cancel/i.test(detail.errMsg || '');
}

/** What to show for a getPhoneNumber result without a code ('' when the user just said no). */
function phoneFailure(detail) {
  if (Number(detail.errno) === PHONE_QUOTA_EXHAUSTED) return messageFor({ code: 'phone_quota_exhausted' });
  if (privacy.isPrivacyRefusal(detail)) return messageFor({ code: 'privacy_denied' });
  return declined(detail) ? '' : messageFor({ code: 'phone_unavailable' });
}

Page({
  data: {
    user: null,
    avatarSrc: '',
    phoneText: '',
    loading: true,
    busy: false,
    error: '',
    avatarBusy: false,
    avatarError: '',
    nicknameBusy: false,
    nicknameError: '',
    // Until WeChat says no consent is needed, the nickname field asks for it before the input.
    nicknameReady: false,
    nicknameFocus: false,
    phoneBusy: false,
    phoneError: '',
  },

  onLoad() {
    return Promise.all([
      this.loadUser(),
      privacy.setting().then((setting) => this.setData({ nicknameReady: !setting.needAuthorization })),
    ]);
  },

  onPullDownRefresh() {
    return this.loadUser().then(() => wx.stopPullDownRefresh());
  },

  loadUser() {
    this.setData({ loading: true, error: '' });
    return auth.request({ url: '/api/me' }).then(
      (res) => {
        this.showUser(res.data);
        this.setData({ loading: false });
        if (auth.consentRequired(res.data)) {
          this.navigate(() => wx.reLaunch({ url: '/pages/login/index?reason=policy_updated' }));
        }
      },
      (error) => this.setData({ loading: false, error: messageFor(error) }),
    );
  },

  /**
   * Runs `go` (a navigation) now, or once WeChat's phone number sheet has closed: navigating
   * while it is open can leave the user billed for a number the app never receives.
   */
  navigate(go) {
    if (this.phoneSheetOpen) {
      this.afterPhoneSheet = go;
      return;
    }
    go();
  },

  /** Shows `user` as the server returned it. */
  showUser(user) {
    this.setData({
      user,
      avatarSrc: auth.url(user.avatar_url),
      phoneText: user.phone ? `+${user.phone_country_code || '86'} ${user.phone}` : '',
    });
  },

  onChooseAvatar(e) {
    const filePath = e && e.detail && e.detail.avatarUrl;
    if (!filePath || this.data.avatarBusy) return Promise.resolve();
    this.setData({ avatarBusy: true, avatarError: '' });
    return auth.uploadFile({ url: '/api/me/avatar', filePath, name: 'file' }).then(
      (res) => {
        this.showUser(res.data);
        this.setData({ avatarBusy: false });
      },
      (error) => this.setData({ avatarBusy: false, avatarError: messageFor(error) }),
    );
  },

  /** A tap on the nickname field while consent may be needed: ask, then hand over the input. */
  onNicknameTap() {
    this.setData({ nicknameError: '' });
    return privacy.require().then(
      () => this.setData({ nicknameReady: true, nicknameFocus: true }),
      (error) => this.setData({ nicknameError: messageFor(error) }),
    );
  },

  onNicknameDone(e) {
    const nickname = String((e && e.detail && e.detail.value) || '').trim();
    const current = (this.data.user && this.data.user.nickname) || '';
    // Empty means nothing was typed (the server would refuse it anyway); blur and confirm both
    // fire for one edit.
    if (!this.data.user || !nickname || nickname === current || nickname === this.savingNickname) {
      return Promise.resolve();
    }
    this.savingNickname = nickname;
    this.setData({ nicknameBusy: true, nicknameError: '' });
    return auth
      .request({ url: '/api/me', method: 'PATCH', data: { nickname } })
      .then(
        (res) => {
          this.showUser(res.data);
          this.setData({ nicknameBusy: false });
        },
        (error) => this.setData({ nicknameBusy: false, nicknameError: messageFor(error, NICKNAME_MESSAGES) }),
      )
      .then(() => {
        this.savingNickname = null;
      });
  },

  /** The tap that opens WeChat's phone number sheet: from here until the server answers, no second one. */
  onPhoneTap() {
    this.phoneSheetOpen = true;
    this.setData({ phoneBusy: true, phoneError: '' });
  },

  onGetPhoneNumber(e) {
    const detail = (e && e.detail) || {};
    this.phoneSheetOpen = false;
    let settled;
    if (detail.code) {
      settled = this.savePhone(detail.code);
    } else {
      this.setData({ phoneBusy: false, phoneError: phoneFailure(detail) });
      settled = Promise.resolve();
    }
    // A navigation asked for while the sheet was open goes now, after the code was redeemed.
    return settled.then(() => {
      const go = this.afterPhoneSheet;
      this.afterPhoneSheet = null;
      if (go) go();
    });
  },

  /** Exchanges WeChat's one-time code for the number (POST /api/me/phone). */
  savePhone(code) {
    if (this.savingPhone) return Promise.resolve();
    this.savingPhone = true;
    this.setData({ phoneBusy: true, phoneError: '' });
    return auth.request({ url: '/api/me/phone', method: 'POST', data: { code } }).then(
      (res) => {
        this.savingPhone = false;
        this.showUser(res.data);
        this.setData({ phoneBusy: false });
      },
      (error) => {
        this.savingPhone = false;
        this.setData({ phoneBusy: false, phoneError: messageFor(error) });
      },
    );
  },

  onLogout() {
    this.setData({ busy: true });
    return auth.logout().then(() => this.navigate(() => wx.reLaunch({ url: '/pages/login/index' })));
  },
});
