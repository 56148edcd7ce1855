//! A witness's persisted state (spec/witness.md): `Cosigned::open` on the
//! bytes of a state file, which may have been edited or damaged on disk.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::witness::{Cosigned, TrustedLogs};

fn keys() -> &'static (TrustedLogs, VerifierKey) {
    static K: std::sync::OnceLock<(TrustedLogs, VerifierKey)> = std::sync::OnceLock::new();
    K.get_or_init(|| {
        let mut logs = TrustedLogs::new();
        logs.add(
            VerifierKey::parse(
                "board.tallyboard.example/demo-1404+8c2372aa+AZrrD5pYAm51qo8IeS5z0xVSsJjVRUHDlw1KMQ/wSd9/",
            )
            .expect("fixed vkey parses"),
        )
        .expect("a log key");
        let witness = VerifierKey::parse(
            "shora.tallyboard.example/witness+23f31d81+BDDblbn2v2NUAYUIsgIwsG+ZiU2W4WVyZngxK0LstpD4",
        )
        .expect("fixed witness vkey parses");
        (logs, witness)
    })
}

fuzz_target!(|data: &[u8]| {
    let (logs, witness) = keys();
    if let Ok(c) = Cosigned::open(data, logs, witness) {
        assert_eq!(c.note, data);
    }
});
