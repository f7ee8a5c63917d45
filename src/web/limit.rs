//! A per-address limit on the public certificate lookups (`/verify`, the certificate API and the
//! PDF), so that nobody can hammer them: certificate ids cannot be guessed, but each lookup checks a
//! signature and a PDF takes milliseconds to draw. Handlers ask for it by taking [`Throttled`].

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::web::AppState;
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
        let limit = Arc::new(Self::new(per_minute));
        let idle = Arc::downgrade(&limit);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            every.tick().await;
            loop {
                every.tick().await;
                let Some(limit) = idle.upgrade() else { break };
                limit.forget_idle();
            }
        });
        limit
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
        let Some(address) = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
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
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
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
}
