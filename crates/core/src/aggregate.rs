//! Aggregation of station tallies along the manifest's region hierarchy
//! (`spec/aggregation.md`).
//!
//! For every contest, figures are summed at five levels: the station's box,
//! the county, the province, the nation and (for a contest that has one) its
//! constituency. Two sums are kept side by side, so a correction is visible
//! rather than silent:
//!
//! * **counted**: each station's *first* tally (revision 1), whatever
//!   happened to it later;
//! * **standing**: each station's *latest* revision, with annulled boxes
//!   counting zero.
//!
//! [`Aggregator`] keeps both current as entries arrive: [`Aggregator::apply`]
//! and [`Aggregator::annul`] touch one box and its chain of regions (county,
//! province, nation, constituency), so an update costs O(depth × candidates
//! on the tally), never O(stations). [`Aggregator::build`] computes the same
//! state from scratch, bottom-up, by a separate code path; the two agree
//! (tested). The result does not depend on the order entries arrive in, as
//! long as each box's revisions arrive in revision order.
//!
//! All figures are integers. Every count on a tally is at most
//! [`MAX_COUNT`] = 10¹², and a manifest (at most 64 MiB) names fewer than
//! 2 × 10⁶ stations, so every sum stays below 2 × 10¹⁸ < 2⁶⁴: `u64` cannot
//! overflow. Shares are exact fractions (votes over a base that is itself a
//! published figure) and, for display, basis points computed with integer
//! arithmetic ([`share_bp`]).

use crate::entry::{BallotFigures, Tally};
use crate::error::Coded;
use crate::manifest::{Contest, ValidatedManifest};
use crate::rules::{self, ContestCounts, ContestRules, Decision, ElectionKind, LotDraw, MAX_COUNT};
use crate::state::LogReader;
use crate::{ErrorCode, Hash};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

mod document;
mod snapshot;

pub use document::{
    CandidateVotes, CheckpointRef, ContestResults, DocumentOptions, Figures, RegionResults,
    ResultsDocument, ShareBase, RESULTS_FORMAT,
};

/// The id of the one region at [`Level::Nation`].
pub const NATION_ID: &str = "nation";

/// A level of the region hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The whole country (one region, id [`NATION_ID`]).
    Nation,
    /// The contest's constituency (حوزه انتخابیه), when it has one.
    Constituency,
    /// A province (استان).
    Province,
    /// A county (شهرستان).
    County,
    /// One polling station's box (شعبه).
    Station,
}

/// Which of the two sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sum {
    /// Each station's first tally.
    Counted,
    /// Each station's latest revision; annulled boxes count zero.
    Standing,
}

/// The figures of one box or one region for one contest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// The ballot figures.
    pub figures: BallotFigures,
    /// Votes per candidate, in the order of the contest's `candidates` in
    /// the manifest ([`Aggregator::candidates`]).
    pub votes: Vec<u64>,
}

impl Sums {
    fn zero(candidates: usize) -> Sums {
        Sums {
            votes: vec![0; candidates],
            ..Sums::default()
        }
    }

    // Every sum here is bounded (module documentation: below 2 × 10^18) and
    // a box is only subtracted after it was added, so these never saturate;
    // were that reasoning ever broken, a figure pinned at 0 or u64::MAX is
    // visibly absurd where a wrapped one could look plausible, and
    // `check_sums` would disagree with the rebuild.
    fn add_box(&mut self, b: &BoxFigures) {
        self.figures = self.figures.saturating_add(&b.figures);
        for &(pos, n) in &b.votes {
            if let Some(v) = self.votes.get_mut(pos) {
                *v = v.saturating_add(n);
            }
        }
    }

    fn sub_box(&mut self, b: &BoxFigures) {
        self.figures = self.figures.saturating_sub(&b.figures);
        for &(pos, n) in &b.votes {
            if let Some(v) = self.votes.get_mut(pos) {
                *v = v.saturating_sub(n);
            }
        }
    }

    fn add(&mut self, o: &Sums) {
        self.figures = self.figures.saturating_add(&o.figures);
        for (a, b) in self.votes.iter_mut().zip(&o.votes) {
            *a = a.saturating_add(*b);
        }
    }

    fn from_box(b: Option<&BoxFigures>, candidates: usize) -> Sums {
        let mut s = Sums::zero(candidates);
        if let Some(b) = b {
            s.add_box(b);
        }
        s
    }

    /// The candidates with at least one vote as `(code, votes)`, ascending
    /// code: the entry grammar's spelling of a list of votes. `codes` are
    /// the contest's candidates in manifest order (the order of
    /// [`Sums::votes`]).
    pub fn nonzero_votes(&self, codes: &[u32]) -> Vec<(u32, u64)> {
        let mut votes: Vec<(u32, u64)> = codes
            .iter()
            .copied()
            .zip(self.votes.iter().copied())
            .filter(|&(_, n)| n > 0)
            .collect();
        votes.sort_unstable();
        votes
    }

