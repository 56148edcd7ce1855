//! The one verification procedure: the checks that `tallyboard-verify
//! checkpoint`, `receipt` and `inclusion` and the browser's "Verify here"
//! perform (spec/verification.md §2–§4, spec/browser-verification.md §3).
//!
//! Every step reads the read path through a [`Source`] (HTTP, a directory,
//! or [`crate::Evidence`] the browser fetched beforehand), does no other
//! I/O, and records [`Check`]s: a stable [`CheckId`], a [`Status`], a
//! stable code when it fails, and the data it found ([`facts`]). No step
//! writes a sentence; [`crate::english`] and the site's JavaScript do.
//!
//! | step | checks |
//! |---|---|
//! | [`checkpoint`] | `log-key`, `checkpoint-signature`, `witness-cosignatures` |
//! | [`tiles`] | `tiles-root` |
//! | [`manifest`] | `manifest` |
//! | [`station`] | `registration-inclusion`, `registration-signature`, `entry-inclusion`, `entry-signature`, `arithmetic` |
//! | [`screen`] | `revision`, `screen`, `minutes` (a page's verification of what it shows) |
//!
//! [`verify_log`] and [`verify_station`] run them in order; the command
//! line's `inclusion` runs the same steps around its scan of every bundle.

pub mod checkpoint;
pub mod facts;
pub mod key_history;
pub mod manifest;
mod result;
pub mod screen;
pub mod station;
pub mod tiles;

pub use result::{Check, CheckId, Status, Verification};

use crate::tiles::read_entries;
use crate::{LogKey, Result, Source};
use station::{StationClaims, StationEntry};
use tallyboard_core::policy::Policy;

/// What the verification trusts: the log key, a witness policy if one was
/// given, and (for a report that says so) where the key came from.
#[derive(Clone, Copy, Debug)]
pub struct Trust<'a> {
    /// The log's key and origin.
    pub log: &'a LogKey,
    /// A witness policy (C2SP tlog-policy): the checkpoint must meet its
    /// quorum. Without one, cosignatures are reported as information.
    pub policy: Option<&'a Policy>,
    /// Where the caller got the log key (`page`, `board`, ...), reported as
    /// the `log-key` check; `None` reports no such check.
    pub key_source: Option<&'a str>,
    /// Without `policy`: require the quorum of the election's own witness
    /// policy, the manifest's `witness_policy` that entry 0 commits to
    /// (the browser's default, spec/browser-verification.md §3). False:
    /// cosignatures are information.
    pub committed_policy: bool,
}

/// Verifies checkpoint bytes alone: `checkpoint-signature` and
/// `witness-cosignatures` (with no manifest yet, only a policy's witnesses
/// are known). The first thing a page checks, before it knows which tiles
/// to fetch.
pub fn verify_checkpoint(bytes: &[u8], trust: &Trust<'_>) -> Verification {
    let mut v = Verification::for_checkpoint(trust.key_source.is_some());
    checkpoint::key(&mut v, trust);
    if let Some(cp) = checkpoint::open(&mut v, bytes, trust.log, "checkpoint") {
        checkpoint::witnesses(&mut v, &cp, trust, &[]);
    }
    v.finish()
}

/// Verifies the log at its current checkpoint (the checkpoint page):
/// `checkpoint-signature`, `tiles-root`, `manifest` (entry 0 and the
/// manifest), `witness-cosignatures`.
pub fn verify_log(src: &dyn Source, trust: &Trust<'_>) -> Result<Verification> {
    let mut v = Verification::for_log(trust.key_source.is_some());
    checkpoint::key(&mut v, trust);
    let Some(cp) = checkpoint::fetch(&mut v, src, trust.log)? else {
        return Ok(v.finish());
    };
    let entry0 = read_entries(src, cp.checkpoint.size, &[0])?;
    verify_after_checkpoint(&mut v, src, trust, &cp, &entry0, None)?;
    Ok(v.finish())
}

/// What a station page asks: the station, the entry it shows, and the
/// indexes of the station's key entries as the board lists them
/// (untrusted: each is proven, and must be the station's).
#[derive(Clone, Debug)]
pub struct StationPage<'a> {
    /// The station.
    pub station: &'a str,
    /// The entry shown (a tally, or any of the station's entries).
    pub index: u64,
    /// The station's key registrations and revocations, by index.
    pub key_indexes: &'a [u64],
    /// What the page shows (spec/browser-verification.md §3.1): each
    /// tally with its figure cells. Empty: the entry at `index` alone is
    /// verified, without the screen checks.
    pub shown: &'a [screen::Shown],
}

