//! The write path: `POST /api/v1/entries` (answered with a receipt) and
//! content-addressed blobs.
//!
//! A submission goes: content type and size checks → admission (a bounded
//! number in flight, else 429) → parse and signature check in the handler,
//! against the published view → the writer's queue → group commit → the
//! receipt, built by the writer against the batch's signed checkpoint.
//! One hop to the writer and back; no task is spawned per request.

use super::errors::ApiError;
use super::sequencer::{Job, Msg};
use super::{blocking, AppState, MAX_ENTRY_BODY};
use crate::board;
use crate::http_limits::{read_limited, BodyError};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::sync::mpsc::TrySendError;
use tallyboard_core::error::ErrorCode;
use tallyboard_core::Hash;
use utoipa::{IntoParams, ToSchema};

/// A receipt for a logged entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    /// The entry's index in the log.
    pub index: u64,
    /// RFC 6962 leaf hash of the entry, lowercase hex.
    pub leaf_hash: String,
    /// Size of the signed checkpoint the receipt proves inclusion in.
    pub checkpoint_size: u64,
    /// True if the same bytes were already logged (nothing was appended).
    pub duplicate: bool,
    /// The receipt proper: a C2SP tlog-proof (`c2sp.org/tlog-proof@v1`) text.
    pub receipt: String,
}

/// Reads a body of at most `limit` bytes: 413 beyond it, 408 if it does
/// not arrive in time (`crate::http_limits`).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    read_limited(headers, body, limit).await.map_err(|e| {
        let code = match e {
            BodyError::TooLarge { .. } => ErrorCode::BodyTooLarge,
            BodyError::TimedOut => ErrorCode::RequestTimeout,
            BodyError::Broken(_) => ErrorCode::BadRequest,
        };
        ApiError::new(code, e.to_string())
    })
}

fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn wants_text(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let types: Vec<String> = accept
        .split(',')
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    types.iter().any(|t| t == "text/plain") && !types.iter().any(|t| t == "application/json")
}

/// Releases an admission slot and the in-flight gauge when dropped.
struct InFlight<'a> {
    st: &'a AppState,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.st.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `POST /api/v1/entries`.
#[utoipa::path(post, path = "/api/v1/entries", tag = "write",
    request_body(content = String, description = "One signed entry: the exact bytes of a C2SP signed note (at most 65,536 bytes).",
        content_type = "text/plain"),
    params(("Accept" = Option<String>, Header, description = "`text/plain` for the bare tlog-proof; JSON otherwise")),
    responses(
        (status = 201, description = "Appended; the receipt proves inclusion in the checkpoint of the batch", body = Receipt),
        (status = 200, description = "The same bytes were already logged; nothing was appended", body = Receipt),
        (status = 400, description = "Malformed note or entry", body = super::errors::ErrorBody),
        (status = 403, description = "Signature or key refused", body = super::errors::ErrorBody),
        (status = 409, description = "Conflicts with the log (equivocation: detail.conflicting_index)", body = super::errors::ErrorBody),
        (status = 408, description = "The body was not received before the body timeout (request.timeout)", body = super::errors::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = super::errors::ErrorBody),
        (status = 415, description = "Content-Type not text/plain or application/octet-stream", body = super::errors::ErrorBody),
        (status = 422, description = "Inconsistent with the manifest or the arithmetic rules", body = super::errors::ErrorBody),
        (status = 429, description = "Queue full (board.overloaded), or this client address is over its rate (request.rate-limited); see Retry-After", body = super::errors::ErrorBody),
        (status = 503, description = "Storage failure; nothing appended", body = super::errors::ErrorBody),
    ))]
