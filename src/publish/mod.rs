//! Publishing the board's read path as static objects (`spec/publishing.md`):
//! `tallyboard publish`, `tallyboard export` and `serve --publish`.
//!
//! The read path is static by design (C2SP tlog-tiles), so a directory
//! behind any web server, or a bucket behind a CDN, can serve it to every
//! reader while the board serves only stations. What is published:
//!
//! | path | content |
//! |---|---|
//! | `checkpoint` | the signed checkpoint (with cosignatures, when witness-gated) |
//! | `tile/<L>/<N>[.p/<W>]` | hash tiles for the checkpoint's size |
//! | `tile/entries/<N>[.p/<W>]` | entry bundles |
//! | `api/v1/manifest.json` | the manifest (entry 0 commits to its SHA-256) |
//! | `api/v1/blobs/<sha256>` | every blob the log commits to: the manifest and the minutes scans tallies name |
//! | `api/v1/checkpoints/<size>` | the stored checkpoint (with its cosignatures) of every size an announcement names |
//!
//! **Incremental.** One listing of the target at the start; afterwards the
//! publisher remembers what it wrote. An object already in the target is
//! skipped only if the target's checkpoint, verified as this log's and as a
//! prefix of this history, already needed it; everything else is (re)written.
//! A second publish therefore writes only the new tiles, bundles and blobs
//! and the checkpoint.
//!
//! **Checkpoint last.** Every object a checkpoint needs is written, and the
//! writes have succeeded, before the checkpoint is replaced, so a reader
//! never sees a checkpoint whose tiles are missing; a failed publish leaves
//! the old checkpoint, which is still complete.
//!
//! **Refusals.** A target holding another log's checkpoint, another
//! history's, or a larger checkpoint than the one being published is never
//! written to (`publish.*` codes, `spec/errors.md`).

pub mod object_sink;
pub mod sink;

#[cfg(test)]
mod tests;

use crate::board::Board;
use crate::store::Store;
use anyhow::Result;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use tallyboard_core::checkpoint;
use tallyboard_core::entry::{Entry, EntryKind, SignedEntry};
use tallyboard_core::merkle;
use tallyboard_core::note::Verifiers;
use tallyboard_core::tile::{self, TilePath, TILE_WIDTH};
use tallyboard_core::{ErrorCode, Hash};

pub use object_sink::{ObjectStoreSink, S3Options};
pub use sink::{DirSink, Object, Sink};

/// Where the manifest is published (the path `tallyboard-verify audit` reads).
pub const MANIFEST_PATH: &str = "api/v1/manifest.json";

/// `Content-Type` and `Cache-Control` of each kind of object: the headers
/// the board itself serves them with (`spec/http-api.md`), so that a bucket
/// behind a CDN behaves like the board. tlog-tiles: the checkpoint is
/// mutable and cached for seconds at most; tiles and bundles are immutable.
pub mod headers {
    /// `text/plain; charset=utf-8`, as tlog-tiles requires.
    pub const CHECKPOINT_TYPE: &str = "text/plain; charset=utf-8";
    /// Tiles, bundles and blobs.
    pub const BINARY_TYPE: &str = "application/octet-stream";
    /// The manifest is canonical JSON.
    pub const JSON_TYPE: &str = "application/json";
    /// The checkpoint changes with every batch.
    pub const CHECKPOINT_CACHE: &str = "public, max-age=2";
    /// A full tile or bundle, the manifest and blobs never change.
    pub const IMMUTABLE_CACHE: &str = "public, max-age=31536000, immutable";
    /// A partial tile's content never changes, but tlog-tiles lets a log stop
    /// serving it once the full tile exists, so caches keep it briefly.
    pub const PARTIAL_TILE_CACHE: &str = "public, max-age=60";
}

/// The published path of the signed checkpoint of one size (the board's
/// `GET /api/v1/checkpoints/<size>`).
pub fn checkpoint_path(size: u64) -> String {
    format!("api/v1/checkpoints/{size}")
}

/// The published path of a blob.
pub fn blob_path(h: &Hash) -> String {
    format!("api/v1/blobs/{}", h.to_hex())
}

/// A refusal or failure of a publish, with its stable code.
#[derive(Debug)]
pub struct PublishError {
    /// The stable code (`spec/errors.md`).
    pub code: ErrorCode,
    /// What happened, for people.
    pub message: String,
}

