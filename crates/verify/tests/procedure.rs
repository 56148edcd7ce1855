//! The verification procedure's checks (`tallyboard_verify::procedure`)
//! over what a browser page fetches ([`Evidence`], gathered by the fetch
//! plan): the same code the command line runs over HTTP and the browser
//! runs in WebAssembly. Each check is made to fail by the discrepancy it
//! exists for.

mod support;

use support::{election, evidence, registered_and_reported};
use tallyboard_core::cosignature::{cosign, CosignerKey};
use tallyboard_core::entry::{Correction, Entry, SignedEntry, StationKeyRevocation};
use tallyboard_core::note::Note;
use tallyboard_core::policy::Policy;
use tallyboard_core::tile::{parse_tile_path, TilePath, TILE_WIDTH};
use tallyboard_synth::{keys, witness_vkey, SyntheticElection, SyntheticLog};
use tallyboard_verify::procedure::facts::Facts;
use tallyboard_verify::procedure::screen::{Cell, Shown};
use tallyboard_verify::procedure::{
    checkpoint, verify_log, verify_station, CheckId, StationPage, Status, Trust, Verification,
};
use tallyboard_verify::{plan, Evidence, LogKey};

const STATIONS: usize = 150;

/// The checks of a station page, in order (spec/browser-verification.md
/// §3); a checkpoint page has the first five.
const ORDER: [&str; 10] = [
    "log-key",
    "checkpoint-signature",
    "tiles-root",
    "manifest",
    "witness-cosignatures",
    "registration-inclusion",
    "registration-signature",
    "entry-inclusion",
    "entry-signature",
    "arithmetic",
];

/// Index of station `i`'s registration and tally in the fixture's log.
fn reg_index(i: usize) -> u64 {
    1 + i as u64
}
fn tally_index(i: usize) -> u64 {
    1 + STATIONS as u64 + i as u64
}

struct Fixture {
    e: SyntheticElection,
    log: SyntheticLog,
    key: LogKey,
}

impl Fixture {
    fn new() -> Fixture {
        let e = election(STATIONS);
        let log = registered_and_reported(&e);
        let key = LogKey::parse(&log.vkey(), None).unwrap();
        Fixture { e, log, key }
    }

    fn evidence(&self, indexes: &[u64]) -> Evidence {
        evidence(&self.log, &self.e, self.log.size(), indexes)
    }

    fn station(&self, i: usize) -> String {
        self.e.station_id(i).to_string()
    }

    /// Verifies entry `index` of station `i` with the key entries `keys`.
    fn page(&self, ev: &Evidence, i: usize, index: u64, keys: &[u64]) -> Verification {
        self.page_with(ev, &self.station(i), index, keys, None)
    }

    fn page_with(
        &self,
        ev: &Evidence,
        station: &str,
        index: u64,
        keys: &[u64],
        policy: Option<&Policy>,
    ) -> Verification {
        let trust = Trust {
            log: &self.key,
            policy,
            key_source: Some("page"),
            committed_policy: false,
        };
        let page = StationPage {
            station,
            index,
            key_indexes: keys,
            shown: &[],
        };
        verify_station(ev, &trust, &page).unwrap()
    }

    /// Verifies station `i`'s tally as its page does.
    fn tally_page(&self, ev: &Evidence, i: usize) -> Verification {
        self.page(ev, i, tally_index(i), &[reg_index(i)])
    }

    fn tally_bytes(&self, i: usize) -> Vec<u8> {
        self.log.entries()[tally_index(i) as usize].clone()
    }
}

fn status(v: &Verification, id: CheckId) -> Status {
    v.status(id)
        .unwrap_or_else(|| panic!("no check {id:?} in {}", json(v)))
}

fn code(v: &Verification, id: CheckId) -> Option<&str> {
    v.check(id).and_then(|c| c.code.as_deref())
}

/// Asserts that check `id` failed with `want`.
fn fails(v: &Verification, id: CheckId, want: &str) {
    assert_eq!(status(v, id), Status::Fail, "{id:?}: {}", json(v));
    assert_eq!(code(v, id), Some(want), "{id:?}: {}", json(v));
}

fn json(v: &Verification) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

