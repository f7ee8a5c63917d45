//! The learning assistant (issue 23): answers in Vietnamese from the platform's own lessons and FAQ
//! (full text over sections, with or without diacritics, typos and everyday words), the FAQ editors
//! keep and the questions it could not answer, what each learner should learn next, and the
//! adaptive placement test.

pub mod api;
pub mod editor;
pub mod engine;
pub mod faq;
pub mod help;
pub mod index;
pub mod irt;
pub mod llm;
pub mod pages;
pub mod passages;
pub mod placement;
pub mod placement_pages;
pub mod queue;
pub mod recommend;
pub mod synonyms;
pub mod text;

use crate::learning::EDITORS;
use crate::web::access::Access::{self, Public, SignedIn};
use crate::web::access::Scope;
use crate::web::routes::Route;

const EDIT: Access = Access::roles(EDITORS, Scope::Anywhere);

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v1/assistant/ask", Public, api::ask),
        Route::get("/tro-ly", Public, pages::form),
        Route::post("/tro-ly", Public, pages::ask),
        Route::post("/tro-ly/khong-giup-duoc", Public, pages::unhelpful),
        Route::get("/xep-lop", SignedIn, placement_pages::home),
        Route::post("/xep-lop/{domain}", SignedIn, placement_pages::start),
        Route::get("/xep-lop/bai/{id}", SignedIn, placement_pages::show),
        Route::post("/xep-lop/bai/{id}", SignedIn, placement_pages::answer),
        Route::get("/bien-tap/tro-ly", EDIT, editor::home),
        Route::post("/bien-tap/tro-ly/hoi-dap", EDIT, editor::save),
        Route::post("/bien-tap/tro-ly/hoi-dap/an", EDIT, editor::hide),
        Route::post("/bien-tap/tro-ly/nhom/xong", EDIT, editor::resolve),
    ]
}
