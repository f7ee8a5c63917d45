//! Shared HTTP pieces: errors, layout, the route declaration and guard, the unit scope, limits,
//! cookies, static files. The application's state and route table are in `crate::app`.

pub mod cookies;
pub mod error;
pub mod limit;
pub mod pages;
pub mod routes;
pub mod scope;

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

// Kept for code written against the old path; new code names `crate::app::AppState`.
pub use crate::app::AppState;
use crate::identity::access::Access::Public;
use error::{AppError, PageError};
use routes::Route;

/// Largest request body accepted; uploads get their own, larger limit on their own routes.
pub const BODY_LIMIT: usize = 1 << 20;
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CSS: &str = include_str!("../../static/app.css");

/// The shared routes: health and the style sheet.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", Public, healthz),
        Route::get("/static/app.css", Public, css),
        Route::post("/co-chu", Public, text_size),
    ]
}

/// `POST /co-chu`: switches between normal and larger text, then goes back to the page.
async fn text_size(ctx: crate::identity::access::Ctx, headers: axum::http::HeaderMap) -> Response {
    use crate::web::cookies;
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().to_owned() + u.query().map(|q| format!("?{q}")).as_deref().unwrap_or(""));
    let back = back.map_or_else(|| "/".to_owned(), |b| crate::identity::access::safe_next(Some(&b)));
    let mut response = axum::response::Redirect::to(&back).into_response();
    let value = if ctx.large_text { "thuong" } else { "lon" };
    cookies::set(response.headers_mut(), cookies::TEXT_SIZE, value, Some(365 * 24 * 3600), ctx.secure);
    response
}

async fn healthz(State(state): State<AppState>) -> Response {
    if state.store.ping().await {
        (StatusCode::OK, axum::Json(serde_json::json!({"status": "ok", "database": state.store.backend_name()})))
            .into_response()
    } else {
        AppError::Unavailable.into_response()
    }
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], CSS)
        .into_response()
}

pub(crate) async fn not_found(uri: Uri) -> Response {
    let error = AppError::not_found("not_found", format!("Không có trang {} / No such page", uri.path()));
    if uri.path().starts_with("/api/") { error.into_response() } else { PageError(error).into_response() }
}
