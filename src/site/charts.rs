//! Server-rendered inline SVG charts: votes per candidate and reporting
//! progress. Each chart has a `<title>` and `<desc>`, text labels on every
//! bar, and no style attributes (the Content-Security-Policy forbids them);
//! the figures are also in the tables beside it, so the page reads fully
//! without the picture. In Persian the bars grow from the right.

use super::i18n::{Lang, L};
use maud::{html, Markup};

/// Chart width in user units (the SVG scales to its container).
const W: u64 = 600;
const ROW: u64 = 44;

/// One bar: a label, a share in basis points (sets the bar's length) and
/// the text printed after the label.
pub struct Bar {
    /// The label (a candidate's name).
    pub label: String,
    /// Length, in basis points of the full width.
    pub bp: u64,
    /// The figure printed with the label.
    pub value: String,
    /// `data-live` key of the bar, for live updates.
    pub live: Option<String>,
}

fn bar_x(lang: Lang, width: u64) -> u64 {
    match lang {
        Lang::Fa => W - width,
        Lang::En => 0,
    }
}

/// Horizontal bars, one per row.
pub fn bars(lang: Lang, id: &str, title: &str, rows: &[Bar]) -> Markup {
    let h = ROW * rows.len() as u64 + 4;
    // `start` follows the text direction: the right edge in Persian.
    let tx = match lang {
        Lang::Fa => W,
        Lang::En => 0,
    };
    let desc = rows
        .iter()
        .map(|r| format!("{}: {}", r.label, r.value))
        .collect::<Vec<_>>()
        // The Persian semicolon (؛) in Persian text.
        .join(lang.pick("؛ ", "; "));
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {W} {h}")) aria-labelledby=(format!("{id}-t {id}-d")) {
            title id=(format!("{id}-t")) { (title) }
            desc id=(format!("{id}-d")) { (desc) }
            @for (i, r) in rows.iter().enumerate() {
                @let y = ROW * i as u64;
                @let w = (r.bp.min(10_000) * W / 10_000).max(1);
                text x=(tx) y=(y + 16) text-anchor="start" direction=(lang.dir()) class="chart-label" { (r.label) " — " (r.value) }
                rect x=(bar_x(lang, w)) y=(y + 22) width=(w) height="14" rx="2" class=(format!("bar bar{}", i % 6))
                    data-live-bar=[r.live.as_deref()] data-dir=(lang.dir()) {}
            }
        }
    }
}

/// A reporting-progress bar: `reported` of `expected` stations.
pub fn progress(lang: Lang, id: &str, reported: u64, expected: u64, live: Option<&str>) -> Markup {
    let bp = super::data::share_bp(reported, expected).min(10_000);
    let w = bp * W / 10_000;
    let text = format!(
        "{} {} {} — {}",
        lang.num(reported),
        lang.t(L::Of),
        lang.num(expected),
        lang.percent(bp)
    );
    html! {
        svg class="progress" role="img" viewBox=(format!("0 0 {W} 18")) aria-labelledby=(format!("{id}-t {id}-d")) {
            title id=(format!("{id}-t")) { (lang.t(L::ReportingProgress)) }
            desc id=(format!("{id}-d")) { (lang.t(L::StationsReported)) ": " (text) }
            rect x="0" y="0" width=(W) height="18" rx="3" class="track" {}
            rect x=(bar_x(lang, w)) y="0" width=(w) height="18" rx="3" class="fill"
                data-live-bar=[live] data-dir=(lang.dir()) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_text() {
        let m = bars(
            Lang::En,
            "c",
            "t",
            &[Bar {
                label: "<script>alert(1)</script>".into(),
                bp: 5000,
                value: "1".into(),
                live: None,
            }],
        )
        .into_string();
        assert!(!m.contains("<script>"));
        assert!(m.contains("&lt;script&gt;"));
        assert!(m.contains("<title"));
        assert!(m.contains("width=\"300\""));
    }

    #[test]
    fn persian_bars_grow_from_the_right() {
        let m = progress(Lang::Fa, "p", 1, 4, None).into_string();
        assert!(m.contains("x=\"450\""), "{m}");
        assert!(m.contains("۱ از ۴"));
    }
}
