//! C2SP tlog-policy (<https://c2sp.org/tlog-policy>): which logs and which
//! witness cosignatures a checkpoint needs to be trusted. I/O-free: parse a
//! policy text ([`Policy::parse`]), then evaluate a cosigned checkpoint
//! ([`Policy::verify_checkpoint`], [`Policy::evaluate`]).
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> <k|all|any> <member>...
//! quorum <name|none>
//! ```
//!
//! Parsing is strict (`spec/policy.md`): the byte set of the spec (tab,
//! newline, 0x20-0x7E, 0x80-0xFF; we also require UTF-8 and a final
//! newline), names defined before use, witnesses and groups in one
//! namespace, `none` reserved, no duplicate keys, `1 <= k <= n`, each name a
//! group member at most once in the whole policy, exactly one quorum line.
//! Every error names its line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::checkpoint::{open_checkpoint, Checkpoint, CheckpointError, MAX_CHECKPOINT_SIZE};
use crate::cosignature::verify_cosignature;
use crate::error::{Coded, ErrorCode};
use crate::note::{Note, NoteSignature, VerifierKey, Verifiers, SIG_COSIGNATURE_V1, SIG_ED25519};

/// The most logs, witnesses or groups a policy may define (the spec asks
/// implementations to support at least 32).
pub const MAX_ENTRIES: usize = 256;

/// A policy file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {reason}")]
pub struct PolicyError {
    /// 1-based line number (0 for errors about the whole file).
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

impl Coded for PolicyError {
    fn code(&self) -> ErrorCode {
        ErrorCode::PolicyMalformed
    }
}

/// A log the policy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLog {
    /// Its key (type 0x01); the key name is the log's origin.
    pub key: VerifierKey,
    /// Optional URL.
    pub url: Option<String>,
}

/// A witness the policy knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWitness {
    /// The policy-local name (used in groups and the quorum).
    pub name: String,
    /// Its cosigner key (type 0x04).
    pub key: VerifierKey,
    /// Optional URL: its tlog-witness submission prefix.
    pub url: Option<String>,
}

/// A k-of-n group of witnesses and earlier groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// How many members must be satisfied (`any` = 1, `all` = n).
    pub threshold: usize,
    /// Member names (witnesses or earlier groups).
    pub members: Vec<String>,
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The logs, in file order.
    pub logs: Vec<PolicyLog>,
    /// The witnesses, in file order.
    pub witnesses: Vec<PolicyWitness>,
    /// The groups, in file order (each refers only to earlier names).
    pub groups: Vec<Group>,
    /// The quorum: a witness or group name, or `None` for `quorum none`.
    pub quorum: Option<String>,
}

fn err(line: usize, reason: impl Into<String>) -> PolicyError {
    PolicyError {
        line,
        reason: reason.into(),
    }
}

fn parse_url(line: usize, url: Option<&str>) -> Result<Option<String>, PolicyError> {
    match url {
        None => Ok(None),
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            Ok(Some(u.trim_end_matches('/').to_string()))
        }
        Some(u) => Err(err(line, format!("URL {u:?} is not http:// or https://"))),
    }
}

fn parse_vkey(line: usize, s: &str, sig_type: u8, what: &str) -> Result<VerifierKey, PolicyError> {
    let key = VerifierKey::parse(s).map_err(|e| err(line, format!("{what} key: {e}")))?;
    if key.sig_type() != sig_type {
        return Err(err(
            line,
            format!(
                "{what} key {} has signature type 0x{:02x}, expected 0x{sig_type:02x}",
                key.name(),
                key.sig_type()
            ),
        ));
    }
    Ok(key)
}

