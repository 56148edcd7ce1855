//! Worked cases for each rule, with real-shaped numbers from elections.md §1.7.

use super::*;
use crate::error::{Coded, ErrorCode};

/// Counts from `(code, votes)` pairs; every listed code is a candidate, plus
/// `silent` candidates with no votes.
fn counts(votes: &[(u32, u64)], silent: &[u32], valid: u64, void_taken: u64) -> ContestCounts {
    let mut candidates: Vec<u32> = votes.iter().map(|&(c, _)| c).collect();
    candidates.extend_from_slice(silent);
    ContestCounts {
        candidates,
        votes: votes.iter().copied().collect(),
        valid,
        void_taken,
    }
}

/// Counts whose valid ballots equal the vote sum (one-seat contests).
fn single(votes: &[(u32, u64)], void_taken: u64) -> ContestCounts {
    let valid = votes.iter().map(|&(_, v)| v).sum();
    counts(votes, &[], valid, void_taken)
}

fn rules(kind: ElectionKind, seats: u32) -> ContestRules {
    ContestRules::defaults(kind, seats)
}

fn round2(kind: ElectionKind, seats: u32) -> ContestRules {
    ContestRules {
        round: 2,
        threshold: None,
        runoff_factor: None,
        ..ContestRules::defaults(kind, seats)
    }
}

fn lot(order: &[u32]) -> LotDraw {
    let mut among = order.to_vec();
    among.reverse();
    LotDraw {
        among,
        order: order.to_vec(),
    }
}

