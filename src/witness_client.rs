//! The log side of C2SP tlog-witness: push a signed checkpoint to each
//! configured witness with `old <size>` and a consistency proof, follow a
//! 409 by resending from the size the witness names, verify every returned
//! cosignature against the witness's key and attach the good ones to the
//! checkpoint note (`spec/witness.md` §"Log side").
//!
//! ```ignore
//! let pool = WitnessPool::from_policy(&policy, Duration::from_secs(5));
//! let cosigned = pool.push(&signed_checkpoint, |old, new| {
//!     merkle::prove_consistency(old, new, store).unwrap_or_default()
//! });
//! serve(cosigned.note);
//! ```

use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tallyboard_core::checkpoint::{Checkpoint, MAX_CHECKPOINT_SIZE};
use tallyboard_core::cosignature::verify_cosignature;
use tallyboard_core::note::{Note, NoteSignature, VerifierKey};
use tallyboard_core::policy::Policy;
use tallyboard_core::witness::{AddCheckpoint, SIZE_CONTENT_TYPE};
use tallyboard_core::Hash;

/// How many times one push follows a 409 before giving up.
const MAX_CONFLICTS: usize = 2;

/// The largest response body read from a witness.
const MAX_RESPONSE: u64 = 64 * 1024;

/// One witness: a name (for reports), its submission prefix and its
/// cosigner key (type 0x04).
#[derive(Clone, Debug)]
pub struct WitnessEndpoint {
    /// A name for reports (the policy's witness name).
    pub name: String,
    /// The submission prefix, without a trailing slash
    /// (`POST <url>/add-checkpoint`).
    pub url: String,
    /// The witness's cosigner key.
    pub key: VerifierKey,
}

/// A witness holds more of this log than the checkpoint pushed to it: it
/// cosigned a larger tree (409 naming a larger size), or a tree the pushed
/// checkpoint does not extend (422, `witness.inconsistent`). Either way the
/// log is serving an older or another history than the one its witnesses
/// vouched for: a board restored from an old copy, or a fork
/// (`spec/operations.md` §"A board behind its witnesses").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WitnessAhead {
    /// The witness's name in the policy.
    pub witness: String,
    /// The size the witness says it cosigned, when it said (409).
    pub witness_size: Option<u64>,
    /// The size of the checkpoint pushed.
    pub our_size: u64,
    /// The witness's answer.
    pub detail: String,
}

impl std::fmt::Display for WitnessAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.witness_size {
            Some(n) => write!(
                f,
                "witness {} has cosigned size {n} of this log, larger than this board's {}",
                self.witness, self.our_size
            ),
            None => write!(
                f,
                "witness {} holds a tree this board's checkpoint of size {} does not extend: {}",
                self.witness, self.our_size, self.detail
            ),
        }
    }
}

impl std::error::Error for WitnessAhead {}

/// A verified cosignature and the size the witness now holds.
#[derive(Clone, Debug)]
pub struct Cosignature {
    /// The cosignature line.
    pub signature: NoteSignature,
    /// Its timestamp.
    pub timestamp: u64,
}

/// The outcome of pushing one checkpoint to the pool.
#[derive(Clone, Debug)]
pub struct CosignedCheckpoint {
    /// The checkpoint note with every verified cosignature attached.
    pub note: Vec<u8>,
    /// Witnesses that cosigned: (name, cosignature timestamp).
    pub cosigned_by: Vec<(String, u64)>,
    /// Witnesses that did not, and why.
    pub failures: Vec<(String, String)>,
    /// Witnesses among those that hold more of this log than the
    /// checkpoint pushed ([`WitnessAhead`]).
    pub ahead: Vec<WitnessAhead>,
}

/// A ureq agent with the given timeout for connecting, reading and writing.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(timeout)
        .timeout(timeout)
        .build()
}

/// Reads a response: status, content type and (bounded) body.
fn read_response(
    r: std::result::Result<ureq::Response, ureq::Error>,
) -> Result<(u16, String, Vec<u8>)> {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => return Err(anyhow!("{e}")),
    };
    let status = resp.status();
    let ct = resp.header("content-type").unwrap_or("").to_string();
    let mut body = Vec::new();
    resp.into_reader()
        .take(MAX_RESPONSE)
        .read_to_end(&mut body)
        .context("reading the response")?;
    Ok((status, ct, body))
}

