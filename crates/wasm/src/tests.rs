//! Host tests of the browser verifier over a log built in memory from the
//! synthetic election; the evidence is gathered with the fetch plan, so a
//! tile the plan forgot would fail these tests.

use crate::plan;
use crate::report::{Report, Status};
use crate::verify::{self, statuses, Evidence, Request};
use tallyboard_core::checkpoint::{sign_checkpoint, Checkpoint};
use tallyboard_core::cosignature::{cosign, CosignerKey};
use tallyboard_core::entry::Entry;
use tallyboard_core::merkle::MemoryLog;
use tallyboard_core::note::{Note, SignerKey};
use tallyboard_core::tile::{encode_entry_bundle, read_tile, TileId, TilePath, TILE_WIDTH};
use tallyboard_synth::{keys, Config, SyntheticElection};

const STATIONS: usize = 150;

struct Fixture {
    election: SyntheticElection,
    entries: Vec<Vec<u8>>,
    log: MemoryLog,
    log_key: SignerKey,
}

/// Index of station `i`'s registration and tally in the fixture's log.
fn reg_index(i: usize) -> u64 {
    1 + i as u64
}
fn tally_index(i: usize) -> u64 {
    1 + STATIONS as u64 + i as u64
}

impl Fixture {
    fn new() -> Fixture {
        let election = SyntheticElection::generate(Config {
            seed: 7,
            stations: STATIONS,
            majlis: false,
        });
        let mut entries = vec![election.commitment_entry()];
        for i in 0..STATIONS {
            entries.push(election.registration_entry(i));
        }
        for i in 0..STATIONS {
            entries.push(election.signed_tally(i));
        }
        let mut log = MemoryLog::new();
        for e in &entries {
            log.append_entry(e).unwrap();
        }
        Fixture {
            election,
            entries,
            log,
            log_key: keys::role_key("log").unwrap(),
        }
    }

    fn push(&mut self, e: Vec<u8>) -> u64 {
        self.entries.push(e);
        self.log.append_entry(self.entries.last().unwrap()).unwrap()
    }

    fn vkey(&self) -> String {
        self.log_key.verifier().to_vkey_string()
    }

    fn checkpoint(&self, size: u64) -> Vec<u8> {
        let root = tallyboard_core::merkle::tree_hash(size, self.log.hashes()).unwrap();
        let cp = Checkpoint {
            origin: self.log_key.name().to_string(),
            size,
            root,
            extensions: vec![],
        };
        sign_checkpoint(&cp, &self.log_key)
    }

    fn tile(&self, id: &TileId, size: u64) -> Vec<u8> {
        read_tile(id, size, self.log.hashes()).unwrap()
    }

    fn bundle(&self, p: &TilePath) -> Vec<u8> {
        let TilePath::Entries { index, width } = *p else {
            unreachable!()
        };
        let start = (index * u64::from(TILE_WIDTH)) as usize;
        encode_entry_bundle(
            self.entries[start..start + usize::from(width)]
                .iter()
                .map(Vec::as_slice),
        )
        .unwrap()
    }

    /// What verify.js would fetch for `indexes` at `size`.
    fn evidence(&self, size: u64, indexes: &[u64]) -> Evidence {
        let mut ev = Evidence::new();
        assert!(ev.add("checkpoint", self.checkpoint(size)));
        assert!(ev.add("manifest", self.election.manifest_bytes().to_vec()));
        let mut idx = indexes.to_vec();
        idx.push(0);
        for t in plan::hash_tiles(size, &idx) {
            assert!(ev.add(&t.path(), self.tile(&t, size)));
        }
        for b in plan::bundles(size, &idx) {
            assert!(ev.add(&b.to_path(), self.bundle(&b)));
        }
        ev
    }

    fn station(&self, i: usize) -> String {
        self.election.station_id(i).to_string()
    }
}

fn req<'a>(vkey: &'a str, station: &'a str, index: u64, keys: Vec<u64>) -> Request<'a> {
    Request {
        log_vkey: vkey,
        key_source: "page",
        origin: None,
        station: Some(station),
        index: Some(index),
        key_indexes: keys,
    }
}

