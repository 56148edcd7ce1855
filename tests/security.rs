//! The security review's tests (issue 8; `spec/operations.md`, security):
//! private keys are refused with loose file modes and never appear in any
//! output; request targets cannot reach outside the store; request bodies
//! are bounded; slow clients are cut off; submissions can be rate-limited
//! per client address; exports are served from memory and `/live`
//! streams are capped (issue 17). Everything runs the real binary on
//! loopback. The only time bounds are generous "eventually" bounds on a
//! slow client or a background build.

#[path = "server/harness.rs"]
#[allow(dead_code)]
mod harness;

#[path = "security/raw.rs"]
#[allow(dead_code)]
mod raw;

#[path = "security/secrets.rs"]
mod secrets;

#[path = "security/traversal.rs"]
mod traversal;

#[path = "security/limits.rs"]
mod limits;

#[path = "security/edges.rs"]
mod edges;
#[path = "security/heavy.rs"]
mod heavy;