/// Verifies one entry of a station and the key entries before it (a
/// station page): the log checks, then the station's.
pub fn verify_station(
    src: &dyn Source,
    trust: &Trust<'_>,
    page: &StationPage<'_>,
) -> Result<Verification> {
    let screen_checks = !page.shown.is_empty();
    let mut v = if screen_checks {
        Verification::for_screen(trust.key_source.is_some())
    } else {
        Verification::for_station(trust.key_source.is_some())
    };
    checkpoint::key(&mut v, trust);
    let Some(cp) = checkpoint::fetch(&mut v, src, trust.log)? else {
        return Ok(v.finish());
    };
    let size = cp.checkpoint.size;
    // The entries shown (every contest's table), and the standing
    // revisions the board lists for them, each to be proven.
    let mut shown: Vec<u64> = vec![page.index];
    shown.extend(page.shown.iter().flat_map(screen::Shown::indexes));
    shown.sort_unstable();
    shown.dedup();
    let last = shown.last().copied().unwrap_or(page.index);
    let mut keys: Vec<u64> = page
        .key_indexes
        .iter()
        .copied()
        .filter(|&k| k < last)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let claims = StationClaims {
        station: page.station.to_string(),
        focus: Some(page.index),
        key_entries: read_entries(src, size, &keys)?,
        entries: read_entries(src, size, &shown)?,
    };
    let entry0 = read_entries(src, size, &[0])?;
    verify_after_checkpoint(&mut v, src, trust, &cp, &entry0, Some(&claims))?;
    if screen_checks && v.check(CheckId::Revision).is_none() {
        if v.status(CheckId::EntryInclusion) == Some(Status::Pass) {
            let rows = v.entries.clone();
            screen::screen(
                &mut v,
                src,
                page.station,
                page.shown,
                &rows,
                &claims.entries,
            )?;
        } else {
            v.skip_rest(CheckId::EntryInclusion);
        }
    }
    Ok(v.finish())
}

/// Every step after the checkpoint: the tiles for entry 0 and the claimed
/// entries, the manifest, the witnesses, and the station's entries if
/// any. `entry0` is entry 0 as served (the caller may have read it
/// already). Used by [`verify_log`], [`verify_station`] and the command
/// line's `inclusion`.
pub fn verify_after_checkpoint(
    v: &mut Verification,
    src: &dyn Source,
    trust: &Trust<'_>,
    cp: &checkpoint::SignedCheckpoint,
    entry0: &[crate::tiles::ServedEntry],
    claims: Option<&StationClaims>,
) -> Result<()> {
    let indexes: Vec<u64> = claims.map(StationClaims::indexes).unwrap_or_default();
    let reader = tiles::tiles_root(v, src, &cp.checkpoint, &indexes)?;
    let manifest = match &reader {
        Some(reader) => manifest::manifest_for(
            v,
            src,
            reader,
            &cp.checkpoint,
            trust.log,
            entry0,
            claims.map(|c| c.station.as_str()),
        )?,
        None => None,
    };
    let known = manifest.as_ref().map(|m| m.witnesses()).unwrap_or(&[]);
    match (&manifest, trust.policy, trust.committed_policy) {
        (Some(m), None, true) => {
            let committed = Trust {
                policy: Some(m.witness_policy()),
                ..*trust
            };
            checkpoint::witnesses(v, cp, &committed, known);
            checkpoint::policy_source(v, "manifest");
        }
        _ => checkpoint::witnesses(v, cp, trust, known),
    }
    match (&reader, &manifest, claims) {
        (Some(reader), Some(manifest), Some(claims)) => {
            let rows = station::station(v, reader, &cp.checkpoint, manifest, claims);
            if v.status(CheckId::EntryInclusion) == Some(Status::Pass) {
                v.entry = claims
                    .focus
                    .and_then(|i| rows.iter().find(|r| r.index == i))
                    .map(StationEntry::shown);
            }
            v.entries = rows;
        }
        (None, _, _) => v.skip_rest(CheckId::TilesRoot),
        (_, None, _) => v.skip_rest(CheckId::Manifest),
        _ => {}
    }
    Ok(())
}
