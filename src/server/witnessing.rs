//! Witnessing: the board pushes each new checkpoint to the witnesses of its
//! policy (C2SP tlog-witness), collects their cosignatures and publishes the
//! cosigned checkpoint (`spec/witness.md`, `spec/http-api.md`).
//!
//! One background thread does it, off the write path: the writer never
//! waits for a witness, and a slow or absent witness delays only the
//! cosigned checkpoint, never a receipt. Every cosignature collected is
//! stored with its checkpoint (`spec/storage.md`), so a restarted board,
//! `GET /api/v1/checkpoints/<size>`, `export` and `publish` serve the
//! cosigned checkpoint, and a restarted board serves the newest one that
//! meets the quorum before it has pushed anything. The thread polls the published view
//! for a new checkpoint, so bursts of batches collapse into one push of the
//! newest. With a policy configured, `GET /checkpoint` serves the newest
//! checkpoint whose cosignatures meet the policy's quorum (witness-gated
//! publication, as Tessera does); until one exists it serves the newest
//! signed checkpoint, so the read path never goes dark.

pub use super::witness_health::{Health, WitnessHealth};
use crate::log::Published;
use crate::store::Store;
use crate::witness_client::{WitnessAhead, WitnessPool};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tallyboard_core::merkle;
use tallyboard_core::policy::Policy;
use utoipa::ToSchema;

/// How often the thread looks for a new checkpoint.
const POLL: Duration = Duration::from_millis(20);

/// A push some witness did not answer is tried again after this, then
/// after twice as long each time, up to [`RETRY_MAX`], until every witness
/// cosigned or a newer checkpoint replaces it: a log that stops growing
/// (the end of election day) must still reach its quorum.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// One witness's cosignature on the published checkpoint.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Cosigner {
    /// The witness's name in the policy.
    pub name: String,
    /// The cosignature's timestamp (POSIX seconds).
    pub timestamp: u64,
}

/// The latest checkpoint the witnesses were asked to cosign.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Witnessed {
    /// Its tree size.
    pub size: u64,
    /// The checkpoint note with every verified cosignature attached.
    pub checkpoint: String,
    /// Witnesses whose cosignature verified.
    pub cosigned_by: Vec<Cosigner>,
    /// Whether those cosignatures meet the policy's quorum.
    pub quorum_met: bool,
    /// Groups of the policy and whether each is satisfied.
    pub groups: Vec<GroupState>,
    /// Witnesses that did not cosign, and why.
    pub failures: Vec<Failure>,
    /// Milliseconds from the checkpoint's publication by the writer to the
    /// end of the push.
    pub latency_ms: u64,
}

/// A policy group's state.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GroupState {
    /// Group name.
    pub name: String,
    /// Whether enough members cosigned.
    pub satisfied: bool,
}

/// A witness that did not cosign.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Failure {
    /// The witness.
    pub name: String,
    /// What went wrong.
    pub reason: String,
}

/// Shared between the thread and the HTTP handlers.
pub struct Witnessing {
    /// The policy (its log key, witnesses, groups and quorum).
    pub policy: Policy,
    /// The newest push's outcome.
    latest: RwLock<Option<Arc<Witnessed>>>,
    /// The newest checkpoint whose cosignatures meet the quorum (note bytes, size).
    quorate: RwLock<Option<(Vec<u8>, u64)>>,
    /// Set, for good, when a witness holds more of this log than the board:
    /// the board then refuses submissions (`board.behind-witnesses`).
    behind: RwLock<Option<WitnessAhead>>,
    /// Every witness the board pushes to, as the operator sees it.
    pub health: Health,
    stop: AtomicBool,
}

impl Witnessing {
    /// The state before any push.
    pub fn new(policy: Policy) -> Witnessing {
        Witnessing {
            health: Health::new(&policy),
            policy,
            latest: RwLock::new(None),
            quorate: RwLock::new(None),
            behind: RwLock::new(None),
            stop: AtomicBool::new(false),
        }
    }

