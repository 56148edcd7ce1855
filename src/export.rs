//! `tallyboard export`: the board's whole read path as static files, laid
//! out exactly as C2SP tlog-tiles serves it, so any static file server (or,
//! later, object storage through `publish`) can serve the log:
//!
//! | path | content |
//! |---|---|
//! | `checkpoint` | the latest signed checkpoint |
//! | `tile/<L>/<N>[.p/<W>]` | hash tiles for the checkpoint's size |
//! | `tile/entries/<N>[.p/<W>]` | entry bundles (uint16 length-prefixed entries) |
//! | `api/v1/manifest.json` | the manifest blob (its SHA-256 is in entry 0) |
//!
//! **Incremental and reader-safe.** Full tiles and bundles are immutable, so
//! those already present are skipped; partial ones are written (never
//! deleted: tlog-tiles requires them for every size a checkpoint was
//! published for). Every file is written atomically (temporary name, fsync,
//! rename), and `checkpoint` is written last, so a reader never sees a
//! checkpoint whose tiles are missing. An output that already holds a
//! checkpoint is only extended if that checkpoint verifies under the log key
//! and its root is the board's root at that size: an export is never mixed
//! with another log or another history.

use crate::board::Board;
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use tallyboard_core::checkpoint;
use tallyboard_core::merkle;
use tallyboard_core::tile::{self, TilePath, TILE_WIDTH};

/// Where the manifest is published.
pub const MANIFEST_PATH: &str = "api/v1/manifest.json";

/// Where an export is written. A directory now; object storage later.
pub trait Sink {
    /// Whether `path` already exists.
    fn exists(&self, path: &str) -> Result<bool>;
    /// Reads `path`, if it exists.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Writes `path` atomically and durably: a reader sees the old content
    /// or the new, never a part, and the content survives a crash once this
    /// returns.
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()>;
}

/// A local directory.
pub struct DirSink {
    root: PathBuf,
}

impl DirSink {
    /// A sink writing under `root` (created if missing).
    pub fn new(root: &Path) -> Result<DirSink> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        Ok(DirSink {
            root: root.to_path_buf(),
        })
    }

    /// `root/path`, for a relative path of plain names only. The export
    /// makes its paths itself, so this never refuses one today; it keeps a
    /// future caller (a mirror, a publisher fed by a remote log) from
    /// writing outside the output directory (`spec/operations.md`, security).
    fn resolve(&self, path: &str) -> Result<PathBuf> {
        let plain = path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['\\', '\0']));
        if !plain {
            bail!("refusing export path {path:?}: not a relative path of plain names");
        }
        Ok(self.root.join(path))
    }
}

impl Sink for DirSink {
    fn exists(&self, path: &str) -> Result<bool> {
        Ok(self.resolve(path)?.is_file())
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match std::fs::read(self.resolve(path)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {path}")),
        }
    }

    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        let target = self.resolve(path)?;
        let dir = target
            .parent()
            .ok_or_else(|| anyhow!("bad export path {path}"))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("renaming into {}", target.display()))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("fsync {}", dir.display()))?;
        Ok(())
    }
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportStats {
    /// The checkpoint's size.
    pub size: u64,
    /// Tiles written.
    pub tiles_written: u64,
    /// Full tiles already present.
    pub tiles_skipped: u64,
    /// Bundles written.
    pub bundles_written: u64,
    /// Full bundles already present.
    pub bundles_skipped: u64,
}

impl std::fmt::Display for ExportStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exported tree size {}: {} tiles written ({} already present), {} entry bundles written ({} already present)",
            self.size, self.tiles_written, self.tiles_skipped, self.bundles_written, self.bundles_skipped
        )
    }
}

