//! The mirror's verified copy of the log (`spec/mirror.md` §3), in the
//! board's own sled store (`src/store.rs`), so the board's read handlers
//! serve it unchanged.
//!
//! Entries are written only together with the log's signed checkpoint that
//! covers them, in one atomic batch made durable before the view moves on:
//! the store never holds an entry that is not under a verified checkpoint.
//! Opening re-verifies everything, as the board does (`verify_store`), with
//! the log's verifier key named by the stored manifest.

use crate::board::{self, BoardView, Overlay, Prepared, SignedCheckpoint};
use crate::state::LogState;
use crate::store::{Batch, Store};
use anyhow::{anyhow, bail, Context, Result};
use rayon::prelude::*;
use std::path::Path;
use tallyboard_core::entry::Entry;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle;
use tallyboard_core::note::{VerifierKey, Verifiers};
use tallyboard_core::validate::ValidationError;
use tallyboard_core::Hash;

/// New entries whose stored hashes have been computed over the copy, not
/// yet validated or written.
pub struct Staged {
    /// Index of the first.
    pub first: u64,
    /// The entries' bytes, in order.
    pub entries: Vec<Vec<u8>>,
    /// Their leaf hashes.
    pub leaves: Vec<Hash>,
    /// The stored hashes they add, from stored-hash index
    /// `merkle::stored_hash_count(first)` on.
    pub hashes: Vec<Hash>,
    /// How many of `hashes` each entry adds.
    pub counts: Vec<usize>,
    /// The root of the tree of `first + entries.len()` entries.
    pub root: Hash,
}

/// An entry that failed validation.
pub struct Invalid {
    /// Its index.
    pub index: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Why.
    pub error: ValidationError,
}

/// The verified copy.
pub struct Local {
    store: Store,
    manifest: ValidatedManifest,
    state: LogState,
    size: u64,
    latest: Option<SignedCheckpoint>,
}

impl Local {
    /// Opens the copy in `dir`, verifying it end to end; `None` if `dir`
    /// holds none yet. A `pinned` log key must be the manifest's.
    pub fn open(dir: &Path, pinned: Option<&VerifierKey>) -> Result<Option<Local>> {
        if !dir.join("db").exists() {
            return Ok(None);
        }
        let store = Store::open(dir, board::CACHE_BYTES)?;
        let Some(manifest) = board::stored_manifest(&store)? else {
            return Ok(None);
        };
        check_pinned(&manifest, pinned)?;
        let origin = manifest.manifest().log.origin.clone();
        let v = board::verify_store(&store, &origin, &log_verifiers(&manifest))?;
        let covered = v.latest.as_ref().map_or(0, |c| c.checkpoint.size);
        if covered != v.size {
            bail!(
                "mirror store inconsistent: {} entries stored, but the latest verified checkpoint covers {covered}",
                v.size
            );
        }
        Ok(Some(Local {
            store,
            manifest,
            state: v.state,
            size: v.size,
            latest: v.latest,
        }))
    }

