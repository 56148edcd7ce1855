//! `receipt`: offline verification of a station's receipt (a C2SP
//! tlog-proof) for an entry; and `prove`: making such a receipt from the
//! read path (spec/verification.md §3).

use crate::tiles::{fetch_bundle, fetch_checkpoint, merkle_err, TileFetcher};
use crate::{Error, Finding, LogKey, Report, Result, Source};
use serde::Serialize;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle;
use tallyboard_core::tile::TILE_WIDTH;
use tallyboard_core::tlog_proof::TlogProof;

/// The report of `receipt`.
#[derive(Debug, Serialize)]
pub struct ReceiptReport {
    /// Always `receipt`.
    pub command: &'static str,
    /// Whether the receipt verified.
    pub verified: bool,
    /// The entry's index.
    pub index: u64,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The checkpoint's root (base64).
    pub root: String,
    /// The entry's leaf hash (hex).
    pub leaf: String,
    /// What the entry is (type line and station, if it parses).
    pub entry: String,
    /// Discrepancies.
    pub findings: Vec<Finding>,
}

impl Report for ReceiptReport {
    fn verified(&self) -> bool {
        self.verified
    }
    fn human(&self) -> String {
        let mut s = format!(
            "receipt: {}\n  entry  {}\n  leaf   {}\n  index  {}\n",
            if self.verified { "VERIFIED" } else { "FAILED" },
            self.entry,
            self.leaf,
            self.index
        );
        if self.verified {
            s.push_str(&format!(
                "  in the log's tree of size {} with root {}\n",
                self.size, self.root
            ));
        }
        for f in &self.findings {
            s.push_str(&format!("  {f}\n"));
        }
        s
    }
}

/// A one-line description of an entry for reports.
pub fn describe_entry(bytes: &[u8]) -> String {
    match SignedEntry::parse(bytes) {
        Ok(e) => match &e.entry {
            Entry::Tally(t) => format!(
                "{} station {} contest {} revision {}",
                e.entry.kind().type_line(),
                t.station,
                t.contest,
                t.revision
            ),
            Entry::StationKey(k) => format!("{} station {}", e.entry.kind().type_line(), k.station),
            Entry::StationKeyRevocation(k) => {
                format!("{} station {}", e.entry.kind().type_line(), k.station)
            }
            Entry::ManifestCommitment(m) => format!(
                "{} election {} manifest {}",
                e.entry.kind().type_line(),
                m.election,
                m.manifest_sha256
            ),
            Entry::Approval(a) => format!(
                "{} station {} contest {} index {}",
                e.entry.kind().type_line(),
                a.station,
                a.contest,
                a.index
            ),
            Entry::Annulment(a) => format!(
                "{} station {} contest {} ({})",
                e.entry.kind().type_line(),
                a.station,
                a.contest,
                a.reason_code
            ),
            Entry::ContestApproval(c) => format!(
                "{} contest {} size {}",
                e.entry.kind().type_line(),
                c.contest,
                c.size
            ),
            Entry::Announcement(a) => format!(
                "{} contest {} size {} status {}",
                e.entry.kind().type_line(),
                a.statement.contest,
                a.statement.size,
                a.status.as_str()
            ),
            Entry::LotDraw(l) => format!(
                "{} contest {} among {:?}",
                e.entry.kind().type_line(),
                l.contest,
                l.among
            ),
        },
        Err(e) => format!("(not a tallyboard entry: {e})"),
    }
}

/// Verifies `receipt` for `entry` offline (tlog-proof §"Verification"):
/// leaf hash, checkpoint signature and origin, inclusion proof.
pub fn verify(log: &LogKey, entry: &[u8], receipt: &[u8]) -> Result<ReceiptReport> {
    let mut report = ReceiptReport {
        command: "receipt",
        verified: false,
        index: 0,
        size: 0,
        root: String::new(),
        leaf: leaf_hash(entry).to_hex(),
        entry: describe_entry(entry),
        findings: vec![],
    };
    let proof = match TlogProof::parse(receipt) {
        Ok(p) => p,
        Err(e) => {
            report
                .findings
                .push(Finding::new(e.code().as_str(), format!("receipt: {e}")));
            return Ok(report);
        }
    };
    report.index = proof.index;
    match proof.verify(entry, &log.origin, &log.verifiers()) {
        Ok(cp) => {
            report.verified = true;
            report.size = cp.size;
            report.root = cp.root.to_base64();
        }
        Err(e) => report
            .findings
            .push(Finding::new(e.code().as_str(), format!("receipt: {e}")).at_entry(proof.index)),
    }
    Ok(report)
}

/// Makes a receipt for the entry at `index` from the read path: verifies
/// the checkpoint, reads the entry from its bundle, derives the inclusion
/// proof from tiles and checks it against the checkpoint before returning
/// `(entry bytes, receipt bytes)`.
pub fn prove(src: &dyn Source, log: &LogKey, index: u64) -> Result<(Vec<u8>, Vec<u8>)> {
    let cp = fetch_checkpoint(src, log)?;
    let size = cp.checkpoint.size;
    if index >= size {
        return Err(Error::CouldNotRun(format!(
            "index {index} is not below the checkpoint's size {size}"
        )));
    }
    let width = u64::from(TILE_WIDTH);
    let (_, entries) = fetch_bundle(src, index / width, size)?;
    let entry = entries[(index % width) as usize].clone();
    let tiles = TileFetcher::new(src, size);
    let path = merkle::prove_inclusion(index, size, &tiles).map_err(merkle_err)?;
    merkle::verify_inclusion(&leaf_hash(&entry), index, size, &path, &cp.checkpoint.root).map_err(
        |e| {
            Finding::new(
                e.code().as_str(),
                format!("entry {index}: the proof derived from the tiles does not verify: {e}"),
            )
            .at_entry(index)
        },
    )?;
    let receipt = TlogProof {
        extra: None,
        index,
        proof: path,
        checkpoint: cp.bytes,
    };
    Ok((entry, receipt.to_bytes()))
}
