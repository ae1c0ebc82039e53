// A `wx` global for Node whose request and uploadFile do real HTTP (node:http, since fetch is
// gone; uploadFile sends a real multipart body read from a file on disk), whose
// login hands out codes the fake WeChat understands, and whose storage and navigation are
// in-memory and inspectable.
//
// Codes: the fake WeChat (FAKE_WECHAT_DEV=1) maps `label:anything` to an openid derived from the
// label (`devOpenid(label)`), and `err<errcode>:anything` to that WeChat errcode. `codePrefix`
// picks the user. getPhoneNumber codes come from the page's button, not from `wx`: tests make
// them up, and the fake WeChat in dev mode accepts any unknown one once (`err<errcode>:anything`
// fails with that errcode), revealing the number `devPhoneNumber(code)` computes.
//
// Privacy consent works as WeChat's does (base library 2.32.3+), see `createPrivacyGate` below:
// with `needPrivacyAuthorization: true` the personal-data APIs wait for the app's answer.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const CONTENT_TYPES = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };

function contentTypeOf(filePath) {
  return CONTENT_TYPES[path.extname(filePath).toLowerCase()] || 'application/octet-stream';
}

/** What WeChat answers a call refused for want of consent. */
const PRIVACY_REFUSED = 'privacy permission is not authorized';
/** WeChat's errno for that refusal. */
const PRIVACY_ERRNO = 104;
/** After a refusal, WeChat fails new calls at once for this long, without asking again. */
const REFUSAL_QUIET_MS = 10000;

/**
 * WeChat's privacy consent, as the docs describe it:
 * - only the last `onNeedPrivacyAuthorization` listener is active;
 * - while consent is needed, a gated API (the chooseAvatar and getPhoneNumber buttons,
 *   wx.chooseMedia, wx.requirePrivacyAuthorize) is held and the listener called with
 *   (resolve, { referrer }); without a listener WeChat shows its own popup (`builtInPopups`);
 * - `resolve({ event: 'agree', buttonId })` counts only after the button of that id, with
 *   open-type agreePrivacyAuthorization, fired its event (`tapAgreeButton`); otherwise it is
 *   ignored and kept in `ignoredAnswers`; the held call then goes on and consent is no longer
 *   needed (tapping the agree button alone already gives it);
 * - `resolve({ event: 'disagree' })` fails the held call ("…:fail privacy permission is not
 *   authorized"), and for 10 s new calls fail at once without asking;
 * - `resolve({ event: 'exposureAuthorization' })` only reports that the app's popup showed.
 * `now` is the clock for that 10 s.
 */
function createPrivacyGate({ needAuthorization, contractName, now }) {
  const gate = {
    needAuthorization: Boolean(needAuthorization),
    contractName,
    listener: null,
    registrations: 0,
    /** ids of agreePrivacyAuthorization buttons that fired. */
    agreeButtons: new Set(),
    /** Referrers the app reported its popup shown for. */
    exposures: [],
    /** Calls waiting for an answer: { referrer }. */
    held: [],
    /** Calls for which WeChat would have shown its own popup (no listener registered). */
    builtInPopups: [],
    /** resolve() calls WeChat ignores: an agree without its button, a second answer. */
    ignoredAnswers: [],
    refusedAt: null,
    contractOpened: 0,
  };

  /** A call of `referrer`: resolves when it may go on, rejects with WeChat's message when not. */
  gate.pass = (referrer) =>
    new Promise((resolve, reject) => {
      if (!gate.needAuthorization) return resolve();
      if (gate.refusedAt !== null && now() - gate.refusedAt < REFUSAL_QUIET_MS) {
        return reject(new Error(PRIVACY_REFUSED));
      }
      const held = { referrer, answered: false };
      gate.held.push(held);
      const settle = (ok) => {
        held.answered = true;
        gate.held = gate.held.filter((entry) => entry !== held);
        if (ok) {
          gate.needAuthorization = false;
          resolve();
        } else {
          gate.refusedAt = now();
          reject(new Error(PRIVACY_REFUSED));
        }
      };
      if (!gate.listener) {
        held.builtIn = settle;
        gate.builtInPopups.push(referrer);
        return undefined;
      }
      const listener = gate.listener;
      setImmediate(() =>
        listener(
          (answer) => {
            const event = answer && answer.event;
            if (held.answered) return gate.ignoredAnswers.push({ referrer, answer, why: 'already answered' });
            if (event === 'exposureAuthorization') return gate.exposures.push(referrer);
            if (event === 'disagree') return settle(false);
            if (event === 'agree' && gate.agreeButtons.has(answer.buttonId)) return settle(true);
            return gate.ignoredAnswers.push({ referrer, answer, why: 'no agree button of that id fired' });
          },
          { referrer },
        ),
      );
      return undefined;
    });

  /** The user taps the button `id` with open-type agreePrivacyAuthorization. */
  gate.tapAgreeButton = (id) => {
    gate.agreeButtons.add(id);
    gate.needAuthorization = false;
  };

  /** The user answers WeChat's own popup, shown because the app registered no listener. */
  gate.answerBuiltInPopups = (agree) => {
    for (const held of gate.held.filter((entry) => entry.builtIn)) held.builtIn(agree);
  };
  return gate;
}

