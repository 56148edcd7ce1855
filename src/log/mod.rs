//! The log: the one [`LogState`] plus the store, with the one append path
//! the board and a mirror share (`spec/storage.md`).
//!
//! Contract of [`Log::append`]:
//! * each item is checked against the state left by everything before it
//!   (earlier items of the same call included): the required signer (the
//!   signature verdict computed off the writer thread is reused when it was
//!   checked against that same key), then the state rules;
//! * the accepted items are written in one atomic batch (a mirror's long
//!   extension in several, the size held back until the last) made durable
//!   (flush + fsync) together with, or before, the checkpoint that covers
//!   them: one the board signs ([`Log::append`]) or the log's own that a
//!   mirror verified ([`Log::adopt`]);
//! * only then is the new state published ([`snapshot`]) and the call
//!   returns, so a caller may acknowledge every `Appended` outcome.
//!
//! A storage error, or an entry a mirror's upstream logged that the rules
//! refuse, leaves the state ahead of the store: the log then
//! refuses further appends (`poisoned`) until it is reopened, which
//! rebuilds everything from the store. Readers are unaffected: the
//! published snapshot only ever moves to a durable checkpoint.

mod open;
pub mod snapshot;

pub use open::{stored_manifest, verify_store};
pub use snapshot::{Published, Snapshot};

use crate::store::{Batch, Store};
use anyhow::{anyhow, bail, Context, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use tallyboard_core::aggregate::AggregateError;
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::entry::Tally;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::merkle::{self, HashReader};
use tallyboard_core::note::SignerKey;
use tallyboard_core::state::LogReader;
use tallyboard_core::state::LogState;
use tallyboard_core::validate::{Signers, ValidationError};
use tallyboard_core::{ErrorCode, Hash};

/// A signed checkpoint: parsed, and the note bytes as published (with any
/// cosignatures stored with it).
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// Parsed body.
    pub checkpoint: Checkpoint,
    /// The signed note bytes.
    pub bytes: Vec<u8>,
}

/// A submission that has been parsed and (perhaps) signature-checked off
/// the writer thread.
pub struct Prepared {
    /// The parsed entry.
    pub signed: SignedEntry,
    /// The keys the signatures were checked against, and the verdict.
    pub verdict: Option<(Signers, Result<(), ValidationError>)>,
}

/// Parses a submission (no state needed; safe on any thread).
pub fn parse(bytes: &[u8]) -> Result<SignedEntry, ValidationError> {
    SignedEntry::parse(bytes).map_err(ValidationError::from)
}

/// Checks a parsed entry's signatures against the keys looked up for it
/// earlier ([`Log::signer_for`]); safe on any thread, no state needed.
pub fn verify_with(signed: SignedEntry, signers: Option<Signers>) -> Prepared {
    let verdict = signers.map(|k| {
        let v = k.verify(&signed);
        (k, v)
    });
    Prepared { signed, verdict }
}

/// What happened to one submission.
#[derive(Debug)]
pub enum Outcome {
    /// Appended at `index`.
    Appended {
        /// Its index.
        index: u64,
        /// Its leaf hash.
        leaf: Hash,
    },
    /// The same bytes were already logged at `index`; nothing was appended.
    Duplicate {
        /// The existing index.
        index: u64,
        /// Its leaf hash.
        leaf: Hash,
    },
    /// Refused; nothing was appended.
    Rejected(ValidationError),
}

/// Who vouches for the new entries.
enum Seal<'a> {
    /// The board signs a checkpoint covering them, after they are durable.
    Sign(&'a SignerKey),
    /// A mirror stores the log's own checkpoint, verified by the caller,
    /// in the same atomic write: its tree must be exactly the new one.
    Adopt(SignedCheckpoint),
}

/// Entries per sled batch when a long extension is written in several
/// (a mirror's catch-up): sled 0.34 keeps memory in proportion to the
/// size of the batches written (a first sync of 40,001 entries peaked at
/// 591 MiB RSS in batches of 4,096 and 139 MiB in 256).
const CHUNK: usize = 256;

/// Reads stored hashes from the store, or from entries not yet written.
pub(crate) struct Overlay<'a> {
    store: &'a Store,
    base: u64,
    pending: &'a [Hash],
}