fn status(r: &Report, id: &str) -> Status {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {:?}", statuses(r)))
        .status
}

fn run(f: &Fixture, ev: &Evidence, i: usize) -> Report {
    let vkey = f.vkey();
    let st = f.station(i);
    verify::verify(ev, &req(&vkey, &st, tally_index(i), vec![reg_index(i)]))
}

#[test]
fn a_logged_tally_verifies_end_to_end() {
    let f = Fixture::new();
    let size = f.log.size();
    for i in [0, 1, 77, STATIONS - 1] {
        let ev = f.evidence(size, &[tally_index(i), reg_index(i)]);
        let r = run(&f, &ev, i);
        assert!(r.verified, "{}", r.to_json());
        for id in [
            "checkpoint-signature",
            "tiles-root",
            "manifest",
            "registration-inclusion",
            "registration-signature",
            "entry-inclusion",
            "entry-signature",
            "arithmetic",
        ] {
            assert_eq!(status(&r, id), Status::Pass, "{id}: {}", r.to_json());
        }
        // No cosignatures on this checkpoint: said, not hidden, not failed.
        assert_eq!(status(&r, "witness-cosignatures"), Status::Info);
        assert!(r.to_json().contains("no witness cosignatures"));
        let e = r.entry.as_ref().unwrap();
        assert_eq!(e["station"], f.station(i));
        assert_eq!(e["valid"], f.election.tally(i).figures.valid);
    }
}

#[test]
fn the_json_report_has_both_languages() {
    let f = Fixture::new();
    let ev = f.evidence(f.log.size(), &[tally_index(3), reg_index(3)]);
    let v: serde_json::Value = serde_json::from_str(&run(&f, &ev, 3).to_json()).unwrap();
    assert_eq!(v["verified"], true);
    for c in v["checks"].as_array().unwrap() {
        for k in ["fa", "en"] {
            assert!(!c["label"][k].as_str().unwrap().is_empty());
            assert!(!c["detail"][k].as_str().unwrap().is_empty());
        }
        assert_eq!(c["ok"], c["status"] == "pass");
    }
}

#[test]
fn an_altered_entry_fails_inclusion() {
    let f = Fixture::new();
    let size = f.log.size();
    let i = 42;
    let mut ev = f.evidence(size, &[tally_index(i), reg_index(i)]);
    // The board serves a bundle whose copy of the tally says one more valid vote.
    let b = plan::bundles(size, &[tally_index(i)])[0];
    let mut body = f.bundle(&b);
    let needle = format!("station {}\n", f.station(i));
    let at = body
        .windows(needle.len())
        .rposition(|w| w == needle.as_bytes())
        .unwrap();
    let valid = at
        + body[at..]
            .windows(7)
            .position(|w| w == b"\nvalid ")
            .unwrap()
        + 7;
    body[valid] = if body[valid] == b'9' {
        b'1'
    } else {
        body[valid] + 1
    };
    ev.add(&b.to_path(), body);
    let r = run(&f, &ev, i);
    assert!(!r.verified);
    assert_eq!(
        status(&r, "entry-inclusion"),
        Status::Fail,
        "{}",
        r.to_json()
    );
    assert_eq!(status(&r, "entry-signature"), Status::Skip);
    assert_eq!(status(&r, "tiles-root"), Status::Pass);
    assert_eq!(status(&r, "registration-signature"), Status::Pass);
}

#[test]
fn an_altered_tile_fails_the_root() {
    let f = Fixture::new();
    let size = f.log.size();
    let mut ev = f.evidence(size, &[tally_index(5), reg_index(5)]);
    let t = plan::hash_tiles(size, &[tally_index(5)])[0];
    let mut body = f.tile(&t, size);
    body[100] ^= 1;
    ev.add(&t.path(), body);
    let r = run(&f, &ev, 5);
    assert!(!r.verified);
    assert_eq!(status(&r, "tiles-root"), Status::Fail);
    assert_eq!(status(&r, "entry-inclusion"), Status::Skip);
}

