//! The board on PostgreSQL (spec/storage.md §8), with a real PostgreSQL
//! started by `scripts/pg-cluster.sh` (Debian's `postgresql`, run as an
//! unprivileged user) or the one `TALLYBOARD_TEST_PG` names (a URL whose
//! user may create databases). Three plays, each on its own database:
//!
//! 1. **Crash.** A board serves, stations submit, the board is killed with
//!    SIGKILL and started again: every receipt's entry is in the log at its
//!    index, every checkpoint seen is consistent with the new one.
//! 2. **Failover under load.** Two boards on one database: one writes, the
//!    other stands by. Eight stations submit to both URLs in turn; the
//!    writer is killed; the standby takes the lease and carries on. Every
//!    receipt is in the final log, every checkpoint seen is consistent with
//!    it (no fork), and the time from the kill to the standby's first
//!    receipt is printed.
//! 3. **Fencing.** The writer is paused (SIGSTOP) past its lease, the
//!    standby takes over and commits, the writer wakes up (SIGCONT): it
//!    cannot extend the log (`store.fenced`), and the log is the standby's.
//! 4. **The database fails over** (its own test, with its own primary and
//!    synchronous standby): the primary is killed under load and the
//!    standby promoted; the boards step down, come back, and nothing
//!    acknowledged is lost.

#[path = "crash/board.rs"]
#[allow(dead_code)]
mod board;

use board::{agent, get, submit, Answer, BIN};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle;
use tallyboard_core::note::Verifiers;
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_synth::{keys, Config, SyntheticElection};

const STATIONS: usize = 200;

/// A PostgreSQL cluster for the test: the one `TALLYBOARD_TEST_PG` names,
/// or one started here (and stopped when dropped).
struct Cluster {
    admin: String,
    dir: Option<tempfile::TempDir>,
}

impl Cluster {
    fn start() -> Cluster {
        if let Ok(url) = std::env::var("TALLYBOARD_TEST_PG") {
            return Cluster {
                admin: url,
                dir: None,
            };
        }
        let dir = tempfile::tempdir().unwrap();
        // The cluster runs as another user: it must be able to enter.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|p| p.into_inner());
        let out = Command::new("bash")
            .arg(repo().join("scripts/pg-cluster.sh"))
            .arg("start")
            .arg(dir.path().join("pg"))
            .output()
            .expect("run scripts/pg-cluster.sh");
        assert!(
            out.status.success(),
            "starting PostgreSQL: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let admin = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        Cluster {
            admin,
            dir: Some(dir),
        }
    }

