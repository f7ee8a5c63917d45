//! The platform's cookies: the session, the pre-session CSRF seed, and the VNeID login state.
//! All HttpOnly and SameSite=Lax (the VNeID callback is a cross-site navigation), Secure behind TLS.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

pub const SESSION: &str = "hv_session";
pub const PRE_SESSION: &str = "hv_pre";
pub const OIDC_STATE: &str = "hv_vneid";
/// The reader's text size (`lon` = larger); a preference, not personal data.
pub const TEXT_SIZE: &str = "hv_chu";

pub struct Jar(Vec<Cookie<'static>>);

impl Jar {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let cookies = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| Cookie::split_parse(v.to_owned()).filter_map(Result::ok))
            .map(Cookie::into_owned)
            .collect();
        Self(cookies)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|c| c.name() == name).map(|c| c.value())
    }
}

/// Adds a `Set-Cookie`; `max_age` in seconds, `None` for a browser-session cookie.
pub fn set(headers: &mut HeaderMap, name: &'static str, value: &str, max_age: Option<i64>, secure: bool) {
    let mut cookie =
        Cookie::build((name, value.to_owned())).path("/").http_only(true).same_site(SameSite::Lax).secure(secure);
    if let Some(seconds) = max_age {
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
    }
    if let Ok(value) = HeaderValue::from_str(&cookie.build().to_string()) {
        headers.append(header::SET_COOKIE, value);
    }
}

pub fn remove(headers: &mut HeaderMap, name: &'static str, secure: bool) {
    set(headers, name, "", Some(0), secure);
}
