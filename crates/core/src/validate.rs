//! Checking a signed entry against the manifest and the log's state before
//! it is appended (`spec/validation.md`).
//!
//! The rules read the one [`LogState`]: the board's writer, the mirror, the
//! verifier's replay and the browser all check entries against it, so they
//! reach the same verdicts. Validation is split so the board can verify
//! signatures in parallel before its single writer sequences entries:
//! [`required_signer`] + [`verify_signature`] may run on any thread against
//! a snapshot, [`check_entry`] runs in the writer against the latest state.

use crate::entry::announcement::AnnouncementStatus;
use crate::entry::{
    Announcement, Annulment, Approval, ContestApproval, Entry, Lot, Reopening, SignedEntry, Tally,
};
use crate::error::Coded;
use crate::manifest::ValidatedManifest;
use crate::note::{self, VerifierKey, Verifiers};
use crate::state::LogReader;
use crate::state::{LogState, RoleKeys};
use crate::{ErrorCode, Hash};
use std::fmt;

/// Why an entry was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    code: ErrorCode,
    message: String,
    /// For an equivocation: the index of the entry already logged.
    pub conflicting_index: Option<u64>,
}

impl ValidationError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ValidationError {
            code,
            message: message.into(),
            conflicting_index: None,
        }
    }
    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Coded for ValidationError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ValidationError {}

impl From<crate::entry::EntryError> for ValidationError {
    fn from(e: crate::entry::EntryError) -> Self {
        ValidationError::new(e.code(), e.message().to_owned())
    }
}

/// The keys that must have signed an entry (`spec/validation.md` §1.6):
/// one key, or for the manifest commitment and a role-key change the
/// authority's and a supervisor's together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signers(Vec<VerifierKey>);

impl Signers {
    /// A single required signer.
    pub fn one(key: VerifierKey) -> Signers {
        Signers(vec![key])
    }

    /// The keys, in the order the rules name them.
    pub fn keys(&self) -> &[VerifierKey] {
        &self.0
    }

    /// Checks that `signed` carries a valid signature by every key
    /// ([`verify_signature`]).
    ///
    /// # Errors
    /// The first key's failure: `note.bad-signature` or `entry.wrong-signer`.
    pub fn verify(&self, signed: &SignedEntry) -> Result<(), ValidationError> {
        self.0.iter().try_for_each(|k| verify_signature(signed, k))
    }
}

/// The keys that must have signed `signed`, given the state: the role keys
/// in force ([`role_signers`]) for every kind a role signs, and the
/// station's registered, unrevoked key for tallies.
///
/// # Errors
/// `station.unknown`, `station.key-not-registered`, `station.key-revoked`,
/// `entry.wrong-election`, `entry.wrong-signer` (a supervisor's entry
/// without a supervisor's signature line).
pub fn required_signers(
    signed: &SignedEntry,
    state: &LogState,
) -> Result<Signers, ValidationError> {
    let manifest = state.manifest();
    let entry = &signed.entry;
    if entry.election() != manifest.election_id() {
        return Err(ValidationError::new(
            ErrorCode::WrongElection,
            format!(
                "entry is for election {}, this board logs {}",
                entry.election(),
                manifest.election_id()
            ),
        ));
    }
    match entry {
        Entry::Tally(t) => {
            if manifest.station(&t.station).is_none() {
                return Err(unknown_station(&t.station));
            }
            let Some(record) = state.station(&t.station).filter(|r| r.last_key().is_some()) else {
                return Err(ValidationError::new(
                    ErrorCode::StationKeyNotRegistered,
                    format!("station {} has no registered key", t.station),
                ));
            };
            match record.active_key() {
                Some((_, key)) => Ok(Signers::one(key.clone())),
                None => Err(ValidationError::new(
                    ErrorCode::StationKeyRevoked,
                    format!("station {}'s key has been revoked", t.station),
                )),
            }
        }
        _ => role_signers(signed, state.roles())?.ok_or_else(|| {
            ValidationError::new(ErrorCode::WrongSigner, "no role signs this entry")
        }),
    }
}

