#!/usr/bin/env bash
# Publishing the read path to a real S3-compatible server, checked by the
# independent verifier over plain anonymous HTTP (spec/publishing.md §7).
#
# Starts moto's S3 server (PyPI, installed into a venv under the cargo
# target directory) on a free loopback port, creates a bucket with a
# public-read policy, and then:
#   1. `tallyboard publish` of a small election; the server's own request
#      log must show exactly the objects the publisher reports;
#      `tallyboard-verify audit` of http://127.0.0.1:PORT/BUCKET/PREFIX passes;
#   2. more entries, publish again: only new keys are written (and the
#      checkpoint), the audit passes, the verifier's consistency check
#      between the two checkpoints says "extended";
#   3. `serve --publish`: a minutes scan and the last tallies are submitted
#      over HTTP; the bucket catches up with the board's checkpoint, holds
#      the scan, and audits; consistency "extended" again;
#   4. publishing another log into the same prefix is refused, and nothing
#      is written.
#
#   bash tests/publish/run.sh
#
# Environment: TALLYBOARD, TALLYBOARD_VERIFY (binaries; default: built with
# cargo into CARGO_TARGET_DIR), PUBLISH_STATIONS (default 300).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
stations="${PUBLISH_STATIONS:-300}"
bucket=tallyboard-read-path
prefix=elections/1404

say() { printf '== %s\n' "$*"; }
die() { printf 'publish: FAIL: %s\n' "$*" >&2; exit 1; }

if [ -z "${TALLYBOARD:-}" ] || [ -z "${TALLYBOARD_VERIFY:-}" ]; then
  cargo build -q --locked -p tallyboard -p tallyboard-verify --bins
fi
bin="${TALLYBOARD:-$target/debug/tallyboard}"
vbin="${TALLYBOARD_VERIFY:-$target/debug/tallyboard-verify}"

venv="$target/moto-venv"
if [ ! -x "$venv/bin/moto_server" ]; then
  say "installing moto[server] into $venv (pip)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'moto[server]>=5,<6'
fi
py="$venv/bin/python"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tallyboard-publish.XXXXXX")"
moto_pid=""
serve_pid=""
cleanup() {
  for p in "$serve_pid" "$moto_pid"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the S3 server ------------------------------------------------------------
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:$port"
# The recorder logs every request the server receives: the count of PUTs
# below is the server's, not the publisher's own claim.
MOTO_ENABLE_RECORDING=True MOTO_RECORDER_FILEPATH="$tmp/requests.jsonl" \
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 150); do
  curl -fsS "$endpoint/moto-api/data.json" >/dev/null 2>&1 && break
  kill -0 "$moto_pid" 2>/dev/null || { cat "$tmp/moto.log" >&2; die "moto_server did not start"; }
  sleep 0.2
done
curl -fsS "$endpoint/moto-api/data.json" >/dev/null || die "moto_server is not answering on $endpoint"
say "moto S3 server on $endpoint (pid $moto_pid)"

export AWS_ACCESS_KEY_ID=tallyboard-test AWS_SECRET_ACCESS_KEY=tallyboard-test AWS_REGION=us-east-1
unset AWS_ENDPOINT AWS_SESSION_TOKEN AWS_PROFILE 2>/dev/null || true
s3() { "$py" "$repo/tests/publish/s3.py" --endpoint "$endpoint" --bucket "$bucket" --prefix "$prefix" "$@"; }
s3 create   # the bucket, a public-read policy and CORS for browsers

url="$endpoint/$bucket/$prefix"
to="s3://$bucket/$prefix"
s3args=(--endpoint "$endpoint" --allow-http)

# --- a small election, split into the parts the steps append --------------------
say "synthetic election: $stations stations"
"$bin" synth --out "$tmp/e" --stations "$stations" --seed 1404 2>/dev/null
"$py" "$repo/tests/publish/split.py" "$tmp/e/entries.bundle" "$stations" "$tmp/parts"
install -m 600 keys/demo/log.key "$tmp/log.key"
data="$tmp/data"
"$bin" init --data "$data" --manifest "$tmp/e/manifest.json" --log-key "$tmp/log.key" >/dev/null 2>&1
"$bin" import --data "$data" --log-key "$tmp/log.key" "$tmp/parts/setup.bundle" "$tmp/parts/first.bundle" >/dev/null 2>&1

