//! The embedded store: the log on the local file system (`spec/storage.md`).
//!
//! ```text
//! STORE                  format line, origin, manifest SHA-256
//! LOCK                   the writer's lock (flock), its process id
//! journal/<size>         commit journal segments (framed records)
//! packs/entries          every entry, uint16 length-prefixed: the C2SP entry
//!                        bundles back to back, bundle N = one byte range
//! packs/offsets          u64 end offset in packs/entries of each entry
//! packs/tile-<L>         the hashes of Merkle level 8·L in order: hash tile
//!                        L/N[.p/W] = 32·W bytes at 8192·N
//! packs/checkpoints      every committed signed checkpoint, back to back
//! packs/checkpoints.idx  (size, end offset) per committed checkpoint
//! cosigned, cosigned.idx the cosigned notes (framed) and (size, offset) each
//! leaves/<start>-<end>   the leaf-hash index (`leaves.rs`)
//! blobs/<sha256>         content-addressed blobs (`blobs.rs`)
//! ```
//!
//! **One durable write per commit.** A commit is one journal record (the
//! entries and the signed checkpoint) and one `fdatasync` of the journal
//! segment; the packs and the leaf index are then written without one.
//! **Settling** makes the packs durable (one `fdatasync` each, every
//! 16,384 entries or 16 MiB of journal), writes the leaf-index run, and
//! starts a new journal segment with a *base* record naming the settled
//! sizes; older segments are then deleted. Opening truncates the packs to
//! the base's sizes and re-applies the journal's commits after it, so
//! whatever a crash left unsynced in the packs is rebuilt from durable
//! bytes. The right edge of the tree (one hash per set bit of the size) is
//! the only part of the tree in memory.

use super::blobs::{dir_bytes, sync_dir, write_atomic, Blobs};
use super::framed::{self, End, Framed};
use super::frontier::Frontier;
use super::leaves::Leaves;
use super::{Commit, LogReader, LogWriter, Opened, Store, StoreError, StoreResult};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tallyboard_core::checkpoint;
use tallyboard_core::hash::{leaf_hash, node_hash};
use tallyboard_core::merkle::stored_hash_coords;
use tallyboard_core::note::Verifiers;
use tallyboard_core::tile::{TileId, TILE_HEIGHT, TILE_WIDTH};
use tallyboard_core::{ErrorCode, Hash};

/// The store's format file.
pub const META: &str = "STORE";
const FORMAT_LINE: &str = "tallyboard-store 1";
const LOCK: &str = "LOCK";
/// Tile levels kept (8 levels of 8 Merkle levels: every 64-bit tree).
const TILE_LEVELS: usize = 8;

/// Journal record kinds.
const BASE: u8 = 1;
const COMMIT: u8 = 2;
/// Cosigned record kind.
const COSIGNED: u8 = 3;

/// Settle after this many entries since the last settle...
const SETTLE_ENTRIES: u64 = 16_384;
/// ... or this many journal bytes.
const SETTLE_BYTES: u64 = 16 << 20;

/// What the format file says.
#[derive(Clone, Debug)]
pub struct Meta {
    /// The log's origin.
    pub origin: String,
    /// SHA-256 of the manifest blob.
    pub manifest: Hash,
}

/// The manifest a store in `dir` names in its format file: the blob it
/// names must be there (`store.corrupt`), be a valid manifest, and name
/// the store's origin. The one reading of it for the board and a mirror,
/// so that both refuse the same stores.
pub fn read_manifest(dir: &Path) -> StoreResult<tallyboard_core::manifest::ValidatedManifest> {
    let meta = read_meta(dir)?;
    let bytes = super::blobs::Blobs::open(&dir.join("blobs"))?
        .get(&meta.manifest)?
        .ok_or_else(|| {
            StoreError::corrupt(format!("the manifest blob {} is missing", meta.manifest))
        })?;
    let manifest = tallyboard_core::manifest::ValidatedManifest::from_bytes(&bytes)
        .map_err(|e| StoreError::corrupt(format!("the stored manifest: {e}")))?;
    if manifest.manifest().log.origin != meta.origin {
        return Err(StoreError::corrupt(format!(
            "the store's origin {} is not its manifest's {}",
            meta.origin,
            manifest.manifest().log.origin
        )));
    }
    Ok(manifest)
}

/// Reads a store's format file, refusing another format (`store.version`)
/// and a directory without a store (`store.missing`).
pub fn read_meta(dir: &Path) -> StoreResult<Meta> {
    let path = dir.join(META);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if dir.join("db").exists() {
                return Err(StoreError::new(
                    ErrorCode::StoreVersion,
                    format!(
                        "{} holds a board in the sled layout of earlier versions, which this version does not read (spec/storage.md §7): nothing is migrated; create a new board with `tallyboard init` and import the entries",
                        dir.display()
                    ),
                ));
            }
            return Err(StoreError::new(
                ErrorCode::StoreMissing,
                format!(
                    "{} holds no board (run `tallyboard init` first)",
                    dir.display()
                ),
            ));
        }
        Err(e) => return Err(StoreError::io(format!("reading {}", path.display()), e)),
    };
    let mut lines = text.lines();
    if lines.next() != Some(FORMAT_LINE) {
        return Err(StoreError::new(
            ErrorCode::StoreVersion,
            format!(
                "{}: not a {FORMAT_LINE:?} store: {:?}",
                path.display(),
                text.lines().next().unwrap_or("")
            ),
        ));
    }
    let field = |l: Option<&str>, name: &str| -> StoreResult<String> {
        l.and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
            .map(str::to_owned)
            .ok_or_else(|| StoreError::corrupt(format!("{}: no {name} line", path.display())))
    };
    let origin = field(lines.next(), "origin")?;
    let manifest = Hash::from_hex(&field(lines.next(), "manifest")?)
        .ok_or_else(|| StoreError::corrupt(format!("{}: bad manifest digest", path.display())))?;
    Ok(Meta { origin, manifest })
}

fn io_err(what: &str, path: &Path) -> impl Fn(std::io::Error) -> StoreError {
    let what = format!("{what} {}", path.display());
    move |e| StoreError::io(what.clone(), e)
}

