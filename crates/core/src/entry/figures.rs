//! The ballot figures of a count's minutes (صورتجلسه): the six counts
//! besides the candidates' votes (`spec/entries.md` §3.4 and §4).
//!
//! A station's tally states them for its box, an announcement states their
//! standing sums for a contest (`spec/announcements.md` §2), the aggregator
//! sums them along the region hierarchy and the results document publishes
//! them (`spec/aggregation.md` §5). All of these hold this one type, so the
//! six names, their order in an entry and the identities between them are
//! written once.

use super::authority::push;
use super::grammar::FieldReader;
use super::EntryError;
use crate::ErrorCode;

/// The six ballot figures of one box, or their sum over many boxes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BallotFigures {
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
}

/// The figures' field names in the entry grammar, in entry order. Tally and
/// announcement field lists place them as one consecutive block.
pub const FIELDS: [&str; 6] = [
    "counterfoils",
    "ballots-in-box",
    "votes-taken",
    "void-taken",
    "void-not-taken",
    "valid",
];

/// How one figure's value is read: a tally's figures are counts (at most
/// 10^12, `grammar::parse_count`), an announcement's are sums over many
/// boxes (any u64, `grammar::parse_u64`).
pub(crate) type ValueParser = fn(&str, (&str, usize)) -> Result<u64, EntryError>;

impl BallotFigures {
    /// The figures in entry order (the order of [`FIELDS`]).
    fn to_array(self) -> [u64; 6] {
        [
            self.counterfoils,
            self.ballots_in_box,
            self.votes_taken,
            self.void_taken,
            self.void_not_taken,
            self.valid,
        ]
    }

    /// The figures from their values in entry order (the order of
    /// [`FIELDS`]): how a form that asks for them in that order builds them.
    pub fn from_array(v: [u64; 6]) -> BallotFigures {
        let [counterfoils, ballots_in_box, votes_taken, void_taken, void_not_taken, valid] = v;
        BallotFigures {
            counterfoils,
            ballots_in_box,
            votes_taken,
            void_taken,
            void_not_taken,
            valid,
        }
    }

