//! Host tests of the binding: arguments in, the procedure's JSON out, as
//! `verify.js` reads it. The checks themselves are tested where they live
//! (`crates/verify/tests/procedure.rs`).

use crate::{
    fetch_plan, tiles_needed, verify_checkpoint, verify_log, verify_station_entry,
    verify_station_screen, Evidence,
};
use serde_json::Value;
use tallyboard_synth::{keys, witness_vkey, Config, SyntheticElection, SyntheticLog};

const STATIONS: usize = 10;

struct Fixture {
    e: SyntheticElection,
    log: SyntheticLog,
}

/// Station `i`'s registration and tally indexes.
fn reg(i: usize) -> u64 {
    1 + i as u64
}
fn tally(i: usize) -> u64 {
    1 + STATIONS as u64 + i as u64
}

impl Fixture {
    fn new() -> Fixture {
        let e = SyntheticElection::generate(Config {
            seed: 3,
            stations: STATIONS,
            majlis: false,
        });
        let mut entries = vec![e.commitment_entry()];
        entries.extend((0..STATIONS).map(|i| e.registration_entry(i)));
        entries.extend((0..STATIONS).map(|i| e.signed_tally(i)));
        Fixture {
            e,
            log: SyntheticLog::new(entries),
        }
    }

    /// The binding's fetch plan for `indexes`, and evidence holding the
    /// checkpoint and the manifest (what every verification fetches).
    fn planned(&self, indexes: &[u64]) -> (Value, Evidence) {
        let size = self.log.size();
        let plan: Value = serde_json::from_str(&fetch_plan(
            size as f64,
            &indexes.iter().map(|&i| i as f64).collect::<Vec<_>>(),
        ))
        .unwrap();
        let mut ev = Evidence::new();
        assert!(ev.add("checkpoint", &self.log.checkpoint(size)));
        assert!(ev.add("manifest", self.e.manifest_bytes()));
        (plan, ev)
    }

    /// What verify.js adds, following the binding's own fetch plan.
    fn evidence(&self, indexes: &[u64]) -> Evidence {
        let (plan, mut ev) = self.planned(indexes);
        for key in ["tiles", "bundles"] {
            for p in plan[key].as_array().unwrap() {
                let p = p.as_str().unwrap();
                assert!(ev.add(p, &self.log.resource(p).unwrap()), "{p}");
            }
        }
        ev
    }

    /// What verify.js adds on a board: the tiles, and each planned entry
    /// alone as `GET /api/v1/entries/<i>` answers it, instead of bundles.
    fn evidence_from_entries(&self, indexes: &[u64], edit: impl Fn(u64, &mut String)) -> Evidence {
        let (plan, mut ev) = self.planned(indexes);
        for p in plan["tiles"].as_array().unwrap() {
            let p = p.as_str().unwrap();
            assert!(ev.add(p, &self.log.resource(p).unwrap()), "{p}");
        }
        for i in plan["entries"].as_array().unwrap() {
            let i = i.as_u64().unwrap();
            let mut note = String::from_utf8(self.log.entries()[i as usize].clone()).unwrap();
            edit(i, &mut note);
            let answer = serde_json::json!({"index": i, "leaf_hash": "00", "note": note});
            let path = format!("api/v1/entries/{i}");
            assert!(ev.add(&path, answer.to_string().as_bytes()), "{path}");
        }
        ev
    }

    fn station(&self, ev: &Evidence, vkey: &str, i: usize, policy: Option<String>) -> Value {
        let json = verify_station_entry(
            ev,
            vkey,
            "page",
            "",
            self.e.station_id(i),
            tally(i) as f64,
            &[reg(i) as f64],
            policy,
        );
        serde_json::from_str(&json).unwrap()
    }
}

fn check<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {r}"))
}

