//! A raw TCP HTTP/1.1 client: requests whose target a normal client would
//! normalise (`..`, `%2e%2e`, `//`), and clients that are slow on purpose.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// An answer read off a raw connection.
pub struct RawResp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// `host:port` of a base URL.
pub fn addr(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// Parses a whole response (the connection was closed after it).
pub fn parse(raw: &[u8]) -> RawResp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    RawResp { status, head, body }
}

/// Sends `request_line` (method and target exactly as given) with
/// `Connection: close` and reads the whole answer.
pub fn request(url: &str, method: &str, target: &str) -> RawResp {
    let a = addr(url);
    let mut s = TcpStream::connect(&a).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let req = format!("{method} {target} HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).expect("write request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read answer");
    parse(&raw)
}

/// What a slow client saw.
#[derive(Debug)]
pub enum SlowOutcome {
    /// The server closed the connection (or reset it) without an answer.
    Closed,
    /// The server answered (then closed); the raw answer.
    Answered(Vec<u8>),
    /// Still open when the client gave up.
    StillOpen,
}

/// Writes `prefix`, then one byte of `trickle` (cycled) every `gap`, until
/// the server answers or closes the connection, or `give_up` has passed.
/// Only the outcome is asserted, never how long it took.
pub fn trickle(
    url: &str,
    prefix: &[u8],
    trickle: &[u8],
    gap: Duration,
    give_up: Duration,
) -> SlowOutcome {
    let mut s = TcpStream::connect(addr(url)).expect("connect");
    s.set_read_timeout(Some(gap)).unwrap();
    if s.write_all(prefix).is_err() {
        return SlowOutcome::Closed;
    }
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut i = 0;
    while start.elapsed() < give_up {
        match s.read(&mut buf) {
            Ok(0) => {
                return if got.is_empty() {
                    SlowOutcome::Closed
                } else {
                    SlowOutcome::Answered(got)
                }
            }
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                continue;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                return if got.is_empty() {
                    SlowOutcome::Closed
                } else {
                    SlowOutcome::Answered(got)
                }
            }
        }
        if !trickle.is_empty() && got.is_empty() {
            let b = trickle[i % trickle.len()];
            i += 1;
            if s.write_all(&[b]).is_err() {
                // Closed while we wrote: keep whatever answer came first.
                let _ = s.read_to_end(&mut got);
                return if got.is_empty() {
                    SlowOutcome::Closed
                } else {
                    SlowOutcome::Answered(got)
                };
            }
        }
    }
    SlowOutcome::StillOpen
}
