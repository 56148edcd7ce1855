//! End-to-end tests of `tallyboard witness` (spec/witness.md): the real
//! binary on 127.0.0.1, a real log (MemoryLog + the demo log key), every
//! status code of C2SP tlog-witness, evidence, persistence across a restart
//! and the atomic compare-and-update under concurrent requests.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use tallyboard_core::checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint};
use tallyboard_core::cosignature::{verify_cosignature, CosignerKey};
use tallyboard_core::merkle::{prove_consistency, MemoryLog};
use tallyboard_core::note::{Note, SignerKey, VerifierKey, Verifiers};
use tallyboard_core::policy::Policy;
use tallyboard_core::witness::{origin_hash_hex, AddCheckpoint};
use tallyboard_core::Hash;
use tallyboard_synth::keys;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vkey_file(name: &str) -> VerifierKey {
    let text = std::fs::read_to_string(repo().join("keys").join(name)).expect("vkey file");
    VerifierKey::parse(text.trim_end()).expect("vkey")
}

/// A running `tallyboard witness`, killed on drop.
struct Witness {
    child: Child,
    base: String,
}

impl Witness {
    fn start(data: &Path, extra_log_vkeys: &[&str]) -> Witness {
        Witness::start_as(data, "keys/demo/witness-guardian.key", extra_log_vkeys)
    }

