//! Integration tests of `tallyboard serve` and `tallyboard submit` over real
//! HTTP on loopback: the server is the real binary, started on port 0 with
//! a temporary data directory and a 50-station synthetic election.
//! No assertion depends on timing.

#[path = "server/harness.rs"]
mod harness;

use harness::{run_cli, Server};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::sync::Arc;
use tallyboard_core::entry::{Entry, StationKey, StationKeyRevocation};
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle;
use tallyboard_core::note::{self, SignerKey};
use tallyboard_core::tile::{self, TileHashReader, TileId, TilePath};
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_core::Hash;
use tallyboard_synth::{keys, ELECTION_ID};

const STATIONS: usize = 50;
/// Stations 0..REGISTERED get keys; UNREGISTERED has none; REVOKED's key is revoked.
const REGISTERED: usize = 45;
const UNREGISTERED: usize = 45;
const REVOKED: usize = 46;

fn authority() -> SignerKey {
    keys::role_key("authority").unwrap()
}

fn station_key(s: &Server, i: usize) -> SignerKey {
    keys::station_key(ELECTION_ID, s.e.station_id(i))
}

/// A fresh board with the commitment and stations 0..45 registered.
fn board(extra: &[&str]) -> Server {
    let s = Server::start(STATIONS, extra);
    s.setup(0..REGISTERED);
    s
}

fn hex(s: &serde_json::Value) -> Hash {
    Hash::from_hex(s.as_str().expect("hex string")).expect("hex hash")
}

fn verify_receipt(s: &Server, entry: &[u8], receipt: &serde_json::Value) -> u64 {
    let text = receipt["receipt"].as_str().expect("receipt text");
    let proof = TlogProof::parse(text.as_bytes()).expect("tlog-proof parses");
    let cp = proof
        .verify(entry, s.origin(), &s.log_verifiers())
        .expect("receipt verifies offline");
    assert_eq!(proof.index, receipt["index"].as_u64().unwrap());
    assert_eq!(cp.size, receipt["checkpoint_size"].as_u64().unwrap());
    assert_eq!(hex(&receipt["leaf_hash"]), leaf_hash(entry));
    proof.index
}

#[test]
fn concurrent_submitters_get_receipts_that_verify_offline() {
    let s = Arc::new(board(&[]));
    let start = s.size();
    let mut handles = Vec::new();
    for t in 0..8 {
        let s = s.clone();
        handles.push(std::thread::spawn(move || {
            let mut got = Vec::new();
            for i in (t..REGISTERED).step_by(8) {
                let bytes = s.e.signed_tally(i);
                let r = s.submit(&bytes);
                assert_eq!(r.status, 201, "{}", r.text());
                assert_eq!(r.content_type, "application/json");
                got.push(verify_receipt(&s, &bytes, &r.json()));
            }
            got
        }));
    }
    let mut indexes = HashSet::new();
    for h in handles {
        for i in h.join().unwrap() {
            assert!(indexes.insert(i), "index {i} given twice");
        }
    }
    assert_eq!(indexes.len(), REGISTERED);
    let end = s.size();
    assert_eq!(end, start + REGISTERED as u64);
    assert!(indexes.iter().all(|&i| i >= start && i < end));

    // The standing totals are the sums of what was submitted.
    let totals = s.get("/api/v1/totals").json();
    assert_eq!(totals["checkpoint_size"].as_u64(), Some(end));
    let pres = &totals["contests"][0];
    assert_eq!(pres["contest"], "president");
    let valid: u64 = (0..REGISTERED).map(|i| s.e.tally(i).figures.valid).sum();
    assert_eq!(pres["standing"]["valid"].as_u64(), Some(valid));
    assert_eq!(pres["counted"]["valid"].as_u64(), Some(valid));
    assert_eq!(pres["stations_counted"].as_u64(), Some(REGISTERED as u64));
    let votes_11: u64 = (0..REGISTERED)
        .map(|i| {
            s.e.tally(i)
                .votes
                .iter()
                .find(|v| v.0 == 11)
                .map_or(0, |v| v.1)
        })
        .sum();
    assert_eq!(pres["standing"]["votes"][0]["candidate"].as_u64(), Some(11));
    assert_eq!(
        pres["standing"]["votes"][0]["votes"].as_u64(),
        Some(votes_11)
    );

    // Metrics saw the appends.
    let m = s.get("/metrics").text();
    assert!(m.contains(&format!("tallyboard_tree_size {end}")), "{m}");
    assert!(m.contains("tallyboard_batch_size_bucket"));
    assert!(m.contains("tallyboard_durable_write_seconds_count"));
}

#[test]
fn resubmission_returns_the_same_index_and_appends_nothing() {
    let s = board(&[]);
    let bytes = s.e.signed_tally(3);
    let first = s.submit(&bytes);
    assert_eq!(first.status, 201);
    let size = s.size();
    for _ in 0..2 {
        let again = s.submit(&bytes);
        assert_eq!(again.status, 200, "{}", again.text());
        let j = again.json();
        assert_eq!(j["index"], first.json()["index"]);
        assert_eq!(j["duplicate"], true);
        verify_receipt(&s, &bytes, &j);
    }
    // The bare tlog-proof form.
    let r = s.post_with(
        "/api/v1/entries",
        &[
            ("Content-Type", "application/octet-stream"),
            ("Accept", "text/plain"),
        ],
        &bytes,
    );
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/plain"));
    let p = TlogProof::parse(&r.body).expect("bare tlog-proof");
    p.verify(&bytes, s.origin(), &s.log_verifiers()).unwrap();
    assert_eq!(s.size(), size);
    // Registrations resubmitted are duplicates too, even though they would
    // now fail validation (the key is already registered).
    let r = s.submit(&s.e.registration_entry(0));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["index"].as_u64(), Some(1));
    assert_eq!(s.size(), size);
}

#[test]
fn equivocation_is_refused_and_names_the_logged_entry() {
    let s = board(&[]);
    let index = s.append(&s.e.signed_tally(5));
    let size = s.size();
    let mut t = s.e.tally(5);
    t.votes[0].1 -= 1;
    t.votes[1].1 += 1;
    let other = s.e.sign_as_station(5, &Entry::Tally(t));
    let r = s.submit(&other);
    assert_eq!(r.status, 409);
    let j = r.json();
    assert_eq!(j["code"], "tally.equivocation");
    assert_eq!(j["detail"]["conflicting_index"].as_u64(), Some(index));
    assert!(j["message"].as_str().unwrap().contains(&index.to_string()));
    assert_eq!(s.size(), size);
}

/// A signed tally of station `i`, with its text edited.
fn edited(s: &Server, i: usize, f: impl Fn(String) -> String) -> Vec<u8> {
    let text = f(Entry::Tally(s.e.tally(i)).to_text());
    note::sign(&text, &[&station_key(s, i)]).expect("sign edited text")
}

/// A signed tally of station `i`, with its figures changed.
fn tweaked(s: &Server, i: usize, f: impl Fn(&mut tallyboard_core::entry::Tally)) -> Vec<u8> {
    let mut t = s.e.tally(i);
    f(&mut t);
    s.e.sign_as_station(i, &Entry::Tally(t))
}

fn replace_bytes(b: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let pos = b
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = b[..pos].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&b[pos + from.len()..]);
    out
}

