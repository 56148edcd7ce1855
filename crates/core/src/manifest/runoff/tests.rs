//! The derivation of a second round's manifest, and each of its refusals.

use super::*;
use crate::entry::announcement::{Statement, WitnessedCheckpoint};
use crate::entry::BallotFigures;
use crate::testutil::{key, validated};
use crate::Hash;

/// The final announcement of the fixture's presidential contest, sending
/// candidates 1 and 2 to a runoff, logged at index 20 over size 19.
fn final_runoff() -> Announcement {
    Announcement {
        status: AnnouncementStatus::Final,
        statement: Statement {
            election: "e1".into(),
            contest: "president".into(),
            size: 19,
            stations_counted: 4,
            stations_expected: 4,
            stations_annulled: 0,
            figures: BallotFigures {
                counterfoils: 1200,
                ballots_in_box: 1160,
                votes_taken: 1140,
                void_taken: 60,
                void_not_taken: 20,
                valid: 1080,
            },
            votes: vec![(1, 500), (2, 450), (3, 130)],
            outcome: Status::Runoff,
            elected: vec![],
            runoff: vec![2, 1],
            reserves: vec![],
            lot_needed: vec![],
        },
        replaces: None,
        witnessed: WitnessedCheckpoint {
            root: Hash::sha256(b"root at 19"),
            cosignatures: vec![],
        },
    }
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: key("log").name().into(),
        size: 22,
        root: Hash::sha256(b"root at 22"),
        extensions: vec![],
    }
}

fn params() -> RunoffParams {
    RunoffParams {
        election_id: "e1-r2".into(),
        date: "2025-07-04".into(),
        log_key: key("log round 2").verifier(),
    }
}

fn derive(
    a: &Announcement,
    index: u64,
    c: &Checkpoint,
    p: &RunoffParams,
) -> Result<ValidatedManifest, RunoffError> {
    derive_runoff_manifest(&validated(), a, index, c, p)
}

fn code(r: Result<ValidatedManifest, RunoffError>) -> &'static str {
    r.err().map_or("derived", |e| e.code().as_str())
}

#[test]
fn derives_the_runoff_candidates_on_a_new_log() {
    let first = validated();
    let m = derive(&final_runoff(), 20, &checkpoint(), &params()).expect("derived");
    let m = m.manifest();
    assert_eq!(m.contests.len(), 1);
    let c = &m.contests[0];
    assert_eq!(c.id, "president");
    assert_eq!(c.round, Some(2));
    assert_eq!((c.seats, c.threshold, c.runoff_factor), (1, None, None));
    // The first manifest's order, not the decision's.
    let codes: Vec<u32> = c.candidates.iter().map(|k| k.code).collect();
    assert_eq!(codes, vec![1, 2]);
    assert_eq!(c.candidates[0], first.manifest().contests[0].candidates[0]);
    // Every station of the contest, reporting only it; the same regions.
    assert_eq!(m.stations.len(), 4);
    assert!(m
        .stations
        .iter()
        .all(|s| s.contests == vec!["president".to_owned()]));
    assert_eq!(m.counties, first.manifest().counties);
    assert_eq!(m.provinces, first.manifest().provinces);
    // Its own log, the same roles and witnesses.
    assert_eq!(m.log.origin, key("log round 2").name());
    assert_eq!(m.keys.authority, first.manifest().keys.authority);
    assert_eq!(m.keys.witnesses, first.manifest().keys.witnesses);
    assert!(m
        .witness_policy
        .contains(&key("log round 2").verifier().to_vkey_string()));
    assert!(!m.witness_policy.contains(&first.manifest().keys.log));
    assert_eq!(m.election.id, "e1-r2");
    assert_eq!(m.election.name_en, "Test election, second round");
    assert_eq!(
        first_round_names(m),
        Some(("انتخابات آزمایشی", "Test election"))
    );
    assert_eq!(first_round_names(first.manifest()), None);
    let r = m.previous_round.as_ref().expect("reference");
    assert_eq!(r.announcement, 20);
    assert_eq!(r.checkpoint.size, 22);
    assert_eq!(r.checkpoint.root, Hash::sha256(b"root at 22").to_base64());
    assert_eq!(r.origin, first.manifest().log.origin);
    assert_eq!(r.election, "e1");
    assert_eq!(r.manifest_sha256, first.digest().to_hex());
}

