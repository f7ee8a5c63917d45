//! Shared HTTP pieces: errors, layout, the route declaration and guard, the unit scope, limits,
//! cookies, static files. The application's state and route table are in `crate::app`.

pub mod access;
pub mod client_ip;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod limit;
pub mod pages;
pub mod redirect;
pub mod routes;
pub mod scope;
pub mod session;

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
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

/// Methods the site answers somewhere; any other (TRACE, CONNECT, extensions) is refused on every path.
fn known_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::DELETE | Method::PATCH | Method::OPTIONS
    )
}

fn site_error(path: &str, error: AppError) -> Response {
    if extract::is_json_path(path) { error.into_response() } else { PageError(error).into_response() }
}

fn refused_method() -> AppError {
    AppError::Status {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "Địa chỉ này không nhận phương thức đó. / This address does not accept that method.".into(),
    }
}

pub(crate) async fn not_found(method: Method, uri: Uri) -> Response {
    if !known_method(&method) {
        let mut response = site_error(uri.path(), refused_method());
        // No method is allowed here (RFC 9110 §10.2.1 allows an empty list).
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(""));
        return response;
    }
    site_error(uri.path(), AppError::not_found("not_found", format!("Không có trang {} / No such page", uri.path())))
}

/// axum's own 405 (a known path, another method) has an empty body: give it the site's error
/// shape and keep its `Allow`.
pub(crate) async fn method_not_allowed(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED || response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let mut shaped = site_error(&path, refused_method());
    if let Some(allow) = response.headers().get(header::ALLOW) {
        shaped.headers_mut().insert(header::ALLOW, allow.clone());
    }
    shaped
}
