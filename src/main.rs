//! tallyboard: the board's command line.
//!
//! `tallyboard demo` runs the main job; `tallyboard --help` lists the rest.
#![forbid(unsafe_code)]

mod bench;
mod bench_enrol;
mod bench_ha;
mod bench_hsm;
mod bench_http;
mod board;
mod demo;
mod enrol;
mod enrol_package;
mod hsm;
mod http_limits;
mod import;
mod key_entries;
mod keyfile;
mod loadtest;
mod log;
mod mirror;
mod ops_view;
mod outbox;
mod publish;
mod runoff;
mod server;
mod signer;
mod site;
mod standby;
mod station;
mod store;
mod submit;
mod witness;
mod witness_client;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use tallyboard_core::merkle;

#[derive(Parser)]
#[command(
    name = "tallyboard",
    version,
    about = "A verifiable public bulletin board for election results"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of its largest variant (`serve`'s many
// options) costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum HsmCommand {
    /// Generate an Ed25519 key inside the token (sensitive, never extractable) and print its verifier key and fingerprint (spec/keys.md §6).
    Keygen {
        /// The key's PKCS#11 URI: pkcs11:token=LABEL;object=KEY-NAME?module-path=MODULE&pin-source=file:PIN-FILE (the object label is the key name; for the log key, the log's origin).
        #[arg(long)]
        key: String,
    },
    /// Print the verifier key and fingerprint of a key already in the token (after a signature check).
    Show {
        /// The key's PKCS#11 URI.
        #[arg(long)]
        key: String,
    },
}

