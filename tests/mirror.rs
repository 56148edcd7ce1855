//! `tallyboard mirror` end to end (spec/mirror.md): real boards (the real
//! binary on loopback) and real mirrors (the real binary), plus read paths
//! written to directories with the log's key where a test needs a log the
//! board would never produce (a tampered tile or bundle, an invalid entry
//! under a signed checkpoint). The independent verifier (used as a library)
//! audits a mirror over HTTP. Waiting for a mirror to catch up polls its
//! `/healthz`; no assertion depends on timing.

#[allow(dead_code)] // shared with tests/server.rs, which uses all of it
#[path = "server/harness.rs"]
mod harness;

use harness::{Resp, Server, BIN};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::entry::Entry;
use tallyboard_core::merkle::MemoryLog;
use tallyboard_core::tile::{self, TilePath, TILE_WIDTH};
use tallyboard_synth::{keys, Config, SyntheticElection};
use tallyboard_verify::{audit, consistency, HttpSource, LogKey, Report};

const STATIONS: usize = 30;
/// Stations with keys.
const REGISTERED: usize = 20;

fn vkey() -> String {
    keys::role_key("log").unwrap().verifier().to_vkey_string()
}

/// A mirror serving on loopback.
struct Mirror {
    child: Option<Child>,
    url: String,
    agent: ureq::Agent,
}

impl Mirror {
    fn start(from: &str, data: &Path) -> Mirror {
        Mirror::start_with(from, data, &[])
    }

    fn start_with(from: &str, data: &Path, extra: &[&str]) -> Mirror {
        let mut child = Command::new(BIN)
            .args(["mirror", "--listen", "127.0.0.1:0", "--interval", "50ms"])
            .args(["--from", from, "--log-key", &vkey(), "--data"])
            .arg(data)
            .args(extra)
            .env("TALLYBOARD_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mirror");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read listen line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Mirror {
            child: Some(child),
            url,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    fn get(&self, path: &str) -> Resp {
        get(&self.agent, &format!("{}{path}", self.url))
    }

    /// Waits until `/healthz` answers `want` (the follower polls every 50 ms).
    fn wait_for_health(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let h = self.get("/healthz");
            if h.text() == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the mirror never reached {want:?}; it says {:?} ({})",
                h.text(),
                self.get("/api/v1/mirror").text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let st = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status()
                .expect("kill");
            assert!(st.success());
            let status = c.wait().expect("wait");
            assert!(status.success(), "mirror exited with {status}");
        }
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn get(agent: &ureq::Agent, url: &str) -> Resp {
    harness::finish(agent.get(url).call())
}

/// `tallyboard mirror --once`: (exit status, stdout).
fn once(from: &str, data: &Path) -> (i32, String) {
    once_with(from, data, &[])
}

fn once_with(from: &str, data: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args([
            "mirror",
            "--once",
            "--from",
            from,
            "--log-key",
            &vkey(),
            "--data",
        ])
        .arg(data)
        .args(extra)
        .env("TALLYBOARD_LOG", "off")
        .output()
        .expect("run mirror --once");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The only evidence directory under `data`, whose name ends in `kind`.
fn evidence(data: &Path, n: usize, kind: &str) -> std::path::PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir(data.join("evidence"))
        .expect("evidence directory")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), n, "{dirs:?}");
    let d = dirs.pop().unwrap();
    assert!(
        d.file_name().unwrap().to_string_lossy().ends_with(kind),
        "{}",
        d.display()
    );
    d
}

fn refusal(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("refusal.json")).unwrap()).unwrap()
}

/// Every path of the read path for a tree of `size`.
fn read_path(size: u64) -> Vec<String> {
    let mut paths: Vec<String> = tile::tiles_for_size(size)
        .iter()
        .map(|t| t.path())
        .collect();
    let w = u64::from(TILE_WIDTH);
    for n in 0..size.div_ceil(w) {
        let width = (size - n * w).min(w) as u16;
        paths.push(TilePath::Entries { index: n, width }.to_path());
    }
    paths
}

