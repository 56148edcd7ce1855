//! C2SP tlog-witness v1.0.0 (<https://c2sp.org/tlog-witness>): the witness's
//! decision logic, free of I/O and of the clock.
//!
//! A witness keeps, per log origin, the latest checkpoint it cosigned. For
//! `POST /add-checkpoint` it
//!
//! 1. parses the request body ([`AddCheckpoint::parse`]; 400 if malformed);
//! 2. finds the log keys it trusts for the checkpoint's origin (404 if none)
//!    and verifies the log's signature (403 if none verifies, or if a
//!    signature from a trusted key fails) — [`check_submission`];
//! 3. under a per-origin lock, compares the request with the latest
//!    cosigned checkpoint ([`decide`]): 400 if `old` > the new size, 409 if
//!    `old` is not the cosigned size (the body names that size), 422 if the
//!    consistency proof from the cosigned checkpoint does not verify (which
//!    includes a size-0 checkpoint with a non-empty root, `old 0` with a
//!    non-empty proof and `old` = new with a different root);
//! 4. otherwise returns the new state to persist and the cosignature line;
//!    the caller must make the state durable before it answers 200.
//!
//! [`decide`] also reports [`Evidence`] when a validly signed checkpoint
//! contradicts the cosigned one: a different root for the same size
//! ([`EvidenceKind::Fork`]), a smaller tree ([`EvidenceKind::Rollback`]), or
//! a larger tree whose consistency proof fails ([`EvidenceKind::BadProof`]).
//! The witness keeps both signed checkpoints (`spec/witness.md`).

use std::collections::BTreeMap;

use crate::checkpoint::{Checkpoint, CheckpointError, MAX_CHECKPOINT_SIZE};
use crate::cosignature::{self, CosignerKey};
use crate::error::{Coded, ErrorCode};
use crate::hash::{Hash, EMPTY_ROOT};
use crate::merkle::verify_consistency;
use crate::note::{self, Note, NoteError, VerifierKey, Verifiers, SIG_ED25519};

/// The most consistency proof lines a request may carry (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// The largest add-checkpoint body the witness reads: the old size line, 63
/// proof lines and a checkpoint of at most [`MAX_CHECKPOINT_SIZE`] bytes.
pub const MAX_REQUEST_SIZE: usize = MAX_CHECKPOINT_SIZE + 32 + MAX_PROOF_LINES * 45;

/// The `Content-Type` of a 409 response body (tlog-witness).
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The lowercase hex SHA-256 of an origin: the path segment of the
/// monitoring and evidence endpoints, and the name of the state file.
pub fn origin_hash_hex(origin: &str) -> String {
    Hash::sha256(origin.as_bytes()).to_hex()
}

/// A parsed `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness cosigned last.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, byte for byte as sent.
    pub checkpoint: Vec<u8>,
}

/// Why a request was refused. [`Rejection::status`] is the HTTP status the
/// tlog-witness spec requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The body is not `old <size>\n`, proof lines, an empty line and a
    /// signed checkpoint.
    #[error("malformed add-checkpoint request: {0}")]
    Malformed(String),
    /// No trusted log key for the origin.
    #[error("unknown origin {0:?}")]
    UnknownOrigin(String),
    /// No signature from a trusted log key verifies, or one fails.
    #[error("checkpoint signature: {0}")]
    Signature(NoteError),
    /// `old` is larger than the checkpoint's size.
    #[error("old size {old} is larger than the checkpoint size {new}")]
    OldSizeTooLarge {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        new: u64,
    },
    /// `old` is not the size of the latest cosigned checkpoint.
    #[error("old size {old} is not the latest cosigned size {latest}")]
    OldSizeMismatch {
        /// The request's old size.
        old: u64,
        /// The size of the latest cosigned checkpoint (0 if none).
        latest: u64,
    },
    /// The checkpoint is not consistent with the latest cosigned one.
    #[error("checkpoint is not consistent with the cosigned size {latest}: {reason}")]
    Inconsistent {
        /// The size of the latest cosigned checkpoint.
        latest: u64,
        /// What failed.
        reason: String,
    },
    /// Cosigning failed (timestamp 0 or out of range): a server bug.
    #[error("cannot cosign: {0}")]
    Cosign(String),
}

