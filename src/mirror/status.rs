//! What a mirror tells its readers about itself (`spec/mirror.md` §5):
//! `GET /api/v1/mirror` (JSON) and the first word of `GET /healthz`.
//!
//! The follower thread writes it after every poll; handlers only read it.

use crate::server::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::sync::RwLock;
use tallyboard_core::ErrorCode;

/// A problem the follower met, with its stable code.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// Stable code (`spec/errors.md`).
    pub code: String,
    /// For people.
    pub message: String,
}

/// A refusal: the mirror stopped following and kept evidence.
#[derive(Clone, Debug, Serialize)]
pub struct RefusalJson {
    /// `mirror.rollback`, `mirror.fork`, `mirror.read-path-mismatch` or
    /// `mirror.entry-invalid`.
    pub code: String,
    /// What was wrong.
    pub message: String,
    /// The size of the checkpoint the mirror had verified.
    pub trusted_size: u64,
    /// The size of the checkpoint the upstream offered.
    pub offered_size: u64,
    /// The evidence directory, relative to the mirror's data directory.
    pub evidence: String,
}

/// The follower's last word.
#[derive(Clone, Debug, Default, Serialize)]
struct Inner {
    polls: u64,
    last_problem: Option<Problem>,
    refusal: Option<RefusalJson>,
}

/// Shared between the follower and the HTTP handlers.
pub struct MirrorStatus {
    upstream: String,
    /// A standby board following its own store, not a mirror of a board.
    standby: bool,
    inner: RwLock<Inner>,
}

/// The JSON of `GET /api/v1/mirror`.
#[derive(Debug, Serialize)]
pub struct StatusJson {
    /// The board (or read-path copy) this mirror follows.
    pub upstream: String,
    /// `following` (the last poll verified and stored what the upstream
    /// serves), `waiting` (the last poll could not complete; the mirror
    /// tries again) or `refused` (it stopped following; see `refusal`).
    pub state: &'static str,
    /// The size of the latest verified checkpoint the mirror serves.
    pub size: u64,
    /// That checkpoint, as the log signed it (with any cosignatures).
    pub checkpoint: String,
    /// Polls of the upstream since the mirror started.
    pub polls: u64,
    /// Why the last poll could not complete, if it could not.
    pub last_problem: Option<Problem>,
    /// Why the mirror stopped following, if it did.
    pub refusal: Option<RefusalJson>,
}

impl MirrorStatus {
    /// The status of a mirror of `upstream` that has not polled yet.
    pub fn new(upstream: &str) -> MirrorStatus {
        MirrorStatus {
            upstream: upstream.to_owned(),
            standby: false,
            inner: RwLock::new(Inner::default()),
        }
    }

    /// The status of a standby board: it serves its PostgreSQL store
    /// read-only while another board holds the writer lease, and refuses
    /// writes with a retryable `503 board.standby` (`spec/storage.md`
    /// §8.3), not a mirror's `403`.
    pub fn standby() -> MirrorStatus {
        MirrorStatus {
            upstream: "the board that holds the writer lease".to_owned(),
            standby: true,
            inner: RwLock::new(Inner::default()),
        }
    }

    /// Whether this is a standby board rather than a mirror.
    pub fn is_standby(&self) -> bool {
        self.standby
    }

    /// The upstream this mirror follows.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    fn update(&self, f: impl FnOnce(&mut Inner)) {
        let mut g = match self.inner.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g);
    }

    fn read(&self) -> Inner {
        match self.inner.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Records a poll that verified and stored everything offered.
    pub fn polled_ok(&self) {
        self.update(|i| {
            i.polls += 1;
            i.last_problem = None;
        });
    }

    /// Records a poll that could not complete.
    pub fn polled_with_problem(&self, p: Problem) {
        self.update(|i| {
            i.polls += 1;
            i.last_problem = Some(p);
        });
    }

    /// Records the refusal that stopped the follower.
    pub fn refused(&self, r: RefusalJson) {
        self.update(|i| {
            i.polls += 1;
            i.last_problem = Some(Problem {
                code: r.code.clone(),
                message: r.message.clone(),
            });
            i.refusal = Some(r);
        });
    }

    /// The refusal's code, once the mirror has refused its upstream.
    pub fn refusal(&self) -> Option<String> {
        self.read().refusal.map(|r| r.code)
    }
}

/// `GET /api/v1/mirror` (served by mirrors only).
pub async fn status(State(st): State<AppState>) -> Response {
    let latest = st.latest();
    let inner = st.mirror.as_ref().map(|m| m.read()).unwrap_or_default();
    let state = if inner.refusal.is_some() {
        "refused"
    } else if inner.last_problem.is_some() {
        "waiting"
    } else {
        "following"
    };
    let body = StatusJson {
        upstream: st
            .mirror
            .as_ref()
            .map(|m| m.upstream.clone())
            .unwrap_or_default(),
        state,
        size: latest.checkpoint.size,
        checkpoint: String::from_utf8_lossy(&latest.bytes).into_owned(),
        polls: inner.polls,
        last_problem: inner.last_problem,
        refusal: inner.refusal,
    };
    let mut r = Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A problem with a core code.
pub fn problem(code: ErrorCode, message: impl Into<String>) -> Problem {
    Problem {
        code: code.as_str().to_owned(),
        message: message.into(),
    }
}
