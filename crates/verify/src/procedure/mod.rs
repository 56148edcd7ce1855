//! The one verification procedure: the checks that `tallyboard-verify
//! checkpoint`, `receipt` and `inclusion` and the browser's "Verify here"
//! perform (spec/verification.md §2–§4, spec/browser-verification.md §3).
//!
//! Every step reads the read path through a [`Source`] (HTTP, a directory,
//! or [`crate::Evidence`] the browser fetched beforehand), does no other
//! I/O, and records [`Check`]s: a stable [`CheckId`], a [`Status`], a
//! stable code when it fails, and the data it found ([`facts`]). No step
//! writes a sentence; [`crate::english`] and the site's JavaScript do.
//!
//! | step | checks |
//! |---|---|
//! | [`checkpoint`] | `log-key`, `checkpoint-signature`, `witness-cosignatures` |
//! | [`tiles`] | `tiles-root` |
//! | [`manifest`] | `manifest` |
//! | [`station`] | `registration-inclusion`, `registration-signature`, `entry-inclusion`, `entry-signature`, `arithmetic` |
//!
//! [`verify_log`] and [`verify_station`] run them in order; the command
//! line's `inclusion` runs the same steps around its scan of every bundle.

pub mod checkpoint;
pub mod facts;
pub mod key_history;
pub mod manifest;
pub mod station;
pub mod tiles;

use crate::tiles::read_entries;
use crate::{LogKey, Result, Source};
use facts::Facts;
use serde::Serialize;
use station::{StationClaims, StationEntry};
use tallyboard_core::policy::Policy;

/// A check's stable id (spec/browser-verification.md §3); pages, tests and
/// scripts match on its string form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// The log key parses as an Ed25519 signed-note key (reported with
    /// where it came from).
    LogKey,
    /// The log's signature on the checkpoint, its syntax and origin.
    CheckpointSignature,
    /// The tiles rebuild the signed root, and every full tile hashes to its
    /// entry in the tile above.
    TilesRoot,
    /// Entry 0 is included and commits to the manifest served, which names
    /// the log key in use.
    Manifest,
    /// The witnesses' cosignatures, and the quorum of a witness policy.
    WitnessCosignatures,
    /// The station's key entries are included and are its own.
    RegistrationInclusion,
    /// The authority signed each key entry.
    RegistrationSignature,
    /// The station's entries are included (proofs computed from the tiles).
    EntryInclusion,
    /// Each entry is signed by the key its kind requires.
    EntrySignature,
    /// Each tally's arithmetic holds.
    Arithmetic,
}

impl CheckId {
    /// The checks of a log's checkpoint (the checkpoint page).
    pub const LOG: &'static [CheckId] = &[
        CheckId::CheckpointSignature,
        CheckId::TilesRoot,
        CheckId::Manifest,
        CheckId::WitnessCosignatures,
    ];

    /// The checks of a station's entries, after [`CheckId::LOG`].
    pub const STATION: &'static [CheckId] = &[
        CheckId::RegistrationInclusion,
        CheckId::RegistrationSignature,
        CheckId::EntryInclusion,
        CheckId::EntrySignature,
        CheckId::Arithmetic,
    ];

    /// The stable string form (`checkpoint-signature`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::LogKey => "log-key",
            CheckId::CheckpointSignature => "checkpoint-signature",
            CheckId::TilesRoot => "tiles-root",
            CheckId::Manifest => "manifest",
            CheckId::WitnessCosignatures => "witness-cosignatures",
            CheckId::RegistrationInclusion => "registration-inclusion",
            CheckId::RegistrationSignature => "registration-signature",
            CheckId::EntryInclusion => "entry-inclusion",
            CheckId::EntrySignature => "entry-signature",
            CheckId::Arithmetic => "arithmetic",
        }
    }
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Checked, and it holds.
    Pass,
    /// Checked, and it does not hold: the verdict is "failed".
    Fail,
    /// Reported, not a condition of the verdict (cosignatures found
    /// without a witness policy, where the log key came from).
    Info,
    /// Not checked because a check it depends on failed.
    Skip,
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check.
    pub id: CheckId,
    /// How it ended.
    pub status: Status,
    /// Whether `status` is `pass`, for simple consumers.
    pub ok: bool,
    /// Why it failed: a core `ErrorCode` string or a verifier code
    /// (spec/verification.md §8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What it found.
    pub data: Facts,
}