impl Coded for WitnessError {
    fn code(&self) -> ErrorCode {
        match self {
            WitnessError::Malformed(_) => ErrorCode::WitnessRequestMalformed,
            WitnessError::UnknownOrigin(_) => ErrorCode::WitnessUnknownOrigin,
            WitnessError::Signature(e) => e.code(),
            WitnessError::OldSizeTooLarge { .. } => ErrorCode::WitnessOldSizeTooLarge,
            WitnessError::OldSizeMismatch { .. } => ErrorCode::WitnessOldSizeMismatch,
            WitnessError::Inconsistent { .. } => ErrorCode::WitnessInconsistent,
            WitnessError::Cosign(_) => ErrorCode::WitnessStorage,
        }
    }
}

impl WitnessError {
    /// The HTTP status tlog-witness v1.0.0 requires for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::Malformed(_) | WitnessError::OldSizeTooLarge { .. } => 400,
            WitnessError::Signature(_) => 403,
            WitnessError::UnknownOrigin(_) => 404,
            WitnessError::OldSizeMismatch { .. } => 409,
            WitnessError::Inconsistent { .. } => 422,
            WitnessError::Cosign(_) => 500,
        }
    }

    /// The response body and its content type: for 409 the decimal latest
    /// size and a newline (`text/x.tlog.size`), otherwise
    /// `<error code>: <message>\n` as plain text.
    pub fn response_body(&self) -> (&'static str, Vec<u8>) {
        match self {
            WitnessError::OldSizeMismatch { latest, .. } => {
                (SIZE_CONTENT_TYPE, format!("{latest}\n").into_bytes())
            }
            e => (
                "text/plain; charset=utf-8",
                format!("{}: {e}\n", e.code()).into_bytes(),
            ),
        }
    }
}

fn malformed(reason: impl Into<String>) -> WitnessError {
    WitnessError::Malformed(reason.into())
}

impl AddCheckpoint {
    /// Parses a request body strictly: `old <decimal>\n` (no leading zeros),
    /// at most 63 lines each the canonical base64 of a 32-byte hash, an empty
    /// line, then the signed checkpoint (everything that follows, checked
    /// later as a note). At most [`MAX_REQUEST_SIZE`] bytes.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, WitnessError> {
        if body.len() > MAX_REQUEST_SIZE {
            return Err(malformed(format!(
                "body is {} bytes, more than {MAX_REQUEST_SIZE}",
                body.len()
            )));
        }
        let mut rest = body;
        let mut next_line = |what: &str| -> Result<&[u8], WitnessError> {
            let nl = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| malformed(format!("{what}: no terminating newline")))?;
            let line = &rest[..nl];
            rest = &rest[nl + 1..];
            Ok(line)
        };
        let first = next_line("line 1")?;
        let old = std::str::from_utf8(first)
            .ok()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(crate::checkpoint::parse_decimal_u64)
            .ok_or_else(|| malformed("line 1 is not `old <size>` (decimal, no leading zeros)"))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line(&format!("line {}", proof.len() + 2))?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(malformed(format!(
                    "more than {MAX_PROOF_LINES} consistency proof lines"
                )));
            }
            let h = std::str::from_utf8(line)
                .ok()
                .and_then(Hash::from_base64)
                .ok_or_else(|| {
                    malformed(format!(
                        "line {}: not the canonical base64 of a 32-byte hash",
                        proof.len() + 2
                    ))
                })?;
            proof.push(h);
        }
        if rest.is_empty() {
            return Err(malformed("no checkpoint after the empty line"));
        }
        Ok(AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: rest.to_vec(),
        })
    }

    /// The request body: the exact inverse of [`AddCheckpoint::parse`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size).into_bytes();
        for h in &self.proof {
            out.extend_from_slice(h.to_base64().as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint);
        out
    }
}