impl Policy {
    /// Parses a policy file. See the module documentation and
    /// `spec/policy.md` for the exact rules.
    pub fn parse(bytes: &[u8]) -> Result<Policy, PolicyError> {
        let mut lineno = 1;
        for &b in bytes {
            if b == b'\n' {
                lineno += 1;
            } else if b != b'\t' && (b < 0x20 || b == 0x7f) {
                return Err(err(lineno, format!("control character 0x{b:02x}")));
            }
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            err(line, "not UTF-8")
        })?;
        if !text.is_empty() && !text.ends_with('\n') {
            return Err(err(lineno, "the last line does not end with a newline"));
        }
        let mut p = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut quorum_seen = false;
        // Names of witnesses and groups (one namespace), and names already
        // used as a group member.
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        let mut used_as_member: BTreeSet<String> = BTreeSet::new();
        let mut log_keys = BTreeSet::new();
        let mut witness_keys = BTreeSet::new();

        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim_matches([' ', '\t']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = trimmed
                .split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .collect();
            match words[0] {
                "log" => {
                    if !(2..=3).contains(&words.len()) {
                        return Err(err(line, "expected `log <vkey> [<url>]`"));
                    }
                    let key = parse_vkey(line, words[1], SIG_ED25519, "log")?;
                    if !log_keys.insert(*key.public_key().as_bytes()) {
                        return Err(err(
                            line,
                            "duplicate log key (same public key as an earlier log)",
                        ));
                    }
                    let url = parse_url(line, words.get(2).copied())?;
                    if p.logs.len() == MAX_ENTRIES {
                        return Err(err(line, format!("more than {MAX_ENTRIES} logs")));
                    }
                    p.logs.push(PolicyLog { key, url });
                }
                "witness" => {
                    if !(3..=4).contains(&words.len()) {
                        return Err(err(line, "expected `witness <name> <vkey> [<url>]`"));
                    }
                    let name = words[1];
                    define(&mut names, name, line)?;
                    let key = parse_vkey(line, words[2], SIG_COSIGNATURE_V1, "witness")?;
                    if !witness_keys.insert(*key.public_key().as_bytes()) {
                        return Err(err(
                            line,
                            "duplicate witness key (same public key as an earlier witness)",
                        ));
                    }
                    let url = parse_url(line, words.get(3).copied())?;
                    if p.witnesses.len() == MAX_ENTRIES {
                        return Err(err(line, format!("more than {MAX_ENTRIES} witnesses")));
                    }
                    p.witnesses.push(PolicyWitness {
                        name: name.to_string(),
                        key,
                        url,
                    });
                }
                "group" => {
                    if words.len() < 4 {
                        return Err(err(
                            line,
                            "expected `group <name> <k|all|any> <member>...` with at least one member",
                        ));
                    }
                    let name = words[1];
                    let members = &words[3..];
                    let n = members.len();
                    let threshold = match words[2] {
                        "all" => n,
                        "any" => 1,
                        k => {
                            let k = crate::checkpoint::parse_decimal_u64(k).ok_or_else(|| {
                                err(
                                    line,
                                    format!(
                                        "threshold {k:?} is not `all`, `any` or a decimal number"
                                    ),
                                )
                            })?;
                            if k < 1 || k > n as u64 {
                                return Err(err(
                                    line,
                                    format!("threshold {k} is not between 1 and the {n} members"),
                                ));
                            }
                            k as usize
                        }
                    };
                    for m in members {
                        if *m == "none" {
                            return Err(err(line, "`none` cannot be a group member"));
                        }
                        if !names.contains_key(*m) {
                            return Err(err(
                                line,
                                format!("member {m:?} is not a witness or group defined on an earlier line"),
                            ));
                        }
                        if !used_as_member.insert(m.to_string()) {
                            return Err(err(
                                line,
                                format!("{m:?} is already a member of a group (each name may be a member once)"),
                            ));
                        }
                    }
                    define(&mut names, name, line)?;
                    if p.groups.len() == MAX_ENTRIES {
                        return Err(err(line, format!("more than {MAX_ENTRIES} groups")));
                    }
                    p.groups.push(Group {
                        name: name.to_string(),
                        threshold,
                        members: members.iter().map(|m| m.to_string()).collect(),
                    });
                }
                "quorum" => {
                    if words.len() != 2 {
                        return Err(err(line, "expected `quorum <name|none>`"));
                    }
                    if quorum_seen {
                        return Err(err(line, "a second quorum line"));
                    }
                    quorum_seen = true;
                    let q = words[1];
                    if q != "none" && !names.contains_key(q) {
                        return Err(err(
                            line,
                            format!(
                                "quorum {q:?} is not a witness or group defined on an earlier line"
                            ),
                        ));
                    }
                    p.quorum = (q != "none").then(|| q.to_string());
                }
                other => {
                    return Err(err(
                        line,
                        format!(
                            "unknown keyword {other:?} (expected log, witness, group or quorum)"
                        ),
                    ))
                }
            }
        }
        if !quorum_seen {
            return Err(err(0, "no quorum line"));
        }
        Ok(p)
    }

    /// The log keys, as a verifier set.
    pub fn log_verifiers(&self) -> Verifiers {
        self.logs.iter().map(|l| l.key.clone()).collect()
    }

    /// Checks that this policy (a board's, or one handed to a station
    /// device) names the log key `log` and every witness of `election`'s
    /// policy (the manifest's, with the witness keys in force): otherwise
    /// it would trust checkpoints the election's announcements cannot rest
    /// on ([announcements.md] §5). The error says what is missing.
    ///
    /// [announcements.md]: ../../../spec/announcements.md
    pub fn covers(&self, log: &VerifierKey, election: &Policy) -> Result<(), String> {
        let log = log.to_vkey_string();
        if !self.logs.iter().any(|l| l.key.to_vkey_string() == log) {
            return Err(format!("it does not name the log key {log}"));
        }
        for w in &election.witnesses {
            let vkey = w.key.to_vkey_string();
            if !self
                .witnesses
                .iter()
                .any(|p| p.key.to_vkey_string() == vkey)
            {
                return Err(format!(
                    "it leaves out witness {vkey}, which the election's manifest requires (its witness_policy): announcements need its cosignature"
                ));
            }
        }
        Ok(())
    }

    /// The witness with this policy-local name.
    pub fn witness(&self, name: &str) -> Option<&PolicyWitness> {
        self.witnesses.iter().find(|w| w.name == name)
    }

    /// Opens a cosigned checkpoint under the policy: the note must carry a
    /// valid signature from one of the policy's logs whose key name is
    /// `origin` (signed-note rules: a failing signature from a known log
    /// key rejects the note), then the cosignatures are evaluated
    /// ([`Policy::evaluate`]). Whether the quorum is met is in the verdict.
    pub fn verify_checkpoint(
        &self,
        note_bytes: &[u8],
        origin: &str,
    ) -> Result<(Checkpoint, Verdict), CheckpointError> {
        let logs: Verifiers = self
            .logs
            .iter()
            .filter(|l| l.key.name() == origin)
            .map(|l| l.key.clone())
            .collect();
        let (cp, vn) = open_checkpoint(note_bytes, origin, &logs)?;
        let verdict = self.evaluate(&vn.note.text, &vn.note.signatures);
        Ok((cp, verdict))
    }

    /// Evaluates the cosignatures on a checkpoint text: which policy
    /// witnesses' cosignatures verify, which groups are satisfied, and
    /// whether the quorum is met. Signature lines of other keys are ignored;
    /// a line with a policy witness's name and key ID that does not verify
    /// does not count and is listed in [`Verdict::invalid`].
    pub fn evaluate(&self, checkpoint_text: &str, signatures: &[NoteSignature]) -> Verdict {
        let mut cosigned = Vec::new();
        let mut invalid = Vec::new();
        let mut satisfied: BTreeSet<&str> = BTreeSet::new();
        for w in &self.witnesses {
            let mut ok = None;
            for sig in signatures
                .iter()
                .filter(|s| s.name == w.key.name() && s.key_id == w.key.key_id())
            {
                match verify_cosignature(checkpoint_text, sig, &w.key) {
                    Ok(ts) => ok = ok.max(Some(ts)),
                    Err(e) => invalid.push((w.name.clone(), e.to_string())),
                }
            }
            if let Some(timestamp) = ok {
                satisfied.insert(&w.name);
                cosigned.push(WitnessCosignature {
                    witness: w.name.clone(),
                    timestamp,
                });
            }
        }
        let mut groups = Vec::new();
        for g in &self.groups {
            let (sat, missing): (Vec<&String>, Vec<&String>) = g
                .members
                .iter()
                .partition(|m| satisfied.contains(m.as_str()));
            let ok = sat.len() >= g.threshold;
            if ok {
                satisfied.insert(&g.name);
            }
            groups.push(GroupVerdict {
                group: g.name.clone(),
                threshold: g.threshold,
                satisfied: ok,
                satisfied_members: sat.into_iter().cloned().collect(),
                missing_members: missing.into_iter().cloned().collect(),
            });
        }
        let quorum_met = match &self.quorum {
            None => true,
            Some(q) => satisfied.contains(q.as_str()),
        };
        Verdict {
            cosigned,
            invalid,
            groups,
            quorum: self.quorum.clone(),
            quorum_met,
        }
    }

    /// Evaluates a whole cosigned note's cosignatures without checking the
    /// log signature (for callers that checked it already).
    pub fn evaluate_note(&self, note_bytes: &[u8]) -> Result<Verdict, CheckpointError> {
        let note = Note::parse(note_bytes, MAX_CHECKPOINT_SIZE)?;
        Ok(self.evaluate(&note.text, &note.signatures))
    }
}