/// The result of one run of the procedure: every check in a fixed order,
/// and the verdict.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verification {
    /// True iff every check passed or is information.
    pub verified: bool,
    /// The verified checkpoint's size (0 if it did not verify).
    pub size: u64,
    /// The verified checkpoint's root, base64 (empty if it did not verify).
    pub root: String,
    /// The checks, in the order of the plan.
    pub checks: Vec<Check>,
    /// The station's entries, as verified (station verifications).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<StationEntry>,
    /// The fields of the entry a page shows (station pages): its figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<serde_json::Value>,
    #[serde(skip)]
    planned: Vec<CheckId>,
}

impl Verification {
    /// A run that will report `planned`, in that order.
    pub fn planned(planned: Vec<CheckId>) -> Verification {
        Verification {
            planned,
            ..Verification::default()
        }
    }

    /// The plan of a checkpoint's verification alone ([`verify_checkpoint`]);
    /// with `key_source`, `log-key` first.
    pub fn for_checkpoint(key_source: bool) -> Verification {
        let mut v = Verification::for_log(key_source);
        v.planned
            .retain(|id| !matches!(id, CheckId::TilesRoot | CheckId::Manifest));
        v
    }

    /// The plan of a log verification; with `key_source`, `log-key` first.
    pub fn for_log(key_source: bool) -> Verification {
        let mut ids = Vec::new();
        if key_source {
            ids.push(CheckId::LogKey);
        }
        ids.extend_from_slice(CheckId::LOG);
        Verification::planned(ids)
    }

    /// The plan of a station verification; with `key_source`, `log-key` first.
    pub fn for_station(key_source: bool) -> Verification {
        let mut v = Verification::for_log(key_source);
        v.planned.extend_from_slice(CheckId::STATION);
        v
    }

    /// Records a check.
    pub fn record(&mut self, id: CheckId, status: Status, code: Option<String>, data: Facts) {
        self.checks.push(Check {
            id,
            status,
            ok: status == Status::Pass,
            code,
            data,
        });
    }

    /// Records a passed check.
    pub fn pass(&mut self, id: CheckId, data: Facts) {
        self.record(id, Status::Pass, None, data);
    }

    /// Records information.
    pub fn info(&mut self, id: CheckId, data: Facts) {
        self.record(id, Status::Info, None, data);
    }

    /// Records a failed check with its code.
    pub fn fail(&mut self, id: CheckId, code: impl Into<String>, data: Facts) {
        self.record(id, Status::Fail, Some(code.into()), data);
    }

    /// Marks `ids` as not checked because `after` failed.
    pub fn skip(&mut self, ids: &[CheckId], after: CheckId) {
        for &id in ids {
            self.record(id, Status::Skip, None, Facts::Skipped { after });
        }
    }

    /// Marks every planned check not recorded yet as not checked because
    /// `after` failed.
    pub fn skip_rest(&mut self, after: CheckId) {
        let rest: Vec<CheckId> = self
            .planned
            .iter()
            .copied()
            .filter(|id| self.check(*id).is_none())
            .collect();
        self.skip(&rest, after);
    }

    /// The recorded check `id`.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The status of check `id`, if recorded.
    pub fn status(&self, id: CheckId) -> Option<Status> {
        self.check(id).map(|c| c.status)
    }

    /// Puts the checks in plan order and sets the verdict: verified iff
    /// something was checked and every check passed or is information.
    pub fn finish(mut self) -> Verification {
        let position = |id: &CheckId| self.planned.iter().position(|p| p == id);
        let mut checks = std::mem::take(&mut self.checks);
        checks.sort_by_key(|c| position(&c.id).unwrap_or(usize::MAX));
        self.checks = checks;
        self.verified = !self.checks.is_empty()
            && self
                .checks
                .iter()
                .all(|c| matches!(c.status, Status::Pass | Status::Info));
        self
    }
}

/// What the verification trusts: the log key, a witness policy if one was
/// given, and (for a report that says so) where the key came from.
#[derive(Clone, Copy, Debug)]
pub struct Trust<'a> {
    /// The log's key and origin.
    pub log: &'a LogKey,
    /// A witness policy (C2SP tlog-policy): the checkpoint must meet its
    /// quorum. Without one, cosignatures are reported as information.
    pub policy: Option<&'a Policy>,
    /// Where the caller got the log key (`page`, `board`, ...), reported as
    /// the `log-key` check; `None` reports no such check.
    pub key_source: Option<&'a str>,
}

