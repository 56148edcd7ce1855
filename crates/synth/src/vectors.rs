//! tallyboard's own test vectors (`spec/vectors/`), made from code so the
//! spec and the implementation cannot drift: `tests/vectors.rs` regenerates
//! them in memory and compares with the committed files.
//!
//! * `entries.json`: valid statements (text, signed note, leaf hash, signer
//!   key) and invalid ones (bytes and the error code they must produce);
//! * `log.json`: a small manifest and an ordered list of signed entries with
//!   the verdict each must get when replayed in order (accepted, or a code);
//! * `merkle.json`: roots and proofs of a log of our own entries.

use crate::{keys, sign, Config, SyntheticElection};
use serde_json::{json, Value};
use tallyboard_core::entry::announcement;
use tallyboard_core::entry::{
    AnnouncementStatus, Correction, Entry, SignedEntry, Statement, StationKeyRevocation,
};
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle::{prove_consistency, prove_inclusion, MemoryLog};
use tallyboard_core::tile;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hexes(v: &[tallyboard_core::Hash]) -> Vec<String> {
    v.iter().map(|h| h.to_hex()).collect()
}

/// Every vector file: (file name, JSON value).
pub fn all() -> Vec<(&'static str, Value)> {
    let e = SyntheticElection::generate(Config {
        seed: 42,
        stations: 6,
        majlis: false,
    });
    vec![
        ("entries.json", entries(&e)),
        ("log.json", log(&e)),
        ("merkle.json", merkle(&e)),
    ]
}

