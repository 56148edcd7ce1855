//! Crash safety of `tallyboard serve` (spec/operations.md §1).
//!
//! The real binary serves a 300-station synthetic election while submitter
//! threads post signed tallies and revisions and reader threads poll the
//! checkpoint. At a random moment (deterministic seed, printed) the board
//! is killed with SIGKILL, restarted on the same data directory, and, with
//! the clients paused, checked:
//!
//! * every entry for which a receipt was returned is in the log at the
//!   receipt's index (read back through the tlog-tiles entry bundles, and a
//!   sample through `GET /api/v1/entries/<i>`);
//! * every checkpoint ever seen (from `/checkpoint` or in a receipt) is
//!   consistent with the new one: a consistency proof from
//!   `/api/v1/proof/consistency`, checked with `merkle::verify_consistency`,
//!   and its root recomputed from the entries read back;
//! * the log holds no entry twice, and its root is the new checkpoint's;
//! * acknowledged entries resubmitted are answered as duplicates with their
//!   index (sample), and after the restart the clients carry on: the
//!   submission that was in flight at the kill is sent again and must be
//!   appended (201) or, if it became durable before the kill, answered as
//!   a duplicate with its index (200); any other refusal fails the test.
//!
//! `TALLYBOARD_CRASH_CYCLES` sets the number of kills (default 4; CI's
//! `.ci/harden` uses 6, the long run 20 or more), `TALLYBOARD_CRASH_SEED`
//! the seed. Run with `--nocapture` to see the per-cycle log and the figures.

#[path = "crash/board.rs"]
mod board;

use board::{agent, get, submit, Answer, BoardDir, Process};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle::{self, MemoryLog};
use tallyboard_core::note::Verifiers;
use tallyboard_core::tile::{self, TilePath, TILE_WIDTH};
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_core::Hash;
use tallyboard_synth::{keys, Config, SyntheticElection};

const STATIONS: usize = 300;
const SUBMITTERS: usize = 6;
const READERS: usize = 2;
/// Longest run between restart and kill.
const MAX_RUN_MS: u64 = 1200;

/// splitmix64: a deterministic source for kill moments and samples.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// A receipt returned to a submitter.
struct Receipt {
    index: u64,
    bytes: Arc<Vec<u8>>,
}

/// Where the board is, as the clients see it.
#[derive(Default)]
struct Ctl {
    /// The running board's URL (None while it is down).
    url: Option<String>,
    /// Incremented at every (re)start.
    epoch: u64,
    /// Clients waiting for the board.
    parked: usize,
    stop: bool,
}

#[derive(Default)]
struct Counters {
    appended: AtomicU64,
    /// In flight at a kill, sent again, answered 200 with its index.
    recovered_duplicates: AtomicU64,
    /// In flight at a kill, sent again, appended (it had not become durable).
    resent_appended: AtomicU64,
    retried_429: AtomicU64,
    transport_errors: AtomicU64,
    checkpoint_reads: AtomicU64,
}

struct Shared {
    ctl: Mutex<Ctl>,
    cv: Condvar,
    receipts: Mutex<Vec<Receipt>>,
    /// Every checkpoint seen: size → root.
    checkpoints: Mutex<BTreeMap<u64, Hash>>,
    failures: Mutex<Vec<String>>,
    counters: Counters,
    origin: String,
    verifiers: Verifiers,
}

impl Shared {
    fn fail(&self, msg: String) {
        eprintln!("FAILURE: {msg}");
        self.failures.lock().unwrap().push(msg);
    }

    /// The running board's URL and epoch; waits while it is down.
    fn current(&self) -> Option<(String, u64)> {
        let mut c = self.ctl.lock().unwrap();
        loop {
            if c.stop {
                return None;
            }
            if let Some(u) = &c.url {
                return Some((u.clone(), c.epoch));
            }
            c.parked += 1;
            self.cv.notify_all();
            c = self.cv.wait(c).unwrap();
            c.parked -= 1;
        }
    }

