//! Exports of the aggregated results (`spec/exports.md`): CSV, JSON and
//! NIST SP 1500-100 v2 Election Results Reporting (ERR) JSON.
//!
//! Every export is a pure function of the validated manifest, a
//! [`ResultsDocument`] (which carries the contests' decisions when they were
//! computed) and the checkpoint the results were computed at, given by the
//! caller. Nothing here reads a clock: the NIST report's `GeneratedDate` is
//! a parameter too. Names are written exactly as the signed manifest gives
//! them, only escaped as each format requires.

use crate::aggregate::{CheckpointRef, Figures, Level, RegionResults, ResultsDocument, NATION_ID};
use crate::error::Coded;
use crate::manifest::{Contest, ValidatedManifest};
use crate::rules::{Decision, Status};
use crate::ErrorCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

mod nist;

pub use nist::{nist_envelope, nist_report, NistDetail, NistOptions, ReportStatus};

/// The nation's name in the exports (the manifest names provinces down,
/// not the country).
pub const NATION_NAME_EN: &str = "Iran";
/// The nation's name in Persian.
pub const NATION_NAME_FA: &str = "ایران";

/// Why an export could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportError {
    code: ErrorCode,
    message: String,
}

impl ExportError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ExportError {
            code,
            message: message.into(),
        }
    }
    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Coded for ExportError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ExportError {}

/// Checks that the document is of this manifest and, if it records a
/// checkpoint, of this checkpoint.
fn check_inputs(
    manifest: &ValidatedManifest,
    results: &ResultsDocument,
    checkpoint: &CheckpointRef,
) -> Result<(), ExportError> {
    if results.manifest_sha256 != manifest.digest().to_hex() {
        return Err(ExportError::new(
            ErrorCode::ManifestDigestMismatch,
            format!(
                "results are of manifest {}, not {}",
                results.manifest_sha256,
                manifest.digest()
            ),
        ));
    }
    if let Some(c) = &results.checkpoint {
        if c != checkpoint {
            return Err(ExportError::new(
                ErrorCode::CheckpointMalformed,
                format!(
                    "results were computed at checkpoint {} ({}), not {} ({})",
                    c.size, c.root, checkpoint.size, checkpoint.root
                ),
            ));
        }
    }
    for c in &results.contests {
        if manifest.contest(&c.id).is_none() {
            return Err(ExportError::new(
                ErrorCode::UnknownContest,
                format!("contest {} is not in the manifest", c.id),
            ));
        }
    }
    Ok(())
}

/// Region names from the manifest: (level, id) → (en, fa).
struct Names<'a> {
    regions: HashMap<(Level, &'a str), (&'a str, &'a str)>,
}

impl<'a> Names<'a> {
    fn new(manifest: &'a ValidatedManifest) -> Names<'a> {
        let m = manifest.manifest();
        let mut regions = HashMap::new();
        regions.insert((Level::Nation, NATION_ID), (NATION_NAME_EN, NATION_NAME_FA));
        for p in &m.provinces {
            regions.insert(
                (Level::Province, p.id.as_str()),
                (p.name_en.as_str(), p.name_fa.as_str()),
            );
        }
        for c in &m.counties {
            regions.insert(
                (Level::County, c.id.as_str()),
                (c.name_en.as_str(), c.name_fa.as_str()),
            );
        }
        for k in &m.constituencies {
            regions.insert(
                (Level::Constituency, k.id.as_str()),
                (k.name_en.as_str(), k.name_fa.as_str()),
            );
        }
        Names { regions }
    }

    /// Stations have no names: ("", "").
    fn region(&self, level: Level, id: &str) -> (&'a str, &'a str) {
        self.regions.get(&(level, id)).copied().unwrap_or(("", ""))
    }
}

fn level_str(l: Level) -> &'static str {
    match l {
        Level::Nation => "nation",
        Level::Constituency => "constituency",
        Level::Province => "province",
        Level::County => "county",
        Level::Station => "station",
    }
}

