//! The exports under `/api/v1/exports` (`spec/exports.md`), built off the
//! request path and served from memory (`spec/http-api.md` §1.4).
//!
//! Building the three files at national scale takes seconds and hundreds
//! of MiB; done on request threads, two clients asking in a loop froze
//! `/checkpoint` (issue 17). So one thread builds them, one build at a
//! time, each over one published snapshot, and a request only clones the
//! latest built bytes (a reference count, not a copy). The thread builds
//! at start, then again when the published checkpoint has moved past the
//! built one and a GET has seen the built files behind a checkpoint newer
//! than them: a burst of checkpoints collapses into one build at the
//! newest, and a board nobody downloads exports from does no export work. Every answer names the checkpoint it
//! is of, in its body (`spec/exports.md`) and in
//! `X-Tallyboard-Checkpoint-Size`, so a file one build behind is never
//! mistaken for the latest. Until the first build is done a request gets
//! `503 board.export-not-ready` with `Retry-After`. HEAD never asks for a
//! build.

use super::errors::ApiError;
use super::{AppState, Shared};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};
use tallyboard_core::aggregate::{CheckpointRef, ResultsDocument};
use tallyboard_core::error::ErrorCode;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::results_export::{
    self, ExportError, NistDetail, NistOptions, ReportStatus, Unit,
};
use tallyboard_core::Hash;

use super::compression::{Effort, Precompressed};

/// How often the builder looks for a new checkpoint and for demand.
const POLL: Duration = Duration::from_millis(100);
/// `Retry-After` of `board.export-not-ready`: the first build of a national
/// board takes a few seconds.
const NOT_READY_RETRY_SECS: u64 = 2;
/// The header naming the checkpoint size an export is of.
pub const CHECKPOINT_SIZE_HEADER: &str = "x-tallyboard-checkpoint-size";

/// The three exports, in the order of [`Built::files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `results.csv`.
    Csv = 0,
    /// `results.json`.
    Json = 1,
    /// `nist-err.json`.
    Nist = 2,
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Csv => "text/csv; charset=utf-8",
            Kind::Json | Kind::Nist => "application/json",
        }
    }
}

/// One built file: its bytes (and their gzip form, made by the builder so
/// that a request never compresses, `spec/http-api.md` §1.7) and their
/// strong ETag (RFC 9110 §8.8.3; the gzip form gets the same tag with
/// `-gzip`, as a different representation must).
#[derive(Clone)]
struct File {
    bytes: Precompressed,
    etag: HeaderValue,
    etag_gzip: HeaderValue,
}

/// The three files built over one snapshot.
struct Built {
    size: u64,
    files: [File; 3],
}

/// The latest built exports, and the newest checkpoint size a request has
/// seen them behind (monotone, like the log: a request that saw them
/// behind a checkpoint already built asks for nothing).
#[derive(Default)]
pub struct ExportCache {
    latest: RwLock<Option<Arc<Built>>>,
    wanted: AtomicU64,
    /// The station-level files of the counties and constituencies asked
    /// for (`spec/exports.md` §5).
    stations: Mutex<StationFiles>,
}

/// Most bytes the station-level files kept in memory may hold together;
/// beyond, the least recently asked for are let go (and built again when
/// next asked for). One unit larger than this is still kept, alone: the
/// Tehran constituency's files of the synthetic Majlis election are about
/// 620 MB together (`spec/exports.md` §5).
pub const STATION_FILES_MAX_BYTES: usize = 512 << 20;

/// One unit's station-level CSV and JSON over one snapshot.
struct UnitFiles {
    size: u64,
    csv: File,
    json: File,
    /// When a request last asked for them (a counter, for eviction).
    used: u64,
}

/// The station-level files built so far, by unit (`county/<id>`,
/// `constituency/<id>`), and the units a request asked for that are
/// missing or behind the published checkpoint.
#[derive(Default)]
struct StationFiles {
    units: HashMap<String, UnitFiles>,
    wanted: std::collections::BTreeSet<String>,
    clock: u64,
}

impl StationFiles {
    fn bytes(&self) -> usize {
        self.units
            .values()
            .map(|u| u.csv.bytes.held() + u.json.bytes.held())
            .sum()
    }

