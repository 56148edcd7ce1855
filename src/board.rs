//! The board's log: validation in front, one writer, group commit, signed
//! checkpoints, and a fail-closed open (`spec/storage.md`).
//!
//! Contract:
//! * [`Board::append`] takes a batch of submissions, validates each against
//!   the manifest and the state left by everything before it (including
//!   earlier submissions of the same batch), writes the accepted ones in one
//!   atomic sled batch, makes it durable (flush + fsync), then signs and
//!   durably stores one checkpoint covering them. Only then does it return,
//!   so a caller may acknowledge every `Appended` outcome.
//! * A storage error leaves the in-memory state ahead of the disk; the board
//!   then refuses further appends (`poisoned`) until it is reopened, which
//!   rebuilds everything from disk.
//! * [`Board::open`] recomputes every stored hash from the entries, checks
//!   every stored checkpoint's signature and root against the tree, and
//!   refuses to open on any disagreement.

use crate::state::LogState;
use crate::store::{Batch, Store};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::entry::{Entry, SignedEntry, Statement};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{self, HashReader};
use tallyboard_core::note::{SignerKey, VerifierKey, Verifiers};
use tallyboard_core::standing::{self, is_results_entry, Rebuilt, StandingResults};
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_core::validate::{self, KeyState, LogView, Supervision, TallyRef, ValidationError};
use tallyboard_core::{ErrorCode, Hash};

/// sled page cache: bounded so the board's memory stays flat as the log grows.
pub(crate) const CACHE_BYTES: u64 = 32 << 20;

/// A submission that has been parsed and (perhaps) signature-checked off
/// the writer thread.
pub struct Prepared {
    /// The parsed entry.
    pub signed: SignedEntry,
    /// The key the signature was checked against, and the verdict.
    pub verdict: Option<(VerifierKey, Result<(), ValidationError>)>,
}

/// Parses a submission (no state needed; safe on any thread).
pub fn parse(bytes: &[u8]) -> Result<SignedEntry, ValidationError> {
    SignedEntry::parse(bytes).map_err(ValidationError::from)
}

/// Checks a parsed entry's signature against the key looked up for it
/// earlier ([`Board::signer_for`]); safe on any thread, no state needed.
pub fn verify_with(signed: SignedEntry, key: Option<VerifierKey>) -> Prepared {
    let verdict = key.map(|k| {
        let v = validate::verify_signature(&signed, &k);
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

/// The latest signed checkpoint.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// Parsed body.
    pub checkpoint: Checkpoint,
    /// The signed note bytes, as published.
    pub bytes: Vec<u8>,
}

/// The board's log.
pub struct Board {
    store: Store,
    manifest: ValidatedManifest,
    log_key: SignerKey,
    verifiers: Verifiers,
    state: LogState,
    /// The standing results at `size`: announcements and contest approvals
    /// are checked against them without rereading the log.
    standing: StandingResults,
    /// The standing results last rebuilt for an earlier size.
    rebuilt: Rebuilt,
    size: u64,
    latest: SignedCheckpoint,
    poisoned: bool,
}

/// Reads stored hashes from the store, or from a batch not yet written.
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

/// The writer's view for validation: the replayed state and the standing
/// results, plus the stored entries and those accepted earlier in the batch
/// being built, which a statement is recomputed from when the standing
/// results cannot give it (`tallyboard_core::standing`).
pub struct BoardView<'a> {
    state: &'a LogState,
    standing: &'a StandingResults,
    /// The standing results last rebuilt for an earlier size (a round of
    /// announcements at one size while tallies keep arriving).
    rebuilt: &'a Rebuilt,
    store: &'a Store,
    /// Stored hashes, including those of the batch being built (leaf hashes
    /// are read from here: the state does not keep one per entry).
    hashes: &'a Overlay<'a>,
    /// Entries below this index are in the store.
    stored: u64,
    /// Entries accepted earlier in this batch, not yet written.
    pending: &'a [(u64, Entry)],
}

impl<'a> BoardView<'a> {
    /// A view over `state` and `standing` (both at the same size), the
    /// first `stored` entries of `store`, the stored hashes in `hashes`
    /// (those of entries not yet written included), and the results entries
    /// (tallies, annulments, lots) accepted since `stored`, not yet written.
    pub fn new(
        state: &'a LogState,
        standing: &'a StandingResults,
        rebuilt: &'a Rebuilt,
        store: &'a Store,
        hashes: &'a Overlay<'a>,
        stored: u64,
        pending: &'a [(u64, Entry)],
    ) -> BoardView<'a> {
        BoardView {
            state,
            standing,
            rebuilt,
            store,
            hashes,
            stored,
            pending,
        }
    }

    /// The results entries below `size`, read back from the store and the
    /// batch being built: the slow path, a pass over the whole prefix, taken
    /// only for a size before a later results entry.
    fn results_prefix(&self, size: u64) -> Result<Vec<(u64, Entry)>, ValidationError> {
        let storage = |e: anyhow::Error| ValidationError::new(ErrorCode::Storage, format!("{e:#}"));
        let mut out = Vec::new();
        for item in self.store.entries(0, size.min(self.stored)) {
            let (index, bytes) = item.map_err(storage)?;
            let signed = SignedEntry::parse(&bytes).map_err(|e| {
                ValidationError::new(
                    ErrorCode::StoreInconsistent,
                    format!("stored entry {index} does not parse: {e}"),
                )
            })?;
            if is_results_entry(&signed.entry) {
                out.push((index, signed.entry));
            }
        }
        out.extend(
            self.pending
                .iter()
                .filter(|(i, e)| *i < size && is_results_entry(e))
                .cloned(),
        );
        Ok(out)
    }
}

