//! `tallyboard/tally/v1` and `tallyboard/tally-revision/v1`: the figures of a
//! station's count minutes (صورتجلسه), signed by the station (`spec/entries.md` §3.4).

use super::authority::push;
use super::figures::{self, BallotFigures};
use super::grammar::{self, FieldReader};
use super::{votes, EntryError};
use crate::{ErrorCode, Hash};

/// What a revision adds to a tally: the entry it supersedes and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Correction {
    /// Leaf hash of the station's previous entry for this contest.
    pub supersedes: Hash,
    /// Why the figures changed, in free text.
    pub reason: String,
}

/// A station's count for one contest. `correction` is `None` for the first
/// tally (revision 1, type `tally/v1`) and `Some` for every later revision
/// (type `tally-revision/v1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Election identifier.
    pub election: String,
    /// Contest identifier.
    pub contest: String,
    /// Station identifier.
    pub station: String,
    /// 1 for the first tally, n+1 for the revision of revision n.
    pub revision: u32,
    /// Present exactly when `revision > 1`.
    pub correction: Option<Correction>,
    /// The box's ballot figures.
    pub figures: BallotFigures,
    /// Votes per candidate code: only non-zero counts, ascending code.
    pub votes: Vec<(u32, u64)>,
    /// SHA-256 of the scanned minutes, if published as a blob.
    pub minutes_sha256: Option<Hash>,
}

/// Who counted what: the fields before the figures.
const IDENTITY: [&str; 4] = ["election", "contest", "station", "revision"];

/// What follows the figures: the vote lines and the scan of the minutes.
const AFTER_FIGURES: [&str; 2] = [votes::FIELD, "minutes-sha256"];

pub(super) const TALLY_FIELDS: &[&str] =
    &grammar::field_list::<12>(&[&IDENTITY, &figures::FIELDS, &AFTER_FIGURES]);

pub(super) const REVISION_FIELDS: &[&str] = &grammar::field_list::<14>(&[
    &IDENTITY,
    &["supersedes", "reason"],
    &figures::FIELDS,
    &AFTER_FIGURES,
]);

impl Tally {
    pub(super) fn parse_body(body: &str, is_revision: bool) -> Result<Self, EntryError> {
        let fields = if is_revision {
            REVISION_FIELDS
        } else {
            TALLY_FIELDS
        };
        let mut r = FieldReader::new(body, fields)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let contest = grammar::parse_id("contest", r.required("contest")?)?;
        let station = grammar::parse_id("station", r.required("station")?)?;
        let rev_value = r.required("revision")?;
        let revision = grammar::parse_u32("revision", rev_value)?;
        let correction = if is_revision {
            if revision < 2 {
                return Err(EntryError::new(
                    ErrorCode::EntryBadValue,
                    format!(
                        "line {}: a tally revision has revision 2 or more",
                        rev_value.1
                    ),
                ));
            }
            let supersedes = grammar::parse_hex_hash("supersedes", r.required("supersedes")?)?;
            let reason = grammar::parse_text("reason", r.required("reason")?)?;
            Some(Correction { supersedes, reason })
        } else {
            if revision != 1 {
                return Err(EntryError::new(
                    ErrorCode::EntryBadValue,
                    format!(
                        "line {}: a first tally has revision 1; corrections use {}",
                        rev_value.1,
                        super::EntryKind::TallyRevision.type_line()
                    ),
                ));
            }
            None
        };
        let figures = BallotFigures::parse(&mut r, grammar::parse_count)?;
        let votes = votes::parse(&mut r, grammar::parse_count)?;
        let minutes_sha256 = match r.optional("minutes-sha256")? {
            Some(v) => Some(grammar::parse_hex_hash("minutes-sha256", v)?),
            None => None,
        };
        r.finish()?;
        Ok(Tally {
            election,
            contest,
            station,
            revision,
            correction,
            figures,
            votes,
            minutes_sha256,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "contest", &self.contest);
        push(out, "station", &self.station);
        push(out, "revision", &self.revision.to_string());
        if let Some(c) = &self.correction {
            push(out, "supersedes", &c.supersedes.to_hex());
            push(out, "reason", &c.reason);
        }
        self.figures.write(out);
        votes::write(out, &self.votes);
        if let Some(h) = &self.minutes_sha256 {
            push(out, "minutes-sha256", &h.to_hex());
        }
    }

    /// The arithmetic rules of the count minutes (`spec/entries.md` §4),
    /// given the contest's number of seats: the identities between the
    /// ballot figures ([`BallotFigures::check_arithmetic`]), then the sum of
    /// the candidates' votes. Checked in a fixed order so the same bad tally
    /// always gets the same code.
    ///
    /// # Errors
    /// The first identity that does not hold.
    pub fn check_arithmetic(&self, seats: u32) -> Result<(), EntryError> {
        self.figures.check_arithmetic()?;
        let valid = self.figures.valid;
        // At most 10^12 × (2^32 vote lines can't fit in 64 KiB) — but sum in u128 anyway.
        let sum: u128 = self.votes.iter().map(|&(_, n)| u128::from(n)).sum();
        let cap = u128::from(seats) * u128::from(valid);
        if seats == 1 && sum != cap {
            return Err(EntryError::new(
                ErrorCode::TallyVoteSum,
                format!(
                    "candidate votes sum to {sum}, but a one-seat contest needs exactly valid = {valid}"
                ),
            ));
        }
        if sum > cap {
            return Err(EntryError::new(
                ErrorCode::TallyVoteSum,
                format!("candidate votes sum to {sum}, more than seats {seats} x valid {valid}"),
            ));
        }
        Ok(())
    }

    /// Sum of candidate votes.
    pub fn vote_sum(&self) -> u64 {
        self.votes.iter().map(|&(_, n)| n).sum()
    }

    /// The votes of one candidate (0 if the tally has no line for it).
    pub fn votes_of(&self, candidate: u32) -> u64 {
        votes::of(&self.votes, candidate)
    }
}
