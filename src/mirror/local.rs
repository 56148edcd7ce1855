//! The mirror's verified copy of the log (`spec/mirror.md` §3): the board's
//! own log ([`crate::log`]) over the board's store, so the board's read
//! handlers serve it unchanged, and entries are validated and stored by the
//! same append path as the board's.
//!
//! Entries are written only together with the log's signed checkpoint that
//! covers them, made durable before the published state moves on: the
//! store never holds a visible entry that is not under a verified
//! checkpoint. Opening re-verifies everything (`log::verify_full`), with
//! the log's verifier key named by the stored manifest.

use crate::board::SignedCheckpoint;
use crate::log::{self, Log, Published};
use crate::store::file::{self, FileStore};
use crate::store::frontier::Frontier;
use crate::store::Store;
use anyhow::{anyhow, bail, Result};
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;
use tallyboard_core::checkpoint::Checkpoint;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::note::{VerifierKey, Verifiers};
use tallyboard_core::state::LogState;
use tallyboard_core::validate::ValidationError;
use tallyboard_core::Hash;

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
    log: Log,
}

impl Local {
    /// Opens the copy in `dir`, verifying it end to end; `None` if `dir`
    /// holds none yet. A `pinned` log key must be the manifest's.
    pub fn open(dir: &Path, pinned: Option<&VerifierKey>) -> Result<Option<Local>> {
        if !crate::store::exists(dir) {
            return Ok(None);
        }
        let manifest = file::read_manifest(dir)?;
        check_pinned(&manifest, pinned)?;
        let verifiers = log_verifiers(&manifest);
        let (store, opened) = FileStore::open(dir, &verifiers)?;
        let reader = crate::store::LogWriter::reader(&store);
        let v = log::verify_full(&reader, Arc::new(manifest), &verifiers, opened.size)?;
        let latest = if opened.latest.is_empty() {
            none_yet(v.state.manifest())
        } else {
            let origin = v.state.manifest().manifest().log.origin.clone();
            let note = reader
                .checkpoint(opened.size)?
                .unwrap_or_else(|| opened.latest.clone());
            log::check_checkpoint(&reader, &note, opened.size, &origin, &verifiers)?
        };
        if latest.checkpoint.size != v.state.size() {
            bail!(
                "mirror store inconsistent: {} entries stored, but the latest verified checkpoint covers {}",
                v.state.size(),
                latest.checkpoint.size
            );
        }
        Ok(Some(Local {
            log: Log::new(Box::new(store), v.state, latest)?,
        }))
    }

    /// Creates an empty copy in `dir` for `manifest` (whose log key the
    /// caller has checked), durably.
    pub fn create(dir: &Path, manifest_bytes: &[u8]) -> Result<Local> {
        let manifest = ValidatedManifest::from_bytes(manifest_bytes).map_err(|e| anyhow!("{e}"))?;
        let store = FileStore::create(dir, &manifest.manifest().log.origin, manifest_bytes, None)?;
        let latest = none_yet(&manifest);
        Ok(Local {
            log: Log::new(Box::new(store), LogState::new(Arc::new(manifest)), latest)?,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &ValidatedManifest {
        self.log.state().manifest()
    }
    /// The store.
    pub fn store(&self) -> &Store {
        self.log.store()
    }
    /// The published snapshot the mirror's server reads.
    pub fn published(&self) -> Arc<Published> {
        self.log.published()
    }
    /// The latest verified checkpoint, once there is one.
    pub fn latest(&self) -> Option<Arc<SignedCheckpoint>> {
        let l = self.log.latest();
        (!l.bytes.is_empty()).then_some(l)
    }
    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.manifest().manifest().log.origin
    }
    /// A verifier set holding the log key.
    pub fn verifiers(&self) -> Verifiers {
        log_verifiers(self.manifest())
    }

    /// The root of the tree the copy's entries and then `entries` make
    /// (nothing is written): what the log's signed checkpoint must say
    /// before anything is validated.
    pub fn root_after(&self, entries: &[Vec<u8>]) -> Result<Hash> {
        let leaves: Vec<Hash> = entries
            .par_iter()
            .map(|e| tallyboard_core::hash::leaf_hash(e))
            .collect();
        let mut f = Frontier::load(self.log.size(), self.store()).map_err(|e| anyhow!("{e}"))?;
        for leaf in leaves {
            f.append(leaf, |_, _, _| {});
        }
        Ok(f.root())
    }

    /// Validates every new entry in order under the board's rules
    /// (`spec/validation.md`), through the board's own append path, and
    /// stores them with `checkpoint`, whose tree they must complete. The
    /// outer error is a storage failure; the inner one the first entry
    /// that fails (then nothing visible is stored, and the copy must be
    /// reopened before it is extended again).
    pub fn verify_and_store(
        &mut self,
        entries: Vec<Vec<u8>>,
        checkpoint: SignedCheckpoint,
    ) -> Result<Result<(), Box<Invalid>>> {
        let first = self.log.size();
        match self.log.adopt(&entries, checkpoint)? {
            None => Ok(Ok(())),
            Some((index, error)) => {
                let at = usize::try_from(index - first).unwrap_or(usize::MAX);
                Ok(Err(Box::new(Invalid {
                    index,
                    bytes: entries.get(at).cloned().unwrap_or_default(),
                    error,
                })))
            }
        }
    }

    /// Replaces the stored checkpoint of the current size by another
    /// signing of the same tree (the same checkpoint with more cosignatures).
    pub fn replace_checkpoint(&mut self, checkpoint: SignedCheckpoint) -> Result<()> {
        self.log.replace_checkpoint(checkpoint)
    }
}

/// The placeholder of a copy that has verified no checkpoint yet: the
/// empty tree, unsigned (`Local::latest` reports none).
fn none_yet(manifest: &ValidatedManifest) -> SignedCheckpoint {
    SignedCheckpoint {
        checkpoint: Checkpoint {
            origin: manifest.manifest().log.origin.clone(),
            size: 0,
            root: tallyboard_core::hash::EMPTY_ROOT,
            extensions: vec![],
        },
        bytes: Vec::new(),
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
