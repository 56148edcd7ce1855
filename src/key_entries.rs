//! `tallyboard key`: writes the signed entries that register and revoke
//! station keys and change role keys (`spec/keys.md` §4), so that nobody
//! writes them by hand. Each is built from the core's entry types, signed
//! by the roles the rules require (`tallyboard_core::validate::role_signers`)
//! and parsed back before it is written; `tallyboard submit` sends it.

use crate::keyfile;
use crate::signer;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use tallyboard_core::entry::{Entry, Role, RoleKey, SignedEntry, StationKey, StationKeyRevocation};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::note::{self, NoteSigner, VerifierKey};
use tallyboard_core::state::RoleKeys;
use tallyboard_core::validate::{role_signers, Signers};

/// What `tallyboard key` writes.
#[derive(Subcommand)]
pub enum KeyEntry {
    /// Register a station's Ed25519 key (tallyboard/station-key/v1), signed by the authority.
    Register {
        /// The election's manifest (canonical JSON).
        #[arg(long)]
        manifest: PathBuf,
        /// The station's id in the manifest.
        #[arg(long)]
        station: String,
        /// The station's verifier key (the vkey string, or a file holding it).
        #[arg(long)]
        vkey: String,
        /// The authority's private key file, or its PKCS#11 URI (spec/operations.md §13).
        #[arg(long)]
        authority_key: PathBuf,
        /// Where to write the signed entry (`-` for standard output).
        #[arg(long, default_value = "-")]
        out: PathBuf,
    },
    /// Revoke a station's key (tallyboard/station-key-revocation/v1), signed by the authority.
    Revoke {
        /// The election's manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// The station's id.
        #[arg(long)]
        station: String,
        /// The key being revoked (vkey string or file).
        #[arg(long)]
        vkey: String,
        /// Why, for people (logged; safe text only, spec/entries.md §2.2).
        #[arg(long)]
        reason: String,
        /// The authority's private key file, or its PKCS#11 URI (spec/operations.md §13).
        #[arg(long)]
        authority_key: PathBuf,
        /// Where to write the signed entry (`-` for standard output).
        #[arg(long, default_value = "-")]
        out: PathBuf,
    },
    /// Replace (or, for one of several supervisors, revoke) a role's key
    /// (tallyboard/role-key/v1), signed by the authority and a supervisor.
    Role {
        /// The election's manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// authority, supervisor or witness.
        #[arg(long)]
        role: String,
        /// The key the role holds now (vkey string or file).
        #[arg(long)]
        old: String,
        /// The key that replaces it (vkey string or file); omit to revoke a supervisor key.
        #[arg(long)]
        new: Option<String>,
        /// Why, for people.
        #[arg(long)]
        reason: String,
        /// The authority's private key file or PKCS#11 URI (the key in force).
        #[arg(long)]
        authority_key: PathBuf,
        /// A supervisor's private key file or PKCS#11 URI (a key in force).
        #[arg(long)]
        supervisor_key: PathBuf,
        /// Where to write the signed entry (`-` for standard output).
        #[arg(long, default_value = "-")]
        out: PathBuf,
    },
}

/// Reads and validates the manifest at `path`.
pub(crate) fn manifest(path: &Path) -> Result<ValidatedManifest> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ValidatedManifest::from_bytes(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))
}

pub(crate) fn station_in(m: &ValidatedManifest, station: &str) -> Result<()> {
    if m.station(station).is_none() {
        bail!("station {station} is not in the manifest");
    }
    Ok(())
}

fn role(s: &str) -> Result<Role> {
    [Role::Authority, Role::Supervisor, Role::Witness]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| anyhow!("--role is authority, supervisor or witness, not {s:?}"))
}

/// Signs `entry` with `keys` and checks the result is an entry the rules
/// would take from these signers: it parses, and the keys are the ones its
/// kind needs (given the manifest's roles; after a rotation the keys in
/// force may differ, which the board then says).
fn sign<S: NoteSigner + ?Sized>(
    entry: &Entry,
    keys: &[&S],
    m: &ValidatedManifest,
) -> Result<Vec<u8>> {
    let bytes = sign_entry(entry, keys)?;
    note_signers(&bytes, keys, m);
    Ok(bytes)
}

