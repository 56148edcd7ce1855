//! The JSON API under `/api/v1`: proofs, earlier checkpoints, entries,
//! stations, totals, announcements and results (the exports are in
//! `exports.rs`), the log's
//! identity and the manifest. Hashes are
//! lowercase hex. Every answer is computed at one checkpoint size, which it
//! names, so a client can check it against that signed checkpoint.

use super::errors::ApiError;
use super::{blocking, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use tallyboard_core::aggregate::{CheckpointRef, DocumentOptions, Figures, ResultsDocument};
use tallyboard_core::entry::{self, AnnouncementStatus, Entry, SignedEntry};
use tallyboard_core::error::ErrorCode;
use tallyboard_core::merkle::{self, MerkleError};
use tallyboard_core::Hash;
use utoipa::{IntoParams, ToSchema};

type PathResult<T> = Result<Path<T>, axum::extract::rejection::PathRejection>;
type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// Parses a canonical decimal `u64` (no sign, no leading zeros).
pub(crate) fn parse_u64(name: &str, s: &str) -> Result<u64, ApiError> {
    tallyboard_core::checkpoint::parse_decimal_u64(s).ok_or_else(|| {
        ApiError::bad_param(format!(
            "{name} must be a decimal number without sign or leading zeros, below 2^64"
        ))
    })
}

fn path_value(p: PathResult<String>) -> Result<String, ApiError> {
    p.map(|Path(v)| v)
        .map_err(|e| ApiError::bad_param(e.body_text()))
}

fn query_value<T>(q: QueryResult<T>) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|e| ApiError::bad_param(e.body_text()))
}

fn out_of_range(message: String) -> ApiError {
    ApiError::new(ErrorCode::ProofOutOfRange, message)
}

fn merkle_err(e: MerkleError<crate::store::StoreError>) -> ApiError {
    match e {
        MerkleError::OutOfRange { .. } => out_of_range(e.to_string()),
        MerkleError::Read(e) => ApiError::storage(e),
    }
}

fn hexes(hs: &[Hash]) -> Vec<String> {
    hs.iter().map(Hash::to_hex).collect()
}

fn text_response(body: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

// ---------------------------------------------------------------- proofs

/// Query of an inclusion proof: exactly one of `index` and `leaf`.
/// OpenAPI cannot make one of two query parameters required, so each
/// description says it (`spec/http-api.md` §1.4); the patterns are the
/// spellings of `spec/http-api.md`'s conventions.
#[derive(Debug, Deserialize, IntoParams)]
// Query parameters, optional unless marked (utoipa's default is a
// required path parameter, which the spec's defaults contradict).
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// Entry index, canonical decimal. Exactly one of `index` and `leaf` (else 400 request.bad-parameter).
    #[param(pattern = "^(0|[1-9][0-9]{0,19})$")]
    pub index: Option<String>,
    /// Leaf hash of the entry, 64 lowercase hex digits. Exactly one of `index` and `leaf` (else 400 request.bad-parameter).
    #[param(pattern = "^[0-9a-f]{64}$")]
    pub leaf: Option<String>,
    /// Tree size, canonical decimal (default: the latest signed checkpoint's).
    #[param(pattern = "^(0|[1-9][0-9]{0,19})$")]
    pub size: Option<String>,
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InclusionProof {
    /// Entry index.
    pub index: u64,
    /// The entry's leaf hash.
    pub leaf_hash: String,
    /// Tree size the proof is for.
    pub tree_size: u64,
    /// Root hash of the tree of that size.
    pub root: String,
    /// Proof hashes, the leaf's sibling first.
    pub proof: Vec<String>,
    /// The signed checkpoint of that size, if one was issued (text of the note).
    pub checkpoint: Option<String>,
}

/// `GET /api/v1/proof/inclusion`.
#[utoipa::path(get, path = "/api/v1/proof/inclusion", tag = "proofs", params(InclusionQuery),
    responses(
        (status = 200, body = InclusionProof),
        (status = 400, description = "Bad parameters, or size beyond the latest checkpoint (proof.out-of-range)", body = super::errors::ErrorBody),
        (status = 404, description = "No such leaf, or index not below size", body = super::errors::ErrorBody),
    ))]
