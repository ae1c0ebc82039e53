// Makes this Node process look like the mini program runtime on a phone, for the tests and the
// benchmark: no WebAssembly, TextEncoder, TextDecoder or fetch globals (nor the rest of the fetch
// API: Node builds those lazily from code that itself needs WebAssembly), and a WXWebAssembly that
// loads modules (brotli or not) by their path inside miniprogram/, as the real one does.
//
// Call `installRuntime()` before requiring anything from miniprogram/.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const MINIPROGRAM_ROOT = path.resolve(__dirname, '..');
const REMOVED = ['WebAssembly', 'TextEncoder', 'TextDecoder', 'fetch', 'Request', 'Response', 'Headers', 'FormData'];

let realWebAssembly = null;

function installRuntime() {
  if (!realWebAssembly) realWebAssembly = globalThis.WebAssembly;
  for (const name of REMOVED) delete globalThis[name];
  globalThis.WXWebAssembly = fakeWXWebAssembly(realWebAssembly);
  return { WXWebAssembly: globalThis.WXWebAssembly };
}

/** WXWebAssembly: `instantiate(path, imports)` with a package path only, as on WeChat. */
function fakeWXWebAssembly(WebAssembly) {
  const stats = { instantiations: 0, lastInstantiateMs: 0 };
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
        return result;
      });
    },
  };
}

module.exports = { installRuntime, MINIPROGRAM_ROOT, REMOVED };
