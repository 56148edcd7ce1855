//! `tallyboard device keygen` and `tallyboard enrol batch|replace`:
//! enrolling station devices at national scale (`spec/enrolment.md`).
//!
//! A device makes its own key and prints its verifier key and fingerprint
//! for the paper enrolment form; the ministry collects the verifier keys
//! (a CSV or a directory of `.vkey` files), and `enrol batch` checks the
//! whole list against the manifest with the core's rules
//! (`tallyboard_core::enrol`), reporting every bad line, and only when all
//! are good signs every registration with the authority's key into one
//! entry bundle for `tallyboard import` (or `submit`). The entries are the
//! ones `tallyboard key` writes (`crate::key_entries`).

use crate::key_entries::{self, manifest, registration, revocation, sign_entry, station_in};
use crate::keyfile;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use tallyboard_core::enrol::{self, Row, RowError};
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::note::NoteSigner;

/// `tallyboard device ...`.
#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Make a station device's Ed25519 key (private key file mode 0600,
    /// never overwritten); print its verifier key and fingerprint for the
    /// enrolment form.
    Keygen {
        /// The election's manifest (the key is named for its election).
        #[arg(long)]
        manifest: PathBuf,
        /// The station's id in the manifest.
        #[arg(long)]
        station: String,
        /// The last part of the key's name, `<station>.<election>.<DOMAIN>`
        /// (spec/keys.md §7); default `stations.` and the host of the
        /// authority key's name.
        #[arg(long)]
        domain: Option<String>,
        /// Where to write the private key (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// Also write the verifier key to this file (e.g. `<station>.vkey`
        /// for `enrol batch --devices DIR`); refuses to overwrite.
        #[arg(long)]
        vkey_out: Option<PathBuf>,
    },
}

