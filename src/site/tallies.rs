//! Per-region running totals for the site's pages: nation, constituency,
//! province and county, kept current one tally at a time (O(depth ×
//! candidates) per entry, never O(stations) per page view).
//!
//! Interim: the names mirror `tallyboard_core::aggregate` (`Level`, `Sums`,
//! `RegionTotals`, counted and standing sums) so that, once that module is
//! on main, this file is replaced by its `Aggregator` with no change to the
//! pages.

use std::collections::HashMap;
use tallyboard_core::entry::Tally;
use tallyboard_core::manifest::ValidatedManifest;

/// The id of the one region at [`Level::Nation`].
pub const NATION_ID: &str = "nation";

/// A level of the region hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// The whole country.
    Nation,
    /// A contest's constituency.
    Constituency,
    /// A province.
    Province,
    /// A county.
    County,
}

/// The figures of one region for one contest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// Ballots issued (counterfoils).
    pub counterfoils: u64,
    /// Ballots found in the box.
    pub ballots_in_box: u64,
    /// Votes taken: valid + void taken.
    pub votes_taken: u64,
    /// Void ballots counted as taken.
    pub void_taken: u64,
    /// Void ballots not taken.
    pub void_not_taken: u64,
    /// Valid ballots.
    pub valid: u64,
    /// Votes per candidate, in the contest's manifest order.
    pub votes: Vec<u64>,
}

impl Sums {
    fn zero(n: usize) -> Sums {
        Sums {
            votes: vec![0; n],
            ..Sums::default()
        }
    }

    fn add(&mut self, t: &Tally, pos: &HashMap<u32, usize>, plus: bool) {
        let f = |a: &mut u64, v: u64| {
            *a = if plus {
                a.saturating_add(v)
            } else {
                a.saturating_sub(v)
            }
        };
        f(&mut self.counterfoils, t.counterfoils);
        f(&mut self.ballots_in_box, t.ballots_in_box);
        f(&mut self.votes_taken, t.votes_taken);
        f(&mut self.void_taken, t.void_taken);
        f(&mut self.void_not_taken, t.void_not_taken);
        f(&mut self.valid, t.valid);
        for (code, v) in &t.votes {
            if let Some(&p) = pos.get(code) {
                f(&mut self.votes[p], *v);
            }
        }
    }
}

/// Totals of one region for one contest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionTotals {
    /// Stations whose manifest entry lists the contest, in this region.
    pub stations_expected: u64,
    /// Of those, stations with a tally.
    pub stations_reported: u64,
    /// Of those, stations whose latest tally is a revision.
    pub stations_revised: u64,
    /// Each station's first tally, summed.
    pub counted: Sums,
    /// Each station's latest revision, summed.
    pub standing: Sums,
}

struct BoxState {
    chain: Vec<usize>,
    latest: Option<Tally>,
}

struct ContestState {
    pos: HashMap<u32, usize>,
    regions: Vec<RegionTotals>,
    region_index: HashMap<(Level, String), usize>,
    boxes: HashMap<String, BoxState>,
}

/// Running totals of every contest at every level.
pub struct Tallies {
    contests: HashMap<String, ContestState>,
}

impl Tallies {
    /// Every expected box empty.
    pub fn new(manifest: &ValidatedManifest) -> Tallies {
        let m = manifest.manifest();
        let mut contests = HashMap::new();
        for c in &m.contests {
            let n = c.candidates.len();
            let pos = c
                .candidates
                .iter()
                .enumerate()
                .map(|(i, k)| (k.code, i))
                .collect();
            let mut st = ContestState {
                pos,
                regions: Vec::new(),
                region_index: HashMap::new(),
                boxes: HashMap::new(),
            };
            let region = |st: &mut ContestState, level: Level, id: &str| -> usize {
                let key = (level, id.to_owned());
                if let Some(&i) = st.region_index.get(&key) {
                    return i;
                }
                st.regions.push(RegionTotals {
                    stations_expected: 0,
                    stations_reported: 0,
                    stations_revised: 0,
                    counted: Sums::zero(n),
                    standing: Sums::zero(n),
                });
                st.region_index.insert(key, st.regions.len() - 1);
                st.regions.len() - 1
            };
            region(&mut st, Level::Nation, NATION_ID);
            for s in m.stations.iter().filter(|s| s.contests.contains(&c.id)) {
                let mut chain = vec![region(&mut st, Level::Nation, NATION_ID)];
                if let Some(k) = &c.constituency {
                    chain.push(region(&mut st, Level::Constituency, k));
                }
                if let Some(p) = manifest.province_of(&s.county) {
                    chain.push(region(&mut st, Level::Province, p));
                }
                chain.push(region(&mut st, Level::County, &s.county));
                for &r in &chain {
                    st.regions[r].stations_expected += 1;
                }
                st.boxes.insert(
                    s.id.clone(),
                    BoxState {
                        chain,
                        latest: None,
                    },
                );
            }
            contests.insert(c.id.clone(), st);
        }
        Tallies { contests }
    }

    /// Accounts for a logged tally (revisions arrive in log order).
    pub fn apply(&mut self, t: &Tally) {
        let Some(c) = self.contests.get_mut(&t.contest) else {
            return;
        };
        let Some(b) = c.boxes.get_mut(&t.station) else {
            return;
        };
        let old = b.latest.take();
        for &r in &b.chain {
            let reg = &mut c.regions[r];
            match &old {
                None => {
                    reg.stations_reported += 1;
                    reg.counted.add(t, &c.pos, true);
                }
                Some(o) => {
                    if o.revision <= 1 && t.revision > 1 {
                        reg.stations_revised += 1;
                    }
                    reg.standing.add(o, &c.pos, false);
                }
            }
            reg.standing.add(t, &c.pos, true);
        }
        b.latest = Some(t.clone());
    }

    /// A region's totals for a contest (`None`: the contest is not held
    /// there).
    pub fn region(&self, contest: &str, level: Level, id: &str) -> Option<&RegionTotals> {
        let c = self.contests.get(contest)?;
        c.regions.get(*c.region_index.get(&(level, id.to_owned()))?)
    }
}
