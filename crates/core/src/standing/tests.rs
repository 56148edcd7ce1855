//! The incremental statement must equal the reference recomputation
//! (`announcement::expected` over the prefix) wherever it answers, and it
//! must answer at every size from its last results entry on.

use super::*;
use crate::entry::announcement;
use crate::entry::{Annulment, Lot, Tally};
use crate::testutil;
use proptest::prelude::*;

const STATIONS: &[&str] = &["01-001-0001", "01-002-0001", "02-001-0001", "02-001-0002"];

fn pres(station: &str, revision: u32, votes: [u64; 3]) -> Entry {
    let valid: u64 = votes.iter().sum();
    let mut t = testutil::tally(station);
    t.revision = revision;
    t.correction = (revision > 1).then(|| crate::entry::Correction {
        supersedes: crate::Hash([7; 32]),
        reason: "recount".into(),
    });
    t.valid = valid;
    t.void_taken = 3;
    t.void_not_taken = 1;
    t.votes_taken = valid + 3;
    t.ballots_in_box = valid + 4;
    t.counterfoils = valid + 4;
    t.votes = (1u32..)
        .zip(votes)
        .filter(|&(_, n)| n > 0)
        .collect::<Vec<_>>();
    Entry::Tally(t)
}

fn council(station: &str, revision: u32, votes: &[(u32, u64)]) -> Entry {
    let valid = votes.iter().map(|v| v.1).max().unwrap_or(0);
    Entry::Tally(Tally {
        contest: "council".into(),
        votes: votes.to_vec(),
        ..match pres(station, revision, [valid, 0, 0]) {
            Entry::Tally(t) => t,
            _ => unreachable!("pres makes a tally"),
        }
    })
}

fn annul(station: &str, contest: &str) -> Entry {
    Entry::Annulment(Annulment {
        election: "e1".into(),
        station: station.into(),
        contest: contest.into(),
        reason_code: "test".into(),
        reason: "test".into(),
    })
}

fn lot(contest: &str, among: Vec<u32>) -> Entry {
    let mut order = among.clone();
    order.reverse();
    Entry::LotDraw(Lot {
        election: "e1".into(),
        contest: contest.into(),
        among,
        order,
    })
}

/// An entry that does not change the standing results.
fn other(station: &str) -> Entry {
    testutil::registration(station)
}

/// A log: per step, one of: next tally of a presidential box, next tally of
/// a council box, an annulment, a lot draw, or an unrelated entry.
fn log() -> impl Strategy<Value = Vec<Entry>> {
    proptest::collection::vec((0u8..5, 0usize..4, [0u64..50, 0u64..50, 0u64..50]), 1..40).prop_map(
        |steps| {
            let mut revisions = std::collections::HashMap::new();
            let mut annulled = std::collections::HashSet::new();
            let mut out = Vec::new();
            for (kind, s, votes) in steps {
                let st = STATIONS[s];
                match kind {
                    0 => {
                        let r = revisions.entry((st, "president")).or_insert(0u32);
                        *r += 1;
                        out.push(pres(st, *r, votes));
                    }
                    1 => {
                        let st = STATIONS[s % 2];
                        let r = revisions.entry((st, "council")).or_insert(0u32);
                        *r += 1;
                        out.push(council(st, *r, &[(1, votes[0] + 1), (5, votes[1] + 1)]));
                    }
                    2 => {
                        if annulled.insert(st) {
                            out.push(annul(st, "president"));
                        }
                    }
                    3 => out.push(lot("president", vec![1, 2])),
                    _ => out.push(other(st)),
                }
            }
            out
        },
    )
}

fn reference(m: &ValidatedManifest, entries: &[Entry], contest: &str, size: u64) -> Statement {
    announcement::expected(
        m,
        entries.iter().enumerate().map(|(i, e)| (i as u64, e)),
        contest,
        size,
    )
    .expect("reference recomputation")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn answers_equal_the_reference_recomputation(entries in log()) {
        let m = testutil::validated();
        let mut standing = StandingResults::new(&m);
        for (k, e) in entries.iter().enumerate() {
            standing.apply(k as u64, e).expect("valid entry");
            let now = k as u64 + 1;
            for size in 1..=now {
                for contest in ["president", "council"] {
                    let got = standing.statement_at(contest, size);
                    if size >= standing.settled() {
                        let got = got.expect("answers at or after the last results entry");
                        prop_assert_eq!(
                            got.expect("statement"),
                            reference(&m, &entries, contest, size)
                        );
                    } else {
                        prop_assert!(got.is_none(), "must not answer before a later results entry");
                    }
                }
            }
        }
    }
}

#[test]
fn falls_back_to_the_prefix_only_when_it_cannot_tell() {
    let m = testutil::validated();
    let entries = vec![
        pres(STATIONS[0], 1, [10, 5, 1]),
        other(STATIONS[1]),
        pres(STATIONS[1], 1, [3, 9, 0]),
        other(STATIONS[2]),
    ];
    let mut standing = StandingResults::new(&m);
    for (i, e) in entries.iter().enumerate() {
        standing.apply(i as u64, e).expect("valid");
    }
    assert_eq!(standing.settled(), 3);
    // At size 3 and 4 the live state answers; the prefix is never read.
    let rebuilt = Rebuilt::default();
    for size in [3, 4] {
        let s = statement(
            &m,
            &standing,
            &rebuilt,
            "president",
            size,
            || -> Result<Vec<(u64, Entry)>, ValidationError> {
                panic!("must not reread the log at size {size}")
            },
        )
        .expect("statement");
        assert_eq!(s, reference(&m, &entries, "president", size));
    }
    // At size 2 (before the second tally) it must recompute from the prefix.
    let mut read = 0;
    let s = statement(
        &m,
        &standing,
        &rebuilt,
        "president",
        2,
        || -> Result<_, ValidationError> {
            read += 1;
            Ok(entries
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, e)| (i as u64, e))
                .take(2)
                .collect::<Vec<_>>())
        },
    )
    .expect("statement");
    assert_eq!(read, 1);
    assert_eq!(s, reference(&m, &entries, "president", 2));
    assert_eq!(s.votes, vec![(1, 10), (2, 5), (3, 1)]);
    // The next statement at size 2 (another contest of the same round)
    // comes from the rebuilt state, without reading the prefix again.
    let c = statement(
        &m,
        &standing,
        &rebuilt,
        "council",
        2,
        || -> Result<Vec<(u64, Entry)>, ValidationError> {
            panic!("must not reread the log for the same size")
        },
    )
    .expect("statement");
    assert_eq!(c, reference(&m, &entries, "council", 2));
}

#[test]
fn refuses_an_entry_applied_twice() {
    let m = testutil::validated();
    let mut standing = StandingResults::new(&m);
    let e = pres(STATIONS[0], 1, [1, 2, 3]);
    standing.apply(0, &e).expect("first");
    let err = standing.apply(0, &e).expect_err("second");
    assert_eq!(err.code(), crate::ErrorCode::StoreInconsistent);
    assert_eq!(standing.size(), 1);
}
