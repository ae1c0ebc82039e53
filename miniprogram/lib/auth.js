// The wxlogin client kit: log in with WeChat, keep the tokens fresh, call the API.
//
// Copy this file, lib/core.js, lib/privacy.js, wasm/, config.js and policies.js into an app
// (base library 2.32.3 or newer for the privacy consent) and use:
//
//   const auth = require('./lib/auth.js');
//   const user = await auth.login();                     // wx.login + POST /api/auth/login
//   await auth.login({ consent: true });                 // …and record the privacy consent
//   const res = await auth.request({ url: '/api/me' });  // like wx.request, as a Promise
//   await auth.uploadFile({ url: '/api/me/avatar', filePath });  // like wx.uploadFile
//   await auth.logout();
//
// What it guarantees:
// - one wx.login at a time: concurrent login() calls share it (a second wx.login can rotate the
//   session_key under the first);
// - before each request the Rust core (WebAssembly) decides from the token's exp (against the
//   server's clock, as learned at login) whether to renew it; many concurrent requests with a
//   stale token renew it once, through POST /api/auth/refresh when the server gave a
//   refresh_token, otherwise by logging in again;
// - uploadFile() is request() for wx.uploadFile: same renewal, bearer token, retry and errors,
//   with the response body parsed as JSON;
// - a 401 `invalid_token` leads to one re-login and one retry, never more, so it cannot loop;
// - a login answered `invalid_code` (a code used or expired, as after a retry whose first answer
//   was lost) gets one new wx.login and one retry, never more;
// - a login on which the user ticked the consent box (`login({ consent: true })`) records it:
//   POST /api/me/consents with the privacy policy version of policies.js, unless the server
//   says this user has already accepted that version;
// - every failure rejects with an Error whose `code` is the server's `error.code`, or
//   `network_error` / `wx_login_failed` for failures that never reached the server.
//
// The app-wide instance also installs lib/privacy.js's wx.onNeedPrivacyAuthorization listener, so
// an app using the kit has its privacy consent sheet wired whichever page it opens first.
//
// It depends only on the `wx` global and the core module; `createAuth(options)` makes an instance
// with its own wx, clock and settings (tests use it).
'use strict';

const config = require('../config.js');
const policies = require('../policies.js');
const core = require('./core.js');
const privacy = require('./privacy.js');

const STORAGE_KEYS = {
  accessToken: 'wxlogin.access_token',
  refreshToken: 'wxlogin.refresh_token',
  user: 'wxlogin.user',
  clockOffset: 'wxlogin.clock_offset',
};

/** Renew when the access token has this many seconds or fewer left. */
const DEFAULT_RENEW_THRESHOLD = 300;
const DEFAULT_TIMEOUT_MS = 10000;

function apiError(code, message, status) {
  const error = new Error(message || code);
  error.code = code;
  if (status !== undefined) error.status = status;
  return error;
}

/**
 * `start` behind a gate: while one run is in flight, every caller gets that same promise; the
 * next call after it settles starts a new run.
 */
function singleFlight(start) {
  let flight = null;
  return () => {
    if (!flight) {
      flight = start();
      const settle = () => {
        flight = null;
      };
      flight.then(settle, settle);
    }
    return flight;
  };
}