/// The log keys a witness trusts, by origin. A log's origin is its key's
/// name (tlog-policy §"Defining a log"); a log may have several keys.
#[derive(Debug, Clone, Default)]
pub struct TrustedLogs {
    by_origin: BTreeMap<String, Verifiers>,
}

impl TrustedLogs {
    /// No logs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `key` (a type-0x01 Ed25519 note key) for the origin equal to
    /// its name. Refuses cosignature keys.
    pub fn add(&mut self, key: VerifierKey) -> Result<&mut Self, NoteError> {
        if key.sig_type() != SIG_ED25519 {
            return Err(NoteError::KeyMalformed {
                reason: format!(
                    "log key {} is not an Ed25519 (type 0x01) note key",
                    key.name()
                ),
            });
        }
        self.by_origin
            .entry(key.name().to_string())
            .or_default()
            .add(key);
        Ok(self)
    }

    /// The keys trusted for `origin`, if any.
    pub fn verifiers(&self, origin: &str) -> Option<&Verifiers> {
        self.by_origin.get(origin)
    }

    /// The trusted origins, in order.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.by_origin.keys().map(String::as_str)
    }
}

/// A request whose body parsed and whose checkpoint carries a valid
/// signature from a trusted log key: what [`decide`] works on.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The parsed request.
    pub request: AddCheckpoint,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The checkpoint note reduced to its text and the signatures from the
    /// trusted log keys (other signatures are dropped).
    pub log_note: Note,
}

/// Steps 1 and 2: parses the body, finds the origin's trusted keys and
/// verifies the log signature. Needs no witness state, so it runs before the
/// per-origin lock is taken.
pub fn check_submission(body: &[u8], logs: &TrustedLogs) -> Result<Submission, WitnessError> {
    let request = AddCheckpoint::parse(body)?;
    let note = Note::parse(&request.checkpoint, MAX_CHECKPOINT_SIZE)
        .map_err(|e| malformed(format!("checkpoint note: {e}")))?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|e| malformed(e.to_string()))?;
    let verifiers = logs
        .verifiers(&checkpoint.origin)
        .ok_or_else(|| WitnessError::UnknownOrigin(checkpoint.origin.clone()))?;
    let verified = note::verify_parsed(&note, verifiers).map_err(WitnessError::Signature)?;
    let log_note = Note {
        text: note.text.clone(),
        signatures: verified
            .iter()
            .map(|&i| note.signatures[i].clone())
            .collect(),
    };
    Ok(Submission {
        request,
        checkpoint,
        log_note,
    })
}

/// The latest checkpoint a witness cosigned for one origin: the note with
/// the log's signature(s) and the witness's cosignature, as persisted and
/// as served by the monitoring endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note: checkpoint text, the log's signatures, the cosignature.
    pub note: Vec<u8>,
    /// The cosignature's timestamp.
    pub timestamp: u64,
}

impl Cosigned {
    /// Checks a persisted state: the note must carry a valid signature from
    /// a trusted log key for its origin and a valid cosignature by
    /// `witness` (a type-0x04 key).
    pub fn open(
        bytes: &[u8],
        logs: &TrustedLogs,
        witness: &VerifierKey,
    ) -> Result<Cosigned, CheckpointError> {
        let note = Note::parse(bytes, MAX_CHECKPOINT_SIZE)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        let verifiers =
            logs.verifiers(&checkpoint.origin)
                .ok_or_else(|| CheckpointError::Malformed {
                    reason: format!("origin {:?} is not trusted", checkpoint.origin),
                })?;
        note::verify_parsed(&note, verifiers)?;
        let timestamp = note
            .signatures
            .iter()
            .find_map(|s| cosignature::verify_cosignature(&note.text, s, witness).ok())
            .ok_or(CheckpointError::Note(NoteError::NoKnownSignature))?;
        Ok(Cosigned {
            checkpoint,
            note: bytes.to_vec(),
            timestamp,
        })
    }
}

