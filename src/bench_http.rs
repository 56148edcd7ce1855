//! The HTTP part of `tallyboard bench`: ingest of signed tallies through a
//! real board on loopback, the witnesses' cosigning latency, inclusion-proof
//! serving under concurrent load, and the peer actasum's `log build` on the
//! same statements as a second baseline.
//!
//! The board (`tallyboard serve`) and its two witnesses run as child
//! processes, so that the board's CPU time is read from `/proc/<pid>/stat`
//! alone; the clients run in this process, whose own CPU time is theirs.
//! The client is asynchronous and cheap: a few hundred keep-alive
//! connections on one thread, each writing a bare HTTP/1.1 request and
//! reading the `text/plain` receipt, so that many submissions are in
//! flight and the board's batches can fill.

use crate::board::Board;
use crate::demo::{demo_policy, wait_for_cosigned};
use crate::import::import_entries;
use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tallyboard_synth::{keys, SyntheticElection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Figures measured over HTTP.
pub struct HttpFigures {
    /// Tallies per second, durable, acknowledged with receipts.
    pub ingest_rate: f64,
    /// Seconds for the whole ingest.
    pub ingest_secs: f64,
    /// HTTP 429 answers that clients retried.
    pub retries: u64,
    /// The board's CPU time (user + system) per accepted tally, in µs.
    pub board_cpu_us: f64,
    /// The clients' CPU time per accepted tally, in µs.
    pub client_cpu_us: f64,
    /// The witnesses' CPU time per accepted tally, in µs.
    pub witness_cpu_us: f64,
    /// Group commits during the ingest, and the mean batch.
    pub batches: u64,
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

/// CPU time (user + system) of process `pid` ("self" for this one), in
/// seconds, from `/proc/<pid>/stat` (clock ticks of 1/100 s).
pub fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// A child process killed (SIGTERM, then SIGKILL) when dropped.
pub(crate) struct Proc(pub(crate) Child);

impl Proc {
    pub(crate) fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.0.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                let _ = self.0.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.wait();
    }
}

/// Starts `exe args…` and waits for the first stdout line that contains
/// `http://`; returns the process and that URL.
pub(crate) fn spawn_listening(exe: &Path, args: &[&std::ffi::OsStr]) -> Result<(Proc, String)> {
    let mut child = Command::new(exe)
        .args(args)
        .env("TALLYBOARD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let out = child.stdout.take().context("stdout")?;
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(600))
            .context("the child printed no address")?;
        if let Some(at) = line.find("http://") {
            return Ok((proc, line[at..].trim().to_owned()));
        }
    }
}