    /// Keeps `unit`, letting the least recently used others go while the
    /// total is above `max_bytes` ([`STATION_FILES_MAX_BYTES`]).
    fn insert(&mut self, unit: String, files: UnitFiles, max_bytes: usize) {
        self.units.insert(unit.clone(), files);
        while self.bytes() > max_bytes {
            let Some(old) = self
                .units
                .iter()
                .filter(|(k, _)| **k != unit)
                .min_by_key(|(_, u)| u.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.units.remove(&old);
        }
    }
}

impl ExportCache {
    fn get(&self) -> Option<Arc<Built>> {
        match self.latest.read() {
            Ok(b) => b.clone(),
            // Only whole values are ever stored: a poisoned lock is still usable.
            Err(p) => p.into_inner().clone(),
        }
    }

    fn stations(&self) -> std::sync::MutexGuard<'_, StationFiles> {
        match self.stations.lock() {
            Ok(g) => g,
            // Only whole values are ever stored: a poisoned lock is still usable.
            Err(p) => p.into_inner(),
        }
    }

    fn put(&self, built: Built) {
        let built = Some(Arc::new(built));
        match self.latest.write() {
            Ok(mut b) => *b = built,
            Err(p) => *p.into_inner() = built,
        }
    }
}

fn file(bytes: Vec<u8>, kind: Kind) -> File {
    let digest = Hash::sha256(&bytes).to_hex();
    // 128 bits of the SHA-256 are plenty to tell two versions apart.
    let tag = |suffix: &str| {
        HeaderValue::from_str(&format!("\"{}{suffix}\"", &digest[..32]))
            .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
    };
    File {
        bytes: Precompressed::new(Bytes::from(bytes), kind.content_type(), Effort::Fast),
        etag: tag(""),
        etag_gzip: tag("-gzip"),
    }
}

/// Builds the three exports over `v`, the latest published snapshot.
fn build(manifest: &ValidatedManifest, v: Arc<crate::log::Snapshot>) -> Result<Built, ExportError> {
    let size = v.size();
    let (doc, cp, status) = {
        let cp = &v.checkpoint.checkpoint;
        let doc = super::api::results_document(&v, false);
        let status = report_status(&v, &doc);
        (doc, CheckpointRef::new(cp.size, &cp.root), status)
    };
    // The snapshot is let go before the files are written out: while a
    // reader holds it, the writer's next swap must clone the log state
    // (`src/log/snapshot.rs`).
    drop(v);
    let csv = results_export::csv(manifest, &doc, &cp)?;
    let json = results_export::json(manifest, &doc, &cp)?;
    let opts = NistOptions::new(status, NistDetail::Counties, &utc_now());
    let nist = results_export::nist_report(manifest, &doc, &cp, &opts)?;
    Ok(Built {
        size,
        files: [
            file(csv, Kind::Csv),
            file(json, Kind::Json),
            file(nist, Kind::Nist),
        ],
    })
}

/// Builds one unit's station-level CSV and JSON over `v`: a results
/// document with only the unit's counties' boxes
/// (`Aggregator::document_for_counties`), cut to the unit
/// (`results_export::scoped`) and written as the ordinary CSV and JSON.
/// `None` for a unit the manifest does not have.
fn build_unit(
    manifest: &ValidatedManifest,
    v: Arc<crate::log::Snapshot>,
    unit: &str,
) -> Option<Result<UnitFiles, ExportError>> {
    let (level, id) = unit.split_once('/')?;
    let unit = match level {
        "county" => Unit::County(id),
        "constituency" => Unit::Constituency(id),
        _ => return None,
    };
    let counties = results_export::unit_counties(manifest, unit)?;
    let size = v.size();
    let doc = {
        let cp = &v.checkpoint.checkpoint;
        let mut lots = std::collections::BTreeMap::<String, Vec<_>>::new();
        for l in v.state.supervision().lots() {
            lots.entry(l.contest.clone())
                .or_default()
                .push(l.draw.clone());
        }
        v.state.aggregator().document_for_counties(
            &tallyboard_core::aggregate::DocumentOptions {
                stations: true,
                checkpoint: Some(CheckpointRef::new(cp.size, &cp.root)),
                decide: true,
                lots,
            },
            &counties,
        )
    };
    let cp = doc.checkpoint.clone()?;
    // As for the national files: the snapshot is let go before writing.
    drop(v);
    let doc = results_export::scoped(manifest, &doc, unit)?;
    let files = results_export::csv(manifest, &doc, &cp).and_then(|csv| {
        Ok(UnitFiles {
            size,
            csv: file(csv, Kind::Csv),
            json: file(results_export::json(manifest, &doc, &cp)?, Kind::Json),
            used: 0,
        })
    });
    Some(files)
}

