//! The board's in-memory view of what the log holds, for validation and
//! station look-ups. It is derived: rebuilt on every open by replaying the
//! stored entries, so it can never disagree with the log. Its size is
//! bounded by the manifest (stations × contests × revisions), never by the
//! length of the log: the leaf hash of an arbitrary entry (which an
//! approval names) is read from the store, and the board's memory stays
//! flat as the log grows (`spec/storage.md`).

use std::collections::HashMap;
use tallyboard_core::entry::{Entry, Statement};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::validate::{KeyState, LogView, Supervision, TallyRef, ValidationError};
use tallyboard_core::{ErrorCode, Hash};

/// Everything logged about one station. Kept small (one per station,
/// twice in a serving board): the key state is boxed, since most of its
/// size is the decompressed public key, and a station's few contests are a
/// short list rather than a map of their own.
#[derive(Clone, Debug, Default)]
pub struct StationRecord {
    /// The active (or last revoked) key.
    pub key: Option<Box<KeyState>>,
    /// Indexes of the station's key registrations and revocations.
    pub key_entries: Vec<u64>,
    /// Tallies per contest, in the order the contests were first reported.
    pub tallies: Vec<ContestTallies>,
}

/// A station's tallies for one contest.
#[derive(Clone, Debug)]
pub struct ContestTallies {
    /// The contest.
    pub contest: String,
    /// By revision (index 0 = revision 1).
    pub revisions: Vec<TallyRef>,
}

impl StationRecord {
    /// The station's tallies for `contest`, by revision.
    pub fn revisions(&self, contest: &str) -> Option<&[TallyRef]> {
        self.tallies
            .iter()
            .find(|t| t.contest == contest)
            .map(|t| t.revisions.as_slice())
    }
}

/// The replayed state.
#[derive(Clone, Default)]
pub struct LogState {
    /// Whether the manifest commitment is logged.
    pub committed: bool,
    /// Per station.
    pub stations: HashMap<String, StationRecord>,
    /// Number of entries applied.
    pub size: u64,
    /// Annulments, approvals, contest approvals and lots.
    pub supervision: Supervision,
    /// Indexes of supervisor and authority decisions (approvals,
    /// annulments, contest approvals, lot draws, announcements), in log order.
    pub decisions: Vec<u64>,
}

impl LogState {
    /// Applies an entry that has been accepted at `index` (entries are
    /// applied in index order).
    pub fn apply(&mut self, index: u64, leaf: Hash, entry: &Entry) {
        debug_assert_eq!(index, self.size);
        self.size = index + 1;
        self.supervision.apply(index, entry);
        match entry {
            Entry::ManifestCommitment(_) => self.committed = true,
            Entry::StationKey(k) => {
                let rec = self.stations.entry(k.station.clone()).or_default();
                rec.key = Some(Box::new(KeyState::registered(&k.key)));
                rec.key_entries.push(index);
            }
            Entry::StationKeyRevocation(r) => {
                let rec = self.stations.entry(r.station.clone()).or_default();
                if let Some(state) = &mut rec.key {
                    state.revoked = true;
                }
                rec.key_entries.push(index);
            }
            Entry::Tally(t) => {
                let rec = self.stations.entry(t.station.clone()).or_default();
                let at = TallyRef {
                    index,
                    leaf,
                    revision: t.revision,
                };
                match rec.tallies.iter_mut().find(|c| c.contest == t.contest) {
                    Some(c) => c.revisions.push(at),
                    None => rec.tallies.push(ContestTallies {
                        contest: t.contest.clone(),
                        revisions: vec![at],
                    }),
                }
            }
            Entry::Approval(_)
            | Entry::Annulment(_)
            | Entry::ContestApproval(_)
            | Entry::LotDraw(_)
            | Entry::Announcement(_) => self.decisions.push(index),
        }
    }
}

impl LogView for LogState {
    fn manifest_committed(&self) -> bool {
        self.committed
    }

    fn station_key(&self, station: &str) -> Option<KeyState> {
        self.stations
            .get(station)
            .and_then(|r| r.key.as_deref().cloned())
    }

    fn latest_tally(&self, station: &str, contest: &str) -> Option<TallyRef> {
        self.stations
            .get(station)?
            .revisions(contest)?
            .last()
            .copied()
    }

    fn tally_at(&self, station: &str, contest: &str, revision: u32) -> Option<TallyRef> {
        let list = self.stations.get(station)?.revisions(contest)?;
        list.iter().find(|t| t.revision == revision).copied()
    }

    fn size(&self) -> u64 {
        self.size
    }

    /// Not kept here (it would grow with the log); the board's writer reads
    /// it from the store through `board::BoardView`.
    fn leaf_at(&self, _index: u64) -> Option<Hash> {
        None
    }

    fn supervision(&self) -> &Supervision {
        &self.supervision
    }

    /// The state holds no entries or results: the board's writer checks
    /// contest approvals and announcements through `board::BoardView`.
    fn statement(
        &self,
        _manifest: &ValidatedManifest,
        _contest: &str,
        _size: u64,
    ) -> Result<Statement, ValidationError> {
        Err(ValidationError::new(
            ErrorCode::Storage,
            "results need the stored entries; this view holds only the state",
        ))
    }
}
