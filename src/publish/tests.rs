//! The publisher against real sinks: a directory, and `object_store`'s own
//! in-memory store through [`ObjectStoreSink`] (the crate's implementation,
//! the same code path as S3 above the HTTP client). The S3 wire protocol is
//! tested end to end against a real server by `tests/publish/run.sh`.

use super::*;
use crate::board::Board;
use object_store::memory::InMemory;
use object_store::{Attribute, ObjectStore};
use std::sync::{Arc, Mutex};
use tallyboard_core::checkpoint::{sign_checkpoint, Checkpoint};
use tallyboard_synth::{keys, Config, SyntheticElection};
use tallyboard_verify::{audit, DirSource, LogKey, Report};

const STATIONS: usize = 40;

fn election(seed: u64) -> SyntheticElection {
    election_of(seed, STATIONS)
}

fn election_of(seed: u64, stations: usize) -> SyntheticElection {
    SyntheticElection::generate(Config {
        seed,
        stations,
        majlis: false,
    })
}

/// A board holding the setup entries and the first `tallies` tallies (the
/// tallies appended in batches of 10, so several checkpoints exist).
fn board(dir: &std::path::Path, e: &SyntheticElection, tallies: usize) -> Board {
    let mut b = Board::create(dir, e.manifest_bytes(), keys::role_key("log").unwrap()).unwrap();
    let mut setup = vec![e.commitment_entry()];
    setup.extend((0..e.station_count()).map(|i| e.registration_entry(i)));
    b.append_bytes(&setup).unwrap();
    append_tallies(&mut b, e, 0..tallies);
    b
}

fn append_tallies(b: &mut Board, e: &SyntheticElection, range: std::ops::Range<usize>) {
    let all: Vec<Vec<u8>> = range.map(|i| e.signed_tally(i)).collect();
    for chunk in all.chunks(10) {
        b.append_bytes(chunk).unwrap();
    }
}

/// The synthetic election's stand-in minutes scan (its SHA-256 is what the
/// synthetic tallies name in `minutes-sha256`).
fn minutes_scan(e: &SyntheticElection, i: usize) -> Vec<u8> {
    format!("minutes scan of {} revision 1", e.station_id(i)).into_bytes()
}

fn publish(sink: &dyn Sink, b: &Board) -> Result<PublishStats, PublishError> {
    Publisher::new(sink).publish(&Snapshot::at(b, &b.latest()))
}

/// Records the paths of each `put_all` call and can fail one call (before
/// writing anything), to check ordering and failure behaviour on a real sink.
struct Recording<'a> {
    inner: &'a dyn Sink,
    calls: Mutex<Vec<Vec<String>>>,
    fail_call: Option<usize>,
}

impl<'a> Recording<'a> {
    fn new(inner: &'a dyn Sink, fail_call: Option<usize>) -> Recording<'a> {
        Recording {
            inner,
            calls: Mutex::new(Vec::new()),
            fail_call,
        }
    }

    fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().unwrap().clone()
    }
}

impl Sink for Recording<'_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get(path)
    }
    fn list(&self) -> Result<HashSet<String>> {
        self.inner.list()
    }
    fn put_all(&self, objects: Vec<Object>) -> Result<()> {
        let mut calls = self.calls.lock().unwrap();
        calls.push(objects.iter().map(|o| o.path.clone()).collect());
        if self.fail_call == Some(calls.len() - 1) {
            anyhow::bail!("injected failure");
        }
        drop(calls);
        self.inner.put_all(objects)
    }
}

