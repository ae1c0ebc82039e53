// What the user reads for each error code the kit can reject with. Pages show
// `messageFor(error)`, or `messageFor(error, overrides)` where a code means something more
// precise in that place (an `invalid_request` for a nickname is about the nickname). Codes are
// the server's `error.code` plus the kit's own `network_error`, `wx_login_failed` and
// `privacy_denied`, and the pages' own; every code in docs/error-codes.json needs a text here
// (test/messages.test.js checks).
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
  // The app asked for something this server does not have or does not allow: an app newer or
  // older than the server.
  not_found: '请求的内容不存在，请更新小程序后重试',
  method_not_allowed: '暂不支持该操作，请更新小程序后重试',
  token_reused: '登录已失效，请重新登录',
  invalid_request: '提交的内容不符合要求，请检查后重试',
  invalid_phone_code: '手机号授权已失效，请重新点击获取手机号',
  wechat_token_unavailable: '暂时无法连接微信接口，请稍后重试',
  session_key_stale: '微信登录状态已过期，请重新登录后再试',
  invalid_encrypted_data: '微信数据校验失败，请重新授权后再试',
  unsupported_media_type: '仅支持 PNG、JPEG 或 WebP 格式的图片',
  payload_too_large: '图片太大，请选择 1 MB 以内的图片',
  // The request did not reach the server in time: a network that stalls mid-upload.
  request_timeout: '网络连接超时，请稍后重试',
  // Only the team's other services can get it (token introspection), never the mini program.
  invalid_client: '服务暂时不可用，请稍后再试',
  // The page's own: WeChat gave no phone code for a reason other than the user declining.
  phone_unavailable: '暂时无法获取手机号，请稍后再试',
  // Only WeChat's message push can get it (a bad signature), never the mini program.
  invalid_signature: '服务暂时不可用，请稍后再试',
  // The server's: WeChat's content check refused the text (a nickname, say).
  content_rejected: '内容未通过微信安全检查，请修改后重试',
  // The kit's: the user declined the privacy consent sheet; only what needs personal data stops.
  privacy_denied: '你未同意隐私保护指引，暂时无法使用该功能；其他功能不受影响',
  // The page's own: getPhoneNumber answered errno 1400001, the app's paid quota is used up.
  phone_quota_exhausted: '手机号验证次数已用完，请稍后再试或联系客服',
  // The login page's own: 授权登录 tapped before ticking the consent box.
  agreement_unchecked: '请先阅读并勾选同意《用户协议》和《隐私政策》',
  // Scan-to-login (pages/qr-login): the ticket in the code a browser shows.
  ticket_taken: '该二维码已被其他微信账号扫描，请在电脑上刷新二维码后重新扫码',
  ticket_not_scanned: '请先扫描电脑上的二维码',
  ticket_expired: '二维码已过期，请在电脑上刷新后重新扫码',
  ticket_used: '该二维码已使用，请在电脑上刷新后重新扫码',
  // Making the code failed on WeChat's side: the server's page or scene settings are wrong.
  qr_page_unpublished: '登录二维码暂时无法生成，请稍后再试',
  qr_scene_invalid: '二维码内容无效，请在电脑上刷新后重新扫码',
  // A browser's session from scan-to-login asked for the mini program's WeChat session_key.
  mini_program_session_required: '请在小程序中进行此操作',
};

/** Where a code means something more precise than MESSAGES says, per place it can come from. */
const NICKNAME_MESSAGES = {
  invalid_request: '昵称需为 1 到 32 个字，至少含一个可见字符，且不能包含控制字符或不可见字符',
  content_rejected: '该昵称未通过微信内容安全检查，请换一个',
};

/** On the scan-to-login page, an unknown ticket is a code that is no longer valid. */
const QR_LOGIN_MESSAGES = {
  not_found: '二维码已失效，请在电脑上刷新后重新扫码',
};

function messageFor(error, overrides) {
  const code = error && error.code;
  return (overrides && overrides[code]) || MESSAGES[code] || `操作失败，请稍后重试（${code || 'unknown'}）`;
}

module.exports = { MESSAGES, NICKNAME_MESSAGES, QR_LOGIN_MESSAGES, messageFor };