#[test]
fn a_logged_tally_verifies_end_to_end() {
    let f = Fixture::new();
    for i in [0, 1, 77, STATIONS - 1] {
        let ev = f.evidence(&[tally_index(i), reg_index(i)]);
        let v = f.tally_page(&ev, i);
        assert!(v.verified, "{}", json(&v));
        assert_eq!(status(&v, CheckId::LogKey), Status::Info);
        for id in [
            CheckId::CheckpointSignature,
            CheckId::TilesRoot,
            CheckId::Manifest,
        ]
        .iter()
        .chain(CheckId::STATION)
        {
            assert_eq!(status(&v, *id), Status::Pass, "{id:?}: {}", json(&v));
        }
        // No cosignatures and no policy: said, not hidden, not failed.
        assert_eq!(status(&v, CheckId::WitnessCosignatures), Status::Info);
        let Some(Facts::Witnesses(w)) = v.check(CheckId::WitnessCosignatures).map(|c| &c.data)
        else {
            panic!("witness facts");
        };
        assert!(
            w.cosigned.is_empty() && !w.policy && w.witnesses == 2,
            "{w:?}"
        );
        let entry = v.entry.as_ref().unwrap();
        assert_eq!(entry["station"], f.station(i));
        assert_eq!(entry["valid"], f.e.tally(i).figures.valid);
        assert_eq!(entry["index"], tally_index(i));
        // The station's signature is checked with the key registered for it.
        let row = v
            .entries
            .iter()
            .find(|r| r.index == tally_index(i))
            .unwrap();
        let key = row.required.as_ref().unwrap();
        assert_eq!((key.role, key.key_index), ("station", Some(reg_index(i))));
    }
}

#[test]
fn the_checks_come_in_a_fixed_order() {
    let f = Fixture::new();
    let ev = f.evidence(&[tally_index(3), reg_index(3)]);
    let ids: Vec<&str> = f
        .tally_page(&ev, 3)
        .checks
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids, ORDER);
}

#[test]
fn an_altered_entry_fails_inclusion() {
    let f = Fixture::new();
    let i = 42;
    let mut ev = f.evidence(&[tally_index(i), reg_index(i)]);
    // The board serves a bundle whose copy of the tally says one more valid vote.
    let path = &plan::bundles(f.log.size(), &[tally_index(i)])[0].to_path();
    let mut body = f.log.resource(path).unwrap();
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
    ev.add(path, body);
    let v = f.tally_page(&ev, i);
    assert!(!v.verified);
    assert_eq!(
        status(&v, CheckId::EntryInclusion),
        Status::Fail,
        "{}",
        json(&v)
    );
    fails(&v, CheckId::EntryInclusion, "proof.inclusion-failed");
    assert_eq!(status(&v, CheckId::EntrySignature), Status::Skip);
    assert_eq!(status(&v, CheckId::TilesRoot), Status::Pass);
    assert_eq!(status(&v, CheckId::RegistrationSignature), Status::Pass);
    assert!(v.entry.is_none(), "unverified figures are not shown");
}

#[test]
fn an_altered_tile_is_named() {
    let f = Fixture::new();
    let size = f.log.size();
    let idx = [tally_index(5), reg_index(5)];
    // A full tile: it no longer hashes to its entry in the tile above.
    let mut ev = f.evidence(&idx);
    let full = "tile/0/000";
    let mut body = f.log.resource(full).unwrap();
    body[100] ^= 1;
    ev.add(full, body);
    let v = f.tally_page(&ev, 5);
    assert!(!v.verified);
    assert_eq!(status(&v, CheckId::TilesRoot), Status::Fail);
    fails(&v, CheckId::TilesRoot, "tile.parent-mismatch");
    let Some(Facts::Tiles(t)) = v.check(CheckId::TilesRoot).map(|c| &c.data) else {
        panic!("tile facts");
    };
    assert_eq!(t.path.as_deref(), Some(full));
    assert_eq!(status(&v, CheckId::EntryInclusion), Status::Skip);
    assert_eq!(status(&v, CheckId::Manifest), Status::Skip);
    // The right-edge tile: the root rebuilt from the tiles is another one.
    let mut ev = f.evidence(&idx);
    let edge = plan::hash_tiles(size, &[])[0].path();
    assert!(edge.contains(".p/"), "{edge}");
    let mut body = f.log.resource(&edge).unwrap();
    body[0] ^= 1;
    ev.add(&edge, body);
    let v = f.tally_page(&ev, 5);
    fails(&v, CheckId::TilesRoot, "tile.root-mismatch");
}

#[test]
fn a_missing_tile_fails_the_root() {
    let f = Fixture::new();
    let mut ev = Evidence::new();
    ev.add("checkpoint", f.log.checkpoint(f.log.size()));
    let v = f.tally_page(&ev, 5);
    assert!(!v.verified);
    assert_eq!(status(&v, CheckId::TilesRoot), Status::Fail);
    fails(&v, CheckId::TilesRoot, "source.missing");
    // A checkpoint not served at all: nothing can be verified.
    let trust = Trust {
        log: &f.key,
        policy: None,
        key_source: None,
        committed_policy: false,
    };
    assert!(verify_log(&Evidence::new(), &trust).is_err());
}

