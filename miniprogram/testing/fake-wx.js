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
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const CONTENT_TYPES = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };

function contentTypeOf(filePath) {
  return CONTENT_TYPES[path.extname(filePath).toLowerCase()] || 'application/octet-stream';
}

function createFakeWx(options = {}) {
  const log = [];
  const storage = new Map();
  const navigation = [];
  let codeCount = 0;

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
    setImmediate(() => {
      if (intercepted.fail) {
        entry.statusCode = 0;
        opts.fail && opts.fail({ errMsg: `${api}:fail ${intercepted.fail}` });
      } else {
        entry.statusCode = intercepted.statusCode;
        const res = Object.assign({}, intercepted, { errMsg: `${api}:ok` });
        if (api === 'uploadFile') {
          // wx.uploadFile's data is always a string.
          if (typeof res.data !== 'string') res.data = JSON.stringify(res.data);
        } else {
          res.header = res.header || {};
          res.cookies = [];
        }
        opts.success && opts.success(res);
      }
    });
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
     *  to answer it without the network, or `{ fail: 'message' }` to fail it as a network
     *  error. */
    intercept: null,

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

module.exports = { createFakeWx, devOpenid, devPhoneNumber };
