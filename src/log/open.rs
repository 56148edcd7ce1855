//! Rebuilding and re-verifying a log from its store (`spec/storage.md` §5).
//!
//! Opening a store checks its journal, the latest checkpoint's signature
//! and that its root is the stored tree's (`crate::store::file`). The log
//! state is then rebuilt by applying the stored entries, each checked
//! against its stored leaf hash ([`rebuild_state`]). [`verify_full`] is the
//! full re-verification `tallyboard verify-store` runs: every stored hash
//! recomputed from the entries, every stored checkpoint verified.

use super::SignedCheckpoint;
use crate::store::frontier::Frontier;
use crate::store::{Store, StoreError};
use anyhow::{anyhow, Result};
use std::sync::Arc;
use tallyboard_core::checkpoint;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{self, stored_hash_index};
use tallyboard_core::note::Verifiers;
use tallyboard_core::state::LogState;
use tallyboard_core::tile::{TileId, TILE_WIDTH};
use tallyboard_core::ErrorCode;
use tallyboard_core::Hash;

/// Entries read per step of a replay.
const STEP: u64 = 4096;

/// The log state after the first `size` stored entries, `state` (the state
/// after some earlier prefix) moved on by applying the rest; every entry
/// read is checked against its stored leaf hash.
pub fn rebuild_state(store: &Store, mut state: LogState, size: u64) -> Result<LogState> {
    let mut at = state.size();
    while at < size {
        let end = (at + STEP).min(size);
        let entries = store.entries(at, end)?;
        let leaves = level_zero(store, at, end)?;
        for (i, (bytes, stored)) in entries.iter().zip(&leaves).enumerate() {
            let index = at + i as u64;
            let leaf = leaf_hash(bytes);
            if leaf != *stored {
                return Err(corrupt(format!(
                    "entry {index} does not hash to its stored leaf hash"
                )));
            }
            let entry = SignedEntry::parse(bytes)
                .map_err(|e| corrupt(format!("entry {index} no longer parses: {e}")))?;
            state
                .apply(index, leaf, &entry.entry)
                .map_err(|e| corrupt(format!("entry {index}: {e}")))?;
        }
        at = end;
    }
    Ok(state)
}

/// The stored leaf hashes of entries `[start, end)`, from the level-0 tiles.
fn level_zero(store: &Store, start: u64, end: u64) -> Result<Vec<Hash>> {
    let mut out = Vec::with_capacity((end - start) as usize);
    let w = u64::from(TILE_WIDTH);
    let mut at = start;
    while at < end {
        let n = at / w;
        let width = ((n + 1) * w).min(end) - n * w;
        let body = store.tile(&TileId {
            level: 0,
            index: n,
            width: width as u16,
        })?;
        for c in body.chunks_exact(32).skip((at - n * w) as usize) {
            out.push(Hash(c.try_into().unwrap_or([0; 32])));
        }
        at = n * w + width;
    }
    Ok(out)
}

/// What [`verify_full`] found.
pub struct Verified {
    /// The log state after every stored entry.
    pub state: LogState,
    /// Stored checkpoints checked.
    pub checkpoints: u64,
}

/// The full re-verification: every stored hash recomputed from the
/// entries and compared with the stored tiles, the state rebuilt from
/// scratch, and every stored checkpoint (and cosigned note) verified under
/// `verifiers` against the root of the tree of its size.
pub fn verify_full(
    store: &Store,
    manifest: Arc<ValidatedManifest>,
    verifiers: &Verifiers,
    size: u64,
) -> Result<Verified> {
    let origin = manifest.manifest().log.origin.clone();
    let mut state = LogState::new(manifest);
    let mut frontier = Frontier::new();
    let mut at = 0u64;
    let mut mismatch: Option<u64> = None;
    while at < size {
        let end = (at + STEP).min(size);
        for (i, bytes) in store.entries(at, end)?.iter().enumerate() {
            let index = at + i as u64;
            let leaf = leaf_hash(bytes);
            let mut hashes = Vec::new();
            frontier.append(leaf, |level, n, h| hashes.push((level, n, *h)));
            for (level, n, h) in hashes {
                let stored = store.stored_hash(stored_hash_index(level, n))?;
                if stored != h && mismatch.is_none() {
                    mismatch = Some(stored_hash_index(level, n));
                }
            }
            if let Some(m) = mismatch {
                return Err(corrupt(format!(
                    "stored hash {m} disagrees with the entries (at entry {index})"
                )));
            }
            let entry = SignedEntry::parse(bytes)
                .map_err(|e| corrupt(format!("entry {index} no longer parses: {e}")))?;
            state
                .apply(index, leaf, &entry.entry)
                .map_err(|e| corrupt(format!("entry {index}: {e}")))?;
        }
        at = end;
    }
    let mut checked = 0u64;
    let mut sizes = store.checkpoint_sizes(size, usize::MAX)?;
    sizes.reverse();
    for cp_size in sizes {
        let bytes = store
            .checkpoint(cp_size)?
            .ok_or_else(|| corrupt(format!("checkpoint {cp_size} vanished")))?;
        check_checkpoint(store, &bytes, cp_size, &origin, verifiers)?;
        checked += 1;
    }
    Ok(Verified {
        state,
        checkpoints: checked,
    })
}

/// Checks one stored checkpoint: it verifies under `verifiers`, has size
/// `size`, and names the root of the stored tree of that size.
pub fn check_checkpoint(
    store: &Store,
    bytes: &[u8],
    size: u64,
    origin: &str,
    verifiers: &Verifiers,
) -> Result<SignedCheckpoint> {
    let (cp, _) = checkpoint::open_checkpoint(bytes, origin, verifiers).map_err(|e| {
        mismatch(format!(
            "the stored checkpoint of size {size} does not verify: {e}"
        ))
    })?;
    if cp.size != size {
        return Err(mismatch(format!(
            "the checkpoint stored for size {size} has size {}",
            cp.size
        )));
    }
    let root = merkle::tree_hash(size, store).map_err(|e| anyhow!("{e}"))?;
    if root != cp.root {
        return Err(mismatch(format!(
            "the tree of size {size} has root {root}, but the signed checkpoint says {}",
            cp.root
        )));
    }
    Ok(SignedCheckpoint {
        checkpoint: cp,
        bytes: bytes.to_vec(),
    })
}

fn corrupt(message: String) -> anyhow::Error {
    StoreError::corrupt(message).into()
}

fn mismatch(message: String) -> anyhow::Error {
    StoreError::new(ErrorCode::StoreCheckpointMismatch, message).into()
}
