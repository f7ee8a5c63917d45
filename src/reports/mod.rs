//! Quarterly reports (plan section VI), their approval as DHIS2 does it, the responsibility matrix
//! and the emulation rankings (plan IV.2.2). Reads the tracking counters and snapshots through
//! `tracking::api`; makes its PDF through [`crate::documents`].

pub mod access;
pub mod approval;
pub mod content;
pub mod evidence;
pub mod matrix;
pub mod pages;
pub mod ranking;
pub mod render;
pub mod tasks;

use crate::domain::role::Role::{KiemToan, QuanTriTinh};
use crate::web::access::{Access, Scope};
use crate::web::routes::Route;

pub fn routes() -> Vec<Route> {
    let reports = Access::roles(access::REPORT_ROLES, Scope::Anywhere);
    // Rankings print every commune's exact figures: the province's steering office and auditors only
    // (staff of one commune read exact figures of their own units only).
    let readers = Access::roles(&[QuanTriTinh, KiemToan], Scope::Province);
    let province = Access::roles(&[QuanTriTinh], Scope::Province);
    vec![
        Route::get("/quan-ly/bao-cao", reports, pages::list),
        Route::get("/quan-ly/bao-cao/{reporter}/{quarter}", reports, pages::show),
        Route::post("/quan-ly/bao-cao/{reporter}/{quarter}", reports, pages::act),
        Route::get("/quan-ly/bao-cao/{reporter}/{quarter}/tai/{format}", reports, pages::download),
        Route::get("/quan-ly/nhiem-vu", reports, matrix::page),
        Route::post("/quan-ly/nhiem-vu/{task}/xac-nhan", province, matrix::confirm),
        Route::post("/quan-ly/nhiem-vu/{task}/{agency}", reports, matrix::update),
        Route::upload(
            "/quan-ly/nhiem-vu/{task}/{agency}/minh-chung",
            reports,
            evidence::upload,
            evidence::LIMIT + (64 << 10),
        ),
        Route::get("/quan-ly/nhiem-vu/{task}/{agency}/minh-chung", reports, evidence::download),
        Route::get("/quan-ly/xep-hang", readers, ranking::page),
        Route::get("/quan-ly/xep-hang.csv", readers, ranking::inputs_csv),
    ]
}
