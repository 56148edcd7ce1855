//! `consistency`: keep the newest verified checkpoint in a local state file
//! and accept a new one only if it provably extends it, as the Go
//! checksum-database client does with its `latest` file
//! (spec/verification.md §5).
//!
//! The state file holds the signed checkpoint note verbatim. On each run the
//! current checkpoint is fetched and verified; the RFC 6962 consistency
//! proof from the stored size to the new size is computed from the new
//! tree's tiles and verified against both signed roots. A smaller tree
//! (rollback), a different root at the same size (fork) or a failed proof
//! is refused, the state is left unchanged, and the evidence (both signed
//! checkpoints, the proof, the reason) is written to
//! `<state>.evidence-<n>/`.

use crate::tiles::{fetch_checkpoint, merkle_err, open_signed, SignedCheckpoint, TileFetcher};
use crate::{Error, Finding, LogKey, Report, Result, Source};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use tallyboard_core::error::Coded;
use tallyboard_core::merkle;
use tallyboard_core::Hash;

/// The report of `consistency`.
#[derive(Debug, Serialize)]
pub struct ConsistencyReport {
    /// Always `consistency`.
    pub command: &'static str,
    /// Whether the new checkpoint was accepted.
    pub verified: bool,
    /// What happened: `initialized`, `unchanged`, `extended` or `refused`.
    pub outcome: &'static str,
    /// The trusted size before this run (absent on first use).
    pub old_size: Option<u64>,
    /// The trusted root before this run (base64).
    pub old_root: Option<String>,
    /// The offered checkpoint's size.
    pub new_size: u64,
    /// The offered checkpoint's root (base64).
    pub new_root: String,
    /// The consistency proof (base64), when one was computed.
    pub proof: Vec<String>,
    /// Where the evidence was written, if the checkpoint was refused.
    pub evidence: Option<String>,
    /// Discrepancies.
    pub findings: Vec<Finding>,
}

