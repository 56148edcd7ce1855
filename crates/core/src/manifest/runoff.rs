//! A second round's manifest, derived from the first round's final
//! announcement (`spec/manifest.md` §6).
//!
//! When a contest's final announcement says `outcome runoff`, the second
//! round is a new election on a new log. What it may hold is not a choice:
//! the runoff candidates, the same stations and regions, the same roles.
//! So its manifest is a pure function of the first round's manifest, that
//! announcement, a checkpoint including it, and the few things only the
//! second round can say (its election id, its date, its log key). The
//! `tallyboard runoff manifest` command writes it and `tallyboard-verify`
//! recomputes it from the first round's log ([`check_runoff_manifest`]):
//! one function, so the two cannot disagree.

use super::{CheckpointRef, Contest, Manifest, ManifestError, PreviousRound, ValidatedManifest};
use crate::checkpoint::Checkpoint;
use crate::entry::grammar::is_valid_id;
use crate::entry::{Announcement, AnnouncementStatus};
use crate::error::Coded;
use crate::note::VerifierKey;
use crate::rules::Status;
use crate::{ErrorCode, Hash};
use std::fmt;

/// What only the second round can say about itself.
#[derive(Clone, Debug)]
pub struct RunoffParams {
    /// Its election id (entries name it; not the first round's, so a first
    /// round's signed tally can never count in the second).
    pub election_id: String,
    /// Its election day, `YYYY-MM-DD`, after the first round's.
    pub date: String,
    /// Its log key; the key's name is the new log's origin.
    pub log_key: VerifierKey,
}

impl RunoffParams {
    /// The parameters a second round's manifest carries, to recompute it
    /// from the first round it names.
    ///
    /// # Errors
    /// `runoff.bad-parameters` if its log key does not parse (a validated
    /// manifest's always does).
    pub fn of(second: &Manifest) -> Result<RunoffParams, RunoffError> {
        Ok(RunoffParams {
            election_id: second.election.id.clone(),
            date: second.election.date.clone(),
            log_key: VerifierKey::parse(&second.keys.log)
                .map_err(|e| RunoffError::new(ErrorCode::RunoffBadParameters, e.to_string()))?,
        })
    }
}

/// Why a second round's manifest cannot be derived, or is not the derivation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunoffError {
    code: ErrorCode,
    message: String,
}

impl RunoffError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        RunoffError {
            code,
            message: message.into(),
        }
    }
    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Coded for RunoffError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for RunoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RunoffError {}

/// Rule 10 (`spec/manifest.md` §6): a second round names a first round
/// that is not itself, by a well-formed reference, and holds only
/// second-round contests. Whether the reference is true (that the first
/// round's log holds that final announcement and this manifest is its
/// derivation) only the first round's log can tell: a verifier's step
/// (`spec/verification.md`), not the manifest's own consistency.
pub(super) fn check_reference(m: &Manifest, p: &PreviousRound) -> Result<(), ManifestError> {
    if !crate::note::valid_key_name(&p.origin) || p.origin == m.log.origin {
        return Err(ManifestError::invalid(
            "previous_round.origin must be a valid key name other than this log's origin",
        ));
    }
    if !is_valid_id(&p.election) || p.election == m.election.id {
        return Err(ManifestError::invalid(
            "previous_round.election must be an id other than this election's",
        ));
    }
    let hex_ok = p.manifest_sha256.len() == 64
        && p.manifest_sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok {
        return Err(ManifestError::invalid(
            "previous_round.manifest_sha256 must be 64 lowercase hex digits",
        ));
    }
    if Hash::from_base64(&p.checkpoint.root).map(|h| h.to_base64())
        != Some(p.checkpoint.root.clone())
    {
        return Err(ManifestError::invalid(
            "previous_round.checkpoint.root must be a 32-byte hash in canonical base64",
        ));
    }
    if p.announcement >= p.checkpoint.size {
        return Err(ManifestError::invalid(
            "previous_round.announcement must be an index below previous_round.checkpoint.size",
        ));
    }
    if let Some(c) = m.contests.iter().find(|c| c.round != Some(2)) {
        return Err(ManifestError::invalid(format!(
            "contest {}: a manifest with previous_round holds second-round contests only (round 2)",
            c.id
        )));
    }
    Ok(())
}

/// What the derivation appends to the first round's English name.
pub const SECOND_ROUND_EN: &str = ", second round";
/// What the derivation appends to the first round's Persian name.
pub const SECOND_ROUND_FA: &str = "، دور دوم";

/// The first round's names (Persian, English) as a derived second round's
/// manifest carries them inside its own (§6.2); `None` for a first round.
pub fn first_round_names(second: &Manifest) -> Option<(&str, &str)> {
    second.previous_round.as_ref()?;
    let e = &second.election;
    Some((
        e.name_fa
            .strip_suffix(SECOND_ROUND_FA)
            .unwrap_or(&e.name_fa),
        e.name_en
            .strip_suffix(SECOND_ROUND_EN)
            .unwrap_or(&e.name_en),
    ))
}

