//! A deterministic synthetic national election of Iranian shape: 31
//! provinces, about 450 counties, about 59,000 fixed and mobile stations, a
//! presidential contest and, with [`Config::majlis`], a Majlis election held
//! the same day (about 208 constituencies, 290 seats, the 30-seat Tehran
//! constituency with about 3,500 candidates); its manifest, demo keys and
//! signed entries.
//!
//! Tests, benchmarks and the demo all need the same realistic data, so it
//! lives here rather than in any one of them. Everything is a pure function
//! of the seed: the same seed gives the same bytes on every machine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ballots;
mod geography;
pub mod keys;
mod majlis;
pub mod minutes;
mod names;
pub mod read_path;
mod rng;
pub mod vectors;

pub use majlis::TEHRAN_CONTEST;
pub use read_path::SyntheticLog;

use rng::Rng;
use std::collections::HashMap;
use std::sync::Arc;
use tallyboard_core::entry::{
    Announcement, AnnouncementStatus, Annulment, Approval, BallotFigures, ContestApproval,
    Correction, Entry, Lot, ManifestCommitment, Reopening, Replacement, Statement, StationKey,
    Tally, WitnessedCheckpoint,
};
use tallyboard_core::manifest::{
    Candidate, Contest, County, Election, Keys, LogParams, Manifest, Province, Station,
    ValidatedManifest, Witness, MANIFEST_FORMAT,
};
use tallyboard_core::note::{self, NoteSigner, SignerKey, VerifierKey, SIG_COSIGNATURE_V1};
use tallyboard_core::rules::ElectionKind;
use tallyboard_core::Hash;

/// The election id of the synthetic presidential election.
pub const ELECTION_ID: &str = "1404-presidential";

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    /// PRNG seed: the same seed gives the same election.
    pub seed: u64,
    /// Number of stations (59,000 for the national scale).
    pub stations: usize,
    /// Also hold a Majlis election: every station reports a second tally,
    /// for its constituency's (or a religious minority's) Majlis contest.
    /// Off, the output is byte for byte the presidential-only election.
    pub majlis: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1404,
            stations: 59_000,
            majlis: false,
        }
    }
}

/// The presidential candidates: (code, Persian, Latin). Fictional people.
const CANDIDATES: &[(u32, &str, &str)] = &[
    (11, "مسعود کریمی", "Masoud Karimi"),
    (22, "سعید جلیلوند", "Saeed Jalilvand"),
    (33, "محمدباقر قالیباف‌زاده", "Mohammad-Bagher Ghalibafzadeh"),
    (44, "مصطفی پورمحمدی‌نیا", "Mostafa Pourmohammadinia"),
    (55, "علیرضا زاکانی‌فر", "Alireza Zakanifar"),
    (66, "امیرحسین قاضی‌پور", "Amirhossein Ghazipour"),
];

/// Base vote shares per candidate (percent of valid votes), before
/// per-province and per-station variation. Tuned so no one reaches an
/// absolute majority of votes taken: the rules call a runoff.
const SHARES: &[f64] = &[43.0, 39.0, 14.0, 1.5, 1.5, 1.0];

/// The keys of the election's roles: the log's verifier key (the board
/// signs its checkpoints) and the signers of the authority and the
/// supervisor. The demo's are derived by the published rule
/// ([`RoleSigners::demo`]); `tallyboard demo --hsm` passes keys held in a
/// PKCS#11 token instead, which the manifest then names.
#[derive(Clone)]
pub struct RoleSigners {
    /// The log key (its name is the log's origin).
    pub log: VerifierKey,
    /// The election authority's signer.
    pub authority: Arc<dyn NoteSigner>,
    /// The supervisor's (Guardian Council's) signer.
    pub supervisor: Arc<dyn NoteSigner>,
}

impl RoleSigners {
    /// The demo's derived role keys (`keys/README.md`).
    pub fn demo() -> RoleSigners {
        let k = |r: &str| keys::role_key(r).expect("demo role exists");
        RoleSigners {
            log: k("log").verifier(),
            authority: Arc::new(k("authority")),
            supervisor: Arc::new(k("supervisor")),
        }
    }
}

