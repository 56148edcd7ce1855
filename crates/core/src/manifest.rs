//! The election manifest (`spec/manifest.md`): one canonical JSON document
//! naming the election, its keys, its region hierarchy, its contests and
//! candidates, and which stations report which contests.
//!
//! The manifest is far larger than one log entry (about 59,000 stations), so
//! it is stored as a content-addressed blob and the log holds only the
//! authority's signed commitment to its SHA-256
//! ([`crate::entry::ManifestCommitment`]).
//!
//! **Canonical form.** The bytes must be exactly the RFC 8785 (JCS)
//! serialization of the document: no insignificant whitespace, object keys
//! in ascending order, minimal string escaping, integers only. The structs
//! below declare their fields in that order, so `serde_json`'s compact output
//! is the canonical form, and a document is accepted only if re-serializing
//! it gives back the same bytes. One manifest therefore has one digest.

use crate::entry::grammar::is_valid_id;
use crate::error::Coded;
use crate::note::{VerifierKey, SIG_COSIGNATURE_V1, SIG_ED25519};
use crate::policy::Policy;
use crate::rules::ElectionKind;
use crate::{ErrorCode, Hash};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The format string every manifest carries.
pub const MANIFEST_FORMAT: &str = "tallyboard/manifest/v1";

/// The largest manifest accepted, in bytes.
pub const MAX_MANIFEST_SIZE: usize = 64 << 20;

/// The manifest document. Field order is the canonical (alphabetical) order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Constituencies (Majlis, Assembly of Experts, councils): groups of counties.
    pub constituencies: Vec<Constituency>,
    /// The contests on the ballot.
    pub contests: Vec<Contest>,
    /// Counties (شهرستان).
    pub counties: Vec<County>,
    /// The election itself.
    pub election: Election,
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// Who holds which role.
    pub keys: Keys,
    /// The log's parameters.
    pub log: LogParams,
    /// A second round's reference to the first round it follows
    /// (`spec/manifest.md` §6): absent for a first round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_round: Option<PreviousRound>,
    /// Provinces (استان).
    pub provinces: Vec<Province>,
    /// Polling stations (شعبه اخذ رأی).
    pub stations: Vec<Station>,
    /// The election's witness policy, C2SP tlog-policy text
    /// (`spec/policy.md`): which cosignatures of `keys.witnesses` a
    /// checkpoint needs before an announcement may rest on it
    /// (`spec/announcements.md`). Committed with the manifest, so the
    /// board, the mirror and every verifier hold the same quorum.
    pub witness_policy: String,
}

/// The election.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Election {
    /// Election day, `YYYY-MM-DD` (Gregorian).
    pub date: String,
    /// Identifier used in every entry's `election` field.
    pub id: String,
    /// The kind of election.
    pub kind: ElectionKind,
    /// Name in Latin script.
    pub name_en: String,
    /// Name in Persian.
    pub name_fa: String,
}

/// Keys by role, as C2SP signed-note verifier key strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// The election authority (Ministry of Interior): signs the manifest
    /// commitment, station keys and announcements. Ed25519 (type 0x01).
    pub authority: String,
    /// The log's checkpoint key. Ed25519 (type 0x01).
    pub log: String,
    /// Supervisor keys (the Guardian Council's supervision system). Ed25519.
    pub supervisors: Vec<String>,
    /// Witnesses that cosign checkpoints (tlog-cosignature, type 0x04).
    pub witnesses: Vec<Witness>,
}

/// A witness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// Name in Latin script.
    pub name_en: String,
    /// Name in Persian.
    pub name_fa: String,
    /// `guardian-council` or `observer`.
    pub role: String,
    /// Cosigner verifier key (type 0x04).
    pub vkey: String,
}

/// The log's parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// The checkpoint origin line (the log's identity).
    pub origin: String,
}

