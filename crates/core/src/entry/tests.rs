use super::*;
use crate::rules::ElectionKind;
use crate::Hash;
use proptest::prelude::*;

fn sample_tally() -> Tally {
    Tally {
        election: "1404-presidential".into(),
        contest: "president".into(),
        station: "23-045-00123".into(),
        revision: 1,
        correction: None,
        figures: BallotFigures {
            counterfoils: 500,
            ballots_in_box: 480,
            votes_taken: 470,
            void_taken: 10,
            void_not_taken: 10,
            valid: 460,
        },
        votes: vec![(1, 200), (4, 260)],
        minutes_sha256: Some(Hash::sha256(b"minutes scan")),
    }
}

const SAMPLE: &str = "tallyboard/tally/v1\nelection 1404-presidential\ncontest president\nstation 23-045-00123\nrevision 1\ncounterfoils 500\nballots-in-box 480\nvotes-taken 470\nvoid-taken 10\nvoid-not-taken 10\nvalid 460\nvote 1 200\nvote 4 260\n";

fn code_of(text: &str) -> ErrorCode {
    Entry::parse_text(text).expect_err("must be refused").code()
}

#[test]
fn tally_round_trips() {
    let t = sample_tally();
    let text = Entry::Tally(t.clone()).to_text();
    assert_eq!(Entry::parse_text(&text), Ok(Entry::Tally(t)));
    let plain = Entry::parse_text(SAMPLE).expect("sample parses");
    assert_eq!(plain.to_text(), SAMPLE);
    assert_eq!(plain.kind(), EntryKind::Tally);
}

#[test]
fn revision_round_trips_and_needs_revision_two() {
    let mut t = sample_tally();
    t.revision = 2;
    t.correction = Some(Correction {
        supersedes: Hash::sha256(b"x"),
        reason: "recount ordered".into(),
    });
    let e = Entry::Tally(t);
    assert_eq!(e.kind(), EntryKind::TallyRevision);
    let text = e.to_text();
    assert!(text.starts_with("tallyboard/tally-revision/v1\n"));
    assert_eq!(Entry::parse_text(&text), Ok(e));
    assert_eq!(
        code_of(&text.replace("revision 2\n", "revision 1\n")),
        ErrorCode::EntryBadValue
    );
    assert_eq!(
        code_of(&SAMPLE.replace("revision 1\n", "revision 2\n")),
        ErrorCode::EntryBadValue
    );
}

