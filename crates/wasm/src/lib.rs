//! tallyboard-wasm: the browser's "Verify here", a thin wasm-bindgen
//! binding of the verification procedure of `tallyboard-verify`
//! (`tallyboard_verify::procedure`, spec/browser-verification.md), which
//! is compiled into it without its I/O (`default-features = false`).
//!
//! Each export parses its JavaScript arguments, calls the procedure and
//! returns its structured result as JSON: every check with a stable id, a
//! status (`pass`, `fail`, `info`, `skip`), a code when it fails and its
//! data, and the verdict. There is no check and no sentence here: the
//! page's JavaScript (`src/site/static/verify.js`) fetches, in this order,
//!
//! 1. the log key (from the page, or `/api/v1/log`) and `/checkpoint`;
//!    [`verify_checkpoint`] opens it and gives the size;
//! 2. `/api/v1/stations/<id>` for the indexes of the station's key entries
//!    (untrusted: each is proven);
//! 3. the tiles and bundles [`fetch_plan`] names for that size and those
//!    indexes, and `/api/v1/manifest`, each added to an [`Evidence`];
//!
//! then calls [`verify_station_entry`] (station page) or [`verify_log`]
//! (checkpoint page), and writes the texts for the result.
//!
//! Numbers cross the boundary as JavaScript numbers (`f64`): indexes and
//! sizes must be integers in `0 ..= 2^53 − 1`. A witness policy (C2SP
//! tlog-policy text, or `manifest` for the election's own, committed by
//! entry 0) may be passed to every verification; without one the
//! cosignatures are reported, not required.

use serde::Serialize;
use tallyboard_core::error::Coded;
use tallyboard_core::policy::Policy;
use tallyboard_verify::procedure::screen::Shown;
use tallyboard_verify::procedure::{self, checkpoint, StationPage, Trust, Verification};
use tallyboard_verify::{plan, Error, LogKey};
use wasm_bindgen::prelude::*;

/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn to_u64(x: f64) -> Option<u64> {
    ((0.0..=MAX_SAFE).contains(&x) && x.fract() == 0.0).then_some(x as u64)
}

fn to_u64s(xs: &[f64]) -> Vec<u64> {
    xs.iter().filter_map(|&x| to_u64(x)).collect()
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| r#"{"verified":false,"error":"verify.json"}"#.into())
}

/// A verification that could not run: the page shows it as an error, not
/// as a failed check.
#[derive(Serialize)]
struct NotRun<'a> {
    verified: bool,
    /// A stable code.
    error: &'a str,
    /// The line of a malformed policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    /// The library's diagnostic, for the page's error line.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The `policy` argument that stands for the election's own witness
/// policy, the manifest's `witness_policy` (committed by entry 0): the
/// checkpoint must meet its quorum.
pub const COMMITTED_POLICY: &str = "manifest";

/// The policy text, parsed; `Err` holds the JSON to return.
fn parse_policy(text: Option<String>) -> Result<Option<Policy>, String> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Policy::parse(t.as_bytes()).map(Some).map_err(|e| {
            to_json(&NotRun {
                verified: false,
                error: e.code().as_str(),
                line: Some(e.line),
                reason: None,
            })
        }),
    }
}

