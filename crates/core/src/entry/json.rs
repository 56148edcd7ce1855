//! An entry's fields as JSON: the `fields` object of the HTTP API's
//! `EntryJson`, `EntryRef` and `AnnouncementJson` (`spec/http-api.md`).
//!
//! Field names are the entry grammar's with `-` replaced by `_`. A tally's
//! optional fields are always present (`null` when absent), and repeated
//! lines become lists: `vote` lines the list `votes` of
//! `{"candidate", "votes"}`; an announcement's `elected`, `runoff` and
//! `reserve` lines the lists `elected`, `runoff` and `reserves`, its
//! `lot-needed` lines a list of lists, and it carries `results_sha256`, the
//! SHA-256 of its results statement (`spec/announcements.md` §3). The
//! signed note stays authoritative; this is a convenience for readers, and
//! every program that shows an entry shows these same fields.

use super::{BallotFigures, Entry};
use serde_json::{json, Map, Value};

/// The fields of an entry as a JSON object.
pub fn fields(e: &Entry) -> Value {
    match e {
        Entry::ManifestCommitment(c) => json!({
            "election": c.election,
            "kind": c.kind,
            "manifest_sha256": c.manifest_sha256.to_hex(),
            "manifest_root": c.manifest_root.map(|h| h.to_hex()),
        }),
        Entry::StationKey(k) => json!({
            "election": k.election,
            "station": k.station,
            "key": k.key,
        }),
        Entry::StationKeyRevocation(r) => json!({
            "election": r.election,
            "station": r.station,
            "key": r.key,
            "reason": r.reason,
        }),
        Entry::Tally(t) => {
            let mut m = object(json!({
                "election": t.election,
                "contest": t.contest,
                "station": t.station,
                "revision": t.revision,
                "supersedes": t.correction.as_ref().map(|c| c.supersedes.to_hex()),
                "reason": t.correction.as_ref().map(|c| c.reason.clone()),
            }));
            put_figures(&mut m, &t.figures);
            m.insert("votes".into(), votes(&t.votes));
            m.insert(
                "minutes_sha256".into(),
                json!(t.minutes_sha256.map(|h| h.to_hex())),
            );
            Value::Object(m)
        }
        Entry::Approval(a) => json!({
            "election": a.election,
            "station": a.station,
            "contest": a.contest,
            "index": a.index,
            "leaf_sha256": a.leaf_sha256.to_hex(),
        }),
        Entry::Annulment(a) => json!({
            "election": a.election,
            "station": a.station,
            "contest": a.contest,
            "reason_code": a.reason_code,
            "reason": a.reason,
        }),
        Entry::ContestApproval(c) => json!({
            "election": c.election,
            "contest": c.contest,
            "size": c.size,
            "results_sha256": c.results_sha256.to_hex(),
        }),
        Entry::LotDraw(l) => json!({
            "election": l.election,
            "contest": l.contest,
            "among": l.among,
            "order": l.order,
        }),
        Entry::Announcement(a) => {
            let s = &a.statement;
            let mut m = object(json!({
                "election": s.election,
                "contest": s.contest,
                "size": s.size,
                "status": a.status.as_str(),
                "stations_counted": s.stations_counted,
                "stations_expected": s.stations_expected,
                "stations_annulled": s.stations_annulled,
            }));
            put_figures(&mut m, &s.figures);
            let rest = object(json!({
                "votes": votes(&s.votes),
                "outcome": s.outcome,
                "elected": s.elected,
                "runoff": s.runoff,
                "reserves": s.reserves,
                "lot_needed": s.lot_needed,
                "replaces": a.replaces.as_ref().map(|r| r.final_leaf.to_hex()),
                "reason": a.replaces.as_ref().map(|r| r.reason.clone()),
                "root": a.witnessed.root.to_base64(),
                "cosigned_by": a
                    .witnessed
                    .cosignatures
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>(),
                "results_sha256": s.sha256().to_hex(),
            }));
            m.extend(rest);
            Value::Object(m)
        }
        Entry::RoleKey(k) => json!({
            "election": k.election,
            "role": k.role.as_str(),
            "old": k.old.to_vkey_string(),
            "new": k.new.as_ref().map(crate::note::VerifierKey::to_vkey_string),
            "reason": k.reason,
        }),
        Entry::Reopening(r) => json!({
            "election": r.election,
            "contest": r.contest,
            "final": r.final_leaf.to_hex(),
            "reason": r.reason,
        }),
    }
}

/// The members of a `json!` object literal.
fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The six ballot figures as a JSON object, under their grammar names
/// with `_` for `-` (also the keys of the results document's figures,
/// `spec/aggregation.md` §5).
pub fn ballot_figures(f: &BallotFigures) -> Map<String, Value> {
    f.named()
        .into_iter()
        .map(|(name, n)| (name.replace('-', "_"), json!(n)))
        .collect()
}

fn put_figures(m: &mut Map<String, Value>, f: &BallotFigures) {
    m.extend(ballot_figures(f));
}

/// A list of `vote` lines as `[{"candidate", "votes"}]`.
fn votes(v: &[(u32, u64)]) -> Value {
    v.iter()
        .map(|&(candidate, votes)| json!({"candidate": candidate, "votes": votes}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Announcement, AnnouncementStatus, Statement};
    use crate::rules::Status;
    use crate::testutil;

    #[test]
    fn a_tally_has_every_field_under_its_grammar_name() {
        let t = testutil::tally("01-001-0001");
        let v = fields(&Entry::Tally(t.clone()));
        let keys: Vec<String> = v
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        // The grammar's names with `_` for `-`, the vote lines as one list;
        // a first tally has `supersedes` and `reason` too, as null.
        let mut want: Vec<String> = crate::entry::tally::REVISION_FIELDS
            .iter()
            .map(|f| match *f {
                "vote" => "votes".to_owned(),
                other => other.replace('-', "_"),
            })
            .collect();
        want.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(v["valid"], t.figures.valid);
        assert_eq!(v["supersedes"], Value::Null);
        let (code, n) = t.votes[0];
        assert_eq!(v["votes"][0], json!({"candidate": code, "votes": n}));
    }

    #[test]
    fn an_announcement_lists_its_repeated_lines_and_its_statement_hash() {
        let s = Statement {
            election: "e1".into(),
            contest: "council".into(),
            size: 9,
            stations_counted: 1,
            stations_expected: 2,
            stations_annulled: 0,
            figures: BallotFigures {
                counterfoils: 10,
                ballots_in_box: 9,
                votes_taken: 8,
                void_taken: 1,
                void_not_taken: 1,
                valid: 7,
            },
            votes: vec![(7, 4), (8, 3)],
            outcome: Status::LotNeeded,
            elected: vec![],
            runoff: vec![],
            reserves: vec![7],
            lot_needed: vec![vec![8, 9]],
        };
        let a = Announcement {
            status: AnnouncementStatus::Partial,
            statement: s.clone(),
            replaces: None,
            witnessed: super::super::WitnessedCheckpoint {
                root: crate::Hash([3; 32]),
                cosignatures: vec![],
            },
        };
        let v = fields(&Entry::Announcement(a));
        assert_eq!(v["status"], "partial");
        assert_eq!(v["void_not_taken"], 1);
        assert_eq!(v["outcome"], "lot-needed");
        assert_eq!(v["reserves"], json!([7]));
        assert_eq!(v["lot_needed"], json!([[8, 9]]));
        assert_eq!(v["votes"][1], json!({"candidate": 8, "votes": 3}));
        assert_eq!(v["results_sha256"], s.sha256().to_hex());
    }
}
