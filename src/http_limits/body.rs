//! Reading a request body of at most `limit` bytes.
//!
//! A declared `Content-Length` over the limit is refused before a byte of
//! the body is read; a body that turns out longer is refused as soon as it
//! passes the limit, so no more than `limit` bytes are ever buffered. A
//! body that misses the listener's deadline (`listener.rs`) is told apart
//! from a broken connection so that it can be answered 408.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_http::timeout::TimeoutError;

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit (declared or actual).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Not received in full before the body deadline.
    TimedOut,
    /// The connection failed while the body was read.
    Broken(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge { limit } => {
                write!(f, "the request body is larger than {limit} bytes")
            }
            BodyError::TimedOut => {
                write!(f, "the request body was not received in time")
            }
            BodyError::Broken(e) => write!(f, "reading the request body: {e}"),
        }
    }
}

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge { limit })
        }
        Err(e) if caused_by_timeout(&*e) => Err(BodyError::TimedOut),
        Err(e) => Err(BodyError::Broken(e.to_string())),
    }
}

/// True if the deadline's error is anywhere in the chain (axum wraps it).
fn caused_by_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<TimeoutError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::time::Duration;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn bodies_up_to_the_limit_are_read_and_longer_ones_refused() {
        rt().block_on(async {
            let none = HeaderMap::new();
            let ok = read_limited(&none, Body::from(vec![1u8; 10]), 10).await;
            assert_eq!(ok.unwrap().len(), 10);
            let long = read_limited(&none, Body::from(vec![1u8; 11]), 10).await;
            assert_eq!(long, Err(BodyError::TooLarge { limit: 10 }));
            // A declared length over the limit is refused without reading.
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("11"));
            let declared = read_limited(&h, Body::from(vec![1u8; 3]), 10).await;
            assert_eq!(declared, Err(BodyError::TooLarge { limit: 10 }));
        });
    }

    #[test]
    fn a_body_past_its_deadline_is_told_apart() {
        rt().block_on(async {
            // A body that never ends, under a deadline that has passed.
            let never = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
            let body =
                tower_http::timeout::DeadlineBody::new(Duration::ZERO, Body::from_stream(never));
            let r = read_limited(&HeaderMap::new(), Body::new(body), 10).await;
            assert_eq!(r, Err(BodyError::TimedOut));
        });
    }
}