/// A generated election.
pub struct SyntheticElection {
    config: Config,
    manifest: ValidatedManifest,
    manifest_bytes: Vec<u8>,
    roles: RoleSigners,
    /// How each Majlis contest's voters fill in their ballots, by contest id.
    majlis_voters: HashMap<String, ballots::VoteModel>,
}

/// The cosigner (type 0x04) verifier key of a demo witness role.
pub fn witness_vkey(role: &str) -> Option<VerifierKey> {
    let k = keys::role_key(role)?;
    VerifierKey::new(k.name(), SIG_COSIGNATURE_V1, *k.verifier().public_key()).ok()
}

/// The ballot figures of a box holding `ballots_in_box` ballots: up to
/// 1/`not_taken` of them void and not taken, between 1/`taken.0` and
/// 1/`taken.1` of the votes taken void but taken, and up to three ballots
/// issued but not cast. Draws from `rng` in that order.
fn box_figures(
    rng: &mut Rng,
    ballots_in_box: u64,
    not_taken: u64,
    taken: (u64, u64),
) -> BallotFigures {
    let void_not_taken = rng.range(0, ballots_in_box / not_taken);
    let votes_taken = ballots_in_box - void_not_taken;
    let void_taken = rng.range(votes_taken / taken.0, votes_taken / taken.1);
    BallotFigures {
        counterfoils: ballots_in_box + rng.range(0, 3),
        ballots_in_box,
        votes_taken,
        void_taken,
        void_not_taken,
        valid: votes_taken - void_taken,
    }
}

impl SyntheticElection {
    /// The second round of the presidential election of `config` (its
    /// seed gives the same stations' turnout and leanings), on `manifest`:
    /// the manifest derived from the first round's final announcement
    /// (`tallyboard_core::manifest::runoff`, spec/manifest.md §6). Its
    /// stations report only the runoff candidates, under keys of the
    /// second round's election id.
    ///
    /// # Errors
    /// A manifest without the presidential contest.
    pub fn second_round(
        config: Config,
        manifest: ValidatedManifest,
    ) -> Result<SyntheticElection, String> {
        if manifest.contest(PRESIDENT).is_none() {
            return Err(format!("the manifest holds no {PRESIDENT} contest"));
        }
        let manifest_bytes = manifest.manifest().to_canonical_bytes();
        Ok(SyntheticElection {
            config,
            manifest,
            manifest_bytes,
            roles: RoleSigners::demo(),
            majlis_voters: HashMap::new(),
        })
    }

    /// The election id every entry names.
    pub fn election_id(&self) -> &str {
        &self.manifest.manifest().election.id
    }

    /// Generates the election for a configuration, with the demo's keys.
    pub fn generate(config: Config) -> SyntheticElection {
        SyntheticElection::generate_with(config, RoleSigners::demo())
    }

    /// Generates the election with these role keys (named by its manifest).
    pub fn generate_with(config: Config, roles: RoleSigners) -> SyntheticElection {
        let manifest = build_manifest(&config, &roles);
        let manifest_bytes = manifest.to_canonical_bytes();
        let manifest = ValidatedManifest::from_manifest(manifest)
            .expect("the generator builds valid manifests");
        let majlis_voters = manifest
            .manifest()
            .contests
            .iter()
            .filter(|c| c.kind == ElectionKind::Majlis)
            .map(|c| (c.id.clone(), ballots::VoteModel::new(config.seed, c)))
            .collect();
        SyntheticElection {
            config,
            manifest,
            manifest_bytes,
            roles,
            majlis_voters,
        }
    }

    /// The validated manifest.
    pub fn manifest(&self) -> &ValidatedManifest {
        &self.manifest
    }

    /// The manifest's canonical bytes (the blob).
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// Number of stations.
    pub fn station_count(&self) -> usize {
        self.manifest.manifest().stations.len()
    }

