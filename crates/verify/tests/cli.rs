//! The `tallyboard-verify` binary's exit codes (0 verified, 1 failed, 2
//! could not run) and JSON output, on a small read path written here from
//! the core and the synthetic election (no board involved).

use std::path::Path;
use std::process::Command;
use tallyboard_core::checkpoint::{sign_checkpoint, Checkpoint};
use tallyboard_core::merkle::MemoryLog;
use tallyboard_core::tile::{encode_entry_bundle, read_tile, tiles_for_size, TilePath};
use tallyboard_synth::{keys, Config, SyntheticElection};

fn write(root: &Path, path: &str, bytes: &[u8]) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// Writes a read path for a 30-station election; returns the log vkey.
fn export(root: &Path) -> String {
    let e = SyntheticElection::generate(Config {
        seed: 7,
        stations: 30,
        majlis: false,
    });
    let mut entries = vec![e.commitment_entry()];
    entries.extend((0..30).map(|i| e.registration_entry(i)));
    entries.extend((0..30).map(|i| e.signed_tally(i)));
    let mut log = MemoryLog::new();
    for x in &entries {
        log.append_entry(x).unwrap();
    }
    let size = log.size();
    for t in tiles_for_size(size) {
        write(root, &t.path(), &read_tile(&t, size, &log).unwrap());
    }
    let bundle = encode_entry_bundle(entries.iter().map(Vec::as_slice)).unwrap();
    let path = TilePath::Entries {
        index: 0,
        width: size as u16,
    }
    .to_path();
    write(root, &path, &bundle);
    write(root, "api/v1/manifest.json", e.manifest_bytes());
    let key = keys::role_key("log").unwrap();
    let cp = Checkpoint {
        origin: key.name().to_string(),
        size,
        root: log.root(),
        extensions: vec![],
    };
    write(root, "checkpoint", &sign_checkpoint(&cp, &key));
    key.verifier().to_vkey_string()
}

fn verify(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tallyboard-verify"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn exit_codes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("out");
    let vkey = export(&root);
    let src = root.display().to_string();

    let (code, out) = verify(&["audit", "--source", &src, "--log-vkey", &vkey, "--json"]);
    assert_eq!(code, 0, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["verified"], true);
    assert_eq!(j["size"], 61);
    assert_eq!(j["stations_reported"], 30);

    let (code, out) = verify(&["checkpoint", "--source", &src, "--log-vkey", &vkey]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED"));

    // A vkey file works too.
    let vfile = dir.path().join("log.vkey");
    std::fs::write(&vfile, format!("{vkey}\n")).unwrap();
    let (code, _) = verify(&[
        "checkpoint",
        "--source",
        &src,
        "--log-vkey",
        &vfile.display().to_string(),
    ]);
    assert_eq!(code, 0);

    // Wrong origin: verification fails (1).
    let (code, out) = verify(&[
        "checkpoint",
        "--source",
        &src,
        "--log-vkey",
        &vkey,
        "--origin",
        "other.example/log",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("checkpoint.wrong-origin"), "{out}");

    // Receipt made by `prove`, verified by `receipt`; a different entry fails.
    let r = dir.path().join("r.tlog-proof");
    let en = dir.path().join("entry");
    let (code, _) = verify(&[
        "prove",
        "40",
        "--source",
        &src,
        "--log-vkey",
        &vkey,
        "--out",
        &r.display().to_string(),
        "--entry-out",
        &en.display().to_string(),
    ]);
    assert_eq!(code, 0);
    let (rs, es) = (r.display().to_string(), en.display().to_string());
    let (code, out) = verify(&["receipt", "--log-vkey", &vkey, &es, &rs]);
    assert_eq!(code, 0, "{out}");
    std::fs::write(&en, b"another entry").unwrap();
    let (code, _) = verify(&["receipt", "--log-vkey", &vkey, &es, &rs]);
    assert_eq!(code, 1);

    // Could not run (2): no such source, unreadable receipt, bad key, bad usage.
    let (code, _) = verify(&["audit", "--source", "/nonexistent/x", "--log-vkey", &vkey]);
    assert_eq!(code, 2);
    let (code, _) = verify(&["receipt", "--log-vkey", &vkey, &es, "/nonexistent/r"]);
    assert_eq!(code, 2);
    let (code, _) = verify(&["checkpoint", "--source", &src, "--log-vkey", "not-a-key"]);
    assert_eq!(code, 2);
    let (code, _) = verify(&["audit"]);
    assert_eq!(code, 2);

    // A tampered tally (a vote count changed, signature now invalid, root
    // unchanged because the tile and checkpoint were rebuilt): the replay
    // names the entry.
    let station = 55u64;
    let bundle_path = root.join("tile/entries/000.p/61");
    let bundle = std::fs::read(&bundle_path).unwrap();
    let entries = tallyboard_core::tile::decode_entry_bundle(&bundle).unwrap();
    let mut forged: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
    let text = String::from_utf8(forged[station as usize].clone()).unwrap();
    let pos = text.find("\nvote 11 ").unwrap() + 9;
    let mut b = text.into_bytes();
    b[pos] = if b[pos] == b'1' { b'2' } else { b'1' };
    forged[station as usize] = b;
    let mut log = MemoryLog::new();
    for x in &forged {
        log.append_entry(x).unwrap();
    }
    let size = log.size();
    for t in tiles_for_size(size) {
        write(&root, &t.path(), &read_tile(&t, size, &log).unwrap());
    }
    write(
        &root,
        "tile/entries/000.p/61",
        &encode_entry_bundle(forged.iter().map(Vec::as_slice)).unwrap(),
    );
    let key = keys::role_key("log").unwrap();
    let cp = Checkpoint {
        origin: key.name().to_string(),
        size,
        root: log.root(),
        extensions: vec![],
    };
    write(&root, "checkpoint", &sign_checkpoint(&cp, &key));
    let (code, out) = verify(&["audit", "--source", &src, "--log-vkey", &vkey, "--json"]);
    assert_eq!(code, 1, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &j["findings"][0];
    assert_eq!(f["entry"], station);
    assert!(
        f["code"] == "note.bad-signature" || f["code"].as_str().unwrap().starts_with("tally."),
        "{f}"
    );
}
