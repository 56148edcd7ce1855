//! What the supervisor's and the authority's entries have decided so far:
//! annulled boxes, approved tallies, approved contests, drawn lots and
//! announcements (`spec/validation.md` §2, `spec/announcements.md`).

use crate::entry::{Announcement, AnnouncementStatus, Entry, EntryKind};
use crate::rules::LotDraw;
use crate::Hash;
use std::collections::HashMap;

/// A contest approval as logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContestApprovalRef {
    /// Its index in the log.
    pub index: u64,
    /// The results-sha256 it approved.
    pub results_sha256: Hash,
}

/// A lot draw as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotRecord {
    /// Its index in the log.
    pub index: u64,
    /// The contest.
    pub contest: String,
    /// The draw.
    pub draw: LotDraw,
}

/// An announcement as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnouncementRecord {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// The announcement (shared: the two copies of the state the board
    /// keeps share it rather than copy every statement at every commit).
    pub announcement: std::sync::Arc<Announcement>,
}

/// A supervisor's approval of one tally, as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// Its index in the log.
    pub index: u64,
    /// The station.
    pub station: String,
    /// The contest.
    pub contest: String,
    /// The log index of the tally it approves.
    pub tally: u64,
}

/// A supervisor or authority decision (approval, annulment, contest
/// approval, lot draw, announcement), in log order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecisionRef {
    /// Its index in the log.
    pub index: u64,
    /// Its kind.
    pub kind: EntryKind,
}

/// The decisions logged so far, with the look-ups the rules need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Supervision {
    /// (station, contest) → index of its annulment.
    annulled: HashMap<(String, String), u64>,
    /// Index of an approved tally → index of the approval.
    approved: HashMap<u64, u64>,
    /// Every approval of a tally, in log order.
    approvals: Vec<ApprovalRecord>,
    /// (contest, size) → the contest approval.
    contest_approvals: HashMap<(String, u64), ContestApprovalRef>,
    /// (contest, among) → index of the lot entry.
    lot_index: HashMap<(String, Vec<u32>), u64>,
    /// Lot draws in log order.
    lots: Vec<LotRecord>,
    /// Announcements in log order.
    announcements: Vec<AnnouncementRecord>,
    /// Every decision in log order.
    decisions: Vec<DecisionRef>,
    /// Per contest: its latest final announcement, and whether it has been
    /// reopened since (`spec/announcements.md` §6).
    finals: HashMap<String, FinalRef>,
}

/// A contest's latest final announcement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalRef {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// The index of the reopening that reopened it, if one did.
    pub reopened_at: Option<u64>,
}

impl Supervision {
    /// Records an entry accepted at `index` (other kinds are ignored).
    pub(super) fn apply(&mut self, index: u64, leaf: Hash, entry: &Entry) {
        match entry {
            Entry::Annulment(a) => {
                self.annulled
                    .entry((a.station.clone(), a.contest.clone()))
                    .or_insert(index);
            }
            Entry::Approval(a) => {
                self.approved.entry(a.index).or_insert(index);
                self.approvals.push(ApprovalRecord {
                    index,
                    station: a.station.clone(),
                    contest: a.contest.clone(),
                    tally: a.index,
                });
            }
            Entry::ContestApproval(c) => {
                self.contest_approvals
                    .entry((c.contest.clone(), c.size))
                    .or_insert(ContestApprovalRef {
                        index,
                        results_sha256: c.results_sha256,
                    });
            }
            Entry::LotDraw(l) => {
                self.lot_index
                    .entry((l.contest.clone(), l.among.clone()))
                    .or_insert(index);
                self.lots.push(LotRecord {
                    index,
                    contest: l.contest.clone(),
                    draw: l.draw(),
                });
            }
            Entry::Announcement(a) => {
                if a.status == AnnouncementStatus::Final {
                    self.finals.insert(
                        a.statement.contest.clone(),
                        FinalRef {
                            index,
                            leaf,
                            reopened_at: None,
                        },
                    );
                }
                self.announcements.push(AnnouncementRecord {
                    index,
                    leaf,
                    announcement: std::sync::Arc::new(a.clone()),
                });
            }
            Entry::Reopening(r) => {
                if let Some(f) = self.finals.get_mut(&r.contest) {
                    f.reopened_at.get_or_insert(index);
                }
            }
            // A decision of two roles; its effect is in `RoleKeys`.
            Entry::RoleKey(_) => {}
            Entry::ManifestCommitment(_)
            | Entry::StationKey(_)
            | Entry::StationKeyRevocation(_)
            | Entry::Tally(_) => return,
        }
        self.decisions.push(DecisionRef {
            index,
            kind: entry.kind(),
        });
    }

    /// The index of the annulment of a station's box for a contest.
    pub fn annulled(&self, station: &str, contest: &str) -> Option<u64> {
        self.annulled
            .get(&(station.to_owned(), contest.to_owned()))
            .copied()
    }

    /// Every annulled box: ((station, contest), index of the annulment).
    pub fn annulments(&self) -> impl Iterator<Item = (&(String, String), u64)> {
        self.annulled.iter().map(|(k, &i)| (k, i))
    }

    /// The index of the approval of the tally at `tally_index`.
    pub fn approval_of(&self, tally_index: u64) -> Option<u64> {
        self.approved.get(&tally_index).copied()
    }

    /// Every approval of a tally, in log order (`spec/entries.md` §3.6).
    pub fn approvals(&self) -> &[ApprovalRecord] {
        &self.approvals
    }

    /// Every contest approval: ((contest, size), the approval), in no
    /// particular order.
    pub fn contest_approvals(&self) -> impl Iterator<Item = (&(String, u64), &ContestApprovalRef)> {
        self.contest_approvals.iter()
    }

    /// The contest approval for `contest` at `size`.
    pub fn contest_approval(&self, contest: &str, size: u64) -> Option<ContestApprovalRef> {
        self.contest_approvals
            .get(&(contest.to_owned(), size))
            .copied()
    }

    /// The index of the lot drawn for `contest` between exactly `among` (ascending).
    pub fn lot(&self, contest: &str, among: &[u32]) -> Option<u64> {
        self.lot_index
            .get(&(contest.to_owned(), among.to_vec()))
            .copied()
    }

    /// Lot draws for `contest` logged below `size`, in log order.
    pub fn lots_below(&self, contest: &str, size: u64) -> Vec<LotDraw> {
        self.lots
            .iter()
            .filter(|l| l.index < size && l.contest == contest)
            .map(|l| l.draw.clone())
            .collect()
    }

    /// Every lot draw, in log order.
    pub fn lots(&self) -> &[LotRecord] {
        &self.lots
    }

    /// Every announcement, in log order.
    pub fn announcements(&self) -> &[AnnouncementRecord] {
        &self.announcements
    }

    /// Every decision, in log order.
    pub fn decisions(&self) -> &[DecisionRef] {
        &self.decisions
    }

    /// The contest's latest final announcement, reopened or not.
    pub fn latest_final(&self, contest: &str) -> Option<FinalRef> {
        self.finals.get(contest).copied()
    }

    /// The final announcement that holds the contest's results as they
    /// are: its latest final, unless reopened. While there is one, nothing
    /// that would change the contest's results is accepted.
    pub fn final_in_force(&self, contest: &str) -> Option<FinalRef> {
        self.latest_final(contest)
            .filter(|f| f.reopened_at.is_none())
    }

    /// Number of annulled boxes.
    pub fn annulled_count(&self) -> usize {
        self.annulled.len()
    }
}
