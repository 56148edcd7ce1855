//! `inclusion <station>`: the station's entries in the log at a verified
//! checkpoint, each proven included from tiles, with the figures a citizen
//! compares with the minutes posted at the station (spec/verification.md §4).
//!
//! Cost: the read path has no trusted index by station, so every entry
//! bundle is scanned (at 59,000 stations: about 118,000 entries in about
//! 460 bundles, some 70 MB); the inclusion proofs then need only
//! O(log n) hashes from a handful of tiles.

use crate::audit::MANIFEST_PATH;
use crate::tiles::{bundle_count, fetch_bundle, fetch_checkpoint, merkle_err, TileFetcher};
use crate::{Error, Finding, LogKey, Report, Result, Source};
use rayon::prelude::*;
use serde::Serialize;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::tile::TILE_WIDTH;
use tallyboard_core::validate;
use tallyboard_core::Hash;

/// One of the station's entries.
#[derive(Debug, Serialize)]
pub struct StationEntry {
    /// Log index.
    pub index: u64,
    /// Leaf hash (hex).
    pub leaf: String,
    /// Type line.
    pub kind: String,
    /// Whether the inclusion proof (from tiles) verified against the checkpoint.
    pub included: bool,
    /// The signature status: `valid`, or why not.
    pub signature: String,
    /// The parsed entry (figures of a tally).
    pub entry: serde_json::Value,
}

/// The report of `inclusion`.
#[derive(Debug, Serialize)]
pub struct InclusionReport {
    /// Always `inclusion`.
    pub command: &'static str,
    /// Whether every entry is included and validly signed, and at least one tally exists.
    pub verified: bool,
    /// The station.
    pub station: String,
    /// The checkpoint's size.
    pub size: u64,
    /// The checkpoint's root (base64).
    pub root: String,
    /// Entry bundles scanned.
    pub bundles_scanned: u64,
    /// The station's entries, in log order.
    pub entries: Vec<StationEntry>,
    /// Discrepancies.
    pub findings: Vec<Finding>,
}

impl Report for InclusionReport {
    fn verified(&self) -> bool {
        self.verified
    }
    fn human(&self) -> String {
        let mut s = format!(
            "station {}: {} entries in the log's tree of size {} (root {}), {} bundles scanned\n",
            self.station,
            self.entries.len(),
            self.size,
            self.root,
            self.bundles_scanned
        );
        for e in &self.entries {
            s.push_str(&format!(
                "\n  entry {} {}\n    included: {}   signature: {}\n    leaf {}\n",
                e.index,
                e.kind,
                if e.included {
                    "yes (proof from tiles verified)"
                } else {
                    "NO"
                },
                e.signature,
                e.leaf
            ));
            for k in FIELD_ORDER {
                let Some(v) = e.entry.get(*k).filter(|v| !v.is_null()) else {
                    continue;
                };
                if *k == "votes" {
                    for pair in v.as_array().into_iter().flatten() {
                        s.push_str(&format!(
                            "    votes for candidate {} = {}\n",
                            pair[0], pair[1]
                        ));
                    }
                } else {
                    s.push_str(&format!("    {k} = {v}\n"));
                }
            }
        }
        s.push_str(if self.verified {
            "\nVERIFIED: compare the figures above with the minutes posted at the station.\n"
        } else {
            "\nFAILED\n"
        });
        for f in &self.findings {
            s.push_str(&format!("  {f}\n"));
        }
        s
    }
}

/// The order in which entry fields are printed (the entry grammar's order).
const FIELD_ORDER: &[&str] = &[
    "election",
    "manifest_sha256",
    "contest",
    "station",
    "key",
    "revision",
    "supersedes",
    "reason",
    "counterfoils",
    "ballots_in_box",
    "votes_taken",
    "void_taken",
    "void_not_taken",
    "valid",
    "votes",
    "minutes_sha256",
];

fn entry_json(e: &Entry) -> serde_json::Value {
    use serde_json::json;
    match e {
        Entry::Tally(t) => json!({
            "election": t.election,
            "contest": t.contest,
            "station": t.station,
            "revision": t.revision,
            "supersedes": t.correction.as_ref().map(|c| c.supersedes.to_hex()),
            "reason": t.correction.as_ref().map(|c| c.reason.clone()),
            "counterfoils": t.counterfoils,
            "ballots_in_box": t.ballots_in_box,
            "votes_taken": t.votes_taken,
            "void_taken": t.void_taken,
            "void_not_taken": t.void_not_taken,
            "valid": t.valid,
            "votes": t.votes,
            "minutes_sha256": t.minutes_sha256.map(|h| h.to_hex()),
        }),
        Entry::StationKey(k) => json!({"station": k.station, "key": k.key}),
        Entry::StationKeyRevocation(k) => {
            json!({"station": k.station, "key": k.key, "reason": k.reason})
        }
        Entry::ManifestCommitment(m) => {
            json!({"election": m.election, "manifest_sha256": m.manifest_sha256.to_hex()})
        }
        Entry::Approval(a) => json!({
            "station": a.station, "contest": a.contest, "index": a.index,
            "leaf_sha256": a.leaf_sha256.to_hex(),
        }),
        Entry::Annulment(a) => json!({
            "station": a.station, "contest": a.contest, "reason_code": a.reason_code,
            "reason": a.reason,
        }),
        other => json!({"text": other.to_text()}),
    }
}

