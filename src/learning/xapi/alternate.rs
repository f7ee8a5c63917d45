//! The alternate request syntax of xAPI 1.0.3 (7.8): `POST …?method=PUT` with a form body that
//! carries the parameters, the headers (credentials included) and the content. The guard unwraps
//! it before checking credentials; the POST handlers then answer as the method named.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, Uri};

use super::bad;
use crate::web::error::AppError;

/// The method the form names (a request extension for the POST handlers).
#[derive(Clone, Debug)]
pub struct Alternate(pub Method);

/// The largest form accepted (a statement batch or a document with its parameters).
const LIMIT: usize = 2 << 20;

/// The headers a form may carry (xAPI 1.0.3, 7.8).
const HEADERS: [&str; 6] =
    ["authorization", "x-experience-api-version", "content-type", "content-length", "if-match", "if-none-match"];

pub async fn unwrap(req: Request) -> Result<Request, AppError> {
    let (mut parts, body) = req.into_parts();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let method = match query.as_slice() {
        [(name, m)] if name == "method" => Method::from_bytes(m.to_ascii_uppercase().as_bytes())
            .map_err(|_| bad("method: không hợp lệ / not a method"))?,
        _ => return Err(bad("method: chỉ được là tham số duy nhất trên URL / must be the only URL parameter")),
    };
    let form_type = parts.headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !form_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")) {
        return Err(bad("Content-Type: phải là application/x-www-form-urlencoded / must be a form"));
    }
    let bytes = axum::body::to_bytes(body, LIMIT).await.map_err(|_| bad("form: quá lớn / too large"))?;
    let mut content = Vec::new();
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    for (name, value) in url::form_urlencoded::parse(&bytes) {
        let lower = name.to_ascii_lowercase();
        if lower == "content" {
            content = value.into_owned().into_bytes();
        } else if HEADERS.contains(&lower.as_str()) {
            if lower != "content-length" {
                let header = HeaderName::from_bytes(lower.as_bytes()).map_err(|_| bad(format!("{name}: invalid")))?;
                let value = HeaderValue::from_str(&value).map_err(|_| bad(format!("{name}: invalid header value")))?;
                parts.headers.insert(header, value);
            }
        } else {
            params.append_pair(&name, &value);
        }
    }
    let query = params.finish();
    let path = parts.uri.path();
    let uri = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
    parts.uri = uri.parse::<Uri>().map_err(|_| bad("form: parameters do not make a URL"))?;
    parts.extensions.insert(Alternate(method));
    Ok(Request::from_parts(parts, axum::body::Body::from(content)))
}