impl<'a> Overlay<'a> {
    /// Stored hashes below `base` come from `store`, the rest from `pending`
    /// (stored hash `base + i` is `pending[i]`).
    pub(crate) fn new(store: &'a Store, base: u64, pending: &'a [Hash]) -> Overlay<'a> {
        Overlay {
            store,
            base,
            pending,
        }
    }
}

impl HashReader for Overlay<'_> {
    type Error = anyhow::Error;
    fn read_hash(&self, index: u64) -> Result<Hash> {
        if index >= self.base {
            let i = usize::try_from(index - self.base)?;
            self.pending
                .get(i)
                .copied()
                .ok_or_else(|| anyhow!("stored hash {index} not yet computed"))
        } else {
            self.store.stored_hash(index)
        }
    }
}

/// The log: its store, the writer's state and the published snapshot.
pub struct Log {
    store: Store,
    /// The writer's copy of the state: unshared between commits, so it is
    /// updated in place (`Arc::make_mut` clones only if a reader kept it).
    working: Arc<LogState>,
    /// The latest signed checkpoint.
    latest: Arc<SignedCheckpoint>,
    /// The snapshot readers share, from the first time anyone asks for it
    /// (the server, a mirror): a log nobody reads (an offline import, the
    /// benchmark's writer) keeps a single copy of the state.
    published: std::sync::OnceLock<Arc<Published>>,
    poisoned: bool,
}

/// Accepted items of one call, not yet durable.
struct Pending {
    /// Index of the first.
    first: u64,
    /// The stored hashes they add, from stored-hash index
    /// `merkle::stored_hash_count(first)` on.
    hashes: Vec<Hash>,
    /// Leaf hash → index, for duplicates within the call.
    leaves: HashMap<Hash, u64>,
    /// What to apply to the readers' copy once published.
    applied: Vec<(u64, Hash, Entry)>,
    /// Not yet written.
    batch: Batch,
}

impl Pending {
    fn new(first: u64, capacity: usize) -> Pending {
        Pending {
            first,
            hashes: Vec::new(),
            leaves: HashMap::new(),
            applied: Vec::with_capacity(capacity),
            batch: Batch::default(),
        }
    }
}

impl Log {
    /// A log over `store`, whose entries `state` holds and whose latest
    /// checkpoint is `latest` (both verified by the caller).
    pub fn new(store: Store, state: LogState, latest: SignedCheckpoint) -> Log {
        Log {
            store,
            working: Arc::new(state),
            latest: Arc::new(latest),
            published: std::sync::OnceLock::new(),
            poisoned: false,
        }
    }

