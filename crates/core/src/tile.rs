//! C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths, hash tiles, partial
//! tiles and entry bundles, with tile height 8 (256 hashes per tile). The
//! normative description is `spec/tiles.md`.
//!
//! A hash tile at tile level `L` with index `N` holds the tree hashes at
//! Merkle level `8·L` with indices `N·256 .. N·256 + W`, where `W` is 256
//! for a full tile and 1..=255 for a partial one. Those are exactly stored
//! hashes of the board's log ([`crate::merkle`]), so the board serves tiles
//! by reading them, and a client that fetched tiles can turn them back into
//! a [`HashReader`] ([`TileHashReader`]) to compute roots and proofs.
//!
//! An entry bundle (`tile/entries/<N>[.p/<W>]`) is the concatenation of the
//! entries `N·256 .. N·256 + W`, each prefixed with its length as a
//! big-endian `uint16`.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Coded, ErrorCode};
use crate::hash::{node_hash, Hash};
use crate::merkle::{stored_hash_coords, stored_hash_index, HashReader, MerkleError};

/// Tile height: each tile spans 8 Merkle levels (c2sp.org/tlog-tiles).
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile or bundle.
pub const TILE_WIDTH: u16 = 256;
/// Largest entry an entry bundle can carry (uint16 length prefix).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;
/// Bytes per hash in a tile body.
pub const HASH_SIZE: usize = 32;

/// A hash tile: tile level, tile index and width (256 = full).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Tile level `L`; the tile holds Merkle level `8·L` hashes. 0..=63.
    pub level: u8,
    /// Tile index `N` within its level.
    pub index: u64,
    /// Number of hashes, 1..=256; 256 is a full tile.
    pub width: u16,
}

impl TileId {
    /// True for a full (256-hash) tile.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The tile's path, `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        TilePath::Hashes(*self).to_path()
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// A parsed tlog-tiles resource path (relative to the log prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`.
    Hashes(TileId),
    /// `tile/entries/<N>[.p/<W>]`.
    Entries {
        /// Bundle index `N` (entries `N·256 ..`).
        index: u64,
        /// Number of entries, 1..=256; 256 is a full bundle.
        width: u16,
    },
}

impl TilePath {
    /// The canonical path string; the inverse of [`parse_tile_path`].
    pub fn to_path(&self) -> String {
        let (head, index, width) = match self {
            TilePath::Hashes(t) => (t.level.to_string(), t.index, t.width),
            TilePath::Entries { index, width } => ("entries".to_string(), *index, *width),
        };
        let mut s = format!("tile/{head}/{}", encode_tile_index(index));
        if width != TILE_WIDTH {
            s.push_str(&format!(".p/{width}"));
        }
        s
    }
}

