//! `runoff`: a second round's manifest against the first round's log
//! (spec/verification.md §9, spec/manifest.md §6).
//!
//! The first round is read from its public read path under its log key:
//! the newest signed checkpoint, the tree's tiles (authenticated by that
//! checkpoint's root), entry 0 and the manifest it commits to, the root of
//! the tree at the size the second round names, and the final announcement
//! at the index it names, proven included in that tree. The core's
//! [`check_runoff_manifest`] then recomputes the second round's manifest
//! from them. `tallyboard runoff manifest` reads the first round the same
//! way ([`read_first_round`]) before deriving a manifest, so what the
//! command writes is what this step accepts.

use crate::procedure::checkpoint::fetch_checkpoint;
use crate::procedure::manifest::manifest;
use crate::procedure::station::prove;
use crate::procedure::{CheckId, Verification};
use crate::tiles::{bundle_count, fetch_bundle, merkle_err, read_entries, TileFetcher};
use crate::{Error, Finding, LogKey, Report, Result, Source};
use serde::Serialize;
use tallyboard_core::checkpoint::Checkpoint;
use tallyboard_core::entry::{Announcement, AnnouncementStatus, Entry, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::manifest::runoff::check_runoff_manifest;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{prove_consistency, tree_hash, verify_consistency, HashReader};
use tallyboard_core::rules::Status;
use tallyboard_core::ErrorCode;
use tallyboard_core::Hash;

/// Which final announcement of the first round to read.
#[derive(Clone, Debug, Default)]
pub struct Pick {
    /// Its index; without it, the latest final announcement (of `contest`,
    /// if given; else the latest whose outcome is a runoff).
    pub index: Option<u64>,
    /// The contest.
    pub contest: Option<String>,
    /// The tree size to rest on (at most the newest checkpoint's); without
    /// it, the newest checkpoint.
    pub size: Option<u64>,
}

/// What a second round rests on, read from the first round's log.
#[derive(Clone, Debug)]
pub struct FirstRound {
    /// The first round's manifest, committed by its entry 0.
    pub manifest: ValidatedManifest,
    /// The checkpoint rested on: a size and the root of the tree of that
    /// size, tied to the newest signed checkpoint by its tiles.
    pub checkpoint: Checkpoint,
    /// The final announcement's index.
    pub index: u64,
    /// The final announcement.
    pub announcement: Announcement,
}

/// The tiles of the newest tree, read as the procedure's steps read
/// hashes: a tile that cannot be read is a `tile.malformed` proof failure.
/// Every hash read is tied to a signed root afterwards (the root of the
/// newest tree, and a consistency proof to the size rested on).
struct Tiles<'a>(TileFetcher<'a>);

/// A tile the proofs needed and could not read.
#[derive(Debug)]
struct Unreadable;

impl Coded for Unreadable {
    fn code(&self) -> ErrorCode {
        ErrorCode::TileMalformed
    }
}

impl HashReader for Tiles<'_> {
    type Error = Unreadable;
    fn read_hash(&self, index: u64) -> std::result::Result<Hash, Unreadable> {
        self.0.read_hash(index).map_err(|_| Unreadable)
    }
}

fn failed(code: &str, message: impl Into<String>) -> Error {
    Error::Failed(Finding::new(code, message))
}