/// Runs `run` with the trust the arguments describe: a log key that does
/// not parse is a failed `log-key` check (with `plan`'s other checks
/// skipped), a malformed policy or a missing checkpoint an error.
fn with_trust(
    log_vkey: &str,
    origin: &str,
    key_source: Option<&str>,
    policy: Option<String>,
    plan: Verification,
    run: impl FnOnce(&Trust<'_>) -> Result<Verification, Error>,
) -> String {
    // `manifest`: the election's own witness policy, committed by entry 0.
    let committed_policy = policy.as_deref() == Some(COMMITTED_POLICY);
    let policy = match parse_policy(policy.filter(|p| p != COMMITTED_POLICY)) {
        Ok(p) => p,
        Err(json) => return json,
    };
    let log = match LogKey::parse(log_vkey, Some(origin)) {
        Ok(log) => log,
        Err(code) => {
            return to_json(&checkpoint::key_refused(
                plan,
                code,
                key_source.unwrap_or("page"),
            ))
        }
    };
    let trust = Trust {
        log: &log,
        policy: policy.as_ref(),
        key_source,
        committed_policy,
    };
    match run(&trust) {
        Ok(v) => to_json(&v),
        Err(e) => to_json(&NotRun {
            verified: false,
            error: "verify.could-not-run",
            line: None,
            reason: Some(e.to_string()),
        }),
    }
}

/// Opens a signed checkpoint with the log key (`origin`: "" for the key
/// name) and reports its cosignatures (with `policy`, checks its quorum).
/// The JSON has `size` and `root` when it verifies. `key_source` (where
/// the page got the key) adds the `log-key` check.
#[wasm_bindgen]
pub fn verify_checkpoint(
    checkpoint_text: &str,
    log_vkey: &str,
    origin: &str,
    key_source: Option<String>,
    policy: Option<String>,
) -> String {
    let plan = Verification::for_checkpoint(key_source.is_some());
    with_trust(
        log_vkey,
        origin,
        key_source.as_deref(),
        policy,
        plan,
        |trust| {
            Ok(procedure::verify_checkpoint(
                checkpoint_text.as_bytes(),
                trust,
            ))
        },
    )
}

/// The hash tile paths needed to rebuild the root of a tree of `size` and
/// to prove entry `index` in it (`index` < 0: the root only).
#[wasm_bindgen]
pub fn tiles_needed(index: f64, size: f64) -> Vec<String> {
    let Some(size) = to_u64(size) else {
        return vec![];
    };
    let idx: Vec<u64> = to_u64(index).into_iter().collect();
    plan::hash_tiles(size, &idx)
        .iter()
        .map(|t| t.path())
        .collect()
}

/// Everything to fetch for a verification at `size` of the entries at
/// `indexes` (entry 0 is always included): `{"tiles": [path...],
/// "bundles": [path...]}`, each at the width the tree needs. If the board
/// answers 404 for a partial (`.p/W`), fetch the full one and add it under
/// its own path.
#[wasm_bindgen]
pub fn fetch_plan(size: f64, indexes: &[f64]) -> String {
    let plan = match to_u64(size) {
        Some(size) => plan::fetch_plan(size, &to_u64s(indexes)),
        None => plan::FetchPlan::default(),
    };
    to_json(&plan)
}

/// The fetched resources of one verification.
#[wasm_bindgen]
#[derive(Default)]
pub struct Evidence(tallyboard_verify::Evidence);

#[wasm_bindgen]
impl Evidence {
    /// Empty evidence.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Evidence {
        Evidence::default()
    }

    /// Adds a fetched resource under its read-path name: `checkpoint`,
    /// `manifest`, `tile/...` or `tile/entries/...`. False if the name is
    /// none of these.
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> bool {
        self.0.add(path, bytes.to_vec())
    }
}

/// Verifies a station's entry `index` against the checkpoint in
/// `evidence`: the log's checks, the station's key entries at
/// `key_indexes` (those before `index`), and the entry itself (inclusion
/// from the tiles, the signature its kind requires, a tally's arithmetic).
/// `key_source` is where the page got the log key (`page`, `board`).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn verify_station_entry(
    evidence: &Evidence,
    log_vkey: &str,
    key_source: &str,
    origin: &str,
    station: &str,
    index: f64,
    key_indexes: &[f64],
    policy: Option<String>,
) -> String {
    let key_indexes = to_u64s(key_indexes);
    let page = StationPage {
        station,
        // Not an index: no entry is there, and the inclusion check says so.
        index: to_u64(index).unwrap_or(u64::MAX),
        key_indexes: &key_indexes,
        shown: &[],
    };
    with_trust(
        log_vkey,
        origin,
        Some(key_source),
        policy,
        Verification::for_station(true),
        |trust| procedure::verify_station(&evidence.0, trust, &page),
    )
}

/// Verifies what a station page shows (spec/browser-verification.md
/// §3.1): `screen` is the JSON array of the tallies it shows, `[{index,
/// standing?, table, cells: [{field, text}], minutes?}]` (the first is
/// the entry the report's `entry` holds). Each is verified as in
/// [`verify_station_entry`], with the standing revision the board lists,
/// then `revision`, `screen` and `minutes` compare the page with them. A
/// `screen` that does not parse is `{verified: false, error:
/// "screen.malformed"}`.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn verify_station_screen(
    evidence: &Evidence,
    log_vkey: &str,
    key_source: &str,
    origin: &str,
    station: &str,
    screen: &str,
    key_indexes: &[f64],
    policy: Option<String>,
) -> String {
    let shown: Vec<Shown> = match serde_json::from_str(screen) {
        Ok(s) => s,
        Err(e) => return malformed_screen(e.to_string()),
    };
    let Some(first) = shown.first() else {
        return malformed_screen("no tally shown".into());
    };
    let key_indexes = to_u64s(key_indexes);
    let page = StationPage {
        station,
        index: first.index,
        key_indexes: &key_indexes,
        shown: &shown,
    };
    with_trust(
        log_vkey,
        origin,
        Some(key_source),
        policy,
        Verification::for_screen(true),
        |trust| procedure::verify_station(&evidence.0, trust, &page),
    )
}

fn malformed_screen(reason: String) -> String {
    to_json(&NotRun {
        verified: false,
        error: "screen.malformed",
        line: None,
        reason: Some(reason),
    })
}

/// Verifies the log as of the checkpoint in `evidence` (checkpoint page):
/// log signature, the tiles against the signed root, entry 0 and the
/// manifest, the witnesses.
#[wasm_bindgen]
pub fn verify_log(
    evidence: &Evidence,
    log_vkey: &str,
    key_source: &str,
    origin: &str,
    policy: Option<String>,
) -> String {
    with_trust(
        log_vkey,
        origin,
        Some(key_source),
        policy,
        Verification::for_log(true),
        |trust| procedure::verify_log(&evidence.0, trust),
    )
}

#[cfg(test)]
mod tests;
