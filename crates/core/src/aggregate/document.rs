//! The aggregated results as a stable JSON document (`spec/aggregation.md`
//! §5): what the HTTP API serves, the site shows and the JSON export writes.
//!
//! Every struct declares its fields in ascending key order, so
//! `serde_json`'s compact output has sorted keys; ids and hashes are strings,
//! counts are JSON integers, and there is no floating point anywhere.

use super::{share_bp, Aggregator, Level, RegionTotals, Sums};
use crate::entry::BallotFigures;
use crate::rules::{Decision, ElectionKind, LotDraw};
use crate::Hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `format` member of every results document.
pub const RESULTS_FORMAT: &str = "tallyboard/results/v1";

/// The log checkpoint the results were computed at: the first `size`
/// entries, whose Merkle root is `root` (lowercase hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointRef {
    /// The root hash, 64 lowercase hex digits.
    pub root: String,
    /// The tree size: entries with index < size are included.
    pub size: u64,
}

impl CheckpointRef {
    /// A reference to the checkpoint of `size` entries with `root`.
    pub fn new(size: u64, root: &Hash) -> CheckpointRef {
        CheckpointRef {
            root: root.to_hex(),
            size,
        }
    }
}

/// Which figure a candidate's share is a fraction of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareBase {
    /// Votes taken (valid + void taken): the presidential majority base.
    VotesTaken,
    /// Valid ballots: the base of every other rule (Majlis 20%, plurality).
    Valid,
}

impl ShareBase {
    /// The base the rules use for a contest kind (`spec/aggregation.md`
    /// §4): the one place this is decided.
    pub fn for_kind(kind: ElectionKind) -> ShareBase {
        match kind {
            ElectionKind::Presidential => ShareBase::VotesTaken,
            ElectionKind::Majlis
            | ElectionKind::AssemblyOfExperts
            | ElectionKind::CityCouncil
            | ElectionKind::VillageCouncil => ShareBase::Valid,
        }
    }
    /// The figure shares are a fraction of.
    pub fn of(self, f: &BallotFigures) -> u64 {
        match self {
            ShareBase::VotesTaken => f.votes_taken,
            ShareBase::Valid => f.valid,
        }
    }
}

/// One candidate's votes in one sum of one region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateVotes {
    /// The candidate code.
    pub candidate: u32,
    /// `votes / base` in basis points, rounded half up (see
    /// [`super::share_bp`]); `base` is the contest's [`ShareBase`] figure of
    /// the same [`Figures`]. 0 when the base is 0.
    pub share_bp: u64,
    /// Votes.
    pub votes: u64,
}

/// The figures of one sum (counted or standing) of one region.
///
/// The ballot figures are spelled out here rather than held as one
/// [`BallotFigures`] member: the document's keys are sorted, `votes` sorts
/// between `void_taken` and `votes_taken`, and serde's `flatten` can neither
/// interleave keys nor combine with `deny_unknown_fields`. Hand-written
/// `Serialize` and `Deserialize` would be longer than these six fields, so
/// they stay, and [`Figures::new`] and [`Figures::ballots`] are the one
/// conversion each way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// Ballots found in the box.
    pub ballots_in_box: u64,
    /// Ballots issued (counterfoils).
    pub counterfoils: u64,
    /// Valid ballots.
    pub valid: u64,
    /// Void ballots not taken.
    pub void_not_taken: u64,
    /// Void ballots taken.
    pub void_taken: u64,
    /// Votes per candidate with at least one vote, ascending candidate
    /// code; a candidate absent here has 0.
    pub votes: Vec<CandidateVotes>,
    /// Votes taken = valid + void taken.
    pub votes_taken: u64,
}

impl Figures {
    /// The document's figures of `ballots` with `votes`.
    pub fn new(ballots: &BallotFigures, votes: Vec<CandidateVotes>) -> Figures {
        Figures {
            ballots_in_box: ballots.ballots_in_box,
            counterfoils: ballots.counterfoils,
            valid: ballots.valid,
            void_not_taken: ballots.void_not_taken,
            void_taken: ballots.void_taken,
            votes,
            votes_taken: ballots.votes_taken,
        }
    }

