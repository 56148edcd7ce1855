//! Merkle log math: RFC 6962 §2.1 tree hashes, RFC 6962 §2.1.1/§2.1.2 proof
//! generation and RFC 9162 §2.1.3.2/§2.1.4.2 proof verification, over the
//! "stored hash" layout the board keeps on disk. The normative description
//! is `spec/merkle.md`.
//!
//! # Stored hashes
//!
//! The log never stores a tree; it stores a flat sequence of hashes. When
//! record `n` is appended, the log appends its leaf hash followed by the hash
//! of every complete subtree whose last record is `n` (there are as many as
//! `n` has trailing one bits). The hash at tree level `L` (leaves are level
//! 0) with index `k`, covering records `[k·2^L, (k+1)·2^L)`, therefore sits at
//!
//! ```text
//! stored_hash_index(L, k) = 2m − popcount(m) + L,   m = (k+1)·2^L − 1
//! ```
//!
//! and a log of `n` records holds `2n − popcount(n)` stored hashes. Any root
//! or proof for any size up to the stored size is a short combination of
//! these hashes, so nothing is ever recomputed from the leaves.
//!
//! # Conventions outside the RFC preconditions
//!
//! RFC 9162 §2.1.4.2 only defines consistency for `0 < old < new`. We pin:
//!
//! * `old == new`: valid iff the proof is empty and the roots are equal;
//! * `old == 0`: valid iff the proof is empty and `old_root` is
//!   [`EMPTY_ROOT`] (C2SP tlog-witness); the new root is unconstrained unless
//!   `new == 0` too;
//! * `old > new`: [`ProofError::OutOfRange`].

use crate::error::{Coded, ErrorCode};
use crate::hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};

/// Random access to a log's stored hashes (see the module documentation for
/// the layout). The board implements this over its database, clients over
/// fetched tiles ([`crate::tile::TileHashReader`]), tests over a `Vec`.
pub trait HashReader {
    /// What a failed read reports.
    type Error;
    /// Returns the stored hash at `index`.
    fn read_hash(&self, index: u64) -> Result<Hash, Self::Error>;
}

/// A stored-hash index past the end of an in-memory hash list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("stored hash index {index} is beyond the {len} stored hashes")]
pub struct IndexOutOfRange {
    /// The index that was asked for.
    pub index: u64,
    /// How many hashes are stored.
    pub len: u64,
}

impl Coded for IndexOutOfRange {
    fn code(&self) -> ErrorCode {
        ErrorCode::ProofOutOfRange
    }
}

impl HashReader for [Hash] {
    type Error = IndexOutOfRange;
    fn read_hash(&self, index: u64) -> Result<Hash, IndexOutOfRange> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.get(i))
            .copied()
            .ok_or(IndexOutOfRange {
                index,
                len: self.len() as u64,
            })
    }
}

impl HashReader for Vec<Hash> {
    type Error = IndexOutOfRange;
    fn read_hash(&self, index: u64) -> Result<Hash, IndexOutOfRange> {
        self.as_slice().read_hash(index)
    }
}

impl<R: HashReader + ?Sized> HashReader for &R {
    type Error = R::Error;
    fn read_hash(&self, index: u64) -> Result<Hash, R::Error> {
        (**self).read_hash(index)
    }
}

/// Failure to compute a root or proof from stored hashes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError<E> {
    /// An index, size or range is outside what the request allows.
    #[error("{what} {value} is out of range (bound {bound})")]
    OutOfRange {
        /// What was out of range.
        what: &'static str,
        /// The offending value.
        value: u64,
        /// The bound it broke.
        bound: u64,
    },
    /// The hash reader failed (missing hash, storage error, missing tile).
    #[error("reading a stored hash: {0}")]
    Read(E),
}

impl<E: Coded> Coded for MerkleError<E> {
    fn code(&self) -> ErrorCode {
        match self {
            MerkleError::OutOfRange { .. } => ErrorCode::ProofOutOfRange,
            MerkleError::Read(e) => e.code(),
        }
    }
}

/// A proof that does not verify, or a request outside the tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Leaf index not below the tree size, or old size above new size.
    #[error("{index} is out of range for tree size {size}")]
    OutOfRange {
        /// The leaf index (inclusion) or old size (consistency).
        index: u64,
        /// The tree size (inclusion) or new size (consistency).
        size: u64,
    },
    /// The inclusion proof does not lead to the root.
    #[error("inclusion proof failed: {0}")]
    InclusionFailed(&'static str),
    /// The consistency proof does not connect the two roots.
    #[error("consistency proof failed: {0}")]
    ConsistencyFailed(&'static str),
}

impl Coded for ProofError {
    fn code(&self) -> ErrorCode {
        match self {
            ProofError::OutOfRange { .. } => ErrorCode::ProofOutOfRange,
            ProofError::InclusionFailed(_) => ErrorCode::ProofInclusionFailed,
            ProofError::ConsistencyFailed(_) => ErrorCode::ProofConsistencyFailed,
        }
    }
}

/// The largest number of records whose stored hashes all have `u64`
/// indices: `stored_hash_count(2^63) = 2^64 − 1`.
pub const MAX_STORED_SIZE: u64 = 1 << 63;

/// `stored_hash_index` with overflow reported as `None`.
fn checked_stored_index(level: u8, n: u64) -> Option<u64> {
    if level >= 64 {
        return None;
    }
    // m = (n+1)·2^L − 1 is the last record the node covers; computed in
    // 128 bits so that no input overflows.
    let m: u128 = ((u128::from(n) + 1) << level) - 1;
    let pop = u128::from(m.count_ones());
    let idx = 2 * m - pop + u128::from(level);
    u64::try_from(idx).ok()
}

/// Index in the stored-hash sequence of the hash at tree `level` with index
/// `n` (covering records `[n·2^level, (n+1)·2^level)`):
/// `2m − popcount(m) + level` with `m = (n+1)·2^level − 1`.
///
/// Positions that do not fit in a `u64` (only possible for trees larger
/// than [`MAX_STORED_SIZE`]) saturate to `u64::MAX`, which no reader holds.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    checked_stored_index(level, n).unwrap_or(u64::MAX)
}

