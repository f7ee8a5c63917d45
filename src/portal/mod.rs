//! Public portal: the province's progress on the home page, the public statistics per commune and village
//! (`/thong-ke`), and the same figures as open data (CSV, JSON). Every figure comes from [`stats::published`],
//! one disclosure-controlled table per year for the whole province.

pub mod open_data;
mod pages;
pub mod stats;

pub use pages::{Front, front, news_changed};

use crate::web::access::Access::Public;
use crate::web::routes::Route;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/", Public, pages::home),
        Route::get("/thong-ke", Public, pages::statistics),
        Route::get("/thong-ke/du-lieu-mo.csv", Public, open_data::csv),
        Route::get("/thong-ke/du-lieu-mo.json", Public, open_data::json),
        Route::get("/thong-ke/{commune}", Public, pages::commune),
    ]
}
