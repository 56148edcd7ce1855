use super::*;
use crate::entry::{BallotFigures, Correction, Tally};
use crate::testutil;

/// A presidential tally for the fixture with chosen figures.
pub(crate) fn pres(station: &str, revision: u32, votes: [u64; 3], void_taken: u64) -> Tally {
    let valid: u64 = votes.iter().sum();
    let votes_taken = valid + void_taken;
    Tally {
        election: "e1".into(),
        contest: "president".into(),
        station: station.into(),
        revision,
        correction: (revision > 1).then(|| Correction {
            supersedes: Hash::sha256(b"previous"),
            reason: "recount".into(),
        }),
        figures: BallotFigures {
            counterfoils: votes_taken + 7,
            ballots_in_box: votes_taken + 2,
            votes_taken,
            void_taken,
            void_not_taken: 2,
            valid,
        },
        votes: (1..=3u32).zip(votes).filter(|&(_, n)| n > 0).collect(),
        minutes_sha256: None,
    }
}

/// A council tally (3 seats, candidates 1..=8) for the fixture.
pub(crate) fn council(station: &str, revision: u32, valid: u64, votes: &[(u32, u64)]) -> Tally {
    Tally {
        election: "e1".into(),
        contest: "council".into(),
        station: station.into(),
        revision,
        correction: (revision > 1).then(|| Correction {
            supersedes: Hash::sha256(b"previous"),
            reason: "recount".into(),
        }),
        figures: BallotFigures {
            counterfoils: valid + 3,
            ballots_in_box: valid + 1,
            votes_taken: valid,
            void_taken: 0,
            void_not_taken: 1,
            valid,
        },
        votes: votes.to_vec(),
        minutes_sha256: None,
    }
}

fn nation(a: &Aggregator, contest: &str) -> RegionTotals {
    a.region(contest, Level::Nation, NATION_ID).expect("nation")
}