pub async fn inclusion(
    State(st): State<AppState>,
    q: QueryResult<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let q = query_value(q)?;
    let latest = st.latest().checkpoint.size;
    let size = match &q.size {
        Some(s) => parse_u64("size", s)?,
        None => latest,
    };
    if size > latest {
        return Err(out_of_range(format!(
            "size {size} is beyond the latest checkpoint ({latest})"
        )));
    }
    enum Which {
        Index(u64),
        Leaf(Hash),
    }
    let which = match (&q.index, &q.leaf) {
        (Some(i), None) => Which::Index(parse_u64("index", i)?),
        (None, Some(l)) => Which::Leaf(super::write::digest_param(l)?),
        _ => return Err(ApiError::bad_param("give exactly one of index and leaf")),
    };
    let store = st.store.handle();
    blocking(move || -> Result<InclusionProof, ApiError> {
        let (index, leaf) = match which {
            Which::Index(i) => {
                if i >= size {
                    return Err(ApiError::not_found(format!(
                        "index {i} is not in the tree of size {size}"
                    )));
                }
                let leaf = store
                    .stored_hash(merkle::stored_hash_index(0, i))
                    .map_err(ApiError::storage)?;
                (i, leaf)
            }
            Which::Leaf(l) => match store.index_of_leaf(&l).map_err(ApiError::storage)? {
                Some(i) if i < size => (i, l),
                _ => {
                    return Err(ApiError::not_found(format!(
                        "no entry with leaf hash {} in the tree of size {size}",
                        l.to_hex()
                    )))
                }
            },
        };
        let cache = crate::store::cache::TreeCache::new(&store, size);
        let proof = merkle::prove_inclusion(index, size, &cache).map_err(merkle_err)?;
        let root = merkle::tree_hash(size, &cache).map_err(merkle_err)?;
        let checkpoint = store
            .checkpoint(size)
            .map_err(ApiError::storage)?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        Ok(InclusionProof {
            index,
            leaf_hash: leaf.to_hex(),
            tree_size: size,
            root: root.to_hex(),
            proof: hexes(&proof),
            checkpoint,
        })
    })
    .await?
    .map(Json)
}

/// Query of a consistency proof.
#[derive(Debug, Deserialize, IntoParams)]
// Query parameters, optional unless marked (utoipa's default is a
// required path parameter, which the spec's defaults contradict).
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older size, canonical decimal.
    // Required, but an `Option` so that its absence is answered with
    // request.bad-parameter, not axum's own text.
    #[param(required = true, pattern = "^(0|[1-9][0-9]{0,19})$")]
    pub old: Option<String>,
    /// The newer size, canonical decimal (default: the latest signed checkpoint's).
    #[param(pattern = "^(0|[1-9][0-9]{0,19})$")]
    pub new: Option<String>,
}

/// An RFC 9162 consistency proof.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProof {
    /// Older size.
    pub old_size: u64,
    /// Newer size.
    pub new_size: u64,
    /// Root of the older tree.
    pub old_root: String,
    /// Root of the newer tree.
    pub new_root: String,
    /// Proof hashes.
    pub proof: Vec<String>,
}

/// `GET /api/v1/proof/consistency`.
#[utoipa::path(get, path = "/api/v1/proof/consistency", tag = "proofs", params(ConsistencyQuery),
    responses(
        (status = 200, body = ConsistencyProof),
        (status = 400, description = "Bad parameters, old > new or new beyond the latest checkpoint (proof.out-of-range)", body = super::errors::ErrorBody),
    ))]
