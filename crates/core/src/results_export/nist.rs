//! NIST SP 1500-100 v2 Election Results Reporting JSON (`spec/exports.md` §4).
//!
//! The ERR v2 schema sets `additionalProperties: false` on every class, so
//! the figures it has no field for (counterfoils, the taken / not-taken void
//! split) travel beside it in an envelope ([`nist_envelope`]), and the plain
//! report ([`nist_report`]) validates against NIST's published schema.

use super::{check_inputs, outcome, ExportError, Names, Outcome};
use crate::aggregate::{CheckpointRef, ContestResults, Level, RegionResults, ResultsDocument};
use crate::entry::json::ballot_figures;
use crate::manifest::{Contest, ValidatedManifest};
use crate::rules::ElectionKind;
use crate::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// ERR `ResultsStatus`, as far as the board can know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportStatus {
    /// Counting is going on: not every expected station has reported.
    UnofficialPartial,
    /// Every expected station has reported; not yet approved.
    UnofficialComplete,
    /// Approved by the supervising body (the Guardian Council).
    Certified,
}

impl ReportStatus {
    fn as_str(self) -> &'static str {
        match self {
            ReportStatus::UnofficialPartial => "unofficial-partial",
            ReportStatus::UnofficialComplete => "unofficial-complete",
            ReportStatus::Certified => "certified",
        }
    }
}

/// How fine the report's geography is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NistDetail {
    /// Nation, constituencies, provinces and counties (`Format`
    /// `summary-contest`): about 500 units for the national election.
    Counties,
    /// Also every polling station (`Format` `precinct-level`); needs a
    /// results document built with stations.
    Stations,
}

/// Parameters of the NIST report that the results do not determine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NistOptions {
    /// `Status`.
    pub status: ReportStatus,
    /// Geography.
    pub detail: NistDetail,
    /// `GeneratedDate`: `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM`
    /// (Iran is `+03:30`). The core reads no clock: the caller gives it.
    pub generated_date: String,
    /// `Issuer`.
    pub issuer: String,
    /// `IssuerAbbreviation`.
    pub issuer_abbreviation: String,
    /// `IsTest` (true for the synthetic demo election).
    pub is_test: bool,
}

impl NistOptions {
    /// Options with the Ministry of Interior's election headquarters as
    /// issuer.
    pub fn new(status: ReportStatus, detail: NistDetail, generated_date: &str) -> NistOptions {
        NistOptions {
            status,
            detail,
            generated_date: generated_date.to_owned(),
            issuer: "ستاد انتخابات کشور".into(),
            issuer_abbreviation: "IR-MOI".into(),
            is_test: false,
        }
    }
}

/// `VendorApplicationId`.
pub const VENDOR_APPLICATION_ID: &str = concat!("tallyboard ", env!("CARGO_PKG_VERSION"));

/// The envelope's `format`.
pub const ENVELOPE_FORMAT: &str = "tallyboard/nist-err-envelope/v1";

/// `YYYY-MM-DDTHH:MM:SS(Z|±HH:MM)`, a strict subset of ERR's DateTimeWithZone.
fn is_datetime_with_zone(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let num =
        |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok()).unwrap_or(99);
    if b.len() < 20 || !digits(0..4) || b[4] != b'-' || !digits(5..7) || b[7] != b'-' {
        return false;
    }
    if !digits(8..10) || b[10] != b'T' || !digits(11..13) || b[13] != b':' || !digits(14..16) {
        return false;
    }
    if b[16] != b':' || !digits(17..19) {
        return false;
    }
    let (mo, d, h, mi, se) = (num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return false;
    }
    match &s[19..] {
        "Z" => true,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) => {
            let zb = z.as_bytes();
            let (zh, zm) = (num(20..22), num(23..25));
            zb[1..3].iter().all(u8::is_ascii_digit)
                && zb[3] == b':'
                && zb[4..6].iter().all(u8::is_ascii_digit)
                && ((zh <= 13 && zm <= 59) || (zh == 14 && zm == 0))
        }
        _ => false,
    }
}

