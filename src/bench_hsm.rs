//! `tallyboard bench --only hsm`: signing with keys in a PKCS#11 token
//! (a SoftHSM2 token made by `scripts/softhsm.sh`, so this part runs from
//! the source tree) next to the same work with key files, in the same run
//! (`spec/operations.md` §13, `spec/benchmarks.md`):
//!
//! * one checkpoint signature, the board's log key;
//! * every station's key registration, signed by the authority;
//! * durable import of the setup and the day's tallies, the board signing
//!   a checkpoint per group commit with its log key.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use tallyboard_core::checkpoint::{sign_checkpoint_with, Checkpoint};
use tallyboard_core::hash::Hash;
use tallyboard_core::note::{NoteSigner, SignerKey};
use tallyboard_synth::{keys, Config, RoleSigners, SyntheticElection};

use crate::board::Board;
use crate::hsm::{self, TokenKey};
use crate::import::{import_entries, synthetic_entries};
use crate::signer::RoleSigner;

type Row = (String, String, String, String);

/// A SoftHSM2 token under `dir`; returns its URI (no object). Sets
/// SOFTHSM2_CONF for this process, which the module reads.
fn token(dir: &Path) -> Result<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/softhsm.sh");
    if !script.exists() {
        bail!("bench --only hsm runs from the source tree (it needs scripts/softhsm.sh)");
    }
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("token")
        .arg(dir)
        .arg("bench")
        .output()
        .context("running scripts/softhsm.sh")?;
    if !out.status.success() {
        bail!(
            "scripts/softhsm.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout)?;
    let get = |k: &str| -> Result<String> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim_matches('\'').to_owned())
            .with_context(|| format!("softhsm.sh printed no {k}"))
    };
    std::env::set_var("SOFTHSM2_CONF", get("SOFTHSM2_CONF")?);
    Ok(format!("pkcs11:token=bench{}", get("QUERY")?))
}

/// A key generated in the token under the demo role's name.
fn token_key(token: &str, role: &str) -> Result<Arc<TokenKey>> {
    let uri = hsm::key_uri(token, keys::role_name(role).context("role")?)?;
    hsm::keygen(&uri)?;
    Ok(Arc::new(TokenKey::open(&uri)?))
}

/// Microseconds per checkpoint signature over `n` checkpoints, one thread.
fn sign_us(key: &dyn NoteSigner, n: u64) -> Result<f64> {
    let t = Instant::now();
    for size in 1..=n {
        let cp = Checkpoint {
            origin: key.verifier().name().to_owned(),
            size,
            root: Hash([size as u8; 32]),
            extensions: vec![],
        };
        sign_checkpoint_with(&cp, key).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / n as f64)
}

/// Seconds to sign every station's registration, all cores.
fn registrations_secs(e: &SyntheticElection) -> f64 {
    let t = Instant::now();
    let n: usize = (0..e.station_count())
        .into_par_iter()
        .map(|i| e.registration_entry(i).len())
        .sum();
    std::hint::black_box(n);
    t.elapsed().as_secs_f64()
}

/// Tallies per second of a durable import into a fresh board at `dir`
/// signing with `log_key`, after the setup entries.
fn import_rate(e: &SyntheticElection, dir: &Path, log_key: RoleSigner) -> Result<(f64, u64)> {
    let (setup, tallies) = synthetic_entries(e);
    let mut board = Board::create(dir, e.manifest_bytes(), log_key)?;
    import_entries(&mut board, &setup, 1024, None)?;
    let t = Instant::now();
    let s = import_entries(&mut board, &tallies, 1024, None)?;
    if s.appended != tallies.len() as u64 {
        bail!("{} of {} tallies appended", s.appended, tallies.len());
    }
    Ok((tallies.len() as f64 / t.elapsed().as_secs_f64(), s.batches))
}

/// The rows of `bench --only hsm` at `stations` stations.
pub fn rows(stations: usize) -> Result<Vec<Row>> {
    let tmp = crate::bench::tempfile_dir("bench-hsm")?;
    let rows = measure(&tmp, stations);
    let _ = std::fs::remove_dir_all(&tmp);
    rows
}

fn measure(tmp: &Path, stations: usize) -> Result<Vec<Row>> {
    let token = token(&tmp.join("token"))?;
    let log = token_key(&token, "log")?;
    let authority = token_key(&token, "authority")?;
    let file_log: SignerKey = keys::role_key("log").context("log")?;
    let mut rows = Vec::new();

    let n = 2000;
    let file_us = sign_us(&file_log, n)?;
    let token_us = sign_us(log.as_ref(), n)?;
    rows.push((
        format!("checkpoint signature with the log key in a SoftHSM2 token ({n} signatures, one thread; the signature checked against the public key)"),
        format!("{token_us:.1} µs"),
        format!("the same with the key file: {file_us:.1} µs"),
        format!("{:.1}×", token_us / file_us),
    ));

    let config = Config {
        seed: 1404,
        stations,
        majlis: false,
    };
    let file_e = SyntheticElection::generate(config.clone());
    let token_e = SyntheticElection::generate_with(
        config,
        RoleSigners {
            log: log.verifier(),
            authority,
            ..RoleSigners::demo()
        },
    );
    let file_s = registrations_secs(&file_e);
    let token_s = registrations_secs(&token_e);
    rows.push((
        format!("{stations} station-key registrations signed by the authority's key in the token ({} threads, one token session)", rayon::current_num_threads()),
        format!("{token_s:.2} s ({:.0}/s)", stations as f64 / token_s),
        format!("the authority's key file: {file_s:.2} s"),
        format!("{:.1}×", token_s / file_s),
    ));

    let (file_rate, batches) = import_rate(&file_e, &tmp.join("file"), file_log.into())?;
    let (token_rate, _) = import_rate(&token_e, &tmp.join("token-board"), RoleSigner::Token(log))?;
    rows.push((
        format!("durable import of {stations} signed tallies, the log key in the token ({batches} group commits, one checkpoint signature each)"),
        format!("{token_rate:.0} tallies/s"),
        format!("the log key in a file: {file_rate:.0} tallies/s"),
        format!("{:.2}", token_rate / file_rate),
    ));
    Ok(rows)
}
