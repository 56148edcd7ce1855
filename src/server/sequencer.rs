//! The sequencer: one OS thread owns the [`Board`] and is the only writer.
//!
//! Submissions arrive already parsed and signature-checked (on the rayon
//! pool, against the published view; see `write.rs`). The writer drains its
//! queue into a batch of at most `max_batch` items, waiting at most
//! `max_wait` for more once it has one, and hands the batch to
//! [`Board::append`], which re-validates each item against the latest state
//! (re-verifying a signature only if the required signer changed), writes
//! the accepted ones in one atomic batch, fsyncs, and signs one checkpoint.
//! The board publishes its log state with the checkpoint (`crate::log`),
//! then the submitters are answered: nothing is acknowledged before it is
//! durable under a signed checkpoint.
//!
//! Shutdown: [`Msg::Stop`] is sent after the HTTP server has stopped, so
//! every submission queued before it is committed and answered first.

use super::metrics::Metrics;
use crate::board::{Board, Outcome, Prepared, SignedCheckpoint};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What the writer answers a submission with.
pub type Reply = Result<(Outcome, Arc<SignedCheckpoint>), String>;

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
            Ok(Msg::Job(j)) => *j,
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
                Msg::Job(j) => jobs.push(*j),
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
        let _ = j.reply.send(Err("the board is shutting down".into()));
    }
    tracing::info!(size = board.size(), "writer stopped");
    board
}

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
            tracing::error!(error = %format!("{e:#}"), items = n, "batch failed; the board refuses further appends until restarted");
            for r in replies {
                let _ = r.send(Err(format!("{e:#}")));
            }
            return;
        }
    };
    let took = started.elapsed();
    let latest = board.latest();
    let appended = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Appended { .. }))
        .count() as u64;
    metrics.batch(n, appended, took);
    if appended > 0 {
        tracing::debug!(
            items = n,
            appended,
            size = latest.checkpoint.size,
            micros = took.as_micros() as u64,
            "batch committed"
        );
    }
    for (o, r) in outcomes.into_iter().zip(replies) {
        let _ = r.send(Ok((o, latest.clone())));
    }
}
