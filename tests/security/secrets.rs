//! Private keys never appear in any output: every command that handles a
//! key is run for real (keygen, init, serve and witness at trace level,
//! submit, cosign, export), on its success and on its refusals, and
//! everything it printed, logged or wrote (stdout, stderr, the board's and
//! the witness's data, the export) is searched for every form of each
//! secret: the key string, its base64 field, the seed in hex and base64,
//! and the private-key prefix itself (`note::SKEY_PREFIX`).

use crate::harness::BIN;
use base64::Engine as _;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use tallyboard_core::entry::{Entry, StationKey};
use tallyboard_core::note::SignerKey;
use tallyboard_synth::{keys, Config, SyntheticElection, ELECTION_ID};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every form in which the secret of the key file at `path` could leak.
fn secret_forms(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("key file");
    let skey = text.trim_end().to_owned();
    // SKEY_PREFIX, then <name>+<id>+<base64>; the base64 itself may hold '+'.
    let field = skey
        .strip_prefix(tallyboard_core::note::SKEY_PREFIX)
        .and_then(|r| r.splitn(3, '+').nth(2))
        .expect("base64 field")
        .to_owned();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&field)
        .expect("base64");
    let seed = &bytes[1..];
    vec![
        skey.clone(),
        field,
        hex::encode(seed),
        hex::encode_upper(seed),
        base64::engine::general_purpose::STANDARD.encode(seed),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(seed),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seed),
    ]
}

/// What was printed or written, with where it came from.
#[derive(Default)]
struct Outputs(Vec<(String, Vec<u8>)>);

impl Outputs {
    fn command(&mut self, what: &str, out: &Output) {
        self.0
            .push((format!("{what} (stdout)"), out.stdout.clone()));
        self.0
            .push((format!("{what} (stderr)"), out.stderr.clone()));
    }