#[test]
fn directory_publish_is_complete_then_incremental_and_audits() {
    let tmp = tempfile::tempdir().unwrap();
    let e = election(11);
    let mut b = board(&tmp.path().join("data"), &e, 20);
    // Minutes scans for stations 0 and 1 (tallied) and 30 (not yet).
    for i in [0, 1, 30] {
        b.store().put_blob(&minutes_scan(&e, i)).unwrap();
    }
    let out = tmp.path().join("out");
    let sink = DirSink::new(&out).unwrap();

    // Size 61: tile/0/000.p/61, one partial bundle, tile/1 none.
    let s = publish(&sink, &b).unwrap();
    assert_eq!(b.size(), 61);
    assert_eq!((s.tiles_written, s.tiles_skipped), (1, 0));
    assert_eq!((s.bundles_written, s.bundles_skipped), (1, 0));
    // manifest.json + the manifest blob + two scans; 18 scans not held.
    assert_eq!((s.blobs_written, s.blobs_missing), (4, 18));
    assert!(s.checkpoint_written);
    assert_eq!(s.objects_written, 1 + 1 + 4 + 1);
    let manifest_blob = blob_path(&b.manifest().digest());
    let mut expected: HashSet<String> = [
        "checkpoint",
        "tile/0/000.p/61",
        "tile/entries/000.p/61",
        MANIFEST_PATH,
        manifest_blob.as_str(),
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for i in [0, 1] {
        expected.insert(blob_path(&Hash::sha256(&minutes_scan(&e, i))));
    }
    assert_eq!(sink.list().unwrap(), expected);
    assert_eq!(
        std::fs::read(out.join(blob_path(&Hash::sha256(&minutes_scan(&e, 1))))).unwrap(),
        minutes_scan(&e, 1)
    );

    // Nothing new: only the listing and the checkpoint are read; nothing is written.
    let s = publish(&sink, &b).unwrap();
    assert_eq!(s.objects_written, 0, "{s}");
    assert!(!s.checkpoint_written);
    assert_eq!((s.tiles_skipped, s.bundles_skipped), (1, 1));

    // Grow past one full tile: a new run (a new publisher, as the CLI does)
    // writes only the new objects, and the old partials stay.
    append_tallies(&mut b, &e, 20..STATIONS);
    b.store().put_blob(&minutes_scan(&e, 35)).unwrap();
    let more: Vec<Vec<u8>> = (0..STATIONS)
        .map(|i| e.revised_tally(i, &e.signed_tally(i)))
        .collect();
    b.append_bytes(&more).unwrap();
    assert_eq!(b.size(), 121);
    let s = publish(&sink, &b).unwrap();
    assert_eq!((s.tiles_written, s.tiles_skipped), (1, 0), "{s}");
    assert_eq!((s.bundles_written, s.bundles_skipped), (1, 0), "{s}");
    // Scans of stations 30 and 35 (tallied now); the revisions name revision-2
    // scans, which the board does not hold.
    assert_eq!(s.blobs_written, 2, "{s}");
    assert_eq!(s.blobs_skipped, 2, "{s}"); // the manifest, at its two paths
    assert_eq!(s.objects_written, 1 + 1 + 2 + 1, "{s}");
    assert!(out.join("tile/0/000.p/61").is_file(), "old partials stay");
    assert!(out.join("tile/0/000.p/121").is_file());

    // The independent verifier audits the directory.
    let log = LogKey::load(&b.manifest().log_key().to_vkey_string(), None).unwrap();
    let r = audit::run(&DirSource::new(&out), &log).unwrap();
    assert!(r.verified(), "{}", r.human());
    assert_eq!(r.size, 121);
}

#[test]
fn object_store_sink_sets_headers_and_writes_the_checkpoint_last() {
    let tmp = tempfile::tempdir().unwrap();
    // 301 entries: a full level-0 tile and bundle, and partials.
    let e = election_of(12, 150);
    let b = board(&tmp.path().join("data"), &e, 150);
    let size = b.size();
    assert_eq!(size, 301);

    let memory = Arc::new(InMemory::new());
    let store: Arc<dyn ObjectStore> = memory.clone();
    let sink = ObjectStoreSink::new(store, "/elections/1404/", "memory".into(), 4).unwrap();
    let recording = Recording::new(&sink, None);
    let s = publish(&recording, &b).unwrap();
    assert!(s.checkpoint_written);

    // The checkpoint is written alone, in the last call, after the rest.
    let calls = recording.calls();
    assert!(calls.len() >= 2);
    assert_eq!(calls.last().unwrap(), &vec!["checkpoint".to_string()]);
    assert!(calls[..calls.len() - 1]
        .iter()
        .flatten()
        .all(|p| p != "checkpoint"));

    // Keys are under the prefix, with the board's headers.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let attrs = |key: &str| {
        let r = rt
            .block_on(memory.get(&object_store::path::Path::from(format!(
                "elections/1404/{key}"
            ))))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        (
            r.attributes
                .get(&Attribute::ContentType)
                .map(|v| v.to_string()),
            r.attributes
                .get(&Attribute::CacheControl)
                .map(|v| v.to_string()),
        )
    };
    let h = |t: &str, c: &str| (Some(t.to_string()), Some(c.to_string()));
    assert_eq!(
        attrs("checkpoint"),
        h("text/plain; charset=utf-8", "public, max-age=2")
    );
    let immutable = "public, max-age=31536000, immutable";
    assert_eq!(
        attrs("tile/0/000"),
        h("application/octet-stream", immutable)
    );
    assert_eq!(
        attrs("tile/entries/000"),
        h("application/octet-stream", immutable)
    );
    let partial = TilePath::Entries {
        index: 1,
        width: (size - 256) as u16,
    }
    .to_path();
    assert_eq!(
        attrs(&partial),
        h("application/octet-stream", "public, max-age=60")
    );
    assert_eq!(
        attrs("tile/1/000.p/1"),
        h("application/octet-stream", "public, max-age=60")
    );
    assert_eq!(attrs(MANIFEST_PATH), h("application/json", immutable));

    // The listing sees exactly what was written, relative to the prefix.
    let listed = sink.list().unwrap();
    assert!(listed.contains("checkpoint") && listed.contains("tile/0/000"));
    assert_eq!(listed.len() as u64, s.objects_written);
    assert_eq!(sink.get("checkpoint").unwrap().unwrap(), b.latest().bytes);
    assert_eq!(sink.get("nothing/here").unwrap(), None);

    // Second run: nothing to write.
    let s2 = publish(&sink, &b).unwrap();
    assert_eq!(s2.objects_written, 0, "{s2}");
}

