// Names the browser and the operating system in a User-Agent header, for the scan-to-login page
// to ask "在 Chrome / Windows 上登录?". Only the families a person recognises; versions are left
// out on purpose (Chrome has frozen most of them anyway). Unknown parts are null.
'use strict';

// Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", and every iOS browser
// is Safari underneath but names itself with its own token.
const BROWSERS = [
  ['微信', /MicroMessenger\//],
  ['Edge', /\bEdg(?:e|A|iOS)?\//],
  ['Opera', /\b(?:OPR|OPT|Opera)\//],
  ['Firefox', /\b(?:Firefox|FxiOS)\//],
  ['Chrome', /\b(?:Chrome|HeadlessChrome|CriOS|Chromium)\//],
  ['Safari', /\bVersion\/[\d.]+.*\bSafari\//],
];

// Android and ChromeOS before Linux, whose name they carry; iOS before macOS, since an iPad
// asking for the desktop site says "Macintosh".
const SYSTEMS = [
  ['Windows', /\bWindows\b/],
  ['Android', /\bAndroid\b/],
  ['iOS', /\b(?:iPhone|iPad|iPod)\b/],
  ['macOS', /\bMac OS X\b|\bMacintosh\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['Linux', /\bLinux\b|\bX11\b/],
];

function firstMatch(list, userAgent) {
  const found = list.find(([, pattern]) => pattern.test(userAgent));
  return found ? found[0] : null;
}

/** `{ browser, os }` for a User-Agent header, each null when not recognised. */
function parseUserAgent(userAgent) {
  const text = typeof userAgent === 'string' ? userAgent : '';
  return { browser: firstMatch(BROWSERS, text), os: firstMatch(SYSTEMS, text) };
}

/** "Chrome / Windows", "Chrome", "Windows", or null when neither is known. */
function describeUserAgent(userAgent) {
  const { browser, os } = parseUserAgent(userAgent);
  const parts = [browser, os].filter(Boolean);
  return parts.length ? parts.join(' / ') : null;
}

module.exports = { parseUserAgent, describeUserAgent };
