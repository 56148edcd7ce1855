//! Replaying the log: every entry re-validated against the verifier's own
//! [`LogState`] (the core's one implementation of the log's meaning, built
//! here from the entries the verifier fetched, independently of the
//! board), which then holds the totals, the supervision and the
//! announcements the report shows.
//!
//! Signatures dominate the cost, so the replay runs in two passes per chunk
//! of entries, the split `tallyboard_core::validate` is designed for: a
//! sequential pass decides each entry's required signer and checks the
//! state rules ([`LogState::required_signer`], [`LogState::check`]), then
//! the signatures are checked on all cores ([`validate::verify_signature`]).
//! That is exactly [`LogState::validate`] as long as every signature
//! verifies; if one does not, the whole replay is redone sequentially with
//! [`LogState::validate`] so that the state (and so every later verdict) is
//! the one the rules define.
//!
//! Each announcement is also compared, figure by figure, with the statement
//! the state gives at its size just before it (`spec/verification.md` §6),
//! so a refused announcement says which figures differ.

use crate::Finding;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;
use tallyboard_core::entry::{Entry, EntryError, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::MemoryLog;
use tallyboard_core::state::EntryBytes;
use tallyboard_core::state::LogState;
use tallyboard_core::validate::{self, Signers};
use tallyboard_core::Hash;

/// How many entries are parsed and signature-checked together.
const CHUNK: usize = 8192;

/// One figure an announcement states differently from the recomputation.
#[derive(Clone, Debug, Serialize)]
pub struct FigureDifference {
    /// The figure (`valid`, `vote 11`, `elected`, ...).
    pub figure: String,
    /// As announced in the entry.
    pub announced: String,
    /// As recomputed from the log's entries below the announcement's size.
    pub expected: String,
}

/// The re-check of one announcement entry.
#[derive(Clone, Debug, Serialize)]
pub struct AnnouncementCheck {
    /// The entry's index.
    pub index: u64,
    /// Contest id.
    pub contest: String,
    /// The log size it binds the results to.
    pub size: u64,
    /// `partial` or `final`.
    pub status: String,
    /// Whether it validated (figures equal the recomputation; for final, a
    /// matching contest approval logged before it).
    pub valid: bool,
    /// Every figure that differs from the recomputation (empty if none).
    pub differences: Vec<FigureDifference>,
}

/// The result of a replay.
#[derive(Debug)]
pub struct ReplayOutcome {
    /// Entries that validated.
    pub accepted: u64,
    /// Signatures checked.
    pub signatures: u64,
    /// One finding per entry that did not validate.
    pub findings: Vec<Finding>,
    /// Every announcement entry, re-checked.
    pub announcements: Vec<AnnouncementCheck>,
    /// The state after the accepted entries.
    pub state: LogState,
}

impl ReplayOutcome {
    fn new(manifest: &Arc<ValidatedManifest>) -> ReplayOutcome {
        ReplayOutcome {
            accepted: 0,
            signatures: 0,
            findings: Vec::new(),
            announcements: Vec::new(),
            state: LogState::new(manifest.clone()),
        }
    }

    /// Records the verdict on the entry at the state's size and moves the
    /// state on: applied if accepted, passed over if refused.
    fn settle(
        &mut self,
        signed: Option<&SignedEntry>,
        verdict: Result<(), (String, String)>,
        log: &EntryBytes<'_>,
    ) {
        let index = self.state.size();
        if let Some(Entry::Announcement(a)) = signed.map(|s| &s.entry) {
            self.announcements.push(check_announcement(
                &self.state,
                index,
                a,
                verdict.is_ok(),
                log,
            ));
        }
        match (signed, verdict) {
            (Some(s), Ok(())) => match self.state.apply(index, s.leaf_hash(), &s.entry) {
                Ok(()) => self.accepted += 1,
                Err(e) => {
                    self.findings
                        .push(finding(index, e.code().as_str(), e.message().to_owned()));
                    self.state.skip();
                }
            },
            (_, Err((code, message))) => {
                self.findings.push(finding(index, &code, message));
                self.state.skip();
            }
            (None, Ok(())) => self.state.skip(),
        }
    }
}

fn finding(index: u64, code: &str, message: String) -> Finding {
    Finding::new(code, format!("entry {index}: {message}")).at_entry(index)
}

fn parse_refusal(e: &EntryError) -> (String, String) {
    (e.code().as_str().to_owned(), e.to_string())
}

fn refusal(e: &validate::ValidationError) -> (String, String) {
    (e.code().as_str().to_owned(), e.message().to_owned())
}

/// Compares an announcement at `index` with the statement the state (the
/// entries before it) gives at its size.
fn check_announcement(
    state: &LogState,
    index: u64,
    a: &tallyboard_core::entry::Announcement,
    valid: bool,
    log: &EntryBytes<'_>,
) -> AnnouncementCheck {
    let s = &a.statement;
    let differences = if (1..=index).contains(&s.size) {
        state
            .statement(&s.contest, s.size, log)
            .map(|want| {
                s.differences(&want)
                    .into_iter()
                    .map(|d| FigureDifference {
                        figure: d.figure,
                        announced: d.announced,
                        expected: d.expected,
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    AnnouncementCheck {
        index,
        contest: s.contest.clone(),
        size: s.size,
        status: a.status.as_str().to_owned(),
        valid,
        differences,
    }
}

/// Replays `entries` (the whole log, in order) against `manifest`.
pub fn replay(entries: &[Vec<u8>], manifest: &Arc<ValidatedManifest>) -> ReplayOutcome {
    // The tree the entries make: an announcement's checkpoint root is
    // checked against it (spec/announcements.md §5).
    // What an earlier revision is read back from (`LogState::tally_at`):
    // the tree and one map of leaf hashes (`EntryBytes`).
    let leaves = leaf_hashes(entries);
    let mut tree = MemoryLog::new();
    for leaf in &leaves {
        // Appending to a fresh in-memory tree cannot fail below 2^63 leaves.
        let _ = tree.append(*leaf);
    }
    let log = EntryBytes::new(entries, &leaves, &tree);
    match replay_fast(entries, manifest, &log) {
        Some(out) => out,
        None => replay_exact(entries, manifest, &log),
    }
}

/// A parsed chunk and the signatures it still needs checked.
type Batch = (Vec<Result<SignedEntry, EntryError>>, Vec<(usize, Signers)>);

/// The parallel replay; `None` if a signature failed (see the module docs).
///
/// Pipelined: while the sequential state pass runs over chunk `k + 1` on
/// one thread, chunk `k`'s signatures are checked on the others, so no core
/// idles during the sequential pass.
fn replay_fast(
    entries: &[Vec<u8>],
    manifest: &Arc<ValidatedManifest>,
    log: &EntryBytes<'_>,
) -> Option<ReplayOutcome> {
    let mut out = ReplayOutcome::new(manifest);
    let mut pending: Option<Batch> = None;
    for chunk in entries.chunks(CHUNK) {
        let parsed: Vec<_> = chunk.par_iter().map(|b| SignedEntry::parse(b)).collect();
        let (jobs, good) = rayon::join(
            || state_pass(&parsed, &mut out, log),
            || pending.as_ref().is_none_or(signatures_ok),
        );
        if !good {
            return None;
        }
        pending = Some((parsed, jobs));
    }
    if !pending.as_ref().is_none_or(signatures_ok) {
        return None;
    }
    Some(out)
}

/// Checks a chunk's signatures on all cores.
fn signatures_ok((parsed, jobs): &Batch) -> bool {
    jobs.par_iter().all(|(i, signers)| match &parsed[*i] {
        Ok(s) => signers.verify(s).is_ok(),
        Err(_) => false,
    })
}

/// The sequential pass over one chunk: required signer and state rules;
/// returns the signatures to check.
fn state_pass(
    parsed: &[Result<SignedEntry, EntryError>],
    out: &mut ReplayOutcome,
    log: &EntryBytes<'_>,
) -> Vec<(usize, Signers)> {
    let mut jobs = Vec::with_capacity(parsed.len());
    for (i, p) in parsed.iter().enumerate() {
        let signed = match p {
            Ok(s) => s,
            Err(e) => {
                out.settle(None, Err(parse_refusal(e)), log);
                continue;
            }
        };
        let checked = out.state.required_signers(signed).and_then(|key| {
            out.state.check(signed, log)?;
            Ok(key)
        });
        match checked {
            Ok(key) => {
                out.settle(Some(signed), Ok(()), log);
                jobs.push((i, key));
            }
            Err(e) => out.settle(Some(signed), Err(refusal(&e)), log),
        }
    }
    out.signatures += jobs.iter().map(|(_, s)| s.keys().len() as u64).sum::<u64>();
    jobs
}

/// The sequential replay with [`LogState::validate`] for every entry.
fn replay_exact(
    entries: &[Vec<u8>],
    manifest: &Arc<ValidatedManifest>,
    log: &EntryBytes<'_>,
) -> ReplayOutcome {
    let mut out = ReplayOutcome::new(manifest);
    for bytes in entries {
        let signed = match SignedEntry::parse(bytes) {
            Ok(s) => s,
            Err(e) => {
                out.settle(None, Err(parse_refusal(&e)), log);
                continue;
            }
        };
        if let Ok(signers) = out.state.required_signers(&signed) {
            out.signatures += signers.keys().len() as u64;
        }
        let verdict = out.state.validate(&signed, log).map_err(|e| refusal(&e));
        out.settle(Some(&signed), verdict, log);
    }
    out
}

/// The RFC 6962 leaf hashes of `entries`, computed on all cores.
pub fn leaf_hashes(entries: &[Vec<u8>]) -> Vec<Hash> {
    entries.par_iter().map(|e| leaf_hash(e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_synth::{Config, SyntheticElection};

    fn election() -> (SyntheticElection, Vec<Vec<u8>>) {
        let e = SyntheticElection::generate(Config {
            seed: 3,
            stations: 20,
            majlis: false,
        });
        let mut v = vec![e.commitment_entry()];
        v.extend((0..20).map(|i| e.registration_entry(i)));
        v.extend((0..20).map(|i| e.signed_tally(i)));
        let first = e.signed_tally(4);
        v.push(e.revised_tally(4, &first));
        (e, v)
    }

    fn manifest(e: &SyntheticElection) -> Arc<ValidatedManifest> {
        Arc::new(e.manifest().clone())
    }

    fn president(out: &ReplayOutcome) -> tallyboard_core::aggregate::RegionTotals {
        let agg = out.state.aggregator();
        let id = agg.contest_ids().next().expect("a contest").to_owned();
        agg.contest_totals(&id).expect("totals").clone()
    }

    #[test]
    fn replay_accepts_a_valid_log_and_totals_follow_revisions() {
        let (e, v) = election();
        let out = replay(&v, &manifest(&e));
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        // One signature per entry, two on the commitment (spec/keys.md §1).
        assert_eq!((out.accepted, out.signatures), (42, 43));
        let t = president(&out);
        assert_eq!((t.stations_expected, t.stations_reported), (20, 20));
        assert_eq!(t.stations_revised, 1);
        let codes = out
            .state
            .aggregator()
            .candidates(&e.manifest().manifest().contests[0].id)
            .expect("codes")
            .to_vec();
        let at = codes.iter().position(|&c| c == 11).expect("candidate 11");
        assert_eq!(t.standing.votes[at], t.counted.votes[at] + 2);
    }

    #[test]
    fn a_bad_signature_falls_back_to_the_exact_replay_and_is_named() {
        let (e, mut v) = election();
        // Entry 30 is station 9's tally; change one base64 character in the
        // middle of its signature.
        let text = String::from_utf8(v[30].clone()).unwrap();
        let at = text.rfind(' ').unwrap() + 20;
        let mut b = text.into_bytes();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        v[30] = b;
        let out = replay(&v, &manifest(&e));
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(out.findings[0].entry, Some(30));
        assert_eq!(out.findings[0].code, "note.bad-signature");
        assert_eq!(out.accepted, 41);
        // The exact replay did not apply the bad entry.
        assert_eq!(president(&out).stations_reported, 19);
        // Later entries keep their indexes: station 4's revision is entry 41.
        let t = out
            .state
            .latest_tally(e.station_id(4), &e.manifest().manifest().contests[0].id)
            .expect("revision");
        assert_eq!((t.index, t.revision), (41, 2));
    }
}
