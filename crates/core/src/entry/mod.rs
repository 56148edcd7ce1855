//! tallyboard's log entries (`spec/entries.md`).
//!
//! Every entry is a C2SP signed note (`crate::note`) whose text begins with a
//! type line naming the entry type and its version, followed by the fields of
//! that type in the strict grammar of [`grammar`]. The leaf the log stores is
//! the signed note's exact bytes, at most 65,535 of them (the tlog-tiles entry
//! bundle limit).

pub mod announcement;
mod authority;
pub mod figures;
pub mod grammar;
pub mod json;
mod lot;
mod role_key;
mod supervision;
mod tally;
pub mod votes;

pub use announcement::{
    Announcement, AnnouncementStatus, Replacement, Statement, WitnessedCheckpoint,
};
pub use authority::{station_vkey, ManifestCommitment, StationKey, StationKeyRevocation};
pub use figures::BallotFigures;
pub use lot::Lot;
pub use role_key::{Role, RoleKey};
pub use supervision::{Annulment, Approval, ContestApproval, Reopening};
pub use tally::{Correction, Tally};

use crate::error::Coded;
use crate::note::{Note, NoteError};
use crate::ErrorCode;
use std::fmt;

/// The largest entry the log accepts, in bytes (C2SP tlog-tiles entry
/// bundles use a 16-bit length prefix).
pub const MAX_ENTRY_SIZE: usize = 65_535;

/// Why an entry was refused: a stable code and a message naming the field or
/// line that was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryError {
    code: ErrorCode,
    message: String,
}

impl EntryError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EntryError {
            code,
            message: message.into(),
        }
    }

    /// The human-readable explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Coded for EntryError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for EntryError {}

impl From<NoteError> for EntryError {
    fn from(e: NoteError) -> Self {
        EntryError::new(e.code(), e.to_string())
    }
}

/// The registry of entry types. Types marked reserved are named now so that
/// their spelling is fixed, but the board refuses them until the version that
/// implements them (`entry.type-not-accepted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// The election authority commits to the manifest's SHA-256.
    ManifestCommitment,
    /// The authority registers a station's Ed25519 key.
    StationKey,
    /// The authority revokes a station's key.
    StationKeyRevocation,
    /// A station's first tally for a contest.
    Tally,
    /// A station's corrected tally, superseding its previous one.
    TallyRevision,
    /// A supervisor approves a station's tally.
    Approval,
    /// A supervisor annuls a station's box for a contest.
    Annulment,
    /// A supervisor approves a contest's standing results at a log size.
    ContestApproval,
    /// The authority announces a contest's results at a log size.
    Announcement,
    /// The authority records the outcome of drawing lots between tied candidates.
    LotDraw,
    /// A supervisor reopens a contest whose results were declared final.
    Reopening,
    /// The authority and a supervisor replace (or revoke) a role's key.
    RoleKey,
    /// Reserved: evidence of log or witness misbehaviour.
    WitnessEvidence,
}

impl EntryKind {
    /// Every kind, accepted and reserved.
    pub const ALL: &'static [EntryKind] = &[
        EntryKind::ManifestCommitment,
        EntryKind::StationKey,
        EntryKind::StationKeyRevocation,
        EntryKind::Tally,
        EntryKind::TallyRevision,
        EntryKind::Approval,
        EntryKind::Annulment,
        EntryKind::ContestApproval,
        EntryKind::Announcement,
        EntryKind::LotDraw,
        EntryKind::Reopening,
        EntryKind::RoleKey,
        EntryKind::WitnessEvidence,
    ];

    /// The type line (without its newline).
    pub fn type_line(self) -> &'static str {
        match self {
            EntryKind::ManifestCommitment => "tallyboard/manifest/v1",
            EntryKind::StationKey => "tallyboard/station-key/v1",
            EntryKind::StationKeyRevocation => "tallyboard/station-key-revocation/v1",
            EntryKind::Tally => "tallyboard/tally/v1",
            EntryKind::TallyRevision => "tallyboard/tally-revision/v1",
            EntryKind::Approval => "tallyboard/approval/v1",
            EntryKind::Annulment => "tallyboard/annulment/v1",
            EntryKind::ContestApproval => "tallyboard/contest-approval/v1",
            EntryKind::Announcement => "tallyboard/announcement/v1",
            EntryKind::LotDraw => "tallyboard/lot-draw/v1",
            EntryKind::Reopening => "tallyboard/reopening/v1",
            EntryKind::RoleKey => "tallyboard/role-key/v1",
            EntryKind::WitnessEvidence => "tallyboard/witness-evidence/v1",
        }
    }

    /// Looks a type line up.
    pub fn from_type_line(line: &str) -> Option<EntryKind> {
        EntryKind::ALL
            .iter()
            .copied()
            .find(|k| k.type_line() == line)
    }

    /// Whether this version of the board accepts entries of this kind.
    pub fn is_accepted(self) -> bool {
        matches!(
            self,
            EntryKind::ManifestCommitment
                | EntryKind::StationKey
                | EntryKind::StationKeyRevocation
                | EntryKind::Tally
                | EntryKind::TallyRevision
                | EntryKind::Approval
                | EntryKind::Annulment
                | EntryKind::ContestApproval
                | EntryKind::Announcement
                | EntryKind::LotDraw
                | EntryKind::Reopening
                | EntryKind::RoleKey
        )
    }

    /// How many signature lines an entry of this kind carries: its required
    /// signers' ([`crate::validate::required_signers`]): two for the
    /// manifest commitment and a role key change, which the authority and
    /// a supervisor sign together; one for every other kind.
    pub fn signature_lines(self) -> usize {
        match self {
            EntryKind::ManifestCommitment | EntryKind::RoleKey => 2,
            _ => 1,
        }
    }
}

