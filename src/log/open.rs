//! Opening a store, failing closed (`spec/storage.md`): every stored hash
//! is recomputed from the entries, the log state is rebuilt by applying
//! them, and every stored checkpoint must verify and name the root of the
//! tree of its size.

use super::SignedCheckpoint;
use crate::store::Store;
use anyhow::{anyhow, bail, Context, Result};
use std::sync::Arc;
use tallyboard_core::checkpoint;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle;
use tallyboard_core::note::Verifiers;
use tallyboard_core::state::LogState;
use tallyboard_core::Hash;

/// The manifest a store names (`Mmanifest` and its blob), if it names one.
pub fn stored_manifest(store: &Store) -> Result<Option<ValidatedManifest>> {
    let Some(digest) = store.meta("manifest")? else {
        return Ok(None);
    };
    let digest = Hash(
        digest
            .as_slice()
            .try_into()
            .context("bad manifest digest")?,
    );
    let manifest_bytes = store.blob(&digest)?.context("manifest blob is missing")?;
    let manifest = ValidatedManifest::from_bytes(&manifest_bytes).map_err(|e| anyhow!("{e}"))?;
    Ok(Some(manifest))
}

/// What [`verify_store`] found: the rebuilt state (its size is the number
/// of stored entries) and the latest stored checkpoint (if any).
pub struct VerifiedStore {
    /// The log state after every stored entry.
    pub state: LogState,
    /// The latest stored checkpoint.
    pub latest: Option<SignedCheckpoint>,
}

/// Checks a store end to end, failing closed: every stored hash is
/// recomputed from the entries, the state is rebuilt, and every stored
/// checkpoint must verify under `verifiers` and name the root of the tree
/// of its size. The board runs it on open, and so does a mirror, which
/// holds the log's verifier key only.
pub fn verify_store(
    store: &Store,
    manifest: Arc<ValidatedManifest>,
    verifiers: &Verifiers,
) -> Result<VerifiedStore> {
    let origin = manifest.manifest().log.origin.clone();
    let size = store.size()?;
    // 1. Recompute every stored hash from the entries and rebuild the state.
    let mut state = LogState::new(manifest);
    for item in store.entries(0, size) {
        let (index, bytes) = item?;
        if index != state.size() {
            bail!("store inconsistent: entry {} is missing", state.size());
        }
        let leaf = tallyboard_core::hash::leaf_hash(&bytes);
        let hashes = merkle::stored_hashes(index, leaf, store)
            .map_err(|e| anyhow!("store inconsistent at entry {index}: {e}"))?;
        let first = merkle::stored_hash_count(index);
        for (i, h) in hashes.iter().enumerate() {
            if store.stored_hash(first + i as u64)? != *h {
                bail!(
                    "store inconsistent: stored hash {} disagrees with the entries",
                    first + i as u64
                );
            }
        }
        let entry = SignedEntry::parse(&bytes)
            .map_err(|e| anyhow!("store inconsistent: entry {index} no longer parses: {e}"))?;
        store.index_leaf(&leaf, index);
        state
            .apply(index, leaf, &entry.entry)
            .map_err(|e| anyhow!("store inconsistent: entry {index}: {e}"))?;
    }
    if state.size() != size {
        bail!(
            "store inconsistent: size says {size}, found {} entries",
            state.size()
        );
    }

    // 2. Every signed checkpoint must verify and match the tree.
    let mut latest = None;
    for cp_size in store.checkpoint_sizes()? {
        let bytes = store.checkpoint(cp_size)?.context("checkpoint vanished")?;
        let (cp, _) = checkpoint::open_checkpoint(&bytes, &origin, verifiers)
            .map_err(|e| anyhow!("stored checkpoint {cp_size} does not verify: {e}"))?;
        if cp.size != cp_size || cp.size > size {
            bail!(
                "store inconsistent: checkpoint of size {} beyond the {size} stored entries",
                cp.size
            );
        }
        let root = merkle::tree_hash(cp.size, store).map_err(|e| anyhow!("{e}"))?;
        if root != cp.root {
            bail!(
                "store inconsistent: the tree of size {} has root {root}, but the signed checkpoint says {}",
                cp.size,
                cp.root
            );
        }
        latest = Some(SignedCheckpoint {
            checkpoint: cp,
            bytes,
        });
    }
    Ok(VerifiedStore { state, latest })
}
