#!/usr/bin/env bash
# Builds the in-browser verifier (crates/wasm) into src/site/static/wasm/
# (and, with --node DIR, a Node.js build for tests/browser's vector test).
#
# The WebAssembly is a build product, never committed: the board serves
# whatever this script last wrote (src/server/static_wasm.rs).
#
# crates/wasm binds crates/verify's procedure, built without its `net`
# feature: this build is also the check that the verifier's procedure
# builds for wasm32-unknown-unknown.
#
#   scripts/build-wasm.sh              # web build -> src/site/static/wasm/
#   scripts/build-wasm.sh --node DIR   # also a --target nodejs build in DIR
#
# Needs: rustup (adds wasm32-unknown-unknown if missing) and cargo (installs
# wasm-bindgen-cli at exactly the version Cargo.lock pins for the
# wasm-bindgen crate: the CLI and the crate must match). No wasm-pack: it
# downloads wasm-opt from the network, which this project cannot rely on.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE_OUT=
if [ "${1:-}" = "--node" ]; then NODE_OUT=${2:?--node needs a directory}; fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$ROOT/src/site/static/wasm
start=$(date +%s)

# 1. The target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "build-wasm: adding the wasm32-unknown-unknown target" >&2
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli at the locked crate version.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$want" ]; then echo "build-wasm: no wasm-bindgen in Cargo.lock" >&2; exit 1; fi
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "build-wasm: installing wasm-bindgen-cli $want (found: ${have:-none})" >&2
  # --locked first (reproducible); the registry mirror may lack a locked
  # dependency (seen: webpki-roots), so fall back to a fresh resolution.
  cargo install wasm-bindgen-cli --version "$want" --locked \
    || cargo install wasm-bindgen-cli --version "$want"
fi

# 3. Build and bind.
# Size matters more than the last percent of speed for a download: no
# debug info, optimise for size, whole-program LTO, abort on panic. Set
# through the environment so the host's release profile is untouched.
CARGO_PROFILE_RELEASE_DEBUG=false \
CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_PANIC=abort \
  cargo build --release --target wasm32-unknown-unknown -p tallyboard-wasm
WASM=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/tallyboard_wasm.wasm
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$OUT.tmp" "$WASM"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
if [ -n "$NODE_OUT" ]; then
  mkdir -p "$NODE_OUT"
  wasm-bindgen --target nodejs --no-typescript --remove-name-section --out-dir "$NODE_OUT" "$WASM"
fi
size=$(stat -c %s "$OUT/tallyboard_wasm_bg.wasm")
echo "build-wasm: $OUT/tallyboard_wasm_bg.wasm ($size bytes) in $(( $(date +%s) - start )) s" >&2