/// How many stored hashes a log of `n` records holds: `2n − popcount(n)`
/// (saturating at `u64::MAX` above [`MAX_STORED_SIZE`]).
pub fn stored_hash_count(n: u64) -> u64 {
    let c = 2 * u128::from(n) - u128::from(n.count_ones());
    u64::try_from(c).unwrap_or(u64::MAX)
}

/// Inverse of [`stored_hash_index`]: the `(level, n)` of the hash stored at
/// `index`.
pub fn stored_hash_coords(index: u64) -> (u8, u64) {
    // f(r) = 2r − popcount(r) is the position of record r's leaf hash. It is
    // strictly increasing, f(r+1) − f(r) = 1 + (trailing ones of r), and the
    // hashes stored between f(r) and f(r+1) are the subtrees r closes, at
    // levels 0, 1, ..., trailing_ones(r).
    let f = |r: u64| 2 * u128::from(r) - u128::from(r.count_ones());
    let i = u128::from(index);
    // f(r) ≥ 2r − 64, so the record is at most (index + 64) / 2.
    let mut r = u64::try_from((i + 64) / 2).unwrap_or(u64::MAX);
    while r > 0 && f(r) > i {
        r -= 1;
    }
    // 0 ≤ i − f(r) ≤ trailing_ones(r) < 64.
    let level = u8::try_from(i - f(r)).unwrap_or(63);
    (level, r.checked_shr(u32::from(level)).unwrap_or(0))
}

/// Reads the hash at (`level`, `n`).
fn read_node<R: HashReader + ?Sized>(
    r: &R,
    level: u8,
    n: u64,
) -> Result<Hash, MerkleError<R::Error>> {
    let idx = checked_stored_index(level, n).ok_or(MerkleError::OutOfRange {
        what: "stored hash position",
        value: n,
        bound: MAX_STORED_SIZE,
    })?;
    r.read_hash(idx).map_err(MerkleError::Read)
}

/// The largest power of two strictly below `n`; `n` must be at least 2.
/// This is RFC 6962 §2.1's split point `k`.
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n.saturating_sub(1) | 1).leading_zeros())
}

/// The hashes to append to the stored sequence when record `n` (0-based)
/// with leaf hash `leaf` is added: `leaf` first, then the hash of each
/// complete subtree that record `n` closes, lowest level first. The left
/// siblings are read from `r`, which must hold the stored hashes of the
/// first `n` records.
pub fn stored_hashes<R: HashReader + ?Sized>(
    n: u64,
    leaf: Hash,
    r: &R,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    if n >= MAX_STORED_SIZE {
        return Err(MerkleError::OutOfRange {
            what: "record number",
            value: n,
            bound: MAX_STORED_SIZE,
        });
    }
    let mut out = Vec::with_capacity(1 + n.trailing_ones() as usize);
    out.push(leaf);
    let mut cur = leaf;
    // At each level, `k` is the index of the node just completed. If it is a
    // right child (odd), its parent is complete too: parent = H(left, cur).
    let mut k = n;
    let mut level: u8 = 0;
    while k & 1 == 1 {
        let left = read_node(r, level, k - 1)?;
        cur = node_hash(&left, &cur);
        out.push(cur);
        k >>= 1;
        level += 1;
    }
    Ok(out)
}

