//! Verifier keys (in manifests and station registrations):
//! `VerifierKey::parse` (accepted ⇒ `to_vkey_string` is identical).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::note::VerifierKey;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = VerifierKey::parse(s) {
        assert_eq!(k.to_vkey_string(), s, "vkey round trip");
    }
});
