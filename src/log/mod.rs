//! The log: the one [`LogState`] plus the store, with the one append path
//! the board and a mirror share (`spec/storage.md`).
//!
//! Contract of [`Log::append`]:
//! * each item is checked against the state left by everything before it
//!   (earlier items of the same call included): the required signer (the
//!   signature verdict computed off the writer thread is reused when it was
//!   checked against that same key), then the state rules;
//! * the accepted items and the checkpoint that covers them (one the board
//!   signs over the new root, [`Log::append`], or the log's own that a
//!   mirror verified, [`Log::adopt`]) are made durable in one commit of
//!   the store (`crate::store::LogWriter::commit`; a mirror's long
//!   extension in several, only the last carrying the checkpoint);
//! * only then is the new state published ([`snapshot`]) and the call
//!   returns, so a caller may acknowledge every `Appended` outcome.
//!
//! A storage error, or an entry a mirror's upstream logged that the rules
//! refuse, leaves the state ahead of the store: the log then
//! refuses further appends (`poisoned`) until it is reopened, which
//! rebuilds everything from the store. Readers are unaffected: the
//! published snapshot only ever moves to a durable checkpoint.

mod open;
pub mod resume;
pub mod snapshot;

pub use open::{check_checkpoint, rebuild_state, verify_full};
pub use snapshot::{Published, Snapshot};

