//! A page for every candidate (`/candidate/{contest}/{code}`) and every
//! contest's whole candidate list, paged (`/contest/{id}/candidates`):
//! a Majlis contest may have thousands of candidates, more than its
//! contest page lists (`spec/site.md` §1). Figures are the log state's
//! standing sums (`tallyboard_core::aggregate`) and the rules' decision
//! (`Snapshot::decide`), as on the contest page.

use super::{contest_name, share_base, Ctx};
use crate::site::data;
use crate::site::i18n::L;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use tallyboard_core::aggregate::Level;

/// Candidates per page of a contest's list.
pub const CANDIDATES_PER_PAGE: usize = 200;

/// `GET /candidate/{contest}/{code}`.
pub async fn candidate(ctx: Ctx, Path((contest, code)): Path<(String, String)>) -> Response {
    let site = ctx.site.clone();
    let snap = site.snap();
    let m = site.app.manifest.manifest();
    let found = site.geo.contest_idx.get(&contest).and_then(|&ci| {
        let c = &m.contests[ci];
        let code: u32 = code.parse().ok()?;
        let i = c.candidates.iter().position(|k| k.code == code)?;
        Some((c, i))
    });
    let Some((c, i)) = found else {
        return ctx.not_found(snap.size);
    };
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let k = &c.candidates[i];
    // The totals that decide the contest: its constituency's, or the nation's.
    let Some(t) = snap.tallies().contest_totals(&c.id) else {
        return ctx.not_found(snap.size);
    };
    let s = &t.standing;
    let votes = s.votes.get(i).copied().unwrap_or(0);
    // Rank: one more than the candidates with more standing votes.
    let rank = s.votes.iter().filter(|&&v| v > votes).count() as u64 + 1;
    let decided = snap.decide(&c.id).ok();
    let mark = decided.as_ref().and_then(|d| {
        if d.elected.contains(&k.code) {
            Some(L::MarkElected)
        } else if d.runoff.contains(&k.code) {
            Some(L::MarkRunoff)
        } else {
            None
        }
    });
    let announced = snap
        .state()
        .supervision()
        .announcements()
        .iter()
        .rev()
        .find(|r| r.announcement.statement.contest == c.id);
    // The sub-regions: provinces of a nation-wide contest, counties of a
    // constituency.
    let rows: Vec<(String, String, u64, u64)> = match &c.constituency {
        None => m
            .provinces
            .iter()
            .filter_map(|p| {
                let r = snap.tallies().region(&c.id, Level::Province, &p.id)?;
                let v = r.standing.votes.get(i).copied().unwrap_or(0);
                Some((
                    lang.pick(&p.name_fa, &p.name_en).to_owned(),
                    format!("/province/{}", p.id),
                    v,
                    data::share_bp(v, share_base(c, &r.standing)),
                ))
            })
            .collect(),
        Some(kid) => site
            .geo
            .constituency_idx
            .get(kid)
            .map(|&ki| m.constituencies[ki].counties.clone())
            .unwrap_or_default()
            .iter()
            .filter_map(|cid| {
                let county = &m.counties[*site.geo.county_idx.get(cid)?];
                let r = snap.tallies().region(&c.id, Level::County, cid)?;
                let v = r.standing.votes.get(i).copied().unwrap_or(0);
                Some((
                    lang.pick(&county.name_fa, &county.name_en).to_owned(),
                    format!("/county/{cid}"),
                    v,
                    data::share_bp(v, share_base(c, &r.standing)),
                ))
            })
            .collect(),
    };
    let name = lang.pick(&k.name_fa, &k.name_en).to_owned();
    let row = |label: L, v: String| html! { tr { th scope="row" { (lang.t(label)) } td class="num" { (v) } } };
    let body = html! {
        h1 { (name) }
        p {
            (lang.t(L::Contest)) ": " a href=(lang.url(&format!("/contest/{}", c.id))) { (contest_name(lang, c)) }
            " — " (lang.t(L::Code)) " " (lang.num(u64::from(k.code)))
        }
        table class="figures" {
            caption { (lang.t(L::Figures)) }
            tbody {
                (row(L::Votes, lang.num(votes)))
                (row(if data::share_of_taken(c) { L::ShareOfTaken } else { L::ShareOfValid }, lang.percent(data::share_bp(votes, share_base(c, s)))))
                (row(L::Rank, format!("{} {} {}", lang.num(rank), lang.t(L::Of), lang.num(c.candidates.len() as u64))))
                (row(L::FirstCount, lang.num(t.counted.votes.get(i).copied().unwrap_or(0))))
                (row(L::StationsReported, format!("{} {} {}", lang.num(t.stations_reported), lang.t(L::Of), lang.num(t.stations_expected))))
            }
        }
        @if let Some(m) = mark { p class="status" { strong { (lang.t(L::ResultMark)) ": " (lang.t(m)) } } }
        @if t.stations_reported < t.stations_expected { p class="note" { (lang.t(L::OutcomeProvisional)) } }
        @if let Some(r) = announced {
            @let st = &r.announcement.statement;
            @let v = st.votes.iter().find(|x| x.0 == k.code).map_or(0, |x| x.1);
            p class="official" {
                (lang.t(super::official::status_label(&r.announcement))) " — "
                a href=(lang.url(&format!("/announcement/{}", r.index))) { (lang.t(L::Announcement)) " " (lang.num(r.index)) }
                " — " (lang.t(L::Votes)) ": " (lang.num(v))
            }
        }
        table class="regions" {
            caption { (lang.t(if c.constituency.is_some() { L::ByCounty } else { L::ByProvince })) }
            thead { tr {
                th scope="col" { (lang.t(if c.constituency.is_some() { L::County } else { L::Province })) }
                th scope="col" { (lang.t(L::Votes)) }
                th scope="col" { (lang.t(if data::share_of_taken(c) { L::ShareOfTaken } else { L::ShareOfValid })) }
            } }
            tbody {
                @for (label, path, v, bp) in &rows {
                    tr { td { a href=(lang.url(path)) { (label) } } td class="num" { (lang.num(*v)) } td class="num" { (lang.percent(*bp)) } }
                }
            }
        }
        p { a href=(lang.url(&format!("/contest/{}/candidates", c.id))) { (lang.t(L::AllCandidates)) } }
    };
    let mut page = ctx.page(&name, snap.size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (
            contest_name(lang, c).to_owned(),
            format!("/contest/{}", c.id),
        ),
        (name.clone(), format!("/candidate/{}/{}", c.id, k.code)),
    ];
    ctx.respond(StatusCode::OK, page, body)
}