fn open_rw(path: &Path, create: bool) -> StoreResult<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::truncated(format!("{} is missing", path.display()))
            } else {
                StoreError::io(format!("opening {}", path.display()), e)
            }
        })
}

fn file_len(f: &File, path: &Path) -> StoreResult<u64> {
    Ok(f.metadata().map_err(io_err("reading", path))?.len())
}

fn pread(f: &File, at: u64, len: u64, what: &str) -> StoreResult<Vec<u8>> {
    let mut buf =
        vec![0u8; usize::try_from(len).map_err(|_| StoreError::storage("read too large"))?];
    f.read_exact_at(&mut buf, at).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            StoreError::truncated(format!("{what}: {len} bytes at {at} are not stored"))
        } else {
            StoreError::io(format!("reading {what}"), e)
        }
    })?;
    Ok(buf)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// The pack files.
struct Packs {
    dir: PathBuf,
    entries: File,
    offsets: File,
    tiles: Vec<File>,
    checkpoints: File,
    cp_index: File,
}

impl Packs {
    fn open(dir: &Path, create: bool) -> StoreResult<Packs> {
        let p = |n: &str| dir.join(n);
        let mut tiles = Vec::with_capacity(TILE_LEVELS);
        for l in 0..TILE_LEVELS {
            tiles.push(open_rw(&p(&format!("tile-{l}")), create)?);
        }
        Ok(Packs {
            dir: dir.to_path_buf(),
            entries: open_rw(&p("entries"), create)?,
            offsets: open_rw(&p("offsets"), create)?,
            tiles,
            checkpoints: open_rw(&p("checkpoints"), create)?,
            cp_index: open_rw(&p("checkpoints.idx"), create)?,
        })
    }

    fn named(&self) -> Vec<(&File, String)> {
        let mut v = vec![
            (&self.entries, "entries".to_owned()),
            (&self.offsets, "offsets".to_owned()),
            (&self.checkpoints, "checkpoints".to_owned()),
            (&self.cp_index, "checkpoints.idx".to_owned()),
        ];
        for (l, f) in self.tiles.iter().enumerate() {
            v.push((f, format!("tile-{l}")));
        }
        v
    }

    fn sync(&self) -> StoreResult<()> {
        for (f, name) in self.named() {
            f.sync_data()
                .map_err(|e| StoreError::io(format!("fdatasync packs/{name}"), e))?;
        }
        Ok(())
    }

    fn len(&self, f: &File, name: &str) -> StoreResult<u64> {
        file_len(f, &self.dir.join(name))
    }
}

/// What settling made durable: the packs' lengths at `size`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Base {
    size: u64,
    entries_len: u64,
    cp_len: u64,
    cp_count: u64,
    /// The latest committed checkpoint, of size `size`.
    note: Vec<u8>,
}

impl Base {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(36 + self.note.len());
        for n in [self.size, self.entries_len, self.cp_len, self.cp_count] {
            v.extend_from_slice(&n.to_le_bytes());
        }
        v.extend_from_slice(&(self.note.len() as u32).to_le_bytes());
        v.extend_from_slice(&self.note);
        v
    }

    fn decode(b: &[u8]) -> Option<Base> {
        if b.len() < 36 {
            return None;
        }
        let note_len = u32::from_le_bytes(b[32..36].try_into().ok()?) as usize;
        if b.len() != 36 + note_len {
            return None;
        }
        Some(Base {
            size: u64_at(b, 0),
            entries_len: u64_at(b, 8),
            cp_len: u64_at(b, 16),
            cp_count: u64_at(b, 24),
            note: b[36..].to_vec(),
        })
    }
}

/// A commit record's payload:
/// `first u64 | count u32 | entries (uint16 BE length + bytes) | size u64 |
/// root [32] | note length u32 | note` (note length 0: held, no checkpoint).
struct CommitRecord<'a> {
    first: u64,
    /// The entries, length-prefixed, as in a bundle.
    section: &'a [u8],
    entries: Vec<&'a [u8]>,
    checkpoint: Option<(u64, Hash, &'a [u8])>,
}

fn encode_commit(c: &Commit<'_>) -> (Vec<u8>, std::ops::Range<usize>) {
    let body: usize = c.entries.iter().map(|e| e.len() + 2).sum();
    let note = c.checkpoint.map_or(&[][..], |n| n.note);
    let mut v = Vec::with_capacity(12 + body + 44 + note.len());
    v.extend_from_slice(&c.first.to_le_bytes());
    v.extend_from_slice(&(c.entries.len() as u32).to_le_bytes());
    let start = v.len();
    for e in c.entries {
        v.extend_from_slice(&(e.len() as u16).to_be_bytes());
        v.extend_from_slice(e);
    }
    let end = v.len();
    let (size, root) = c
        .checkpoint
        .map_or((0, Hash([0; 32])), |n| (n.size, n.root));
    v.extend_from_slice(&size.to_le_bytes());
    v.extend_from_slice(&root.0);
    v.extend_from_slice(&(note.len() as u32).to_le_bytes());
    v.extend_from_slice(note);
    (v, start..end)
}

fn decode_commit(b: &[u8]) -> Option<CommitRecord<'_>> {
    let first = u64_at(b.get(..8)?, 0);
    let count = u32::from_le_bytes(b.get(8..12)?.try_into().ok()?) as usize;
    let mut at = 12usize;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let len = u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize;
        entries.push(b.get(at + 2..at + 2 + len)?);
        at += 2 + len;
    }
    let section = &b[12..at];
    let size = u64_at(b.get(at..at + 8)?, 0);
    let root = Hash(b.get(at + 8..at + 40)?.try_into().ok()?);
    let note_len = u32::from_le_bytes(b.get(at + 40..at + 44)?.try_into().ok()?) as usize;
    let note = b.get(at + 44..at + 44 + note_len)?;
    if at + 44 + note_len != b.len() {
        return None;
    }
    Some(CommitRecord {
        first,
        section,
        entries,
        checkpoint: (note_len > 0).then_some((size, root, note)),
    })
}

