//! The tiles step: load the hash tiles a verification reads (exactly those
//! of [`crate::plan::hash_tiles`]) and tie every one of them to the signed
//! root, so that every proof computed afterwards reads authenticated
//! hashes, and a wrong tile is named here rather than surfacing later as a
//! failed proof.
//!
//! The root rebuilt from the tiles must be the signed root: that uses every
//! hash of the partial right-edge tiles. Every full tile must hash to its
//! entry in the tile above (its parent, which the plan always includes);
//! the chain ends in a right-edge tile, so each full tile is tied to the
//! root too.

use super::facts::{Facts, TileFacts};
use super::{CheckId, Verification};
use crate::plan::{hash_tiles, with_manifest_entry};
use crate::tiles::fetch_tile;
use crate::{Error, Result, Source};
use tallyboard_core::checkpoint::Checkpoint;
use tallyboard_core::error::Coded;
use tallyboard_core::hash::node_hash;
use tallyboard_core::merkle::{stored_hash_index, tree_hash, HashReader};
use tallyboard_core::tile::{TileHashReader, TileId, TILE_HEIGHT, TILE_WIDTH};

/// The code of tiles that rebuild another root than the signed one.
pub const ROOT_MISMATCH: &str = "tile.root-mismatch";

/// The code of a full tile that does not hash to its entry in the tile above.
pub const PARENT_MISMATCH: &str = "tile.parent-mismatch";

/// Loads the tiles needed to rebuild the root of `cp` and to prove entry 0
/// and each of `indexes`, checks them, and records `tiles-root`. Returns
/// the reader the later steps prove inclusion with, or `None` (the check
/// failed) .
pub fn tiles_root(
    v: &mut Verification,
    src: &dyn Source,
    cp: &Checkpoint,
    indexes: &[u64],
) -> Result<Option<TileHashReader>> {
    let size = cp.size;
    let planned = hash_tiles(size, &with_manifest_entry(indexes));
    let mut facts = TileFacts {
        size,
        tiles: planned.len(),
        ..TileFacts::default()
    };
    let mut reader = TileHashReader::new(size);
    for want in &planned {
        let (read, body) = match fetch_tile(src, want.level, want.index, size) {
            Ok(tile) => tile,
            Err(Error::Failed(f)) => {
                facts.path = f.path.or(Some(want.path()));
                v.fail(CheckId::TilesRoot, f.code, Facts::Tiles(facts));
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if let Err(e) = reader.add_tile(&read, &body) {
            facts.path = Some(read.path());
            v.fail(CheckId::TilesRoot, e.code().as_str(), Facts::Tiles(facts));
            return Ok(None);
        }
    }
    match tree_hash(size, &reader) {
        Ok(root) if root == cp.root => {}
        Ok(root) => {
            facts.expected = Some(cp.root.to_base64());
            facts.found = Some(root.to_base64());
            v.fail(CheckId::TilesRoot, ROOT_MISMATCH, Facts::Tiles(facts));
            return Ok(None);
        }
        // Only if the plan missed a tile: a bug here, reported as a tile
        // the tree needs and the verification does not have.
        Err(e) => {
            v.fail(CheckId::TilesRoot, e.code().as_str(), Facts::Tiles(facts));
            return Ok(None);
        }
    }
    for tile in planned.iter().filter(|t| t.width == TILE_WIDTH) {
        if let Some((own, parent)) = parent_mismatch(&reader, tile) {
            facts.path = Some(tile.path());
            facts.expected = Some(parent);
            facts.found = Some(own);
            v.fail(CheckId::TilesRoot, PARENT_MISMATCH, Facts::Tiles(facts));
            return Ok(None);
        }
    }
    v.pass(CheckId::TilesRoot, Facts::Tiles(facts));
    Ok(Some(reader))
}

/// The full tile's own root and its parent's hash for it (base64), if they
/// differ or cannot be read. The tile's root is the node above its two
/// halves, both computed from the tile itself; the parent's hash is the
/// stored hash one level up, read from the tile above.
fn parent_mismatch(reader: &TileHashReader, tile: &TileId) -> Option<(String, String)> {
    let level = tile.level.checked_mul(TILE_HEIGHT)?;
    let half = |n: u64| reader.read_hash(stored_hash_index(level + TILE_HEIGHT - 1, n));
    let own = match (half(2 * tile.index), half(2 * tile.index + 1)) {
        (Ok(left), Ok(right)) => Some(node_hash(&left, &right)),
        _ => None,
    };
    let parent = reader
        .read_hash(stored_hash_index(level + TILE_HEIGHT, tile.index))
        .ok();
    match (own, parent) {
        (Some(o), Some(p)) if o == p => None,
        (o, p) => Some((
            o.map(|h| h.to_base64()).unwrap_or_default(),
            p.map(|h| h.to_base64()).unwrap_or_default(),
        )),
    }
}
