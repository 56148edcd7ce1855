//! C2SP signed-note v1.0.0 (<https://c2sp.org/signed-note>) with Ed25519.
//!
//! A signed note is a UTF-8 text that ends in a newline, followed by one
//! blank line and one or more signature lines:
//!
//! ```text
//! <text, ending in "\n">
//! <blank line>
//! — <key name> <base64(4-byte big-endian key ID || signature)>
//! ...
//! ```
//!
//! This module parses notes strictly (see [`Note::parse`]), verifies them
//! against a set of trusted [`VerifierKey`]s ([`open`]) and signs them with
//! Ed25519 [`SignerKey`]s ([`sign`]). Two signature types are understood:
//! plain Ed25519 ([`SIG_ED25519`], signed-note §"Signature types") and the
//! timestamped Ed25519 cosignature of C2SP tlog-cosignature v1.0.1
//! ([`SIG_COSIGNATURE_V1`]), whose message format lives in
//! [`crate::cosignature`]. Signatures of any other type, or from keys the
//! caller does not know, are kept in the parsed note but ignored, as
//! signed-note §"Verifying notes" requires.
//!
//! Ed25519 verification uses `verify_strict` (no small-order keys or `R`
//! components, canonical `S`), and weak public keys are refused when a key
//! is parsed, so a signature has one meaning for every verifier.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Coded, ErrorCode};
use crate::hash::decode_base64_canonical;

/// The most signature lines a note may carry. signed-note §"Verifying notes"
/// asks verifiers to accept at least 16 and to apply some limit; 100 is the
/// limit of the Go and Rust reference implementations.
pub const MAX_SIGNATURES: usize = 100;

/// Signature type byte of a plain Ed25519 note signature (signed-note
/// §"Signature types").
pub const SIG_ED25519: u8 = 0x01;

/// Signature type byte of a timestamped Ed25519 checkpoint cosignature
/// (C2SP tlog-cosignature v1.0.1, "cosignature/v1").
pub const SIG_COSIGNATURE_V1: u8 = 0x04;

/// The signature-line prefix: U+2014 EM DASH followed by one space.
pub const SIG_PREFIX: &str = "\u{2014} ";

/// Length of an Ed25519 public key, seed and signature.
const ED25519_KEY_LEN: usize = 32;
const ED25519_SIG_LEN: usize = 64;

/// The prefix of the Go (`golang.org/x/mod/sumdb/note`) private key string.
/// The prefix of a private key string in the Go `golang.org/x/mod/sumdb/note`
/// form; the only place tallyboard spells it.
pub const SKEY_PREFIX: &str = concat!("PRIVATE", "+KEY+");