/// The ERR `@id` of a region: NCName-safe ASCII (manifest ids are
/// `[a-z0-9-]`, so a letter prefix suffices).
pub fn gpunit_id(level: Level, id: &str) -> String {
    match level {
        Level::Nation => "ru-nation".into(),
        Level::Constituency => format!("ru-k-{id}"),
        Level::Province => format!("ru-p-{id}"),
        Level::County => format!("ru-c-{id}"),
        Level::Station => format!("ru-s-{id}"),
    }
}

fn text(en: &str, fa: &str) -> Value {
    json!({
        "@type": "ElectionResults.InternationalizedText",
        "Text": [
            {"@type": "ElectionResults.LanguageString", "Content": fa, "Language": "fa"},
            {"@type": "ElectionResults.LanguageString", "Content": en, "Language": "en"},
        ]
    })
}

fn ext_id(kind: &str, value: &str) -> Value {
    let mut m = Map::new();
    m.insert("@type".into(), "ElectionResults.ExternalIdentifier".into());
    if kind == "national-level" {
        m.insert("Type".into(), "national-level".into());
    } else {
        m.insert("Type".into(), "other".into());
        m.insert("OtherType".into(), kind.into());
    }
    m.insert("Value".into(), value.into());
    Value::Object(m)
}

fn included(r: &RegionResults, detail: NistDetail) -> bool {
    r.level != Level::Station || detail == NistDetail::Stations
}

fn gpunits(manifest: &ValidatedManifest, detail: NistDetail) -> Vec<Value> {
    let m = manifest.manifest();
    let names = Names::new(manifest);
    let unit = |level: Level, id: &str, ty: &str, composing: Vec<String>| -> Value {
        let (en, fa) = names.region(level, id);
        let mut u = Map::new();
        u.insert("@id".into(), gpunit_id(level, id).into());
        u.insert("@type".into(), "ElectionResults.ReportingUnit".into());
        if !composing.is_empty() {
            u.insert("ComposingGpUnitIds".into(), composing.into());
        }
        if level != Level::Nation {
            u.insert(
                "ExternalIdentifier".into(),
                json!([ext_id("national-level", id)]),
            );
        }
        if !en.is_empty() {
            u.insert("Name".into(), text(en, fa));
        }
        if ty == "electoral-constituency" {
            u.insert("IsDistricted".into(), true.into());
            u.insert("OtherType".into(), ty.into());
            u.insert("Type".into(), "other".into());
        } else {
            u.insert("Type".into(), ty.into());
        }
        Value::Object(u)
    };
    let mut out = Vec::new();
    out.push(unit(
        Level::Nation,
        crate::aggregate::NATION_ID,
        "country",
        m.provinces
            .iter()
            .map(|p| gpunit_id(Level::Province, &p.id))
            .collect(),
    ));
    for k in &m.constituencies {
        let composing = k
            .counties
            .iter()
            .map(|c| gpunit_id(Level::County, c))
            .collect();
        out.push(unit(
            Level::Constituency,
            &k.id,
            "electoral-constituency",
            composing,
        ));
    }
    for p in &m.provinces {
        let composing = m
            .counties
            .iter()
            .filter(|c| c.province == p.id)
            .map(|c| gpunit_id(Level::County, &c.id))
            .collect();
        out.push(unit(Level::Province, &p.id, "state", composing));
    }
    let stations = detail == NistDetail::Stations;
    let mut per_county: std::collections::HashMap<&str, Vec<String>> = Default::default();
    if stations {
        for s in &m.stations {
            per_county
                .entry(s.county.as_str())
                .or_default()
                .push(gpunit_id(Level::Station, &s.id));
        }
    }
    for c in &m.counties {
        let composing = per_county.remove(c.id.as_str()).unwrap_or_default();
        out.push(unit(Level::County, &c.id, "county", composing));
    }
    if stations {
        for s in &m.stations {
            out.push(json!({
                "@id": gpunit_id(Level::Station, &s.id),
                "@type": "ElectionResults.ReportingUnit",
                "ExternalIdentifier": [ext_id("national-level", &s.id), ext_id("station-kind", &s.kind)],
                "Number": s.id,
                "Type": "polling-place",
            }));
        }
    }
    out
}