/// Verifies checkpoint bytes alone: `checkpoint-signature` and
/// `witness-cosignatures` (with no manifest yet, only a policy's witnesses
/// are known). The first thing a page checks, before it knows which tiles
/// to fetch.
pub fn verify_checkpoint(bytes: &[u8], trust: &Trust<'_>) -> Verification {
    let mut v = Verification::for_checkpoint(trust.key_source.is_some());
    checkpoint::key(&mut v, trust);
    if let Some(cp) = checkpoint::open(&mut v, bytes, trust.log, "checkpoint") {
        checkpoint::witnesses(&mut v, &cp, trust, &[]);
    }
    v.finish()
}

/// Verifies the log at its current checkpoint (the checkpoint page):
/// `checkpoint-signature`, `tiles-root`, `manifest` (entry 0 and the
/// manifest), `witness-cosignatures`.
pub fn verify_log(src: &dyn Source, trust: &Trust<'_>) -> Result<Verification> {
    let mut v = Verification::for_log(trust.key_source.is_some());
    checkpoint::key(&mut v, trust);
    let Some(cp) = checkpoint::fetch(&mut v, src, trust.log)? else {
        return Ok(v.finish());
    };
    let entry0 = read_entries(src, cp.checkpoint.size, &[0])?;
    verify_after_checkpoint(&mut v, src, trust, &cp, &entry0, None)?;
    Ok(v.finish())
}

/// What a station page asks: the station, the entry it shows, and the
/// indexes of the station's key entries as the board lists them
/// (untrusted: each is proven, and must be the station's).
#[derive(Clone, Debug)]
pub struct StationPage<'a> {
    /// The station.
    pub station: &'a str,
    /// The entry shown (a tally, or any of the station's entries).
    pub index: u64,
    /// The station's key registrations and revocations, by index.
    pub key_indexes: &'a [u64],
}

/// Verifies one entry of a station and the key entries before it (a
/// station page): the log checks, then the station's.
pub fn verify_station(
    src: &dyn Source,
    trust: &Trust<'_>,
    page: &StationPage<'_>,
) -> Result<Verification> {
    let mut v = Verification::for_station(trust.key_source.is_some());
    checkpoint::key(&mut v, trust);
    let Some(cp) = checkpoint::fetch(&mut v, src, trust.log)? else {
        return Ok(v.finish());
    };
    let size = cp.checkpoint.size;
    let mut keys: Vec<u64> = page
        .key_indexes
        .iter()
        .copied()
        .filter(|&k| k < page.index)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let claims = StationClaims {
        station: page.station.to_string(),
        focus: Some(page.index),
        key_entries: read_entries(src, size, &keys)?,
        entries: read_entries(src, size, &[page.index])?,
    };
    let entry0 = read_entries(src, size, &[0])?;
    verify_after_checkpoint(&mut v, src, trust, &cp, &entry0, Some(&claims))?;
    Ok(v.finish())
}

/// Every step after the checkpoint: the tiles for entry 0 and the claimed
/// entries, the manifest, the witnesses, and the station's entries if
/// any. `entry0` is entry 0 as served (the caller may have read it
/// already). Used by [`verify_log`], [`verify_station`] and the command
/// line's `inclusion`.
pub fn verify_after_checkpoint(
    v: &mut Verification,
    src: &dyn Source,
    trust: &Trust<'_>,
    cp: &checkpoint::SignedCheckpoint,
    entry0: &[crate::tiles::ServedEntry],
    claims: Option<&StationClaims>,
) -> Result<()> {
    let indexes: Vec<u64> = claims.map(StationClaims::indexes).unwrap_or_default();
    let reader = tiles::tiles_root(v, src, &cp.checkpoint, &indexes)?;
    let manifest = match &reader {
        Some(reader) => manifest::manifest(v, src, reader, &cp.checkpoint, trust.log, entry0)?,
        None => None,
    };
    let known = manifest.as_ref().map(|m| m.witnesses()).unwrap_or(&[]);
    checkpoint::witnesses(v, cp, trust, known);
    match (&reader, &manifest, claims) {
        (Some(reader), Some(manifest), Some(claims)) => {
            let rows = station::station(v, reader, &cp.checkpoint, manifest, claims);
            if v.status(CheckId::EntryInclusion) == Some(Status::Pass) {
                v.entry = claims
                    .focus
                    .and_then(|i| rows.iter().find(|r| r.index == i))
                    .map(StationEntry::shown);
            }
            v.entries = rows;
        }
        (None, _, _) => v.skip_rest(CheckId::TilesRoot),
        (_, None, _) => v.skip_rest(CheckId::Manifest),
        _ => {}
    }
    Ok(())
}
