//! The application: the state every handler shares, the route table of every capability, and the
//! router with the site-wide layers. It sits above the capabilities; `web` holds only shared pieces.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::crypto::Keys;
use crate::store::Store;
use crate::web::error::AppError;
use crate::web::routes::Route;
use crate::web::{BODY_LIMIT, REQUEST_TIMEOUT, limit, not_found};

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
    /// The assistant's index, rebuilt with the catalog's change counter (issue 23).
    pub assistant: Arc<crate::assistant::engine::Assistant>,
    pub records: crate::learning::records::Writer,
    pub items: Arc<crate::assessment::bank::Cache>,
    pub papers: Arc<crate::assessment::sitting::Papers>,
    pub answers: crate::assessment::sitting::Answers,
    pub finishes: crate::assessment::sitting::Finishes,
    pub frameworks: Arc<crate::learning::framework::Versions>,
    pub signers: Arc<crate::certificates::keys::Signers>,
    pub public_limit: Arc<limit::PublicLimit>,
    pub login_limit: Arc<limit::LoginLimit>,
    /// The public figures of the last minute, by year (`portal::stats`).
    pub public_stats: Arc<crate::portal::stats::Cache>,
    /// The rest of the home page (the registry's totals, the latest news), kept as long (`portal::pages`).
    pub front: Arc<crate::portal::Front>,
    /// The one writer of door-to-door visits (group commit), issue 22.
    pub visits: crate::community::visits::Writer,
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
        let login_limit = limit::LoginLimit::start();
        let visits = crate::community::visits::start(store.clone());
        Ok(Self(Arc::new(Shared {
            store,
            config: Arc::new(config),
            keys,
            vneid,
            media,
            catalog,
            assistant: Arc::default(),
            records,
            items: Arc::default(),
            papers: Arc::default(),
            answers,
            finishes,
            frameworks: Arc::default(),
            signers: Arc::default(),
            public_limit,
            login_limit,
            public_stats: Arc::new(crate::portal::stats::cache()),
            front: Arc::new(crate::portal::front()),
            visits,
        })))
    }
}

/// Every route of the platform, capability by capability.
pub fn table() -> Vec<Route> {
    [
        crate::web::routes(),
        crate::registry::routes(),
        crate::identity::routes(),
        crate::registry::people::routes(),
        crate::learning::routes(),
        crate::assessment::routes(),
        crate::certificates::routes(),
        crate::tracking::routes(),
        // Issue 21: quarterly reports and their approval, the responsibility matrix, rankings.
        crate::reports::routes(),
        crate::portal::routes(),
        // Issue 23: the learning assistant.
        crate::assistant::routes(),
        // Community models, part A (issue 22): teams, visits, ambassadors, one-stop desk.
        crate::community::routes(),
        // Issue 22, part B: classes, events, digital families, 4T markets, volunteers.
        crate::community::classes_routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub fn router(state: AppState) -> Router {
    let hsts = (state.config.public_url.scheme() == "https").then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    crate::web::routes::build(&state, table())
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::web::method_not_allowed))
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
