//! The 4T market program (IV.6.3): markets per commune, the small traders registered at each, and
//! the four modules per trader (small digital trader, e-commerce, cashless payment, digital savings).
//! A module is done when the trader completed a lesson tagged with it (`market_module_lesson`) or
//! when the trainer recorded it. A market's progress is the share of its traders' modules done.

use std::collections::HashSet;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::classes::{audit, commune_only, required, unit_name};
use super::classes_pass;
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::domain::time::now;
use crate::identity::audit::Entry;
use crate::tracking::counters::Bind;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::Columns;
use crate::{audit_write, bind_scope, on_pool};

pub const MARKET_STAFF: &[Role] = &[CanBoXa, ToCongNgheSo, QuanTriTinh];

pub const MODULES: [(&str, &str); 4] = [
    ("tieu_thuong_so", "Tiểu thương số"),
    ("thuong_mai_dien_tu", "Thương mại điện tử"),
    ("thanh_toan_khong_tien_mat", "Thanh toán không dùng tiền mặt"),
    ("tiet_kiem_so", "Tiết kiệm số"),
];

pub fn routes() -> Vec<Route> {
    let staff = Access::roles(MARKET_STAFF, Scope::Unit("unit"));
    vec![
        Route::get("/quan-ly/don-vi/{unit}/cho", staff, list),
        Route::post("/quan-ly/don-vi/{unit}/cho", staff, create),
        Route::get("/quan-ly/don-vi/{unit}/cho/{market}", staff, show),
        Route::post("/quan-ly/don-vi/{unit}/cho/{market}/tieu-thuong", staff, register),
        Route::post("/quan-ly/don-vi/{unit}/cho/{market}/hoc-phan", staff, record_module),
    ]
}

/// The (person, module) pairs done: recorded by a trainer, or a completed lesson tagged with the module.
const DONE: &str = "SELECT tm.person_id, tm.module FROM trader_module tm \
     UNION SELECT a.person_id, ml.module FROM market_module_lesson ml \
     JOIN progress pr ON pr.lesson_slug = ml.lesson_slug AND pr.completed_at IS NOT NULL \
     JOIN account a ON a.id = pr.account_id WHERE a.person_id IS NOT NULL";

pub struct MarketLine {
    pub id: i64,
    pub commune: String,
    pub name: String,
    pub place: String,
    pub traders: i64,
    pub done: i64,
    pub percent: i64,
}

#[derive(Template)]
#[template(path = "community/markets.html")]
struct ListPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    is_commune: bool,
    markets: Vec<MarketLine>,
}

async fn lines(state: &AppState, staff: &Staff, only: Option<i64>) -> Result<Vec<MarketLine>, AppError> {
    let scope = staff.scope.predicate(Columns { commune: Some("m.commune_code"), ..Columns::default() }, 2);
    let sql = format!(
        "SELECT m.id, m.commune_code, m.name, m.place, \
         (SELECT COUNT(*) FROM market_trader t WHERE t.market_id = m.id), \
         (SELECT COUNT(*) FROM market_trader t JOIN ({DONE}) d ON d.person_id = t.person_id WHERE t.market_id = m.id) \
         FROM market m WHERE (m.id = $1 OR $1 = 0) AND {} ORDER BY m.commune_code, m.name LIMIT 500",
        scope.sql
    );
    let rows: Vec<(i64, String, String, String, i64, i64)> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(only.unwrap_or(0)), scope).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, commune, name, place, traders, done)| MarketLine {
            id,
            commune,
            name,
            place,
            traders,
            done,
            percent: if traders > 0 { done * 100 / (traders * 4) } else { 0 },
        })
        .collect())
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let markets = lines(&state, &staff, None).await?;
    let is_commune = commune_only(&unit).is_ok();
    Ok(Html(render(&ListPage { nav: ctx.nav(), unit, unit_name, is_commune, markets })?))
}

#[derive(Deserialize)]
pub struct MarketForm {
    #[serde(default)]
    ten: String,
    #[serde(default)]
    dia_diem: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<MarketForm>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let name = required(&form.ten, "missing_name", "Tên chợ")?;
    let place = required(&form.dia_diem, "missing_place", "Địa điểm")?;
    const INSERT: &str = "INSERT INTO market (commune_code, name, place, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let binds = [Bind::Text(&commune), Bind::Text(&name), Bind::Text(&place), Bind::Text(staff.id()), Bind::Int(now())];
    let entry = super::records::created(&ctx, &staff, "market.create", &commune);
    let id = super::records::insert_audited(&state, INSERT, &binds, entry, "market").await?;
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/cho/{id}")).into_response())
}

pub struct Trader {
    pub person: i64,
    pub name: String,
    pub stall: String,
    pub done: [bool; 4],
}

