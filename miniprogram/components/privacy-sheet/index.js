// The app's own privacy consent sheet. It shows itself while WeChat holds a personal-data call
// (lib/privacy.js queues them), names the privacy guide as wx.getPrivacySetting does, opens it
// with wx.openPrivacyContract, and answers every held call at once: the agree button (open-type
// agreePrivacyAuthorization, whose event WeChat requires before an agree counts) lets them go
// on, the decline button makes them fail with `privacy_denied`. Declining only closes the sheet:
// the page stays usable for what needs no personal data.
//
// Put `<privacy-sheet />` on every page that uses a personal-data API; the kit's one listener
// serves all of them.
'use strict';

const privacy = require('../../lib/privacy.js');

/** The agree button's id: WeChat checks that the button named in resolve() fired. */
const AGREE_BUTTON_ID = 'privacy-agree';

Component({
  data: {
    show: false,
    contractName: '',
    agreeButtonId: AGREE_BUTTON_ID,
  },

  lifetimes: {
    attached() {
      this.unsubscribe = privacy.subscribe((state) => this.onQueue(state));
    },
    detached() {
      if (this.unsubscribe) this.unsubscribe();
      this.unsubscribe = null;
    },
  },

  methods: {
    onQueue(state) {
      const show = state.pending > 0;
      // Every call held from now on is told the sheet is up, not only the first.
      if (show) privacy.shown();
      if (show === this.data.show) return;
      this.setData({ show });
      if (!show) return;
      // The guide's name as declared in the admin console (《…小程序隐私保护指引》).
      privacy.setting().then((setting) => this.setData({ contractName: setting.privacyContractName }));
    },

    onOpenContract() {
      return privacy.openContract().catch(() => {
        // The guide is WeChat's to show; nothing to add when it cannot.
      });
    },

    onAgree(e) {
      privacy.agree((e && e.currentTarget && e.currentTarget.id) || AGREE_BUTTON_ID);
    },

    onDisagree() {
      privacy.disagree();
    },
  },
});
