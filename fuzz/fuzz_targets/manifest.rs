//! Manifests: `ValidatedManifest::from_bytes` (canonical JSON only).
//! Accepted ⇒ re-serializing gives the input and its digest is SHA-256 of it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::Hash;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ValidatedManifest::from_bytes(data) {
        assert_eq!(
            m.manifest().to_canonical_bytes(),
            data,
            "manifest round trip"
        );
        assert_eq!(m.digest(), Hash::sha256(data));
    }
});