pub async fn consistency(
    State(st): State<AppState>,
    q: QueryResult<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let q = query_value(q)?;
    let latest = st.latest().checkpoint.size;
    let old = match &q.old {
        Some(s) => parse_u64("old", s)?,
        None => return Err(ApiError::bad_param("old is required")),
    };
    let new = match &q.new {
        Some(s) => parse_u64("new", s)?,
        None => latest,
    };
    if new > latest || old > new {
        return Err(out_of_range(format!(
            "need old ≤ new ≤ {latest} (the latest checkpoint), got old {old} new {new}"
        )));
    }
    let store = st.store.handle();
    blocking(move || -> Result<ConsistencyProof, ApiError> {
        let cache = crate::store::cache::TreeCache::new(&store, new);
        let proof = merkle::prove_consistency(old, new, &cache).map_err(merkle_err)?;
        let old_root = merkle::tree_hash(old, &cache).map_err(merkle_err)?;
        let new_root = merkle::tree_hash(new, &cache).map_err(merkle_err)?;
        Ok(ConsistencyProof {
            old_size: old,
            new_size: new,
            old_root: old_root.to_hex(),
            new_root: new_root.to_hex(),
            proof: hexes(&proof),
        })
    })
    .await?
    .map(Json)
}

/// `GET /api/v1/checkpoints/{size}`.
#[utoipa::path(get, path = "/api/v1/checkpoints/{size}", tag = "proofs",
    params(("size" = u64, Path, description = "A tree size for which the board signed a checkpoint")),
    responses(
        (status = 200, description = "That signed checkpoint", content_type = "text/plain; charset=utf-8", body = String),
        (status = 400, description = "Size is not a canonical decimal u64 (request.bad-parameter)", body = super::errors::ErrorBody),
        (status = 404, description = "No checkpoint was issued at that size", body = super::errors::ErrorBody),
    ))]
pub async fn checkpoint_at(
    State(st): State<AppState>,
    size: PathResult<String>,
) -> Result<Response, ApiError> {
    let size = parse_u64("size", &path_value(size)?)?;
    let latest = st.latest().checkpoint.size;
    let store = st.store.handle();
    let bytes = blocking(move || store.checkpoint(size))
        .await?
        .map_err(ApiError::storage)?;
    match bytes {
        Some(b) if size <= latest => Ok(text_response(
            b,
            "text/plain; charset=utf-8",
            "public, max-age=31536000, immutable",
        )),
        _ => Err(ApiError::not_found(format!(
            "no checkpoint was issued at size {size}"
        ))),
    }
}

// ---------------------------------------------------------------- entries

/// One logged entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryJson {
    /// Its index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: String,
    /// The entry's type line, e.g. `tallyboard/tally/v1`.
    #[serde(rename = "type")]
    pub entry_type: String,
    /// The signed note exactly as logged.
    pub note: String,
    /// Names of the keys whose signature lines the note carries.
    pub signers: Vec<String>,
    /// The parsed fields (names as in the entry grammar, `-` replaced by `_`).
    #[schema(value_type = Object)]
    pub fields: Value,
}

fn entry_json(index: u64, bytes: Vec<u8>) -> Result<EntryJson, ApiError> {
    let leaf = tallyboard_core::hash::leaf_hash(&bytes);
    let signed = SignedEntry::parse(&bytes)
        .map_err(|e| ApiError::storage(format!("stored entry {index} does not parse: {e}")))?;
    Ok(EntryJson {
        index,
        leaf_hash: leaf.to_hex(),
        entry_type: signed.entry.kind().type_line().to_owned(),
        signers: signed
            .note
            .signatures
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        fields: entry::json::fields(&signed.entry),
        note: String::from_utf8(bytes).map_err(ApiError::storage)?,
    })
}

/// `GET /api/v1/entries/{index}`.
#[utoipa::path(get, path = "/api/v1/entries/{index}", tag = "log",
    params(("index" = u64, Path, description = "Entry index")),
    responses(
        (status = 200, body = EntryJson),
        (status = 400, description = "Index is not a canonical decimal u64 (request.bad-parameter)", body = super::errors::ErrorBody),
        (status = 404, description = "Index not below the latest checkpoint's size", body = super::errors::ErrorBody),
    ))]
