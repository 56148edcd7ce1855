//! The role keys in force: the manifest's, changed by the log's
//! `tallyboard/role-key/v1` entries (`spec/keys.md`).
//!
//! Which key signs for the authority and the supervisors, and which
//! witness keys the election's witness policy counts, is part of the log's
//! meaning, so it lives in the log state: the board checks submissions
//! against it and every verifier's replay follows the same changes. A
//! verifier's pinned keys ([`PinnedRoles`]) are checked against the keys
//! the manifest names, so a log whose manifest names keys of its own (what
//! a log-key holder alone could write) fails the audit; keys rotated in
//! later are trusted through the chain of role-key entries from those.

use crate::entry::{Role, RoleKey};
use crate::error::ErrorCode;
use crate::manifest::ValidatedManifest;
use crate::note::VerifierKey;
use crate::policy::Policy;
use crate::validate::ValidationError;

/// A key a role held, and from which entry (`None`: the manifest's).
#[derive(Clone, Debug)]
pub struct HeldKey {
    /// The role.
    pub role: Role,
    /// The key.
    pub key: VerifierKey,
    /// The index of the role-key entry that brought it in, or `None` for a
    /// key the manifest names.
    pub since: Option<u64>,
    /// The index of the role-key entry that replaced or revoked it.
    pub until: Option<u64>,
}

/// The role keys in force, and every key each role has held.
#[derive(Clone, Debug)]
pub struct RoleKeys {
    /// The log key: never a role's (`spec/keys.md` §1).
    log: VerifierKey,
    authority: VerifierKey,
    supervisors: Vec<VerifierKey>,
    witness_policy: Policy,
    held: Vec<HeldKey>,
}

impl RoleKeys {
    /// The keys the manifest names: what is in force before any role-key
    /// entry.
    pub fn from_manifest(m: &ValidatedManifest) -> RoleKeys {
        let mut held = vec![HeldKey {
            role: Role::Authority,
            key: m.authority().clone(),
            since: None,
            until: None,
        }];
        for (role, keys) in [
            (Role::Supervisor, m.supervisors()),
            (Role::Witness, m.witnesses()),
        ] {
            held.extend(keys.iter().map(|k| HeldKey {
                role,
                key: k.clone(),
                since: None,
                until: None,
            }));
        }
        RoleKeys {
            log: m.log_key().clone(),
            authority: m.authority().clone(),
            supervisors: m.supervisors().to_vec(),
            witness_policy: m.witness_policy().clone(),
            held,
        }
    }

    /// The authority's key in force.
    pub fn authority(&self) -> &VerifierKey {
        &self.authority
    }

    /// The supervisor keys in force.
    pub fn supervisors(&self) -> &[VerifierKey] {
        &self.supervisors
    }

    /// The election's witness policy with the witness keys in force: the
    /// quorum an announcement's cosignatures must meet.
    pub fn witness_policy(&self) -> &Policy {
        &self.witness_policy
    }

    /// Every key every role has held, manifest keys first, then in log
    /// order.
    pub fn held(&self) -> &[HeldKey] {
        &self.held
    }

    fn in_force(&self, role: Role, key: &VerifierKey) -> bool {
        let k = key.to_vkey_string();
        match role {
            Role::Authority => self.authority.to_vkey_string() == k,
            Role::Supervisor => self.supervisors.iter().any(|s| s.to_vkey_string() == k),
            Role::Witness => self
                .witness_policy
                .witnesses
                .iter()
                .any(|w| w.key.to_vkey_string() == k),
        }
    }

