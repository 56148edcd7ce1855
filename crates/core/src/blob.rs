//! Who may upload a blob (`spec/http-api.md` §1.3): the station whose
//! logged tally names it (`minutes-sha256`), signing the upload with its
//! key in force.
//!
//! The board stores blobs beside the log but not in it, so without this an
//! anonymous client could fill its disk with anything. The authorisation
//! is a C2SP signed note whose text the board rebuilds from the request,
//!
//! ```text
//! tallyboard/blob/v1
//! <log origin>
//! <station id>
//! <SHA-256 of the blob, lowercase hex>
//! ```
//!
//! and whose one signature line travels in the `X-Tallyboard-Signature`
//! header without its leading em dash (`<key name> <base64(key ID ||
//! signature)>`, C2SP signed-note), so that a station's device signs it
//! with the same code and key it signs its tally with. The origin binds
//! the signature to this log, the hash to this blob.

use crate::note::{NoteSignature, SignerKey, SIG_PREFIX};
use crate::state::{LogReader, LogState};
use crate::validate::ValidationError;
use crate::{ErrorCode, Hash};

/// The first line of the text a station signs to upload a blob.
pub const UPLOAD_TYPE: &str = "tallyboard/blob/v1";

/// The largest blob a station may upload (a scan of its count minutes).
pub const MAX_BLOB_SIZE: usize = 16 * 1024 * 1024;

/// The signed text that authorises `station` to upload the blob `sha256`
/// to the log `origin`.
pub fn upload_text(origin: &str, station: &str, sha256: &Hash) -> String {
    format!("{UPLOAD_TYPE}\n{origin}\n{station}\n{}\n", sha256.to_hex())
}

/// The `X-Tallyboard-Signature` header value a station's device sends.
pub fn sign_upload(key: &SignerKey, origin: &str, station: &str, sha256: &Hash) -> String {
    let line = key
        .sign_text(&upload_text(origin, station, sha256))
        .to_line();
    line.strip_prefix(SIG_PREFIX).unwrap_or(&line).to_owned()
}

/// Checks an upload of the blob `sha256` by `station` against the log
/// state: the station is in the manifest, one of its logged tallies (the
/// first or the standing revision, for any of its contests) names the
/// blob, and `signature` (the header value) is a valid signature of
/// [`upload_text`] by the station's key in force. `log` reads the tallies'
/// `minutes-sha256`.
///
/// # Errors
/// `station.unknown`; `blob.not-named`; `request.bad-parameter` for a
/// header that is not a signature line; `station.key-not-registered` when
/// the station has no key in force; `blob.bad-signature`.
pub fn check_upload(
    state: &LogState,
    log: &dyn LogReader,
    origin: &str,
    station: &str,
    sha256: &Hash,
    signature: &str,
) -> Result<(), ValidationError> {
    let Some(listed) = state.manifest().station(station) else {
        return Err(ValidationError::new(
            ErrorCode::UnknownStation,
            format!("station {station} is not in the manifest"),
        ));
    };
    let named = listed.contests.iter().any(|contest| {
        [
            state.first_tally(station, contest),
            state.latest_tally(station, contest),
        ]
        .into_iter()
        .flatten()
        .any(|t| {
            log.tally(t.index)
                .is_ok_and(|t| t.minutes_sha256 == Some(*sha256))
        })
    });
    if !named {
        return Err(ValidationError::new(
            ErrorCode::BlobNotNamed,
            format!(
                "no logged tally of station {station} names {} as its minutes scan: log the tally first",
                sha256.to_hex()
            ),
        ));
    }
    let sig = NoteSignature::parse_line(&format!("{SIG_PREFIX}{signature}"), 1).map_err(|e| {
        ValidationError::new(
            ErrorCode::BadRequest,
            format!("X-Tallyboard-Signature is not a signed-note signature line: {e}"),
        )
    })?;
    let Some((_, key)) = state.station(station).and_then(|r| r.active_key()) else {
        return Err(ValidationError::new(
            ErrorCode::StationKeyNotRegistered,
            format!("station {station} has no key in force"),
        ));
    };
    let text = upload_text(origin, station, sha256);
    if sig.name != key.name()
        || sig.key_id != key.key_id()
        || !key.verify(text.as_bytes(), &sig.signature)
    {
        return Err(ValidationError::new(
            ErrorCode::BlobBadSignature,
            format!(
                "the upload is not signed by station {station}'s key in force over the text {UPLOAD_TYPE} / {origin} / {station} / {}",
                sha256.to_hex()
            ),
        ));
    }
    Ok(())
}
