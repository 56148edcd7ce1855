//! Entries signed by a supervisor (a key listed in the manifest's
//! `keys.supervisors`): the approval of a station's tally, the annulment of
//! a station's box for a contest, and the approval of a contest's standing
//! results at one log size (`spec/entries.md` §3.6–3.8).

use super::authority::push;
use super::grammar::{self, FieldReader};
use super::EntryError;
use crate::Hash;

/// `tallyboard/approval/v1`: a supervisor approves the tally logged at
/// `index`, which must be the station's latest entry for the contest when
/// the approval is logged (`spec/validation.md` §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// Election identifier.
    pub election: String,
    /// Station identifier.
    pub station: String,
    /// Contest identifier.
    pub contest: String,
    /// Log index of the approved tally.
    pub index: u64,
    /// Its RFC 6962 leaf hash.
    pub leaf_sha256: Hash,
}

const APPROVAL_FIELDS: &[&str] = &["election", "station", "contest", "index", "leaf-sha256"];

impl Approval {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, APPROVAL_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let station = grammar::parse_id("station", r.required("station")?)?;
        let contest = grammar::parse_id("contest", r.required("contest")?)?;
        let index = grammar::parse_u64("index", r.required("index")?)?;
        let leaf_sha256 = grammar::parse_hex_hash("leaf-sha256", r.required("leaf-sha256")?)?;
        r.finish()?;
        Ok(Approval {
            election,
            station,
            contest,
            index,
            leaf_sha256,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "station", &self.station);
        push(out, "contest", &self.contest);
        push(out, "index", &self.index.to_string());
        push(out, "leaf-sha256", &self.leaf_sha256.to_hex());
    }
}

/// `tallyboard/annulment/v1`: a supervisor annuls a station's box for a
/// contest. From the annulment's index on, the box counts zero in the
/// standing sum, whatever tallies it has or later gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annulment {
    /// Election identifier.
    pub election: String,
    /// Station identifier.
    pub station: String,
    /// Contest identifier.
    pub contest: String,
    /// A machine-readable reason (an identifier, e.g. `ballot-stuffing`).
    pub reason_code: String,
    /// Why, in free text.
    pub reason: String,
}

const ANNULMENT_FIELDS: &[&str] = &["election", "station", "contest", "reason-code", "reason"];

impl Annulment {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, ANNULMENT_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let station = grammar::parse_id("station", r.required("station")?)?;
        let contest = grammar::parse_id("contest", r.required("contest")?)?;
        let reason_code = grammar::parse_id("reason-code", r.required("reason-code")?)?;
        let reason = grammar::parse_text("reason", r.required("reason")?)?;
        r.finish()?;
        Ok(Annulment {
            election,
            station,
            contest,
            reason_code,
            reason,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "station", &self.station);
        push(out, "contest", &self.contest);
        push(out, "reason-code", &self.reason_code);
        push(out, "reason", &self.reason);
    }
}

/// `tallyboard/contest-approval/v1`: a supervisor approves a contest's
/// standing results as they stand after the first `size` entries.
/// `results_sha256` is the SHA-256 of the results statement at that size
/// ([`super::announcement::Statement::sha256`], `spec/announcements.md` §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContestApproval {
    /// Election identifier.
    pub election: String,
    /// Contest identifier.
    pub contest: String,
    /// The log size whose standing results are approved.
    pub size: u64,
    /// SHA-256 of the results statement at `size`.
    pub results_sha256: Hash,
}

const CONTEST_APPROVAL_FIELDS: &[&str] = &["election", "contest", "size", "results-sha256"];

impl ContestApproval {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, CONTEST_APPROVAL_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let contest = grammar::parse_id("contest", r.required("contest")?)?;
        let size = grammar::parse_u64("size", r.required("size")?)?;
        let results_sha256 =
            grammar::parse_hex_hash("results-sha256", r.required("results-sha256")?)?;
        r.finish()?;
        Ok(ContestApproval {
            election,
            contest,
            size,
            results_sha256,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "contest", &self.contest);
        push(out, "size", &self.size.to_string());
        push(out, "results-sha256", &self.results_sha256.to_hex());
    }
}

/// `tallyboard/reopening/v1`: a supervisor reopens a contest whose results
/// were declared final (`spec/announcements.md` §6). Until it is logged, a
/// final announcement is final: nothing that would change the contest's
/// results is accepted. After it, tallies, revisions and supervision are
/// accepted again, and the next final must name the one it replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reopening {
    /// Election identifier.
    pub election: String,
    /// Contest identifier.
    pub contest: String,
    /// The leaf hash of the final announcement being reopened.
    pub final_leaf: Hash,
    /// Why, for people.
    pub reason: String,
}

const REOPENING_FIELDS: &[&str] = &["election", "contest", "final", "reason"];

impl Reopening {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, REOPENING_FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let contest = grammar::parse_id("contest", r.required("contest")?)?;
        let final_leaf = grammar::parse_hex_hash("final", r.required("final")?)?;
        let reason = grammar::parse_text("reason", r.required("reason")?)?;
        r.finish()?;
        Ok(Reopening {
            election,
            contest,
            final_leaf,
            reason,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "contest", &self.contest);
        push(out, "final", &self.final_leaf.to_hex());
        push(out, "reason", &self.reason);
    }
}