impl LogView for BoardView<'_> {
    fn manifest_committed(&self) -> bool {
        self.state.manifest_committed()
    }
    fn station_key(&self, station: &str) -> Option<KeyState> {
        self.state.station_key(station)
    }
    fn latest_tally(&self, station: &str, contest: &str) -> Option<TallyRef> {
        self.state.latest_tally(station, contest)
    }
    fn tally_at(&self, station: &str, contest: &str, revision: u32) -> Option<TallyRef> {
        self.state.tally_at(station, contest, revision)
    }
    fn size(&self) -> u64 {
        self.state.size()
    }
    fn leaf_at(&self, index: u64) -> Option<Hash> {
        if index >= self.state.size() {
            return None;
        }
        self.hashes
            .read_hash(merkle::stored_hash_index(0, index))
            .ok()
    }
    fn supervision(&self) -> &Supervision {
        self.state.supervision()
    }
    fn statement(
        &self,
        manifest: &ValidatedManifest,
        contest: &str,
        size: u64,
    ) -> Result<Statement, ValidationError> {
        standing::statement(manifest, self.standing, self.rebuilt, contest, size, || {
            self.results_prefix(size)
        })
    }
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
        let standing = StandingResults::new(&manifest);
        Ok(Board {
            store,
            manifest,
            log_key,
            verifiers,
            state: LogState::default(),
            standing,
            rebuilt: Rebuilt::default(),
            size: 0,
            latest: SignedCheckpoint {
                checkpoint: cp,
                bytes,
            },
            poisoned: false,
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
        let manifest = stored_manifest(&store)?.context("store has no manifest digest")?;
        check_log_key(&manifest, &log_key)?;
        let verifiers = verifiers_for(&log_key);
        let VerifiedStore {
            state,
            standing,
            size,
            latest,
        } = verify_store(&store, &manifest, &verifiers)?;
        let latest = latest.context("store has no signed checkpoint")?;
        let mut board = Board {
            store,
            manifest,
            log_key,
            verifiers,
            state,
            standing,
            rebuilt: Rebuilt::default(),
            size,
            latest,
            poisoned: false,
        };
        // Entries made durable but not yet checkpointed when the board stopped
        // were never acknowledged; they were validated, so cover them now.
        if board.latest.checkpoint.size < size {
            board.sign_checkpoint()?;
        }
        Ok(board)
    }

    fn sign_checkpoint(&mut self) -> Result<()> {
        let root = merkle::tree_hash(self.size, &self.store).map_err(|e| anyhow!("{e}"))?;
        let cp = Checkpoint {
            origin: self.manifest.manifest().log.origin.clone(),
            size: self.size,
            root,
            extensions: vec![],
        };
        let bytes = checkpoint::sign_checkpoint(&cp, &self.log_key);
        self.store.put_checkpoint(self.size, &bytes)?;
        self.store.sync()?;
        self.latest = SignedCheckpoint {
            checkpoint: cp,
            bytes,
        };
        Ok(())
    }

    /// Validates and appends a batch (see the module contract).
    pub fn append(&mut self, items: Vec<Prepared>) -> Result<Vec<Outcome>> {
        if self.poisoned {
            bail!("the board hit a storage error and must be restarted");
        }
        let base = merkle::stored_hash_count(self.size);
        let mut pending: Vec<Hash> = Vec::new();
        let mut pending_leaves: HashMap<Hash, u64> = HashMap::new();
        let mut pending_entries: Vec<(u64, Entry)> = Vec::new();
        let mut batch = Batch::default();
        let mut next = self.size;
        let mut outcomes = Vec::with_capacity(items.len());
        for p in items {
            let leaf = p.signed.leaf_hash();
            let existing = match pending_leaves.get(&leaf) {
                Some(&i) => Some(i),
                None => self.store.index_of_leaf(&leaf)?,
            };
            if let Some(index) = existing {
                outcomes.push(Outcome::Duplicate { index, leaf });
                continue;
            }
            let reader = Overlay::new(&self.store, base, &pending);
            if let Err(e) = self.check(&p, &pending_entries, &reader) {
                outcomes.push(Outcome::Rejected(e));
                continue;
            }
            let hashes = merkle::stored_hashes(next, leaf, &reader).map_err(|e| anyhow!("{e}"))?;
            batch.push(
                next,
                p.signed.bytes.clone(),
                leaf,
                merkle::stored_hash_count(next),
                &hashes,
            );
            pending.extend_from_slice(&hashes);
            pending_leaves.insert(leaf, next);
            self.state.apply(next, leaf, &p.signed.entry);
            if let Err(e) = self.standing.apply(next, &p.signed.entry) {
                // Validation accepted it, so the aggregator cannot refuse it;
                // if it does, the in-memory state is ahead of the disk.
                self.poisoned = true;
                bail!("the standing results refused accepted entry {next}: {e}");
            }
            if is_results_entry(&p.signed.entry) {
                pending_entries.push((next, p.signed.entry.clone()));
            }
            outcomes.push(Outcome::Appended { index: next, leaf });
            next += 1;
        }
        if !batch.is_empty() {
            let t0 = std::time::Instant::now();
            let durable = self.store.write(batch).and_then(|()| self.store.sync());
            let t1 = std::time::Instant::now();
            if let Err(e) = durable {
                self.poisoned = true;
                return Err(e.context("writing the batch; nothing in it was acknowledged"));
            }
            self.size = next;
            if let Err(e) = self.sign_checkpoint() {
                self.poisoned = true;
                return Err(e.context("signing the checkpoint"));
            }
            if std::env::var_os("TALLYBOARD_TRACE_BATCHES").is_some() {
                eprintln!(
                    "  write+sync {:.1} ms, checkpoint {:.1} ms",
                    (t1 - t0).as_secs_f64() * 1e3,
                    t1.elapsed().as_secs_f64() * 1e3
                );
            }
        }
        Ok(outcomes)
    }

    fn check(
        &self,
        p: &Prepared,
        pending: &[(u64, Entry)],
        hashes: &Overlay<'_>,
    ) -> Result<(), ValidationError> {
        let view = BoardView::new(
            &self.state,
            &self.standing,
            &self.rebuilt,
            &self.store,
            hashes,
            self.size,
            pending,
        );
        check_prepared(p, &self.manifest, &view)
    }

    /// The key that must have signed `signed` given the state now, if it can
    /// be determined (the writer re-checks if the state moved on).
    pub fn signer_for(&self, signed: &SignedEntry) -> Option<VerifierKey> {
        validate::required_signer(signed, &self.manifest, &self.state).ok()
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
        let cp = &self.latest;
        let proof = merkle::prove_inclusion(index, cp.checkpoint.size, &self.store)
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
        self.size
    }
    /// The latest signed checkpoint.
    pub fn latest(&self) -> &SignedCheckpoint {
        &self.latest
    }
    /// The manifest.
    pub fn manifest(&self) -> &ValidatedManifest {
        &self.manifest
    }
    /// The replayed state.
    pub fn state(&self) -> &LogState {
        &self.state
    }
    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }
    /// Verifiers holding the log key.
    pub fn verifiers(&self) -> &Verifiers {
        &self.verifiers
    }
}

