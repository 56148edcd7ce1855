//! `serve --publish TARGET`: the board keeps a static copy of its read path
//! in a directory or bucket up to date while it runs (`spec/publishing.md`
//! §5), so a CDN serves the readers and the board serves the stations.
//!
//! Like witnessing, one background thread does it, off the write path: the
//! writer never waits for an upload, and a slow or unreachable target only
//! delays the published copy. The thread polls for a new served checkpoint
//! (`GET /checkpoint`'s: the cosigned one when the board is witness-gated),
//! so a burst of batches collapses into one pass that writes only the new
//! tiles, bundles and blobs and then the checkpoint. A failed pass is
//! retried with backoff; the target keeps its previous, complete checkpoint
//! meanwhile. At shutdown the thread makes one last pass, so the target
//! ends with the board's final checkpoint.

use super::witnessing::{served_checkpoint, Witnessing};
use crate::publish::{Publisher, Sink, Snapshot};
use crate::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::note::Verifiers;

/// How often the thread looks for a new checkpoint.
const POLL: Duration = Duration::from_millis(50);
/// First and longest wait before retrying a failed pass.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// A publish target for `serve`.
#[derive(Clone)]
pub struct PublishTarget(pub Arc<dyn Sink + Send>);

impl std::fmt::Debug for PublishTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PublishTarget")
            .field(&self.0.describe())
            .finish()
    }
}

/// Tells the thread to make its last pass and stop.
pub struct Stop(AtomicBool);

impl Stop {
    /// Asks for the last pass.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Starts the publishing thread.
pub fn spawn(
    target: PublishTarget,
    published: Arc<crate::log::Published>,
    witnessing: Option<Arc<Witnessing>>,
    store: Store,
    manifest: ValidatedManifest,
) -> std::io::Result<(Arc<Stop>, std::thread::JoinHandle<()>)> {
    let stop = Arc::new(Stop(AtomicBool::new(false)));
    let stopping = stop.clone();
    let handle = std::thread::Builder::new()
        .name("tallyboard-publishing".into())
        .spawn(move || {
            let sink = target.0;
            let mut verifiers = Verifiers::new();
            verifiers.add(manifest.log_key().clone());
            let origin = manifest.manifest().log.origin.clone();
            let mut publisher = Publisher::new(&*sink);
            let mut done: Option<Vec<u8>> = None;
            let mut retry = RETRY_FIRST;
            let mut not_before = Instant::now();
            loop {
                let last = stopping.0.load(Ordering::Relaxed);
                let (note, size) = served_checkpoint(witnessing.as_deref(), &published);
                let due = Instant::now() >= not_before || last;
                if done.as_deref() == Some(note.as_slice()) || !due {
                    if last {
                        break;
                    }
                    std::thread::sleep(POLL);
                    continue;
                }
                let snap = Snapshot {
                    store: &store,
                    origin: &origin,
                    verifiers: &verifiers,
                    manifest: manifest.digest(),
                    checkpoint: &note,
                    size,
                };
                let started = Instant::now();
                match publisher.publish(&snap) {
                    Ok(stats) => {
                        tracing::info!(
                            target = %sink.describe(),
                            size,
                            objects = stats.objects_written,
                            bytes = stats.bytes_written,
                            ms = started.elapsed().as_millis() as u64,
                            "published"
                        );
                        done = Some(note);
                        retry = RETRY_FIRST;
                    }
                    Err(e) => {
                        tracing::warn!(target = %sink.describe(), size, code = %e.code, error = %e.message, "publish failed; the target keeps its previous checkpoint");
                        not_before = Instant::now() + retry;
                        retry = (retry * 2).min(RETRY_MAX);
                    }
                }
                if last {
                    break;
                }
            }
        })?;
    Ok((stop, handle))
}
