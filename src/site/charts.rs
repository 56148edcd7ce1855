//! Server-rendered inline SVG charts: votes per candidate, reporting
//! progress, and the operator's submissions per minute. Each chart has a `<title>` and `<desc>`, text labels on every
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

/// Columns over time (the operator's per-minute counts): `values` oldest
/// first, scaled to the largest. Time runs with the text: left to right
/// in English, right to left in Persian. `desc` says in words what the
/// columns show (the page also prints the figures).
pub fn columns(lang: Lang, id: &str, title: &str, desc: &str, values: &[u64]) -> Markup {
    const H: u64 = 120;
    let n = values.len().max(1) as u64;
    let step = W / n;
    let top = values.iter().copied().max().unwrap_or(0).max(1);
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {W} {H}")) aria-labelledby=(format!("{id}-t {id}-d")) {
            title id=(format!("{id}-t")) { (title) }
            desc id=(format!("{id}-d")) { (desc) }
            rect x="0" y=(H - 1) width=(W) height="1" class="track" {}
            @for (i, &v) in values.iter().enumerate() {
                @let h = v * (H - 4) / top;
                @let slot = match lang { Lang::En => i as u64, Lang::Fa => n - 1 - i as u64 };
                @if h > 0 {
                    rect x=(slot * step + 1) y=(H - 1 - h) width=(step.saturating_sub(2).max(1)) height=(h) class="bar" {}
                }
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

/// The tile-grid cartogram of Iran's 31 provinces: each province one
/// equal tile, placed roughly where it lies (north up, west left, in
/// both languages: a map is not mirrored). No boundary data: a fixed
/// grid of 7 columns and 5 rows keyed by the manifest's province ids
/// (the ministry's province codes). A province the grid does not know is
/// placed in an extra row below, so none is ever left out.
pub const PROVINCE_GRID: [(&str, u64, u64); 31] = [
    ("02", 0, 0),
    ("01", 1, 0),
    ("03", 2, 0),
    ("24", 3, 0),
    ("26", 4, 0),
    ("23", 5, 0),
    ("11", 6, 0),
    ("19", 0, 1),
    ("13", 1, 1),
    ("17", 2, 1),
    ("31", 3, 1),
    ("07", 4, 1),
    ("14", 5, 1),
    ("10", 6, 1),
    ("21", 0, 2),
    ("29", 1, 2),
    ("27", 2, 2),
    ("18", 3, 2),
    ("04", 4, 2),
    ("30", 5, 2),
    ("09", 6, 2),
    ("05", 0, 3),
    ("25", 1, 3),
    ("08", 2, 3),
    ("22", 3, 3),
    ("20", 5, 3),
    ("15", 6, 3),
    ("12", 1, 4),
    ("06", 2, 4),
    ("16", 3, 4),
    ("28", 4, 4),
];

const TILE_W: u64 = 100;
// Square tiles: at 360 px a tile is about 46 px each way, a tap target
// of at least 44 px (spec/site.md §7).
const TILE_H: u64 = 100;
const GRID_COLS: u64 = 7;

/// One province tile.
pub struct Tile {
    /// The province id (its place in [`PROVINCE_GRID`]).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Up to two lines under the name (the leader and share, turnout).
    pub lines: Vec<String>,
    /// The link (the province page).
    pub href: String,
    /// The colour class (`bar0`…`bar5`, the leader's colour in the bar
    /// chart), or none when nobody leads yet.
    pub class: Option<String>,
}

/// The cartogram: a link per tile, with the figures as text on it (the
/// same figures are in the table of provinces). Kept small: anchoring and
/// text direction come from the style sheet (`.tilemap text`, by the
/// page's `dir`), not from attributes on each of its ~90 texts.
pub fn tile_map(id: &str, title: &str, tiles: &[Tile]) -> Markup {
    let mut extra = 0;
    let placed: Vec<(u64, u64, &Tile)> = tiles
        .iter()
        .map(|t| match PROVINCE_GRID.iter().find(|g| g.0 == t.id) {
            Some(&(_, c, r)) => (c, r, t),
            None => {
                extra += 1;
                ((extra - 1) % GRID_COLS, 5 + (extra - 1) / GRID_COLS, t)
            }
        })
        .collect();
    let rows = placed.iter().map(|p| p.1 + 1).max().unwrap_or(1);
    html! {
        svg class="tilemap" role="group" dir="ltr" viewBox=(format!("0 0 {} {}", GRID_COLS * TILE_W, rows * TILE_H)) aria-labelledby=(format!("{id}-t")) {
            title id=(format!("{id}-t")) { (title) }
            @for (c, r, t) in &placed {
                @let x = c * TILE_W;
                @let y = r * TILE_H;
                @let cx = x + TILE_W / 2;
                @let long = t.name.chars().count() > 14;
                a href=(t.href) {
                    rect x=(x + 2) y=(y + 2) width=(TILE_W - 4) height=(TILE_H - 4) rx="4"
                        class=(format!("tile {}", t.class.as_deref().unwrap_or("none"))) {}
                    // A long name (کهگیلویه و بویراحمد) is squeezed to the tile.
                    text x=(cx) y=(y + 24) class="tn" textLength=[long.then_some(TILE_W - 10)] lengthAdjust=[long.then_some("spacingAndGlyphs")] { (t.name) }
                    @for (i, l) in t.lines.iter().take(2).enumerate() {
                        text x=(cx) y=(y + 44 + 18 * i as u64) { (l) }
                    }
                }
            }
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
    fn every_province_has_its_own_tile() {
        let mut ids: Vec<&str> = PROVINCE_GRID.iter().map(|g| g.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 31);
        let mut cells: Vec<(u64, u64)> = PROVINCE_GRID.iter().map(|g| (g.1, g.2)).collect();
        cells.sort_unstable();
        cells.dedup();
        assert_eq!(cells.len(), 31, "two provinces share a tile");
        // An unknown province still gets a tile, in the extra row.
        let t = |id: &str| Tile {
            id: id.into(),
            name: format!("<{id}>"),
            lines: vec!["x".into()],
            href: format!("/province/{id}"),
            class: None,
        };
        let m = tile_map("m", "Map", &[t("07"), t("99")]).into_string();
        assert!(m.contains("href=\"/province/99\""), "{m}");
        // Row 5 (the first row past the grid): 5 tile heights, plus the margin.
        assert!(
            m.contains(&format!("y=\"{}\"", 5 * TILE_H + 2)),
            "the extra row: {m}"
        );
        assert!(m.contains("&lt;07&gt;"), "names are escaped");
    }

    #[test]
    fn persian_bars_grow_from_the_right() {
        let m = progress(Lang::Fa, "p", 1, 4, None).into_string();
        assert!(m.contains("x=\"450\""), "{m}");
        assert!(m.contains("۱ از ۴"));
    }
}