    /// The ballot figures.
    pub fn ballots(&self) -> BallotFigures {
        BallotFigures {
            counterfoils: self.counterfoils,
            ballots_in_box: self.ballots_in_box,
            votes_taken: self.votes_taken,
            void_taken: self.void_taken,
            void_not_taken: self.void_not_taken,
            valid: self.valid,
        }
    }

    fn from_sums(s: &Sums, codes: &[u32], base: ShareBase) -> Figures {
        let b = base.of(&s.figures);
        let votes = s
            .nonzero_votes(codes)
            .into_iter()
            .map(|(candidate, votes)| CandidateVotes {
                candidate,
                share_bp: share_bp(votes, b),
                votes,
            })
            .collect();
        Figures::new(&s.figures, votes)
    }

    /// The votes of one candidate (0 if absent).
    pub fn votes_of(&self, candidate: u32) -> u64 {
        self.votes
            .binary_search_by_key(&candidate, |v| v.candidate)
            .map_or(0, |i| self.votes[i].votes)
    }
}

/// One region (or one station's box) of one contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionResults {
    /// The counted sum (first tallies).
    pub counted: Figures,
    /// The region id ([`super::NATION_ID`] for the nation; the station id).
    pub id: String,
    /// Stations only: the log index of the box's latest tally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_index: Option<u64>,
    /// The level.
    pub level: Level,
    /// The enclosing region (county → province → nation; a station's
    /// county); absent for the nation and a constituency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Stations only: the revision of the box's latest tally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// The standing sum (latest revisions, annulled boxes as zero).
    pub standing: Figures,
    /// Stations whose box for this contest is annulled (reported or not).
    pub stations_annulled: u64,
    /// Stations the standing sum counts: reported and not annulled.
    pub stations_counted: u64,
    /// Stations expected to report this contest in this region.
    pub stations_expected: u64,
    /// Stations that have reported (a first tally is on the log).
    pub stations_reported: u64,
    /// Stations whose latest tally is a revision.
    pub stations_revised: u64,
}

impl RegionResults {
    fn from_totals(t: &RegionTotals, codes: &[u32], base: ShareBase) -> RegionResults {
        RegionResults {
            counted: Figures::from_sums(&t.counted, codes, base),
            id: t.id.clone(),
            latest_index: None,
            level: t.level,
            parent: t.parent.clone(),
            revision: None,
            standing: Figures::from_sums(&t.standing, codes, base),
            stations_annulled: t.stations_annulled,
            stations_counted: t.stations_counted,
            stations_expected: t.stations_expected,
            stations_reported: t.stations_reported,
            stations_revised: t.stations_revised,
        }
    }
}

/// One contest's results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContestResults {
    /// Candidate codes in manifest (ballot) order.
    pub candidates: Vec<u32>,
    /// The constituency, absent for a nation-wide contest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constituency: Option<String>,
    /// The rules applied to the standing sum of the contest's constituency
    /// (or nation), when asked for and when the rules accept the counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Why no decision could be made, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_error: Option<String>,
    /// The contest id.
    pub id: String,
    /// The election kind (rules) of the contest.
    pub kind: ElectionKind,
    /// Regions: nation, constituency (if any), provinces, counties (manifest
    /// order, only those with expected stations), then stations if asked
    /// for (manifest order).
    pub regions: Vec<RegionResults>,
    /// 1 or 2.
    pub round: u8,
    /// Seats.
    pub seats: u32,
    /// What `share_bp` is a fraction of.
    pub share_base: ShareBase,
}

impl ContestResults {
    /// A region by level and id.
    pub fn region(&self, level: Level, id: &str) -> Option<&RegionResults> {
        self.regions.iter().find(|r| r.level == level && r.id == id)
    }

