//! The log store: the contract of `spec/storage.md`, and the embedded store
//! that implements it ([`file`]).
//!
//! The board talks to its storage only through two traits:
//!
//! * [`LogWriter`]: exactly one per store, held by the single writer (the
//!   [`crate::log::Log`]). [`LogWriter::commit`] makes a batch of entries
//!   and the signed checkpoint covering them durable, all or nothing, in
//!   one durable write, before it returns; nothing else changes the log.
//! * [`LogReader`]: shared by every reader thread ([`Store`] is a cheap
//!   handle on it): entries, entry bundles and hash tiles as stored,
//!   stored hashes ([`HashReader`]), checkpoints with their cosignatures,
//!   leaf-hash look-ups, blobs.
//!
//! The embedded store keeps the log under the data directory in the C2SP
//! tlog-tiles encoding (`spec/storage.md` §2); a store on a replicated
//! database (issue 15) implements the same two traits, each commit one
//! transaction, the writer lock a lease with fencing.

pub mod blobs;
pub mod cache;
pub mod file;
pub mod framed;
pub mod frontier;
pub mod leaves;
pub mod postgres;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use tallyboard_core::error::Coded;
use tallyboard_core::merkle::HashReader;
use tallyboard_core::tile::TileId;
use tallyboard_core::{ErrorCode, Hash};

/// A store failure, with its stable code (`store.*` for what opening
/// refuses, `board.storage` for an I/O failure).
#[derive(Debug, Clone)]
pub struct StoreError {
    code: ErrorCode,
    message: String,
}

/// Results of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// An error with `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> StoreError {
        StoreError {
            code,
            message: message.into(),
        }
    }
    /// An I/O failure (`board.storage`).
    pub fn io(what: impl Into<String>, e: std::io::Error) -> StoreError {
        StoreError::new(ErrorCode::Storage, format!("{}: {e}", what.into()))
    }
    /// `store.corrupt`.
    pub fn corrupt(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::StoreCorrupt, message)
    }
    /// `store.torn-write`.
    pub fn torn(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::StoreTornWrite, message)
    }
    /// `store.truncated`.
    pub fn truncated(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::StoreTruncated, message)
    }
    /// `board.storage` without an `io::Error`.
    pub fn storage(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::Storage, message)
    }
}

impl Coded for StoreError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for StoreError {}

/// One commit: what [`LogWriter::commit`] makes durable, all or nothing.
pub struct Commit<'a> {
    /// Index of the first entry: the store's size before the commit.
    pub first: u64,
    /// The entries, in index order (each at most 65,535 bytes).
    pub entries: &'a [Vec<u8>],
    /// Their RFC 6962 leaf hashes.
    pub leaves: &'a [Hash],
    /// The signed checkpoint of size `first + entries.len()` whose root is
    /// the tree these entries complete: signed before the commit, stored
    /// in the same durable write. `None` for part of a long extension a
    /// mirror writes in several commits (`hold`): such entries are not
    /// part of the log until a later commit's checkpoint covers them, and
    /// an open discards them if none does.
    pub checkpoint: Option<CheckpointNote<'a>>,
}

/// A signed checkpoint handed to the store.
#[derive(Clone, Copy)]
pub struct CheckpointNote<'a> {
    /// Its tree size.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
    /// The signed note.
    pub note: &'a [u8],
}

/// What a store holds when its writer opens it, verified (`spec/storage.md` §5).
pub struct Opened {
    /// Number of entries, all under `latest`.
    pub size: u64,
    /// The latest committed checkpoint (its signature and root verified).
    pub latest: Vec<u8>,
}

/// Reading a store: any number of threads at once. Readers bound what they
/// read by a published checkpoint's size; the store may hold more (a
/// commit being published).
pub trait LogReader: Send + Sync {
    /// Number of entries stored (committed or being committed).
    fn stored_size(&self) -> u64;
    /// The entry at `index`, checked against its stored leaf hash.
    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>>;
    /// The entries `[start, end)`, in order, as stored (the caller checks
    /// them against the tree when it needs to).
    fn entries(&self, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>>;
    /// Entry bundle `n` of `width` entries (C2SP tlog-tiles), as stored.
    fn bundle(&self, n: u64, width: u16) -> StoreResult<Vec<u8>>;
    /// Hash tile `tile` (C2SP tlog-tiles), as stored.
    fn tile(&self, tile: &TileId) -> StoreResult<Vec<u8>>;
    /// Stored hash `index` (`spec/merkle.md`).
    fn stored_hash(&self, index: u64) -> StoreResult<Hash>;
    /// The signed checkpoint of exactly `size`, with the witnesses'
    /// cosignatures when some were stored for it.
    fn checkpoint(&self, size: u64) -> StoreResult<Option<Vec<u8>>>;
    /// The sizes of the stored checkpoints at or below `at_most`, newest
    /// first, at most `n` of them.
    fn checkpoint_sizes(&self, at_most: u64, n: usize) -> StoreResult<Vec<u64>>;
    /// The newest stored cosigned checkpoints (size, note), newest first,
    /// at most `n`.
    fn cosigned(&self, n: usize) -> StoreResult<Vec<(u64, Vec<u8>)>>;
    /// Stores a cosigned note of a committed checkpoint (the same body, the
    /// log's signature and more signature lines), durably; a later one for
    /// the same size replaces it.
    fn put_cosigned(&self, size: u64, note: &[u8]) -> StoreResult<()>;
    /// The index of the stored entry with this leaf hash (confirmed against
    /// the stored leaf hash), if any.
    fn index_of_leaf(&self, leaf: &Hash) -> StoreResult<Option<u64>>;
    /// A blob by its SHA-256.
    fn blob(&self, h: &Hash) -> StoreResult<Option<Vec<u8>>>;
    /// Stores a blob under its SHA-256, durably (idempotent).
    fn put_blob(&self, bytes: &[u8]) -> StoreResult<Hash>;
    /// Keeps, durably, the board's sealed snapshot of its log state at the
    /// committed checkpoint of `size` (opaque to the store: `crate::log`
    /// seals and checks it); older ones may be dropped.
    fn put_state(&self, size: u64, sealed: &[u8]) -> StoreResult<()>;
    /// The newest snapshot kept, with its size.
    fn state(&self) -> StoreResult<Option<(u64, Vec<u8>)>>;
    /// Bytes the store occupies on disk.
    fn size_on_disk(&self) -> StoreResult<u64>;
    /// The filesystem holding the store, when it is on this machine (the
    /// embedded store's data directory); `None` for a database server,
    /// whose disk its own monitoring watches.
    fn filesystem(&self) -> StoreResult<Option<FsSpace>> {
        Ok(None)
    }
}

/// A filesystem's size and free space, in bytes (statvfs(3)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsSpace {
    /// Its size.
    pub total: u64,
    /// Space an unprivileged process (the board) may still write
    /// (`f_bavail`, not `f_bfree`: the root reserve is not the board's).
    pub available: u64,
}

