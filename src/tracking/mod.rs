//! Movement tracking: the plan's indicators per unit and year, always current.
//!
//! How other modules use it:
//! - a write path that changes a person's facts reads them first with [`counters::before`], makes its
//!   change, then calls [`counters::settle`] in the same transaction: the counters of the person's
//!   village, commune and province move by the difference ([`facts`] names the facts and their sources);
//! - a roster import recounts the communes it touched with [`rebuild::COMMUNE`] at its end;
//! - dashboards, reports and public statistics read [`api::figures`] and [`api::children_figures`]:
//!   counters only, never person rows;
//! - `hocvuso tracking rebuild` ([`rebuild::all`]) recomputes every counter from the person rows.

pub mod agencies;
pub mod api;
pub mod counters;
pub mod dashboard;
pub mod entry;
pub mod export;
pub mod facts;
pub mod rebuild;
pub mod snapshot;
pub mod visit;

pub use api::{Figure, UnitFigures, children_figures, figures};
pub use facts::Conn;

pub fn routes() -> Vec<crate::web::routes::Route> {
    [api::routes(), entry::routes(), dashboard::routes(), agencies::routes(), visit::routes()]
        .into_iter()
        .flatten()
        .collect()
}
