//! Learning: the competence framework, programs → courses → modules → lessons in several formats,
//! media, synthesised speech, progress as xAPI statements in the platform's own record store,
//! search, the learner's pages, the editor's pages and the movement's news.

pub mod audio;
pub mod catalog;
pub mod content;
pub mod editor;
pub mod framework;
pub mod import;
pub mod lesson;
pub mod media;
pub mod news;
pub mod pages;
pub mod progress;
pub mod records;
pub mod search;
pub mod svg;
pub mod xapi;

use crate::domain::role::Role;
use crate::web::access::Access::{Public, SignedIn};
use crate::web::access::{Access, Scope};
use crate::web::routes::Route;

/// Who writes and publishes content.
pub const EDITORS: &[Role] = &[Role::BienTap, Role::QuanTriTinh];
const EDIT: Access = Access::roles(EDITORS, Scope::Anywhere);
const ADMIN: Access = Access::roles(&[Role::QuanTriTinh], Scope::Province);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/hoc", Public, pages::home),
        Route::get("/chuong-trinh/{code}", Public, pages::program),
        Route::get("/khoa-hoc/{code}", Public, pages::course),
        Route::get("/bai-hoc/{slug}", Public, pages::lesson),
        Route::post("/bai-hoc/{slug}/tien-do", SignedIn, progress::step),
        Route::post("/bai-hoc/{slug}/tra-loi", SignedIn, progress::answer),
        Route::get("/tim-kiem", Public, pages::search),
        Route::get("/khung-nang-luc", Public, pages::framework),
        Route::get("/tin-tuc", Public, news::list),
        Route::get("/tin-tuc/{id}", Public, news::item),
        Route::get("/media/{key}", Public, media::serve),
        // The learning record store, xAPI 1.0.3 (issue 24). GET routes answer HEAD too.
        Route::get("/xapi/statements", xapi::CLIENT, xapi::get),
        Route::upload("/xapi/statements", xapi::CLIENT, xapi::post, xapi::STATEMENTS_LIMIT),
        Route::put("/xapi/statements", xapi::CLIENT, xapi::put),
        Route::get("/xapi/about", Public, xapi::resources::about),
        Route::get("/xapi/agents", xapi::CLIENT, xapi::resources::agents),
        Route::get("/xapi/activities", xapi::CLIENT, xapi::resources::activities),
        Route::post("/xapi/agents", xapi::CLIENT, xapi::resources::agents_alternate),
        Route::post("/xapi/activities", xapi::CLIENT, xapi::resources::activities_alternate),
        Route::get("/xapi/activities/state", xapi::CLIENT, xapi::resources::documents),
        Route::put("/xapi/activities/state", xapi::CLIENT, xapi::resources::documents),
        Route::post("/xapi/activities/state", xapi::CLIENT, xapi::resources::documents),
        Route::delete("/xapi/activities/state", xapi::CLIENT, xapi::resources::documents),
        Route::get("/xapi/activities/profile", xapi::CLIENT, xapi::resources::documents),
        Route::put("/xapi/activities/profile", xapi::CLIENT, xapi::resources::documents),
        Route::post("/xapi/activities/profile", xapi::CLIENT, xapi::resources::documents),
        Route::delete("/xapi/activities/profile", xapi::CLIENT, xapi::resources::documents),
        Route::get("/xapi/agents/profile", xapi::CLIENT, xapi::resources::documents),
        Route::put("/xapi/agents/profile", xapi::CLIENT, xapi::resources::documents),
        Route::post("/xapi/agents/profile", xapi::CLIENT, xapi::resources::documents),
        Route::delete("/xapi/agents/profile", xapi::CLIENT, xapi::resources::documents),
        Route::get("/bien-tap", EDIT, editor::home),
        Route::get("/bien-tap/bai-hoc/moi", EDIT, editor::new_lesson),
        Route::post("/bien-tap/bai-hoc", EDIT, editor::save),
        Route::get("/bien-tap/bai-hoc/{slug}", EDIT, editor::edit),
        Route::post("/bien-tap/bai-hoc/{slug}/an", EDIT, editor::unpublish),
        Route::upload("/bien-tap/bai-hoc/{slug}/ghi-am", EDIT, editor::recording, media::Kind::Audio.limit()),
        Route::upload("/bien-tap/tep", EDIT, editor::upload, media::UPLOAD_LIMIT),
        Route::get("/bien-tap/tin-tuc/moi", EDIT, news::form),
        Route::post("/bien-tap/tin-tuc", EDIT, news::create),
        Route::post("/bien-tap/tin-tuc/{id}/dang", EDIT, news::publish),
        Route::post("/bien-tap/tin-tuc/{id}/an", EDIT, news::withdraw),
        Route::get("/quan-tri/khung-nang-luc", ADMIN, editor::framework_form),
        Route::post("/quan-tri/khung-nang-luc", ADMIN, editor::import_framework),
    ]
}
