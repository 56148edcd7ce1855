//! The caps on concurrent `GET /live` streams (server-sent events,
//! `spec/site.md` §5): at most `max` in all and at most `per_client` from
//! one client address (an IPv6 client: its /64, as for the rate limit of
//! submissions). A stream holds a [`StreamPermit`] for as long as it is
//! open; a request finding no room is answered `503` with `Retry-After`
//! (`board.live-full` or `request.too-many-streams`, `spec/http-api.md`
//! §2.2), so a client opening streams it never reads cannot hold more
//! than its share of the board's connections and file descriptors.
//!
//! The address is the TCP peer's (`X-Forwarded-For` is not trusted; behind
//! a proxy, every client is the proxy, so limit at the proxy instead).

use super::errors::ApiError;
use super::rate_limit::client_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tallyboard_core::error::ErrorCode;

/// Default of `serve --live-max`: well below the usual 1,024 file
/// descriptors a process may open, so streams alone cannot exhaust them.
pub const DEFAULT_LIVE_MAX: usize = 512;
/// Default of `serve --live-per-client`: a few tabs of one household or
/// office behind one address.
pub const DEFAULT_LIVE_PER_CLIENT: usize = 8;
/// `Retry-After` of a refused stream: streams are long-lived, so room
/// comes back slowly; the page works without live updates meanwhile.
const RETRY_SECS: u64 = 30;

/// The caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveLimits {
    /// Streams open at once, in all.
    pub max: usize,
    /// Streams open at once from one client address.
    pub per_client: usize,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            max: DEFAULT_LIVE_MAX,
            per_client: DEFAULT_LIVE_PER_CLIENT,
        }
    }
}

impl LiveLimits {
    /// Checks the settings: both at least 1 (0 would refuse every stream;
    /// to turn live updates off, block `/live` at the proxy).
    pub fn new(max: usize, per_client: usize) -> anyhow::Result<LiveLimits> {
        if max == 0 || per_client == 0 {
            anyhow::bail!("--live-max and --live-per-client must be at least 1");
        }
        Ok(LiveLimits { max, per_client })
    }
}

#[derive(Default)]
struct Table {
    open: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// The streams open now.
pub struct LiveStreams {
    limits: LiveLimits,
    table: Mutex<Table>,
}

/// One open stream's place; dropping it (the stream ended or the client
/// went away) frees it.
pub struct StreamPermit {
    owner: Arc<LiveStreams>,
    client: Option<IpAddr>,
}

impl LiveStreams {
    /// No stream open.
    pub fn new(limits: LiveLimits) -> LiveStreams {
        LiveStreams {
            limits,
            table: Mutex::new(Table::default()),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        match self.table.lock() {
            Ok(t) => t,
            // Counts are updated whole under the lock: still usable.
            Err(p) => p.into_inner(),
        }
    }

    /// Streams open now (for `/metrics`).
    pub fn open(&self) -> usize {
        self.table().open
    }

    /// A place for one more stream from `peer` (`None`: no peer address,
    /// which the listener always sets, so only the overall cap applies).
    pub fn acquire(self: &Arc<Self>, peer: Option<IpAddr>) -> Result<StreamPermit, ApiError> {
        let client = peer.map(client_key);
        let mut t = self.table();
        if t.open >= self.limits.max {
            return Err(ApiError::retry_later(
                ErrorCode::LiveFull,
                format!(
                    "the board serves {} live-update streams, its limit; retry in {RETRY_SECS} s \
                     (pages work without live updates)",
                    self.limits.max
                ),
                RETRY_SECS,
            ));
        }
        if let Some(c) = client {
            let n = t.by_client.entry(c).or_insert(0);
            if *n >= self.limits.per_client {
                return Err(ApiError::retry_later(
                    ErrorCode::TooManyStreams,
                    format!(
                        "your address already holds {} live-update streams, the most one \
                         address may; close one or retry in {RETRY_SECS} s",
                        self.limits.per_client
                    ),
                    RETRY_SECS,
                ));
            }
            *n += 1;
        }
        t.open += 1;
        Ok(StreamPermit {
            owner: self.clone(),
            client,
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut t = self.owner.table();
        t.open = t.open.saturating_sub(1);
        if let Some(c) = self.client {
            // Entries at zero are removed, so the table holds only the
            // addresses with a stream open: at most `max` of them.
            if let Some(n) = t.by_client.get_mut(&c) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    t.by_client.remove(&c);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn per_client_and_overall_caps_and_permits_free_their_place() {
        let l = Arc::new(LiveStreams::new(LiveLimits::new(3, 2).unwrap()));
        let a1 = l.acquire(ip("192.0.2.1")).unwrap();
        let _a2 = l.acquire(ip("192.0.2.1")).unwrap();
        let e = l.acquire(ip("192.0.2.1")).err().unwrap();
        assert_eq!(e.code, ErrorCode::TooManyStreams);
        assert_eq!(e.retry_after, Some(RETRY_SECS));
        // The same /64 is the same client.
        let _b1 = l.acquire(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            l.acquire(ip("198.51.100.1")).err().unwrap().code,
            ErrorCode::LiveFull
        );
        assert_eq!(l.open(), 3);
        drop(a1);
        assert_eq!(l.open(), 2);
        let _a3 = l.acquire(ip("192.0.2.1")).unwrap();
        assert_eq!(
            l.acquire(ip("2001:db8:1:2::9")).err().unwrap().code,
            ErrorCode::LiveFull
        );
    }

    #[test]
    fn freed_clients_leave_the_table() {
        let l = Arc::new(LiveStreams::new(LiveLimits::default()));
        let permits: Vec<_> = (0..100u32)
            .map(|i| l.acquire(Some(IpAddr::V4(i.into()))).unwrap())
            .collect();
        assert_eq!(l.table().by_client.len(), 100);
        drop(permits);
        assert_eq!(l.open(), 0);
        assert!(l.table().by_client.is_empty());
    }

    #[test]
    fn settings_are_checked() {
        assert!(LiveLimits::new(0, 1).is_err());
        assert!(LiveLimits::new(1, 0).is_err());
        assert!(LiveLimits::new(1, 1).is_ok());
    }
}
