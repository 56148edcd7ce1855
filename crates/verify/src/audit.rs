//! `audit`: the full audit of a log from its read path alone
//! (spec/verification.md §6): checkpoint, every entry, every tile, the
//! manifest, every signature and rule, and the totals.

use crate::replay::{self, ContestTotals};
use crate::tiles::{bundle_count, fetch_bundle, fetch_checkpoint, fetch_tile, needed_width};
use crate::{Error, Finding, LogKey, Report, Result, Source};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;
use tallyboard_core::entry::announcement;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{self, MemoryLog};
use tallyboard_core::standing::{self, Rebuilt, StandingResults};
use tallyboard_core::tile::{read_tile, tiles_for_size, TileHashReader, TileId, HASH_SIZE};
use tallyboard_core::validate::ValidationError;
use tallyboard_core::Hash;

/// Where the tallyboard manifest is published, relative to the log prefix.
pub const MANIFEST_PATH: &str = "api/v1/manifest.json";

/// At most this many findings are listed (the total is always given).
pub const MAX_LISTED_FINDINGS: usize = 1000;

/// Seconds spent in each phase.
#[derive(Debug, Default, Serialize)]
pub struct Timings {
    /// Fetching and decoding entry bundles.
    pub fetch_entries: f64,
    /// Leaf hashes and the root.
    pub hash: f64,
    /// Fetching and comparing tiles.
    pub tiles: f64,
    /// Re-validating every entry (signatures and rules) and the totals.
    pub replay: f64,
    /// Everything.
    pub total: f64,
    /// With `--baseline`: raw Ed25519 `verify_strict` of the same
    /// signatures, on the same threads, in the same run (parsing excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_verify_strict: Option<f64>,
    /// `total / baseline_verify_strict` (issue 4's goal: at most 1.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_baseline: Option<f64>,
}

/// One figure an announcement states differently from the recomputation.
#[derive(Clone, Debug, Serialize)]
pub struct FigureDifference {
    /// The figure (`valid`, `vote 11`, `elected`, ...).
    pub figure: String,
    /// As announced in the entry.
    pub announced: String,
    /// As recomputed from the log's entries below the announcement's size.
    pub expected: String,
}

/// The re-check of one announcement entry.
#[derive(Clone, Debug, Serialize)]
pub struct AnnouncementCheck {
    /// The entry's index.
    pub index: u64,
    /// Contest id.
    pub contest: String,
    /// The log size it binds the results to.
    pub size: u64,
    /// `partial` or `final`.
    pub status: String,
    /// Whether it validated (figures equal the recomputation; for final, a
    /// matching contest approval logged before it).
    pub valid: bool,
    /// Every figure that differs from the recomputation (empty if none).
    pub differences: Vec<FigureDifference>,
}

/// Counts of the supervisor and authority decisions that validated.
#[derive(Debug, Default, Serialize)]
pub struct DecisionCounts {
    /// Tally approvals.
    pub approvals: u64,
    /// Box annulments.
    pub annulments: u64,
    /// Contest approvals.
    pub contest_approvals: u64,
    /// Lot draws.
    pub lot_draws: u64,
    /// Announcements.
    pub announcements: u64,
}

/// The report of `audit`.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    /// Always `audit`.
    pub command: &'static str,
    /// Whether everything checked.
    pub verified: bool,
    /// The source read.
    pub source: String,
    /// The checkpoint's origin.
    pub origin: String,
    /// The checkpoint's size (entries audited).
    pub size: u64,
    /// The checkpoint's root (base64).
    pub root: String,
    /// Entry bundles read.
    pub bundles: u64,
    /// Hash tiles read and compared.
    pub tiles: u64,
    /// The election, from the manifest.
    pub election: Option<String>,
    /// The manifest's SHA-256 (hex), as committed in entry 0.
    pub manifest_sha256: Option<String>,
    /// Entries that validated.
    pub entries_valid: u64,
    /// Entry signatures verified.
    pub signatures_checked: u64,
    /// Stations in the manifest.
    pub stations_expected: u64,
    /// Stations with at least one valid tally.
    pub stations_reported: u64,
    /// Per-contest totals (standing: annulled boxes excluded).
    pub contests: Vec<ContestTotals>,
    /// Supervisor and authority decisions that validated.
    pub decisions: DecisionCounts,
    /// Every announcement entry, re-checked against the standing totals
    /// recomputed at its size.
    pub announcements: Vec<AnnouncementCheck>,
    /// Witness quorum: not checked yet (issue 4).
    pub witness_quorum: &'static str,
    /// How many findings there were.
    pub findings_total: usize,
    /// The findings (at most [`MAX_LISTED_FINDINGS`]).
    pub findings: Vec<Finding>,
    /// Seconds per phase.
    pub timings: Timings,
}

