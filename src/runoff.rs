//! `tallyboard runoff manifest`: the second round's manifest, derived from
//! the first round's final announcement (spec/manifest.md §6).
//!
//! The first round is read from its public read path, exactly as
//! `tallyboard-verify runoff` reads it (`tallyboard_verify::runoff`), and
//! the manifest is the core's derivation: what this writes is what the
//! verifier recomputes.

use crate::keyfile;
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use tallyboard_core::manifest::runoff::{derive_runoff_manifest, RunoffParams};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_verify::runoff::{read_first_round, Pick};
use tallyboard_verify::LogKey;

/// `tallyboard runoff ...`.
#[derive(clap::Subcommand)]
pub enum RunoffCommand {
    /// Write the second round's manifest, derived from the first round's
    /// final announcement of a contest whose outcome is a runoff.
    Manifest {
        /// The first round's read path: a board's base URL or an export directory.
        #[arg(long)]
        first: String,
        /// The first round's log verifier key (or a file holding it, e.g. keys/log.vkey).
        #[arg(long)]
        first_log_vkey: String,
        /// The contest (default: the latest final announcement whose outcome is a runoff).
        #[arg(long)]
        contest: Option<String>,
        /// The index of the final announcement (default: found from the end of the log).
        #[arg(long)]
        announcement: Option<u64>,
        /// The second round's election id (not the first round's).
        #[arg(long)]
        election: String,
        /// The second round's election day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The second round's log verifier key (or a file holding it, e.g. keys/log-round-2.vkey); its name is the new log's origin.
        #[arg(long)]
        log_vkey: String,
        /// Where to write the manifest (canonical JSON; written whole or not at all).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a `runoff` command.
pub fn run(cmd: RunoffCommand) -> Result<()> {
    match cmd {
        RunoffCommand::Manifest {
            first,
            first_log_vkey,
            contest,
            announcement,
            election,
            date,
            log_vkey,
            out,
        } => {
            let params = RunoffParams {
                election_id: election,
                date,
                log_key: keyfile::read_vkey(&log_vkey)?,
            };
            let m = derive_from(&first, &first_log_vkey, contest, announcement, &params)?;
            write_whole(&out, &m.manifest().to_canonical_bytes())?;
            let c = &m.manifest().contests[0];
            let r = m.manifest().previous_round.as_ref().context("reference")?;
            println!(
                "{}: second round of {} ({}), {} stations, candidates {}; first round: final announcement at entry {}, checkpoint {} (root {}); manifest sha256 {}",
                out.display(),
                r.election,
                c.id,
                m.manifest().stations.len(),
                c.candidates
                    .iter()
                    .map(|k| format!("{} {}", k.code, k.name_en))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.announcement,
                r.checkpoint.size,
                r.checkpoint.root,
                m.digest().to_hex()
            );
            Ok(())
        }
    }
}

/// Reads the first round from `source` and derives the second round's
/// manifest (also for the demo's second round).
pub fn derive_from(
    source: &str,
    first_log_vkey: &str,
    contest: Option<String>,
    index: Option<u64>,
    params: &RunoffParams,
) -> Result<ValidatedManifest> {
    let src = tallyboard_verify::open_source(source).map_err(|e| anyhow!("{e}"))?;
    let log = LogKey::load(first_log_vkey, None).map_err(|e| anyhow!("{e}"))?;
    let pick = Pick {
        index,
        contest,
        size: None,
    };
    let first = read_first_round(src.as_ref(), &log, &pick)
        .map_err(|e| anyhow!("reading the first round from {source}: {e}"))?;
    derive_runoff_manifest(
        &first.manifest,
        &first.announcement,
        first.index,
        &first.checkpoint,
        params,
    )
    .map_err(|e| anyhow!("{e}"))
}

/// Writes through a temporary file and a rename: a reader never sees half
/// a manifest, and a failure leaves no file.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    tallyboard_verify::consistency::write_atomic(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}
