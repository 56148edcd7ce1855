//! Prometheus text exposition (format 0.0.4), hand-rolled: a few counters,
//! rejections by code and two histograms, all lock-free except the
//! rejection map and the per-minute ring. The operator's figures drawn
//! from the log state, the witnesses and the disk are rendered by
//! `operator.rs` after these.

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
    /// Refused requests by (code, whether the request was a submission,
    /// `POST /api/v1/entries`): one count, rendered as every refusal by
    /// code and as the refused submissions by code.
    rejections: Mutex<BTreeMap<(&'static str, bool), u64>>,
    /// Entries appended per minute over the last hour.
    pub per_minute: MinuteCounts,
    /// Submissions in the writer's queue, sent and not yet taken by the writer.
    pub queued: AtomicU64,
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
            per_minute: MinuteCounts::default(),
            queued: AtomicU64::new(0),
            batch_size: Histogram::new(BATCH_BOUNDS),
            write_latency: Histogram::new(LATENCY_BOUNDS),
            export_builds: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one rejection; `submission` when it answered `POST
    /// /api/v1/entries`.
    pub fn reject(&self, code: &'static str, submission: bool) {
        if let Ok(mut m) = self.rejections.lock() {
            *m.entry((code, submission)).or_insert(0) += 1;
        }
    }

    /// Refused submissions by code, codes in order.
    pub fn refused_submissions(&self) -> Vec<(&'static str, u64)> {
        match self.rejections.lock() {
            Ok(m) => m
                .iter()
                .filter(|((_, submission), _)| *submission)
                .map(|((code, _), n)| (*code, *n))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Records a committed batch.
    pub fn batch(&self, items: usize, appended: u64, took: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.appended.fetch_add(appended, Ordering::Relaxed);
        self.per_minute.add(appended);
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
            let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
            for ((code, _), n) in m.iter() {
                *by_code.entry(code).or_insert(0) += n;
            }
            for (code, n) in by_code {
                let _ = writeln!(out, "tallyboard_rejections_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP tallyboard_submissions_refused_total Refused submissions (POST /api/v1/entries) by stable error code."
        );
        let _ = writeln!(out, "# TYPE tallyboard_submissions_refused_total counter");
        for (code, n) in self.refused_submissions() {
            let _ = writeln!(
                out,
                "tallyboard_submissions_refused_total{{code=\"{code}\"}} {n}"
            );
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

/// Middleware: counts every response marked [`RejectedWith`], and which
/// of them refused a submission.
pub async fn count_rejections(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let submission = req.method() == axum::http::Method::POST && req.uri().path() == SUBMIT_PATH;
    let resp = next.run(req).await;
    if let Some(RejectedWith(code)) = resp.extensions().get::<RejectedWith>() {
        st.metrics.reject(code.as_str(), submission);
    }
    resp
}

/// The submission route (`spec/http-api.md` §1.3).
const SUBMIT_PATH: &str = "/api/v1/entries";

/// Minutes kept by [`MinuteCounts`].
pub const MINUTES: usize = 60;

/// Counts per wall-clock minute over the last [`MINUTES`]: a ring of
/// (minute since the epoch, count) slots, a slot reused when its minute
/// comes round again an hour later.
pub struct MinuteCounts {
    slots: Mutex<[(u64, u64); MINUTES]>,
}

impl Default for MinuteCounts {
    fn default() -> Self {
        MinuteCounts {
            slots: Mutex::new([(0, 0); MINUTES]),
        }
    }
}

fn minute_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60)
}

impl MinuteCounts {
    /// Adds `n` to the current minute.
    pub fn add(&self, n: u64) {
        self.add_at(minute_now(), n);
    }

    fn add_at(&self, minute: u64, n: u64) {
        if n == 0 {
            return;
        }
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut slots[(minute % MINUTES as u64) as usize];
        if slot.0 != minute {
            *slot = (minute, 0);
        }
        slot.1 += n;
    }

    /// The counts of the last [`MINUTES`] minutes, oldest first, the
    /// current (unfinished) minute last.
    pub fn last_hour(&self) -> Vec<u64> {
        self.last_hour_at(minute_now())
    }

    fn last_hour_at(&self, now: u64) -> Vec<u64> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        (0..MINUTES as u64)
            .rev()
            .map(|ago| {
                let m = now.saturating_sub(ago);
                let (at, n) = slots[(m % MINUTES as u64) as usize];
                if at == m && ago <= now {
                    n
                } else {
                    0
                }
            })
            .collect()
    }
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(State(st): State<AppState>) -> Response {
    let size = st.latest().checkpoint.size;
    let mut text = st.metrics.render(size, st.live_streams.open() as u64);
    let figures = super::operator::gather(&st).await;
    super::operator::render(&figures, &mut text);
    let mut resp = text.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_counts_keep_one_hour_and_forget_older_minutes() {
        let c = MinuteCounts::default();
        let t = 29_000_000;
        c.add_at(t - 61, 7); // more than an hour ago
        c.add_at(t - 59, 3); // the oldest minute kept
        c.add_at(t - 1, 2);
        c.add_at(t, 1);
        c.add_at(t, 4);
        let h = c.last_hour_at(t);
        assert_eq!(h.len(), MINUTES);
        assert_eq!(h[0], 3);
        assert_eq!(h[MINUTES - 2], 2);
        assert_eq!(h[MINUTES - 1], 5);
        assert_eq!(h.iter().sum::<u64>(), 10);
        // An hour later the same slots hold nothing for the new minutes.
        assert_eq!(c.last_hour_at(t + 120).iter().sum::<u64>(), 0);
        // A slot reused by a new minute starts from zero.
        c.add_at(t + 60, 6);
        assert_eq!(c.last_hour_at(t + 60)[MINUTES - 1], 6);
        assert_eq!(c.last_hour_at(t + 60).iter().sum::<u64>(), 6);
    }

    #[test]
    fn refused_submissions_are_a_view_of_the_rejections() {
        let m = Metrics::default();
        m.reject("note.bad-signature", true);
        m.reject("note.bad-signature", false);
        m.reject("request.not-found", false);
        m.reject("tally.arithmetic", true);
        assert_eq!(
            m.refused_submissions(),
            vec![("note.bad-signature", 1), ("tally.arithmetic", 1)]
        );
        let text = m.render(0, 0);
        assert!(text.contains("tallyboard_rejections_total{code=\"note.bad-signature\"} 2"));
        assert!(text.contains("tallyboard_rejections_total{code=\"request.not-found\"} 1"));
        assert!(
            text.contains("tallyboard_submissions_refused_total{code=\"note.bad-signature\"} 1")
        );
        assert!(!text.contains("tallyboard_submissions_refused_total{code=\"request.not-found\"}"));
    }
}