#[test]
fn a_failed_write_keeps_the_old_checkpoint_and_the_retry_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let e = election(13);
    let mut b = board(&tmp.path().join("data"), &e, 10);
    let memory: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let sink = ObjectStoreSink::new(memory, "", "memory".into(), 4).unwrap();
    publish(&sink, &b).unwrap();
    let old = sink.get("checkpoint").unwrap().unwrap();

    append_tallies(&mut b, &e, 10..30);
    // The first write of the next pass (the new tile and bundle) fails.
    let failing = Recording::new(&sink, Some(0));
    let mut p = Publisher::new(&failing);
    let err = p.publish(&Snapshot::at(&b, &b.latest())).unwrap_err();
    assert_eq!(err.code, ErrorCode::PublishTargetFailed);
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(
        failing.calls().len(),
        1,
        "no checkpoint write after a failure"
    );
    assert_eq!(sink.get("checkpoint").unwrap().unwrap(), old);

    // The same publisher retries (as `serve --publish` does) and finishes.
    let s = p.publish(&Snapshot::at(&b, &b.latest())).unwrap();
    assert!(s.checkpoint_written);
    assert_eq!(sink.get("checkpoint").unwrap().unwrap(), b.latest().bytes);
}

#[test]
fn refuses_another_log_another_history_and_a_rollback() {
    let tmp = tempfile::tempdir().unwrap();
    let e = election(14);
    let b = board(&tmp.path().join("a"), &e, 30);
    let out = tmp.path().join("out");
    let sink = DirSink::new(&out).unwrap();
    publish(&sink, &b).unwrap();
    let published = std::fs::read(out.join("checkpoint")).unwrap();
    let listing = sink.list().unwrap();

    // The same log key and origin, but a different history: the same
    // election with two tallies in the other order.
    let mut other = Board::create(
        &tmp.path().join("b"),
        e.manifest_bytes(),
        keys::role_key("log").unwrap(),
    )
    .unwrap();
    let mut entries = vec![e.commitment_entry()];
    entries.extend((0..STATIONS).map(|i| e.registration_entry(i)));
    let mut tallies: Vec<Vec<u8>> = (0..30).map(|i| e.signed_tally(i)).collect();
    tallies.swap(3, 4);
    entries.extend(tallies);
    other.append_bytes(&entries).unwrap();
    let err = publish(&sink, &other).unwrap_err();
    assert_eq!(err.code, ErrorCode::PublishOtherHistory, "{err}");

    // A smaller checkpoint of the same history would roll the target back.
    let small = board(&tmp.path().join("c"), &e, 10);
    let err = publish(&sink, &small).unwrap_err();
    assert_eq!(err.code, ErrorCode::PublishTargetAhead, "{err}");
    assert!(
        err.to_string().starts_with("publish.target-ahead: "),
        "{err}"
    );

    // Nothing was written by the refusals.
    assert_eq!(std::fs::read(out.join("checkpoint")).unwrap(), published);
    assert_eq!(sink.list().unwrap(), listing);

    // A checkpoint signed by another key, and one that is not a checkpoint.
    let cp = Checkpoint {
        origin: b.latest().checkpoint.origin.clone(),
        size: 1,
        root: b.latest().checkpoint.root,
        extensions: Vec::new(),
    };
    let foreign = sign_checkpoint(&cp, &keys::role_key("authority").unwrap());
    for bytes in [foreign, b"not a checkpoint\n".to_vec()] {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("checkpoint"), &bytes).unwrap();
        let err = publish(&DirSink::new(t.path()).unwrap(), &b).unwrap_err();
        assert_eq!(err.code, ErrorCode::PublishForeignCheckpoint, "{err}");
        assert_eq!(std::fs::read(t.path().join("checkpoint")).unwrap(), bytes);
    }
}

