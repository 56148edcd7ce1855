//! `tallyboard/announcement/v1`: the election authority binds a contest's
//! standing results to one log size (`spec/announcements.md`).
//!
//! An announcement is a [`Statement`] (the figures and the outcome the
//! rules give, as they stand after the first `size` entries) plus a status,
//! `partial` or `final`. The board accepts it only if the statement equals
//! [`expected`], its own recomputation from the entries below `size`; the
//! verifier runs the same function. A supervisor's contest approval
//! (`tallyboard/contest-approval/v1`) names the statement by its SHA-256
//! ([`Statement::sha256`]), and a final announcement needs one at the same size.

use super::authority::push;
use super::figures::{self, BallotFigures};
use super::grammar::{self, FieldReader};
use super::{votes, Entry, EntryError};
use crate::aggregate::Aggregator;
use crate::error::Coded;
use crate::manifest::ValidatedManifest;
use crate::rules::{LotDraw, Status};
use crate::state::{LogReader, NoLog};
use crate::{ErrorCode, Hash};
use std::collections::BTreeMap;

/// The type line of the text a contest approval hashes.
pub const STATEMENT_TYPE: &str = "tallyboard/results-statement/v1";

/// Whether an announcement is provisional or the declared result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnnouncementStatus {
    /// Results so far; more stations may report.
    Partial,
    /// The declared result; needs a supervisor's contest approval at the same size.
    Final,
}

impl AnnouncementStatus {
    /// The spelling in the entry.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementStatus::Partial => "partial",
            AnnouncementStatus::Final => "final",
        }
    }
}

/// A contest's standing results after the first `size` entries of the log:
/// the figures of its constituency (or the nation), and the outcome of the
/// contest's rules with the lots logged below `size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Election identifier.
    pub election: String,
    /// Contest identifier.
    pub contest: String,
    /// The log size: entries with index < size count.
    pub size: u64,
    /// Stations with a tally below `size` whose box is not annulled below `size`.
    pub stations_counted: u64,
    /// Stations the manifest assigns to the contest.
    pub stations_expected: u64,
    /// Stations whose box is annulled below `size` (reported or not).
    pub stations_annulled: u64,
    /// The standing sums of the ballot figures.
    pub figures: BallotFigures,
    /// Standing votes per candidate: non-zero only, ascending code.
    pub votes: Vec<(u32, u64)>,
    /// The rules' overall status.
    pub outcome: Status,
    /// Elected candidates, in the decision's ranking order.
    pub elected: Vec<u32>,
    /// Candidates going to the runoff, in ranking order.
    pub runoff: Vec<u32>,
    /// Reserve members, by rank (first reserve first).
    pub reserves: Vec<u32>,
    /// Ties awaiting a lot: each the tied codes, ascending.
    pub lot_needed: Vec<Vec<u32>>,
}

/// `tallyboard/announcement/v1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// `partial` or `final`.
    pub status: AnnouncementStatus,
    /// The results announced.
    pub statement: Statement,
    /// A final announcement made after its contest's earlier final was
    /// reopened: that final, and why the results changed.
    pub replaces: Option<Replacement>,
    /// The checkpoint of `statement.size` entries the announcement rests
    /// on: its root, and the witnesses' cosignatures on it, which must
    /// meet the manifest's witness policy (`spec/announcements.md` §5).
    pub witnessed: WitnessedCheckpoint,
}

/// What a corrected final replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// The leaf hash of the final announcement it replaces (reopened).
    pub final_leaf: Hash,
    /// Why the results changed, for people.
    pub reason: String,
}

/// The most cosignature lines an announcement may carry: enough for any
/// sensible witness policy, few enough that checking them costs little.
pub const MAX_COSIGNATURES: usize = 16;

/// A checkpoint an announcement names: the root of the log's first `size`
/// entries (the statement's size), and the witnesses' cosignatures (C2SP
/// tlog-cosignature) on the checkpoint text `origin\nsize\nroot\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessedCheckpoint {
    /// The tree's root.
    pub root: Hash,
    /// The cosignatures, as signed-note signature lines.
    pub cosignatures: Vec<crate::note::NoteSignature>,
}