use crate::store::frontier::Frontier;
use crate::store::{CheckpointNote, Commit, LogWriter, Store};
use anyhow::{anyhow, bail, Context, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use tallyboard_core::aggregate::AggregateError;
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::entry::Tally;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::merkle;
use tallyboard_core::note::NoteSigner;
use tallyboard_core::state::{ContestTallies, LogReader, LogState, TallyRef};
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
    /// The board signs a checkpoint of the new tree, stored in the same
    /// durable commit.
    Sign(&'a dyn NoteSigner),
    /// A mirror stores the log's own checkpoint, verified by the caller,
    /// in the same durable commit: its tree must be exactly the new one.
    Adopt(SignedCheckpoint),
}

/// Entries per commit when a mirror's long extension is written in
/// several (only the last carries the checkpoint), so that no single
/// journal record grows with it.
const CHUNK: usize = 4096;

/// The log: its store, the writer's state and the published snapshot.
pub struct Log {
    writer: Box<dyn LogWriter>,
    store: Store,
    /// The right edge of the writer's tree (entries durable or being appended).
    frontier: Frontier,
    /// The writer's copy of the state: unshared between commits, so it is
    /// updated in place (`Arc::make_mut` clones only if a reader kept it).
    working: Arc<LogState>,
    published: Arc<Published>,
    poisoned: bool,
    /// Writes a sealed state snapshot every `resume::SNAPSHOT_EVERY` entries.
    snapshotter: Option<resume::Snapshotter>,
    /// The size of the last snapshot offered.
    snapshot_at: u64,
    /// Entries between snapshots (`resume::SNAPSHOT_EVERY`; tests use fewer).
    snapshot_every: u64,
}

/// Accepted items of one call, not yet durable.
struct Pending {
    /// Index of the first entry not yet written.
    first: u64,
    /// Leaf hash → index, for duplicates within the call.
    leaves: HashMap<Hash, u64>,
    /// What to apply to the readers' copy once published.
    applied: Vec<(u64, Hash, Entry)>,
    /// Not yet written: the entries' bytes and leaf hashes.
    entries: Vec<Vec<u8>>,
    hashes: Vec<Hash>,
}

impl Pending {
    fn new(first: u64, capacity: usize) -> Pending {
        Pending {
            first,
            leaves: HashMap::new(),
            applied: Vec::with_capacity(capacity),
            entries: Vec::with_capacity(capacity),
            hashes: Vec::with_capacity(capacity),
        }
    }
}

impl Log {
    /// A log over the store `writer`, whose entries `state` holds and whose
    /// latest checkpoint is `latest` (both verified by the caller).
    ///
    /// # Errors
    /// The store cannot give the right edge of its tree.
    pub fn new(
        writer: Box<dyn LogWriter>,
        state: LogState,
        latest: SignedCheckpoint,
    ) -> Result<Log> {
        let store = writer.reader();
        let frontier = Frontier::load(state.size(), &store).map_err(|e| anyhow!("{e}"))?;
        let state = Arc::new(state);
        let published = Arc::new(Published::new(Snapshot {
            state: state.clone(),
            checkpoint: Arc::new(latest),
        }));
        // The writer gets its own copy so that its first commit does not
        // have to clone the published one.
        let working = Arc::new((*state).clone());
        Ok(Log {
            writer,
            store,
            frontier,
            working,
            published,
            poisoned: false,
            snapshotter: None,
            snapshot_at: 0,
            snapshot_every: resume::SNAPSHOT_EVERY,
        })
    }

    /// Snapshots every `n` entries instead (tests).
    #[cfg(test)]
    pub fn snapshot_every(&mut self, n: u64) {
        self.snapshot_every = n.max(1);
    }

    /// Keeps a sealed snapshot of the state every `resume::SNAPSHOT_EVERY`
    /// entries (`spec/storage.md` §5), written off the writer's thread.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn keep_snapshots(&mut self, sealer: Arc<resume::Sealer>, last: u64) -> Result<()> {
        let s = resume::Snapshotter::spawn(self.store.clone(), sealer)?;
        // Resumed from far behind (a long replay): snapshot now, so the
        // next open does not replay it again.
        let size = self.size();
        if size / self.snapshot_every > last / self.snapshot_every && s.offer(self.published.get())
        {
            self.snapshot_at = size;
        } else {
            self.snapshot_at = last;
        }
        self.snapshotter = Some(s);
        Ok(())
    }

    /// The writer's state (entries durable or being appended).
    pub fn state(&self) -> &LogState {
        &self.working
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.working.size()
    }

    /// A reader handle on the store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The latest signed checkpoint.
    pub fn latest(&self) -> Arc<SignedCheckpoint> {
        self.published.checkpoint()
    }

    /// The published snapshot, shared with readers.
    pub fn published(&self) -> Arc<Published> {
        self.published.clone()
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
    pub fn append(&mut self, items: Vec<Prepared>, key: &dyn NoteSigner) -> Result<Vec<Outcome>> {
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
        if let Some(index) = self.logged(&p.signed, &leaf, pending)? {
            return Ok(Outcome::Duplicate { index, leaf });
        }
        let log = StoredLog {
            store: &self.store,
            first: pending.first,
            leaves: &pending.hashes,
            pending: &pending.applied,
        };
        if let Err(e) = check_prepared(&p, &self.working, &log) {
            return Ok(Outcome::Rejected(e));
        }
        let index = self.working.size();
        if let Err(e) = Arc::make_mut(&mut self.working).apply(index, leaf, &p.signed.entry) {
            // The rules accepted it, so the state cannot refuse it; if it
            // does, the state may be ahead of the store.
            self.poisoned = true;
            bail!("the log state refused accepted entry {index}: {e}");
        }
        self.frontier.append(leaf, |_, _, _| {});
        pending.entries.push(p.signed.bytes);
        pending.hashes.push(leaf);
        pending.leaves.insert(leaf, index);
        pending.applied.push((index, leaf, p.signed.entry));
        Ok(Outcome::Appended { index, leaf })
    }

    /// The index of the logged entry with these exact bytes, if any: for a
    /// tally, the station's standing revision in the state says it (a
    /// revision beyond the latest cannot be logged; the latest's leaf is
    /// kept); anything else, and an earlier revision, is looked up by leaf
    /// hash in the store.
    fn logged(&self, signed: &SignedEntry, leaf: &Hash, pending: &Pending) -> Result<Option<u64>> {
        if let Some(&i) = pending.leaves.get(leaf) {
            return Ok(Some(i));
        }
        if let Entry::Tally(t) = &signed.entry {
            let first = self.working.first_tally(&t.station, &t.contest);
            let latest = self.working.latest_tally(&t.station, &t.contest);
            for r in [first, latest].into_iter().flatten() {
                if r.revision == t.revision {
                    // That revision is logged: with these bytes, or others.
                    return Ok((r.leaf == *leaf).then_some(r.index));
                }
            }
            if latest.is_none_or(|l| t.revision > l.revision) {
                // Not logged yet, so not with these bytes either.
                return Ok(None);
            }
        }
        Ok(self.store.index_of_leaf(leaf)?)
    }

    /// Writes the entries staged so far with no checkpoint (a mirror's long
    /// extension: not part of the log until a later commit's checkpoint
    /// covers them).
    fn write_held(&mut self, pending: &mut Pending) -> Result<()> {
        if pending.entries.is_empty() {
            return Ok(());
        }
        let written = self.writer.commit(&Commit {
            first: pending.first,
            entries: &pending.entries,
            leaves: &pending.hashes,
            checkpoint: None,
        });
        if written.is_err() {
            self.poisoned = true;
        }
        written.context("writing a verified extension")?;
        pending.first += pending.entries.len() as u64;
        pending.entries.clear();
        pending.hashes.clear();
        Ok(())
    }

    /// Makes the accepted items durable under a checkpoint; returns it.
    fn seal(&mut self, pending: &mut Pending, seal: Seal<'_>) -> Result<SignedCheckpoint> {
        let size = self.working.size();
        let root = self.frontier.root();
        let cp = match seal {
            Seal::Adopt(cp) => {
                if cp.checkpoint.size != size || cp.checkpoint.root != root {
                    bail!(
                        "refusing to store entries under a checkpoint that does not cover them (size {} root {}, the entries make size {size} root {})",
                        cp.checkpoint.size,
                        cp.checkpoint.root.to_base64(),
                        root.to_base64()
                    );
                }
                cp
            }
            Seal::Sign(key) => sign_checkpoint(self.working.manifest(), size, root, key)?,
        };
        let t0 = std::time::Instant::now();
        self.writer
            .commit(&Commit {
                first: pending.first,
                entries: &pending.entries,
                leaves: &pending.hashes,
                checkpoint: Some(CheckpointNote {
                    size,
                    root,
                    note: &cp.bytes,
                }),
            })
            .context("writing the batch and its checkpoint; nothing in it was acknowledged")?;
        if std::env::var_os("TALLYBOARD_TRACE_BATCHES").is_some() {
            eprintln!(
                "  commit of {} entries: {:.1} ms",
                pending.entries.len(),
                t0.elapsed().as_secs_f64() * 1e3
            );
        }
        Ok(cp)
    }

    /// Publishes the writer's state at `latest`, and takes back the copy
    /// readers held, bringing it up to date with `applied` (see
    /// [`snapshot`]).
    fn publish(&mut self, applied: Vec<(u64, Hash, Entry)>, latest: SignedCheckpoint) {
        let mut old = self.published.replace(Snapshot {
            state: self.working.clone(),
            checkpoint: Arc::new(latest),
        });
        let size = self.working.size();
        if let Some(s) = &self.snapshotter {
            if size / self.snapshot_every > self.snapshot_at / self.snapshot_every
                && s.offer(self.published.get())
            {
                self.snapshot_at = size;
            }
        }
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
        self.store.put_cosigned(cp.checkpoint.size, &cp.bytes)?;
        let state = self.published.get().state.clone();
        self.published.replace(Snapshot {
            state,
            checkpoint: Arc::new(cp),
        });
        Ok(())
    }
}

/// Signs the checkpoint of the first `size` entries, whose tree has `root`.
pub fn sign_checkpoint(
    manifest: &tallyboard_core::manifest::ValidatedManifest,
    size: u64,
    root: Hash,
    key: &dyn NoteSigner,
) -> Result<SignedCheckpoint> {
    let cp = Checkpoint {
        origin: manifest.manifest().log.origin.clone(),
        size,
        root,
        extensions: vec![],
    };
    // A token that fails to sign fails the commit: nothing is stored.
    let bytes = checkpoint::sign_checkpoint_with(&cp, key).map_err(|e| {
        anyhow::anyhow!(
            "{}: signing the checkpoint: {e}",
            tallyboard_core::error::Coded::code(&e).as_str()
        )
    })?;
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

/// The log as the rules read it while a batch is staged (an intermediate
/// revision a statement at an earlier size needs, the root an
/// announcement's checkpoint names): the entries of the call being
/// appended, then the store (which also holds a mirror's extension written
/// with its size held back).
struct StoredLog<'a> {
    store: &'a Store,
    /// Index of the first entry not yet written.
    first: u64,
    /// Leaf hashes of the entries not yet written, from `first` on.
    leaves: &'a [Hash],
    /// The entries applied but not yet written.
    pending: &'a [(u64, Hash, Entry)],
}

impl LogReader for StoredLog<'_> {
    fn index_of_leaf(&self, leaf: &Hash, before: u64) -> Result<Option<u64>, AggregateError> {
        if let Some((i, _, _)) = self
            .pending
            .iter()
            .rev()
            .find(|(i, l, _)| *i < before && l == leaf)
        {
            return Ok(Some(*i));
        }
        self.store
            .index_of_leaf(leaf)
            .map(|i| i.filter(|&i| i < before))
            .map_err(|e| AggregateError::store(e.to_string()))
    }

    fn tally(&self, index: u64) -> Result<Tally, AggregateError> {
        let entry = match self.pending.binary_search_by_key(&index, |(i, _, _)| *i) {
            Ok(at) => self.pending[at].2.clone(),
            Err(_) => {
                let bytes = self
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
        let failed = |e: &dyn std::fmt::Display| {
            AggregateError::store(format!("the tree of size {size}: {e}"))
        };
        if size <= self.first {
            return merkle::tree_hash(size, &**self.store).map_err(|e| failed(&e));
        }
        // A size inside the batch being staged (rare: an announcement of a
        // checkpoint not yet written cannot be witnessed): the stored edge,
        // then the staged leaves up to `size`.
        let staged = usize::try_from(size - self.first)
            .ok()
            .and_then(|n| self.leaves.get(..n))
            .ok_or_else(|| failed(&"beyond the log"))?;
        let mut edge = Frontier::load(self.first, &**self.store).map_err(|e| failed(&e))?;
        for l in staged {
            edge.append(*l, |_, _, _| {});
        }
        Ok(edge.root())
    }
}

/// The committed log as the rules read it (no batch being staged): for
/// readers outside the writer, such as a blob upload's check.
pub fn committed(store: &Store) -> impl LogReader + '_ {
    StoredLog {
        store,
        first: store.stored_size(),
        leaves: &[],
        pending: &[],
    }
}

fn not_a_tally(index: u64, why: &str) -> AggregateError {
    AggregateError::store(format!("stored entry {index} {why}"))
}

/// Every revision of a box, revision 1 first: the first and the latest are
/// in the log state, those in between are read back from the store along
/// the revisions' `supersedes`.
pub fn box_revisions(store: &Store, t: &ContestTallies) -> Result<Vec<TallyRef>> {
    let src = committed(store);
    let mut out = vec![t.latest];
    let mut at = t.latest;
    while at.revision > 2 {
        let (index, leaf) = tallyboard_core::state::superseded(&src, at.index)
            .map_err(|e| anyhow!("{e}"))?
            .ok_or_else(|| {
                anyhow!(
                    "revision {} at entry {} supersedes nothing",
                    at.revision,
                    at.index
                )
            })?;
        at = TallyRef {
            index,
            leaf,
            revision: at.revision - 1,
        };
        out.push(at);
    }
    if t.latest.revision > 1 {
        out.push(t.first);
    }
    out.reverse();
    Ok(out)
}

/// The refusal a mirror reports for an entry its upstream logged twice.
pub fn duplicate_refusal(index: u64, earlier: u64) -> ValidationError {
    ValidationError::new(
        ErrorCode::StoreInconsistent,
        format!("entry {index} repeats entry {earlier}: a board never logs the same bytes twice"),
    )
}