    /// After a transport failure: waits for a board of a later epoch.
    fn await_restart(&self, epoch: u64) -> bool {
        let mut c = self.ctl.lock().unwrap();
        c.parked += 1;
        self.cv.notify_all();
        let restarted = |c: &Ctl| c.url.is_some() && c.epoch > epoch;
        while !c.stop && !restarted(&c) {
            c = self.cv.wait(c).unwrap();
        }
        c.parked -= 1;
        !c.stop
    }

    fn record_checkpoint(&self, cp: &Checkpoint) {
        let mut m = self.checkpoints.lock().unwrap();
        if let Some(prev) = m.insert(cp.size, cp.root) {
            if prev != cp.root {
                drop(m);
                self.fail(format!(
                    "two checkpoints of size {} with roots {prev} and {}",
                    cp.size, cp.root
                ));
            }
        }
    }

    fn open_checkpoint(&self, bytes: &[u8]) -> Result<Checkpoint, String> {
        checkpoint::open_checkpoint(bytes, &self.origin, &self.verifiers)
            .map(|(cp, _)| cp)
            .map_err(|e| format!("checkpoint does not verify: {e}"))
    }

    /// Checks a receipt offline and records it and its checkpoint.
    fn accept_receipt(&self, bytes: &Arc<Vec<u8>>, body: &[u8]) -> Result<u64, String> {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("receipt is not JSON: {e}"))?;
        let index = v["index"].as_u64().ok_or("receipt has no index")?;
        let text = v["receipt"].as_str().ok_or("receipt has no tlog-proof")?;
        let proof = TlogProof::parse(text.as_bytes()).map_err(|e| format!("tlog-proof: {e}"))?;
        let cp = proof
            .verify(bytes, &self.origin, &self.verifiers)
            .map_err(|e| format!("tlog-proof does not verify: {e}"))?;
        if proof.index != index || v["leaf_hash"].as_str() != Some(&leaf_hash(bytes).to_hex()) {
            return Err(format!("receipt fields disagree with its tlog-proof: {v}"));
        }
        self.record_checkpoint(&cp);
        self.receipts.lock().unwrap().push(Receipt {
            index,
            bytes: bytes.clone(),
        });
        Ok(index)
    }
}

/// One station's chain of tallies: revision 1, then 2, 3, … each
/// superseding the previous one's leaf.
struct Chain {
    station: usize,
    next_revision: u32,
    previous: Option<Hash>,
}

impl Chain {
    fn entry(&self, e: &SyntheticElection) -> Vec<u8> {
        match self.previous {
            None => e.signed_tally(self.station),
            Some(prev) => e.signed_revision(self.station, self.next_revision, prev),
        }
    }
}