#[test]
fn another_log_key_fails_the_checkpoint() {
    let f = Fixture::new();
    let ev = f.evidence(&[tally_index(1), reg_index(1)]);
    let other = keys::role_key("authority")
        .unwrap()
        .verifier()
        .to_vkey_string();
    let key = LogKey::parse(&other, None).unwrap();
    let trust = Trust {
        log: &key,
        policy: None,
        key_source: Some("page"),
        committed_policy: false,
    };
    let station = f.station(1);
    let page = StationPage {
        station: &station,
        index: tally_index(1),
        key_indexes: &[reg_index(1)],
        shown: &[],
    };
    let v = verify_station(&ev, &trust, &page).unwrap();
    assert!(!v.verified);
    assert_eq!(status(&v, CheckId::CheckpointSignature), Status::Fail);
    fails(&v, CheckId::CheckpointSignature, "note.no-known-signature");
    assert_eq!(status(&v, CheckId::EntryInclusion), Status::Skip);
    // Under the right key but another origin: refused too.
    let key = LogKey::parse(&f.log.vkey(), Some("other.example/log")).unwrap();
    let trust = Trust { log: &key, ..trust };
    let v = verify_station(&ev, &trust, &page).unwrap();
    fails(&v, CheckId::CheckpointSignature, "checkpoint.wrong-origin");
    // A key that does not parse: `log-key` fails, nothing else is checked.
    let code = LogKey::parse("garbage", None).unwrap_err();
    let v = checkpoint::key_refused(Verification::for_station(true), code, "page");
    assert_eq!(status(&v, CheckId::LogKey), Status::Fail);
    assert!(v.checks[1..].iter().all(|c| c.status == Status::Skip));
    assert_eq!(v.checks.len(), 10);
}

#[test]
fn a_different_manifest_fails() {
    let f = Fixture::new();
    let mut ev = f.evidence(&[tally_index(1), reg_index(1)]);
    let mut m = f.e.manifest_bytes().to_vec();
    let last = m.len() - 2;
    m[last] ^= 1;
    ev.add("manifest", m);
    let v = f.tally_page(&ev, 1);
    assert!(!v.verified);
    assert_eq!(status(&v, CheckId::Manifest), Status::Fail);
    fails(&v, CheckId::Manifest, "manifest.digest-mismatch");
    assert_eq!(status(&v, CheckId::EntrySignature), Status::Skip);
}

#[test]
fn an_older_checkpoint_with_full_tiles_in_place_of_partials() {
    let mut f = Fixture::new();
    // Grow the log past 512 entries so that tile/0/001 and bundle 1 are full.
    while f.log.size() < 600 {
        let n = f.log.size();
        f.log.push(format!("filler {n}").into_bytes());
    }
    // A checkpoint at 280 needs tile/0/001.p/24 and bundle 1 of width 24;
    // the log serves only the full ones, as tlog-tiles allows.
    let size = 280;
    let i = 110; // tally index 261, in bundle 1
    let mut ev = Evidence::new();
    ev.add("checkpoint", f.log.checkpoint(size));
    ev.add("manifest", f.e.manifest_bytes().to_vec());
    let p = plan::fetch_plan(size, &[tally_index(i), reg_index(i)]);
    let mut replaced = 0;
    for path in p.tiles.iter().chain(&p.bundles) {
        let full = match parse_tile_path(path).unwrap() {
            TilePath::Hashes(t) if t.level == 0 => {
                TilePath::Hashes(tallyboard_core::tile::TileId {
                    width: TILE_WIDTH,
                    ..t
                })
            }
            TilePath::Entries { index, .. } => TilePath::Entries {
                index,
                width: TILE_WIDTH,
            },
            other => other,
        }
        .to_path();
        replaced += usize::from(full != *path);
        ev.add(&full, f.log.resource(&full).unwrap());
    }
    assert_eq!(replaced, 2, "{p:?}");
    let v = f.tally_page(&ev, i);
    assert!(v.verified, "{}", json(&v));
    assert_eq!(v.size, 280);
}

fn cosigned(f: &Fixture, roles: &[&str]) -> Vec<u8> {
    let mut note = Note::parse(&f.log.checkpoint(f.log.size()), 1 << 20).unwrap();
    for role in roles {
        let name = keys::role_name(role).unwrap();
        let w = CosignerKey::from_seed(name, keys::derive_seed(role)).unwrap();
        note.signatures
            .push(cosign(&note.text, 1_760_000_000, &w).unwrap());
    }
    note.to_bytes()
}

