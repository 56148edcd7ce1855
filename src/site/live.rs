//! Live updates: `GET /live` is a stream of server-sent events, one
//! `checkpoint` event per new snapshot, so pages move without a reload.
//!
//! Event data (JSON): `{"size": N, "text": {"fa": {key: text}, "en": {key:
//! text}}, "bars": {key: basis points}}`. Keys are the `data-live` keys the
//! pages put on figures: `size`, and per contest `<contest>/reported`,
//! `<contest>/valid`, `/votes_taken`, `/void_taken`, `/void_not_taken`,
//! `/ballots_in_box`, `/counterfoils`, `/revised`, `<contest>/c<code>/votes`
//! and `<contest>/c<code>/share`; bar keys are `<contest>/progress` and
//! `<contest>/c<code>`. Figures are those of each contest over its whole
//! constituency (the nation for a nation-wide contest). The texts are
//! already formatted in each language, so the script only swaps them.

use super::data::{self, Site};
use super::i18n::Lang;
use super::pages::{share_base, top_candidates};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, Extensions, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tallyboard_core::aggregate::{Level, NATION_ID};
use tokio::sync::broadcast;

/// The event for the site's current snapshot.
pub fn event_json(site: &Site) -> String {
    let snap = site.snap();
    let m = site.app.manifest.manifest();
    let mut text: [Map<String, Value>; 2] = [Map::new(), Map::new()];
    let mut bars = Map::new();
    for (li, lang) in [Lang::Fa, Lang::En].into_iter().enumerate() {
        text[li].insert("size".into(), lang.num(snap.size).into());
    }
    for c in &m.contests {
        let (level, id) = match &c.constituency {
            Some(k) => (Level::Constituency, k.as_str()),
            None => (Level::Nation, NATION_ID),
        };
        let Some(t) = snap.tallies().region(&c.id, level, id) else {
            continue;
        };
        let s = &t.standing;
        let base = share_base(c, s);
        bars.insert(
            format!("{}/progress", c.id),
            data::share_bp(t.stations_reported, t.stations_expected).into(),
        );
        // Only the candidates the pages list (a Majlis contest may have
        // thousands): the event stays small whatever the ballot.
        let shown: Vec<(&tallyboard_core::manifest::Candidate, u64)> = top_candidates(c, s)
            .into_iter()
            .map(|i| (&c.candidates[i], s.votes[i]))
            .collect();
        for &(k, v) in &shown {
            bars.insert(
                format!("{}/c{}", c.id, k.code),
                data::share_bp(v, base).into(),
            );
        }
        for (li, lang) in [Lang::Fa, Lang::En].into_iter().enumerate() {
            let out = &mut text[li];
            let mut put = |k: &str, v: String| {
                out.insert(format!("{}/{k}", c.id), v.into());
            };
            put("reported", lang.num(t.stations_reported));
            put("revised", lang.num(t.stations_revised));
            put("annulled", lang.num(t.stations_annulled));
            put("valid", lang.num(s.figures.valid));
            put("votes_taken", lang.num(s.figures.votes_taken));
            put("void_taken", lang.num(s.figures.void_taken));
            put("void_not_taken", lang.num(s.figures.void_not_taken));
            put("ballots_in_box", lang.num(s.figures.ballots_in_box));
            put("counterfoils", lang.num(s.figures.counterfoils));
            for &(k, v) in &shown {
                put(&format!("c{}/votes", k.code), lang.num(v));
                put(
                    &format!("c{}/share", k.code),
                    lang.percent(data::share_bp(v, base)),
                );
            }
        }
    }
    let [fa, en] = text;
    json!({"size": snap.size, "text": {"fa": fa, "en": en}, "bars": bars}).to_string()
}

fn sse_event(data: &str) -> Event {
    Event::default().event("checkpoint").data(data)
}

/// `GET /live`: the current state at once, then one event per new
/// checkpoint. A slow reader that falls behind skips to the newest state.
/// The stream holds a place under the caps of `serve --live-max` and
/// `--live-per-client` until it ends; without one the answer is `503` with
/// `Retry-After` and `Connection: close`, so a refused client does not keep
/// its connection either.
pub async fn live(State(site): State<Arc<Site>>, ext: Extensions) -> Response {
    let peer = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let permit = match site.app.live_streams.acquire(peer) {
        Ok(p) => p,
        Err(e) => {
            let mut r = e.into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    site.refresh().await;
    // Subscribed before the first event is taken, so an event sent in
    // between is received (twice at worst, which the page does not mind),
    // never missed.
    let rx = site.live.subscribe();
    // The event of the site's snapshot, made once per checkpoint by the
    // refresher, not once per stream.
    let first = site.latest_event();
    let head = stream::once(async move { Ok::<_, Infallible>(sse_event(&first)) });
    // The permit lives in the stream's state: it is freed when hyper drops
    // the stream (the client went away or the server stops).
    let tail = stream::unfold((rx, permit), |(mut rx, permit)| async move {
        loop {
            match rx.recv().await {
                Ok(ev) => return Some((Ok::<_, Infallible>(sse_event(&ev)), (rx, permit))),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let s: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(futures_util::StreamExt::chain(head, tail));
    let mut r = Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
