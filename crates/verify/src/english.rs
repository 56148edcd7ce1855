//! The command line's words: the procedure's structured checks
//! ([`crate::procedure`]) said in English, one line each, and turned into
//! [`Finding`]s for the reports. The browser says the same things in
//! Persian and English in the site's JavaScript (`verify.js`), from the
//! same data.

use crate::procedure::checkpoint::POLICY_LOG_NOT_LISTED;
use crate::procedure::facts::{
    EntryFact, EntryFacts, Facts, ManifestFacts, RequiredKey, TileFacts, WitnessFacts,
};
use crate::procedure::station::{StationEntry, NO_TALLY, OTHER_STATION};
use crate::procedure::tiles::{PARENT_MISMATCH, ROOT_MISMATCH};
use crate::procedure::{Check, CheckId, Status};
use crate::Finding;

/// The mark of a status: ✓ ✗ ℹ –.
pub fn mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Info => "ℹ",
        Status::Skip => "–",
    }
}

/// What check `id` checks.
pub fn label(id: CheckId) -> &'static str {
    match id {
        CheckId::LogKey => "the log's public key",
        CheckId::CheckpointSignature => "the log's signature on the checkpoint",
        CheckId::TilesRoot => "the tiles rebuild the signed root",
        CheckId::Manifest => "the election manifest and its commitment in entry 0",
        CheckId::WitnessCosignatures => "witness cosignatures",
        CheckId::RegistrationInclusion => "the station's key entries are in the log",
        CheckId::RegistrationSignature => "the authority's signature on the station's key entries",
        CheckId::EntryInclusion => "the entries' inclusion in the signed tree",
        CheckId::EntrySignature => "each entry signed by the key its kind requires",
        CheckId::Arithmetic => "the tallies' arithmetic",
        CheckId::Revision => "the revision shown is the standing one",
        CheckId::Screen => "the figures on the page are the signed ones",
        CheckId::Minutes => "the minutes image is the one the tally names",
    }
}

/// The checks, one line each: mark, id, the code of a failure, what was
/// found.
pub fn lines(checks: &[Check]) -> String {
    checks
        .iter()
        .map(|c| {
            let code = c
                .code
                .as_deref()
                .map(|x| format!(" [{x}]"))
                .unwrap_or_default();
            format!(
                "  {} {}{code}: {}\n",
                mark(c.status),
                c.id.as_str(),
                sentence(c)
            )
        })
        .collect()
}

/// The failed checks as findings: the code, the check and what was found,
/// and the entry or resource concerned.
pub fn findings(checks: &[Check]) -> Vec<Finding> {
    checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| {
            let code = c.code.clone().unwrap_or_default();
            let mut f = Finding::new(code, format!("{}: {}", label(c.id), sentence(c)));
            let (entry, path) = concerned(&c.data);
            f.entry = entry;
            f.path = path;
            f
        })
        .collect()
}

fn concerned(data: &Facts) -> (Option<u64>, Option<String>) {
    match data {
        Facts::Checkpoint(f) => (None, f.path.clone()),
        Facts::Tiles(f) => (None, f.path.clone()),
        Facts::Manifest(f) => (f.index, f.path.clone()),
        Facts::Entries(e) => (
            e.entries
                .iter()
                .find(|f| f.code.as_deref().is_some_and(|c| c != NO_TALLY))
                .map(|f| f.index),
            None,
        ),
        _ => (None, Some("checkpoint".into())),
    }
}

