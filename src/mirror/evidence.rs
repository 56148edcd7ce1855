//! Evidence of a refused upstream (`spec/mirror.md` §4): one directory per
//! refusal under `<data>/evidence/`, holding what anyone can re-check
//! offline with the log's public key: the checkpoint the mirror had
//! verified, the one the upstream offered (both signed by the log), the
//! consistency proof when one was computed, the failing entry when an entry
//! failed, and `refusal.json`.
//!
//! Every file is written atomically and durably (temporary name, fsync,
//! rename; the verifier's `write_atomic`), `refusal.json` last, so a
//! directory with `refusal.json` is complete.

use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tallyboard_core::{ErrorCode, Hash};
use tallyboard_verify::consistency::write_atomic;

/// Refusals kept; later ones are not written (the mirror has stopped
/// following after the first anyway, so this only bounds restarts).
pub const MAX_EVIDENCE: usize = 1000;

/// What a refusal shows.
pub struct Evidence<'a> {
    /// The refusal's code.
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
    /// The upstream.
    pub upstream: &'a str,
    /// The checkpoint the mirror had verified, if it had one.
    pub trusted: Option<&'a [u8]>,
    /// Its size (0 if none).
    pub trusted_size: u64,
    /// The signed checkpoint the upstream offered.
    pub offered: &'a [u8],
    /// Its size.
    pub offered_size: u64,
    /// The consistency proof from `trusted_size` to `offered_size` computed
    /// from the upstream's tiles, if one was.
    pub proof: Option<&'a [Hash]>,
    /// The entry that failed validation: index, bytes, and the rule's code.
    pub entry: Option<(u64, &'a [u8], ErrorCode)>,
    /// A read-path resource concerned (`tile/1/000`, `tile/entries/001.p/7`).
    pub path: Option<String>,
}

/// `refusal.json`.
#[derive(Serialize)]
struct RefusalFile<'a> {
    code: &'static str,
    message: &'a str,
    upstream: &'a str,
    observed: u64,
    trusted_size: u64,
    offered_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    files: Vec<&'static str>,
}

/// Writes the evidence to a new directory under `evidence_root`; returns it.
pub fn write(evidence_root: &Path, ev: &Evidence<'_>) -> Result<PathBuf> {
    std::fs::create_dir_all(evidence_root)
        .with_context(|| format!("creating {}", evidence_root.display()))?;
    let existing = std::fs::read_dir(evidence_root)?.count();
    if existing >= MAX_EVIDENCE {
        anyhow::bail!(
            "{} already holds {MAX_EVIDENCE} refusals; not writing more",
            evidence_root.display()
        );
    }
    let short = ev.code.as_str().trim_start_matches("mirror.");
    let dir = (existing + 1..)
        .map(|n| evidence_root.join(format!("{n:04}-{short}")))
        .find(|p| !p.exists())
        .context("no free evidence directory name")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let put = |name: &str, bytes: &[u8]| {
        write_atomic(&dir.join(name), bytes)
            .with_context(|| format!("writing {}", dir.join(name).display()))
    };
    let mut files = Vec::new();
    if let Some(t) = ev.trusted {
        put("trusted.checkpoint", t)?;
        files.push("trusted.checkpoint");
    }
    put("offered.checkpoint", ev.offered)?;
    files.push("offered.checkpoint");
    if let Some(p) = ev.proof {
        let text: String = p.iter().map(|h| format!("{}\n", h.to_base64())).collect();
        put("consistency.proof", text.as_bytes())?;
        files.push("consistency.proof");
    }
    if let Some((_, bytes, _)) = ev.entry {
        put("entry", bytes)?;
        files.push("entry");
    }
    files.push("refusal.json");
    let observed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let record = RefusalFile {
        code: ev.code.as_str(),
        message: &ev.message,
        upstream: ev.upstream,
        observed,
        trusted_size: ev.trusted_size,
        offered_size: ev.offered_size,
        entry_index: ev.entry.map(|(i, _, _)| i),
        entry_code: ev.entry.map(|(_, _, c)| c.as_str()),
        path: ev.path.as_deref(),
        files,
    };
    let mut json = serde_json::to_vec_pretty(&record)?;
    json.push(b'\n');
    put("refusal.json", &json)?;
    Ok(dir)
}
