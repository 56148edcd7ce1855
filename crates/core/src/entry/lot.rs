//! `tallyboard/lot-draw/v1`: the election authority records the outcome of
//! drawing lots between tied candidates (`spec/entries.md` §3.9). The rules
//! ([`crate::rules::decide`]) take lots only from logged entries.

use super::authority::push;
use super::grammar::{self, FieldReader};
use super::EntryError;
use crate::rules::LotDraw;
use crate::ErrorCode;

/// A lot drawn between tied candidates of a contest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    /// Election identifier.
    pub election: String,
    /// Contest identifier.
    pub contest: String,
    /// The tied candidates, strictly ascending, at least two.
    pub among: Vec<u32>,
    /// A permutation of `among`, best first.
    pub order: Vec<u32>,
}

const LOT_FIELDS: &[&str] = &["election", "contest", "among", "order"];

fn parse_codes(field: &str, (v, lineno): (&str, usize)) -> Result<Vec<u32>, EntryError> {
    if v.split(' ').any(str::is_empty) {
        return Err(EntryError::new(
            ErrorCode::EntryNonCanonical,
            format!("line {lineno}: field '{field}': codes are separated by single spaces"),
        ));
    }
    v.split(' ')
        .map(|c| grammar::parse_u32(field, (c, lineno)))
        .collect()
}

impl Lot {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, LOT_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let contest = grammar::parse_id("contest", r.required("contest")?)?;
        let among_v = r.required("among")?;
        let among = parse_codes("among", among_v)?;
        let order_v = r.required("order")?;
        let order = parse_codes("order", order_v)?;
        r.finish()?;
        if among.len() < 2 {
            return Err(EntryError::new(
                ErrorCode::EntryBadValue,
                format!(
                    "line {}: field 'among': a lot is drawn between at least two candidates",
                    among_v.1
                ),
            ));
        }
        if among.windows(2).any(|w| w[0] >= w[1]) {
            return Err(EntryError::new(
                ErrorCode::EntryNonCanonical,
                format!(
                    "line {}: field 'among': codes must be strictly ascending",
                    among_v.1
                ),
            ));
        }
        let mut sorted = order.clone();
        sorted.sort_unstable();
        if sorted != among {
            return Err(EntryError::new(
                ErrorCode::EntryBadValue,
                format!(
                    "line {}: field 'order' is not a permutation of 'among'",
                    order_v.1
                ),
            ));
        }
        Ok(Lot {
            election,
            contest,
            among,
            order,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        let join = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
        push(out, "election", &self.election);
        push(out, "contest", &self.contest);
        push(out, "among", &join(&self.among));
        push(out, "order", &join(&self.order));
    }

    /// The lot as the rules take it.
    pub fn draw(&self) -> LotDraw {
        LotDraw {
            among: self.among.clone(),
            order: self.order.clone(),
        }
    }
}
