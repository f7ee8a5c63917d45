//! Registry: the administrative tree, people, households and organisations; their imports,
//! the synthetic province, and the pages and API that show the tree.

pub mod api;
pub mod generate;
pub mod import;
mod pages;

use axum::Router;
use axum::routing::get;

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/don-vi", get(pages::province))
        .route("/don-vi/{code}", get(pages::unit))
        .route("/api/v1/units", get(api::list_units))
        .route("/api/v1/units/{code}", get(api::get_unit))
        .route("/api/v1/openapi.json", get(api::openapi))
}