/// Starts the builder thread. It holds the server's state only weakly, so
/// it ends within one poll once the server has stopped.
pub fn spawn(shared: Weak<Shared>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("tallyboard-exports".into())
        .spawn(move || run(shared))
        .map(|_| ())
}

fn run(shared: Weak<Shared>) {
    let mut built: Option<u64> = None;
    loop {
        let Some(st) = shared.upgrade() else { break };
        let snapshot = st.snapshot();
        let size = snapshot.size();
        let due = match built {
            None => true,
            Some(b) => b != size && st.exports.wanted.load(Ordering::Relaxed) > b,
        };
        if due {
            let started = Instant::now();
            match build(&st.manifest, snapshot) {
                Ok(b) => {
                    st.exports.put(b);
                    st.metrics.export_builds.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        size,
                        ms = started.elapsed().as_millis() as u64,
                        "exports built"
                    );
                }
                // Not retried at this size: the export is a pure function
                // of the snapshot, so it would fail again.
                Err(e) => tracing::error!(size, error = %e, "building the exports failed"),
            }
            built = Some(size);
        } else {
            // Not held while station-level files are built below.
            drop(snapshot);
        }
        // The station-level files asked for, one unit at a time.
        let next = st.exports.stations().wanted.pop_first();
        if let Some(unit) = next {
            let fresh = st
                .exports
                .stations()
                .units
                .get(&unit)
                .is_some_and(|u| u.size == size);
            if !fresh {
                let started = Instant::now();
                match build_unit(&st.manifest, st.snapshot(), &unit) {
                    Some(Ok(mut files)) => {
                        let mut f = st.exports.stations();
                        f.clock += 1;
                        files.used = f.clock;
                        let bytes = files.csv.bytes.held() + files.json.bytes.held();
                        f.insert(unit.clone(), files, STATION_FILES_MAX_BYTES);
                        tracing::info!(
                            size,
                            unit,
                            bytes,
                            ms = started.elapsed().as_millis() as u64,
                            "station-level export built"
                        );
                    }
                    Some(Err(e)) => {
                        tracing::error!(size, unit, error = %e, "building a station-level export failed")
                    }
                    None => {}
                }
            }
            // The next unit without waiting for the poll.
            drop(st);
            continue;
        }
        drop(st);
        std::thread::sleep(POLL);
    }
}

/// The answer to `GET`/`HEAD` of one export, from the cache; a GET that
/// finds the cache behind the published checkpoint asks for a build.
fn answer(
    st: &AppState,
    kind: Kind,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let built = st.exports.get();
    let size = st.latest().checkpoint.size;
    if built.as_ref().is_none_or(|b| b.size != size) && method != Method::HEAD {
        st.exports.wanted.fetch_max(size, Ordering::Relaxed);
    }
    respond(built.as_deref(), kind, headers)
}

/// The response for `kind` from `built` (none yet: 503) to a request with
/// `request`'s headers.
fn respond(built: Option<&Built>, kind: Kind, request: &HeaderMap) -> Result<Response, ApiError> {
    let Some(built) = built else {
        return Err(ApiError::retry_later(
            ErrorCode::ExportNotReady,
            format!("the exports are being built; retry in {NOT_READY_RETRY_SECS} s"),
            NOT_READY_RETRY_SECS,
        ));
    };
    respond_file(&built.files[kind as usize], kind, built.size, request)
}

/// One built file's response to a request with `request`'s headers: gzip
/// when accepted, a 304 when `If-None-Match` names the ETag of the form it
/// would get (RFC 9110 §13.1.2).
fn respond_file(
    f: &File,
    kind: Kind,
    size: u64,
    request: &HeaderMap,
) -> Result<Response, ApiError> {
    let (body, coding) = f.bytes.pick(request);
    let etag = if coding.is_some() {
        &f.etag_gzip
    } else {
        &f.etag
    };
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| {
            inm.split(',')
                .any(|t| t.trim() == "*" || t.trim().as_bytes() == etag.as_bytes())
        });
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    // A 304 has no body to be coded (RFC 9110 §15.4.5); it keeps the Vary.
    f.bytes.headers(if fresh { None } else { coding }, &mut r);
    let h = r.headers_mut();
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(kind.content_type()),
        );
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::ETAG, etag.clone());
    h.insert(CHECKPOINT_SIZE_HEADER, HeaderValue::from(size));
    Ok(r)
}

