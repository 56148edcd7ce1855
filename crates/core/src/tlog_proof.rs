//! C2SP tlog-proof v1 (<https://c2sp.org/tlog-proof>), the board's receipt.
//!
//! A tlog-proof bundles everything needed to check, offline, that an entry
//! is in a log: the entry's index, its RFC 6962 inclusion proof and a signed
//! (and possibly cosigned) checkpoint. Layout, every line ending in `\n`:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional, unauthenticated)
//! index <decimal>
//! <base64 hash>             (0 to 63 lines, the sibling of the leaf first)
//! <empty line>
//! <signed checkpoint note, verbatim>
//! ```
//!
//! Strictness: the index is decimal without leading zeros; hashes and the
//! `extra` value are canonical standard base64 (hashes of exactly 32 bytes,
//! `extra` non-empty); at most 63 hashes; the checkpoint must be a
//! well-formed signed note (C2SP signed-note v1.0.0) whose text is a
//! well-formed checkpoint (tlog-checkpoint v1.0.0), and nothing may follow
//! it. So [`TlogProof::parse`] then [`TlogProof::to_bytes`] gives back the
//! input.
//!
//! Verification ([`TlogProof::verify`], tlog-proof §"Verification"): hash
//! the entry as an RFC 6962 leaf, open the checkpoint with the trusted keys
//! (log key and, if wanted, witness keys), check the origin, then check the
//! inclusion proof against the checkpoint's size and root. The `extra`
//! field is not covered by any signature and is not used.

use base64::Engine as _;

use crate::checkpoint::{
    open_checkpoint, parse_decimal_u64, Checkpoint, CheckpointError, MAX_CHECKPOINT_SIZE,
};
use crate::error::{Coded, ErrorCode};
use crate::hash::{decode_base64_canonical, leaf_hash, Hash};
use crate::note::{Note, Verifiers};

/// The first line of a tlog-proof, without its newline.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most inclusion-proof hashes a tlog-proof may carry (a tree of up to
/// 2^63 entries needs at most 63).
pub const MAX_PROOF_HASHES: usize = 63;

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// The optional, unauthenticated `extra` data.
    pub extra: Option<Vec<u8>>,
    /// The entry's index in the log.
    pub index: u64,
    /// The inclusion proof, the leaf's sibling first.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, byte for byte.
    pub checkpoint: Vec<u8>,
}

/// Why a tlog-proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    /// The proof document is malformed.
    #[error("malformed tlog-proof: {reason}")]
    Malformed {
        /// What was wrong, and on which line.
        reason: String,
    },
    /// The checkpoint is malformed, not signed by a trusted key, or for
    /// another origin.
    #[error("tlog-proof checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The index is not below the checkpoint's tree size.
    #[error("index {index} is out of range for tree size {size}")]
    OutOfRange {
        /// The proof's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The inclusion proof does not lead from the entry to the root.
    #[error("inclusion proof for index {index} does not match the root of tree size {size}")]
    InclusionFailed {
        /// The proof's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
}

impl Coded for TlogProofError {
    fn code(&self) -> ErrorCode {
        match self {
            TlogProofError::Malformed { .. } => ErrorCode::ProofMalformed,
            TlogProofError::Checkpoint(e) => e.code(),
            TlogProofError::OutOfRange { .. } => ErrorCode::ProofOutOfRange,
            TlogProofError::InclusionFailed { .. } => ErrorCode::ProofInclusionFailed,
        }
    }
}

fn malformed(reason: impl Into<String>) -> TlogProofError {
    TlogProofError::Malformed {
        reason: reason.into(),
    }
}

/// Splits off the first `\n`-terminated line, as UTF-8.
fn next_line<'a>(rest: &mut &'a [u8], line_no: usize) -> Result<&'a str, TlogProofError> {
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| malformed(format!("line {line_no}: missing (or no final newline)")))?;
    let line = std::str::from_utf8(&rest[..end])
        .map_err(|_| malformed(format!("line {line_no}: not UTF-8")))?;
    *rest = &rest[end + 1..];
    Ok(line)
}