/// Asserts that the mirror answers exactly as the board does.
fn assert_same(board: &Server, m: &Mirror, station: &str) {
    let size = board.size();
    let mut paths = vec![
        "/checkpoint".to_owned(),
        "/api/v1/proof/inclusion?index=7".to_owned(),
        "/api/v1/proof/consistency?old=5".to_owned(),
        format!("/api/v1/checkpoints/{size}"),
        "/api/v1/entries/3".to_owned(),
        format!("/api/v1/stations/{station}"),
        "/api/v1/totals".to_owned(),
        "/api/v1/log".to_owned(),
        "/api/v1/manifest".to_owned(),
        "/healthz".to_owned(),
    ];
    paths.extend(read_path(size).into_iter().map(|p| format!("/{p}")));
    // Exports are built in the background on each side: compare them once
    // both are built at this size.
    let p = "/api/v1/exports/results.csv";
    let (b, r) = (
        board.export_at(p, size),
        harness::export_at(|p| m.get(p), p, size),
    );
    assert_eq!(b.body, r.body, "{p} differs");
    for p in &paths {
        let (b, r) = (board.get(p), m.get(p));
        assert_eq!(b.status, 200, "board {p}");
        assert_eq!(r.status, 200, "mirror {p}: {}", r.text());
        assert_eq!(b.body, r.body, "{p} differs");
        assert_eq!(b.content_type, r.content_type, "{p} content type");
    }
}

#[test]
fn a_mirror_follows_catches_up_and_serves_what_the_board_serves() {
    let board = Server::start(STATIONS, &[]);
    board.setup(0..REGISTERED);
    let first: Vec<Vec<u8>> = (0..10).map(|i| board.e.signed_tally(i)).collect();
    for t in &first {
        board.append(t);
    }
    let data = tempfile::tempdir().unwrap();
    let mut m = Mirror::start(&board.url, data.path());
    m.wait_for_health(&format!("ok {}\n", board.size()));
    let station = board.e.station_id(4).to_owned();
    assert_same(&board, &m, &station);

    // The results site is served from the copy too.
    assert_eq!(m.get("/").status, 200);
    assert_eq!(m.get(&format!("/en/station/{station}")).status, 200);

    // A mirror accepts no writes, and says where to send them.
    let r = m.post_entry(&board.e.signed_tally(12));
    assert_eq!((r.status, r.code()), (403, "mirror.read-only".to_owned()));
    assert!(r.text().contains(&board.url), "{}", r.text());
    let status = m.get("/api/v1/mirror").json();
    assert_eq!(status["state"], "following");
    assert_eq!(status["upstream"], board.url.as_str());
    assert_eq!(status["size"], board.size());

    // The board moves on; the mirror verifies and catches up.
    for i in 10..REGISTERED {
        board.append(&board.e.signed_tally(i));
    }
    board.append(&board.e.revised_tally(4, &first[4]));
    m.wait_for_health(&format!("ok {}\n", board.size()));
    assert_same(&board, &m, &station);

    // The independent verifier audits the mirror over HTTP.
    let log = LogKey::load(&vkey(), None).unwrap();
    let report = audit::run(&HttpSource::new(&m.url), &log).unwrap();
    assert!(report.verified(), "{}", report.human());
    assert_eq!(report.size, board.size());
    assert_eq!(report.entries_valid, board.size());
    // And a state kept against the board is consistent with the mirror.
    let state = data.path().join("verifier.state");
    let c = consistency::run(&HttpSource::new(&board.url), &log, &state).unwrap();
    assert_eq!(c.outcome, "initialized");
    let c = consistency::run(&HttpSource::new(&m.url), &log, &state).unwrap();
    assert_eq!(c.outcome, "unchanged", "{}", c.human());

    // Restarted, the mirror re-verifies its store and serves at once, with
    // its live streams capped as given (spec/mirror.md §6).
    m.stop();
    let m = Mirror::start_with(&board.url, data.path(), &["--live-per-client", "1"]);
    assert_eq!(m.get("/checkpoint").body, board.get("/checkpoint").body);
    assert!(!data.path().join("evidence").exists());
    let held = m
        .agent
        .get(&format!("{}/live", m.url))
        .call()
        .expect("the first live stream is served");
    assert_eq!(held.status(), 200);
    let second = m.get("/live");
    assert_eq!(
        (second.status, second.code()),
        (503, "request.too-many-streams".to_owned())
    );
    drop(held);
}

impl Mirror {
    fn post_entry(&self, body: &[u8]) -> Resp {
        let url = format!("{}/api/v1/entries", self.url);
        harness::finish(
            self.agent
                .post(&url)
                .set("Content-Type", "text/plain")
                .send_bytes(body),
        )
    }
}