// Parsed once per process: the size of the largest variant (`serve`'s
// many flags) costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Generate an Ed25519 signer key; writes the private key (mode 0600) and prints the verifier key.
    Keygen {
        /// Key name (for the log key: the log's origin).
        #[arg(long)]
        name: String,
        /// Where to write the private key (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Keys in a PKCS#11 token (spec/operations.md §13).
    Hsm {
        #[command(subcommand)]
        action: HsmCommand,
    },
    /// Write a signed station-key registration or revocation, or a role-key
    /// change (spec/keys.md §4), ready for `tallyboard submit`.
    Key {
        #[command(subcommand)]
        entry: key_entries::KeyEntry,
    },
    /// A second round: derive its manifest from the first round's final announcement (spec/manifest.md §6).
    Runoff {
        #[command(subcommand)]
        what: runoff::RunoffCommand,
    },
    /// A station device's key: `device keygen` (spec/enrolment.md §1).
    Device {
        #[command(subcommand)]
        command: enrol::DeviceCommand,
    },
    /// Enrol station devices: a checked, signed batch of registrations, a
    /// device's enrolment package, the replacement of a lost device
    /// (spec/enrolment.md).
    Enrol {
        #[command(subcommand)]
        command: enrol::EnrolCommand,
    },
    /// Create a new board for a manifest.
    Init {
        /// Data directory (must not hold a board yet), or the URL of an empty PostgreSQL database (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The manifest (canonical JSON).
        #[arg(long, env = "TALLYBOARD_MANIFEST")]
        manifest: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
    },
    /// Append files of signed entries offline (entry bundles: uint16 length-prefixed entries).
    Import {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// Entries per durable write (group commit).
        #[arg(long, default_value_t = 1024)]
        batch: usize,
        /// Print the process's resident memory after opening and after each file, for the benchmark.
        #[arg(long, hide = true)]
        report_rss: bool,
        /// Bundle files to import, in order.
        files: Vec<PathBuf>,
    },
    /// Publish the read path to a directory or an S3-compatible bucket: only
    /// new objects, checkpoint last (spec/publishing.md). While `serve` holds
    /// the data directory, use `serve --publish` instead.
    Publish {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file or PKCS#11 URI (opening verifies the whole store).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// A directory, or s3://BUCKET[/PREFIX] (credentials from AWS_ACCESS_KEY_ID,
        /// AWS_SECRET_ACCESS_KEY and the other standard AWS_* variables).
        #[arg(long)]
        to: publish::Target,
        #[command(flatten)]
        s3: S3Args,
    },
    /// Write the read path (checkpoint, tiles, entry bundles, manifest, blobs) as static files, C2SP tlog-tiles layout (`publish` to a directory).
    Export {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file or PKCS#11 URI (opening verifies the whole store).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// Output directory (extended incrementally; `checkpoint` is written last).
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-verify the board's store in full (spec/storage.md §5): every stored
    /// hash recomputed from the entries, every stored checkpoint and cosigned
    /// note verified under the log key, the log state rebuilt from scratch.
    VerifyStore {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
    },
    /// Print an inclusion or consistency proof (hex hashes, one per line).
    Prove {
        #[command(subcommand)]
        what: ProveCommand,
    },
    /// Print the latest signed checkpoint, or the one of a given size.
    Checkpoint {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file or PKCS#11 URI (opening verifies the whole store).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// A size for which a checkpoint was issued.
        #[arg(long)]
        size: Option<u64>,
    },
    /// Write a synthetic national election: manifest.json and entries.bundle.
    Synth {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Number of stations.
        #[arg(long, default_value_t = 59_000)]
        stations: usize,
        /// Seed.
        #[arg(long, default_value_t = 1404)]
        seed: u64,
        /// Also hold the Majlis election: every station reports a second tally (spec/synthetic-election.md).
        #[arg(long)]
        majlis: bool,
    },
    /// Run the national election offline and print the signed checkpoint.
    Demo {
        /// Number of stations.
        #[arg(long, default_value_t = 59_000)]
        stations: usize,
        /// Seed.
        #[arg(long, default_value_t = 1404)]
        seed: u64,
        /// Store directory (reused if it already holds this election; default: a directory under the system's temp dir named after seed and stations).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Where the board (and later the site) listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Exit after the audit instead of serving until Ctrl-C.
        #[arg(long)]
        no_serve: bool,
        /// Concurrent station clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// The offline demo of the core issue: import durably, print the checkpoint.
        #[arg(long)]
        offline: bool,
        /// Also start a mirror of the board (spec/mirror.md) and print its URL.
        #[arg(long)]
        mirror: bool,
        /// Also hold the Majlis election (about 208 constituencies, the 30-seat Tehran one with about 3,500 candidates): every station reports two tallies.
        #[arg(long)]
        majlis: bool,
        /// Then hold the presidential second round the first round's final result calls for, on a second board with its own log (spec/manifest.md §6), linked from the first round's site.
        #[arg(long)]
        runoff: bool,
        /// Generate (or, on a rerun, reuse) the log, authority and supervisor keys in this PKCS#11 token and sign with them there: pkcs11:token=LABEL?module-path=MODULE&pin-source=file:PIN-FILE (spec/operations.md §13; scripts/softhsm.sh makes a throwaway SoftHSM2 token). Their verifier keys are written to the store's keys/ directory.
        #[arg(long, value_name = "TOKEN-URI", conflicts_with = "offline")]
        hsm: Option<String>,
    },
    /// Serve the board over HTTP (spec/http-api.md) until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on (port 0 picks a free port; the bound address is printed).
        #[arg(long, env = "TALLYBOARD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// The manifest: creates the board if the data directory holds none,
        /// else must be the board's manifest.
        #[arg(long, env = "TALLYBOARD_MANIFEST")]
        manifest: Option<PathBuf>,
        /// Most submissions per group commit.
        #[arg(long, env = "TALLYBOARD_MAX_BATCH", default_value_t = 1024)]
        max_batch: usize,
        /// Longest wait for more submissions once a batch has one, in
        /// milliseconds (0: a batch is what is queued; what arrives while it
        /// is made durable makes the next one).
        #[arg(long, env = "TALLYBOARD_BATCH_WAIT_MS", default_value_t = 0)]
        batch_wait_ms: u64,
        /// Submissions admitted at once; beyond it the board answers 429.
        #[arg(long, env = "TALLYBOARD_QUEUE", default_value_t = 4096)]
        queue: usize,
        /// A witness policy (C2SP tlog-policy, e.g. keys/policy.txt): the board
        /// pushes every new checkpoint to its witnesses and /checkpoint serves
        /// the newest one whose cosignatures meet the quorum (until one does,
        /// the newest signed one); spec/http-api.md §1.
        #[arg(long, env = "TALLYBOARD_WITNESS_POLICY")]
        witness_policy: Option<PathBuf>,
        #[command(flatten)]
        slow_clients: SlowClientArgs,
        /// Submissions (and blob uploads) allowed per second from one client
        /// address (an IPv6 /64), sustained; off unless given. Clients behind
        /// one NAT share it, so size it from the most stations behind one address.
        #[arg(long, env = "TALLYBOARD_SUBMIT_RATE")]
        submit_rate: Option<f64>,
        /// Requests one client address may make in a burst when --submit-rate is set.
        #[arg(long, env = "TALLYBOARD_SUBMIT_BURST", default_value_t = 20)]
        submit_burst: u32,
        #[command(flatten)]
        live: LiveArgs,
        /// Keep a static copy of the read path in a directory or s3://BUCKET[/PREFIX],
        /// published after each new checkpoint off the write path (spec/publishing.md §5).
        #[arg(long, env = "TALLYBOARD_PUBLISH")]
        publish: Option<publish::Target>,
        #[command(flatten)]
        s3: S3Args,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key); without it the board speaks plain HTTP, for a reverse proxy to terminate TLS (spec/operations.md §6.6).
        #[arg(long, env = "TALLYBOARD_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert (a file only its owner can read).
        #[arg(long, env = "TALLYBOARD_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// For a second round's board: the first round's board URL, which
        /// the site links to from every page (spec/site.md §8).
        #[arg(long, env = "TALLYBOARD_PREVIOUS_ROUND_URL", value_parser = parse_round_url)]
        previous_round_url: Option<String>,
        /// For a first round that ended in a runoff: the second round's
        /// board URL, which the site's contest pages link to (spec/site.md §8).
        #[arg(long, env = "TALLYBOARD_NEXT_ROUND_URL", value_parser = parse_round_url)]
        next_round_url: Option<String>,
    },
    /// Submit an entry to a board, verify the receipt offline and save it as FILE.tlog-proof.
    Submit {
        /// The station's private key file (to sign an unsigned entry text).
        #[arg(long, env = "TALLYBOARD_STATION_KEY")]
        key: Option<PathBuf>,
        #[command(flatten)]
        boards: BoardsArgs,
        /// Further rounds over the boards after the first, on 429, 503 and connection failures.
        #[arg(long, default_value_t = 8)]
        retries: u32,
        /// Keep the signed entry in this outbox directory before sending; if no board answers, it waits there (exit status 75) for `tallyboard outbox`.
        #[arg(long, env = "TALLYBOARD_OUTBOX")]
        outbox: Option<PathBuf>,
        /// The scan of the count minutes the tally names (minutes-sha256): uploaded once the tally is logged, signed with --key (spec/http-api.md §1.3).
        #[arg(long)]
        minutes: Option<PathBuf>,
        /// The entry file: unsigned entry text, or a signed note.
        file: PathBuf,
    },
    /// The polling station's console: asks for each figure of the count
    /// minutes (Persian or English prompts, any digits), checks the tally,
    /// shows it for confirmation, signs it, sends it to the first board that
    /// answers (or keeps it in the outbox) and shows the verified receipt's
    /// index and checkpoint size (spec/operations.md §10).
    Station {
        /// The election's manifest (canonical JSON).
        #[arg(long, env = "TALLYBOARD_MANIFEST")]
        manifest: PathBuf,
        /// The station's id in the manifest.
        #[arg(long, env = "TALLYBOARD_STATION")]
        station: String,
        /// The station's private key file.
        #[arg(long, env = "TALLYBOARD_STATION_KEY")]
        key: PathBuf,
        #[command(flatten)]
        boards: BoardsArgs,
        /// Further rounds over the boards after the first, on 429, 503 and connection failures.
        #[arg(long, default_value_t = 3)]
        retries: u32,
        /// Where the tallies (STATION.CONTEST.tally), their signed bytes and receipts are kept.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The outbox the signed tallies wait in until a board logs them (default: DIR/outbox).
        #[arg(long, env = "TALLYBOARD_OUTBOX")]
        outbox: Option<PathBuf>,
        /// The console's language: fa, en, or both side by side.
        #[arg(long, value_enum, default_value = "both")]
        lang: station::Langs,
    },
    /// Send what waits in a station's outbox (from `submit --outbox`), retrying with backoff until each entry has a verified receipt or PATIENCE runs out.
    Outbox {
        /// The outbox directory.
        #[arg(long, env = "TALLYBOARD_OUTBOX")]
        dir: PathBuf,
        #[command(flatten)]
        boards: BoardsArgs,
        /// The station's private key file, to sign the upload of a minutes scan kept with an entry.
        #[arg(long, env = "TALLYBOARD_STATION_KEY")]
        key: Option<PathBuf>,
        /// How long to keep trying (e.g. 30s, 2h); what is not sent by then waits for the next run (exit status 75).
        #[arg(long, default_value = "24h", value_parser = loadtest::parse_duration)]
        patience: std::time::Duration,
    },
    /// Print the operators' figures of a board (its /operator page, read from its /metrics; spec/operations.md §11).
    Ops {
        /// The board's (or a mirror's) base URL.
        #[arg(long)]
        url: String,
    },
    /// Print the fingerprint of each verifier key (spec/keys.md §6): what "Verify here" shows, for people to compare with the published keys.
    Fingerprint {
        /// Verifier keys, or files holding one (e.g. keys/*.vkey).
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Write the demo election's public keys to DIR/<role>.vkey and its demo-only private keys to DIR/demo/.
    DemoKeys {
        /// Output directory (normally `keys`).
        #[arg(long, default_value = "keys")]
        out: PathBuf,
        /// Write only this demo station's private key, to DIR/demo/station-<ID>.key (repeatable).
        #[arg(long = "station")]
        stations: Vec<String>,
    },
    /// Run a C2SP tlog-witness server: cosign checkpoints of the trusted logs (spec/witness.md).
    Witness {
        /// Address to listen on (port 0 picks a free port; the bound address is printed on stdout).
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
        /// Data directory: the latest cosigned checkpoint per log, and evidence.
        #[arg(long, env = "TALLYBOARD_WITNESS_DATA")]
        data: PathBuf,
        /// The witness's private key file (Go sumdb/note private-key form; cosigns as type 0x04).
        #[arg(long, env = "TALLYBOARD_WITNESS_KEY")]
        key: PathBuf,
        /// A trusted log verifier key (the vkey string, or a file holding it); the key name is the log's origin. Repeatable.
        #[arg(long = "log-vkey", required = true)]
        log_vkeys: Vec<String>,
        #[command(flatten)]
        slow_clients: SlowClientArgs,
        /// Create the data directory's witness state if it has none, and start even if a state file is missing, damaged or older than what the witness remembers cosigning (recorded as `reinitialised` evidence). Without it the witness refuses to start rather than forget.
        #[arg(long)]
        init: bool,
    },
    /// Push the board's latest checkpoint to the witnesses of a policy; print it with their cosignatures.
    Cosign {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// The witness policy (C2SP tlog-policy); witnesses with a URL are contacted.
        #[arg(long, default_value = "keys/policy.txt")]
        policy: PathBuf,
        /// Timeout of each request to a witness, in seconds.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
    /// Follow a board as a verified read-only mirror (spec/mirror.md): verify every
    /// checkpoint's consistency and every entry before storing it, serve the same
    /// read API, refuse (with evidence in DATA/evidence/) a log that rewrites history.
    Mirror {
        /// The board's base URL (or a directory holding a `tallyboard export`).
        #[arg(long)]
        from: String,
        /// Data directory (the verified copy in store/, refusals in evidence/).
        #[arg(long, env = "TALLYBOARD_MIRROR_DATA")]
        data: PathBuf,
        /// Address to serve on (port 0 picks a free port; the bound address is printed).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// The log's verifier key (or a file holding it). Without it, the key the
        /// upstream's manifest names is trusted on first use, then kept.
        #[arg(long)]
        log_key: Option<String>,
        /// A witness policy (C2SP tlog-policy): only checkpoints whose
        /// cosignatures meet its quorum are followed.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Time between polls of the upstream (e.g. 2s, 500ms).
        #[arg(long, default_value = "2s", value_parser = loadtest::parse_duration)]
        interval: std::time::Duration,
        /// Poll once and exit: 0 in step, 1 refused (evidence written), 2 could not poll.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        live: LiveArgs,
    },
    /// Load a running board for a fixed time (loopback): concurrent submitters of
    /// the synthetic election's tallies and revisions, readers of proofs and
    /// tiles; prints latency percentiles, throughput and the server's RSS.
    Loadtest {
        /// The board's base URL.
        #[arg(long, env = "TALLYBOARD_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// How long to load it (e.g. 20s, 5m).
        #[arg(long, default_value = "20s", value_parser = loadtest::parse_duration)]
        duration: std::time::Duration,
        /// Concurrent submitters.
        #[arg(long, default_value_t = 200)]
        submitters: usize,
        /// Concurrent readers of proofs and tiles.
        #[arg(long, default_value_t = 20)]
        readers: usize,
        /// Stations of the synthetic election the board serves.
        #[arg(long, default_value_t = 2000)]
        stations: usize,
        /// Seed of that election.
        #[arg(long, default_value_t = 1404)]
        seed: u64,
        /// The server's process id, to report its RSS (/proc/<pid>/status).
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Measure ingest, proofs and memory against baselines measured in the same run.
    Bench {
        /// Stations for the ingest benchmark.
        #[arg(long, default_value_t = 59_000)]
        stations: usize,
        /// Entries for the scale benchmark (root, proofs, RSS).
        #[arg(long, default_value_t = 1_000_000)]
        scale: u64,
        /// Run only this part of the benchmark (default: both), e.g. `scale`
        /// to measure memory and `serve` start-up without the ingest first.
        #[arg(long, value_enum)]
        only: Option<bench::Part>,
        /// Write the Markdown table here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Timeouts for slow clients (spec/operations.md, security).
#[derive(clap::Args)]
struct SlowClientArgs {
    /// Seconds a client has to send a request's head; also closes a
    /// keep-alive connection idle that long.
    #[arg(long, env = "TALLYBOARD_HEADER_TIMEOUT_SECS", default_value_t = 15)]
    header_timeout_secs: u64,
    /// Seconds a client has to send a whole request body once its head is in.
    #[arg(long, env = "TALLYBOARD_BODY_TIMEOUT_SECS", default_value_t = 120)]
    body_timeout_secs: u64,
}

/// The boards a station sends to, and the log key their receipts must
/// verify under (`submit`, `outbox`).
#[derive(clap::Args, Clone, Debug)]
struct BoardsArgs {
    /// A board's base URL; give several (a standby, a district relay) to try them in order (environment: comma-separated). Default: the enrolment package's boards, else http://127.0.0.1:8080.
    #[arg(long = "url", env = "TALLYBOARD_URL", value_delimiter = ',')]
    urls: Vec<String>,
    /// The log's verifier key (or a file holding it); default the enrolment package's, else fetched from the board.
    #[arg(long, env = "TALLYBOARD_LOG_VKEY")]
    log_vkey: Option<String>,
    /// The device's enrolment package (a directory, spec/enrolment.md §5): its boards and log key.
    #[arg(long, env = "TALLYBOARD_ENROLMENT")]
    enrolment: Option<PathBuf>,
}

impl BoardsArgs {
    /// The boards and pinned log key: as given, else from the enrolment
    /// package, else the local default board and no pin.
    fn resolve(self) -> Result<(Vec<String>, Option<String>)> {
        let package = match &self.enrolment {
            Some(dir) => Some(enrol_package::Package::read(dir)?),
            None => None,
        };
        if let Some(p) = &package {
            eprintln!(
                "enrolment package: station {} of {} (manifest {}), {} board(s), log key fingerprint {}, witness quorum {}",
                p.station,
                p.election,
                p.manifest_sha256.to_hex(),
                p.boards.len(),
                p.log_vkey.fingerprint(),
                p.policy.quorum.as_deref().unwrap_or("none")
            );
        }
        let urls = match (self.urls.is_empty(), &package) {
            (false, _) => self.urls,
            (true, Some(p)) => p.boards.clone(),
            (true, None) => vec!["http://127.0.0.1:8080".to_owned()],
        };
        let log_vkey = self
            .log_vkey
            .or_else(|| package.map(|p| p.log_vkey.to_vkey_string()));
        Ok((urls, log_vkey))
    }
}

/// The caps on live-update streams, for `serve` and `mirror` alike.
#[derive(clap::Args, Clone, Debug)]
struct LiveArgs {
    /// Live-update streams (GET /live) open at once, in all; beyond it
    /// the server answers 503 board.live-full (spec/http-api.md §3).
    #[arg(long, env = "TALLYBOARD_LIVE_MAX", default_value_t = server::live_limit::DEFAULT_LIVE_MAX)]
    live_max: usize,
    /// Live-update streams open at once from one client address (an IPv6
    /// /64); beyond it 503 request.too-many-streams.
    #[arg(long, env = "TALLYBOARD_LIVE_PER_CLIENT", default_value_t = server::live_limit::DEFAULT_LIVE_PER_CLIENT)]
    live_per_client: usize,
}

impl LiveArgs {
    fn limits(&self) -> Result<server::LiveLimits> {
        server::LiveLimits::new(self.live_max, self.live_per_client)
    }
}

impl SlowClientArgs {
    fn limits(&self) -> Result<http_limits::SlowClientLimits> {
        http_limits::SlowClientLimits::from_secs(self.header_timeout_secs, self.body_timeout_secs)
    }
}

/// How to reach an S3-compatible object store (`publish --to s3://...`, `serve --publish s3://...`).
#[derive(clap::Args, Clone, Debug)]
struct S3Args {
    /// Endpoint URL of an S3-compatible store (e.g. http://127.0.0.1:9000), addressed
    /// path-style; default AWS_ENDPOINT, else AWS S3 itself.
    #[arg(long)]
    endpoint: Option<String>,
    /// Region; default AWS_REGION, else us-east-1.
    #[arg(long)]
    region: Option<String>,
    /// Allow plain HTTP to the endpoint (a loopback test server).
    #[arg(long)]
    allow_http: bool,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = publish::object_sink::DEFAULT_CONCURRENCY)]
    jobs: usize,
}

impl S3Args {
    fn options(&self) -> publish::S3Options {
        publish::S3Options {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            allow_http: self.allow_http,
            concurrency: self.jobs,
        }
    }
}

#[derive(Subcommand)]
enum ProveCommand {
    /// Inclusion of the entry at INDEX in the tree of SIZE (default: latest checkpoint).
    Inclusion {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// Entry index.
        index: u64,
        /// Tree size.
        #[arg(long)]
        size: Option<u64>,
    },
    /// The receipt (C2SP tlog-proof) of the entry at INDEX against the latest checkpoint, verified before it is printed.
    Receipt {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// Entry index.
        index: u64,
    },
    /// Consistency between two tree sizes.
    Consistency {
        /// Data directory, or a PostgreSQL store's URL (postgres://USER@HOST/DB, spec/storage.md §8).
        #[arg(long, visible_alias = "store", env = "TALLYBOARD_DATA")]
        data: PathBuf,
        /// The log's private key file, or its key in a token (a PKCS#11 URI, spec/operations.md §13).
        #[arg(long, env = "TALLYBOARD_LOG_KEY", default_value = "keys/demo/log.key")]
        log_key: PathBuf,
        /// Older size.
        old: u64,
        /// Newer size.
        new: u64,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("tallyboard: {e:#}");
        std::process::exit(1);
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TALLYBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Reads a witness policy and checks that it names this board's log key.
fn read_policy(
    path: &Path,
    state: &tallyboard_core::state::LogState,
) -> Result<tallyboard_core::policy::Policy> {
    let manifest = state.manifest();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let policy = tallyboard_core::policy::Policy::parse(text.as_bytes())
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    // The board pushes checkpoints to these witnesses and serves the ones
    // they cosign; an announcement must carry the cosignatures the
    // election's committed policy (with the witness keys in force,
    // spec/keys.md) asks for (spec/announcements.md §5).
    policy
        .covers(manifest.log_key(), state.roles().witness_policy())
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(policy)
}

fn open(data: &Path, log_key: &Path) -> Result<board::Board> {
    board::Board::open(data, signer::load(log_key)?)
}

/// A round's board URL for the site's links: http(s) only, so a link can
/// never run script (`javascript:`) or leave the web.
fn parse_round_url(s: &str) -> Result<String, String> {
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<');
    if ok {
        Ok(s.trim_end_matches('/').to_owned())
    } else {
        Err("an http:// or https:// URL".into())
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen { name, out } => {
            let key = keyfile::generate(&name, &out)?;
            println!("{}", key.verifier().to_vkey_string());
        }
        Command::Key { entry } => key_entries::run(entry)?,
        Command::Runoff { what } => runoff::run(what)?,
        Command::Device { command } => enrol::run_device(command)?,
        Command::Enrol { command } => enrol::run(command)?,
        Command::Hsm { action } => {
            let vkey = match action {
                HsmCommand::Keygen { key } => hsm::keygen(&key)?,
                HsmCommand::Show { key } => {
                    tallyboard_core::note::NoteSigner::verifier(&hsm::TokenKey::open(&key)?)
                }
            };
            println!("{}", vkey.to_vkey_string());
            println!("{}  {}", vkey.fingerprint(), vkey.name());
        }
        Command::Init {
            data,
            manifest,
            log_key,
        } => {
            let bytes = std::fs::read(&manifest)
                .with_context(|| format!("reading {}", manifest.display()))?;
            let b = board::Board::create(&data, &bytes, signer::load(&log_key)?)?;
            eprintln!(
                "created board for {} in {}",
                b.manifest().election_id(),
                data.display()
            );
            print!("{}", String::from_utf8_lossy(&b.latest().bytes));
        }
        Command::Import {
            data,
            log_key,
            batch,
            report_rss,
            files,
        } => {
            let mut b = open(&data, &log_key)?;
            let stats = if report_rss {
                // For the benchmark: resident memory after opening, and
                // after each file (`rss <size> <VmRSS MiB> <VmHWM MiB>`).
                let (peak, now) = bench::rss_mib();
                eprintln!("rss-open {} {now:.1} {peak:.1}", b.size());
                let mut total = import::ImportStats::default();
                for f in &files {
                    let s = import::import_files(&mut b, std::slice::from_ref(f), batch, false)?;
                    import::add(&mut total, &s);
                    let (peak, now) = bench::rss_mib();
                    eprintln!("rss {} {now:.1} {peak:.1}", b.size());
                }
                total
            } else {
                import::import_files(&mut b, &files, batch, true)?
            };
            eprintln!("{stats}");
            print!("{}", String::from_utf8_lossy(&b.latest().bytes));
            if stats.rejected > 0 {
                bail!("{} entries were refused", stats.rejected);
            }
        }
        Command::Publish {
            data,
            log_key,
            to,
            s3,
        } => {
            let b = open(&data, &log_key)?;
            let sink = publish::open_sink(&to, &s3.options())?;
            let stats =
                publish::Publisher::new(&*sink).publish(&publish::Snapshot::at(&b, &b.latest()))?;
            eprintln!("published {stats} to {}", sink.describe());
            print!("{}", String::from_utf8_lossy(&b.latest().bytes));
        }
        Command::Export { data, log_key, out } => {
            let b = open(&data, &log_key)?;
            let sink = publish::DirSink::new(&out)?;
            let stats =
                publish::Publisher::new(&sink).publish(&publish::Snapshot::at(&b, &b.latest()))?;
            eprintln!("exported {stats} into {}", out.display());
            print!("{}", String::from_utf8_lossy(&b.latest().bytes));
        }
        Command::VerifyStore { data, log_key } => {
            let t = std::time::Instant::now();
            let b = open(&data, &log_key)?;
            let opened = t.elapsed();
            let checkpoints = b.verify_full()?;
            eprintln!(
                "verified {} entries, every stored hash and {checkpoints} stored checkpoints in {:.2} s (opening took {:.2} s)",
                b.size(),
                t.elapsed().as_secs_f64(),
                opened.as_secs_f64()
            );
            print!("{}", String::from_utf8_lossy(&b.latest().bytes));
        }
        Command::Prove { what } => match what {
            ProveCommand::Inclusion {
                data,
                log_key,
                index,
                size,
            } => {
                let b = open(&data, &log_key)?;
                let size = size.unwrap_or(b.latest().checkpoint.size);
                let proof =
                    merkle::prove_inclusion(index, size, b.store()).map_err(|e| anyhow!("{e}"))?;
                for h in proof {
                    println!("{}", h.to_hex());
                }
            }
            ProveCommand::Receipt {
                data,
                log_key,
                index,
            } => {
                let b = open(&data, &log_key)?;
                let entry = b
                    .store()
                    .entry(index)?
                    .with_context(|| format!("no entry {index}"))?;
                let receipt = b.receipt(index)?;
                let origin = &b.manifest().manifest().log.origin;
                receipt
                    .verify(&entry, origin, b.verifiers())
                    .map_err(|e| anyhow!("{e}"))?;
                print!("{}", String::from_utf8_lossy(&receipt.to_bytes()));
            }
            ProveCommand::Consistency {
                data,
                log_key,
                old,
                new,
            } => {
                let b = open(&data, &log_key)?;
                let proof =
                    merkle::prove_consistency(old, new, b.store()).map_err(|e| anyhow!("{e}"))?;
                for h in proof {
                    println!("{}", h.to_hex());
                }
            }
        },
        Command::Checkpoint {
            data,
            log_key,
            size,
        } => {
            let b = open(&data, &log_key)?;
            match size {
                None => print!("{}", String::from_utf8_lossy(&b.latest().bytes)),
                Some(s) => match b.store().checkpoint(s)? {
                    Some(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
                    None => bail!("no checkpoint was issued at size {s}"),
                },
            }
        }
        Command::Synth {
            out,
            stations,
            seed,
            majlis,
        } => {
            import::write_synthetic(&out, stations, seed, majlis)?;
        }
        Command::Demo {
            stations,
            seed,
            data,
            listen,
            no_serve,
            clients,
            offline,
            mirror,
            majlis,
            runoff,
            hsm,
        } => {
            if offline && runoff {
                bail!("--runoff plays the second round over HTTP: it does not go with --offline");
            }
            if offline {
                import::demo(stations, seed, data, majlis)?
            } else {
                demo::run(demo::DemoArgs {
                    stations,
                    seed,
                    data,
                    listen,
                    no_serve,
                    clients,
                    mirror,
                    majlis,
                    runoff,
                    hsm,
                })?
            }
        }
        Command::Serve {
            listen,
            data,
            log_key,
            manifest,
            max_batch,
            batch_wait_ms,
            queue,
            witness_policy,
            slow_clients,
            submit_rate,
            submit_burst,
            live,
            publish,
            s3,
            tls_cert,
            tls_key,
            previous_round_url,
            next_round_url,
        } => {
            init_tracing();
            let slow_clients = slow_clients.limits()?;
            let tls = match (&tls_cert, &tls_key) {
                (Some(cert), Some(key)) => {
                    keyfile::check_private_file(key)?;
                    Some(server::Tls(http_limits::tls_acceptor(cert, key)?))
                }
                _ => None,
            };
            let rate_limit = submit_rate
                .map(|r| server::RateLimit::new(r, submit_burst))
                .transpose()?;
            let live = live.limits()?;
            let key = signer::load(&log_key)?;
            // The first address served is announced as `listening on`
            // (scripts and tests read that line); a standby's later ones and
            // the writer's after a takeover are announced too.
            let announced = std::sync::atomic::AtomicBool::new(false);
            let announce = |what: &str, scheme: &str, addr: std::net::SocketAddr| {
                use std::io::Write;
                let first = !announced.swap(true, std::sync::atomic::Ordering::AcqRel);
                // Not println!: a reader of stdout that went away (it read
                // the first line) must not bring the board down.
                let mut out = std::io::stdout().lock();
                let what = if first { "listening on" } else { what };
                let _ = writeln!(out, "{what} {scheme}://{addr}");
                let _ = out.flush();
            };
            let mut listen = listen;
            let b = if store::exists(&data) {
                let b = if board::pg_url(&data).is_some() {
                    // Another board may write: stand by, serving reads,
                    // until the lease is ours (spec/storage.md §8.3).
                    let (b, addr) = standby::until_writer(&data, &key, listen, live, &|a| {
                        announce("standing by on", "http", a)
                    })?;
                    listen = addr;
                    b
                } else {
                    board::Board::open(&data, key)?
                };
                if let Some(m) = &manifest {
                    let bytes =
                        std::fs::read(m).with_context(|| format!("reading {}", m.display()))?;
                    if tallyboard_core::Hash::sha256(&bytes) != b.manifest().digest() {
                        bail!(
                            "{} is not the manifest of the board in {}",
                            m.display(),
                            data.display()
                        );
                    }
                }
                b
            } else {
                let m = manifest
                    .context("the data directory holds no board: give --manifest to create one")?;
                let bytes =
                    std::fs::read(&m).with_context(|| format!("reading {}", m.display()))?;
                board::Board::create(&data, &bytes, key)?
            };
            let config = server::Config {
                listen,
                limits: server::BatchLimits {
                    max_batch,
                    max_wait: std::time::Duration::from_millis(batch_wait_ms),
                },
                queue,
                policy: match &witness_policy {
                    Some(p) => Some(read_policy(p, b.state())?),
                    None => None,
                },
                slow_clients,
                rate_limit,
                live,
                publish: match &publish {
                    Some(target) => {
                        let sink = publish::open_sink(target, &s3.options())?;
                        // Refuse now, not in the background, a target that
                        // holds another log or history.
                        publish::check_target(&*sink, &publish::Snapshot::at(&b, &b.latest()))?;
                        Some(server::PublishTarget(std::sync::Arc::from(sink)))
                    }
                    None => None,
                },
                tls,
                rounds: server::Rounds {
                    previous: previous_round_url,
                    next: next_round_url,
                },
            };
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            server::serve(b, config, |addr| announce("writing on", scheme, addr))?;
        }
        Command::Submit {
            key,
            boards,
            retries,
            minutes,
            file,
            outbox,
        } => {
            let (urls, log_vkey) = boards.resolve()?;
            let outcome = submit::run(&submit::Options {
                key,
                urls,
                log_vkey,
                retries,
                minutes,
                file,
                outbox,
            })?;
            if let submit::Outcome::Kept = outcome {
                std::process::exit(submit::EXIT_KEPT);
            }
        }
        Command::Station {
            manifest,
            station,
            key,
            boards,
            retries,
            dir,
            outbox,
            lang,
        } => {
            let (urls, log_vkey) = boards.resolve()?;
            let outcome = station::run(&station::Options {
                manifest,
                station,
                key,
                urls,
                log_vkey,
                retries,
                dir,
                outbox,
                langs: lang,
            });
            match outcome {
                Ok(station::Outcome::Logged) => {}
                Ok(station::Outcome::Kept) => std::process::exit(submit::EXIT_KEPT),
                Err(e) if e.downcast_ref::<station::InputEnded>().is_some() => {
                    eprintln!("tallyboard: {e}");
                    std::process::exit(station::EXIT_INPUT_ENDED);
                }
                Err(e) => return Err(e),
            }
        }
        Command::Outbox {
            dir,
            boards,
            key,
            patience,
        } => {
            let (urls, log_vkey) = boards.resolve()?;
            let (logged, refused, waiting) = submit::run_outbox(&submit::OutboxOptions {
                dir,
                urls,
                log_vkey,
                key,
                patience,
            })?;
            println!("outbox: {logged} logged, {refused} refused, {waiting} still waiting");
            if waiting > 0 {
                std::process::exit(submit::EXIT_KEPT);
            }
            if refused > 0 {
                std::process::exit(1);
            }
        }
        Command::Bench {
            stations,
            scale,
            only,
            out,
        } => bench::run(stations, scale, only, out.as_deref())?,
        Command::Loadtest {
            url,
            duration,
            submitters,
            readers,
            stations,
            seed,
            pid,
        } => loadtest::run(&loadtest::Options {
            url,
            duration,
            submitters,
            readers,
            stations,
            seed,
            pid,
        })?,
        Command::DemoKeys { out, stations } if !stations.is_empty() => {
            keyfile::write_demo_station_keys(&out, &stations)?
        }
        Command::DemoKeys { out, .. } => keyfile::write_demo_keys(&out)?,
        Command::Ops { url } => ops_view::run(&url)?,
        Command::Fingerprint { keys } => {
            for k in &keys {
                let key = keyfile::read_vkey(k)?;
                println!("{}  {}", key.fingerprint(), key.name());
            }
        }
        Command::Mirror {
            from,
            data,
            listen,
            log_key,
            policy,
            interval,
            once,
            live,
        } => {
            init_tracing();
            let options = mirror::Options {
                from,
                data,
                listen,
                log_key,
                policy,
                interval,
                once,
                live: live.limits()?,
            };
            // Exit statuses are those of `--once` (spec/mirror.md): an
            // error that stops the mirror before it polls is a 2.
            let code = match mirror::run(&options) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("tallyboard: {e:#}");
                    mirror::EXIT_PROBLEM
                }
            };
            if code != 0 {
                std::process::exit(code);
            }
        }
        Command::Cosign {
            data,
            log_key,
            policy,
            timeout,
        } => {
            let text =
                std::fs::read(&policy).with_context(|| format!("reading {}", policy.display()))?;
            let policy = tallyboard_core::policy::Policy::parse(&text)
                .map_err(|e| anyhow!("{}: {e}", policy.display()))?;
            let b = open(&data, &log_key)?;
            let pool = witness_client::WitnessPool::from_policy(
                &policy,
                std::time::Duration::from_secs(timeout),
            );
            if pool.witnesses().is_empty() {
                bail!("the policy names no witness with a URL");
            }
            let store = b.store();
            let cosigned = pool.push(&b.latest().bytes, |old, new| {
                merkle::prove_consistency(old, new, store).unwrap_or_default()
            });
            for (w, ts) in &cosigned.cosigned_by {
                eprintln!("witness {w}: cosigned at {ts}");
            }
            for (w, e) in &cosigned.failures {
                eprintln!("witness {w}: {e}");
            }
            let origin = b.latest().checkpoint.origin.clone();
            let (_, verdict) = policy
                .verify_checkpoint(&cosigned.note, &origin)
                .map_err(|e| anyhow!("{e}"))?;
            eprintln!("{verdict}");
            print!("{}", String::from_utf8_lossy(&cosigned.note));
            verdict.check()?;
        }
        Command::Witness {
            listen,
            data,
            key,
            log_vkeys,
            slow_clients,
            init,
        } => {
            let slow_clients = slow_clients.limits()?;
            let key = keyfile::read(&key)?;
            let mut logs = tallyboard_core::witness::TrustedLogs::new();
            for v in &log_vkeys {
                logs.add(keyfile::read_vkey(v)?)
                    .map_err(|e| anyhow!("--log-vkey {v}: {e}"))?;
            }
            witness::run(witness::Config {
                listen,
                data,
                key: tallyboard_core::cosignature::CosignerKey::from_signer_key(&key),
                logs,
                slow_clients,
                init,
            })?;
        }
    }
    Ok(())
}
