//! The operators' view end to end (`spec/operations.md` §11): a real board
//! with two real witnesses takes tallies and refusals; `/metrics` and the
//! `/operator` page must show the same figures, equal to what the test
//! computes from the manifest and what it submitted; and every metric the
//! Grafana dashboard in `ops/grafana/` queries must be in that `/metrics`
//! (and every metric family in the specification), so neither can drift.
//! No assertion depends on timing: waits are polls with a deadline.

#[path = "server/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "server/witnesses.rs"]
mod witnesses;

use harness::Server;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use witnesses::{policy_text, witness};

const STATIONS: usize = 40;
const REGISTERED: usize = 30;
const REPORTED: usize = 17;

/// `/metrics` as series (name with labels, exactly as printed) → value.
fn metrics(s: &Server) -> BTreeMap<String, f64> {
    let text = s.get("/metrics").text();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("series value");
            (k.to_owned(), v.parse().expect("a number"))
        })
        .collect()
}

/// Polls `/metrics` until `ok` holds (a deadline, not a timing assertion).
fn metrics_until(
    s: &Server,
    what: &str,
    ok: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = metrics(s);
        if ok(&m) {
            return m;
        }
        assert!(Instant::now() < deadline, "never: {what}\n{m:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn get(m: &BTreeMap<String, f64>, series: &str) -> u64 {
    *m.get(series)
        .unwrap_or_else(|| panic!("no {series} in /metrics: {m:#?}")) as u64
}

/// The number in the cell marked `data-op="not-reported"` of the row
/// `<tr {attr}="{id}">` (English page: ASCII digits with commas).
fn row_figure(html: &str, attr: &str, id: &str, op: &str) -> u64 {
    let row = html
        .split(&format!("<tr {attr}=\"{id}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no row {attr}={id}"));
    let row = row.split("</tr>").next().expect("row end");
    let cell = row
        .split(&format!("data-op=\"{op}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {op} in row {attr}={id}: {row}"));
    cell.split('<')
        .next()
        .expect("cell text")
        .trim()
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{op} of {id}: {cell:.40}"))
}

#[test]
fn the_operators_figures_match_the_log_and_the_dashboard_matches_metrics() {
    let guardian = witness("witness-guardian");
    let mut observer = witness("witness-observer");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.txt");
    std::fs::write(&policy, policy_text(&guardian.url, &observer.url, None)).expect("policy");
    let mut s = Server::start(
        STATIONS,
        &[
            "--witness-policy",
            policy.to_str().expect("utf-8"),
            "--queue",
            "64",
        ],
    );
    s.setup(0..REGISTERED);
    for i in 0..REPORTED {
        s.append(&s.e.signed_tally(i));
    }
    // A resubmission is not a refusal; two tallies of a station with no
    // key registered are.
    assert_eq!(s.submit(&s.e.signed_tally(0)).status, 200);
    for _ in 0..2 {
        let r = s.submit(&s.e.signed_tally(REGISTERED + 1));
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "station.key-not-registered")
        );
    }
    // A refused read is counted among the rejections, not the submissions.
    assert_eq!(s.get("/api/v1/entries/999999").status, 404);
    let size = s.get("/api/v1/log").json()["tree_size"]
        .as_u64()
        .expect("size");
    let m = metrics_until(&s, "both witnesses cosigned the latest checkpoint", |m| {
        ["guardian", "observer"].iter().all(|w| {
            m.get(&format!(
                "tallyboard_witness_cosigned_size{{witness=\"{w}\"}}"
            )) == Some(&(size as f64))
        }) && m.get("tallyboard_cosigned_tree_size") == Some(&(size as f64))
    });

    // Stations not yet reported, per province and county: the manifest's
    // stations for the contest minus those whose tally was accepted.
    let man = s.e.manifest();
    let mut expected: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let mut counties: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for (i, st) in man.manifest().stations.iter().enumerate() {
        let province = man.province_of(&st.county).expect("province").to_owned();
        for c in &st.contests {
            let reported = i < REPORTED && s.e.tally(i).contest == *c;
            let e = expected.entry((c.clone(), province.clone())).or_default();
            e.0 += 1;
            if !reported {
                e.1 += 1;
                *counties
                    .entry((c.clone(), province.clone(), st.county.clone()))
                    .or_default() += 1;
            } else {
                counties
                    .entry((c.clone(), province.clone(), st.county.clone()))
                    .or_default();
            }
        }
    }
    assert!(expected.len() > 1, "the election spans several provinces");
    for ((c, p), (exp, not)) in &expected {
        let labels = format!("{{contest=\"{c}\",province=\"{p}\"}}");
        assert_eq!(
            get(
                &m,
                &format!("tallyboard_province_stations_expected{labels}")
            ),
            *exp
        );
        assert_eq!(
            get(
                &m,
                &format!("tallyboard_province_stations_not_reported{labels}")
            ),
            *not,
            "{c} in {p}"
        );
    }
    for ((c, p, k), not) in &counties {
        let series = format!(
            "tallyboard_county_stations_not_reported{{contest=\"{c}\",province=\"{p}\",county=\"{k}\"}}"
        );
        assert_eq!(get(&m, &series), *not, "{series}");
    }
    let total_not: u64 = expected.values().map(|v| v.1).sum();
    assert_eq!(total_not, (STATIONS - REPORTED) as u64);

    // Refusals by code, submissions apart; the rate; the queue; the disk.
    let refused = "tallyboard_submissions_refused_total{code=\"station.key-not-registered\"}";
    assert_eq!(get(&m, refused), 2);
    assert_eq!(
        get(
            &m,
            "tallyboard_rejections_total{code=\"request.not-found\"}"
        ),
        1
    );
    assert!(!m.contains_key("tallyboard_submissions_refused_total{code=\"request.not-found\"}"));
    assert_eq!(get(&m, "tallyboard_accepted_last_hour"), size);
    assert_eq!(get(&m, "tallyboard_entries_appended_total"), size);
    assert_eq!(get(&m, "tallyboard_writer_queue_capacity"), 64);
    assert_eq!(get(&m, "tallyboard_writer_queue_depth"), 0);
    assert_eq!(get(&m, "tallyboard_submissions_in_flight"), 0);
    assert!(get(&m, "tallyboard_store_bytes") > 0);
    let free = get(&m, "tallyboard_data_filesystem_free_bytes");
    assert!(free > 0 && free <= get(&m, "tallyboard_data_filesystem_bytes"));
    assert_eq!(get(&m, "tallyboard_witness_up{witness=\"guardian\"}"), 1);
    assert_eq!(
        get(
            &m,
            "tallyboard_witness_failures_total{witness=\"observer\"}"
        ),
        0
    );
    assert!(
        get(
            &m,
            "tallyboard_witness_cosigned_timestamp_seconds{witness=\"guardian\"}"
        ) > 1_600_000_000
    );

    // The page shows the same figures, never cached.
    let page = s.get("/en/operator");
    assert_eq!(page.status, 200);
    assert_eq!(page.cache_control, "no-store");
    assert!(page.header("etag").is_none());
    let html = page.text();
    for ((c, p), (_, not)) in &expected {
        let section = html
            .split(&format!("data-contest=\"{c}\""))
            .nth(1)
            .expect("contest section");
        assert_eq!(
            row_figure(section, "data-province", p, "not-reported"),
            *not,
            "{p}"
        );
    }
    for ((_, _, k), not) in counties.iter().filter(|(_, n)| **n > 0) {
        assert_eq!(
            row_figure(&html, "data-county", k, "not-reported"),
            *not,
            "{k}"
        );
    }
    assert!(
        html.contains("data-code=\"station.key-not-registered\">2<"),
        "{html}"
    );
    assert!(!html.contains("data-code=\"request.not-found\""));
    assert_eq!(
        row_figure(&html, "data-witness", "guardian", "witness-size"),
        size
    );
    assert!(html.contains(&format!("data-op=\"accepted-last-hour\">{}<", en(size))));
    assert!(html.contains(">0 of 64<"), "the queue: {html}");
    // The Persian page renders too (its digits are Persian).
    let fa = s.get("/operator");
    assert_eq!(fa.status, 200);
    assert!(fa.text().contains("<html lang=\"fa\" dir=\"rtl\">"));
    assert!(fa.text().contains(&fa_digits(&size.to_string())));

    // The observer goes away: the next push fails for it, and both views
    // say so, with the last error.
    let _ = observer.child.kill();
    let _ = observer.child.wait();
    s.append(&s.e.signed_tally(REPORTED));
    let m = metrics_until(&s, "the observer's failure is recorded", |m| {
        m.get("tallyboard_witness_up{witness=\"observer\"}") == Some(&0.0)
    });
    assert!(
        get(
            &m,
            "tallyboard_witness_failures_total{witness=\"observer\"}"
        ) >= 1
    );
    assert!(
        get(
            &m,
            "tallyboard_witness_last_error_timestamp_seconds{witness=\"observer\"}"
        ) > 1_600_000_000
    );
    // The quorum needs the observer: the cosigned size stays behind.
    assert_eq!(get(&m, "tallyboard_cosigned_tree_size"), size);
    assert_eq!(
        get(&m, "tallyboard_witness_cosigned_size{witness=\"observer\"}"),
        size
    );
    let html = s.get("/en/operator").text();
    let row = html
        .split("<tr data-witness=\"observer\">")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("observer row");
    assert!(row.contains("class=\"warn\""), "{row}");
    assert!(
        row.contains("POST http://127.0.0.1:"),
        "the last error: {row}"
    );

    // The terminal form prints the same figures from /metrics.
    let (ok, out, err) = harness::run_cli(
        &["ops".as_ref(), "--url".as_ref(), s.url.as_ref()],
        dir.path(),
    );
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("accepted in the last hour  {}\n", en(size + 1))),
        "{out}"
    );
    assert!(
        out.contains("writer's queue             0 of 64\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{:<40} 2\n", "station.key-not-registered")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  president: {} of {STATIONS}\n",
            STATIONS - REPORTED - 1
        )),
        "{out}"
    );
    assert!(out.contains("observer         DOWN"), "{out}");
    assert!(out.contains("guardian         up"), "{out}");

    // Every metric the dashboard queries is in this /metrics, and every
    // metric family is documented in the specification.
    let text = s.get("/metrics").text();
    let exposed: BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().expect("name"))
        .collect();
    let queried = dashboard_metrics();
    assert!(queried.len() >= 15, "{queried:?}");
    let missing: Vec<_> = queried
        .iter()
        .filter(|q| !exposed.contains(q.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics /metrics lacks: {missing:?}"
    );
    let spec = std::fs::read_to_string(harness_repo().join("spec/http-api.md")).expect("spec");
    for family in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let name = family.split(' ').next().expect("name");
        assert!(
            spec.contains(&format!("`{name}")),
            "{name} is not in spec/http-api.md §1.5"
        );
    }

    // A restarted board still knows what each witness last cosigned: from
    // the cosigned checkpoints its store kept (the observer's newest is the
    // one before it went away), though its counts start again.
    s.terminate();
    s.spawn();
    let m = metrics_until(&s, "the restarted board pushed to its witnesses", |m| {
        m.contains_key("tallyboard_witness_up{witness=\"observer\"}")
    });
    assert_eq!(get(&m, "tallyboard_witness_up{witness=\"observer\"}"), 0);
    assert_eq!(
        get(&m, "tallyboard_witness_cosigned_size{witness=\"observer\"}"),
        size
    );
    assert!(
        get(
            &m,
            "tallyboard_witness_cosigned_timestamp_seconds{witness=\"observer\"}"
        ) > 1_600_000_000
    );
    assert_eq!(
        get(&m, "tallyboard_witness_cosigned_size{witness=\"guardian\"}"),
        size + 1
    );
    assert_eq!(get(&m, "tallyboard_accepted_last_hour"), 0);
    drop(guardian);
}

