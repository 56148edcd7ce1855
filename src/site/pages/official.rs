//! The official layer (`spec/site.md` §2, §3a): the authority's
//! announcements (`/announcements`, `/announcement/{index}`), the latest
//! one of each contest on the contest pages, and the supervisors'
//! decisions (annulments with their reasons, approvals) on the national
//! and region pages. Everything comes from the one log state
//! (`tallyboard_core::state::Supervision`); the site decides nothing:
//! what an announcement says is what the authority signed and the board
//! checked against its own recomputation (`spec/announcements.md` §4).

use super::{contest_name, names, Ctx};
use crate::site::data::Snapshot;
use crate::site::i18n::{Lang, L};
use crate::site::Site;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use std::collections::HashMap;
use tallyboard_core::aggregate::{share_bp, ShareBase};
use tallyboard_core::cosignature::verify_cosignature;
use tallyboard_core::entry::{Announcement, AnnouncementStatus, Entry, SignedEntry};
use tallyboard_core::manifest::{Contest, ValidatedManifest};
use tallyboard_core::note::VerifierKey;
use tallyboard_core::rules::Status;
use tallyboard_core::state::AnnouncementRecord;

/// Most annulled boxes a page lists (the count is always whole; every
/// annulment is in the log and the API).
pub const ANNULMENTS_LISTED: usize = 50;

/// Most bytes of a signed announcement shown inline; a longer one (a
/// Majlis contest with thousands of candidates) is one click away as the
/// raw entry.
const SOURCE_SHOWN: usize = 24 * 1024;

/// How a status line names an announcement.
pub fn status_label(a: &Announcement) -> L {
    match (a.status, &a.replaces) {
        (AnnouncementStatus::Final, Some(_)) => L::AnnouncedCorrectedFinal,
        (AnnouncementStatus::Final, None) => L::AnnouncedFinal,
        (AnnouncementStatus::Partial, _) => L::AnnouncedPartial,
    }
}

fn short_status(a: &Announcement) -> L {
    match (a.status, &a.replaces) {
        (AnnouncementStatus::Final, Some(_)) => L::StatusCorrectedFinal,
        (AnnouncementStatus::Final, None) => L::StatusFinal,
        (AnnouncementStatus::Partial, _) => L::StatusPartialShort,
    }
}

/// Whether a final announcement has been reopened: the index of the
/// reopening if it is the contest's latest final, else of the corrected
/// final that names it (`spec/announcements.md` §6).
fn reopened(snap: &Snapshot, r: &AnnouncementRecord) -> Option<u64> {
    let sup = snap.state().supervision();
    let contest = &r.announcement.statement.contest;
    if let Some(f) = sup.latest_final(contest).filter(|f| f.index == r.index) {
        return f.reopened_at;
    }
    sup.announcements()
        .iter()
        .find(|x| {
            x.index > r.index
                && x.announcement
                    .replaces
                    .as_ref()
                    .is_some_and(|p| p.final_leaf == r.leaf)
        })
        .map(|x| x.index)
}

/// What an announcement decided: elected, runoff, reserves, ties awaiting
/// a lot, as signed.
fn decided(lang: Lang, c: &Contest, a: &Announcement) -> Markup {
    let s = &a.statement;
    html! {
        @if s.outcome == Status::NoValidVotes { p { (lang.t(L::NoValidVotes)) } }
        @if !s.elected.is_empty() { p { strong { (lang.t(L::Elected)) ": " } (names(lang, c, &s.elected)) } }
        @if !s.runoff.is_empty() { p { strong { (lang.t(L::Runoff)) ": " } (names(lang, c, &s.runoff)) } }
        @if !s.reserves.is_empty() { p { strong { (lang.t(L::Reserve)) ": " } (names(lang, c, &s.reserves)) } }
        @for tie in &s.lot_needed { p { strong { (lang.t(L::LotNeeded)) ": " } (names(lang, c, tie)) } }
    }
}