/// What check `c` found, in English.
pub fn sentence(c: &Check) -> String {
    let code = c.code.as_deref().unwrap_or("");
    match &c.data {
        Facts::Skipped { after } => {
            format!(
                "not checked: it depends on {}, which failed",
                after.as_str()
            )
        }
        Facts::Key(_) if c.status == Status::Fail => format!("the log key is refused ({code})"),
        Facts::Key(k) => format!(
            "{} (fingerprint {}, key ID {}), {}",
            k.name.as_deref().unwrap_or("?"),
            k.fingerprint.as_deref().unwrap_or("?"),
            k.key_id.as_deref().unwrap_or("?"),
            match k.source.as_deref() {
                Some("page") => "pinned by the page",
                Some("board") => {
                    "from the board itself (trust on first use: compare it with the published key)"
                }
                _ => "as given",
            }
        ),
        Facts::Checkpoint(f) => match (f.size, &f.root) {
            (Some(size), Some(root)) if c.status == Status::Pass => {
                format!("tree of {size} entries, root {root}, origin {}", f.origin)
            }
            _ => format!(
                "the {} is refused ({code}; expected origin {})",
                f.path.as_deref().unwrap_or("checkpoint"),
                f.origin
            ),
        },
        Facts::Tiles(t) => tiles(t, c.status, code),
        Facts::Manifest(m) => manifest(m, c.status, code),
        Facts::Witnesses(w) => witnesses(w, c.status, code),
        Facts::Entries(e) => entries(c.id, e, c.status, code),
        Facts::Screen(s) => screen(c.id, s),
    }
}

fn screen(id: CheckId, s: &crate::procedure::screen::ScreenFacts) -> String {
    let parts: Vec<String> = match id {
        CheckId::Revision => s
            .revisions
            .iter()
            .map(|r| match (r.state, r.standing_index, &r.code) {
                ("superseded", Some(j), _) => format!(
                    "entry {} (revision {}) is superseded by revision {} at entry {j}",
                    r.index,
                    r.revision.unwrap_or(0),
                    r.standing_revision.unwrap_or(0)
                ),
                (_, _, Some(code)) => format!("entry {}: {code}", r.index),
                _ => format!(
                    "entry {} is revision {} of {}, the standing one as the board lists them",
                    r.index,
                    r.revision.unwrap_or(0),
                    r.contest.as_deref().unwrap_or("?")
                ),
            })
            .collect(),
        CheckId::Screen => s
            .tables
            .iter()
            .map(|t| {
                let bad: Vec<String> = t
                    .mismatches
                    .iter()
                    .map(|m| {
                        format!(
                            "{} shows {} where the station signed {} ({})",
                            m.field,
                            m.shown.as_deref().unwrap_or("nothing"),
                            m.signed.map_or("nothing".into(), |n| n.to_string()),
                            m.code
                        )
                    })
                    .collect();
                if bad.is_empty() {
                    format!(
                        "entry {}: {} of {} figures match",
                        t.index, t.matched, t.compared
                    )
                } else {
                    format!("entry {}: {}", t.index, bad.join("; "))
                }
            })
            .collect(),
        _ => s
            .minutes
            .iter()
            .map(|m| match (&m.code, m.state) {
                (Some(code), _) => format!("entry {}: {code}", m.index),
                (None, "checked") => format!(
                    "entry {}: the image ({} bytes) hashes to the committed {}",
                    m.index,
                    m.bytes.unwrap_or(0),
                    m.committed.as_deref().unwrap_or("?")
                ),
                (None, "not-shown") => format!("entry {}: no image shown", m.index),
                _ => format!("entry {}: the tally names no minutes", m.index),
            })
            .collect(),
    };
    parts.join("; ")
}

fn tiles(t: &TileFacts, status: Status, code: &str) -> String {
    let path = t.path.as_deref().unwrap_or("a tile");
    match (status, code) {
        (Status::Pass, _) => format!(
            "the root rebuilt from {} tiles is the signed root of the tree of {} entries",
            t.tiles, t.size
        ),
        (_, ROOT_MISMATCH) => format!(
            "the tiles give root {}, the checkpoint signs {}",
            t.found.as_deref().unwrap_or("?"),
            t.expected.as_deref().unwrap_or("?")
        ),
        (_, PARENT_MISMATCH) => format!(
            "{path} hashes to {}, but the tile above holds {} for it: the tile is wrong",
            t.found.as_deref().unwrap_or("?"),
            t.expected.as_deref().unwrap_or("?")
        ),
        (_, "source.missing") => format!(
            "the log does not serve {path}, which its checkpoint of size {} requires",
            t.size
        ),
        _ => format!("{path} is unusable ({code})"),
    }
}