/// Reads the first round (module documentation). Whether the
/// announcement is final and a runoff, the derivation decides.
///
/// # Errors
/// [`Error::Failed`] with the code of what did not hold
/// (`runoff.checkpoint-mismatch` for a size beyond the log or an entry that
/// is not an announcement, the manifest step's code, a proof's code);
/// [`Error::CouldNotRun`] on a transport failure.
pub fn read_first_round(src: &dyn Source, log: &LogKey, pick: &Pick) -> Result<FirstRound> {
    let newest = fetch_checkpoint(src, log)?.checkpoint;
    let fetcher = TileFetcher::new(src, newest.size);
    if tree_hash(newest.size, &fetcher).map_err(merkle_err)? != newest.root {
        return Err(failed(
            "tile.root-mismatch",
            "the tiles do not hash to the signed checkpoint's root",
        ));
    }
    let size = pick.size.unwrap_or(newest.size);
    if size == 0 || size > newest.size {
        return Err(failed(
            "runoff.checkpoint-mismatch",
            format!(
                "the first round's log has {} entries, not {size}",
                newest.size
            ),
        ));
    }
    let checkpoint = Checkpoint {
        origin: newest.origin.clone(),
        size,
        root: tree_hash(size, &fetcher).map_err(merkle_err)?,
        extensions: Vec::new(),
    };
    // The smaller tree's root is the signed tree's prefix: RFC 9162
    // §2.1.4 consistency from `size` to the newest size.
    if size < newest.size {
        let proof = prove_consistency(size, newest.size, &fetcher).map_err(merkle_err)?;
        verify_consistency(size, newest.size, &checkpoint.root, &newest.root, &proof).map_err(
            |e| {
                failed(
                    e.code().as_str(),
                    format!("the tree of size {size} is not a prefix of the signed tree"),
                )
            },
        )?;
    }
    let tiles = Tiles(fetcher);
    let mut v = Verification::planned(vec![CheckId::Manifest]);
    // Entries are read from the bundles of the newest tree (a read path
    // keeps only its current partial bundle) and proven in the tree of `size`.
    let served_size = newest.size;
    let entry0 = read_entries(src, served_size, &[0])?;
    let Some(first) = manifest(&mut v, src, &tiles, &checkpoint, log, &entry0)? else {
        let code = v
            .check(CheckId::Manifest)
            .and_then(|c| c.code.clone())
            .unwrap_or_else(|| "manifest.not-committed".into());
        return Err(failed(&code, "the first round's manifest did not verify"));
    };
    let index = match pick.index {
        Some(i) => i,
        None => find_final(src, size, served_size, pick.contest.as_deref())?,
    };
    if index >= size {
        return Err(failed(
            "runoff.checkpoint-mismatch",
            format!("entry {index} is not below the size {size}"),
        ));
    }
    let served = read_entries(src, served_size, &[index])?;
    let bytes = match served.into_iter().next().map(|e| e.bytes) {
        Some(Ok(b)) => b,
        Some(Err(f)) => return Err(Error::Failed(f)),
        None => return Err(failed("runoff.checkpoint-mismatch", "no entry read")),
    };
    prove(&tiles, &bytes, index, &checkpoint).map_err(|code| {
        failed(
            code,
            format!("entry {index} is not proven included in the tree of size {size}"),
        )
    })?;
    let announcement = match SignedEntry::parse(&bytes).map(|s| s.entry) {
        Ok(Entry::Announcement(a)) => a,
        Ok(_) => {
            return Err(failed(
                "runoff.checkpoint-mismatch",
                format!("entry {index} is not an announcement"),
            ))
        }
        Err(e) => return Err(failed(e.code().as_str(), e.to_string())),
    };
    not_reopened(src, size, served_size, index, &bytes)?;
    Ok(FirstRound {
        manifest: first,
        checkpoint,
        index,
        announcement,
    })
}

/// The index of the latest final announcement below `size` (of `contest`,
/// or else the latest whose outcome is a runoff), read backwards one entry
/// bundle at a time: the finals come at the end of a round.
fn find_final(src: &dyn Source, size: u64, served_size: u64, contest: Option<&str>) -> Result<u64> {
    let width = u64::from(tallyboard_core::tile::TILE_WIDTH);
    for n in (0..bundle_count(size)).rev() {
        let (_, entries) = fetch_bundle(src, n, served_size)?;
        for (k, bytes) in entries.iter().enumerate().rev() {
            if n * width + k as u64 >= size {
                continue;
            }
            let Ok(Entry::Announcement(a)) = SignedEntry::parse(bytes).map(|s| s.entry) else {
                continue;
            };
            let fits = match contest {
                Some(c) => a.statement.contest == c,
                None => a.statement.outcome == Status::Runoff,
            };
            if a.status == AnnouncementStatus::Final && fits {
                return Ok(n * width + k as u64);
            }
        }
    }
    Err(failed(
        "runoff.no-runoff",
        match contest {
            Some(c) => format!("the first round's log holds no final announcement of {c}"),
            None => "the first round's log holds no final announcement of a runoff".into(),
        },
    ))
}

