// Drives mini program pages in Node: captures the options each page file passes to `Page(...)`,
// makes an instance with data/setData, and renders the page's WXML with WeChat's own compiler
// (wcc from miniprogram-compiler) so tests find and tap buttons, and fire the events of open-type
// buttons and inputs, as they are written in the WXML.
//
// Custom components a page lists in `usingComponents` are made the same way from `Component(...)`,
// attached before the page's onLoad as in WeChat, and rendered in place of their tag; an event on
// a node inside one goes to that component's methods.
//
// Open-type buttons that need privacy consent (chooseAvatar, getPhoneNumber) go through the fake
// `wx`'s privacy gate (globalThis.wx.privacy) first, as WeChat holds them; the agree button
// (open-type agreePrivacyAuthorization) tells that gate it fired.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { wxmlToJs } = require('miniprogram-compiler');

const { PRIVACY_ERRNO, PRIVACY_REFUSED } = require('./fake-wx.js');
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

/** Runs `<route>.js` fresh with `registrar` (`Page` or `Component`) captured; returns its options. */
function captureOptions(route, registrar) {
  const file = path.join(MINIPROGRAM_ROOT, `${route}.js`);
  let options = null;
  const previous = globalThis[registrar];
  globalThis[registrar] = (opts) => {
    options = opts;
  };
  try {
    delete require.cache[require.resolve(file)];
    require(file);
  } finally {
    globalThis[registrar] = previous;
  }
  if (!options) throw new Error(`${route}.js did not call ${registrar}()`);
  return options;
}

/** `data` and a setData that stores a JSON copy, as the runtime does. */
function withData(instance, data) {
  instance.data = JSON.parse(JSON.stringify(data || {}));
  instance.setData = (patch) => {
    Object.assign(instance.data, JSON.parse(JSON.stringify(patch)));
  };
  return instance;
}

/** An instance of the component at `route` (such as `components/privacy-sheet/index`), attached. */
function loadComponent(route) {
  const options = captureOptions(route, 'Component');
  const component = withData({ route }, options.data);
  Object.assign(component, options.methods || {});
  const lifetimes = Object.assign({ attached: options.attached, detached: options.detached }, options.lifetimes);
  component.detach = () => lifetimes.detached && lifetimes.detached.call(component);
  if (lifetimes.attached) lifetimes.attached.call(component);
  return component;
}

/**
 * Loads `pages/<name>/index.js` fresh and returns an instance of the page it registers, with its
 * custom components attached (`page.components`, by tag).
 */