#[test]
fn the_derived_manifest_round_trips_its_canonical_bytes() {
    let m = derive(&final_runoff(), 20, &checkpoint(), &params()).expect("derived");
    let again = ValidatedManifest::from_bytes(&m.manifest().to_canonical_bytes()).expect("parses");
    assert_eq!(again.digest(), m.digest());
    assert!(String::from_utf8_lossy(&m.manifest().to_canonical_bytes())
        .contains("\"previous_round\":{\"announcement\":20,"));
}

#[test]
fn refuses_a_partial_announcement() {
    let mut a = final_runoff();
    a.status = AnnouncementStatus::Partial;
    assert_eq!(
        code(derive(&a, 20, &checkpoint(), &params())),
        "runoff.not-final"
    );
}

#[test]
fn refuses_an_outcome_without_a_runoff() {
    let mut a = final_runoff();
    a.statement.outcome = Status::Complete;
    a.statement.elected = vec![1];
    a.statement.runoff = vec![];
    assert_eq!(
        code(derive(&a, 20, &checkpoint(), &params())),
        "runoff.no-runoff"
    );
}

#[test]
fn refuses_another_election_contest_or_candidate() {
    let mut a = final_runoff();
    a.statement.election = "e2".into();
    assert_eq!(
        code(derive(&a, 20, &checkpoint(), &params())),
        "runoff.contest-mismatch"
    );
    let mut a = final_runoff();
    a.statement.contest = "senate".into();
    assert_eq!(
        code(derive(&a, 20, &checkpoint(), &params())),
        "runoff.contest-mismatch"
    );
    let mut a = final_runoff();
    a.statement.runoff = vec![1, 9];
    assert_eq!(
        code(derive(&a, 20, &checkpoint(), &params())),
        "runoff.contest-mismatch"
    );
}

#[test]
fn refuses_a_checkpoint_of_another_log_or_that_misses_the_announcement() {
    let mut c = checkpoint();
    c.origin = "elsewhere.test".into();
    assert_eq!(
        code(derive(&final_runoff(), 20, &c, &params())),
        "runoff.checkpoint-mismatch"
    );
    // The announcement's index is not below the checkpoint's size.
    assert_eq!(
        code(derive(&final_runoff(), 22, &checkpoint(), &params())),
        "runoff.checkpoint-mismatch"
    );
    // An index below the size the announcement rests on cannot be it.
    assert_eq!(
        code(derive(&final_runoff(), 10, &checkpoint(), &params())),
        "runoff.checkpoint-mismatch"
    );
}

#[test]
fn refuses_the_first_rounds_own_parameters() {
    let cp = checkpoint();
    let a = final_runoff();
    let mut p = params();
    p.election_id = "e1".into();
    assert_eq!(code(derive(&a, 20, &cp, &p)), "runoff.bad-parameters");
    let mut p = params();
    p.election_id = "not an id".into();
    assert_eq!(code(derive(&a, 20, &cp, &p)), "runoff.bad-parameters");
    let mut p = params();
    p.date = "2025-06-27".into();
    assert_eq!(code(derive(&a, 20, &cp, &p)), "runoff.bad-parameters");
    let mut p = params();
    p.date = "next friday".into();
    assert_eq!(code(derive(&a, 20, &cp, &p)), "runoff.bad-parameters");
    let mut p = params();
    p.log_key = key("log").verifier();
    assert_eq!(code(derive(&a, 20, &cp, &p)), "runoff.bad-parameters");
    // A log key that is also a role's: the derived manifest is invalid.
    let mut p = params();
    p.log_key = key("authority").verifier();
    let e = derive(&a, 20, &cp, &p).expect_err("refused");
    assert_eq!(e.code().as_str(), "runoff.bad-parameters");
    assert!(e.message().contains("manifest.invalid"), "{e}");
}

