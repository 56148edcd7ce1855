//! `tallyboard station` in a real terminal (spec/operations.md §10): the
//! console runs inside tmux (installed by `scripts/tmux.sh`), the test types
//! into it with `send-keys` and reads the screen with `capture-pane`, as a
//! station head would type and read. A real board (the binary, on
//! loopback) logs what the console sends. Every wait is bounded.

#[path = "server/harness.rs"]
#[allow(dead_code)]
mod harness;

use harness::{run_cli, Server};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tallyboard_core::entry::{Entry, SignedEntry, Tally};
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_synth::{keys, ELECTION_ID};

/// The longest any one thing on the screen is waited for.
const PATIENCE: Duration = Duration::from_secs(90);

/// A tmux server of our own (its own socket) running one session.
struct Tmux {
    bin: String,
    socket: PathBuf,
    /// How many times each prompt has been answered.
    answered: HashMap<String, usize>,
}

impl Tmux {
    /// Starts `command` in a 120×40 terminal; when it ends the pane keeps
    /// its screen and shows `[exit N]`.
    fn start(dir: &Path, command: &str) -> Tmux {
        let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tmux.sh"))
            .output()
            .expect("run scripts/tmux.sh");
        assert!(
            out.status.success(),
            "scripts/tmux.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let t = Tmux {
            bin,
            socket: dir.join("tmux.sock"),
            answered: HashMap::new(),
        };
        let shell = format!("{command}; echo \"[exit $?]\"; sleep 600");
        t.tmux(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            "console",
            &shell,
        ]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .arg("-u")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The whole screen and its history, wrapped lines joined.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", "console"])
    }

    /// Waits until the screen satisfies `ok`; returns it.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if s.contains("[exit ") || start.elapsed() > PATIENCE {
                panic!("waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the next time `prompt` is asked, then types `answer`
    /// and Enter.
    fn answer(&mut self, prompt: &str, answer: &str) {
        let n = self.answered.get(prompt).copied().unwrap_or(0) + 1;
        self.wait(&format!("prompt {prompt:?} #{n}"), |s| {
            s.matches(prompt).count() >= n
        });
        self.answered.insert(prompt.to_owned(), n);
        if !answer.is_empty() {
            self.tmux(&["send-keys", "-t", "console", "-l", answer]);
        }
        self.tmux(&["send-keys", "-t", "console", "Enter"]);
    }

    /// Waits until the console has exited; returns its exit status and the screen.
    fn exit(&self) -> (i32, String) {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if let Some(code) = s
                .lines()
                .find_map(|l| l.trim().strip_prefix("[exit ")?.strip_suffix(']'))
            {
                return (code.parse().unwrap(), s);
            }
            assert!(start.elapsed() < PATIENCE, "the console did not exit:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin)
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// `s` with ASCII digits written in Persian (U+06F0…).
fn persian(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap(),
            None => c,
        })
        .collect()
}

/// `s` with ASCII digits written in Arabic-Indic (U+0660…).
fn arabic_indic(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x0660 + d).unwrap(),
            None => c,
        })
        .collect()
}