    /// The rules' input from these sums: every candidate, every
    /// candidate's votes (zeros included), valid and void-taken ballots.
    fn counts(&self, codes: &[u32]) -> ContestCounts {
        ContestCounts {
            candidates: codes.to_vec(),
            votes: codes
                .iter()
                .copied()
                .zip(self.votes.iter().copied())
                .collect(),
            valid: self.figures.valid,
            void_taken: self.figures.void_taken,
        }
    }
}

/// `votes / base` in basis points (1/100 of a percent), rounded half up,
/// with integer arithmetic only: `(20000 × votes + base) / (2 × base)`.
/// 0 when `base` is 0.
pub fn share_bp(votes: u64, base: u64) -> u64 {
    if base == 0 {
        return 0;
    }
    let v = u128::from(votes) * 20_000 + u128::from(base);
    u64::try_from(v / (2 * u128::from(base))).unwrap_or(u64::MAX)
}

/// Turnout of a region for one contest, in basis points ([`share_bp`]):
/// the standing votes taken (ballots taken out of the box and counted,
/// annulled boxes counting zero) over the region's eligible voters. Only
/// the nation and a province have eligible voters (a voter may vote at any
/// station, `spec/manifest.md` §2), so only they have a turnout.
pub fn turnout_bp(totals: &RegionTotals, eligible_voters: u64) -> u64 {
    share_bp(totals.standing.figures.votes_taken, eligible_voters)
}

/// Totals of one region (or one station's box) for one contest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionTotals {
    /// The level.
    pub level: Level,
    /// The region's id ([`NATION_ID`] for the nation, the station id for a box).
    pub id: String,
    /// The enclosing region's id: county → province → nation; a station's
    /// county. `None` for the nation and for a constituency.
    pub parent: Option<String>,
    /// Stations whose manifest entry lists the contest, in this region.
    pub stations_expected: u64,
    /// Of those, stations with a tally.
    pub stations_reported: u64,
    /// Of those, stations whose latest tally is a revision (revision > 1).
    pub stations_revised: u64,
    /// Stations whose box for this contest is annulled (reported or not).
    pub stations_annulled: u64,
    /// Stations whose tallies the standing sum counts: reported and not
    /// annulled. The one definition of "stations counted" every output
    /// uses (`spec/aggregation.md` §1).
    pub stations_counted: u64,
    /// The counted sum.
    pub counted: Sums,
    /// The standing sum.
    pub standing: Sums,
}

impl RegionTotals {
    fn new(level: Level, id: &str, parent: Option<&str>, candidates: usize) -> RegionTotals {
        RegionTotals {
            level,
            id: id.to_owned(),
            parent: parent.map(str::to_owned),
            stations_expected: 0,
            stations_reported: 0,
            stations_revised: 0,
            stations_annulled: 0,
            stations_counted: 0,
            counted: Sums::zero(candidates),
            standing: Sums::zero(candidates),
        }
    }

    fn add_region(&mut self, o: &RegionTotals) {
        self.stations_expected += o.stations_expected;
        self.stations_reported += o.stations_reported;
        self.stations_revised += o.stations_revised;
        self.stations_annulled += o.stations_annulled;
        self.stations_counted += o.stations_counted;
        self.counted.add(&o.counted);
        self.standing.add(&o.standing);
    }

    /// The sum asked for.
    pub fn sums(&self, sum: Sum) -> &Sums {
        match sum {
            Sum::Counted => &self.counted,
            Sum::Standing => &self.standing,
        }
    }
}

/// Why a tally or an annulment could not be aggregated. The codes are the
/// board's stable codes (`spec/errors.md`); a tally that passed
/// `crate::validate` never fails here, except for a revision that arrives
/// before the one it follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateError {
    code: ErrorCode,
    message: String,
}

impl AggregateError {
    /// A storage failure of a [`LogReader`] (`board.storage`).
    pub fn store(message: impl Into<String>) -> Self {
        AggregateError::new(ErrorCode::Storage, message)
    }

    /// The log read back disagrees with the state (`board.store-inconsistent`).
    pub fn inconsistent(message: impl Into<String>) -> Self {
        AggregateError::new(ErrorCode::StoreInconsistent, message)
    }

    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AggregateError {
            code,
            message: message.into(),
        }
    }
    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Coded for AggregateError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for AggregateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AggregateError {}

