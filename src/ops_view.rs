//! `tallyboard ops --url URL`: the operators' figures in a terminal
//! (`spec/operations.md` §11), read from the board's `/metrics`, the
//! machine form of the `/operator` page. Also the one reader of the
//! Prometheus text format (0.0.4) the benchmarks use.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One sample line: a metric name, its labels and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric (with a histogram's `_bucket`/`_sum`/`_count` suffix).
    pub name: String,
    /// Label pairs, as written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed exposition: every sample, in order.
pub struct Exposition(pub Vec<Sample>);

impl Exposition {
    /// Parses the text format; comments and blank lines are skipped.
    ///
    /// # Errors
    /// A line that is not `name[{labels}] value`.
    pub fn parse(text: &str) -> Result<Exposition> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            out.push(parse_line(line).with_context(|| format!("line {}: {line:.80}", n + 1))?);
        }
        Ok(Exposition(out))
    }

    /// Every sample of `name`.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> {
        self.0.iter().filter(move |s| s.name == name)
    }

    /// The value of the unlabelled metric `name`.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.samples(name)
            .find(|s| s.labels.is_empty())
            .map(|s| s.value)
    }
}

fn parse_line(line: &str) -> Result<Sample> {
    let name_end = line
        .find(['{', ' '])
        .context("no value after the metric name")?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            rest = rest.trim_start_matches(',');
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let (key, r) = rest.split_once("=\"").context("a label without =\"")?;
            let mut value = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => bail!("an unfinished escape"),
                    },
                    Some((_, c)) => value.push(c),
                    None => bail!("an unterminated label value"),
                }
            };
            labels.push((key.trim().to_owned(), value));
            rest = &r[end + 1..];
        }
    }
    let value = rest
        .split_whitespace()
        .next()
        .context("no value")?
        .parse()
        .context("the value is not a number")?;
    Ok(Sample {
        name,
        labels,
        value,
    })
}

