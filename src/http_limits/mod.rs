//! What the board and the witness do about clients that are slow or send
//! too much (`spec/operations.md`, security §3):
//!
//! | file | concern |
//! |---|---|
//! | `listener.rs` | the HTTP/1.1 accept loop: header read timeout, whole-body deadline, peer address, graceful shutdown |
//! | `framing.rs` | the error body on hyper's own answers to unparsable request heads (400, 414, 431) |
//! | `body.rs` | reading a request body of at most N bytes, telling "too large" and "too slow" apart |
//! | `tls.rs` | optional native TLS (rustls) for `serve` |
//!
//! The per-address rate limit of submissions is the board's alone
//! (`server/rate_limit.rs`).

mod body;
mod framing;
mod listener;
mod tls;

pub use body::{read_limited, BodyError};
pub use listener::{serve, serve_with};
pub use tls::acceptor as tls_acceptor;

use std::time::Duration;

/// Default time a client has to send a request's head (request line and
/// headers). It also closes a keep-alive connection left idle that long.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(15);
/// Default time a client has to send a whole request body, from the end of
/// its head. Generous: a 64 MiB blob still needs only about 4.5 Mbit/s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(120);

/// Slow-client limits of one server.
#[derive(Clone, Copy, Debug)]
pub struct SlowClientLimits {
    /// Longest wait for a request head (hyper's `header_read_timeout`).
    pub header_timeout: Duration,
    /// Longest time from the end of the head to the end of the body.
    pub body_timeout: Duration,
}

impl Default for SlowClientLimits {
    fn default() -> Self {
        SlowClientLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl SlowClientLimits {
    /// Limits from whole seconds, as the command line gives them; 0 is
    /// refused (it would close every connection at once).
    pub fn from_secs(header: u64, body: u64) -> anyhow::Result<SlowClientLimits> {
        if header == 0 || body == 0 {
            anyhow::bail!("timeouts must be at least one second");
        }
        Ok(SlowClientLimits {
            header_timeout: Duration::from_secs(header),
            body_timeout: Duration::from_secs(body),
        })
    }
}