impl WitnessedCheckpoint {
    /// The C2SP tlog-checkpoint text the cosignatures sign: the log's
    /// origin, the size and the root, with no extension lines.
    pub fn checkpoint_text(&self, origin: &str, size: u64) -> String {
        crate::checkpoint::Checkpoint {
            origin: origin.to_owned(),
            size,
            root: self.root,
            extensions: vec![],
        }
        .to_text()
    }

    /// What an authority copies into an announcement from a cosigned
    /// checkpoint note (as `/checkpoint` or `/api/v1/checkpoints/<size>`
    /// serve it): the checkpoint, its root, and the signature lines of the
    /// `policy`'s witnesses, at most [`MAX_COSIGNATURES`]. The log's own
    /// signature and other keys' lines are left out; whether the lines
    /// verify and meet the quorum is the validation rule's to say
    /// (`spec/announcements.md` §5).
    ///
    /// # Errors
    /// The note or its checkpoint text does not parse.
    pub fn from_note(
        note_bytes: &[u8],
        policy: &crate::policy::Policy,
    ) -> Result<
        (crate::checkpoint::Checkpoint, WitnessedCheckpoint),
        crate::checkpoint::CheckpointError,
    > {
        let note = crate::note::Note::parse(note_bytes, crate::checkpoint::MAX_CHECKPOINT_SIZE)?;
        let cp = crate::checkpoint::Checkpoint::parse(&note.text)?;
        let cosignatures = note
            .signatures
            .into_iter()
            .filter(|s| {
                policy
                    .witnesses
                    .iter()
                    .any(|w| w.key.name() == s.name && w.key.key_id() == s.key_id)
            })
            .take(MAX_COSIGNATURES)
            .collect();
        let witnessed = WitnessedCheckpoint {
            root: cp.root,
            cosignatures,
        };
        Ok((cp, witnessed))
    }
}

pub(super) const ANNOUNCEMENT_FIELDS: &[&str] = &grammar::field_list::<23>(&[
    &[
        "election",
        "contest",
        "size",
        "status",
        "stations-counted",
        "stations-expected",
        "stations-annulled",
    ],
    &figures::FIELDS,
    &[
        votes::FIELD,
        "outcome",
        "elected",
        "runoff",
        "reserve",
        "lot-needed",
        "replaces",
        "reason",
        "root",
        "cosignature",
    ],
]);

fn outcome_str(s: Status) -> &'static str {
    match s {
        Status::Complete => "complete",
        Status::Runoff => "runoff",
        Status::LotNeeded => "lot-needed",
        Status::NoValidVotes => "no-valid-votes",
    }
}

fn join(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

/// One figure that differs between an announced and a recomputed statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The figure: a field name, or `vote <code>` for a candidate's votes.
    pub figure: String,
    /// As announced (`absent` if the announcement lacks it).
    pub announced: String,
    /// As recomputed from the log (`absent` if the recomputation lacks it).
    pub expected: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: announced {}, recomputed {}",
            self.figure, self.announced, self.expected
        )
    }
}

impl Statement {
    /// The statement's lines after `size`, in entry order.
    fn write_figures(&self, out: &mut String) {
        push(out, "stations-counted", &self.stations_counted.to_string());
        push(
            out,
            "stations-expected",
            &self.stations_expected.to_string(),
        );
        push(
            out,
            "stations-annulled",
            &self.stations_annulled.to_string(),
        );
        self.figures.write(out);
        votes::write(out, &self.votes);
        push(out, "outcome", outcome_str(self.outcome));
        for c in &self.elected {
            push(out, "elected", &c.to_string());
        }
        for c in &self.runoff {
            push(out, "runoff", &c.to_string());
        }
        for c in &self.reserves {
            push(out, "reserve", &c.to_string());
        }
        for t in &self.lot_needed {
            push(out, "lot-needed", &join(t));
        }
    }

