//! `tallyboard loadtest`: a bounded load test against a running board
//! (loopback; spec/operations.md §4).
//!
//! The board must serve the synthetic election of `--stations`/`--seed`
//! (`tallyboard synth` or `tallyboard init` with its manifest); if its log
//! is empty the load test first logs the manifest commitment and every
//! station's key registration. Then, for `--duration`:
//!
//! * `--submitters` threads post signed tallies and revisions (each owns a
//!   set of stations and walks each one's chain: revision 1, 2, 3, …),
//!   retrying 429s after `Retry-After` (capped at 200 ms so the queue stays
//!   under pressure); every receipt is parsed and the first of each thread
//!   verified offline;
//! * `--readers` threads read inclusion proofs (checked against the root in
//!   the answer), hash tiles and entry bundles of the current tree.
//!
//! Any answer other than 2xx, or 429 on a submission, is an error. Prints a
//! Markdown table (latency percentiles, throughput, the server's RSS if
//! `--pid` is given) and fails if there was any error.

use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle;
use tallyboard_core::note::Verifiers;
use tallyboard_core::tile::{TileId, TilePath, TILE_WIDTH};
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_core::Hash;
use tallyboard_synth::{Config, SyntheticElection};

/// What to run.
pub struct Options {
    /// The board's base URL.
    pub url: String,
    /// How long the timed phase lasts.
    pub duration: Duration,
    /// Submitting threads.
    pub submitters: usize,
    /// Reading threads.
    pub readers: usize,
    /// Stations of the synthetic election the board serves.
    pub stations: usize,
    /// Its seed.
    pub seed: u64,
    /// The server's process id, to report its RSS.
    pub pid: Option<u32>,
}

/// Parses `20s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 20s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} (ms, s, m, h)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{s:?} is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Resident set size of a process, in MiB (`VmRSS` of /proc/<pid>/status).
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// An HTTP answer; `Err` only for transport failures.
struct Answer {
    status: u16,
    body: Vec<u8>,
    retry_after: Option<u64>,
}

fn finish(r: Result<ureq::Response, ureq::Error>) -> Result<Answer, String> {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let retry_after = resp.header("retry-after").and_then(|v| v.parse().ok());
    let mut body = Vec::new();
    resp.into_reader()
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        body,
        retry_after,
    })
}

#[derive(Default)]
struct Stats {
    submit_ms: Vec<f64>,
    proof_ms: Vec<f64>,
    tile_ms: Vec<f64>,
    appended: u64,
    duplicates: u64,
    retried_429: u64,
    reads: u64,
    errors: Vec<String>,
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.submit_ms.extend(o.submit_ms);
        self.proof_ms.extend(o.proof_ms);
        self.tile_ms.extend(o.tile_ms);
        self.appended += o.appended;
        self.duplicates += o.duplicates;
        self.retried_429 += o.retried_429;
        self.reads += o.reads;
        self.errors.extend(o.errors);
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn latency_row(name: &str, v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    format!(
        "| {name} latency p50 / p99 / max | {:.1} / {:.1} / {:.1} ms ({} requests) |",
        percentile(v, 0.5),
        percentile(v, 0.99),
        v.last().copied().unwrap_or(f64::NAN),
        v.len()
    )
}

struct Ctx {
    url: String,
    agent: ureq::Agent,
    e: SyntheticElection,
    origin: String,
    verifiers: Verifiers,
    stop: AtomicBool,
    size: AtomicU64,
}

impl Ctx {
    fn submit(&self, bytes: &[u8]) -> Result<Answer, String> {
        finish(
            self.agent
                .post(&format!("{}/api/v1/entries", self.url))
                .set("Content-Type", "text/plain")
                .send_bytes(bytes),
        )
    }

    fn get(&self, path: &str) -> Result<Answer, String> {
        finish(self.agent.get(&format!("{}{path}", self.url)).call())
    }