fn manifest(m: &ManifestFacts, status: Status, code: &str) -> String {
    let short = |h: &Option<String>| {
        h.as_deref()
            .unwrap_or("?")
            .chars()
            .take(16)
            .collect::<String>()
    };
    match (status, code) {
        (Status::Pass, _) => format!(
            "entry 0 is in the tree and commits to this manifest (SHA-256 {}…); election {}",
            short(&m.manifest_sha256),
            m.election.as_deref().unwrap_or("?")
        ),
        (_, "manifest.digest-mismatch") => format!(
            "the manifest served hashes to {}…, entry 0 commits to {}…",
            short(&m.manifest_sha256),
            short(&m.committed)
        ),
        (_, "manifest.not-committed") => {
            "entry 0 is not the manifest commitment (or the log is empty)".into()
        }
        (_, "source.missing") => format!(
            "the log does not serve {}",
            m.path.as_deref().unwrap_or("entry 0's bundle")
        ),
        (_, "proof.inclusion-failed") => "entry 0 is not in the signed tree".into(),
        _ if m.field.is_some() => format!(
            "the manifest's {} is {}, the verification uses {}",
            m.field.as_deref().unwrap_or("?"),
            m.found.as_deref().unwrap_or("?"),
            m.expected.as_deref().unwrap_or("?")
        ),
        _ => format!("the manifest or entry 0 is refused ({code})"),
    }
}

fn witnesses(w: &WitnessFacts, status: Status, code: &str) -> String {
    let cosigned: Vec<String> = w
        .cosigned
        .iter()
        .map(|c| format!("{} (time {})", c.witness, c.timestamp))
        .collect();
    let cosigned = if cosigned.is_empty() {
        "none".to_string()
    } else {
        cosigned.join(", ")
    };
    let mut s = match (w.policy, status, code) {
        (true, Status::Pass, _) => format!(
            "quorum {} MET; cosigned by {cosigned}",
            w.quorum.as_deref().unwrap_or("none")
        ),
        (true, _, POLICY_LOG_NOT_LISTED) => {
            "the witness policy does not list this log's key: its quorum says nothing about this log"
                .into()
        }
        (true, _, _) => format!(
            "quorum {} NOT MET; cosigned by {cosigned}",
            w.quorum.as_deref().unwrap_or("none")
        ),
        (false, Status::Fail, _) => format!(
            "a cosignature does not verify (witness {})",
            w.invalid.join(", ")
        ),
        (false, _, _) => format!(
            "not checked against a quorum (no witness policy given: --policy FILE); {} of {} known witnesses cosigned: {cosigned}",
            w.cosigned.len(),
            w.witnesses
        ),
    };
    for g in &w.unsatisfied {
        s.push_str(&format!(
            "; group {} needs {}, missing {}",
            g.group,
            g.threshold,
            g.missing.join(", ")
        ));
    }
    if !w.invalid.is_empty() && status != Status::Fail {
        s.push_str(&format!(
            "; invalid cosignature by {}",
            w.invalid.join(", ")
        ));
    }
    if !w.unchecked.is_empty() {
        s.push_str(&format!(
            "; other signatures (not checked): {}",
            w.unchecked.join(", ")
        ));
    }
    s
}

fn entries(id: CheckId, e: &EntryFacts, status: Status, code: &str) -> String {
    if e.entries.is_empty() {
        return match (status, code) {
            (Status::Info, _) => format!("station {}: nothing to check", e.station),
            (_, "station.key-not-registered") => {
                format!(
                    "no key registration of station {} is in the log before its tallies",
                    e.station
                )
            }
            _ => format!("station {} ({code})", e.station),
        };
    }
    let each: Vec<String> = e.entries.iter().map(|f| entry(id, f, &e.station)).collect();
    each.join("; ")
}

