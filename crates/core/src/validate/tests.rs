use super::*;
use crate::entry::{Correction, Entry, SignedEntry, StationKeyRevocation};
use crate::state::LogState;
use crate::testutil;

struct Log {
    state: LogState,
    /// Every accepted entry, for the reference recomputation
    /// (`announcement::expected`) the tests compare the state with.
    entries: Vec<Entry>,
    /// Every accepted entry's leaf hash.
    leaves: Vec<Hash>,
}

impl Log {
    /// An empty log of `manifest`.
    fn with(manifest: ValidatedManifest) -> Log {
        Log {
            state: LogState::new(std::sync::Arc::new(manifest)),
            entries: Vec::new(),
            leaves: Vec::new(),
        }
    }

    fn manifest(&self) -> &ValidatedManifest {
        self.state.manifest()
    }

    /// A log with the manifest committed and every fixture station registered.
    fn new() -> Log {
        let mut log = Log::with(testutil::validated());
        let a = testutil::authority();
        log.must_accept(&testutil::signed_commitment(log.manifest()));
        for s in ["01-001-0001", "01-002-0001", "02-001-0001", "02-001-0002"] {
            log.must_accept(&testutil::sign(&testutil::registration(s), &a));
        }
        log
    }

    fn submit(&mut self, bytes: &[u8]) -> Result<(), ValidationError> {
        let signed = SignedEntry::parse(bytes).map_err(ValidationError::from)?;
        self.state.validate(
            &signed,
            &testutil::Entries {
                entries: &self.entries,
                leaves: &self.leaves,
            },
        )?;
        let leaf = signed.leaf_hash();
        self.state
            .apply(self.state.size(), leaf, &signed.entry)
            .expect("an accepted entry applies");
        self.entries.push(signed.entry);
        self.leaves.push(leaf);
        Ok(())
    }

    fn must_accept(&mut self, bytes: &[u8]) {
        if let Err(e) = self.submit(bytes) {
            panic!("refused: {e}");
        }
    }