/// Splits length-prefixed entries.
fn split_entries(mut b: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let len = usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]));
        out.push(b.get(2..2 + len)?);
        b = &b[2 + len..];
    }
    Some(out)
}

/// The cosigned notes: a framed file and an index of (size, offset).
struct Cosigned {
    file: Framed,
    index: File,
    index_path: PathBuf,
    count: u64,
    last_size: Option<u64>,
}

impl Cosigned {
    fn record(&self, j: u64) -> StoreResult<(u64, u64)> {
        let b = pread(&self.index, 16 * j, 16, "cosigned.idx")?;
        Ok((u64_at(&b, 0), u64_at(&b, 8)))
    }

    /// The offset of the newest cosigned note of `size`.
    fn find(&self, size: u64) -> StoreResult<Option<u64>> {
        let (mut lo, mut hi) = (0u64, self.count);
        // First record with a size above `size`.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.record(mid)?.0 <= size {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == 0 {
            return Ok(None);
        }
        let (s, off) = self.record(lo - 1)?;
        Ok((s == size).then_some(off))
    }

    fn note_at(&self, offset: u64) -> StoreResult<Vec<u8>> {
        let r = self.file.read_at(offset)?;
        if r.kind != COSIGNED {
            return Err(StoreError::corrupt("cosigned: a record of another kind"));
        }
        Ok(r.payload)
    }

    fn append_index(&mut self, size: u64, offset: u64) -> StoreResult<()> {
        let mut rec = [0u8; 16];
        rec[..8].copy_from_slice(&size.to_le_bytes());
        rec[8..].copy_from_slice(&offset.to_le_bytes());
        self.index
            .write_all_at(&rec, 16 * self.count)
            .map_err(io_err("writing", &self.index_path))?;
        self.count += 1;
        self.last_size = Some(size);
        Ok(())
    }
}

/// What readers share.
struct Shared {
    dir: PathBuf,
    packs: Packs,
    /// Entries written to the packs (readers read below a published size).
    stored: AtomicU64,
    /// Checkpoints in the checkpoint index.
    cp_count: AtomicU64,
    leaves: RwLock<Leaves>,
    blobs: Blobs,
    cosigned: Mutex<Cosigned>,
}

impl Shared {
    /// The end offset of entry `i` in the entries pack.
    fn end_of(&self, i: u64) -> StoreResult<u64> {
        Ok(u64_at(
            &pread(&self.packs.offsets, 8 * i, 8, "packs/offsets")?,
            0,
        ))
    }

    fn start_of(&self, i: u64) -> StoreResult<u64> {
        if i == 0 {
            Ok(0)
        } else {
            self.end_of(i - 1)
        }
    }

    fn cp_record(&self, j: u64) -> StoreResult<(u64, u64)> {
        let b = pread(&self.packs.cp_index, 16 * j, 16, "packs/checkpoints.idx")?;
        Ok((u64_at(&b, 0), u64_at(&b, 8)))
    }

