//! `tallyboard bench`: measured figures, each next to a baseline measured in
//! the same run on the same machine (never asserted in tests).
//!
//! * ingest: durable import of N signed tallies vs raw two-core `verify_strict`;
//! * scale: a log grown to `--scale` entries in one child process whose
//!   resident memory is read after every round, the memory of a board that
//!   reopens the full store, the time `tallyboard serve` takes on that store
//!   to its first 200 on `/healthz` and its memory then, then root,
//!   inclusion and consistency proof times at that size, open-and-verify
//!   time and disk bytes per entry.

use crate::board::Board;
use crate::import::{import_entries, synthetic_entries};
use crate::store::cache::TreeCache;
use anyhow::{anyhow, bail, Context, Result};
use ed25519_dalek::{Signature, VerifyingKey};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle;
use tallyboard_synth::{keys, Config, SyntheticElection, ELECTION_ID};

/// Peak and current resident set size of this process, in MiB.
pub fn rss_mib() -> (f64, f64) {
    rss_mib_of("self")
}

/// Peak and current resident set size of process `pid` (or "self"), in MiB.
fn rss_mib_of(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

struct Row {
    what: String,
    value: String,
    baseline: String,
    ratio: String,
}

/// The part of the benchmark `bench --only` runs.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Raw verification, durable and HTTP ingest, witnesses, proof serving.
    Ingest,
    /// The log grown to `--scale` entries: memory, `serve` start-up, proofs.
    Scale,
    /// The board on PostgreSQL (primary and synchronous standby, started
    /// with scripts/pg-cluster.sh) next to the embedded store, and a board
    /// failover under 32 clients (spec/storage.md §8). Only when asked.
    Ha,
    /// `tallyboard demo --no-serve`, presidential and with the Majlis,
    /// under `/usr/bin/time -v`: peak memory, wall time, and the last
    /// tally → cosigned final announcement latency the demo prints.
    Demo,
    /// `tallyboard enrol batch` of one device key per station, and the
    /// import of its bundle, next to signing as many entries (spec/enrolment.md).
    /// Only when asked.
    Enrol,
    /// Signing with the log and authority keys in a SoftHSM2 token
    /// (scripts/softhsm.sh) next to key files (spec/operations.md §13).
    /// Only when asked.
    Hsm,
}

pub fn run(stations: usize, scale: u64, only: Option<Part>, out: Option<&Path>) -> Result<()> {
    let mut rows = Vec::new();
    eprintln!("generating {stations} stations ...");
    let e = SyntheticElection::generate(Config {
        seed: 1404,
        stations,
        majlis: false,
    });
    if only == Some(Part::Enrol) {
        for (what, value, baseline, ratio) in crate::bench_enrol::rows(&e)? {
            rows.push(Row {
                what,
                value,
                baseline,
                ratio,
            });
        }
        return print_rows(&rows, out);
    }
    let (setup, tallies) = synthetic_entries(&e);
    if only.is_none() || only == Some(Part::Ingest) {
        ingest_rows(&e, &setup, &tallies, &mut rows)?;
    }
    if only.is_none() || only == Some(Part::Scale) {
        scale_rows(&e, &setup, &tallies, scale, &mut rows)?;
    }
    if only == Some(Part::Ha) {
        for (what, value, baseline, ratio) in crate::bench_ha::rows(&e, &setup, &tallies)? {
            rows.push(Row {
                what,
                value,
                baseline,
                ratio,
            });
        }
    }
    drop((setup, tallies, e));
    if only == Some(Part::Hsm) {
        for (what, value, baseline, ratio) in crate::bench_hsm::rows(stations)? {
            rows.push(Row {
                what,
                value,
                baseline,
                ratio,
            });
        }
    }
    if only.is_none() || only == Some(Part::Demo) {
        demo_rows(stations, &mut rows)?;
    }
    print_rows(&rows, out)
}

/// Prints the table (and writes it to `out`).
fn print_rows(rows: &[Row], out: Option<&Path>) -> Result<()> {
    let mut md = String::new();
    writeln!(md, "| measurement | value | baseline (same run) | ratio |")?;
    writeln!(md, "|---|---|---|---|")?;
    for r in rows {
        writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.what, r.value, r.baseline, r.ratio
        )?;
    }
    print!("{md}");
    if let Some(p) = out {
        std::fs::write(p, &md)?;
    }
    Ok(())
}