fn demo_policy(f: &Fixture) -> Policy {
    let w = |r: &str| witness_vkey(r).unwrap().to_vkey_string();
    let text = format!(
        "log {}\nwitness guardian {}\nwitness observer {}\ngroup both all guardian observer\nquorum both\n",
        f.log.vkey(),
        w("witness-guardian"),
        w("witness-observer")
    );
    Policy::parse(text.as_bytes()).unwrap()
}

#[test]
fn witness_cosignatures_without_a_policy_are_information() {
    let f = Fixture::new();
    let mut ev = f.evidence(&[tally_index(2), reg_index(2)]);
    ev.add("checkpoint", cosigned(&f, &["witness-guardian"]));
    let v = f.tally_page(&ev, 2);
    assert!(v.verified, "{}", json(&v));
    assert_eq!(status(&v, CheckId::WitnessCosignatures), Status::Info);
    let Some(Facts::Witnesses(w)) = v.check(CheckId::WitnessCosignatures).map(|c| &c.data) else {
        panic!("witness facts");
    };
    assert_eq!(w.cosigned.len(), 1);
    assert_eq!(w.cosigned[0].timestamp, 1_760_000_000);
    // A cosignature by a manifest witness that does not verify is a failure.
    let mut note = Note::parse(&cosigned(&f, &["witness-guardian"]), 1 << 20).unwrap();
    note.signatures.last_mut().unwrap().signature[20] ^= 1;
    ev.add("checkpoint", note.to_bytes());
    let v = f.tally_page(&ev, 2);
    assert!(!v.verified);
    fails(&v, CheckId::WitnessCosignatures, "cosignature.invalid");
}

#[test]
fn a_witness_policy_requires_its_quorum() {
    let f = Fixture::new();
    let policy = demo_policy(&f);
    let station = f.station(2);
    let keys = [reg_index(2)];
    let mut ev = f.evidence(&[tally_index(2), reg_index(2)]);
    for (roles, verified) in [
        (&["witness-guardian", "witness-observer"][..], true),
        (&["witness-guardian"][..], false),
        (&[][..], false),
    ] {
        ev.add("checkpoint", cosigned(&f, roles));
        let v = f.page_with(&ev, &station, tally_index(2), &keys, Some(&policy));
        assert_eq!(v.verified, verified, "{roles:?}: {}", json(&v));
        let c = v.check(CheckId::WitnessCosignatures).unwrap();
        let Facts::Witnesses(w) = &c.data else {
            panic!("witness facts");
        };
        assert!(w.policy);
        assert_eq!(w.quorum.as_deref(), Some("both"));
        assert_eq!(w.quorum_met, Some(verified));
        assert_eq!(w.cosigned.len(), roles.len());
        if !verified {
            assert_eq!(c.code.as_deref(), Some("policy.quorum-not-met"));
            assert_eq!(w.unsatisfied[0].group, "both");
        }
        // The rest of the verification is unaffected.
        assert_eq!(status(&v, CheckId::EntrySignature), Status::Pass);
    }
    // A policy for another log says nothing about this one.
    let other = Policy::parse(
        format!(
            "log {}\nquorum none\n",
            keys::role_key("authority")
                .unwrap()
                .verifier()
                .to_vkey_string()
        )
        .as_bytes(),
    )
    .unwrap();
    let v = f.page_with(&ev, &station, tally_index(2), &keys, Some(&other));
    fails(&v, CheckId::WitnessCosignatures, "policy.log-not-listed");
}

#[test]
fn bad_arithmetic_is_reported() {
    let mut f = Fixture::new();
    let i = 9;
    let mut t = f.e.tally(i);
    t.figures.ballots_in_box += 1; // signed by the station, so only the arithmetic is wrong
    t.revision = 2;
    t.correction = Some(Correction {
        supersedes: tallyboard_core::hash::leaf_hash(&f.tally_bytes(i)),
        reason: "test".into(),
    });
    let idx = f.log.push(f.e.sign_as_station(i, &Entry::Tally(t)));
    let ev = f.evidence(&[idx, reg_index(i)]);
    let v = f.page(&ev, i, idx, &[reg_index(i)]);
    assert!(!v.verified);
    assert_eq!(status(&v, CheckId::EntrySignature), Status::Pass);
    assert_eq!(
        status(&v, CheckId::Arithmetic),
        Status::Fail,
        "{}",
        json(&v)
    );
    fails(&v, CheckId::Arithmetic, "tally.arithmetic.ballots-in-box");
}

