//! A log of given entries, served as a read path (C2SP tlog-tiles) without
//! a board: its tiles and entry bundles at any size, and checkpoints signed
//! with the demo log key. For the verifiers' tests, which check a read path
//! and need one they can also tamper with.

use crate::keys;
use tallyboard_core::checkpoint::{sign_checkpoint, Checkpoint};
use tallyboard_core::merkle::{tree_hash, MemoryLog};
use tallyboard_core::note::SignerKey;
use tallyboard_core::tile::{
    encode_entry_bundle, parse_tile_path, read_tile, tiles_for_size, TilePath, TILE_WIDTH,
};

/// A log held in memory, with the demo log key.
pub struct SyntheticLog {
    entries: Vec<Vec<u8>>,
    log: MemoryLog,
    key: SignerKey,
}

impl SyntheticLog {
    /// A log of `entries`, in order.
    pub fn new(entries: Vec<Vec<u8>>) -> SyntheticLog {
        let mut log = SyntheticLog {
            entries: Vec::new(),
            log: MemoryLog::new(),
            key: keys::role_key("log").expect("the demo log role exists"),
        };
        for e in entries {
            log.push(e);
        }
        log
    }

    /// Appends an entry; returns its index.
    pub fn push(&mut self, entry: Vec<u8>) -> u64 {
        let index = self
            .log
            .append_entry(&entry)
            .expect("a test log stays far below 2^63 entries");
        self.entries.push(entry);
        index
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.log.size()
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// The demo log key's verifier key string.
    pub fn vkey(&self) -> String {
        self.key.verifier().to_vkey_string()
    }

    /// The checkpoint of the first `size` entries, signed with the demo
    /// log key (origin: the key's name).
    pub fn checkpoint(&self, size: u64) -> Vec<u8> {
        let root = tree_hash(size, self.log.hashes()).expect("size within the log");
        sign_checkpoint(
            &Checkpoint {
                origin: self.key.name().to_string(),
                size,
                root,
                extensions: vec![],
            },
            &self.key,
        )
    }

    /// The tile or entry bundle at `path` (`tile/...`, `tile/entries/...`)
    /// as the log serves it: whatever width the path names, as long as the
    /// log holds that much. `None` for any other path.
    pub fn resource(&self, path: &str) -> Option<Vec<u8>> {
        match parse_tile_path(path).ok()? {
            TilePath::Hashes(t) => read_tile(&t, self.size(), &self.log).ok(),
            TilePath::Entries { index, width } => {
                let start = usize::try_from(index * u64::from(TILE_WIDTH)).ok()?;
                let slice = self.entries.get(start..start + usize::from(width))?;
                encode_entry_bundle(slice.iter().map(Vec::as_slice)).ok()
            }
        }
    }

    /// The whole read path at the log's size, as `(path, bytes)`: every
    /// tile and entry bundle, and the checkpoint (what `tallyboard export`
    /// writes, less the manifest).
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let size = self.size();
        let mut files: Vec<(String, Vec<u8>)> = tiles_for_size(size)
            .into_iter()
            .filter_map(|t| Some((t.path(), self.resource(&t.path())?)))
            .collect();
        let width = u64::from(TILE_WIDTH);
        for n in 0..size.div_ceil(width) {
            let path = TilePath::Entries {
                index: n,
                width: (size - n * width).min(width) as u16,
            }
            .to_path();
            if let Some(b) = self.resource(&path) {
                files.push((path, b));
            }
        }
        files.push(("checkpoint".into(), self.checkpoint(size)));
        files
    }
}