/// Ingest of the stations' tallies, durable in process and over HTTP, each
/// next to raw `verify_strict` on all cores; then witnesses and proof serving.
fn ingest_rows(
    e: &SyntheticElection,
    setup: &[Vec<u8>],
    tallies: &[Vec<u8>],
    rows: &mut Vec<Row>,
) -> Result<()> {
    let threads = rayon::current_num_threads();

    // Baseline: raw verify_strict of the same tallies on all cores, keys and
    // signatures decoded beforehand (the floor any verifying ingest pays).
    let raw: Vec<(VerifyingKey, Vec<u8>, Signature)> = tallies
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let signed = SignedEntry::parse(bytes).map_err(|e| anyhow!("{e}"))?;
            let key = keys::station_key(ELECTION_ID, e.station_id(i)).verifier();
            let sig = signed.note.signatures.first().context("unsigned")?;
            let sig = Signature::from_slice(&sig.signature).map_err(|e| anyhow!("{e}"))?;
            Ok((*key.public_key(), signed.note.text.into_bytes(), sig))
        })
        .collect::<Result<_>>()?;
    let t = Instant::now();
    let ok = raw
        .par_iter()
        .filter(|(k, m, s)| k.verify_strict(m, s).is_ok())
        .count();
    let raw_rate = raw.len() as f64 / t.elapsed().as_secs_f64();
    // One verify_strict on one thread: the unit the board's CPU per tally
    // is compared with.
    let sample = raw.len().min(4000);
    let t = Instant::now();
    for (k, m, s) in &raw[..sample] {
        std::hint::black_box(k.verify_strict(m, s).is_ok());
    }
    let one_verify_us = t.elapsed().as_secs_f64() * 1e6 / sample as f64;
    if ok != raw.len() {
        bail!(
            "baseline: {} of {} signatures failed",
            raw.len() - ok,
            raw.len()
        );
    }
    drop(raw);

    // Durable import of the tallies (registrations imported first, untimed).
    let dir = tempfile_dir("bench-ingest")?;
    let log_key = keys::role_key("log").context("log role")?;
    let mut board = Board::create(&dir, e.manifest_bytes(), log_key.clone())?;
    import_entries(&mut board, setup, 1024, None)?;
    let stats = import_entries(&mut board, tallies, 1024, None)?;
    if stats.rejected > 0 {
        bail!("{} tallies refused", stats.rejected);
    }
    let ingest_rate = tallies.len() as f64 / stats.elapsed.as_secs_f64();
    rows.push(Row {
        what: format!(
            "offline import (`tallyboard import`'s path) of {} signed tallies, durable ({} group commits)",
            tallies.len(),
            stats.batches
        ),
        value: format!("{ingest_rate:.0} tallies/s"),
        baseline: format!("raw verify_strict on {threads} threads: {raw_rate:.0}/s"),
        ratio: format!("{:.2} (goal ≥ 0.8)", ingest_rate / raw_rate),
    });
    let disk = board.store().size_on_disk()?;
    let entry_bytes: usize = setup.iter().chain(tallies).map(Vec::len).sum();
    let hashes = 64 * board.size();
    rows.push(Row {
        what: format!(
            "disk after {} entries (store directory, manifest included)",
            board.size()
        ),
        value: format!("{:.0} bytes/entry", disk as f64 / board.size() as f64),
        baseline: format!(
            "the entries: {:.0} bytes each, plus 64 bytes of hashes",
            entry_bytes as f64 / board.size() as f64
        ),
        ratio: format!(
            "{:.2}× (goal ≤ 1.2× the entries plus the hashes: {:.2} of goal)",
            disk as f64 / (entry_bytes as f64 + hashes as f64),
            disk as f64 / (1.2 * entry_bytes as f64 + hashes as f64)
        ),
    });
    drop(board);
    std::fs::remove_dir_all(&dir).ok();

    eprintln!("HTTP ingest, witnesses and proof serving ...");
    let connections = 256;
    let http = crate::bench_http::run(e, setup, tallies, connections)?;
    rows.push(Row {
        what: format!(
            "HTTP ingest of {} signed tallies, durable, receipts verified by nothing but the client's status check; {connections} keep-alive connections on loopback (one client thread), board and witnesses in child processes",
            tallies.len()
        ),
        value: format!(
            "{:.0} tallies/s ({:.2} s, {} group commits of {:.0} on average, {} retries after 429)",
            http.ingest_rate,
            http.ingest_secs,
            http.batches,
            tallies.len() as f64 / http.batches.max(1) as f64,
            http.retries
        ),
        baseline: format!("raw verify_strict on {threads} threads: {raw_rate:.0}/s"),
        ratio: format!("{:.2} (goal ≥ 0.8)", http.ingest_rate / raw_rate),
    });
    rows.push(Row {
        what: "board CPU per accepted tally over HTTP (user + system, /proc/<pid>/stat of `tallyboard serve`)".into(),
        value: format!("{:.1} µs", http.board_cpu_us),
        baseline: format!("one verify_strict (one thread, same run): {one_verify_us:.1} µs"),
        ratio: format!("{:.2}× (goal ≤ 1.5×)", http.board_cpu_us / one_verify_us),
    });
    rows.push(Row {
        what: "client CPU per tally (this process: request, response, status) and witnesses' CPU per tally".into(),
        value: format!(
            "clients {:.1} µs, witnesses {:.1} µs",
            http.client_cpu_us, http.witness_cpu_us
        ),
        baseline: format!("one verify_strict: {one_verify_us:.1} µs"),
        ratio: String::new(),
    });
    match crate::bench_http::actasum_seconds(e) {
        Ok(Some(secs)) => rows.push(Row {
            what: format!(
                "peer baseline: actasum `log build` of the same {} stations (unsigned, unverified)",
                tallies.len()
            ),
            value: format!("{secs:.2} s"),
            baseline: format!(
                "tallyboard HTTP ingest, signed and verified: {:.2} s",
                http.ingest_secs
            ),
            ratio: format!("{:.2}× actasum's time", http.ingest_secs / secs),
        }),
        Ok(None) => {
            eprintln!("actasum is not installed (pip install actasum): peer baseline skipped")
        }
        Err(err) => eprintln!("actasum baseline failed: {err:#}"),
    }
    rows.push(Row {
        what: "last tally's receipt → checkpoint covering it cosigned by the witness quorum (2 witnesses)".into(),
        value: format!("{} ms", http.cosign_ms),
        baseline: "goal < 1,000 ms".into(),
        ratio: format!("{:.2} of goal", http.cosign_ms as f64 / 1000.0),
    });
    rows.push(Row {
        what: "inclusion proofs over HTTP, 16 concurrent readers".into(),
        value: format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
            http.proof_rate, http.proof_p50_ms, http.proof_p99_ms
        ),
        baseline: String::new(),
        ratio: String::new(),
    });
    Ok(())
}

