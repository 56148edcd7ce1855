//! The board as a child process for the crash test: a temporary data
//! directory initialized with `tallyboard init` and the manifest commitment
//! and station registrations imported with `tallyboard import`; `serve` on
//! 127.0.0.1:0 (the bound address is read from its first stdout line);
//! SIGKILL (`Child::kill` sends SIGKILL on Unix).
//!
//! The board runs exactly as in production: no test-only flags, so every
//! acknowledgement follows the store's durable commit (spec/storage.md §3).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tallyboard_synth::{keys, SyntheticElection};

pub const BIN: &str = env!("CARGO_BIN_EXE_tallyboard");

/// A board's data directory (and its manifest and log key).
pub struct BoardDir {
    pub dir: tempfile::TempDir,
}

fn run(args: &[&std::ffi::OsStr]) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run tallyboard");
    assert!(
        out.status.success(),
        "tallyboard {:?}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

impl BoardDir {
    /// `tallyboard init` for the election, then `tallyboard import` of the
    /// commitment and every station's key registration.
    pub fn create(e: &SyntheticElection) -> BoardDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |name: &str| dir.path().join(name);
        std::fs::write(p("manifest.json"), e.manifest_bytes()).unwrap();
        let log = keys::role_key("log").unwrap();
        std::fs::write(p("log.key"), format!("{}\n", log.to_skey_string())).unwrap();
        std::fs::set_permissions(p("log.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut setup = vec![e.commitment_entry()];
        setup.extend((0..e.station_count()).map(|i| e.registration_entry(i)));
        let mut file = Vec::new();
        for entry in &setup {
            file.extend_from_slice(&u16::try_from(entry.len()).unwrap().to_be_bytes());
            file.extend_from_slice(entry);
        }
        std::fs::write(p("setup.bundle"), file).unwrap();
        let (data, manifest, key, bundle) = (
            p("data"),
            p("manifest.json"),
            p("log.key"),
            p("setup.bundle"),
        );
        run(&[
            "init".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
            "--manifest".as_ref(),
            manifest.as_os_str(),
            "--log-key".as_ref(),
            key.as_os_str(),
        ]);
        run(&[
            "import".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
            "--log-key".as_ref(),
            key.as_os_str(),
            bundle.as_os_str(),
        ]);
        BoardDir { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `tallyboard serve` on the data directory and waits for its
    /// listening line (which it prints only once the store is open and
    /// verified).
    pub fn spawn(&self) -> Process {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(self.path("data"))
            .arg("--log-key")
            .arg(self.path("log.key"))
            .env("TALLYBOARD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn serve");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).expect("read listen line");
        let url = match line.trim().strip_prefix("listening on ") {
            Some(u) => u.to_owned(),
            None => {
                let _ = child.kill();
                let status = child.wait();
                let mut rest = String::new();
                let _ = out.read_to_string(&mut rest);
                panic!("serve did not start ({status:?}): {line:?}{rest}");
            }
        };
        Process {
            child: Some(child),
            url,
        }
    }
}

/// A running `tallyboard serve`.
pub struct Process {
    child: Option<Child>,
    pub url: String,
}

impl Process {
    /// SIGKILL, then reap.
    pub fn sigkill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().expect("reap");
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.sigkill();
    }
}

/// An HTTP answer, or `Err` for a transport failure (the board is gone).
pub type Answer = Result<(u16, Vec<u8>), String>;

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(2))
        .timeout(Duration::from_secs(60))
        .build()
}

fn finish(r: Result<ureq::Response, ureq::Error>) -> Answer {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let mut body = Vec::new();
    resp.into_reader()
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    Ok((status, body))
}

pub fn get(agent: &ureq::Agent, url: &str, path: &str) -> Answer {
    finish(agent.get(&format!("{url}{path}")).call())
}

pub fn submit(agent: &ureq::Agent, url: &str, bytes: &[u8]) -> Answer {
    finish(
        agent
            .post(&format!("{url}/api/v1/entries"))
            .set("Content-Type", "text/plain")
            .send_bytes(bytes),
    )
}
