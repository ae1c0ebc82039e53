#!/usr/bin/env bash
# `just image`: builds the images wxlogin:<version> and wxlogin-fake-wechat:<version> from
# deploy/Containerfile with podman, or docker where podman is not installed (CONTAINER_ENGINE
# chooses). Each holds one static binary, built here for x86_64-unknown-linux-musl, FROM scratch.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-musl
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
ENGINE=${CONTAINER_ENGINE:-$(command -v podman >/dev/null && echo podman || echo docker)}
CONTEXT=target/image/context
# Queries compile against the committed .sqlx/ data, whatever DATABASE_URL says.
export SQLX_OFFLINE=${SQLX_OFFLINE:-true}

if ! command -v "$ENGINE" >/dev/null; then
  echo "image: neither podman nor docker is installed (apt-get install podman)" >&2
  exit 1
fi
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi
# ring (TLS and JWT signatures) compiles some C. musl-gcc is the C compiler meant for a musl
# target; where musl-tools is not installed, the host's gcc does, as ring's C needs nothing of
# the C library that differs between glibc and musl.
if [ -z "${CC_x86_64_unknown_linux_musl:-}" ]; then
  for cc in x86_64-linux-musl-gcc musl-gcc gcc cc; do
    if command -v "$cc" >/dev/null; then export CC_x86_64_unknown_linux_musl=$cc; break; fi
  done
fi

cargo build --release --locked --target "$TARGET" -p wxlogin-server -p fake-wechat

rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"
for binary in wxlogin-server fake-wechat; do
  cp "target/$TARGET/release/$binary" "$CONTEXT/$binary"
  # Symbols are half the file and no use in a deployed binary (panics still name their place).
  if command -v strip >/dev/null; then strip "$CONTEXT/$binary"; fi
  chmod 0555 "$CONTEXT/$binary"
done

build() {
  "$ENGINE" build --quiet --file deploy/Containerfile --target "$1" \
    --build-arg "VERSION=$VERSION" --tag "$2:$VERSION" "$CONTEXT" >/dev/null
  echo "image: built $2:$VERSION ($("$ENGINE" image inspect --format '{{.Size}}' "$2:$VERSION" | awk '{printf "%.1f MB", $1 / 1e6}'))"
}
build wxlogin wxlogin
build fake-wechat wxlogin-fake-wechat