/// The NIST `VoteVariation` of a contest (`spec/exports.md` §4.4): the one
/// place it is decided from the contest's kind and round.
fn vote_variation(contest: &Contest) -> (&'static str, Option<&'static str>) {
    let round = contest.round.unwrap_or(1);
    match (contest.kind, round) {
        (ElectionKind::Presidential, 1) => ("majority", None),
        (ElectionKind::Majlis, 1) => (
            "other",
            Some("elected with at least the threshold share of valid ballots (default 20%), then a runoff by plurality"),
        ),
        _ if contest.seats > 1 => ("n-of-m", None),
        _ => ("plurality", None),
    }
}

fn post_status(o: Option<Outcome>, status: ReportStatus) -> Option<&'static str> {
    match (status, o?) {
        (ReportStatus::Certified, Outcome::Elected) => Some("winner"),
        (ReportStatus::Certified, Outcome::Runoff) => Some("advanced-to-runoff"),
        (ReportStatus::Certified, Outcome::NotElected) => Some("defeated"),
        (ReportStatus::UnofficialComplete, Outcome::Elected) => Some("projected-winner"),
        _ => None,
    }
}

fn candidate_id(contest: &str, code: u32) -> String {
    format!("cand-{contest}-{code}")
}

fn contest_value(c: &ContestResults, contest: &Contest, opts: &NistOptions) -> Value {
    let (variation, other) = vote_variation(contest);
    let regions: Vec<&RegionResults> = c
        .regions
        .iter()
        .filter(|r| included(r, opts.detail))
        .collect();
    let selections: Vec<Value> = contest
        .candidates
        .iter()
        .enumerate()
        .map(|(i, cand)| {
            let counts: Vec<Value> = regions
                .iter()
                .filter_map(|r| {
                    let n = r.standing.votes_of(cand.code);
                    (n > 0 || r.level != Level::Station).then(|| {
                        json!({
                            "@type": "ElectionResults.VoteCounts",
                            "Count": n,
                            "GpUnitId": gpunit_id(r.level, &r.id),
                            "Type": "total",
                        })
                    })
                })
                .collect();
            json!({
                "@id": format!("cs-{}-{}", contest.id, cand.code),
                "@type": "ElectionResults.CandidateSelection",
                "CandidateIds": [candidate_id(&contest.id, cand.code)],
                "SequenceOrder": i + 1,
                "VoteCounts": counts,
            })
        })
        .collect();
    let district = match &contest.constituency {
        Some(k) => gpunit_id(Level::Constituency, k),
        None => gpunit_id(Level::Nation, ""),
    };
    let mut v = Map::new();
    v.insert("@id".into(), format!("cc-{}", contest.id).into());
    v.insert("@type".into(), "ElectionResults.CandidateContest".into());
    v.insert(
        "BallotTitle".into(),
        text(&contest.name_en, &contest.name_fa),
    );
    v.insert("ContestSelection".into(), selections.into());
    if let Some(t) = c.top() {
        let done = t.stations_reported == t.stations_expected;
        v.insert(
            "CountStatus".into(),
            json!([{
                "@type": "ElectionResults.CountStatus",
                "Status": if done { "completed" } else { "in-process" },
                "Type": "total",
            }]),
        );
        v.insert("SubUnitsReported".into(), t.stations_reported.into());
        v.insert("TotalSubUnits".into(), t.stations_expected.into());
    }
    v.insert("ElectionDistrictId".into(), district.into());
    v.insert(
        "ExternalIdentifier".into(),
        json!([ext_id("tallyboard-contest", &contest.id)]),
    );
    v.insert("Name".into(), contest.name_en.clone().into());
    v.insert("NumberElected".into(), contest.seats.into());
    if let Some(d) = &c.decision {
        v.insert("NumberRunoff".into(), d.runoff.len().into());
    }
    if contest.seats > 1 {
        let other: Vec<Value> = regions
            .iter()
            .map(|r| {
                let cast: u64 = r.standing.votes.iter().map(|x| x.votes).sum();
                let possible = u64::from(contest.seats).saturating_mul(r.standing.valid);
                let under = possible.saturating_sub(cast);
                json!({
                    "@type": "ElectionResults.OtherCounts",
                    "GpUnitId": gpunit_id(r.level, &r.id),
                    "Undervotes": under,
                })
            })
            .collect();
        v.insert("OtherCounts".into(), other.into());
    }
    if let Some(o) = other {
        v.insert("OtherVoteVariation".into(), o.into());
    }
    v.insert("VoteVariation".into(), variation.into());
    v.insert("VotesAllowed".into(), contest.seats.into());
    Value::Object(v)
}

