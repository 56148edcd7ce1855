//! The operators' view (`/operator`, `spec/operations.md` §11): the
//! figures of `crate::server::operator` — the same ones `/metrics` gives
//! Prometheus — as a page. Read fresh on every request, so it is never
//! cached and carries no checkpoint ETag: the queue, the disk and the
//! witnesses move between checkpoints.

use super::{contest_name, Ctx};
use crate::server::operator::{self, ContestReporting, Figures};
use crate::site::charts;
use crate::site::data::Site;
use crate::site::i18n::{Lang, L};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

/// `GET /operator`.
pub async fn operator(ctx: Ctx) -> Response {
    let site = ctx.site.clone();
    let f = operator::gather(&site.app).await;
    let lang = ctx.lang;
    let title = lang.t(L::OperatorTitle);
    let body = html! {
        h1 { (title) }
        p { (lang.t(L::OperatorIntro)) }
        p class="note" { (lang.t(L::OperatorSince)) }
        (log_and_writer(lang, &f))
        (refused(lang, &f))
        (witnesses(lang, &f))
        section {
            h2 { (lang.t(L::OpNotReported)) }
            @for c in &f.reporting {
                (reporting(lang, &site, c))
            }
        }
    };
    let mut page = ctx.page(title, f.tree_size);
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.to_owned(), "/operator".to_owned()),
    ];
    let mut r = ctx.respond(StatusCode::OK, page, body);
    let h = r.headers_mut();
    h.remove(header::ETAG);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn bytes(lang: Lang, n: u64) -> String {
    format!("{} {}", lang.num(n), lang.t(L::OpBytes))
}

fn log_and_writer(lang: Lang, f: &Figures) -> Markup {
    let peak = f.per_minute.iter().copied().max().unwrap_or(0);
    html! {
        section {
            h2 { (lang.t(L::OpLogAndWriter)) }
            dl {
                dt { (lang.t(L::LatestCheckpoint)) }
                dd class="num" data-op="tree-size" { (lang.num(f.tree_size)) }
                dt { (lang.t(L::OpCosignedSize)) }
                dd class="num" data-op="cosigned-size" {
                    @match f.cosigned_size { Some(s) => (lang.num(s)), None => (lang.t(L::NoneYet)) }
                }
                dt { (lang.t(L::OpAcceptedLastHour)) }
                dd class="num" data-op="accepted-last-hour" { (lang.num(f.last_hour())) }
                dt { (lang.t(L::OpPeakMinute)) }
                dd class="num" { (lang.num(peak)) }
                dt { (lang.t(L::OpQueue)) }
                dd class="num" data-op="queue" {
                    @if f.queue_capacity == 0 { (lang.t(L::OpNoWriter)) }
                    @else { (lang.num(f.queue_depth)) " " (lang.t(L::Of)) " " (lang.num(f.queue_capacity)) }
                }
                dt { (lang.t(L::OpInFlight)) }
                dd class="num" data-op="in-flight" { (lang.num(f.in_flight)) }
                dt { (lang.t(L::OpStoreSize)) }
                dd class="num" data-op="store-bytes" {
                    @match f.disk.store_bytes { Some(n) => (bytes(lang, n)), None => (lang.t(L::OpNotMeasured)) }
                }
                dt { (lang.t(L::OpFreeSpace)) }
                dd class="num" data-op="free-bytes" {
                    @match f.disk.filesystem {
                        Some(fs) => { (bytes(lang, fs.available)) " " (lang.t(L::Of)) " " (bytes(lang, fs.total)) }
                        None => (lang.t(L::OpNotMeasured)),
                    }
                }
            }
            (charts::columns(lang, "per-minute", lang.t(L::OpPerMinute), lang.t(L::OpPerMinuteDesc), &f.per_minute))
        }
    }
}