#[test]
fn grammar_violations_have_distinct_codes() {
    let cases: &[(&str, ErrorCode)] = &[
        ("tallyboard/tally/v2\n", ErrorCode::EntryUnknownType),
        ("no newline at all", ErrorCode::EntryUnknownType),
        (
            "tallyboard/witness-evidence/v1\nelection x\n",
            ErrorCode::EntryTypeNotAccepted,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid 0460\n"),
            ErrorCode::EntryNonCanonical,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid +460\n"),
            ErrorCode::EntryBadValue,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid 99999999999999999999\n"),
            ErrorCode::EntryOverflow,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid 1000000000001\n"),
            ErrorCode::TallyCountTooLarge,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid  460\n"),
            ErrorCode::EntryLineMalformed,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid 460 \n"),
            ErrorCode::EntryLineMalformed,
        ),
        (
            &SAMPLE.replace("vote 1 200\n", "vote 1  200\n"),
            ErrorCode::EntryLineMalformed,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid\n"),
            ErrorCode::EntryLineMalformed,
        ),
        (
            &SAMPLE.replace("valid 460\n", "valid 460\nvalid 460\n"),
            ErrorCode::EntryDuplicateField,
        ),
        (
            &SAMPLE.replace("valid 460\n", "colour blue\nvalid 460\n"),
            ErrorCode::EntryUnknownField,
        ),
        (
            &SAMPLE.replace("valid 460\n", ""),
            ErrorCode::EntryMissingField,
        ),
        (
            &SAMPLE.replace(
                "void-taken 10\nvoid-not-taken 10\n",
                "void-not-taken 10\nvoid-taken 10\n",
            ),
            ErrorCode::EntryMissingField,
        ),
        (
            &SAMPLE.replace("vote 1 200\nvote 4 260\n", "vote 4 260\nvote 1 200\n"),
            ErrorCode::EntryVotesOrder,
        ),
        (
            &SAMPLE.replace("vote 1 200\n", "vote 1 0\n"),
            ErrorCode::EntryVotesOrder,
        ),
        (
            &SAMPLE.replace("vote 1 200\n", "vote 1 200\nvote 1 200\n"),
            ErrorCode::EntryVotesOrder,
        ),
        (
            &SAMPLE.replace("vote 1 200\n", "vote 1200\n"),
            ErrorCode::EntryLineMalformed,
        ),
        (
            &SAMPLE.replace("vote 4 260\n", "vote 4 260\nminutes-sha256 AB\n"),
            ErrorCode::EntryBadValue,
        ),
        (
            &format!("{SAMPLE}minutes-sha256 {}\n", "A".repeat(64)),
            ErrorCode::EntryNonCanonical,
        ),
        (&format!("{SAMPLE}extra"), ErrorCode::EntryTrailingData),
        (&format!("{SAMPLE}\n"), ErrorCode::EntryLineMalformed),
        (
            &SAMPLE.replace("station 23-045-00123", "station Station_1"),
            ErrorCode::EntryBadValue,
        ),
        (
            &SAMPLE.replace("revision 1\n", "revision 4294967296\n"),
            ErrorCode::EntryOverflow,
        ),
        (
            &SAMPLE.replace("election 1404-presidential\n", ""),
            ErrorCode::EntryMissingField,
        ),
        (
            &SAMPLE.replace("contest president\n", "").replace(
                "station 23-045-00123\n",
                "station 23-045-00123\ncontest president\n",
            ),
            ErrorCode::EntryMissingField,
        ),
        (
            &format!("{SAMPLE}election 1404-presidential\n"),
            ErrorCode::EntryDuplicateField,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(code_of(text), *want, "for text {text:?}");
    }
}

#[test]
fn arithmetic_rules_each_have_a_code() {
    let ok = sample_tally();
    assert_eq!(ok.check_arithmetic(1), Ok(()));
    let mut t = ok.clone();
    t.figures.ballots_in_box += 1;
    assert_eq!(
        t.check_arithmetic(1).unwrap_err().code(),
        ErrorCode::TallyBallotsInBox
    );
    let mut t = ok.clone();
    t.figures.valid -= 1;
    assert_eq!(
        t.check_arithmetic(1).unwrap_err().code(),
        ErrorCode::TallyVotesTaken
    );
    let mut t = ok.clone();
    t.figures.counterfoils = 479;
    assert_eq!(
        t.check_arithmetic(1).unwrap_err().code(),
        ErrorCode::TallyCounterfoils
    );
    let mut t = ok.clone();
    t.votes[0].1 -= 1;
    assert_eq!(
        t.check_arithmetic(1).unwrap_err().code(),
        ErrorCode::TallyVoteSum
    );
    // Multi-seat: under-votes allowed, over seats × valid refused.
    assert_eq!(t.check_arithmetic(3), Ok(()));
    let mut t = ok;
    t.votes = vec![(1, 460), (2, 460), (3, 461)];
    assert_eq!(
        t.check_arithmetic(3).unwrap_err().code(),
        ErrorCode::TallyVoteSum
    );
}

#[test]
fn authority_entries_round_trip() {
    let c = Entry::ManifestCommitment(ManifestCommitment {
        election: "1404-presidential".into(),
        kind: ElectionKind::Presidential,
        manifest_sha256: Hash::sha256(b"m"),
        manifest_root: None,
    });
    assert_eq!(Entry::parse_text(&c.to_text()), Ok(c));
    // With the optional manifest root (spec/entries.md §3.1), after the
    // digest and nowhere else.
    let r = Entry::ManifestCommitment(ManifestCommitment {
        election: "1404-presidential".into(),
        kind: ElectionKind::Presidential,
        manifest_sha256: Hash::sha256(b"m"),
        manifest_root: Some(Hash::sha256(b"root")),
    });
    let text = r.to_text();
    assert!(text.ends_with(&format!(
        "manifest-root {}\n",
        Hash::sha256(b"root").to_hex()
    )));
    assert_eq!(Entry::parse_text(&text), Ok(r));
    let root_line = text.lines().last().unwrap();
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("manifest-root"))
        .collect();
    lines.insert(2, root_line);
    assert!(Entry::parse_text(&(lines.join("\n") + "\n")).is_err());
}

