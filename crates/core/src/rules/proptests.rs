//! Properties of [`decide`] over generated contests: it never panics, it does
//! not depend on input order, its lists are disjoint and account for every
//! seat, and lot entries only ever settle what was reported as a tie.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn kind() -> impl Strategy<Value = ElectionKind> {
    prop_oneof![
        Just(ElectionKind::Presidential),
        Just(ElectionKind::Majlis),
        Just(ElectionKind::AssemblyOfExperts),
        Just(ElectionKind::CityCouncil),
        Just(ElectionKind::VillageCouncil),
    ]
}

/// Valid rules for a generated contest.
fn valid_rules() -> impl Strategy<Value = ContestRules> {
    (kind(), 1u32..6, any::<bool>(), 0u32..4, 1u64..6, 1u32..4).prop_map(
        |(kind, seats, second, reserves, num, factor)| {
            let seats = if kind == ElectionKind::Presidential {
                1
            } else {
                seats
            };
            let mut r = ContestRules::defaults(kind, seats);
            let has_runoff = matches!(kind, ElectionKind::Presidential | ElectionKind::Majlis);
            if has_runoff && second {
                r.round = 2;
                r.threshold = None;
                r.runoff_factor = None;
            } else if has_runoff {
                r.threshold = Some(Ratio { num, den: 6 });
                r.runoff_factor = Some(factor);
            } else if matches!(
                kind,
                ElectionKind::CityCouncil | ElectionKind::VillageCouncil
            ) {
                r.reserves = Some(reserves);
            }
            r
        },
    )
}

/// Counts consistent with `seats`: small vote numbers, so ties are common.
fn valid_counts(seats: u32) -> impl Strategy<Value = ContestCounts> {
    (
        prop::collection::btree_map(0u32..30, 0u64..6, 0..12),
        0u32..3,
        0u64..4,
        0u64..4,
    )
        .prop_map(move |(votes, silent, extra, void_taken)| {
            let sum: u64 = votes.values().sum();
            let max = votes.values().copied().max().unwrap_or(0);
            let valid = if seats == 1 {
                sum
            } else {
                max.max(sum.div_ceil(u64::from(seats))) + extra
            };
            let mut candidates: Vec<u32> = votes.keys().copied().collect();
            candidates.extend((0..silent).map(|i| 100 + i));
            ContestCounts {
                candidates,
                votes,
                valid,
                void_taken,
            }
        })
}

fn contest() -> impl Strategy<Value = (ContestRules, ContestCounts)> {
    valid_rules().prop_flat_map(|r| {
        let seats = r.seats;
        (Just(r), valid_counts(seats))
    })
}

/// A lot for every reported tie, ordering it by rotating it `k` places.
fn lots_for(d: &Decision, k: usize) -> Vec<LotDraw> {
    d.lot_needed
        .iter()
        .map(|t| {
            let mut order = t.among.clone();
            let n = order.len();
            order.rotate_left(k % n);
            LotDraw {
                among: t.among.clone(),
                order,
            }
        })
        .collect()
}

fn check_invariants(r: &ContestRules, c: &ContestCounts, d: &Decision) {
    let tied: Vec<u32> = d.lot_needed.iter().flat_map(|t| t.among.clone()).collect();
    let reserves: Vec<u32> = d.reserves.iter().map(|x| x.candidate).collect();
    let all: Vec<&u32> = d
        .elected
        .iter()
        .chain(&d.runoff)
        .chain(&reserves)
        .chain(&tied)
        .collect();
    let distinct: BTreeSet<&u32> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "lists overlap: {d:?}");
    assert!(d
        .elected_without_runoff
        .iter()
        .all(|e| d.elected.contains(e)));
    if d.status == Status::NoValidVotes {
        assert_eq!(all.len(), 0);
        return;
    }
    let tied_seats = d
        .lot_needed
        .iter()
        .flat_map(|t| &t.places)
        .filter(|p| **p == Place::Seat)
        .count();
    let accounted =
        d.elected.len() + tied_seats + d.vacant_seats as usize + d.runoff_seats as usize;
    assert_eq!(
        accounted, r.seats as usize,
        "seats not accounted for: {d:?}"
    );
    // Nobody is placed above a candidate with more votes.
    let votes = |x: &u32| c.votes.get(x).copied().unwrap_or(0);
    for e in &d.elected {
        for o in d.runoff.iter().chain(&reserves) {
            assert!(votes(e) >= votes(o));
        }
    }
    let ranks: Vec<u32> = d.reserves.iter().map(|x| x.rank).collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]));
    for x in &reserves {
        assert!(votes(x) > 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn never_panics_on_arbitrary_input(
        kind in kind(),
        seats in any::<u32>(),
        round in any::<u8>(),
        threshold in proptest::option::of((any::<u64>(), any::<u64>())),
        runoff_factor in proptest::option::of(any::<u32>()),
        reserves in proptest::option::of(any::<u32>()),
        candidates in prop::collection::vec(any::<u32>(), 0..8),
        votes in prop::collection::btree_map(any::<u32>(), any::<u64>(), 0..8),
        valid in any::<u64>(),
        void_taken in any::<u64>(),
        lots in prop::collection::vec((prop::collection::vec(any::<u32>(), 0..4), prop::collection::vec(any::<u32>(), 0..4)), 0..3),
    ) {
        let r = ContestRules {
            kind, seats, round,
            threshold: threshold.map(|(num, den)| Ratio { num, den }),
            runoff_factor, reserves,
        };
        let c = ContestCounts { candidates, votes, valid, void_taken };
        let lots: Vec<LotDraw> = lots.into_iter().map(|(among, order)| LotDraw { among, order }).collect();
        let _ = decide(&r, &c, &lots);
    }

    #[test]
    fn decisions_are_consistent_and_order_independent((r, c) in contest(), k in 0usize..5) {
        let d = decide(&r, &c, &[]).expect("generated input is valid");
        check_invariants(&r, &c, &d);

        // Candidate list order and map insertion order do not matter.
        let mut shuffled = c.clone();
        shuffled.candidates.reverse();
        shuffled.votes = c.votes.iter().rev().map(|(&a, &b)| (a, b)).collect();
        prop_assert_eq!(&decide(&r, &shuffled, &[]).unwrap(), &d);

        // Lots settle exactly the reported ties and keep what was decided.
        let lots = lots_for(&d, k);
        let settled = decide(&r, &c, &lots).unwrap();
        check_invariants(&r, &c, &settled);
        prop_assert!(settled.lot_needed.is_empty());
        prop_assert_eq!(settled.lots_applied.len(), lots.len());
        prop_assert!(d.elected.iter().all(|e| settled.elected.contains(e)));
        prop_assert!(d.runoff.iter().all(|e| settled.runoff.contains(e)));
        prop_assert!(d.reserves.iter().all(|e| settled.reserves.contains(e)));
        prop_assert_eq!((settled.vacant_seats, settled.runoff_seats), (d.vacant_seats, d.runoff_seats));

        // The order of the lot entries does not matter either.
        let mut reversed = lots.clone();
        reversed.reverse();
        let again = decide(&r, &c, &reversed).unwrap();
        prop_assert_eq!(again.elected, settled.elected);
        prop_assert_eq!(again.runoff, settled.runoff);
        prop_assert_eq!(again.reserves, settled.reserves);
    }
}