enum Req {
    Entry(Vec<u8>),
    Post(&'static str, Vec<(&'static str, String)>, Vec<u8>),
    Get(String),
    Method(&'static str, &'static str),
}

#[test]
fn bad_inputs_are_refused_with_stable_codes_and_the_tree_does_not_grow() {
    let s = board(&[]);
    // State the cases rely on: station 0 and 1 have tallies; REVOKED's key is revoked.
    let t0 = s.e.signed_tally(0);
    s.append(&t0);
    s.append(&s.e.signed_tally(1));
    s.append(&s.e.registration_entry(REVOKED));
    let reg = keys::station_key(ELECTION_ID, s.e.station_id(REVOKED))
        .verifier()
        .to_vkey_string();
    let revocation = Entry::StationKeyRevocation(StationKeyRevocation {
        election: ELECTION_ID.into(),
        station: s.e.station_id(REVOKED).into(),
        key: reg,
        reason: "stolen tablet".into(),
    });
    s.append(&tallyboard_synth::sign(&revocation, &authority()));

    let tally2 = s.e.signed_tally(2);
    let sig_pos = tally2.len() - 10;
    let mut bad_sig = tally2.clone();
    bad_sig[sig_pos] = if bad_sig[sig_pos] == b'A' { b'B' } else { b'A' };
    let rogue = SignerKey::from_seed("rogue.example", [7u8; 32]).unwrap();
    let other_key = SignerKey::from_seed("another.example", [9u8; 32]).unwrap();
    let text2 = Entry::Tally(s.e.tally(2)).to_text();
    let mut non_utf8 = tally2.clone();
    let p = non_utf8.iter().position(|&b| b == b'c').unwrap();
    non_utf8[p] = 0xff;
    let big = vec![b'a'; 70 * 1024];
    let wrong_digest = "0".repeat(64);
    // Station 1's minutes scan, which its logged tally names.
    let scan1 = Hash::sha256(&s.e.minutes_scan(1, 1));
    let upload = |signer: usize, h: &Hash| {
        vec![
            ("X-Content-SHA256", h.to_hex()),
            ("X-Tallyboard-Station", s.e.station_id(1).to_owned()),
            ("X-Tallyboard-Signature", s.e.blob_signature(signer, h)),
        ]
    };
    let unnamed = Hash::sha256(b"a file no tally names");

    let cases: Vec<(&str, Req, u16, &str)> = vec![
        (
            "bad signature",
            Req::Entry(bad_sig),
            403,
            "note.bad-signature",
        ),
        (
            "signed by an unknown key",
            Req::Entry(note::sign(&text2, &[&rogue]).unwrap()),
            403,
            "entry.wrong-signer",
        ),
        (
            "tally signed by the authority",
            Req::Entry(note::sign(&text2, &[&authority()]).unwrap()),
            403,
            "entry.wrong-signer",
        ),
        (
            "registration signed by a station",
            Req::Entry(
                note::sign(
                    &String::from_utf8_lossy(&s.e.registration_entry(UNREGISTERED))
                        .split("\n\n")
                        .next()
                        .map(|t| format!("{t}\n"))
                        .unwrap(),
                    &[&station_key(&s, 2)],
                )
                .unwrap(),
            ),
            403,
            "entry.wrong-signer",
        ),
        (
            "revoked key",
            Req::Entry(s.e.signed_tally(REVOKED)),
            403,
            "station.key-revoked",
        ),
        (
            "station without a key",
            Req::Entry(s.e.signed_tally(UNREGISTERED)),
            403,
            "station.key-not-registered",
        ),
        (
            "unknown station",
            Req::Entry(tweaked(&s, 2, |t| t.station = "99-999-99999".into())),
            422,
            "station.unknown",
        ),
        (
            "unknown contest",
            Req::Entry(tweaked(&s, 2, |t| t.contest = "parliament".into())),
            422,
            "contest.unknown",
        ),
        (
            "unknown candidate",
            Req::Entry(tweaked(&s, 2, |t| {
                let last = t.votes.len() - 1;
                t.votes[last].0 = 77;
            })),
            422,
            "candidate.unknown",
        ),
        (
            "wrong election",
            Req::Entry(tweaked(&s, 2, |t| t.election = "1403-presidential".into())),
            422,
            "entry.wrong-election",
        ),
        (
            "revision skipped",
            Req::Entry(s.e.signed_revision(0, 3, leaf_hash(&t0))),
            409,
            "tally.revision-not-next",
        ),
        (
            "revision before any tally",
            Req::Entry(s.e.signed_revision(2, 2, Hash::sha256(b"nothing"))),
            409,
            "tally.revision-not-next",
        ),
        (
            "revision repeated with other figures",
            Req::Entry(tweaked(&s, 0, |t| {
                t.votes[0].1 -= 1;
                t.votes[1].1 += 1;
            })),
            409,
            "tally.equivocation",
        ),
        (
            "revision superseding the wrong entry",
            Req::Entry(s.e.signed_revision(1, 2, Hash::sha256(b"not the latest"))),
            409,
            "tally.supersedes-mismatch",
        ),
        (
            "ballots-in-box rule",
            Req::Entry(tweaked(&s, 2, |t| {
                t.figures.ballots_in_box += 1;
                t.figures.counterfoils += 1;
            })),
            422,
            "tally.arithmetic.ballots-in-box",
        ),
        (
            "votes-taken rule",
            Req::Entry(tweaked(&s, 2, |t| {
                t.figures.void_taken += 1;
            })),
            422,
            "tally.arithmetic.votes-taken",
        ),
        (
            "counterfoils rule",
            Req::Entry(tweaked(&s, 2, |t| {
                t.figures.counterfoils = t.figures.ballots_in_box - 1
            })),
            422,
            "tally.arithmetic.counterfoils",
        ),
        (
            "vote-sum rule",
            Req::Entry(tweaked(&s, 2, |t| t.votes[0].1 += 1)),
            422,
            "tally.arithmetic.vote-sum",
        ),
        (
            "count too large",
            Req::Entry(edited(&s, 2, |t| {
                let c = s.e.tally(2).figures.counterfoils;
                t.replace(
                    &format!("counterfoils {c}\n"),
                    "counterfoils 1000000000001\n",
                )
            })),
            422,
            "tally.arithmetic.count-too-large",
        ),
        (
            "manifest committed twice",
            Req::Entry({
                let text = String::from_utf8(s.e.commitment_entry()).unwrap();
                let body = text.split("\n\n").next().unwrap().to_owned() + "\n";
                // To another digest, so that it is not a duplicate.
                let other = body.replace(
                    &s.e.manifest().digest().to_hex(),
                    &tallyboard_core::Hash::sha256(b"another manifest").to_hex(),
                );
                let supervisor = tallyboard_synth::keys::role_key("supervisor").unwrap();
                note::sign(&other, &[&authority(), &supervisor]).unwrap()
            }),
            409,
            "manifest.already-committed",
        ),
        (
            "an authority entry countersigned by another key",
            Req::Entry({
                let text = String::from_utf8(s.e.registration_entry(0)).unwrap();
                let body = text.split("\n\n").next().unwrap().to_owned() + "\n";
                note::sign(&body, &[&authority(), &rogue]).unwrap()
            }),
            400,
            "entry.signature-lines",
        ),
        (
            "second key for a station",
            Req::Entry(tallyboard_synth::sign(
                &Entry::StationKey(StationKey {
                    election: ELECTION_ID.into(),
                    station: s.e.station_id(0).into(),
                    key: other_key.verifier().to_vkey_string(),
                }),
                &authority(),
            )),
            409,
            "station.key-already-registered",
        ),
        (
            "revoking a key that is not active",
            Req::Entry(tallyboard_synth::sign(
                &Entry::StationKeyRevocation(StationKeyRevocation {
                    election: ELECTION_ID.into(),
                    station: s.e.station_id(1).into(),
                    key: other_key.verifier().to_vkey_string(),
                    reason: "mistake".into(),
                }),
                &authority(),
            )),
            409,
            "station.key-mismatch",
        ),
        (
            "non-canonical number",
            Req::Entry(edited(&s, 2, |t| {
                t.replace("\nrevision 1\n", "\nrevision 01\n")
            })),
            400,
            "entry.non-canonical",
        ),
        (
            "number overflow",
            Req::Entry(edited(&s, 2, |t| {
                let c = s.e.tally(2).figures.counterfoils;
                t.replace(
                    &format!("counterfoils {c}\n"),
                    "counterfoils 99999999999999999999999\n",
                )
            })),
            400,
            "entry.overflow",
        ),
        (
            "unknown entry type",
            Req::Entry(edited(&s, 2, |t| {
                t.replace("tallyboard/tally/v1", "tallyboard/tally/v9")
            })),
            400,
            "entry.unknown-type",
        ),
        (
            "reserved entry type",
            Req::Entry(edited(&s, 2, |t| {
                t.replace("tallyboard/tally/v1", "tallyboard/witness-evidence/v1")
            })),
            400,
            "entry.type-not-accepted",
        ),
        (
            "unknown field",
            Req::Entry(edited(&s, 2, |t| {
                t.replace("\nrevision 1\n", "\nrevision 1\ncolour blue\n")
            })),
            400,
            "entry.unknown-field",
        ),
        (
            "duplicate field",
            Req::Entry(edited(&s, 2, |t| {
                t.replace(
                    "\ncontest president\n",
                    "\ncontest president\ncontest president\n",
                )
            })),
            400,
            "entry.duplicate-field",
        ),
        (
            "fields out of order",
            Req::Entry(edited(&s, 2, |t| {
                // The optional minutes digest moved before the vote lines.
                let h = s.e.tally(2).minutes_sha256.unwrap().to_hex();
                let line = format!("minutes-sha256 {h}\n");
                let v = s.e.tally(2).votes[0];
                let first_vote = format!("vote {} {}\n", v.0, v.1);
                t.replace(&line, "")
                    .replace(&first_vote, &format!("{line}{first_vote}"))
            })),
            400,
            "entry.field-order",
        ),
        (
            "missing field",
            Req::Entry(edited(&s, 2, |t| {
                let v = s.e.tally(2).figures.valid;
                t.replace(&format!("\nvalid {v}\n"), "\n")
            })),
            400,
            "entry.missing-field",
        ),
        (
            "votes out of order",
            Req::Entry(edited(&s, 2, |t| {
                let v = s.e.tally(2).votes;
                let a = format!("vote {} {}\nvote {} {}\n", v[0].0, v[0].1, v[1].0, v[1].1);
                let b = format!("vote {} {}\nvote {} {}\n", v[1].0, v[1].1, v[0].0, v[0].1);
                t.replace(&a, &b)
            })),
            400,
            "entry.votes-order",
        ),
        (
            "field without a value",
            Req::Entry(edited(&s, 2, |t| {
                t.replace("\ncontest president\n", "\ncontest\n")
            })),
            400,
            "entry.line-malformed",
        ),
        (
            "bad hash value",
            Req::Entry(edited(&s, 2, |t| {
                let h = s.e.tally(2).minutes_sha256.unwrap().to_hex();
                t.replace(&h, "xyz")
            })),
            400,
            "entry.bad-value",
        ),
        ("non-UTF-8", Req::Entry(non_utf8), 400, "note.not-utf8"),
        (
            "carriage return",
            Req::Entry(replace_bytes(&tally2, b"revision 1\n", b"revision 1\r\n")),
            400,
            "note.control-character",
        ),
        (
            "trailing bytes after the signatures",
            Req::Entry([tally2.as_slice(), b"junk"].concat()),
            400,
            "note.malformed",
        ),
        (
            "truncated note",
            Req::Entry(tally2[..tally2.len() / 2].to_vec()),
            400,
            "note.malformed",
        ),
        (
            "wrong signature line",
            Req::Entry(replace_bytes(&tally2, "\n\n— ".as_bytes(), b"\n\n- ")),
            400,
            "note.signature-line-malformed",
        ),
        (
            "unsigned text",
            Req::Entry(text2.clone().into_bytes()),
            400,
            "note.malformed",
        ),
        ("empty body", Req::Entry(Vec::new()), 400, "note.malformed"),
        (
            "oversized body",
            Req::Entry(big),
            413,
            "request.body-too-large",
        ),
        (
            "wrong content type",
            Req::Post(
                "/api/v1/entries",
                vec![("Content-Type", "application/json".into())],
                tally2.clone(),
            ),
            415,
            "request.unsupported-media-type",
        ),
        (
            "no content type",
            Req::Post("/api/v1/entries", vec![], tally2.clone()),
            415,
            "request.unsupported-media-type",
        ),
        (
            "blob not matching its digest",
            Req::Post("/api/v1/blobs", upload(1, &scan1), b"minutes scan".to_vec()),
            400,
            "blob.digest-mismatch",
        ),
        (
            "blob no logged tally names",
            Req::Post(
                "/api/v1/blobs",
                upload(1, &unnamed),
                b"a file no tally names".to_vec(),
            ),
            422,
            "blob.not-named",
        ),
        (
            "blob signed by another station",
            Req::Post("/api/v1/blobs", upload(0, &scan1), s.e.minutes_scan(1, 1)),
            403,
            "blob.bad-signature",
        ),
        (
            "blob without a signature",
            Req::Post(
                "/api/v1/blobs",
                vec![
                    ("X-Content-SHA256", scan1.to_hex()),
                    ("X-Tallyboard-Station", s.e.station_id(1).to_owned()),
                ],
                s.e.minutes_scan(1, 1),
            ),
            400,
            "request.bad-parameter",
        ),
        (
            "blob of an unknown station",
            Req::Post(
                "/api/v1/blobs",
                vec![
                    ("X-Content-SHA256", wrong_digest.clone()),
                    ("X-Tallyboard-Station", "99-999-99999".to_owned()),
                    ("X-Tallyboard-Signature", s.e.blob_signature(1, &unnamed)),
                ],
                vec![],
            ),
            422,
            "station.unknown",
        ),
        (
            "blob without a digest",
            Req::Post("/api/v1/blobs", vec![], b"minutes scan".to_vec()),
            400,
            "request.bad-parameter",
        ),
        (
            "unknown route",
            Req::Get("/api/v1/nothing-here".into()),
            404,
            "request.not-found",
        ),
        (
            "wrong method",
            Req::Method("DELETE", "/checkpoint"),
            405,
            "request.method-not-allowed",
        ),
        (
            "malformed tile path",
            Req::Get("/tile/0/1".into()),
            400,
            "tile.malformed",
        ),
        (
            "tile beyond the tree",
            Req::Get("/tile/0/005".into()),
            404,
            "request.not-found",
        ),
        (
            "entry bundle beyond the tree",
            Req::Get("/tile/entries/000.p/255".into()),
            404,
            "request.not-found",
        ),
        (
            "entry beyond the tree",
            Req::Get("/api/v1/entries/100000".into()),
            404,
            "request.not-found",
        ),
        (
            "non-numeric index",
            Req::Get("/api/v1/proof/inclusion?index=abc".into()),
            400,
            "request.bad-parameter",
        ),
        (
            "proof beyond the tree",
            Req::Get("/api/v1/proof/consistency?old=1&new=100000".into()),
            400,
            "proof.out-of-range",
        ),
        // The rules OpenAPI cannot state (tests/api-fuzz/schemathesis.toml).
        (
            "inclusion by both index and leaf",
            Req::Get(format!(
                "/api/v1/proof/inclusion?index=0&leaf={}",
                "0".repeat(64)
            )),
            400,
            "request.bad-parameter",
        ),
        (
            "inclusion by neither index nor leaf",
            Req::Get("/api/v1/proof/inclusion?size=1".into()),
            400,
            "request.bad-parameter",
        ),
        (
            "inclusion at a size beyond the tree",
            Req::Get("/api/v1/proof/inclusion?index=0&size=100000".into()),
            400,
            "proof.out-of-range",
        ),
        (
            "consistency from a larger size to a smaller one",
            Req::Get("/api/v1/proof/consistency?old=2&new=1".into()),
            400,
            "proof.out-of-range",
        ),
        (
            "unknown station look-up",
            Req::Get("/api/v1/stations/99-999-99999".into()),
            404,
            "request.not-found",
        ),
    ];
    assert!(cases.len() >= 30);
    let size = s.size();
    let mut seen = HashSet::new();
    for (name, req, status, code) in cases {
        assert!(seen.insert(name), "duplicate case {name}");
        let r = match req {
            Req::Entry(b) if b.len() > 64 * 1024 => {
                harness::raw_post(&s.url, "/api/v1/entries", "text/plain", &b)
            }
            Req::Entry(b) => s.submit(&b),
            Req::Post(path, headers, body) => {
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                s.post_with(path, &h, &body)
            }
            Req::Get(path) => s.get(&path),
            Req::Method(m, path) => s.request(m, path),
        };
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "case {name:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            r.content_type.starts_with("application/json"),
            "case {name}"
        );
        let j = r.json();
        assert!(
            j["message"].as_str().is_some_and(|m| !m.is_empty()),
            "case {name}"
        );
        assert!(j.get("detail").is_some(), "case {name}: detail key");
        assert_eq!(s.size(), size, "case {name:?} grew the tree");
    }
    // Every refusal was counted by code.
    let m = s.get("/metrics").text();
    assert!(
        m.contains("tallyboard_rejections_total{code=\"note.bad-signature\"} 1"),
        "{m}"
    );
}

