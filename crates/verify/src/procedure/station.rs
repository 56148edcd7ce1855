//! The station step (spec/verification.md §4, spec/browser-verification.md
//! §3): every entry claimed to be a station's is proven included with a
//! proof computed from the authenticated tiles, must name the station, and
//! must carry a valid signature by the key its kind requires
//! (spec/validation.md §1 step 6, `validate::role_signer`): the authority
//! for key registrations and revocations, a supervisor of the manifest for
//! approvals and annulments, and for tallies the station's key in force
//! before the entry ([`KeyHistory`]). Tallies must also add up.
//!
//! The command line's `inclusion` claims every entry its scan found; a
//! station page claims the entry it shows and the key entries the board
//! lists before it. The checks are the same.

use super::facts::{EntryFact, EntryFacts, Facts, Figures};
use super::key_history::{KeyHistory, KeyInForce};
use super::{CheckId, Verification};
use crate::entry_fields::{entry_fields, station_of};
use crate::tiles::ServedEntry;
use serde::Serialize;
use tallyboard_core::checkpoint::Checkpoint;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::error::Coded;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{prove_inclusion, verify_inclusion};
use tallyboard_core::tile::TileHashReader;
use tallyboard_core::validate::{role_signer, verify_signature};

/// The code of an entry that is not the verified station's.
pub const OTHER_STATION: &str = "station.other-station";

/// The code of a station with no tally in the log (command line scope).
pub const NO_TALLY: &str = "station.no-tally";

/// The entries claimed to be one station's.
#[derive(Clone, Debug)]
pub struct StationClaims {
    /// The station.
    pub station: String,
    /// The entry a page shows; `None` when the claims are every entry of
    /// the station (the command line's scan), and then at least one tally
    /// is required.
    pub focus: Option<u64>,
    /// The entries claimed to be the station's key registrations and
    /// revocations.
    pub key_entries: Vec<ServedEntry>,
    /// The station's other entries (tallies, revisions, approvals,
    /// annulments), or the one a page shows.
    pub entries: Vec<ServedEntry>,
}

impl StationClaims {
    /// Every index claimed.
    pub fn indexes(&self) -> Vec<u64> {
        self.key_entries
            .iter()
            .chain(&self.entries)
            .map(|e| e.index)
            .collect()
    }
}

/// One of the station's entries, as verified.
#[derive(Clone, Debug, Serialize)]
pub struct StationEntry {
    /// Its index in the log.
    pub index: u64,
    /// Its leaf hash, computed here (hex; empty if it could not be read).
    pub leaf: String,
    /// Its type line (empty if it does not parse).
    pub kind: String,
    /// Whether its inclusion proof, computed from the tiles, verified.
    pub included: bool,
    /// `valid`, `invalid`, or `unchecked` (not included, or not parsed).
    pub signature: &'static str,
    /// The role whose key must sign it (`authority`, `supervisor`, `station`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// The name of the key that must sign it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// For a station's signature: the index of the key's registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_index: Option<u64>,
    /// The stable code of the first thing that does not hold for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Its fields ([`entry_fields`]): the figures of a tally.
    pub entry: serde_json::Value,
}

impl StationEntry {
    /// The fields with the entry's index and leaf hash, as a page shows them.
    pub fn shown(&self) -> serde_json::Value {
        let mut v = self.entry.clone();
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("index".into(), self.index.into());
            m.insert("leaf_hash".into(), self.leaf.clone().into());
        }
        v
    }

    fn fact(&self) -> EntryFact {
        EntryFact {
            index: self.index,
            kind: (!self.kind.is_empty()).then(|| self.kind.clone()),
            leaf: (!self.leaf.is_empty()).then(|| self.leaf.clone()),
            ..EntryFact::default()
        }
    }

    fn failed(&mut self, code: &str) {
        self.code.get_or_insert_with(|| code.to_string());
    }
}

/// Proves `bytes` included at `index` in the signed tree, with a proof
/// computed from the tiles. Returns the proof's length, or the code.
pub fn prove(
    reader: &TileHashReader,
    bytes: &[u8],
    index: u64,
    cp: &Checkpoint,
) -> Result<usize, &'static str> {
    let proof = prove_inclusion(index, cp.size, reader).map_err(|e| e.code().as_str())?;
    verify_inclusion(&leaf_hash(bytes), index, cp.size, &proof, &cp.root)
        .map_err(|e| e.code().as_str())?;
    Ok(proof.len())
}

/// An entry that is included and parses, with its row.
struct Included {
    row: StationEntry,
    signed: SignedEntry,
    proof_hashes: usize,
}