fn harness_repo() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn en(n: u64) -> String {
    let raw = n.to_string();
    let mut out = String::new();
    for (i, c) in raw.chars().enumerate() {
        if i > 0 && (raw.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fa_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32('۰' as u32 + d).expect("digit"),
            None => c,
        })
        .collect()
}

/// The metric names in the dashboard's queries: every `expr`, and the
/// template variables' `query` and `definition`.
fn dashboard_metrics() -> BTreeSet<String> {
    let path = harness_repo().join("ops/grafana/tallyboard.json");
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("dashboard")).expect("JSON");
    assert_eq!(d["schemaVersion"], 39);
    let vars = d["templating"]["list"].as_array().expect("variables");
    assert!(
        vars.iter()
            .any(|v| v["type"] == "datasource" && v["query"] == "prometheus"),
        "a Prometheus datasource variable"
    );
    let mut queries = Vec::new();
    collect(&d, &mut queries);
    let panels = d["panels"].as_array().expect("panels");
    for p in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
        assert!(p["targets"].as_array().is_some_and(|t| !t.is_empty()));
    }
    let mut names = BTreeSet::new();
    for (key, q) in queries {
        let mut rest = q.as_str();
        while let Some(at) = rest.find("tallyboard_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(tail.len());
            names.insert(tail[..end].to_owned());
            // A writer, its standby and mirrors export the same figures:
            // a panel that did not pick one board would count them twice.
            assert!(
                key != "expr" || tail[end..].starts_with("{instance=\"$instance\""),
                "{q}: every selector names the board"
            );
            rest = &tail[end..];
        }
    }
    names
}

fn collect(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("expr" | "query" | "definition", serde_json::Value::String(s)) => {
                        out.push((k.clone(), s.clone()))
                    }
                    _ => collect(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}
