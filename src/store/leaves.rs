//! Leaf hash → index, on disk (`spec/storage.md` §2): which entry, if any,
//! has these exact bytes (idempotent resubmission, `?leaf=` proofs).
//!
//! Sorted runs, written at each settle (§3) for the entries since the
//! previous one: `leaves/<start>-<end>` holds one 16-byte record per entry
//! of `[start, end)`, the first 8 bytes of its leaf hash (big-endian, so
//! that byte order sorts) and its index, sorted, then the SHA-256 of the
//! records. Four runs of the same tier are merged into one, so a log of
//! `n` entries has O(log n) runs. In memory: every 256th key of each run
//! (8 bytes per 256 entries) and the entries since the last settle, which
//! a settle bounds. A look-up reads one 4 KiB block per run; its answers
//! are candidates that the caller confirms against the stored leaf hash,
//! so a shared prefix never makes one entry stand for another.

use super::blobs::sync_dir;
use super::{StoreError, StoreResult};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tallyboard_core::Hash;

const RECORD: u64 = 16;
/// Records per block (one fence key each in memory).
const BLOCK: u64 = 256;
/// Runs of one tier merged at once.
const FANOUT: usize = 4;
/// Entries of the smallest tier.
const TIER0: u64 = 16_384;

/// The first 8 bytes of a leaf hash, as the sort key.
pub fn prefix(leaf: &Hash) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&leaf.0[..8]);
    u64::from_be_bytes(p)
}

struct Run {
    start: u64,
    end: u64,
    file: File,
    /// The key of the first record of every block.
    fences: Vec<u64>,
}

impl Run {
    fn count(&self) -> u64 {
        self.end - self.start
    }

    fn tier(&self) -> u32 {
        let mut t = 0;
        let mut c = self.count() / TIER0;
        while c >= FANOUT as u64 {
            c /= FANOUT as u64;
            t += 1;
        }
        t
    }

    fn lookup(&self, key: u64, out: &mut Vec<u64>) -> StoreResult<()> {
        // Blocks whose first key is ≤ key, starting from the last block
        // whose first key is < key (equal keys may straddle blocks).
        let first = self.fences.partition_point(|&f| f < key).saturating_sub(1);
        let count = self.count();
        for b in first as u64..self.fences.len() as u64 {
            if self.fences[b as usize] > key {
                break;
            }
            let n = (count - b * BLOCK).min(BLOCK);
            let mut buf = vec![0u8; (n * RECORD) as usize];
            self.file
                .read_exact_at(&mut buf, b * BLOCK * RECORD)
                .map_err(|e| StoreError::io("reading the leaf index", e))?;
            let mut past = false;
            for r in buf.chunks_exact(RECORD as usize) {
                let (k, i) = decode(r);
                if k == key {
                    out.push(i);
                } else if k > key {
                    past = true;
                    break;
                }
            }
            if past {
                break;
            }
        }
        Ok(())
    }
}

fn decode(r: &[u8]) -> (u64, u64) {
    let mut k = [0u8; 8];
    let mut i = [0u8; 8];
    k.copy_from_slice(&r[..8]);
    i.copy_from_slice(&r[8..16]);
    (u64::from_be_bytes(k), u64::from_le_bytes(i))
}

fn encode(key: u64, index: u64) -> [u8; 16] {
    let mut r = [0u8; 16];
    r[..8].copy_from_slice(&key.to_be_bytes());
    r[8..].copy_from_slice(&index.to_le_bytes());
    r
}

fn run_name(start: u64, end: u64) -> String {
    format!("{start:020}-{end:020}")
}

fn parse_name(name: &str) -> Option<(u64, u64)> {
    let (a, b) = name.split_once('-')?;
    if a.len() != 20 || b.len() != 20 {
        return None;
    }
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a < b).then_some((a, b))
}

/// The leaf index.
pub struct Leaves {
    dir: PathBuf,
    runs: Vec<Run>,
    /// Entries `[covered, …)` not yet in a run.
    covered: u64,
    tail: HashMap<u64, u64>,
    /// Tail entries whose key another tail entry already has.
    collisions: Vec<(u64, u64)>,
}

impl Leaves {
    /// An empty index in `dir`.
    #[cfg(test)]
    pub fn create(dir: &Path) -> StoreResult<Leaves> {
        fs::create_dir_all(dir)
            .map_err(|e| StoreError::io(format!("creating {}", dir.display()), e))?;
        Ok(Leaves {
            dir: dir.to_path_buf(),
            runs: Vec::new(),
            covered: 0,
            tail: HashMap::new(),
            collisions: Vec::new(),
        })
    }