    /// A station's id by position.
    pub fn station_id(&self, i: usize) -> &str {
        &self.manifest.manifest().stations[i].id
    }

    /// The signed manifest commitment (the log's first entry).
    pub fn commitment_entry(&self) -> Vec<u8> {
        self.commitment(None)
    }

    /// The signed manifest commitment naming also the root of the
    /// manifest's parts (`manifest-root`, spec/manifest.md §5), so that a
    /// verifier of one station fetches a slice of the manifest. What
    /// `synth` and the demo log; [`Self::commitment_entry`] (without it) is
    /// the one the spec's vectors hold.
    pub fn commitment_entry_with_root(&self) -> Vec<u8> {
        let root =
            tallyboard_core::manifest::slice::ManifestTree::new(self.manifest.manifest()).root();
        self.commitment(Some(root))
    }

    fn commitment(&self, manifest_root: Option<Hash>) -> Vec<u8> {
        let m = self.manifest.manifest();
        let e = Entry::ManifestCommitment(ManifestCommitment {
            election: m.election.id.clone(),
            kind: m.election.kind,
            manifest_sha256: self.manifest.digest(),
            manifest_root,
        });
        self.sign_as_authority_and_supervisor(&e)
    }

    /// The signed registration of station `i`'s demo key.
    pub fn registration_entry(&self, i: usize) -> Vec<u8> {
        let station = self.station_id(i);
        let key = keys::station_key(self.election_id(), station);
        let e = Entry::StationKey(StationKey {
            election: self.election_id().into(),
            station: station.into(),
            key: key.verifier().to_vkey_string(),
        });
        self.sign_as_authority(&e)
    }

