//! Content-addressed blobs (the manifest, minutes scans): one file each,
//! `blobs/<hex SHA-256>`, written to a temporary file, fsynced, renamed
//! into place and the directory fsynced; checked against its name when read.

use super::{StoreError, StoreResult};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use tallyboard_core::Hash;

/// Fsyncs a directory, so that entries created or renamed in it survive.
pub fn sync_dir(dir: &Path) -> StoreResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(format!("fsync of directory {}", dir.display()), e))
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the
/// same directory, fsynced, renamed over `path`, the directory fsynced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> StoreResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| StoreError::storage(format!("{} has no directory", path.display())))?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = dir.join(name);
    let io = |e| StoreError::io(format!("writing {}", tmp.display()), e);
    let mut f = File::create(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)?;
    drop(f);
    fs::rename(&tmp, path)
        .map_err(|e| StoreError::io(format!("renaming to {}", path.display()), e))?;
    sync_dir(dir)
}

/// The blobs directory of a store.
pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    /// The blobs under `dir` (created if missing).
    pub fn open(dir: &Path) -> StoreResult<Blobs> {
        fs::create_dir_all(dir)
            .map_err(|e| StoreError::io(format!("creating {}", dir.display()), e))?;
        Ok(Blobs {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, h: &Hash) -> PathBuf {
        self.dir.join(h.to_hex())
    }

    /// Stores a blob durably under its SHA-256 (idempotent).
    pub fn put(&self, bytes: &[u8]) -> StoreResult<Hash> {
        let h = Hash::sha256(bytes);
        if self.get(&h)?.is_none() {
            write_atomic(&self.path(&h), bytes)?;
        }
        Ok(h)
    }

    /// A blob, checked against its name.
    pub fn get(&self, h: &Hash) -> StoreResult<Option<Vec<u8>>> {
        let p = self.path(h);
        match fs::read(&p) {
            Ok(bytes) => {
                if Hash::sha256(&bytes) != *h {
                    return Err(StoreError::corrupt(format!(
                        "blob {} does not hash to its name",
                        p.display()
                    )));
                }
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(format!("reading {}", p.display()), e)),
        }
    }
}

/// Bytes of the files directly in `dir`.
pub fn dir_bytes(dir: &Path) -> StoreResult<u64> {
    let mut n = 0;
    let rd =
        fs::read_dir(dir).map_err(|e| StoreError::io(format!("listing {}", dir.display()), e))?;
    for e in rd {
        let e = e.map_err(|e| StoreError::io(format!("listing {}", dir.display()), e))?;
        if let Ok(m) = e.metadata() {
            if m.is_file() {
                n += m.len();
            }
        }
    }
    Ok(n)
}
