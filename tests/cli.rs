//! The offline workflow through the binary: synth, init, import, checkpoint,
//! prove; every output checked with the core library.

use crate::util;
use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::merkle::{verify_consistency, verify_inclusion};
use tallyboard_core::note::{VerifierKey, Verifiers};
use tallyboard_core::{tile, Hash};

fn log_verifiers() -> (Verifiers, String) {
    let vkey = std::fs::read_to_string(util::repo().join("keys/log.vkey")).expect("keys/log.vkey");
    let key = VerifierKey::parse(vkey.trim_end()).expect("vkey");
    let origin = key.name().to_owned();
    let mut v = Verifiers::new();
    v.add(key);
    (v, origin)
}

#[test]
fn import_prove_and_reimport() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let key = util::repo().join("keys/demo/log.key");
    let key = key.to_str().expect("utf-8 path");
    util::ok(
        d,
        &["synth", "--out", "e", "--stations", "120", "--seed", "3"],
    );
    util::ok(
        d,
        &[
            "init",
            "--data",
            "db",
            "--manifest",
            "e/manifest.json",
            "--log-key",
            key,
        ],
    );
    let refused = util::tallyboard(
        d,
        &[
            "init",
            "--data",
            "db",
            "--manifest",
            "e/manifest.json",
            "--log-key",
            key,
        ],
    );
    assert!(!refused.status.success(), "init must not overwrite a board");
    let cp_text = util::ok(
        d,
        &[
            "import",
            "--data",
            "db",
            "--log-key",
            key,
            "--batch",
            "50",
            "e/entries.bundle",
        ],
    );
    let (verifiers, origin) = log_verifiers();
    let (cp, _) =
        open_checkpoint(cp_text.as_bytes(), &origin, &verifiers).expect("checkpoint verifies");
    assert_eq!(cp.size, 1 + 120 + 120);

    // Recompute the root from the bundle we imported.
    let bundle = std::fs::read(d.join("e/entries.bundle")).expect("bundle");
    let entries = tile::decode_entry_bundle(&bundle).expect("bundle decodes");
    let mut log = tallyboard_core::merkle::MemoryLog::new();
    for e in &entries {
        log.append_entry(e).expect("append");
    }
    assert_eq!(log.root(), cp.root);

    // An inclusion proof from the CLI verifies.
    let idx = 150u64;
    let proof: Vec<Hash> = util::ok(
        d,
        &[
            "prove",
            "inclusion",
            "--data",
            "db",
            "--log-key",
            key,
            &idx.to_string(),
        ],
    )
    .lines()
    .map(|l| Hash::from_hex(l).expect("hex hash"))
    .collect();
    let leaf = tallyboard_core::hash::leaf_hash(entries[idx as usize]);
    verify_inclusion(&leaf, idx, cp.size, &proof, &cp.root).expect("inclusion verifies");
    assert!(SignedEntry::parse(entries[idx as usize]).is_ok());

    // Importing the same file again appends nothing and keeps the root.
    let again = util::ok(
        d,
        &[
            "import",
            "--data",
            "db",
            "--log-key",
            key,
            "e/entries.bundle",
        ],
    );
    let (cp2, _) = open_checkpoint(again.as_bytes(), &origin, &verifiers).expect("verifies");
    assert_eq!((cp2.size, cp2.root), (cp.size, cp.root));

    // Consistency from an earlier issued checkpoint (size 51: the first batch).
    let old_text = util::ok(
        d,
        &[
            "checkpoint",
            "--data",
            "db",
            "--log-key",
            key,
            "--size",
            "50",
        ],
    );
    let (old, _) =
        open_checkpoint(old_text.as_bytes(), &origin, &verifiers).expect("old checkpoint");
    let proof: Vec<Hash> = util::ok(
        d,
        &[
            "prove",
            "consistency",
            "--data",
            "db",
            "--log-key",
            key,
            "50",
            &cp.size.to_string(),
        ],
    )
    .lines()
    .map(|l| Hash::from_hex(l).expect("hex"))
    .collect();
    verify_consistency(old.size, cp.size, &old.root, &cp.root, &proof).expect("consistent");
}

#[test]
fn a_bundle_with_bad_entries_is_refused_entry_by_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let key = util::repo().join("keys/demo/log.key");
    let key = key.to_str().expect("utf-8 path");
    util::ok(d, &["synth", "--out", "e", "--stations", "5"]);
    util::ok(
        d,
        &[
            "init",
            "--data",
            "db",
            "--manifest",
            "e/manifest.json",
            "--log-key",
            key,
        ],
    );
    let bundle = std::fs::read(d.join("e/entries.bundle")).expect("bundle");
    let mut entries: Vec<Vec<u8>> = tile::decode_entry_bundle(&bundle)
        .expect("decodes")
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    // Corrupt the last tally's signature and add garbage.
    let last = entries.len() - 1;
    let n = entries[last].len();
    entries[last][n - 4] ^= 0x01;
    entries.push(b"not a note".to_vec());
    let bad = tile::encode_entry_bundle(entries.iter().map(Vec::as_slice)).expect("encode");
    std::fs::write(d.join("bad.bundle"), bad).expect("write");
    let out = util::tallyboard(
        d,
        &["import", "--data", "db", "--log-key", key, "bad.bundle"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note.bad-signature") || err.contains("note.signature-line-malformed"),
        "{err}"
    );
    assert!(err.contains("2 entries were refused"), "{err}");
    let cp = util::ok(d, &["checkpoint", "--data", "db", "--log-key", key]);
    assert!(
        cp.contains(&format!("\n{}\n", entries.len() - 2)),
        "everything else went in: {cp}"
    );
}
