//! Append-only files of checksummed records: the journal's segments and the
//! cosigned checkpoints (`spec/storage.md` §3).
//!
//! A record starts at a multiple of 64 bytes:
//!
//! ```text
//! 0..4    magic "TBR1"
//! 4       kind
//! 5..8    zero
//! 8..16   payload length, u64 little-endian
//! 16..48  SHA-256 of the payload
//! 48..56  aux, u64 little-endian (the journal: the log size after the record)
//! 56..64  the first 8 bytes of SHA-256 of bytes 0..56
//! 64..    payload, then zero padding to the next multiple of 64
//! ```
//!
//! **Header last.** [`Framed::append`] writes the payload and padding
//! first and the 64-byte header after it. The header never crosses a page
//! (it starts at a multiple of 64), so a process killed mid-append (a
//! buffered write can stop between pages when SIGKILL arrives) leaves
//! either a complete record or one whose header is still all zeros: an
//! *unfinished* append, which was never made durable, so never
//! acknowledged. Anything else that is not a whole, checksummed record (a
//! header cut off, a payload shorter than its header says, a flipped byte,
//! non-zero padding) is refused: it is what a truncated or corrupted file
//! looks like, and only the operator can say which.

use super::{StoreError, StoreResult};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"TBR1";
/// Bytes of a record header, and the alignment of every record.
pub const HEADER: u64 = 64;

/// One record read back.
#[derive(Debug)]
pub struct Record {
    /// Where its header starts.
    pub offset: u64,
    /// Its kind.
    pub kind: u8,
    /// Its aux field.
    pub aux: u64,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// How a scan ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// At the end of the file, after a whole record (or an empty file).
    Clean,
    /// At an unfinished append starting at this offset: a header of zeros,
    /// and no valid record after it. Only the writer may cut it off.
    Unfinished(u64),
}

fn padded(len: u64) -> u64 {
    len.div_ceil(HEADER) * HEADER
}