    /// A fresh database; its URL.
    fn database(&self, name: &str) -> String {
        let out = Command::new("psql")
            .arg(&self.admin)
            .args(["-qc", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (base, _) = self.admin.rsplit_once('/').unwrap();
        format!("{base}/{name}")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = Command::new("bash")
                .arg(repo().join("scripts/pg-cluster.sh"))
                .arg("stop")
                .arg(d.path().join("pg"))
                .output();
        }
    }
}

/// Held while `scripts/pg-cluster.sh` starts a cluster: on a fresh machine
/// it installs PostgreSQL first, and two installs at once (the tests of this
/// file run in parallel) would fight over dpkg's lock.
static STARTING: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files a board needs besides its database.
struct Setup {
    dir: tempfile::TempDir,
    e: Arc<SyntheticElection>,
}

impl Setup {
    fn new() -> Setup {
        let e = Arc::new(SyntheticElection::generate(Config {
            stations: STATIONS,
            ..Config::default()
        }));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.json"), e.manifest_bytes()).unwrap();
        let key = dir.path().join("log.key");
        let log = keys::role_key("log").unwrap();
        std::fs::write(&key, format!("{}\n", log.to_skey_string())).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut bundle = Vec::new();
        let mut setup = vec![e.commitment_entry()];
        setup.extend((0..STATIONS).map(|i| e.registration_entry(i)));
        for entry in &setup {
            bundle.extend_from_slice(&u16::try_from(entry.len()).unwrap().to_be_bytes());
            bundle.extend_from_slice(entry);
        }
        std::fs::write(dir.path().join("setup.bundle"), bundle).unwrap();
        Setup { dir, e }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&std::ffi::OsStr]) {
        let out = Command::new(BIN).args(args).output().expect("run");
        assert!(
            out.status.success(),
            "tallyboard {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `init` and `import` of the commitment and the registrations into `url`.
    fn init(&self, url: &str) {
        let (m, k, b) = (
            self.path("manifest.json"),
            self.path("log.key"),
            self.path("setup.bundle"),
        );
        self.run(&[
            "init".as_ref(),
            "--data".as_ref(),
            url.as_ref(),
            "--manifest".as_ref(),
            m.as_os_str(),
            "--log-key".as_ref(),
            k.as_os_str(),
        ]);
        self.run(&[
            "import".as_ref(),
            "--data".as_ref(),
            url.as_ref(),
            "--log-key".as_ref(),
            k.as_os_str(),
            b.as_os_str(),
        ]);
    }

    /// Starts `serve` on `url` (its address is known once it listens; a
    /// standby listens at once, serving reads).
    fn serve(&self, url: &str) -> Board {
        self.serve_with(url, &[])
    }

    fn serve_with(&self, url: &str, extra: &[&std::ffi::OsStr]) -> Board {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data",
                url,
                "--log-key",
            ])
            .arg(self.path("log.key"))
            .args(extra)
            .env("TALLYBOARD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn serve");
        let out = child.stdout.take().unwrap();
        let url = Arc::new(Mutex::new(None));
        let u = url.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            if let Some(Ok(line)) = lines.next() {
                if let Some(a) = line.trim().strip_prefix("listening on ") {
                    *u.lock().unwrap() = Some(a.to_owned());
                }
            }
            // Drained to the end, as a supervisor's log would be.
            for _ in lines {}
        });
        Board {
            child: Some(child),
            url,
        }
    }
}

/// A `serve` process.
struct Board {
    child: Option<Child>,
    url: Arc<Mutex<Option<String>>>,
}

impl Board {
    /// Its URL once it listens.
    fn url(&self) -> Option<String> {
        self.url.lock().unwrap().clone()
    }

