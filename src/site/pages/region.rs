//! Province (`/province/{id}`), county (`/county/{id}`) and constituency
//! (`/constituency/{id}`) pages.

use super::official::{self, Scope};
use super::{contest_name, figures, outcome, region_rows, Ctx};
use crate::site::i18n::L;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use tallyboard_core::aggregate::Level;

/// Stations listed per county page.
pub const STATIONS_PER_PAGE: usize = 400;

/// Links to the station-level exports of a county or constituency
/// (`/api/v1/exports/stations/<level>/<id>.csv|json`, `spec/exports.md` §5).
fn station_exports(lang: crate::site::i18n::Lang, level: &str, id: &str) -> maud::Markup {
    html! {
        p class="downloads" {
            (lang.t(L::StationExports)) ": "
            a href=(format!("/api/v1/exports/stations/{level}/{id}.csv")) dir="ltr" { "CSV" }
            " · "
            a href=(format!("/api/v1/exports/stations/{level}/{id}.json")) dir="ltr" { "JSON" }
        }
    }
}

/// `GET /province/{id}`.
pub async fn province(ctx: Ctx, Path(id): Path<String>) -> Response {
    let site = ctx.site.clone();
    if let Some(r) = ctx.not_modified(site.snap().size) {
        return r;
    }
    let annulled = official::annulled(&site, Scope::Province(&id)).await;
    let snap = site.snap();
    let m = site.app.manifest.manifest();
    let Some(p) = site.geo.province_idx.get(&id).map(|&i| &m.provinces[i]) else {
        return ctx.not_found(snap.size);
    };
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let title = lang.pick(&p.name_fa, &p.name_en).to_owned();
    let counties = site
        .geo
        .province_counties
        .get(&id)
        .cloned()
        .unwrap_or_default();
    let body = html! {
        h1 { (lang.t(L::Province)) " " (title) }
        @for c in &m.contests {
            @if let Some(t) = snap.tallies().region(&c.id, Level::Province, &id) {
                section class="contest" {
                    h2 { (contest_name(lang, c)) }
                    (figures(lang, c, &t, &format!("{}-p", c.id), None, None, snap.official(&c.id)))
                    @if c.constituency.is_none() { (super::turnout(lang, &t, site.app.manifest.eligible_voters(&id))) }
                    @let rows: Vec<_> = counties.iter().filter_map(|&ci| {
                        let k = &m.counties[ci];
                        let r = snap.tallies().region(&c.id, Level::County, &k.id)?;
                        Some((lang.pick(&k.name_fa, &k.name_en).to_owned(), format!("/county/{}", k.id), r))
                    }).collect();
                    (region_rows(lang, c, L::ByCounty, L::County, &rows))
                }
            }
        }
        (official::supervision(lang, &site, &snap, Scope::Province(&id), &annulled))
        section {
            h2 { (lang.t(L::Counties)) }
            ul class="links cols3" {
                @for &ci in &counties {
                    @let k = &m.counties[ci];
                    li { a href=(lang.url(&format!("/county/{}", k.id))) { (lang.pick(&k.name_fa, &k.name_en)) } }
                }
            }
        }
    };
    let mut page = ctx.page(&title, snap.size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.clone(), format!("/province/{id}")),
    ];
    ctx.respond(StatusCode::OK, page, body)
}

/// Paging of a list (`?page=N`, from 1): the county's stations, a
/// contest's candidates.
#[derive(Deserialize)]
pub struct PageQuery {
    /// The page asked for.
    pub page: Option<usize>,
}