/// Signs `entry` with `keys` and parses the signed note back, so that what
/// is written is an entry the board can parse.
pub(crate) fn sign_entry<S: NoteSigner + ?Sized>(entry: &Entry, keys: &[&S]) -> Result<Vec<u8>> {
    let bytes = note::sign(&entry.to_text(), keys).map_err(|e| anyhow!("{e}"))?;
    SignedEntry::parse(&bytes).map_err(|e| anyhow!("{e}"))?;
    Ok(bytes)
}

/// Says on stderr when `keys` are not the signers the manifest names for
/// the signed entry `bytes` (right only after a rotation of role keys).
pub(crate) fn note_signers<S: NoteSigner + ?Sized>(
    bytes: &[u8],
    keys: &[&S],
    m: &ValidatedManifest,
) {
    let Ok(signed) = SignedEntry::parse(bytes) else {
        return;
    };
    if let Ok(Some(required)) = role_signers(&signed, &RoleKeys::from_manifest(m)) {
        let given: Vec<_> = keys.iter().map(|k| k.verifier()).collect();
        if required.keys() != given.as_slice() {
            eprintln!(
                "note: the manifest names {} for this entry; that is right only if the role keys were rotated since",
                names(&required)
            );
        }
    }
}

/// A station-key registration (`spec/entries.md` §3.2).
pub(crate) fn registration(m: &ValidatedManifest, station: &str, key: &VerifierKey) -> Entry {
    Entry::StationKey(StationKey {
        election: m.election_id().to_owned(),
        station: station.to_owned(),
        key: key.to_vkey_string(),
    })
}

/// A station-key revocation (`spec/entries.md` §3.3).
pub(crate) fn revocation(
    m: &ValidatedManifest,
    station: &str,
    key: &VerifierKey,
    reason: &str,
) -> Entry {
    Entry::StationKeyRevocation(StationKeyRevocation {
        election: m.election_id().to_owned(),
        station: station.to_owned(),
        key: key.to_vkey_string(),
        reason: reason.to_owned(),
    })
}

fn names(s: &Signers) -> String {
    s.keys()
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(" and ")
}

fn write(out: &Path, bytes: &[u8]) -> Result<()> {
    if out == Path::new("-") {
        use std::io::Write;
        std::io::stdout().write_all(bytes)?;
        return Ok(());
    }
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))
}

/// Runs `tallyboard key ...`.
pub fn run(action: KeyEntry) -> Result<()> {
    match action {
        KeyEntry::Register {
            manifest: path,
            station,
            vkey,
            authority_key,
            out,
        } => {
            let m = manifest(&path)?;
            station_in(&m, &station)?;
            let entry = registration(&m, &station, &keyfile::read_vkey(&vkey)?);
            write(&out, &sign(&entry, &[&signer::load(&authority_key)?], &m)?)
        }
        KeyEntry::Revoke {
            manifest: path,
            station,
            vkey,
            reason,
            authority_key,
            out,
        } => {
            let m = manifest(&path)?;
            station_in(&m, &station)?;
            let entry = revocation(&m, &station, &keyfile::read_vkey(&vkey)?, &reason);
            write(&out, &sign(&entry, &[&signer::load(&authority_key)?], &m)?)
        }
        KeyEntry::Role {
            manifest: path,
            role: r,
            old,
            new,
            reason,
            authority_key,
            supervisor_key,
            out,
        } => {
            let m = manifest(&path)?;
            let entry = Entry::RoleKey(RoleKey {
                election: m.election_id().to_owned(),
                role: role(&r)?,
                old: keyfile::read_vkey(&old)?,
                new: new.as_deref().map(keyfile::read_vkey).transpose()?,
                reason,
            });
            let keys = [
                &signer::load(&authority_key)?,
                &signer::load(&supervisor_key)?,
            ];
            write(&out, &sign(&entry, &keys, &m)?)
        }
    }
}