impl PublishError {
    fn new(code: ErrorCode, message: impl Into<String>) -> PublishError {
        PublishError {
            code,
            message: message.into(),
        }
    }

    fn target(sink: &dyn Sink, e: anyhow::Error) -> PublishError {
        PublishError::new(
            ErrorCode::PublishTargetFailed,
            format!("{}: {e:#}", sink.describe()),
        )
    }
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for PublishError {}

/// A publish target as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A local directory.
    Dir(PathBuf),
    /// `s3://BUCKET[/PREFIX]`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix (may be empty).
        prefix: String,
    },
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Target, String> {
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            // S3 bucket names: 3-63 of lowercase letters, digits, '.', '-'.
            let ok = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
                });
            if !ok {
                return Err(format!(
                    "{s}: not an S3 bucket name (3 to 63 of a-z, 0-9, '.', '-')"
                ));
            }
            return Ok(Target::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        if s.is_empty() || s.contains("://") {
            return Err(format!(
                "{s}: give a directory or s3://BUCKET[/PREFIX] (other schemes are not supported)"
            ));
        }
        Ok(Target::Dir(PathBuf::from(s)))
    }
}

/// Opens the sink for a target.
pub fn open_sink(target: &Target, s3: &S3Options) -> Result<Box<dyn Sink + Send>> {
    Ok(match target {
        Target::Dir(dir) => Box::new(DirSink::new(dir)?),
        Target::S3 { bucket, prefix } => Box::new(ObjectStoreSink::s3(bucket, prefix, s3)?),
    })
}

/// What to publish: a signed checkpoint and the store holding its tree.
pub struct Snapshot<'a> {
    /// The board's store (it may hold more entries than the checkpoint).
    pub store: &'a Store,
    /// The log's origin.
    pub origin: &'a str,
    /// The log's verifier keys.
    pub verifiers: &'a Verifiers,
    /// SHA-256 of the manifest blob.
    pub manifest: Hash,
    /// The signed checkpoint note to publish.
    pub checkpoint: &'a [u8],
    /// Its tree size.
    pub size: u64,
}

impl<'a> Snapshot<'a> {
    /// The board's read path at `checkpoint`, one of its stored signed
    /// checkpoints (with the cosignatures stored with it).
    pub fn at(board: &'a Board, checkpoint: &'a crate::board::SignedCheckpoint) -> Snapshot<'a> {
        Snapshot {
            store: board.store(),
            origin: &board.manifest().manifest().log.origin,
            verifiers: board.verifiers(),
            manifest: board.manifest().digest(),
            checkpoint: &checkpoint.bytes,
            size: checkpoint.checkpoint.size,
        }
    }
}

/// What a publish wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// The published checkpoint's size.
    pub size: u64,
    /// Hash tiles written.
    pub tiles_written: u64,
    /// Hash tiles already in the target.
    pub tiles_skipped: u64,
    /// Entry bundles written.
    pub bundles_written: u64,
    /// Entry bundles already in the target.
    pub bundles_skipped: u64,
    /// Blobs (and the manifest) written.
    pub blobs_written: u64,
    /// Blobs already in the target.
    pub blobs_skipped: u64,
    /// Blobs the log commits to that the board does not hold (yet).
    pub blobs_missing: u64,
    /// Whether the checkpoint was replaced.
    pub checkpoint_written: bool,
    /// Every object written, the checkpoint included.
    pub objects_written: u64,
    /// Their bytes.
    pub bytes_written: u64,
}

impl std::fmt::Display for PublishStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tree size {}: {} tiles written ({} already present), {} entry bundles written ({} already present), {} blobs written ({} already present",
            self.size,
            self.tiles_written,
            self.tiles_skipped,
            self.bundles_written,
            self.bundles_skipped,
            self.blobs_written,
            self.blobs_skipped
        )?;
        if self.blobs_missing > 0 {
            write!(f, ", {} not held by the board", self.blobs_missing)?;
        }
        write!(
            f,
            "), checkpoint {}; {} objects, {} bytes written",
            if self.checkpoint_written {
                "written"
            } else {
                "unchanged"
            },
            self.objects_written,
            self.bytes_written
        )
    }
}

/// Most objects, and bytes, held in memory before they are written: large
/// enough to keep the uploads concurrent, small enough that a national
/// publish (and 64 MiB blobs) stays within a few hundred MiB.
const BATCH_OBJECTS: usize = 512;
const BATCH_BYTES: usize = 64 << 20;

