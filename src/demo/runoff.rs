//! `demo --runoff`: the second round (spec/manifest.md §6).
//!
//! Once the first round's presidential result is announced final with
//! `outcome runoff`, the second round is a new election on a second board:
//! its manifest is derived from the first round's final announcement, read
//! back from the first board's read path as anyone would
//! (`tallyboard runoff manifest`, the same code); it has its own data
//! directory, log key (`keys/demo/log-round-2.key`, a DEMO key) and
//! origin, its own witnesses' state, station keys registered for its own
//! election id, and its own announcements. Every station reports again,
//! with only the runoff candidates on the ballot; the authority announces
//! the final result and a winner; the verifier's `runoff` step checks the
//! manifest against the first round's log.

use super::announce::{self, Authority};
use super::running::RunningBoard;
use super::{demo_policy, spawn_witnesses, wait_for_cosigned};
use crate::board::Board;
use crate::import::{import_entries, setup_entries};
use crate::server;
use anyhow::{anyhow, bail, Context, Result};
use rayon::prelude::*;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tallyboard_core::entry::announcement::AnnouncementStatus;
use tallyboard_core::manifest::runoff::RunoffParams;
use tallyboard_synth::{keys, Config, SyntheticElection, PRESIDENT};

/// The second round's election day: a week after the first (as in 2024).
pub(crate) const SECOND_ROUND_DATE: &str = "2025-07-04";

/// The second round, played and serving.
pub(crate) struct SecondRound {
    /// Its board, serving.
    pub board: RunningBoard,
    /// Lines for the summary.
    pub summary: Vec<String>,
    /// Whether its audit and the verifier's runoff step both verified.
    pub verified: bool,
}

/// A free loopback address for the second board, chosen before the first
/// board starts so that the first round's site can link to it
/// (`--next-round-url`).
pub(crate) fn reserve_address() -> Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("reserving a port")?;
    Ok(l.local_addr()?)
}

