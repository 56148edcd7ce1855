//! Entry bundles: `decode_entry_bundle` (accepted ⇒ `encode_entry_bundle`
//! of the entries gives the input back).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::tile::{decode_entry_bundle, encode_entry_bundle};

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = decode_entry_bundle(data) {
        let again = encode_entry_bundle(entries.iter().copied()).expect("re-encodes");
        assert_eq!(again, data, "entry bundle round trip");
    }
});