    /// The canonical text a contest approval hashes: the line
    /// `tallyboard/results-statement/v1`, then the announcement's field
    /// lines without `status`, each ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(STATEMENT_TYPE);
        out.push('\n');
        push(&mut out, "election", &self.election);
        push(&mut out, "contest", &self.contest);
        push(&mut out, "size", &self.size.to_string());
        self.write_figures(&mut out);
        out
    }

    /// SHA-256 of [`Statement::to_text`]: what `results-sha256` of a
    /// contest approval must be.
    pub fn sha256(&self) -> Hash {
        Hash::sha256(self.to_text().as_bytes())
    }

    /// Every figure as (name, value), for comparison.
    fn figures(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = vec![
            ("election".into(), self.election.clone()),
            ("contest".into(), self.contest.clone()),
            ("size".into(), self.size.to_string()),
            ("stations-counted".into(), self.stations_counted.to_string()),
            (
                "stations-expected".into(),
                self.stations_expected.to_string(),
            ),
            (
                "stations-annulled".into(),
                self.stations_annulled.to_string(),
            ),
        ];
        for (name, n) in self.figures.named() {
            v.push((name.into(), n.to_string()));
        }
        for (c, n) in &self.votes {
            v.push((format!("vote {c}"), n.to_string()));
        }
        v.push(("outcome".into(), outcome_str(self.outcome).into()));
        v.push(("elected".into(), join(&self.elected)));
        v.push(("runoff".into(), join(&self.runoff)));
        v.push(("reserve".into(), join(&self.reserves)));
        v.push((
            "lot-needed".into(),
            self.lot_needed
                .iter()
                .map(|t| join(t))
                .collect::<Vec<_>>()
                .join("; "),
        ));
        v
    }

    /// The figures where `self` (announced) differs from `expected`, in
    /// entry order; empty when they are equal.
    pub fn differences(&self, expected: &Statement) -> Vec<Difference> {
        let a = self.figures();
        let e = expected.figures();
        let mut names: Vec<&String> = e.iter().map(|(n, _)| n).collect();
        for (n, _) in &a {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let get = |list: &[(String, String)], n: &str| {
            list.iter()
                .find(|(k, _)| k == n)
                .map_or_else(|| "absent".to_owned(), |(_, v)| v.clone())
        };
        let mut out = Vec::new();
        for n in names {
            let (x, y) = (get(&a, n), get(&e, n));
            if x != y {
                let (x, y) = if n.starts_with("vote ") {
                    (x.replace("absent", "0"), y.replace("absent", "0"))
                } else {
                    (x, y)
                };
                out.push(Difference {
                    figure: n.clone(),
                    announced: if x.is_empty() { "none".into() } else { x },
                    expected: if y.is_empty() { "none".into() } else { y },
                });
            }
        }
        out
    }

    /// The statement of one contest after the log's first `size` entries,
    /// from an aggregator fed (at least) those entries in index order, and
    /// the lots logged below `size`
    /// ([`crate::aggregate::Aggregator::contest_at`], which reads from
    /// `tallies` a revision in force at `size` that it no longer keeps).
    ///
    /// # Errors
    /// `contest.unknown`, the rules' refusal, or `tallies`' failure.
    pub fn from_aggregator(
        agg: &Aggregator,
        contest: &str,
        size: u64,
        lots: &[LotDraw],
        tallies: &dyn LogReader,
    ) -> Result<Statement, EntryError> {
        let at = agg
            .contest_at(contest, size, tallies)
            .map_err(|e| EntryError::new(e.code(), e.message().to_owned()))?;
        let s = &at.top.standing;
        let d = at
            .decide(lots)
            .map_err(|e| EntryError::new(e.code(), e.message().to_owned()))?;
        let mut reserves = d.reserves.clone();
        reserves.sort_by_key(|r| r.rank);
        Ok(Statement {
            election: agg.election().to_owned(),
            contest: contest.to_owned(),
            size,
            stations_counted: at.top.stations_counted,
            stations_expected: at.top.stations_expected,
            stations_annulled: at.top.stations_annulled,
            figures: s.figures,
            votes: s.nonzero_votes(at.codes),
            outcome: d.status,
            elected: d.elected,
            runoff: d.runoff,
            reserves: reserves.iter().map(|r| r.candidate).collect(),
            lot_needed: d.lot_needed.iter().map(|t| t.among.clone()).collect(),
        })
    }
}

