//! Fetching the read path's tiles: hash tiles (one at a time, or through a
//! lazily filled [`TileFetcher`]) and entry bundles, each at the width a
//! tree size needs, with the full-tile fallback tlog-tiles allows. Nothing
//! fetched here is trusted: the procedure ([`crate::procedure`]) checks it
//! against a verified checkpoint.

use crate::{Error, Finding, Result, Source};
use std::cell::RefCell;
use std::collections::{btree_map, BTreeMap};
use tallyboard_core::error::Coded;
use tallyboard_core::merkle::HashReader;
use tallyboard_core::tile::{
    decode_entry_bundle, TileHashReader, TileId, TilePath, TileReaderError, TILE_HEIGHT, TILE_WIDTH,
};
use tallyboard_core::Hash;

// Opening the checkpoint is the procedure's first step; these names stay
// here for the callers that fetch through this module (audit, mirror).
pub use crate::procedure::checkpoint::{fetch_checkpoint, open_signed, SignedCheckpoint};

/// The width a tree of `size` needs of tile (`level`, `index`): 256 for a
/// full tile, less for the partial right-edge tile, 0 if outside the tree.
pub fn needed_width(level: u8, index: u64, size: u64) -> u16 {
    let available = size
        .checked_shr(u32::from(TILE_HEIGHT) * u32::from(level))
        .unwrap_or(0);
    let start = index.saturating_mul(u64::from(TILE_WIDTH));
    available.saturating_sub(start).min(u64::from(TILE_WIDTH)) as u16
}

/// Fetches a tile or entry bundle of the given width; if a partial one is
/// missing, falls back to the full one (tlog-tiles allows logs to delete
/// partials once the full tile exists). Returns the path actually read.
fn fetch_with_fallback(src: &dyn Source, want: TilePath) -> Result<Option<(String, Vec<u8>)>> {
    let path = want.to_path();
    if let Some(b) = src.fetch(&path)? {
        return Ok(Some((path, b)));
    }
    let full = match want {
        TilePath::Hashes(t) if t.width != TILE_WIDTH => TilePath::Hashes(TileId {
            width: TILE_WIDTH,
            ..t
        }),
        TilePath::Entries { index, width } if width != TILE_WIDTH => TilePath::Entries {
            index,
            width: TILE_WIDTH,
        },
        _ => return Ok(None),
    };
    let path = full.to_path();
    Ok(src.fetch(&path)?.map(|b| (path, b)))
}

/// Fetches the hash tile a tree of `size` needs at (`level`, `index`),
/// returning the path read and the body (with the full-tile fallback).
pub fn fetch_tile(src: &dyn Source, level: u8, index: u64, size: u64) -> Result<(TileId, Vec<u8>)> {
    let width = needed_width(level, index, size);
    let want = TileId {
        level,
        index,
        width,
    };
    match fetch_with_fallback(src, TilePath::Hashes(want))? {
        Some((path, body)) => {
            let id = match tallyboard_core::tile::parse_tile_path(&path) {
                Ok(TilePath::Hashes(id)) => id,
                _ => want,
            };
            Ok((id, body))
        }
        None => Err(Error::Failed(
            Finding::new(
                "source.missing",
                format!(
                    "the log does not serve {}, which its checkpoint of size {size} requires",
                    want.path()
                ),
            )
            .at_path(want.path()),
        )),
    }
}

/// A [`HashReader`] over the tiles of one tree size, fetching each tile the
/// first time a hash in it is needed. Tiles are untrusted: every root or
/// proof computed through it must be checked against a verified checkpoint.
pub struct TileFetcher<'a> {
    src: &'a dyn Source,
    reader: RefCell<TileHashReader>,
    fetched: RefCell<Vec<String>>,
}

impl<'a> TileFetcher<'a> {
    /// A fetcher for the tree of `size` entries.
    pub fn new(src: &'a dyn Source, size: u64) -> TileFetcher<'a> {
        TileFetcher {
            src,
            reader: RefCell::new(TileHashReader::new(size)),
            fetched: RefCell::new(Vec::new()),
        }
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.reader.borrow().size()
    }

    /// The paths fetched so far.
    pub fn fetched(&self) -> Vec<String> {
        self.fetched.borrow().clone()
    }

    fn load(&self, level: u8, index: u64) -> Result<()> {
        let size = self.size();
        let (id, body) = fetch_tile(self.src, level, index, size)?;
        self.reader
            .borrow_mut()
            .add_tile(&id, &body)
            .map_err(|e| Finding::new(e.code().as_str(), e.to_string()).at_path(id.path()))?;
        self.fetched.borrow_mut().push(id.path());
        Ok(())
    }
}

impl HashReader for TileFetcher<'_> {
    type Error = Error;

