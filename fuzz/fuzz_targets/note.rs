//! Signed notes: `Note::parse` (accepted ⇒ `to_bytes` gives the input back
//! byte for byte) and `note::open` (parse + verify against known keys).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::note::{self, Note};

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let parsed = Note::parse(data, 1 << 20);
    if let Ok(n) = &parsed {
        assert_eq!(n.to_bytes(), data, "note round trip");
    }
    let opened = note::open(data, 1 << 20, verifiers());
    if let Ok(v) = &opened {
        assert!(parsed.is_ok(), "open accepted what parse refused");
        assert!(!v.verified.is_empty());
        assert!(v.verified.iter().all(|&i| i < v.note.signatures.len()));
    }
});
