//! The youth campaign and volunteers (IV.6.6): volunteers of the Youth Union and other organisations,
//! registered by citizen number (their name stays on the person row), and what they did: hours,
//! classes taught, households helped. Recognition is in `volunteers_recognition`.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::classes::{audit, commune_only, parse_day, unit_name};
use super::classes_pass;
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::domain::time::{now, today};
use crate::identity::audit::Entry;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::Columns;
use crate::{audit_write, bind_scope, on_pool};

pub const VOLUNTEER_STAFF: &[Role] = &[CanBoXa, QuanTriTinh];

pub const ORGANISATIONS: &[(&str, &str)] = &[
    ("doan_thanh_nien", "Đoàn Thanh niên"),
    ("hoi_phu_nu", "Hội Liên hiệp Phụ nữ"),
    ("hoi_nong_dan", "Hội Nông dân"),
    ("hoi_cuu_chien_binh", "Hội Cựu chiến binh"),
    ("khac", "Tổ chức khác"),
];

pub fn routes() -> Vec<Route> {
    let staff = Access::roles(VOLUNTEER_STAFF, Scope::Unit("unit"));
    vec![
        Route::get("/quan-ly/don-vi/{unit}/tinh-nguyen", staff, list),
        Route::post("/quan-ly/don-vi/{unit}/tinh-nguyen", staff, add),
        Route::post("/quan-ly/don-vi/{unit}/tinh-nguyen/hoat-dong", staff, activity),
    ]
}

pub struct VolunteerLine {
    pub id: i64,
    pub name: String,
    pub organisation: &'static str,
    pub hours: String,
    pub classes: i64,
    pub households: i64,
}

#[derive(Template)]
#[template(path = "community/volunteers.html")]
struct ListPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    is_commune: bool,
    volunteers: Vec<VolunteerLine>,
    organisations: &'static [(&'static str, &'static str)],
    today: String,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let scope = staff.scope.predicate(Columns { commune: Some("v.commune_code"), ..Columns::default() }, 1);
    let sql = format!(
        "SELECT v.id, p.full_name, v.organisation, \
         CAST(COALESCE(SUM(a.minutes), 0) AS BIGINT), CAST(COALESCE(SUM(a.classes_taught), 0) AS BIGINT), \
         CAST(COALESCE(SUM(a.households_helped), 0) AS BIGINT) \
         FROM volunteer v JOIN person p ON p.id = v.person_id LEFT JOIN volunteer_activity a ON a.volunteer_id = v.id \
         WHERE {} GROUP BY v.id, p.full_name, v.organisation ORDER BY p.full_name LIMIT 1000",
        scope.sql
    );
    let rows: Vec<(i64, Option<String>, String, i64, i64, i64)> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope).fetch_all(pool).await)?;
    audit(&state, &ctx, &staff, "volunteer.read", &unit, serde_json::json!({"rows": rows.len()})).await?;
    let volunteers = rows
        .into_iter()
        .map(|(id, name, org, minutes, classes, households)| VolunteerLine {
            id,
            name: name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
            organisation: ORGANISATIONS.iter().find(|(c, _)| *c == org).map_or("", |(_, l)| l),
            hours: format!("{},{}", minutes / 60, (minutes % 60) * 10 / 60),
            classes,
            households,
        })
        .collect();
    let is_commune = commune_only(&unit).is_ok();
    Ok(Html(render(&ListPage {
        nav: ctx.nav(),
        unit,
        unit_name,
        is_commune,
        volunteers,
        organisations: ORGANISATIONS,
        today: today().to_string(),
    })?))
}

#[derive(Deserialize)]
pub struct VolunteerForm {
    #[serde(default)]
    cccd: String,
    #[serde(default)]
    to_chuc: String,
}

pub async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<VolunteerForm>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let organisation = ORGANISATIONS
        .iter()
        .find(|(c, _)| *c == form.to_chuc.trim())
        .map(|(c, _)| *c)
        .ok_or_else(|| AppError::bad_request("invalid_organisation", "Hãy chọn tổ chức."))?;
    let person = classes_pass::by_citizen_number(&state, &form.cccd).await?;
    classes_pass::within(&person, &commune, "xã, phường này")?;
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let inserted = sqlx::query(
            "INSERT INTO volunteer (person_id, commune_code, organisation, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (person_id, commune_code) DO NOTHING",
        ).bind(person.id).bind(&commune).bind(organisation).bind(staff.id()).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if inserted > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(staff.id()),
                action: "volunteer.create",
                person_id: Some(person.id),
                unit_code: Some(&commune),
                detail: Some(serde_json::json!({"organisation": organisation})),
                address: ctx.address(),
            }).map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/tinh-nguyen")).into_response())
}

#[derive(Deserialize)]
pub struct ActivityForm {
    #[serde(default)]
    tinh_nguyen_vien: String,
    #[serde(default)]
    ngay: String,
    #[serde(default)]
    so_gio: String,
    #[serde(default)]
    so_lop: String,
    #[serde(default)]
    so_ho: String,
}

fn count(raw: &str, code: &'static str, label: &str) -> Result<i64, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(0);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|n| (0..=1000).contains(n))
        .ok_or_else(|| AppError::bad_request(code, format!("{label}: một số từ 0 đến 1000.")))
}

pub async fn activity(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<ActivityForm>,
) -> Result<Response, PageError> {
    let volunteer: i64 = form
        .tinh_nguyen_vien
        .trim()
        .parse()
        .map_err(|_| AppError::bad_request("invalid_volunteer", "Hãy chọn tình nguyện viên."))?;
    let day = parse_day(&form.ngay)?;
    let hours: f64 = form
        .so_gio
        .trim()
        .replace(',', ".")
        .parse()
        .ok()
        .filter(|h: &f64| *h > 0.0 && *h <= 24.0)
        .ok_or_else(|| AppError::bad_request("invalid_hours", "Số giờ: lớn hơn 0, không quá 24."))?;
    let minutes = (hours * 60.0).round() as i64;
    let classes = count(&form.so_lop, "invalid_classes", "Số lớp đã dạy")?;
    let households = count(&form.so_ho, "invalid_households", "Số hộ đã giúp")?;
    let scope = staff.scope.predicate(Columns { commune: Some("commune_code"), ..Columns::default() }, 2);
    let sql = format!("SELECT commune_code, person_id FROM volunteer WHERE id = $1 AND {}", scope.sql);
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let found: Option<(String, i64)> = bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(volunteer), scope)
            .fetch_optional(&mut *tx).await.map_err(AppError::from)?;
        let (commune, person) = found.ok_or_else(|| AppError::not_found("unknown_volunteer", "Không có tình nguyện viên này."))?;
        sqlx::query(
            "INSERT INTO volunteer_activity (volunteer_id, done_on, minutes, classes_taught, households_helped, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ).bind(volunteer).bind(day.to_string()).bind(minutes).bind(classes).bind(households).bind(staff.id()).bind(now())
        .execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "volunteer.activity",
            person_id: Some(person),
            unit_code: Some(&commune),
            detail: Some(serde_json::json!({"minutes": minutes, "classes": classes, "households": households})),
            address: ctx.address(),
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/tinh-nguyen")).into_response())
}
