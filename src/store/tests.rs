//! The store refuses, with a `store.*` code and never a panic, a store
//! truncated or damaged at any byte of its last commit (`spec/storage.md`
//! §4–§5), and repairs only an append that was never made durable.

use super::file::FileStore;
use super::framed::HEADER;
use super::StoreError;
use crate::board::Board;
use std::path::Path;
use tallyboard_core::error::Coded;
use tallyboard_core::note::{SignerKey, Verifiers};
use tallyboard_core::ErrorCode;
use tallyboard_synth::{keys, Config, SyntheticElection};

fn log_key() -> SignerKey {
    keys::role_key("log").expect("log role")
}

fn verifiers() -> Verifiers {
    let mut v = Verifiers::new();
    v.add(log_key().verifier());
    v
}

/// A board of 6 stations: the setup in one commit, then each tally in a
/// commit of its own; returns the election.
fn board(dir: &Path) -> SyntheticElection {
    let e = SyntheticElection::generate(Config {
        seed: 3,
        stations: 6,
        majlis: false,
    });
    let mut b = Board::create(dir, e.manifest_bytes(), log_key()).expect("create");
    let mut setup = vec![e.commitment_entry()];
    setup.extend((0..6).map(|i| e.registration_entry(i)));
    b.append_bytes(&setup).expect("setup");
    for i in 0..6 {
        b.append_bytes(&[e.signed_tally(i)]).expect("tally");
    }
    e
}

fn refusal(dir: &Path) -> Option<ErrorCode> {
    match Board::open(dir, log_key()) {
        Ok(_) => None,
        Err(e) => Some(
            e.downcast_ref::<StoreError>()
                .map(Coded::code)
                .unwrap_or_else(|| panic!("refused without a store code: {e:#}")),
        ),
    }
}

/// The offset of the last record of a framed file.
fn last_record(path: &Path) -> u64 {
    let mut last = 0;
    super::framed::scan(path, |r| {
        last = r.offset;
        Ok(())
    })
    .expect("scan");
    last
}

#[test]
fn a_torn_or_damaged_last_commit_is_refused_at_every_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    board(dir.path());
    let journal = {
        let (s, _) = FileStore::open(dir.path(), &verifiers()).expect("open");
        s.journal_path()
    };
    let good = std::fs::read(&journal).expect("read");
    let last = last_record(&journal) as usize;
    let mut refused = std::collections::BTreeMap::<ErrorCode, usize>::new();
    // Cut at every byte of the last commit, its first byte included: the
    // packs hold its entries, so even a journal cut between two records
    // is caught.
    for cut in last..good.len() {
        std::fs::write(&journal, &good[..cut]).expect("write");
        let code = refusal(dir.path()).unwrap_or_else(|| panic!("opened when cut at byte {cut}"));
        assert!(
            matches!(code, ErrorCode::StoreTornWrite | ErrorCode::StoreTruncated),
            "cut at byte {cut}: {code}"
        );
        *refused.entry(code).or_default() += 1;
    }
    // Every byte of it flipped.
    for at in last..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&journal, &bad).expect("write");
        let code = refusal(dir.path()).unwrap_or_else(|| panic!("opened with byte {at} flipped"));
        assert!(
            matches!(code, ErrorCode::StoreCorrupt | ErrorCode::StoreTornWrite),
            "byte {at} flipped: {code}"
        );
        *refused.entry(code).or_default() += 1;
    }
    eprintln!(
        "last commit: {} bytes at {last}; refusals {refused:?}",
        good.len() - last
    );
    // Intact again, it opens and holds every entry.
    std::fs::write(&journal, &good).expect("write");
    assert_eq!(
        Board::open(dir.path(), log_key()).expect("opens").size(),
        13
    );
}

#[test]
fn an_append_that_never_got_its_header_is_cut_off_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    board(dir.path());
    let journal = {
        let (s, _) = FileStore::open(dir.path(), &verifiers()).expect("open");
        s.journal_path()
    };
    let good = std::fs::read(&journal).expect("read");
    // A SIGKILL between the payload and the header of the next commit.
    let mut killed = good.clone();
    killed.extend_from_slice(&[0u8; HEADER as usize]);
    killed.extend_from_slice(&[b'x'; 300]);
    std::fs::write(&journal, &killed).expect("write");
    let b = Board::open(dir.path(), log_key()).expect("opens");
    assert_eq!(b.size(), 13);
    drop(b);
    assert_eq!(std::fs::read(&journal).expect("read"), good);
}

#[test]
fn every_byte_of_the_last_cosigned_note_and_the_settled_packs_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    board(dir.path());
    {
        let b = Board::open(dir.path(), log_key()).expect("open");
        let note = b.latest().bytes.clone();
        b.store().put_cosigned(13, &note).expect("cosigned");
    }
    let cosigned = dir.path().join("cosigned");
    let good = std::fs::read(&cosigned).expect("read");
    let last = last_record(&cosigned) as usize;
    for cut in last + 1..good.len() {
        std::fs::write(&cosigned, &good[..cut]).expect("write");
        assert!(refusal(dir.path()).is_some(), "cosigned cut at {cut}");
    }
    for at in last..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&cosigned, &bad).expect("write");
        assert!(refusal(dir.path()).is_some(), "cosigned byte {at} flipped");
    }
    std::fs::write(&cosigned, &good).expect("write");
    // Settled packs: a byte short is refused; so is a damaged leaf-index run.
    {
        let (mut s, _) = FileStore::open(dir.path(), &verifiers()).expect("open");
        s.settle_now().expect("settle");
    }
    for name in [
        "offsets",
        "tile-0",
        "checkpoints",
        "checkpoints.idx",
        "entries",
    ] {
        let p = dir.path().join("packs").join(name);
        let bytes = std::fs::read(&p).expect("read");
        std::fs::write(&p, &bytes[..bytes.len() - 1]).expect("write");
        assert_eq!(
            refusal(dir.path()),
            Some(ErrorCode::StoreTruncated),
            "packs/{name} a byte short"
        );
        std::fs::write(&p, &bytes).expect("write");
    }
    let run = std::fs::read_dir(dir.path().join("leaves"))
        .expect("list")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    let bytes = std::fs::read(&run).expect("read");
    for at in [0, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        std::fs::write(&run, &bad).expect("write");
        assert_eq!(
            refusal(dir.path()),
            Some(ErrorCode::StoreCorrupt),
            "run byte {at}"
        );
    }
    std::fs::write(&run, &bytes).expect("write");
    assert_eq!(
        Board::open(dir.path(), log_key()).expect("opens").size(),
        13
    );
}

#[test]
fn a_second_writer_is_refused_and_an_old_layout_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    board(dir.path());
    let b = Board::open(dir.path(), log_key()).expect("open");
    assert_eq!(refusal(dir.path()), Some(ErrorCode::StoreLocked));
    drop(b);
    assert_eq!(refusal(dir.path()), None);
    let old = tempfile::tempdir().expect("tempdir");
    std::fs::write(old.path().join("db"), b"sled").expect("write");
    assert_eq!(refusal(old.path()), Some(ErrorCode::StoreVersion));
    let empty = tempfile::tempdir().expect("tempdir");
    assert_eq!(refusal(empty.path()), Some(ErrorCode::StoreMissing));
}
