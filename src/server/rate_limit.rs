//! Per-client-address rate limit of the write routes (`POST /api/v1/entries`
//! and `POST /api/v1/blobs`): a token bucket per address, `burst` tokens
//! deep, refilled at `per_second`; a request finding its bucket empty is
//! answered `429 request.rate-limited` with `Retry-After` before its body
//! is read (`spec/http-api.md` §3, `spec/operations.md` security §2).
//!
//! It comes on top of the global admission limit (`429 board.overloaded`)
//! and is off unless configured: polling stations behind carrier-grade NAT
//! share addresses, so only the operator can size it.
//!
//! The address is the TCP peer's; `X-Forwarded-For` is not trusted (behind
//! a proxy, every client is the proxy, so limit at the proxy instead). IPv6
//! clients are keyed by their /64, which one subscriber usually holds whole.
//! A bucket that has refilled is the same as no bucket, so such buckets are
//! dropped whenever the table doubles: it holds only addresses seen within
//! the last `burst / per_second` seconds.

use super::errors::ApiError;
use super::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tallyboard_core::error::ErrorCode;

/// The table is swept of refilled buckets when it reaches this size, and
/// then whenever it has doubled since the last sweep.
const SWEEP_AT_LEAST: usize = 4096;

/// Rate-limit settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second (requests per second sustained).
    pub per_second: f64,
    /// Bucket depth (requests allowed in a burst).
    pub burst: u32,
}

impl RateLimit {
    /// Checks the settings: a positive, finite rate and a burst of at least 1.
    pub fn new(per_second: f64, burst: u32) -> anyhow::Result<RateLimit> {
        if !(per_second.is_finite() && per_second > 0.0) {
            anyhow::bail!("the submission rate must be a positive number per second");
        }
        if burst == 0 {
            anyhow::bail!("the submission burst must be at least 1");
        }
        Ok(RateLimit { per_second, burst })
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every recently seen client.
pub struct RateLimiter {
    limit: RateLimit,
    table: Mutex<Table>,
}

struct Table {
    buckets: HashMap<IpAddr, Bucket>,
    sweep_at: usize,
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                sweep_at: SWEEP_AT_LEAST,
            }),
        }
    }

    /// Takes a token for `addr` at time `now`, or says how long until one
    /// is available.
    pub fn take(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.limit.burst);
        let rate = self.limit.per_second;
        let refill = |b: &Bucket| {
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            (b.tokens + elapsed * rate).min(burst)
        };
        let mut t = match self.table.lock() {
            Ok(t) => t,
            // The table only ever holds whole buckets: still usable.
            Err(p) => p.into_inner(),
        };
        if t.buckets.len() >= t.sweep_at {
            t.buckets.retain(|_, b| refill(b) < burst);
            t.sweep_at = (t.buckets.len() * 2).max(SWEEP_AT_LEAST);
        }
        let b = t.buckets.entry(client_key(addr)).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = refill(b);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }

    /// Clients currently in the table (for tests).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.table.lock().map(|t| t.buckets.len()).unwrap_or(0)
    }
}

/// The key of a client: its IPv4 address (IPv4-mapped IPv6 included), or
/// the /64 prefix of its IPv6 address.
pub(crate) fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Middleware of the write routes: refuses a request whose client has no
/// token left. Requests without a peer address (none in production: the
/// listener always sets it) are not limited.
pub async fn limit_writes(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if let (Some(limiter), Some(ConnectInfo(peer))) = (
        st.rate_limiter.as_ref(),
        req.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) {
        if let Err(wait) = limiter.take(peer.ip(), Instant::now()) {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return axum::response::IntoResponse::into_response(rate_limited(secs));
        }
    }
    next.run(req).await
}

fn rate_limited(retry_after: u64) -> ApiError {
    ApiError::retry_later(
        ErrorCode::RateLimited,
        format!(
            "too many requests from your address; retry in {retry_after} s \
             (the board limits submissions per client address)"
        ),
        retry_after,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_is_allowed_then_the_rate() {
        let l = RateLimiter::new(RateLimit::new(2.0, 3).unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take(ip("192.0.2.1"), t0).is_ok());
        }
        let wait = l.take(ip("192.0.2.1"), t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another address has its own bucket.
        assert!(l.take(ip("192.0.2.2"), t0).is_ok());
        // Half a second later, one token (at 2 per second) is back.
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.take(ip("192.0.2.1"), t1).is_ok());
        assert!(l.take(ip("192.0.2.1"), t1).is_err());
        // A long pause refills to the burst, no further.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(l.take(ip("192.0.2.1"), t2).is_ok());
        }
        assert!(l.take(ip("192.0.2.1"), t2).is_err());
    }

    #[test]
    fn ipv6_clients_share_their_64_and_mapped_ipv4_is_ipv4() {
        let l = RateLimiter::new(RateLimit::new(1.0, 1).unwrap());
        let t = Instant::now();
        assert!(l.take(ip("2001:db8:1:2::1"), t).is_ok());
        assert!(l.take(ip("2001:db8:1:2:ffff::9"), t).is_err());
        assert!(l.take(ip("2001:db8:1:3::1"), t).is_ok());
        assert!(l.take(ip("198.51.100.7"), t).is_ok());
        assert!(l.take(ip("::ffff:198.51.100.7"), t).is_err());
    }

    #[test]
    fn refilled_buckets_are_swept_so_the_table_stays_bounded() {
        let l = RateLimiter::new(RateLimit::new(10.0, 1).unwrap());
        let t0 = Instant::now();
        for i in 0..SWEEP_AT_LEAST as u32 {
            assert!(l.take(IpAddr::V4(i.into()), t0).is_ok());
        }
        assert_eq!(l.tracked(), SWEEP_AT_LEAST);
        // A second later every bucket has refilled: the next request sweeps them.
        let t1 = t0 + Duration::from_secs(1);
        assert!(l.take(ip("203.0.113.1"), t1).is_ok());
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn settings_are_checked() {
        assert!(RateLimit::new(0.0, 1).is_err());
        assert!(RateLimit::new(f64::NAN, 1).is_err());
        assert!(RateLimit::new(-1.0, 1).is_err());
        assert!(RateLimit::new(1.0, 0).is_err());
        assert!(RateLimit::new(0.5, 1).is_ok());
    }
}
