//! `tallyboard demo --hsm`: the demo's log, authority and supervisor keys
//! generated in (or, on a rerun, found in) a PKCS#11 token, under the demo
//! roles' key names, so the played election is the demo's with only these
//! three public keys changed (its manifest names them). Stations and
//! witnesses keep their demo keys: they are not the board operator's.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use tallyboard_core::error::ErrorCode;
use tallyboard_core::note::NoteSigner;
use tallyboard_synth::{keys, RoleSigners, SyntheticElection};

use crate::hsm::{self, TokenKey};
use crate::signer::RoleSigner;

/// The token key of a demo role, generated in the token if it holds none.
fn role_key(token: &str, role: &str) -> Result<Arc<TokenKey>> {
    let name = keys::role_name(role).ok_or_else(|| anyhow::anyhow!("no demo role {role}"))?;
    let uri = hsm::key_uri(token, name)?;
    match TokenKey::open(&uri) {
        Ok(k) => Ok(Arc::new(k)),
        Err(e) if e.code == ErrorCode::HsmKeyNotFound => {
            let vkey = hsm::keygen(&uri)?;
            eprintln!(
                "{role}: generated in the token: {} ({})",
                vkey.to_vkey_string(),
                vkey.fingerprint()
            );
            Ok(Arc::new(TokenKey::open(&uri)?))
        }
        Err(e) => Err(e.into()),
    }
}

/// The election's role keys and the board's log signer, all in the token.
pub fn roles(token: &str) -> Result<(RoleSigners, RoleSigner)> {
    let log = role_key(token, "log")?;
    let roles = RoleSigners {
        log: log.verifier(),
        authority: role_key(token, "authority")?,
        supervisor: role_key(token, "supervisor")?,
    };
    Ok((roles, RoleSigner::Token(log)))
}

/// Writes the token keys' verifier keys to `dir/keys/<role>.vkey`: what an
/// independent verifier of this run is given in place of `keys/*.vkey`.
pub fn publish(e: &SyntheticElection, dir: &Path) -> Result<()> {
    let out = dir.join("keys");
    std::fs::create_dir_all(&out)?;
    let r = e.roles();
    for (role, vkey) in [
        ("log", r.log.clone()),
        ("authority", r.authority.verifier()),
        ("supervisor", r.supervisor.verifier()),
    ] {
        std::fs::write(
            out.join(format!("{role}.vkey")),
            format!("{}\n", vkey.to_vkey_string()),
        )?;
    }
    Ok(())
}

/// The summary line naming the token and the keys' fingerprints.
pub fn summary(e: &SyntheticElection, token: &str) -> String {
    let r = e.roles();
    let shown = token.split('?').next().unwrap_or(token);
    format!(
        "keys in token       {shown}: log {}, authority {}, supervisor {}",
        r.log.fingerprint(),
        r.authority.verifier().fingerprint(),
        r.supervisor.verifier().fingerprint()
    )
}
