//! A station's outbox: signed entries waiting for a receipt, kept on disk
//! so that neither a dead network nor a dead battery loses a tally
//! (`spec/operations.md` §8).
//!
//! ```text
//! DIR/pending/<leaf>.entry      signed, not yet receipted
//! DIR/pending/<leaf>.minutes    the minutes scan it names, if any
//! DIR/sent/<leaf>.entry         logged: the entry,
//! DIR/sent/<leaf>.tlog-proof    its verified receipt (C2SP tlog-proof),
//! DIR/sent/<leaf>.minutes       and its minutes scan
//! DIR/refused/<leaf>.entry      refused for good (a 4xx other than 429),
//! DIR/refused/<leaf>.error      with the board's answer
//! ```
//!
//! `<leaf>` is the entry's RFC 6962 leaf hash in hex, so one entry has one
//! name wherever it travels. Every file is written durably (temporary
//! file, fsync, rename, fsync of the directory) before the step that
//! depends on it: an entry is in `pending/` before the first byte is sent,
//! and its receipt is in `sent/` before it leaves `pending/`. Sending again
//! is safe: the board answers an entry it holds with its original index.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::Hash;

/// An outbox directory.
pub struct Outbox {
    dir: PathBuf,
}

/// One entry waiting in the outbox.
pub struct Pending {
    /// Its leaf hash (its name).
    pub leaf: Hash,
    /// The signed entry.
    pub bytes: Vec<u8>,
    /// The minutes scan it names, if one was given.
    pub minutes: Option<PathBuf>,
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::store::blobs::write_atomic(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

impl Outbox {
    /// Opens (creating if needed) the outbox in `dir`.
    pub fn open(dir: &Path) -> Result<Outbox> {
        for sub in ["pending", "sent", "refused"] {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        }
        Ok(Outbox {
            dir: dir.to_owned(),
        })
    }

    fn path(&self, sub: &str, leaf: &Hash, ext: &str) -> PathBuf {
        self.dir.join(sub).join(format!("{}.{ext}", leaf.to_hex()))
    }

    /// Keeps `bytes` (and a copy of its minutes scan) until a receipt
    /// comes; returns its leaf hash. Putting the same entry twice is one
    /// entry.
    pub fn put(&self, bytes: &[u8], minutes: Option<&[u8]>) -> Result<Hash> {
        let leaf = leaf_hash(bytes);
        if let Some(m) = minutes {
            write(&self.path("pending", &leaf, "minutes"), m)?;
        }
        write(&self.path("pending", &leaf, "entry"), bytes)?;
        Ok(leaf)
    }

    /// The entries waiting, oldest name first (a stable order).
    pub fn pending(&self) -> Result<Vec<Pending>> {
        let dir = self.dir.join("pending");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".entry"))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for n in names {
            let path = dir.join(&n);
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let leaf = leaf_hash(&bytes);
            // A file whose name is not its leaf hash was not written here.
            if Some(leaf.to_hex().as_str()) != n.strip_suffix(".entry") {
                anyhow::bail!(
                    "{} is not named by its leaf hash ({}); the outbox holds only what it wrote",
                    path.display(),
                    leaf.to_hex()
                );
            }
            let m = self.path("pending", &leaf, "minutes");
            out.push(Pending {
                leaf,
                bytes,
                minutes: m.exists().then_some(m),
            });
        }
        Ok(out)
    }

    /// Records the verified receipt of a pending entry (and keeps its
    /// minutes scan beside it) and takes it out of `pending/`; returns
    /// where the receipt is.
    pub fn sent(&self, p: &Pending, receipt: &[u8]) -> Result<PathBuf> {
        let proof = self.path("sent", &p.leaf, "tlog-proof");
        let scan = self.path("pending", &p.leaf, "minutes");
        if scan.exists() {
            let bytes =
                std::fs::read(&scan).with_context(|| format!("reading {}", scan.display()))?;
            write(&self.path("sent", &p.leaf, "minutes"), &bytes)?;
        }
        write(&self.path("sent", &p.leaf, "entry"), &p.bytes)?;
        write(&proof, receipt)?;
        self.remove_pending(p)?;
        Ok(proof)
    }

    /// Moves a pending entry to `refused/` with the board's answer.
    pub fn refused(&self, p: &Pending, answer: &str) -> Result<()> {
        write(&self.path("refused", &p.leaf, "entry"), &p.bytes)?;
        write(&self.path("refused", &p.leaf, "error"), answer.as_bytes())?;
        self.remove_pending(p)
    }

    fn remove_pending(&self, p: &Pending) -> Result<()> {
        for ext in ["entry", "minutes"] {
            let path = self.path("pending", &p.leaf, ext);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
        crate::store::blobs::sync_dir(&self.dir.join("pending"))
            .with_context(|| format!("syncing {}", self.dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_moves_from_pending_to_sent_or_refused_and_keeps_its_name() {
        let d = tempfile::tempdir().unwrap();
        let o = Outbox::open(d.path()).unwrap();
        let a = o.put(b"entry a", Some(b"scan")).unwrap();
        let b = o.put(b"entry b", None).unwrap();
        assert_eq!(o.put(b"entry a", Some(b"scan")).unwrap(), a, "idempotent");
        let p = o.pending().unwrap();
        assert_eq!(p.len(), 2);
        let pa = p.iter().find(|p| p.leaf == a).unwrap();
        assert!(pa.minutes.is_some());
        let proof = o.sent(pa, b"receipt").unwrap();
        assert_eq!(std::fs::read(proof).unwrap(), b"receipt");
        let scan = d
            .path()
            .join("sent")
            .join(format!("{}.minutes", a.to_hex()));
        assert_eq!(std::fs::read(scan).unwrap(), b"scan");
        let pb = p.iter().find(|p| p.leaf == b).unwrap();
        o.refused(pb, "422 station.unknown").unwrap();
        assert!(o.pending().unwrap().is_empty());
        assert!(d
            .path()
            .join("refused")
            .join(format!("{}.error", b.to_hex()))
            .exists());

        // A file not named by its leaf hash is refused, not sent.
        std::fs::write(d.path().join("pending").join("x.entry"), b"entry c").unwrap();
        assert!(o.pending().is_err());
    }
}
