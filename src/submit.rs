//! `tallyboard submit`: the polling station's client.
//!
//! Signs an unsigned entry text with the station's key (a file that is
//! already a signed note is sent as is), posts it to the board, retries on
//! 429 and 503 (and connection failures) with exponential backoff that
//! honours `Retry-After`, then verifies the receipt offline against the
//! log's key before saving it as `<file>.tlog-proof` and reporting success.
//! When the client signed the entry, the exact logged bytes are saved as
//! `<file>.signed`, since a receipt is only evidence together with them.

use crate::keyfile;
use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::note::{self, VerifierKey, Verifiers};
use tallyboard_core::tlog_proof::TlogProof;

/// What to submit, where.
pub struct Options {
    /// The station's private key file (needed only for unsigned entries).
    pub key: Option<PathBuf>,
    /// The board's base URL.
    pub url: String,
    /// The log's verifier key, or a file holding it; fetched from the board if absent.
    pub log_vkey: Option<String>,
    /// Retries on 429/503/connection failure.
    pub retries: u32,
    /// The minutes scan the tally names, uploaded once it is logged.
    pub minutes: Option<PathBuf>,
    /// The tally (or other entry) file.
    pub file: PathBuf,
}

#[derive(Deserialize)]
struct Receipt {
    index: u64,
    leaf_hash: String,
    checkpoint_size: u64,
    duplicate: bool,
    receipt: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
    detail: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct LogInfo {
    log_vkey: String,
}

/// The bytes to submit: the file itself if it is a signed entry, else the
/// file's entry text signed with the station key.
fn entry_bytes(file: &Path, key: Option<&Path>) -> Result<(Vec<u8>, bool)> {
    let raw = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let signed_err = match SignedEntry::parse(&raw) {
        Ok(_) => return Ok((raw, false)),
        Err(e) => e,
    };
    let text = std::str::from_utf8(&raw)
        .map_err(|_| anyhow!("{} is not UTF-8 ({signed_err})", file.display()))?;
    if let Err(e) = Entry::parse_text(text) {
        bail!(
            "{} is neither a signed entry ({signed_err}) nor an unsigned entry text ({e})",
            file.display()
        );
    }
    let key_path = key.context("the file is unsigned: give the station's key with --key")?;
    let key = keyfile::read(key_path)?;
    let bytes = note::sign(text, &[&key]).map_err(|e| anyhow!("signing: {e}"))?;
    Ok((bytes, true))
}

fn log_key(o: &Options, agent: &ureq::Agent) -> Result<VerifierKey> {
    if let Some(v) = &o.log_vkey {
        if let Ok(k) = VerifierKey::parse(v.trim()) {
            return Ok(k);
        }
        let text =
            std::fs::read_to_string(v).with_context(|| format!("reading log vkey file {v}"))?;
        return VerifierKey::parse(text.trim())
            .map_err(|e| anyhow!("{v} does not hold a verifier key: {e}"));
    }
    let url = format!("{}/api/v1/log", o.url);
    let text = agent
        .get(&url)
        .call()
        .with_context(|| format!("fetching {url}"))?
        .into_string()?;
    let info: LogInfo = serde_json::from_str(&text).context("reading the board's log info")?;
    eprintln!(
        "warning: no --log-vkey given; trusting the key the board reports ({}). \
         Pin it with --log-vkey for real evidence.",
        info.log_vkey
    );
    VerifierKey::parse(&info.log_vkey).map_err(|e| anyhow!("the board's log key: {e}"))
}

/// A minutes scan to upload once its tally is logged.
struct Minutes {
    bytes: Vec<u8>,
    sha256: tallyboard_core::Hash,
    station: String,
    key: tallyboard_core::note::SignerKey,
}

fn minutes_upload(entry: &[u8], path: &Path, key: Option<&Path>) -> Result<Minutes> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let sha256 = tallyboard_core::Hash::sha256(&bytes);
    let tally = match SignedEntry::parse(entry).map(|s| s.entry) {
        Ok(Entry::Tally(t)) => t,
        _ => bail!("--minutes goes with a tally, and this entry is not one"),
    };
    if tally.minutes_sha256 != Some(sha256) {
        bail!(
            "{} hashes to {}, which is not the minutes-sha256 the tally names",
            path.display(),
            sha256.to_hex()
        );
    }
    let key_path = key.context("--minutes needs the station's key (--key) to sign the upload")?;
    Ok(Minutes {
        bytes,
        sha256,
        station: tally.station,
        key: keyfile::read(key_path)?,
    })
}

