use super::*;
use crate::aggregate::tests::{council, national, pres};
use crate::aggregate::{Aggregator, DocumentOptions};
use crate::testutil;
use crate::Hash;

/// The published NIST ERR v2 JSON schema (usnistgov/ElectionResultsReporting,
/// branch version2), read in place from the reference material
/// (`testutil::reference_json`). The test fails, not skips, without it.
fn nist_schema() -> serde_json::Value {
    testutil::reference_json("nist/NIST_V2_election_results_reporting.json")
}

fn validate_nist(report: &serde_json::Value) {
    let schema = nist_schema();
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the NIST schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "NIST schema violations: {errors:#?}");
}

/// The fixture with hostile names: commas, quotes, markup, a spreadsheet
/// formula and Persian with ZWNJ and Arabic yeh (a newline cannot reach an
/// export: the manifest refuses it, `crate::text`).
fn manifest() -> ValidatedManifest {
    let mut m = testutil::manifest();
    m.contests[0].candidates[1].name_en = "Smith, \"Jr.\" <script>alert(1)</script>".into();
    m.contests[0].candidates[1].name_fa = "علی‌رضا, \"يكم\"".into();
    m.provinces[0].name_en = "=SUM(A1:A9)".into();
    ValidatedManifest::from_manifest(m).expect("valid")
}

fn checkpoint() -> CheckpointRef {
    CheckpointRef::new(42, &Hash::sha256(b"root"))
}

fn aggregated(m: &ValidatedManifest) -> Aggregator {
    let mut a = Aggregator::new(m);
    a.apply(1, &pres("01-001-0001", 1, [100, 50, 10], 5))
        .expect("t");
    a.apply(2, &pres("01-002-0001", 1, [20, 30, 0], 1))
        .expect("t");
    a.apply(3, &pres("02-001-0001", 1, [60, 70, 5], 4))
        .expect("t");
    a.apply(4, &pres("01-001-0001", 2, [110, 40, 10], 5))
        .expect("r");
    a.apply(
        5,
        &council("01-001-0001", 1, 100, &[(1, 90), (2, 80), (5, 70)]),
    )
    .expect("c");
    a.annul(9, "02-001-0001", "president").expect("annul");
    a
}

fn document(a: &Aggregator, stations: bool) -> ResultsDocument {
    a.document(&DocumentOptions {
        stations,
        checkpoint: Some(checkpoint()),
        decide: true,
        ..Default::default()
    })
}

/// A strict RFC 4180 reader for the tests.
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    assert!(!text.starts_with('\u{feff}'), "no byte-order mark");
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cell.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cell.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                assert!(cell.is_empty(), "quote inside an unquoted cell");
                quoted = true;
            }
            ',' => row.push(std::mem::take(&mut cell)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR only before LF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("bare LF outside quotes"),
            c => cell.push(c),
        }
    }
    assert!(row.is_empty() && cell.is_empty(), "the file ends with CRLF");
    rows
}

fn col(name: &str) -> usize {
    CSV_HEADER.iter().position(|h| *h == name).expect("column")
}

