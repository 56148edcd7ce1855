//! tallyboard-verify: verify a tallyboard log from its public read path.
//!
//! Exit codes: 0 verified, 1 verification failed, 2 could not run.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tallyboard_core::policy::Policy;
use tallyboard_verify::{
    audit, checkpoint, consistency, inclusion, open_source, receipt, runoff, Error, FailedReport,
    LogKey, Report,
};

#[derive(Parser)]
#[command(
    name = "tallyboard-verify",
    version,
    about = "Independent verifier for a tallyboard log (exit 0 verified, 1 failed, 2 could not run)"
)]
struct Cli {
    /// Print the report as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct LogArgs {
    /// The log's verifier key (`name+id+base64`), or a file holding it.
    #[arg(long)]
    log_vkey: String,
    /// The checkpoint origin (default: the key's name).
    #[arg(long)]
    origin: Option<String>,
}

#[derive(clap::Args, Clone)]
struct PolicyArgs {
    /// A witness policy (C2SP tlog-policy, e.g. keys/policy.txt): the
    /// checkpoint must carry cosignatures meeting its quorum. Without it the
    /// cosignatures are reported, not required.
    #[arg(long)]
    policy: Option<PathBuf>,
}

#[derive(clap::Args, Clone)]
struct SourceArgs {
    /// The read path: a base URL (http://, https://) or an export directory.
    #[arg(long)]
    source: String,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch the current checkpoint and verify the log's signature.
    Checkpoint {
        #[command(flatten)]
        src: SourceArgs,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Verify a receipt (C2SP tlog-proof) for an entry, offline.
    Receipt {
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        policy: PolicyArgs,
        /// The entry (signed note bytes).
        entry: PathBuf,
        /// The receipt (tlog-proof).
        receipt: PathBuf,
    },
    /// Show a station's entries, each proven included at the verified checkpoint.
    Inclusion {
        /// The station id.
        station: String,
        #[command(flatten)]
        src: SourceArgs,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Accept the current checkpoint only if it extends the one in the state file.
    Consistency {
        #[command(flatten)]
        src: SourceArgs,
        #[command(flatten)]
        log: LogArgs,
        /// State file holding the newest verified checkpoint.
        #[arg(long)]
        state: PathBuf,
    },
    /// Audit the whole log: entries, tiles, manifest, signatures, rules, totals.
    Audit {
        #[command(flatten)]
        src: SourceArgs,
        #[command(flatten)]
        log: LogArgs,
        /// With a witness policy, the audited checkpoint and the
        /// checkpoint of every announcement's size must meet its quorum.
        #[command(flatten)]
        policy: PolicyArgs,
        /// Also time raw verify_strict of the same signatures (benchmark).
        #[arg(long)]
        baseline: bool,
        /// A directory of role keys to pin (authority.vkey, supervisor*.vkey,
        /// witness*.vkey, e.g. keys/): the log's manifest must name them.
        #[arg(long)]
        roles: Option<PathBuf>,
    },
    /// Check that a second round's manifest is exactly the one the first
    /// round's final announcement calls for (spec/manifest.md §6): --source
    /// and --log-vkey are the first round's read path and log key.
    Runoff {
        /// The second round's manifest (canonical JSON).
        #[arg(long)]
        manifest: PathBuf,
        #[command(flatten)]
        src: SourceArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Make a receipt (tlog-proof) for the entry at INDEX from the read path.
    Prove {
        /// The entry's index.
        index: u64,
        #[command(flatten)]
        src: SourceArgs,
        #[command(flatten)]
        log: LogArgs,
        /// Write the receipt here.
        #[arg(long)]
        out: PathBuf,
        /// Write the entry's bytes here.
        #[arg(long)]
        entry_out: PathBuf,
    },
}

fn emit<R: Report>(report: &R, json: bool) -> i32 {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("tallyboard-verify: {e}");
                return 2;
            }
        }
    } else {
        print!("{}", report.human());
    }
    if report.verified() {
        0
    } else {
        1
    }
}

fn read_file(p: &PathBuf) -> Result<Vec<u8>, Error> {
    std::fs::read(p).map_err(|e| Error::CouldNotRun(format!("reading {}: {e}", p.display())))
}

