//! What the log says about one polling station: its keys, with their whole
//! history, and its tallies per contest (`spec/validation.md` §2).
//!
//! Kept small, since a national log has one per station: the active key
//! (most of a record's size is the decompressed public key) is parsed when
//! first needed and shared (`Arc`) by the copies of the state, and a
//! station's few contests are a short list rather than a map.

use crate::note::VerifierKey;
use crate::Hash;

/// One key a station has had, from its registration to its revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    /// The verifier key string of the registration entry.
    pub key: String,
    /// Index of the registration entry.
    pub registered_at: u64,
    /// Index of the revocation entry, once revoked.
    pub revoked_at: Option<u64>,
}

/// Where a tally sits in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TallyRef {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// Its revision.
    pub revision: u32,
}

/// A station's tallies for one contest: the first and the latest (the
/// standing one). Revisions in between are not kept: each revision names
/// the leaf hash of the one it supersedes, so they are found by following
/// that chain back through the log (`LogState::tally_at`), which keeps the
/// state's memory independent of the number of revisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestTallies {
    /// The contest.
    pub contest: String,
    /// Revision 1.
    pub first: TallyRef,
    /// The latest revision (`first` until a revision is logged).
    pub latest: TallyRef,
}

/// Everything logged about one station.
#[derive(Clone, Debug, Default)]
pub struct StationRecord {
    /// Every key registered, in log order; only the last can be active.
    keys: Vec<KeyRecord>,
    /// The last registered key, parsed when it is registered (or, in a
    /// state decoded from a snapshot, the first time it is needed), then
    /// kept, so that checking a tally does not decompress the public key
    /// again (and restoring a state does not decompress 59,000 keys).
    /// Empty inside if the key string does not parse (a registration the
    /// rules accepted always does).
    active: std::sync::OnceLock<Option<std::sync::Arc<VerifierKey>>>,
    /// Tallies per contest, in the order the contests were first reported.
    tallies: Vec<ContestTallies>,
}

/// Records are equal when the log says the same of them (whether the
/// active key has been parsed yet does not matter).
impl PartialEq for StationRecord {
    fn eq(&self, other: &StationRecord) -> bool {
        self.keys == other.keys && self.tallies == other.tallies
    }
}

impl Eq for StationRecord {}

impl StationRecord {
    /// Whether the log says nothing about the station yet.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.tallies.is_empty()
    }

    /// Every key the station has had, in log order.
    pub fn keys(&self) -> &[KeyRecord] {
        &self.keys
    }

    /// The station's active key: registered and not revoked.
    pub fn active_key(&self) -> Option<(&KeyRecord, &VerifierKey)> {
        let last = self.keys.last().filter(|k| k.revoked_at.is_none())?;
        let parsed = self
            .active
            .get_or_init(|| VerifierKey::parse(&last.key).ok().map(std::sync::Arc::new));
        Some((last, parsed.as_deref()?))
    }

    /// The last key registered, revoked or not.
    pub fn last_key(&self) -> Option<&KeyRecord> {
        self.keys.last()
    }

    /// Whether `key` was ever registered for this station.
    pub fn ever_had(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k.key == key)
    }

    /// Indexes of the station's key registrations and revocations, ascending.
    pub fn key_entries(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .keys
            .iter()
            .flat_map(|k| std::iter::once(k.registered_at).chain(k.revoked_at))
            .collect();
        v.sort_unstable();
        v
    }

    /// The station's first and latest tallies for `contest`, if it reported it.
    pub fn tallies(&self, contest: &str) -> Option<&ContestTallies> {
        self.tallies.iter().find(|t| t.contest == contest)
    }

    /// Every contest the station has reported, with its tallies.
    pub fn contests(&self) -> &[ContestTallies] {
        &self.tallies
    }

    pub(super) fn register(&mut self, index: u64, key: &str) {
        // One at a time: a station has one key, rarely two (a Vec would
        // reserve four, and there is one record per station).
        self.keys.reserve_exact(1);
        self.keys.push(KeyRecord {
            key: key.to_owned(),
            registered_at: index,
            revoked_at: None,
        });
        self.active =
            std::sync::OnceLock::from(VerifierKey::parse(key).ok().map(std::sync::Arc::new));
    }

    /// As [`StationRecord::register`], the key parsed when first needed.
    pub(super) fn register_unparsed(&mut self, index: u64, key: &str) {
        self.keys.reserve_exact(1);
        self.keys.push(KeyRecord {
            key: key.to_owned(),
            registered_at: index,
            revoked_at: None,
        });
        self.active = std::sync::OnceLock::new();
    }

    pub(super) fn revoke(&mut self, index: u64) {
        if let Some(k) = self.keys.last_mut() {
            k.revoked_at.get_or_insert(index);
        }
        self.active = std::sync::OnceLock::new();
    }

    pub(super) fn add_tally(&mut self, contest: &str, at: TallyRef) {
        match self.tallies.iter_mut().find(|c| c.contest == contest) {
            Some(c) => c.latest = at,
            None => {
                self.tallies.reserve_exact(1);
                self.tallies.push(ContestTallies {
                    contest: contest.to_owned(),
                    first: at,
                    latest: at,
                })
            }
        }
    }
}
