//! The witness's durable state: one small file per origin, replaced
//! atomically (write a temporary file, fsync it, rename it over the old one,
//! fsync the directory), and one file per piece of evidence.
//!
//! ```text
//! <data>/WITNESS                                what the witness remembers
//! <data>/state/<hex SHA-256(origin)>            latest cosigned checkpoint note
//! <data>/evidence/<hex SHA-256(origin)>/<kind>-<id>.json
//! ```
//!
//! `WITNESS` (`spec/witness.md` §2) names the witness's key and, per
//! origin, the size and root of the latest checkpoint it cosigned. It is
//! what lets the witness notice a state file that went missing or was
//! replaced by an older one: without it, a deleted state file is
//! indistinguishable from an origin never seen, and the witness would
//! cosign a rolled-back log. It is written after the state file, so a
//! crash between the two leaves a state newer than what `WITNESS` says,
//! which the witness made itself and accepts.
//!
//! Callers serialize writes per origin (the server holds the origin's lock),
//! so one temporary file name per target is enough.

use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tallyboard_core::witness::Evidence;
use tallyboard_core::Hash;

/// The name of the memory file.
pub const MEMORY_FILE: &str = "WITNESS";
const MEMORY_MAGIC: &str = "tallyboard-witness 1";

/// Evidence files kept per origin; later evidence is dropped (and logged)
/// so that a log cannot fill the witness's disk.
pub const MAX_EVIDENCE_PER_ORIGIN: usize = 1000;

/// The witness's data directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
    /// The witness's key, as `WITNESS` names it.
    key: String,
    /// Per origin hash: the size and root of the latest cosigned checkpoint.
    memory: Arc<Mutex<Memory>>,
}

/// What `WITNESS` remembers of one origin.
pub type Remembered = Option<(u64, Hash)>;

/// What `WITNESS` remembers: per origin hash, size and root.
type Memory = BTreeMap<String, (u64, Hash)>;

fn parse_memory(text: &str) -> Result<(String, Memory)> {
    let mut lines = text.lines();
    if lines.next() != Some(MEMORY_MAGIC) {
        bail!("{MEMORY_FILE} does not start with {MEMORY_MAGIC:?}");
    }
    let key = lines
        .next()
        .and_then(|l| l.strip_prefix("witness "))
        .ok_or_else(|| anyhow!("{MEMORY_FILE} has no witness line"))?
        .to_owned();
    let mut memory = BTreeMap::new();
    for line in lines {
        let w: Vec<&str> = line.split(' ').collect();
        let parsed = match w.as_slice() {
            ["origin", hash, size, root] => size
                .parse::<u64>()
                .ok()
                .zip(Hash::from_base64(root))
                .map(|v| (hash.to_string(), v)),
            _ => None,
        };
        let (hash, v) = parsed.ok_or_else(|| anyhow!("{MEMORY_FILE}: bad line {line:?}"))?;
        memory.insert(hash, v);
    }
    Ok((key, memory))
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
    /// Opens a data directory for the witness whose verifier key is `key`,
    /// removing temporary files a crash may have left. A directory without
    /// `WITNESS` (new, emptied, or not a witness's) is refused unless
    /// `init`, which creates it; one of another witness key is refused.
    pub fn open(dir: &Path, key: &str, init: bool) -> Result<Store> {
        let memory_path = dir.join(MEMORY_FILE);
        let (found_key, memory) = match fs::read_to_string(&memory_path) {
            Ok(text) => parse_memory(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !init {
                    bail!(
                        "{} holds no witness state ({MEMORY_FILE} is missing): a new or emptied directory would let the witness forget what it cosigned; pass --init to start a witness that remembers nothing (spec/witness.md §2)",
                        dir.display()
                    );
                }
                (key.to_owned(), BTreeMap::new())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", memory_path.display())),
        };
        if found_key != key {
            bail!(
                "{} is the data directory of witness {found_key}, not of this key ({key})",
                dir.display()
            );
        }
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
        let store = Store {
            dir: dir.to_path_buf(),
            key: key.to_owned(),
            memory: Arc::new(Mutex::new(memory)),
        };
        if !memory_path.exists() {
            store.write_memory()?;
        }
        Ok(store)
    }

    /// What `WITNESS` remembers of an origin.
    pub fn remembered(&self, origin_hash: &str) -> Remembered {
        self.memory
            .lock()
            .ok()
            .and_then(|m| m.get(origin_hash).copied())
    }

    /// Records, durably, that the latest checkpoint cosigned for an origin
    /// has `size` and `root` (or that nothing is remembered, `None`).
    pub fn remember(&self, origin_hash: &str, what: Remembered) -> Result<()> {
        {
            let mut m = self
                .memory
                .lock()
                .map_err(|_| anyhow!("the witness's memory lock is poisoned"))?;
            match what {
                Some(v) => m.insert(origin_hash.to_owned(), v),
                None => m.remove(origin_hash),
            };
        }
        self.write_memory()
    }

    fn write_memory(&self) -> Result<()> {
        // Held while writing, so two origins' updates are written in turn.
        let m = self
            .memory
            .lock()
            .map_err(|_| anyhow!("the witness's memory lock is poisoned"))?;
        let mut text = format!("{MEMORY_MAGIC}\nwitness {}\n", self.key);
        for (hash, (size, root)) in m.iter() {
            text.push_str(&format!("origin {hash} {size} {}\n", root.to_base64()));
        }
        write_atomic(&self.dir.join(MEMORY_FILE), text.as_bytes())
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

    /// Durably replaces an origin's cosigned checkpoint (of `size` and
    /// `root`), then what `WITNESS` remembers of it.
    pub fn save_state(&self, origin_hash: &str, size: u64, root: Hash, note: &[u8]) -> Result<()> {
        write_atomic(&self.state_path(origin_hash), note)?;
        self.remember(origin_hash, Some((size, root)))
    }

    /// Keeps, durably, a record that the witness was started with less
    /// than it remembered (`spec/witness.md` §5, `reinitialised`), served
    /// with the evidence.
    pub fn save_reinitialisation(
        &self,
        origin_hash: &str,
        record: &serde_json::Value,
    ) -> Result<()> {
        let dir = self.evidence_dir(origin_hash);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let id = record["id"].as_str().unwrap_or("unknown");
        let mut json = serde_json::to_vec_pretty(record)?;
        json.push(b'\n');
        write_atomic(&dir.join(format!("reinitialised-{id}.json")), &json)?;
        sync_dir(&self.dir.join("evidence"))
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