function createFakeWx(options = {}) {
  const log = [];
  const storage = new Map();
  const navigation = [];
  let codeCount = 0;
  const clock = { now: () => Date.now() };
  const privacy = createPrivacyGate({
    needAuthorization: options.needPrivacyAuthorization,
    contractName: options.privacyContractName || '《wxlogin小程序隐私保护指引》',
    now: () => clock.now(),
  });

  /** `api` behind the privacy gate: `proceed()` when it may go on, else its fail callback. */
  function gated(api, referrer, opts, proceed) {
    privacy.pass(referrer).then(proceed, (error) =>
      opts.fail && opts.fail({ errMsg: `${api}:fail ${error.message}`, errno: PRIVACY_ERRNO }),
    );
  }

  function logEntry(kind, method, url, header) {
    const entry = {
      kind,
      method,
      url,
      path: new URL(url).pathname,
      authorization: header.Authorization || null,
    };
    log.push(entry);
    return entry;
  }

  /** Answers the call from `wx.intercept` when it wants to; true when it did. */
  function answerIntercepted(entry, opts, api) {
    const intercepted = wx.intercept && wx.intercept(entry, opts);
    if (!intercepted) return false;
    const deliver = (answer) => {
      if (answer.fail) {
        entry.statusCode = 0;
        opts.fail && opts.fail({ errMsg: `${api}:fail ${answer.fail}` });
      } else {
        entry.statusCode = answer.statusCode;
        const res = Object.assign({}, answer, { errMsg: `${api}:ok` });
        if (api === 'uploadFile') {
          // wx.uploadFile's data is always a string.
          if (typeof res.data !== 'string') res.data = JSON.stringify(res.data);
        } else {
          res.header = res.header || {};
          res.cookies = [];
        }
        opts.success && opts.success(res);
      }
    };
    // A promise answers when it settles: a server that takes its time.
    Promise.resolve(intercepted).then((answer) => setImmediate(() => deliver(answer)));
    return true;
  }

  /** The HTTP exchange behind request and uploadFile; `decode(bytes, res)` makes `data`. */
  function send(entry, { method, header, body, timeout }, opts, api, decode) {
    const req = http.request(
      new URL(entry.url),
      { method, headers: header, timeout: timeout || 60000, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          entry.statusCode = res.statusCode;
          const answer = { statusCode: res.statusCode, data: decode(Buffer.concat(chunks), res), errMsg: `${api}:ok` };
          if (api === 'request') {
            answer.header = res.headers;
            answer.cookies = [];
          }
          opts.success && opts.success(answer);
        });
      },
    );
    let answered = false;
    req.on('response', () => {
      answered = true;
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => {
      // A server may answer (a 413, say) and close before the whole body is written: the answer
      // is what the caller gets, as on a phone.
      if (answered) return;
      entry.statusCode = 0;
      opts.fail && opts.fail({ errMsg: `${api}:fail ${error.message}` });
    });
    if (body !== undefined) req.write(body);
    req.end();
    return { abort: () => req.destroy() };
  }

  const wx = {
    /** Every call made, in order: { kind ('request' or 'upload'), method, url, path,
     *  authorization, statusCode, and data (request) or filePath and name (upload) }. */
    log,
    storage,
    navigation,
    /** Codes handed out by wx.login, in order. */
    codes: [],
    /** Which user wx.login logs in as: `label` or `err40226` and so on. */
    codePrefix: options.codePrefix || 'user',
    /** Called before each request or upload with (entry, options); return a response object
     *  (or a promise of one) to answer it without the network, or `{ fail: 'message' }` to
     *  fail it as a network error. */
    intercept: null,
    /** The privacy consent state (see createPrivacyGate). */
    privacy,
    /** The clock WeChat's privacy rules go by: replace `clock.now` to move time. */
    clock,
    /** What wx.chooseMedia hands over next: [{ tempFilePath, size, fileType }]. */
    mediaToChoose: [],
    /** Titles set with setNavigationBarTitle, in order. */
    titles: [],

    onNeedPrivacyAuthorization(listener) {
      // WeChat keeps only the last one.
      privacy.listener = listener;
      privacy.registrations += 1;
    },

    getPrivacySetting({ success }) {
      setImmediate(() =>
        success({
          needAuthorization: privacy.needAuthorization,
          privacyContractName: privacy.contractName,
          errMsg: 'getPrivacySetting:ok',
        }),
      );
    },

    openPrivacyContract({ success }) {
      setImmediate(() => {
        privacy.contractOpened += 1;
        success && success({ errMsg: 'openPrivacyContract:ok' });
      });
    },

    requirePrivacyAuthorize(opts) {
      gated('requirePrivacyAuthorize', 'requirePrivacyAuthorize', opts, () =>
        opts.success && opts.success({ errMsg: 'requirePrivacyAuthorize:ok' }),
      );
    },

    chooseMedia(opts) {
      gated('chooseMedia', 'chooseMedia', opts, () => {
        const tempFiles = wx.mediaToChoose.splice(0, opts.count || 9);
        if (tempFiles.length === 0) return opts.fail && opts.fail({ errMsg: 'chooseMedia:fail cancel' });
        return opts.success && opts.success({ tempFiles, type: 'image', errMsg: 'chooseMedia:ok' });
      });
    },

    login({ success, fail }) {
      setImmediate(() => {
        if (wx.loginFails) return fail({ errMsg: 'login:fail' });
        codeCount += 1;
        const code = `${wx.codePrefix}:${codeCount}`;
        wx.codes.push(code);
        success({ code, errMsg: 'login:ok' });
      });
    },

    request(opts) {
      const method = (opts.method || 'GET').toUpperCase();
      const header = Object.assign({}, opts.header);
      const entry = logEntry('request', method, opts.url, header);
      entry.data = opts.data;
      if (answerIntercepted(entry, opts, 'request')) return { abort() {} };

      let body;
      if (opts.data !== undefined && method !== 'GET') {
        body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data);
        if (!Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) {
          header['Content-Type'] = 'application/json';
        }
      }
      return send(entry, { method, header, body, timeout: opts.timeout }, opts, 'request', (raw, res) => {
        // responseType 'arraybuffer' gives the bytes; otherwise text, parsed as JSON with
        // dataType 'json' when it parses, as wx.request does.
        if (opts.responseType === 'arraybuffer') {
          return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
        }
        const text = raw.toString('utf8');
        if ((opts.dataType || 'json') !== 'json') return text;
        try {
          return JSON.parse(text);
        } catch (_) {
          return text;
        }
      });
    },

    /**
     * wx.uploadFile: a multipart/form-data POST of the file at `filePath` (a path on this disk,
     * where WeChat would have a temporary file) under the field `name`, after any `formData`
     * fields. As on WeChat, `data` in the answer is always the body as a string, the caller
     * cannot set the Content-Type, and there is no response header.
     */
    uploadFile(opts) {
      const header = {};
      for (const [key, value] of Object.entries(opts.header || {})) {
        if (key.toLowerCase() !== 'content-type') header[key] = value;
      }
      const entry = logEntry('upload', 'POST', opts.url, header);
      entry.filePath = opts.filePath;
      entry.name = opts.name;
      if (answerIntercepted(entry, opts, 'uploadFile')) return { abort() {} };

      let file;
      try {
        file = fs.readFileSync(opts.filePath);
      } catch (error) {
        entry.statusCode = 0;
        setImmediate(() => opts.fail && opts.fail({ errMsg: `uploadFile:fail ${error.message}` }));
        return { abort() {} };
      }
      const boundary = `----wxfake${crypto.randomBytes(12).toString('hex')}`;
      const parts = [];
      for (const [key, value] of Object.entries(opts.formData || {})) {
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`));
      }
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${opts.name}"; ` +
            `filename="${path.basename(opts.filePath)}"\r\nContent-Type: ${contentTypeOf(opts.filePath)}\r\n\r\n`,
        ),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      );
      header['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
      const body = Buffer.concat(parts);
      return send(entry, { method: 'POST', header, body, timeout: opts.timeout }, opts, 'uploadFile', (raw) =>
        raw.toString('utf8'),
      );
    },

    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => {
      // Real storage keeps a JSON copy, not the object itself.
      storage.set(key, JSON.parse(JSON.stringify(value)));
    },
    removeStorageSync: (key) => {
      storage.delete(key);
    },

    reLaunch: ({ url }) => navigation.push({ method: 'reLaunch', url }),
    redirectTo: ({ url }) => navigation.push({ method: 'redirectTo', url }),
    navigateTo: ({ url }) => navigation.push({ method: 'navigateTo', url }),
    setNavigationBarTitle: ({ title }) => wx.titles.push(title),
    stopPullDownRefresh() {},
    showToast() {},
  };

  /** Requests to `path` so far. */
  wx.calls = (path) => log.filter((entry) => entry.path === path);
  return wx;
}

/**
 * The number the fake WeChat in dev mode reveals for an unknown phone code: +86 138 followed by
 * eight digits from SHA-256("wxlogin-fake-phone:" + code), as crates/fake-wechat/src/phone.rs
 * computes it.
 */
function devPhoneNumber(code) {
  const digest = crypto.createHash('sha256').update(`wxlogin-fake-phone:${code}`).digest();
  const number = digest.readBigUInt64BE(0) % 100000000n;
  return { countryCode: '86', pure: `138${number.toString().padStart(8, '0')}` };
}

/**
 * The openid the fake WeChat in dev mode gives for a login code `label:anything`: "o" followed by
 * the first 27 characters of base64url(SHA-256("wxlogin-fake-openid:" + label)), as
 * crates/fake-wechat/src/codes.rs computes it.
 */
function devOpenid(label) {
  const digest = crypto.createHash('sha256').update(`wxlogin-fake-openid:${label}`).digest();
  return `o${digest.toString('base64url').slice(0, 27)}`;
}

module.exports = { createFakeWx, devOpenid, devPhoneNumber, PRIVACY_REFUSED, PRIVACY_ERRNO };
