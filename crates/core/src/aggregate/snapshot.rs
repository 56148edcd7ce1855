//! The aggregator's boxes as bytes, for the state snapshot
//! (`crate::state::LogState::encode`): each box's first and latest figures
//! and its annulment, contest by contest in manifest order. The layout is
//! the manifest's, and the region sums are recomputed from the boxes.

use super::{Aggregator, BoxFigures, BoxState};
use crate::entry::BallotFigures;
use crate::state::snapshot::{Dec, DecResult, Enc};
use std::sync::Arc;

fn figures(e: &mut Enc, f: &BoxFigures) {
    e.u64(u64::from(f.revision));
    e.u64(f.index);
    let b = &f.figures;
    for n in [
        b.counterfoils,
        b.ballots_in_box,
        b.votes_taken,
        b.void_taken,
        b.void_not_taken,
        b.valid,
    ] {
        e.u64(n);
    }
    e.u64(f.votes.len() as u64);
    for &(pos, n) in &f.votes {
        e.u64(pos as u64);
        e.u64(n);
    }
}

fn read_figures(d: &mut Dec<'_>, candidates: usize, size: u64) -> DecResult<BoxFigures> {
    let revision = u32::try_from(d.u64()?).map_err(|_| "a revision overflows")?;
    let index = d.u64()?;
    if index >= size || revision == 0 {
        return Err(format!("box figures at {index} are out of range"));
    }
    let mut n = [0u64; 6];
    for x in &mut n {
        *x = d.u64()?;
        if *x > crate::rules::MAX_COUNT {
            return Err("a count exceeds 10^12".into());
        }
    }
    let k = d.len(candidates)?;
    let mut votes = Vec::with_capacity(k);
    for _ in 0..k {
        let pos = d.len(candidates.saturating_sub(1))?;
        let v = d.u64()?;
        if v > crate::rules::MAX_COUNT || votes.last().is_some_and(|&(p, _)| p >= pos) {
            return Err("box votes are out of order or range".into());
        }
        votes.push((pos, v));
    }
    Ok(BoxFigures {
        revision,
        index,
        figures: BallotFigures {
            counterfoils: n[0],
            ballots_in_box: n[1],
            votes_taken: n[2],
            void_taken: n[3],
            void_not_taken: n[4],
            valid: n[5],
        },
        votes,
    })
}

impl Aggregator {
    pub(crate) fn encode_boxes(&self, e: &mut Enc) {
        e.u64(self.contests.len() as u64);
        for c in &self.contests {
            e.u64(c.boxes.len() as u64);
            for b in &c.boxes {
                let flags = u64::from(b.first.is_some())
                    | u64::from(b.revised.is_some()) << 1
                    | u64::from(b.annulled_at.is_some()) << 2;
                e.u64(flags);
                if let Some(f) = &b.first {
                    figures(e, f);
                }
                if let Some(f) = &b.revised {
                    figures(e, f);
                }
                if let Some(a) = b.annulled_at {
                    e.u64(a);
                }
            }
        }
    }

    /// Reads the boxes [`Aggregator::encode_boxes`] wrote into this
    /// aggregator (built empty from the same manifest) and recomputes the
    /// region sums from them.
    pub(crate) fn decode_boxes(&mut self, d: &mut Dec<'_>, size: u64) -> DecResult<()> {
        if d.len(self.contests.len())? != self.contests.len() {
            return Err("the snapshot has another number of contests".into());
        }
        for c in &mut self.contests {
            if d.len(c.boxes.len())? != c.boxes.len() {
                return Err(format!("contest {}: another number of boxes", c.id));
            }
            let n = c.codes.len();
            for b in &mut c.boxes {
                let flags = d.u64()?;
                if flags > 7 || flags & 0b011 == 0b010 {
                    return Err("a box's flags are invalid".into());
                }
                let first = (flags & 1 == 1)
                    .then(|| read_figures(d, n, size))
                    .transpose()?;
                let revised = (flags & 2 == 2)
                    .then(|| read_figures(d, n, size))
                    .transpose()?;
                if let (Some(f), Some(r)) = (&first, &revised) {
                    if r.revision <= f.revision || r.index <= f.index {
                        return Err("a box's revisions are out of order".into());
                    }
                }
                let annulled_at = if flags & 4 == 4 {
                    Some(d.u64()?)
                        .filter(|&a| a < size)
                        .ok_or("an annulment is out of range")?
                        .into()
                } else {
                    None
                };
                *b = BoxState {
                    first: first.map(Arc::new),
                    revised: revised.map(Arc::new),
                    annulled_at,
                };
            }
            Self::sum_bottom_up(c);
        }
        Ok(())
    }
}
