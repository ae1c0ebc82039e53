// The signed-in user: their avatar, nickname and phone number, each editable in place, and a
// logout button.
//
// - Avatar: `<button open-type="chooseAvatar">` hands over a temporary file, which is uploaded
//   with auth.uploadFile to POST /api/me/avatar. The server answers with the user, whose
//   `avatar_url` is relative to the API base.
// - Nickname: `<input type="nickname">` (which offers the WeChat nickname above the keyboard)
//   saves through PATCH /api/me when it loses focus or is confirmed; both may fire for one edit,
//   so an unchanged or already-sending value is not sent again.
// - Phone: `<button open-type="getPhoneNumber">` hands over a one-time code, which POST
//   /api/me/phone exchanges for the number. Replacing a shown number sends `change: true`, since
//   the server otherwise answers with the number it has without asking WeChat (which bills each
//   lookup). No code means the user declined: nothing is sent.
'use strict';

const auth = require('../../lib/auth.js');
const { messageFor, NICKNAME_MESSAGES } = require('../../lib/messages.js');

/** Whether a getPhoneNumber result without a code is the user saying no (not a failure). */
function declined(detail) {
  return /deny|cancel/i.test(detail.errMsg || '');
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
    phoneBusy: false,
    phoneError: '',
  },

  onLoad() {
    return this.loadUser();
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
      },
      (error) => this.setData({ loading: false, error: messageFor(error) }),
    );
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

  onGetPhoneNumber(e) {
    const detail = (e && e.detail) || {};
    if (!detail.code) {
      // Declined, or WeChat could not offer a number (no permission, a base library before
      // 2.21.2): either way there is nothing to send.
      this.setData({ phoneError: declined(detail) ? '' : messageFor({ code: 'phone_unavailable' }) });
      return Promise.resolve();
    }
    if (this.data.phoneBusy) return Promise.resolve();
    const data = { code: detail.code };
    if (this.data.user && this.data.user.phone) data.change = true;
    this.setData({ phoneBusy: true, phoneError: '' });
    return auth.request({ url: '/api/me/phone', method: 'POST', data }).then(
      (res) => {
        this.showUser(res.data);
        this.setData({ phoneBusy: false });
      },
      (error) => this.setData({ phoneBusy: false, phoneError: messageFor(error) }),
    );
  },

  onLogout() {
    this.setData({ busy: true });
    return auth.logout().then(() => wx.reLaunch({ url: '/pages/login/index' }));
  },
});
