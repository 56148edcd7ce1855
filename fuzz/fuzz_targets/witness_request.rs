//! The tlog-witness add-checkpoint request (c2sp.org/tlog-witness,
//! spec/witness.md §3.1): `AddCheckpoint::parse` (accepted ⇒ `to_bytes`
//! is identical), then `check_submission` as the witness runs it on every
//! request body, with the demo log as the trusted log.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::witness::{self, AddCheckpoint, TrustedLogs};

fn logs() -> &'static TrustedLogs {
    static L: std::sync::OnceLock<TrustedLogs> = std::sync::OnceLock::new();
    L.get_or_init(|| {
        let mut logs = TrustedLogs::new();
        logs.add(
            VerifierKey::parse(
                "board.tallyboard.example/demo-1404+8c2372aa+AZrrD5pYAm51qo8IeS5z0xVSsJjVRUHDlw1KMQ/wSd9/",
            )
            .expect("fixed vkey parses"),
        )
        .expect("a log key");
        logs
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = AddCheckpoint::parse(data) {
        assert_eq!(req.to_bytes(), data, "add-checkpoint round trip");
    }
    if let Ok(sub) = witness::check_submission(data, logs()) {
        assert_eq!(sub.checkpoint.origin, "board.tallyboard.example/demo-1404");
    }
});