pub async fn entry(
    State(st): State<AppState>,
    index: PathResult<String>,
) -> Result<Json<EntryJson>, ApiError> {
    let index = parse_u64("index", &path_value(index)?)?;
    let size = st.latest().checkpoint.size;
    if index >= size {
        return Err(ApiError::not_found(format!(
            "index {index} is not below the tree size {size}"
        )));
    }
    let store = st.store.handle();
    let bytes = blocking(move || store.entry(index))
        .await?
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::storage(format!("entry {index} is missing")))?;
    entry_json(index, bytes).map(Json)
}

// ---------------------------------------------------------------- stations

/// A logged entry, by position.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryRef {
    /// Its index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: String,
    /// Its type line.
    #[serde(rename = "type")]
    pub entry_type: String,
    /// The parsed fields.
    #[schema(value_type = Object)]
    pub fields: Value,
}

/// A station's registered key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyJson {
    /// The verifier key string.
    pub key: String,
    /// Whether a revocation is logged.
    pub revoked: bool,
}

/// A station's tallies for one contest.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContestTallies {
    /// Contest id.
    pub contest: String,
    /// Every revision, in order (revision 1 first).
    pub revisions: Vec<EntryRef>,
}

/// Everything logged for a station.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StationJson {
    /// Station id.
    pub station: String,
    /// County id.
    pub county: String,
    /// Province id.
    pub province: Option<String>,
    /// `fixed` or `mobile`.
    pub kind: String,
    /// The contests the station reports, per the manifest.
    pub contests: Vec<String>,
    /// The checkpoint size this answer reflects.
    pub checkpoint_size: u64,
    /// The station's current key, if one was registered.
    pub key: Option<KeyJson>,
    /// Key registrations and revocations, in log order.
    pub key_entries: Vec<EntryRef>,
    /// Tallies per contest (contests with none are omitted).
    pub tallies: Vec<ContestTallies>,
}

fn entry_ref(store: &crate::store::Store, index: u64) -> Result<EntryRef, ApiError> {
    let bytes = store
        .entry(index)
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::storage(format!("entry {index} is missing")))?;
    let e = entry_json(index, bytes)?;
    Ok(EntryRef {
        index,
        leaf_hash: e.leaf_hash,
        entry_type: e.entry_type,
        fields: e.fields,
    })
}

/// `GET /api/v1/stations/{station}`.
#[utoipa::path(get, path = "/api/v1/stations/{station}", tag = "results",
    params(("station" = String, Path, description = "Station id from the manifest")),
    responses(
        (status = 200, body = StationJson),
        (status = 400, description = "The path segment is not valid percent-encoded UTF-8 (request.bad-parameter)", body = super::errors::ErrorBody),
        (status = 404, description = "Not a station of the manifest", body = super::errors::ErrorBody),
    ))]
