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

/// A request head hyper refuses before any route sees it gets the error
/// shape of every other refusal (spec/http-api.md §2.3).
#[test]
fn unparsable_request_heads_get_the_error_body() {
    let s = Server::start(2, &[]);
    let big = format!(
        "GET /checkpoint HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(600_000)
    );
    let long = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(70_000));
    let cases: [(&[u8], u16, &str); 4] = [
        (big.as_bytes(), 431, "request.header-too-large"),
        (b"GARBAGE\r\n\r\n", 400, "request.malformed"),
        (
            b"GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",
            400,
            "request.malformed",
        ),
        (long.as_bytes(), 414, "request.uri-too-long"),
    ];
    for (req, status, code) in cases {
        let r = send(&s.url, req);
        assert_eq!(r.status, status, "{}", r.head);
        assert_eq!(r.json()["code"], code, "{}", r.head);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
    }
    // After an answer already due on a keep-alive connection.
    let r = send(
        &s.url,
        b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGARBAGE\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&r.body).into_owned();
    assert!(
        text.contains("HTTP/1.1 400 Bad Request\r\n") && text.ends_with("\"request.malformed\",\"message\":\"the request line or a header is not valid HTTP/1.1\",\"detail\":null}"),
        "{text}"
    );
}
