//! Request bodies are bounded (413 before the body is read), slow clients
//! are cut off (header timeout, body deadline: 408), and submissions can be
//! rate-limited per client address (429 request.rate-limited), on the board
//! and, for sizes and timeouts, on the witness.

use crate::harness::{Server, BIN};
use crate::raw::{self, SlowOutcome};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A client gives up on a slow connection after this long; the servers
/// under test are configured to cut it off after one or two seconds.
const GIVE_UP: Duration = Duration::from_secs(60);
const GAP: Duration = Duration::from_millis(100);

/// Writes `bytes` (ignoring a write cut short by the server's answer) and
/// reads the whole answer.
fn send(url: &str, bytes: &[u8]) -> raw::RawResp {
    let mut s = TcpStream::connect(raw::addr(url)).expect("connect");
    s.set_read_timeout(Some(GIVE_UP)).unwrap();
    let _ = s.write_all(bytes);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    raw::parse(&got)
}

fn post_head(path: &str, content_type: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\n{extra}Connection: close\r\n\r\n"
    )
}

fn chunked(path: &str, total: usize) -> Vec<u8> {
    let mut b = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\n\
         X-Content-SHA256: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        "0".repeat(64)
    )
    .into_bytes();
    let chunk = vec![b'a'; 8192];
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len());
        b.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        b.extend_from_slice(&chunk[..n]);
        b.extend_from_slice(b"\r\n");
        left -= n;
    }
    b.extend_from_slice(b"0\r\n\r\n");
    b
}