/// Why a note or a key was refused. Messages say what was wrong and where,
/// and never contain private key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note is not valid UTF-8 (signed-note §"Format").
    #[error("note is not valid UTF-8 (first invalid byte at offset {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The note contains an ASCII control character other than `\n`
    /// (carriage returns included).
    #[error("note line {line} contains control character 0x{byte:02x}")]
    ControlChar {
        /// 1-based line number in the whole note.
        line: usize,
        /// The offending byte.
        byte: u8,
    },
    /// The note is larger than the caller's limit.
    #[error("note is {size} bytes, more than the limit of {max}")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The overall layout is wrong: no final newline, no blank line before
    /// the signatures, empty text or no signature line.
    #[error("malformed note: {reason}")]
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// A signature line is not `— <name> <canonical base64>`, or its
    /// payload is shorter than a key ID plus one byte.
    #[error("signature line {line} is malformed: {reason}")]
    SignatureLineMalformed {
        /// 1-based index of the signature line (1 = first after the blank line).
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {max} signature lines")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// A signature from a key the verifier knows did not verify; the whole
    /// note is rejected (signed-note §"Verifying notes").
    #[error("signature by known key {name} (key ID {key_id:08x}) does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature line is from a key the verifier knows.
    #[error("no signature from a known key")]
    NoKnownSignature,
    /// A verifier or signer key string, or a key name, is malformed.
    #[error("malformed key: {reason}")]
    KeyMalformed {
        /// What was wrong (never the key material itself).
        reason: String,
    },
    /// The key ID in a key string is not the one computed from its name,
    /// type and public key.
    #[error("key {name}: key ID {found:08x} does not match the computed {computed:08x}")]
    KeyIdMismatch {
        /// Key name.
        name: String,
        /// The key ID written in the key string.
        found: u32,
        /// The key ID computed from name, type and public key.
        computed: u32,
    },
    /// The public key is not a valid Ed25519 point, or is weak (small order).
    #[error("key {name}: {reason}")]
    KeyInvalid {
        /// Key name.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// A signer outside this process (a hardware token) could not sign.
    #[error("signer {name} could not sign: {reason}")]
    SignerFailed {
        /// The signer's key name.
        name: String,
        /// What went wrong (never key material).
        reason: String,
    },
}

impl Coded for NoteError {
    fn code(&self) -> ErrorCode {
        match self {
            NoteError::NotUtf8 { .. } => ErrorCode::NoteNotUtf8,
            NoteError::ControlChar { .. } => ErrorCode::NoteControlChar,
            NoteError::TooLarge { .. } => ErrorCode::NoteTooLarge,
            NoteError::Malformed { .. } => ErrorCode::NoteMalformed,
            NoteError::SignatureLineMalformed { .. } => ErrorCode::NoteSignatureLineMalformed,
            NoteError::TooManySignatures { .. } => ErrorCode::NoteTooManySignatures,
            NoteError::BadSignature { .. } => ErrorCode::NoteBadSignature,
            NoteError::NoKnownSignature => ErrorCode::NoteNoKnownSignature,
            NoteError::KeyMalformed { .. } => ErrorCode::KeyMalformed,
            NoteError::KeyIdMismatch { .. } => ErrorCode::KeyIdMismatch,
            NoteError::KeyInvalid { .. } => ErrorCode::KeyInvalid,
            NoteError::SignerFailed { .. } => ErrorCode::KeySignerFailed,
        }
    }
}

fn malformed(reason: impl Into<String>) -> NoteError {
    NoteError::Malformed {
        reason: reason.into(),
    }
}

fn key_malformed(reason: impl Into<String>) -> NoteError {
    NoteError::KeyMalformed {
        reason: reason.into(),
    }
}

/// The key ID of signed-note §"Signatures": the first four bytes of
/// `SHA-256(name || 0x0A || sig_type || public_key)`, read big-endian.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', sig_type]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The number of bytes of SHA-256 a [`fingerprint`] shows (80 bits).
pub const FINGERPRINT_BYTES: usize = 10;

/// A short fingerprint of a verifier key that a person can compare with
/// the one the election authority and the witnesses publish (spec/keys.md
/// §6): the first [`FINGERPRINT_BYTES`] bytes of `SHA-256(vkey)`, where
/// `vkey` is the key's signed-note verifier-key string
/// (`<name>+<key ID>+<base64(type || key)>`, as in a `.vkey` file, without
/// a trailing newline), in lowercase hex, in groups of four joined by `-`:
/// `3f2a-09c1-…` (24 characters). Unlike the 4-byte key ID, which only
/// tells keys apart, it covers the whole key with 80 bits.
pub fn fingerprint(vkey: &str) -> String {
    let d = Sha256::digest(vkey.trim_end().as_bytes());
    let hex = hex::encode(&d[..FINGERPRINT_BYTES]);
    hex.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether `name` is a valid key name (signed-note §"Signatures"): non-empty,
/// no Unicode white space, no `+`. We also refuse control characters, which
/// can never appear in a note anyway.
pub fn valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// Checks that `text` can be the text of a note: non-empty, ends in `\n`,
/// and has no ASCII control character other than `\n` (signed-note
/// §"Format"). DEL (0x7f) counts as a control character.
pub(crate) fn check_text(text: &str) -> Result<(), NoteError> {
    check_controls(text)?;
    if text.is_empty() {
        return Err(malformed("text is empty"));
    }
    if !text.ends_with('\n') {
        return Err(malformed("text does not end with a newline"));
    }
    Ok(())
}

fn check_controls(s: &str) -> Result<(), NoteError> {
    let mut line = 1;
    for &b in s.as_bytes() {
        if b == b'\n' {
            line += 1;
        } else if b < 0x20 || b == 0x7f {
            return Err(NoteError::ControlChar { line, byte: b });
        }
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 4-byte key ID, big-endian.
    pub key_id: u32,
    /// The bytes after the key ID (for Ed25519, the 64-byte signature; for a
    /// cosignature, the 8-byte timestamp then the signature). At least one byte.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line without its final newline:
    /// `— <name> <base64(key ID || signature)>`.
    pub fn to_line(&self) -> String {
        let mut payload = Vec::with_capacity(4 + self.signature.len());
        payload.extend_from_slice(&self.key_id.to_be_bytes());
        payload.extend_from_slice(&self.signature);
        format!(
            "{SIG_PREFIX}{} {}",
            self.name,
            base64::engine::general_purpose::STANDARD.encode(payload)
        )
    }

    /// Parses one signature line (without its newline). `line` is the
    /// 1-based number used in error messages.
    pub fn parse_line(s: &str, line: usize) -> Result<NoteSignature, NoteError> {
        let bad = |reason: &str| NoteError::SignatureLineMalformed {
            line,
            reason: reason.to_string(),
        };
        let rest = s
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("does not start with an em dash (U+2014) and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("no space between key name and signature"))?;
        if !valid_key_name(name) {
            return Err(bad(
                "invalid key name (empty, or contains white space or '+')",
            ));
        }
        let payload = decode_base64_canonical(b64)
            .ok_or_else(|| bad("signature is not canonical standard base64"))?;
        if payload.len() < 5 {
            return Err(bad("signature is shorter than a key ID and one byte"));
        }
        Ok(NoteSignature {
            name: name.to_string(),
            key_id: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]),
            signature: payload[4..].to_vec(),
        })
    }
}

/// A parsed (not yet verified) signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, including its final newline but not the blank line.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note strictly:
    ///
    /// * at most `max_size` bytes, valid UTF-8, no control character but `\n`
    ///   (so no CR);
    /// * the note ends in `\n` and splits at its *last* `"\n\n"` into the
    ///   text (which keeps its final newline) and the signature block;
    /// * the signature block is 1..=[`MAX_SIGNATURES`] lines, each exactly
    ///   `— <name> <canonical base64>\n` with one space on each side of the
    ///   name and a payload of at least 5 bytes; nothing follows the last
    ///   newline.
    ///
    /// Every accepted input is given back byte for byte by [`Note::to_bytes`].
    pub fn parse(bytes: &[u8], max_size: usize) -> Result<Note, NoteError> {
        if bytes.len() > max_size {
            return Err(NoteError::TooLarge {
                size: bytes.len(),
                max: max_size,
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_controls(s)?;
        if !s.ends_with('\n') {
            return Err(malformed("does not end with a newline"));
        }
        let split = s
            .rfind("\n\n")
            .ok_or_else(|| malformed("no blank line between text and signatures"))?;
        let text = &s[..split + 1];
        let block = &s[split + 2..];
        if block.is_empty() {
            return Err(malformed("no signature lines after the blank line"));
        }
        // `block` ends in '\n' (because `s` does and the block is not empty)
        // and holds no empty line (the split was at the last "\n\n").
        let lines: Vec<&str> = block[..block.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, l)| NoteSignature::parse_line(l, i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// Serializes the note: text, blank line, one line per signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.text.len() + 1 + 110 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
            out.push('\n');
        }
        out.into_bytes()
    }
}

/// A trusted public key for verifying note signatures: a name, a key ID, a
/// signature type ([`SIG_ED25519`] or [`SIG_COSIGNATURE_V1`]) and an Ed25519
/// public key. Its string form ("vkey") is
/// `<name>+<8 lowercase hex key ID>+<base64(type || 32-byte key)>`.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    sig_type: u8,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Builds a verifier key, computing its key ID. Refuses an invalid name,
    /// an unsupported type and weak (small-order) keys.
    pub fn new(name: &str, sig_type: u8, key: VerifyingKey) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(key_malformed(
                "key name is empty or contains white space, '+' or a control character",
            ));
        }
        if sig_type != SIG_ED25519 && sig_type != SIG_COSIGNATURE_V1 {
            return Err(key_malformed(format!(
                "key {name}: unsupported signature type 0x{sig_type:02x}"
            )));
        }
        if key.is_weak() {
            return Err(NoteError::KeyInvalid {
                name: name.to_string(),
                reason: "Ed25519 public key is weak (small order)".to_string(),
            });
        }
        Ok(VerifierKey {
            name: name.to_string(),
            key_id: key_id(name, sig_type, key.as_bytes()),
            sig_type,
            key,
        })
    }

    /// Parses a vkey string `<name>+<hex key ID>+<base64(type || key)>`.
    /// Refuses unsupported types (anything but 0x01 and 0x04, with
    /// `KeyMalformed`), wrong lengths, non-canonical base64 or hex, a key ID
    /// that does not match, and invalid or weak Ed25519 keys.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let (name, id, bytes) = split_key_string(vkey)?;
        let (&sig_type, key) = bytes
            .split_first()
            .ok_or_else(|| key_malformed(format!("key {name}: empty key")))?;
        if sig_type != SIG_ED25519 && sig_type != SIG_COSIGNATURE_V1 {
            return Err(key_malformed(format!(
                "key {name}: unsupported signature type 0x{sig_type:02x}"
            )));
        }
        let key: [u8; ED25519_KEY_LEN] = key.try_into().map_err(|_| {
            key_malformed(format!(
                "key {name}: Ed25519 public key is {} bytes, not 32",
                key.len()
            ))
        })?;
        let computed = key_id(name, sig_type, &key);
        if computed != id {
            return Err(NoteError::KeyIdMismatch {
                name: name.to_string(),
                found: id,
                computed,
            });
        }
        let vk = VerifyingKey::from_bytes(&key).map_err(|_| NoteError::KeyInvalid {
            name: name.to_string(),
            reason: "not a valid Ed25519 public key".to_string(),
        })?;
        VerifierKey::new(name, sig_type, vk)
    }

    /// Builds a key from parts the caller already checked (a valid name and
    /// a key derived from a seed, which is never weak).
    pub(crate) fn from_checked_parts(name: &str, sig_type: u8, key: VerifyingKey) -> VerifierKey {
        VerifierKey {
            name: name.to_string(),
            key_id: key_id(name, sig_type, key.as_bytes()),
            sig_type,
            key,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature type: [`SIG_ED25519`] or [`SIG_COSIGNATURE_V1`].
    pub fn sig_type(&self) -> u8 {
        self.sig_type
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The key's fingerprint for people to compare ([`fingerprint`],
    /// spec/keys.md §6).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.to_vkey_string())
    }

    /// The vkey string form (also the [`Display`](fmt::Display) form).
    pub fn to_vkey_string(&self) -> String {
        let mut b = Vec::with_capacity(1 + ED25519_KEY_LEN);
        b.push(self.sig_type);
        b.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            base64::engine::general_purpose::STANDARD.encode(b)
        )
    }

    /// Verifies `signature` (the bytes after the key ID in a signature line)
    /// over the note text `msg`.
    ///
    /// * [`SIG_ED25519`]: `signature` is 64 bytes, checked with
    ///   `verify_strict` over `msg`.
    /// * [`SIG_COSIGNATURE_V1`]: `signature` is an 8-byte big-endian
    ///   timestamp and a 64-byte signature over
    ///   [`cosigned_message`](crate::cosignature::cosigned_message)`(msg, ts)`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        match self.sig_type {
            SIG_ED25519 => verify_ed25519(&self.key, msg, signature),
            SIG_COSIGNATURE_V1 => {
                crate::cosignature::verify_cosignature_bytes(&self.key, msg, signature).is_some()
            }
            _ => false,
        }
    }
}