/// What kind of misbehaviour a piece of evidence shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// Two validly signed checkpoints with the same size and different roots.
    Fork,
    /// A validly signed checkpoint smaller than the one the witness cosigned.
    Rollback,
    /// A validly signed larger checkpoint whose consistency proof from the
    /// cosigned one fails (a fork, or a bad proof: kept for a monitor to check).
    BadProof,
}

impl EvidenceKind {
    /// The stable name: `fork`, `rollback`, `bad-proof`.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Fork => "fork",
            EvidenceKind::Rollback => "rollback",
            EvidenceKind::BadProof => "bad-proof",
        }
    }
}

/// Two signed checkpoints of one log that contradict each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// What it shows.
    pub kind: EvidenceKind,
    /// The log's origin.
    pub origin: String,
    /// When the witness saw it (POSIX seconds, the caller's clock).
    pub observed: u64,
    /// The checkpoint the witness had cosigned (log and witness signatures).
    pub cosigned: Vec<u8>,
    /// The submitted signed checkpoint, as sent.
    pub submitted: Vec<u8>,
    /// The request's old size.
    pub old_size: u64,
    /// The request's consistency proof.
    pub proof: Vec<Hash>,
}

impl Evidence {
    /// A stable identifier: hex SHA-256 of the kind, a newline and the
    /// submitted checkpoint's text (so resubmissions do not pile up).
    pub fn id(&self) -> String {
        let text = Note::parse(&self.submitted, MAX_CHECKPOINT_SIZE)
            .map(|n| n.text)
            .unwrap_or_default();
        let mut m = format!("{}\n", self.kind.as_str()).into_bytes();
        m.extend_from_slice(text.as_bytes());
        Hash::sha256(&m).to_hex()
    }

    /// The JSON record served by `GET /evidence/<hex SHA-256(origin)>`
    /// (`spec/witness.md`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id(),
            "kind": self.kind.as_str(),
            "origin": self.origin,
            "observed": self.observed,
            "old": self.old_size,
            "proof": self.proof.iter().map(Hash::to_base64).collect::<Vec<_>>(),
            "cosigned": String::from_utf8_lossy(&self.cosigned),
            "submitted": String::from_utf8_lossy(&self.submitted),
        })
    }
}

/// The outcome of [`decide`].
#[derive(Debug, Clone)]
pub struct Decision {
    /// The new state to persist and the 200 body, or the refusal.
    pub result: Result<Accepted, WitnessError>,
    /// Evidence to keep, whatever the result.
    pub evidence: Option<Evidence>,
}

/// A cosigned checkpoint: persist [`Accepted::state`], then answer 200 with
/// [`Accepted::response`].
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The new latest cosigned checkpoint for the origin.
    pub state: Cosigned,
    /// The 200 body: the cosignature line(s), each ending in `\n`.
    pub response: Vec<u8>,
}

