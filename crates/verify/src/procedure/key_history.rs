//! A station's key history: which key was in force before each of its
//! entries, from its key registrations and revocations in log order
//! (spec/validation.md §1 step 6: a tally is signed by the station's key
//! registered, and not revoked, before it). The one walk of registrations
//! and revocations the per-station checks use.

use tallyboard_core::entry::Entry;
use tallyboard_core::note::VerifierKey;

/// What a key entry did.
#[derive(Clone, Debug)]
enum KeyEvent {
    /// A key was registered (`None`: its key does not parse). Boxed: a
    /// parsed key is large, a revocation nothing.
    Registered(Option<Box<VerifierKey>>),
    /// The key in force was revoked.
    Revoked,
}

/// The station's key in force at some index.
#[derive(Clone, Copy, Debug)]
pub enum KeyInForce<'a> {
    /// The key registered at `registered`.
    Key {
        /// The registration's index.
        registered: u64,
        /// The key.
        key: &'a VerifierKey,
    },
    /// The last key was revoked at `revoked` and none registered since.
    Revoked {
        /// The revocation's index.
        revoked: u64,
    },
    /// No usable key was registered before (none at all, or one whose key
    /// does not parse, at `registered`).
    Unregistered {
        /// The registration whose key does not parse, if any.
        registered: Option<u64>,
    },
}

impl KeyInForce<'_> {
    /// The stable code of signing with no key in force (`None` if a key is).
    pub fn refusal(&self) -> Option<&'static str> {
        match self {
            KeyInForce::Key { .. } => None,
            KeyInForce::Revoked { .. } => Some("station.key-revoked"),
            KeyInForce::Unregistered { .. } => Some("station.key-not-registered"),
        }
    }
}

/// The key entries of one station that verified (included, the station's,
/// signed by the authority), in log order.
#[derive(Clone, Debug, Default)]
pub struct KeyHistory {
    events: Vec<(u64, KeyEvent)>,
}

impl KeyHistory {
    /// An empty history.
    pub fn new() -> KeyHistory {
        KeyHistory::default()
    }

    /// Records a verified key entry at `index` (entries other than
    /// registrations and revocations are ignored). Entries may come in any
    /// order.
    pub fn record(&mut self, index: u64, entry: &Entry) {
        let event = match entry {
            Entry::StationKey(k) => KeyEvent::Registered(k.verifier().map(Box::new)),
            Entry::StationKeyRevocation(_) => KeyEvent::Revoked,
            _ => return,
        };
        let at = self.events.partition_point(|(i, _)| *i < index);
        self.events.insert(at, (index, event));
    }

    /// The registrations recorded, by index.
    pub fn registrations(&self) -> Vec<u64> {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, KeyEvent::Registered(_)))
            .map(|(i, _)| *i)
            .collect()
    }

    /// The key in force for an entry at `index`: the last key entry before
    /// it decides.
    pub fn in_force(&self, index: u64) -> KeyInForce<'_> {
        let before = self.events.partition_point(|(i, _)| *i < index);
        match before.checked_sub(1).and_then(|last| self.events.get(last)) {
            Some((at, KeyEvent::Registered(Some(key)))) => KeyInForce::Key {
                registered: *at,
                key,
            },
            Some((at, KeyEvent::Registered(None))) => KeyInForce::Unregistered {
                registered: Some(*at),
            },
            Some((at, KeyEvent::Revoked)) => KeyInForce::Revoked { revoked: *at },
            None => KeyInForce::Unregistered { registered: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_core::entry::{StationKey, StationKeyRevocation};
    use tallyboard_synth::keys;

    fn registration(seed: &str) -> (Entry, String) {
        let key = keys::station_key("e", seed).verifier().to_vkey_string();
        (
            Entry::StationKey(StationKey {
                election: "e".into(),
                station: "s".into(),
                key: key.clone(),
            }),
            key,
        )
    }

    fn revocation(key: &str) -> Entry {
        Entry::StationKeyRevocation(StationKeyRevocation {
            election: "e".into(),
            station: "s".into(),
            key: key.into(),
            reason: "lost".into(),
        })
    }

    #[test]
    fn the_last_key_entry_before_an_index_decides() {
        let (first, k1) = registration("a");
        let (second, k2) = registration("b");
        let mut h = KeyHistory::new();
        // Recorded out of order on purpose.
        h.record(20, &second);
        h.record(10, &revocation(&k1));
        h.record(5, &first);
        h.record(
            7,
            &Entry::StationKey(StationKey {
                election: "e".into(),
                station: "s".into(),
                key: "not a key".into(),
            }),
        );
        assert_eq!(h.registrations(), [5, 7, 20]);
        assert!(matches!(
            h.in_force(5),
            KeyInForce::Unregistered { registered: None }
        ));
        assert!(
            matches!(h.in_force(6), KeyInForce::Key { registered: 5, key } if key.to_vkey_string() == k1)
        );
        assert_eq!(h.in_force(8).refusal(), Some("station.key-not-registered"));
        assert!(matches!(
            h.in_force(11),
            KeyInForce::Revoked { revoked: 10 }
        ));
        assert_eq!(h.in_force(11).refusal(), Some("station.key-revoked"));
        assert!(
            matches!(h.in_force(21), KeyInForce::Key { registered: 20, key } if key.to_vkey_string() == k2)
        );
    }
}
