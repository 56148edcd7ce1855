//! The right edge of the tree: the roots of the complete subtrees that
//! make up a tree of `size` leaves (one per set bit of `size`), all a
//! writer needs in memory to append leaves and compute the root.

use tallyboard_core::hash::{node_hash, EMPTY_ROOT};
use tallyboard_core::merkle::{stored_hash_index, HashReader, MerkleError};
use tallyboard_core::Hash;

/// The complete subtrees of the right edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `nodes[l]` is the root of the complete subtree of 2^l leaves ending
    /// the tree, when bit `l` of `size` is set.
    nodes: Vec<Option<Hash>>,
}

impl Frontier {
    /// The edge of the empty tree.
    pub fn new() -> Frontier {
        Frontier {
            size: 0,
            nodes: vec![None; 64],
        }
    }

    /// Reads the edge of the tree of `size` leaves from stored hashes.
    pub fn load<R: HashReader + ?Sized>(
        size: u64,
        r: &R,
    ) -> Result<Frontier, MerkleError<R::Error>> {
        let mut nodes = vec![None; 64];
        for (level, slot) in nodes.iter_mut().enumerate() {
            if size >> level & 1 == 1 {
                // The subtree of 2^level leaves just before the smaller ones.
                let k = (size >> level) - 1;
                let at = stored_hash_index(level as u8, k);
                *slot = Some(r.read_hash(at).map_err(MerkleError::Read)?);
            }
        }
        Ok(Frontier { size, nodes })
    }

    /// Appends a leaf; calls `completed(level, index, hash)` for the leaf
    /// (level 0) and for every subtree it completes, lowest level first:
    /// exactly the stored hashes `merkle::stored_hashes` returns.
    pub fn append(&mut self, leaf: Hash, mut completed: impl FnMut(u8, u64, &Hash)) {
        let n = self.size;
        completed(0, n, &leaf);
        let mut carry = leaf;
        let mut level = 0usize;
        while n >> level & 1 == 1 {
            let left = self.nodes[level].take().unwrap_or(EMPTY_ROOT);
            carry = node_hash(&left, &carry);
            level += 1;
            completed(level as u8, n >> level, &carry);
        }
        self.nodes[level] = Some(carry);
        self.size = n + 1;
    }

    /// `MTH` of the tree (RFC 6962 §2.1).
    pub fn root(&self) -> Hash {
        let mut acc: Option<Hash> = None;
        for h in self.nodes.iter().flatten() {
            acc = Some(match acc {
                None => *h,
                Some(right) => node_hash(h, &right),
            });
        }
        acc.unwrap_or(EMPTY_ROOT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_core::hash::leaf_hash;
    use tallyboard_core::merkle::{self, MemoryLog};

    #[test]
    fn matches_the_stored_hashes_and_roots_of_the_core() {
        let mut log = MemoryLog::new();
        let mut f = Frontier::new();
        for i in 0..700u64 {
            let leaf = leaf_hash(&i.to_be_bytes());
            let before = merkle::stored_hash_count(i);
            let mut got = Vec::new();
            f.append(leaf, |level, n, h| {
                got.push((stored_hash_index(level, n), *h));
            });
            log.append(leaf).unwrap();
            let want: Vec<(u64, Hash)> = (before..merkle::stored_hash_count(i + 1))
                .map(|k| (k, log.hashes()[k as usize]))
                .collect();
            assert_eq!(got, want, "leaf {i}");
            assert_eq!(f.root(), log.root(), "root at {}", i + 1);
            assert_eq!(Frontier::load(i + 1, &log).unwrap(), f);
        }
    }
}
