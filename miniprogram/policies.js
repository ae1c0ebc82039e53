// The app's own user agreement and privacy policy, as the login page shows them, and the version
// of the privacy policy the user accepts there. `version` must equal the server's
// PRIVACY_POLICY_VERSION: the kit records the user's consent to it (POST /api/me/consents), and
// the server asks for consent again (`consent_required` in GET /api/me) once it names a newer
// one. To publish a new policy: change the text here, raise `version` here and on the server
// together.
//
// These are the app's documents, not WeChat's privacy guide (用户隐私保护指引), which is declared
// in the admin console and opened with wx.openPrivacyContract.
'use strict';

module.exports = {
  version: '1',
  documents: {
    agreement: {
      title: '用户协议',
      paragraphs: [
        '欢迎使用本小程序。你使用微信身份登录后，即可使用本小程序提供的账号服务。',
        '你应妥善保管自己的微信账号，不得冒用他人身份，不得利用本服务发布违法违规内容。昵称和头像会经过内容安全检查，未通过的不会被保存。',
        '我们可能因服务调整更新本协议；更新后你需重新阅读并同意，才能继续使用需要登录的功能。',
      ],
    },
    privacy: {
      title: '隐私政策',
      paragraphs: [
        '我们收集的信息：微信为你提供的身份标识（openid，绑定开放平台时还有 unionid）；你主动设置的昵称和头像；你授权后由微信验证的手机号。',
        '我们收集这些信息是为了让你登录、展示你的资料和联系你。登录时我们会记录你的网络地址和设备信息，用于账号安全。',
        '你同意本政策时，我们会记录所同意的版本、时间、网络地址和设备信息，作为你同意的凭证。',
        '你可以随时修改昵称和头像。不同意本政策不影响你浏览无需个人信息的内容。',
      ],
    },
  },
};
