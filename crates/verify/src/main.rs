//! tallyboard-verify: the independent verifier.
#![forbid(unsafe_code)]
fn main() {}
