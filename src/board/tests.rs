//! The board's log contract, on a real store in a temporary directory.

use super::*;
use crate::store::file::FileStore;
use crate::store::{Commit, LogWriter};
use tallyboard_core::checkpoint;
use tallyboard_core::entry::Entry;
use tallyboard_core::error::Coded;
use tallyboard_core::merkle::{prove_consistency, verify_consistency};
use tallyboard_core::note::SignerKey;
use tallyboard_core::ErrorCode;
use tallyboard_core::Hash;
use tallyboard_synth::{keys, Config, SyntheticElection};

fn election(stations: usize) -> SyntheticElection {
    SyntheticElection::generate(Config {
        seed: 7,
        stations,
        majlis: false,
    })
}

fn log_key() -> SignerKey {
    keys::role_key("log").expect("log role")
}

fn setup(e: &SyntheticElection) -> Vec<Vec<u8>> {
    let mut v = vec![e.commitment_entry()];
    v.extend((0..e.station_count()).map(|i| e.registration_entry(i)));
    v
}

fn appended(outcomes: &[Outcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Appended { .. }))
        .count()
}

#[test]
fn appends_are_durable_verifiable_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = election(40);
    let mut b = Board::create(dir.path(), e.manifest_bytes(), log_key()).expect("create");
    assert_eq!(b.latest().checkpoint.size, 0);
    let setup = setup(&e);
    assert_eq!(appended(&b.append_bytes(&setup).expect("append")), 41);
    let tallies: Vec<Vec<u8>> = (0..40).map(|i| e.signed_tally(i)).collect();
    // Two batches, so two more checkpoints.
    assert_eq!(
        appended(&b.append_bytes(&tallies[..25]).expect("append")),
        25
    );
    assert_eq!(
        appended(&b.append_bytes(&tallies[25..]).expect("append")),
        15
    );
    assert_eq!(b.size(), 81);

    // Every entry's receipt verifies offline against the log key.
    let origin = b.manifest().manifest().log.origin.clone();
    for (i, bytes) in setup.iter().chain(tallies.iter()).enumerate() {
        let r = b.receipt(i as u64).expect("receipt");
        let reparsed = TlogProof::parse(&r.to_bytes()).expect("receipt parses");
        let cp = reparsed
            .verify(bytes, &origin, b.verifiers())
            .expect("receipt verifies");
        assert_eq!(cp.size, 81);
    }

    // Resubmitting the same bytes appends nothing and names the first index.
    let checkpoints_before = b.store().all_checkpoint_sizes(u64::MAX).expect("sizes");
    let out = b.append_bytes(&tallies[3..4]).expect("append");
    assert!(matches!(out[0], Outcome::Duplicate { index, .. } if index == 44));
    // A refusal changes nothing: no entry, no checkpoint.
    let mut bad = tallies[5].clone();
    let n = bad.len();
    bad[n - 5] ^= 1;
    let out = b.append_bytes(&[bad]).expect("append");
    assert!(matches!(&out[0], Outcome::Rejected(_)));
    assert_eq!(b.size(), 81);
    assert_eq!(
        b.store().all_checkpoint_sizes(u64::MAX).expect("sizes"),
        checkpoints_before
    );

    // rs_merkle rebuilds the whole tree from the leaves: an independent
    // cross-check of the stored-hash root (this is where rs_merkle fits; the
    // log itself cannot use it, see crates/core/src/merkle.rs).
    let leaves: Vec<[u8; 32]> = setup
        .iter()
        .chain(tallies.iter())
        .map(|b| tallyboard_core::hash::leaf_hash(b).0)
        .collect();
    let tree = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&leaves);
    assert_eq!(tree.root(), Some(b.latest().checkpoint.root.0));
}

#[derive(Clone)]
struct Rfc6962;
impl rs_merkle::Hasher for Rfc6962 {
    type Hash = [u8; 32];
    fn hash(data: &[u8]) -> [u8; 32] {
        // rs_merkle only calls this on two concatenated children.
        let mut buf = Vec::with_capacity(1 + data.len());
        buf.push(0x01);
        buf.extend_from_slice(data);
        Hash::sha256(&buf).0
    }
    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(r) => tallyboard_core::hash::node_hash(&Hash(*left), &Hash(*r)).0,
            None => *left, // RFC 6962 promotes a lone node unchanged
        }
    }
}