/// Strict Ed25519 verification of a 64-byte signature.
pub(crate) fn verify_ed25519(key: &VerifyingKey, msg: &[u8], signature: &[u8]) -> bool {
    let Ok(sig) = <[u8; ED25519_SIG_LEN]>::try_from(signature) else {
        return false;
    };
    key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey_string())
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({})", self.to_vkey_string())
    }
}

/// Splits `<name>+<8 lowercase hex>+<canonical base64>` into its parts.
/// Used for vkeys and (after [`SKEY_PREFIX`]) for skeys, so the
/// error messages never quote the base64 part.
fn split_key_string(s: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(hex_id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(key_malformed("expected <name>+<hex key ID>+<base64 key>"));
    };
    if !valid_key_name(name) {
        return Err(key_malformed(
            "key name is empty or contains white space or a control character",
        ));
    }
    if hex_id.len() != 8
        || !hex_id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(key_malformed(format!(
            "key {name}: key ID is not 8 lowercase hex digits"
        )));
    }
    let id = u32::from_str_radix(hex_id, 16)
        .map_err(|_| key_malformed(format!("key {name}: bad key ID")))?;
    let bytes = decode_base64_canonical(b64).ok_or_else(|| {
        key_malformed(format!("key {name}: key is not canonical standard base64"))
    })?;
    Ok((name, id, bytes))
}

