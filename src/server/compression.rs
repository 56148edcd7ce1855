//! Content codings of the board's answers (RFC 9110 §8.4.1, §12.5.3).
//!
//! Two ways, by what an answer costs to compress:
//!
//! * **Once, ahead of time** ([`Precompressed`]): the embedded static
//!   files, the browser verifier's files and the exports. They are read by
//!   many and change with a build or a checkpoint, so each is compressed
//!   once (brotli and gzip at their best levels for files, gzip for the
//!   exports, which are built off the request path) and a request only picks
//!   a coding ([`Precompressed::answer`]).
//! * **Per answer** ([`layer`]): pages and JSON, small and made per request,
//!   compressed at the fastest level by tower-http; manifest slices, larger
//!   and fetched by every verification, at a middle level ([`slice_layer`]).
//!
//! The per-answer layer compresses only text (`text/*` but server-sent
//! events, JSON, JavaScript, SVG, WebAssembly) of at least
//! [`MIN_SIZE`] bytes, never an answer that already has a coding or that a
//! handler marked with [`NoCompression`]; so a client cannot make the board
//! spend a core re-compressing a large export per request.
//! `spec/http-api.md` §1.7 states the contract.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, Response};
use std::io::Write;
use tower_http::compression::predicate::Predicate;
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Answers smaller than this are sent as they are: below about one packet
/// a coding saves nothing worth its header and CPU.
pub const MIN_SIZE: u64 = 1024;

/// A response extension: do not compress this answer per request (it is
/// large, or already of a compressed type the predicate cannot see).
#[derive(Clone, Copy, Debug)]
pub struct NoCompression;

/// A response extension: compress this answer per request although its
/// media type says nothing of its content (entry bundles: signed notes
/// behind length prefixes, served as `application/octet-stream`).
#[derive(Clone, Copy, Debug)]
pub struct CompressAnyway;

/// Whether a media type is worth compressing: text and the textual
/// application types; never server-sent events, whose frames must go out
/// as they are made.
pub fn compressible(content_type: &str) -> bool {
    let t = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if t == "text/event-stream" {
        return false;
    }
    t.starts_with("text/")
        || matches!(
            t.as_str(),
            "application/json"
                | "application/javascript"
                | "application/wasm"
                | "application/problem+json"
                | "image/svg+xml"
        )
}

/// The per-answer predicate of [`layer`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOnly;

impl Predicate for TextOnly {
    fn should_compress<B>(&self, response: &Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        if response.extensions().get::<NoCompression>().is_some()
            || response.headers().contains_key(header::CONTENT_ENCODING)
        {
            return false;
        }
        let size_ok = match axum::body::HttpBody::size_hint(response.body()).exact() {
            Some(n) => n >= MIN_SIZE,
            // A streamed body of unknown size: compress if it is text.
            None => true,
        };
        size_ok
            && (response.extensions().get::<CompressAnyway>().is_some()
                || response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(compressible))
    }
}

/// The per-answer compression of pages and JSON (brotli or gzip, at the
/// fastest level: a page is a few KiB and made per request).
pub fn layer() -> CompressionLayer<TextOnly> {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .quality(CompressionLevel::Fastest)
        .compress_when(TextOnly)
}

/// The per-answer compression of manifest slices (brotli or gzip at
/// level 5): immutable JSON that every "Verify here" fetches once, up to
/// 424 KB for a Tehran station with the Majlis (its 3,500-candidate
/// contest), where the fastest level leaves 80 KB and level 5 about 41 KB
/// for some 30 ms of a core (spec/site.md §3). The answer leaves with its
/// coding, so [`layer`] does not touch it again.
pub fn slice_layer() -> CompressionLayer<TextOnly> {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .quality(CompressionLevel::Precise(5))
        .compress_when(TextOnly)
}

/// A content coding the board sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// RFC 7932.
    Brotli,
    /// RFC 1952.
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// Whether a request's `Accept-Encoding` accepts `coding` (RFC 9110
/// §12.5.3): named, or matched by `*`, with a weight above 0. A name with
/// `q=0` refuses it even when `*` would accept it.
pub fn accepts(headers: &HeaderMap, coding: Coding) -> bool {
    let mut star = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(v) = value.to_str() else { continue };
        for item in v.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let weight_ok = parts.all(|p| {
                let p = p.trim();
                match p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    Some(q) => q.trim().parse::<f32>().map(|q| q > 0.0).unwrap_or(false),
                    None => true,
                }
            });
            if name.eq_ignore_ascii_case(coding.token()) {
                return weight_ok;
            }
            if name == "*" {
                star = Some(weight_ok);
            }
        }
    }
    star.unwrap_or(false)
}

/// How hard [`Precompressed::new`] works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effort {
    /// Brotli and gzip at their best levels: for files of a build (at most
    /// a few MiB), compressed once and read many times.
    Best,
    /// gzip at its fastest level only: for the exports, hundreds of MiB at
    /// national scale and rebuilt per checkpoint on one background thread.
    Fast,
}

/// A file and its compressed forms, made once.
#[derive(Clone, Debug)]
pub struct Precompressed {
    identity: Bytes,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
}

