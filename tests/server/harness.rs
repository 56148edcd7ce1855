//! A board served by the real binary on loopback (port 0), with a temporary
//! data directory and a small synthetic election, and a tiny HTTP client.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tallyboard_core::checkpoint::{self, Checkpoint};
use tallyboard_core::note::Verifiers;
use tallyboard_synth::{keys, Config, SyntheticElection};

pub const BIN: &str = env!("CARGO_BIN_EXE_tallyboard");

/// An HTTP answer.
pub struct Resp {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: String,
    pub cache_control: String,
    pub retry_after: Option<String>,
    /// Every header, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Resp {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
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
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
    /// The `code` of an error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }
}

/// The answer of a ureq call, whatever its status.
pub fn finish(r: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let content_type = resp.header("content-type").unwrap_or("").to_owned();
    let cache_control = resp.header("cache-control").unwrap_or("").to_owned();
    let retry_after = resp.header("retry-after").map(str::to_owned);
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|k| {
            let v = resp.header(&k)?.to_owned();
            Some((k.to_ascii_lowercase(), v))
        })
        .collect();
    let mut body = Vec::new();
    match std::io::Read::read_to_end(&mut resp.into_reader(), &mut body) {
        Ok(_) => {}
        // ureq decodes a gzip body it asked for, and fails on the empty
        // body of a HEAD answer that names the coding (as RFC 9110 §9.3.2
        // has it: the GET's headers, no body).
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && body.is_empty() => {}
        Err(e) => panic!("read body: {e}"),
    }
    Resp {
        status,
        body,
        content_type,
        cache_control,
        retry_after,
        headers,
    }
}

