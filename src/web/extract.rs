//! The extractors every handler uses instead of axum's own: the same parsing, but a request that
//! fails it is answered like any other error of the site (`{"error","message"}` under `/api/` and
//! `/xapi/`, the error page elsewhere), not with axum's plain-text rejection.

// The one place that wraps axum's extractors (clippy.toml forbids them elsewhere).
#![allow(clippy::disallowed_types)]

use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::web::error::{AppError, PageError};

/// Whether a path belongs to the JSON side of the site.
pub fn is_json_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/xapi/")
}

/// An extractor's refusal, shown the way the rest of the site shows errors at that path.
#[derive(Debug)]
pub struct Rejection {
    error: AppError,
    json: bool,
}

impl Rejection {
    fn new(path: &str, status: StatusCode, code: &'static str, what: &str, detail: String) -> Self {
        let error = if status.is_server_error() {
            // A path parameter the route does not declare: our bug, not the client's.
            AppError::Internal(anyhow::anyhow!("{code}: {detail}"))
        } else {
            AppError::Status { status, code, message: format!("{what}: {detail}") }
        };
        Self { error, json: is_json_path(path) }
    }

    pub fn error(&self) -> &AppError {
        &self.error
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        if self.json { self.error.into_response() } else { PageError(self.error).into_response() }
    }
}

/// Declares a wrapper of one of axum's extractors that answers its refusal with `code` and `what`,
/// in the site's shapes. `parts` for extractors of the request head, `body` for those that read the body.
macro_rules! wrap {
    ($(#[$doc:meta])* $name:ident, parts, $inner:ident: $($bound:path),+; $code:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name<T>(pub T);

        impl<T, S> FromRequestParts<S> for $name<T>
        where
            T: $($bound +)+,
            S: Send + Sync,
        {
            type Rejection = Rejection;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                match $inner::<T>::from_request_parts(parts, state).await {
                    Ok($inner(value)) => Ok(Self(value)),
                    Err(e) => Err(Rejection::new(parts.uri.path(), e.status(), $code, $what, e.body_text())),
                }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, body, $inner:ident: $($bound:path),+; $code:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name<T>(pub T);

        impl<T, S> FromRequest<S> for $name<T>
        where
            T: $($bound +)+,
            S: Send + Sync,
        {
            type Rejection = Rejection;

            async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
                let path = req.uri().path().to_owned();
                match $inner::<T>::from_request(req, state).await {
                    Ok($inner(value)) => Ok(Self(value)),
                    Err(e) => Err(Rejection::new(&path, e.status(), $code, $what, e.body_text())),
                }
            }
        }
    };
}

use axum::extract::Path as AxumPath;
use axum::extract::Query as AxumQuery;
use axum::{Form as AxumForm, Json as AxumJson};

wrap!(
    /// `axum::extract::Path`, answering a bad segment as the site's 400.
    Path, parts, AxumPath: DeserializeOwned, Send;
    "invalid_path", "Địa chỉ không hợp lệ. / The address is not valid"
);
wrap!(
    /// `axum::extract::Query`, answering a bad query string as the site's 400.
    Query, parts, AxumQuery: DeserializeOwned;
    "invalid_query", "Tham số trên địa chỉ không hợp lệ. / The query string is not valid"
);
wrap!(
    /// `axum::Form`, answering a bad form as the site's 4xx.
    Form, body, AxumForm: DeserializeOwned;
    "invalid_form", "Biểu mẫu không hợp lệ. / The form is not valid"
);
wrap!(
    /// `axum::Json`, answering a bad body as the site's 4xx; also a response, like axum's.
    Json, body, AxumJson: DeserializeOwned;
    "invalid_json", "Nội dung JSON không hợp lệ. / The JSON body is not valid"
);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        AxumJson(self.0).into_response()
    }
}

/// `axum::extract::Multipart` (uploads), answering a request that is not multipart in the site's shapes.
pub struct Multipart(pub axum::extract::Multipart);

impl std::ops::Deref for Multipart {
    type Target = axum::extract::Multipart;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Multipart {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path = req.uri().path().to_owned();
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(multipart) => Ok(Self(multipart)),
            Err(e) => Err(multipart_rejection(&path, &e)),
        }
    }
}