/// Pushes `checkpoint` (a signed checkpoint note) to one witness, starting
/// from `old_size` (what we believe it cosigned last; 0 if unknown), and
/// returns its verified cosignature. On 409 the request is resent from the
/// size the witness names (at most twice), unless that size is larger than
/// the checkpoint's, which means the witness has seen a larger tree.
pub fn cosign_one(
    agent: &ureq::Agent,
    checkpoint: &[u8],
    old_size: u64,
    prove: &(dyn Fn(u64, u64) -> Vec<Hash> + Sync),
    witness: &WitnessEndpoint,
) -> Result<Cosignature> {
    let note = Note::parse(checkpoint, MAX_CHECKPOINT_SIZE).context("checkpoint note")?;
    let cp = Checkpoint::parse(&note.text).context("checkpoint")?;
    let url = format!("{}/add-checkpoint", witness.url);
    let mut old = old_size.min(cp.size);
    for _ in 0..=MAX_CONFLICTS {
        let proof = if old == 0 || old == cp.size {
            Vec::new()
        } else {
            prove(old, cp.size)
        };
        let body = AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: checkpoint.to_vec(),
        }
        .to_bytes();
        let (status, ct, resp) = read_response(agent.post(&url).send_bytes(&body))
            .with_context(|| format!("POST {url}"))?;
        match status {
            200 => return verify_response(&note.text, &resp, &witness.key),
            409 => {
                let size = std::str::from_utf8(&resp)
                    .ok()
                    .and_then(|s| s.strip_suffix('\n'))
                    .and_then(|s| s.parse::<u64>().ok())
                    .filter(|_| ct.starts_with(SIZE_CONTENT_TYPE))
                    .ok_or_else(|| anyhow!("409 without a {SIZE_CONTENT_TYPE} size body"))?;
                if size > cp.size {
                    return Err(WitnessAhead {
                        witness: witness.name.clone(),
                        witness_size: Some(size),
                        our_size: cp.size,
                        detail: format!("409 naming size {size}"),
                    }
                    .into());
                }
                if size == old {
                    bail!("the witness answered 409 naming the size we sent ({size})");
                }
                old = size;
            }
            422 if resp.starts_with(b"witness.inconsistent") => {
                return Err(WitnessAhead {
                    witness: witness.name.clone(),
                    witness_size: None,
                    our_size: cp.size,
                    detail: String::from_utf8_lossy(&resp).trim_end().to_owned(),
                }
                .into())
            }
            _ => bail!("{status}: {}", String::from_utf8_lossy(&resp).trim_end()),
        }
    }
    bail!("gave up after {MAX_CONFLICTS} conflicts (the witness's state keeps moving)")
}

/// Finds and verifies the witness's cosignature among the returned lines
/// (other lines are ignored, as tlog-witness requires).
fn verify_response(text: &str, resp: &[u8], key: &VerifierKey) -> Result<Cosignature> {
    // The response is signature lines; put them under the text to parse.
    let mut note_bytes = text.as_bytes().to_vec();
    note_bytes.push(b'\n');
    note_bytes.extend_from_slice(resp);
    let note = Note::parse(&note_bytes, MAX_CHECKPOINT_SIZE)
        .map_err(|e| anyhow!("malformed cosignature response: {e}"))?;
    let mut last_err = None;
    for sig in note
        .signatures
        .iter()
        .filter(|s| s.name == key.name() && s.key_id == key.key_id())
    {
        match verify_cosignature(text, sig, key) {
            Ok(timestamp) => {
                return Ok(Cosignature {
                    signature: sig.clone(),
                    timestamp,
                })
            }
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => bail!("cosignature does not verify: {e}"),
        None => bail!("no cosignature from {} in the response", key),
    }
}

/// Pushes `checkpoint` to every witness in parallel; `old_sizes[i]` is the
/// size we believe witness `i` cosigned last. Returns one result per
/// witness, in order.
pub fn cosign_checkpoint(
    agent: &ureq::Agent,
    checkpoint: &[u8],
    old_sizes: &[u64],
    prove: &(dyn Fn(u64, u64) -> Vec<Hash> + Sync),
    witnesses: &[WitnessEndpoint],
) -> Vec<Result<Cosignature>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = witnesses
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let old = old_sizes.get(i).copied().unwrap_or(0);
                s.spawn(move || cosign_one(agent, checkpoint, old, prove, w))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("witness thread panicked")))
            })
            .collect()
    })
}

/// Adds cosignature lines to a signed checkpoint note, replacing any line
/// already there from the same key (same name and key ID).
pub fn attach_cosignatures(checkpoint: &[u8], sigs: &[NoteSignature]) -> Result<Vec<u8>> {
    let mut note = Note::parse(checkpoint, MAX_CHECKPOINT_SIZE).context("checkpoint note")?;
    for sig in sigs {
        note.signatures
            .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
        note.signatures.push(sig.clone());
    }
    Ok(note.to_bytes())
}

