//! Which read-path resources a verification needs: the browser's
//! JavaScript fetches them before calling the procedure (which then reads
//! them through [`crate::Evidence`]), and the procedure's tiles step
//! ([`crate::procedure::tiles`]) loads exactly these tiles, from any
//! source, so that what is fetched and what is checked cannot drift apart.
//!
//! The hash tiles are found by running the very computations the verifier
//! will run ([`tree_hash`] of the checkpoint size and [`prove_inclusion`] of
//! each index) over a reader that records which tile every stored hash comes
//! from instead of returning it: the plan can never miss a tile the
//! verification reads.

use crate::tiles::needed_width;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::convert::Infallible;
use tallyboard_core::merkle::{prove_inclusion, stored_hash_coords, tree_hash, HashReader};
use tallyboard_core::tile::{TileId, TilePath, TILE_HEIGHT, TILE_WIDTH};
use tallyboard_core::Hash;

/// Records the (tile level, tile index) of every stored hash read.
struct Recorder {
    tiles: RefCell<BTreeSet<(u8, u64)>>,
}

impl HashReader for Recorder {
    type Error = Infallible;
    fn read_hash(&self, index: u64) -> Result<Hash, Infallible> {
        let (level, n) = stored_hash_coords(index);
        let tile_level = level / TILE_HEIGHT;
        let first = n << (level % TILE_HEIGHT);
        self.tiles
            .borrow_mut()
            .insert((tile_level, first / u64::from(TILE_WIDTH)));
        Ok(Hash([0; 32]))
    }
}

/// The hash tiles needed to rebuild the root of a tree of `size` and to
/// prove each of `indexes` (those not below `size` are ignored), at the
/// width the tree needs them, plus the parent of every full tile among them
/// (so that each full tile can be authenticated against the level above,
/// up to the partial right-edge tiles that make the root).
pub fn hash_tiles(size: u64, indexes: &[u64]) -> Vec<TileId> {
    let rec = Recorder {
        tiles: RefCell::new(BTreeSet::new()),
    };
    if size > 0 {
        // Errors here are only out-of-range requests: nothing to record.
        let _ = tree_hash(size, &rec);
        for &i in indexes.iter().filter(|&&i| i < size) {
            let _ = prove_inclusion(i, size, &rec);
        }
    }
    let mut tiles = rec.tiles.into_inner();
    // Parents of full tiles (a full tile (L, N) has its root at position
    // N % 256 of tile (L + 1, N / 256), which the tree always holds).
    let mut todo: Vec<(u8, u64)> = tiles.iter().copied().collect();
    while let Some((level, index)) = todo.pop() {
        if needed_width(level, index, size) == TILE_WIDTH && level < 7 {
            let parent = (level + 1, index / u64::from(TILE_WIDTH));
            if tiles.insert(parent) {
                todo.push(parent);
            }
        }
    }
    tiles
        .into_iter()
        .map(|(level, index)| TileId {
            level,
            index,
            width: needed_width(level, index, size),
        })
        .filter(|t| t.width > 0)
        .collect()
}

/// The entry bundles holding `indexes` in a tree of `size`, at the width
/// the tree needs them.
pub fn bundles(size: u64, indexes: &[u64]) -> Vec<TilePath> {
    let set: BTreeSet<u64> = indexes
        .iter()
        .filter(|&&i| i < size)
        .map(|i| i / u64::from(TILE_WIDTH))
        .collect();
    set.into_iter()
        .map(|index| TilePath::Entries {
            index,
            width: needed_width(0, index, size),
        })
        .collect()
}

/// Everything a verification at one size reads, by read-path name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FetchPlan {
    /// Hash tiles (`tile/<L>/<N>[.p/<W>]`).
    pub tiles: Vec<String>,
    /// Entry bundles (`tile/entries/<N>[.p/<W>]`) holding `entries`.
    pub bundles: Vec<String>,
    /// The entries read, by index: a reader with the board's API fetches
    /// each alone (`GET /api/v1/entries/<i>`, about a kilobyte, where its
    /// bundle is up to 256 entries) and falls back to `bundles` on a read
    /// path without it (a static copy). Either way the entry is proven from
    /// the tiles.
    pub entries: Vec<u64>,
}

/// `indexes` with entry 0 added: every verification reads the manifest
/// commitment, which anchors the manifest and so every role key.
pub fn with_manifest_entry(indexes: &[u64]) -> Vec<u64> {
    let mut all = indexes.to_vec();
    all.push(0);
    all.sort_unstable();
    all.dedup();
    all
}

/// The hash tiles and entry bundles a verification at `size` of the
/// entries at `indexes` (and entry 0) reads, each at the width the tree
/// needs: if the log answers 404 for a partial (`.p/W`), fetch the full
/// one instead and keep it under its own path.
pub fn fetch_plan(size: u64, indexes: &[u64]) -> FetchPlan {
    let all = with_manifest_entry(indexes);
    FetchPlan {
        tiles: hash_tiles(size, &all).iter().map(TileId::path).collect(),
        bundles: bundles(size, &all).iter().map(TilePath::to_path).collect(),
        entries: all.into_iter().filter(|&i| i < size).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(size: u64, idx: &[u64]) -> Vec<String> {
        hash_tiles(size, idx).iter().map(TileId::path).collect()
    }

    #[test]
    fn root_tiles_match_the_spec_examples() {
        // spec/tiles.md §1.1: size 256 and 300; the root needs only the
        // right edge of each level.
        // (size 256: the root is the level-1 hash, read from tile/1/000.p/1.)
        assert_eq!(paths(256, &[]), ["tile/1/000.p/1"]);
        assert_eq!(paths(300, &[]), ["tile/0/001.p/44", "tile/1/000.p/1"]);
        // Proving entry 5 adds tile/0/000, authenticated by tile/1/000.p/1.
        assert_eq!(
            paths(300, &[5]),
            ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]
        );
        assert!(paths(0, &[0]).is_empty());
        assert_eq!(paths(1, &[0]), ["tile/0/000.p/1"]);
    }

    #[test]
    fn inclusion_adds_the_tile_of_the_leaf() {
        let p = paths(70_000, &[5]);
        assert!(p.contains(&"tile/0/000".to_string()), "{p:?}");
        assert!(p.contains(&"tile/0/273.p/112".to_string()), "{p:?}");
        assert!(p.contains(&"tile/1/001.p/17".to_string()), "{p:?}");
        assert!(p.contains(&"tile/1/000".to_string()), "{p:?}");
        assert!(p.contains(&"tile/2/000.p/1".to_string()), "{p:?}");
        assert_eq!(p.len(), 5, "{p:?}");
    }

    #[test]
    fn the_plan_always_reads_entry_zero() {
        let p = fetch_plan(300, &[299]);
        assert_eq!(p.bundles, ["tile/entries/000", "tile/entries/001.p/44"]);
        assert_eq!(p.tiles, ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]);
        assert_eq!(p.entries, [0, 299]);
        assert_eq!(fetch_plan(0, &[0]), FetchPlan::default());
    }

    #[test]
    fn bundles_of_indexes() {
        let b: Vec<String> = bundles(300, &[0, 5, 299, 300])
            .iter()
            .map(TilePath::to_path)
            .collect();
        assert_eq!(b, ["tile/entries/000", "tile/entries/001.p/44"]);
    }
}
