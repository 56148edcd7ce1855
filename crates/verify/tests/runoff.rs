//! The verifier's runoff step (spec/verification.md §9) over an export of
//! a first round that ended in a runoff: the first round read back and the
//! second round's manifest derived from it; accepted while the log grows
//! past the checkpoint it names (the consistency path); and a final that
//! the supervisor reopened calls for no second round.

mod support;

use support::{election, export, registered_and_reported};
use tallyboard_core::entry::announcement::{expected, AnnouncementStatus};
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::runoff::{derive_runoff_manifest, RunoffParams};
use tallyboard_core::rules::Status;
use tallyboard_synth::{keys, PRESIDENT};
use tallyboard_verify::runoff::{read_first_round, run, Pick};
use tallyboard_verify::{DirSource, Error, LogKey};

#[test]
fn a_second_round_is_checked_against_the_first_rounds_log() {
    let e = election(60);
    let mut log = registered_and_reported(&e);
    // The supervisor approves the results, the authority announces them final.
    let parsed: Vec<_> = log
        .entries()
        .iter()
        .map(|b| SignedEntry::parse(b).expect("entry").entry)
        .collect();
    let size = log.size();
    let statement = expected(
        e.manifest(),
        parsed.iter().enumerate().map(|(i, x)| (i as u64, x)),
        PRESIDENT,
        size,
    )
    .expect("statement");
    assert_eq!(statement.outcome, Status::Runoff);
    let witnessed = e.witnessed_log(log.entries());
    log.push(e.contest_approval_entry(&statement));
    let final_entry = e.announcement_entry(&statement, AnnouncementStatus::Final, &witnessed);
    let index = log.push(final_entry.clone());

    let dir = tempfile::tempdir().expect("tempdir");
    export(dir.path(), &log, &e);
    let src = DirSource::new(dir.path());
    let lk = LogKey::parse(&log.vkey(), None).expect("log key");
    let first = read_first_round(&src, &lk, &Pick::default()).expect("first round");
    assert_eq!(first.index, index);
    assert_eq!(first.checkpoint.size, log.size());
    let params = RunoffParams {
        election_id: "second".into(),
        date: "2025-07-04".into(),
        log_key: keys::role_key("log-round-2").expect("key").verifier(),
    };
    let second = derive_runoff_manifest(
        &first.manifest,
        &first.announcement,
        first.index,
        &first.checkpoint,
        &params,
    )
    .expect("derived");
    let bytes = second.manifest().to_canonical_bytes();
    let report = run(&bytes, &src, &lk).expect("ran");
    assert!(report.verified, "{:?}", report.findings);

    // The command line: exit 0 verified, 1 not the derivation.
    let m = dir.path().join("round-2.json");
    std::fs::write(&m, &bytes).expect("write");
    let (code, out) = verify_cli(&m, dir.path(), &log.vkey());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"verified\": true"), "{out}");
    let mut doctored = second.manifest().clone();
    doctored.contests[0].candidates.reverse();
    let doctored =
        tallyboard_core::manifest::ValidatedManifest::from_manifest(doctored).expect("valid");
    std::fs::write(&m, doctored.manifest().to_canonical_bytes()).expect("write");
    let (code, out) = verify_cli(&m, dir.path(), &log.vkey());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("\"code\": \"runoff.not-derived\""), "{out}");

    // The first log grows (here: the final is reopened afterwards): the
    // manifest still names a true prefix of it, proven by consistency.
    log.push(e.reopening_entry(PRESIDENT, leaf_hash(&final_entry), "a recount"));
    let dir2 = tempfile::tempdir().expect("tempdir");
    export(dir2.path(), &log, &e);
    let grown = DirSource::new(dir2.path());
    let report = run(&bytes, &grown, &lk).expect("ran");
    assert!(report.verified, "{:?}", report.findings);

    // But read at the grown size the final is no longer in force.
    let pick = Pick {
        index: Some(index),
        ..Pick::default()
    };
    match read_first_round(&grown, &lk, &pick) {
        Err(Error::Failed(f)) => assert_eq!(f.code, "runoff.not-final"),
        other => panic!("expected runoff.not-final, got {other:?}"),
    }

    // Another log's key: refused before anything is read.
    let other = LogKey::parse(
        &keys::role_key("log-round-2")
            .expect("key")
            .verifier()
            .to_vkey_string(),
        None,
    )
    .expect("key");
    let report = run(&bytes, &src, &other).expect("ran");
    assert!(!report.verified);
    assert_eq!(report.findings[0].code, "runoff.checkpoint-mismatch");
}

/// `tallyboard-verify --json runoff`: (exit code, stdout).
fn verify_cli(manifest: &std::path::Path, source: &std::path::Path, vkey: &str) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tallyboard-verify"))
        .args(["--json", "runoff", "--manifest"])
        .arg(manifest)
        .arg("--source")
        .arg(source)
        .args(["--log-vkey", vkey])
        .output()
        .expect("run tallyboard-verify");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
