//! spec/vectors/ is what the code produces (no drift), and a consumer that
//! reads only the files gets the verdicts they state.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{verify_consistency, verify_inclusion, MemoryLog};
use tallyboard_core::note::{self, VerifierKey, Verifiers};
use tallyboard_core::state::LogState;
use tallyboard_core::Hash;

fn read(name: &str) -> Value {
    let path = format!("{}/../../spec/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("vector file is JSON")
}

#[test]
fn committed_vectors_are_what_the_generator_makes() {
    for (name, value) in tallyboard_synth::vectors::all() {
        assert_eq!(read(name), value, "spec/vectors/{name} is stale: run `cargo run -p tallyboard-synth --example gen-vectors`");
    }
}

fn bytes_of(v: &Value) -> Vec<u8> {
    match (v.get("signed_note"), v.get("signed_note_hex")) {
        (Some(Value::String(s)), _) => s.clone().into_bytes(),
        (_, Some(Value::String(h))) => hex::decode(h).expect("hex"),
        _ => panic!("vector without bytes: {v}"),
    }
}

#[test]
fn entry_vectors_parse_verify_and_fail_as_stated() {
    let v = read("entries.json");
    for case in v["valid"].as_array().expect("valid") {
        let bytes = bytes_of(case);
        let signed = SignedEntry::parse(&bytes).expect("valid vector parses");
        assert_eq!(
            signed.entry.to_text(),
            case["statement"].as_str().expect("statement")
        );
        assert_eq!(
            leaf_hash(&bytes).to_hex(),
            case["leaf_hash"].as_str().expect("leaf")
        );
        let key =
            VerifierKey::parse(case["signer_vkey"].as_str().expect("vkey")).expect("vkey parses");
        let mut vs = Verifiers::new();
        vs.add(key);
        note::open(&bytes, 65_535, &vs).expect("signature verifies");
    }
    for case in v["invalid"].as_array().expect("invalid") {
        let err = SignedEntry::parse(&bytes_of(case)).expect_err("invalid vector refused");
        assert_eq!(
            err.code().as_str(),
            case["code"].as_str().expect("code"),
            "{}",
            case["description"]
        );
    }
}

#[test]
#[allow(clippy::map_entry)] // the insert happens only on acceptance, deep in the match
fn log_vectors_replay_to_the_stated_verdicts_and_root() {
    let v = read("log.json");
    let manifest =
        ValidatedManifest::from_bytes(v["manifest"].as_str().expect("manifest").as_bytes())
            .expect("manifest valid");
    assert_eq!(
        manifest.digest().to_hex(),
        v["manifest_sha256"].as_str().expect("digest")
    );
    let mut state = LogState::new(Arc::new(manifest));
    let mut log = MemoryLog::new();
    let mut logged: Vec<Vec<u8>> = Vec::new();
    let mut leaves: HashMap<Hash, u64> = HashMap::new();
    let mut leaf_order: Vec<Hash> = Vec::new();
    for case in v["entries"].as_array().expect("entries") {
        let bytes = bytes_of(case);
        let expect = case["expect"].as_str().expect("expect");
        let leaf = leaf_hash(&bytes);
        let verdict = if leaves.contains_key(&leaf) {
            "duplicate".to_owned()
        } else {
            let checked = SignedEntry::parse(&bytes)
                .map_err(|e| e.code())
                .and_then(|signed| {
                    state
                        .validate(
                            &signed,
                            &tallyboard_core::state::EntryBytes::new(&logged, &leaf_order, &log),
                        )
                        .map(|()| signed)
                        .map_err(|e| e.code())
                });
            match checked {
                Err(code) => code.as_str().to_owned(),
                Ok(signed) => {
                    let index = log.append_entry(&bytes).expect("append");
                    logged.push(bytes.clone());
                    leaves.insert(leaf, index);
                    leaf_order.push(leaf);
                    state
                        .apply(index, leaf, &signed.entry)
                        .expect("an accepted entry applies");
                    "accepted".to_owned()
                }
            }
        };
        assert_eq!(verdict, expect, "{}", case["description"]);
    }
    assert_eq!(log.size(), v["final_size"].as_u64().expect("size"));
    assert_eq!(log.root().to_hex(), v["final_root"].as_str().expect("root"));
}

#[test]
fn merkle_vectors_verify() {
    let v = read("merkle.json");
    let mut log = MemoryLog::new();
    for (i, e) in v["entries"].as_array().expect("entries").iter().enumerate() {
        log.append_entry(e.as_str().expect("entry").as_bytes())
            .expect("append");
        assert_eq!(log.root().to_hex(), v["roots"][i].as_str().expect("root"));
    }
    let size = log.size();
    let hashes = |p: &Value| -> Vec<Hash> {
        p.as_array()
            .expect("proof")
            .iter()
            .map(|h| Hash::from_hex(h.as_str().expect("hex")).expect("hash"))
            .collect()
    };
    let entries = v["entries"].as_array().expect("entries");
    for case in v["inclusion"].as_array().expect("inclusion") {
        let i = case["index"].as_u64().expect("index");
        let leaf = leaf_hash(entries[i as usize].as_str().expect("entry").as_bytes());
        verify_inclusion(&leaf, i, size, &hashes(&case["proof"]), &log.root()).expect("inclusion");
    }
    for case in v["consistency"].as_array().expect("consistency") {
        let old = case["old"].as_u64().expect("old");
        let old_root =
            Hash::from_hex(v["roots"][(old - 1) as usize].as_str().expect("root")).expect("hash");
        verify_consistency(old, size, &old_root, &log.root(), &hashes(&case["proof"]))
            .expect("consistency");
    }
}
