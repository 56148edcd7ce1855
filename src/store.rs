//! The board's durable storage on sled 0.34 (`spec/storage.md`).
//!
//! One sled tree holds the whole log under key prefixes, so that an append
//! (entries, their stored hashes, the new size) is one atomic `apply_batch`:
//!
//! | key | value |
//! |---|---|
//! | `E` ‖ u64be index | the entry's signed-note bytes |
//! | `H` ‖ u64be stored-hash index | 32-byte stored hash (`merkle::stored_hash_index`) |
//! | `C` ‖ u64be size | the signed checkpoint of that size |
//! | `Msize` | u64be number of entries |
//!
//! Content-addressed blobs (the manifest, minutes scans) live in a second
//! tree keyed by SHA-256; they are idempotent and need no atomicity with the log.
//!
//! **Durability.** sled 0.34's `flush()` ends in `sync_file_range` on Linux,
//! which neither flushes the drive's write cache nor persists metadata (sled
//! issue #1452, reproduced with strace in `../shared/reference/crates.md`).
//! [`Store::sync`] therefore follows every flush with a real `fsync` of the
//! database file. Nothing is acknowledged, and no checkpoint signed, before
//! that returns.

use crate::leaf_index::LeafIndex;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tallyboard_core::merkle::{self, HashReader};
use tallyboard_core::Hash;

const SIZE_KEY: &[u8] = b"Msize";

/// The sled-backed store.
pub struct Store {
    db: sled::Db,
    log: sled::Tree,
    blobs: sled::Tree,
    path: PathBuf,
    /// Leaf hash → index, in memory (`leaf_index.rs` says why), shared by
    /// every handle; filled by [`Store::index_leaf`] as the open-time replay
    /// reads each entry, and by [`Store::write`] after each batch.
    leaves: Arc<RwLock<LeafIndex>>,
}

