//! Community models of the plan (IV.5.4, IV.6): community tech teams and their door-to-door visits
//! (`teams`, `visits`, `visits_pages`), digital ambassadors (`ambassadors`), one-stop support staff
//! (`onestop`); and what these records hold about a person, for the person's data rights (`rights`).

pub mod ambassadors;
pub mod onestop;
pub mod rights;
pub mod teams;
pub mod visits;
pub mod visits_pages;

use crate::web::routes::Route;

pub fn routes() -> Vec<Route> {
    [teams::routes(), visits_pages::routes(), ambassadors::routes(), onestop::routes()].into_iter().flatten().collect()
}
