// What the user reads for each error code the kit can reject with. Pages show
// `messageFor(error)`; codes are the server's `error.code` plus the kit's own
// `network_error` and `wx_login_failed`.
'use strict';

const MESSAGES = {
  invalid_code: '登录凭证已失效，请重新点击登录',
  user_blocked: '该微信账号存在安全风险，暂时无法登录',
  rate_limited: '操作太频繁，请稍后再试',
  upstream_busy: '微信服务繁忙，请稍后重试',
  upstream_error: '微信服务暂时异常，请稍后重试',
  invalid_token: '登录已过期，请重新登录',
  network_error: '网络连接失败，请检查网络后重试',
  wx_login_failed: '无法获取微信登录凭证，请重试',
  server_misconfigured: '服务暂时不可用，请稍后再试',
  unavailable: '服务暂时不可用，请稍后再试',
  internal: '服务暂时不可用，请稍后再试',
};

function messageFor(error) {
  const code = error && error.code;
  return MESSAGES[code] || `操作失败，请稍后重试（${code || 'unknown'}）`;
}

module.exports = { MESSAGES, messageFor };
