//! Stored hashes read a tile at a time: the first read of a hash in a tile
//! reads the whole tile (one `pread`) and computes every complete subtree
//! inside it (at most 255 node hashes), and later reads are map look-ups.
//! The writer builds a whole batch's receipts through one cache (the proofs
//! of entries near the right edge share most of their nodes); a proof or
//! root served on its own uses one too.

use super::{Store, StoreError, StoreResult};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tallyboard_core::hash::node_hash;
use tallyboard_core::merkle::{stored_hash_coords, HashReader};
use tallyboard_core::tile::{TileId, TILE_HEIGHT, TILE_WIDTH};
use tallyboard_core::Hash;

/// The complete subtrees of one tile: `levels[s]` holds the nodes `s`
/// levels above the tile's base, left to right.
struct TileNodes {
    levels: Vec<Vec<Hash>>,
}

impl TileNodes {
    fn from_tile(body: &[u8]) -> TileNodes {
        let base: Vec<Hash> = body
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().unwrap_or([0; 32])))
            .collect();
        let mut levels = vec![base];
        for _ in 1..TILE_HEIGHT {
            let below = levels.last().map(Vec::as_slice).unwrap_or(&[]);
            let next: Vec<Hash> = below
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        TileNodes { levels }
    }
}

/// A [`HashReader`] over a store, caching the tiles it reads.
pub struct TreeCache<'a> {
    store: &'a Store,
    /// Entries of the tree read: only hashes of this tree are read.
    size: u64,
    tiles: RefCell<HashMap<(u8, u64), Rc<TileNodes>>>,
}

impl<'a> TreeCache<'a> {
    /// A cache over the tree of the first `size` entries of `store`.
    pub fn new(store: &'a Store, size: u64) -> TreeCache<'a> {
        TreeCache {
            store,
            size,
            tiles: RefCell::new(HashMap::new()),
        }
    }

    fn tile(&self, level: u8, index: u64) -> StoreResult<Rc<TileNodes>> {
        if let Some(t) = self.tiles.borrow().get(&(level, index)) {
            return Ok(t.clone());
        }
        let count = self
            .size
            .checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
            .unwrap_or(0);
        let start = index.saturating_mul(u64::from(TILE_WIDTH));
        let width = count.saturating_sub(start).min(u64::from(TILE_WIDTH));
        if width == 0 {
            return Err(StoreError::storage(format!(
                "tile {level}/{index} is beyond the tree of size {}",
                self.size
            )));
        }
        let body = self.store.tile(&TileId {
            level,
            index,
            width: width as u16,
        })?;
        let t = Rc::new(TileNodes::from_tile(&body));
        self.tiles.borrow_mut().insert((level, index), t.clone());
        Ok(t)
    }
}

impl HashReader for TreeCache<'_> {
    type Error = StoreError;
    fn read_hash(&self, index: u64) -> StoreResult<Hash> {
        let (level, k) = stored_hash_coords(index);
        let tl = level / TILE_HEIGHT;
        let s = u32::from(level % TILE_HEIGHT);
        let per_tile = u64::from(TILE_WIDTH) >> s;
        let t = self.tile(tl, k / per_tile)?;
        t.levels
            .get(s as usize)
            .and_then(|l| l.get((k % per_tile) as usize))
            .copied()
            .ok_or_else(|| {
                StoreError::storage(format!(
                    "stored hash {index} is not in the tree of size {}",
                    self.size
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Board;
    use tallyboard_core::merkle;
    use tallyboard_synth::{keys, Config, SyntheticElection};

    #[test]
    fn proofs_through_the_cache_are_the_stores() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = SyntheticElection::generate(Config {
            seed: 5,
            stations: 300,
            majlis: false,
        });
        let mut b = Board::create(
            dir.path(),
            e.manifest_bytes(),
            keys::role_key("log").expect("key"),
        )
        .expect("create");
        let mut setup = vec![e.commitment_entry()];
        setup.extend((0..300).map(|i| e.registration_entry(i)));
        b.append_bytes(&setup).expect("setup");
        b.append_bytes(&(0..300).map(|i| e.signed_tally(i)).collect::<Vec<_>>())
            .expect("tallies");
        let store = b.store();
        for size in [1u64, 255, 256, 257, 511, 600, 601] {
            let cache = TreeCache::new(store, size);
            assert_eq!(
                merkle::tree_hash(size, &cache).expect("root"),
                merkle::tree_hash(size, store).expect("root")
            );
            for i in (0..size).step_by(37) {
                assert_eq!(
                    merkle::prove_inclusion(i, size, &cache).expect("proof"),
                    merkle::prove_inclusion(i, size, store).expect("proof")
                );
            }
        }
    }
}
