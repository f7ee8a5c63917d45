//! Community models of the plan (IV.5.4, IV.6): community tech teams and their door-to-door visits
//! (`teams`, `visits`, `visits_pages`), digital ambassadors (`ambassadors`), one-stop support staff
//! (`onestop`); and what these records hold about a person, for the person's data rights (`rights`).

pub mod ambassadors;
pub mod onestop;
pub mod rights;
pub mod teams;
pub mod visits;
pub mod visits_pages;
mod visits_write;

// Issue 22, corrections and exports: staff correct or delete a mistaken record; lists as CSV/XLSX.
pub mod ambassadors_manage;
pub mod exports;
pub mod records;
pub mod visits_edit;

// Issue 22, part B: weekly classes, events, digital families, the 4T markets, volunteers.
pub mod classes;
pub mod classes_attendance;
pub mod classes_corrections;
pub mod classes_data;
pub mod classes_hub;
pub mod classes_pass;
pub mod classes_rules;
pub mod events;
pub mod families;
pub mod markets;
pub mod volunteers;
pub mod volunteers_recognition;

use crate::web::routes::Route;

pub fn routes() -> Vec<Route> {
    [
        teams::routes(),
        visits_pages::routes(),
        ambassadors::routes(),
        onestop::routes(),
        visits_edit::routes(),
        ambassadors_manage::routes(),
        exports::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Part B's routes (issue 22).
pub fn classes_routes() -> Vec<crate::web::routes::Route> {
    [
        classes::routes(),
        events::routes(),
        families::routes(),
        markets::routes(),
        volunteers::routes(),
        volunteers_recognition::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