/// Errors about tile paths, tile bodies and entry bundles.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path is not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`
    /// in canonical form.
    #[error("malformed tile path: {0}")]
    BadPath(&'static str),
    /// A tile body has the wrong length or width for its tile.
    #[error("malformed tile body: {0}")]
    BadBody(&'static str),
    /// The tile is not part of the tree of the given size.
    #[error("tile {tile} is not part of a tree of size {size}")]
    NotInTree {
        /// The tile's path.
        tile: String,
        /// The tree size.
        size: u64,
    },
    /// An entry does not fit a uint16 length prefix.
    #[error("entry of {len} bytes exceeds the 65535-byte bundle limit")]
    EntryTooLarge {
        /// The entry's length.
        len: usize,
    },
    /// An entry bundle is truncated, empty, or has more than 256 entries.
    #[error("malformed entry bundle: {0}")]
    BadBundle(&'static str),
}

impl Coded for TileError {
    fn code(&self) -> ErrorCode {
        match self {
            TileError::EntryTooLarge { .. } => ErrorCode::EntryTooLarge,
            TileError::NotInTree { .. } => ErrorCode::ProofOutOfRange,
            TileError::BadPath(_) | TileError::BadBody(_) | TileError::BadBundle(_) => {
                ErrorCode::TileMalformed
            }
        }
    }
}

/// Encodes a tile index as tlog-tiles path elements: groups of three
/// decimal digits, most significant first, every group but the last
/// prefixed with `x` (`1234067` → `x001/x234/067`, `0` → `000`).
pub fn encode_tile_index(n: u64) -> String {
    let mut groups = Vec::new();
    let mut x = n;
    loop {
        groups.push(x % 1000);
        x /= 1000;
        if x == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A decimal number without sign, spaces or leading zeros, at most
/// `max_len` digits.
fn parse_decimal(s: &str, max_len: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// Exactly three ASCII digits.
fn parse_group(s: &str) -> Option<u64> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a tile or entry-bundle path (relative to the log prefix), exactly
/// as c2sp.org/tlog-tiles spells it: `tile/<L>/<N>[.p/<W>]` or
/// `tile/entries/<N>[.p/<W>]`, with `L` in 0..=63 and `W` in 1..=255 in
/// decimal without leading zeros, and `N` in the `x001/x234/067` encoding
/// (canonical: no leading `x000` group). Anything else is refused.
pub fn parse_tile_path(path: &str) -> Result<TilePath, TileError> {
    let rest = path
        .strip_prefix("tile/")
        .ok_or(TileError::BadPath("must start with tile/"))?;
    let mut parts = rest.split('/');
    let head = parts.next().unwrap_or("");
    let level = if head == "entries" {
        None
    } else {
        let l = parse_decimal(head, 2)
            .filter(|l| *l <= 63)
            .ok_or(TileError::BadPath(
                "level must be 0..63 without leading zeros",
            ))?;
        Some(l as u8)
    };
    let mut index: u64 = 0;
    let mut groups = 0usize;
    let mut width = TILE_WIDTH;
    loop {
        let part = parts
            .next()
            .ok_or(TileError::BadPath("missing final index element"))?;
        let (digits, is_x) = match part.strip_prefix('x') {
            Some(d) => (d, true),
            None => (part, false),
        };
        let (digits, partial) = match (is_x, digits.strip_suffix(".p")) {
            (false, Some(d)) => (d, true),
            _ => (digits, false),
        };
        let g = parse_group(digits).ok_or(TileError::BadPath(
            "index elements must be three digits, all but the last prefixed with x",
        ))?;
        if is_x && groups == 0 && g == 0 {
            return Err(TileError::BadPath("index has a leading x000 element"));
        }
        index = index
            .checked_mul(1000)
            .and_then(|i| i.checked_add(g))
            .ok_or(TileError::BadPath("index overflows 64 bits"))?;
        groups += 1;
        if is_x {
            continue;
        }
        if partial {
            let w = parts
                .next()
                .ok_or(TileError::BadPath("missing partial width"))?;
            width = parse_decimal(w, 3)
                .filter(|w| (1..=255).contains(w))
                .ok_or(TileError::BadPath(
                    "partial width must be 1..255 without leading zeros",
                ))? as u16;
        }
        break;
    }
    if parts.next().is_some() {
        return Err(TileError::BadPath("trailing path elements"));
    }
    Ok(match level {
        Some(level) => TilePath::Hashes(TileId {
            level,
            index,
            width,
        }),
        None => TilePath::Entries { index, width },
    })
}

/// The width of the partial tile at tile level `level` for a tree of
/// `size` records: `floor(size / 256^level) mod 256` (0 means no partial
/// tile at that level).
pub fn partial_width(level: u8, size: u64) -> u16 {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    match size.checked_shr(shift) {
        Some(n) if shift < 64 => (n % u64::from(TILE_WIDTH)) as u16,
        _ => 0,
    }
}

/// Every hash tile a client needs for a checkpoint of `size` records: at
/// each tile level `L` with `n = floor(size / 256^L) > 0`, the full tiles
/// `0 .. n/256` and, if `n mod 256 != 0`, the partial tile `n/256` of that
/// width. Level 0 first, then by index.
///
/// This allocates one [`TileId`] per tile (about `size/255`); for sizes
/// from untrusted checkpoints use [`tiles_for_size_iter`] and stop when
/// done.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    tiles_for_size_iter(size).collect()
}

/// The tiles of [`tiles_for_size`], lazily.
pub fn tiles_for_size_iter(size: u64) -> impl Iterator<Item = TileId> {
    (0u8..8)
        .map(move |level| (level, size >> (8 * u32::from(level))))
        .take_while(|(_, n)| *n > 0)
        .flat_map(|(level, n)| {
            let full = n / u64::from(TILE_WIDTH);
            let rem = (n % u64::from(TILE_WIDTH)) as u16;
            let partial = (rem != 0).then_some(TileId {
                level,
                index: full,
                width: rem,
            });
            (0..full)
                .map(move |index| TileId {
                    level,
                    index,
                    width: TILE_WIDTH,
                })
                .chain(partial)
        })
}

/// Merkle level of a tile level, if it fits a 64-bit tree.
fn merkle_level(tile_level: u8) -> Option<u8> {
    tile_level.checked_mul(TILE_HEIGHT).filter(|l| *l < 64)
}

/// The body of hash tile `tile` for a tree of `size` records: the stored
/// hashes at Merkle level `8·L`, indices `index·256 .. index·256 + width`,
/// concatenated (32 bytes each). Tiles that the tree of `size` does not
/// cover (any hash missing) are refused with [`MerkleError::OutOfRange`].
pub fn read_tile<R: HashReader + ?Sized>(
    tile: &TileId,
    size: u64,
    r: &R,
) -> Result<Vec<u8>, MerkleError<R::Error>> {
    if tile.width == 0 || tile.width > TILE_WIDTH {
        return Err(MerkleError::OutOfRange {
            what: "tile width",
            value: u64::from(tile.width),
            bound: u64::from(TILE_WIDTH),
        });
    }
    let level = merkle_level(tile.level).ok_or(MerkleError::OutOfRange {
        what: "tile level",
        value: u64::from(tile.level),
        bound: 7,
    })?;
    let available = size >> level;
    let start = tile.index.checked_mul(u64::from(TILE_WIDTH));
    let end = start.and_then(|s| s.checked_add(u64::from(tile.width)));
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) if e <= available => (s, e),
        _ => {
            return Err(MerkleError::OutOfRange {
                what: "tile end",
                value: end.unwrap_or(u64::MAX),
                bound: available,
            })
        }
    };
    let mut body = Vec::with_capacity(usize::from(tile.width) * HASH_SIZE);
    for k in start..end {
        let h = r
            .read_hash(stored_hash_index(level, k))
            .map_err(MerkleError::Read)?;
        body.extend_from_slice(&h.0);
    }
    Ok(body)
}

/// Encodes an entry bundle: each entry prefixed with its length as a
/// big-endian uint16. Refuses entries over 65,535 bytes, and bundles with
/// no entries or more than 256.
pub fn encode_entry_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    let mut count = 0usize;
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLarge { len: e.len() })?;
        count += 1;
        if count > usize::from(TILE_WIDTH) {
            return Err(TileError::BadBundle("more than 256 entries"));
        }
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    if count == 0 {
        return Err(TileError::BadBundle("no entries"));
    }
    Ok(out)
}

