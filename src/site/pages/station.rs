//! The station page (`/station/{id}`): the signed tally exactly as logged,
//! every revision with its reason, the minutes scan's hash, the entry's
//! index, its receipt (a C2SP tlog-proof against the page's checkpoint) and
//! inclusion proof, and the container of the in-browser verifier.

use super::{contest_name, Ctx};
use crate::site::i18n::{Lang, L};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use tallyboard_core::entry::{Entry, SignedEntry, Tally};
use tallyboard_core::manifest::{Candidate, Contest};
use tallyboard_core::merkle;
use tallyboard_core::tlog_proof::TlogProof;
use tallyboard_core::Hash;

/// What the supervisor decided about one of the station's boxes.
struct Supervised {
    contest: String,
    /// Index of the annulment, if the box is annulled.
    annulled_at: Option<u64>,
    /// (index of the standing tally, index of its approval), if approved.
    approved: Option<(u64, u64)>,
}

/// The annulments at `indexes`, read from the store: (index, reason code,
/// reason).
fn read_annulments(
    store: &crate::store::Store,
    indexes: &[u64],
) -> anyhow::Result<Vec<(u64, String, String)>> {
    let mut out = Vec::new();
    for &index in indexes {
        let bytes = store
            .entry(index)?
            .ok_or_else(|| anyhow::anyhow!("entry {index} is missing"))?;
        if let Ok(SignedEntry {
            entry: Entry::Annulment(a),
            ..
        }) = SignedEntry::parse(&bytes)
        {
            out.push((index, a.reason_code, a.reason));
        }
    }
    Ok(out)
}

/// One logged revision, read from the store.
struct Logged {
    index: u64,
    leaf: Hash,
    note: String,
    signers: Vec<String>,
    tally: Tally,
    receipt: String,
    proof: Vec<Hash>,
}

fn read_revisions(
    store: &crate::store::Store,
    indexes: &[u64],
    size: u64,
    checkpoint: &[u8],
) -> anyhow::Result<Vec<Logged>> {
    let mut out = Vec::new();
    let cache = crate::store::cache::TreeCache::new(store, size);
    for &index in indexes {
        let bytes = store
            .entry(index)?
            .ok_or_else(|| anyhow::anyhow!("entry {index} is missing"))?;
        let signed =
            SignedEntry::parse(&bytes).map_err(|e| anyhow::anyhow!("entry {index}: {e}"))?;
        let Entry::Tally(tally) = signed.entry else {
            continue;
        };
        let proof =
            merkle::prove_inclusion(index, size, &cache).map_err(|e| anyhow::anyhow!("{e}"))?;
        let receipt = TlogProof {
            extra: None,
            index,
            proof: proof.clone(),
            checkpoint: checkpoint.to_vec(),
        }
        .to_bytes();
        out.push(Logged {
            index,
            leaf: tallyboard_core::hash::leaf_hash(&bytes),
            signers: signed
                .note
                .signatures
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            note: String::from_utf8_lossy(&bytes).into_owned(),
            tally,
            receipt: String::from_utf8_lossy(&receipt).into_owned(),
            proof,
        });
    }
    Ok(out)
}

/// A tally's tables. Each figure cell names the tally field it shows
/// (`data-field`, spec/browser-verification.md §3.1) so that "Verify
/// here" compares it with the verified entry.
fn tally_table(lang: Lang, c: &Contest, t: &Tally) -> Markup {
    let row = |l: L, field: &str, v: u64| html! { tr { th scope="row" { (lang.t(l)) } td class="num" data-field=(field) { (lang.num(v)) } } };
    // Every candidate of a short ballot, zeros included; for a long one
    // (a Majlis constituency, up to thousands of names) only the lines the
    // station signed, which list non-zero votes only (spec/entries.md §3.4).
    let rows: Vec<(&Candidate, u64)> = if c.candidates.len() <= super::shown_candidates(c) {
        c.candidates
            .iter()
            .map(|k| (k, t.votes_of(k.code)))
            .collect()
    } else {
        let by_code: std::collections::HashMap<u32, &Candidate> =
            c.candidates.iter().map(|k| (k.code, k)).collect();
        t.votes
            .iter()
            .filter_map(|&(code, n)| Some((*by_code.get(&code)?, n)))
            .collect()
    };
    html! {
        div class="cols" {
            table class="candidates" {
                caption { (lang.t(L::Candidates)) }
                thead { tr { th scope="col" { (lang.t(L::Code)) } th scope="col" { (lang.t(L::Candidate)) } th scope="col" { (lang.t(L::Votes)) } } }
                tbody {
                    @for (k, n) in &rows {
                        tr {
                            td class="num" data-label=(lang.t(L::Code)) { (lang.num(u64::from(k.code))) }
                            td data-label=(lang.t(L::Candidate)) { (lang.pick(&k.name_fa, &k.name_en)) }
                            td class="num" data-label=(lang.t(L::Votes)) data-field=(format!("vote/{}", k.code)) { (lang.num(*n)) }
                        }
                    }
                }
            }
            table class="figures" {
                caption { (lang.t(L::Figures)) }
                tbody {
                    (row(L::Counterfoils, "counterfoils", t.figures.counterfoils))
                    (row(L::BallotsInBox, "ballots-in-box", t.figures.ballots_in_box))
                    (row(L::VotesTaken, "votes-taken", t.figures.votes_taken))
                    (row(L::Valid, "valid", t.figures.valid))
                    (row(L::VoidTaken, "void-taken", t.figures.void_taken))
                    (row(L::VoidNotTaken, "void-not-taken", t.figures.void_not_taken))
                }
            }
        }
    }
}

