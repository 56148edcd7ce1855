//! The public results site over real HTTP on loopback: the real binary,
//! started on port 0 with a temporary data directory (the pattern of
//! `tests/server/harness.rs`), and plain HTTP requests for every page.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tallyboard_core::entry::{Correction, Entry, ManifestCommitment};
use tallyboard_core::manifest::{Manifest, ValidatedManifest};
use tallyboard_synth::{keys, Config, SyntheticElection};

const BIN: &str = env!("CARGO_BIN_EXE_tallyboard");
const LIMIT: usize = 100 * 1024;

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Board {
    child: Option<Child>,
    url: String,
    _dir: tempfile::TempDir,
    e: SyntheticElection,
    agent: ureq::Agent,
    /// Every entry appended through [`Board::append`], in log order.
    log: std::cell::RefCell<Vec<Vec<u8>>>,
}

impl Drop for Board {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn run(args: &[&std::ffi::OsStr]) {
    let out = Command::new(BIN).args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{:?}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Board {
    /// A board for `stations` synthetic stations whose manifest is first
    /// passed through `edit`.
    fn start(stations: usize, edit: impl FnOnce(&mut Manifest)) -> Board {
        Board::start_with(stations, edit, |_| Vec::new())
    }

    /// As [`Board::start`], with extra `serve` arguments made from the
    /// temporary directory.
    fn start_with(
        stations: usize,
        edit: impl FnOnce(&mut Manifest),
        args: impl FnOnce(&Path) -> Vec<String>,
    ) -> Board {
        Board::start_generated(
            Config {
                seed: 1404,
                stations,
                majlis: false,
            },
            edit,
            args,
        )
    }

    /// As [`Board::start_with`], for any synthetic election.
    fn start_generated(
        config: Config,
        edit: impl FnOnce(&mut Manifest),
        args: impl FnOnce(&Path) -> Vec<String>,
    ) -> Board {
        let dir = tempfile::tempdir().unwrap();
        let e = SyntheticElection::generate(config);
        let mut m = e.manifest().manifest().clone();
        edit(&mut m);
        let bytes = m.to_canonical_bytes();
        ValidatedManifest::from_bytes(&bytes).expect("edited manifest is valid");
        let p = |s: &str| dir.path().join(s);
        std::fs::write(p("manifest.json"), &bytes).unwrap();
        let log = keys::role_key("log").unwrap();
        std::fs::write(p("log.key"), format!("{}\n", log.to_skey_string())).unwrap();
        run(&[
            "init".as_ref(),
            "--data".as_ref(),
            p("data").as_os_str(),
            "--manifest".as_ref(),
            p("manifest.json").as_os_str(),
            "--log-key".as_ref(),
            p("log.key").as_os_str(),
        ]);
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(p("data"))
            .arg("--log-key")
            .arg(p("log.key"))
            .args(args(dir.path()))
            .env("TALLYBOARD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let b = Board {
            child: Some(child),
            url,
            _dir: dir,
            e,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .redirects(0)
                .build(),
            log: Default::default(),
        };
        // The manifest commitment, as committed to the edited manifest.
        let vm = ValidatedManifest::from_bytes(&bytes).unwrap();
        let c = Entry::ManifestCommitment(ManifestCommitment {
            election: vm.election_id().to_owned(),
            kind: m.election.kind,
            manifest_sha256: vm.digest(),
            manifest_root: None,
        });
        b.append(&b.e.sign_as_authority_and_supervisor(&c));
        b
    }

    fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.agent.get(&format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let r = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("GET {path}: {e}"),
        };
        let status = r.status();
        let headers = r
            .headers_names()
            .into_iter()
            .map(|n| (n.clone(), r.header(&n).unwrap_or("").to_owned()))
            .collect();
        let mut body = Vec::new();
        r.into_reader().read_to_end(&mut body).unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    fn get(&self, path: &str) -> Resp {
        self.get_with(path, &[])
    }

    fn page(&self, path: &str) -> String {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r.body
    }

    fn append(&self, entry: &[u8]) -> u64 {
        let r = self
            .agent
            .post(&format!("{}/api/v1/entries", self.url))
            .set("Content-Type", "text/plain")
            .send_bytes(entry)
            .unwrap_or_else(|e| panic!("submit: {e}"));
        assert_eq!(r.status(), 201);
        let v: serde_json::Value = serde_json::from_reader(r.into_reader()).unwrap();
        let index = v["index"].as_u64().unwrap();
        let mut log = self.log.borrow_mut();
        assert_eq!(index, log.len() as u64, "one client appends in order");
        log.push(entry.to_vec());
        index
    }

    /// The statement the entries appended so far give for `contest` at
    /// their size, from the core's log state.
    /// The demo witnesses' cosignatures on the checkpoint of the whole log.
    fn witnessed(&self) -> tallyboard_core::entry::WitnessedCheckpoint {
        self.e.witnessed_log(&self.log.borrow())
    }

    fn statement(&self, contest: &str) -> tallyboard_core::entry::Statement {
        let mut state =
            tallyboard_core::state::LogState::new(std::sync::Arc::new(self.e.manifest().clone()));
        for (i, bytes) in self.log.borrow().iter().enumerate() {
            let signed = tallyboard_core::entry::SignedEntry::parse(bytes).unwrap();
            state
                .apply(i as u64, signed.leaf_hash(), &signed.entry)
                .unwrap();
        }
        state
            .statement(contest, state.size(), &tallyboard_core::state::NoLog)
            .unwrap()
    }

    /// Registers and tallies stations `range`; returns the tallies' bytes.
    fn report(&self, range: std::ops::Range<usize>) -> Vec<Vec<u8>> {
        for i in range.clone() {
            self.append(&self.e.registration_entry(i));
        }
        range
            .map(|i| {
                let t = self.e.signed_tally(i);
                self.append(&t);
                t
            })
            .collect()
    }

    /// Station `i` corrects its tally with `reason`.
    fn revise(&self, i: usize, previous: &[u8], reason: &str) {
        let mut t = self.e.tally(i);
        t.revision = 2;
        t.correction = Some(Correction {
            supersedes: tallyboard_core::hash::leaf_hash(previous),
            reason: reason.into(),
        });
        self.append(&self.e.sign_as_station(i, &Entry::Tally(t)));
    }
}

/// The text a reader sees, outside `<pre>`, `<code>` and markup.
/// The visible text with every tag read as a space and runs of white space
/// folded, for phrases that span elements ("Annulled boxes 1").
fn words(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn visible_text(html: &str) -> String {
    let mut s = html.to_owned();
    for tag in ["pre", "code", "script", "style", "title"] {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        while let Some(a) = s.find(&open) {
            let Some(b) = s[a..].find(&close) else { break };
            s.replace_range(a..a + b + close.len(), " ");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// An integer as the English pages write it (thousands separated by commas).
fn en_num(n: u64) -> String {
    n.to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",")
}

/// Every `href="…"` of a page.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&"))
        .collect()
}

fn first_link(html: &str, prefix: &str) -> String {
    links(html)
        .into_iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no link starting with {prefix}"))
}

fn assert_page_ok(path: &str, r: &Resp, fa: bool) {
    assert_eq!(r.status, 200, "GET {path}");
    assert!(r.body.len() < LIMIT, "{path}: {} bytes", r.body.len());
    assert_eq!(
        r.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{path}"
    );
    let csp = r.header("content-security-policy").expect("CSP header");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // No inline script: every <script> has a src and nothing inside.
    for s in r.body.split("<script").skip(1) {
        assert!(
            s.starts_with(" src=\"/static/"),
            "{path}: inline script {s:.80}"
        );
        assert!(s.split_once('>').unwrap().1.starts_with("</script>"));
    }
    assert!(!r.body.contains(" style=\""), "{path}: inline style");
    if fa {
        assert!(r.body.contains("<html lang=\"fa\" dir=\"rtl\">"), "{path}");
        let text = visible_text(&r.body);
        if let Some(i) = text.find(|c: char| c.is_ascii_digit()) {
            let from = text[..i].char_indices().rev().nth(40).map_or(0, |(j, _)| j);
            let to = text[i..]
                .char_indices()
                .nth(40)
                .map_or(text.len(), |(j, _)| i + j);
            panic!(
                "{path}: ASCII digits in Persian text: {:?}",
                &text[from..to]
            );
        }
        assert!(
            text.chars().any(|c| ('۰'..='۹').contains(&c)),
            "{path}: no Persian digits"
        );
        // Persian punctuation in Persian text: ، and ؛, not , and ;.
        if let Some(i) = text.find([',', ';']) {
            let from = text[..i].char_indices().rev().nth(40).map_or(0, |(j, _)| j);
            panic!(
                "{path}: Latin punctuation in Persian text: {:?}",
                &text[from..i + 1]
            );
        }
    } else {
        assert!(r.body.contains("<html lang=\"en\" dir=\"ltr\">"), "{path}");
    }
}

#[test]
fn every_page_renders_in_both_languages_small_and_with_csp() {
    let b = Board::start(60, |_| {});
    let tallies = b.report(0..40);
    b.revise(0, &tallies[0], "recount by the county executive board");
    let station = b.e.station_id(0).to_owned();
    let county = b.e.manifest().station(&station).unwrap().county.clone();
    let province = b.e.manifest().province_of(&county).unwrap().to_owned();
    let pages = [
        "/".to_owned(),
        "/contest/president".to_owned(),
        format!("/province/{province}"),
        format!("/county/{county}"),
        format!("/station/{station}"),
        "/checkpoints".to_owned(),
        "/downloads".to_owned(),
        "/search?q=%DA%A9%D8%B1%DB%8C%D9%85%DB%8C".to_owned(),
        "/announcements".to_owned(),
        "/operator".to_owned(),
        "/contest/president/candidates".to_owned(),
        format!(
            "/candidate/president/{}",
            b.e.manifest().contest("president").unwrap().candidates[0].code
        ),
    ];
    for p in &pages {
        let fa = b.get(p);
        assert_page_ok(p, &fa, true);
        let en_prefixed = if p == "/" {
            "/en/".to_owned()
        } else {
            format!("/en{p}")
        };
        assert_page_ok(&en_prefixed, &b.get(&en_prefixed), false);
        let sep = if p.contains('?') { '&' } else { '?' };
        let en_query = format!("{p}{sep}lang=en");
        assert_page_ok(&en_query, &b.get(&en_query), false);
    }
    // The language switch of a Persian page leads to its English twin.
    let home = b.page(&format!("/province/{province}"));
    assert!(links(&home).contains(&format!("/en/province/{province}")));
    // Persian figures, English figures.
    let home_fa = b.page("/");
    assert!(home_fa.contains("مسعود کریمی"));
    assert!(home_fa.contains("ریاست جمهوری"));
    let home_en = b.page("/en/");
    assert!(home_en.contains("Masoud Karimi"));
    assert!(home_en.contains("Stations reported"));
    assert!(
        home_en.contains("<span class=\"num\">60</span>"),
        "60 expected stations"
    );
    // The election day in each calendar (spec/site.md §2): Solar Hijri in
    // Persian, Gregorian in English; the manifest says 2025-06-27.
    assert_eq!(b.e.manifest().manifest().election.date, "2025-06-27");
    assert!(home_fa.contains("۶ تیر ۱۴۰۴"), "Solar Hijri date");
    assert!(
        !home_fa.contains("۲۰۲۵-۰۶-۲۷"),
        "no Gregorian ISO date in Persian"
    );
    assert!(home_en.contains("27 June 2025"), "Gregorian date");
    // Turnout, at the national and province levels only: standing votes
    // taken (as the API gives them) over the manifest's eligible voters.
    let totals: serde_json::Value = serde_json::from_str(&b.page("/api/v1/totals")).unwrap();
    let taken = totals["contests"][0]["standing"]["votes_taken"]
        .as_u64()
        .unwrap();
    let vm = b.e.manifest();
    let eligible = vm
        .eligible_voters_nation()
        .expect("synth gives eligible voters");
    let bp = tallyboard_core::aggregate::share_bp(taken, eligible);
    assert!(bp > 0);
    let text = words(&home_en);
    assert!(
        text.contains(&format!(
            "Turnout: {}.{:02}% — Votes taken",
            bp / 100,
            bp % 100
        )),
        "{text}"
    );
    assert!(text.contains("a voter may vote at any station"), "{text}");
    let ptext = words(&b.page(&format!("/en/province/{province}")));
    let pe = vm.eligible_voters(&province).unwrap();
    assert!(
        ptext.contains(&format!("of {} eligible voters", en_num(pe))),
        "{ptext}"
    );
    assert!(!words(&b.page(&format!("/en/county/{county}"))).contains("Turnout"));
    assert!(!words(&b.page(&format!("/en/station/{station}"))).contains("Turnout"));
    // The provinces' map: one tile per province, each a link to its page.
    let map = &home_en[home_en.find("<svg class=\"tilemap\"").expect("the map")..];
    let map = &map[..map.find("</svg>").unwrap()];
    let provinces = &b.e.manifest().manifest().provinces;
    assert_eq!(provinces.len(), 31);
    for p in provinces {
        assert!(
            map.contains(&format!("href=\"/en/province/{}\"", p.id)),
            "{}",
            p.id
        );
    }
    // The province of station 0 has reported: its tile names a leader and
    // is coloured; the leader is the one its province page leads with.
    let ptile = &map[map
        .find(&format!("href=\"/en/province/{province}\""))
        .unwrap()..];
    let ptile = &ptile[..ptile.find("</a>").unwrap()];
    assert!(ptile.contains("class=\"tile bar bar"), "{ptile}");
    // Candidate pages are linked from the contest's table; a code that is
    // not a candidate, or not a number, is a 404.
    let cand = first_link(&home_en, "/en/candidate/president/");
    let cpage = b.page(&cand);
    assert!(cpage.contains("Rank"), "{cpage}");
    assert_eq!(b.get("/en/candidate/president/99999").status, 404);
    assert_eq!(b.get("/en/candidate/president/x").status, 404);
    assert_eq!(b.get("/en/candidate/nope/1").status, 404);
    // Station-level files per county, linked from the county page and the
    // downloads page, built in the background once asked for: the county's
    // stations' boxes, no other county's.
    let cpage = b.page(&format!("/en/county/{county}"));
    let csv_path = format!("/api/v1/exports/stations/county/{county}.csv");
    assert!(
        links(&cpage).contains(&csv_path),
        "county page links its file"
    );
    assert!(b
        .page("/en/downloads")
        .contains("/api/v1/exports/stations/county/"));
    let fetch = |path: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = b.get(path);
            if r.status != 503 {
                return r;
            }
            assert!(Instant::now() < deadline, "{path} never built");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let r = fetch(&csv_path);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let vm = b.e.manifest();
    for i in 0..40 {
        let id = b.e.station_id(i);
        let in_county = vm.station(id).unwrap().county == county;
        assert_eq!(
            r.body.contains(&format!("\"station\",\"{id}\"")),
            in_county,
            "{id}"
        );
    }
    let r = fetch(&format!("/api/v1/exports/stations/county/{county}.json"));
    assert_eq!(r.status, 200);
    let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let text = r.body.clone();
    assert!(
        text.contains(&b.e.station_id(0).to_string()),
        "station 0's box"
    );
    assert!(doc.is_object());
    for bad in [
        "/api/v1/exports/stations/county/99-999.csv".to_owned(),
        format!("/api/v1/exports/stations/county/{county}.xml"),
        format!("/api/v1/exports/stations/province/{province}.csv"),
    ] {
        assert_eq!(b.get(&bad).status, 404, "{bad}");
    }
    // Unknown things are an HTML 404 in the page's language.
    let r = b.get("/en/station/99-999-99999");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Not found"));
    assert_eq!(b.get("/province/nope").status, 404);
    // The API and the tlog-tiles read path are untouched.
    assert_eq!(b.get("/checkpoint").status, 200);
    assert_eq!(b.get("/api/v1/totals").status, 200);
    assert_eq!(b.get("/tile/0/000.p/1").status, 200);
}

#[test]
fn drill_down_from_nation_to_a_signed_station_tally() {
    let b = Board::start(30, |_| {});
    let tallies = b.report(0..30);
    b.revise(3, &tallies[3], "recount by the county executive board");
    let home = b.page("/en/");
    let province = first_link(&home, "/en/province/");
    let ppage = b.page(&province);
    let county = first_link(&ppage, "/en/county/");
    let cpage = b.page(&county);
    let station = first_link(&cpage, "/en/station/");
    let spage = b.page(&station);
    let id = station.trim_start_matches("/en/station/");
    assert!(
        spage.contains(&format!("station {id}\n")),
        "the signed note"
    );
    assert!(spage.contains("c2sp.org/tlog-proof@v1"), "the receipt");
    assert!(spage.contains("/api/v1/blobs/"), "the minutes scan link");
    assert!(spage.contains("/api/v1/proof/inclusion?index="));
    assert!(spage.contains(&format!("data-station=\"{id}\"")));
    assert!(spage.contains("<div id=\"verify-here\" data-index=\""));
    assert!(spage.contains("<script src=\"/static/verify.js\" defer"));
    assert!(spage.contains("Supervisor actions"));
    // The revised station shows both revisions and the reason.
    let s3 = b.e.station_id(3).to_owned();
    let p3 = b.page(&format!("/en/station/{s3}"));
    assert!(p3.contains("Revision 2"));
    assert!(p3.contains("Revision 1"));
    assert!(p3.contains("recount by the county executive board"));
    // Breadcrumbs lead back up.
    assert!(links(&spage).contains(&county));
    assert!(links(&spage).contains(&province));
    // The county page marks reported stations; the totals are the API's.
    assert!(cpage.contains("Reported") || cpage.contains("Revised"));
    let totals: serde_json::Value = serde_json::from_str(&b.page("/api/v1/totals")).unwrap();
    let valid = totals["contests"][0]["standing"]["valid"].as_u64().unwrap();
    let formatted = en_num(valid);
    assert!(
        home.contains(&format!("data-live=\"president/valid\">{formatted}<")),
        "national valid votes {formatted}"
    );
}

#[test]
fn search_forgives_arabic_letters_and_digit_scripts() {
    let b = Board::start(30, |_| {});
    let id = b.e.station_id(7).to_owned();
    let persian: String = id
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32('۰' as u32 + (c as u32 - '0' as u32)).unwrap(),
            c => c,
        })
        .collect();
    let arabic_indic: String = id
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32('٠' as u32 + (c as u32 - '0' as u32)).unwrap(),
            c => c,
        })
        .collect();
    for q in [&id, &persian, &arabic_indic] {
        let page = b.page(&format!("/search?q={}", urlencode(q)));
        assert!(
            links(&page).contains(&format!("/station/{id}")),
            "query {q}"
        );
    }
    // "مسعود کریمی" typed with Arabic kaf and yeh, and with a ZWNJ.
    let page = b.page(&format!("/search?q={}", urlencode("كريمي")));
    assert!(
        page.contains("مسعود کریمی"),
        "Arabic letters find the Persian name"
    );
    let page = b.page(&format!("/en/search?q={}", urlencode("قالیباف زاده")));
    assert!(page.contains("Ghalibafzadeh"), "a space for the ZWNJ");
    let page = b.page("/en/search?q=22");
    assert!(page.contains("Saeed Jalilvand"), "a candidate by code");
    let page = b.page(&format!("/en/search?q={}", urlencode("zzzz")));
    assert!(page.contains("Nothing found"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn every_string_from_the_manifest_is_escaped() {
    const EVIL: &str = "<script>alert(1)</script>";
    const QUOTES: &str = "\"quoted\" & 'single' <b>";
    let b = Board::start(12, |m| {
        m.contests[0].candidates[0].name_fa = EVIL.into();
        m.contests[0].candidates[0].name_en = EVIL.into();
        m.contests[0].name_en = QUOTES.into();
        m.provinces[0].name_en = QUOTES.into();
        m.counties[0].name_fa = QUOTES.into();
        m.election.name_en = EVIL.into();
    });
    let tallies = b.report(0..4);
    b.revise(1, &tallies[1], "he said \"recount\" & <b>now</b>");
    let station = b.e.station_id(1).to_owned();
    let county = b.e.manifest().station(&station).unwrap().county.clone();
    let province = b.e.manifest().province_of(&county).unwrap().to_owned();
    for p in [
        "/".to_owned(),
        "/en/".to_owned(),
        "/en/contest/president".to_owned(),
        format!("/en/province/{province}"),
        format!("/county/{county}"),
        format!("/en/station/{station}"),
        "/en/search?q=script".to_owned(),
        "/search?q=script".to_owned(),
    ] {
        let page = b.page(&p);
        assert!(!page.contains(EVIL), "{p}: raw script tag");
        assert!(!page.contains("<b>"), "{p}: raw markup");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || page.contains("&quot;quoted&quot; &amp; 'single' &lt;b&gt;"),
            "{p}: the escaped name is shown"
        );
    }
    let sp = b.page(&format!("/en/station/{station}"));
    assert!(sp.contains("he said &quot;recount&quot; &amp; &lt;b&gt;now&lt;/b&gt;"));
    let home = b.page("/en/");
    assert!(home.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(b
        .page(&format!("/en/province/{province}"))
        .contains("&quot;quoted&quot;"));
}

#[test]
fn live_events_follow_new_tallies() {
    let b = Board::start(10, |_| {});
    b.report(0..2);
    let addr = b.url.trim_start_matches("http://").to_owned();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    write!(
        s,
        "GET /live HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut seen = String::new();
    let read_until = |s: &mut std::net::TcpStream, seen: &mut String, want: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut buf = [0u8; 8192];
        while !seen.contains(want) {
            assert!(Instant::now() < deadline, "no {want:?} in {seen}");
            match s.read(&mut buf) {
                Ok(0) => panic!("stream closed: {seen}"),
                Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(_) => {}
            }
        }
    };
    read_until(&mut s, &mut seen, "\"size\":");
    assert!(seen.contains("text/event-stream"), "{seen}");
    assert!(seen.contains("event: checkpoint"));
    let before = b.get("/api/v1/log");
    let size: u64 = serde_json::from_str::<serde_json::Value>(&before.body).unwrap()["tree_size"]
        .as_u64()
        .unwrap();
    // A new station reports: an event naming the new checkpoint arrives,
    // in both languages' digits, and nothing else: a page that follows
    // fetches itself again (spec/site.md §5), so an event stays a few dozen
    // bytes however large the election.
    b.append(&b.e.registration_entry(5));
    b.append(&b.e.signed_tally(5));
    let n = size + 2;
    let want = format!("\"size\":{n}");
    read_until(&mut s, &mut seen, &want);
    let line = seen[seen.rfind("data: ").unwrap()..]
        .lines()
        .next()
        .unwrap();
    let event: serde_json::Value = serde_json::from_str(&line["data: ".len()..]).unwrap();
    let fa: String = n
        .to_string()
        .chars()
        .map(|c| char::from_u32('۰' as u32 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    assert_eq!(
        event,
        serde_json::json!({"size": n, "text": {"fa": fa, "en": n.to_string()}}),
        "{line}"
    );
    // The page a following page fetches is at least that new.
    let home = b.get("/");
    assert!(
        home.body.contains(&format!("data-size=\"{n}\"")),
        "the home page lags the event"
    );
}

#[test]
fn pages_and_assets_are_cacheable() {
    let b = Board::start(10, |_| {});
    let r = b.get("/en/");
    let etag = r.header("etag").expect("ETag").to_owned();
    assert!(r.header("cache-control").unwrap().contains("max-age"));
    let again = b.get_with("/en/", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    b.report(0..1);
    let moved = b.get_with("/en/", &[("If-None-Match", &etag)]);
    assert_eq!(moved.status, 200, "a new checkpoint changes the ETag");
    // Static files: embedded, versioned, cached for a year; the font ships.
    let css = first_link(&r.body, "/static/site.css?v=");
    let c = b.get(&css);
    assert_eq!(c.status, 200);
    assert!(c.header("cache-control").unwrap().contains("immutable"));
    assert!(c.body.contains("Vazirmatn-Regular.woff2"));
    let f = b.get("/static/fonts/Vazirmatn-Regular.woff2");
    assert_eq!(f.status, 200);
    assert_eq!(f.header("content-type"), Some("font/woff2"));
    assert!(f
        .header("cache-control")
        .unwrap()
        .contains("max-age=31536000"));
    assert_eq!(b.get("/static/fonts/OFL.txt").status, 200);
    assert_eq!(b.get("/static/live.js").status, 200);
    assert_eq!(b.get("/static/nope.js").status, 404);
}

/// At a larger scale (2,000 stations, 300 of them reported), the biggest
/// pages stay under 100 KB.
#[test]
fn pages_stay_small_at_scale() {
    let b = Board::start(2000, |_| {});
    b.report(0..300);
    let m = b.e.manifest().manifest();
    // The county with the most stations.
    let mut counts = std::collections::HashMap::new();
    for s in &m.stations {
        *counts.entry(s.county.clone()).or_insert(0usize) += 1;
    }
    let (county, _) = counts.iter().max_by_key(|(_, n)| **n).unwrap();
    let province = b.e.manifest().province_of(county).unwrap().to_owned();
    for p in [
        "/".to_owned(),
        format!("/county/{county}"),
        format!("/province/{province}"),
        "/search?q=0".to_owned(),
        "/checkpoints".to_owned(),
    ] {
        let r = b.get(&p);
        assert_eq!(r.status, 200);
        assert!(r.body.len() < LIMIT, "{p}: {} bytes", r.body.len());
    }
}

/// A `tallyboard witness` on port 0, killed on drop.
struct WitnessProc(Child, String);

impl Drop for WitnessProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_witness(data: &Path, key: &str) -> WitnessProc {
    let mut child = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["witness", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(["--key", key, "--log-vkey", "keys/log.vkey"])
        .args((!data.join("WITNESS").exists()).then_some("--init"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn witness");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .rsplit_once(' ')
        .map(|(_, u)| u.to_owned())
        .filter(|u| u.starts_with("http://"))
        .unwrap_or_else(|| panic!("witness line {line:?}"));
    WitnessProc(child, url)
}

#[test]
fn cosigning_witnesses_are_named_once_they_cosign() {
    let wdir = tempfile::tempdir().unwrap();
    let g = start_witness(&wdir.path().join("g"), "keys/demo/witness-guardian.key");
    let o = start_witness(&wdir.path().join("o"), "keys/demo/witness-observer.key");
    let policy =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/policy.txt"))
            .unwrap()
            .replace("http://127.0.0.1:8081", &g.1)
            .replace("http://127.0.0.1:8082", &o.1);
    let b = Board::start_with(
        8,
        |_| {},
        |d| {
            let p = d.join("policy.txt");
            std::fs::write(&p, &policy).unwrap();
            vec!["--witness-policy".into(), p.to_string_lossy().into_owned()]
        },
    );
    b.report(0..2);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = b.page("/en/checkpoints");
        if page.contains("the witness quorum is met") {
            assert!(page.contains("Guardian Council witness"));
            assert!(page.contains("Independent observer witness"));
            assert!(page.contains("\u{2713}"));
            let home = b.page("/en/");
            assert!(
                home.contains("witnessed checkpoint of size"),
                "the overview names them"
            );
            // "Last updated" is the latest cosignature time on that
            // checkpoint (C2SP tlog-cosignature timestamps), as the API
            // lists them.
            let w: serde_json::Value = serde_json::from_str(&b.page("/api/v1/witnessed")).unwrap();
            let latest = w["cosigned_by"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["timestamp"].as_u64().unwrap())
                .max()
                .unwrap();
            let when = tallyboard_core::calendar::utc_from_posix(latest);
            let text = words(&page);
            assert!(text.contains("Last updated:"), "{text}");
            assert!(text.contains(&when.date.year.to_string()), "{text}");
            assert!(words(&home).contains("Last updated"), "the overview too");
            let fa = b.page("/checkpoints");
            let jalali = tallyboard_core::calendar::jalali_from_gregorian(when.date).unwrap();
            let year_fa: String = jalali
                .year
                .to_string()
                .chars()
                .map(|c| char::from_u32('۰' as u32 + c.to_digit(10).unwrap()).unwrap())
                .collect();
            assert!(fa.contains("آخرین به‌روزرسانی"), "Persian label");
            assert!(fa.contains(&year_fa), "a Solar Hijri year {year_fa}");
            break;
        }
        assert!(Instant::now() < deadline, "never cosigned: {page}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Before any cosignature (no policy), the site says so honestly.
    let plain = Board::start(4, |_| {});
    assert!(plain.page("/en/checkpoints").contains("None yet"));
}

/// An annulled box stops counting in the standing figures the site shows
/// (the published totals, the rules' outcome and every page agree on this).
#[test]
fn annulled_boxes_leave_the_standing_figures() {
    let b = Board::start(10, |_| {});
    b.report(0..2);
    b.append(&b.e.annulment_entry(0, "ballot-stuffing", "test"));
    // The national page's figure, at the checkpoint with the annulment
    // (size 6: commitment, 2 keys, 2 tallies, the annulment).
    let page = b.page("/en/");
    assert!(page.contains("data-size=\"6\""), "the page is at size 6");
    let at = page
        .find("data-live=\"president/valid\"")
        .expect("the national valid-votes figure");
    let shown: String = page[at..]
        .split_once('>')
        .map(|(_, rest)| rest.split('<').next().unwrap_or(""))
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let standing = b.e.tally(1).figures.valid;
    let both = b.e.tally(0).figures.valid + standing;
    assert_eq!(
        shown,
        standing.to_string(),
        "standing valid votes must be station 1's alone ({standing}, not {both})"
    );
}

/// The official layer and supervision, as the log state holds them, on
/// the pages: an annulled box is named on its station page with the
/// reason, an approval too, the national page counts the annulled box,
/// and the contest's status line names the latest announcement (partial,
/// then final) instead of saying none is logged.
#[test]
fn supervision_and_announcements_show_on_the_pages() {
    use tallyboard_core::entry::AnnouncementStatus;
    let b = Board::start(10, |_| {});
    let tallies = b.report(0..3);
    b.append(&b.e.annulment_entry(0, "seal-broken", "the seal was broken"));
    let i1 = 5; // the commitment, 3 keys, then tallies 0, 1, 2 at 4, 5, 6
    b.append(&b.e.approval_entry(1, i1, &tallies[1]));
    let station = b.page(&format!("/en/station/{}", b.e.station_id(0)));
    let text = words(&station);
    assert!(text.contains("box annulled"), "{text}");
    assert!(text.contains("the seal was broken"), "{text}");
    assert!(!text.contains("No supervisor action"), "{text}");
    let approved = words(&b.page(&format!("/en/station/{}", b.e.station_id(1))));
    assert!(approved.contains("tally approved"), "{approved}");
    let untouched = words(&b.page(&format!("/en/station/{}", b.e.station_id(2))));
    assert!(untouched.contains("No supervisor action"), "{untouched}");

    // A lot drawn for the contest shows with its contest, whatever the
    // announcements.
    let pres = b.e.manifest().contest("president").unwrap();
    let (k1, k2) = (&pres.candidates[0], &pres.candidates[1]);
    assert!(k1.code < k2.code);
    let lot = b.append(&b.e.lot_entry(&[k1.code, k2.code], &[k2.code, k1.code]));
    let contest = words(&b.page("/en/contest/president"));
    assert!(
        contest.contains(&format!(
            "Lots drawn among {}, {} — order: {}, {} — Log index {lot}",
            k1.name_en, k2.name_en, k2.name_en, k1.name_en
        )),
        "{contest}"
    );

    let home = words(&b.page("/en/"));
    assert!(home.contains("Annulled boxes 1"), "{home}");
    assert!(!home.contains("announced by the authority"), "{home}");
    // The national page's supervision section: the annulled count agrees
    // with the API, the annulled box is named with its reason, the
    // approval is counted.
    let totals: serde_json::Value = serde_json::from_str(&b.page("/api/v1/totals")).unwrap();
    let api_annulled: u64 = totals["contests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["stations_annulled"].as_u64().unwrap())
        .sum();
    assert_eq!(api_annulled, 1);
    assert!(
        home.contains(&format!(
            "Annulled boxes: {api_annulled} ; Approved tallies: 1"
        )),
        "{home}"
    );
    assert!(home.contains("the seal was broken"), "{home}");
    let s0 = b.e.station_id(0).to_owned();
    let county = b.e.manifest().station(&s0).unwrap().county.clone();
    let province = b.e.manifest().province_of(&county).unwrap().to_owned();
    for region in [
        format!("/en/province/{province}"),
        format!("/en/county/{county}"),
    ] {
        let text = words(&b.page(&region));
        assert!(text.contains("Annulled boxes: 1"), "{region}: {text}");
        assert!(text.contains("the seal was broken"), "{region}: {text}");
    }
    // A province with neither the annulled nor the approved station says
    // none.
    let s1 = b.e.station_id(1).to_owned();
    let county1 = b.e.manifest().station(&s1).unwrap().county.clone();
    let province1 = b.e.manifest().province_of(&county1).unwrap().to_owned();
    let other =
        b.e.manifest()
            .manifest()
            .provinces
            .iter()
            .find(|p| p.id != province && p.id != province1)
            .unwrap();
    let text = words(&b.page(&format!("/en/province/{}", other.id)));
    assert!(
        text.contains("Annulled boxes: 0 ; Approved tallies: 0"),
        "{text}"
    );
    // The Persian pages write the same in Persian digits.
    let fa = b.get("/");
    assert_page_ok("/", &fa, true);
    assert!(words(&fa.body).contains(": ۱ ؛"), "{}", words(&fa.body));
    // No announcement yet: the list says so.
    assert!(words(&b.page("/en/announcements")).contains("No official announcement is logged yet."));

    let partial = b.statement("president");
    let at =
        b.append(&b.e.announcement_entry(&partial, AnnouncementStatus::Partial, &b.witnessed()));
    let contest = words(&b.page("/en/contest/president"));
    assert!(
        contest.contains(&format!(
            "Partial results announced by the authority — Log index {at}"
        )),
        "{contest}"
    );
    // The latest announcement on the contest page, with its size and what
    // it decided, linked to its own page.
    assert!(
        contest.contains(&format!(
            "Latest official announcement Partial results announced by the authority — resting on the checkpoint of size {} — Announcement {at}",
            partial.size
        )),
        "{contest}"
    );
    assert!(links(&b.page("/en/contest/president")).contains(&format!("/en/announcement/{at}")));
    // Its page: the signed figures, the outcome, the checkpoint and the
    // signed source, in both languages.
    let path = format!("/en/announcement/{at}");
    let r = b.get(&path);
    assert_page_ok(&path, &r, false);
    let text = words(&r.body);
    assert!(
        text.contains(&format!("Stations counted {}", partial.stations_counted)),
        "{text}"
    );
    assert!(
        text.contains(&format!("Annulled boxes {}", partial.stations_annulled)),
        "{text}"
    );
    assert!(
        text.contains(&format!("Valid votes {}", en_num(partial.figures.valid))),
        "{text}"
    );
    for &(code, n) in &partial.votes {
        assert!(
            text.contains(&format!("{code} ")) && text.contains(&en_num(n)),
            "{code}: {text}"
        );
    }
    assert!(
        r.body.contains("tallyboard/announcement/v1\n"),
        "the signed source"
    );
    assert!(links(&r.body).contains(&format!("/api/v1/entries/{at}")));
    assert!(links(&r.body).contains(&format!("/api/v1/checkpoints/{}", partial.size)));
    assert!(text.contains("cosigned at"), "{text}");
    let fa = format!("/announcement/{at}");
    assert_page_ok(&fa, &b.get(&fa), true);
    // The list names it; other indexes are no announcement.
    let list = b.page("/en/announcements");
    assert!(links(&list).contains(&format!("/en/announcement/{at}")));
    assert_page_ok("/announcements", &b.get("/announcements"), true);
    for bad in [
        "/en/announcement/0",
        "/en/announcement/x",
        "/en/announcement/18446744073709551616",
    ] {
        assert_eq!(b.get(bad).status, 404, "{bad}");
    }
    let last = b.statement("president");
    let seen = b.witnessed();
    b.append(&b.e.contest_approval_entry(&last));
    let fin =
        b.e.announcement_entry(&last, AnnouncementStatus::Final, &seen);
    let at = b.append(&fin);
    let contest = words(&b.page("/en/contest/president"));
    assert!(
        contest.contains(&format!(
            "Final results announced by the authority — Log index {at}"
        )),
        "{contest}"
    );
    assert!(!contest.contains("no official announcement"), "{contest}");
    let fin_at = at;
    let text = words(&b.page(&format!("/en/announcement/{fin_at}")));
    assert!(
        text.contains("Final results announced by the authority"),
        "{text}"
    );
    // The contest approval the final rests on is on the national page.
    let home = words(&b.page("/en/"));
    assert!(home.contains("Contest approvals"), "{home}");

    // Reopened by the supervisor, then corrected by the authority: the
    // status line follows (spec/announcements.md §6).
    let reopened = b.append(&b.e.reopening_entry(
        "president",
        tallyboard_core::hash::leaf_hash(&fin),
        "complaints about station 1",
    ));
    let contest = words(&b.page("/en/contest/president"));
    assert!(
        contest.contains(&format!(
            "Final results reopened by the supervisor; corrected results not yet announced — Log index {reopened}"
        )),
        "{contest}"
    );
    let text = words(&b.page(&format!("/en/announcement/{fin_at}")));
    assert!(
        text.contains(&format!("reopened; entry {reopened}")),
        "{text}"
    );
    let again = b.statement("president");
    let seen = b.witnessed();
    b.append(&b.e.contest_approval_entry(&again));
    let corrected = b.append(&b.e.corrected_final_entry(
        &again,
        &seen,
        tallyboard_core::hash::leaf_hash(&fin),
        "station 1 recounted",
    ));
    let contest = words(&b.page("/en/contest/president"));
    assert!(
        contest.contains(&format!(
            "Corrected final results announced by the authority — Log index {corrected}"
        )),
        "{contest}"
    );
    assert!(
        contest.contains("Reason for the correction: station 1 recounted"),
        "{contest}"
    );
    let text = words(&b.page(&format!("/en/announcement/{corrected}")));
    assert!(
        text.contains("Corrected final results announced by the authority"),
        "{text}"
    );
    assert!(text.contains("station 1 recounted"), "{text}");
    // Every announcement is listed, newest first.
    let list = links(&b.page("/en/announcements"));
    let listed: Vec<&String> = list
        .iter()
        .filter(|l| l.starts_with("/en/announcement/"))
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[0], &format!("/en/announcement/{corrected}"));
}

/// A Majlis contest with 3,500 candidates renders as a page of ordinary
/// size: the candidates with the most votes, sorted, marked elected or in
/// the runoff, and a link to every candidate in the JSON export.
#[test]
fn a_majlis_contest_with_thousands_of_candidates_is_paginated() {
    use tallyboard_synth::TEHRAN_CONTEST;
    let b = Board::start_generated(
        Config {
            seed: 1404,
            stations: 600,
            majlis: true,
        },
        |_| {},
        |_| Vec::new(),
    );
    let m = b.e.manifest();
    let tehran: Vec<usize> = (0..b.e.station_count())
        .filter(|&i| {
            m.manifest().stations[i]
                .contests
                .iter()
                .any(|c| c == TEHRAN_CONTEST)
        })
        .take(30)
        .collect();
    let mut agg = tallyboard_core::aggregate::Aggregator::new(m);
    for &i in &tehran {
        b.append(&b.e.registration_entry(i));
        for t in b.e.signed_tallies(i) {
            let index = b.append(&t);
            let Entry::Tally(t) = tallyboard_core::entry::SignedEntry::parse(&t)
                .unwrap()
                .entry
            else {
                panic!("a tally");
            };
            agg.apply(index, &t).unwrap();
        }
    }
    let contest = m.contest(TEHRAN_CONTEST).unwrap();
    assert_eq!(contest.candidates.len(), 3_500);
    let d = agg.decide(TEHRAN_CONTEST, &[]).unwrap();
    assert!(!d.elected.is_empty() && !d.runoff.is_empty(), "{d:?}");

    let path = format!("/en/contest/{TEHRAN_CONTEST}");
    let r = b.get(&path);
    assert_page_ok(&path, &r, false);
    let html = &r.body;
    let rows = html.matches("<tr").count();
    assert!(rows < 150, "{rows} table rows");
    assert_eq!(
        html.matches("<tr class=\"elected\"").count(),
        d.elected.len()
    );
    assert_eq!(html.matches("<tr class=\"runoff\"").count(), d.runoff.len());
    assert!(links(html).contains(&format!("/api/v1/results/{TEHRAN_CONTEST}")));
    // Sorted by votes: the first elected candidate heads the table.
    let first = contest
        .candidates
        .iter()
        .find(|k| k.code == d.elected[0])
        .unwrap();
    let table = &html[html.find("<tbody>").unwrap()..];
    let first_row = &table[..table.find("</tr>").unwrap()];
    assert!(first_row.contains(&first.name_en), "{first_row}");

    // The national page lists every contest; a Tehran station's page lists
    // the lines it signed, not 3,500 rows.
    let home = b.page("/en/");
    assert!(home.len() < LIMIT, "home: {} bytes", home.len());
    let majlis = m
        .manifest()
        .contests
        .iter()
        .filter(|c| c.kind == tallyboard_core::rules::ElectionKind::Majlis)
        .count();
    let listed = links(&home)
        .iter()
        .filter(|l| l.starts_with("/en/contest/majlis-"))
        .count();
    assert_eq!(listed, majlis);
    let station = format!("/en/station/{}", b.e.station_id(tehran[0]));
    let r = b.get(&station);
    assert_page_ok(&station, &r, false);

    // A candidate the contest page does not list has a page, the paged
    // list reaches them, and search links to that page.
    let listed: Vec<String> = links(html)
        .into_iter()
        .filter(|l| l.starts_with(&format!("/en/candidate/{TEHRAN_CONTEST}/")))
        .collect();
    assert_eq!(listed.len(), 90, "the contest page lists 3 × 30 seats");
    let hidden = contest
        .candidates
        .iter()
        .rev()
        .find(|k| !listed.contains(&format!("/en/candidate/{TEHRAN_CONTEST}/{}", k.code)))
        .unwrap();
    let path = format!("/en/candidate/{TEHRAN_CONTEST}/{}", hidden.code);
    let r = b.get(&path);
    assert_page_ok(&path, &r, false);
    assert!(r.body.contains(&hidden.name_en));
    let fa_path = format!("/candidate/{TEHRAN_CONTEST}/{}", hidden.code);
    assert_page_ok(&fa_path, &b.get(&fa_path), true);
    let found = b.page(&format!("/en/search?q={}", urlencode(&hidden.name_en)));
    assert!(
        links(&found).contains(&path),
        "search links to the candidate's page"
    );
    assert!(links(html).contains(&format!("/en/contest/{TEHRAN_CONTEST}/candidates")));
    let mut reached = false;
    for n in 1..=18 {
        let p = format!("/en/contest/{TEHRAN_CONTEST}/candidates?page={n}");
        let r = b.get(&p);
        assert_page_ok(&p, &r, false);
        reached |= links(&r.body).contains(&path);
    }
    assert!(reached, "the paged list reaches every candidate");

    // The constituency's station-level file holds its stations' boxes
    // (built in the background once asked for).
    let k = contest.constituency.clone().unwrap();
    assert!(links(&b.page(&format!("/en/constituency/{k}")))
        .contains(&format!("/api/v1/exports/stations/constituency/{k}.csv")));
    let path = format!("/api/v1/exports/stations/constituency/{k}.csv");
    let deadline = Instant::now() + Duration::from_secs(120);
    let r = loop {
        let r = b.get(&path);
        if r.status != 503 {
            break r;
        }
        assert!(Instant::now() < deadline, "{path} never built");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(r.status, 200, "{}", r.body);
    let inside = b.e.station_id(tehran[0]).to_owned();
    assert!(
        r.body.contains(&format!("\"station\",\"{inside}\"")),
        "a Tehran station"
    );
    let kcounties = &m
        .manifest()
        .constituencies
        .iter()
        .find(|x| x.id == k)
        .unwrap()
        .counties;
    let outside = m
        .manifest()
        .stations
        .iter()
        .find(|s| !kcounties.contains(&s.county))
        .unwrap()
        .id
        .clone();
    assert!(
        !r.body.contains(&format!("\"station\",\"{outside}\"")),
        "not {outside}"
    );
}
