//! `tallyboard serve`: the board over HTTP (`spec/http-api.md`).
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | configuration, shared state, router, start-up and graceful shutdown |
//! | `sequencer.rs` | the single writer thread and group commit |
//! | `write.rs` | `POST /api/v1/entries` (receipts) and blobs |
//! | `read.rs` | C2SP tlog-tiles read path: `/checkpoint`, `/tile/...` |
//! | `api.rs` | JSON API: proofs, checkpoints, entries, stations, totals, announcements, results |
//! | `cors.rs` | CORS on reads only |
//! | `exports.rs` | `/api/v1/exports/*`: built once per checkpoint in the background, served from memory |
//! | `live_limit.rs` | the caps on concurrent `GET /live` streams, overall and per client address |
//! | `errors.rs` | the JSON error shape and status mapping |
//! | `metrics.rs` | Prometheus metrics |
//! | `witness_health.rs` | each witness's last cosignature and failure, for the operators |
//! | `operator.rs` | the operator's figures, for `/metrics` and the `/operator` page |
//! | `rate_limit.rs` | the per-client-address limit of the write routes |
//! | `publishing.rs` | `--publish`: keeping a static copy of the read path up to date |
//! | `openapi.rs` | the OpenAPI 3 document |

mod api;
pub(crate) mod compression;
mod cors;
mod errors;
mod exports;
pub mod live_limit;
mod metrics;
mod openapi;
pub mod operator;
mod publishing;
mod rate_limit;
mod read;
mod sequencer;
mod static_wasm;
mod witness_health;
mod witnessing;
mod write;

use crate::board::{Board, SignedCheckpoint};
use crate::log::{Published, Snapshot};
use crate::store::Store;
use anyhow::{Context, Result};
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::note::VerifierKey;
use tokio::sync::Semaphore;
use tower_http::trace::TraceLayer;

pub use crate::http_limits::SlowClientLimits;
pub use live_limit::LiveLimits;
pub use publishing::PublishTarget;
pub use rate_limit::RateLimit;
pub use sequencer::BatchLimits;
use sequencer::Msg;

/// Largest entry submission body (`POST /api/v1/entries`): one byte more
/// than the largest legal entry (`spec/entries.md`: 65,535 bytes), so that
/// an entry just over the limit is still parsed and refused with
/// `entry.too-large`, and anything longer is cut off unread.
pub const MAX_ENTRY_BODY: usize = tallyboard_core::entry::MAX_ENTRY_SIZE + 1;

/// Server settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Group-commit limits.
    pub limits: BatchLimits,
    /// Submissions admitted at once (being verified, queued or written);
    /// beyond it the server answers 429.
    pub queue: usize,
    /// Witnesses to push checkpoints to, and the quorum `/checkpoint` waits for.
    pub policy: Option<tallyboard_core::policy::Policy>,
    /// Header and body timeouts for slow clients.
    pub slow_clients: SlowClientLimits,
    /// Per-client-address limit of the write routes (off when `None`).
    pub rate_limit: Option<RateLimit>,
    /// Where to publish the read path after each new checkpoint (`spec/publishing.md` §5).
    pub publish: Option<PublishTarget>,
    /// Serve HTTPS with this acceptor (`serve --tls-cert --tls-key`).
    pub tls: Option<Tls>,
    /// Caps on concurrent `GET /live` streams.
    pub live: LiveLimits,
    /// Where the other round of a two-round election is served, for the
    /// site's links (`serve --previous-round-url/--next-round-url`).
    pub rounds: Rounds,
}

/// The boards of the other rounds, as the operator configures them
/// (spec/site.md §8): a log cannot name the board of a round after it,
/// and a second round's manifest names its first round's log, not where
/// it is served.
#[derive(Clone, Debug, Default)]
pub struct Rounds {
    /// The first round's board (this board holds a second round).
    pub previous: Option<String>,
    /// The second round's board (this board held a first round that ended
    /// in a runoff).
    pub next: Option<String>,
}

/// The TLS acceptor `serve` answers with ([`crate::http_limits::tls_acceptor`]).
#[derive(Clone)]
pub struct Tls(pub tokio_rustls::TlsAcceptor);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        f.write_str("Tls(..)")
    }
}