/// What results depend on, from the entries with index < `size`: the
/// aggregator of their tallies with their annulments applied, and each
/// contest's logged lots. Entries of other kinds are ignored, so callers
/// may pass the whole log prefix.
///
/// # Errors
/// A tally the aggregator refuses (never, for entries the board accepted).
pub fn standing_at<'a>(
    manifest: &ValidatedManifest,
    entries: impl IntoIterator<Item = (u64, &'a Entry)>,
    size: u64,
) -> Result<(Aggregator, Vec<(String, LotDraw)>), EntryError> {
    let mut tallies = Vec::new();
    let mut annulled = BTreeMap::new();
    let mut lots = Vec::new();
    for (index, e) in entries {
        if index >= size {
            continue;
        }
        match e {
            Entry::Tally(t) => tallies.push((index, t)),
            Entry::Annulment(a) => {
                annulled
                    .entry((a.station.clone(), a.contest.clone()))
                    .or_insert(index);
            }
            Entry::LotDraw(l) => lots.push((l.contest.clone(), l.draw())),
            _ => {}
        }
    }
    let agg = Aggregator::build(manifest, tallies, &annulled, Some(size))
        .map_err(|e| EntryError::new(e.code(), e.message().to_owned()))?;
    Ok((agg, lots))
}

/// The statement the log's entries below `size` give for `contest`: the
/// recomputation every announcement and contest approval is checked
/// against, by the board and by the verifier alike.
///
/// # Errors
/// `contest.unknown`; the rules' refusal.
pub fn expected<'a>(
    manifest: &ValidatedManifest,
    entries: impl IntoIterator<Item = (u64, &'a Entry)>,
    contest: &str,
    size: u64,
) -> Result<Statement, EntryError> {
    let (agg, lots) = standing_at(manifest, entries, size)?;
    let lots: Vec<LotDraw> = lots
        .into_iter()
        .filter(|(c, _)| c == contest)
        .map(|(_, l)| l)
        .collect();
    // Built from the entries below `size` only: every box's revision in
    // force is its latest, so no other tally is read.
    Statement::from_aggregator(&agg, contest, size, &lots, &NoLog)
}

fn parse_outcome((v, lineno): (&str, usize)) -> Result<Status, EntryError> {
    match v {
        "complete" => Ok(Status::Complete),
        "runoff" => Ok(Status::Runoff),
        "lot-needed" => Ok(Status::LotNeeded),
        "no-valid-votes" => Ok(Status::NoValidVotes),
        _ => Err(EntryError::new(
            ErrorCode::EntryBadValue,
            format!(
                "line {lineno}: field 'outcome': expected complete, runoff, lot-needed or no-valid-votes"
            ),
        )),
    }
}