/// `MTH(D[lo:hi])` (RFC 6962 §2.1) from stored hashes.
///
/// Defined for the ranges that occur in the RFC 6962 recursion over a tree
/// starting at record 0: `lo` must be a multiple of the largest power of two
/// not above `hi − lo` (so the range splits into complete stored subtrees of
/// strictly decreasing size). Other ranges are [`MerkleError::OutOfRange`].
/// An empty range (`lo == hi`) hashes to [`EMPTY_ROOT`]. Reads
/// `popcount(hi − lo)` hashes.
pub fn subtree_hash<R: HashReader + ?Sized>(
    lo: u64,
    hi: u64,
    r: &R,
) -> Result<Hash, MerkleError<R::Error>> {
    if lo > hi {
        return Err(MerkleError::OutOfRange {
            what: "subtree start",
            value: lo,
            bound: hi,
        });
    }
    let n = hi - lo;
    if n == 0 {
        return Ok(EMPTY_ROOT);
    }
    let top = 63 - n.leading_zeros(); // highest set bit of n
    let align = 1u64 << top;
    if !lo.is_multiple_of(align) {
        return Err(MerkleError::OutOfRange {
            what: "subtree start not aligned to its RFC 6962 split",
            value: lo,
            bound: align,
        });
    }
    // The range is a run of complete subtrees, one per set bit of n, largest
    // first; MTH folds them right to left.
    let mut parts: Vec<Hash> = Vec::with_capacity(n.count_ones() as usize);
    let mut p = lo;
    for level in (0..=top).rev() {
        if (n >> level) & 1 == 1 {
            // level ≤ 63 fits in u8.
            parts.push(read_node(r, level as u8, p >> level)?);
            p += 1u64 << level;
        }
    }
    let mut acc = match parts.pop() {
        Some(h) => h,
        None => return Ok(EMPTY_ROOT),
    };
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// The root `MTH(D[0:size])` of the tree of the first `size` records
/// ([`EMPTY_ROOT`] for 0), reading `popcount(size)` stored hashes.
pub fn tree_hash<R: HashReader + ?Sized>(size: u64, r: &R) -> Result<Hash, MerkleError<R::Error>> {
    subtree_hash(0, size, r)
}

/// The RFC 6962 §2.1.1 audit path `PATH(index, D[0:size])`, leaf sibling
/// first, root child last.
pub fn prove_inclusion<R: HashReader + ?Sized>(
    index: u64,
    size: u64,
    r: &R,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    if index >= size {
        return Err(MerkleError::OutOfRange {
            what: "leaf index",
            value: index,
            bound: size,
        });
    }
    // Walk from the root down to the leaf; each step contributes the
    // sibling subtree's MTH. Collected root-first, then reversed.
    let (mut lo, mut hi) = (0u64, size);
    let mut path = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            path.push(subtree_hash(lo + k, hi, r)?);
            hi = lo + k;
        } else {
            path.push(subtree_hash(lo, lo + k, r)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The RFC 6962 §2.1.2 consistency proof `PROOF(old, D[0:new])`, in RFC
/// order. Empty when `old == 0` or `old == new` (see the module
/// documentation); `old > new` is out of range.
pub fn prove_consistency<R: HashReader + ?Sized>(
    old: u64,
    new: u64,
    r: &R,
) -> Result<Vec<Hash>, MerkleError<R::Error>> {
    if old > new {
        return Err(MerkleError::OutOfRange {
            what: "old tree size",
            value: old,
            bound: new,
        });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: m is relative to lo, `complete`
    // is the RFC's flag b ("the old tree is this whole subtree so far").
    let (mut lo, mut hi, mut m) = (0u64, new, old);
    let mut complete = true;
    let mut proof = Vec::new();
    loop {
        let n = hi - lo;
        if m == n {
            if !complete {
                proof.push(subtree_hash(lo, hi, r)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(subtree_hash(lo + k, hi, r)?);
            hi = lo + k;
        } else {
            proof.push(subtree_hash(lo, lo + k, r)?);
            lo += k;
            m -= k;
            complete = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// Verifies an inclusion proof, following RFC 9162 §2.1.3.2 step by step
/// (including both `sn == 0` checks, which bind the proof to one tree size).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // Step 1.
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    // Steps 2-3.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    // Step 4.
    for p in proof {
        if sn == 0 {
            return Err(ProofError::InclusionFailed("proof has too many hashes"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    if sn != 0 {
        return Err(ProofError::InclusionFailed("proof has too few hashes"));
    }
    if r != *root {
        return Err(ProofError::InclusionFailed("computed root does not match"));
    }
    Ok(())
}

/// Verifies a consistency proof between `(old_size, old_root)` and
/// `(new_size, new_root)`, following RFC 9162 §2.1.4.2 for
/// `0 < old_size < new_size` and the conventions in the module
/// documentation otherwise.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OutOfRange {
            index: old_size,
            size: new_size,
        });
    }
    if old_size == 0 {
        // C2SP tlog-witness: from the empty tree, the proof is empty and the
        // old root must be the empty-tree root.
        if !proof.is_empty() {
            return Err(ProofError::ConsistencyFailed(
                "proof from the empty tree must be empty",
            ));
        }
        if *old_root != EMPTY_ROOT || (new_size == 0 && *new_root != EMPTY_ROOT) {
            return Err(ProofError::ConsistencyFailed(
                "root of the empty tree must be SHA-256 of the empty string",
            ));
        }
        return Ok(());
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::ConsistencyFailed(
                "proof between equal sizes must be empty",
            ));
        }
        if old_root != new_root {
            return Err(ProofError::ConsistencyFailed(
                "equal sizes with different roots",
            ));
        }
        return Ok(());
    }
    // Step 1: an empty proof fails.
    let Some((head, tail)) = proof.split_first() else {
        return Err(ProofError::ConsistencyFailed("empty proof"));
    };
    // Step 2: if old_size is a power of two, the path starts with old_root.
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (head, tail)
    };
    // Steps 3-4.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (*first, *first);
    // Step 6.
    for c in rest {
        if sn == 0 {
            return Err(ProofError::ConsistencyFailed("proof has too many hashes"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(ProofError::ConsistencyFailed("proof has too few hashes"));
    }
    if fr != *old_root {
        return Err(ProofError::ConsistencyFailed("old root does not match"));
    }
    if sr != *new_root {
        return Err(ProofError::ConsistencyFailed("new root does not match"));
    }
    Ok(())
}

/// A log held in memory as its stored-hash sequence: for the verifier, the
/// browser build and tests. Implements [`HashReader`], so the free
/// functions ([`prove_inclusion`], [`tree_hash`], ...) work on it directly.
#[derive(Clone, Debug)]
pub struct MemoryLog {
    hashes: Vec<Hash>,
    size: u64,
    root: Hash,
}

impl Default for MemoryLog {
    fn default() -> Self {
        MemoryLog::new()
    }
}

impl MemoryLog {
    /// An empty log (root [`EMPTY_ROOT`]).
    pub fn new() -> MemoryLog {
        MemoryLog {
            hashes: Vec::new(),
            size: 0,
            root: EMPTY_ROOT,
        }
    }

    /// Appends a record given its leaf hash; returns the record's index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, MerkleError<IndexOutOfRange>> {
        let index = self.size;
        let new = stored_hashes(index, leaf, &self.hashes)?;
        let before = self.hashes.len();
        self.hashes.extend(new);
        match tree_hash(index + 1, &self.hashes) {
            Ok(root) => {
                self.root = root;
                self.size = index + 1;
                Ok(index)
            }
            Err(e) => {
                self.hashes.truncate(before);
                Err(e)
            }
        }
    }

    /// Appends a record given its entry bytes (hashed with
    /// [`leaf_hash`]); returns the record's index.
    pub fn append_entry(&mut self, entry: &[u8]) -> Result<u64, MerkleError<IndexOutOfRange>> {
        self.append(leaf_hash(entry))
    }

    /// Number of records.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The current root, `MTH(D[0:size])`.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The stored-hash sequence (`stored_hash_count(size)` hashes).
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }
}

impl HashReader for MemoryLog {
    type Error = IndexOutOfRange;
    fn read_hash(&self, index: u64) -> Result<Hash, IndexOutOfRange> {
        self.hashes.as_slice().read_hash(index)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // ---------- an independent, direct RFC 6962 reference ----------

    /// MTH(D) straight from RFC 6962 §2.1, over leaf hashes.
    pub(crate) fn ref_mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = ref_k(n);
                node_hash(&ref_mth(&leaves[..k]), &ref_mth(&leaves[k..]))
            }
        }
    }

    fn ref_k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// PATH(m, D[n]) from RFC 6962 §2.1.1.
    pub(crate) fn ref_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = ref_k(n);
        if m < k {
            let mut p = ref_path(m, &leaves[..k]);
            p.push(ref_mth(&leaves[k..]));
            p
        } else {
            let mut p = ref_path(m - k, &leaves[k..]);
            p.push(ref_mth(&leaves[..k]));
            p
        }
    }

    /// SUBPROOF(m, D[n], b) from RFC 6962 §2.1.2.
    fn ref_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b { vec![] } else { vec![ref_mth(leaves)] };
        }
        let k = ref_k(n);
        if m <= k {
            let mut p = ref_subproof(m, &leaves[..k], b);
            p.push(ref_mth(&leaves[k..]));
            p
        } else {
            let mut p = ref_subproof(m - k, &leaves[k..], false);
            p.push(ref_mth(&leaves[..k]));
            p
        }
    }

    pub(crate) fn ref_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        if m == 0 || m == leaves.len() {
            return vec![];
        }
        ref_subproof(m, leaves, true)
    }

    pub(crate) fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    pub(crate) fn log_of(leaves: &[Hash]) -> MemoryLog {
        let mut log = MemoryLog::new();
        for l in leaves {
            log.append(*l).unwrap();
        }
        log
    }

    fn flip(h: &Hash) -> Hash {
        let mut b = h.0;
        b[7] ^= 0x10;
        Hash(b)
    }

    // ---------- stored-hash layout ----------

    #[test]
    fn stored_index_layout_small() {
        // Records 0..4: leaf0, leaf1, H(0,1), leaf2, leaf3, H(2,3), H(0..4).
        assert_eq!(stored_hash_index(0, 0), 0);
        assert_eq!(stored_hash_index(0, 1), 1);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(0, 2), 3);
        assert_eq!(stored_hash_index(0, 3), 4);
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_index(0, 4), 7);
        assert_eq!(stored_hash_count(0), 0);
        assert_eq!(stored_hash_count(1), 1);
        assert_eq!(stored_hash_count(4), 7);
        assert_eq!(stored_hash_count(300), 600 - 300u64.count_ones() as u64);
    }

    #[test]
    fn stored_coords_invert_index() {
        for i in 0..5000u64 {
            let (l, n) = stored_hash_coords(i);
            assert_eq!(stored_hash_index(l, n), i, "index {i}");
        }
        for level in 0..40u8 {
            for n in [0u64, 1, 2, 3, 255, 256, 1 << 20, (1 << 22) + 5] {
                let i = stored_hash_index(level, n);
                assert_eq!(stored_hash_coords(i), (level, n));
            }
        }
        // Extremes neither panic nor overflow.
        let _ = stored_hash_coords(u64::MAX);
        assert_eq!(stored_hash_index(63, u64::MAX), u64::MAX);
        assert_eq!(stored_hash_index(200, 0), u64::MAX);
        assert_eq!(stored_hash_count(u64::MAX), u64::MAX);
        assert_eq!(stored_hash_count(MAX_STORED_SIZE), u64::MAX);
        let (l, n) = stored_hash_coords(stored_hash_index(0, MAX_STORED_SIZE - 1));
        assert_eq!((l, n), (0, MAX_STORED_SIZE - 1));
    }

    #[test]
    fn stored_hashes_count_matches_formula() {
        let ls = leaves(130);
        let log = log_of(&ls);
        assert_eq!(log.hashes().len() as u64, stored_hash_count(130));
        for (level, n) in [(0u8, 5u64), (3, 7), (7, 0), (1, 64)] {
            let lo = (n << level) as usize;
            let hi = ((n + 1) << level) as usize;
            assert_eq!(
                log.read_hash(stored_hash_index(level, n)).unwrap(),
                ref_mth(&ls[lo..hi])
            );
        }
    }

    #[test]
    fn out_of_range_requests_do_not_panic() {
        let log = log_of(&leaves(10));
        assert!(matches!(
            tree_hash(11, &log),
            Err(MerkleError::Read(IndexOutOfRange { .. }))
        ));
        assert!(prove_inclusion(10, 10, &log).is_err());
        assert!(prove_inclusion(u64::MAX, u64::MAX, &log).is_err());
        assert!(prove_consistency(11, 10, &log).is_err());
        assert!(prove_consistency(3, u64::MAX, &log).is_err());
        assert!(tree_hash(u64::MAX, &log).is_err());
        assert!(subtree_hash(2, 6, &log).is_err()); // not an RFC range
        assert!(subtree_hash(6, 2, &log).is_err());
        assert!(stored_hashes(u64::MAX, EMPTY_ROOT, &log).is_err());
        assert_eq!(
            MerkleError::<IndexOutOfRange>::OutOfRange {
                what: "x",
                value: 1,
                bound: 0
            }
            .code(),
            ErrorCode::ProofOutOfRange
        );
    }

    // ---------- exhaustive small trees against the RFC reference ----------

    fn assert_inclusion_rejects_mutations(leaf: &Hash, i: u64, n: u64, p: &[Hash], root: &Hash) {
        assert!(verify_inclusion(&flip(leaf), i, n, p, root).is_err());
        assert!(verify_inclusion(leaf, i, n, p, &flip(root)).is_err());
        for j in 0..p.len() {
            let mut q = p.to_vec();
            q[j] = flip(&q[j]);
            assert!(verify_inclusion(leaf, i, n, &q, root).is_err());
            let mut q = p.to_vec();
            q.remove(j);
            assert!(verify_inclusion(leaf, i, n, &q, root).is_err());
        }
        let mut q = p.to_vec();
        q.push(*root);
        assert!(verify_inclusion(leaf, i, n, &q, root).is_err());
        let mut q = vec![*leaf];
        q.extend_from_slice(p);
        assert!(verify_inclusion(leaf, i, n, &q, root).is_err());
        assert!(verify_inclusion(leaf, i ^ 1, n, p, root).is_err() || n == 1);
        // (A different tree size can be accepted with the same path when
        // the path has the same shape; the transparency-dev probes cover the
        // size mutations that must fail.)
    }

    #[test]
    fn exhaustive_up_to_64() {
        let all = leaves(64);
        let log = log_of(&all);
        for n in 0..=64usize {
            let ls = &all[..n];
            let root = tree_hash(n as u64, &log).unwrap();
            assert_eq!(root, ref_mth(ls), "root {n}");
            for i in 0..n {
                let p = prove_inclusion(i as u64, n as u64, &log).unwrap();
                assert_eq!(p, ref_path(i, ls), "path {i} {n}");
                verify_inclusion(&ls[i], i as u64, n as u64, &p, &root).unwrap();
                assert_inclusion_rejects_mutations(&ls[i], i as u64, n as u64, &p, &root);
            }
            for m in 0..=n {
                let old_root = ref_mth(&all[..m]);
                let p = prove_consistency(m as u64, n as u64, &log).unwrap();
                assert_eq!(p, ref_proof(m, ls), "proof {m} {n}");
                verify_consistency(m as u64, n as u64, &old_root, &root, &p).unwrap();
                // Mutations.
                assert!(
                    verify_consistency(m as u64, n as u64, &flip(&old_root), &root, &p).is_err()
                );
                if m > 0 {
                    assert!(
                        verify_consistency(m as u64, n as u64, &old_root, &flip(&root), &p)
                            .is_err()
                    );
                }
                for j in 0..p.len() {
                    let mut q = p.clone();
                    q[j] = flip(&q[j]);
                    assert!(verify_consistency(m as u64, n as u64, &old_root, &root, &q).is_err());
                    let mut q = p.clone();
                    q.remove(j);
                    assert!(verify_consistency(m as u64, n as u64, &old_root, &root, &q).is_err());
                }
                let mut q = p.clone();
                q.push(root);
                assert!(verify_consistency(m as u64, n as u64, &old_root, &root, &q).is_err());
                if m < n {
                    assert!(
                        verify_consistency(m as u64 + 1, n as u64, &old_root, &root, &p).is_err()
                    );
                    assert!(verify_consistency(n as u64, m as u64, &root, &old_root, &p).is_err());
                }
            }
        }
    }

    #[test]
    fn stored_hashes_are_what_append_adds() {
        let all = leaves(33);
        let mut v: Vec<Hash> = Vec::new();
        for (n, l) in all.iter().enumerate() {
            let add = stored_hashes(n as u64, *l, &v).unwrap();
            assert_eq!(add.len(), 1 + (n as u64).trailing_ones() as usize);
            assert_eq!(add[0], *l);
            v.extend(add);
            assert_eq!(v.len() as u64, stored_hash_count(n as u64 + 1));
        }
        assert_eq!(tree_hash(33, &v).unwrap(), ref_mth(&all));
        // Missing earlier hashes are reported, not invented.
        assert!(stored_hashes(3, all[3], &v[..2]).is_err());
    }

    // ---------- pinned edge cases ----------

    #[test]
    fn edge_cases() {
        let all = leaves(8);
        let log = log_of(&all);
        let r8 = log.root();
        let r5 = tree_hash(5, &log).unwrap();
        // Empty tree.
        assert_eq!(tree_hash(0, &log).unwrap(), EMPTY_ROOT);
        assert_eq!(MemoryLog::new().root(), EMPTY_ROOT);
        // old == new.
        verify_consistency(8, 8, &r8, &r8, &[]).unwrap();
        assert_eq!(
            verify_consistency(8, 8, &r8, &r5, &[]),
            Err(ProofError::ConsistencyFailed(
                "equal sizes with different roots"
            ))
        );
        assert!(verify_consistency(8, 8, &r8, &r8, &[r8]).is_err());
        // old == 0.
        verify_consistency(0, 8, &EMPTY_ROOT, &r8, &[]).unwrap();
        verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &[]).unwrap();
        assert!(verify_consistency(0, 0, &EMPTY_ROOT, &r8, &[]).is_err());
        assert!(verify_consistency(0, 8, &r5, &r8, &[]).is_err());
        assert!(verify_consistency(0, 8, &EMPTY_ROOT, &r8, &[EMPTY_ROOT]).is_err());
        // old > new.
        assert_eq!(
            verify_consistency(8, 5, &r8, &r5, &[]),
            Err(ProofError::OutOfRange { index: 8, size: 5 })
        );
        // Empty proof for 0 < old < new.
        assert!(verify_consistency(5, 8, &r5, &r8, &[]).is_err());
        // Inclusion: index >= size, size 0, size 1.
        assert_eq!(
            verify_inclusion(&all[0], 8, 8, &[], &r8)
                .unwrap_err()
                .code(),
            ErrorCode::ProofOutOfRange
        );
        assert!(verify_inclusion(&all[0], 0, 0, &[], &EMPTY_ROOT).is_err());
        verify_inclusion(&all[0], 0, 1, &[], &all[0]).unwrap();
        assert!(verify_inclusion(&all[0], 0, 1, &[all[0]], &all[0]).is_err());
        // Codes.
        assert_eq!(
            ProofError::InclusionFailed("x").code(),
            ErrorCode::ProofInclusionFailed
        );
        assert_eq!(
            ProofError::ConsistencyFailed("x").code(),
            ErrorCode::ProofConsistencyFailed
        );
        // Huge sizes do not panic.
        assert!(verify_inclusion(&all[0], 0, u64::MAX, &[r8; 64], &r8).is_err());
        assert!(verify_consistency(1, u64::MAX, &r8, &r8, &[r8; 64]).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &r8, &r8, &[r8; 3]).is_err());
    }

    // ---------- rs_merkle as an independent implementation ----------

    #[derive(Clone)]
    struct Rfc6962;

    impl rs_merkle::Hasher for Rfc6962 {
        type Hash = [u8; 32];
        fn hash(data: &[u8]) -> [u8; 32] {
            Hash::sha256(data).0
        }
        fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
            match right {
                Some(r) => node_hash(&Hash(*left), &Hash(*r)).0,
                // RFC 6962: a lone left node is promoted unchanged.
                None => *left,
            }
        }
    }

    #[test]
    fn rs_merkle_agrees() {
        let all = leaves(100);
        let log = log_of(&all);
        for n in 1..=100usize {
            let raw: Vec<[u8; 32]> = all[..n].iter().map(|h| h.0).collect();
            let t = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&raw);
            assert_eq!(
                t.root(),
                Some(tree_hash(n as u64, &log).unwrap().0),
                "n={n}"
            );
            for i in [0, n / 3, n / 2, n - 1] {
                let theirs: Vec<Hash> = t
                    .proof(&[i])
                    .proof_hashes()
                    .iter()
                    .map(|h| Hash(*h))
                    .collect();
                assert_eq!(theirs, prove_inclusion(i as u64, n as u64, &log).unwrap());
            }
        }
    }

    // ---------- the published RFC 6962 vectors ----------

    /// `vectors-merkle.json` (`crate::testutil::reference_json`).
    pub(crate) fn load_vectors() -> serde_json::Value {
        crate::testutil::reference_json("vectors-merkle.json")
    }

    pub(crate) fn hx(v: &serde_json::Value) -> Hash {
        Hash::from_hex(v.as_str().expect("hex string")).expect("32-byte hex")
    }

    pub(crate) fn hx_list(v: &serde_json::Value) -> Vec<Hash> {
        v.as_array().expect("array").iter().map(hx).collect()
    }

    pub(crate) fn b64(v: &serde_json::Value) -> Hash {
        Hash::from_base64(v.as_str().expect("b64 string")).expect("32-byte base64")
    }

    pub(crate) fn num(v: &serde_json::Value) -> u64 {
        v.as_u64().expect("u64")
    }

    /// A probe hash: base64 that must decode to exactly 32 bytes; anything
    /// else (empty, 12-byte placeholders) makes the probe a rejection.
    fn probe_hash(v: &serde_json::Value) -> Option<Hash> {
        Hash::from_base64(v.as_str()?)
    }

    fn probe_proof(v: &serde_json::Value) -> Option<Vec<Hash>> {
        match v {
            serde_json::Value::Null => Some(vec![]),
            serde_json::Value::Array(a) => a.iter().map(probe_hash).collect(),
            _ => None,
        }
    }

    #[test]
    fn vectors_rfc6962_8leaf() {
        let v = load_vectors();
        let t = &v["rfc6962_8leaf"];
        let inputs: Vec<Vec<u8>> = t["leaf_inputs_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| hex::decode(x.as_str().unwrap()).unwrap())
            .collect();
        let mut log = MemoryLog::new();
        for (i, input) in inputs.iter().enumerate() {
            assert_eq!(leaf_hash(input), hx(&t["leaf_hashes_hex"][i]));
            log.append_entry(input).unwrap();
        }
        let roots = t["root_by_tree_size_hex"].as_object().unwrap();
        assert_eq!(roots.len(), 9);
        for (size, root) in roots {
            let size: u64 = size.parse().unwrap();
            assert_eq!(tree_hash(size, &log).unwrap(), hx(root), "root {size}");
        }
        let inc = t["inclusion"].as_array().unwrap();
        assert_eq!(inc.len(), 36);
        for c in inc {
            let (i, n) = (num(&c["leaf_index"]), num(&c["tree_size"]));
            let proof = hx_list(&c["proof_hex"]);
            assert_eq!(
                prove_inclusion(i, n, &log).unwrap(),
                proof,
                "inclusion {i} {n}"
            );
            let leaf = hx(&c["leaf_hash_hex"]);
            assert_eq!(
                leaf,
                leaf_hash(&hex::decode(c["leaf_input_hex"].as_str().unwrap()).unwrap())
            );
            verify_inclusion(&leaf, i, n, &proof, &hx(&c["root_hex"])).unwrap();
        }
        let cons = t["consistency"].as_array().unwrap();
        assert_eq!(cons.len(), 36);
        for c in cons {
            let (m, n) = (num(&c["size1"]), num(&c["size2"]));
            let proof = hx_list(&c["proof_hex"]);
            assert_eq!(
                prove_consistency(m, n, &log).unwrap(),
                proof,
                "consistency {m} {n}"
            );
            verify_consistency(m, n, &hx(&c["root1_hex"]), &hx(&c["root2_hex"]), &proof).unwrap();
        }
    }

    #[test]
    fn vectors_transparency_dev_probes() {
        let v = load_vectors();
        let p = &v["transparency_dev_probes"];
        let (mut accepted, mut rejected, mut disagreements) = (0, 0, Vec::new());
        let inc = p["inclusion"].as_array().unwrap();
        assert_eq!(inc.len(), 98);
        for c in inc {
            let ok = (|| {
                let leaf = probe_hash(&c["leafHash"])?;
                let root = probe_hash(&c["root"])?;
                let proof = probe_proof(&c["proof"])?;
                let r = verify_inclusion(
                    &leaf,
                    num(&c["leafIdx"]),
                    num(&c["treeSize"]),
                    &proof,
                    &root,
                );
                Some(r.is_ok())
            })()
            .unwrap_or(false);
            let want_ok = !c["wantErr"].as_bool().unwrap();
            assert_eq!(ok, want_ok, "inclusion probe {}", c["file"]);
            if ok {
                accepted += 1
            } else {
                rejected += 1
            }
        }
        let cons = p["consistency"].as_array().unwrap();
        assert_eq!(cons.len(), 98);
        for c in cons {
            let ok = (|| {
                let r1 = probe_hash(&c["root1"])?;
                let r2 = probe_hash(&c["root2"])?;
                let proof = probe_proof(&c["proof"])?;
                let r = verify_consistency(num(&c["size1"]), num(&c["size2"]), &r1, &r2, &proof);
                Some(r.is_ok())
            })()
            .unwrap_or(false);
            let want_ok = !c["wantErr"].as_bool().unwrap();
            let file = c["file"].as_str().unwrap();
            if file.ends_with("sizes-are-equal-one-and-proof-is-empty.json") {
                // The one known disagreement (transparency-logs.md §1.5): the
                // probe expects acceptance for equal sizes and equal roots, but
                // its roots are the 12-byte placeholder "don't care 2", which is
                // not a SHA-256 hash. We reject any non-32-byte hash.
                assert!(want_ok && !ok);
                disagreements.push(file.to_string());
                continue;
            }
            assert_eq!(ok, want_ok, "consistency probe {file}");
            if ok {
                accepted += 1
            } else {
                rejected += 1
            }
        }
        assert_eq!(disagreements.len(), 1);
        assert_eq!(accepted + rejected + disagreements.len(), 196);
        assert_eq!(accepted, 11);
    }

    #[test]
    fn vectors_edge_cases() {
        let v = load_vectors();
        let cases = v["edge_cases"].as_array().unwrap();
        assert_eq!(cases.len(), 9);
        assert_eq!(hx(&cases[0]["root_hex"]), EMPTY_ROOT);
        assert_eq!(tree_hash(0, &Vec::<Hash>::new()).unwrap(), EMPTY_ROOT);
        let log = log_of(&leaves(4));
        let (r1, r4) = (tree_hash(1, &log).unwrap(), log.root());
        let l0 = log.read_hash(0).unwrap();
        for c in cases {
            let case = c["case"].as_str().unwrap();
            match case {
                "empty tree root" => {}
                "size1 == size2, equal roots, empty proof" => {
                    verify_consistency(4, 4, &r4, &r4, &[]).unwrap();
                    verify_consistency(1, 1, &r1, &r1, &[]).unwrap();
                }
                "size1 == size2, different roots" => {
                    assert!(verify_consistency(4, 4, &r4, &r1, &[]).is_err());
                }
                // We choose the C2SP tlog-witness convention.
                "size1 == 0, size2 > 0, empty proof" => {
                    verify_consistency(0, 4, &EMPTY_ROOT, &r4, &[]).unwrap();
                    assert!(verify_consistency(0, 4, &r1, &r4, &[]).is_err());
                }
                "size1 == 0, proof non-empty" => {
                    assert!(verify_consistency(0, 4, &EMPTY_ROOT, &r4, &[r4]).is_err());
                }
                "size1 > size2" => {
                    assert!(verify_consistency(4, 1, &r4, &r1, &[]).is_err());
                }
                "inclusion in tree of size 1" => {
                    assert_eq!(prove_inclusion(0, 1, &log).unwrap(), vec![]);
                    verify_inclusion(&l0, 0, 1, &[], &r1).unwrap();
                    assert!(verify_inclusion(&l0, 0, 1, &[], &r4).is_err());
                }
                "leaf_index >= tree_size" => {
                    assert!(verify_inclusion(&l0, 4, 4, &[], &r4).is_err());
                    assert!(prove_inclusion(4, 4, &log).is_err());
                }
                "proof with extra trailing hash / missing hash" => {
                    let p = prove_inclusion(1, 4, &log).unwrap();
                    let l1 = log.read_hash(1).unwrap();
                    verify_inclusion(&l1, 1, 4, &p, &r4).unwrap();
                    assert!(verify_inclusion(&l1, 1, 4, &p[..1], &r4).is_err());
                    let mut q = p.clone();
                    q.push(r4);
                    assert!(verify_inclusion(&l1, 1, 4, &q, &r4).is_err());
                }
                other => panic!("unhandled edge case {other:?}"),
            }
        }
    }

    #[test]
    fn vectors_tiled_300_proofs() {
        let v = load_vectors();
        let t = &v["tiled_300"];
        let mut log = MemoryLog::new();
        for i in 0..num(&t["tree_size"]) {
            log.append_entry(format!("record {i}").as_bytes()).unwrap();
        }
        assert_eq!(log.root(), hx(&t["root_hex"]));
        assert_eq!(log.root(), b64(&t["root_b64"]));
        let inc = t["inclusion"].as_array().unwrap();
        assert_eq!(inc.len(), 6);
        for c in inc {
            let (i, n) = (num(&c["leaf_index"]), num(&c["tree_size"]));
            let leaf = leaf_hash(c["leaf_input"].as_str().unwrap().as_bytes());
            assert_eq!(leaf, hx(&c["leaf_hash_hex"]));
            let proof = hx_list(&c["proof_hex"]);
            assert_eq!(prove_inclusion(i, n, &log).unwrap(), proof);
            verify_inclusion(&leaf, i, n, &proof, &hx(&c["root_hex"])).unwrap();
        }
        let cons = t["consistency"].as_array().unwrap();
        assert_eq!(cons.len(), 6);
        for c in cons {
            let (m, n) = (num(&c["size1"]), num(&c["size2"]));
            assert_eq!(tree_hash(m, &log).unwrap(), hx(&c["root1_hex"]));
            let proof = hx_list(&c["proof_hex"]);
            assert_eq!(prove_consistency(m, n, &log).unwrap(), proof);
            verify_consistency(m, n, &hx(&c["root1_hex"]), &hx(&c["root2_hex"]), &proof).unwrap();
        }
    }

    #[test]
    fn vectors_tessera_proofs_and_roots() {
        let v = load_vectors();
        let t = &v["tessera_testdata_log"];
        let entries: Vec<&str> = t["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(entries.len(), 15);
        let mut log = MemoryLog::new();
        let roots = t["root_b64_by_size"].as_object().unwrap();
        assert_eq!(roots.len(), 16);
        assert_eq!(b64(&roots["0"]), log.root());
        for e in &entries {
            log.append_entry(e.as_bytes()).unwrap();
            assert_eq!(log.root(), b64(&roots[&log.size().to_string()]));
        }
        for c in t["inclusion"].as_array().unwrap() {
            let (i, n) = (num(&c["leaf_index"]), num(&c["tree_size"]));
            let leaf = leaf_hash(c["leaf_input"].as_str().unwrap().as_bytes());
            let proof: Vec<Hash> = c["proof_b64"].as_array().unwrap().iter().map(b64).collect();
            assert_eq!(prove_inclusion(i, n, &log).unwrap(), proof);
            verify_inclusion(&leaf, i, n, &proof, &b64(&roots[&n.to_string()])).unwrap();
        }
        for c in t["consistency"].as_array().unwrap() {
            let (m, n) = (num(&c["size1"]), num(&c["size2"]));
            let proof = hx_list(&c["proof_hex"]);
            assert_eq!(prove_consistency(m, n, &log).unwrap(), proof);
            verify_consistency(
                m,
                n,
                &b64(&roots[&m.to_string()]),
                &b64(&roots[&n.to_string()]),
                &proof,
            )
            .unwrap();
        }
        // The tlog-proof example's inclusion path is the index-5 proof.
        let ex = t["tlog_proof_example"].as_str().unwrap();
        let lines: Vec<&str> = ex.lines().collect();
        assert_eq!(lines[1], "index 5");
        let proof: Vec<Hash> = lines[2..6]
            .iter()
            .map(|l| Hash::from_base64(l).unwrap())
            .collect();
        assert_eq!(prove_inclusion(5, 15, &log).unwrap(), proof);
    }

    #[test]
    fn vectors_go_sumdb_record_hash() {
        let v = load_vectors();
        let g = &v["go_sumdb"];
        let want = b64(&g["expected"]);
        assert_eq!(b64(&g["record_hash_b64_of_'hello world'"]), want);
        // golang.org/x/mod/sumdb/tlog RecordHash is the RFC 6962 leaf hash.
        assert_eq!(leaf_hash(b"hello world"), want);
        let note = g["tree_note_golden"].as_str().unwrap();
        assert!(note.contains(&want.to_base64()));
    }

    // ---------- random sizes ----------

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            #[test]
            fn random_sizes(n in 1u64..5000, a in any::<u64>(), b in any::<u64>()) {
                let all = leaves(n as usize);
                let log = log_of(&all);
                let root = log.root();
                prop_assert_eq!(root, ref_mth(&all));
                let i = a % n;
                let p = prove_inclusion(i, n, &log).unwrap();
                prop_assert_eq!(&p, &ref_path(i as usize, &all));
                prop_assert!(verify_inclusion(&all[i as usize], i, n, &p, &root).is_ok());
                let m = b % (n + 1);
                let old = tree_hash(m, &log).unwrap();
                let c = prove_consistency(m, n, &log).unwrap();
                prop_assert_eq!(&c, &ref_proof(m as usize, &all));
                prop_assert!(verify_consistency(m, n, &old, &root, &c).is_ok());
                if m > 0 && m < n {
                    prop_assert!(verify_consistency(m, n, &flip(&old), &root, &c).is_err());
                }
            }

            #[test]
            fn verifiers_never_panic(i in any::<u64>(), n in any::<u64>(), k in 0usize..70) {
                let h = leaf_hash(b"x");
                let proof = vec![h; k];
                let _ = verify_inclusion(&h, i, n, &proof, &h);
                let _ = verify_consistency(i, n, &h, &h, &proof);
                let _ = stored_hash_coords(i);
                let _ = stored_hash_index((k % 256) as u8, n);
            }
        }
    }
}
