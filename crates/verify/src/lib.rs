//! tallyboard-verify: an independent verifier for a tallyboard log.
//!
//! It reads only the public read path (a C2SP tlog-tiles tree served over
//! HTTP or exported to a directory, plus `api/v1/manifest.json`) and the
//! log's public key, and depends on `tallyboard-core` for the formats, never
//! on the board. The procedures are specified in `spec/verification.md`.
//!
//! The checks themselves live once, in [`procedure`]: I/O-free steps over a
//! [`Source`] that return structured results (a stable check id, a status
//! and the data), never sentences. The commands below and the browser's
//! "Verify here" (`crates/wasm`, which builds this crate without its `net`
//! feature) run them; the words are added afterwards, in English for the
//! command line by [`english`], in Persian and English for the browser by
//! the site's JavaScript.
//!
//! | command | module |
//! |---|---|
//! | `checkpoint` | [`checkpoint`] |
//! | `receipt` | [`receipt`] |
//! | `inclusion` | [`inclusion`] |
//! | `consistency` | `consistency` (`net` feature: it keeps a state file) |
//! | `audit` | [`audit`] |
//! | `prove` | [`receipt::prove`] |
//!
//! Every command returns a [`Report`] (verified or not, with findings) or an
//! [`Error::CouldNotRun`]; the binary maps them to exit codes 0, 1 and 2.
#![forbid(unsafe_code)]

pub mod audit;
pub mod checkpoint;
#[cfg(feature = "net")]
pub mod consistency;
pub mod english;
pub mod entry_fields;
pub mod inclusion;
pub mod pins;
pub mod plan;
pub mod procedure;
pub mod receipt;
pub mod replay;
pub mod runoff;
pub mod source;
pub mod tiles;

use serde::Serialize;
use std::fmt;
use tallyboard_core::error::Coded;
use tallyboard_core::note::{VerifierKey, Verifiers};

#[cfg(feature = "net")]
pub use source::{open_source, DirSource, HttpSource};
pub use source::{Evidence, Source};

/// One discrepancy found by a verification, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable code: a core [`tallyboard_core::ErrorCode`] string where one
    /// fits (`note.bad-signature`, `proof.inclusion-failed`, ...), otherwise
    /// a verifier code such as `audit.root-mismatch`.
    pub code: String,
    /// What was wrong, naming the entry, tile or checkpoint.
    pub message: String,
    /// The log index of the entry concerned, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    /// The read-path resource concerned (`tile/0/000`, `checkpoint`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Finding {
    /// A finding with a code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            code: code.into(),
            message: message.into(),
            entry: None,
            path: None,
        }
    }

    /// Names the entry concerned.
    pub fn at_entry(mut self, index: u64) -> Finding {
        self.entry = Some(index);
        self
    }

    /// Names the resource concerned.
    pub fn at_path(mut self, path: impl Into<String>) -> Finding {
        self.path = Some(path.into());
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// Why a step stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The verification itself found a discrepancy (exit code 1).
    Failed(Finding),
    /// The verification could not be carried out: unreadable input, network
    /// failure, bad arguments (exit code 2).
    CouldNotRun(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Failed(x) => write!(f, "verification failed: {x}"),
            Error::CouldNotRun(m) => write!(f, "could not run: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Finding> for Error {
    fn from(f: Finding) -> Self {
        Error::Failed(f)
    }
}

/// Shorthand for a step's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A command's result: what was checked, whether it all held, and the
/// details a person or a program needs.
pub trait Report: Serialize {
    /// Whether everything checked out (exit code 0).
    fn verified(&self) -> bool;
    /// The human-readable report.
    fn human(&self) -> String;
}

/// The refusal code of a log key that is not an Ed25519 (type 0x01) key.
pub const WRONG_KEY_TYPE: &str = "key.wrong-type";

/// The log's identity as the verifier trusts it: its verifier key and
/// origin line.
#[derive(Clone, Debug)]
pub struct LogKey {
    /// The log's Ed25519 verifier key (type 0x01).
    pub key: VerifierKey,
    /// The checkpoint origin line (by default the key's name, which the
    /// board requires to equal the origin).
    pub origin: String,
}

impl LogKey {
    /// Parses a verifier key string (`name+id+base64`); `origin` defaults
    /// to the key name. The key must be an Ed25519 (type 0x01) key.
    ///
    /// # Errors
    /// The stable code of the refusal: the core's `key.*` code for a
    /// malformed key, `key.wrong-type` for a key of another type.
    pub fn parse(vkey: &str, origin: Option<&str>) -> Result<LogKey, &'static str> {
        let key = VerifierKey::parse(vkey.trim()).map_err(|e| e.code().as_str())?;
        if key.sig_type() != tallyboard_core::note::SIG_ED25519 {
            return Err(WRONG_KEY_TYPE);
        }
        let origin = origin
            .filter(|o| !o.is_empty())
            .unwrap_or(key.name())
            .to_string();
        Ok(LogKey { key, origin })
    }

    /// Parses a vkey string, or reads it from a file if `vkey` is a path.
    /// `origin` defaults to the key name.
    #[cfg(feature = "net")]
    pub fn load(vkey: &str, origin: Option<&str>) -> Result<LogKey> {
        let text = match VerifierKey::parse(vkey.trim()) {
            Ok(_) => vkey.trim().to_string(),
            Err(_) => std::fs::read_to_string(vkey)
                .map_err(|e| {
                    Error::CouldNotRun(format!(
                        "--log-vkey {vkey:?} is neither a verifier key nor a readable file: {e}"
                    ))
                })?
                .trim()
                .to_string(),
        };
        VerifierKey::parse(&text)
            .map_err(|e| Error::CouldNotRun(format!("log verifier key: {e}")))?;
        LogKey::parse(&text, origin).map_err(|_| {
            Error::CouldNotRun("the log verifier key must be an Ed25519 (type 0x01) key".into())
        })
    }

    /// A verifier set holding only the log key.
    pub fn verifiers(&self) -> Verifiers {
        let mut v = Verifiers::new();
        v.add(self.key.clone());
        v
    }
}

/// The report of a command that stopped on an [`Error::Failed`] before it
/// could produce its own report.
#[derive(Debug, Serialize)]
pub struct FailedReport {
    /// The command.
    pub command: &'static str,
    /// Always false.
    pub verified: bool,
    /// The finding that stopped it.
    pub findings: Vec<Finding>,
}

impl Report for FailedReport {
    fn verified(&self) -> bool {
        false
    }
    fn human(&self) -> String {
        let mut s = format!("{}: FAILED\n", self.command);
        for f in &self.findings {
            s.push_str(&format!("  {f}\n"));
        }
        s
    }
}