/// A parsed entry body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// See [`ManifestCommitment`].
    ManifestCommitment(ManifestCommitment),
    /// See [`StationKey`].
    StationKey(StationKey),
    /// See [`StationKeyRevocation`].
    StationKeyRevocation(StationKeyRevocation),
    /// A tally or a tally revision (see [`Tally`]).
    Tally(Tally),
    /// See [`Approval`].
    Approval(Approval),
    /// See [`Annulment`].
    Annulment(Annulment),
    /// See [`ContestApproval`].
    ContestApproval(ContestApproval),
    /// See [`Announcement`].
    Announcement(Announcement),
    /// See [`Lot`].
    LotDraw(Lot),
    /// See [`Reopening`].
    Reopening(Reopening),
    /// See [`RoleKey`].
    RoleKey(RoleKey),
}

impl Entry {
    /// Parses note text (type line and fields) into an entry.
    ///
    /// # Errors
    /// Any deviation from the grammar, with the code of the first problem.
    pub fn parse_text(text: &str) -> Result<Entry, EntryError> {
        let (type_line, body) = match text.split_once('\n') {
            Some(parts) => parts,
            None => {
                return Err(EntryError::new(
                    ErrorCode::EntryUnknownType,
                    "entry has no type line",
                ))
            }
        };
        let Some(kind) = EntryKind::from_type_line(type_line) else {
            let shown: String = type_line.chars().take(60).collect();
            return Err(EntryError::new(
                ErrorCode::EntryUnknownType,
                format!("unknown entry type {shown:?}"),
            ));
        };
        match kind {
            EntryKind::ManifestCommitment => {
                ManifestCommitment::parse_body(body).map(Entry::ManifestCommitment)
            }
            EntryKind::StationKey => StationKey::parse_body(body).map(Entry::StationKey),
            EntryKind::StationKeyRevocation => {
                StationKeyRevocation::parse_body(body).map(Entry::StationKeyRevocation)
            }
            EntryKind::Tally => Tally::parse_body(body, false).map(Entry::Tally),
            EntryKind::TallyRevision => Tally::parse_body(body, true).map(Entry::Tally),
            EntryKind::Approval => Approval::parse_body(body).map(Entry::Approval),
            EntryKind::Annulment => Annulment::parse_body(body).map(Entry::Annulment),
            EntryKind::ContestApproval => {
                ContestApproval::parse_body(body).map(Entry::ContestApproval)
            }
            EntryKind::Announcement => Announcement::parse_body(body).map(Entry::Announcement),
            EntryKind::LotDraw => Lot::parse_body(body).map(Entry::LotDraw),
            EntryKind::Reopening => Reopening::parse_body(body).map(Entry::Reopening),
            EntryKind::RoleKey => RoleKey::parse_body(body).map(Entry::RoleKey),
            other => Err(EntryError::new(
                ErrorCode::EntryTypeNotAccepted,
                format!(
                    "entry type {} is reserved and not accepted yet",
                    other.type_line()
                ),
            )),
        }
    }

    /// The entry's kind.
    pub fn kind(&self) -> EntryKind {
        match self {
            Entry::ManifestCommitment(_) => EntryKind::ManifestCommitment,
            Entry::StationKey(_) => EntryKind::StationKey,
            Entry::StationKeyRevocation(_) => EntryKind::StationKeyRevocation,
            Entry::Tally(t) if t.correction.is_some() => EntryKind::TallyRevision,
            Entry::Tally(_) => EntryKind::Tally,
            Entry::Approval(_) => EntryKind::Approval,
            Entry::Annulment(_) => EntryKind::Annulment,
            Entry::ContestApproval(_) => EntryKind::ContestApproval,
            Entry::Announcement(_) => EntryKind::Announcement,
            Entry::LotDraw(_) => EntryKind::LotDraw,
            Entry::Reopening(_) => EntryKind::Reopening,
            Entry::RoleKey(_) => EntryKind::RoleKey,
        }
    }

