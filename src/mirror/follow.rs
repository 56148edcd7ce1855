//! One poll of the upstream (`spec/mirror.md` §2), in this order:
//!
//! 1. fetch `checkpoint`; verify the log's signature (and, with a policy,
//!    the witness quorum). A checkpoint that does not verify proves nothing
//!    about the log: the mirror waits and tries again.
//! 2. compare it with the latest checkpoint the mirror verified: smaller is
//!    a rollback, the same size with another root a fork; both are refused.
//! 3. larger: compute the RFC 6962 consistency proof from the upstream's
//!    tiles and verify it between the two signed roots. If it fails and the
//!    tiles reproduce the new root, the log signed a tree that does not
//!    extend the verified one (a fork); otherwise the tiles are wrong.
//! 4. fetch the new entries' bundles, append their leaves to the mirror's
//!    own tree and require the new signed root, so the copy is consistent by
//!    construction, not only by the proof.
//! 5. validate every new entry under the board's rules, in order.
//! 6. store entries and checkpoint in one durable write.
//!
//! Any failure in 2–5 is a refusal: evidence is written and the follower
//! stops. Nothing is stored unless all of 1–5 pass.

use super::evidence::{self, Evidence};
use super::local::{self, Local};
use super::status::{problem, Problem, RefusalJson};
use crate::board::SignedCheckpoint;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::error::Coded;
use tallyboard_core::hash::EMPTY_ROOT;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle;
use tallyboard_core::note::{VerifierKey, Verifiers};
use tallyboard_core::policy::Policy;
use tallyboard_core::tile::TILE_WIDTH;
use tallyboard_core::{ErrorCode, Hash};
use tallyboard_verify::tiles::{fetch_bundle, merkle_err, TileFetcher};
use tallyboard_verify::{Error as VerifyError, Finding, Source};

/// Where the mirror reads from, and what it trusts.
pub struct Upstream {
    /// The board's read path (HTTP, or a directory holding an export).
    pub src: Box<dyn Source + Send>,
    /// `--log-key`: the log key the manifest must name (else trusted on
    /// first use from the manifest the upstream serves).
    pub pinned: Option<VerifierKey>,
    /// `--policy`: the witness quorum every checkpoint must carry.
    pub policy: Option<Policy>,
}

/// Entries a poll appended (now in the store), for the view.
pub struct Appended {
    /// Index of the first.
    pub first: u64,
    /// One past the last: the new size.
    pub end: u64,
}

/// What a poll did.
pub enum Poll {
    /// The upstream serves the checkpoint the mirror has.
    Unchanged,
    /// The same tree, signed again (more cosignatures); stored.
    Resigned,
    /// New entries verified and stored.
    Extended(Appended),
    /// The poll could not complete; nothing changed; try again.
    Problem(Problem),
    /// The upstream rewrote history or served what its checkpoint does not
    /// cover; evidence written; stop following.
    Refused(RefusalJson),
}

/// The mirror's data directory layout.
pub struct Paths {
    /// `<data>`.
    pub data: PathBuf,
}

impl Paths {
    /// The verified copy's store.
    pub fn store(&self) -> PathBuf {
        self.data.join("store")
    }
    /// Evidence directories.
    pub fn evidence(&self) -> PathBuf {
        self.data.join("evidence")
    }
}

/// Opens the upstream: a base URL (`http://`, `https://`) or a directory
/// holding an export, read through the verifier's fetchers.
pub fn open_source(from: &str) -> anyhow::Result<Box<dyn Source + Send>> {
    if from.starts_with("http://") || from.starts_with("https://") {
        return Ok(Box::new(tallyboard_verify::HttpSource::new(from)));
    }
    let dir = PathBuf::from(from);
    if !dir.is_dir() {
        anyhow::bail!("--from {from} is neither an http(s) URL nor a directory");
    }
    Ok(Box::new(tallyboard_verify::DirSource::new(dir)))
}