pub async fn submit_entry(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    refuse_on_mirror(&st)?;
    match media_type(&headers).as_deref() {
        Some("text/plain") | Some("application/octet-stream") => {}
        other => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "entries are sent as text/plain or application/octet-stream, not {}",
                    other.unwrap_or("(no Content-Type)")
                ),
            ))
        }
    }
    let bytes = read_body(&headers, body, MAX_ENTRY_BODY).await?;
    let permit = st
        .admission
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded(1))?;
    st.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let _guard = InFlight {
        st: &st,
        _permit: permit,
    };

    let prepared = prepare(&st, &bytes)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let Some(queue) = &st.queue else {
        return Err(ApiError::storage("this server has no writer"));
    };
    // Counted before the send, so the writer never takes a job it has not
    // been counted for (the gauge would wrap below zero).
    st.metrics.queued.fetch_add(1, Ordering::Relaxed);
    let sent = queue.try_send(Msg::Job(Box::new(Job {
        prepared,
        reply: tx,
    })));
    if sent.is_err() {
        st.metrics.queued.fetch_sub(1, Ordering::Relaxed);
    }
    match sent {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => return Err(ApiError::overloaded(1)),
        Err(TrySendError::Disconnected(_)) => {
            return Err(ApiError::storage("the writer has stopped"))
        }
    }
    let receipt = match rx.await {
        Ok(Ok(Ok(r))) => r,
        Ok(Ok(Err(refused))) => return Err(refused.into()),
        Ok(Err(e)) => return Err(ApiError::storage(e)),
        Err(_) => return Err(ApiError::storage("the writer dropped the submission")),
    };
    let status = if receipt.duplicate {
        st.metrics.duplicates.fetch_add(1, Ordering::Relaxed);
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let (index, leaf, text) = (receipt.index, receipt.leaf, receipt.tlog_proof);
    let mut resp = if wants_text(&headers) {
        let mut r = (status, text).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    } else {
        (
            status,
            Json(Receipt {
                index,
                leaf_hash: leaf.to_hex(),
                checkpoint_size: receipt.checkpoint_size,
                duplicate: status == StatusCode::OK,
                receipt: text,
            }),
        )
            .into_response()
    };
    resp.headers_mut()
        .insert("x-tallyboard-index", HeaderValue::from(index));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// A mirror accepts no writes (`spec/mirror.md`): it names the board to
/// send them to instead.
fn refuse_on_mirror(st: &AppState) -> Result<(), ApiError> {
    if let Some(m) = st.mirror.as_ref().filter(|m| m.is_standby()) {
        return Err(ApiError::retry_later(
            ErrorCode::BoardStandby,
            format!(
                "this board stands by while {} writes (spec/storage.md §8.3); retry, or submit to the other board",
                m.upstream()
            ),
            1,
        ));
    }
    if let Some(m) = &st.mirror {
        return Err(ApiError::new(
            ErrorCode::MirrorReadOnly,
            format!(
                "this server is a read-only mirror of {}; submit to that board",
                m.upstream()
            ),
        ));
    }
    // A board whose witnesses hold more of its log than it does serves an
    // older or another history: nothing may be appended to it
    // (spec/operations.md, "A board behind its witnesses").
    if let Some(ahead) = st.witnessing.as_ref().and_then(|w| w.behind()) {
        return Err(ApiError::new(
            ErrorCode::BehindWitnesses,
            format!("{ahead}; this board takes no submission until its operator restores the log the witnesses cosigned"),
        ));
    }
    Ok(())
}

/// Parses and signature-checks a submission against the published log
/// state, here in the handler (the writer re-checks only if the required
/// signer changed since). A tally the published state already holds with
/// these exact bytes is not verified again: the writer answers it as a
/// duplicate with its index.
fn prepare(st: &AppState, bytes: &[u8]) -> Result<board::Prepared, ApiError> {
    let signed = board::parse(bytes)?;
    let snapshot = st.snapshot();
    if let tallyboard_core::entry::Entry::Tally(t) = &signed.entry {
        let logged = [
            snapshot.state.first_tally(&t.station, &t.contest),
            snapshot.state.latest_tally(&t.station, &t.contest),
        ];
        if logged
            .iter()
            .flatten()
            .any(|r| r.revision == t.revision && r.leaf == signed.leaf_hash())
        {
            return Ok(board::Prepared {
                signed,
                verdict: None,
            });
        }
    }
    let key = snapshot.state.required_signers(&signed).ok();
    drop(snapshot);
    Ok(board::verify_with(signed, key))
}

/// Where the expected digest of a blob may be given.
#[derive(Debug, Deserialize, IntoParams)]
// Query parameters, optional unless marked (utoipa's default is a
// required path parameter, which the spec's defaults contradict).
#[into_params(parameter_in = Query)]
pub struct BlobQuery {
    /// Expected SHA-256 of the body, 64 lowercase hex digits (or use the `X-Content-SHA256` header).
    #[param(pattern = "^[0-9a-f]{64}$")]
    pub sha256: Option<String>,
}

/// A stored blob.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BlobStored {
    /// SHA-256 of the blob, lowercase hex: its name.
    pub sha256: String,
    /// Its length in bytes.
    pub size: u64,
}

fn parse_digest(s: &str) -> Result<Hash, ApiError> {
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ApiError::bad_param(
            "a SHA-256 digest is 64 lowercase hex digits",
        ));
    }
    Hash::from_hex(s).ok_or_else(|| ApiError::bad_param("bad SHA-256 digest"))
}

/// Parses a digest path or query value (also used by `GET /api/v1/blobs/{sha256}`).
pub(crate) fn digest_param(s: &str) -> Result<Hash, ApiError> {
    parse_digest(s)
}

