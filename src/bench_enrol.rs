//! The enrolment part of `tallyboard bench` (`--only enrol`,
//! `spec/enrolment.md` §7): `tallyboard enrol batch` run as the ministry
//! runs it, on one device key per station of the election, next to the
//! floor any batch pays (signing as many registrations on all cores, no
//! file, no check), then the bundle imported into a fresh board next to the
//! same signing floor.

use crate::bench_ha::Row;
use crate::board::Board;
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::time::Instant;
use tallyboard_core::enrol::station_key_name;
use tallyboard_core::note::{self, SignerKey, VerifierKey};
use tallyboard_synth::{keys, SyntheticElection, ELECTION_ID};

/// The rows of `bench --only enrol` for the stations of `e`.
pub fn rows(e: &SyntheticElection) -> Result<Vec<Row>> {
    let n = e.manifest().manifest().stations.len();
    let dir = crate::bench::tempfile_dir("enrol")?;
    let manifest = dir.join("manifest.json");
    std::fs::write(&manifest, e.manifest_bytes())?;
    let authority_file = dir.join("authority.key");
    let authority = keys::role_key("authority").context("demo authority key")?;
    crate::keyfile::write(&authority, &authority_file)?;

    // The devices' keys, as the field would hand them in: one a station,
    // seeded from the station id (not demo keys: a seed of our own).
    eprintln!("enrol: {n} device keys ...");
    let t = Instant::now();
    let device_keys = device_keys(e)?;
    let keygen = t.elapsed().as_secs_f64();
    let csv: String = device_keys
        .iter()
        .map(|(station, key)| format!("{station},{}\n", key.to_vkey_string()))
        .collect();
    let devices = dir.join("devices.csv");
    std::fs::write(
        &devices,
        format!("{}\n{csv}", tallyboard_core::enrol::CSV_HEADER),
    )?;

    // Baseline: the registrations' texts signed on all cores, and nothing
    // else (no list read, no check, no parse-back, no file).
    let texts: Vec<String> = device_keys
        .iter()
        .map(|(station, key)| {
            crate::key_entries::registration(e.manifest(), station, key).to_text()
        })
        .collect();
    let t = Instant::now();
    let signed: usize = texts
        .par_iter()
        .map(|text| note::sign(text, &[&authority]).map(|b| b.len()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .len();
    let floor = t.elapsed().as_secs_f64();

    eprintln!("enrol: tallyboard enrol batch of {n} devices ...");
    let bundle = dir.join("registrations.bundle");
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let out = std::process::Command::new(&exe)
        .args(["enrol", "batch", "--manifest"])
        .arg(&manifest)
        .arg("--authority-key")
        .arg(&authority_file)
        .arg("--devices")
        .arg(&devices)
        .arg("--out")
        .arg(&bundle)
        .output()
        .context("running tallyboard enrol batch")?;
    let batch = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "enrol batch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let entries = std::fs::read(&bundle)?;
    let count = tallyboard_core::tile::decode_entries(&entries)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .len();
    if count != n || signed != n {
        bail!("enrol batch wrote {count} registrations for {n} stations");
    }

    eprintln!("enrol: importing the bundle into a fresh board ...");
    let data = dir.join("board");
    let mut board = Board::create(
        &data,
        e.manifest_bytes(),
        keys::role_key("log").context("log key")?,
    )?;
    crate::import::import_entries(&mut board, &[e.commitment_entry()], 1024, None)?;
    let t = Instant::now();
    let stats =
        crate::import::import_files(&mut board, std::slice::from_ref(&bundle), 1024, false)?;
    let import = t.elapsed().as_secs_f64();
    if stats.appended != n as u64 {
        bail!(
            "the board appended {} of {n} registrations ({stats})",
            stats.appended
        );
    }
    drop(board);
    std::fs::remove_dir_all(&dir).ok();

    let threads = rayon::current_num_threads();
    let per = |s: f64| s * 1e6 / n as f64;
    let mut keys_note = String::new();
    write!(
        keys_note,
        "{keygen:.2} s to make the {n} device keys (not timed below)"
    )?;
    Ok(vec![
        (
            format!("`enrol batch`: {n} device keys from a CSV checked and their registrations signed into one bundle ({keys_note})"),
            format!("{batch:.2} s ({:.0} µs/device)", per(batch)),
            format!("signing {n} registration texts, {threads} threads: {floor:.2} s ({:.0} µs/entry)", per(floor)),
            format!("{:.1}×", batch / floor),
        ),
        (
            format!("`import` of that bundle into a board ({n} registrations, durable)"),
            format!("{import:.2} s ({:.0} µs/entry)", per(import)),
            format!("signing {n} registration texts, {threads} threads: {floor:.2} s"),
            format!("{:.1}×", import / floor),
        ),
    ])
}

/// A fresh device key for every station of `e`, named by the rule of
/// spec/keys.md §7.
fn device_keys(e: &SyntheticElection) -> Result<Vec<(String, VerifierKey)>> {
    e.manifest()
        .manifest()
        .stations
        .par_iter()
        .map(|s| {
            let name = station_key_name(&s.id, ELECTION_ID, "stations.bench.example");
            let seed = tallyboard_core::Hash::sha256(format!("bench device {}", s.id).as_bytes()).0;
            SignerKey::from_seed(&name, seed)
                .map(|k| (s.id.clone(), k.verifier()))
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect()
}
