//! The repeated `vote <candidate code> <votes>` lines of a tally and of an
//! announcement (`spec/entries.md` §3.4, `spec/announcements.md` §2).
//!
//! In an entry a candidate's votes are the pair `(code, votes)`: only
//! non-zero counts are written, in strictly ascending candidate code, so one
//! list of votes has one spelling. Both entry types read and write the lines
//! here; they differ only in how large a value may be (see
//! [`super::figures::ValueParser`]).

use super::authority::push;
use super::figures::ValueParser;
use super::grammar::{self, FieldReader};
use super::EntryError;
use crate::ErrorCode;

/// The field name of a vote line.
pub const FIELD: &str = "vote";

/// Reads the vote lines that come next (possibly none).
pub(crate) fn parse(
    r: &mut FieldReader<'_>,
    value: ValueParser,
) -> Result<Vec<(u32, u64)>, EntryError> {
    let mut votes: Vec<(u32, u64)> = Vec::new();
    for (line, lineno) in r.repeated(FIELD) {
        // A vote line is `vote SP code SP votes` (spec/entries.md §2 rule 2):
        // a second space between code and votes malforms the line.
        let Some((code, count)) = line.split_once(' ').filter(|(_, n)| !n.starts_with(' ')) else {
            return Err(EntryError::new(
                ErrorCode::EntryLineMalformed,
                format!("line {lineno}: expected 'vote <candidate code> <votes>'"),
            ));
        };
        let code = grammar::parse_u32(FIELD, (code, lineno))?;
        let count = value(FIELD, (count, lineno))?;
        if count == 0 {
            return Err(EntryError::new(
                ErrorCode::EntryVotesOrder,
                format!("line {lineno}: zero counts are omitted, not written"),
            ));
        }
        if let Some(&(previous, _)) = votes.last() {
            if code <= previous {
                return Err(EntryError::new(
                    ErrorCode::EntryVotesOrder,
                    format!(
                        "line {lineno}: candidate {code} after {previous}: vote lines must be in strictly ascending candidate order"
                    ),
                ));
            }
        }
        votes.push((code, count));
    }
    Ok(votes)
}

/// Writes one vote line per pair, in the order given.
pub(crate) fn write(out: &mut String, votes: &[(u32, u64)]) {
    for (code, count) in votes {
        push(out, FIELD, &format!("{code} {count}"));
    }
}

/// The votes of one candidate in a list of pairs (0 if absent).
pub fn of(votes: &[(u32, u64)], candidate: u32) -> u64 {
    votes
        .binary_search_by_key(&candidate, |&(code, _)| code)
        .map_or(0, |i| votes[i].1)
}