#[test]
fn a_missing_tile_fails_the_root() {
    let f = Fixture::new();
    let size = f.log.size();
    let mut ev = Evidence::new();
    ev.add("checkpoint", f.checkpoint(size));
    let r = run(&f, &ev, 5);
    assert!(!r.verified);
    assert_eq!(status(&r, "tiles-root"), Status::Fail);
}

#[test]
fn another_log_key_fails_the_checkpoint() {
    let f = Fixture::new();
    let ev = f.evidence(f.log.size(), &[tally_index(1), reg_index(1)]);
    let other = keys::role_key("authority")
        .unwrap()
        .verifier()
        .to_vkey_string();
    let st = f.station(1);
    let r = verify::verify(&ev, &req(&other, &st, tally_index(1), vec![reg_index(1)]));
    assert!(!r.verified);
    assert_eq!(status(&r, "checkpoint-signature"), Status::Fail);
    assert_eq!(status(&r, "entry-inclusion"), Status::Skip);
    let r = verify::verify(&ev, &req("garbage", &st, tally_index(1), vec![]));
    assert_eq!(status(&r, "log-key"), Status::Fail);
}

#[test]
fn a_different_manifest_fails() {
    let f = Fixture::new();
    let mut ev = f.evidence(f.log.size(), &[tally_index(1), reg_index(1)]);
    let mut m = f.election.manifest_bytes().to_vec();
    let last = m.len() - 2;
    m[last] ^= 1;
    ev.add("manifest", m);
    let r = run(&f, &ev, 1);
    assert!(!r.verified);
    assert_eq!(status(&r, "manifest"), Status::Fail);
}

#[test]
fn an_older_checkpoint_with_full_tiles_in_place_of_partials() {
    let f = Fixture::new();
    // A checkpoint at 280 needs tile/0/001.p/24 and bundle 1 of width 24;
    // give the full... (here: wider) ones, as a client falling back would.
    let size = 280;
    let i = 100; // tally index 251
    let mut ev = Evidence::new();
    ev.add("checkpoint", f.checkpoint(size));
    ev.add("manifest", f.election.manifest_bytes().to_vec());
    let big = f.log.size();
    let idx = [0, tally_index(i), reg_index(i)];
    for t in plan::hash_tiles(size, &idx) {
        let wide = TileId {
            width: plan::needed_width(t.level, t.index, big),
            ..t
        };
        ev.add(&wide.path(), f.tile(&wide, big));
    }
    for b in plan::bundles(big, &idx) {
        ev.add(&b.to_path(), f.bundle(&b));
    }
    let r = run(&f, &ev, i);
    assert!(r.verified, "{}", r.to_json());
    assert_eq!(r.size, 280);
}

#[test]
fn witness_cosignatures_are_checked_when_present() {
    let f = Fixture::new();
    let size = f.log.size();
    let mut ev = f.evidence(size, &[tally_index(2), reg_index(2)]);
    let mut note = Note::parse(&f.checkpoint(size), 1 << 20).unwrap();
    let name = keys::role_name("witness-guardian").unwrap();
    let w = CosignerKey::from_seed(name, keys::derive_seed("witness-guardian")).unwrap();
    note.signatures
        .push(cosign(&note.text, 1_760_000_000, &w).unwrap());
    ev.add("checkpoint", note.to_bytes());
    let r = run(&f, &ev, 2);
    assert!(r.verified, "{}", r.to_json());
    assert_eq!(status(&r, "witness-cosignatures"), Status::Pass);
    // A cosignature that does not verify is a failure.
    let sig = note.signatures.last_mut().unwrap();
    sig.signature[20] ^= 1;
    ev.add("checkpoint", note.to_bytes());
    let r = run(&f, &ev, 2);
    assert!(!r.verified);
    assert_eq!(status(&r, "witness-cosignatures"), Status::Fail);
}

