//! `tallyboard submit` and `tallyboard outbox`: the polling station's client.
//!
//! Signs an unsigned entry text with the station's key (a file that is
//! already a signed note is sent as is: a tally carried on a USB stick to a
//! district office is submitted from there unchanged, its signature the
//! station's), posts it to the first board that answers (`--url` may be
//! given several times: a board's standby, a district relay), retries on
//! 429, 503 and connection failures with exponential backoff that honours
//! `Retry-After`, then verifies the receipt offline against the log's key
//! before saving it as `<file>.tlog-proof` and reporting success. When the
//! client signed the entry, the exact logged bytes are saved as
//! `<file>.signed`, since a receipt is only evidence together with them.
//!
//! With `--outbox DIR` the signed entry is kept on disk before anything is
//! sent ([`crate::outbox`]); if no board answers, it stays there and
//! `tallyboard outbox` sends it later, as often as needed: a board answers
//! an entry it already holds with its original index.

use crate::keyfile;
use crate::outbox::{Outbox, Pending};
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
    /// The boards' base URLs, tried in order.
    pub urls: Vec<String>,
    /// The log's verifier key, or a file holding it; fetched from the board if absent.
    pub log_vkey: Option<String>,
    /// Retries on 429/503/connection failure.
    pub retries: u32,
    /// The minutes scan the tally names, uploaded once it is logged.
    pub minutes: Option<PathBuf>,
    /// The tally (or other entry) file.
    pub file: PathBuf,
    /// Keep the signed entry in this outbox until a receipt comes.
    pub outbox: Option<PathBuf>,
}

/// What `submit` ended with.
pub enum Outcome {
    /// Logged, the receipt verified and saved.
    Logged(Logged),
    /// No board answered; the entry waits in the outbox.
    Kept,
}

/// A verified receipt: what a station keeps and shows.
pub struct Logged {
    /// The entry's index in the log.
    pub index: u64,
    /// The size of the signed checkpoint the receipt proves inclusion in.
    pub checkpoint_size: u64,
    /// The board already held the entry (sent again).
    pub duplicate: bool,
    /// Where the receipt (C2SP tlog-proof) was saved.
    pub receipt: PathBuf,
}

/// A board refused the entry for good (a 4xx other than 429): its answer,
/// code first. A caller tells it from a failure to send by its type.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused {}", self.0)
    }
}

impl std::error::Error for Refused {}

/// Exit status of `submit --outbox` when no board answered and the entry
/// waits in the outbox (EX_TEMPFAIL of sysexits.h: try again later).
pub const EXIT_KEPT: i32 = 75;

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

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

