//! What readers see of the log: the writer's [`LogState`] at one signed
//! checkpoint, published after every durable commit.
//!
//! Once anything reads the log (the server, a mirror; an offline import
//! keeps a single copy), the writer keeps two copies of the state and
//! swaps them (the left-right pattern): after a commit it publishes its
//! own copy, takes back the copy
//! readers held before, and brings it up to date by applying the same
//! entries again. Applying an accepted entry costs a few microseconds, so
//! the state is never rebuilt and never re-read from the store; readers
//! take an `Arc` and never wait for the writer. A reader that still holds
//! the previous copy at the swap (an export being built) costs the writer
//! one clone of the state, once.

use super::SignedCheckpoint;
use std::sync::{Arc, RwLock};
use tallyboard_core::state::LogState;

/// The log as of one signed checkpoint: every figure counts exactly the
/// entries below `checkpoint.checkpoint.size`.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The log state after the checkpoint's entries.
    pub state: Arc<LogState>,
    /// The signed checkpoint (with the cosignatures stored with it).
    pub checkpoint: Arc<SignedCheckpoint>,
}

impl Snapshot {
    /// The checkpoint's tree size.
    pub fn size(&self) -> u64 {
        self.checkpoint.checkpoint.size
    }
}

/// The latest snapshot, shared by the writer and every reader.
#[derive(Debug)]
pub struct Published {
    current: RwLock<Arc<Snapshot>>,
}

impl Published {
    /// Publishes `first`.
    pub fn new(first: Snapshot) -> Published {
        Published {
            current: RwLock::new(Arc::new(first)),
        }
    }

    /// The latest snapshot. A poisoned lock is still readable: the writer
    /// only ever replaces the whole value under it.
    pub fn get(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Arc<SignedCheckpoint> {
        self.get().checkpoint.clone()
    }

    /// Publishes `next`; returns the snapshot it replaces.
    pub(super) fn replace(&self, next: Snapshot) -> Arc<Snapshot> {
        let next = Arc::new(next);
        match self.current.write() {
            Ok(mut s) => std::mem::replace(&mut *s, next),
            Err(p) => std::mem::replace(&mut *p.into_inner(), next),
        }
    }
}