fn report_value(
    manifest: &ValidatedManifest,
    results: &ResultsDocument,
    checkpoint: &CheckpointRef,
    opts: &NistOptions,
) -> Result<Value, ExportError> {
    check_inputs(manifest, results, checkpoint)?;
    if !is_datetime_with_zone(&opts.generated_date) {
        return Err(ExportError::new(
            ErrorCode::EntryBadValue,
            format!(
                "generated date {:?} is not YYYY-MM-DDTHH:MM:SS with Z or ±HH:MM",
                opts.generated_date
            ),
        ));
    }
    if opts.detail == NistDetail::Stations
        && results
            .contests
            .iter()
            .any(|c| !c.regions.iter().any(|r| r.level == Level::Station))
    {
        return Err(ExportError::new(
            ErrorCode::EntryBadValue,
            "a precinct-level report needs a results document built with stations",
        ));
    }
    let m = manifest.manifest();
    let mut candidates = Vec::new();
    let mut contests = Vec::new();
    for c in &results.contests {
        let Some(contest) = manifest.contest(&c.id) else {
            continue;
        };
        for cand in &contest.candidates {
            let mut v = Map::new();
            v.insert("@id".into(), candidate_id(&contest.id, cand.code).into());
            v.insert("@type".into(), "ElectionResults.Candidate".into());
            v.insert("BallotName".into(), text(&cand.name_en, &cand.name_fa));
            v.insert(
                "ExternalIdentifier".into(),
                json!([ext_id("national-level", &cand.code.to_string())]),
            );
            let o = c.decision.as_ref().and_then(|d| outcome(d, cand.code));
            if let Some(s) = post_status(o, opts.status) {
                v.insert("PostElectionStatus".into(), s.into());
            }
            candidates.push(Value::Object(v));
        }
        contests.push(contest_value(c, contest, opts));
    }
    let mut election = Map::new();
    election.insert("@type".into(), "ElectionResults.Election".into());
    // ERR's BallotCounts hang off the election, not a contest: they are
    // given only when the election has a single contest (one ballot).
    if let [c] = results.contests.as_slice() {
        let counts: Vec<Value> = c
            .regions
            .iter()
            .filter(|r| included(r, opts.detail))
            .map(ballot_counts)
            .collect();
        election.insert("BallotCounts".into(), counts.into());
    }
    election.insert("Candidate".into(), candidates.into());
    election.insert("Contest".into(), contests.into());
    election.insert(
        "ElectionScopeId".into(),
        gpunit_id(Level::Nation, "").into(),
    );
    election.insert("EndDate".into(), m.election.date.clone().into());
    election.insert(
        "ExternalIdentifier".into(),
        json!([ext_id("tallyboard-election", &m.election.id)]),
    );
    election.insert(
        "Name".into(),
        text(&m.election.name_en, &m.election.name_fa),
    );
    election.insert("StartDate".into(), m.election.date.clone().into());
    let runoff = !m.contests.is_empty() && m.contests.iter().all(|c| c.round == Some(2));
    election.insert(
        "Type".into(),
        if runoff { "runoff" } else { "general" }.into(),
    );

    let notes = format!(
        "tallyboard results of manifest sha256 {} at log checkpoint size {} root {}. Vote and ballot counts are the standing sum: each station's latest tally revision, annulled boxes counted as zero. Counterfoils and the taken / not-taken split of void ballots are in the tallyboard envelope and the JSON export.",
        manifest.digest(),
        checkpoint.size,
        checkpoint.root
    );
    let mut report = Map::new();
    report.insert("@type".into(), "ElectionResults.ElectionReport".into());
    report.insert("Election".into(), json!([Value::Object(election)]));
    report.insert(
        "Format".into(),
        match opts.detail {
            NistDetail::Counties => "summary-contest",
            NistDetail::Stations => "precinct-level",
        }
        .into(),
    );
    report.insert("GeneratedDate".into(), opts.generated_date.clone().into());
    report.insert("GpUnit".into(), gpunits(manifest, opts.detail).into());
    report.insert("IsTest".into(), opts.is_test.into());
    report.insert("Issuer".into(), opts.issuer.clone().into());
    report.insert(
        "IssuerAbbreviation".into(),
        opts.issuer_abbreviation.clone().into(),
    );
    report.insert("Notes".into(), notes.into());
    report.insert("SequenceEnd".into(), 1.into());
    report.insert("SequenceStart".into(), 1.into());
    report.insert("Status".into(), opts.status.as_str().into());
    report.insert("VendorApplicationId".into(), VENDOR_APPLICATION_ID.into());
    Ok(Value::Object(report))
}

