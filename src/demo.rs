//! `tallyboard demo`: a national election day in one command (issue 7).
//!
//! 1. generates the synthetic national election (deterministic from the seed,
//!    keys from `keys/`'s published derivation; with `--majlis` also the
//!    Majlis election, so every station reports two tallies) and registers
//!    every station's key offline, as happens before election day;
//! 2. starts two witnesses (the Guardian Council's and an observer's) and the
//!    board, with a witness policy, on loopback;
//! 3. plays election day over real HTTP: stations report concurrently in a
//!    realistic order (mobile boxes and remote provinces late), a few correct
//!    their tallies, and attackers try a forged signature, an unknown station
//!    and an equivocation (all refused, shown in the output);
//! 4. the supervisor approves, the authority announces every contest's
//!    partial (mid-day) and final results (`demo/announce.rs`); waits for the
//!    witnesses to cosign the final checkpoint, and measures the time from
//!    the last tally to it;
//! 5. runs the independent verifier's audit against the read path;
//! 6. prints a summary and serves until Ctrl-C (or exits with `--no-serve`).

mod announce;
mod running;
mod runoff;
mod token;

use crate::board::Board;
use crate::import::{import_entries, progress_bar, setup_entries};
use crate::{server, witness};
use anyhow::{anyhow, bail, Context, Result};
use rayon::prelude::*;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tallyboard_core::entry::{Entry, Tally};
use tallyboard_core::note::{NoteSigner, SignerKey};

use crate::signer::RoleSigner;
use running::RunningBoard;
use tallyboard_synth::{keys, Config, SyntheticElection};

/// What to run.
pub struct DemoArgs {
    /// Stations (59,000 for the national scale).
    pub stations: usize,
    /// Seed of the synthetic election.
    pub seed: u64,
    /// Store directory (reused if it already holds this election).
    pub data: Option<PathBuf>,
    /// Where the board listens.
    pub listen: SocketAddr,
    /// Exit after the audit instead of serving.
    pub no_serve: bool,
    /// Concurrent station clients.
    pub clients: usize,
    /// Also start a mirror of the board (spec/mirror.md).
    pub mirror: bool,
    /// Also play the Majlis election (about 208 more contests).
    pub majlis: bool,
    /// Then play the presidential second round on a second board
    /// (`demo/runoff.rs`).
    pub runoff: bool,
    /// `--hsm`: the PKCS#11 URI of a token (no `object`) in which the log,
    /// authority and supervisor keys are generated (or found, on a rerun)
    /// and sign (`spec/operations.md` §13).
    pub hsm: Option<String>,
}

/// One station's report: when in the day, and the signed entries it sends.
struct Report {
    at: u64,
    station: usize,
    entries: Vec<Vec<u8>>,
    /// The synthetic images of its signed minutes, uploaded once the
    /// tallies naming them are logged.
    minutes: Vec<tallyboard_synth::MinutesImage>,
}

/// Province codes of remote provinces whose boxes travel far (reported late).
const REMOTE: &[&str] = &["05", "09", "15", "20", "28"];

