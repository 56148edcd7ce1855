//! Role keys end to end (spec/keys.md): `tallyboard key` writes a rotation
//! of the authority's key that the authority and a supervisor sign; the
//! board takes it, refuses the old key from then on and takes the new one;
//! a single role (or the log key) cannot rotate; an audit pinned to the
//! published keys/ verifies the whole chain.

#[allow(dead_code)] // shared with tests/server.rs, which uses all of it
#[path = "server/harness.rs"]
mod harness;

use harness::{run_cli, Server};
use std::ffi::OsStr;
use std::path::Path;
use tallyboard_verify::{audit, HttpSource, LogKey, Report};

fn repo(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `tallyboard key ...` in `dir`; returns the written entry.
fn key_entry(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = dir.join("entry.txt");
    let mut all: Vec<&OsStr> = vec!["key".as_ref()];
    all.extend(args.iter().map(OsStr::new));
    all.extend(["--out".as_ref(), out.as_os_str()]);
    let (ok, _, err) = run_cli(&all, dir);
    assert!(ok, "{err}");
    std::fs::read(&out).expect("entry written")
}

#[test]
fn the_authority_key_rotates_with_a_supervisor_and_the_audit_follows() {
    let s = Server::start(6, &[]);
    s.setup(0..4);
    let dir = s.dir.path();
    let manifest = s.path("manifest.json");
    let manifest = manifest.to_str().unwrap();
    let new_key = dir.join("authority-2.key");
    let (ok, new_vkey, err) = run_cli(
        &[
            "keygen".as_ref(),
            "--name".as_ref(),
            "moi.tallyboard.example/authority-2".as_ref(),
            "--out".as_ref(),
            new_key.as_os_str(),
        ],
        dir,
    );
    assert!(ok, "{err}");
    let new_vkey = new_vkey.trim().to_owned();
    let old_vkey = repo("keys/authority.vkey");
    let rotate = |authority: &str, supervisor: &str| {
        key_entry(
            dir,
            &[
                "role",
                "--manifest",
                manifest,
                "--role",
                "authority",
                "--old",
                &old_vkey,
                "--new",
                &new_vkey,
                "--reason",
                "the authority's signing device is replaced",
                "--authority-key",
                authority,
                "--supervisor-key",
                supervisor,
            ],
        )
    };
    // The log key in the supervisor's place: refused, one role is not two.
    let forged = rotate(&repo("keys/demo/authority.key"), &repo("keys/demo/log.key"));
    let r = s.submit(&forged);
    assert_eq!((r.status, r.code()), (403, "entry.wrong-signer".into()));
    let rotation = rotate(
        &repo("keys/demo/authority.key"),
        &repo("keys/demo/supervisor.key"),
    );
    s.append(&rotation);
    // The same rotation again: the old key is no longer in force.
    let again = rotate(new_key.to_str().unwrap(), &repo("keys/demo/supervisor.key"));
    let r = s.submit(&again);
    assert_eq!((r.status, r.code()), (409, "role.key-not-current".into()));

    // Station 4's registration: the old authority key is refused, the new
    // one taken.
    let station = s.e.station_id(4);
    let station_vkey = tallyboard_synth::keys::station_key(tallyboard_synth::ELECTION_ID, station)
        .verifier()
        .to_vkey_string();
    let register = |authority: &str| {
        key_entry(
            dir,
            &[
                "register",
                "--manifest",
                manifest,
                "--station",
                station,
                "--vkey",
                &station_vkey,
                "--authority-key",
                authority,
            ],
        )
    };
    let r = s.submit(&register(&repo("keys/demo/authority.key")));
    assert_eq!((r.status, r.code()), (403, "entry.wrong-signer".into()));
    s.append(&register(new_key.to_str().unwrap()));
    s.append(&s.e.signed_tally(4));

    // The audit, pinned to the published keys, follows the rotation.
    let log = LogKey::load(
        &std::fs::read_to_string(repo("keys/log.vkey")).unwrap(),
        None,
    )
    .expect("log key");
    let opts = audit::AuditOptions {
        roles: tallyboard_verify::pins::load(Path::new(&repo("keys"))).expect("pins"),
        ..Default::default()
    };
    let r = audit::run_with(&HttpSource::new(&s.url), &log, &opts).expect("audit runs");
    assert!(r.verified(), "{}", r.human());
    assert!(r.role_keys.starts_with("pinned"), "{}", r.role_keys);
    // Pinned to the rotated-in key instead: the chain must start at a key
    // the verifier trusts, so that is a mismatch.
    let mut pins = opts.roles.clone();
    pins.authority = vec![tallyboard_core::note::VerifierKey::parse(&new_vkey).unwrap()];
    let opts = audit::AuditOptions {
        roles: pins,
        ..Default::default()
    };
    let r = audit::run_with(&HttpSource::new(&s.url), &log, &opts).expect("audit runs");
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == "manifest.role-key-mismatch"),
        "{}",
        r.human()
    );
}