    /// The writer's state (entries durable or being appended).
    pub fn state(&self) -> &LogState {
        &self.working
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.working.size()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The latest signed checkpoint.
    pub fn latest(&self) -> Arc<SignedCheckpoint> {
        self.latest.clone()
    }

    /// The published snapshot, shared with readers. The first call shares
    /// the writer's state as it is; the writer's next commit then takes a
    /// copy of its own (`Arc::make_mut`), and from there the two copies
    /// are swapped at every commit ([`snapshot`]).
    pub fn published(&self) -> Arc<Published> {
        self.published
            .get_or_init(|| {
                Arc::new(Published::new(Snapshot {
                    state: self.working.clone(),
                    checkpoint: self.latest.clone(),
                }))
            })
            .clone()
    }

    /// The keys that must have signed `signed` given the state now, if
    /// they can be determined (the writer re-checks if the state moved on).
    pub fn signer_for(&self, signed: &SignedEntry) -> Option<Signers> {
        self.working.required_signers(signed).ok()
    }

    /// Validates and appends `items` under a checkpoint the board signs
    /// with `key`; an item the rules refuse is refused alone (see the
    /// module contract).
    ///
    /// # Errors
    /// A storage failure, or a poisoned log.
    pub fn append(&mut self, items: Vec<Prepared>, key: &SignerKey) -> Result<Vec<Outcome>> {
        if self.poisoned {
            bail!("the log hit a storage error and must be reopened");
        }
        let mut pending = Pending::new(self.size(), items.len());
        let mut outcomes = Vec::with_capacity(items.len());
        for p in items {
            outcomes.push(self.stage(p, &mut pending)?);
        }
        if !pending.applied.is_empty() {
            self.seal_and_publish(pending, Seal::Sign(key))?;
        }
        Ok(outcomes)
    }

    /// A mirror's extension: the upstream's `entries`, which `checkpoint`
    /// (verified by the caller) must cover exactly, validated in order and
    /// stored together with it, or not at all. Signatures are checked on
    /// all cores, chunk by chunk, against the signers the state before the
    /// chunk implies (an entry whose signer its own chunk changes is
    /// re-checked in order). Returns `Ok(None)` when stored, or the index
    /// and refusal of the first entry the rules refuse (nothing visible is
    /// stored then, and the log must be reopened before it appends again).
    ///
    /// # Errors
    /// A storage failure, a checkpoint that does not cover the entries, or
    /// a poisoned log.
    pub fn adopt(
        &mut self,
        entries: &[Vec<u8>],
        checkpoint: SignedCheckpoint,
    ) -> Result<Option<(u64, ValidationError)>> {
        if self.poisoned {
            bail!("the log hit a storage error and must be reopened");
        }
        let mut pending = Pending::new(self.size(), entries.len());
        let chunks = entries.chunks(CHUNK).count();
        for (c, chunk) in entries.chunks(CHUNK).enumerate() {
            let state = &self.working;
            let prepared: Vec<Result<Prepared, ValidationError>> = chunk
                .par_iter()
                .map(|b| {
                    let signed = parse(b)?;
                    let key = state.required_signers(&signed).ok();
                    Ok(verify_with(signed, key))
                })
                .collect();
            for p in prepared {
                let index = self.size();
                let refusal = match p.map(|p| self.stage(p, &mut pending)) {
                    Err(e) => e,
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(Outcome::Appended { .. })) => continue,
                    Ok(Ok(Outcome::Rejected(e))) => e,
                    Ok(Ok(Outcome::Duplicate { index: earlier, .. })) => {
                        duplicate_refusal(index, earlier)
                    }
                };
                // Entries before it are applied but not visible in the
                // store: the state is ahead of what a reopen would find.
                self.poisoned = !pending.applied.is_empty();
                return Ok(Some((index, refusal)));
            }
            if c + 1 < chunks {
                self.write_held(&mut pending)?;
            }
        }
        if pending.applied.is_empty() {
            bail!("nothing to store");
        }
        self.seal_and_publish(pending, Seal::Adopt(checkpoint))?;
        Ok(None)
    }