/// Polls once (see the module docs). `local` is created on the first poll
/// that verifies.
pub fn poll(local: &mut Option<Local>, up: &Upstream, paths: &Paths) -> Poll {
    let offered = match up.src.fetch("checkpoint") {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Poll::Problem(problem(
                ErrorCode::MirrorUpstreamUnavailable,
                format!("{} serves no checkpoint", up.src.describe()),
            ))
        }
        Err(e) => {
            return Poll::Problem(problem(ErrorCode::MirrorUpstreamUnavailable, e.to_string()))
        }
    };
    if local.is_none() {
        match first_use(up, paths, &offered) {
            Ok(l) => *local = Some(l),
            Err(p) => return Poll::Problem(p),
        }
    }
    let Some(l) = local.as_mut() else {
        return Poll::Problem(problem(
            ErrorCode::Storage,
            "the mirror's store is not open",
        ));
    };
    let new = match open_offered(&offered, l.origin(), &l.verifiers(), up.policy.as_ref()) {
        Ok(cp) => cp,
        Err(p) => return Poll::Problem(p),
    };
    follow(l, up, paths, new)
}

/// The first poll into an empty data directory: the manifest the upstream
/// serves names the log key (which must be the pinned one, if any), and the
/// checkpoint must verify under it before anything is stored. Entry 0, the
/// manifest commitment, is later validated against this manifest.
fn first_use(up: &Upstream, paths: &Paths, offered: &[u8]) -> Result<Local, Problem> {
    let unavailable = |m: String| problem(ErrorCode::MirrorUpstreamUnavailable, m);
    let mut bytes = None;
    for path in ["api/v1/manifest.json", "api/v1/manifest"] {
        bytes = up.src.fetch(path).map_err(|e| unavailable(e.to_string()))?;
        if bytes.is_some() {
            break;
        }
    }
    let bytes = bytes.ok_or_else(|| {
        unavailable(format!(
            "{} serves no manifest (api/v1/manifest.json)",
            up.src.describe()
        ))
    })?;
    let manifest = ValidatedManifest::from_bytes(&bytes).map_err(|e| Problem {
        code: e.code().as_str().to_owned(),
        message: format!("the upstream's manifest: {e}"),
    })?;
    local::check_pinned(&manifest, up.pinned.as_ref())
        .map_err(|e| problem(ErrorCode::ManifestInvalid, format!("{e:#}")))?;
    let mut v = Verifiers::new();
    v.add(manifest.log_key().clone());
    open_offered(
        offered,
        &manifest.manifest().log.origin,
        &v,
        up.policy.as_ref(),
    )?;
    Local::create(&paths.store(), &bytes).map_err(|e| {
        problem(
            ErrorCode::Storage,
            format!("creating the mirror's store: {e:#}"),
        )
    })
}

/// Verifies the offered checkpoint: the log's signature, then the policy's
/// quorum if there is a policy.
fn open_offered(
    bytes: &[u8],
    origin: &str,
    log: &Verifiers,
    policy: Option<&Policy>,
) -> Result<SignedCheckpoint, Problem> {
    let (checkpoint, _) = open_checkpoint(bytes, origin, log).map_err(|e| Problem {
        code: e.code().as_str().to_owned(),
        message: format!("the upstream's checkpoint does not verify under the log key: {e}"),
    })?;
    if let Some(p) = policy {
        let (_, verdict) = p.verify_checkpoint(bytes, origin).map_err(|e| Problem {
            code: e.code().as_str().to_owned(),
            message: format!("the upstream's checkpoint under the witness policy: {e}"),
        })?;
        if let Err(e) = verdict.check() {
            return Err(problem(e.code(), e.to_string()));
        }
    }
    Ok(SignedCheckpoint {
        checkpoint,
        bytes: bytes.to_vec(),
    })
}

/// How many of the policy's witnesses validly cosigned a checkpoint note.
fn cosigners(policy: &Policy, note: &[u8]) -> usize {
    policy.evaluate_note(note).map_or(0, |v| v.cosigned.len())
}

