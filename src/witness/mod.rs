//! `tallyboard witness`: a C2SP tlog-witness v1.0.0 server (`spec/witness.md`).
//!
//! The protocol decisions live in `tallyboard_core::witness` (I/O-free);
//! this module adds HTTP, the clock, the per-origin lock and durable state:
//!
//! * `POST /add-checkpoint`: parse and verify the log signature without any
//!   lock, then take the origin's lock, decide against the latest cosigned
//!   checkpoint, persist the new state (write-temp + fsync + rename + fsync
//!   dir) and only then answer 200 with the cosignature line. The lock is
//!   held from reading the state to the end of the write, so two requests
//!   from the same old size can never both succeed (the rollback race of
//!   tlog-witness §add-checkpoint).
//! * `GET /<hex SHA-256(origin)>/checkpoint`: the latest cosigned checkpoint.
//! * `GET /evidence/<hex SHA-256(origin)>`: contradicting checkpoints kept
//!   (tallyboard extension).
//! * `GET /`: the witness's verifier key and the origins it witnesses.

mod store;

use crate::http_limits::{read_limited, BodyError, SlowClientLimits};
use anyhow::{anyhow, Context, Result};
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tallyboard_core::cosignature::CosignerKey;
use tallyboard_core::witness::{self, Cosigned, TrustedLogs, WitnessError};
use tallyboard_core::ErrorCode;
use tokio::sync::Mutex;

pub use store::{Store, MEMORY_FILE};

/// What `tallyboard witness` needs to run.
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Data directory (created if needed).
    pub data: PathBuf,
    /// The witness's cosigning key.
    pub key: CosignerKey,
    /// The log keys it trusts.
    pub logs: TrustedLogs,
    /// Header and body timeouts for slow clients.
    pub slow_clients: SlowClientLimits,
    /// Start even if the data directory holds less than the witness
    /// remembers cosigning (new, emptied, a state file missing, older or
    /// damaged), recording it as evidence (`spec/witness.md` §2).
    pub init: bool,
}

struct Origin {
    name: String,
    hash: String,
    state: Mutex<Option<Cosigned>>,
}

struct Shared {
    key: CosignerKey,
    logs: TrustedLogs,
    store: Store,
    by_origin: BTreeMap<String, Arc<Origin>>,
    by_hash: BTreeMap<String, Arc<Origin>>,
}

impl Shared {
    /// Opens the data directory and loads every trusted origin's state,
    /// checked against what the witness remembers cosigning (`WITNESS`).
    /// A state file that is missing, does not verify, or is older than
    /// what was cosigned stops the witness: forgetting it would let the
    /// log roll the witness back. With `init` the witness starts from what
    /// verifies instead, and records that as evidence.
    fn open(config: Config) -> Result<Shared> {
        let vkey = config.key.verifier();
        let store = Store::open(&config.data, &vkey.to_string(), config.init)?;
        let mut by_origin = BTreeMap::new();
        let mut by_hash = BTreeMap::new();
        for name in config.logs.origins() {
            let hash = witness::origin_hash_hex(name);
            let found = match store.load_state(&hash)? {
                None => Ok(None),
                Some(bytes) => Cosigned::open(&bytes, &config.logs, &vkey)
                    .map_err(|e| format!("the state file does not verify: {e}"))
                    .and_then(|c| {
                        if c.checkpoint.origin == name {
                            Ok(Some(c))
                        } else {
                            Err(format!(
                                "the state file holds origin {:?}",
                                c.checkpoint.origin
                            ))
                        }
                    }),
            };
            let remembered = store.remembered(&hash);
            let state = match reconcile(remembered, found.clone()) {
                Ok(state) => state,
                Err(reason) if config.init => {
                    let kept = found.ok().flatten();
                    reinitialised(&store, name, &hash, remembered, kept.as_ref(), &reason)?;
                    kept
                }
                Err(reason) => {
                    return Err(anyhow!(
                        "witness state of {name:?} (state/{hash}): {reason}; the witness would forget what it cosigned and could be rolled back. Restore the state file, or pass --init to start from what verifies (recorded as evidence, spec/witness.md §2)"
                    ))
                }
            };
            let now_remembered = state
                .as_ref()
                .map(|c| (c.checkpoint.size, c.checkpoint.root));
            if now_remembered != remembered {
                store.remember(&hash, now_remembered)?;
            }
            let o = Arc::new(Origin {
                name: name.to_string(),
                hash: hash.clone(),
                state: Mutex::new(state),
            });
            by_origin.insert(name.to_string(), o.clone());
            by_hash.insert(hash, o);
        }
        Ok(Shared {
            key: config.key,
            logs: config.logs,
            store,
            by_origin,
            by_hash,
        })
    }
}

