//! Every refusal the server gives: an HTTP status and a JSON body
//! `{code, message, detail}` whose `code` is a stable string from
//! `tallyboard_core::error::ErrorCode` (`spec/http-api.md` §2).
//!
//! The status is a function of the code alone ([`status_for`]), so a client
//! can rely on either. Each error response also carries its code in a
//! response extension, which the metrics middleware counts.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tallyboard_core::error::{Coded, ErrorCode};
use tallyboard_core::validate::ValidationError;
use utoipa::ToSchema;

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The stable error code, for example `tally.equivocation`.
    pub code: String,
    /// A human-readable explanation (not stable; do not match on it).
    pub message: String,
    /// Machine-readable details, or null. For `tally.equivocation`,
    /// `supervision.already-annulled`, `supervision.already-approved` and
    /// `lot.already-drawn`: `{"conflicting_index": N}`, the entry already
    /// logged; for `board.overloaded`, `request.rate-limited`,
    /// `board.export-not-ready`, `board.live-full` and
    /// `request.too-many-streams`: `{"retry_after_seconds": N}`.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// Marks a response as a rejection with this code (read by the metrics layer).
#[derive(Clone, Copy, Debug)]
pub struct RejectedWith(pub ErrorCode);

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// The explanation.
    pub message: String,
    /// Optional machine-readable details.
    pub detail: Option<serde_json::Value>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            detail: None,
            retry_after: None,
        }
    }

    /// `request.bad-parameter`.
    pub fn bad_param(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    /// `request.not-found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }

    /// `board.storage`: logs the cause (server side only) and answers 503.
    pub fn storage(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "storage failure");
        ApiError::new(
            ErrorCode::Storage,
            "the board's storage failed; nothing was appended. Retry later.",
        )
    }

    /// `board.overloaded` with a Retry-After.
    pub fn overloaded(retry_after: u64) -> ApiError {
        ApiError::retry_later(
            ErrorCode::Overloaded,
            "the board's queue is full; retry later",
            retry_after,
        )
    }

    /// An error answered with `Retry-After: <retry_after>` and
    /// `{"retry_after_seconds": N}` as its detail (`spec/http-api.md` §2.1).
    pub fn retry_later(code: ErrorCode, message: impl Into<String>, retry_after: u64) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            detail: Some(serde_json::json!({ "retry_after_seconds": retry_after })),
            retry_after: Some(retry_after),
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        status_for(self.code)
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> ApiError {
        let detail = e
            .conflicting_index
            .map(|i| serde_json::json!({ "conflicting_index": i }));
        ApiError {
            code: e.code(),
            message: e.message().to_owned(),
            detail,
            retry_after: None,
        }
    }
}

/// The HTTP status for each code (`spec/http-api.md` §2.2).
pub fn status_for(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        // Signature and key problems: the submitter is not entitled to log this.
        C::NoteBadSignature
        | C::NoteNoKnownSignature
        | C::WrongSigner
        | C::StationKeyNotRegistered
        | C::StationKeyRevoked
        | C::BlobBadSignature
        | C::MirrorReadOnly => StatusCode::FORBIDDEN,
        // Well-formed, but in conflict with what the log already holds.
        C::Equivocation
        | C::RevisionNotNext
        | C::RevisionSupersedesWrong
        | C::ManifestAlreadyCommitted
        | C::ManifestNotCommitted
        | C::StationKeyAlreadyRegistered
        | C::StationKeyMismatch
        | C::SupervisionNotLatest
        | C::SupervisionBoxAnnulled
        | C::SupervisionAlreadyAnnulled
        | C::SupervisionAlreadyApproved
        | C::AnnouncementNotApproved
        | C::AnnouncementReplacesMismatch
        | C::ContestFinal
        | C::ReopeningNotFinal
        | C::RoleKeyNotCurrent
        | C::RoleKeyReused
        | C::RoleLastSupervisor
        | C::LotAlreadyDrawn => StatusCode::CONFLICT,
        // Well-formed, but not consistent with the manifest or the arithmetic rules.
        C::WrongElection
        | C::UnknownStation
        | C::UnknownContest
        | C::ContestNotAtStation
        | C::UnknownCandidate
        | C::ManifestDigestMismatch
        | C::TallyBallotsInBox
        | C::TallyVotesTaken
        | C::TallyCounterfoils
        | C::TallyVoteSum
        | C::TallyCountTooLarge
        | C::SupervisionIndexOutOfRange
        | C::SupervisionLeafMismatch
        | C::SupervisionNotATally
        | C::SupervisionResultsMismatch
        | C::ResultsSizeOutOfRange
        | C::AnnouncementMismatch
        | C::AnnouncementRootMismatch
        | C::AnnouncementNotWitnessed
        | C::BlobNotNamed => StatusCode::UNPROCESSABLE_ENTITY,
        C::NotFound => StatusCode::NOT_FOUND,
        C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        C::BodyTooLarge | C::EntryTooLarge | C::NoteTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::Overloaded | C::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        C::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        C::HeaderTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        C::UriTooLong => StatusCode::URI_TOO_LONG,
        C::Storage
        | C::StoreInconsistent
        | C::BehindWitnesses
        | C::StoreMissing
        | C::StoreVersion
        | C::StoreLocked
        | C::StoreTornWrite
        | C::StoreCorrupt
        | C::StoreTruncated
        | C::StoreCheckpointMismatch
        | C::StoreUnavailable
        | C::StoreFenced
        | C::ExportNotReady
        | C::LiveFull
        | C::BoardStandby
        | C::TooManyStreams => StatusCode::SERVICE_UNAVAILABLE,
        // Syntax of notes, entries, keys, parameters and blobs.
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            code: self.code.as_str().to_owned(),
            message: self.message,
            detail: self.detail,
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp.extensions_mut().insert(RejectedWith(self.code));
        resp
    }
}