    /// Station `i`'s first tally for the presidential contest.
    pub fn tally(&self, i: usize) -> Tally {
        let station = &self.manifest.manifest().stations[i];
        let mut rng = Rng::for_stream(self.config.seed, &station.id);
        let mobile = station.kind == "mobile";
        let province: usize = station.id[..2].parse().unwrap_or(1);
        let ballots_in_box = if mobile {
            rng.range(60, 320)
        } else {
            rng.range(220, 720)
        };
        let figures = box_figures(&mut rng, ballots_in_box, 80, (40, 8));
        let valid = figures.valid;
        // Province leaning: shift a few points between the two leaders.
        let lean = ((province as f64 * 7.3).sin()) * 6.0;
        let mut weights: Vec<f64> = SHARES
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let base = match k {
                    0 => s + lean,
                    1 => s - lean,
                    _ => *s,
                };
                (base * (0.85 + 0.3 * rng.unit())).max(0.01)
            })
            .collect();
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        // A second round's ballot lists only the runoff candidates: the
        // others' voters' shares are left out and the rest renormalized.
        let standing: Vec<usize> = (0..CANDIDATES.len())
            .filter(|k| self.manifest.has_candidate(PRESIDENT, CANDIDATES[*k].0))
            .collect();
        // (The whole ballot divides by exactly 1: the first round's figures,
        // and the test vectors made from them, stay byte for byte the same.)
        let total: f64 = if standing.len() == CANDIDATES.len() {
            1.0
        } else {
            standing.iter().map(|k| weights[*k]).sum()
        };
        let mut votes = Vec::new();
        let mut left = valid;
        for (j, &k) in standing.iter().enumerate() {
            let code = CANDIDATES[k].0;
            let n = if j + 1 == standing.len() {
                left
            } else {
                ((valid as f64 * weights[k] / total).round() as u64).min(left)
            };
            left -= n;
            if n > 0 {
                votes.push((code, n));
            }
        }
        Tally {
            election: self.election_id().into(),
            contest: "president".into(),
            station: station.id.clone(),
            revision: 1,
            correction: None,
            figures,
            votes,
            minutes_sha256: Some(minutes_digest(&station.id, 1)),
        }
    }

    /// Station `i`'s first tally, signed with its demo key.
    pub fn signed_tally(&self, i: usize) -> Vec<u8> {
        self.sign_as_station(i, &Entry::Tally(self.tally(i)))
    }

    /// Station `i`'s first tally for `contest`, if the station reports it.
    pub fn contest_tally(&self, i: usize, contest: &str) -> Option<Tally> {
        let station = &self.manifest.manifest().stations[i];
        if !station.contests.iter().any(|c| c == contest) {
            return None;
        }
        if contest == PRESIDENT {
            return Some(self.tally(i));
        }
        let voters = self.majlis_voters.get(contest)?;
        let codes = &self.manifest.contest(contest)?.candidates;
        // The same voters cast both ballots: the Majlis box holds about as
        // many ballots as the presidential one (a few voters take only one),
        // and more of them are void (up to `seats` names to write).
        let ballots = self.tally(i).figures.ballots_in_box;
        let mut rng = Rng::for_stream(self.config.seed, &format!("majlis/{}", station.id));
        let ballots_in_box = ballots - rng.range(0, ballots / 60);
        let figures = box_figures(&mut rng, ballots_in_box, 60, (25, 6));
        let votes = voters
            .station_votes(&mut rng, figures.valid)
            .into_iter()
            .zip(codes)
            .filter(|&(n, _)| n > 0)
            .map(|(n, c)| (c.code, n))
            .collect();
        Some(Tally {
            election: self.election_id().into(),
            contest: contest.into(),
            station: station.id.clone(),
            revision: 1,
            correction: None,
            figures,
            votes,
            minutes_sha256: Some(Hash::sha256(
                format!("minutes scan of {} {contest} revision 1", station.id).as_bytes(),
            )),
        })
    }

    /// Station `i`'s first tally for every contest it reports, signed, in
    /// the manifest's order of its contests (the presidential one first).
    pub fn signed_tallies(&self, i: usize) -> Vec<Vec<u8>> {
        // Deriving a key costs as much as a signature: derive it once.
        let key = keys::station_key(self.election_id(), self.station_id(i));
        self.manifest.manifest().stations[i]
            .contests
            .iter()
            .filter_map(|c| self.contest_tally(i, c))
            .map(|t| sign(&Entry::Tally(t), &key))
            .collect()
    }

    /// Station `i`'s first tallies for every contest it reports, as
    /// [`Self::signed_tallies`] but each naming the SHA-256 of its
    /// synthetic minutes image ([`minutes::minutes_png`]) instead of a
    /// stand-in digest; with each image and the station's signature
    /// authorising its upload (spec/http-api.md §1.3). What `synth` and the
    /// demo publish.
    pub fn signed_tallies_with_minutes(&self, i: usize) -> Vec<(Vec<u8>, MinutesImage)> {
        let key = keys::station_key(self.election_id(), self.station_id(i));
        let fingerprint = key.verifier().fingerprint();
        let origin = &self.manifest.manifest().log.origin;
        self.manifest.manifest().stations[i]
            .contests
            .iter()
            .filter_map(|c| self.contest_tally(i, c))
            .map(|mut t| {
                let png = minutes::minutes_png(&t, &fingerprint);
                let sha256 = Hash::sha256(&png);
                t.minutes_sha256 = Some(sha256);
                let signature =
                    tallyboard_core::blob::sign_upload(&key, origin, &t.station, &sha256);
                let entry = sign(&Entry::Tally(t), &key);
                (
                    entry,
                    MinutesImage {
                        png,
                        sha256,
                        signature,
                    },
                )
            })
            .collect()
    }

    /// A correction of station `i`'s tally: two ballots moved from the
    /// second candidate to the first after a recount (revision 2).
    pub fn revised_tally(&self, i: usize, previous: &[u8]) -> Vec<u8> {
        let mut t = self.tally(i);
        t.revision = 2;
        t.correction = Some(Correction {
            supersedes: tallyboard_core::hash::leaf_hash(previous),
            reason: "recount by the county executive board".into(),
        });
        if t.votes.len() >= 2 && t.votes[1].1 >= 2 {
            t.votes[1].1 -= 2;
            t.votes[0].1 += 2;
        }
        t.minutes_sha256 = Some(minutes_digest(&t.station, 2));
        self.sign_as_station(i, &Entry::Tally(t))
    }

    /// Station `i`'s stand-in minutes scan for its presidential tally of
    /// `revision`: the bytes whose SHA-256 that tally names.
    pub fn minutes_scan(&self, i: usize, revision: u32) -> Vec<u8> {
        minutes_text(self.station_id(i), revision).into_bytes()
    }

    /// Station `i`'s `X-Tallyboard-Signature` for uploading the blob
    /// `sha256` to this election's log (`spec/http-api.md` §1.3).
    pub fn blob_signature(&self, i: usize, sha256: &Hash) -> String {
        tallyboard_core::blob::sign_upload(
            &keys::station_key(self.election_id(), self.station_id(i)),
            &self.manifest.manifest().log.origin,
            self.station_id(i),
            sha256,
        )
    }

    /// Signs an entry with station `i`'s demo key.
    pub fn sign_as_station(&self, i: usize, e: &Entry) -> Vec<u8> {
        sign(
            e,
            &keys::station_key(self.election_id(), self.station_id(i)),
        )
    }

    /// The role keys the election was generated with.
    pub fn roles(&self) -> &RoleSigners {
        &self.roles
    }

    /// Signs an entry with the election authority's key.
    pub fn sign_as_authority(&self, e: &Entry) -> Vec<u8> {
        sign_by(e, &[self.roles.authority.as_ref()])
    }

    /// Signs an entry with the authority's and supervisor's keys
    /// together: the manifest commitment and a role-key change.
    pub fn sign_as_authority_and_supervisor(&self, e: &Entry) -> Vec<u8> {
        sign_by(
            e,
            &[
                self.roles.authority.as_ref(),
                self.roles.supervisor.as_ref(),
            ],
        )
    }

    /// Signs an entry with the supervisor's (Guardian Council) key.
    pub fn sign_as_supervisor(&self, e: &Entry) -> Vec<u8> {
        sign_by(e, &[self.roles.supervisor.as_ref()])
    }

    /// The supervisor's signed approval of station `i`'s presidential tally
    /// `tally` (its signed bytes), logged at `index`.
    pub fn approval_entry(&self, i: usize, index: u64, tally: &[u8]) -> Vec<u8> {
        self.contest_approval_of_tally(i, PRESIDENT, index, tally)
    }

    /// The supervisor's signed approval of station `i`'s tally `tally` (its
    /// signed bytes) for `contest`, logged at `index`.
    pub fn contest_approval_of_tally(
        &self,
        i: usize,
        contest: &str,
        index: u64,
        tally: &[u8],
    ) -> Vec<u8> {
        self.sign_as_supervisor(&Entry::Approval(Approval {
            election: self.election_id().into(),
            station: self.station_id(i).into(),
            contest: contest.into(),
            index,
            leaf_sha256: tallyboard_core::hash::leaf_hash(tally),
        }))
    }

    /// The supervisor's signed annulment of station `i`'s presidential box.
    pub fn annulment_entry(&self, i: usize, reason_code: &str, reason: &str) -> Vec<u8> {
        self.sign_as_supervisor(&Entry::Annulment(Annulment {
            election: self.election_id().into(),
            station: self.station_id(i).into(),
            contest: PRESIDENT.into(),
            reason_code: reason_code.into(),
            reason: reason.into(),
        }))
    }

    /// The supervisor's signed approval of a results statement (see
    /// `tallyboard_core::entry::announcement::expected`).
    pub fn contest_approval_entry(&self, statement: &Statement) -> Vec<u8> {
        self.sign_as_supervisor(&Entry::ContestApproval(ContestApproval {
            election: statement.election.clone(),
            contest: statement.contest.clone(),
            size: statement.size,
            results_sha256: statement.sha256(),
        }))
    }

    /// The demo witnesses' cosignatures (the Guardian Council's and the
    /// observer's: the committed policy's quorum) on the checkpoint of the
    /// log's first `size` entries with `root`, at a fixed time: what an
    /// announcement that rests on that checkpoint carries
    /// (`spec/announcements.md` §5). A board's witnesses would give the
    /// same lines with their own timestamps.
    pub fn witnessed(&self, size: u64, root: Hash) -> WitnessedCheckpoint {
        let mut w = WitnessedCheckpoint {
            root,
            cosignatures: Vec::new(),
        };
        let text = w.checkpoint_text(&self.manifest.manifest().log.origin, size);
        for role in ["witness-guardian", "witness-observer"] {
            if let Some(k) = keys::role_key(role) {
                let key = tallyboard_core::cosignature::CosignerKey::from_signer_key(&k);
                if let Ok(sig) = tallyboard_core::cosignature::cosign(&text, 1_796_000_000, &key) {
                    w.cosignatures.push(sig);
                }
            }
        }
        w
    }

    /// [`SyntheticElection::witnessed`] on the checkpoint of a log whose
    /// entries are `entries`, all of them (tests that keep the log's bytes).
    pub fn witnessed_log<B: AsRef<[u8]>>(&self, entries: &[B]) -> WitnessedCheckpoint {
        let mut log = tallyboard_core::merkle::MemoryLog::new();
        for bytes in entries {
            // A MemoryLog grows in memory; an append cannot fail short of
            // 2^64 entries.
            let _ = log.append_entry(bytes.as_ref());
        }
        self.witnessed(log.size(), log.root())
    }

    /// The authority's signed announcement of a results statement, resting
    /// on the `witnessed` checkpoint of its size.
    pub fn announcement_entry(
        &self,
        statement: &Statement,
        status: AnnouncementStatus,
        witnessed: &WitnessedCheckpoint,
    ) -> Vec<u8> {
        self.sign_as_authority(&Entry::Announcement(Announcement {
            status,
            statement: statement.clone(),
            replaces: None,
            witnessed: witnessed.clone(),
        }))
    }

    /// The authority's corrected final: it replaces the reopened final with
    /// leaf `replaces`, for `reason`.
    pub fn corrected_final_entry(
        &self,
        statement: &Statement,
        witnessed: &WitnessedCheckpoint,
        replaces: Hash,
        reason: &str,
    ) -> Vec<u8> {
        self.sign_as_authority(&Entry::Announcement(Announcement {
            status: AnnouncementStatus::Final,
            statement: statement.clone(),
            replaces: Some(Replacement {
                final_leaf: replaces,
                reason: reason.into(),
            }),
            witnessed: witnessed.clone(),
        }))
    }

    /// A supervisor reopens `contest`'s final announcement (leaf `final_leaf`).
    pub fn reopening_entry(&self, contest: &str, final_leaf: Hash, reason: &str) -> Vec<u8> {
        self.sign_as_supervisor(&Entry::Reopening(Reopening {
            election: self.election_id().into(),
            contest: contest.into(),
            final_leaf,
            reason: reason.into(),
        }))
    }

    /// The authority's signed lot between presidential candidates.
    pub fn lot_entry(&self, among: &[u32], order: &[u32]) -> Vec<u8> {
        self.sign_as_authority(&Entry::LotDraw(Lot {
            election: self.election_id().into(),
            contest: PRESIDENT.into(),
            among: among.to_vec(),
            order: order.to_vec(),
        }))
    }
}

