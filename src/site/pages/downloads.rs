//! The downloads page (`/downloads`): every file from which the site's
//! figures can be recomputed, and what each one is.

use super::Ctx;
use crate::site::i18n::L;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

/// `GET /downloads`.
pub async fn downloads(ctx: Ctx) -> Response {
    let size = ctx.site.snap().size;
    if let Some(r) = ctx.not_modified(size) {
        return r;
    }
    let lang = ctx.lang;
    let title = lang.t(L::DownloadsTitle);
    let first_county = ctx
        .site
        .app
        .manifest
        .manifest()
        .counties
        .first()
        .map(|c| c.id.clone());
    let files: &[(&str, &str, L)] = &[
        ("/api/v1/totals", "/api/v1/totals", L::DlTotals),
        (
            "/api/v1/exports/results.csv",
            "/api/v1/exports/results.csv",
            L::DlCsv,
        ),
        (
            "/api/v1/exports/results.json",
            "/api/v1/exports/results.json",
            L::DlJson,
        ),
        (
            "/api/v1/exports/nist-err.json",
            "/api/v1/exports/nist-err.json",
            L::DlNist,
        ),
        (
            "/api/v1/announcements",
            "/api/v1/announcements",
            L::DlAnnouncements,
        ),
        ("/api/v1/manifest", "/api/v1/manifest", L::DlManifest),
        ("/checkpoint", "/checkpoint", L::DlCheckpoint),
        (
            "/tile/0/000",
            "/tile/<L>/<N>, /tile/entries/<N>",
            L::DlTiles,
        ),
        ("/api/v1/entries/0", "/api/v1/entries/<index>", L::DlEntry),
        ("/api/v1/log", "/api/v1/log", L::DlLog),
        ("/api/v1/witnessed", "/api/v1/witnessed", L::DlWitnessed),
        ("/api/v1/openapi.json", "/api/v1/openapi.json", L::DlOpenApi),
    ];
    let body = html! {
        h1 { (title) }
        p { (lang.t(L::DownloadsIntro)) }
        table class="downloads" {
            thead { tr { th scope="col" { (lang.t(L::File)) } th scope="col" { (lang.t(L::WhatItIs)) } } }
            tbody {
                @for (href, label, what) in files {
                    tr {
                        td data-label=(lang.t(L::File)) { a href=(href) dir="ltr" { code { (label) } } }
                        td data-label=(lang.t(L::WhatItIs)) { (lang.t(*what)) }
                    }
                    // The station-level files follow the national ones; the
                    // link is the first county's.
                    @if *what == L::DlNist {
                        tr {
                            td {
                                @match &first_county {
                                    Some(id) => { a href=(format!("/api/v1/exports/stations/county/{id}.csv")) dir="ltr" { code { "/api/v1/exports/stations/county/<id>.csv|json" } } }
                                    None => { code dir="ltr" { "/api/v1/exports/stations/county/<id>.csv|json" } }
                                }
                                br;
                                code dir="ltr" { "/api/v1/exports/stations/constituency/<id>.csv|json" }
                            }
                            td { (lang.t(L::DlStations)) }
                        }
                    }
                }
            }
        }
        p class="note" { (lang.t(L::AsOfCheckpoint)) " " (lang.num(size)) "." }
    };
    let mut page = ctx.page(title, size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.to_owned(), "/downloads".to_owned()),
    ];
    ctx.respond(StatusCode::OK, page, body)
}