fn entries(e: &SyntheticElection) -> Value {
    let station = e.station_id(0).to_owned();
    let skey = keys::station_key(crate::ELECTION_ID, &station);
    let tally = e.tally(0);
    let valid_entries = [
        (
            "manifest commitment",
            e.commitment_entry(),
            keys::role_key("authority").map(|k| k.verifier()),
        ),
        (
            "station key registration",
            e.registration_entry(0),
            keys::role_key("authority").map(|k| k.verifier()),
        ),
        ("first tally", e.signed_tally(0), Some(skey.verifier())),
        (
            "approval by the supervisor",
            e.approval_entry(0, 3, &e.signed_tally(0)),
            keys::role_key("supervisor").map(|k| k.verifier()),
        ),
        (
            "annulment by the supervisor",
            e.annulment_entry(0, "ballot-stuffing", "observers' report"),
            keys::role_key("supervisor").map(|k| k.verifier()),
        ),
        (
            "lot draw by the authority",
            e.lot_entry(&[11, 22], &[22, 11]),
            keys::role_key("authority").map(|k| k.verifier()),
        ),
        (
            "tally revision",
            e.revised_tally(0, &e.signed_tally(0)),
            Some(skey.verifier()),
        ),
    ];
    let valid: Vec<Value> = valid_entries
        .iter()
        .map(|(what, bytes, key)| {
            let note =
                tallyboard_core::note::Note::parse(bytes, 65_535).expect("own entries parse");
            json!({
                "description": what,
                "statement": note.text,
                "signed_note": text(bytes),
                "leaf_hash": leaf_hash(bytes).to_hex(),
                "signer_vkey": key.as_ref().map(|k| k.to_vkey_string()),
            })
        })
        .collect();
    let base = Entry::Tally(tally.clone()).to_text();
    // A revision's text, whose `reason` line the text vectors replace.
    let revision =
        tallyboard_core::entry::SignedEntry::parse(&e.revised_tally(0, &e.signed_tally(0)))
            .expect("own revision parses")
            .entry
            .to_text();
    let with_reason = |text: &str, reason: &str| -> String {
        text.lines()
            .map(|l| {
                if l.starts_with("reason ") {
                    format!("reason {reason}")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    let mutate = |from: &str, to: &str| base.replacen(from, to, 1);
    let statements: Vec<(&str, String)> = vec![
        (
            "unknown type",
            base.replacen("tallyboard/tally/v1", "tallyboard/tally/v9", 1),
        ),
        (
            "reserved type",
            "tallyboard/announcement/v1\nelection x\n".into(),
        ),
        ("leading zero", mutate("\nrevision 1\n", "\nrevision 01\n")),
        (
            "overflow",
            mutate("\nrevision 1\n", "\nrevision 4294967296\n"),
        ),
        (
            "count above 10^12",
            mutate(
                "\ncounterfoils ",
                "\ncounterfoils 9999999999999\ncounterfoils-was ",
            ),
        ),
        ("unknown field", mutate("\nvalid ", "\ncolour blue\nvalid ")),
        (
            "duplicate field",
            mutate("\nvalid ", "\nrevision 1\nvalid "),
        ),
        ("missing field", {
            let mut lines: Vec<&str> = base.lines().collect();
            lines.retain(|l| !l.starts_with("valid "));
            lines.join("\n") + "\n"
        }),
        ("double space", mutate("\nrevision 1\n", "\nrevision  1\n")),
        (
            "trailing space",
            mutate("\nrevision 1\n", "\nrevision 1 \n"),
        ),
        ("double space inside a vote line", {
            let first = base
                .lines()
                .find(|l| l.starts_with("vote "))
                .expect("votes")
                .to_owned();
            // `vote <code> <votes>` becomes `vote <code>  <votes>`.
            let (head, votes) = first.rsplit_once(' ').expect("vote line");
            base.replacen(&first, &format!("{head}  {votes}"), 1)
        }),
        (
            "double space inside a revision's reason",
            with_reason(&revision, "recount  requested"),
        ),
        ("uppercase hash", {
            let h = tally
                .minutes_sha256
                .expect("synthetic tallies have minutes")
                .to_hex();
            base.replacen(&h, &h.to_uppercase(), 1)
        }),
        ("votes out of order", {
            let mut lines: Vec<String> = base.lines().map(str::to_owned).collect();
            let first = lines
                .iter()
                .position(|l| l.starts_with("vote "))
                .expect("votes");
            lines.swap(first, first + 1);
            lines.join("\n") + "\n"
        }),
        ("zero vote written", mutate("\nvote ", "\nvote 1 0\nvote ")),
        ("no final newline", base.trim_end_matches('\n').to_owned()),
        ("blank line inside", mutate("\nvalid ", "\n\nvalid ")),
        (
            "right-to-left override in a revision's reason",
            with_reason(&revision, "recount \u{202E}11 ot 22 morf"),
        ),
        (
            "zero-width space in a revision's reason",
            with_reason(&revision, "re\u{200B}count"),
        ),
        (
            "line separator in a revision's reason",
            with_reason(&revision, "recount\u{2028}again"),
        ),
        (
            "zero-width non-joiner not between letters",
            with_reason(&revision, "\u{200C}بازشماری"),
        ),
    ];
    let mut invalid: Vec<Value> = statements
        .into_iter()
        .map(|(what, statement)| {
            // Sign whatever text this is, so the refusal comes from the grammar.
            let signed = tallyboard_core::note::sign(&ensure_newline(&statement), &[&skey])
                .unwrap_or_else(|_| statement.clone().into_bytes());
            let signed = if statement.ends_with('\n') {
                signed
            } else {
                raw_note(&statement, &skey)
            };
            let code = tallyboard_core::entry::SignedEntry::parse(&signed)
                .expect_err("invalid vector must be refused")
                .code();
            json!({"description": what, "signed_note": text(&signed), "code": code.as_str()})
        })
        .collect();
    let good = e.signed_tally(0);
    let note_cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "carriage return",
            text(&good).replacen('\n', "\r\n", 1).into_bytes(),
        ),
        ("no signature lines", base.clone().into_bytes()),
        (
            "trailing bytes after the last signature line",
            [good.clone(), b"x".to_vec()].concat(),
        ),
        (
            "not UTF-8",
            [good[..10].to_vec(), vec![0xff], good[11..].to_vec()].concat(),
        ),
        (
            "signature line without em dash",
            text(&good).replacen("\u{2014} ", "- ", 1).into_bytes(),
        ),
        (
            "a second signature line (an observer's, or a relay's junk)",
            {
                let mut n = tallyboard_core::note::Note::parse(&good, 65_535).expect("own note");
                let observer = crate::keys::station_key("vectors", "observer-at-the-station");
                n.signatures.push(observer.sign_text(&n.text));
                n.to_bytes()
            },
        ),
        ("the station's own signature line twice", {
            let mut n = tallyboard_core::note::Note::parse(&good, 65_535).expect("own note");
            n.signatures.push(n.signatures[0].clone());
            n.to_bytes()
        }),
    ];
    for (what, bytes) in note_cases {
        let code = tallyboard_core::entry::SignedEntry::parse(&bytes)
            .expect_err("refused")
            .code();
        invalid.push(json!({"description": what, "signed_note_hex": hex::encode(&bytes), "code": code.as_str()}));
    }
    json!({
        "about": "tallyboard entry vectors: every 'valid' statement parses and re-serializes to the same bytes, and its signature verifies with signer_vkey (verify_strict); every 'invalid' one is refused with exactly 'code'. Generated by `cargo run -p tallyboard-synth --example gen-vectors`.",
        "valid": valid,
        "invalid": invalid,
    })
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_owned()
    } else {
        format!("{s}\n")
    }
}

/// A note whose text lacks its final newline: built by hand, since the
/// signer refuses such text.
fn raw_note(statement: &str, key: &tallyboard_core::note::SignerKey) -> Vec<u8> {
    let sig = key.sign_text(&ensure_newline(statement));
    format!("{statement}\n\n{}", sig.to_line()).into_bytes()
}

/// The statement the accepted entries so far give for the president contest
/// at their count.
fn statement_so_far(
    e: &SyntheticElection,
    entries: &[(String, Vec<u8>, Option<&str>)],
) -> Statement {
    let accepted: Vec<Entry> = entries
        .iter()
        .filter(|x| x.2.is_none())
        .map(|x| SignedEntry::parse(&x.1).expect("own entries parse").entry)
        .collect();
    let size = accepted.len() as u64;
    announcement::expected(
        e.manifest(),
        accepted.iter().enumerate().map(|(i, x)| (i as u64, x)),
        crate::PRESIDENT,
        size,
    )
    .expect("recomputes")
}

/// Approvals, annulments, contest approvals, announcements and lots, after
/// the log's first entries (station 0's tally at index 3, station 1's
/// revision 1 at index 4, superseded at index 5).
fn supervision_vectors(e: &SyntheticElection, entries: &mut Vec<(String, Vec<u8>, Option<&str>)>) {
    let t0 = e.signed_tally(0);
    let t1 = e.signed_tally(1);
    entries.push((
        "approval of station 0's tally (index 3) by the supervisor".into(),
        e.approval_entry(0, 3, &t0),
        None,
    ));
    entries.push((
        "approval of station 1's superseded revision 1 (index 4)".into(),
        e.approval_entry(1, 4, &t1),
        Some("supervision.not-latest"),
    ));
    entries.push((
        "approval naming index 3 with station 1's leaf hash".into(),
        e.approval_entry(0, 3, &t1),
        Some("supervision.leaf-mismatch"),
    ));
    entries.push((
        "approval naming an index beyond the log".into(),
        e.approval_entry(0, 1000, &t0),
        Some("supervision.index-out-of-range"),
    ));
    entries.push((
        "annulment signed by the authority".into(),
        e.sign_as_authority(
            &SignedEntry::parse(&e.annulment_entry(1, "ballot-stuffing", "observers"))
                .expect("parses")
                .entry,
        ),
        Some("entry.wrong-signer"),
    ));
    entries.push((
        "annulment of station 1's box".into(),
        e.annulment_entry(1, "ballot-stuffing", "observers"),
        None,
    ));
    entries.push((
        "second annulment of station 1's box".into(),
        e.annulment_entry(1, "ballot-stuffing", "observers, again"),
        Some("supervision.already-annulled"),
    ));
    entries.push((
        "lot between candidates 11 and 22".into(),
        e.lot_entry(&[11, 22], &[22, 11]),
        None,
    ));
    entries.push((
        "second lot between the same candidates".into(),
        e.lot_entry(&[11, 22], &[11, 22]),
        Some("lot.already-drawn"),
    ));
    let st = statement_so_far(e, entries);
    let seen = witnessed_so_far(e, entries);
    let mut wrong = st.clone();
    wrong.figures.valid += 1;
    entries.push((
        "announcement with valid one too many".into(),
        e.announcement_entry(&wrong, AnnouncementStatus::Partial, &seen),
        Some("announcement.mismatch"),
    ));
    entries.push((
        "final announcement without a contest approval".into(),
        e.announcement_entry(&st, AnnouncementStatus::Final, &seen),
        Some("announcement.not-approved"),
    ));
    let mut other_root = seen.clone();
    other_root.root = tallyboard_core::Hash::sha256(b"another tree");
    entries.push((
        "announcement naming another root for its size".into(),
        e.announcement_entry(&st, AnnouncementStatus::Partial, &other_root),
        Some("announcement.root-mismatch"),
    ));
    let mut guardian_only = seen.clone();
    guardian_only.cosignatures.truncate(1);
    entries.push((
        "announcement cosigned by the Guardian Council's witness alone (the quorum wants an observer too)".into(),
        e.announcement_entry(&st, AnnouncementStatus::Partial, &guardian_only),
        Some("announcement.not-witnessed"),
    ));
    entries.push((
        "contest approval of other results".into(),
        e.contest_approval_entry(&wrong),
        Some("supervision.results-mismatch"),
    ));
    entries.push((
        "contest approval of the results at this size".into(),
        e.contest_approval_entry(&st),
        None,
    ));
    let final_bytes = e.announcement_entry(&st, AnnouncementStatus::Final, &seen);
    entries.push((
        "final announcement of the approved results".into(),
        final_bytes.clone(),
        None,
    ));
    let final_leaf = leaf_hash(&final_bytes);
    let t0 = e.signed_tally(0);
    let revision = e.signed_revision(0, 2, leaf_hash(&t0));
    entries.push((
        "a revision after the final announcement".into(),
        revision.clone(),
        Some("contest.final"),
    ));
    entries.push((
        "a lot after the final announcement".into(),
        e.lot_entry(&[33, 44], &[44, 33]),
        Some("contest.final"),
    ));
    entries.push((
        "a partial announcement after the final".into(),
        e.announcement_entry(&st, AnnouncementStatus::Partial, &seen),
        Some("contest.final"),
    ));
    entries.push((
        "a reopening naming another announcement".into(),
        e.reopening_entry(crate::PRESIDENT, leaf_hash(b"not the final"), "complaints"),
        Some("reopening.not-final"),
    ));
    entries.push((
        "the supervisor reopens the final".into(),
        e.reopening_entry(
            crate::PRESIDENT,
            final_leaf,
            "the Guardian Council upheld a complaint about station 0",
        ),
        None,
    ));
    entries.push((
        "the revision, once the contest is reopened".into(),
        revision,
        None,
    ));
    let st2 = statement_so_far(e, entries);
    let seen2 = witnessed_so_far(e, entries);
    entries.push((
        "contest approval of the corrected results".into(),
        e.contest_approval_entry(&st2),
        None,
    ));
    entries.push((
        "a new final that does not name the one it replaces".into(),
        e.announcement_entry(&st2, AnnouncementStatus::Final, &seen2),
        Some("announcement.replaces-mismatch"),
    ));
    entries.push((
        "the corrected final, naming the final it replaces and why".into(),
        e.corrected_final_entry(
            &st2,
            &seen2,
            final_leaf,
            "station 0 recounted after the complaint",
        ),
        None,
    ));
}

/// Role-key changes (spec/keys.md): two roles sign, a key never returns,
/// the last supervisor stays. Last in the log, since a rotation changes
/// who signs what follows.
fn role_key_vectors(e: &SyntheticElection, entries: &mut Vec<(String, Vec<u8>, Option<&str>)>) {
    use tallyboard_core::entry::{Role, RoleKey};
    let m = e.manifest();
    let authority = keys::role_key("authority").expect("role");
    let change = |role: Role,
                  old: &tallyboard_core::note::VerifierKey,
                  new: Option<tallyboard_core::note::VerifierKey>| {
        Entry::RoleKey(RoleKey {
            election: crate::ELECTION_ID.into(),
            role,
            old: old.clone(),
            new,
            reason: "the observers' witness moved to a new key".into(),
        })
    };
    let observer = m.witnesses()[1].clone();
    let replacement = tallyboard_core::cosignature::CosignerKey::from_seed(
        "observer.tallyboard.example/witness-2",
        [42; 32],
    )
    .expect("key")
    .verifier();
    let rotate = change(Role::Witness, &observer, Some(replacement.clone()));
    let stranger =
        tallyboard_core::note::SignerKey::from_seed("stranger.example/key", [43; 32]).expect("key");
    entries.push((
        "a role-key change signed by the authority alone: refused as a note".into(),
        tallyboard_core::note::sign(&rotate.to_text(), &[&authority]).expect("sign"),
        Some("entry.signature-lines"),
    ));
    entries.push((
        "a role-key change signed by the authority and a key that is no supervisor's".into(),
        tallyboard_core::note::sign(&rotate.to_text(), &[&authority, &stranger]).expect("sign"),
        Some("entry.wrong-signer"),
    ));
    entries.push((
        "the last supervisor key cannot be revoked".into(),
        e.sign_as_authority_and_supervisor(&change(Role::Supervisor, &m.supervisors()[0], None)),
        Some("role.last-supervisor"),
    ));
    entries.push((
        "a supervisor key replaced by the authority's: one key, one role".into(),
        e.sign_as_authority_and_supervisor(&change(
            Role::Supervisor,
            &m.supervisors()[0],
            Some(m.authority().clone()),
        )),
        Some("role.key-reused"),
    ));
    entries.push((
        "the observers' witness key replaced, signed by the authority and a supervisor".into(),
        e.sign_as_authority_and_supervisor(&rotate),
        None,
    ));
    let mut again = change(Role::Witness, &observer, Some(replacement));
    if let Entry::RoleKey(r) = &mut again {
        r.reason = "once more".into();
    }
    entries.push((
        "the replaced witness key is no longer in force".into(),
        e.sign_as_authority_and_supervisor(&again),
        Some("role.key-not-current"),
    ));
}

/// The demo witnesses' cosignatures on the checkpoint of the accepted
/// entries so far (their root and count).
fn witnessed_so_far(
    e: &SyntheticElection,
    entries: &[(String, Vec<u8>, Option<&str>)],
) -> tallyboard_core::entry::WitnessedCheckpoint {
    let accepted: Vec<&[u8]> = entries
        .iter()
        .filter(|(_, _, expect)| expect.is_none())
        .map(|(_, bytes, _)| bytes.as_slice())
        .collect();
    e.witnessed_log(&accepted)
}

fn log(e: &SyntheticElection) -> Value {
    let authority = keys::role_key("authority").expect("role");
    let first = e.signed_tally(1);
    let mut entries: Vec<(String, Vec<u8>, Option<&str>)> = vec![
        (
            "tally before the manifest commitment".into(),
            e.signed_tally(0),
            Some("station.key-not-registered"),
        ),
        ("manifest commitment".into(), e.commitment_entry(), None),
        (
            "registration, station 0".into(),
            e.registration_entry(0),
            None,
        ),
        (
            "registration, station 1".into(),
            e.registration_entry(1),
            None,
        ),
        ("first tally, station 0".into(), e.signed_tally(0), None),
        ("first tally, station 1".into(), first.clone(), None),
        (
            "tally of an unregistered station".into(),
            e.signed_tally(2),
            Some("station.key-not-registered"),
        ),
        (
            "second commitment (to another manifest digest)".into(),
            {
                let m = e.manifest();
                let c = Entry::ManifestCommitment(tallyboard_core::entry::ManifestCommitment {
                    election: crate::ELECTION_ID.into(),
                    kind: m.manifest().election.kind,
                    manifest_sha256: tallyboard_core::Hash::sha256(b"another manifest"),
                    manifest_root: None,
                });
                e.sign_as_authority_and_supervisor(&c)
            },
            Some("manifest.already-committed"),
        ),
        (
            "a tally countersigned by an observer: refused as a note, never logged".into(),
            {
                let observer = keys::station_key("vectors", "observer-at-the-station");
                let mut t = e.tally(1);
                t.figures.counterfoils += 1;
                t.figures.ballots_in_box += 1;
                t.figures.void_not_taken += 1;
                tallyboard_core::note::sign(
                    &Entry::Tally(t).to_text(),
                    &[
                        &keys::station_key(crate::ELECTION_ID, e.station_id(1)),
                        &observer,
                    ],
                )
                .expect("sign")
            },
            Some("entry.signature-lines"),
        ),
    ];
    let mut t = e.tally(1);
    t.votes[0].1 += 1;
    t.votes[1].1 -= 1;
    entries.push((
        "equivocation: another revision 1 for station 1".into(),
        e.sign_as_station(1, &Entry::Tally(t)),
        Some("tally.equivocation"),
    ));
    let mut t = e.tally(1);
    t.figures.valid += 1;
    entries.push((
        "votes-taken != valid + void-taken".into(),
        e.sign_as_station(1, &Entry::Tally(t)),
        Some("tally.arithmetic.votes-taken"),
    ));
    entries.push((
        "revision 2 of station 1".into(),
        e.revised_tally(1, &first),
        None,
    ));
    let mut t = e.tally(1);
    t.revision = 3;
    t.correction = Some(Correction {
        supersedes: leaf_hash(&first),
        reason: "stale".into(),
    });
    entries.push((
        "revision 3 superseding revision 1".into(),
        e.sign_as_station(1, &Entry::Tally(t)),
        Some("tally.supersedes-mismatch"),
    ));
    entries.push((
        "tally signed by another station".into(),
        sign(
            &Entry::Tally(e.tally(0)),
            &keys::station_key(crate::ELECTION_ID, e.station_id(1)),
        ),
        Some("entry.wrong-signer"),
    ));
    let revoke = Entry::StationKeyRevocation(StationKeyRevocation {
        election: crate::ELECTION_ID.into(),
        station: e.station_id(1).into(),
        key: keys::station_key(crate::ELECTION_ID, e.station_id(1))
            .verifier()
            .to_vkey_string(),
        reason: "device lost".into(),
    });
    entries.push((
        "revocation of station 1's key".into(),
        sign(&revoke, &authority),
        None,
    ));
    let mut t = e.tally(1);
    t.contest = "president".into();
    t.revision = 3;
    t.correction = Some(Correction {
        supersedes: leaf_hash(&e.revised_tally(1, &first)),
        reason: "after revocation".into(),
    });
    entries.push((
        "tally with a revoked key".into(),
        e.sign_as_station(1, &Entry::Tally(t)),
        Some("station.key-revoked"),
    ));
    supervision_vectors(e, &mut entries);
    role_key_vectors(e, &mut entries);
    entries.push((
        "duplicate of an accepted entry (idempotent, appends nothing)".into(),
        e.signed_tally(0),
        Some("duplicate"),
    ));
    let mut m = MemoryLog::new();
    for (_, b, expect) in &entries {
        if expect.is_none() {
            m.append_entry(b).expect("append");
        }
    }
    let final_root = m.root().to_hex();
    json!({
        "about": "Replay 'entries' in order against 'manifest' (canonical bytes as a string): 'expect' is 'accepted' (appended at the next index), 'duplicate' (already logged, nothing appended) or the error code of the refusal. After the last entry the log has 'final_size' entries and root 'final_root'.",
        "manifest": text(e.manifest_bytes()),
        "manifest_sha256": e.manifest().digest().to_hex(),
        "entries": entries.iter().map(|(what, bytes, expect)| json!({
            "description": what,
            "signed_note": text(bytes),
            "expect": expect.unwrap_or("accepted"),
        })).collect::<Vec<_>>(),
        "final_size": entries.iter().filter(|x| x.2.is_none()).count(),
        "final_root": final_root,
    })
}

fn merkle(e: &SyntheticElection) -> Value {
    let mut bytes = vec![e.commitment_entry()];
    for i in 0..e.station_count() {
        bytes.push(e.registration_entry(i));
    }
    for i in 0..e.station_count() {
        bytes.push(e.signed_tally(i));
    }
    let mut m = MemoryLog::new();
    let mut roots = Vec::new();
    for b in &bytes {
        m.append_entry(b).expect("append");
        roots.push(m.root().to_hex());
    }
    let size = m.size();
    let hashes = m.hashes().to_vec();
    json!({
        "about": "The log of the synthetic election (seed 42, 6 stations): entries in order; root after each append (roots[i] = root of size i+1); an inclusion proof for every entry at the final size; consistency proofs from every size to the final size; the level-0 partial tile and the entry bundle. Hashes hex, proofs leaf-side first.",
        "entries": bytes.iter().map(|b| text(b)).collect::<Vec<_>>(),
        "roots": roots,
        "inclusion": (0..size).map(|i| json!({"index": i, "size": size, "proof": hexes(&prove_inclusion(i, size, &hashes).expect("proof"))})).collect::<Vec<_>>(),
        "consistency": (1..size).map(|old| json!({"old": old, "new": size, "proof": hexes(&prove_consistency(old, size, &hashes).expect("proof"))})).collect::<Vec<_>>(),
        "tile_0_000": hex::encode(tile::read_tile(&tile::TileId { level: 0, index: 0, width: size as u16 }, size, &hashes).expect("tile")),
        "entry_bundle_000": hex::encode(tile::encode_entry_bundle(bytes.iter().map(Vec::as_slice)).expect("bundle")),
    })
}