#[test]
fn csv_layout_quoting_and_sums() {
    let m = manifest();
    let a = aggregated(&m);
    let doc = document(&a, true);
    let bytes = csv(&m, &doc, &checkpoint()).expect("csv");
    let rows = parse_csv(&bytes);
    assert_eq!(rows[0], CSV_HEADER);
    assert!(rows.iter().all(|r| r.len() == CSV_HEADER.len()));
    // Hostile names come back exactly.
    let smith: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col("candidate")] == "2" && r[col("contest")] == "president")
        .collect();
    assert!(!smith.is_empty());
    assert_eq!(
        smith[0][col("candidate_name_en")],
        "Smith, \"Jr.\" <script>alert(1)</script>"
    );
    assert_eq!(smith[0][col("candidate_name_fa")], "علی‌رضا, \"يكم\"");
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    assert!(text.contains("\"Smith, \"\"Jr.\"\" <script>"));
    assert!(text.contains("\"=SUM(A1:A9)\""));

    // The nation's ballots row equals the sum of the provinces' and of the
    // stations' ballots rows, for both sums; candidate rows likewise.
    let sum = |level: &str, column: &str, candidate: &str| -> u64 {
        rows[1..]
            .iter()
            .filter(|r| {
                r[col("contest")] == "president"
                    && r[col("level")] == level
                    && r[col("candidate")] == candidate
            })
            .map(|r| r[col(column)].parse::<u64>().expect("number"))
            .sum()
    };
    for column in [
        "counted_counterfoils",
        "counted_valid",
        "standing_ballots_in_box",
        "standing_void_taken",
        "stations_reported",
        "stations_annulled",
    ] {
        let nation = sum("nation", column, "");
        assert_eq!(nation, sum("province", column, ""), "{column}");
        assert_eq!(nation, sum("county", column, ""), "{column}");
        assert_eq!(nation, sum("station", column, ""), "{column}");
    }
    for column in ["counted_votes", "standing_votes"] {
        for cand in ["1", "2", "3"] {
            let nation = sum("nation", column, cand);
            assert_eq!(nation, sum("county", column, cand));
            assert_eq!(nation, sum("station", column, cand));
        }
    }
    assert_eq!(sum("nation", "counted_votes", "1"), 180);
    assert_eq!(sum("nation", "standing_votes", "1"), 130);
    // Shares: 130 of the standing votes taken, (160 + 5) + (50 + 1) = 216.
    let nation_1 = rows
        .iter()
        .find(|r| r[col("level")] == "nation" && r[col("candidate")] == "1")
        .expect("row");
    assert_eq!(nation_1[col("standing_share_bp")], "6019"); // 130 / 216 = 0.60185
    assert_eq!(nation_1[col("checkpoint_size")], "42");
    assert_eq!(nation_1[col("counted_counterfoils")], "");
    // Candidate 3 has no votes at 01-002-0001: no row there.
    assert!(!rows.iter().any(|r| r[col("region_id")] == "01-002-0001"
        && r[col("contest")] == "president"
        && r[col("candidate")] == "3"));
    // The council rows: constituency level present.
    assert!(rows
        .iter()
        .any(|r| r[col("level")] == "constituency" && r[col("region_name_fa")] == "حوزه ۱"));
}

#[test]
fn json_export_is_the_document_at_the_checkpoint() {
    let m = manifest();
    let a = aggregated(&m);
    let doc = a.document(&DocumentOptions {
        decide: true,
        ..Default::default()
    });
    let bytes = json(&m, &doc, &checkpoint()).expect("json");
    let back: ResultsDocument = serde_json::from_slice(&bytes).expect("parse");
    assert_eq!(back.checkpoint, Some(checkpoint()));
    assert_eq!(back.contests, doc.contests);
    // Canonical: re-serializing gives the same bytes.
    assert_eq!(back.to_bytes(), bytes);
    // A document of another checkpoint or manifest is refused.
    let other = CheckpointRef::new(43, &Hash::sha256(b"root"));
    assert!(json(&m, &back, &other).is_err());
    assert!(csv(&m, &back, &other).is_err());
    let e = json(&testutil::validated(), &doc, &checkpoint()).expect_err("manifest");
    assert_eq!(e.code(), ErrorCode::ManifestDigestMismatch);
}

