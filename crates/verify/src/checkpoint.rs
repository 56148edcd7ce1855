//! `checkpoint`: fetch the log's current checkpoint, verify the log's
//! signature and, given a witness policy (C2SP tlog-policy, spec/policy.md),
//! that its witnesses' cosignatures meet the policy's quorum
//! (spec/verification.md §2).

use crate::tiles::fetch_checkpoint;
use crate::{Error, Finding, LogKey, Report, Result, Source};
use serde::Serialize;
use tallyboard_core::error::Coded;
use tallyboard_core::policy::Policy;

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
    /// Witness quorum status under the policy given (or "not checked").
    pub witness_quorum: String,
    /// Witnesses whose cosignature verified under the policy: (name, timestamp).
    pub cosigned_by: Vec<(String, u64)>,
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
            s.push_str(&format!("  witness quorum: {}\n", self.witness_quorum));
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

/// Runs `checkpoint` without a witness policy.
pub fn run(src: &dyn Source, log: &LogKey) -> Result<CheckpointReport> {
    run_with_policy(src, log, None)
}

/// Runs `checkpoint`; with a policy, a checkpoint whose cosignatures do not
/// meet the quorum fails (`policy.quorum-not-met`).
pub fn run_with_policy(
    src: &dyn Source,
    log: &LogKey,
    policy: Option<&Policy>,
) -> Result<CheckpointReport> {
    let mut report = CheckpointReport {
        command: "checkpoint",
        verified: false,
        source: src.describe(),
        origin: log.origin.clone(),
        size: 0,
        root: String::new(),
        other_signatures: vec![],
        witness_quorum: "not checked (no --policy given)".into(),
        cosigned_by: vec![],
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
            if let Some(p) = policy {
                match p.verify_checkpoint(&cp.bytes, &log.origin) {
                    Ok((_, verdict)) => {
                        report.cosigned_by = verdict
                            .cosigned
                            .iter()
                            .map(|c| (c.witness.clone(), c.timestamp))
                            .collect();
                        let names: Vec<String> = report
                            .cosigned_by
                            .iter()
                            .map(|(n, t)| format!("{n} (time {t})"))
                            .collect();
                        if verdict.quorum_met {
                            report.witness_quorum =
                                format!("MET, cosigned by {}", names.join(", "));
                        } else {
                            report.verified = false;
                            report.witness_quorum = format!("NOT MET: {verdict}");
                            if let Err(e) = verdict.check() {
                                report.findings.push(
                                    Finding::new(e.code().as_str(), e.to_string())
                                        .at_path("checkpoint"),
                                );
                            }
                        }
                    }
                    Err(e) => {
                        report.verified = false;
                        report.witness_quorum = format!("not met: {e}");
                        report.findings.push(
                            Finding::new(e.code().as_str(), e.to_string()).at_path("checkpoint"),
                        );
                    }
                }
            }
        }
        Err(Error::Failed(f)) => report.findings.push(f),
        Err(e) => return Err(e),
    }
    Ok(report)
}