/// Overwrites a buffer that held secret bytes (best effort).
fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        *b = 0;
    }
    std::hint::black_box(buf);
}

/// An Ed25519 note signing key (type [`SIG_ED25519`]). Its [`Debug`] form
/// shows only the name and key ID; it has no `Display`. The secret is
/// zeroized on drop by `ed25519-dalek`.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl SignerKey {
    /// Builds a signer from a key name and a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(key_malformed(
                "key name is empty or contains white space, '+' or a control character",
            ));
        }
        let key = SigningKey::from_bytes(&seed);
        Ok(SignerKey {
            name: name.to_string(),
            key_id: key_id(name, SIG_ED25519, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// Parses the Go private key form
    /// [`SKEY_PREFIX`] `<name>+<hex key ID>+base64(0x01 || 32-byte seed)`
    /// (golang.org/x/mod/sumdb/note; not part of C2SP). The key ID must match
    /// the one computed from the name and the derived public key.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let rest = skey.strip_prefix(SKEY_PREFIX).ok_or_else(|| {
            key_malformed("private key does not start with the private-key prefix")
        })?;
        let (name, id, mut bytes) = split_key_string(rest)?;
        let result = (|| {
            if bytes.first() != Some(&SIG_ED25519) {
                return Err(key_malformed(format!(
                    "private key {name}: not an Ed25519 (type 0x01) key"
                )));
            }
            let seed: [u8; 32] = bytes[1..]
                .try_into()
                .map_err(|_| key_malformed(format!("private key {name}: seed is not 32 bytes")))?;
            let signer = SignerKey::from_seed(name, seed)?;
            if signer.key_id != id {
                return Err(NoteError::KeyIdMismatch {
                    name: name.to_string(),
                    found: id,
                    computed: signer.key_id,
                });
            }
            Ok(signer)
        })();
        wipe(&mut bytes);
        result
    }

    /// The Go private key string form. It contains the secret seed: store it
    /// only where secrets belong.
    pub fn to_skey_string(&self) -> String {
        let mut b = Vec::with_capacity(33);
        b.push(SIG_ED25519);
        b.extend_from_slice(self.key.as_bytes());
        let s = format!(
            "{SKEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            base64::engine::general_purpose::STANDARD.encode(&b)
        );
        wipe(&mut b);
        s
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_ED25519,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 signing key, for building a cosigner from the same
    /// seed ([`crate::cosignature::CosignerKey::from_signer_key`]).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs a note text (Ed25519 over the text bytes). The text is not
    /// checked here; [`sign`] checks it.
    pub fn sign_text(&self, text: &str) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerKey")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// A set of trusted verifier keys, looked up by (name, key ID). A key added
/// with the same name and key ID as an earlier one replaces it.
#[derive(Debug, Clone, Default)]
pub struct Verifiers {
    keys: BTreeMap<(String, u32), VerifierKey>,
}

impl Verifiers {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key (replacing any key with the same name and key ID).
    pub fn add(&mut self, key: VerifierKey) -> &mut Self {
        self.keys.insert((key.name.clone(), key.key_id), key);
        self
    }

    /// The key with this name and key ID, if any.
    pub fn get(&self, name: &str, key_id: u32) -> Option<&VerifierKey> {
        self.keys.get(&(name.to_string(), key_id))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, ordered by (name, key ID).
    pub fn iter(&self) -> impl Iterator<Item = &VerifierKey> {
        self.keys.values()
    }
}

impl FromIterator<VerifierKey> for Verifiers {
    fn from_iter<I: IntoIterator<Item = VerifierKey>>(iter: I) -> Self {
        let mut v = Verifiers::new();
        for k in iter {
            v.add(k);
        }
        v
    }
}

/// A note whose signatures were checked by [`open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The parsed note, with every signature line (verified or not).
    pub note: Note,
    /// Indexes into `note.signatures` of the signatures that verified, in
    /// order. Signatures from unknown keys are not listed.
    pub verified: Vec<usize>,
}

impl VerifiedNote {
    /// The verified signatures.
    pub fn verified_signatures(&self) -> impl Iterator<Item = &NoteSignature> {
        self.verified
            .iter()
            .filter_map(|&i| self.note.signatures.get(i))
    }
}

/// Parses and verifies a signed note (signed-note §"Verifying notes"):
///
/// * signatures whose (name, key ID) is not in `verifiers` are ignored;
/// * a signature from a known key that does not verify rejects the whole
///   note with [`NoteError::BadSignature`];
/// * if no signature verified, [`NoteError::NoKnownSignature`].
pub fn open(
    bytes: &[u8],
    max_size: usize,
    verifiers: &Verifiers,
) -> Result<VerifiedNote, NoteError> {
    let note = Note::parse(bytes, max_size)?;
    let verified = verify_parsed(&note, verifiers)?;
    Ok(VerifiedNote { note, verified })
}

/// Verifies an already parsed note with the rules of [`open`], returning the
/// indexes of the signatures that verified. Lets a caller that parsed the
/// note once (to route it) verify it without parsing it again.
///
/// # Errors
/// [`NoteError::BadSignature`] or [`NoteError::NoKnownSignature`].
pub fn verify_parsed(note: &Note, verifiers: &Verifiers) -> Result<Vec<usize>, NoteError> {
    let mut verified = Vec::new();
    for (i, sig) in note.signatures.iter().enumerate() {
        let Some(key) = verifiers.get(&sig.name, sig.key_id) else {
            continue;
        };
        if !key.verify(note.text.as_bytes(), &sig.signature) {
            return Err(NoteError::BadSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
            });
        }
        verified.push(i);
    }
    if verified.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    Ok(verified)
}