vkey="$repo/keys/log.vkey"
audit() {
  "$vbin" --json audit --source "$url" --log-vkey "$vkey" >"$tmp/audit.json" \
    || { "$vbin" audit --source "$url" --log-vkey "$vkey" | tail -n 20 >&2; die "audit of $url: $1"; }
  "$py" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("audit: verified, size", r["size"], "entries", r["entries_valid"])' "$tmp/audit.json"
}
consistency() {
  "$vbin" --json consistency --source "$url" --log-vkey "$vkey" --state "$tmp/state" >"$tmp/cons.json" \
    || { cat "$tmp/cons.json" >&2; die "consistency of $url"; }
  got="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["outcome"])' "$tmp/cons.json")"
  [ "$got" = "$1" ] || die "consistency outcome $got, expected $1"
  echo "consistency: $got"
}
# publish; checks that the server received exactly the PUTs the publisher reports.
publish() {
  curl -fsS -X POST "$endpoint/moto-api/recorder/reset-recording" >/dev/null
  "$bin" publish --data "$data" --log-key "$tmp/log.key" --to "$to" "${s3args[@]}" >/dev/null 2>"$tmp/publish.err" \
    || { cat "$tmp/publish.err" >&2; die "tallyboard publish"; }
  cat "$tmp/publish.err"
  reported="$(sed -n 's/.*; \([0-9]*\) objects, .*/\1/p' "$tmp/publish.err")"
  s3 puts "$tmp/requests.jsonl" >"$tmp/puts.txt"
  received="$(wc -l <"$tmp/puts.txt")"
  [ "$reported" = "$received" ] || die "the publisher reports $reported objects, the server received $received PUTs"
  echo "server received $received PUTs"
}

# --- 1. first publish ----------------------------------------------------------
say "1. publish to $to"
publish
first_puts=$received
audit "first publish"
consistency initialized
s3 keys "$prefix/" >"$tmp/keys-before.txt"
# The headers a CDN will pass on (spec/publishing.md §4); GET, as moto
# authorizes HEAD differently from S3 (which allows it with s3:GetObject).
curl -fsS -o /dev/null -D - "$url/checkpoint" | tr -d '\r' >"$tmp/h"
grep -qi '^content-type: text/plain; charset=utf-8$' "$tmp/h" || { cat "$tmp/h"; die "checkpoint Content-Type"; }
grep -qi '^cache-control: public, max-age=2$' "$tmp/h" || { cat "$tmp/h"; die "checkpoint Cache-Control"; }
curl -fsS -o /dev/null -D - "$url/tile/0/000" | tr -d '\r' >"$tmp/h"
grep -qi '^cache-control: public, max-age=31536000, immutable$' "$tmp/h" || { cat "$tmp/h"; die "full tile Cache-Control"; }
grep -qi '^content-type: application/octet-stream$' "$tmp/h" || { cat "$tmp/h"; die "tile Content-Type"; }

# --- 2. incremental ---------------------------------------------------------------
say "2. more entries, publish again"
"$bin" import --data "$data" --log-key "$tmp/log.key" "$tmp/parts/second.bundle" >/dev/null 2>&1
publish
second_puts=$received
# Every key written is new, except the checkpoint.
old_rewritten="$(sed "s|^|$prefix/|" "$tmp/puts.txt" | grep -vx "$prefix/checkpoint" | grep -Fxf "$tmp/keys-before.txt" || true)"
[ -z "$old_rewritten" ] || die "the second publish rewrote existing objects: $old_rewritten"
grep -qx checkpoint "$tmp/puts.txt" || die "the second publish did not write the checkpoint"
[ "$second_puts" -lt "$first_puts" ] || die "second publish wrote $second_puts objects, the first $first_puts"
audit "incremental publish"
consistency extended

say "   publishing again with nothing new writes nothing"
publish
[ "$received" = 0 ] || die "a publish with nothing new wrote $received objects"

# --- 3. serve --publish -------------------------------------------------------------
say "3. serve --publish $to"
TALLYBOARD_LOG=info "$bin" serve --listen 127.0.0.1:0 --data "$data" --log-key "$tmp/log.key" \
  --publish "$to" "${s3args[@]}" >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve_pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$tmp/serve.out" 2>/dev/null && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$tmp/serve.err" >&2; die "serve did not start"; }
  sleep 0.1