    /// Opens the runs in `dir`: they must cover `[0, at_least)` or more,
    /// each matching its checksum. Runs a crash left beside the merged run
    /// that replaces them, and temporary files, are removed when `writer`.
    pub fn open(dir: &Path, at_least: u64, writer: bool) -> StoreResult<Leaves> {
        let mut found: Vec<(u64, u64, PathBuf)> = Vec::new();
        let rd = fs::read_dir(dir)
            .map_err(|e| StoreError::io(format!("listing {}", dir.display()), e))?;
        for e in rd {
            let e = e.map_err(|e| StoreError::io(format!("listing {}", dir.display()), e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            match parse_name(&name) {
                Some((a, b)) => found.push((a, b, e.path())),
                None if writer && name.ends_with(".tmp") => {
                    let _ = fs::remove_file(e.path());
                }
                None => {
                    return Err(StoreError::corrupt(format!(
                        "{}: unexpected file {name} in the leaf index",
                        dir.display()
                    )))
                }
            }
        }
        // The chain from 0, taking the widest run at each step.
        found.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)));
        let mut chain = Vec::new();
        let mut pos = 0u64;
        for (a, b, p) in &found {
            if *a == pos {
                chain.push((*a, *b, p.clone()));
                pos = *b;
            } else if writer && *b <= pos {
                // Inputs of a merge whose output is in the chain.
                let _ = fs::remove_file(p);
            }
        }
        if pos < at_least {
            return Err(StoreError::truncated(format!(
                "{}: the leaf index covers entries [0, {pos}), but entries up to {at_least} were settled",
                dir.display()
            )));
        }
        let mut runs = Vec::with_capacity(chain.len());
        for (a, b, p) in chain {
            runs.push(load_run(&p, a, b)?);
        }
        Ok(Leaves {
            dir: dir.to_path_buf(),
            runs,
            covered: pos,
            tail: HashMap::new(),
            collisions: Vec::new(),
        })
    }

    /// The first entry not in a run.
    pub fn covered(&self) -> u64 {
        self.covered
    }

    /// Adds the entry at `index` (the next one after the runs and the tail).
    pub fn insert(&mut self, leaf: &Hash, index: u64) {
        if index < self.covered {
            // Already in a run (a replay after a settle whose base was lost).
            return;
        }
        let key = prefix(leaf);
        if let Some(prev) = self.tail.insert(key, index) {
            self.collisions.push((key, prev));
        }
    }

    /// Candidate indexes for `leaf`.
    pub fn candidates(&self, leaf: &Hash) -> StoreResult<Vec<u64>> {
        let key = prefix(leaf);
        let mut out = Vec::new();
        if let Some(&i) = self.tail.get(&key) {
            out.push(i);
        }
        out.extend(
            self.collisions
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, i)| *i),
        );
        for r in &self.runs {
            r.lookup(key, &mut out)?;
        }
        Ok(out)
    }

    /// Writes the tail entries below `end` as a run (fsynced), merges runs
    /// of one tier, and drops them from memory.
    pub fn settle(&mut self, end: u64) -> StoreResult<()> {
        if end <= self.covered {
            return Ok(());
        }
        let mut records: Vec<(u64, u64)> = self
            .tail
            .iter()
            .map(|(k, i)| (*k, *i))
            .chain(self.collisions.iter().copied())
            .filter(|(_, i)| *i < end)
            .collect();
        if records.len() as u64 != end - self.covered {
            return Err(StoreError::storage(format!(
                "the leaf index holds {} of the entries [{}, {end})",
                records.len(),
                self.covered
            )));
        }
        records.sort_unstable();
        let path = self.dir.join(run_name(self.covered, end));
        write_run(&path, records.iter().copied())?;
        sync_dir(&self.dir)?;
        self.runs.push(load_run(&path, self.covered, end)?);
        self.covered = end;
        self.tail.retain(|_, i| *i >= end);
        self.collisions.retain(|(_, i)| *i >= end);
        self.merge()
    }

    fn merge(&mut self) -> StoreResult<()> {
        loop {
            let n = self.runs.len();
            if n < FANOUT {
                return Ok(());
            }
            let tier = self.runs[n - 1].tier();
            if !self.runs[n - FANOUT..].iter().all(|r| r.tier() == tier) {
                return Ok(());
            }
            let inputs: Vec<Run> = self.runs.drain(n - FANOUT..).collect();
            let (start, end) = (inputs[0].start, inputs[FANOUT - 1].end);
            let path = self.dir.join(run_name(start, end));
            let mut readers = Vec::new();
            for r in &inputs {
                // A descriptor of its own: a clone would share the offset.
                let f = File::open(self.dir.join(run_name(r.start, r.end)))
                    .map_err(|e| StoreError::io("reading the leaf index", e))?;
                readers.push(RunReader::new(f, r.count()));
            }
            write_run(&path, MergeIter { readers })?;
            sync_dir(&self.dir)?;
            self.runs.push(load_run(&path, start, end)?);
            for r in inputs {
                let _ = fs::remove_file(self.dir.join(run_name(r.start, r.end)));
            }
        }
    }
}

