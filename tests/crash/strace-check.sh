#!/usr/bin/env bash
# Manual check (not in CI; needs strace and curl) that the board makes the
# journal record of a commit durable -- one fdatasync of a journal segment --
# before it answers a submission (spec/operations.md §1.4).
#
#   TALLYBOARD=target/debug/tallyboard bash tests/crash/strace-check.sh
#
# Runs `tallyboard serve` under strace, submits one entry, and checks in the
# trace that the `HTTP/1.1 201` response is written only after exactly one
# fdatasync of a file under journal/ since the request arrived.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
bin="${TALLYBOARD:-$target/debug/tallyboard}"
command -v strace >/dev/null || { echo "needs strace" >&2; exit 2; }
tmp="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill $(pgrep -P "$pid") "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

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
  -e trace=openat,fsync,fdatasync,write,writev,pwrite64,sendto,sendmsg,recvfrom,read \
  "$bin" serve --listen 127.0.0.1:0 --data "$tmp/data" --log-key "$tmp/log.key" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do grep -q '^listening on ' "$tmp/out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$tmp/out" | head -n1)"
[ -n "$url" ] || { cat "$tmp/err" >&2; exit 1; }
curl -sS -o /dev/null -w 'submit: HTTP %{http_code}\n' -H 'Content-Type: text/plain' \
  --data-binary @"$tmp/entry" "$url/api/v1/entries"
sleep 0.3
python3 - "$tmp/trace" "$tmp/data/journal/" <<'PY'
import re, sys
trace, journal = sys.argv[1], sys.argv[2]
fds = set()        # fds open on a journal segment (threads share fds)
pending = {}       # pid -> fd of an unfinished fdatasync
events = []
for line in open(trace, errors="replace"):
    m = re.match(r"(\d+)\s+\S+\s+(.*)", line)
    if not m:
        continue
    pid, rest = m.groups()
    o = re.match(r'openat\([^,]*, "([^"]*)".*\) = (\d+)', rest)
    if o and o.group(1).startswith(journal):
        fds.add(int(o.group(2)))
        continue
    f = re.match(r"fdatasync\((\d+)(\)| <unfinished)", rest)
    if f:
        fd = int(f.group(1))
        if f.group(2) == ")":
            if fd in fds:
                events.append("fdatasync-journal")
        else:
            pending[pid] = fd
        continue
    if rest.startswith("<... fdatasync resumed>"):
        if pending.pop(pid, None) in fds:
            events.append("fdatasync-journal")
        continue
    if "POST /api/v1/entries" in rest:
        events.append("request")
    if "HTTP/1.1 201" in rest:
        events.append("answer-201")
if "request" not in events or "answer-201" not in events:
    sys.exit("could not find the request and its 201 answer in the trace: %s" % events)
window = events[events.index("request"):events.index("answer-201")]
n = window.count("fdatasync-journal")
print("between the request and its 201: %d fdatasync of a journal segment" % n)
print("one durable write before the acknowledgement:", "OK" if n == 1 else "NOT FOUND")
sys.exit(0 if n == 1 else 1)
PY