pub async fn station(
    State(st): State<AppState>,
    id: PathResult<String>,
) -> Result<Json<StationJson>, ApiError> {
    let id = path_value(id)?;
    let Some(info) = st.manifest.station(&id).cloned() else {
        return Err(ApiError::not_found(format!(
            "station {id} is not in the manifest"
        )));
    };
    let snapshot = st.snapshot();
    let size = snapshot.size();
    let record = snapshot.state.station(&id).cloned().unwrap_or_default();
    drop(snapshot);
    let province = st.manifest.province_of(&info.county).map(str::to_owned);
    let store = st.store.handle();
    blocking(move || -> Result<StationJson, ApiError> {
        let key_entries = record
            .key_entries()
            .iter()
            .map(|&i| entry_ref(&store, i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut contests: Vec<_> = record.contests().iter().collect();
        contests.sort_by(|a, b| a.contest.cmp(&b.contest));
        let mut tallies = Vec::new();
        for c in contests {
            let revisions = crate::log::box_revisions(&store, c)
                .map_err(ApiError::storage)?
                .iter()
                .map(|t| entry_ref(&store, t.index))
                .collect::<Result<Vec<_>, _>>()?;
            tallies.push(ContestTallies {
                contest: c.contest.clone(),
                revisions,
            });
        }
        Ok(StationJson {
            station: info.id.clone(),
            county: info.county.clone(),
            province,
            kind: info.kind.clone(),
            contests: info.contests.clone(),
            checkpoint_size: size,
            key: record.last_key().map(|k| KeyJson {
                key: k.key.clone(),
                revoked: k.revoked_at.is_some(),
            }),
            key_entries,
            tallies,
        })
    })
    .await?
    .map(Json)
}

// ---------------------------------------------------------------- totals

/// Totals of one contest.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContestTotalsJson {
    /// Contest id.
    pub contest: String,
    /// Stations the manifest assigns to this contest.
    pub stations_expected: u64,
    /// Stations with at least one tally.
    pub stations_reported: u64,
    /// Stations whose latest tally is a revision.
    pub stations_revised: u64,
    /// Stations whose box a supervisor annulled (reported or not); they
    /// count zero in `standing`.
    pub stations_annulled: u64,
    /// Stations `standing` counts: reported and not annulled.
    pub stations_counted: u64,
    /// What `share_bp` is a fraction of: `votes-taken` (presidential) or
    /// `valid` (every other contest) (`spec/aggregation.md` §4).
    pub share_base: String,
    /// Sum of each station's first tally (revision 1), as in the results
    /// document (`spec/aggregation.md` §5).
    #[schema(value_type = Object)]
    pub counted: Figures,
    /// Sum of each station's latest revision, annulled boxes excluded: the
    /// standing result.
    #[schema(value_type = Object)]
    pub standing: Figures,
}

/// Totals of every contest at one checkpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsJson {
    /// The checkpoint size the totals were computed at.
    pub checkpoint_size: u64,
    /// That signed checkpoint (note text).
    pub checkpoint: String,
    /// Per contest, in manifest order.
    pub contests: Vec<ContestTotalsJson>,
}

/// `GET /api/v1/totals`.
#[utoipa::path(get, path = "/api/v1/totals", tag = "results",
    responses((status = 200, body = TotalsJson)))]
pub async fn totals(State(st): State<AppState>) -> Json<TotalsJson> {
    let snapshot = st.snapshot();
    // The figures of the region that decides each contest, from the same
    // results document the exports and the site use.
    let doc = snapshot
        .state
        .aggregator()
        .document(&DocumentOptions::default());
    let contests = doc
        .contests
        .into_iter()
        .filter_map(|c| {
            let share_base = serde_json::to_value(c.share_base)
                .ok()?
                .as_str()?
                .to_owned();
            let t = c.top()?.clone();
            Some(ContestTotalsJson {
                contest: c.id,
                stations_expected: t.stations_expected,
                stations_reported: t.stations_reported,
                stations_revised: t.stations_revised,
                stations_annulled: t.stations_annulled,
                stations_counted: t.stations_counted,
                share_base,
                counted: t.counted,
                standing: t.standing,
            })
        })
        .collect();
    Json(TotalsJson {
        checkpoint_size: snapshot.size(),
        checkpoint: String::from_utf8_lossy(&snapshot.checkpoint.bytes).into_owned(),
        contests,
    })
}

// ---------------------------------------------------------------- announcements

/// A logged announcement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementJson {
    /// Its log index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: String,
    /// Contest id.
    pub contest: String,
    /// The log size the results are bound to.
    pub size: u64,
    /// `partial` or `final`.
    pub status: String,
    /// SHA-256 of its results statement (what a contest approval names).
    pub results_sha256: String,
    /// True for the contest's final announcement in force: the latest
    /// final, not reopened (`spec/announcements.md` §6).
    pub final_in_force: bool,
    /// Every field of the entry (see `spec/announcements.md`).
    #[schema(value_type = Object)]
    pub fields: Value,
}

