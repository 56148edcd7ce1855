//! A station device's enrolment package (`spec/enrolment.md` §5): what the
//! device needs to know besides its own key: its station, the election's
//! manifest hash, where the boards are, the log key its receipts must
//! verify under and the witness policy its checkpoints must meet.
//!
//! ```text
//! DIR/enrolment.json       the package (tallyboard/enrolment/v1)
//! DIR/log.vkey             the log's verifier key, one line
//! DIR/witness-policy.txt   the witness policy (C2SP tlog-policy)
//! ```
//!
//! `enrol package` writes it from the manifest; `submit --enrolment DIR`
//! and `outbox --enrolment DIR` read it ([`Package::read`]), checking that
//! the files are the ones the JSON names by fingerprint and hash.

use crate::key_entries::{manifest, station_in};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tallyboard_core::note::VerifierKey;
use tallyboard_core::policy::Policy;
use tallyboard_core::Hash;

/// The package format's name and version.
pub const FORMAT: &str = "tallyboard/enrolment/v1";
/// The package's file in its directory.
pub const FILE: &str = "enrolment.json";
const LOG_VKEY_FILE: &str = "log.vkey";
const POLICY_FILE: &str = "witness-policy.txt";

/// `enrolment.json`, field by field (spec/enrolment.md §5).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Json {
    format: String,
    election: String,
    station: String,
    manifest_sha256: String,
    boards: Vec<String>,
    log_vkey: String,
    log_key_fingerprint: String,
    witness_policy: String,
    witness_policy_sha256: String,
}

/// `tallyboard enrol package`'s arguments.
#[derive(clap::Args)]
pub struct PackageArgs {
    /// The election's manifest.
    #[arg(long)]
    manifest: PathBuf,
    /// The device's station id.
    #[arg(long)]
    station: String,
    /// A board's base URL, in the order the device tries them (repeatable).
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// The log's verifier key (string or file); must be the manifest's
    /// `keys.log`, which it defaults to.
    #[arg(long)]
    log_vkey: Option<String>,
    /// The witness policy file (C2SP tlog-policy) the device checks
    /// checkpoints against; default the manifest's `witness_policy`.
    #[arg(long)]
    witness_policy: Option<PathBuf>,
    /// The package's directory (created; must not hold a package yet).
    #[arg(long)]
    out: PathBuf,
}

/// A package read and checked.
pub struct Package {
    /// The device's station.
    pub station: String,
    /// The election.
    pub election: String,
    /// SHA-256 of the manifest's canonical bytes.
    pub manifest_sha256: Hash,
    /// Board base URLs, in order.
    pub boards: Vec<String>,
    /// The log's verifier key.
    pub log_vkey: VerifierKey,
    /// The witness policy.
    pub policy: Policy,
}

/// Runs `tallyboard enrol package`.
pub fn run(a: &PackageArgs) -> Result<()> {
    let m = manifest(&a.manifest)?;
    station_in(&m, &a.station)?;
    let log = m.log_key().clone();
    if let Some(v) = &a.log_vkey {
        let given = crate::keyfile::read_vkey(v)?;
        if given != log {
            bail!(
                "--log-vkey {} is not the manifest's log key {}",
                given.to_vkey_string(),
                log.to_vkey_string()
            );
        }
    }
    let policy_text = match &a.witness_policy {
        Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        None => m.manifest().witness_policy.clone().into_bytes(),
    };
    let policy = Policy::parse(&policy_text).map_err(|e| anyhow!("witness policy: {e}"))?;
    policy
        .covers(&log, m.witness_policy())
        .map_err(|e| anyhow!("witness policy: {e}"))?;
    for u in &a.urls {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            bail!("--url {u}: a board URL starts with https:// (or http:// on a test network)");
        }
    }
    let json = Json {
        format: FORMAT.to_owned(),
        election: m.election_id().to_owned(),
        station: a.station.clone(),
        manifest_sha256: m.digest().to_hex(),
        boards: a.urls.clone(),
        log_vkey: LOG_VKEY_FILE.to_owned(),
        log_key_fingerprint: log.fingerprint(),
        witness_policy: POLICY_FILE.to_owned(),
        witness_policy_sha256: Hash::sha256(&policy_text).to_hex(),
    };
    let package = a.out.join(FILE);
    if package.exists() {
        bail!(
            "{} already exists; refusing to overwrite",
            package.display()
        );
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        crate::store::blobs::write_atomic(&a.out.join(name), bytes)
            .map_err(|e| anyhow!("writing {}: {e}", a.out.join(name).display()))
    };
    write(
        LOG_VKEY_FILE,
        format!("{}\n", log.to_vkey_string()).as_bytes(),
    )?;
    write(POLICY_FILE, &policy_text)?;
    // The JSON last: a package whose JSON exists is whole.
    let mut text = serde_json::to_string_pretty(&json)?;
    text.push('\n');
    write(FILE, text.as_bytes())?;
    eprintln!(
        "wrote the enrolment package of station {} to {} (log key fingerprint {})",
        a.station,
        a.out.display(),
        json.log_key_fingerprint
    );
    Ok(())
}

impl Package {
    /// Reads the package in `dir` and checks it: its format, that its
    /// files are in `dir` and are the ones it names (the log key by
    /// fingerprint, the policy by SHA-256), that the policy names the log
    /// key, and that it lists at least one board.
    pub fn read(dir: &Path) -> Result<Package> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let j: Json = serde_json::from_str(&text)
            .map_err(|e| anyhow!("{} is not an enrolment package: {e}", path.display()))?;
        let bad = |what: String| anyhow!("{}: {what}", path.display());
        if j.format != FORMAT {
            return Err(bad(format!("format {:?}, expected {FORMAT:?}", j.format)));
        }
        if j.boards.is_empty() {
            return Err(bad("it lists no board".into()));
        }
        let file = |name: &str| -> Result<Vec<u8>> {
            // The files sit beside the JSON: a name is never a path.
            if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(bad(format!("{name:?} is not a file name")));
            }
            std::fs::read(dir.join(name))
                .with_context(|| format!("reading {}", dir.join(name).display()))
        };
        let vkey = String::from_utf8(file(&j.log_vkey)?)
            .map_err(|_| bad("log key is not UTF-8".into()))?;
        let log_vkey =
            VerifierKey::parse(vkey.trim_end()).map_err(|e| bad(format!("log key: {e}")))?;
        if log_vkey.fingerprint() != j.log_key_fingerprint {
            return Err(bad(format!(
                "{} has fingerprint {}, not the package's {}",
                j.log_vkey,
                log_vkey.fingerprint(),
                j.log_key_fingerprint
            )));
        }
        let policy_text = file(&j.witness_policy)?;
        if Hash::sha256(&policy_text).to_hex() != j.witness_policy_sha256 {
            return Err(bad(format!(
                "{} is not the policy it names (SHA-256)",
                j.witness_policy
            )));
        }
        let policy =
            Policy::parse(&policy_text).map_err(|e| bad(format!("witness policy: {e}")))?;
        if !policy.logs.iter().any(|l| l.key == log_vkey) {
            return Err(bad("the witness policy does not name the log key".into()));
        }
        let manifest_sha256 = Hash::from_hex(&j.manifest_sha256)
            .ok_or_else(|| bad("manifest_sha256 is not 64 hex digits".into()))?;
        Ok(Package {
            station: j.station,
            election: j.election,
            manifest_sha256,
            boards: j.boards,
            log_vkey,
            policy,
        })
    }
}
