//! An entry's fields as JSON, for the reports of the command line and the
//! browser: the figures a citizen compares with the minutes posted at the
//! station. One definition for both, in the grammar's field order
//! (spec/entries.md), with `_` for the grammar's `-`.

use serde_json::{json, Map, Value};
use tallyboard_core::entry::Entry;

/// The fields of `entry`, starting with its `type` line.
pub fn entry_fields(entry: &Entry) -> Value {
    let fields = match entry {
        Entry::Tally(t) => json!({
            "election": t.election,
            "contest": t.contest,
            "station": t.station,
            "revision": t.revision,
            "supersedes": t.correction.as_ref().map(|c| c.supersedes.to_hex()),
            "reason": t.correction.as_ref().map(|c| c.reason.clone()),
            "counterfoils": t.counterfoils,
            "ballots_in_box": t.ballots_in_box,
            "votes_taken": t.votes_taken,
            "void_taken": t.void_taken,
            "void_not_taken": t.void_not_taken,
            "valid": t.valid,
            "votes": t
                .votes
                .iter()
                .map(|(candidate, votes)| json!({"candidate": candidate, "votes": votes}))
                .collect::<Vec<_>>(),
            "minutes_sha256": t.minutes_sha256.map(|h| h.to_hex()),
        }),
        Entry::StationKey(k) => json!({"election": k.election, "station": k.station, "key": k.key}),
        Entry::StationKeyRevocation(k) => json!({
            "election": k.election, "station": k.station, "key": k.key, "reason": k.reason,
        }),
        Entry::ManifestCommitment(m) => json!({
            "election": m.election, "kind": m.kind, "manifest_sha256": m.manifest_sha256.to_hex(),
        }),
        Entry::Approval(a) => json!({
            "election": a.election, "station": a.station, "contest": a.contest,
            "index": a.index, "leaf_sha256": a.leaf_sha256.to_hex(),
        }),
        Entry::Annulment(a) => json!({
            "election": a.election, "station": a.station, "contest": a.contest,
            "reason_code": a.reason_code, "reason": a.reason,
        }),
        Entry::ContestApproval(c) => json!({
            "election": c.election, "contest": c.contest, "size": c.size,
            "results_sha256": c.results_sha256.to_hex(),
        }),
        Entry::Announcement(a) => json!({
            "contest": a.statement.contest, "size": a.statement.size,
            "status": a.status.as_str(),
        }),
        Entry::LotDraw(l) => json!({
            "election": l.election, "contest": l.contest, "among": l.among, "order": l.order,
        }),
    };
    let mut out = Map::new();
    out.insert("type".into(), json!(entry.kind().type_line()));
    if let Value::Object(m) = fields {
        out.extend(m.into_iter().filter(|(_, v)| !v.is_null()));
    }
    Value::Object(out)
}

/// The station an entry concerns, for the kinds that name one.
pub fn station_of(entry: &Entry) -> Option<&str> {
    match entry {
        Entry::Tally(t) => Some(&t.station),
        Entry::StationKey(k) => Some(&k.station),
        Entry::StationKeyRevocation(k) => Some(&k.station),
        Entry::Approval(a) => Some(&a.station),
        Entry::Annulment(a) => Some(&a.station),
        _ => None,
    }
}
