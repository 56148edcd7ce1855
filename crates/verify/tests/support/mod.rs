//! What the verifier's tests share: a small synthetic election's log, as
//! an export directory (what `tallyboard export` writes) or as the
//! evidence a browser page fetches (what `verify.js` adds, following the
//! fetch plan, so a tile the plan forgot fails the tests).
#![allow(dead_code)]

use std::path::Path;
use tallyboard_synth::{Config, SyntheticElection, SyntheticLog};
use tallyboard_verify::procedure::manifest::MANIFEST_PATH;
use tallyboard_verify::{plan, Evidence};

/// A `stations`-station presidential election (seed 7).
pub fn election(stations: usize) -> SyntheticElection {
    SyntheticElection::generate(Config {
        seed: 7,
        stations,
        majlis: false,
    })
}

/// The log every test starts from: the manifest commitment, then every
/// station's key registration, then every station's tally. Station `i`'s
/// registration is at `1 + i`, its tally at `1 + n + i`.
pub fn registered_and_reported(e: &SyntheticElection) -> SyntheticLog {
    let n = e.station_count();
    let mut entries = vec![e.commitment_entry()];
    entries.extend((0..n).map(|i| e.registration_entry(i)));
    entries.extend((0..n).map(|i| e.signed_tally(i)));
    SyntheticLog::new(entries)
}

/// Writes `log`'s read path and `e`'s manifest under `root`.
pub fn export(root: &Path, log: &SyntheticLog, e: &SyntheticElection) {
    for (path, bytes) in log.files() {
        write(root, &path, &bytes);
    }
    write(root, MANIFEST_PATH, e.manifest_bytes());
}

/// Writes one file of a read path.
pub fn write(root: &Path, path: &str, bytes: &[u8]) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// What a page fetches to verify `indexes` at `size`: the checkpoint, the
/// manifest, and what the fetch plan names.
pub fn evidence(log: &SyntheticLog, e: &SyntheticElection, size: u64, indexes: &[u64]) -> Evidence {
    let mut ev = Evidence::new();
    assert!(ev.add("checkpoint", log.checkpoint(size)));
    assert!(ev.add("manifest", e.manifest_bytes().to_vec()));
    let p = plan::fetch_plan(size, indexes);
    for path in p.tiles.iter().chain(&p.bundles) {
        assert!(ev.add(path, log.resource(path).unwrap()), "{path}");
    }
    ev
}
