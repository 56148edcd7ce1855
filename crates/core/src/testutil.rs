//! Shared fixtures for the core's unit tests: a small election with real
//! keys, built in code so each test can mutate it.

use crate::entry::{BallotFigures, Entry, ManifestCommitment, StationKey, Tally};
use crate::manifest::*;
use crate::note::{self, SignerKey, VerifierKey, SIG_COSIGNATURE_V1};
use crate::rules::ElectionKind;

pub(crate) fn key(label: &str) -> SignerKey {
    let seed: [u8; 32] = crate::Hash::sha256(label.as_bytes()).0;
    SignerKey::from_seed(&format!("{}.test", label.replace(' ', "-")), seed).expect("valid name")
}

pub(crate) fn authority() -> SignerKey {
    key("authority")
}

pub(crate) fn supervisor() -> SignerKey {
    key("supervisor")
}

pub(crate) fn station_key(id: &str) -> SignerKey {
    key(&format!("station-{id}"))
}

fn names(id: &str) -> (String, String) {
    (format!("{id} en"), format!("{id} فا"))
}

/// Two provinces, three counties, a presidential contest and a 3-seat
/// council in a constituency; four stations.
pub(crate) fn manifest() -> Manifest {
    let witness = key("witness");
    let wv = VerifierKey::new(
        witness.name(),
        SIG_COSIGNATURE_V1,
        *witness.verifier().public_key(),
    )
    .expect("witness key");
    let province = |id: &str| {
        let (en, fa) = names(id);
        Province {
            eligible_voters: None,
            id: id.into(),
            name_en: en,
            name_fa: fa,
        }
    };
    let county = |id: &str, p: &str| {
        let (en, fa) = names(id);
        County {
            id: id.into(),
            name_en: en,
            name_fa: fa,
            province: p.into(),
        }
    };
    let cand = |code: u32| Candidate {
        code,
        name_en: format!("C{code}"),
        name_fa: format!("نامزد {code}"),
    };
    let station = |id: &str, county: &str, contests: &[&str]| Station {
        contests: contests.iter().map(|c| (*c).into()).collect(),
        county: county.into(),
        id: id.into(),
        kind: "fixed".into(),
    };
    Manifest {
        constituencies: vec![Constituency {
            counties: vec!["01-001".into(), "01-002".into()],
            id: "k1".into(),
            name_en: "K1".into(),
            name_fa: "حوزه ۱".into(),
        }],
        contests: vec![
            Contest {
                candidates: vec![cand(1), cand(2), cand(3)],
                constituency: None,
                id: "president".into(),
                kind: ElectionKind::Presidential,
                name_en: "President".into(),
                name_fa: "ریاست جمهوری".into(),
                reserves: None,
                round: None,
                runoff_factor: None,
                seats: 1,
                threshold: None,
            },
            Contest {
                candidates: (1..=8).map(cand).collect(),
                constituency: Some("k1".into()),
                id: "council".into(),
                kind: ElectionKind::VillageCouncil,
                name_en: "Council".into(),
                name_fa: "شورا".into(),
                reserves: None,
                round: None,
                runoff_factor: None,
                seats: 3,
                threshold: None,
            },
        ],
        counties: vec![
            county("01-001", "01"),
            county("01-002", "01"),
            county("02-001", "02"),
        ],
        election: Election {
            date: "2025-06-27".into(),
            id: "e1".into(),
            kind: ElectionKind::Presidential,
            name_en: "Test election".into(),
            name_fa: "انتخابات آزمایشی".into(),
        },
        format: MANIFEST_FORMAT.into(),
        keys: Keys {
            authority: authority().verifier().to_vkey_string(),
            log: key("log").verifier().to_vkey_string(),
            supervisors: vec![key("supervisor").verifier().to_vkey_string()],
            witnesses: vec![Witness {
                name_en: "W".into(),
                name_fa: "ش".into(),
                role: "guardian-council".into(),
                vkey: wv.to_vkey_string(),
            }],
        },
        log: LogParams {
            origin: key("log").name().into(),
        },
        previous_round: None,
        provinces: vec![province("01"), province("02")],
        stations: vec![
            station("01-001-0001", "01-001", &["president", "council"]),
            station("01-002-0001", "01-002", &["president", "council"]),
            station("02-001-0001", "02-001", &["president"]),
            station("02-001-0002", "02-001", &["president"]),
        ],
        witness_policy: format!(
            "log {}\nwitness w {}\nquorum w\n",
            key("log").verifier().to_vkey_string(),
            wv.to_vkey_string()
        ),
    }
}

pub(crate) fn validated() -> ValidatedManifest {
    ValidatedManifest::from_manifest(manifest()).expect("fixture manifest is valid")
}

pub(crate) fn sign(e: &Entry, k: &SignerKey) -> Vec<u8> {
    note::sign(&e.to_text(), &[k]).expect("valid text")
}