/// `GET /api/v1/exports/stations/{level}/{file}`.
#[utoipa::path(get, path = "/api/v1/exports/stations/{level}/{file}", tag = "results",
    params(
        ("level" = String, Path, description = "`county` or `constituency`"),
        ("file" = String, Path, description = "`<id>.csv` or `<id>.json`: the unit's id from the manifest"),
    ),
    responses(
        (status = 200, description = "Station-level results of one county or constituency (spec/exports.md §5): its own totals and every station's box, as CSV or JSON in the format of the national files, at the checkpoint named in X-Tallyboard-Checkpoint-Size", content_type = "text/csv", body = String),
        (status = 304, description = "If-None-Match names the current ETag"),
        (status = 404, description = "No such county or constituency, or not .csv or .json (not-found)", body = super::errors::ErrorBody),
        (status = 503, description = "board.export-not-ready: the station-level files are being built (they are built when first asked for); Retry-After", body = super::errors::ErrorBody),
    ))]
pub async fn export_stations(
    State(st): State<AppState>,
    Path((level, name)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found(format!("no station-level export {level}/{name}"));
    let (id, kind) = match (name.strip_suffix(".csv"), name.strip_suffix(".json")) {
        (Some(id), _) => (id, Kind::Csv),
        (_, Some(id)) => (id, Kind::Json),
        _ => return Err(unknown()),
    };
    let m = st.manifest.manifest();
    let known = match level.as_str() {
        "county" => m.counties.iter().any(|c| c.id == id),
        "constituency" => m.constituencies.iter().any(|k| k.id == id),
        _ => false,
    };
    if !known {
        return Err(unknown());
    }
    let unit = format!("{level}/{id}");
    let size = st.latest().checkpoint.size;
    let found = {
        let mut f = st.exports.stations();
        f.clock += 1;
        let clock = f.clock;
        let found = f.units.get_mut(&unit).map(|u| {
            u.used = clock;
            let file = match kind {
                Kind::Csv => &u.csv,
                _ => &u.json,
            };
            (u.size, file.clone())
        });
        if found.as_ref().is_none_or(|x| x.0 != size) && method != Method::HEAD {
            f.wanted.insert(unit.clone());
        }
        found
    };
    let Some((built, file)) = found else {
        return Err(ApiError::retry_later(
            ErrorCode::ExportNotReady,
            format!("the station-level export of {unit} is being built; retry in {NOT_READY_RETRY_SECS} s"),
            NOT_READY_RETRY_SECS,
        ));
    };
    respond_file(&file, kind, built, &headers)
}

/// `GET /api/v1/exports/results.csv`.
#[utoipa::path(get, path = "/api/v1/exports/results.csv", tag = "results",
    responses(
        (status = 200, description = "Results as CSV (spec/exports.md): nation, constituencies, provinces and counties, at the checkpoint named in X-Tallyboard-Checkpoint-Size (the latest the background build has finished)", content_type = "text/csv", body = String),
        (status = 304, description = "If-None-Match names the current ETag"),
        (status = 503, description = "board.export-not-ready: the first build is not done; Retry-After", body = super::errors::ErrorBody),
    ))]
pub async fn export_csv(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    answer(&st, Kind::Csv, &method, &headers)
}

/// `GET /api/v1/exports/results.json`.
#[utoipa::path(get, path = "/api/v1/exports/results.json", tag = "results",
    responses(
        (status = 200, description = "The results document (spec/exports.md), every contest with its decision, at the checkpoint it names (the latest the background build has finished)", content_type = "application/json", body = Object),
        (status = 304, description = "If-None-Match names the current ETag"),
        (status = 503, description = "board.export-not-ready: the first build is not done; Retry-After", body = super::errors::ErrorBody),
    ))]
pub async fn export_json(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    answer(&st, Kind::Json, &method, &headers)
}

/// `GET /api/v1/exports/nist-err.json`.
#[utoipa::path(get, path = "/api/v1/exports/nist-err.json", tag = "results",
    responses(
        (status = 200, description = "NIST SP 1500-100 v2 election results report (counties level) at the checkpoint its Notes name (the latest the background build has finished)", content_type = "application/json", body = Object),
        (status = 304, description = "If-None-Match names the current ETag"),
        (status = 503, description = "board.export-not-ready: the first build is not done; Retry-After", body = super::errors::ErrorBody),
    ))]
pub async fn export_nist(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    answer(&st, Kind::Nist, &method, &headers)
}