/// Decodes an entry bundle strictly: every byte must belong to a complete
/// length-prefixed entry (no truncated prefix or entry, nothing trailing),
/// with 1..=256 entries. The entries borrow from `bytes`.
pub fn decode_entry_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let out = decode_entries(bytes)?;
    if out.len() > usize::from(TILE_WIDTH) {
        return Err(TileError::BadBundle("more than 256 entries"));
    }
    Ok(out)
}

/// Decodes a file of entries in the bundle encoding but of any length (what
/// `tallyboard import` reads and `tallyboard enrol` writes), as strictly as
/// [`decode_entry_bundle`]: at least one entry, nothing truncated or
/// trailing.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let Some((prefix, tail)) = rest.split_first_chunk::<2>() else {
            return Err(TileError::BadBundle("truncated length prefix"));
        };
        let len = usize::from(u16::from_be_bytes(*prefix));
        if tail.len() < len {
            return Err(TileError::BadBundle("truncated entry"));
        }
        let (entry, next) = tail.split_at(len);
        out.push(entry);
        rest = next;
    }
    if out.is_empty() {
        return Err(TileError::BadBundle("no entries"));
    }
    Ok(out)
}

/// Why a [`TileHashReader`] could not produce a stored hash.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TileReaderError {
    /// The stored hash is not part of the tree of the reader's size.
    #[error("stored hash {index} is not part of a tree of size {size}")]
    NotInTree {
        /// The stored-hash index asked for.
        index: u64,
        /// The reader's tree size.
        size: u64,
    },
    /// The tile holding that hash has not been added.
    #[error("tile {level}/{index} needed but not supplied")]
    MissingTile {
        /// Tile level.
        level: u8,
        /// Tile index.
        index: u64,
    },
}

