//! Witness-gated publication end to end: a board with a witness policy
//! pushes checkpoints to two real witnesses, `/checkpoint` serves only
//! checkpoints whose cosignatures meet the quorum, and the independent
//! verifier checks that quorum from the read path.

#[path = "server/harness.rs"]
#[allow(dead_code)]
mod harness;

#[path = "server/witnesses.rs"]
mod witnesses;

use harness::Server;
use std::time::{Duration, Instant};
use tallyboard_core::policy::Policy;
use tallyboard_synth::keys;
use witnesses::{policy_text, witness, witness_on};

/// The log's real size (`/checkpoint` is witness-gated and may lag).
fn tree_size(s: &Server) -> u64 {
    s.get("/api/v1/log").json()["tree_size"]
        .as_u64()
        .expect("tree_size")
}

/// Polls /api/v1/witnessed until the witnesses answered for `size` (a
/// deadline, not a timing assertion).
fn witnessed_at(s: &Server, size: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = s.get("/api/v1/witnessed");
        if r.status == 200 {
            let w = r.json();
            if w["size"].as_u64() == Some(size) {
                return w;
            }
        }
        assert!(Instant::now() < deadline, "no push for size {size}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn checkpoints_are_published_only_with_a_quorum_of_cosignatures() {
    let guardian = witness("witness-guardian");
    let mut observer = witness("witness-observer");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy_path = dir.path().join("policy.txt");
    std::fs::write(
        &policy_path,
        policy_text(&guardian.url, &observer.url, None),
    )
    .expect("policy");
    let s = Server::start(
        20,
        &["--witness-policy", policy_path.to_str().expect("utf-8")],
    );
    s.setup(0..20);
    for i in 0..10 {
        s.append(&s.e.signed_tally(i));
    }
    let size = tree_size(&s);
    let w = witnessed_at(&s, size);
    assert_eq!(w["quorum_met"], true, "{w}");
    let names: Vec<&str> = w["cosigned_by"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, vec!["guardian", "observer"]);

    // /checkpoint now carries both cosignatures, and meets the policy.
    let policy =
        Policy::parse(policy_text(&guardian.url, &observer.url, None).as_bytes()).expect("policy");
    let served = s.get("/checkpoint").body;
    let (cp, verdict) = policy
        .verify_checkpoint(&served, s.origin())
        .expect("verifies");
    assert_eq!(cp.size, size);
    assert!(verdict.quorum_met, "{verdict}");

    // The independent verifier checks the quorum from the read path.
    let log = tallyboard_verify::LogKey::load(
        &keys::role_key("log")
            .expect("log")
            .verifier()
            .to_vkey_string(),
        None,
    )
    .expect("log key");
    let src = tallyboard_verify::HttpSource::new(&s.url);
    let report =
        tallyboard_verify::checkpoint::run_with_policy(&src, &log, Some(&policy)).expect("runs");
    assert!(report.verified, "{}", report.witness_quorum);
    assert_eq!(report.cosigned_by.len(), 2);
    // A policy that also wants a third witness is not met, and says so.
    let third =
        tallyboard_core::cosignature::CosignerKey::from_seed("third.example/witness", [9; 32])
            .expect("key")
            .verifier()
            .to_vkey_string();
    let strict = Policy::parse(policy_text(&guardian.url, &observer.url, Some(&third)).as_bytes())
        .expect("policy");
    let report =
        tallyboard_verify::checkpoint::run_with_policy(&src, &log, Some(&strict)).expect("runs");
    assert!(!report.verified);
    assert_eq!(report.findings[0].code, "policy.quorum-not-met");

    // The observer goes away: new checkpoints are signed and receipts still
    // issued, but /checkpoint keeps serving the last quorate one.
    let _ = observer.child.kill();
    let _ = observer.child.wait();
    for i in 10..15 {
        s.append(&s.e.signed_tally(i));
    }
    let newer = tree_size(&s);
    let w = witnessed_at(&s, newer);
    assert_eq!(w["quorum_met"], false, "{w}");
    assert!(w["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .any(|f| f["name"] == "observer"));
    let served = s.get("/checkpoint").body;
    let (cp, verdict) = policy
        .verify_checkpoint(&served, s.origin())
        .expect("verifies");
    assert_eq!(
        cp.size, size,
        "the unwitnessed checkpoint must not be published"
    );
    assert!(verdict.quorum_met);
    drop(guardian);
}

/// The log's entries below `size`, read from its tlog-tiles bundles.
fn entries(s: &Server, size: u64) -> Vec<Vec<u8>> {
    let src = tallyboard_verify::HttpSource::new(&s.url);
    let mut out = Vec::new();
    for n in 0..tallyboard_verify::tiles::bundle_count(size) {
        let (_, es) = tallyboard_verify::tiles::fetch_bundle(&src, n, size).expect("bundle");
        out.extend(es);
    }
    out
}

fn log_key() -> tallyboard_verify::LogKey {
    tallyboard_verify::LogKey::load(
        &keys::role_key("log")
            .expect("log")
            .verifier()
            .to_vkey_string(),
        None,
    )
    .expect("log key")
}

/// Cosignatures are stored with their checkpoint: after the board is
/// restarted, `export` writes the cosigned checkpoint and the checkpoint an
/// announcement rests on, and `tallyboard-verify audit --policy` finds the
/// quorum met on both. A policy the cosignatures do not meet fails the
/// audit at the checkpoint and at the announcement's size.
#[test]
fn cosignatures_survive_a_restart_and_the_audit_checks_the_quorum() {
    use tallyboard_core::entry::AnnouncementStatus;
    let guardian = witness("witness-guardian");
    let observer = witness("witness-observer");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy_path = dir.path().join("policy.txt");
    let text = policy_text(&guardian.url, &observer.url, None);
    std::fs::write(&policy_path, &text).expect("policy");
    let policy = Policy::parse(text.as_bytes()).expect("policy");
    let mut s = Server::start(
        12,
        &["--witness-policy", policy_path.to_str().expect("utf-8")],
    );
    s.setup(0..12);
    for i in 0..12 {
        s.append(&s.e.signed_tally(i));
    }
    // The authority announces at a size its witnesses cosigned.
    let at = tree_size(&s);
    assert_eq!(witnessed_at(&s, at)["quorum_met"], true);
    let manifest = std::sync::Arc::new(s.e.manifest().clone());
    let replayed = tallyboard_verify::replay::replay(&entries(&s, at), &manifest);
    assert!(replayed.findings.is_empty(), "{:?}", replayed.findings);
    let statement = replayed
        .state
        .statement("president", at, &tallyboard_core::state::NoLog)
        .expect("statement");
    // It carries the witnesses' own cosignatures, as the board serves them
    // on the checkpoint of that size (spec/announcements.md §5).
    let (cp, witnessed) = tallyboard_core::entry::WitnessedCheckpoint::from_note(
        &s.get("/checkpoint").body,
        s.e.manifest().witness_policy(),
    )
    .expect("served checkpoint");
    assert_eq!(cp.size, at);
    assert_eq!(witnessed.cosignatures.len(), 2);
    s.append(&s.e.announcement_entry(&statement, AnnouncementStatus::Partial, &witnessed));
    let end = tree_size(&s);
    assert_eq!(witnessed_at(&s, end)["quorum_met"], true);

    // Restart, then export: the stored checkpoints carry the cosignatures.
    s.terminate();
    let out = dir.path().join("export");
    let (ok, _, err) = harness::run_cli(
        &[
            "export".as_ref(),
            "--data".as_ref(),
            s.path("data").as_os_str(),
            "--log-key".as_ref(),
            s.path("log.key").as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        dir.path(),
    );
    assert!(ok, "{err}");
    let src = tallyboard_verify::DirSource::new(out.clone());
    let opts = tallyboard_verify::audit::AuditOptions {
        policy: Some(policy.clone()),
        measure_baseline: false,
        ..Default::default()
    };
    let r = tallyboard_verify::audit::run_with(&src, &log_key(), &opts).expect("audit runs");
    use tallyboard_verify::Report as _;
    assert!(r.verified, "{}", r.human());
    assert!(r.witness_quorum.starts_with("MET"), "{}", r.witness_quorum);
    assert!(r.witness_quorum.contains("1 of 1"), "{}", r.witness_quorum);
    assert!(out.join(format!("api/v1/checkpoints/{at}")).is_file());
    // Without a policy the audit says how to give one.
    let r = tallyboard_verify::audit::run(&src, &log_key()).expect("audit runs");
    assert!(
        r.witness_quorum.contains("--policy"),
        "{}",
        r.witness_quorum
    );

    // A policy that also wants a third witness: not met, on the audited
    // checkpoint and on the one the announcement rests on.
    let third =
        tallyboard_core::cosignature::CosignerKey::from_seed("third.example/witness", [9; 32])
            .expect("key")
            .verifier()
            .to_vkey_string();
    let strict = Policy::parse(policy_text(&guardian.url, &observer.url, Some(&third)).as_bytes())
        .expect("policy");
    let opts = tallyboard_verify::audit::AuditOptions {
        policy: Some(strict),
        measure_baseline: false,
        ..Default::default()
    };
    let r = tallyboard_verify::audit::run_with(&src, &log_key(), &opts).expect("audit runs");
    assert!(!r.verified);
    let paths: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.code == "policy.quorum-not-met")
        .filter_map(|f| f.path.as_deref())
        .collect();
    assert!(paths.contains(&"checkpoint"), "{paths:?}");
    // The announcement's own cosignatures are evaluated under that policy:
    // the finding names the announcement's entry.
    let announced = end - 1;
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "audit.announcement-not-witnessed")
        .unwrap_or_else(|| panic!("{}", r.human()));
    assert_eq!(f.entry, Some(announced), "{}", r.human());
    assert!(r.witness_quorum.contains("0 of 1"), "{}", r.witness_quorum);

    // Restarted, the board serves the cosigned checkpoint before any push.
    s.spawn();
    let served = s.get("/checkpoint").body;
    let (cp, verdict) = policy
        .verify_checkpoint(&served, s.origin())
        .expect("verifies");
    assert_eq!(cp.size, end);
    assert!(verdict.quorum_met, "{verdict}");
    let stored = s.get(&format!("/api/v1/checkpoints/{at}")).body;
    assert!(policy
        .verify_checkpoint(&stored, s.origin())
        .is_ok_and(|(_, v)| v.quorum_met));
    drop((guardian, observer));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// A board restored from an older copy of its store notices, before it
/// takes a submission, that its witnesses cosigned more of its log: it
/// refuses every submission with `board.behind-witnesses` and `/healthz`
/// says so with the evidence.
#[test]
fn a_board_restored_from_an_older_copy_fails_closed() {
    let guardian = witness("witness-guardian");
    let observer = witness("witness-observer");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy_path = dir.path().join("policy.txt");
    std::fs::write(
        &policy_path,
        policy_text(&guardian.url, &observer.url, None),
    )
    .expect("policy");
    let mut s = Server::start(
        10,
        &["--witness-policy", policy_path.to_str().expect("utf-8")],
    );
    s.setup(0..10);
    let old = tree_size(&s);
    assert_eq!(witnessed_at(&s, old)["quorum_met"], true);
    s.terminate();
    let backup = dir.path().join("backup");
    copy_dir(&s.path("data"), &backup);
    s.spawn();
    assert_eq!(s.get("/healthz").status, 200);
    for i in 0..5 {
        s.append(&s.e.signed_tally(i));
    }
    let newer = tree_size(&s);
    assert_eq!(witnessed_at(&s, newer)["quorum_met"], true);
    s.terminate();

    // The operator restores the old copy and starts the board again.
    std::fs::remove_dir_all(s.path("data")).expect("rm");
    copy_dir(&backup, &s.path("data"));
    s.spawn();
    let health = s.get("/healthz");
    assert_eq!(health.status, 503, "{}", health.text());
    let text = health.text();
    assert!(
        text.starts_with(&format!("behind-witnesses {old} ")),
        "{text}"
    );
    assert!(text.contains(&newer.to_string()), "{text}");
    let r = s.submit(&s.e.signed_tally(7));
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.code(), "board.behind-witnesses");
    assert_eq!(tree_size(&s), old, "nothing was appended");
    drop((guardian, observer));
}

/// A witness that is down when a checkpoint is pushed gets it again, with
/// backoff, until it cosigns: a log that stops growing (the end of
/// election day) still reaches its quorum without a new entry.
#[test]
fn a_push_a_witness_missed_is_retried_until_the_quorum_is_met() {
    let guardian = witness("witness-guardian");
    // The observer's address is reserved, but nothing listens there yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let observer_url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy_path = dir.path().join("policy.txt");
    std::fs::write(
        &policy_path,
        policy_text(&guardian.url, &observer_url, None),
    )
    .expect("policy");
    let s = Server::start(
        10,
        &["--witness-policy", policy_path.to_str().expect("utf-8")],
    );
    s.setup(0..10);
    for i in 0..5 {
        s.append(&s.e.signed_tally(i));
    }
    let size = tree_size(&s);
    let w = witnessed_at(&s, size);
    assert_eq!(w["quorum_met"], false, "{w}");
    // The observer comes up; nothing more is submitted.
    let _observer = witness_on("witness-observer", &format!("127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let w = s.get("/api/v1/witnessed").json();
        if w["quorum_met"] == true {
            assert_eq!(w["size"].as_u64(), Some(size), "{w}");
            break;
        }
        assert!(Instant::now() < deadline, "the push was never retried: {w}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(tree_size(&s), size, "nothing was appended meanwhile");
}