function createAuth(options) {
  const opts = options || {};
  const wxApi = opts.wx || wx; // eslint-disable-line no-undef
  const apiBase = (opts.apiBase || config.apiBase).replace(/\/+$/, '');
  const now = opts.now || (() => Date.now() / 1000);
  const renewThreshold = opts.renewThreshold === undefined ? DEFAULT_RENEW_THRESHOLD : opts.renewThreshold;
  const timeout = opts.timeout || DEFAULT_TIMEOUT_MS;
  const loadCore = opts.loadCore || core.load;
  const privacyPolicyVersion = String(opts.privacyPolicyVersion || policies.version);

  // ---- storage ---------------------------------------------------------------------------

  function read(key) {
    try {
      return wxApi.getStorageSync(key) || null;
    } catch (_) {
      return null;
    }
  }

  function write(key, value) {
    if (value === undefined || value === null) {
      wxApi.removeStorageSync(key);
    } else {
      wxApi.setStorageSync(key, value);
    }
  }

  function accessToken() {
    return read(STORAGE_KEYS.accessToken);
  }

  /**
   * How far the server's clock is ahead of this phone's, in seconds. A phone whose clock is off
   * would otherwise judge every token stale (and renew on every request) or never stale. The
   * server says how long a new token lives (`expires_in`) and the token says when it ends
   * (`exp`, server time): the difference from the local clock is the offset, to within the
   * request's latency.
   */
  function learnClockOffset(body, rules) {
    if (!rules || typeof body.expires_in !== 'number') return;
    try {
      const offset = rules.readExpiry(body.access_token) - (now() + body.expires_in);
      write(STORAGE_KEYS.clockOffset, Math.round(offset));
    } catch (_) {
      // An unreadable token is dealt with when it is next used.
    }
  }

  function serverNow() {
    return now() + (Number(read(STORAGE_KEYS.clockOffset)) || 0);
  }

  function saveTokens(body, rules) {
    learnClockOffset(body, rules);
    write(STORAGE_KEYS.accessToken, body.access_token);
    // A login without a refresh_token (servers before refresh existed) drops any old one.
    write(STORAGE_KEYS.refreshToken, body.refresh_token || null);
  }

  function clearSession() {
    for (const key of Object.keys(STORAGE_KEYS)) {
      try {
        wxApi.removeStorageSync(STORAGE_KEYS[key]);
      } catch (_) {
        // Nothing better to do; the other keys are still cleared.
      }
    }
  }

  // ---- transport ---------------------------------------------------------------------------

  /** `path` on the API server; absolute URLs pass through. */
  function absoluteUrl(path) {
    return /^https?:\/\//.test(path) ? path : apiBase + path;
  }

  /** wx.request as a Promise that resolves for every HTTP status and rejects on no response. */
  function send(request) {
    return new Promise((resolve, reject) => {
      wxApi.request({
        url: absoluteUrl(request.url),
        method: request.method || 'GET',
        data: request.data,
        header: Object.assign({}, request.header),
        timeout: request.timeout || timeout,
        dataType: request.dataType || 'json',
        responseType: request.responseType || 'text',
        success: resolve,
        fail: (res) => reject(apiError('network_error', (res && res.errMsg) || 'request failed')),
      });
    });
  }

  /**
   * wx.uploadFile as a Promise shaped like send(): resolves for every HTTP status with `data`
   * parsed as JSON when it parses (wx.uploadFile hands the body over as a string), rejects on
   * no response.
   */
  function sendUpload(upload) {
    return new Promise((resolve, reject) => {
      wxApi.uploadFile({
        url: absoluteUrl(upload.url),
        filePath: upload.filePath,
        name: upload.name || 'file',
        formData: upload.formData,
        header: Object.assign({}, upload.header),
        timeout: upload.timeout || timeout,
        success: (res) => {
          let data = res.data;
          if (typeof data === 'string') {
            try {
              data = JSON.parse(data);
            } catch (_) {
              // Not JSON: keep the text, as wx.request does.
            }
          }
          resolve({ statusCode: res.statusCode, data, header: res.header || {} });
        },
        fail: (res) => reject(apiError('network_error', (res && res.errMsg) || 'upload failed')),
      });
    });
  }

  function errorFrom(res) {
    const body = res.data && typeof res.data === 'object' ? res.data.error : null;
    const error = body && body.code
      ? apiError(body.code, body.message, res.statusCode)
      : apiError('http_error', `HTTP ${res.statusCode}`, res.statusCode);
    // 429 and 503 say when to come back; pages can show or honour it.
    const header = res.header || {};
    const retryAfter = Number(header['Retry-After'] || header['retry-after']);
    if (retryAfter > 0) error.retryAfter = retryAfter;
    return error;
  }

  function errorCodeOf(res) {
    return res.data && typeof res.data === 'object' && res.data.error ? res.data.error.code : undefined;
  }

  function withToken(request, token) {
    const header = Object.assign({}, request.header, { Authorization: `Bearer ${token}` });
    return Object.assign({}, request, { header });
  }

  // ---- login ---------------------------------------------------------------------------------

  function wxLoginCode() {
    return new Promise((resolve, reject) => {
      wxApi.login({
        success: (res) =>
          res && res.code ? resolve(res.code) : reject(apiError('wx_login_failed', 'wx.login gave no code')),
        fail: (res) => reject(apiError('wx_login_failed', (res && res.errMsg) || 'wx.login failed')),
      });
    });
  }

  async function loginWithNewCode() {
    const code = await wxLoginCode();
    return send({ url: '/api/auth/login', method: 'POST', data: { code } });
  }

  async function loginOnce() {
    let res = await loginWithNewCode();
    // A code is single use: one the server already spent on a request whose answer never
    // arrived, or one that expired, is cured by a new one. Once only, so that a server refusing
    // every code cannot keep us calling wx.login.
    if (res.statusCode === 401 && errorCodeOf(res) === 'invalid_code') res = await loginWithNewCode();
    if (res.statusCode !== 200) throw errorFrom(res);
    saveTokens(res.data, await checks());
    write(STORAGE_KEYS.user, res.data.user);
    return res.data.user;
  }

  /** Log in with WeChat. Concurrent calls share one wx.login and one server call. */
  const loginShared = singleFlight(loginOnce);

  // ---- consent -------------------------------------------------------------------------------

  /**
   * Records on the server that the user accepted `privacyPolicyVersion` (it keeps the time, the
   * client's address and user agent with it) and marks the stored user as having done so.
   */
  async function recordConsent() {
    await request({ url: '/api/me/consents', method: 'POST', data: { version: privacyPolicyVersion } });
    const user = read(STORAGE_KEYS.user);
    if (user && user.consent_required) write(STORAGE_KEYS.user, Object.assign({}, user, { consent_required: false }));
  }

  /**
   * `login()`, and with `{ consent: true }` (the user ticked the box on this login) the consent
   * recorded right after it. A server that says this user already accepted the current version
   * (`consent_required: false`) is not asked again. When recording fails the login rejects with
   * that error, so the app never goes on with an unrecorded consent; the tokens stay, and the next
   * login({ consent: true }) records it.
   */
  async function login(loginOptions) {
    const user = await loginShared();
    if (!(loginOptions && loginOptions.consent) || (user && user.consent_required === false)) return user;
    await recordConsent();
    return read(STORAGE_KEYS.user) || user;
  }

  // ---- renewal -------------------------------------------------------------------------------

  async function renewOnce() {
    const refreshToken = read(STORAGE_KEYS.refreshToken);
    if (refreshToken) {
      const res = await send({ url: '/api/auth/refresh', method: 'POST', data: { refresh_token: refreshToken } });
      if (res.statusCode === 200 && res.data && res.data.access_token) {
        saveTokens(res.data, await checks());
        return res.data.access_token;
      }
      // A refresh token that is spent, revoked or unknown (or a server without refresh) ends
      // that session: log in again. Anything else (rate limits, outages) is the caller's error.
      if (res.statusCode !== 401 && res.statusCode !== 404) throw errorFrom(res);
    }
    await loginShared();
    return accessToken();
  }

  const renewShared = singleFlight(renewOnce);

  /**
   * A fresh access token in place of `stale`. Shared by every caller holding the same stale
   * token; a caller whose token was already replaced gets the replacement without a call.
   */
  function renew(stale) {
    const current = accessToken();
    if (current && current !== stale) return Promise.resolve(current);
    return renewShared();
  }

  /** After the server rejected `rejected`: one shared re-login, unless another caller did it. */
  async function reloginAfter(rejected) {
    const current = accessToken();
    if (current && current !== rejected) return current;
    await loginShared();
    return accessToken();
  }

  let coreUnavailable = false;

  async function checks() {
    if (coreUnavailable) return null;
    try {
      return await loadCore();
    } catch (error) {
      // Without the wasm core (a base library before 2.14) requests still work: they skip the
      // early renewal and rely on the 401 path.
      coreUnavailable = true;
      if (typeof console !== 'undefined') console.warn('wxlogin: token checks unavailable', error);
      return null;
    }
  }

  async function tokenForRequest() {
    const rules = await checks();
    const token = accessToken();
    if (!token) {
      await loginShared();
      return accessToken();
    }
    let stale = false;
    if (rules) {
      try {
        stale = rules.shouldRenew(token, serverNow(), renewThreshold);
      } catch (_) {
        // An unreadable token (corrupted storage, a foreign value) is replaced, not sent.
        stale = true;
      }
    }
    return stale ? renew(token) : token;
  }

  /**
   * Sends `options` through `transport` (send or sendUpload) with a token that is fresh by the
   * wasm core's judgement. A 401 `invalid_token` leads to one shared re-login and one retry;
   * the retry's answer is final, so this never loops. Resolves with a 2xx response, rejects
   * with an Error carrying the server's `code` (and `status`) otherwise.
   */
  async function authorized(transport, options) {
    let token = await tokenForRequest();
    let res = await transport(withToken(options, token));
    if (res.statusCode === 401 && errorCodeOf(res) === 'invalid_token') {
      token = await reloginAfter(token);
      res = await transport(withToken(options, token));
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    throw errorFrom(res);
  }

  // ---- public API ----------------------------------------------------------------------------

  /**
   * wx.request with the bearer token, as a Promise. Resolves with `{ statusCode, data, header }`
   * for a 2xx response; rejects with an Error carrying `code` (and `status`) otherwise.
   */
  function request(options) {
    return authorized(send, options);
  }

  /**
   * wx.uploadFile with the bearer token, as a Promise, with the same renewal, retry and errors
   * as request(). Takes wx.uploadFile's options (`url`, `filePath`, `name` (default 'file'),
   * `formData`, `header`, `timeout`) and resolves with `{ statusCode, data, header }` for a 2xx
   * response, `data` parsed as JSON when it parses.
   */
  function uploadFile(options) {
    return authorized(sendUpload, options);
  }

  /** Ends the session on the server (best effort) and here. Always resolves. */
  async function logout() {
    const token = accessToken();
    clearSession();
    if (!token) return;
    try {
      // The access token names the session; ending it also kills its refresh token.
      await send({ url: '/api/auth/logout', method: 'POST', header: { Authorization: `Bearer ${token}` } });
    } catch (_) {
      // The local session is gone either way; the server's token expires on its own.
    }
  }

  return {
    login,
    request,
    uploadFile,
    logout,
    recordConsent,
    /** The privacy policy version this app shows and records consent to. */
    privacyPolicyVersion,
    /**
     * Whether the server wants the user to accept the current policy (again): `user` as
     * GET /api/me answers it.
     */
    consentRequired: (user) => Boolean(user && user.consent_required),
    /** `path` (such as a user's `avatar_url`, which is server-relative) as a full URL. */
    url: (path) => (path ? absoluteUrl(path) : ''),
    /** Whether tokens are stored (they may still be expired: request() deals with that). */
    hasSession: () => Boolean(accessToken()),
    /** The user stored by the last login, or null. */
    currentUser: () => read(STORAGE_KEYS.user),
  };
}

let shared = null;

/** The app-wide instance, on the global `wx`, created on first use. */
function instance() {
  if (!shared) {
    shared = createAuth();
    privacy.install();
  }
  return shared;
}

module.exports = {
  createAuth,
  apiError,
  STORAGE_KEYS,
  login: (options) => instance().login(options),
  request: (options) => instance().request(options),
  uploadFile: (options) => instance().uploadFile(options),
  url: (path) => instance().url(path),
  logout: () => instance().logout(),
  recordConsent: () => instance().recordConsent(),
  consentRequired: (user) => instance().consentRequired(user),
  privacyPolicyVersion: () => instance().privacyPolicyVersion,
  hasSession: () => instance().hasSession(),
  currentUser: () => instance().currentUser(),
};
