//! Who is elected, who goes to a runoff, who is a reserve member.
//!
//! One pure function, [`decide`], turns a contest's rules ([`ContestRules`]),
//! its aggregated counts ([`ContestCounts`]) and any signed lot results
//! ([`LotDraw`]) into a [`Decision`]. The public, language-neutral statement
//! of these rules is `spec/rules.md`; this module implements exactly that.
//!
//! Legal sources (summarised in `spec/rules.md`):
//!
//! * **Presidential.** Constitution Art. 117 (absolute majority of the votes
//!   of participants, otherwise a second vote between the two highest);
//!   Presidential Election Law Art. 12 (more than 50% of the votes *taken*,
//!   آرای مأخوذه) and Art. 13 (the two highest go to round two). The
//!   denominator counts void-but-taken ballots (MOI election HQ spokesman,
//!   28 June 2024: "half plus one of all votes, both valid and void").
//! * **Majlis.** Majlis Election Law Art. 9 as amended 1395/03/03 (at least
//!   20% in round one; round two and by-elections by plurality of any size),
//!   Art. 22 Note 3 (void votes taken are not counted in the Art. 9 quorum, so
//!   the base is the constituency's *valid ballots*), the runoff article
//!   (twice as many candidates as unfilled seats, or all remaining if fewer),
//!   Art. 9 Note 1 (ties by lot), and IPU PARLINE 2149_B ("if those remaining
//!   are equal to or less than the number of unfilled seats, the second round
//!   is not held and the results of the first ballot are conclusive").
//! * **Assembly of Experts.** Province-wide multi-seat constituencies decided
//!   by relative majority (plurality).
//! * **City and village councils.** Law on the organisation, duties and
//!   elections of Islamic councils (1375): plurality; reserve members
//!   (اعضای علی‌البدل) are the next-ranked candidates; the village and bakhsh
//!   council bylaw sets 2 reserves for 3 seats and 3 reserves for 5 seats;
//!   city-council reserve counts come from the city bylaw (Art. 4), so the
//!   manifest must state them.
//!
//! Every threshold test is an exact integer comparison in `u128`; there is no
//! floating point anywhere. Ties are never broken by candidate code or any
//! other hidden order: a tie that decides something is either settled by a
//! matching [`LotDraw`] or reported in [`Decision::lot_needed`].

use crate::error::{Coded, ErrorCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod decision;
mod engine;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use decision::{Decision, Place, Reserve, Status, ThresholdApplied, Tie};

/// The type of election a contest belongs to; it selects the rule.
///
/// The one type for the kind wherever it is named: the manifest's election
/// and contests (`spec/manifest.md` §2, where an unknown kind makes the
/// manifest invalid), the manifest commitment entry (`spec/entries.md`
/// §3.1), the rules, the results document and the exports. Its spelling
/// (serde's kebab-case, and [`ElectionKind::as_str`] for the entry text) is
/// the manifest's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElectionKind {
    /// President of the Islamic Republic: one seat, absolute majority of votes taken.
    Presidential,
    /// Islamic Consultative Assembly: multi-seat, 20% of valid ballots in round one.
    Majlis,
    /// Assembly of Experts: province-wide multi-seat plurality.
    AssemblyOfExperts,
    /// City Islamic council: multi-seat plurality with reserve members.
    CityCouncil,
    /// Village (or bakhsh) Islamic council: multi-seat plurality with reserve members.
    VillageCouncil,
}

impl ElectionKind {
    /// Every kind, in the order `spec/manifest.md` lists them.
    pub const ALL: [ElectionKind; 5] = [
        ElectionKind::Presidential,
        ElectionKind::Majlis,
        ElectionKind::AssemblyOfExperts,
        ElectionKind::CityCouncil,
        ElectionKind::VillageCouncil,
    ];

    /// The kind's spelling, as in the manifest and in entries.
    pub fn as_str(self) -> &'static str {
        match self {
            ElectionKind::Presidential => "presidential",
            ElectionKind::Majlis => "majlis",
            ElectionKind::AssemblyOfExperts => "assembly-of-experts",
            ElectionKind::CityCouncil => "city-council",
            ElectionKind::VillageCouncil => "village-council",
        }
    }

    /// The kind spelled `s`, if there is one.
    pub fn from_spelling(s: &str) -> Option<ElectionKind> {
        ElectionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for ElectionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact fraction `num / den`, used for thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Ratio {
    /// Numerator.
    pub num: u64,
    /// Denominator; must be greater than zero.
    pub den: u64,
}

impl Ratio {
    /// One half: the presidential majority (strictly more than this).
    pub const HALF: Ratio = Ratio { num: 1, den: 2 };
    /// One fifth: the Majlis first-round threshold (at least this).
    pub const FIFTH: Ratio = Ratio { num: 1, den: 5 };
}

fn default_round() -> u8 {
    1
}

/// The parameters of one contest. Fields left `None` take the default for the
/// kind (see [`ContestRules::defaults`]); a value stated in the manifest
/// overrides the default, so a change in the law is a manifest change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ContestRules {
    /// The election type.
    pub kind: ElectionKind,
    /// Seats to fill in this contest (in a round-two contest: the seats left
    /// unfilled by round one). At least 1; exactly 1 for presidential.
    pub seats: u32,
    /// 1 for a first round, 2 for a runoff round (presidential and Majlis
    /// only), which is decided by plurality.
    #[serde(default = "default_round")]
    pub round: u8,
    /// First-round threshold. Presidential: a candidate is elected with
    /// strictly more than this share of votes taken (default 1/2). Majlis:
    /// with at least this share of valid ballots (default 1/5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Ratio>,
    /// Runoff size as a multiple of the unfilled seats (default 2, for
    /// presidential and Majlis first rounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runoff_factor: Option<u32>,
    /// Number of ranked reserve members (councils only). Village default: 2
    /// for 3 seats, 3 for 5 seats; city councils must state it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserves: Option<u32>,
}