/// The lots drawn for a contest, in log order.
fn lots(lang: Lang, c: &Contest, snap: &Snapshot) -> Markup {
    let drawn: Vec<_> = snap
        .state()
        .supervision()
        .lots()
        .iter()
        .filter(|l| l.contest == c.id)
        .collect();
    html! {
        @if !drawn.is_empty() {
            h4 { (lang.t(L::LotsDrawn)) }
            ul class="lots" {
                @for l in drawn {
                    li {
                        (lang.t(L::LotAmong)) " " (names(lang, c, &l.draw.among)) " — "
                        (lang.t(L::LotOrder)) ": " (names(lang, c, &l.draw.order)) " — "
                        (lang.t(L::Index)) " " a href=(format!("/api/v1/entries/{}", l.index)) { (lang.num(l.index)) }
                    }
                }
            }
        }
    }
}

/// The latest announcement of a contest, for its section on the national,
/// contest and constituency pages: which (partial, final or corrected
/// final), the cosigned checkpoint size it was made at, what it decided,
/// the lots drawn, and a link to its page. Nothing when none is logged
/// (the status line says so).
pub fn latest(lang: Lang, c: &Contest, snap: &Snapshot) -> Markup {
    let Some(r) = snap
        .state()
        .supervision()
        .announcements()
        .iter()
        .rev()
        .find(|r| r.announcement.statement.contest == c.id)
    else {
        return lots(lang, c, snap);
    };
    let a = &r.announcement;
    html! {
        section class="official" {
            h3 { (lang.t(L::LatestAnnouncement)) }
            p {
                strong { (lang.t(status_label(a))) } " — "
                (lang.t(L::AtSize)) " " (lang.num(a.statement.size)) " — "
                a href=(lang.url(&format!("/announcement/{}", r.index))) { (lang.t(L::Announcement)) " " (lang.num(r.index)) }
            }
            @if let Some(at) = reopened(snap, r) {
                p class="status" { (lang.t(L::ReopenedAt)) " " (lang.num(at)) }
            }
            (decided(lang, c, a))
            (lots(lang, c, snap))
        }
    }
}

/// The witnesses' cosignatures an announcement carries that verify
/// against the manifest's witness keys, with their times.
fn cosignatures<'a>(vm: &'a ValidatedManifest, a: &Announcement) -> Vec<(&'a str, &'a str, u64)> {
    let m = vm.manifest();
    let text = a.witnessed.checkpoint_text(&m.log.origin, a.statement.size);
    m.keys
        .witnesses
        .iter()
        .filter_map(|w| {
            let k = VerifierKey::parse(&w.vkey).ok()?;
            a.witnessed
                .cosignatures
                .iter()
                .find_map(|s| verify_cosignature(&text, s, &k).ok())
                .map(|at| (w.name_fa.as_str(), w.name_en.as_str(), at))
        })
        .collect()
}

/// `GET /announcements`: every announcement, newest first.
pub async fn announcements(ctx: Ctx) -> Response {
    let site = ctx.site.clone();
    let snap = site.snap();
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let m = site.app.manifest.manifest();
    let all = snap.state().supervision().announcements();
    let title = lang.t(L::AnnouncementsTitle);
    let body = html! {
        h1 { (title) }
        p { (lang.t(L::AnnouncementsIntro)) }
        @if all.is_empty() {
            p class="empty" { (lang.t(L::AnnouncementsNone)) }
        } @else {
            table class="announcements" {
                thead { tr {
                    th scope="col" { (lang.t(L::Index)) }
                    th scope="col" { (lang.t(L::Contest)) }
                    th scope="col" { (lang.t(L::Status)) }
                    th scope="col" { (lang.t(L::CheckpointSize)) }
                    th scope="col" { (lang.t(L::Outcome)) }
                } }
                tbody {
                    @for r in all.iter().rev() {
                        @let a = &r.announcement;
                        @let c = site.geo.contest_idx.get(&a.statement.contest).map(|&i| &m.contests[i]);
                        tr {
                            td class="num" { a href=(lang.url(&format!("/announcement/{}", r.index))) { (lang.num(r.index)) } }
                            td { @if let Some(c) = c { a href=(lang.url(&format!("/contest/{}", c.id))) { (contest_name(lang, c)) } } @else { code { (a.statement.contest) } } }
                            td {
                                (lang.t(short_status(a)))
                                @if let Some(at) = reopened(&snap, r) { " (" (lang.t(L::ReopenedAt)) " " (lang.num(at)) ")" }
                            }
                            td class="num" { (lang.num(a.statement.size)) }
                            td { @if let Some(c) = c { (decided(lang, c, a)) } }
                        }
                    }
                }
            }
        }
        p { a href="/api/v1/announcements" dir="ltr" { code { "/api/v1/announcements" } } }
    };
    let mut page = ctx.page(title, snap.size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.to_owned(), "/announcements".to_owned()),
    ];
    ctx.respond(StatusCode::OK, page, body)
}

