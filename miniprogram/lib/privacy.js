// The app's privacy consent (用户隐私保护指引): the one wx.onNeedPrivacyAuthorization listener of
// the whole app, and the queue of WeChat's requests waiting for the user's answer.
//
// When a personal-data API (the chooseAvatar and getPhoneNumber buttons, wx.chooseMedia,
// wx.requirePrivacyAuthorize) is used before the user agreed, WeChat holds the call and hands the
// listener a `resolve` for it. WeChat keeps only the listener registered last, so the kit
// registers it, once, and everything else subscribes here: the consent sheet
// (components/privacy-sheet) shows itself while requests wait, and an app that wants its own
// popup subscribes instead of registering a second listener that would silence the first.
//
//   const privacy = require('./lib/privacy.js');
//   privacy.install();                        // app.js: once, at launch
//   const stop = privacy.subscribe((state) => …);  // { pending, referrers } on every change
//   privacy.agree(buttonId);                  // after the agreePrivacyAuthorization button fired
//   privacy.disagree();                       // the held calls fail; the app goes on without them
//   await privacy.require();                  // before a field WeChat does not gate by itself
//
// A refused call rejects with an Error whose code is `privacy_denied` (lib/messages.js explains
// it). Needs base library 2.32.3; on an older one WeChat holds nothing and every call here is a
// no-op that lets the app go on.
'use strict';

function privacyDenied(errMsg) {
  const error = new Error(errMsg || 'privacy permission is not authorized');
  error.code = 'privacy_denied';
  return error;
}

/** Whether a WeChat fail message is the privacy refusal (WeChat words it the same for every API). */
function isPrivacyRefusal(res) {
  return /privacy permission is not authorized/i.test((res && res.errMsg) || '');
}

function createPrivacy(options) {
  const opts = options || {};
  const wxApi = opts.wx || wx; // eslint-disable-line no-undef
  const supported = typeof wxApi.onNeedPrivacyAuthorization === 'function';
  /** WeChat's held calls: { resolve, referrer }, oldest first. */
  let queue = [];
  let subscribers = [];
  let installed = false;

  function state() {
    return { pending: queue.length, referrers: queue.map((entry) => entry.referrer) };
  }

  function notify() {
    const current = state();
    // A copy: a subscriber may unsubscribe (a page closing) while being told.
    for (const subscriber of subscribers.slice()) subscriber(current);
  }

  /** Registers the app's listener with WeChat. Safe to call more than once. */
  function install() {
    if (installed || !supported) return;
    installed = true;
    wxApi.onNeedPrivacyAuthorization((resolve, eventInfo) => {
      queue.push({ resolve, referrer: (eventInfo && eventInfo.referrer) || '' });
      notify();
    });
  }

  /**
   * `listener(state)` is called now and on every change of the queue; `state.pending` is how many
   * calls wait. Returns the function that unsubscribes.
   */
  function subscribe(listener) {
    install();
    subscribers.push(listener);
    listener(state());
    return () => {
      subscribers = subscribers.filter((entry) => entry !== listener);
    };
  }

  function settle(answer) {
    const waiting = queue;
    queue = [];
    for (const entry of waiting) entry.resolve(answer);
    notify();
  }

  /** Tells WeChat the app's own consent sheet is on screen for the waiting calls. */
  function shown() {
    for (const entry of queue) {
      if (!entry.exposed) {
        entry.exposed = true;
        entry.resolve({ event: 'exposureAuthorization' });
      }
    }
  }

  return {
    install,
    subscribe,
    shown,
    /**
     * The user agreed, with the `agreePrivacyAuthorization` button whose id is `buttonId` (WeChat
     * checks that this button fired): every waiting call goes on.
     */
    agree: (buttonId) => settle({ event: 'agree', buttonId }),
    /** The user declined: every waiting call fails, and the app carries on without them. */
    disagree: () => settle({ event: 'disagree' }),
    pending: () => queue.length,

    /** `{ needAuthorization, privacyContractName }`; nothing needed on a base library without it. */
    setting() {
      return new Promise((resolve) => {
        if (typeof wxApi.getPrivacySetting !== 'function') {
          resolve({ needAuthorization: false, privacyContractName: '' });
          return;
        }
        wxApi.getPrivacySetting({
          success: (res) =>
            resolve({
              needAuthorization: Boolean(res.needAuthorization),
              privacyContractName: res.privacyContractName || '',
            }),
          fail: () => resolve({ needAuthorization: false, privacyContractName: '' }),
        });
      });
    },

    /** Opens the privacy guide as declared in the admin console. */
    openContract() {
      return new Promise((resolve, reject) => {
        if (typeof wxApi.openPrivacyContract !== 'function') {
          resolve();
          return;
        }
        wxApi.openPrivacyContract({
          success: () => resolve(),
          fail: (res) => reject(new Error((res && res.errMsg) || 'openPrivacyContract failed')),
        });
      });
    },

    /**
     * Asks for consent when it is needed (through the listener, so the sheet shows) and resolves
     * once the user has it; rejects with `privacy_denied` when they decline. For components that
     * WeChat does not hold by itself, such as `<input type="nickname">`.
     */
    require() {
      return new Promise((resolve, reject) => {
        if (typeof wxApi.requirePrivacyAuthorize !== 'function') {
          resolve();
          return;
        }
        install();
        wxApi.requirePrivacyAuthorize({
          success: () => resolve(),
          fail: (res) => reject(privacyDenied(res && res.errMsg)),
        });
      });
    },
  };
}

let shared = null;

/** The app-wide instance, on the global `wx`. */
function instance() {
  if (!shared) shared = createPrivacy();
  return shared;
}

module.exports = {
  createPrivacy,
  isPrivacyRefusal,
  privacyDenied,
  install: () => instance().install(),
  subscribe: (listener) => instance().subscribe(listener),
  shown: () => instance().shown(),
  agree: (buttonId) => instance().agree(buttonId),
  disagree: () => instance().disagree(),
  pending: () => instance().pending(),
  setting: () => instance().setting(),
  openContract: () => instance().openContract(),
  require: () => instance().require(),
};