/// Signed by every key given, in order (the manifest commitment and a
/// role-key change carry the authority's and a supervisor's).
pub(crate) fn sign_by(e: &Entry, keys: &[&SignerKey]) -> Vec<u8> {
    note::sign(&e.to_text(), keys).expect("valid text")
}

/// The manifest commitment, signed by the authority and the supervisor.
pub(crate) fn signed_commitment(m: &ValidatedManifest) -> Vec<u8> {
    sign_by(&commitment(m), &[&authority(), &supervisor()])
}

pub(crate) fn commitment(m: &ValidatedManifest) -> Entry {
    Entry::ManifestCommitment(ManifestCommitment {
        election: "e1".into(),
        kind: ElectionKind::Presidential,
        manifest_sha256: m.digest(),
        manifest_root: None,
    })
}

pub(crate) fn registration(station: &str) -> Entry {
    Entry::StationKey(StationKey {
        election: "e1".into(),
        station: station.into(),
        key: station_key(station).verifier().to_vkey_string(),
    })
}

pub(crate) fn tally(station: &str) -> Tally {
    Tally {
        election: "e1".into(),
        contest: "president".into(),
        station: station.into(),
        revision: 1,
        correction: None,
        figures: BallotFigures {
            counterfoils: 300,
            ballots_in_box: 290,
            votes_taken: 285,
            void_taken: 15,
            void_not_taken: 5,
            valid: 270,
        },
        votes: vec![(1, 150), (2, 100), (3, 20)],
        minutes_sha256: None,
    }
}

/// The leaf hash tests give the unsigned entry at index `i`.
pub(crate) fn leaf(i: usize) -> crate::Hash {
    crate::Hash::sha256(&i.to_be_bytes())
}

/// A log of unsigned entries and their leaf hashes, in index order, as the
/// log a statement at an earlier size reads an intermediate revision from
/// and an announcement's checkpoint root is checked against.
pub(crate) struct Entries<'a> {
    pub entries: &'a [Entry],
    pub leaves: &'a [crate::Hash],
}

impl crate::state::LogReader for Entries<'_> {
    fn index_of_leaf(
        &self,
        l: &crate::Hash,
        before: u64,
    ) -> Result<Option<u64>, crate::aggregate::AggregateError> {
        let end = usize::try_from(before)
            .unwrap_or(usize::MAX)
            .min(self.leaves.len());
        Ok(self.leaves[..end]
            .iter()
            .position(|x| x == l)
            .map(|i| i as u64))
    }

    fn tally(&self, index: u64) -> Result<Tally, crate::aggregate::AggregateError> {
        match usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
        {
            Some(Entry::Tally(t)) => Ok(t.clone()),
            _ => Err(crate::aggregate::AggregateError::inconsistent(format!(
                "entry {index} is not a tally"
            ))),
        }
    }

    fn root(&self, size: u64) -> Result<crate::Hash, crate::aggregate::AggregateError> {
        let n = usize::try_from(size).unwrap_or(usize::MAX);
        let leaves = self.leaves.get(..n).ok_or_else(|| {
            crate::aggregate::AggregateError::store(format!("no tree of size {size} at hand"))
        })?;
        let mut tree = crate::merkle::MemoryLog::new();
        for l in leaves {
            let _ = tree.append(*l);
        }
        Ok(tree.root())
    }
}

/// The fixture witness's cosignature on the checkpoint of `size` entries
/// with `root` (the fixture policy's quorum is that one witness).
pub(crate) fn witnessed(size: u64, root: crate::Hash) -> crate::entry::WitnessedCheckpoint {
    let mut w = crate::entry::WitnessedCheckpoint {
        root,
        cosignatures: vec![],
    };
    let text = w.checkpoint_text(key("log").name(), size);
    let k = crate::cosignature::CosignerKey::from_signer_key(&key("witness"));
    w.cosignatures
        .push(crate::cosignature::cosign(&text, 1_796_000_000, &k).expect("cosign"));
    w
}

/// A file of the published reference material (test vectors, the NIST
/// schema) that CI keeps in a `shared/reference` directory beside the
/// checkout, read in place and never copied into the project. The
/// directory is looked for beside every ancestor of this crate, so a clone
/// and a git worktree one level deeper both find it. A missing file fails
/// the test, never skips it.
pub(crate) fn reference_file(name: &str) -> Vec<u8> {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<_> = crate_dir
        .ancestors()
        .map(|a| a.join("shared").join("reference").join(name))
        .collect();
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("reference file {name} not found; tried {candidates:?}"));
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A JSON reference file ([`reference_file`]).
pub(crate) fn reference_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&reference_file(name))
        .unwrap_or_else(|e| panic!("reference file {name} is not JSON: {e}"))
}