/// What a second round's manifest says of the first round
/// (`spec/manifest.md` §6): the first round's log, the checkpoint its final
/// results rest on, and the final announcement itself, so a verifier can
/// fetch them and recompute this manifest from them
/// ([`runoff::derive_runoff_manifest`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousRound {
    /// The index of the first round's final announcement of the contest
    /// that went to a runoff.
    pub announcement: u64,
    /// A checkpoint of the first round's log that includes that entry.
    pub checkpoint: CheckpointRef,
    /// The first round's election id.
    pub election: String,
    /// The SHA-256 (lowercase hex) of the first round's manifest.
    pub manifest_sha256: String,
    /// The first round's log origin.
    pub origin: String,
}

/// A checkpoint by its size and root, as a manifest names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointRef {
    /// The root hash of the tree of `size` entries, base64 as in the
    /// checkpoint's text (C2SP tlog-checkpoint).
    pub root: String,
    /// The tree size.
    pub size: u64,
}

/// A province.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Province {
    /// Eligible voters of the province (`spec/manifest.md` §2): given for
    /// every province or for none. In Iran a voter may vote at any
    /// station, so eligible voters are known by province and nationally,
    /// never per station, county or constituency: turnout is meaningful
    /// at those two levels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligible_voters: Option<u64>,
    /// Identifier.
    pub id: String,
    /// Name in Latin script.
    pub name_en: String,
    /// Name in Persian.
    pub name_fa: String,
}

/// A county, in one province.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct County {
    /// Identifier.
    pub id: String,
    /// Name in Latin script.
    pub name_en: String,
    /// Name in Persian.
    pub name_fa: String,
    /// The province's identifier.
    pub province: String,
}

/// A constituency: the counties whose stations elect one contest's seats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constituency {
    /// The counties it is made of.
    pub counties: Vec<String>,
    /// Identifier.
    pub id: String,
    /// Name in Latin script.
    pub name_en: String,
    /// Name in Persian.
    pub name_fa: String,
}

/// A contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contest {
    /// The candidates.
    pub candidates: Vec<Candidate>,
    /// The constituency; absent for a nation-wide contest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constituency: Option<String>,
    /// Identifier.
    pub id: String,
    /// Which rules decide it.
    pub kind: ElectionKind,
    /// Name in Latin script.
    pub name_en: String,
    /// Name in Persian.
    pub name_fa: String,
    /// Reserve members (councils); the rules' default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserves: Option<u32>,
    /// Round: 1 (default when absent) or 2 (a runoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u8>,
    /// Runoff candidates per unfilled seat; the rules' default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runoff_factor: Option<u32>,
    /// Seats to fill.
    pub seats: u32,
    /// First-round threshold as a fraction; the rules' default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Ratio>,
}

/// An exact fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ratio {
    /// Denominator (> 0).
    pub den: u64,
    /// Numerator (≤ den).
    pub num: u64,
}

/// A candidate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// The candidate code voters write on the ballot (کد نامزد); ≥ 1.
    pub code: u32,
    /// Name in Latin script.
    pub name_en: String,
    /// Name in Persian.
    pub name_fa: String,
}

/// A polling station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// The contests this station counts and reports.
    pub contests: Vec<String>,
    /// The county it is in.
    pub county: String,
    /// Identifier.
    pub id: String,
    /// `fixed` or `mobile`.
    pub kind: String,
}

/// Why a manifest was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    code: ErrorCode,
    message: String,
}

