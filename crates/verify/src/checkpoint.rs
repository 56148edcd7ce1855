//! `checkpoint`: fetch the log's current checkpoint and verify the log's
//! signature (spec/verification.md §2).

use crate::tiles::fetch_checkpoint;
use crate::{Error, Finding, LogKey, Report, Result, Source};
use serde::Serialize;

/// The report of `checkpoint`.
#[derive(Debug, Serialize)]
pub struct CheckpointReport {
    /// Always `checkpoint`.
    pub command: &'static str,
    /// Whether the checkpoint verified.
    pub verified: bool,
    /// The source read.
    pub source: String,
    /// The origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash (base64, as in the checkpoint).
    pub root: String,
    /// Other signature lines (cosignatures), not verified.
    pub other_signatures: Vec<String>,
    /// Witness quorum status: not yet checked (issue 4).
    pub witness_quorum: &'static str,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
    /// Discrepancies.
    pub findings: Vec<Finding>,
}

impl Report for CheckpointReport {
    fn verified(&self) -> bool {
        self.verified
    }
    fn human(&self) -> String {
        if !self.verified {
            let mut s = format!("checkpoint from {}: FAILED\n", self.source);
            for f in &self.findings {
                s.push_str(&format!("  {f}\n"));
            }
            return s;
        }
        format!(
            "checkpoint from {}: VERIFIED (log signature)\n  origin {}\n  size   {}\n  root   {}\n  other signatures (not checked): {}\n  witness quorum: {}\n",
            self.source,
            self.origin,
            self.size,
            self.root,
            if self.other_signatures.is_empty() { "none".to_string() } else { self.other_signatures.join(", ") },
            self.witness_quorum
        )
    }
}

/// Runs `checkpoint`.
pub fn run(src: &dyn Source, log: &LogKey) -> Result<CheckpointReport> {
    let mut report = CheckpointReport {
        command: "checkpoint",
        verified: false,
        source: src.describe(),
        origin: log.origin.clone(),
        size: 0,
        root: String::new(),
        other_signatures: vec![],
        witness_quorum: "not checked (no witness policy yet)",
        checkpoint: String::new(),
        findings: vec![],
    };
    match fetch_checkpoint(src, log) {
        Ok(cp) => {
            report.verified = true;
            report.size = cp.checkpoint.size;
            report.root = cp.checkpoint.root.to_base64();
            report.other_signatures = cp.other_signatures;
            report.checkpoint = String::from_utf8_lossy(&cp.bytes).into_owned();
        }
        Err(Error::Failed(f)) => report.findings.push(f),
        Err(e) => return Err(e),
    }
    Ok(report)
}
