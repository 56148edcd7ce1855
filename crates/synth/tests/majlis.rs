//! The synthetic Majlis election (`Config::majlis`): a valid manifest with
//! the 30-seat Tehran constituency, tallies the board would accept, and
//! outcomes that exercise the rules (round-one seats and runoffs).

use tallyboard_core::aggregate::Aggregator;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::rules::{ElectionKind, Status};
use tallyboard_synth::{Config, SyntheticElection, PRESIDENT, TEHRAN_CONTEST};

fn election(stations: usize, majlis: bool) -> SyntheticElection {
    SyntheticElection::generate(Config {
        seed: 1404,
        stations,
        majlis,
    })
}

#[test]
fn the_manifest_holds_the_majlis_with_the_tehran_constituency() {
    let e = election(600, true);
    // What the board will load: the canonical bytes, re-validated.
    let vm = ValidatedManifest::from_bytes(e.manifest_bytes()).expect("a valid manifest");
    let m = vm.manifest();
    let majlis: Vec<_> = m
        .contests
        .iter()
        .filter(|c| c.kind == ElectionKind::Majlis)
        .collect();
    assert!(
        (200..=215).contains(&majlis.len()),
        "{} Majlis contests",
        majlis.len()
    );
    assert_eq!(majlis.iter().map(|c| c.seats).sum::<u32>(), 290);
    let tehran = vm.contest(TEHRAN_CONTEST).expect("the Tehran contest");
    assert_eq!(tehran.seats, 30);
    assert!(
        (3_400..=3_600).contains(&tehran.candidates.len()),
        "{} candidates in Tehran",
        tehran.candidates.len()
    );
    let k = tehran.constituency.as_deref().expect("a constituency");
    let k = m.constituencies.iter().find(|x| x.id == k).expect("listed");
    assert_eq!(k.counties.len(), 5);
    assert!(k.name_en.contains("Shemiranat"));
    for c in &majlis {
        if c.id != TEHRAN_CONTEST {
            assert!(
                (3..=500).contains(&c.candidates.len()),
                "{}: {} candidates",
                c.id,
                c.candidates.len()
            );
        }
    }
    // Every station reports the presidential contest and exactly one Majlis
    // contest; most of them their county's.
    for s in &m.stations {
        assert_eq!(s.contests.len(), 2, "{}", s.id);
        assert_eq!(s.contests[0], PRESIDENT);
        assert!(s.contests[1].starts_with("majlis-"));
    }
}

#[test]
fn without_majlis_the_presidential_election_is_unchanged() {
    let with = election(300, true);
    let without = election(300, false);
    let m = without.manifest().manifest();
    assert_eq!(m.contests.len(), 1);
    assert!(m.constituencies.is_empty());
    assert!(m.stations.iter().all(|s| s.contests == [PRESIDENT]));
    // Same stations, same presidential figures, same keys.
    for i in 0..300 {
        assert_eq!(with.station_id(i), without.station_id(i));
        assert_eq!(with.tally(i), without.tally(i));
        assert_eq!(with.registration_entry(i), without.registration_entry(i));
    }
}

#[test]
fn tallies_are_deterministic_valid_and_decide_tehran_by_runoff() {
    let e = election(2_000, true);
    let again = election(2_000, true);
    assert_eq!(e.manifest_bytes(), again.manifest_bytes());
    let m = e.manifest();
    let mut agg = Aggregator::new(m);
    let mut index = 0u64;
    let mut largest = 0usize;
    for i in 0..e.station_count() {
        let signed = e.signed_tallies(i);
        assert_eq!(signed, again.signed_tallies(i), "station {i}");
        assert_eq!(signed.len(), 2);
        for bytes in &signed {
            assert!(bytes.len() <= 65_535, "an entry is at most 64 KiB");
            largest = largest.max(bytes.len());
            let Entry::Tally(t) = SignedEntry::parse(bytes).expect("parses").entry else {
                panic!("not a tally");
            };
            let seats = m.contest(&t.contest).expect("contest").seats;
            t.check_arithmetic(seats).expect("the board's arithmetic");
            agg.apply(index, &t).expect("aggregates");
            index += 1;
        }
    }
    assert!(
        largest > 2_000,
        "Tehran's tallies list hundreds of candidates"
    );
    let tehran = agg.decide(TEHRAN_CONTEST, &[]).expect("decides");
    assert_eq!(tehran.status, Status::Runoff);
    assert!(!tehran.elected.is_empty() && tehran.elected.len() < 30);
    assert_eq!(tehran.runoff_seats as usize, 30 - tehran.elected.len());
    assert_eq!(tehran.runoff.len(), 2 * tehran.runoff_seats as usize);
    // Across the country, some contests are complete in round one and some
    // go to a runoff.
    let (mut complete, mut runoff) = (0, 0);
    for c in m
        .manifest()
        .contests
        .iter()
        .filter(|c| c.kind == ElectionKind::Majlis)
    {
        let reported = agg
            .contest_totals(&c.id)
            .is_some_and(|t| t.stations_reported > 0);
        if !reported {
            continue;
        }
        match agg.decide(&c.id, &[]).expect("decides").status {
            Status::Complete => complete += 1,
            Status::Runoff => runoff += 1,
            s => panic!("{}: {s:?}", c.id),
        }
    }
    assert!(
        complete >= 20 && runoff >= 10,
        "{complete} complete, {runoff} runoff"
    );
}
