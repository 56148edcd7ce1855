//! `tallyboard demo --majlis` at a small scale, through the real binary:
//! both elections played over HTTP, every contest announced, and the log
//! it leaves checked from its export by the independent verifier and by
//! recomputing every announcement with the core library.

use crate::util;
use tallyboard_core::entry::announcement::{self, AnnouncementStatus};
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::rules::Status;
use tallyboard_core::tile::{decode_entry_bundle, TilePath};
use tallyboard_synth::{PRESIDENT, TEHRAN_CONTEST};
use tallyboard_verify::{audit, DirSource, LogKey, Source};

/// Stations: enough for Tehran to have a dozen, few enough for a debug build.
const STATIONS: &str = "150";

fn entries(src: &DirSource, size: u64) -> Vec<SignedEntry> {
    let mut out = Vec::new();
    for n in 0..size.div_ceil(256) {
        let width = (size - n * 256).min(256) as u16;
        let path = TilePath::Entries { index: n, width }.to_path();
        let bundle = src.fetch(&path).expect("read").expect("bundle exists");
        for e in decode_entry_bundle(&bundle).expect("bundle") {
            out.push(SignedEntry::parse(e).expect("entry parses"));
        }
    }
    out
}

#[test]
fn majlis_demo_announces_every_contest_as_recomputed_with_tehran_in_a_runoff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let data = d.join("demo");
    let data = data.to_str().expect("utf-8 path");
    let summary = util::ok(
        d,
        &[
            "demo",
            "--majlis",
            "--stations",
            STATIONS,
            "--seed",
            "1404",
            "--no-serve",
            "--listen",
            "127.0.0.1:0",
            "--clients",
            "4",
            "--data",
            data,
        ],
    );
    assert!(
        summary.contains("audit               VERIFIED"),
        "{summary}"
    );
    assert!(
        summary.contains("majlis              Tehran: 3500 candidates"),
        "{summary}"
    );

    // The log as an observer gets it: exported, then audited independently.
    let key = util::repo().join("keys/demo/log.key");
    util::ok(
        d,
        &[
            "export",
            "--data",
            &format!("{data}/board"),
            "--log-key",
            key.to_str().expect("utf-8 path"),
            "--out",
            "out",
        ],
    );
    let vkey = std::fs::read_to_string(util::repo().join("keys/log.vkey")).expect("vkey");
    let src = DirSource::new(d.join("out"));
    let log = LogKey::load(vkey.trim_end(), None).expect("log key");
    let report = audit::run(&src, &log).expect("audit runs");
    assert!(report.verified, "the audit must verify");

    let log = entries(&src, report.size);
    let Entry::ManifestCommitment(_) = &log[0].entry else {
        panic!("entry 0 is the manifest commitment");
    };
    let manifest_bytes = std::fs::read(d.join("out/api/v1/manifest.json")).expect("manifest");
    let m = ValidatedManifest::from_bytes(&manifest_bytes).expect("manifest");
    let contests: std::collections::BTreeSet<&str> = m
        .manifest()
        .stations
        .iter()
        .flat_map(|s| s.contests.iter().map(String::as_str))
        .collect();
    assert!(
        contests.len() > 50,
        "{} contests have stations",
        contests.len()
    );
    assert!(contests.contains(TEHRAN_CONTEST) && contests.contains(PRESIDENT));

    // Every contest with stations is announced, partial and final, and every
    // announcement equals the recomputation from the entries below its size.
    let mut finals = std::collections::BTreeMap::new();
    let mut partials = 0;
    for (i, e) in log.iter().enumerate() {
        let Entry::Announcement(a) = &e.entry else {
            continue;
        };
        let s = &a.statement;
        let want = announcement::expected(
            &m,
            log.iter().enumerate().map(|(j, e)| (j as u64, &e.entry)),
            &s.contest,
            s.size,
        )
        .expect("recomputes");
        assert_eq!(*s, want, "announcement at {i} ({})", s.contest);
        match a.status {
            AnnouncementStatus::Partial => partials += 1,
            AnnouncementStatus::Final => {
                finals.insert(s.contest.clone(), s.clone());
            }
        }
    }
    assert_eq!(partials, contests.len());
    assert_eq!(finals.len(), contests.len());
    let report_finals = report
        .announcements
        .iter()
        .filter(|a| a.status == "final" && a.valid && a.differences.is_empty())
        .count();
    assert_eq!(report_finals, contests.len());

    // Tehran: some seats in round one, the rest to a runoff among twice as
    // many candidates as seats left, exactly as the 20% rule calls for.
    let tehran = &finals[TEHRAN_CONTEST];
    assert_eq!(tehran.outcome, Status::Runoff);
    let elected = tehran.elected.len();
    assert!(elected > 0 && elected < 30, "{elected} elected");
    assert_eq!(tehran.runoff.len(), 2 * (30 - elected));
    let fifth = tehran.figures.valid.div_ceil(5);
    let votes = |code: u32| tehran.votes.iter().find(|v| v.0 == code).map_or(0, |v| v.1);
    assert!(tehran.elected.iter().all(|&c| votes(c) >= fifth));
    assert!(tehran.runoff.iter().all(|&c| votes(c) < fifth));
}
