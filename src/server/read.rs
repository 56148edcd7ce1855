//! The C2SP tlog-tiles read path at the root: `/checkpoint`,
//! `/tile/<L>/<N>[.p/<W>]` and `/tile/entries/<N>[.p/<W>]`
//! (`spec/tiles.md`), plus `/healthz`.
//!
//! Tiles and entry bundles are served as stored (one read each), when the
//! tree of the latest signed checkpoint holds every hash (or entry) they
//! name, so older, narrower partial tiles stay available; anything beyond
//! is 404. The path
//! is matched after percent-decoding and a query component is ignored, as
//! a static server of a published copy does (`spec/http-api.md` §1.1).
//! Responses are not compressed: hash tiles do not compress, and gzip of
//! small bodies cost about 90 µs each when measured (`spec/http-api.md`).

use super::errors::ApiError;
use super::{blocking, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use tallyboard_core::tile::{self, TilePath, TILE_WIDTH};

// The same headers as a published copy (`spec/publishing.md` §4), so a CDN
// in front of a bucket and the board answer alike.
use crate::publish::headers::{
    CHECKPOINT_CACHE, IMMUTABLE_CACHE as FULL_TILE_CACHE, PARTIAL_TILE_CACHE,
};

fn with_headers(body: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// `GET /checkpoint`.
#[utoipa::path(get, path = "/checkpoint", tag = "tiles",
    responses((status = 200, description = "The served checkpoint (C2SP tlog-checkpoint in a signed note): with a witness policy, the newest one whose cosignatures meet its quorum, with those cosignatures (until one does, the latest signed one); without, the latest signed one", content_type = "text/plain; charset=utf-8", body = String)))]
pub async fn checkpoint(State(st): State<AppState>) -> Response {
    // With a witness policy, serve the newest checkpoint whose cosignatures
    // meet the quorum (witness-gated publication); until there is one, the
    // newest signed checkpoint, so the read path never goes dark.
    let (body, _) = super::witnessing::served_checkpoint(st.witnessing.as_deref(), &st.published);
    with_headers(body, "text/plain; charset=utf-8", CHECKPOINT_CACHE)
}

/// `GET /tile/{path}`.
#[utoipa::path(get, path = "/tile/{path}", tag = "tiles",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` for a hash tile or `entries/<N>[.p/<W>]` for an entry bundle; `<N>` in the tlog-tiles `x001/234` form (spec/tiles.md §2: the pattern is its one spelling)",
        pattern = "^(entries|[1-5]?[0-9]|6[0-3])/(x(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})/(x[0-9]{3}/)*)?[0-9]{3}(\\.p/([1-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?$")),
    responses(
        (status = 200, description = "Tile body: 32·W bytes of hashes, or an entry bundle (uint16 big-endian length-prefixed entries)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "Malformed tile path (tile.malformed)", body = super::errors::ErrorBody),
        (status = 404, description = "The tile is beyond the latest signed checkpoint's tree", body = super::errors::ErrorBody),
    ))]
pub async fn tile(
    State(st): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let Path(rest) = path.map_err(|e| ApiError::bad_param(e.body_text()))?;
    let full = format!("tile/{rest}");
    let parsed = tile::parse_tile_path(&full)
        .map_err(|e| ApiError::new(tallyboard_core::ErrorCode::TileMalformed, e.to_string()))?;
    let size = st.latest().checkpoint.size;
    let store = st.store.handle();
    let beyond = |p: &TilePath| {
        ApiError::not_found(format!("{} is beyond the tree of size {size}", p.to_path()))
    };
    match parsed {
        TilePath::Hashes(t) => {
            // Served as stored, when the tree of the checkpoint holds it.
            let count = size
                .checked_shr(u32::from(t.level) * u32::from(tile::TILE_HEIGHT))
                .unwrap_or(0);
            let end = t
                .index
                .checked_mul(u64::from(TILE_WIDTH))
                .and_then(|s| s.checked_add(u64::from(t.width)));
            if t.level >= 8 || end.is_none_or(|e| e > count) {
                return Err(beyond(&parsed));
            }
            let body = blocking(move || store.tile(&t))
                .await?
                .map_err(ApiError::storage)?;
            let cache = if t.is_full() {
                FULL_TILE_CACHE
            } else {
                PARTIAL_TILE_CACHE
            };
            Ok(with_headers(body, "application/octet-stream", cache))
        }
        TilePath::Entries { index, width } => {
            let start = index.checked_mul(u64::from(TILE_WIDTH));
            let end = start.and_then(|s| s.checked_add(u64::from(width)));
            let (start, end) = match (start, end) {
                (Some(s), Some(e)) if e <= size => (s, e),
                _ => return Err(beyond(&parsed)),
            };
            let _ = (start, end);
            let body = blocking(move || store.bundle(index, width))
                .await?
                .map_err(ApiError::storage)?;
            let cache = if width == TILE_WIDTH {
                FULL_TILE_CACHE
            } else {
                PARTIAL_TILE_CACHE
            };
            let mut r = with_headers(body, "application/octet-stream", cache);
            // Signed notes, unlike hashes, compress well (spec/http-api.md §1.7).
            r.extensions_mut()
                .insert(super::compression::CompressAnyway);
            Ok(r)
        }
    }
}

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "`ok <tree size>`", content_type = "text/plain", body = String),
        (status = 503, description = "A mirror only: `refused <code> <tree size>` once it has refused its upstream (spec/mirror.md)", content_type = "text/plain", body = String),
    ))]
pub async fn healthz(State(st): State<AppState>) -> Response {
    let size = st.latest().checkpoint.size;
    // A mirror that refused its upstream keeps serving its last verified
    // state, but is not healthy: it no longer follows (spec/mirror.md).
    let refused = st.mirror.as_ref().and_then(|m| m.refusal());
    // A board behind its witnesses is not healthy either: it refuses every
    // submission, and the evidence says which witness holds what.
    let behind = st.witnessing.as_ref().and_then(|w| w.behind());
    let mut r = match (refused, behind) {
        (Some(code), _) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("refused {code} {size}\n"),
        )
            .into_response(),
        (None, Some(ahead)) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "behind-witnesses {size} {} {}\n{ahead}\n",
                ahead.witness,
                ahead
                    .witness_size
                    .map_or_else(|| "inconsistent".to_owned(), |n| n.to_string())
            ),
        )
            .into_response(),
        (None, None) => format!("ok {size}\n").into_response(),
    };
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
