//! Supervision and announcements end to end, over real HTTP: stations
//! submit, the supervisor approves one tally and annuls one box, the
//! standing totals exclude it, the authority's wrong or unapproved
//! announcements are refused, the right final one is accepted; the
//! independent verifier's audit passes on the served log and flags a
//! forged announcement in a served copy.

#[allow(dead_code)] // shared with tests/server.rs, which uses all of it
#[path = "server/harness.rs"]
mod harness;

use harness::Server;
use std::path::Path;
use std::process::Command;
use tallyboard_core::entry::announcement::{self, Statement};
use tallyboard_core::entry::{AnnouncementStatus, Entry, SignedEntry, WitnessedCheckpoint};
use tallyboard_core::hash;
use tallyboard_synth::PRESIDENT;
use tallyboard_verify::{audit, DirSource, HttpSource, LogKey, Report};

const STATIONS: usize = 12;

/// The `Status` of the board's NIST report.
fn nist_status(s: &Server) -> String {
    let r = s.export_at("/api/v1/exports/nist-err.json", s.size());
    r.json()["Status"].as_str().unwrap_or("").to_owned()
}

/// Every entry below `size`, fetched through the JSON API as a client would.
fn entries(s: &Server, size: u64) -> Vec<(u64, Entry)> {
    (0..size)
        .map(|i| {
            let r = s.get(&format!("/api/v1/entries/{i}"));
            assert_eq!(r.status, 200);
            let note = r.json()["note"].as_str().unwrap().to_owned();
            (i, SignedEntry::parse(note.as_bytes()).unwrap().entry)
        })
        .collect()
}

/// The demo witnesses' cosignatures on the served log's checkpoint of
/// `size`: what an announcement at that size carries.
fn witnessed(s: &Server, size: u64) -> WitnessedCheckpoint {
    let bytes: Vec<Vec<u8>> = (0..size)
        .map(|i| {
            let r = s.get(&format!("/api/v1/entries/{i}"));
            r.json()["note"].as_str().unwrap().as_bytes().to_vec()
        })
        .collect();
    s.e.witnessed_log(&bytes)
}

fn statement(s: &Server, size: u64) -> Statement {
    let es = entries(s, size);
    announcement::expected(
        s.e.manifest(),
        es.iter().map(|(i, e)| (*i, e)),
        PRESIDENT,
        size,
    )
    .unwrap()
}

