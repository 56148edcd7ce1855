//! The log state: everything the rules of `spec/validation.md` need to know
//! about the entries logged so far, and everything the log means (which
//! keys are live, which tally revision stands, what supervision decided,
//! the counted and standing totals, which announcements were made), built
//! by applying the log's entries one at a time in index order.
//!
//! This is the one implementation of the log's meaning. The board's writer
//! checks every submission against it and applies what it accepts; the
//! server, the results site and the mirror read snapshots of the writer's
//! state; the independent verifier and the browser replay a log into one.
//! A rule written here is the same rule everywhere.
//!
//! It is I/O-free and its size is bounded by the manifest (stations ×
//! contests, plus the decisions), never by the length of the log: per box
//! only the first and the standing revision are kept, and no per-entry
//! leaf hash; an earlier revision is read back from the log along the
//! revisions' `supersedes` ([`LogState::tally_at`]). A statement at an earlier size
//! (what a contest approval or an announcement is checked against) is
//! computed from the boxes' revision histories
//! ([`crate::aggregate::Aggregator::contest_at`]), not by re-reading the log.

mod chunked;
mod reader;
mod roles;
pub(crate) mod snapshot;
mod station;
mod supervision;

pub use reader::{revision_in_force, superseded, EntryBytes, LogReader, NoLog};
pub use roles::{HeldKey, PinnedRoles, RoleKeys};
pub use station::{ContestTallies, KeyRecord, StationRecord, TallyRef};
pub use supervision::{
    AnnouncementRecord, ApprovalRecord, ContestApprovalRef, DecisionRef, FinalRef, LotRecord,
    Supervision,
};

use crate::aggregate::{AggregateError, Aggregator};
use crate::entry::{Entry, EntryError, SignedEntry, Statement};
use crate::error::Coded;
use crate::manifest::ValidatedManifest;
use crate::validate::{self, ValidationError};
use crate::{ErrorCode, Hash};
use std::collections::HashMap;
use std::sync::Arc;

/// The state of a log after its first [`LogState::size`] entries.
#[derive(Clone, Debug)]
pub struct LogState {
    manifest: Arc<ValidatedManifest>,
    /// Entries accounted for: the index the next entry gets.
    size: u64,
    /// Index of the manifest commitment, once logged.
    commitment: Option<u64>,
    /// Per station, by its position in the manifest (compact keys: the ids
    /// are the manifest's); a record is empty until the log mentions it.
    stations: chunked::Chunked<StationRecord>,
    /// Stations the manifest does not list (never, for entries the rules
    /// accepted; kept so that applying one cannot fail).
    unlisted: HashMap<String, StationRecord>,
    /// Annulments, approvals, contest approvals, lots, announcements.
    supervision: Supervision,
    /// The role keys in force, and every key each role held.
    roles: RoleKeys,
    /// Counted and standing totals of every contest at every level.
    aggregator: Aggregator,
}

impl LogState {
    /// The state of an empty log of the election `manifest` describes.
    pub fn new(manifest: Arc<ValidatedManifest>) -> LogState {
        let aggregator = Aggregator::new(&manifest);
        let stations =
            chunked::Chunked::filled(manifest.manifest().stations.len(), StationRecord::default());
        let roles = RoleKeys::from_manifest(&manifest);
        LogState {
            roles,
            manifest,
            size: 0,
            commitment: None,
            stations,
            unlisted: HashMap::new(),
            supervision: Supervision::default(),
            aggregator,
        }
    }

    /// The manifest.
    pub fn manifest(&self) -> &ValidatedManifest {
        &self.manifest
    }

    /// The manifest, shared.
    pub fn manifest_arc(&self) -> &Arc<ValidatedManifest> {
        &self.manifest
    }

    /// Entries accounted for (applied or skipped): the index the next entry gets.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether the manifest commitment has been logged.
    pub fn manifest_committed(&self) -> bool {
        self.commitment.is_some()
    }

    /// What the log says about a station, if it says anything.
    pub fn station(&self, station: &str) -> Option<&StationRecord> {
        match self.manifest.station_index(station) {
            Some(i) => self.stations.get(i).filter(|r| !r.is_empty()),
            None => self.unlisted.get(station),
        }
    }