/// Steps 2–6 for a verified offered checkpoint.
fn follow(l: &mut Local, up: &Upstream, paths: &Paths, new: SignedCheckpoint) -> Poll {
    let (t_size, t_root, t_bytes) = match l.latest() {
        Some(t) => (t.checkpoint.size, t.checkpoint.root, Some(t.bytes.clone())),
        None => (0, EMPTY_ROOT, None),
    };
    let n = new.checkpoint.clone();
    let refuse = Refuser {
        paths,
        upstream: up.src.describe(),
        trusted: t_bytes.as_deref(),
        trusted_size: t_size,
        offered: &new.bytes,
        offered_size: n.size,
    };
    if n.size < t_size {
        return refuse.with(
            ErrorCode::MirrorRollback,
            format!(
                "the log now serves a signed checkpoint of size {} but already signed size {t_size}, which this mirror verified: a log never shrinks",
                n.size
            ),
            Extra::default(),
        );
    }
    if n.size == t_size {
        if n.root != t_root {
            return refuse.with(
                ErrorCode::MirrorFork,
                format!(
                    "the log signed two different roots for size {t_size}: {} (verified by this mirror) and {} (offered now)",
                    t_root.to_base64(),
                    n.root.to_base64()
                ),
                Extra::default(),
            );
        }
        // The same tree: keep the stored note, unless it is the first
        // (size 0) or, under a policy, the offered one carries more valid
        // cosignatures of its witnesses. Without a policy, cosignatures
        // cannot be checked, so unknown extra lines never replace it.
        let better = match (&t_bytes, up.policy.as_ref()) {
            (None, _) => true,
            (Some(t), Some(p)) => cosigners(p, &new.bytes) > cosigners(p, t),
            (Some(_), None) => false,
        };
        if !better {
            return Poll::Unchanged;
        }
        return match l.replace_checkpoint(new) {
            Ok(()) => Poll::Resigned,
            Err(e) => Poll::Problem(problem(ErrorCode::Storage, format!("{e:#}"))),
        };
    }

    // 3. The explicit consistency proof, from the upstream's tiles.
    let mut proof = None;
    if t_size > 0 {
        let tiles = TileFetcher::new(up.src.as_ref(), n.size);
        let p = match merkle::prove_consistency(t_size, n.size, &tiles).map_err(merkle_err) {
            Ok(p) => p,
            Err(e) => return fetch_failed(&refuse, e),
        };
        if let Err(e) = merkle::verify_consistency(t_size, n.size, &t_root, &n.root, &p) {
            let tiles_reproduce_new =
                matches!(merkle::tree_hash(n.size, &tiles), Ok(r) if r == n.root);
            let (code, why) = if tiles_reproduce_new {
                (
                    ErrorCode::MirrorFork,
                    format!(
                        "the log's signed tree of size {} does not extend the tree of size {t_size} this mirror verified: its tiles reproduce the new root, and the consistency proof from them fails ({e})",
                        n.size
                    ),
                )
            } else {
                (
                    ErrorCode::MirrorReadPathMismatch,
                    format!(
                        "the consistency proof from size {t_size} to {} computed from the tiles served fails ({e}), and those tiles do not reproduce the signed root: the tiles are wrong",
                        n.size
                    ),
                )
            };
            return refuse.with(
                code,
                why,
                Extra {
                    proof: Some(&p),
                    ..Extra::default()
                },
            );
        }
        proof = Some(p);
    }

    // 4. The new entries, appended to the mirror's own tree.
    let width = u64::from(TILE_WIDTH);
    let bundles: Vec<u64> = (t_size / width..n.size.div_ceil(width)).collect();
    let fetched: Vec<_> = bundles
        .par_iter()
        .map(|&b| fetch_bundle(up.src.as_ref(), b, n.size))
        .collect();
    let mut entries = Vec::with_capacity(usize::try_from(n.size - t_size).unwrap_or(0));
    for (b, f) in bundles.iter().zip(fetched) {
        let (_, es) = match f {
            Ok(x) => x,
            Err(e) => return fetch_failed(&refuse, e),
        };
        let start = b * width;
        let skip = usize::try_from(t_size.saturating_sub(start)).unwrap_or(usize::MAX);
        entries.extend(es.into_iter().skip(skip));
    }
    let root = match l.root_after(&entries) {
        Ok(r) => r,
        Err(e) => return Poll::Problem(problem(ErrorCode::Storage, format!("{e:#}"))),
    };
    if root != n.root {
        return refuse.with(
            ErrorCode::MirrorReadPathMismatch,
            format!(
                "the {} new entries served, appended to the verified tree of size {t_size}, give root {}, but the signed checkpoint of size {} says {}",
                n.size - t_size,
                root.to_base64(),
                n.size,
                n.root.to_base64()
            ),
            Extra {
                proof: proof.as_deref(),
                ..Extra::default()
            },
        );
    }

    // 5 and 6. Every new entry under the board's rules, then durable
    // together with the checkpoint.
    match l.verify_and_store(entries, new.clone()) {
        Ok(Ok(())) => Poll::Extended(Appended {
            first: t_size,
            end: n.size,
        }),
        Ok(Err(inv)) => refuse.with(
            ErrorCode::MirrorEntryInvalid,
            format!(
                "entry {} under the log's signed checkpoint of size {} fails validation: [{}] {}",
                inv.index,
                n.size,
                inv.error.code(),
                inv.error.message()
            ),
            Extra {
                proof: proof.as_deref(),
                entry: Some((inv.index, &inv.bytes, inv.error.code())),
                ..Extra::default()
            },
        ),
        Err(e) => Poll::Problem(problem(ErrorCode::Storage, format!("{e:#}"))),
    }
}

