// Written by scripts/build-miniprogram.js from WXLOGIN_API_BASE (default
// http://127.0.0.1:8080, the address `just dev` serves on). Point it at your server here or
// through that variable; production needs the domain whitelisted in the WeChat console.
'use strict';

module.exports = {
  apiBase: "http://127.0.0.1:8080",
};
