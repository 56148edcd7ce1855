//! Resources fetched beforehand, served to the procedure as a [`Source`]:
//! the browser's JavaScript fetches what the fetch plan
//! ([`crate::plan`]) names and hands the bytes over, so that the checks
//! that run in WebAssembly are the very ones the command line runs over
//! HTTP.

use super::{check_path, Source};
use crate::procedure::manifest::MANIFEST_PATH;
use crate::Result;
use std::collections::BTreeMap;
use tallyboard_core::tile::parse_tile_path;

/// Fetched resources by read-path name. A name the procedure never asks
/// for is refused when added, so that a typo in the caller shows up as a
/// refused resource rather than as silently ignored data.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    resources: BTreeMap<String, Vec<u8>>,
    /// Single entries by index (the note bytes of `GET /api/v1/entries/<i>`).
    entries: BTreeMap<u64, Vec<u8>>,
}

/// The signed note an entry answer (`EntryJson`, spec/http-api.md §2)
/// holds; its other members are the board's reading of it and are not
/// trusted: the note is parsed and proven like a bundle's entry.
#[derive(serde::Deserialize)]
struct EntryAnswer {
    note: String,
}

impl Evidence {
    /// No resources yet.
    pub fn new() -> Evidence {
        Evidence::default()
    }

    /// Adds a fetched resource under its read-path name: `checkpoint`, the
    /// manifest (`manifest`, `api/v1/manifest` or `api/v1/manifest.json`),
    /// a hash tile `tile/<L>/<N>[.p/<W>]` or an entry bundle
    /// `tile/entries/<N>[.p/<W>]`. A tile or bundle is kept under the path
    /// it was fetched from: a full one fetched in place of a missing
    /// partial (tlog-tiles allows logs to drop partials) is found by the
    /// same fallback the other sources use. A blob (the minutes image a
    /// page shows) is `api/v1/blobs/<SHA-256 hex>`, a station's manifest
    /// slice `api/v1/manifest/slices/<station>`, a single entry
    /// `api/v1/entries/<index>` (the board's JSON answer, of which the
    /// signed note is kept). Returns false, keeping nothing, for any other
    /// name or an entry answer that is not JSON with a `note`.
    pub fn add(&mut self, path: &str, bytes: Vec<u8>) -> bool {
        if let Some(index) = path.strip_prefix("api/v1/entries/") {
            let Some(index) = tallyboard_core::checkpoint::parse_decimal_u64(index) else {
                return false;
            };
            let Ok(answer) = serde_json::from_slice::<EntryAnswer>(&bytes) else {
                return false;
            };
            self.entries.insert(index, answer.note.into_bytes());
            return true;
        }
        let name = match path {
            "checkpoint" => path.to_string(),
            "manifest" | "api/v1/manifest" | "api/v1/manifest.json" => MANIFEST_PATH.to_string(),
            _ if path.starts_with("api/v1/manifest/slices/") => {
                let station = &path["api/v1/manifest/slices/".len()..];
                if !tallyboard_core::entry::grammar::is_valid_id(station) {
                    return false;
                }
                crate::procedure::manifest::slice_path(station)
            }
            _ if path.starts_with("api/v1/blobs/") => {
                match crate::procedure::screen::minutes_path(&path["api/v1/blobs/".len()..]) {
                    Some(p) => p,
                    None => return false,
                }
            }
            _ => match parse_tile_path(path) {
                Ok(tile) => tile.to_path(),
                Err(_) => return false,
            },
        };
        self.resources.insert(name, bytes);
        true
    }
}

impl Source for Evidence {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>> {
        check_path(path)?;
        Ok(self.resources.get(path).cloned())
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.entries.get(&index).cloned())
    }

    fn describe(&self) -> String {
        format!("{} resources fetched beforehand", self.resources.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_path_names_are_kept() {
        let mut ev = Evidence::new();
        assert!(ev.add("checkpoint", b"cp".to_vec()));
        assert!(ev.add("manifest", b"{}".to_vec()));
        assert!(ev.add("tile/0/000.p/5", vec![0; 160]));
        assert!(ev.add("tile/entries/001", vec![1]));
        assert!(!ev.add("../etc/passwd", b"x".to_vec()));
        assert!(!ev.add("tile/0/x", b"x".to_vec()));
        assert!(ev.add(&format!("api/v1/blobs/{}", "ab".repeat(32)), vec![1]));
        assert!(!ev.add("api/v1/blobs/../x", vec![1]));
        assert_eq!(ev.fetch(MANIFEST_PATH).unwrap(), Some(b"{}".to_vec()));
        assert_eq!(
            ev.fetch("tile/0/000.p/5").unwrap().map(|b| b.len()),
            Some(160)
        );
        assert_eq!(ev.fetch("tile/0/000").unwrap(), None);
        assert!(ev.fetch("/etc/passwd").is_err());
        // A single entry keeps the signed note of the board's answer.
        assert!(ev.add("api/v1/entries/7", br#"{"index":7,"note":"n\n"}"#.to_vec()));
        assert_eq!(ev.entry(7).unwrap(), Some(b"n\n".to_vec()));
        assert_eq!(ev.entry(8).unwrap(), None);
        assert!(!ev.add("api/v1/entries/07", br#"{"note":"n"}"#.to_vec()));
        assert!(!ev.add("api/v1/entries/9", b"not json".to_vec()));
        assert_eq!(ev.entry(9).unwrap(), None);
    }
}