/// Signs `text` with every signer, in order, and returns the signed note.
/// The text must be valid note text: non-empty, ending in `\n`, no control
/// character but `\n`. At least one signer is required.
pub fn sign<S: NoteSigner + ?Sized>(text: &str, signers: &[&S]) -> Result<Vec<u8>, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(malformed("a note needs at least one signature"));
    }
    if signers.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            max: MAX_SIGNATURES,
        });
    }
    let note = Note {
        text: text.to_string(),
        signatures: signers
            .iter()
            .map(|s| note_signature(*s, text))
            .collect::<Result<_, _>>()?,
    };
    Ok(note.to_bytes())
}

/// What makes a plain Ed25519 note signature (type [`SIG_ED25519`]): a key
/// held in memory ([`SignerKey`]) or one that never leaves a hardware token
/// (the binary's PKCS#11 signer). The core stays free of I/O: it only asks
/// for the verifier key and for 64 signature bytes over a message.
pub trait NoteSigner: Send + Sync {
    /// The verifier key the signatures verify under (its name and key ID
    /// go on the signature line).
    fn verifier(&self) -> VerifierKey;
    /// The Ed25519 signature (RFC 8032, pure Ed25519) of `message`.
    fn sign_message(&self, message: &[u8]) -> Result<[u8; ED25519_SIG_LEN], NoteError>;
}

impl NoteSigner for SignerKey {
    fn verifier(&self) -> VerifierKey {
        SignerKey::verifier(self)
    }
    fn sign_message(&self, message: &[u8]) -> Result<[u8; ED25519_SIG_LEN], NoteError> {
        Ok(self.key.sign(message).to_bytes())
    }
}

/// The signature line of `signer` over a note text.
pub fn note_signature<S: NoteSigner + ?Sized>(
    signer: &S,
    text: &str,
) -> Result<NoteSignature, NoteError> {
    let v = signer.verifier();
    Ok(NoteSignature {
        signature: signer.sign_message(text.as_bytes())?.to_vec(),
        name: v.name,
        key_id: v.key_id,
    })
}

/// Test helpers shared by this crate's modules: the reference vectors.
#[cfg(test)]
pub(crate) mod testvectors {
    /// A reference vector file (`crate::testutil::reference_json`).
    pub(crate) fn load(file: &str) -> serde_json::Value {
        crate::testutil::reference_json(file)
    }

    /// The vector with this `id` in vectors-note.json.
    pub(crate) fn note_vector(id: &str) -> serde_json::Value {
        let all = load("vectors-note.json");
        all["vectors"]
            .as_array()
            .expect("vectors array")
            .iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("vector {id} missing"))
            .clone()
    }

    /// A string field.
    pub(crate) fn s<'a>(v: &'a serde_json::Value, field: &str) -> &'a str {
        v[field]
            .as_str()
            .unwrap_or_else(|| panic!("field {field} missing"))
    }
}

#[cfg(test)]
mod tests {
    use super::testvectors::{note_vector, s};
    use super::*;

    const MAX: usize = 1 << 20;

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn peter() -> (SignerKey, VerifierKey, serde_json::Value) {
        let v = note_vector("go-xmod-note-peterneumann");
        let signer = SignerKey::parse(s(&v, "skey")).unwrap();
        let verifier = VerifierKey::parse(s(&v, "vkey")).unwrap();
        (signer, verifier, v)
    }

