//! Stable, machine-readable error codes.
//!
//! Every rejection anywhere in tallyboard (a parser, a validator, the HTTP
//! API, the verifier) carries one of these codes. The strings are part of the
//! public interface (`spec/errors.md`): they never change meaning, and new
//! ones are only ever added. Each concern has its own typed error enum
//! (`NoteError`, `EntryError`, ...) whose variants map onto a code here, so a
//! caller can match on the type in Rust and a client can match on the string.

use std::fmt;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// A stable error code. See the module documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order (for documentation and tests).
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The stable string form, for example `tally.arithmetic.votes-taken`.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// Looks a code up by its string form.
            pub fn from_str_code(s: &str) -> Option<ErrorCode> {
                match s { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    // --- signed notes (C2SP signed-note) ---
    /// The note is not valid UTF-8.
    NoteNotUtf8 => "note.not-utf8",
    /// The note contains a control character other than newline (CR included).
    NoteControlChar => "note.control-character",
    /// The note is larger than the limit for its use.
    NoteTooLarge => "note.too-large",
    /// The note has no blank line separating text from signatures, or the text is empty.
    NoteMalformed => "note.malformed",
    /// A signature line is not `— <name> <base64>`.
    NoteSignatureLineMalformed => "note.signature-line-malformed",
    /// More signature lines than the limit.
    NoteTooManySignatures => "note.too-many-signatures",
    /// A signature from a known key did not verify.
    NoteBadSignature => "note.bad-signature",
    /// No signature from any key the verifier knows.
    NoteNoKnownSignature => "note.no-known-signature",
    /// A verifier or signer key string is malformed.
    KeyMalformed => "key.malformed",
    /// A key's ID does not match its name and public key.
    KeyIdMismatch => "key.id-mismatch",
    /// An Ed25519 public key is not a valid point, or is weak (small order).
    KeyInvalid => "key.invalid",
    /// A signer outside this process (a PKCS#11 token) failed to sign, or
    /// returned a signature that does not verify under its public key.
    KeySignerFailed => "key.signer-failed",
    // --- keys in a PKCS#11 token (spec/operations.md §13) ---
    /// A PKCS#11 URI is malformed, names an unsupported attribute, or carries a PIN value.
    HsmUriMalformed => "hsm.uri-malformed",
    /// The PKCS#11 module could not be loaded or initialised.
    HsmModuleUnavailable => "hsm.module-unavailable",
    /// No token with the URI's label is present.
    HsmTokenNotFound => "hsm.token-not-found",
    /// The PIN source could not be read.
    HsmPinUnreadable => "hsm.pin-unreadable",
    /// The token refused the PIN (or the PIN is locked).
    HsmPinIncorrect => "hsm.pin-incorrect",
    /// No Ed25519 private key with the URI's label is in the token.
    HsmKeyNotFound => "hsm.key-not-found",
    /// A key with that label already exists in the token (keygen refuses to add a second).
    HsmKeyExists => "hsm.key-exists",
    /// Another PKCS#11 call failed.
    HsmFailed => "hsm.failed",
    // --- checkpoints ---
    /// A checkpoint body is malformed (origin, size or root line).
    CheckpointMalformed => "checkpoint.malformed",
    /// A checkpoint's origin is not the one expected.
    CheckpointWrongOrigin => "checkpoint.wrong-origin",
    /// A cosignature is malformed or does not verify.
    CosignatureInvalid => "cosignature.invalid",
    // --- Merkle proofs ---
    /// An index or size is out of range for the tree.
    ProofOutOfRange => "proof.out-of-range",
    /// An inclusion proof does not lead to the root.
    ProofInclusionFailed => "proof.inclusion-failed",
    /// A consistency proof does not connect the two roots.
    ProofConsistencyFailed => "proof.consistency-failed",
    /// A tlog-proof (receipt) document is malformed.
    ProofMalformed => "proof.malformed",
    /// A tile path or tile body is malformed.
    TileMalformed => "tile.malformed",
    // --- entries: grammar ---
    /// The entry is larger than 65,535 bytes.
    EntryTooLarge => "entry.too-large",
    /// The first line does not name a known entry type.
    EntryUnknownType => "entry.unknown-type",
    /// The entry type is reserved for a later version of the board.
    EntryTypeNotAccepted => "entry.type-not-accepted",
    /// A line is not `<field> <value>`.
    EntryLineMalformed => "entry.line-malformed",
    /// A field name is not one this entry type has.
    EntryUnknownField => "entry.unknown-field",
    /// A field appears twice.
    EntryDuplicateField => "entry.duplicate-field",
    /// A field appears out of the order the grammar fixes.
    EntryFieldOrder => "entry.field-order",
    /// A required field is missing.
    EntryMissingField => "entry.missing-field",
    /// A value is not in its one canonical spelling (leading zero, case, spaces).
    EntryNonCanonical => "entry.non-canonical",
    /// A number does not fit in 64 bits (or the field's range).
    EntryOverflow => "entry.overflow",
    /// A value is malformed for its field type.
    EntryBadValue => "entry.bad-value",
    /// Bytes after the last field line.
    EntryTrailingData => "entry.trailing-data",
    /// Vote lines are not in strictly ascending candidate order, or a count is zero.
    EntryVotesOrder => "entry.votes-order",
    /// A free-text field holds a character that is not safe to display:
    /// invisible, direction-changing, a separator or a control character
    /// (`spec/entries.md` §2.2).
    EntryUnsafeCharacter => "entry.unsafe-character",
    /// The note carries another number of signature lines than its kind
    /// allows (one: the signer the rules require), `spec/entries.md` §2.
    EntrySignatureLines => "entry.signature-lines",
    // --- manifest ---
    /// The manifest is not canonical JSON or does not parse.
    ManifestMalformed => "manifest.malformed",
    /// The manifest parses but is inconsistent (dangling reference, duplicate id, ...).
    ManifestInvalid => "manifest.invalid",
    /// The manifest's SHA-256 is not the one committed to.
    ManifestDigestMismatch => "manifest.digest-mismatch",
    // --- validation against the manifest and the log ---
    /// The entry names a different election than the board's.
    WrongElection => "entry.wrong-election",
    /// The entry is not signed by the key its type requires.
    WrongSigner => "entry.wrong-signer",
    /// The manifest commitment is already logged (or is not the first entry).
    ManifestAlreadyCommitted => "manifest.already-committed",
    /// No manifest commitment has been logged yet.
    ManifestNotCommitted => "manifest.not-committed",
    /// The station is not in the manifest.
    UnknownStation => "station.unknown",
    /// The station has no registered key.
    StationKeyNotRegistered => "station.key-not-registered",
    /// The station's key has been revoked.
    StationKeyRevoked => "station.key-revoked",
    /// The station already has an active key; revoke it first.
    StationKeyAlreadyRegistered => "station.key-already-registered",
    /// The revocation names a key that is not the station's active key.
    StationKeyMismatch => "station.key-mismatch",
    /// The contest is not in the manifest.
    UnknownContest => "contest.unknown",
    /// The station does not report this contest.
    ContestNotAtStation => "contest.not-at-station",
    /// A candidate code is not in the contest.
    UnknownCandidate => "candidate.unknown",
    /// The revision is not the next one for this station and contest.
    RevisionNotNext => "tally.revision-not-next",
    /// A revision's `supersedes` does not name the station's latest entry for the contest.
    RevisionSupersedesWrong => "tally.supersedes-mismatch",
    /// A different entry with the same station, contest and revision is already logged.
    Equivocation => "tally.equivocation",
    /// ballots-in-box != votes-taken + void-not-taken.
    TallyBallotsInBox => "tally.arithmetic.ballots-in-box",
    /// votes-taken != valid + void-taken.
    TallyVotesTaken => "tally.arithmetic.votes-taken",
    /// ballots-in-box > counterfoils.
    TallyCounterfoils => "tally.arithmetic.counterfoils",
    /// Sum of candidate votes exceeds seats x valid (or != valid for one seat).
    TallyVoteSum => "tally.arithmetic.vote-sum",
    /// A count is larger than the board accepts (10^12).
    TallyCountTooLarge => "tally.arithmetic.count-too-large",
    // --- board operations ---
    /// The board's queue is full; retry later.
    Overloaded => "board.overloaded",
    /// The request body is too large.
    BodyTooLarge => "request.body-too-large",
    /// The request's content type is wrong.
    UnsupportedMediaType => "request.unsupported-media-type",
    /// A request parameter is malformed.
    BadRequest => "request.bad-parameter",
    /// The resource does not exist.
    NotFound => "request.not-found",
    /// A blob's content does not hash to its name.
    BlobDigestMismatch => "blob.digest-mismatch",
    /// A blob upload names a SHA-256 no logged tally of its station names
    /// as its minutes scan.
    BlobNotNamed => "blob.not-named",
    /// A blob upload is not signed by its station's key in force.
    BlobBadSignature => "blob.bad-signature",
    /// Storage failed; nothing was appended.
    Storage => "board.storage",
    /// The stored log disagrees with its latest signed checkpoint.
    StoreInconsistent => "board.store-inconsistent",
    /// A witness of the board's policy has cosigned more of this log than
    /// the board holds, or a tree it does not extend: the board is serving
    /// an older or another history (restored from an old copy, or forked)
    /// and takes no submission until its operator acts.
    BehindWitnesses => "board.behind-witnesses",
    /// The HTTP method is not allowed on this resource.
    MethodNotAllowed => "request.method-not-allowed",
    /// The client sent more requests than its per-address rate allows; retry later.
    RateLimited => "request.rate-limited",
    /// The client did not send the whole request body in time.
    RequestTimeout => "request.timeout",
    /// The request line or a header could not be parsed (HTTP/1.1 framing,
    /// RFC 9112 §2-5): answered 400 before any route sees the request.
    RequestMalformed => "request.malformed",
    /// The request head (request line and headers) is larger than the
    /// server reads (RFC 6585 §5: 431).
    HeaderTooLarge => "request.header-too-large",
    /// The request target is longer than the server reads (RFC 9110 §15.5.15: 414).
    UriTooLong => "request.uri-too-long",
    /// An export is not built yet (the board builds each export once per
    /// checkpoint in the background); retry after `Retry-After` seconds.
    ExportNotReady => "board.export-not-ready",
    /// The board already serves as many live-update streams (`/live`) as it
    /// allows; retry after `Retry-After` seconds.
    LiveFull => "board.live-full",
    /// This board stands by: another board holds the PostgreSQL store's
    /// writer lease. It serves reads; retry the write, or send it to the
    /// board that writes (`spec/storage.md` §8.3).
    BoardStandby => "board.standby",
    /// The client's address already holds as many live-update streams
    /// (`/live`) as one address may; close one or retry later.
    TooManyStreams => "request.too-many-streams",
    // --- the board's store (`spec/storage.md`): opening refuses, fail closed ---
    /// The data directory holds no board store.
    StoreMissing => "store.missing",
    /// The data directory holds a store of another format or version (the
    /// sled layout of earlier versions included); nothing is migrated.
    StoreVersion => "store.version",
    /// Another process holds the store's writer lock: exactly one writer.
    StoreLocked => "store.locked",
    /// A record ends before its header says (a write cut off, or a file
    /// truncated): nothing is guessed, the operator decides (`spec/storage.md` §5).
    StoreTornWrite => "store.torn-write",
    /// A record, pack, index, snapshot or blob fails its checksum, MAC or parse.
    StoreCorrupt => "store.corrupt",
    /// A file is shorter than what was made durable, or the journal lost
    /// commits the files derived from it still hold.
    StoreTruncated => "store.truncated",
    /// A stored checkpoint does not verify under the log key, or its root is
    /// not the root of the stored tree of its size.
    StoreCheckpointMismatch => "store.checkpoint-mismatch",
    /// The store's database cannot be reached or answered with an error
    /// (PostgreSQL store, `spec/storage.md` §8): nothing was committed.
    StoreUnavailable => "store.unavailable",
    /// Another board took the writer lease, or committed past this one's
    /// head (PostgreSQL store): this board may not extend the log.
    StoreFenced => "store.fenced",
    // --- witnesses (C2SP tlog-witness) and witness policies (tlog-policy) ---
    /// An add-checkpoint request body is malformed (HTTP 400).
    WitnessRequestMalformed => "witness.request-malformed",
    /// The witness trusts no log key for the checkpoint's origin (HTTP 404).
    WitnessUnknownOrigin => "witness.unknown-origin",
    /// The request's old size is larger than the checkpoint's size (HTTP 400).
    WitnessOldSizeTooLarge => "witness.old-size-too-large",
    /// The request's old size is not the size the witness last cosigned (HTTP 409).
    WitnessOldSizeMismatch => "witness.old-size-mismatch",
    /// The checkpoint is not consistent with what the witness cosigned: bad
    /// proof, a different root for the same size, or a bad empty tree (HTTP 422).
    WitnessInconsistent => "witness.inconsistent",
    /// The witness could not persist its state; nothing was cosigned (HTTP 500).
    WitnessStorage => "witness.storage",
    // --- publishing the read path (`spec/publishing.md`) ---
    /// The publish target holds a checkpoint that is not this log's (another key, another origin, or not a checkpoint).
    PublishForeignCheckpoint => "publish.foreign-checkpoint",
    /// The publish target holds a checkpoint larger than the one being published; publishing would roll it back.
    PublishTargetAhead => "publish.target-ahead",
    /// The publish target holds a checkpoint whose root is not this log's root at that size: another history.
    PublishOtherHistory => "publish.other-history",
    /// Reading, listing or writing the publish target failed; its checkpoint was not replaced.
    PublishTargetFailed => "publish.target-failed",
    /// A witness policy file is malformed.
    PolicyMalformed => "policy.malformed",
    /// A checkpoint's cosignatures do not satisfy the policy's quorum.
    PolicyQuorumNotMet => "policy.quorum-not-met",
    // --- supervision, lots and announcements ---
    /// An approval names an index at or beyond the log's size.
    SupervisionIndexOutOfRange => "supervision.index-out-of-range",
    /// An approval's leaf-sha256 is not the leaf hash of the entry at its index.
    SupervisionLeafMismatch => "supervision.leaf-mismatch",
    /// The entry an approval names is not a tally of that station and contest.
    SupervisionNotATally => "supervision.not-a-tally",
    /// An approval names a tally that a later revision has superseded.
    SupervisionNotLatest => "supervision.not-latest",
    /// The box (station, contest) is annulled: it cannot be approved.
    SupervisionBoxAnnulled => "supervision.box-annulled",
    /// The box (station, contest) is already annulled.
    SupervisionAlreadyAnnulled => "supervision.already-annulled",
    /// The tally, or the contest at that size, is already approved.
    SupervisionAlreadyApproved => "supervision.already-approved",
    /// A contest approval's results-sha256 is not the hash of the results recomputed at its size.
    SupervisionResultsMismatch => "supervision.results-mismatch",
    /// A contest approval's or announcement's size is 0 or beyond the entries logged before it.
    ResultsSizeOutOfRange => "results.size-out-of-range",
    /// An announcement's figure or outcome differs from the board's recomputation.
    AnnouncementMismatch => "announcement.mismatch",
    /// A final announcement without a supervisor's contest approval at the same size.
    AnnouncementNotApproved => "announcement.not-approved",
    /// The announcement's checkpoint root is not the log's root at its size.
    AnnouncementRootMismatch => "announcement.root-mismatch",
    /// The announcement's cosignatures do not meet the manifest's witness
    /// policy: it does not rest on a checkpoint the witnesses cosigned.
    AnnouncementNotWitnessed => "announcement.not-witnessed",
    /// A final announcement after a reopened final does not name it in
    /// `replaces` (or a first final names one).
    AnnouncementReplacesMismatch => "announcement.replaces-mismatch",
    /// The contest's results were declared final and not reopened: nothing
    /// that would change them is accepted.
    ContestFinal => "contest.final",
    /// A reopening names no final announcement in force for its contest.
    ReopeningNotFinal => "reopening.not-final",
    /// A lot for the same contest and tied candidates is already logged.
    LotAlreadyDrawn => "lot.already-drawn",
    // --- a second round (spec/manifest.md §6) ---
    /// The announcement a runoff is derived from is not a final one.
    RunoffNotFinal => "runoff.not-final",
    /// The final announcement's outcome is not a runoff.
    RunoffNoRunoff => "runoff.no-runoff",
    /// The announcement is not of the first round's election, or names a
    /// contest or candidate its manifest does not hold.
    RunoffContestMismatch => "runoff.contest-mismatch",
    /// The checkpoint is not of the first round's log, or does not include
    /// the announcement, or the announcement is not there.
    RunoffCheckpointMismatch => "runoff.checkpoint-mismatch",
    /// The second round's own parameters (election id, date, log key) are
    /// unusable: the first round's, malformed, or making an invalid manifest.
    RunoffBadParameters => "runoff.bad-parameters",
    /// A second round's manifest is not the derivation from the first round it names.
    RunoffNotDerived => "runoff.not-derived",
    /// A manifest checked as a second round names no first round.
    RunoffNoReference => "runoff.no-reference",
    // --- role keys (spec/keys.md) ---
    /// A role-key entry's `old` key is not a key of that role in force.
    RoleKeyNotCurrent => "role.key-not-current",
    /// A role-key entry's `new` key was already held by some role: a
    /// replaced key never returns, one key never serves two roles.
    RoleKeyReused => "role.key-reused",
    /// A role-key entry would revoke the election's last supervisor key.
    RoleLastSupervisor => "role.last-supervisor",
    /// The log's manifest names a role key other than the one the verifier
    /// pinned: the log's roles are not the ones the verifier trusts.
    ManifestRoleKeyMismatch => "manifest.role-key-mismatch",
    // --- enrolling station devices (spec/enrolment.md) ---
    /// The device list's first line is not the header `station_id,vkey`.
    EnrolHeader => "enrol.header",
    /// A line of the device list is not `<station_id>,<vkey>` (two fields,
    /// UTF-8), or a key file holds more than one line.
    EnrolLineMalformed => "enrol.line-malformed",
    /// The device list names a station a second time.
    EnrolDuplicateStation => "enrol.duplicate-station",
    /// A device key is listed twice, is a role key of the manifest, or
    /// (replacing a device) the new key is the old one.
    EnrolKeyReused => "enrol.key-reused",
    /// A device key's name is not `<station>.<election>.<domain>` for its
    /// station and the manifest's election.
    EnrolKeyName => "enrol.key-name",
    /// The device list holds no device.
    EnrolEmpty => "enrol.empty",
    // --- mirrors (spec/mirror.md) ---
    /// A mirror accepts no writes; submit to the board it follows (HTTP 403).
    MirrorReadOnly => "mirror.read-only",
    /// The upstream could not be read (network, HTTP status, a missing tile
    /// or bundle); the mirror keeps its state and tries again.
    MirrorUpstreamUnavailable => "mirror.upstream-unavailable",
    /// The log signed a checkpoint smaller than one the mirror verified.
    MirrorRollback => "mirror.rollback",
    /// The log signed a tree that does not extend the one the mirror
    /// verified: a different root at the same size, or a consistency proof
    /// that fails although the tiles reproduce the new root.
    MirrorFork => "mirror.fork",
    /// The tiles or entry bundles served are malformed, or do not reproduce
    /// the signed root.
    MirrorReadPathMismatch => "mirror.read-path-mismatch",
    /// An entry under a signed checkpoint fails the board's validation rules.
    MirrorEntryInvalid => "mirror.entry-invalid",
    // --- the station console (spec/operations.md §10) ---
    /// The console's input ended before every tally was confirmed; nothing
    /// was signed or sent.
    ConsoleInputEnded => "console.input-ended",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Anything that can report a stable [`ErrorCode`].
pub trait Coded {
    /// The stable code of this error.
    fn code(&self) -> ErrorCode;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            assert_eq!(ErrorCode::from_str_code(c.as_str()), Some(*c));
            assert!(c
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'));
        }
    }
}

#[cfg(test)]
mod spec_tests {
    use super::ErrorCode;

    #[test]
    fn every_code_is_documented_in_the_spec() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/errors.md");
        let spec = std::fs::read_to_string(path).expect("spec/errors.md");
        for c in ErrorCode::ALL {
            assert!(
                spec.contains(&format!("`{}`", c.as_str())),
                "{} is missing from spec/errors.md",
                c.as_str()
            );
        }
    }

    /// The other direction: every code a table of `spec/errors.md` lists
    /// (before its verifier section, whose codes are the verifier's own) is
    /// a code of this crate, listed once; the verifier's codes are not.
    #[test]
    fn every_code_the_spec_lists_exists() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/errors.md");
        let spec = std::fs::read_to_string(path).expect("spec/errors.md");
        let (board, verifier) = spec
            .split_once("\n## Verifier findings")
            .expect("spec/errors.md has a verifier section");
        let codes = |text: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.strip_prefix("| `"))
                .filter_map(|l| l.split_once('`'))
                .map(|(code, _)| code.to_owned())
                .collect()
        };
        let listed = codes(board);
        for c in &listed {
            assert!(
                ErrorCode::from_str_code(c).is_some(),
                "spec/errors.md lists {c}, which crates/core/src/error.rs does not define"
            );
        }
        let unique: std::collections::HashSet<&String> = listed.iter().collect();
        assert_eq!(unique.len(), listed.len(), "a code is listed twice");
        assert_eq!(listed.len(), ErrorCode::ALL.len());
        let own = codes(verifier);
        assert!(!own.is_empty());
        for c in &own {
            assert!(
                ErrorCode::from_str_code(c).is_none(),
                "{c} is an ErrorCode, not a verifier-only code"
            );
        }
    }
}
