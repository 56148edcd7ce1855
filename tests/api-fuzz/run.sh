#!/usr/bin/env bash
# API fuzzing: schemathesis against the board's own OpenAPI document
# (spec/operations.md §3). Starts `tallyboard serve` on loopback with a small
# synthetic election (50 stations, registrations and tallies imported), runs
# schemathesis with bounded examples and time, and fails on any 5xx, any
# response that does not match the document, any schema-valid request
# refused (but for the rules OpenAPI cannot state, listed with their reasons
# in schemathesis.toml) and any schema-invalid request accepted.
#
#   TALLYBOARD=target/debug/tallyboard bash tests/api-fuzz/run.sh
#
# Knobs: API_FUZZ_EXAMPLES (per operation, default 60), API_FUZZ_MAX_TIME
# (seconds, default 150), API_FUZZ_SEED (default 1404), API_FUZZ_WORKERS (2).
# Installs schemathesis from PyPI if `st` is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
bin="${TALLYBOARD:-$target/debug/tallyboard}"
examples="${API_FUZZ_EXAMPLES:-60}"
max_time="${API_FUZZ_MAX_TIME:-150}"
seed="${API_FUZZ_SEED:-1404}"
workers="${API_FUZZ_WORKERS:-2}"

if ! command -v st >/dev/null 2>&1; then
  python3 -m pip install --quiet schemathesis
fi

tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

install -m 600 keys/demo/log.key "$tmp/log.key"
"$bin" synth --out "$tmp/e" --stations 50 --seed 1404 2>/dev/null
"$bin" init --data "$tmp/data" --manifest "$tmp/e/manifest.json" --log-key "$tmp/log.key" >/dev/null 2>&1
"$bin" import --data "$tmp/data" --log-key "$tmp/log.key" "$tmp/e/entries.bundle" >/dev/null 2>&1
TALLYBOARD_LOG=warn "$bin" serve --listen 127.0.0.1:0 --data "$tmp/data" --log-key "$tmp/log.key" \
  >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$tmp/serve.out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$tmp/serve.out" | head -n1)"
[ -n "$url" ] || { cat "$tmp/serve.err" >&2; echo "serve did not start" >&2; exit 1; }
echo "board on $url (pid $pid)"

set +e
conf="$PWD/tests/api-fuzz/schemathesis.toml"
(cd "$tmp" && st --no-color --config-file "$conf" run "$url/api/v1/openapi.json" \
  --url "$url" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance,positive_data_acceptance,negative_data_rejection \
  --max-examples "$examples" \
  --max-time "$max_time" \
  --seed "$seed" \
  --workers "$workers" \
  --request-timeout 30 \
  --generation-database none) 2>&1 | tee "$tmp/st.log"
rc=${PIPESTATUS[0]}
set -e
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the board died during the run:" >&2; cat "$tmp/serve.err" >&2; exit 1
fi
if grep -q ' ERROR \| panicked' "$tmp/serve.err"; then
  echo "the board logged errors:" >&2; grep ' ERROR \| panicked' "$tmp/serve.err" | head -20 >&2
  rc=1
fi
echo "api-fuzz: schemathesis exit $rc"
exit "$rc"