/// Reads, proves and parses one claimed entry. On failure the row says why.
fn include(
    reader: &TileHashReader,
    cp: &Checkpoint,
    served: &ServedEntry,
) -> Result<Included, Box<StationEntry>> {
    let mut row = StationEntry {
        index: served.index,
        leaf: String::new(),
        kind: String::new(),
        included: false,
        signature: "unchecked",
        role: None,
        signer: None,
        key_index: None,
        code: None,
        entry: serde_json::Value::Null,
    };
    let bytes = match &served.bytes {
        Ok(b) => b,
        Err(f) => {
            row.failed(&f.code);
            return Err(Box::new(row));
        }
    };
    row.leaf = leaf_hash(bytes).to_hex();
    let proof_hashes = match prove(reader, bytes, served.index, cp) {
        Ok(n) => n,
        Err(code) => {
            row.failed(code);
            return Err(Box::new(row));
        }
    };
    row.included = true;
    match SignedEntry::parse(bytes) {
        Ok(signed) => {
            row.kind = signed.entry.kind().type_line().to_string();
            row.entry = entry_fields(&signed.entry);
            Ok(Included {
                row,
                signed,
                proof_hashes,
            })
        }
        Err(e) => {
            row.failed(e.code().as_str());
            Err(Box::new(row))
        }
    }
}

/// Checks the signature of an included entry with the key its kind
/// requires, filling the row's signature fields. Returns the fact.
fn sign_check(inc: &mut Included, manifest: &ValidatedManifest, history: &KeyHistory) -> EntryFact {
    let row = &mut inc.row;
    let mut fact = row.fact();
    let key = match role_signer(&inc.signed, manifest) {
        Ok(Some(k)) => {
            row.role = Some(if k == *manifest.authority() {
                "authority"
            } else {
                "supervisor"
            });
            Ok(k)
        }
        Ok(None) => {
            row.role = Some("station");
            match history.in_force(row.index) {
                KeyInForce::Key { registered, key } => {
                    row.key_index = Some(registered);
                    Ok(key.clone())
                }
                other => Err(other.refusal().unwrap_or("station.key-not-registered")),
            }
        }
        // Only supervisor entries have no signer: none of the manifest's
        // supervisors has a signature line on them.
        Err(e) => {
            row.role = Some("supervisor");
            Err(e.code().as_str())
        }
    };
    let verdict = key.and_then(|k| {
        row.signer = Some(k.name().to_string());
        verify_signature(&inc.signed, &k).map_err(|e| e.code().as_str())
    });
    row.signature = if verdict.is_ok() { "valid" } else { "invalid" };
    if let Err(code) = verdict {
        row.failed(code);
        fact.code = Some(code.to_string());
    }
    fact.role = row.role;
    fact.signer = row.signer.clone();
    fact.key_index = row.key_index;
    fact
}

