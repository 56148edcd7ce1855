//! The manifest's parts tree and per-station slices (spec/manifest.md §5).
//!
//! A verifier of one station needs the manifest's keys, witness policy,
//! regions, the station and its contests, not the record of every other
//! station (several megabytes at 59,000 stations). The manifest is cut
//! into **parts**, each the canonical JSON (RFC 8785) of one object after
//! a kind line:
//!
//! | index | part |
//! |---|---|
//! | 0 | `head\n` ‖ the manifest with `contests` and `stations` empty |
//! | 1 ..= C | `contest\n` ‖ each contest, in the manifest's order |
//! | C+1 ..= C+S | `station\n` ‖ each station, in the manifest's order |
//!
//! and the **manifest root** is the RFC 6962 Merkle tree hash (§2.1) of the
//! parts as leaves (`SHA-256(0x00 ‖ part)`). The manifest commitment
//! (entry 0, spec/entries.md §3.1) names it in `manifest-root` beside
//! `manifest-sha256`. A **slice** for a station is the head, the station's
//! contests and the station, each with its RFC 6962 inclusion proof in the
//! tree of all parts: a verifier rebuilds the part of the manifest it
//! needs, proven by the root the authority signed.

use super::{Contest, Manifest, ManifestError, Station};
use crate::hash::leaf_hash;
use crate::merkle::{prove_inclusion, verify_inclusion, MemoryLog};
use crate::Hash;
use serde::{Deserialize, Serialize};

/// The format line of a slice document.
pub const SLICE_FORMAT: &str = "tallyboard/manifest-slice/v1";

/// The kind line of the head part.
const HEAD: &str = "head\n";
/// The kind line of a contest part.
const CONTEST: &str = "contest\n";
/// The kind line of a station part.
const STATION: &str = "station\n";

fn part(kind: &str, json: Vec<u8>) -> Vec<u8> {
    let mut p = kind.as_bytes().to_vec();
    p.extend(json);
    p
}

/// The manifest's parts, in tree order (head, contests, stations).
pub fn parts(m: &Manifest) -> Vec<Vec<u8>> {
    let head = Manifest {
        contests: Vec::new(),
        stations: Vec::new(),
        ..m.clone()
    };
    let mut out = Vec::with_capacity(1 + m.contests.len() + m.stations.len());
    out.push(part(HEAD, head.to_canonical_bytes()));
    for c in &m.contests {
        out.push(part(CONTEST, serde_json::to_vec(c).unwrap_or_default()));
    }
    for s in &m.stations {
        out.push(part(STATION, serde_json::to_vec(s).unwrap_or_default()));
    }
    out
}

/// The tree of a manifest's parts, kept to answer slices.
#[derive(Clone, Debug)]
pub struct ManifestTree {
    parts: Vec<Vec<u8>>,
    tree: MemoryLog,
    contests: usize,
}

impl ManifestTree {
    /// Builds the tree of `m`'s parts.
    pub fn new(m: &Manifest) -> ManifestTree {
        let parts = parts(m);
        let mut tree = MemoryLog::new();
        for p in &parts {
            // A tree of at most 64 MiB of parts never overflows.
            let _ = tree.append(leaf_hash(p));
        }
        ManifestTree {
            parts,
            tree,
            contests: m.contests.len(),
        }
    }

    /// The manifest root: the RFC 6962 tree hash of the parts.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The number of parts.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    fn proven(&self, index: usize) -> Option<SlicePart> {
        let bytes = self.parts.get(index)?;
        let proof = prove_inclusion(index as u64, self.size(), &self.tree).ok()?;
        Some(SlicePart {
            index: index as u64,
            part: String::from_utf8(bytes.clone()).ok()?,
            proof: proof.iter().map(Hash::to_hex).collect(),
        })
    }

    /// The slice for `station` of manifest `m` (the one this tree was built
    /// from): the head, the station's contests and the station, each with
    /// its inclusion proof. `None` if `m` has no such station.
    pub fn slice(&self, m: &Manifest, station: &str) -> Option<Slice> {
        let s = m.stations.iter().position(|s| s.id == station)?;
        let mut parts = vec![self.proven(0)?];
        for cid in &m.stations[s].contests {
            let c = m.contests.iter().position(|c| &c.id == cid)?;
            parts.push(self.proven(1 + c)?);
        }
        parts.push(self.proven(1 + self.contests + s)?);
        Some(Slice {
            format: SLICE_FORMAT.to_string(),
            size: self.size(),
            root: self.root().to_hex(),
            station: station.to_string(),
            parts,
        })
    }
}

/// A per-station slice of the manifest (`GET
/// /api/v1/manifest/slices/{station}`, spec/http-api.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slice {
    /// Always [`SLICE_FORMAT`].
    pub format: String,
    /// The number of parts in the tree.
    pub size: u64,
    /// The manifest root (hex), informative: the verifier uses the one the
    /// commitment names.
    pub root: String,
    /// The station the slice is for.
    pub station: String,
    /// The parts: the head first, then the station's contests, then the
    /// station.
    pub parts: Vec<SlicePart>,
}

/// One part of a slice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlicePart {
    /// Its leaf index in the tree of parts.
    pub index: u64,
    /// The part: its kind line and canonical JSON.
    pub part: String,
    /// Its RFC 6962 inclusion proof, hex hashes.
    pub proof: Vec<String>,
}

