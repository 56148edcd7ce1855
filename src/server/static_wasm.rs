//! The browser verifier's files: `/static/verify.js`,
//! `/static/verify-test.html`, `/static/verify-test.css` and `/static/wasm/*` (spec/browser-verification.md).
//!
//! The WebAssembly is produced by `scripts/build-wasm.sh`, not committed, so
//! it is read from disk at request time, from the first of these that
//! holds `verify.js`:
//!
//! 1. `$TALLYBOARD_STATIC_DIR`;
//! 2. `static/` next to the `tallyboard` binary (a deployment layout);
//! 3. `src/site/static/` of the source tree the binary was built from.
//!
//! A board whose verifier was not built still serves everything else; the
//! verifier's paths answer `404 request.not-found` saying how to build it.
//! Nothing here panics.
//!
//! Each file is compressed once (brotli and gzip, [`super::compression`])
//! when first asked for, and again only when it changes on disk (another
//! length or modification time): the WebAssembly is most of what "Verify
//! here" downloads.

use super::compression::{Effort, Precompressed};
use super::errors::ApiError;
use axum::extract::Path;
use axum::http::header;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// A file as last read: when it was modified, its length, its forms.
type Cached = (Option<SystemTime>, u64, Arc<Precompressed>);

/// The files read so far, by path (a handful: the names are checked and
/// only files that exist are kept).
fn cache() -> &'static Mutex<HashMap<PathBuf, Cached>> {
    static C: OnceLock<Mutex<HashMap<PathBuf, Cached>>> = OnceLock::new();
    C.get_or_init(Mutex::default)
}

/// The forms of the file at `path`, from the cache while it is unchanged.
fn read(path: PathBuf, content_type: &str) -> Option<Arc<Precompressed>> {
    let meta = std::fs::metadata(&path).ok()?;
    let stamp = (meta.modified().ok(), meta.len());
    // The lock is held while a changed file is compressed, so concurrent
    // first requests compress it once.
    let mut c = cache().lock().unwrap_or_else(|p| p.into_inner());
    if let Some((m, l, forms)) = c.get(&path) {
        if (*m, *l) == stamp {
            return Some(forms.clone());
        }
    }
    let bytes = std::fs::read(&path).ok()?;
    let forms = Arc::new(Precompressed::new(bytes.into(), content_type, Effort::Best));
    c.insert(path, (stamp.0, stamp.1, forms.clone()));
    Some(forms)
}

/// The routes, to merge into the board's router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/static/verify.js",
            get(|h: HeaderMap| serve(String::new(), "verify.js".into(), h)),
        )
        .route(
            "/static/verify-test.html",
            get(|h: HeaderMap| serve(String::new(), "verify-test.html".into(), h)),
        )
        .route(
            "/static/verify-test.css",
            get(|h: HeaderMap| serve(String::new(), "verify-test.css".into(), h)),
        )
        .route(
            "/static/wasm/{file}",
            get(|Path(file): Path<String>, h: HeaderMap| serve("wasm".into(), file, h)),
        )
}

/// Candidate static directories, in order.
fn static_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("TALLYBOARD_STATIC_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(d) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|p| p.join("static")))
    {
        dirs.push(d);
    }
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/site/static"));
    dirs
}

/// A file name we serve: letters, digits, `_`, `-` and `.`, no leading dot.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn serve(sub: String, name: String, request: HeaderMap) -> Result<Response, ApiError> {
    if !safe_name(&name) {
        return Err(ApiError::not_found(format!("no static file {name:?}")));
    }
    let file = name.clone();
    let found = super::blocking(move || {
        let dir = static_dirs()
            .into_iter()
            .find(|d| d.join("verify.js").is_file())?;
        read(dir.join(&sub).join(&file), content_type(&file))
    })
    .await?;
    let Some(body) = found else {
        return Err(ApiError::not_found(
            "the in-browser verifier is not built on this board: run scripts/build-wasm.sh \
             (or set TALLYBOARD_STATIC_DIR to a directory holding verify.js and wasm/)",
        ));
    };
    let (bytes, coding) = body.pick(&request);
    let mut r = (
        [
            (header::CONTENT_TYPE, content_type(&name)),
            // Rebuilt in place by scripts/build-wasm.sh: revalidate briefly.
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        bytes,
    )
        .into_response();
    body.headers(coding, &mut r);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(safe_name("tallyboard_wasm_bg.wasm"));
        assert!(!safe_name("../x"));
        assert!(!safe_name(".hidden"));
        assert!(!safe_name("a/b"));
        assert!(!safe_name(""));
        assert_eq!(content_type("x.wasm"), "application/wasm");
        assert_eq!(content_type("verify.js"), "text/javascript; charset=utf-8");
    }

    /// The site serves its own files under a `/static/{*name}` catch-all;
    /// these exact routes must merge with it (axum panics on a conflict
    /// when the router is built) and take precedence.
    #[test]
    fn merges_with_a_static_catch_all() {
        let _: Router<()> = Router::new()
            .route("/static/{*name}", get(|| async { "site asset" }))
            .merge(routes());
    }
}