impl TlogProof {
    /// Parses a tlog-proof strictly (see the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, TlogProofError> {
        let mut rest = bytes;
        let mut line_no = 1;
        if next_line(&mut rest, line_no)? != HEADER {
            return Err(malformed(format!("line 1: not {HEADER:?}")));
        }
        line_no += 1;
        let mut line = next_line(&mut rest, line_no)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            let data = decode_base64_canonical(b64)
                .filter(|d| !d.is_empty())
                .ok_or_else(|| {
                    malformed(format!(
                        "line {line_no}: extra is not non-empty canonical base64"
                    ))
                })?;
            extra = Some(data);
            line_no += 1;
            line = next_line(&mut rest, line_no)?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal_u64)
            .ok_or_else(|| {
                malformed(format!(
                    "line {line_no}: expected \"index <decimal without leading zeros>\""
                ))
            })?;
        let mut proof = Vec::new();
        loop {
            line_no += 1;
            let line = next_line(&mut rest, line_no)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(malformed(format!(
                    "line {line_no}: more than {MAX_PROOF_HASHES} proof hashes"
                )));
            }
            let h = Hash::from_base64(line).ok_or_else(|| {
                malformed(format!(
                    "line {line_no}: not canonical base64 of a 32-byte hash"
                ))
            })?;
            proof.push(h);
        }
        // The rest is the checkpoint note; check its structure now so that a
        // receipt is refused as soon as it is read, not only when verified.
        let note = Note::parse(rest, MAX_CHECKPOINT_SIZE).map_err(CheckpointError::from)?;
        Checkpoint::parse(&note.text)?;
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint: rest.to_vec(),
        })
    }

    /// Serializes the proof; the inverse of [`TlogProof::parse`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str("extra ");
            s.push_str(&base64::engine::general_purpose::STANDARD.encode(extra));
            s.push('\n');
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Verifies that `entry` is at `self.index` in the log named `origin`:
    /// opens the checkpoint with `log` (which must contain the log's key and
    /// may contain witness keys; every known signature must verify), checks
    /// the origin, then the RFC 6962 inclusion proof of
    /// `SHA-256(0x00 || entry)`. Returns the verified checkpoint.
    pub fn verify(
        &self,
        entry: &[u8],
        origin: &str,
        log: &Verifiers,
    ) -> Result<Checkpoint, TlogProofError> {
        let (cp, _) = open_checkpoint(&self.checkpoint, origin, log)?;
        if self.index >= cp.size {
            return Err(TlogProofError::OutOfRange {
                index: self.index,
                size: cp.size,
            });
        }
        let leaf = leaf_hash(entry);
        if !verify_inclusion(self.index, cp.size, &leaf, &self.proof, &cp.root) {
            return Err(TlogProofError::InclusionFailed {
                index: self.index,
                size: cp.size,
            });
        }
        Ok(cp)
    }
}

