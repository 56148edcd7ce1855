//! Page handlers and the parts they share: the request context (language,
//! path, freshness, ETag) and the figures, candidate and outcome blocks.

pub mod candidate;
pub mod checkpoints;
pub mod downloads;
pub mod official;
pub mod operator;
pub mod overview;
pub mod region;
pub mod search;
pub mod station;

use super::charts::{self, Bar};
use super::data::{self, Official, Site, Snapshot};
use super::i18n::{Lang, L};
use super::layout::{self, Page};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use std::convert::Infallible;
use std::sync::Arc;
use tallyboard_core::aggregate::{RegionTotals, ShareBase, Sums};
use tallyboard_core::manifest::Contest;
use tallyboard_core::rules::{Decision, Status};

/// Cache-Control of every page: short, since figures move with each
/// checkpoint; the ETag (keyed by the checkpoint size) makes revalidation
/// cheap.
pub const PAGE_CACHE: &str = "public, max-age=5";

/// What every page handler gets: the language, the language-neutral path,
/// and the site brought up to the latest checkpoint.
pub struct Ctx {
    /// The page's language.
    pub lang: Lang,
    /// The path without the `/en` prefix and without `lang=`, with the
    /// rest of the query.
    pub path: String,
    if_none_match: Option<String>,
    /// The site.
    pub site: Arc<Site>,
}

impl FromRequestParts<Arc<Site>> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, site: &Arc<Site>) -> Result<Self, Infallible> {
        let raw = parts.uri.path();
        let (mut lang, rest) = match raw.strip_prefix("/en") {
            Some("") => (Lang::En, "/"),
            Some(r) if r.starts_with('/') => (Lang::En, r),
            _ => (Lang::Fa, raw),
        };
        let mut query = Vec::new();
        for kv in parts.uri.query().unwrap_or("").split('&') {
            match kv {
                "" => {}
                "lang=en" => lang = Lang::En,
                "lang=fa" => lang = Lang::Fa,
                kv => query.push(kv),
            }
        }
        let path = if query.is_empty() {
            rest.to_owned()
        } else {
            format!("{rest}?{}", query.join("&"))
        };
        site.refresh().await;
        Ok(Ctx {
            lang,
            path,
            if_none_match: parts
                .headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            site: site.clone(),
        })
    }
}

fn etag(size: u64) -> String {
    format!("W/\"{}-{size}\"", env!("CARGO_PKG_VERSION"))
}

impl Ctx {
    /// A 304 if the client already has this page at this checkpoint size.
    pub fn not_modified(&self, size: u64) -> Option<Response> {
        let tag = etag(size);
        let inm = self.if_none_match.as_deref()?;
        if inm.split(',').any(|t| t.trim() == tag || t.trim() == "*") {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = HeaderValue::from_str(&tag) {
                r.headers_mut().insert(header::ETAG, v);
            }
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(PAGE_CACHE));
            return Some(r);
        }
        None
    }

    /// A page shell with this context's language and path.
    pub fn page<'a>(&'a self, title: &'a str, size: u64) -> Page<'a> {
        Page {
            lang: self.lang,
            title,
            path: &self.path,
            size,
            crumbs: Vec::new(),
            live_figures: false,
            scripts: &[],
            round: super::rounds::second_round_banner(&self.site, self.lang),
        }
    }

    /// The finished HTML response, cacheable by checkpoint size.
    pub fn respond(&self, status: StatusCode, page: Page<'_>, body: Markup) -> Response {
        let size = page.size;
        let html = layout::render(page, body).into_string();
        let mut r = (status, html).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if status == StatusCode::OK {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(PAGE_CACHE));
            if let Ok(v) = HeaderValue::from_str(&etag(size)) {
                h.insert(header::ETAG, v);
            }
        } else {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        r
    }

    /// The 404 page.
    pub fn not_found(&self, size: u64) -> Response {
        let lang = self.lang;
        let body = html! {
            h1 { (lang.t(L::NotFound)) }
            p { (lang.t(L::NotFoundText)) }
            p { a href=(lang.url("/")) { (lang.t(L::NavHome)) } }
        };
        self.respond(
            StatusCode::NOT_FOUND,
            self.page(lang.t(L::NotFound), size),
            body,
        )
    }
}

/// A contest's name in `lang`.
pub fn contest_name(lang: Lang, c: &Contest) -> &str {
    lang.pick(&c.name_fa, &c.name_en)
}

