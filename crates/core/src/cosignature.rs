//! C2SP tlog-cosignature v1.0.1 (<https://c2sp.org/tlog-cosignature>):
//! timestamped Ed25519 checkpoint cosignatures, signature type 0x04.
//!
//! A cosignature is an ordinary signed-note signature line on a checkpoint,
//! `— <cosigner name> base64(key ID || timestamp || signature)`, where
//!
//! * the key ID is `SHA-256(name || 0x0A || 0x04 || 32-byte key)[:4]`
//!   (tlog-cosignature §"Format", signed-note §"Signatures");
//! * the payload after the key ID is the 8-byte big-endian POSIX timestamp
//!   in seconds followed by the 64-byte Ed25519 signature (72 bytes);
//! * the signed message is `cosignature/v1\n`, `time <decimal timestamp>\n`
//!   and then the whole checkpoint note text, extension lines included
//!   ([`cosigned_message`]).
//!
//! The Ed25519 form does not commit to the cosigner's name, so every
//! cosigner needs its own key. A cosignature states that, as of its
//! timestamp, the checkpoint is the largest consistent tree the cosigner has
//! seen for that origin.
//!
//! Strictness: timestamps must be in `1..=2^63-1`. The spec caps them at
//! 2^63-1; tlog-witness v1.0.0 requires a non-zero timestamp, and we apply
//! that both when cosigning and when verifying.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::error::{Coded, ErrorCode};
use crate::note::{
    key_id, valid_key_name, NoteError, NoteSignature, VerifierKey, SIG_COSIGNATURE_V1,
};

/// The largest timestamp a cosignature may carry (tlog-cosignature §"Format").
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;

/// Length of the payload after the key ID: 8-byte timestamp + 64-byte signature.
pub const COSIGNATURE_LEN: usize = 8 + 64;

/// Why a cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The timestamp is 0 or larger than 2^63-1.
    #[error("cosignature timestamp {0} is not in 1..=2^63-1")]
    BadTimestamp(u64),
    /// The key is not a cosignature (type 0x04) key.
    #[error("key {name} is not a cosignature/v1 (type 0x04) key")]
    WrongKeyType {
        /// Key name.
        name: String,
    },
    /// The signature line's name or key ID is not the key's.
    #[error("signature by {sig_name} ({sig_id:08x}) is not from key {key_name} ({key_id:08x})")]
    WrongKey {
        /// Name on the signature line.
        sig_name: String,
        /// Key ID on the signature line.
        sig_id: u32,
        /// The key's name.
        key_name: String,
        /// The key's ID.
        key_id: u32,
    },
    /// The payload is not 72 bytes.
    #[error("cosignature by {name} is {len} bytes after the key ID, not 72")]
    BadLength {
        /// Key name.
        name: String,
        /// Actual length.
        len: usize,
    },
    /// The Ed25519 signature does not verify.
    #[error("cosignature by {name} does not verify")]
    BadSignature {
        /// Key name.
        name: String,
    },
}

impl Coded for CosignatureError {
    fn code(&self) -> ErrorCode {
        ErrorCode::CosignatureInvalid
    }
}

/// The message a cosigner signs (tlog-cosignature §"Signed message"):
/// `"cosignature/v1\ntime <timestamp>\n"` followed by the checkpoint note
/// text (everything before the blank line, extension lines included).
pub fn cosigned_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    m.extend_from_slice(checkpoint_text.as_bytes());
    m
}

