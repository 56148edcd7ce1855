//! The procedure's result: checks with stable ids, statuses, codes and
//! data, in a planned order, and the verdict.

use super::facts::Facts;
use super::station::StationEntry;
use serde::Serialize;

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
    /// Each tally shown is named (contest, revision, index) and is the
    /// standing revision of its box as the board lists them.
    Revision,
    /// Every figure on the page equals the verified tally's, cell by cell.
    Screen,
    /// The minutes image shown hashes to the tally's `minutes-sha256`.
    Minutes,
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

    /// The checks of what a page shows, after [`CheckId::STATION`]
    /// (spec/browser-verification.md §3.1).
    pub const SCREEN: &'static [CheckId] = &[CheckId::Revision, CheckId::Screen, CheckId::Minutes];

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
            CheckId::Revision => "revision",
            CheckId::Screen => "screen",
            CheckId::Minutes => "minutes",
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

    /// The plan of a station page's verification of what it shows: the
    /// station's checks, then [`CheckId::SCREEN`].
    pub fn for_screen(key_source: bool) -> Verification {
        let mut v = Verification::for_station(key_source);
        v.planned.extend_from_slice(CheckId::SCREEN);
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
