//! The board: the log ([`crate::log`]) sealed with the board's own signed
//! checkpoints, and a fail-closed open (`spec/storage.md`).
//!
//! Contract:
//! * [`Board::append`] takes a batch of submissions and appends them with
//!   [`Log::append`]: each is validated against the one log state left by
//!   everything before it, the accepted ones are written in one atomic
//!   batch made durable (flush + fsync), then one checkpoint covering them
//!   is signed and durably stored. Only then does it return, so a caller
//!   may acknowledge every `Appended` outcome.
//! * A storage error leaves the state ahead of the disk; the board then
//!   refuses further appends until it is reopened, which rebuilds
//!   everything from disk.
//! * [`Board::open`] recomputes every stored hash from the entries, checks
//!   every stored checkpoint's signature and root against the tree, and
//!   refuses to open on any disagreement.

pub use crate::log::{parse, verify_with, Outcome, Prepared, SignedCheckpoint};

use crate::log::{self, Log, Published};
use crate::store::Store;
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;
use std::sync::Arc;
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle;
use tallyboard_core::note::{SignerKey, Verifiers};
use tallyboard_core::state::LogState;
use tallyboard_core::tlog_proof::TlogProof;

/// sled page cache: bounded so the board's memory stays flat as the log grows.
pub(crate) const CACHE_BYTES: u64 = 32 << 20;

/// The board's log.
pub struct Board {
    log: Log,
    log_key: SignerKey,
    verifiers: Verifiers,
}

impl Board {
    /// Creates a new board in an empty directory for a manifest, storing the
    /// manifest blob and signing the empty checkpoint.
    pub fn create(dir: &Path, manifest_bytes: &[u8], log_key: SignerKey) -> Result<Board> {
        let manifest = ValidatedManifest::from_bytes(manifest_bytes).map_err(|e| anyhow!("{e}"))?;
        check_log_key(&manifest, &log_key)?;
        let store = Store::open(dir, CACHE_BYTES)?;
        if store.size()? != 0 || store.latest_checkpoint()?.is_some() {
            bail!(
                "{} already holds a board; refusing to overwrite it",
                dir.display()
            );
        }
        store.put_blob(manifest_bytes)?;
        store.put_meta("manifest", &manifest.digest().0)?;
        let cp = Checkpoint {
            origin: manifest.manifest().log.origin.clone(),
            size: 0,
            root: tallyboard_core::hash::EMPTY_ROOT,
            extensions: vec![],
        };
        let bytes = checkpoint::sign_checkpoint(&cp, &log_key);
        store.put_checkpoint(0, &bytes)?;
        store.sync()?;
        let verifiers = verifiers_for(&log_key);
        let state = LogState::new(Arc::new(manifest));
        Ok(Board {
            log: Log::new(
                store,
                state,
                SignedCheckpoint {
                    checkpoint: cp,
                    bytes,
                },
            ),
            log_key,
            verifiers,
        })
    }

    /// Opens an existing board, verifying it end to end (fail closed).
    pub fn open(dir: &Path, log_key: SignerKey) -> Result<Board> {
        if !dir.join("db").exists() {
            bail!(
                "{} holds no board (run `tallyboard init` first)",
                dir.display()
            );
        }
        let store = Store::open(dir, CACHE_BYTES)?;
        let manifest = log::stored_manifest(&store)?.context("store has no manifest digest")?;
        check_log_key(&manifest, &log_key)?;
        let verifiers = verifiers_for(&log_key);
        let v = log::verify_store(&store, Arc::new(manifest), &verifiers)?;
        let mut latest = v.latest.context("store has no signed checkpoint")?;
        // Entries made durable but not yet checkpointed when the board
        // stopped were never acknowledged; they were validated, so cover
        // them now.
        if latest.checkpoint.size < v.state.size() {
            latest = log::sign_checkpoint(&store, v.state.manifest(), v.state.size(), &log_key)?;
        }
        Ok(Board {
            log: Log::new(store, v.state, latest),
            log_key,
            verifiers,
        })
    }

    /// Validates and appends a batch (see the module contract).
    pub fn append(&mut self, items: Vec<Prepared>) -> Result<Vec<Outcome>> {
        self.log.append(items, &self.log_key)
    }

    /// The key that must have signed `signed` given the state now, if it can
    /// be determined (the writer re-checks if the state moved on).
    pub fn signer_for(&self, signed: &SignedEntry) -> Option<tallyboard_core::validate::Signers> {
        self.log.signer_for(signed)
    }

    /// Parses and appends raw entries (single-threaded preparation).
    #[cfg(test)]
    pub fn append_bytes(&mut self, entries: &[Vec<u8>]) -> Result<Vec<Outcome>> {
        let mut prepared = Vec::new();
        let mut early = Vec::new();
        for (i, b) in entries.iter().enumerate() {
            match parse(b) {
                Ok(signed) => {
                    let key = self.signer_for(&signed);
                    prepared.push(verify_with(signed, key));
                }
                Err(e) => early.push((i, e)),
            }
        }
        let mut outcomes = self.append(prepared)?.into_iter();
        let mut early = early.into_iter().peekable();
        let mut out = Vec::with_capacity(entries.len());
        for i in 0..entries.len() {
            if early.peek().is_some_and(|(j, _)| *j == i) {
                let (_, e) = early.next().ok_or_else(|| anyhow!("unreachable"))?;
                out.push(Outcome::Rejected(e));
            } else {
                out.push(outcomes.next().ok_or_else(|| anyhow!("outcome missing"))?);
            }
        }
        Ok(out)
    }

    /// A receipt (C2SP tlog-proof) for the entry at `index`, against the
    /// latest checkpoint.
    pub fn receipt(&self, index: u64) -> Result<TlogProof> {
        let cp = self.latest();
        let proof = merkle::prove_inclusion(index, cp.checkpoint.size, self.store())
            .map_err(|e| anyhow!("{e}"))?;
        Ok(TlogProof {
            extra: None,
            index,
            proof,
            checkpoint: cp.bytes.clone(),
        })
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.log.size()
    }
    /// The latest signed checkpoint.
    pub fn latest(&self) -> Arc<SignedCheckpoint> {
        self.log.latest()
    }
    /// The manifest.
    pub fn manifest(&self) -> &ValidatedManifest {
        self.log.state().manifest()
    }
    /// The writer's log state.
    pub fn state(&self) -> &LogState {
        self.log.state()
    }
    /// The published snapshot readers share.
    pub fn published(&self) -> Arc<Published> {
        self.log.published()
    }
    /// The store.
    pub fn store(&self) -> &Store {
        self.log.store()
    }
    /// Verifiers holding the log key.
    pub fn verifiers(&self) -> &Verifiers {
        &self.verifiers
    }
}

fn verifiers_for(key: &SignerKey) -> Verifiers {
    let mut v = Verifiers::new();
    v.add(key.verifier());
    v
}

fn check_log_key(manifest: &ValidatedManifest, key: &SignerKey) -> Result<()> {
    if key.verifier().to_vkey_string() != manifest.log_key().to_vkey_string() {
        bail!(
            "the log key {} is not the manifest's log key {}",
            key.verifier().to_vkey_string(),
            manifest.log_key().to_vkey_string()
        );
    }
    if key.name() != manifest.manifest().log.origin {
        bail!(
            "the log key's name must equal the log origin {}",
            manifest.manifest().log.origin
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
