//! The page shell: `<html lang dir>`, head, header with navigation,
//! language switch and search, footer. No inline script or style: the CSP
//! allows only files from `/static/`.

use super::assets;
use super::i18n::{Lang, L};
use maud::{html, Markup, DOCTYPE};

/// One page to wrap.
pub struct Page<'a> {
    /// Its language.
    pub lang: Lang,
    /// The `<title>` (before the site name).
    pub title: &'a str,
    /// The language-neutral path of this page (with query), for the
    /// language switch.
    pub path: &'a str,
    /// The checkpoint size the figures are as of.
    pub size: u64,
    /// Breadcrumbs: (label, language-neutral path); the last is the page.
    pub crumbs: Vec<(String, String)>,
    /// Whether the page's figures are patched live (else a notice offers a
    /// reload when they move).
    pub live_figures: bool,
    /// Extra scripts (paths under /static/).
    pub scripts: &'a [&'a str],
    /// A second round's banner, above every page's content
    /// ([`super::rounds::second_round_banner`]).
    pub round: Option<Markup>,
}

/// The whole document.
pub fn render(p: Page<'_>, body: Markup) -> Markup {
    let lang = p.lang;
    let other = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="description" content=(lang.t(L::SiteTitle));
                title { (p.title) " — " (lang.t(L::SiteShort)) }
                link rel="stylesheet" href=(assets::url("site.css"));
                link rel="alternate" hreflang=(other.code()) href=(other.url(p.path));
                script src=(assets::url("live.js")) defer {}
                @for s in p.scripts {
                    script src=(s) defer {}
                }
            }
            body data-size=(p.size) data-live-figures=(if p.live_figures { "1" } else { "0" }) data-live-worker=(assets::url("live-worker.js")) data-lang=(lang.code()) {
                a class="skip" href="#main" { (lang.t(L::SkipToContent)) }
                header {
                    a class="brand" href=(lang.url("/")) { (lang.t(L::SiteShort)) }
                    nav aria-label=(lang.t(L::SiteShort)) {
                        a href=(lang.url("/")) { (lang.t(L::NavHome)) }
                        a href=(lang.url("/announcements")) { (lang.t(L::NavAnnouncements)) }
                        a href=(lang.url("/checkpoints")) { (lang.t(L::NavCheckpoints)) }
                        a href=(lang.url("/downloads")) { (lang.t(L::NavDownloads)) }
                        a href=(lang.url("/search")) { (lang.t(L::NavSearch)) }
                        a class="lang" href=(other.url(p.path)) hreflang=(other.code()) lang=(other.code()) { (lang.t(L::SwitchLang)) }
                    }
                    form class="search" action=(lang.url("/search")) method="get" role="search" {
                        label for="q" class="sr" { (lang.t(L::SearchLabel)) }
                        input id="q" name="q" type="search" placeholder=(lang.t(L::SearchLabel));
                        button type="submit" { (lang.t(L::SearchButton)) }
                    }
                }
                @if p.crumbs.len() > 1 {
                    nav class="crumbs" aria-label="breadcrumb" {
                        ol {
                            @for (i, (label, path)) in p.crumbs.iter().enumerate() {
                                li {
                                    @if i + 1 == p.crumbs.len() {
                                        span aria-current="page" { (label) }
                                    } @else {
                                        a href=(lang.url(path)) { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if let Some(round) = &p.round { (round) }
                main id="main" { (body) }
                p id="live-status" class="live-status" role="status" aria-live="polite" hidden {}
                footer {
                    p {
                        (lang.t(L::AsOfCheckpoint)) " "
                        a href=(lang.url("/checkpoints")) { span data-live="size" { (lang.num(p.size)) } }
                        "."
                    }
                    p { (lang.t(L::Footer)) }
                }
            }
        }
    }
}
