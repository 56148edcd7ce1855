//! Edges of HTTP (issue 17, item 5): CORS on reads only.

use crate::harness::Server;
use crate::raw::{self, RawResp};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Writes `bytes` (ignoring a write cut short by the server's answer) and
/// reads the whole answer.
fn send(url: &str, bytes: &[u8]) -> RawResp {
    let mut s = TcpStream::connect(raw::addr(url)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let _ = s.write_all(bytes);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    raw::parse(&got)
}

fn cors_headers(r: &RawResp) -> Vec<String> {
    r.head
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("access-control-"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn cors_is_granted_to_reads_and_to_no_write() {
    let s = Server::start(2, &[]);
    let origin = "Origin: https://elsewhere.example\r\n";
    // Reads: allowed from any origin.
    for method in ["GET", "HEAD"] {
        let r = send(
            &s.url,
            format!(
                "{method} /checkpoint HTTP/1.1\r\nHost: t\r\n{origin}Connection: close\r\n\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
    }
    let preflight = |method: &str| {
        send(
            &s.url,
            format!(
                "OPTIONS /api/v1/entries HTTP/1.1\r\nHost: t\r\n{origin}\
                 Access-Control-Request-Method: {method}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    assert_eq!(
        preflight("GET")
            .header("access-control-allow-origin")
            .as_deref(),
        Some("*")
    );
    // Writes: no CORS header on the answer, refused or not, and a preflight
    // asking for POST is not granted.
    let p = preflight("POST");
    assert!(cors_headers(&p).is_empty(), "{}", p.head);
    for path in ["/api/v1/entries", "/api/v1/blobs"] {
        let body = "not an entry";
        let r = send(
            &s.url,
            format!(
                "POST {path} HTTP/1.1\r\nHost: t\r\n{origin}Content-Type: text/plain\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        assert!(r.status >= 400, "{path}: {}", r.status);
        assert!(cors_headers(&r).is_empty(), "{path}: {}", r.head);
    }
    let r = s.submit(b"garbage");
    assert!(r.status >= 400);
}
