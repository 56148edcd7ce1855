//! Where a published read path is written: the [`Sink`] trait, the
//! [`Object`]s written through it, and the local-directory sink.
//!
//! A sink is deliberately small (get, list, put a batch) so that a directory
//! and any object store behave the same way for the publisher, which owns
//! every decision about what to write and in what order
//! (`spec/publishing.md` §3).

use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One object to publish: its path under the sink's root (a tlog-tiles path
/// such as `tile/0/x001/234` or `checkpoint`), its bytes and the HTTP
/// headers a static server or object store should serve it with.
#[derive(Clone, Debug)]
pub struct Object {
    /// Path relative to the sink's root, `/`-separated, no leading slash.
    pub path: String,
    /// The body.
    pub bytes: Vec<u8>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Cache-Control`.
    pub cache_control: &'static str,
}

/// A place a read path is published to.
pub trait Sink: Sync {
    /// A short description for messages (a directory, `s3://bucket/prefix`).
    fn describe(&self) -> String;
    /// Reads `path`, if it exists.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Every path under the sink's root (one listing; the publisher uses it
    /// instead of asking about each object, which on S3 would be one request
    /// per tile).
    fn list(&self) -> Result<HashSet<String>>;
    /// Writes every object, each atomically (a reader sees the old content
    /// or the new, never a part) and durably. They may be written in any
    /// order or concurrently; when this returns `Ok`, all are in place.
    /// On `Err`, any subset may have been written.
    fn put_all(&self, objects: Vec<Object>) -> Result<()>;
}

/// A local directory: what `tallyboard export` writes and any static file
/// server can serve (it then sets the headers itself; `spec/publishing.md`
/// §4 gives the ones to use).
pub struct DirSink {
    root: PathBuf,
}

impl DirSink {
    /// A sink writing under `root` (created if missing).
    pub fn new(root: &Path) -> Result<DirSink> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        Ok(DirSink {
            root: root.to_path_buf(),
        })
    }

    /// `root/path`, for a relative path of plain names only. The publisher
    /// makes its paths itself, so this never refuses one today; it keeps a
    /// future caller (a mirror, a publisher fed by a remote log) from
    /// writing outside the output directory (`spec/operations.md`, security).
    fn resolve(&self, path: &str) -> Result<PathBuf> {
        let plain = path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['\\', '\0']));
        if !plain {
            bail!("refusing publish path {path:?}: not a relative path of plain names");
        }
        Ok(self.root.join(path))
    }

    /// Writes one file atomically and durably: temporary name, fsync,
    /// rename, fsync of the directory.
    fn put_one(&self, path: &str, bytes: &[u8]) -> Result<()> {
        let target = self.resolve(path)?;
        let dir = target
            .parent()
            .ok_or_else(|| anyhow!("bad publish path {path}"))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!("{TMP_PREFIX}{name}.{}", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(bytes)
                .with_context(|| format!("writing {}", tmp.display()))?;
            f.sync_all()
                .with_context(|| format!("fsync {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("renaming into {}", target.display()))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("fsync {}", dir.display()))?;
        Ok(())
    }
}

/// Temporary files start with this, so a listing can skip leftovers of a
/// crashed run (no published path starts with a dot).
const TMP_PREFIX: &str = ".tmp-";

impl Sink for DirSink {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match std::fs::read(self.resolve(path)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {path}")),
        }
    }

    fn list(&self) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        let mut stack = vec![(self.root.clone(), String::new())];
        while let Some((dir, prefix)) = stack.pop() {
            let entries =
                std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
            for entry in entries {
                let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue; // not a path the publisher writes
                };
                if name.starts_with('.') {
                    continue;
                }
                let rel = format!("{prefix}{name}");
                let kind = entry
                    .file_type()
                    .with_context(|| format!("listing {}", dir.display()))?;
                if kind.is_dir() {
                    stack.push((entry.path(), format!("{rel}/")));
                } else if kind.is_file() {
                    out.insert(rel);
                }
            }
        }
        Ok(out)
    }

    fn put_all(&self, objects: Vec<Object>) -> Result<()> {
        for o in objects {
            self.put_one(&o.path, &o.bytes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(path: &str) -> Object {
        Object {
            path: path.into(),
            bytes: path.as_bytes().to_vec(),
            content_type: "text/plain",
            cache_control: "no-cache",
        }
    }

    #[test]
    fn dir_sink_stays_inside_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(&dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("outside"), b"canary").unwrap();
        for bad in [
            "../outside",
            "tile/../../outside",
            "/etc/passwd",
            "",
            ".",
            "tile/./0",
            "tile//0",
        ] {
            let o = object(bad);
            assert!(sink.put_all(vec![o]).is_err(), "put {bad:?}");
            assert!(sink.get(bad).is_err(), "get {bad:?}");
        }
        assert_eq!(
            std::fs::read(dir.path().join("outside")).unwrap(),
            b"canary"
        );
        sink.put_all(vec![object("tile/0/000")]).unwrap();
        assert_eq!(sink.get("tile/0/000").unwrap().unwrap(), b"tile/0/000");
    }
}