/// Plays the second round after `first` (served at `first_url`), on a
/// board listening on `listen`, with data under `dir/round-2`.
pub(crate) fn play(
    first: &SyntheticElection,
    first_url: &str,
    config: Config,
    dir: &Path,
    listen: SocketAddr,
) -> Result<SecondRound> {
    let t = Instant::now();
    let dir = dir.join("round-2");
    std::fs::create_dir_all(&dir)?;
    let log_key = keys::role_key("log-round-2").context("demo second-round log key")?;
    let first_log = keys::role_key("log").context("demo log key")?;

    // --- the manifest, derived from the first round's read path -------------
    let params = RunoffParams {
        election_id: format!("{}-round-2", first.election_id()),
        date: SECOND_ROUND_DATE.into(),
        log_key: log_key.verifier(),
    };
    let manifest = crate::runoff::derive_from(
        first_url,
        &first_log.verifier().to_vkey_string(),
        Some(PRESIDENT.into()),
        None,
        &params,
    )?;
    let bytes = manifest.manifest().to_canonical_bytes();
    std::fs::write(dir.join("manifest.json"), &bytes)?;
    let e = SyntheticElection::second_round(config, manifest).map_err(|e| anyhow!(e))?;
    let candidates: Vec<String> = e.manifest().manifest().contests[0]
        .candidates
        .iter()
        .map(|c| format!("{} {}", c.code, c.name_en))
        .collect();
    eprintln!(
        "second round: manifest derived from the first round's final announcement: {} stations, candidates {}",
        e.station_count(),
        candidates.join(" and ")
    );

    // --- the second board, its keys registered, its witnesses ----------------
    let board_dir = dir.join("board");
    if crate::store::exists(&board_dir) {
        bail!(
            "{} already holds a second round; pass another --data",
            board_dir.display()
        );
    }
    let mut board = Board::create(&board_dir, e.manifest_bytes(), log_key.clone())?;
    let setup = setup_entries(&e, e.commitment_entry_with_root());
    import_entries(&mut board, &setup, 1024, None)?;
    let urls = spawn_witnesses(&dir, &log_key.verifier())?;
    let policy_text = demo_policy(&urls, &log_key.verifier())?;
    std::fs::write(dir.join("policy.txt"), &policy_text)?;
    let policy = tallyboard_core::policy::Policy::parse(policy_text.as_bytes())
        .map_err(|e| anyhow!("demo policy: {e}"))?;
    let policy_for_audit = policy.clone();
    let mut config = server::Config::in_process(listen, policy);
    config.rounds.previous = Some(first_url.to_owned());
    let board = RunningBoard::start(board, config, "tallyboard-round-2")?;
    let url = board.url.clone();
    eprintln!("second round: board listening on {url}");

    // --- the day: every station reports again --------------------------------
    let tallies: Vec<Vec<u8>> = (0..e.station_count())
        .into_par_iter()
        .map(|i| e.signed_tally(i))
        .collect();
    let t_day = Instant::now();
    announce::post_all(&url, &tallies, "round-2 tallies")?;
    let day_secs = t_day.elapsed().as_secs_f64();

    // --- the final result, resting on a cosigned checkpoint ------------------
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    wait_for_cosigned(&agent, &url, Instant::now())?;
    let served = announce::served_checkpoint(&e, &agent, &url)?;
    let mut authority = Authority::new(&e);
    let round = announce::announce(
        &mut authority,
        &e,
        &agent,
        &url,
        AnnouncementStatus::Final,
        &[PRESIDENT.to_owned()],
        &served,
    )?;
    let statement = round
        .statements
        .first()
        .context("no second-round statement")?;
    let winner = statement
        .elected
        .first()
        .and_then(|code| {
            e.manifest().manifest().contests[0]
                .candidates
                .iter()
                .find(|c| c.code == *code)
        })
        .map(|c| format!("{} {} elected", c.code, c.name_en))
        .unwrap_or_else(|| format!("no winner ({:?})", statement.outcome));
    wait_for_cosigned(&agent, &url, Instant::now())?;

    // --- the second round's own log, audited like the first ------------------
    let audit = tallyboard_verify::audit::run_with(
        &tallyboard_verify::HttpSource::new(&url),
        &tallyboard_verify::LogKey::load(&log_key.verifier().to_vkey_string(), None)?,
        &tallyboard_verify::audit::AuditOptions {
            policy: Some(policy_for_audit),
            measure_baseline: false,
            roles: tallyboard_core::state::PinnedRoles {
                authority: keys::role_key("authority")
                    .map(|k| k.verifier())
                    .into_iter()
                    .collect(),
                supervisors: keys::role_key("supervisor")
                    .map(|k| k.verifier())
                    .into_iter()
                    .collect(),
                witnesses: Vec::new(),
            },
        },
    )?;

    // --- the verifier's step: is this the second round the first one called? --
    let source = tallyboard_verify::HttpSource::new(first_url);
    let log = tallyboard_verify::LogKey::load(&first_log.verifier().to_vkey_string(), None)?;
    let check = tallyboard_verify::runoff::run(&bytes, &source, &log)?;
    use tallyboard_verify::Report as _;
    eprint!("{}", check.human());
    let r = e
        .manifest()
        .manifest()
        .previous_round
        .clone()
        .context("the derived manifest names its first round")?;
    let summary = vec![
        format!(
            "{} stations reported again in {day_secs:.1} s; final announcement at size {}: {}",
            e.station_count(),
            round.size,
            announce::presidential_outcome(&round)
        ),
        format!("winner              {winner}"),
        format!(
            "derived from        the first round's final announcement at entry {}, checkpoint {} (root {})",
            r.announcement, r.checkpoint.size, r.checkpoint.root
        ),
        format!(
            "audit               {} (the second round's log)",
            if audit.verified { "VERIFIED" } else { "FAILED" }
        ),
        format!(
            "runoff check        {} (tallyboard-verify runoff)",
            if check.verified { "VERIFIED" } else { "FAILED" }
        ),
        format!("open                {url}/ (the second round's site)   store {}", dir.display()),
        format!("took                {:.1} s", t.elapsed().as_secs_f64()),
    ];
    Ok(SecondRound {
        board,
        summary,
        verified: check.verified && audit.verified,
    })
}