#[test]
fn tiles_fetched_over_http_rebuild_the_checkpoint_root() {
    // Each station logs a tally and five revisions, concurrently: 46 + 270
    // entries, so level 0 has a full and a partial tile and level 1 a partial.
    let s = Arc::new(board(&[]));
    let handles: Vec<_> = (0..9)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in (t..REGISTERED).step_by(9) {
                    let mut prev = s.e.signed_tally(i);
                    s.append(&prev);
                    for rev in 2..=6 {
                        let next = s.e.signed_revision(i, rev, leaf_hash(&prev));
                        s.append(&next);
                        prev = next;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let cp = s.checkpoint();
    assert_eq!(cp.size, 1 + REGISTERED as u64 * 7);
    let tiles = tile::tiles_for_size(cp.size);
    assert!(tiles.iter().any(|t| t.level == 0 && t.is_full()));
    assert!(tiles.iter().any(|t| t.level == 1 && !t.is_full()));
    let mut reader = TileHashReader::new(cp.size);
    for t in tile::tiles_for_size(cp.size) {
        let r = s.get(&format!("/{}", t.path()));
        assert_eq!(r.status, 200, "{}", t.path());
        assert_eq!(r.content_type, "application/octet-stream");
        if t.is_full() {
            assert_eq!(r.cache_control, "public, max-age=31536000, immutable");
        }
        reader.add_tile(&t, &r.body).expect("tile accepted");
    }
    assert_eq!(merkle::tree_hash(cp.size, &reader).unwrap(), cp.root);

    // The entry bundle holds the entries whose leaf hashes the level-0 tile holds.
    let w = tile::partial_width(0, cp.size);
    let bundle_path = TilePath::Entries { index: 1, width: w }.to_path();
    let r = s.get(&format!("/{bundle_path}"));
    assert_eq!(r.status, 200);
    let entries = tile::decode_entry_bundle(&r.body).unwrap();
    assert_eq!(entries.len(), usize::from(w));
    let t0 = s
        .get(&format!(
            "/{}",
            TileId {
                level: 0,
                index: 1,
                width: w
            }
            .path()
        ))
        .body;
    for (k, e) in entries.iter().enumerate() {
        assert_eq!(&t0[k * 32..k * 32 + 32], &leaf_hash(e).0[..]);
    }
    let full = s.get("/tile/entries/000");
    assert_eq!(full.status, 200);
    assert_eq!(full.cache_control, "public, max-age=31536000, immutable");
    assert_eq!(tile::decode_entry_bundle(&full.body).unwrap().len(), 256);
    // An older, narrower partial tile is still served; a wider one is not.
    let narrow = TileId {
        level: 0,
        index: 1,
        width: 3,
    };
    let r = s.get(&format!("/{}", narrow.path()));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, t0[..96].to_vec());
    let wide = TileId {
        level: 0,
        index: 1,
        width: w + 1,
    };
    assert_eq!(s.get(&format!("/{}", wide.path())).status, 404);
    // The checkpoint is served as text with a short cache.
    let c = s.get("/checkpoint");
    assert_eq!(c.content_type, "text/plain; charset=utf-8");
    assert!(c.cache_control.contains("max-age=2"));
}

#[test]
fn json_proofs_entries_stations_and_checkpoints_verify() {
    let s = board(&[]);
    let t4 = s.e.signed_tally(4);
    let i4 = s.append(&t4);
    let old = s.checkpoint();
    let rev = s.e.revised_tally(4, &t4);
    let ir = s.append(&rev);
    for i in 10..20 {
        s.append(&s.e.signed_tally(i));
    }
    let new = s.checkpoint();

    // Inclusion by index at the latest size, and by leaf at an older size.
    let j = s.get(&format!("/api/v1/proof/inclusion?index={i4}")).json();
    let proof: Vec<Hash> = j["proof"].as_array().unwrap().iter().map(hex).collect();
    assert_eq!(j["tree_size"].as_u64(), Some(new.size));
    assert_eq!(hex(&j["root"]), new.root);
    merkle::verify_inclusion(&leaf_hash(&t4), i4, new.size, &proof, &new.root).unwrap();
    let j = s
        .get(&format!(
            "/api/v1/proof/inclusion?leaf={}&size={}",
            leaf_hash(&t4).to_hex(),
            old.size
        ))
        .json();
    let proof: Vec<Hash> = j["proof"].as_array().unwrap().iter().map(hex).collect();
    merkle::verify_inclusion(&leaf_hash(&t4), i4, old.size, &proof, &old.root).unwrap();
    assert!(j["checkpoint"].as_str().unwrap().starts_with(s.origin()));
    // The revision is not in the older tree.
    let r = s.get(&format!(
        "/api/v1/proof/inclusion?leaf={}&size={}",
        leaf_hash(&rev).to_hex(),
        old.size
    ));
    assert_eq!(r.status, 404);

    // Consistency between the two checkpoints.
    let j = s
        .get(&format!(
            "/api/v1/proof/consistency?old={}&new={}",
            old.size, new.size
        ))
        .json();
    let proof: Vec<Hash> = j["proof"].as_array().unwrap().iter().map(hex).collect();
    merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof).unwrap();
    assert_eq!(hex(&j["old_root"]), old.root);

    // The earlier checkpoint is still served, signed.
    let r = s.get(&format!("/api/v1/checkpoints/{}", old.size));
    assert_eq!(r.status, 200);
    let (cp, _) =
        tallyboard_core::checkpoint::open_checkpoint(&r.body, s.origin(), &s.log_verifiers())
            .unwrap();
    assert_eq!(cp, old);

    // One entry, raw and parsed.
    let j = s.get(&format!("/api/v1/entries/{ir}")).json();
    assert_eq!(j["note"].as_str().unwrap().as_bytes(), &rev[..]);
    assert_eq!(j["type"], "tallyboard/tally-revision/v1");
    assert_eq!(j["fields"]["revision"].as_u64(), Some(2));
    assert_eq!(hex(&j["fields"]["supersedes"]), leaf_hash(&t4));

    // The station: key, both revisions, with indexes and leaf hashes.
    let j = s
        .get(&format!("/api/v1/stations/{}", s.e.station_id(4)))
        .json();
    assert_eq!(j["key"]["revoked"], false);
    assert_eq!(j["key_entries"].as_array().unwrap().len(), 1);
    let revs = j["tallies"][0]["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[0]["index"].as_u64(), Some(i4));
    assert_eq!(revs[1]["index"].as_u64(), Some(ir));
    assert_eq!(hex(&revs[1]["leaf_hash"]), leaf_hash(&rev));

    // Totals: counted keeps the first tally, standing the revision.
    let j = s.get("/api/v1/totals").json();
    let c = &j["contests"][0];
    let first = s.e.tally(4);
    let sum_first: u64 = std::iter::once(4)
        .chain(10..20)
        .map(|i| s.e.tally(i).votes[0].1)
        .sum();
    assert_eq!(c["counted"]["votes"][0]["votes"].as_u64(), Some(sum_first));
    // The revision moves two ballots to the first candidate.
    assert_eq!(
        c["standing"]["votes"][0]["votes"].as_u64(),
        Some(sum_first + 2)
    );
    assert_eq!(c["stations_counted"].as_u64(), Some(11));
    assert_eq!(c["counted"]["valid"], c["standing"]["valid"]);
    let _ = first;

    // A station's minutes scan, named by its logged tally and signed by
    // the station, round-trips by digest; it is served as a download.
    let blob = s.e.minutes_scan(4, 1);
    let h = Hash::sha256(&blob);
    let digest = h.to_hex();
    let sig = s.e.blob_signature(4, &h);
    let station = s.e.station_id(4).to_owned();
    let r = s.post_with(
        &format!("/api/v1/blobs?sha256={digest}"),
        &[
            ("Content-Type", "image/jpeg"),
            ("X-Tallyboard-Station", &station),
            ("X-Tallyboard-Signature", &sig),
        ],
        &blob,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.post_with(
        "/api/v1/blobs",
        &[
            ("X-Content-SHA256", &digest),
            ("X-Tallyboard-Station", &station),
            ("X-Tallyboard-Signature", &sig),
        ],
        &blob,
    );
    assert_eq!(r.status, 200);
    let r = s.get(&format!("/api/v1/blobs/{digest}"));
    assert_eq!(r.body, blob);
    let raw = ureq::get(&format!("{}/api/v1/blobs/{digest}", s.url))
        .call()
        .expect("blob");
    assert_eq!(raw.header("content-disposition"), Some("attachment"));
    assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
    let info = s.get("/api/v1/log").json();
    let m = s.get(&format!(
        "/api/v1/blobs/{}",
        info["manifest_sha256"].as_str().unwrap()
    ));
    assert_eq!(m.body, s.e.manifest_bytes());
    assert_eq!(s.get("/api/v1/manifest").body, s.e.manifest_bytes());
    assert_eq!(
        info["log_vkey"].as_str().unwrap(),
        keys::role_key("log").unwrap().verifier().to_vkey_string()
    );
    assert_eq!(s.get("/healthz").text(), format!("ok {}\n", new.size));
}

#[test]
fn openapi_document_lists_every_route() {
    let s = Server::start(3, &[]);
    let r = s.get("/api/v1/openapi.json");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let want = [
        ("/checkpoint", "get"),
        ("/tile/{path}", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/api/v1/entries", "post"),
        ("/api/v1/entries/{index}", "get"),
        ("/api/v1/blobs", "post"),
        ("/api/v1/blobs/{sha256}", "get"),
        ("/api/v1/proof/inclusion", "get"),
        ("/api/v1/proof/consistency", "get"),
        ("/api/v1/checkpoints/{size}", "get"),
        ("/api/v1/stations/{station}", "get"),
        ("/api/v1/totals", "get"),
        ("/api/v1/announcements", "get"),
        ("/api/v1/results/{contest}", "get"),
        ("/api/v1/exports/results.csv", "get"),
        ("/api/v1/exports/results.json", "get"),
        ("/api/v1/exports/nist-err.json", "get"),
        ("/api/v1/exports/stations/{level}/{file}", "get"),
        ("/api/v1/log", "get"),
        ("/api/v1/manifest", "get"),
        ("/api/v1/manifest.json", "get"),
        ("/api/v1/manifest/slices/{station}", "get"),
        ("/api/v1/witnessed", "get"),
        ("/api/v1/openapi.json", "get"),
    ];
    for (p, m) in want {
        assert!(
            paths.get(p).and_then(|v| v.get(m)).is_some(),
            "{m} {p} missing"
        );
    }
    assert_eq!(paths.len(), want.len(), "undocumented or stale paths");
    // Every documented route is served (not the JSON 404 of the fallback).
    for (p, m) in want {
        if m != "get" {
            continue;
        }
        let concrete = p
            .replace("{path}", "0/000")
            .replace("{index}", "0")
            .replace("{sha256}", &"0".repeat(64))
            .replace("{size}", "0")
            .replace("{station}", s.e.station_id(0))
            .replace(
                "{level}/{file}",
                &format!(
                    "county/{}.csv",
                    s.e.manifest().station(s.e.station_id(0)).unwrap().county
                ),
            );
        let r = s.get(&concrete);
        if r.status == 404 {
            assert_ne!(
                r.json()["message"].as_str().unwrap_or(""),
                format!("no resource at {concrete}"),
                "{p} is not routed"
            );
        }
    }
    assert!(doc["components"]["schemas"]["Receipt"].is_object());
}

/// The routes `spec/http-api.md` names, as (OpenAPI path, method): every
/// `` `GET /…` `` and `` `POST /…` `` span, with `<name>` written `{name}`,
/// optional and query parts dropped, and every tile path as `/tile/{path}`.
fn routes_in_the_spec() -> std::collections::BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/http-api.md"))
        .expect("spec/http-api.md");
    let mut out = std::collections::BTreeSet::new();
    for span in text.split('`').skip(1).step_by(2) {
        let Some((method, path)) = span.split_once(' ') else {
            continue;
        };
        if !matches!(method, "GET" | "POST") || !path.starts_with('/') {
            continue;
        }
        let path = path.split(['?', '[', ' ']).next().unwrap_or(path);
        let path = if path.starts_with("/tile/") {
            "/tile/{path}".to_owned()
        } else {
            path.replace('<', "{").replace('>', "}")
        };
        out.insert((path, method.to_lowercase()));
    }
    out
}

#[test]
fn the_spec_documents_every_route_and_only_those() {
    let s = Server::start(3, &[]);
    let doc = s.get("/api/v1/openapi.json").json();
    let served: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (p.clone(), m.clone()))
        })
        .collect();
    let mut documented = routes_in_the_spec();
    // Only a mirror serves its status (spec/mirror.md §5); the board's
    // OpenAPI document lists the board's routes.
    let mirror_only = ("/api/v1/mirror".to_owned(), "get".to_owned());
    assert!(documented.remove(&mirror_only), "the mirror's route");
    assert!(!served.contains(&mirror_only));
    assert_eq!(s.get("/api/v1/mirror").status, 404);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in spec/http-api.md: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in spec/http-api.md but not served: {unserved:?}"
    );
}

