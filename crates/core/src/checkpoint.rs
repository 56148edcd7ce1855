//! C2SP tlog-checkpoint v1.0.0 (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is the text of a signed note (see [`crate::note`]):
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! [<extension line>...]
//! ```
//!
//! every line ending in `\n`. The origin names the log; the size is the
//! number of entries; the root is the RFC 6962 Merkle tree hash of those
//! entries. Extension lines are opaque and not recommended by the spec.
//!
//! Strictness (tlog-checkpoint §"Note text" allows no other spelling, and we
//! refuse what it merely discourages only where noted):
//!
//! * the origin is non-empty (its recommended form, a schema-less URL
//!   without spaces or `+`, is not enforced here: the caller compares it to
//!   the expected origin byte for byte);
//! * the size is ASCII decimal, `0` or without leading zeros, and fits u64;
//! * the root is canonical standard base64 of exactly 32 bytes;
//! * extension lines are non-empty (so no blank line can appear in the text);
//! * no control characters other than the line feeds.

use crate::error::{Coded, ErrorCode};
use crate::hash::Hash;
use crate::note::{self, NoteError, SignerKey, VerifiedNote, Verifiers};

/// The largest signed checkpoint note [`open_checkpoint`] reads: 1 MiB.
pub const MAX_CHECKPOINT_SIZE: usize = 1 << 20;

/// A parsed checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// The tree size (number of entries).
    pub size: u64,
    /// The RFC 6962 root hash of the first `size` entries.
    pub root: Hash,
    /// Extension lines, without their newlines (usually none).
    pub extensions: Vec<String>,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The checkpoint text is malformed.
    #[error("malformed checkpoint: {reason}")]
    Malformed {
        /// What was wrong, and on which line.
        reason: String,
    },
    /// The origin is not the one expected.
    #[error("checkpoint origin is {found:?}, expected {expected:?}")]
    WrongOrigin {
        /// The expected origin.
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },
    /// The signed note around the checkpoint was refused.
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl Coded for CheckpointError {
    fn code(&self) -> ErrorCode {
        match self {
            CheckpointError::Malformed { .. } => ErrorCode::CheckpointMalformed,
            CheckpointError::WrongOrigin { .. } => ErrorCode::CheckpointWrongOrigin,
            CheckpointError::Note(e) => e.code(),
        }
    }
}

fn malformed(reason: impl Into<String>) -> CheckpointError {
    CheckpointError::Malformed {
        reason: reason.into(),
    }
}

/// Parses a decimal u64 with no sign, no leading zeros (except `0` itself):
/// the one form numbers take in notes, paths and the API (spec/README.md).
pub fn parse_decimal_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// Parses a checkpoint note text (tlog-checkpoint §"Note text"); see the
    /// module documentation for the exact rules.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        note::check_text(text).map_err(|e| malformed(e.to_string()))?;
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or("");
        if origin.is_empty() {
            return Err(malformed("line 1: empty origin"));
        }
        let size_line = lines
            .next()
            .ok_or_else(|| malformed("line 2: missing tree size"))?;
        let size = parse_decimal_u64(size_line).ok_or_else(|| {
            malformed("line 2: tree size is not a decimal number without leading zeros")
        })?;
        let root_line = lines
            .next()
            .ok_or_else(|| malformed("line 3: missing root hash"))?;
        let root = Hash::from_base64(root_line)
            .ok_or_else(|| malformed("line 3: root hash is not canonical base64 of 32 bytes"))?;
        let mut extensions = Vec::new();
        for (i, ext) in lines.enumerate() {
            if ext.is_empty() {
                return Err(malformed(format!("line {}: empty extension line", i + 4)));
            }
            extensions.push(ext.to_string());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint note text: origin, size, base64 root and extension
    /// lines, each ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }
}

/// Opens a signed checkpoint: verifies the note against `verifiers`
/// (signed-note rules: unknown keys ignored, any known key must verify, at
/// least one must), parses the text as a checkpoint and checks that its
/// origin is exactly `origin`. Notes larger than [`MAX_CHECKPOINT_SIZE`]
/// are refused.
pub fn open_checkpoint(
    bytes: &[u8],
    origin: &str,
    verifiers: &Verifiers,
) -> Result<(Checkpoint, VerifiedNote), CheckpointError> {
    let verified = note::open(bytes, MAX_CHECKPOINT_SIZE, verifiers)?;
    let cp = Checkpoint::parse(&verified.note.text)?;
    if cp.origin != origin {
        return Err(CheckpointError::WrongOrigin {
            expected: origin.to_string(),
            found: cp.origin,
        });
    }
    Ok((cp, verified))
}

/// Signs a checkpoint with the log's key and returns the signed note.
/// The checkpoint should be valid (non-empty origin without newlines or
/// control characters, non-empty extension lines); the result of signing an
/// invalid one will not open.
pub fn sign_checkpoint(cp: &Checkpoint, log_key: &SignerKey) -> Vec<u8> {
    let text = cp.to_text();
    note::Note {
        signatures: vec![log_key.sign_text(&text)],
        text,
    }
    .to_bytes()
}