#[test]
fn nist_report_validates_against_the_published_schema() {
    let m = manifest();
    let a = aggregated(&m);
    let doc = document(&a, true);
    for (status, detail) in [
        (ReportStatus::UnofficialPartial, NistDetail::Stations),
        (ReportStatus::UnofficialComplete, NistDetail::Counties),
        (ReportStatus::Certified, NistDetail::Stations),
    ] {
        let opts = NistOptions::new(status, detail, "2025-06-28T08:00:00+03:30");
        let bytes = nist_report(&m, &doc, &checkpoint(), &opts).expect("report");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        validate_nist(&v);
        let e = &v["Election"][0];
        let units = v["GpUnit"].as_array().expect("units");
        let stations = units
            .iter()
            .filter(|u| u["Type"] == "polling-place")
            .count();
        assert_eq!(stations, if detail == NistDetail::Stations { 4 } else { 0 });
        assert_eq!(
            v["Format"],
            if detail == NistDetail::Stations {
                "precinct-level"
            } else {
                "summary-contest"
            }
        );
        let k = units
            .iter()
            .find(|u| u["@id"] == "ru-k-k1")
            .expect("constituency");
        assert_eq!(k["Type"], "other");
        assert_eq!(k["OtherType"], "electoral-constituency");
        let pres = &e["Contest"][0];
        assert_eq!(pres["ElectionDistrictId"], "ru-nation");
        assert_eq!(pres["VoteVariation"], "majority");
        assert_eq!(
            (
                pres["VotesAllowed"].as_u64(),
                pres["NumberElected"].as_u64()
            ),
            (Some(1), Some(1))
        );
        let council = &e["Contest"][1];
        assert_eq!(council["ElectionDistrictId"], "ru-k-k1");
        assert_eq!(council["VotesAllowed"], 3);
        // Standing votes of candidate 1 at the nation: 110 + 20 (02-001-0001 annulled).
        let sel = &pres["ContestSelection"][0];
        let nation = sel["VoteCounts"]
            .as_array()
            .expect("counts")
            .iter()
            .find(|c| c["GpUnitId"] == "ru-nation")
            .expect("nation count");
        assert_eq!(nation["Count"], 130);
        assert_eq!(nation["Type"], "total");
        let names = &e["Candidate"][1]["BallotName"]["Text"];
        assert_eq!(names[0]["Language"], "fa");
        assert_eq!(
            names[1]["Content"],
            "Smith, \"Jr.\" <script>alert(1)</script>"
        );
        // Two contests: ballot counts are not representable per contest.
        assert!(e.get("BallotCounts").is_none());
        let winner = e["Candidate"][0].get("PostElectionStatus");
        match status {
            ReportStatus::Certified => assert_eq!(winner, Some(&"winner".into())),
            ReportStatus::UnofficialComplete => {
                assert_eq!(winner, Some(&"projected-winner".into()))
            }
            ReportStatus::UnofficialPartial => assert_eq!(winner, None),
        }
    }
    // The envelope carries the report and the figures ERR has no field for.
    let opts = NistOptions::new(
        ReportStatus::UnofficialPartial,
        NistDetail::Counties,
        "2025-06-28T08:00:00Z",
    );
    let env: serde_json::Value =
        serde_json::from_slice(&nist_envelope(&m, &doc, &checkpoint(), &opts).expect("envelope"))
            .expect("json");
    validate_nist(&env["election_report"]);
    assert_eq!(env["format"], "tallyboard/nist-err-envelope/v1");
    assert_eq!(env["checkpoint"]["size"], 42);
    let extra = env["extras"]
        .as_array()
        .expect("extras")
        .iter()
        .find(|x| x["gpunit"] == "ru-nation" && x["contest"] == "president")
        .expect("nation extras");
    assert_eq!(extra["counted"]["void_not_taken"], 6);
    // Counterfoils are votes taken + 7 in the fixture: (165 + 7) + (51 + 7).
    assert_eq!(extra["standing"]["counterfoils"], 230);
    // Refusals.
    let bad = NistOptions::new(ReportStatus::Certified, NistDetail::Counties, "2025-06-28");
    assert!(nist_report(&m, &doc, &checkpoint(), &bad).is_err());
    let no_stations = document(&a, false);
    let opts = NistOptions::new(
        ReportStatus::Certified,
        NistDetail::Stations,
        "2025-06-28T08:00:00Z",
    );
    assert!(nist_report(&m, &no_stations, &checkpoint(), &opts).is_err());
}

#[test]
fn national_exports_are_valid_and_reasonably_sized() {
    let n = national();
    let a = Aggregator::build(&n.m, n.log.iter().map(|(i, t)| (*i, t)), &n.annulled, None)
        .expect("build");
    let cp = CheckpointRef::new(n.log.len() as u64 + 1, &Hash::sha256(b"national"));
    let summary = a.document(&DocumentOptions {
        checkpoint: Some(cp.clone()),
        decide: true,
        ..Default::default()
    });
    let mut opts = NistOptions::new(
        ReportStatus::UnofficialComplete,
        NistDetail::Counties,
        "2025-06-28T08:00:00+03:30",
    );
    opts.is_test = true;
    let report = nist_report(&n.m, &summary, &cp, &opts).expect("report");
    let v: serde_json::Value = serde_json::from_slice(&report).expect("json");
    validate_nist(&v);
    // One contest: ballot counts per unit are in the report.
    let bc = v["Election"][0]["BallotCounts"]
        .as_array()
        .expect("ballot counts");
    assert_eq!(
        bc.len(),
        1 + 31 + v["GpUnit"].as_array().map_or(0, |u| u.len() - 32)
    );
    // Runoff: both leaders listed, NumberRunoff 2.
    assert_eq!(v["Election"][0]["Contest"][0]["NumberRunoff"], 2);
    let rows = parse_csv(&csv(&n.m, &summary, &cp).expect("csv"));
    // 1 nation + 31 provinces + the counties with stations, 7 rows each
    // (ballots and six candidates), and the header.
    let counties = a
        .regions("president")
        .expect("regions")
        .iter()
        .filter(|r| r.level == crate::aggregate::Level::County)
        .count();
    assert_eq!(rows.len(), 1 + 7 * (1 + 31 + counties));
}

