//! Offline import of signed entries, the synthetic election writer and the
//! offline demo.
//!
//! Entries are prepared (parsed, signatures checked with `verify_strict`) on
//! all cores with rayon, then appended by the single writer in batches: one
//! durable write and one checkpoint per batch (group commit).

use crate::board::{self, Board, Outcome};
use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tallyboard_core::error::Coded;
use tallyboard_synth::{Config, SyntheticElection};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportStats {
    /// Entries appended.
    pub appended: u64,
    /// Entries already in the log (idempotent resubmission).
    pub duplicates: u64,
    /// Entries refused.
    pub rejected: u64,
    /// Durable writes (group commits).
    pub batches: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl fmt::Display for ImportStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "appended {}, already logged {}, refused {}, in {} durable batches, {:.2} s",
            self.appended,
            self.duplicates,
            self.rejected,
            self.batches,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Imports entries from memory in batches of `batch`, pipelined: while a
/// writer thread appends batch k (validation, one durable write, one
/// checkpoint), the rayon pool parses and signature-checks batch k+1. The
/// keys for batch k+1 are looked up before batch k is applied; if batch k
/// changes a key the writer notices and re-verifies (`Board::append`).
pub fn import_entries(
    board: &mut Board,
    entries: &[Vec<u8>],
    batch: usize,
    progress: Option<&ProgressBar>,
) -> Result<ImportStats> {
    let start = Instant::now();
    let trace = std::env::var_os("TALLYBOARD_TRACE_BATCHES").is_some();
    let mut stats = ImportStats::default();
    let mut pending: Option<(Vec<board::Prepared>, usize)> = None;
    let mut chunks = entries.chunks(batch.max(1));
    loop {
        let chunk = chunks.next();
        let t0 = Instant::now();
        // Parse in parallel, then look the signers up against the current state.
        let parsed: Vec<_> = chunk
            .unwrap_or(&[])
            .par_iter()
            .map(|b| board::parse(b))
            .collect();
        let keys: Vec<_> = parsed
            .iter()
            .map(|p| p.as_ref().ok().and_then(|s| board.signer_for(s)))
            .collect();
        let mut appended = None;
        let mut prepared = Vec::new();
        std::thread::scope(|scope| -> Result<()> {
            let writer = pending.take().map(|(items, n)| {
                let b = &mut *board;
                scope.spawn(move || (b.append(items), n))
            });
            prepared = parsed
                .into_par_iter()
                .zip(keys)
                .map(|(p, k)| p.map(|s| board::verify_with(s, k)))
                .collect();
            if let Some(w) = writer {
                appended = Some(w.join().map_err(|_| anyhow!("writer thread panicked"))?);
            }
            Ok(())
        })?;
        if let Some((outcomes, n)) = appended {
            for outcome in outcomes? {
                tally(&mut stats, outcome);
            }
            stats.batches += 1;
            if let Some(pb) = progress {
                pb.inc(n as u64);
            }
        }
        if trace {
            eprintln!("pipeline step: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
        }
        let Some(chunk) = chunk else { break };
        let mut ok = Vec::with_capacity(prepared.len());
        for p in prepared {
            match p {
                Ok(p) => ok.push(p),
                Err(e) => {
                    stats.rejected += 1;
                    eprintln!("refused: {} {}", e.code(), e.message());
                }
            }
        }
        pending = Some((ok, chunk.len()));
    }
    stats.elapsed = start.elapsed();
    Ok(stats)
}

fn tally(stats: &mut ImportStats, outcome: Outcome) {
    match outcome {
        Outcome::Appended { .. } => stats.appended += 1,
        Outcome::Duplicate { .. } => stats.duplicates += 1,
        Outcome::Rejected(e) => {
            stats.rejected += 1;
            eprintln!("refused: {} {}", e.code(), e.message());
        }
    }
}

/// Reads entry bundle files (uint16 big-endian length-prefixed entries,
/// the C2SP tlog-tiles bundle encoding) and imports them, streaming: at most
/// one batch of entries is in memory at a time, so importing a large file
/// does not inflate the board's memory.
pub fn import_files(
    board: &mut Board,
    files: &[PathBuf],
    batch: usize,
    show: bool,
) -> Result<ImportStats> {
    use std::io::Read;
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let pb = show.then(|| progress_bar(total, "bytes"));
    let mut stats = ImportStats::default();
    let start = Instant::now();
    for f in files {
        let file = std::fs::File::open(f).with_context(|| format!("reading {}", f.display()))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, file);
        let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(batch);
        let mut offset = 0u64;
        loop {
            let mut len = [0u8; 2];
            match r.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e.into()),
            }
            let n = usize::from(u16::from_be_bytes(len));
            let mut entry = vec![0u8; n];
            r.read_exact(&mut entry)
                .with_context(|| format!("{}: truncated entry at byte {offset}", f.display()))?;
            offset += 2 + n as u64;
            chunk.push(entry);
            if chunk.len() >= batch.max(1) {
                let s = import_entries(board, &chunk, batch, None)?;
                add(&mut stats, &s);
                if let Some(pb) = &pb {
                    pb.inc(chunk.iter().map(|e| e.len() as u64 + 2).sum());
                }
                chunk.clear();
            }
        }
        if !chunk.is_empty() {
            let s = import_entries(board, &chunk, batch, None)?;
            add(&mut stats, &s);
        }
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    stats.elapsed = start.elapsed();
    Ok(stats)
}

