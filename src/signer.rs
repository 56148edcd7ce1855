//! The one way a role (the log, the authority, a supervisor) signs: with a
//! key file (`src/keyfile.rs`; the demo's keys) or with a key that never
//! leaves a PKCS#11 token (`src/hsm.rs`, `spec/operations.md` §13). Every
//! `--log-key`, `--authority-key` and `--supervisor-key` argument goes
//! through [`load`], so a board whose keys are in a token never reads a
//! private key from a file.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use tallyboard_core::note::{NoteError, NoteSigner, SignerKey, VerifierKey};

use crate::hsm::{self, TokenKey};

/// A role's signing key.
#[derive(Clone, Debug)]
pub enum RoleSigner {
    /// A private key file read into memory.
    File(Box<SignerKey>),
    /// A key in a PKCS#11 token (shared: one logged-in session per key).
    Token(Arc<TokenKey>),
}

impl From<SignerKey> for RoleSigner {
    fn from(k: SignerKey) -> RoleSigner {
        RoleSigner::File(Box::new(k))
    }
}

impl NoteSigner for RoleSigner {
    fn verifier(&self) -> VerifierKey {
        match self {
            RoleSigner::File(k) => k.verifier(),
            RoleSigner::Token(k) => k.verifier(),
        }
    }

    fn sign_message(&self, message: &[u8]) -> Result<[u8; 64], NoteError> {
        match self {
            RoleSigner::File(k) => k.sign_message(message),
            RoleSigner::Token(k) => k.sign_message(message),
        }
    }
}

/// The fixed message whose token signature keys the sealer of a token
/// log key (Ed25519 signatures are deterministic, RFC 8032 §5.1.6, so only
/// the key's holder can compute it, and always the same).
const SEALING_MESSAGE: &[u8] = b"tallyboard resume snapshot sealing key v1\n";

impl RoleSigner {
    /// Secret bytes only this key's holder can produce, always the same
    /// for the same key: the seed of the resume snapshots' MAC
    /// (`src/log/resume.rs`). A file key gives its private key string, as
    /// before tokens existed (so existing snapshots still open); a token
    /// key, its signature of a fixed message.
    pub fn sealing_secret(&self) -> Result<Vec<u8>> {
        Ok(match self {
            RoleSigner::File(k) => k.to_skey_string().into_bytes(),
            RoleSigner::Token(k) => {
                let sig = k
                    .sign_message(SEALING_MESSAGE)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", e_code(&e)))?;
                let mut v = b"token:".to_vec();
                v.extend_from_slice(&sig);
                v
            }
        })
    }
}

fn e_code(e: &NoteError) -> &'static str {
    tallyboard_core::error::Coded::code(e).as_str()
}

/// Loads a role's key from a key argument: a PKCS#11 URI (`pkcs11:...`,
/// `src/hsm.rs`) or the path of a private key file.
pub fn load(arg: &Path) -> Result<RoleSigner> {
    match arg.to_str() {
        Some(s) if hsm::is_token_uri(s) => Ok(RoleSigner::Token(Arc::new(TokenKey::open(s)?))),
        _ => Ok(crate::keyfile::read(arg)?.into()),
    }
}