    /// Makes the pending entries durable under their checkpoint, then
    /// publishes the state; a failure poisons the log.
    fn seal_and_publish(&mut self, mut pending: Pending, seal: Seal<'_>) -> Result<()> {
        match self.seal(&mut pending, seal) {
            Ok(cp) => {
                self.publish(pending.applied, cp);
                Ok(())
            }
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }

    /// Checks one item and, if accepted, applies it and adds it to the batch.
    fn stage(&mut self, p: Prepared, pending: &mut Pending) -> Result<Outcome> {
        let leaf = p.signed.leaf_hash();
        let existing = match pending.leaves.get(&leaf) {
            Some(&i) => Some(i),
            None => self.store.index_of_leaf(&leaf)?,
        };
        if let Some(index) = existing {
            return Ok(Outcome::Duplicate { index, leaf });
        }
        let base = merkle::stored_hash_count(pending.first);
        let reader = Overlay::new(&self.store, base, &pending.hashes);
        let log = StoredLog {
            tree: &reader,
            pending: &pending.applied,
        };
        if let Err(e) = check_prepared(&p, &self.working, &log) {
            return Ok(Outcome::Rejected(e));
        }
        let index = self.working.size();
        let hashes = merkle::stored_hashes(index, leaf, &reader).map_err(|e| anyhow!("{e}"))?;
        if let Err(e) = Arc::make_mut(&mut self.working).apply(index, leaf, &p.signed.entry) {
            // The rules accepted it, so the state cannot refuse it; if it
            // does, the state may be ahead of the store.
            self.poisoned = true;
            bail!("the log state refused accepted entry {index}: {e}");
        }
        pending.batch.push(
            index,
            p.signed.bytes,
            leaf,
            merkle::stored_hash_count(index),
            &hashes,
        );
        pending.hashes.extend_from_slice(&hashes);
        pending.leaves.insert(leaf, index);
        pending.applied.push((index, leaf, p.signed.entry));
        Ok(Outcome::Appended { index, leaf })
    }

    /// Writes the batch so far with the stored size held back, durably, so
    /// that no single sled batch grows with a long extension.
    fn write_held(&mut self, pending: &mut Pending) -> Result<()> {
        let mut batch = std::mem::take(&mut pending.batch);
        if batch.is_empty() {
            return Ok(());
        }
        batch.hold_size();
        let written = self.store.write(batch).and_then(|()| self.store.sync());
        if written.is_err() {
            self.poisoned = true;
        }
        written.context("writing a verified extension")
    }

    /// Makes the accepted items durable under a checkpoint; returns it.
    fn seal(&mut self, pending: &mut Pending, seal: Seal<'_>) -> Result<SignedCheckpoint> {
        let size = self.working.size();
        let base = merkle::stored_hash_count(pending.first);
        let mut batch = std::mem::take(&mut pending.batch);
        match seal {
            Seal::Adopt(cp) => {
                let root =
                    merkle::tree_hash(size, &Overlay::new(&self.store, base, &pending.hashes))
                        .map_err(|e| anyhow!("{e}"))?;
                if cp.checkpoint.size != size || cp.checkpoint.root != root {
                    bail!(
                        "refusing to store entries under a checkpoint that does not cover them (size {} root {}, the entries make size {size} root {})",
                        cp.checkpoint.size,
                        cp.checkpoint.root.to_base64(),
                        root.to_base64()
                    );
                }
                batch.with_checkpoint(size, cp.bytes.clone());
                self.store.write(batch)?;
                self.store
                    .sync()
                    .context("making the entries and their checkpoint durable")?;
                Ok(cp)
            }
            Seal::Sign(key) => {
                let t0 = std::time::Instant::now();
                self.store
                    .write(batch)
                    .and_then(|()| self.store.sync())
                    .context("writing the batch; nothing in it was acknowledged")?;
                let t1 = std::time::Instant::now();
                let cp = sign_checkpoint(&self.store, self.working.manifest(), size, key)
                    .context("signing the checkpoint")?;
                if std::env::var_os("TALLYBOARD_TRACE_BATCHES").is_some() {
                    eprintln!(
                        "  write+sync {:.1} ms, checkpoint {:.1} ms",
                        (t1 - t0).as_secs_f64() * 1e3,
                        t1.elapsed().as_secs_f64() * 1e3
                    );
                }
                Ok(cp)
            }
        }
    }

    /// Publishes the writer's state at `latest`, and takes back the copy
    /// readers held, bringing it up to date with `applied` (see
    /// [`snapshot`]).
    fn publish(&mut self, applied: Vec<(u64, Hash, Entry)>, latest: SignedCheckpoint) {
        self.latest = Arc::new(latest);
        let Some(published) = self.published.get().cloned() else {
            return;
        };
        let mut old = published.replace(Snapshot {
            state: self.working.clone(),
            checkpoint: self.latest.clone(),
        });
        // Readers hold a snapshot for the length of one request; give them
        // a moment to let the old one go before settling for a clone.
        for _ in 0..64 {
            match Arc::try_unwrap(old) {
                Ok(snapshot) => {
                    let mut spare = snapshot.state;
                    if let Some(state) = Arc::get_mut(&mut spare) {
                        // The writer's copy took the same entries, so these
                        // cannot be refused; if one were, keep the shared copy.
                        if applied
                            .iter()
                            .all(|(index, leaf, entry)| state.apply(*index, *leaf, entry).is_ok())
                        {
                            self.working = spare;
                        }
                    }
                    return;
                }
                Err(shared) => {
                    old = shared;
                    std::thread::yield_now();
                }
            }
        }
        // Still held: the next append clones the published copy once
        // (`Arc::make_mut`), and the old one is freed by its last reader.
    }

    /// Replaces the stored checkpoint of the current size by another
    /// signing of the same tree: the same checkpoint with more
    /// cosignatures (a mirror that sees the witnesses' signatures arrive).
    pub fn replace_checkpoint(&mut self, cp: SignedCheckpoint) -> Result<()> {
        let latest = self.latest();
        if latest.checkpoint.size != cp.checkpoint.size
            || latest.checkpoint.root != cp.checkpoint.root
        {
            bail!("refusing to replace a checkpoint by one of another tree");
        }
        self.store.put_checkpoint(cp.checkpoint.size, &cp.bytes)?;
        self.store.sync()?;
        self.latest = Arc::new(cp);
        if let Some(published) = self.published.get() {
            let state = published.get().state.clone();
            published.replace(Snapshot {
                state,
                checkpoint: self.latest.clone(),
            });
        }
        Ok(())
    }
}

/// Signs and durably stores the checkpoint of the first `size` entries.
pub fn sign_checkpoint(
    store: &Store,
    manifest: &tallyboard_core::manifest::ValidatedManifest,
    size: u64,
    key: &SignerKey,
) -> Result<SignedCheckpoint> {
    let root = merkle::tree_hash(size, store).map_err(|e| anyhow!("{e}"))?;
    let cp = Checkpoint {
        origin: manifest.manifest().log.origin.clone(),
        size,
        root,
        extensions: vec![],
    };
    let bytes = checkpoint::sign_checkpoint(&cp, key);
    store.put_checkpoint(size, &bytes)?;
    store.sync()?;
    Ok(SignedCheckpoint {
        checkpoint: cp,
        bytes,
    })
}

/// Every rule of `spec/validation.md` for one prepared entry against
/// `state`: the required signer (reusing the signature verdict computed
/// off the writer thread when it was checked against that same key), then
/// the state rules.
pub fn check_prepared(
    p: &Prepared,
    state: &LogState,
    tallies: &dyn LogReader,
) -> Result<(), ValidationError> {
    let signers = state.required_signers(&p.signed)?;
    match &p.verdict {
        Some((k, verdict)) if k == &signers => verdict.clone()?,
        _ => signers.verify(&p.signed)?,
    }
    state.check(&p.signed, tallies)
}

/// The log as the writer's tally source (what a statement at an earlier
/// size reads an intermediate revision from): the entries of the call
/// being appended, then the store (which also holds a mirror's
/// extension written with its size held back).
/// The log as the rules read it while a batch is staged: the store, the
/// entries applied but not yet written, and the tree over both.
struct StoredLog<'a> {
    tree: &'a Overlay<'a>,
    pending: &'a [(u64, Hash, Entry)],
}

