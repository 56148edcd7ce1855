use super::*;
use crate::entry::{Correction, Entry, SignedEntry, StationKeyRevocation};
use crate::testutil::{self, MapView};

struct Log {
    manifest: ValidatedManifest,
    view: MapView,
}

impl Log {
    /// A log with the manifest committed and every fixture station registered.
    fn new() -> Log {
        let manifest = testutil::validated();
        let mut log = Log {
            manifest,
            view: MapView::default(),
        };
        let a = testutil::authority();
        let c = testutil::commitment(&log.manifest);
        log.must_accept(&testutil::sign(&c, &a));
        for s in ["01-001-0001", "01-002-0001", "02-001-0001", "02-001-0002"] {
            log.must_accept(&testutil::sign(&testutil::registration(s), &a));
        }
        log
    }

    fn submit(&mut self, bytes: &[u8]) -> Result<(), ValidationError> {
        let signed = SignedEntry::parse(bytes).map_err(ValidationError::from)?;
        validate(&signed, &self.manifest, &self.view)?;
        self.view.apply(&signed);
        Ok(())
    }

    fn must_accept(&mut self, bytes: &[u8]) {
        if let Err(e) = self.submit(bytes) {
            panic!("refused: {e}");
        }
    }

    fn code(&mut self, bytes: &[u8]) -> ErrorCode {
        let before = self.view.next;
        let code = self.submit(bytes).expect_err("must be refused").code();
        assert_eq!(
            self.view.next, before,
            "a refused entry must change nothing"
        );
        code
    }
}

fn station_signed(t: &crate::entry::Tally) -> Vec<u8> {
    testutil::sign(&Entry::Tally(t.clone()), &testutil::station_key(&t.station))
}

#[test]
fn a_good_tally_is_accepted_once_and_revisions_chain() {
    let mut log = Log::new();
    let t = testutil::tally("01-001-0001");
    let first = station_signed(&t);
    log.must_accept(&first);
    // The same station, same revision, different figures: equivocation, naming the index.
    let mut other = t.clone();
    other.votes = vec![(1, 151), (2, 99), (3, 20)];
    let signed = SignedEntry::parse(&station_signed(&other)).expect("parses");
    let err = validate(&signed, &log.manifest, &log.view).expect_err("equivocation");
    assert_eq!(err.code(), ErrorCode::Equivocation);
    assert_eq!(err.conflicting_index, Some(5));
    assert!(err.message().contains("index 5"), "{}", err.message());
    // A proper revision 2 supersedes the first.
    let mut rev = other.clone();
    rev.revision = 2;
    rev.correction = Some(Correction {
        supersedes: crate::hash::leaf_hash(&first),
        reason: "recount".into(),
    });
    let rev_bytes = station_signed(&rev);
    log.must_accept(&rev_bytes);
    // Revision 3 must supersede revision 2, not 1.
    let mut rev3 = rev.clone();
    rev3.revision = 3;
    rev3.correction = Some(Correction {
        supersedes: crate::hash::leaf_hash(&first),
        reason: "again".into(),
    });
    assert_eq!(
        log.code(&station_signed(&rev3)),
        ErrorCode::RevisionSupersedesWrong
    );
    // Skipping a revision is refused.
    rev3.revision = 4;
    rev3.correction = Some(Correction {
        supersedes: crate::hash::leaf_hash(&rev_bytes),
        reason: "skip".into(),
    });
    assert_eq!(log.code(&station_signed(&rev3)), ErrorCode::RevisionNotNext);
}