/// [`sign_checkpoint`] with any [`note::NoteSigner`] (a key in a hardware
/// token), which may fail.
pub fn sign_checkpoint_with<S: note::NoteSigner + ?Sized>(
    cp: &Checkpoint,
    log_key: &S,
) -> Result<Vec<u8>, NoteError> {
    let text = cp.to_text();
    Ok(note::Note {
        signatures: vec![note::note_signature(log_key, &text)?],
        text,
    }
    .to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::testvectors::{load, note_vector, s};
    use crate::note::{Note, VerifierKey};

    fn tessera() -> (SignerKey, Verifiers, serde_json::Value) {
        let v = note_vector("tessera-testdata-checkpoints");
        let signer = SignerKey::parse(s(&v, "skey")).unwrap();
        let vs: Verifiers = [VerifierKey::parse(s(&v, "vkey")).unwrap()]
            .into_iter()
            .collect();
        (signer, vs, v)
    }

    #[test]
    fn tessera_checkpoints_open_and_resign() {
        let (signer, vs, v) = tessera();
        let merkle = load("vectors-merkle.json");
        let roots = &merkle["tessera_testdata_log"]["root_b64_by_size"];
        let mut n = 0;
        for (size, bytes) in v["checkpoints_by_size"].as_object().unwrap() {
            let bytes = bytes.as_str().unwrap().as_bytes();
            let (cp, vn) = open_checkpoint(bytes, "example.com/log/testdata", &vs).unwrap();
            assert_eq!(cp.size.to_string(), *size);
            assert_eq!(cp.root.to_base64(), roots[size].as_str().unwrap());
            assert!(cp.extensions.is_empty());
            assert_eq!(cp.to_text(), vn.note.text);
            assert_eq!(sign_checkpoint(&cp, &signer), bytes);
            n += 1;
        }
        assert_eq!(n, 16);
        let empty = Checkpoint::parse(
            &Note::parse(
                v["checkpoints_by_size"]["0"].as_str().unwrap().as_bytes(),
                MAX_CHECKPOINT_SIZE,
            )
            .unwrap()
            .text,
        )
        .unwrap();
        assert_eq!(empty.root, crate::hash::EMPTY_ROOT);
    }

    #[test]
    fn wrong_origin_and_unknown_key() {
        let (_, vs, v) = tessera();
        let bytes = v["checkpoints_by_size"]["5"].as_str().unwrap().as_bytes();
        let err = open_checkpoint(bytes, "example.com/log/other", &vs).unwrap_err();
        assert_eq!(err.code(), ErrorCode::CheckpointWrongOrigin);
        let err =
            open_checkpoint(bytes, "example.com/log/testdata", &Verifiers::new()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::NoteNoKnownSignature);
    }

    #[test]
    fn cosigned_checkpoints_open() {
        let w = note_vector("sunlight-skylight-witness-cosignature");
        let vs: Verifiers = [VerifierKey::parse(s(&w, "witness_vkey")).unwrap()]
            .into_iter()
            .collect();
        let (cp, vn) = open_checkpoint(
            s(&w, "signed_checkpoint").as_bytes(),
            "rome2026h1.example.org",
            &vs,
        )
        .unwrap();
        assert_eq!(cp.size, 300);
        assert_eq!(vn.verified, vec![1]);
        let m = note_vector("sunlight-skylight-mirror-cosignature");
        let vs: Verifiers = [VerifierKey::parse(s(&m, "mirror_vkey")).unwrap()]
            .into_iter()
            .collect();
        let (cp, _) = open_checkpoint(
            s(&m, "signed_checkpoint").as_bytes(),
            "rome2026h1.example.org",
            &vs,
        )
        .unwrap();
        let merkle = load("vectors-merkle.json");
        assert_eq!(
            cp.root.to_base64(),
            merkle["tiled_300"]["root_b64"].as_str().unwrap()
        );
    }

    #[test]
    fn extensions_round_trip() {
        let text = "example.org/log\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nTimestamp: 12345\nx\n";
        let cp = Checkpoint::parse(text).unwrap();
        assert_eq!(cp.extensions, vec!["Timestamp: 12345", "x"]);
        assert_eq!(cp.to_text(), text);
    }

    #[test]
    fn parse_negative_cases() {
        let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let ok = format!("o\n10\n{root}\n");
        assert!(Checkpoint::parse(&ok).is_ok());
        assert_eq!(
            Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size,
            0
        );
        assert_eq!(
            Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n"))
                .unwrap()
                .size,
            u64::MAX
        );
        for bad in [
            format!("\n10\n{root}\n"),
            format!("o\n010\n{root}\n"),
            format!("o\n00\n{root}\n"),
            format!("o\n+10\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n 10\n{root}\n"),
            format!("o\n1e3\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n10\n{}\n", &root[..root.len() - 1]),
            format!("o\n10\n{}V=\n", &root[..root.len() - 2]),
            format!("o\n10\n{root}"),
            format!("o\n10\n{root}\n\n"),
            format!("o\n10\n{root}\next\n\n"),
            format!("o\r\n10\n{root}\n"),
            "o\n10\n".to_string(),
            "o\n".to_string(),
            "o\n10\nAAAA\n".to_string(),
            String::new(),
        ] {
            let err = Checkpoint::parse(&bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::CheckpointMalformed, "{bad:?}");
        }
    }

    #[test]
    fn sign_then_open_with_fresh_key() {
        let key = SignerKey::from_seed("board.example/e1", [7; 32]).unwrap();
        let cp = Checkpoint {
            origin: "board.example/e1".into(),
            size: 3,
            root: Hash::sha256(b"x"),
            extensions: vec![],
        };
        let bytes = sign_checkpoint(&cp, &key);
        let vs: Verifiers = [key.verifier()].into_iter().collect();
        let (back, _) = open_checkpoint(&bytes, "board.example/e1", &vs).unwrap();
        assert_eq!(back, cp);
    }
}