/// Sizes of the national exports with every station, for the report in
/// `spec/exports.md` (slow in debug builds: run with
/// `cargo test --release -p tallyboard-core national_export_sizes -- --ignored --nocapture`).
#[test]
#[ignore]
fn national_export_sizes() {
    use std::time::Instant;
    let n = national();
    let start = Instant::now();
    let a = Aggregator::build(&n.m, n.log.iter().map(|(i, t)| (*i, t)), &n.annulled, None)
        .expect("build");
    let built = start.elapsed();
    let cp = CheckpointRef::new(n.log.len() as u64 + 1, &Hash::sha256(b"national"));
    let opts = |detail| {
        let mut o = NistOptions::new(
            ReportStatus::UnofficialComplete,
            detail,
            "2025-06-28T08:00:00+03:30",
        );
        o.is_test = true;
        o
    };
    let start = Instant::now();
    let summary = a.document(&DocumentOptions {
        checkpoint: Some(cp.clone()),
        decide: true,
        ..Default::default()
    });
    let doc_summary = start.elapsed();
    let start = Instant::now();
    let full = a.document(&DocumentOptions {
        stations: true,
        checkpoint: Some(cp.clone()),
        decide: true,
        ..Default::default()
    });
    let doc_full = start.elapsed();
    let sizes = [
        (
            "NIST summary",
            nist_report(&n.m, &summary, &cp, &opts(NistDetail::Counties)),
        ),
        (
            "NIST precinct-level",
            nist_report(&n.m, &full, &cp, &opts(NistDetail::Stations)),
        ),
        ("CSV regions", csv(&n.m, &summary, &cp)),
        ("CSV with stations", csv(&n.m, &full, &cp)),
        ("JSON regions", json(&n.m, &summary, &cp)),
        ("JSON with stations", json(&n.m, &full, &cp)),
    ];
    eprintln!("build from scratch {built:?}; document {doc_summary:?}, with stations {doc_full:?}");
    for (name, bytes) in sizes {
        eprintln!("{name}: {} KiB", bytes.expect("export").len() / 1024);
    }
    let precinct: serde_json::Value = serde_json::from_slice(
        &nist_report(&n.m, &full, &cp, &opts(NistDetail::Stations)).expect("report"),
    )
    .expect("json");
    let start = Instant::now();
    validate_nist(&precinct);
    eprintln!("precinct-level schema validation {:?}", start.elapsed());
}

/// A county's and a constituency's station-level documents hold their own
/// regions and their stations' boxes, and nothing else; unknown units are
/// refused.
#[test]
fn station_level_documents_per_county_and_constituency() {
    let m = manifest();
    let a = aggregated(&m);
    let doc = document(&a, true);
    let county = scoped(&m, &doc, Unit::County("01-001")).expect("a county");
    for c in &county.contests {
        for r in &c.regions {
            match r.level {
                Level::County => assert_eq!(r.id, "01-001"),
                Level::Station => assert_eq!(r.parent.as_deref(), Some("01-001")),
                l => panic!("{l:?} {} in a county file", r.id),
            }
        }
    }
    let pres = county.contest("president").expect("president");
    assert!(pres.region(Level::Station, "01-001-0001").is_some());
    assert_eq!(
        pres.region(Level::Station, "01-001-0001"),
        doc.contest("president")
            .unwrap()
            .region(Level::Station, "01-001-0001")
    );
    // The constituency k1 spans counties 01-001 and 01-002.
    let k = scoped(&m, &doc, Unit::Constituency("k1")).expect("a constituency");
    let council = k.contest("council").expect("council");
    assert!(council.region(Level::Constituency, "k1").is_some());
    let pres = k.contest("president").expect("president");
    assert!(pres.region(Level::Station, "01-002-0001").is_some());
    assert!(pres.region(Level::Station, "02-001-0001").is_none());
    assert!(pres.region(Level::Nation, NATION_ID).is_none());
    // Its exports are the ordinary ones, over fewer regions.
    let csv_all = csv(&m, &doc, &checkpoint()).unwrap();
    let csv_k = csv(&m, &k, &checkpoint()).unwrap();
    assert!(csv_k.len() < csv_all.len());
    assert!(String::from_utf8(csv_k)
        .unwrap()
        .contains("\"01-002-0001\""));
    json(&m, &k, &checkpoint()).unwrap();
    // Cut from a document with only those counties' boxes, the same.
    let only: std::collections::BTreeSet<String> =
        ["01-001".to_owned(), "01-002".to_owned()].into();
    let small = a.document_for_counties(
        &DocumentOptions {
            stations: true,
            checkpoint: Some(checkpoint()),
            decide: true,
            ..Default::default()
        },
        &only,
    );
    assert!(small.to_bytes().len() < doc.to_bytes().len());
    assert_eq!(
        scoped(&m, &small, Unit::Constituency("k1")),
        Some(k.clone())
    );
    assert!(scoped(&m, &doc, Unit::County("99-999")).is_none());
    assert!(scoped(&m, &doc, Unit::Constituency("nope")).is_none());
}