/// Runs the board and two witnesses on loopback and measures.
pub fn run(
    e: &SyntheticElection,
    setup: &[Vec<u8>],
    tallies: &[Vec<u8>],
    connections: usize,
) -> Result<HttpFigures> {
    let dir = std::env::temp_dir().join(format!("tallyboard-bench-http-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    let log_key = keys::role_key("log").context("log role")?;
    let key_file = dir.join("log.key");
    crate::keyfile::write(&log_key, &key_file)?;
    {
        let mut board = Board::create(&dir.join("board"), e.manifest_bytes(), log_key.clone())?;
        import_entries(&mut board, setup, 1024, None)?;
    }
    let vkey = log_key.verifier().to_vkey_string();
    let mut witnesses = Vec::new();
    let mut urls = Vec::new();
    for role in ["witness-guardian", "witness-observer"] {
        let key = keys::role_key(role).context("witness role")?;
        let wkey = dir.join(format!("{role}.key"));
        crate::keyfile::write(&key, &wkey)?;
        let data = dir.join(role);
        let (p, url) = spawn_listening(
            &exe,
            &[
                "witness".as_ref(),
                "--listen".as_ref(),
                "127.0.0.1:0".as_ref(),
                "--data".as_ref(),
                data.as_os_str(),
                "--key".as_ref(),
                wkey.as_os_str(),
                "--log-vkey".as_ref(),
                vkey.as_ref(),
                "--init".as_ref(),
            ],
        )?;
        witnesses.push(p);
        urls.push(url);
    }
    let policy = dir.join("policy.txt");
    std::fs::write(
        &policy,
        demo_policy(&urls, &keys::role_key("log").context("log")?.verifier())?,
    )?;
    let board_dir: PathBuf = dir.join("board");
    let (board, url) = spawn_listening(
        &exe,
        &[
            "serve".as_ref(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--data".as_ref(),
            board_dir.as_os_str(),
            "--log-key".as_ref(),
            key_file.as_os_str(),
            "--witness-policy".as_ref(),
            policy.as_os_str(),
        ],
    )?;
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| anyhow!("board address {url}: {e}"))?;

    // Ingest.
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let batches_before = metric(&agent, &url, "tallyboard_batches_total")?;
    let (board_cpu0, client_cpu0) = (cpu_secs(&board.pid()), cpu_secs("self"));
    let witness_cpu0: f64 = witnesses.iter().map(|w| cpu_secs(&w.pid())).sum();
    let t = Instant::now();
    let (ok, retries) = ingest(addr, tallies, connections)?;
    let ingest_secs = t.elapsed().as_secs_f64();
    let last = Instant::now();
    let board_cpu = cpu_secs(&board.pid()) - board_cpu0;
    let client_cpu = cpu_secs("self") - client_cpu0;
    let witness_cpu = witnesses.iter().map(|w| cpu_secs(&w.pid())).sum::<f64>() - witness_cpu0;
    if ok != tallies.len() as u64 {
        bail!(
            "{} of {} tallies were not appended",
            tallies.len() as u64 - ok,
            tallies.len()
        );
    }
    let batches = metric(&agent, &url, "tallyboard_batches_total")? - batches_before;
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
    let n = tallies.len() as f64;
    let figures = HttpFigures {
        ingest_rate: n / ingest_secs,
        ingest_secs,
        retries,
        board_cpu_us: board_cpu * 1e6 / n,
        client_cpu_us: client_cpu * 1e6 / n,
        witness_cpu_us: witness_cpu * 1e6 / n,
        batches,
        cosign_ms,
        proof_rate: lat.len() as f64 / proof_secs,
        proof_p50_ms: pct(0.50),
        proof_p99_ms: pct(0.99),
    };
    drop(board);
    drop(witnesses);
    std::fs::remove_dir_all(&dir).ok();
    Ok(figures)
}

/// A counter from the board's `/metrics`.
fn metric(agent: &ureq::Agent, url: &str, name: &str) -> Result<u64> {
    let text = agent.get(&format!("{url}/metrics")).call()?.into_string()?;
    crate::ops_view::Exposition::parse(&text)?
        .value(name)
        .map(|v| v as u64)
        .with_context(|| format!("no {name} in /metrics"))
}

/// Posts every tally over `connections` keep-alive connections on one
/// thread; returns the number appended (201) and the retries after 429.
pub(crate) fn ingest(
    addr: std::net::SocketAddr,
    tallies: &[Vec<u8>],
    connections: usize,
) -> Result<(u64, u64)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let tallies: Arc<Vec<Vec<u8>>> = Arc::new(tallies.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..connections.max(1) {
            let (tallies, next, ok, retries) =
                (tallies.clone(), next.clone(), ok.clone(), retries.clone());
            tasks.push(tokio::spawn(async move {
                connection(addr, &tallies, &next, &ok, &retries).await
            }));
        }
        for t in tasks {
            t.await.map_err(|e| anyhow!("client task: {e}"))??;
        }
        anyhow::Ok(())
    })?;
    Ok((ok.load(Ordering::Relaxed), retries.load(Ordering::Relaxed)))
}

/// One client connection: requests one after the other, keep-alive.
async fn connection(
    addr: std::net::SocketAddr,
    tallies: &[Vec<u8>],
    next: &AtomicUsize,
    ok: &AtomicU64,
    retries: &AtomicU64,
) -> Result<()> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut req = Vec::with_capacity(1024);
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(body) = tallies.get(i) else {
            return Ok(());
        };
        req.clear();
        write!(
            req,
            "POST /api/v1/entries HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\nAccept: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        req.extend_from_slice(body);
        loop {
            s.write_all(&req).await?;
            let status = read_response(&mut s, &mut buf).await?;
            match status {
                201 => {
                    ok.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                429 | 503 => {
                    retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => bail!("tally {i}: HTTP {other}"),
            }
        }
    }
}

/// Reads one HTTP/1.1 response (status line, headers, a body of
/// `Content-Length` bytes); returns the status.
async fn read_response(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Result<u16> {
    let mut have = 0usize;
    let head_end = loop {
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = s.read(&mut buf[have..]).await?;
        if n == 0 {
            bail!("the board closed the connection");
        }
        have += n;
        if let Some(p) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| anyhow!("response head"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("status line")?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .context("no Content-Length")?;
    let mut body = have - head_end;
    while body < len {
        let want = (len - body).min(buf.len());
        let n = s.read(&mut buf[..want]).await?;
        if n == 0 {
            bail!("the board closed the connection mid-body");
        }
        body += n;
    }
    Ok(status)
}

/// The peer actasum's `log build` (PyPI `actasum`, which builds an unsigned
/// log without verifying anything) over the same stations' figures, timed
/// as a whole command. `None` if actasum is not installed.
pub fn actasum_seconds(e: &SyntheticElection) -> Result<Option<f64>> {
    if Command::new("actasum").arg("--help").output().is_err() {
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
    let out = Command::new("actasum")
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
