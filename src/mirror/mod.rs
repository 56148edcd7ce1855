//! `tallyboard mirror --from <url>`: a verified, read-only copy of a board
//! (`spec/mirror.md`).
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | options, the first sync, the follower thread, serving |
//! | `follow.rs` | one poll: verify the checkpoint, its consistency and every entry, then store |
//! | `local.rs` | the verified copy in the board's store |
//! | `evidence.rs` | the evidence of a refusal |
//! | `status.rs` | `GET /api/v1/mirror` and the refusal `/healthz` reports |
//!
//! The HTTP side is the board's own router over the mirror's store
//! (`server::serve_read_only`), so the tlog-tiles read path, the JSON API
//! and the site answer exactly as the board's do at the same checkpoint,
//! and `tallyboard-verify` works against a mirror unchanged.

mod evidence;
mod follow;
mod local;
pub mod status;

use crate::server;
use anyhow::{anyhow, bail, Context, Result};
use follow::{Paths, Poll, Upstream};
use local::Local;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use status::MirrorStatus;

/// `tallyboard mirror` options.
pub struct Options {
    /// The board's base URL (or a directory holding an export).
    pub from: String,
    /// Data directory (`store/`, `evidence/`).
    pub data: PathBuf,
    /// Where to serve.
    pub listen: SocketAddr,
    /// The log's verifier key (string or file), pinned.
    pub log_key: Option<String>,
    /// A witness policy (C2SP tlog-policy) every checkpoint must satisfy.
    pub policy: Option<PathBuf>,
    /// Time between polls.
    pub interval: Duration,
    /// Poll once, print the outcome and exit (0 in step, 1 refused, 2 could not poll).
    pub once: bool,
    /// Caps on concurrent `GET /live` streams of the mirror's site.
    pub live: server::LiveLimits,
}

/// Exit status of `--once`: the mirror is in step with the upstream.
pub const EXIT_IN_STEP: i32 = 0;
/// Exit status of `--once`: the upstream was refused; evidence written.
pub const EXIT_REFUSED: i32 = 1;
/// Exit status of `--once`: the poll could not complete; nothing changed.
pub const EXIT_PROBLEM: i32 = 2;

/// Runs the mirror; returns the process's exit status.
pub fn run(o: &Options) -> Result<i32> {
    let (mut local, up, paths) = open(o)?;
    if o.once {
        return Ok(once(&mut local, &up, &paths));
    }
    // Never sent: the mirror serves until SIGINT or SIGTERM.
    let (_never, stop) = tokio::sync::oneshot::channel();
    serve(o, local, up, paths, on_listen, stop)?;
    Ok(EXIT_IN_STEP)
}

/// A mirror serving from a thread of this process (`tallyboard demo --mirror`).
pub struct Running {
    /// Its base URL.
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Running {
    /// Stops serving and following, and waits for both.
    pub fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.thread
            .join()
            .map_err(|_| anyhow!("the mirror thread panicked"))?
    }
}

/// Starts a mirror in a thread; returns once it serves its first verified
/// checkpoint (`o.once` is ignored).
pub fn spawn(o: Options) -> Result<Running> {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("tallyboard-mirror-server".into())
        .spawn(move || -> Result<()> {
            let (local, up, paths) = open(&o)?;
            serve(
                &o,
                local,
                up,
                paths,
                move |a| {
                    let _ = addr_tx.send(a);
                },
                stop_rx,
            )
        })
        .context("starting the mirror")?;
    match addr_rx.recv() {
        Ok(addr) => Ok(Running {
            url: format!("http://{addr}"),
            stop: stop_tx,
            thread,
        }),
        // The thread ended before listening: its error says why.
        Err(_) => match thread.join() {
            Ok(Err(e)) => Err(e),
            _ => bail!("the mirror stopped before it served"),
        },
    }
}

/// Opens the upstream and the copy (verifying the copy end to end).
fn open(o: &Options) -> Result<(Option<Local>, Upstream, Paths)> {
    let src = follow::open_source(&o.from)?;
    let pinned = match &o.log_key {
        Some(k) => Some(crate::keyfile::read_vkey(k)?),
        None => None,
    };
    let policy = match &o.policy {
        Some(p) => Some(read_policy(p, pinned.as_ref())?),
        None => None,
    };
    let up = Upstream {
        src,
        pinned,
        policy,
    };
    let paths = Paths {
        data: o.data.clone(),
    };
    let local = Local::open(&paths.store(), up.pinned.as_ref())?;
    if let (Some(l), Some(p)) = (&local, &up.policy) {
        check_policy_names(p, &l.manifest().log_key().to_vkey_string())?;
    }
    Ok((local, up, paths))
}