/// The NIST report's status at a snapshot (`spec/exports.md` §4.1):
/// `certified` when every contest with stations has a final announcement
/// in force (logged and not reopened: while it is, nothing that changes
/// the contest's figures is accepted, `spec/announcements.md` §6),
/// `unofficial-complete` when every expected
/// station has reported every contest, else `unofficial-partial`.
pub(crate) fn report_status(v: &crate::log::Snapshot, doc: &ResultsDocument) -> ReportStatus {
    let contests: Vec<_> = doc
        .contests
        .iter()
        .filter(|c| c.top().is_some_and(|t| t.stations_expected > 0))
        .collect();
    if !contests.is_empty()
        && contests
            .iter()
            .all(|c| v.state.supervision().final_in_force(&c.id).is_some())
    {
        return ReportStatus::Certified;
    }
    let complete = contests.iter().all(|c| {
        c.top()
            .is_some_and(|t| t.stations_reported == t.stations_expected)
    });
    if complete {
        ReportStatus::UnofficialComplete
    } else {
        ReportStatus::UnofficialPartial
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    tallyboard_core::calendar::utc_from_posix(secs).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The station-level files kept stay under the cap, letting the least
    /// recently asked for go first, and never the one just built.
    #[test]
    fn station_files_keep_under_the_cap_least_recently_used_first() {
        let unit = |n: usize, used: u64| UnitFiles {
            size: 1,
            csv: file(vec![b'x'; n], Kind::Csv),
            json: file(vec![b'y'; n], Kind::Json),
            used,
        };
        let mut f = StationFiles::default();
        f.insert("county/a".into(), unit(10, 1), 50);
        f.insert("county/b".into(), unit(10, 3), 50);
        f.insert("county/c".into(), unit(10, 2), 50);
        assert_eq!(f.bytes(), 60 - 20, "a, the least recently used, went");
        assert!(!f.units.contains_key("county/a"));
        // One larger than the cap is kept, alone.
        f.insert("constituency/k".into(), unit(40, 4), 50);
        assert_eq!(f.units.len(), 1);
        assert!(f.units.contains_key("constituency/k"));
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn built() -> Built {
        Built {
            size: 7,
            files: [
                file(b"a,b\r\n".repeat(1000), Kind::Csv),
                file(b"{}".to_vec(), Kind::Json),
                file(b"{\"x\":1}".to_vec(), Kind::Nist),
            ],
        }
    }

    #[test]
    fn before_the_first_build_the_answer_is_503_with_retry_after() {
        let r = respond(None, Kind::Nist, &HeaderMap::new())
            .err()
            .unwrap()
            .into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert!(r
            .extensions()
            .get::<super::super::errors::RejectedWith>()
            .is_some());
    }

    #[test]
    fn a_built_export_names_its_checkpoint_and_revalidates() {
        let b = built();
        let r = respond(Some(&b), Kind::Csv, &HeaderMap::new()).unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CHECKPOINT_SIZE_HEADER], "7");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(etag.len(), 34);
        let inm = format!("\"x\", {etag}");
        let again = respond(
            Some(&b),
            Kind::Csv,
            &headers(&[(header::IF_NONE_MATCH, &inm)]),
        )
        .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[CHECKPOINT_SIZE_HEADER], "7");
        // Another file's ETag does not match.
        let other = respond(
            Some(&b),
            Kind::Json,
            &headers(&[(header::IF_NONE_MATCH, &etag)]),
        )
        .unwrap();
        assert_eq!(other.status(), StatusCode::OK);
    }

    #[test]
    fn an_export_goes_out_gzipped_when_accepted_under_its_own_etag() {
        let b = built();
        let gz = respond(
            Some(&b),
            Kind::Csv,
            &headers(&[(header::ACCEPT_ENCODING, "gzip, br")]),
        )
        .unwrap();
        assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(gz.headers()[header::VARY], "accept-encoding");
        assert!(gz
            .extensions()
            .get::<super::super::compression::NoCompression>()
            .is_some());
        let tag = gz.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(tag.ends_with("-gzip\""), "{tag}");
        let plain = respond(Some(&b), Kind::Csv, &HeaderMap::new()).unwrap();
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_ne!(plain.headers()[header::ETAG], tag.as_str());
        // The gzip form's tag revalidates the gzip form only.
        let h = headers(&[
            (header::ACCEPT_ENCODING, "gzip"),
            (header::IF_NONE_MATCH, &tag),
        ]);
        assert_eq!(
            respond(Some(&b), Kind::Csv, &h).unwrap().status(),
            StatusCode::NOT_MODIFIED
        );
        let h = headers(&[(header::IF_NONE_MATCH, &tag)]);
        assert_eq!(
            respond(Some(&b), Kind::Csv, &h).unwrap().status(),
            StatusCode::OK
        );
    }
}
