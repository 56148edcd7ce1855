//! The national overview (`/`) and the page of one contest
//! (`/contest/{id}`).

use super::checkpoints::cosigned;
use super::official::{self, Scope};
use super::{contest_name, figures, outcome, region_rows, Ctx};
use crate::site::charts;
use crate::site::data;
use crate::site::i18n::{Lang, L};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use tallyboard_core::aggregate::{Level, NATION_ID};
use tallyboard_core::calendar;
use tallyboard_core::manifest::Contest;

fn contest_section(ctx: &Ctx, c: &Contest, snap: &crate::site::data::Snapshot) -> Markup {
    let lang = ctx.lang;
    let m = ctx.site.app.manifest.manifest();
    let (level, rid) = match &c.constituency {
        Some(k) => (Level::Constituency, k.as_str()),
        None => (Level::Nation, NATION_ID),
    };
    let Some(t) = snap.tallies().region(&c.id, level, rid) else {
        return html! {};
    };
    // Nation-wide contests list provinces; a constituency's contest lists
    // its counties.
    let rows: Vec<(String, String, _)> = match &c.constituency {
        None => m
            .provinces
            .iter()
            .filter_map(|p| {
                let r = snap.tallies().region(&c.id, Level::Province, &p.id)?;
                Some((
                    lang.pick(&p.name_fa, &p.name_en).to_owned(),
                    format!("/province/{}", p.id),
                    r,
                ))
            })
            .collect(),
        Some(k) => {
            let counties = ctx
                .site
                .geo
                .constituency_idx
                .get(k)
                .map(|&i| m.constituencies[i].counties.clone())
                .unwrap_or_default();
            counties
                .iter()
                .filter_map(|cid| {
                    let county = &m.counties[*ctx.site.geo.county_idx.get(cid)?];
                    let r = snap.tallies().region(&c.id, Level::County, cid)?;
                    Some((
                        lang.pick(&county.name_fa, &county.name_en).to_owned(),
                        format!("/county/{cid}"),
                        r,
                    ))
                })
                .collect()
        }
    };
    let decided = snap.decide(&c.id).ok();
    let (caption, head) = match &c.constituency {
        None => (L::ByProvince, L::Province),
        Some(_) => (L::ByCounty, L::County),
    };
    html! {
        section class="contest" id=(format!("contest-{}", c.id)) {
            h2 { a href=(lang.url(&format!("/contest/{}", c.id))) { (contest_name(lang, c)) } }
            (figures(lang, c, &t, &c.id, Some(&c.id), decided.as_ref(), snap.official(&c.id)))
            @if c.constituency.is_none() { (super::turnout(lang, &t, ctx.site.app.manifest.eligible_voters_nation())) }
            (outcome(lang, c, snap, &t, Some(&c.id)))
            (official::latest(lang, c, snap))
            (region_rows(lang, c, caption, head, &rows))
        }
    }
}

fn checkpoint_box(lang: Lang, ctx: &Ctx, snap: &crate::site::data::Snapshot) -> Markup {
    let cp = &snap.checkpoint;
    let witnessed = cosigned(&ctx.site);
    html! {
        section class="checkpoint" {
            h2 { (lang.t(L::LatestCheckpoint)) }
            dl {
                dt { (lang.t(L::CheckpointSize)) }
                dd class="num" data-live="size" { (lang.num(cp.checkpoint.size)) }
                dt { (lang.t(L::RootHash)) }
                dd { code dir="ltr" { (cp.checkpoint.root.to_hex()) } }
                dt { (lang.t(L::CosignedBy)) }
                dd {
                    @match &witnessed {
                        Some(w) if !w.by.is_empty() => {
                            (w.by.iter().map(|(x, _)| lang.pick(&x.name_fa, &x.name_en).to_owned()).collect::<Vec<_>>().join(lang.pick("، ", ", ")))
                            " (" (lang.t(L::WitnessedCheckpoint)) " " (lang.num(w.size)) ")"
                        }
                        _ => { (lang.t(L::NoneYet)) }
                    }
                }
                @if let Some(at) = witnessed.as_ref().and_then(|w| w.last_updated()) {
                    dt { (lang.t(L::LastUpdated)) }
                    dd class="updated" { (lang.datetime(at)) br; span class="note" { (lang.t(L::LastUpdatedNote)) } }
                }
            }
            p { a href=(lang.url("/checkpoints")) { (lang.t(L::NavCheckpoints)) } }
        }
    }
}