    /// Submits until appended or known (retrying 429s); returns the status.
    fn submit_retrying(&self, bytes: &[u8], stats: &mut Stats) -> Result<Answer, String> {
        loop {
            let t = Instant::now();
            let a = self.submit(bytes)?;
            stats.submit_ms.push(t.elapsed().as_secs_f64() * 1e3);
            if a.status != 429 {
                return Ok(a);
            }
            stats.retried_429 += 1;
            let wait =
                Duration::from_secs(a.retry_after.unwrap_or(1)).min(Duration::from_millis(200));
            std::thread::sleep(wait);
        }
    }
}

fn submitter(ctx: &Ctx, me: usize, n: usize) -> Stats {
    let mut stats = Stats::default();
    let stations: Vec<usize> = (me..ctx.e.station_count()).step_by(n).collect();
    if stations.is_empty() {
        return stats;
    }
    // Per station: the next revision and the previous revision's leaf.
    let mut chains: Vec<(u32, Option<Hash>)> = vec![(1, None); stations.len()];
    let mut turn = 0usize;
    let mut verified_one = false;
    while !ctx.stop.load(Ordering::Relaxed) {
        let k = turn % stations.len();
        let (rev, prev) = chains[k];
        let bytes = match prev {
            None => ctx.e.signed_tally(stations[k]),
            Some(p) => ctx.e.signed_revision(stations[k], rev, p),
        };
        match ctx.submit_retrying(&bytes, &mut stats) {
            Ok(a) if a.status == 201 || a.status == 200 => {
                if a.status == 201 {
                    stats.appended += 1;
                } else {
                    stats.duplicates += 1;
                }
                if let Err(m) = check_receipt(ctx, &bytes, &a.body, !verified_one) {
                    stats.errors.push(m);
                }
                verified_one = true;
                chains[k] = (rev + 1, Some(leaf_hash(&bytes)));
                turn += 1;
            }
            Ok(a) => {
                stats.errors.push(format!(
                    "submission refused with {}: {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                ));
                turn += 1;
            }
            Err(e) => {
                stats
                    .errors
                    .push(format!("submission transport error: {e}"));
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    stats
}

fn check_receipt(ctx: &Ctx, bytes: &[u8], body: &[u8], verify: bool) -> Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("receipt is not JSON: {e}"))?;
    let text = v["receipt"].as_str().ok_or("receipt without tlog-proof")?;
    let proof = TlogProof::parse(text.as_bytes()).map_err(|e| format!("receipt: {e}"))?;
    if verify {
        proof
            .verify(bytes, &ctx.origin, &ctx.verifiers)
            .map_err(|e| format!("receipt does not verify: {e}"))?;
    }
    let size = v["checkpoint_size"].as_u64().unwrap_or(0);
    ctx.size.fetch_max(size, Ordering::Relaxed);
    Ok(())
}

fn reader(ctx: &Ctx, seed: u64) -> Stats {
    let mut stats = Stats::default();
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    while !ctx.stop.load(Ordering::Relaxed) {
        let size = ctx.size.load(Ordering::Relaxed);
        if size == 0 {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let r = next();
        let (path, is_proof) = match r % 3 {
            0 => (
                format!(
                    "/api/v1/proof/inclusion?index={}&size={size}",
                    next() % size
                ),
                true,
            ),
            1 => {
                // A level-0 hash tile of the tree of `size` (full or partial).
                let n = (next() % size) / u64::from(TILE_WIDTH);
                let width = (size - n * u64::from(TILE_WIDTH)).min(u64::from(TILE_WIDTH)) as u16;
                let t = TilePath::Hashes(TileId {
                    level: 0,
                    index: n,
                    width,
                });
                (format!("/{}", t.to_path()), false)
            }
            _ => {
                let n = (next() % size) / u64::from(TILE_WIDTH);
                let width = (size - n * u64::from(TILE_WIDTH)).min(u64::from(TILE_WIDTH)) as u16;
                let t = TilePath::Entries { index: n, width };
                (format!("/{}", t.to_path()), false)
            }
        };
        let t = Instant::now();
        match ctx.get(&path) {
            Ok(a) if a.status == 200 => {
                let ms = t.elapsed().as_secs_f64() * 1e3;
                stats.reads += 1;
                if is_proof {
                    stats.proof_ms.push(ms);
                    if let Err(m) = check_inclusion(&a.body) {
                        stats.errors.push(format!("{path}: {m}"));
                    }
                } else {
                    stats.tile_ms.push(ms);
                }
            }
            Ok(a) => stats.errors.push(format!(
                "GET {path}: {} {}",
                a.status,
                String::from_utf8_lossy(&a.body)
            )),
            Err(e) => stats.errors.push(format!("GET {path}: {e}")),
        }
    }
    stats
}

fn check_inclusion(body: &[u8]) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let hash = |x: &serde_json::Value| {
        x.as_str()
            .and_then(Hash::from_hex)
            .ok_or_else(|| "bad hash".to_string())
    };
    let proof = v["proof"]
        .as_array()
        .ok_or("no proof")?
        .iter()
        .map(hash)
        .collect::<Result<Vec<_>, _>>()?;
    merkle::verify_inclusion(
        &hash(&v["leaf_hash"])?,
        v["index"].as_u64().ok_or("no index")?,
        v["tree_size"].as_u64().ok_or("no size")?,
        &proof,
        &hash(&v["root"])?,
    )
    .map_err(|e| format!("inclusion proof does not verify: {e}"))
}

/// Logs the commitment and every registration if the log is empty.
fn setup(ctx: &Ctx, threads: usize) -> Result<()> {
    let a = ctx.get("/api/v1/log").map_err(|e| anyhow!("{e}"))?;
    if a.status != 200 {
        bail!("GET /api/v1/log: {}", a.status);
    }
    let v: serde_json::Value = serde_json::from_slice(&a.body)?;
    let digest = ctx.e.manifest().digest().to_hex();
    if v["manifest_sha256"].as_str() != Some(digest.as_str()) {
        bail!(
            "the board does not serve the synthetic election of these --stations and --seed (manifest {digest})"
        );
    }
    if v["tree_size"].as_u64() != Some(0) {
        return Ok(());
    }
    let mut scratch = Stats::default();
    let a = ctx
        .submit_retrying(&ctx.e.commitment_entry(), &mut scratch)
        .map_err(|e| anyhow!("{e}"))?;
    if a.status != 201 && a.status != 200 {
        bail!("manifest commitment refused: {}", a.status);
    }
    let n = ctx.e.station_count();
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..threads.max(1) {
            let failed = &failed;
            s.spawn(move || {
                let mut scratch = Stats::default();
                for i in (t..n).step_by(threads.max(1)) {
                    match ctx.submit_retrying(&ctx.e.registration_entry(i), &mut scratch) {
                        Ok(a) if a.status == 201 || a.status == 200 => {}
                        other => failed
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!("registration {i}: {:?}", other.map(|a| a.status))),
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(f) = failed.first() {
        bail!("{} registrations failed, first: {f}", failed.len());
    }
    Ok(())
}

/// Runs the load test and prints the table.
pub fn run(o: &Options) -> Result<()> {
    let e = SyntheticElection::generate(Config {
        seed: o.seed,
        stations: o.stations,
        majlis: false,
    });
    let threads = o.submitters + o.readers;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .max_idle_connections(threads + 8)
        .max_idle_connections_per_host(threads + 8)
        .build();
    let mut verifiers = Verifiers::new();
    verifiers.add(e.manifest().log_key().clone());
    let ctx = Ctx {
        url: o.url.trim_end_matches('/').to_owned(),
        agent,
        origin: e.manifest().manifest().log.origin.clone(),
        verifiers,
        e,
        stop: AtomicBool::new(false),
        size: AtomicU64::new(0),
    };
    let t = Instant::now();
    setup(&ctx, o.submitters.clamp(1, 32)).context("setting up the election")?;
    eprintln!("setup: {:.1} s", t.elapsed().as_secs_f64());
    if let Ok(a) = ctx.get("/api/v1/log") {
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap_or_default();
        ctx.size
            .store(v["tree_size"].as_u64().unwrap_or(0), Ordering::Relaxed);
    }
    let size_before = ctx.size.load(Ordering::Relaxed);
    let rss_start = o.pid.and_then(rss_mib);
    let peak = Mutex::new(rss_start.unwrap_or(0.0));

    let started = Instant::now();
    let mut stats = Stats::default();
    std::thread::scope(|s| {
        let ctx = &ctx;
        let mut handles = Vec::new();
        for me in 0..o.submitters {
            handles.push(s.spawn(move || submitter(ctx, me, o.submitters)));
        }
        for r in 0..o.readers {
            handles.push(s.spawn(move || reader(ctx, 0x9e37_79b9_7f4a_7c15 ^ (r as u64 + 1))));
        }
        let peak = &peak;
        s.spawn(move || {
            while !ctx.stop.load(Ordering::Relaxed) {
                if let Some(r) = o.pid.and_then(rss_mib) {
                    let mut p = peak.lock().unwrap_or_else(|p| p.into_inner());
                    *p = p.max(r);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        while started.elapsed() < o.duration {
            std::thread::sleep(Duration::from_millis(50));
        }
        ctx.stop.store(true, Ordering::Relaxed);
        for h in handles {
            match h.join() {
                Ok(st) => stats.merge(st),
                Err(_) => stats.errors.push("a load thread panicked".into()),
            }
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = o.pid.and_then(rss_mib);
    let size_after = ctx
        .get("/api/v1/log")
        .ok()
        .and_then(|a| serde_json::from_slice::<serde_json::Value>(&a.body).ok())
        .and_then(|v| v["tree_size"].as_u64())
        .unwrap_or(0);

    let mib = |r: Option<f64>| r.map_or("n/a".to_string(), |v| format!("{v:.1} MiB"));
    let mut out = vec![
        format!(
            "| load test ({} submitters, {} readers, {} stations, {:.1} s) | |",
            o.submitters, o.readers, o.stations, elapsed
        ),
        "|---|---|".to_string(),
        format!(
            "| submissions appended | {} ({:.0}/s) |",
            stats.appended,
            stats.appended as f64 / elapsed
        ),
        format!("| answered as duplicates | {} |", stats.duplicates),
        format!("| 429s retried | {} |", stats.retried_429),
        format!("| tree size before / after | {size_before} / {size_after} |"),
        latency_row("submission", &mut stats.submit_ms),
        latency_row("inclusion proof", &mut stats.proof_ms),
        latency_row("tile / bundle", &mut stats.tile_ms),
        format!(
            "| reads | {} ({:.0}/s) |",
            stats.reads,
            stats.reads as f64 / elapsed
        ),
        format!("| errors | {} |", stats.errors.len()),
    ];
    if o.pid.is_some() {
        out.push(format!(
            "| server RSS start / end / peak | {} / {} / {} |",
            mib(rss_start),
            mib(rss_end),
            mib(Some(
                peak.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .max(rss_end.unwrap_or(0.0))
            ))
        ));
    }
    println!("{}", out.join("\n"));
    if !stats.errors.is_empty() {
        for e in stats.errors.iter().take(10) {
            eprintln!("error: {e}");
        }
        bail!("{} errors under load", stats.errors.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("2x").is_err());
        assert!(parse_duration("s").is_err());
    }
}
