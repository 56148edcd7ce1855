//! The mechanics behind [`super::decide`]: validation, ranking, the places
//! each rule assigns to ranking positions, and tie resolution by lot.
//!
//! The method is the one in `spec/rules.md`: rank candidates with at least
//! one vote by votes; give every ranking position a place (seat, runoff
//! place, reserve rank or nothing) from the rule alone; then walk the groups
//! of candidates with equal votes. A group whose positions are all worth the
//! same takes that place; otherwise a lot entry for exactly that group orders
//! it, or the group is reported as a tie and its places stay undecided.

use super::decision::{Decision, Place, Reserve, Status, ThresholdApplied, Tie};
use super::{
    default_reserves, default_runoff_factor, default_threshold, ContestCounts, ContestRules,
    ElectionKind, LotDraw, Ratio, RulesError, MAX_COUNT,
};
use std::collections::{BTreeMap, BTreeSet};

/// The rules with every default resolved and every parameter checked.
struct Effective {
    kind: ElectionKind,
    seats: u64,
    /// Present only for a presidential or Majlis first round.
    threshold: Option<Ratio>,
    /// 0 when the rule has no runoff.
    runoff_factor: u64,
    /// 0 for kinds without reserves.
    reserves: u64,
}

/// What a ranking position is worth, before ties are looked at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Seat,
    /// A Majlis seat filled below the threshold because no runoff is held.
    SeatWithoutRunoff,
    Runoff,
    Reserve(u32),
    Out,
}

impl Slot {
    fn public(self) -> Place {
        match self {
            Slot::Seat | Slot::SeatWithoutRunoff => Place::Seat,
            Slot::Runoff => Place::Runoff,
            Slot::Reserve(rank) => Place::Reserve { rank },
            Slot::Out => Place::Out,
        }
    }
}

/// The places of every ranking position, plus what the rule decided about
/// seats as a whole.
struct Plan {
    slots: Vec<Slot>,
    runoff_seats: u64,
    vacant_seats: u64,
    threshold: Option<ThresholdApplied>,
}

fn invalid(reason: &'static str) -> RulesError {
    RulesError::InvalidRules(reason)
}

fn resolve(rules: &ContestRules) -> Result<Effective, RulesError> {
    let kind = rules.kind;
    let has_runoff = matches!(kind, ElectionKind::Presidential | ElectionKind::Majlis);
    let is_council = matches!(
        kind,
        ElectionKind::CityCouncil | ElectionKind::VillageCouncil
    );
    if rules.seats == 0 {
        return Err(invalid("seats must be at least 1"));
    }
    if kind == ElectionKind::Presidential && rules.seats != 1 {
        return Err(invalid("a presidential contest has exactly one seat"));
    }
    let first_round = match rules.round {
        1 => true,
        2 if has_runoff => false,
        2 => {
            return Err(invalid(
                "only presidential and Majlis contests have a second round",
            ))
        }
        _ => return Err(invalid("round must be 1 or 2")),
    };
    let rounds_with_threshold = has_runoff && first_round;
    let threshold = match rules.threshold {
        Some(_) if !rounds_with_threshold => {
            return Err(invalid(
                "a threshold applies only to a presidential or Majlis first round",
            ))
        }
        Some(Ratio { den: 0, .. }) => return Err(invalid("threshold denominator is zero")),
        Some(r) if r.num > r.den => return Err(invalid("threshold is greater than 1")),
        Some(r) => Some(r),
        None if rounds_with_threshold => default_threshold(kind),
        None => None,
    };
    let runoff_factor = match rules.runoff_factor {
        Some(_) if !rounds_with_threshold => {
            return Err(invalid(
                "a runoff factor applies only to a presidential or Majlis first round",
            ))
        }
        Some(0) => return Err(invalid("runoff factor must be at least 1")),
        Some(f) => f,
        None if rounds_with_threshold => default_runoff_factor(kind).unwrap_or(2),
        None => 0,
    };
    let reserves = match rules.reserves {
        Some(_) if !is_council => return Err(invalid("only councils have reserve members")),
        Some(r) => r,
        None if !is_council => 0,
        None => match default_reserves(kind, rules.seats) {
            Some(r) => r,
            None if kind == ElectionKind::CityCouncil => {
                return Err(invalid("a city council must state its number of reserves"))
            }
            None => {
                return Err(invalid(
                    "village-council reserves have defaults only for 3 and 5 seats; state them",
                ))
            }
        },
    };
    Ok(Effective {
        kind,
        seats: u64::from(rules.seats),
        threshold,
        runoff_factor: u64::from(runoff_factor),
        reserves: u64::from(reserves),
    })
}