    #[test]
    fn peter_neumann_keys_round_trip() {
        let (signer, verifier, v) = peter();
        assert_eq!(signer.name(), "PeterNeumann");
        assert_eq!(signer.key_id(), 0xc74f20a3);
        assert_eq!(signer.verifier(), verifier);
        assert_eq!(signer.to_skey_string(), s(&v, "skey"));
        assert_eq!(verifier.to_vkey_string(), s(&v, "vkey"));
        assert_eq!(verifier.to_string(), s(&v, "vkey"));
        assert_eq!(
            hex::encode(verifier.public_key().as_bytes()),
            s(&v, "ed25519_pubkey_hex")
        );
        let seed: [u8; 32] = hex::decode(s(&v, "ed25519_seed_hex"))
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            SignerKey::from_seed("PeterNeumann", seed)
                .unwrap()
                .verifier(),
            verifier
        );
    }

    #[test]
    fn signer_debug_hides_the_secret() {
        let (signer, _, v) = peter();
        let dbg = format!("{signer:?}");
        assert!(
            dbg.contains("PeterNeumann") && dbg.contains("c74f20a3"),
            "{dbg}"
        );
        let skey = s(&v, "skey");
        let secret_b64 = skey.rsplit('+').next().unwrap();
        assert!(!dbg.contains(secret_b64));
        assert!(!dbg.contains(s(&v, "ed25519_seed_hex")));
        assert!(!dbg.contains("81, 10"), "{dbg}");
    }

    #[test]
    fn peter_neumann_sign_reproduces_published_signature() {
        let (signer, _, v) = peter();
        let signed = sign(s(&v, "text"), &[&signer]).unwrap();
        let published = s(&v, "signed_note");
        // The published note has a second (EnochRoot) line after ours.
        let first_line_end = published.find("\n\u{2014} EnochRoot").unwrap() + 1;
        assert_eq!(
            std::str::from_utf8(&signed).unwrap(),
            &published[..first_line_end]
        );
    }

    #[test]
    fn peter_neumann_open() {
        let (_, verifier, v) = peter();
        let bytes = s(&v, "signed_note").as_bytes();
        let note = Note::parse(bytes, MAX).unwrap();
        assert_eq!(note.text, s(&v, "text"));
        assert_eq!(note.signatures.len(), 2);
        assert_eq!(note.to_bytes(), bytes);

        let only_peter: Verifiers = [verifier.clone()].into_iter().collect();
        let vn = open(bytes, MAX, &only_peter).unwrap();
        assert_eq!(vn.verified, vec![0]);
        assert_eq!(
            vn.verified_signatures().next().unwrap().name,
            "PeterNeumann"
        );

        let enoch = VerifierKey::parse(s(&v, "other_vkey")).unwrap();
        let both: Verifiers = [verifier, enoch.clone()].into_iter().collect();
        assert_eq!(open(bytes, MAX, &both).unwrap().verified, vec![0, 1]);

        let only_enoch: Verifiers = [enoch].into_iter().collect();
        assert_eq!(open(bytes, MAX, &only_enoch).unwrap().verified, vec![1]);

        assert_eq!(
            open(bytes, MAX, &Verifiers::new()).unwrap_err(),
            NoteError::NoKnownSignature
        );
    }

    #[test]
    fn bit_flipped_signature_from_known_key_rejects_note() {
        let (_, verifier, v) = peter();
        let mut note = Note::parse(s(&v, "signed_note").as_bytes(), MAX).unwrap();
        note.signatures[0].signature[10] ^= 0x01;
        let bytes = note.to_bytes();
        let vs: Verifiers = [verifier].into_iter().collect();
        let err = open(&bytes, MAX, &vs).unwrap_err();
        assert_eq!(err.code(), ErrorCode::NoteBadSignature);
        assert!(err.to_string().contains("PeterNeumann"), "{err}");
        // Unknown key with a flipped signature: ignored, so no known signature.
        note.signatures[0].key_id ^= 1;
        let bytes = note.to_bytes();
        assert_eq!(
            open(&bytes, MAX, &vs).unwrap_err(),
            NoteError::NoKnownSignature
        );
    }

    #[test]
    fn c2sp_example_verifies() {
        let v = note_vector("c2sp-signed-note-example");
        let key = VerifierKey::parse(s(&v, "vkey")).unwrap();
        assert_eq!(key.key_id(), 0x530d903a);
        let bytes = s(&v, "signed_note").as_bytes();
        let vs: Verifiers = [key].into_iter().collect();
        let vn = open(bytes, MAX, &vs).unwrap();
        assert_eq!(vn.note.text, "This is an example message.\n");
        assert_eq!(vn.verified, vec![0]);
        assert_eq!(vn.note.to_bytes(), bytes);
    }

    #[test]
    fn tessera_checkpoints_verify_and_resign() {
        let v = note_vector("tessera-testdata-checkpoints");
        let signer = SignerKey::parse(s(&v, "skey")).unwrap();
        let key = VerifierKey::parse(s(&v, "vkey")).unwrap();
        assert_eq!(signer.verifier(), key);
        let vs: Verifiers = [key].into_iter().collect();
        let cps = v["checkpoints_by_size"].as_object().unwrap();
        assert_eq!(cps.len(), 16);
        for (size, cp) in cps {
            let bytes = cp.as_str().unwrap().as_bytes();
            let vn = open(bytes, MAX, &vs).unwrap_or_else(|e| panic!("size {size}: {e}"));
            assert_eq!(vn.verified, vec![0]);
            assert_eq!(sign(&vn.note.text, &[&signer]).unwrap(), bytes);
        }
    }

    #[test]
    fn sunlight_witness_note_ignores_type_05_log_signature() {
        let v = note_vector("sunlight-skylight-witness-cosignature");
        let key = VerifierKey::parse(s(&v, "witness_vkey")).unwrap();
        assert_eq!(key.sig_type(), SIG_COSIGNATURE_V1);
        let bytes = s(&v, "signed_checkpoint").as_bytes();
        let note = Note::parse(bytes, MAX).unwrap();
        assert_eq!(note.signatures[0].key_id, 0x91507526);
        let vs: Verifiers = [key].into_iter().collect();
        let vn = open(bytes, MAX, &vs).unwrap();
        assert_eq!(vn.verified, vec![1]);
        assert_eq!(vn.note.to_bytes(), bytes);
    }

    #[test]
    fn sunlight_mirror_note_verifies() {
        let v = note_vector("sunlight-skylight-mirror-cosignature");
        let key = VerifierKey::parse(s(&v, "mirror_vkey")).unwrap();
        let vs: Verifiers = [key].into_iter().collect();
        assert_eq!(
            open(s(&v, "signed_checkpoint").as_bytes(), MAX, &vs)
                .unwrap()
                .verified,
            vec![0]
        );
    }

    #[test]
    fn mldsa44_key_refused_and_its_signature_ignored() {
        let v = note_vector("self-generated-mldsa44-cosignature");
        let err = VerifierKey::parse(s(&v, "vkey")).unwrap_err();
        assert_eq!(err.code(), ErrorCode::KeyMalformed);
        assert!(err.to_string().contains("0x06"), "{err}");
        let tessera = note_vector("tessera-testdata-checkpoints");
        let log = VerifierKey::parse(s(&tessera, "vkey")).unwrap();
        let vs: Verifiers = [log].into_iter().collect();
        let bytes = s(&v, "signed_checkpoint").as_bytes();
        let vn = open(bytes, MAX, &vs).unwrap();
        assert_eq!(vn.note.signatures.len(), 2);
        assert_eq!(vn.note.signatures[1].signature.len(), 8 + 2420);
        assert_eq!(vn.verified, vec![0]);
        assert_eq!(vn.note.to_bytes(), bytes);
    }

    #[test]
    fn key_id_table() {
        let v = note_vector("key-id-table");
        let mut n = 0;
        for e in v["entries"].as_array().unwrap() {
            let ty = e["type"].as_u64().unwrap() as u8;
            let name = s(e, "name");
            let pk = match e.get("pubkey_hex") {
                Some(h) => hex::decode(h.as_str().unwrap()).unwrap(),
                None => {
                    // pubkey_b64 is the vkey's base64 part: type byte || key.
                    let b = decode_base64_canonical(s(e, "pubkey_b64")).unwrap();
                    assert_eq!(b[0], ty);
                    b[1..].to_vec()
                }
            };
            let id = u32::from_str_radix(s(e, "key_id_hex"), 16).unwrap();
            assert_eq!(key_id(name, ty, &pk), id, "{name}");
            let vk = VerifyingKey::from_bytes(&pk.clone().try_into().unwrap()).unwrap();
            let key = VerifierKey::new(name, ty, vk).unwrap();
            assert_eq!(key.key_id(), id);
            assert_eq!(VerifierKey::parse(&key.to_vkey_string()).unwrap(), key);
            n += 1;
        }
        assert_eq!(n, 4);
    }

    fn valid_note() -> String {
        let v = note_vector("c2sp-signed-note-example");
        s(&v, "signed_note").to_string()
    }

    fn code_of(bytes: &[u8]) -> ErrorCode {
        Note::parse(bytes, MAX).unwrap_err().code()
    }

    #[test]
    fn parse_negative_cases() {
        let good = valid_note();
        assert!(Note::parse(good.as_bytes(), MAX).is_ok());
        // CR before the newline.
        let cr = good.replacen("message.\n", "message.\r\n", 1);
        assert_eq!(code_of(cr.as_bytes()), ErrorCode::NoteControlChar);
        // NUL in the text.
        let nul = good.replacen("example", "exa\0mple", 1);
        let err = Note::parse(nul.as_bytes(), MAX).unwrap_err();
        assert_eq!(err, NoteError::ControlChar { line: 1, byte: 0 });
        // Tab in a signature line.
        let tab = good.replacen("foo ", "foo\t", 1);
        assert_eq!(code_of(tab.as_bytes()), ErrorCode::NoteControlChar);
        // Missing blank line.
        let noblank = good.replacen("\n\n", "\n", 1);
        assert_eq!(code_of(noblank.as_bytes()), ErrorCode::NoteMalformed);
        // No final newline / trailing bytes after the last newline.
        assert_eq!(
            code_of(good.trim_end().as_bytes()),
            ErrorCode::NoteMalformed
        );
        let trailing = format!("{good}x");
        assert_eq!(code_of(trailing.as_bytes()), ErrorCode::NoteMalformed);
        // A blank line at the end: the split finds it and no signature follows.
        let blank_end = format!("{good}\n");
        assert_eq!(code_of(blank_end.as_bytes()), ErrorCode::NoteMalformed);
        // Signature line with a hyphen instead of the em dash.
        let hyphen = good.replacen("\u{2014}", "-", 1);
        assert_eq!(
            code_of(hyphen.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        // En dash.
        let endash = good.replacen("\u{2014}", "\u{2013}", 1);
        assert_eq!(
            code_of(endash.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        // Two spaces after the dash, or between name and signature.
        let two = good.replacen("\u{2014} ", "\u{2014}  ", 1);
        assert_eq!(
            code_of(two.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        let two = good.replacen("foo ", "foo  ", 1);
        assert_eq!(
            code_of(two.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        // Non-canonical base64: the example's payload ends "aQM=" (2 bytes
        // of the last group used); "aQN=" sets unused low bits.
        assert!(good.contains("aQM=\n"));
        let noncanon = good.replacen("aQM=\n", "aQN=\n", 1);
        assert_eq!(
            code_of(noncanon.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        let nopad = good.replacen("aQM=\n", "aQM\n", 1);
        assert_eq!(
            code_of(nopad.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        // Signature payload shorter than 5 bytes.
        let short = format!("text\n\n\u{2014} k {}\n", b64(&[1, 2, 3, 4]));
        assert_eq!(
            code_of(short.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        let five = format!("text\n\n\u{2014} k {}\n", b64(&[1, 2, 3, 4, 5]));
        assert_eq!(
            Note::parse(five.as_bytes(), MAX).unwrap().signatures[0].signature,
            [5]
        );
        // Name with '+'.
        let plus = format!("text\n\n\u{2014} a+b {}\n", b64(&[1, 2, 3, 4, 5]));
        assert_eq!(
            code_of(plus.as_bytes()),
            ErrorCode::NoteSignatureLineMalformed
        );
        // Non-UTF-8.
        let mut bad = good.clone().into_bytes();
        bad[3] = 0xff;
        assert_eq!(
            Note::parse(&bad, MAX).unwrap_err(),
            NoteError::NotUtf8 { offset: 3 }
        );
        // Too large.
        assert_eq!(
            Note::parse(good.as_bytes(), good.len() - 1)
                .unwrap_err()
                .code(),
            ErrorCode::NoteTooLarge
        );
        assert!(Note::parse(good.as_bytes(), good.len()).is_ok());
        // Empty input.
        assert_eq!(code_of(b""), ErrorCode::NoteMalformed);
    }

    #[test]
    fn signature_count_limit() {
        let line = format!("\u{2014} k {}\n", b64(&[9; 68]));
        let make = |n: usize| format!("text\n\n{}", line.repeat(n));
        assert_eq!(
            Note::parse(make(100).as_bytes(), MAX)
                .unwrap()
                .signatures
                .len(),
            100
        );
        assert_eq!(
            code_of(make(101).as_bytes()),
            ErrorCode::NoteTooManySignatures
        );
    }

    #[test]
    fn wrong_key_id_is_unknown_and_bad_vkeys_are_refused() {
        let (_, verifier, v) = peter();
        let vkey = s(&v, "vkey");
        // A vkey whose ID does not match.
        let wrong = vkey.replacen("c74f20a3", "c74f20a4", 1);
        assert_eq!(
            VerifierKey::parse(&wrong).unwrap_err().code(),
            ErrorCode::KeyIdMismatch
        );
        // Uppercase hex, short hex, missing parts, non-canonical base64.
        for bad in [
            vkey.replacen("c74f20a3", "C74F20A3", 1),
            vkey.replacen("c74f20a3", "c74f20a", 1),
            "PeterNeumann+c74f20a3".to_string(),
            "PeterNeumann".to_string(),
            format!("{vkey}="),
            vkey.replacen("PeterNeumann", "", 1),
        ] {
            assert_eq!(
                VerifierKey::parse(&bad).unwrap_err().code(),
                ErrorCode::KeyMalformed,
                "{bad}"
            );
        }
        // Wrong length (31-byte key).
        let short = format!(
            "PeterNeumann+c74f20a3+{}",
            b64(&[&[1u8][..], &verifier.public_key().as_bytes()[..31]].concat())
        );
        assert_eq!(
            VerifierKey::parse(&short).unwrap_err().code(),
            ErrorCode::KeyMalformed
        );
        // A signature under a wrong key ID is from an unknown key.
        let mut note = Note::parse(s(&v, "signed_note").as_bytes(), MAX).unwrap();
        note.signatures.truncate(1);
        note.signatures[0].key_id = 0xc74f20a4;
        let vs: Verifiers = [verifier].into_iter().collect();
        assert_eq!(
            open(&note.to_bytes(), MAX, &vs).unwrap_err(),
            NoteError::NoKnownSignature
        );
    }

    #[test]
    fn weak_and_invalid_keys_are_refused() {
        // The identity point (small order) encodes as 0x01 followed by zeros.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let id = key_id("weak", SIG_ED25519, &identity);
        let vkey = format!("weak+{id:08x}+{}", b64(&[&[1u8][..], &identity].concat()));
        assert_eq!(
            VerifierKey::parse(&vkey).unwrap_err().code(),
            ErrorCode::KeyInvalid
        );
        // A y coordinate with no point: 2 (x^2 = (y^2-1)/(dy^2+1) has no root).
        let mut bad = [0u8; 32];
        bad[0] = 2;
        let id = key_id("bad", SIG_ED25519, &bad);
        let vkey = format!("bad+{id:08x}+{}", b64(&[&[1u8][..], &bad].concat()));
        let err = VerifierKey::parse(&vkey).unwrap_err();
        assert_eq!(err.code(), ErrorCode::KeyInvalid, "{err}");
    }

    #[test]
    fn skey_errors_never_leak_the_secret() {
        let (_, _, v) = peter();
        let skey = s(&v, "skey");
        let secret = skey.rsplit('+').next().unwrap();
        for bad in [
            skey.replacen("c74f20a3", "c74f20a4", 1),
            skey.replacen(SKEY_PREFIX, "PRIVATE+", 1),
            format!("{skey}A"),
            skey.replacen("+AYEK", "+AoEK", 1),
        ] {
            let err = SignerKey::parse(&bad).unwrap_err();
            let msg = format!("{err} {err:?}");
            assert!(!msg.contains(&secret[..8]), "{msg}");
        }
        assert_eq!(
            SignerKey::parse(&skey.replacen("c74f20a3", "c74f20a4", 1))
                .unwrap_err()
                .code(),
            ErrorCode::KeyIdMismatch
        );
    }

    #[test]
    fn sign_refuses_bad_text() {
        let (signer, _, _) = peter();
        for bad in ["", "no newline", "cr\r\n", "nul\0\n"] {
            assert!(sign(bad, &[&signer]).is_err(), "{bad:?}");
        }
        assert!(sign::<SignerKey>("ok\n", &[]).is_err());
        assert!(SignerKey::from_seed("a b", [0; 32]).is_err());
        assert!(SignerKey::from_seed("a+b", [0; 32]).is_err());
        assert!(SignerKey::from_seed("", [0; 32]).is_err());
    }

    #[test]
    fn text_with_blank_lines_and_fake_signature_lines_round_trips() {
        let (signer, verifier, _) = peter();
        let text = "a\n\n\u{2014} PeterNeumann AAAAAAA=\n\n";
        let bytes = sign(text, &[&signer]).unwrap();
        let vs: Verifiers = [verifier].into_iter().collect();
        let vn = open(&bytes, MAX, &vs).unwrap();
        assert_eq!(vn.note.text, text);
        assert_eq!(vn.verified, vec![0]);
    }

    #[test]
    fn valid_key_names() {
        assert!(valid_key_name("example.com/log"));
        assert!(valid_key_name("caf\u{e9}"));
        for bad in [
            "",
            "a b",
            "a+b",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\tb",
            "a\u{85}b",
        ] {
            assert!(!valid_key_name(bad), "{bad:?}");
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn seed_note() -> Vec<u8> {
            valid_note().into_bytes()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn parse_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                if let Ok(n) = Note::parse(&bytes, MAX) {
                    prop_assert_eq!(n.to_bytes(), bytes);
                }
            }

            #[test]
            fn parse_round_trips_mutated_notes(
                edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)
            ) {
                let mut bytes = seed_note();
                for (idx, b, op) in edits {
                    if bytes.is_empty() { break; }
                    let i = idx.index(bytes.len());
                    match op {
                        0 => bytes[i] = b,
                        1 => { bytes.remove(i); }
                        _ => bytes.insert(i, b),
                    }
                }
                if let Ok(n) = Note::parse(&bytes, MAX) {
                    prop_assert_eq!(n.to_bytes(), bytes);
                }
            }

            #[test]
            fn parse_round_trips_structured_notes(
                text in "([a-z \u{2014}+]{0,8}\n){1,4}",
                sigs in proptest::collection::vec(("[a-z.]{1,6}", proptest::collection::vec(any::<u8>(), 5..80)), 1..4)
            ) {
                let mut s = text.clone();
                s.push('\n');
                for (name, payload) in &sigs {
                    s.push_str(&format!("\u{2014} {name} {}\n", b64(payload)));
                }
                let n = Note::parse(s.as_bytes(), MAX).unwrap();
                prop_assert_eq!(&n.text, &text);
                prop_assert_eq!(n.signatures.len(), sigs.len());
                prop_assert_eq!(n.to_bytes(), s.into_bytes());
            }
        }
    }
}
