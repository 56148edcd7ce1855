//! The search page (`/search?q=`): a form that works without JavaScript,
//! and the stations, candidates, provinces and counties that match.

use super::{contest_name, Ctx};
use crate::site::i18n::L;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

/// The query string.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /search?q=`.
pub async fn search(
    ctx: Ctx,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let site = ctx.site.clone();
    let size = site.snap().size;
    let lang = ctx.lang;
    let query = q.ok().and_then(|Query(q)| q.q).unwrap_or_default();
    let query: String = query.chars().take(200).collect();
    let found = site.search.find(&query);
    let m = site.app.manifest.manifest();
    let title = lang.t(L::SearchTitle);
    let nothing = found.stations.is_empty()
        && found.candidates.is_empty()
        && found.provinces.is_empty()
        && found.counties.is_empty();
    let body = html! {
        h1 { (title) }
        form action=(lang.url("/search")) method="get" role="search" class="search-big" {
            label for="q2" { (lang.t(L::SearchLabel)) }
            input id="q2" name="q" type="search" value=(query);
            button type="submit" { (lang.t(L::SearchButton)) }
        }
        p class="note" { (lang.t(L::SearchHint)) }
        @if !query.trim().is_empty() {
            @if nothing { p class="empty" { (lang.t(L::SearchNoResults)) } }
            @if !found.stations.is_empty() {
                section {
                    h2 { (lang.t(L::Stations)) }
                    ul class="links" {
                        @for &i in &found.stations {
                            @let s = &m.stations[i];
                            li { a href=(lang.url(&format!("/station/{}", s.id))) dir="ltr" { (lang.digits(&s.id)) } }
                        }
                    }
                }
            }
            @if !found.candidates.is_empty() {
                section {
                    h2 { (lang.t(L::Candidates)) }
                    ul class="links" {
                        @for &(ci, ki) in &found.candidates {
                            @let c = &m.contests[ci];
                            @let k = &c.candidates[ki];
                            li {
                                a href=(lang.url(&format!("/candidate/{}/{}", c.id, k.code))) { (lang.pick(&k.name_fa, &k.name_en)) }
                                " — " (lang.t(L::Code)) " " (lang.num(u64::from(k.code))) " — " (contest_name(lang, c))
                            }
                        }
                    }
                }
            }
            @if !found.provinces.is_empty() {
                section {
                    h2 { (lang.t(L::Provinces)) }
                    ul class="links" {
                        @for &i in &found.provinces {
                            @let p = &m.provinces[i];
                            li { a href=(lang.url(&format!("/province/{}", p.id))) { (lang.pick(&p.name_fa, &p.name_en)) } }
                        }
                    }
                }
            }
            @if !found.counties.is_empty() {
                section {
                    h2 { (lang.t(L::Counties)) }
                    ul class="links" {
                        @for &i in &found.counties {
                            @let k = &m.counties[i];
                            li { a href=(lang.url(&format!("/county/{}", k.id))) { (lang.pick(&k.name_fa, &k.name_en)) } }
                        }
                    }
                }
            }
        }
    };
    let mut page = ctx.page(title, size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.to_owned(), "/search".to_owned()),
    ];
    let mut r = ctx.respond(StatusCode::OK, page, body);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r.headers_mut().remove(axum::http::header::ETAG);
    r
}
