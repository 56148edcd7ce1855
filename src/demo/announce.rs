//! The authority's side of the demo: recompute every contest's results
//! statement from the read path, as any observer could, have the supervisor
//! approve it (for a final announcement) and announce it
//! (`spec/announcements.md`); and the short account of the outcomes the
//! summary prints.
//!
//! The authority keeps its own log state ([`Authority`]) from one round to
//! the next and reads only the entries logged since the last one (entry
//! bundles from the read path, the partial bundle it stopped in read
//! again), so that the final announcement costs what the board and the
//! witnesses cost, not a re-read of the whole log. All statements of a
//! round come from that one state at one size, whatever the number of
//! contests (about 214 with the Majlis).

use super::post_entry;
use crate::import::progress_bar;
use anyhow::{anyhow, Result};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tallyboard_core::entry::announcement::{AnnouncementStatus, Statement, WitnessedCheckpoint};
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::rules::{ElectionKind, Status};
use tallyboard_core::state::{LogState, NoLog};
use tallyboard_synth::{SyntheticElection, PRESIDENT, TEHRAN_CONTEST};

/// One announcement round: every statement, at one log size.
pub(crate) struct Round {
    /// The log size every statement is bound to.
    pub size: u64,
    /// The statements, in manifest contest order.
    pub statements: Vec<Statement>,
    /// The largest announcement entry, in bytes (the limit is 65,535).
    pub largest_entry: usize,
    /// Seconds spent reading the new entries and recomputing every statement.
    pub read_secs: f64,
    /// Entries read this round (only those logged since the last one).
    pub read_entries: u64,
    /// Seconds spent appending the approvals and announcements.
    pub append_secs: f64,
}

/// The authority's view of the log: the log state after the entries it
/// has read, kept between announcement rounds.
pub(crate) struct Authority {
    state: LogState,
}

impl Authority {
    /// An authority that has read nothing yet.
    pub(crate) fn new(e: &SyntheticElection) -> Authority {
        Authority {
            state: LogState::new(Arc::new(e.manifest().clone())),
        }
    }

    /// Reads the entries from where it stopped up to `size` from the
    /// tlog-tiles entry bundles over HTTP, as any observer would, and
    /// applies them (the totals the statements come from).
    pub(crate) fn catch_up(&mut self, agent: &ureq::Agent, url: &str, size: u64) -> Result<u64> {
        let mut read = 0u64;
        let size = size.max(self.state.size());
        while self.state.size() < size {
            let at = self.state.size();
            let n = at / 256;
            let width = (size - n * 256).min(256) as u16;
            let path = tallyboard_core::tile::TilePath::Entries { index: n, width }.to_path();
            let mut body = Vec::new();
            std::io::Read::read_to_end(
                &mut agent.get(&format!("{url}/{path}")).call()?.into_reader(),
                &mut body,
            )?;
            let list = tallyboard_core::tile::decode_entry_bundle(&body)
                .map_err(|e| anyhow!("{path}: {e}"))?;
            // The part of a partial bundle read last round is skipped.
            for bytes in list.into_iter().skip((at - n * 256) as usize) {
                let index = self.state.size();
                let signed =
                    SignedEntry::parse(bytes).map_err(|e| anyhow!("entry {index}: {e}"))?;
                self.state
                    .apply(index, signed.leaf_hash(), &signed.entry)
                    .map_err(|e| anyhow!("entry {index}: {e}"))?;
                read += 1;
            }
        }
        Ok(read)
    }
}

/// The checkpoint the board serves at `/checkpoint`: under a witness
/// policy, the newest one its witnesses' cosignatures meet the quorum of,
/// which is what an announcement must rest on and carry
/// (`spec/announcements.md` §5). Returns its size and what the
/// announcement copies from it: the root and the election's witnesses'
/// cosignature lines.
pub(crate) fn served_checkpoint(
    e: &SyntheticElection,
    agent: &ureq::Agent,
    url: &str,
) -> Result<(u64, WitnessedCheckpoint)> {
    let mut note = Vec::new();
    std::io::Read::read_to_end(
        &mut agent
            .get(&format!("{url}/checkpoint"))
            .call()?
            .into_reader(),
        &mut note,
    )?;
    let (cp, witnessed) = WitnessedCheckpoint::from_note(&note, e.manifest().witness_policy())
        .map_err(|err| anyhow!("the served checkpoint: {err}"))?;
    Ok((cp.size, witnessed))
}