/// Grows a log to `scale` entries (stations revise their tallies round after
/// round) in one child `tallyboard import` that reads every round's bundle
/// and reports its resident memory after each, so the board's RSS is
/// measured alone and as the log grows; then a second child only opens (and
/// verifies) the full store, the memory a restarted board starts from, and
/// `tallyboard serve` is started on it as an operator would restart it.
/// Then times proofs at that size.
fn scale_rows(
    e: &SyntheticElection,
    setup: &[Vec<u8>],
    tallies: &[Vec<u8>],
    scale: u64,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let dir = tempfile_dir("bench-scale")?;
    let files = tempfile_dir("bench-scale-bundles")?;
    let log_key = keys::role_key("log").context("log role")?;
    Board::create(&dir, e.manifest_bytes(), log_key.clone())?;
    let key_file = files.join("log.key");
    crate::keyfile::write(&log_key, &key_file)?;
    let exe = std::env::current_exe()?;
    let n = e.station_count();
    let mut size = 0u64;
    let mut round = 1u32;
    let mut prev: Vec<tallyboard_core::Hash> = tallies.iter().map(|t| leaf_hash(t)).collect();
    let mut bundles = Vec::new();
    eprintln!("scale: writing {scale} entries as bundles ...");
    while size < scale {
        let entries: Vec<Vec<u8>> = match round {
            1 => setup.iter().chain(tallies.iter()).cloned().collect(),
            r => {
                let left = usize::try_from(scale - size).unwrap_or(usize::MAX).min(n);
                let list: Vec<Vec<u8>> = (0..left)
                    .into_par_iter()
                    .map(|i| e.signed_revision(i, r, prev[i]))
                    .collect();
                for (i, b) in list.iter().enumerate() {
                    prev[i] = leaf_hash(b);
                }
                list
            }
        };
        let bundle = crate::import::encode_entries_file(entries.iter().map(Vec::as_slice))
            .map_err(|e| anyhow!("{e}"))?;
        let path = files.join(format!("round-{round:03}.bundle"));
        std::fs::write(&path, bundle)?;
        bundles.push(path);
        size += entries.len() as u64;
        round += 1;
    }
    let import = |bundles: &[std::path::PathBuf]| -> Result<String> {
        let output = std::process::Command::new(&exe)
            .arg("import")
            .arg("--data")
            .arg(&dir)
            .arg("--log-key")
            .arg(&key_file)
            .arg("--report-rss")
            .args(bundles)
            .output()?;
        if !output.status.success() {
            bail!(
                "child import failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stderr).into_owned())
    };
    eprintln!(
        "scale: importing {} bundles in one child ...",
        bundles.len()
    );
    let t = Instant::now();
    let report = import(&bundles)?;
    let import_secs = t.elapsed().as_secs_f64();
    // `rss <size> <VmRSS MiB> <VmHWM MiB>` after each bundle.
    let samples: Vec<(u64, f64, f64)> = report
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("rss ")?.split_whitespace();
            Some((
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
            ))
        })
        .collect();
    for (s, rss, peak) in &samples {
        eprintln!("scale: {s} entries, RSS {rss:.1} MiB (peak so far {peak:.1} MiB)");
    }
    let worst = samples.iter().map(|s| s.1).fold(0.0, f64::max);
    let pick: Vec<&(u64, f64, f64)> = samples
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            samples.len() <= 6 || i % (samples.len() / 5).max(1) == 0 || *i + 1 == samples.len()
        })
        .map(|(_, s)| s)
        .collect();
    rows.push(Row {
        what: format!("board RSS while one process grows the log to {size} entries"),
        value: pick
            .iter()
            .map(|(s, r, _)| format!("{}k: {r:.0} MiB", s / 1000))
            .collect::<Vec<_>>()
            .join(", "),
        baseline: "goal ≤ 150 MiB, flat".into(),
        ratio: format!("{worst:.0} MiB at most: {:.2} of goal", worst / 150.0),
    });
    let t = Instant::now();
    let opened = import(&[])?;
    let reopen_secs = t.elapsed().as_secs_f64();
    let open_rss = opened
        .lines()
        .find_map(|l| l.strip_prefix("rss-open "))
        .and_then(|v| v.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0);
    rows.push(Row {
        what: format!("board RSS after opening and verifying the {size}-entry store (a restart)"),
        value: format!("{open_rss:.0} MiB"),
        baseline: "goal ≤ 150 MiB".into(),
        ratio: format!("{:.2} of goal", open_rss / 150.0),
    });
    eprintln!("scale: starting serve on the {size}-entry store ...");
    let (serve_secs, serve_rss, serve_peak) = serve_start(&exe, &dir, &key_file)?;
    rows.push(Row {
        what: format!("serve: start → first 200 on /healthz at {size} entries (a restart, fail-closed open included)"),
        value: format!("{serve_secs:.2} s"),
        baseline: format!("goal ≤ 1 s; a child that only opens the store: {reopen_secs:.2} s"),
        ratio: format!("{:.2} of goal", serve_secs),
    });
    rows.push(Row {
        what: format!("serve RSS after opening the {size}-entry store"),
        value: format!("{serve_rss:.0} MiB (peak {serve_peak:.0} MiB)"),
        baseline: "goal ≤ 150 MiB".into(),
        ratio: format!("{:.2} of goal", serve_rss / 150.0),
    });
    rows.push(Row {
        what: format!("import to {size} entries (one child process, durable group commits)"),
        value: format!("{import_secs:.1} s"),
        baseline: String::new(),
        ratio: String::new(),
    });
    let t = Instant::now();
    let board = Board::open(&dir, log_key)?;
    let open_secs = t.elapsed().as_secs_f64();
    rows.push(Row {
        what: format!("open the store at {size} entries, failing closed (journal, latest checkpoint's signature and root from the tiles, sealed state snapshot checked against its signed checkpoint, entries after it applied)"),
        value: format!("{open_secs:.2} s"),
        baseline: "goal ≤ 1 s".into(),
        ratio: format!("{open_secs:.2} of goal"),
    });
    let t = Instant::now();
    let checkpoints = board.verify_full()?;
    rows.push(Row {
        what: format!("full re-verification (`tallyboard verify-store`) at {size} entries: every hash recomputed, {checkpoints} stored checkpoints verified, the state rebuilt and compared"),
        value: format!("{:.1} s", t.elapsed().as_secs_f64()),
        baseline: String::new(),
        ratio: String::new(),
    });
    let store = board.store();
    let iters = 2000u64;
    let t = Instant::now();
    for k in 0..iters {
        // Sizes spread over the log, never below 1 (a small --scale).
        let s = size - (k * 7) % size.max(1);
        let cache = TreeCache::new(store, s);
        merkle::tree_hash(s, &cache).map_err(|e| anyhow!("{e}"))?;
    }
    let root_us = t.elapsed().as_secs_f64() * 1e6 / iters as f64;
    let t = Instant::now();
    for k in 0..iters {
        let cache = TreeCache::new(store, size);
        merkle::prove_inclusion((k * 7919) % size, size, &cache).map_err(|e| anyhow!("{e}"))?;
    }
    let incl_us = t.elapsed().as_secs_f64() * 1e6 / iters as f64;
    let t = Instant::now();
    for k in 0..iters {
        let cache = TreeCache::new(store, size);
        merkle::prove_consistency(1 + (k * 7919) % (size - 1), size, &cache)
            .map_err(|e| anyhow!("{e}"))?;
    }
    let cons_us = t.elapsed().as_secs_f64() * 1e6 / iters as f64;
    // Baseline: one SHA-256 node hash, the unit every proof is made of.
    let a = leaf_hash(b"a");
    let t = Instant::now();
    let mut h = a;
    for _ in 0..100_000 {
        h = tallyboard_core::hash::node_hash(&h, &a);
    }
    std::hint::black_box(h);
    let node_us = t.elapsed().as_secs_f64() * 1e6 / 100_000.0;
    for (what, us) in [
        ("root of an arbitrary earlier size", root_us),
        ("inclusion proof", incl_us),
        ("consistency proof from a random earlier size", cons_us),
    ] {
        rows.push(Row {
            what: format!(
                "{what} at {size} entries (from the tile packs, one tile cache per request)"
            ),
            value: format!("{us:.1} µs"),
            baseline: format!("one node hash: {node_us:.3} µs"),
            ratio: format!("{:.0}×", us / node_us),
        });
    }
    let disk = store.size_on_disk()?;
    let entry_bytes = std::fs::metadata(dir.join("packs/entries"))?.len() - 2 * size;
    rows.push(Row {
        what: format!("disk at {size} entries (store directory: packs, journal, leaf index, state snapshot, manifest)"),
        value: format!("{:.0} bytes/entry", disk as f64 / size as f64),
        baseline: format!(
            "the entries: {:.0} bytes each, plus 64 bytes of hashes",
            entry_bytes as f64 / size as f64
        ),
        ratio: format!(
            "{:.2}× (goal ≤ 1.2× the entries plus the hashes: {:.2} of goal)",
            disk as f64 / (entry_bytes as f64 + 64.0 * size as f64),
            disk as f64 / (1.2 * entry_bytes as f64 + 64.0 * size as f64)
        ),
    });
    drop(board);
    if std::env::var_os("TALLYBOARD_BENCH_KEEP").is_some() {
        eprintln!(
            "scale: kept the store in {} and the bundles in {}",
            dir.display(),
            files.display()
        );
    } else {
        std::fs::remove_dir_all(&dir).ok();
        std::fs::remove_dir_all(&files).ok();
    }
    Ok(())
}

