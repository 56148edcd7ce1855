//! The `tallyboard-verify` binary's exit codes (0 verified, 1 failed, 2
//! could not run) and JSON output, on a small read path written here from
//! the core and the synthetic election (no board involved).

mod support;

use std::path::Path;
use std::process::Command;
use support::{election, registered_and_reported, write};
use tallyboard_synth::SyntheticLog;

/// Writes a read path for a 30-station election; returns the log vkey.
fn export(root: &Path) -> String {
    let e = election(30);
    let log = registered_and_reported(&e);
    support::export(root, &log, &e);
    log.vkey()
}

/// Makes a receipt for entry `index` with `prove` into `dir`; returns the
/// paths of the receipt and of the entry.
fn prove(dir: &Path, src: &str, vkey: &str, index: u64) -> (String, String) {
    let r = dir.join("r.tlog-proof").display().to_string();
    let e = dir.join("entry").display().to_string();
    let index = index.to_string();
    let (code, out) = verify(&[
        "prove",
        &index,
        "--source",
        src,
        "--log-vkey",
        vkey,
        "--out",
        &r,
        "--entry-out",
        &e,
    ]);
    assert_eq!(code, 0, "{out}");
    (r, e)
}

/// A temporary directory holding the 30-station export in `out/`: the
/// directory, the export's path and the log vkey.
fn exported() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("out");
    let vkey = export(&root);
    (dir, root, vkey)
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
    let (dir, root, vkey) = exported();
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
    let (rs, es) = prove(dir.path(), &src, &vkey, 40);
    let (code, out) = verify(&["receipt", "--log-vkey", &vkey, &es, &rs]);
    assert_eq!(code, 0, "{out}");
    std::fs::write(&es, b"another entry").unwrap();
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
    // The tiles and the checkpoint are rebuilt over the forged entry.
    for (path, bytes) in SyntheticLog::new(forged).files() {
        write(&root, &path, &bytes);
    }
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

/// Runs `inclusion STATION --json` (and any `extra` arguments); returns the
/// exit code and the report.
fn inclusion(src: &str, vkey: &str, station: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec![
        "inclusion",
        station,
        "--source",
        src,
        "--log-vkey",
        vkey,
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out) = verify(&args);
    let report = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, report)
}

fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report}"))
}

