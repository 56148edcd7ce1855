//! The JSON API under `/api/v1`: proofs, earlier checkpoints, entries,
//! stations, totals, the log's identity and the manifest. Hashes are
//! lowercase hex. Every answer is computed at one checkpoint size, which it
//! names, so a client can check it against that signed checkpoint.

use super::errors::ApiError;
use super::view::FiguresJson;
use super::{blocking, AppState};
use crate::state::StationRecord;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::error::ErrorCode;
use tallyboard_core::merkle::{self, MerkleError};
use tallyboard_core::Hash;
use utoipa::{IntoParams, ToSchema};

type PathResult<T> = Result<Path<T>, axum::extract::rejection::PathRejection>;
type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// Parses a canonical decimal `u64` (no sign, no leading zeros).
pub(crate) fn parse_u64(name: &str, s: &str) -> Result<u64, ApiError> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return Err(ApiError::bad_param(format!(
            "{name} must be a decimal number without sign or leading zeros"
        )));
    }
    s.parse::<u64>()
        .map_err(|_| ApiError::bad_param(format!("{name} does not fit in 64 bits")))
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

fn merkle_err(e: MerkleError<anyhow::Error>) -> ApiError {
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
#[derive(Debug, Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// Entry index.
    pub index: Option<String>,
    /// Leaf hash (lowercase hex) of the entry.
    pub leaf: Option<String>,
    /// Tree size (default: the latest checkpoint's).
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
        let proof = merkle::prove_inclusion(index, size, &store).map_err(merkle_err)?;
        let root = merkle::tree_hash(size, &store).map_err(merkle_err)?;
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
pub struct ConsistencyQuery {
    /// The older size.
    pub old: Option<String>,
    /// The newer size (default: the latest checkpoint's).
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
        let proof = merkle::prove_consistency(old, new, &store).map_err(merkle_err)?;
        let old_root = merkle::tree_hash(old, &store).map_err(merkle_err)?;
        let new_root = merkle::tree_hash(new, &store).map_err(merkle_err)?;
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

/// The fields of an entry as JSON.
pub fn entry_fields(e: &Entry) -> Value {
    match e {
        Entry::ManifestCommitment(c) => json!({
            "election": c.election, "kind": c.kind, "manifest_sha256": c.manifest_sha256.to_hex(),
        }),
        Entry::StationKey(k) => json!({
            "election": k.election, "station": k.station, "key": k.key,
        }),
        Entry::StationKeyRevocation(r) => json!({
            "election": r.election, "station": r.station, "key": r.key, "reason": r.reason,
        }),
        Entry::Tally(t) => json!({
            "election": t.election,
            "contest": t.contest,
            "station": t.station,
            "revision": t.revision,
            "supersedes": t.correction.as_ref().map(|c| c.supersedes.to_hex()),
            "reason": t.correction.as_ref().map(|c| c.reason.clone()),
            "counterfoils": t.counterfoils,
            "ballots_in_box": t.ballots_in_box,
            "votes_taken": t.votes_taken,
            "void_taken": t.void_taken,
            "void_not_taken": t.void_not_taken,
            "valid": t.valid,
            "votes": t.votes.iter().map(|(c, v)| json!({"candidate": c, "votes": v})).collect::<Vec<_>>(),
            "minutes_sha256": t.minutes_sha256.map(|h| h.to_hex()),
        }),
    }
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
        fields: entry_fields(&signed.entry),
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
    let (record, size): (StationRecord, u64) = {
        let v = st.view();
        (
            v.state.stations.get(&id).cloned().unwrap_or_default(),
            v.latest.checkpoint.size,
        )
    };
    let province = st.manifest.province_of(&info.county).map(str::to_owned);
    let store = st.store.handle();
    blocking(move || -> Result<StationJson, ApiError> {
        let key_entries = record
            .key_entries
            .iter()
            .map(|&i| entry_ref(&store, i))
            .collect::<Result<Vec<_>, _>>()?;
        let mut contests: Vec<&String> = record.tallies.keys().collect();
        contests.sort();
        let mut tallies = Vec::new();
        for c in contests {
            let revisions = record.tallies[c]
                .iter()
                .map(|t| entry_ref(&store, t.index))
                .collect::<Result<Vec<_>, _>>()?;
            tallies.push(ContestTallies {
                contest: c.clone(),
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
            key: record.key.map(|k| KeyJson {
                key: k.key,
                revoked: k.revoked,
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
    /// Sum of each station's first tally (revision 1).
    pub counted: FiguresJson,
    /// Sum of each station's latest revision: the standing result.
    pub standing: FiguresJson,
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
    let m = st.manifest.manifest();
    let v = st.view();
    let empty = super::view::ContestTotals::default();
    let contests = m
        .contests
        .iter()
        .map(|c| {
            let mut codes: Vec<u32> = c.candidates.iter().map(|k| k.code).collect();
            codes.sort_unstable();
            let t = v.totals.contests.get(&c.id).unwrap_or(&empty);
            ContestTotalsJson {
                contest: c.id.clone(),
                stations_expected: m
                    .stations
                    .iter()
                    .filter(|s| s.contests.contains(&c.id))
                    .count() as u64,
                counted: t.counted.to_json(&codes),
                standing: t.standing.to_json(&codes),
            }
        })
        .collect();
    Json(TotalsJson {
        checkpoint_size: v.latest.checkpoint.size,
        checkpoint: String::from_utf8_lossy(&v.latest.bytes).into_owned(),
        contests,
    })
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

/// `GET /api/v1/blobs/{sha256}`.
#[utoipa::path(get, path = "/api/v1/blobs/{sha256}", tag = "log",
    params(("sha256" = String, Path, description = "SHA-256 of the blob, lowercase hex")),
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
        Some(b) => Ok(text_response(
            b,
            "application/octet-stream",
            "public, max-age=31536000, immutable",
        )),
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
