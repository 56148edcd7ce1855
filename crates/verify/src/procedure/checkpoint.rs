//! The checkpoint step (spec/verification.md §2): the log key, the log's
//! signature on the checkpoint, and the witnesses' cosignatures, with the
//! quorum of a witness policy (C2SP tlog-policy) when one is given. The
//! command line's `checkpoint`, `receipt` and `inclusion` and the browser
//! all open checkpoints here.

use super::facts::{
    CheckpointFacts, Cosigner, Facts, GroupShortfall, KeyFacts, TrustedWitness, WitnessFacts,
};
use super::{CheckId, Trust, Verification};
use crate::{Error, Finding, LogKey, Result, Source};
use tallyboard_core::checkpoint::{open_checkpoint, Checkpoint};
use tallyboard_core::error::Coded;
use tallyboard_core::note::{Note, VerifierKey};
use tallyboard_core::policy::{Policy, PolicyWitness, Verdict};

/// The refusal code of a witness policy that does not list the log key
/// (its quorum says nothing about this log).
pub const POLICY_LOG_NOT_LISTED: &str = "policy.log-not-listed";

/// A checkpoint whose log signature verified.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The signed note, byte for byte as served.
    pub bytes: Vec<u8>,
    /// The note: its text and every signature line.
    pub note: Note,
    /// Signature lines other than the log's (`name+keyid`), verified only
    /// by [`witnesses`].
    pub other_signatures: Vec<String>,
}

/// Opens signed checkpoint bytes with the log key: signature (Ed25519,
/// `verify_strict`), checkpoint syntax and origin. `what` names the bytes
/// in the finding (`checkpoint`, `state file`, ...).
pub fn open_signed(bytes: &[u8], log: &LogKey, what: &str) -> Result<SignedCheckpoint> {
    let (checkpoint, verified) =
        open_checkpoint(bytes, &log.origin, &log.verifiers()).map_err(|e| {
            Error::Failed(
                Finding::new(e.code().as_str(), format!("{what}: {e}")).at_path("checkpoint"),
            )
        })?;
    let other_signatures = verified
        .note
        .signatures
        .iter()
        .enumerate()
        .filter(|(i, _)| !verified.verified.contains(i))
        .map(|(_, s)| format!("{}+{:08x}", s.name, s.key_id))
        .collect();
    Ok(SignedCheckpoint {
        checkpoint,
        bytes: bytes.to_vec(),
        note: verified.note,
        other_signatures,
    })
}

/// Fetches `checkpoint` from the source and opens it. A source that serves
/// no checkpoint cannot be verified at all ([`Error::CouldNotRun`]).
pub fn fetch_checkpoint(src: &dyn Source, log: &LogKey) -> Result<SignedCheckpoint> {
    let bytes = src
        .fetch("checkpoint")?
        .ok_or_else(|| Error::CouldNotRun(format!("{} serves no checkpoint", src.describe())))?;
    open_signed(&bytes, log, "checkpoint")
}

/// Records `log-key` (information: the key's name, ID, and where it came
/// from) when the caller says where it got the key.
pub fn key(v: &mut Verification, trust: &Trust<'_>) {
    if let Some(source) = trust.key_source {
        v.info(
            CheckId::LogKey,
            Facts::Key(KeyFacts {
                name: Some(trust.log.key.name().to_string()),
                key_id: Some(format!("{:08x}", trust.log.key.key_id())),
                fingerprint: Some(trust.log.key.fingerprint()),
                source: Some(source.to_string()),
            }),
        );
    }
}

/// The verification of a log key that does not parse (`code` from
/// [`LogKey::parse`]): `log-key` fails and nothing else is checked.
pub fn key_refused(mut v: Verification, code: &str, source: &str) -> Verification {
    v.fail(
        CheckId::LogKey,
        code,
        Facts::Key(KeyFacts {
            source: Some(source.to_string()),
            ..KeyFacts::default()
        }),
    );
    v.skip_rest(CheckId::LogKey);
    v.finish()
}

/// Opens checkpoint bytes with the log key and records
/// `checkpoint-signature`; on failure every later check is skipped.
/// `path` names where the bytes came from (`checkpoint`, `receipt`).
pub fn open(
    v: &mut Verification,
    bytes: &[u8],
    log: &LogKey,
    path: &str,
) -> Option<SignedCheckpoint> {
    let mut facts = CheckpointFacts {
        origin: log.origin.clone(),
        path: Some(path.to_string()),
        ..CheckpointFacts::default()
    };
    match open_signed(bytes, log, path) {
        Ok(cp) => {
            facts.size = Some(cp.checkpoint.size);
            facts.root = Some(cp.checkpoint.root.to_base64());
            v.pass(CheckId::CheckpointSignature, Facts::Checkpoint(facts));
            v.size = cp.checkpoint.size;
            v.root = cp.checkpoint.root.to_base64();
            Some(cp)
        }
        Err(e) => {
            let code = match &e {
                Error::Failed(f) => f.code.clone(),
                Error::CouldNotRun(_) => "checkpoint.malformed".to_string(),
            };
            v.fail(CheckId::CheckpointSignature, code, Facts::Checkpoint(facts));
            v.skip_rest(CheckId::CheckpointSignature);
            None
        }
    }
}