/// Publishes one log into one sink, pass after pass.
pub struct Publisher<'s> {
    sink: &'s dyn Sink,
    opened: bool,
    /// Paths known to hold the right content.
    present: HashSet<String>,
    /// The checkpoint in the target (bytes, size).
    published: Option<(Vec<u8>, u64)>,
    /// Entries below this index were scanned for blob references.
    scanned: u64,
    /// Blobs the log commits to that are not in the target yet.
    wanted: BTreeSet<Hash>,
    /// The sizes announcements in entries below `scanned` bind their
    /// results to: their checkpoints are published too, so that an auditor
    /// can check each rests on a checkpoint the witnesses cosigned.
    announced: BTreeSet<u64>,
}

/// Whether the tile (`level`, `index`, `width`) is part of the tree of `size`.
fn covered(level: u8, index: u64, width: u16, size: u64) -> bool {
    let available = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
    index
        .checked_mul(u64::from(TILE_WIDTH))
        .and_then(|s| s.checked_add(u64::from(width)))
        .is_some_and(|end| end <= available)
}

/// Whether an object found in a target whose verified checkpoint has `size`
/// is trusted to hold the right content: tiles and bundles that checkpoint
/// needs (or older, narrower partials), the manifest and blobs.
fn trusted(path: &str, size: u64) -> bool {
    if path == MANIFEST_PATH {
        return true;
    }
    if let Some(n) = path.strip_prefix("api/v1/checkpoints/") {
        return n
            .parse::<u64>()
            .is_ok_and(|n| n <= size && checkpoint_path(n) == path);
    }
    if let Some(hex) = path.strip_prefix("api/v1/blobs/") {
        return Hash::from_hex(hex).is_some_and(|h| h.to_hex() == hex);
    }
    match tile::parse_tile_path(path) {
        Ok(TilePath::Hashes(t)) => covered(t.level, t.index, t.width, size),
        Ok(TilePath::Entries { index, width }) => covered(0, index, width, size),
        Err(_) => false,
    }
}

/// Reads the checkpoint in `sink`, if any, and refuses a target that holds
/// another log's checkpoint, another history's, or a larger one than
/// `snap`'s. Returns the checkpoint's bytes and size.
pub fn check_target(
    sink: &dyn Sink,
    snap: &Snapshot,
) -> Result<Option<(Vec<u8>, u64)>, PublishError> {
    let Some(bytes) = sink
        .get("checkpoint")
        .map_err(|e| PublishError::target(sink, e))?
    else {
        return Ok(None);
    };
    let (cp, _) =
        checkpoint::open_checkpoint(&bytes, snap.origin, snap.verifiers).map_err(|e| {
            PublishError::new(
                ErrorCode::PublishForeignCheckpoint,
                format!(
                    "{} holds a checkpoint that is not this log's ({e}); refusing to mix logs",
                    sink.describe()
                ),
            )
        })?;
    if cp.size > snap.size {
        return Err(ahead(sink, cp.size, snap.size));
    }
    let root = merkle::tree_hash(cp.size, snap.store).map_err(storage)?;
    if root != cp.root {
        return Err(PublishError::new(
            ErrorCode::PublishOtherHistory,
            format!(
                "{} holds a checkpoint of size {} with root {}, but this log's tree of that size has root {root}: another history; refusing to mix them",
                sink.describe(),
                cp.size,
                cp.root
            ),
        ));
    }
    Ok(Some((bytes, cp.size)))
}

fn ahead(sink: &dyn Sink, theirs: u64, ours: u64) -> PublishError {
    PublishError::new(
        ErrorCode::PublishTargetAhead,
        format!(
            "{} holds a checkpoint of size {theirs}, larger than the {ours} being published; refusing to roll it back",
            sink.describe()
        ),
    )
}

/// The objects of one pass, written in batches.
struct Batch<'p> {
    sink: &'p dyn Sink,
    objects: Vec<Object>,
    bytes: usize,
    written: Vec<String>,
    stats: PublishStats,
}

impl Batch<'_> {
    fn add(&mut self, o: Object) -> Result<(), PublishError> {
        self.bytes += o.bytes.len();
        self.objects.push(o);
        if self.objects.len() >= BATCH_OBJECTS || self.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), PublishError> {
        if self.objects.is_empty() {
            return Ok(());
        }
        let objects = std::mem::take(&mut self.objects);
        let paths: Vec<String> = objects.iter().map(|o| o.path.clone()).collect();
        let n = objects.len() as u64;
        self.sink
            .put_all(objects)
            .map_err(|e| PublishError::target(self.sink, e))?;
        self.stats.objects_written += n;
        self.stats.bytes_written += self.bytes as u64;
        self.bytes = 0;
        self.written.extend(paths);
        Ok(())
    }
}

