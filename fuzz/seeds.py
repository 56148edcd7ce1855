#!/usr/bin/env python3
"""Extracts seed corpora for the fuzz targets.

    python3 fuzz/seeds.py                                 # committed seeds
    python3 fuzz/seeds.py --reference DIR --out OUTDIR    # run-time seeds

The first form reads the project's own spec/vectors/*.json (plus a few
synthesized inputs) and writes fuzz/seeds/<target>/<sha1-prefix>; only
those are committed. The second reads the published vectors in
DIR/vectors-*.json (../shared/reference), which are read in place and
never copied into the project, and writes seeds into OUTDIR for one run
(.ci/harden does this). libFuzzer's growing corpora are never committed.
Deterministic: rerunning gives the same files.

Parsers do not verify signatures, so seeds for notes without vectors
(checkpoints, receipts, revocations) carry a well-formed dummy signature.
"""
import base64
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")

seeds = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > 64 * 1024:
        return
    seeds.setdefault(target, set()).add(data)


def dummy_sig(name):
    payload = hashlib.sha256(name.encode()).digest()[:4] + bytes(64)
    return "\u2014 %s %s\n" % (name, base64.b64encode(payload).decode())


def strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from strings(v)


def classify(s):
    if "\n\n\u2014 " in s:
        add("note", s)
        add("signed_entry", s)
        add("checkpoint", s)
        text = s[: s.rfind("\n\n") + 1]
        add("entry_text", text)
        lines = text.split("\n")
        if len(lines) >= 3 and lines[1].isdigit():
            add("checkpoint", text)
            # A receipt around this checkpoint.
            add("tlog_proof", "c2sp.org/tlog-proof@v1\nindex 0\n\n" + s)
    elif s.startswith("tallyboard/"):
        add("entry_text", s)
        add("note", s + "\n" + dummy_sig("moi.tallyboard.example/authority"))
    elif s.startswith("tile/"):
        add("tile_path", s)
    elif s.startswith("{") and '"format"' in s:
        add("manifest", s)
        # A small variant (3 stations, their counties and provinces), in
        # canonical form, so mutations are cheap.
        try:
            m = json.loads(s)
            m["stations"] = m["stations"][:3]
            counties = {st["county"] for st in m["stations"]}
            m["counties"] = [c for c in m["counties"] if c["id"] in counties]
            provinces = {c["province"] for c in m["counties"]}
            m["provinces"] = [p for p in m["provinces"] if p["id"] in provinces]
            add(
                "manifest",
                json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            )
        except (KeyError, TypeError, ValueError):
            pass
    elif s.count("+") >= 2 and " " not in s and len(s) < 200:
        add("vkey", s)


def main():
    global OUT
    args = sys.argv[1:]
    if args[:1] == ["--reference"] and len(args) == 4 and args[2] == "--out":
        files = sorted(glob.glob(os.path.join(args[1], "vectors-*.json")))
        OUT = args[3]
        reference_only = True
    else:
        files = sorted(glob.glob(os.path.join(ROOT, "spec", "vectors", "*.json")))
        reference_only = False
    for f in files:
        data = json.load(open(f, encoding="utf-8"))
        for s in strings(data):
            classify(s)
        # Hex blobs: entry bundles and hash tiles from the Merkle vectors.
        if isinstance(data, dict) and "entry_bundle_000" in data:
            add("entry_bundle", bytes.fromhex(data["entry_bundle_000"]))

    if reference_only:
        write_out()
        return

    # Notes and receipts the vectors lack: a checkpoint, a receipt with a
    # proof and an extra line, a revocation, and tile paths of each shape.
    origin = "board.tallyboard.example/demo-1404"
    root = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    cp_text = "%s\n13\n%s\n" % (origin, root)
    cp = cp_text + "\n" + dummy_sig(origin)
    add("checkpoint", cp_text)
    add("checkpoint", cp)
    add("checkpoint", cp_text[:-1] + "\nextension line\n\n" + dummy_sig(origin))
    add("note", cp)
    h = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    add("tlog_proof", "c2sp.org/tlog-proof@v1\nindex 5\n%s\n%s\n\n%s" % (h, h, cp))
    add(
        "tlog_proof",
        "c2sp.org/tlog-proof@v1\nextra %s\nindex 12\n%s\n\n%s"
        % (base64.b64encode(b"extra data").decode(), h, cp),
    )
    rev = (
        "tallyboard/station-key-revocation/v1\nelection 1404-presidential\n"
        "station 31-001-00001\nkey 31-001-00001.1404-presidential.stations."
        "tallyboard.example+22fb4097+Adbr3BCOjmRqkGoiLemxNkMeUKULONQmPIDfAmZgf8bu\n"
        "reason key compromised\n"
    )
    add("entry_text", rev)
    add("signed_entry", rev + "\n" + dummy_sig("moi.tallyboard.example/authority"))
    for p in [
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/x001/x234/067.p/8",
        "tile/63/x999/999",
    ]:
        add("tile_path", p)
    bundle = b""
    for e in sorted(seeds.get("signed_entry", []))[:3]:
        bundle += len(e).to_bytes(2, "big") + e
    add("entry_bundle", bundle)
    add("entry_bundle", b"\x00\x00")
    # tlog-witness add-checkpoint requests (spec/witness.md §3.1): a first
    # checkpoint, and one with a consistency proof.
    add("witness_request", "old 0\n\n" + cp)
    add("witness_request", "old 7\n%s\n%s\n\n%s" % (h, h, cp))
    # A witness state file: the checkpoint with a (dummy) cosignature line.
    add("witness_state", cp + dummy_sig("shora.tallyboard.example/witness"))
    # The project's own policy, alone and followed by a checkpoint note.
    with open(os.path.join(ROOT, "keys", "policy.txt"), "rb") as f:
        policy = f.read()
    add("policy", policy)
    add("policy", policy + b"\x00" + cp.encode())

    write_out()


def write_out():
    total = 0
    for target, items in sorted(seeds.items()):
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        for item in sorted(items):
            name = hashlib.sha1(item).hexdigest()[:16]
            with open(os.path.join(d, name), "wb") as f:
                f.write(item)
            total += 1
        print("%-14s %3d seeds" % (target, len(items)))
    print("%d seed files in %s" % (total, OUT))


if __name__ == "__main__":
    main()