/// The state to start from, if the state file agrees with what the
/// witness remembers: it may be newer (a crash between writing the state
/// and `WITNESS`: the witness made it, so it is no rollback), never older,
/// missing, or of another root at the same size.
fn reconcile(
    remembered: store::Remembered,
    found: Result<Option<Cosigned>, String>,
) -> Result<Option<Cosigned>, String> {
    let found = found?;
    match (remembered, found) {
        (None, found) => Ok(found),
        (Some((size, _)), None) => Err(format!(
            "the state file is missing, and the witness cosigned size {size}"
        )),
        (Some((size, root)), Some(c)) => {
            let (n, r) = (c.checkpoint.size, c.checkpoint.root);
            if n < size {
                Err(format!(
                    "the state file holds size {n}, older than the size {size} the witness cosigned"
                ))
            } else if n == size && r != root {
                Err(format!(
                    "the state file holds root {r} at size {size}, where the witness cosigned root {root}"
                ))
            } else {
                Ok(Some(c))
            }
        }
    }
}

/// Records that the witness was started with less than it remembered:
/// one `reinitialised` record with the evidence, and a warning.
fn reinitialised(
    store: &Store,
    name: &str,
    hash: &str,
    remembered: store::Remembered,
    kept: Option<&Cosigned>,
    reason: &str,
) -> Result<()> {
    let observed = now();
    let id = tallyboard_core::Hash::sha256(
        format!("reinitialised\n{name}\n{observed}\n{reason}").as_bytes(),
    )
    .to_hex();
    let record = serde_json::json!({
        "id": id,
        "kind": "reinitialised",
        "origin": name,
        "observed": observed,
        "reason": reason,
        "remembered": remembered.map(|(size, root)| serde_json::json!({"size": size, "root": root.to_base64()})),
        "kept": kept.map(|c| String::from_utf8_lossy(&c.note).into_owned()),
    });
    store.save_reinitialisation(hash, &record)?;
    eprintln!("witness: WARNING: started with --init for {name}: {reason}; recorded as evidence reinitialised-{id}");
    Ok(())
}

/// Runs the witness until interrupted. Prints
/// `tallyboard witness listening on http://<addr>` on stdout once bound.
pub fn run(config: Config) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(config))
}

async fn serve(config: Config) -> Result<()> {
    let listen = config.listen.clone();
    let slow_clients = config.slow_clients;
    let shared = Arc::new(Shared::open(config)?);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "tallyboard witness listening on http://{addr}")?;
        out.flush()?;
    }
    eprintln!(
        "witness {} for {} origin(s)",
        shared.key.verifier(),
        shared.by_origin.len()
    );
    let shutdown = async {
        tokio::signal::ctrl_c().await.ok();
    };
    crate::http_limits::serve(
        listener,
        router(shared),
        slow_clients,
        framing_body,
        shutdown,
    )
    .await
    .context("serving")
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(info))
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{hash}/checkpoint", get(monitor))
        .route("/evidence/{hash}", get(evidence))
        // Every answer carries the text error form of spec/witness.md §3,
        // including those for paths and methods the witness does not serve.
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(shared)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        &format!("the witness serves nothing at {}", uri.path()),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        &format!("{method} is not served at {}", uri.path()),
    )
}

fn text(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn error(status: StatusCode, code: ErrorCode, msg: &str) -> Response {
    text(
        status,
        "text/plain; charset=utf-8",
        format!("{code}: {msg}\n").into_bytes(),
    )
}

/// The witness's text error form (`code: message`, spec/witness.md §3.1)
/// for the answers hyper gives itself to a request head it cannot parse.
fn framing_body(code: ErrorCode, message: &str) -> (&'static str, Vec<u8>) {
    (
        "text/plain; charset=utf-8",
        format!("{}: {message}\n", code.as_str()).into_bytes(),
    )
}

fn refuse(e: &WitnessError) -> Response {
    let (ct, body) = e.response_body();
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, ct, body)
}

/// POSIX seconds from the system clock, never 0.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .max(1)
}

async fn info(State(s): State<Arc<Shared>>) -> Response {
    let mut body = format!("witness {}\n", s.key.verifier());
    for o in s.by_origin.values() {
        body.push_str(&format!("origin {} {}\n", o.hash, o.name));
    }
    text(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        body.into_bytes(),
    )
}