fn refused(lang: Lang, f: &Figures) -> Markup {
    html! {
        section {
            h2 { (lang.t(L::OpRefused)) }
            @if f.refused.is_empty() {
                p { (lang.t(L::OpNoneRefused)) }
            } @else {
                table class="refused" {
                    thead { tr { th scope="col" { (lang.t(L::Code)) } th scope="col" { (lang.t(L::OpCount)) } } }
                    tbody {
                        @for (code, n) in &f.refused {
                            tr {
                                td data-label=(lang.t(L::Code)) { code dir="ltr" { (code) } }
                                td class="num" data-label=(lang.t(L::OpCount)) data-code=(code) { (lang.num(*n)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn witnesses(lang: Lang, f: &Figures) -> Markup {
    html! {
        section {
            h2 { (lang.t(L::OpWitnessHealth)) }
            @match &f.witnesses {
                None => p { (lang.t(L::OpNoPolicy)) },
                Some(ws) => table class="witnesses" {
                    thead { tr {
                        th scope="col" { (lang.t(L::Witnesses)) }
                        th scope="col" { (lang.t(L::OpWitnessUp)) }
                        th scope="col" { (lang.t(L::OpLastCosigned)) }
                        th scope="col" { (lang.t(L::OpCosignedTime)) }
                        th scope="col" { (lang.t(L::OpFailures)) }
                        th scope="col" { (lang.t(L::OpLastError)) }
                    } }
                    tbody {
                        @for w in ws {
                            tr data-witness=(w.name) {
                                td data-label=(lang.t(L::Witnesses)) { code dir="ltr" { (w.name) } }
                                @match w.up {
                                    Some(true) => td class="ok" data-label=(lang.t(L::OpWitnessUp)) { (lang.t(L::OpYes)) },
                                    Some(false) => td class="warn" data-label=(lang.t(L::OpWitnessUp)) { (lang.t(L::OpNo)) },
                                    None => td class="pending" data-label=(lang.t(L::OpWitnessUp)) { (lang.t(L::OpNotPushed)) },
                                }
                                td class="num" data-label=(lang.t(L::OpLastCosigned)) data-op="witness-size" {
                                    @match w.cosigned_size { Some(s) => (lang.num(s)), None => (lang.t(L::NoneYet)) }
                                }
                                td data-label=(lang.t(L::OpCosignedTime)) {
                                    @if let Some(t) = w.cosigned_at { (lang.datetime(t)) }
                                }
                                td class="num" data-label=(lang.t(L::OpFailures)) { (lang.num(w.failures)) }
                                td data-label=(lang.t(L::OpLastError)) {
                                    @if let Some(e) = &w.last_error {
                                        @if let Some(t) = w.last_error_at { (lang.datetime(t)) ": " }
                                        code dir="ltr" { (e) }
                                    }
                                }
                            }
                        }
                    }
                },
            }
        }
    }
}

/// One contest's provinces, and the counties still owing tallies (folded
/// away: at the start of the night that is every county).
fn reporting(lang: Lang, site: &Site, c: &ContestReporting) -> Markup {
    let m = site.app.manifest.manifest();
    let Some(contest) = site
        .geo
        .contest_idx
        .get(&c.contest)
        .map(|&i| &m.contests[i])
    else {
        return html! {};
    };
    let province_name = |id: &str| -> String {
        site.geo.province_idx.get(id).map_or(id.to_owned(), |&i| {
            lang.pick(&m.provinces[i].name_fa, &m.provinces[i].name_en)
                .to_owned()
        })
    };
    let county_name = |id: &str| -> String {
        site.geo.county_idx.get(id).map_or(id.to_owned(), |&i| {
            lang.pick(&m.counties[i].name_fa, &m.counties[i].name_en)
                .to_owned()
        })
    };
    let outstanding: Vec<_> = c.counties.iter().filter(|k| k.not_reported() > 0).collect();
    html! {
        section class="contest" data-contest=(c.contest) {
            h3 { (contest_name(lang, contest)) }
            table class="reporting" {
                thead { tr {
                    th scope="col" { (lang.t(L::Province)) }
                    th scope="col" { (lang.t(L::StationsExpected)) }
                    th scope="col" { (lang.t(L::NotReported)) }
                } }
                tbody {
                    @for p in &c.provinces {
                        tr data-province=(p.id) {
                            td data-label=(lang.t(L::Province)) { a href=(lang.url(&format!("/province/{}", p.id))) { (province_name(&p.id)) } }
                            td class="num" data-label=(lang.t(L::StationsExpected)) { (lang.num(p.expected)) }
                            td class=(if p.not_reported() > 0 { "num pending" } else { "num ok" }) data-label=(lang.t(L::NotReported)) data-op="not-reported" {
                                (lang.num(p.not_reported()))
                            }
                        }
                    }
                }
            }
            @if outstanding.is_empty() {
                p { (lang.t(L::OpAllReported)) }
            } @else {
                details {
                    summary { (lang.t(L::OpCountiesOutstanding)) " (" (lang.num(outstanding.len() as u64)) ")" }
                    table class="reporting" {
                        thead { tr {
                            th scope="col" { (lang.t(L::County)) }
                            th scope="col" { (lang.t(L::Province)) }
                            th scope="col" { (lang.t(L::StationsExpected)) }
                            th scope="col" { (lang.t(L::NotReported)) }
                        } }
                        tbody {
                            @for k in &outstanding {
                                tr data-county=(k.id) {
                                    td data-label=(lang.t(L::County)) { a href=(lang.url(&format!("/county/{}", k.id))) { (county_name(&k.id)) } }
                                    td data-label=(lang.t(L::Province)) { (province_name(&k.province)) }
                                    td class="num" data-label=(lang.t(L::StationsExpected)) { (lang.num(k.expected)) }
                                    td class="num pending" data-label=(lang.t(L::NotReported)) data-op="not-reported" { (lang.num(k.not_reported())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
