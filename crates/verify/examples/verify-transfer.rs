//! What "Verify here" fetches for one station of a synthetic election of
//! N stations (spec/site.md §3): the fetch plan's tiles, entries (as the
//! board's API answers them) and bundles (a static copy's fallback), the
//! station's manifest slice (spec/manifest.md §5), the checkpoint.
//! Writes each resource under DIR (to measure compressed sizes with any
//! compressor) and prints `<bytes> <path>` lines.
//!
//!     cargo run --release -p tallyboard-verify --example verify-transfer -- 59000 DIR [--majlis]

use tallyboard_core::entry::json::fields;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::manifest::slice::ManifestTree;
use tallyboard_synth::{Config, SyntheticElection, SyntheticLog};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let stations: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(59_000);
    let dir = std::path::PathBuf::from(
        args.get(2)
            .cloned()
            .unwrap_or_else(|| "verify-transfer".into()),
    );
    let majlis = args.iter().any(|a| a == "--majlis");
    let e = SyntheticElection::generate(Config {
        seed: 1404,
        stations,
        majlis,
    });
    // The log as the demo writes it: entry 0, every registration, every
    // station's tallies (presidential first).
    let mut entries = vec![e.commitment_entry_with_root()];
    entries.extend((0..stations).map(|i| e.registration_entry(i)));
    let mut tally_index = Vec::with_capacity(stations);
    for i in 0..stations {
        tally_index.push(entries.len() as u64);
        entries.extend(e.signed_tallies(i));
    }
    let log = SyntheticLog::new(entries);
    let size = log.size();
    // A station in the middle of the log.
    let i = stations / 2;
    let reg = 1 + i as u64;
    let mut wanted = vec![reg, tally_index[i]];
    if majlis {
        wanted.push(tally_index[i] + 1);
    }
    let plan = tallyboard_verify::plan::fetch_plan(size, &wanted);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut total = 0;
    let mut put = |name: &str, bytes: &[u8]| {
        let file = dir.join(name.replace('/', "_"));
        std::fs::write(file, bytes).expect("write");
        println!("{} {name}", bytes.len());
        total += bytes.len();
    };
    put("checkpoint", &log.checkpoint(size));
    for p in &plan.tiles {
        let bytes = log.resource(p).expect("planned resource");
        put(p, &bytes);
    }
    // Each entry alone, in the members of the board's `EntryJson`
    // (spec/http-api.md §2); the bundles below are the static copy's
    // fallback, which the browser fetches only when the API is absent.
    for &i in &plan.entries {
        let bytes = &log.entries()[i as usize];
        let signed = SignedEntry::parse(bytes).expect("entry");
        let answer = serde_json::json!({
            "index": i,
            "leaf_hash": signed.leaf_hash().to_hex(),
            "type": signed.entry.kind().type_line(),
            "note": String::from_utf8_lossy(bytes),
            "signers": signed.note.signatures.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "fields": fields(&signed.entry),
        });
        put(
            &format!("api/v1/entries/{i}"),
            &serde_json::to_vec(&answer).expect("json"),
        );
    }
    for p in &plan.bundles {
        let bytes = log.resource(p).expect("planned resource");
        put(p, &bytes);
    }
    let m = e.manifest().manifest();
    let tree = ManifestTree::new(m);
    let slice = tree.slice(m, e.station_id(i)).expect("station");
    put(
        &format!("api/v1/manifest/slices/{}", e.station_id(i)),
        &serde_json::to_vec(&slice).expect("json"),
    );
    put("api/v1/manifest", e.manifest_bytes());
    println!("{total} total (the last line, the whole manifest, is what the slice replaces)");
}