    fn files_under(&mut self, dir: &Path) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                self.files_under(&p);
            } else {
                self.0
                    .push((p.display().to_string(), std::fs::read(&p).expect("read")));
            }
        }
    }

    fn assert_free_of(&self, secrets: &[String]) {
        let mut needles: Vec<&str> = secrets.iter().map(String::as_str).collect();
        needles.push(tallyboard_core::note::SKEY_PREFIX);
        for (what, bytes) in &self.0 {
            for n in &needles {
                assert!(
                    !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                    "{what} contains a private key ({n:?}):\n{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}

fn tallyboard(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(repo())
        .args(args)
        .env("TALLYBOARD_LOG", "trace")
        .env("RUST_LOG", "trace");
    c
}

fn run(outputs: &mut Outputs, what: &str, cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run tallyboard");
    outputs.command(what, &out);
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn keygen(outputs: &mut Outputs, name: &str, path: &Path) {
    let out = run(
        outputs,
        "keygen",
        tallyboard(&["keygen", "--name", name, "--out"]).arg(path),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode,
        0o600,
        "keygen wrote {} with mode {mode:o}",
        path.display()
    );
}

/// A copy of a key file with another mode.
fn copy_with_mode(from: &Path, to: &Path, mode: u32) {
    std::fs::copy(from, to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Starts a long-running command with stdout piped (for its first line) and
/// stderr to a file; returns the child and that first line.
fn spawn(cmd: &mut Command, stderr_file: &Path) -> (Child, String) {
    let err = std::fs::File::create(stderr_file).unwrap();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::from(err))
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn post(url: &str, body: &[u8]) -> u16 {
    match ureq::post(url)
        .set("Content-Type", "text/plain")
        .send_bytes(body)
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(e) => panic!("POST {url}: {e}"),
    }
}

#[test]
fn private_keys_never_appear_in_output_logs_or_written_files() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| -> PathBuf { tmp.path().join(name) };
    let mut outputs = Outputs::default();
    let mut secrets = Vec::new();

    // Fresh keys, as an operator would make them.
    let station_name = keys::station_key_name(ELECTION_ID, "fresh");
    keygen(&mut outputs, "example.org/fresh-log", &p("fresh-log.key"));
    keygen(&mut outputs, "example.org/witness", &p("witness.key"));
    keygen(&mut outputs, &station_name, &p("station.key"));
    for k in ["fresh-log.key", "witness.key", "station.key"] {
        secrets.extend(secret_forms(&p(k)));
    }
    // The board signs with the election's (demo) log key, kept private
    // here; it must not be printed either.
    let log_key = keys::role_key("log").unwrap();
    std::fs::write(p("log.key"), format!("{}\n", log_key.to_skey_string())).unwrap();
    std::fs::set_permissions(p("log.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    secrets.extend(secret_forms(&p("log.key")));

    let e = SyntheticElection::generate(Config {
        seed: 1404,
        stations: 5,
        majlis: false,
    });
    std::fs::write(p("manifest.json"), e.manifest_bytes()).unwrap();
    let manifest = p("manifest.json").display().to_string();

    // Refusals: a key that is not the manifest's, keys with loose modes, a
    // corrupted key file.
    let init_with = |outputs: &mut Outputs, what: &str, key: &Path| {
        let data = p(&format!("refused-{what}"));
        let out = run(
            outputs,
            what,
            tallyboard(&["init", "--manifest", &manifest, "--data"])
                .arg(&data)
                .arg("--log-key")
                .arg(key),
        );
        assert!(!out.status.success(), "{what}: init accepted the key");
        stderr(&out)
    };
    let err = init_with(
        &mut outputs,
        "init with another log key",
        &p("fresh-log.key"),
    );
    assert!(err.contains("log key"), "{err}");
    copy_with_mode(&p("fresh-log.key"), &p("loose-log.key"), 0o644);
    let err = init_with(
        &mut outputs,
        "init with a world-readable key",
        &p("loose-log.key"),
    );
    assert!(err.contains("chmod 600") && err.contains("0644"), "{err}");
    let broken = std::fs::read_to_string(p("fresh-log.key"))
        .unwrap()
        .replacen("+example.org/fresh-log+", "+example.org/fresh-log+0", 1);
    std::fs::write(p("broken.key"), broken).unwrap();
    std::fs::set_permissions(p("broken.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = init_with(&mut outputs, "init with a corrupted key", &p("broken.key"));
    assert!(err.contains("not a signer key file"), "{err}");
    copy_with_mode(&p("witness.key"), &p("loose-witness.key"), 0o640);
    let out = run(
        &mut outputs,
        "witness with a group-readable key",
        tallyboard(&[
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--log-vkey",
            "keys/log.vkey",
        ])
        .arg("--data")
        .arg(p("refused-witness"))
        .arg("--key")
        .arg(p("loose-witness.key")),
    );
    assert!(!out.status.success() && stderr(&out).contains("chmod 600"));

    // A witness with the fresh key, at trace level.
    let (witness, line) = spawn(
        tallyboard(&[
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--log-vkey",
            "keys/log.vkey",
        ])
        .arg("--data")
        .arg(p("witness-data"))
        .arg("--init")
        .arg("--key")
        .arg(p("witness.key")),
        &p("witness.err"),
    );
    let witness_url = line.rsplit(' ').next().unwrap().to_owned();
    let info = ureq::get(&witness_url)
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let witness_vkey = info
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("witness "))
        .expect("witness vkey")
        .to_owned();
    // The election's own witnesses (its manifest's policy) must be listed
    // too, without a URL here: the board refuses a policy without them.
    let election_witnesses: String = tallyboard_synth::witness_policy_text()
        .lines()
        .filter(|l| l.starts_with("witness "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        p("policy.txt"),
        format!(
            "log {}\nwitness w {witness_vkey} {witness_url}\n{election_witnesses}quorum w\n",
            log_key.verifier().to_vkey_string()
        ),
    )
    .unwrap();

    // The board, at trace level, pushing checkpoints to that witness.
    let out = run(
        &mut outputs,
        "init",
        tallyboard(&["init", "--manifest", &manifest, "--data"])
            .arg(p("data"))
            .arg("--log-key")
            .arg(p("log.key")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (board, line) = spawn(
        tallyboard(&["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(p("data"))
            .arg("--log-key")
            .arg(p("log.key"))
            .arg("--witness-policy")
            .arg(p("policy.txt")),
        &p("serve.err"),
    );
    let url = line
        .strip_prefix("listening on ")
        .expect("listening")
        .to_owned();
    let entries = format!("{url}/api/v1/entries");
    assert_eq!(post(&entries, &e.commitment_entry()), 201);
    let station = e.station_id(0).to_owned();
    let fresh_station = SignerKey::parse(
        std::fs::read_to_string(p("station.key"))
            .unwrap()
            .trim_end(),
    )
    .unwrap();
    let registration = tallyboard_synth::sign(
        &Entry::StationKey(StationKey {
            election: ELECTION_ID.into(),
            station: station.clone(),
            key: fresh_station.verifier().to_vkey_string(),
        }),
        &keys::role_key("authority").unwrap(),
    );
    assert_eq!(post(&entries, &registration), 201);

    // The station client signs with the fresh station key; with a loose
    // copy of it, it refuses.
    std::fs::write(p("tally.txt"), Entry::Tally(e.tally(0)).to_text()).unwrap();
    copy_with_mode(&p("station.key"), &p("loose-station.key"), 0o604);
    let out = run(
        &mut outputs,
        "submit with a world-readable key",
        tallyboard(&[
            "submit",
            "--url",
            &url,
            "--log-vkey",
            "keys/log.vkey",
            "--key",
        ])
        .arg(p("loose-station.key"))
        .arg(p("tally.txt")),
    );
    assert!(!out.status.success() && stderr(&out).contains("chmod 600"));
    let out = run(
        &mut outputs,
        "submit",
        tallyboard(&[
            "submit",
            "--url",
            &url,
            "--log-vkey",
            "keys/log.vkey",
            "--key",
        ])
        .arg(p("station.key"))
        .arg(p("tally.txt")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stop(board);

    // Offline commands on the stopped board.
    let out = run(
        &mut outputs,
        "cosign",
        tallyboard(&["cosign", "--data"])
            .arg(p("data"))
            .arg("--log-key")
            .arg(p("log.key"))
            .arg("--policy")
            .arg(p("policy.txt")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(
        &mut outputs,
        "export",
        tallyboard(&["export", "--data"])
            .arg(p("data"))
            .arg("--log-key")
            .arg(p("log.key"))
            .arg("--out")
            .arg(p("export")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stop(witness);

    // The servers did log at trace level, so the search below means something.
    let serve_log = std::fs::read_to_string(p("serve.err")).unwrap();
    assert!(
        serve_log.contains("TRACE") || serve_log.contains("DEBUG"),
        "{serve_log}"
    );
    for f in ["serve.err", "witness.err"] {
        outputs.0.push((f.into(), std::fs::read(p(f)).unwrap()));
    }
    for d in ["data", "witness-data", "export"] {
        outputs.files_under(&p(d));
    }
    assert!(
        outputs.0.len() > 20,
        "only {} outputs collected",
        outputs.0.len()
    );
    outputs.assert_free_of(&secrets);
}
