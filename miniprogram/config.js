// Written by scripts/build-miniprogram.js from WXLOGIN_API_BASE (default
// http://127.0.0.1:8080, the address `just dev` serves on). To change it, set that variable
// and run `just miniprogram`. Production needs the domain whitelisted in the WeChat console.
'use strict';

module.exports = {
  apiBase: "http://127.0.0.1:8080",
};