#[test]
fn reopening_rebuilds_state_and_every_checkpoint_stays_consistent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = election(30);
    let first_tally;
    {
        let mut b = Board::create(dir.path(), e.manifest_bytes(), log_key()).expect("create");
        b.append_bytes(&setup(&e)).expect("append");
        first_tally = e.signed_tally(0);
        b.append_bytes(&[first_tally.clone(), e.signed_tally(1)])
            .expect("append");
    }
    let mut b = Board::open(dir.path(), log_key()).expect("reopen");
    assert_eq!(b.size(), 33);
    // The replayed state knows station 0's tally: an equivocation is caught,
    // and its revision chains from the stored entry.
    let mut t = e.tally(0);
    t.votes[0].1 += 1;
    t.votes[1].1 -= 1;
    let equivocation = e.sign_as_station(0, &Entry::Tally(t));
    match &b.append_bytes(&[equivocation]).expect("append")[0] {
        Outcome::Rejected(err) => {
            assert_eq!(err.code(), ErrorCode::Equivocation);
            assert_eq!(err.conflicting_index, Some(31));
        }
        other => panic!("expected an equivocation, got {other:?}"),
    }
    let rev = e.revised_tally(0, &first_tally);
    assert_eq!(appended(&b.append_bytes(&[rev]).expect("append")), 1);
    // Every checkpoint ever issued verifies and is consistent with the latest.
    let latest = b.latest().checkpoint.clone();
    for size in b.store().all_checkpoint_sizes(u64::MAX).expect("sizes") {
        let bytes = b.store().checkpoint(size).expect("read").expect("present");
        let (cp, _) =
            checkpoint::open_checkpoint(&bytes, &latest.origin, b.verifiers()).expect("verifies");
        let proof = prove_consistency(cp.size, latest.size, b.store()).expect("proof");
        verify_consistency(cp.size, latest.size, &cp.root, &latest.root, &proof)
            .expect("consistent");
    }
}

fn verifiers() -> Verifiers {
    verifiers_for(&log_key())
}

fn code_of(e: &anyhow::Error) -> Option<ErrorCode> {
    e.downcast_ref::<crate::store::StoreError>()
        .map(Coded::code)
}

#[test]
fn open_fails_closed_on_tampering_or_the_wrong_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = election(10);
    {
        let mut b = Board::create(dir.path(), e.manifest_bytes(), log_key()).expect("create");
        b.append_bytes(&setup(&e)).expect("append");
    }
    let other = keys::role_key("authority").expect("role");
    assert!(
        Board::open(dir.path(), other).is_err(),
        "a key that is not the manifest's log key"
    );
    // Settle, so that the packs are what the store relies on, then rewrite
    // entry 3 in them behind the board's back.
    {
        let (mut s, _) = FileStore::open(dir.path(), &verifiers()).expect("open");
        s.settle_now().expect("settle");
    }
    let entries = dir.path().join("packs/entries");
    let mut bytes = std::fs::read(&entries).expect("read");
    let good = bytes.clone();
    let at = bytes.len() / 3;
    bytes[at] ^= 1;
    std::fs::write(&entries, &bytes).expect("write");
    let err = Board::open(dir.path(), log_key())
        .err()
        .expect("must refuse");
    assert_eq!(code_of(&err), Some(ErrorCode::StoreCorrupt), "{err:#}");
    std::fs::write(&entries, &good).expect("write");
    Board::open(dir.path(), log_key()).expect("opens again");
    // A pack cut below what was settled.
    std::fs::write(&entries, &good[..good.len() - 1]).expect("write");
    let err = Board::open(dir.path(), log_key())
        .err()
        .expect("must refuse");
    assert_eq!(code_of(&err), Some(ErrorCode::StoreTruncated), "{err:#}");
}

#[test]
fn a_held_extension_without_its_checkpoint_is_not_part_of_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = election(5);
    let setup = setup(&e);
    drop(Board::create(dir.path(), e.manifest_bytes(), log_key()).expect("create"));
    {
        // A mirror's extension written in part, its checkpoint never.
        let (mut s, _) = FileStore::open(dir.path(), &verifiers()).expect("open");
        let leaves: Vec<Hash> = setup
            .iter()
            .map(|b| tallyboard_core::hash::leaf_hash(b))
            .collect();
        s.commit(&Commit {
            first: 0,
            entries: &setup,
            leaves: &leaves,
            checkpoint: None,
        })
        .expect("commit");
    }
    let b = Board::open(dir.path(), log_key()).expect("open");
    assert_eq!(b.size(), 0);
    assert_eq!(b.latest().checkpoint.size, 0);
    assert_eq!(
        b.store().all_checkpoint_sizes(u64::MAX).expect("sizes"),
        vec![0]
    );
}

