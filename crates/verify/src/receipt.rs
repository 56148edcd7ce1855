//! `receipt`: offline verification of a station's receipt (a C2SP
//! tlog-proof) for an entry; and `prove`: making such a receipt from the
//! read path (spec/verification.md §3). The receipt's checkpoint is opened
//! by the procedure's checkpoint step, with the witness policy if given.

use crate::entry_fields::{entry_fields, station_of};
use crate::procedure::checkpoint::{fetch_checkpoint, open, witnesses};
use crate::procedure::facts::{EntryFact, EntryFacts, Facts};
use crate::procedure::{Check, CheckId, Trust, Verification};
use crate::tiles::{fetch_bundle, merkle_err, TileFetcher};
use crate::{english, Error, Finding, LogKey, Report, Result, Source};
use serde::Serialize;
use tallyboard_core::entry::SignedEntry;
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle;
use tallyboard_core::policy::Policy;
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
    /// The entry's fields, if it parses as a tallyboard entry (else null).
    pub entry: serde_json::Value,
    /// The procedure's checks.
    pub checks: Vec<Check>,
    /// Discrepancies.
    pub findings: Vec<Finding>,
}

impl Report for ReceiptReport {
    fn verified(&self) -> bool {
        self.verified
    }
    fn human(&self) -> String {
        let field = |k: &str| self.entry.get(k).map(ToString::to_string);
        let what = match field("type") {
            Some(t) => [
                ("station", field("station")),
                ("contest", field("contest")),
                ("revision", field("revision")),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!(" {k} {v}")))
            .fold(t, |s, part| s + &part),
            None => "(not a tallyboard entry)".into(),
        };
        let mut s = format!(
            "receipt: {}\n  entry  {what}\n  leaf   {}\n  index  {}\n",
            if self.verified { "VERIFIED" } else { "FAILED" },
            self.leaf,
            self.index
        );
        if self.verified {
            s.push_str(&format!(
                "  in the log's tree of size {} with root {}\n",
                self.size, self.root
            ));
        }
        s.push_str(&english::lines(&self.checks));
        s
    }
}

/// Verifies `receipt` for `entry` offline, without a witness policy.
pub fn verify(log: &LogKey, entry: &[u8], receipt: &[u8]) -> Result<ReceiptReport> {
    verify_with_policy(log, None, entry, receipt)
}

/// Verifies `receipt` for `entry` offline (tlog-proof §"Verification"):
/// the checkpoint's log signature and origin, with a policy the witness
/// quorum on it, then the inclusion proof of the entry's leaf hash.
pub fn verify_with_policy(
    log: &LogKey,
    policy: Option<&Policy>,
    entry: &[u8],
    receipt: &[u8],
) -> Result<ReceiptReport> {
    let parsed = SignedEntry::parse(entry).ok();
    let leaf = leaf_hash(entry);
    let mut fact = EntryFact {
        leaf: Some(leaf.to_hex()),
        kind: parsed
            .as_ref()
            .map(|p| p.entry.kind().type_line().to_string()),
        ..EntryFact::default()
    };
    let station = parsed
        .as_ref()
        .and_then(|p| station_of(&p.entry))
        .unwrap_or_default()
        .to_string();
    let mut v = Verification::planned(vec![
        CheckId::CheckpointSignature,
        CheckId::WitnessCosignatures,
        CheckId::EntryInclusion,
    ]);
    let facts = |fact: EntryFact| {
        Facts::Entries(EntryFacts {
            station: station.clone(),
            entries: vec![fact],
        })
    };
    let trust = Trust {
        log,
        policy,
        key_source: None,
        committed_policy: false,
    };
    match TlogProof::parse(receipt) {
        Err(e) => {
            v.fail(
                CheckId::EntryInclusion,
                e.code().as_str(),
                facts(fact.clone()),
            );
            v.skip_rest(CheckId::EntryInclusion);
        }
        Ok(proof) => {
            fact.index = proof.index;
            if let Some(cp) = open(&mut v, &proof.checkpoint, log, "receipt") {
                witnesses(&mut v, &cp, &trust, &[]);
                let (size, root) = (cp.checkpoint.size, &cp.checkpoint.root);
                fact.size = Some(size);
                fact.proof_hashes = Some(proof.proof.len());
                let verdict = if proof.index >= size {
                    Err("proof.out-of-range")
                } else {
                    merkle::verify_inclusion(&leaf, proof.index, size, &proof.proof, root)
                        .map_err(|e| e.code().as_str())
                };
                match verdict {
                    Ok(()) => v.pass(CheckId::EntryInclusion, facts(fact.clone())),
                    Err(code) => {
                        fact.code = Some(code.to_string());
                        v.fail(CheckId::EntryInclusion, code, facts(fact.clone()));
                    }
                }
            }
        }
    }
    let v = v.finish();
    Ok(ReceiptReport {
        command: "receipt",
        verified: v.verified,
        index: fact.index,
        size: v.size,
        root: v.root.clone(),
        leaf: leaf.to_hex(),
        entry: parsed
            .map(|p| entry_fields(&p.entry))
            .unwrap_or(serde_json::Value::Null),
        findings: english::findings(&v.checks),
        checks: v.checks,
    })
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
