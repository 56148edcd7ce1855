//! The witness's durable state: one small file per origin, replaced
//! atomically (write a temporary file, fsync it, rename it over the old one,
//! fsync the directory), and one file per piece of evidence.
//!
//! ```text
//! <data>/state/<hex SHA-256(origin)>            latest cosigned checkpoint note
//! <data>/evidence/<hex SHA-256(origin)>/<kind>-<id>.json
//! ```
//!
//! Callers serialize writes per origin (the server holds the origin's lock),
//! so one temporary file name per target is enough.

use anyhow::{Context, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use tallyboard_core::witness::Evidence;

/// Evidence files kept per origin; later evidence is dropped (and logged)
/// so that a log cannot fill the witness's disk.
pub const MAX_EVIDENCE_PER_ORIGIN: usize = 1000;

/// The witness's data directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing directory {}", dir.display()))
}

/// Replaces `path` with `bytes` atomically and durably.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("path has a parent")?;
    let mut tmp_name = path.file_name().context("file name")?.to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let mut f = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(f);
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    sync_dir(dir)
}

impl Store {
    /// Opens (creating if needed) a data directory, removing temporary
    /// files a crash may have left.
    pub fn open(dir: &Path) -> Result<Store> {
        for sub in ["state", "evidence"] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        sync_dir(dir)?;
        for entry in fs::read_dir(dir.join("state"))? {
            let p = entry?.path();
            if p.extension().is_some_and(|e| e == "tmp") {
                fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    fn state_path(&self, origin_hash: &str) -> PathBuf {
        self.dir.join("state").join(origin_hash)
    }

    fn evidence_dir(&self, origin_hash: &str) -> PathBuf {
        self.dir.join("evidence").join(origin_hash)
    }

    /// The persisted cosigned checkpoint of an origin, if any.
    pub fn load_state(&self, origin_hash: &str) -> Result<Option<Vec<u8>>> {
        let p = self.state_path(origin_hash);
        match fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }

    /// Durably replaces an origin's cosigned checkpoint.
    pub fn save_state(&self, origin_hash: &str, note: &[u8]) -> Result<()> {
        write_atomic(&self.state_path(origin_hash), note)
    }

    /// Durably keeps a piece of evidence (once per id). Returns false if it
    /// was already kept or the per-origin cap is reached.
    pub fn save_evidence(&self, origin_hash: &str, ev: &Evidence) -> Result<bool> {
        let dir = self.evidence_dir(origin_hash);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}-{}.json", ev.kind.as_str(), ev.id()));
        if path.exists() {
            return Ok(false);
        }
        if fs::read_dir(&dir)?.count() >= MAX_EVIDENCE_PER_ORIGIN {
            return Ok(false);
        }
        let mut json = serde_json::to_vec_pretty(&ev.to_json())?;
        json.push(b'\n');
        write_atomic(&path, &json)?;
        sync_dir(&self.dir.join("evidence"))?;
        Ok(true)
    }

    /// Every piece of evidence kept for an origin, oldest observation first.
    pub fn list_evidence(&self, origin_hash: &str) -> Result<Vec<serde_json::Value>> {
        let dir = self.evidence_dir(origin_hash);
        let mut out = Vec::new();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in rd {
            let p = entry?.path();
            if p.extension().is_some_and(|e| e == "json") {
                let v: serde_json::Value = serde_json::from_slice(&fs::read(&p)?)
                    .with_context(|| format!("parsing {}", p.display()))?;
                out.push(v);
            }
        }
        out.sort_by_key(|v| (v["observed"].as_u64(), v["id"].as_str().map(str::to_string)));
        Ok(out)
    }
}
