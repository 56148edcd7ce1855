// tallyboard-interop: checks a tallyboard export with the Go checksum
// database's reference libraries, golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog (Debian golang-golang-x-mod-dev), which share
// no code with tallyboard.
//
// Usage: tallyboard-interop EXPORT_DIR LOG_VKEY RECEIPT ENTRY
//
// Checks, each failing loudly:
//  1. the checkpoint opens with note.Open under the log's verifier key and
//     its text is a C2SP checkpoint for the key's origin;
//  2. tlog.TileHashReader accepts our tiles (it authenticates every tile it
//     reads against the checkpoint's root) and tlog.TreeHash gives the root;
//  3. every entry bundle decodes, tlog.RecordHash of each entry equals the
//     level-0 tile hash, and tlog.StoredHashes over the entries alone
//     rebuilds the same root;
//  4. tlog.ProveRecord/CheckRecord for a spread of indexes, and
//     tlog.ProveTree/CheckTree from several older sizes;
//  5. the receipt (C2SP tlog-proof): its checkpoint opens with note.Open and
//     tlog.CheckRecord accepts its inclusion proof for the entry;
//  6. entry 0 commits to SHA-256(api/v1/manifest.json); every station-key
//     registration opens with note.Open under the manifest's authority key,
//     and the receipt's entry (a tally) opens under the registered station key.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go interop: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func ok(format string, args ...interface{}) {
	fmt.Printf("go interop: ok: "+format+"\n", args...)
}

// tileReader serves C2SP tlog-tiles paths: sumdb's Tile.Path() is
// tile/<H>/<L>/<N>[.p/<W>]; C2SP drops the height (fixed at 8).
type tileReader struct{ dir string }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := strings.TrimPrefix(t.Path(), "tile/8/")
		b, err := os.ReadFile(filepath.Join(r.dir, "tile", p))
		if err != nil && t.W < 256 {
			// tlog-tiles: a full tile may replace a partial one.
			full := t
			full.W = 256
			if fb, ferr := os.ReadFile(filepath.Join(r.dir, "tile", strings.TrimPrefix(full.Path(), "tile/8/"))); ferr == nil {
				b, err = fb[:t.W*32], nil
			}
		}
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func openCheckpoint(msg []byte, v note.Verifier, origin string) checkpoint {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open(checkpoint): %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		fail("checkpoint text is not origin/size/root lines: %q", n.Text)
	}
	if lines[0] != origin {
		fail("checkpoint origin %q, expected %q", lines[0], origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint size %q is not canonical decimal", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root %q: %v", lines[2], err)
	}
	return checkpoint{lines[0], size, root}
}

func readBundles(dir string, size int64) [][]byte {
	var entries [][]byte
	for n := int64(0); n*256 < size; n++ {
		w := size - n*256
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: 0, N: n, W: int(w)}
		p := "tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/0/")
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			fail("reading %s: %v", p, err)
		}
		count := int64(0)
		for len(b) > 0 {
			if len(b) < 2 {
				fail("%s: truncated length prefix", p)
			}
			l := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+l {
				fail("%s: truncated entry", p)
			}
			entries = append(entries, b[2:2+l])
			b = b[2+l:]
			count++
		}
		if count != w {
			fail("%s holds %d entries, want %d", p, count, w)
		}
	}
	return entries
}

func field(text, name string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return strings.TrimPrefix(l, name+" ")
		}
	}
	return ""
}

type memHashes []tlog.Hash