/// `tallyboard enrol ...`.
#[derive(Subcommand)]
pub enum EnrolCommand {
    /// Check a list of device keys against the manifest and write every
    /// station-key registration, signed by the authority, as one entry bundle.
    Batch {
        /// The election's manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// The authority's private key file.
        #[arg(long)]
        authority_key: PathBuf,
        /// The devices' verifier keys: a CSV file (`station_id,vkey` header)
        /// or a directory of `<station>.vkey` files.
        #[arg(long)]
        devices: PathBuf,
        /// Where to write the entry bundle (nothing is written if any line is bad).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a device's enrolment package: station, manifest hash, boards,
    /// log key and witness policy (spec/enrolment.md §5).
    Package(crate::enrol_package::PackageArgs),
    /// Replace a lost device: revoke its key and register the new one, two
    /// entries signed by the authority in one bundle, in that order.
    Replace {
        /// The election's manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// The station's id.
        #[arg(long)]
        station: String,
        /// The lost device's key (vkey string or file).
        #[arg(long)]
        old_vkey: String,
        /// The new device's key (vkey string or file).
        #[arg(long)]
        new_vkey: String,
        /// Why, for people (logged; safe text only, spec/entries.md §2.2).
        #[arg(long)]
        reason: String,
        /// The authority's private key file.
        #[arg(long)]
        authority_key: PathBuf,
        /// Where to write the two-entry bundle.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs `tallyboard device ...`.
pub fn run_device(c: DeviceCommand) -> Result<()> {
    let DeviceCommand::Keygen {
        manifest: path,
        station,
        domain,
        out,
        vkey_out,
    } = c;
    let m = manifest(&path)?;
    station_in(&m, &station)?;
    let domain = match domain {
        Some(d) => d,
        None => default_domain(&m),
    };
    let name = enrol::station_key_name(&station, m.election_id(), &domain);
    if let Some(v) = &vkey_out {
        if v.exists() {
            bail!("{} already exists; refusing to overwrite", v.display());
        }
    }
    let key = keyfile::generate(&name, &out)?;
    let vkey = key.verifier();
    if let Some(v) = &vkey_out {
        std::fs::write(v, format!("{}\n", vkey.to_vkey_string()))
            .with_context(|| format!("writing {}", v.display()))?;
    }
    // key-value lines: for the paper form, and for scripts (`awk '$1=="vkey"'`).
    println!("station {station}");
    println!("election {}", m.election_id());
    println!("vkey {}", vkey.to_vkey_string());
    println!("fingerprint {}", vkey.fingerprint());
    Ok(())
}

/// `stations.` and the host part of the authority key's name: device keys
/// are named under the domain of the authority that enrols them.
fn default_domain(m: &ValidatedManifest) -> String {
    let authority = m.authority().name();
    let host = authority.split('/').next().unwrap_or(authority);
    format!("stations.{host}")
}

/// Runs `tallyboard enrol ...`.
pub fn run(c: EnrolCommand) -> Result<()> {
    match c {
        EnrolCommand::Batch {
            manifest: path,
            authority_key,
            devices,
            out,
        } => {
            let m = manifest(&path)?;
            let list = DeviceList::read(&devices)?;
            let devices = match list.check(&m) {
                Ok(d) => d,
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", list.place(e.line));
                    }
                    bail!(
                        "{} problem{} in {}; nothing written",
                        errors.len(),
                        if errors.len() == 1 { "" } else { "s" },
                        devices.display()
                    );
                }
            };
            let authority = crate::signer::load(&authority_key)?;
            let bundle = batch(&m, &devices, &authority)?;
            write_bundle(&out, &bundle)?;
            eprintln!(
                "wrote {} station-key registrations to {} ({} of the manifest's {} stations)",
                devices.len(),
                out.display(),
                devices.len(),
                m.manifest().stations.len()
            );
        }
        EnrolCommand::Package(args) => crate::enrol_package::run(&args)?,
        EnrolCommand::Replace {
            manifest: path,
            station,
            old_vkey,
            new_vkey,
            reason,
            authority_key,
            out,
        } => {
            let m = manifest(&path)?;
            station_in(&m, &station)?;
            let old = tallyboard_core::entry::station_vkey(&key_text(&old_vkey)?)
                .map_err(|e| anyhow!("--old-vkey: {e}"))?;
            // The new key passes the same checks as a line of a batch.
            let row = Row {
                line: 1,
                station: station.clone(),
                vkey: key_text(&new_vkey)?,
            };
            let parsed = vec![enrol::parse_key(m.election_id(), &row)];
            let new = match enrol::check(&m, std::slice::from_ref(&row), parsed) {
                Ok(mut d) => d.remove(0).key,
                Err(errors) => bail!("--new-vkey: {}", errors[0]),
            };
            if new.public_key() == old.public_key() {
                bail!("enrol.key-reused: the new key is the old one");
            }
            let authority = crate::signer::load(&authority_key)?;
            let keys = [&authority];
            let revoke = sign_entry(&revocation(&m, &station, &old, &reason), &keys)?;
            key_entries::note_signers(&revoke, &keys, &m);
            let register = sign_entry(&registration(&m, &station, &new), &keys)?;
            let bundle = crate::import::encode_entries_file([&revoke[..], &register[..]])?;
            write_bundle(&out, &bundle)?;
            eprintln!(
                "wrote the revocation of {} and the registration of {} (fingerprint {}) for station {station} to {}",
                old.name(),
                new.name(),
                new.fingerprint(),
                out.display()
            );
        }
    }
    Ok(())
}

/// A verifier key given as the string or as a file holding it (one line),
/// as text: the enrolment rules parse it.
fn key_text(arg: &str) -> Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(text.trim_end().to_owned());
    }
    Ok(arg.to_owned())
}