    /// Creates an empty copy in `dir` for `manifest` (whose log key the
    /// caller has checked), durably.
    pub fn create(dir: &Path, manifest_bytes: &[u8]) -> Result<Local> {
        let manifest = ValidatedManifest::from_bytes(manifest_bytes).map_err(|e| anyhow!("{e}"))?;
        let store = Store::open(dir, board::CACHE_BYTES)?;
        if store.size()? != 0 || store.latest_checkpoint()?.is_some() {
            bail!("{} already holds a log; refusing to mix", dir.display());
        }
        store.put_blob(manifest_bytes)?;
        store.put_meta("manifest", &manifest.digest().0)?;
        store.sync()?;
        Ok(Local {
            store,
            manifest,
            state: LogState::default(),
            size: 0,
            latest: None,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &ValidatedManifest {
        &self.manifest
    }
    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }
    /// The replayed state.
    pub fn state(&self) -> &LogState {
        &self.state
    }
    /// The latest verified checkpoint, once there is one.
    pub fn latest(&self) -> Option<&SignedCheckpoint> {
        self.latest.as_ref()
    }
    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.manifest.manifest().log.origin
    }
    /// A verifier set holding the log key.
    pub fn verifiers(&self) -> Verifiers {
        log_verifiers(&self.manifest)
    }

    /// Computes the stored hashes `entries` add after the copy's entries
    /// and the root of the resulting tree (nothing is written).
    pub fn stage(&self, entries: Vec<Vec<u8>>) -> Result<Staged> {
        let first = self.size;
        let base = merkle::stored_hash_count(first);
        let leaves: Vec<Hash> = entries
            .par_iter()
            .map(|e| tallyboard_core::hash::leaf_hash(e))
            .collect();
        let mut hashes: Vec<Hash> = Vec::new();
        let mut counts = Vec::with_capacity(leaves.len());
        for (i, leaf) in leaves.iter().enumerate() {
            let reader = Overlay::new(&self.store, base, &hashes);
            let add = merkle::stored_hashes(first + i as u64, *leaf, &reader)
                .map_err(|e| anyhow!("{e}"))?;
            counts.push(add.len());
            hashes.extend(add);
        }
        let size = first + entries.len() as u64;
        let root = merkle::tree_hash(size, &Overlay::new(&self.store, base, &hashes))
            .map_err(|e| anyhow!("{e}"))?;
        Ok(Staged {
            first,
            entries,
            leaves,
            hashes,
            counts,
            root,
        })
    }

    /// Validates every staged entry in order under the board's rules
    /// (`board::check_prepared`, `spec/validation.md`), against the copy's
    /// state and the staged entries before it. Signatures are checked on all
    /// cores first, against the signer the state before the batch implies;
    /// an entry whose signer the batch itself changes is re-checked in order.
    /// Returns the parsed entries, or the first that fails.
    pub fn validate(&self, staged: &Staged) -> Result<Vec<Entry>, Box<Invalid>> {
        let invalid = |i: usize, error: ValidationError| {
            Box::new(Invalid {
                index: staged.first + i as u64,
                bytes: staged.entries[i].clone(),
                error,
            })
        };
        let prepared: Vec<Result<Prepared, ValidationError>> = staged
            .entries
            .par_iter()
            .map(|b| {
                let signed = board::parse(b)?;
                let key = tallyboard_core::validate::required_signer(
                    &signed,
                    &self.manifest,
                    &self.state,
                )
                .ok();
                Ok(board::verify_with(signed, key))
            })
            .collect();
        // A scratch copy of the state: nothing changes unless all pass.
        let mut state = self.state.clone();
        let mut pending: Vec<(u64, Entry)> = Vec::new();
        let mut out = Vec::with_capacity(prepared.len());
        for (i, p) in prepared.into_iter().enumerate() {
            let p = p.map_err(|e| invalid(i, e))?;
            let index = staged.first + i as u64;
            let view = BoardView::new(&state, &self.store, self.size, &pending);
            board::check_prepared(&p, &self.manifest, &view).map_err(|e| invalid(i, e))?;
            state.apply(index, staged.leaves[i], &p.signed.entry);
            if board::wanted_for_results(&p.signed.entry) {
                pending.push((index, p.signed.entry.clone()));
            }
            out.push(p.signed.entry);
        }
        Ok(out)
    }

    /// Stores validated entries with the checkpoint covering them in one
    /// atomic, durable write, then applies them to the state.
    pub fn commit(
        &mut self,
        staged: Staged,
        entries: &[Entry],
        checkpoint: SignedCheckpoint,
    ) -> Result<()> {
        let size = staged.first + staged.entries.len() as u64;
        if checkpoint.checkpoint.size != size || checkpoint.checkpoint.root != staged.root {
            bail!("refusing to store entries under a checkpoint that does not cover them");
        }
        let mut batch = Batch::default();
        let mut at = merkle::stored_hash_count(staged.first);
        let mut rest = staged.hashes.as_slice();
        for (i, bytes) in staged.entries.into_iter().enumerate() {
            let (mine, tail) = rest.split_at(staged.counts[i].min(rest.len()));
            batch.push(staged.first + i as u64, bytes, staged.leaves[i], at, mine);
            at += mine.len() as u64;
            rest = tail;
        }
        batch.with_checkpoint(size, checkpoint.bytes.clone());
        self.store.write(batch)?;
        self.store
            .sync()
            .context("making the mirrored entries durable")?;
        for (i, e) in entries.iter().enumerate() {
            self.state
                .apply(staged.first + i as u64, staged.leaves[i], e);
        }
        self.size = size;
        self.latest = Some(checkpoint);
        Ok(())
    }

    /// Replaces the stored checkpoint of the current size by another
    /// signing of the same tree (the same checkpoint with more cosignatures).
    pub fn replace_checkpoint(&mut self, checkpoint: SignedCheckpoint) -> Result<()> {
        let same_tree = self.latest.as_ref().is_some_and(|l| {
            l.checkpoint.size == checkpoint.checkpoint.size
                && l.checkpoint.root == checkpoint.checkpoint.root
        }) || (self.latest.is_none() && checkpoint.checkpoint.size == 0);
        if !same_tree {
            bail!("refusing to replace a checkpoint by one of another tree");
        }
        let mut batch = Batch::default();
        batch.with_checkpoint(checkpoint.checkpoint.size, checkpoint.bytes.clone());
        self.store.write(batch)?;
        self.store.sync()?;
        self.latest = Some(checkpoint);
        Ok(())
    }
}

/// The log key a manifest names, as a verifier set.
fn log_verifiers(manifest: &ValidatedManifest) -> Verifiers {
    let mut v = Verifiers::new();
    v.add(manifest.log_key().clone());
    v
}

/// A pinned log key (`--log-key`) must be the one the manifest names.
pub fn check_pinned(manifest: &ValidatedManifest, pinned: Option<&VerifierKey>) -> Result<()> {
    if let Some(k) = pinned {
        if k.to_vkey_string() != manifest.log_key().to_vkey_string() {
            bail!(
                "the manifest names log key {}, not the pinned --log-key {}",
                manifest.log_key().to_vkey_string(),
                k.to_vkey_string()
            );
        }
    }
    Ok(())
}