/// Runs the station's checks over `claims` and records them; returns the
/// rows, in log order.
pub fn station(
    v: &mut Verification,
    reader: &TileHashReader,
    cp: &Checkpoint,
    manifest: &ValidatedManifest,
    claims: &StationClaims,
) -> Vec<StationEntry> {
    let station = claims.station.as_str();
    let facts = |entries: Vec<EntryFact>| {
        Facts::Entries(EntryFacts {
            station: station.to_string(),
            entries,
        })
    };
    let mut key_entries = claims.key_entries.clone();
    key_entries.sort_by_key(|e| e.index);
    let mut entries = claims.entries.clone();
    entries.sort_by_key(|e| e.index);
    let mut rows = Vec::new();

    // a. The key entries: included, the station's, signed by the authority.
    let mut history = KeyHistory::new();
    let (mut incl_ok, mut incl_bad, mut sig_facts) = (vec![], vec![], vec![]);
    let mut registered = false;
    for served in &key_entries {
        let mut inc = match include(reader, cp, served) {
            Ok(inc) => inc,
            Err(row) => {
                incl_bad.push(code_fact(&row));
                rows.push(*row);
                continue;
            }
        };
        let is_key_entry = matches!(
            inc.signed.entry,
            Entry::StationKey(_) | Entry::StationKeyRevocation(_)
        );
        let named = station_of(&inc.signed.entry);
        if !is_key_entry || named != Some(station) {
            inc.row.failed(OTHER_STATION);
            let mut f = code_fact(&inc.row);
            f.station = named.map(str::to_string);
            incl_bad.push(f);
            rows.push(inc.row);
            continue;
        }
        registered |= matches!(inc.signed.entry, Entry::StationKey(_));
        let mut fact = inc.row.fact();
        fact.proof_hashes = Some(inc.proof_hashes);
        fact.size = Some(cp.size);
        incl_ok.push(fact);
        let fact = sign_check(&mut inc, manifest, &history);
        if fact.code.is_none() {
            history.record(inc.row.index, &inc.signed.entry);
        }
        sig_facts.push(fact);
        rows.push(inc.row);
    }

    // b. The other entries: included, the station's, signed by their role.
    let (mut e_ok, mut e_bad, mut e_sig, mut arith) = (vec![], vec![], vec![], vec![]);
    let mut tallies = 0;
    for served in &entries {
        let mut inc = match include(reader, cp, served) {
            Ok(inc) => inc,
            Err(row) => {
                e_bad.push(code_fact(&row));
                rows.push(*row);
                continue;
            }
        };
        let named = station_of(&inc.signed.entry);
        if !station.is_empty() && named != Some(station) {
            inc.row.failed(OTHER_STATION);
            let mut f = code_fact(&inc.row);
            f.station = named.map(str::to_string);
            e_bad.push(f);
            rows.push(inc.row);
            continue;
        }
        let mut fact = inc.row.fact();
        fact.proof_hashes = Some(inc.proof_hashes);
        fact.size = Some(cp.size);
        e_ok.push(fact);
        e_sig.push(sign_check(&mut inc, manifest, &history));
        if let Entry::Tally(t) = &inc.signed.entry {
            tallies += 1;
            let mut fact = inc.row.fact();
            fact.contest = Some(t.contest.clone());
            fact.figures = Some(Figures {
                counterfoils: t.counterfoils,
                ballots_in_box: t.ballots_in_box,
                votes_taken: t.votes_taken,
                void_taken: t.void_taken,
                void_not_taken: t.void_not_taken,
                valid: t.valid,
            });
            let seats = manifest.contest(&t.contest).map(|c| c.seats);
            let verdict = match seats {
                None => Err("contest.unknown"),
                Some(seats) => t.check_arithmetic(seats).map_err(|e| e.code().as_str()),
            };
            if let Err(code) = verdict {
                inc.row.failed(code);
                fact.code = Some(code.to_string());
            }
            arith.push(fact);
        } else {
            arith.push(inc.row.fact());
        }
        rows.push(inc.row);
    }
    rows.sort_by_key(|r| r.index);

    // c. The checks.
    use CheckId::*;
    let needs_key = tallies > 0 || !key_entries.is_empty();
    if let Some(code) = first_code(&incl_bad) {
        v.fail(RegistrationInclusion, code, facts(incl_bad));
        v.skip(&[RegistrationSignature], RegistrationInclusion);
    } else if needs_key && !registered {
        v.fail(
            RegistrationInclusion,
            "station.key-not-registered",
            facts(vec![]),
        );
        v.skip(&[RegistrationSignature], RegistrationInclusion);
    } else if key_entries.is_empty() {
        v.info(RegistrationInclusion, facts(vec![]));
        v.info(RegistrationSignature, facts(vec![]));
    } else {
        v.pass(RegistrationInclusion, facts(incl_ok));
        record_all(v, RegistrationSignature, sig_facts, facts);
    }
    if claims.focus.is_none() && e_bad.is_empty() && tallies == 0 {
        e_bad.push(EntryFact {
            code: Some(NO_TALLY.into()),
            ..EntryFact::default()
        });
    }
    if let Some(code) = first_code(&e_bad) {
        v.fail(EntryInclusion, code, facts(e_bad));
        v.skip(&[EntrySignature, Arithmetic], EntryInclusion);
        return rows;
    }
    v.pass(EntryInclusion, facts(e_ok));
    record_all(v, EntrySignature, e_sig, facts);
    if tallies == 0 {
        v.info(Arithmetic, facts(arith));
    } else {
        arith.retain(|f| f.figures.is_some());
        record_all(v, Arithmetic, arith, facts);
    }
    rows
}

/// The fact of an entry that failed, with its code.
fn code_fact(row: &StationEntry) -> EntryFact {
    EntryFact {
        code: row.code.clone(),
        ..row.fact()
    }
}

fn first_code(facts: &[EntryFact]) -> Option<String> {
    facts.iter().find_map(|f| f.code.clone())
}

/// Records `id` as passed if no fact has a code, else as failed with the
/// first code and only the facts that failed.
fn record_all(
    v: &mut Verification,
    id: CheckId,
    all: Vec<EntryFact>,
    facts: impl Fn(Vec<EntryFact>) -> Facts,
) {
    match first_code(&all) {
        None => v.pass(id, facts(all)),
        Some(code) => {
            let failed = all.into_iter().filter(|f| f.code.is_some()).collect();
            v.fail(id, code, facts(failed));
        }
    }
}
