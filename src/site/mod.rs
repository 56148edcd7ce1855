//! The public results site (`spec/site.md`): server-rendered pages in
//! Persian (default, `/…`) and English (`/en/…` or `?lang=en`), live
//! updates over server-sent events, and embedded static files.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | routes, security headers, the background refresher |
//! | `data.rs` | manifest indexes and the snapshot at one checkpoint |
//! | `i18n.rs` | languages, labels, digits and numbers |
//! | `layout.rs` | the page shell |
//! | `pages/*.rs` | one file per page family |
//! | `charts.rs` | inline SVG charts |
//! | `search.rs` | normalization and the search index |
//! | `live.rs` | `GET /live` (SSE) |
//! | `assets.rs` | `/static/…` |
//!
//! Pages never do O(stations) work: the snapshot keeps region totals
//! current by reading only the entries appended since its last update.

mod assets;
mod charts;
pub mod data;
pub(crate) mod i18n;
mod layout;
mod live;
mod pages;
mod rounds;
pub mod search;

use crate::server::AppState;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

pub use data::Site;

/// The Content-Security-Policy of every site response: only this origin,
/// no inline script or style; `'wasm-unsafe-eval'` lets the in-browser
/// verifier compile its WebAssembly.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How often the background task looks for a new checkpoint (for live
/// events; page views also catch up on their own).
const REFRESH_EVERY: Duration = Duration::from_millis(250);

/// The site's routes, to merge into the server's router. Starts the
/// background refresher when called inside a Tokio runtime.
pub fn router<S: Clone + Send + Sync + 'static>(app: AppState) -> Router<S> {
    let site = Arc::new(Site::new(app));
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        let weak = Arc::downgrade(&site);
        rt.spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(site) = weak.upgrade() else { break };
                site.refresh().await;
            }
        });
    }
    let mut r = Router::new()
        .route("/static/{*name}", get(assets::serve))
        .route("/live", get(live::live));
    for prefix in ["", "/en"] {
        let p = |s: &str| format!("{prefix}{s}");
        r = r
            .route(&p("/contest/{id}"), get(pages::overview::contest))
            .route(&p("/contest/{id}/candidates"), get(pages::candidate::list))
            .route(
                &p("/candidate/{contest}/{code}"),
                get(pages::candidate::candidate),
            )
            .route(&p("/province/{id}"), get(pages::region::province))
            .route(&p("/county/{id}"), get(pages::region::county))
            .route(&p("/constituency/{id}"), get(pages::region::constituency))
            .route(&p("/station/{id}"), get(pages::station::station))
            .route(&p("/checkpoints"), get(pages::checkpoints::checkpoints))
            .route(&p("/downloads"), get(pages::downloads::downloads))
            .route(&p("/announcements"), get(pages::official::announcements))
            .route(
                &p("/announcement/{index}"),
                get(pages::official::announcement),
            )
            .route(&p("/search"), get(pages::search::search))
            .route(&p("/operator"), get(pages::operator::operator));
    }
    r.route("/", get(pages::overview::home))
        .route("/en", get(pages::overview::home))
        .route("/en/", get(pages::overview::home))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(site)
}