/// A tile or bundle that could not be read is a reason to try again; one
/// that is malformed is a refusal.
fn fetch_failed(refuse: &Refuser<'_>, e: VerifyError) -> Poll {
    match e {
        VerifyError::Failed(f) if f.code != "source.missing" => refuse.finding(f),
        VerifyError::Failed(f) => {
            Poll::Problem(problem(ErrorCode::MirrorUpstreamUnavailable, f.message))
        }
        VerifyError::CouldNotRun(m) => {
            Poll::Problem(problem(ErrorCode::MirrorUpstreamUnavailable, m))
        }
    }
}

#[derive(Default)]
struct Extra<'a> {
    proof: Option<&'a [Hash]>,
    entry: Option<(u64, &'a [u8], ErrorCode)>,
    path: Option<String>,
}

/// Writes evidence and builds the refusal.
struct Refuser<'a> {
    paths: &'a Paths,
    upstream: String,
    trusted: Option<&'a [u8]>,
    trusted_size: u64,
    offered: &'a [u8],
    offered_size: u64,
}

impl Refuser<'_> {
    fn finding(&self, f: Finding) -> Poll {
        let message = format!("the read path is malformed: [{}] {}", f.code, f.message);
        self.with(
            ErrorCode::MirrorReadPathMismatch,
            message,
            Extra {
                path: f.path,
                ..Extra::default()
            },
        )
    }

    fn with(&self, code: ErrorCode, message: String, extra: Extra<'_>) -> Poll {
        let ev = Evidence {
            code,
            message: message.clone(),
            upstream: &self.upstream,
            trusted: self.trusted,
            trusted_size: self.trusted_size,
            offered: self.offered,
            offered_size: self.offered_size,
            proof: extra.proof,
            entry: extra.entry,
            path: extra.path,
        };
        let root = self.paths.evidence();
        let evidence = match evidence::write(&root, &ev) {
            Ok(dir) => relative(&self.paths.data, &dir),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "could not write the evidence");
                format!("(not written: {e:#})")
            }
        };
        tracing::error!(code = code.as_str(), %message, %evidence, "refused the upstream; no longer following");
        Poll::Refused(RefusalJson {
            code: code.as_str().to_owned(),
            message,
            trusted_size: self.trusted_size,
            offered_size: self.offered_size,
            evidence,
        })
    }
}

fn relative(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}
