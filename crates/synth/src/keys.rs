//! Demo keys, derived deterministically so that anyone can reproduce the
//! demo election (`keys/README.md`). **Demo only**: these private keys are
//! public knowledge by construction and must never sign a real election.

use sha2::{Digest, Sha256};
use tallyboard_core::note::{SignerKey, VerifierKey};

/// Domain-separation prefix of every demo key seed.
pub const DEMO_KEY_PREFIX: &str = "tallyboard demo key v1\n";

/// The 32-byte Ed25519 seed of a demo key: SHA-256(prefix || label).
pub fn derive_seed(label: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DEMO_KEY_PREFIX.as_bytes());
    h.update(label.as_bytes());
    h.finalize().into()
}

/// The demo roles and their key names (`keys/<role>.vkey`).
pub const ROLES: &[(&str, &str)] = &[
    ("log", "board.tallyboard.example/demo-1404"),
    // The second round's board (`demo --runoff`, spec/manifest.md §6): a
    // log of its own, so a key and an origin of its own.
    ("log-round-2", "board.tallyboard.example/demo-1404-round-2"),
    ("authority", "moi.tallyboard.example/authority"),
    ("supervisor", "shora.tallyboard.example/supervisor"),
    ("witness-guardian", "shora.tallyboard.example/witness"),
    ("witness-observer", "observer.tallyboard.example/witness"),
];

/// The key name of a demo role.
pub fn role_name(role: &str) -> Option<&'static str> {
    ROLES.iter().find(|(r, _)| *r == role).map(|(_, n)| *n)
}

/// A demo role's signer key (label = role name).
pub fn role_key(role: &str) -> Option<SignerKey> {
    let name = role_name(role)?;
    SignerKey::from_seed(name, derive_seed(role)).ok()
}

/// A station's demo key: label = `station/<election>/<station>`, name
/// `<station>.stations.tallyboard.example`.
pub fn station_key(election: &str, station: &str) -> SignerKey {
    let name = station_key_name(election, station);
    let seed = derive_seed(&format!("station/{election}/{station}"));
    // Key names built from identifiers are always valid (no spaces, no '+').
    SignerKey::from_seed(&name, seed).expect("identifier-based key names are valid")
}

/// The key name a station signs with: the rule of `spec/keys.md` §7
/// (`tallyboard_core::enrol::station_key_name`) under the demo's domain.
pub fn station_key_name(election: &str, station: &str) -> String {
    tallyboard_core::enrol::station_key_name(station, election, &STATION_KEY_SUFFIX[1..])
}

/// The suffix of every demo station key name ([`station_key_name`]).
const STATION_KEY_SUFFIX: &str = ".stations.tallyboard.example";

/// True if `key` is one of the demo keys derived by the published rule
/// above: a role key, or a station key of any election. Such a key is
/// public knowledge, so keeping its file private protects nothing; the
/// board's key-file loader uses this to let the committed demo keys (which
/// git checks out world-readable) load with a loud warning while every
/// other key must be private (`spec/operations.md`, security).
pub fn is_demo_key(key: &VerifierKey) -> bool {
    let name = key.name();
    let role = ROLES
        .iter()
        .filter(|(_, n)| *n == name)
        .filter_map(|(r, _)| role_key(r))
        .any(|k| k.verifier() == *key);
    if role {
        return true;
    }
    // `<station>.<election>.stations.tallyboard.example`: identifiers may
    // hold dots, so try every split of the prefix.
    let Some(prefix) = name.strip_suffix(STATION_KEY_SUFFIX) else {
        return false;
    };
    prefix
        .match_indices('.')
        .map(|(i, _)| (&prefix[..i], &prefix[i + 1..]))
        .filter(|(station, election)| !station.is_empty() && !election.is_empty())
        .any(|(station, election)| {
            let seed = derive_seed(&format!("station/{election}/{station}"));
            SignerKey::from_seed(name, seed).is_ok_and(|k| k.verifier() == *key)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_keys_are_recognised_and_others_are_not() {
        for (role, _) in ROLES {
            assert!(is_demo_key(&role_key(role).unwrap().verifier()), "{role}");
        }
        let station = station_key("1404-presidential", "04-001-00001");
        assert!(is_demo_key(&station.verifier()));
        let dotted = station_key("e.1", "s.2");
        assert!(is_demo_key(&dotted.verifier()));
        // Same names, other seeds: not demo keys.
        let fake_role = SignerKey::from_seed(ROLES[0].1, [7; 32]).unwrap();
        assert!(!is_demo_key(&fake_role.verifier()));
        let fake_station = SignerKey::from_seed(station.name(), [7; 32]).unwrap();
        assert!(!is_demo_key(&fake_station.verifier()));
        let other = SignerKey::from_seed("example.org/log", [9; 32]).unwrap();
        assert!(!is_demo_key(&other.verifier()));
    }
}