impl Report for ConsistencyReport {
    fn verified(&self) -> bool {
        self.verified
    }
    fn human(&self) -> String {
        let mut s = match self.outcome {
            "initialized" => format!(
                "consistency: no state yet; trusting the verified checkpoint of size {} (root {}) on first use\n",
                self.new_size, self.new_root
            ),
            "unchanged" => format!(
                "consistency: VERIFIED, unchanged at size {} (root {})\n",
                self.new_size, self.new_root
            ),
            "extended" => format!(
                "consistency: VERIFIED, size {} extends the trusted size {} ({} proof hashes from tiles); state updated\n",
                self.new_size,
                self.old_size.unwrap_or(0),
                self.proof.len()
            ),
            _ => format!(
                "consistency: REFUSED the checkpoint of size {} (trusted: size {}); state unchanged\n",
                self.new_size,
                self.old_size.unwrap_or(0)
            ),
        };
        for f in &self.findings {
            s.push_str(&format!("  {f}\n"));
        }
        if let Some(e) = &self.evidence {
            s.push_str(&format!("  evidence kept in {e}\n"));
        }
        s
    }
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn keep_evidence(
    state: &Path,
    old: &SignedCheckpoint,
    new: &SignedCheckpoint,
    proof: &[Hash],
    reason: &str,
) -> Result<PathBuf> {
    let base = state.as_os_str().to_string_lossy().into_owned();
    let dir = (1..)
        .map(|n| PathBuf::from(format!("{base}.evidence-{n}")))
        .find(|p| !p.exists())
        .ok_or_else(|| Error::CouldNotRun("no free evidence directory name".into()))?;
    let io = |e: std::io::Error| {
        Error::CouldNotRun(format!("writing evidence to {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    write_atomic(&dir.join("trusted.checkpoint"), &old.bytes).map_err(io)?;
    write_atomic(&dir.join("offered.checkpoint"), &new.bytes).map_err(io)?;
    let proof_text: String = proof
        .iter()
        .map(|h| format!("{}\n", h.to_base64()))
        .collect();
    write_atomic(&dir.join("consistency.proof"), proof_text.as_bytes()).map_err(io)?;
    write_atomic(&dir.join("reason.txt"), format!("{reason}\n").as_bytes()).map_err(io)?;
    Ok(dir)
}

/// Runs `consistency` with the state file at `state`.
pub fn run(src: &dyn Source, log: &LogKey, state: &Path) -> Result<ConsistencyReport> {
    let mut r = ConsistencyReport {
        command: "consistency",
        verified: false,
        outcome: "refused",
        old_size: None,
        old_root: None,
        new_size: 0,
        new_root: String::new(),
        proof: vec![],
        evidence: None,
        findings: vec![],
    };
    let new = match fetch_checkpoint(src, log) {
        Ok(cp) => cp,
        Err(Error::Failed(f)) => {
            r.findings.push(f);
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    r.new_size = new.checkpoint.size;
    r.new_root = new.checkpoint.root.to_base64();
    let io = |e: std::io::Error| Error::CouldNotRun(format!("state file {}: {e}", state.display()));
    let old_bytes = match std::fs::read(state) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_atomic(state, &new.bytes).map_err(io)?;
            r.verified = true;
            r.outcome = "initialized";
            return Ok(r);
        }
        Err(e) => return Err(io(e)),
    };
    let old = open_signed(&old_bytes, log, "state file").map_err(|e| {
        Error::CouldNotRun(format!(
            "{} does not hold a checkpoint signed by this log key: {e}",
            state.display()
        ))
    })?;
    let (o, n) = (&old.checkpoint, &new.checkpoint);
    r.old_size = Some(o.size);
    r.old_root = Some(o.root.to_base64());

    let refuse =
        |r: &mut ConsistencyReport, code: &str, reason: String, proof: &[Hash]| -> Result<()> {
            let dir = keep_evidence(state, &old, &new, proof, &format!("{code}: {reason}"))?;
            r.evidence = Some(dir.display().to_string());
            r.findings
                .push(Finding::new(code, reason).at_path("checkpoint"));
            Ok(())
        };

    if n.size < o.size {
        refuse(
            &mut r,
            "consistency.rollback",
            format!(
                "the log now serves a checkpoint of size {} but already signed size {}: a smaller tree is refused",
                n.size, o.size
            ),
            &[],
        )?;
        return Ok(r);
    }
    if n.size == o.size {
        if n.root == o.root {
            r.verified = true;
            r.outcome = "unchanged";
        } else {
            refuse(
                &mut r,
                "consistency.fork",
                format!(
                    "the log signed two different roots for size {}: {} and {}",
                    n.size,
                    o.root.to_base64(),
                    n.root.to_base64()
                ),
                &[],
            )?;
        }
        return Ok(r);
    }
    let tiles = TileFetcher::new(src, n.size);
    let proof = match merkle::prove_consistency(o.size, n.size, &tiles).map_err(merkle_err) {
        Ok(p) => p,
        Err(Error::Failed(f)) => {
            r.findings.push(f);
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    r.proof = proof.iter().map(Hash::to_base64).collect();
    if let Err(e) = merkle::verify_consistency(o.size, n.size, &o.root, &n.root, &proof) {
        // Tell a lying mirror (tiles that do not even match the new root)
        // from a log that signed two inconsistent trees.
        let tiles_match_new =
            matches!(merkle::tree_hash(n.size, &tiles), Ok(root) if root == n.root);
        let (code, why) = if tiles_match_new {
            (
                "consistency.fork",
                format!(
                    "the log's checkpoint of size {} does not extend the trusted checkpoint of size {}: the tiles reproduce the new root, and the consistency proof from them fails ({e}); the log has rewritten its history",
                    n.size, o.size
                ),
            )
        } else {
            (
                e.code().as_str(),
                format!(
                    "the consistency proof from size {} to {} computed from the tiles served fails ({e}), and the tiles do not reproduce the new root: the tiles are wrong",
                    o.size, n.size
                ),
            )
        };
        refuse(&mut r, code, why, &proof)?;
        return Ok(r);
    }
    write_atomic(state, &new.bytes).map_err(io)?;
    r.verified = true;
    r.outcome = "extended";
    Ok(r)
}