impl Coded for TileReaderError {
    fn code(&self) -> ErrorCode {
        match self {
            TileReaderError::NotInTree { .. } => ErrorCode::ProofOutOfRange,
            TileReaderError::MissingTile { .. } => ErrorCode::NotFound,
        }
    }
}

/// A client-side [`HashReader`] over fetched tiles for one checkpoint size.
///
/// Stored hashes at Merkle level `8·L` are read straight from tile level
/// `L`; those at levels `8·L + s` (`0 < s < 8`) are recomputed by hashing
/// the `2^s` hashes they cover inside the level-`L` tile.
///
/// The reader does not authenticate tiles. Anything computed from it is
/// only as good as the tiles: compare [`crate::merkle::tree_hash`] with the
/// checkpoint's root, and verify every proof computed from it with
/// [`crate::merkle::verify_inclusion`] / [`crate::merkle::verify_consistency`]
/// against the signed roots.
#[derive(Clone, Debug, Default)]
pub struct TileHashReader {
    size: u64,
    tiles: BTreeMap<(u8, u64), Vec<Hash>>,
}

impl TileHashReader {
    /// A reader for the tree of `size` records, with no tiles yet.
    pub fn new(size: u64) -> TileHashReader {
        TileHashReader {
            size,
            tiles: BTreeMap::new(),
        }
    }

    /// The tree size this reader serves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a fetched tile body. The tile must be part of the tree of the
    /// reader's size, and at least as wide as that tree needs (a wider tile,
    /// for example the full tile fetched instead of a partial one, is
    /// accepted and cut to the needed width). `body` must be exactly
    /// `tile.width · 32` bytes.
    pub fn add_tile(&mut self, tile: &TileId, body: &[u8]) -> Result<(), TileError> {
        if tile.width == 0 || tile.width > TILE_WIDTH {
            return Err(TileError::BadBody("tile width must be 1..256"));
        }
        if body.len() != usize::from(tile.width) * HASH_SIZE {
            return Err(TileError::BadBody("body length is not 32 × width"));
        }
        let not_in_tree = || TileError::NotInTree {
            tile: tile.path(),
            size: self.size,
        };
        let level = merkle_level(tile.level).ok_or_else(not_in_tree)?;
        let available = self.size >> level;
        let start = tile
            .index
            .checked_mul(u64::from(TILE_WIDTH))
            .filter(|s| *s < available)
            .ok_or_else(not_in_tree)?;
        let needed = (available - start).min(u64::from(TILE_WIDTH));
        if u64::from(tile.width) < needed {
            return Err(TileError::BadBody(
                "tile is narrower than the tree size requires",
            ));
        }
        let hashes: Vec<Hash> = body
            .chunks_exact(HASH_SIZE)
            .take(needed as usize)
            .map(|c| {
                let mut h = [0u8; HASH_SIZE];
                h.copy_from_slice(c);
                Hash(h)
            })
            .collect();
        self.tiles.insert((tile.level, tile.index), hashes);
        Ok(())
    }
}

/// MTH of a power-of-two run of same-level hashes (a perfect subtree).
fn perfect_root(run: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = run.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|c| node_hash(&c[0], &c[1]))
            .collect();
    }
    level.first().copied().unwrap_or(crate::hash::EMPTY_ROOT)
}

impl HashReader for TileHashReader {
    type Error = TileReaderError;