/// The share base figure of a contest's sums.
pub fn share_base(c: &Contest, s: &Sums) -> u64 {
    ShareBase::for_kind(c.kind).of(&s.figures)
}

/// A `data-live` key, when the block is patched live.
fn key(live: Option<&str>, rest: &str) -> Option<String> {
    live.map(|p| format!("{p}/{rest}"))
}

/// At most this many bars in a contest's chart (the table lists more).
const BARS_SHOWN: usize = 12;

/// How many candidates a contest's table lists: every seat and every
/// runoff place (at most 3 × seats), and at least 10. A Majlis contest may
/// have thousands of candidates (Tehran: about 3,500); the rest are one
/// click away in the JSON and CSV exports, so no page weighs megabytes.
pub fn shown_candidates(c: &Contest) -> usize {
    (3 * c.seats as usize).max(10)
}

/// The positions of the candidates a contest's table lists: most standing
/// votes first (equal votes in manifest order), the first
/// [`shown_candidates`].
pub fn top_candidates(c: &Contest, s: &Sums) -> Vec<usize> {
    let mut order: Vec<usize> = (0..c.candidates.len()).collect();
    let key = |&i: &usize| (std::cmp::Reverse(s.votes.get(i).copied().unwrap_or(0)), i);
    let n = shown_candidates(c);
    if order.len() > n {
        order.select_nth_unstable_by_key(n, key);
        order.truncate(n);
    }
    order.sort_by_key(key);
    order
}