fn log_key() -> LogKey {
    let k = tallyboard_synth::keys::role_key("log").unwrap();
    LogKey::load(&k.verifier().to_vkey_string(), None).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Rewrites entry `index` of an exported log (all bundles are length-prefixed).
fn replace_entry(out: &Path, index: u64, bytes: &[u8]) {
    let dir = out.join("tile/entries");
    let n = index / 256;
    let name = format!("{n:03}");
    let mut path = dir.join(&name);
    if !path.is_file() {
        // A partial bundle: the largest width present.
        let p = dir.join(format!("{name}.p"));
        let mut widths: Vec<u64> = std::fs::read_dir(&p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
            .collect();
        widths.sort_unstable();
        path = p.join(widths.last().unwrap().to_string());
    }
    let old = std::fs::read(&path).unwrap();
    let mut items = Vec::new();
    let mut off = 0;
    while off < old.len() {
        let len = u16::from_be_bytes([old[off], old[off + 1]]) as usize;
        items.push(old[off + 2..off + 2 + len].to_vec());
        off += 2 + len;
    }
    items[(index % 256) as usize] = bytes.to_vec();
    let mut new = Vec::new();
    for e in items {
        new.extend_from_slice(&(e.len() as u16).to_be_bytes());
        new.extend_from_slice(&e);
    }
    std::fs::write(&path, new).unwrap();
}

#[test]
fn supervisor_and_authority_entries_end_to_end() {
    let mut s = Server::start(STATIONS, &[]);
    s.setup(0..STATIONS);
    let mut tallies = Vec::new();
    for i in 0..STATIONS {
        let bytes = s.e.signed_tally(i);
        let index = s.append(&bytes);
        tallies.push((index, bytes));
    }
    let valid_all: u64 = (0..STATIONS).map(|i| s.e.tally(i).figures.valid).sum();

    // The supervisor approves station 0's tally; a wrong leaf is refused.
    let (i0, t0) = &tallies[0];
    let (i1, t1) = &tallies[1];
    let r = s.submit(&s.e.approval_entry(0, *i0, t1));
    assert_eq!(
        (r.status, r.code()),
        (422, "supervision.leaf-mismatch".into())
    );
    s.append(&s.e.approval_entry(0, *i0, t0));
    // Approving station 1's tally with station 0's name is refused.
    let r = s.submit(&s.e.approval_entry(0, *i1, t1));
    assert_eq!(
        (r.status, r.code()),
        (422, "supervision.not-a-tally".into())
    );
    // The authority cannot sign what the supervisor must.
    let r = s.submit(
        &s.e.sign_as_authority(
            &SignedEntry::parse(&s.e.annulment_entry(1, "x", "y"))
                .unwrap()
                .entry,
        ),
    );
    assert_eq!((r.status, r.code()), (403, "entry.wrong-signer".into()));

    // The supervisor annuls station 1's box; a second annulment is refused,
    // and so is approving the annulled box.
    let annulled_at = s.append(&s.e.annulment_entry(1, "ballot-stuffing", "observers' report"));
    let r = s.submit(&s.e.annulment_entry(1, "ballot-stuffing", "again"));
    assert_eq!(
        (r.status, r.code()),
        (409, "supervision.already-annulled".into())
    );
    // The detail names the annulment already logged (spec/http-api.md §2.1).
    assert_eq!(
        r.json()["detail"]["conflicting_index"].as_u64(),
        Some(annulled_at)
    );
    let r = s.submit(&s.e.approval_entry(1, *i1, t1));
    assert_eq!(
        (r.status, r.code()),
        (409, "supervision.box-annulled".into())
    );

    // The standing totals exclude the annulled box; the counted ones do not.
    let totals = s.get("/api/v1/totals").json();
    let p = &totals["contests"][0];
    assert_eq!(p["contest"], PRESIDENT);
    let v1 = s.e.tally(1).figures.valid;
    assert_eq!(p["counted"]["valid"].as_u64(), Some(valid_all));
    assert_eq!(p["standing"]["valid"].as_u64(), Some(valid_all - v1));
    assert_eq!(p["stations_counted"].as_u64(), Some(STATIONS as u64 - 1));
    assert_eq!(p["stations_annulled"].as_u64(), Some(1));
    assert_eq!(p["stations_reported"].as_u64(), Some(STATIONS as u64));

    // A statement recomputed by this client from the served entries.
    let size = s.size();
    let st = statement(&s, size);
    let seen = witnessed(&s, size);
    assert_eq!(st.figures.valid, valid_all - v1);
    assert_eq!(st.stations_counted, STATIONS as u64 - 1);
    assert_eq!(st.stations_annulled, 1);

    // One figure off: refused with its code, naming the figure.
    let mut wrong = st.clone();
    wrong.votes[0].1 += 1;
    let r = s.submit(&s.e.announcement_entry(&wrong, AnnouncementStatus::Partial, &seen));
    assert_eq!((r.status, r.code()), (422, "announcement.mismatch".into()));
    assert!(r.text().contains("vote "), "{}", r.text());
    // Final without the supervisor's contest approval: refused.
    let r = s.submit(&s.e.announcement_entry(&st, AnnouncementStatus::Final, &seen));
    assert_eq!(
        (r.status, r.code()),
        (409, "announcement.not-approved".into())
    );
    // A contest approval of other figures: refused.
    let r = s.submit(&s.e.contest_approval_entry(&wrong));
    assert_eq!(
        (r.status, r.code()),
        (422, "supervision.results-mismatch".into())
    );
    // The partial announcement, the approval and the final announcement.
    s.append(&s.e.announcement_entry(&st, AnnouncementStatus::Partial, &seen));
    s.append(&s.e.contest_approval_entry(&st));
    // Every station has reported, nothing is announced final yet.
    assert_eq!(nist_status(&s), "unofficial-complete");
    let final_bytes =
        s.e.announcement_entry(&st, AnnouncementStatus::Final, &seen);
    let final_index = s.append(&final_bytes);
    let end = s.size();
    // The final announcement (logged after the size it names) still stands
    // at the latest checkpoint: the report is certified (spec/exports.md §4.1).
    assert_eq!(nist_status(&s), "certified");

    // /api/v1/announcements lists both; the latest final is ours.
    let a = s.get("/api/v1/announcements").json();
    assert_eq!(a["announcements"].as_array().unwrap().len(), 2);
    let f = &a["latest_final"][PRESIDENT];
    assert_eq!(f["index"].as_u64(), Some(final_index));
    assert_eq!(f["final_in_force"], true);
    assert_eq!(f["size"].as_u64(), Some(size));
    assert_eq!(f["status"], "final");
    assert_eq!(f["results_sha256"], st.sha256().to_hex());
    assert_eq!(f["fields"]["valid"].as_u64(), Some(st.figures.valid));
    // Field names as spec/http-api.md §1.4 lists them.
    let fields = f["fields"].as_object().unwrap();
    for name in [
        "election",
        "contest",
        "size",
        "status",
        "stations_counted",
        "stations_expected",
        "stations_annulled",
        "counterfoils",
        "ballots_in_box",
        "votes_taken",
        "void_taken",
        "void_not_taken",
        "valid",
        "votes",
        "outcome",
        "elected",
        "runoff",
        "reserves",
        "lot_needed",
        "replaces",
        "reason",
        "root",
        "cosigned_by",
        "results_sha256",
    ] {
        assert!(fields.contains_key(name), "{name} missing from {f}");
    }
    assert_eq!(fields.len(), 24, "{f}");
    assert_eq!(
        fields["votes"][0]["candidate"].as_u64(),
        Some(st.votes[0].0.into())
    );
    assert_eq!(a["latest"][PRESIDENT]["index"].as_u64(), Some(final_index));

    // The results document with the rules' decision.
    let r = s.get(&format!("/api/v1/results/{PRESIDENT}"));
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["format"], "tallyboard/results/v1");
    assert_eq!(doc["checkpoint"]["size"].as_u64(), Some(end));
    let c = &doc["contests"][0];
    assert_eq!(c["id"], PRESIDENT);
    assert_eq!(
        c["regions"][0]["standing"]["valid"].as_u64(),
        Some(st.figures.valid)
    );
    assert_eq!(c["regions"][0]["stations_annulled"].as_u64(), Some(1));
    assert!(c["decision"].is_object(), "{c}");
    assert_eq!(s.get("/api/v1/results/mayor").status, 404);
    let with = s
        .get(&format!("/api/v1/results/{PRESIDENT}?stations=true"))
        .json();
    assert!(with["contests"][0]["regions"].as_array().unwrap().len() > STATIONS);
    assert_eq!(
        s.get(&format!("/api/v1/results/{PRESIDENT}?stations=yes"))
            .status,
        400
    );

    // The exports.
    let csv = s.export_at("/api/v1/exports/results.csv", end);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.text().lines().count() > 2);
    let json = s.export_at("/api/v1/exports/results.json", end);
    assert_eq!(json.json()["checkpoint"]["size"].as_u64(), Some(end));
    let nist = s.export_at("/api/v1/exports/nist-err.json", end);
    assert_eq!(nist.json()["@type"], "ElectionResults.ElectionReport");

    // The independent verifier, over HTTP: everything checks, including
    // the two announcements.
    let r = audit::run(&HttpSource::new(&s.url), &log_key()).unwrap();
    assert!(r.verified(), "{}", r.human());
    assert_eq!(r.size, end);
    assert_eq!(r.decisions.approvals, 1);
    assert_eq!(r.decisions.annulments, 1);
    assert_eq!(r.decisions.contest_approvals, 1);
    assert_eq!(r.decisions.announcements, 2);
    assert_eq!(r.announcements.len(), 2);
    assert!(r
        .announcements
        .iter()
        .all(|a| a.valid && a.differences.is_empty()));
    let nation = r.results.as_ref().expect("results").contests[0]
        .top()
        .expect("nation")
        .clone();
    assert_eq!(nation.standing.valid, valid_all - v1);
    assert_eq!(nation.stations_annulled, 1);

    // Final is final (spec/announcements.md §6): a revision of a box in the
    // contest is refused while the final stands, and the report stays
    // certified.
    let (_, t2) = &tallies[2];
    let revision = s.e.revised_tally(2, t2);
    let r = s.submit(&revision);
    assert_eq!((r.status, r.code()), (409, "contest.final".into()));
    assert!(r.text().contains(&final_index.to_string()), "{}", r.text());
    assert_eq!(nist_status(&s), "certified");
    // Only a final in force can be reopened.
    let r = s.submit(&s.e.reopening_entry(PRESIDENT, hash::leaf_hash(b"no such final"), "x"));
    assert_eq!((r.status, r.code()), (409, "reopening.not-final".into()));
    // The supervisor reopens the contest; the revision is then logged and
    // nothing is certified until a corrected final is announced.
    let final_leaf = hash::leaf_hash(&final_bytes);
    s.append(&s.e.reopening_entry(
        PRESIDENT,
        final_leaf,
        "the county board ordered a recount of station 2",
    ));
    s.append(&revision);
    assert_eq!(nist_status(&s), "unofficial-complete");
    let a = s.get("/api/v1/announcements").json();
    assert_eq!(a["latest_final"][PRESIDENT]["final_in_force"], false);
    let size2 = s.size();
    let st2 = statement(&s, size2);
    let seen2 = witnessed(&s, size2);
    s.append(&s.e.contest_approval_entry(&st2));
    // A final that does not name the reopened one is refused.
    let r = s.submit(&s.e.announcement_entry(&st2, AnnouncementStatus::Final, &seen2));
    assert_eq!(
        (r.status, r.code()),
        (409, "announcement.replaces-mismatch".into())
    );
    let corrected =
        s.append(&s.e.corrected_final_entry(&st2, &seen2, final_leaf, "station 2 recounted"));
    assert_eq!(nist_status(&s), "certified");
    let a = s.get("/api/v1/announcements").json();
    let f = &a["latest_final"][PRESIDENT];
    assert_eq!(f["index"].as_u64(), Some(corrected));
    assert_eq!(f["final_in_force"], true);
    assert_eq!(f["fields"]["replaces"], final_leaf.to_hex());
    // The audit replays the reopening and the corrected final.
    let r = audit::run(&HttpSource::new(&s.url), &log_key()).unwrap();
    assert!(r.verified(), "{}", r.human());
    assert_eq!(r.decisions.reopenings, 1);
    assert_eq!(r.decisions.announcements, 3);

    // A served copy (the static export) with the final announcement
    // replaced by a forged one, signed by the authority, claiming more
    // valid ballots: the audit names the entry and the figures.
    s.terminate();
    let out = s.dir.path().join("export");
    let key = s.dir.path().join("log.key");
    let status = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args(["export", "--data"])
        .arg(s.dir.path().join("data"))
        .arg("--log-key")
        .arg(&key)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let honest = audit::run(&DirSource::new(&out), &log_key()).unwrap();
    assert!(honest.verified(), "{}", honest.human());
    let forged_dir = s.dir.path().join("forged");
    copy_dir(&out, &forged_dir);
    let mut forged = st.clone();
    forged.figures.valid += 1000;
    forged.votes[0].1 += 1000;
    replace_entry(
        &forged_dir,
        final_index,
        &s.e.announcement_entry(&forged, AnnouncementStatus::Final, &seen),
    );
    let r = audit::run(&DirSource::new(&forged_dir), &log_key()).unwrap();
    assert!(!r.verified());
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "announcement.mismatch")
        .unwrap_or_else(|| panic!("{}", r.human()));
    assert_eq!(f.entry, Some(final_index));
    let check = r
        .announcements
        .iter()
        .find(|a| a.index == final_index)
        .unwrap();
    assert!(!check.valid);
    let valid = check
        .differences
        .iter()
        .find(|d| d.figure == "valid")
        .unwrap();
    assert_eq!(valid.announced, (st.figures.valid + 1000).to_string());
    assert_eq!(valid.expected, st.figures.valid.to_string());
    assert!(r.human().contains(&format!(
        "valid: announced {}, recomputed {}",
        st.figures.valid + 1000,
        st.figures.valid
    )));
    // The replaced bytes also break the tree, and the audit says so.
    assert!(r.findings.iter().any(|f| f.code == "audit.root-mismatch"));
}