fn station_of(e: &Entry) -> Option<&str> {
    match e {
        Entry::Tally(t) => Some(&t.station),
        Entry::StationKey(k) => Some(&k.station),
        Entry::StationKeyRevocation(k) => Some(&k.station),
        Entry::Approval(a) => Some(&a.station),
        Entry::Annulment(a) => Some(&a.station),
        _ => None,
    }
}

/// Fetches the manifest if it matches entry 0's commitment (entry 0's own
/// inclusion is proven by the caller).
fn manifest_for(src: &dyn Source, entry0: &SignedEntry) -> Result<Option<ValidatedManifest>> {
    let Entry::ManifestCommitment(c) = &entry0.entry else {
        return Ok(None);
    };
    let Some(bytes) = src.fetch(MANIFEST_PATH)? else {
        return Ok(None);
    };
    if Hash::sha256(&bytes) != c.manifest_sha256 {
        return Err(Error::Failed(
            Finding::new(
                "manifest.digest-mismatch",
                format!("{MANIFEST_PATH} does not hash to entry 0's commitment"),
            )
            .at_path(MANIFEST_PATH),
        ));
    }
    Ok(ValidatedManifest::from_bytes(&bytes).ok())
}

/// Runs `inclusion` for `station`.
pub fn run(src: &dyn Source, log: &LogKey, station: &str) -> Result<InclusionReport> {
    let mut r = InclusionReport {
        command: "inclusion",
        verified: false,
        station: station.to_string(),
        size: 0,
        root: String::new(),
        bundles_scanned: 0,
        entries: vec![],
        findings: vec![],
    };
    match scan(src, log, station, &mut r) {
        Ok(()) => {}
        Err(Error::Failed(f)) => r.findings.push(f),
        Err(e) => return Err(e),
    }
    r.verified = r.findings.is_empty();
    Ok(r)
}

/// An entry found by the scan: index, bytes, parsed.
type Hit = (u64, Vec<u8>, SignedEntry);

fn scan(src: &dyn Source, log: &LogKey, station: &str, r: &mut InclusionReport) -> Result<()> {
    let cp = fetch_checkpoint(src, log)?;
    let size = cp.checkpoint.size;
    r.size = size;
    r.root = cp.checkpoint.root.to_base64();
    let n = bundle_count(size);
    r.bundles_scanned = n;
    // Scan the bundles in parallel; keep entry 0 and the station's entries.
    let found: Vec<Result<Vec<Hit>>> = (0..n)
        .into_par_iter()
        .map(|b| {
            let (_, entries) = fetch_bundle(src, b, size)?;
            Ok(entries
                .into_iter()
                .enumerate()
                .filter_map(|(i, bytes)| {
                    let index = b * u64::from(TILE_WIDTH) + i as u64;
                    let parsed = SignedEntry::parse(&bytes).ok()?;
                    (index == 0 || station_of(&parsed.entry) == Some(station))
                        .then_some((index, bytes, parsed))
                })
                .collect())
        })
        .collect();
    let mut hits = Vec::new();
    for f in found {
        hits.extend(f?);
    }
    let tiles = TileFetcher::new(src, size);
    let prove = |index: u64, bytes: &[u8]| -> Result<bool> {
        let path = merkle::prove_inclusion(index, size, &tiles).map_err(merkle_err)?;
        Ok(
            merkle::verify_inclusion(&leaf_hash(bytes), index, size, &path, &cp.checkpoint.root)
                .is_ok(),
        )
    };
    // Entry 0 (the manifest commitment) anchors the manifest, hence the
    // authority key that registers station keys.
    let mut manifest = None;
    if let Some((0, bytes, e0)) = hits.first() {
        if prove(0, bytes)? {
            manifest = manifest_for(src, e0)?;
        } else {
            r.findings.push(
                Finding::new(
                    "proof.inclusion-failed",
                    "entry 0 (the manifest commitment) is not in the tree the checkpoint signs",
                )
                .at_entry(0),
            );
        }
    }
    let mut key: Option<VerifierKey> = None;
    let mut tallies = 0;
    for (index, bytes, signed) in hits
        .iter()
        .filter(|h| station_of(&h.2.entry) == Some(station))
    {
        let included = prove(*index, bytes)?;
        if !included {
            r.findings.push(
                Finding::new(
                    "proof.inclusion-failed",
                    format!("entry {index}: not in the tree the checkpoint signs (the tiles or the bundle are wrong)"),
                )
                .at_entry(*index),
            );
        }
        let signer = match &signed.entry {
            Entry::Tally(_) => {
                tallies += 1;
                key.clone()
            }
            _ => manifest.as_ref().map(|m| m.authority().clone()),
        };
        let signature = match &signer {
            None => "not checked (no verified manifest or registered key)".to_string(),
            Some(k) => match validate::verify_signature(signed, k) {
                Ok(()) => format!("valid ({})", k.name()),
                Err(e) => {
                    r.findings.push(
                        Finding::new(e.code().as_str(), format!("entry {index}: {}", e.message()))
                            .at_entry(*index),
                    );
                    format!("INVALID: {e}")
                }
            },
        };
        match &signed.entry {
            Entry::StationKey(k) => key = VerifierKey::parse(&k.key).ok(),
            Entry::StationKeyRevocation(_) => key = None,
            _ => {}
        }
        r.entries.push(StationEntry {
            index: *index,
            leaf: leaf_hash(bytes).to_hex(),
            kind: signed.entry.kind().type_line().to_string(),
            included,
            signature,
            entry: entry_json(&signed.entry),
        });
    }
    if tallies == 0 {
        r.findings.push(Finding::new(
            "station.no-tally",
            format!("station {station} has no tally in the log's tree of size {size}"),
        ));
    }
    Ok(())
}