#[test]
fn a_tally_needs_a_listed_registration_of_its_station() {
    let f = Fixture::new();
    let i = 4;
    // None listed.
    let ev = f.evidence(&[tally_index(i)]);
    let v = f.page(&ev, i, tally_index(i), &[]);
    assert_eq!(status(&v, CheckId::RegistrationInclusion), Status::Fail);
    fails(
        &v,
        CheckId::RegistrationInclusion,
        "station.key-not-registered",
    );
    assert_eq!(status(&v, CheckId::EntrySignature), Status::Fail);
    fails(&v, CheckId::EntrySignature, "station.key-not-registered");
    // Another station's registration.
    let ev = f.evidence(&[tally_index(i), reg_index(i + 1)]);
    let v = f.page(&ev, i, tally_index(i), &[reg_index(i + 1)]);
    assert!(!v.verified);
    fails(&v, CheckId::RegistrationInclusion, "station.other-station");
    // The page naming another station than the entry's.
    let other = f.station(i + 1);
    let v = f.page_with(&ev, &other, tally_index(i), &[reg_index(i + 1)], None);
    fails(&v, CheckId::EntryInclusion, "station.other-station");
    // A tally listed as a key entry.
    let ev = f.evidence(&[tally_index(i), reg_index(i), tally_index(0)]);
    let v = f.page(&ev, i, tally_index(i), &[reg_index(i), tally_index(0)]);
    fails(&v, CheckId::RegistrationInclusion, "station.other-station");
}

#[test]
fn a_revoked_key_signs_nothing_after_its_revocation() {
    let mut f = Fixture::new();
    let i = 3;
    let registration = SignedEntry::parse(&f.log.entries()[reg_index(i) as usize]).unwrap();
    let Entry::StationKey(k) = registration.entry else {
        panic!("a registration");
    };
    let revoked =
        f.log.push(
            f.e.sign_as_authority(&Entry::StationKeyRevocation(StationKeyRevocation {
                election: k.election,
                station: k.station,
                key: k.key,
                reason: "device lost".into(),
            })),
        );
    let revision = f.log.push(f.e.revised_tally(i, &f.tally_bytes(i)));
    let keys = [reg_index(i), revoked];
    let ev = f.evidence(&[tally_index(i), revision, reg_index(i), revoked]);
    // The tally before the revocation: the key was in force.
    let v = f.page(&ev, i, tally_index(i), &keys);
    assert!(v.verified, "{}", json(&v));
    // The revision after it: no key was.
    let v = f.page(&ev, i, revision, &keys);
    assert!(!v.verified);
    assert_eq!(status(&v, CheckId::RegistrationSignature), Status::Pass);
    fails(&v, CheckId::EntrySignature, "station.key-revoked");
}

#[test]
fn supervisor_entries_are_checked_with_a_supervisors_key() {
    let mut f = Fixture::new();
    let approval = f
        .log
        .push(f.e.approval_entry(0, tally_index(0), &f.tally_bytes(0)));
    let annulment = f
        .log
        .push(f.e.annulment_entry(1, "ballot-stuffing", "observers' report"));
    let unsigned = SignedEntry::parse(&f.e.approval_entry(2, tally_index(2), &f.tally_bytes(2)))
        .unwrap()
        .entry;
    let by_authority = f.log.push(f.e.sign_as_authority(&unsigned));
    let supervisor = keys::role_name("supervisor").unwrap();
    for (i, index) in [(0, approval), (1, annulment)] {
        let ev = f.evidence(&[index, reg_index(i)]);
        let v = f.page(&ev, i, index, &[reg_index(i)]);
        assert!(v.verified, "{}", json(&v));
        let row = v.entries.iter().find(|r| r.index == index).unwrap();
        let key = row.required.as_ref().unwrap();
        assert_eq!(
            (key.role, key.signer.as_deref()),
            ("supervisor", Some(supervisor))
        );
        assert_eq!(status(&v, CheckId::Arithmetic), Status::Info, "not a tally");
    }
    let ev = f.evidence(&[by_authority, reg_index(2)]);
    let v = f.page(&ev, 2, by_authority, &[reg_index(2)]);
    assert!(!v.verified);
    fails(&v, CheckId::EntrySignature, "entry.wrong-signer");
    assert_eq!(status(&v, CheckId::EntryInclusion), Status::Pass);
}

#[test]
fn checkpoint_page_verification() {
    let f = Fixture::new();
    let ev = f.evidence(&[]);
    let trust = Trust {
        log: &f.key,
        policy: None,
        key_source: Some("board"),
        committed_policy: false,
    };
    let v = verify_log(&ev, &trust).unwrap();
    assert!(v.verified, "{}", json(&v));
    let ids: Vec<&str> = v.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ORDER[..5]);
    let Facts::Key(k) = &v.checks[0].data else {
        panic!("key facts");
    };
    assert_eq!(k.source.as_deref(), Some("board"));
    assert!(v.entry.is_none() && v.entries.is_empty());
}

