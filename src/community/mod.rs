//! Community models (section IV.6 of the plan).

// Issue 22, part B: weekly classes, events, digital families, the 4T markets, volunteers.
pub mod classes;
pub mod classes_attendance;
pub mod classes_data;
pub mod classes_hub;
pub mod classes_pass;
pub mod classes_rules;
pub mod events;
pub mod families;
pub mod markets;
pub mod volunteers;
pub mod volunteers_recognition;

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