/// A running board.
pub struct Server {
    pub child: Option<Child>,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub e: SyntheticElection,
    agent: ureq::Agent,
    extra_args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Server {
    /// A fresh board for an election of `stations` stations.
    pub fn start(stations: usize, extra_args: &[&str]) -> Server {
        Server::start_with_env(stations, extra_args, &[])
    }

    /// Like [`Server::start`], with extra environment variables for `serve`.
    pub fn start_with_env(stations: usize, extra_args: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = SyntheticElection::generate(Config {
            seed: 1404,
            stations,
            majlis: false,
        });
        std::fs::write(dir.path().join("manifest.json"), e.manifest_bytes()).unwrap();
        let log = keys::role_key("log").unwrap();
        std::fs::write(
            dir.path().join("log.key"),
            format!("{}\n", log.to_skey_string()),
        )
        .unwrap();
        let out = Command::new(BIN)
            .args(["init", "--data"])
            .arg(dir.path().join("data"))
            .arg("--manifest")
            .arg(dir.path().join("manifest.json"))
            .arg("--log-key")
            .arg(dir.path().join("log.key"))
            .output()
            .expect("run init");
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut s = Server {
            child: None,
            url: String::new(),
            dir,
            e,
            agent: ureq::AgentBuilder::new()
                .timeout(std::time::Duration::from_secs(120))
                .build(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        s.spawn();
        s
    }

    /// Starts (or restarts) the server process on the data directory.
    pub fn spawn(&mut self) {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(self.dir.path().join("data"))
            .arg("--log-key")
            .arg(self.dir.path().join("log.key"))
            .args(&self.extra_args)
            .env("TALLYBOARD_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read listen line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        self.url = url;
        self.child = Some(child);
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(&mut self) {
        let mut child = self.child.take().expect("running");
        let st = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let status = child.wait().expect("wait");
        assert!(status.success(), "serve exited with {status}");
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn get(&self, path: &str) -> Resp {
        finish(self.agent.get(&format!("{}{path}", self.url)).call())
    }

    pub fn request(&self, method: &str, path: &str) -> Resp {
        finish(
            self.agent
                .request(method, &format!("{}{path}", self.url))
                .call(),
        )
    }

    pub fn request_with(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.agent.request(method, &format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        finish(req.call())
    }

    pub fn post(&self, path: &str, content_type: Option<&str>, body: &[u8]) -> Resp {
        let mut req = self.agent.post(&format!("{}{path}", self.url));
        if let Some(ct) = content_type {
            req = req.set("Content-Type", ct);
        }
        finish(req.send_bytes(body))
    }

    pub fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut req = self.agent.post(&format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        finish(req.send_bytes(body))
    }

    /// Submits one entry; returns the answer.
    pub fn submit(&self, bytes: &[u8]) -> Resp {
        self.post("/api/v1/entries", Some("text/plain"), bytes)
    }

    /// Submits and asserts it was appended; returns the index.
    pub fn append(&self, bytes: &[u8]) -> u64 {
        let r = self.submit(bytes);
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        r.json()["index"].as_u64().unwrap()
    }

    /// The latest checkpoint, verified with the log key.
    pub fn checkpoint(&self) -> Checkpoint {
        let r = self.get("/checkpoint");
        assert_eq!(r.status, 200);
        let (cp, _) = checkpoint::open_checkpoint(&r.body, self.origin(), &self.log_verifiers())
            .expect("checkpoint verifies");
        cp
    }

    /// `GET` of an export once the board has built it at `size`.
    pub fn export_at(&self, path: &str, size: u64) -> Resp {
        export_at(|p| self.get(p), path, size)
    }

    /// A value of `/metrics` (a metric without labels).
    pub fn metric(&self, name: &str) -> u64 {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    pub fn size(&self) -> u64 {
        self.checkpoint().size
    }

    pub fn origin(&self) -> &str {
        keys::role_name("log").unwrap()
    }

    pub fn log_verifiers(&self) -> Verifiers {
        let mut v = Verifiers::new();
        v.add(keys::role_key("log").unwrap().verifier());
        v
    }

    /// Logs the manifest commitment and registers the keys of stations `0..n`.
    pub fn setup(&self, registered: std::ops::Range<usize>) {
        self.append(&self.e.commitment_entry());
        for i in registered {
            self.append(&self.e.registration_entry(i));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `GET` of an export (`/api/v1/exports/...`) through `get`, once the
/// server has built it at checkpoint size `size`: exports are built in the
/// background, so one asked for right after a new checkpoint may still be
/// of the one before (it says so in `X-Tallyboard-Checkpoint-Size`).
pub fn export_at(get: impl Fn(&str) -> Resp, path: &str, size: u64) -> Resp {
    let want = size.to_string();
    for _ in 0..600 {
        let r = get(path);
        if r.status == 200 && r.header("x-tallyboard-checkpoint-size") == Some(&want) {
            return r;
        }
        assert!(
            r.status == 200 || r.code() == "board.export-not-ready",
            "{path}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{path} was not built at size {size} within a minute");
}

/// Runs `tallyboard` with arguments; returns (success, stdout, stderr).
pub fn run_cli(args: &[&std::ffi::OsStr], cwd: &Path) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run tallyboard");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// POSTs over a raw TCP connection, tolerating the server closing the
/// connection while the body is still being written: a board answers an
/// oversized body with 413 as soon as it sees the Content-Length, and a
/// client that is still writing then gets EPIPE, which is the client's
/// problem, not the board's (ureq reports it as a transport error).
pub fn raw_post(url: &str, path: &str, content_type: &str, body: &[u8]) -> Resp {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    let _ = stream.write_all(body); // may fail with EPIPE once the board has answered
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let header = |name: &str| {
        head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    Resp {
        status,
        body: body.as_bytes().to_vec(),
        content_type: header("content-type").unwrap_or_default(),
        cache_control: header("cache-control").unwrap_or_default(),
        retry_after: header("retry-after"),
        headers: head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect(),
    }
}

/// GETs over a raw HTTP/1.0 connection (so the answer is neither chunked
/// nor decoded by a client library), sending `headers`; the body is the
/// bytes as sent, or empty with `head_only` (for a stream that never ends).
pub fn raw_get(url: &str, path: &str, headers: &[(&str, &str)], head_only: bool) -> Resp {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
        if head_only && raw.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = if head_only {
        Vec::new()
    } else {
        raw[split + 4..].to_vec()
    };
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    Resp {
        status,
        content_type: find("content-type").unwrap_or_default(),
        cache_control: find("cache-control").unwrap_or_default(),
        retry_after: find("retry-after"),
        body,
        headers,
    }
}
