//! The screen step (spec/browser-verification.md §3.1): what a station
//! page **shows** is compared with what the log holds, once the entries it
//! shows are proven included and signed ([`super::station`]).
//!
//! * `revision`: each shown tally is named (contest, revision, index) and
//!   is the standing one as far as the board lists the station's
//!   revisions; a later revision the board lists is verified like the
//!   shown one, and if it is a later revision of the same box the shown
//!   one is **superseded** (a failure: the page does not show the standing
//!   figures).
//! * `screen`: every figure cell of the page's tables equals the verified
//!   tally's figure, cell by cell, and every non-zero vote line the station
//!   signed is on the page (a missing row hides votes as surely as a
//!   changed one).
//! * `minutes`: the image of the signed minutes the page shows hashes
//!   (SHA-256) to the verified tally's `minutes-sha256`
//!   (spec/entries.md §3.4).
//!
//! The page's cells are read as text in the page's own digits (Persian,
//! Arabic-Indic or ASCII, with thousands separators): reading them is part
//! of the check, so it lives here and not in the page's script.

use super::facts::Facts;
use super::station::StationEntry;
use super::{CheckId, Verification};
use crate::tiles::ServedEntry;
use crate::{Result, Source};
use serde::{Deserialize, Serialize};
use tallyboard_core::digits::read_count;
use tallyboard_core::entry::{Entry, SignedEntry, Tally};
use tallyboard_core::Hash;

/// One figure cell of a page's table: the tally field it shows and its
/// text as displayed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Cell {
    /// `counterfoils`, `ballots-in-box`, `votes-taken`, `valid`,
    /// `void-taken`, `void-not-taken` (the tally's field names,
    /// spec/entries.md §3.4), or `vote/<candidate code>`.
    pub field: String,
    /// The cell's text, as the page shows it (`۹٬۹۹۹`, `9,999`).
    pub text: String,
}

/// One tally a page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Shown {
    /// The log index of the entry shown.
    pub index: u64,
    /// The index of the standing revision of its box, as the board lists it
    /// (untrusted: it is verified like the shown entry). `None`: the board
    /// lists none other.
    #[serde(default)]
    pub standing: Option<u64>,
    /// The figure cells of the page's table(s) for this tally.
    #[serde(default)]
    pub cells: Vec<Cell>,
    /// Whether the page shows a table of figures for it (a page that shows
    /// none, such as the bare verify page, has nothing to compare).
    #[serde(default)]
    pub table: bool,
    /// The SHA-256 (hex) of the minutes image the page shows, as its link
    /// names it; the image is fetched from `api/v1/blobs/<hex>`.
    #[serde(default)]
    pub minutes: Option<String>,
}

impl Shown {
    /// The indexes to prove: the shown entry and the listed standing one.
    pub fn indexes(&self) -> Vec<u64> {
        let mut v = vec![self.index];
        v.extend(self.standing.filter(|&s| s != self.index));
        v
    }
}

/// The `revision` facts of one shown tally.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RevisionFact {
    /// The index shown.
    pub index: u64,
    /// Its contest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contest: Option<String>,
    /// Its revision number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// `standing` (no later revision is listed) or `superseded`.
    pub state: &'static str,
    /// The standing revision's index, when it is another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standing_index: Option<u64>,
    /// The standing revision's number, when it is another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standing_revision: Option<u32>,
    /// Why this one fails (a stable code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The `screen` facts of one shown tally.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScreenFact {
    /// The index shown.
    pub index: u64,
    /// Its contest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contest: Option<String>,
    /// How many cells were compared.
    pub compared: usize,
    /// How many matched.
    pub matched: usize,
    /// Every cell that does not hold, and every signed figure missing
    /// from the page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    /// Why this one fails (a stable code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A cell that does not show the signed figure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The field (`valid`, `vote/11`).
    pub field: String,
    /// What the page shows (absent: the figure is not on the page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
    /// What the station signed (absent: the field is not in the tally).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<u64>,
    /// `screen.figure-mismatch`, `screen.figure-missing`,
    /// `screen.unreadable` or `screen.unknown-field`.
    pub code: &'static str,
}

/// The `minutes` facts of one shown tally.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MinutesFact {
    /// The index shown.
    pub index: u64,
    /// The digest the tally commits to (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed: Option<String>,
    /// The digest of the image the page shows, computed here (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Its size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    /// `checked`, `not-shown` (the page shows no image), `not-served` (the
    /// board does not serve the image the page links) or `none` (the tally
    /// names no minutes).
    pub state: &'static str,
    /// Why this one fails (a stable code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The facts of `revision`, `screen` and `minutes`: one line per shown
