//! Cross-origin reads, and no cross-origin writes (`spec/http-api.md`,
//! conventions): `GET`/`HEAD` answers carry `Access-Control-Allow-Origin: *`
//! so that any page can read the log; no other answer carries a CORS
//! header, so a web page cannot make its visitors' browsers submit or
//! upload and read the answer, and a preflight (Fetch standard §3.2.2,
//! CORS protocol) asking for any other method is not granted.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{Any, CorsLayer};

/// The methods a cross-origin page may use.
const READS: [Method; 2] = [Method::GET, Method::HEAD];

/// The CORS layer of the read routes.
pub fn layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(READS)
        .expose_headers([
            header::CONTENT_TYPE,
            header::ETAG,
            header::HeaderName::from_static(super::exports::CHECKPOINT_SIZE_HEADER),
        ])
}

/// Wraps [`layer`]: strips every `Access-Control-*` header from answers to
/// requests that are not reads (tower-http's layer adds them to every
/// answer), and from preflights that ask for a method other than a read.
pub async fn reads_only(req: Request, next: Next) -> Response {
    let read = is_read(req.method(), req.headers());
    let mut resp = next.run(req).await;
    if !read {
        let cors: Vec<_> = resp
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for k in cors {
            resp.headers_mut().remove(k);
        }
    }
    resp
}

/// A read, or a preflight for one.
fn is_read(method: &Method, headers: &HeaderMap) -> bool {
    if READS.contains(method) {
        return true;
    }
    *method == Method::OPTIONS
        && headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
            .is_some_and(|m| READS.contains(&m))
}
