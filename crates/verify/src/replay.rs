//! Replaying the log: every entry re-validated with
//! `tallyboard_core::validate` against the verifier's own [`LogView`]
//! (built from the entries it has replayed, independently of the board),
//! then the per-contest totals.
//!
//! Signatures dominate the cost, so the replay runs in two passes per chunk
//! of entries, the split `tallyboard_core::validate` is designed for: a
//! sequential pass decides each entry's required signer and checks the
//! state rules ([`validate::required_signer`], [`validate::check_entry`]),
//! then the signatures are checked on all cores
//! ([`validate::verify_signature`]). That is exactly [`validate::validate`]
//! as long as every signature verifies; if one does not, the whole replay is
//! redone sequentially with [`validate::validate`] so that the state (and so
//! every later verdict) is the one the rules define.

use crate::Finding;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use tallyboard_core::entry::{announcement, Entry, EntryError, SignedEntry, Statement, Tally};
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::standing::{self, Rebuilt, StandingResults};
use tallyboard_core::validate::{self, KeyState, LogView, Supervision, TallyRef, ValidationError};
use tallyboard_core::Hash;

/// How many entries are parsed and signature-checked together.
const CHUNK: usize = 8192;

/// One logged tally and where it sits.
#[derive(Clone, Debug)]
pub struct LoggedTally {
    /// Index and leaf hash.
    pub at: TallyRef,
    /// The figures.
    pub tally: Tally,
}

/// What the log says about one station.
#[derive(Clone, Debug, Default)]
pub struct StationState {
    /// Its active (or last revoked) key.
    pub key: Option<KeyState>,
    /// Its tallies per contest, in revision order.
    pub tallies: BTreeMap<String, Vec<LoggedTally>>,
}

/// The verifier's own view of the log, rebuilt from accepted entries.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    /// Whether the manifest commitment was logged.
    pub committed: bool,
    /// Per station.
    pub stations: HashMap<String, StationState>,
    /// The leaf hash of every entry of the log (accepted or not).
    pub leaves: Vec<Hash>,
    /// The index of the entry being validated: the log's size before it.
    pub position: u64,
    /// Annulments, approvals, contest approvals and lots accepted so far.
    pub supervision: Supervision,
    /// Accepted tallies, annulments and lot draws, in log order: what
    /// results are recomputed from.
    pub results_log: Vec<(u64, Entry)>,
    /// The standing results after the accepted entries, kept current so that
    /// an announcement is checked without re-aggregating the whole prefix
    /// (`tallyboard_core::standing`); `None` until a replay starts, or if
    /// the aggregator ever refused an accepted entry, and then every
    /// statement is recomputed from `results_log`.
    pub standing: Option<StandingResults>,
    /// The standing results last rebuilt for an earlier size.
    pub rebuilt: Rebuilt,
    /// Accepted supervisor and authority decisions, in log order
    /// (approvals, annulments, contest approvals, lots, announcements).
    pub decisions: Vec<(u64, Entry)>,
}

impl Replay {
    /// Applies an entry that validated at `index`.
    pub fn apply(&mut self, index: u64, signed: &SignedEntry) {
        self.supervision.apply(index, &signed.entry);
        if let Some(standing) = &mut self.standing {
            if standing.apply(index, &signed.entry).is_err() {
                self.standing = None;
            }
        }
        match &signed.entry {
            Entry::Tally(_) | Entry::Annulment(_) | Entry::LotDraw(_) => {
                self.results_log.push((index, signed.entry.clone()));
            }
            _ => {}
        }
        match &signed.entry {
            Entry::Approval(_)
            | Entry::Annulment(_)
            | Entry::ContestApproval(_)
            | Entry::LotDraw(_)
            | Entry::Announcement(_) => self.decisions.push((index, signed.entry.clone())),
            _ => {}
        }
        match &signed.entry {
            Entry::ManifestCommitment(_) => self.committed = true,
            Entry::StationKey(k) => {
                self.stations.entry(k.station.clone()).or_default().key =
                    Some(KeyState::registered(&k.key));
            }
            Entry::StationKeyRevocation(r) => {
                if let Some(k) = &mut self.stations.entry(r.station.clone()).or_default().key {
                    k.revoked = true;
                }
            }
            Entry::Tally(t) => {
                self.stations
                    .entry(t.station.clone())
                    .or_default()
                    .tallies
                    .entry(t.contest.clone())
                    .or_default()
                    .push(LoggedTally {
                        at: TallyRef {
                            index,
                            leaf: signed.leaf_hash(),
                            revision: t.revision,
                        },
                        tally: t.clone(),
                    });
            }
            _ => {}
        }
    }
}