/// The id of the synthetic election's presidential contest.
pub const PRESIDENT: &str = "president";

/// A station's synthetic minutes image, with what its upload needs.
#[derive(Clone, Debug)]
pub struct MinutesImage {
    /// The PNG bytes.
    pub png: Vec<u8>,
    /// Their SHA-256: the tally's `minutes-sha256`.
    pub sha256: Hash,
    /// The `X-Tallyboard-Signature` of the upload, by the station's key.
    pub signature: String,
}

/// A stand-in for the SHA-256 of a station's scanned minutes.
fn minutes_digest(station: &str, revision: u32) -> Hash {
    Hash::sha256(minutes_text(station, revision).as_bytes())
}

fn minutes_text(station: &str, revision: u32) -> String {
    format!("minutes scan of {station} revision {revision}")
}

/// Signs an entry's text as a note with one key.
pub fn sign(e: &Entry, key: &SignerKey) -> Vec<u8> {
    note::sign(&e.to_text(), &[key]).expect("entry text is valid note text")
}

/// Signs an entry's text with role signers. A generator has no error path:
/// a signer that fails (a token gone away) stops it with the signer's
/// coded error, which names the key and never holds key material.
fn sign_by(e: &Entry, keys: &[&dyn NoteSigner]) -> Vec<u8> {
    note::sign(&e.to_text(), keys).unwrap_or_else(|err| {
        panic!(
            "signing a {:?} entry: {}: {err}",
            e.kind(),
            tallyboard_core::error::Coded::code(&err).as_str()
        )
    })
}

