//! The HTTP part of `tallyboard bench`: ingest of signed tallies through a
//! real board on loopback, the witnesses' cosigning latency, inclusion-proof
//! serving under concurrent load, and the peer actasum's `log build` on the
//! same statements as a second baseline.

use crate::board::Board;
use crate::demo::{demo_policy, post_entry, wait_for_cosigned};
use crate::import::import_entries;
use crate::{server, witness};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tallyboard_synth::{keys, SyntheticElection};

/// Figures measured over HTTP.
pub struct HttpFigures {
    /// Tallies per second, durable, acknowledged with receipts.
    pub ingest_rate: f64,
    /// Seconds for the whole ingest.
    pub ingest_secs: f64,
    /// HTTP 429 answers that clients retried.
    pub retries: u64,
    /// Milliseconds from the last tally's receipt to a checkpoint covering it
    /// cosigned by a quorum of the two witnesses.
    pub cosign_ms: u128,
    /// Inclusion-proof requests per second under concurrent load.
    pub proof_rate: f64,
    /// p50 and p99 latency of those requests, in milliseconds.
    pub proof_p50_ms: f64,
    /// p99.
    pub proof_p99_ms: f64,
}

/// Runs the board with two witnesses on loopback and measures.
pub fn run(
    e: &SyntheticElection,
    setup: &[Vec<u8>],
    tallies: &[Vec<u8>],
    clients: usize,
) -> Result<HttpFigures> {
    let dir = std::env::temp_dir().join(format!("tallyboard-bench-http-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let log_key = keys::role_key("log").context("log role")?;
    let mut board = Board::create(&dir.join("board"), e.manifest_bytes(), log_key.clone())?;
    import_entries(&mut board, setup, 1024, None)?;
    let mut urls = Vec::new();
    for role in ["witness-guardian", "witness-observer"] {
        let key = keys::role_key(role).context("witness role")?;
        let mut logs = tallyboard_core::witness::TrustedLogs::new();
        logs.add(log_key.verifier()).map_err(|e| anyhow!("{e}"))?;
        urls.push(witness::spawn(witness::Config {
            listen: "127.0.0.1:0".into(),
            data: dir.join(role),
            key: tallyboard_core::cosignature::CosignerKey::from_signer_key(&key),
            logs,
            slow_clients: Default::default(),
        })?);
    }
    let policy = tallyboard_core::policy::Policy::parse(demo_policy(&urls)?.as_bytes())
        .map_err(|e| anyhow!("{e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let config = server::Config::in_process("127.0.0.1:0".parse()?, policy);
    let thread = std::thread::spawn(move || {
        server::serve_until(
            board,
            config,
            move |a| {
                let _ = addr_tx.send(a);
            },
            stop_rx,
        )
    });
    let url = format!(
        "http://{}",
        addr_rx
            .recv_timeout(Duration::from_secs(60))
            .context("board did not start")?
    );

    // Ingest.
    let next = AtomicUsize::new(0);
    let retries = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients.max(1) {
            s.spawn(|| {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(bytes) = tallies.get(i) else { break };
                    if !matches!(post_entry(&agent, &url, bytes, &retries), Ok(201)) {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let ingest_secs = t.elapsed().as_secs_f64();
    let last = Instant::now();
    if failed.load(Ordering::Relaxed) > 0 {
        bail!(
            "{} tallies were not appended",
            failed.load(Ordering::Relaxed)
        );
    }
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let (_, _, cosign_ms) = wait_for_cosigned(&agent, &url, last)?;

    // Inclusion proofs under load: 16 readers for a fixed number of requests.
    let size = (setup.len() + tallies.len()) as u64;
    let readers = 16;
    let per_reader = 1500u64;
    let latencies = std::sync::Mutex::new(Vec::with_capacity((readers * per_reader) as usize));
    let t = Instant::now();
    std::thread::scope(|s| {
        for r in 0..readers {
            let latencies = &latencies;
            let url = &url;
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                let mut mine = Vec::with_capacity(per_reader as usize);
                for k in 0..per_reader {
                    let index = (r * 7919 + k * 104_729) % size;
                    let t0 = Instant::now();
                    let ok = agent
                        .get(&format!(
                            "{url}/api/v1/proof/inclusion?index={index}&size={size}"
                        ))
                        .call()
                        .map(|resp| resp.into_string().is_ok())
                        .unwrap_or(false);
                    if ok {
                        mine.push(t0.elapsed().as_secs_f64() * 1e3);
                    }
                }
                if let Ok(mut l) = latencies.lock() {
                    l.extend(mine);
                }
            });
        }
    });
    let proof_secs = t.elapsed().as_secs_f64();
    let mut lat = latencies.into_inner().unwrap_or_default();
    if lat.len() as u64 != readers * per_reader {
        bail!(
            "{} of {} proof requests failed",
            readers * per_reader - lat.len() as u64,
            readers * per_reader
        );
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let figures = HttpFigures {
        ingest_rate: tallies.len() as f64 / ingest_secs,
        ingest_secs,
        retries: retries.load(Ordering::Relaxed),
        cosign_ms,
        proof_rate: lat.len() as f64 / proof_secs,
        proof_p50_ms: pct(0.50),
        proof_p99_ms: pct(0.99),
    };
    let _ = stop_tx.send(());
    thread
        .join()
        .map_err(|_| anyhow!("server thread panicked"))??;
    std::fs::remove_dir_all(&dir).ok();
    Ok(figures)
}

/// The peer actasum's `log build` (PyPI `actasum`, which builds an unsigned
/// log without verifying anything) over the same stations' figures, timed
/// as a whole command. `None` if actasum is not installed.
pub fn actasum_seconds(e: &SyntheticElection) -> Result<Option<f64>> {
    if std::process::Command::new("actasum")
        .arg("--help")
        .output()
        .is_err()
    {
        return Ok(None);
    }
    let dir = std::env::temp_dir().join(format!("tallyboard-bench-actasum-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("statements.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for i in 0..e.station_count() {
        let t = e.tally(i);
        let candidatures: serde_json::Map<String, serde_json::Value> = t
            .votes
            .iter()
            .map(|(c, n)| (c.to_string(), serde_json::Value::from(*n)))
            .collect();
        let doc = serde_json::json!({
            "spec": "actasum/statement/v0.1", "profile": "generic", "election": t.election,
            "station": t.station, "constituency": "nation",
            "counts": {"candidatures": candidatures, "blank": 0, "null": t.figures.void_taken},
        });
        writeln!(f, "{doc}")?;
    }
    f.flush()?;
    drop(f);
    let t = Instant::now();
    let out = std::process::Command::new("actasum")
        .args(["log", "build", "--statements"])
        .arg(&path)
        .arg("--out")
        .arg(dir.join("log"))
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&dir).ok();
    if !out.status.success() {
        bail!(
            "actasum log build failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Some(secs))
}
