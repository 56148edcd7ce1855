//! The sources that do I/O (the `net` feature): a directory holding an
//! export (`tallyboard export`) and a log served over HTTP(S).

use super::{check_path, Source, MAX_FETCH};
use crate::{Error, Result};
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// Opens a source: a URL if `s` starts with `http://` or `https://`,
/// otherwise a directory.
pub fn open_source(s: &str) -> Result<Box<dyn Source>> {
    if s.starts_with("http://") || s.starts_with("https://") {
        Ok(Box::new(HttpSource::new(s)))
    } else {
        let dir = PathBuf::from(s);
        if !dir.is_dir() {
            return Err(Error::CouldNotRun(format!(
                "source {s} is neither an http(s) URL nor a directory"
            )));
        }
        Ok(Box::new(DirSource::new(dir)))
    }
}

/// A directory holding the read path (an export).
#[derive(Clone, Debug)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    /// A source reading files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> DirSource {
        DirSource { root: root.into() }
    }
}

impl Source for DirSource {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>> {
        check_path(path)?;
        let p = self.root.join(path);
        match std::fs::File::open(&p) {
            Ok(f) => {
                let mut buf = Vec::new();
                f.take(MAX_FETCH + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| Error::CouldNotRun(format!("reading {}: {e}", p.display())))?;
                if buf.len() as u64 > MAX_FETCH {
                    return Err(Error::CouldNotRun(format!(
                        "{} is larger than {MAX_FETCH} bytes",
                        p.display()
                    )));
                }
                Ok(Some(buf))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::CouldNotRun(format!("reading {}: {e}", p.display()))),
        }
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// A log served over HTTP(S). Sends `Accept-Encoding: gzip` (entry bundles
/// may be served compressed) and follows no cross-origin redirects beyond
/// ureq's defaults.
pub struct HttpSource {
    base: String,
    agent: ureq::Agent,
}

impl HttpSource {
    /// A source under `base` (a trailing slash is optional).
    pub fn new(base: &str) -> HttpSource {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("tallyboard-verify/", env!("CARGO_PKG_VERSION")))
            .build();
        HttpSource {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }
}

impl Source for HttpSource {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>> {
        check_path(path)?;
        let url = format!("{}/{path}", self.base);
        match self.agent.get(&url).call() {
            Ok(resp) => {
                let mut buf = Vec::new();
                resp.into_reader()
                    .take(MAX_FETCH + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| Error::CouldNotRun(format!("reading {url}: {e}")))?;
                if buf.len() as u64 > MAX_FETCH {
                    return Err(Error::CouldNotRun(format!(
                        "{url} is larger than {MAX_FETCH} bytes"
                    )));
                }
                Ok(Some(buf))
            }
            Err(ureq::Error::Status(404, _)) | Err(ureq::Error::Status(410, _)) => Ok(None),
            Err(ureq::Error::Status(code, _)) => {
                Err(Error::CouldNotRun(format!("GET {url}: HTTP status {code}")))
            }
            Err(e) => Err(Error::CouldNotRun(format!("GET {url}: {e}"))),
        }
    }

    fn describe(&self) -> String {
        self.base.clone()
    }
}