/// tally.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScreenFacts {
    /// The station.
    pub station: String,
    /// `revision`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<RevisionFact>,
    /// `screen`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<ScreenFact>,
    /// `minutes`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub minutes: Vec<MinutesFact>,
}

/// The figure a tally holds for `field`; `None` for a field that is not a
/// tally figure. A candidate the tally does not list has 0 votes.
pub fn figure(t: &Tally, field: &str) -> Option<u64> {
    let f = &t.figures;
    Some(match field {
        "counterfoils" => f.counterfoils,
        "ballots-in-box" => f.ballots_in_box,
        "votes-taken" => f.votes_taken,
        "valid" => f.valid,
        "void-taken" => f.void_taken,
        "void-not-taken" => f.void_not_taken,
        _ => {
            let code: u32 = field.strip_prefix("vote/")?.parse().ok()?;
            t.votes_of(code)
        }
    })
}

/// Compares one table's cells with the tally.
fn compare(t: &Tally, cells: &[Cell]) -> (usize, Vec<Mismatch>) {
    let mut bad = Vec::new();
    let mut matched = 0;
    for cell in cells {
        let signed = figure(t, &cell.field);
        let shown = read_count(&cell.text);
        let code = match (signed, shown) {
            (None, _) => "screen.unknown-field",
            (Some(_), None) => "screen.unreadable",
            (Some(s), Some(v)) if s == v => {
                matched += 1;
                continue;
            }
            _ => "screen.figure-mismatch",
        };
        bad.push(Mismatch {
            field: cell.field.clone(),
            shown: Some(cell.text.clone()),
            signed,
            code,
        });
    }
    // Every non-zero vote line the station signed must be on the page.
    for &(code, votes) in &t.votes {
        let field = format!("vote/{code}");
        if !cells.iter().any(|c| c.field == field) {
            bad.push(Mismatch {
                field,
                shown: None,
                signed: Some(votes),
                code: "screen.figure-missing",
            });
        }
    }
    (matched, bad)
}

/// The verified entry at `index`: its row passed inclusion and
/// signature. `None` if it did not verify (the station checks say why).
fn verified(rows: &[StationEntry], served: &[ServedEntry], index: u64) -> Option<Entry> {
    let row = rows.iter().find(|r| r.index == index)?;
    if !row.included || row.signature != "valid" {
        return None;
    }
    let bytes = served
        .iter()
        .find(|e| e.index == index)?
        .bytes
        .as_ref()
        .ok()?;
    Some(SignedEntry::parse(bytes).ok()?.entry)
}

/// The verified tally at `index`, if it is one.
fn verified_tally(rows: &[StationEntry], served: &[ServedEntry], index: u64) -> Option<Tally> {
    match verified(rows, served, index)? {
        Entry::Tally(t) => Some(t),
        _ => None,
    }
}

/// The blob path of a minutes image named by its hex digest.
pub fn minutes_path(hex: &str) -> Option<String> {
    Hash::from_hex(hex).map(|h| format!("api/v1/blobs/{}", h.to_hex()))
}