#[test]
fn a_rollback_and_a_fork_are_refused_with_evidence_and_change_nothing() {
    // Board A: setup, then tallies 0..10 (size 31).
    let a = Server::start(STATIONS, &[]);
    a.setup(0..REGISTERED);
    for i in 0..10 {
        a.append(&a.e.signed_tally(i));
    }
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    assert_eq!(
        once(&a.url, d),
        (
            0,
            "extended from size 0 to 31 (31 entries verified)\n".into()
        )
    );
    let trusted = a.get("/checkpoint").body;

    // Board B, the same keys and election, another history. At size 26 it
    // is a rollback.
    let b = Server::start(STATIONS, &[]);
    b.setup(0..REGISTERED);
    for i in 0..5 {
        b.append(&b.e.signed_tally(i));
    }
    let (code, out) = once(&b.url, d);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[mirror.rollback]"), "{out}");
    let ev = evidence(d, 1, "rollback");
    assert_eq!(
        std::fs::read(ev.join("trusted.checkpoint")).unwrap(),
        trusted
    );
    assert_eq!(
        std::fs::read(ev.join("offered.checkpoint")).unwrap(),
        b.get("/checkpoint").body
    );
    let r = refusal(&ev);
    assert_eq!(r["code"], "mirror.rollback");
    assert_eq!(
        (r["trusted_size"].as_u64(), r["offered_size"].as_u64()),
        (Some(31), Some(26))
    );
    // Nothing changed: A is still in step.
    assert_eq!(once(&a.url, d), (0, "in step at size 31\n".into()));

    // Tallies 6 and 5 in the other order: size 31, another root.
    for i in [6, 5, 7, 8, 9] {
        b.append(&b.e.signed_tally(i));
    }
    assert_eq!(b.size(), 31);
    let (code, out) = once(&b.url, d);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[mirror.fork]"), "{out}");
    let ev = evidence(d, 2, "fork");
    assert_eq!(refusal(&ev)["offered_size"], 31);
    assert!(!ev.join("consistency.proof").exists());

    // Grown past A: the consistency proof from B's own tiles fails while
    // those tiles reproduce B's signed root.
    b.append(&b.e.signed_tally(10));
    let (code, out) = once(&b.url, d);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[mirror.fork]") && out.contains("does not extend"),
        "{out}"
    );
    let ev = evidence(d, 3, "fork");
    assert!(std::fs::read(ev.join("consistency.proof")).unwrap().len() > 40);
    assert_eq!(
        std::fs::read(ev.join("trusted.checkpoint")).unwrap(),
        trusted
    );
    assert_eq!(once(&a.url, d), (0, "in step at size 31\n".into()));

    // Served: the mirror refuses B on its first poll, keeps serving what it
    // verified, and says so on /healthz and /api/v1/mirror.
    let m = Mirror::start(&b.url, d);
    m.wait_for_health("refused mirror.fork 31\n");
    assert_eq!(m.get("/healthz").status, 503);
    assert_eq!(m.get("/checkpoint").body, trusted);
    let s = m.get("/api/v1/mirror").json();
    assert_eq!(s["state"], "refused");
    assert_eq!(s["refusal"]["code"], "mirror.fork");
    assert_eq!(s["refusal"]["evidence"], "evidence/0004-fork");
    assert!(d.join("evidence/0004-fork/refusal.json").exists());
}

/// Writes a complete tlog-tiles read path for `entries`, signed with the
/// demo log key, as `tallyboard export` lays it out.
fn write_log(dir: &Path, e: &SyntheticElection, entries: &[Vec<u8>]) {
    let size = entries.len() as u64;
    let mut mem = MemoryLog::new();
    for x in entries {
        mem.append_entry(x).unwrap();
    }
    let put = |p: &str, b: &[u8]| {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b).unwrap();
    };
    for id in tile::tiles_for_size(size) {
        put(&id.path(), &tile::read_tile(&id, size, &mem).unwrap());
    }
    let w = TILE_WIDTH as usize;
    for (n, chunk) in entries.chunks(w).enumerate() {
        let path = TilePath::Entries {
            index: n as u64,
            width: chunk.len() as u16,
        }
        .to_path();
        put(
            &path,
            &tile::encode_entry_bundle(chunk.iter().map(Vec::as_slice)).unwrap(),
        );
    }
    put("api/v1/manifest.json", e.manifest_bytes());
    let log = keys::role_key("log").unwrap();
    let cp = Checkpoint {
        origin: log.name().to_owned(),
        size,
        root: mem.root(),
        extensions: vec![],
    };
    put("checkpoint", &checkpoint::sign_checkpoint(&cp, &log));
}

