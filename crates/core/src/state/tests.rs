//! The state's statements must equal the reference recomputation
//! (`announcement::expected` over the log prefix) at every size, and the
//! state must refuse to apply an entry out of order without changing.

use super::*;
use crate::entry::announcement;
use crate::entry::{Annulment, Lot, Tally};
use crate::manifest::ValidatedManifest;
use crate::state::NoLog;
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
    t.figures.valid = valid;
    t.figures.void_taken = 3;
    t.figures.void_not_taken = 1;
    t.figures.votes_taken = valid + 3;
    t.figures.ballots_in_box = valid + 4;
    t.figures.counterfoils = valid + 4;
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
            let mut out: Vec<Entry> = Vec::new();
            // Each revision supersedes the leaf of the box's entry before it.
            let mut last: std::collections::HashMap<(&str, &str), usize> =
                std::collections::HashMap::new();
            let mut chain =
                |out: &Vec<Entry>, st: &'static str, contest: &'static str, mut e: Entry| {
                    if let Entry::Tally(t) = &mut e {
                        if let (Some(c), Some(&prev)) =
                            (t.correction.as_mut(), last.get(&(st, contest)))
                        {
                            c.supersedes = leaf(prev);
                        }
                    }
                    last.insert((st, contest), out.len());
                    e
                };
            for (kind, s, votes) in steps {
                let st = STATIONS[s];
                match kind {
                    0 => {
                        let r = revisions.entry((st, "president")).or_insert(0u32);
                        *r += 1;
                        let e = chain(&out, st, "president", pres(st, *r, votes));
                        out.push(e);
                    }
                    1 => {
                        let st = STATIONS[s % 2];
                        let r = revisions.entry((st, "council")).or_insert(0u32);
                        *r += 1;
                        let e = chain(
                            &out,
                            st,
                            "council",
                            council(st, *r, &[(1, votes[0] + 1), (5, votes[1] + 1)]),
                        );
                        out.push(e);
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

fn state() -> LogState {
    LogState::new(Arc::new(testutil::validated()))
}

fn leaf(i: usize) -> Hash {
    testutil::leaf(i)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn statements_at_every_size_equal_the_reference_recomputation(entries in log()) {
        let mut st = state();
        let leaves: Vec<Hash> = (0..entries.len()).map(leaf).collect();
        for (k, e) in entries.iter().enumerate() {
            st.apply(k as u64, leaf(k), e).expect("valid entry");
            let now = k as u64 + 1;
            for size in 1..=now {
                for contest in ["president", "council"] {
                    prop_assert_eq!(
                        st.statement(contest, size, &testutil::Entries {
                            entries: &entries,
                            leaves: &leaves,
                        }).expect("statement"),
                        reference(st.manifest(), &entries, contest, size)
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A state decoded from its snapshot is the state: stations, decisions,
    /// every box and region sum (recomputed bottom-up from the boxes).
    #[test]
    fn a_snapshot_decodes_to_the_same_state(entries in log()) {
        let mut st = state();
        for (k, e) in entries.iter().enumerate() {
            st.apply(k as u64, leaf(k), e).expect("valid entry");
        }
        let bytes = st.encode();
        let back = LogState::decode(st.manifest_arc().clone(), &bytes, &mut |i| {
            Ok((leaf(i as usize), entries[i as usize].clone()))
        })
        .expect("decodes");
        prop_assert_eq!(back.size(), st.size());
        prop_assert_eq!(back.manifest_committed(), st.manifest_committed());
        prop_assert_eq!(back.supervision(), st.supervision());
        prop_assert!(back.aggregator() == st.aggregator());
        let mut a: Vec<_> = back.stations().collect();
        let mut b: Vec<_> = st.stations().collect();
        a.sort_by_key(|(id, _)| *id);
        b.sort_by_key(|(id, _)| *id);
        prop_assert_eq!(a, b);
        // Damaged bytes are refused with a message, never a panic.
        for cut in [0, bytes.len() / 3, bytes.len() - 1] {
            let short = LogState::decode(st.manifest_arc().clone(), &bytes[..cut], &mut |i| {
                Ok((leaf(i as usize), entries[i as usize].clone()))
            });
            prop_assert!(short.is_err(), "cut at {}", cut);
        }
    }
}

#[test]
fn a_statement_beyond_the_state_is_refused() {
    let mut st = state();
    st.apply(0, leaf(0), &pres(STATIONS[0], 1, [1, 2, 3]))
        .expect("applies");
    assert_eq!(
        st.statement("president", 2, &NoLog)
            .expect_err("beyond")
            .code(),
        crate::ErrorCode::ResultsSizeOutOfRange
    );
    assert_eq!(
        st.statement("mayor", 1, &NoLog)
            .expect_err("no such contest")
            .code(),
        crate::ErrorCode::UnknownContest
    );
}

#[test]
fn refuses_an_entry_out_of_order_and_changes_nothing() {
    let mut st = state();
    let e = pres(STATIONS[0], 1, [1, 2, 3]);
    st.apply(0, leaf(0), &e).expect("first");
    let before = format!("{st:?}");
    let err = st.apply(0, leaf(0), &e).expect_err("again");
    assert_eq!(err.code(), crate::ErrorCode::StoreInconsistent);
    let err = st.apply(5, leaf(5), &e).expect_err("a gap");
    assert_eq!(err.code(), crate::ErrorCode::StoreInconsistent);
    // Revision 3 before revision 2: the totals refuse it, nothing changes.
    let err = st
        .apply(1, leaf(1), &pres(STATIONS[0], 3, [1, 2, 3]))
        .expect_err("revision gap");
    assert_eq!(err.code(), crate::ErrorCode::StoreInconsistent);
    assert_eq!(format!("{st:?}"), before);
    assert_eq!(st.size(), 1);
}

#[test]
fn skipped_entries_keep_the_indexes_of_those_after_them() {
    let mut st = state();
    st.skip();
    st.apply(1, leaf(1), &pres(STATIONS[0], 1, [4, 5, 6]))
        .expect("entry 1");
    let t = st.latest_tally(STATIONS[0], "president").expect("tally");
    assert_eq!((t.index, t.revision), (1, 1));
    assert_eq!(st.size(), 2);
    // The statement at size 1 is before the tally; at 2 it counts it.
    assert_eq!(
        st.statement("president", 1, &NoLog)
            .expect("s")
            .figures
            .valid,
        0
    );
    assert_eq!(
        st.statement("president", 2, &NoLog)
            .expect("s")
            .figures
            .valid,
        15
    );
}

#[test]
fn keys_keep_their_history() {
    let mut st = state();
    let key = |n: &str| testutil::key(n).verifier().to_vkey_string();
    let reg = |k: &str| {
        Entry::StationKey(crate::entry::StationKey {
            election: "e1".into(),
            station: STATIONS[0].into(),
            key: k.into(),
        })
    };
    let revoke = |k: &str| {
        Entry::StationKeyRevocation(crate::entry::StationKeyRevocation {
            election: "e1".into(),
            station: STATIONS[0].into(),
            key: k.into(),
            reason: "lost".into(),
        })
    };
    let (a, b) = (key("device a"), key("device b"));
    for (i, e) in [reg(&a), revoke(&a), reg(&b)].iter().enumerate() {
        st.apply(i as u64, leaf(i), e).expect("applies");
    }
    let r = st.station(STATIONS[0]).expect("record");
    assert_eq!(r.keys().len(), 2);
    assert_eq!(r.keys()[0].revoked_at, Some(1));
    assert!(r.ever_had(&a) && r.ever_had(&b));
    assert_eq!(
        r.active_key().map(|(k, _)| k.key.as_str()),
        Some(b.as_str())
    );
    assert_eq!(r.key_entries(), vec![0, 1, 2]);
}

/// A snapshot keeps the role keys a role-key entry put in force, and the
/// key each role held before (re-applied with the other decisions).
#[test]
fn a_snapshot_keeps_the_role_keys_in_force() {
    let mut st = state();
    let old = testutil::authority().verifier();
    let new = testutil::key("authority-2").verifier();
    let rotation = Entry::RoleKey(crate::entry::RoleKey {
        election: "e1".into(),
        role: crate::entry::Role::Authority,
        old: old.clone(),
        new: Some(new.clone()),
        reason: "rotated".into(),
    });
    let entries = [pres(STATIONS[0], 1, [1, 2, 3]), rotation];
    for (k, e) in entries.iter().enumerate() {
        st.apply(k as u64, leaf(k), e).expect("applies");
    }
    assert_eq!(st.roles().authority(), &new);
    let back = LogState::decode(st.manifest_arc().clone(), &st.encode(), &mut |i| {
        Ok((leaf(i as usize), entries[i as usize].clone()))
    })
    .expect("decodes");
    assert_eq!(back.roles().authority(), &new);
    let held = |s: &LogState| -> Vec<(String, Option<u64>)> {
        s.roles()
            .held()
            .iter()
            .map(|h| (h.key.to_vkey_string(), h.until))
            .collect()
    };
    assert_eq!(held(&back), held(&st));
    assert!(held(&st).contains(&(old.to_vkey_string(), Some(1))));
}
