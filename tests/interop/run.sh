#!/usr/bin/env bash
# Verifies tallyboard's published formats with independent implementations:
#   Go:     golang.org/x/mod/sumdb/note + sumdb/tlog (Debian golang-golang-x-mod-dev)
#   Python: tlog-scales (PyPI) + cryptography
# Installs them itself (apt-get, pip: the only network this needs) and fails
# loudly on any mismatch.
#
# Usage:
#   tests/interop/run.sh                      build a demo export (1,000 stations) and check it
#   tests/interop/run.sh DIR                  check an export (`tallyboard export --out DIR`)
#   tests/interop/run.sh DIR RECEIPT ENTRY    ... plus a given receipt (tlog-proof) for ENTRY
#
# Environment:
#   LOG_VKEY           the log's verifier key or a file holding it
#                      (default: keys/log.vkey, else the export's manifest)
#   TALLYBOARD         the board binary (default: cargo run -p tallyboard)
#   TALLYBOARD_VERIFY  the verifier binary (default: cargo run -p tallyboard-verify)
#   INTEROP_STATIONS   stations in the demo export (default 1000)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/tallyboard-interop.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS

say() { printf '== %s\n' "$*"; }
die() { printf 'interop: FAIL: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

tb() {
  if [ -n "${TALLYBOARD:-}" ]; then "$TALLYBOARD" "$@"
  else (cd "$repo" && cargo run -q -p tallyboard -- "$@"); fi
}
tbv() {
  if [ -n "${TALLYBOARD_VERIFY:-}" ]; then "$TALLYBOARD_VERIFY" "$@"
  else (cd "$repo" && cargo run -q -p tallyboard-verify -- "$@"); fi
}

# --- install the independent implementations -------------------------------
gocode=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -d "$gocode/src/golang.org/x/mod/sumdb/note" ]; then
  say "installing golang-go golang-golang-x-mod-dev (apt)"
  as_root apt-get install -y -q golang-go golang-golang-x-mod-dev >/dev/null \
    || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q golang-go golang-golang-x-mod-dev >/dev/null; }
fi
if ! python3 -c 'import tlog_scales, cryptography' 2>/dev/null || ! command -v tlog-tiles >/dev/null; then
  say "installing tlog-scales (pip)"
  python3 -m pip install -q tlog-scales
fi

# --- the export to check ----------------------------------------------------
if [ $# -ge 1 ]; then
  dir="$(cd "$1" && pwd)"
else
  stations="${INTEROP_STATIONS:-1000}"
  say "building a demo export ($stations stations)"
  key="$repo/keys/demo/log.key"
  tb demo --offline --stations "$stations" --data "$work/data" >/dev/null 2>"$work/demo.log" || { cat "$work/demo.log"; die "tallyboard demo"; }
  tb export --data "$work/data" --log-key "$key" --out "$work/export" >/dev/null
  dir="$work/export"
fi
[ -f "$dir/checkpoint" ] || die "$dir holds no checkpoint"

if [ -n "${LOG_VKEY:-}" ]; then vkey="$LOG_VKEY"
elif [ -f "$repo/keys/log.vkey" ]; then vkey="$(cat "$repo/keys/log.vkey")"
else
  vkey="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys"]["log"])' "$dir/api/v1/manifest.json")"
  say "LOG_VKEY not set; using the key the export's manifest names: $vkey"
fi
[ -f "$vkey" ] && vkey="$(cat "$vkey")"

size="$(sed -n 2p "$dir/checkpoint")"
if [ $# -ge 3 ]; then
  receipt="$2"; entry="$3"; prove_index=""
else
  prove_index=$(( size * 2 / 3 ))
  say "making a receipt for entry $prove_index from the read path (tallyboard-verify prove)"
  tbv prove "$prove_index" --source "$dir" --log-vkey "$vkey" --out "$work/receipt" --entry-out "$work/entry" >/dev/null
  receipt="$work/receipt"; entry="$work/entry"
fi

# --- Go ---------------------------------------------------------------------
say "Go: sumdb/note + sumdb/tlog on $dir (size $size)"
export GO111MODULE=off GOPATH="$gocode:$here/go" GOCACHE="$work/gocache" GOFLAGS=
go build -o "$work/go-interop" tallyboard-interop
"$work/go-interop" "$dir" "$vkey" "$receipt" "$entry"

# --- Python -----------------------------------------------------------------
say "Python: tlog-scales + cryptography on $dir"
python3 "$here/verify.py" "$dir" "$vkey" "$receipt" "$entry" $prove_index

# --- Negative control: both must reject a forged checkpoint ----------------
say "negative control: a checkpoint with one root bit flipped must be refused by both"
mkdir -p "$work/forged"
cp -r "$dir/." "$work/forged/"
python3 - "$work/forged/checkpoint" <<'EOF'
import base64, sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
root = bytearray(base64.b64decode(lines[2])); root[0] ^= 1
lines[2] = base64.b64encode(bytes(root))
open(p, "wb").write(b"\n".join(lines))
EOF
if "$work/go-interop" "$work/forged" "$vkey" "$receipt" "$entry" >/dev/null 2>&1; then
  die "Go accepted a forged checkpoint"
fi
if python3 "$here/verify.py" "$work/forged" "$vkey" "$receipt" "$entry" >/dev/null 2>&1; then
  die "Python accepted a forged checkpoint"
fi
say "both refused the forged checkpoint"

say "interop OK in $(( SECONDS - start )) s"
