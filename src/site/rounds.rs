//! The links between the two rounds of an election (spec/site.md §8).
//!
//! A second round's board says on every page whose second round it is and
//! which checkpoint of the first round its manifest rests on (from the
//! manifest's `previous_round`, spec/manifest.md §6), linking to the first
//! round's board when the operator gives its URL
//! (`serve --previous-round-url`). A first round's contest page that ended
//! in a runoff links to the second round's board when the operator gives
//! it (`serve --next-round-url`): a log cannot name what comes after it.

use super::i18n::{Lang, L};
use super::Site;
use maud::{html, Markup};
use tallyboard_core::manifest::runoff::first_round_names;
use tallyboard_core::rules::Status;

/// The banner of a second round's pages; `None` for a first round.
pub fn second_round_banner(site: &Site, lang: Lang) -> Option<Markup> {
    let m = site.app.manifest.manifest();
    let r = m.previous_round.as_ref()?;
    let (fa, en) = first_round_names(m)?;
    let size = lang.num(r.checkpoint.size);
    Some(html! {
        p class="round" id="previous-round" {
            (lang.t(L::SecondRoundOf)) " " strong { (lang.pick(fa, en)) } "؛ "
            (lang.t(L::FirstRoundFinalCheckpoint)) " "
            @if let Some(url) = &site.app.rounds.previous {
                a href=(format!("{url}/checkpoints")) rel="prev" { (size) }
                " (" a href=(format!("{url}/{}", if lang == Lang::En { "en/" } else { "" })) { (lang.t(L::FirstRoundBoard)) } ")"
            } @else {
                (size)
            }
        }
    })
}

/// On a first round's contest page: the note that a runoff was held, with
/// the second round's board, when the operator configured it and the
/// contest's final outcome is a runoff.
pub fn runoff_held(site: &Site, lang: Lang, contest: &str, outcome: Option<Status>) -> Markup {
    let Some(url) = &site.app.rounds.next else {
        return html! {};
    };
    if outcome != Some(Status::Runoff) {
        return html! {};
    }
    let path = format!("contest/{contest}");
    let href = match lang {
        Lang::En => format!("{url}/en/{path}"),
        Lang::Fa => format!("{url}/{path}"),
    };
    html! {
        p class="round" id="next-round" {
            (lang.t(L::RunoffHeld)) " " a href=(href) rel="next" { (lang.t(L::SecondRoundBoard)) }
        }
    }
}