/// `GET /announcement/{index}`: one announcement, its figures and outcome
/// as signed, the checkpoint it rests on with the witnesses' cosignature
/// times, and its signed source.
pub async fn announcement(ctx: Ctx, Path(index): Path<String>) -> Response {
    let site = ctx.site.clone();
    let (size, record) = {
        let s = site.snap();
        let r = index.parse::<u64>().ok().and_then(|i| {
            s.state()
                .supervision()
                .announcements()
                .iter()
                .find(|r| r.index == i)
                .cloned()
        });
        (s.size, r)
    };
    let Some(r) = record else {
        return ctx.not_found(size);
    };
    if let Some(resp) = ctx.not_modified(size) {
        return resp;
    }
    let store = site.app.store.handle();
    let at = r.index;
    let source = tokio::task::spawn_blocking(move || store.entry(at)).await;
    let Ok(Ok(Some(source))) = source else {
        let mut resp = ctx.not_found(size);
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return resp;
    };
    let signers: Vec<String> = SignedEntry::parse(&source)
        .map(|s| s.note.signatures.iter().map(|x| x.name.clone()).collect())
        .unwrap_or_default();
    let snap = site.snap();
    let lang = ctx.lang;
    let m = site.app.manifest.manifest();
    let a = &r.announcement;
    let st = &a.statement;
    let Some(c) = site
        .geo
        .contest_idx
        .get(&st.contest)
        .map(|&i| &m.contests[i])
    else {
        return ctx.not_found(size);
    };
    let base = ShareBase::for_kind(c.kind).of(&st.figures);
    let mut votes = st.votes.clone();
    votes.sort_by_key(|&(code, n)| (std::cmp::Reverse(n), code));
    let shown = super::shown_candidates(c);
    let by_code: HashMap<u32, &tallyboard_core::manifest::Candidate> =
        c.candidates.iter().map(|k| (k.code, k)).collect();
    let cosigned = cosignatures(&site.app.manifest, a);
    let title = format!(
        "{} {} — {}",
        lang.t(L::Announcement),
        lang.num(r.index),
        contest_name(lang, c)
    );
    let row = |label: L, v: u64| html! { tr { th scope="row" { (lang.t(label)) } td class="num" { (lang.num(v)) } } };
    let body = html! {
        h1 { (lang.t(L::Announcement)) " " (lang.num(r.index)) }
        p { a href=(lang.url(&format!("/contest/{}", c.id))) { (contest_name(lang, c)) } }
        p class="status official" { (lang.t(status_label(a))) " — " (lang.t(L::AtSize)) " " (lang.num(st.size)) }
        @if let Some(at) = reopened(&snap, &r) {
            p class="status" { (lang.t(L::ReopenedAt)) " " (lang.num(at)) }
        }
        @if let Some(x) = &a.replaces {
            dl {
                dt { (lang.t(L::Replaces)) }
                dd { code dir="ltr" { (x.final_leaf.to_hex()) } }
                dt { (lang.t(L::CorrectionReason)) }
                dd { bdi dir="auto" { (x.reason) } }
            }
        }
        section class="outcome" {
            h2 { (lang.t(L::Outcome)) }
            (decided(lang, c, a))
        }
        div class="cols" {
            table class="candidates" {
                caption { (lang.t(L::Candidates)) }
                thead { tr {
                    th scope="col" { (lang.t(L::Code)) } th scope="col" { (lang.t(L::Candidate)) }
                    th scope="col" { (lang.t(L::Votes)) } th scope="col" { (lang.t(if ShareBase::for_kind(c.kind) == ShareBase::VotesTaken { L::ShareOfTaken } else { L::ShareOfValid })) }
                } }
                tbody {
                    @for &(code, n) in votes.iter().take(shown) {
                        tr {
                            td class="num" { (lang.num(u64::from(code))) }
                            td { @if let Some(k) = by_code.get(&code) { a href=(lang.url(&format!("/candidate/{}/{code}", c.id))) { (lang.pick(&k.name_fa, &k.name_en)) } } }
                            td class="num" { (lang.num(n)) }
                            td class="num" { (lang.percent(share_bp(n, base))) }
                        }
                    }
                }
            }
            table class="figures" {
                caption { (lang.t(L::Figures)) }
                tbody {
                    (row(L::StationsCounted, st.stations_counted))
                    (row(L::StationsExpected, st.stations_expected))
                    (row(L::AnnulledBoxes, st.stations_annulled))
                    (row(L::Counterfoils, st.figures.counterfoils))
                    (row(L::BallotsInBox, st.figures.ballots_in_box))
                    (row(L::VotesTaken, st.figures.votes_taken))
                    (row(L::VoidTaken, st.figures.void_taken))
                    (row(L::VoidNotTaken, st.figures.void_not_taken))
                    (row(L::Valid, st.figures.valid))
                }
            }
        }
        @if votes.len() > shown {
            p class="note" { (lang.t(L::ShowingTop)) " " (lang.num(votes.len() as u64)) " — " (lang.t(L::SignedSource)) }
        }
        section {
            h2 { (lang.t(L::RestsOn)) }
            dl {
                dt { (lang.t(L::CheckpointSize)) }
                dd class="num" { a href=(format!("/api/v1/checkpoints/{}", st.size)) { (lang.num(st.size)) } }
                dt { (lang.t(L::RootHash)) }
                dd { code dir="ltr" { (a.witnessed.root.to_hex()) } }
                dt { (lang.t(L::CosignedBy)) }
                dd {
                    ul {
                        @for (fa, en, at) in &cosigned {
                            li { (lang.pick(fa, en)) " — " (lang.t(L::CosignedAt)) " " (lang.datetime(*at)) }
                        }
                    }
                }
            }
        }
        section {
            h2 { (lang.t(L::SignedSource)) }
            dl {
                dt { (lang.t(L::Index)) }
                dd class="num" { a href=(format!("/api/v1/entries/{}", r.index)) { (lang.num(r.index)) } }
                dt { (lang.t(L::LeafHash)) }
                dd { code dir="ltr" { (r.leaf.to_hex()) } }
                dt { (lang.t(L::SignedNote)) }
                dd { code dir="ltr" { (signers.join(", ")) } }
            }
            p { a href=(format!("/api/v1/entries/{}", r.index)) { (lang.t(L::RawEntry)) " " code dir="ltr" { (format!("/api/v1/entries/{}", r.index)) } } }
            @if source.len() <= SOURCE_SHOWN {
                pre dir="ltr" { (String::from_utf8_lossy(&source)) }
            }
        }
    };
    let mut page = ctx.page(&title, snap.size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (
            lang.t(L::AnnouncementsTitle).to_owned(),
            "/announcements".to_owned(),
        ),
        (lang.num(r.index), format!("/announcement/{}", r.index)),
    ];
    ctx.respond(StatusCode::OK, page, body)
}

