//! A runoff end to end (spec/manifest.md §6): `demo --runoff` plays a
//! small first round that ends in a runoff and the second round on a
//! second board; then, against the two live boards, an outsider derives
//! the second round's manifest from the first round's read path with
//! `tallyboard runoff manifest` (the same bytes the demo's board holds),
//! the verifier's runoff step accepts it and refuses a doctored one, the
//! command refuses bad parameters without writing, and each round's site
//! links the other, in Persian and English.

use crate::util;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_verify::{runoff, HttpSource, LogKey};

/// Stations: a few hundred, as the demo's other tests.
const STATIONS: &str = "200";

/// Kills the serving demo however the test ends.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `demo --runoff` serving, and returns it with the first and the
/// second round's URLs once both are served.
fn start(d: &Path) -> (Demo, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .current_dir(d)
        .args([
            "demo",
            "--runoff",
            "--stations",
            STATIONS,
            "--seed",
            "1404",
            "--listen",
            "127.0.0.1:0",
            "--clients",
            "4",
            "--data",
            d.join("demo").to_str().expect("utf-8 path"),
        ])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(d.join("demo.stderr")).expect("stderr file"))
        .spawn()
        .expect("run tallyboard demo");
    let stdout = child.stdout.take().expect("stdout");
    let demo = Demo(child);
    let (mut first, mut second, mut summary) = (None, None, String::new());
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("stdout line");
        summary.push_str(&line);
        summary.push('\n');
        let url = || line.split_whitespace().nth(1).map(str::to_owned);
        if line.starts_with("open ") && first.is_none() {
            first = url();
        } else if line.starts_with("open ") {
            second = url();
        }
        if line == "serving until Ctrl-C" {
            break;
        }
    }
    let stderr = std::fs::read_to_string(d.join("demo.stderr")).unwrap_or_default();
    assert!(
        summary.contains("runoff check        VERIFIED"),
        "{summary}\n{stderr}"
    );
    assert!(
        summary.contains("audit               VERIFIED (the second round's log)"),
        "{summary}"
    );
    assert!(summary.contains("winner              "), "{summary}");
    let trim = |u: Option<String>| {
        u.unwrap_or_else(|| panic!("no URL in\n{summary}\n{stderr}"))
            .trim_end_matches('/')
            .to_owned()
    };
    (demo, trim(first), trim(second))
}

fn get(url: &str) -> String {
    ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .into_string()
        .expect("body")
}

#[test]
fn a_runoff_is_derived_verified_played_and_linked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (_demo, first, second) = start(d);
    let keys = util::repo().join("keys");
    let vkey = |f: &str| keys.join(f).to_str().expect("utf-8 path").to_owned();

    // An outsider derives the second round's manifest from the first
    // round's read path: the bytes the second board was created with.
    let derive = |date: &str, out: &str| {
        util::tallyboard(
            d,
            &[
                "runoff",
                "manifest",
                "--first",
                &first,
                "--first-log-vkey",
                &vkey("log.vkey"),
                "--election",
                "1404-presidential-round-2",
                "--date",
                date,
                "--log-vkey",
                &vkey("log-round-2.vkey"),
                "--out",
                out,
            ],
        )
    };
    let out = derive("2025-07-04", "derived.json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let derived = std::fs::read(d.join("derived.json")).expect("written");
    let played = std::fs::read(d.join("demo/round-2/manifest.json")).expect("demo manifest");
    assert_eq!(
        derived, played,
        "the command and the demo derive the same manifest"
    );
    let served = ureq::get(&format!("{second}/api/v1/manifest"))
        .call()
        .expect("second board's manifest");
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut served.into_reader(), &mut body).expect("body");
    assert_eq!(body, derived, "the second board holds the derived manifest");
    let m = ValidatedManifest::from_bytes(&derived).expect("valid");
    let contest = &m.manifest().contests[0];
    assert_eq!(contest.round, Some(2));
    assert_eq!(contest.candidates.len(), 2);
    assert_eq!(m.manifest().stations.len(), 200);

    // A date before the first round's: refused with its code, no file.
    let refused = derive("2025-06-01", "refused.json");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("runoff.bad-parameters"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!d.join("refused.json").exists());

    // The verifier's step, against the first board's read path.
    let first_src = HttpSource::new(&first);
    let log_text = std::fs::read_to_string(keys.join("log.vkey")).expect("log.vkey");
    let log = LogKey::load(log_text.trim_end(), None).expect("log key");
    let report = runoff::run(&derived, &first_src, &log).expect("ran");
    assert!(report.verified, "{:?}", report.findings);
    assert_eq!(report.runoff.len(), 2);

    // A doctored second round: a station left out. Still a valid
    // manifest, but not the one the first round called for.
    let mut doctored = m.manifest().clone();
    doctored.stations.pop();
    let doctored = ValidatedManifest::from_manifest(doctored)
        .expect("valid")
        .manifest()
        .to_canonical_bytes();
    let report = runoff::run(&doctored, &first_src, &log).expect("ran");
    assert!(!report.verified);
    assert_eq!(report.findings[0].code, "runoff.not-derived");
    // Naming another checkpoint size than the first round's log has.
    let mut beyond = m.manifest().clone();
    if let Some(r) = beyond.previous_round.as_mut() {
        r.checkpoint.size += 1_000;
    }
    let beyond = ValidatedManifest::from_manifest(beyond)
        .expect("valid")
        .manifest()
        .to_canonical_bytes();
    let report = runoff::run(&beyond, &first_src, &log).expect("ran");
    assert_eq!(report.findings[0].code, "runoff.checkpoint-mismatch");

    // The sites link the rounds: the second round's pages name the first
    // round and its final checkpoint, with a link to the first board.
    let size = m
        .manifest()
        .previous_round
        .as_ref()
        .expect("reference")
        .checkpoint
        .size;
    let page = get(&format!("{second}/en/contest/president"));
    assert!(page.contains("Second round of"), "{page}");
    assert!(page.contains("first round: final checkpoint"), "{page}");
    assert!(
        page.contains(&format!(
            "href=\"{first}/checkpoints\" rel=\"prev\">{size}</a>"
        )),
        "{page}"
    );
    let home_fa = get(&format!("{second}/"));
    assert!(home_fa.contains("دور اول: نقطه وارسی نهایی"), "{home_fa}");
    assert!(home_fa.contains(&format!("href=\"{first}/checkpoints\"")));
    // The first round's contest page says a runoff was held, and links to
    // the second round's contest page in the same language.
    let page = get(&format!("{first}/en/contest/president"));
    assert!(
        page.contains("A runoff was held for this contest:"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "href=\"{second}/en/contest/president\" rel=\"next\""
        )),
        "{page}"
    );
    let page = get(&format!("{first}/contest/president"));
    assert!(page.contains("دور دوم این رقابت برگزار شد:"));
    assert!(page.contains(&format!("href=\"{second}/contest/president\"")));
    // A first round's page does not call itself a second round.
    assert!(!page.contains("id=\"previous-round\""));
}

#[test]
fn round_urls_are_web_links_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (flag, url) in [
        ("--next-round-url", "javascript:alert(1)"),
        (
            "--previous-round-url",
            "http://board.example/\" onmouseover=\"x",
        ),
    ] {
        let out = util::tallyboard(dir.path(), &["serve", "--data", "none", flag, url]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("an http:// or https:// URL"), "{err}");
    }
}
