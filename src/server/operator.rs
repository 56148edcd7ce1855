//! The operator's figures (`spec/operations.md` §11): gathered once per
//! request from the board's own state, and shown two ways, as Prometheus
//! gauges on `/metrics` ([`render`]) and as the `/operator` page
//! (`crate::site::pages::operator`). Nothing here keeps a count of its
//! own: reporting comes from the log state's region totals (the figures
//! the province and county pages show), refusals and the submission rate
//! from [`super::metrics::Metrics`], witness health from
//! [`super::witnessing::Witnessing`], the disk from the store.

pub use super::witnessing::WitnessHealth;
use super::AppState;
use crate::store::FsSpace;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tallyboard_core::aggregate::Level;

/// How long measured disk figures are reused: measuring the embedded
/// store lists its directories (one file per blob), too much for every
/// scrape and page view, and the figures move slowly.
const DISK_EVERY: Duration = Duration::from_secs(10);

/// Reporting of one region for one contest.
#[derive(Clone, Debug)]
pub struct RegionReporting {
    /// The province's or county's id.
    pub id: String,
    /// A county's province (a province's own id).
    pub province: String,
    /// Stations whose manifest entry lists the contest.
    pub expected: u64,
    /// Of those, stations with a tally logged.
    pub reported: u64,
}

impl RegionReporting {
    /// Stations that have not reported yet.
    pub fn not_reported(&self) -> u64 {
        self.expected.saturating_sub(self.reported)
    }
}

/// Reporting of one contest, by province and by county, manifest order.
#[derive(Clone, Debug)]
pub struct ContestReporting {
    /// The contest's id.
    pub contest: String,
    /// Its provinces.
    pub provinces: Vec<RegionReporting>,
    /// Its counties.
    pub counties: Vec<RegionReporting>,
}

/// The store's size and the free space of its filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct Disk {
    /// Bytes the store occupies (`None` if it could not be measured).
    pub store_bytes: Option<u64>,
    /// The data directory's filesystem (`None` for a database server).
    pub filesystem: Option<FsSpace>,
}

/// The last measured [`Disk`], shared by every request.
#[derive(Default)]
pub struct DiskCache(Mutex<Option<(Instant, Disk)>>);