#[test]
fn the_read_path_ignores_a_query_component() {
    // spec/http-api.md §1.1: the path is matched after percent-decoding, a
    // query component is ignored, as a static copy's web server does.
    let s = board(&[]);
    let size = s.size();
    assert!(size > 1 && size < 256);
    for path in [
        "/checkpoint".to_owned(),
        format!("/tile/0/000.p/{size}"),
        format!("/tile/entries/000.p/{size}"),
    ] {
        let plain = s.get(&path);
        assert_eq!(plain.status, 200, "{path}");
        for q in ["?x=1", "?", "?cache-bust=1767139200&y"] {
            let r = s.get(&format!("{path}{q}"));
            assert_eq!(r.status, 200, "{path}{q}");
            assert_eq!(r.body, plain.body, "{path}{q}");
            assert_eq!(r.content_type, plain.content_type, "{path}{q}");
            assert_eq!(r.cache_control, plain.cache_control, "{path}{q}");
        }
    }
    // A percent-encoded spelling is the decoded path; a query does not make
    // a non-canonical path canonical.
    let r = s.get(&format!("/tile/0/%30%30%30.p/{size}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, s.get(&format!("/tile/0/000.p/{size}")).body);
    let r = s.get(&format!("/tile/0/0000.p/{size}?x=1"));
    assert_eq!((r.status, r.code()), (400, "tile.malformed".to_owned()));
}

#[test]
fn station_client_signs_submits_verifies_and_saves_the_receipt() {
    let s = board(&[]);
    let dir = s.dir.path();
    let key = s.path("station.key");
    std::fs::write(&key, format!("{}\n", station_key(&s, 7).to_skey_string())).unwrap();
    let vkey = keys::role_key("log").unwrap().verifier().to_vkey_string();
    // An unsigned tally text: the client signs it.
    let file = s.path("tally.txt");
    std::fs::write(&file, Entry::Tally(s.e.tally(7)).to_text()).unwrap();
    let (ok, out, err) = run_cli(
        &[
            OsStr::new("submit"),
            OsStr::new("--key"),
            key.as_os_str(),
            OsStr::new("--url"),
            OsStr::new(&s.url),
            OsStr::new("--log-vkey"),
            OsStr::new(&vkey),
            file.as_os_str(),
        ],
        dir,
    );
    assert!(ok, "submit failed: {out} {err}");
    assert!(out.contains("logged at index"), "{out}");
    let receipt = std::fs::read(s.path("tally.txt.tlog-proof")).unwrap();
    let signed = std::fs::read(s.path("tally.txt.signed")).unwrap();
    assert_eq!(
        signed,
        s.e.signed_tally(7),
        "Ed25519 signing is deterministic"
    );
    TlogProof::parse(&receipt)
        .unwrap()
        .verify(&signed, s.origin(), &s.log_verifiers())
        .unwrap();

    // An already signed file is sent as is (here: a duplicate), log key fetched.
    let file2 = s.path("signed.txt");
    std::fs::write(&file2, &signed).unwrap();
    let (ok, out, err) = run_cli(
        &[
            OsStr::new("submit"),
            OsStr::new("--url"),
            OsStr::new(&s.url),
            file2.as_os_str(),
        ],
        dir,
    );
    assert!(ok, "{out} {err}");
    assert!(out.contains("already logged"), "{out}");
    assert!(s.path("signed.txt.tlog-proof").exists());

    // A refused tally fails with the code, and saves nothing.
    let file3 = s.path("bad.txt");
    let mut t = s.e.tally(8);
    t.figures.valid += 1;
    std::fs::write(&file3, Entry::Tally(t).to_text()).unwrap();
    let key8 = s.path("station8.key");
    std::fs::write(&key8, format!("{}\n", station_key(&s, 8).to_skey_string())).unwrap();
    let size = s.size();
    let (ok, _, err) = run_cli(
        &[
            OsStr::new("submit"),
            OsStr::new("--key"),
            key8.as_os_str(),
            OsStr::new("--url"),
            OsStr::new(&s.url),
            OsStr::new("--log-vkey"),
            OsStr::new(&vkey),
            file3.as_os_str(),
        ],
        dir,
    );
    assert!(!ok);
    assert!(err.contains("tally.arithmetic"), "{err}");
    assert!(!s.path("bad.txt.tlog-proof").exists());
    assert_eq!(s.size(), size);
}

#[test]
fn graceful_shutdown_keeps_everything_acknowledged() {
    let mut s = board(&[]);
    let mut logged = Vec::new();
    for i in 0..10 {
        let b = s.e.signed_tally(i);
        logged.push((s.append(&b), b));
    }
    let before = s.checkpoint();
    s.terminate();
    s.spawn();
    let after = s.checkpoint();
    assert_eq!(after, before);
    for (index, bytes) in &logged {
        let r = s.submit(bytes);
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["index"].as_u64(), Some(*index));
    }
    assert_eq!(s.size(), before.size);
}

#[test]
fn a_full_queue_answers_429_with_retry_after() {
    // One admission slot, and a writer that waits a long time for a batch to
    // fill: while the first submission is held, the others are refused. No
    // station is registered, so the admitted ones are refused by the writer
    // (403) and nothing is appended.
    let s = Arc::new(Server::start(
        STATIONS,
        &["--queue", "1", "--batch-wait-ms", "3000"],
    ));
    let start = s.size();
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                let r = s.submit(&s.e.signed_tally(i));
                (r.status, r.retry_after.clone(), r.code())
            })
        })
        .collect();
    let mut refused = 0;
    for h in handles {
        let (status, retry, code) = h.join().unwrap();
        match status {
            403 => assert_eq!(code, "station.key-not-registered"),
            429 => {
                refused += 1;
                assert_eq!(retry.as_deref(), Some("1"), "429 without Retry-After");
                assert_eq!(code, "board.overloaded");
            }
            other => panic!("unexpected status {other} {code}"),
        }
    }
    assert!(refused >= 1, "no submission was refused");
    assert_eq!(s.size(), start);
}