/// The provinces as a tile-grid cartogram (`charts::tile_map`): for the
/// first nation-wide contest, each province's leader and share (coloured
/// as in the bar chart when the leader is among the bars) and its turnout
/// (its reporting when the manifest gives no eligible voters); each tile
/// links to the province page.
fn province_map(lang: Lang, ctx: &Ctx, snap: &crate::site::data::Snapshot) -> Markup {
    let m = ctx.site.app.manifest.manifest();
    let Some(c) = m.contests.iter().find(|c| c.constituency.is_none()) else {
        return html! {};
    };
    let national = snap.tallies().region(&c.id, Level::Nation, NATION_ID);
    let order = national
        .as_ref()
        .map(|t| super::top_candidates(c, &t.standing))
        .unwrap_or_default();
    let tiles: Vec<charts::Tile> = m
        .provinces
        .iter()
        .map(|p| {
            let t = snap.tallies().region(&c.id, Level::Province, &p.id);
            let lead = t.as_ref().and_then(|t| {
                let s = &t.standing;
                let i = super::leader(c, s)?;
                Some((i, data::share_bp(s.votes[i], super::share_base(c, s))))
            });
            let mut lines = Vec::new();
            if let Some((i, bp)) = lead {
                let k = &c.candidates[i];
                lines.push(format!(
                    "{} {}",
                    lang.pick(&k.name_fa, &k.name_en),
                    lang.percent(bp)
                ));
            } else {
                lines.push(lang.t(L::NoValidVotes).to_owned());
            }
            match (&t, ctx.site.app.manifest.eligible_voters(&p.id)) {
                (Some(t), Some(eligible)) => lines.push(format!(
                    "{} {}",
                    lang.t(L::Turnout),
                    lang.percent(tallyboard_core::aggregate::turnout_bp(t, eligible))
                )),
                (Some(t), None) => lines.push(format!(
                    "{} {} {}",
                    lang.num(t.stations_reported),
                    lang.t(L::Of),
                    lang.num(t.stations_expected)
                )),
                (None, _) => {}
            }
            charts::Tile {
                id: p.id.clone(),
                name: lang.pick(&p.name_fa, &p.name_en).to_owned(),
                lines,
                href: lang.url(&format!("/province/{}", p.id)),
                class: lead.and_then(|(i, _)| {
                    let pos = order.iter().position(|&o| o == i)?;
                    Some(format!("bar bar{}", pos % 6))
                }),
            }
        })
        .collect();
    html! {
        section class="map" {
            h2 { (lang.t(L::MapTitle)) " — " (contest_name(lang, c)) }
            p class="note" { (lang.t(L::MapNote)) }
            (charts::tile_map("provinces-map", lang.t(L::MapTitle), &tiles))
        }
    }
}

/// `GET /` and `/en/`.
pub async fn home(ctx: Ctx) -> Response {
    let site = ctx.site.clone();
    if let Some(r) = ctx.not_modified(site.snap().size) {
        return r;
    }
    let annulled = official::annulled(&site, Scope::Nation).await;
    let snap = site.snap();
    if let Some(r) = ctx.not_modified(snap.size) {
        return r;
    }
    let lang = ctx.lang;
    let m = site.app.manifest.manifest();
    let title = lang
        .pick(&m.election.name_fa, &m.election.name_en)
        .to_owned();
    let national: Vec<&Contest> = m
        .contests
        .iter()
        .filter(|c| c.constituency.is_none())
        .collect();
    let others: Vec<&Contest> = m
        .contests
        .iter()
        .filter(|c| c.constituency.is_some())
        .collect();
    let body = html! {
        h1 { (title) }
        p class="meta" {
            (lang.t(L::ElectionDate)) ": "
            @match calendar::parse_iso(&m.election.date) {
                Ok(d) => { time datetime=(m.election.date) { (lang.date(d)) } }
                Err(_) => { span dir="ltr" { (lang.digits(&m.election.date)) } }
            }
        }
        p class="note" { (lang.t(L::SourceText)) " " (lang.t(L::LiveNote)) }
        @for c in &national { (contest_section(&ctx, c, &snap)) }
        (province_map(lang, &ctx, &snap))
        @if !others.is_empty() {
            section {
                h2 { (lang.t(if national.is_empty() { L::Contests } else { L::OtherContests })) }
                ul class="links" {
                    @for c in &others {
                        @let t = snap.tallies().region(&c.id, Level::Constituency, c.constituency.as_deref().unwrap_or(""));
                        li {
                            a href=(lang.url(&format!("/contest/{}", c.id))) { (contest_name(lang, c)) }
                            @if let Some(t) = t {
                                " — " (lang.t(L::StationsReported)) ": "
                                span data-live=(format!("{}/reported", c.id)) { (lang.num(t.stations_reported)) }
                                " " (lang.t(L::Of)) " " (lang.num(t.stations_expected))
                            }
                        }
                    }
                }
            }
        }
        @if !m.constituencies.is_empty() {
            section {
                h2 { (lang.t(L::Constituencies)) }
                ul class="links cols3" {
                    @for k in &m.constituencies {
                        li { a href=(lang.url(&format!("/constituency/{}", k.id))) { (lang.pick(&k.name_fa, &k.name_en)) } }
                    }
                }
            }
        }
        (official::supervision(lang, &site, &snap, Scope::Nation, &annulled))
        (checkpoint_box(lang, &ctx, &snap))
    };
    let mut page = ctx.page(&title, snap.size);
    page.live_figures = true;
    ctx.respond(StatusCode::OK, page, body)
}

/// `GET /contest/{id}`.
/// The outcome of the contest's final announcement in force, if any.
fn final_outcome(
    snap: &crate::site::data::Snapshot,
    contest: &str,
) -> Option<tallyboard_core::rules::Status> {
    let sup = snap.state().supervision();
    let f = sup.final_in_force(contest)?;
    sup.announcements()
        .iter()
        .find(|r| r.index == f.index)
        .map(|r| r.announcement.statement.outcome)
}

pub async fn contest(ctx: Ctx, Path(id): Path<String>) -> Response {
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
    let title = contest_name(lang, c).to_owned();
    let body = html! {
        h1 { (title) }
        @if let Some(k) = c.constituency.as_deref().and_then(|k| site.geo.constituency_idx.get(k)).map(|&i| &m.constituencies[i]) {
            p { (lang.t(L::Constituency)) ": " a href=(lang.url(&format!("/constituency/{}", k.id))) { (lang.pick(&k.name_fa, &k.name_en)) } }
        }
        (crate::site::rounds::runoff_held(&site, lang, &c.id, final_outcome(&snap, &c.id)))
        (contest_section(&ctx, c, &snap))
    };
    let mut page = ctx.page(&title, snap.size);
    page.live_figures = true;
    page.crumbs = vec![
        (lang.t(L::Nation).to_owned(), "/".to_owned()),
        (title.clone(), ctx.path.clone()),
    ];
    ctx.respond(StatusCode::OK, page, body)
}
