// 授权登录, behind the user's consent: an unticked "我已阅读并同意《用户协议》和《隐私政策》"
// box that the user must tick themselves (a tap without it explains why instead of doing
// nothing), with both documents a tap away (pages/policy, text from policies.js). The login
// that follows records the consent on the server (auth.login({ consent: true })).
//
// The home page sends the user back here with `reason=policy_updated` when the server says the
// current policy has not been accepted yet (a newer version was published): the box starts
// unticked again and the page says why.
'use strict';

const auth = require('../../lib/auth.js');
const { messageFor } = require('../../lib/messages.js');

const REASONS = {
  policy_updated: '《隐私政策》已更新，请阅读并同意后继续使用',
};

Page({
  data: {
    agreed: false,
    busy: false,
    error: '',
    notice: '',
  },

  onLoad(options) {
    const reason = options && options.reason;
    if (REASONS[reason]) {
      // Asked again on purpose: stay, whatever tokens are stored.
      this.setData({ notice: REASONS[reason] });
      return;
    }
    // Stored tokens go straight on; the home page's request renews or re-logs in as needed.
    if (auth.hasSession()) wx.reLaunch({ url: '/pages/home/index' });
  },

  onAgreementChange(e) {
    const values = (e && e.detail && e.detail.value) || [];
    this.setData({ agreed: values.indexOf('agreed') !== -1, error: '' });
  },

  onOpenDocument(e) {
    const name = e && e.currentTarget && e.currentTarget.dataset && e.currentTarget.dataset.name;
    wx.navigateTo({ url: `/pages/policy/index?name=${name}` });
  },

  onLogin() {
    if (this.data.busy) return Promise.resolve();
    if (!this.data.agreed) {
      this.setData({ error: messageFor({ code: 'agreement_unchecked' }) });
      return Promise.resolve();
    }
    this.setData({ busy: true, error: '' });
    return auth.login({ consent: true }).then(
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
