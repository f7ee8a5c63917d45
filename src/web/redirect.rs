//! Where a person may be sent back to after logging in, accepting the notice or switching the text
//! size, and the `303 See Other` that sends them: only a path of this site, and never a `Location`
//! that cannot be a header value.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where a person lands when the return address they brought is not a path of this site.
pub const DEFAULT_NEXT: &str = "/tai-khoan";

/// The return address `raw` as a path (and query) of this site, or [`DEFAULT_NEXT`].
pub fn safe_next(raw: Option<&str>, public_url: &url::Url) -> String {
    raw.and_then(|raw| local_path(raw, public_url)).unwrap_or_else(|| DEFAULT_NEXT.to_owned())
}

/// `raw` read as a URL relative to the public address: its path and query when it names this site's
/// origin. Browsers drop tabs and newlines inside a URL and read `\` as `/`, so `/\t/evil.example`
/// and `/\evil.example` are `//evil.example` to them: such input is refused outright, and so is a
/// result that starts with `//` (which a browser reads as another host).
pub fn local_path(raw: &str, public_url: &url::Url) -> Option<String> {
    if raw.is_empty() || raw.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let joined = public_url.join(raw).ok()?;
    if joined.origin() != public_url.origin() || !joined.username().is_empty() || joined.password().is_some() {
        return None;
    }
    let mut path = joined.path().to_owned();
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    if let Some(query) = joined.query() {
        path.push('?');
        path.push_str(query);
    }
    // The serialised URL is percent-encoded ASCII; the check keeps that promise explicit.
    (!path.chars().any(|c| c.is_control())).then_some(path)
}

/// `303 See Other` to `location`; a location that cannot be a header value sends to [`DEFAULT_NEXT`]
/// instead of failing the request.
pub fn see_other(location: &str) -> Response {
    let value = HeaderValue::try_from(location).unwrap_or_else(|_| HeaderValue::from_static(DEFAULT_NEXT));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_pass() {
        let public = url::Url::parse("https://hocvuso.phutho.gov.vn").unwrap();
        let next = |raw: &str| safe_next(Some(raw), &public);
        assert_eq!(next("/bai-hoc/x?y=1"), "/bai-hoc/x?y=1");
        assert_eq!(next("https://hocvuso.phutho.gov.vn/hoc"), "/hoc");
        assert_eq!(next("/bài-học"), "/b%C3%A0i-h%E1%BB%8Dc");
        for bad in [
            "/\t/evil.example",
            "/\nX",
            "//evil",
            "/\\evil",
            "https://evil",
            "http://hocvuso.phutho.gov.vn/hoc",
            "https://user@hocvuso.phutho.gov.vn/hoc",
            "/.//evil.example",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(next(bad), DEFAULT_NEXT, "{bad:?}");
        }
        assert_eq!(safe_next(None, &public), DEFAULT_NEXT);
    }

    #[test]
    fn a_location_that_is_not_a_header_value_is_replaced() {
        let response = see_other("/a\nb");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[header::LOCATION], DEFAULT_NEXT);
    }
}