impl ContestRules {
    /// The rules of a first-round contest of `kind` with `seats` seats, with
    /// every default that the law supplies filled in explicitly. City-council
    /// reserves (and village-council reserves for sizes other than 3 and 5)
    /// have no default and are left `None`; [`decide`] refuses them until the
    /// manifest states a value.
    pub fn defaults(kind: ElectionKind, seats: u32) -> ContestRules {
        ContestRules {
            kind,
            seats,
            round: 1,
            threshold: default_threshold(kind),
            runoff_factor: default_runoff_factor(kind),
            reserves: default_reserves(kind, seats),
        }
    }
}

pub(crate) fn default_threshold(kind: ElectionKind) -> Option<Ratio> {
    match kind {
        ElectionKind::Presidential => Some(Ratio::HALF),
        ElectionKind::Majlis => Some(Ratio::FIFTH),
        _ => None,
    }
}

pub(crate) fn default_runoff_factor(kind: ElectionKind) -> Option<u32> {
    match kind {
        ElectionKind::Presidential | ElectionKind::Majlis => Some(2),
        _ => None,
    }
}

pub(crate) fn default_reserves(kind: ElectionKind, seats: u32) -> Option<u32> {
    match (kind, seats) {
        (ElectionKind::VillageCouncil, 3) => Some(2),
        (ElectionKind::VillageCouncil, 5) => Some(3),
        _ => None,
    }
}

/// The largest count (ballots or votes) accepted, as everywhere on the
/// board: 10^12. It keeps every product in the threshold tests far inside
/// `u128`.
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// The aggregated counts of one contest over its whole constituency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ContestCounts {
    /// Every candidate code standing in the contest (order is irrelevant;
    /// duplicates are refused).
    pub candidates: Vec<u32>,
    /// Votes per candidate code; candidates with zero votes may be absent.
    pub votes: BTreeMap<u32, u64>,
    /// Valid ballots (the Majlis threshold base).
    pub valid: u64,
    /// Void ballots that are nevertheless "taken" (باطل مأخوذه). Votes taken
    /// = `valid + void_taken` (the presidential majority base).
    pub void_taken: u64,
}

/// The outcome of drawing lots between tied candidates, as recorded in a
/// signed log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LotDraw {
    /// The tied candidates the lot was drawn between. It settles a tie only
    /// if it is exactly the set of candidates with that number of votes.
    pub among: Vec<u32>,
    /// A permutation of `among`, best first.
    pub order: Vec<u32>,
}

/// Why [`decide`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The contest parameters are inconsistent (seats, round, threshold,
    /// runoff factor or reserves).
    #[error("invalid contest rules: {0}")]
    InvalidRules(&'static str),
    /// A candidate code is listed twice in the contest.
    #[error("candidate {0} is listed twice in the contest")]
    DuplicateCandidate(u32),
    /// Votes are reported for a code that is not a candidate in the contest.
    #[error("candidate {0} is not in the contest")]
    UnknownCandidate(u32),
    /// The votes do not fit the ballots: a candidate has more votes than
    /// there are valid ballots, the sum exceeds seats × valid, or (one seat)
    /// the sum differs from valid.
    #[error("vote sum inconsistent with valid ballots: {0}")]
    VoteSum(&'static str),
    /// A count exceeds [`MAX_COUNT`].
    #[error("a count exceeds the limit of 10^12")]
    CountTooLarge,
    /// A lot entry names a code that is not a candidate in the contest.
    #[error("lot names candidate {0}, which is not in the contest")]
    LotUnknownCandidate(u32),
    /// A lot entry is malformed (fewer than two candidates, duplicates, or
    /// `order` not a permutation of `among`), or two lot entries for the
    /// same tied set disagree.
    #[error("invalid lot entry: {0}")]
    BadLot(&'static str),
}

impl Coded for RulesError {
    fn code(&self) -> ErrorCode {
        match self {
            RulesError::InvalidRules(_) | RulesError::DuplicateCandidate(_) => {
                ErrorCode::ManifestInvalid
            }
            RulesError::UnknownCandidate(_) | RulesError::LotUnknownCandidate(_) => {
                ErrorCode::UnknownCandidate
            }
            RulesError::VoteSum(_) => ErrorCode::TallyVoteSum,
            RulesError::CountTooLarge => ErrorCode::TallyCountTooLarge,
            RulesError::BadLot(_) => ErrorCode::EntryBadValue,
        }
    }
}

/// Applies the contest's rule to its counts.
///
/// `lots` are the signed lot results available so far; a lot is used only if
/// its `among` is exactly a tied set whose order decides something. The
/// result is independent of the order of `counts.candidates` and of `lots`.
///
/// # Errors
///
/// [`RulesError`] if the rules, the counts or a lot entry are invalid; never
/// panics.
pub fn decide(
    rules: &ContestRules,
    counts: &ContestCounts,
    lots: &[LotDraw],
) -> Result<Decision, RulesError> {
    engine::decide(rules, counts, lots)
}