#[test]
fn empty_aggregator_expects_every_station() {
    let m = testutil::validated();
    let a = Aggregator::new(&m);
    let n = nation(&a, "president");
    assert_eq!(n.stations_expected, 4);
    assert_eq!(n.stations_reported, 0);
    assert_eq!(n.counted, Sums::zero(3));
    let council = nation(&a, "council");
    assert_eq!(council.stations_expected, 2);
    // The council is only in counties 01-001 and 01-002: province 02 and
    // county 02-001 are not regions of that contest.
    assert!(a.region("council", Level::Province, "02").is_none());
    assert!(a.region("council", Level::County, "02-001").is_none());
    let k = a
        .region("council", Level::Constituency, "k1")
        .expect("constituency");
    assert_eq!(k.stations_expected, 2);
    assert_eq!(k.parent, None);
    assert_eq!(
        a.region("president", Level::County, "02-001")
            .expect("county")
            .parent
            .as_deref(),
        Some("02")
    );
    assert_eq!(
        a.regions("president")
            .expect("contest")
            .iter()
            .map(|r| (r.level, r.id.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (Level::Nation, "nation"),
            (Level::Province, "01"),
            (Level::Province, "02"),
            (Level::County, "01-001"),
            (Level::County, "01-002"),
            (Level::County, "02-001"),
        ]
    );
    a.check_sums().expect("sums");
}

#[test]
fn counted_and_standing_sums_at_every_level() {
    let m = testutil::validated();
    let mut a = Aggregator::new(&m);
    a.apply(10, &pres("01-001-0001", 1, [100, 50, 10], 5))
        .expect("t1");
    a.apply(11, &pres("02-001-0001", 1, [30, 60, 0], 3))
        .expect("t2");
    a.apply(12, &pres("02-001-0002", 1, [1, 2, 3], 0))
        .expect("t3");
    let n = nation(&a, "president");
    assert_eq!(n.stations_reported, 3);
    assert_eq!(n.counted.votes, vec![131, 112, 13]);
    assert_eq!(n.counted.figures.valid, 256);
    assert_eq!(n.counted.figures.void_taken, 8);
    assert_eq!(n.counted.figures.votes_taken, 264);
    assert_eq!(n.counted.figures.void_not_taken, 6);
    assert_eq!(n.counted.figures.ballots_in_box, 270);
    assert_eq!(n.counted.figures.counterfoils, 264 + 21);
    assert_eq!(n.counted, n.standing);
    let p2 = a.region("president", Level::Province, "02").expect("p2");
    assert_eq!(p2.counted.votes, vec![31, 62, 3]);
    assert_eq!(p2.stations_reported, 2);
    assert_eq!(p2.stations_expected, 2);

    // A revision moves the standing sum, not the counted one.
    a.apply(20, &pres("02-001-0001", 2, [40, 50, 0], 3))
        .expect("revision");
    let n = nation(&a, "president");
    assert_eq!(n.counted.votes, vec![131, 112, 13]);
    assert_eq!(n.standing.votes, vec![141, 102, 13]);
    assert_eq!(n.stations_revised, 1);
    assert_eq!(n.stations_reported, 3);
    let s = a
        .region("president", Level::Station, "02-001-0001")
        .expect("station");
    assert_eq!(s.counted.votes, vec![30, 60, 0]);
    assert_eq!(s.standing.votes, vec![40, 50, 0]);
    assert_eq!(s.parent.as_deref(), Some("02-001"));

    // An annulment zeroes the box in the standing sum only.
    assert!(a.annul(20, "02-001-0001", "president").expect("annul"));
    assert!(!a.annul(20, "02-001-0001", "president").expect("again"));
    let n = nation(&a, "president");
    assert_eq!(n.counted.votes, vec![131, 112, 13]);
    assert_eq!(n.standing.votes, vec![101, 52, 13]);
    assert_eq!(n.stations_annulled, 1);
    // A later revision of an annulled box still counts zero.
    a.apply(21, &pres("02-001-0001", 3, [45, 45, 0], 3))
        .expect("revision 3");
    assert_eq!(nation(&a, "president").standing.votes, vec![101, 52, 13]);
    a.check_sums().expect("sums");
}

#[test]
fn constituency_totals_equal_nation_and_its_counties() {
    let m = testutil::validated();
    let mut a = Aggregator::new(&m);
    a.apply(
        1,
        &council("01-001-0001", 1, 100, &[(1, 90), (2, 80), (5, 70)]),
    )
    .expect("c1");
    a.apply(2, &council("01-002-0001", 1, 50, &[(2, 40), (8, 10)]))
        .expect("c2");
    let k = a.region("council", Level::Constituency, "k1").expect("k1");
    assert_eq!(k.counted.votes, vec![90, 120, 0, 0, 70, 0, 0, 10]);
    assert_eq!(k.counted, nation(&a, "council").counted);
    assert_eq!(k.stations_reported, 2);
    let counts = a.contest_counts("council", Sum::Standing).expect("counts");
    assert_eq!(counts.valid, 150);
    assert_eq!(counts.candidates, (1..=8).collect::<Vec<_>>());
    assert_eq!(counts.votes.get(&2), Some(&120));
    let d = a.decide("council", &[]).expect("decide");
    assert_eq!(d.elected, vec![2, 1, 5]);
    // Village council, 3 seats: 2 reserves by default.
    assert_eq!(d.reserves.len(), 1, "only candidate 8 is left");
    assert_eq!(d.reserves[0].candidate, 8);
    a.check_sums().expect("sums");
}

#[test]
fn refusals_leave_the_state_unchanged() {
    let m = testutil::validated();
    let mut a = Aggregator::new(&m);
    a.apply(1, &pres("01-001-0001", 1, [1, 2, 3], 0))
        .expect("first");
    let before = a.clone();
    let code = |r: Result<(), AggregateError>| r.expect_err("refused").code();
    let mut t = pres("01-001-0001", 1, [1, 2, 3], 0);
    assert_eq!(code(a.apply(2, &t)), ErrorCode::RevisionNotNext);
    t.revision = 3;
    assert_eq!(code(a.apply(2, &t)), ErrorCode::RevisionNotNext);
    t.revision = 2;
    t.election = "other".into();
    assert_eq!(code(a.apply(2, &t)), ErrorCode::WrongElection);
    let mut t = pres("99-001-0001", 1, [1, 2, 3], 0);
    assert_eq!(code(a.apply(2, &t)), ErrorCode::UnknownStation);
    t.station = "02-001-0001".into();
    t.contest = "council".into();
    assert_eq!(code(a.apply(2, &t)), ErrorCode::ContestNotAtStation);
    t.contest = "senate".into();
    assert_eq!(code(a.apply(2, &t)), ErrorCode::UnknownContest);
    let mut t = pres("02-001-0001", 1, [1, 2, 3], 0);
    t.votes.push((9, 1));
    t.figures.valid += 1;
    t.figures.votes_taken += 1;
    t.figures.ballots_in_box += 1;
    assert_eq!(code(a.apply(2, &t)), ErrorCode::UnknownCandidate);
    let mut t = pres("02-001-0001", 1, [1, 2, 3], 0);
    t.votes.reverse();
    assert_eq!(code(a.apply(2, &t)), ErrorCode::EntryVotesOrder);
    let mut t = pres("02-001-0001", 1, [1, 2, 3], 0);
    t.figures.valid += 1;
    assert_eq!(code(a.apply(2, &t)), ErrorCode::TallyVotesTaken);
    let mut t = pres("02-001-0001", 1, [1, 2, 3], 0);
    t.figures.counterfoils = MAX_COUNT + 1;
    assert_eq!(code(a.apply(2, &t)), ErrorCode::TallyCountTooLarge);
    assert_eq!(
        a.annul(2, "02-001-0001", "council")
            .expect_err("not there")
            .code(),
        ErrorCode::ContestNotAtStation
    );
    assert_eq!(a, before);
}

#[test]
fn build_agrees_with_incremental_and_cuts_at_the_checkpoint() {
    let m = testutil::validated();
    let log: Vec<(u64, Tally)> = vec![
        (3, pres("01-001-0001", 1, [10, 20, 30], 1)),
        (4, council("01-001-0001", 1, 60, &[(1, 50), (3, 40)])),
        (5, pres("01-002-0001", 1, [5, 5, 5], 0)),
        (6, pres("01-001-0001", 2, [11, 19, 30], 1)),
        (7, pres("02-001-0002", 1, [7, 0, 0], 2)),
        (8, pres("01-001-0001", 3, [12, 18, 30], 1)),
    ];
    // Annulled at index 2, before the box's first tally.
    let annulled: BTreeMap<(String, String), u64> =
        [(("01-002-0001".into(), "president".into()), 2)].into();
    let mut inc = Aggregator::new(&m);
    for (i, t) in &log {
        inc.apply(*i, t).expect("apply");
    }
    inc.annul(2, "01-002-0001", "president").expect("annul");
    // Any order of the input list: the builder sorts by revision.
    let built = Aggregator::build(&m, log.iter().rev().map(|(i, t)| (*i, t)), &annulled, None)
        .expect("build");
    assert_eq!(built, inc);

    // Up to checkpoint size 7: entries 3..=6 only.
    let cut = Aggregator::build(&m, log.iter().map(|(i, t)| (*i, t)), &annulled, Some(7))
        .expect("build at 7");
    let mut inc7 = Aggregator::new(&m);
    inc7.annul(2, "01-002-0001", "president")
        .expect("annul first");
    for (i, t) in log.iter().filter(|(i, _)| *i < 7) {
        inc7.apply(*i, t).expect("apply");
    }
    assert_eq!(cut, inc7);
    assert_eq!(nation(&cut, "president").standing.votes, vec![11, 19, 30]);
    // The annulled box still counts in the counted sum.
    assert_eq!(nation(&cut, "president").counted.votes, vec![15, 25, 35]);

    // A gap in a box's revisions is refused.
    let gap = [
        (1, pres("01-001-0001", 1, [1, 1, 1], 0)),
        (2, pres("01-001-0001", 3, [1, 1, 1], 0)),
    ];
    let e = Aggregator::build(&m, gap.iter().map(|(i, t)| (*i, t)), &BTreeMap::new(), None)
        .expect_err("gap");
    assert_eq!(e.code(), ErrorCode::RevisionNotNext);
    let bad: BTreeMap<(String, String), u64> = [(("nowhere".into(), "president".into()), 0)].into();
    assert!(Aggregator::build(&m, std::iter::empty(), &bad, None).is_err());
}

#[test]
fn rules_bridge_maps_manifest_parameters() {
    let m = testutil::manifest();
    let mut c = m.contests[1].clone();
    let r = rules_for(&c);
    assert_eq!(r.kind, ElectionKind::VillageCouncil);
    assert_eq!((r.seats, r.round), (3, 1));
    assert_eq!(
        (r.threshold, r.runoff_factor, r.reserves),
        (None, None, None)
    );
    c.kind = ElectionKind::Majlis;
    c.round = Some(2);
    c.threshold = Some(crate::manifest::Ratio { den: 4, num: 1 });
    c.runoff_factor = Some(3);
    c.reserves = Some(1);
    let r = rules_for(&c);
    assert_eq!(r.kind, ElectionKind::Majlis);
    assert_eq!(r.round, 2);
    assert_eq!(r.threshold, Some(rules::Ratio { num: 1, den: 4 }));
    assert_eq!((r.runoff_factor, r.reserves), (Some(3), Some(1)));
    for k in ElectionKind::ALL {
        // The serde spelling of the rules' kind is the manifest's.
        let json = serde_json::to_string(&k).expect("json");
        assert_eq!(json, format!("\"{}\"", k.as_str()));
    }
    // An unknown kind no longer reaches the rules: the manifest that names
    // it is refused where it is parsed.
    let text = String::from_utf8(m.to_canonical_bytes()).expect("utf8");
    let senate = text.replacen("\"kind\":\"village-council\"", "\"kind\":\"senate\"", 1);
    assert_ne!(senate, text);
    assert_eq!(
        crate::manifest::ValidatedManifest::from_bytes(senate.as_bytes())
            .expect_err("unknown")
            .code(),
        ErrorCode::ManifestInvalid
    );
}

#[test]
fn presidential_decision_from_aggregated_figures() {
    let m = testutil::validated();
    let mut a = Aggregator::new(&m);
    // 49 of 100 votes taken (void taken counts in the base): runoff.
    a.apply(1, &pres("01-001-0001", 1, [49, 40, 5], 6))
        .expect("t");
    let d = a.decide("president", &[]).expect("decide");
    assert_eq!(d.status, rules::Status::Runoff);
    assert_eq!(d.runoff, vec![1, 2]);
    // A revision gives candidate 1 a majority of votes taken.
    a.apply(2, &pres("01-001-0001", 2, [51, 38, 5], 6))
        .expect("r");
    let d = a.decide("president", &[]).expect("decide");
    assert_eq!(d.elected, vec![1]);
    // The counted sum still says runoff.
    let counts = a.contest_counts("president", Sum::Counted).expect("c");
    let d = rules::decide(
        &rules_for(m.contest("president").expect("contest")),
        &counts,
        &[],
    )
    .expect("decide counted");
    assert_eq!(d.status, rules::Status::Runoff);
}

#[test]
fn shares_in_basis_points_are_exact_and_rounded_half_up() {
    assert_eq!(share_bp(1, 3), 3333);
    assert_eq!(share_bp(2, 3), 6667);
    assert_eq!(share_bp(1, 20_000), 1); // 0.5 bp rounds up
    assert_eq!(share_bp(1, 20_001), 0);
    assert_eq!(share_bp(5, 5), 10_000);
    assert_eq!(share_bp(0, 0), 0);
    assert_eq!(share_bp(MAX_COUNT, MAX_COUNT), 10_000);
}

#[test]
fn results_document_is_stable_json() {
    let m = testutil::validated();
    let mut a = Aggregator::new(&m);
    a.apply(5, &pres("01-001-0001", 1, [49, 40, 5], 6))
        .expect("t");
    a.apply(9, &pres("01-001-0001", 2, [51, 38, 5], 6))
        .expect("r");
    let doc = a.document(&DocumentOptions {
        stations: true,
        checkpoint: Some(CheckpointRef::new(10, &Hash::sha256(b"root"))),
        decide: true,
        lots: BTreeMap::new(),
    });
    let bytes = doc.to_bytes();
    let back: ResultsDocument = serde_json::from_slice(&bytes).expect("parse");
    assert_eq!(back, doc);
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("value");
    assert_eq!(v["format"], "tallyboard/results/v1");
    assert_eq!(v["checkpoint"]["size"], 10);
    assert_eq!(v["manifest_sha256"], m.digest().to_hex());
    let pres = &v["contests"][0];
    assert_eq!(pres["share_base"], "votes-taken");
    assert_eq!(pres["decision"]["status"], "complete");
    let n = &pres["regions"][0];
    assert_eq!(n["level"], "nation");
    assert_eq!(n["counted"]["votes"][0]["votes"], 49);
    assert_eq!(n["counted"]["votes"][0]["share_bp"], 4900);
    assert_eq!(n["standing"]["votes"][0]["share_bp"], 5100);
    assert_eq!(n["stations_revised"], 1);
    let s = pres["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|r| r["id"] == "01-001-0001")
        .expect("station");
    assert_eq!(s["level"], "station");
    assert_eq!(s["revision"], 2);
    assert_eq!(s["latest_index"], 9);
    assert_eq!(s["parent"], "01-001");
    // The council has no reports: its decision says so, it is not an error.
    let council = &v["contests"][1];
    assert_eq!(council["share_base"], "valid");
    assert_eq!(council["decision"]["status"], "no-valid-votes");
    assert_eq!(council["constituency"], "k1");
    // Keys are sorted in every tallyboard-defined object.
    fn sorted(v: &serde_json::Value, skip: &str) -> bool {
        match v {
            serde_json::Value::Object(o) => {
                let keys: Vec<&String> = o.keys().collect();
                let mut s = keys.clone();
                s.sort();
                // Decision objects follow rules.md's member order.
                o.iter().all(|(k, x)| k == skip || sorted(x, skip))
                    && (o.contains_key("status") || keys == s)
            }
            serde_json::Value::Array(a) => a.iter().all(|x| sorted(x, skip)),
            _ => true,
        }
    }
    assert!(sorted(&v, "decision"));
    // Without stations or decisions, none of their members appear.
    let small = a.document(&DocumentOptions::default()).to_bytes();
    let text = String::from_utf8(small).expect("utf8");
    assert!(!text.contains("\"station\""));
    assert!(!text.contains("decision"));
    assert!(!text.contains("checkpoint"));
}

/// The synthetic crate links its own copy of this crate (whose types cannot
/// be named here), so its tallies are carried over field by field.
macro_rules! from_synth {
    ($t:expr) => {{
        let t = $t;
        Tally {
            election: t.election,
            contest: t.contest,
            station: t.station,
            revision: t.revision,
            correction: t.correction.map(|c| Correction {
                supersedes: Hash(c.supersedes.0),
                reason: c.reason,
            }),
            figures: BallotFigures {
                counterfoils: t.figures.counterfoils,
                ballots_in_box: t.figures.ballots_in_box,
                votes_taken: t.figures.votes_taken,
                void_taken: t.figures.void_taken,
                void_not_taken: t.figures.void_not_taken,
                valid: t.figures.valid,
            },
            votes: t.votes,
            minutes_sha256: t.minutes_sha256.map(|h| Hash(h.0)),
        }
    }};
}

/// The national synthetic election (59,000 stations), built once for all
/// tests: its manifest, a log of every first tally plus a revision at every
/// 50th station, and an annulment at every 997th station.
pub(crate) struct National {
    pub m: ValidatedManifest,
    pub log: Vec<(u64, Tally)>,
    /// Annulled boxes, each with its annulment's index (after the tallies).
    pub annulled: BTreeMap<(String, String), u64>,
}

pub(crate) fn national() -> &'static National {
    static N: std::sync::OnceLock<National> = std::sync::OnceLock::new();
    N.get_or_init(|| {
        let synth =
            tallyboard_synth::SyntheticElection::generate(tallyboard_synth::Config::default());
        let m = ValidatedManifest::from_bytes(synth.manifest_bytes()).expect("manifest");
        let n = synth.station_count();
        let mut log: Vec<(u64, Tally)> = Vec::with_capacity(n + n / 50);
        for i in 0..n {
            log.push((log.len() as u64, from_synth!(synth.tally(i))));
        }
        for i in (0..n).step_by(50) {
            let mut t = log[i].1.clone();
            t.revision = 2;
            t.correction = Some(Correction {
                supersedes: Hash::sha256(b"first"),
                reason: "recount".into(),
            });
            if t.votes.len() >= 2 && t.votes[1].1 >= 3 {
                t.votes[1].1 -= 3;
                t.votes[0].1 += 3;
            }
            log.push((log.len() as u64, t));
        }
        let first = log.len() as u64;
        let annulled = (0..n)
            .step_by(997)
            .enumerate()
            .map(|(k, i)| {
                let key = (synth.station_id(i).to_owned(), "president".to_owned());
                (key, first + k as u64)
            })
            .collect();
        National { m, log, annulled }
    })
}

/// Every level's totals against the level below and against a direct sum
/// of the tallies, and the builder against the incremental path, on the
/// national synthetic election.
#[test]
fn national_synthetic_election_sums_at_every_level() {
    use std::time::Instant;
    let National { m, log, annulled } = national();
    assert_eq!(m.manifest().stations.len(), 59_000);
    let start = Instant::now();
    let mut inc = Aggregator::new(m);
    let setup = start.elapsed();
    let start = Instant::now();
    for (i, t) in log {
        inc.apply(*i, t).expect("apply");
    }
    for ((s, c), &i) in annulled {
        inc.annul(i, s, c).expect("annul");
    }
    let incremental = start.elapsed();
    let start = Instant::now();
    let built =
        Aggregator::build(m, log.iter().map(|(i, t)| (*i, t)), annulled, None).expect("build");
    let from_scratch = start.elapsed();
    eprintln!(
        "59,000 stations, {} entries: setup {setup:?}, incremental {incremental:?} \
         ({:?} per entry), from scratch {from_scratch:?}",
        log.len(),
        incremental / log.len() as u32
    );
    assert!(built == inc, "builder and incremental disagree");
    inc.check_sums()
        .expect("every level is the sum of the level below");

    // Direct sums of the tallies.
    let mut counted = [0u64; 6];
    let mut standing = [0u64; 6];
    let codes = inc.candidates("president").expect("contest").to_vec();
    let mut latest: HashMap<&str, &Tally> = HashMap::new();
    for (_, t) in log {
        if t.revision == 1 {
            counted[0] += t.figures.counterfoils;
            counted[1] += t.figures.valid;
            counted[2] += t.votes.iter().find(|v| v.0 == codes[0]).map_or(0, |v| v.1);
        }
        latest.insert(&t.station, t);
    }
    for (s, t) in &latest {
        if !annulled.contains_key(&((*s).to_owned(), "president".to_owned())) {
            standing[0] += t.figures.counterfoils;
            standing[1] += t.figures.valid;
            standing[2] += t.votes.iter().find(|v| v.0 == codes[0]).map_or(0, |v| v.1);
        }
    }
    let nat = nation(&inc, "president");
    assert_eq!(nat.stations_expected, 59_000);
    assert_eq!(nat.stations_reported, 59_000);
    assert_eq!(nat.stations_revised, 1_180);
    assert_eq!(nat.stations_annulled, annulled.len() as u64);
    let boxes = inc.stations("president").expect("contest");
    let counted_boxes = boxes
        .iter()
        .filter(|b| b.stations_reported == 1 && b.stations_annulled == 0)
        .count() as u64;
    assert_eq!(inc.stations_counted("president"), Some(counted_boxes));
    assert_eq!(counted_boxes, 59_000 - annulled.len() as u64);
    assert_eq!(
        [
            nat.counted.figures.counterfoils,
            nat.counted.figures.valid,
            nat.counted.votes[0]
        ],
        counted[..3]
    );
    assert_eq!(
        [
            nat.standing.figures.counterfoils,
            nat.standing.figures.valid,
            nat.standing.votes[0]
        ],
        standing[..3]
    );
    assert_eq!(
        nat.standing.votes[0] + nat.standing.votes[1],
        nat.standing.votes.iter().take(2).sum::<u64>()
    );
    let provinces = inc
        .regions("president")
        .expect("regions")
        .iter()
        .filter(|r| r.level == Level::Province)
        .count();
    assert_eq!(provinces, 31);

    // The rules on the aggregated standing figures: the synthetic shares
    // are tuned so that nobody has a majority.
    let d = inc.decide("president", &[]).expect("decide");
    assert_eq!(d.status, rules::Status::Runoff);
    assert_eq!(d.runoff.len(), 2);
}

#[test]
fn document_figures_convert_both_ways_with_the_ballot_figures() {
    let ballots = BallotFigures {
        counterfoils: 6,
        ballots_in_box: 5,
        votes_taken: 4,
        void_taken: 1,
        void_not_taken: 1,
        valid: 3,
    };
    let f = Figures::new(&ballots, Vec::new());
    assert_eq!(f.ballots(), ballots);
    assert_eq!(
        serde_json::to_string(&f).expect("json"),
        r#"{"ballots_in_box":5,"counterfoils":6,"valid":3,"void_not_taken":1,"void_taken":1,"votes":[],"votes_taken":4}"#
    );
}
