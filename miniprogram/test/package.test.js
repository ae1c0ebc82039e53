// What WeChat DevTools and the phone need from the folder as committed: CommonJS everywhere, a
// project config that opens without an AppID, WXML that WeChat's own compiler accepts, and a
// WebAssembly module inside its size budget with nothing iOS refuses.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');
const vm = require('node:vm');
const zlib = require('node:zlib');
const { wxmlToJs, wxssToJs } = require('miniprogram-compiler');

const ROOT = path.resolve(__dirname, '..');

function filesUnder(dir, suffix, found = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(full, suffix, found);
    else if (entry.name.endsWith(suffix)) found.push(full);
  }
  return found;
}

test('every JS file is CommonJS that runs without a compile step', () => {
  const files = filesUnder(ROOT, '.js');
  assert.ok(files.length > 10);
  for (const file of files) {
    const source = fs.readFileSync(file, 'utf8');
    // Compiling as a function body, as the runtime wraps each file, rejects import/export.
    assert.doesNotThrow(
      () => vm.compileFunction(source, ['require', 'module', 'exports'], { filename: file }),
      `${path.relative(ROOT, file)} is not a plain script`,
    );
    assert.doesNotMatch(source, /\bimport\s*\.\s*meta\b|\bimport\s*\(/, path.relative(ROOT, file));
  }
});

test('project.config.json opens with the tourist AppID against a local server', () => {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'));
  assert.equal(config.appid, 'touristappid');
  assert.equal(config.compileType, 'miniprogram');
  assert.equal(config.setting.urlCheck, false);
  // The privacy consent APIs (wx.onNeedPrivacyAuthorization, getPrivacySetting,
  // requirePrivacyAuthorize, open-type agreePrivacyAuthorization) need base library 2.32.3, above
  // the 2.21.2 of the profile components: DevTools is to run that one, not whichever it defaults to.
  assert.equal(config.libVersion, '2.32.3');
  const ignored = config.packOptions.ignore;
  assert.ok(ignored.some((rule) => rule.type === 'suffix' && rule.value === '.wasm'), 'raw .wasm is packed');
  assert.ok(
    ignored.some((rule) => rule.type === 'file' && rule.value === 'wasm/inputs.sha256'),
    'the build stamp is packed',
  );
  for (const folder of ['test', 'testing', 'bench']) {
    assert.ok(ignored.some((rule) => rule.type === 'folder' && rule.value === folder), `${folder}/ is packed`);
  }
});

test('every page in app.json has its four files, and so does every component it uses', () => {
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
  assert.deepEqual(app.pages, ['pages/login/index', 'pages/home/index', 'pages/policy/index', 'pages/qr-login/index']);
  // Enforced for every version since 2023-10-17 whatever app.json says: the flag only misleads.
  assert.equal(Object.hasOwn(app, '__usePrivacyCheck__'), false);
  const components = new Set();
  for (const page of app.pages) {
    for (const ext of ['.js', '.json', '.wxml', '.wxss']) {
      assert.ok(fs.existsSync(path.join(ROOT, page + ext)), page + ext);
    }
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, `${page}.json`), 'utf8'));
    for (const target of Object.values(json.usingComponents || {})) components.add(target.replace(/^\//, ''));
  }
  assert.ok(components.has('components/privacy-sheet/index'), 'the home page shows the consent sheet');
  for (const component of components) {
    for (const ext of ['.js', '.json', '.wxml', '.wxss']) {
      assert.ok(fs.existsSync(path.join(ROOT, component + ext)), component + ext);
    }
    assert.equal(JSON.parse(fs.readFileSync(path.join(ROOT, `${component}.json`), 'utf8')).component, true);
  }
});

test('the API base comes from config.js alone', () => {
  const config = require('../config.js');
  assert.match(config.apiBase, /^https?:\/\/[^/]+$/);
  const sources = ['lib', 'pages', 'components'].flatMap((dir) => filesUnder(path.join(ROOT, dir), '.js'));
  for (const file of sources) {
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /https?:\/\/\d/, `${path.relative(ROOT, file)} hard-codes an address`);
  }
});

test('every .wxml compiles with wcc', () => {
  const wxml = filesUnder(ROOT, '.wxml');
  assert.ok(wxml.length >= 2);
  const output = wxmlToJs(ROOT);
  for (const file of wxml) {
    assert.ok(output.includes(path.relative(ROOT, file)), `${file} was not compiled`);
  }
});

test('every .wxss compiles with wcsc', () => {
  const wxss = filesUnder(ROOT, '.wxss');
  assert.ok(wxss.length >= 3, 'app.wxss and one per page');
  const output = wxssToJs(ROOT);
  for (const file of wxss) {
    assert.ok(output.includes(`'${path.relative(ROOT, file)}'`), `${file} was not compiled`);
  }
});

test('wcc does reject broken WXML (so the check above means something)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxml-'));
  try {
    fs.writeFileSync(path.join(dir, 'broken.wxml'), '<view><button bindtap="x">unclosed</view>\n');
    assert.throws(() => wxmlToJs(dir), /broken\.wxml/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped module is within budget and exports nothing iOS refuses', () => {
  const compressed = fs.readFileSync(path.join(ROOT, 'wasm', 'wxlogin_core_bg.wasm.br'));
  assert.ok(compressed.length <= 16 * 1024, `${compressed.length} bytes`);
  const module = new WebAssembly.Module(zlib.brotliDecompressSync(compressed));
  const exports = WebAssembly.Module.exports(module);
  assert.deepEqual(
    exports.filter((e) => e.kind !== 'function' && e.kind !== 'memory'),
    [],
    'only functions and memory are exported',
  );
  for (const name of ['readExpiry', 'isExpired', 'shouldRenew']) {
    assert.ok(exports.some((e) => e.name === name), name);
  }
  assert.deepEqual(WebAssembly.Module.customSections(module, 'target_features'), []);
});