/// Store failures while reading what to publish.
fn storage(e: impl std::fmt::Display) -> PublishError {
    PublishError::new(
        ErrorCode::Storage,
        format!("reading the board's store: {e}"),
    )
}

impl<'s> Publisher<'s> {
    /// A publisher into `sink`; nothing is read until the first pass or [`Publisher::open`].
    pub fn new(sink: &'s dyn Sink) -> Publisher<'s> {
        Publisher {
            sink,
            opened: false,
            present: HashSet::new(),
            published: None,
            scanned: 0,
            wanted: BTreeSet::new(),
            announced: BTreeSet::new(),
        }
    }

    /// Reads the target's checkpoint ([`check_target`]) and listing.
    pub fn open(&mut self, snap: &Snapshot) -> Result<(), PublishError> {
        let sink = self.sink;
        let existing = check_target(sink, snap)?;
        self.present.clear();
        self.published = None;
        if let Some((bytes, size)) = existing {
            let listed = sink.list().map_err(|e| PublishError::target(sink, e))?;
            self.present = listed.into_iter().filter(|p| trusted(p, size)).collect();
            self.published = Some((bytes, size));
        }
        self.opened = true;
        Ok(())
    }

    /// Publishes `snap`: every object its checkpoint needs that the target
    /// lacks, then the checkpoint.
    pub fn publish(&mut self, snap: &Snapshot) -> Result<PublishStats, PublishError> {
        if !self.opened {
            self.open(snap)?;
        }
        if let Some((_, size)) = &self.published {
            if *size > snap.size {
                return Err(ahead(self.sink, *size, snap.size));
            }
        }
        self.scan_blob_references(snap)?;
        let mut batch = Batch {
            sink: self.sink,
            objects: Vec::new(),
            bytes: 0,
            written: Vec::new(),
            stats: PublishStats {
                size: snap.size,
                ..Default::default()
            },
        };
        let result = self
            .write_objects(snap, &mut batch)
            .and_then(|()| batch.flush());
        // Whatever was written is in place even if a later batch failed.
        self.present.extend(batch.written.drain(..));
        result?;
        self.wanted
            .retain(|h| !self.present.contains(&blob_path(h)));
        let mut stats = batch.stats;

        // Last, and only once everything it needs is in place.
        let unchanged = matches!(&self.published, Some((b, _)) if b.as_slice() == snap.checkpoint);
        if !unchanged {
            self.sink
                .put_all(vec![Object {
                    path: "checkpoint".into(),
                    bytes: snap.checkpoint.to_vec(),
                    content_type: headers::CHECKPOINT_TYPE,
                    cache_control: headers::CHECKPOINT_CACHE,
                }])
                .map_err(|e| PublishError::target(self.sink, e))?;
            self.published = Some((snap.checkpoint.to_vec(), snap.size));
            stats.checkpoint_written = true;
            stats.objects_written += 1;
            stats.bytes_written += snap.checkpoint.len() as u64;
        }
        Ok(stats)
    }

    /// Adds the minutes scans that tallies in entries `scanned..size` name,
    /// and the sizes announcements among them name.
    fn scan_blob_references(&mut self, snap: &Snapshot) -> Result<(), PublishError> {
        const FIELD: &[u8] = b"\nminutes-sha256 ";
        let announcement = EntryKind::Announcement.type_line().as_bytes();
        if self.scanned >= snap.size {
            return Ok(());
        }
        let mut chunk = Vec::new();
        let mut next = self.scanned;
        let items = std::iter::from_fn(|| {
            if chunk.is_empty() && next < snap.size {
                let end = (next + 4096).min(snap.size);
                match snap.store.entries(next, end) {
                    Ok(list) => {
                        chunk = list;
                        chunk.reverse();
                        next = end;
                    }
                    Err(e) => return Some(Err(e)),
                }
            }
            chunk.pop().map(Ok)
        });
        for item in items {
            let bytes = item.map_err(storage)?;
            // Most entries name no blob and announce nothing: skip the
            // parse for them.
            let names_blob = bytes.windows(FIELD.len()).any(|w| w == FIELD);
            if !names_blob && !bytes.starts_with(announcement) {
                continue;
            }
            match SignedEntry::parse(&bytes).map(|s| s.entry) {
                Ok(Entry::Tally(t)) => {
                    if let Some(h) = t.minutes_sha256 {
                        if !self.present.contains(&blob_path(&h)) {
                            self.wanted.insert(h);
                        }
                    }
                }
                Ok(Entry::Announcement(a)) => {
                    self.announced.insert(a.statement.size);
                }
                _ => {}
            }
        }
        self.scanned = snap.size;
        Ok(())
    }

    fn write_objects(&self, snap: &Snapshot, batch: &mut Batch) -> Result<(), PublishError> {
        // The manifest, at the verifier's path and as the blob entry 0 names.
        let manifest_blob = blob_path(&snap.manifest);
        if self.present.contains(MANIFEST_PATH) && self.present.contains(&manifest_blob) {
            batch.stats.blobs_skipped += 2;
        } else {
            let bytes = snap
                .store
                .blob(&snap.manifest)
                .map_err(storage)?
                .ok_or_else(|| {
                    storage(format!("the manifest blob {} is missing", snap.manifest))
                })?;
            for (path, content_type) in [
                (MANIFEST_PATH.to_string(), headers::JSON_TYPE),
                (manifest_blob, headers::BINARY_TYPE),
            ] {
                if self.present.contains(&path) {
                    batch.stats.blobs_skipped += 1;
                } else {
                    batch.stats.blobs_written += 1;
                    batch.add(Object {
                        path,
                        bytes: bytes.clone(),
                        content_type,
                        cache_control: headers::IMMUTABLE_CACHE,
                    })?;
                }
            }
        }

        // Minutes scans (content-addressed, immutable).
        for h in &self.wanted {
            let path = blob_path(h);
            if self.present.contains(&path) {
                batch.stats.blobs_skipped += 1;
                continue;
            }
            match snap.store.blob(h).map_err(storage)? {
                Some(bytes) => {
                    batch.stats.blobs_written += 1;
                    batch.add(Object {
                        path,
                        bytes,
                        content_type: headers::BINARY_TYPE,
                        cache_control: headers::IMMUTABLE_CACHE,
                    })?;
                }
                None => batch.stats.blobs_missing += 1,
            }
        }

        // The checkpoints announcements rest on (with the cosignatures
        // stored with them), at the board's `api/v1/checkpoints/<size>`.
        for &size in &self.announced {
            let path = checkpoint_path(size);
            if self.present.contains(&path) {
                continue;
            }
            if let Some(bytes) = snap.store.checkpoint(size).map_err(storage)? {
                batch.add(Object {
                    path,
                    bytes,
                    content_type: headers::CHECKPOINT_TYPE,
                    cache_control: headers::IMMUTABLE_CACHE,
                })?;
            }
        }

        // Hash tiles.
        for t in tile::tiles_for_size_iter(snap.size) {
            let path = t.path();
            if self.present.contains(&path) {
                batch.stats.tiles_skipped += 1;
                continue;
            }
            let bytes = snap
                .store
                .tile(&t)
                .map_err(|e| storage(format!("{path}: {e}")))?;
            batch.stats.tiles_written += 1;
            batch.add(Object {
                path,
                bytes,
                content_type: headers::BINARY_TYPE,
                cache_control: cache_for_width(t.width),
            })?;
        }

        // Entry bundles.
        let width = u64::from(TILE_WIDTH);
        for n in 0..snap.size.div_ceil(width) {
            let w = (snap.size - n * width).min(width) as u16;
            let path = TilePath::Entries { index: n, width: w }.to_path();
            if self.present.contains(&path) {
                batch.stats.bundles_skipped += 1;
                continue;
            }
            let bytes = snap
                .store
                .bundle(n, w)
                .map_err(|e| storage(format!("{path}: {e}")))?;
            batch.stats.bundles_written += 1;
            batch.add(Object {
                path,
                bytes,
                content_type: headers::BINARY_TYPE,
                cache_control: cache_for_width(w),
            })?;
        }
        Ok(())
    }
}

fn cache_for_width(width: u16) -> &'static str {
    if width == TILE_WIDTH {
        headers::IMMUTABLE_CACHE
    } else {
        headers::PARTIAL_TILE_CACHE
    }
}