fn revision(lang: Lang, c: &Contest, r: &Logged, latest: bool, size: u64) -> Markup {
    let t = &r.tally;
    html! {
        details class="revision" open[latest] {
            summary {
                (lang.t(L::Revision)) " " (lang.num(u64::from(t.revision)))
                " — " (lang.t(L::Index)) " " (lang.num(r.index))
            }
            @if !latest { (tally_table(lang, c, t)) }
            dl {
                @if let Some(corr) = &t.correction {
                    dt { (lang.t(L::Reason)) }
                    dd { bdi dir="auto" { (corr.reason) } }
                    dt { (lang.t(L::Supersedes)) }
                    dd { code dir="ltr" { (corr.supersedes.to_hex()) } }
                }
                dt { (lang.t(L::Index)) }
                dd class="num" { a href=(format!("/api/v1/entries/{}", r.index)) { (lang.num(r.index)) } }
                dt { (lang.t(L::LeafHash)) }
                dd { code dir="ltr" { (r.leaf.to_hex()) } }
                dt { (lang.t(L::MinutesScan)) }
                dd {
                    @match &t.minutes_sha256 {
                        Some(h) => { a href=(format!("/api/v1/blobs/{}", h.to_hex())) { code dir="ltr" { (h.to_hex()) } } }
                        None => { (lang.t(L::MinutesNone)) }
                    }
                }
            }
            h4 { (lang.t(L::SignedNote)) " (" code dir="ltr" { (r.signers.join(", ")) } ")" }
            pre dir="ltr" { (r.note) }
            h4 { (lang.t(L::Receipt)) }
            pre dir="ltr" class="receipt" { (r.receipt) }
            h4 { (lang.t(L::InclusionProof)) }
            p { a href=(format!("/api/v1/proof/inclusion?index={}&size={size}", r.index)) { code dir="ltr" { "/api/v1/proof/inclusion" } } }
            ol dir="ltr" class="proof" {
                @for h in &r.proof { li { code { (h.to_hex()) } } }
            }
        }
    }
}

