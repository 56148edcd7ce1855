//! Prometheus text exposition (format 0.0.4), hand-rolled: a few counters,
//! rejections by code and two histograms, all lock-free except the
//! rejection map.

use super::errors::RejectedWith;
use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A fixed-bucket histogram.
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// Sum in millionths of the unit.
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        for (b, c) in self.bounds.iter().zip(&self.buckets) {
            if v <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((v * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

const BATCH_BOUNDS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
];
const LATENCY_BOUNDS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];

/// The server's metrics.
pub struct Metrics {
    /// Entries appended since start.
    pub appended: AtomicU64,
    /// Resubmissions answered with the existing index.
    pub duplicates: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
    /// Submissions accepted into the pipeline and not yet answered.
    pub in_flight: AtomicU64,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    /// Items per committed batch.
    pub batch_size: Histogram,
    /// Seconds from the start of a batch's write to its signed checkpoint being durable.
    pub write_latency: Histogram,
    /// Builds of the exports (each builds all three over one snapshot).
    pub export_builds: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            appended: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            rejections: Mutex::new(BTreeMap::new()),
            batch_size: Histogram::new(BATCH_BOUNDS),
            write_latency: Histogram::new(LATENCY_BOUNDS),
            export_builds: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one rejection.
    pub fn reject(&self, code: &'static str) {
        if let Ok(mut m) = self.rejections.lock() {
            *m.entry(code).or_insert(0) += 1;
        }
    }

    /// Records a committed batch.
    pub fn batch(&self, items: usize, appended: u64, took: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.appended.fetch_add(appended, Ordering::Relaxed);
        self.batch_size.observe(items as f64);
        if appended > 0 {
            self.write_latency.observe(took.as_secs_f64());
        }
    }

    /// The exposition text.
    pub fn render(&self, tree_size: u64, live_streams: u64) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, kind: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {v}");
        };
        gauge(
            "tallyboard_tree_size",
            "Size of the latest signed checkpoint.",
            "gauge",
            tree_size,
        );
        gauge(
            "tallyboard_entries_appended_total",
            "Entries appended since the server started.",
            "counter",
            self.appended.load(Ordering::Relaxed),
        );
        gauge(
            "tallyboard_duplicates_total",
            "Resubmissions answered with the index already logged.",
            "counter",
            self.duplicates.load(Ordering::Relaxed),
        );
        gauge(
            "tallyboard_batches_total",
            "Group commits (durable writes with one signed checkpoint).",
            "counter",
            self.batches.load(Ordering::Relaxed),
        );
        gauge(
            "tallyboard_submissions_in_flight",
            "Submissions being verified, queued or written.",
            "gauge",
            self.in_flight.load(Ordering::Relaxed),
        );
        gauge(
            "tallyboard_export_builds_total",
            "Builds of the exports under /api/v1/exports (all three over one checkpoint).",
            "counter",
            self.export_builds.load(Ordering::Relaxed),
        );
        gauge(
            "tallyboard_live_streams",
            "GET /live streams open now.",
            "gauge",
            live_streams,
        );
        let _ = writeln!(
            out,
            "# HELP tallyboard_rejections_total Refused requests by stable error code."
        );
        let _ = writeln!(out, "# TYPE tallyboard_rejections_total counter");
        if let Ok(m) = self.rejections.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(out, "tallyboard_rejections_total{{code=\"{code}\"}} {n}");
            }
        }
        self.batch_size.render(
            &mut out,
            "tallyboard_batch_size",
            "Submissions per group commit.",
        );
        self.write_latency.render(
            &mut out,
            "tallyboard_durable_write_seconds",
            "Time to write, fsync and sign the checkpoint of one batch.",
        );
        out
    }
}

/// Middleware: counts every response marked [`RejectedWith`].
pub async fn count_rejections(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    if let Some(RejectedWith(code)) = resp.extensions().get::<RejectedWith>() {
        st.metrics.reject(code.as_str());
    }
    resp
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(State(st): State<AppState>) -> Response {
    let size = st.latest().checkpoint.size;
    let mut resp = st
        .metrics
        .render(size, st.live_streams.open() as u64)
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