/// The role keys that must sign `signed`, from the keys in force `roles`
/// (`spec/validation.md` §1.6): the authority for station keys, lot draws
/// and announcements; a supervisor for approvals, annulments, contest
/// approvals and reopenings (the first supervisor key in force with a
/// signature line on the note, matching name and key ID); the authority
/// and a supervisor together for the manifest commitment and a role-key
/// change. `Ok(None)` for a tally, which its station's key registered in
/// the log signs. The one place that says which role signs which kind: the
/// board, the auditor's replay and the per-station checks use it (the
/// latter with [`RoleKeys::from_manifest`] when they hold no replayed
/// state).
///
/// # Errors
/// `entry.wrong-signer`: a supervisor's entry without a supervisor's
/// signature line.
pub fn role_signers(
    signed: &SignedEntry,
    roles: &RoleKeys,
) -> Result<Option<Signers>, ValidationError> {
    let entry = &signed.entry;
    let supervisor = || {
        roles
            .supervisors()
            .iter()
            .find(|k| {
                signed
                    .note
                    .signatures
                    .iter()
                    .any(|s| s.name == k.name() && s.key_id == k.key_id())
            })
            .cloned()
            .ok_or_else(|| {
                ValidationError::new(
                    ErrorCode::WrongSigner,
                    format!(
                        "{} entries must be signed by a supervisor key in force",
                        entry.kind().type_line()
                    ),
                )
            })
    };
    match entry {
        Entry::Tally(_) => Ok(None),
        Entry::StationKey(_)
        | Entry::StationKeyRevocation(_)
        | Entry::Announcement(_)
        | Entry::LotDraw(_) => Ok(Some(Signers::one(roles.authority().clone()))),
        Entry::Approval(_)
        | Entry::Annulment(_)
        | Entry::ContestApproval(_)
        | Entry::Reopening(_) => Ok(Some(Signers::one(supervisor()?))),
        Entry::ManifestCommitment(_) | Entry::RoleKey(_) => Ok(Some(Signers(vec![
            roles.authority().clone(),
            supervisor()?,
        ]))),
    }
}

/// Checks that `signed` carries a valid signature by `key` (Ed25519
/// `verify_strict`). Other lines are not looked at: the grammar already
/// bounded their number to the kind's required signers
/// ([`crate::entry::EntryKind::signature_lines`]).
///
/// # Errors
/// `note.bad-signature` if `key`'s signature fails, `entry.wrong-signer` if
/// `key` did not sign at all.
pub fn verify_signature(signed: &SignedEntry, key: &VerifierKey) -> Result<(), ValidationError> {
    let mut verifiers = Verifiers::new();
    verifiers.add(key.clone());
    match note::verify_parsed(&signed.note, &verifiers) {
        Ok(_) => Ok(()),
        Err(e) if e.code() == ErrorCode::NoteNoKnownSignature => Err(ValidationError::new(
            ErrorCode::WrongSigner,
            format!(
                "{} entries must be signed by {}",
                signed.entry.kind().type_line(),
                key.name()
            ),
        )),
        Err(e) => Err(ValidationError::new(e.code(), e.to_string())),
    }
}

fn unknown_station(s: &str) -> ValidationError {
    ValidationError::new(
        ErrorCode::UnknownStation,
        format!("station {s} is not in the manifest"),
    )
}

