//! End to end: a synthetic election imported by the `tallyboard` binary,
//! exported as static tlog-tiles files, then checked by the independent
//! verifier (`tallyboard-verify`, used as a library): audit, inclusion,
//! consistency, receipts, and the tampering each must catch.

use std::path::{Path, PathBuf};
use std::process::Command;
use tallyboard_synth::{Config, SyntheticElection};
use tallyboard_verify::{audit, consistency, inclusion, receipt, DirSource, LogKey, Report};

const STATIONS: usize = 200;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tallyboard")
}

fn run(args: &[&str]) -> String {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run tallyboard");
    assert!(
        out.status.success(),
        "tallyboard {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes entries as one length-prefixed file (the import format).
fn write_entries(path: &Path, entries: &[Vec<u8>]) {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    std::fs::write(path, out).unwrap();
}

struct Fixture {
    dir: tempfile::TempDir,
    election: SyntheticElection,
    vkey: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let election = SyntheticElection::generate(Config {
            seed: 1404,
            stations: STATIONS,
            majlis: false,
        });
        std::fs::write(dir.path().join("manifest.json"), election.manifest_bytes()).unwrap();
        let key = tallyboard_synth::keys::role_key("log").unwrap();
        let key_file = dir.path().join("log.key");
        std::fs::write(&key_file, format!("{}\n", key.to_skey_string())).unwrap();
        let vkey = key.verifier().to_vkey_string();
        Fixture {
            dir,
            election,
            vkey,
        }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.p(name).display().to_string()
    }

    /// The setup entries and tallies, optionally with two tallies swapped
    /// (a different, equally valid history).
    fn entries(&self, swap: bool) -> Vec<Vec<u8>> {
        let e = &self.election;
        let mut v = vec![e.commitment_entry()];
        v.extend((0..STATIONS).map(|i| e.registration_entry(i)));
        let mut tallies: Vec<Vec<u8>> = (0..STATIONS).map(|i| e.signed_tally(i)).collect();
        if swap {
            tallies.swap(5, 6);
        }
        v.extend(tallies);
        v
    }

    /// Revisions for stations 0..3 (revision 2 each).
    fn revisions(&self) -> Vec<Vec<u8>> {
        (0..3)
            .map(|i| {
                let first = self.election.signed_tally(i);
                self.election.revised_tally(i, &first)
            })
            .collect()
    }

    fn board(&self, data: &str, files: &[(&str, Vec<Vec<u8>>)]) {
        run(&[
            "init",
            "--data",
            &self.s(data),
            "--manifest",
            &self.s("manifest.json"),
            "--log-key",
            &self.s("log.key"),
        ]);
        for (name, entries) in files {
            self.import(data, name, entries);
        }
    }

    fn import(&self, data: &str, name: &str, entries: &[Vec<u8>]) {
        write_entries(&self.p(name), entries);
        run(&[
            "import",
            "--data",
            &self.s(data),
            "--log-key",
            &self.s("log.key"),
            &self.s(name),
        ]);
    }

    fn export(&self, data: &str, out: &str) -> String {
        run(&[
            "export",
            "--data",
            &self.s(data),
            "--log-key",
            &self.s("log.key"),
            "--out",
            &self.s(out),
        ])
    }

    fn log(&self) -> LogKey {
        LogKey::load(&self.vkey, None).unwrap()
    }

    fn audit(&self, out: &str) -> audit::AuditReport {
        audit::run(&DirSource::new(self.p(out)), &self.log()).unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn flip(path: &Path, offset: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[offset] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

fn tampered(f: &Fixture, name: &str) -> String {
    let to = f.p(name);
    std::fs::create_dir_all(&to).unwrap();
    copy_dir(&f.p("out"), &to);
    name.to_string()
}

fn codes(r: &audit::AuditReport) -> Vec<String> {
    r.findings.iter().map(|f| f.code.clone()).collect()
}

#[test]
fn export_audit_inclusion_consistency_receipt_and_tampering() {
    let f = Fixture::new();
    let setup = f.entries(false);
    let size1 = setup.len() as u64; // 1 + 200 + 200 = 401
    f.board("data", &[("all.bundle", setup)]);

    // First export: the layout is exactly tlog-tiles.
    f.export("data", "out");
    for path in [
        "checkpoint",
        "tile/0/000",
        "tile/0/001.p/145",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/145",
        "api/v1/manifest.json",
    ] {
        assert!(f.p("out").join(path).is_file(), "{path} missing");
    }
    assert_eq!(
        std::fs::read(f.p("out/api/v1/manifest.json")).unwrap(),
        f.election.manifest_bytes()
    );

    // Consistency: first use, then unchanged.
    let state = f.p("state/latest");
    let src = DirSource::new(f.p("out"));
    let c = consistency::run(&src, &f.log(), &state).unwrap();
    assert!(c.verified() && c.outcome == "initialized", "{}", c.human());
    let c = consistency::run(&src, &f.log(), &state).unwrap();
    assert!(c.verified() && c.outcome == "unchanged", "{}", c.human());

    // Grow the log with three revisions; the export is incremental.
    f.import("data", "rev.bundle", &f.revisions());
    let msg = f.export("data", "out");
    assert!(
        // tile/1/000.p/1 is the same at both sizes: only tile/0/001.p/148 is new.
        msg.contains("1 tiles written (2 already present)")
            && msg.contains("1 entry bundles written (1 already present)")
            && msg.contains("checkpoint written; 3 objects"),
        "{msg}"
    );
    assert!(f.p("out/tile/entries/001.p/148").is_file());
    assert!(
        f.p("out/tile/entries/001.p/145").is_file(),
        "old partials stay"
    );
    let c = consistency::run(&src, &f.log(), &state).unwrap();
    assert!(c.verified() && c.outcome == "extended", "{}", c.human());
    assert_eq!((c.old_size, c.new_size), (Some(size1), size1 + 3));

    // The full audit.
    let r = f.audit("out");
    assert!(r.verified(), "{}", r.human());
    assert_eq!(r.size, size1 + 3);
    assert_eq!(r.entries_valid, size1 + 3);
    // One per entry, and the commitment's second: the authority's and a
    // supervisor's (spec/keys.md §1).
    assert_eq!(r.signatures_checked, size1 + 3 + 1);
    assert_eq!((r.stations_reported, r.stations_expected), (200, 200));
    let results = r.results.as_ref().expect("the results document");
    let president = results.contests[0].top().expect("nation");
    assert_eq!(president.stations_revised, 3);
    assert_eq!(president.stations_counted, 200);
    // Each revision moved two votes from candidate 22 to candidate 11.
    assert_eq!(
        president.standing.votes_of(11),
        president.counted.votes_of(11) + 6
    );
    assert_eq!(
        president.standing.votes_of(22) + 6,
        president.counted.votes_of(22)
    );
    let expected_valid: u64 = (0..STATIONS)
        .map(|i| f.election.tally(i).figures.valid)
        .sum();
    assert_eq!(president.counted.valid, expected_valid);

    // Inclusion of station 0: key registration, tally, revision.
    let station = f.election.station_id(0).to_string();
    let inc = inclusion::run(&src, &f.log(), &station).unwrap();
    assert!(inc.verified(), "{}", inc.human());
    assert_eq!(inc.entries.len(), 3);
    assert!(inc
        .entries
        .iter()
        .all(|e| e.included && e.signature.starts_with("valid")));
    assert_eq!(inc.entries[2].entry["revision"], 2);
    let unknown = inclusion::run(&src, &f.log(), "99-999-99999").unwrap();
    assert!(!unknown.verified());

    // Receipt: made from the read path, verified offline; a wrong entry fails.
    let (entry, proof) = receipt::prove(&src, &f.log(), 250).unwrap();
    let ok = receipt::verify(&f.log(), &entry, &proof).unwrap();
    assert!(ok.verified(), "{}", ok.human());
    assert_eq!((ok.index, ok.size), (250, size1 + 3));
    let bad = receipt::verify(&f.log(), b"not the entry", &proof).unwrap();
    assert!(!bad.verified());
    assert_eq!(bad.findings[0].code, "proof.inclusion-failed");

    // Tampering 1: a byte of entry 3 in the first bundle (inside the entry,
    // past its 2-byte length prefix).
    let t = tampered(&f, "t-bundle");
    let bundle = f.p(&t).join("tile/entries/000");
    let bytes = std::fs::read(&bundle).unwrap();
    let mut off = 0;
    for _ in 0..3 {
        off += 2 + u16::from_be_bytes([bytes[off], bytes[off + 1]]) as usize;
    }
    flip(&bundle, off + 2 + 10);
    let r = f.audit(&t);
    assert!(!r.verified());
    assert!(
        codes(&r).contains(&"audit.root-mismatch".to_string()),
        "{}",
        r.human()
    );
    let m = r
        .findings
        .iter()
        .find(|x| x.code == "audit.tile-mismatch")
        .unwrap_or_else(|| panic!("{}", r.human()));
    assert_eq!(m.entry, Some(3));
    assert!(
        m.message.contains("entry 3 (in tile/entries/000)")
            && m.message.contains("the entry is wrong"),
        "{}",
        m.message
    );

    // Tampering 2: a byte of hash 7 in the level-0 tile.
    let t = tampered(&f, "t-tile");
    flip(&f.p(&t).join("tile/0/000"), 7 * 32 + 5);
    let r = f.audit(&t);
    assert!(!r.verified());
    // (The root from tiles still matches: it reads the level-1 tile.)
    assert_eq!(
        codes(&r),
        vec!["audit.tile-mismatch".to_string()],
        "{}",
        r.human()
    );
    let m = &r.findings[0];
    assert_eq!((m.entry, m.path.as_deref()), (Some(7), Some("tile/0/000")));
    assert!(m.message.contains("the tile is wrong"), "{}", m.message);

    // Tampering 3: the checkpoint's root line.
    let t = tampered(&f, "t-checkpoint");
    let cp = f.p(&t).join("checkpoint");
    let text = std::fs::read_to_string(&cp).unwrap();
    let root_line_start = text.find('\n').unwrap() + 1;
    let root_line_start = root_line_start + text[root_line_start..].find('\n').unwrap() + 1;
    let mut b = text.into_bytes();
    b[root_line_start] = if b[root_line_start] == b'A' {
        b'B'
    } else {
        b'A'
    };
    std::fs::write(&cp, b).unwrap();
    let r = f.audit(&t);
    assert!(!r.verified());
    assert_eq!(
        codes(&r),
        vec!["note.bad-signature".to_string()],
        "{}",
        r.human()
    );

    // Tampering 4: the manifest.
    let t = tampered(&f, "t-manifest");
    flip(&f.p(&t).join("api/v1/manifest.json"), 20);
    let r = f.audit(&t);
    assert_eq!(
        codes(&r),
        vec!["manifest.digest-mismatch".to_string()],
        "{}",
        r.human()
    );

    // Tampering 5: a missing tile.
    let t = tampered(&f, "t-missing");
    std::fs::remove_file(f.p(&t).join("tile/0/000")).unwrap();
    let r = f.audit(&t);
    assert!(
        codes(&r).contains(&"source.missing".to_string()),
        "{}",
        r.human()
    );

    // A rewritten history: a second board, same log key, two tallies
    // swapped (entries 206 and 207 differ), then the same revisions.
    f.board(
        "data2",
        &[
            ("swapped.bundle", f.entries(true)),
            ("rev2.bundle", f.revisions()),
        ],
    );
    f.export("data2", "out2");
    let r2 = f.audit("out2");
    assert!(
        r2.verified(),
        "the forged history is itself well-formed: {}",
        r2.human()
    );
    // The export refuses to mix the two histories in one directory.
    let out = Command::new(bin())
        .args([
            "export",
            "--data",
            &f.s("data2"),
            "--log-key",
            &f.s("log.key"),
            "--out",
            &f.s("out"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("tallyboard: publish.other-history: ")),
        "{stderr}"
    );
    // Same size, different root: refused as a fork, evidence kept.
    let src2 = DirSource::new(f.p("out2"));
    let before = std::fs::read(&state).unwrap();
    let c = consistency::run(&src2, &f.log(), &state).unwrap();
    assert!(!c.verified(), "{}", c.human());
    assert_eq!(c.findings[0].code, "consistency.fork");
    assert_eq!(std::fs::read(&state).unwrap(), before, "state unchanged");
    let ev = PathBuf::from(c.evidence.clone().unwrap());
    assert_eq!(
        std::fs::read(ev.join("trusted.checkpoint")).unwrap(),
        before
    );
    assert_eq!(
        std::fs::read(ev.join("offered.checkpoint")).unwrap(),
        std::fs::read(f.p("out2/checkpoint")).unwrap()
    );
    // A larger tree that does not extend the trusted one: the consistency
    // proof from the forged tiles fails; evidence kept.
    let first_state = f.p("state/at-401");
    let src1 = DirSource::new(f.p("first"));
    std::fs::create_dir_all(f.p("first")).unwrap();
    // Recreate the 401-entry export of the honest history.
    f.board("data3", &[("all3.bundle", f.entries(false))]);
    f.export("data3", "first");
    assert!(consistency::run(&src1, &f.log(), &first_state)
        .unwrap()
        .verified());
    let c = consistency::run(&src2, &f.log(), &first_state).unwrap();
    assert!(!c.verified(), "{}", c.human());
    assert_eq!(c.findings[0].code, "consistency.fork");
    assert!(
        c.findings[0].message.contains("rewritten its history"),
        "{}",
        c.findings[0].message
    );
    assert!(!c.proof.is_empty());
    let ev = PathBuf::from(c.evidence.unwrap());
    assert!(ev.join("consistency.proof").is_file());
    // And the honest log extending it is accepted.
    let c = consistency::run(&src, &f.log(), &first_state).unwrap();
    assert!(c.verified() && c.outcome == "extended", "{}", c.human());
    // A rollback to the smaller tree is refused.
    let c = consistency::run(&src1, &f.log(), &first_state).unwrap();
    assert!(!c.verified());
    assert_eq!(c.findings[0].code, "consistency.rollback");
}