impl LogReader for StoredLog<'_> {
    fn tally(&self, index: u64) -> Result<Tally, AggregateError> {
        let entry = match self.pending.binary_search_by_key(&index, |(i, _, _)| *i) {
            Ok(at) => self.pending[at].2.clone(),
            Err(_) => {
                let bytes = self
                    .tree
                    .store
                    .entry(index)
                    .ok()
                    .flatten()
                    .ok_or_else(|| not_a_tally(index, "cannot be read"))?;
                SignedEntry::parse(&bytes)
                    .map_err(|_| not_a_tally(index, "does not parse"))?
                    .entry
            }
        };
        match entry {
            Entry::Tally(t) => Ok(t),
            _ => Err(not_a_tally(index, "is not a tally")),
        }
    }

    fn root(&self, size: u64) -> Result<Hash, AggregateError> {
        merkle::tree_hash(size, self.tree)
            .map_err(|e| AggregateError::store(format!("the tree of size {size}: {e}")))
    }
}

fn not_a_tally(index: u64, why: &str) -> AggregateError {
    AggregateError::store(format!("stored entry {index} {why}"))
}

/// The refusal a mirror reports for an entry its upstream logged twice.
pub fn duplicate_refusal(index: u64, earlier: u64) -> ValidationError {
    ValidationError::new(
        ErrorCode::StoreInconsistent,
        format!("entry {index} repeats entry {earlier}: a board never logs the same bytes twice"),
    )
}