/// `GET /contest/{id}/candidates[?page=N]`: every candidate in ballot-code
/// order, with standing votes, each linked to its page.
pub async fn list(
    ctx: Ctx,
    Path(id): Path<String>,
    q: Result<Query<super::region::PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let site = ctx.site.clone();
    let snap = site.snap();
    let m = site.app.manifest.manifest();
    let Some(c) = site.geo.contest_idx.get(&id).map(|&i| &m.contests[i]) else {
        return ctx.not_found(snap.size);
    };
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let t = snap.tallies().contest_totals(&c.id);
    let mut order: Vec<usize> = (0..c.candidates.len()).collect();
    order.sort_by_key(|&i| c.candidates[i].code);
    let pages = order.len().div_ceil(CANDIDATES_PER_PAGE).max(1);
    let pageno = q
        .ok()
        .and_then(|Query(q)| q.page)
        .unwrap_or(1)
        .clamp(1, pages);
    let shown =
        &order[(pageno - 1) * CANDIDATES_PER_PAGE..(pageno * CANDIDATES_PER_PAGE).min(order.len())];
    let title = format!("{} — {}", contest_name(lang, c), lang.t(L::AllCandidates));
    let body = html! {
        h1 { (title) }
        p { a href=(lang.url(&format!("/contest/{}", c.id))) { (contest_name(lang, c)) } " — " (lang.num(c.candidates.len() as u64)) " " (lang.t(L::Candidates)) }
        table class="candidates" {
            thead { tr { th scope="col" { (lang.t(L::Code)) } th scope="col" { (lang.t(L::Candidate)) } th scope="col" { (lang.t(L::Votes)) } } }
            tbody {
                @for &i in shown {
                    @let k = &c.candidates[i];
                    tr {
                        td class="num" { (lang.num(u64::from(k.code))) }
                        td { a href=(lang.url(&format!("/candidate/{}/{}", c.id, k.code))) { (lang.pick(&k.name_fa, &k.name_en)) } }
                        td class="num" { (lang.num(t.and_then(|t| t.standing.votes.get(i).copied()).unwrap_or(0))) }
                    }
                }
            }
        }
        @if pages > 1 {
            nav class="pages" {
                @for n in 1..=pages {
                    @if n == pageno { span aria-current="page" { (lang.num(n as u64)) } }
                    @else { a href=(lang.url(&format!("/contest/{}/candidates?page={n}", c.id))) { (lang.num(n as u64)) } }
                }
            }
        }
    };
    let mut page = ctx.page(&title, snap.size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (
            contest_name(lang, c).to_owned(),
            format!("/contest/{}", c.id),
        ),
        (
            lang.t(L::AllCandidates).to_owned(),
            format!("/contest/{}/candidates", c.id),
        ),
    ];
    ctx.respond(StatusCode::OK, page, body)
}
