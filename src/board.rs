//! The board: the log ([`crate::log`]) sealed with the board's own signed
//! checkpoints, and a fail-closed open (`spec/storage.md`).
//!
//! Contract:
//! * [`Board::append`] takes a batch of submissions and appends them with
//!   [`Log::append`]: each is validated against the one log state left by
//!   everything before it, one checkpoint of the new tree is signed, and
//!   the accepted entries and that checkpoint are made durable in one
//!   commit of the store. Only then does it return, so a caller may
//!   acknowledge every `Appended` outcome.
//! * A storage error leaves the state ahead of the disk; the board then
//!   refuses further appends until it is reopened.
//! * [`Board::open`] opens the store (its journal, the latest checkpoint's
//!   signature and its root against the stored tree, `spec/storage.md`
//!   §5), rebuilds the log state from the stored entries, and refuses to
//!   open on any disagreement; [`Board::verify_full`] re-verifies
//!   everything (`tallyboard verify-store`).

pub use crate::log::{parse, verify_with, Outcome, Prepared, SignedCheckpoint};

use crate::log::{self, Log, Published};
use crate::store::file::{self, FileStore};
use crate::store::postgres::{self as pg, PgFollower, PgStore, PgWatch};
use crate::store::{LogWriter, Opened, Store};
use anyhow::{anyhow, bail, Result};
use std::path::Path;
use std::sync::Arc;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle;
use tallyboard_core::note::{NoteSigner, Verifiers};

use crate::signer::RoleSigner;
use tallyboard_core::state::LogState;
use tallyboard_core::tlog_proof::TlogProof;

/// The PostgreSQL URL a `--data` value names, if it names one (else it is
/// a directory holding the embedded store).
pub fn pg_url(data: &Path) -> Option<&str> {
    data.to_str().filter(|s| pg::is_url(s))
}

/// The board's log.
pub struct Board {
    log: Log,
    log_key: RoleSigner,
    verifiers: Verifiers,
    /// The store is a database other boards may take over (PostgreSQL).
    shared_store: bool,
    /// A standby's view of the database another board writes.
    watch: Option<PgWatch>,
}

impl Board {
    /// Creates a new board in an empty directory for a manifest, storing the
    /// manifest blob and signing the empty checkpoint.
    pub fn create(
        dir: &Path,
        manifest_bytes: &[u8],
        log_key: impl Into<RoleSigner>,
    ) -> Result<Board> {
        let log_key = log_key.into();
        let manifest = ValidatedManifest::from_bytes(manifest_bytes).map_err(|e| anyhow!("{e}"))?;
        check_log_key(&manifest, &log_key)?;
        let empty =
            log::sign_checkpoint(&manifest, 0, tallyboard_core::hash::EMPTY_ROOT, &log_key)?;
        let verifiers = verifiers_for(&log_key);
        let origin = &manifest.manifest().log.origin;
        let store: Box<dyn LogWriter> = match pg_url(dir) {
            Some(url) => {
                pg::create(url, origin, manifest_bytes, &empty.bytes)?;
                Box::new(PgStore::open(url, &verifiers)?.0)
            }
            None => Box::new(FileStore::create(
                dir,
                origin,
                manifest_bytes,
                Some(&empty.bytes),
            )?),
        };
        let state = LogState::new(Arc::new(manifest));
        let mut log = Log::new(store, state, empty)?;
        log.keep_snapshots(
            Arc::new(log::resume::Sealer::new(&log_key.sealing_secret()?)),
            0,
        )?;
        Ok(Board {
            log,
            log_key,
            verifiers,
            shared_store: pg_url(dir).is_some(),
            watch: None,
        })
    }

    /// Opens an existing board, failing closed (`spec/storage.md` §5).
    pub fn open(dir: &Path, log_key: impl Into<RoleSigner>) -> Result<Board> {
        Board::open_as(dir, log_key.into(), false)
    }

    /// Opens a PostgreSQL store as a **standby** (`spec/storage.md` §8.3):
    /// without the writer lease, verified as the writer's open verifies it,
    /// to serve the log read-only and follow what the writer commits
    /// ([`Board::follow`]).
    pub fn open_standby(dir: &Path, log_key: impl Into<RoleSigner>) -> Result<Board> {
        Board::open_as(dir, log_key.into(), true)
    }