fn build_manifest(config: &Config, roles: &RoleSigners) -> Manifest {
    let mut rng = Rng::new(config.seed);
    let mut provinces = Vec::new();
    let mut counties = Vec::new();
    let mut stations = Vec::new();
    let total_pop: u32 = geography::PROVINCES.iter().map(|p| p.3).sum();
    let mut assigned = 0usize;
    for (pi, &(pid, fa, en, pop, ncounties)) in geography::PROVINCES.iter().enumerate() {
        // Stations in proportion to population; the last province takes the remainder.
        let want = if pi + 1 == geography::PROVINCES.len() {
            config.stations - assigned
        } else {
            (config.stations as u64 * u64::from(pop) / u64::from(total_pop)) as usize
        };
        // Eligible voters in proportion to the stations the province has
        // (about 950 per station, some 56 million for 59,000 stations, the
        // order of the 61 million of 2024), plus 100 per 100k inhabitants
        // so a province with no station in a small election has some; a
        // synthetic station's box holds about 400 ballots, so turnout
        // comes out near 40%.
        provinces.push(Province {
            eligible_voters: Some(want as u64 * 950 + u64::from(pop) * 100),
            id: pid.into(),
            name_en: en.into(),
            name_fa: fa.into(),
        });
        assigned += want;
        for c in 0..ncounties {
            let cid = format!("{pid}-{:03}", c + 1);
            counties.push(County {
                id: cid.clone(),
                name_en: format!("{en} county {}", c + 1),
                name_fa: format!(
                    "شهرستان {} {fa}",
                    geography::persian_digits(u64::from(c + 1))
                ),
                province: pid.into(),
            });
        }
        for s in 0..want {
            // The county's seat (the first county) gets a larger share.
            let c = if rng.range(0, 3) == 0 {
                0
            } else {
                (s as u32) % ncounties
            };
            let cid = format!("{pid}-{:03}", c + 1);
            let mobile = rng.range(0, 99) < 26; // 15,215 of 58,640 were mobile in 2024
            stations.push(Station {
                contests: vec!["president".into()],
                county: cid.clone(),
                id: format!("{cid}-{:05}", s + 1),
                kind: if mobile { "mobile" } else { "fixed" }.into(),
            });
        }
    }
    stations.sort_by(|a, b| a.id.cmp(&b.id));
    let majlis = config.majlis.then(|| majlis::plan(config.seed));
    if let Some(plan) = &majlis {
        for s in &mut stations {
            if let Some(c) = plan.station_contest(config.seed, &s.id, &s.county) {
                s.contests.push(c);
            }
        }
    }
    let witnesses = [
        (
            "witness-guardian",
            "guardian-council",
            "ناظر شورای نگهبان",
            "Guardian Council witness",
        ),
        (
            "witness-observer",
            "observer",
            "ناظر مستقل",
            "Independent observer witness",
        ),
    ]
    .iter()
    .map(|&(role, kind, fa, en)| Witness {
        name_en: en.into(),
        name_fa: fa.into(),
        role: kind.into(),
        vkey: witness_vkey(role).expect("role exists").to_vkey_string(),
    })
    .collect();
    let (constituencies, majlis_contests) = match majlis {
        Some(p) => (p.constituencies, p.contests),
        None => (Vec::new(), Vec::new()),
    };
    let (name_en, name_fa) = if config.majlis {
        (
            "Presidential and Majlis elections 1404 (synthetic demo)",
            "انتخابات ریاست جمهوری و مجلس شورای اسلامی ۱۴۰۴ (نمایشی)",
        )
    } else {
        (
            "Presidential election 1404 (synthetic demo)",
            "انتخابات ریاست جمهوری ۱۴۰۴ (نمایشی)",
        )
    };
    let mut contests = vec![Contest {
        candidates: CANDIDATES
            .iter()
            .map(|&(code, fa, en)| Candidate {
                code,
                name_en: en.into(),
                name_fa: fa.into(),
            })
            .collect(),
        constituency: None,
        id: "president".into(),
        kind: ElectionKind::Presidential,
        name_en: "President of the Islamic Republic".into(),
        name_fa: "ریاست جمهوری".into(),
        reserves: None,
        round: None,
        runoff_factor: None,
        seats: 1,
        threshold: None,
    }];
    contests.extend(majlis_contests);
    Manifest {
        constituencies,
        contests,
        counties,
        election: Election {
            date: "2025-06-27".into(),
            id: ELECTION_ID.into(),
            kind: ElectionKind::Presidential,
            name_en: name_en.into(),
            name_fa: name_fa.into(),
        },
        format: MANIFEST_FORMAT.into(),
        keys: Keys {
            authority: roles.authority.verifier().to_vkey_string(),
            log: roles.log.to_vkey_string(),
            supervisors: vec![roles.supervisor.verifier().to_vkey_string()],
            witnesses,
        },
        log: LogParams {
            origin: keys::role_name("log").expect("log role").into(),
        },
        previous_round: None,
        provinces,
        stations,
        witness_policy: witness_policy_for(&roles.log),
    }
}