#[test]
fn a_read_path_that_misses_its_root_or_an_invalid_entry_is_refused() {
    let e = SyntheticElection::generate(Config {
        seed: 1404,
        stations: STATIONS,
        majlis: false,
    });
    let mut good = vec![e.commitment_entry()];
    good.extend((0..REGISTERED).map(|i| e.registration_entry(i)));
    good.extend((0..10).map(|i| e.signed_tally(i)));
    let root = tempfile::tempdir().unwrap();
    let dir = |name: &str| root.path().join(name);
    let data = dir("mirror");
    write_log(&dir("v25"), &e, &good[..25]);
    assert_eq!(once(dir("v25").to_str().unwrap(), &data).0, 0);

    // The bundle holds another (valid) entry at 27 than the one the
    // checkpoint's tree has: the tiles prove consistency, the entries miss
    // the root.
    write_log(&dir("bundle"), &e, &good);
    let mut swapped = good.clone();
    swapped[27] = e.signed_tally(15);
    let bundle = TilePath::Entries {
        index: 0,
        width: 31,
    }
    .to_path();
    std::fs::write(
        dir("bundle").join(&bundle),
        tile::encode_entry_bundle(swapped.iter().map(Vec::as_slice)).unwrap(),
    )
    .unwrap();
    let (code, out) = once(dir("bundle").to_str().unwrap(), &data);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[mirror.read-path-mismatch]") && out.contains("give root"),
        "{out}"
    );
    evidence(&data, 1, "read-path-mismatch");

    // A hash tile that is not the tree's: the proof from it fails, and it
    // does not reproduce the signed root either.
    write_log(&dir("tile"), &e, &good);
    let tile_path = dir("tile").join("tile/0/000.p/31");
    let mut t = std::fs::read(&tile_path).unwrap();
    t.iter_mut().step_by(32).for_each(|b| *b ^= 0xff);
    std::fs::write(&tile_path, t).unwrap();
    let (code, out) = once(dir("tile").to_str().unwrap(), &data);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[mirror.read-path-mismatch]") && out.contains("tiles are wrong"),
        "{out}"
    );
    let ev = evidence(&data, 2, "read-path-mismatch");
    assert!(ev.join("consistency.proof").exists());

    // The log signed an equivocation: another first tally of station 0.
    let mut t0 = e.tally(0);
    t0.votes[0].1 += 1;
    t0.votes[1].1 -= 1;
    let equivocation = e.sign_as_station(0, &Entry::Tally(t0));
    let mut bad = good[..25].to_vec();
    bad.push(equivocation.clone());
    bad.extend(good[25..].iter().cloned());
    write_log(&dir("invalid"), &e, &bad);
    let (code, out) = once(dir("invalid").to_str().unwrap(), &data);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[mirror.entry-invalid]") && out.contains("entry 25"),
        "{out}"
    );
    let ev = evidence(&data, 3, "entry-invalid");
    assert_eq!(std::fs::read(ev.join("entry")).unwrap(), equivocation);
    let r = refusal(&ev);
    assert_eq!(r["entry_index"], 25);
    assert_eq!(r["entry_code"], "tally.equivocation");

    // A bundle the checkpoint needs is missing, or nothing answers: the
    // mirror cannot poll (exit 2), refuses nothing and waits.
    write_log(&dir("missing"), &e, &good);
    std::fs::remove_file(dir("missing").join(&bundle)).unwrap();
    let (code, out) = once(dir("missing").to_str().unwrap(), &data);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("[mirror.upstream-unavailable]"), "{out}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, out) = once(&nobody, &data);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("[mirror.upstream-unavailable]"), "{out}");
    evidence(&data, 3, "entry-invalid");

    // None of it was stored: the good log still extends the copy.
    assert_eq!(
        once(dir("v25").to_str().unwrap(), &data),
        (0, "in step at size 25\n".into())
    );
    write_log(&dir("v31"), &e, &good);
    assert_eq!(
        once(dir("v31").to_str().unwrap(), &data),
        (
            0,
            "extended from size 25 to 31 (6 entries verified)\n".into()
        )
    );
}