/// Adds one import's counts to a running total.
pub fn add(total: &mut ImportStats, s: &ImportStats) {
    total.appended += s.appended;
    total.duplicates += s.duplicates;
    total.rejected += s.rejected;
    total.batches += s.batches;
}

/// Encodes entries for `import`: each entry prefixed by its length as a
/// big-endian u16, like a C2SP tlog-tiles entry bundle but of any count
/// (a bundle on the read path holds at most 256).
pub fn encode_entries_file<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len())
            .map_err(|_| anyhow!("an entry of {} bytes is over 65,535", e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// A progress bar on stderr.
pub fn progress_bar(len: u64, msg: &'static str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg);
    pb
}

/// Every entry of a synthetic election, in log order: the manifest
/// commitment, the station key registrations, then the tallies.
pub fn synthetic_entries(e: &SyntheticElection) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let n = e.station_count();
    let setup = setup_entries(e, e.commitment_entry());
    // Every station's tallies, its presidential one first (with the
    // Majlis election, two per station).
    let tallies = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| e.signed_tallies(i))
        .collect();
    (setup, tallies)
}

/// The manifest commitment `commitment`, then every station's key
/// registration: what a synthetic board holds before election day (the
/// demo's rounds and `synth` alike).
pub(crate) fn setup_entries(e: &SyntheticElection, commitment: Vec<u8>) -> Vec<Vec<u8>> {
    let mut setup = vec![commitment];
    setup.extend(
        (0..e.station_count())
            .into_par_iter()
            .map(|i| e.registration_entry(i))
            .collect::<Vec<_>>(),
    );
    setup
}

/// A station's id and one of its minutes images.
pub type StationImage = (String, tallyboard_synth::MinutesImage);

/// The synthetic election's entries as [`synthetic_entries`], but with
/// tallies that commit to their synthetic minutes images
/// (`SyntheticElection::signed_tallies_with_minutes`), and the images, in
/// the tallies' order.
pub fn synthetic_entries_with_minutes(
    e: &SyntheticElection,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<StationImage>) {
    let n = e.station_count();
    let setup = setup_entries(e, e.commitment_entry_with_root());
    let (tallies, images): (Vec<_>, Vec<_>) = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            let station = e.station_id(i).to_string();
            e.signed_tallies_with_minutes(i)
                .into_iter()
                .map(move |(t, m)| (t, (station.clone(), m)))
        })
        .unzip();
    (setup, tallies, images)
}