fn log_key(pinned: Option<&str>, urls: &[String], agent: &ureq::Agent) -> Result<VerifierKey> {
    if let Some(v) = pinned {
        if let Ok(k) = VerifierKey::parse(v.trim()) {
            return Ok(k);
        }
        let text =
            std::fs::read_to_string(v).with_context(|| format!("reading log vkey file {v}"))?;
        return VerifierKey::parse(text.trim())
            .map_err(|e| anyhow!("{v} does not hold a verifier key: {e}"));
    }
    let mut last = None;
    for u in urls {
        let url = format!("{}/api/v1/log", base(u));
        let text = match agent.get(&url).call() {
            Ok(r) => r.into_string()?,
            Err(e) => {
                last = Some(anyhow!("fetching {url}: {e}"));
                continue;
            }
        };
        let info: LogInfo = serde_json::from_str(&text).context("reading the board's log info")?;
        eprintln!(
            "warning: no --log-vkey given; trusting the key the board reports ({}). \
             Pin it with --log-vkey for real evidence.",
            info.log_vkey
        );
        return VerifierKey::parse(&info.log_vkey).map_err(|e| anyhow!("the board's log key: {e}"));
    }
    Err(last.unwrap_or_else(|| anyhow!("no board URL given")))
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

/// Uploads the minutes scan, signed by the station (spec/http-api.md §1.3),
/// to the board that logged its tally.
fn upload_minutes(board: &str, agent: &ureq::Agent, origin: &str, m: &Minutes) -> Result<()> {
    let hex = m.sha256.to_hex();
    let url = format!("{}/api/v1/blobs?sha256={hex}", base(board));
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

/// How sending one entry ended.
enum Delivery {
    /// A board logged it: its answer and which board.
    Receipt(Receipt, String),
    /// A board refused it for good: the message (code first).
    Refused(String),
    /// No board took it within the attempts allowed: why, last.
    Unavailable(String),
}

/// The longest wait between two rounds over the boards.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Sends `bytes` to the boards in turn until one logs or refuses it. A
/// round tries every board once (a board that is down, full or behind
/// hands over to the next at once); after a round with no answer it waits,
/// from 200 ms doubling to [`MAX_BACKOFF`] (or the `Retry-After` asked),
/// and `more(rounds done)` says whether to go on.
fn deliver(
    agent: &ureq::Agent,
    urls: &[String],
    bytes: &[u8],
    more: &dyn Fn(u32) -> bool,
) -> Result<Delivery> {
    let mut delay = Duration::from_millis(200);
    let mut rounds = 0u32;
    loop {
        let mut wait = delay;
        let mut why = String::new();
        for board in urls {
            let url = format!("{}/api/v1/entries", base(board));
            match agent
                .post(&url)
                .set("Content-Type", "text/plain; charset=utf-8")
                .set("Accept", "application/json")
                .send_bytes(bytes)
            {
                Ok(resp) => {
                    let text = resp.into_string().context("reading the receipt")?;
                    let r = serde_json::from_str(&text).context("parsing the receipt")?;
                    return Ok(Delivery::Receipt(r, board.clone()));
                }
                Err(ureq::Error::Status(code, resp)) if code == 429 || code == 503 => {
                    if let Some(w) = retry_after(&resp) {
                        wait = wait.max(w);
                    }
                    why = format!("{board} answered {code}");
                }
                Err(ureq::Error::Status(code, resp)) => {
                    let body = resp.into_string().unwrap_or_default();
                    let msg = match serde_json::from_str::<ErrorBody>(&body) {
                        Ok(e) => {
                            let detail = e.detail.map(|d| format!(" {d}")).unwrap_or_default();
                            format!("{} ({code}): {}{detail}", e.code, e.message)
                        }
                        Err(_) => format!("({code}): {body}"),
                    };
                    return Ok(Delivery::Refused(msg));
                }
                Err(ureq::Error::Transport(t)) => why = format!("{board}: {t}"),
            }
        }
        rounds += 1;
        if !more(rounds) {
            return Ok(Delivery::Unavailable(why));
        }
        eprintln!("{why}; retrying in {:.1}s", wait.as_secs_f64());
        std::thread::sleep(wait);
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

/// Checks a board's receipt offline against the log key; returns the
/// checkpoint it proves inclusion in.
fn verify_receipt(
    r: &Receipt,
    bytes: &[u8],
    vkey: &VerifierKey,
) -> Result<tallyboard_core::checkpoint::Checkpoint> {
    let proof = TlogProof::parse(r.receipt.as_bytes())
        .map_err(|e| anyhow!("the board's receipt is malformed: {e}"))?;
    let mut verifiers = Verifiers::new();
    verifiers.add(vkey.clone());
    let cp = proof
        .verify(bytes, vkey.name(), &verifiers)
        .map_err(|e| anyhow!("the board's receipt does not verify: {e}"))?;
    let leaf = tallyboard_core::hash::leaf_hash(bytes);
    if proof.index != r.index || leaf.to_hex() != r.leaf_hash {
        bail!("the board's receipt does not match its answer (index or leaf hash)");
    }
    Ok(cp)
}

fn report(r: &Receipt, cp: &tallyboard_core::checkpoint::Checkpoint, saved: &Path) {
    println!(
        "{} at index {} (leaf {}), included in the signed checkpoint of size {} ({}); receipt verified and saved to {}",
        if r.duplicate { "already logged" } else { "logged" },
        r.index,
        r.leaf_hash,
        r.checkpoint_size,
        cp.root,
        saved.display()
    );
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

/// Runs `submit`.
pub fn run(o: &Options) -> Result<Outcome> {
    if o.urls.is_empty() {
        bail!("give the board's URL with --url");
    }
    if let Some(entries) = bundle(&o.file)? {
        return run_bundle(o, &entries);
    }
    let (bytes, signed_here) = entry_bytes(&o.file, o.key.as_deref())?;
    // Checked before anything is sent: the scan must be the one the tally
    // names, and there must be a key to sign its upload with.
    let minutes = match &o.minutes {
        Some(path) => Some(minutes_upload(&bytes, path, o.key.as_deref())?),
        None => None,
    };
    // Into the outbox before the first byte goes out.
    let kept = match &o.outbox {
        Some(dir) => {
            let ob = Outbox::open(dir)?;
            let leaf = ob.put(&bytes, minutes.as_ref().map(|m| m.bytes.as_slice()))?;
            Some((ob, leaf))
        }
        None => None,
    };
    let agent = agent();
    let vkey = match log_key(o.log_vkey.as_deref(), &o.urls, &agent) {
        Ok(k) => k,
        Err(e) if kept.is_some() => {
            eprintln!("{e:#}");
            return Ok(kept_for_later(o));
        }
        Err(e) => return Err(e),
    };
    let retries = o.retries;
    let (receipt, board) = match deliver(&agent, &o.urls, &bytes, &|n| n <= retries)? {
        Delivery::Receipt(r, b) => (r, b),
        Delivery::Refused(msg) => {
            if let Some((ob, leaf)) = &kept {
                ob.refused(&pending(*leaf, &bytes), &msg)?;
            }
            return Err(Refused(msg).into());
        }
        Delivery::Unavailable(why) if kept.is_some() => {
            eprintln!("{why}");
            return Ok(kept_for_later(o));
        }
        Delivery::Unavailable(why) => bail!("gave up after {} rounds: {why}", retries + 1),
    };
    let cp = verify_receipt(&receipt, &bytes, &vkey)?;
    let out = PathBuf::from(format!("{}.tlog-proof", o.file.display()));
    std::fs::write(&out, receipt.receipt.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    if signed_here {
        let signed = PathBuf::from(format!("{}.signed", o.file.display()));
        std::fs::write(&signed, &bytes).with_context(|| format!("writing {}", signed.display()))?;
    }
    if let Some((ob, leaf)) = &kept {
        ob.sent(&pending(*leaf, &bytes), receipt.receipt.as_bytes())?;
    }
    if let Some(m) = &minutes {
        upload_minutes(&board, &agent, &cp.origin, m)?;
    }
    report(&receipt, &cp, &out);
    Ok(Outcome::Logged(Logged {
        index: receipt.index,
        checkpoint_size: cp.size,
        duplicate: receipt.duplicate,
        receipt: out,
    }))
}

/// The signed entries of `file` if it is an entry bundle (uint16
/// length-prefixed entries, as `enrol batch` and `enrol replace` write)
/// rather than one entry: it is not one signed entry, decodes whole as a
/// bundle, and every entry in it is a signed entry.
fn bundle(file: &Path) -> Result<Option<Vec<Vec<u8>>>> {
    let raw = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if SignedEntry::parse(&raw).is_ok() {
        return Ok(None);
    }
    let Ok(entries) = tallyboard_core::tile::decode_entries(&raw) else {
        return Ok(None);
    };
    // Text read as a bundle is not made of signed entries; it is left to
    // the one-entry path, which says what is wrong with it.
    if !entries.iter().all(|e| SignedEntry::parse(e).is_ok()) {
        return Ok(None);
    }
    Ok(Some(entries.into_iter().map(<[u8]>::to_vec).collect()))
}

/// Sends the entries of a bundle one after another, in order (a
/// replacement's revocation must be logged before its registration),
/// verifying each receipt and saving it as `FILE.receipts/<n>.tlog-proof`.
/// Stops at the first refusal: what was logged stays logged, and running
/// it again is safe (a board answers an entry it holds with its index).
fn run_bundle(o: &Options, entries: &[Vec<u8>]) -> Result<Outcome> {
    if o.outbox.is_some() || o.minutes.is_some() {
        bail!("a bundle of entries is sent without --outbox or --minutes: send its entries in order, as they are");
    }
    let agent = agent();
    let vkey = log_key(o.log_vkey.as_deref(), &o.urls, &agent)?;
    let dir = PathBuf::from(format!("{}.receipts", o.file.display()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let retries = o.retries;
    let mut last = None;
    for (i, bytes) in entries.iter().enumerate() {
        let n = i + 1;
        let receipt = match deliver(&agent, &o.urls, bytes, &|r| r <= retries)? {
            Delivery::Receipt(r, _) => r,
            Delivery::Refused(msg) => bail!(
                "refused {msg} (entry {n} of {}; the {} before it are logged)",
                entries.len(),
                i
            ),
            Delivery::Unavailable(why) => bail!(
                "gave up after {} rounds at entry {n} of {}: {why}",
                retries + 1,
                entries.len()
            ),
        };
        let cp = verify_receipt(&receipt, bytes, &vkey)?;
        let out = dir.join(format!("{n}.tlog-proof"));
        std::fs::write(&out, receipt.receipt.as_bytes())
            .with_context(|| format!("writing {}", out.display()))?;
        report(&receipt, &cp, &out);
        last = Some(Logged {
            index: receipt.index,
            checkpoint_size: cp.size,
            duplicate: receipt.duplicate,
            receipt: out,
        });
    }
    println!(
        "all {} entries of {} logged",
        entries.len(),
        o.file.display()
    );
    // The last entry's receipt stands for the bundle: its checkpoint
    // includes every entry before it.
    last.map(Outcome::Logged)
        .ok_or_else(|| anyhow!("{} holds no entries", o.file.display()))
}

fn pending(leaf: tallyboard_core::Hash, bytes: &[u8]) -> Pending {
    Pending {
        leaf,
        bytes: bytes.to_vec(),
        minutes: None,
    }
}

fn kept_for_later(o: &Options) -> Outcome {
    let dir = o.outbox.as_deref().unwrap_or(Path::new("."));
    println!(
        "no board answered; the signed entry waits in the outbox {}: send it later with \
         `tallyboard outbox --dir {} --url ...`",
        dir.display(),
        dir.display()
    );
    Outcome::Kept
}

/// `tallyboard outbox` options.
pub struct OutboxOptions {
    /// The outbox directory.
    pub dir: PathBuf,
    /// The boards' base URLs, tried in order.
    pub urls: Vec<String>,
    /// The log's verifier key, or a file holding it.
    pub log_vkey: Option<String>,
    /// The station's key, to sign the uploads of minutes scans.
    pub key: Option<PathBuf>,
    /// How long to keep trying before leaving the rest for a later run.
    pub patience: Duration,
}

/// What `tallyboard outbox` did: (logged, refused, still waiting).
pub fn run_outbox(o: &OutboxOptions) -> Result<(usize, usize, usize)> {
    if o.urls.is_empty() {
        bail!("give the board's URL with --url");
    }
    let ob = Outbox::open(&o.dir)?;
    let pending = ob.pending()?;
    if pending.is_empty() {
        println!("the outbox {} is empty", o.dir.display());
        return Ok((0, 0, 0));
    }
    let agent = agent();
    let until = std::time::Instant::now() + o.patience;
    let more = |_: u32| std::time::Instant::now() < until;
    let mut vkey = None;
    let (mut logged, mut refused) = (0, 0);
    for (i, p) in pending.iter().enumerate() {
        if vkey.is_none() {
            // Keep asking for the key as for the entries: a board may come
            // back within the patience given.
            loop {
                match log_key(o.log_vkey.as_deref(), &o.urls, &agent) {
                    Ok(k) => break vkey = Some(k),
                    Err(e) if more(0) => {
                        eprintln!("{e:#}; retrying in 5s");
                        std::thread::sleep(Duration::from_secs(5));
                    }
                    Err(e) => {
                        eprintln!("{e:#}");
                        return Ok((logged, refused, pending.len() - i));
                    }
                }
            }
        }
        let Some(vk) = vkey.as_ref() else { break };
        match deliver(&agent, &o.urls, &p.bytes, &more)? {
            Delivery::Receipt(r, board) => {
                let cp = verify_receipt(&r, &p.bytes, vk)?;
                let saved = ob.sent(p, r.receipt.as_bytes())?;
                report(&r, &cp, &saved);
                if p.minutes.is_some() {
                    let path = saved.with_extension("minutes");
                    let m = minutes_upload(&p.bytes, &path, o.key.as_deref())?;
                    upload_minutes(&board, &agent, &cp.origin, &m)?;
                }
                logged += 1;
            }
            Delivery::Refused(msg) => {
                eprintln!("{}: refused {msg}", p.leaf.to_hex());
                ob.refused(p, &msg)?;
                refused += 1;
            }
            Delivery::Unavailable(why) => {
                eprintln!("{why}");
                return Ok((logged, refused, pending.len() - i));
            }
        }
    }
    Ok((logged, refused, 0))
}