/// Reporting status, progress bar, ballot figures, candidate table and
/// chart of one region for one contest. `live` is the `data-live` key
/// prefix (the contest id) when these are the figures live events carry.
/// `decided`, for the figures of the region that decides the contest,
/// marks each candidate elected or in the runoff.
pub fn figures(
    lang: Lang,
    c: &Contest,
    t: &RegionTotals,
    id: &str,
    live: Option<&str>,
    decided: Option<&Decision>,
    official: Option<Official<'_>>,
) -> Markup {
    let s = &t.standing;
    let base = share_base(c, s);
    let order = top_candidates(c, s);
    let mark = |code: u32| -> Option<L> {
        let d = decided?;
        if d.elected.contains(&code) {
            Some(L::MarkElected)
        } else if d.runoff.contains(&code) {
            Some(L::MarkRunoff)
        } else {
            None
        }
    };
    let bars: Vec<Bar> = order
        .iter()
        .take(BARS_SHOWN)
        .map(|&i| {
            let k = &c.candidates[i];
            Bar {
                label: lang.pick(&k.name_fa, &k.name_en).to_owned(),
                bp: data::share_bp(s.votes[i], base),
                value: lang.percent(data::share_bp(s.votes[i], base)),
                live: key(live, &format!("c{}", k.code)),
            }
        })
        .collect();
    let share_label = if data::share_of_taken(c) {
        L::ShareOfTaken
    } else {
        L::ShareOfValid
    };
    let status = if t.stations_reported >= t.stations_expected {
        L::StatusAllReported
    } else {
        L::StatusPartial
    };
    // The authority's word on the contest, from the log state: what the
    // status line says first when there is one.
    let announced = official.map(|o| match o {
        Official::Announced(r) => {
            let a = &r.announcement;
            let reason = a.replaces.as_ref().map(|x| x.reason.as_str());
            (
                official::status_label(a),
                r.index,
                Some(a.statement.size),
                reason,
            )
        }
        Official::Reopened { at } => (L::FinalReopened, at, None, None),
    });
    let row = |label: L, v: u64, k: &str| {
        html! { tr { th scope="row" { (lang.t(label)) } td class="num" data-live=[key(live, k)] { (lang.num(v)) } } }
    };
    html! {
        @match announced {
            Some((label, index, size, reason)) => {
                p class="status official" {
                    (lang.t(label)) " — " (lang.t(L::Index)) " "
                    @if size.is_some() { a href=(lang.url(&format!("/announcement/{index}"))) { (lang.num(index)) } } @else { (lang.num(index)) }
                    @if let Some(size) = size { (lang.pick("، ", ", ")) (lang.t(L::AtSize)) " " (lang.num(size)) }
                }
                @if let Some(reason) = reason {
                    p class="status" { (lang.t(L::CorrectionReason)) ": " bdi { (reason) } }
                }
                @if status == L::StatusPartial { p class="status" { (lang.t(status)) } }
            }
            None => { p class="status" { (lang.t(status)) } }
        }
        div class="progress-wrap" {
            p {
                (lang.t(L::StationsReported)) ": "
                span class="num" data-live=[key(live, "reported")] { (lang.num(t.stations_reported)) }
                " " (lang.t(L::Of)) " "
                span class="num" { (lang.num(t.stations_expected)) }
            }
            (charts::progress(lang, &format!("{id}-progress"), t.stations_reported, t.stations_expected, key(live, "progress").as_deref()))
        }
        div class="cols" {
            table class="candidates" {
                caption { (lang.t(L::Candidates)) }
                thead { tr {
                    th scope="col" { (lang.t(L::Code)) } th scope="col" { (lang.t(L::Candidate)) } th scope="col" { (lang.t(L::Votes)) } th scope="col" { (lang.t(share_label)) }
                    @if decided.is_some() { th scope="col" { (lang.t(L::ResultMark)) } }
                } }
                tbody {
                    @for &i in &order {
                        @let k = &c.candidates[i];
                        tr class=[mark(k.code).map(|m| if m == L::MarkElected { "elected" } else { "runoff" })] {
                            td class="num" data-label=(lang.t(L::Code)) { (lang.num(u64::from(k.code))) }
                            // Linked to the candidate's page on the pages of the
                            // region that decides the contest (a county page of
                            // Tehran would outgrow its budget with 90 links).
                            td data-label=(lang.t(L::Candidate)) { @if decided.is_some() { a href=(lang.url(&format!("/candidate/{}/{}", c.id, k.code))) { (lang.pick(&k.name_fa, &k.name_en)) } } @else { (lang.pick(&k.name_fa, &k.name_en)) } }
                            td class="num" data-label=(lang.t(L::Votes)) data-live=[key(live, &format!("c{}/votes", k.code))] { (lang.num(s.votes[i])) }
                            td class="num" data-label=(lang.t(share_label)) data-live=[key(live, &format!("c{}/share", k.code))] { (lang.percent(data::share_bp(s.votes[i], base))) }
                            @if decided.is_some() { td data-label=(lang.t(L::ResultMark)) { @if let Some(m) = mark(k.code) { (lang.t(m)) } } }
                        }
                    }
                }
            }
            (charts::bars(lang, &format!("{id}-bars"), lang.t(L::VotesChart), &bars))
        }
        table class="figures" {
            caption { (lang.t(L::Figures)) }
            tbody {
                (row(L::VotesTaken, s.figures.votes_taken, "votes_taken"))
                (row(L::Valid, s.figures.valid, "valid"))
                (row(L::VoidTaken, s.figures.void_taken, "void_taken"))
                (row(L::VoidNotTaken, s.figures.void_not_taken, "void_not_taken"))
                (row(L::BallotsInBox, s.figures.ballots_in_box, "ballots_in_box"))
                (row(L::Counterfoils, s.figures.counterfoils, "counterfoils"))
                (row(L::Revised, t.stations_revised, "revised"))
                (row(L::AnnulledBoxes, t.stations_annulled, "annulled"))
            }
        }
        @if c.candidates.len() > order.len() {
            p class="note more-candidates" {
                (lang.t(L::ShowingTop)) " " (lang.num(c.candidates.len() as u64)) ": "
                a href=(lang.url(&format!("/contest/{}/candidates", c.id))) { (lang.t(L::AllCandidates)) }
                " · "
                a href=(format!("/api/v1/results/{}", c.id)) { (lang.t(L::AllCandidatesJson)) }
                " · "
                a href="/api/v1/exports/results.csv" { (lang.t(L::AllContestsCsv)) }
            }
        }
        @if t.counted != t.standing {
            p class="note" { (lang.t(L::ExplainCounted)) " " (lang.t(L::FirstCount)) (lang.pick("، ", ", ")) (lang.t(L::Valid)) ": " (lang.num(t.counted.figures.valid)) }
        }
    }
}

/// Turnout of the nation or a province for a contest
/// (`tallyboard_core::aggregate::turnout_bp`: standing votes taken over the
/// manifest's eligible voters), and why no other level has one. Nothing
/// when the manifest gives no eligible voters.
pub fn turnout(lang: Lang, t: &RegionTotals, eligible: Option<u64>) -> Markup {
    let Some(eligible) = eligible else {
        return html! {};
    };
    html! {
        p class="turnout" {
            strong { (lang.t(L::Turnout)) ": " span class="num" { (lang.percent(tallyboard_core::aggregate::turnout_bp(t, eligible))) } }
            " — " (lang.t(L::VotesTaken)) " " (lang.num(t.standing.figures.votes_taken)) " " (lang.t(L::Of)) " "
            (lang.num(eligible)) " " (lang.t(L::EligibleVoters))
        }
        p class="note" { (lang.t(L::TurnoutWhy)) }
    }
}