    /// The region that decides the contest: its constituency, else the nation.
    pub fn top(&self) -> Option<&RegionResults> {
        match &self.constituency {
            Some(k) => self.region(Level::Constituency, k),
            None => self.region(Level::Nation, super::NATION_ID),
        }
    }
}

/// The aggregated results of an election at a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsDocument {
    /// The checkpoint the figures were computed at, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointRef>,
    /// Contests in manifest order.
    pub contests: Vec<ContestResults>,
    /// The election id.
    pub election: String,
    /// Always [`RESULTS_FORMAT`].
    pub format: String,
    /// SHA-256 of the manifest, lowercase hex.
    pub manifest_sha256: String,
}

impl ResultsDocument {
    /// A contest by id.
    pub fn contest(&self, id: &str) -> Option<&ContestResults> {
        self.contests.iter().find(|c| c.id == id)
    }

    /// The canonical bytes: `serde_json` compact output (keys in ascending
    /// order in every tallyboard-defined object).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain structs of strings and integers: serialization cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// What to put in a [`ResultsDocument`].
#[derive(Clone, Debug, Default)]
pub struct DocumentOptions {
    /// Include every station's box (about 59,000 regions per national contest).
    pub stations: bool,
    /// The checkpoint the aggregator was fed up to, to record in the document.
    pub checkpoint: Option<CheckpointRef>,
    /// Apply the rules to each contest's standing sum.
    pub decide: bool,
    /// Signed lot results per contest id, for [`DocumentOptions::decide`].
    pub lots: BTreeMap<String, Vec<LotDraw>>,
}

impl Aggregator {
    /// The results document of the current state.
    pub fn document(&self, opts: &DocumentOptions) -> ResultsDocument {
        self.document_of(opts, None)
    }

    /// The results document with, when [`DocumentOptions::stations`], only
    /// the boxes of stations in `counties` (every region total is still
    /// there): what a county's or constituency's station-level export is
    /// cut from (`spec/exports.md` §5), without building every box of the
    /// nation.
    pub fn document_for_counties(
        &self,
        opts: &DocumentOptions,
        counties: &std::collections::BTreeSet<String>,
    ) -> ResultsDocument {
        self.document_of(opts, Some(counties))
    }

    fn document_of(
        &self,
        opts: &DocumentOptions,
        counties: Option<&std::collections::BTreeSet<String>>,
    ) -> ResultsDocument {
        let contests = self
            .contests
            .iter()
            .map(|c| {
                let base = ShareBase::for_kind(c.kind);
                let mut regions: Vec<RegionResults> = c
                    .regions
                    .iter()
                    .map(|r| RegionResults::from_totals(r, &c.codes, base))
                    .collect();
                if opts.stations {
                    for (b, at) in c.boxes.iter().zip(&c.layout.boxes) {
                        if counties.is_some_and(|set| !set.contains(&at.county)) {
                            continue;
                        }
                        let mut r = RegionResults::from_totals(
                            &b.totals(at, c.codes.len()),
                            &c.codes,
                            base,
                        );
                        r.latest_index = b.latest().map(|l| l.index);
                        r.revision = b.latest().map(|l| l.revision);
                        regions.push(r);
                    }
                }
                let (decision, decision_error) = if opts.decide {
                    let lots = opts.lots.get(&c.id).map_or(&[][..], Vec::as_slice);
                    match self.decide(&c.id, lots) {
                        Ok(d) => (Some(d), None),
                        Err(e) => (None, Some(e.to_string())),
                    }
                } else {
                    (None, None)
                };
                ContestResults {
                    candidates: c.codes.clone(),
                    constituency: c.constituency.clone(),
                    decision,
                    decision_error,
                    id: c.id.clone(),
                    kind: c.kind,
                    regions,
                    round: c.round,
                    seats: c.seats,
                    share_base: base,
                }
            })
            .collect();
        ResultsDocument {
            checkpoint: opts.checkpoint.clone(),
            contests,
            election: self.election.clone(),
            format: RESULTS_FORMAT.into(),
            manifest_sha256: self.manifest_sha256.to_hex(),
        }
    }
}
