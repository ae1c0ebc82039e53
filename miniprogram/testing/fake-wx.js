// A `wx` global for Node whose request does real HTTP (node:http, since fetch is gone), whose
// login hands out codes the fake WeChat understands, and whose storage and navigation are
// in-memory and inspectable.
//
// Codes: the fake WeChat (FAKE_WECHAT_DEV=1) maps `label:anything` to an openid derived from the
// label, and `err<errcode>:anything` to that WeChat errcode. `codePrefix` picks the user.
'use strict';

const http = require('node:http');

function createFakeWx(options = {}) {
  const log = [];
  const storage = new Map();
  const navigation = [];
  let codeCount = 0;

  const wx = {
    /** Every request made, in order: { method, url, path, authorization, statusCode }. */
    log,
    storage,
    navigation,
    /** Codes handed out by wx.login, in order. */
    codes: [],
    /** Which user wx.login logs in as: `label` or `err40226` and so on. */
    codePrefix: options.codePrefix || 'user',
    /** Called before each request; return a response object to answer it without the network,
     *  or `{ fail: 'message' }` to fail it as a network error. */
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
      const url = new URL(opts.url);
      const header = Object.assign({}, opts.header);
      const entry = { method, url: opts.url, path: url.pathname, authorization: header.Authorization || null };
      log.push(entry);

      const intercepted = wx.intercept && wx.intercept(entry, opts);
      if (intercepted) {
        setImmediate(() => {
          if (intercepted.fail) {
            entry.statusCode = 0;
            opts.fail && opts.fail({ errMsg: `request:fail ${intercepted.fail}` });
          } else {
            entry.statusCode = intercepted.statusCode;
            opts.success && opts.success(Object.assign({ header: {}, cookies: [] }, intercepted));
          }
        });
        return { abort() {} };
      }

      let body;
      if (opts.data !== undefined && method !== 'GET') {
        body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data);
        if (!Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) {
          header['Content-Type'] = 'application/json';
        }
      }
      const req = http.request(
        url,
        { method, headers: header, timeout: opts.timeout || 60000, agent: false },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let data = text;
            // Like wx.request with dataType 'json': parse when it parses, else keep the text.
            if ((opts.dataType || 'json') === 'json') {
              try {
                data = JSON.parse(text);
              } catch (_) {
                data = text;
              }
            }
            entry.statusCode = res.statusCode;
            opts.success && opts.success({ statusCode: res.statusCode, data, header: res.headers, cookies: [] });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => {
        entry.statusCode = 0;
        opts.fail && opts.fail({ errMsg: `request:fail ${error.message}` });
      });
      if (body !== undefined) req.write(body);
      req.end();
      return { abort: () => req.destroy() };
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

module.exports = { createFakeWx };
