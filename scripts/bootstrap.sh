#!/usr/bin/env bash
# Installs what the recipes need beyond Rust and Node, from crates.io and npm only.
#
#   bash scripts/bootstrap.sh        what `just dev` and `just test` need: the npm packages
#   bash scripts/bootstrap.sh wasm   to rebuild the mini program's wasm: the wasm32 target and
#                                    wasm-bindgen-cli (needed only when crates/core changes)
#   bash scripts/bootstrap.sh sqlx   sqlx-cli, for `just sqlx-prepare`, `sqlx-check`, `db-reset`
#
# Idempotent and quick when everything is already there; prints only what it installs, with how
# long it takes. Cargo installs tools into ~/.cargo/bin ($CARGO_HOME/bin).
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  command -v "$1" >/dev/null || { echo "bootstrap: $1 not found; install $2 first" >&2; exit 1; }
}
need cargo "Rust (https://rustup.rs)"
need npm "Node.js 20 or newer"

npm_packages() {
  # npm keeps a copy of the lock it installed in node_modules/; reinstall when the real one is newer.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "bootstrap: installing npm packages: Postgres, wasm-opt, WeChat's WXML compiler, Swagger UI, Redocly (npm ci, about a minute)"
    npm ci --no-audit --no-fund
  fi
}

wasm_tools() {
  # The mini program's JWT check is compiled to WebAssembly.
  if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "bootstrap: adding the wasm32-unknown-unknown target (rustup, under a minute)"
    rustup target add wasm32-unknown-unknown
  fi

  # wasm-bindgen refuses a module made by another version of its crate, so the CLI must match the
  # version Cargo.lock resolved (the crate is pinned with `=`). The default covers a tree whose
  # lock file does not list it yet.
  local version="${WASM_BINDGEN_VERSION:-$(
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock 2>/dev/null
  )}"
  version="${version:-0.2.130}"
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
    echo "bootstrap: installing wasm-bindgen-cli $version into ~/.cargo/bin (compiles from source: about 10 minutes on 2 cores, once)"
    # Not --locked: its lock file has pinned a version that crates.io no longer serves.
    cargo install wasm-bindgen-cli --version "$version"
  fi
}

sqlx_cli() {
  # Same major as the sqlx crate.
  if ! cargo sqlx --version 2>/dev/null | grep -Eq ' 0\.8\.[0-9]+$'; then
    echo "bootstrap: installing sqlx-cli 0.8 into ~/.cargo/bin (compiles from source: about 5 minutes on 2 cores, once)"
    cargo install sqlx-cli --version '^0.8' --no-default-features --features rustls,postgres
  fi
}

case "${1:-}" in
  '') npm_packages ;;
  wasm) npm_packages; wasm_tools ;;
  sqlx) sqlx_cli ;;
  *) echo "usage: bash scripts/bootstrap.sh [wasm|sqlx]" >&2; exit 2 ;;
esac
