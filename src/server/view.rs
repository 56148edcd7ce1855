//! The server's published view of the log: the latest signed checkpoint,
//! a copy of the log state (for parallel signature checks and station
//! look-ups), the aggregated results and the announcements, all as of that
//! checkpoint.
//!
//! Totals come from `tallyboard_core::aggregate::Aggregator`, updated
//! incrementally: each committed tally touches its box and the box's chain
//! of regions, each committed annulment takes the box out of the standing
//! sum. Lots and announcements are kept as logged.
//!
//! Only the writer changes it, once per batch, after the batch is durable
//! and its checkpoint signed; readers take a read lock and see one
//! consistent checkpoint size.

use crate::board::SignedCheckpoint;
use crate::state::LogState;
use crate::store::Store;
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tallyboard_core::aggregate::{Aggregator, Level, Sums};
use tallyboard_core::entry::{Announcement, Entry, SignedEntry};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::rules::LotDraw;
use tallyboard_core::Hash;
use utoipa::ToSchema;

/// Votes for one candidate.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CandidateVotes {
    /// Candidate code from the manifest.
    pub candidate: u32,
    /// Votes.
    pub votes: u64,
}

/// Summed figures, as published.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FiguresJson {
    /// Stations whose tallies are summed (for `standing`: reported boxes
    /// that are not annulled).
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

impl FiguresJson {
    /// The published form of an aggregator sum; `codes` are the contest's
    /// candidates in manifest order (the order of `s.votes`).
    pub fn from_sums(s: &Sums, codes: &[u32], stations: u64) -> FiguresJson {
        let mut votes: Vec<CandidateVotes> = codes
            .iter()
            .zip(&s.votes)
            .map(|(&candidate, &votes)| CandidateVotes { candidate, votes })
            .collect();
        votes.sort_by_key(|v| v.candidate);
        FiguresJson {
            stations,
            counterfoils: s.counterfoils,
            ballots_in_box: s.ballots_in_box,
            votes_taken: s.votes_taken,
            void_taken: s.void_taken,
            void_not_taken: s.void_not_taken,
            valid: s.valid,
            votes,
        }
    }
}

/// A logged announcement.
#[derive(Clone, Debug)]
pub struct AnnouncementRecord {
    /// Its index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// The announcement.
    pub announcement: Announcement,
}

/// What readers see.
pub struct View {
    /// Log state as of `latest`.
    pub state: LogState,
    /// Counted and standing totals of every contest at every level, as of `latest`.
    pub aggregator: Aggregator,
    /// Lots logged per contest id, in log order.
    pub lots: BTreeMap<String, Vec<LotDraw>>,
    /// Annulled boxes (station, contest), in log order.
    pub annulled: Vec<(String, String)>,
    /// Announcements, in log order.
    pub announcements: Vec<AnnouncementRecord>,
    /// The latest signed checkpoint.
    pub latest: Arc<SignedCheckpoint>,
}

impl View {
    /// Builds the view of a freshly opened board by replaying its entries.
    pub fn build(
        store: &Store,
        state: &LogState,
        latest: &SignedCheckpoint,
        manifest: &ValidatedManifest,
    ) -> Result<View> {
        let mut v = View {
            state: LogState::default(),
            aggregator: Aggregator::new(manifest),
            lots: BTreeMap::new(),
            annulled: Vec::new(),
            announcements: Vec::new(),
            latest: Arc::new(latest.clone()),
        };
        for item in store.entries(0, latest.checkpoint.size) {
            let (index, bytes) = item?;
            let e = SignedEntry::parse(&bytes).map_err(|e| anyhow!("stored entry {index}: {e}"))?;
            v.apply_results(index, e.leaf_hash(), &e.entry)?;
        }
        // The board's state already covers these entries (and perhaps more,
        // not yet checkpointed when it was opened; open() covers those).
        v.state = state.clone();
        Ok(v)
    }

    /// Accounts for an entry appended at `index` (in index order).
    pub fn apply(&mut self, index: u64, leaf: Hash, e: &Entry) -> Result<()> {
        self.state.apply(index, leaf, e);
        self.apply_results(index, leaf, e)
    }

    fn apply_results(&mut self, index: u64, leaf: Hash, e: &Entry) -> Result<()> {
        match e {
            Entry::Tally(t) => self
                .aggregator
                .apply(index, t)
                .map_err(|err| anyhow!("entry {index}: {err}"))?,
            Entry::Annulment(a) => {
                let newly = self
                    .aggregator
                    .annul(&a.station, &a.contest)
                    .map_err(|err| anyhow!("entry {index}: {err}"))?;
                if newly {
                    self.annulled.push((a.station.clone(), a.contest.clone()));
                }
            }
            Entry::LotDraw(l) => self
                .lots
                .entry(l.contest.clone())
                .or_default()
                .push(l.draw()),
            Entry::Announcement(a) => self.announcements.push(AnnouncementRecord {
                index,
                leaf,
                announcement: a.clone(),
            }),
            _ => {}
        }
        Ok(())
    }

    /// Boxes of `contest` that have reported and are annulled.
    pub fn annulled_reported(&self, contest: &str) -> u64 {
        self.annulled
            .iter()
            .filter(|(s, c)| {
                c == contest
                    && self
                        .aggregator
                        .region(c, Level::Station, s)
                        .is_some_and(|b| b.stations_reported == 1)
            })
            .count() as u64
    }
}