/// Checks the counts; returns the contest's candidate set.
fn check_counts(counts: &ContestCounts, seats: u64) -> Result<BTreeSet<u32>, RulesError> {
    let mut sorted = counts.candidates.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(RulesError::DuplicateCandidate(w[0]));
    }
    let set: BTreeSet<u32> = sorted.into_iter().collect();
    if counts.valid > MAX_COUNT || counts.void_taken > MAX_COUNT {
        return Err(RulesError::CountTooLarge);
    }
    let mut sum: u128 = 0;
    for (&code, &v) in &counts.votes {
        if !set.contains(&code) {
            return Err(RulesError::UnknownCandidate(code));
        }
        if v > MAX_COUNT {
            return Err(RulesError::CountTooLarge);
        }
        if v > counts.valid {
            return Err(RulesError::VoteSum(
                "a candidate has more votes than there are valid ballots",
            ));
        }
        sum += u128::from(v);
    }
    let valid = u128::from(counts.valid);
    if sum > u128::from(seats) * valid {
        return Err(RulesError::VoteSum("sum of votes exceeds seats x valid"));
    }
    if seats == 1 && sum != valid {
        return Err(RulesError::VoteSum(
            "with one seat the sum of votes must equal valid ballots",
        ));
    }
    Ok(set)
}

/// Checks the lot entries; returns them keyed by their sorted `among`.
fn check_lots(
    lots: &[LotDraw],
    candidates: &BTreeSet<u32>,
) -> Result<BTreeMap<Vec<u32>, Vec<u32>>, RulesError> {
    let mut out: BTreeMap<Vec<u32>, Vec<u32>> = BTreeMap::new();
    for lot in lots {
        if lot.among.len() < 2 {
            return Err(RulesError::BadLot(
                "a lot is drawn between at least two candidates",
            ));
        }
        let mut among = lot.among.clone();
        among.sort_unstable();
        if among.windows(2).any(|w| w[0] == w[1]) {
            return Err(RulesError::BadLot("a lot names a candidate twice"));
        }
        if let Some(&c) = among.iter().find(|c| !candidates.contains(c)) {
            return Err(RulesError::LotUnknownCandidate(c));
        }
        let mut order = lot.order.clone();
        order.sort_unstable();
        if order != among {
            return Err(RulesError::BadLot("order is not a permutation of among"));
        }
        match out.get(&among) {
            Some(existing) if *existing != lot.order => {
                return Err(RulesError::BadLot(
                    "two lot entries for the same tied candidates disagree",
                ))
            }
            Some(_) => {}
            None => {
                out.insert(among, lot.order.clone());
            }
        }
    }
    Ok(out)
}