/// Every logged announcement, and the latest per contest.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementsJson {
    /// The checkpoint size this answer reflects.
    pub checkpoint_size: u64,
    /// Every announcement, in log order.
    pub announcements: Vec<AnnouncementJson>,
    /// Per contest id: its latest announcement (partial or final).
    pub latest: BTreeMap<String, AnnouncementJson>,
    /// Per contest id: its latest final announcement.
    pub latest_final: BTreeMap<String, AnnouncementJson>,
}

fn announcement_json(
    r: &tallyboard_core::state::AnnouncementRecord,
    supervision: &tallyboard_core::state::Supervision,
) -> AnnouncementJson {
    let a = &r.announcement;
    let final_in_force = supervision
        .final_in_force(&a.statement.contest)
        .is_some_and(|f| f.index == r.index);
    AnnouncementJson {
        index: r.index,
        leaf_hash: r.leaf.to_hex(),
        contest: a.statement.contest.clone(),
        size: a.statement.size,
        status: a.status.as_str().to_owned(),
        results_sha256: a.statement.sha256().to_hex(),
        final_in_force,
        fields: entry::json::fields(&Entry::Announcement((**a).clone())),
    }
}

/// `GET /api/v1/announcements`.
#[utoipa::path(get, path = "/api/v1/announcements", tag = "results",
    responses((status = 200, body = AnnouncementsJson)))]
pub async fn announcements(State(st): State<AppState>) -> Json<AnnouncementsJson> {
    let snapshot = st.snapshot();
    let supervision = snapshot.state.supervision();
    let all = supervision.announcements();
    let mut latest = BTreeMap::new();
    let mut latest_final = BTreeMap::new();
    for r in all {
        let c = r.announcement.statement.contest.clone();
        if r.announcement.status == AnnouncementStatus::Final {
            latest_final.insert(c.clone(), announcement_json(r, supervision));
        }
        latest.insert(c, announcement_json(r, supervision));
    }
    Json(AnnouncementsJson {
        checkpoint_size: snapshot.size(),
        announcements: all
            .iter()
            .map(|r| announcement_json(r, supervision))
            .collect(),
        latest,
        latest_final,
    })
}

// ---------------------------------------------------------------- results and exports

/// Query of `GET /api/v1/results/{contest}`.
#[derive(Debug, Deserialize, IntoParams)]
// Query parameters, optional unless marked (utoipa's default is a
// required path parameter, which the spec's defaults contradict).
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// `true` to include every station's box (about 59,000 per national contest), `false` (the default) not to.
    #[param(pattern = "^(true|false)$")]
    pub stations: Option<String>,
}

fn flag(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(x) => Err(ApiError::bad_param(format!(
            "{name} must be true or false, not {x:?}"
        ))),
    }
}

/// The results document of a snapshot, with each contest's decision under
/// the lots logged so far.
pub(crate) fn results_document(v: &crate::log::Snapshot, stations: bool) -> ResultsDocument {
    let cp = &v.checkpoint.checkpoint;
    let mut lots = BTreeMap::<String, Vec<_>>::new();
    for l in v.state.supervision().lots() {
        lots.entry(l.contest.clone())
            .or_default()
            .push(l.draw.clone());
    }
    v.state.aggregator().document(&DocumentOptions {
        stations,
        checkpoint: Some(CheckpointRef::new(cp.size, &cp.root)),
        decide: true,
        lots,
    })
}

fn json_bytes(body: Vec<u8>) -> Response {
    text_response(body, "application/json", "no-cache")
}

