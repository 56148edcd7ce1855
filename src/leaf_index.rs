//! The leaf-hash → index map: which entry, if any, has these exact bytes
//! (idempotent resubmission, `spec/storage.md` §2; `?leaf=` proofs).
//!
//! It lives in memory, rebuilt by the replay every open does anyway, and
//! not in sled: measured with sled 0.34, a million inserts under random
//! 33-byte keys (`L` ‖ leaf hash, the earlier layout) grew the writer's
//! resident memory to 2.4–6 GiB (the fragments of pages touched at random
//! accumulate in sled's page table), while the same log without them stayed
//! near 200 MiB (`spec/benchmarks.md`). Here an entry costs about 13 bytes:
//! the first 8 bytes of its leaf hash (uniform: it is SHA-256) as the key
//! and a 32-bit index. A hit is confirmed against the stored leaf hash by
//! the caller, so a shared prefix can never make one entry stand for
//! another; the rare second entry with a prefix already taken (or an index
//! past 2³²) goes to a small exact map.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use tallyboard_core::Hash;

/// Hashes a key that is already uniformly distributed (a SHA-256 prefix) by
/// taking it as it is.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type PrefixMap = HashMap<u64, u32, BuildHasherDefault<PrefixHasher>>;

/// Leaf hash → entry index, for every entry of the log.
#[derive(Default)]
pub struct LeafIndex {
    by_prefix: PrefixMap,
    /// Entries whose prefix was taken, or whose index does not fit 32 bits.
    exact: HashMap<Hash, u64>,
}

fn prefix(leaf: &Hash) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&leaf.0[..8]);
    u64::from_be_bytes(p)
}

impl LeafIndex {
    /// Room for `n` more entries without growing (one allocation on open).
    pub fn reserve(&mut self, n: usize) {
        self.by_prefix.reserve(n);
    }

    /// Records that the entry at `index` has leaf hash `leaf`.
    pub fn insert(&mut self, leaf: &Hash, index: u64) {
        let p = prefix(leaf);
        match u32::try_from(index) {
            Ok(i) if !self.by_prefix.contains_key(&p) => {
                self.by_prefix.insert(p, i);
            }
            _ => {
                self.exact.insert(*leaf, index);
            }
        }
    }

    /// The candidates for `leaf`: the exact match if one was recorded, and
    /// the entry holding its prefix. The caller confirms a candidate by
    /// comparing its stored leaf hash.
    pub fn candidates(&self, leaf: &Hash) -> [Option<u64>; 2] {
        [
            self.exact.get(leaf).copied(),
            self.by_prefix.get(&prefix(leaf)).map(|&i| u64::from(i)),
        ]
    }

    /// Entries recorded.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_prefix.len() + self.exact.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(first: u64, rest: u8) -> Hash {
        let mut h = [rest; 32];
        h[..8].copy_from_slice(&first.to_be_bytes());
        Hash(h)
    }

    #[test]
    fn shared_prefixes_and_large_indexes_keep_every_entry() {
        let mut ix = LeafIndex::default();
        ix.insert(&leaf(7, 1), 10);
        ix.insert(&leaf(7, 2), 11); // same prefix, other leaf
        ix.insert(&leaf(9, 1), u64::from(u32::MAX) + 5);
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.candidates(&leaf(7, 1)), [None, Some(10)]);
        // The second leaf with prefix 7 is found exactly; its prefix
        // candidate (10) is the other entry, which the caller rejects.
        assert_eq!(ix.candidates(&leaf(7, 2)), [Some(11), Some(10)]);
        assert_eq!(
            ix.candidates(&leaf(9, 1)),
            [Some(u64::from(u32::MAX) + 5), None]
        );
        assert_eq!(ix.candidates(&leaf(8, 1)), [None, None]);
    }
}