/// A form that may carry one file in its field `tep`: read as `multipart/form-data` (the page's
/// form, with its CSRF token in the address) or as a plain URL-encoded form (no file). The text
/// fields are parsed exactly as [`Form`] parses them. The file is `None` when none was chosen.
pub struct FormWithFile<T> {
    pub form: T,
    pub file: Option<Vec<u8>>,
}

/// The name of the file field of a [`FormWithFile`].
pub const FILE_FIELD: &str = "tep";

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormWithFile<T> {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let Form(form) = Form::<T>::from_request(req, state).await?;
            return Ok(Self { form, file: None });
        }
        let path = req.uri().path().to_owned();
        let bad = |status: StatusCode, detail: String| {
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "file_too_large" } else { "invalid_upload" };
            Rejection::new(&path, status, code, "Tệp gửi lên không hợp lệ. / The upload is not valid", detail)
        };
        let Multipart(mut parts) = Multipart::from_request(req, state).await?;
        let mut fields = Vec::new();
        let mut file = None;
        while let Some(field) = parts.next_field().await.map_err(|e| bad(e.status(), e.body_text()))? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == FILE_FIELD {
                let bytes = field.bytes().await.map_err(|e| bad(e.status(), e.body_text()))?;
                file = (!bytes.is_empty()).then(|| bytes.to_vec());
            } else {
                let value = field.text().await.map_err(|e| bad(e.status(), e.body_text()))?;
                fields.push((name, value));
            }
        }
        // The text fields go through the same parser as a URL-encoded form: one set of rules.
        let encoded = Request::builder()
            .method(axum::http::Method::POST)
            .uri(path.as_str())
            .header(axum::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(
                url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish(),
            ))
            .map_err(|e| bad(StatusCode::BAD_REQUEST, e.to_string()))?;
        let Form(form) = Form::<T>::from_request(encoded, state).await?;
        Ok(Self { form, file })
    }
}

fn multipart_rejection(path: &str, e: &MultipartRejection) -> Rejection {
    Rejection::new(
        path,
        e.status(),
        "invalid_upload",
        "Tệp gửi lên không hợp lệ. / The upload is not valid",
        e.body_text(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_side_rejections_are_internal_errors() {
        let r = Rejection::new("/api/v1/x", StatusCode::INTERNAL_SERVER_ERROR, "invalid_path", "x", "y".into());
        assert!(matches!(r.error(), AppError::Internal(_)));
        let r = Rejection::new("/api/v1/x", StatusCode::BAD_REQUEST, "invalid_query", "x", "y".into());
        assert_eq!(r.error().status(), StatusCode::BAD_REQUEST);
        assert!(r.json);
        assert!(!Rejection::new("/hoc", StatusCode::BAD_REQUEST, "invalid_form", "x", "y".into()).json);
    }

    /// No JSON body is read by a route yet; the wrapper is checked on a router of its own.
    #[tokio::test]
    async fn a_bad_json_body_is_refused_in_the_site_shapes() {
        use axum::body::Body;
        use axum::routing::post;
        use tower::ServiceExt;

        #[derive(serde::Deserialize)]
        struct Wanted {
            #[allow(dead_code)]
            n: u8,
        }
        async fn take(Json(_): Json<Wanted>) -> &'static str {
            "ok"
        }
        let app = axum::Router::new().route("/api/v1/x", post(take)).route("/trang", post(take));
        let send = |uri: &'static str, content_type: &'static str, body: &'static str| {
            let request = axum::http::Request::post(uri)
                .header(axum::http::header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap();
            app.clone().oneshot(request)
        };
        for (content_type, body, status) in [
            ("application/json", "{\"n\": 300}", StatusCode::UNPROCESSABLE_ENTITY),
            ("application/json", "{\"n\": ", StatusCode::BAD_REQUEST),
            ("text/plain", "{\"n\": 1}", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ] {
            let response = send("/api/v1/x", content_type, body).await.unwrap();
            assert_eq!(response.status(), status, "{body}");
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(json["error"], "invalid_json", "{json}");
            assert_eq!(json.as_object().unwrap().len(), 2, "{json}");

            let response = send("/trang", content_type, body).await.unwrap();
            assert_eq!(response.status(), status);
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
            let html = String::from_utf8_lossy(&bytes);
            assert!(html.contains(&format!("Lỗi {}", status.as_u16())) && html.contains("JSON"), "{html}");
        }
        assert_eq!(send("/api/v1/x", "application/json", "{\"n\": 1}").await.unwrap().status(), StatusCode::OK);
    }
}