    fn read_hash(&self, index: u64) -> Result<Hash> {
        let mut loaded = false;
        loop {
            let r = self.reader.borrow().read_hash(index);
            match r {
                Ok(h) => return Ok(h),
                Err(TileReaderError::MissingTile { level, index: n }) if !loaded => {
                    self.load(level, n)?;
                    loaded = true;
                }
                Err(e) => {
                    return Err(Error::CouldNotRun(format!(
                        "reading stored hash {index} from tiles: {e}"
                    )))
                }
            }
        }
    }
}

/// Turns a Merkle computation error over a [`TileFetcher`] into an [`Error`].
pub fn merkle_err(e: tallyboard_core::merkle::MerkleError<Error>) -> Error {
    match e {
        tallyboard_core::merkle::MerkleError::Read(e) => e,
        other => Error::CouldNotRun(other.to_string()),
    }
}

/// Number of entry bundles of a tree of `size`.
pub fn bundle_count(size: u64) -> u64 {
    size.div_ceil(u64::from(TILE_WIDTH))
}

/// Fetches entry bundle `n` of a tree of `size` and returns its entries
/// (exactly as many as the tree has in that bundle), with the path read.
pub fn fetch_bundle(src: &dyn Source, n: u64, size: u64) -> Result<(String, Vec<Vec<u8>>)> {
    let width = needed_width(0, n, size);
    let want = TilePath::Entries { index: n, width };
    let Some((path, body)) = fetch_with_fallback(src, want)? else {
        return Err(Error::Failed(
            Finding::new(
                "source.missing",
                format!(
                    "the log does not serve {}, which its checkpoint of size {size} requires",
                    want.to_path()
                ),
            )
            .at_path(want.to_path())
            .at_entry(n * u64::from(TILE_WIDTH)),
        ));
    };
    let entries = decode_entry_bundle(&body).map_err(|e| {
        Finding::new(e.code().as_str(), format!("{path}: {e}"))
            .at_path(path.clone())
            .at_entry(n * u64::from(TILE_WIDTH))
    })?;
    let exact = path == want.to_path();
    let enough = if exact {
        entries.len() == usize::from(width)
    } else {
        entries.len() >= usize::from(width)
    };
    if !enough {
        return Err(Error::Failed(
            Finding::new(
                "tile.malformed",
                format!(
                    "{path} holds {} entries; the checkpoint of size {size} needs {width}",
                    entries.len()
                ),
            )
            .at_path(path)
            .at_entry(n * u64::from(TILE_WIDTH)),
        ));
    }
    let entries = entries
        .into_iter()
        .take(usize::from(width))
        .map(<[u8]>::to_vec)
        .collect();
    Ok((path, entries))
}

/// An entry as the read path served it, by index: its bytes, or why they
/// could not be read (the bundle is missing or malformed). Untrusted until
/// its inclusion is proven.
#[derive(Clone, Debug)]
pub struct ServedEntry {
    /// The entry's index in the log.
    pub index: u64,
    /// The bytes, or the finding that names the bundle at fault.
    pub bytes: Result<Vec<u8>, Finding>,
}

/// Reads the entries at `indexes` of a tree of `size`: each from the
/// source's single entries ([`Source::entry`]) when it holds it, else from
/// its bundle, each bundle fetched once. An index at or beyond `size` is
/// served as missing (`proof.out-of-range`). Only a transport failure is
/// an error.
pub fn read_entries(src: &dyn Source, size: u64, indexes: &[u64]) -> Result<Vec<ServedEntry>> {
    let width = u64::from(TILE_WIDTH);
    let mut bundles: BTreeMap<u64, Result<Vec<Vec<u8>>, Finding>> = BTreeMap::new();
    let mut out = Vec::with_capacity(indexes.len());
    for &index in indexes {
        if index >= size {
            out.push(ServedEntry {
                index,
                bytes: Err(Finding::new(
                    "proof.out-of-range",
                    format!("entry {index} is not below the tree size {size}"),
                )
                .at_entry(index)),
            });
            continue;
        }
        if let Some(bytes) = src.entry(index)? {
            out.push(ServedEntry {
                index,
                bytes: Ok(bytes),
            });
            continue;
        }
        let read = match bundles.entry(index / width) {
            btree_map::Entry::Occupied(o) => o.into_mut(),
            btree_map::Entry::Vacant(slot) => {
                slot.insert(match fetch_bundle(src, index / width, size) {
                    Ok((_, entries)) => Ok(entries),
                    Err(Error::Failed(f)) => Err(f),
                    Err(e) => return Err(e),
                })
            }
        };
        // fetch_bundle returns exactly the entries the tree has there.
        let bytes = match read {
            Ok(entries) => entries
                .get((index % width) as usize)
                .cloned()
                .ok_or_else(|| Finding::new("tile.malformed", "short bundle").at_entry(index)),
            Err(f) => Err(f.clone()),
        };
        out.push(ServedEntry { index, bytes });
    }
    Ok(out)
}