impl Config {
    /// A board run inside another command (the demo, the benchmark): the
    /// `serve` defaults (batches of up to 1,024, no wait, a queue of 4,096), the
    /// given witness policy, and no per-address rate limit, since all its
    /// station clients come from one address.
    pub fn in_process(listen: SocketAddr, policy: tallyboard_core::policy::Policy) -> Config {
        Config {
            listen,
            limits: BatchLimits {
                max_batch: 1024,
                max_wait: std::time::Duration::ZERO,
            },
            queue: 4096,
            policy: Some(policy),
            slow_clients: SlowClientLimits::default(),
            rate_limit: None,
            publish: None,
            tls: None,
            live: LiveLimits::default(),
            rounds: Rounds::default(),
        }
    }
}

/// Everything the handlers share.
pub struct Shared {
    /// The manifest.
    pub manifest: ValidatedManifest,
    /// A read handle on the board's store.
    pub store: Store,
    /// The log state at the latest checkpoint, published by the writer (or
    /// the mirror's follower) after every durable commit.
    pub published: Arc<Published>,
    /// The log's verifier key.
    pub log_vkey: VerifierKey,
    /// Metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// Admission control for submissions.
    pub admission: Arc<Semaphore>,
    /// Witnessing, when the board has a witness policy.
    pub witnessing: Option<Arc<witnessing::Witnessing>>,
    /// The per-address limit of the write routes, when configured.
    pub rate_limiter: Option<rate_limit::RateLimiter>,
    /// Set when this server is a mirror (`src/mirror/`): it serves the read
    /// side over a verified copy and refuses every write.
    pub mirror: Option<Arc<crate::mirror::MirrorStatus>>,
    /// The exports, built in the background (`exports.rs`).
    pub exports: exports::ExportCache,
    /// The `GET /live` streams open now, and their caps.
    pub live_streams: Arc<live_limit::LiveStreams>,
    /// The other rounds' boards, for the site's links.
    pub rounds: Rounds,
    /// The writer's queue; a mirror has none.
    queue: Option<SyncSender<Msg>>,
    /// Its capacity (0 without a writer).
    pub queue_capacity: u64,
    /// The last measured store and disk figures (`operator.rs`).
    pub disk: operator::DiskCache,
}

/// Cheap-to-clone handle for handlers.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Shared {
    /// The log at the latest signed checkpoint.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.published.get()
    }

    /// The latest signed checkpoint.
    pub fn latest(&self) -> Arc<SignedCheckpoint> {
        self.published.checkpoint()
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.manifest.manifest().log.origin
    }
}

/// Builds the router over shared state.
pub fn router(st: AppState) -> Router {
    let limit_writes =
        || axum::middleware::from_fn_with_state(st.clone(), rate_limit::limit_writes);
    let api = Router::new()
        .route("/entries", post(write::submit_entry).layer(limit_writes()))
        .route("/entries/{index}", get(api::entry))
        .route("/blobs", post(write::put_blob).layer(limit_writes()))
        .route("/blobs/{sha256}", get(api::blob))
        .route("/proof/inclusion", get(api::inclusion))
        .route("/proof/consistency", get(api::consistency))
        .route("/checkpoints/{size}", get(api::checkpoint_at))
        .route("/stations/{station}", get(api::station))
        .route("/totals", get(api::totals))
        .route("/announcements", get(api::announcements))
        .route("/results/{contest}", get(api::results))
        .route("/exports/results.csv", get(exports::export_csv))
        .route("/exports/results.json", get(exports::export_json))
        .route("/exports/nist-err.json", get(exports::export_nist))
        .route(
            "/exports/stations/{level}/{file}",
            get(exports::export_stations),
        )
        .route("/log", get(api::log_info))
        .route("/manifest", get(api::manifest))
        .route(
            "/manifest/slices/{station}",
            get(api::manifest_slice).layer(compression::slice_layer()),
        )
        .route("/witnessed", get(witnessing::witnessed))
        // The same blob at the path the verifier reads (spec/verification.md).
        .route("/manifest.json", get(api::manifest_json))
        .route("/openapi.json", get(openapi::openapi_json));
    // Only a mirror has this route, so the board's OpenAPI document (which
    // lists exactly the board's routes) is unchanged.
    let api = if st.mirror.as_ref().is_some_and(|m| !m.is_standby()) {
        api.route("/mirror", get(crate::mirror::status::status))
    } else {
        api
    };
    Router::new()
        .route("/checkpoint", get(read::checkpoint))
        .route("/tile/{*path}", get(read::tile))
        .route("/healthz", get(read::healthz))
        .route("/metrics", get(metrics::metrics))
        .nest("/api/v1", api)
        .merge(static_wasm::routes())
        .merge(crate::site::router(st.clone()))
        .fallback(errors::not_found)
        .method_not_allowed_fallback(errors::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            st.clone(),
            metrics::count_rejections,
        ))
        .layer(cors::layer())
        .layer(axum::middleware::from_fn(cors::reads_only))
        .layer(compression::layer())
        .layer(TraceLayer::new_for_http().on_failure(log_failure))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        )
        .with_state(st)
}