/// `GET /api/v1/results/{contest}`.
#[utoipa::path(get, path = "/api/v1/results/{contest}", tag = "results",
    params(("contest" = String, Path, description = "Contest id from the manifest"), ResultsQuery),
    responses(
        (status = 200, description = "The results document (spec/aggregation.md §5) of this contest at the latest checkpoint, with the rules' decision", content_type = "application/json", body = Object),
        (status = 400, description = "`stations` is neither `true` nor `false` (request.bad-parameter)", body = super::errors::ErrorBody),
        (status = 404, description = "Not a contest of the manifest", body = super::errors::ErrorBody),
    ))]
pub async fn results(
    State(st): State<AppState>,
    id: PathResult<String>,
    q: QueryResult<ResultsQuery>,
) -> Result<Response, ApiError> {
    let id = path_value(id)?;
    let q = query_value(q)?;
    let stations = flag("stations", q.stations.as_deref())?;
    if st.manifest.contest(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "contest {id} is not in the manifest"
        )));
    }
    let mut doc = results_document(&st.snapshot(), stations);
    doc.contests.retain(|c| c.id == id);
    Ok(json_bytes(doc.to_bytes()))
}

// ---------------------------------------------------------------- identity

/// The log's identity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogInfo {
    /// The checkpoint origin line.
    pub origin: String,
    /// The log's verifier key (signed-note vkey).
    pub log_vkey: String,
    /// The election id.
    pub election: String,
    /// SHA-256 of the manifest blob (`GET /api/v1/manifest`).
    pub manifest_sha256: String,
    /// The latest checkpoint's size.
    pub tree_size: u64,
}

/// `GET /api/v1/log`.
#[utoipa::path(get, path = "/api/v1/log", tag = "log",
    responses((status = 200, body = LogInfo)))]
pub async fn log_info(State(st): State<AppState>) -> Json<LogInfo> {
    Json(LogInfo {
        origin: st.origin().to_owned(),
        log_vkey: st.log_vkey.to_vkey_string(),
        election: st.manifest.election_id().to_owned(),
        manifest_sha256: st.manifest.digest().to_hex(),
        tree_size: st.latest().checkpoint.size,
    })
}

/// `GET /api/v1/manifest`.
#[utoipa::path(get, path = "/api/v1/manifest", tag = "log",
    responses((status = 200, description = "The manifest blob (canonical JSON) the board validates against", content_type = "application/json", body = Object)))]
pub async fn manifest(State(st): State<AppState>) -> Result<Response, ApiError> {
    manifest_blob(&st).await
}

/// `GET /api/v1/manifest.json`: the same blob at the path of a static
/// export, which `tallyboard-verify` reads (`spec/verification.md` §1).
#[utoipa::path(get, path = "/api/v1/manifest.json", tag = "log",
    responses((status = 200, description = "The manifest blob, as at /api/v1/manifest: the path a static export and tallyboard-verify use", content_type = "application/json", body = Object)))]
pub async fn manifest_json(State(st): State<AppState>) -> Result<Response, ApiError> {
    manifest_blob(&st).await
}

async fn manifest_blob(st: &AppState) -> Result<Response, ApiError> {
    let digest = st.manifest.digest();
    let store = st.store.handle();
    let bytes = blocking(move || store.blob(&digest))
        .await?
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::storage("the manifest blob is missing"))?;
    Ok(text_response(
        bytes,
        "application/json",
        "public, max-age=31536000, immutable",
    ))
}

/// The tree of the manifest's parts (spec/manifest.md §5), built once per
/// manifest and kept for the slices.
fn manifest_tree(
    m: &tallyboard_core::manifest::ValidatedManifest,
) -> std::sync::Arc<tallyboard_core::manifest::slice::ManifestTree> {
    use std::sync::{Arc, Mutex};
    type Cached = Option<(Hash, Arc<tallyboard_core::manifest::slice::ManifestTree>)>;
    static TREE: Mutex<Cached> = Mutex::new(None);
    let mut cached = TREE.lock().unwrap_or_else(|p| p.into_inner());
    match &*cached {
        Some((digest, tree)) if *digest == m.digest() => tree.clone(),
        _ => {
            let tree = Arc::new(tallyboard_core::manifest::slice::ManifestTree::new(
                m.manifest(),
            ));
            *cached = Some((m.digest(), tree.clone()));
            tree
        }
    }
}

