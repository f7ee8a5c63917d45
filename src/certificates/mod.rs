//! Certificates: signed Open Badges 3.0 credentials, their PDF with a QR code, the public check,
//! revocation, signing-key rotation, and confirmation delivered to VNeID through an outbox.

pub mod credential;
pub mod issue;
pub mod keys;
pub mod officers;
pub mod pages;
pub mod pdf;
pub mod status;
pub mod vneid;

use crate::domain::role::Role;
use crate::web::access::Access::{Public, SignedIn};
use crate::web::access::{Access, Scope};
use crate::web::routes::Route;

const ADMIN: Access = Access::roles(&[Role::QuanTriTinh], Scope::Province);
/// Commune staff see their units' certificates; the handlers filter by their grants.
const OFFICERS: Access = Access::roles(crate::identity::COMMUNE_STAFF, Scope::Anywhere);

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/verify/{id}", Public, pages::verify_page),
        Route::get("/api/v1/certificates/{id}", Public, pages::api),
        Route::get("/api/v1/certificates/{id}/credential", Public, pages::bare_credential),
        Route::get("/api/v1/status/{list}", Public, status::list),
        Route::get("/chung-nhan/chuan/{group}", Public, pages::achievement),
        Route::get("/chung-nhan/huy-hieu.svg", Public, pages::badge),
        Route::get("/.well-known/did.json", Public, pages::did_document),
        Route::get("/chung-nhan/{id}/pdf", Public, pages::pdf),
        Route::post("/chung-nhan/{id}/chia-se", SignedIn, pages::share),
        Route::get("/quan-tri/chung-nhan", OFFICERS, officers::list),
        Route::post("/quan-tri/chung-nhan/{id}/thu-hoi", ADMIN, officers::revoke),
        Route::post("/quan-tri/chung-nhan/{id}/gui-lai", OFFICERS, officers::retry),
    ]
}