    fn open_as(dir: &Path, log_key: RoleSigner, standby: bool) -> Result<Board> {
        let trace = Trace::new();
        let (manifest, verifiers) = Board::manifest_for(dir, &log_key)?;
        trace.step("manifest read and validated");
        let mut watch = None;
        let (store, opened): (Box<dyn LogWriter>, Opened) = match pg_url(dir) {
            Some(url) if standby => {
                let (s, w, o) = PgFollower::open(url, &verifiers)?;
                watch = Some(w);
                (Box::new(s), o)
            }
            Some(url) => {
                let (s, o) = PgStore::open(url, &verifiers)?;
                (Box::new(s), o)
            }
            None if standby => bail!("only a PostgreSQL store has standby boards"),
            None => {
                let (s, o) = FileStore::open(dir, &verifiers)?;
                (Box::new(s), o)
            }
        };
        trace.step("store opened and checked");
        let reader = store.reader();
        let origin = manifest.manifest().log.origin.clone();
        let sealer = Arc::new(log::resume::Sealer::new(&log_key.sealing_secret()?));
        let manifest = Arc::new(manifest);
        let resumed = resume(
            &reader,
            &manifest,
            &sealer,
            opened.size,
            &origin,
            &verifiers,
        )?;
        trace.step("state snapshot checked and decoded");
        let snapshot_at = resumed.as_ref().map_or(0, LogState::size);
        let state = resumed.unwrap_or_else(|| LogState::new(manifest));
        let state = log::rebuild_state(&reader, state, opened.size)?;
        trace.step("log state brought to the latest checkpoint");
        // The latest checkpoint with the cosignatures stored for it, if any.
        let note = reader
            .checkpoint(opened.size)?
            .unwrap_or_else(|| opened.latest.clone());
        let latest = log::check_checkpoint(&reader, &note, opened.size, &origin, &verifiers)?;
        let mut log = Log::new(store, state, latest)?;
        // A standby writes nothing, state snapshots included.
        if !standby {
            log.keep_snapshots(sealer, snapshot_at)?;
        }
        trace.step("log ready (two copies of the state)");
        Ok(Board {
            log,
            log_key,
            verifiers,
            shared_store: pg_url(dir).is_some(),
            watch,
        })
    }

    /// A standby's step (`spec/storage.md` §8.3): what the writer committed
    /// since, re-validated under the rules through the log's own path (as
    /// a mirror adopts a board's entries) and published with the writer's
    /// checkpoint. Returns the size now followed.
    pub fn follow(&mut self) -> Result<u64> {
        let w = self
            .watch
            .clone()
            .ok_or_else(|| anyhow!("only a standby board follows"))?;
        let (size, head) = (self.size(), w.head()?);
        if head <= size {
            return Ok(size);
        }
        let entries = w.fetch(size, head)?;
        let note = w
            .note(head)?
            .ok_or_else(|| anyhow!("no checkpoint of the head's size {head}"))?;
        let origin = self.manifest().manifest().log.origin.clone();
        let (checkpoint, _) =
            tallyboard_core::checkpoint::open_checkpoint(&note, &origin, &self.verifiers)
                .map_err(|e| anyhow!("the writer's checkpoint of size {head}: {e}"))?;
        let signed = SignedCheckpoint {
            checkpoint,
            bytes: note,
        };
        if let Some((index, e)) = self.log.adopt(&entries, signed)? {
            bail!("entry {index} the writer committed breaks the rules: {e}");
        }
        Ok(head)
    }

    /// Whether a standby may try to take the writer lease now.
    pub fn lease_free(&self) -> Result<bool> {
        match &self.watch {
            Some(w) => Ok(w.lease_free()?),
            None => Ok(false),
        }
    }

    /// The manifest a store in `dir` names (checked against the store's
    /// format file), if `log_key` is its log key, and verifiers holding it.
    fn manifest_for(dir: &Path, log_key: &RoleSigner) -> Result<(ValidatedManifest, Verifiers)> {
        let manifest = match pg_url(dir) {
            Some(url) => pg::read_manifest(url)?,
            None => file::read_manifest(dir)?,
        };
        check_log_key(&manifest, log_key)?;
        Ok((manifest, verifiers_for(log_key)))
    }

    /// The full re-verification of the board's store: every stored hash
    /// recomputed from the entries, every stored checkpoint verified, the
    /// state rebuilt from scratch and compared with the open one. Returns
    /// the number of checkpoints checked.
    pub fn verify_full(&self) -> Result<u64> {
        let v = log::verify_full(
            self.store(),
            self.log.state().manifest_arc().clone(),
            &self.verifiers,
            self.size(),
        )?;
        if v.state.size() != self.size() {
            bail!(crate::store::StoreError::corrupt(
                "the rebuilt state's size differs"
            ));
        }
        Ok(v.checkpoints)
    }