fn define(names: &mut BTreeMap<String, usize>, name: &str, line: usize) -> Result<(), PolicyError> {
    if name == "none" {
        return Err(err(line, "`none` is reserved and cannot be defined"));
    }
    if let Some(first) = names.get(name) {
        return Err(err(
            line,
            format!("{name:?} is already defined on line {first}"),
        ));
    }
    names.insert(name.to_string(), line);
    Ok(())
}

/// A policy witness whose cosignature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessCosignature {
    /// The policy-local witness name.
    pub witness: String,
    /// The cosignature's timestamp (the latest, if it cosigned twice).
    pub timestamp: u64,
}

/// Whether one group is satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupVerdict {
    /// The group's name.
    pub group: String,
    /// Its threshold k.
    pub threshold: usize,
    /// Whether at least k members are satisfied.
    pub satisfied: bool,
    /// Members that are satisfied.
    pub satisfied_members: Vec<String>,
    /// Members that are not.
    pub missing_members: Vec<String>,
}

/// The result of evaluating a checkpoint's cosignatures under a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Policy witnesses whose cosignature verified.
    pub cosigned: Vec<WitnessCosignature>,
    /// Cosignature lines from policy witness keys that did not verify:
    /// (witness name, reason).
    pub invalid: Vec<(String, String)>,
    /// Every group, in policy order.
    pub groups: Vec<GroupVerdict>,
    /// The quorum name (`None` for `quorum none`).
    pub quorum: Option<String>,
    /// Whether the quorum is met.
    pub quorum_met: bool,
}

