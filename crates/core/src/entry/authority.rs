//! Entries signed by the election authority: the manifest commitment and
//! station key registration and revocation (`spec/entries.md` §3.1–3.3).

use super::grammar::{self, FieldReader};
use super::EntryError;
use crate::note::VerifierKey;
use crate::rules::ElectionKind;
use crate::{ErrorCode, Hash};

/// `tallyboard/manifest/v1`: the authority commits to one manifest document
/// (by SHA-256) for one election. It is the log's first entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestCommitment {
    /// Election identifier, as in the manifest.
    pub election: String,
    /// Election kind, as in the manifest (`presidential`, `majlis`, ...).
    pub kind: ElectionKind,
    /// SHA-256 of the manifest's canonical bytes.
    pub manifest_sha256: Hash,
    /// The manifest root: the RFC 6962 tree hash of the manifest's parts
    /// (`spec/manifest.md` §5), which lets a verifier of one station
    /// fetch a slice instead of the whole manifest. Optional.
    pub manifest_root: Option<Hash>,
}

const MANIFEST_FIELDS: &[&str] = &["election", "kind", "manifest-sha256", "manifest-root"];

impl ManifestCommitment {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, MANIFEST_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let kind = parse_kind(r.required("kind")?)?;
        let manifest_sha256 =
            grammar::parse_hex_hash("manifest-sha256", r.required("manifest-sha256")?)?;
        let manifest_root = r
            .optional("manifest-root")?
            .map(|v| grammar::parse_hex_hash("manifest-root", v))
            .transpose()?;
        r.finish()?;
        Ok(ManifestCommitment {
            election,
            kind,
            manifest_sha256,
            manifest_root,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "kind", self.kind.as_str());
        push(out, "manifest-sha256", &self.manifest_sha256.to_hex());
        if let Some(root) = &self.manifest_root {
            push(out, "manifest-root", &root.to_hex());
        }
    }
}

/// An election kind, spelled as in the manifest (`spec/manifest.md` §2).
fn parse_kind(v: (&str, usize)) -> Result<ElectionKind, EntryError> {
    let id = grammar::parse_id("kind", v)?;
    ElectionKind::from_spelling(&id).ok_or_else(|| {
        EntryError::new(
            ErrorCode::EntryBadValue,
            format!("line {}: field 'kind': unknown election kind {id:?}", v.1),
        )
    })
}

/// `tallyboard/station-key/v1`: the authority registers the Ed25519 key a
/// station signs its tallies with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StationKey {
    /// Election identifier.
    pub election: String,
    /// Station identifier from the manifest.
    pub station: String,
    /// The station's signed-note verifier key (type 0x01, Ed25519).
    pub key: String,
}

const STATION_KEY_FIELDS: &[&str] = &["election", "station", "key"];

fn parse_vkey(v: (&str, usize)) -> Result<String, EntryError> {
    station_vkey(v.0)
        .map(|_| v.0.to_owned())
        .map_err(|e| EntryError::new(e.code, format!("line {}: field 'key': {}", v.1, e.message)))
}

/// Parses a station's verifier key as the `key` field of a station-key
/// entry takes it (spec/entries.md §2.1 `vkey`): a C2SP signed-note
/// verifier key of type 0x01 (Ed25519). Enrolment (`crate::enrol`) checks
/// keys collected in the field with the same rule.
pub fn station_vkey(s: &str) -> Result<VerifierKey, EntryError> {
    match VerifierKey::parse(s) {
        Ok(k) if k.sig_type() == crate::note::SIG_ED25519 => Ok(k),
        Ok(_) => Err(EntryError::new(
            ErrorCode::KeyMalformed,
            "a station key must be an Ed25519 (type 0x01) key",
        )),
        Err(e) => Err(EntryError::new(
            crate::error::Coded::code(&e),
            e.to_string(),
        )),
    }
}

impl StationKey {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, STATION_KEY_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let station = grammar::parse_id("station", r.required("station")?)?;
        let key = parse_vkey(r.required("key")?)?;
        r.finish()?;
        Ok(StationKey {
            election,
            station,
            key,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "station", &self.station);
        push(out, "key", &self.key);
    }

    /// The registered key, parsed.
    pub fn verifier(&self) -> Option<VerifierKey> {
        VerifierKey::parse(&self.key).ok()
    }
}

/// `tallyboard/station-key-revocation/v1`: the authority revokes a station's
/// key (a lost or compromised device). Tallies already logged stay logged;
/// new ones need a newly registered key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StationKeyRevocation {
    /// Election identifier.
    pub election: String,
    /// Station identifier.
    pub station: String,
    /// The verifier key being revoked.
    pub key: String,
    /// Why, in free text.
    pub reason: String,
}

const REVOCATION_FIELDS: &[&str] = &["election", "station", "key", "reason"];

impl StationKeyRevocation {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, REVOCATION_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let station = grammar::parse_id("station", r.required("station")?)?;
        let key = parse_vkey(r.required("key")?)?;
        let reason = grammar::parse_text("reason", r.required("reason")?)?;
        r.finish()?;
        Ok(StationKeyRevocation {
            election,
            station,
            key,
            reason,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "station", &self.station);
        push(out, "key", &self.key);
        push(out, "reason", &self.reason);
    }
}

pub(super) fn push(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}