pub fn run(args: DemoArgs) -> Result<()> {
    let t_start = Instant::now();
    let (roles, log_key) = match &args.hsm {
        None => (
            tallyboard_synth::RoleSigners::demo(),
            RoleSigner::from(keys::role_key("log").context("demo log key")?),
        ),
        Some(token) => token::roles(token)?,
    };
    let e = SyntheticElection::generate_with(
        Config {
            seed: args.seed,
            stations: args.stations,
            majlis: args.majlis,
        },
        roles,
    );
    let dir = match &args.data {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "tallyboard-demo-{}-{}{}{}{}",
            args.seed,
            args.stations,
            if args.majlis { "-majlis" } else { "" },
            if args.runoff { "-runoff" } else { "" },
            if args.hsm.is_some() { "-hsm" } else { "" }
        )),
    };
    std::fs::create_dir_all(&dir)?;
    let board_dir = dir.join("board");
    if args.hsm.is_some() {
        token::publish(&e, &dir)?;
    }

    // --- 1. the board, with every station's key registered before the day ----
    // A store whose election day ended (a final announcement is logged)
    // cannot hold another: its finals stand until reopened
    // (spec/announcements.md §6). The default store is the demo's own and
    // starts over; one given with --data is left alone.
    if crate::store::exists(&board_dir) {
        let b = Board::open(&board_dir, log_key.clone())?;
        let finished =
            b.state().supervision().announcements().iter().any(|a| {
                a.announcement.status == tallyboard_core::entry::AnnouncementStatus::Final
            });
        drop(b);
        if finished {
            if args.data.is_some() {
                bail!(
                    "{} holds an election day that is over (its results were announced final); pass another --data",
                    dir.display()
                );
            }
            eprintln!(
                "the demo store {} holds a finished election day: starting a new one",
                dir.display()
            );
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
            std::fs::create_dir_all(&dir)?;
        }
    }
    let mut board = if crate::store::exists(&board_dir) {
        let b = Board::open(&board_dir, log_key.clone())?;
        if b.manifest().digest() != e.manifest().digest() {
            bail!(
                "{} holds another election; pass another --data",
                dir.display()
            );
        }
        eprintln!(
            "reusing the board in {} (tree size {})",
            board_dir.display(),
            b.size()
        );
        b
    } else {
        Board::create(&board_dir, e.manifest_bytes(), log_key.clone())?
    };
    if board.size() == 0 {
        let setup = setup_entries(&e, e.commitment_entry_with_root());
        let pb = progress_bar(setup.len() as u64, "keys");
        let s = import_entries(&mut board, &setup, 1024, Some(&pb))?;
        pb.finish_and_clear();
        eprintln!(
            "registered {} station keys before election day ({:.1} s)",
            s.appended.saturating_sub(1),
            s.elapsed.as_secs_f64()
        );
    }
    let size_before_day = board.size();

    // --- 2. witnesses and the board's HTTP server ---------------------------
    let urls = spawn_witnesses(&dir, &log_key.verifier())?;
    let policy_text = demo_policy(&urls, &log_key.verifier())?;
    std::fs::write(dir.join("policy.txt"), &policy_text)?;
    let policy = tallyboard_core::policy::Policy::parse(policy_text.as_bytes())
        .map_err(|e| anyhow!("demo policy: {e}"))?;
    let policy_for_audit = policy.clone();
    let mut config = server::Config::in_process(args.listen, policy);
    // The second round's board address is chosen now, so that this
    // round's site can link to it (spec/site.md §8).
    let second_addr = if args.runoff {
        let a = runoff::reserve_address()?;
        config.rounds.next = Some(format!("http://{a}"));
        Some(a)
    } else {
        None
    };
    let running = RunningBoard::start(board, config, "tallyboard-server")?;
    let url = running.url.clone();
    eprintln!("board listening on {url}");

    // --- 3. election day over HTTP -------------------------------------------
    let t_sign = Instant::now();
    let mut reports: Vec<Report> = (0..e.station_count())
        .into_par_iter()
        .map(|i| {
            // The presidential tally first, then the Majlis one (if any).
            let (mut entries, minutes): (Vec<_>, Vec<_>) =
                e.signed_tallies_with_minutes(i).into_iter().unzip();
            // About one station in 300 corrects its presidential tally after a recount.
            if splitmix(args.seed ^ i as u64) % 300 == 0 {
                let revised = e.revised_tally(i, &entries[0]);
                entries.push(revised);
            }
            Report {
                at: report_time(&e, i, args.seed),
                station: i,
                entries,
                minutes,
            }
        })
        .collect();
    reports.sort_by_key(|r| (r.at, r.station));
    let attacks = attacks(&e)?;
    eprintln!(
        "signed {} station reports in {:.1} s; election day begins",
        reports.len(),
        t_sign.elapsed().as_secs_f64()
    );

    let total: u64 = reports.iter().map(|r| r.entries.len() as u64).sum();
    let pb = progress_bar(total, "tallies");
    let next = AtomicUsize::new(0);
    let accepted = AtomicU64::new(0);
    let duplicates = AtomicU64::new(0);
    let retries = AtomicU64::new(0);
    let uploaded = AtomicU64::new(0);
    let minutes_bytes: u64 = reports
        .iter()
        .flat_map(|r| &r.minutes)
        .map(|m| m.png.len() as u64)
        .sum();
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let last_ack = Mutex::new(Instant::now());
    let t_day = Instant::now();
    let attack_at = reports.len() / 2;
    let contests = announce::announced_contests(&e);
    // The authority keeps its recomputation between its announcements.
    let authority = Mutex::new(announce::Authority::new(&e));
    let finished = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..args.clients.max(1) {
            s.spawn(|| {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = reports.get(i) else { break };
                    if i == attack_at {
                        run_attacks(&agent, &url, &attacks);
                        // The authority's lock first: the size to announce
                        // is then at or beyond what it has read.
                        let locked = authority
                            .lock()
                            .map_err(|_| anyhow!("the authority's state is poisoned"));
                        let partial = locked.and_then(|mut authority| {
                            let served = announce::served_checkpoint(&e, &agent, &url)?;
                            announce::announce(
                                &mut authority,
                                &e,
                                &agent,
                                &url,
                                tallyboard_core::entry::announcement::AnnouncementStatus::Partial,
                                &contests,
                                &served,
                            )
                        });
                        match partial {
                            Ok(round) => eprintln!(
                                "authority: partial results of {} contest(s) recomputed from the read path ({} entries read) in {:.1} s, announced at size {} in {:.1} s ({})",
                                round.statements.len(),
                                round.read_entries,
                                round.read_secs,
                                round.size,
                                round.append_secs,
                                announce::presidential_outcome(&round)
                            ),
                            Err(err) => {
                                eprintln!("authority: partial announcement failed: {err:#}")
                            }
                        }
                    }
                    for bytes in &r.entries {
                        match post_entry(&agent, &url, bytes, &retries) {
                            Ok(201) => {
                                accepted.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(200) => {
                                duplicates.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(status) => failures
                                .lock()
                                .map(|mut f| {
                                    f.push(format!(
                                        "station {}: HTTP {status}",
                                        e.station_id(r.station)
                                    ))
                                })
                                .unwrap_or(()),
                            Err(err) => failures
                                .lock()
                                .map(|mut f| {
                                    f.push(format!("station {}: {err}", e.station_id(r.station)))
                                })
                                .unwrap_or(()),
                        }
                        pb.inc(1);
                    }
                    for m in &r.minutes {
                        match upload_minutes(&agent, &url, e.station_id(r.station), m) {
                            Ok(()) => {
                                uploaded.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(err) => failures
                                .lock()
                                .map(|mut f| {
                                    f.push(format!(
                                        "station {} minutes: {err}",
                                        e.station_id(r.station)
                                    ))
                                })
                                .unwrap_or(()),
                        }
                    }
                    if let Ok(mut t) = last_ack.lock() {
                        *t = Instant::now();
                    }
                }
                finished.fetch_add(1, Ordering::Relaxed);
            });
        }
        // The authority follows the log through the day, as an observer
        // would, so that its final recomputation reads only the last
        // entries.
        s.spawn(|| {
            let agent = ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build();
            while finished.load(Ordering::Relaxed) < args.clients.max(1) {
                let caught = announce::served_checkpoint(&e, &agent, &url).and_then(|(size, _)| {
                    let mut a = authority
                        .lock()
                        .map_err(|_| anyhow!("the authority's state is poisoned"))?;
                    a.catch_up(&agent, &url, size)
                });
                if let Err(err) = caught {
                    eprintln!("authority: following the log: {err:#}");
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
    });
    pb.finish_and_clear();
    let day_secs = t_day.elapsed().as_secs_f64();
    let last_tally = last_ack
        .lock()
        .map(|t| *t)
        .unwrap_or_else(|_| Instant::now());
    let failures = failures.into_inner().unwrap_or_default();
    for f in failures.iter().take(10) {
        eprintln!("refused: {f}");
    }
    let accepted = accepted.into_inner();
    eprintln!(
        "election day: {accepted} entries appended ({} already logged) in {day_secs:.1} s = {:.0} entries/s over HTTP, {} retries after 429",
        duplicates.load(Ordering::Relaxed),
        (accepted as f64) / day_secs,
        retries.load(Ordering::Relaxed)
    );
    eprintln!(
        "minutes: {} synthetic images of the signed minutes uploaded under the stations' signatures ({:.1} MB in all)",
        uploaded.load(Ordering::Relaxed),
        minutes_bytes as f64 / 1e6
    );

    // --- 4. supervision, the final announcement, the witnesses' cosignatures --
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let supervision = supervise(&e, &agent, &url)?;
    eprintln!("supervisor: {supervision}");
    // The final results rest on a checkpoint the witnesses cosigned that
    // covers every tally and the supervisor's decisions.
    wait_for_cosigned(&agent, &url, Instant::now())?;
    let served = announce::served_checkpoint(&e, &agent, &url)?;
    let mut authority = authority
        .into_inner()
        .map_err(|_| anyhow!("the authority's state is poisoned"))?;
    let round = announce::announce(
        &mut authority,
        &e,
        &agent,
        &url,
        tallyboard_core::entry::announcement::AnnouncementStatus::Final,
        &contests,
        &served,
    )?;
    let (final_size, outcome) = (round.size, announce::presidential_outcome(&round));
    drop(authority);
    eprintln!(
        "authority: final results of {} contest(s) recomputed from the read path ({} new entries read) in {:.1} s, approved by the supervisor and announced at size {final_size} in {:.1} s ({outcome})",
        round.statements.len(),
        round.read_entries,
        round.read_secs,
        round.append_secs
    );
    run_attacks(&agent, &url, &after_final_attacks(&e, &log_key)?);
    let majlis = announce::majlis_summary(&e, &round);
    let (cosigned_size, cosigners, cosign_ms) = wait_for_cosigned(&agent, &url, last_tally)?;

    // --- 5. the independent audit of the read path ---------------------------
    let t_audit = Instant::now();
    let source = tallyboard_verify::HttpSource::new(&url);
    let log = tallyboard_verify::LogKey::load(&log_key.verifier().to_vkey_string(), None)?;
    // The auditor pins the roles' keys it was given (the demo's published
    // ones, keys/*.vkey, or with --hsm the token's, DIR/keys/*.vkey): the
    // log's manifest must name them.
    let opts = tallyboard_verify::audit::AuditOptions {
        policy: Some(policy_for_audit.clone()),
        measure_baseline: false,
        roles: tallyboard_core::state::PinnedRoles {
            authority: vec![e.roles().authority.verifier()],
            supervisors: vec![e.roles().supervisor.verifier()],
            witnesses: Vec::new(),
        },
    };
    let report = tallyboard_verify::audit::run_with(&source, &log, &opts)?;
    let audit_secs = t_audit.elapsed().as_secs_f64();
    use tallyboard_verify::Report as _;
    let human = report.human();
    std::fs::write(dir.join("audit.txt"), &human)?;
    eprintln!(
        "\n{}(the whole report: {})",
        fold_report(&human),
        dir.join("audit.txt").display()
    );

    let mut mirror = if args.mirror {
        Some(start_mirror(&url, &dir, &log_key.verifier())?)
    } else {
        None
    };

    // --- 5b. the second round, when the first ended in a runoff --------------
    let called = round.statements.iter().any(|s| {
        s.contest == tallyboard_synth::PRESIDENT
            && s.outcome == tallyboard_core::rules::Status::Runoff
    });
    if second_addr.is_some() && !called {
        eprintln!("second round: the presidential result is not a runoff, so none is held");
    }
    let second = match second_addr.filter(|_| called) {
        Some(addr) => Some(runoff::play(
            &e,
            &url,
            Config {
                seed: args.seed,
                stations: args.stations,
                majlis: false,
            },
            &dir,
            addr,
        )?),
        None => None,
    };

    // --- 6. summary ----------------------------------------------------------
    println!("\n== tallyboard demo: summary");
    println!(
        "stations            {} in {} provinces, {} counties",
        e.station_count(),
        e.manifest().manifest().provinces.len(),
        e.manifest().manifest().counties.len()
    );
    println!(
        "entries             {} before election day, {accepted} on the day, {} refused attacks",
        size_before_day,
        REFUSED_ATTACKS.load(Ordering::Relaxed)
    );
    println!("tree size           {}", report.size);
    if let Some(t) = &args.hsm {
        println!("{}", token::summary(&e, t));
    }
    println!("ingest              {day_secs:.1} s for {accepted} entries over HTTP ({:.0}/s, {} clients)", accepted as f64 / day_secs, args.clients);
    println!("supervision         {supervision}");
    println!("final announcement  at size {final_size}: {outcome}");
    for line in &majlis {
        println!("majlis              {line}");
    }
    if !majlis.is_empty() {
        println!(
            "announcements       {} contests, approved and announced in {:.1} s; largest entry {} bytes",
            round.statements.len(),
            round.append_secs,
            round.largest_entry
        );
    }
    println!("last tally → cosigned final announcement   {cosign_ms} ms (checkpoint size {cosigned_size}, cosigned by {cosigners})");
    println!(
        "audit               {} in {audit_secs:.1} s",
        if report.verified {
            "VERIFIED"
        } else {
            "FAILED"
        }
    );
    println!(
        "total               {:.1} s",
        t_start.elapsed().as_secs_f64()
    );
    println!("open                {url}/ (results site, Persian; {url}/en/ in English)   {url}/checkpoint   {url}/api/v1/witnessed");
    println!("operators           {url}/operator (the same figures: {url}/metrics, `tallyboard ops --url {url}`)");
    println!("store               {}", dir.display());
    if let Some(m) = &mirror {
        println!(
            "mirror              {0}/ (a verified read-only copy; status {0}/api/v1/mirror)",
            m.url
        );
    }
    if let Some(r2) = &second {
        println!("== second round");
        for line in &r2.summary {
            println!("{line}");
        }
    }
    let second_failed = second.as_ref().is_some_and(|r2| !r2.verified);
    let stop_second = |second: Option<runoff::SecondRound>| -> Result<()> {
        second.map_or(Ok(()), |r2| r2.board.stop())
    };
    if second_failed {
        stop_second(second)?;
        running.stop()?;
        bail!("the second round's audit or runoff check failed");
    }
    if !report.verified {
        stop_second(second)?;
        running.stop()?;
        bail!("the audit found discrepancies");
    }
    if args.no_serve {
        stop_second(second)?;
        if let Some(m) = mirror.take() {
            m.stop()?;
        }
        running.stop()?;
    } else {
        println!("serving until Ctrl-C");
        running.wait()?;
    }
    Ok(())
}

/// `--mirror`: a mirror of the board in this process, following only
/// checkpoints that meet the demo's witness policy; returns once it serves
/// the verified final state.
fn start_mirror(
    board_url: &str,
    dir: &std::path::Path,
    log: &tallyboard_core::note::VerifierKey,
) -> Result<crate::mirror::Running> {
    let t = Instant::now();
    let m = crate::mirror::spawn(crate::mirror::Options {
        from: board_url.to_owned(),
        data: dir.join("mirror"),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        log_key: Some(log.to_vkey_string()),
        policy: Some(dir.join("policy.txt")),
        interval: Duration::from_secs(1),
        once: false,
        live: crate::server::LiveLimits::default(),
    })?;
    eprintln!(
        "mirror listening on {} (verified and stored the log in {:.1} s)",
        m.url,
        t.elapsed().as_secs_f64()
    );
    Ok(m)
}

/// Starts the demo's two witnesses (the Guardian Council's and an
/// observer's) over `dir`, trusting the log key `log`; returns their URLs.
fn spawn_witnesses(
    dir: &std::path::Path,
    log: &tallyboard_core::note::VerifierKey,
) -> Result<Vec<String>> {
    let mut urls = Vec::new();
    for role in ["witness-guardian", "witness-observer"] {
        let key = keys::role_key(role).context("demo witness key")?;
        // A witness is created with the demo's store, never re-created
        // over a state it lost (spec/witness.md §2).
        let fresh = !dir.join(role).join(witness::MEMORY_FILE).exists();
        let url = witness::spawn(witness::Config {
            listen: "127.0.0.1:0".into(),
            data: dir.join(role),
            init: fresh,
            key: tallyboard_core::cosignature::CosignerKey::from_signer_key(&key),
            logs: {
                let mut logs = tallyboard_core::witness::TrustedLogs::new();
                logs.add(log.clone()).map_err(|e| anyhow!("{e}"))?;
                logs
            },
            slow_clients: Default::default(),
        })?;
        eprintln!("{role} listening on {url}");
        urls.push(url);
    }
    Ok(urls)
}

/// The demo's witness policy: keys/policy.txt's rules with the URLs the
/// witnesses actually listen on.
pub(crate) fn demo_policy(
    urls: &[String],
    log: &tallyboard_core::note::VerifierKey,
) -> Result<String> {
    let log = log.to_vkey_string();
    let g = tallyboard_synth::witness_vkey("witness-guardian").context("guardian")?;
    let o = tallyboard_synth::witness_vkey("witness-observer").context("observer")?;
    Ok(format!(
        "# Demo witness policy (C2SP tlog-policy): the Guardian Council's witness\n# and at least one observer must cosign. DEMO keys only.\nlog {log}\nwitness guardian {g} {}\nwitness observer {o} {}\ngroup observers any observer\ngroup guardian-and-observers all guardian observers\nquorum guardian-and-observers\n",
        urls[0], urls[1]
    ))
}

/// The audit's report, shortened for the terminal when it is long (the
/// Majlis adds about 213 contests, Tehran's with 3,500 candidates): the
/// presidential contest's totals only, and the run of "every figure
/// equals the recomputation" announcement lines folded after the first few.
/// Lines naming a difference or a finding are always shown.
fn fold_report(human: &str) -> String {
    const SHOWN: usize = 4;
    let equal = |l: &str| {
        l.trim_start().starts_with("announcement at entry")
            && l.ends_with("every figure equals the recomputation")
    };
    let contest = |l: &str| l.starts_with("  contest ");
    let contests = human.lines().filter(|l| contest(l)).count();
    let equals = human.lines().filter(|l| equal(l)).count();
    let mut out = String::new();
    let (mut hidden, mut seen_equal) = (0, 0);
    let mut in_hidden_block = false;
    for line in human.lines() {
        if contest(line) {
            let shown = contests <= SHOWN
                || line.starts_with(&format!("  contest {} ", tallyboard_synth::PRESIDENT));
            in_hidden_block = !shown;
            if !shown {
                hidden += 1;
                if hidden == 1 {
                    out.push_str(&format!(
                        "  … the totals of {} more contests are in the whole report\n",
                        contests - 1
                    ));
                }
            }
        } else if !line.starts_with("    ") {
            in_hidden_block = false;
        }
        if in_hidden_block {
            continue;
        }
        if equal(line) {
            seen_equal += 1;
            if seen_equal > SHOWN && equals > SHOWN + 1 {
                if seen_equal == equals {
                    out.push_str(&format!(
                        "  … and {} more announcements: every figure equals the recomputation\n",
                        equals - SHOWN
                    ));
                }
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Minutes after polls close at which a station reports: most within two
/// hours, mobile boxes later, remote provinces later still.
fn report_time(e: &SyntheticElection, i: usize, seed: u64) -> u64 {
    let s = &e.manifest().manifest().stations[i];
    let r = splitmix(seed.rotate_left(17) ^ i as u64);
    let mut at = 30 + r % 90;
    if s.kind == "mobile" {
        at += 40 + (r >> 20) % 60;
    }
    if REMOTE.contains(&&s.id[..2]) {
        at += 60 + (r >> 40) % 120;
    }
    at
}

/// Adversarial submissions: (what, bytes).
fn attacks(e: &SyntheticElection) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut forged = e.signed_tally(1);
    let n = forged.len();
    forged[n - 6] = if forged[n - 6] == b'A' { b'B' } else { b'A' };
    let mut unknown: Tally = e.tally(2);
    unknown.station = "99-999-99999".into();
    let stranger =
        SignerKey::from_seed("intruder.example", [7u8; 32]).map_err(|e| anyhow!("{e}"))?;
    let unknown = tallyboard_synth::sign(&Entry::Tally(unknown), &stranger);
    let mut eq = e.tally(3);
    if eq.votes.len() >= 2 && eq.votes[1].1 > 0 {
        eq.votes[0].1 += 1;
        eq.votes[1].1 -= 1;
    }
    let equivocation = e.sign_as_station(3, &Entry::Tally(eq));
    Ok(vec![
        ("a forged signature on a station's tally", forged),
        ("a tally for a station that does not exist", unknown),
        (
            "an equivocation: a second, different revision 1 from one station",
            equivocation,
        ),
    ])
}

/// What the trust rules refuse once results are final (spec/announcements.md
/// §6, spec/keys.md §3).
fn after_final_attacks(
    e: &SyntheticElection,
    log_key: &RoleSigner,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    use tallyboard_core::entry::{Role, RoleKey};
    let late = e.revised_tally(0, &e.signed_tally(0));
    let m = e.manifest();
    let intruder = SignerKey::from_seed("intruder.example/authority", [8u8; 32])
        .map_err(|e| anyhow!("{e}"))?;
    let grab = Entry::RoleKey(RoleKey {
        election: m.election_id().to_owned(),
        role: Role::Authority,
        old: m.authority().clone(),
        new: Some(intruder.verifier()),
        reason: "the log operator takes over the authority".into(),
    });
    let authority = e.roles().authority.as_ref();
    let grab =
        tallyboard_core::note::sign(&grab.to_text(), &[authority, log_key as &dyn NoteSigner])
            .map_err(|e| anyhow!("{e}"))?;
    Ok(vec![
        (
            "a station's revision after the final announcement, without a reopening",
            late,
        ),
        (
            "a role-key change giving the authority's role to a new key, signed with the log key in the supervisor's place",
            grab,
        ),
    ])
}

/// Attacks the board refused, for the summary (the day's, the
/// announcement's and those after the final).
static REFUSED_ATTACKS: AtomicUsize = AtomicUsize::new(0);

fn run_attacks(agent: &ureq::Agent, url: &str, attacks: &[(&'static str, Vec<u8>)]) {
    for (what, bytes) in attacks {
        let r = agent
            .post(&format!("{url}/api/v1/entries"))
            .set("Content-Type", "text/plain")
            .send_bytes(bytes);
        let answer = match r {
            Ok(resp) => format!("ACCEPTED?! HTTP {}", resp.status()),
            Err(ureq::Error::Status(code, resp)) => {
                REFUSED_ATTACKS.fetch_add(1, Ordering::Relaxed);
                let body: serde_json::Value =
                    serde_json::from_reader(resp.into_reader()).unwrap_or_default();
                format!(
                    "refused, HTTP {code} {}: {}",
                    body["code"].as_str().unwrap_or("?"),
                    body["message"].as_str().unwrap_or("")
                )
            }
            Err(e) => format!("transport error {e}"),
        };
        eprintln!("attack: {what}: {answer}");
    }
}

/// POSTs an entry, retrying after 429/503 as Retry-After asks.
pub(crate) fn post_entry(
    agent: &ureq::Agent,
    url: &str,
    bytes: &[u8],
    retries: &AtomicU64,
) -> Result<u16> {
    for attempt in 0..50 {
        match agent
            .post(&format!("{url}/api/v1/entries"))
            .set("Content-Type", "text/plain")
            .send_bytes(bytes)
        {
            Ok(r) => return Ok(r.status()),
            Err(ureq::Error::Status(429 | 503, _)) => {
                retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20 + 10 * attempt));
            }
            Err(ureq::Error::Status(code, r)) => {
                let body = r.into_string().unwrap_or_default();
                bail!("HTTP {code}: {body}");
            }
            Err(e) => bail!("{e}"),
        }
    }
    bail!("gave up after 50 retries")
}

/// Uploads a station's minutes image under its signature (POST
/// /api/v1/blobs, spec/http-api.md §1.3).
fn upload_minutes(
    agent: &ureq::Agent,
    url: &str,
    station: &str,
    m: &tallyboard_synth::MinutesImage,
) -> Result<()> {
    match agent
        .post(&format!("{url}/api/v1/blobs"))
        .set("Content-Type", "application/octet-stream")
        .set("X-Content-SHA256", &m.sha256.to_hex())
        .set("X-Tallyboard-Station", station)
        .set("X-Tallyboard-Signature", &m.signature)
        .send_bytes(&m.png)
    {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(code, resp)) => {
            bail!("HTTP {code}: {}", resp.into_string().unwrap_or_default())
        }
        Err(err) => Err(err.into()),
    }
}

/// Waits until the witnesses have cosigned a checkpoint that covers every
/// tally and meets the quorum; returns (size, cosigners, ms since `since`).
pub(crate) fn wait_for_cosigned(
    agent: &ureq::Agent,
    url: &str,
    since: Instant,
) -> Result<(u64, String, u128)> {
    let target: serde_json::Value = serde_json::from_reader(
        agent
            .get(&format!("{url}/api/v1/log"))
            .call()?
            .into_reader(),
    )?;
    let target = target["tree_size"].as_u64().context("tree size")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(resp) = agent.get(&format!("{url}/api/v1/witnessed")).call() {
            let w: serde_json::Value = serde_json::from_reader(resp.into_reader())?;
            if w["size"].as_u64() >= Some(target) && w["quorum_met"].as_bool() == Some(true) {
                let names: Vec<String> = w["cosigned_by"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| c["name"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let size = w["size"].as_u64().unwrap_or(target);
                return Ok((size, names.join(" + "), since.elapsed().as_millis()));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    bail!("the witnesses did not cosign the final checkpoint within 60 s")
}

/// The supervisor annuls one box (an irregularity report) and approves a
/// sample of tallies; returns a one-line account.
fn supervise(e: &SyntheticElection, agent: &ureq::Agent, url: &str) -> Result<String> {
    let retries = AtomicU64::new(0);
    let annul = e.station_count() / 3;
    let code = post_entry(
        agent,
        url,
        &e.annulment_entry(
            annul,
            "ballot-box-seal-broken",
            "the seal of the box was found broken on arrival",
        ),
        &retries,
    )?;
    if code != 201 {
        bail!("annulment not appended (HTTP {code})");
    }
    let mut approved = 0;
    for i in (0..e.station_count())
        .step_by((e.station_count() / 5).max(1))
        .take(5)
    {
        if i == annul {
            continue;
        }
        let station: serde_json::Value = serde_json::from_reader(
            agent
                .get(&format!("{url}/api/v1/stations/{}", e.station_id(i)))
                .call()?
                .into_reader(),
        )?;
        for group in station["tallies"].as_array().into_iter().flatten() {
            let (Some(contest), Some(index)) = (
                group["contest"].as_str(),
                group["revisions"]
                    .as_array()
                    .and_then(|a| a.last())
                    .and_then(|r| r["index"].as_u64()),
            ) else {
                continue;
            };
            let entry: serde_json::Value = serde_json::from_reader(
                agent
                    .get(&format!("{url}/api/v1/entries/{index}"))
                    .call()?
                    .into_reader(),
            )?;
            let Some(note) = entry["note"].as_str() else {
                continue;
            };
            let approval = e.contest_approval_of_tally(i, contest, index, note.as_bytes());
            if post_entry(agent, url, &approval, &retries)? == 201 {
                approved += 1;
            }
        }
    }
    Ok(format!(
        "annulled station {}'s box (seal broken), approved {approved} tallies",
        e.station_id(annul)
    ))
}