/// Every check except the signature: the entry fits the manifest and is the
/// next step from the log's current state.
///
/// # Errors
/// The first failed check, with its stable code.
pub fn check_entry(
    signed: &SignedEntry,
    state: &LogState,
    tallies: &dyn LogReader,
) -> Result<(), ValidationError> {
    let manifest = state.manifest();
    let entry = &signed.entry;
    if entry.election() != manifest.election_id() {
        return Err(ValidationError::new(
            ErrorCode::WrongElection,
            format!("entry is for election {}", entry.election()),
        ));
    }
    if let Entry::ManifestCommitment(c) = entry {
        if state.manifest_committed() {
            return Err(ValidationError::new(
                ErrorCode::ManifestAlreadyCommitted,
                "the manifest commitment is already logged",
            ));
        }
        if c.kind != manifest.manifest().election.kind {
            return Err(ValidationError::new(
                ErrorCode::ManifestDigestMismatch,
                format!(
                    "commitment names kind {}, the manifest {}",
                    c.kind,
                    manifest.manifest().election.kind
                ),
            ));
        }
        if c.manifest_sha256 != manifest.digest() {
            return Err(ValidationError::new(
                ErrorCode::ManifestDigestMismatch,
                format!(
                    "commitment is to manifest {}, the board's manifest is {}",
                    c.manifest_sha256,
                    manifest.digest()
                ),
            ));
        }
        // The root of the manifest's parts, if named, is this manifest's
        // (spec/manifest.md §5): a slice a verifier checks against it is
        // then a slice of the manifest committed.
        if let Some(root) = c.manifest_root {
            let ours = crate::manifest::slice::ManifestTree::new(manifest.manifest()).root();
            if root != ours {
                return Err(ValidationError::new(
                    ErrorCode::ManifestDigestMismatch,
                    format!(
                        "commitment names manifest root {root}, the board's manifest has {ours}"
                    ),
                ));
            }
        }
        return Ok(());
    }
    if !state.manifest_committed() {
        return Err(ValidationError::new(
            ErrorCode::ManifestNotCommitted,
            "no manifest commitment has been logged yet",
        ));
    }
    match entry {
        Entry::ManifestCommitment(_) => Ok(()),
        Entry::StationKey(k) => {
            if manifest.station(&k.station).is_none() {
                return Err(unknown_station(&k.station));
            }
            let record = state.station(&k.station);
            if record.and_then(|r| r.active_key()).is_some() {
                return Err(ValidationError::new(
                    ErrorCode::StationKeyAlreadyRegistered,
                    format!(
                        "station {} already has an active key; revoke it first",
                        k.station
                    ),
                ));
            }
            // A revoked key never returns (spec/validation.md §1.8): every
            // key the station ever had was revoked before this point.
            if record.is_some_and(|r| r.ever_had(&k.key)) {
                return Err(ValidationError::new(
                    ErrorCode::StationKeyRevoked,
                    format!(
                        "station {}: this key was revoked and cannot be registered again",
                        k.station
                    ),
                ));
            }
            Ok(())
        }
        Entry::StationKeyRevocation(r) => {
            if manifest.station(&r.station).is_none() {
                return Err(unknown_station(&r.station));
            }
            match state.station(&r.station).and_then(|s| s.active_key()) {
                Some((active, _)) if active.key == r.key => Ok(()),
                _ => Err(ValidationError::new(
                    ErrorCode::StationKeyMismatch,
                    format!(
                        "station {}'s active key is not the one being revoked",
                        r.station
                    ),
                )),
            }
        }
        Entry::Tally(t) => {
            not_final(state, &t.contest)?;
            check_tally(t, signed.leaf_hash(), state, tallies)
        }
        Entry::Approval(a) => check_approval(a, state, tallies),
        Entry::Annulment(a) => check_annulment(a, state),
        Entry::ContestApproval(c) => {
            not_final(state, &c.contest)?;
            check_contest_approval(c, state, tallies)
        }
        Entry::LotDraw(l) => {
            not_final(state, &l.contest)?;
            check_lot(l, state)
        }
        Entry::Reopening(r) => check_reopening(r, state),
        Entry::RoleKey(r) => state.roles().check(r),
        Entry::Announcement(a) => check_announcement(a, state, tallies),
    }
}

/// The station is in the manifest, the contest too, and the station reports it.
fn check_box(
    station: &str,
    contest: &str,
    manifest: &ValidatedManifest,
) -> Result<(), ValidationError> {
    let Some(s) = manifest.station(station) else {
        return Err(unknown_station(station));
    };
    if manifest.contest(contest).is_none() {
        return Err(unknown_contest(contest));
    }
    if !s.contests.iter().any(|c| c == contest) {
        return Err(ValidationError::new(
            ErrorCode::ContestNotAtStation,
            format!("station {station} does not report contest {contest}"),
        ));
    }
    Ok(())
}

fn unknown_contest(c: &str) -> ValidationError {
    ValidationError::new(
        ErrorCode::UnknownContest,
        format!("contest {c} is not in the manifest"),
    )
}

