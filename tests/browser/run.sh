#!/usr/bin/env bash
# The browser tests (spec/browser-verification.md §6), for .ci/run:
#
#   bash tests/browser/run.sh
#
# 1. installs Debian chromium (and chromium-driver) if missing;
# 2. npm ci (playwright-core, pinned; it downloads no browser);
# 3. builds the WebAssembly verifier (web + Node) and runs its vector test;
# 4. builds the board, makes a 200-station synthetic election (synth, init,
#    import) and serves it on 127.0.0.1 (a free port);
# 5. runs tests/browser/*.test.mjs with node --test against it, with
#    headless /usr/bin/chromium; screenshots in target/browser-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
ART=$ROOT/target/browser-artifacts
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tallyboard-browser.XXXXXX")
BOARD_PID=
WPIDS=
cleanup() {
  if [ -n "$BOARD_PID" ]; then kill "$BOARD_PID" 2>/dev/null || true; wait "$BOARD_PID" 2>/dev/null || true; fi
  for p in $WPIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
t0=$(date +%s)
step() { echo "browser: [$(( $(date +%s) - t0 ))s] $*" >&2; }

# 1. Chromium.
if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null; then
  step "installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null | head -1 >&2 || true

# 2. Node packages.
step "npm ci"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# 3. The WebAssembly (web and Node builds; the Node one is for
#    wasm-vectors.test.mjs, which runs with the other tests below).
step "building the WebAssembly verifier"
scripts/build-wasm.sh --node "$CARGO_TARGET_DIR/wasm-node"
export WASM_NODE_DIR=$CARGO_TARGET_DIR/wasm-node

# 4. The board with a small synthetic election.
step "building the board"
# The debug build: .ci/run has just built it for the tests.
cargo build --bin tallyboard
BIN=$CARGO_TARGET_DIR/debug/tallyboard
"$BIN" synth --out "$WORK/election" --stations 200 >/dev/null
"$BIN" init --data "$WORK/data" --manifest "$WORK/election/manifest.json" --log-key keys/demo/log.key >/dev/null
# Hold the last 3 tallies back: the live-update test submits one.
node tests/browser/split.mjs "$WORK/election/entries.bundle" "$WORK/import.bundle" "$WORK/held" 3
export HELD_DIR=$WORK/held
"$BIN" import --data "$WORK/data" --log-key keys/demo/log.key "$WORK/import.bundle" >/dev/null
# The two witnesses of keys/policy.txt, so that the checkpoint the pages
# verify meets the election's witness policy (the browser checks its quorum).
WPIDS=
for w in guardian observer; do
  "$BIN" witness --listen 127.0.0.1:0 --data "$WORK/w-$w" --key "keys/demo/witness-$w.key" \
    --log-vkey keys/log.vkey --init >"$WORK/w-$w.out" 2>"$WORK/w-$w.err" &
  WPIDS="$WPIDS $!"
done
for w in guardian observer; do
  for _ in $(seq 1 100); do grep -q 'listening on ' "$WORK/w-$w.out" 2>/dev/null && break; sleep 0.1; done
done
GUARDIAN_URL=$(sed -n 's/.*listening on //p' "$WORK/w-guardian.out" | head -1)
OBSERVER_URL=$(sed -n 's/.*listening on //p' "$WORK/w-observer.out" | head -1)
sed -e "s#http://127.0.0.1:8081#$GUARDIAN_URL#" -e "s#http://127.0.0.1:8082#$OBSERVER_URL#" keys/policy.txt >"$WORK/policy.txt"
"$BIN" serve --listen 127.0.0.1:0 --data "$WORK/data" --log-key keys/demo/log.key \
  --witness-policy "$WORK/policy.txt" >"$WORK/serve.out" 2>"$WORK/serve.err" &
BOARD_PID=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$WORK/serve.out" 2>/dev/null && break
  kill -0 "$BOARD_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
  sleep 0.1
done
BOARD_URL=$(sed -n 's/^listening on //p' "$WORK/serve.out" | head -1)
[ -n "$BOARD_URL" ] || { echo "browser: the board did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
export BOARD_URL TALLYBOARD_BIN=$BIN
step "board at $BOARD_URL"
# The synthetic minutes images, uploaded under each station's signature
# (POST /api/v1/blobs, spec/http-api.md §1.3), as a station's device would.
# synth writes minutes/uploads.tsv: SHA-256, station, signature, file.
n=0
while IFS=$'\t' read -r sha station sig file; do
  curl -sf -X POST --data-binary "@$WORK/election/minutes/$file" \
    -H 'Content-Type: application/octet-stream' -H "X-Content-SHA256: $sha" \
    -H "X-Tallyboard-Station: $station" -H "X-Tallyboard-Signature: $sig" \
    "$BOARD_URL/api/v1/blobs" >/dev/null && n=$((n + 1))
done <"$WORK/election/minutes/uploads.tsv"
# (The tallies held back for the live-update test are not logged yet: their
# images are refused, blob.not-named.)
step "uploaded $n minutes images"
[ "$n" -gt 0 ] || { echo "browser: no minutes image was accepted" >&2; exit 1; }
# Wait for a checkpoint the witnesses cosigned (the quorum the pages check).
for _ in $(seq 1 100); do
  [ "$(curl -sf "$BOARD_URL/checkpoint" | grep -c '^— ')" -ge 3 ] && break
  sleep 0.2
done

# 5. The tests.
rm -rf "$ART" && mkdir -p "$ART"
export ARTIFACTS=$ART CHROMIUM=/usr/bin/chromium
step "node --test"
(cd tests/browser && node --test --test-concurrency=1 ./*.test.mjs)
step "done; screenshots in $ART"