/// Everything the operator's view shows, at one moment.
#[derive(Clone, Debug)]
pub struct Figures {
    /// The latest signed checkpoint's size.
    pub tree_size: u64,
    /// The newest checkpoint whose cosignatures meet the witness quorum
    /// (what `/checkpoint` serves); `None` before there is one or without
    /// a witness policy.
    pub cosigned_size: Option<u64>,
    /// Entries accepted per minute over the last hour, oldest first, the
    /// current minute last.
    pub per_minute: Vec<u64>,
    /// Refused submissions by stable error code.
    pub refused: Vec<(&'static str, u64)>,
    /// Every witness the board pushes to; `None` without a witness policy.
    pub witnesses: Option<Vec<WitnessHealth>>,
    /// Store and disk.
    pub disk: Disk,
    /// Submissions in the writer's queue.
    pub queue_depth: u64,
    /// The queue's capacity (also the most submissions admitted at once);
    /// 0 on a server with no writer (a mirror).
    pub queue_capacity: u64,
    /// Submissions being verified, queued or written.
    pub in_flight: u64,
    /// Stations not yet reported, per contest.
    pub reporting: Vec<ContestReporting>,
}

impl Figures {
    /// Entries accepted in the last hour.
    pub fn last_hour(&self) -> u64 {
        self.per_minute.iter().sum()
    }
}

/// Reporting per contest from the log state's region totals: the counts
/// the province and county pages show (`tallyboard_core::aggregate`),
/// O(regions), never O(stations).
pub fn reporting(st: &AppState) -> Vec<ContestReporting> {
    let snap = st.snapshot();
    let agg = snap.state.aggregator();
    agg.contest_ids()
        .map(|contest| {
            let mut c = ContestReporting {
                contest: contest.to_owned(),
                provinces: Vec::new(),
                counties: Vec::new(),
            };
            for r in agg.regions(contest).unwrap_or_default() {
                let row = |province: &str| RegionReporting {
                    id: r.id.clone(),
                    province: province.to_owned(),
                    expected: r.stations_expected,
                    reported: r.stations_reported,
                };
                match r.level {
                    Level::Province => c.provinces.push(row(&r.id)),
                    Level::County => c
                        .counties
                        .push(row(r.parent.as_deref().unwrap_or_default())),
                    _ => {}
                }
            }
            c
        })
        .collect()
}

async fn disk(st: &AppState) -> Disk {
    if let Ok(g) = st.disk.0.lock() {
        if let Some((at, d)) = *g {
            if at.elapsed() < DISK_EVERY {
                return d;
            }
        }
    }
    let store = st.store.handle();
    let measured = super::blocking(move || {
        let store_bytes = store
            .size_on_disk()
            .inspect_err(|e| tracing::warn!(error = %e, "measuring the store"))
            .ok();
        let filesystem = store
            .filesystem()
            .inspect_err(
                |e| tracing::warn!(error = %e, "measuring the data directory's filesystem"),
            )
            .ok()
            .flatten();
        Disk {
            store_bytes,
            filesystem,
        }
    })
    .await
    .unwrap_or_default();
    if let Ok(mut g) = st.disk.0.lock() {
        *g = Some((Instant::now(), measured));
    }
    measured
}

/// Gathers the figures.
pub async fn gather(st: &AppState) -> Figures {
    let disk = disk(st).await;
    let m = &st.metrics;
    Figures {
        tree_size: st.latest().checkpoint.size,
        cosigned_size: st
            .witnessing
            .as_ref()
            .and_then(|w| w.quorate())
            .map(|(_, size)| size),
        per_minute: m.per_minute.last_hour(),
        refused: m.refused_submissions(),
        witnesses: st.witnessing.as_ref().map(|w| w.health.get()),
        disk,
        queue_depth: m.queued.load(Ordering::Relaxed),
        queue_capacity: st.queue_capacity,
        in_flight: m.in_flight.load(Ordering::Relaxed),
        reporting: reporting(st),
    }
}

/// A label value in the exposition format: `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, help: &str) {
    family_of(out, name, help, "gauge");
}