/// `POST /api/v1/blobs`.
#[utoipa::path(post, path = "/api/v1/blobs", tag = "write",
    params(BlobQuery, ("X-Content-SHA256" = Option<String>, Header, description = "Expected SHA-256, 64 lowercase hex digits", pattern = "^[0-9a-f]{64}$"),
        ("X-Tallyboard-Station" = String, Header, description = "The station whose logged tally names the blob as its minutes scan"),
        ("X-Tallyboard-Signature" = String, Header, description = "The station's signed-note signature line, without its em dash, over `tallyboard/blob/v1`, the origin, the station and the SHA-256 (one per line)")),
    request_body(content = Vec<u8>, description = "The blob's bytes (at most 16 MiB), any content type", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored", body = BlobStored),
        (status = 200, description = "Already stored", body = BlobStored),
        (status = 400, description = "No expected digest, station or signature given, or the body does not hash to it (blob.digest-mismatch)", body = super::errors::ErrorBody),
        (status = 403, description = "The upload is not signed by the station's key in force (blob.bad-signature, station.key-not-registered)", body = super::errors::ErrorBody),
        (status = 422, description = "No logged tally of the station names the blob (blob.not-named), or no such station (station.unknown)", body = super::errors::ErrorBody),
        (status = 408, description = "The body was not received before the body timeout (request.timeout)", body = super::errors::ErrorBody),
        (status = 413, description = "Body too large", body = super::errors::ErrorBody),
        (status = 429, description = "This client address is over its rate (request.rate-limited); see Retry-After", body = super::errors::ErrorBody),
    ))]
pub async fn put_blob(
    State(st): State<AppState>,
    query: Result<Query<BlobQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    refuse_on_mirror(&st)?;
    let Query(q) = query.map_err(|e| ApiError::bad_param(e.body_text()))?;
    let header_digest = match headers.get("x-content-sha256") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::bad_param("X-Content-SHA256 is not ASCII"))?
                .to_owned(),
        ),
        None => None,
    };
    let expected = match (q.sha256, header_digest) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::bad_param(
                "the sha256 query parameter and the X-Content-SHA256 header differ",
            ))
        }
        (Some(a), _) | (None, Some(a)) => parse_digest(&a)?,
        (None, None) => {
            return Err(ApiError::bad_param(
                "give the blob's expected SHA-256 in X-Content-SHA256 or ?sha256=",
            ))
        }
    };
    // Who may send it is decided before a byte of the body is read: the
    // station whose logged tally names it, signing the upload
    // (tallyboard_core::blob, spec/http-api.md §1.3).
    let header = |name: &str| -> Result<String, ApiError> {
        headers
            .get(name)
            .ok_or_else(|| {
                ApiError::bad_param(format!(
                    "a blob upload needs the {name} header (spec/http-api.md §1.3)"
                ))
            })?
            .to_str()
            .map(str::to_owned)
            .map_err(|_| ApiError::bad_param(format!("{name} is not ASCII")))
    };
    // A body declared too large is refused on the head alone.
    if let Some(n) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&n| n > tallyboard_core::blob::MAX_BLOB_SIZE as u64)
    {
        return Err(ApiError::new(
            ErrorCode::BodyTooLarge,
            format!(
                "a blob is at most {} bytes; this one declares {n}",
                tallyboard_core::blob::MAX_BLOB_SIZE
            ),
        ));
    }
    let station = header("x-tallyboard-station")?;
    let signature = header("x-tallyboard-signature")?;
    {
        let snapshot = st.snapshot();
        let origin = snapshot.state.manifest().manifest().log.origin.clone();
        let store = st.store.handle();
        let state = snapshot.state.clone();
        drop(snapshot);
        blocking(move || {
            tallyboard_core::blob::check_upload(
                &state,
                &crate::log::committed(&store),
                &origin,
                &station,
                &expected,
                &signature,
            )
        })
        .await?
        .map_err(ApiError::from)?;
    }
    let bytes = read_body(&headers, body, tallyboard_core::blob::MAX_BLOB_SIZE).await?;
    let actual = Hash::sha256(&bytes);
    if actual != expected {
        return Err(ApiError::new(
            ErrorCode::BlobDigestMismatch,
            format!("the body hashes to {actual}, not {expected}"),
        ));
    }
    let store = st.store.handle();
    let size = bytes.len() as u64;
    let existed = blocking(move || -> anyhow::Result<bool> {
        if store.blob(&actual)?.is_some() {
            return Ok(true);
        }
        store.put_blob(&bytes)?;
        Ok(false)
    })
    .await?
    .map_err(ApiError::storage)?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(BlobStored {
            sha256: actual.to_hex(),
            size,
        }),
    )
        .into_response())
}
