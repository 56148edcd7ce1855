#!/usr/bin/env python3
"""The adversarial run of .ci/harden (issue 17's "measure"): a board is hit
as a hostile client with a laptop would, and the figures are printed.

    python3 tests/abuse/run.py URL DATA_DIR [SECONDS]

URL is a running board that holds logged tallies; DATA_DIR is its data
directory (to see what reached the disk). Three attacks, each next to a
prober that GETs /checkpoint (what witnesses and citizens poll) every 10 ms:

1. blob abuse: anonymous uploads of 1 MiB of noise, and uploads claiming a
   station without its signature: every one must be refused (4xx) and the
   store's blobs directory must not grow;
2. export flood: two clients GET and HEAD every export as fast as they can;
3. /live flood: 600 streams opened and never read (beyond the board's
   caps, which must answer 503 with Retry-After).

Exit status 1 if a blob was stored, an abusive request got a 2xx or a 5xx
other than the documented 503s, or /checkpoint failed to answer. The
latencies are printed, never asserted (spec/operations.md §5).
"""

import hashlib
import http.client
import os
import socket
import statistics
import sys
import threading
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def request(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


class Prober(threading.Thread):
    """GETs /checkpoint every 10 ms; records latencies and failures."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.lat, self.failures, self.stop = url, [], 0, False

    def run(self):
        c = conn(self.url)
        while not self.stop:
            t = time.monotonic()
            try:
                status, _, _ = request(c, "GET", "/checkpoint")
                if status != 200:
                    self.failures += 1
            except Exception:
                self.failures += 1
                c = conn(self.url)
            self.lat.append((time.monotonic() - t) * 1000)
            time.sleep(0.01)

    def figures(self):
        if not self.lat:
            return "no answer"
        q = statistics.quantiles(self.lat, n=100) if len(self.lat) > 1 else self.lat * 99
        return f"/checkpoint p50 {statistics.median(self.lat):.1f} ms, p99 {q[98]:.1f} ms, max {max(self.lat):.1f} ms ({len(self.lat)} probes, {self.failures} failed)"


def probed(url, seconds, attack):
    p = Prober(url)
    p.start()
    out = attack(seconds)
    p.stop = True
    p.join()
    return out, p


def blob_count(data):
    d = os.path.join(data, "blobs")
    return len(os.listdir(d)) if os.path.isdir(d) else 0


def main():
    url, data = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    bad = []

    # 1. blob abuse.
    before = blob_count(data)
    sent = {"n": 0, "bytes": 0, "statuses": {}}

    def blobs(secs):
        c = conn(url)
        end = time.monotonic() + secs
        while time.monotonic() < end:
            body = os.urandom(1 << 20)
            h = hashlib.sha256(body).hexdigest()
            for headers in (
                {"X-Content-SHA256": h, "Content-Type": "text/plain"},
                {"X-Content-SHA256": h, "X-Tallyboard-Station": "01-001-00011",
                 "X-Tallyboard-Signature": "01-001-00011.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
            ):
                try:
                    status, _, _ = request(c, "POST", "/api/v1/blobs", body, headers)
                except Exception:
                    c = conn(url)
                    status = "closed"
                sent["n"] += 1
                sent["bytes"] += len(body)
                sent["statuses"][status] = sent["statuses"].get(status, 0) + 1
                if status == "closed" or not (400 <= status < 500):
                    if status != "closed":
                        bad.append(f"blob upload answered {status}")
        return sent

    _, p = probed(url, seconds, blobs)
    grown = blob_count(data) - before
    print(f"blob abuse: {sent['n']} uploads ({sent['bytes'] >> 20} MiB) answered {sent['statuses']}; blobs stored: {grown}; {p.figures()}")
    if grown:
        bad.append(f"{grown} blobs were stored")

    # 2. export flood.
    counts = {"n": 0, "statuses": {}}

    def exports(secs):
        def client():
            c = conn(url)
            end = time.monotonic() + secs
            while time.monotonic() < end:
                for method in ("GET", "HEAD"):
                    for name in ("results.csv", "results.json", "nist-err.json"):
                        try:
                            status, _, _ = request(c, method, f"/api/v1/exports/{name}")
                        except Exception:
                            c = conn(url)
                            status = "closed"
                        counts["n"] += 1
                        counts["statuses"][status] = counts["statuses"].get(status, 0) + 1
                        if status not in (200, 503):
                            bad.append(f"export {name} answered {status}")
        ts = [threading.Thread(target=client) for _ in range(2)]
        [t.start() for t in ts]
        [t.join() for t in ts]

    _, p = probed(url, seconds, exports)
    print(f"export flood: 2 clients, {counts['n']} requests answered {counts['statuses']}; {p.figures()}")
    if p.failures:
        bad.append(f"/checkpoint failed {p.failures} times under the export flood")

    # 3. /live flood: streams opened and never read.
    u = urllib.parse.urlsplit(url)
    opened, refused = [], {}

    def live(secs):
        for _ in range(600):
            s = socket.create_connection((u.hostname, u.port), timeout=10)
            s.sendall(b"GET /live HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            head = s.recv(256).split(b"\r\n", 1)[0].decode(errors="replace")
            status = head.split(" ")[1] if " " in head else "?"
            refused[status] = refused.get(status, 0) + 1
            if status == "200":
                opened.append(s)
            else:
                s.close()
        time.sleep(secs)

    _, p = probed(url, seconds, live)
    for s in opened:
        s.close()
    print(f"/live flood: 600 unread streams, answered {refused}; {p.figures()}")
    if set(refused) - {"200", "503"}:
        bad.append(f"/live answered {refused}")
    if p.failures:
        bad.append(f"/checkpoint failed {p.failures} times under the /live flood")

    if bad:
        print("abuse FAILED:", "; ".join(sorted(set(bad))[:10]))
        sys.exit(1)
    print("abuse: every abusive request refused, nothing stored, /checkpoint answered throughout")


main()