impl LogView for Replay {
    fn manifest_committed(&self) -> bool {
        self.committed
    }
    fn station_key(&self, station: &str) -> Option<KeyState> {
        self.stations.get(station)?.key.clone()
    }
    fn latest_tally(&self, station: &str, contest: &str) -> Option<TallyRef> {
        Some(self.stations.get(station)?.tallies.get(contest)?.last()?.at)
    }
    fn tally_at(&self, station: &str, contest: &str, revision: u32) -> Option<TallyRef> {
        self.stations
            .get(station)?
            .tallies
            .get(contest)?
            .iter()
            .find(|t| t.at.revision == revision)
            .map(|t| t.at)
    }
    fn size(&self) -> u64 {
        self.position
    }
    fn leaf_at(&self, index: u64) -> Option<Hash> {
        if index >= self.position {
            return None;
        }
        self.leaves.get(usize::try_from(index).ok()?).copied()
    }
    fn supervision(&self) -> &Supervision {
        &self.supervision
    }
    fn statement(
        &self,
        manifest: &ValidatedManifest,
        contest: &str,
        size: u64,
    ) -> Result<Statement, ValidationError> {
        let prefix = || -> Result<Vec<(u64, Entry)>, ValidationError> {
            Ok(self
                .results_log
                .iter()
                .take_while(|(i, _)| *i < size)
                .cloned()
                .collect())
        };
        match &self.standing {
            Some(st) => standing::statement(manifest, st, &self.rebuilt, contest, size, prefix),
            None => announcement::expected(
                manifest,
                prefix()?.iter().map(|(i, e)| (*i, e)),
                contest,
                size,
            )
            .map_err(ValidationError::from),
        }
    }
}

/// The result of a replay.
#[derive(Debug, Default)]
pub struct ReplayOutcome {
    /// Entries that validated.
    pub accepted: u64,
    /// Signatures checked.
    pub signatures: u64,
    /// One finding per entry that did not validate.
    pub findings: Vec<Finding>,
    /// The state after the accepted entries.
    pub state: Replay,
}

fn finding(index: u64, code: &str, message: String) -> Finding {
    Finding::new(code, format!("entry {index}: {message}")).at_entry(index)
}

/// Replays `entries` (the whole log, in order) against `manifest`.
pub fn replay(entries: &[Vec<u8>], manifest: &ValidatedManifest) -> ReplayOutcome {
    let leaves = leaf_hashes(entries);
    match replay_fast(entries, manifest, &leaves) {
        Some(out) => out,
        None => replay_exact(entries, manifest, leaves),
    }
}

/// A parsed chunk and the signatures it still needs checked.
type Batch = (
    Vec<Result<SignedEntry, EntryError>>,
    Vec<(usize, VerifierKey)>,
);