/// Writes each minutes image as `<dir>/<sha256>.png` and
/// `<dir>/uploads.tsv`, one line per image: SHA-256, station, the
/// station's upload signature (`X-Tallyboard-Signature`), file name; what
/// a station's device sends to `POST /api/v1/blobs` (spec/http-api.md
/// §1.3). Returns the images' total size.
pub fn write_minutes(dir: &Path, images: &[StationImage]) -> Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut tsv = String::new();
    let mut total = 0u64;
    for (station, m) in images {
        let name = format!("{}.png", m.sha256.to_hex());
        std::fs::write(dir.join(&name), &m.png)?;
        total += m.png.len() as u64;
        tsv.push_str(&format!(
            "{}\t{station}\t{}\t{name}\n",
            m.sha256.to_hex(),
            m.signature
        ));
    }
    std::fs::write(dir.join("uploads.tsv"), tsv)?;
    Ok(total)
}

/// `tallyboard synth`: writes manifest.json, entries.bundle and the
/// minutes images (minutes/).
pub fn write_synthetic(out: &Path, stations: usize, seed: u64, majlis: bool) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let e = SyntheticElection::generate(Config {
        seed,
        stations,
        majlis,
    });
    std::fs::write(out.join("manifest.json"), e.manifest_bytes())?;
    let t0 = Instant::now();
    let (setup, tallies, images) = synthetic_entries_with_minutes(&e);
    let file = encode_entries_file(setup.iter().chain(tallies.iter()).map(Vec::as_slice))?;
    std::fs::write(out.join("entries.bundle"), file)?;
    let bytes = write_minutes(&out.join("minutes"), &images)?;
    eprintln!(
        "wrote manifest.json (sha256 {}), {} entries and {} minutes images ({} bytes, minutes/uploads.tsv) to {} in {:.1} s",
        e.manifest().digest(),
        setup.len() + tallies.len(),
        images.len(),
        bytes,
        out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The offline demo: a national election imported durably, checkpoint printed.
pub fn demo(stations: usize, seed: u64, data: Option<PathBuf>, majlis: bool) -> Result<()> {
    let tmp;
    let dir = match data {
        Some(d) => d,
        None => {
            tmp = tempdir()?;
            tmp.clone()
        }
    };
    let t0 = Instant::now();
    let e = SyntheticElection::generate(Config {
        seed,
        stations,
        majlis,
    });
    let log_key = tallyboard_synth::keys::role_key("log").ok_or_else(|| anyhow!("no log role"))?;
    let (setup, tallies) = synthetic_entries(&e);
    eprintln!(
        "generated {} stations, {} signed entries in {:.2} s",
        stations,
        setup.len() + tallies.len(),
        t0.elapsed().as_secs_f64()
    );
    let mut b = if crate::store::exists(&dir) {
        Board::open(&dir, log_key)?
    } else {
        Board::create(&dir, e.manifest_bytes(), log_key)?
    };
    let pb = progress_bar(setup.len() as u64, "keys");
    let s1 = import_entries(&mut b, &setup, 1024, Some(&pb))?;
    pb.finish_and_clear();
    let pb = progress_bar(tallies.len() as u64, "tallies");
    let s2 = import_entries(&mut b, &tallies, 1024, Some(&pb))?;
    pb.finish_and_clear();
    if s1.rejected + s2.rejected > 0 {
        bail!("{} entries were refused", s1.rejected + s2.rejected);
    }
    eprintln!("registrations: {s1}");
    eprintln!(
        "tallies:       {s2} ({:.0} tallies/s)",
        tallies.len() as f64 / s2.elapsed.as_secs_f64()
    );
    eprintln!("store: {} (tree size {})", dir.display(), b.size());
    eprintln!("log verifier key: {}", b.manifest().log_key());
    print!("{}", String::from_utf8_lossy(&b.latest().bytes));
    Ok(())
}

fn tempdir() -> Result<PathBuf> {
    let base = std::env::temp_dir().join(format!("tallyboard-demo-{}", std::process::id()));
    if base.exists() {
        std::fs::remove_dir_all(&base)?;
    }
    std::fs::create_dir_all(&base)?;
    Ok(base)
}
