//! Role keys in a PKCS#11 token (`spec/operations.md` §13), with a real
//! SoftHSM2 token made by `scripts/softhsm.sh`: keys generated in the token,
//! a checkpoint and a role's entry signed there and verified with the core,
//! a wrong PIN refused with its code and without the PIN, a small
//! `demo --hsm` audited from its export, and no private key file anywhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::repo;
use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::note::{self, VerifierKey, Verifiers, SKEY_PREFIX};
use tallyboard_synth::{keys, Config, RoleSigners, SyntheticElection};
use tallyboard_verify::{audit, DirSource, LogKey};

/// A throwaway token: its configuration (for SOFTHSM2_CONF), its PIN file
/// and the URI of the token (no object).
struct Token {
    conf: String,
    pin_file: PathBuf,
    module: String,
    label: String,
}

impl Token {
    /// Made by the project's script, or `None` (with the reason printed)
    /// only if softhsm2 cannot be installed on this machine (no apt-get).
    fn make(dir: &Path, label: &str) -> Option<Token> {
        let out = Command::new("bash")
            .arg(repo().join("scripts/softhsm.sh"))
            .arg("token")
            .arg(dir)
            .arg(label)
            .output()
            .expect("run scripts/softhsm.sh");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && Command::new("apt-get").arg("--version").output().is_err() {
            eprintln!("SKIPPED: scripts/softhsm.sh could not install softhsm2 (no apt-get here): {stderr}");
            return None;
        }
        assert!(out.status.success(), "scripts/softhsm.sh: {stderr}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or_else(|| panic!("softhsm.sh printed no {k}: {text}"))
                .trim_matches('\'')
                .to_owned()
        };
        Some(Token {
            conf: get("SOFTHSM2_CONF"),
            pin_file: PathBuf::from(get("PIN_FILE")),
            module: get("MODULE"),
            label: label.to_owned(),
        })
    }

    /// The token's URI, with the PIN read from `pin_file`.
    fn uri_with_pin(&self, pin_file: &Path) -> String {
        format!(
            "pkcs11:token={}?module-path={}&pin-source=file:{}",
            self.label,
            self.module,
            pin_file.display()
        )
    }

    /// The URI of the key named `name` (the object label, percent-encoded).
    fn key(&self, name: &str) -> String {
        let enc = name.replace('/', "%2F");
        format!(
            "pkcs11:token={};object={enc}?module-path={}&pin-source=file:{}",
            self.label,
            self.module,
            self.pin_file.display()
        )
    }

    fn run(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tallyboard"))
            .current_dir(dir)
            .env("SOFTHSM2_CONF", &self.conf)
            .args(args)
            .output()
            .expect("run tallyboard")
    }

    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.run(dir, args);
        assert!(
            out.status.success(),
            "tallyboard {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// `hsm keygen`: the verifier key, after checking the fingerprint line.
    fn keygen(&self, dir: &Path, name: &str) -> VerifierKey {
        let out = self.ok(dir, &["hsm", "keygen", "--key", &self.key(name)]);
        let mut lines = out.lines();
        let vkey = VerifierKey::parse(lines.next().expect("vkey line")).expect("a vkey");
        assert_eq!(vkey.name(), name);
        assert_eq!(
            lines.next(),
            Some(format!("{}  {name}", vkey.fingerprint()).as_str())
        );
        vkey
    }
}

/// Every file under `dir` that holds a private key in the Go note form.
fn private_key_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| {
                b.windows(SKEY_PREFIX.len())
                    .any(|w| w == SKEY_PREFIX.as_bytes())
            }) {
                found.push(p);
            }
        }
    }
    found
}