fn family_of(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The figures as Prometheus gauges (`spec/http-api.md` §1.5), after the
/// counters of [`super::metrics::Metrics::render`] (refused submissions
/// are there, as a counter).
pub fn render(f: &Figures, out: &mut String) {
    let mut one = |name: &str, help: &str, v: Option<u64>| {
        if let Some(v) = v {
            family(out, name, help);
            let _ = writeln!(out, "{name} {v}");
        }
    };
    one(
        "tallyboard_cosigned_tree_size",
        "Size of the newest checkpoint whose cosignatures meet the witness quorum (what /checkpoint serves).",
        f.cosigned_size,
    );
    one(
        "tallyboard_accepted_last_hour",
        "Entries accepted in the last 60 minutes (by wall-clock minute, since the server started).",
        Some(f.last_hour()),
    );
    one(
        "tallyboard_writer_queue_depth",
        "Submissions in the writer's queue, waiting for a group commit.",
        Some(f.queue_depth),
    );
    one(
        "tallyboard_writer_queue_capacity",
        "Capacity of the writer's queue (serve --queue; 0 without a writer).",
        Some(f.queue_capacity),
    );
    one(
        "tallyboard_store_bytes",
        "Bytes the store occupies on disk.",
        f.disk.store_bytes,
    );
    one(
        "tallyboard_data_filesystem_bytes",
        "Size of the filesystem holding the data directory.",
        f.disk.filesystem.map(|s| s.total),
    );
    one(
        "tallyboard_data_filesystem_free_bytes",
        "Bytes the board may still write on the data directory's filesystem.",
        f.disk.filesystem.map(|s| s.available),
    );
    if let Some(ws) = &f.witnesses {
        witness_families(out, ws);
    }
    reporting_families(out, &f.reporting);
}

fn witness_families(out: &mut String, ws: &[WitnessHealth]) {
    type Field = fn(&WitnessHealth) -> Option<u64>;
    let families: [(&str, &str, &str, Field); 5] = [
        (
            "tallyboard_witness_up",
            "gauge",
            "1 if the witness cosigned the newest checkpoint pushed to it, 0 if not (absent before the first push).",
            |w| w.up.map(u64::from),
        ),
        (
            "tallyboard_witness_cosigned_size",
            "gauge",
            "Largest checkpoint size the witness is known to have cosigned (kept in the store across restarts).",
            |w| w.cosigned_size,
        ),
        (
            "tallyboard_witness_cosigned_timestamp_seconds",
            "gauge",
            "The witness's cosignature timestamp on that checkpoint (POSIX seconds).",
            |w| w.cosigned_at,
        ),
        (
            "tallyboard_witness_last_error_timestamp_seconds",
            "gauge",
            "When a push to the witness last failed (POSIX seconds, the board's clock).",
            |w| w.last_error_at,
        ),
        (
            "tallyboard_witness_failures_total",
            "counter",
            "Pushes the witness did not cosign since the server started.",
            |w| Some(w.failures),
        ),
    ];
    for (name, kind, help, field) in families {
        family_of(out, name, help, kind);
        for w in ws {
            if let Some(v) = field(w) {
                let _ = writeln!(out, "{name}{{witness=\"{}\"}} {v}", label(&w.name));
            }
        }
    }
}

fn reporting_families(out: &mut String, rs: &[ContestReporting]) {
    family(
        out,
        "tallyboard_province_stations_expected",
        "Stations whose manifest entry lists the contest, per province.",
    );
    for c in rs {
        for p in &c.provinces {
            let _ = writeln!(
                out,
                "tallyboard_province_stations_expected{{contest=\"{}\",province=\"{}\"}} {}",
                label(&c.contest),
                label(&p.id),
                p.expected
            );
        }
    }
    family(
        out,
        "tallyboard_province_stations_not_reported",
        "Of those, stations with no tally for the contest logged yet, per province.",
    );
    for c in rs {
        for p in &c.provinces {
            let _ = writeln!(
                out,
                "tallyboard_province_stations_not_reported{{contest=\"{}\",province=\"{}\"}} {}",
                label(&c.contest),
                label(&p.id),
                p.not_reported()
            );
        }
    }
    family(
        out,
        "tallyboard_county_stations_not_reported",
        "Stations with no tally for the contest logged yet, per county.",
    );
    for c in rs {
        for k in &c.counties {
            let _ = writeln!(
                out,
                "tallyboard_county_stations_not_reported{{contest=\"{}\",province=\"{}\",county=\"{}\"}} {}",
                label(&c.contest),
                label(&k.province),
                label(&k.id),
                k.not_reported()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(label("04-001"), "04-001");
    }

    #[test]
    fn absent_figures_are_left_out_and_witnesses_are_labelled() {
        let f = Figures {
            tree_size: 9,
            cosigned_size: None,
            per_minute: vec![1; 60],
            refused: vec![],
            witnesses: Some(vec![WitnessHealth {
                name: "guardian".into(),
                cosigned_size: Some(7),
                cosigned_at: Some(1_700_000_000),
                up: Some(true),
                ..WitnessHealth::default()
            }]),
            disk: Disk::default(),
            queue_depth: 2,
            queue_capacity: 4096,
            in_flight: 3,
            reporting: vec![ContestReporting {
                contest: "president".into(),
                provinces: vec![RegionReporting {
                    id: "p1".into(),
                    province: "p1".into(),
                    expected: 10,
                    reported: 4,
                }],
                counties: vec![],
            }],
        };
        let mut out = String::new();
        render(&f, &mut out);
        assert!(!out.contains("tallyboard_cosigned_tree_size"), "{out}");
        assert!(!out.contains("tallyboard_store_bytes"), "{out}");
        assert!(out.contains("tallyboard_accepted_last_hour 60\n"), "{out}");
        assert!(out.contains("tallyboard_writer_queue_capacity 4096\n"));
        assert!(out.contains("tallyboard_witness_cosigned_size{witness=\"guardian\"} 7\n"));
        assert!(out.contains("tallyboard_witness_up{witness=\"guardian\"} 1\n"));
        assert!(!out.contains("tallyboard_witness_last_error_timestamp_seconds{"));
        assert!(out.contains(
            "tallyboard_province_stations_not_reported{contest=\"president\",province=\"p1\"} 6\n"
        ));
    }
}