/// A running `tallyboard witness` with the demo guardian key, killed on drop.
struct Witness {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Witness {
    fn start(extra: &[&str]) -> Witness {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(BIN)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["witness", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path())
            .args(["--key", "keys/demo/witness-guardian.key"])
            .args(["--log-vkey", "keys/log.vkey"])
            .args((!dir.path().join("WITNESS").exists()).then_some("--init"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start witness");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        Witness {
            child,
            url,
            _dir: dir,
        }
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn oversized_bodies_are_refused_with_413_before_they_are_read() {
    let s = Server::start(5, &[]);
    let size = s.size();
    // Declared too large: refused on the head alone (no body is sent).
    let blob_head = post_head(
        "/api/v1/blobs",
        "application/octet-stream",
        (16 << 20) + 1,
        &format!("X-Content-SHA256: {}\r\n", "0".repeat(64)),
    );
    let entry_head = post_head("/api/v1/entries", "text/plain", 65_537, "");
    for head in [blob_head, entry_head] {
        let r = send(&s.url, head.as_bytes());
        assert_eq!(r.status, 413, "{head}");
        assert_eq!(r.json()["code"], "request.body-too-large");
    }
    // Not declared (chunked), but longer than the limit.
    let r = send(&s.url, &chunked("/api/v1/entries", 70_000));
    assert_eq!(
        (r.status, r.json()["code"].as_str().unwrap()),
        (413, "request.body-too-large")
    );
    // The body limit is the largest legal entry plus one byte: a body of
    // 65,536 bytes is read and refused as an entry that is too large.
    let mut body = post_head("/api/v1/entries", "text/plain", 65_536, "").into_bytes();
    body.extend(std::iter::repeat_n(b'a', 65_536));
    let r = send(&s.url, &body);
    assert_eq!(
        (r.status, r.json()["code"].as_str().unwrap()),
        (413, "entry.too-large")
    );
    assert_eq!(s.size(), size);

    // The witness bounds add-checkpoint bodies the same way, in its own
    // text error form (spec/witness.md §3.1).
    let w = Witness::start(&[]);
    let max = tallyboard_core::witness::MAX_REQUEST_SIZE;
    let r = send(
        &w.url,
        post_head("/add-checkpoint", "text/plain", max + 1, "").as_bytes(),
    );
    assert_eq!(r.status, 413);
    assert!(
        String::from_utf8_lossy(&r.body).starts_with("request.body-too-large: "),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = send(&w.url, &chunked("/add-checkpoint", max + 10));
    assert_eq!(r.status, 413);
}

fn assert_cut_off(what: &str, outcome: SlowOutcome) {
    match outcome {
        SlowOutcome::Closed => {}
        SlowOutcome::Answered(raw) => {
            let r = raw::parse(&raw);
            assert_eq!(r.status, 408, "{what}: {}", String::from_utf8_lossy(&raw));
        }
        SlowOutcome::StillOpen => panic!("{what}: still open after {GIVE_UP:?}"),
    }
}

#[test]
fn slow_clients_are_cut_off_on_the_board() {
    let s = Server::start(
        5,
        &["--header-timeout-secs", "1", "--body-timeout-secs", "2"],
    );
    let size = s.size();
    // A connection that never sends anything.
    assert_cut_off("idle", raw::trickle(&s.url, b"", b"", GAP, GIVE_UP));
    // Slowloris: a head sent a byte at a time, never finished.
    let started = b"GET /checkpoint HTTP/1.1\r\nHost: test\r\n";
    assert_cut_off(
        "slow head",
        raw::trickle(&s.url, started, b"X-Slow: aaaaaaaaaaaaaaaa", GAP, GIVE_UP),
    );
    // A body that stops halfway: answered 408 with the JSON error body.
    let mut stalled = post_head("/api/v1/entries", "text/plain", 1000, "").into_bytes();
    stalled.extend_from_slice(&[b'a'; 10]);
    match raw::trickle(&s.url, &stalled, b"", GAP, GIVE_UP) {
        SlowOutcome::Answered(r) => {
            let r = raw::parse(&r);
            assert_eq!(
                (r.status, r.json()["code"].as_str().unwrap()),
                (408, "request.timeout")
            );
        }
        other => panic!("stalled body: {other:?}"),
    }
    // A body trickled a byte at a time: cut off at the deadline although
    // bytes keep coming.
    let head = post_head("/api/v1/entries", "text/plain", 60_000, "");
    assert_cut_off(
        "slow body",
        raw::trickle(&s.url, head.as_bytes(), b"b", GAP, GIVE_UP),
    );
    // The board still serves, and nothing was appended.
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.size(), size);
}

#[test]
fn slow_clients_are_cut_off_on_the_witness() {
    let w = Witness::start(&["--header-timeout-secs", "1", "--body-timeout-secs", "1"]);
    assert_cut_off("idle", raw::trickle(&w.url, b"", b"", GAP, GIVE_UP));
    assert_cut_off(
        "slow head",
        raw::trickle(&w.url, b"GET / HTTP/1.1\r\n", b"X-Slow: aaaa", GAP, GIVE_UP),
    );
    let mut stalled = post_head("/add-checkpoint", "text/plain", 1000, "").into_bytes();
    stalled.extend_from_slice(b"old 0\n");
    match raw::trickle(&w.url, &stalled, b"", GAP, GIVE_UP) {
        SlowOutcome::Answered(r) => {
            let r = raw::parse(&r);
            assert_eq!(r.status, 408);
            assert!(String::from_utf8_lossy(&r.body).starts_with("request.timeout: "));
        }
        other => panic!("stalled body: {other:?}"),
    }
    // Still serving.
    let r = raw::request(&w.url, "GET", "/");
    assert_eq!(r.status, 200);
}

#[test]
fn submissions_are_rate_limited_per_client_address() {
    // One token per 1,000 s: the bucket never refills during the test.
    let s = Server::start(5, &["--submit-rate", "0.001", "--submit-burst", "2"]);
    let size = s.size();
    for _ in 0..2 {
        let r = s.submit(b"not a note");
        assert_eq!((r.status, r.code().as_str()), (400, "note.malformed"));
    }
    let r = s.submit(&s.e.commitment_entry());
    assert_eq!((r.status, r.code().as_str()), (429, "request.rate-limited"));
    let retry: u64 = r.retry_after.as_deref().unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(r.json()["detail"]["retry_after_seconds"], retry);
    // Blob uploads share the bucket.
    let r = s.post_with(
        "/api/v1/blobs",
        &[("X-Content-SHA256", &"0".repeat(64))],
        b"scan",
    );
    assert_eq!((r.status, r.code().as_str()), (429, "request.rate-limited"));
    // Reads are not limited, and refusals are counted by code.
    assert_eq!(s.size(), size);
    let m = s.get("/metrics").text();
    assert!(
        m.contains("tallyboard_rejections_total{code=\"request.rate-limited\"} 2"),
        "{m}"
    );
}

#[test]
fn nonsensical_limits_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["--submit-rate", "0"][..], "rate"),
        (&["--submit-rate", "1", "--submit-burst", "0"][..], "burst"),
        (&["--header-timeout-secs", "0"][..], "timeout"),
        (&["--body-timeout-secs", "0"][..], "timeout"),
    ] {
        let out = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("data"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
}

/// The witness answers a request head that does not parse in its text
/// error form too (spec/witness.md §3.1, spec/http-api.md §2.3).
#[test]
fn the_witness_answers_unparsable_heads_with_its_error_text() {
    let w = Witness::start(&[]);
    let r = send(&w.url, b"GARBAGE\r\n\r\n");
    assert_eq!(r.status, 400);
    assert!(
        String::from_utf8_lossy(&r.body).starts_with("request.malformed: "),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
}