impl From<AggregateError> for crate::validate::ValidationError {
    fn from(e: AggregateError) -> Self {
        crate::validate::ValidationError::new(e.code, e.message)
    }
}

/// One tally's figures, candidates by position in the contest.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BoxFigures {
    revision: u32,
    index: u64,
    figures: BallotFigures,
    /// (candidate position, votes), non-zero only.
    votes: Vec<(usize, u64)>,
}

/// One station's box for one contest.
///
/// The figures (and log indexes) of the first tally (the counted sum) and
/// of the latest revision (the standing sum) are kept, and the log index of
/// the annulment: with these the box can say what it stood at for any log
/// size ([`Aggregator::contest_at`]), following the revisions' `supersedes`
/// back from the latest through the log ([`LogReader`], [`crate::state::revision_in_force`])
/// in the rare case a statement at an earlier size needs an intermediate
/// revision. Nothing is kept per revision, so the box's memory does not
/// grow with the log (a box revised sixteen times holds two figures).
#[derive(Clone, Debug, PartialEq, Eq)]
struct BoxState {
    /// Revision 1's figures (never changed once set, so shared by the
    /// copies of the state).
    first: Option<std::sync::Arc<BoxFigures>>,
    /// The latest revision's figures, when it is not revision 1 (replaced,
    /// never changed).
    revised: Option<std::sync::Arc<BoxFigures>>,
    /// The log index of the annulment, if the box is annulled.
    annulled_at: Option<u64>,
}

impl BoxState {
    fn latest(&self) -> Option<&BoxFigures> {
        self.revised.as_deref().or(self.first.as_deref())
    }

    fn annulled(&self) -> bool {
        self.annulled_at.is_some()
    }

    fn totals(&self, at: &BoxLayout, candidates: usize) -> RegionTotals {
        let first = self.first.as_deref();
        let latest = self.latest();
        let annulled = self.annulled();
        RegionTotals {
            level: Level::Station,
            id: at.station.clone(),
            parent: Some(at.county.clone()),
            stations_expected: 1,
            stations_reported: u64::from(first.is_some()),
            stations_revised: u64::from(latest.is_some_and(|l| l.revision > 1)),
            stations_annulled: u64::from(annulled),
            stations_counted: u64::from(first.is_some() && !annulled),
            counted: Sums::from_box(first, candidates),
            standing: Sums::from_box(latest.filter(|_| !annulled), candidates),
        }
    }
}

/// One contest's state.
/// Where a box sits: fixed by the manifest.
#[derive(Debug, PartialEq, Eq)]
struct BoxLayout {
    station: String,
    county: String,
    /// Region indices this box contributes to: county, province, nation and
    /// (if any) constituency.
    chain: Vec<usize>,
}

/// What the manifest fixes about one contest: shared (`Arc`) by every copy
/// of the aggregator, so that a second copy (the writer keeps two, the
/// published one and its own) costs only the figures.
#[derive(Debug, PartialEq, Eq)]
struct ContestLayout {
    id: String,
    kind: ElectionKind,
    seats: u32,
    round: u8,
    constituency: Option<String>,
    rules: ContestRules,
    /// Candidate codes in manifest order.
    codes: Vec<u32>,
    positions: HashMap<u32, usize>,
    region_index: HashMap<(Level, String), usize>,
    /// The region that decides the contest: the constituency, or the nation.
    top: usize,
    /// Boxes in manifest station order.
    boxes: Vec<BoxLayout>,
    box_index: HashMap<String, usize>,
}

/// One contest's state: its layout and its figures.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ContestState {
    layout: std::sync::Arc<ContestLayout>,
    /// Regions: nation first, then the constituency (if any), provinces and
    /// counties in manifest order; only those with at least one expected station.
    regions: Vec<RegionTotals>,
    /// Boxes in manifest station order (`layout.boxes`).
    boxes: Vec<BoxState>,
}

impl std::ops::Deref for ContestState {
    type Target = ContestLayout;
    fn deref(&self) -> &ContestLayout {
        &self.layout
    }
}

/// Aggregated counted and standing figures of every contest at every level,
/// kept current one entry at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aggregator {
    election: String,
    manifest_sha256: Hash,
    contests: Vec<ContestState>,
    contest_index: std::sync::Arc<HashMap<String, usize>>,
    stations: std::sync::Arc<HashSet<String>>,
}

/// The rules of a manifest contest: its kind, seats and round, and the
/// threshold, runoff factor and reserves exactly as the manifest states them
/// (absent stays absent, so [`rules::decide`] applies the law's default).
pub fn rules_for(contest: &Contest) -> ContestRules {
    ContestRules {
        kind: contest.kind,
        seats: contest.seats,
        round: contest.round.unwrap_or(1),
        threshold: contest.threshold.map(|r| rules::Ratio {
            num: r.num,
            den: r.den,
        }),
        runoff_factor: contest.runoff_factor,
        reserves: contest.reserves,
    }
}