#[test]
fn reserved_kinds_are_named_and_refused() {
    for k in EntryKind::ALL {
        assert_eq!(EntryKind::from_type_line(k.type_line()), Some(*k));
        if !k.is_accepted() {
            let text = format!("{}\nelection x\n", k.type_line());
            assert_eq!(code_of(&text), ErrorCode::EntryTypeNotAccepted);
        }
    }
}

#[test]
fn oversized_entry_is_refused_before_parsing() {
    let big = vec![b'a'; MAX_ENTRY_SIZE + 1];
    assert_eq!(
        SignedEntry::parse(&big).unwrap_err().code(),
        ErrorCode::EntryTooLarge
    );
}

fn arb_tally() -> impl Strategy<Value = Tally> {
    (
        "[a-z0-9]{1,10}",
        "[a-z0-9]{1,10}",
        1u32..5,
        proptest::collection::btree_map(1u32..5000, 1u64..1_000_000, 0..12),
        0u64..1000,
        0u64..1000,
        any::<bool>(),
    )
        .prop_map(
            |(contest, station, revision, votes, void_taken, void_not_taken, minutes)| {
                let votes: Vec<(u32, u64)> = votes.into_iter().collect();
                let valid: u64 = votes.iter().map(|v| v.1).sum();
                Tally {
                    election: "e".into(),
                    contest,
                    station,
                    revision,
                    correction: (revision > 1).then(|| Correction {
                        supersedes: Hash::sha256(&[revision as u8]),
                        reason: "بازشماری by the county board".into(),
                    }),
                    figures: BallotFigures {
                        counterfoils: valid + void_taken + void_not_taken + 7,
                        ballots_in_box: valid + void_taken + void_not_taken,
                        votes_taken: valid + void_taken,
                        void_taken,
                        void_not_taken,
                        valid,
                    },
                    votes,
                    minutes_sha256: minutes.then(|| Hash::sha256(b"scan")),
                }
            },
        )
}

proptest! {
    #[test]
    fn parse_and_serialize_are_inverse(t in arb_tally()) {
        let e = Entry::Tally(t);
        let text = e.to_text();
        let back = Entry::parse_text(&text).expect("own output parses");
        prop_assert_eq!(&back, &e);
        prop_assert_eq!(back.to_text(), text);
    }

    #[test]
    fn mutated_text_never_panics_and_accepted_text_is_canonical(
        t in arb_tally(), pos in any::<usize>(), byte in any::<u8>(), delete in any::<bool>()
    ) {
        let mut bytes = Entry::Tally(t).to_text().into_bytes();
        let i = pos % bytes.len();
        if delete { bytes.remove(i); } else { bytes[i] = byte; }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Ok(e) = Entry::parse_text(text) {
                prop_assert_eq!(e.to_text(), text);
            }
        }
    }

    #[test]
    fn random_text_never_panics(s in "\\PC{0,300}") {
        let _ = Entry::parse_text(&s);
        let _ = SignedEntry::parse(s.as_bytes());
    }
}

#[test]
fn the_ballot_figures_are_one_block_in_every_type_that_states_them() {
    for fields in [
        super::tally::TALLY_FIELDS,
        super::tally::REVISION_FIELDS,
        super::announcement::ANNOUNCEMENT_FIELDS,
    ] {
        let at = fields
            .windows(super::figures::FIELDS.len())
            .position(|w| w == super::figures::FIELDS);
        let votes = fields.iter().position(|f| *f == super::votes::FIELD);
        // The six figures, then the vote lines, as `BallotFigures::parse` and
        // `votes::parse` read them.
        assert_eq!(at.map(|i| i + 6), votes, "{fields:?}");
    }
}