fn check_approval(
    a: &Approval,
    state: &LogState,
    tallies: &dyn LogReader,
) -> Result<(), ValidationError> {
    check_box(&a.station, &a.contest, state.manifest())?;
    let size = state.size();
    if a.index >= size {
        return Err(ValidationError::new(
            ErrorCode::SupervisionIndexOutOfRange,
            format!(
                "approval names index {}, but the log holds {size} entries",
                a.index
            ),
        ));
    }
    // The entry at `index` must be one of this box's tallies: the state
    // keeps the first and latest, an earlier revision is found along the
    // revisions' `supersedes` (no other entry's leaf hash is ever read).
    let named = state.tally_logged_at(&a.station, &a.contest, a.index, tallies)?;
    let Some(named) = named else {
        return Err(ValidationError::new(
            ErrorCode::SupervisionNotATally,
            format!(
                "entry {} is not a tally of station {} for contest {}",
                a.index, a.station, a.contest
            ),
        ));
    };
    if named.leaf != a.leaf_sha256 {
        return Err(ValidationError::new(
            ErrorCode::SupervisionLeafMismatch,
            format!(
                "approval names leaf {} at index {}, but the entry there has leaf {}",
                a.leaf_sha256, a.index, named.leaf
            ),
        ));
    }
    if let Some(latest) = state
        .latest_tally(&a.station, &a.contest)
        .filter(|l| l.index != a.index)
    {
        return Err(ValidationError::new(
            ErrorCode::SupervisionNotLatest,
            format!(
                "index {} is revision {} of station {} contest {}; revision {} (index {}) supersedes it",
                a.index, named.revision, a.station, a.contest, latest.revision, latest.index
            ),
        ));
    }
    if let Some(at) = state.supervision().annulled(&a.station, &a.contest) {
        return Err(ValidationError::new(
            ErrorCode::SupervisionBoxAnnulled,
            format!(
                "station {}'s box for contest {} was annulled at index {at}",
                a.station, a.contest
            ),
        ));
    }
    if let Some(at) = state.supervision().approval_of(a.index) {
        let mut e = ValidationError::new(
            ErrorCode::SupervisionAlreadyApproved,
            format!("the tally at index {} was approved at index {at}", a.index),
        );
        e.conflicting_index = Some(at);
        return Err(e);
    }
    Ok(())
}

fn check_annulment(a: &Annulment, state: &LogState) -> Result<(), ValidationError> {
    check_box(&a.station, &a.contest, state.manifest())?;
    not_final(state, &a.contest)?;
    if let Some(at) = state.supervision().annulled(&a.station, &a.contest) {
        let mut e = ValidationError::new(
            ErrorCode::SupervisionAlreadyAnnulled,
            format!(
                "station {}'s box for contest {} was already annulled at index {at}",
                a.station, a.contest
            ),
        );
        e.conflicting_index = Some(at);
        return Err(e);
    }
    Ok(())
}

fn check_size(size: u64, state: &LogState) -> Result<(), ValidationError> {
    let n = state.size();
    if size == 0 || size > n {
        return Err(ValidationError::new(
            ErrorCode::ResultsSizeOutOfRange,
            format!("size {size} is not between 1 and the {n} entries logged before this one"),
        ));
    }
    Ok(())
}

fn check_contest_approval(
    c: &ContestApproval,
    state: &LogState,
    tallies: &dyn LogReader,
) -> Result<(), ValidationError> {
    if state.manifest().contest(&c.contest).is_none() {
        return Err(unknown_contest(&c.contest));
    }
    check_size(c.size, state)?;
    if let Some(at) = state.supervision().contest_approval(&c.contest, c.size) {
        let mut e = ValidationError::new(
            ErrorCode::SupervisionAlreadyApproved,
            format!(
                "contest {} at size {} was already approved at index {}",
                c.contest, c.size, at.index
            ),
        );
        e.conflicting_index = Some(at.index);
        return Err(e);
    }
    let statement = state.statement(&c.contest, c.size, tallies)?;
    let want = statement.sha256();
    if want != c.results_sha256 {
        return Err(ValidationError::new(
            ErrorCode::SupervisionResultsMismatch,
            format!(
                "results-sha256 {} is not the hash of contest {}'s results at size {}, {want}",
                c.results_sha256, c.contest, c.size
            ),
        ));
    }
    Ok(())
}

fn check_lot(l: &Lot, state: &LogState) -> Result<(), ValidationError> {
    let manifest = state.manifest();
    if manifest.contest(&l.contest).is_none() {
        return Err(unknown_contest(&l.contest));
    }
    for &code in &l.among {
        if !manifest.has_candidate(&l.contest, code) {
            return Err(ValidationError::new(
                ErrorCode::UnknownCandidate,
                format!("candidate {code} is not in contest {}", l.contest),
            ));
        }
    }
    if let Some(at) = state.supervision().lot(&l.contest, &l.among) {
        let mut e = ValidationError::new(
            ErrorCode::LotAlreadyDrawn,
            format!(
                "a lot between {:?} in contest {} was already drawn at index {at}",
                l.among, l.contest
            ),
        );
        e.conflicting_index = Some(at);
        return Err(e);
    }
    Ok(())
}

