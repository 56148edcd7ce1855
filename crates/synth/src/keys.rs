//! Demo keys, derived deterministically so that anyone can reproduce the
//! demo election (`keys/README.md`). **Demo only**: these private keys are
//! public knowledge by construction and must never sign a real election.

use sha2::{Digest, Sha256};
use tallyboard_core::note::SignerKey;

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

/// The key name a station signs with.
pub fn station_key_name(election: &str, station: &str) -> String {
    format!("{station}.{election}.stations.tallyboard.example")
}
