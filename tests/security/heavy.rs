//! Nothing expensive on request threads (issue 17, item 2): `GET /live`
//! streams are capped overall and per client address, with `503` and
//! `Retry-After` beyond the caps, and streams nobody reads do not keep the
//! board from answering (the exports, built in the background, are tested
//! in `tests/server.rs`). Assertions are on behaviour (status codes,
//! headers, `/metrics`), never on time.

use crate::harness::Server;
use crate::raw::{self, RawResp};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Opens `GET /live` and reads the answer's head (a stream's head comes
/// with its first event; a refusal is read whole).
fn open_live(url: &str) -> (TcpStream, RawResp) {
    let mut c = TcpStream::connect(raw::addr(url)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    c.write_all(b"GET /live HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = c.read(&mut buf).expect("read the answer's head");
        assert!(n > 0, "closed before an answer");
        got.extend_from_slice(&buf[..n]);
    }
    let r = raw::parse(&got);
    if r.status != 200 {
        // A refusal says Connection: close; read it to the end.
        let _ = c.read_to_end(&mut got);
        return (c, raw::parse(&got));
    }
    (c, r)
}

fn assert_refused(r: &RawResp, code: &str) {
    assert_eq!(r.status, 503, "{}", r.head);
    assert_eq!(r.json()["code"], code);
    assert_eq!(r.header("retry-after").as_deref(), Some("30"));
    assert_eq!(r.header("connection").as_deref(), Some("close"));
}

#[test]
fn live_streams_beyond_the_caps_get_503_with_retry_after() {
    // Per client: two streams from this address, the third refused.
    let s = Server::start(4, &["--live-max", "10", "--live-per-client", "2"]);
    let held: Vec<_> = (0..2).map(|_| open_live(&s.url)).collect();
    for (_, r) in &held {
        assert_eq!(r.status, 200, "{}", r.head);
    }
    let (_, r) = open_live(&s.url);
    assert_refused(&r, "request.too-many-streams");
    assert_eq!(s.metric("tallyboard_live_streams"), 2);
    assert_eq!(s.get("/checkpoint").status, 200);

    // Overall: every client's streams count.
    let s = Server::start(4, &["--live-max", "3", "--live-per-client", "5"]);
    let held: Vec<_> = (0..3).map(|_| open_live(&s.url)).collect();
    assert!(held.iter().all(|(_, r)| r.status == 200));
    let (_, r) = open_live(&s.url);
    assert_refused(&r, "board.live-full");
    assert_eq!(s.get("/checkpoint").status, 200);
}

#[test]
fn unread_live_streams_do_not_keep_the_board_from_answering() {
    // With the default caps, 300 streams opened and never read: a few are
    // served, the rest refused and closed, and the read path still answers.
    let s = Server::start(4, &[]);
    let conns: Vec<_> = (0..300).map(|_| open_live(&s.url)).collect();
    let served = conns.iter().filter(|(_, r)| r.status == 200).count();
    assert_eq!(served, 8, "the default per-client cap");
    assert!(conns
        .iter()
        .filter(|(_, r)| r.status != 200)
        .all(|(_, r)| r.json()["code"] == "request.too-many-streams"));
    assert_eq!(s.get("/checkpoint").status, 200);
    s.export_at("/api/v1/exports/results.csv", s.size());
}