impl Verdict {
    /// The groups that are not satisfied.
    pub fn unsatisfied(&self) -> impl Iterator<Item = &GroupVerdict> {
        self.groups.iter().filter(|g| !g.satisfied)
    }

    /// `Ok` if the quorum is met, else a `policy.quorum-not-met` error.
    pub fn check(&self) -> Result<(), QuorumNotMet> {
        if self.quorum_met {
            Ok(())
        } else {
            Err(QuorumNotMet(self.to_string()))
        }
    }
}

/// The quorum was not met; the message is the verdict's summary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("witness quorum not met: {0}")]
pub struct QuorumNotMet(pub String);

impl Coded for QuorumNotMet {
    fn code(&self) -> ErrorCode {
        ErrorCode::PolicyQuorumNotMet
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = self.quorum.as_deref().unwrap_or("none");
        write!(
            f,
            "quorum {q} {}; cosigned by [{}]",
            if self.quorum_met { "met" } else { "NOT met" },
            self.cosigned
                .iter()
                .map(|c| c.witness.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        for g in self.unsatisfied() {
            write!(
                f,
                "; group {} needs {} of [{}], has [{}]",
                g.group,
                g.threshold,
                g.satisfied_members
                    .iter()
                    .chain(&g.missing_members)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                g.satisfied_members.join(", ")
            )?;
        }
        for (w, reason) in &self.invalid {
            write!(f, "; invalid cosignature from {w}: {reason}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::cosignature::{cosign, CosignerKey};
    use crate::hash::Hash;
    use crate::note::SignerKey;

    const ORIGIN: &str = "board.example/e1";

    fn log_key() -> SignerKey {
        SignerKey::from_seed(ORIGIN, [1; 32]).unwrap()
    }

    fn cosigner(name: &str, seed: u8) -> CosignerKey {
        CosignerKey::from_seed(name, [seed; 32]).unwrap()
    }

    fn guardian() -> CosignerKey {
        cosigner("shora.example/witness", 10)
    }
    fn observer1() -> CosignerKey {
        cosigner("observer1.example/witness", 11)
    }
    fn observer2() -> CosignerKey {
        cosigner("observer2.example/witness", 12)
    }

    fn guardian_policy() -> String {
        format!(
            "# Guardian Council witness is mandatory.\n\
             log {}\n\
             \n\
             witness guardian {} https://shora.example/witness\n\
             \twitness   observer1 {}  \n\
             witness observer2 {}\n\
             group observers 1 observer1 observer2\n\
             group all-required all guardian observers\n\
             quorum all-required\n",
            log_key().verifier(),
            guardian().verifier(),
            observer1().verifier(),
            observer2().verifier(),
        )
    }

    fn signed_checkpoint(witnesses: &[&CosignerKey]) -> Vec<u8> {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: 42,
            root: Hash::sha256(b"root"),
            extensions: vec![],
        };
        let mut note = Note::parse(&sign_checkpoint(&cp, &log_key()), MAX_CHECKPOINT_SIZE).unwrap();
        for w in witnesses {
            let sig = cosign(&note.text, 1_750_000_000, w).unwrap();
            note.signatures.push(sig);
        }
        note.to_bytes()
    }

    #[test]
    fn parses_the_guardian_policy() {
        let p = Policy::parse(guardian_policy().as_bytes()).unwrap();
        assert_eq!(p.logs.len(), 1);
        assert_eq!(p.logs[0].key.name(), ORIGIN);
        assert_eq!(p.witnesses.len(), 3);
        assert_eq!(
            p.witness("guardian").unwrap().url.as_deref(),
            Some("https://shora.example/witness")
        );
        assert_eq!(p.witness("observer1").unwrap().url, None);
        assert_eq!(
            p.groups,
            vec![
                Group {
                    name: "observers".into(),
                    threshold: 1,
                    members: vec!["observer1".into(), "observer2".into()]
                },
                Group {
                    name: "all-required".into(),
                    threshold: 2,
                    members: vec!["guardian".into(), "observers".into()]
                }
            ]
        );
        assert_eq!(p.quorum.as_deref(), Some("all-required"));
    }

    #[test]
    fn guardian_is_mandatory() {
        let p = Policy::parse(guardian_policy().as_bytes()).unwrap();
        let (g, o1, o2) = (guardian(), observer1(), observer2());
        let cases: &[(&[&CosignerKey], bool)] = &[
            (&[], false),
            (&[&g], false),
            (&[&o1], false),
            (&[&o1, &o2], false),
            (&[&g, &o1], true),
            (&[&g, &o2], true),
            (&[&o2, &g, &o1], true),
        ];
        for (ws, met) in cases {
            let bytes = signed_checkpoint(ws);
            let (cp, v) = p.verify_checkpoint(&bytes, ORIGIN).unwrap();
            assert_eq!(cp.size, 42);
            assert_eq!(v.quorum_met, *met, "{v}");
            assert_eq!(v.cosigned.len(), ws.len());
            assert_eq!(v.check().is_ok(), *met);
            assert!(v.invalid.is_empty());
        }
        let v = p.evaluate_note(&signed_checkpoint(&[&o1])).unwrap();
        let unsat: Vec<&str> = v.unsatisfied().map(|g| g.group.as_str()).collect();
        assert_eq!(unsat, ["all-required"]);
        assert_eq!(v.groups[1].missing_members, ["guardian"]);
        assert_eq!(v.groups[1].satisfied_members, ["observers"]);
        let err = v.check().unwrap_err();
        assert_eq!(err.code(), ErrorCode::PolicyQuorumNotMet);
        assert!(
            err.to_string().contains("group all-required needs 2"),
            "{err}"
        );
        let v = p.evaluate_note(&signed_checkpoint(&[&g])).unwrap();
        let unsat: Vec<&str> = v.unsatisfied().map(|g| g.group.as_str()).collect();
        assert_eq!(unsat, ["observers", "all-required"]);
    }

    #[test]
    fn bad_cosignatures_do_not_count_and_bad_log_signatures_fail() {
        let p = Policy::parse(guardian_policy().as_bytes()).unwrap();
        let bytes = signed_checkpoint(&[&guardian(), &observer1()]);
        let mut note = Note::parse(&bytes, MAX_CHECKPOINT_SIZE).unwrap();
        note.signatures[1].signature[20] ^= 1;
        let (_, v) = p.verify_checkpoint(&note.to_bytes(), ORIGIN).unwrap();
        assert!(!v.quorum_met);
        assert_eq!(v.invalid.len(), 1);
        assert_eq!(v.invalid[0].0, "guardian");
        // Cosignatures over another text do not count.
        let other = signed_checkpoint(&[&guardian()]);
        let mut note = Note::parse(&bytes, MAX_CHECKPOINT_SIZE).unwrap();
        note.text = note.text.replace("42", "43");
        let on = Note::parse(&other, MAX_CHECKPOINT_SIZE).unwrap();
        assert!(!p.evaluate(&note.text, &on.signatures).quorum_met);
        // Unknown cosigners are ignored.
        let stranger = cosigner("stranger.example/w", 13);
        let (_, v) = p
            .verify_checkpoint(&signed_checkpoint(&[&stranger, &guardian()]), ORIGIN)
            .unwrap();
        assert_eq!(v.cosigned.len(), 1);
        assert!(v.invalid.is_empty());
        // A broken log signature rejects the checkpoint; so does a wrong origin.
        let mut note = Note::parse(&bytes, MAX_CHECKPOINT_SIZE).unwrap();
        note.signatures[0].signature[0] ^= 1;
        assert_eq!(
            p.verify_checkpoint(&note.to_bytes(), ORIGIN)
                .unwrap_err()
                .code(),
            ErrorCode::NoteBadSignature
        );
        assert!(p.verify_checkpoint(&bytes, "other.example/log").is_err());
    }

    #[test]
    fn quorum_none_single_witness_and_k_of_n() {
        let g = guardian();
        let base = format!("log {}\nwitness g {}\n", log_key().verifier(), g.verifier());
        let p = Policy::parse(format!("{base}quorum none\n").as_bytes()).unwrap();
        assert!(p.evaluate_note(&signed_checkpoint(&[])).unwrap().quorum_met);
        let p = Policy::parse(format!("{base}quorum g\n").as_bytes()).unwrap();
        assert!(!p.evaluate_note(&signed_checkpoint(&[])).unwrap().quorum_met);
        assert!(
            p.evaluate_note(&signed_checkpoint(&[&g]))
                .unwrap()
                .quorum_met
        );
        // 2 of 3, nested in any.
        let ws: Vec<CosignerKey> = (0..3).map(|i| cosigner(&format!("w{i}"), 20 + i)).collect();
        let mut text = format!("log {}\n", log_key().verifier());
        for (i, w) in ws.iter().enumerate() {
            text.push_str(&format!("witness x{i} {}\n", w.verifier()));
        }
        text.push_str(&format!("witness g {}\n", g.verifier()));
        text.push_str("group two 2 x0 x1 x2\ngroup either any two g\nquorum either\n");
        let p = Policy::parse(text.as_bytes()).unwrap();
        let met = |s: &[&CosignerKey]| p.evaluate_note(&signed_checkpoint(s)).unwrap().quorum_met;
        assert!(!met(&[&ws[0]]));
        assert!(met(&[&ws[0], &ws[2]]));
        assert!(met(&[&g]));
        assert!(!met(&[]));
    }

    fn line_of(text: &str) -> (usize, String) {
        let e = Policy::parse(text.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PolicyMalformed);
        (e.line, e.reason)
    }

    #[test]
    fn parse_errors_name_their_line() {
        let lk = log_key().verifier().to_string();
        let g = guardian().verifier().to_string();
        let o = observer1().verifier().to_string();
        let cases: Vec<(String, usize, &str)> = vec![
            (format!("log {lk}\n"), 0, "no quorum"),
            ("quorum none\nquorum none\n".to_string(), 2, "second quorum"),
            ("quorum w\n".to_string(), 1, "earlier line"),
            (
                format!("log {lk}\nquorum g\nwitness g {g}\n"),
                2,
                "earlier line",
            ),
            (
                format!("witness g {g}\ngroup a 1 g h\nquorum a\n"),
                2,
                "\"h\"",
            ),
            (
                format!("witness g {g}\ngroup g 1 g\nquorum g\n"),
                2,
                "already defined",
            ),
            (
                format!("witness g {g}\nwitness g {o}\nquorum g\n"),
                2,
                "already defined",
            ),
            (
                format!("witness g {g}\nwitness h {g}\nquorum g\n"),
                2,
                "duplicate witness key",
            ),
            (
                format!("log {lk}\nlog {lk}\nquorum none\n"),
                2,
                "duplicate log key",
            ),
            (
                format!("witness g {g}\ngroup a 0 g\nquorum a\n"),
                2,
                "between 1",
            ),
            (
                format!("witness g {g}\ngroup a 2 g\nquorum a\n"),
                2,
                "between 1",
            ),
            (
                format!("witness g {g}\ngroup a 01 g\nquorum a\n"),
                2,
                "decimal",
            ),
            (
                format!("witness g {g}\ngroup a all\nquorum a\n"),
                2,
                "at least one member",
            ),
            (
                format!("witness g {g}\ngroup a any none\nquorum a\n"),
                2,
                "none",
            ),
            (format!("witness none {g}\nquorum none\n"), 1, "reserved"),
            (
                format!("witness g {g}\nwitness h {o}\ngroup a any g\ngroup b all g h\nquorum b\n"),
                4,
                "already a member",
            ),
            (
                format!("witness g {g}\ngroup a any g g\nquorum a\n"),
                2,
                "already a member",
            ),
            (format!("witness g {lk}\nquorum g\n"), 1, "type 0x01"),
            (format!("log {g}\nquorum none\n"), 1, "type 0x04"),
            (format!("log {lk}x\nquorum none\n"), 1, "log key"),
            (format!("log {lk} ftp://x\nquorum none\n"), 1, "http"),
            (
                format!("log {lk} https://a extra\nquorum none\n"),
                1,
                "expected `log",
            ),
            (
                "witness g\nquorum none\n".to_string(),
                1,
                "expected `witness",
            ),
            ("quorum\n".to_string(), 1, "expected `quorum"),
            (
                format!("\n\nlogs {lk}\nquorum none\n"),
                3,
                "unknown keyword",
            ),
            ("# c\nquorum none\r\n".to_string(), 2, "0x0d"),
            ("quorum none".to_string(), 1, "newline"),
            ("# \u{7f}\nquorum none\n".to_string(), 1, "0x7f"),
        ];
        for (text, line, needle) in cases {
            let (l, reason) = line_of(&text);
            assert_eq!(l, line, "{text:?}: {reason}");
            assert!(
                reason.contains(needle),
                "{text:?}: {reason} (wanted {needle:?})"
            );
        }
        let e = Policy::parse(b"# \xff\nquorum none\n").unwrap_err();
        assert_eq!(e.line, 1);
        // Tabs, comments, blank lines and trailing spaces are fine.
        assert!(Policy::parse(b"\t# comment\n \n\tquorum\tnone \t\n").is_ok());
        assert!(Policy::parse(b"quorum none\n").unwrap().quorum.is_none());
    }

    #[test]
    fn demo_policy_file_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../keys/policy.txt");
        let bytes = std::fs::read(path).expect("keys/policy.txt");
        let p = Policy::parse(&bytes).unwrap();
        assert_eq!(p.logs.len(), 1);
        assert_eq!(p.logs[0].key.name(), "board.tallyboard.example/demo-1404");
        assert_eq!(p.witnesses.len(), 2);
        let q = p.quorum.clone().unwrap();
        let top = p.groups.iter().find(|g| g.name == q).unwrap();
        assert_eq!(top.threshold, top.members.len());
        assert!(top.members.contains(&"guardian".to_string()));
    }
}