async fn add_checkpoint(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    // At most MAX_REQUEST_SIZE bytes are read (spec/witness.md §3.1).
    let body = match read_limited(&headers, body, witness::MAX_REQUEST_SIZE).await {
        Ok(b) => b,
        Err(e) => {
            let (status, code) = match e {
                BodyError::TooLarge { .. } => {
                    (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge)
                }
                BodyError::TimedOut => (StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout),
                BodyError::Broken(_) => {
                    (StatusCode::BAD_REQUEST, ErrorCode::WitnessRequestMalformed)
                }
            };
            return error(status, code, &e.to_string());
        }
    };
    let sub = match witness::check_submission(&body, &s.logs) {
        Ok(sub) => sub,
        Err(e) => return refuse(&e),
    };
    let Some(origin) = s.by_origin.get(&sub.checkpoint.origin).cloned() else {
        // check_submission found keys for it, so it is in the map.
        return refuse(&WitnessError::UnknownOrigin(sub.checkpoint.origin.clone()));
    };
    // Held until the new state is durable (or the request is refused).
    let mut state = origin.state.lock().await;
    // Never cosign earlier than the previous cosignature, even if the clock
    // stepped back.
    let ts = now().max(state.as_ref().map_or(0, |c| c.timestamp));
    let decision = witness::decide(&sub, state.as_ref(), &s.key, ts);
    if let Some(ev) = decision.evidence {
        let store = s.store.clone();
        let hash = origin.hash.clone();
        let kind = ev.kind.as_str();
        match tokio::task::spawn_blocking(move || store.save_evidence(&hash, &ev)).await {
            Ok(Ok(true)) => eprintln!("witness: kept {kind} evidence for {}", origin.name),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => eprintln!(
                "witness: could not keep evidence for {}: {e:#}",
                origin.name
            ),
            Err(e) => eprintln!("witness: evidence task failed: {e}"),
        }
    }
    let accepted = match decision.result {
        Ok(a) => a,
        Err(e) => return refuse(&e),
    };
    let store = s.store.clone();
    let hash = origin.hash.clone();
    let note = accepted.state.note.clone();
    let (size, root) = (
        accepted.state.checkpoint.size,
        accepted.state.checkpoint.root,
    );
    match tokio::task::spawn_blocking(move || store.save_state(&hash, size, root, &note)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("witness: persisting {} failed: {e:#}", origin.name);
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::WitnessStorage,
                "could not persist the new state; nothing was cosigned",
            );
        }
        Err(e) => {
            eprintln!("witness: persist task failed: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::WitnessStorage,
                "could not persist the new state; nothing was cosigned",
            );
        }
    }
    *state = Some(accepted.state);
    drop(state);
    text(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        accepted.response,
    )
}

async fn monitor(State(s): State<Arc<Shared>>, UrlPath(hash): UrlPath<String>) -> Response {
    let Some(origin) = s.by_hash.get(&hash) else {
        return error(
            StatusCode::NOT_FOUND,
            ErrorCode::WitnessUnknownOrigin,
            "unknown origin",
        );
    };
    match origin.state.lock().await.as_ref() {
        Some(c) => text(StatusCode::OK, "text/plain; charset=utf-8", c.note.clone()),
        None => error(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no checkpoint cosigned for this origin yet",
        ),
    }
}

async fn evidence(State(s): State<Arc<Shared>>, UrlPath(hash): UrlPath<String>) -> Response {
    let Some(origin) = s.by_hash.get(&hash).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            ErrorCode::WitnessUnknownOrigin,
            "unknown origin",
        );
    };
    let store = s.store.clone();
    let h = origin.hash.clone();
    match tokio::task::spawn_blocking(move || store.list_evidence(&h)).await {
        Ok(Ok(list)) => {
            let body = serde_json::json!({ "origin": origin.name, "evidence": list });
            let mut bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
            bytes.push(b'\n');
            text(StatusCode::OK, "application/json", bytes)
        }
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::WitnessStorage,
            &format!("{e:#}"),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::WitnessStorage,
            &e.to_string(),
        ),
    }
}

/// Starts a witness in a background thread of this process (the demo runs
/// its two witnesses this way); returns its base URL once it listens.
pub fn spawn(config: Config) -> Result<String> {
    let (tx, rx) = std::sync::mpsc::channel::<Result<String>>();
    std::thread::Builder::new()
        .name("tallyboard-witness".into())
        .spawn(move || {
            type Started = (
                tokio::runtime::Runtime,
                Arc<Shared>,
                std::net::TcpListener,
                SlowClientLimits,
            );
            let started = (|| -> Result<Started> {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()?;
                let listener = std::net::TcpListener::bind(&config.listen)
                    .with_context(|| format!("binding {}", config.listen))?;
                listener.set_nonblocking(true)?;
                let slow_clients = config.slow_clients;
                let shared = Arc::new(Shared::open(config)?);
                Ok((rt, shared, listener, slow_clients))
            })();
            match started {
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
                Ok((rt, shared, listener, slow_clients)) => {
                    let addr = listener.local_addr().map(|a| format!("http://{a}"));
                    let _ = tx.send(addr.map_err(Into::into));
                    rt.block_on(async move {
                        if let Ok(l) = tokio::net::TcpListener::from_std(listener) {
                            let forever = std::future::pending::<()>();
                            let _ = crate::http_limits::serve(
                                l,
                                router(shared),
                                slow_clients,
                                framing_body,
                                forever,
                            )
                            .await;
                        }
                    });
                }
            }
        })
        .context("starting a witness thread")?;
    rx.recv().context("witness thread ended before listening")?
}

/// Starts a witness on a free port of 127.0.0.1 in a background thread
/// (for the client's unit tests); returns its base URL.
#[cfg(test)]
pub fn spawn_for_tests(config: Config) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let slow_clients = config.slow_clients;
            let shared = Arc::new(Shared::open(config).expect("witness state"));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("address");
            tx.send(format!("http://{addr}")).expect("send address");
            let forever = std::future::pending::<()>();
            crate::http_limits::serve(
                listener,
                router(shared),
                slow_clients,
                framing_body,
                forever,
            )
            .await
            .expect("serve");
        });
    });
    rx.recv().expect("witness started")
}