    fn station_mut(&mut self, station: &str) -> &mut StationRecord {
        match self.manifest.station_index(station) {
            Some(i) if i < self.stations.len() => match self.stations.get_mut(i) {
                Some(r) => r,
                None => self.unlisted.entry(station.to_owned()).or_default(),
            },
            _ => self.unlisted.entry(station.to_owned()).or_default(),
        }
    }

    /// Every station the log mentions, in no particular order.
    pub fn stations(&self) -> impl Iterator<Item = (&str, &StationRecord)> {
        let listed = &self.manifest.manifest().stations;
        self.stations
            .iter()
            .zip(listed)
            .filter(|(r, _)| !r.is_empty())
            .map(|(r, s)| (s.id.as_str(), r))
            .chain(self.unlisted.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// The station's latest tally for a contest.
    pub fn latest_tally(&self, station: &str, contest: &str) -> Option<TallyRef> {
        Some(self.station(station)?.tallies(contest)?.latest)
    }

    /// The station's first tally for a contest.
    pub fn first_tally(&self, station: &str, contest: &str) -> Option<TallyRef> {
        Some(self.station(station)?.tallies(contest)?.first)
    }

    /// The station's tally for a contest at a given revision: the first and
    /// the latest are in the state; one in between is found by following
    /// the revisions' `supersedes` back from the latest, reading the log
    /// through `tallies` (a rare case: an old revision resubmitted).
    ///
    /// # Errors
    /// `tallies` cannot give a revision on the way.
    pub fn tally_at(
        &self,
        station: &str,
        contest: &str,
        revision: u32,
        tallies: &dyn LogReader,
    ) -> Result<Option<TallyRef>, AggregateError> {
        self.box_tally(station, contest, tallies, |t| t.revision <= revision)
            .map(|t| t.filter(|t| t.revision == revision))
    }

    /// The station's tally for a contest logged at `index`, if the entry
    /// there is one of the box's tallies (any revision), read as
    /// [`LogState::tally_at`] does.
    ///
    /// # Errors
    /// `tallies` cannot give a revision on the way.
    pub fn tally_logged_at(
        &self,
        station: &str,
        contest: &str,
        index: u64,
        tallies: &dyn LogReader,
    ) -> Result<Option<TallyRef>, AggregateError> {
        self.box_tally(station, contest, tallies, |t| t.index <= index)
            .map(|t| t.filter(|t| t.index == index))
    }

    /// Follows a box's revisions back from the latest to the first for
    /// which `stop` holds.
    fn box_tally(
        &self,
        station: &str,
        contest: &str,
        tallies: &dyn LogReader,
        stop: impl Fn(&TallyRef) -> bool,
    ) -> Result<Option<TallyRef>, AggregateError> {
        let Some(t) = self.station(station).and_then(|r| r.tallies(contest)) else {
            return Ok(None);
        };
        if stop(&t.latest) {
            return Ok(Some(t.latest));
        }
        if !stop(&t.first) {
            return Ok(None);
        }
        let mut at = t.latest;
        while at.revision > 2 {
            let Some((index, leaf)) = superseded(tallies, at.index)? else {
                return Err(AggregateError::store(format!(
                    "revision {} of station {station} for contest {contest} at entry {} supersedes nothing",
                    at.revision, at.index
                )));
            };
            at = TallyRef {
                index,
                leaf,
                revision: at.revision - 1,
            };
            if stop(&at) {
                return Ok(Some(at));
            }
        }
        Ok(Some(t.first))
    }

    /// Annulments, approvals, contest approvals, lots and announcements.
    pub fn supervision(&self) -> &Supervision {
        &self.supervision
    }

    /// The authority's, supervisors' and witnesses' keys in force
    /// (`spec/keys.md`).
    pub fn roles(&self) -> &RoleKeys {
        &self.roles
    }

    /// The counted and standing totals of every contest at every level,
    /// as of [`LogState::size`].
    pub fn aggregator(&self) -> &Aggregator {
        &self.aggregator
    }

    /// The statement the log's entries below `size` give for `contest`
    /// (`spec/announcements.md` §4): what a contest approval's hash and an
    /// announcement's figures are checked against. `size` may be any size
    /// up to [`LogState::size`]; a box whose revision in force at `size` is
    /// neither its first nor its latest has it read from `tallies` (the
    /// state keeps only those two, so its memory does not grow with
    /// revisions).
    ///
    /// # Errors
    /// `results.size-out-of-range` beyond the state's size;
    /// `contest.unknown`; the rules' refusal; `tallies`' failure.
    pub fn statement(
        &self,
        contest: &str,
        size: u64,
        tallies: &dyn LogReader,
    ) -> Result<Statement, ValidationError> {
        if size > self.size {
            return Err(ValidationError::new(
                ErrorCode::ResultsSizeOutOfRange,
                format!(
                    "size {size} is beyond the {} entries this state holds",
                    self.size
                ),
            ));
        }
        let lots = self.supervision.lots_below(contest, size);
        Statement::from_aggregator(&self.aggregator, contest, size, &lots, tallies)
            .map_err(ValidationError::from)
    }

    /// The keys that must have signed `signed` (`spec/validation.md` §1.6).
    ///
    /// # Errors
    /// See [`validate::required_signers`].
    pub fn required_signers(
        &self,
        signed: &SignedEntry,
    ) -> Result<validate::Signers, ValidationError> {
        validate::required_signers(signed, self)
    }

    /// Every rule but the signature: the entry fits the manifest and is the
    /// next step from this state (`spec/validation.md` §1.8). `tallies` is
    /// the log so far, read only if a contest approval or announcement
    /// names a size before a later revision of some box ([`Self::statement`]).
    ///
    /// # Errors
    /// The first failed check, with its stable code.
    pub fn check(
        &self,
        signed: &SignedEntry,
        tallies: &dyn LogReader,
    ) -> Result<(), ValidationError> {
        validate::check_entry(signed, self, tallies)
    }

    /// The whole check: signer, signature and state (`tallies` as for
    /// [`Self::check`]).
    ///
    /// # Errors
    /// The first failed check.
    pub fn validate(
        &self,
        signed: &SignedEntry,
        tallies: &dyn LogReader,
    ) -> Result<(), ValidationError> {
        validate::validate(signed, self, tallies)
    }

    /// Applies an entry accepted at `index`, which must be the next index
    /// ([`LogState::size`]). Only entries [`LogState::validate`] accepted
    /// against this very state may be applied: the state then moves on
    /// exactly as the rules define.
    ///
    /// # Errors
    /// `store.inconsistent` if `index` is not the next one, or if the
    /// totals refuse the entry (never, for an accepted entry); the state is
    /// then unchanged.
    pub fn apply(&mut self, index: u64, leaf: Hash, entry: &Entry) -> Result<(), EntryError> {
        if index != self.size {
            return Err(EntryError::new(
                ErrorCode::StoreInconsistent,
                format!(
                    "the log state is at size {}; entry {index} is not the next one",
                    self.size
                ),
            ));
        }
        let refused = |e: crate::aggregate::AggregateError| {
            EntryError::new(
                ErrorCode::StoreInconsistent,
                format!(
                    "entry {index}: the totals refuse it: {}: {}",
                    e.code(),
                    e.message()
                ),
            )
        };
        // The only fallible step first, so a refusal changes nothing.
        match entry {
            Entry::Tally(t) => self.aggregator.apply(index, t).map_err(refused)?,
            Entry::Annulment(a) => {
                self.aggregator
                    .annul(index, &a.station, &a.contest)
                    .map_err(refused)?;
            }
            _ => {}
        }
        self.supervision.apply(index, leaf, entry);
        match entry {
            Entry::ManifestCommitment(_) => {
                self.commitment.get_or_insert(index);
            }
            Entry::StationKey(k) => self.station_mut(&k.station).register(index, &k.key),
            Entry::StationKeyRevocation(r) => self.station_mut(&r.station).revoke(index),
            Entry::Tally(t) => self.station_mut(&t.station).add_tally(
                &t.contest,
                TallyRef {
                    index,
                    leaf,
                    revision: t.revision,
                },
            ),
            Entry::Approval(_)
            | Entry::Annulment(_)
            | Entry::ContestApproval(_)
            | Entry::LotDraw(_)
            | Entry::Announcement(_)
            | Entry::Reopening(_) => {}
            Entry::RoleKey(r) => self.roles.apply(index, r),
        }
        self.size = index + 1;
        Ok(())
    }

    /// Accounts for the entry at index [`LogState::size`] without applying
    /// it: an auditor replaying a log passes over an entry the rules refuse
    /// (which a board would never have logged), and the entries after it
    /// keep their indexes.
    pub fn skip(&mut self) {
        self.size += 1;
    }
}

#[cfg(test)]
mod tests;
