//! The extractors every handler uses instead of axum's own: the same parsing, but a request that
//! fails it is answered like any other error of the site (`{"error","message"}` under `/api/` and
//! `/xapi/`, the error page elsewhere), not with axum's plain-text rejection.

// The one place that wraps axum's extractors (clippy.toml forbids them elsewhere).
#![allow(clippy::disallowed_types)]

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
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

/// `axum::extract::Path`, answering a bad segment as the site's 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(e) => Err(path_rejection(parts.uri.path(), &e)),
        }
    }
}

fn path_rejection(path: &str, e: &PathRejection) -> Rejection {
    Rejection::new(path, e.status(), "invalid_path", "Địa chỉ không hợp lệ. / The address is not valid", e.body_text())
}

/// `axum::extract::Query`, answering a bad query string as the site's 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(e) => Err(query_rejection(parts.uri.path(), &e)),
        }
    }
}

fn query_rejection(path: &str, e: &QueryRejection) -> Rejection {
    Rejection::new(
        path,
        e.status(),
        "invalid_query",
        "Tham số trên địa chỉ không hợp lệ. / The query string is not valid",
        e.body_text(),
    )
}

/// `axum::Form`, answering a bad form as the site's 4xx.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path = req.uri().path().to_owned();
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Self(value)),
            Err(e) => Err(form_rejection(&path, &e)),
        }
    }
}

fn form_rejection(path: &str, e: &FormRejection) -> Rejection {
    Rejection::new(path, e.status(), "invalid_form", "Biểu mẫu không hợp lệ. / The form is not valid", e.body_text())
}

/// `axum::Json`, answering a bad body as the site's 4xx; also a response, like axum's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let path = req.uri().path().to_owned();
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(e) => Err(json_rejection(&path, &e)),
        }
    }
}

fn json_rejection(path: &str, e: &JsonRejection) -> Rejection {
    Rejection::new(
        path,
        e.status(),
        "invalid_json",
        "Nội dung JSON không hợp lệ. / The JSON body is not valid",
        e.body_text(),
    )
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
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
}