#[test]
fn the_station_report_is_the_json_the_page_reads() {
    let f = Fixture::new();
    let ev = f.evidence(&[tally(3), reg(3)]);
    let r = f.station(&ev, &f.log.vkey(), 3, None);
    assert_eq!(r["verified"], true, "{r:#}");
    assert_eq!(r["size"], f.log.size());
    let checks = r["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 10);
    for c in checks {
        assert!(
            ["pass", "info"].contains(&c["status"].as_str().unwrap()),
            "{c}"
        );
        assert_eq!(c["ok"], c["status"] == "pass");
        assert!(c["data"].is_object(), "{c}");
        assert!(c.get("code").is_none() && c.get("label").is_none());
    }
    assert_eq!(check(&r, "log-key")["data"]["source"], "page");
    let inc = &check(&r, "entry-inclusion")["data"]["entries"][0];
    assert_eq!(inc["index"], tally(3));
    assert_eq!(inc["size"], f.log.size());
    assert!(inc["proof_hashes"].as_u64().unwrap() > 0);
    let sig = &check(&r, "entry-signature")["data"]["entries"][0];
    assert_eq!(sig["role"], "station");
    assert_eq!(sig["key_index"], reg(3));
    let fig = &check(&r, "arithmetic")["data"]["entries"][0]["fields"];
    assert_eq!(fig["valid"], f.e.tally(3).figures.valid);
    assert_eq!(
        check(&r, "witness-cosignatures")["data"]["cosigned"],
        serde_json::json!([])
    );
    assert_eq!(r["entry"]["station"], f.e.station_id(3));
    assert_eq!(r["entry"]["index"], tally(3));
    assert_eq!(r["entry"]["valid"], f.e.tally(3).figures.valid);
}

#[test]
fn single_entries_verify_like_bundles_and_are_proven_alike() {
    let f = Fixture::new();
    let plan: Value = serde_json::from_str(&fetch_plan(
        f.log.size() as f64,
        &[tally(3) as f64, reg(3) as f64],
    ))
    .unwrap();
    assert_eq!(plan["entries"], serde_json::json!([0, reg(3), tally(3)]));
    let ev = f.evidence_from_entries(&[tally(3), reg(3)], |_, _| {});
    let r = f.station(&ev, &f.log.vkey(), 3, None);
    assert_eq!(r["verified"], true, "{r:#}");
    // A board that changes a figure in the entry it serves alone is caught
    // by the same inclusion proof as a changed bundle.
    let ev = f.evidence_from_entries(&[tally(3), reg(3)], |i, note| {
        if i == tally(3) {
            *note = note.replacen("valid ", "valid 1", 1);
        }
    });
    let r = f.station(&ev, &f.log.vkey(), 3, None);
    assert_eq!(r["verified"], false);
    assert_eq!(
        check(&r, "entry-inclusion")["code"],
        "proof.inclusion-failed"
    );
}

#[test]
fn a_failure_carries_its_code_and_skips_what_depends_on_it() {
    let f = Fixture::new();
    let size = f.log.size();
    let mut ev = f.evidence(&[tally(2), reg(2)]);
    let path = format!("tile/entries/000.p/{size}");
    let mut bundle = f.log.resource(&path).unwrap();
    let last = bundle.len() - 40;
    bundle[last] ^= 1;
    assert!(ev.add(&path, &bundle));
    // Station 9's tally is the last entry: the flipped byte is in it.
    let r = f.station(&ev, &f.log.vkey(), STATIONS - 1, None);
    assert_eq!(r["verified"], false);
    let inc = check(&r, "entry-inclusion");
    assert_eq!(inc["status"], "fail");
    assert_eq!(inc["code"], "proof.inclusion-failed");
    assert_eq!(check(&r, "entry-signature")["status"], "skip");
    assert_eq!(
        check(&r, "entry-signature")["data"]["after"],
        "entry-inclusion"
    );
    assert!(r.get("entry").is_none());
}

#[test]
fn a_log_key_that_does_not_parse_fails_first() {
    let f = Fixture::new();
    let ev = f.evidence(&[tally(1), reg(1)]);
    let r = f.station(&ev, "garbage", 1, None);
    assert_eq!(r["verified"], false);
    assert_eq!(r["checks"][0]["id"], "log-key");
    assert_eq!(r["checks"][0]["status"], "fail");
    assert_eq!(r["checks"][0]["code"], "key.malformed");
    assert!(r["checks"].as_array().unwrap()[1..]
        .iter()
        .all(|c| c["status"] == "skip" && c["data"]["after"] == "log-key"));
    // A witness key is not a log key.
    let w = witness_vkey("witness-guardian").unwrap().to_vkey_string();
    let r = f.station(&ev, &w, 1, None);
    assert_eq!(r["checks"][0]["code"], "key.wrong-type");
}

#[test]
fn a_witness_policy_passes_through() {
    let f = Fixture::new();
    let ev = f.evidence(&[tally(1), reg(1)]);
    let vkey = f.log.vkey();
    let none = format!("log {vkey}\nquorum none\n");
    let r = f.station(&ev, &vkey, 1, Some(none));
    assert_eq!(r["verified"], true, "{r:#}");
    assert_eq!(check(&r, "witness-cosignatures")["status"], "pass");
    let guardian = witness_vkey("witness-guardian").unwrap().to_vkey_string();
    let strict = format!("log {vkey}\nwitness g {guardian}\nquorum g\n");
    let r = f.station(&ev, &vkey, 1, Some(strict.clone()));
    assert_eq!(r["verified"], false);
    let w = check(&r, "witness-cosignatures");
    assert_eq!(w["code"], "policy.quorum-not-met");
    assert_eq!(w["data"]["quorum"], "g");
    assert_eq!(w["data"]["quorum_met"], false);
    // The checkpoint alone, as the page checks it first.
    let cp = String::from_utf8(f.log.checkpoint(f.log.size())).unwrap();
    let r: Value =
        serde_json::from_str(&verify_checkpoint(&cp, &vkey, "", None, Some(strict))).unwrap();
    assert_eq!(r["verified"], false);
    assert_eq!(r["size"], f.log.size());
    // A malformed policy is an error to run, with its code and line.
    let r = f.station(&ev, &vkey, 1, Some("quorum nobody\n".into()));
    assert_eq!(r["error"], "policy.malformed");
    assert_eq!(r["line"], 1);
    // An empty text is no policy.
    let r = f.station(&ev, &vkey, 1, Some(String::new()));
    assert_eq!(check(&r, "witness-cosignatures")["status"], "info");
}

#[test]
fn bindings_round_trip() {
    let f = Fixture::new();
    let size = f.log.size();
    let vkey = f.log.vkey();
    let cp = String::from_utf8(f.log.checkpoint(size)).unwrap();
    let v: Value = serde_json::from_str(&verify_checkpoint(&cp, &vkey, "", None, None)).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["size"], size);
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["checkpoint-signature", "witness-cosignatures"]);
    let v: Value = serde_json::from_str(&verify_checkpoint(
        &cp,
        &vkey,
        "",
        Some("board".into()),
        None,
    ))
    .unwrap();
    assert_eq!(v["checks"][0]["data"]["source"], "board");
    let v: Value =
        serde_json::from_str(&verify_checkpoint(&cp, &vkey, "other/origin", None, None)).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["checks"][0]["code"], "checkpoint.wrong-origin");

    let plan: Value = serde_json::from_str(&fetch_plan(size as f64, &[tally(0) as f64])).unwrap();
    assert_eq!(
        plan["bundles"],
        serde_json::json!([format!("tile/entries/000.p/{size}")])
    );
    assert_eq!(
        plan["tiles"],
        serde_json::json!([format!("tile/0/000.p/{size}")])
    );
    assert_eq!(
        tiles_needed(-1.0, 70_000.0),
        ["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"]
    );
    assert!(tiles_needed(0.5, f64::NAN).is_empty());
    assert_eq!(
        fetch_plan(-1.0, &[]),
        r#"{"tiles":[],"bundles":[],"entries":[]}"#
    );
    let mut ev = Evidence::new();
    assert!(!ev.add("../etc/passwd", b"x"));

    // The checkpoint page.
    let ev = f.evidence(&[]);
    let r: Value = serde_json::from_str(&verify_log(&ev, &vkey, "board", "", None)).unwrap();
    assert_eq!(r["verified"], true, "{r:#}");
    assert_eq!(r["checks"].as_array().unwrap().len(), 5);
    // No checkpoint fetched: the verification could not run.
    let r: Value =
        serde_json::from_str(&verify_log(&Evidence::new(), &vkey, "board", "", None)).unwrap();
    assert_eq!(r["verified"], false);
    assert_eq!(r["error"], "verify.could-not-run");
    // An index that is not one: the entry is not there.
    let ev = f.evidence(&[tally(0), reg(0)]);
    let r: Value = serde_json::from_str(&verify_station_entry(
        &ev,
        &vkey,
        "page",
        "",
        f.e.station_id(0),
        0.5,
        &[reg(0) as f64],
        None,
    ))
    .unwrap();
    assert_eq!(check(&r, "entry-inclusion")["status"], "fail");
    let other = keys::role_key("authority")
        .unwrap()
        .verifier()
        .to_vkey_string();
    let r = f.station(&ev, &other, 0, None);
    assert_eq!(check(&r, "checkpoint-signature")["status"], "fail");
}

