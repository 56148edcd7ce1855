//! What the log state asks of the log it no longer keeps: an intermediate
//! revision's figures (a statement at a size before a later revision of a
//! box) and the root of the tree of a size (the checkpoint an announcement
//! rests on). The board reads its store, the verifier the entries it
//! fetched; the core does no I/O.

use crate::aggregate::AggregateError;
use crate::entry::{Entry, SignedEntry, Tally};
use crate::merkle::MemoryLog;
use crate::Hash;

/// The log, as the state reads it.
pub trait LogReader {
    /// The tally logged at `index`.
    ///
    /// # Errors
    /// The entry cannot be read, or is not a tally.
    fn tally(&self, index: u64) -> Result<Tally, AggregateError>;

    /// The root of the tree of the log's first `size` entries.
    ///
    /// # Errors
    /// The tree cannot be read.
    fn root(&self, size: u64) -> Result<Hash, AggregateError>;
}

/// A log given as its entries' bytes, in index order, and the tree they
/// make (what an auditor fetched and rebuilt).
pub struct EntryBytes<'a> {
    /// The entries.
    pub entries: &'a [Vec<u8>],
    /// Their tree (RFC 6962 stored hashes).
    pub tree: &'a MemoryLog,
}

impl LogReader for EntryBytes<'_> {
    fn tally(&self, index: u64) -> Result<Tally, AggregateError> {
        let bytes = usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
            .ok_or_else(|| AggregateError::store(format!("entry {index} is not at hand")))?;
        match SignedEntry::parse(bytes).map(|s| s.entry) {
            Ok(Entry::Tally(t)) => Ok(t),
            _ => Err(AggregateError::inconsistent(format!(
                "entry {index} is not a tally"
            ))),
        }
    }

    fn root(&self, size: u64) -> Result<Hash, AggregateError> {
        crate::merkle::tree_hash(size, self.tree)
            .map_err(|e| AggregateError::store(format!("the tree of size {size}: {e}")))
    }
}

/// No log at hand: for callers that ask only for the current figures. A
/// statement that needs an intermediate revision, or a checkpoint's root,
/// fails (`board.storage`).
pub struct NoLog;

impl LogReader for NoLog {
    fn tally(&self, index: u64) -> Result<Tally, AggregateError> {
        Err(AggregateError::store(format!(
            "the figures of entry {index} are needed and no log is at hand"
        )))
    }

    fn root(&self, size: u64) -> Result<Hash, AggregateError> {
        Err(AggregateError::store(format!(
            "the root of the tree of size {size} is needed and no log is at hand"
        )))
    }
}
