//! Live updates: `GET /live` is a stream of server-sent events, one
//! `checkpoint` event per new snapshot, so pages move without a reload
//! (`spec/site.md` §5).
//!
//! An event says only which checkpoint the site is at:
//! `{"size": N, "text": {"fa": "<N in Persian digits>", "en": "<N>"}}`, a
//! few dozen bytes whatever the election. A page whose figures follow
//! (`data-live-figures="1"`) fetches itself again and swaps its `<main>`
//! and footer together, so every figure, chart, status line and outcome
//! comes from one rendering of one snapshot; the others only offer a
//! reload. The figures are thus formatted in one place, the pages, and a
//! stream costs the same for a national page as for a station's.

use super::data::Site;
use super::i18n::Lang;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, Extensions, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde_json::json;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The event for the site's current snapshot.
pub fn event_json(site: &Site) -> String {
    let size = site.snap().size;
    json!({
        "size": size,
        "text": {"fa": Lang::Fa.num(size), "en": Lang::En.num(size)},
    })
    .to_string()
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