impl AuditReport {
    fn push(&mut self, f: Finding) {
        self.findings_total += 1;
        if self.findings.len() < MAX_LISTED_FINDINGS {
            self.findings.push(f);
        }
    }
}

impl Report for AuditReport {
    fn verified(&self) -> bool {
        self.verified
    }

    fn human(&self) -> String {
        let mut s = format!(
            "audit of {} ({})\n  checkpoint: size {}, root {}\n  entries: {} in {} bundles, {} valid, {} signatures re-verified\n  tiles: {} compared with the recomputed tree\n",
            self.source,
            self.origin,
            self.size,
            self.root,
            self.size,
            self.bundles,
            self.entries_valid,
            self.signatures_checked,
            self.tiles
        );
        if let (Some(e), Some(m)) = (&self.election, &self.manifest_sha256) {
            s.push_str(&format!("  election {e}, manifest sha256 {m}\n"));
        }
        s.push_str(&format!(
            "  stations reported: {} of {}\n  witness quorum: {}\n",
            self.stations_reported, self.stations_expected, self.witness_quorum
        ));
        for c in &self.contests {
            s.push_str(&format!(
                "\n  contest {} ({}), {} seat(s): {} of {} stations reported, {} revised\n",
                c.contest,
                c.name_en,
                c.seats,
                c.standing.stations,
                c.stations_expected,
                c.stations_revised
            ));
            s.push_str(&format!(
                "    ballots in box {}, valid {}, void taken {}, void not taken {}\n",
                c.standing.ballots_in_box,
                c.standing.valid,
                c.standing.void_taken,
                c.standing.void_not_taken
            ));
            s.push_str("    candidate                                  standing      %   counted (first tallies)\n");
            for (code, en, _fa) in &c.candidates {
                let st = c.standing.votes.get(code).copied().unwrap_or(0);
                let co = c.counted.votes.get(code).copied().unwrap_or(0);
                let pct = if c.standing.valid > 0 {
                    100.0 * st as f64 / c.standing.valid as f64
                } else {
                    0.0
                };
                s.push_str(&format!(
                    "    {code:>4} {en:<36} {st:>10} {pct:>6.2} {co:>10}\n"
                ));
            }
        }
        s.push_str(&format!(
            "\n  decisions: {} approvals, {} annulments, {} contest approvals, {} lot draws, {} announcements\n",
            self.decisions.approvals,
            self.decisions.annulments,
            self.decisions.contest_approvals,
            self.decisions.lot_draws,
            self.decisions.announcements
        ));
        for a in &self.announcements {
            s.push_str(&format!(
                "  announcement at entry {}: contest {} size {} {}: {}\n",
                a.index,
                a.contest,
                a.size,
                a.status,
                if a.valid {
                    "every figure equals the recomputation"
                } else if a.differences.is_empty() {
                    "REFUSED (see findings)"
                } else {
                    "DIFFERS from the recomputation"
                }
            ));
            for d in &a.differences {
                s.push_str(&format!(
                    "    {}: announced {}, recomputed {}\n",
                    d.figure, d.announced, d.expected
                ));
            }
        }
        s.push('\n');
        if self.verified {
            if let (Some(b), Some(x)) = (
                self.timings.baseline_verify_strict,
                self.timings.ratio_to_baseline,
            ) {
                s.push_str(&format!(
                    "timing: audit {:.2} s, raw verify_strict of the same {} signatures {:.2} s, ratio {:.2}\n",
                    self.timings.total, self.signatures_checked, b, x
                ));
            }
            s.push_str("VERDICT: VERIFIED: every entry, tile, signature and rule checks, and the totals above are recomputed from the log alone.\n");
        } else {
            s.push_str(&format!(
                "VERDICT: FAILED: {} finding(s)\n",
                self.findings_total
            ));
            for f in &self.findings {
                s.push_str(&format!("  {f}\n"));
            }
            if self.findings_total > self.findings.len() {
                s.push_str(&format!(
                    "  ... and {} more\n",
                    self.findings_total - self.findings.len()
                ));
            }
        }
        s
    }
}

fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    a.chunks(HASH_SIZE)
        .zip(b.chunks(HASH_SIZE))
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then_some(a.len().min(b.len()) / HASH_SIZE))
}

fn hash_at(body: &[u8], pos: usize) -> String {
    body.get(pos * HASH_SIZE..(pos + 1) * HASH_SIZE)
        .map(hex::encode)
        .unwrap_or_else(|| "(missing)".into())
}

/// Runs the full audit.
pub fn run(src: &dyn Source, log: &LogKey) -> Result<AuditReport> {
    run_with(src, log, false)
}

/// Raw Ed25519 `verify_strict` over every entry's signature by its required
/// signer (authority, or the station key registered in the log), parallel
/// on rayon's threads like the replay; returns seconds and how many.
pub fn baseline(entries: &[Vec<u8>], manifest: &ValidatedManifest) -> (f64, u64) {
    let parsed: Vec<SignedEntry> = entries
        .par_iter()
        .filter_map(|e| SignedEntry::parse(e).ok())
        .collect();
    let mut station_keys = std::collections::HashMap::new();
    for p in &parsed {
        if let Entry::StationKey(k) = &p.entry {
            if let Ok(v) = tallyboard_core::note::VerifierKey::parse(&k.key) {
                station_keys.insert(k.station.clone(), v);
            }
        }
    }
    let jobs: Vec<(&tallyboard_core::note::VerifierKey, &[u8], &[u8])> = parsed
        .iter()
        .filter_map(|p| {
            let key = match &p.entry {
                Entry::Tally(t) => station_keys.get(&t.station)?,
                Entry::Approval(_) | Entry::Annulment(_) | Entry::ContestApproval(_) => {
                    manifest.supervisors().iter().find(|k| {
                        p.note
                            .signatures
                            .iter()
                            .any(|s| s.name == k.name() && s.key_id == k.key_id())
                    })?
                }
                _ => manifest.authority(),
            };
            let sig = p.note.signatures.iter().find(|s| s.name == key.name())?;
            Some((key, p.note.text.as_bytes(), sig.signature.as_slice()))
        })
        .collect();
    let t = Instant::now();
    let good = jobs
        .par_iter()
        .filter(|(k, msg, sig)| k.verify(msg, sig))
        .count();
    (t.elapsed().as_secs_f64(), good as u64)
}

