//! `audit`: the full audit of a log from its read path alone
//! (spec/verification.md §6): checkpoint, every entry, every tile, the
//! manifest, every signature and rule, and the totals.

use crate::procedure::checkpoint::SignedCheckpoint;
use crate::procedure::{self, CheckId, Status, Trust, Verification};
use crate::replay::{self, AnnouncementCheck};
use crate::tiles::{bundle_count, fetch_bundle, fetch_tile, needed_width, ServedEntry};
use crate::{english, Error, Finding, LogKey, Report, Result, Source};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use tallyboard_core::aggregate::{
    CheckpointRef, ContestResults, DocumentOptions, ResultsDocument, ShareBase,
};
use tallyboard_core::entry::{Entry, EntryKind, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{self, MemoryLog};
use tallyboard_core::policy::Policy;
use tallyboard_core::state::{AnnouncementRecord, PinnedRoles};
use tallyboard_core::tile::{read_tile, tiles_for_size, TileHashReader, TileId, HASH_SIZE};
use tallyboard_core::validate;

/// Where the tallyboard manifest is published, relative to the log prefix.
pub use crate::procedure::manifest::MANIFEST_PATH;

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

/// A contest's name and its candidates' names, in English.
#[derive(Debug, Serialize)]
pub struct ContestNames {
    /// Contest id.
    pub contest: String,
    /// Its name.
    pub name_en: String,
    /// (code, name) in ballot order.
    pub candidates: Vec<(u32, String)>,
}

/// What to check beyond the log itself.
#[derive(Clone, Debug, Default)]
pub struct AuditOptions {
    /// The election's witness policy (C2SP tlog-policy): the audited
    /// checkpoint, and the checkpoint of every announcement's size, must
    /// carry cosignatures that meet its quorum.
    pub policy: Option<Policy>,
    /// Also time raw `verify_strict` of the same signatures ([`baseline`]).
    pub measure_baseline: bool,
    /// Role keys given out of band ([`crate::pins`]): the manifest must
    /// name them (`manifest.role-key-mismatch` otherwise).
    pub roles: PinnedRoles,
}

/// Said when no role key is pinned.
pub const ROLES_NOT_PINNED: &str = "NOT PINNED: the manifest's role keys are taken as the log gives them; give the authority's and supervisors' keys with --roles DIR (e.g. keys/)";

/// Said when no policy is given.
pub const QUORUM_NOT_CHECKED: &str =
    "not checked: give the election's witness policy with --policy FILE (e.g. keys/policy.txt)";

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
    /// Reopenings of final announcements.
    pub reopenings: u64,
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
    /// Stations with at least one valid tally (for any contest).
    pub stations_reported: u64,
    /// The results recomputed from the log alone, at the audited
    /// checkpoint: the same document (`spec/aggregation.md` §5) the board
    /// serves at `/api/v1/results`, with every contest's decision.
    pub results: Option<ResultsDocument>,
    /// Supervisor and authority decisions that validated.
    pub decisions: DecisionCounts,
    /// Contest and candidate names (English), for the human report.
    pub names: Vec<ContestNames>,
    /// Every announcement entry, re-checked against the standing totals
    /// recomputed at its size.
    pub announcements: Vec<AnnouncementCheck>,
    /// The witness quorum under the policy given: on the audited checkpoint
    /// and on the checkpoint of every announcement's size; or why it was
    /// not checked.
    pub witness_quorum: String,
    /// Whether the manifest names the pinned role keys, or that none were
    /// pinned.
    pub role_keys: String,
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
            "  stations reported: {} of {}\n  witness quorum: {}\n  role keys: {}\n",
            self.stations_reported, self.stations_expected, self.witness_quorum, self.role_keys
        ));
        if let Some(doc) = &self.results {
            for (c, names) in doc.contests.iter().zip(&self.names) {
                human_contest(&mut s, c, names);
            }
        }
        s.push_str(&format!(
            "\n  decisions: {} approvals, {} annulments, {} contest approvals, {} lot draws, {} announcements, {} reopenings\n",
            self.decisions.approvals,
            self.decisions.annulments,
            self.decisions.contest_approvals,
            self.decisions.lot_draws,
            self.decisions.announcements,
            self.decisions.reopenings
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

/// One contest of the human report: the figures of the region that decides
/// it, each candidate's standing votes and share (of the contest's share
/// base, as on the board's site and API), and the counted votes.
fn human_contest(s: &mut String, c: &ContestResults, names: &ContestNames) {
    let Some(top) = c.top() else { return };
    s.push_str(&format!(
        "\n  contest {} ({}), {} seat(s): {} of {} stations counted ({} reported, {} revised, {} annulled)\n",
        c.id,
        names.name_en,
        c.seats,
        top.stations_counted,
        top.stations_expected,
        top.stations_reported,
        top.stations_revised,
        top.stations_annulled
    ));
    let st = &top.standing;
    s.push_str(&format!(
        "    ballots in box {}, votes taken {}, valid {}, void taken {}, void not taken {}\n",
        st.ballots_in_box, st.votes_taken, st.valid, st.void_taken, st.void_not_taken
    ));
    let base = match c.share_base {
        ShareBase::VotesTaken => "% of votes taken",
        ShareBase::Valid => "% of valid",
    };
    s.push_str(&format!(
        "    candidate                                  standing {base:>16}   counted (first tallies)\n"
    ));
    for (code, en) in &names.candidates {
        let share = st
            .votes
            .iter()
            .find(|v| v.candidate == *code)
            .map_or(0, |v| v.share_bp);
        s.push_str(&format!(
            "    {code:>4} {en:<36} {:>10} {:>9}.{:02} {:>10}\n",
            st.votes_of(*code),
            share / 100,
            share % 100,
            top.counted.votes_of(*code)
        ));
    }
    if let Some(d) = &c.decision {
        s.push_str(&format!(
            "    outcome: {:?}; elected {:?}; runoff {:?}\n",
            d.status, d.elected, d.runoff
        ));
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

/// Runs the full audit without a witness policy.
pub fn run(src: &dyn Source, log: &LogKey) -> Result<AuditReport> {
    run_with(src, log, &AuditOptions::default())
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
    // The manifest's role keys: a baseline over a log that rotated one
    // checks fewer signatures, never a wrong one.
    let roles = tallyboard_core::state::RoleKeys::from_manifest(manifest);
    let role_keys: Vec<Option<validate::Signers>> = parsed
        .iter()
        .map(|p| validate::role_signers(p, &roles).ok().flatten())
        .collect();
    let jobs: Vec<(&tallyboard_core::note::VerifierKey, &[u8], &[u8])> = parsed
        .iter()
        .zip(&role_keys)
        .flat_map(|(p, role)| {
            let keys: Vec<&tallyboard_core::note::VerifierKey> = match (&p.entry, role) {
                (Entry::Tally(t), _) => station_keys.get(&t.station).into_iter().collect(),
                (_, Some(s)) => s.keys().iter().collect(),
                (_, None) => Vec::new(),
            };
            keys.into_iter().filter_map(move |key| {
                let sig = p.note.signatures.iter().find(|s| s.name == key.name())?;
                Some((key, p.note.text.as_bytes(), sig.signature.as_slice()))
            })
        })
        .collect();
    let t = Instant::now();
    let good = jobs
        .par_iter()
        .filter(|(k, msg, sig)| k.verify(msg, sig))
        .count();
    (t.elapsed().as_secs_f64(), good as u64)
}

/// Runs the full audit with `opts`.
pub fn run_with(src: &dyn Source, log: &LogKey, opts: &AuditOptions) -> Result<AuditReport> {
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
        results: None,
        names: vec![],
        decisions: DecisionCounts::default(),
        announcements: vec![],
        witness_quorum: QUORUM_NOT_CHECKED.into(),
        role_keys: ROLES_NOT_PINNED.into(),
        findings_total: 0,
        findings: vec![],
        timings: Timings::default(),
    };

    // 1. The checkpoint, by the one procedure's step (spec/verification.md §2).
    let mut steps = Verification::for_log(false);
    let Some(cp) = procedure::checkpoint::fetch(&mut steps, src, log)? else {
        for f in english::findings(&steps.checks) {
            r.push(f);
        }
        r.timings.total = t0.elapsed().as_secs_f64();
        return Ok(r);
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

    // 5. The manifest, committed to by entry 0, by the procedure's manifest
    //    step. Entry 0 is proven from whichever tree reproduces the signed
    //    root: the tiles' when an entry was tampered with (so the replay
    //    still names it), else the one the entries rebuild.
    let t = Instant::now();
    let manifest = match entries.first().filter(|_| complete) {
        Some(first) => {
            let entry0 = [ServedEntry {
                index: 0,
                bytes: Ok(first.clone()),
            }];
            let m = if tiles_root_ok && !entries_root_ok {
                procedure::manifest::manifest(
                    &mut steps,
                    src,
                    &from_tiles,
                    &cp.checkpoint,
                    log,
                    &entry0,
                )?
            } else {
                procedure::manifest::manifest(&mut steps, src, &mem, &cp.checkpoint, log, &entry0)?
            };
            for f in english::findings(&steps.checks) {
                r.push(f);
            }
            m.map(|m| {
                r.manifest_sha256 = Some(m.digest().to_hex());
                r.election = Some(m.election_id().to_owned());
                Arc::new(m)
            })
        }
        None => None,
    };

    // 6. Replay every entry into the log state, which then holds the
    //    totals, the decisions and the announcements.
    let mut announced: Vec<AnnouncementRecord> = Vec::new();
    if let Some(m) = &manifest {
        let out = replay::replay(&entries, m);
        r.entries_valid = out.accepted;
        r.signatures_checked = out.signatures;
        for f in out.findings {
            r.push(f);
        }
        let state = &out.state;
        let mut lots = std::collections::BTreeMap::<String, Vec<_>>::new();
        for l in state.supervision().lots() {
            lots.entry(l.contest.clone())
                .or_default()
                .push(l.draw.clone());
        }
        r.results = Some(state.aggregator().document(&DocumentOptions {
            stations: false,
            checkpoint: Some(CheckpointRef::new(size, &cp.checkpoint.root)),
            decide: true,
            lots,
        }));
        r.names = m
            .manifest()
            .contests
            .iter()
            .map(|c| ContestNames {
                contest: c.id.clone(),
                name_en: c.name_en.clone(),
                candidates: c
                    .candidates
                    .iter()
                    .map(|k| (k.code, k.name_en.clone()))
                    .collect(),
            })
            .collect();
        for d in state.supervision().decisions() {
            let n = &mut r.decisions;
            match d.kind {
                EntryKind::Approval => n.approvals += 1,
                EntryKind::Annulment => n.annulments += 1,
                EntryKind::ContestApproval => n.contest_approvals += 1,
                EntryKind::LotDraw => n.lot_draws += 1,
                EntryKind::Announcement => n.announcements += 1,
                EntryKind::Reopening => n.reopenings += 1,
                _ => {}
            }
        }
        r.stations_expected = m.manifest().stations.len() as u64;
        r.stations_reported = state
            .stations()
            .filter(|(_, s)| !s.contests().is_empty())
            .count() as u64;
        r.announcements = out.announcements;
        announced = state.supervision().announcements().to_vec();
        if !opts.roles.is_empty() {
            r.role_keys = match state.roles().check_pinned(&opts.roles) {
                Ok(()) => "pinned: the manifest names the keys you gave".into(),
                Err(e) => {
                    r.push(Finding::new(e.code().as_str(), e.message()).at_entry(0));
                    "MISMATCH: the manifest names other role keys than the ones you gave".into()
                }
            };
        }
    }
    r.timings.replay = t.elapsed().as_secs_f64();

    // 7. The auditor's own witness quorum, on the audited checkpoint and on
    //    the checkpoint every announcement carries (spec/verification.md §6
    //    step 8; step 6 checked them under the manifest's policy).
    if let Some(policy) = &opts.policy {
        r.witness_quorum = check_quorum(log, policy, &cp, &announced, &mut r);
    }
    r.timings.total = t0.elapsed().as_secs_f64();
    if let (true, Some(m)) = (opts.measure_baseline, &manifest) {
        let (secs, _) = baseline(&entries, m);
        r.timings.baseline_verify_strict = Some(secs);
        r.timings.ratio_to_baseline = Some(r.timings.total / secs);
    }
    r.verified = r.findings_total == 0;
    Ok(r)
}

/// Checks the auditor's policy on the audited checkpoint `latest` and on
/// the checkpoint each announcement carries (its size, root and the
/// witnesses' cosignature lines; replay already checked the root against
/// the audited tree). Returns the summary line; findings go into `r`.
fn check_quorum(
    log: &LogKey,
    policy: &Policy,
    latest: &SignedCheckpoint,
    announced: &[AnnouncementRecord],
    r: &mut AuditReport,
) -> String {
    let trust = Trust {
        log,
        policy: Some(policy),
        key_source: None,
        committed_policy: false,
    };
    let mut v = Verification::for_checkpoint(false);
    procedure::checkpoint::witnesses(&mut v, latest, &trust, &[]);
    for f in english::findings(&v.checks) {
        r.push(f.at_path("checkpoint"));
    }
    let latest_ok = v.status(CheckId::WitnessCosignatures) == Some(Status::Pass);
    let origin = &latest.checkpoint.origin;
    let mut witnessed = 0;
    for a in announced {
        let (size, w) = (a.announcement.statement.size, &a.announcement.witnessed);
        let verdict = policy.evaluate(&w.checkpoint_text(origin, size), &w.cosignatures);
        if verdict.quorum_met {
            witnessed += 1;
        } else {
            r.push(
                Finding::new(
                    "audit.announcement-not-witnessed",
                    format!(
                        "the announcement rests on the checkpoint of size {size}, whose cosignatures do not meet your witness policy: {verdict}"
                    ),
                )
                .at_entry(a.index),
            );
        }
    }
    format!(
        "{} on the audited checkpoint; {witnessed} of {} announcement(s) carry cosignatures that meet it",
        if latest_ok { "MET" } else { "NOT MET" },
        announced.len()
    )
}
