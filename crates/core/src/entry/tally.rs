//! `tallyboard/tally/v1` and `tallyboard/tally-revision/v1`: the figures of a
//! station's count minutes (صورتجلسه), signed by the station (`spec/entries.md` §3.4).

use super::authority::push;
use super::grammar::{self, FieldReader};
use super::EntryError;
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
    /// Ballots issued to voters (counterfoils, تعرفه).
    pub counterfoils: u64,
    /// Ballots found in the box.
    pub ballots_in_box: u64,
    /// Votes taken (آرای مأخوذه): valid plus void-but-taken.
    pub votes_taken: u64,
    /// Void ballots that are counted as taken (آرای باطله مأخوذه).
    pub void_taken: u64,
    /// Void ballots that are not taken (آرای باطله غیرمأخوذه).
    pub void_not_taken: u64,
    /// Valid ballots.
    pub valid: u64,
    /// Votes per candidate code: only non-zero counts, ascending code.
    pub votes: Vec<(u32, u64)>,
    /// SHA-256 of the scanned minutes, if published as a blob.
    pub minutes_sha256: Option<Hash>,
}

const TALLY_FIELDS: &[&str] = &[
    "election",
    "contest",
    "station",
    "revision",
    "counterfoils",
    "ballots-in-box",
    "votes-taken",
    "void-taken",
    "void-not-taken",
    "valid",
    "vote",
    "minutes-sha256",
];

const REVISION_FIELDS: &[&str] = &[
    "election",
    "contest",
    "station",
    "revision",
    "supersedes",
    "reason",
    "counterfoils",
    "ballots-in-box",
    "votes-taken",
    "void-taken",
    "void-not-taken",
    "valid",
    "vote",
    "minutes-sha256",
];

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
        let counterfoils = grammar::parse_count("counterfoils", r.required("counterfoils")?)?;
        let ballots_in_box = grammar::parse_count("ballots-in-box", r.required("ballots-in-box")?)?;
        let votes_taken = grammar::parse_count("votes-taken", r.required("votes-taken")?)?;
        let void_taken = grammar::parse_count("void-taken", r.required("void-taken")?)?;
        let void_not_taken = grammar::parse_count("void-not-taken", r.required("void-not-taken")?)?;
        let valid = grammar::parse_count("valid", r.required("valid")?)?;
        let mut votes: Vec<(u32, u64)> = Vec::new();
        for (value, lineno) in r.repeated("vote") {
            let Some((code, count)) = value.split_once(' ') else {
                return Err(EntryError::new(
                    ErrorCode::EntryLineMalformed,
                    format!("line {lineno}: expected 'vote <candidate code> <count>'"),
                ));
            };
            let code = grammar::parse_u32("vote", (code, lineno))?;
            let count = grammar::parse_count("vote", (count, lineno))?;
            if count == 0 {
                return Err(EntryError::new(
                    ErrorCode::EntryVotesOrder,
                    format!("line {lineno}: zero counts are omitted, not written"),
                ));
            }
            if let Some(&(prev, _)) = votes.last() {
                if code <= prev {
                    return Err(EntryError::new(
                        ErrorCode::EntryVotesOrder,
                        format!(
                            "line {lineno}: candidate {code} after {prev}: vote lines must be in strictly ascending candidate order"
                        ),
                    ));
                }
            }
            votes.push((code, count));
        }
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
            counterfoils,
            ballots_in_box,
            votes_taken,
            void_taken,
            void_not_taken,
            valid,
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
        push(out, "counterfoils", &self.counterfoils.to_string());
        push(out, "ballots-in-box", &self.ballots_in_box.to_string());
        push(out, "votes-taken", &self.votes_taken.to_string());
        push(out, "void-taken", &self.void_taken.to_string());
        push(out, "void-not-taken", &self.void_not_taken.to_string());
        push(out, "valid", &self.valid.to_string());
        for (code, count) in &self.votes {
            push(out, "vote", &format!("{code} {count}"));
        }
        if let Some(h) = &self.minutes_sha256 {
            push(out, "minutes-sha256", &h.to_hex());
        }
    }

    /// The arithmetic rules of the count minutes (`spec/entries.md` §4),
    /// given the contest's number of seats. Checked in a fixed order so the
    /// same bad tally always gets the same code.
    ///
    /// # Errors
    /// The first identity that does not hold.
    pub fn check_arithmetic(&self, seats: u32) -> Result<(), EntryError> {
        // All values are ≤ 10^12 (grammar), so these sums cannot overflow u64.
        if self.votes_taken + self.void_not_taken != self.ballots_in_box {
            return Err(EntryError::new(
                ErrorCode::TallyBallotsInBox,
                format!(
                    "ballots-in-box {} != votes-taken {} + void-not-taken {}",
                    self.ballots_in_box, self.votes_taken, self.void_not_taken
                ),
            ));
        }
        if self.valid + self.void_taken != self.votes_taken {
            return Err(EntryError::new(
                ErrorCode::TallyVotesTaken,
                format!(
                    "votes-taken {} != valid {} + void-taken {}",
                    self.votes_taken, self.valid, self.void_taken
                ),
            ));
        }
        if self.ballots_in_box > self.counterfoils {
            return Err(EntryError::new(
                ErrorCode::TallyCounterfoils,
                format!(
                    "ballots-in-box {} exceeds counterfoils {}",
                    self.ballots_in_box, self.counterfoils
                ),
            ));
        }
        // At most 10^12 × (2^32 vote lines can't fit in 64 KiB) — but sum in u128 anyway.
        let sum: u128 = self.votes.iter().map(|&(_, n)| u128::from(n)).sum();
        let cap = u128::from(seats) * u128::from(self.valid);
        if seats == 1 && sum != cap {
            return Err(EntryError::new(
                ErrorCode::TallyVoteSum,
                format!(
                    "candidate votes sum to {sum}, but a one-seat contest needs exactly valid = {}",
                    self.valid
                ),
            ));
        }
        if sum > cap {
            return Err(EntryError::new(
                ErrorCode::TallyVoteSum,
                format!(
                    "candidate votes sum to {sum}, more than seats {seats} x valid {}",
                    self.valid
                ),
            ));
        }
        Ok(())
    }

    /// Sum of candidate votes.
    pub fn vote_sum(&self) -> u64 {
        self.votes.iter().map(|&(_, n)| n).sum()
    }
}