/// Step 3 and 4: decides a [`Submission`] against the latest cosigned
/// checkpoint for its origin (`None` if the witness never cosigned one, which
/// counts as size 0 with the empty-tree root), cosigning at `timestamp`.
/// The caller must hold the origin's lock from reading `latest` until the
/// accepted state is durable.
pub fn decide(
    sub: &Submission,
    latest: Option<&Cosigned>,
    key: &CosignerKey,
    timestamp: u64,
) -> Decision {
    let cp = &sub.checkpoint;
    let old = sub.request.old_size;
    let (latest_size, latest_root) = latest
        .map(|l| (l.checkpoint.size, l.checkpoint.root))
        .unwrap_or((0, EMPTY_ROOT));

    let evidence_kind = latest.and_then(|l| {
        if cp.size == l.checkpoint.size && cp.root != l.checkpoint.root {
            Some(EvidenceKind::Fork)
        } else if cp.size < l.checkpoint.size {
            Some(EvidenceKind::Rollback)
        } else {
            None
        }
    });
    let evidence = |kind: EvidenceKind| {
        latest.map(|l| Evidence {
            kind,
            origin: cp.origin.clone(),
            observed: timestamp,
            cosigned: l.note.clone(),
            submitted: sub.request.checkpoint.clone(),
            old_size: old,
            proof: sub.request.proof.clone(),
        })
    };
    let refuse = |e: WitnessError, kind: Option<EvidenceKind>| Decision {
        result: Err(e),
        evidence: kind.and_then(evidence),
    };

    if old > cp.size {
        return refuse(
            WitnessError::OldSizeTooLarge { old, new: cp.size },
            evidence_kind,
        );
    }
    if old != latest_size {
        return refuse(
            WitnessError::OldSizeMismatch {
                old,
                latest: latest_size,
            },
            evidence_kind,
        );
    }
    if let Err(e) = verify_consistency(old, cp.size, &latest_root, &cp.root, &sub.request.proof) {
        let kind = evidence_kind.or(Some(EvidenceKind::BadProof));
        return refuse(
            WitnessError::Inconsistent {
                latest: latest_size,
                reason: e.to_string(),
            },
            kind,
        );
    }
    let sig = match cosignature::cosign(&sub.log_note.text, timestamp, key) {
        Ok(s) => s,
        Err(e) => return refuse(WitnessError::Cosign(e.to_string()), None),
    };
    let mut response = sig.to_line().into_bytes();
    response.push(b'\n');
    let mut note = sub.log_note.clone();
    note.signatures.push(sig);
    Decision {
        result: Ok(Accepted {
            state: Cosigned {
                checkpoint: cp.clone(),
                note: note.to_bytes(),
                timestamp,
            },
            response,
        }),
        evidence: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::merkle::{prove_consistency, MemoryLog};
    use crate::note::SignerKey;

    const ORIGIN: &str = "board.example/test";
    const TS: u64 = 1_750_000_000;

    struct Fixture {
        log: MemoryLog,
        log_key: SignerKey,
        logs: TrustedLogs,
        witness: CosignerKey,
    }

    fn fixture() -> Fixture {
        let log_key = SignerKey::from_seed(ORIGIN, [1; 32]).unwrap();
        let mut logs = TrustedLogs::new();
        logs.add(log_key.verifier()).unwrap();
        let signer = SignerKey::from_seed("witness.example/w", [2; 32]).unwrap();
        Fixture {
            log: MemoryLog::new(),
            log_key,
            logs,
            witness: CosignerKey::from_signer_key(&signer),
        }
    }

    impl Fixture {
        fn grow(&mut self, n: u64) {
            for _ in 0..n {
                let i = self.log.size();
                self.log
                    .append_entry(format!("entry {i}").as_bytes())
                    .unwrap();
            }
        }
        fn signed(&self) -> Vec<u8> {
            sign_checkpoint(
                &Checkpoint {
                    origin: ORIGIN.into(),
                    size: self.log.size(),
                    root: self.log.root(),
                    extensions: vec![],
                },
                &self.log_key,
            )
        }
        fn body(&self, old: u64) -> Vec<u8> {
            let proof = if old == 0 || old > self.log.size() {
                vec![]
            } else {
                prove_consistency(old, self.log.size(), &self.log).unwrap()
            };
            AddCheckpoint {
                old_size: old,
                proof,
                checkpoint: self.signed(),
            }
            .to_bytes()
        }
        fn run(&self, body: &[u8], latest: Option<&Cosigned>) -> Decision {
            match check_submission(body, &self.logs) {
                Ok(sub) => decide(&sub, latest, &self.witness, TS),
                Err(e) => Decision {
                    result: Err(e),
                    evidence: None,
                },
            }
        }
    }

    fn status(d: &Decision) -> u16 {
        match &d.result {
            Ok(_) => 200,
            Err(e) => e.status(),
        }
    }

    #[test]
    fn request_round_trips_and_parses_strictly() {
        let mut f = fixture();
        f.grow(5);
        let body = f.body(3);
        let req = AddCheckpoint::parse(&body).unwrap();
        assert_eq!(req.old_size, 3);
        assert!(!req.proof.is_empty());
        assert_eq!(req.to_bytes(), body);
        let cp = f.signed();
        let cp = String::from_utf8(cp).unwrap();
        let h = Hash::sha256(b"x").to_base64();
        for bad in [
            String::new(),
            "old 1".to_string(),
            format!("old 01\n\n{cp}"),
            format!("old -1\n\n{cp}"),
            format!("old  1\n\n{cp}"),
            format!("Old 1\n\n{cp}"),
            format!("old 1\n{h}\n"),
            format!("old 1\n{h}\n\n"),
            format!("old 1\n{}\n\n{cp}", &h[..h.len() - 1]),
            format!("old 1\nAAAA\n\n{cp}"),
            format!("old 1\n{}\n\n{cp}", format!("{h}\n").repeat(64).trim_end()),
            format!("old 18446744073709551616\n\n{cp}"),
        ] {
            let err = AddCheckpoint::parse(bad.as_bytes()).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
            assert_eq!(err.code(), ErrorCode::WitnessRequestMalformed);
        }
        let ok63 = format!("old 1\n{}\n\n{cp}", format!("{h}\n").repeat(63).trim_end());
        assert_eq!(
            AddCheckpoint::parse(ok63.as_bytes()).unwrap().proof.len(),
            63
        );
        // A body whose checkpoint is not a note is malformed (400), not 403.
        let d = f.run(b"old 0\n\nnot a note\n", None);
        assert_eq!(status(&d), 400);
    }

    #[test]
    fn first_checkpoint_then_extension() {
        let mut f = fixture();
        f.grow(3);
        let d = f.run(&f.body(0), None);
        let acc = d.result.unwrap();
        // The response is one cosignature line that verifies.
        let line = std::str::from_utf8(&acc.response).unwrap();
        assert!(line.starts_with("\u{2014} witness.example/w ") && line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        let full = [f.signed(), acc.response.clone()].concat();
        let parsed = Note::parse(&full, MAX_CHECKPOINT_SIZE).unwrap();
        assert_eq!(
            cosignature::verify_cosignature(
                &parsed.text,
                &parsed.signatures[1],
                &f.witness.verifier()
            ),
            Ok(TS)
        );
        // The state round-trips through Cosigned::open.
        let state = acc.state;
        assert_eq!(
            Cosigned::open(&state.note, &f.logs, &f.witness.verifier()).unwrap(),
            state
        );
        f.grow(4);
        let d = f.run(&f.body(3), Some(&state));
        let s2 = d.result.unwrap().state;
        assert_eq!(s2.checkpoint.size, 7);
        // Same size, same root again: cosigned again.
        assert_eq!(status(&f.run(&f.body(7), Some(&s2))), 200);
        // Stale old size: 409 naming 7.
        let d = f.run(&f.body(3), Some(&s2));
        let err = d.result.unwrap_err();
        assert_eq!(err.status(), 409);
        assert_eq!(err.response_body(), (SIZE_CONTENT_TYPE, b"7\n".to_vec()));
        assert!(d.evidence.is_none());
        // old > new: 400.
        let mut small = fixture();
        small.grow(2);
        let body = AddCheckpoint {
            old_size: 7,
            proof: vec![],
            checkpoint: small.signed(),
        }
        .to_bytes();
        let d = small.run(&body, Some(&s2));
        assert_eq!(status(&d), 400);
        // ... and a smaller tree is kept as rollback evidence.
        assert_eq!(d.evidence.unwrap().kind, EvidenceKind::Rollback);
    }

    #[test]
    fn inconsistent_requests_are_422() {
        let mut f = fixture();
        // Size 0 with a non-empty root.
        let bogus = sign_checkpoint(
            &Checkpoint {
                origin: ORIGIN.into(),
                size: 0,
                root: Hash::sha256(b"x"),
                extensions: vec![],
            },
            &f.log_key,
        );
        let body = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: bogus,
        }
        .to_bytes();
        assert_eq!(status(&f.run(&body, None)), 422);
        // Size 0 with the empty root is fine.
        assert_eq!(status(&f.run(&f.body(0), None)), 200);
        f.grow(4);
        // old 0 with a non-empty proof.
        let mut req = AddCheckpoint::parse(&f.body(0)).unwrap();
        req.proof = vec![Hash::sha256(b"p")];
        assert_eq!(status(&f.run(&req.to_bytes(), None)), 422);
        let state = f.run(&f.body(0), None).result.unwrap().state;
        f.grow(5);
        // A flipped proof hash.
        let mut req = AddCheckpoint::parse(&f.body(4)).unwrap();
        req.proof[0].0[0] ^= 1;
        let d = f.run(&req.to_bytes(), Some(&state));
        assert_eq!(status(&d), 422);
        assert_eq!(d.evidence.unwrap().kind, EvidenceKind::BadProof);
        // A fork: same size, different root.
        let mut fork = fixture();
        fork.grow(3);
        fork.log.append_entry(b"forged").unwrap();
        let d = fork.run(&fork.body(4), Some(&state));
        let err = d.result.unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(err.code(), ErrorCode::WitnessInconsistent);
        let ev = d.evidence.unwrap();
        assert_eq!(ev.kind, EvidenceKind::Fork);
        assert_eq!(ev.cosigned, state.note);
        assert_eq!(ev.submitted, fork.signed());
        assert_eq!(ev.to_json()["kind"], "fork");
        // The fork with a stale old size is 409, still evidence.
        let d = fork.run(&fork.body(2), Some(&state));
        assert_eq!(status(&d), 409);
        assert_eq!(d.evidence.unwrap().kind, EvidenceKind::Fork);
    }

    #[test]
    fn unknown_origin_and_bad_signatures() {
        let mut f = fixture();
        f.grow(2);
        let other = SignerKey::from_seed("other.example/log", [3; 32]).unwrap();
        let cp = Checkpoint {
            origin: "other.example/log".into(),
            size: 2,
            root: f.log.root(),
            extensions: vec![],
        };
        let body = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: sign_checkpoint(&cp, &other),
        }
        .to_bytes();
        let d = f.run(&body, None);
        assert_eq!(status(&d), 404);
        // Right origin, wrong key (another key with the same name): 403.
        let impostor = SignerKey::from_seed(ORIGIN, [9; 32]).unwrap();
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            ..cp
        };
        let body = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: sign_checkpoint(&cp, &impostor),
        }
        .to_bytes();
        let err = f.run(&body, None).result.unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (403, ErrorCode::NoteNoKnownSignature)
        );
        // A trusted key whose signature fails: 403.
        let mut note = Note::parse(&f.signed(), MAX_CHECKPOINT_SIZE).unwrap();
        note.signatures[0].signature[5] ^= 1;
        let body = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: note.to_bytes(),
        }
        .to_bytes();
        let err = f.run(&body, None).result.unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (403, ErrorCode::NoteBadSignature)
        );
        // Extra unknown signatures are allowed and dropped from the state.
        let mut note = Note::parse(&f.signed(), MAX_CHECKPOINT_SIZE).unwrap();
        note.signatures.push(impostor.sign_text(&note.text));
        let body = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: note.to_bytes(),
        }
        .to_bytes();
        let state = f.run(&body, None).result.unwrap().state;
        assert_eq!(
            Note::parse(&state.note, MAX_CHECKPOINT_SIZE)
                .unwrap()
                .signatures
                .len(),
            2
        );
    }

    #[test]
    fn zero_timestamp_is_refused() {
        let mut f = fixture();
        f.grow(1);
        let sub = check_submission(&f.body(0), &f.logs).unwrap();
        let d = decide(&sub, None, &f.witness, 0);
        assert_eq!(d.result.unwrap_err().status(), 500);
    }

    #[test]
    fn cosigned_open_refuses_foreign_state() {
        let mut f = fixture();
        f.grow(2);
        let state = f.run(&f.body(0), None).result.unwrap().state;
        let other = CosignerKey::from_signer_key(&SignerKey::from_seed("w2", [4; 32]).unwrap());
        assert!(Cosigned::open(&state.note, &f.logs, &other.verifier()).is_err());
        assert!(Cosigned::open(&state.note, &TrustedLogs::new(), &f.witness.verifier()).is_err());
        assert!(TrustedLogs::new().add(f.witness.verifier()).is_err());
    }
}