fn bad(msg: impl Into<String>) -> ManifestError {
    ManifestError::malformed(format!("manifest slice: {}", msg.into()))
}

/// Parses a part of `kind` as canonical JSON of `T`.
fn read_part<T: Serialize + for<'de> Deserialize<'de>>(
    p: &SlicePart,
    kind: &str,
) -> Result<T, ManifestError> {
    let json = p
        .part
        .strip_prefix(kind)
        .ok_or_else(|| bad(format!("part {} is not a {}", p.index, kind.trim_end())))?;
    let value: T = serde_json::from_str(json).map_err(|e| bad(format!("part {}: {e}", p.index)))?;
    if serde_json::to_vec(&value).ok().as_deref() != Some(json.as_bytes()) {
        return Err(bad(format!("part {} is not in canonical form", p.index)));
    }
    Ok(value)
}

impl Slice {
    /// Parses a slice document.
    ///
    /// # Errors
    /// `manifest.malformed` if it is not one.
    pub fn from_bytes(bytes: &[u8]) -> Result<Slice, ManifestError> {
        let s: Slice = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if s.format != SLICE_FORMAT {
            return Err(bad(format!("format must be {SLICE_FORMAT}")));
        }
        Ok(s)
    }

    /// Checks every part's inclusion under `root` (the commitment's
    /// `manifest-root`) and rebuilds the manifest as far as `station`
    /// needs it: the head with the station's contests and the station
    /// alone. The caller validates it (`ValidatedManifest::from_manifest`).
    ///
    /// # Errors
    /// `manifest.malformed` for a part that does not parse, is not proven
    /// under `root`, or is missing (the head, the station, one of its
    /// contests), or for another station's slice.
    pub fn open(&self, root: &Hash, station: &str) -> Result<Manifest, ManifestError> {
        if self.station != station {
            return Err(bad(format!(
                "the slice is for {}, not {station}",
                self.station
            )));
        }
        for p in &self.parts {
            let proof: Vec<Hash> = p
                .proof
                .iter()
                .map(|h| {
                    Hash::from_hex(h)
                        .ok_or_else(|| bad(format!("part {}: bad proof hash", p.index)))
                })
                .collect::<Result<_, _>>()?;
            verify_inclusion(
                &leaf_hash(p.part.as_bytes()),
                p.index,
                self.size,
                &proof,
                root,
            )
            .map_err(|e| {
                bad(format!(
                    "part {} is not under the committed root: {e}",
                    p.index
                ))
            })?;
        }
        let (head, rest) = self.parts.split_first().ok_or_else(|| bad("no parts"))?;
        let (last, contests) = rest.split_last().ok_or_else(|| bad("no station part"))?;
        if head.index != 0 {
            return Err(bad("the first part is not the head (index 0)"));
        }
        let mut m: Manifest = read_part(head, HEAD)?;
        if !m.contests.is_empty() || !m.stations.is_empty() {
            return Err(bad("the head lists contests or stations"));
        }
        let st: Station = read_part(last, STATION)?;
        if st.id != station {
            return Err(bad(format!("the station part is {}, not {station}", st.id)));
        }
        for p in contests {
            m.contests.push(read_part::<Contest>(p, CONTEST)?);
        }
        for cid in &st.contests {
            if !m.contests.iter().any(|c| &c.id == cid) {
                return Err(bad(format!("contest {cid} of {station} is missing")));
            }
        }
        m.stations.push(st);
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        crate::testutil::manifest()
    }

    #[test]
    fn a_slice_opens_under_the_root_and_nothing_else_does() {
        let m = manifest();
        let tree = ManifestTree::new(&m);
        assert_eq!(
            tree.size() as usize,
            1 + m.contests.len() + m.stations.len()
        );
        let station = m.stations.last().unwrap().id.clone();
        let slice = tree.slice(&m, &station).unwrap();
        let bytes = serde_json::to_vec(&slice).unwrap();
        let slice = Slice::from_bytes(&bytes).unwrap();
        let opened = slice.open(&tree.root(), &station).unwrap();
        assert_eq!(opened.stations.len(), 1);
        assert_eq!(opened.stations[0], *m.stations.last().unwrap());
        assert_eq!(opened.keys, m.keys);
        assert_eq!(opened.witness_policy, m.witness_policy);
        assert!(super::super::ValidatedManifest::from_manifest(opened).is_ok());
        // Another root, another station, a changed part: refused.
        assert!(slice.open(&Hash::sha256(b"x"), &station).is_err());
        assert!(slice.open(&tree.root(), "other").is_err());
        let mut forged = slice.clone();
        let last = forged.parts.len() - 1;
        forged.parts[last].part = forged.parts[last].part.replace("fixed", "mobile");
        if forged.parts[last].part != slice.parts[last].part {
            assert!(forged.open(&tree.root(), &station).is_err());
        }
        let mut dropped = slice.clone();
        dropped.parts.remove(1);
        assert!(dropped.open(&tree.root(), &station).is_err());
        // A part of one kind presented as another.
        let mut confused = slice.clone();
        confused.parts.swap(0, 1);
        assert!(confused.open(&tree.root(), &station).is_err());
        assert!(tree.slice(&m, "no-such-station").is_none());
    }
}