/// Checks that an earlier export in `sink` is of this log and a prefix of
/// this board's history.
fn check_existing(board: &Board, sink: &dyn Sink) -> Result<()> {
    let Some(bytes) = sink.get("checkpoint")? else {
        return Ok(());
    };
    let origin = &board.manifest().manifest().log.origin;
    let (cp, _) = checkpoint::open_checkpoint(&bytes, origin, board.verifiers())
        .map_err(|e| anyhow!("the output already holds a checkpoint that is not this log's ({e}); refusing to mix exports"))?;
    if cp.size > board.size() {
        bail!(
            "the output holds a checkpoint of size {}, larger than the board's {}; refusing to export an older tree over it",
            cp.size,
            board.size()
        );
    }
    let root = merkle::tree_hash(cp.size, board.store()).map_err(|e| anyhow!("{e}"))?;
    if root != cp.root {
        bail!(
            "the output holds a checkpoint of size {} with root {}, but this board's tree of that size has root {}: a different history; refusing to mix exports",
            cp.size,
            cp.root,
            root
        );
    }
    Ok(())
}

/// Exports the board's read path at its latest checkpoint into `sink`.
pub fn export(board: &Board, sink: &dyn Sink) -> Result<ExportStats> {
    check_existing(board, sink)?;
    let latest = board.latest();
    let size = latest.checkpoint.size;
    let mut stats = ExportStats {
        size,
        ..Default::default()
    };

    // The manifest blob (content-addressed; rewritten only if different).
    let digest = board.manifest().digest();
    let blob = board
        .store()
        .blob(&digest)?
        .ok_or_else(|| anyhow!("the manifest blob {digest} is missing from the store"))?;
    if sink.get(MANIFEST_PATH)?.as_deref() != Some(blob.as_slice()) {
        sink.put(MANIFEST_PATH, &blob)?;
    }

    // Hash tiles.
    for t in tile::tiles_for_size_iter(size) {
        let path = t.path();
        if t.is_full() && sink.exists(&path)? {
            stats.tiles_skipped += 1;
            continue;
        }
        let body = tile::read_tile(&t, size, board.store()).map_err(|e| anyhow!("{path}: {e}"))?;
        sink.put(&path, &body)?;
        stats.tiles_written += 1;
    }

    // Entry bundles.
    let width = u64::from(TILE_WIDTH);
    for n in 0..size.div_ceil(width) {
        let w = (size - n * width).min(width) as u16;
        let path = TilePath::Entries { index: n, width: w }.to_path();
        if w == TILE_WIDTH && sink.exists(&path)? {
            stats.bundles_skipped += 1;
            continue;
        }
        let start = n * width;
        let entries = board
            .store()
            .entries(start, start + u64::from(w))
            .map(|r| r.map(|(_, b)| b))
            .collect::<Result<Vec<_>>>()?;
        if entries.len() != usize::from(w) {
            bail!(
                "store inconsistent: bundle {n} has {} entries, expected {w}",
                entries.len()
            );
        }
        let body = tile::encode_entry_bundle(entries.iter().map(Vec::as_slice))
            .map_err(|e| anyhow!("{path}: {e}"))?;
        sink.put(&path, &body)?;
        stats.bundles_written += 1;
    }

    // Last, so that every tile it needs is already in place.
    sink.put("checkpoint", &latest.bytes)?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_sink_stays_inside_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(&dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("outside"), b"canary").unwrap();
        for bad in [
            "../outside",
            "tile/../../outside",
            "/etc/passwd",
            "",
            ".",
            "tile/./0",
            "tile//0",
        ] {
            assert!(sink.put(bad, b"x").is_err(), "put {bad:?}");
            assert!(sink.get(bad).is_err(), "get {bad:?}");
            assert!(sink.exists(bad).is_err(), "exists {bad:?}");
        }
        assert_eq!(
            std::fs::read(dir.path().join("outside")).unwrap(),
            b"canary"
        );
        sink.put("tile/0/000", b"tile").unwrap();
        assert_eq!(sink.get("tile/0/000").unwrap().unwrap(), b"tile");
        assert!(sink.exists(MANIFEST_PATH).is_ok());
    }
}