/// `GET /county/{id}[?page=N]`.
pub async fn county(
    ctx: Ctx,
    Path(id): Path<String>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let site = ctx.site.clone();
    if let Some(r) = ctx.not_modified(site.snap().size) {
        return r;
    }
    let annulled = official::annulled(&site, Scope::County(&id)).await;
    let snap = site.snap();
    let m = site.app.manifest.manifest();
    let Some(k) = site.geo.county_idx.get(&id).map(|&i| &m.counties[i]) else {
        return ctx.not_found(snap.size);
    };
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let title = lang.pick(&k.name_fa, &k.name_en).to_owned();
    let province = site
        .geo
        .province_idx
        .get(&k.province)
        .map(|&i| &m.provinces[i]);
    let stations = site
        .geo
        .county_stations
        .get(&id)
        .cloned()
        .unwrap_or_default();
    let pages = stations.len().div_ceil(STATIONS_PER_PAGE).max(1);
    let pageno = q
        .ok()
        .and_then(|Query(q)| q.page)
        .unwrap_or(1)
        .clamp(1, pages);
    let shown = &stations
        [(pageno - 1) * STATIONS_PER_PAGE..(pageno * STATIONS_PER_PAGE).min(stations.len())];
    // Which of the shown stations have a tally in the snapshot (one map
    // look-up per listed station).
    let status: Vec<(bool, bool)> = shown
        .iter()
        .map(|&si| {
            let revs: Vec<u32> = snap
                .state()
                .station(&m.stations[si].id)
                .map(|r| r.contests().iter().map(|c| c.latest.revision).collect())
                .unwrap_or_default();
            (!revs.is_empty(), revs.iter().any(|&r| r > 1))
        })
        .collect();
    let constituencies = site
        .geo
        .county_constituencies
        .get(&id)
        .cloned()
        .unwrap_or_default();
    let body = html! {
        h1 { (lang.t(L::County)) " " (title) }
        @for c in &m.contests {
            @if let Some(t) = snap.tallies().region(&c.id, Level::County, &id) {
                section class="contest" {
                    h2 { (contest_name(lang, c)) }
                    (figures(lang, c, &t, &format!("{}-c", c.id), None, None, snap.official(&c.id)))
                }
            }
        }
        @if !constituencies.is_empty() {
            section {
                h2 { (lang.t(L::Constituencies)) }
                ul class="links" {
                    @for &ki in &constituencies {
                        @let kk = &m.constituencies[ki];
                        li { a href=(lang.url(&format!("/constituency/{}", kk.id))) { (lang.pick(&kk.name_fa, &kk.name_en)) } }
                    }
                }
            }
        }
        (official::supervision(lang, &site, &snap, Scope::County(&id), &annulled))
        (station_exports(lang, "county", &id))
        section {
            h2 { (lang.t(L::StationList)) " (" (lang.num(stations.len() as u64)) ")" }
            table class="stations" {
                thead { tr { th scope="col" { (lang.t(L::Station)) } th scope="col" { (lang.t(L::Kind)) } th scope="col" { (lang.t(L::Results)) } } }
                tbody {
                    @for (&si, &(reported, revised)) in shown.iter().zip(&status) {
                        @let s = &m.stations[si];
                        tr {
                            td data-label=(lang.t(L::Station)) { a href=(lang.url(&format!("/station/{}", s.id))) dir="ltr" { (lang.digits(&s.id)) } }
                            td data-label=(lang.t(L::Kind)) { (if s.kind == "mobile" { lang.t(L::KindMobile) } else { lang.t(L::KindFixed) }) }
                            td class=(if reported { "ok" } else { "pending" }) data-label=(lang.t(L::Results)) {
                                (if revised { lang.t(L::Revised) } else if reported { lang.t(L::Reported) } else { lang.t(L::NotReported) })
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav class="pages" {
                    @for n in 1..=pages {
                        @if n == pageno { span aria-current="page" { (lang.num(n as u64)) } }
                        @else { a href=(lang.url(&format!("/county/{id}?page={n}"))) { (lang.num(n as u64)) } }
                    }
                }
            }
        }
    };
    let mut page = ctx.page(&title, snap.size);
    page.crumbs = vec![(lang.t(L::Nation).to_owned(), "/".to_owned())];
    if let Some(p) = province {
        page.crumbs.push((
            lang.pick(&p.name_fa, &p.name_en).to_owned(),
            format!("/province/{}", p.id),
        ));
    }
    page.crumbs.push((title.clone(), format!("/county/{id}")));
    ctx.respond(StatusCode::OK, page, body)
}

/// `GET /constituency/{id}`.
pub async fn constituency(ctx: Ctx, Path(id): Path<String>) -> Response {
    let site = ctx.site.clone();
    if let Some(r) = ctx.not_modified(site.snap().size) {
        return r;
    }
    let annulled = official::annulled(&site, Scope::Constituency(&id)).await;
    let snap = site.snap();
    let m = site.app.manifest.manifest();
    let Some(k) = site
        .geo
        .constituency_idx
        .get(&id)
        .map(|&i| &m.constituencies[i])
    else {
        return ctx.not_found(snap.size);
    };
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let title = lang.pick(&k.name_fa, &k.name_en).to_owned();
    let body = html! {
        h1 { (lang.t(L::Constituency)) " " (title) }
        @for c in m.contests.iter().filter(|c| c.constituency.as_deref() == Some(id.as_str())) {
            @if let Some(t) = snap.tallies().region(&c.id, Level::Constituency, &id) {
                section class="contest" {
                    h2 { a href=(lang.url(&format!("/contest/{}", c.id))) { (contest_name(lang, c)) } }
                    (figures(lang, c, &t, &format!("{}-k", c.id), None, snap.decide(&c.id).ok().as_ref(), snap.official(&c.id)))
                    (outcome(lang, c, &snap, &t, None))
                    (official::latest(lang, c, &snap))
                    @let rows: Vec<_> = k.counties.iter().filter_map(|cid| {
                        let county = &m.counties[*site.geo.county_idx.get(cid)?];
                        let r = snap.tallies().region(&c.id, Level::County, cid)?;
                        Some((lang.pick(&county.name_fa, &county.name_en).to_owned(), format!("/county/{cid}"), r))
                    }).collect();
                    (region_rows(lang, c, L::ByCounty, L::County, &rows))
                }
            }
        }
        (official::supervision(lang, &site, &snap, Scope::Constituency(&id), &annulled))
        (station_exports(lang, "constituency", &id))
    };
    let mut page = ctx.page(&title, snap.size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.clone(), format!("/constituency/{id}")),
    ];
    ctx.respond(StatusCode::OK, page, body)
}
