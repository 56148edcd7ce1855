//! `inclusion <station>`: the station's entries in the log at a verified
//! checkpoint, each proven included from tiles and signed by the key its
//! kind requires, with the figures a citizen compares with the minutes
//! posted at the station (spec/verification.md §4).
//!
//! This module only finds the station's entries; the checks are the
//! procedure's ([`crate::procedure`]), the same the browser runs.
//!
//! Cost: the read path has no trusted index by station, so every entry
//! bundle is scanned (at 59,000 stations: about 118,000 entries in about
//! 460 bundles, some 70 MB); the inclusion proofs then need only
//! O(log n) hashes from a handful of tiles.

use crate::entry_fields::station_of;
use crate::procedure::checkpoint::fetch;
use crate::procedure::station::{StationClaims, StationEntry};
use crate::procedure::{verify_after_checkpoint, Check, Trust, Verification};
use crate::tiles::{bundle_count, fetch_bundle, ServedEntry};
use crate::{english, Error, Finding, LogKey, Report, Result, Source};
use rayon::prelude::*;
use serde::Serialize;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::policy::Policy;
use tallyboard_core::tile::TILE_WIDTH;

/// The report of `inclusion`.
#[derive(Debug, Serialize)]
pub struct InclusionReport {
    /// Always `inclusion`.
    pub command: &'static str,
    /// Whether every entry is included and validly signed, every tally adds
    /// up, and at least one tally exists.
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
    /// The procedure's checks.
    pub checks: Vec<Check>,
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
            s.push_str(&english::station_entry(e));
        }
        s.push('\n');
        s.push_str(&english::lines(&self.checks));
        s.push_str(if self.verified {
            "\nVERIFIED: compare the figures above with the minutes posted at the station.\n"
        } else {
            "\nFAILED\n"
        });
        s
    }
}

/// Runs `inclusion` for `station` without a witness policy.
pub fn run(src: &dyn Source, log: &LogKey, station: &str) -> Result<InclusionReport> {
    run_with_policy(src, log, None, station)
}

/// Runs `inclusion` for `station`; with a policy, the checkpoint must meet
/// its witness quorum.
pub fn run_with_policy(
    src: &dyn Source,
    log: &LogKey,
    policy: Option<&Policy>,
    station: &str,
) -> Result<InclusionReport> {
    let trust = Trust {
        log,
        policy,
        key_source: None,
        committed_policy: false,
    };
    let mut v = Verification::for_station(false);
    let mut bundles_scanned = 0;
    if let Some(cp) = fetch(&mut v, src, log)? {
        let size = cp.checkpoint.size;
        bundles_scanned = bundle_count(size);
        let (entry0, claims) = scan(src, size, station)?;
        verify_after_checkpoint(&mut v, src, &trust, &cp, &entry0, Some(&claims))?;
    }
    let v = v.finish();
    Ok(InclusionReport {
        command: "inclusion",
        verified: v.verified,
        station: station.to_string(),
        size: v.size,
        root: v.root.clone(),
        bundles_scanned,
        findings: english::findings(&v.checks),
        entries: v.entries,
        checks: v.checks,
    })
}

/// What the scan found at an index.
enum Claim {
    /// One of the station's key registrations or revocations.
    KeyEntry,
    /// Another of the station's entries, or an unreadable bundle.
    Entry,
    /// Entry 0, not the station's.
    ManifestOnly,
}

/// Scans every bundle of the tree of `size` (in parallel) for entry 0 and
/// the entries naming `station`. A bundle that cannot be read is claimed
/// as an unreadable entry at its first index, so that the station's
/// verification fails rather than missing what it holds.
fn scan(src: &dyn Source, size: u64, station: &str) -> Result<(Vec<ServedEntry>, StationClaims)> {
    let width = u64::from(TILE_WIDTH);
    let claim = |index: u64, bytes: &[u8]| {
        let parsed = SignedEntry::parse(bytes).ok();
        match parsed.as_ref().map(|p| (&p.entry, station_of(&p.entry))) {
            Some((Entry::StationKey(_) | Entry::StationKeyRevocation(_), Some(s)))
                if s == station =>
            {
                Some(Claim::KeyEntry)
            }
            Some((_, Some(s))) if s == station => Some(Claim::Entry),
            _ => (index == 0).then_some(Claim::ManifestOnly),
        }
    };
    let found: Vec<Result<Vec<(ServedEntry, Claim)>>> = (0..bundle_count(size))
        .into_par_iter()
        .map(|b| match fetch_bundle(src, b, size) {
            Ok((_, entries)) => Ok(entries
                .into_iter()
                .enumerate()
                .filter_map(|(i, bytes)| {
                    let index = b * width + i as u64;
                    let c = claim(index, &bytes)?;
                    Some((
                        ServedEntry {
                            index,
                            bytes: Ok(bytes),
                        },
                        c,
                    ))
                })
                .collect()),
            Err(Error::Failed(f)) => Ok(vec![(
                ServedEntry {
                    index: b * width,
                    bytes: Err(f),
                },
                Claim::Entry,
            )]),
            Err(e) => Err(e),
        })
        .collect();
    let mut entry0 = Vec::new();
    let mut claims = StationClaims {
        station: station.to_string(),
        focus: None,
        key_entries: vec![],
        entries: vec![],
    };
    for bundle in found {
        for (served, c) in bundle? {
            if served.index == 0 {
                entry0.push(served.clone());
            }
            match c {
                Claim::KeyEntry => claims.key_entries.push(served),
                Claim::Entry => claims.entries.push(served),
                Claim::ManifestOnly => {}
            }
        }
    }
    Ok((entry0, claims))
}