    /// The index of the committed checkpoint of `size`.
    fn find_cp(&self, size: u64) -> StoreResult<Option<u64>> {
        let (mut lo, mut hi) = (0u64, self.cp_count.load(Ordering::Acquire));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (s, _) = self.cp_record(mid)?;
            match s.cmp(&size) {
                std::cmp::Ordering::Equal => return Ok(Some(mid)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(None)
    }

    fn committed_note(&self, j: u64) -> StoreResult<Vec<u8>> {
        let start = if j == 0 { 0 } else { self.cp_record(j - 1)?.1 };
        let (_, end) = self.cp_record(j)?;
        if end < start {
            return Err(StoreError::corrupt("packs/checkpoints.idx is out of order"));
        }
        pread(
            &self.packs.checkpoints,
            start,
            end - start,
            "packs/checkpoints",
        )
    }

    fn lock_cosigned(&self) -> std::sync::MutexGuard<'_, Cosigned> {
        self.cosigned.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LogReader for Shared {
    fn stored_size(&self) -> u64 {
        self.stored.load(Ordering::Acquire)
    }

    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        if index >= self.stored_size() {
            return Ok(None);
        }
        let (start, end) = (self.start_of(index)?, self.end_of(index)?);
        if end < start + 2 {
            return Err(StoreError::corrupt(format!(
                "packs/offsets: entry {index} ends before it starts"
            )));
        }
        let b = pread(&self.packs.entries, start, end - start, "packs/entries")?;
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        if len != b.len() - 2 {
            return Err(StoreError::corrupt(format!(
                "packs/entries: entry {index}'s length prefix disagrees with packs/offsets"
            )));
        }
        let bytes = b[2..].to_vec();
        let leaf = self.stored_hash(tallyboard_core::merkle::stored_hash_index(0, index))?;
        super::check_entry("packs/entries: ", index, &bytes, &leaf)?;
        Ok(Some(bytes))
    }

    fn entries(&self, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
        if !super::check_range(start, end, self.stored_size())? {
            return Ok(Vec::new());
        }
        let (from, to) = (self.start_of(start)?, self.end_of(end - 1)?);
        let b = pread(
            &self.packs.entries,
            from,
            to.saturating_sub(from),
            "packs/entries",
        )?;
        let list = split_entries(&b).ok_or_else(|| {
            StoreError::corrupt(format!(
                "packs/entries: entries {start}..{end} do not parse"
            ))
        })?;
        if list.len() as u64 != end - start {
            return Err(StoreError::corrupt(format!(
                "packs/entries: entries {start}..{end} hold {} entries",
                list.len()
            )));
        }
        Ok(list.into_iter().map(<[u8]>::to_vec).collect())
    }

    fn bundle(&self, n: u64, width: u16) -> StoreResult<Vec<u8>> {
        let w = u64::from(TILE_WIDTH);
        let first = n
            .checked_mul(w)
            .ok_or_else(|| StoreError::storage("bundle index"))?;
        let last = first + u64::from(width.max(1)) - 1;
        if width == 0 || width > TILE_WIDTH || last >= self.stored_size() {
            return Err(StoreError::storage(format!(
                "bundle {n} of width {width} is not stored"
            )));
        }
        let (start, end) = (self.start_of(first)?, self.end_of(last)?);
        pread(
            &self.packs.entries,
            start,
            end.saturating_sub(start),
            "packs/entries",
        )
    }

    fn tile(&self, tile: &TileId) -> StoreResult<Vec<u8>> {
        let level = usize::from(tile.level);
        let count = self
            .stored_size()
            .checked_shr(u32::from(tile.level) * u32::from(TILE_HEIGHT))
            .unwrap_or(0);
        let start = tile.index.checked_mul(u64::from(TILE_WIDTH));
        let end = start.and_then(|s| s.checked_add(u64::from(tile.width)));
        match (start, end) {
            (Some(s), Some(e)) if level < TILE_LEVELS && tile.width > 0 && e <= count => pread(
                &self.packs.tiles[level],
                32 * s,
                32 * (e - s),
                "a tile pack",
            ),
            _ => Err(StoreError::storage(format!(
                "{} is not stored",
                tile.path()
            ))),
        }
    }

    fn stored_hash(&self, index: u64) -> StoreResult<Hash> {
        let (level, k) = stored_hash_coords(index);
        let tl = usize::from(level / TILE_HEIGHT);
        let s = u32::from(level % TILE_HEIGHT);
        let count = self
            .stored_size()
            .checked_shr(u32::from(level / TILE_HEIGHT) * u32::from(TILE_HEIGHT))
            .unwrap_or(0);
        let lo = k.checked_shl(s).filter(|lo| lo >> s == k);
        let hi = k
            .checked_add(1)
            .and_then(|k1| k1.checked_shl(s))
            .filter(|h| *h >> s == k + 1);
        let (lo, hi) = match (lo, hi) {
            (Some(lo), Some(hi)) if tl < TILE_LEVELS && hi <= count => (lo, hi),
            _ => {
                return Err(StoreError::storage(format!(
                    "stored hash {index} is not stored"
                )))
            }
        };
        let b = pread(
            &self.packs.tiles[tl],
            32 * lo,
            32 * (hi - lo),
            "a tile pack",
        )?;
        let mut level: Vec<Hash> = b
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().unwrap_or([0; 32])))
            .collect();
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
        }
        level
            .first()
            .copied()
            .ok_or_else(|| StoreError::storage("empty hash range"))
    }

    fn checkpoint(&self, size: u64) -> StoreResult<Option<Vec<u8>>> {
        let Some(j) = self.find_cp(size)? else {
            return Ok(None);
        };
        let c = self.lock_cosigned();
        if let Some(off) = c.find(size)? {
            return c.note_at(off).map(Some);
        }
        drop(c);
        self.committed_note(j).map(Some)
    }

    fn checkpoint_sizes(&self, at_most: u64, n: usize) -> StoreResult<Vec<u64>> {
        let (mut lo, mut hi) = (0u64, self.cp_count.load(Ordering::Acquire));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.cp_record(mid)?.0 <= at_most {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut out = Vec::new();
        let mut j = lo;
        while j > 0 && out.len() < n {
            j -= 1;
            out.push(self.cp_record(j)?.0);
        }
        Ok(out)
    }

    fn cosigned(&self, n: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        let c = self.lock_cosigned();
        let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut j = c.count;
        while j > 0 && out.len() < n {
            j -= 1;
            let (size, off) = c.record(j)?;
            if out.last().is_some_and(|(s, _)| *s == size) {
                continue;
            }
            out.push((size, c.note_at(off)?));
        }
        Ok(out)
    }

    fn put_cosigned(&self, size: u64, note: &[u8]) -> StoreResult<()> {
        if self.find_cp(size)?.is_none() {
            return Err(StoreError::storage(format!(
                "no checkpoint of size {size} was committed"
            )));
        }
        let mut c = self.lock_cosigned();
        if c.last_size.is_some_and(|l| l > size) {
            return Err(StoreError::storage(format!(
                "a cosigned checkpoint of size {} is stored; refusing the older size {size}",
                c.last_size.unwrap_or(0)
            )));
        }
        let off = c.file.append(COSIGNED, size, note, true)?;
        c.append_index(size, off)
    }

    fn index_of_leaf(&self, leaf: &Hash) -> StoreResult<Option<u64>> {
        let candidates = self
            .leaves
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .candidates(leaf)?;
        let stored = self.stored_size();
        for i in candidates {
            if i < stored
                && self.stored_hash(tallyboard_core::merkle::stored_hash_index(0, i))? == *leaf
            {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    fn blob(&self, h: &Hash) -> StoreResult<Option<Vec<u8>>> {
        self.blobs.get(h)
    }

    fn put_blob(&self, bytes: &[u8]) -> StoreResult<Hash> {
        self.blobs.put(bytes)
    }

    fn put_state(&self, size: u64, sealed: &[u8]) -> StoreResult<()> {
        let dir = self.dir.join("state");
        fs::create_dir_all(&dir).map_err(io_err("creating", &dir))?;
        write_atomic(&dir.join(segment_name(size)), sealed)?;
        // The newest one is kept (it was renamed into place whole).
        let mut sizes = state_sizes(&dir)?;
        sizes.sort_unstable();
        for old in sizes.iter().rev().skip(1) {
            let _ = fs::remove_file(dir.join(segment_name(*old)));
        }
        Ok(())
    }

    fn state(&self) -> StoreResult<Option<(u64, Vec<u8>)>> {
        let dir = self.dir.join("state");
        if !dir.exists() {
            return Ok(None);
        }
        let Some(newest) = state_sizes(&dir)?.into_iter().max() else {
            return Ok(None);
        };
        let p = dir.join(segment_name(newest));
        let bytes = fs::read(&p).map_err(io_err("reading", &p))?;
        Ok(Some((newest, bytes)))
    }

    fn size_on_disk(&self) -> StoreResult<u64> {
        let mut n = 0;
        for sub in ["", "packs", "journal", "leaves", "blobs", "state"] {
            // `state` (and `blobs`) appear with their first file.
            let d = self.dir.join(sub);
            if d.is_dir() {
                n += dir_bytes(&d)?;
            }
        }
        Ok(n)
    }

    fn filesystem(&self) -> StoreResult<Option<super::FsSpace>> {
        super::FsSpace::of(&self.dir).map(Some)
    }
}

/// The writer of the embedded store.
pub struct FileStore {
    shared: Arc<Shared>,
    journal: Framed,
    journal_dir: PathBuf,
    /// Entries written (committed or held).
    size: u64,
    frontier: Frontier,
    entries_len: u64,
    cp_len: u64,
    cp_count: u64,
    /// The latest committed checkpoint.
    latest: Vec<u8>,
    latest_size: u64,
    /// Entries since the journal segment's base.
    since_base: u64,
    poisoned: bool,
    _lock: File,
}

fn segment_name(size: u64) -> String {
    format!("{size:020}")
}

/// The sizes of the state snapshots in `dir` (temporary files aside).
fn state_sizes(dir: &Path) -> StoreResult<Vec<u64>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(io_err("listing", dir))? {
        let e = e.map_err(io_err("listing", dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let (20, Ok(n)) = (name.len(), name.parse::<u64>()) {
            out.push(n);
        }
    }
    Ok(out)
}

fn lock(dir: &Path) -> StoreResult<File> {
    let path = dir.join(LOCK);
    let f = open_rw(&path, true)?;
    match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            return Err(StoreError::new(
                ErrorCode::StoreLocked,
                format!(
                    "{} is held by another process{}: a store has exactly one writer",
                    dir.display(),
                    match holder.trim() {
                        "" => String::new(),
                        pid => format!(" (pid {pid})"),
                    }
                ),
            ));
        }
        Err(e) => {
            return Err(StoreError::io(
                format!("locking {}", path.display()),
                e.into(),
            ))
        }
    }
    let _ = f.set_len(0);
    let _ = f.write_all_at(std::process::id().to_string().as_bytes(), 0);
    Ok(f)
}

impl FileStore {
    /// Creates a store in `dir` (which must hold none) for the log
    /// `origin`, with the manifest blob and the signed checkpoint of the
    /// empty tree (a mirror, which signs nothing, has none yet), durably.
    pub fn create(
        dir: &Path,
        origin: &str,
        manifest: &[u8],
        empty: Option<&[u8]>,
    ) -> StoreResult<FileStore> {
        if super::exists(dir) {
            return Err(StoreError::storage(format!(
                "{} already holds a board; refusing to overwrite it",
                dir.display()
            )));
        }
        for sub in ["", "packs", "journal", "leaves", "blobs"] {
            fs::create_dir_all(dir.join(sub))
                .map_err(|e| StoreError::io(format!("creating {}", dir.join(sub).display()), e))?;
        }
        let lock = lock(dir)?;
        let blobs = Blobs::open(&dir.join("blobs"))?;
        let digest = blobs.put(manifest)?;
        let packs = Packs::open(&dir.join("packs"), true)?;
        // The empty tree's checkpoint, settled.
        if let Some(empty) = empty {
            packs
                .checkpoints
                .write_all_at(empty, 0)
                .map_err(io_err("writing", &dir.join("packs/checkpoints")))?;
            let mut rec = [0u8; 16];
            rec[8..].copy_from_slice(&(empty.len() as u64).to_le_bytes());
            packs
                .cp_index
                .write_all_at(&rec, 0)
                .map_err(io_err("writing", &dir.join("packs/checkpoints.idx")))?;
        }
        packs.sync()?;
        sync_dir(&dir.join("packs"))?;
        let note = empty.unwrap_or_default().to_vec();
        let base = Base {
            size: 0,
            entries_len: 0,
            cp_len: note.len() as u64,
            cp_count: u64::from(empty.is_some()),
            note,
        };
        let journal_dir = dir.join("journal");
        let mut journal = Framed::open(&journal_dir.join(segment_name(0)), true)?;
        journal.append(BASE, 0, &base.encode(), true)?;
        sync_dir(&journal_dir)?;
        for name in ["cosigned", "cosigned.idx"] {
            open_rw(&dir.join(name), true)?
                .sync_all()
                .map_err(io_err("syncing", &dir.join(name)))?;
        }
        // Last: a directory with this file holds a whole store.
        write_atomic(
            &dir.join(META),
            format!(
                "{FORMAT_LINE}\norigin {origin}\nmanifest {}\n",
                digest.to_hex()
            )
            .as_bytes(),
        )?;
        drop(lock);
        let verifiers = None;
        FileStore::open_with(dir, verifiers).map(|(s, _)| s)
    }

    /// Opens the store in `dir` for writing: takes the lock, checks the
    /// journal and the packs, rebuilds what a crash left unsynced from the
    /// journal, and verifies the latest checkpoint's signature (under
    /// `verifiers`) and its root against the stored tree (`spec/storage.md` §5).
    pub fn open(dir: &Path, verifiers: &Verifiers) -> StoreResult<(FileStore, Opened)> {
        FileStore::open_with(dir, Some(verifiers))
    }

    fn open_with(dir: &Path, verifiers: Option<&Verifiers>) -> StoreResult<(FileStore, Opened)> {
        let meta = read_meta(dir)?;
        let lock = lock(dir)?;
        let journal_dir = dir.join("journal");
        // The newest segment whose base record is whole.
        let mut segments: Vec<(u64, PathBuf)> = Vec::new();
        let rd = fs::read_dir(&journal_dir).map_err(io_err("listing", &journal_dir))?;
        for e in rd {
            let e = e.map_err(io_err("listing", &journal_dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            match name.parse::<u64>() {
                Ok(n) if name.len() == 20 => segments.push((n, e.path())),
                _ => {
                    return Err(StoreError::corrupt(format!(
                        "{}: unexpected file {name}",
                        journal_dir.display()
                    )))
                }
            }
        }
        segments.sort();
        let (base, records, end, segment) = loop {
            let Some((start, path)) = segments.pop() else {
                return Err(StoreError::truncated(format!(
                    "{}: no journal segment with a base record",
                    journal_dir.display()
                )));
            };
            let mut recs = Vec::new();
            let (_, end) = framed::scan(&path, |r| {
                recs.push(r);
                Ok(())
            })?;
            if recs.is_empty() && !segments.is_empty() {
                // A settle that stopped before its base record was durable:
                // the previous segment still holds everything.
                fs::remove_file(&path).map_err(io_err("removing", &path))?;
                continue;
            }
            let mut recs = recs.into_iter();
            let first = recs.next().ok_or_else(|| {
                StoreError::truncated(format!("{}: the journal segment is empty", path.display()))
            })?;
            let base = (first.kind == BASE)
                .then(|| Base::decode(&first.payload))
                .flatten()
                .filter(|b| b.size == start)
                .ok_or_else(|| {
                    StoreError::corrupt(format!(
                        "{}: does not start with a base record of size {start}",
                        path.display()
                    ))
                })?;
            break (base, recs.collect::<Vec<_>>(), end, path);
        };
        // Segments older than the base are settled: a crash stopped their removal.
        for (_, p) in &segments {
            fs::remove_file(p).map_err(io_err("removing", p))?;
        }

        // The commits after the base, in order; a trailing extension with
        // no checkpoint is not part of the log.
        let mut commits = Vec::new();
        let mut running = base.size;
        let mut checkpointed = 0usize;
        let mut cut: Option<u64> = match end {
            End::Unfinished(at) => Some(at),
            End::Clean => None,
        };
        for r in &records {
            let c = (r.kind == COMMIT)
                .then(|| decode_commit(&r.payload))
                .flatten()
                .filter(|c| c.first == running && r.aux == running + c.entries.len() as u64)
                .ok_or_else(|| {
                    StoreError::corrupt(format!(
                        "{}: the record at byte {} is not the commit of entry {running}",
                        segment.display(),
                        r.offset
                    ))
                })?;
            running += c.entries.len() as u64;
            if let Some((size, _, _)) = c.checkpoint {
                if size != running {
                    return Err(StoreError::corrupt(format!(
                        "{}: the commit at byte {} carries a checkpoint of size {size}, not {running}",
                        segment.display(),
                        r.offset
                    )));
                }
            }
            commits.push((r.offset, c));
            if commits.last().is_some_and(|(_, c)| c.checkpoint.is_some()) {
                checkpointed = commits.len();
            }
        }
        let written = running;
        if checkpointed < commits.len() {
            cut = Some(commits[checkpointed].0);
            commits.truncate(checkpointed);
        }
        let size = commits
            .last()
            .map_or(base.size, |(_, c)| c.first + c.entries.len() as u64);

        // The packs: at least what the base settled, at most what the
        // journal wrote.
        let packs = Packs::open(&dir.join("packs"), false)?;
        let need = |name: &str, have: u64, settled: u64, most: u64| -> StoreResult<()> {
            if have < settled {
                return Err(StoreError::truncated(format!(
                    "packs/{name} holds {have} bytes, but {settled} were made durable at size {}",
                    base.size
                )));
            }
            if have > most {
                return Err(StoreError::truncated(format!(
                    "packs/{name} holds {have} bytes, more than the journal's {written} entries make ({most}): the journal lost commits"
                )));
            }
            Ok(())
        };
        need(
            "offsets",
            packs.len(&packs.offsets, "offsets")?,
            8 * base.size,
            8 * written,
        )?;
        for (l, f) in packs.tiles.iter().enumerate() {
            let shift = 8 * l as u32;
            need(
                &format!("tile-{l}"),
                packs.len(f, &format!("tile-{l}"))?,
                32 * (base.size >> shift),
                32 * (written >> shift),
            )?;
        }
        let cps_written = base.cp_count
            + records
                .iter()
                .filter_map(|r| decode_commit(&r.payload))
                .filter(|c| c.checkpoint.is_some())
                .count() as u64;
        need(
            "checkpoints.idx",
            packs.len(&packs.cp_index, "checkpoints.idx")?,
            16 * base.cp_count,
            16 * cps_written,
        )?;
        need(
            "entries",
            packs.len(&packs.entries, "entries")?,
            base.entries_len,
            u64::MAX,
        )?;
        need(
            "checkpoints",
            packs.len(&packs.checkpoints, "checkpoints")?,
            base.cp_len,
            u64::MAX,
        )?;
        // Rebuild everything after the base from the journal.
        let truncate = |f: &File, name: &str, len: u64| -> StoreResult<()> {
            f.set_len(len)
                .map_err(|e| StoreError::io(format!("truncating packs/{name}"), e))
        };
        truncate(&packs.entries, "entries", base.entries_len)?;
        truncate(&packs.offsets, "offsets", 8 * base.size)?;
        for (l, f) in packs.tiles.iter().enumerate() {
            truncate(f, &format!("tile-{l}"), 32 * (base.size >> (8 * l as u32)))?;
        }
        truncate(&packs.checkpoints, "checkpoints", base.cp_len)?;
        truncate(&packs.cp_index, "checkpoints.idx", 16 * base.cp_count)?;

        let mut journal = Framed::open(&segment, false)?;
        if let Some(at) = cut {
            journal.truncate(at)?;
        }
        let leaves = Leaves::open(&dir.join("leaves"), base.size, true)?;
        let cosigned = open_cosigned(dir)?;
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            packs,
            stored: AtomicU64::new(base.size),
            cp_count: AtomicU64::new(base.cp_count),
            leaves: RwLock::new(leaves),
            blobs: Blobs::open(&dir.join("blobs"))?,
            cosigned: Mutex::new(cosigned),
        });
        // The settled part's last committed checkpoint must be the base's.
        let settled_note = match base.cp_count {
            0 => Vec::new(),
            n => shared.committed_note(n - 1)?,
        };
        if settled_note != base.note {
            return Err(StoreError::corrupt(
                "packs/checkpoints: the last settled checkpoint is not the one the journal's base names",
            ));
        }
        let frontier = Frontier::load(base.size, &*shared as &dyn LogReader)
            .map_err(|e| StoreError::corrupt(format!("reading the tree's right edge: {e}")))?;
        let mut store = FileStore {
            shared,
            journal,
            journal_dir,
            size: base.size,
            frontier,
            entries_len: base.entries_len,
            cp_len: base.cp_len,
            cp_count: base.cp_count,
            latest: base.note.clone(),
            latest_size: base.size,
            since_base: 0,
            poisoned: false,
            _lock: lock,
        };
        // The base's checkpoint names the root of the settled tree (a
        // mirror that has verified none yet has none, at size 0).
        if base.note.is_empty() {
            if base.size != 0 || base.cp_count != 0 {
                return Err(StoreError::corrupt(format!(
                    "{}: the base of size {} names no checkpoint",
                    segment.display(),
                    base.size
                )));
            }
        } else {
            store.check_checkpoint(&base.note, base.size, None, verifiers, &meta.origin)?;
        }
        for (offset, c) in &commits {
            let leaves: Vec<Hash> = c.entries.iter().map(|e| leaf_hash(e)).collect();
            let cp = c
                .checkpoint
                .map(|(size, root, note)| super::CheckpointNote { size, root, note });
            if let Some(cp) = &cp {
                let mut f = store.frontier.clone();
                for l in &leaves {
                    f.append(*l, |_, _, _| {});
                }
                if f.root() != cp.root {
                    return Err(StoreError::new(
                        ErrorCode::StoreCheckpointMismatch,
                        format!(
                            "{}: the commit at byte {offset} carries a checkpoint of root {} for a tree of root {}",
                            segment.display(),
                            cp.root,
                            f.root()
                        ),
                    ));
                }
            }
            store.write_packs(c.first, c.section, &c.entries, &leaves, cp.as_ref())?;
        }
        // The latest checkpoint verifies and is the stored tree's.
        let latest = store.latest.clone();
        if !latest.is_empty() {
            store.check_checkpoint(
                &latest,
                size,
                Some(store.frontier.root()),
                verifiers,
                &meta.origin,
            )?;
        }
        debug_assert_eq!(store.size, size);
        store.since_base = size - base.size;
        // The leaf index: its runs reach the settled size (checked when
        // opened) and the replay added the rest; none may go beyond.
        let covered = store
            .shared
            .leaves
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .covered();
        if covered > size {
            return Err(StoreError::corrupt(format!(
                "the leaf index covers {covered} entries, more than the log's {size}"
            )));
        }
        let opened = Opened {
            size,
            latest: store.latest.clone(),
        };
        Ok((store, opened))
    }

    /// Checks a stored checkpoint: its signature and origin (when
    /// `verifiers` are given), its size, and its root (when `root` is).
    fn check_checkpoint(
        &self,
        note: &[u8],
        size: u64,
        root: Option<Hash>,
        verifiers: Option<&Verifiers>,
        origin: &str,
    ) -> StoreResult<()> {
        let mismatch = |m: String| StoreError::new(ErrorCode::StoreCheckpointMismatch, m);
        let cp = match verifiers {
            Some(v) => checkpoint::open_checkpoint(note, origin, v)
                .map(|(c, _)| c)
                .map_err(|e| {
                    mismatch(format!(
                        "the stored checkpoint of size {size} does not verify: {e}"
                    ))
                })?,
            None => {
                let text = std::str::from_utf8(note)
                    .ok()
                    .and_then(|t| t.split_once("\n\n"));
                let body = text.map(|(b, _)| format!("{b}\n")).unwrap_or_default();
                checkpoint::Checkpoint::parse(&body).map_err(|e| {
                    mismatch(format!(
                        "the stored checkpoint of size {size} does not parse: {e}"
                    ))
                })?
            }
        };
        if cp.size != size {
            return Err(mismatch(format!(
                "the latest stored checkpoint has size {}, but the log holds {size} entries",
                cp.size
            )));
        }
        let root = match root {
            Some(r) => r,
            None => tallyboard_core::merkle::tree_hash(size, &*self.shared as &dyn LogReader)
                .map_err(|e| StoreError::corrupt(format!("the stored tree of size {size}: {e}")))?,
        };
        if cp.root != root {
            return Err(mismatch(format!(
                "the stored tree of size {size} has root {root}, but its signed checkpoint says {}",
                cp.root
            )));
        }
        Ok(())
    }

    /// Appends a commit's entries, offsets, tile hashes and checkpoint to
    /// the packs (not yet durable: the journal is).
    fn write_packs(
        &mut self,
        first: u64,
        section: &[u8],
        entries: &[&[u8]],
        leaves: &[Hash],
        cp: Option<&super::CheckpointNote<'_>>,
    ) -> StoreResult<()> {
        let sh = &self.shared;
        let p = &sh.packs;
        let io = |name: &str| {
            let name = name.to_owned();
            move |e| StoreError::io(format!("writing packs/{name}"), e)
        };
        p.entries
            .write_all_at(section, self.entries_len)
            .map_err(io("entries"))?;
        let mut offsets = Vec::with_capacity(8 * entries.len());
        let mut end = self.entries_len;
        for e in entries {
            end += 2 + e.len() as u64;
            offsets.extend_from_slice(&end.to_le_bytes());
        }
        p.offsets
            .write_all_at(&offsets, 8 * first)
            .map_err(io("offsets"))?;
        let mut per_level: Vec<(u64, Vec<u8>)> = vec![(0, Vec::new()); TILE_LEVELS];
        for leaf in leaves {
            self.frontier.append(*leaf, |level, n, h| {
                if level % TILE_HEIGHT == 0 {
                    let (start, buf) = &mut per_level[usize::from(level / TILE_HEIGHT)];
                    if buf.is_empty() {
                        *start = n;
                    }
                    buf.extend_from_slice(&h.0);
                }
            });
        }
        for (l, (start, buf)) in per_level.iter().enumerate() {
            if !buf.is_empty() {
                p.tiles[l]
                    .write_all_at(buf, 32 * start)
                    .map_err(io(&format!("tile-{l}")))?;
            }
        }
        if let Some(cp) = cp {
            p.checkpoints
                .write_all_at(cp.note, self.cp_len)
                .map_err(io("checkpoints"))?;
            self.cp_len += cp.note.len() as u64;
            let mut rec = [0u8; 16];
            rec[..8].copy_from_slice(&cp.size.to_le_bytes());
            rec[8..].copy_from_slice(&self.cp_len.to_le_bytes());
            p.cp_index
                .write_all_at(&rec, 16 * self.cp_count)
                .map_err(io("checkpoints.idx"))?;
            self.cp_count += 1;
            self.latest = cp.note.to_vec();
            self.latest_size = cp.size;
        }
        self.entries_len = end;
        self.size = first + entries.len() as u64;
        {
            let mut lv = sh.leaves.write().unwrap_or_else(|p| p.into_inner());
            for (i, leaf) in leaves.iter().enumerate() {
                lv.insert(leaf, first + i as u64);
            }
        }
        sh.stored.store(self.size, Ordering::Release);
        sh.cp_count.store(self.cp_count, Ordering::Release);
        Ok(())
    }

    /// Makes the packs durable, writes the leaf-index run, and starts a
    /// new journal segment whose base names the settled sizes.
    fn settle(&mut self) -> StoreResult<()> {
        let sh = &self.shared;
        sh.packs.sync()?;
        sh.leaves
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .settle(self.size)?;
        let base = Base {
            size: self.size,
            entries_len: self.entries_len,
            cp_len: self.cp_len,
            cp_count: self.cp_count,
            note: self.latest.clone(),
        };
        let path = self.journal_dir.join(segment_name(self.size));
        let mut next = Framed::open(&path, true)?;
        next.append(BASE, self.size, &base.encode(), true)?;
        sync_dir(&self.journal_dir)?;
        let old = std::mem::replace(&mut self.journal, next);
        fs::remove_file(old.path()).map_err(io_err("removing", old.path()))?;
        self.since_base = 0;
        Ok(())
    }

    /// The reader shared with this writer.
    pub fn shared_reader(&self) -> Store {
        Store::new(self.shared.clone())
    }
}

fn open_cosigned(dir: &Path) -> StoreResult<Cosigned> {
    let path = dir.join("cosigned");
    let index_path = dir.join("cosigned.idx");
    let mut file = Framed::open(&path, false)?;
    let index = open_rw(&index_path, false)?;
    // Scan the notes; the index is rebuilt if it disagrees with them.
    let mut found: Vec<(u64, u64)> = Vec::new();
    let (_, end) = framed::scan(&path, |r| {
        if r.kind != COSIGNED {
            return Err(StoreError::corrupt(format!(
                "{}: a record of another kind at byte {}",
                path.display(),
                r.offset
            )));
        }
        found.push((r.aux, r.offset));
        Ok(())
    })?;
    if let End::Unfinished(at) = end {
        file.truncate(at)?;
    }
    let mut c = Cosigned {
        file,
        index,
        index_path: index_path.clone(),
        count: 0,
        last_size: None,
    };
    let idx_len = file_len(&c.index, &index_path)?;
    let mut have = Vec::new();
    if idx_len % 16 == 0 {
        let b = pread(&c.index, 0, idx_len, "cosigned.idx")?;
        have = b
            .chunks_exact(16)
            .map(|r| (u64_at(r, 0), u64_at(r, 8)))
            .collect();
    }
    if have != found {
        c.index
            .set_len(0)
            .map_err(io_err("truncating", &index_path))?;
        for (size, off) in &found {
            c.append_index(*size, *off)?;
        }
        c.index
            .sync_data()
            .map_err(io_err("syncing", &index_path))?;
    } else {
        c.count = found.len() as u64;
        c.last_size = found.last().map(|(s, _)| *s);
    }
    Ok(c)
}

impl LogWriter for FileStore {
    fn reader(&self) -> Store {
        self.shared_reader()
    }

    fn commit(&mut self, c: &Commit<'_>) -> StoreResult<()> {
        if self.poisoned {
            return Err(StoreError::storage(
                "an earlier commit failed; the store must be reopened",
            ));
        }
        if c.first != self.size || c.entries.len() != c.leaves.len() {
            return Err(StoreError::storage(format!(
                "a commit of {} entries from {} does not follow the {} stored",
                c.entries.len(),
                c.first,
                self.size
            )));
        }
        if let Some(e) = c.entries.iter().find(|e| e.len() > usize::from(u16::MAX)) {
            return Err(StoreError::storage(format!(
                "an entry of {} bytes is over 65,535",
                e.len()
            )));
        }
        let new_size = c.first + c.entries.len() as u64;
        if let Some(cp) = &c.checkpoint {
            let mut f = self.frontier.clone();
            for l in c.leaves {
                f.append(*l, |_, _, _| {});
            }
            if cp.size != new_size || cp.root != f.root() {
                return Err(StoreError::new(
                    ErrorCode::StoreCheckpointMismatch,
                    format!(
                        "refusing a checkpoint of size {} root {} for a tree of size {new_size} root {}",
                        cp.size,
                        cp.root,
                        f.root()
                    ),
                ));
            }
        }
        let (payload, section) = encode_commit(c);
        let result = self
            .journal
            .append(COMMIT, new_size, &payload, true)
            .and_then(|_| {
                let refs: Vec<&[u8]> = c.entries.iter().map(Vec::as_slice).collect();
                self.write_packs(
                    c.first,
                    &payload[section],
                    &refs,
                    c.leaves,
                    c.checkpoint.as_ref(),
                )
            });
        if let Err(e) = result {
            self.poisoned = true;
            return Err(e);
        }
        self.since_base += c.entries.len() as u64;
        if c.checkpoint.is_some()
            && (self.since_base >= SETTLE_ENTRIES || self.journal.len() >= SETTLE_BYTES)
        {
            if let Err(e) = self.settle() {
                self.poisoned = true;
                return Err(e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
impl FileStore {
    /// The journal segment in use (tests damage it).
    pub fn journal_path(&self) -> PathBuf {
        self.journal.path().to_path_buf()
    }

    /// Settles now (tests).
    pub fn settle_now(&mut self) -> StoreResult<()> {
        self.settle()
    }
}
