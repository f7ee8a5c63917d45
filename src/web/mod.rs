//! Shared HTTP pieces: state, middleware, errors, static files, layout.

pub mod error;
pub mod extract;
pub mod limit;
pub mod pages;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::crypto::Keys;
use crate::identity::access::Access::Public;
use crate::store::Store;
use error::{AppError, PageError};
use routes::Route;

/// What every handler shares. One `Arc`: every request clones the state, and one reference count
/// is cheaper than one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub store: Store,
    pub config: Arc<Config>,
    pub keys: Arc<Keys>,
    pub vneid: Option<Arc<crate::identity::oidc::Vneid>>,
    pub media: crate::learning::media::Media,
    pub catalog: Arc<crate::learning::catalog::Catalog>,
    pub records: crate::learning::records::Writer,
    pub items: Arc<crate::assessment::bank::Cache>,
    pub papers: Arc<crate::assessment::sitting::Papers>,
    pub answers: crate::assessment::sitting::Answers,
    pub finishes: crate::assessment::sitting::Finishes,
    pub frameworks: Arc<crate::learning::framework::Versions>,
    pub signers: Arc<crate::certificates::keys::Signers>,
    pub public_limit: Arc<limit::PublicLimit>,
}

impl AppState {
    /// Needs the data key: the keys of sessions, CSRF and citizen numbers all derive from it.
    /// Loads the content catalog and starts the learning-record writer.
    pub async fn new(store: Store, config: Config) -> anyhow::Result<Self> {
        let keys = Arc::new(Keys::new(&config.require_data_key()?));
        let vneid = config.oidc.clone().map(crate::identity::oidc::Vneid::new).transpose()?.map(Arc::new);
        let media = crate::learning::media::Media::open(&config.media_url)?;
        let catalog = Arc::new(crate::learning::catalog::Catalog::new());
        let records = crate::learning::records::start(store.clone());
        let answers = crate::assessment::sitting::start_answers(store.clone());
        let finishes = crate::assessment::sitting::start_finishes(store.clone());
        let public_limit = limit::PublicLimit::start(config.public_lookups_per_minute);
        Ok(Self(Arc::new(Shared {
            store,
            config: Arc::new(config),
            keys,
            vneid,
            media,
            catalog,
            records,
            items: Arc::default(),
            papers: Arc::default(),
            answers,
            finishes,
            frameworks: Arc::default(),
            signers: Arc::default(),
            public_limit,
        })))
    }
}

/// Largest request body accepted; uploads get their own, larger limit on their own routes.
pub const BODY_LIMIT: usize = 1 << 20;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
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
    use crate::identity::cookies;
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
        .layer(axum::middleware::from_fn(method_not_allowed))
        .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
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

async fn not_found(method: Method, uri: Uri) -> Response {
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
async fn method_not_allowed(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
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
