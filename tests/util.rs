//! Helpers for running the `tallyboard` binary.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `tallyboard` with arguments in `dir`, returning its output.
pub fn tallyboard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run tallyboard")
}

/// Runs `tallyboard` and insists it succeeds; returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = tallyboard(dir, args);
    assert!(
        out.status.success(),
        "tallyboard {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The repository root (for keys/).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