/// RFC 9162 §2.1.3.2 inclusion verification, shared with the rest of the
/// core (`crate::merkle`), as a yes/no answer.
fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    crate::merkle::verify_inclusion(leaf, index, size, path, root).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::testvectors::{load, note_vector, s};
    use crate::note::VerifierKey;

    const ORIGIN: &str = "example.com/log/testdata";

    fn example() -> (Vec<u8>, Verifiers) {
        let m = load("vectors-merkle.json");
        let bytes = m["tessera_testdata_log"]["tlog_proof_example"]
            .as_str()
            .unwrap()
            .as_bytes()
            .to_vec();
        let v = note_vector("tessera-testdata-checkpoints");
        let vs: Verifiers = [VerifierKey::parse(s(&v, "vkey")).unwrap()]
            .into_iter()
            .collect();
        (bytes, vs)
    }

    #[test]
    fn tessera_example_verifies_and_round_trips() {
        let (bytes, vs) = example();
        let p = TlogProof::parse(&bytes).unwrap();
        assert_eq!(p.index, 5);
        assert_eq!(p.proof.len(), 4);
        assert_eq!(p.extra, None);
        assert_eq!(p.to_bytes(), bytes);
        let cp = p.verify(b"six", ORIGIN, &vs).unwrap();
        assert_eq!(cp.size, 15);
        assert_eq!(
            cp.root.to_base64(),
            "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs="
        );
    }

    #[test]
    fn inclusion_matches_reference_proofs() {
        // Cross-check the private verifier against the derived Tessera
        // proofs and all 36 RFC 6962 eight-leaf proofs.
        let m = load("vectors-merkle.json");
        let t = &m["tessera_testdata_log"];
        let mut n = 0;
        for c in t["inclusion"].as_array().unwrap() {
            let idx = c["leaf_index"].as_u64().unwrap();
            let size = c["tree_size"].as_u64().unwrap();
            let path: Vec<Hash> = c["proof_b64"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
                .collect();
            let root = Hash::from_base64(t["root_b64_by_size"][size.to_string()].as_str().unwrap())
                .unwrap();
            let leaf = leaf_hash(c["leaf_input"].as_str().unwrap().as_bytes());
            assert!(
                verify_inclusion(idx, size, &leaf, &path, &root),
                "{idx}/{size}"
            );
            assert!(!verify_inclusion(idx, size, &leaf_hash(b"x"), &path, &root));
            n += 1;
        }
        let r = &m["rfc6962_8leaf"];
        for c in r["inclusion"].as_array().unwrap() {
            let hex32 = |v: &serde_json::Value| Hash::from_hex(v.as_str().unwrap()).unwrap();
            let idx = c["leaf_index"].as_u64().unwrap();
            let size = c["tree_size"].as_u64().unwrap();
            let path: Vec<Hash> = c["proof_hex"]
                .as_array()
                .unwrap()
                .iter()
                .map(hex32)
                .collect();
            let leaf = leaf_hash(&hex::decode(c["leaf_input_hex"].as_str().unwrap()).unwrap());
            assert_eq!(leaf, hex32(&c["leaf_hash_hex"]));
            let root = hex32(&c["root_hex"]);
            assert!(
                verify_inclusion(idx, size, &leaf, &path, &root),
                "{idx}/{size}"
            );
            assert!(!verify_inclusion(idx + 1, size, &leaf, &path, &root));
            n += 1;
        }
        assert!(n >= 36 + 2, "{n}");
    }

    #[test]
    fn verification_failures() {
        let (bytes, vs) = example();
        let p = TlogProof::parse(&bytes).unwrap();
        // Wrong entry.
        assert_eq!(
            p.verify(b"five", ORIGIN, &vs).unwrap_err().code(),
            ErrorCode::ProofInclusionFailed
        );
        // Wrong index.
        let mut q = p.clone();
        q.index = 4;
        assert_eq!(
            q.verify(b"six", ORIGIN, &vs).unwrap_err().code(),
            ErrorCode::ProofInclusionFailed
        );
        q.index = 15;
        assert_eq!(
            q.verify(b"six", ORIGIN, &vs).unwrap_err().code(),
            ErrorCode::ProofOutOfRange
        );
        // Tampered hash.
        let mut q = p.clone();
        q.proof[2].0[0] ^= 1;
        assert_eq!(
            q.verify(b"six", ORIGIN, &vs).unwrap_err().code(),
            ErrorCode::ProofInclusionFailed
        );
        // Too short and too long a path.
        let mut q = p.clone();
        q.proof.pop();
        assert!(q.verify(b"six", ORIGIN, &vs).is_err());
        let mut q = p.clone();
        q.proof.push(Hash::default());
        assert!(q.verify(b"six", ORIGIN, &vs).is_err());
        // Wrong origin, unknown key, tampered checkpoint signature.
        assert_eq!(
            p.verify(b"six", "example.com/other", &vs)
                .unwrap_err()
                .code(),
            ErrorCode::CheckpointWrongOrigin
        );
        assert_eq!(
            p.verify(b"six", ORIGIN, &Verifiers::new())
                .unwrap_err()
                .code(),
            ErrorCode::NoteNoKnownSignature
        );
        let mut q = p.clone();
        let i = q.checkpoint.len() - 10;
        q.checkpoint[i] ^= 1;
        assert_eq!(
            TlogProof::parse(&q.to_bytes())
                .unwrap()
                .verify(b"six", ORIGIN, &vs)
                .unwrap_err()
                .code(),
            ErrorCode::NoteBadSignature
        );
    }

    fn parse_code(b: &[u8]) -> ErrorCode {
        TlogProof::parse(b).unwrap_err().code()
    }

    #[test]
    fn parse_negative_cases() {
        let (bytes, _) = example();
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Bad header.
        for bad in [
            text.replacen("@v1", "@v2", 1),
            text.replacen("c2sp.org", "C2SP.org", 1),
            format!("\n{text}"),
            text.replacen("@v1\n", "@v1\r\n", 1),
        ] {
            assert_eq!(
                parse_code(bad.as_bytes()),
                ErrorCode::ProofMalformed,
                "{bad:?}"
            );
        }
        // Bad index lines.
        for bad in [
            "index 05", "index -5", "index  5", "index 5 ", "idx 5", "index ",
        ] {
            let b = text.replacen("index 5", bad, 1);
            assert_eq!(parse_code(b.as_bytes()), ErrorCode::ProofMalformed, "{bad}");
        }
        // Hash line not 32 bytes / non-canonical.
        let b = text.replacen(
            "zMKa4OAqd7D0V4wawXST15z0JiEEkprIBPkfxOesWvA=\n",
            "zMKa\n",
            1,
        );
        assert_eq!(parse_code(b.as_bytes()), ErrorCode::ProofMalformed);
        let b = text.replacen("WvA=\n", "WvB=\n", 1);
        assert_eq!(parse_code(b.as_bytes()), ErrorCode::ProofMalformed);
        // 63 hashes parse, 64 do not.
        let p = TlogProof::parse(&bytes).unwrap();
        let mut q = p.clone();
        q.proof = vec![Hash::default(); 63];
        assert_eq!(TlogProof::parse(&q.to_bytes()).unwrap(), q);
        q.proof.push(Hash::default());
        assert_eq!(parse_code(&q.to_bytes()), ErrorCode::ProofMalformed);
        // Missing blank line before the checkpoint.
        let b = text.replacen("0Ks=\n\n", "0Ks=\n", 1);
        assert!(TlogProof::parse(b.as_bytes()).is_err());
        // Trailing garbage after the checkpoint, or a second blank line.
        let mut b = bytes.clone();
        b.extend_from_slice(b"garbage\n");
        assert!(TlogProof::parse(&b).is_err());
        let mut b = bytes.clone();
        b.extend_from_slice(b"x");
        assert!(TlogProof::parse(&b).is_err());
        let b = text.replacen("0Ks=\n\n", "0Ks=\n\n\n", 1);
        assert!(TlogProof::parse(b.as_bytes()).is_err());
        // Truncated documents.
        for n in [0, 10, 23, 31, 80] {
            assert!(TlogProof::parse(&bytes[..n]).is_err(), "{n}");
        }
        // A checkpoint body that is not a checkpoint.
        let b = text.replacen("\n15\n", "\n015\n", 1);
        assert_eq!(parse_code(b.as_bytes()), ErrorCode::CheckpointMalformed);
    }

    #[test]
    fn extra_round_trips_and_is_strict() {
        let (bytes, vs) = example();
        let mut p = TlogProof::parse(&bytes).unwrap();
        p.extra = Some(b"board receipt".to_vec());
        let b = p.to_bytes();
        assert!(b.starts_with(b"c2sp.org/tlog-proof@v1\nextra Ym9hcmQgcmVjZWlwdA==\nindex 5\n"));
        let back = TlogProof::parse(&b).unwrap();
        assert_eq!(back, p);
        back.verify(b"six", ORIGIN, &vs).unwrap();
        let text = String::from_utf8(b).unwrap();
        for bad in [
            "extra \n",
            "extra Ym9hcmQgcmVjZWlwdA=\n",
            "extra  Ym9hcmQgcmVjZWlwdA==\n",
        ] {
            let t = text.replacen("extra Ym9hcmQgcmVjZWlwdA==\n", bad, 1);
            assert_eq!(parse_code(t.as_bytes()), ErrorCode::ProofMalformed, "{bad}");
        }
    }

    #[test]
    fn parse_never_panics_on_mutations() {
        use proptest::prelude::*;
        let (bytes, _) = example();
        proptest!(ProptestConfig::with_cases(500), |(i in 0usize..1000, b in any::<u8>(), cut in 0usize..1000)| {
            let mut m = bytes.clone();
            let i = i % m.len();
            m[i] = b;
            m.truncate(m.len() - cut % 8);
            if let Ok(p) = TlogProof::parse(&m) {
                prop_assert_eq!(p.to_bytes(), m);
            }
        });
    }
}
