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

use super::facts::{EntryFact, EntryFacts, Facts, RequiredKey};
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
use tallyboard_core::merkle::{prove_inclusion, verify_inclusion, HashReader};
use tallyboard_core::note::VerifierKey;
use tallyboard_core::state::RoleKeys;
use tallyboard_core::tile::TileHashReader;
use tallyboard_core::validate::{role_signers, Signers};

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
    /// The key it must be signed with (once it is included and parses).
    #[serde(flatten)]
    pub required: Option<RequiredKey>,
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
/// computed from `hashes` (the authenticated tiles, or any other stored
/// hashes). Returns the proof's length, or the code.
pub fn prove<R>(
    hashes: &R,
    bytes: &[u8],
    index: u64,
    cp: &Checkpoint,
) -> Result<usize, &'static str>
where
    R: HashReader + ?Sized,
    R::Error: Coded,
{
    let proof = prove_inclusion(index, cp.size, hashes).map_err(|e| e.code().as_str())?;
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
        required: None,
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

/// Checks the signature of an included entry with the keys its kind
/// requires (`validate::role_signers` over the manifest's role keys: a
/// single entry's check holds no replayed state, so an entry signed by a
/// key rotated in later is for the audit to check; for a tally, the
/// station's key in force before it), filling the row. Returns the fact.
fn sign_check(inc: &mut Included, manifest: &ValidatedManifest, history: &KeyHistory) -> EntryFact {
    let row = &mut inc.row;
    let required = |role, key: Option<&VerifierKey>, key_index| RequiredKey {
        role,
        signer: key.map(|k| k.name().to_string()),
        key_index,
    };
    let (key, refusal) = match role_signers(&inc.signed, &RoleKeys::from_manifest(manifest)) {
        Ok(Some(signers)) => {
            let role = match signers.keys() {
                [k] if k == manifest.authority() => "authority",
                [_] => "supervisor",
                _ => "authority and supervisor",
            };
            let mut req = required(role, signers.keys().first(), None);
            req.signer = Some(
                signers
                    .keys()
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            row.required = Some(req);
            (Some(signers), None)
        }
        Ok(None) => match history.in_force(row.index) {
            KeyInForce::Key { registered, key } => {
                row.required = Some(required("station", Some(key), Some(registered)));
                (Some(Signers::one(key.clone())), None)
            }
            other => {
                row.required = Some(required("station", None, None));
                (None, other.refusal())
            }
        },
        // Only supervisor entries have no signer: none of the manifest's
        // supervisors has a signature line on them.
        Err(e) => {
            row.required = Some(required("supervisor", None, None));
            (None, Some(e.code().as_str()))
        }
    };
    let verdict = match (key, refusal) {
        (Some(signers), _) => signers.verify(&inc.signed).map_err(|e| e.code().as_str()),
        (None, code) => Err(code.unwrap_or("station.key-not-registered")),
    };
    let mut fact = row.fact();
    fact.required = row.required.clone();
    row.signature = if verdict.is_ok() { "valid" } else { "invalid" };
    if let Err(code) = verdict {
        row.failed(code);
        fact.code = Some(code.to_string());
    }
    fact
}

/// What became of a claimed entry: admitted to the signature checks with
/// the fact of its inclusion, or refused with its row and the fact of why.
enum Admission {
    /// Boxed: an included entry holds its parsed note.
    Admitted(Box<Included>, EntryFact),
    Refused(StationEntry, EntryFact),
}

/// Reads, proves and parses a claimed entry, and checks that it is the
/// station's (and, where a key entry was claimed, a key entry:
/// `station.other-station` otherwise).
fn admit(
    reader: &TileHashReader,
    cp: &Checkpoint,
    served: &ServedEntry,
    station: &str,
    key_entry: bool,
) -> Admission {
    let mut inc = match include(reader, cp, served) {
        Ok(inc) => inc,
        Err(row) => {
            let fact = code_fact(&row);
            return Admission::Refused(*row, fact);
        }
    };
    let named = station_of(&inc.signed.entry);
    let is_key_entry = matches!(
        inc.signed.entry,
        Entry::StationKey(_) | Entry::StationKeyRevocation(_)
    );
    let theirs = if key_entry {
        is_key_entry && named == Some(station)
    } else {
        station.is_empty() || named == Some(station)
    };
    if !theirs {
        inc.row.failed(OTHER_STATION);
        let fact = EntryFact {
            station: named.map(str::to_string),
            ..code_fact(&inc.row)
        };
        return Admission::Refused(inc.row, fact);
    }
    let fact = EntryFact {
        proof_hashes: Some(inc.proof_hashes),
        size: Some(cp.size),
        ..inc.row.fact()
    };
    Admission::Admitted(Box::new(inc), fact)
}

/// The key entries as checked: the station's key history (from those
/// that pass), and the facts of each check.
#[derive(Default)]
struct KeyEntries {
    history: KeyHistory,
    included: Vec<EntryFact>,
    refused: Vec<EntryFact>,
    signatures: Vec<EntryFact>,
    registered: bool,
}

/// The key entries claimed: included, the station's key entries, signed by
/// the authority. Those that pass make the key history.
fn key_entries(
    reader: &TileHashReader,
    cp: &Checkpoint,
    manifest: &ValidatedManifest,
    station: &str,
    claimed: &[ServedEntry],
    rows: &mut Vec<StationEntry>,
) -> KeyEntries {
    let mut out = KeyEntries::default();
    for served in claimed {
        let (mut inc, fact) = match admit(reader, cp, served, station, true) {
            Admission::Admitted(inc, fact) => (*inc, fact),
            Admission::Refused(row, fact) => {
                out.refused.push(fact);
                rows.push(row);
                continue;
            }
        };
        out.registered |= matches!(inc.signed.entry, Entry::StationKey(_));
        out.included.push(fact);
        let fact = sign_check(&mut inc, manifest, &out.history);
        if fact.code.is_none() {
            out.history.record(inc.row.index, &inc.signed.entry);
        }
        out.signatures.push(fact);
        rows.push(inc.row);
    }
    out
}

/// The other entries as checked: the facts of each check, and how many
/// tallies there are.
#[derive(Default)]
struct OtherEntries {
    included: Vec<EntryFact>,
    refused: Vec<EntryFact>,
    signatures: Vec<EntryFact>,
    arithmetic: Vec<EntryFact>,
    tallies: usize,
}

/// The other entries claimed: included, the station's, signed by the key
/// their kind requires (the history's key in force for tallies), tallies
/// adding up.
fn other_entries(
    reader: &TileHashReader,
    cp: &Checkpoint,
    manifest: &ValidatedManifest,
    station: &str,
    history: &KeyHistory,
    claimed: &[ServedEntry],
    rows: &mut Vec<StationEntry>,
) -> OtherEntries {
    let mut out = OtherEntries::default();
    for served in claimed {
        let (mut inc, fact) = match admit(reader, cp, served, station, false) {
            Admission::Admitted(inc, fact) => (*inc, fact),
            Admission::Refused(row, fact) => {
                out.refused.push(fact);
                rows.push(row);
                continue;
            }
        };
        out.included.push(fact);
        out.signatures.push(sign_check(&mut inc, manifest, history));
        let mut fact = inc.row.fact();
        if let Entry::Tally(t) = &inc.signed.entry {
            out.tallies += 1;
            fact.fields = Some(inc.row.entry.clone());
            let verdict = match manifest.contest(&t.contest) {
                None => Err("contest.unknown"),
                Some(c) => t.check_arithmetic(c.seats).map_err(|e| e.code().as_str()),
            };
            if let Err(code) = verdict {
                inc.row.failed(code);
                fact.code = Some(code.to_string());
            }
        }
        out.arithmetic.push(fact);
        rows.push(inc.row);
    }
    out
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
    let by_index = |claimed: &[ServedEntry]| {
        let mut sorted = claimed.to_vec();
        sorted.sort_by_key(|e| e.index);
        sorted
    };
    let mut rows = Vec::new();
    let keys = key_entries(
        reader,
        cp,
        manifest,
        station,
        &by_index(&claims.key_entries),
        &mut rows,
    );
    let mut others = other_entries(
        reader,
        cp,
        manifest,
        station,
        &keys.history,
        &by_index(&claims.entries),
        &mut rows,
    );
    rows.sort_by_key(|r| r.index);

    use CheckId::*;
    let needs_key = others.tallies > 0 || !claims.key_entries.is_empty();
    if let Some(code) = first_code(&keys.refused) {
        v.fail(RegistrationInclusion, code, facts(keys.refused));
        v.skip(&[RegistrationSignature], RegistrationInclusion);
    } else if needs_key && !keys.registered {
        let code = "station.key-not-registered";
        v.fail(RegistrationInclusion, code, facts(vec![]));
        v.skip(&[RegistrationSignature], RegistrationInclusion);
    } else if claims.key_entries.is_empty() {
        // Nothing claimed and nothing needs a station key (an approval
        // or annulment shown on its own).
        v.info(RegistrationInclusion, facts(vec![]));
        v.info(RegistrationSignature, facts(vec![]));
    } else {
        v.pass(RegistrationInclusion, facts(keys.included));
        record_all(v, RegistrationSignature, keys.signatures, facts);
    }
    // The whole log was scanned: a station without a tally has nothing to
    // show a citizen.
    if claims.focus.is_none() && others.refused.is_empty() && others.tallies == 0 {
        others.refused.push(EntryFact {
            code: Some(NO_TALLY.into()),
            ..EntryFact::default()
        });
    }
    if let Some(code) = first_code(&others.refused) {
        v.fail(EntryInclusion, code, facts(others.refused));
        v.skip(&[EntrySignature, Arithmetic], EntryInclusion);
        return rows;
    }
    v.pass(EntryInclusion, facts(others.included));
    record_all(v, EntrySignature, others.signatures, facts);
    if others.tallies == 0 {
        v.info(Arithmetic, facts(others.arithmetic));
    } else {
        others.arithmetic.retain(|f| f.fields.is_some());
        record_all(v, Arithmetic, others.arithmetic, facts);
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
