//! The server's published view of the log: the latest signed checkpoint,
//! a copy of the log state (for parallel signature checks and station
//! look-ups) and the running totals, all as of that checkpoint.
//!
//! Only the writer changes it, once per batch, after the batch is durable
//! and its checkpoint signed; readers take a read lock and see one
//! consistent checkpoint size.

use crate::board::SignedCheckpoint;
use crate::state::LogState;
use crate::store::Store;
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tallyboard_core::entry::{Entry, SignedEntry, Tally};
use tallyboard_core::manifest::ValidatedManifest;
use utoipa::ToSchema;

/// Votes for one candidate.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CandidateVotes {
    /// Candidate code from the manifest.
    pub candidate: u32,
    /// Votes.
    pub votes: u64,
}

/// Summed figures of a set of tallies.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    stations: u64,
    counterfoils: u64,
    ballots_in_box: u64,
    votes_taken: u64,
    void_taken: u64,
    void_not_taken: u64,
    valid: u64,
    votes: BTreeMap<u32, u64>,
}

/// Summed figures, as published.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FiguresJson {
    /// Stations whose tallies are summed.
    pub stations: u64,
    /// Sum of counterfoils.
    pub counterfoils: u64,
    /// Sum of ballots in box.
    pub ballots_in_box: u64,
    /// Sum of votes taken.
    pub votes_taken: u64,
    /// Sum of void-taken ballots.
    pub void_taken: u64,
    /// Sum of void-not-taken ballots.
    pub void_not_taken: u64,
    /// Sum of valid ballots.
    pub valid: u64,
    /// Votes per candidate, ascending code; every candidate of the contest is listed.
    pub votes: Vec<CandidateVotes>,
}

impl Figures {
    fn add(&mut self, t: &Tally, sign: i8) {
        let f = |acc: &mut u64, v: u64| {
            *acc = if sign > 0 {
                acc.saturating_add(v)
            } else {
                acc.saturating_sub(v)
            }
        };
        f(&mut self.stations, 1);
        f(&mut self.counterfoils, t.counterfoils);
        f(&mut self.ballots_in_box, t.ballots_in_box);
        f(&mut self.votes_taken, t.votes_taken);
        f(&mut self.void_taken, t.void_taken);
        f(&mut self.void_not_taken, t.void_not_taken);
        f(&mut self.valid, t.valid);
        for &(c, v) in &t.votes {
            f(self.votes.entry(c).or_insert(0), v);
        }
    }

    /// The published form, listing every candidate of `candidates`.
    pub fn to_json(&self, candidates: &[u32]) -> FiguresJson {
        FiguresJson {
            stations: self.stations,
            counterfoils: self.counterfoils,
            ballots_in_box: self.ballots_in_box,
            votes_taken: self.votes_taken,
            void_taken: self.void_taken,
            void_not_taken: self.void_not_taken,
            valid: self.valid,
            votes: candidates
                .iter()
                .map(|&c| CandidateVotes {
                    candidate: c,
                    votes: self.votes.get(&c).copied().unwrap_or(0),
                })
                .collect(),
        }
    }
}

/// Totals of one contest.
#[derive(Clone, Debug, Default)]
pub struct ContestTotals {
    /// Sum of each station's first tally (as counted on election night).
    pub counted: Figures,
    /// Sum of each station's latest revision (the standing result).
    pub standing: Figures,
}

/// Running totals per contest, maintained entry by entry.
#[derive(Default)]
pub struct Totals {
    /// Per contest id.
    pub contests: HashMap<String, ContestTotals>,
    latest: HashMap<(String, String), Tally>,
}

impl Totals {
    /// Accounts for an appended entry.
    pub fn apply(&mut self, e: &Entry) {
        let Entry::Tally(t) = e else { return };
        let c = self.contests.entry(t.contest.clone()).or_default();
        let key = (t.station.clone(), t.contest.clone());
        if t.revision == 1 && t.correction.is_none() {
            c.counted.add(t, 1);
        }
        if let Some(prev) = self.latest.get(&key) {
            c.standing.add(prev, -1);
        }
        c.standing.add(t, 1);
        self.latest.insert(key, t.clone());
    }
}

/// What readers see.
pub struct View {
    /// Log state as of `latest`.
    pub state: LogState,
    /// Totals as of `latest`.
    pub totals: Totals,
    /// The latest signed checkpoint.
    pub latest: Arc<SignedCheckpoint>,
}

impl View {
    /// Builds the view of a freshly opened board by replaying its entries.
    pub fn build(
        store: &Store,
        state: &LogState,
        latest: &SignedCheckpoint,
        _manifest: &ValidatedManifest,
    ) -> Result<View> {
        let mut totals = Totals::default();
        for item in store.entries(0, latest.checkpoint.size) {
            let (index, bytes) = item?;
            let e = SignedEntry::parse(&bytes).map_err(|e| anyhow!("stored entry {index}: {e}"))?;
            totals.apply(&e.entry);
        }
        Ok(View {
            state: LogState {
                committed: state.committed,
                stations: state.stations.clone(),
            },
            totals,
            latest: Arc::new(latest.clone()),
        })
    }
}