/// Polls until the copy has a verified checkpoint, then serves it and
/// follows the upstream until SIGINT, SIGTERM or `stop`.
fn serve(
    o: &Options,
    mut local: Option<Local>,
    up: Upstream,
    paths: Paths,
    on_listen: impl FnOnce(SocketAddr),
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<()> {
    let status = Arc::new(MirrorStatus::new(&up.src.describe()));
    while local.as_ref().and_then(Local::latest).is_none() {
        match follow::poll(&mut local, &up, &paths) {
            Poll::Refused(r) => {
                bail!("[{}] {} (evidence: {})", r.code, r.message, r.evidence)
            }
            Poll::Problem(p) => {
                tracing::warn!(code = %p.code, message = %p.message, "waiting for a first verified checkpoint");
                status.polled_with_problem(p);
                std::thread::sleep(o.interval);
            }
            _ => status.polled_ok(),
        }
    }
    let l = local.context("the mirror's store is not open")?;
    let ro = server::ReadOnly {
        manifest: l.manifest().clone(),
        store: l.store().handle(),
        published: l.published(),
        status: status.clone(),
        live: o.live,
    };
    let stopped = Arc::new(AtomicBool::new(false));
    let follower = {
        let (stopped, status, interval) = (stopped.clone(), status.clone(), o.interval);
        std::thread::Builder::new()
            .name("tallyboard-mirror".into())
            .spawn(move || follow_loop(l, up, paths, status, stopped, interval))
            .context("starting the follower")?
    };
    let served = server::serve_read_only(ro, o.listen, on_listen, stop);
    stopped.store(true, Ordering::Relaxed);
    let _ = follower.join();
    served
}

fn on_listen(addr: SocketAddr) {
    use std::io::Write;
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
}

/// `--once`: one poll, its outcome on stdout.
fn once(local: &mut Option<Local>, up: &Upstream, paths: &Paths) -> i32 {
    let before = local
        .as_ref()
        .and_then(Local::latest)
        .map_or(0, |c| c.checkpoint.size);
    match follow::poll(local, up, paths) {
        Poll::Unchanged => println!("in step at size {before}"),
        Poll::Resigned => println!("in step at size {before} (checkpoint re-signed)"),
        Poll::Extended(a) => println!(
            "extended from size {before} to {} ({} entries verified)",
            a.end,
            a.end - a.first
        ),
        Poll::Problem(p) => {
            println!("could not poll: [{}] {}", p.code, p.message);
            return EXIT_PROBLEM;
        }
        Poll::Refused(r) => {
            println!(
                "REFUSED: [{}] {}\nevidence: {}",
                r.code,
                r.message,
                paths.data.join(&r.evidence).display()
            );
            return EXIT_REFUSED;
        }
    }
    EXIT_IN_STEP
}

/// Polls every `interval` until stopped or until it refuses the upstream.
/// Each verified extension is published by the log itself once durable.
fn follow_loop(
    l: Local,
    up: Upstream,
    paths: Paths,
    status: Arc<MirrorStatus>,
    stop: Arc<AtomicBool>,
    interval: Duration,
) {
    let mut local = Some(l);
    while !stop.load(Ordering::Relaxed) {
        match follow::poll(&mut local, &up, &paths) {
            Poll::Unchanged | Poll::Resigned | Poll::Extended(_) => status.polled_ok(),
            Poll::Problem(p) => {
                tracing::warn!(code = %p.code, message = %p.message, "poll did not complete");
                status.polled_with_problem(p);
            }
            Poll::Refused(r) => {
                // Keep serving the last verified state; stop following.
                status.refused(r);
                return;
            }
        }
        sleep_unless_stopped(&stop, interval);
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !stop.load(Ordering::Relaxed) && !left.is_zero() {
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
}

fn read_policy(
    path: &std::path::Path,
    pinned: Option<&tallyboard_core::note::VerifierKey>,
) -> Result<tallyboard_core::policy::Policy> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let policy = tallyboard_core::policy::Policy::parse(&text)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if let Some(k) = pinned {
        check_policy_names(&policy, &k.to_vkey_string())?;
    }
    Ok(policy)
}

fn check_policy_names(policy: &tallyboard_core::policy::Policy, log_vkey: &str) -> Result<()> {
    if !policy
        .logs
        .iter()
        .any(|l| l.key.to_vkey_string() == log_vkey)
    {
        bail!("the witness policy does not name the log key {log_vkey}");
    }
    Ok(())
}
