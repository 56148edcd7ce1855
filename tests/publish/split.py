"""Splits `tallyboard synth`'s entries.bundle for tests/publish/run.sh.

entries.bundle is the setup (manifest commitment, then one key registration
per station) followed by one tally per station, each entry a uint16
big-endian length and the entry's bytes (spec/tiles.md section 3). Writes
setup.bundle, first.bundle (two thirds of the tallies), second.bundle (the
next sixth), rest/NNNN.note (the last sixth, one signed note each, for
`tallyboard submit`). The minutes image each tally names is synth's own
(minutes/<sha256>.png beside entries.bundle).

    python3 split.py ENTRIES_BUNDLE STATIONS OUT_DIR
"""

import os
import struct
import sys


def read_entries(path):
    data = open(path, "rb").read()
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack(">H", data[i : i + 2])
        out.append(data[i + 2 : i + 2 + n])
        i += 2 + n
    if i != len(data):
        sys.exit(f"{path}: truncated entry")
    return out


def write_bundle(path, entries):
    with open(path, "wb") as f:
        for e in entries:
            f.write(struct.pack(">H", len(e)) + e)


def main():
    path, stations, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    entries = read_entries(path)
    if len(entries) != 1 + 2 * stations:
        sys.exit(f"{path}: {len(entries)} entries, expected {1 + 2 * stations}")
    setup, tallies = entries[: 1 + stations], entries[1 + stations :]
    a, b = stations * 2 // 3, stations * 5 // 6
    os.makedirs(os.path.join(out, "rest"), exist_ok=True)
    write_bundle(os.path.join(out, "setup.bundle"), setup)
    write_bundle(os.path.join(out, "first.bundle"), tallies[:a])
    write_bundle(os.path.join(out, "second.bundle"), tallies[a:b])
    for k, e in enumerate(tallies[b:]):
        with open(os.path.join(out, "rest", f"{k:04d}.note"), "wb") as f:
            f.write(e)


main()