#[test]
fn role_keys_sign_in_a_softhsm_token_and_the_demo_runs_on_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let Some(token) = Token::make(&d.join("token"), "tallyboard-test") else {
        return;
    };

    // Keys generated in the token under the demo roles' names (the demo
    // below finds and reuses them); a second keygen of a name is refused.
    let log_name = keys::role_name("log").expect("log role");
    let auth_name = keys::role_name("authority").expect("authority role");
    let log = token.keygen(d, log_name);
    let authority = token.keygen(d, auth_name);
    let again = token.run(d, &["hsm", "keygen", "--key", &token.key(log_name)]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("hsm.key-exists"));
    let shown = token.ok(d, &["hsm", "show", "--key", &token.key(log_name)]);
    assert_eq!(shown.lines().next(), Some(log.to_vkey_string().as_str()));

    // The board signs its first checkpoint in the token: it opens under the
    // token's key and under no other.
    let e = SyntheticElection::generate_with(
        Config {
            seed: 7,
            stations: 20,
            majlis: false,
        },
        RoleSigners {
            log: log.clone(),
            ..RoleSigners::demo()
        },
    );
    std::fs::write(d.join("manifest.json"), e.manifest_bytes()).expect("write manifest");
    let cp = token.ok(
        d,
        &[
            "init",
            "--data",
            "board",
            "--manifest",
            "manifest.json",
            "--log-key",
            &token.key(log_name),
        ],
    );
    let mut v = Verifiers::new();
    v.add(log.clone());
    let (opened, _) =
        open_checkpoint(cp.as_bytes(), log_name, &v).expect("the token's checkpoint verifies");
    assert_eq!(opened.size, 0);
    let mut demo_log = Verifiers::new();
    demo_log.add(keys::role_key("log").expect("log").verifier());
    assert!(open_checkpoint(cp.as_bytes(), log_name, &demo_log).is_err());

    // The authority signs a station-key registration in the token.
    let station = e.station_id(0).to_owned();
    let station_vkey = keys::station_key(tallyboard_synth::ELECTION_ID, &station)
        .verifier()
        .to_vkey_string();
    let entry = token.ok(
        d,
        &[
            "key",
            "register",
            "--manifest",
            "manifest.json",
            "--station",
            &station,
            "--vkey",
            &station_vkey,
            "--authority-key",
            &token.key(auth_name),
        ],
    );
    SignedEntry::parse(entry.as_bytes()).expect("a signed entry");
    let mut v = Verifiers::new();
    v.add(authority.clone());
    note::open(entry.as_bytes(), 1 << 16, &v).expect("the authority's token signature verifies");

    // A wrong PIN: refused with its code, and no PIN in the message.
    let bad_pin = d.join("wrong.pin");
    std::fs::write(&bad_pin, "31415926\n").expect("write");
    set_private(&bad_pin);
    let wrong = token.uri_with_pin(&bad_pin).replacen('?', ";object=x?", 1);
    let out = token.run(d, &["hsm", "show", "--key", &wrong]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.starts_with("tallyboard: hsm.pin-incorrect: "), "{err}");
    let pin = std::fs::read_to_string(&token.pin_file).expect("pin");
    assert!(
        !err.contains("31415926") && !err.contains(pin.trim()),
        "{err}"
    );
    // A PIN on the command line is refused before anything is opened.
    let inline = format!(
        "pkcs11:token={};object=x?module-path={}&pin-value=27182818",
        token.label, token.module
    );
    let out = token.run(d, &["hsm", "show", "--key", &inline]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("tallyboard: hsm.uri-malformed: "), "{err}");
    assert!(!err.contains("27182818"), "{err}");

    // The demo with its log, authority and supervisor keys in the token.
    let summary = token.ok(
        d,
        &[
            "demo",
            "--hsm",
            &token.uri_with_pin(&token.pin_file),
            "--stations",
            "40",
            "--no-serve",
            "--listen",
            "127.0.0.1:0",
            "--clients",
            "2",
            "--data",
            "demo",
        ],
    );
    assert!(
        summary.contains("audit               VERIFIED"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "keys in token       pkcs11:token={}: log {}, authority {}",
            token.label,
            log.fingerprint(),
            authority.fingerprint()
        )),
        "{summary}"
    );
    // The published verifier keys are the token's; an observer audits the
    // exported log with them (the board reopened with the token key).
    let vkey = |role: &str| {
        let text = std::fs::read_to_string(d.join(format!("demo/keys/{role}.vkey"))).expect("vkey");
        VerifierKey::parse(text.trim_end()).expect("vkey")
    };
    assert_eq!(vkey("log"), log);
    assert_eq!(vkey("authority"), authority);
    token.ok(
        d,
        &[
            "export",
            "--data",
            "demo/board",
            "--log-key",
            &token.key(log_name),
            "--out",
            "out",
        ],
    );
    let src = DirSource::new(d.join("out"));
    let key = LogKey::load(&log.to_vkey_string(), None).expect("log key");
    let opts = audit::AuditOptions {
        policy: None,
        measure_baseline: false,
        roles: tallyboard_core::state::PinnedRoles {
            authority: vec![authority.clone()],
            supervisors: vec![vkey("supervisor")],
            witnesses: Vec::new(),
        },
    };
    let report = audit::run_with(&src, &key, &opts).expect("audit runs");
    assert!(
        report.verified,
        "the audit of the token-signed log must verify"
    );
    assert!(report.size > 40);

    // No private key exists in a file anywhere this test wrote.
    assert_eq!(private_key_files(d), Vec::<PathBuf>::new());
    // The check would see one (the demo's committed key file holds one).
    assert!(!private_key_files(&repo().join("keys/demo")).is_empty());
}

#[cfg(unix)]
fn set_private(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[cfg(not(unix))]
fn set_private(_: &Path) {}