/// The cells of a page showing tally `t` (in Persian digits, as the
/// Persian site writes them).
fn cells_of(t: &tallyboard_core::entry::Tally) -> Vec<Cell> {
    let fa = |n: u64| {
        n.to_string()
            .chars()
            .map(|c| char::from_u32(0x06F0 + (c as u32 - '0' as u32)).unwrap())
            .collect::<String>()
    };
    let f = &t.figures;
    let mut cells: Vec<Cell> = [
        ("counterfoils", f.counterfoils),
        ("ballots-in-box", f.ballots_in_box),
        ("votes-taken", f.votes_taken),
        ("valid", f.valid),
        ("void-taken", f.void_taken),
        ("void-not-taken", f.void_not_taken),
    ]
    .into_iter()
    .map(|(k, n)| Cell {
        field: k.into(),
        text: fa(n),
    })
    .collect();
    for &(code, n) in &t.votes {
        cells.push(Cell {
            field: format!("vote/{code}"),
            text: fa(n),
        });
    }
    cells
}

fn screen_page(
    f: &Fixture,
    ev: &Evidence,
    i: usize,
    shown: &[Shown],
    keys: &[u64],
) -> Verification {
    let trust = Trust {
        log: &f.key,
        policy: None,
        key_source: Some("page"),
        committed_policy: false,
    };
    let station = f.station(i);
    let page = StationPage {
        station: &station,
        index: shown[0].index,
        key_indexes: keys,
        shown,
    };
    verify_station(ev, &trust, &page).unwrap()
}

#[test]
fn the_figures_on_the_page_are_compared_cell_by_cell() {
    let f = Fixture::new();
    let i = 3;
    let t = f.e.tally(i);
    let ev = f.evidence(&[tally_index(i), reg_index(i)]);
    let mut shown = vec![Shown {
        index: tally_index(i),
        cells: cells_of(&t),
        table: true,
        ..Shown::default()
    }];
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert!(v.verified, "{}", json(&v));
    assert_eq!(status(&v, CheckId::Screen), Status::Pass);
    assert_eq!(status(&v, CheckId::Revision), Status::Pass);
    // The minutes are named by the tally but not shown: information.
    assert_eq!(status(&v, CheckId::Minutes), Status::Info);
    assert_eq!(v.checks.len(), ORDER.len() + 3);

    // A candidate's figure changed in transit: the cell is named.
    let code = t.votes[1].0;
    let cell = shown[0]
        .cells
        .iter_mut()
        .find(|c| c.field == format!("vote/{code}"))
        .unwrap();
    cell.text = "۹٬۹۹۹".into();
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert!(!v.verified);
    fails(&v, CheckId::Screen, "screen.figure-mismatch");
    let data = serde_json::to_value(&v.check(CheckId::Screen).unwrap().data).unwrap();
    assert_eq!(
        data["tables"][0]["mismatches"][0]["field"],
        format!("vote/{code}")
    );
    assert_eq!(data["tables"][0]["mismatches"][0]["shown"], "۹٬۹۹۹");
    // The other checks still pass: the log holds the entry, the page lies.
    assert_eq!(status(&v, CheckId::EntrySignature), Status::Pass);

    // A row removed: the signed figure is missing from the page.
    shown[0].cells = cells_of(&t);
    shown[0].cells.retain(|c| c.field != format!("vote/{code}"));
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    fails(&v, CheckId::Screen, "screen.figure-missing");

    // A cell that is not a number.
    shown[0].cells = cells_of(&t);
    shown[0].cells[0].text = "n/a".into();
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    fails(&v, CheckId::Screen, "screen.unreadable");
}