fn ballot_counts(r: &RegionResults) -> Value {
    json!({
        "@type": "ElectionResults.BallotCounts",
        "BallotsCast": r.standing.ballots_in_box,
        "BallotsRejected": r.standing.void_taken + r.standing.void_not_taken,
        "GpUnitId": gpunit_id(r.level, &r.id),
        "Type": "total",
    })
}

/// The NIST SP 1500-100 v2 `ElectionReport`, compact JSON; it validates
/// against NIST's `NIST_V2_election_results_reporting.json`.
///
/// # Errors
/// The document is not of this manifest or checkpoint; the generated date
/// is malformed; a precinct-level report of a document without stations.
pub fn nist_report(
    manifest: &ValidatedManifest,
    results: &ResultsDocument,
    checkpoint: &CheckpointRef,
    opts: &NistOptions,
) -> Result<Vec<u8>, ExportError> {
    let v = report_value(manifest, results, checkpoint, opts)?;
    Ok(serde_json::to_vec(&v).unwrap_or_default())
}

/// The ERR report in tallyboard's envelope, carrying what ERR has no field
/// for: `{"checkpoint", "election_report", "extras", "format",
/// "manifest_sha256"}`, where `extras` has, per contest and reporting unit
/// of the report, both sums' ballot figures (counterfoils, ballots in box,
/// votes taken, void taken, void not taken, valid).
///
/// # Errors
/// As [`nist_report`].
pub fn nist_envelope(
    manifest: &ValidatedManifest,
    results: &ResultsDocument,
    checkpoint: &CheckpointRef,
    opts: &NistOptions,
) -> Result<Vec<u8>, ExportError> {
    let report = report_value(manifest, results, checkpoint, opts)?;
    let mut extras = Vec::new();
    for c in &results.contests {
        for r in c.regions.iter().filter(|r| included(r, opts.detail)) {
            extras.push(json!({
                "contest": c.id,
                "counted": ballot_figures(&r.counted.ballots()),
                "gpunit": gpunit_id(r.level, &r.id),
                "standing": ballot_figures(&r.standing.ballots()),
            }));
        }
    }
    let v = json!({
        "checkpoint": checkpoint,
        "election_report": report,
        "extras": extras,
        "format": ENVELOPE_FORMAT,
        "manifest_sha256": manifest.digest().to_hex(),
    });
    Ok(serde_json::to_vec(&v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::is_datetime_with_zone;

    #[test]
    fn generated_date_format() {
        for ok in [
            "2024-06-29T08:00:00+03:30",
            "2024-06-29T04:30:00Z",
            "2024-12-31T23:59:59-14:00",
        ] {
            assert!(is_datetime_with_zone(ok), "{ok}");
        }
        for bad in [
            "2024-06-29",
            "2024-06-29T08:00:00",
            "2024-06-29 08:00:00Z",
            "2024-13-29T08:00:00Z",
            "2024-06-29T24:00:01Z",
            "2024-06-29T08:00:00+14:30",
            "2024-06-29T08:00:00+3:30",
            "2024-06-29T08:00:00+03:30x",
            "۲۰۲۴-06-29T08:00:00Z",
        ] {
            assert!(!is_datetime_with_zone(bad), "{bad}");
        }
    }
}
