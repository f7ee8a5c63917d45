//! Registry: the administrative tree, people, households and organisations; their imports,
//! the synthetic province, and the pages and API that show the tree.

pub mod api;
pub mod generate;
pub mod import;
mod pages;
pub mod people;

use crate::web::access::Access::Public;
use crate::web::routes::Route;

/// The tree and its counts are public: they hold no personal data.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/don-vi", Public, pages::province),
        Route::get("/don-vi/{code}", Public, pages::unit),
        Route::get("/api/v1/units", Public, api::list_units),
        Route::get("/api/v1/units/{code}", Public, api::get_unit),
        Route::get("/api/v1/openapi.json", Public, api::openapi),
    ]
}
