//! The high-availability part of `tallyboard bench` (`--only ha`,
//! `spec/storage.md` §8): the board on PostgreSQL next to the embedded
//! store, and a board failover under 32 submitting clients.
//!
//! PostgreSQL runs as a primary with a synchronous streaming standby, both
//! started with `scripts/pg-cluster.sh` (so this part runs from the source
//! tree), so that every commit the board makes on it is on two servers
//! before its receipt goes out, as in production.

use crate::bench_http::{ingest, spawn_listening, Proc};
use crate::board::Board;
use crate::import::import_entries;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tallyboard_core::hash::leaf_hash;
use tallyboard_synth::{keys, SyntheticElection};

/// One row of the benchmark's table: what, value, baseline, ratio.
pub type Row = (String, String, String, String);

/// A receipt the failover's clients got: index, leaf hash, when, and
/// whether the standby gave it.
type Receipted = (u64, [u8; 32], Instant, bool);

/// Submitting clients during the failover.
const CLIENTS: usize = 32;
/// Tallies submitted during the failover.
const FAILOVER_TALLIES: usize = 12_000;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-cluster.sh")
}

fn cluster(args: &[&std::ffi::OsStr]) -> Result<String> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .context("running scripts/pg-cluster.sh")?;
    if !out.status.success() {
        bail!(
            "scripts/pg-cluster.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Stops the clusters and removes their directory when the benchmark
/// ends, however it ends.
struct Clusters {
    dir: PathBuf,
    running: Vec<PathBuf>,
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for d in &self.running {
            let _ = Command::new("bash")
                .arg(script())
                .arg("stop")
                .arg(d)
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `serve` on `data` (a directory or a store URL); waits until it listens.
fn serve(exe: &Path, data: &str, key: &Path, listen: &str) -> Result<(Proc, String)> {
    spawn_listening(
        exe,
        &[
            "serve".as_ref(),
            "--listen".as_ref(),
            listen.as_ref(),
            "--data".as_ref(),
            data.as_ref(),
            "--log-key".as_ref(),
            key.as_os_str(),
        ],
    )
}

/// A fresh board on `data` with the setup entries imported.
fn create(e: &SyntheticElection, data: &str, setup: &[Vec<u8>]) -> Result<()> {
    let log_key = keys::role_key("log").context("log role")?;
    let mut board = Board::create(Path::new(data), e.manifest_bytes(), log_key)?;
    import_entries(&mut board, setup, 1024, None)?;
    Ok(())
}

/// HTTP ingest of `tallies` into a fresh board on `data`: tallies/s.
fn ingest_rate(
    exe: &Path,
    e: &SyntheticElection,
    data: &str,
    key: &Path,
    setup: &[Vec<u8>],
    tallies: &[Vec<u8>],
) -> Result<f64> {
    create(e, data, setup)?;
    let (board, url) = serve(exe, data, key, "127.0.0.1:0")?;
    let addr = url.trim_start_matches("http://").parse()?;
    let t = Instant::now();
    let (ok, _) = ingest(addr, tallies, 256)?;
    let secs = t.elapsed().as_secs_f64();
    drop(board);
    if ok != tallies.len() as u64 {
        bail!(
            "{} of {} tallies were not appended",
            tallies.len() as u64 - ok,
            tallies.len()
        );
    }
    Ok(tallies.len() as f64 / secs)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The rows of `bench --only ha`.
pub fn rows(e: &SyntheticElection, setup: &[Vec<u8>], tallies: &[Vec<u8>]) -> Result<Vec<Row>> {
    if !script().exists() {
        bail!("bench --only ha runs from the source tree (it needs scripts/pg-cluster.sh)");
    }
    let exe = std::env::current_exe()?;
    let root = crate::bench::tempfile_dir("bench-ha")?;
    // The clusters run as another user (scripts/pg-cluster.sh): it must be
    // able to enter.
    std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let (pdir, sdir) = (root.join("primary"), root.join("standby"));
    let _clusters = Clusters {
        dir: root.clone(),
        running: vec![pdir.clone(), sdir.clone()],
    };
    let primary = cluster(&["start".as_ref(), pdir.as_os_str()])?;
    let standby = cluster(&["standby".as_ref(), pdir.as_os_str(), sdir.as_os_str()])?;
    let hostport = |u: &str| {
        u.trim_start_matches("postgres://tallyboard@")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let db = |name: &str| -> Result<String> {
        let out = Command::new("psql")
            .arg(&primary)
            .args(["-qc", &format!("CREATE DATABASE {name}")])
            .output()?;
        if !out.status.success() {
            bail!(
                "creating database {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(format!(
            "postgres://tallyboard@{},{}/{name}?target_session_attrs=read-write",
            hostport(&primary),
            hostport(&standby)
        ))
    };
    let key = root.join("log.key");
    crate::keyfile::write(&keys::role_key("log").context("log role")?, &key)?;
    let mut rows = Vec::new();

    // 1. HTTP ingest, the embedded store then PostgreSQL, same clients.
    eprintln!("HA: HTTP ingest on the embedded store and on PostgreSQL ...");
    let file = root.join("board");
    let file_rate = ingest_rate(&exe, e, &file.to_string_lossy(), &key, setup, tallies)?;
    let pg_rate = ingest_rate(&exe, e, &db("bench_ingest")?, &key, setup, tallies)?;
    rows.push((
        format!("HTTP ingest of {} signed tallies on PostgreSQL (loopback primary with a synchronous streaming standby; 256 connections)", tallies.len()),
        format!("{pg_rate:.0} tallies/s"),
        format!("the embedded store, same run: {file_rate:.0} tallies/s"),
        format!("{:.2}", pg_rate / file_rate),
    ));

    // 2. Board failover: SIGKILL of the writer under 32 clients.
    eprintln!("HA: board failover under {CLIENTS} clients ...");
    let url = db("bench_failover")?;
    create(e, &url, setup)?;
    let (pa, pb) = (free_port()?, free_port()?);
    let (mut writer, a) = serve(&exe, &url, &key, &format!("127.0.0.1:{pa}"))?;
    // The standby listens only once it holds the lease: start it in the
    // background.
    let b = format!("http://127.0.0.1:{pb}");
    let standby_proc: Arc<Mutex<Option<Proc>>> = Arc::default();
    {
        let (exe, url, key, slot) = (exe.clone(), url.clone(), key.clone(), standby_proc.clone());
        std::thread::spawn(move || {
            if let Ok((p, _)) = serve(&exe, &url, &key, &format!("127.0.0.1:{pb}")) {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(p);
            }
        });
    }
    let n = FAILOVER_TALLIES.min(tallies.len());
    let receipts: Arc<Mutex<Vec<Receipted>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let work: Arc<Vec<Vec<u8>>> = Arc::new(tallies[..n].to_vec());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (receipts, next, work) = (receipts.clone(), next.clone(), work.clone());
            let urls = [a.clone(), b.clone()];
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout_connect(Duration::from_secs(1))
                    .timeout(Duration::from_secs(30))
                    .build();
                let give_up = Instant::now() + Duration::from_secs(300);
                loop {
                    let i = next.fetch_add(1, Ordering::AcqRel);
                    if i >= work.len() || Instant::now() > give_up {
                        return;
                    }
                    'retry: while Instant::now() < give_up {
                        for (k, u) in urls.iter().enumerate() {
                            let r = agent
                                .post(&format!("{u}/api/v1/entries"))
                                .set("Content-Type", "text/plain")
                                .send_bytes(&work[i]);
                            if let Ok(resp) = r {
                                let Some(v) = resp.into_string().ok().and_then(|t| {
                                    serde_json::from_str::<serde_json::Value>(&t).ok()
                                }) else {
                                    continue;
                                };
                                if let Some(index) = v["index"].as_u64() {
                                    let leaf = leaf_hash(&work[i]).0;
                                    receipts.lock().unwrap_or_else(|p| p.into_inner()).push((
                                        index,
                                        leaf,
                                        Instant::now(),
                                        k == 1,
                                    ));
                                    break 'retry;
                                }
                            }
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            })
        })
        .collect();
    let until = Instant::now() + Duration::from_secs(120);
    while receipts.lock().unwrap_or_else(|p| p.into_inner()).len() < n / 4 {
        if Instant::now() > until {
            bail!("the writer gave too few receipts before the kill");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = writer.0.kill();
    let kill = Instant::now();
    let _ = writer.0.wait();
    for c in clients {
        let _ = c.join();
    }
    let got = receipts.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let before = got.iter().filter(|r| r.2 <= kill).count();
    // The writer's answers in flight at the kill land just after it: the
    // gap is to the standby's first receipt.
    let first_after = got
        .iter()
        .filter(|r| r.3 && r.2 > kill)
        .map(|r| r.2.duration_since(kill))
        .min();
    // Every receipt checked against the standby's log.
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let mut lost = 0usize;
    for (index, leaf, _, _) in &got {
        let ok = agent
            .get(&format!("{b}/api/v1/entries/{index}"))
            .call()
            .ok()
            .and_then(|r| r.into_string().ok())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["leaf_hash"].as_str().map(str::to_owned))
            .is_some_and(|h| h == tallyboard_core::Hash(*leaf).to_hex());
        if !ok {
            lost += 1;
        }
    }
    drop(
        standby_proc
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(),
    );
    rows.push((
        format!("board failover: SIGKILL of the writing board under {CLIENTS} clients submitting {n} tallies to both boards; the standby takes the lease"),
        format!(
            "first receipt from the standby {:.2} s after the kill; {} receipts ({before} before the kill, {} from the standby), every one checked: {lost} lost",
            first_after.map_or(f64::NAN, |d| d.as_secs_f64()),
            got.len(),
            got.iter().filter(|r| r.3).count()
        ),
        format!("the lease: {} s", crate::store::postgres::LEASE.as_secs()),
        format!("{:.2} of the lease", first_after.map_or(f64::NAN, |d| d.as_secs_f64()) / crate::store::postgres::LEASE.as_secs_f64()),
    ));
    if lost > 0 || got.len() != n {
        bail!(
            "board failover: {lost} receipts lost, {} of {n} tallies receipted",
            got.len()
        );
    }
    Ok(rows)
}
