// Drives mini program pages in Node: captures the options each page file passes to `Page(...)`,
// makes an instance with data/setData, and renders the page's WXML with WeChat's own compiler
// (wcc from miniprogram-compiler) so tests find and tap buttons as they are written in the WXML.
'use strict';

const path = require('node:path');
const vm = require('node:vm');
const { wxmlToJs } = require('miniprogram-compiler');

const { MINIPROGRAM_ROOT } = require('./runtime.js');

let templates = null;

/** The compiled WXML of the whole mini program, as wcc produces it. */
function compiledTemplates() {
  if (!templates) {
    const source = wxmlToJs(MINIPROGRAM_ROOT);
    // wcc's output expects a browser-like `window`; give it a sandbox of its own.
    const sandbox = { console };
    sandbox.window = sandbox;
    vm.createContext(sandbox);
    templates = vm.runInContext(`(function (global) {${source}\n})`, sandbox)({});
  }
  return templates;
}

/** Loads `pages/<name>/index.js` fresh and returns an instance of the page it registers. */
function loadPage(route) {
  const file = path.join(MINIPROGRAM_ROOT, `${route}.js`);
  let options = null;
  const previous = globalThis.Page;
  globalThis.Page = (opts) => {
    options = opts;
  };
  try {
    delete require.cache[require.resolve(file)];
    require(file);
  } finally {
    globalThis.Page = previous;
  }
  if (!options) throw new Error(`${route}.js did not call Page()`);

  const page = { route, data: JSON.parse(JSON.stringify(options.data || {})) };
  for (const [key, value] of Object.entries(options)) {
    if (typeof value === 'function') page[key] = value;
  }
  page.setData = (patch) => {
    Object.assign(page.data, JSON.parse(JSON.stringify(patch)));
  };
  return page;
}

/** The page's virtual tree for its current data. */
function render(page) {
  return compiledTemplates()(`${page.route}.wxml`)(page.data, {}, {});
}

function textOf(node) {
  if (typeof node === 'string') return node;
  return (node.children || []).map(textOf).join('');
}

function findAll(node, predicate, found = []) {
  if (node && typeof node === 'object') {
    if (predicate(node)) found.push(node);
    for (const child of node.children || []) findAll(child, predicate, found);
  }
  return found;
}

/** The rendered button whose text is `label`. */
function button(page, label) {
  const buttons = findAll(render(page), (node) => node.tag === 'wx-button' && textOf(node).trim() === label);
  if (buttons.length !== 1) throw new Error(`expected one "${label}" button, found ${buttons.length}`);
  return buttons[0];
}

/**
 * Taps the button labelled `label` as the runtime would: nothing happens when it is disabled,
 * otherwise its `bindtap` handler runs. Returns what the handler returned.
 */
function tap(page, label) {
  const node = button(page, label);
  if (node.attr.disabled === true) return undefined;
  const handler = node.attr.bindtap;
  if (typeof page[handler] !== 'function') throw new Error(`bindtap="${handler}" is not a method of ${page.route}`);
  return page[handler]({ type: 'tap', currentTarget: { dataset: {} }, target: { dataset: {} } });
}

/** All text the page shows. */
function shownText(page) {
  return textOf(render(page));
}

module.exports = { loadPage, render, button, tap, shownText, compiledTemplates };