/// An Ed25519 cosigning key (type 0x04). Its [`Debug`] form shows only the
/// name and key ID; the secret is zeroized on drop by `ed25519-dalek`.
#[derive(Clone)]
pub struct CosignerKey {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl CosignerKey {
    /// Builds a cosigner from a name and a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(NoteError::KeyMalformed {
                reason: "key name is empty or contains white space, '+' or a control character"
                    .to_string(),
            });
        }
        let key = SigningKey::from_bytes(&seed);
        Ok(CosignerKey {
            name: name.to_string(),
            key_id: key_id(name, SIG_COSIGNATURE_V1, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// A cosigner with the same name and Ed25519 seed as a note signer key.
    /// Private key files use the Go form (`note::SKEY_PREFIX`), which only holds
    /// type-0x01 keys; a witness reads its key that way and cosigns with
    /// the type-0x04 key ID (`keys/README.md`).
    pub fn from_signer_key(key: &crate::note::SignerKey) -> CosignerKey {
        let key_bytes = key.signing_key().clone();
        CosignerKey {
            name: key.name().to_string(),
            key_id: key_id(
                key.name(),
                SIG_COSIGNATURE_V1,
                key_bytes.verifying_key().as_bytes(),
            ),
            key: key_bytes,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID (computed with type byte 0x04).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key; its vkey is `name+id+base64(0x04 || key)`.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey::from_checked_parts(&self.name, SIG_COSIGNATURE_V1, self.key.verifying_key())
    }
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignerKey")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

fn check_timestamp(timestamp: u64) -> Result<(), CosignatureError> {
    if timestamp == 0 || timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::BadTimestamp(timestamp));
    }
    Ok(())
}

/// Cosigns a checkpoint note text at `timestamp` (POSIX seconds). Refuses
/// timestamp 0 and timestamps above 2^63-1.
pub fn cosign(
    checkpoint_text: &str,
    timestamp: u64,
    key: &CosignerKey,
) -> Result<NoteSignature, CosignatureError> {
    check_timestamp(timestamp)?;
    let sig = key.key.sign(&cosigned_message(checkpoint_text, timestamp));
    let mut payload = Vec::with_capacity(COSIGNATURE_LEN);
    payload.extend_from_slice(&timestamp.to_be_bytes());
    payload.extend_from_slice(&sig.to_bytes());
    Ok(NoteSignature {
        name: key.name.clone(),
        key_id: key.key_id,
        signature: payload,
    })
}

/// Verifies one cosignature line against a cosigner key and returns its
/// timestamp. The line's name and key ID must be the key's.
pub fn verify_cosignature(
    checkpoint_text: &str,
    sig: &NoteSignature,
    key: &VerifierKey,
) -> Result<u64, CosignatureError> {
    if key.sig_type() != SIG_COSIGNATURE_V1 {
        return Err(CosignatureError::WrongKeyType {
            name: key.name().to_string(),
        });
    }
    if sig.name != key.name() || sig.key_id != key.key_id() {
        return Err(CosignatureError::WrongKey {
            sig_name: sig.name.clone(),
            sig_id: sig.key_id,
            key_name: key.name().to_string(),
            key_id: key.key_id(),
        });
    }
    if sig.signature.len() != COSIGNATURE_LEN {
        return Err(CosignatureError::BadLength {
            name: sig.name.clone(),
            len: sig.signature.len(),
        });
    }
    let (ts_bytes, _) = sig.signature.split_at(8);
    let mut ts = [0u8; 8];
    ts.copy_from_slice(ts_bytes);
    check_timestamp(u64::from_be_bytes(ts))?;
    verify_cosignature_bytes(key.public_key(), checkpoint_text.as_bytes(), &sig.signature)
        .ok_or_else(|| CosignatureError::BadSignature {
            name: sig.name.clone(),
        })
}

/// Checks a 72-byte cosignature payload (timestamp || signature) over the
/// note text `text`; returns the timestamp if it verifies. Used by
/// [`VerifierKey::verify`] for type-0x04 keys. A text that is not UTF-8
/// cannot be a note text and never verifies.
pub(crate) fn verify_cosignature_bytes(
    key: &VerifyingKey,
    text: &[u8],
    payload: &[u8],
) -> Option<u64> {
    if payload.len() != COSIGNATURE_LEN {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let (ts_bytes, sig) = payload.split_at(8);
    let ts = u64::from_be_bytes(ts_bytes.try_into().ok()?);
    if check_timestamp(ts).is_err() {
        return None;
    }
    crate::note::verify_ed25519(key, &cosigned_message(text, ts), sig).then_some(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::testvectors::{note_vector, s};
    use crate::note::{open, Note, Verifiers};

    const MAX: usize = 1 << 20;

    fn witness() -> (CosignerKey, serde_json::Value) {
        let v = note_vector("sunlight-skylight-witness-cosignature");
        let seed: [u8; 32] = hex::decode(s(&v, "witness_ed25519_seed_hex"))
            .unwrap()
            .try_into()
            .unwrap();
        // The seed is SHA-256("skylight test witness key").
        assert_eq!(
            crate::hash::Hash::sha256(b"skylight test witness key").0,
            seed
        );
        (
            CosignerKey::from_seed("witness.example.org", seed).unwrap(),
            v,
        )
    }

    #[test]
    fn cosigner_debug_hides_the_secret() {
        let seed = [0x5a; 32];
        let key = CosignerKey::from_seed("witness.example.org", seed).unwrap();
        let dbg = format!("{key:?}");
        assert!(dbg.contains("witness.example.org"), "{dbg}");
        assert!(!dbg.contains(&hex::encode(seed)), "{dbg}");
        assert!(!dbg.contains("90, 90"), "{dbg}");
        assert!(!dbg.contains("SigningKey"), "{dbg}");
    }

    #[test]
    fn witness_key_matches_published_vkey() {
        let (key, v) = witness();
        assert_eq!(key.key_id(), 0xb8a2cf20);
        assert_eq!(key.verifier().to_vkey_string(), s(&v, "witness_vkey"));
        assert_eq!(
            hex::encode(key.verifier().public_key().as_bytes()),
            s(&v, "witness_pubkey_hex")
        );
        let dbg = format!("{key:?}");
        assert!(
            dbg.contains("b8a2cf20") && !dbg.contains("14731ce6"),
            "{dbg}"
        );
    }

    #[test]
    fn witness_cosignature_reproduced_byte_for_byte() {
        let (key, v) = witness();
        let bytes = s(&v, "signed_checkpoint").as_bytes();
        let note = Note::parse(bytes, MAX).unwrap();
        let ts = v["timestamp"].as_u64().unwrap();
        assert_eq!(
            cosigned_message(&note.text, ts),
            s(&v, "cosignature_signed_message").as_bytes()
        );
        let sig = cosign(&note.text, ts, &key).unwrap();
        assert_eq!(sig, note.signatures[1]);
        let vk = VerifierKey::parse(s(&v, "witness_vkey")).unwrap();
        assert_eq!(
            verify_cosignature(&note.text, &note.signatures[1], &vk),
            Ok(ts)
        );
    }

    #[test]
    fn mirror_cosignature_verifies() {
        let v = note_vector("sunlight-skylight-mirror-cosignature");
        let note = Note::parse(s(&v, "signed_checkpoint").as_bytes(), MAX).unwrap();
        let vk = VerifierKey::parse(s(&v, "mirror_vkey")).unwrap();
        assert_eq!(vk.key_id(), 0x3fb148ef);
        assert_eq!(
            verify_cosignature(&note.text, &note.signatures[0], &vk),
            Ok(v["timestamp"].as_u64().unwrap())
        );
        let seed: [u8; 32] = hex::decode(s(&v, "mirror_ed25519_seed_hex"))
            .unwrap()
            .try_into()
            .unwrap();
        let key = CosignerKey::from_seed("mirror.example.org", seed).unwrap();
        assert_eq!(key.verifier(), vk);
    }

    #[test]
    fn negative_cases() {
        let (key, v) = witness();
        let note = Note::parse(s(&v, "signed_checkpoint").as_bytes(), MAX).unwrap();
        let vk = key.verifier();
        let good = note.signatures[1].clone();

        for ts in [0, MAX_TIMESTAMP + 1, u64::MAX] {
            assert_eq!(
                cosign(&note.text, ts, &key),
                Err(CosignatureError::BadTimestamp(ts))
            );
        }
        assert!(cosign(&note.text, MAX_TIMESTAMP, &key).is_ok());

        // Changed timestamp, flipped signature bit, other text.
        let mut t = good.clone();
        t.signature[7] ^= 1;
        assert!(matches!(
            verify_cosignature(&note.text, &t, &vk),
            Err(CosignatureError::BadSignature { .. })
        ));
        let mut t = good.clone();
        t.signature[40] ^= 1;
        assert!(verify_cosignature(&note.text, &t, &vk).is_err());
        assert!(verify_cosignature("other\n1\nAAAA\n", &good, &vk).is_err());
        // Truncated payload.
        let mut t = good.clone();
        t.signature.pop();
        assert!(matches!(
            verify_cosignature(&note.text, &t, &vk),
            Err(CosignatureError::BadLength { len: 71, .. })
        ));
        // Timestamp 0 with an otherwise well-formed payload.
        let mut t = good.clone();
        t.signature[..8].copy_from_slice(&[0; 8]);
        assert_eq!(
            verify_cosignature(&note.text, &t, &vk),
            Err(CosignatureError::BadTimestamp(0))
        );
        // Wrong key type: the same public key as a plain Ed25519 key.
        let plain =
            VerifierKey::new(vk.name(), crate::note::SIG_ED25519, *vk.public_key()).unwrap();
        assert!(matches!(
            verify_cosignature(&note.text, &good, &plain),
            Err(CosignatureError::WrongKeyType { .. })
        ));
        // A plain Ed25519 key with the same name has a different key ID, so
        // in a note the cosignature is simply from an unknown key.
        let vs: Verifiers = [plain].into_iter().collect();
        assert!(open(s(&v, "signed_checkpoint").as_bytes(), MAX, &vs).is_err());
        // Wrong key: the line is not from this key.
        let mut t = good.clone();
        t.key_id ^= 1;
        assert!(matches!(
            verify_cosignature(&note.text, &t, &vk),
            Err(CosignatureError::WrongKey { .. })
        ));
        assert_eq!(
            CosignatureError::BadTimestamp(0).code(),
            ErrorCode::CosignatureInvalid
        );
    }

    #[test]
    fn tampered_cosignature_rejects_note_in_open() {
        let (key, v) = witness();
        let mut note = Note::parse(s(&v, "signed_checkpoint").as_bytes(), MAX).unwrap();
        note.signatures[1].signature[70] ^= 0x80;
        let vs: Verifiers = [key.verifier()].into_iter().collect();
        assert_eq!(
            open(&note.to_bytes(), MAX, &vs).unwrap_err().code(),
            ErrorCode::NoteBadSignature
        );
    }
}
