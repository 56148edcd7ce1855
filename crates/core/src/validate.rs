//! Checking a signed entry against the manifest and the log's state before
//! it is appended (`spec/validation.md`).
//!
//! The log's state is seen through [`LogView`], so this module stays free of
//! storage: the board implements it over its index, the verifier over the
//! entries it has replayed. Validation is split so the board can verify
//! signatures in parallel before its single writer sequences entries:
//! [`required_signer`] + [`verify_signature`] may run on any thread against
//! a snapshot, [`check_entry`] runs in the writer against the latest state.

use crate::entry::{Entry, SignedEntry, Tally};
use crate::error::Coded;
use crate::manifest::ValidatedManifest;
use crate::note::{self, VerifierKey, Verifiers};
use crate::{ErrorCode, Hash};
use std::fmt;

/// A station's key as registered in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyState {
    /// The verifier key string from the registration entry.
    pub key: String,
    /// The same key, parsed once when the registration was applied, so that
    /// checking a tally does not decompress the public key again.
    pub verifier: Option<VerifierKey>,
    /// Whether a revocation for it has been logged.
    pub revoked: bool,
}

impl KeyState {
    /// The state of a freshly registered key.
    pub fn registered(key: &str) -> KeyState {
        KeyState {
            key: key.to_owned(),
            verifier: VerifierKey::parse(key).ok(),
            revoked: false,
        }
    }
}

/// Where an earlier tally sits in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TallyRef {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// Its revision.
    pub revision: u32,
}

/// What validation needs to know about the log so far.
pub trait LogView {
    /// Whether the manifest commitment has been logged.
    fn manifest_committed(&self) -> bool;
    /// The station's most recently registered key, if any.
    fn station_key(&self, station: &str) -> Option<KeyState>;
    /// The station's latest tally for a contest.
    fn latest_tally(&self, station: &str, contest: &str) -> Option<TallyRef>;
    /// The station's tally for a contest at a given revision.
    fn tally_at(&self, station: &str, contest: &str, revision: u32) -> Option<TallyRef>;
}

/// Why an entry was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    code: ErrorCode,
    message: String,
    /// For an equivocation: the index of the entry already logged.
    pub conflicting_index: Option<u64>,
}

impl ValidationError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
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

/// The key that must have signed `entry`, given the state: the authority
/// for authority entries, the station's registered, unrevoked key for tallies.
///
/// # Errors
/// `station.unknown`, `station.key-not-registered`, `station.key-revoked`,
/// `entry.wrong-election`.
pub fn required_signer(
    entry: &Entry,
    manifest: &ValidatedManifest,
    view: &dyn LogView,
) -> Result<VerifierKey, ValidationError> {
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
        Entry::ManifestCommitment(_) | Entry::StationKey(_) | Entry::StationKeyRevocation(_) => {
            Ok(manifest.authority().clone())
        }
        Entry::Tally(t) => {
            if manifest.station(&t.station).is_none() {
                return Err(unknown_station(&t.station));
            }
            let Some(state) = view.station_key(&t.station) else {
                return Err(ValidationError::new(
                    ErrorCode::StationKeyNotRegistered,
                    format!("station {} has no registered key", t.station),
                ));
            };
            if state.revoked {
                return Err(ValidationError::new(
                    ErrorCode::StationKeyRevoked,
                    format!("station {}'s key has been revoked", t.station),
                ));
            }
            match state.verifier {
                Some(k) => Ok(k),
                None => VerifierKey::parse(&state.key).map_err(|e| {
                    ValidationError::new(ErrorCode::StoreInconsistent, format!("stored key: {e}"))
                }),
            }
        }
    }
}

/// Checks that `signed` carries a valid signature by `key` (Ed25519
/// `verify_strict`). Signatures by other keys are ignored, as signed-note
/// requires, so observers may add their own.
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
    manifest: &ValidatedManifest,
    view: &dyn LogView,
) -> Result<(), ValidationError> {
    let entry = &signed.entry;
    if entry.election() != manifest.election_id() {
        return Err(ValidationError::new(
            ErrorCode::WrongElection,
            format!("entry is for election {}", entry.election()),
        ));
    }
    if let Entry::ManifestCommitment(c) = entry {
        if view.manifest_committed() {
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
        return Ok(());
    }
    if !view.manifest_committed() {
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
            if let Some(state) = view.station_key(&k.station) {
                if !state.revoked {
                    return Err(ValidationError::new(
                        ErrorCode::StationKeyAlreadyRegistered,
                        format!(
                            "station {} already has an active key; revoke it first",
                            k.station
                        ),
                    ));
                }
                if state.key == k.key {
                    return Err(ValidationError::new(
                        ErrorCode::StationKeyRevoked,
                        format!(
                            "station {}: this key was revoked and cannot be registered again",
                            k.station
                        ),
                    ));
                }
            }
            Ok(())
        }
        Entry::StationKeyRevocation(r) => {
            if manifest.station(&r.station).is_none() {
                return Err(unknown_station(&r.station));
            }
            match view.station_key(&r.station) {
                Some(state) if !state.revoked && state.key == r.key => Ok(()),
                _ => Err(ValidationError::new(
                    ErrorCode::StationKeyMismatch,
                    format!(
                        "station {}'s active key is not the one being revoked",
                        r.station
                    ),
                )),
            }
        }
        Entry::Tally(t) => check_tally(t, signed.leaf_hash(), manifest, view),
    }
}

fn check_tally(
    t: &Tally,
    leaf: Hash,
    manifest: &ValidatedManifest,
    view: &dyn LogView,
) -> Result<(), ValidationError> {
    let Some(station) = manifest.station(&t.station) else {
        return Err(unknown_station(&t.station));
    };
    let Some(contest) = manifest.contest(&t.contest) else {
        return Err(ValidationError::new(
            ErrorCode::UnknownContest,
            format!("contest {} is not in the manifest", t.contest),
        ));
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
    if let Some(existing) = view.tally_at(&t.station, &t.contest, t.revision) {
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
    let latest = view.latest_tally(&t.station, &t.contest);
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
    manifest: &ValidatedManifest,
    view: &dyn LogView,
) -> Result<(), ValidationError> {
    let key = required_signer(&signed.entry, manifest, view)?;
    verify_signature(signed, &key)?;
    check_entry(signed, manifest, view)
}

#[cfg(test)]
mod tests;
