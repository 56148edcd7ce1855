#!/usr/bin/env python3
"""Checks a tallyboard export with independent Python code.

Usage: verify.py EXPORT_DIR LOG_VKEY RECEIPT ENTRY [PROVE_INDEX]

Two implementations that share nothing with tallyboard:

* tlog-scales (PyPI, a C2SP tlog-tiles client): Checkpoint.from_text +
  Vkey.match + verify, TilesReader over the export (root from tiles,
  entries, inclusion and consistency proofs, InclusionProof.check /
  ConsistencyProof.check), and `tlog-tiles gen-proof`, whose receipt must be
  byte-identical to ours for the same index and checkpoint;
* a few lines of plain Python + `cryptography` (Ed25519): the signed-note
  parse, key ID and signature of the checkpoint, the RFC 6962 root rebuilt
  from the entries alone, and the receipt (C2SP tlog-proof).

Exits 1 on the first mismatch, printing what differed.
"""

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tlog_scales import backend, signing, tlog
from tlog_scales.reader import TilesReader


def fail(msg):
    print(f"python interop: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print(f"python interop: ok: {msg}")


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    """RFC 6962 section 2.1, written out independently."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def parse_vkey(vkey):
    name, key_id, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if raw[0] != 1 or len(raw) != 33:
        fail(f"vkey {vkey!r} is not an Ed25519 (type 0x01) key")
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()
    if want != key_id:
        fail(f"vkey key ID {key_id} != SHA-256(name || 0x0A || 0x01 || key)[:4] = {want}")
    return name, bytes.fromhex(key_id), raw[1:]


def open_note(data, vkey):
    """C2SP signed-note: text, blank line, signature lines; verify ours."""
    name, key_id, pub = parse_vkey(vkey)
    text_end = data.rfind(b"\n\n")
    if text_end < 0 or not data.endswith(b"\n"):
        fail("note has no blank line before its signatures")
    text = data[: text_end + 1]
    found = False
    for line in data[text_end + 2 : -1].decode().split("\n"):
        if not line.startswith("\u2014 "):
            fail(f"signature line {line!r} does not start with an em dash")
        sig_name, b64 = line[2:].split(" ")
        blob = base64.b64decode(b64, validate=True)
        if sig_name == name and blob[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(pub).verify(blob[4:], text)
            found = True
    if not found:
        fail(f"no signature by {name}")
    return text.decode()


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    export, vkey, receipt_file, entry_file = sys.argv[1:5]
    prove_index = int(sys.argv[5]) if len(sys.argv) == 6 else None
    export = str(Path(export).resolve())
    if Path(vkey).is_file():
        vkey = Path(vkey).read_text().strip()
    name = vkey.split("+")[0]

    # 1. The checkpoint, with tlog-scales and by hand.
    cp_bytes = Path(export, "checkpoint").read_bytes()
    reader = TilesReader(backend.make_backend(export))
    cp = reader.get_checkpoint()
    vk = signing.Vkey.from_string(vkey)
    if not any(vk.match(s) for s in cp.signatures):
        fail("tlog-scales: no checkpoint signature matches the log vkey")
    cp.verify(vk)  # raises InvalidSignature on a bad signature
    if cp.serialize().encode() != cp_bytes:
        fail("tlog-scales re-serializes the checkpoint differently from what we publish")
    text = open_note(cp_bytes, vkey)
    origin, size_s, root_b64 = text.split("\n")[:3]
    if origin != name or str(int(size_s)) != size_s or base64.b64decode(root_b64) != cp.root_hash:
        fail(f"checkpoint text {text!r}")
    size, root = cp.size, cp.root_hash
    ok(f"checkpoint verifies (tlog-scales and cryptography): {origin}, size {size}")

    # 2. Root from tiles (tlog-scales) and from the entries alone.
    if reader.calculate_root_hash() != root:
        fail("tlog-scales: root computed from tiles differs from the checkpoint")
    entries = [reader.get_entry(i) for i in range(size)]
    leaves = [leaf_hash(e) for e in entries]
    if mth(leaves) != root:
        fail("RFC 6962 root of the entries differs from the checkpoint")
    ok(f"root from tiles (tlog-scales) and from the {size} entries (plain Python) = checkpoint root")

    # 3. Proofs from tiles (tlog-scales), checked with tlog-scales.
    n = 0
    for i in sorted({0, 1, size // 3, size // 2, size - 2, size - 1}):
        if 0 <= i < size:
            reader.get_inclusion_proof(i, size).check(leaves[i], root)
            n += 1
    for old in sorted({1, 2, size // 2, size - 1}):
        if 0 < old < size:
            reader.get_consistency_proof(old, size).check(mth(leaves[:old]), root)
            n += 1
    ok(f"{n} inclusion and consistency proofs from tiles pass InclusionProof/ConsistencyProof.check")

    # 4. The receipt (C2SP tlog-proof).
    rb = Path(receipt_file).read_bytes()
    entry = Path(entry_file).read_bytes()
    head, _, rcp_bytes = rb.partition(b"\n\n")
    lines = head.decode().split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        fail(f"receipt header {lines[0]!r}")
    k = 2 if lines[1].startswith("extra ") else 1
    if not lines[k].startswith("index "):
        fail(f"receipt line {k + 1}: {lines[k]!r}")
    index = int(lines[k][6:])
    hashes = [base64.b64decode(h, validate=True) for h in lines[k + 1 :]]
    rcp = tlog.Checkpoint.from_text(rcp_bytes.decode())
    if not any(vk.match(s) for s in rcp.signatures):
        fail("receipt checkpoint: no signature by the log")
    rcp.verify(vk)
    open_note(rcp_bytes, vkey)
    tlog.InclusionProof(index, rcp.size, hashes).check(leaf_hash(entry), rcp.root_hash)
    ok(f"receipt for entry {index} verifies offline at size {rcp.size} (tlog-scales)")

    # 5. tlog-scales' own receipt for the same index must be ours, byte for byte.
    if prove_index is not None:
        theirs = subprocess.run(
            ["tlog-tiles", "gen-proof", export, str(prove_index)],
            check=True,
            capture_output=True,
        ).stdout
        if rcp.size == size and index == prove_index and theirs != rb:
            fail(f"tlog-tiles gen-proof {prove_index} differs from our receipt:\n{theirs.decode()}")
        ok(f"tlog-tiles gen-proof {prove_index} is byte-identical to our receipt")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # a library raising is a verification failure
        fail(f"{type(e).__name__}: {e}")