/// `GET /api/v1/manifest/slices/{station}`: the part of the manifest one
/// station's verification needs, each part with its inclusion proof under
/// the manifest root that entry 0 names (spec/manifest.md §5).
#[utoipa::path(get, path = "/api/v1/manifest/slices/{station}", tag = "log",
    params(("station" = String, Path, description = "Station id from the manifest")),
    responses(
        (status = 200, description = "The station's manifest slice (tallyboard/manifest-slice/v1)", content_type = "application/json", body = Object),
        (status = 404, description = "Not a station of the manifest, or entry 0 names no manifest root (fetch /api/v1/manifest)", body = super::errors::ErrorBody),
    ))]
pub async fn manifest_slice(
    State(st): State<AppState>,
    id: PathResult<String>,
) -> Result<Response, ApiError> {
    let id = path_value(id)?;
    let store = st.store.handle();
    let entry0 = blocking(move || store.entry(0))
        .await?
        .map_err(ApiError::storage)?;
    let root = entry0
        .and_then(|b| tallyboard_core::entry::SignedEntry::parse(&b).ok())
        .and_then(|s| match s.entry {
            tallyboard_core::entry::Entry::ManifestCommitment(c) => c.manifest_root,
            _ => None,
        });
    let tree = manifest_tree(&st.manifest);
    if root != Some(tree.root()) {
        return Err(ApiError::not_found(
            "this log's manifest commitment names no manifest root: fetch /api/v1/manifest",
        ));
    }
    let Some(slice) = tree.slice(st.manifest.manifest(), &id) else {
        return Err(ApiError::not_found(format!(
            "station {id} is not in the manifest"
        )));
    };
    Ok(text_response(
        serde_json::to_vec(&slice).unwrap_or_default(),
        "application/json",
        "public, max-age=31536000, immutable",
    ))
}

/// `GET /api/v1/blobs/{sha256}`.
#[utoipa::path(get, path = "/api/v1/blobs/{sha256}", tag = "log",
    params(("sha256" = String, Path, description = "SHA-256 of the blob, 64 lowercase hex digits", pattern = "^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "The blob", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "Not a lowercase hex SHA-256", body = super::errors::ErrorBody),
        (status = 404, description = "No such blob", body = super::errors::ErrorBody),
    ))]
pub async fn blob(
    State(st): State<AppState>,
    sha: PathResult<String>,
) -> Result<Response, ApiError> {
    let h = super::write::digest_param(&path_value(sha)?)?;
    let store = st.store.handle();
    match blocking(move || store.blob(&h))
        .await?
        .map_err(ApiError::storage)?
    {
        Some(b) => {
            // A minutes image in PNG is labelled so, so that the station
            // page can show it (spec/site.md §3); anything else is bytes.
            let kind = if b.starts_with(b"\x89PNG\r\n\x1a\n") {
                "image/png"
            } else {
                "application/octet-stream"
            };
            let mut r = text_response(b, kind, "public, max-age=31536000, immutable");
            // Saved, never rendered as a page of this site (with the
            // server-wide nosniff, spec/http-api.md §1.3).
            r.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment"),
            );
            Ok(r)
        }
        None => Err(ApiError::not_found(format!("no blob {}", h.to_hex()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_parameters_are_canonical() {
        assert_eq!(parse_u64("n", "0").ok(), Some(0));
        assert_eq!(parse_u64("n", "42").ok(), Some(42));
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "0x1",
            "18446744073709551616",
        ] {
            assert!(parse_u64("n", bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_u64("n", "18446744073709551615").ok(), Some(u64::MAX));
        let _ = ErrorCode::BadRequest;
    }
}
