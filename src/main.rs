//! The tallyboard board: command line and (later) server.
#![forbid(unsafe_code)]
fn main() {}
