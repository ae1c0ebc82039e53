'use strict';

const core = require('./lib/core.js');

App({
  onLaunch() {
    // Instantiate the token checks early so the first request does not wait for them.
    core.load().catch((error) => console.warn('wxlogin: token checks unavailable', error));
  },
});
