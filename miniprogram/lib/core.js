// The Rust token checks (crates/core-wasm), loaded once from the code package.
//
// The module is instantiated on first use, asynchronously (WXWebAssembly has no synchronous
// path); `load()` resolves with the three checks once it is ready. A failed load is not cached,
// so the next call tries again.
'use strict';

const glue = require('../wasm/wxlogin_core.js');
const { WasmPath } = require('../wasm/shim.js');

/** Where the build puts the module, as a path from the root of the code package. */
const WASM_PATH = '/wasm/wxlogin_core_bg.wasm.br';

const checks = {
  /** `exp` of a token, in seconds since the epoch. Throws an Error with a `code` if malformed. */
  readExpiry: (token) => glue.readExpiry(token),
  /** Whether the token is expired at `now` (seconds), allowing `leeway` seconds. */
  isExpired: (token, now, leeway) => glue.isExpired(token, now, leeway),
  /** Whether the token has `threshold` seconds of life or less left at `now`. */
  shouldRenew: (token, now, threshold) => glue.shouldRenew(token, now, threshold),
};

let loading = null;

function load() {
  if (!loading) {
    loading = glue.init({ module_or_path: new WasmPath(WASM_PATH) }).then(
      () => checks,
      (error) => {
        loading = null;
        throw error;
      },
    );
  }
  return loading;
}

module.exports = { load, WASM_PATH };