/// The station's key in a private file; the station's candidates' codes.
fn station(s: &Server, i: usize) -> (PathBuf, Vec<u32>) {
    let id = s.e.station_id(i);
    let key = s.path(&format!("station-{i}.key"));
    let skey = keys::station_key(ELECTION_ID, id).to_skey_string();
    std::fs::write(&key, format!("{skey}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let m = s.e.manifest();
    let contest = &m.station(id).unwrap().contests[0];
    let codes = m
        .contest(contest)
        .unwrap()
        .candidates
        .iter()
        .map(|c| c.code)
        .collect();
    (key, codes)
}

fn console_command(s: &Server, i: usize, key: &Path, dir: &Path, extra: &str) -> String {
    format!(
        "{} station --manifest {} --station {} --key {} --dir {} {extra}",
        harness::BIN,
        s.path("manifest.json").display(),
        s.e.station_id(i),
        key.display(),
        dir.display(),
    )
}

fn assert_same_figures(t: &Tally, want: &Tally) {
    assert_eq!(t.figures, want.figures);
    assert_eq!(t.votes, want.votes);
    assert_eq!(t.station, want.station);
    assert_eq!(t.contest, want.contest);
}

#[test]
fn a_station_head_types_the_minutes_confirms_and_gets_a_receipt() {
    let s = Server::start(12, &[]);
    s.setup(0..10);
    let i = 4;
    let want = s.e.tally(i);
    let (key, codes) = station(&s, i);
    let dir = s.path("console");
    let before = s.size();
    let mut t = Tmux::start(
        s.dir.path(),
        &console_command(&s, i, &key, &dir, &format!("--url {}", s.url)),
    );
    let steps = 6 + codes.len();
    let tag = |k: usize| format!("({k}/{steps}) ");
    let f = want.figures;

    // A figure that is not a count is refused at once, and asked again.
    t.answer(&tag(1), "12x");
    t.wait("the refusal of 12x", |s| s.contains("✗ entry.bad-value"));
    // Persian, ASCII and Arabic-Indic digits alike.
    t.answer(&tag(1), &persian(&f.counterfoils.to_string()));
    t.answer(&tag(2), &f.ballots_in_box.to_string());
    t.answer(&tag(3), &arabic_indic(&f.votes_taken.to_string()));
    t.answer(&tag(4), &persian(&f.void_taken.to_string()));
    t.answer(&tag(5), &f.void_not_taken.to_string());
    // valid + void-taken != votes-taken: refused as soon as the six are in.
    t.answer(&tag(6), &(f.valid + 1).to_string());
    t.wait("the ballot figures refused", |s| {
        s.contains("✗ tally.arithmetic.votes-taken")
    });
    for k in 1..=5 {
        t.answer(&tag(k), ""); // Enter keeps what was typed
    }
    t.answer(&tag(6), &persian(&f.valid.to_string()));
    // One candidate's votes one too many: the whole tally is refused
    // before anything is signed or sent.
    for (n, code) in codes.iter().enumerate() {
        let v = want.votes_of(*code) + u64::from(n == 0);
        t.answer(&tag(7 + n), &v.to_string());
    }
    t.wait("the tally refused", |s| {
        s.contains("✗ tally.arithmetic.vote-sum")
    });
    assert_eq!(s.size(), before, "nothing was sent");
    assert!(!dir.join("outbox").exists(), "nothing was signed");
    for k in 1..=6 {
        t.answer(&tag(k), "");
    }
    for (n, code) in codes.iter().enumerate() {
        let v = if n == 0 {
            persian(&want.votes_of(*code).to_string())
        } else {
            String::new()
        };
        t.answer(&tag(7 + n), &v);
    }
    // The whole tally is shown; "n" lets the head enter it again.
    let screen = t.wait("the review", |s| s.contains("(y/n)"));
    assert!(screen.contains("Compare these figures with the minutes"));
    // Each figure in Persian and ASCII digits (the synthetic counts are
    // below 1,000: no thousands separator).
    assert!(f.valid >= 10 && f.counterfoils < 1000);
    let both = |n: u64| format!("{} ({n})", persian(&n.to_string()));
    assert!(
        screen.contains(&format!("Valid votes: {}", both(f.valid))),
        "{screen}"
    );
    t.answer("(y/n)", "n");
    for k in 1..=steps {
        t.answer(&tag(k), "");
    }
    t.answer("(y/n)", "y");
    let (code, screen) = t.exit();
    assert_eq!(code, 0, "{screen}");

    // Logged once; the receipt is kept, verifies, and its index and
    // checkpoint size are on the screen.
    assert_eq!(s.size(), before + 1, "{screen}");
    let file = dir.join(format!("{}.{}.tally", want.station, want.contest));
    let receipt = std::fs::read(file.with_extension("tally.tlog-proof")).unwrap();
    let signed = std::fs::read(file.with_extension("tally.signed")).unwrap();
    let proof = TlogProof::parse(&receipt).unwrap();
    let cp = proof
        .verify(&signed, s.origin(), &s.log_verifiers())
        .unwrap();
    let line = screen
        .lines()
        .find(|l| l.contains("Logged; entry index"))
        .unwrap_or_else(|| panic!("no receipt line:\n{screen}"));
    assert!(line.contains(&format!("({})", proof.index)), "{line}");
    assert!(line.contains(&format!("({})", cp.size)), "{line}");

    // The board's log holds the entry, with the figures typed.
    let r = s.get(&format!("/api/v1/entries/{}", proof.index));
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["note"].as_str().unwrap().as_bytes(), &signed[..]);
    assert_eq!(j["fields"]["valid"].as_u64(), Some(f.valid));
    match SignedEntry::parse(&signed).unwrap().entry {
        Entry::Tally(t) => assert_same_figures(&t, &want),
        other => panic!("not a tally: {other:?}"),
    }
}

#[test]
fn with_no_board_answering_the_signed_tally_waits_in_the_outbox() {
    let s = Server::start(12, &[]);
    s.setup(0..10);
    let i = 6;
    let want = s.e.tally(i);
    let (key, codes) = station(&s, i);
    let dir = s.path("console");
    let outbox = s.path("outbox");
    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut t = Tmux::start(
        s.dir.path(),
        &console_command(
            &s,
            i,
            &key,
            &dir,
            &format!(
                "--lang fa --url {dead} --retries 0 --outbox {}",
                outbox.display()
            ),
        ),
    );
    let steps = 6 + codes.len();
    let tag = |k: usize| persian(&format!("({k}/{steps}) "));
    let f = want.figures;
    for (k, n) in [
        f.counterfoils,
        f.ballots_in_box,
        f.votes_taken,
        f.void_taken,
        f.void_not_taken,
        f.valid,
    ]
    .into_iter()
    .enumerate()
    {
        t.answer(&tag(k + 1), &persian(&n.to_string()));
    }
    for (n, code) in codes.iter().enumerate() {
        t.answer(&tag(7 + n), &persian(&want.votes_of(*code).to_string()));
    }
    t.answer("(y/n)", "بله");
    let (code, screen) = t.exit();
    assert_eq!(code, 75, "{screen}");
    assert!(
        screen.contains("هیچ تابلویی پاسخ نداد"),
        "the console says where the tally is:\n{screen}"
    );
    let pending: Vec<PathBuf> = std::fs::read_dir(outbox.join("pending"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let signed = std::fs::read(&pending[0]).unwrap();
    match SignedEntry::parse(&signed).unwrap().entry {
        Entry::Tally(t) => assert_same_figures(&t, &want),
        other => panic!("not a tally: {other:?}"),
    }

    // Once a board answers, `tallyboard outbox` sends it.
    let size = s.size();
    let (ok, out, err) = run_cli(
        &[
            OsStr::new("outbox"),
            OsStr::new("--dir"),
            outbox.as_os_str(),
            OsStr::new("--url"),
            OsStr::new(&s.url),
            OsStr::new("--log-vkey"),
            OsStr::new(&keys::role_key("log").unwrap().verifier().to_vkey_string()),
            OsStr::new("--patience"),
            OsStr::new("30s"),
        ],
        s.dir.path(),
    );
    assert!(ok, "{out} {err}");
    assert_eq!(s.size(), size + 1);
}

/// Runs the console with `input` on a pipe (the console reads lines, so a
/// pipe stands in for a keyboard); returns (exit status, stdout, stderr).
fn console_piped(
    s: &Server,
    i: usize,
    key: &Path,
    dir: &Path,
    input: &str,
) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(harness::BIN)
        .args(["station", "--lang", "en", "--retries", "0", "--manifest"])
        .arg(s.path("manifest.json"))
        .args(["--station", s.e.station_id(i), "--key"])
        .arg(key)
        .arg("--dir")
        .arg(dir)
        .args(["--url", &s.url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run tallyboard station");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn input_that_ends_early_signs_nothing_and_a_refusal_is_set_aside() {
    let s = Server::start(12, &[]);
    s.setup(0..10);
    let before = s.size();

    // The input ends halfway: nothing signed, nothing sent (exit 66).
    let (key, codes) = station(&s, 3);
    let dir = s.path("early");
    let (code, out, err) = console_piped(&s, 3, &key, &dir, "300\n290\n");
    assert_eq!(code, 66, "{out} {err}");
    assert!(err.contains("console.input-ended"), "{err}");
    assert!(!dir.join("outbox").exists());
    assert_eq!(s.size(), before);

    // Another station's key file: refused by its name (spec/keys.md §7)
    // before a figure is asked, nothing signed.
    let (other, _) = station(&s, 4);
    let dir = s.path("other-key");
    let (code, out, err) = console_piped(&s, 3, &other, &dir, "300\n");
    assert_eq!(code, 1, "{out} {err}");
    assert!(err.contains("enrol.key-name"), "{err}");
    assert!(!out.contains("(1/"), "no figure asked: {out}");
    assert!(!dir.join("outbox").exists());
    assert_eq!(s.size(), before);

    // A station whose key the log does not hold: the board refuses the
    // signed tally with its code, and the outbox sets it aside (exit 1).
    let i = 11;
    let want = s.e.tally(i);
    let (key, _) = station(&s, i);
    let f = want.figures;
    let mut input: Vec<String> = [
        f.counterfoils,
        f.ballots_in_box,
        f.votes_taken,
        f.void_taken,
        f.void_not_taken,
        f.valid,
    ]
    .iter()
    .map(u64::to_string)
    .collect();
    input.extend(codes.iter().map(|c| want.votes_of(*c).to_string()));
    input.push("y".into());
    let dir = s.path("refused");
    let (code, out, err) = console_piped(&s, i, &key, &dir, &(input.join("\n") + "\n"));
    assert_eq!(code, 1, "{out} {err}");
    assert!(out.contains("The board refused it"), "{out}");
    assert!(out.contains("station.key-not-registered"), "{out}");
    let refused = std::fs::read_dir(dir.join("outbox").join("refused"))
        .unwrap()
        .count();
    assert_eq!(refused, 2, "the entry and the board's answer");
    assert_eq!(s.size(), before);
}