/// Fetches `checkpoint` and opens it ([`open`]).
pub fn fetch(
    v: &mut Verification,
    src: &dyn Source,
    log: &LogKey,
) -> Result<Option<SignedCheckpoint>> {
    let bytes = src
        .fetch("checkpoint")?
        .ok_or_else(|| Error::CouldNotRun(format!("{} serves no checkpoint", src.describe())))?;
    Ok(open(v, &bytes, log, "checkpoint"))
}

/// Records `witness-cosignatures`. With a witness policy (C2SP
/// tlog-policy, spec/policy.md §2): the policy must list the log key
/// (`policy.log-not-listed`), and the cosignatures of its witnesses must
/// meet its quorum (`policy.quorum-not-met`); then it passes. Without one
/// no quorum is required: the cosignatures of the `known` witness keys
/// (the manifest's) are reported as information, and one that does not
/// verify fails (`cosignature.invalid`).
pub fn witnesses(
    v: &mut Verification,
    cp: &SignedCheckpoint,
    trust: &Trust<'_>,
    known: &[VerifierKey],
) {
    match trust.policy {
        Some(policy) => under_policy(v, cp, trust.log, policy),
        None => without_policy(v, cp, known),
    }
}

/// Records where the policy of `witness-cosignatures` came from.
pub fn policy_source(v: &mut Verification, source: &'static str) {
    if let Some(c) = v
        .checks
        .iter_mut()
        .find(|c| c.id == CheckId::WitnessCosignatures)
    {
        if let Facts::Witnesses(w) = &mut c.data {
            w.policy_source = Some(source);
        }
    }
}

fn under_policy(v: &mut Verification, cp: &SignedCheckpoint, log: &LogKey, policy: &Policy) {
    let verdict = policy.evaluate(&cp.note.text, &cp.note.signatures);
    let mut facts = verdict_facts(&verdict, policy.witnesses.len(), cp, &policy.witnesses);
    facts.policy = true;
    facts.quorum = verdict.quorum.clone();
    facts.quorum_met = Some(verdict.quorum_met);
    let refusal = if !policy.logs.iter().any(|l| l.key == log.key) {
        Some(POLICY_LOG_NOT_LISTED)
    } else {
        verdict.check().err().map(|e| e.code().as_str())
    };
    match refusal {
        Some(code) => v.fail(CheckId::WitnessCosignatures, code, Facts::Witnesses(facts)),
        None => v.pass(CheckId::WitnessCosignatures, Facts::Witnesses(facts)),
    }
}

fn without_policy(v: &mut Verification, cp: &SignedCheckpoint, known: &[VerifierKey]) {
    // The known keys as a policy that requires nothing (`quorum none`):
    // the same evaluation, with each witness named by its key name.
    let witnesses: Vec<PolicyWitness> = known
        .iter()
        .map(|k| PolicyWitness {
            name: k.name().to_string(),
            key: k.clone(),
            url: None,
        })
        .collect();
    let informative = Policy {
        logs: vec![],
        witnesses,
        groups: vec![],
        quorum: None,
    };
    let verdict = informative.evaluate(&cp.note.text, &cp.note.signatures);
    let facts = verdict_facts(&verdict, known.len(), cp, &informative.witnesses);
    if facts.invalid.is_empty() {
        v.info(CheckId::WitnessCosignatures, Facts::Witnesses(facts));
    } else {
        v.fail(
            CheckId::WitnessCosignatures,
            "cosignature.invalid",
            Facts::Witnesses(facts),
        );
    }
}

fn verdict_facts(
    verdict: &Verdict,
    witnesses: usize,
    cp: &SignedCheckpoint,
    keys: &[PolicyWitness],
) -> WitnessFacts {
    let mut invalid: Vec<String> = verdict.invalid.iter().map(|(w, _)| w.clone()).collect();
    invalid.dedup();
    let checked = |line: &String| {
        keys.iter()
            .any(|w| *line == format!("{}+{:08x}", w.key.name(), w.key.key_id()))
    };
    WitnessFacts {
        policy: false,
        quorum: None,
        quorum_met: None,
        witnesses,
        cosigned: verdict
            .cosigned
            .iter()
            .map(|c| Cosigner {
                witness: c.witness.clone(),
                timestamp: c.timestamp,
            })
            .collect(),
        invalid,
        unsatisfied: verdict
            .unsatisfied()
            .map(|g| GroupShortfall {
                group: g.group.clone(),
                threshold: g.threshold,
                missing: g.missing_members.clone(),
            })
            .collect(),
        unchecked: cp
            .other_signatures
            .iter()
            .filter(|l| !checked(l))
            .cloned()
            .collect(),
        keys: keys
            .iter()
            .map(|w| TrustedWitness {
                witness: w.name.clone(),
                key: w.key.name().to_string(),
                fingerprint: w.key.fingerprint(),
            })
            .collect(),
        policy_source: None,
    }
}