impl Precompressed {
    /// Compresses `bytes` if its type is worth it ([`compressible`]) and
    /// it is at least [`MIN_SIZE`], with the given effort. A form that is
    /// not smaller than the original is dropped.
    pub fn new(bytes: Bytes, content_type: &str, effort: Effort) -> Precompressed {
        let worth = compressible(content_type) && bytes.len() as u64 >= MIN_SIZE;
        let smaller = |c: Option<Vec<u8>>| c.filter(|c| c.len() < bytes.len()).map(Bytes::from);
        let (gzip, br) = match effort {
            _ if !worth => (None, None),
            Effort::Best => (
                smaller(gzip(&bytes, flate2::Compression::best())),
                smaller(brotli_best(&bytes)),
            ),
            Effort::Fast => (smaller(gzip(&bytes, flate2::Compression::fast())), None),
        };
        Precompressed {
            identity: bytes,
            br,
            gzip,
        }
    }

    /// Bytes held in memory, every form counted.
    pub fn held(&self) -> usize {
        self.identity.len()
            + self.br.as_ref().map_or(0, Bytes::len)
            + self.gzip.as_ref().map_or(0, Bytes::len)
    }

    /// The form to send for `request`'s `Accept-Encoding`: brotli, then
    /// gzip, then the bytes as they are, with the coding's token.
    pub fn pick(&self, request: &HeaderMap) -> (Bytes, Option<Coding>) {
        if let Some(b) = self
            .br
            .as_ref()
            .filter(|_| accepts(request, Coding::Brotli))
        {
            return (b.clone(), Some(Coding::Brotli));
        }
        if let Some(g) = self
            .gzip
            .as_ref()
            .filter(|_| accepts(request, Coding::Gzip))
        {
            return (g.clone(), Some(Coding::Gzip));
        }
        (self.identity.clone(), None)
    }

    /// Sets the coding headers of an answer carrying [`Self::pick`]'s
    /// choice: `Content-Encoding` when coded, `Vary: Accept-Encoding`
    /// whenever another form exists (so a cache keeps them apart), and the
    /// [`NoCompression`] mark.
    pub fn headers<B>(&self, coding: Option<Coding>, response: &mut Response<B>) {
        if let Some(c) = coding {
            response.headers_mut().insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(c.token()),
            );
        }
        if self.br.is_some() || self.gzip.is_some() {
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        response.extensions_mut().insert(NoCompression);
    }
}

fn gzip(bytes: &[u8], level: flate2::Compression) -> Option<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
    e.write_all(bytes).ok()?;
    e.finish().ok()
}

fn brotli_best(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    {
        // Quality 11, window 22: brotli's best, for files made once.
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        w.write_all(bytes).ok()?;
        w.flush().ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn with(ae: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(ae).unwrap());
        h
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts(&with("gzip, deflate, br"), Coding::Brotli));
        assert!(accepts(&with("gzip"), Coding::Gzip));
        assert!(!accepts(&with("gzip"), Coding::Brotli));
        assert!(!accepts(&with("br;q=0, gzip"), Coding::Brotli));
        assert!(accepts(&with("*"), Coding::Brotli));
        assert!(!accepts(&with("*, gzip;q=0"), Coding::Gzip));
        assert!(!accepts(&with("identity"), Coding::Gzip));
        assert!(!accepts(&HeaderMap::new(), Coding::Gzip));
        assert!(!accepts(&with("gzip;q=nonsense"), Coding::Gzip));
        assert!(accepts(&with("GZIP;Q=0.5"), Coding::Gzip));
    }

    #[test]
    fn only_text_of_some_size_is_compressed_and_it_round_trips() {
        assert!(compressible("text/html; charset=utf-8"));
        assert!(compressible("application/wasm"));
        assert!(!compressible("text/event-stream"));
        assert!(!compressible("font/woff2"));
        assert!(!compressible("application/octet-stream"));

        let text = Bytes::from("گزارش شمارش آرا، صندوق ۱۲\n".repeat(200));
        let p = Precompressed::new(text.clone(), "text/plain; charset=utf-8", Effort::Best);
        let (g, c) = p.pick(&with("gzip"));
        assert_eq!(c, Some(Coding::Gzip));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&g[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        let (b, c) = p.pick(&with("gzip, br"));
        assert_eq!(c, Some(Coding::Brotli));
        let mut back = Vec::new();
        brotli::Decompressor::new(&b[..], 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        assert_eq!(p.pick(&HeaderMap::new()), (text.clone(), None));

        // Too small, or not text: sent as it is whatever the client accepts.
        let small = Precompressed::new(Bytes::from_static(b"{}"), "application/json", Effort::Best);
        assert_eq!(small.pick(&with("gzip, br")).1, None);
        let font = Precompressed::new(Bytes::from(vec![7u8; 4096]), "font/woff2", Effort::Best);
        // The exports' effort: gzip only.
        let fast = Precompressed::new(text.clone(), "text/csv", Effort::Fast);
        assert_eq!(fast.pick(&with("br, gzip")).1, Some(Coding::Gzip));
        assert_eq!(font.pick(&with("gzip, br")).1, None);
    }
}