#[test]
fn a_superseded_revision_is_named_with_the_standing_one() {
    let mut f = Fixture::new();
    let i = 5;
    let revised = f.e.revised_tally(i, &f.tally_bytes(i));
    let idx = f.log.push(revised);
    let ev = f.evidence(&[tally_index(i), idx, reg_index(i)]);
    let shown = vec![Shown {
        index: tally_index(i),
        standing: Some(idx),
        cells: cells_of(&f.e.tally(i)),
        table: true,
        ..Shown::default()
    }];
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert!(!v.verified, "{}", json(&v));
    fails(&v, CheckId::Revision, "revision.superseded");
    let data = serde_json::to_value(&v.check(CheckId::Revision).unwrap().data).unwrap();
    assert_eq!(data["revisions"][0]["state"], "superseded");
    assert_eq!(data["revisions"][0]["revision"], 1);
    assert_eq!(data["revisions"][0]["standing_index"], idx);
    assert_eq!(data["revisions"][0]["standing_revision"], 2);
    // The superseded figures are still the ones the station signed.
    assert_eq!(status(&v, CheckId::Screen), Status::Pass);

    // The standing revision itself verifies and is named standing.
    let t2 = match SignedEntry::parse(&f.log.entries()[idx as usize])
        .unwrap()
        .entry
    {
        Entry::Tally(t) => t,
        _ => unreachable!(),
    };
    let shown = vec![Shown {
        index: idx,
        standing: Some(idx),
        cells: cells_of(&t2),
        table: true,
        ..Shown::default()
    }];
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert!(v.verified, "{}", json(&v));
    let data = serde_json::to_value(&v.check(CheckId::Revision).unwrap().data).unwrap();
    assert_eq!(data["revisions"][0]["state"], "standing");
    assert_eq!(data["revisions"][0]["revision"], 2);

    // A "standing" index that is not a revision of this box is refused.
    let shown = vec![Shown {
        index: tally_index(i),
        standing: Some(tally_index(i + 1)),
        ..Shown::default()
    }];
    let ev = f.evidence(&[tally_index(i), tally_index(i + 1), reg_index(i)]);
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert!(!v.verified);
}

#[test]
fn the_minutes_image_is_checked_against_the_tally() {
    let mut f = Fixture::new();
    let i = 7;
    let scan = b"a minutes image".to_vec();
    let mut t = f.e.tally(i);
    t.minutes_sha256 = Some(tallyboard_core::Hash::sha256(&scan));
    t.revision = 2;
    t.correction = Some(Correction {
        supersedes: tallyboard_core::hash::leaf_hash(&f.tally_bytes(i)),
        reason: "scan".into(),
    });
    let idx = f.log.push(f.e.sign_as_station(i, &Entry::Tally(t.clone())));
    let hex = tallyboard_core::Hash::sha256(&scan).to_hex();
    let mut ev = f.evidence(&[idx, reg_index(i)]);
    assert!(ev.add(&format!("api/v1/blobs/{hex}"), scan.clone()));
    let shown = vec![Shown {
        index: idx,
        cells: cells_of(&t),
        table: true,
        minutes: Some(hex.clone()),
        ..Shown::default()
    }];
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert!(v.verified, "{}", json(&v));
    assert_eq!(status(&v, CheckId::Minutes), Status::Pass);
    // Another image served under the same name.
    let mut ev = f.evidence(&[idx, reg_index(i)]);
    ev.add(&format!("api/v1/blobs/{hex}"), b"another image".to_vec());
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    fails(&v, CheckId::Minutes, "minutes.digest-mismatch");
    // Not served at all: reported, nothing to compare.
    let ev = f.evidence(&[idx, reg_index(i)]);
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert_eq!(status(&v, CheckId::Minutes), Status::Info, "{}", json(&v));
}

#[test]
fn a_station_page_needs_only_its_slice_of_the_manifest() {
    // Entry 0 names the manifest root (spec/manifest.md §5).
    let e = support::election(STATIONS);
    let n = e.station_count();
    let mut entries = vec![e.commitment_entry_with_root()];
    entries.extend((0..n).map(|i| e.registration_entry(i)));
    entries.extend((0..n).map(|i| e.signed_tally(i)));
    let log = SyntheticLog::new(entries);
    let key = LogKey::parse(&log.vkey(), None).unwrap();
    let i = 11;
    let station = e.station_id(i).to_string();
    let size = log.size();
    let plan = plan::fetch_plan(size, &[tally_index(i), reg_index(i)]);
    let m = e.manifest().manifest();
    let tree = tallyboard_core::manifest::slice::ManifestTree::new(m);
    let slice_of = |s: &str| serde_json::to_vec(&tree.slice(m, s).unwrap()).unwrap();
    let run = |slice: Vec<u8>| {
        let mut ev = Evidence::new();
        ev.add("checkpoint", log.checkpoint(size));
        for p in plan.tiles.iter().chain(&plan.bundles) {
            ev.add(p, log.resource(p).unwrap());
        }
        // No manifest: the slice alone.
        assert!(ev.add(&format!("api/v1/manifest/slices/{station}"), slice));
        let trust = Trust {
            log: &key,
            policy: None,
            key_source: Some("page"),
            committed_policy: false,
        };
        let page = StationPage {
            station: &station,
            index: tally_index(i),
            key_indexes: &[reg_index(i)],
            shown: &[],
        };
        verify_station(&ev, &trust, &page).unwrap()
    };
    let v = run(slice_of(&station));
    assert!(v.verified, "{}", json(&v));
    let data = serde_json::to_value(&v.check(CheckId::Manifest).unwrap().data).unwrap();
    assert_eq!(data["root"], tree.root().to_hex());
    assert_eq!(data["slice_parts"], 3, "head, the contest, the station");
    // Another station's slice, or a slice with a changed part, fails.
    let v = run(slice_of(e.station_id(i + 1)));
    fails(&v, CheckId::Manifest, "manifest.malformed");
    let mut forged: serde_json::Value = serde_json::from_slice(&slice_of(&station)).unwrap();
    let part =
        forged["parts"][1]["part"]
            .as_str()
            .unwrap()
            .replacen("\"seats\":1", "\"seats\":2", 1);
    forged["parts"][1]["part"] = part.into();
    let v = run(serde_json::to_vec(&forged).unwrap());
    fails(&v, CheckId::Manifest, "manifest.malformed");
    assert_eq!(status(&v, CheckId::EntrySignature), Status::Skip);
}