/// The contests worth announcing: those with at least one station (a
/// scaled-down demo leaves some constituencies without any).
pub(crate) fn announced_contests(e: &SyntheticElection) -> Vec<String> {
    let m = e.manifest().manifest();
    let reported: std::collections::HashSet<&str> = m
        .stations
        .iter()
        .flat_map(|s| s.contests.iter().map(String::as_str))
        .collect();
    m.contests
        .iter()
        .filter(|c| reported.contains(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect()
}

/// Recomputes the statements of `contests` at the size of `witnessed` (a
/// checkpoint the witnesses cosigned, [`served_checkpoint`]) from the read
/// path and appends, for each, the supervisor's contest approval (final
/// round only) and the authority's announcement.
pub(crate) fn announce(
    authority: &mut Authority,
    e: &SyntheticElection,
    agent: &ureq::Agent,
    url: &str,
    status: AnnouncementStatus,
    contests: &[String],
    (size, witnessed): &(u64, WitnessedCheckpoint),
) -> Result<Round> {
    let size = *size;
    let t_read = Instant::now();
    if authority.state.size() > size {
        return Err(anyhow!(
            "the authority has read {} entries, beyond the size {size} to announce",
            authority.state.size()
        ));
    }
    let read_entries = authority.catch_up(agent, url, size)?;
    let statements = contests
        .iter()
        .map(|c| {
            // At the state's own size: every box's revision in force is its
            // latest, so nothing is read back.
            authority
                .state
                .statement(c, size, &NoLog)
                .map_err(|err| anyhow!("{c}: {err}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let read_secs = t_read.elapsed().as_secs_f64();
    let t = Instant::now();
    if status == AnnouncementStatus::Final {
        // Every approval must be logged before the announcement it allows.
        let approvals: Vec<Vec<u8>> = statements
            .iter()
            .map(|s| e.contest_approval_entry(s))
            .collect();
        post_all(url, &approvals, "approvals")?;
    }
    if status == AnnouncementStatus::Partial && !witnessed.cosignatures.is_empty() {
        if let Some(s) = statements.first() {
            // What the rules refuse: the same announcement resting on the
            // checkpoint without the Guardian Council's cosignature, short
            // of the election's quorum (spec/announcements.md §5).
            let mut short = witnessed.clone();
            short.cosignatures.remove(0);
            let bytes = e.announcement_entry(s, status, &short);
            super::run_attacks(
                agent,
                url,
                &[(
                    "an announcement whose checkpoint lacks a witness the election's policy requires",
                    bytes,
                )],
            );
        }
    }
    let announcements: Vec<Vec<u8>> = statements
        .iter()
        .map(|s| e.announcement_entry(s, status, witnessed))
        .collect();
    let largest_entry = announcements.iter().map(Vec::len).max().unwrap_or(0);
    post_all(url, &announcements, status.as_str())?;
    Ok(Round {
        size,
        statements,
        largest_entry,
        read_secs,
        read_entries,
        append_secs: t.elapsed().as_secs_f64(),
    })
}

/// Clients posting one round's entries at once, so the board's group
/// commit makes one durable write for many of them.
const POSTERS: usize = 16;

/// POSTs every entry (in any order) and insists each is appended.
pub(crate) fn post_all(url: &str, entries: &[Vec<u8>], what: &'static str) -> Result<()> {
    let next = AtomicUsize::new(0);
    let retries = AtomicU64::new(0);
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let pb = progress_bar(entries.len() as u64, what);
    std::thread::scope(|s| {
        for _ in 0..POSTERS.min(entries.len()) {
            s.spawn(|| {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(600))
                    .build();
                while let Some(bytes) = entries.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = match post_entry(&agent, url, bytes, &retries) {
                        Ok(201) => Ok(()),
                        Ok(code) => Err(anyhow!("HTTP {code}")),
                        Err(err) => Err(err),
                    };
                    if let Err(err) = outcome {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(
                                err.context(format!("{what}: an entry was not appended")),
                            );
                        }
                        break;
                    }
                    pb.inc(1);
                }
            });
        }
    });
    pb.finish_and_clear();
    match failure.into_inner().ok().flatten() {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// A statement's outcome lines, joined: `outcome runoff, runoff 11, …`.
fn outcome_lines(s: &Statement) -> String {
    s.to_text()
        .lines()
        .filter(|l| l.starts_with("outcome") || l.starts_with("runoff") || l.starts_with("elected"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The presidential contest's outcome, as the demo has always printed it.
pub(crate) fn presidential_outcome(round: &Round) -> String {
    round
        .statements
        .iter()
        .find(|s| s.contest == PRESIDENT)
        .map(outcome_lines)
        .unwrap_or_default()
}

/// A few lines on the Majlis outcome: seats filled in round one, contests
/// going to a runoff, and Tehran's line. Empty without a Majlis election.
pub(crate) fn majlis_summary(e: &SyntheticElection, round: &Round) -> Vec<String> {
    let m = e.manifest();
    let majlis: Vec<&Statement> = round
        .statements
        .iter()
        .filter(|s| {
            m.contest(&s.contest)
                .is_some_and(|c| c.kind == ElectionKind::Majlis)
        })
        .collect();
    if majlis.is_empty() {
        return Vec::new();
    }
    let seats = |s: &Statement| m.contest(&s.contest).map_or(0, |c| c.seats as usize);
    let filled: usize = majlis.iter().map(|s| s.elected.len()).sum();
    let all: usize = majlis.iter().map(|s| seats(s)).sum();
    let complete = majlis
        .iter()
        .filter(|s| s.outcome == Status::Complete)
        .count();
    let runoffs: Vec<&&Statement> = majlis
        .iter()
        .filter(|s| s.outcome == Status::Runoff)
        .collect();
    let runoff_seats: usize = runoffs.iter().map(|s| seats(s) - s.elected.len()).sum();
    let other = majlis.len() - complete - runoffs.len();
    let mut out = vec![format!(
        "{} contests announced, {filled} of their {all} seats filled in round one; {complete} complete, {} to a runoff for {runoff_seats} seats{}",
        majlis.len(),
        runoffs.len(),
        if other > 0 {
            format!(", {other} otherwise (lot needed or no valid votes)")
        } else {
            String::new()
        }
    )];
    if let Some(t) = majlis.iter().find(|s| s.contest == TEHRAN_CONTEST) {
        let c = m.contest(TEHRAN_CONTEST);
        let top = t
            .votes
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .copied();
        let top_name = top
            .and_then(|(code, _)| c?.candidates.iter().find(|k| k.code == code))
            .map_or_else(String::new, |k| k.name_en.clone());
        out.push(format!(
            "Tehran: {} candidates, {} valid ballots; {} of 30 elected in round one (first: {top_name}, {} votes), {} seats to a runoff among {}",
            c.map_or(0, |c| c.candidates.len()),
            t.figures.valid,
            t.elected.len(),
            top.map_or(0, |v| v.1),
            30 - t.elected.len().min(30),
            t.runoff.len()
        ));
    }
    out
}
