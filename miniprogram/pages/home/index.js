'use strict';

const auth = require('../../lib/auth.js');
const { messageFor } = require('../../lib/messages.js');

Page({
  data: {
    user: null,
    loading: true,
    busy: false,
    error: '',
  },

  onLoad() {
    return this.loadUser();
  },

  onPullDownRefresh() {
    return this.loadUser().then(() => wx.stopPullDownRefresh());
  },

  loadUser() {
    this.setData({ loading: true, error: '' });
    return auth.request({ url: '/api/me' }).then(
      (res) => this.setData({ user: res.data, loading: false }),
      (error) => this.setData({ loading: false, error: messageFor(error) }),
    );
  },

  onLogout() {
    this.setData({ busy: true });
    return auth.logout().then(() => wx.reLaunch({ url: '/pages/login/index' }));
  },
});