impl FsSpace {
    /// The filesystem holding `path`.
    pub fn of(path: &Path) -> StoreResult<FsSpace> {
        let v = rustix::fs::statvfs(path).map_err(|e| {
            StoreError::io(
                format!("statvfs {}", path.display()),
                std::io::Error::from(e),
            )
        })?;
        Ok(FsSpace {
            total: v.f_blocks.saturating_mul(v.f_frsize),
            available: v.f_bavail.saturating_mul(v.f_frsize),
        })
    }
}

/// The one writer of a store (see the module documentation).
pub trait LogWriter: Send {
    /// A reader handle on the same store.
    fn reader(&self) -> Store;
    /// Makes `commit` durable (see [`Commit`]); on error the store may hold
    /// it or not, and the writer must not commit again before reopening.
    fn commit(&mut self, commit: &Commit<'_>) -> StoreResult<()>;
}

/// A cheap, shareable handle on a store's readers.
#[derive(Clone)]
pub struct Store(Arc<dyn LogReader>);

impl Store {
    /// Wraps a reader.
    pub fn new(reader: Arc<dyn LogReader>) -> Store {
        Store(reader)
    }

    /// Another handle on the same store.
    pub fn handle(&self) -> Store {
        self.clone()
    }

    /// The signed checkpoint sizes at or below `at_most`, ascending (all of
    /// them: for tests and small logs).
    #[cfg(test)]
    pub fn all_checkpoint_sizes(&self, at_most: u64) -> StoreResult<Vec<u64>> {
        let mut v = self.0.checkpoint_sizes(at_most, usize::MAX)?;
        v.reverse();
        Ok(v)
    }
}

impl std::ops::Deref for Store {
    type Target = dyn LogReader;
    fn deref(&self) -> &(dyn LogReader + 'static) {
        &*self.0
    }
}

impl HashReader for Store {
    type Error = StoreError;
    fn read_hash(&self, index: u64) -> StoreResult<Hash> {
        self.0.stored_hash(index)
    }
}

impl HashReader for dyn LogReader {
    type Error = StoreError;
    fn read_hash(&self, index: u64) -> StoreResult<Hash> {
        self.stored_hash(index)
    }
}

/// The one check of an entry read back, in every store: it hashes to its
/// stored RFC 6962 leaf hash (`store.corrupt`, naming `place`).
pub fn check_entry(place: &str, index: u64, bytes: &[u8], leaf: &Hash) -> StoreResult<()> {
    if tallyboard_core::hash::leaf_hash(bytes) != *leaf {
        return Err(StoreError::corrupt(format!(
            "{place}entry {index} does not hash to its stored leaf hash"
        )));
    }
    Ok(())
}

/// The bounds every store puts on `entries(start, end)`: empty when
/// `start >= end` (`Ok(false)`), refused beyond what is stored.
pub fn check_range(start: u64, end: u64, stored: u64) -> StoreResult<bool> {
    if start >= end {
        return Ok(false);
    }
    if end > stored {
        return Err(StoreError::storage(format!(
            "entries {start}..{end} are not all stored"
        )));
    }
    Ok(true)
}

/// Whether `dir` holds a store (of any version: opening tells); for a
/// PostgreSQL URL, whether its database holds one (an unreachable database
/// counts as holding one, so that opening it says why it fails).
pub fn exists(dir: &Path) -> bool {
    match dir.to_str().filter(|s| postgres::is_url(s)) {
        Some(url) => postgres::exists(url).unwrap_or(true),
        None => dir.join(file::META).exists() || dir.join("db").exists(),
    }
}

#[cfg(test)]
mod tests;