function loadPage(route) {
  const options = captureOptions(route, 'Page');
  const page = withData({ route }, options.data);
  for (const [key, value] of Object.entries(options)) {
    if (typeof value === 'function') page[key] = value;
  }
  const json = JSON.parse(fs.readFileSync(path.join(MINIPROGRAM_ROOT, `${route}.json`), 'utf8'));
  page.components = {};
  for (const [tag, target] of Object.entries(json.usingComponents || {})) {
    page.components[tag] = loadComponent(target.replace(/^\//, ''));
  }
  return page;
}

/** Closes the page as navigating away for good would: its components detach, then onUnload. */
function unload(page) {
  for (const component of Object.values(page.components || {})) component.detach();
  if (page.onUnload) page.onUnload();
}

/** Marks every node of `tree` as belonging to `owner`, whose methods its events call. */
function own(tree, owner) {
  if (tree && typeof tree === 'object') {
    Object.defineProperty(tree, 'owner', { value: owner, enumerable: false });
    for (const child of tree.children || []) own(child, owner);
  }
  return tree;
}

/** The virtual tree of `instance` (a page or component) for its current data. */
function renderOwn(instance) {
  return own(compiledTemplates()(`${instance.route}.wxml`)(instance.data, {}, {}), instance);
}

/** The page's virtual tree for its current data, its components' trees in place of their tags. */
function render(page) {
  const tree = renderOwn(page);
  for (const [tag, component] of Object.entries(page.components || {})) {
    for (const node of findAll(tree, (candidate) => candidate.tag === `wx-${tag}`)) {
      node.children = renderOwn(component).children;
    }
  }
  return tree;
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
  return fire(page, button(page, label), 'tap');
}

/** The one rendered node with a `bindtap` whose text is `text` (a link, say). */
function tappable(page, text) {
  return single(
    page,
    `tappable "${text}"`,
    (node) => Boolean(node.attr && node.attr.bindtap) && textOf(node).trim() === text,
  );
}

/** Taps the node with a `bindtap` whose text is `text`. Returns what the handler returned. */
function tapText(page, text) {
  return fire(page, tappable(page, text), 'tap');
}

/** The rendered checkbox (there must be one) and its checkbox-group. */
function checkbox(page) {
  const group = single(page, 'checkbox-group', (node) => node.tag === 'wx-checkbox-group');
  const [box] = findAll(group, (node) => node.tag === 'wx-checkbox');
  if (!box) throw new Error('the checkbox-group has no checkbox');
  return { group, box };
}

/**
 * The user taps the checkbox: it flips, and the group's `change` carries the values now ticked,
 * as WeChat sends them.
 */
function toggleCheckbox(page) {
  const { group, box } = checkbox(page);
  if (box.attr.disabled === true) return undefined;
  return fire(page, group, 'change', { value: box.attr.checked === true ? [] : [box.attr.value] });
}

/** The one rendered node that `predicate` picks; `what` names it in the error. */
function single(page, what, predicate) {
  const found = findAll(render(page), predicate);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
  return found[0];
}

/**
 * The rendered button with `open-type="<openType>"` (wcc calls the attribute openType); one of
 * several `|`-joined open types counts.
 */
function openTypeButton(page, openType) {
  return single(page, `open-type="${openType}" button`, (node) => hasOpenType(node, openType));
}

function hasOpenType(node, openType) {
  return node.tag === 'wx-button' && String(node.attr.openType || '').split('|').includes(openType);
}

/** Whether the page shows an `open-type="<openType>"` button at all. */
function hasOpenTypeButton(page, openType) {
  return findAll(render(page), (node) => hasOpenType(node, openType)).length > 0;
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
  return dispatch(page, node, event, detail);
}

/** `data-foo-bar` attributes as WeChat's `dataset.fooBar`. */
function datasetOf(node) {
  const dataset = {};
  for (const [key, value] of Object.entries(node.attr || {})) {
    if (key.startsWith('data-')) dataset[key.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = value;
  }
  return dataset;
}

/** Runs the node's `bind<event>` handler, disabled or not: for events WeChat sends regardless. */
function dispatch(page, node, event, detail) {
  const owner = node.owner || page;
  const handler = node.attr[`bind${event}`];
  if (typeof handler !== 'string') throw new Error(`<${node.tag}> has no bind${event}`);
  if (typeof owner[handler] !== 'function') throw new Error(`bind${event}="${handler}" is not a method of ${owner.route}`);
  const target = { id: node.attr.id || '', dataset: datasetOf(node) };
  return owner[handler]({ type: event, detail: detail || {}, currentTarget: target, target });
}

/** The fake `wx` the page runs on (testing/fake-wx.js), for its privacy gate. */
function currentWx() {
  if (!globalThis.wx || !globalThis.wx.privacy) throw new Error('no fake wx with a privacy gate installed');
  return globalThis.wx;
}

/**
 * A tap on an open-type button that needs consent: its `bindtap` runs, then WeChat holds the
 * action for consent when needed. Resolves with true once the action may go on, false when
 * consent was refused (or undefined when the button was disabled).
 */
async function pressGated(page, node, referrer) {
  if (node.attr.disabled === true) return undefined;
  if (node.attr.bindtap) dispatch(page, node, 'tap');
  return currentWx().privacy.pass(referrer).then(
    () => true,
    () => false,
  );
}

/**
 * The user taps the agree button of the consent sheet (open-type agreePrivacyAuthorization):
 * WeChat records it, then sends `agreeprivacyauthorization`.
 */
function agreePrivacy(page) {
  const node = openTypeButton(page, 'agreePrivacyAuthorization');
  if (node.attr.disabled === true) return undefined;
  currentWx().privacy.tapAgreeButton(node.attr.id);
  if (node.attr.bindtap) dispatch(page, node, 'tap');
  return dispatch(page, node, 'agreeprivacyauthorization');
}

/**
 * The user picks an avatar: WeChat hands the page a temporary file, once consent allows it (a
 * refused consent picks nothing). Resolves with what the handler returned.
 */
async function chooseAvatar(page, avatarUrl) {
  const node = openTypeButton(page, 'chooseAvatar');
  const allowed = await pressGated(page, node, 'button.chooseAvatar');
  if (!allowed) return undefined;
  return dispatch(page, node, 'chooseavatar', { avatarUrl });
}

/** The user types `value` into the nickname input, then leaves it (`blur`) or confirms it. */
function enterNickname(page, value, how = 'blur') {
  return fire(page, input(page, 'nickname'), how, { value });
}

/**
 * The user taps the getPhoneNumber button: its `bindtap` runs, then consent is asked for when
 * needed. Resolves with `{ answer(detail) }` while WeChat's phone sheet is open (`answer` is the
 * user's choice in it, delivered as `getphonenumber`), or with null once a refused consent has
 * been delivered as that event's failure, or undefined when the button was disabled.
 */
async function openPhoneSheet(page) {
  const node = openTypeButton(page, 'getPhoneNumber');
  const allowed = await pressGated(page, node, 'button.getPhoneNumber');
  if (allowed === undefined) return undefined;
  if (!allowed) {
    const refusal = { errMsg: `getPhoneNumber:fail ${PRIVACY_REFUSED}`, errno: PRIVACY_ERRNO };
    await dispatch(page, node, 'getphonenumber', refusal);
    return null;
  }
  return { answer: (detail) => dispatch(page, node, 'getphonenumber', detail) };
}

/**
 * The user taps the getPhoneNumber button and answers WeChat's sheet: `{ code }` when they allow
 * it, or what WeChat sends otherwise (`{ errMsg: 'getPhoneNumber:fail user deny' }`, or errno
 * 1400001 when the app's quota is spent).
 */
async function getPhoneNumber(page, detail) {
  const sheet = await openPhoneSheet(page);
  return sheet ? sheet.answer(detail) : undefined;
}

/** All text the page shows. */
function shownText(page) {
  return textOf(render(page));
}

module.exports = {
  loadPage,
  loadComponent,
  unload,
  render,
  findAll,
  textOf,
  button,
  tap,
  tappable,
  tapText,
  checkbox,
  toggleCheckbox,
  openTypeButton,
  hasOpenTypeButton,
  input,
  fire,
  agreePrivacy,
  chooseAvatar,
  enterNickname,
  openPhoneSheet,
  getPhoneNumber,
  shownText,
  compiledTemplates,
};
