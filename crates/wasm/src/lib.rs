//! tallyboard-wasm: the browser's "Verify here", the same checks as
//! `tallyboard-verify` (spec/verification.md §2 and §4), with the same
//! `tallyboard-core` code compiled to WebAssembly.
//!
//! The module does no I/O. The page's JavaScript (`src/site/static/verify.js`)
//! fetches, in this order:
//!
//! 1. the log key (from the page, or `/api/v1/log`) and `/checkpoint`;
//!    [`verify_checkpoint`] opens it and gives the size;
//! 2. `/api/v1/stations/<id>` for the indexes of the station's key entries
//!    (untrusted: each is proven below);
//! 3. the tiles and bundles [`fetch_plan`] names for that size and those
//!    indexes, and `/api/v1/manifest`, each added to an [`Evidence`];
//!
//! then calls [`verify_station_entry`] (station page) or [`verify_log`]
//! (checkpoint page), which return a JSON [`report::Report`]: every check
//! with a stable id, a status (`pass`, `fail`, `info`, `skip`) and Persian
//! and English texts, and the verdict.
//!
//! Numbers cross the boundary as JavaScript numbers (`f64`): indexes and
//! sizes must be integers in `0 ..= 2^53 − 1`.

pub mod plan;
pub mod report;
pub mod verify;

use tallyboard_core::tile::TilePath;
use wasm_bindgen::prelude::*;

/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn to_u64(x: f64) -> Option<u64> {
    ((0.0..=MAX_SAFE).contains(&x) && x.fract() == 0.0).then_some(x as u64)
}

fn to_u64s(xs: &[f64]) -> Vec<u64> {
    xs.iter().filter_map(|&x| to_u64(x)).collect()
}

fn empty_origin(origin: &str) -> Option<&str> {
    (!origin.is_empty()).then_some(origin)
}

/// Opens a signed checkpoint with the log key (`origin`: "" for the key
/// name). Returns a JSON report with `size` and `root` when it verifies.
#[wasm_bindgen]
pub fn verify_checkpoint(checkpoint_text: &str, log_vkey: &str, origin: &str) -> String {
    verify::checkpoint_only(checkpoint_text.as_bytes(), log_vkey, empty_origin(origin)).to_json()
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
/// `indexes` (entry 0, the manifest commitment, is always included):
/// `{"tiles": [path...], "bundles": [path...]}`. Each path is at the width
/// the tree needs; if the board answers 404 for a partial (`.p/W`), fetch
/// the full one and add it under its own path.
#[wasm_bindgen]
pub fn fetch_plan(size: f64, indexes: &[f64]) -> String {
    let Some(size) = to_u64(size) else {
        return r#"{"tiles":[],"bundles":[]}"#.into();
    };
    let mut idx = to_u64s(indexes);
    idx.push(0);
    let tiles: Vec<String> = plan::hash_tiles(size, &idx)
        .iter()
        .map(|t| t.path())
        .collect();
    let bundles: Vec<String> = plan::bundles(size, &idx)
        .iter()
        .map(TilePath::to_path)
        .collect();
    serde_json::json!({"tiles": tiles, "bundles": bundles}).to_string()
}

/// The fetched resources of one verification (see [`verify::Evidence`]).
#[wasm_bindgen]
#[derive(Default)]
pub struct Evidence(verify::Evidence);

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

/// Verifies a station's entry `index` (a tally) against the checkpoint in
/// `evidence`: log signature, witnesses, tiles, manifest, the station's
/// key entries at `key_indexes` (inclusion and authority signature), the
/// entry's inclusion (proof computed from the tiles), its station
/// signature and its arithmetic. `key_source` is `page` or `board` (where
/// the log key came from, for the report). Returns the JSON report.
#[wasm_bindgen]
pub fn verify_station_entry(
    evidence: &Evidence,
    log_vkey: &str,
    key_source: &str,
    origin: &str,
    station: &str,
    index: f64,
    key_indexes: &[f64],
) -> String {
    let req = verify::Request {
        log_vkey,
        key_source,
        origin: empty_origin(origin),
        station: (!station.is_empty()).then_some(station),
        index: Some(to_u64(index).unwrap_or(u64::MAX)),
        key_indexes: to_u64s(key_indexes),
    };
    verify::verify(&evidence.0, &req).to_json()
}

/// Verifies the log as of the checkpoint in `evidence` (checkpoint page):
/// log signature, witnesses, the tiles against the signed root, and entry 0
/// against the manifest.
#[wasm_bindgen]
pub fn verify_log(evidence: &Evidence, log_vkey: &str, key_source: &str, origin: &str) -> String {
    let req = verify::Request {
        log_vkey,
        key_source,
        origin: empty_origin(origin),
        station: None,
        index: None,
        key_indexes: vec![],
    };
    verify::verify(&evidence.0, &req).to_json()
}

#[cfg(test)]
mod tests;