/// The parallel replay; `None` if a signature failed (see the module docs).
///
/// Pipelined: while the sequential state pass runs over chunk `k + 1` on
/// one thread, chunk `k`'s signatures are checked on the others, so no core
/// idles during the sequential pass.
fn replay_fast(
    entries: &[Vec<u8>],
    manifest: &ValidatedManifest,
    leaves: &[Hash],
) -> Option<ReplayOutcome> {
    let mut out = ReplayOutcome::default();
    out.state.leaves = leaves.to_vec();
    out.state.standing = Some(StandingResults::new(manifest));
    let mut pending: Option<Batch> = None;
    for (c, chunk) in entries.chunks(CHUNK).enumerate() {
        let base = (c * CHUNK) as u64;
        let parsed: Vec<_> = chunk.par_iter().map(|b| SignedEntry::parse(b)).collect();
        let (jobs, good) = rayon::join(
            || state_pass(&parsed, base, manifest, &mut out),
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
    jobs.par_iter().all(|(i, key)| match &parsed[*i] {
        Ok(s) => validate::verify_signature(s, key).is_ok(),
        Err(_) => false,
    })
}

/// The sequential pass over one chunk: required signer and state rules;
/// returns the signatures to check.
fn state_pass(
    parsed: &[Result<SignedEntry, EntryError>],
    base: u64,
    manifest: &ValidatedManifest,
    out: &mut ReplayOutcome,
) -> Vec<(usize, VerifierKey)> {
    let mut jobs = Vec::with_capacity(parsed.len());
    for (i, p) in parsed.iter().enumerate() {
        let index = base + i as u64;
        out.state.position = index;
        if let Some(st) = &mut out.state.standing {
            st.advance(index);
        }
        let signed = match p {
            Ok(s) => s,
            Err(e) => {
                out.findings
                    .push(finding(index, e.code().as_str(), e.to_string()));
                continue;
            }
        };
        let checked = validate::required_signer(signed, manifest, &out.state).and_then(|key| {
            validate::check_entry(signed, manifest, &out.state)?;
            Ok(key)
        });
        match checked {
            Ok(key) => {
                out.state.apply(index, signed);
                out.accepted += 1;
                jobs.push((i, key));
            }
            Err(e) => out
                .findings
                .push(finding(index, e.code().as_str(), e.message().to_string())),
        }
    }
    out.signatures += jobs.len() as u64;
    jobs
}

/// The sequential replay with [`validate::validate`] for every entry.
fn replay_exact(
    entries: &[Vec<u8>],
    manifest: &ValidatedManifest,
    leaves: Vec<Hash>,
) -> ReplayOutcome {
    let mut out = ReplayOutcome::default();
    out.state.leaves = leaves;
    out.state.standing = Some(StandingResults::new(manifest));
    for (i, bytes) in entries.iter().enumerate() {
        let index = i as u64;
        out.state.position = index;
        if let Some(st) = &mut out.state.standing {
            st.advance(index);
        }
        let signed = match SignedEntry::parse(bytes) {
            Ok(s) => s,
            Err(e) => {
                out.findings
                    .push(finding(index, e.code().as_str(), e.to_string()));
                continue;
            }
        };
        if validate::required_signer(&signed, manifest, &out.state).is_ok() {
            out.signatures += 1;
        }
        match validate::validate(&signed, manifest, &out.state) {
            Ok(()) => {
                out.state.apply(index, &signed);
                out.accepted += 1;
            }
            Err(e) => out
                .findings
                .push(finding(index, e.code().as_str(), e.message().to_string())),
        }
    }
    out
}

/// Summed tally figures over a set of stations.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// Stations summed.
    pub stations: u64,
    /// Ballots issued (counterfoils).
    pub counterfoils: u64,
    /// Ballots in the box.
    pub ballots_in_box: u64,
    /// Votes taken.
    pub votes_taken: u64,
    /// Void ballots taken into the count.
    pub void_taken: u64,
    /// Void ballots not taken.
    pub void_not_taken: u64,
    /// Valid ballots.
    pub valid: u64,
    /// Votes per candidate code.
    pub votes: BTreeMap<u32, u64>,
}

impl Figures {
    fn add(&mut self, t: &Tally) {
        self.stations += 1;
        self.counterfoils = self.counterfoils.saturating_add(t.counterfoils);
        self.ballots_in_box = self.ballots_in_box.saturating_add(t.ballots_in_box);
        self.votes_taken = self.votes_taken.saturating_add(t.votes_taken);
        self.void_taken = self.void_taken.saturating_add(t.void_taken);
        self.void_not_taken = self.void_not_taken.saturating_add(t.void_not_taken);
        self.valid = self.valid.saturating_add(t.valid);
        for &(code, n) in &t.votes {
            let v = self.votes.entry(code).or_default();
            *v = v.saturating_add(n);
        }
    }
}

/// One contest's totals.
#[derive(Clone, Debug, Serialize)]
pub struct ContestTotals {
    /// Contest id.
    pub contest: String,
    /// Contest name (Latin script).
    pub name_en: String,
    /// Seats.
    pub seats: u32,
    /// Stations that report this contest, per the manifest.
    pub stations_expected: u64,
    /// Stations whose tally was revised at least once.
    pub stations_revised: u64,
    /// Stations whose box a supervisor annulled (they count zero in `standing`).
    pub stations_annulled: u64,
    /// Each reporting station's first tally (revision 1).
    pub counted: Figures,
    /// Each reporting station's latest revision, annulled boxes excluded.
    pub standing: Figures,
    /// Candidates: (code, Latin name, Persian name).
    pub candidates: Vec<(u32, String, String)>,
}

/// Recomputes every contest's totals from the replayed state.
pub fn totals(state: &Replay, manifest: &ValidatedManifest) -> Vec<ContestTotals> {
    let m = manifest.manifest();
    let mut out: BTreeMap<String, ContestTotals> = m
        .contests
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                ContestTotals {
                    contest: c.id.clone(),
                    name_en: c.name_en.clone(),
                    seats: c.seats,
                    stations_expected: 0,
                    stations_revised: 0,
                    stations_annulled: 0,
                    counted: Figures::default(),
                    standing: Figures::default(),
                    candidates: c
                        .candidates
                        .iter()
                        .map(|k| (k.code, k.name_en.clone(), k.name_fa.clone()))
                        .collect(),
                },
            )
        })
        .collect();
    for s in &m.stations {
        for c in &s.contests {
            if let Some(t) = out.get_mut(c) {
                t.stations_expected += 1;
            }
        }
    }
    for s in &m.stations {
        for c in &s.contests {
            if let (Some(t), Some(_)) = (out.get_mut(c), state.supervision.annulled(&s.id, c)) {
                t.stations_annulled += 1;
            }
        }
    }
    for (station, st) in &state.stations {
        for (contest, list) in &st.tallies {
            let (Some(first), Some(last), Some(t)) =
                (list.first(), list.last(), out.get_mut(contest))
            else {
                continue;
            };
            t.counted.add(&first.tally);
            if state.supervision.annulled(station, contest).is_none() {
                t.standing.add(&last.tally);
            }
            if list.len() > 1 {
                t.stations_revised += 1;
            }
        }
    }
    out.into_values().collect()
}

/// The RFC 6962 leaf hashes of `entries`, computed on all cores.
pub fn leaf_hashes(entries: &[Vec<u8>]) -> Vec<tallyboard_core::Hash> {
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

    #[test]
    fn replay_accepts_a_valid_log_and_totals_follow_revisions() {
        let (e, v) = election();
        let out = replay(&v, e.manifest());
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        assert_eq!((out.accepted, out.signatures), (42, 42));
        let t = &totals(&out.state, e.manifest())[0];
        assert_eq!((t.stations_expected, t.standing.stations), (20, 20));
        assert_eq!(t.stations_revised, 1);
        assert_eq!(t.standing.votes[&11], t.counted.votes[&11] + 2);
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
        let out = replay(&v, e.manifest());
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(out.findings[0].entry, Some(30));
        assert_eq!(out.findings[0].code, "note.bad-signature");
        assert_eq!(out.accepted, 41);
        // The exact replay did not apply the bad entry.
        let t = &totals(&out.state, e.manifest())[0];
        assert_eq!(t.standing.stations, 19);
    }
}