    fn code(&mut self, bytes: &[u8]) -> ErrorCode {
        let before = self.state.size();
        let code = self.submit(bytes).expect_err("must be refused").code();
        assert_eq!(
            self.state.size(),
            before,
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
    let err = log
        .state
        .validate(
            &signed,
            &testutil::Entries {
                entries: &log.entries,
                leaves: &log.leaves,
            },
        )
        .expect_err("equivocation");
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
            station_signed(&mutate(&|t| t.figures.ballots_in_box = 291)),
            ErrorCode::TallyBallotsInBox,
        ),
        (
            "votes taken",
            station_signed(&mutate(&|t| t.figures.void_taken = 14)),
            ErrorCode::TallyVotesTaken,
        ),
        (
            "counterfoils",
            station_signed(&mutate(&|t| t.figures.counterfoils = 289)),
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
            testutil::signed_commitment(log.manifest()),
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

/// Register A, revoke A, register B, revoke B, register A: the last is
/// refused, since a revoked key never returns (spec/validation.md §1.8),
/// not only the last one revoked.
#[test]
fn a_key_revoked_before_the_last_one_never_returns_either() {
    let mut log = Log::new();
    let a = testutil::authority();
    let station = "02-001-0002";
    let key_a = testutil::station_key(station).verifier().to_vkey_string();
    let key_b = testutil::key("second device").verifier().to_vkey_string();
    let revoke = |key: &str| {
        testutil::sign(
            &Entry::StationKeyRevocation(StationKeyRevocation {
                election: "e1".into(),
                station: station.into(),
                key: key.into(),
                reason: "device lost".into(),
            }),
            &a,
        )
    };
    let register = |key: &str| {
        testutil::sign(
            &Entry::StationKey(crate::entry::StationKey {
                election: "e1".into(),
                station: station.into(),
                key: key.into(),
            }),
            &a,
        )
    };
    log.must_accept(&revoke(&key_a));
    log.must_accept(&register(&key_b));
    log.must_accept(&revoke(&key_b));
    assert_eq!(log.code(&register(&key_a)), ErrorCode::StationKeyRevoked);
    assert_eq!(log.code(&register(&key_b)), ErrorCode::StationKeyRevoked);
}

#[test]
fn nothing_but_the_commitment_before_the_commitment() {
    let manifest = testutil::validated();
    let view = LogState::new(std::sync::Arc::new(manifest.clone()));
    let a = testutil::authority();
    let reg = SignedEntry::parse(&testutil::sign(&testutil::registration("01-001-0001"), &a))
        .expect("parses");
    assert_eq!(
        view.validate(&reg, &crate::state::NoLog)
            .unwrap_err()
            .code(),
        ErrorCode::ManifestNotCommitted
    );
    // A commitment to another digest is refused.
    let mut c = testutil::commitment(&manifest);
    if let Entry::ManifestCommitment(m) = &mut c {
        m.manifest_sha256 = crate::Hash::sha256(b"another manifest");
    }
    let c =
        SignedEntry::parse(&testutil::sign_by(&c, &[&a, &testutil::supervisor()])).expect("parses");
    assert_eq!(
        view.validate(&c, &crate::state::NoLog).unwrap_err().code(),
        ErrorCode::ManifestDigestMismatch
    );
    // A manifest root (spec/manifest.md §5) must be this manifest's.
    let with_root = |root: crate::Hash| {
        let mut c = testutil::commitment(&manifest);
        if let Entry::ManifestCommitment(m) = &mut c {
            m.manifest_root = Some(root);
        }
        SignedEntry::parse(&testutil::sign_by(&c, &[&a, &testutil::supervisor()])).expect("parses")
    };
    let ours = crate::manifest::slice::ManifestTree::new(manifest.manifest()).root();
    assert!(view
        .validate(&with_root(ours), &crate::state::NoLog)
        .is_ok());
    assert_eq!(
        view.validate(&with_root(crate::Hash::sha256(b"x")), &crate::state::NoLog)
            .unwrap_err()
            .code(),
        ErrorCode::ManifestDigestMismatch
    );
}

/// Only the required signature: a tally with an extra line (an observer's,
/// or a relay's junk) is refused before any lookup, so it never reaches
/// the log and cannot lock the station's own tally out as an equivocation.
#[test]
fn a_note_carries_only_the_required_signature() {
    let mut log = Log::new();
    let t = testutil::tally("01-002-0001");
    let station = testutil::station_key(&t.station);
    let observer = testutil::key("observer at the station");
    let text = Entry::Tally(t.clone()).to_text();
    let extra = crate::note::sign(&text, &[&station, &observer]).expect("sign");
    assert_eq!(log.code(&extra), ErrorCode::EntrySignatureLines);
    // A hundred copies of the station's own line: refused the same way,
    // before a single verification.
    let one = crate::note::sign(&text, &[&station]).expect("sign");
    let note = crate::note::Note::parse(&one, 65_535).expect("note");
    let many = crate::note::Note {
        text: note.text.clone(),
        signatures: vec![note.signatures[0].clone(); 100],
    }
    .to_bytes();
    assert_eq!(log.code(&many), ErrorCode::EntrySignatureLines);
    // The station's own tally still goes in.
    log.must_accept(&one);
    // Only an observer's line: the right count, the wrong signer.
    let other = crate::note::sign(&text, &[&observer]).expect("sign");
    assert_eq!(log.code(&other), ErrorCode::WrongSigner);
}

// ------------------------------------------------------------ supervision

mod supervision {
    use super::*;
    use crate::entry::announcement::{self, Statement};
    use crate::entry::{
        Announcement, AnnouncementStatus, Annulment, Approval, ContestApproval, Lot,
    };
    use crate::rules::Status;

    fn sup(e: &Entry) -> Vec<u8> {
        testutil::sign(e, &testutil::supervisor())
    }

    fn auth(e: &Entry) -> Vec<u8> {
        testutil::sign(e, &testutil::authority())
    }

    fn approval(station: &str, contest: &str, index: u64, leaf: crate::Hash) -> Entry {
        Entry::Approval(Approval {
            election: "e1".into(),
            station: station.into(),
            contest: contest.into(),
            index,
            leaf_sha256: leaf,
        })
    }

    fn annulment(station: &str, contest: &str) -> Entry {
        Entry::Annulment(Annulment {
            election: "e1".into(),
            station: station.into(),
            contest: contest.into(),
            reason_code: "ballot-stuffing".into(),
            reason: "more ballots than voters seen by observers".into(),
        })
    }

    fn lot(among: &[u32], order: &[u32]) -> Entry {
        Entry::LotDraw(Lot {
            election: "e1".into(),
            contest: "president".into(),
            among: among.to_vec(),
            order: order.to_vec(),
        })
    }

    fn statement(log: &Log, contest: &str, size: u64) -> Statement {
        let entries = log.entries.iter().enumerate().map(|(i, e)| (i as u64, e));
        announcement::expected(log.manifest(), entries, contest, size).expect("recomputes")
    }

    /// An announcement of `s`, resting on the fixture witness's
    /// cosignature of the log's checkpoint at `s.size`.
    fn announce(log: &Log, s: Statement, status: AnnouncementStatus) -> Entry {
        // A size beyond the log (a test of that refusal) gets any root.
        let n = usize::try_from(s.size).expect("size").min(log.leaves.len());
        let mut tree = crate::merkle::MemoryLog::new();
        for l in &log.leaves[..n] {
            tree.append(*l).expect("append");
        }
        Entry::Announcement(Announcement {
            status,
            witnessed: testutil::witnessed(s.size, tree.root()),
            replaces: None,
            statement: s,
        })
    }

    fn contest_approval(contest: &str, size: u64, h: crate::Hash) -> Entry {
        Entry::ContestApproval(ContestApproval {
            election: "e1".into(),
            contest: contest.into(),
            size,
            results_sha256: h,
        })
    }

    /// Log::new plus two president tallies (indexes 5 and 6).
    fn with_tallies() -> (Log, Vec<u8>, Vec<u8>) {
        let mut log = Log::new();
        let a = station_signed(&testutil::tally("01-001-0001"));
        let mut t2 = testutil::tally("01-002-0001");
        t2.votes = vec![(1, 100), (2, 150), (3, 20)];
        let b = station_signed(&t2);
        log.must_accept(&a);
        log.must_accept(&b);
        (log, a, b)
    }

    #[test]
    fn new_entries_round_trip_through_their_one_spelling() {
        let (log, a, _) = with_tallies();
        let entries = vec![
            approval("01-001-0001", "president", 5, crate::hash::leaf_hash(&a)),
            annulment("01-001-0001", "president"),
            contest_approval("president", 7, crate::Hash::sha256(b"x")),
            lot(&[2, 3], &[3, 2]),
            announce(
                &log,
                statement(&log, "president", 7),
                AnnouncementStatus::Final,
            ),
        ];
        for e in entries {
            let text = e.to_text();
            assert_eq!(Entry::parse_text(&text).expect(&text), e, "{text}");
        }
    }

    #[test]
    fn lot_and_announcement_grammar_has_one_spelling() {
        let cases = [
            (
                "tallyboard/lot-draw/v1\nelection e1\ncontest president\namong 3 2\norder 2 3\n",
                ErrorCode::EntryNonCanonical,
            ),
            (
                "tallyboard/lot-draw/v1\nelection e1\ncontest president\namong 2 3\norder 2 4\n",
                ErrorCode::EntryBadValue,
            ),
            (
                "tallyboard/lot-draw/v1\nelection e1\ncontest president\namong 2\norder 2\n",
                ErrorCode::EntryBadValue,
            ),
            (
                "tallyboard/lot-draw/v1\nelection e1\ncontest president\namong 2  3\norder 2 3\n",
                ErrorCode::EntryNonCanonical,
            ),
            (
                "tallyboard/approval/v1\nelection e1\nstation s\ncontest c\nindex 05\nleaf-sha256 00\n",
                ErrorCode::EntryNonCanonical,
            ),
            (
                "tallyboard/annulment/v1\nelection e1\nstation s\ncontest c\nreason-code Bad Code\nreason r\n",
                ErrorCode::EntryBadValue,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(Entry::parse_text(text).unwrap_err().code(), want, "{text}");
        }
        // An announcement with an unknown status, and with vote lines out of order.
        let (log, _, _) = with_tallies();
        let good = announce(
            &log,
            statement(&log, "president", 7),
            AnnouncementStatus::Partial,
        )
        .to_text();
        let bad = good.replace("status partial", "status provisional");
        assert_eq!(
            Entry::parse_text(&bad).unwrap_err().code(),
            ErrorCode::EntryBadValue
        );
        let bad = good.replace("vote 1 250\nvote 2 250\n", "vote 2 250\nvote 1 250\n");
        assert_ne!(bad, good);
        assert_eq!(
            Entry::parse_text(&bad).unwrap_err().code(),
            ErrorCode::EntryVotesOrder
        );
    }

    #[test]
    fn supervisor_entries_need_a_supervisor_key() {
        let (mut log, a, _) = with_tallies();
        let e = approval("01-001-0001", "president", 5, crate::hash::leaf_hash(&a));
        assert_eq!(log.code(&auth(&e)), ErrorCode::WrongSigner);
        assert_eq!(
            log.code(&testutil::sign(&e, &testutil::station_key("01-001-0001"))),
            ErrorCode::WrongSigner
        );
        assert_eq!(
            log.code(&auth(&annulment("01-001-0001", "president"))),
            ErrorCode::WrongSigner
        );
        // An entry signed by a key with the supervisor's name but another secret.
        let impostor = crate::note::SignerKey::from_seed(
            testutil::supervisor().name(),
            crate::Hash::sha256(b"impostor").0,
        )
        .expect("key");
        assert_eq!(
            log.code(&testutil::sign(&e, &impostor)),
            ErrorCode::WrongSigner
        );
        // Lots and announcements are the authority's, not a supervisor's.
        assert_eq!(
            log.code(&sup(&lot(&[2, 3], &[3, 2]))),
            ErrorCode::WrongSigner
        );
        log.must_accept(&sup(&e));
    }

    #[test]
    fn any_supervisor_of_the_manifest_may_sign() {
        let mut m = testutil::manifest();
        let second = testutil::key("second supervisor");
        m.keys.supervisors.push(second.verifier().to_vkey_string());
        let manifest = ValidatedManifest::from_manifest(m).expect("valid");
        let mut log = Log::with(manifest);
        log.must_accept(&testutil::signed_commitment(log.manifest()));
        log.must_accept(&testutil::sign(
            &annulment("01-001-0001", "president"),
            &second,
        ));
        log.must_accept(&sup(&annulment("01-002-0001", "president")));
        assert_eq!(log.state.supervision().annulled_count(), 2);
    }

    #[test]
    fn approval_rules_each_have_their_code() {
        let (mut log, a, b) = with_tallies();
        let la = crate::hash::leaf_hash(&a);
        let lb = crate::hash::leaf_hash(&b);
        let cases: Vec<(&str, Entry, ErrorCode)> = vec![
            (
                "index beyond the log",
                approval("01-001-0001", "president", 7, la),
                ErrorCode::SupervisionIndexOutOfRange,
            ),
            (
                "leaf of another entry",
                approval("01-001-0001", "president", 5, lb),
                ErrorCode::SupervisionLeafMismatch,
            ),
            (
                "another station's tally",
                approval("01-001-0001", "president", 6, lb),
                ErrorCode::SupervisionNotATally,
            ),
            (
                "a key registration",
                approval("01-001-0001", "president", 1, log.leaves[1]),
                ErrorCode::SupervisionNotATally,
            ),
            (
                "unknown station",
                approval("09-009-0009", "president", 5, la),
                ErrorCode::UnknownStation,
            ),
            (
                "unknown contest",
                approval("01-001-0001", "mayor", 5, la),
                ErrorCode::UnknownContest,
            ),
            (
                "contest not at station",
                approval("02-001-0001", "council", 5, la),
                ErrorCode::ContestNotAtStation,
            ),
            (
                "wrong election",
                {
                    let mut e = approval("01-001-0001", "president", 5, la);
                    if let Entry::Approval(x) = &mut e {
                        x.election = "e2".into();
                    }
                    e
                },
                ErrorCode::WrongElection,
            ),
        ];
        for (what, e, want) in cases {
            assert_eq!(log.code(&sup(&e)), want, "{what}");
        }
        let ok = approval("01-001-0001", "president", 5, la);
        log.must_accept(&sup(&ok));
        // The same approval again is refused as already approved (the board
        // would answer these very bytes as a duplicate before the rules).
        let mut again = ok.clone();
        if let Entry::Approval(x) = &mut again {
            x.station = "01-001-0001".into();
        }
        let bytes = sup(&again);
        assert_eq!(log.code(&bytes), ErrorCode::SupervisionAlreadyApproved);
        // After a revision the old tally can no longer be approved.
        let mut rev = testutil::tally("01-001-0001");
        rev.revision = 2;
        rev.votes = vec![(1, 149), (2, 101), (3, 20)];
        rev.correction = Some(Correction {
            supersedes: la,
            reason: "recount".into(),
        });
        let rb = station_signed(&rev);
        log.must_accept(&rb);
        let mut b2 = testutil::tally("01-002-0001");
        b2.revision = 2;
        b2.correction = Some(Correction {
            supersedes: lb,
            reason: "recount".into(),
        });
        log.must_accept(&station_signed(&b2));
        assert_eq!(
            log.code(&sup(&approval("01-002-0001", "president", 6, lb))),
            ErrorCode::SupervisionNotLatest
        );
        // The revision itself can be approved.
        log.must_accept(&sup(&approval(
            "01-001-0001",
            "president",
            8,
            crate::hash::leaf_hash(&rb),
        )));
    }

    #[test]
    fn annulled_boxes_cannot_be_annulled_again_nor_approved() {
        let (mut log, a, _) = with_tallies();
        let la = crate::hash::leaf_hash(&a);
        // An annulment may come before the box's first tally.
        log.must_accept(&sup(&annulment("02-001-0001", "president")));
        log.must_accept(&sup(&annulment("01-001-0001", "president")));
        let err = {
            let bytes = sup(&annulment("01-001-0001", "president"));
            let signed = SignedEntry::parse(&bytes).expect("parses");
            log.state
                .validate(
                    &signed,
                    &testutil::Entries {
                        entries: &log.entries,
                        leaves: &log.leaves,
                    },
                )
                .unwrap_err()
        };
        assert_eq!(err.code(), ErrorCode::SupervisionAlreadyAnnulled);
        assert_eq!(err.conflicting_index, Some(8));
        assert_eq!(
            log.code(&sup(&approval("01-001-0001", "president", 5, la))),
            ErrorCode::SupervisionBoxAnnulled
        );
        assert_eq!(
            log.code(&sup(&annulment("01-001-0001", "council-x"))),
            ErrorCode::UnknownContest
        );
        // The annulled box counts zero in the standing figures from then on.
        let s = statement(&log, "president", 9);
        assert_eq!((s.stations_counted, s.stations_annulled), (1, 2));
        assert_eq!(s.figures.valid, 270);
        assert_eq!(s.votes, vec![(1, 100), (2, 150), (3, 20)]);
        let before = statement(&log, "president", 7);
        assert_eq!((before.stations_counted, before.figures.valid), (2, 540));
    }

    #[test]
    fn lots_are_checked_and_drawn_once() {
        let (mut log, _, _) = with_tallies();
        assert_eq!(
            log.code(&auth(&lot(&[2, 9], &[9, 2]))),
            ErrorCode::UnknownCandidate
        );
        let mut other = lot(&[2, 3], &[3, 2]);
        if let Entry::LotDraw(l) = &mut other {
            l.contest = "mayor".into();
        }
        assert_eq!(log.code(&auth(&other)), ErrorCode::UnknownContest);
        log.must_accept(&auth(&lot(&[2, 3], &[3, 2])));
        assert_eq!(
            log.code(&auth(&lot(&[2, 3], &[2, 3]))),
            ErrorCode::LotAlreadyDrawn
        );
        // A different tied set is another lot.
        log.must_accept(&auth(&lot(&[1, 2, 3], &[2, 1, 3])));
    }

    #[test]
    fn contest_approval_binds_the_recomputed_results() {
        let (mut log, _, _) = with_tallies();
        let good = statement(&log, "president", 7).sha256();
        assert_eq!(
            log.code(&sup(&contest_approval(
                "president",
                7,
                crate::Hash::sha256(b"?")
            ))),
            ErrorCode::SupervisionResultsMismatch
        );
        assert_eq!(
            log.code(&sup(&contest_approval("president", 8, good))),
            ErrorCode::ResultsSizeOutOfRange
        );
        assert_eq!(
            log.code(&sup(&contest_approval("president", 0, good))),
            ErrorCode::ResultsSizeOutOfRange
        );
        assert_eq!(
            log.code(&sup(&contest_approval("mayor", 7, good))),
            ErrorCode::UnknownContest
        );
        // Results at size 6 differ from those at 7.
        assert_eq!(
            log.code(&sup(&contest_approval("president", 6, good))),
            ErrorCode::SupervisionResultsMismatch
        );
        assert_eq!(
            log.code(&auth(&contest_approval("president", 7, good))),
            ErrorCode::WrongSigner
        );
        log.must_accept(&sup(&contest_approval("president", 7, good)));
        let bytes = sup(&contest_approval("president", 7, good));
        assert_eq!(log.code(&bytes), ErrorCode::SupervisionAlreadyApproved);
    }

    #[test]
    fn the_statement_text_is_byte_exact() {
        let (log, _, _) = with_tallies();
        let s = statement(&log, "president", 7);
        assert_eq!(
            s.to_text(),
            "tallyboard/results-statement/v1\nelection e1\ncontest president\nsize 7\n\
             stations-counted 2\nstations-expected 4\nstations-annulled 0\n\
             counterfoils 600\nballots-in-box 580\nvotes-taken 570\nvoid-taken 30\n\
             void-not-taken 10\nvalid 540\nvote 1 250\nvote 2 250\nvote 3 40\n\
             outcome runoff\nrunoff 1\nrunoff 2\n"
        );
        assert_eq!(s.sha256(), crate::Hash::sha256(s.to_text().as_bytes()));
        // The announcement is the statement with a status line after size,
        // then the root and cosignatures of the checkpoint it rests on.
        let a = announce(&log, s.clone(), AnnouncementStatus::Final).to_text();
        let statement_part: String = a
            .lines()
            .filter(|l| !l.starts_with("root ") && !l.starts_with("cosignature "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            statement_part
                .replacen(
                    "tallyboard/announcement/v1",
                    "tallyboard/results-statement/v1",
                    1
                )
                .replacen("status final\n", "", 1),
            s.to_text()
        );
        assert!(a.contains("\nroot ") && a.ends_with('\n'));
    }

    #[test]
    fn announcements_must_equal_the_recomputation() {
        let (mut log, _, _) = with_tallies();
        let s = statement(&log, "president", 7);
        // Every figure off by one is refused, naming the figure.
        type Mutation = fn(&mut Statement);
        let mutations: Vec<(&str, Mutation)> = vec![
            ("valid", |s| s.figures.valid += 1),
            ("void-taken", |s| s.figures.void_taken -= 1),
            ("counterfoils", |s| s.figures.counterfoils += 1),
            ("ballots-in-box", |s| s.figures.ballots_in_box += 1),
            ("votes-taken", |s| s.figures.votes_taken += 1),
            ("void-not-taken", |s| s.figures.void_not_taken += 1),
            ("stations-counted", |s| s.stations_counted = 3),
            ("stations-expected", |s| s.stations_expected = 5),
            ("stations-annulled", |s| s.stations_annulled = 1),
            ("vote 2", |s| s.votes[1].1 += 1),
            ("vote 4", |s| s.votes.push((4, 1))),
            ("outcome", |s| s.outcome = Status::Complete),
            ("elected", |s| s.elected = vec![1]),
            ("runoff", |s| s.runoff = vec![2, 1]),
        ];
        for (figure, f) in mutations {
            let mut bad = s.clone();
            f(&mut bad);
            let bytes = auth(&announce(&log, bad, AnnouncementStatus::Partial));
            let signed = SignedEntry::parse(&bytes).expect("parses");
            let err = log
                .state
                .validate(
                    &signed,
                    &testutil::Entries {
                        entries: &log.entries,
                        leaves: &log.leaves,
                    },
                )
                .unwrap_err();
            assert_eq!(err.code(), ErrorCode::AnnouncementMismatch, "{figure}");
            assert!(
                err.message().contains(&format!("first: {figure}:")),
                "{figure}: {}",
                err.message()
            );
        }
        // Size beyond the log, and an unknown contest.
        let mut bad = s.clone();
        bad.size = 8;
        assert_eq!(
            log.code(&auth(&announce(&log, bad, AnnouncementStatus::Partial))),
            ErrorCode::ResultsSizeOutOfRange
        );
        let mut bad = s.clone();
        bad.contest = "mayor".into();
        assert_eq!(
            log.code(&auth(&announce(&log, bad, AnnouncementStatus::Partial))),
            ErrorCode::UnknownContest
        );
        // Signed by a supervisor instead of the authority.
        assert_eq!(
            log.code(&sup(&announce(
                &log,
                s.clone(),
                AnnouncementStatus::Partial
            ))),
            ErrorCode::WrongSigner
        );
        // The right figures are accepted as partial, but not as final
        // without a contest approval at that size.
        log.must_accept(&auth(&announce(
            &log,
            s.clone(),
            AnnouncementStatus::Partial,
        )));
        assert_eq!(
            log.code(&auth(&announce(&log, s.clone(), AnnouncementStatus::Final))),
            ErrorCode::AnnouncementNotApproved
        );
        // A contest approval at another size does not count.
        log.must_accept(&sup(&contest_approval(
            "president",
            6,
            statement(&log, "president", 6).sha256(),
        )));
        assert_eq!(
            log.code(&auth(&announce(&log, s.clone(), AnnouncementStatus::Final))),
            ErrorCode::AnnouncementNotApproved
        );
        log.must_accept(&sup(&contest_approval("president", 7, s.sha256())));
        log.must_accept(&auth(&announce(&log, s, AnnouncementStatus::Final)));
        // Final is final: even an announcement with the same figures (the
        // figures at size 11 are those at 7) is refused now.
        let later = statement(&log, "president", 11);
        assert_eq!(later.figures.valid, 540);
        assert_eq!(
            log.code(&auth(&announce(&log, later, AnnouncementStatus::Partial))),
            ErrorCode::ContestFinal
        );
    }

    /// Final is final (spec/announcements.md §6): after a final, what
    /// would change the contest's results is refused until a supervisor
    /// reopens it; the next final must name the one it replaces and why;
    /// and the announcement must rest on a checkpoint the witnesses
    /// cosigned, of the log's root at its size.
    #[test]
    fn a_final_holds_until_reopened_and_a_corrected_final_names_it() {
        let (mut log, a, _) = with_tallies();
        let s = statement(&log, "president", 7);
        log.must_accept(&sup(&contest_approval("president", 7, s.sha256())));
        // The checkpoint it rests on: another root, or not the quorum.
        let mut other = announce(&log, s.clone(), AnnouncementStatus::Final);
        if let Entry::Announcement(x) = &mut other {
            x.witnessed.root = crate::Hash::sha256(b"another tree");
        }
        assert_eq!(log.code(&auth(&other)), ErrorCode::AnnouncementRootMismatch);
        let mut unwitnessed = announce(&log, s.clone(), AnnouncementStatus::Final);
        if let Entry::Announcement(x) = &mut unwitnessed {
            x.witnessed.cosignatures[0] = testutil::key("stranger").sign_text("not a cosignature");
        }
        assert_eq!(
            log.code(&auth(&unwitnessed)),
            ErrorCode::AnnouncementNotWitnessed
        );
        let final_bytes = auth(&announce(&log, s.clone(), AnnouncementStatus::Final));
        log.must_accept(&final_bytes);
        let final_leaf = crate::hash::leaf_hash(&final_bytes);
        // Tallies, revisions, annulments, lots and contest approvals of the
        // contest are refused, naming the final.
        let mut rev = testutil::tally("01-001-0001");
        rev.revision = 2;
        rev.votes = vec![(1, 149), (2, 101), (3, 20)];
        rev.correction = Some(Correction {
            supersedes: crate::hash::leaf_hash(&a),
            reason: "recount".into(),
        });
        let rev_bytes = station_signed(&rev);
        let signed = SignedEntry::parse(&rev_bytes).expect("parses");
        let err = log
            .state
            .validate(
                &signed,
                &testutil::Entries {
                    entries: &log.entries,
                    leaves: &log.leaves,
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::ContestFinal);
        assert_eq!(err.conflicting_index, Some(8));
        for e in [annulment("02-001-0001", "president"), lot(&[1, 2], &[2, 1])] {
            assert_eq!(log.code(&sup_or_auth(&e)), ErrorCode::ContestFinal);
        }
        // Another contest is not held by this final.
        log.must_accept(&sup(&annulment("01-001-0001", "council")));
        // A reopening must name the final in force, and be a supervisor's.
        let reopen = |leaf| {
            Entry::Reopening(crate::entry::Reopening {
                election: "e1".into(),
                contest: "president".into(),
                final_leaf: leaf,
                reason: "a complaint was upheld".into(),
            })
        };
        assert_eq!(
            log.code(&sup(&reopen(crate::Hash::sha256(b"x")))),
            ErrorCode::ReopeningNotFinal
        );
        assert_eq!(log.code(&auth(&reopen(final_leaf))), ErrorCode::WrongSigner);
        log.must_accept(&sup(&reopen(final_leaf)));
        assert_eq!(
            log.code(&sup(&reopen(final_leaf))),
            ErrorCode::ReopeningNotFinal
        );
        // Open again: the revision goes in, and a new final must name the
        // one it replaces.
        log.must_accept(&rev_bytes);
        let size = log.state.size();
        let s2 = statement(&log, "president", size);
        log.must_accept(&sup(&contest_approval("president", size, s2.sha256())));
        assert_eq!(
            log.code(&auth(&announce(
                &log,
                s2.clone(),
                AnnouncementStatus::Final
            ))),
            ErrorCode::AnnouncementReplacesMismatch
        );
        let mut corrected = announce(&log, s2, AnnouncementStatus::Final);
        if let Entry::Announcement(x) = &mut corrected {
            x.replaces = Some(crate::entry::Replacement {
                final_leaf,
                reason: "station 01-001-0001 recounted".into(),
            });
        }
        log.must_accept(&auth(&corrected));
        assert_eq!(
            log.state
                .supervision()
                .final_in_force("president")
                .map(|f| f.index),
            Some(size + 1)
        );
    }

    /// The signer of a decision entry: lots are the authority's, the rest
    /// the supervisor's.
    fn sup_or_auth(e: &Entry) -> Vec<u8> {
        match e {
            Entry::LotDraw(_) => auth(e),
            _ => sup(e),
        }
    }

    #[test]
    fn outcomes_use_only_lots_logged_before_the_size() {
        let mut log = Log::new();
        let mut t = testutil::tally("01-001-0001");
        t.votes = vec![(1, 110), (2, 80), (3, 80)];
        log.must_accept(&station_signed(&t));
        let s = statement(&log, "president", 6);
        assert_eq!(s.outcome, Status::LotNeeded);
        assert_eq!(s.lot_needed, vec![vec![2, 3]]);
        assert_eq!(s.runoff, vec![1]);
        log.must_accept(&auth(&lot(&[2, 3], &[3, 2])));
        // At size 6 the lot (index 6) does not count yet; at 7 it does.
        let after = statement(&log, "president", 7);
        assert_eq!(after.outcome, Status::Runoff);
        assert_eq!(after.runoff, vec![1, 3]);
        assert!(after.lot_needed.is_empty());
        // Announcing size 7 without the lot's effect is refused.
        let mut stale = after.clone();
        stale.outcome = Status::LotNeeded;
        stale.runoff = vec![1];
        stale.lot_needed = vec![vec![2, 3]];
        assert_eq!(
            log.code(&auth(&announce(&log, stale, AnnouncementStatus::Partial))),
            ErrorCode::AnnouncementMismatch
        );
        log.must_accept(&auth(&announce(&log, s, AnnouncementStatus::Partial)));
        log.must_accept(&auth(&announce(&log, after, AnnouncementStatus::Partial)));
    }
}

/// Role keys (`spec/keys.md`): the commitment and every role-key change
/// need the authority and a supervisor; a rotated key signs from the
/// change on, the old one no longer; a key never returns; pinned keys are
/// the manifest's.
mod roles {
    use super::*;
    use crate::entry::{Role, RoleKey};
    use crate::note::SignerKey;
    use crate::state::PinnedRoles;

    fn change(role: Role, old: &VerifierKey, new: Option<&VerifierKey>) -> Entry {
        Entry::RoleKey(RoleKey {
            election: "e1".into(),
            role,
            old: old.clone(),
            new: new.cloned(),
            reason: "the device holding it was lost".into(),
        })
    }

    fn both(e: &Entry, authority: &SignerKey) -> Vec<u8> {
        testutil::sign_by(e, &[authority, &testutil::supervisor()])
    }

    #[test]
    fn the_commitment_needs_the_authority_and_a_supervisor() {
        let mut log = Log::with(testutil::validated());
        let c = testutil::commitment(log.manifest());
        let a = testutil::authority();
        // The authority alone: one line short.
        assert_eq!(
            log.code(&testutil::sign(&c, &a)),
            ErrorCode::EntrySignatureLines
        );
        // The authority and a key that is no supervisor's.
        let stranger = testutil::key("not a supervisor");
        assert_eq!(
            log.code(&testutil::sign_by(&c, &[&a, &stranger])),
            ErrorCode::WrongSigner
        );
        // A supervisor and a key that is not the authority's.
        assert_eq!(
            log.code(&testutil::sign_by(
                &c,
                &[&stranger, &testutil::supervisor()]
            )),
            ErrorCode::WrongSigner
        );
        log.must_accept(&testutil::signed_commitment(log.manifest()));
    }

    #[test]
    fn a_rotated_authority_key_signs_from_the_change_on() {
        let mut log = Log::new();
        let a = testutil::authority();
        let a2 = testutil::key("authority, second key");
        let rotate = change(Role::Authority, &a.verifier(), Some(&a2.verifier()));
        // Two roles must sign: the authority alone (with a second line of
        // its own) is not a supervisor.
        assert_eq!(
            log.code(&testutil::sign_by(&rotate, &[&a, &a2])),
            ErrorCode::WrongSigner
        );
        log.must_accept(&both(&rotate, &a));
        assert_eq!(log.state.roles().authority(), &a2.verifier());
        let revoke = Entry::StationKeyRevocation(StationKeyRevocation {
            election: "e1".into(),
            station: "01-001-0001".into(),
            key: testutil::station_key("01-001-0001")
                .verifier()
                .to_vkey_string(),
            reason: "lost".into(),
        });
        assert_eq!(
            log.code(&testutil::sign(&revoke, &a)),
            ErrorCode::WrongSigner
        );
        log.must_accept(&testutil::sign(&revoke, &a2));
        // The old key is no longer the authority's, and never returns.
        assert_eq!(
            log.code(&both(
                &change(
                    Role::Authority,
                    &a.verifier(),
                    Some(&testutil::key("x").verifier())
                ),
                &a2
            )),
            ErrorCode::RoleKeyNotCurrent
        );
        assert_eq!(
            log.code(&both(
                &change(Role::Authority, &a2.verifier(), Some(&a.verifier())),
                &a2
            )),
            ErrorCode::RoleKeyReused
        );
        // Nor does a key serve two roles.
        assert_eq!(
            log.code(&both(
                &change(
                    Role::Authority,
                    &a2.verifier(),
                    Some(&testutil::supervisor().verifier())
                ),
                &a2
            )),
            ErrorCode::RoleKeyReused
        );
        // Nor does the log key ever sign for a role.
        assert_eq!(
            log.code(&both(
                &change(
                    Role::Authority,
                    &a2.verifier(),
                    Some(&testutil::key("log").verifier())
                ),
                &a2
            )),
            ErrorCode::RoleKeyReused
        );
        // The history keeps both, with the change's index.
        let held: Vec<_> = log
            .state
            .roles()
            .held()
            .iter()
            .filter(|h| h.role == Role::Authority)
            .map(|h| (h.since, h.until))
            .collect();
        assert_eq!(held, vec![(None, Some(5)), (Some(5), None)]);
    }

    #[test]
    fn supervisors_rotate_and_the_last_one_is_never_revoked() {
        let mut log = Log::new();
        let a = testutil::authority();
        let s = testutil::supervisor();
        assert_eq!(
            log.code(&both(&change(Role::Supervisor, &s.verifier(), None), &a)),
            ErrorCode::RoleLastSupervisor
        );
        let s2 = testutil::key("supervisor, second key");
        log.must_accept(&both(
            &change(Role::Supervisor, &s.verifier(), Some(&s2.verifier())),
            &a,
        ));
        assert_eq!(log.state.roles().supervisors(), &[s2.verifier()]);
        // From now on the new supervisor key signs with the authority.
        let w = log.manifest().witnesses()[0].clone();
        let w2 = crate::cosignature::CosignerKey::from_seed("w2.example/witness", [7; 32])
            .expect("key")
            .verifier();
        let rotate_witness = change(Role::Witness, &w, Some(&w2));
        assert_eq!(log.code(&both(&rotate_witness, &a)), ErrorCode::WrongSigner);
        log.must_accept(&testutil::sign_by(&rotate_witness, &[&a, &s2]));
        // The policy counts the new witness key under the old name.
        let policy = log.state.roles().witness_policy();
        assert_eq!(policy.witnesses[0].key, w2);
    }

    #[test]
    fn a_witness_key_is_replaced_not_revoked_and_keys_have_their_role_type() {
        let w = testutil::validated().witnesses()[0].to_vkey_string();
        let a = testutil::authority().verifier().to_vkey_string();
        let text = |role: &str, old: &str, new: Option<&str>| {
            let mut t = format!("tallyboard/role-key/v1\nelection e1\nrole {role}\nold {old}\n");
            if let Some(n) = new {
                t.push_str(&format!("new {n}\n"));
            }
            t.push_str("reason r\n");
            t
        };
        let code = |t: String| Entry::parse_text(&t).expect_err("refused").code();
        assert_eq!(
            code(text("witness", &w, None)),
            ErrorCode::EntryMissingField
        );
        assert_eq!(
            code(text("authority", &a, None)),
            ErrorCode::EntryMissingField
        );
        assert_eq!(
            code(text("authority", &w, Some(&a))),
            ErrorCode::KeyMalformed
        );
        assert_eq!(
            code(text("auditor", &a, Some(&w))),
            ErrorCode::EntryBadValue
        );
        assert_eq!(
            code(text("authority", &a, Some(&a))),
            ErrorCode::EntryBadValue
        );
    }

    #[test]
    fn pinned_keys_must_be_the_manifests() {
        let mut log = Log::new();
        let a = testutil::authority();
        let roles = log.state.roles().clone();
        let mut pins = PinnedRoles {
            authority: vec![a.verifier()],
            supervisors: vec![testutil::supervisor().verifier()],
            witnesses: vec![],
        };
        assert!(roles.check_pinned(&pins).is_ok());
        // A log whose manifest names another authority fails.
        let mine = testutil::key("the log operator's own authority");
        pins.authority = vec![mine.verifier()];
        let err = roles.check_pinned(&pins).expect_err("mismatch");
        assert_eq!(err.code(), ErrorCode::ManifestRoleKeyMismatch);
        // A key rotated in later is not a pin's anchor: the chain starts at
        // the manifest's keys.
        log.must_accept(&both(
            &change(Role::Authority, &a.verifier(), Some(&mine.verifier())),
            &a,
        ));
        assert_eq!(
            log.state.roles().check_pinned(&pins).unwrap_err().code(),
            ErrorCode::ManifestRoleKeyMismatch
        );
    }
}

/// The state keeps a box's first and latest tally only: an earlier revision
/// is found along the `supersedes` chain, and the rules mean the same.
#[test]
fn earlier_revisions_are_read_back_along_the_chain() {
    let mut log = Log::new();
    let mut t = testutil::tally("01-001-0001");
    let mut bytes = vec![station_signed(&t)];
    log.must_accept(&bytes[0]);
    for r in 2..=4u32 {
        // Another station's tally between the revisions.
        if r == 3 {
            log.must_accept(&station_signed(&testutil::tally("01-002-0001")));
        }
        t.revision = r;
        t.votes = vec![(1, 150 - u64::from(r)), (2, 100 + u64::from(r)), (3, 20)];
        t.correction = Some(Correction {
            supersedes: crate::hash::leaf_hash(bytes.last().expect("a revision")),
            reason: format!("recount {r}"),
        });
        bytes.push(station_signed(&t));
        log.must_accept(bytes.last().expect("just pushed"));
    }
    // Revisions 1, 2, 3, 4 at 5, 6, 8, 9; the other station's at 7.
    let idx = |r: usize| [5u64, 6, 8, 9][r - 1];
    // Revision 2 again with other figures: equivocation naming its index.
    let mut r2 = t.clone();
    r2.revision = 2;
    r2.votes = vec![(1, 140), (2, 110), (3, 20)];
    r2.correction = Some(Correction {
        supersedes: crate::hash::leaf_hash(&bytes[0]),
        reason: "other".into(),
    });
    let signed = SignedEntry::parse(&station_signed(&r2)).expect("parses");
    let err = log
        .state
        .validate(
            &signed,
            &testutil::Entries {
                entries: &log.entries,
                leaves: &log.leaves,
            },
        )
        .expect_err("equivocation");
    assert_eq!(err.code(), ErrorCode::Equivocation);
    assert_eq!(err.conflicting_index, Some(idx(2)));
    let sup = |e: &Entry| testutil::sign(e, &testutil::supervisor());
    let approval = |index: u64, leaf: crate::Hash| {
        Entry::Approval(crate::entry::Approval {
            election: "e1".into(),
            station: "01-001-0001".into(),
            contest: "president".into(),
            index,
            leaf_sha256: leaf,
        })
    };
    let leaf = |r: usize| crate::hash::leaf_hash(&bytes[r - 1]);
    // Revision 3 is the box's, superseded; entry 7 is another box's.
    assert_eq!(
        log.code(&sup(&approval(idx(3), leaf(3)))),
        ErrorCode::SupervisionNotLatest
    );
    assert_eq!(
        log.code(&sup(&approval(idx(3), leaf(2)))),
        ErrorCode::SupervisionLeafMismatch
    );
    assert_eq!(
        log.code(&sup(&approval(7, log.leaves[7]))),
        ErrorCode::SupervisionNotATally
    );
    log.must_accept(&sup(&approval(idx(4), leaf(4))));
}
