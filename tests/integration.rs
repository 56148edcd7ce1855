//! Integration tests of the board, compiled as one binary (ripgrep style).
//! They drive the real `tallyboard` binary and check its output with the
//! core library, as an outside verifier would.

mod cli;
mod demo;
mod hsm;
mod keys;
mod runoff;
mod util;