fn entry(id: CheckId, f: &EntryFact, station: &str) -> String {
    let leaf = f
        .leaf
        .as_deref()
        .map(|l| format!(" (leaf {}…)", &l[..l.len().min(16)]));
    let leaf = leaf.unwrap_or_default();
    if let Some(code) = f.code.as_deref() {
        return match code {
            NO_TALLY => format!("station {station} has no tally in the log"),
            OTHER_STATION => format!(
                "entry {} is {}'s {}, not station {station}'s",
                f.index,
                f.station.as_deref().unwrap_or("no station"),
                f.kind.as_deref().unwrap_or("entry")
            ),
            "proof.inclusion-failed" => {
                format!("entry {}{leaf} is not in the signed tree", f.index)
            }
            _ => match &f.required {
                Some(k) => format!("entry {}: {} ({code})", f.index, key_phrase(k)),
                None => format!("entry {}{leaf}: {code}", f.index),
            },
        };
    }
    match id {
        CheckId::RegistrationInclusion | CheckId::EntryInclusion => format!(
            "entry {}{leaf} is in the tree of {} entries ({}-hash proof computed from the tiles)",
            f.index,
            f.size.unwrap_or(0),
            f.proof_hashes.unwrap_or(0)
        ),
        CheckId::RegistrationSignature | CheckId::EntrySignature => format!(
            "entry {} signed by {}",
            f.index,
            f.required.as_ref().map(key_phrase).unwrap_or_default()
        ),
        CheckId::Arithmetic => match &f.fields {
            Some(x) => format!(
                "entry {}: votes taken {} + void not taken {} = ballots in box {}; valid {}",
                f.index, x["votes_taken"], x["void_not_taken"], x["ballots_in_box"], x["valid"]
            ),
            None => format!(
                "entry {} is a {}, not a tally",
                f.index,
                f.kind.as_deref().unwrap_or("?")
            ),
        },
        _ => format!("entry {}", f.index),
    }
}

/// The key an entry requires, in words: "the station key K registered at
/// index 5", "the supervisor key S", "no station key in force".
fn key_phrase(k: &RequiredKey) -> String {
    match (&k.signer, k.key_index) {
        (Some(name), Some(i)) => format!("the {} key {name} registered at index {i}", k.role),
        (Some(name), None) => format!("the {} key {name}", k.role),
        (None, _) => format!("no {} key", k.role),
    }
}

/// The order in which an entry's fields are printed (the entry grammar's).
const FIELD_ORDER: &[&str] = &[
    "election",
    "kind",
    "manifest_sha256",
    "contest",
    "station",
    "key",
    "revision",
    "supersedes",
    "reason",
    "index",
    "leaf_sha256",
    "reason_code",
    "counterfoils",
    "ballots_in_box",
    "votes_taken",
    "void_taken",
    "void_not_taken",
    "valid",
    "votes",
    "minutes_sha256",
];

/// One of a station's entries as verified, with its fields, for the
/// `inclusion` report.
pub fn station_entry(e: &StationEntry) -> String {
    let key = e.required.as_ref().map(key_phrase).unwrap_or_default();
    let signature = match e.signature {
        "valid" => format!("valid ({key})"),
        "unchecked" => "not checked".to_string(),
        _ => format!(
            "INVALID ({}; required: {key})",
            e.code.as_deref().unwrap_or("?")
        ),
    };
    let mut s = format!(
        "\n  entry {} {}\n    included: {}   signature: {signature}\n    leaf {}\n",
        e.index,
        e.kind,
        if e.included {
            "yes (proof from tiles verified)"
        } else {
            "NO"
        },
        e.leaf
    );
    if let (false, Some(code)) = (e.included, &e.code) {
        s.push_str(&format!("    [{code}]\n"));
    }
    for k in FIELD_ORDER {
        let Some(v) = e.entry.get(*k) else {
            continue;
        };
        if *k == "votes" {
            for vote in v.as_array().into_iter().flatten() {
                s.push_str(&format!(
                    "    votes for candidate {} = {}\n",
                    vote["candidate"], vote["votes"]
                ));
            }
        } else {
            s.push_str(&format!("    {k} = {v}\n"));
        }
    }
    s
}