/// Announcements and contest approvals are recomputed from the stored
/// entries plus those accepted earlier in the same batch, and survive a
/// reopen.
#[test]
fn announcements_are_checked_within_a_batch_and_across_batches() {
    use tallyboard_core::entry::announcement;
    use tallyboard_core::entry::{AnnouncementStatus, SignedEntry};
    let dir = tempfile::tempdir().expect("tempdir");
    let e = election(6);
    let mut b = Board::create(dir.path(), e.manifest_bytes(), log_key()).expect("create");
    let setup = setup(&e);
    b.append_bytes(&setup).expect("append");
    // Stored: setup and tallies 0..3. Pending in the next batch: tallies
    // 3..6, an annulment, then announcements whose size covers them.
    let first: Vec<Vec<u8>> = (0..3).map(|i| e.signed_tally(i)).collect();
    b.append_bytes(&first).expect("append");
    let mut log: Vec<Vec<u8>> = setup.iter().chain(first.iter()).cloned().collect();
    let mut batch: Vec<Vec<u8>> = (3..6).map(|i| e.signed_tally(i)).collect();
    batch.push(e.annulment_entry(4, "ballot-stuffing", "observers"));
    log.extend(batch.iter().cloned());
    let parsed: Vec<_> = log
        .iter()
        .map(|x| SignedEntry::parse(x).expect("parses").entry)
        .collect();
    let size = parsed.len() as u64;
    let st = announcement::expected(
        e.manifest(),
        parsed.iter().enumerate().map(|(i, x)| (i as u64, x)),
        "president",
        size,
    )
    .expect("recomputes");
    assert_eq!(st.stations_counted, 5);
    let seen = e.witnessed_log(&log);
    let mut wrong = st.clone();
    wrong.figures.valid -= 1;
    batch.push(e.announcement_entry(&wrong, AnnouncementStatus::Partial, &seen));
    batch.push(e.announcement_entry(&st, AnnouncementStatus::Final, &seen));
    batch.push(e.contest_approval_entry(&st));
    batch.push(e.announcement_entry(&st, AnnouncementStatus::Partial, &seen));
    let out = b.append_bytes(&batch).expect("append");
    let codes: Vec<Option<ErrorCode>> = out
        .iter()
        .map(|o| match o {
            Outcome::Rejected(e) => Some(e.code()),
            _ => None,
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            None,
            None,
            None,
            Some(ErrorCode::AnnouncementMismatch),
            Some(ErrorCode::AnnouncementNotApproved),
            None,
            None
        ]
    );
    // In a later batch, against the store alone.
    let fin = e.announcement_entry(&st, AnnouncementStatus::Final, &seen);
    assert_eq!(appended(&b.append_bytes(&[fin]).expect("append")), 1);
    let end = b.size();
    drop(b);
    let b = Board::open(dir.path(), log_key()).expect("reopen");
    assert_eq!(b.size(), end);
    assert_eq!(b.state().supervision().annulled_count(), 1);
    assert_eq!(b.state().supervision().decisions().len(), 4);
}