    fn wait_listening(&self, within: Duration) -> String {
        let until = Instant::now() + within;
        loop {
            if let Some(u) = self.url() {
                return u;
            }
            assert!(Instant::now() < until, "the board did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        assert!(Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    }

    fn sigkill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
        }
        self.sigkill();
    }
}

/// A `tallyboard witness` with a demo witness key, killed on drop.
struct Witness {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Witness {
    fn start(dir: &std::path::Path, role: &str) -> Witness {
        let data = dir.join(format!("witness-{role}"));
        let key = format!("keys/demo/witness-{role}.key");
        let mut child = Command::new(BIN)
            .current_dir(repo())
            .args(["witness", "--listen", "127.0.0.1:0", "--data"])
            .arg(&data)
            .args(["--key", &key, "--log-vkey", "keys/log.vkey", "--init"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn witness");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim_end()
            .rsplit_once(' ')
            .map(|(_, u)| u.to_owned())
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| panic!("witness line {line:?}"));
        Witness { child, url, data }
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A receipt: the entry, its index, the checkpoint it came with.
#[derive(Clone)]
struct Receipt {
    entry: Vec<u8>,
    index: u64,
    checkpoint: Vec<u8>,
}

fn verifiers() -> Verifiers {
    let mut v = Verifiers::new();
    v.add(keys::role_key("log").unwrap().verifier());
    v
}

fn origin(e: &SyntheticElection) -> String {
    let m = tallyboard_core::manifest::ValidatedManifest::from_bytes(e.manifest_bytes()).unwrap();
    m.manifest().log.origin.clone()
}

/// Submits `bytes` to one board; a verified receipt, or why not.
fn send(a: &ureq::Agent, url: &str, bytes: &[u8], origin: &str) -> Result<Receipt, String> {
    let answer: Answer = submit(a, url, bytes);
    let (status, body) = answer?;
    if status != 200 && status != 201 {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
    }
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let text = v["receipt"].as_str().ok_or("no receipt")?;
    let proof = TlogProof::parse(text.as_bytes()).map_err(|e| e.to_string())?;
    proof
        .verify(bytes, origin, &verifiers())
        .map_err(|e| format!("the receipt does not verify: {e}"))?;
    Ok(Receipt {
        entry: bytes.to_vec(),
        index: proof.index,
        checkpoint: proof.checkpoint.clone(),
    })
}

/// Submits `bytes` to one board until it gives a receipt (a standby
/// answers 503 until it takes the lease); at most a minute.
fn send_until(a: &ureq::Agent, url: &str, bytes: &[u8], origin: &str) -> Receipt {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        match send(a, url, bytes, origin) {
            Ok(r) => return r,
            Err(e) => assert!(Instant::now() < until, "no receipt from {url}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Checks that every receipt's entry is in `url`'s log at its index and
/// every checkpoint seen is consistent with its latest: no entry lost, no
/// fork. Returns the latest size.
fn check_log(url: &str, origin: &str, receipts: &[Receipt], seen: &[Vec<u8>]) -> u64 {
    let a = agent();
    // With a witness policy `/checkpoint` serves the newest checkpoint the
    // witnesses cosigned, which may trail a receipt's by a push: wait for
    // it to cover everything seen.
    let newest = receipts
        .iter()
        .map(|r| &r.checkpoint)
        .chain(seen)
        .filter_map(|n| checkpoint::open_checkpoint(n, origin, &verifiers()).ok())
        .map(|(cp, _)| cp.size)
        .max()
        .unwrap_or(0);
    let until = Instant::now() + Duration::from_secs(30);
    let latest = loop {
        let (s, body) = get(&a, url, "/checkpoint").unwrap();
        assert_eq!(s, 200);
        let (latest, _) = checkpoint::open_checkpoint(&body, origin, &verifiers()).unwrap();
        if latest.size >= newest || Instant::now() > until {
            break latest;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for r in receipts {
        let (s, body) = get(&a, url, &format!("/api/v1/entries/{}", r.index)).unwrap();
        assert_eq!(s, 200, "entry {} of a receipt is gone", r.index);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["leaf_hash"].as_str().unwrap(),
            leaf_hash(&r.entry).to_hex(),
            "entry {} is not the one receipted",
            r.index
        );
    }
    let mut all: Vec<&Vec<u8>> = seen.iter().collect();
    all.extend(receipts.iter().map(|r| &r.checkpoint));
    let mut checked = std::collections::HashSet::new();
    for note in all {
        let (cp, _): (Checkpoint, _) =
            checkpoint::open_checkpoint(note, origin, &verifiers()).unwrap();
        if !checked.insert(cp.size) || cp.size > latest.size {
            assert!(
                cp.size <= latest.size,
                "a checkpoint of size {} beyond the log's {}",
                cp.size,
                latest.size
            );
            continue;
        }
        let (s, body) = get(
            &a,
            url,
            &format!(
                "/api/v1/proof/consistency?old={}&new={}",
                cp.size, latest.size
            ),
        )
        .unwrap();
        assert_eq!(s, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let proof: Vec<tallyboard_core::Hash> = v["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| tallyboard_core::Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        merkle::verify_consistency(cp.size, latest.size, &cp.root, &latest.root, &proof)
            .unwrap_or_else(|e| {
                panic!(
                    "checkpoint {} is not consistent with the log ({e}): a fork",
                    cp.size
                )
            });
    }
    latest.size
}

#[test]
fn boards_on_postgres_lose_nothing_fail_over_and_never_fork() {
    let cluster = Cluster::start();
    let setup = Setup::new();
    let origin = origin(&setup.e);
    let a = agent();

    // 1. Crash: SIGKILL and restart on the same database.
    let db = cluster.database("tb_crash");
    setup.init(&db);
    let mut b = setup.serve(&db);
    let url = b.wait_listening(Duration::from_secs(60));
    let receipts: Vec<Receipt> = (0..40)
        .map(|i| send(&a, &url, &setup.e.signed_tally(i), &origin).unwrap())
        .collect();
    b.sigkill();
    let t = Instant::now();
    let b = setup.serve(&db);
    let url = b.wait_listening(Duration::from_secs(60));
    let reads_after = t.elapsed();
    // While the killed writer's lease runs out the restarted board stands
    // by: it already serves every receipted entry, and refuses writes with
    // a retryable 503.
    let size = check_log(&url, &origin, &receipts, &[]);
    let (status, body) = submit(&a, &url, &setup.e.signed_tally(40)).unwrap();
    if status == 503 {
        assert!(String::from_utf8_lossy(&body).contains("board.standby"));
    }
    // Then it takes the lease and appends after what it had.
    let r = send_until(&a, &url, &setup.e.signed_tally(40), &origin);
    println!(
        "crash: serving reads {:.1} s after SIGKILL, taking writes after {:.1} s (the lease of a killed writer runs out first)",
        reads_after.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(r.index, size);
    // A duplicate answers with its original index.
    let again = send(&a, &url, &receipts[3].entry, &origin).unwrap();
    assert_eq!(again.index, receipts[3].index);
    drop(b);

    // 2. Failover under load: a writer and a standby on one database.
    let db = cluster.database("tb_failover");
    setup.init(&db);
    // Both boards push their checkpoints to the election's two witnesses
    // (the demo policy, keys/policy.txt, at these witnesses' addresses),
    // which cosign only a history consistent with what they cosigned.
    let witness = Witness::start(setup.dir.path(), "guardian");
    let observer = Witness::start(setup.dir.path(), "observer");
    let policy = setup.path("policy.txt");
    let demo = std::fs::read_to_string(repo().join("keys/policy.txt")).unwrap();
    std::fs::write(
        &policy,
        demo.replace("http://127.0.0.1:8081", &witness.url)
            .replace("http://127.0.0.1:8082", &observer.url),
    )
    .unwrap();
    let with_policy: [&std::ffi::OsStr; 2] = ["--witness-policy".as_ref(), policy.as_os_str()];
    let mut first = setup.serve_with(&db, &with_policy);
    let first_url = first.wait_listening(Duration::from_secs(60));
    let standby = setup.serve_with(&db, &with_policy);
    // The standby serves the log read-only and refuses writes with a
    // retryable 503 while the writer holds the lease.
    let standby_reads = standby.wait_listening(Duration::from_secs(60));
    let (status, body) = submit(&a, &standby_reads, &setup.e.signed_tally(41)).unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("board.standby"));
    // It follows what the writer commits.
    let r = send(&a, &first_url, &setup.e.signed_tally(199), &origin).unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = get(&a, &standby_reads, "/checkpoint").unwrap();
        let (cp, _) = checkpoint::open_checkpoint(&body, &origin, &verifiers()).unwrap();
        if cp.size > r.index {
            break;
        }
        assert!(
            Instant::now() < until,
            "the standby does not follow the writer"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    check_log(&standby_reads, &origin, std::slice::from_ref(&r), &[]);
    let receipts = Arc::new(Mutex::new(Vec::<(Receipt, String)>::new()));
    let seen = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let next = Arc::new(AtomicUsize::new(41));
    let stop = Arc::new(AtomicBool::new(false));
    let killed_at = Arc::new(Mutex::new(None::<Instant>));
    let first_after = Arc::new(Mutex::new(None::<Duration>));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (receipts, seen, next, stop) =
                (receipts.clone(), seen.clone(), next.clone(), stop.clone());
            let (killed_at, first_after) = (killed_at.clone(), first_after.clone());
            let (e, origin, first_url) = (setup.e.clone(), origin.clone(), first_url.clone());
            let standby_url = standby.url.clone();
            std::thread::spawn(move || {
                let a = agent();
                while !stop.load(Ordering::Acquire) {
                    let i = next.fetch_add(1, Ordering::AcqRel);
                    if i >= STATIONS {
                        break;
                    }
                    let bytes = e.signed_tally(i);
                    // The station's client: each board in turn until one
                    // gives a receipt (what `submit --url A --url B` does).
                    loop {
                        let mut urls = vec![first_url.clone()];
                        urls.extend(standby_url.lock().unwrap().clone());
                        let got = urls.iter().find_map(|u| {
                            send(&a, u, &bytes, &origin).ok().map(|r| (r, u.clone()))
                        });
                        if let Some((r, u)) = got {
                            if u != first_url {
                                if let Some(k) = *killed_at.lock().unwrap() {
                                    first_after.lock().unwrap().get_or_insert(k.elapsed());
                                }
                            }
                            seen.lock().unwrap().push(r.checkpoint.clone());
                            receipts.lock().unwrap().push((r, u));
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })
        })
        .collect();
    // Let some tallies through the writer, then kill it.
    let until = Instant::now() + Duration::from_secs(60);
    while receipts.lock().unwrap().len() < 30 {
        assert!(Instant::now() < until, "no receipts from the writer");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.sigkill();
    *killed_at.lock().unwrap() = Some(Instant::now());
    let standby_url = standby.wait_listening(Duration::from_secs(60));
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Release);
    let receipts = receipts.lock().unwrap().clone();
    let by_standby = receipts.iter().filter(|(_, u)| *u == standby_url).count();
    let rs: Vec<Receipt> = receipts.into_iter().map(|(r, _)| r).collect();
    // The witness saw one history: its cosigned checkpoint is consistent
    // with the log, and it kept no evidence of a fork or a rollback.
    let (s, cosigned) = get(
        &a,
        &witness.url,
        &format!(
            "/{}/checkpoint",
            tallyboard_core::Hash::sha256(origin.as_bytes()).to_hex()
        ),
    )
    .unwrap();
    assert_eq!(s, 200, "the witness cosigned nothing");
    seen.lock().unwrap().push(cosigned.clone());
    let size = check_log(&standby_url, &origin, &rs, &seen.lock().unwrap());
    let (wcp, _) = checkpoint::open_checkpoint(&cosigned, &origin, &verifiers()).unwrap();
    let evidence: usize = [&witness, &observer]
        .iter()
        .map(|w| {
            std::fs::read_dir(w.data.join("evidence"))
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(evidence, 0, "a witness kept evidence of a fork or rollback");
    println!(
        "failover: the witness cosigned up to size {} of {size}, one history",
        wcp.size
    );
    println!(
        "failover: {} receipts ({} from the standby), 0 lost, 0 forks; the standby's first receipt {:.2} s after SIGKILL of the writer; log size {size}",
        rs.len(),
        by_standby,
        first_after.lock().unwrap().map_or(f64::NAN, |d| d.as_secs_f64())
    );
    assert!(by_standby > 0, "the standby took no submissions");
    drop(standby);

    // 3. Fencing: a writer paused past its lease cannot write when it wakes.
    let db = cluster.database("tb_fencing");
    setup.init(&db);
    let paused = setup.serve(&db);
    let paused_url = paused.wait_listening(Duration::from_secs(60));
    let before = send(&a, &paused_url, &setup.e.signed_tally(0), &origin).unwrap();
    paused.signal("-STOP");
    let standby = setup.serve(&db);
    let standby_url = standby.wait_listening(Duration::from_secs(60));
    let taken = send_until(&a, &standby_url, &setup.e.signed_tally(1), &origin);
    assert_eq!(taken.index, before.index + 1);
    paused.signal("-CONT");
    // Woken up, the old writer refuses to append (its commit is fenced).
    for i in 2..5 {
        let r = send(&a, &paused_url, &setup.e.signed_tally(i), &origin);
        assert!(r.is_err(), "a fenced board appended tally {i}");
    }
    let r = send(&a, &standby_url, &setup.e.signed_tally(5), &origin).unwrap();
    assert_eq!(
        r.index,
        taken.index + 1,
        "the fenced board's attempts left no trace"
    );
    check_log(&standby_url, &origin, &[before, taken, r], &[]);
    drop(paused);
    drop(standby);
}

/// A free TCP port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A board kept running as a supervisor would (systemd `Restart=always`):
/// started again on the same port whenever it exits, as a board on a
/// shared store does when it steps down (spec/storage.md §8.3).
struct Supervised {
    url: String,
    stop: Arc<AtomicBool>,
    child: Arc<Mutex<Option<Child>>>,
    restarts: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Supervised {
    fn start(setup: &Setup, db: &str) -> Supervised {
        let port = free_port();
        let (stop, child, restarts) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(Mutex::new(None::<Child>)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (s, c, r) = (stop.clone(), child.clone(), restarts.clone());
        let (db, key) = (db.to_owned(), setup.path("log.key"));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Acquire) {
                let spawned = Command::new(BIN)
                    .args([
                        "serve",
                        "--listen",
                        &format!("127.0.0.1:{port}"),
                        "--data",
                        &db,
                        "--log-key",
                    ])
                    .arg(&key)
                    .env("TALLYBOARD_LOG", "error")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn serve");
                *c.lock().unwrap() = Some(spawned);
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                    let mut g = c.lock().unwrap();
                    let Some(ch) = g.as_mut() else { break };
                    if s.load(Ordering::Acquire) {
                        let _ = ch.kill();
                        let _ = ch.wait();
                        return;
                    }
                    if ch.try_wait().unwrap().is_some() {
                        *g = None;
                        break;
                    }
                }
                r.fetch_add(1, Ordering::AcqRel);
            }
        });
        Supervised {
            url: format!("http://127.0.0.1:{port}"),
            stop,
            child,
            restarts,
            thread: Some(thread),
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn cluster_cmd(args: &[&std::ffi::OsStr]) -> String {
    // Only starts may install PostgreSQL; a kill must not wait for them.
    let starts = matches!(
        args.first().and_then(|a| a.to_str()),
        Some("start" | "standby")
    );
    let _one_at_a_time = starts.then(|| STARTING.lock().unwrap_or_else(|p| p.into_inner()));
    let out = Command::new("bash")
        .arg(repo().join("scripts/pg-cluster.sh"))
        .args(args)
        .output()
        .expect("run scripts/pg-cluster.sh");
    assert!(
        out.status.success(),
        "pg-cluster.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The database fails over (spec/storage.md §8.4): a primary PostgreSQL
/// with a synchronous streaming standby, two boards on a URL naming both
/// (`target_session_attrs=read-write`), eight stations submitting; the
/// primary is killed with SIGKILL and the standby promoted. The writing
/// board steps down, a board takes the lease on the new primary, and every
/// receipt issued before the kill is in the log, every checkpoint seen
/// consistent with it.
#[test]
fn the_database_fails_over_under_load_and_nothing_acknowledged_is_lost() {
    // Clusters of its own (a primary and its standby), whatever
    // TALLYBOARD_TEST_PG says.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (pdir, sdir) = (dir.path().join("primary"), dir.path().join("standby"));
    let primary = cluster_cmd(&["start".as_ref(), pdir.as_os_str()]);
    let standby = cluster_cmd(&["standby".as_ref(), pdir.as_os_str(), sdir.as_os_str()]);
    struct Stop(Vec<PathBuf>);
    impl Drop for Stop {
        fn drop(&mut self) {
            for d in &self.0 {
                let _ = Command::new("bash")
                    .arg(repo().join("scripts/pg-cluster.sh"))
                    .arg("stop")
                    .arg(d)
                    .output();
            }
        }
    }
    let _stop = Stop(vec![pdir.clone(), sdir.clone()]);
    let hostport = |u: &str| {
        u.trim_start_matches("postgres://tallyboard@")
            .split('/')
            .next()
            .unwrap()
            .to_owned()
    };
    let db = format!(
        "postgres://tallyboard@{},{}/tallyboard?target_session_attrs=read-write",
        hostport(&primary),
        hostport(&standby)
    );
    let setup = Setup::new();
    let origin = origin(&setup.e);
    setup.init(&db);
    let boards = [
        Supervised::start(&setup, &db),
        Supervised::start(&setup, &db),
    ];
    let urls: Vec<String> = boards.iter().map(|b| b.url.clone()).collect();

    let receipts = Arc::new(Mutex::new(Vec::<(Receipt, Instant)>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (receipts, next, urls) = (receipts.clone(), next.clone(), urls.clone());
            let (e, origin) = (setup.e.clone(), origin.clone());
            std::thread::spawn(move || {
                let a = agent();
                let give_up = Instant::now() + Duration::from_secs(240);
                loop {
                    let i = next.fetch_add(1, Ordering::AcqRel);
                    if i >= STATIONS {
                        return;
                    }
                    let bytes = e.signed_tally(i);
                    loop {
                        assert!(Instant::now() < give_up, "tally {i} never got a receipt");
                        if let Some(r) = urls.iter().find_map(|u| send(&a, u, &bytes, &origin).ok())
                        {
                            receipts.lock().unwrap().push((r, Instant::now()));
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            })
        })
        .collect();
    let until = Instant::now() + Duration::from_secs(120);
    while receipts.lock().unwrap().len() < 40 {
        assert!(
            Instant::now() < until,
            "no receipts before the database failover"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The primary's machine dies; an operator (or Patroni) promotes the
    // standby a second later.
    cluster_cmd(&["kill".as_ref(), pdir.as_os_str()]);
    let killed = Instant::now();
    let before: Vec<Receipt> = receipts
        .lock()
        .unwrap()
        .iter()
        .map(|(r, _)| r.clone())
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    cluster_cmd(&["promote".as_ref(), sdir.as_os_str()]);
    for w in workers {
        w.join().unwrap();
    }
    let all: Vec<(Receipt, Instant)> = receipts.lock().unwrap().clone();
    let first_after = all
        .iter()
        .filter(|(_, t)| *t > killed)
        .map(|(_, t)| t.duration_since(killed))
        .min();
    // Whichever board writes now holds the whole log.
    let a = agent();
    // The writer is the board with the longest log (the other stands by,
    // up to a step behind).
    let size_at = |u: &String| -> Option<u64> {
        let (s, body) = get(&a, u, "/checkpoint").ok()?;
        (s == 200).then_some(())?;
        checkpoint::open_checkpoint(&body, &origin, &verifiers())
            .ok()
            .map(|(cp, _)| cp.size)
    };
    let writer = urls
        .iter()
        .filter(|u| size_at(u).is_some())
        .max_by_key(|u| size_at(u))
        .expect("a board serves after the failover")
        .clone();
    assert!(
        before.len() < all.len(),
        "every tally was receipted before the primary died: nothing was tested under failover"
    );
    let rs: Vec<Receipt> = all.iter().map(|(r, _)| r.clone()).collect();
    let size = check_log(&writer, &origin, &rs, &[]);
    check_log(&writer, &origin, &before, &[]);
    println!(
        "database failover: {} receipts ({} before the primary's SIGKILL), 0 lost, 0 forks; first receipt {:.2} s after the kill (standby promoted at 1 s); board restarts {}; log size {size}",
        rs.len(),
        before.len(),
        first_after.map_or(f64::NAN, |d| d.as_secs_f64()),
        boards.iter().map(|b| b.restarts.load(Ordering::Acquire)).sum::<usize>()
    );
}
