//! The checkpoints and witnesses page (`/checkpoints`): the latest signed
//! checkpoint as published, its size and root, which of the manifest's
//! witnesses cosigned it (each cosignature verified, not just named), and
//! the recent checkpoints.

use super::Ctx;
use crate::site::i18n::L;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use tallyboard_core::checkpoint::{Checkpoint, MAX_CHECKPOINT_SIZE};
use tallyboard_core::cosignature::verify_cosignature;
use tallyboard_core::manifest::{ValidatedManifest, Witness};
use tallyboard_core::note::{Note, VerifierKey};

/// The manifest's witnesses whose cosignature on this signed checkpoint
/// verifies (an empty list until witnesses cosign), each with the time
/// its cosignature carries (C2SP tlog-cosignature: POSIX seconds, signed
/// with the checkpoint).
pub fn cosigners<'a>(manifest: &'a ValidatedManifest, note: &[u8]) -> Vec<(&'a Witness, u64)> {
    let Ok(n) = Note::parse(note, MAX_CHECKPOINT_SIZE) else {
        return Vec::new();
    };
    manifest
        .manifest()
        .keys
        .witnesses
        .iter()
        .filter_map(|w| {
            let k = VerifierKey::parse(&w.vkey).ok()?;
            n.signatures
                .iter()
                .find_map(|s| verify_cosignature(&n.text, s, &k).ok())
                .map(|at| (w, at))
        })
        .collect()
}

/// The newest checkpoint the board asked its witnesses to cosign, when it
/// runs with a witness policy: (size, the manifest's witnesses whose
/// cosignature on it verifies, whether the policy's quorum is met, the
/// cosigned note).
pub struct Cosigned<'a> {
    /// Its tree size.
    pub size: u64,
    /// Witnesses whose cosignature verifies, with its timestamp.
    pub by: Vec<(&'a Witness, u64)>,
    /// Whether the policy's quorum is met.
    pub quorum: bool,
    /// The note with the cosignatures.
    pub note: String,
}

impl Cosigned<'_> {
    /// When the witnesses last vouched for the log: the latest of their
    /// cosignature times on this checkpoint (`spec/site.md` §2, "Last
    /// updated").
    pub fn last_updated(&self) -> Option<u64> {
        self.by.iter().map(|&(_, at)| at).max()
    }
}

/// See [`Cosigned`]; `None` without a witness policy or before the first push.
pub fn cosigned(site: &crate::site::Site) -> Option<Cosigned<'_>> {
    let w = site.app.witnessing.as_ref()?.latest()?;
    Some(Cosigned {
        size: w.size,
        by: cosigners(&site.app.manifest, w.checkpoint.as_bytes()),
        quorum: w.quorum_met,
        note: w.checkpoint.clone(),
    })
}

/// `GET /checkpoints`.
pub async fn checkpoints(ctx: Ctx) -> Response {
    let site = ctx.site.clone();
    let snap = site.snap();
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let m = site.app.manifest.manifest();
    let cp = &snap.checkpoint;
    let witnessed = cosigned(&site);
    let signed: Vec<(&Witness, u64)> = witnessed.as_ref().map(|w| w.by.clone()).unwrap_or_default();
    let title = lang.t(L::NavCheckpoints);
    let body = html! {
        h1 { (title) }
        section {
            h2 { (lang.t(L::LatestCheckpoint)) }
            dl {
                dt { (lang.t(L::CheckpointSize)) }
                dd class="num" data-live="size" { (lang.num(cp.checkpoint.size)) }
                dt { (lang.t(L::RootHash)) }
                dd { code dir="ltr" { (cp.checkpoint.root.to_hex()) } }
            }
            pre dir="ltr" { (String::from_utf8_lossy(&cp.bytes)) }
            p { a href="/checkpoint" { code dir="ltr" { "/checkpoint" } } " · " a href=(format!("/api/v1/checkpoints/{}", cp.checkpoint.size)) { code dir="ltr" { (format!("/api/v1/checkpoints/{}", cp.checkpoint.size)) } } }
            div id="verify-here" data-size=(cp.checkpoint.size) data-lang=(lang.code()) {
                noscript { p { (lang.t(L::VerifyNoScript)) } }
            }
        }
        section {
            h2 { (lang.t(L::Witnesses)) }
            p class="note" { (lang.t(L::WitnessNote)) }
            table {
                thead { tr { th scope="col" { (lang.t(L::Witnesses)) } th scope="col" { (lang.t(L::Kind)) } th scope="col" { (lang.t(L::CosignedBy)) } } }
                tbody {
                    @for w in &m.keys.witnesses {
                        tr {
                            td data-label=(lang.t(L::Witnesses)) { (lang.pick(&w.name_fa, &w.name_en)) br; code dir="ltr" class="small" { (w.vkey) } }
                            td data-label=(lang.t(L::Kind)) { (lang.t(if w.role == "guardian-council" { L::RoleGuardianCouncil } else { L::RoleObserver })) }
                            td data-label=(lang.t(L::CosignedBy)) {
                                @match signed.iter().find(|s| s.0.vkey == w.vkey) {
                                    Some(&(_, at)) => { "✓ " (lang.datetime(at)) }
                                    None => { (lang.t(L::NoneYet)) }
                                }
                            }
                        }
                    }
                }
            }
            @match &witnessed {
                Some(w) if !w.by.is_empty() => {
                    p {
                        (lang.t(L::WitnessedCheckpoint)) " " (lang.num(w.size)) " — "
                        (lang.t(if w.quorum { L::QuorumMet } else { L::QuorumNotMet }))
                    }
                    @if let Some(at) = w.last_updated() {
                        p class="updated" { (lang.t(L::LastUpdated)) ": " (lang.datetime(at)) " — " (lang.t(L::LastUpdatedNote)) }
                    }
                    pre dir="ltr" { (w.note) }
                }
                _ => { p { (lang.t(L::CosignedBy)) ": " (lang.t(L::NoneYet)) } }
            }
        }
        section {
            h2 { (lang.t(L::RecentCheckpoints)) }
            table {
                thead { tr { th scope="col" { (lang.t(L::CheckpointSize)) } th scope="col" { (lang.t(L::RootHash)) } } }
                tbody {
                    @for (size, bytes) in &snap.recent {
                        @let root = Note::parse(bytes, MAX_CHECKPOINT_SIZE).ok().and_then(|n| Checkpoint::parse(&n.text).ok()).map(|c| c.root.to_hex());
                        tr {
                            td class="num" data-label=(lang.t(L::CheckpointSize)) { a href=(format!("/api/v1/checkpoints/{size}")) { (lang.num(*size)) } }
                            td data-label=(lang.t(L::RootHash)) { code dir="ltr" class="small" { (root.unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
    };
    let mut page = ctx.page(title, snap.size);
    page.scripts = &["/static/verify.js"];
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.to_owned(), "/checkpoints".to_owned()),
    ];
    ctx.respond(StatusCode::OK, page, body)
}
