//! Enrolling station devices end to end (spec/enrolment.md): devices make
//! their keys, `enrol batch` signs every registration from a CSV or a
//! directory of key files, the bundle goes to a real board (by `submit`
//! and by `import`), and a tally signed by an enrolled device is logged;
//! a bad list is reported line by line with nothing written; `enrol
//! replace` revokes a lost device and registers its successor.

#[allow(dead_code)] // shared with tests/server.rs, which uses all of it
#[path = "server/harness.rs"]
mod harness;

use harness::{run_cli, Server};
use std::ffi::OsStr;
use std::path::Path;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::note::VerifierKey;

fn repo(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn cli(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    run_cli(&args, dir)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = cli(dir, args);
    assert!(ok, "tallyboard {args:?}: {err}");
    out
}

/// `device keygen` for a station: the printed vkey, checked against the
/// printed fingerprint and the key file's mode.
fn keygen(dir: &Path, manifest: &str, station: &str, key: &str, vkey_out: &str) -> VerifierKey {
    let out = ok(
        dir,
        &[
            "device",
            "keygen",
            "--manifest",
            manifest,
            "--station",
            station,
            "--out",
            key,
            "--vkey-out",
            vkey_out,
        ],
    );
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} line in {out}"))
            .to_owned()
    };
    assert_eq!(field("station"), station);
    let vkey = VerifierKey::parse(&field("vkey")).expect("a verifier key");
    assert_eq!(field("fingerprint"), vkey.fingerprint());
    assert!(vkey
        .name()
        .starts_with(&format!("{station}.1404-presidential.")));
    let written = std::fs::read_to_string(dir.join(vkey_out)).unwrap();
    assert_eq!(written.trim_end(), vkey.to_vkey_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!out.contains("PRIVATE"), "the secret is never printed");
    vkey
}

/// The unsigned text of station `i`'s first presidential tally.
fn tally_text(s: &Server, i: usize) -> String {
    Entry::Tally(s.e.tally(i)).to_text()
}

fn batch(dir: &Path, manifest: &str, devices: &str, out: &str) -> (bool, String) {
    let (ok, _, err) = cli(
        dir,
        &[
            "enrol",
            "batch",
            "--manifest",
            manifest,
            "--authority-key",
            &repo("keys/demo/authority.key"),
            "--devices",
            devices,
            "--out",
            out,
        ],
    );
    (ok, err)
}

fn entries_of(path: &Path) -> Vec<SignedEntry> {
    let bytes = std::fs::read(path).expect("bundle written");
    tallyboard_core::tile::decode_entries(&bytes)
        .expect("a bundle")
        .into_iter()
        .map(|e| SignedEntry::parse(e).expect("a signed entry"))
        .collect()
}