/// Final is final (`spec/announcements.md` §6): while a contest's final
/// announcement is in force (not reopened), nothing that would change the
/// contest's results is accepted.
fn not_final(state: &LogState, contest: &str) -> Result<(), ValidationError> {
    match state.supervision().final_in_force(contest) {
        Some(f) => {
            let mut e = ValidationError::new(
                ErrorCode::ContestFinal,
                format!(
                    "contest {contest}'s results were declared final at index {}; a supervisor's reopening must be logged before anything changes them",
                    f.index
                ),
            );
            e.conflicting_index = Some(f.index);
            Err(e)
        }
        None => Ok(()),
    }
}

fn check_reopening(r: &Reopening, state: &LogState) -> Result<(), ValidationError> {
    if state.manifest().contest(&r.contest).is_none() {
        return Err(unknown_contest(&r.contest));
    }
    match state.supervision().final_in_force(&r.contest) {
        Some(f) if f.leaf == r.final_leaf => Ok(()),
        Some(f) => Err(ValidationError::new(
            ErrorCode::ReopeningNotFinal,
            format!(
                "contest {}'s final in force is the announcement at index {} with leaf {}, not {}",
                r.contest, f.index, f.leaf, r.final_leaf
            ),
        )),
        None => Err(ValidationError::new(
            ErrorCode::ReopeningNotFinal,
            format!(
                "contest {} has no final announcement in force to reopen",
                r.contest
            ),
        )),
    }
}

/// The announcement rests on a checkpoint its witnesses cosigned
/// (`spec/announcements.md` §5): its root is the log's root at its size,
/// and its cosignatures on that checkpoint meet the manifest's witness
/// policy.
fn check_witnessed(
    a: &Announcement,
    state: &LogState,
    log: &dyn LogReader,
) -> Result<(), ValidationError> {
    let s = &a.statement;
    let root = log
        .root(s.size)
        .map_err(|e| ValidationError::new(e.code(), e.message().to_owned()))?;
    if root != a.witnessed.root {
        return Err(ValidationError::new(
            ErrorCode::AnnouncementRootMismatch,
            format!(
                "the announcement names root {} for size {}, the log's tree of that size has root {}",
                a.witnessed.root.to_base64(),
                s.size,
                root.to_base64()
            ),
        ));
    }
    let manifest = state.manifest();
    let text = a
        .witnessed
        .checkpoint_text(&manifest.manifest().log.origin, s.size);
    let verdict = state
        .roles()
        .witness_policy()
        .evaluate(&text, &a.witnessed.cosignatures);
    if !verdict.quorum_met {
        return Err(ValidationError::new(
            ErrorCode::AnnouncementNotWitnessed,
            format!(
                "the checkpoint of size {} it rests on is not cosigned by the election's witness quorum: {verdict}",
                s.size
            ),
        ));
    }
    Ok(())
}

/// A final after a reopened final names it; a first final names none.
fn check_replaces(a: &Announcement, state: &LogState) -> Result<(), ValidationError> {
    if a.status != AnnouncementStatus::Final {
        return Ok(());
    }
    let contest = &a.statement.contest;
    let earlier = state.supervision().latest_final(contest);
    match (earlier, &a.replaces) {
        (None, None) => Ok(()),
        (Some(f), Some(r)) if f.leaf == r.final_leaf => Ok(()),
        (Some(f), _) => Err(ValidationError::new(
            ErrorCode::AnnouncementReplacesMismatch,
            format!(
                "contest {contest}'s final at index {} was reopened; a new final must name it (replaces {}) and say why",
                f.index, f.leaf
            ),
        )),
        (None, Some(r)) => Err(ValidationError::new(
            ErrorCode::AnnouncementReplacesMismatch,
            format!(
                "contest {contest} has no earlier final, but this one says it replaces {}",
                r.final_leaf
            ),
        )),
    }
}