/// Signs the registration of every device on all cores, in the list's
/// order, and encodes them as one entry bundle. Ed25519 signatures are
/// deterministic (RFC 8032), so the same list gives the same bytes.
pub fn batch(
    m: &ValidatedManifest,
    devices: &[enrol::Device],
    authority: &dyn NoteSigner,
) -> Result<Vec<u8>> {
    let keys = [authority];
    let signed: Vec<Vec<u8>> = devices
        .par_iter()
        .map(|d| sign_entry(&registration(m, &d.station, &d.key), &keys))
        .collect::<Result<_>>()?;
    if let Some(first) = signed.first() {
        key_entries::note_signers(first, &keys, m);
    }
    crate::import::encode_entries_file(signed.iter().map(Vec::as_slice))
}

/// Writes a bundle durably and whole (temporary file, rename): a crash
/// leaves the old file or the new one, never half a batch.
fn write_bundle(out: &Path, bytes: &[u8]) -> Result<()> {
    let out = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => out.to_owned(),
        _ => Path::new(".").join(out),
    };
    crate::store::blobs::write_atomic(&out, bytes)
        .map_err(|e| anyhow!("writing {}: {e}", out.display()))
}

/// A device list as read: its rows, the lines that were not rows, and
/// where each line number points (a CSV's lines, or a directory's files).
pub struct DeviceList {
    rows: Vec<Row>,
    errors: Vec<RowError>,
    source: PathBuf,
    /// For a directory: the file of row `line` is `files[line - 1]`.
    files: Option<Vec<String>>,
}

impl DeviceList {
    /// Reads a CSV file or a directory of `<station>.vkey` files.
    pub fn read(path: &Path) -> Result<DeviceList> {
        if path.is_dir() {
            return DeviceList::read_dir(path);
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let (rows, errors) = enrol::parse_csv(&bytes);
        Ok(DeviceList {
            rows,
            errors,
            source: path.to_owned(),
            files: None,
        })
    }

    /// Every `*.vkey` file of `dir`, by name; the station is the name
    /// without `.vkey`, the key the file's one line. Other files are not
    /// devices (a README, a checksum list) and are left alone; a station
    /// missing from the list shows in the count `batch` prints.
    fn read_dir(dir: &Path) -> Result<DeviceList> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".vkey"))
            .collect();
        names.sort();
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        for (i, name) in names.iter().enumerate() {
            let line = i + 1;
            let station = name.trim_end_matches(".vkey").to_owned();
            let path = dir.join(name);
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let text = std::str::from_utf8(&bytes).ok().map(|t| {
                t.strip_prefix('\u{feff}')
                    .unwrap_or(t)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
            });
            match text.as_deref() {
                Some([vkey]) => rows.push(Row {
                    line,
                    station,
                    vkey: (*vkey).to_owned(),
                }),
                _ => errors.push(RowError {
                    line,
                    code: tallyboard_core::ErrorCode::EnrolLineMalformed,
                    message: "a key file holds exactly one line of UTF-8: the verifier key"
                        .to_owned(),
                }),
            }
        }
        Ok(DeviceList {
            rows,
            errors,
            source: dir.to_owned(),
            files: Some(names),
        })
    }

    /// Where line `line` is, for a report: `devices.csv:12`, `dir/x.vkey`.
    pub fn place(&self, line: usize) -> String {
        match (&self.files, line) {
            (_, 0) => self.source.display().to_string(),
            (Some(files), n) => self.source.join(&files[n - 1]).display().to_string(),
            (None, n) => format!("{}:{n}", self.source.display()),
        }
    }

    /// The core's checks of every row (key parsing on all cores), with the
    /// lines that were not rows: the devices, or every problem by line.
    pub fn check(&self, m: &ValidatedManifest) -> Result<Vec<enrol::Device>, Vec<RowError>> {
        let election = m.election_id();
        let keys = self
            .rows
            .par_iter()
            .map(|r| enrol::parse_key(election, r))
            .collect();
        let checked = enrol::check(m, &self.rows, keys);
        let mut errors = self.errors.clone();
        match checked {
            Ok(d) if errors.is_empty() => return Ok(d),
            Ok(_) => {}
            Err(e) => errors.extend(e),
        }
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}
