//! The result of applying a contest's rule: [`Decision`] and its parts.

use super::{LotDraw, Ratio};
use serde::{Deserialize, Serialize};

/// The overall state of a [`Decision`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every place is decided and no runoff is needed. Some seats may still
    /// be vacant for want of candidates ([`Decision::vacant_seats`]).
    Complete,
    /// Every place is decided; `runoff_seats` seats go to a second round
    /// between the candidates in [`Decision::runoff`].
    Runoff,
    /// At least one tie decides a seat, a runoff place or a reserve rank and
    /// no matching lot entry was given: see [`Decision::lot_needed`]. The
    /// places it concerns are left undecided; everything else is final.
    LotNeeded,
    /// The contest has no valid ballots: nothing can be decided, and every
    /// list in the decision is empty.
    NoValidVotes,
}

/// What one position in the ranking is worth, as reported in a [`Tie`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "place")]
pub enum Place {
    /// A seat.
    Seat,
    /// A place in the runoff.
    Runoff,
    /// A reserve member's rank (1 = first reserve).
    Reserve {
        /// The rank, starting at 1.
        rank: u32,
    },
    /// Nothing: neither a seat, a runoff place nor a reserve rank.
    Out,
}

/// A tie whose order decides something, still waiting for a lot entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Tie {
    /// Every candidate with exactly `votes` votes, ascending by code (a
    /// canonical listing, not a ranking). A [`LotDraw`] settles the tie when
    /// its `among` is this set.
    pub among: Vec<u32>,
    /// The votes each of them has.
    pub votes: u64,
    /// What the positions they jointly occupy are worth, best first: the
    /// first candidate in the lot's `order` gets `places[0]`, and so on.
    pub places: Vec<Place>,
}

/// A ranked reserve member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Reserve {
    /// The rank, starting at 1 (the first to replace a departing member).
    pub rank: u32,
    /// The candidate code.
    pub candidate: u32,
}

/// The first-round threshold as applied, so a reader can check it by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ThresholdApplied {
    /// The threshold fraction.
    pub ratio: Ratio,
    /// The base it is a fraction of: votes taken (valid + void taken) for
    /// presidential, valid ballots for Majlis.
    pub base: u64,
    /// `true`: votes × den > num × base is needed (presidential majority);
    /// `false`: votes × den ≥ num × base suffices (Majlis).
    pub strict: bool,
    /// The fewest votes that meet the threshold (never less than 1).
    pub min_votes: u64,
}

/// Who is elected, who goes to a runoff and who is a reserve member.
///
/// `elected`, `runoff` and `reserves` are disjoint, and disjoint from every
/// candidate in `lot_needed`. Lists are in ranking order (most votes first);
/// candidates with equal votes that share the same outcome are listed by
/// ascending code, which is a presentation order only and ranks nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Decision {
    /// The overall state.
    pub status: Status,
    /// Candidates elected in this round.
    pub elected: Vec<u32>,
    /// The subset of `elected` declared elected below the Majlis threshold
    /// because no more candidates remained than unfilled seats, so no runoff
    /// is held and the first-round result is conclusive.
    pub elected_without_runoff: Vec<u32>,
    /// Candidates going to the runoff.
    pub runoff: Vec<u32>,
    /// Seats the runoff will fill (0 when there is no runoff).
    pub runoff_seats: u32,
    /// Ranked reserve members (councils), by rank.
    pub reserves: Vec<Reserve>,
    /// Seats no candidate is left for (fewer candidates with votes than
    /// seats); they stay empty.
    pub vacant_seats: u32,
    /// Ties awaiting a lot; the places they hold are not yet assigned.
    pub lot_needed: Vec<Tie>,
    /// The lot entries that settled a tie, in ranking order (`among` listed
    /// ascending).
    pub lots_applied: Vec<LotDraw>,
    /// The first-round threshold, if the rule has one.
    pub threshold: Option<ThresholdApplied>,
}

impl Decision {
    pub(crate) fn no_valid_votes() -> Decision {
        Decision {
            status: Status::NoValidVotes,
            elected: Vec::new(),
            elected_without_runoff: Vec::new(),
            runoff: Vec::new(),
            runoff_seats: 0,
            reserves: Vec::new(),
            vacant_seats: 0,
            lot_needed: Vec::new(),
            lots_applied: Vec::new(),
            threshold: None,
        }
    }
}