    fn start_as(data: &Path, key: &str, extra_log_vkeys: &[&str]) -> Witness {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tallyboard"));
        cmd.current_dir(repo())
            .args(["witness", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(["--key", key])
            .args(["--log-vkey", "keys/log.vkey"]);
        // A new data directory is created explicitly; a restart is not.
        if !data.join("WITNESS").exists() {
            cmd.arg("--init");
        }
        for v in extra_log_vkeys {
            cmd.args(["--log-vkey", v]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn tallyboard witness");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the listening line");
        let base = line
            .trim_end()
            .rsplit_once(' ')
            .map(|(_, url)| url.to_string())
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| panic!("witness did not print its address: {line:?}"));
        Witness { child, base }
    }

    fn stop(mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn agent() -> ureq::Agent {
    // A generous timeout only to turn a hung server into a failure; nothing
    // here asserts on timing.
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

fn reply(r: Result<ureq::Response, ureq::Error>) -> Reply {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let content_type = resp.header("content-type").unwrap_or("").to_string();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).expect("body");
    Reply {
        status,
        content_type,
        body,
    }
}

fn post(w: &Witness, body: &[u8]) -> Reply {
    reply(agent().post(&w.url("/add-checkpoint")).send_bytes(body))
}

fn get(w: &Witness, path: &str) -> Reply {
    reply(agent().get(&w.url(path)).call())
}

/// A log of the demo origin, signed with the demo log key.
struct Log {
    tree: MemoryLog,
    key: SignerKey,
}

impl Log {
    fn demo() -> Log {
        Log {
            tree: MemoryLog::new(),
            key: keys::role_key("log").expect("log role"),
        }
    }
    fn origin(&self) -> &str {
        self.key.name()
    }
    fn grow_to(&mut self, n: u64, tag: &str) {
        while self.tree.size() < n {
            let i = self.tree.size();
            self.tree
                .append_entry(format!("{tag} entry {i}").as_bytes())
                .expect("append");
        }
    }
    fn signed(&self) -> Vec<u8> {
        sign_checkpoint(
            &Checkpoint {
                origin: self.origin().to_string(),
                size: self.tree.size(),
                root: self.tree.root(),
                extensions: vec![],
            },
            &self.key,
        )
    }
    fn proof(&self, old: u64) -> Vec<Hash> {
        if old == 0 || old >= self.tree.size() {
            return vec![];
        }
        prove_consistency(old, self.tree.size(), &self.tree).expect("proof")
    }
    fn body(&self, old: u64) -> Vec<u8> {
        AddCheckpoint {
            old_size: old,
            proof: self.proof(old),
            checkpoint: self.signed(),
        }
        .to_bytes()
    }
}

/// Checks a 200 reply: one cosignature line by the Guardian Council's
/// witness that verifies over the checkpoint; returns its timestamp.
fn assert_cosigned(r: &Reply, checkpoint: &[u8]) -> u64 {
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(
        text.starts_with('\u{2014}') && text.ends_with('\n'),
        "{text:?}"
    );
    let full = [checkpoint, &r.body].concat();
    let note = Note::parse(&full, 1 << 20).expect("checkpoint + cosignature parses");
    let vkey = vkey_file("witness-guardian.vkey");
    let ts = verify_cosignature(&note.text, note.signatures.last().unwrap(), &vkey)
        .expect("cosignature verifies with keys/witness-guardian.vkey");
    assert!(ts > 0);
    ts
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn demo_witness_keys_are_the_published_cosigner_keys() {
    for role in ["witness-guardian", "witness-observer"] {
        let signer = keys::role_key(role).unwrap();
        let cosigner = CosignerKey::from_signer_key(&signer);
        assert_eq!(cosigner.verifier(), vkey_file(&format!("{role}.vkey")));
    }
    let dir = tmp();
    let w = Witness::start(dir.path(), &[]);
    let info = get(&w, "/");
    assert_eq!(info.status, 200);
    let first = info.text().lines().next().unwrap().to_string();
    assert_eq!(
        first,
        format!("witness {}", vkey_file("witness-guardian.vkey"))
    );
}

#[test]
fn add_checkpoint_status_codes_and_evidence() {
    let dir = tmp();
    // A second trusted log that never submits: its monitoring URL is 404.
    let quiet = SignerKey::from_seed("quiet.example/log", [5; 32]).unwrap();
    let quiet_vkey = quiet.verifier().to_vkey_string();
    let w = Witness::start(dir.path(), &[&quiet_vkey]);
    let mut log = Log::demo();
    let hex = origin_hash_hex(log.origin());
    let monitor = format!("/{hex}/checkpoint");

    // Never cosigned: monitoring is 404.
    assert_eq!(get(&w, &monitor).status, 404);
    assert_eq!(
        get(
            &w,
            &format!("/{}/checkpoint", origin_hash_hex("quiet.example/log"))
        )
        .status,
        404
    );

    // First checkpoint, old 0.
    log.grow_to(5, "main");
    let r = post(&w, &log.body(0));
    assert_cosigned(&r, &log.signed());

    // Extension with a consistency proof.
    log.grow_to(12, "main");
    let cp12 = log.signed();
    let r = post(&w, &log.body(5));
    assert_cosigned(&r, &cp12);

    // Stale old size: 409 with the cosigned size.
    let r = post(&w, &log.body(5));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.body, b"12\n");
    assert_eq!(r.content_type, "text/x.tlog.size");
    // old 0 discovers the state the same way.
    let r = post(&w, &log.body(0));
    assert_eq!((r.status, r.text().as_str()), (409, "12\n"));

    // The monitoring GET serves the size-12 checkpoint with both signatures.
    let r = get(&w, &monitor);
    assert_eq!(r.status, 200);
    let mut both = Verifiers::new();
    both.add(vkey_file("log.vkey"))
        .add(vkey_file("witness-guardian.vkey"));
    let (cp, vn) = open_checkpoint(&r.body, log.origin(), &both).expect("cosigned checkpoint");
    assert_eq!(cp.size, 12);
    assert_eq!(vn.verified.len(), 2);
    let cosigned12 = r.body.clone();

    // A bad consistency proof: 422.
    let mut bigger = Log::demo();
    bigger.grow_to(20, "main");
    let mut req = AddCheckpoint::parse(&bigger.body(12)).unwrap();
    req.proof[0].0[3] ^= 0x40;
    let r = post(&w, &req.to_bytes());
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().starts_with("witness.inconsistent"), "{}", r.text());

    // A fork: the same size with a different root. 422, and the witness
    // keeps both signed checkpoints.
    let mut fork = Log::demo();
    fork.grow_to(11, "main");
    fork.grow_to(12, "forged");
    assert_ne!(fork.tree.root(), log.tree.root());
    let forked = fork.signed();
    let r = post(&w, &fork.body(12));
    assert_eq!(r.status, 422, "{}", r.text());
    let ev = get(&w, &format!("/evidence/{hex}"));
    assert_eq!(ev.status, 200);
    assert_eq!(ev.content_type, "application/json");
    let v: serde_json::Value = serde_json::from_slice(&ev.body).unwrap();
    assert_eq!(v["origin"], log.origin());
    let list = v["evidence"].as_array().unwrap();
    let f = list
        .iter()
        .find(|e| e["kind"] == "fork")
        .unwrap_or_else(|| panic!("no fork evidence in {v}"));
    assert_eq!(f["cosigned"].as_str().unwrap().as_bytes(), &cosigned12[..]);
    assert_eq!(f["submitted"].as_str().unwrap().as_bytes(), &forked[..]);
    assert_eq!(f["old"], 12);
    // Both kept checkpoints verify under the log key: publishable proof of a fork.
    let logv: Verifiers = [vkey_file("log.vkey")].into_iter().collect();
    let (a, _) = open_checkpoint(
        f["cosigned"].as_str().unwrap().as_bytes(),
        log.origin(),
        &logv,
    )
    .unwrap();
    let (b, _) = open_checkpoint(
        f["submitted"].as_str().unwrap().as_bytes(),
        log.origin(),
        &logv,
    )
    .unwrap();
    assert_eq!(a.size, b.size);
    assert_ne!(a.root, b.root);
    // Submitting the fork again does not add a second record.
    post(&w, &fork.body(12));
    let v: serde_json::Value =
        serde_json::from_slice(&get(&w, &format!("/evidence/{hex}")).body).unwrap();
    let forks = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "fork")
        .count();
    assert_eq!(forks, 1);

    // A smaller tree than the one cosigned: refused (409 here) and kept.
    let mut small = Log::demo();
    small.grow_to(3, "main");
    let r = post(&w, &small.body(0));
    assert_eq!(r.status, 409);
    let v: serde_json::Value =
        serde_json::from_slice(&get(&w, &format!("/evidence/{hex}")).body).unwrap();
    assert!(
        v["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "rollback"),
        "{v}"
    );

    // Unknown origin: 404.
    let stranger = SignerKey::from_seed("stranger.example/log", [6; 32]).unwrap();
    let other = Log {
        tree: log.tree.clone(),
        key: stranger,
    };
    assert_eq!(post(&w, &other.body(0)).status, 404);
    assert_eq!(
        get(
            &w,
            &format!("/evidence/{}", origin_hash_hex("stranger.example/log"))
        )
        .status,
        404
    );

    // The right origin signed by a key the witness does not trust: 403.
    let impostor = Log {
        tree: bigger.tree.clone(),
        key: SignerKey::from_seed(log.origin(), [7; 32]).unwrap(),
    };
    let r = post(&w, &impostor.body(12));
    assert_eq!(r.status, 403, "{}", r.text());
    // A trusted key whose signature does not verify: 403.
    let mut note = Note::parse(&bigger.signed(), 1 << 20).unwrap();
    note.signatures[0].signature[0] ^= 1;
    let body = AddCheckpoint {
        old_size: 12,
        proof: bigger.proof(12),
        checkpoint: note.to_bytes(),
    }
    .to_bytes();
    assert_eq!(post(&w, &body).status, 403);

    // old > new: 400.
    let mut req = AddCheckpoint::parse(&bigger.body(12)).unwrap();
    req.old_size = 21;
    req.proof.clear();
    assert_eq!(post(&w, &req.to_bytes()).status, 400);

    // Malformed bodies: 400.
    for bad in [
        b"".to_vec(),
        b"old 12\n".to_vec(),
        b"hello\n\nworld\n".to_vec(),
        [b"old 012\n\n".to_vec(), bigger.signed()].concat(),
        [b"old 12\nnot-base64\n\n".to_vec(), bigger.signed()].concat(),
        b"old 12\n\nboard.tallyboard.example/demo-1404\n20\n".to_vec(),
    ] {
        let r = post(&w, &bad);
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(&bad),
            r.text()
        );
    }

    // A path or method the witness does not serve: the text error form of
    // spec/witness.md §3, not an empty body.
    let r = get(&w, "/no/such/path");
    assert_eq!(r.status, 404);
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
    assert!(r.text().starts_with("request.not-found: "), "{}", r.text());
    let r = reply(agent().delete(&w.url("/add-checkpoint")).call());
    assert_eq!(r.status, 405);
    assert!(
        r.text().starts_with("request.method-not-allowed: "),
        "{}",
        r.text()
    );

    // After all the refusals the state is still size 12, and the honest
    // extension is cosigned.
    let r = post(&w, &bigger.body(12));
    assert_cosigned(&r, &bigger.signed());
    let r = get(&w, &monitor);
    let (cp, _) = open_checkpoint(&r.body, log.origin(), &both).unwrap();
    assert_eq!(cp.size, 20);
}

#[test]
fn state_survives_a_restart() {
    let dir = tmp();
    let mut log = Log::demo();
    log.grow_to(7, "main");
    let w = Witness::start(dir.path(), &[]);
    assert_cosigned(&post(&w, &log.body(0)), &log.signed());
    // SIGKILL: the state was durable before the 200.
    w.stop();

    let w = Witness::start(dir.path(), &[]);
    let r = post(&w, &log.body(0));
    assert_eq!((r.status, r.text().as_str()), (409, "7\n"));
    let hex = origin_hash_hex(log.origin());
    let r = get(&w, &format!("/{hex}/checkpoint"));
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with(&format!("{}\n7\n", log.origin())));
    log.grow_to(9, "main");
    assert_cosigned(&post(&w, &log.body(7)), &log.signed());
    w.stop();

    // A state file that does not verify stops the witness from starting.
    let state = dir.path().join("state").join(&hex);
    let mut bytes = std::fs::read(&state).unwrap();
    let i = bytes.len() - 5;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    std::fs::write(&state, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .current_dir(repo())
        .args(["witness", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .args(["--key", "keys/demo/witness-guardian.key"])
        .args(["--log-vkey", "keys/log.vkey"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
}

#[test]
fn concurrent_requests_from_one_old_size_never_both_succeed() {
    let dir = tmp();
    let w = Witness::start(dir.path(), &[]);
    let mut log = Log::demo();
    log.grow_to(4, "main");
    assert_cosigned(&post(&w, &log.body(0)), &log.signed());
    let mut current = 4;
    for round in 0..3 {
        // Eight requests from the same old size: four distinct larger
        // checkpoints, each sent twice.
        let bodies: Vec<(u64, Vec<u8>)> = (0..8u64)
            .map(|i| {
                let mut l = Log::demo();
                l.grow_to(current + 1 + i % 4, "main");
                (l.tree.size(), l.body(current))
            })
            .collect();
        let barrier = Arc::new(Barrier::new(bodies.len()));
        let base = Arc::new(w.base.clone());
        let handles: Vec<_> = bodies
            .into_iter()
            .map(|(size, body)| {
                let barrier = barrier.clone();
                let base = base.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let r = reply(
                        agent()
                            .post(&format!("{base}/add-checkpoint"))
                            .send_bytes(&body),
                    );
                    (size, r)
                })
            })
            .collect();
        let results: Vec<(u64, Reply)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<u64> = results
            .iter()
            .filter(|(_, r)| r.status == 200)
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let won = winners[0];
        for (_, r) in results.iter().filter(|(_, r)| r.status != 200) {
            assert_eq!(r.status, 409, "{}", r.text());
            assert_eq!(r.text(), format!("{won}\n"));
        }
        let hex = origin_hash_hex(Log::demo().origin());
        let r = get(&w, &format!("/{hex}/checkpoint"));
        assert!(r.text().starts_with(&format!("{}\n{won}\n", log.origin())));
        current = won;
    }
}

/// Runs `tallyboard` in `dir`; returns (success, stdout, stderr).
fn tallyboard(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run tallyboard");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn board_checkpoints_are_cosigned_under_the_demo_policy() {
    let dir = tmp();
    let d = dir.path();
    let log_key = repo().join("keys/demo/log.key");
    let log_key = log_key.to_str().unwrap();
    let ok = |args: &[&str]| {
        let (ok, out, err) = tallyboard(d, args);
        assert!(ok, "tallyboard {args:?}: {err}");
        out
    };
    ok(&["synth", "--out", "e", "--stations", "5"]);
    ok(&[
        "init",
        "--data",
        "db",
        "--manifest",
        "e/manifest.json",
        "--log-key",
        log_key,
    ]);

    let demo_policy = std::fs::read_to_string(repo().join("keys/policy.txt")).unwrap();
    let write_policy = |guardian: &str, observer: &str| {
        let text = demo_policy
            .replace("http://127.0.0.1:8081", guardian)
            .replace("http://127.0.0.1:8082", observer);
        std::fs::write(d.join("policy.txt"), &text).unwrap();
        Policy::parse(text.as_bytes()).unwrap()
    };
    let cosign = |args: &[&str]| {
        let mut all = vec![
            "cosign",
            "--data",
            "db",
            "--log-key",
            log_key,
            "--policy",
            "policy.txt",
        ];
        all.extend_from_slice(args);
        tallyboard(d, &all)
    };

    // Only the Guardian Council's witness is up: the quorum is not met.
    let g = Witness::start_as(&d.join("wg"), "keys/demo/witness-guardian.key", &[]);
    write_policy(&g.base, "http://127.0.0.1:1");
    let (success, _, err) = cosign(&["--timeout", "5"]);
    assert!(!success);
    assert!(err.contains("NOT met"), "{err}");
    assert!(err.contains("witness guardian: cosigned"), "{err}");

    // The board grows to 4 entries; both witnesses: the quorum is met.
    let bundle = std::fs::read(d.join("e/entries.bundle")).unwrap();
    let entries = tallyboard_core::tile::decode_entry_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 11);
    for (name, part) in [("a.bundle", &entries[..4]), ("b.bundle", &entries[4..])] {
        let bytes = tallyboard_core::tile::encode_entry_bundle(part.iter().copied()).unwrap();
        std::fs::write(d.join(name), bytes).unwrap();
    }
    ok(&["import", "--data", "db", "--log-key", log_key, "a.bundle"]);
    let o = Witness::start_as(&d.join("wo"), "keys/demo/witness-observer.key", &[]);
    let policy = write_policy(&g.base, &o.base);
    let (success, out, err) = cosign(&[]);
    assert!(success, "{err}");
    let origin = keys::role_name("log").unwrap();
    let (cp, v) = policy.verify_checkpoint(out.as_bytes(), origin).unwrap();
    assert_eq!(cp.size, 4);
    assert!(v.quorum_met, "{v}");

    // The board grows to 11; a fresh `cosign` process starts from old 0,
    // follows each witness's 409 and sends the consistency proof from 4.
    ok(&["import", "--data", "db", "--log-key", log_key, "b.bundle"]);
    let (success, out, err) = cosign(&[]);
    assert!(success, "{err}");
    let (cp, v) = policy.verify_checkpoint(out.as_bytes(), origin).unwrap();
    assert_eq!(cp.size, 11);
    assert_eq!(v.cosigned.len(), 2, "{v}");
    // Each witness now serves the size-11 checkpoint.
    let hex = origin_hash_hex(origin);
    for w in [&g, &o] {
        let r = get(w, &format!("/{hex}/checkpoint"));
        assert!(
            r.text().starts_with(&format!("{origin}\n11\n")),
            "{}",
            r.text()
        );
    }
}

/// The witness's command, to start it or see it refuse.
fn witness_command(data: &Path, init: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tallyboard"));
    cmd.current_dir(repo())
        .args(["witness", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(["--key", "keys/demo/witness-guardian.key"])
        .args(["--log-vkey", "keys/log.vkey"]);
    if init {
        cmd.arg("--init");
    }
    cmd
}

/// What the witness says when it refuses to start.
fn refused(data: &Path) -> String {
    let out = witness_command(data, false).output().expect("run witness");
    assert!(!out.status.success(), "the witness started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A witness that lost its state (a new directory, a deleted or an older
/// state file) refuses to start rather than forget what it cosigned; with
/// `--init` it starts from what verifies and records that as evidence, so
/// a rollback it can no longer see is at least on record.
#[test]
fn a_witness_that_lost_its_state_refuses_to_start_until_told_and_records_it() {
    let dir = tmp();
    // A directory that holds no witness state needs --init.
    assert!(refused(dir.path()).contains("--init"));

    let mut log = Log::demo();
    log.grow_to(5, "main");
    let w = Witness::start(dir.path(), &[]);
    assert_cosigned(&post(&w, &log.body(0)), &log.signed());
    let hex = origin_hash_hex(log.origin());
    let state = dir.path().join("state").join(&hex);
    let at_five = std::fs::read(&state).expect("state");
    log.grow_to(9, "main");
    assert_cosigned(&post(&w, &log.body(5)), &log.signed());
    w.stop();

    // An older state file (a restored backup) is refused.
    std::fs::write(&state, &at_five).expect("write");
    let why = refused(dir.path());
    assert!(why.contains("older than the size 9"), "{why}");
    // So is a deleted one.
    std::fs::remove_file(&state).expect("remove");
    let why = refused(dir.path());
    assert!(why.contains("missing") && why.contains("size 9"), "{why}");

    // --init starts from nothing for this origin, and says so in the
    // evidence served to anyone.
    let mut child = witness_command(dir.path(), true)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let base = line.trim_end().rsplit_once(' ').expect("url").1.to_string();
    let w = Witness { child, base };
    let r = get(&w, &format!("/evidence/{hex}"));
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    let records = v["evidence"].as_array().expect("evidence");
    let reinit = records
        .iter()
        .find(|e| e["kind"] == "reinitialised")
        .unwrap_or_else(|| panic!("no reinitialised record: {v}"));
    assert_eq!(reinit["remembered"]["size"], 9);
    assert!(reinit["reason"].as_str().unwrap_or("").contains("missing"));
    // It starts over for that origin: size 9 from 0 is cosigned again.
    assert_cosigned(&post(&w, &log.body(0)), &log.signed());
    w.stop();
    // And after that restart needs nothing: what it remembers is on disk.
    let w = Witness::start(dir.path(), &[]);
    let r = post(&w, &log.body(0));
    assert_eq!((r.status, r.text().as_str()), (409, "9\n"));
}
