//! What the log state asks of the log it no longer keeps: an intermediate
//! revision's figures (a statement at a size before a later revision of a
//! box, found by following the revisions' `supersedes` back through the
//! log), and the root of the tree of a size (the checkpoint an announcement
//! rests on). The board reads its store, the verifier the entries it
//! fetched; the core does no I/O.

use crate::aggregate::AggregateError;
use crate::entry::{Entry, SignedEntry, Tally};
use crate::merkle::MemoryLog;
use crate::Hash;
use std::collections::HashMap;

/// The log, as the state reads it.
pub trait LogReader {
    /// The tally logged at `index`.
    ///
    /// # Errors
    /// The entry cannot be read, or is not a tally.
    fn tally(&self, index: u64) -> Result<Tally, AggregateError>;

    /// The index of the first entry before `before` whose leaf hash is
    /// `leaf` (the revision a later one `supersedes`), if any.
    ///
    /// # Errors
    /// The log cannot be read.
    fn index_of_leaf(&self, leaf: &Hash, before: u64) -> Result<Option<u64>, AggregateError>;

    /// The root of the tree of the log's first `size` entries.
    ///
    /// # Errors
    /// The tree cannot be read.
    fn root(&self, size: u64) -> Result<Hash, AggregateError>;
}

/// One step back along a box's revisions: the revision the tally logged at
/// `index` supersedes (its index, and its leaf hash, which the later one
/// names), or `None` for a first tally.
///
/// # Errors
/// `log` cannot read the entry, it is not a tally, or the leaf it
/// supersedes is not logged before it (`board.store-inconsistent`).
pub fn superseded(log: &dyn LogReader, index: u64) -> Result<Option<(u64, Hash)>, AggregateError> {
    let t = log.tally(index)?;
    let Some(c) = t.correction else {
        return Ok(None);
    };
    match log.index_of_leaf(&c.supersedes, index)? {
        Some(prev) => Ok(Some((prev, c.supersedes))),
        None => Err(AggregateError::inconsistent(format!(
            "entry {index} supersedes {}, which is not logged before it",
            c.supersedes
        ))),
    }
}

/// The revision of a box in force at log size `size`, found by following
/// `supersedes` back from its revision logged at `latest` (which is at or
/// after `size`): the first one logged before `size`, with its tally.
///
/// # Errors
/// As [`superseded`]; a chain that ends before reaching below `size`.
pub fn revision_in_force(
    log: &dyn LogReader,
    latest: u64,
    size: u64,
) -> Result<(u64, Tally), AggregateError> {
    let mut at = latest;
    loop {
        if at < size {
            return Ok((at, log.tally(at)?));
        }
        match superseded(log, at)? {
            Some((prev, _)) => at = prev,
            None => {
                return Err(AggregateError::inconsistent(format!(
                    "no revision before size {size} precedes entry {latest}"
                )))
            }
        }
    }
}

/// A log given as its entries' bytes, in index order, and the tree they
/// make (what an auditor fetched and rebuilt), with the index of the first
/// entry of each leaf hash: each look-up is one map access, so a log of old
/// revisions resubmitted cannot make a replay quadratic.
pub struct EntryBytes<'a> {
    entries: &'a [Vec<u8>],
    tree: &'a MemoryLog,
    first: HashMap<Hash, u64>,
}

impl<'a> EntryBytes<'a> {
    /// The log of `entries`, whose leaf hashes are `leaves` (same order)
    /// and whose tree is `tree`.
    pub fn new(entries: &'a [Vec<u8>], leaves: &[Hash], tree: &'a MemoryLog) -> EntryBytes<'a> {
        let mut first = HashMap::with_capacity(leaves.len());
        for (i, l) in leaves.iter().enumerate() {
            first.entry(*l).or_insert(i as u64);
        }
        EntryBytes {
            entries,
            tree,
            first,
        }
    }
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

    fn index_of_leaf(&self, leaf: &Hash, before: u64) -> Result<Option<u64>, AggregateError> {
        Ok(self.first.get(leaf).copied().filter(|&i| i < before))
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

    fn index_of_leaf(&self, leaf: &Hash, _before: u64) -> Result<Option<u64>, AggregateError> {
        Err(AggregateError::store(format!(
            "the index of leaf {leaf} is needed and no log is at hand"
        )))
    }

    fn root(&self, size: u64) -> Result<Hash, AggregateError> {
        Err(AggregateError::store(format!(
            "the root of the tree of size {size} is needed and no log is at hand"
        )))
    }
}