#[test]
fn each_rule_has_its_code_and_changes_nothing() {
    let mut log = Log::new();
    let a = testutil::authority();
    let base = testutil::tally("01-001-0001");
    let mutate = |f: &dyn Fn(&mut crate::entry::Tally)| {
        let mut t = base.clone();
        f(&mut t);
        t
    };
    let cases: Vec<(&str, Vec<u8>, ErrorCode)> = vec![
        (
            "signed by another station's key",
            testutil::sign(
                &Entry::Tally(base.clone()),
                &testutil::station_key("02-001-0001"),
            ),
            ErrorCode::WrongSigner,
        ),
        (
            "signed by the authority",
            testutil::sign(&Entry::Tally(base.clone()), &a),
            ErrorCode::WrongSigner,
        ),
        (
            "unknown station",
            station_signed(&mutate(&|t| t.station = "09-009-0009".into())),
            ErrorCode::UnknownStation,
        ),
        (
            "unknown contest",
            station_signed(&mutate(&|t| t.contest = "mayor".into())),
            ErrorCode::UnknownContest,
        ),
        (
            "contest not at station",
            station_signed(&{
                let mut t = testutil::tally("02-001-0001");
                t.contest = "council".into();
                t
            }),
            ErrorCode::ContestNotAtStation,
        ),
        (
            "unknown candidate",
            station_signed(&mutate(&|t| t.votes = vec![(1, 150), (2, 100), (9, 20)])),
            ErrorCode::UnknownCandidate,
        ),
        (
            "wrong election",
            station_signed(&mutate(&|t| t.election = "e2".into())),
            ErrorCode::WrongElection,
        ),
        (
            "ballots in box",
            station_signed(&mutate(&|t| t.ballots_in_box = 291)),
            ErrorCode::TallyBallotsInBox,
        ),
        (
            "votes taken",
            station_signed(&mutate(&|t| t.void_taken = 14)),
            ErrorCode::TallyVotesTaken,
        ),
        (
            "counterfoils",
            station_signed(&mutate(&|t| t.counterfoils = 289)),
            ErrorCode::TallyCounterfoils,
        ),
        (
            "vote sum",
            station_signed(&mutate(&|t| t.votes = vec![(1, 150), (2, 100), (3, 21)])),
            ErrorCode::TallyVoteSum,
        ),
        (
            "first tally with revision 2 as a revision",
            station_signed(&mutate(&|t| {
                t.revision = 2;
                t.correction = Some(Correction {
                    supersedes: crate::Hash::sha256(b"?"),
                    reason: "r".into(),
                });
            })),
            ErrorCode::RevisionNotNext,
        ),
        (
            "second manifest commitment",
            testutil::sign(&testutil::commitment(&log.manifest), &a),
            ErrorCode::ManifestAlreadyCommitted,
        ),
        (
            "re-registration while active",
            testutil::sign(&testutil::registration("01-001-0001"), &a),
            ErrorCode::StationKeyAlreadyRegistered,
        ),
        (
            "registration of an unknown station",
            testutil::sign(&testutil::registration("09-009-0009"), &a),
            ErrorCode::UnknownStation,
        ),
        (
            "registration signed by a station",
            testutil::sign(
                &testutil::registration("01-001-0001"),
                &testutil::station_key("01-001-0001"),
            ),
            ErrorCode::WrongSigner,
        ),
    ];
    for (what, bytes, want) in cases {
        assert_eq!(log.code(&bytes), want, "{what}");
    }
    // A tampered signature from the right key.
    let mut bytes = station_signed(&base);
    let n = bytes.len();
    bytes[n - 10] = if bytes[n - 10] == b'A' { b'B' } else { b'A' };
    assert_eq!(log.code(&bytes), ErrorCode::NoteBadSignature);
    // And the untouched tally still goes in afterwards.
    log.must_accept(&station_signed(&base));
}

#[test]
fn revocation_stops_a_station_until_a_new_key_is_registered() {
    let mut log = Log::new();
    let a = testutil::authority();
    let station = "02-001-0002";
    let old = testutil::station_key(station);
    let revoke = Entry::StationKeyRevocation(StationKeyRevocation {
        election: "e1".into(),
        station: station.into(),
        key: old.verifier().to_vkey_string(),
        reason: "device lost".into(),
    });
    log.must_accept(&testutil::sign(&revoke, &a));
    assert_eq!(
        log.code(&testutil::sign(&revoke, &a)),
        ErrorCode::StationKeyMismatch
    );
    let t = testutil::tally(station);
    assert_eq!(log.code(&station_signed(&t)), ErrorCode::StationKeyRevoked);
    // The revoked key cannot come back.
    assert_eq!(
        log.code(&testutil::sign(&testutil::registration(station), &a)),
        ErrorCode::StationKeyRevoked
    );
    let new = testutil::key("replacement device");
    let reg = Entry::StationKey(crate::entry::StationKey {
        election: "e1".into(),
        station: station.into(),
        key: new.verifier().to_vkey_string(),
    });
    log.must_accept(&testutil::sign(&reg, &a));
    log.must_accept(&testutil::sign(&Entry::Tally(t), &new));
}

#[test]
fn nothing_but_the_commitment_before_the_commitment() {
    let manifest = testutil::validated();
    let view = MapView::default();
    let a = testutil::authority();
    let reg = SignedEntry::parse(&testutil::sign(&testutil::registration("01-001-0001"), &a))
        .expect("parses");
    assert_eq!(
        validate(&reg, &manifest, &view).unwrap_err().code(),
        ErrorCode::ManifestNotCommitted
    );
    // A commitment to another digest is refused.
    let mut c = testutil::commitment(&manifest);
    if let Entry::ManifestCommitment(m) = &mut c {
        m.manifest_sha256 = crate::Hash::sha256(b"another manifest");
    }
    let c = SignedEntry::parse(&testutil::sign(&c, &a)).expect("parses");
    assert_eq!(
        validate(&c, &manifest, &view).unwrap_err().code(),
        ErrorCode::ManifestDigestMismatch
    );
}

#[test]
fn extra_signatures_by_observers_are_allowed() {
    let mut log = Log::new();
    let t = testutil::tally("01-002-0001");
    let observer = testutil::key("observer at the station");
    let bytes = crate::note::sign(
        &Entry::Tally(t.clone()).to_text(),
        &[&testutil::station_key(&t.station), &observer],
    )
    .expect("sign");
    log.must_accept(&bytes);
}