/// The CSV header (`spec/exports.md` §2).
pub const CSV_HEADER: &[&str] = &[
    "election",
    "checkpoint_size",
    "contest",
    "level",
    "region_id",
    "parent_id",
    "region_name_en",
    "region_name_fa",
    "candidate",
    "candidate_name_en",
    "candidate_name_fa",
    "stations_expected",
    "stations_reported",
    "stations_revised",
    "stations_annulled",
    "counted_counterfoils",
    "counted_ballots_in_box",
    "counted_votes_taken",
    "counted_void_taken",
    "counted_void_not_taken",
    "counted_valid",
    "counted_votes",
    "counted_share_bp",
    "standing_counterfoils",
    "standing_ballots_in_box",
    "standing_votes_taken",
    "standing_void_taken",
    "standing_void_not_taken",
    "standing_valid",
    "standing_votes",
    "standing_share_bp",
];

/// One CSV cell.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(&'a str),
    Num(u64),
    Empty,
}

/// RFC 4180: every text cell is quoted, `"` doubled; numbers bare; CRLF.
fn push_row(out: &mut String, cells: &[Cell<'_>]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match c {
            Cell::Text(s) => {
                out.push('"');
                for ch in s.chars() {
                    if ch == '"' {
                        out.push('"');
                    }
                    out.push(ch);
                }
                out.push('"');
            }
            Cell::Num(n) => out.push_str(&n.to_string()),
            Cell::Empty => {}
        }
    }
    out.push_str("\r\n");
}

/// The six ballot figures in entry order (the order of the header), then
/// the two candidate columns empty.
fn ballot_cells(f: &Figures) -> [Cell<'static>; 8] {
    let mut cells = [Cell::Empty; 8];
    for (cell, (_, n)) in cells.iter_mut().zip(f.ballots().named()) {
        *cell = Cell::Num(n);
    }
    cells
}

fn candidate_cells(f: &Figures, code: u32) -> [Cell<'static>; 8] {
    let (votes, bp) = f
        .votes
        .binary_search_by_key(&code, |v| v.candidate)
        .map_or((0, 0), |i| (f.votes[i].votes, f.votes[i].share_bp));
    [
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Num(votes),
        Cell::Num(bp),
    ]
}

/// The CSV export: UTF-8 without byte-order mark, RFC 4180 (CRLF, every
/// text cell quoted), header [`CSV_HEADER`]. For each contest, for each
/// region of the document in order (nation, constituency, provinces,
/// counties, then stations if the document has them): one *ballots* row
/// (empty `candidate`) with the station counts and the ballot figures of
/// both sums, then one *candidate* row per candidate with at least one vote
/// in either sum, in manifest (ballot) order, with votes and shares of both
/// sums. A candidate without a row has 0 votes there.
///
/// # Errors
/// The document is not of this manifest or of this checkpoint.
pub fn csv(
    manifest: &ValidatedManifest,
    results: &ResultsDocument,
    checkpoint: &CheckpointRef,
) -> Result<Vec<u8>, ExportError> {
    check_inputs(manifest, results, checkpoint)?;
    let names = Names::new(manifest);
    let mut out = String::new();
    let header: Vec<Cell<'_>> = CSV_HEADER.iter().map(|h| Cell::Text(h)).collect();
    push_row(&mut out, &header);
    for c in &results.contests {
        let Some(contest) = manifest.contest(&c.id) else {
            continue;
        };
        for r in &c.regions {
            csv_region(&mut out, results, checkpoint, contest, &names, r);
        }
    }
    Ok(out.into_bytes())
}

fn csv_region(
    out: &mut String,
    results: &ResultsDocument,
    checkpoint: &CheckpointRef,
    contest: &Contest,
    names: &Names<'_>,
    r: &RegionResults,
) {
    let (en, fa) = names.region(r.level, &r.id);
    let lead = [
        Cell::Text(&results.election),
        Cell::Num(checkpoint.size),
        Cell::Text(&contest.id),
        Cell::Text(level_str(r.level)),
        Cell::Text(&r.id),
        r.parent.as_deref().map_or(Cell::Empty, Cell::Text),
        Cell::Text(en),
        Cell::Text(fa),
    ];
    let mut row: Vec<Cell<'_>> = Vec::with_capacity(CSV_HEADER.len());
    row.extend(lead.iter().copied());
    row.extend([
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Num(r.stations_expected),
        Cell::Num(r.stations_reported),
        Cell::Num(r.stations_revised),
        Cell::Num(r.stations_annulled),
    ]);
    row.extend(ballot_cells(&r.counted));
    row.extend(ballot_cells(&r.standing));
    push_row(out, &row);
    for cand in &contest.candidates {
        let code = cand.code;
        if r.counted.votes_of(code) == 0 && r.standing.votes_of(code) == 0 {
            continue;
        }
        row.clear();
        row.extend(lead.iter().copied());
        row.extend([
            Cell::Num(u64::from(code)),
            Cell::Text(&cand.name_en),
            Cell::Text(&cand.name_fa),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]);
        row.extend(candidate_cells(&r.counted, code));
        row.extend(candidate_cells(&r.standing, code));
        push_row(out, &row);
    }
}