    /// Whether the store is one other boards may take over (PostgreSQL):
    /// after a failed commit such a board steps down rather than stay up
    /// refusing appends (`spec/storage.md` §8.3).
    pub fn steps_down_on_failure(&self) -> bool {
        self.shared_store
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
    /// Snapshots the state every `n` entries (tests).
    #[cfg(test)]
    pub fn snapshot_every(&mut self, n: u64) {
        self.log.snapshot_every(n);
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

/// The log state from the newest sealed snapshot in the store, checked
/// (`spec/storage.md` §5): the seal under the key derived from the log key,
/// a stored checkpoint of its size that verifies under the log key and
/// names its root, the stored tree's root of that size, and a clean decode
/// (each decision re-read from the store, checked against its leaf hash).
/// `None` when the store keeps no snapshot.
fn resume(
    store: &Store,
    manifest: &Arc<ValidatedManifest>,
    sealer: &log::resume::Sealer,
    size: u64,
    origin: &str,
    verifiers: &Verifiers,
) -> Result<Option<LogState>> {
    use crate::store::StoreError;
    let Some((at, bytes)) = store.state()? else {
        return Ok(None);
    };
    if at > size {
        bail!(StoreError::truncated(format!(
            "the store keeps a state snapshot at size {at}, but holds only {size} entries"
        )));
    }
    let sealed = sealer.open(&bytes)?;
    if sealed.size != at {
        bail!(StoreError::corrupt(format!(
            "the state snapshot stored for size {at} says size {}",
            sealed.size
        )));
    }
    let note = store.checkpoint(at)?.ok_or_else(|| {
        StoreError::corrupt(format!(
            "no checkpoint of size {at} is stored for the state snapshot"
        ))
    })?;
    let cp = log::check_checkpoint(store, &note, at, origin, verifiers)?;
    if cp.checkpoint.root != sealed.root {
        bail!(StoreError::new(
            tallyboard_core::ErrorCode::StoreCheckpointMismatch,
            format!("the state snapshot at size {at} is of another tree than its checkpoint")
        ));
    }
    let mut decision = |i: u64| -> std::result::Result<
        (tallyboard_core::Hash, tallyboard_core::entry::Entry),
        String,
    > {
        let bytes = store
            .entry(i)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("entry {i} is not stored"))?;
        let signed = SignedEntry::parse(&bytes).map_err(|e| format!("entry {i}: {e}"))?;
        Ok((signed.leaf_hash(), signed.entry))
    };
    let state = LogState::decode(manifest.clone(), sealed.body, &mut decision).map_err(|e| {
        StoreError::corrupt(format!(
            "the state snapshot at size {at} does not decode: {e}"
        ))
    })?;
    if state.size() != at {
        bail!(StoreError::corrupt(format!(
            "the state snapshot stored for size {at} is of size {}",
            state.size()
        )));
    }
    Ok(Some(state))
}

/// `TALLYBOARD_TRACE_OPEN`: the time and resident memory after each step
/// of an open, on stderr (the benchmark's profile of a restart).
struct Trace(Option<std::time::Instant>);

impl Trace {
    fn new() -> Trace {
        Trace(std::env::var_os("TALLYBOARD_TRACE_OPEN").map(|_| std::time::Instant::now()))
    }
    fn step(&self, what: &str) {
        if let Some(t) = self.0 {
            let (_, rss) = crate::bench::rss_mib();
            eprintln!(
                "open: {:>7.1} ms  rss {rss:>6.1} MiB  {what}",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}

fn verifiers_for(key: &impl NoteSigner) -> Verifiers {
    let mut v = Verifiers::new();
    v.add(key.verifier());
    v
}

fn check_log_key(manifest: &ValidatedManifest, key: &RoleSigner) -> Result<()> {
    if key.verifier().to_vkey_string() != manifest.log_key().to_vkey_string() {
        bail!(
            "the log key {} is not the manifest's log key {}",
            key.verifier().to_vkey_string(),
            manifest.log_key().to_vkey_string()
        );
    }
    if key.verifier().name() != manifest.manifest().log.origin {
        bail!(
            "the log key's name must equal the log origin {}",
            manifest.manifest().log.origin
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
