//! Identity and access: VNeID login (OpenID Connect), local accounts, sessions, roles scoped to the
//! administrative tree, the audit log, and a person's rights over their data.

pub mod accounts;
pub mod audit;
mod local;
pub mod oidc;
pub mod password;
mod privacy;
mod staff;
pub mod throttle;

use crate::domain::role::Role::{self, *};
use crate::web::access::Access::{Public, SignedIn, SignedInSetup};
use crate::web::access::{Access, Scope};

use crate::web::routes::Route;

/// Staff who handle a commune's people and requests.
pub const COMMUNE_STAFF: &[Role] = &[CanBoXa, HoTroMotCua, QuanTriTinh];
pub const ERASURE_DECIDERS: &[Role] = &[CanBoXa, QuanTriTinh];
const STAFF: &[Role] = &[DaiSuSo, ToCongNgheSo, HoTroMotCua, CanBoXa, CanBoNganh, QuanTriTinh, BienTap, KiemToan];

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/dang-nhap", Public, local::login_form),
        Route::post("/dang-nhap", Public, local::login),
        Route::get("/dang-nhap/vneid", Public, oidc::start),
        Route::get("/dang-nhap/vneid/callback", Public, oidc::callback),
        Route::post("/dang-xuat", SignedInSetup, local::logout),
        Route::post("/dang-xuat/moi-noi", SignedInSetup, local::logout_everywhere),
        Route::get("/chinh-sach-rieng-tu", Public, privacy::notice),
        Route::get("/dong-y", SignedInSetup, privacy::consent_form),
        Route::post("/dong-y", SignedInSetup, privacy::consent),
        Route::get("/tai-khoan", SignedIn, local::account_page),
        Route::get("/tai-khoan/mat-khau", SignedInSetup, local::password_form),
        Route::post("/tai-khoan/mat-khau", SignedInSetup, local::change_password),
        Route::get("/tai-khoan/noi-o", SignedIn, privacy::home_form),
        Route::post("/tai-khoan/noi-o", SignedIn, privacy::set_home),
        Route::get("/tai-khoan/du-lieu", SignedIn, privacy::my_data),
        Route::get("/tai-khoan/du-lieu.json", SignedIn, privacy::download),
        Route::post("/tai-khoan/xoa-du-lieu", SignedIn, privacy::request_erasure),
        Route::get("/quan-ly", Access::roles(STAFF, Scope::Anywhere), staff::home),
        Route::get("/quan-ly/xoa-du-lieu", Access::roles(ERASURE_DECIDERS, Scope::Anywhere), staff::erasure_queue),
        Route::post(
            "/quan-ly/xoa-du-lieu/{request}/duyet",
            Access::roles(ERASURE_DECIDERS, Scope::ErasureRequest("request")),
            staff::approve_erasure,
        ),
        Route::post(
            "/quan-ly/xoa-du-lieu/{request}/tu-choi",
            Access::roles(ERASURE_DECIDERS, Scope::ErasureRequest("request")),
            staff::reject_erasure,
        ),
        Route::get("/quan-ly/tu-dang-ky", Access::roles(COMMUNE_STAFF, Scope::Anywhere), staff::self_registered),
        Route::post(
            "/quan-ly/tai-khoan/{account}/xac-nhan",
            Access::roles(COMMUNE_STAFF, Scope::Account("account")),
            staff::confirm_account,
        ),
        Route::get("/quan-ly/tai-khoan", Access::roles(&[QuanTriTinh], Scope::Province), staff::find_account),
        Route::post(
            "/quan-ly/tai-khoan/{account}/mat-khau",
            Access::roles(&[QuanTriTinh], Scope::Account("account")),
            staff::reset_password,
        ),
        Route::get("/kiem-toan", Access::roles(&[KiemToan], Scope::Anywhere), staff::audit_search),
    ]
}
