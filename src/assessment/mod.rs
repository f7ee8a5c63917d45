//! Assessment: the question bank, exams per pass profile, sittings with server-owned time,
//! answers saved as they are given, and grading against the framework's pass profiles.

pub mod bank;
pub mod editor;
pub mod exam;
pub mod item;
pub mod pages;
pub mod sitting;
pub mod view;

use crate::domain::role::Role;
use crate::learning::EDITORS;
use crate::web::access::Access::SignedIn;
use crate::web::access::{Access, Scope};
use crate::web::routes::Route;

const EDIT: Access = Access::roles(EDITORS, Scope::Anywhere);
const ADMIN: Access = Access::roles(&[Role::QuanTriTinh], Scope::Province);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/kiem-tra", SignedIn, pages::home),
        Route::post("/kiem-tra/{group}/bat-dau", SignedIn, pages::start),
        Route::get("/kiem-tra/bai/{id}", SignedIn, pages::question),
        Route::post("/kiem-tra/bai/{id}/cau/{number}", SignedIn, pages::answer),
        Route::get("/kiem-tra/bai/{id}/nop", SignedIn, pages::review),
        Route::post("/kiem-tra/bai/{id}/nop", SignedIn, pages::submit),
        Route::get("/kiem-tra/ket-qua/{id}", SignedIn, pages::result),
        Route::get("/bien-tap/cau-hoi", EDIT, editor::list),
        Route::get("/bien-tap/cau-hoi/moi", EDIT, editor::new_item),
        Route::post("/bien-tap/cau-hoi", EDIT, editor::save),
        Route::get("/bien-tap/cau-hoi/{id}", EDIT, editor::edit),
        Route::post("/bien-tap/cau-hoi/{id}/an", EDIT, editor::toggle),
        Route::get("/quan-tri/bai-kiem-tra", ADMIN, editor::exams),
        Route::post("/quan-tri/bai-kiem-tra/{group}", ADMIN, editor::update_exam),
    ]
}
