//! Witness-gated publication end to end: a board with a witness policy
//! pushes checkpoints to two real witnesses, `/checkpoint` serves only
//! checkpoints whose cosignatures meet the quorum, and the independent
//! verifier checks that quorum from the read path.

#[path = "server/harness.rs"]
#[allow(dead_code)]
mod harness;

use harness::Server;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tallyboard_core::policy::Policy;
use tallyboard_synth::keys;

struct Witness {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn witness(role: &str) -> Witness {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(harness::BIN)
        .args(["witness", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .arg("--key")
        .arg(format!("{repo}/keys/demo/{role}.key"))
        .arg("--log-vkey")
        .arg(format!("{repo}/keys/log.vkey"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start witness");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read address");
    let url = line.trim().rsplit(' ').next().expect("address").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    Witness {
        child,
        url,
        _dir: dir,
    }
}

fn policy_text(guardian: &str, observer: &str, extra: Option<&str>) -> String {
    let log = keys::role_key("log")
        .expect("log")
        .verifier()
        .to_vkey_string();
    let g = tallyboard_synth::witness_vkey("witness-guardian").expect("guardian");
    let o = tallyboard_synth::witness_vkey("witness-observer").expect("observer");
    let mut t = format!(
        "log {log}\nwitness guardian {g} {guardian}\nwitness observer {o} {observer}\ngroup observers any observer\n"
    );
    match extra {
        None => t.push_str("group q all guardian observers\nquorum q\n"),
        Some(vkey) => t.push_str(&format!(
            "witness third {vkey}\ngroup q all guardian observers third\nquorum q\n"
        )),
    }
    t
}

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
