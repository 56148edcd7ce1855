//! Static files, embedded in the binary: the style sheet, the small
//! progressive-enhancement script, the Vazirmatn font (SIL OFL 1.1, its
//! licence served beside it). Nothing is loaded from another host.
//!
//! Pages link CSS and JS as `/static/<name>?v=<digest prefix>`, so they can
//! be cached for a year and still change with a new build. Each text file
//! is compressed once, at first use, with brotli and gzip at their best
//! levels ([`crate::server::compression`]); a request picks a form.

use crate::server::compression::{Effort, Precompressed};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::OnceLock;
use tallyboard_core::Hash;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Every embedded file. (`verify.js` and the WebAssembly of the in-browser
/// verifier are added here by their own module.)
const ASSETS: &[Asset] = &[
    Asset {
        name: "site.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("static/site.css"),
    },
    Asset {
        name: "live.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("static/live.js"),
    },
    Asset {
        name: "live-worker.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("static/live-worker.js"),
    },
    Asset {
        name: "fonts/Vazirmatn-Regular.woff2",
        content_type: "font/woff2",
        bytes: include_bytes!("static/fonts/Vazirmatn-Regular.woff2"),
    },
    Asset {
        name: "fonts/Vazirmatn-Bold.woff2",
        content_type: "font/woff2",
        bytes: include_bytes!("static/fonts/Vazirmatn-Bold.woff2"),
    },
    Asset {
        name: "fonts/OFL.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("static/fonts/OFL.txt"),
    },
];

/// Name → (file, version, its compressed forms).
type Table = HashMap<&'static str, (&'static Asset, String, Precompressed)>;

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let v = Hash::sha256(a.bytes).to_hex()[..12].to_owned();
                let forms =
                    Precompressed::new(Bytes::from_static(a.bytes), a.content_type, Effort::Best);
                (a.name, (a, v, forms))
            })
            .collect()
    })
}

/// The versioned URL of an embedded file.
pub fn url(name: &str) -> String {
    match table().get(name) {
        Some((_, v, _)) => format!("/static/{name}?v={v}"),
        None => format!("/static/{name}"),
    }
}

/// `GET /static/{*name}`.
pub async fn serve(Path(name): Path<String>, request: HeaderMap) -> Response {
    let Some((a, v, forms)) = table().get(name.as_str()) else {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    };
    let (body, coding) = forms.pick(&request);
    let mut r = body.into_response();
    forms.headers(coding, &mut r);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    // One tag per form (RFC 9110 §8.8.3: a strong tag names exact bytes).
    let suffix = coding
        .map(|c| format!("-{}", c.token()))
        .unwrap_or_default();
    if let Ok(e) = HeaderValue::from_str(&format!("\"{v}{suffix}\"")) {
        h.insert(header::ETAG, e);
    }
    r
}