impl Announcement {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, ANNOUNCEMENT_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let contest = grammar::parse_id("contest", r.required("contest")?)?;
        let size = grammar::parse_u64("size", r.required("size")?)?;
        let (sv, sl) = r.required("status")?;
        let status = match sv {
            "partial" => AnnouncementStatus::Partial,
            "final" => AnnouncementStatus::Final,
            _ => {
                return Err(EntryError::new(
                    ErrorCode::EntryBadValue,
                    format!("line {sl}: field 'status': expected partial or final"),
                ))
            }
        };
        let mut count = |name: &'static str| -> Result<u64, EntryError> {
            grammar::parse_u64(name, r.required(name)?)
        };
        let stations_counted = count("stations-counted")?;
        let stations_expected = count("stations-expected")?;
        let stations_annulled = count("stations-annulled")?;
        // Standing sums over many boxes: any u64, not only a count's 10^12.
        let figures = BallotFigures::parse(&mut r, grammar::parse_u64)?;
        let votes = votes::parse(&mut r, grammar::parse_u64)?;
        let outcome = parse_outcome(r.required("outcome")?)?;
        let codes = |list: Vec<(&str, usize)>, name: &str| -> Result<Vec<u32>, EntryError> {
            list.into_iter()
                .map(|v| grammar::parse_u32(name, v))
                .collect()
        };
        let elected = codes(r.repeated("elected"), "elected")?;
        let runoff = codes(r.repeated("runoff"), "runoff")?;
        let reserves = codes(r.repeated("reserve"), "reserve")?;
        let mut lot_needed = Vec::new();
        for (value, lineno) in r.repeated("lot-needed") {
            if value.split(' ').any(str::is_empty) {
                return Err(EntryError::new(
                    ErrorCode::EntryNonCanonical,
                    format!("line {lineno}: field 'lot-needed': stray spaces"),
                ));
            }
            let tie: Vec<u32> = value
                .split(' ')
                .map(|c| grammar::parse_u32("lot-needed", (c, lineno)))
                .collect::<Result<_, _>>()?;
            if tie.len() < 2 || tie.windows(2).any(|w| w[0] >= w[1]) {
                return Err(EntryError::new(
                    ErrorCode::EntryNonCanonical,
                    format!(
                        "line {lineno}: field 'lot-needed': at least two codes, strictly ascending"
                    ),
                ));
            }
            lot_needed.push(tie);
        }
        let replaces = match (r.optional("replaces")?, r.optional("reason")?) {
            (None, None) => None,
            (Some(h), Some(why)) if status == AnnouncementStatus::Final => Some(Replacement {
                final_leaf: grammar::parse_hex_hash("replaces", h)?,
                reason: grammar::parse_text("reason", why)?,
            }),
            (Some((_, lineno)), _) | (None, Some((_, lineno))) => {
                return Err(EntryError::new(
                    ErrorCode::EntryBadValue,
                    format!(
                        "line {lineno}: 'replaces' and 'reason' go together, and only in a final announcement"
                    ),
                ))
            }
        };
        let root = grammar::parse_base64_hash("root", r.required("root")?)?;
        let lines = r.repeated("cosignature");
        if lines.is_empty() || lines.len() > MAX_COSIGNATURES {
            return Err(EntryError::new(
                ErrorCode::EntryBadValue,
                format!(
                    "an announcement carries 1 to {MAX_COSIGNATURES} cosignature lines, not {}",
                    lines.len()
                ),
            ));
        }
        let mut cosignatures = Vec::with_capacity(lines.len());
        for (value, lineno) in lines {
            let line = format!("\u{2014} {value}");
            let sig = crate::note::NoteSignature::parse_line(&line, lineno).map_err(|e| {
                EntryError::new(
                    ErrorCode::EntryBadValue,
                    format!("line {lineno}: field 'cosignature': {e}"),
                )
            })?;
            cosignatures.push(sig);
        }
        r.finish()?;
        Ok(Announcement {
            status,
            replaces,
            witnessed: WitnessedCheckpoint { root, cosignatures },
            statement: Statement {
                election,
                contest,
                size,
                stations_counted,
                stations_expected,
                stations_annulled,
                figures,
                votes,
                outcome,
                elected,
                runoff,
                reserves,
                lot_needed,
            },
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        let s = &self.statement;
        push(out, "election", &s.election);
        push(out, "contest", &s.contest);
        push(out, "size", &s.size.to_string());
        push(out, "status", self.status.as_str());
        s.write_figures(out);
        if let Some(r) = &self.replaces {
            push(out, "replaces", &r.final_leaf.to_hex());
            push(out, "reason", &r.reason);
        }
        push(out, "root", &self.witnessed.root.to_base64());
        for c in &self.witnessed.cosignatures {
            let line = c.to_line();
            // The signature line without its em dash and space.
            push(
                out,
                "cosignature",
                line.split_once(' ').map_or("", |(_, v)| v),
            );
        }
    }
}
