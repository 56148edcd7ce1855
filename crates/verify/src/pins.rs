//! Role keys a verifier pins (`spec/keys.md` §2): read from a directory
//! laid out like the repository's `keys/` (`authority.vkey`,
//! `supervisor*.vkey`, `witness*.vkey`, one C2SP verifier key per file),
//! so that the log's manifest must name these keys, not keys of the log
//! operator's own.

use crate::Error;
use std::path::Path;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::state::PinnedRoles;

/// Reads the pinned role keys in `dir`. At least the authority's key must
/// be there: pinning nothing would pin nothing.
///
/// # Errors
/// A file that cannot be read or is not a verifier key; no
/// `authority.vkey`.
pub fn load(dir: &Path) -> Result<PinnedRoles, Error> {
    let mut pins = PinnedRoles::default();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::CouldNotRun(format!("reading {}: {e}", dir.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".vkey"))
        .collect();
    names.sort();
    for name in names {
        let list = if name == "authority.vkey" {
            &mut pins.authority
        } else if name.starts_with("supervisor") {
            &mut pins.supervisors
        } else if name.starts_with("witness") {
            &mut pins.witnesses
        } else {
            // log.vkey and anything else: the log key is given on its own.
            continue;
        };
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::CouldNotRun(format!("reading {}: {e}", path.display())))?;
        let key = VerifierKey::parse(text.trim())
            .map_err(|e| Error::CouldNotRun(format!("{}: {e}", path.display())))?;
        list.push(key);
    }
    if pins.authority.is_empty() {
        return Err(Error::CouldNotRun(format!(
            "{} holds no authority.vkey: nothing to pin the log's roles to",
            dir.display()
        )));
    }
    Ok(pins)
}
