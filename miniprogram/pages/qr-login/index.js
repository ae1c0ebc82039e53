// Scan-to-login: WeChat opens this page from the code a browser shows (its ticket in
// `options.scene`). The page logs in through the kit if needed, binds the ticket to this user
// (scan), says which browser asks ("在 Chrome / Windows 上登录?", with its IP and time) and
// sends the user's answer: 确认登录 (confirm) or 取消 (deny).
//
// States: loading → ask → confirmed | denied; `error` when the ticket can no longer be used
// (taken, expired, used, unknown). A failure that retrying can cure (the network, a busy
// server) keeps the page where it was, so the user can tap again.
'use strict';

const qrLogin = require('../../lib/qr-login.js');
const { describeUserAgent } = require('../../lib/user-agent.js');
const { messageFor, QR_LOGIN_MESSAGES } = require('../../lib/messages.js');

/** Codes after which this ticket is of no more use: the user has to scan a fresh code. */
const FINAL_CODES = ['ticket_taken', 'ticket_expired', 'ticket_used', 'ticket_not_scanned', 'not_found', 'qr_scene_invalid'];

/** `requested_at` (RFC 3339) as the phone's local "MM-DD HH:mm", or '' when unreadable. */
function formatTime(text) {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

Page({
  data: {
    state: 'loading',
    device: '',
    ip: '',
    requestedAt: '',
    busy: false,
    retryable: false,
    error: '',
  },

  onLoad(options) {
    this.ticket = qrLogin.ticketFromScene(options && options.scene);
    if (!this.ticket) {
      this.setData({ state: 'error', error: messageFor({ code: 'qr_scene_invalid' }) });
      return Promise.resolve();
    }
    return this.scan();
  },

  /** Binds the ticket to this user; the kit logs in first when there is no session. */
  scan() {
    this.setData({ state: 'loading', error: '', retryable: false });
    return qrLogin.scan(this.ticket).then(
      (answer) => {
        const browser = answer.browser || {};
        this.setData({
          state: 'ask',
          device: describeUserAgent(browser.user_agent) || '新设备',
          ip: browser.ip || '',
          requestedAt: formatTime(browser.requested_at),
        });
      },
      (error) => this.fail(error, 'error'),
    );
  },

  onConfirm() {
    return this.answer('confirm', 'confirmed');
  },

  onDeny() {
    return this.answer('deny', 'denied');
  },

  answer(action, done) {
    if (this.data.busy || this.data.state !== 'ask') return Promise.resolve();
    this.setData({ busy: true, error: '' });
    return qrLogin[action](this.ticket).then(
      () => this.setData({ busy: false, state: done }),
      (error) => {
        this.setData({ busy: false });
        this.fail(error, this.data.state);
      },
    );
  },

  /** Shows `error`; the page stays in `stateIfRetryable` when trying again may work. */
  fail(error, stateIfRetryable) {
    const final = FINAL_CODES.includes(error && error.code);
    this.setData({
      state: final ? 'error' : stateIfRetryable,
      retryable: !final && stateIfRetryable === 'error',
      error: messageFor(error, QR_LOGIN_MESSAGES),
    });
  },

  onRetry() {
    return this.scan();
  },

  onDone() {
    wx.reLaunch({ url: '/pages/home/index' });
  },
});