/// `tallyboard demo --no-serve` of `stations` stations, presidential and
/// with the Majlis, each a child under `/usr/bin/time -v`.
fn demo_rows(stations: usize, rows: &mut Vec<Row>) -> Result<()> {
    let exe = std::env::current_exe()?;
    for majlis in [false, true] {
        let data = tempfile_dir(if majlis { "demo-majlis" } else { "demo" })?;
        eprintln!(
            "demo: {stations} stations{} under /usr/bin/time -v ...",
            if majlis { " with the Majlis" } else { "" }
        );
        let mut cmd = std::process::Command::new("/usr/bin/time");
        cmd.arg("-v")
            .arg(&exe)
            .args([
                "demo",
                "--no-serve",
                "--listen",
                "127.0.0.1:0",
                "--stations",
            ])
            .arg(stations.to_string())
            .arg("--data")
            .arg(&data)
            .env("TALLYBOARD_LOG", "warn");
        if majlis {
            cmd.arg("--majlis");
        }
        let out = cmd
            .output()
            .context("running /usr/bin/time -v tallyboard demo")?;
        std::fs::remove_dir_all(&data).ok();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            bail!(
                "the demo failed: {}",
                stderr.lines().rev().take(20).collect::<Vec<_>>().join("\n")
            );
        }
        let field = |name: &str| {
            stderr
                .lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let peak_mib = field("Maximum resident set size (kbytes):")
            .parse::<f64>()
            .unwrap_or(0.0)
            / 1024.0;
        let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):");
        let latency = stdout
            .lines()
            .find_map(|l| l.strip_prefix("last tally → cosigned final announcement"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        let ms: f64 = latency
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        let what = if majlis {
            format!("`demo --majlis --no-serve` at {stations} stations")
        } else {
            format!("`demo --no-serve` at {stations} stations (presidential)")
        };
        rows.push(Row {
            what: format!("{what}: peak RSS and wall time (/usr/bin/time -v)"),
            value: format!("{peak_mib:.0} MiB, {wall}"),
            baseline: "goal ≤ 500 MiB peak (with the Majlis)".into(),
            ratio: format!("{:.2} of goal", peak_mib / 500.0),
        });
        rows.push(Row {
            what: format!("{what}: last tally → cosigned final announcement"),
            value: latency,
            baseline: "goal ≤ 200 ms".into(),
            ratio: format!("{:.2} of goal", ms / 200.0),
        });
    }
    Ok(())
}

/// Starts `tallyboard serve` on the store in `dir` as an operator restarts
/// a board and times it from spawn to its first 200 on `/healthz` (the
/// board is back); then reads its current and peak resident memory in MiB
/// and stops it with SIGTERM, so that it closes the store as on a real
/// shutdown before anyone else opens it.
fn serve_start(exe: &Path, dir: &Path, key_file: &Path) -> Result<(f64, f64, f64)> {
    use std::io::BufRead;
    let t = Instant::now();
    let mut child = std::process::Command::new(exe)
        .arg("serve")
        .arg("--data")
        .arg(dir)
        .arg("--log-key")
        .arg(key_file)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting serve")?;
    let pid = child.id();
    let stdout = child.stdout.take().context("serve's stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads to the end, so that serve never writes into a closed pipe.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let measured = (|| -> Result<(f64, f64, f64)> {
        let line = rx
            .recv_timeout(Duration::from_secs(600))
            .context("serve printed no address")?;
        let url = line
            .strip_prefix("listening on ")
            .with_context(|| format!("serve printed {line:?}"))?;
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(5))
            .build();
        while !matches!(agent.get(&format!("{url}/healthz")).call(), Ok(r) if r.status() == 200) {
            if t.elapsed() > Duration::from_secs(600) {
                bail!("serve did not answer 200 on /healthz within 10 minutes");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let secs = t.elapsed().as_secs_f64();
        let (peak, now) = rss_mib_of(&pid.to_string());
        Ok((secs, now, peak))
    })();
    // Stopped however the measurement went; killed if it ignores SIGTERM.
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            eprintln!("scale: serve did not stop within 30 s of SIGTERM: killed");
            child.kill()?;
            child.wait()?;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    measured
}

pub(crate) fn tempfile_dir(name: &str) -> Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("tallyboard-{name}-{}", std::process::id()));
    if d.exists() {
        std::fs::remove_dir_all(&d)?;
    }
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