/// A second round follows a final in force: one the supervisor reopened
/// below `size` (spec/announcements.md §6) called for nothing yet, whatever
/// it said. Reads the entries after `index`, one bundle at a time.
fn not_reopened(
    src: &dyn Source,
    size: u64,
    served_size: u64,
    index: u64,
    announcement: &[u8],
) -> Result<()> {
    let width = u64::from(tallyboard_core::tile::TILE_WIDTH);
    let leaf = tallyboard_core::hash::leaf_hash(announcement);
    for n in index / width..bundle_count(size) {
        let (_, entries) = fetch_bundle(src, n, served_size)?;
        for (k, bytes) in entries.iter().enumerate() {
            let at = n * width + k as u64;
            if at <= index || at >= size {
                continue;
            }
            if let Ok(Entry::Reopening(r)) = SignedEntry::parse(bytes).map(|s| s.entry) {
                if r.final_leaf == leaf {
                    return Err(failed(
                        "runoff.not-final",
                        format!(
                            "the final announcement at entry {index} was reopened at entry {at}"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The report of `runoff`.
#[derive(Debug, Serialize)]
pub struct RunoffReport {
    /// Always `runoff`.
    pub command: &'static str,
    /// Whether the second round's manifest is the derivation.
    pub verified: bool,
    /// The second round's election and manifest SHA-256.
    pub election: String,
    /// The second round's manifest SHA-256 (hex).
    pub manifest_sha256: String,
    /// The first round's source.
    pub first_source: String,
    /// The first round's election.
    pub first_election: String,
    /// The checkpoint named: size and root (base64).
    pub checkpoint_size: u64,
    /// The root.
    pub checkpoint_root: String,
    /// The final announcement's index.
    pub announcement: u64,
    /// Its contest and the runoff candidates.
    pub contest: String,
    /// The runoff candidates.
    pub runoff: Vec<u32>,
    /// Discrepancies.
    pub findings: Vec<Finding>,
}

impl Report for RunoffReport {
    fn verified(&self) -> bool {
        self.verified
    }
    fn human(&self) -> String {
        let mut s = format!(
            "runoff: election {} (manifest sha256 {}): {}\n",
            self.election,
            self.manifest_sha256,
            if self.verified { "VERIFIED" } else { "FAILED" }
        );
        s.push_str(&format!(
            "  first round {} from {}: final announcement of {} at entry {}, included in the tree of size {} (root {})\n",
            self.first_election,
            self.first_source,
            self.contest,
            self.announcement,
            self.checkpoint_size,
            self.checkpoint_root
        ));
        if self.verified {
            s.push_str(&format!(
                "  the manifest is exactly the second round this announcement calls (runoff among {:?})\n",
                self.runoff
            ));
        }
        for f in &self.findings {
            s.push_str(&format!("  {f}\n"));
        }
        s
    }
}

/// Checks a second round's manifest bytes against the first round read
/// from `src` under `log` (the first round's log key).
///
/// # Errors
/// [`Error::CouldNotRun`] on a transport failure; every discrepancy is a
/// finding of a report that is not verified.
pub fn run(second: &[u8], src: &dyn Source, log: &LogKey) -> Result<RunoffReport> {
    let second = ValidatedManifest::from_bytes(second).map_err(|e| {
        failed(
            e.code().as_str(),
            format!("the second round's manifest: {e}"),
        )
    })?;
    let sm = second.manifest();
    let mut report = RunoffReport {
        command: "runoff",
        verified: false,
        election: sm.election.id.clone(),
        manifest_sha256: second.digest().to_hex(),
        first_source: src.describe(),
        first_election: String::new(),
        checkpoint_size: 0,
        checkpoint_root: String::new(),
        announcement: 0,
        contest: String::new(),
        runoff: Vec::new(),
        findings: Vec::new(),
    };
    let Some(r) = &sm.previous_round else {
        report.findings.push(Finding::new(
            "runoff.no-reference",
            "the manifest names no previous round",
        ));
        return Ok(report);
    };
    report.first_election = r.election.clone();
    report.checkpoint_size = r.checkpoint.size;
    report.checkpoint_root = r.checkpoint.root.clone();
    report.announcement = r.announcement;
    if log.origin != r.origin {
        report.findings.push(Finding::new(
            "runoff.checkpoint-mismatch",
            format!(
                "the first round's log key is for origin {}, the manifest names {}",
                log.origin, r.origin
            ),
        ));
        return Ok(report);
    }
    let pick = Pick {
        index: Some(r.announcement),
        contest: None,
        size: Some(r.checkpoint.size),
    };
    let first = match read_first_round(src, log, &pick) {
        Ok(f) => f,
        Err(Error::Failed(f)) => {
            report.findings.push(f);
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    report.contest = first.announcement.statement.contest.clone();
    report.runoff = first.announcement.statement.runoff.clone();
    if Some(first.checkpoint.root) != Hash::from_base64(&r.checkpoint.root) {
        report.findings.push(Finding::new(
            "runoff.checkpoint-mismatch",
            format!(
                "the first round's tree of size {} has root {}, the manifest names {}",
                r.checkpoint.size,
                first.checkpoint.root.to_base64(),
                r.checkpoint.root
            ),
        ));
        return Ok(report);
    }
    match check_runoff_manifest(
        &second,
        &first.manifest,
        &first.announcement,
        &first.checkpoint,
    ) {
        Ok(()) => report.verified = true,
        Err(e) => report
            .findings
            .push(Finding::new(e.code().as_str(), e.message()).at_entry(first.index)),
    }
    Ok(report)
}
