//! Real witnesses (`tallyboard witness`) for the integration tests that
//! run a board with a witness policy, each on a free port with its state in
//! a temporary directory, killed on drop. Include next to `harness.rs`
//! (the including test names that module `harness`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use tallyboard_synth::keys;

/// A running witness.
pub struct Witness {
    pub child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A witness with `role`'s demo key on a free port.
pub fn witness(role: &str) -> Witness {
    witness_on(role, "127.0.0.1:0")
}

/// A witness with `role`'s demo key on `listen` (its state in a fresh
/// directory, so one started again on the same address has forgotten).
pub fn witness_on(role: &str, listen: &str) -> Witness {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(super::harness::BIN)
        .args(["witness", "--listen", listen, "--data"])
        .arg(dir.path())
        .arg("--key")
        .arg(format!("{repo}/keys/demo/{role}.key"))
        .arg("--log-vkey")
        .arg(format!("{repo}/keys/log.vkey"))
        .args((!dir.path().join("WITNESS").exists()).then_some("--init"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start witness");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read address");
    let url = line.trim().rsplit(' ').next().expect("address").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    Witness {
        child,
        url,
        _dir: dir,
    }
}

/// The demo policy over the two witnesses' URLs: the guardian and one
/// observer must cosign; `extra` adds a third witness (a vkey) the quorum
/// also needs.
pub fn policy_text(guardian: &str, observer: &str, extra: Option<&str>) -> String {
    let log = keys::role_key("log")
        .expect("log")
        .verifier()
        .to_vkey_string();
    let g = tallyboard_synth::witness_vkey("witness-guardian").expect("guardian");
    let o = tallyboard_synth::witness_vkey("witness-observer").expect("observer");
    let mut t = format!(
        "log {log}\nwitness guardian {g} {guardian}\nwitness observer {o} {observer}\ngroup observers any observer\n"
    );
    match extra {
        None => t.push_str("group q all guardian observers\nquorum q\n"),
        Some(vkey) => t.push_str(&format!(
            "witness third {vkey}\ngroup q all guardian observers third\nquorum q\n"
        )),
    }
    t
}
