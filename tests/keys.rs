//! keys/ holds exactly the demo keys the published derivation gives, and
//! `keygen` protects private keys.

use crate::util;
use tallyboard_core::note::{SignerKey, VerifierKey};
use tallyboard_synth::keys;

#[test]
fn committed_demo_keys_match_the_published_derivation() {
    for (role, name) in keys::ROLES {
        let vkey = std::fs::read_to_string(util::repo().join(format!("keys/{role}.vkey")))
            .unwrap_or_else(|e| panic!("keys/{role}.vkey: {e}"));
        let parsed = VerifierKey::parse(vkey.trim_end()).expect("vkey parses");
        assert_eq!(parsed.name(), *name);
        let derived = keys::role_key(role).expect("role");
        assert_eq!(
            parsed.public_key(),
            derived.verifier().public_key(),
            "{role}"
        );
        let skey = std::fs::read_to_string(util::repo().join(format!("keys/demo/{role}.key")))
            .expect("demo key");
        let signer = SignerKey::parse(skey.trim_end()).expect("demo key parses");
        assert_eq!(
            signer.verifier().public_key(),
            derived.verifier().public_key()
        );
        let expected_type = if role.starts_with("witness") {
            0x04
        } else {
            0x01
        };
        assert_eq!(parsed.sig_type(), expected_type, "{role}");
    }
}

#[test]
fn the_published_fingerprints_are_the_keys_fingerprints() {
    // keys/README.md lists each demo key's fingerprint (spec/keys.md §6),
    // and `tallyboard fingerprint` prints the same.
    let readme = std::fs::read_to_string(util::repo().join("keys/README.md")).unwrap();
    for (role, _) in keys::ROLES {
        let vkey = std::fs::read_to_string(util::repo().join(format!("keys/{role}.vkey"))).unwrap();
        let fp = VerifierKey::parse(vkey.trim_end()).unwrap().fingerprint();
        assert_eq!(fp.len(), 24);
        assert!(
            readme.contains(&format!("| `{role}.vkey` | `{fp}` |")),
            "keys/README.md lacks {role}'s fingerprint {fp}"
        );
        let out = util::ok(util::repo(), &["fingerprint", &format!("keys/{role}.vkey")]);
        assert!(out.starts_with(&fp), "{out}");
    }
}

#[test]
fn keygen_writes_0600_refuses_to_overwrite_and_never_prints_the_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = util::ok(
        dir.path(),
        &["keygen", "--name", "station.example/1", "--out", "k.key"],
    );
    let vkey = VerifierKey::parse(out.trim_end()).expect("prints a verifier key");
    assert_eq!(vkey.name(), "station.example/1");
    let secret = std::fs::read_to_string(dir.path().join("k.key")).expect("key file");
    assert!(secret.starts_with(&format!(
        "{}station.example/1+",
        tallyboard_core::note::SKEY_PREFIX
    )));
    assert!(!out.contains("PRIVATE"), "the secret must never be printed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("k.key"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = util::tallyboard(dir.path(), &["keygen", "--name", "x", "--out", "k.key"]);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("k.key")).expect("still there"),
        secret
    );
    // A bad key file is reported without quoting it.
    std::fs::write(
        dir.path().join("bad.key"),
        format!("{}oops+deadbeef+AAAA\n", tallyboard_core::note::SKEY_PREFIX),
    )
    .expect("write");
    let r = util::tallyboard(
        dir.path(),
        &["checkpoint", "--data", "nowhere", "--log-key", "bad.key"],
    );
    assert!(!r.status.success());
    assert!(!String::from_utf8_lossy(&r.stderr).contains("AAAA"));
}
