#!/usr/bin/env node
// Builds the mini program's generated files from crates/core-wasm:
//
//   miniprogram/wasm/wxlogin_core_bg.wasm.br  the Rust token checks, WebAssembly 1.0, brotli
//   miniprogram/wasm/wxlogin_core.js          wasm-bindgen's glue, turned into CommonJS
//   miniprogram/wasm/shim.js                  WebAssembly/TextEncoder/TextDecoder on WeChat
//   miniprogram/wasm/inputs.sha256            the hash of everything the three above are built from
//   miniprogram/config.js                     the API base URL (env WXLOGIN_API_BASE)
//
// and compiles every .wxml with WeChat's own compiler. The files are committed so that WeChat
// DevTools opens miniprogram/ as cloned. `--check` builds the same way but writes nothing, and
// fails when anything differs from what is in miniprogram/ (the wasm is compared decompressed,
// so a different brotli in another Node version does not count as a change).
//
// `--if-stale` (with or without `--check`) first compares the hash of the inputs with the one
// committed in wasm/inputs.sha256. While they match, the committed files stand as they are and
// no wasm tool is needed; this is how `just dev` and `just test` run. Only when they differ does
// it install the wasm tools (scripts/bootstrap.sh wasm) and build. CI's `just miniprogram-check`
// always builds and compares.
//
// Why each step exists, in short: WeChat on iOS rejects modules that use post-MVP features
// (hence the MVP target features and wasm-opt's lowering), and its runtime has no WebAssembly,
// TextDecoder or fetch (hence the shim in wasm/shim.js).
'use strict';

const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.resolve(__dirname, '..');
const MINIPROGRAM = path.join(ROOT, 'miniprogram');
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const CRATE = 'wxlogin-core-wasm';
const TARGET = 'wasm32-unknown-unknown';
const PROFILE = 'wasm';
const OUT_NAME = 'wxlogin_core';
const SIZE_BUDGET = 16 * 1024;
const DEFAULT_API_BASE = 'http://127.0.0.1:8080';

// Files the build writes, relative to miniprogram/.
const GENERATED = {
  wasm: `wasm/${OUT_NAME}_bg.wasm.br`,
  glue: `wasm/${OUT_NAME}.js`,
  shim: 'wasm/shim.js',
  stamp: 'wasm/inputs.sha256',
  config: 'config.js',
};

