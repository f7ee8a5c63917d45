//! Shared HTTP pieces: state, middleware, errors, static files, layout.

pub mod error;
pub mod pages;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::crypto::Keys;
use crate::identity::access::Access::Public;
use crate::store::Store;
use error::{AppError, PageError};
use routes::Route;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub keys: Arc<Keys>,
    pub vneid: Option<Arc<crate::identity::oidc::Vneid>>,
}

impl AppState {
    /// Needs the data key: the keys of sessions, CSRF and citizen numbers all derive from it.
    pub fn new(store: Store, config: Config) -> anyhow::Result<Self> {
        let keys = Arc::new(Keys::new(&config.require_data_key()?));
        let vneid = config.oidc.clone().map(crate::identity::oidc::Vneid::new).transpose()?.map(Arc::new);
        Ok(Self { store, config: Arc::new(config), keys, vneid })
    }
}

/// Largest request body accepted; uploads get their own, larger limit on their own routes.
pub const BODY_LIMIT: usize = 1 << 20;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CSS: &str = include_str!("../../static/app.css");

/// The shared routes: health and the style sheet.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/healthz", Public, healthz), Route::get("/static/app.css", Public, css)]
}

pub fn router(state: AppState) -> Router {
    let hsts = (state.config.public_url.scheme() == "https").then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    routes::build(&state)
        .fallback(not_found)
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(tower::util::option_layer(hsts))
        .layer(TraceLayer::new_for_http())
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

async fn not_found(uri: Uri) -> Response {
    let error = AppError::not_found("not_found", format!("Không có trang {} / No such page", uri.path()));
    if uri.path().starts_with("/api/") { error.into_response() } else { PageError(error).into_response() }
}
