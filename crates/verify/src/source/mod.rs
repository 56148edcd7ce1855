//! Where the read path comes from. The verification procedure reads every
//! resource through [`Source`], by its read-path name, and does no I/O of
//! its own:
//!
//! * [`Evidence`]: resources already fetched (the browser's JavaScript
//!   fetches, then hands them over);
//! * with the `net` feature, [`DirSource`] (a directory written by
//!   `tallyboard export`) and [`HttpSource`] (a base URL).
//!
//! All of them are untrusted: everything read is checked against a
//! verified checkpoint.

mod evidence;
#[cfg(feature = "net")]
mod net;

pub use evidence::Evidence;
#[cfg(feature = "net")]
pub use net::{open_source, DirSource, HttpSource};

use crate::{Error, Result};

/// The largest resource the verifier reads (the manifest may be tens of
/// MiB; tiles are 8 KiB, bundles at most 256 × 65,537 bytes).
pub const MAX_FETCH: u64 = 64 << 20;

/// A read-only view of the log's read path, addressed by the paths of C2SP
/// tlog-tiles (`checkpoint`, `tile/0/000`, `tile/entries/000.p/5`) and
/// tallyboard's `api/v1/...`.
pub trait Source: Sync {
    /// The resource at `path`: `Ok(None)` if it does not exist (HTTP 404,
    /// no such file), [`Error::CouldNotRun`] on a transport failure.
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Entry `index` alone, when this source holds it apart from its
    /// bundle (the browser fetches `GET /api/v1/entries/<index>` from a
    /// board, spec/browser-verification.md §2); `Ok(None)` sends the
    /// reader to the entry's bundle. As untrusted as everything else: the
    /// procedure proves its inclusion from the tiles, so a single entry
    /// and a bundle are checked alike.
    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let _ = index;
        Ok(None)
    }
    /// A short description for reports.
    fn describe(&self) -> String;
}

/// Refuses paths that could leave the read path (absolute, empty segments,
/// `.` or `..`), whatever the source.
pub(crate) fn check_path(path: &str) -> Result<()> {
    if path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(Error::CouldNotRun(format!(
            "refusing to fetch path {path:?}"
        )));
    }
    Ok(())
}