function main() {
  const check = process.argv.includes('--check');
  if (process.argv.includes('--if-stale')) {
    if (committedInputsHash() === inputsHash()) {
      keepCommitted(check);
      return;
    }
    console.log(
      'miniprogram: crates/core or the build changed since the committed wasm was built; rebuilding.\n' +
        '  The first rebuild on a machine installs wasm-bindgen-cli (about 10 minutes on 2 cores).',
    );
    run('bash', [path.join(__dirname, 'bootstrap.sh'), 'wasm']);
  }
  // A folder per run: two builds at once (an editor's and a test run's) must not share files.
  fs.mkdirSync(TARGET_DIR, { recursive: true });
  const work = fs.mkdtempSync(path.join(TARGET_DIR, 'miniprogram-'));
  try {
    build(work, check);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function build(work, check) {
  const pin = pinnedWasmBindgen();
  const raw = cargoBuild();
  const stripped = path.join(work, 'core.wasm');
  fs.writeFileSync(stripped, stripCustomSections(fs.readFileSync(raw), ['target_features']));

  const bindgenOut = path.join(work, 'bindgen');
  wasmBindgen(pin, stripped, bindgenOut);

  const glueSource = fs.readFileSync(path.join(bindgenOut, `${OUT_NAME}.js`), 'utf8');
  const unexported = path.join(work, 'unexported.wasm');
  fs.writeFileSync(unexported, dropGlobalExports(fs.readFileSync(path.join(bindgenOut, `${OUT_NAME}_bg.wasm`)), glueSource));

  const optimized = path.join(work, `${OUT_NAME}_bg.wasm`);
  wasmOpt(unexported, optimized);
  const wasm = fs.readFileSync(optimized);
  checkMvpShape(wasm);

  const files = {
    [GENERATED.wasm]: brotli(wasm),
    [GENERATED.glue]: commonJsGlue(glueSource, pin, rustcVersion()),
    [GENERATED.shim]: shim(),
    [GENERATED.stamp]: stampFile(inputsHash()),
    [GENERATED.config]: configJs(process.env.WXLOGIN_API_BASE || DEFAULT_API_BASE),
  };

  const size = files[GENERATED.wasm].length;
  console.log(
    `miniprogram: ${GENERATED.wasm} ${size} bytes (${(size / 1024).toFixed(1)} KB brotli, ` +
      `${wasm.length} bytes raw; budget ${SIZE_BUDGET / 1024} KB)`,
  );
  if (size > SIZE_BUDGET) fail(`the brotli module is ${size} bytes, over the ${SIZE_BUDGET}-byte budget`);

  compileWxml();

  if (check) {
    if (!matchesCommitted(GENERATED.stamp, files[GENERATED.stamp])) {
      fail(`${GENERATED.stamp} is not the hash of the current inputs: run \`just miniprogram\` and commit the result`);
    }
    // Another rustc emits other (equally valid) bytes. Outside CI that is not the developer's
    // fault, so say so and rely on the MVP, size and wcc checks above; CI builds with the rustc
    // the files were made with and compares strictly.
    const committedWith = builtWith();
    if (!process.env.CI && committedWith && committedWith !== rustcVersion()) {
      console.log(
        `miniprogram: committed files were built with ${committedWith}, this machine has ` +
          `${rustcVersion()}; byte comparison left to CI (MVP, size and WXML checks passed)`,
      );
      return;
    }
    const stale = Object.keys(files).filter((name) => !matchesCommitted(name, files[name]));
    if (stale.length > 0) {
      fail(
        `generated files differ from the build: ${stale.join(', ')}\n` +
          '  run `just miniprogram` and commit the result',
      );
    }
    console.log('miniprogram: generated files are up to date');
  } else {
    writeAll(MINIPROGRAM, files);
    console.log(`miniprogram: wrote ${Object.keys(files).map((f) => `miniprogram/${f}`).join(', ')}`);
  }
}

/**
 * The committed build is current: only config.js, which needs no tool, is brought in line with
 * WXLOGIN_API_BASE (or, under --check, compared), and the WXML still has to compile.
 */
function keepCommitted(check) {
  const config = configJs(process.env.WXLOGIN_API_BASE || DEFAULT_API_BASE);
  compileWxml();
  if (check) {
    if (!matchesCommitted(GENERATED.config, config)) {
      fail(`${GENERATED.config} differs from the build: run \`just miniprogram\` and commit the result`);
    }
    console.log(
      'miniprogram: inputs unchanged since the committed wasm was built; WXML compiles ' +
        '(`just miniprogram-check` rebuilds and compares byte for byte)',
    );
    return;
  }
  if (!matchesCommitted(GENERATED.config, config)) writeAll(MINIPROGRAM, { [GENERATED.config]: config });
  console.log('miniprogram: generated files are current (inputs unchanged since they were built)');
}

/**
 * SHA-256 over everything the wasm, its glue and the shim are built from: the two crates'
 * manifests and sources, the parts of the workspace manifest and lock file that reach them, the
 * build script, the shim's source and the wasm-opt version. A server dependency or a test does
 * not count, so that changing one does not send everyone through a wasm rebuild.
 */
function inputsHash() {
  const hash = crypto.createHash('sha256');
  const add = (name, content) => hash.update(`${name}\0${content.length}\0`).update(content);
  const crates = ['core', 'core-wasm'].map((name) => path.join(ROOT, 'crates', name));
  const files = crates.flatMap((dir) => [
    path.join(dir, 'Cargo.toml'),
    ...['build.rs'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f)),
    ...filesUnder(path.join(dir, 'src')),
  ]);
  files.push(__filename, path.join(__dirname, 'miniprogram', 'wasm-shim.js'));
  for (const file of files.sort()) add(path.relative(ROOT, file), fs.readFileSync(file));
  const manifests = crates.map((dir) => fs.readFileSync(path.join(dir, 'Cargo.toml'), 'utf8'));
  add('Cargo.toml', workspaceManifestFor(fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'), manifests));
  add('Cargo.lock', lockedClosure(fs.readFileSync(path.join(ROOT, 'Cargo.lock'), 'utf8'), CRATE));
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  add('binaryen', (lock.packages['node_modules/binaryen'] || {}).version || 'none');
  return hash.digest('hex');
}

function filesUnder(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return []; // editor swap files and the like
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

/**
 * The workspace manifest without what cannot reach the wasm build: comments, the member lists,
 * the profiles other than `wasm` and the `release` it inherits from, and the shared dependencies
 * that neither crate uses.
 */
function workspaceManifestFor(manifest, crateManifests) {
  const used = new Set(crateManifests.flatMap((text) => [...text.matchAll(/^([A-Za-z0-9_-]+)(?:\.workspace)?\s*=/gm)].map((m) => m[1])));
  let section = '';
  return manifest
    .split('\n')
    .filter((line) => {
      if (/^\s*(#|$)/.test(line)) return false;
      const header = line.match(/^\s*\[([^\]]+)\]/);
      if (header) section = header[1];
      if (section === 'workspace') return !/^\s*(default-)?members\s*=/.test(line);
      if (section.startsWith('profile.')) return /^profile\.(wasm|release)(\.|$)/.test(section);
      if (section !== 'workspace.dependencies' || header) return true;
      const key = line.match(/^\s*([A-Za-z0-9_-]+)\s*=/);
      return key !== null && used.has(key[1]);
    })
    .join('\n');
}

/** The Cargo.lock entries of `root` and everything it depends on, in lock file order. */
function lockedClosure(lockFile, root) {
  const entries = lockFile.split(/^\[\[package\]\]\n/m).slice(1).map((text) => ({
    text,
    name: text.match(/^name = "([^"]+)"/m)[1],
    version: text.match(/^version = "([^"]+)"/m)[1],
    deps: [...(text.match(/^dependencies = \[([^\]]*)\]/m) || ['', ''])[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]),
  }));
  // A dependency is written "name" when the lock has one version of it, else "name version".
  const find = (spec) => {
    const [name, version] = spec.split(' ');
    return entries.filter((e) => e.name === name && (version === undefined || e.version === version));
  };
  const reached = new Set();
  const visit = (entry) => {
    if (reached.has(entry)) return;
    reached.add(entry);
    for (const dep of entry.deps) find(dep).forEach(visit);
  };
  const start = find(root);
  if (start.length === 0) fail(`Cargo.lock has no ${root}`);
  start.forEach(visit);
  return entries.filter((e) => reached.has(e)).map((e) => e.text).join('[[package]]\n');
}

function stampFile(hash) {
  return [
    '# Written by scripts/build-miniprogram.js: SHA-256 of the inputs of the files in this folder.',
    '# While it matches, `just dev` and `just test` use them as committed, with no wasm tools.',
    hash,
    '',
  ].join('\n');
}

function committedInputsHash() {
  try {
    const text = fs.readFileSync(path.join(MINIPROGRAM, GENERATED.stamp), 'utf8');
    return text.split('\n').find((line) => /^[0-9a-f]{64}$/.test(line)) || null;
  } catch {
    return null;
  }
}

/** The exact wasm-bindgen version crates/core-wasm pins with `=`. */
function pinnedWasmBindgen() {
  const manifest = fs.readFileSync(path.join(ROOT, 'crates', 'core-wasm', 'Cargo.toml'), 'utf8');
  const match = manifest.match(/^wasm-bindgen\s*=\s*\{[^}]*version\s*=\s*"=([0-9.]+)"/m);
  if (!match) fail('crates/core-wasm/Cargo.toml must pin wasm-bindgen with an exact "=X.Y.Z" version');
  return match[1];
}

function cargoBuild() {
  // target-cpu=mvp keeps rustc's own code MVP. The remaps keep absolute paths (which differ per
  // checkout and per CARGO_HOME) out of panic locations, so every machine builds the same bytes.
  const cargoHome = process.env.CARGO_HOME || path.join(os.homedir(), '.cargo');
  const flags = [
    '-C',
    'target-cpu=mvp',
    `--remap-path-prefix=${ROOT}=`,
    `--remap-path-prefix=${cargoHome}=/cargo`,
  ];
  console.log('miniprogram: compiling crates/core-wasm to WebAssembly (under a minute)');
  run('cargo', ['build', '--profile', PROFILE, '--target', TARGET, '-p', CRATE], {
    env: { ...process.env, CARGO_ENCODED_RUSTFLAGS: flags.join('\x1f'), RUSTFLAGS: '' },
  });
  return path.join(TARGET_DIR, TARGET, PROFILE, `${CRATE.replace(/-/g, '_')}.wasm`);
}

function wasmBindgen(pin, input, outDir) {
  const bin = process.env.WASM_BINDGEN || 'wasm-bindgen';
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    fail(`${bin} not found: run \`just bootstrap\` (installs wasm-bindgen-cli ${pin})`);
  }
  if (version.stdout.trim() !== `wasm-bindgen ${pin}`) {
    fail(`${version.stdout.trim()} installed, but crates/core-wasm pins ${pin}: run \`just bootstrap\``);
  }
  // --target web is the only output that takes the module from the caller; nodejs and bundler
  // load it themselves. --omit-default-module-path drops `import.meta.url`, a syntax error once
  // WeChat compiles the file as a script.
  run(bin, [
    '--target', 'web', '--omit-default-module-path', '--no-typescript',
    '--out-dir', outDir, '--out-name', OUT_NAME, input,
  ]);
}

function wasmOpt(input, output) {
  const wasmOptBin = path.join(path.dirname(require.resolve('binaryen/package.json', { paths: [ROOT] })), 'bin', 'wasm-opt');
  const lowered = `${output}.lowered`;
  // rustc's precompiled std still uses bulk memory, sign-ext and saturating float conversions:
  // accept them on input, shrink, then lower each to MVP instructions.
  run(process.execPath, [
    wasmOptBin, input,
    '--enable-bulk-memory', '--enable-sign-ext', '--enable-nontrapping-float-to-int', '--enable-mutable-globals',
    '-Oz',
    '--signext-lowering', '--llvm-memory-copy-fill-lowering', '--llvm-nontrapping-fptoint-lowering',
    '--strip-debug', '--strip-producers',
    '-o', lowered,
  ]);
  // The validation step: this run only allows MVP (plus mutable globals, which every WeChat
  // runtime has), so any post-MVP instruction that slipped through fails the build here.
  run(process.execPath, [wasmOptBin, lowered, '--mvp-features', '--enable-mutable-globals', '-Oz', '-o', output], {
    failure: 'the module uses a WebAssembly feature beyond 1.0 (MVP), which iOS WeChat rejects (see above)',
  });
  fs.rmSync(lowered);
}

/** Checks wasm-opt's validator does not look at: what the module imports and exports. */
function checkMvpShape(wasm) {
  const problems = [];
  for (const section of sections(wasm)) {
    if (section.id === 0) problems.push(`custom section "${section.name}" left in`);
    if (section.id === 7) {
      // Export kinds: 0 func, 1 table, 2 memory, 3 global. iOS WeChat cannot export a Global,
      // and an exported table means wasm-bindgen switched to its externref table.
      const reader = new Reader(section.body);
      for (let n = reader.u32(); n > 0; n--) {
        const name = reader.name();
        const kind = reader.byte();
        reader.u32();
        if (kind === 1 || kind === 3) problems.push(`exports ${kind === 1 ? 'table' : 'global'} "${name}"`);
      }
    }
  }
  if (problems.length > 0) fail(`the module is not WebAssembly 1.0 as WeChat needs it:\n  ${problems.join('\n  ')}`);
}

/**
 * The module without its global exports. wasm-bindgen's runtime marks two statics `#[no_mangle]`
 * (`__abort_handler`, `__instance_terminated`) for an abort-handler feature this build does not
 * enable, so rustc exports them as globals, which iOS WeChat cannot instantiate. The glue must
 * not use them; if a future version's glue does, this stops the build instead of breaking it.
 */
function dropGlobalExports(wasm, glue) {
  const GLOBAL = 3;
  const out = [wasm.subarray(0, 8)];
  for (const section of sections(wasm)) {
    if (section.id !== 7) {
      out.push(section.raw);
      continue;
    }
    const reader = new Reader(section.body);
    const kept = [];
    for (let n = reader.u32(); n > 0; n--) {
      const start = reader.pos;
      const name = reader.name();
      const kind = reader.byte();
      reader.u32();
      if (kind !== GLOBAL) {
        kept.push(section.body.subarray(start, reader.pos));
      } else if (glue.includes(name)) {
        fail(`the glue uses the exported global "${name}", which WeChat cannot provide`);
      }
    }
    const body = Buffer.concat([leb128(kept.length), ...kept]);
    out.push(Buffer.from([7]), leb128(body.length), body);
  }
  return Buffer.concat(out);
}

function leb128(value) {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return Buffer.from(bytes);
}

/** The module without the named custom sections. */
function stripCustomSections(wasm, names) {
  const kept = [wasm.subarray(0, 8)];
  for (const section of sections(wasm)) {
    if (!(section.id === 0 && names.includes(section.name))) kept.push(section.raw);
  }
  return Buffer.concat(kept);
}

function* sections(wasm) {
  if (wasm.readUInt32BE(0) !== 0x0061736d) fail('not a WebAssembly module');
  const reader = new Reader(wasm, 8);
  while (reader.pos < wasm.length) {
    const start = reader.pos;
    const id = reader.byte();
    const size = reader.u32();
    const bodyStart = reader.pos;
    const end = bodyStart + size;
    const name = id === 0 ? reader.name() : undefined;
    yield { id, name, body: wasm.subarray(bodyStart, end), raw: wasm.subarray(start, end) };
    reader.pos = end;
  }
}

class Reader {
  constructor(bytes, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }
  byte() {
    if (this.pos >= this.bytes.length) fail('truncated WebAssembly module');
    return this.bytes[this.pos++];
  }
  u32() {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
  }
  name() {
    const length = this.u32();
    const text = Buffer.from(this.bytes.subarray(this.pos, this.pos + length)).toString('utf8');
    this.pos += length;
    return text;
  }
}

function brotli(bytes) {
  return zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC,
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

/**
 * wasm-bindgen's ES module glue as CommonJS: one `require` of the shim at the top, `export`
 * keywords moved into `module.exports`, everything else as generated.
 */
function commonJsGlue(source, pin, rustc) {
  if (/\bimport\s*\.\s*meta\b/.test(source)) fail('the glue still uses import.meta (is --omit-default-module-path lost?)');
  if (/^\s*import\s/m.test(source)) fail('the glue imports a module; the mini program cannot load ES imports');

  const names = [];
  let body = source.replace(/^export function (\w+)/gm, (_, name) => {
    names.push(name);
    return `function ${name}`;
  });
  body = body.replace(/^export \{ initSync, __wbg_init as default \};\s*$/m, '');
  if (/^\s*export\s/m.test(body)) fail('the glue has an export this build does not know how to convert');

  // initSync stays unexported: WXWebAssembly has no synchronous instantiation.
  const exported = [...names.sort(), 'init: __wbg_init'];
  return [
    `// Generated by scripts/build-miniprogram.js from crates/core-wasm with wasm-bindgen ${pin}`,
    `// and ${rustc}.`,
    '// Do not edit: run `just miniprogram`. Only the require below and module.exports at the end',
    '// differ from wasm-bindgen\'s own output.',
    "'use strict';",
    "const { WebAssembly, TextEncoder, TextDecoder } = require('./shim.js');",
    '',
    body.trimEnd(),
    '',
    `module.exports = { ${exported.join(', ')} };`,
    '',
  ].join('\n');
}

function shim() {
  const source = fs.readFileSync(path.join(__dirname, 'miniprogram', 'wasm-shim.js'), 'utf8');
  return [
    '// Copied by scripts/build-miniprogram.js from scripts/miniprogram/wasm-shim.js. Do not edit here.',
    source,
  ].join('\n');
}

function configJs(apiBase) {
  let url;
  try {
    url = new URL(apiBase);
  } catch {
    fail(`WXLOGIN_API_BASE is not a URL: ${apiBase}`);
  }
  const base = url.href.replace(/\/+$/, '');
  return [
    '// Written by scripts/build-miniprogram.js from WXLOGIN_API_BASE (default',
    `// ${DEFAULT_API_BASE}, the address \`just dev\` serves on). To change it, set that variable`,
    '// and run `just miniprogram`. Production needs the domain whitelisted in the WeChat console.',
    "'use strict';",
    '',
    'module.exports = {',
    `  apiBase: ${JSON.stringify(base)},`,
    '};',
    '',
  ].join('\n');
}

/** Every .wxml must compile with WeChat's own compiler, wcc (npm miniprogram-compiler). */
function compileWxml() {
  if (!fs.existsSync(MINIPROGRAM)) return;
  const { wxmlToJs } = require(require.resolve('miniprogram-compiler', { paths: [ROOT] }));
  try {
    wxmlToJs(MINIPROGRAM);
  } catch (error) {
    fail(`WXML does not compile:\n${error.message}`);
  }
}

function writeAll(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(dir, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
}

/** `rustc --version` of this machine, e.g. "rustc 1.95.0 (59807616e 2026-04-14)". */
function rustcVersion() {
  const result = spawnSync('rustc', ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) fail('rustc --version failed');
  return result.stdout.trim();
}

/** The rustc the committed glue names, if it names one. */
function builtWith() {
  const glue = path.join(MINIPROGRAM, GENERATED.glue);
  if (!fs.existsSync(glue)) return null;
  const match = fs.readFileSync(glue, 'utf8').match(/^\/\/ and (rustc [^\n]*)\.$/m);
  return match ? match[1] : null;
}

function matchesCommitted(name, fresh) {
  const committed = path.join(MINIPROGRAM, name);
  if (!fs.existsSync(committed)) return false;
  let [a, b] = [fs.readFileSync(committed), Buffer.from(fresh)];
  if (name.endsWith('.br')) {
    try {
      [a, b] = [zlib.brotliDecompressSync(a), zlib.brotliDecompressSync(b)];
    } catch {
      return false;
    }
  }
  return a.equals(b);
}

function run(cmd, args, { failure, ...options } = {}) {
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) fail(`${cmd}: ${result.error.message}`);
  if (result.status !== 0) {
    fail(failure || `${path.basename(cmd)} ${args.slice(0, 2).join(' ')} … exited with ${result.status}`);
  }
}

class BuildError extends Error {}

function fail(message) {
  throw new BuildError(message);
}

try {
  main();
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  console.error(`miniprogram: ${error.message}`);
  process.exitCode = 1;
}
