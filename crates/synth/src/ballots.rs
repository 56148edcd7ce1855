//! How the voters of one Majlis constituency fill in their ballots
//! (`spec/synthetic-election.md` §3).
//!
//! A voter writes up to `seats` names. Most follow a published list (slate)
//! more or less faithfully, a few strong independents draw votes of their
//! own, and a long tail of candidates gets the scattered rest. The rule that
//! decides the seats (`spec/rules.md`: at least a fifth of the valid ballots
//! in round one, otherwise a runoff among twice the unfilled seats) then
//! gives some constituencies all their members in round one and sends
//! others, Tehran always, to a runoff.
//!
//! Draws are integers and basic floating-point arithmetic only (no
//! transcendental functions), so the bytes are the same on every machine.

use crate::majlis::TEHRAN_CONTEST;
use crate::rng::Rng;
use tallyboard_core::manifest::Contest;

/// How the voters of one constituency fill in their ballots.
pub(crate) struct VoteModel {
    seats: u64,
    candidates: usize,
    /// (candidate position, share of ballots naming them).
    contenders: Vec<(usize, f64)>,
    /// Tail candidates' positions, and cumulative integer weights.
    tail: Vec<usize>,
    tail_cum: Vec<u64>,
    /// Tail names written per ballot (multi-seat contests).
    tail_names: f64,
}

/// Positions `0..n` in a seeded random order (Fisher–Yates).
fn shuffled(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.range(0, i as u64) as usize;
        v.swap(i, j);
    }
    v
}

impl VoteModel {
    /// The model of a Majlis contest, drawn from the seed.
    pub(crate) fn new(seed: u64, contest: &Contest) -> VoteModel {
        let mut rng = Rng::for_stream(seed, &format!("majlis/voters/{}", contest.id));
        let n = contest.candidates.len();
        let seats = contest.seats as usize;
        let order = shuffled(&mut rng, n);
        let mut share = vec![0.0f64; n];
        let mut take = order.iter().copied();
        if seats == 1 {
            // A leader between 14% and 50%: below a fifth nobody is elected
            // in round one and the two highest go to a runoff.
            let mut s = 0.14 + 0.36 * rng.unit();
            for _ in 0..(3 + rng.range(0, 3)) {
                let Some(pos) = take.next() else { break };
                share[pos] = s;
                s *= 0.45 + 0.5 * rng.unit();
            }
            let sum: f64 = share.iter().sum();
            if sum > 0.88 {
                share.iter_mut().for_each(|x| *x *= 0.88 / sum);
            }
        } else {
            // Two lists (a third in big constituencies), overlapping by a
            // quarter; each member is named by a share of the list's voters.
            let tehran = contest.id == TEHRAN_CONTEST;
            let a = if tehran {
                0.24
            } else {
                0.20 + 0.25 * rng.unit()
            };
            let b = if tehran {
                0.16
            } else {
                0.08 + 0.14 * rng.unit()
            };
            let c = if tehran {
                0.08
            } else {
                0.04 + 0.06 * rng.unit()
            };
            let overlap = seats / 4;
            let list_a: Vec<usize> = take.by_ref().take(seats).collect();
            let mut list_b: Vec<usize> = list_a[..overlap].to_vec();
            list_b.extend(take.by_ref().take(seats - overlap));
            let list_c: Vec<usize> = if seats >= 4 {
                take.by_ref().take(seats / 2).collect()
            } else {
                Vec::new()
            };
            for (list, s) in [(&list_a, a), (&list_b, b), (&list_c, c)] {
                for &pos in list {
                    share[pos] += s * (0.55 + 0.45 * rng.unit());
                }
            }
            for pos in take.by_ref().take(seats / 2 + 1) {
                share[pos] += 0.03 + 0.09 * rng.unit();
            }
        }
        let contenders: Vec<(usize, f64)> = share
            .iter()
            .enumerate()
            .filter(|(_, &s)| s > 0.0)
            .map(|(p, &s)| (p, s))
            .collect();
        // The long tail: Zipf-like integer weights over a seeded ranking.
        let tail: Vec<usize> = order.iter().copied().filter(|&p| share[p] == 0.0).collect();
        let mut tail_cum = Vec::with_capacity(tail.len());
        let mut acc = 0u64;
        for rank in 0..tail.len() {
            acc += 1_000_000 / (rank as u64 + 10);
            tail_cum.push(acc);
        }
        VoteModel {
            seats: seats as u64,
            candidates: n,
            contenders,
            tail,
            tail_cum,
            tail_names: (0.08 * seats as f64).min(2.0),
        }
    }

    /// One station's votes per candidate position for `valid` ballots. A
    /// single seat's votes sum to exactly `valid`; a multi-seat contest's to
    /// at most `seats × valid`, no candidate above `valid`.
    pub(crate) fn station_votes(&self, rng: &mut Rng, valid: u64) -> Vec<u64> {
        let mut counts = vec![0u64; self.candidates];
        let mut sum = 0u64;
        for &(pos, p) in &self.contenders {
            let x = (valid as f64 * p * (0.8 + 0.4 * rng.unit())).round() as u64;
            counts[pos] = x.min(valid);
            sum += counts[pos];
        }
        let cap = self.seats * valid;
        if sum > cap {
            // Rare: generous noise on every list at once. Scale down.
            for &(pos, _) in &self.contenders {
                counts[pos] = counts[pos] * cap / sum;
            }
            sum = self.contenders.iter().map(|&(p, _)| counts[p]).sum();
        }
        let tail = if self.seats == 1 {
            valid - sum
        } else {
            let want = valid as f64 * self.tail_names * (0.9 + 0.2 * rng.unit());
            (want.round() as u64).min(cap - sum)
        };
        let total = self.tail_cum.last().copied().unwrap_or(0);
        if total == 0 {
            // No tail (every candidate is a contender): give any remainder
            // of a single seat to the first contender.
            if let Some(&(pos, _)) = self.contenders.first() {
                if self.seats == 1 {
                    counts[pos] += tail;
                }
            }
            return counts;
        }
        for _ in 0..tail {
            let r = rng.next_u64() % total;
            let k = self.tail_cum.partition_point(|&c| c <= r);
            let pos = self.tail[k];
            if counts[pos] < valid {
                counts[pos] += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::majlis::plan;

    #[test]
    fn station_votes_respect_the_ballot() {
        let p = plan(7);
        for c in &p.contests {
            let m = VoteModel::new(7, c);
            let mut rng = Rng::new(11);
            for valid in [0u64, 1, 3, 57, 480] {
                let v = m.station_votes(&mut rng, valid);
                let sum: u64 = v.iter().sum();
                if c.seats == 1 {
                    assert_eq!(sum, valid, "{}", c.id);
                } else {
                    assert!(sum <= u64::from(c.seats) * valid, "{}", c.id);
                }
                assert!(v.iter().all(|&x| x <= valid), "{}", c.id);
            }
        }
    }
}
