//! The standing results of a log prefix, kept current one entry at a time,
//! and the statements they give (`spec/announcements.md` §4).
//!
//! Every contest approval and announcement is checked against the
//! statement the log gives at its `size`. Recomputing that from every entry
//! below `size` costs a pass over the whole log; at national scale, with one
//! announcement per Majlis constituency, a board or an auditor doing so for
//! each announcement would spend minutes. [`StandingResults`] instead
//! follows the log in index order (tallies, revisions, annulments, lot
//! draws) and answers for any `size` at or after its last results entry
//! without rereading anything: entries that are not results entries
//! (approvals, announcements, keys) do not change the standing figures, so
//! the state after the last results entry below the current size *is* the
//! state at every size from there on.
//!
//! For a `size` before a later results entry it cannot answer
//! ([`StandingResults::statement_at`] returns `None`); [`statement`] then
//! rebuilds the state at that size from the prefix and keeps it for the
//! rest of the round. Both paths are the same arithmetic as the reference
//! recomputation, [`crate::entry::announcement::expected`]; the tests below check they
//! agree.

use crate::aggregate::Aggregator;
use crate::entry::announcement::Statement;
use crate::entry::{Entry, EntryError};
use crate::error::Coded;
use crate::manifest::ValidatedManifest;
use crate::rules::LotDraw;
use crate::validate::ValidationError;

/// The results-relevant state of the first [`StandingResults::size`]
/// entries of a log.
#[derive(Clone, Debug)]
pub struct StandingResults {
    aggregator: Aggregator,
    /// Lot draws: (index, contest, draw), in log order.
    lots: Vec<(u64, String, LotDraw)>,
    /// Entries accounted for: the index the next entry gets.
    size: u64,
    /// One past the index of the last results entry (0 if none yet): the
    /// standing figures are the same at every size in `settled..=size`.
    settled: u64,
}

/// Whether an entry changes the standing results.
pub fn is_results_entry(e: &Entry) -> bool {
    matches!(e, Entry::Tally(_) | Entry::Annulment(_) | Entry::LotDraw(_))
}

impl StandingResults {
    /// The state of an empty log.
    pub fn new(manifest: &ValidatedManifest) -> StandingResults {
        StandingResults {
            aggregator: Aggregator::new(manifest),
            lots: Vec::new(),
            size: 0,
            settled: 0,
        }
    }

    /// Accounts for the entry logged at `index`. Entries must come in index
    /// order, each exactly once, and only entries the validation rules
    /// accepted (a tally the aggregator refuses is an error and leaves the
    /// state unchanged).
    ///
    /// # Errors
    /// `index` is not the next one (`store.inconsistent`); the aggregator
    /// refuses a tally or annulment (never, for a validated entry).
    pub fn apply(&mut self, index: u64, entry: &Entry) -> Result<(), EntryError> {
        if index < self.size {
            return Err(EntryError::new(
                crate::ErrorCode::StoreInconsistent,
                format!(
                    "results state is at size {}; entry {index} was already applied",
                    self.size
                ),
            ));
        }
        let refused = |e: crate::aggregate::AggregateError| {
            EntryError::new(e.code(), format!("entry {index}: {}", e.message()))
        };
        match entry {
            Entry::Tally(t) => self.aggregator.apply(index, t).map_err(refused)?,
            Entry::Annulment(a) => {
                self.aggregator
                    .annul(&a.station, &a.contest)
                    .map_err(refused)?;
            }
            Entry::LotDraw(l) => self.lots.push((index, l.contest.clone(), l.draw())),
            _ => {}
        }
        if is_results_entry(entry) {
            self.settled = index + 1;
        }
        self.size = index + 1;
        Ok(())
    }

    /// Records that the log now holds `size` entries, those not applied
    /// being no results entries (an auditor's replay skips the entries it
    /// refused, which the board would never have logged).
    pub fn advance(&mut self, size: u64) {
        self.size = self.size.max(size);
    }

    /// Entries accounted for.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The smallest size at which the current figures already stand.
    pub fn settled(&self) -> u64 {
        self.settled
    }

    /// The aggregated figures at [`StandingResults::size`].
    pub fn aggregator(&self) -> &Aggregator {
        &self.aggregator
    }

    /// Lot draws logged for `contest` below `size`, in log order.
    pub fn lots(&self, contest: &str, size: u64) -> Vec<LotDraw> {
        self.lots
            .iter()
            .filter(|(i, c, _)| *i < size && c == contest)
            .map(|(_, _, l)| l.clone())
            .collect()
    }

    /// The statement the log gives for `contest` at `size`, if this state
    /// can tell without rereading: `size` must lie between the last results
    /// entry and the entries accounted for. `None` otherwise; the caller
    /// then recomputes with [`statement`], which rebuilds the state at that size.
    pub fn statement_at(&self, contest: &str, size: u64) -> Option<Result<Statement, EntryError>> {
        if size < self.settled || size > self.size {
            return None;
        }
        let lots = self.lots(contest, size);
        Some(Statement::from_aggregator(
            &self.aggregator,
            contest,
            size,
            &lots,
        ))
    }
}

/// The last state rebuilt for a size the live state could not answer for,
/// kept because announcements come in rounds: the authority announces every
/// contest (208 of them in a Majlis election) at one size, while tallies
/// keep arriving, so one rebuild serves the whole round.
pub type Rebuilt = std::cell::RefCell<Option<StandingResults>>;

/// The statement for `contest` at `size`: from `standing` when it can tell;
/// else from the state last rebuilt, if it is at `size`; else rebuilt (and
/// kept in `rebuilt`) from `prefix()`, the log's results entries below
/// `size` in index order (others may be included; called only then). This
/// is what a [`crate::validate::LogView::statement`] implementation does.
///
/// # Errors
/// The rules' refusal, an entry the aggregator refuses, and whatever
/// `prefix` fails with.
pub fn statement<I, F>(
    manifest: &ValidatedManifest,
    standing: &StandingResults,
    rebuilt: &Rebuilt,
    contest: &str,
    size: u64,
    prefix: F,
) -> Result<Statement, ValidationError>
where
    F: FnOnce() -> Result<I, ValidationError>,
    I: IntoIterator<Item = (u64, Entry)>,
{
    if let Some(s) = standing.statement_at(contest, size) {
        return s.map_err(ValidationError::from);
    }
    if let Some(s) = rebuilt
        .borrow()
        .as_ref()
        .and_then(|r| r.statement_at(contest, size))
    {
        return s.map_err(ValidationError::from);
    }
    let mut state = StandingResults::new(manifest);
    for (index, entry) in prefix()? {
        if index < size {
            state.apply(index, &entry).map_err(ValidationError::from)?;
        }
    }
    state.advance(size);
    let answer = state
        .statement_at(contest, size)
        .ok_or_else(|| {
            ValidationError::new(
                crate::ErrorCode::StoreInconsistent,
                format!("results rebuilt to size {size} cannot answer for it"),
            )
        })?
        .map_err(ValidationError::from);
    *rebuilt.borrow_mut() = Some(state);
    answer
}

#[cfg(test)]
mod tests;