done
board="$(sed -n 's/^listening on //p' "$tmp/serve.out" | head -n1)"
[ -n "$board" ] || die "serve did not report its address"
# The first station of the rest submits its tally, then uploads the minutes
# scan it names, signed with its key (spec/http-api.md §1.3); the others
# submit their tallies.
# The scan is the synthetic minutes image synth drew for that tally, named
# by the SHA-256 the tally commits to (minutes-sha256).
scan_sha="$(sed -n 's/^minutes-sha256 //p' "$tmp"/parts/rest/0000.note | head -n1)"
scan="$tmp/e/minutes/$scan_sha.png"
[ -f "$scan" ] || die "synth drew no minutes image $scan_sha"
[ "$(sha256sum "$scan" | cut -d' ' -f1)" = "$scan_sha" ] || die "the minutes image does not hash to its name"
station="$(sed -n 's/^station //p' "$tmp"/parts/rest/0000.note | head -n1)"
"$bin" demo-keys --out "$tmp/keys" --station "$station" 2>/dev/null
n=0
for f in "$tmp"/parts/rest/*.note; do
  minutes=()
  [ "$f" = "$tmp/parts/rest/0000.note" ] && minutes=(--minutes "$scan" --key "$tmp/keys/demo/station-$station.key")
  "$bin" submit --url "$board" --log-vkey "$vkey" "${minutes[@]}" "$f" >/dev/null 2>"$tmp/submit.err" \
    || { cat "$tmp/submit.err" >&2; die "submit $f"; }
  n=$((n + 1))
done
echo "submitted $n tallies"
served="$(curl -fsS "$board/checkpoint")"
# Wait for the publishing thread to catch up (it polls; no timing is asserted).
for _ in $(seq 1 300); do
  [ "$(curl -fsS "$url/checkpoint" 2>/dev/null || true)" = "$served" ] && break
  sleep 0.2
done
[ "$(curl -fsS "$url/checkpoint")" = "$served" ] || { cat "$tmp/serve.err" >&2; die "the bucket did not catch up with the board's checkpoint"; }
kill -TERM "$serve_pid"; wait "$serve_pid" || { tail -n 30 "$tmp/serve.err" >&2; die "serve exited with an error"; }
serve_pid=""
grep -c '"published"\| published' "$tmp/serve.err" | sed 's/^/publishing passes logged: /'
curl -fsS "$url/api/v1/blobs/$scan_sha" | cmp -s - "$scan" || die "the minutes scan is not in the bucket"
echo "minutes scan published at api/v1/blobs/$scan_sha"
audit "serve --publish"
consistency extended

# --- 4. another log into the same prefix is refused ---------------------------------------
say "4. another election's log into the same prefix"
# Same log key and origin, same size, different entries: another history.
"$bin" synth --out "$tmp/e2" --stations "$stations" --seed 7 2>/dev/null
"$bin" init --data "$tmp/data2" --manifest "$tmp/e2/manifest.json" --log-key "$tmp/log.key" >/dev/null 2>&1
"$bin" import --data "$tmp/data2" --log-key "$tmp/log.key" "$tmp/e2/entries.bundle" >/dev/null 2>&1
before="$(curl -fsS "$url/checkpoint")"
curl -fsS -X POST "$endpoint/moto-api/recorder/reset-recording" >/dev/null
if "$bin" publish --data "$tmp/data2" --log-key "$tmp/log.key" --to "$to" "${s3args[@]}" >/dev/null 2>"$tmp/refused.err"; then
  die "publishing another log into $to was accepted"
fi
cat "$tmp/refused.err"
grep -q '^tallyboard: publish\.other-history: ' "$tmp/refused.err" || die "refusal without its publish.other-history code"
s3 puts "$tmp/requests.jsonl" >"$tmp/puts.txt"
[ ! -s "$tmp/puts.txt" ] || die "the refused publish wrote: $(cat "$tmp/puts.txt")"
[ "$(curl -fsS "$url/checkpoint")" = "$before" ] || die "the refused publish changed the checkpoint"
audit "after the refusal"

echo "publish: all passed (first publish $first_puts objects, incremental $second_puts)"
