// Makes this Node process look like the mini program runtime on a phone, for the tests and the
// benchmark: no WebAssembly, TextEncoder, TextDecoder or fetch globals (nor the rest of the fetch
// API: Node builds those lazily from code that itself needs WebAssembly), and a WXWebAssembly that
// loads modules (brotli or not) by their path inside miniprogram/, as the real one does.
//
// Call `installRuntime()` before requiring anything from miniprogram/.
//
// `loadReferenceCore()` runs the shipped module the ordinary way instead, on the globals the
// runtime removes, for tests to hold the kit's core against.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const zlib = require('node:zlib');

const MINIPROGRAM_ROOT = path.resolve(__dirname, '..');
const REMOVED = ['WebAssembly', 'TextEncoder', 'TextDecoder', 'fetch', 'Request', 'Response', 'Headers', 'FormData'];

/** Node's own WebAssembly, TextEncoder and TextDecoder, kept when the runtime removes them. */
let native = null;

function installRuntime() {
  if (!native) {
    const { WebAssembly, TextEncoder, TextDecoder } = globalThis;
    native = { WebAssembly, TextEncoder, TextDecoder };
  }
  for (const name of REMOVED) delete globalThis[name];
  globalThis.WXWebAssembly = fakeWXWebAssembly(native.WebAssembly);
  return { WXWebAssembly: globalThis.WXWebAssembly };
}

/**
 * WXWebAssembly: `instantiate(path, imports)` with a package path only, as on WeChat. Its
 * `stats.loaded` lists what it instantiated, `{ path, instance }` each, so tests can see which
 * module the kit runs.
 */
function fakeWXWebAssembly(WebAssembly) {
  const stats = { instantiations: 0, lastInstantiateMs: 0, loaded: [] };
  return {
    stats,
    instantiate(packagePath, imports) {
      if (typeof packagePath !== 'string' || !packagePath.startsWith('/')) {
        return Promise.reject(new TypeError(`WXWebAssembly.instantiate takes a package path, got ${packagePath}`));
      }
      if (!/\.wasm(\.br)?$/.test(packagePath)) {
        return Promise.reject(new Error(`not a .wasm or .wasm.br path: ${packagePath}`));
      }
      const started = process.hrtime.bigint();
      let bytes;
      try {
        bytes = fs.readFileSync(path.join(MINIPROGRAM_ROOT, packagePath));
      } catch (error) {
        return Promise.reject(error);
      }
      if (packagePath.endsWith('.br')) bytes = zlib.brotliDecompressSync(bytes);
      return WebAssembly.instantiate(bytes, imports).then((result) => {
        stats.instantiations += 1;
        stats.lastInstantiateMs = Number(process.hrtime.bigint() - started) / 1e6;
        stats.loaded.push({ path: packagePath, instance: result.instance });
        return result;
      });
    },
  };
}

/**
 * The shipped module, wasm/wxlogin_core_bg.wasm.br, instantiated apart from the kit's: its
 * wasm-bindgen glue (wasm/wxlogin_core.js) run with Node's own WebAssembly and UTF-8 codecs in
 * place of shim.js, and handed the module's bytes. Resolves with the glue's exports
 * (`readExpiry`, `isExpired`, `shouldRenew`). Needs `installRuntime()` to have run first.
 */
async function loadReferenceCore() {
  const glueFile = path.join(MINIPROGRAM_ROOT, 'wasm', 'wxlogin_core.js');
  const glue = { exports: {} };
  const requireNative = (id) => {
    if (id !== './shim.js') throw new Error(`the glue requires ${id}, not only ./shim.js`);
    return native;
  };
  // A fresh copy of the glue: require() would hand back the kit's own, already initialised.
  vm.compileFunction(fs.readFileSync(glueFile, 'utf8'), ['require', 'module', 'exports'], { filename: glueFile })(
    requireNative,
    glue,
    glue.exports,
  );
  const compressed = fs.readFileSync(path.join(MINIPROGRAM_ROOT, 'wasm', 'wxlogin_core_bg.wasm.br'));
  const bytes = zlib.brotliDecompressSync(compressed);
  await glue.exports.init({ module_or_path: bytes });
  return glue.exports;
}

module.exports = { installRuntime, fakeWXWebAssembly, loadReferenceCore, MINIPROGRAM_ROOT, REMOVED };