/// Uploads the minutes scan, signed by the station (spec/http-api.md §1.3).
fn upload_minutes(o: &Options, agent: &ureq::Agent, origin: &str, m: &Minutes) -> Result<()> {
    let hex = m.sha256.to_hex();
    let url = format!("{}/api/v1/blobs?sha256={hex}", o.url.trim_end_matches('/'));
    let signature = tallyboard_core::blob::sign_upload(&m.key, origin, &m.station, &m.sha256);
    match agent
        .post(&url)
        .set("Content-Type", "application/octet-stream")
        .set("X-Tallyboard-Station", &m.station)
        .set("X-Tallyboard-Signature", &signature)
        .send_bytes(&m.bytes)
    {
        Ok(_) => {
            println!("minutes scan {hex} stored ({} bytes)", m.bytes.len());
            Ok(())
        }
        Err(ureq::Error::Status(code, resp)) => {
            let body = resp.into_string().unwrap_or_default();
            bail!("the minutes scan was refused ({code}): {body}")
        }
        Err(e) => Err(anyhow!("uploading the minutes scan: {e}")),
    }
}

fn retry_after(resp: &ureq::Response) -> Option<Duration> {
    resp.header("retry-after")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(60)))
}

/// Runs the client; returns the verified receipt's index.
pub fn run(o: &Options) -> Result<u64> {
    let (bytes, signed_here) = entry_bytes(&o.file, o.key.as_deref())?;
    // Checked before anything is sent: the scan must be the one the tally
    // names, and there must be a key to sign its upload with.
    let minutes = match &o.minutes {
        Some(path) => Some(minutes_upload(&bytes, path, o.key.as_deref())?),
        None => None,
    };
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let vkey = log_key(o, &agent)?;
    let url = format!("{}/api/v1/entries", o.url.trim_end_matches('/'));
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0u32;
    let receipt: Receipt = loop {
        let res = agent
            .post(&url)
            .set("Content-Type", "text/plain; charset=utf-8")
            .set("Accept", "application/json")
            .send_bytes(&bytes);
        let wait = match res {
            Ok(resp) => {
                let text = resp.into_string().context("reading the receipt")?;
                break serde_json::from_str(&text).context("parsing the receipt")?;
            }
            Err(ureq::Error::Status(code, resp)) if code == 429 || code == 503 => {
                let w = retry_after(&resp).unwrap_or(delay).max(delay);
                eprintln!("board answered {code}; retrying in {:.1}s", w.as_secs_f64());
                w
            }
            Err(ureq::Error::Status(code, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                match serde_json::from_str::<ErrorBody>(&body) {
                    Ok(e) => {
                        let detail = e.detail.map(|d| format!(" {d}")).unwrap_or_default();
                        bail!("refused ({code} {}): {}{detail}", e.code, e.message)
                    }
                    Err(_) => bail!("refused ({code}): {body}"),
                }
            }
            Err(ureq::Error::Transport(t)) => {
                eprintln!("{t}; retrying in {:.1}s", delay.as_secs_f64());
                delay
            }
        };
        attempt += 1;
        if attempt > o.retries {
            bail!("gave up after {attempt} attempts");
        }
        std::thread::sleep(wait);
        delay = (delay * 2).min(Duration::from_secs(10));
    };

    // Verify offline before claiming success.
    let proof = TlogProof::parse(receipt.receipt.as_bytes())
        .map_err(|e| anyhow!("the board's receipt is malformed: {e}"))?;
    let mut verifiers = Verifiers::new();
    verifiers.add(vkey.clone());
    let cp = proof
        .verify(&bytes, vkey.name(), &verifiers)
        .map_err(|e| anyhow!("the board's receipt does not verify: {e}"))?;
    let leaf = tallyboard_core::hash::leaf_hash(&bytes);
    if proof.index != receipt.index || leaf.to_hex() != receipt.leaf_hash {
        bail!("the board's receipt does not match its answer (index or leaf hash)");
    }
    let out = PathBuf::from(format!("{}.tlog-proof", o.file.display()));
    std::fs::write(&out, receipt.receipt.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    if signed_here {
        let signed = PathBuf::from(format!("{}.signed", o.file.display()));
        std::fs::write(&signed, &bytes).with_context(|| format!("writing {}", signed.display()))?;
    }
    if let Some(m) = &minutes {
        upload_minutes(o, &agent, &cp.origin, m)?;
    }
    println!(
        "{} at index {} (leaf {}), included in the signed checkpoint of size {} ({}); receipt verified and saved to {}",
        if receipt.duplicate { "already logged" } else { "logged" },
        receipt.index,
        receipt.leaf_hash,
        receipt.checkpoint_size,
        cp.root,
        out.display()
    );
    Ok(receipt.index)
}