#[test]
fn refuses_a_runoff_of_a_second_round() {
    let second = derive(&final_runoff(), 20, &checkpoint(), &params()).expect("derived");
    let mut a = final_runoff();
    a.statement.election = "e1-r2".into();
    let cp = Checkpoint {
        origin: key("log round 2").name().into(),
        ..checkpoint()
    };
    let mut p = params();
    p.election_id = "e1-r3".into();
    p.log_key = key("log round 3").verifier();
    let e = derive_runoff_manifest(&second, &a, 20, &cp, &p).expect_err("refused");
    assert_eq!(e.code().as_str(), "runoff.contest-mismatch");
}

#[test]
fn check_accepts_the_derivation_and_names_what_differs() {
    let first = validated();
    let (a, cp) = (final_runoff(), checkpoint());
    let second = derive(&a, 20, &cp, &params()).expect("derived");
    check_runoff_manifest(&second, &first, &a, &cp).expect("it is the derivation");

    // A candidate slipped in: still a valid manifest, not the derivation.
    let mut m = second.manifest().clone();
    let extra = first.manifest().contests[0].candidates[2].clone();
    m.contests[0].candidates.push(extra);
    let forged = ValidatedManifest::from_manifest(m).expect("valid");
    let e = check_runoff_manifest(&forged, &first, &a, &cp).expect_err("refused");
    assert_eq!(e.code().as_str(), "runoff.not-derived");
    assert!(e.message().starts_with("contests"), "{e}");

    // A station dropped.
    let mut m = second.manifest().clone();
    m.stations.pop();
    let forged = ValidatedManifest::from_manifest(m).expect("valid");
    let e = check_runoff_manifest(&forged, &first, &a, &cp).expect_err("refused");
    assert_eq!(
        e.message(),
        "stations is not what the first round's final announcement gives"
    );

    // Another checkpoint than the one named.
    let other = Checkpoint {
        size: 23,
        ..cp.clone()
    };
    let e = check_runoff_manifest(&second, &first, &a, &other).expect_err("refused");
    assert_eq!(e.code().as_str(), "runoff.checkpoint-mismatch");

    // A first round without a reference.
    let e = check_runoff_manifest(&first, &first, &a, &cp).expect_err("refused");
    assert_eq!(e.code().as_str(), "runoff.no-reference");
}

#[test]
fn manifest_rule_10_refuses_a_malformed_reference() {
    let second = derive(&final_runoff(), 20, &checkpoint(), &params()).expect("derived");
    let bad = |f: &dyn Fn(&mut Manifest)| {
        let mut m = second.manifest().clone();
        f(&mut m);
        ValidatedManifest::from_manifest(m)
            .expect_err("refused")
            .code()
            .as_str()
    };
    fn r(m: &mut Manifest) -> &mut PreviousRound {
        m.previous_round.as_mut().expect("reference")
    }
    assert_eq!(
        bad(&|m| r(m).origin = m.log.origin.clone()),
        "manifest.invalid"
    );
    assert_eq!(
        bad(&|m| r(m).election = m.election.id.clone()),
        "manifest.invalid"
    );
    assert_eq!(
        bad(&|m| r(m).manifest_sha256 = "AB".repeat(32)),
        "manifest.invalid"
    );
    assert_eq!(
        bad(&|m| r(m).checkpoint.root = "root".into()),
        "manifest.invalid"
    );
    assert_eq!(bad(&|m| r(m).announcement = 22), "manifest.invalid");
    assert_eq!(bad(&|m| m.contests[0].round = Some(1)), "manifest.invalid");
}