#[test]
fn every_contest_of_the_station_is_compared() {
    // A station that reports the presidential and the Majlis tally: both
    // tables are shown and both are compared; a changed Majlis figure is
    // named while the presidential table still matches.
    let e = SyntheticElection::generate(tallyboard_synth::Config {
        seed: 7,
        stations: 40,
        majlis: true,
    });
    let n = e.station_count();
    let mut entries = vec![e.commitment_entry()];
    entries.extend((0..n).map(|i| e.registration_entry(i)));
    let mut at = Vec::new();
    for i in 0..n {
        at.push(entries.len() as u64);
        entries.extend(e.signed_tallies(i));
    }
    let log = SyntheticLog::new(entries);
    let key = LogKey::parse(&log.vkey(), None).unwrap();
    let i = 3;
    let station = e.station_id(i).to_string();
    let contests = &e.manifest().manifest().stations[i].contests;
    assert_eq!(contests.len(), 2, "presidential and Majlis");
    let tallies: Vec<_> = contests
        .iter()
        .map(|c| e.contest_tally(i, c).unwrap())
        .collect();
    let mut shown: Vec<Shown> = tallies
        .iter()
        .enumerate()
        .map(|(k, t)| Shown {
            index: at[i] + k as u64,
            cells: cells_of(t),
            table: true,
            ..Shown::default()
        })
        .collect();
    let ev = support::evidence(&log, &e, log.size(), &[at[i], at[i] + 1, 1 + i as u64]);
    let run = |shown: &[Shown]| {
        let trust = Trust {
            log: &key,
            policy: None,
            key_source: Some("page"),
            committed_policy: false,
        };
        let page = StationPage {
            station: &station,
            index: shown[0].index,
            key_indexes: &[1 + i as u64],
            shown,
        };
        verify_station(&ev, &trust, &page).unwrap()
    };
    let v = run(&shown);
    assert!(v.verified, "{}", json(&v));
    let data = serde_json::to_value(&v.check(CheckId::Revision).unwrap().data).unwrap();
    assert_eq!(data["revisions"].as_array().unwrap().len(), 2);
    assert_eq!(data["revisions"][1]["contest"], contests[1].as_str());
    let majlis_code = tallies[1].votes[0].0;
    shown[1]
        .cells
        .iter_mut()
        .find(|c| c.field == format!("vote/{majlis_code}"))
        .unwrap()
        .text = "۹۹۹۹۹".into();
    let v = run(&shown);
    fails(&v, CheckId::Screen, "screen.figure-mismatch");
    let data = serde_json::to_value(&v.check(CheckId::Screen).unwrap().data).unwrap();
    assert!(
        data["tables"][0]["mismatches"].is_null(),
        "the presidential table matches"
    );
    assert_eq!(
        data["tables"][1]["mismatches"][0]["field"],
        format!("vote/{majlis_code}")
    );
}

#[test]
fn an_entry_that_is_not_a_tally_has_nothing_to_compare() {
    // A supervisor's approval shown on its own (verify-test.html): the
    // screen checks are information, the verdict the station checks'.
    let mut f = Fixture::new();
    let i = 4;
    let approval = f.e.approval_entry(i, tally_index(i), &f.tally_bytes(i));
    let idx = f.log.push(approval);
    let ev = f.evidence(&[idx, reg_index(i)]);
    let shown = vec![Shown {
        index: idx,
        ..Shown::default()
    }];
    let v = screen_page(&f, &ev, i, &shown, &[reg_index(i)]);
    assert!(v.verified, "{}", json(&v));
    for id in [CheckId::Revision, CheckId::Screen, CheckId::Minutes] {
        assert_eq!(status(&v, id), Status::Info, "{id:?}");
    }
}
