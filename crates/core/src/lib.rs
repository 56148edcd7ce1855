//! tallyboard-core: the I/O-free verifying heart of tallyboard.
//!
//! Everything here takes bytes and returns values: no filesystem, network,
//! clock or randomness on any verification path. The board (storage, HTTP),
//! the independent verifier and the browser build all share this one
//! implementation, so a number checked in one place is checked the same way
//! everywhere.
//!
//! | module | what it implements |
//! |---|---|
//! | [`calendar`] | Gregorian days, POSIX timestamps and the Solar Hijri (Jalali) calendar, for display |
//! | [`digits`] | counts as people write them: Persian, Arabic-Indic or ASCII digits |
//! | [`hash`] | RFC 6962 §2.1 leaf and node hashing |
//! | [`merkle`] | stored-hash Merkle log math, inclusion and consistency proofs (RFC 9162 §2.1) |
//! | [`tile`] | C2SP tlog-tiles paths, tiles and entry bundles |
//! | [`note`] | C2SP signed-note v1 (Ed25519), verifier and signer keys |
//! | [`checkpoint`] | C2SP tlog-checkpoint |
//! | [`cosignature`] | C2SP tlog-cosignature v1 (Ed25519, type 0x04) |
//! | [`tlog_proof`] | C2SP tlog-proof v1, used as the board's receipt |
//! | [`entry`] | tallyboard's log entry types and their strict line grammar |
//! | [`manifest`] | the election manifest (canonical JSON) |
//! | [`state`] | the one log state: every entry applied in order; keys, tallies, supervision, totals, statements at any size |
//! | [`text`] | what free text may hold: no invisible or direction-changing characters |
//! | [`validate`] | the rules: checking a signed entry against the manifest and the log state |
//! | [`rules`] | winners, runoffs and reserves by election type |
//! | [`aggregate`] | counted and standing sums along the region hierarchy |
//! | [`results_export`] | CSV, JSON and NIST SP 1500-100 v2 exports of the results |
//! | [`witness`] | C2SP tlog-witness: the witness's add-checkpoint decision |
//! | [`policy`] | C2SP tlog-policy: witness policies and quorum evaluation |
//! | [`error`] | the stable machine-readable error codes |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aggregate;
pub mod blob;
pub mod calendar;
pub mod checkpoint;
pub mod cosignature;
pub mod digits;
pub mod enrol;
pub mod entry;
pub mod error;
pub mod hash;
pub mod manifest;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod results_export;
pub mod rules;
pub mod state;
pub mod text;
pub mod tile;
pub mod tlog_proof;
pub mod validate;
pub mod witness;

#[cfg(test)]
mod testutil;

pub use error::ErrorCode;
pub use hash::Hash;