#[derive(Template)]
#[template(path = "community/market.html")]
struct MarketPage {
    nav: Nav,
    unit: String,
    market: MarketLine,
    traders: Vec<Trader>,
    modules: [(&'static str, &'static str); 4],
}

async fn market_in_scope(state: &AppState, staff: &Staff, market: i64) -> Result<MarketLine, AppError> {
    lines(state, staff, Some(market))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("unknown_market", "Không có chợ này. / No such market."))
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, market)): Path<(String, i64)>,
) -> Result<Html<String>, PageError> {
    let market = market_in_scope(&state, &staff, market).await?;
    let rows: Vec<(i64, Option<String>, String)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT t.person_id, p.full_name, t.stall FROM market_trader t JOIN person p ON p.id = t.person_id \
         WHERE t.market_id = $1 ORDER BY p.full_name LIMIT 1000",
    ).bind(market.id).fetch_all(pool).await)?;
    let sql = format!(
        "SELECT d.person_id, d.module FROM ({DONE}) d WHERE d.person_id IN (SELECT person_id FROM market_trader WHERE market_id = $1)"
    );
    let done: HashSet<(i64, String)> = on_pool!(&state.store, pool =>
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(market.id).fetch_all(pool).await)?
    .into_iter()
    .collect();
    audit(
        &state,
        &ctx,
        &staff,
        "market.read",
        &market.commune,
        serde_json::json!({"market": market.id, "rows": rows.len()}),
    )
    .await?;
    let traders = rows
        .into_iter()
        .map(|(person, name, stall)| Trader {
            person,
            name: name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
            stall,
            done: MODULES.map(|(code, _)| done.contains(&(person, code.to_owned()))),
        })
        .collect();
    Ok(Html(render(&MarketPage { nav: ctx.nav(), unit, market, traders, modules: MODULES })?))
}

#[derive(Deserialize)]
pub struct TraderForm {
    #[serde(default)]
    cccd: String,
    #[serde(default)]
    quay: String,
}

pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, market)): Path<(String, i64)>,
    Form(form): Form<TraderForm>,
) -> Result<Response, PageError> {
    let market = market_in_scope(&state, &staff, market).await?;
    let trader = classes_pass::by_citizen_number(&state, &form.cccd).await?;
    classes_pass::within(&trader, &market.commune, "xã, phường của chợ")?;
    let stall: String = form.quay.trim().chars().take(100).collect();
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let inserted = sqlx::query(
            "INSERT INTO market_trader (market_id, person_id, stall, registered_by, registered_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (market_id, person_id) DO NOTHING",
        ).bind(market.id).bind(trader.id).bind(&stall).bind(staff.id()).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if inserted > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(staff.id()),
                action: "market.trader",
                person_id: Some(trader.id),
                unit_code: Some(&market.commune),
                detail: Some(serde_json::json!({"market": market.id})),
                address: ctx.address(),
            }).map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/cho/{}", market.id)).into_response())
}

#[derive(Deserialize)]
pub struct ModuleForm {
    #[serde(default)]
    nguoi: String,
    #[serde(default)]
    hoc_phan: String,
}

/// The trainer records a module done by a trader of this market.
pub async fn record_module(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, market)): Path<(String, i64)>,
    Form(form): Form<ModuleForm>,
) -> Result<Response, PageError> {
    let market = market_in_scope(&state, &staff, market).await?;
    let module = MODULES
        .iter()
        .find(|(c, _)| *c == form.hoc_phan.trim())
        .map(|(c, _)| *c)
        .ok_or_else(|| AppError::bad_request("invalid_module", "Hãy chọn một trong bốn học phần 4T."))?;
    let person: i64 =
        form.nguoi.trim().parse().map_err(|_| AppError::bad_request("invalid_trader", "Hãy chọn tiểu thương."))?;
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let registered: Option<i64> = sqlx::query_scalar("SELECT person_id FROM market_trader WHERE market_id = $1 AND person_id = $2")
            .bind(market.id).bind(person).fetch_optional(&mut *tx).await.map_err(AppError::from)?;
        if registered.is_none() {
            return Err(AppError::not_found("unknown_trader", "Người này chưa đăng ký ở chợ này.").into());
        }
        let inserted = sqlx::query(
            "INSERT INTO trader_module (person_id, module, recorded_by, recorded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person_id, module) DO NOTHING",
        ).bind(person).bind(module).bind(staff.id()).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if inserted > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(staff.id()),
                action: "market.module",
                person_id: Some(person),
                unit_code: Some(&market.commune),
                detail: Some(serde_json::json!({"market": market.id, "module": module})),
                address: ctx.address(),
            }).map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/cho/{}", market.id)).into_response())
}