/// `YYYY-MM-DD` with digits where digits go: enough to compare two dates
/// as strings.
fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The second round's manifest (`spec/manifest.md` §6.2): the first
/// round's with only the announced contest, its runoff candidates, its
/// stations, `round: 2`, the second round's election id, date and log key,
/// and a `previous_round` naming the first round's log, `checkpoint` and
/// the announcement at `index`.
///
/// # Errors
/// `runoff.not-final`, `runoff.no-runoff`, `runoff.contest-mismatch`,
/// `runoff.checkpoint-mismatch` and `runoff.bad-parameters`, checked in
/// that order after the election and contest (§6.3).
pub fn derive_runoff_manifest(
    first: &ValidatedManifest,
    announcement: &Announcement,
    index: u64,
    checkpoint: &Checkpoint,
    params: &RunoffParams,
) -> Result<ValidatedManifest, RunoffError> {
    let fm = first.manifest();
    let s = &announcement.statement;
    let mismatch = |m: String| RunoffError::new(ErrorCode::RunoffContestMismatch, m);
    if s.election != fm.election.id {
        return Err(mismatch(format!(
            "the announcement is of election {}, the first round's manifest of {}",
            s.election, fm.election.id
        )));
    }
    let contest = first
        .contest(&s.contest)
        .ok_or_else(|| mismatch(format!("contest {} is not in the manifest", s.contest)))?;
    if contest.round == Some(2) {
        return Err(mismatch(format!(
            "contest {} is already a second round",
            contest.id
        )));
    }
    if announcement.status != AnnouncementStatus::Final {
        return Err(RunoffError::new(
            ErrorCode::RunoffNotFinal,
            format!(
                "the announcement of contest {} at size {} is partial: a runoff follows the final results",
                s.contest, s.size
            ),
        ));
    }
    if s.outcome != Status::Runoff || s.runoff.is_empty() {
        return Err(RunoffError::new(
            ErrorCode::RunoffNoRunoff,
            format!("the final outcome of contest {} is not a runoff", s.contest),
        ));
    }
    if let Some(c) = s
        .runoff
        .iter()
        .find(|c| !first.has_candidate(&s.contest, **c))
    {
        return Err(mismatch(format!(
            "runoff candidate {c} is not a candidate of contest {}",
            s.contest
        )));
    }
    let seats = contest
        .seats
        .checked_sub(u32::try_from(s.elected.len()).unwrap_or(u32::MAX))
        .filter(|n| *n > 0)
        .ok_or_else(|| mismatch(format!("contest {} has no seat left", s.contest)))?;
    if checkpoint.origin != fm.log.origin {
        return Err(RunoffError::new(
            ErrorCode::RunoffCheckpointMismatch,
            format!(
                "the checkpoint is of log {}, the first round's is {}",
                checkpoint.origin, fm.log.origin
            ),
        ));
    }
    // An accepted announcement rests on a size at most its own index.
    if index >= checkpoint.size || s.size > index {
        return Err(RunoffError::new(
            ErrorCode::RunoffCheckpointMismatch,
            format!(
                "the announcement at index {index} (of size {}) is not inside the checkpoint of size {}",
                s.size, checkpoint.size
            ),
        ));
    }
    let bad = |m: String| RunoffError::new(ErrorCode::RunoffBadParameters, m);
    if !is_valid_id(&params.election_id) || params.election_id == fm.election.id {
        return Err(bad(format!(
            "the second round's election id {:?} must be an id other than the first round's",
            params.election_id
        )));
    }
    if !is_date(&params.date) || !is_date(&fm.election.date) || params.date <= fm.election.date {
        return Err(bad(format!(
            "the second round's date {:?} must be YYYY-MM-DD after the first round's {}",
            params.date, fm.election.date
        )));
    }
    let origin = params.log_key.name().to_owned();
    if origin == fm.log.origin {
        return Err(bad(format!(
            "the second round's log origin {origin} is the first round's: it needs a log of its own"
        )));
    }
    let derived = Manifest {
        constituencies: fm.constituencies.clone(),
        contests: vec![runoff_contest(contest, &s.runoff, seats)],
        counties: fm.counties.clone(),
        election: super::Election {
            date: params.date.clone(),
            id: params.election_id.clone(),
            kind: fm.election.kind,
            name_en: format!("{}{SECOND_ROUND_EN}", fm.election.name_en),
            name_fa: format!("{}{SECOND_ROUND_FA}", fm.election.name_fa),
        },
        format: fm.format.clone(),
        keys: super::Keys {
            log: params.log_key.to_vkey_string(),
            ..fm.keys.clone()
        },
        log: super::LogParams { origin },
        previous_round: Some(PreviousRound {
            announcement: index,
            checkpoint: CheckpointRef {
                root: checkpoint.root.to_base64(),
                size: checkpoint.size,
            },
            election: fm.election.id.clone(),
            manifest_sha256: first.digest().to_hex(),
            origin: fm.log.origin.clone(),
        }),
        provinces: fm.provinces.clone(),
        stations: fm
            .stations
            .iter()
            .filter(|st| st.contests.contains(&contest.id))
            .map(|st| super::Station {
                contests: vec![contest.id.clone()],
                ..st.clone()
            })
            .collect(),
        witness_policy: replace_log_key(&fm.witness_policy, &fm.keys.log, &params.log_key),
    };
    ValidatedManifest::from_manifest(derived)
        .map_err(|e| bad(format!("the derived manifest is refused: {e}")))
}

