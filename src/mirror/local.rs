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
use tallyboard_core::standing::{is_results_entry, Rebuilt, StandingResults};
use tallyboard_core::validate::{self, ValidationError};
use tallyboard_core::Hash;

/// Entries validated and written per sled batch when storing a verified
/// extension. sled 0.34 keeps memory in proportion to the size of the
/// batches written: a first sync of 40,001 entries peaked at 591 MiB RSS in
/// batches of 4,096, 419 MiB in 1,024 and 139 MiB in 256 (debug build,
/// `tallyboard mirror --once` from an export), and took no longer.
const COMMIT_CHUNK: usize = 256;

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
    /// The standing results at `size` (what announcements are checked against).
    standing: StandingResults,
    /// The standing results last rebuilt for an earlier size.
    rebuilt: Rebuilt,
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
        let v = board::verify_store(&store, &manifest, &log_verifiers(&manifest))?;
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
            standing: v.standing,
            rebuilt: Rebuilt::default(),
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
        let standing = StandingResults::new(&manifest);
        Ok(Local {
            store,
            manifest,
            state: LogState::default(),
            standing,
            rebuilt: Rebuilt::default(),
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
    /// (`board::check_prepared`, `spec/validation.md`) and stores them with
    /// `checkpoint`, whose tree they must complete. The outer error is a
    /// storage failure; the inner one the first entry that fails.
    ///
    /// Entries go in chunks of [`COMMIT_CHUNK`], so memory holds the raw
    /// bytes of the extension but the parsed form of one chunk only, and
    /// sled's batches stay small. Each chunk's signatures are checked on all
    /// cores first, against the signer the state before the chunk implies
    /// (an entry whose signer the chunk itself changes is re-checked in
    /// order), then the rules in order against a scratch copy of the state. A validated chunk is written
    /// with the stored size held back; the last one moves the size and
    /// stores the checkpoint in the same atomic batch, so the copy's visible
    /// size only ever moves to a verified checkpoint. Entries a failure or a
    /// crash leaves beyond the size are ignored on reopen and overwritten by
    /// the next extension: they are the log's entries at those indexes
    /// under a signed root, and a log that later shows other ones there is
    /// refused as a fork.
    pub fn verify_and_store(
        &mut self,
        staged: Staged,
        checkpoint: SignedCheckpoint,
    ) -> Result<Result<(), Box<Invalid>>> {
        let size = staged.first + staged.entries.len() as u64;
        if checkpoint.checkpoint.size != size || checkpoint.checkpoint.root != staged.root {
            bail!("refusing to store entries under a checkpoint that does not cover them");
        }
        if staged.entries.is_empty() {
            bail!("nothing to store");
        }
        let mut state = self.state.clone();
        let mut standing = self.standing.clone();
        // Stored hashes of the whole extension: those of earlier chunks are
        // also in the store by then (held back), with the same values.
        let overlay = Overlay::new(
            &self.store,
            merkle::stored_hash_count(staged.first),
            &staged.hashes,
        );
        let mut at = merkle::stored_hash_count(staged.first);
        let mut hashes = staged.hashes.as_slice();
        let chunks = staged.entries.chunks(COMMIT_CHUNK).count();
        for (c, chunk) in staged.entries.chunks(COMMIT_CHUNK).enumerate() {
            let base = c * COMMIT_CHUNK;
            let start = staged.first + base as u64;
            let prepared: Vec<Result<Prepared, ValidationError>> = chunk
                .par_iter()
                .map(|b| {
                    let signed = board::parse(b)?;
                    let key = validate::required_signer(&signed, &self.manifest, &state).ok();
                    Ok(board::verify_with(signed, key))
                })
                .collect();
            let mut pending: Vec<(u64, Entry)> = Vec::new();
            let mut batch = Batch::default();
            for (i, p) in prepared.into_iter().enumerate() {
                let index = start + i as u64;
                let invalid = |error| {
                    Ok(Err(Box::new(Invalid {
                        index,
                        bytes: chunk[i].clone(),
                        error,
                    })))
                };
                let p = match p {
                    Ok(p) => p,
                    Err(e) => return invalid(e),
                };
                // Entries of earlier chunks are in the store (held back).
                let view = BoardView::new(
                    &state,
                    &standing,
                    &self.rebuilt,
                    &self.store,
                    &overlay,
                    start,
                    &pending,
                );
                if let Err(e) = board::check_prepared(&p, &self.manifest, &view) {
                    return invalid(e);
                }
                let leaf = staged.leaves[base + i];
                state.apply(index, leaf, &p.signed.entry);
                if let Err(e) = standing.apply(index, &p.signed.entry) {
                    return invalid(ValidationError::from(e));
                }
                if is_results_entry(&p.signed.entry) {
                    pending.push((index, p.signed.entry));
                }
                let (mine, rest) = hashes.split_at(staged.counts[base + i].min(hashes.len()));
                batch.push(index, chunk[i].clone(), leaf, at, mine);
                at += mine.len() as u64;
                hashes = rest;
            }
            if c + 1 < chunks {
                batch.hold_size();
            } else {
                batch.with_checkpoint(size, checkpoint.bytes.clone());
            }
            self.store.write(batch)?;
            // Durable (and sled's written pages released) chunk by chunk.
            self.store
                .sync()
                .context("making the mirrored entries durable")?;
        }
        self.state = state;
        self.standing = standing;
        self.size = size;
        self.latest = Some(checkpoint);
        Ok(Ok(()))
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