/// Runs `revision`, `screen` and `minutes` over what the page shows, once
/// the station step has verified the entries (`rows`, from `served`).
/// A shown entry that did not verify fails each with `screen.unverified`
/// (the station checks say why).
pub fn screen(
    v: &mut Verification,
    src: &dyn Source,
    station: &str,
    shown: &[Shown],
    rows: &[StationEntry],
    served: &[ServedEntry],
) -> Result<()> {
    let mut facts = ScreenFacts {
        station: station.to_string(),
        ..ScreenFacts::default()
    };
    let mut tables = ScreenFacts {
        station: station.to_string(),
        ..ScreenFacts::default()
    };
    let mut minutes = tables.clone();
    for s in shown {
        // A verified entry that is not a tally (an approval or annulment
        // shown on its own) has no figures, revision or minutes.
        if matches!(verified(rows, served, s.index), Some(e) if !matches!(e, Entry::Tally(_))) {
            continue;
        }
        let Some(t) = verified_tally(rows, served, s.index) else {
            let code = Some("screen.unverified".to_string());
            facts.revisions.push(RevisionFact {
                index: s.index,
                state: "standing",
                code: code.clone(),
                ..RevisionFact::default()
            });
            tables.tables.push(ScreenFact {
                index: s.index,
                code: code.clone(),
                ..ScreenFact::default()
            });
            minutes.minutes.push(MinutesFact {
                index: s.index,
                state: "none",
                code,
                ..MinutesFact::default()
            });
            continue;
        };
        // revision: standing, or superseded by a verified later revision.
        let mut rev = RevisionFact {
            index: s.index,
            contest: Some(t.contest.clone()),
            revision: Some(t.revision),
            state: "standing",
            ..RevisionFact::default()
        };
        if let Some(j) = s.standing.filter(|&j| j != s.index) {
            match verified_tally(rows, served, j) {
                Some(later)
                    if later.station == t.station
                        && later.contest == t.contest
                        && later.revision > t.revision =>
                {
                    rev.state = "superseded";
                    rev.standing_index = Some(j);
                    rev.standing_revision = Some(later.revision);
                    rev.code = Some("revision.superseded".into());
                }
                Some(other) if other.station == t.station && other.contest == t.contest => {}
                _ => {
                    rev.standing_index = Some(j);
                    rev.code = Some("revision.standing-unproven".into());
                }
            }
        }
        facts.revisions.push(rev);
        // screen: cell by cell.
        let (matched, mismatches) = if s.table {
            compare(&t, &s.cells)
        } else {
            (0, Vec::new())
        };
        tables.tables.push(ScreenFact {
            index: s.index,
            contest: Some(t.contest.clone()),
            compared: if s.table { s.cells.len() } else { 0 },
            matched,
            code: mismatches.first().map(|m| m.code.to_string()),
            mismatches,
        });
        // minutes: the image shown hashes to the committed digest.
        let mut m = MinutesFact {
            index: s.index,
            committed: t.minutes_sha256.map(|h| h.to_hex()),
            state: "none",
            ..MinutesFact::default()
        };
        match (&t.minutes_sha256, &s.minutes) {
            (None, None) => {}
            (None, Some(_)) => m.code = Some("minutes.not-committed".into()),
            (Some(_), None) => m.state = "not-shown",
            (Some(committed), Some(hex)) => {
                m.state = "checked";
                // An image from anywhere but this log's blob by digest is
                // not the one the tally names.
                let Some(path) = minutes_path(hex) else {
                    m.code = Some("minutes.not-committed".into());
                    minutes.minutes.push(m);
                    continue;
                };
                match src.fetch(&path)? {
                    // Not served (not uploaded yet, or withheld): nothing
                    // is shown to compare, and the report says so.
                    None => m.state = "not-served",
                    Some(b) => {
                        let h = Hash::sha256(&b);
                        m.sha256 = Some(h.to_hex());
                        m.bytes = Some(b.len());
                        if h != *committed {
                            m.code = Some("minutes.digest-mismatch".into());
                        }
                    }
                }
            }
        }
        minutes.minutes.push(m);
    }
    if facts.revisions.is_empty() {
        // Nothing shown is a tally: no revision to name.
        v.info(CheckId::Revision, Facts::Screen(facts));
    } else {
        record(v, CheckId::Revision, facts, |f| {
            f.revisions.iter().find_map(|r| r.code.clone())
        });
    }
    let nothing_shown = tables
        .tables
        .iter()
        .all(|t| t.compared == 0 && t.code.is_none());
    if nothing_shown {
        v.info(CheckId::Screen, Facts::Screen(tables));
    } else {
        record(v, CheckId::Screen, tables, |f| {
            f.tables.iter().find_map(|t| t.code.clone())
        });
    }
    let none = minutes
        .minutes
        .iter()
        .all(|m| m.state != "checked" && m.code.is_none());
    if none {
        v.info(CheckId::Minutes, Facts::Screen(minutes));
    } else {
        record(v, CheckId::Minutes, minutes, |f| {
            f.minutes.iter().find_map(|m| m.code.clone())
        });
    }
    Ok(())
}

fn record(
    v: &mut Verification,
    id: CheckId,
    facts: ScreenFacts,
    code: impl Fn(&ScreenFacts) -> Option<String>,
) {
    match code(&facts) {
        None => v.pass(id, Facts::Screen(facts)),
        Some(c) => v.fail(id, c, Facts::Screen(facts)),
    }
}
