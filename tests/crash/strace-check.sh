#!/usr/bin/env bash
# Manual check (not in CI; needs strace and curl) that the board reaches
# Store::sync -- a real fsync of the sled `db` file after sled's
# sync_file_range -- before it answers a submission (spec/operations.md §1.4).
#
#   TALLYBOARD=target/debug/tallyboard bash tests/crash/strace-check.sh
#
# Runs `tallyboard serve` under strace, submits one entry, and checks in the
# trace that the `HTTP/1.1 201` response is written only after an fsync of
# the db file that follows the last sync_file_range (both for the batch and
# for its checkpoint: at least two such fsyncs since the request arrived).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
bin="${TALLYBOARD:-$target/debug/tallyboard}"
command -v strace >/dev/null || { echo "needs strace" >&2; exit 2; }
tmp="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

install -m 600 keys/demo/log.key "$tmp/log.key"
"$bin" synth --out "$tmp/e" --stations 5 --seed 1404 2>/dev/null
"$bin" init --data "$tmp/data" --manifest "$tmp/e/manifest.json" --log-key "$tmp/log.key" >/dev/null 2>&1
# The first entry of the synthetic bundle: the manifest commitment.
python3 - "$tmp/e/entries.bundle" "$tmp/entry" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
n = int.from_bytes(b[:2], "big")
open(sys.argv[2], "wb").write(b[2:2 + n])
PY
TALLYBOARD_LOG=warn strace -f -tt -s 64 -o "$tmp/trace" \
  -e trace=openat,fsync,fdatasync,sync_file_range,write,writev,sendto,sendmsg,recvfrom,read \
  "$bin" serve --listen 127.0.0.1:0 --data "$tmp/data" --log-key "$tmp/log.key" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do grep -q '^listening on ' "$tmp/out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$tmp/out" | head -n1)"
[ -n "$url" ] || { cat "$tmp/err" >&2; exit 1; }
curl -sS -o /dev/null -w 'submit: HTTP %{http_code}\n' -H 'Content-Type: text/plain' \
  --data-binary @"$tmp/entry" "$url/api/v1/entries"
sleep 0.3
python3 - "$tmp/trace" "$tmp/data/db" <<'PY'
import re, sys
trace, db = sys.argv[1], sys.argv[2]
db_fds = {}        # pid -> set of fds open on the db file (threads share fds; keep global too)
glob_db_fds = set()
pending = {}       # pid -> fd of an unfinished fsync
events = []        # (kind, detail)
for line in open(trace, errors="replace"):
    m = re.match(r"(\d+)\s+\S+\s+(.*)", line)
    if not m:
        continue
    pid, rest = m.groups()
    o = re.match(r'openat\([^,]*, "([^"]*)".*\) = (\d+)', rest)
    if o and o.group(1) == db:
        glob_db_fds.add(int(o.group(2)))
        continue
    f = re.match(r"fsync\((\d+)(\)| <unfinished)", rest)
    if f:
        fd = int(f.group(1))
        if f.group(2) == ")":
            if fd in glob_db_fds:
                events.append(("fsync-db", line.strip()))
        else:
            pending[pid] = fd
        continue
    if rest.startswith("<... fsync resumed>"):
        if pending.pop(pid, None) in glob_db_fds:
            events.append(("fsync-db", line.strip()))
        continue
    if rest.startswith("sync_file_range") or rest.startswith("<... sync_file_range resumed>"):
        if "resumed" in rest or "<unfinished" not in rest:
            events.append(("sync_file_range", line.strip()))
        continue
    if "POST /api/v1/entries" in rest:
        events.append(("request", line.strip()))
    if "HTTP/1.1 201" in rest:
        events.append(("answer-201", line.strip()))
kinds = [k for k, _ in events]
if "request" not in kinds or "answer-201" not in kinds:
    sys.exit("could not find the request and its 201 answer in the trace: %s" % kinds)
req = kinds.index("request")
ans = kinds.index("answer-201")
window = kinds[req:ans]
last_sfr = max((i for i, k in enumerate(window) if k == "sync_file_range"), default=-1)
fsyncs = window.count("fsync-db")
print("between the request and its 201: %d sync_file_range, %d fsync of %s" % (window.count("sync_file_range"), fsyncs, db))
ok = fsyncs >= 2 and "fsync-db" in window[last_sfr + 1:]
print("Store::sync before the acknowledgement:", "OK" if ok else "NOT FOUND")
sys.exit(0 if ok else 1)
PY
