//! Fetching and checking the read path: the signed checkpoint, hash tiles
//! (through a lazily filled [`TileFetcher`]) and entry bundles.

use crate::{Error, Finding, LogKey, Result, Source};
use std::cell::RefCell;
use tallyboard_core::checkpoint::{open_checkpoint, Checkpoint};
use tallyboard_core::error::Coded;
use tallyboard_core::merkle::HashReader;
use tallyboard_core::note::VerifiedNote;
use tallyboard_core::tile::{
    decode_entry_bundle, TileHashReader, TileId, TilePath, TileReaderError, TILE_WIDTH,
};
use tallyboard_core::Hash;

/// A checkpoint whose log signature verified.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The signed note, byte for byte as served.
    pub bytes: Vec<u8>,
    /// Signature lines present other than the log's (cosignatures), not
    /// verified: see [`check_witness_policy`].
    pub other_signatures: Vec<String>,
}

/// Opens signed checkpoint bytes with the log key: signature (Ed25519,
/// `verify_strict`), checkpoint syntax and origin.
pub fn open_signed(bytes: &[u8], log: &LogKey, what: &str) -> Result<SignedCheckpoint> {
    let (checkpoint, verified) =
        open_checkpoint(bytes, &log.origin, &log.verifiers()).map_err(|e| {
            Error::Failed(
                Finding::new(e.code().as_str(), format!("{what}: {e}")).at_path("checkpoint"),
            )
        })?;
    let other_signatures = other_signatures(&verified);
    let cp = SignedCheckpoint {
        checkpoint,
        bytes: bytes.to_vec(),
        other_signatures,
    };
    check_witness_policy(&cp)?;
    Ok(cp)
}

fn other_signatures(v: &VerifiedNote) -> Vec<String> {
    v.note
        .signatures
        .iter()
        .enumerate()
        .filter(|(i, _)| !v.verified.contains(i))
        .map(|(_, s)| format!("{}+{:08x}", s.name, s.key_id))
        .collect()
}

/// The hook for witness cosignatures (issue 4: a C2SP tlog-policy file, k-of-n
/// groups, a quorum). Until the policy lands, no quorum is required and none
/// is claimed: reports say "witness quorum: not checked".
pub fn check_witness_policy(_cp: &SignedCheckpoint) -> Result<()> {
    Ok(())
}

/// Fetches `checkpoint` from the source and opens it.
pub fn fetch_checkpoint(src: &dyn Source, log: &LogKey) -> Result<SignedCheckpoint> {
    let bytes = src
        .fetch("checkpoint")?
        .ok_or_else(|| Error::CouldNotRun(format!("{} serves no checkpoint", src.describe())))?;
    open_signed(&bytes, log, "checkpoint")
}

/// The width a tree of `size` needs of tile (`level`, `index`).
pub fn needed_width(level: u8, index: u64, size: u64) -> u16 {
    let available = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
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