    /// The figures with their entry field names, in entry order.
    pub fn named(&self) -> [(&'static str, u64); 6] {
        let v = self.to_array();
        std::array::from_fn(|i| (FIELDS[i], v[i]))
    }

    /// Reads the six field lines, which must come next and in order.
    pub(crate) fn parse(
        r: &mut FieldReader<'_>,
        value: ValueParser,
    ) -> Result<BallotFigures, EntryError> {
        let mut v = [0u64; 6];
        for (slot, name) in v.iter_mut().zip(FIELDS) {
            *slot = value(name, r.required(name)?)?;
        }
        Ok(BallotFigures::from_array(v))
    }

    /// Writes the six field lines, in entry order.
    pub(crate) fn write(&self, out: &mut String) {
        for (name, n) in self.named() {
            push(out, name, &n.to_string());
        }
    }

    /// Applies `op` figure by figure; `None` if it fails for any of them.
    fn zip_with(
        &self,
        other: &BallotFigures,
        op: impl Fn(u64, u64) -> Option<u64>,
    ) -> Option<BallotFigures> {
        let (a, b) = (self.to_array(), other.to_array());
        let mut out = [0u64; 6];
        for (o, (x, y)) in out.iter_mut().zip(a.into_iter().zip(b)) {
            *o = op(x, y)?;
        }
        Some(BallotFigures::from_array(out))
    }

    /// Applies `op` figure by figure.
    fn map2(&self, other: &BallotFigures, op: impl Fn(u64, u64) -> u64) -> BallotFigures {
        let (a, b) = (self.to_array(), other.to_array());
        BallotFigures::from_array(std::array::from_fn(|i| op(a[i], b[i])))
    }

    /// The figure-by-figure sum; `None` if any figure overflows.
    pub fn checked_add(&self, other: &BallotFigures) -> Option<BallotFigures> {
        self.zip_with(other, u64::checked_add)
    }

    /// The figure-by-figure difference; `None` if any figure would go below zero.
    pub fn checked_sub(&self, other: &BallotFigures) -> Option<BallotFigures> {
        self.zip_with(other, u64::checked_sub)
    }

    /// The figure-by-figure sum, each figure stopping at `u64::MAX`: for
    /// sums whose bound is established elsewhere and that must not fail.
    pub fn saturating_add(&self, other: &BallotFigures) -> BallotFigures {
        self.map2(other, u64::saturating_add)
    }

    /// The figure-by-figure difference, each figure stopping at 0.
    pub fn saturating_sub(&self, other: &BallotFigures) -> BallotFigures {
        self.map2(other, u64::saturating_sub)
    }

    /// The three identities of the count minutes between these figures
    /// (`spec/entries.md` §4, rules 1 to 3), in that fixed order so the same
    /// bad figures always get the same code. The rules about candidates'
    /// votes are the tally's ([`super::Tally::check_arithmetic`]).
    ///
    /// # Errors
    /// The first identity that does not hold.
    pub fn check_arithmetic(&self) -> Result<(), EntryError> {
        // Sums in u128: the figures of a tally are at most 10^12 each, but
        // this also serves sums that are not.
        let sum = |a: u64, b: u64| u128::from(a) + u128::from(b);
        if sum(self.votes_taken, self.void_not_taken) != u128::from(self.ballots_in_box) {
            return Err(EntryError::new(
                ErrorCode::TallyBallotsInBox,
                format!(
                    "ballots-in-box {} != votes-taken {} + void-not-taken {}",
                    self.ballots_in_box, self.votes_taken, self.void_not_taken
                ),
            ));
        }
        if sum(self.valid, self.void_taken) != u128::from(self.votes_taken) {
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::grammar;
    use crate::error::Coded;

    fn sample() -> BallotFigures {
        BallotFigures {
            counterfoils: 305,
            ballots_in_box: 301,
            votes_taken: 297,
            void_taken: 12,
            void_not_taken: 4,
            valid: 285,
        }
    }

    const LINES: &str = "counterfoils 305\nballots-in-box 301\nvotes-taken 297\nvoid-taken 12\nvoid-not-taken 4\nvalid 285\n";

    fn parse(text: &str, value: ValueParser) -> Result<BallotFigures, EntryError> {
        let mut r = FieldReader::new(text, &FIELDS)?;
        let f = BallotFigures::parse(&mut r, value)?;
        r.finish()?;
        Ok(f)
    }

    #[test]
    fn six_lines_round_trip() {
        let mut out = String::new();
        sample().write(&mut out);
        assert_eq!(out, LINES);
        assert_eq!(parse(LINES, grammar::parse_count), Ok(sample()));
        assert_eq!(parse(LINES, grammar::parse_u64), Ok(sample()));
    }

    #[test]
    fn lines_are_read_in_entry_order_with_the_given_bound() {
        let swapped = LINES.replace(
            "votes-taken 297\nvoid-taken 12\n",
            "void-taken 12\nvotes-taken 297\n",
        );
        assert_eq!(
            parse(&swapped, grammar::parse_count)
                .expect_err("out of order")
                .code(),
            ErrorCode::EntryMissingField
        );
        // A sum may exceed the 10^12 bound of a single count.
        let big = LINES.replace("counterfoils 305", "counterfoils 2000000000000");
        assert_eq!(
            parse(&big, grammar::parse_count)
                .expect_err("over 10^12")
                .code(),
            ErrorCode::TallyCountTooLarge
        );
        assert_eq!(
            parse(&big, grammar::parse_u64).map(|f| f.counterfoils),
            Ok(2_000_000_000_000)
        );
    }

    #[test]
    fn sums_add_and_subtract_figure_by_figure() {
        let a = sample();
        let two = a.checked_add(&a).expect("no overflow");
        assert_eq!(two.named().map(|(_, n)| n), [610, 602, 594, 24, 8, 570]);
        assert_eq!(two.checked_sub(&a), Some(a));
        assert_eq!(a.checked_sub(&two), None);
        assert_eq!(a.checked_sub(&a), Some(BallotFigures::default()));
        let full = BallotFigures {
            valid: u64::MAX,
            ..BallotFigures::default()
        };
        assert_eq!(full.checked_add(&a), None);
        // Sums keep the identities of their parts.
        assert_eq!(two.check_arithmetic(), Ok(()));
        assert_eq!(a.saturating_add(&a), two);
        assert_eq!(a.saturating_sub(&two), BallotFigures::default());
        assert_eq!(full.saturating_add(&a).valid, u64::MAX);
        assert_eq!(full.saturating_add(&a).counterfoils, 305);
    }

    #[test]
    fn identities_are_checked_in_a_fixed_order() {
        assert_eq!(sample().check_arithmetic(), Ok(()));
        let mut f = sample();
        f.ballots_in_box += 1;
        f.counterfoils = 0;
        assert_eq!(
            f.check_arithmetic().expect_err("box").code(),
            ErrorCode::TallyBallotsInBox
        );
        let mut f = sample();
        f.valid += 1;
        assert_eq!(
            f.check_arithmetic().expect_err("taken").code(),
            ErrorCode::TallyVotesTaken
        );
        let mut f = sample();
        f.counterfoils = 300;
        assert_eq!(
            f.check_arithmetic().expect_err("counterfoils").code(),
            ErrorCode::TallyCounterfoils
        );
    }
}
