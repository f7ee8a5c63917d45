//! Shared HTTP pieces: errors, layout, the route declaration and guard, the unit scope, limits,
//! cookies, static files. The application's state and route table are in `crate::app`.

pub mod access;
pub mod client_ip;
pub mod cookies;
pub mod error;
pub mod limit;
pub mod pages;
pub mod redirect;
pub mod routes;
pub mod scope;
pub mod session;

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

// Kept for code written against the old path; new code names `crate::app::AppState`.
pub use crate::app::AppState;
use access::Access::Public;
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

/// `POST /co-chu`: switches between normal and larger text, then goes back to the page (the path of
/// the `Referer`, checked as any return address is).
async fn text_size(State(state): State<AppState>, ctx: access::Ctx, headers: axum::http::HeaderMap) -> Response {
    use crate::web::cookies;
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|referer| url::Url::parse(referer).ok())
        .and_then(|u| {
            redirect::local_path(&u[url::Position::BeforePath..url::Position::AfterQuery], &state.config.public_url)
        });
    let mut response = redirect::see_other(back.as_deref().unwrap_or("/"));
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