fn submitter(sh: Arc<Shared>, e: Arc<SyntheticElection>, me: usize) {
    let agent = agent();
    let mut chains: Vec<Chain> = (me..STATIONS)
        .step_by(SUBMITTERS)
        .map(|station| Chain {
            station,
            next_revision: 1,
            previous: None,
        })
        .collect();
    let mut turn = 0usize;
    // The entry being submitted and whether an earlier attempt's answer was
    // lost to a kill (so the board may already hold it).
    let mut pending: Option<(Arc<Vec<u8>>, bool)> = None;
    while let Some((url, epoch)) = sh.current() {
        if chains.is_empty() {
            return;
        }
        let c = turn % chains.len();
        let (bytes, uncertain) = pending
            .take()
            .unwrap_or_else(|| (Arc::new(chains[c].entry(&e)), false));
        let answer: Answer = submit(&agent, &url, &bytes);
        let (status, body) = match answer {
            Ok(a) => a,
            Err(_) => {
                sh.counters.transport_errors.fetch_add(1, Ordering::Relaxed);
                pending = Some((bytes, true));
                if !sh.await_restart(epoch) {
                    return;
                }
                continue;
            }
        };
        match status {
            201 => {
                if uncertain {
                    sh.counters.resent_appended.fetch_add(1, Ordering::Relaxed);
                }
                sh.counters.appended.fetch_add(1, Ordering::Relaxed);
            }
            200 if uncertain => {
                sh.counters
                    .recovered_duplicates
                    .fetch_add(1, Ordering::Relaxed);
            }
            429 => {
                sh.counters.retried_429.fetch_add(1, Ordering::Relaxed);
                pending = Some((bytes, uncertain));
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            _ => {
                sh.fail(format!(
                    "station {} revision {}: refused with {status}: {}",
                    chains[c].station,
                    chains[c].next_revision,
                    String::from_utf8_lossy(&body)
                ));
                chains.remove(c);
                continue;
            }
        }
        if let Err(m) = sh.accept_receipt(&bytes, &body) {
            sh.fail(format!("station {}: {m}", chains[c].station));
        }
        chains[c].previous = Some(leaf_hash(&bytes));
        chains[c].next_revision += 1;
        turn += 1;
    }
}

fn reader(sh: Arc<Shared>) {
    let agent = agent();
    while let Some((url, epoch)) = sh.current() {
        match get(&agent, &url, "/checkpoint") {
            Ok((200, body)) => match sh.open_checkpoint(&body) {
                Ok(cp) => {
                    sh.record_checkpoint(&cp);
                    sh.counters.checkpoint_reads.fetch_add(1, Ordering::Relaxed);
                }
                Err(m) => sh.fail(m),
            },
            Ok((s, body)) => sh.fail(format!(
                "GET /checkpoint: {s} {}",
                String::from_utf8_lossy(&body)
            )),
            Err(_) => {
                if !sh.await_restart(epoch) {
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

/// What one post-restart check saw.
#[derive(Default)]
struct Checked {
    size: u64,
    receipts: u64,
    lost: u64,
    checkpoints: u64,
}

fn must_get(agent: &ureq::Agent, url: &str, path: &str) -> Vec<u8> {
    match get(agent, url, path) {
        Ok((200, body)) => body,
        other => panic!(
            "GET {path}: {:?}",
            other.map(|(s, b)| (s, String::from_utf8_lossy(&b).into_owned()))
        ),
    }
}

/// Reads the whole log back through the entry bundles.
fn read_log(agent: &ureq::Agent, url: &str, size: u64) -> Vec<Vec<u8>> {
    let mut entries = Vec::with_capacity(size as usize);
    let w = u64::from(TILE_WIDTH);
    for n in 0..size.div_ceil(w) {
        let width = (size - n * w).min(w) as u16;
        let path = TilePath::Entries { index: n, width }.to_path();
        let body = must_get(agent, url, &format!("/{path}"));
        let bundle = tile::decode_entry_bundle(&body).expect("entry bundle decodes");
        assert_eq!(bundle.len(), usize::from(width), "{path}");
        entries.extend(bundle.into_iter().map(<[u8]>::to_vec));
    }
    entries
}

/// The checks after a restart, with every client paused.
fn check(sh: &Shared, p: &Process, rng: &mut Rng) -> Checked {
    let agent = agent();
    let url = &p.url;
    let cp = sh
        .open_checkpoint(&must_get(&agent, url, "/checkpoint"))
        .expect("the restarted board's checkpoint verifies");
    sh.record_checkpoint(&cp);
    let mut out = Checked {
        size: cp.size,
        ..Checked::default()
    };

    // The log, read back, hashes to the checkpoint and holds nothing twice.
    let entries = read_log(&agent, url, cp.size);
    let mut log = MemoryLog::new();
    let mut seen = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        log.append_entry(e).expect("append");
        if !seen.insert(leaf_hash(e)) {
            sh.fail(format!("entry {i} is logged twice"));
        }
    }
    assert_eq!(log.root(), cp.root, "the entries do not hash to the root");

    // Every receipt's entry is at its index.
    let receipts: Vec<(u64, Arc<Vec<u8>>)> = sh
        .receipts
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.index, r.bytes.clone()))
        .collect();
    for (index, bytes) in &receipts {
        out.receipts += 1;
        if entries.get(*index as usize).map(Vec::as_slice) != Some(bytes.as_slice()) {
            out.lost += 1;
            sh.fail(format!(
                "receipted entry {index} is not in the restarted log of size {}",
                cp.size
            ));
        }
    }
    // A sample through the JSON API, and resubmissions answered as duplicates.
    for _ in 0..receipts.len().min(10) {
        let (index, bytes) = &receipts[rng.below(receipts.len() as u64) as usize];
        let v: serde_json::Value =
            serde_json::from_slice(&must_get(&agent, url, &format!("/api/v1/entries/{index}")))
                .expect("entry JSON");
        if v["note"].as_str().map(str::as_bytes) != Some(bytes.as_slice()) {
            sh.fail(format!(
                "GET /api/v1/entries/{index} is not the receipted entry"
            ));
        }
        match submit(&agent, url, bytes) {
            Ok((200, body)) => {
                let v: serde_json::Value = serde_json::from_slice(&body).expect("receipt JSON");
                if v["index"].as_u64() != Some(*index) || v["duplicate"] != true {
                    sh.fail(format!("resubmitting entry {index} answered {v}"));
                }
            }
            other => sh.fail(format!(
                "resubmitting entry {index}: {:?}",
                other.map(|(s, b)| (s, String::from_utf8_lossy(&b).into_owned()))
            )),
        }
    }

    // Every checkpoint ever seen is consistent with the new one.
    let checkpoints: Vec<(u64, Hash)> = sh
        .checkpoints
        .lock()
        .unwrap()
        .iter()
        .map(|(s, r)| (*s, *r))
        .collect();
    for (size, root) in checkpoints {
        out.checkpoints += 1;
        if size > cp.size {
            sh.fail(format!(
                "checkpoint of size {size} was published, but the restarted log has {}",
                cp.size
            ));
            continue;
        }
        let local = merkle::tree_hash(size, &log).expect("tree hash");
        if local != root {
            sh.fail(format!(
                "checkpoint {size}: root {root}, the log says {local}"
            ));
        }
        let body = must_get(
            &agent,
            url,
            &format!("/api/v1/proof/consistency?old={size}&new={}", cp.size),
        );
        let v: serde_json::Value = serde_json::from_slice(&body).expect("proof JSON");
        let proof: Vec<Hash> = v["proof"]
            .as_array()
            .expect("proof array")
            .iter()
            .map(|h| Hash::from_hex(h.as_str().unwrap_or("")).expect("hex hash"))
            .collect();
        if let Err(e) = merkle::verify_consistency(size, cp.size, &root, &cp.root, &proof) {
            sh.fail(format!(
                "checkpoint {size} is not consistent with {}: {e}",
                cp.size
            ));
        }
    }
    out
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_entry() {
    let cycles = env_u64("TALLYBOARD_CRASH_CYCLES", 4);
    let seed = env_u64("TALLYBOARD_CRASH_SEED", 8_1404);
    eprintln!("crash test: {cycles} cycles, seed {seed} (TALLYBOARD_CRASH_SEED), {STATIONS} stations, {SUBMITTERS} submitters, {READERS} readers");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let e = Arc::new(SyntheticElection::generate(Config {
        seed: 1404,
        stations: STATIONS,
        majlis: false,
    }));
    let dir = BoardDir::create(&e);
    let mut verifiers = Verifiers::new();
    verifiers.add(keys::role_key("log").unwrap().verifier());
    let sh = Arc::new(Shared {
        ctl: Mutex::new(Ctl::default()),
        cv: Condvar::new(),
        receipts: Mutex::new(Vec::new()),
        checkpoints: Mutex::new(BTreeMap::new()),
        failures: Mutex::new(Vec::new()),
        counters: Counters::default(),
        origin: keys::role_name("log").unwrap().to_owned(),
        verifiers,
    });
    let mut threads = Vec::new();
    for me in 0..SUBMITTERS {
        let (sh, e) = (sh.clone(), e.clone());
        threads.push(std::thread::spawn(move || submitter(sh, e, me)));
    }
    for _ in 0..READERS {
        let sh = sh.clone();
        threads.push(std::thread::spawn(move || reader(sh)));
    }
    let clients = SUBMITTERS + READERS;

    let mut totals = Checked::default();
    let mut proc = dir.spawn();
    for cycle in 1..=cycles {
        // Let the clients run, then SIGKILL the board mid-flight.
        let run_ms = rng.below(MAX_RUN_MS + 1);
        {
            let mut c = sh.ctl.lock().unwrap();
            c.url = Some(proc.url.clone());
            c.epoch += 1;
            sh.cv.notify_all();
        }
        std::thread::sleep(Duration::from_millis(run_ms));
        let before = sh.receipts.lock().unwrap().len();
        proc.sigkill();
        {
            let mut c = sh.ctl.lock().unwrap();
            c.url = None;
            while c.parked < clients {
                c = sh.cv.wait(c).unwrap();
            }
        }
        // Restart and check, with every client paused.
        let t = Instant::now();
        proc = dir.spawn();
        let restart_ms = t.elapsed().as_millis();
        let c = check(&sh, &proc, &mut rng);
        eprintln!(
            "cycle {cycle}: killed after {run_ms} ms ({before} receipts so far); restarted in {restart_ms} ms at size {}; {} receipts and {} checkpoints checked, {} lost",
            c.size, c.receipts, c.checkpoints, c.lost
        );
        totals.receipts += c.receipts;
        totals.checkpoints += c.checkpoints;
        totals.lost += c.lost;
        totals.size = c.size;
    }
    // A last run so that entries in flight at the last kill are resent.
    {
        let mut c = sh.ctl.lock().unwrap();
        c.url = Some(proc.url.clone());
        c.epoch += 1;
        sh.cv.notify_all();
    }
    std::thread::sleep(Duration::from_millis(300));
    {
        let mut c = sh.ctl.lock().unwrap();
        c.stop = true;
        sh.cv.notify_all();
    }
    for t in threads {
        t.join().expect("client thread");
    }
    let last = check(&sh, &proc, &mut rng);
    totals.receipts += last.receipts;
    totals.checkpoints += last.checkpoints;
    totals.lost += last.lost;
    drop(proc);

    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let k = &sh.counters;
    let distinct = sh.receipts.lock().unwrap().len();
    println!(
        "crash-summary cycles={cycles} seed={seed} receipts={distinct} receipt-checks={} checkpoints-checked={} entries-lost={} final-size={} appended={} resent-recovered-as-duplicate={} resent-appended={} retried-429={} transport-errors={} checkpoint-reads={} secs={:.1}",
        totals.receipts,
        totals.checkpoints,
        totals.lost,
        last.size,
        n(&k.appended),
        n(&k.recovered_duplicates),
        n(&k.resent_appended),
        n(&k.retried_429),
        n(&k.transport_errors),
        n(&k.checkpoint_reads),
        started.elapsed().as_secs_f64()
    );
    let failures = sh.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        *failures
    );
    assert_eq!(totals.lost, 0);
    assert!(distinct > 0, "no submission was acknowledged");
    // Every entry acknowledged was counted once (no index given twice).
    let mut by_index = HashMap::new();
    for r in sh.receipts.lock().unwrap().iter() {
        if let Some(prev) = by_index.insert(r.index, r.bytes.clone()) {
            assert_eq!(prev, r.bytes, "index {} receipted for two entries", r.index);
        }
    }
}