/// The witnesses a log pushes to, and what it believes each cosigned last.
pub struct WitnessPool {
    witnesses: Vec<WitnessEndpoint>,
    agent: ureq::Agent,
    sizes: Mutex<Vec<u64>>,
}

impl WitnessPool {
    /// A pool with a timeout per HTTP request.
    pub fn new(witnesses: Vec<WitnessEndpoint>, timeout: Duration) -> WitnessPool {
        let sizes = Mutex::new(vec![0; witnesses.len()]);
        WitnessPool {
            witnesses,
            agent: agent(timeout),
            sizes,
        }
    }

    /// The policy's witnesses that have a URL.
    pub fn from_policy(policy: &Policy, timeout: Duration) -> WitnessPool {
        let ws = policy
            .witnesses
            .iter()
            .filter_map(|w| {
                Some(WitnessEndpoint {
                    name: w.name.clone(),
                    url: w.url.clone()?,
                    key: w.key.clone(),
                })
            })
            .collect();
        WitnessPool::new(ws, timeout)
    }

    /// The configured witnesses.
    pub fn witnesses(&self) -> &[WitnessEndpoint] {
        &self.witnesses
    }

    /// Pushes a new signed checkpoint to every witness (in parallel) and
    /// returns it with the verified cosignatures attached. `prove(old, new)`
    /// gives the consistency proof between two sizes of the log. Never
    /// fails as a whole: witnesses that did not cosign are in `failures`.
    pub fn push(
        &self,
        checkpoint: &[u8],
        prove: impl Fn(u64, u64) -> Vec<Hash> + Sync,
    ) -> CosignedCheckpoint {
        let olds = self.sizes.lock().map(|s| s.clone()).unwrap_or_default();
        let size = Note::parse(checkpoint, MAX_CHECKPOINT_SIZE)
            .ok()
            .and_then(|n| Checkpoint::parse(&n.text).ok())
            .map(|c| c.size);
        let results = cosign_checkpoint(&self.agent, checkpoint, &olds, &prove, &self.witnesses);
        let mut sigs = Vec::new();
        let mut cosigned_by = Vec::new();
        let mut failures = Vec::new();
        let mut ahead = Vec::new();
        let mut sizes = self.sizes.lock().unwrap_or_else(|e| e.into_inner());
        for (i, (w, r)) in self.witnesses.iter().zip(results).enumerate() {
            match r {
                Ok(c) => {
                    sigs.push(c.signature);
                    cosigned_by.push((w.name.clone(), c.timestamp));
                    if let (Some(s), Some(slot)) = (size, sizes.get_mut(i)) {
                        *slot = (*slot).max(s);
                    }
                }
                Err(e) => {
                    if let Some(a) = e.downcast_ref::<WitnessAhead>() {
                        ahead.push(a.clone());
                    }
                    failures.push((w.name.clone(), format!("{e:#}")));
                }
            }
        }
        drop(sizes);
        let note = attach_cosignatures(checkpoint, &sigs).unwrap_or_else(|_| checkpoint.to_vec());
        CosignedCheckpoint {
            note,
            cosigned_by,
            failures,
            ahead,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_core::checkpoint::sign_checkpoint;
    use tallyboard_core::cosignature::CosignerKey;
    use tallyboard_core::merkle::{prove_consistency, MemoryLog};
    use tallyboard_core::witness::TrustedLogs;
    use tallyboard_synth::keys;

    fn start_witness(role: &str) -> (String, VerifierKey, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let key = CosignerKey::from_signer_key(&keys::role_key(role).unwrap());
        let vkey = key.verifier();
        let mut logs = TrustedLogs::new();
        logs.add(keys::role_key("log").unwrap().verifier()).unwrap();
        let base = crate::witness::spawn_for_tests(crate::witness::Config {
            listen: "127.0.0.1:0".into(),
            data: dir.path().to_path_buf(),
            key,
            logs,
            slow_clients: Default::default(),
            init: true,
        });
        (base, vkey, dir)
    }

    fn signed(log: &MemoryLog) -> Vec<u8> {
        let key = keys::role_key("log").unwrap();
        sign_checkpoint(
            &Checkpoint {
                origin: key.name().to_string(),
                size: log.size(),
                root: log.root(),
                extensions: vec![],
            },
            &key,
        )
    }

    fn grow(log: &mut MemoryLog, n: u64) {
        while log.size() < n {
            let i = log.size();
            log.append_entry(format!("e{i}").as_bytes()).unwrap();
        }
    }

    #[test]
    fn pool_collects_verified_cosignatures_and_meets_the_demo_policy() {
        let (g_url, g_key, _g) = start_witness("witness-guardian");
        let (o_url, o_key, _o) = start_witness("witness-observer");
        let endpoints = vec![
            WitnessEndpoint {
                name: "guardian".into(),
                url: g_url.clone(),
                key: g_key.clone(),
            },
            WitnessEndpoint {
                name: "observer".into(),
                url: o_url.clone(),
                key: o_key.clone(),
            },
        ];
        let policy_text =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/keys/policy.txt")).unwrap();
        let policy = Policy::parse(&policy_text).unwrap();
        let origin = keys::role_key("log").unwrap().name().to_string();

        let mut log = MemoryLog::new();
        grow(&mut log, 5);
        let pool = WitnessPool::new(endpoints.clone(), Duration::from_secs(30));
        let prove = |log: &MemoryLog| {
            let l = log.clone();
            move |a: u64, b: u64| prove_consistency(a, b, &l).unwrap()
        };
        let c = pool.push(&signed(&log), prove(&log));
        assert!(c.failures.is_empty(), "{:?}", c.failures);
        let names: Vec<&str> = c.cosigned_by.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["guardian", "observer"]);
        assert!(c.cosigned_by.iter().all(|(_, ts)| *ts > 0));
        let (cp, v) = policy.verify_checkpoint(&c.note, &origin).unwrap();
        assert_eq!(cp.size, 5);
        assert!(v.quorum_met, "{v}");

        // Extension: the pool remembers size 5 and sends a proof.
        grow(&mut log, 9);
        let c = pool.push(&signed(&log), prove(&log));
        assert!(c.failures.is_empty(), "{:?}", c.failures);
        assert!(
            policy
                .verify_checkpoint(&c.note, &origin)
                .unwrap()
                .1
                .quorum_met
        );

        // A fresh pool (a restarted log) starts from 0: 409, then resends.
        grow(&mut log, 12);
        let fresh = WitnessPool::new(endpoints.clone(), Duration::from_secs(30));
        let c = fresh.push(&signed(&log), prove(&log));
        assert!(c.failures.is_empty(), "{:?}", c.failures);
        assert_eq!(c.cosigned_by.len(), 2);

        // Only the guardian: the quorum is not met.
        let only_g = WitnessPool::new(endpoints[..1].to_vec(), Duration::from_secs(30));
        grow(&mut log, 13);
        let c = only_g.push(&signed(&log), prove(&log));
        let (_, v) = policy.verify_checkpoint(&c.note, &origin).unwrap();
        assert!(!v.quorum_met);
        assert_eq!(v.unsatisfied().next().unwrap().group, "observers");

        // A stale checkpoint (smaller than what the witnesses cosigned)
        // fails; a wrongly configured key and an unreachable witness fail
        // without affecting the others.
        let mut small = MemoryLog::new();
        grow(&mut small, 3);
        let c = fresh.push(&signed(&small), prove(&small));
        assert_eq!(c.failures.len(), 2);
        assert!(c.failures[0].1.contains("larger"), "{:?}", c.failures);
        let mixed = WitnessPool::new(
            vec![
                WitnessEndpoint {
                    name: "wrong-key".into(),
                    url: g_url.clone(),
                    key: o_key.clone(),
                },
                WitnessEndpoint {
                    name: "down".into(),
                    url: "http://127.0.0.1:1".into(),
                    key: g_key.clone(),
                },
                endpoints[1].clone(),
            ],
            Duration::from_secs(30),
        );
        grow(&mut log, 14);
        let c = mixed.push(&signed(&log), prove(&log));
        assert_eq!(c.cosigned_by.len(), 1);
        assert_eq!(c.cosigned_by[0].0, "observer");
        let names: Vec<&str> = c.failures.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["wrong-key", "down"]);
        assert!(
            c.failures[0].1.contains("no cosignature"),
            "{:?}",
            c.failures
        );
    }

    #[test]
    fn attach_replaces_a_cosignature_from_the_same_key() {
        let mut log = MemoryLog::new();
        grow(&mut log, 2);
        let cp = signed(&log);
        let text = Note::parse(&cp, MAX_CHECKPOINT_SIZE).unwrap().text;
        let key = CosignerKey::from_signer_key(&keys::role_key("witness-guardian").unwrap());
        let a = tallyboard_core::cosignature::cosign(&text, 10, &key).unwrap();
        let b = tallyboard_core::cosignature::cosign(&text, 11, &key).unwrap();
        let once = attach_cosignatures(&cp, &[a]).unwrap();
        let twice = attach_cosignatures(&once, std::slice::from_ref(&b)).unwrap();
        let n = Note::parse(&twice, MAX_CHECKPOINT_SIZE).unwrap();
        assert_eq!(n.signatures.len(), 2);
        assert_eq!(n.signatures[1], b);
    }
}
