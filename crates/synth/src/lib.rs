//! Deterministic synthetic national election.
#![forbid(unsafe_code)]
