#!/usr/bin/env bash
# Installs what `just dev` and `just test` need beyond Rust and Node, from crates.io and npm only.
# Idempotent and quick when everything is already there; prints only what it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  command -v "$1" >/dev/null || { echo "bootstrap: $1 not found; install $2 first" >&2; exit 1; }
}
need cargo "Rust (https://rustup.rs)"
need npm "Node.js 20 or newer"

# The mini program's JWT check is compiled to WebAssembly.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "bootstrap: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen refuses a module made by another version of its crate, so the CLI must match the
# version Cargo.lock resolved (the crate is pinned with `=`). The default covers a tree whose
# lock file does not list it yet.
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-$(
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock 2>/dev/null
)}"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  echo "bootstrap: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lock file has pinned a version that crates.io no longer serves.
  cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# sqlx-cli: migrations and the offline query data (`.sqlx/`), same major as the sqlx crate.
if ! cargo sqlx --version 2>/dev/null | grep -Eq ' 0\.8\.[0-9]+$'; then
  echo "bootstrap: installing sqlx-cli 0.8 (a few minutes, once)"
  cargo install --quiet sqlx-cli --version '^0.8' --no-default-features --features rustls,postgres
fi

# npm keeps a copy of the lock it installed in node_modules/; reinstall when the real one is newer.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