/// The contest of the second round: the first round's, with the runoff
/// candidates (in the first manifest's order), the seats left unfilled, and
/// the rules of a second round (no threshold, no runoff factor: plurality,
/// `spec/rules.md` §3.3).
fn runoff_contest(first: &Contest, runoff: &[u32], seats: u32) -> Contest {
    Contest {
        candidates: first
            .candidates
            .iter()
            .filter(|c| runoff.contains(&c.code))
            .cloned()
            .collect(),
        reserves: None,
        round: Some(2),
        runoff_factor: None,
        seats,
        threshold: None,
        ..first.clone()
    }
}

/// The first round's witness policy with its `log` line for the first
/// round's key naming the second round's key instead: the same witnesses
/// and quorum, over the new log.
fn replace_log_key(policy: &str, old: &str, new: &VerifierKey) -> String {
    let new = new.to_vkey_string();
    let mut out = String::with_capacity(policy.len());
    for line in policy.split_inclusive('\n') {
        let mut words: Vec<&str> = line.split(' ').collect();
        if words.len() >= 2 && words[0] == "log" && words[1].trim_end_matches('\n') == old {
            let tail = &words[1][old.len()..];
            let replaced = format!("{new}{tail}");
            words[1] = &replaced;
            out.push_str(&words.join(" "));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Checks that `second` is exactly the manifest derived from the first
/// round it names (`spec/verification.md`): the caller has fetched and
/// checked the first round's manifest (its digest is the reference's), the
/// checkpoint (the reference's size and root, under the first round's log
/// key) and the entry at the reference's index, proven included in it.
///
/// # Errors
/// `runoff.no-reference` without a reference; `runoff.checkpoint-mismatch`
/// if the checkpoint or first manifest given are not the ones named; any
/// refusal of [`derive_runoff_manifest`]; `runoff.not-derived`, naming the
/// first member that differs.
pub fn check_runoff_manifest(
    second: &ValidatedManifest,
    first: &ValidatedManifest,
    announcement: &Announcement,
    checkpoint: &Checkpoint,
) -> Result<(), RunoffError> {
    let sm = second.manifest();
    let r = sm.previous_round.as_ref().ok_or_else(|| {
        RunoffError::new(
            ErrorCode::RunoffNoReference,
            "the manifest names no previous round",
        )
    })?;
    let named = CheckpointRef {
        root: checkpoint.root.to_base64(),
        size: checkpoint.size,
    };
    if r.checkpoint != named || r.manifest_sha256 != first.digest().to_hex() {
        return Err(RunoffError::new(
            ErrorCode::RunoffCheckpointMismatch,
            "the first round's checkpoint or manifest given are not the ones the reference names",
        ));
    }
    let derived = derive_runoff_manifest(
        first,
        announcement,
        r.announcement,
        checkpoint,
        &RunoffParams::of(sm)?,
    )?;
    let (a, b) = (derived.manifest(), sm);
    let differs = [
        ("constituencies", a.constituencies != b.constituencies),
        ("contests", a.contests != b.contests),
        ("counties", a.counties != b.counties),
        ("election", a.election != b.election),
        ("keys", a.keys != b.keys),
        ("log", a.log != b.log),
        ("previous_round", a.previous_round != b.previous_round),
        ("provinces", a.provinces != b.provinces),
        ("stations", a.stations != b.stations),
        ("witness_policy", a.witness_policy != b.witness_policy),
    ];
    if let Some((name, _)) = differs.iter().find(|(_, d)| *d) {
        return Err(RunoffError::new(
            ErrorCode::RunoffNotDerived,
            format!("{name} is not what the first round's final announcement gives"),
        ));
    }
    // Every member compared: the bytes are then equal too, but say so.
    if derived.digest() != second.digest() {
        return Err(RunoffError::new(
            ErrorCode::RunoffNotDerived,
            "the manifest's bytes are not the derivation's",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