#[test]
fn the_screen_is_read_from_json_and_a_changed_cell_is_named() {
    let f = Fixture::new();
    let ev = f.evidence(&[tally(2), reg(2)]);
    let t = f.e.tally(2);
    let (code, votes) = t.votes[0];
    let screen = |text: &str| {
        serde_json::json!([{
            "index": tally(2),
            "table": true,
            "cells": [
                {"field": "valid", "text": t.figures.valid.to_string()},
                {"field": format!("vote/{code}"), "text": text},
            ],
        }])
        .to_string()
    };
    let run = |s: &str| -> Value {
        serde_json::from_str(&verify_station_screen(
            &ev,
            &f.log.vkey(),
            "page",
            "",
            f.e.station_id(2),
            s,
            &[reg(2) as f64],
            None,
        ))
        .unwrap()
    };
    // Only two of the signed vote lines are on this "page": the others
    // are missing, so build the full set for the passing case.
    let mut cells =
        vec![serde_json::json!({"field": "valid", "text": t.figures.valid.to_string()})];
    for &(c, n) in &t.votes {
        cells.push(serde_json::json!({"field": format!("vote/{c}"), "text": n.to_string()}));
    }
    let full = serde_json::json!([{"index": tally(2), "table": true, "cells": cells}]).to_string();
    let r = run(&full);
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(check(&r, "screen")["status"], "pass");
    assert_eq!(
        check(&r, "revision")["data"]["revisions"][0]["state"],
        "standing"
    );

    let r = run(&screen("9999"));
    assert_eq!(r["verified"], false);
    let s = check(&r, "screen");
    assert_eq!(s["code"], "screen.figure-mismatch");
    assert_eq!(
        s["data"]["tables"][0]["mismatches"][0]["field"],
        format!("vote/{code}")
    );
    assert_eq!(s["data"]["tables"][0]["mismatches"][0]["signed"], votes);

    let r: Value = serde_json::from_str(&verify_station_screen(
        &ev,
        &f.log.vkey(),
        "page",
        "",
        f.e.station_id(2),
        "not json",
        &[],
        None,
    ))
    .unwrap();
    assert_eq!(r["error"], "screen.malformed");
    let r: Value = serde_json::from_str(&verify_station_screen(
        &ev,
        &f.log.vkey(),
        "page",
        "",
        f.e.station_id(2),
        "[]",
        &[],
        None,
    ))
    .unwrap();
    assert_eq!(r["error"], "screen.malformed");
}