/// `serve --publish DIR` (spec/publishing.md §5): the copy follows the
/// board off the write path, holds the minutes scans the log names, ends
/// with the final checkpoint after shutdown, and passes the independent
/// verifier's audit; a board behind the copy refuses to start on it.
#[test]
fn serve_publish_keeps_a_static_copy_that_audits() {
    use tallyboard_verify::{audit, DirSource, LogKey, Report};
    let copy = tempfile::tempdir().unwrap();
    let mut s = board(&["--publish", copy.path().to_str().unwrap()]);
    // A station submits its tally, then uploads the minutes scan it names.
    for i in 0..20 {
        s.append(&s.e.signed_tally(i));
    }
    let scan = s.e.minutes_scan(0, 1);
    let h = Hash::sha256(&scan);
    let digest = h.to_hex();
    let r = s.post_with(
        &format!("/api/v1/blobs?sha256={digest}"),
        &[
            ("X-Tallyboard-Station", s.e.station_id(0)),
            ("X-Tallyboard-Signature", &s.e.blob_signature(0, &h)),
        ],
        &scan,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let served = s.get("/checkpoint").body;
    // The thread polls; wait for it to catch up (no timing is asserted).
    let mut caught_up = false;
    for _ in 0..3000 {
        if std::fs::read(copy.path().join("checkpoint")).ok().as_ref() == Some(&served) {
            caught_up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(caught_up, "the copy never reached the board's checkpoint");

    // More entries, then shutdown: the last pass publishes the final checkpoint.
    for i in 20..30 {
        s.append(&s.e.signed_tally(i));
    }
    let last = s.get("/checkpoint").body;
    let size = s.size();
    s.terminate();
    assert_eq!(std::fs::read(copy.path().join("checkpoint")).unwrap(), last);
    assert_eq!(
        std::fs::read(copy.path().join(format!("api/v1/blobs/{digest}"))).unwrap(),
        scan
    );
    let log = LogKey::load(
        &keys::role_key("log").unwrap().verifier().to_vkey_string(),
        None,
    )
    .unwrap();
    let report = audit::run(&DirSource::new(copy.path()), &log).unwrap();
    assert!(report.verified(), "{}", report.human());
    assert_eq!(report.size, size);

    // A board whose tree is smaller than the copy's refuses to start on it,
    // before it listens, with the code.
    let other = tempfile::tempdir().unwrap();
    let data = other.path().join("data");
    let (ok, _, err) = run_cli(
        &[
            OsStr::new("init"),
            OsStr::new("--data"),
            data.as_os_str(),
            OsStr::new("--manifest"),
            s.path("manifest.json").as_os_str(),
            OsStr::new("--log-key"),
            s.path("log.key").as_os_str(),
        ],
        other.path(),
    );
    assert!(ok, "{err}");
    let (ok, out, err) = run_cli(
        &[
            OsStr::new("serve"),
            OsStr::new("--listen"),
            OsStr::new("127.0.0.1:0"),
            OsStr::new("--data"),
            data.as_os_str(),
            OsStr::new("--log-key"),
            s.path("log.key").as_os_str(),
            OsStr::new("--publish"),
            copy.path().as_os_str(),
        ],
        other.path(),
    );
    assert!(!ok);
    assert!(!out.contains("listening on"), "{out}");
    assert!(err.contains("tallyboard: publish.target-ahead: "), "{err}");
}

const EXPORTS: [&str; 3] = [
    "/api/v1/exports/results.csv",
    "/api/v1/exports/results.json",
    "/api/v1/exports/nist-err.json",
];

/// Nothing expensive on request threads (issue 17, item 2): the exports
/// are built in the background, once per checkpoint asked for, and served
/// from memory (spec/http-api.md §1.4). Asserted on the build counter of
/// `/metrics` and on headers, never on time.
#[test]
fn exports_are_built_once_per_checkpoint_and_served_from_memory() {
    let s = Server::start(12, &[]);
    s.setup(0..7);
    for i in 0..6 {
        s.append(&s.e.signed_tally(i));
    }
    let size = s.size();
    let first: Vec<_> = EXPORTS.iter().map(|p| s.export_at(p, size)).collect();
    let builds = s.metric("tallyboard_export_builds_total");
    // Two builds at most: the one at start, and the one at `size` (none
    // for each checkpoint in between, nobody asked at those).
    assert!((1..=2).contains(&builds), "{builds} builds");

    // Many clients at once, GET and HEAD: every answer is the built file,
    // and nothing is built again.
    let answers: Vec<_> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let (s, p) = (&s, EXPORTS[i % 3]);
                sc.spawn(move || (p, s.request(if i % 2 == 0 { "GET" } else { "HEAD" }, p)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (p, r) in &answers {
        assert_eq!(r.status, 200, "{p}");
        assert_eq!(
            r.header("x-tallyboard-checkpoint-size"),
            Some(&*size.to_string())
        );
        let built = &first[EXPORTS.iter().position(|e| e == p).unwrap()];
        assert_eq!(r.header("etag"), built.header("etag"), "{p}");
    }
    assert_eq!(s.metric("tallyboard_export_builds_total"), builds);

    // Revalidation: the ETag is the file's.
    let etag = first[0].header("etag").unwrap().to_owned();
    let r = s.request_with("GET", EXPORTS[0], &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);

    // A new checkpoint: HEAD asks for no build, so it still names the old
    // size; a GET does, and the file follows.
    s.append(&s.e.signed_tally(6));
    let next = s.size();
    for p in EXPORTS {
        let r = s.request("HEAD", p);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-tallyboard-checkpoint-size"),
            Some(&*size.to_string())
        );
    }
    assert_eq!(s.metric("tallyboard_export_builds_total"), builds);
    let json = s.export_at(EXPORTS[1], next);
    assert_eq!(json.json()["checkpoint"]["size"].as_u64(), Some(next));
    assert_eq!(s.metric("tallyboard_export_builds_total"), builds + 1);
}

/// Decodes a body sent with `coding` (spec/http-api.md §1.7).
fn decoded(coding: Option<&str>, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match coding {
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("gzip");
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("brotli");
        }
        None => out = body.to_vec(),
        Some(other) => panic!("unexpected coding {other}"),
    }
    out
}

#[test]
fn text_is_compressed_for_a_client_that_asks_and_nothing_else_is() {
    let s = Server::start(12, &[]);
    s.setup(0..7);
    for i in 0..6 {
        s.append(&s.e.signed_tally(i));
    }
    let size = s.size();
    // The exports are built in the background: wait for the first build.
    for p in EXPORTS {
        s.export_at(p, size);
    }
    let get = |path: &str, ae: Option<&str>| {
        let h: Vec<(&str, &str)> = ae.map(|v| ("Accept-Encoding", v)).into_iter().collect();
        harness::raw_get(&s.url, path, &h, false)
    };
    let tile = format!("/tile/0/000.p/{size}");
    let bundle = format!("/tile/entries/000.p/{size}");
    // (path, the coding for "br, gzip", the coding for "gzip")
    let cases = [
        ("/", Some("br"), Some("gzip")),
        ("/en/checkpoints", Some("br"), Some("gzip")),
        ("/api/v1/manifest", Some("br"), Some("gzip")),
        ("/static/site.css", Some("br"), Some("gzip")),
        ("/api/v1/openapi.json", Some("br"), Some("gzip")),
        // Exports are gzipped by their build, never per request.
        (EXPORTS[0], Some("gzip"), Some("gzip")),
        (EXPORTS[1], Some("gzip"), Some("gzip")),
        // Entry bundles are signed notes: compressed per request.
        (bundle.as_str(), Some("br"), Some("gzip")),
        // Tiles are hashes; the checkpoint is under 1 KiB; fonts are WOFF2.
        (tile.as_str(), None, None),
        ("/checkpoint", None, None),
        ("/static/fonts/Vazirmatn-Regular.woff2", None, None),
    ];
    for (path, with_br, with_gzip) in cases {
        let plain = get(path, None);
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        for (ae, want) in [
            ("br, gzip", with_br),
            ("gzip", with_gzip),
            ("gzip;q=0, br;q=0", None),
        ] {
            let r = get(path, Some(ae));
            assert_eq!(r.status, 200, "{path} {ae}");
            assert_eq!(r.header("content-encoding"), want, "{path} with {ae}");
            assert_eq!(decoded(want, &r.body), plain.body, "{path} with {ae}");
            if want.is_some() {
                assert!(r.body.len() < plain.body.len(), "{path} with {ae}");
                let vary = r.header("vary").unwrap_or("").to_ascii_lowercase();
                assert!(vary.contains("accept-encoding"), "{path}: vary {vary:?}");
            }
        }
    }
    // The live stream goes out as it is made.
    let live = harness::raw_get(&s.url, "/live", &[("Accept-Encoding", "br, gzip")], true);
    assert_eq!(live.status, 200);
    assert!(live.content_type.starts_with("text/event-stream"));
    assert_eq!(live.header("content-encoding"), None);
}

/// `tallyboard` with arguments in `dir`: (exit status, stdout, stderr).
fn cli_status(dir: &std::path::Path, args: &[&OsStr]) -> (i32, String, String) {
    let out = std::process::Command::new(harness::BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tallyboard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Offline stations (spec/operations.md §8): a tally signed while no board
/// answers waits in the outbox, is logged once one does (through the
/// second of two URLs), is never sent twice, travels unchanged on a USB
/// stick, and a refused one is set aside with the board's answer.
#[test]
fn a_station_keeps_its_tally_in_an_outbox_until_a_board_answers() {
    let mut s = board(&[]);
    let dir = s.dir.path().to_owned();
    let outbox = dir.join("outbox");
    let vkey = keys::role_key("log").unwrap().verifier().to_vkey_string();
    let key = s.path("station9.key");
    std::fs::write(&key, format!("{}\n", station_key(&s, 9).to_skey_string())).unwrap();
    let tally = s.path("tally9.txt");
    std::fs::write(&tally, Entry::Tally(s.e.tally(9)).to_text()).unwrap();
    // A port nothing listens on: the first board is down for good.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };

    // No board answers: the signed tally waits in the outbox (exit 75).
    s.terminate();
    let (code, out, err) = cli_status(
        &dir,
        &[
            OsStr::new("submit"),
            OsStr::new("--key"),
            key.as_os_str(),
            OsStr::new("--url"),
            OsStr::new(&dead),
            OsStr::new("--url"),
            OsStr::new(&s.url),
            OsStr::new("--log-vkey"),
            OsStr::new(&vkey),
            OsStr::new("--retries"),
            OsStr::new("1"),
            OsStr::new("--outbox"),
            outbox.as_os_str(),
            tally.as_os_str(),
        ],
    );
    assert_eq!(code, 75, "{out} {err}");
    assert!(out.contains("waits in the outbox"), "{out}");
    let signed = s.e.signed_tally(9);
    let leaf = leaf_hash(&signed).to_hex();
    let waiting = outbox.join("pending").join(format!("{leaf}.entry"));
    assert_eq!(std::fs::read(&waiting).unwrap(), signed);

    // The board is back (at a new address): `outbox` sends it through the
    // second URL and keeps the verified receipt.
    s.spawn();
    let size = s.size();
    let send = |s: &Server| {
        cli_status(
            &dir,
            &[
                OsStr::new("outbox"),
                OsStr::new("--dir"),
                outbox.as_os_str(),
                OsStr::new("--url"),
                OsStr::new(&dead),
                OsStr::new("--url"),
                OsStr::new(&s.url),
                OsStr::new("--log-vkey"),
                OsStr::new(&vkey),
                OsStr::new("--patience"),
                OsStr::new("60s"),
            ],
        )
    };
    let (code, out, err) = send(&s);
    assert_eq!(code, 0, "{out} {err}");
    assert!(
        out.contains("1 logged, 0 refused, 0 still waiting"),
        "{out}"
    );
    assert_eq!(s.size(), size + 1);
    assert!(!waiting.exists());
    let sent = std::fs::read(outbox.join("sent").join(format!("{leaf}.entry"))).unwrap();
    let receipt = std::fs::read(outbox.join("sent").join(format!("{leaf}.tlog-proof"))).unwrap();
    let proof = TlogProof::parse(&receipt).unwrap();
    proof.verify(&sent, s.origin(), &s.log_verifiers()).unwrap();
    // Nothing left: running it again sends nothing.
    let (code, out, _) = send(&s);
    assert_eq!(code, 0);
    assert!(out.contains("is empty"), "{out}");
    assert_eq!(s.size(), size + 1);

    // Carried on a USB stick to a district office and submitted from there,
    // unchanged and without the station's key: the same entry, same index.
    let usb = tempfile::tempdir().unwrap();
    let carried = usb.path().join("tally9.signed");
    std::fs::write(&carried, &sent).unwrap();
    let (code, out, err) = cli_status(
        usb.path(),
        &[
            OsStr::new("submit"),
            OsStr::new("--url"),
            OsStr::new(&s.url),
            OsStr::new("--log-vkey"),
            OsStr::new(&vkey),
            carried.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{out} {err}");
    assert!(
        out.contains(&format!("already logged at index {}", proof.index)),
        "{out}"
    );
    assert_eq!(s.size(), size + 1);

    // A tally the board refuses is set aside with its answer, not retried.
    let bad = s.path("bad10.txt");
    let mut t = s.e.tally(10);
    t.figures.valid += 1;
    std::fs::write(&bad, Entry::Tally(t).to_text()).unwrap();
    let key10 = s.path("station10.key");
    std::fs::write(
        &key10,
        format!("{}\n", station_key(&s, 10).to_skey_string()),
    )
    .unwrap();
    let (code, _, err) = cli_status(
        &dir,
        &[
            OsStr::new("submit"),
            OsStr::new("--key"),
            key10.as_os_str(),
            OsStr::new("--url"),
            OsStr::new(&s.url),
            OsStr::new("--log-vkey"),
            OsStr::new(&vkey),
            OsStr::new("--outbox"),
            outbox.as_os_str(),
            bad.as_os_str(),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("tally.arithmetic"), "{err}");
    let refused: Vec<_> = std::fs::read_dir(outbox.join("refused"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    let error = refused.iter().find(|n| n.ends_with(".error")).unwrap();
    let answer = std::fs::read_to_string(outbox.join("refused").join(error)).unwrap();
    assert!(answer.starts_with("tally.arithmetic"), "{answer}");
    assert!(std::fs::read_dir(outbox.join("pending"))
        .unwrap()
        .next()
        .is_none());
    assert_eq!(s.size(), size + 1);
}
