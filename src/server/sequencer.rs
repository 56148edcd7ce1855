//! The sequencer: one OS thread owns the [`Board`] and is the only writer.
//!
//! Submissions arrive already parsed and signature-checked by their HTTP
//! handler, against the published view (`write.rs`). The writer takes
//! everything queued, up to `max_batch` items (waiting at most `max_wait`
//! for more, 0 by default: what arrives while a batch is being made
//! durable makes the next batch), and hands the batch to
//! [`Board::append`], which re-validates each item against the latest state
//! (re-verifying a signature only if the required signer changed), signs
//! one checkpoint and commits the accepted entries with it in one durable
//! write. The board publishes its log state with the checkpoint
//! (`crate::log`); the writer then builds every receipt of the batch (one
//! tile cache for all their proofs) and answers each submitter with its
//! own: nothing is acknowledged before it is durable under a signed
//! checkpoint, and a submission crosses one thread boundary each way.
//!
//! Shutdown: [`Msg::Stop`] is sent after the HTTP server has stopped, so
//! every submission queued before it is committed and answered first.

use super::metrics::Metrics;
use crate::board::{Board, Outcome, Prepared};
use crate::store::cache::TreeCache;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tallyboard_core::merkle;
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_core::validate::ValidationError;
use tallyboard_core::Hash;
use tokio::sync::oneshot;

/// A receipt the writer built.
pub struct Receipt {
    /// The entry's index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// Whether the same bytes were already logged.
    pub duplicate: bool,
    /// The size of the checkpoint the receipt proves inclusion in.
    pub checkpoint_size: u64,
    /// The C2SP tlog-proof text.
    pub tlog_proof: String,
}

/// What the writer answers a submission with: a receipt, the rules'
/// refusal, or a storage failure.
pub type Reply = Result<Result<Receipt, ValidationError>, String>;

/// One queued submission.
pub struct Job {
    /// The parsed, signature-checked entry.
    pub prepared: Prepared,
    /// Where to send the outcome.
    pub reply: oneshot::Sender<Reply>,
}

/// A message to the writer.
pub enum Msg {
    /// Sequence this.
    Job(Box<Job>),
    /// Finish what is queued and stop.
    Stop,
}

/// Group-commit limits.
#[derive(Clone, Copy, Debug)]
pub struct BatchLimits {
    /// Most items per batch.
    pub max_batch: usize,
    /// Longest wait for more items once a batch has one.
    pub max_wait: Duration,
}

/// Runs the writer until [`Msg::Stop`] or until every sender is gone.
/// Returns the board so the caller can close it.
pub fn run(
    mut board: Board,
    rx: Receiver<Msg>,
    metrics: Arc<Metrics>,
    limits: BatchLimits,
) -> Board {
    let max_batch = limits.max_batch.max(1);
    loop {
        let first = match rx.recv() {
            Ok(Msg::Job(j)) => {
                metrics.queued.fetch_sub(1, Ordering::Relaxed);
                *j
            }
            Ok(Msg::Stop) | Err(_) => break,
        };
        let mut jobs = vec![first];
        let mut stop = false;
        let deadline = Instant::now() + limits.max_wait;
        while jobs.len() < max_batch {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Disconnected) => {
                    stop = true;
                    break;
                }
                Err(TryRecvError::Empty) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    match rx.recv_timeout(deadline - now) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => {
                            stop = true;
                            break;
                        }
                    }
                }
            };
            match msg {
                Msg::Job(j) => {
                    metrics.queued.fetch_sub(1, Ordering::Relaxed);
                    jobs.push(*j)
                }
                Msg::Stop => {
                    stop = true;
                    break;
                }
            }
        }
        commit(&mut board, jobs, &metrics);
        if stop {
            break;
        }
    }
    // Anything still queued (only possible if a sender raced the stop) is
    // refused rather than silently dropped.
    while let Ok(Msg::Job(j)) = rx.try_recv() {
        metrics.queued.fetch_sub(1, Ordering::Relaxed);
        let _ = j.reply.send(Err("the board is shutting down".into()));
    }
    tracing::info!(size = board.size(), "writer stopped");
    board
}

/// Exit status of `serve` when a commit to a shared (PostgreSQL) store
/// failed: the board steps down, to be started again as a standby
/// (EX_TEMPFAIL of sysexits.h).
pub const EXIT_STEPPED_DOWN: i32 = 75;

fn commit(board: &mut Board, jobs: Vec<Job>, metrics: &Metrics) {
    let n = jobs.len();
    let mut prepared = Vec::with_capacity(n);
    let mut replies = Vec::with_capacity(n);
    for j in jobs {
        prepared.push(j.prepared);
        replies.push(j.reply);
    }
    let started = Instant::now();
    let outcomes = match board.append(prepared) {
        Ok(o) => o,
        Err(e) => {
            if board.steps_down_on_failure() {
                // Another board may already hold the store (or will, once the
                // database is back): this process stops, nothing it
                // acknowledged is lost, and its supervisor starts it again
                // as a standby (spec/storage.md §8.3). The submitters of this
                // batch see the connection close and try the next board.
                tracing::error!(error = %format!("{e:#}"), items = n, "batch failed on a shared store; stepping down");
                std::process::exit(EXIT_STEPPED_DOWN);
            }
            tracing::error!(error = %format!("{e:#}"), items = n, "batch failed; the board refuses further appends until restarted");
            for r in replies {
                let _ = r.send(Err(format!("{e:#}")));
            }
            return;
        }
    };
    let latest = board.latest();
    let size = latest.checkpoint.size;
    // Every receipt of the batch, through one tile cache.
    let cache = TreeCache::new(board.store(), size);
    let answers: Vec<Reply> = outcomes
        .into_iter()
        .map(|o| {
            let (index, leaf, duplicate) = match o {
                Outcome::Appended { index, leaf } => (index, leaf, false),
                Outcome::Duplicate { index, leaf } => (index, leaf, true),
                Outcome::Rejected(e) => return Ok(Err(e)),
            };
            let proof = merkle::prove_inclusion(index, size, &cache)
                .map_err(|e| format!("building the receipt of entry {index}: {e}"))?;
            let text = TlogProof {
                extra: None,
                index,
                proof,
                checkpoint: latest.bytes.clone(),
            }
            .to_bytes();
            Ok(Ok(Receipt {
                index,
                leaf,
                duplicate,
                checkpoint_size: size,
                tlog_proof: String::from_utf8(text)
                    .map_err(|_| "a tlog-proof is not UTF-8".to_owned())?,
            }))
        })
        .collect();
    let took = started.elapsed();
    let appended = answers
        .iter()
        .filter(|a| matches!(a, Ok(Ok(r)) if !r.duplicate))
        .count() as u64;
    metrics.batch(n, appended, took);
    if appended > 0 {
        tracing::debug!(
            items = n,
            appended,
            size,
            micros = took.as_micros() as u64,
            "batch committed"
        );
    }
    for (a, r) in answers.into_iter().zip(replies) {
        let _ = r.send(a);
    }
}