#[test]
fn leftovers_the_checkpoint_does_not_cover_are_rewritten() {
    // A tile written by a pass that crashed before its checkpoint (or by
    // anyone else) is not trusted: only what a verified checkpoint needed is.
    assert!(trusted("tile/0/000.p/41", 41));
    assert!(trusted("tile/0/000.p/20", 41), "older, narrower partial");
    assert!(!trusted("tile/0/000.p/60", 41));
    assert!(!trusted("tile/0/000", 255));
    assert!(trusted("tile/0/000", 256));
    assert!(trusted("tile/1/000.p/1", 256));
    assert!(!trusted("tile/1/000.p/2", 511));
    assert!(trusted("tile/entries/001.p/3", 259));
    assert!(!trusted("tile/entries/001", 259));
    assert!(!trusted("tile/0/1", 1000), "malformed path");
    assert!(!trusted("checkpoint", 1000));
    assert!(trusted(MANIFEST_PATH, 1));
    let h = Hash::sha256(b"x").to_hex();
    assert!(trusted(&format!("api/v1/blobs/{h}"), 1));
    assert!(!trusted(&format!("api/v1/blobs/{}", h.to_uppercase()), 1));

    let tmp = tempfile::tempdir().unwrap();
    let e = election(15);
    let mut b = board(&tmp.path().join("data"), &e, 0);
    let out = tmp.path().join("out");
    let sink = DirSink::new(&out).unwrap();
    publish(&sink, &b).unwrap();
    append_tallies(&mut b, &e, 0..10);
    // A bogus body at the path the next checkpoint needs.
    std::fs::write(out.join("tile/0/000.p/51"), b"junk").unwrap();
    let s = publish(&sink, &b).unwrap();
    assert_eq!(s.tiles_written, 1, "{s}");
    let log = LogKey::load(&b.manifest().log_key().to_vkey_string(), None).unwrap();
    let r = audit::run(&DirSource::new(&out), &log).unwrap();
    assert!(r.verified(), "{}", r.human());
}

#[test]
fn targets_parse_strictly() {
    assert_eq!(
        "s3://tally-board/elections/1404".parse::<Target>(),
        Ok(Target::S3 {
            bucket: "tally-board".into(),
            prefix: "elections/1404".into()
        })
    );
    assert_eq!(
        "s3://tally-board".parse::<Target>(),
        Ok(Target::S3 {
            bucket: "tally-board".into(),
            prefix: String::new()
        })
    );
    assert_eq!(
        "out/read-path".parse::<Target>(),
        Ok(Target::Dir("out/read-path".into()))
    );
    for bad in [
        "s3://",
        "s3://ab",
        "s3://Upper/x",
        "s3://under_score",
        "gs://bucket/x",
        "https://example.org/x",
        "",
    ] {
        assert!(bad.parse::<Target>().is_err(), "{bad}");
    }
    let memory: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    for bad in ["a//b", "a/../b", "./a"] {
        assert!(
            ObjectStoreSink::new(memory.clone(), bad, "m".into(), 1).is_err(),
            "{bad}"
        );
    }
}