/// `inclusion` checks every entry with the key its kind requires
/// (spec/validation.md §1 step 6): an approved tally and an annulled box
/// verify with the supervisor's key, and an approval signed by the
/// authority instead is refused with `entry.wrong-signer`.
#[test]
fn inclusion_checks_supervisor_entries_with_the_supervisors_key() {
    use tallyboard_core::entry::SignedEntry;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("out");
    let e = election(6);
    let mut log = registered_and_reported(&e);
    let tally_at = |i: usize| 1 + 6 + i as u64;
    let tally = |log: &SyntheticLog, i: usize| log.entries()[tally_at(i) as usize].clone();
    let approved = log.push(e.approval_entry(0, tally_at(0), &tally(&log, 0)));
    let annulled = log.push(e.annulment_entry(1, "ballot-stuffing", "observers' report"));
    let by_authority = SignedEntry::parse(&e.approval_entry(2, tally_at(2), &tally(&log, 2)))
        .unwrap()
        .entry;
    let forged = log.push(e.sign_as_authority(&by_authority));
    support::export(&root, &log, &e);
    let (src, vkey) = (root.display().to_string(), log.vkey());
    let supervisor = tallyboard_synth::keys::role_name("supervisor").unwrap();

    for (i, index, kind) in [
        (0, approved, "tallyboard/approval/v1"),
        (1, annulled, "tallyboard/annulment/v1"),
    ] {
        let (code, r) = inclusion(&src, &vkey, e.station_id(i), &[]);
        assert_eq!(code, 0, "{r:#}");
        assert_eq!(r["verified"], true);
        let rows = r["entries"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "registration, tally, supervision: {r:#}");
        let row = rows.iter().find(|x| x["index"] == index).unwrap();
        assert_eq!(row["kind"], kind);
        assert_eq!(row["included"], true);
        assert_eq!(row["signature"], "valid");
        assert_eq!(row["role"], "supervisor");
        assert_eq!(row["signer"], supervisor);
        let tally_row = rows.iter().find(|x| x["index"] == tally_at(i)).unwrap();
        assert_eq!(tally_row["role"], "station");
        assert_eq!(tally_row["key_index"], 1 + i as u64);
        assert_eq!(check(&r, "entry-signature")["status"], "pass");
    }

    let (code, r) = inclusion(&src, &vkey, e.station_id(2), &[]);
    assert_eq!(code, 1, "{r:#}");
    let sig = check(&r, "entry-signature");
    assert_eq!(sig["status"], "fail");
    assert_eq!(sig["code"], "entry.wrong-signer");
    assert_eq!(sig["data"]["entries"][0]["index"], forged);
    assert_eq!(r["findings"][0]["code"], "entry.wrong-signer");
    assert_eq!(r["findings"][0]["entry"], forged);
    // Everything else about the station still holds: the failure is pinned down.
    assert_eq!(check(&r, "entry-inclusion")["status"], "pass");
    assert_eq!(check(&r, "registration-signature")["status"], "pass");

    // The human report names the role and the code.
    let (code, out) = verify(&[
        "inclusion",
        e.station_id(2),
        "--source",
        &src,
        "--log-vkey",
        &vkey,
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("entry.wrong-signer"), "{out}");
    assert!(out.contains("FAILED"), "{out}");
}

/// `--policy` on `checkpoint`, `inclusion` and `receipt`: the witness
/// quorum is required on the checkpoint each of them opens.
#[test]
fn the_witness_policy_is_checked_by_every_command() {
    let (dir, root, vkey) = exported();
    let src = root.display().to_string();
    let guardian = tallyboard_synth::witness_vkey("witness-guardian")
        .unwrap()
        .to_vkey_string();
    let policy = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let none = policy("none.txt", format!("log {vkey}\nquorum none\n"));
    let guarded = policy(
        "guarded.txt",
        format!("log {vkey}\nwitness guardian {guardian}\nquorum guardian\n"),
    );
    let other_log = policy(
        "other.txt",
        format!(
            "log {guardian_log}\nquorum none\n",
            guardian_log = other_log_vkey()
        ),
    );
    let station = election(30).station_id(3).to_string();

    let (code, r) = inclusion(&src, &vkey, &station, &["--policy", &none]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "witness-cosignatures")["status"], "pass");
    let (code, r) = inclusion(&src, &vkey, &station, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(check(&r, "witness-cosignatures")["status"], "info");
    let (code, r) = inclusion(&src, &vkey, &station, &["--policy", &guarded]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(
        check(&r, "witness-cosignatures")["code"],
        "policy.quorum-not-met"
    );
    assert_eq!(
        check(&r, "witness-cosignatures")["data"]["quorum"],
        "guardian"
    );
    let (code, r) = inclusion(&src, &vkey, &station, &["--policy", &other_log]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(
        check(&r, "witness-cosignatures")["code"],
        "policy.log-not-listed"
    );

    for (p, want) in [(&none, 0), (&guarded, 1)] {
        let (code, out) = verify(&[
            "checkpoint",
            "--source",
            &src,
            "--log-vkey",
            &vkey,
            "--policy",
            p,
        ]);
        assert_eq!(code, want, "{out}");
    }

    let (rs, es) = prove(dir.path(), &src, &vkey, 40);
    let (code, out) = verify(&["receipt", "--log-vkey", &vkey, "--policy", &none, &es, &rs]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(&[
        "receipt",
        "--log-vkey",
        &vkey,
        "--policy",
        &guarded,
        &es,
        &rs,
        "--json",
    ]);
    assert_eq!(code, 1, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["findings"][0]["code"], "policy.quorum-not-met");
    assert_eq!(check(&j, "entry-inclusion")["status"], "pass");

    // A malformed policy is a failure to run, naming the line.
    let bad = policy("bad.txt", "quorum nobody\n".into());
    let (code, _) = verify(&[
        "inclusion",
        &station,
        "--source",
        &src,
        "--log-vkey",
        &vkey,
        "--policy",
        &bad,
    ]);
    assert_eq!(code, 2);
}

/// A log key other than the demo log's (the authority's, as a type 0x01 key).
fn other_log_vkey() -> String {
    tallyboard_synth::keys::role_key("authority")
        .unwrap()
        .verifier()
        .to_vkey_string()
}

/// `audit --roles DIR` pins the role keys: the repository's keys/ match
/// the demo election's manifest; a directory whose authority key is
/// another (what a verifier holding the real authority's key sees when a
/// log operator commits a manifest of its own) fails with
/// `manifest.role-key-mismatch`, and no pin says so in the report.
#[test]
fn audit_pins_the_role_keys_it_is_given() {
    let (dir, root, vkey) = exported();
    let src = root.display().to_string();
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../../keys");
    let (code, out) = verify(&[
        "audit",
        "--source",
        &src,
        "--log-vkey",
        &vkey,
        "--roles",
        keys,
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        j["role_keys"].as_str().unwrap().starts_with("pinned"),
        "{j}"
    );

    let (code, out) = verify(&["audit", "--source", &src, "--log-vkey", &vkey, "--json"]);
    assert_eq!(code, 0, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(j["role_keys"].as_str().unwrap().contains("--roles"), "{j}");

    let other = dir.path().join("other-keys");
    std::fs::create_dir_all(&other).unwrap();
    let stranger = tallyboard_core::note::SignerKey::from_seed("moi.example/authority", [5; 32])
        .unwrap()
        .verifier()
        .to_vkey_string();
    std::fs::write(other.join("authority.vkey"), format!("{stranger}\n")).unwrap();
    let (code, out) = verify(&[
        "audit",
        "--source",
        &src,
        "--log-vkey",
        &vkey,
        "--roles",
        other.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "manifest.role-key-mismatch")
        .unwrap_or_else(|| panic!("{j}"));
    assert!(f["message"].as_str().unwrap().contains(&stranger), "{f}");

    // A directory without an authority key pins nothing: could not run.
    let empty = dir.path().join("no-keys");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _) = verify(&[
        "audit",
        "--source",
        &src,
        "--log-vkey",
        &vkey,
        "--roles",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
}