#[test]
fn devices_enrolled_from_a_csv_and_a_directory_sign_tallies_the_board_takes() {
    let s = Server::start(8, &[]);
    s.append(&s.e.commitment_entry());
    let d = s.dir.path();
    let manifest = s.path("manifest.json");
    let manifest = manifest.to_str().unwrap();
    std::fs::create_dir(d.join("field")).unwrap();

    // Stations 0-2 handed in on a CSV, 3-4 as key files in a directory.
    let mut csv = String::from("station_id,vkey\r\n");
    for i in 0..5 {
        let st = s.e.station_id(i);
        let vkey = keygen(
            d,
            manifest,
            st,
            &format!("dev-{i}.key"),
            &format!("field/{st}.vkey"),
        );
        if i < 3 {
            csv.push_str(&format!("{st},{}\r\n", vkey.to_vkey_string()));
            std::fs::remove_file(d.join(format!("field/{st}.vkey"))).unwrap();
        }
    }
    // The device key is never overwritten.
    let (again, _, err) = cli(
        d,
        &[
            "device",
            "keygen",
            "--manifest",
            manifest,
            "--station",
            s.e.station_id(0),
            "--out",
            "dev-0.key",
        ],
    );
    assert!(!again && err.contains("refusing to overwrite"), "{err}");
    std::fs::write(d.join("devices.csv"), &csv).unwrap();
    std::fs::write(
        d.join("field/README.txt"),
        "collected at the provincial office\n",
    )
    .unwrap();

    let (good, err) = batch(d, manifest, "devices.csv", "csv.bundle");
    assert!(good, "{err}");
    let (good, err) = batch(d, manifest, "field", "dir.bundle");
    assert!(good, "{err}");
    let from_csv = entries_of(&d.join("csv.bundle"));
    let from_dir = entries_of(&d.join("dir.bundle"));
    assert_eq!((from_csv.len(), from_dir.len()), (3, 2));
    for (e, i) in from_csv.iter().chain(&from_dir).zip(0..) {
        match &e.entry {
            Entry::StationKey(k) => assert_eq!(k.station, s.e.station_id(i)),
            other => panic!("not a registration: {other:?}"),
        }
    }

    // Both bundles through `submit`, in order, each receipt verified.
    let log_vkey = repo("keys/log.vkey");
    for b in ["csv.bundle", "dir.bundle"] {
        let out = ok(d, &["submit", "--url", &s.url, "--log-vkey", &log_vkey, b]);
        assert!(out.contains("entries of"), "{out}");
        assert!(d.join(format!("{b}.receipts/1.tlog-proof")).exists());
    }
    // The same bundle again: every entry already logged, nothing new.
    let size = s.size();
    ok(
        d,
        &[
            "submit",
            "--url",
            &s.url,
            "--log-vkey",
            &log_vkey,
            "csv.bundle",
        ],
    );
    assert_eq!(s.size(), size);

    // A device with its enrolment package submits with no other setting.
    ok(
        d,
        &[
            "enrol",
            "package",
            "--manifest",
            manifest,
            "--station",
            s.e.station_id(3),
            "--url",
            &s.url,
            "--out",
            "pkg-3",
        ],
    );
    // A package cannot point a device at another log key, nor at a policy
    // that leaves out the election's witnesses.
    let (made, _, err) = cli(
        d,
        &[
            "enrol",
            "package",
            "--manifest",
            manifest,
            "--station",
            s.e.station_id(3),
            "--url",
            &s.url,
            "--log-vkey",
            &repo("keys/authority.vkey"),
            "--out",
            "pkg-bad",
        ],
    );
    assert!(!made && err.contains("not the manifest's log key"), "{err}");
    let log_only = format!(
        "log {}\nquorum none\n",
        std::fs::read_to_string(&log_vkey).unwrap().trim()
    );
    std::fs::write(d.join("log-only.policy"), log_only).unwrap();
    let (made, _, err) = cli(
        d,
        &[
            "enrol",
            "package",
            "--manifest",
            manifest,
            "--station",
            s.e.station_id(3),
            "--url",
            &s.url,
            "--witness-policy",
            "log-only.policy",
            "--out",
            "pkg-bad",
        ],
    );
    assert!(!made && err.contains("leaves out witness"), "{err}");
    assert!(!d.join("pkg-bad/enrolment.json").exists());
    let package: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("pkg-3/enrolment.json")).unwrap()).unwrap();
    assert_eq!(package["format"], "tallyboard/enrolment/v1");
    assert_eq!(package["station"], s.e.station_id(3));
    for i in [0, 3] {
        std::fs::write(d.join(format!("tally-{i}.txt")), tally_text(&s, i)).unwrap();
    }
    let out = ok(
        d,
        &[
            "submit",
            "--enrolment",
            "pkg-3",
            "--key",
            "dev-3.key",
            "tally-3.txt",
        ],
    );
    assert!(out.contains("logged at index"), "{out}");
    ok(
        d,
        &[
            "submit",
            "--url",
            &s.url,
            "--log-vkey",
            &log_vkey,
            "--key",
            "dev-0.key",
            "tally-0.txt",
        ],
    );
    // A tampered package is refused before anything is sent.
    std::fs::write(d.join("pkg-3/log.vkey"), format!("{}\n", s.e.station_id(0))).unwrap();
    let (sent, _, err) = cli(
        d,
        &[
            "submit",
            "--enrolment",
            "pkg-3",
            "--key",
            "dev-3.key",
            "tally-3.txt",
        ],
    );
    assert!(!sent, "{err}");

    // A station not enrolled (5) has no key on the board.
    std::fs::write(d.join("tally-5.txt"), tally_text(&s, 5)).unwrap();
    keygen(d, manifest, s.e.station_id(5), "dev-5.key", "dev-5.vkey");
    let r = s.submit(&sign_with(d, "dev-5.key", &tally_text(&s, 5)));
    assert_eq!(r.code(), "station.key-not-registered");

    // The same registrations imported offline into a fresh board.
    let data = d.join("offline");
    ok(
        d,
        &[
            "init",
            "--data",
            data.to_str().unwrap(),
            "--manifest",
            manifest,
            "--log-key",
            "log.key",
        ],
    );
    let setup = d.join("setup.bundle");
    let c = s.e.commitment_entry();
    let mut bytes = (c.len() as u16).to_be_bytes().to_vec();
    bytes.extend_from_slice(&c);
    std::fs::write(&setup, bytes).unwrap();
    let (imported, _, err) = cli(
        d,
        &[
            "import",
            "--data",
            data.to_str().unwrap(),
            "--log-key",
            "log.key",
            "setup.bundle",
            "csv.bundle",
            "dir.bundle",
        ],
    );
    assert!(imported, "{err}");
    assert!(
        err.contains("appended 6, already logged 0, refused 0"),
        "{err}"
    );
}

