'use strict';

const core = require('./lib/core.js');
const privacy = require('./lib/privacy.js');

App({
  onLaunch() {
    // The app's one wx.onNeedPrivacyAuthorization listener, before any page can use a
    // personal-data API; pages show the consent sheet through lib/privacy.js, never by
    // registering a listener of their own (WeChat keeps only the last one).
    privacy.install();
    // Instantiate the token checks early so the first request does not wait for them.
    core.load().catch((error) => console.warn('wxlogin: token checks unavailable', error));
  },
});