/// Runs the full audit; with `measure_baseline`, also times raw
/// `verify_strict` of the same signatures ([`baseline`]).
pub fn run_with(src: &dyn Source, log: &LogKey, measure_baseline: bool) -> Result<AuditReport> {
    let t0 = Instant::now();
    let mut r = AuditReport {
        command: "audit",
        verified: false,
        source: src.describe(),
        origin: log.origin.clone(),
        size: 0,
        root: String::new(),
        bundles: 0,
        tiles: 0,
        election: None,
        manifest_sha256: None,
        entries_valid: 0,
        signatures_checked: 0,
        stations_expected: 0,
        stations_reported: 0,
        contests: vec![],
        decisions: DecisionCounts::default(),
        announcements: vec![],
        witness_quorum: "not checked (no witness policy yet)",
        findings_total: 0,
        findings: vec![],
        timings: Timings::default(),
    };

    // 1. The checkpoint.
    let cp = match fetch_checkpoint(src, log) {
        Ok(cp) => cp,
        Err(Error::Failed(f)) => {
            r.push(f);
            r.timings.total = t0.elapsed().as_secs_f64();
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    let size = cp.checkpoint.size;
    r.size = size;
    r.root = cp.checkpoint.root.to_base64();

    // 2. Every entry bundle.
    let t = Instant::now();
    let n_bundles = bundle_count(size);
    r.bundles = n_bundles;
    let fetched: Vec<Result<(String, Vec<Vec<u8>>)>> = (0..n_bundles)
        .into_par_iter()
        .map(|n| fetch_bundle(src, n, size))
        .collect();
    let mut entries: Vec<Vec<u8>> = Vec::with_capacity(size as usize);
    let mut bundle_paths = Vec::with_capacity(n_bundles as usize);
    let mut complete = true;
    for f in fetched {
        match f {
            Ok((path, es)) => {
                bundle_paths.push(path);
                entries.extend(es);
            }
            Err(Error::Failed(f)) => {
                complete = false;
                r.push(f);
            }
            Err(e) => return Err(e),
        }
    }
    r.timings.fetch_entries = t.elapsed().as_secs_f64();

    // 3. Leaf hashes and the root.
    let t = Instant::now();
    let mut mem = MemoryLog::new();
    let mut entries_root_ok = false;
    if complete {
        for leaf in replay::leaf_hashes(&entries) {
            mem.append(leaf)
                .map_err(|e| Error::CouldNotRun(format!("building the tree: {e}")))?;
        }
        entries_root_ok = mem.root() == cp.checkpoint.root;
        if !entries_root_ok {
            r.push(
                Finding::new(
                    "audit.root-mismatch",
                    format!(
                        "the {size} entries served hash to root {}, but the signed checkpoint says {}",
                        mem.root().to_base64(),
                        cp.checkpoint.root.to_base64()
                    ),
                )
                .at_path("checkpoint"),
            );
        }
    }
    r.timings.hash = t.elapsed().as_secs_f64();

    // 4. Every tile, against the checkpoint and the recomputed tree.
    let t = Instant::now();
    let wanted = tiles_for_size(size);
    r.tiles = wanted.len() as u64;
    let bodies: Vec<Result<(TileId, Vec<u8>)>> = wanted
        .par_iter()
        .map(|id| fetch_tile(src, id.level, id.index, size))
        .collect();
    let mut from_tiles = TileHashReader::new(size);
    let mut served: Vec<(TileId, TileId, Vec<u8>)> = Vec::new();
    let mut tiles_complete = true;
    for (id, b) in wanted.iter().zip(bodies) {
        match b {
            Ok((read, body)) => {
                if let Err(e) = from_tiles.add_tile(&read, &body) {
                    tiles_complete = false;
                    r.push(Finding::new(e.code().as_str(), e.to_string()).at_path(read.path()));
                    continue;
                }
                let need = usize::from(needed_width(id.level, id.index, size)) * HASH_SIZE;
                served.push((*id, read, body[..need.min(body.len())].to_vec()));
            }
            Err(Error::Failed(f)) => {
                tiles_complete = false;
                r.push(f);
            }
            Err(e) => return Err(e),
        }
    }
    let tiles_root_ok = tiles_complete
        && match merkle::tree_hash(size, &from_tiles) {
            Ok(root) if root == cp.checkpoint.root => true,
            Ok(root) => {
                r.push(
                    Finding::new(
                        "audit.tiles-root-mismatch",
                        format!(
                            "the tiles served hash to root {}, but the signed checkpoint says {}",
                            root.to_base64(),
                            cp.checkpoint.root.to_base64()
                        ),
                    )
                    .at_path("tile/"),
                );
                false
            }
            Err(e) => {
                r.push(Finding::new("tile.malformed", format!("tiles: {e}")));
                false
            }
        };
    if complete {
        for (id, read, body) in &served {
            let want = read_tile(id, size, &mem)
                .map_err(|e| Error::CouldNotRun(format!("recomputing {}: {e}", id.path())))?;
            let Some(pos) = first_diff(body, &want) else {
                continue;
            };
            let blame = if entries_root_ok {
                "the entries reproduce the checkpoint's root, so the tile is wrong"
            } else if tiles_root_ok {
                "the tiles reproduce the checkpoint's root, so the entry is wrong"
            } else {
                "neither the entries nor the tiles reproduce the checkpoint's root"
            };
            let f = if id.level == 0 {
                let index = id.index * 256 + pos as u64;
                let bundle = bundle_paths
                    .get((id.index) as usize)
                    .cloned()
                    .unwrap_or_default();
                Finding::new(
                    "audit.tile-mismatch",
                    format!(
                        "entry {index} (in {bundle}) has leaf hash {}, but {} holds {} at position {pos}: {blame}",
                        hash_at(&want, pos),
                        read.path(),
                        hash_at(body, pos)
                    ),
                )
                .at_entry(index)
            } else {
                Finding::new(
                    "audit.tile-mismatch",
                    format!(
                        "{} holds {} at position {pos}; the tree recomputed from the entries has {}: {blame}",
                        read.path(),
                        hash_at(body, pos),
                        hash_at(&want, pos)
                    ),
                )
            };
            r.push(f.at_path(read.path()));
        }
    }
    r.timings.tiles = t.elapsed().as_secs_f64();

    // 5. The manifest, committed to by entry 0.
    let t = Instant::now();
    let manifest = if complete {
        check_manifest(src, log, &entries, &mut r)?
    } else {
        None
    };

    // 6. Replay every entry, then the totals.
    if let Some(m) = &manifest {
        let out = replay::replay(&entries, m);
        r.entries_valid = out.accepted;
        r.signatures_checked = out.signatures;
        for f in out.findings {
            r.push(f);
        }
        r.contests = replay::totals(&out.state, m);
        for (_, e) in &out.state.decisions {
            let d = &mut r.decisions;
            match e {
                Entry::Approval(_) => d.approvals += 1,
                Entry::Annulment(_) => d.annulments += 1,
                Entry::ContestApproval(_) => d.contest_approvals += 1,
                Entry::LotDraw(_) => d.lot_draws += 1,
                Entry::Announcement(_) => d.announcements += 1,
                _ => {}
            }
        }
        r.announcements = check_announcements(&entries, m, &out.state);
        r.stations_expected = m.manifest().stations.len() as u64;
        r.stations_reported = out
            .state
            .stations
            .values()
            .filter(|s| !s.tallies.is_empty())
            .count() as u64;
    }
    r.timings.replay = t.elapsed().as_secs_f64();
    r.timings.total = t0.elapsed().as_secs_f64();
    if let (true, Some(m)) = (measure_baseline, &manifest) {
        let (secs, _) = baseline(&entries, m);
        r.timings.baseline_verify_strict = Some(secs);
        r.timings.ratio_to_baseline = Some(r.timings.total / secs);
    }
    r.verified = r.findings_total == 0;
    Ok(r)
}

/// Recomputes the standing results at each announcement's size from the
/// entries the replay accepted below it (the same pure functions the board
/// uses: `standing::statement`, falling back to `announcement::expected`
/// over the prefix) and lists every figure that differs.
fn check_announcements(
    entries: &[Vec<u8>],
    manifest: &ValidatedManifest,
    state: &replay::Replay,
) -> Vec<AnnouncementCheck> {
    let accepted: std::collections::HashSet<u64> =
        state.decisions.iter().map(|(i, _)| *i).collect();
    let mut checks = Vec::new();
    // The standing results, walked forward to each announcement's index.
    let mut standing = StandingResults::new(manifest);
    let mut next_result = state.results_log.iter().peekable();
    let mut usable = true;
    let rebuilt = Rebuilt::default();
    for (i, bytes) in entries.iter().enumerate() {
        let index = i as u64;
        let Ok(SignedEntry {
            entry: Entry::Announcement(a),
            ..
        }) = SignedEntry::parse(bytes)
        else {
            continue;
        };
        while let Some((j, e)) = next_result.next_if(|(j, _)| *j < index) {
            usable &= standing.apply(*j, e).is_ok();
        }
        standing.advance(index);
        let s = &a.statement;
        let prefix = || -> Result<Vec<(u64, Entry)>, ValidationError> {
            Ok(state
                .results_log
                .iter()
                .take_while(|(j, _)| *j < s.size)
                .cloned()
                .collect())
        };
        let want = if s.size > index || s.size == 0 {
            None
        } else if usable {
            standing::statement(manifest, &standing, &rebuilt, &s.contest, s.size, prefix).ok()
        } else {
            prefix().ok().and_then(|p| {
                announcement::expected(manifest, p.iter().map(|(i, e)| (*i, e)), &s.contest, s.size)
                    .ok()
            })
        };
        let differences = want
            .map(|want| {
                s.differences(&want)
                    .into_iter()
                    .map(|d| FigureDifference {
                        figure: d.figure,
                        announced: d.announced,
                        expected: d.expected,
                    })
                    .collect()
            })
            .unwrap_or_default();
        checks.push(AnnouncementCheck {
            index,
            contest: s.contest.clone(),
            size: s.size,
            status: a.status.as_str().to_owned(),
            valid: accepted.contains(&index),
            differences,
        });
    }
    checks
}

/// Checks `api/v1/manifest.json` against entry 0's commitment and the log
/// key; returns the validated manifest if the replay can use it.
fn check_manifest(
    src: &dyn Source,
    log: &LogKey,
    entries: &[Vec<u8>],
    r: &mut AuditReport,
) -> Result<Option<ValidatedManifest>> {
    let Some(first) = entries.first() else {
        return Ok(None);
    };
    let committed = match SignedEntry::parse(first) {
        Ok(SignedEntry {
            entry: Entry::ManifestCommitment(c),
            ..
        }) => c,
        Ok(other) => {
            r.push(
                Finding::new(
                    "manifest.not-committed",
                    format!(
                        "entry 0 is a {}, not the manifest commitment",
                        other.entry.kind().type_line()
                    ),
                )
                .at_entry(0),
            );
            return Ok(None);
        }
        Err(e) => {
            r.push(Finding::new(e.code().as_str(), format!("entry 0: {e}")).at_entry(0));
            return Ok(None);
        }
    };
    r.manifest_sha256 = Some(committed.manifest_sha256.to_hex());
    r.election = Some(committed.election.clone());
    // A static export publishes api/v1/manifest.json; a live board serves the
    // same bytes at api/v1/manifest and as the blob named by the commitment.
    let blob = format!("api/v1/blobs/{}", committed.manifest_sha256.to_hex());
    let mut fetched = src.fetch(MANIFEST_PATH)?;
    for alt in ["api/v1/manifest", blob.as_str()] {
        if fetched.is_none() {
            fetched = src.fetch(alt)?;
        }
    }
    let Some(bytes) = fetched else {
        r.push(
            Finding::new(
                "source.missing",
                format!("the log does not publish {MANIFEST_PATH}; signatures and rules cannot be rechecked"),
            )
            .at_path(MANIFEST_PATH),
        );
        return Ok(None);
    };
    let digest = Hash::sha256(&bytes);
    if digest != committed.manifest_sha256 {
        r.push(
            Finding::new(
                "manifest.digest-mismatch",
                format!(
                    "{MANIFEST_PATH} has SHA-256 {digest}, but entry 0 commits to {}",
                    committed.manifest_sha256
                ),
            )
            .at_path(MANIFEST_PATH)
            .at_entry(0),
        );
        return Ok(None);
    }
    let m = match ValidatedManifest::from_bytes(&bytes) {
        Ok(m) => m,
        Err(e) => {
            r.push(
                Finding::new(e.code().as_str(), format!("{MANIFEST_PATH}: {e}"))
                    .at_path(MANIFEST_PATH),
            );
            return Ok(None);
        }
    };
    if m.log_key().to_vkey_string() != log.key.to_vkey_string() {
        r.push(
            Finding::new(
                "manifest.invalid",
                format!(
                    "the manifest names log key {}, but the checkpoint was verified with {}",
                    m.log_key(),
                    log.key
                ),
            )
            .at_path(MANIFEST_PATH),
        );
    }
    if m.manifest().log.origin != log.origin {
        r.push(
            Finding::new(
                "checkpoint.wrong-origin",
                format!(
                    "the manifest names origin {}, the checkpoint {}",
                    m.manifest().log.origin,
                    log.origin
                ),
            )
            .at_path(MANIFEST_PATH),
        );
    }
    Ok(Some(m))
}