/// `GET /station/{id}`.
pub async fn station(ctx: Ctx, Path(id): Path<String>) -> Response {
    let site = ctx.site.clone();
    let m = site.app.manifest.manifest();
    let Some(info) = site.app.manifest.station(&id) else {
        return ctx.not_found(site.snap().size);
    };
    // Everything the log says about the station, from the one log state at
    // the snapshot's checkpoint.
    let (size, checkpoint, rec, actions) = {
        let s = site.snap();
        let state = s.state();
        let rec = state.station(&id).cloned().unwrap_or_default();
        let actions: Vec<Supervised> = info
            .contests
            .iter()
            .map(|c| Supervised {
                contest: c.clone(),
                annulled_at: state.supervision().annulled(&id, c),
                approved: rec.tallies(c).and_then(|t| {
                    Some((
                        t.latest.index,
                        state.supervision().approval_of(t.latest.index)?,
                    ))
                }),
            })
            .collect();
        (s.size, s.checkpoint.bytes.clone(), rec, actions)
    };
    if let Some(r) = ctx.not_modified(size) {
        return r;
    }
    let lang = ctx.lang;
    let mut per_contest: Vec<(&Contest, Vec<u64>)> = Vec::new();
    for cid in &info.contests {
        if let Some(&ci) = site.geo.contest_idx.get(cid) {
            let idx: Vec<u64> = match rec.tallies(cid) {
                Some(t) => match crate::log::box_revisions(&site.app.store, t) {
                    Ok(list) => list.iter().map(|t| t.index).collect(),
                    Err(_) => {
                        let mut r = ctx.not_found(size);
                        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        return r;
                    }
                },
                None => Vec::new(),
            };
            per_contest.push((&m.contests[ci], idx));
        }
    }
    let all: Vec<u64> = per_contest.iter().flat_map(|(_, v)| v.clone()).collect();
    let annulments: Vec<u64> = actions.iter().filter_map(|a| a.annulled_at).collect();
    let store = site.app.store.handle();
    let cp = checkpoint.clone();
    let read = tokio::task::spawn_blocking(move || {
        let logged = read_revisions(&store, &all, size, &cp)?;
        let reasons = read_annulments(&store, &annulments)?;
        anyhow::Ok((logged, reasons))
    })
    .await;
    let (logged, reasons) = match read {
        Ok(Ok(l)) => l,
        _ => {
            let mut r = ctx.not_found(size);
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return r;
        }
    };
    let county = site
        .geo
        .county_idx
        .get(&info.county)
        .map(|&i| &m.counties[i]);
    let province = county
        .and_then(|k| site.geo.province_idx.get(&k.province))
        .map(|&i| &m.provinces[i]);
    let verify_index = per_contest.iter().find_map(|(_, v)| v.last().copied());
    let title = format!("{} {}", lang.t(L::Station), lang.digits(&id));
    let body = html! {
        h1 { (lang.t(L::Station)) " " span dir="ltr" { (lang.digits(&id)) } }
        p class="meta" {
            (lang.t(L::Kind)) ": " (if info.kind == "mobile" { lang.t(L::KindMobile) } else { lang.t(L::KindFixed) })
        }
        dl {
            dt { (lang.t(L::StationKey)) }
            dd {
                @match rec.last_key() {
                    Some(k) => { code dir="ltr" { (k.key) } @if k.revoked_at.is_some() { " (" (lang.t(L::KeyRevoked)) ")" } }
                    None => { (lang.t(L::NoKey)) }
                }
            }
        }
        // "Verify here" first: a phone shows it before the long
        // revisions, receipts and proofs; it checks the tables below.
        @if let Some(ix) = verify_index {
            section {
                h2 { (lang.t(L::VerifyHere)) }
                div id="verify-here" data-index=(ix) data-station=(id) data-size=(size) data-lang=(lang.code())
                    data-log-vkey=(site.app.log_vkey.to_vkey_string()) data-policy="manifest" {
                    noscript { p { (lang.t(L::VerifyNoScript)) } }
                }
            }
        }
        @for (c, idx) in &per_contest {
            section class="contest" {
                h2 { (contest_name(lang, c)) }
                @let revs: Vec<&Logged> = logged.iter().filter(|l| idx.contains(&l.index)).collect();
                @if let Some(last) = revs.last() {
                    h3 { (lang.t(L::SignedTally)) " — " (lang.t(L::Revision)) " " (lang.num(u64::from(last.tally.revision))) }
                    // What "Verify here" compares: the standing revision's
                    // tables and minutes image (spec/browser-verification.md §3.1).
                    div class="shown-tally" data-verify-index=(last.index) data-contest=(c.id) {
                        (tally_table(lang, c, &last.tally))
                        @if let Some(h) = &last.tally.minutes_sha256 {
                            figure class="minutes" {
                                img src=(format!("/api/v1/blobs/{}", h.to_hex())) data-minutes=(h.to_hex()) loading="lazy" width="360" height="480"
                                    alt=(lang.pick("تصویر صورتجلسهٔ امضاشده", "Image of the signed minutes"));
                                figcaption { (lang.t(L::MinutesScan)) " " code dir="ltr" { (h.to_hex()) } }
                            }
                        }
                    }
                    h3 { (lang.t(L::Revisions)) " (" (lang.num(revs.len() as u64)) ")" }
                    @for (i, r) in revs.iter().enumerate().rev() {
                        (revision(lang, c, r, i + 1 == revs.len(), size))
                    }
                } @else {
                    p { (lang.t(L::NoTally)) }
                }
            }
        }
        section class="supervision" {
            h2 { (lang.t(L::SupervisorActions)) }
            @if actions.iter().all(|a| a.annulled_at.is_none() && a.approved.is_none()) {
                p { (lang.t(L::SupervisorNone)) }
            } @else {
                ul {
                    @for a in &actions {
                        @let c = site.geo.contest_idx.get(&a.contest).map(|&ci| &m.contests[ci]);
                        @let name = c.map_or_else(|| a.contest.clone(), |c| contest_name(lang, c).to_owned());
                        @if let Some(at) = a.annulled_at {
                            li class="annulled" {
                                strong { (name) ": " (lang.t(L::BoxAnnulled)) }
                                " — " (lang.t(L::Index)) " " (lang.num(at))
                                @if let Some((code, reason)) = reasons.iter().find(|r| r.0 == at).map(|r| (&r.1, &r.2)) {
                                    " — " (lang.t(L::AnnulmentReason)) ": " bdi dir="auto" { (reason) } " (" code dir="ltr" { (code) } ")"
                                }
                            }
                        }
                        @if let Some((tally, approval)) = a.approved {
                            li class="approved" {
                                (name) ": " (lang.t(L::TallyApproved)) " — " (lang.t(L::Index)) " " (lang.num(tally))
                                ", " (lang.t(L::ApprovalEntry)) " " (lang.num(approval))
                            }
                        }
                    }
                }
            }
        }
    };
    let mut page = ctx.page(&title, size);
    page.scripts = &["/static/verify.js"];
    page.crumbs = vec![(lang.t(L::Nation).to_owned(), "/".to_owned())];
    if let Some(p) = province {
        page.crumbs.push((
            lang.pick(&p.name_fa, &p.name_en).to_owned(),
            format!("/province/{}", p.id),
        ));
    }
    if let Some(k) = county {
        page.crumbs.push((
            lang.pick(&k.name_fa, &k.name_en).to_owned(),
            format!("/county/{}", k.id),
        ));
    }
    page.crumbs
        .push((lang.digits(&id), format!("/station/{id}")));
    ctx.respond(StatusCode::OK, page, body)
}
