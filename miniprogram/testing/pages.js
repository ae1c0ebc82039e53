// Drives mini program pages in Node: captures the options each page file passes to `Page(...)`,
// makes an instance with data/setData, and renders the page's WXML with WeChat's own compiler
// (wcc from miniprogram-compiler) so tests find and tap buttons, and fire the events of open-type
// buttons and inputs, as they are written in the WXML.
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

/** The one rendered node that `predicate` picks; `what` names it in the error. */
function single(page, what, predicate) {
  const found = findAll(render(page), predicate);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
  return found[0];
}

/** The rendered button with `open-type="<openType>"` (wcc calls the attribute openType). */
function openTypeButton(page, openType) {
  return single(page, `open-type="${openType}" button`, (node) => node.tag === 'wx-button' && node.attr.openType === openType);
}

/** The rendered `<input type="<type>">`. */
function input(page, type) {
  return single(page, `<input type="${type}">`, (node) => node.tag === 'wx-input' && node.attr.type === type);
}

/**
 * Fires `event` (`chooseavatar`, `blur`, ...) on a rendered node as the runtime would: nothing
 * happens when it is disabled, otherwise its `bind<event>` handler runs with `detail`. Returns
 * what the handler returned.
 */
function fire(page, node, event, detail) {
  if (node.attr.disabled === true) return undefined;
  const handler = node.attr[`bind${event}`];
  if (typeof handler !== 'string') throw new Error(`<${node.tag}> has no bind${event}`);
  if (typeof page[handler] !== 'function') throw new Error(`bind${event}="${handler}" is not a method of ${page.route}`);
  const target = { dataset: {} };
  return page[handler]({ type: event, detail: detail || {}, currentTarget: target, target });
}

/** The user picks an avatar: WeChat hands the page a temporary file. */
function chooseAvatar(page, avatarUrl) {
  return fire(page, openTypeButton(page, 'chooseAvatar'), 'chooseavatar', { avatarUrl });
}

/** The user types `value` into the nickname input, then leaves it (`blur`) or confirms it. */
function enterNickname(page, value, how = 'blur') {
  return fire(page, input(page, 'nickname'), how, { value });
}

/**
 * The user answers the getPhoneNumber prompt: `{ code }` when they allow it, or what WeChat
 * sends when they decline (`{ errMsg: 'getPhoneNumber:fail user deny' }`).
 */
function getPhoneNumber(page, detail) {
  return fire(page, openTypeButton(page, 'getPhoneNumber'), 'getphonenumber', detail);
}

/** All text the page shows. */
function shownText(page) {
  return textOf(render(page));
}

module.exports = {
  loadPage,
  render,
  findAll,
  textOf,
  button,
  tap,
  openTypeButton,
  input,
  fire,
  chooseAvatar,
  enterNickname,
  getPhoneNumber,
  shownText,
  compiledTemplates,
};