/// Signs an entry text with a key file, as a device does (`submit` would
/// send it; here the test sends it itself to read the refusal's code).
fn sign_with(dir: &Path, key: &str, text: &str) -> Vec<u8> {
    let skey = std::fs::read_to_string(dir.join(key)).unwrap();
    let k = tallyboard_core::note::SignerKey::parse(skey.trim_end()).unwrap();
    tallyboard_core::note::sign(text, &[&k]).unwrap()
}

#[test]
fn every_bad_line_is_reported_and_nothing_is_written() {
    let s = Server::start(4, &[]);
    let d = s.dir.path();
    let manifest = s.path("manifest.json");
    let manifest = manifest.to_str().unwrap();
    let v: Vec<String> = (0..3)
        .map(|i| {
            let st = s.e.station_id(i);
            keygen(d, manifest, st, &format!("k{i}.key"), &format!("k{i}.vkey")).to_vkey_string()
        })
        .collect();
    let (s0, s1, s2, s3) = (
        s.e.station_id(0),
        s.e.station_id(1),
        s.e.station_id(2),
        s.e.station_id(3),
    );
    let malformed = v[2].replacen('+', "+00", 1);
    let csv = [
        "station_id,vkey".to_owned(),
        format!("{s0},{}", v[0]),         // 2 good
        format!("99-999-99999,{}", v[1]), // 3 unknown station
        format!("{s0},{}", v[1]),         // 4 duplicate station (and v[1]'s name is s1's)
        format!("{s2},{malformed}"),      // 5 malformed key
        format!("{s3},{}", v[0]),         // 6 v[0] is named for s0
        format!("{s1},{}", v[1]),         // 7 good
        "just-one-field".to_owned(),      // 8 malformed line
    ]
    .join("\n");
    std::fs::write(d.join("bad.csv"), csv).unwrap();
    let (good, err) = batch(d, manifest, "bad.csv", "out.bundle");
    assert!(!good);
    for (line, code) in [
        (3, "station.unknown"),
        (4, "enrol.duplicate-station"),
        (4, "enrol.key-name"),
        (5, "key.malformed"),
        (6, "enrol.key-name"),
        (8, "enrol.line-malformed"),
    ] {
        assert!(
            err.contains(&format!("bad.csv:{line}: {code}: ")),
            "no {code} at line {line}:\n{err}"
        );
    }
    assert!(
        !err.contains("bad.csv:2:") && !err.contains("bad.csv:7:"),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
    assert!(!d.join("out.bundle").exists());

    // The same key for two stations, each named for its own station, is
    // caught too (the board alone would log both).
    let twin = {
        let k = VerifierKey::parse(&v[1]).unwrap();
        let name = format!("{s2}.1404-presidential.stations.example");
        VerifierKey::new(&name, 0x01, *k.public_key())
            .unwrap()
            .to_vkey_string()
    };
    std::fs::write(
        d.join("twin.csv"),
        format!("station_id,vkey\n{s1},{}\n{s2},{twin}\n", v[1]),
    )
    .unwrap();
    let (good, err) = batch(d, manifest, "twin.csv", "out.bundle");
    assert!(!good);
    assert!(
        err.contains("twin.csv:3: enrol.key-reused: ") && err.contains("line 2"),
        "{err}"
    );
    assert!(!d.join("out.bundle").exists());

    // A directory: the file names the station; a two-line file is bad.
    std::fs::create_dir(d.join("dir")).unwrap();
    std::fs::write(
        d.join("dir").join(format!("{s0}.vkey")),
        format!("{}\n{}\n", v[0], v[0]),
    )
    .unwrap();
    std::fs::write(d.join("dir/99-999-99999.vkey"), format!("{}\n", v[1])).unwrap();
    let (good, err) = batch(d, manifest, "dir", "out.bundle");
    assert!(!good);
    assert!(
        err.contains(&format!("{s0}.vkey: enrol.line-malformed")),
        "{err}"
    );
    assert!(err.contains("99-999-99999.vkey: station.unknown"), "{err}");
    assert!(!d.join("out.bundle").exists());
}

#[test]
fn a_lost_device_is_replaced_in_one_command() {
    let s = Server::start(4, &[]);
    s.append(&s.e.commitment_entry());
    let d = s.dir.path();
    let manifest = s.path("manifest.json");
    let manifest = manifest.to_str().unwrap();
    let st = s.e.station_id(1);
    let old = keygen(d, manifest, st, "old.key", "old.vkey");
    std::fs::write(
        d.join("devices.csv"),
        format!("station_id,vkey\n{st},{}\n", old.to_vkey_string()),
    )
    .unwrap();
    let (good, err) = batch(d, manifest, "devices.csv", "batch.bundle");
    assert!(good, "{err}");
    let log_vkey = repo("keys/log.vkey");
    ok(
        d,
        &[
            "submit",
            "--url",
            &s.url,
            "--log-vkey",
            &log_vkey,
            "batch.bundle",
        ],
    );

    let new = keygen(d, manifest, st, "new.key", "new.vkey");
    let replace = |new_vkey: &str, out: &str| {
        cli(
            d,
            &[
                "enrol",
                "replace",
                "--manifest",
                manifest,
                "--station",
                st,
                "--old-vkey",
                "old.vkey",
                "--new-vkey",
                new_vkey,
                "--reason",
                "the device was lost in transit",
                "--authority-key",
                &repo("keys/demo/authority.key"),
                "--out",
                out,
            ],
        )
    };
    // The old key as its own successor: refused, nothing written.
    let (done, _, err) = replace("old.vkey", "same.bundle");
    assert!(!done && err.contains("enrol.key-reused"), "{err}");
    assert!(!d.join("same.bundle").exists());
    let (done, _, err) = replace("new.vkey", "replace.bundle");
    assert!(done, "{err}");
    let entries = entries_of(&d.join("replace.bundle"));
    assert!(
        matches!(&entries[0].entry, Entry::StationKeyRevocation(r) if r.key == old.to_vkey_string())
    );
    assert!(matches!(&entries[1].entry, Entry::StationKey(k) if k.key == new.to_vkey_string()));
    let out = ok(
        d,
        &[
            "submit",
            "--url",
            &s.url,
            "--log-vkey",
            &log_vkey,
            "replace.bundle",
        ],
    );
    assert!(out.contains("all 2 entries"), "{out}");

    // The lost device's tally is refused; the new device's is logged.
    let text = tally_text(&s, 1);
    let r = s.submit(&sign_with(d, "old.key", &text));
    assert_eq!((r.status, r.code()), (403, "entry.wrong-signer".into()));
    s.append(&sign_with(d, "new.key", &text));
}