fn names(lang: Lang, c: &Contest, codes: &[u32]) -> String {
    codes
        .iter()
        .map(|code| {
            c.candidates
                .iter()
                .find(|k| k.code == *code)
                .map(|k| lang.pick(&k.name_fa, &k.name_en).to_owned())
                .unwrap_or_else(|| lang.num(u64::from(*code)))
        })
        .collect::<Vec<_>>()
        .join(lang.pick("، ", ", "))
}

/// The outcome under the contest's rules, from the standing sum over the
/// whole contest (`Aggregator::decide`, i.e. `tallyboard_core::rules::decide`
/// on the contest's constituency or the nation).
pub fn outcome(
    lang: Lang,
    c: &Contest,
    snap: &Snapshot,
    t: &RegionTotals,
    live: Option<&str>,
) -> Markup {
    let partial = t.stations_reported < t.stations_expected;
    let d = snap.decide(&c.id);
    html! {
        section class="outcome" data-live-outcome=[live] {
            h3 { (lang.t(L::Outcome)) }
            @if partial { p class="note" { (lang.t(L::OutcomeProvisional)) } }
            @match d {
                Err(e) => { p { (lang.t(L::RulesError)) ": " code { (e) } } }
                Ok(d) => {
                    @match d.status {
                        Status::NoValidVotes => { p { (lang.t(L::NoValidVotes)) } }
                        _ => {
                            @if !d.elected.is_empty() { p { strong { (lang.t(L::Elected)) ": " } (names(lang, c, &d.elected)) } }
                            @if !d.runoff.is_empty() { p { strong { (lang.t(L::Runoff)) ": " } (names(lang, c, &d.runoff)) } }
                            @for tie in &d.lot_needed { p { strong { (lang.t(L::LotNeeded)) ": " } (names(lang, c, &tie.among)) } }
                        }
                    }
                    @if let Some(th) = d.threshold {
                        p class="note" {
                            (lang.t(L::Threshold)) ": " (lang.num(th.ratio.num)) "/" (lang.num(th.ratio.den)) " — "
                            (lang.t(L::MinVotes)) ": " (lang.num(th.min_votes))
                        }
                    }
                }
            }
        }
    }
}

/// The position of the candidate leading a region: most standing votes
/// (equal votes: the first in ballot order); none while nobody has a vote.
pub fn leader(c: &Contest, s: &Sums) -> Option<usize> {
    (0..c.candidates.len())
        .max_by(|&a, &b| s.votes[a].cmp(&s.votes[b]).then(b.cmp(&a)))
        .filter(|&i| s.votes[i] > 0)
}

/// One row per sub-region: name (link), stations reported of expected,
/// valid votes, the leading candidate and share.
pub fn region_rows(
    lang: Lang,
    c: &Contest,
    caption: L,
    head: L,
    rows: &[(String, String, RegionTotals)],
) -> Markup {
    html! {
        table class="regions" {
            caption { (lang.t(caption)) }
            thead { tr {
                th scope="col" { (lang.t(head)) }
                th scope="col" { (lang.t(L::StationsReported)) }
                th scope="col" { (lang.t(L::Valid)) }
                th scope="col" { (lang.t(L::Leading)) }
            } }
            tbody {
                @for (name, path, t) in rows {
                    @let s = &t.standing;
                    @let lead = leader(c, s);
                    tr {
                        td data-label=(lang.t(head)) { a href=(lang.url(path)) { (name) } }
                        td class="num" data-label=(lang.t(L::StationsReported)) { (lang.num(t.stations_reported)) " / " (lang.num(t.stations_expected)) }
                        td class="num" data-label=(lang.t(L::Valid)) { (lang.num(s.figures.valid)) }
                        td data-label=(lang.t(L::Leading)) {
                            @if let Some(i) = lead {
                                (lang.pick(&c.candidates[i].name_fa, &c.candidates[i].name_en))
                                " (" (lang.percent(data::share_bp(s.votes[i], share_base(c, s)))) ")"
                            } @else { "—" }
                        }
                    }
                }
            }
        }
    }
}