/// Reads and parses `--policy FILE`, if given; a malformed policy is a
/// failure to run (`policy.malformed`, naming the line).
fn load_policy(args: &PolicyArgs) -> Result<Option<Policy>, Error> {
    let Some(path) = &args.policy else {
        return Ok(None);
    };
    Policy::parse(&read_file(path)?)
        .map(Some)
        .map_err(|e| Error::CouldNotRun(format!("{}: {e}", path.display())))
}

fn run(cli: Cli) -> Result<i32, Error> {
    let json = cli.json;
    let key = |l: &LogArgs| LogKey::load(&l.log_vkey, l.origin.as_deref());
    let read = read_file;
    Ok(match cli.command {
        Command::Checkpoint { src, log, policy } => {
            let s = open_source(&src.source)?;
            let policy = load_policy(&policy)?;
            emit(
                &checkpoint::run_with_policy(s.as_ref(), &key(&log)?, policy.as_ref())?,
                json,
            )
        }
        Command::Receipt {
            log,
            policy,
            entry,
            receipt: r,
        } => {
            let policy = load_policy(&policy)?;
            emit(
                &receipt::verify_with_policy(
                    &key(&log)?,
                    policy.as_ref(),
                    &read(&entry)?,
                    &read(&r)?,
                )?,
                json,
            )
        }
        Command::Inclusion {
            station,
            src,
            log,
            policy,
        } => {
            let s = open_source(&src.source)?;
            let policy = load_policy(&policy)?;
            emit(
                &inclusion::run_with_policy(s.as_ref(), &key(&log)?, policy.as_ref(), &station)?,
                json,
            )
        }
        Command::Consistency { src, log, state } => {
            let s = open_source(&src.source)?;
            emit(&consistency::run(s.as_ref(), &key(&log)?, &state)?, json)
        }
        Command::Audit {
            src,
            log,
            policy,
            baseline,
            roles,
        } => {
            let s = open_source(&src.source)?;
            let opts = audit::AuditOptions {
                policy: load_policy(&policy)?,
                measure_baseline: baseline,
                roles: match &roles {
                    Some(dir) => tallyboard_verify::pins::load(dir)?,
                    None => Default::default(),
                },
            };
            emit(&audit::run_with(s.as_ref(), &key(&log)?, &opts)?, json)
        }
        Command::Runoff { manifest, src, log } => {
            let s = open_source(&src.source)?;
            match runoff::run(&read(&manifest)?, s.as_ref(), &key(&log)?) {
                Ok(r) => emit(&r, json),
                Err(Error::Failed(f)) => emit(
                    &FailedReport {
                        command: "runoff",
                        verified: false,
                        findings: vec![f],
                    },
                    json,
                ),
                Err(e) => return Err(e),
            }
        }
        Command::Prove {
            index,
            src,
            log,
            out,
            entry_out,
        } => {
            let s = open_source(&src.source)?;
            match receipt::prove(s.as_ref(), &key(&log)?, index) {
                Ok((entry, proof)) => {
                    let w = |p: &PathBuf, b: &[u8]| {
                        consistency::write_atomic(p, b).map_err(|e| {
                            Error::CouldNotRun(format!("writing {}: {e}", p.display()))
                        })
                    };
                    w(&entry_out, &entry)?;
                    w(&out, &proof)?;
                    if !json {
                        println!(
                            "receipt for entry {index} written to {} (entry to {})",
                            out.display(),
                            entry_out.display()
                        );
                    }
                    0
                }
                Err(Error::Failed(f)) => emit(
                    &FailedReport {
                        command: "prove",
                        verified: false,
                        findings: vec![f],
                    },
                    json,
                ),
                Err(e) => return Err(e),
            }
        }
    })
}

fn main() {
    let code = match run(Cli::parse()) {
        Ok(c) => c,
        Err(Error::Failed(f)) => {
            eprintln!("tallyboard-verify: verification failed: {f}");
            1
        }
        Err(Error::CouldNotRun(m)) => {
            eprintln!("tallyboard-verify: could not run: {m}");
            2
        }
    };
    std::process::exit(code);
}