/// An announcement at a size before a later revision of some box: the log
/// state keeps only a box's first and latest figures, so the revision in
/// force at that size is read back, from the store when it was written
/// in an earlier batch, from the batch being appended when it is in it.
#[test]
fn announcements_at_an_earlier_size_read_the_revision_then_in_force() {
    use tallyboard_core::entry::announcement;
    use tallyboard_core::entry::{AnnouncementStatus, SignedEntry};
    let dir = tempfile::tempdir().expect("tempdir");
    let e = election(4);
    let mut b = Board::create(dir.path(), e.manifest_bytes(), log_key()).expect("create");
    let mut log = setup(&e);
    b.append_bytes(&log).expect("setup");
    // Station 0 reports, then revises twice; revision 2 is in force between
    // its index and revision 3's.
    let r1 = e.signed_tally(0);
    let r2 = e.signed_revision(0, 2, tallyboard_core::hash::leaf_hash(&r1));
    let r3 = e.signed_revision(0, 3, tallyboard_core::hash::leaf_hash(&r2));
    let at = |log: &[Vec<u8>]| {
        let parsed: Vec<_> = log
            .iter()
            .map(|x| SignedEntry::parse(x).expect("parses").entry)
            .collect();
        let st = announcement::expected(
            e.manifest(),
            parsed.iter().enumerate().map(|(i, x)| (i as u64, x)),
            "president",
            parsed.len() as u64,
        )
        .expect("recomputes");
        (st, e.witnessed_log(log))
    };
    for t in [&r1, &r2] {
        log.push(t.to_vec());
        assert_eq!(appended(&b.append_bytes(&[t.to_vec()]).expect("t")), 1);
    }
    let with_r2 = at(&log);
    // Revision 3 and the announcement at the earlier size in one batch: r2
    // comes from the store.
    let out = b
        .append_bytes(&[
            r3.clone(),
            e.announcement_entry(&with_r2.0, AnnouncementStatus::Partial, &with_r2.1),
        ])
        .expect("batch");
    assert_eq!(appended(&out), 2, "{out:?}");
    // Station 1's three revisions and an announcement at the size where
    // its revision 2 was in force, all in one batch: r2 comes from the
    // entries being appended.
    log.push(r3.clone());
    log.push(e.announcement_entry(&with_r2.0, AnnouncementStatus::Partial, &with_r2.1));
    let s1 = e.signed_tally(1);
    let s2 = e.signed_revision(1, 2, tallyboard_core::hash::leaf_hash(&s1));
    let s3 = e.signed_revision(1, 3, tallyboard_core::hash::leaf_hash(&s2));
    log.push(s1.clone());
    log.push(s2.clone());
    let with_s2 = at(&log);
    let out = b
        .append_bytes(&[
            s1,
            s2,
            s3,
            e.announcement_entry(&with_s2.0, AnnouncementStatus::Partial, &with_s2.1),
        ])
        .expect("batch");
    assert_eq!(appended(&out), 4, "{out:?}");
    // A wrong figure at that size is still refused, naming the mismatch.
    let mut wrong = with_s2.0.clone();
    wrong.figures.valid += 1;
    let out = b
        .append_bytes(&[e.announcement_entry(&wrong, AnnouncementStatus::Partial, &with_s2.1)])
        .expect("batch");
    assert!(
        matches!(&out[0], Outcome::Rejected(err) if err.code() == ErrorCode::AnnouncementMismatch),
        "{out:?}"
    );
}

/// A board resumes from its sealed snapshot and the entries after it, and
/// refuses a snapshot that is damaged, sealed under another key, or of
/// another tree (`spec/storage.md` §5).
#[test]
fn a_board_resumes_from_its_sealed_snapshot_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = election(12);
    {
        let mut b = Board::create(dir.path(), e.manifest_bytes(), log_key()).expect("create");
        b.snapshot_every(8);
        b.append_bytes(&setup(&e)).expect("setup");
        let tallies: Vec<Vec<u8>> = (0..12).map(|i| e.signed_tally(i)).collect();
        b.append_bytes(&tallies[..5]).expect("tallies");
        // A revision, so the state holds a box with two figures.
        let rev = e.revised_tally(0, &tallies[0]);
        b.append_bytes(&[rev]).expect("revision");
        b.append_bytes(&tallies[5..]).expect("tallies");
    }
    let states = dir.path().join("state");
    let newest = std::fs::read_dir(&states)
        .expect("a state directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .max()
        .expect("a snapshot");
    let b = Board::open(dir.path(), log_key()).expect("resumes");
    assert_eq!(b.size(), 26);
    // verify-store: the resumed state is the state the entries give.
    assert!(b.verify_full().expect("verifies") >= 1);
    drop(b);
    let good = std::fs::read(&newest).expect("read");
    for at in [0, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        std::fs::write(&newest, &bad).expect("write");
        let err = Board::open(dir.path(), log_key()).err().expect("refused");
        assert_eq!(code_of(&err), Some(ErrorCode::StoreCorrupt), "{err:#}");
    }
    std::fs::write(&newest, &good).expect("write");
    // Without any snapshot the board replays every entry.
    std::fs::remove_dir_all(&states).expect("remove");
    assert_eq!(
        Board::open(dir.path(), log_key()).expect("opens").size(),
        26
    );
}