    fn read_hash(&self, index: u64) -> Result<Hash, TileReaderError> {
        let (level, n) = stored_hash_coords(index);
        let not_in_tree = TileReaderError::NotInTree {
            index,
            size: self.size,
        };
        // The node covers records [n·2^level, (n+1)·2^level).
        if level >= 64 || ((u128::from(n) + 1) << level) > u128::from(self.size) {
            return Err(not_in_tree);
        }
        let tile_level = level / TILE_HEIGHT;
        let sub = level % TILE_HEIGHT;
        // First covered hash at Merkle level 8·tile_level; fits u64 because
        // it is below the tree size.
        let first = n << sub;
        let tile_index = first / u64::from(TILE_WIDTH);
        let offset = (first % u64::from(TILE_WIDTH)) as usize;
        let count = 1usize << sub;
        let missing = TileReaderError::MissingTile {
            level: tile_level,
            index: tile_index,
        };
        let hashes = self
            .tiles
            .get(&(tile_level, tile_index))
            .ok_or(missing.clone())?;
        let run = hashes.get(offset..offset + count).ok_or(missing)?;
        Ok(perfect_root(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::merkle::tests::{hx, load_vectors, num};
    use crate::merkle::{
        prove_consistency, prove_inclusion, stored_hash_count, stored_hashes, tree_hash,
        verify_consistency, verify_inclusion, MemoryLog,
    };

    /// Stored hashes of a log of `n` synthetic records, built without
    /// computing a root per append (fast for large n).
    fn stored_log(n: u64) -> Vec<Hash> {
        let mut v = Vec::new();
        for i in 0..n {
            let add = stored_hashes(i, leaf_hash(format!("r{i}").as_bytes()), &v).unwrap();
            v.extend(add);
        }
        v
    }

    fn hashes(level: u8, index: u64, width: u16) -> TilePath {
        TilePath::Hashes(TileId {
            level,
            index,
            width,
        })
    }

    #[test]
    fn index_encoding_matches_vectors() {
        let v = load_vectors();
        let enc = v["tile_paths"]["index_encoding"].as_object().unwrap();
        assert_eq!(enc.len(), 8);
        for (n, want) in enc {
            let n: u64 = n.parse().unwrap();
            assert_eq!(encode_tile_index(n), want.as_str().unwrap());
            let p = format!("tile/0/{}", want.as_str().unwrap());
            assert_eq!(parse_tile_path(&p), Ok(hashes(0, n, 256)));
        }
        assert_eq!(
            encode_tile_index(u64::MAX),
            "x018/x446/x744/x073/x709/x551/615"
        );
    }

    #[test]
    fn parse_accepts_spec_examples() {
        let cases = [
            ("tile/0/000", hashes(0, 0, 256)),
            ("tile/0/x001/x234/067", hashes(0, 1234067, 256)),
            ("tile/0/273.p/112", hashes(0, 273, 112)),
            ("tile/1/001.p/17", hashes(1, 1, 17)),
            ("tile/2/000.p/1", hashes(2, 0, 1)),
            ("tile/0/x001/x234/067.p/255", hashes(0, 1234067, 255)),
            ("tile/63/999", hashes(63, 999, 256)),
            ("tile/10/x001/000", hashes(10, 1000, 256)),
            (
                "tile/entries/x019/669",
                TilePath::Entries {
                    index: 19669,
                    width: 256,
                },
            ),
            (
                "tile/entries/000.p/15",
                TilePath::Entries {
                    index: 0,
                    width: 15,
                },
            ),
            (
                "tile/0/x018/x446/x744/x073/x709/x551/615",
                hashes(0, u64::MAX, 256),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(parse_tile_path(path), Ok(want), "{path}");
            assert_eq!(want.to_path(), path);
        }
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            "",
            "tile",
            "tile/",
            "tile/0",
            "tile/0/",
            "/tile/0/000",
            "tiles/0/000",
            "tile/00/000",
            "tile/01/000",
            "tile/64/000",
            "tile/100/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/ 0/000",
            "tile/a/000",
            "tile/0/0",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/1",
            "tile/0/00a",
            "tile/0/001/234",
            "tile/0/x001",
            "tile/0/x001/",
            "tile/0/x1/000",
            "tile/0/x0001/000",
            "tile/0/X001/000",
            "tile/0/x000/001",
            "tile/0/x000/x001/000",
            "tile/0/000/",
            "tile/0/000/001",
            "tile/0/000.p",
            "tile/0/000.p/",
            "tile/0/000.p/0",
            "tile/0/000.p/00",
            "tile/0/000.p/012",
            "tile/0/000.p/256",
            "tile/0/000.p/1000",
            "tile/0/000.p/+5",
            "tile/0/000.p/5/",
            "tile/0/000.p/5/6",
            "tile/0/000.P/5",
            "tile/0/000.p5",
            "tile/0/x001.p/5",
            "tile/0/000\n",
            "tile/0/000?x=1",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
            "tile/entries/0",
            "tile/entries/000.p/0",
            "tile/entries/000.p/256",
            "tile/Entries/000",
            "tile/data/000",
            // Go sumdb spelling carries the height: not ours.
            "tile/8/0/x001/x234/067.p/112",
        ] {
            let r = parse_tile_path(bad);
            assert!(r.is_err(), "accepted {bad:?}: {r:?}");
            assert_eq!(r.unwrap_err().code(), ErrorCode::TileMalformed);
        }
        let v = load_vectors();
        let go = v["tile_paths"]["go_sumdb_style"].as_str().unwrap();
        let go_path = go.split_whitespace().next().unwrap();
        assert!(parse_tile_path(go_path).is_err());
    }

    #[test]
    fn tiles_for_size_matches_vectors() {
        let v = load_vectors();
        let tp = &v["tile_paths"];
        let t70k = tiles_for_size(70000);
        let t = &tp["tree_70000"];
        assert_eq!(t70k.len() as u64, num(&t["count"]));
        let l0_full = t70k.iter().filter(|t| t.level == 0 && t.is_full()).count();
        assert_eq!(l0_full as u64, num(&t["level0_full"]));
        let partial: Vec<String> = t70k
            .iter()
            .filter(|t| !t.is_full())
            .map(|t| t.path())
            .collect();
        let want: Vec<&str> = t["partial"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(partial, want);
        let l1_full: Vec<String> = t70k
            .iter()
            .filter(|t| t.level == 1 && t.is_full())
            .map(|t| t.path())
            .collect();
        let want: Vec<&str> = t["level1_full"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(l1_full, want);
        let t256: Vec<String> = tiles_for_size(256).iter().map(|t| t.path()).collect();
        let want: Vec<&str> = tp["tree_256"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(t256, want);
        assert!(tiles_for_size(0).is_empty());
        assert_eq!(partial_width(0, 70000), 112);
        assert_eq!(partial_width(1, 70000), 17);
        assert_eq!(partial_width(2, 70000), 1);
        assert_eq!(partial_width(3, 70000), 0);
        assert_eq!(partial_width(8, u64::MAX), 0);
        assert_eq!(partial_width(7, u64::MAX), 255);
        assert_eq!(partial_width(255, u64::MAX), 0);
        // The iterator is lazy even for the largest size.
        assert_eq!(tiles_for_size_iter(u64::MAX).take(3).count(), 3);
        // Rekor v2: log index 5035492 lives in entry bundle 19669.
        let bundle = TilePath::Entries {
            index: 5035492 / 256,
            width: 256,
        };
        assert!(tp["rekor_v2_example"]
            .as_str()
            .unwrap()
            .contains(&bundle.to_path()));
    }

    #[test]
    fn tiled_300_tiles_match_sunlight() {
        let v = load_vectors();
        let t = &v["tiled_300"];
        let mut log = MemoryLog::new();
        for i in 0..300 {
            log.append_entry(format!("record {i}").as_bytes()).unwrap();
        }
        assert_eq!(log.root(), hx(&t["root_hex"]));
        let tiles = tiles_for_size(300);
        let paths: Vec<String> = tiles.iter().map(|t| t.path()).collect();
        assert_eq!(paths, ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]);
        let want = t["tiles"].as_object().unwrap();
        assert_eq!(want.len(), 3);
        for tile in &tiles {
            let body = read_tile(tile, 300, &log).unwrap();
            let w = &want[&tile.path()];
            assert_eq!(body.len() as u64, num(&w["bytes"]), "{tile}");
            if let Some(sha) = w.get("sha256") {
                assert_eq!(
                    Hash::sha256(&body).to_hex(),
                    sha.as_str().unwrap(),
                    "{tile}"
                );
            }
            if let Some(h) = w.get("hex") {
                assert_eq!(hex::encode(&body), h.as_str().unwrap(), "{tile}");
            }
        }
        // Not covered by size 300.
        for bad in [
            TileId {
                level: 0,
                index: 1,
                width: 45,
            },
            TileId {
                level: 0,
                index: 1,
                width: 256,
            },
            TileId {
                level: 0,
                index: 2,
                width: 1,
            },
            TileId {
                level: 1,
                index: 0,
                width: 2,
            },
            TileId {
                level: 0,
                index: 0,
                width: 0,
            },
            TileId {
                level: 0,
                index: 0,
                width: 257,
            },
            TileId {
                level: 8,
                index: 0,
                width: 1,
            },
            TileId {
                level: 0,
                index: u64::MAX,
                width: 1,
            },
        ] {
            assert!(read_tile(&bad, 300, &log).is_err(), "{bad:?}");
        }
        // An older partial tile is still covered.
        assert_eq!(
            read_tile(
                &TileId {
                    level: 0,
                    index: 1,
                    width: 10
                },
                300,
                &log
            )
            .unwrap()
            .len(),
            320
        );
    }

    #[test]
    fn tessera_bundle_and_tile_match() {
        let v = load_vectors();
        let t = &v["tessera_testdata_log"];
        let entries: Vec<&[u8]> = t["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().as_bytes())
            .collect();
        let bundle = encode_entry_bundle(entries.iter().copied()).unwrap();
        assert_eq!(
            hex::encode(&bundle),
            t["entry_bundle"]["hex"].as_str().unwrap()
        );
        assert_eq!(decode_entry_bundle(&bundle).unwrap(), entries);
        assert_eq!(
            parse_tile_path(t["entry_bundle"]["path"].as_str().unwrap()),
            Ok(TilePath::Entries {
                index: 0,
                width: 15
            })
        );
        let mut log = MemoryLog::new();
        for e in &entries {
            log.append_entry(e).unwrap();
        }
        let tile_path = t["tile"]["path"].as_str().unwrap();
        let TilePath::Hashes(tile) = parse_tile_path(tile_path).unwrap() else {
            panic!("hash tile expected");
        };
        assert_eq!(tiles_for_size(15), vec![tile]);
        let body = read_tile(&tile, 15, &log).unwrap();
        assert_eq!(hex::encode(&body), t["tile"]["hex"].as_str().unwrap());
        // A client rebuilds the root from the tile alone.
        let mut reader = TileHashReader::new(15);
        reader.add_tile(&tile, &body).unwrap();
        assert_eq!(tree_hash(15, &reader).unwrap(), log.root());
    }

    #[test]
    fn entry_bundles_are_strict() {
        let big = vec![0u8; 65536];
        assert_eq!(
            encode_entry_bundle([&big[..]]),
            Err(TileError::EntryTooLarge { len: 65536 })
        );
        assert_eq!(
            TileError::EntryTooLarge { len: 1 }.code(),
            ErrorCode::EntryTooLarge
        );
        let max = encode_entry_bundle([&big[..65535]]).unwrap();
        assert_eq!(&max[..2], &[0xff, 0xff]);
        assert_eq!(decode_entry_bundle(&max).unwrap()[0].len(), 65535);
        assert!(encode_entry_bundle(std::iter::empty()).is_err());
        let many: Vec<&[u8]> = vec![b"a"; 257];
        assert!(encode_entry_bundle(many.iter().copied()).is_err());
        assert!(encode_entry_bundle(many[..256].iter().copied()).is_ok());
        // Empty entries are allowed.
        let b = encode_entry_bundle([&b""[..], b"xy"]).unwrap();
        assert_eq!(b, [0, 0, 0, 2, b'x', b'y']);
        assert_eq!(decode_entry_bundle(&b).unwrap(), vec![&b""[..], b"xy"]);
        for bad in [
            &[][..],
            &[0][..],
            &[0, 2, b'x'][..],
            &[0, 2, b'x', b'y', 0][..],
            &[0, 1, b'x', 0, 3, b'a'][..],
        ] {
            let r = decode_entry_bundle(bad);
            assert!(r.is_err(), "{bad:?}");
            assert_eq!(r.unwrap_err().code(), ErrorCode::TileMalformed);
        }
        let mut too_many = Vec::new();
        for _ in 0..257 {
            too_many.extend_from_slice(&[0, 0]);
        }
        assert!(decode_entry_bundle(&too_many).is_err());
        assert_eq!(decode_entry_bundle(&too_many[..512]).unwrap().len(), 256);
    }

    fn reader_for(size: u64, stored: &Vec<Hash>) -> TileHashReader {
        let mut reader = TileHashReader::new(size);
        for tile in tiles_for_size(size) {
            let body = read_tile(&tile, size, stored).unwrap();
            reader.add_tile(&tile, &body).unwrap();
        }
        reader
    }

    #[test]
    fn tile_reader_reproduces_every_stored_hash() {
        let stored = stored_log(1100);
        for size in [1u64, 2, 7, 255, 256, 257, 511, 512, 600, 1024, 1100] {
            let reader = reader_for(size, &stored);
            for i in 0..stored_hash_count(size) {
                assert_eq!(
                    reader.read_hash(i),
                    Ok(stored[i as usize]),
                    "size {size} index {i}"
                );
            }
            assert!(matches!(
                reader.read_hash(stored_hash_count(size)),
                Err(TileReaderError::NotInTree { .. })
            ));
            assert_eq!(
                tree_hash(size, &reader).unwrap(),
                tree_hash(size, &stored).unwrap()
            );
        }
    }

    #[test]
    fn tile_reader_proofs_over_three_tile_levels() {
        let size = 70000u64;
        let stored = stored_log(size);
        let reader = reader_for(size, &stored);
        let root = tree_hash(size, &stored).unwrap();
        assert_eq!(tree_hash(size, &reader).unwrap(), root);
        for i in [0u64, 1, 255, 256, 65535, 65536, 69887, 69888, 69999] {
            let p = prove_inclusion(i, size, &reader).unwrap();
            assert_eq!(p, prove_inclusion(i, size, &stored).unwrap());
            let leaf = stored[crate::merkle::stored_hash_index(0, i) as usize];
            verify_inclusion(&leaf, i, size, &p, &root).unwrap();
        }
        for old in [1u64, 255, 256, 257, 65536, 65537, 69999] {
            let p = prove_consistency(old, size, &reader).unwrap();
            assert_eq!(p, prove_consistency(old, size, &stored).unwrap());
            let old_root = tree_hash(old, &reader).unwrap();
            verify_consistency(old, size, &old_root, &root, &p).unwrap();
        }
    }

    #[test]
    fn tile_reader_refuses_bad_tiles() {
        let stored = stored_log(300);
        let mut r = TileHashReader::new(300);
        let t0 = TileId {
            level: 0,
            index: 0,
            width: 256,
        };
        let body = read_tile(&t0, 300, &stored).unwrap();
        assert!(r.add_tile(&t0, &body[..body.len() - 1]).is_err());
        assert!(r.add_tile(&TileId { width: 0, ..t0 }, &[]).is_err());
        assert!(r
            .add_tile(&TileId { width: 257, ..t0 }, &[0; 257 * 32])
            .is_err());
        // Not part of a tree of size 300.
        let e = r
            .add_tile(
                &TileId {
                    level: 0,
                    index: 2,
                    width: 1,
                },
                &[0; 32],
            )
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ProofOutOfRange);
        assert!(r
            .add_tile(
                &TileId {
                    level: 2,
                    index: 0,
                    width: 1
                },
                &[0; 32]
            )
            .is_err());
        assert!(r
            .add_tile(
                &TileId {
                    level: 9,
                    index: 0,
                    width: 1
                },
                &[0; 32]
            )
            .is_err());
        assert!(r
            .add_tile(
                &TileId {
                    level: 0,
                    index: u64::MAX,
                    width: 1
                },
                &[0; 32]
            )
            .is_err());
        // Narrower than the size needs.
        let narrow = TileId {
            level: 0,
            index: 1,
            width: 43,
        };
        assert!(r.add_tile(&narrow, &[0; 43 * 32]).is_err());
        // Missing tiles are reported.
        assert_eq!(
            r.read_hash(0),
            Err(TileReaderError::MissingTile { level: 0, index: 0 })
        );
        assert_eq!(r.read_hash(0).unwrap_err().code(), ErrorCode::NotFound);
        r.add_tile(&t0, &body).unwrap();
        assert_eq!(r.read_hash(0), Ok(stored[0]));
        assert!(tree_hash(300, &r).is_err()); // needs tile/0/001.p/44
                                              // A full tile in place of the partial one is accepted (and cut).
        let mut bigger = read_tile(
            &TileId {
                level: 0,
                index: 1,
                width: 44,
            },
            300,
            &stored,
        )
        .unwrap();
        bigger.resize(256 * 32, 0xaa);
        r.add_tile(
            &TileId {
                level: 0,
                index: 1,
                width: 256,
            },
            &bigger,
        )
        .unwrap();
        // Level-8 hashes come from tile level 1, not from the level-0 tile.
        assert!(tree_hash(300, &r).is_err());
        let t1 = TileId {
            level: 1,
            index: 0,
            width: 1,
        };
        r.add_tile(&t1, &read_tile(&t1, 300, &stored).unwrap())
            .unwrap();
        assert_eq!(
            tree_hash(300, &r).unwrap(),
            tree_hash(300, &stored).unwrap()
        );
        assert!(matches!(
            r.read_hash(stored_hash_count(300)),
            Err(TileReaderError::NotInTree { .. })
        ));
        assert!(r.read_hash(u64::MAX).is_err());
    }
}