/// A witness (the real binary) cosigning the demo log.
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
    let dir = tempfile::tempdir().unwrap();
    let repo = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(BIN)
        .args(["witness", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .arg("--key")
        .arg(format!("{repo}/keys/demo/{role}.key"))
        .args(["--log-vkey", &vkey()])
        .args((!dir.path().join("WITNESS").exists()).then_some("--init"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start witness");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    Witness {
        child,
        url,
        _dir: dir,
    }
}

#[test]
fn with_a_policy_only_checkpoints_that_meet_the_quorum_are_followed() {
    let guardian = witness("witness-guardian");
    let observer = witness("witness-observer");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.txt");
    let g = tallyboard_synth::witness_vkey("witness-guardian").unwrap();
    let o = tallyboard_synth::witness_vkey("witness-observer").unwrap();
    std::fs::write(
        &policy,
        format!(
            "log {}\nwitness guardian {g} {}\nwitness observer {o} {}\ngroup q all guardian observer\nquorum q\n",
            vkey(),
            guardian.url,
            observer.url
        ),
    )
    .unwrap();
    let p = policy.to_str().unwrap();

    // A board without witnesses serves checkpoints without cosignatures:
    // the mirror waits (exit 2) and stores nothing.
    let plain = Server::start(STATIONS, &[]);
    plain.setup(0..3);
    let data = dir.path().join("plain");
    let (code, out) = once_with(&plain.url, &data, &["--policy", p]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("[policy.quorum-not-met]"), "{out}");
    assert!(!data.join("store").exists());

    // A board that has its checkpoints cosigned is followed, and the mirror
    // serves the cosigned checkpoint byte for byte.
    let board = Server::start(STATIONS, &["--witness-policy", p]);
    board.setup(0..REGISTERED);
    for i in 0..5 {
        board.append(&board.e.signed_tally(i));
    }
    let size = board.get("/api/v1/log").json()["tree_size"]
        .as_u64()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while board.size() != size {
        assert!(
            Instant::now() < deadline,
            "the witnesses never cosigned size {size}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let m = Mirror::start_with(&board.url, &dir.path().join("witnessed"), &["--policy", p]);
    m.wait_for_health(&format!("ok {size}\n"));
    let served = m.get("/checkpoint").body;
    assert_eq!(served, board.get("/checkpoint").body);
    let parsed = tallyboard_core::policy::Policy::parse(&std::fs::read(&policy).unwrap()).unwrap();
    let (_, verdict) = parsed.verify_checkpoint(&served, board.origin()).unwrap();
    assert!(verdict.quorum_met, "{verdict}");
}

/// Appends cosignatures of demo witness roles to a signed checkpoint.
fn cosigned(note: &[u8], roles: &[&str]) -> Vec<u8> {
    use tallyboard_core::cosignature::{cosign, CosignerKey};
    let mut n = tallyboard_core::note::Note::parse(note, 1 << 20).unwrap();
    for r in roles {
        let key = CosignerKey::from_signer_key(&keys::role_key(r).unwrap());
        n.signatures
            .push(cosign(&n.text, 1_750_000_000, &key).unwrap());
    }
    n.to_bytes()
}

#[test]
fn the_same_tree_with_more_valid_cosignatures_replaces_the_stored_checkpoint() {
    let e = SyntheticElection::generate(Config {
        seed: 1404,
        stations: STATIONS,
        majlis: false,
    });
    let mut entries = vec![e.commitment_entry()];
    entries.extend((0..REGISTERED).map(|i| e.registration_entry(i)));
    let root = tempfile::tempdir().unwrap();
    let (src, data) = (root.path().join("log"), root.path().join("mirror"));
    let from = src.to_str().unwrap();
    write_log(&src, &e, &entries);
    let policy = root.path().join("policy.txt");
    std::fs::write(
        &policy,
        format!(
            "log {}\nwitness guardian {}\nwitness observer {}\ngroup q any guardian observer\nquorum q\n",
            vkey(),
            tallyboard_synth::witness_vkey("witness-guardian").unwrap(),
            tallyboard_synth::witness_vkey("witness-observer").unwrap()
        ),
    )
    .unwrap();
    let p = ["--policy", policy.to_str().unwrap()];
    let plain = std::fs::read(src.join("checkpoint")).unwrap();
    let one = cosigned(&plain, &["witness-guardian"]);
    std::fs::write(src.join("checkpoint"), &one).unwrap();
    assert_eq!(once_with(from, &data, &p).0, 0);

    // Both witnesses now: stored in place of the first note.
    let both = cosigned(&one, &["witness-observer"]);
    std::fs::write(src.join("checkpoint"), &both).unwrap();
    let (code, out) = once_with(from, &data, &p);
    assert_eq!(
        (code, out.as_str()),
        (0, "in step at size 21 (checkpoint re-signed)\n")
    );
    // A line that is no valid cosignature, or fewer cosignatures, change nothing.
    let mut junk = both.clone();
    let at = junk.len() - 10;
    junk[at] = if junk[at] == b'A' { b'B' } else { b'A' };
    for offered in [junk, one.clone(), plain.clone()] {
        std::fs::write(src.join("checkpoint"), &offered).unwrap();
        let (code, out) = once_with(from, &data, &p);
        if offered == plain {
            // Below the quorum: not followed at all.
            assert_eq!(code, 2, "{out}");
        } else {
            assert_eq!((code, out.as_str()), (0, "in step at size 21\n"));
        }
    }
    let m = Mirror::start_with(from, &data, &p);
    assert_eq!(m.get("/checkpoint").body, both);
}

#[test]
fn a_long_extension_is_checked_in_chunks_and_visible_only_when_complete() {
    use tallyboard_core::entry::{announcement, AnnouncementStatus, SignedEntry};
    // 603 entries: the store takes them in chunks of 256, and the contest
    // approval and announcement at the end are recomputed from entries of
    // earlier chunks, already written but not yet visible.
    let e = SyntheticElection::generate(Config {
        seed: 1404,
        stations: 300,
        majlis: false,
    });
    let mut good = vec![e.commitment_entry()];
    good.extend((0..300).map(|i| e.registration_entry(i)));
    good.extend((0..300).map(|i| e.signed_tally(i)));
    let parsed: Vec<Entry> = good
        .iter()
        .map(|x| SignedEntry::parse(x).unwrap().entry)
        .collect();
    let size = good.len() as u64;
    let st = announcement::expected(
        e.manifest(),
        parsed.iter().enumerate().map(|(i, x)| (i as u64, x)),
        "president",
        size,
    )
    .unwrap();
    let seen = e.witnessed_log(&good);
    good.push(e.contest_approval_entry(&st));
    let mut bad = good.clone();
    good.push(e.announcement_entry(&st, AnnouncementStatus::Final, &seen));
    let mut wrong = st.clone();
    wrong.figures.valid -= 1;
    bad.push(e.announcement_entry(&wrong, AnnouncementStatus::Final, &seen));

    let root = tempfile::tempdir().unwrap();
    let (g, b, data) = (
        root.path().join("good"),
        root.path().join("bad"),
        root.path().join("mirror"),
    );
    write_log(&g, &e, &good);
    write_log(&b, &e, &bad);
    let (code, out) = once(b.to_str().unwrap(), &data);
    assert_eq!(code, 1, "{out}");
    let ev = evidence(&data, 1, "entry-invalid");
    let r = refusal(&ev);
    assert_eq!(r["entry_index"], 602);
    assert_eq!(r["entry_code"], "announcement.mismatch");
    assert!(r.get("trusted_size").is_some());
    // Nothing became visible: the copy still has no checkpoint, and the
    // good log is taken whole.
    assert_eq!(
        once(g.to_str().unwrap(), &data),
        (
            0,
            "extended from size 0 to 603 (603 entries verified)\n".into()
        )
    );
    let m = Mirror::start(g.to_str().unwrap(), &data);
    assert_eq!(
        m.get("/checkpoint").body,
        std::fs::read(g.join("checkpoint")).unwrap()
    );
    let a = m.get("/api/v1/announcements").json();
    assert_eq!(a["announcements"].as_array().map(Vec::len), Some(1), "{a}");
    let log = LogKey::load(&vkey(), None).unwrap();
    let report = audit::run(&HttpSource::new(&m.url), &log).unwrap();
    assert!(report.verified(), "{}", report.human());
    assert_eq!(report.decisions.announcements, 1);
}