    /// The rules of a role-key entry against the keys in force
    /// (`spec/validation.md` §1.8): `old` is a key the role holds now
    /// (`role.key-not-current`); `new` was never held by any role
    /// (`role.key-reused`: a replaced or revoked key never returns, and one
    /// key never serves two roles); a revocation leaves at least one
    /// supervisor (`role.last-supervisor`).
    ///
    /// # Errors
    /// The first rule broken.
    pub fn check(&self, r: &RoleKey) -> Result<(), ValidationError> {
        if !self.in_force(r.role, &r.old) {
            return Err(ValidationError::new(
                ErrorCode::RoleKeyNotCurrent,
                format!(
                    "{} is not a {} key in force",
                    r.old.to_vkey_string(),
                    r.role
                ),
            ));
        }
        if let Some(new) = &r.new {
            let s = new.to_vkey_string();
            let same = |k: &VerifierKey| {
                k.to_vkey_string() == s || (k.name() == new.name() && k.key_id() == new.key_id())
            };
            if same(&self.log) {
                return Err(ValidationError::new(
                    ErrorCode::RoleKeyReused,
                    format!("{s} is the log key, which never signs for a role"),
                ));
            }
            if let Some(h) = self.held.iter().find(|h| same(&h.key)) {
                return Err(ValidationError::new(
                    ErrorCode::RoleKeyReused,
                    format!(
                        "{s} (or its name and key ID) was already held as a {} key: a key never returns and never serves two roles",
                        h.role
                    ),
                ));
            }
        } else if r.role == Role::Supervisor && self.supervisors.len() < 2 {
            return Err(ValidationError::new(
                ErrorCode::RoleLastSupervisor,
                "the election's last supervisor key cannot be revoked, only replaced",
            ));
        }
        Ok(())
    }

    /// Applies a role-key entry accepted at `index` ([`Self::check`]).
    pub(super) fn apply(&mut self, index: u64, r: &RoleKey) {
        let old = r.old.to_vkey_string();
        for h in &mut self.held {
            if h.role == r.role && h.until.is_none() && h.key.to_vkey_string() == old {
                h.until = Some(index);
            }
        }
        match (r.role, &r.new) {
            (Role::Authority, Some(new)) => self.authority = new.clone(),
            (Role::Authority, None) => {}
            (Role::Supervisor, new) => {
                if let Some(at) = self
                    .supervisors
                    .iter()
                    .position(|k| k.to_vkey_string() == old)
                {
                    match new {
                        Some(n) => self.supervisors[at] = n.clone(),
                        None => {
                            self.supervisors.remove(at);
                        }
                    }
                }
            }
            (Role::Witness, Some(new)) => {
                // The policy's witness keeps its name, so groups and the
                // quorum keep their meaning.
                for w in &mut self.witness_policy.witnesses {
                    if w.key.to_vkey_string() == old {
                        w.key = new.clone();
                    }
                }
            }
            (Role::Witness, None) => {}
        }
        if let Some(new) = &r.new {
            self.held.push(HeldKey {
                role: r.role,
                key: new.clone(),
                since: Some(index),
                until: None,
            });
        }
    }

    /// Checks a verifier's pinned role keys: each must be a key the
    /// manifest names for its role. Not a key rotated in later: a log that
    /// starts from keys of its own could "rotate" to a pinned key's public
    /// half without holding it, so the chain must start at a pinned key.
    /// A mismatch means the log's manifest names keys the verifier does
    /// not trust.
    ///
    /// # Errors
    /// `manifest.role-key-mismatch`, naming the role and the keys the log
    /// gives it.
    pub fn check_pinned(&self, pins: &PinnedRoles) -> Result<(), ValidationError> {
        for (role, key) in pins.iter() {
            let s = key.to_vkey_string();
            if !self
                .held
                .iter()
                .any(|h| h.role == role && h.since.is_none() && h.key.to_vkey_string() == s)
            {
                let logged: Vec<String> = self
                    .held
                    .iter()
                    .filter(|h| h.role == role && h.since.is_none())
                    .map(|h| h.key.to_vkey_string())
                    .collect();
                return Err(ValidationError::new(
                    ErrorCode::ManifestRoleKeyMismatch,
                    format!(
                        "you pinned {s} as a {role} key; this log's manifest names {}",
                        logged.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Role keys a verifier was given out of band (`keys/authority.vkey`,
/// `keys/supervisor.vkey`, ...), which the log's must match.
#[derive(Clone, Debug, Default)]
pub struct PinnedRoles {
    /// Pinned authority keys (any one of them held by the authority).
    pub authority: Vec<VerifierKey>,
    /// Pinned supervisor keys.
    pub supervisors: Vec<VerifierKey>,
    /// Pinned witness keys.
    pub witnesses: Vec<VerifierKey>,
}

impl PinnedRoles {
    /// Whether no key is pinned.
    pub fn is_empty(&self) -> bool {
        self.authority.is_empty() && self.supervisors.is_empty() && self.witnesses.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (Role, &VerifierKey)> {
        self.authority
            .iter()
            .map(|k| (Role::Authority, k))
            .chain(self.supervisors.iter().map(|k| (Role::Supervisor, k)))
            .chain(self.witnesses.iter().map(|k| (Role::Witness, k)))
    }
}