    /// The newest push's outcome.
    pub fn latest(&self) -> Option<Arc<Witnessed>> {
        self.latest
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The newest checkpoint whose cosignatures meet the quorum.
    pub fn quorate(&self) -> Option<(Vec<u8>, u64)> {
        self.quorate
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The evidence that a witness holds more of this log than the board,
    /// once a push has found it.
    pub fn behind(&self) -> Option<WitnessAhead> {
        self.behind
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Records the first evidence of a witness ahead of the board, with one
    /// clear line for the operator.
    fn fell_behind(&self, ahead: &[WitnessAhead]) {
        let Some(first) = ahead.first() else { return };
        let mut b = self.behind.write().unwrap_or_else(|e| e.into_inner());
        if b.is_none() {
            tracing::error!(
                code = "board.behind-witnesses",
                evidence = %first,
                "A WITNESS HOLDS MORE OF THIS LOG THAN THE BOARD: refusing every submission; see spec/operations.md, 'A board behind its witnesses'"
            );
            *b = Some(first.clone());
        }
    }

    /// Asks the thread to stop after its current push.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The checkpoint `GET /checkpoint` serves, and `serve --publish` publishes:
/// with a policy, the newest whose cosignatures meet the quorum; until there
/// is one (and without a policy), the newest signed one. Returns the note
/// and its tree size.
pub fn served_checkpoint(witnessing: Option<&Witnessing>, published: &Published) -> (Vec<u8>, u64) {
    if let Some(q) = witnessing.and_then(|w| w.quorate()) {
        return q;
    }
    let latest = published.checkpoint();
    (latest.bytes.clone(), latest.checkpoint.size)
}

/// Starts the witnessing thread.
pub fn spawn(
    witnessing: Arc<Witnessing>,
    published: Arc<Published>,
    store: Store,
    origin: String,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let pool = WitnessPool::from_policy(&witnessing.policy, Duration::from_secs(5));
    restore_quorate(&witnessing, &store, &origin);
    // Before the board takes any submission (this runs before it listens):
    // do its witnesses hold more of this log than it does, as a board
    // restored from an old copy would find? The first push answers.
    let first = published.checkpoint();
    let mut complete = push(
        &witnessing,
        &pool,
        &store,
        &origin,
        &first.bytes,
        first.checkpoint.size,
    );
    let mut pushed = first.checkpoint.size;
    let mut backoff = RETRY_FIRST;
    let mut retry_at = Instant::now() + backoff;
    std::thread::Builder::new()
        .name("tallyboard-witnessing".into())
        .spawn(move || {
            while !witnessing.stop.load(Ordering::Relaxed) {
                let latest = published.checkpoint();
                let size = latest.checkpoint.size;
                if size != pushed {
                    complete = push(&witnessing, &pool, &store, &origin, &latest.bytes, size);
                    pushed = size;
                    backoff = RETRY_FIRST;
                    retry_at = Instant::now() + backoff;
                } else if !complete && Instant::now() >= retry_at {
                    tracing::info!(
                        size,
                        retry_in_ms = backoff.as_millis() as u64,
                        "pushing the checkpoint again to the witnesses that did not cosign it"
                    );
                    complete = push(&witnessing, &pool, &store, &origin, &latest.bytes, size);
                    backoff = (backoff * 2).min(RETRY_MAX);
                    retry_at = Instant::now() + backoff;
                } else {
                    std::thread::sleep(POLL);
                }
            }
        })
}

/// Pushes one checkpoint to the witnesses and records the outcome: the
/// cosignatures stored with the checkpoint, the quorate checkpoint, the
/// evidence of a witness ahead of the board, and `GET /api/v1/witnessed`.
/// Returns whether every witness cosigned it (nothing left to retry).
fn push(
    witnessing: &Witnessing,
    pool: &WitnessPool,
    store: &Store,
    origin: &str,
    checkpoint: &[u8],
    size: u64,
) -> bool {
    let started = Instant::now();
    let cosigned = pool.push(checkpoint, |old, new| {
        let cache = crate::store::cache::TreeCache::new(store, new);
        merkle::prove_consistency(old, new, &cache).unwrap_or_default()
    });
    let (quorum_met, groups) = match witnessing.policy.verify_checkpoint(&cosigned.note, origin) {
        Ok((_, verdict)) => (
            verdict.quorum_met,
            verdict
                .groups
                .iter()
                .map(|g| GroupState {
                    name: g.group.clone(),
                    satisfied: g.satisfied,
                })
                .collect(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cosigned checkpoint does not verify under the policy");
            (false, Vec::new())
        }
    };
    witnessing.fell_behind(&cosigned.ahead);
    witnessing
        .health
        .record(size, &cosigned.cosigned_by, &cosigned.failures);
    for (name, reason) in &cosigned.failures {
        tracing::warn!(witness = %name, %reason, size, "witness did not cosign");
    }
    let w = Witnessed {
        size,
        checkpoint: String::from_utf8_lossy(&cosigned.note).into_owned(),
        cosigned_by: cosigned
            .cosigned_by
            .iter()
            .map(|(name, timestamp)| Cosigner {
                name: name.clone(),
                timestamp: *timestamp,
            })
            .collect(),
        quorum_met,
        groups,
        failures: cosigned
            .failures
            .iter()
            .map(|(name, reason)| Failure {
                name: name.clone(),
                reason: reason.clone(),
            })
            .collect(),
        latency_ms: started.elapsed().as_millis() as u64,
    };
    if !cosigned.cosigned_by.is_empty() {
        // Durable before it is served as cosigned: the store keeps the note
        // with every verified cosignature in place of the log-signed one
        // (the same checkpoint, more signatures).
        let stored = store.put_cosigned(size, &cosigned.note);
        if let Err(e) = stored {
            tracing::error!(error = %format!("{e:#}"), size, "could not store the cosigned checkpoint");
        }
    }
    if quorum_met {
        if let Ok(mut q) = witnessing.quorate.write() {
            *q = Some((cosigned.note.clone(), size));
        }
    }
    tracing::debug!(
        size,
        quorum_met,
        cosigners = w.cosigned_by.len(),
        "witnessed"
    );
    let complete = w.failures.is_empty() && quorum_met;
    if let Ok(mut l) = witnessing.latest.write() {
        *l = Some(Arc::new(w));
    }
    complete
}

/// Sets the newest stored checkpoint whose stored cosignatures meet the
/// policy's quorum as the one `GET /checkpoint` serves, so that a restarted
/// board serves what its witnesses cosigned before it stopped.
fn restore_quorate(witnessing: &Witnessing, store: &Store, origin: &str) {
    // The newest cosigned notes first; a few are enough (the witnesses
    // cosign as the board goes, so the newest one nearly always meets it).
    let notes = match store.cosigned(RESTORE_LOOKBACK) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "reading the stored cosigned checkpoints");
            return;
        }
    };
    witnessing.health.restore(&witnessing.policy, &notes);
    for (size, note) in notes {
        let met = witnessing
            .policy
            .verify_checkpoint(&note, origin)
            .is_ok_and(|(_, v)| v.quorum_met);
        if met {
            tracing::info!(
                size,
                "serving the newest stored checkpoint that meets the witness quorum"
            );
            if let Ok(mut q) = witnessing.quorate.write() {
                *q = Some((note, size));
            }
            return;
        }
    }
}

/// Cosigned checkpoints a restarted board looks back through for one that
/// meets its quorum.
const RESTORE_LOOKBACK: usize = 64;

/// `GET /api/v1/witnessed`.
#[utoipa::path(get, path = "/api/v1/witnessed", tag = "tiles",
    responses(
        (status = 200, description = "The newest checkpoint pushed to the witnesses, its cosignatures and whether they meet the policy's quorum", body = Witnessed),
        (status = 404, description = "The board has no witness policy, or has not pushed a checkpoint yet", body = super::errors::ErrorBody),
    ))]
pub async fn witnessed(
    axum::extract::State(st): axum::extract::State<super::AppState>,
) -> Result<axum::Json<Witnessed>, super::errors::ApiError> {
    let latest = st.witnessing.as_ref().and_then(|w| w.latest());
    match latest {
        Some(w) => Ok(axum::Json((*w).clone())),
        None => Err(super::errors::ApiError::not_found(
            "this board has no witness policy, or has not pushed a checkpoint to its witnesses yet",
        )),
    }
}