/// Candidates with at least one vote, most votes first; equal votes by
/// ascending code (canonical only: groups of equal votes are handled whole).
fn ranking(counts: &ContestCounts) -> Vec<(u32, u64)> {
    let mut ranked: Vec<(u32, u64)> = counts
        .votes
        .iter()
        .filter(|&(_, &v)| v > 0)
        .map(|(&c, &v)| (c, v))
        .collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

/// Plurality for `seats`, then `reserves` ranked reserve places.
fn plurality(n: u64, seats: u64, reserves: u64) -> Plan {
    let slots = (0..n)
        .map(|i| {
            if i < seats {
                Slot::Seat
            } else if i - seats < reserves {
                // rank fits u32: i - seats < reserves <= u32::MAX
                Slot::Reserve(u32::try_from(i - seats + 1).unwrap_or(u32::MAX))
            } else {
                Slot::Out
            }
        })
        .collect();
    Plan {
        slots,
        runoff_seats: 0,
        vacant_seats: seats.saturating_sub(n),
        threshold: None,
    }
}

/// A first round with a threshold (presidential or Majlis).
fn threshold_round(
    eff: &Effective,
    ratio: Ratio,
    ranked: &[(u32, u64)],
    counts: &ContestCounts,
) -> Plan {
    let presidential = eff.kind == ElectionKind::Presidential;
    // Both at most MAX_COUNT, checked before: the sum cannot overflow.
    let base = if presidential {
        counts.valid.saturating_add(counts.void_taken)
    } else {
        counts.valid
    };
    let rhs = u128::from(ratio.num) * u128::from(base);
    let den = u128::from(ratio.den);
    let meets = |v: u64| {
        let lhs = u128::from(v) * den;
        if presidential {
            lhs > rhs
        } else {
            lhs >= rhs
        }
    };
    // den > 0 was checked; the minimum is at most base + 1.
    let min_votes = if presidential {
        rhs / den + 1
    } else {
        rhs.div_ceil(den)
    };
    let threshold = Some(ThresholdApplied {
        ratio,
        base,
        strict: presidential,
        min_votes: u64::try_from(min_votes.max(1)).unwrap_or(u64::MAX),
    });

    let n = ranked.len() as u64;
    let qualified = ranked.iter().take_while(|&&(_, v)| meets(v)).count() as u64;
    let filled = qualified.min(eff.seats);
    let unfilled = eff.seats - filled;
    let remaining = n - filled;
    let mut slots = vec![Slot::Out; ranked.len()];
    let mut runoff_seats = 0;
    let mut vacant_seats = 0;
    for s in slots.iter_mut().take(filled as usize) {
        *s = Slot::Seat;
    }
    if unfilled > 0 {
        if presidential || remaining > unfilled {
            // Twice the unfilled seats (or all remaining, if fewer) go to
            // the runoff. Presidential: never elected without a majority,
            // so even a lone remaining candidate is listed for the runoff.
            let places = eff.runoff_factor.saturating_mul(unfilled).min(remaining);
            for s in slots.iter_mut().skip(filled as usize).take(places as usize) {
                *s = Slot::Runoff;
            }
            runoff_seats = if places > 0 { unfilled } else { 0 };
            if places == 0 {
                vacant_seats = unfilled;
            }
        } else {
            // Majlis: no more candidates remain than unfilled seats; no
            // second round, the first-round result is conclusive.
            for s in slots.iter_mut().skip(filled as usize) {
                *s = Slot::SeatWithoutRunoff;
            }
            vacant_seats = unfilled - remaining;
        }
    }
    Plan {
        slots,
        runoff_seats,
        vacant_seats,
        threshold,
    }
}

/// Puts one candidate in the list its slot stands for.
fn assign(d: &mut Decision, code: u32, slot: Slot) {
    match slot {
        Slot::Seat => d.elected.push(code),
        Slot::SeatWithoutRunoff => {
            d.elected.push(code);
            d.elected_without_runoff.push(code);
        }
        Slot::Runoff => d.runoff.push(code),
        Slot::Reserve(rank) => d.reserves.push(Reserve {
            rank,
            candidate: code,
        }),
        Slot::Out => {}
    }
}

pub(super) fn decide(
    rules: &ContestRules,
    counts: &ContestCounts,
    lots: &[LotDraw],
) -> Result<Decision, RulesError> {
    let eff = resolve(rules)?;
    let candidates = check_counts(counts, eff.seats)?;
    let lots = check_lots(lots, &candidates)?;
    if counts.valid == 0 {
        return Ok(Decision::no_valid_votes());
    }
    let ranked = ranking(counts);
    let plan = match eff.threshold {
        Some(ratio) => threshold_round(&eff, ratio, &ranked, counts),
        None => plurality(ranked.len() as u64, eff.seats, eff.reserves),
    };

    let mut d = Decision::no_valid_votes();
    d.threshold = plan.threshold;
    d.runoff_seats = u32::try_from(plan.runoff_seats).unwrap_or(u32::MAX);
    d.vacant_seats = u32::try_from(plan.vacant_seats).unwrap_or(u32::MAX);
    let mut start = 0;
    while start < ranked.len() {
        let votes = ranked[start].1;
        let len = ranked[start..]
            .iter()
            .take_while(|&&(_, v)| v == votes)
            .count();
        let end = start + len;
        let group: Vec<u32> = ranked[start..end].iter().map(|&(c, _)| c).collect();
        let slots = &plan.slots[start..end];
        if slots.iter().all(|s| *s == slots[0]) {
            for &c in &group {
                assign(&mut d, c, slots[0]);
            }
        } else if let Some(order) = lots.get(&group) {
            for (&c, &s) in order.iter().zip(slots) {
                assign(&mut d, c, s);
            }
            d.lots_applied.push(LotDraw {
                among: group,
                order: order.clone(),
            });
        } else {
            d.lot_needed.push(Tie {
                among: group,
                votes,
                places: slots.iter().map(|s| s.public()).collect(),
            });
        }
        start = end;
    }
    d.reserves.sort_by_key(|r| r.rank);
    d.status = if !d.lot_needed.is_empty() {
        Status::LotNeeded
    } else if !d.runoff.is_empty() {
        Status::Runoff
    } else {
        Status::Complete
    };
    Ok(d)
}