/// A contest's deciding figures at one log size ([`Aggregator::contest_at`]).
#[derive(Clone, Debug)]
pub struct ContestAt<'a> {
    /// The totals of the region that decides the contest (its
    /// constituency, or the nation).
    pub top: RegionTotals,
    /// Candidate codes in manifest order (the order of [`Sums::votes`]).
    pub codes: &'a [u32],
    rules: &'a ContestRules,
}

impl ContestAt<'_> {
    /// The rules' input from one of the two sums: every candidate (zeros
    /// included), valid and void-taken ballots.
    pub fn counts(&self, sum: Sum) -> ContestCounts {
        self.top.sums(sum).counts(self.codes)
    }

    /// The contest's rules applied to the standing sum with `lots`.
    ///
    /// # Errors
    /// The rules' refusal.
    pub fn decide(&self, lots: &[LotDraw]) -> Result<Decision, AggregateError> {
        rules::decide(self.rules, &self.counts(Sum::Standing), lots)
            .map_err(|e| AggregateError::new(e.code(), e.to_string()))
    }
}

/// A tally checked against the aggregator and turned into box figures.
struct Prepared {
    contest: usize,
    boxi: usize,
    figures: BoxFigures,
}

impl Aggregator {
    /// An aggregator with every expected box empty.
    pub fn new(manifest: &ValidatedManifest) -> Aggregator {
        let m = manifest.manifest();
        let mut contests = Vec::with_capacity(m.contests.len());
        let mut contest_index = HashMap::new();
        for (ci, c) in m.contests.iter().enumerate() {
            contest_index.insert(c.id.clone(), ci);
        }
        // Each contest's stations, in manifest order, from one pass over the
        // stations: a Majlis manifest has about 214 contests, and scanning
        // every station once per contest cost more than the rest together.
        let mut contest_stations: Vec<Vec<usize>> = vec![Vec::new(); m.contests.len()];
        for (si, s) in m.stations.iter().enumerate() {
            for cid in &s.contests {
                if let Some(&ci) = contest_index.get(cid) {
                    contest_stations[ci].push(si);
                }
            }
        }
        for (c, stations) in m.contests.iter().zip(&contest_stations) {
            contests.push(Self::contest_state(manifest, c, stations));
        }
        Aggregator {
            election: m.election.id.clone(),
            manifest_sha256: manifest.digest(),
            contests,
            contest_index: std::sync::Arc::new(contest_index),
            stations: std::sync::Arc::new(m.stations.iter().map(|s| s.id.clone()).collect()),
        }
    }

