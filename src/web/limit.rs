//! Per-address limits, kept in memory (each server keeps its own: DESIGN allows that for rate limits,
//! and none of them is a lockout). The address is the client's as [`super::client_ip`] finds it.
//!
//! - [`PublicLimit`]: the public certificate lookups (`/verify`, the certificate API and the PDF), so
//!   that nobody can hammer them: certificate ids cannot be guessed, but each lookup checks a
//!   signature and a PDF takes milliseconds to draw. Handlers ask for it by taking [`Throttled`].
//! - [`LoginLimit`]: password logins. Failed logins from one address meet a delay that grows as they
//!   go on; successful logins do not count, so a school or an office behind one address is not held
//!   up by its own people. Per-account delays live in the database (`identity::throttle`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::app::AppState;
use crate::web::error::{AppError, PageError};

pub struct PublicLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl PublicLimit {
    /// `per_minute` lookups per address, all of which may come at once.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self { limiter: RateLimiter::keyed(Quota::per_minute(per_minute)), clock: DefaultClock::default() }
    }

    /// The limit, and a task that forgets idle addresses every minute for as long as it is in use.
    pub fn start(per_minute: NonZeroU32) -> Arc<Self> {
        forgetting(Self::new(per_minute), Self::forget_idle)
    }

    /// How long the address must wait, if it is over its limit.
    fn check(&self, address: IpAddr) -> Result<(), Duration> {
        self.limiter.check_key(&client_of(address)).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets addresses whose allowance is whole again, so the table stays as small as the traffic.
    fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// `limit` behind an `Arc`, with a task that calls `forget` every minute for as long as it is in use.
fn forgetting<T: Send + Sync + 'static>(limit: T, forget: fn(&T)) -> Arc<T> {
    let limit = Arc::new(limit);
    let idle = Arc::downgrade(&limit);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            let Some(limit) = idle.upgrade() else { break };
            forget(&limit);
        }
    });
    limit
}

/// Whole seconds for `Retry-After`: at least 1, rounded up.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Login attempts allowed from one address, all at once (an office or a classroom logging in together)
/// and then one each half second; bounds the attempts in flight before any failure has counted.
const LOGIN_ATTEMPT_BURST: u32 = 120;
const LOGIN_ATTEMPT_PERIOD: Duration = Duration::from_millis(500);

/// Failed logins from one address, in tiers: (allowed at once, then one per period). After 10
/// quick failures the address waits 10 s per attempt, after 30 two minutes, after 100 fifteen
/// minutes; each tier refills at its own rate when the failures stop.
const LOGIN_FAILURE_TIERS: [(u32, Duration); 3] =
    [(10, Duration::from_secs(10)), (30, Duration::from_secs(120)), (100, Duration::from_secs(900))];

pub struct LoginLimit {
    attempts: DefaultKeyedRateLimiter<IpAddr>,
    failures: Vec<DefaultKeyedRateLimiter<IpAddr>>,
    /// Until when an address that ran out of failures waits: governor cannot tell whether a cell is
    /// free without taking it, and only failures may take one.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    clock: DefaultClock,
}

impl Default for LoginLimit {
    fn default() -> Self {
        let quota = |burst: u32, period: Duration| {
            Quota::with_period(period)
                .expect("a period above zero")
                .allow_burst(NonZeroU32::new(burst).expect("not zero"))
        };
        Self {
            attempts: RateLimiter::keyed(quota(LOGIN_ATTEMPT_BURST, LOGIN_ATTEMPT_PERIOD)),
            failures: LOGIN_FAILURE_TIERS
                .iter()
                .map(|(burst, period)| RateLimiter::keyed(quota(*burst, *period)))
                .collect(),
            blocked: Mutex::default(),
            clock: DefaultClock::default(),
        }
    }
}

impl LoginLimit {
    pub fn start() -> Arc<Self> {
        forgetting(Self::default(), Self::forget_idle)
    }

    fn blocked(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Instant>> {
        // The map holds only instants: a panic elsewhere cannot leave it inconsistent.
        self.blocked.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the address may try a password now, or how long it must wait. Takes one attempt.
    pub fn admit(&self, address: IpAddr) -> Result<(), Duration> {
        let key = client_of(address);
        if let Some(until) = self.blocked().get(&key) {
            let now = Instant::now();
            if *until > now {
                return Err(*until - now);
            }
        }
        self.attempts.check_key(&key).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Counts a failed login from the address; once a tier runs out, the address waits for it.
    pub fn failed(&self, address: IpAddr) {
        let key = client_of(address);
        let now = self.clock.now();
        let wait = self
            .failures
            .iter()
            .filter_map(|tier| tier.check_key(&key).err().map(|not_until| not_until.wait_time_from(now)))
            .max();
        if let Some(wait) = wait {
            self.blocked().insert(key, Instant::now() + wait);
        }
    }

    fn forget_idle(&self) {
        for limiter in std::iter::once(&self.attempts).chain(&self.failures) {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = Instant::now();
        self.blocked().retain(|_, until| *until > now);
    }
}

/// The key an address counts under: an IPv6 client is given a whole /64 and could take a new
/// address for every request, so the /64 is the client (an IPv4 address mapped into IPv6 is IPv4).
fn client_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// Taken by a handler whose requests count against the public limit; refuses with 429 and
/// `Retry-After` when the address is over it (as JSON under `/api/`, as a page elsewhere).
pub struct Throttled;

impl FromRequestParts<AppState> for Throttled {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // Without a peer address (only in-process tests build such requests) there is nothing to key on.
        let Some(address) = super::client_ip::of_parts(parts, &state.config.trusted_proxies) else {
            return Ok(Throttled);
        };
        let Err(wait) = state.public_limit.check(address) else { return Ok(Throttled) };
        let error = AppError::TooMany {
            code: "rate_limited",
            message: "Bạn đã tra cứu quá nhiều lần; xin đợi một chút rồi thử lại. / Too many lookups; wait a moment \
                      and try again."
                .into(),
        };
        let mut response = if parts.uri.path().starts_with("/api/") {
            error.into_response()
        } else {
            PageError(error).into_response()
        };
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds(wait)));
        Err(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_of(a), client_of(b));
        assert_ne!(client_of(a), client_of(other));
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(client_of(mapped), "203.0.113.7".parse::<IpAddr>().unwrap());
        let limit = PublicLimit::new(NonZeroU32::new(2).unwrap());
        assert!(limit.check(a).is_ok() && limit.check(b).is_ok());
        assert!(limit.check(a).is_err(), "a third lookup from the same /64 waits");
        assert!(limit.check(other).is_ok());
    }

    #[tokio::test]
    async fn failures_from_one_address_wait_longer_and_longer_and_successes_do_not_count() {
        let limit = LoginLimit::default();
        let (a, b): (IpAddr, IpAddr) = ("203.0.113.7".parse().unwrap(), "198.51.100.9".parse().unwrap());
        for _ in 0..101 {
            assert!(limit.admit(b).is_ok(), "attempts that do not fail do not make an address wait");
            limit.failed(a);
        }
        let long = limit.admit(a).unwrap_err();
        assert!(long > Duration::from_secs(600), "past 100 failures the wait is the longest tier's: {long:?}");
        let fresh = LoginLimit::default();
        for _ in 0..11 {
            fresh.failed(a);
        }
        let short = fresh.admit(a).unwrap_err();
        assert!(short <= Duration::from_secs(10) && short < long, "{short:?}");
        assert!(fresh.admit(b).is_ok(), "another address is not held up");
    }
}