/// The region a supervision section covers.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// Every station.
    Nation,
    /// The stations of a province.
    Province(&'a str),
    /// The stations of a county.
    County(&'a str),
    /// The boxes of a constituency's contests.
    Constituency(&'a str),
}

fn in_scope(site: &Site, scope: Scope<'_>, station: &str, contest: &str) -> bool {
    let vm = &site.app.manifest;
    let county = || vm.station(station).map(|s| s.county.as_str());
    match scope {
        Scope::Nation => true,
        Scope::County(id) => county() == Some(id),
        Scope::Province(id) => county().and_then(|k| vm.province_of(k)) == Some(id),
        Scope::Constituency(id) => {
            vm.contest(contest).and_then(|c| c.constituency.as_deref()) == Some(id)
        }
    }
}

/// One annulled box, for the lists.
pub struct Annulled {
    /// The annulment's log index.
    pub index: u64,
    /// The station.
    pub station: String,
    /// The contest.
    pub contest: String,
    /// The reason code and reason, as signed (read from the log).
    pub reason: Option<(String, String)>,
}

/// The annulled boxes of a scope (the count, and the latest
/// [`ANNULMENTS_LISTED`] with their reasons read from the log). Call before
/// taking the snapshot's lock for rendering: it reads the store.
pub async fn annulled(site: &Site, scope: Scope<'_>) -> (usize, Vec<Annulled>) {
    let mut all: Vec<Annulled> = {
        let s = site.snap();
        s.state()
            .supervision()
            .annulments()
            .filter(|((st, c), _)| in_scope(site, scope, st, c))
            .map(|((st, c), index)| Annulled {
                index,
                station: st.clone(),
                contest: c.clone(),
                reason: None,
            })
            .collect()
    };
    let count = all.len();
    all.sort_by_key(|a| std::cmp::Reverse(a.index));
    all.truncate(ANNULMENTS_LISTED);
    // Reasons already read come from the site's cache; the rest from the
    // log, once.
    let cached = |i: u64| {
        let c = match site.annulment_reasons.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        c.get(&i).cloned()
    };
    let missing: Vec<u64> = all
        .iter()
        .map(|a| a.index)
        .filter(|&i| cached(i).is_none())
        .collect();
    if !missing.is_empty() {
        let store = site.app.store.handle();
        let read = tokio::task::spawn_blocking(move || {
            missing
                .iter()
                .filter_map(|&i| {
                    let bytes = store.entry(i).ok()??;
                    match SignedEntry::parse(&bytes).ok()?.entry {
                        Entry::Annulment(a) => Some((i, (a.reason_code, a.reason))),
                        _ => None,
                    }
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut c = match site.annulment_reasons.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        c.extend(read);
    }
    for a in &mut all {
        a.reason = cached(a.index);
    }
    (count, all)
}

/// The supervisors' decisions in a scope: the annulled boxes (why, and
/// that they count zero), the approved tallies, and, nationally, the
/// contest approvals.
pub fn supervision(
    lang: Lang,
    site: &Site,
    snap: &Snapshot,
    scope: Scope<'_>,
    annulled: &(usize, Vec<Annulled>),
) -> Markup {
    let m = site.app.manifest.manifest();
    let sup = snap.state().supervision();
    let approvals = sup
        .approvals()
        .iter()
        .filter(|a| in_scope(site, scope, &a.station, &a.contest))
        .count();
    let mut contest_approvals: Vec<_> = match scope {
        Scope::Nation => sup.contest_approvals().collect(),
        _ => Vec::new(),
    };
    contest_approvals.sort_by_key(|(_, a)| a.index);
    let name = |id: &str| {
        site.geo.contest_idx.get(id).map_or_else(
            || id.to_owned(),
            |&i| contest_name(lang, &m.contests[i]).to_owned(),
        )
    };
    let (count, listed) = annulled;
    html! {
        section class="supervision" id="supervision" {
            h2 { (lang.t(L::SupervisionTitle)) }
            p {
                (lang.t(L::AnnulledBoxes)) ": " strong class="num" data-annulled=(count) { (lang.num(*count as u64)) }
                (lang.pick("؛ ", "; ")) (lang.t(L::ApprovedTallies)) ": " strong class="num" { (lang.num(approvals as u64)) }
            }
            @if *count > 0 {
                p class="note" { (lang.t(L::AnnulledNote)) }
                ul class="annulled" {
                    @for a in listed {
                        li {
                            a href=(lang.url(&format!("/station/{}", a.station))) dir="ltr" { (lang.digits(&a.station)) }
                            " — " (name(&a.contest)) " — " (lang.t(L::Index)) " "
                            a href=(format!("/api/v1/entries/{}", a.index)) { (lang.num(a.index)) }
                            @if let Some((code, reason)) = &a.reason {
                                " — " (lang.t(L::AnnulmentReason)) ": " bdi dir="auto" { (reason) } " (" code dir="ltr" { (code) } ")"
                            }
                        }
                    }
                }
                @if *count > listed.len() { p class="note" { (lang.t(L::MoreNotListed)) } }
            }
            @if !contest_approvals.is_empty() {
                h3 { (lang.t(L::ContestApprovals)) }
                ul {
                    @for ((contest, at), a) in &contest_approvals {
                        li {
                            (name(contest)) " — " (lang.t(L::AtSize)) " " (lang.num(*at)) " — " (lang.t(L::Index)) " "
                            a href=(format!("/api/v1/entries/{}", a.index)) { (lang.num(a.index)) }
                        }
                    }
                }
            }
        }
    }
}
