//! `checkpoint`: fetch the log's current checkpoint, verify the log's
//! signature and, given a witness policy (C2SP tlog-policy, spec/policy.md),
//! that its witnesses' cosignatures meet the policy's quorum
//! (spec/verification.md §2). The checks are the procedure's checkpoint
//! step ([`crate::procedure::checkpoint`]).

use crate::procedure::checkpoint::{fetch, witnesses};
use crate::procedure::facts::Facts;
use crate::procedure::{Check, CheckId, Status, Trust, Verification};
use crate::{english, Finding, LogKey, Report, Result, Source};
use serde::Serialize;
use tallyboard_core::policy::Policy;

/// The report of `checkpoint`.
#[derive(Debug, Serialize)]
pub struct CheckpointReport {
    /// Always `checkpoint`.
    pub command: &'static str,
    /// Whether the checkpoint verified (and met the policy's quorum, if given).
    pub verified: bool,
    /// The source read.
    pub source: String,
    /// The origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash (base64, as in the checkpoint).
    pub root: String,
    /// Signature lines other than the log's (`name+keyid`).
    pub other_signatures: Vec<String>,
    /// The witness quorum: `met`, `not-met` (a policy was given) or
    /// `not-checked` (no policy given).
    pub witness_quorum: &'static str,
    /// Witnesses whose cosignature verified under the policy: (name, timestamp).
    pub cosigned_by: Vec<(String, u64)>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
    /// The procedure's checks.
    pub checks: Vec<Check>,
    /// Discrepancies.
    pub findings: Vec<Finding>,
}

impl Report for CheckpointReport {
    fn verified(&self) -> bool {
        self.verified
    }
    fn human(&self) -> String {
        let mut s = format!(
            "checkpoint from {}: {}\n",
            self.source,
            if self.verified { "VERIFIED" } else { "FAILED" }
        );
        s.push_str(&english::lines(&self.checks));
        s
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
    let trust = Trust {
        log,
        policy,
        key_source: None,
        committed_policy: false,
    };
    let mut v = Verification::planned(vec![
        CheckId::CheckpointSignature,
        CheckId::WitnessCosignatures,
    ]);
    let cp = fetch(&mut v, src, log)?;
    if let Some(cp) = &cp {
        witnesses(&mut v, cp, &trust, &[]);
    }
    let v = v.finish();
    let witness = v.check(CheckId::WitnessCosignatures);
    let cosigned_by = match witness.map(|c| &c.data) {
        Some(Facts::Witnesses(w)) => w
            .cosigned
            .iter()
            .map(|c| (c.witness.clone(), c.timestamp))
            .collect(),
        _ => vec![],
    };
    let witness_quorum = match (policy, witness.map(|c| c.status)) {
        (Some(_), Some(Status::Pass)) => "met",
        (Some(_), _) => "not-met",
        (None, _) => "not-checked",
    };
    Ok(CheckpointReport {
        command: "checkpoint",
        verified: v.verified,
        source: src.describe(),
        origin: log.origin.clone(),
        size: v.size,
        root: v.root.clone(),
        other_signatures: cp
            .as_ref()
            .map(|c| c.other_signatures.clone())
            .unwrap_or_default(),
        witness_quorum,
        cosigned_by,
        checkpoint: cp
            .map(|c| String::from_utf8_lossy(&c.bytes).into_owned())
            .unwrap_or_default(),
        findings: english::findings(&v.checks),
        checks: v.checks,
    })
}