/// The manifest a store names (`Mmanifest` and its blob), if it names one.
pub(crate) fn stored_manifest(store: &Store) -> Result<Option<ValidatedManifest>> {
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

/// What [`verify_store`] found: the replayed state, the number of stored
/// entries and the latest stored checkpoint (if any).
pub(crate) struct VerifiedStore {
    pub state: LogState,
    pub standing: StandingResults,
    pub size: u64,
    pub latest: Option<SignedCheckpoint>,
}

/// Checks a store end to end, failing closed (`spec/storage.md`): every
/// stored hash is recomputed from the entries, the state is replayed, and
/// every stored checkpoint must verify under `verifiers` and name the root
/// of the tree of its size. The board runs it on open, and so does a mirror,
/// which holds the log's verifier key only.
pub(crate) fn verify_store(
    store: &Store,
    manifest: &ValidatedManifest,
    verifiers: &Verifiers,
) -> Result<VerifiedStore> {
    let origin = manifest.manifest().log.origin.as_str();
    let size = store.size()?;
    // 1. Recompute every stored hash from the entries and replay the state.
    let mut state = LogState::default();
    let mut standing = StandingResults::new(manifest);
    let mut expected = 0u64;
    for item in store.entries(0, size) {
        let (index, bytes) = item?;
        if index != expected {
            bail!("store inconsistent: entry {expected} is missing");
        }
        expected += 1;
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
        state.apply(index, leaf, &entry.entry);
        standing
            .apply(index, &entry.entry)
            .map_err(|e| anyhow!("store inconsistent: entry {index}: {e}"))?;
    }
    if expected != size {
        bail!("store inconsistent: size says {size}, found {expected} entries");
    }

    // 2. Every signed checkpoint must verify and match the tree.
    let mut latest = None;
    for cp_size in store.checkpoint_sizes()? {
        let bytes = store.checkpoint(cp_size)?.context("checkpoint vanished")?;
        let (cp, _) = checkpoint::open_checkpoint(&bytes, origin, verifiers)
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
    Ok(VerifiedStore {
        state,
        standing,
        size,
        latest,
    })
}

/// Every rule of `spec/validation.md` for one prepared entry against
/// `view`: the required signer (reusing the signature verdict computed off
/// the writer thread when it was checked against that same key), then the
/// state rules. The board's writer and a mirror (`src/mirror/`) both
/// validate through this one function.
pub fn check_prepared(
    p: &Prepared,
    manifest: &ValidatedManifest,
    view: &BoardView<'_>,
) -> Result<(), ValidationError> {
    let key = validate::required_signer(&p.signed, manifest, view)?;
    match &p.verdict {
        Some((k, verdict)) if k == &key => verdict.clone()?,
        _ => validate::verify_signature(&p.signed, &key)?,
    }
    // Contest approvals and announcements are checked against the
    // standing results (O(contest), not O(log)), unless their size lies
    // before a later results entry; every other entry is O(1).
    validate::check_entry(&p.signed, manifest, view)
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