fn check_announcement(
    a: &Announcement,
    state: &LogState,
    tallies: &dyn LogReader,
) -> Result<(), ValidationError> {
    let s = &a.statement;
    if state.manifest().contest(&s.contest).is_none() {
        return Err(unknown_contest(&s.contest));
    }
    check_size(s.size, state)?;
    not_final(state, &s.contest)?;
    check_replaces(a, state)?;
    check_witnessed(a, state, tallies)?;
    let approval = state.supervision().contest_approval(&s.contest, s.size);
    if a.status == AnnouncementStatus::Final && approval.is_none() {
        return Err(ValidationError::new(
            ErrorCode::AnnouncementNotApproved,
            format!(
                "a final announcement needs a supervisor's contest approval of contest {} at size {} logged before it",
                s.contest, s.size
            ),
        ));
    }
    let expected = state.statement(&s.contest, s.size, tallies)?;
    let diffs = s.differences(&expected);
    if let Some(first) = diffs.first() {
        return Err(ValidationError::new(
            ErrorCode::AnnouncementMismatch,
            format!(
                "contest {} at size {}: {} figure(s) differ from the log; first: {first}",
                s.contest,
                s.size,
                diffs.len()
            ),
        ));
    }
    if let (AnnouncementStatus::Final, Some(ap)) = (a.status, approval) {
        if ap.results_sha256 != expected.sha256() {
            return Err(ValidationError::new(
                ErrorCode::AnnouncementNotApproved,
                format!(
                    "the contest approval at index {} approved other results",
                    ap.index
                ),
            ));
        }
    }
    Ok(())
}

/// The checks of a tally that need only the manifest (`spec/validation.md`
/// §1 step 8): the station, the contest and the candidates are the manifest's,
/// the station reports the contest, and the figures' arithmetic holds
/// ([`Tally::check_arithmetic`]). The board runs them on every tally, and
/// the station console before it signs one, so a tally the console signs
/// is refused by the board only for what the log holds (a key, a revision).
///
/// # Errors
/// The first check that fails.
pub fn check_tally_against_manifest(
    t: &Tally,
    manifest: &ValidatedManifest,
) -> Result<(), ValidationError> {
    let Some(station) = manifest.station(&t.station) else {
        return Err(unknown_station(&t.station));
    };
    let Some(contest) = manifest.contest(&t.contest) else {
        return Err(unknown_contest(&t.contest));
    };
    if !station.contests.iter().any(|c| c == &t.contest) {
        return Err(ValidationError::new(
            ErrorCode::ContestNotAtStation,
            format!(
                "station {} does not report contest {}",
                t.station, t.contest
            ),
        ));
    }
    for &(code, _) in &t.votes {
        if !manifest.has_candidate(&t.contest, code) {
            return Err(ValidationError::new(
                ErrorCode::UnknownCandidate,
                format!("candidate {code} is not in contest {}", t.contest),
            ));
        }
    }
    t.check_arithmetic(contest.seats)?;
    Ok(())
}

fn check_tally(
    t: &Tally,
    leaf: Hash,
    state: &LogState,
    tallies: &dyn LogReader,
) -> Result<(), ValidationError> {
    check_tally_against_manifest(t, state.manifest())?;
    if let Some(existing) = state.tally_at(&t.station, &t.contest, t.revision, tallies)? {
        if existing.leaf != leaf {
            let mut e = ValidationError::new(
                ErrorCode::Equivocation,
                format!(
                    "station {} already logged a different revision {} for contest {} at index {}",
                    t.station, t.revision, t.contest, existing.index
                ),
            );
            e.conflicting_index = Some(existing.index);
            return Err(e);
        }
    }
    let latest = state.latest_tally(&t.station, &t.contest);
    let expected = latest.map_or(1, |l| l.revision.saturating_add(1));
    if t.revision != expected {
        return Err(ValidationError::new(
            ErrorCode::RevisionNotNext,
            format!(
                "station {} contest {}: revision {} is not the next one ({expected})",
                t.station, t.contest, t.revision
            ),
        ));
    }
    if let (Some(c), Some(l)) = (&t.correction, latest) {
        if c.supersedes != l.leaf {
            return Err(ValidationError::new(
                ErrorCode::RevisionSupersedesWrong,
                format!(
                    "revision supersedes {}, but the latest entry for this station and contest is {} (index {})",
                    c.supersedes, l.leaf, l.index
                ),
            ));
        }
    }
    Ok(())
}

/// The whole check: signer, signature and state.
///
/// # Errors
/// The first failed check.
pub fn validate(
    signed: &SignedEntry,
    state: &LogState,
    tallies: &dyn LogReader,
) -> Result<(), ValidationError> {
    required_signers(signed, state)?.verify(signed)?;
    check_entry(signed, state, tallies)
}

#[cfg(test)]
mod tests;
