//! What each check found, as data: sizes, indexes, hashes, key names,
//! error codes and figures. Whoever shows a check to a person (the command
//! line's English report, the site's Persian and English texts) builds the
//! sentence from these; the checks never write one.
//!
//! Hashes are lowercase hex (leaf hashes, manifest digests) or base64
//! (roots, as in checkpoints), in full: a reader shortens them for display.

use super::CheckId;
use serde::Serialize;

/// The data of one check. Serialized without a tag: the check's id says
/// which kind it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Facts {
    /// `log-key`.
    Key(KeyFacts),
    /// `checkpoint-signature`.
    Checkpoint(CheckpointFacts),
    /// `tiles-root`.
    Tiles(TileFacts),
    /// `manifest`.
    Manifest(ManifestFacts),
    /// `witness-cosignatures`.
    Witnesses(WitnessFacts),
    /// `registration-inclusion`, `registration-signature`,
    /// `entry-inclusion`, `entry-signature` and `arithmetic`: one line per
    /// entry concerned.
    Entries(EntryFacts),
    /// `revision`, `screen` and `minutes`: one line per tally shown.
    Screen(super::screen::ScreenFacts),
    /// A check that did not run because the check `after` failed.
    Skipped {
        /// The failed check it depends on.
        after: CheckId,
    },
}

/// The log key the verification trusts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyFacts {
    /// The key's name (the origin, by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key ID, 8 lowercase hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The key's fingerprint for people to compare with the published one
    /// (`note::fingerprint`, spec/keys.md §6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Where the caller got the key: `page` (pinned by the page), `board`
    /// (fetched from the log itself: trust on first use), ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The checkpoint opened with the log key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckpointFacts {
    /// The origin expected (and, when it verified, found).
    pub origin: String,
    /// The tree size signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The root signed (base64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// The resource concerned (`checkpoint`, or the receipt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The hash tiles, tied to the signed root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TileFacts {
    /// The tree size.
    pub size: u64,
    /// How many tiles were read.
    pub tiles: usize,
    /// The tile at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What the signed tree says (the root, or the parent tile's hash), base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the tiles give instead, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

/// Entry 0's commitment and the manifest it commits to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ManifestFacts {
    /// The election, from the manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub election: Option<String>,
    /// SHA-256 of the manifest served (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
    /// The digest entry 0 commits to (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed: Option<String>,
    /// The manifest root entry 0 names (hex), when a slice was checked
    /// against it (spec/manifest.md §5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// How many parts of the manifest the slice held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_parts: Option<usize>,
    /// The entry concerned (0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The resource concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The manifest field that disagrees with the checkpoint (`keys.log`,
    /// `log.origin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What the verification uses (the log key, the origin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the manifest names instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

/// The witnesses' cosignatures (C2SP tlog-cosignature) on the checkpoint,
/// under a witness policy (C2SP tlog-policy) if one was given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WitnessFacts {
    /// Whether a witness policy was given (then the quorum is required).
    pub policy: bool,
    /// The policy's quorum (`None`: `quorum none`, or no policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum: Option<String>,
    /// Whether the quorum is met (with a policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum_met: Option<bool>,
    /// How many witness keys were known (the policy's, or else the
    /// manifest's).
    pub witnesses: usize,
    /// Witnesses whose cosignature verified.
    pub cosigned: Vec<Cosigner>,
    /// Witnesses with a cosignature line that does not verify.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<String>,
    /// The policy's groups that are not satisfied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsatisfied: Vec<GroupShortfall>,
    /// Other signature lines (`name+keyid`) that no known key checks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
    /// The witness keys trusted (the policy's, or else the manifest's),
    /// with their fingerprints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<TrustedWitness>,
    /// Where the policy came from: `page` (the page's `data-policy`, or the
    /// caller's) or `manifest` (the election's `witness_policy`, committed
    /// by entry 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_source: Option<&'static str>,
}

/// A witness key the verification trusts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustedWitness {
    /// The witness: its policy name, or its key name.
    pub witness: String,
    /// Its key's name.
    pub key: String,
    /// Its key's fingerprint (`note::fingerprint`).
    pub fingerprint: String,
}

/// A witness whose cosignature verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cosigner {
    /// The witness: its policy name, or its key name.
    pub witness: String,
    /// The cosignature's timestamp (seconds since the Unix epoch).
    pub timestamp: u64,
}

/// A policy group that is not satisfied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupShortfall {
    /// The group.
    pub group: String,
    /// How many members it needs.
    pub threshold: usize,
    /// The members that did not cosign.
    pub missing: Vec<String>,
}

/// A station's entries concerned by one check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EntryFacts {
    /// The station.
    pub station: String,
    /// The entries, in log order.
    pub entries: Vec<EntryFact>,
}

/// One entry as one check saw it. Which fields are set depends on the
/// check: inclusion gives the leaf and the proof's length, a signature
/// the key required, the arithmetic the tally's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EntryFact {
    /// The entry's index.
    pub index: u64,
    /// Its type line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its leaf hash, computed here (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf: Option<String>,
    /// The tree size its inclusion was proven in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The length of the inclusion proof computed from the tiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_hashes: Option<usize>,
    /// Why this entry fails the check (a stable code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The station the entry names, when it is not the one verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// The key the entry must be signed with.
    #[serde(flatten)]
    pub required: Option<RequiredKey>,
    /// For a tally: its fields (the figures its arithmetic relates), as
    /// [`crate::entry_fields::entry_fields`] gives them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<serde_json::Value>,
}

/// The key an entry must be signed with (spec/validation.md §1 step 6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequiredKey {
    /// The role that signs the entry's kind: `authority`, `supervisor` or
    /// `station`.
    pub role: &'static str,
    /// The key's name, when there is a key (a station may have none in force).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// For a station's key: the index of its registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_index: Option<u64>,
}
