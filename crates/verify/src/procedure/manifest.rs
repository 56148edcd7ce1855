//! The manifest step: entry 0 is proven included in the signed tree and is
//! the manifest commitment; the manifest the log serves hashes to the
//! committed digest, validates, and names the log key and origin in use
//! (spec/verification.md §4 step 4, §6 step 5). The manifest then gives
//! every role key (authority, supervisors, witnesses) and each contest's
//! seats.

use super::facts::{Facts, ManifestFacts};
use super::station::prove;
use super::{CheckId, Verification};
use crate::tiles::ServedEntry;
use crate::{LogKey, Result, Source};
use tallyboard_core::checkpoint::Checkpoint;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::manifest::slice::Slice;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::HashReader;
use tallyboard_core::Hash;

/// Where an export publishes the manifest, relative to the log's prefix.
pub const MANIFEST_PATH: &str = "api/v1/manifest.json";

/// Fetches the manifest: an export publishes `api/v1/manifest.json`, a
/// live board serves the same bytes at `api/v1/manifest` and as the blob
/// named by the committed digest. Returns the bytes of the first found.
pub fn fetch_manifest(src: &dyn Source, committed: &Hash) -> Result<Option<Vec<u8>>> {
    let blob = format!("api/v1/blobs/{}", committed.to_hex());
    for path in [MANIFEST_PATH, "api/v1/manifest", blob.as_str()] {
        if let Some(bytes) = src.fetch(path)? {
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

/// Checks entry 0 (as served, in `entry0`) and the manifest, and records
/// `manifest`. Entry 0's inclusion is proven with `hashes`: the
/// authenticated tiles, or any stored hashes the caller rebuilt and tied
/// to the signed root (the audit's tree of every entry). Returns the
/// validated manifest, or `None` (the check failed).
pub fn manifest<R>(
    v: &mut Verification,
    src: &dyn Source,
    hashes: &R,
    cp: &Checkpoint,
    log: &LogKey,
    entry0: &[ServedEntry],
) -> Result<Option<ValidatedManifest>>
where
    R: HashReader + ?Sized,
    R::Error: Coded,
{
    manifest_for(v, src, hashes, cp, log, entry0, None)
}

/// The path of a station's manifest slice on the read path
/// (spec/manifest.md §5, spec/http-api.md).
pub fn slice_path(station: &str) -> String {
    format!("api/v1/manifest/slices/{station}")
}

/// [`manifest`] for a verification of one station: when entry 0 names a
/// manifest root and the source serves the station's slice
/// ([`slice_path`]), the slice is checked against the root and the part
/// of the manifest the station needs is validated, instead of the whole
/// manifest (spec/manifest.md §5).
pub fn manifest_for<R>(
    v: &mut Verification,
    src: &dyn Source,
    hashes: &R,
    cp: &Checkpoint,
    log: &LogKey,
    entry0: &[ServedEntry],
    station: Option<&str>,
) -> Result<Option<ValidatedManifest>>
where
    R: HashReader + ?Sized,
    R::Error: Coded,
{
    let mut facts = ManifestFacts {
        index: Some(0),
        ..ManifestFacts::default()
    };
    let mut fail = |code: &str, facts: ManifestFacts| {
        v.fail(CheckId::Manifest, code, Facts::Manifest(facts));
        Ok(None)
    };
    let served = entry0.iter().find(|e| e.index == 0);
    let bytes = match served.map(|e| &e.bytes) {
        Some(Ok(b)) if cp.size > 0 => b,
        Some(Err(f)) if cp.size > 0 => {
            facts.path = f.path.clone();
            return fail(&f.code, facts);
        }
        // An empty log, or entry 0 not read: nothing is committed.
        _ => return fail("manifest.not-committed", facts),
    };
    if let Err(code) = prove(hashes, bytes, 0, cp) {
        return fail(code, facts);
    }
    let commitment = match SignedEntry::parse(bytes).map(|s| s.entry) {
        Ok(Entry::ManifestCommitment(c)) => c,
        Ok(_) => return fail("manifest.not-committed", facts),
        Err(e) => return fail(e.code().as_str(), facts),
    };
    facts.committed = Some(commitment.manifest_sha256.to_hex());
    let slice = match (station, commitment.manifest_root) {
        (Some(st), Some(root)) => src.fetch(&slice_path(st))?.map(|b| (st, root, b)),
        _ => None,
    };
    if let Some((st, root, bytes)) = slice {
        facts.root = Some(root.to_hex());
        facts.path = Some(slice_path(st));
        let opened = Slice::from_bytes(&bytes).and_then(|s| {
            let m = s.open(&root, st)?;
            Ok((s.parts.len(), m))
        });
        let (parts, m) = match opened {
            Ok(x) => x,
            Err(e) => return fail(e.code().as_str(), facts),
        };
        facts.slice_parts = Some(parts);
        let m = match ValidatedManifest::from_manifest(m) {
            Ok(m) => m,
            Err(e) => return fail(e.code().as_str(), facts),
        };
        return named_keys(v, m, facts, log);
    }
    let Some(manifest) = fetch_manifest(src, &commitment.manifest_sha256)? else {
        facts.path = Some(MANIFEST_PATH.to_string());
        return fail("source.missing", facts);
    };
    let digest = Hash::sha256(&manifest);
    facts.manifest_sha256 = Some(digest.to_hex());
    facts.path = Some(MANIFEST_PATH.to_string());
    if digest != commitment.manifest_sha256 {
        return fail("manifest.digest-mismatch", facts);
    }
    let m = match ValidatedManifest::from_bytes(&manifest) {
        Ok(m) => m,
        Err(e) => return fail(e.code().as_str(), facts),
    };
    named_keys(v, m, facts, log)
}

/// The last of the manifest step: the manifest (or its slice) names the
/// log key and origin in use.
fn named_keys(
    v: &mut Verification,
    m: ValidatedManifest,
    mut facts: ManifestFacts,
    log: &LogKey,
) -> Result<Option<ValidatedManifest>> {
    let mut fail = |code: &str, facts: ManifestFacts| {
        v.fail(CheckId::Manifest, code, Facts::Manifest(facts));
        Ok(None)
    };
    facts.election = Some(m.election_id().to_string());
    if m.log_key().to_vkey_string() != log.key.to_vkey_string() {
        facts.field = Some("keys.log".into());
        facts.expected = Some(log.key.to_vkey_string());
        facts.found = Some(m.log_key().to_vkey_string());
        return fail("manifest.invalid", facts);
    }
    if m.manifest().log.origin != log.origin {
        facts.field = Some("log.origin".into());
        facts.expected = Some(log.origin.clone());
        facts.found = Some(m.manifest().log.origin.clone());
        return fail("checkpoint.wrong-origin", facts);
    }
    facts.path = None;
    v.pass(CheckId::Manifest, Facts::Manifest(facts));
    Ok(Some(m))
}