fn key(prefix: u8, n: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = prefix;
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

fn be_u64(v: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = v.try_into().context("stored integer is not 8 bytes")?;
    Ok(u64::from_be_bytes(arr))
}

/// One append, written atomically.
#[derive(Default)]
pub struct Batch {
    entries: Vec<(u64, Vec<u8>, Hash)>,
    hashes: Vec<(u64, Hash)>,
    new_size: u64,
    checkpoint: Option<(u64, Vec<u8>)>,
    hold_size: bool,
}

impl Batch {
    /// Adds an entry at `index` with its leaf hash and the stored hashes it
    /// creates (starting at stored-hash index `first_hash`).
    pub fn push(
        &mut self,
        index: u64,
        bytes: Vec<u8>,
        leaf: Hash,
        first_hash: u64,
        hashes: &[Hash],
    ) {
        self.entries.push((index, bytes, leaf));
        for (i, h) in hashes.iter().enumerate() {
            self.hashes.push((first_hash + i as u64, *h));
        }
        self.new_size = index + 1;
    }

    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the entries without moving the stored size: readers and a
    /// reopen ignore them until a later batch moves it. A mirror writes a
    /// large verified extension in several such batches so that no single
    /// sled batch grows with it.
    pub fn hold_size(&mut self) {
        self.hold_size = true;
    }

    /// Also stores this signed checkpoint of `size`, in the same atomic
    /// write: a mirror stores entries only together with the log's
    /// checkpoint that covers them, since it cannot sign one of its own.
    pub fn with_checkpoint(&mut self, size: u64, signed: Vec<u8>) {
        self.checkpoint = Some((size, signed));
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            // Our own group commit decides when to flush; sled's timer would
            // only add writes we then fsync anyway.
            .flush_every_ms(None);
        // sled releases its file lock from a background thread shortly after
        // the last handle of a previous open is dropped (a restart in the same
        // process, a test reopening a store): wait a bounded time for it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(e)
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("opening sled store in {}", dir.display()))
                }
            }
        };
        let log = db.open_tree("log")?;
        let blobs = db.open_tree("blobs")?;
        // Persist the directory entries of a fresh store.
        File::open(dir).and_then(|d| d.sync_all()).ok();
        Ok(Store {
            db,
            log,
            blobs,
            path: dir.to_path_buf(),
            leaves: Arc::default(),
        })
    }

    /// Another handle on the same open database (sled handles are shared
    /// and thread-safe), for readers running beside the board's writer.
    pub fn handle(&self) -> Store {
        Store {
            db: self.db.clone(),
            log: self.log.clone(),
            blobs: self.blobs.clone(),
            path: self.path.clone(),
            leaves: self.leaves.clone(),
        }
    }

    /// Makes everything written so far durable: sled's flush, then a real
    /// fsync of the database file (see the module docs).
    pub fn sync(&self) -> Result<()> {
        self.db.flush().context("sled flush")?;
        let db_file = self.path.join("db");
        File::open(&db_file)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("fsync {}", db_file.display()))?;
        Ok(())
    }

    /// Number of entries.
    pub fn size(&self) -> Result<u64> {
        match self.log.get(SIZE_KEY)? {
            Some(v) => be_u64(&v),
            None => Ok(0),
        }
    }

    /// Writes a batch atomically (not yet durable: call [`Store::sync`]).
    pub fn write(&self, batch: Batch) -> Result<()> {
        let mut b = sled::Batch::default();
        let appends = !batch.entries.is_empty() && !batch.hold_size;
        let mut leaves = Vec::with_capacity(batch.entries.len());
        for (index, bytes, leaf) in batch.entries {
            b.insert(&key(b'E', index)[..], bytes);
            leaves.push((leaf, index));
        }
        for (i, h) in batch.hashes {
            b.insert(&key(b'H', i)[..], &h.0[..]);
        }
        if appends {
            b.insert(SIZE_KEY, &batch.new_size.to_be_bytes()[..]);
        }
        if let Some((size, signed)) = batch.checkpoint {
            b.insert(&key(b'C', size)[..], signed);
        }
        self.log.apply_batch(b).context("sled apply_batch")?;
        let mut ix = self.leaves.write().unwrap_or_else(|p| p.into_inner());
        for (leaf, index) in &leaves {
            ix.insert(leaf, *index);
        }
        Ok(())
    }

    /// Records the leaf hash of a stored entry in the in-memory index (the
    /// open-time replay calls this for every entry, in index order).
    pub fn index_leaf(&self, leaf: &Hash, index: u64) {
        let mut ix = self.leaves.write().unwrap_or_else(|p| p.into_inner());
        if index == 0 {
            if let Ok(n) = self.size() {
                ix.reserve(usize::try_from(n).unwrap_or(0));
            }
        }
        ix.insert(leaf, index);
    }

    /// Stores a signed checkpoint of `size` (not yet durable).
    pub fn put_checkpoint(&self, size: u64, signed: &[u8]) -> Result<()> {
        self.log.insert(key(b'C', size), signed)?;
        Ok(())
    }

    /// The signed checkpoint of exactly `size`, if one was issued.
    pub fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.log.get(key(b'C', size))?.map(|v| v.to_vec()))
    }

    /// The latest signed checkpoint and its size.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let last = self
            .log
            .range(key(b'C', 0)..=key(b'C', u64::MAX))
            .next_back();
        match last {
            Some(kv) => {
                let (k, v) = kv?;
                Ok(Some((be_u64(&k[1..])?, v.to_vec())))
            }
            None => Ok(None),
        }
    }

    /// Every issued checkpoint size, ascending.
    pub fn checkpoint_sizes(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for kv in self.log.range(key(b'C', 0)..=key(b'C', u64::MAX)) {
            let (k, _) = kv?;
            out.push(be_u64(&k[1..])?);
        }
        Ok(out)
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.log.get(key(b'E', index))?.map(|v| v.to_vec()))
    }

    /// Entries in `[start, end)`, in order.
    pub fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>)>> + '_ {
        self.log.range(key(b'E', start)..key(b'E', end)).map(|kv| {
            let (k, v) = kv?;
            Ok((be_u64(&k[1..])?, v.to_vec()))
        })
    }

    /// The index of the stored entry with this leaf hash, if any: a
    /// candidate from the in-memory index, confirmed against the stored leaf
    /// hash (so a shared prefix, or an entry written beyond the stored size
    /// and later replaced, never answers for another).
    pub fn index_of_leaf(&self, leaf: &Hash) -> Result<Option<u64>> {
        let candidates = self
            .leaves
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .candidates(leaf);
        for index in candidates.into_iter().flatten() {
            let stored = self
                .log
                .get(key(b'H', merkle::stored_hash_index(0, index)))?;
            if stored.as_deref() == Some(&leaf.0[..]) {
                return Ok(Some(index));
            }
        }
        Ok(None)
    }

    /// Stored hash `index`.
    pub fn stored_hash(&self, index: u64) -> Result<Hash> {
        let Some(v) = self.log.get(key(b'H', index))? else {
            bail!("stored hash {index} is missing");
        };
        let arr: [u8; 32] = v
            .as_ref()
            .try_into()
            .context("stored hash is not 32 bytes")?;
        Ok(Hash(arr))
    }

    /// Stores a blob under its SHA-256 (idempotent).
    pub fn put_blob(&self, bytes: &[u8]) -> Result<Hash> {
        let h = Hash::sha256(bytes);
        self.blobs.insert(h.0, bytes)?;
        Ok(h)
    }

    /// A blob by SHA-256.
    pub fn blob(&self, h: &Hash) -> Result<Option<Vec<u8>>> {
        Ok(self.blobs.get(h.0)?.map(|v| v.to_vec()))
    }

    /// Stores board metadata.
    pub fn put_meta(&self, name: &str, value: &[u8]) -> Result<()> {
        let mut k = b"M".to_vec();
        k.extend_from_slice(name.as_bytes());
        self.log.insert(k, value)?;
        Ok(())
    }

    /// Reads board metadata.
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let mut k = b"M".to_vec();
        k.extend_from_slice(name.as_bytes());
        Ok(self.log.get(k)?.map(|v| v.to_vec()))
    }

    /// Bytes on disk (for benchmarks).
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}

/// Reads stored hashes from the store (an error if one is missing).
impl HashReader for Store {
    type Error = anyhow::Error;
    fn read_hash(&self, index: u64) -> Result<Hash> {
        self.stored_hash(index)
    }
}

#[cfg(test)]
impl Store {
    /// Overwrites an entry without touching its hashes: only tests use this,
    /// to check that open refuses a store that was tampered with.
    pub fn write_raw_entry_for_tests(&self, index: u64, bytes: &[u8]) -> Result<()> {
        self.log.insert(key(b'E', index), bytes)?;
        Ok(())
    }
}