func (m *memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(*m)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: tallyboard-interop EXPORT_DIR LOG_VKEY RECEIPT ENTRY")
		os.Exit(2)
	}
	dir, vkey, receiptFile, entryFile := os.Args[1], strings.TrimSpace(os.Args[2]), os.Args[3], os.Args[4]
	if b, err := os.ReadFile(vkey); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	logV, err := note.NewVerifier(vkey)
	if err != nil {
		fail("note.NewVerifier(log vkey %q): %v", vkey, err)
	}
	origin := logV.Name()

	// 1. The checkpoint.
	cpBytes, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	cp := openCheckpoint(cpBytes, logV, origin)
	ok("checkpoint opens with note.Open: origin %s, size %d, root %s", cp.origin, cp.size, cp.root)

	// 2. Tiles, authenticated by tlog.TileHashReader against the root.
	tree := tlog.Tree{N: cp.size, Hash: cp.root}
	hr := tlog.TileHashReader(tree, tileReader{dir})
	th, err := tlog.TreeHash(cp.size, hr)
	if err != nil {
		fail("tlog.TreeHash over tiles: %v", err)
	}
	if th != cp.root {
		fail("tlog.TreeHash over tiles = %s, checkpoint root %s", th, cp.root)
	}
	ok("tlog.TileHashReader accepts the tiles; tlog.TreeHash = checkpoint root")

	// 3. Entries: record hashes vs tiles, and an independent rebuild.
	entries := readBundles(dir, cp.size)
	var mem memHashes
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, &mem)
		if err != nil {
			fail("tlog.StoredHashes(%d): %v", i, err)
		}
		mem = append(mem, hs...)
	}
	memRoot, err := tlog.TreeHash(cp.size, &mem)
	if err != nil || memRoot != cp.root {
		fail("root rebuilt from the %d entries = %s (%v), checkpoint %s", len(entries), memRoot, err, cp.root)
	}
	idx := make([]int64, len(entries))
	for i := range entries {
		idx[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := hr.ReadHashes(idx)
	if err != nil {
		fail("reading level-0 tile hashes: %v", err)
	}
	for i, e := range entries {
		if tlog.RecordHash(e) != leaves[i] {
			fail("entry %d: tlog.RecordHash differs from the level-0 tile hash", i)
		}
	}
	ok("%d entries: tlog.RecordHash matches every level-0 tile hash; tlog.StoredHashes rebuilds the root", len(entries))

	// 4. Proofs from tiles.
	nproofs := 0
	for _, i := range []int64{0, 1, cp.size / 3, cp.size / 2, cp.size - 2, cp.size - 1} {
		if i < 0 || i >= cp.size {
			continue
		}
		p, err := tlog.ProveRecord(cp.size, i, hr)
		if err != nil {
			fail("tlog.ProveRecord(%d): %v", i, err)
		}
		if err := tlog.CheckRecord(p, cp.size, cp.root, i, tlog.RecordHash(entries[i])); err != nil {
			fail("tlog.CheckRecord(%d): %v", i, err)
		}
		nproofs++
	}
	for _, old := range []int64{1, 2, cp.size / 2, cp.size - 1} {
		if old < 1 || old >= cp.size {
			continue
		}
		p, err := tlog.ProveTree(cp.size, old, hr)
		if err != nil {
			fail("tlog.ProveTree(%d): %v", old, err)
		}
		oh, err := tlog.TreeHash(old, &mem)
		if err != nil {
			fail("%v", err)
		}
		if err := tlog.CheckTree(p, cp.size, cp.root, old, oh); err != nil {
			fail("tlog.CheckTree(%d -> %d): %v", old, cp.size, err)
		}
		nproofs++
	}
	ok("%d inclusion and consistency proofs derived from tiles pass tlog.CheckRecord/CheckTree", nproofs)

	// 5. The receipt (C2SP tlog-proof).
	rb, err := os.ReadFile(receiptFile)
	if err != nil {
		fail("%v", err)
	}
	entry, err := os.ReadFile(entryFile)
	if err != nil {
		fail("%v", err)
	}
	sep := bytes.Index(rb, []byte("\n\n"))
	if sep < 0 {
		fail("receipt has no blank line")
	}
	head := strings.Split(string(rb[:sep]), "\n")
	if head[0] != "c2sp.org/tlog-proof@v1" {
		fail("receipt header %q", head[0])
	}
	k := 1
	if strings.HasPrefix(head[k], "extra ") {
		k++
	}
	if !strings.HasPrefix(head[k], "index ") {
		fail("receipt line %d: %q", k+1, head[k])
	}
	rindex, err := strconv.ParseInt(strings.TrimPrefix(head[k], "index "), 10, 64)
	if err != nil {
		fail("receipt index: %v", err)
	}
	var rproof tlog.RecordProof
	for _, l := range head[k+1:] {
		h, err := tlog.ParseHash(l)
		if err != nil {
			fail("receipt hash %q: %v", l, err)
		}
		rproof = append(rproof, h)
	}
	rcp := openCheckpoint(rb[sep+2:], logV, origin)
	if err := tlog.CheckRecord(rproof, rcp.size, rcp.root, rindex, tlog.RecordHash(entry)); err != nil {
		fail("receipt: tlog.CheckRecord(index %d, size %d): %v", rindex, rcp.size, err)
	}
	ok("receipt for entry %d verifies offline (note.Open + tlog.CheckRecord at size %d)", rindex, rcp.size)

	// 6. Entry signatures with sumdb/note.
	mb, err := os.ReadFile(filepath.Join(dir, "api", "v1", "manifest.json"))
	if err != nil {
		fail("%v", err)
	}
	var manifest struct {
		Keys struct {
			Authority string `json:"authority"`
			Log       string `json:"log"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(mb, &manifest); err != nil {
		fail("manifest: %v", err)
	}
	if manifest.Keys.Log != vkey {
		fail("manifest log key %q differs from %q", manifest.Keys.Log, vkey)
	}
	authV, err := note.NewVerifier(manifest.Keys.Authority)
	if err != nil {
		fail("note.NewVerifier(authority %q): %v", manifest.Keys.Authority, err)
	}
	n0, err := note.Open(entries[0], note.VerifierList(authV))
	if err != nil {
		fail("entry 0: note.Open under the authority key: %v", err)
	}
	digest := sha256.Sum256(mb)
	if field(n0.Text, "manifest-sha256") != hex.EncodeToString(digest[:]) {
		fail("entry 0 commits to manifest %s, api/v1/manifest.json has %x", field(n0.Text, "manifest-sha256"), digest)
	}
	stationKeys := map[string]string{}
	for i, e := range entries {
		if !bytes.HasPrefix(e, []byte("tallyboard/station-key/v1\n")) {
			continue
		}
		n, err := note.Open(e, note.VerifierList(authV))
		if err != nil {
			fail("entry %d (station key): note.Open under the authority key: %v", i, err)
		}
		stationKeys[field(n.Text, "station")] = field(n.Text, "key")
	}
	en, err := note.Open(entry, note.VerifierList(authV))
	station := ""
	if err == nil {
		station = field(en.Text, "station")
	} else {
		// A tally: find its station and open it with the registered key.
		raw := string(entry)
		station = field(raw, "station")
		sk, found := stationKeys[station]
		if !found {
			fail("receipt entry: station %q has no registered key in the log", station)
		}
		sv, err := note.NewVerifier(sk)
		if err != nil {
			fail("note.NewVerifier(station key %q): %v", sk, err)
		}
		if _, err := note.Open(entry, note.VerifierList(sv)); err != nil {
			fail("receipt entry: note.Open under station %s's key: %v", station, err)
		}
	}
	ok("manifest digest matches entry 0; %d station-key registrations open under the authority key; the receipt's entry (station %s) opens under its key", len(stationKeys), station)
}
