//! `tallyboard/role-key/v1`: a role's key changes during the election
//! (`spec/entries.md` §3.12, `spec/keys.md`).
//!
//! The manifest names the authority's, the supervisors' and the witnesses'
//! keys, and verifiers pin them. A key that is lost, compromised or due for
//! replacement is rotated (or, for one of several supervisor keys, revoked)
//! by this entry, which two roles sign: the authority and a supervisor
//! (`crate::validate::role_signers`), so that neither the log key nor any
//! single role can put a key of its own in a role.

use super::authority::push;
use super::grammar::{self, FieldReader};
use super::EntryError;
use crate::note::{VerifierKey, SIG_COSIGNATURE_V1, SIG_ED25519};
use crate::ErrorCode;
use std::fmt;

/// A role whose keys the manifest names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The election authority (`keys.authority`).
    Authority,
    /// A supervisor (`keys.supervisors`).
    Supervisor,
    /// A witness (`keys.witnesses`, and the witness policy).
    Witness,
}

impl Role {
    /// The spelling in the entry and in `spec/`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Authority => "authority",
            Role::Supervisor => "supervisor",
            Role::Witness => "witness",
        }
    }

    /// The signed-note signature type of the role's keys: Ed25519 note keys
    /// for the signing roles, tlog-cosignature keys for witnesses.
    pub fn key_type(self) -> u8 {
        match self {
            Role::Authority | Role::Supervisor => SIG_ED25519,
            Role::Witness => SIG_COSIGNATURE_V1,
        }
    }

    fn parse(v: (&str, usize)) -> Result<Role, EntryError> {
        match v.0 {
            "authority" => Ok(Role::Authority),
            "supervisor" => Ok(Role::Supervisor),
            "witness" => Ok(Role::Witness),
            _ => Err(EntryError::new(
                ErrorCode::EntryBadValue,
                format!(
                    "line {}: field 'role': expected authority, supervisor or witness",
                    v.1
                ),
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role's key replaced (`new` given) or, for a supervisor, revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleKey {
    /// Election identifier.
    pub election: String,
    /// Whose key.
    pub role: Role,
    /// The key the role holds now, which stops counting from this entry.
    pub old: VerifierKey,
    /// The key that replaces it; `None` revokes `old` (supervisors only:
    /// an election always has an authority, and a witness is replaced, so
    /// that the witness policy's groups keep their members).
    pub new: Option<VerifierKey>,
    /// Why, for people.
    pub reason: String,
}

const FIELDS: &[&str] = &["election", "role", "old", "new", "reason"];

fn parse_key(name: &str, role: Role, v: (&str, usize)) -> Result<VerifierKey, EntryError> {
    let key = VerifierKey::parse(v.0).map_err(|e| {
        EntryError::new(
            crate::error::Coded::code(&e),
            format!("line {}: field '{name}': {e}", v.1),
        )
    })?;
    if key.sig_type() != role.key_type() {
        return Err(EntryError::new(
            ErrorCode::KeyMalformed,
            format!(
                "line {}: field '{name}': a {role} key has signature type {:#04x}, not {:#04x}",
                v.1,
                role.key_type(),
                key.sig_type()
            ),
        ));
    }
    Ok(key)
}

impl RoleKey {
    pub(super) fn parse_body(body: &str) -> Result<Self, EntryError> {
        let mut r = FieldReader::new(body, FIELDS)?;
        let election = grammar::parse_id("election", r.required("election")?)?;
        let role = Role::parse(r.required("role")?)?;
        let old = parse_key("old", role, r.required("old")?)?;
        let new = match r.optional("new")? {
            Some(v) => Some(parse_key("new", role, v)?),
            None if role == Role::Supervisor => None,
            None => {
                return Err(EntryError::new(
                    ErrorCode::EntryMissingField,
                    format!("a {role} key can be replaced, not revoked: field 'new' is required"),
                ))
            }
        };
        if new
            .as_ref()
            .is_some_and(|n| n.to_vkey_string() == old.to_vkey_string())
        {
            return Err(EntryError::new(
                ErrorCode::EntryBadValue,
                "field 'new' is the same key as 'old'",
            ));
        }
        let reason = grammar::parse_text("reason", r.required("reason")?)?;
        r.finish()?;
        Ok(RoleKey {
            election,
            role,
            old,
            new,
            reason,
        })
    }

    pub(super) fn write_body(&self, out: &mut String) {
        push(out, "election", &self.election);
        push(out, "role", self.role.as_str());
        push(out, "old", &self.old.to_vkey_string());
        if let Some(n) = &self.new {
            push(out, "new", &n.to_vkey_string());
        }
        push(out, "reason", &self.reason);
    }
}