fn write_run(path: &Path, records: impl Iterator<Item = (u64, u64)>) -> StoreResult<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let io = |e| StoreError::io(format!("writing {}", tmp.display()), e);
    let f = File::create(&tmp).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 16, f);
    let mut sha = Sha256::new();
    for (k, i) in records {
        let r = encode(k, i);
        sha.update(r);
        w.write_all(&r).map_err(io)?;
    }
    w.write_all(&sha.finalize()).map_err(io)?;
    let f = w.into_inner().map_err(|e| io(e.into_error()))?;
    f.sync_all().map_err(io)?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| StoreError::io(format!("renaming {}", path.display()), e))
}

fn load_run(path: &Path, start: u64, end: u64) -> StoreResult<Run> {
    let io = |e| StoreError::io(format!("reading {}", path.display()), e);
    let file = File::open(path).map_err(io)?;
    let count = end - start;
    let len = file.metadata().map_err(io)?.len();
    if len != count * RECORD + 32 {
        return Err(StoreError::corrupt(format!(
            "{}: {len} bytes, but {count} entries make {}",
            path.display(),
            count * RECORD + 32
        )));
    }
    let mut r = BufReader::with_capacity(1 << 16, file.try_clone().map_err(io)?);
    let mut sha = Sha256::new();
    let mut fences = Vec::with_capacity(count.div_ceil(BLOCK) as usize);
    let mut rec = [0u8; 16];
    let mut last = (0u64, 0u64);
    for n in 0..count {
        r.read_exact(&mut rec).map_err(io)?;
        sha.update(rec);
        let (k, i) = decode(&rec);
        if n > 0 && (k, i) <= last || i < start || i >= end {
            return Err(StoreError::corrupt(format!(
                "{}: record {n} is out of order or out of range",
                path.display()
            )));
        }
        last = (k, i);
        if n % BLOCK == 0 {
            fences.push(k);
        }
    }
    let mut digest = [0u8; 32];
    r.read_exact(&mut digest).map_err(io)?;
    if sha.finalize()[..] != digest {
        return Err(StoreError::corrupt(format!(
            "{}: does not match its checksum",
            path.display()
        )));
    }
    Ok(Run {
        start,
        end,
        file,
        fences,
    })
}

struct RunReader {
    r: BufReader<File>,
    left: u64,
    head: Option<(u64, u64)>,
}

impl RunReader {
    fn new(f: File, count: u64) -> RunReader {
        let mut r = RunReader {
            r: BufReader::with_capacity(1 << 16, f),
            left: count,
            head: None,
        };
        r.advance();
        r
    }
    fn advance(&mut self) {
        self.head = None;
        if self.left == 0 {
            return;
        }
        let mut rec = [0u8; 16];
        if self.r.read_exact(&mut rec).is_ok() {
            self.left -= 1;
            self.head = Some(decode(&rec));
        }
    }
}

struct MergeIter {
    readers: Vec<RunReader>,
}

impl Iterator for MergeIter {
    type Item = (u64, u64);
    fn next(&mut self) -> Option<(u64, u64)> {
        let (at, _) = self
            .readers
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.head.map(|h| (i, h)))
            .min_by_key(|(_, h)| *h)?;
        let h = self.readers[at].head;
        self.readers[at].advance();
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_core::hash::leaf_hash;

    #[test]
    fn finds_every_entry_across_runs_merges_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("leaves");
        let mut ix = Leaves::create(&d).unwrap();
        let leaf = |i: u64| leaf_hash(&i.to_le_bytes());
        let n = TIER0 * 5 + 77;
        for i in 0..n {
            ix.insert(&leaf(i), i);
            if (i + 1) % TIER0 == 0 {
                ix.settle(i + 1).unwrap();
            }
        }
        // Four tier-0 runs merged into one; one more run and a tail.
        assert_eq!(ix.runs.len(), 2);
        for i in (0..n).step_by(997) {
            assert!(ix.candidates(&leaf(i)).unwrap().contains(&i), "{i}");
        }
        assert!(ix.candidates(&leaf(n + 1)).unwrap().is_empty());
        let re = Leaves::open(&d, TIER0 * 5, true).unwrap();
        assert_eq!(re.covered(), TIER0 * 5);
        assert!(re.candidates(&leaf(3)).unwrap().contains(&3));
        // A damaged run is refused.
        let run = d.join(run_name(TIER0 * 4, TIER0 * 5));
        let mut bytes = fs::read(&run).unwrap();
        bytes[100] ^= 1;
        fs::write(&run, bytes).unwrap();
        assert_eq!(
            tallyboard_core::error::Coded::code(&Leaves::open(&d, 0, true).err().unwrap()),
            tallyboard_core::ErrorCode::StoreCorrupt
        );
    }
}