/// The demo election's committed witness policy (C2SP tlog-policy): the
/// Guardian Council's witness and at least one observer, as
/// `keys/policy.txt` says (which adds the witnesses' URLs for the board).
pub fn witness_policy_text() -> String {
    witness_policy_for(&RoleSigners::demo().log)
}

/// [`witness_policy_text`] for the log key `log`.
pub fn witness_policy_for(log: &VerifierKey) -> String {
    let log = log.to_vkey_string();
    let w = |role: &str| {
        witness_vkey(role)
            .map(|k| k.to_vkey_string())
            .unwrap_or_default()
    };
    format!(
        "log {log}\nwitness guardian {}\nwitness observer {}\ngroup observers any observer\ngroup guardian-and-observers all guardian observers\nquorum guardian-and-observers\n",
        w("witness-guardian"),
        w("witness-observer")
    )
}

impl SyntheticElection {
    /// Revision `revision` (≥ 2) of station `i`'s tally, superseding the
    /// entry with leaf hash `supersedes`; for scale tests, which need many
    /// valid entries per station.
    pub fn signed_revision(&self, i: usize, revision: u32, supersedes: Hash) -> Vec<u8> {
        let mut t = self.tally(i);
        t.revision = revision;
        t.correction = Some(Correction {
            supersedes,
            reason: format!("recount {revision} by the county executive board"),
        });
        // Move `revision` ballots between the two leaders so each revision differs.
        let shift = u64::from(revision).min(t.votes.get(1).map_or(0, |v| v.1));
        if t.votes.len() >= 2 {
            t.votes[1].1 -= shift;
            t.votes[0].1 += shift;
        }
        t.votes.retain(|v| v.1 > 0);
        self.sign_as_station(i, &Entry::Tally(t))
    }
}
