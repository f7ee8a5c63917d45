//! hocvuso: the platform of the "Bình dân học vụ số" movement for a province.

pub mod app;
pub mod assessment;
pub mod certificates;
pub mod commands;
pub mod community;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod identity;
pub mod learning;
pub mod portal;
pub mod registry;
pub mod store;
pub mod telemetry;
pub mod tracking;
pub mod web;

pub use app::AppState;

/// The whole HTTP application.
pub fn app(state: AppState) -> axum::Router {
    app::router(state)
}
