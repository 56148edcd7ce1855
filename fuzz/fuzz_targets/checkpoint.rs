//! Checkpoints: `Checkpoint::parse` on note text (accepted ⇒ `to_text` is
//! identical) and `open_checkpoint` on whole signed notes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::checkpoint::{self, Checkpoint};

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(text) {
            assert_eq!(cp.to_text(), text, "checkpoint round trip");
        }
    }
    for origin in [
        "board.tallyboard.example/demo-1404",
        "example.com/log/testdata",
    ] {
        if let Ok((cp, _)) = checkpoint::open_checkpoint(data, origin, verifiers()) {
            assert_eq!(cp.origin, origin);
        }
    }
});