/// Serves `board` until SIGINT or SIGTERM, then finishes the batch in
/// flight (and everything queued) before returning. `on_listen` is called
/// with the bound address once the socket is listening.
pub fn serve(board: Board, config: Config, on_listen: impl FnOnce(SocketAddr)) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve_async(board, config, on_listen, shutdown_signal()))
}

/// Like [`serve`], but also stops when `stop` receives a message (the demo
/// runs the board in a thread of its own process).
pub fn serve_until(
    board: Board,
    config: Config,
    on_listen: impl FnOnce(SocketAddr),
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let shutdown = async move {
        tokio::select! {
            _ = shutdown_signal() => {}
            _ = stop => {}
        }
    };
    rt.block_on(serve_async(board, config, on_listen, shutdown))
}

async fn serve_async(
    board: Board,
    config: Config,
    on_listen: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let manifest = board.manifest().clone();
    let published = board.published();
    let metrics = Arc::new(metrics::Metrics::default());
    let queue = config.queue.max(1);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(queue);
    let witnessing = config
        .policy
        .clone()
        .map(|p| Arc::new(witnessing::Witnessing::new(p)));
    let witness_thread = match &witnessing {
        Some(w) => Some(
            witnessing::spawn(
                w.clone(),
                published.clone(),
                board.store().handle(),
                manifest.manifest().log.origin.clone(),
            )
            .context("starting the witnessing thread")?,
        ),
        None => None,
    };
    // Moved into the thread: the target is dropped there, off the async runtime.
    let publishing = match config.publish {
        Some(target) => Some(
            publishing::spawn(
                target,
                published.clone(),
                witnessing.clone(),
                board.store().handle(),
                manifest.clone(),
            )
            .context("starting the publishing thread")?,
        ),
        None => None,
    };
    let shared = Shared {
        witnessing: witnessing.clone(),
        log_vkey: manifest.log_key().clone(),
        manifest,
        store: board.store().handle(),
        published,
        metrics: metrics.clone(),
        admission: Arc::new(Semaphore::new(queue)),
        rate_limiter: config.rate_limit.map(rate_limit::RateLimiter::new),
        mirror: None,
        exports: exports::ExportCache::default(),
        live_streams: Arc::new(live_limit::LiveStreams::new(config.live)),
        rounds: config.rounds,
        queue: Some(tx.clone()),
        queue_capacity: queue as u64,
        disk: operator::DiskCache::default(),
    };
    let limits = config.limits;
    let writer = std::thread::Builder::new()
        .name("tallyboard-writer".into())
        .spawn(move || sequencer::run(board, rx, metrics, limits))
        .context("starting the writer thread")?;

    let shared = Arc::new(shared);
    exports::spawn(Arc::downgrade(&shared)).context("starting the exports thread")?;
    let app = router(AppState(shared));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    on_listen(addr);
    let served = crate::http_limits::serve_with(
        listener,
        app,
        config.slow_clients,
        errors::framing_body,
        config.tls.map(|t| t.0),
        shutdown,
    )
    .await;
    tracing::info!("HTTP server stopped; finishing queued submissions");
    // Every handler has returned, so nothing new can be queued: the stop
    // message is the last one and the writer commits everything before it.
    let _ = tx.send(Msg::Stop);
    drop(tx);
    let board = tokio::task::spawn_blocking(move || writer.join())
        .await
        .context("joining the writer")?
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
    if let (Some(w), Some(t)) = (witnessing, witness_thread) {
        w.stop();
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
    // After the writer: the last pass publishes the final checkpoint.
    if let Some((stop, t)) = publishing {
        stop.stop();
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
    tracing::info!(size = board.size(), "board closed");
    served.context("serving HTTP")
}

/// What a mirror hands the server: a verified copy of the log and the view
/// its follower keeps current (`src/mirror/`).
pub struct ReadOnly {
    /// The manifest.
    pub manifest: ValidatedManifest,
    /// A read handle on the mirror's store.
    pub store: Store,
    /// The published snapshot; the follower moves it after each verified
    /// checkpoint is durable.
    pub published: Arc<Published>,
    /// The follower's status.
    pub status: Arc<crate::mirror::MirrorStatus>,
    /// Caps on concurrent `GET /live` streams (`mirror --live-max`,
    /// `--live-per-client`), as on the board.
    pub live: LiveLimits,
}

/// Serves the read side of the router (the same handlers as the board's)
/// over a mirror's store until SIGINT, SIGTERM or `stop`; every write is
/// refused with `mirror.read-only`.
pub fn serve_read_only(
    ro: ReadOnly,
    listen: SocketAddr,
    on_listen: impl FnOnce(SocketAddr),
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let shared = Shared {
            log_vkey: ro.manifest.log_key().clone(),
            manifest: ro.manifest,
            store: ro.store,
            published: ro.published,
            metrics: Arc::new(metrics::Metrics::default()),
            admission: Arc::new(Semaphore::new(1)),
            witnessing: None,
            // A mirror takes no writes, so nothing to limit per client.
            rate_limiter: None,
            mirror: Some(ro.status),
            exports: exports::ExportCache::default(),
            // A mirror serves the site too, so its streams are capped as
            // the board's are (spec/mirror.md §5).
            live_streams: Arc::new(live_limit::LiveStreams::new(ro.live)),
            rounds: Rounds::default(),
            queue: None,
            queue_capacity: 0,
            disk: operator::DiskCache::default(),
        };
        let shared = Arc::new(shared);
        exports::spawn(Arc::downgrade(&shared)).context("starting the exports thread")?;
        let app = router(AppState(shared));
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "mirror listening");
        on_listen(addr);
        let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            tokio::select! {
                _ = shutdown_signal() => {}
                _ = stop => {}
            }
            let _ = stopping_tx.send(());
        };
        // Slow clients are cut off as on the board (spec/operations.md §6).
        let serving = crate::http_limits::serve(
            listener,
            app,
            SlowClientLimits::default(),
            errors::framing_body,
            shutdown,
        );
        // Connections still open 1 s after the stop (live streams never end
        // on their own) are cut when the runtime goes: a standby taking over
        // must not wait for its readers (spec/storage.md §8.3).
        tokio::select! {
            r = serving => r.context("serving HTTP"),
            _ = async {
                if stopping.await.is_ok() {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => Ok(()),
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// Runs blocking storage reads off the async workers and awaits them.
pub(crate) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, errors::ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| errors::ApiError::storage(format!("a blocking task failed: {e}")))
}

/// How a failed request is logged. A 503 is the board shedding load by
/// design (a full queue, the `/live` caps, an export not built yet: each
/// with `Retry-After`, spec/http-api.md §2) and is logged at WARN, so that a
/// flood of them does not bury the ERROR lines an operator must act on:
/// every other 5xx, and errors classified below the status line.
fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _span: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass;
    let ms = latency.as_millis();
    match class {
        ServerErrorsFailureClass::StatusCode(code)
            if code == axum::http::StatusCode::SERVICE_UNAVAILABLE =>
        {
            tracing::warn!(status = %code, latency_ms = ms, "request refused for load")
        }
        ServerErrorsFailureClass::StatusCode(code) => {
            tracing::error!(status = %code, latency_ms = ms, "request failed")
        }
        ServerErrorsFailureClass::Error(e) => {
            tracing::error!(error = %e, latency_ms = ms, "request failed")
        }
    }
}