impl ManifestError {
    fn malformed(m: impl Into<String>) -> Self {
        ManifestError {
            code: ErrorCode::ManifestMalformed,
            message: m.into(),
        }
    }
    pub(crate) fn invalid(m: impl Into<String>) -> Self {
        ManifestError {
            code: ErrorCode::ManifestInvalid,
            message: m.into(),
        }
    }
    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Coded for ManifestError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// The canonical bytes of this manifest.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        // Serializing plain structs of strings, integers and vectors cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A manifest that parsed canonically and passed every consistency check,
/// with lookup tables for validation.
#[derive(Clone, Debug)]
pub struct ValidatedManifest {
    manifest: Manifest,
    digest: Hash,
    authority: VerifierKey,
    log_key: VerifierKey,
    supervisors: Vec<VerifierKey>,
    witnesses: Vec<VerifierKey>,
    policy: Policy,
    stations: HashMap<String, usize>,
    contests: HashMap<String, (usize, HashSet<u32>)>,
    county_province: HashMap<String, String>,
}

fn check_names(what: &str, id: &str, fa: &str, en: &str) -> Result<(), ManifestError> {
    if fa.trim().is_empty() || en.trim().is_empty() {
        return Err(ManifestError::invalid(format!("{what} {id}: empty name")));
    }
    // The site and every report show these names: they must be what they
    // look like (spec/manifest.md, spec/entries.md §2.2).
    for (lang, name) in [("name_fa", fa), ("name_en", en)] {
        if let Some(u) = crate::text::first_unsafe(name) {
            return Err(ManifestError::invalid(format!(
                "{what} {id}: {lang} holds {u}, which is not safe to display"
            )));
        }
    }
    Ok(())
}

/// The committed witness policy: it parses (C2SP tlog-policy), names the
/// manifest's log key, uses only the manifest's witness keys, and requires
/// a quorum (an election's announcements need witnesses).
fn check_policy(
    text: &str,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<Policy, ManifestError> {
    let policy = Policy::parse(text.as_bytes())
        .map_err(|e| ManifestError::invalid(format!("witness_policy: {e}")))?;
    if !policy
        .logs
        .iter()
        .any(|l| l.key.to_vkey_string() == log_key.to_vkey_string())
    {
        return Err(ManifestError::invalid(
            "witness_policy does not name the manifest's log key",
        ));
    }
    for w in &policy.witnesses {
        if !witnesses
            .iter()
            .any(|k| k.to_vkey_string() == w.key.to_vkey_string())
        {
            return Err(ManifestError::invalid(format!(
                "witness_policy: witness {} is not one of keys.witnesses",
                w.name
            )));
        }
    }
    if policy.quorum.is_none() {
        return Err(ManifestError::invalid(
            "witness_policy: the quorum must not be none",
        ));
    }
    Ok(policy)
}

fn check_id(what: &str, id: &str, seen: &mut HashSet<String>) -> Result<(), ManifestError> {
    if !is_valid_id(id) {
        return Err(ManifestError::invalid(format!(
            "{what} id {id:?} is not an identifier"
        )));
    }
    if !seen.insert(id.to_owned()) {
        return Err(ManifestError::invalid(format!("duplicate {what} id {id}")));
    }
    Ok(())
}

fn parse_key(role: &str, vkey: &str, sig_type: u8) -> Result<VerifierKey, ManifestError> {
    let k =
        VerifierKey::parse(vkey).map_err(|e| ManifestError::invalid(format!("{role} key: {e}")))?;
    if k.sig_type() != sig_type {
        return Err(ManifestError::invalid(format!(
            "{role} key has signature type {:#04x}, expected {sig_type:#04x}",
            k.sig_type()
        )));
    }
    Ok(k)
}

/// Why the bytes do not deserialize as a manifest. [`ElectionKind`]
/// refuses an unknown kind like any other wrong value, but an unknown kind
/// breaks a consistency rule (`spec/manifest.md` §3, rule 1:
/// `manifest.invalid`), not the document's form: so, on this error path
/// only, the kinds are read again on their own to tell the two apart.
fn refusal(bytes: &[u8], e: &serde_json::Error) -> ManifestError {
    #[derive(Deserialize)]
    struct Kinds {
        contests: Vec<Kinded>,
        election: Kinded,
    }
    #[derive(Deserialize)]
    struct Kinded {
        id: String,
        kind: String,
    }
    if let Ok(k) = serde_json::from_slice::<Kinds>(bytes) {
        if ElectionKind::from_spelling(&k.election.kind).is_none() {
            return ManifestError::invalid(format!("unknown election kind {:?}", k.election.kind));
        }
        if let Some(c) = k
            .contests
            .iter()
            .find(|c| ElectionKind::from_spelling(&c.kind).is_none())
        {
            return ManifestError::invalid(format!("contest {}: unknown kind {:?}", c.id, c.kind));
        }
    }
    ManifestError::malformed(format!("not a manifest: {e}"))
}

impl ValidatedManifest {
    /// Parses and validates canonical manifest bytes.
    ///
    /// # Errors
    /// `manifest.malformed` if the bytes are not the canonical JSON of a
    /// manifest; `manifest.invalid` if it is internally inconsistent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() > MAX_MANIFEST_SIZE {
            return Err(ManifestError::malformed("manifest larger than 64 MiB"));
        }
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| refusal(bytes, &e))?;
        if manifest.to_canonical_bytes() != bytes {
            return Err(ManifestError::malformed(
                "not in canonical form (RFC 8785: compact, keys sorted, minimal escaping)",
            ));
        }
        Self::from_manifest(manifest)
    }

    /// Validates a manifest value (for generators; the digest is of its canonical bytes).
    ///
    /// # Errors
    /// `manifest.invalid` if it is internally inconsistent.
    pub fn from_manifest(manifest: Manifest) -> Result<Self, ManifestError> {
        let m = &manifest;
        if m.format != MANIFEST_FORMAT {
            return Err(ManifestError::invalid(format!(
                "format must be {MANIFEST_FORMAT}"
            )));
        }
        if !is_valid_id(&m.election.id) {
            return Err(ManifestError::invalid("election id is not an identifier"));
        }
        check_names(
            "election",
            &m.election.id,
            &m.election.name_fa,
            &m.election.name_en,
        )?;
        if !crate::note::valid_key_name(&m.log.origin) {
            return Err(ManifestError::invalid(
                "log origin must be a valid key name",
            ));
        }
        let authority = parse_key("authority", &m.keys.authority, SIG_ED25519)?;
        let log_key = parse_key("log", &m.keys.log, SIG_ED25519)?;
        let supervisors = m
            .keys
            .supervisors
            .iter()
            .map(|k| parse_key("supervisor", k, SIG_ED25519))
            .collect::<Result<Vec<_>, _>>()?;
        let mut witnesses = Vec::new();
        for w in &m.keys.witnesses {
            if w.role != "guardian-council" && w.role != "observer" {
                return Err(ManifestError::invalid(format!(
                    "unknown witness role {:?}",
                    w.role
                )));
            }
            witnesses.push(parse_key("witness", &w.vkey, SIG_COSIGNATURE_V1)?);
        }
        let policy = check_policy(&m.witness_policy, &log_key, &witnesses)?;
        // One key, one role: the commitment and role-key changes need the
        // authority's and a supervisor's signatures as two independent
        // roles, and a log key that also signed for a role could forge it.
        let mut names = HashSet::new();
        if supervisors.is_empty() {
            return Err(ManifestError::invalid("keys.supervisors is empty"));
        }
        for k in std::iter::once(&authority)
            .chain(std::iter::once(&log_key))
            .chain(&supervisors)
            .chain(&witnesses)
        {
            if !names.insert((k.name().to_owned(), k.key_id())) {
                return Err(ManifestError::invalid(format!(
                    "key {} serves more than one role (or is listed twice)",
                    k.to_vkey_string()
                )));
            }
        }

        let mut seen = HashSet::new();
        for p in &m.provinces {
            check_id("province", &p.id, &mut seen)?;
            check_names("province", &p.id, &p.name_fa, &p.name_en)?;
            if p.eligible_voters == Some(0) {
                return Err(ManifestError::invalid(format!(
                    "province {}: eligible_voters is 0",
                    p.id
                )));
            }
        }
        let with_eligible = m
            .provinces
            .iter()
            .filter(|p| p.eligible_voters.is_some())
            .count();
        if with_eligible != 0 && with_eligible != m.provinces.len() {
            return Err(ManifestError::invalid(format!(
                "eligible_voters is given for {with_eligible} of {} provinces: give it for every province or for none",
                m.provinces.len()
            )));
        }
        let mut county_province = HashMap::new();
        let mut seen_c = HashSet::new();
        for c in &m.counties {
            check_id("county", &c.id, &mut seen_c)?;
            check_names("county", &c.id, &c.name_fa, &c.name_en)?;
            if !seen.contains(&c.province) {
                return Err(ManifestError::invalid(format!(
                    "county {} names unknown province {}",
                    c.id, c.province
                )));
            }
            county_province.insert(c.id.clone(), c.province.clone());
        }
        let mut constituency_counties: HashMap<&str, HashSet<&str>> = HashMap::new();
        let mut seen_k = HashSet::new();
        for k in &m.constituencies {
            check_id("constituency", &k.id, &mut seen_k)?;
            check_names("constituency", &k.id, &k.name_fa, &k.name_en)?;
            let mut set = HashSet::new();
            for c in &k.counties {
                if !county_province.contains_key(c) || !set.insert(c.as_str()) {
                    return Err(ManifestError::invalid(format!(
                        "constituency {} names unknown or repeated county {c}",
                        k.id
                    )));
                }
            }
            constituency_counties.insert(&k.id, set);
        }
        let mut contests = HashMap::new();
        for (i, c) in m.contests.iter().enumerate() {
            if !is_valid_id(&c.id) || contests.contains_key(&c.id) {
                return Err(ManifestError::invalid(format!(
                    "bad or duplicate contest id {:?}",
                    c.id
                )));
            }
            check_names("contest", &c.id, &c.name_fa, &c.name_en)?;
            if c.seats == 0 {
                return Err(ManifestError::invalid(format!(
                    "contest {}: zero seats",
                    c.id
                )));
            }
            if let Some(k) = &c.constituency {
                if !constituency_counties.contains_key(k.as_str()) {
                    return Err(ManifestError::invalid(format!(
                        "contest {}: unknown constituency {k}",
                        c.id
                    )));
                }
            }
            if let Some(r) = c.threshold {
                if r.den == 0 || r.num > r.den {
                    return Err(ManifestError::invalid(format!(
                        "contest {}: bad threshold",
                        c.id
                    )));
                }
            }
            if !matches!(c.round, None | Some(1) | Some(2)) {
                return Err(ManifestError::invalid(format!(
                    "contest {}: round must be 1 or 2",
                    c.id
                )));
            }
            let mut codes = HashSet::new();
            for cand in &c.candidates {
                if cand.code == 0 || !codes.insert(cand.code) {
                    return Err(ManifestError::invalid(format!(
                        "contest {}: candidate code {} is zero or repeated",
                        c.id, cand.code
                    )));
                }
                check_names(
                    "candidate",
                    &cand.code.to_string(),
                    &cand.name_fa,
                    &cand.name_en,
                )?;
            }
            contests.insert(c.id.clone(), (i, codes));
        }
        let mut stations = HashMap::new();
        for (i, s) in m.stations.iter().enumerate() {
            if !is_valid_id(&s.id) || stations.contains_key(&s.id) {
                return Err(ManifestError::invalid(format!(
                    "bad or duplicate station id {:?}",
                    s.id
                )));
            }
            if s.kind != "fixed" && s.kind != "mobile" {
                return Err(ManifestError::invalid(format!(
                    "station {}: kind must be fixed or mobile",
                    s.id
                )));
            }
            if !county_province.contains_key(&s.county) {
                return Err(ManifestError::invalid(format!(
                    "station {}: unknown county {}",
                    s.id, s.county
                )));
            }
            if s.contests.is_empty() {
                return Err(ManifestError::invalid(format!(
                    "station {} reports no contest",
                    s.id
                )));
            }
            let mut seen_sc = HashSet::new();
            for cid in &s.contests {
                let Some(&(ci, _)) = contests.get(cid) else {
                    return Err(ManifestError::invalid(format!(
                        "station {}: unknown contest {cid}",
                        s.id
                    )));
                };
                if !seen_sc.insert(cid) {
                    return Err(ManifestError::invalid(format!(
                        "station {}: contest {cid} repeated",
                        s.id
                    )));
                }
                if let Some(k) = &m.contests[ci].constituency {
                    let inside = constituency_counties
                        .get(k.as_str())
                        .is_some_and(|set| set.contains(s.county.as_str()));
                    if !inside {
                        return Err(ManifestError::invalid(format!(
                            "station {} in county {} reports contest {cid} of constituency {k} that does not contain it",
                            s.id, s.county
                        )));
                    }
                }
            }
            stations.insert(s.id.clone(), i);
        }
        if let Some(p) = &m.previous_round {
            runoff::check_reference(m, p)?;
        }
        let digest = Hash::sha256(&manifest.to_canonical_bytes());
        Ok(ValidatedManifest {
            manifest,
            digest,
            authority,
            log_key,
            supervisors,
            witnesses,
            policy,
            stations,
            contests,
            county_province,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// SHA-256 of the canonical bytes.
    pub fn digest(&self) -> Hash {
        self.digest
    }
    /// The election id.
    pub fn election_id(&self) -> &str {
        &self.manifest.election.id
    }
    /// The authority's key.
    pub fn authority(&self) -> &VerifierKey {
        &self.authority
    }
    /// The log's checkpoint key.
    pub fn log_key(&self) -> &VerifierKey {
        &self.log_key
    }
    /// Supervisor keys.
    pub fn supervisors(&self) -> &[VerifierKey] {
        &self.supervisors
    }
    /// Witness cosigner keys, in manifest order.
    pub fn witnesses(&self) -> &[VerifierKey] {
        &self.witnesses
    }
    /// The position of a station in the manifest's list, by id.
    pub fn station_index(&self, id: &str) -> Option<usize> {
        self.stations.get(id).copied()
    }
    /// The committed witness policy: the quorum an announcement's
    /// checkpoint must meet.
    pub fn witness_policy(&self) -> &Policy {
        &self.policy
    }
    /// A station by id.
    pub fn station(&self, id: &str) -> Option<&Station> {
        self.stations
            .get(id)
            .and_then(|&i| self.manifest.stations.get(i))
    }
    /// A contest by id.
    pub fn contest(&self, id: &str) -> Option<&Contest> {
        self.contests
            .get(id)
            .and_then(|(i, _)| self.manifest.contests.get(*i))
    }
    /// Whether `code` is a candidate of contest `id`.
    pub fn has_candidate(&self, contest: &str, code: u32) -> bool {
        self.contests
            .get(contest)
            .is_some_and(|(_, set)| set.contains(&code))
    }
    /// The province of a county.
    pub fn province_of(&self, county: &str) -> Option<&str> {
        self.county_province.get(county).map(String::as_str)
    }

    /// Eligible voters of a province, when the manifest gives them.
    pub fn eligible_voters(&self, province: &str) -> Option<u64> {
        self.manifest
            .provinces
            .iter()
            .find(|p| p.id == province)?
            .eligible_voters
    }

    /// Eligible voters of the nation: the sum over the provinces, when
    /// the manifest gives them (for every province, as it must).
    pub fn eligible_voters_nation(&self) -> Option<u64> {
        self.manifest
            .provinces
            .iter()
            .map(|p| p.eligible_voters)
            .try_fold(0u64, |sum, e| Some(sum.saturating_add(e?)))
            .filter(|_| !self.manifest.provinces.is_empty())
    }
}

#[cfg(test)]
mod tests;

pub mod runoff;
pub mod slice;