/// An integer with thousands separators.
fn num(v: f64) -> String {
    let raw = format!("{}", v.max(0.0) as u64);
    let mut out = String::new();
    for (i, c) in raw.chars().enumerate() {
        if i > 0 && (raw.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A POSIX time as `YYYY-MM-DD HH:MM:SS UTC`.
fn when(secs: f64) -> String {
    let t = tallyboard_core::calendar::utc_from_posix(secs.max(0.0) as u64);
    let (h, m, s) = t.hms;
    format!("{} {h:02}:{m:02}:{s:02} UTC", t.date)
}

/// The figures as text, in the page's order.
pub fn report(e: &Exposition) -> String {
    let mut o = String::new();
    let v = |name: &str| e.value(name);
    let _ = writeln!(o, "log and writer");
    if let Some(s) = v("tallyboard_tree_size") {
        let _ = writeln!(o, "  latest checkpoint          {}", num(s));
    }
    let cosigned = v("tallyboard_cosigned_tree_size").map_or("none yet".into(), num);
    let _ = writeln!(o, "  newest cosigned (quorum)   {cosigned}");
    if let Some(n) = v("tallyboard_accepted_last_hour") {
        let _ = writeln!(o, "  accepted in the last hour  {}", num(n));
    }
    match (
        v("tallyboard_writer_queue_depth"),
        v("tallyboard_writer_queue_capacity"),
    ) {
        (Some(_), Some(0.0)) => {
            let _ = writeln!(o, "  writer's queue             no writer (a mirror)");
        }
        (Some(d), Some(c)) => {
            let _ = writeln!(o, "  writer's queue             {} of {}", num(d), num(c));
        }
        _ => {}
    }
    if let Some(n) = v("tallyboard_submissions_in_flight") {
        let _ = writeln!(o, "  submissions in flight      {}", num(n));
    }
    let store =
        v("tallyboard_store_bytes").map_or("not measured".into(), |b| format!("{} bytes", num(b)));
    let _ = writeln!(o, "  store on disk              {store}");
    let free = match (
        v("tallyboard_data_filesystem_free_bytes"),
        v("tallyboard_data_filesystem_bytes"),
    ) {
        (Some(f), Some(t)) => format!("{} of {} bytes", num(f), num(t)),
        _ => "not measured (a database server)".into(),
    };
    let _ = writeln!(o, "  free disk (data directory) {free}");

    let _ = writeln!(o, "refused submissions by code");
    let mut any = false;
    for s in e.samples("tallyboard_submissions_refused_total") {
        any = true;
        let _ = writeln!(
            o,
            "  {:<40} {}",
            s.label("code").unwrap_or("?"),
            num(s.value)
        );
    }
    if !any {
        let _ = writeln!(o, "  none since the board started");
    }

    let _ = writeln!(o, "witnesses");
    let mut names: Vec<&str> = e
        .samples("tallyboard_witness_failures_total")
        .filter_map(|s| s.label("witness"))
        .collect();
    names.dedup();
    if names.is_empty() {
        let _ = writeln!(o, "  no witness policy");
    }
    for w in names {
        let of = |metric: &str| {
            e.samples(metric)
                .find(|s| s.label("witness") == Some(w))
                .map(|s| s.value)
        };
        let up = match of("tallyboard_witness_up") {
            Some(1.0) => "up",
            Some(_) => "DOWN",
            None => "not pushed yet",
        };
        let _ = write!(o, "  {w:<16} {up:<15}");
        if let (Some(size), Some(at)) = (
            of("tallyboard_witness_cosigned_size"),
            of("tallyboard_witness_cosigned_timestamp_seconds"),
        ) {
            let _ = write!(o, " cosigned {} at {}", num(size), when(at));
        }
        let _ = write!(
            o,
            "; {} failed pushes",
            num(of("tallyboard_witness_failures_total").unwrap_or(0.0))
        );
        if let Some(at) = of("tallyboard_witness_last_error_timestamp_seconds") {
            let _ = write!(o, ", the last at {} (its reason: /operator)", when(at));
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "stations not yet reported");
    // contest → province → (expected, not reported, counties owing)
    type Province = (f64, f64, Vec<(String, f64)>);
    let mut by: BTreeMap<&str, BTreeMap<&str, Province>> = BTreeMap::new();
    for s in e.samples("tallyboard_province_stations_expected") {
        if let (Some(c), Some(p)) = (s.label("contest"), s.label("province")) {
            by.entry(c).or_default().entry(p).or_default().0 = s.value;
        }
    }
    for s in e.samples("tallyboard_province_stations_not_reported") {
        if let (Some(c), Some(p)) = (s.label("contest"), s.label("province")) {
            by.entry(c).or_default().entry(p).or_default().1 = s.value;
        }
    }
    for s in e.samples("tallyboard_county_stations_not_reported") {
        if let (Some(c), Some(p), Some(k)) =
            (s.label("contest"), s.label("province"), s.label("county"))
        {
            if s.value > 0.0 {
                let entry = by.entry(c).or_default().entry(p).or_default();
                entry.2.push((k.to_owned(), s.value));
            }
        }
    }
    // Contests in the order /metrics lists them (the manifest's).
    let mut order: Vec<&str> = Vec::new();
    for s in e.samples("tallyboard_province_stations_expected") {
        if let Some(c) = s.label("contest").filter(|c| !order.contains(c)) {
            order.push(c);
        }
    }
    order.extend(
        by.keys()
            .filter(|c| !order.contains(c))
            .copied()
            .collect::<Vec<_>>(),
    );
    for (contest, provinces) in order.iter().filter_map(|c| Some((*c, by.get(c)?))) {
        let expected: f64 = provinces.values().map(|p| p.0).sum();
        let not: f64 = provinces.values().map(|p| p.1).sum();
        let _ = writeln!(o, "  {contest}: {} of {}", num(not), num(expected));
        for (p, (exp, not, counties)) in provinces.iter().filter(|(_, p)| p.1 > 0.0) {
            let _ = write!(o, "    province {p}: {} of {}", num(*not), num(*exp));
            let list: Vec<String> = counties
                .iter()
                .map(|(k, n)| format!("{k} {}", num(*n)))
                .collect();
            let _ = writeln!(o, " (counties: {})", list.join(", "));
        }
    }
    o
}

/// `tallyboard ops --url URL`: fetches `URL/metrics` and prints [`report`].
pub fn run(url: &str) -> Result<()> {
    let url = url.trim_end_matches('/');
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(30))
        .build();
    let text = agent
        .get(&format!("{url}/metrics"))
        .call()
        .with_context(|| format!("GET {url}/metrics"))?
        .into_string()
        .context("reading /metrics")?;
    let e = Exposition::parse(&text)?;
    print!("board {url}\n{}", report(&e));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_escapes_and_histograms() {
        let e = Exposition::parse(
            "# HELP x y\n# TYPE x gauge\nx 3\ny{a=\"q\\\"u\\\\o\\nte\",b=\"2\"} 4.5\nz_bucket{le=\"+Inf\"} 7\n",
        )
        .unwrap();
        assert_eq!(e.value("x"), Some(3.0));
        let y = e.samples("y").next().unwrap();
        assert_eq!(y.label("a"), Some("q\"u\\o\nte"));
        assert_eq!(y.label("b"), Some("2"));
        assert_eq!(y.value, 4.5);
        assert_eq!(
            e.samples("z_bucket").next().unwrap().label("le"),
            Some("+Inf")
        );
        assert!(Exposition::parse("x{a=\"1} 2\n").is_err());
        assert!(Exposition::parse("x\n").is_err());
        assert!(Exposition::parse("x{a=\"1\"} many\n").is_err());
    }

    #[test]
    fn the_report_names_what_is_owed() {
        let e = Exposition::parse(concat!(
            "tallyboard_tree_size 48\n",
            "tallyboard_writer_queue_depth 0\n",
            "tallyboard_writer_queue_capacity 64\n",
            "tallyboard_submissions_refused_total{code=\"station.key-not-registered\"} 2\n",
            "tallyboard_province_stations_expected{contest=\"president\",province=\"01\"} 9\n",
            "tallyboard_province_stations_not_reported{contest=\"president\",province=\"01\"} 5\n",
            "tallyboard_county_stations_not_reported{contest=\"president\",province=\"01\",county=\"01-02\"} 5\n",
            "tallyboard_county_stations_not_reported{contest=\"president\",province=\"01\",county=\"01-03\"} 0\n",
        ))
        .unwrap();
        let r = report(&e);
        assert!(r.contains("latest checkpoint          48"), "{r}");
        assert!(r.contains("writer's queue             0 of 64"), "{r}");
        assert!(r.contains("station.key-not-registered"), "{r}");
        assert!(r.contains("  president: 5 of 9\n"), "{r}");
        assert!(
            r.contains("province 01: 5 of 9 (counties: 01-02 5)\n"),
            "{r}"
        );
        assert!(r.contains("no witness policy"), "{r}");
    }
}
