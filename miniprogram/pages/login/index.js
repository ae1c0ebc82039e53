'use strict';

const auth = require('../../lib/auth.js');
const { messageFor } = require('../../lib/messages.js');

Page({
  data: {
    busy: false,
    error: '',
  },

  onLoad() {
    // Stored tokens go straight on; the home page's request renews or re-logs in as needed.
    if (auth.hasSession()) wx.reLaunch({ url: '/pages/home/index' });
  },

  onLogin() {
    if (this.data.busy) return Promise.resolve();
    this.setData({ busy: true, error: '' });
    return auth.login().then(
      () => {
        this.setData({ busy: false });
        wx.reLaunch({ url: '/pages/home/index' });
      },
      (error) => {
        this.setData({ busy: false, error: messageFor(error) });
      },
    );
  },
});