#[test]
fn bad_arithmetic_is_reported() {
    let mut f = Fixture::new();
    let i = 9;
    let mut t = f.election.tally(i);
    t.figures.ballots_in_box += 1; // signed by the station, so only the arithmetic is wrong
    t.revision = 2;
    t.correction = Some(tallyboard_core::entry::Correction {
        supersedes: tallyboard_core::hash::leaf_hash(&f.entries[tally_index(i) as usize]),
        reason: "test".into(),
    });
    let e = f.election.sign_as_station(i, &Entry::Tally(t));
    let idx = f.push(e);
    let ev = f.evidence(f.log.size(), &[idx, reg_index(i)]);
    let vkey = f.vkey();
    let st = f.station(i);
    let r = verify::verify(&ev, &req(&vkey, &st, idx, vec![reg_index(i)]));
    assert!(!r.verified);
    assert_eq!(status(&r, "entry-signature"), Status::Pass);
    assert_eq!(status(&r, "arithmetic"), Status::Fail, "{}", r.to_json());
}

#[test]
fn a_tally_needs_a_listed_registration_of_its_station() {
    let f = Fixture::new();
    let size = f.log.size();
    let i = 4;
    // None listed.
    let ev = f.evidence(size, &[tally_index(i)]);
    let vkey = f.vkey();
    let st = f.station(i);
    let r = verify::verify(&ev, &req(&vkey, &st, tally_index(i), vec![]));
    assert_eq!(status(&r, "registration-inclusion"), Status::Fail);
    assert_eq!(status(&r, "entry-signature"), Status::Fail);
    // Another station's registration.
    let ev = f.evidence(size, &[tally_index(i), reg_index(i + 1)]);
    let r = verify::verify(
        &ev,
        &req(&vkey, &st, tally_index(i), vec![reg_index(i + 1)]),
    );
    assert!(!r.verified);
    assert_eq!(status(&r, "registration-inclusion"), Status::Fail);
    // The page naming another station than the entry's.
    let other = f.station(i + 1);
    let ev = f.evidence(size, &[tally_index(i), reg_index(i + 1)]);
    let r = verify::verify(
        &ev,
        &req(&vkey, &other, tally_index(i), vec![reg_index(i + 1)]),
    );
    assert_eq!(status(&r, "entry-inclusion"), Status::Fail);
}

#[test]
fn checkpoint_page_verification() {
    let f = Fixture::new();
    let size = f.log.size();
    let ev = f.evidence(size, &[]);
    let vkey = f.vkey();
    let r = verify::verify(
        &ev,
        &Request {
            log_vkey: &vkey,
            key_source: "board",
            origin: None,
            station: None,
            index: None,
            key_indexes: vec![],
        },
    );
    assert!(r.verified, "{}", r.to_json());
    assert_eq!(r.checks.len(), 5, "{:?}", statuses(&r));
    assert!(r.to_json().contains("trust on first use"));
}

#[test]
fn bindings_round_trip() {
    let f = Fixture::new();
    let size = f.log.size();
    let cp = String::from_utf8(f.checkpoint(size)).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&crate::verify_checkpoint(&cp, &f.vkey(), "")).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["size"], size);
    let v: serde_json::Value =
        serde_json::from_str(&crate::verify_checkpoint(&cp, &f.vkey(), "other/origin")).unwrap();
    assert_eq!(v["verified"], false);
    let plan: serde_json::Value =
        serde_json::from_str(&crate::fetch_plan(size as f64, &[tally_index(0) as f64])).unwrap();
    assert!(plan["bundles"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("tile/entries/000")));
    assert_eq!(
        crate::tiles_needed(-1.0, size as f64),
        plan::hash_tiles(size, &[])
            .iter()
            .map(TileId::path)
            .collect::<Vec<_>>()
    );
    assert!(crate::tiles_needed(0.5, f64::NAN).is_empty());
    let mut ev = crate::Evidence::new();
    assert!(!ev.add("../etc/passwd", b"x"));
}