/// The JSON export: the results document exactly as the API serves it
/// (`spec/aggregation.md` §5), with `checkpoint` set to the one given, in
/// its canonical compact form.
///
/// # Errors
/// The document is not of this manifest or records another checkpoint.
pub fn json(
    manifest: &ValidatedManifest,
    results: &ResultsDocument,
    checkpoint: &CheckpointRef,
) -> Result<Vec<u8>, ExportError> {
    check_inputs(manifest, results, checkpoint)?;
    let mut doc = results.clone();
    doc.checkpoint = Some(checkpoint.clone());
    Ok(doc.to_bytes())
}

/// What the decision says about one candidate, for exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Elected.
    Elected,
    /// Goes to the runoff.
    Runoff,
    /// A ranked reserve member.
    Reserve,
    /// In a tie awaiting a lot.
    LotNeeded,
    /// None of the above in a decision where every place is settled.
    NotElected,
}

/// A candidate's outcome in a contest's decision, if the contest has one.
pub fn outcome(d: &Decision, code: u32) -> Option<Outcome> {
    if d.elected.contains(&code) {
        Some(Outcome::Elected)
    } else if d.runoff.contains(&code) {
        Some(Outcome::Runoff)
    } else if d.reserves.iter().any(|r| r.candidate == code) {
        Some(Outcome::Reserve)
    } else if d.lot_needed.iter().any(|t| t.among.contains(&code)) {
        Some(Outcome::LotNeeded)
    } else if matches!(d.status, Status::Complete | Status::Runoff) {
        Some(Outcome::NotElected)
    } else {
        None
    }
}

/// A unit a station-level export covers (`spec/exports.md` §5): a county,
/// or a constituency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit<'a> {
    /// A county: its own totals and its stations' boxes.
    County(&'a str),
    /// A constituency: its own totals (for its contests), its counties'
    /// and their stations' boxes.
    Constituency(&'a str),
}

/// The counties a [`Unit`] covers: the county itself, or the
/// constituency's; `None` when the manifest has no such unit.
pub fn unit_counties(
    manifest: &ValidatedManifest,
    unit: Unit<'_>,
) -> Option<std::collections::BTreeSet<String>> {
    let m = manifest.manifest();
    match unit {
        Unit::County(id) => {
            let c = m.counties.iter().find(|c| c.id == id)?;
            Some([c.id.clone()].into())
        }
        Unit::Constituency(id) => {
            let k = m.constituencies.iter().find(|k| k.id == id)?;
            Some(k.counties.iter().cloned().collect())
        }
    }
}

/// The part of a results document with stations that one [`Unit`] covers,
/// for a station-level export of that unit: per contest, the unit's own
/// region, its counties and their stations, in the document's order;
/// contests with none of them are left out. The checkpoint, manifest
/// digest and each contest's decision (over the whole contest) are kept,
/// so the CSV and JSON exports of it are those of §2–3, only shorter.
/// `None` when the manifest has no such unit.
pub fn scoped(
    manifest: &ValidatedManifest,
    doc: &ResultsDocument,
    unit: Unit<'_>,
) -> Option<ResultsDocument> {
    let counties = unit_counties(manifest, unit)?;
    let own = match unit {
        Unit::County(id) => (Level::County, id),
        Unit::Constituency(id) => (Level::Constituency, id),
    };
    let keep = |r: &RegionResults| match r.level {
        Level::Station => r.parent.as_ref().is_some_and(|p| counties.contains(p)),
        Level::County => counties.contains(&r.id),
        level => own == (level, r.id.as_str()),
    };
    let contests = doc
        .contests
        .iter()
        .filter_map(|c| {
            let regions: Vec<RegionResults> =
                c.regions.iter().filter(|r| keep(r)).cloned().collect();
            (!regions.is_empty()).then(|| crate::aggregate::ContestResults {
                regions,
                ..c.clone()
            })
        })
        .collect();
    Some(ResultsDocument {
        contests,
        ..doc.clone()
    })
}

#[cfg(test)]
mod tests;