/// The JSON error body of §2.1 for the answers hyper gives itself to a
/// request head it cannot parse (`spec/http-api.md` §2.3).
pub fn framing_body(code: ErrorCode, message: &str) -> (&'static str, Vec<u8>) {
    let body = ErrorBody {
        code: code.as_str().to_owned(),
        message: message.to_owned(),
        detail: None,
    };
    (
        "application/json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

/// Fallback for unknown routes: 404 in the JSON error shape.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no resource at {}", uri.path()))
}

/// Fallback for a known route with the wrong method: 405 in the JSON error shape.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} is not allowed on {}", method, uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::status_for;
    use tallyboard_core::error::ErrorCode;

    /// The rows of the status table of `spec/http-api.md` §2.2: (status,
    /// the codes named in that row).
    fn spec_table() -> Vec<(u16, Vec<ErrorCode>)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/http-api.md");
        let spec = std::fs::read_to_string(path).expect("spec/http-api.md");
        let section = spec
            .split("### 2.2 Status by code")
            .nth(1)
            .expect("§2.2 in spec/http-api.md");
        let section = section.split("\n## ").next().unwrap_or(section);
        let mut rows = Vec::new();
        for line in section.lines() {
            let Some(rest) = line.strip_prefix("| ") else {
                continue;
            };
            let Some((status, codes)) = rest.split_once(" |") else {
                continue;
            };
            let Ok(status) = status.trim().parse::<u16>() else {
                continue;
            };
            let codes: Vec<ErrorCode> = codes
                .split('`')
                .skip(1)
                .step_by(2)
                // Codes only: not `key.*` families, nor `Retry-After: <seconds>`.
                .filter(|t| {
                    t.bytes()
                        .all(|b| b.is_ascii_lowercase() || b"0123456789.-".contains(&b))
                })
                .map(|t| {
                    ErrorCode::from_str_code(t)
                        .unwrap_or_else(|| panic!("§2.2 row {status} names {t}, not a code"))
                })
                .collect();
            rows.push((status, codes));
        }
        rows
    }

    #[test]
    fn the_spec_status_table_is_the_servers() {
        let rows = spec_table();
        assert!(rows.len() >= 10, "§2.2 table not found: {rows:?}");
        let mut listed = std::collections::HashMap::new();
        for (status, codes) in &rows {
            for &c in codes {
                assert_eq!(
                    status_for(c).as_u16(),
                    *status,
                    "spec/http-api.md §2.2 lists {c} under {status}, the server answers {}",
                    status_for(c)
                );
                assert!(listed.insert(c, *status).is_none(), "{c} listed twice");
            }
        }
        // Every code answered with anything but 400 (the row of "every code
        // not listed in another row") is listed in its row.
        for &c in ErrorCode::ALL {
            let s = status_for(c).as_u16();
            if s != 400 {
                assert_eq!(
                    listed.get(&c),
                    Some(&s),
                    "{c} is answered {s} but spec/http-api.md §2.2 does not list it there"
                );
            }
        }
    }
}