fn header_checksum(h: &[u8]) -> [u8; 8] {
    let d = Sha256::digest(&h[..56]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}

fn encode_header(kind: u8, aux: u64, payload: &[u8]) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[..4].copy_from_slice(MAGIC);
    h[4] = kind;
    h[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    h[16..48].copy_from_slice(&Sha256::digest(payload));
    h[48..56].copy_from_slice(&aux.to_le_bytes());
    let c = header_checksum(&h);
    h[56..].copy_from_slice(&c);
    h
}

/// Whether `h` is a well-formed header (magic and checksum).
fn valid_header(h: &[u8]) -> bool {
    h.len() == 64 && &h[..4] == MAGIC && h[5..8] == [0, 0, 0] && h[56..] == header_checksum(h)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// An append-only file of records.
pub struct Framed {
    file: File,
    path: PathBuf,
    len: u64,
}

impl Framed {
    /// Opens (creating if `create`) the file for appending at `len`, which
    /// the caller got from a scan.
    pub fn open(path: &Path, create: bool) -> StoreResult<Framed> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)
            .map_err(|e| StoreError::io(format!("opening {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?
            .len();
        Ok(Framed {
            file,
            path: path.to_path_buf(),
            len,
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the file.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Cuts an unfinished append off (the writer, on open).
    pub fn truncate(&mut self, at: u64) -> StoreResult<()> {
        self.file
            .set_len(at)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| StoreError::io(format!("truncating {}", self.path.display()), e))?;
        self.len = at;
        Ok(())
    }

    /// Appends one record, header last (see the module documentation), and
    /// makes it durable with one `fdatasync` if `sync`. Returns its offset.
    pub fn append(&mut self, kind: u8, aux: u64, payload: &[u8], sync: bool) -> StoreResult<u64> {
        let at = self.len;
        let body_len = padded(payload.len() as u64);
        let header = encode_header(kind, aux, payload);
        let io = |e| StoreError::io(format!("appending to {}", self.path.display()), e);
        // Payload and padding in one write; a short payload is padded from a
        // small buffer rather than copying it.
        let pad = usize::try_from(body_len - payload.len() as u64).unwrap_or(0);
        if pad == 0 {
            self.file.write_all_at(payload, at + HEADER).map_err(io)?;
        } else {
            let mut tail = Vec::with_capacity(payload.len() + pad);
            tail.extend_from_slice(payload);
            tail.resize(payload.len() + pad, 0);
            self.file.write_all_at(&tail, at + HEADER).map_err(io)?;
        }
        self.file.write_all_at(&header, at).map_err(io)?;
        if sync {
            self.file.sync_data().map_err(io)?;
        }
        self.len = at + HEADER + body_len;
        Ok(at)
    }

    /// Reads the record whose header is at `offset` (written earlier by this
    /// process or found by a scan), checking it.
    pub fn read_at(&self, offset: u64) -> StoreResult<Record> {
        read_record(&self.file, &self.path, offset, self.len)
    }
}

fn read_record(file: &File, path: &Path, offset: u64, file_len: u64) -> StoreResult<Record> {
    let mut h = [0u8; 64];
    if file_len.saturating_sub(offset) < HEADER {
        return Err(StoreError::torn(format!(
            "{}: cut off inside the record header at byte {offset} (the file has {file_len} bytes)",
            path.display()
        )));
    }
    file.read_exact_at(&mut h, offset)
        .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?;
    if !valid_header(&h) {
        return Err(StoreError::corrupt(format!(
            "{}: the record header at byte {offset} is damaged",
            path.display()
        )));
    }
    let len = u64_at(&h, 8);
    let end = offset
        .checked_add(HEADER)
        .and_then(|o| o.checked_add(padded(len)));
    let end = match end {
        Some(e) if e <= file_len => e,
        _ => {
            return Err(StoreError::torn(format!(
                "{}: the record at byte {offset} holds {len} bytes, but the file ends at byte {file_len}: a write was cut off",
                path.display()
            )))
        }
    };
    let mut body = vec![0u8; usize::try_from(end - offset - HEADER).unwrap_or(0)];
    file.read_exact_at(&mut body, offset + HEADER)
        .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?;
    let payload_len = usize::try_from(len).unwrap_or(usize::MAX);
    if body[payload_len..].iter().any(|&b| b != 0) {
        return Err(StoreError::corrupt(format!(
            "{}: the padding after the record at byte {offset} is not zero",
            path.display()
        )));
    }
    body.truncate(payload_len);
    if Sha256::digest(&body)[..] != h[16..48] {
        return Err(StoreError::corrupt(format!(
            "{}: the record at byte {offset} does not match its checksum",
            path.display()
        )));
    }
    Ok(Record {
        offset,
        kind: h[4],
        aux: u64_at(&h, 48),
        payload: body,
    })
}

/// Reads every record of `path` in order, calling `each` for it; refuses a
/// torn or damaged file (see the module documentation).
pub fn scan(
    path: &Path,
    mut each: impl FnMut(Record) -> StoreResult<()>,
) -> StoreResult<(u64, End)> {
    let file =
        File::open(path).map_err(|e| StoreError::io(format!("opening {}", path.display()), e))?;
    let len = file
        .metadata()
        .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?
        .len();
    let mut at = 0u64;
    while at < len {
        let mut h = [0u8; 64];
        if len - at >= HEADER {
            file.read_exact_at(&mut h, at)
                .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?;
            if h.iter().all(|&b| b == 0) {
                check_unfinished_tail(&file, path, at, len)?;
                return Ok((len, End::Unfinished(at)));
            }
        }
        let r = read_record(&file, path, at, len)?;
        at = r.offset + HEADER + padded(r.payload.len() as u64);
        each(r)?;
    }
    Ok((len, End::Clean))
}

/// An unfinished append holds payload bytes only: a valid header anywhere
/// after the zeros means records were lost under them (a damaged block).
fn check_unfinished_tail(file: &File, path: &Path, at: u64, len: u64) -> StoreResult<()> {
    let mut rest = Vec::new();
    let mut f = file;
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(at + HEADER))
        .and_then(|_| f.read_to_end(&mut rest))
        .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?;
    for (i, chunk) in rest.chunks_exact(64).enumerate() {
        if valid_header(chunk) {
            return Err(StoreError::corrupt(format!(
                "{}: the record header at byte {at} is zeros, but a record follows at byte {}: records were lost",
                path.display(),
                at + HEADER + 64 * i as u64
            )));
        }
    }
    let _ = len;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_core::error::Coded;
    use tallyboard_core::ErrorCode;

    fn write(path: &Path, records: &[&[u8]]) -> Vec<u64> {
        let mut f = Framed::open(path, true).unwrap();
        records
            .iter()
            .enumerate()
            .map(|(i, p)| f.append(2, i as u64, p, true).unwrap())
            .collect()
    }

    fn read_all(path: &Path) -> StoreResult<(Vec<Vec<u8>>, End)> {
        let mut out = Vec::new();
        let (_, end) = scan(path, |r| {
            out.push(r.payload);
            Ok(())
        })?;
        Ok((out, end))
    }

    #[test]
    fn records_round_trip_and_every_damage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let offsets = write(&path, &[b"first", &[7u8; 200], b""]);
        assert_eq!(offsets, vec![0, 128, 128 + 64 + 256]);
        let (recs, end) = read_all(&path).unwrap();
        assert_eq!(recs, vec![b"first".to_vec(), vec![7u8; 200], Vec::new()]);
        assert_eq!(end, End::Clean);
        let good = std::fs::read(&path).unwrap();
        // The last record: every truncation inside it and every flipped byte.
        let last = offsets[1] as usize;
        for cut in last + 1..good.len() - 64 {
            std::fs::write(&path, &good[..cut]).unwrap();
            let code = read_all(&path).unwrap_err().code();
            assert_eq!(code, ErrorCode::StoreTornWrite, "cut at {cut}");
        }
        for at in last..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x20;
            std::fs::write(&path, &bad).unwrap();
            let code = read_all(&path).unwrap_err().code();
            assert!(
                matches!(code, ErrorCode::StoreCorrupt | ErrorCode::StoreTornWrite),
                "flip at {at}: {code:?}"
            );
        }
    }

    #[test]
    fn an_unfinished_append_is_told_apart_from_lost_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        write(&path, &[b"one", b"two"]);
        let good = std::fs::read(&path).unwrap();
        // A payload written, its header not yet: zeros where the header goes.
        let mut unfinished = good.clone();
        unfinished.extend_from_slice(&[0u8; 64]);
        unfinished.extend_from_slice(b"payload of an append that was killed");
        std::fs::write(&path, &unfinished).unwrap();
        let (recs, end) = read_all(&path).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(end, End::Unfinished(good.len() as u64));
        // The first header zeroed: the record after it proves a loss.
        let mut lost = good.clone();
        lost[..64].fill(0);
        std::fs::write(&path, &lost).unwrap();
        assert_eq!(read_all(&path).unwrap_err().code(), ErrorCode::StoreCorrupt);
    }
}
