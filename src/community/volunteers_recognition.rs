//! Recognition (IV.2.2): a commune nominates an outstanding person (by citizen number: the name stays
//! on the person row) or collective, with the achievement and its evidence; the province approves or
//! refuses each nomination once.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::classes::{commune_only, unit_name};
use super::classes_pass;
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::domain::time::{date_vi, now};
use crate::identity::audit::Entry;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::{Columns, UnitScope};
use crate::{audit_write, bind_scope, on_pool};

pub const NOMINATORS: &[Role] = &[CanBoXa, QuanTriTinh];

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/don-vi/{unit}/khen-thuong", Access::roles(NOMINATORS, Scope::Unit("unit")), list),
        Route::post("/quan-ly/don-vi/{unit}/khen-thuong", Access::roles(NOMINATORS, Scope::Unit("unit")), nominate),
        Route::get("/quan-ly/khen-thuong", Access::roles(&[QuanTriTinh], Scope::Province), province),
        Route::post("/quan-ly/khen-thuong/{nomination}", Access::roles(&[QuanTriTinh], Scope::Province), decide),
    ]
}

pub struct Nomination {
    pub id: i64,
    pub commune: String,
    pub kind: &'static str,
    pub nominee: String,
    pub achievement: String,
    pub evidence: String,
    pub status: &'static str,
    pub pending: bool,
    pub proposed_on: String,
}

fn status_label(code: &str) -> &'static str {
    match code {
        "da_duyet" => "Đã duyệt",
        "tu_choi" => "Không duyệt",
        _ => "Chờ tỉnh duyệt",
    }
}

type Row = (i64, String, String, Option<String>, Option<String>, String, String, String, i64);

async fn nominations(state: &AppState, scope: &UnitScope) -> Result<Vec<Nomination>, AppError> {
    let pred = scope.predicate(Columns { commune: Some("n.commune_code"), ..Columns::default() }, 1);
    let sql = format!(
        "SELECT n.id, n.commune_code, n.kind, p.full_name, n.collective, n.achievement, n.evidence, n.status, n.proposed_at \
         FROM nomination n LEFT JOIN person p ON p.id = n.person_id WHERE {} ORDER BY n.proposed_at DESC LIMIT 500",
        pred.sql
    );
    let rows: Vec<Row> = on_pool!(&state.store, pool => bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), pred).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, commune, kind, person, collective, achievement, evidence, status, at)| Nomination {
            id,
            commune,
            kind: if kind == "ca_nhan" { "Cá nhân" } else { "Tập thể" },
            nominee: collective.or(person).unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
            achievement,
            evidence,
            pending: status == "cho_duyet",
            status: status_label(&status),
            proposed_on: date_vi(at),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "community/nominations.html")]
struct ListPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    is_commune: bool,
    province: bool,
    nominations: Vec<Nomination>,
}

async fn read_audit(state: &AppState, ctx: &Ctx, staff: &Staff, unit: &str, rows: usize) -> Result<(), AppError> {
    super::classes::audit(state, ctx, staff, "volunteer.read", unit, serde_json::json!({"nominations": rows})).await
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let nominations = nominations(&state, &staff.scope).await?;
    read_audit(&state, &ctx, &staff, &unit, nominations.len()).await?;
    let is_commune = commune_only(&unit).is_ok();
    Ok(Html(render(&ListPage { nav: ctx.nav(), unit, unit_name, is_commune, province: false, nominations })?))
}

pub async fn province(State(state): State<AppState>, ctx: Ctx, staff: Staff) -> Result<Html<String>, PageError> {
    let nominations = nominations(&state, &staff.scope).await?;
    read_audit(&state, &ctx, &staff, crate::domain::unit::PROVINCE_CODE, nominations.len()).await?;
    Ok(Html(render(&ListPage {
        nav: ctx.nav(),
        unit: crate::domain::unit::PROVINCE_CODE.into(),
        unit_name: "Toàn tỉnh".into(),
        is_commune: false,
        province: true,
        nominations,
    })?))
}

#[derive(Deserialize)]
pub struct NominationForm {
    #[serde(default)]
    loai: String,
    #[serde(default)]
    cccd: String,
    #[serde(default)]
    tap_the: String,
    #[serde(default)]
    thanh_tich: String,
    #[serde(default)]
    minh_chung: String,
}

fn text(raw: &str, code: &'static str, label: &str, max: usize) -> Result<String, AppError> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(AppError::bad_request(code, format!("Hãy điền “{label}” (tối đa {max} ký tự).")));
    }
    Ok(value.to_owned())
}

pub async fn nominate(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<NominationForm>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let achievement = text(&form.thanh_tich, "missing_achievement", "Thành tích", 2000)?;
    let evidence = text(&form.minh_chung, "missing_evidence", "Minh chứng", 2000)?;
    let (kind, person, collective) = match form.loai.trim() {
        "ca_nhan" => {
            let person = classes_pass::by_citizen_number(&state, &form.cccd).await?;
            classes_pass::within(&person, &commune, "xã, phường này")?;
            ("ca_nhan", Some(person.id), None)
        }
        "tap_the" => ("tap_the", None, Some(text(&form.tap_the, "missing_collective", "Tên tập thể", 300)?)),
        _ => return Err(AppError::bad_request("invalid_kind", "Hãy chọn cá nhân hoặc tập thể.").into()),
    };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO nomination (commune_code, kind, person_id, collective, achievement, evidence, proposed_by, proposed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        ).bind(&commune).bind(kind).bind(person).bind(&collective).bind(&achievement).bind(&evidence).bind(staff.id()).bind(now())
        .fetch_one(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "nomination.create",
            person_id: person,
            unit_code: Some(&commune),
            detail: Some(serde_json::json!({"nomination": id, "kind": kind})),
            address: ctx.address(),
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/khen-thuong")).into_response())
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    quyet_dinh: String,
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(nomination): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let status = match form.quyet_dinh.trim() {
        "duyet" => "da_duyet",
        "tu_choi" => "tu_choi",
        _ => return Err(AppError::bad_request("invalid_decision", "Hãy chọn duyệt hoặc không duyệt.").into()),
    };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let decided: Option<(String, Option<i64>)> = sqlx::query_as(
            "UPDATE nomination SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND status = 'cho_duyet' \
             RETURNING commune_code, person_id",
        ).bind(status).bind(staff.id()).bind(now()).bind(nomination).fetch_optional(&mut *tx).await.map_err(AppError::from)?;
        let Some((commune, person)) = decided else {
            return Err(AppError::Conflict { code: "already_decided", message: "Đề nghị này không còn chờ duyệt.".into() }.into());
        };
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "nomination.decide",
            person_id: person,
            unit_code: Some(&commune),
            detail: Some(serde_json::json!({"nomination": nomination, "status": status})),
            address: ctx.address(),
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/quan-ly/khen-thuong").into_response())
}
