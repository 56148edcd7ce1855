//! Receipts: `TlogProof::parse` (accepted ⇒ `to_bytes` gives the input
//! back) and `verify` of whatever parses (must not panic).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::tlog_proof::TlogProof;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = TlogProof::parse(data) {
        assert_eq!(p.to_bytes(), data, "tlog-proof round trip");
        let _ = p.verify(b"entry", "board.tallyboard.example/demo-1404", verifiers());
    }
});
