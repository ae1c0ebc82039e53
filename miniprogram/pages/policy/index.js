// One of the app's own documents (the user agreement or the privacy policy), by `name`, with its
// text from policies.js.
'use strict';

const policies = require('../../policies.js');

Page({
  data: {
    title: '',
    paragraphs: [],
  },

  onLoad(options) {
    const name = options && options.name;
    const known = Object.prototype.hasOwnProperty.call(policies.documents, name);
    const document = policies.documents[known ? name : 'privacy'];
    this.setData({ title: document.title, paragraphs: document.paragraphs });
    wx.setNavigationBarTitle({ title: document.title });
  },
});