    /// The note text of this entry, in its one canonical spelling.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(self.kind().type_line());
        out.push('\n');
        match self {
            Entry::ManifestCommitment(e) => e.write_body(&mut out),
            Entry::StationKey(e) => e.write_body(&mut out),
            Entry::StationKeyRevocation(e) => e.write_body(&mut out),
            Entry::Tally(e) => e.write_body(&mut out),
            Entry::Approval(e) => e.write_body(&mut out),
            Entry::Annulment(e) => e.write_body(&mut out),
            Entry::ContestApproval(e) => e.write_body(&mut out),
            Entry::Announcement(e) => e.write_body(&mut out),
            Entry::LotDraw(e) => e.write_body(&mut out),
            Entry::Reopening(e) => e.write_body(&mut out),
            Entry::RoleKey(e) => e.write_body(&mut out),
        }
        out
    }

    /// The election this entry belongs to.
    pub fn election(&self) -> &str {
        match self {
            Entry::ManifestCommitment(e) => &e.election,
            Entry::StationKey(e) => &e.election,
            Entry::StationKeyRevocation(e) => &e.election,
            Entry::Tally(e) => &e.election,
            Entry::Approval(e) => &e.election,
            Entry::Annulment(e) => &e.election,
            Entry::ContestApproval(e) => &e.election,
            Entry::Announcement(e) => &e.statement.election,
            Entry::LotDraw(e) => &e.election,
            Entry::Reopening(e) => &e.election,
            Entry::RoleKey(e) => &e.election,
        }
    }

    /// The station the entry concerns, for the kinds that name one (a
    /// tally, a station key's registration or revocation, an approval, an
    /// annulment): what a station's page and `tallyboard-verify inclusion`
    /// list.
    pub fn station(&self) -> Option<&str> {
        match self {
            Entry::Tally(t) => Some(&t.station),
            Entry::StationKey(k) => Some(&k.station),
            Entry::StationKeyRevocation(k) => Some(&k.station),
            Entry::Approval(a) => Some(&a.station),
            Entry::Annulment(a) => Some(&a.station),
            Entry::ManifestCommitment(_)
            | Entry::ContestApproval(_)
            | Entry::Announcement(_)
            | Entry::LotDraw(_)
            | Entry::Reopening(_)
            | Entry::RoleKey(_) => None,
        }
    }
}

/// A signed entry as submitted: the exact bytes (the future leaf), the
/// parsed note and the parsed entry.
#[derive(Clone, Debug)]
pub struct SignedEntry {
    /// The signed note bytes, exactly as received; the leaf is SHA-256(0x00 || bytes).
    pub bytes: Vec<u8>,
    /// The parsed note (text and signature lines).
    pub note: Note,
    /// The parsed entry.
    pub entry: Entry,
}

impl SignedEntry {
    /// Parses a signed entry. Signatures are not verified here (that needs
    /// the log's state: see `crate::validate`).
    ///
    /// # Errors
    /// Size, note syntax and entry grammar errors.
    pub fn parse(bytes: &[u8]) -> Result<SignedEntry, EntryError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::new(
                ErrorCode::EntryTooLarge,
                format!(
                    "entry is {} bytes; the limit is {MAX_ENTRY_SIZE}",
                    bytes.len()
                ),
            ));
        }
        let note = Note::parse(bytes, MAX_ENTRY_SIZE)?;
        let entry = Entry::parse_text(&note.text)?;
        // Exactly the signature the rules require, nothing else: a line a
        // relay adds would change the leaf (and so could log a copy of a
        // station's tally before the station's own, which would then be an
        // equivocation), would put an unchecked name on every page that
        // shows the entry, and many lines would cost a verification each.
        // Refused here, before any state is looked up or any signature
        // verified (spec/entries.md §2).
        let allowed = entry.kind().signature_lines();
        if note.signatures.len() != allowed {
            return Err(EntryError::new(
                ErrorCode::EntrySignatureLines,
                format!(
                    "a {} entry carries exactly {allowed} signature line(s), its required signers'; this note has {}",
                    entry.kind().type_line(),
                    note.signatures.len()
                ),
            ));
        }
        Ok(SignedEntry {
            bytes: bytes.to_vec(),
            note,
            entry,
        })
    }

    /// The RFC 6962 leaf hash of this entry.
    pub fn leaf_hash(&self) -> crate::Hash {
        crate::hash::leaf_hash(&self.bytes)
    }
}

#[cfg(test)]
mod tests;