fn code_of(r: Result<Decision, RulesError>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

const PRES: ElectionKind = ElectionKind::Presidential;
const MAJLIS: ElectionKind = ElectionKind::Majlis;
const EXPERTS: ElectionKind = ElectionKind::AssemblyOfExperts;
const CITY: ElectionKind = ElectionKind::CityCouncil;
const VILLAGE: ElectionKind = ElectionKind::VillageCouncil;

// ---------------------------------------------------------------- presidential

#[test]
fn presidential_2024_round_one_goes_to_runoff() {
    // Pezeshkian, Jalili, Qalibaf, Pourmohammadi; 24,535,185 votes taken.
    let c = single(
        &[
            (1, 10_415_991),
            (2, 9_473_298),
            (3, 3_383_340),
            (4, 206_397),
        ],
        1_056_159,
    );
    assert_eq!(c.valid + c.void_taken, 24_535_185);
    let d = decide(&rules(PRES, 1), &c, &[]).unwrap();
    assert_eq!(d.status, Status::Runoff);
    assert!(d.elected.is_empty());
    assert_eq!(d.runoff, vec![1, 2]);
    assert_eq!(d.runoff_seats, 1);
    let t = d.threshold.unwrap();
    assert_eq!(
        (t.base, t.strict, t.min_votes),
        (24_535_185, true, 12_267_593)
    );
}

#[test]
fn presidential_2024_runoff_elects_the_leader() {
    // 30,530,157 votes taken; Pezeshkian 16,384,403, Jalili 13,538,179.
    let c = single(&[(1, 16_384_403), (2, 13_538_179)], 607_575);
    assert_eq!(c.valid + c.void_taken, 30_530_157);
    let d = decide(&round2(PRES, 1), &c, &[]).unwrap();
    assert_eq!((d.status, d.elected.clone()), (Status::Complete, vec![1]));
    assert_eq!(d.threshold, None);
}

#[test]
fn presidential_2021_elected_in_round_one() {
    // Raisi 17,926,345 of 28,933,004 votes taken (initial MOI figures).
    let c = single(
        &[
            (1, 17_926_345),
            (2, 3_412_712),
            (3, 2_427_201),
            (4, 999_718),
        ],
        4_167_028,
    );
    assert_eq!(c.valid + c.void_taken, 28_933_004);
    let d = decide(&rules(PRES, 1), &c, &[]).unwrap();
    assert_eq!(d.status, Status::Complete);
    assert_eq!(d.elected, vec![1]);
    assert!(d.runoff.is_empty());
}

#[test]
fn presidential_majority_is_strict_and_counts_void_taken() {
    let half = single(&[(1, 50), (2, 50)], 0);
    let d = decide(&rules(PRES, 1), &half, &[]).unwrap();
    assert_eq!(d.runoff, vec![1, 2]);
    let d = decide(&rules(PRES, 1), &single(&[(1, 51), (2, 49)], 0), &[]).unwrap();
    assert_eq!(d.elected, vec![1]);
    // 60 of 100 valid, but 60 of 121 taken is not a majority.
    let d = decide(&rules(PRES, 1), &single(&[(1, 60), (2, 40)], 21), &[]).unwrap();
    assert_eq!((d.status, d.runoff.clone()), (Status::Runoff, vec![1, 2]));
    let d = decide(&rules(PRES, 1), &single(&[(1, 60), (2, 40)], 19), &[]).unwrap();
    assert_eq!(d.elected, vec![1]);
}

#[test]
fn presidential_tie_for_second_place_needs_a_lot() {
    let c = single(&[(7, 50), (3, 30), (9, 30)], 0);
    let d = decide(&rules(PRES, 1), &c, &[]).unwrap();
    assert_eq!(d.status, Status::LotNeeded);
    assert_eq!(d.runoff, vec![7]);
    assert_eq!(
        d.lot_needed,
        vec![Tie {
            among: vec![3, 9],
            votes: 30,
            places: vec![Place::Runoff, Place::Out],
        }]
    );
    let d = decide(&rules(PRES, 1), &c, &[lot(&[9, 3])]).unwrap();
    assert_eq!(d.status, Status::Runoff);
    assert_eq!(d.runoff, vec![7, 9]);
    assert_eq!(
        d.lots_applied,
        vec![LotDraw {
            among: vec![3, 9],
            order: vec![9, 3]
        }]
    );
}

#[test]
fn presidential_tie_for_first_between_two_needs_no_lot() {
    let d = decide(
        &rules(PRES, 1),
        &single(&[(1, 40), (2, 40), (3, 20)], 0),
        &[],
    )
    .unwrap();
    assert_eq!((d.status, d.runoff.clone()), (Status::Runoff, vec![1, 2]));
    let d = decide(
        &rules(PRES, 1),
        &single(&[(1, 30), (2, 30), (3, 30)], 0),
        &[],
    )
    .unwrap();
    assert_eq!(d.status, Status::LotNeeded);
    assert!(d.runoff.is_empty());
    assert_eq!(
        d.lot_needed[0].places,
        vec![Place::Runoff, Place::Runoff, Place::Out]
    );
}

#[test]
fn presidential_edge_cases() {
    // No valid ballots: nothing to decide.
    let d = decide(&rules(PRES, 1), &counts(&[], &[1, 2], 0, 5), &[]).unwrap();
    assert_eq!(d, Decision::no_valid_votes());
    // A lone candidate without a majority is not elected: listed for the runoff.
    let d = decide(&rules(PRES, 1), &single(&[(1, 10)], 20), &[]).unwrap();
    assert_eq!((d.status, d.runoff.clone()), (Status::Runoff, vec![1]));
    // A tie in the second round is settled by lot.
    let d = decide(&round2(PRES, 1), &single(&[(1, 10), (2, 10)], 0), &[]).unwrap();
    assert_eq!(d.lot_needed[0].places, vec![Place::Seat, Place::Out]);
    let d = decide(
        &round2(PRES, 1),
        &single(&[(1, 10), (2, 10)], 0),
        &[lot(&[2, 1])],
    )
    .unwrap();
    assert_eq!(d.elected, vec![2]);
}

// ---------------------------------------------------------------------- Majlis

/// A Tehran-shaped first round: 30 seats, 3,500 candidates, 1.8 M valid
/// ballots so the threshold is 360,000 (elections.md §1.2); five candidates
/// reach it, the sixth misses by one vote.
fn tehran() -> ContestCounts {
    let top = [900_000, 700_000, 500_000, 400_000, 360_000, 359_999];
    let votes: Vec<(u32, u64)> = (0..3_500u64)
        .map(|i| {
            let code = 1_000 + u32::try_from((i * 7_919) % 3_500).unwrap();
            let v = match top.get(i as usize) {
                Some(&v) => v,
                None => 350_000 / (i - 4),
            };
            (code, v)
        })
        .collect();
    counts(&votes, &[], 1_800_000, 95_000)
}

#[test]
fn majlis_tehran_first_round_fills_five_and_sends_fifty_to_runoff() {
    let c = tehran();
    let mut ranked: Vec<(u32, u64)> = c.votes.iter().map(|(&k, &v)| (k, v)).collect();
    ranked.sort_by_key(|&(_, v)| std::cmp::Reverse(v));
    let d = decide(&rules(MAJLIS, 30), &c, &[]).unwrap();
    assert_eq!(d.status, Status::Runoff);
    let t = d.threshold.unwrap();
    assert_eq!((t.base, t.strict, t.min_votes), (1_800_000, false, 360_000));
    let codes: Vec<u32> = ranked.iter().map(|&(k, _)| k).collect();
    assert_eq!(d.elected, codes[..5]);
    assert_eq!(d.runoff_seats, 25);
    assert_eq!(d.runoff, codes[5..55]);
    assert_eq!((d.vacant_seats, d.lot_needed.len()), (0, 0));
    // The candidate order in the contest is irrelevant.
    let mut shuffled = c.clone();
    shuffled.candidates.reverse();
    assert_eq!(decide(&rules(MAJLIS, 30), &shuffled, &[]).unwrap(), d);
}

#[test]
fn majlis_threshold_is_exact_on_valid_ballots() {
    let r = rules(MAJLIS, 2);
    let at = |a: u64, valid: u64| {
        let c = counts(&[(1, a), (2, 10), (3, 5)], &[], valid, 1_000_000);
        decide(&r, &c, &[]).unwrap().elected.contains(&1)
    };
    assert!(at(200, 1_000));
    assert!(!at(199, 1_000));
    assert!(!at(200, 1_001));
    assert!(at(201, 1_001));
    // The older one-quarter rule, stated in the manifest.
    let quarter = ContestRules {
        threshold: Some(Ratio { num: 1, den: 4 }),
        ..rules(MAJLIS, 2)
    };
    let c = counts(&[(1, 250), (2, 249), (3, 5)], &[], 1_000, 0);
    assert_eq!(decide(&quarter, &c, &[]).unwrap().elected, vec![1]);
}

#[test]
fn majlis_all_seats_filled_in_round_one() {
    let c = counts(&[(1, 600), (2, 500), (3, 400), (4, 150)], &[5], 1_000, 0);
    let d = decide(&rules(MAJLIS, 3), &c, &[]).unwrap();
    assert_eq!(
        (d.status, d.elected.clone()),
        (Status::Complete, vec![1, 2, 3])
    );
    assert!(d.runoff.is_empty());
}

#[test]
fn majlis_more_qualify_than_seats_and_tie_at_the_cut() {
    let c = counts(&[(1, 600), (2, 500), (3, 400)], &[], 1_000, 0);
    assert_eq!(
        decide(&rules(MAJLIS, 2), &c, &[]).unwrap().elected,
        vec![1, 2]
    );
    let c = counts(&[(1, 600), (2, 500), (3, 500)], &[], 1_000, 0);
    let d = decide(&rules(MAJLIS, 2), &c, &[]).unwrap();
    assert_eq!((d.status, d.elected.clone()), (Status::LotNeeded, vec![1]));
    assert_eq!(d.lot_needed[0].places, vec![Place::Seat, Place::Out]);
    let d = decide(&rules(MAJLIS, 2), &c, &[lot(&[3, 2])]).unwrap();
    assert_eq!(
        (d.status, d.elected.clone()),
        (Status::Complete, vec![1, 3])
    );
}

#[test]
fn majlis_tie_at_the_runoff_boundary() {
    // 3 seats, 1 filled; 2 unfilled => 4 runoff places; 5th and 6th tied.
    let v = [
        (1, 300),
        (2, 150),
        (3, 100),
        (4, 90),
        (5, 80),
        (6, 80),
        (7, 50),
    ];
    let c = counts(&v, &[], 1_000, 0);
    let d = decide(&rules(MAJLIS, 3), &c, &[]).unwrap();
    assert_eq!(d.status, Status::LotNeeded);
    assert_eq!(
        (d.elected.clone(), d.runoff.clone()),
        (vec![1], vec![2, 3, 4])
    );
    assert_eq!(d.runoff_seats, 2);
    assert_eq!(d.lot_needed[0].among, vec![5, 6]);
    assert_eq!(d.lot_needed[0].places, vec![Place::Runoff, Place::Out]);
    // A lot between a different set does not settle this tie.
    let d2 = decide(&rules(MAJLIS, 3), &c, &[lot(&[6, 7])]).unwrap();
    assert_eq!(
        (d2.lot_needed.clone(), d2.lots_applied.len()),
        (d.lot_needed.clone(), 0)
    );
    let d = decide(&rules(MAJLIS, 3), &c, &[lot(&[6, 5])]).unwrap();
    assert_eq!((d.status, d.runoff), (Status::Runoff, vec![2, 3, 4, 6]));
}

#[test]
fn majlis_runoff_takes_all_remaining_when_fewer_than_twice() {
    let c = counts(&[(1, 90), (2, 10), (3, 5), (4, 3)], &[], 100, 0);
    let d = decide(&rules(MAJLIS, 3), &c, &[]).unwrap();
    assert_eq!((d.runoff.clone(), d.runoff_seats), (vec![2, 3, 4], 2));
    let d = decide(&rules(MAJLIS, 2), &c, &[]).unwrap();
    assert_eq!((d.runoff.clone(), d.runoff_seats), (vec![2, 3], 1));
    // A runoff factor stated in the manifest overrides the default 2.
    let three = ContestRules {
        runoff_factor: Some(3),
        ..rules(MAJLIS, 2)
    };
    assert_eq!(decide(&three, &c, &[]).unwrap().runoff, vec![2, 3, 4]);
}

#[test]
fn majlis_no_runoff_when_too_few_candidates_remain() {
    let c = counts(&[(1, 90), (2, 10), (3, 5)], &[9], 100, 0);
    let d = decide(&rules(MAJLIS, 3), &c, &[]).unwrap();
    assert_eq!(d.status, Status::Complete);
    assert_eq!(d.elected, vec![1, 2, 3]);
    assert_eq!(d.elected_without_runoff, vec![2, 3]);
    assert_eq!((d.runoff_seats, d.vacant_seats), (0, 0));
    // One remains for two unfilled seats: elected, and one seat stays vacant.
    let c = counts(&[(1, 90), (2, 10)], &[9], 100, 0);
    let d = decide(&rules(MAJLIS, 3), &c, &[]).unwrap();
    assert_eq!((d.elected.clone(), d.vacant_seats), (vec![1, 2], 1));
}

#[test]
fn majlis_second_round_is_plurality() {
    let c = counts(&[(1, 10), (2, 9), (3, 1)], &[], 10, 3);
    let d = decide(&round2(MAJLIS, 2), &c, &[]).unwrap();
    assert_eq!((d.status, d.elected), (Status::Complete, vec![1, 2]));
}

// -------------------------------------------------------- Experts and councils

#[test]
fn experts_plurality_with_tie_at_the_cut() {
    // Tehran province: 16 seats, 40 candidates.
    let mut v: Vec<(u32, u64)> = (0..40u32)
        .map(|i| (100 + i, 2_000_000 - u64::from(i) * 10_000))
        .collect();
    let d = decide(&rules(EXPERTS, 16), &counts(&v, &[], 5_000_000, 0), &[]).unwrap();
    assert_eq!(d.status, Status::Complete);
    assert_eq!(d.elected, (100..116).collect::<Vec<_>>());
    assert_eq!(d.threshold, None);
    v[16].1 = v[15].1; // 16th and 17th tied
    let c = counts(&v, &[], 5_000_000, 0);
    let d = decide(&rules(EXPERTS, 16), &c, &[]).unwrap();
    assert_eq!((d.status, d.elected.len()), (Status::LotNeeded, 15));
    assert_eq!(d.lot_needed[0].among, vec![115, 116]);
    let d = decide(&rules(EXPERTS, 16), &c, &[lot(&[116, 115])]).unwrap();
    assert_eq!(d.elected.last(), Some(&116));
}

#[test]
fn zero_vote_candidates_are_never_elected() {
    let c = counts(&[(1, 10), (2, 5)], &[3, 4], 10, 0);
    let d = decide(&rules(EXPERTS, 3), &c, &[]).unwrap();
    assert_eq!((d.elected, d.vacant_seats), (vec![1, 2], 1));
}

fn reserves(d: &Decision) -> Vec<(u32, u32)> {
    d.reserves.iter().map(|r| (r.rank, r.candidate)).collect()
}

#[test]
fn village_council_three_seats_two_reserves() {
    let v = [(1, 500), (2, 400), (3, 300), (4, 200), (5, 100), (6, 50)];
    let d = decide(&rules(VILLAGE, 3), &counts(&v, &[], 700, 0), &[]).unwrap();
    assert_eq!(
        (d.status, d.elected.clone()),
        (Status::Complete, vec![1, 2, 3])
    );
    assert_eq!(reserves(&d), vec![(1, 4), (2, 5)]);
}

#[test]
fn village_council_five_seats_three_reserves() {
    let v: Vec<(u32, u64)> = (1..=10u32).map(|i| (i, 1_000 - u64::from(i))).collect();
    let d = decide(&rules(VILLAGE, 5), &counts(&v, &[], 2_000, 0), &[]).unwrap();
    assert_eq!(d.elected, vec![1, 2, 3, 4, 5]);
    assert_eq!(reserves(&d), vec![(1, 6), (2, 7), (3, 8)]);
}

#[test]
fn council_reserve_counts_must_be_known() {
    let c = counts(&[(1, 5), (2, 4)], &[], 5, 0);
    assert_eq!(
        code_of(decide(&rules(CITY, 5), &c, &[])),
        ErrorCode::ManifestInvalid
    );
    assert_eq!(
        code_of(decide(&rules(VILLAGE, 7), &c, &[])),
        ErrorCode::ManifestInvalid
    );
    let city = ContestRules {
        reserves: Some(4),
        ..rules(CITY, 1)
    };
    let c = counts(&[(1, 5), (2, 3), (3, 2)], &[], 10, 0);
    let d = decide(&city, &c, &[]).unwrap();
    assert_eq!(
        (d.elected.clone(), reserves(&d)),
        (vec![1], vec![(1, 2), (2, 3)])
    );
}

#[test]
fn council_ties_at_each_boundary() {
    let r = rules(VILLAGE, 3);
    let run =
        |v: &[(u32, u64)], lots: &[LotDraw]| decide(&r, &counts(v, &[], 1_000, 0), lots).unwrap();
    // Within the seats: no lot, nothing at stake.
    let d = run(&[(1, 50), (2, 50), (3, 50), (4, 20), (5, 10)], &[]);
    assert_eq!((d.status, d.elected), (Status::Complete, vec![1, 2, 3]));
    // Last seat against first reserve.
    let v = [(1, 50), (2, 40), (3, 30), (4, 30), (5, 10)];
    let d = run(&v, &[]);
    assert_eq!(
        d.lot_needed[0].places,
        vec![Place::Seat, Place::Reserve { rank: 1 }]
    );
    assert_eq!(
        (d.elected.clone(), reserves(&d)),
        (vec![1, 2], vec![(2, 5)])
    );
    let d = run(&v, &[lot(&[4, 3])]);
    assert_eq!(
        (d.elected.clone(), reserves(&d)),
        (vec![1, 2, 4], vec![(1, 3), (2, 5)])
    );
    // Between reserve ranks.
    let v = [(1, 50), (2, 40), (3, 30), (4, 20), (5, 20), (6, 10)];
    let d = run(&v, &[]);
    let ranks = vec![Place::Reserve { rank: 1 }, Place::Reserve { rank: 2 }];
    assert_eq!(
        (d.lot_needed[0].places.clone(), d.reserves.len()),
        (ranks, 0)
    );
    assert_eq!(reserves(&run(&v, &[lot(&[5, 4])])), vec![(1, 5), (2, 4)]);
    // Last reserve against nothing.
    let v = [(1, 50), (2, 40), (3, 30), (4, 20), (5, 10), (6, 10)];
    let d = run(&v, &[]);
    assert_eq!(
        d.lot_needed[0].places,
        vec![Place::Reserve { rank: 2 }, Place::Out]
    );
    assert_eq!(reserves(&d), vec![(1, 4)]);
}

// ------------------------------------------------------------------ validation

#[test]
fn invalid_rules_are_refused() {
    let c = single(&[(1, 5), (2, 4)], 0);
    let bad = [
        rules(EXPERTS, 0),
        rules(PRES, 2),
        ContestRules {
            round: 3,
            ..rules(MAJLIS, 1)
        },
        ContestRules {
            round: 2,
            ..rules(EXPERTS, 1)
        },
        ContestRules {
            threshold: Some(Ratio { num: 1, den: 0 }),
            ..rules(MAJLIS, 1)
        },
        ContestRules {
            threshold: Some(Ratio { num: 3, den: 2 }),
            ..rules(MAJLIS, 1)
        },
        ContestRules {
            threshold: Some(Ratio::HALF),
            ..rules(EXPERTS, 1)
        },
        ContestRules {
            threshold: Some(Ratio::HALF),
            ..round2(PRES, 1)
        },
        ContestRules {
            runoff_factor: Some(0),
            ..rules(MAJLIS, 1)
        },
        ContestRules {
            runoff_factor: Some(2),
            ..rules(VILLAGE, 3)
        },
        ContestRules {
            reserves: Some(1),
            ..rules(MAJLIS, 1)
        },
    ];
    for r in &bad {
        assert_eq!(
            code_of(decide(r, &c, &[])),
            ErrorCode::ManifestInvalid,
            "{r:?}"
        );
    }
}

#[test]
fn invalid_counts_are_refused() {
    let r = rules(MAJLIS, 2);
    let unknown = ContestCounts {
        candidates: vec![1],
        ..counts(&[(1, 5), (2, 4)], &[], 9, 0)
    };
    assert_eq!(
        code_of(decide(&r, &unknown, &[])),
        ErrorCode::UnknownCandidate
    );
    let dup = counts(&[(1, 5)], &[1], 9, 0);
    assert_eq!(code_of(decide(&r, &dup, &[])), ErrorCode::ManifestInvalid);
    let over = counts(&[(1, 5), (2, 5), (3, 5)], &[], 7, 0);
    assert_eq!(code_of(decide(&r, &over, &[])), ErrorCode::TallyVoteSum);
    let above_valid = counts(&[(1, 8)], &[], 7, 0);
    assert_eq!(
        code_of(decide(&r, &above_valid, &[])),
        ErrorCode::TallyVoteSum
    );
    let not_valid = counts(&[(1, 5), (2, 4)], &[], 10, 0);
    assert_eq!(
        code_of(decide(&rules(PRES, 1), &not_valid, &[])),
        ErrorCode::TallyVoteSum
    );
    let huge = counts(&[(1, 5)], &[], 5, MAX_COUNT + 1);
    assert_eq!(
        code_of(decide(&r, &huge, &[])),
        ErrorCode::TallyCountTooLarge
    );
}

#[test]
fn invalid_lots_are_refused() {
    let r = rules(EXPERTS, 1);
    let c = single(&[(1, 5), (2, 5), (3, 1)], 0);
    let with = |lots: &[LotDraw]| decide(&r, &c, lots);
    let one = LotDraw {
        among: vec![1],
        order: vec![1],
    };
    assert_eq!(code_of(with(&[one])), ErrorCode::EntryBadValue);
    let not_perm = LotDraw {
        among: vec![1, 2],
        order: vec![1, 3],
    };
    assert_eq!(code_of(with(&[not_perm])), ErrorCode::EntryBadValue);
    let twice = LotDraw {
        among: vec![1, 1],
        order: vec![1, 1],
    };
    assert_eq!(code_of(with(&[twice])), ErrorCode::EntryBadValue);
    assert_eq!(code_of(with(&[lot(&[1, 9])])), ErrorCode::UnknownCandidate);
    assert_eq!(
        code_of(with(&[lot(&[1, 2]), lot(&[2, 1])])),
        ErrorCode::EntryBadValue
    );
    let d = with(&[lot(&[2, 1]), lot(&[2, 1])]).unwrap();
    assert_eq!(d.elected, vec![2]);
}

// ----------------------------------------------------------------------- serde

#[test]
fn json_names_are_kebab_case_and_defaults_apply() {
    let r: ContestRules =
        serde_json::from_str(r#"{"kind":"assembly-of-experts","seats":16}"#).unwrap();
    assert_eq!(
        r,
        ContestRules {
            kind: EXPERTS,
            seats: 16,
            round: 1,
            threshold: None,
            runoff_factor: None,
            reserves: None
        }
    );
    let r: ContestRules = serde_json::from_str(
        r#"{"kind":"majlis","seats":30,"threshold":{"num":1,"den":4},"runoff-factor":2}"#,
    )
    .unwrap();
    assert_eq!(r.threshold, Some(Ratio { num: 1, den: 4 }));
    assert!(serde_json::from_str::<ContestRules>(r#"{"kind":"majlis","seats":1,"x":1}"#).is_err());
    let c: ContestCounts =
        serde_json::from_str(r#"{"candidates":[1,2],"votes":{"1":3},"valid":3,"void-taken":1}"#)
            .unwrap();
    assert_eq!(c.void_taken, 1);
    let d = decide(
        &rules(VILLAGE, 3),
        &counts(&[(1, 3), (2, 3), (3, 3), (4, 3)], &[], 4, 0),
        &[],
    )
    .unwrap();
    let j = serde_json::to_value(&d).unwrap();
    assert_eq!(j["status"], "lot-needed");
    assert_eq!(j["lot-needed"][0]["places"][3]["place"], "reserve");
    assert_eq!(j["lot-needed"][0]["places"][3]["rank"], 1);
    assert_eq!(serde_json::from_value::<Decision>(j).unwrap(), d);
}

#[test]
fn defaults_per_kind() {
    assert_eq!(rules(PRES, 1).threshold, Some(Ratio::HALF));
    assert_eq!(rules(MAJLIS, 30).threshold, Some(Ratio::FIFTH));
    assert_eq!(rules(MAJLIS, 30).runoff_factor, Some(2));
    assert_eq!(rules(EXPERTS, 16).runoff_factor, None);
    assert_eq!(rules(VILLAGE, 3).reserves, Some(2));
    assert_eq!(rules(VILLAGE, 5).reserves, Some(3));
    assert_eq!(rules(CITY, 5).reserves, None);
}