    /// One contest's empty state; `stations` are the indexes of the
    /// manifest stations that report it, ascending.
    fn contest_state(
        manifest: &ValidatedManifest,
        c: &Contest,
        stations: &[usize],
    ) -> ContestState {
        let m = manifest.manifest();
        let codes: Vec<u32> = c.candidates.iter().map(|k| k.code).collect();
        let positions = codes.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let n = codes.len();
        // Expected stations per county.
        let mut per_county: HashMap<&str, u64> = HashMap::new();
        for &si in stations {
            *per_county
                .entry(m.stations[si].county.as_str())
                .or_default() += 1;
        }
        let mut per_province: HashMap<&str, u64> = HashMap::new();
        for k in &m.counties {
            if let Some(&e) = per_county.get(k.id.as_str()) {
                *per_province.entry(k.province.as_str()).or_default() += e;
            }
        }
        let mut regions = vec![RegionTotals::new(Level::Nation, NATION_ID, None, n)];
        if let Some(k) = &c.constituency {
            regions.push(RegionTotals::new(Level::Constituency, k, None, n));
        }
        for p in &m.provinces {
            if per_province.contains_key(p.id.as_str()) {
                regions.push(RegionTotals::new(
                    Level::Province,
                    &p.id,
                    Some(NATION_ID),
                    n,
                ));
            }
        }
        for k in &m.counties {
            if per_county.contains_key(k.id.as_str()) {
                regions.push(RegionTotals::new(
                    Level::County,
                    &k.id,
                    Some(&k.province),
                    n,
                ));
            }
        }
        let region_index: HashMap<(Level, String), usize> = regions
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.level, r.id.clone()), i))
            .collect();
        let constituency = c
            .constituency
            .as_ref()
            .and_then(|k| region_index.get(&(Level::Constituency, k.clone())).copied());
        let mut layouts = Vec::new();
        let mut box_index = HashMap::new();
        for s in stations.iter().map(|&si| &m.stations[si]) {
            let county = region_index
                .get(&(Level::County, s.county.clone()))
                .copied();
            let province = manifest
                .province_of(&s.county)
                .and_then(|p| region_index.get(&(Level::Province, p.to_owned())).copied());
            let mut chain: Vec<usize> = [county, province, Some(0), constituency]
                .into_iter()
                .flatten()
                .collect();
            chain.dedup();
            for &r in &chain {
                regions[r].stations_expected += 1;
            }
            box_index.insert(s.id.clone(), layouts.len());
            layouts.push(BoxLayout {
                station: s.id.clone(),
                county: s.county.clone(),
                chain,
            });
        }
        let boxes = vec![
            BoxState {
                first: None,
                revised: None,
                annulled_at: None,
            };
            layouts.len()
        ];
        ContestState {
            layout: std::sync::Arc::new(ContestLayout {
                id: c.id.clone(),
                kind: c.kind,
                seats: c.seats,
                round: c.round.unwrap_or(1),
                constituency: c.constituency.clone(),
                rules: rules_for(c),
                codes,
                positions,
                region_index,
                top: constituency.unwrap_or(0),
                boxes: layouts,
                box_index,
            }),
            regions,
            boxes,
        }
    }

    fn locate(&self, station: &str, contest: &str) -> Result<(usize, usize), AggregateError> {
        let Some(&ci) = self.contest_index.get(contest) else {
            return Err(AggregateError::new(
                ErrorCode::UnknownContest,
                format!("contest {contest} is not in the manifest"),
            ));
        };
        match self.contests[ci].box_index.get(station) {
            Some(&bi) => Ok((ci, bi)),
            None if self.stations.contains(station) => Err(AggregateError::new(
                ErrorCode::ContestNotAtStation,
                format!("station {station} does not report contest {contest}"),
            )),
            None => Err(AggregateError::new(
                ErrorCode::UnknownStation,
                format!("station {station} is not in the manifest"),
            )),
        }
    }

    /// Every check that does not depend on the box's history.
    fn prepare(&self, index: u64, t: &Tally) -> Result<Prepared, AggregateError> {
        if t.election != self.election {
            return Err(AggregateError::new(
                ErrorCode::WrongElection,
                format!("tally is for election {}", t.election),
            ));
        }
        let (ci, bi) = self.locate(&t.station, &t.contest)?;
        let c = &self.contests[ci];
        if t.figures
            .named()
            .iter()
            .map(|(_, n)| n)
            .chain(t.votes.iter().map(|(_, n)| n))
            .any(|&n| n > MAX_COUNT)
        {
            return Err(AggregateError::new(
                ErrorCode::TallyCountTooLarge,
                "a count exceeds 10^12",
            ));
        }
        t.check_arithmetic(c.seats)
            .map_err(|e| AggregateError::new(e.code(), e.message().to_owned()))?;
        let mut votes = Vec::with_capacity(t.votes.len());
        let mut previous = None;
        for &(code, n) in &t.votes {
            let Some(&pos) = c.positions.get(&code) else {
                return Err(AggregateError::new(
                    ErrorCode::UnknownCandidate,
                    format!("candidate {code} is not in contest {}", c.id),
                ));
            };
            if previous.is_some_and(|p| p >= code) {
                return Err(AggregateError::new(
                    ErrorCode::EntryVotesOrder,
                    format!("candidate {code}: votes must be in strictly ascending code order"),
                ));
            }
            previous = Some(code);
            if n > 0 {
                votes.push((pos, n));
            }
        }
        if t.revision == 0 {
            return Err(AggregateError::new(
                ErrorCode::EntryBadValue,
                "revision 0 does not exist",
            ));
        }
        Ok(Prepared {
            contest: ci,
            boxi: bi,
            figures: BoxFigures {
                revision: t.revision,
                index,
                figures: t.figures,
                votes,
            },
        })
    }

    /// Adds the log entry at `index`, a station's tally or tally revision.
    /// Touches only that box and its chain of regions.
    ///
    /// # Errors
    /// The tally does not fit the manifest (`entry.wrong-election`,
    /// `contest.unknown`, `station.unknown`, `contest.not-at-station`,
    /// `candidate.unknown`, `tally.arithmetic.*`), or its revision is not the
    /// box's next one (`tally.revision-not-next`). The state is unchanged.
    pub fn apply(&mut self, index: u64, tally: &Tally) -> Result<(), AggregateError> {
        let p = self.prepare(index, tally)?;
        let c = &mut self.contests[p.contest];
        let layout = c.layout.clone();
        let at = &layout.boxes[p.boxi];
        let b = &mut c.boxes[p.boxi];
        let expected = b.latest().map_or(1, |l| l.revision.saturating_add(1));
        if p.figures.revision != expected {
            return Err(AggregateError::new(
                ErrorCode::RevisionNotNext,
                format!(
                    "station {} contest {}: revision {} is not the next one ({expected})",
                    at.station, layout.id, p.figures.revision
                ),
            ));
        }
        if let Some(last) = b.latest().map(|l| l.index).filter(|&l| l >= index) {
            return Err(AggregateError::new(
                ErrorCode::StoreInconsistent,
                format!(
                    "station {} contest {}: entry {index} arrives after entry {last}",
                    at.station, layout.id
                ),
            ));
        }
        let was_revised = b.latest().is_some_and(|l| l.revision > 1);
        let annulled = b.annulled();
        let old = b.latest();
        for &r in &at.chain {
            let reg = &mut c.regions[r];
            if old.is_none() {
                reg.stations_reported += 1;
                reg.stations_counted += u64::from(!annulled);
                reg.counted.add_box(&p.figures);
            }
            if !was_revised && p.figures.revision > 1 {
                reg.stations_revised += 1;
            }
            if !annulled {
                if let Some(o) = &old {
                    reg.standing.sub_box(o);
                }
                reg.standing.add_box(&p.figures);
            }
        }
        if b.first.is_none() {
            b.first = Some(std::sync::Arc::new(p.figures));
        } else {
            b.revised = Some(std::sync::Arc::new(p.figures));
        }
        Ok(())
    }

    /// Annuls a station's box for a contest (a supervisor's ruling, logged
    /// at `index`): from then on it counts zero in the standing sum, whatever
    /// tallies it has or gets. The counted sum is unchanged. Returns whether
    /// the box was not already annulled. An annulment may arrive before the
    /// box's first tally.
    ///
    /// # Errors
    /// `contest.unknown`, `station.unknown`, `contest.not-at-station`.
    pub fn annul(
        &mut self,
        index: u64,
        station: &str,
        contest: &str,
    ) -> Result<bool, AggregateError> {
        let (ci, bi) = self.locate(station, contest)?;
        let c = &mut self.contests[ci];
        let layout = c.layout.clone();
        let b = &mut c.boxes[bi];
        if b.annulled() {
            return Ok(false);
        }
        b.annulled_at = Some(index);
        for &r in &layout.boxes[bi].chain {
            let reg = &mut c.regions[r];
            reg.stations_annulled += 1;
            if let Some(l) = b.revised.as_deref().or(b.first.as_deref()) {
                reg.stations_counted -= 1;
                reg.standing.sub_box(l);
            }
        }
        Ok(true)
    }

    /// Computes the state from scratch: the log's tallies (first tallies and
    /// revisions, any order), the annulled `(station, contest)` boxes with
    /// the annulment's index, and optionally a checkpoint size `upto` (only
    /// entries with `index < upto` count). Each box's tallies are put in revision order, then sums are
    /// made bottom-up: boxes into counties, counties into provinces and
    /// constituencies, provinces into the nation.
    ///
    /// # Errors
    /// As [`Aggregator::apply`]; `tally.revision-not-next` if a box's
    /// revisions (below `upto`) are not exactly 1, 2, …, n.
    pub fn build<'a>(
        manifest: &ValidatedManifest,
        tallies: impl IntoIterator<Item = (u64, &'a Tally)>,
        annulled: &BTreeMap<(String, String), u64>,
        upto: Option<u64>,
    ) -> Result<Aggregator, AggregateError> {
        let mut agg = Aggregator::new(manifest);
        let mut per_box: BTreeMap<(usize, usize), Vec<BoxFigures>> = BTreeMap::new();
        for (index, t) in tallies {
            if upto.is_some_and(|n| index >= n) {
                continue;
            }
            let p = agg.prepare(index, t)?;
            per_box
                .entry((p.contest, p.boxi))
                .or_default()
                .push(p.figures);
        }
        for ((ci, bi), mut list) in per_box {
            list.sort_by_key(|f| f.revision);
            let c = &mut agg.contests[ci];
            let station = c.layout.boxes[bi].station.clone();
            let b = &mut c.boxes[bi];
            for (i, f) in list.iter().enumerate() {
                if u64::from(f.revision) != i as u64 + 1 {
                    return Err(AggregateError::new(
                        ErrorCode::RevisionNotNext,
                        format!(
                            "station {} contest {}: revisions are not 1, 2, …, n (found {} at place {})",
                            station,
                            c.id,
                            f.revision,
                            i + 1
                        ),
                    ));
                }
            }
            let mut list = list.into_iter();
            b.first = list.next().map(std::sync::Arc::new);
            b.revised = list.next_back().map(std::sync::Arc::new);
        }
        for ((station, contest), &index) in annulled {
            if upto.is_some_and(|n| index >= n) {
                continue;
            }
            let (ci, bi) = agg.locate(station, contest)?;
            agg.contests[ci].boxes[bi].annulled_at = Some(index);
        }
        for c in &mut agg.contests {
            Self::sum_bottom_up(c);
        }
        Ok(agg)
    }

    /// Recomputes every region of a contest from its boxes.
    fn sum_bottom_up(c: &mut ContestState) {
        let n = c.codes.len();
        let fresh: Vec<RegionTotals> = c
            .regions
            .iter()
            .map(|r| RegionTotals::new(r.level, &r.id, r.parent.as_deref(), n))
            .collect();
        c.regions = fresh;
        // Boxes into counties.
        let layout = c.layout.clone();
        for (b, at) in c.boxes.iter().zip(&layout.boxes) {
            let t = b.totals(at, n);
            let county = layout.region_index[&(Level::County, at.county.clone())];
            c.regions[county].add_region(&t);
        }
        // Counties into provinces and into the constituency; provinces into the nation.
        let counties: Vec<usize> = (0..c.regions.len())
            .filter(|&i| c.regions[i].level == Level::County)
            .collect();
        for i in counties {
            let t = c.regions[i].clone();
            if let Some(p) = t.parent.as_ref() {
                let pi = c.region_index[&(Level::Province, p.clone())];
                c.regions[pi].add_region(&t);
            }
            if let Some(k) = &c.constituency {
                let ki = c.region_index[&(Level::Constituency, k.clone())];
                c.regions[ki].add_region(&t);
            }
        }
        let provinces: Vec<usize> = (0..c.regions.len())
            .filter(|&i| c.regions[i].level == Level::Province)
            .collect();
        for i in provinces {
            let t = c.regions[i].clone();
            c.regions[0].add_region(&t);
        }
    }

    /// Checks that every region's totals equal the sum of the level below:
    /// county = Σ its stations' boxes, province = Σ its counties, nation =
    /// Σ provinces, constituency = Σ its counties = nation. A cheap audit of
    /// an incrementally maintained state.
    ///
    /// # Errors
    /// `store.inconsistent`, naming the first region that differs.
    pub fn check_sums(&self) -> Result<(), AggregateError> {
        for c in &self.contests {
            let mut recomputed = c.clone();
            Self::sum_bottom_up(&mut recomputed);
            for (a, b) in c.regions.iter().zip(&recomputed.regions) {
                if a != b {
                    return Err(AggregateError::new(
                        ErrorCode::StoreInconsistent,
                        format!(
                            "contest {}: {:?} {} is not the sum of the level below",
                            c.id, a.level, a.id
                        ),
                    ));
                }
            }
            if let Some(k) = &c.constituency {
                let ki = c.region_index[&(Level::Constituency, k.clone())];
                let (k, n) = (&c.regions[ki], &c.regions[0]);
                if k.counted != n.counted || k.standing != n.standing {
                    return Err(AggregateError::new(
                        ErrorCode::StoreInconsistent,
                        format!("contest {}: constituency and nation differ", c.id),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The election id.
    pub fn election(&self) -> &str {
        &self.election
    }

    /// SHA-256 of the manifest this aggregates.
    pub fn manifest_sha256(&self) -> Hash {
        self.manifest_sha256
    }

    /// Contest ids in manifest order.
    pub fn contest_ids(&self) -> impl Iterator<Item = &str> {
        self.contests.iter().map(|c| c.id.as_str())
    }

    /// The candidate codes of a contest in manifest order (the order of
    /// [`Sums::votes`]).
    pub fn candidates(&self, contest: &str) -> Option<&[u32]> {
        let ci = *self.contest_index.get(contest)?;
        Some(&self.contests[ci].codes)
    }

    /// A region's totals. Stations are at [`Level::Station`] with their id.
    pub fn region(&self, contest: &str, level: Level, id: &str) -> Option<RegionTotals> {
        let c = &self.contests[*self.contest_index.get(contest)?];
        if level == Level::Station {
            let bi = *c.box_index.get(id)?;
            return Some(c.boxes[bi].totals(&c.layout.boxes[bi], c.codes.len()));
        }
        let ri = *c.region_index.get(&(level, id.to_owned()))?;
        Some(c.regions[ri].clone())
    }

    /// Every region of a contest (not stations): nation, constituency,
    /// provinces, counties, in that order.
    pub fn regions(&self, contest: &str) -> Option<&[RegionTotals]> {
        let ci = *self.contest_index.get(contest)?;
        Some(&self.contests[ci].regions)
    }

    /// Every station box of a contest, in manifest order.
    pub fn stations(&self, contest: &str) -> Option<Vec<RegionTotals>> {
        let c = &self.contests[*self.contest_index.get(contest)?];
        Some(
            c.boxes
                .iter()
                .zip(&c.layout.boxes)
                .map(|(b, at)| b.totals(at, c.codes.len()))
                .collect(),
        )
    }

    /// The number of a contest's boxes that count in the standing sum: with
    /// a tally and not annulled ([`RegionTotals::stations_counted`] of the
    /// region that decides it).
    pub fn stations_counted(&self, contest: &str) -> Option<u64> {
        self.contest_totals(contest).map(|t| t.stations_counted)
    }

    /// The totals that decide the contest: its constituency's, or the
    /// nation's for a nation-wide contest.
    pub fn contest_totals(&self, contest: &str) -> Option<&RegionTotals> {
        let c = &self.contests[*self.contest_index.get(contest)?];
        c.regions.get(c.top)
    }

    /// A contest's deciding figures as they stood after the log's first
    /// `size` entries (those applied with an index below `size`): the totals
    /// of its constituency (or the nation), and how many boxes count in the
    /// standing sum. One pass over the contest's boxes, O(boxes × votes on a
    /// tally), whatever the size: this is how the statement an announcement
    /// is checked against is computed at any size (`spec/announcements.md`
    /// §4), with no second copy of the log. A box whose revision in force at
    /// `size` is neither its first nor its latest has that revision read
    /// from `log`.
    ///
    /// # Errors
    /// `contest.unknown`; `log` cannot give a revision, or gives one
    /// that is not this box's (`board.store-inconsistent`).
    pub fn contest_at(
        &self,
        contest: &str,
        size: u64,
        log: &dyn LogReader,
    ) -> Result<ContestAt<'_>, AggregateError> {
        let unknown = || {
            AggregateError::new(
                ErrorCode::UnknownContest,
                format!("contest {contest} is not in the manifest"),
            )
        };
        let ci = *self.contest_index.get(contest).ok_or_else(unknown)?;
        let c = &self.contests[ci];
        let t = c.regions.get(c.top).ok_or_else(unknown)?;
        let mut top = RegionTotals::new(t.level, &t.id, t.parent.as_deref(), c.codes.len());
        for (bi, b) in c.boxes.iter().enumerate() {
            let annulled = b.annulled_at.is_some_and(|i| i < size);
            top.stations_expected += 1;
            top.stations_annulled += u64::from(annulled);
            let Some(first) = b.first.as_deref().filter(|f| f.index < size) else {
                continue;
            };
            let latest = b.latest().unwrap_or(first);
            let read;
            let in_force = if latest.index < size {
                latest
            } else {
                // Revised at or after `size`: the revision in force then
                // is read back along the chain of `supersedes`.
                let (index, t) = crate::state::revision_in_force(log, latest.index, size)?;
                let p = self.prepare(index, &t)?;
                if (p.contest, p.boxi) != (ci, bi) {
                    return Err(AggregateError::new(
                        ErrorCode::StoreInconsistent,
                        format!(
                            "entry {index} is not a tally of station {} for contest {contest}",
                            c.layout.boxes[bi].station
                        ),
                    ));
                }
                read = p.figures;
                &read
            };
            top.stations_reported += 1;
            top.stations_revised += u64::from(in_force.revision > 1);
            top.counted.add_box(first);
            if !annulled {
                top.standing.add_box(in_force);
                top.stations_counted += 1;
            }
        }
        Ok(ContestAt {
            top,
            codes: &c.codes,
            rules: &c.rules,
        })
    }

    /// The rules' input for a contest, from one of the two sums over its
    /// whole constituency: every candidate, every candidate's votes (zeros
    /// included), valid and void-taken ballots.
    pub fn contest_counts(&self, contest: &str, sum: Sum) -> Option<ContestCounts> {
        let c = &self.contests[*self.contest_index.get(contest)?];
        Some(c.regions.get(c.top)?.sums(sum).counts(&c.codes))
    }

    /// Applies the contest's rules ([`rules_for`]) to the standing sum.
    ///
    /// # Errors
    /// The rules' refusal, or `contest.unknown`.
    pub fn decide(&self, contest: &str, lots: &[LotDraw]) -> Result<Decision, AggregateError> {
        let Some(&ci) = self.contest_index.get(contest) else {
            return Err(AggregateError::new(
                ErrorCode::UnknownContest,
                format!("contest {contest} is not in the manifest"),
            ));
        };
        let counts = self
            .contest_counts(contest, Sum::Standing)
            .unwrap_or_default();
        rules::decide(&self.contests[ci].rules, &counts, lots)
            .map_err(|e| AggregateError::new(e.code(), e.to_string()))
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;
