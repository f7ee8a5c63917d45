//! Weekly community classes (IV.5.4): classes per commune with their topic (lesson links), place,
//! time, teacher and audience; their sessions, week by week. Attendance is in `classes_attendance`.
//! Every list filters through the route's [`UnitScope`]; every change is audited.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::domain::role::commune_of;
use crate::domain::time::{now, today};
use crate::identity::audit::Entry;
use crate::tracking::counters::Bind;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::Columns;
use crate::{audit_write, bind_scope, on_pool};

/// Who runs classes: commune officers, community tech teams, digital ambassadors, the province.
pub const CLASS_STAFF: &[Role] = &[CanBoXa, ToCongNgheSo, DaiSuSo, QuanTriTinh];
const SCRIPT: &str = include_str!("../../static/diem-danh.js");

pub fn routes() -> Vec<Route> {
    let staff = Access::roles(CLASS_STAFF, Scope::Unit("unit"));
    vec![
        Route::get("/tai-khoan/ma-diem-danh", Access::SignedIn, super::classes_pass::page),
        Route::get("/static/diem-danh.js", Access::Public, script),
        Route::get(
            "/quan-ly/don-vi/{unit}/cong-dong",
            Access::roles(super::classes_hub::HUB_STAFF, Scope::Unit("unit")),
            super::classes_hub::hub,
        ),
        Route::get("/quan-ly/don-vi/{unit}/lop-hoc", staff, list),
        Route::post("/quan-ly/don-vi/{unit}/lop-hoc", staff, create),
        Route::get("/quan-ly/don-vi/{unit}/lop-hoc/{class}", staff, show),
        Route::post("/quan-ly/don-vi/{unit}/lop-hoc/{class}/buoi", staff, add_session),
        Route::get("/quan-ly/don-vi/{unit}/lop-hoc/{class}/buoi/{session}", staff, super::classes_attendance::page),
        Route::post("/quan-ly/don-vi/{unit}/lop-hoc/{class}/buoi/{session}", staff, super::classes_attendance::record),
        Route::post("/quan-ly/don-vi/{unit}/lop-hoc/{class}/huy", staff, super::classes_corrections::cancel),
        Route::post(
            "/quan-ly/don-vi/{unit}/lop-hoc/{class}/buoi/{session}/xoa",
            staff,
            super::classes_corrections::remove_attendance,
        ),
    ]
}

/// The camera scan: progressive enhancement of the attendance form (BarcodeDetector where the browser has it).
async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        SCRIPT,
    )
        .into_response()
}

/// The audiences a class is for.
pub const AUDIENCES: &[(&str, &str)] = &[
    ("moi_nguoi", "Mọi người"),
    ("nguoi_cao_tuoi", "Người cao tuổi"),
    ("nguoi_khuyet_tat", "Người khuyết tật"),
    ("dan_toc_thieu_so", "Đồng bào dân tộc thiểu số"),
    ("tieu_thuong", "Tiểu thương"),
];

pub fn audience_label(code: &str) -> &str {
    AUDIENCES.iter().find(|(c, _)| *c == code).map_or(code, |(_, l)| l)
}

/// The Monday of a day's ISO week: the weekly rule counts sessions by it.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

pub async fn unit_name(state: &AppState, code: &str) -> Result<String, AppError> {
    crate::store::units::get(&state.store, code).await?.map(|u| u.name).ok_or_else(AppError::hidden)
}

/// A day typed in a form: `YYYY-MM-DD` (what `<input type=date>` sends) or `DD/MM/YYYY`.
pub fn parse_day(raw: &str) -> Result<NaiveDate, AppError> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map_err(|_| AppError::bad_request("invalid_date", "Ngày không hợp lệ (ví dụ 2026-10-10). / Invalid date."))
}

/// A required short text field, trimmed.
pub fn required(raw: &str, field: &'static str, label: &str) -> Result<String, AppError> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > 300 {
        return Err(AppError::bad_request(field, format!("Hãy điền “{label}” (tối đa 300 ký tự).")));
    }
    Ok(value.to_owned())
}

/// Writes one audit entry on its own (reads; changes write theirs in their transaction).
pub async fn audit(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    action: &'static str,
    unit: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    crate::identity::audit::record(
        &state.store,
        Entry {
            account_id: Some(staff.id()),
            action,
            unit_code: Some(unit),
            detail: Some(detail),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// A commune named in the path: classes, markets and volunteers belong to communes.
pub fn commune_only(unit: &str) -> Result<&str, AppError> {
    match commune_of(unit) {
        Some(c) if c == unit => Ok(c),
        _ => Err(AppError::bad_request(
            "commune_required",
            "Chỉ tạo được ở cấp xã, phường: hãy mở trang của một xã. / Only a commune can hold this.",
        )),
    }
}

pub struct ClassLine {
    pub id: i64,
    pub cancelled: bool,
    pub commune: String,
    pub title: String,
    pub audience: &'static str,
    pub schedule: String,
    pub place: String,
    pub teacher: String,
    pub this_week: i64,
}

#[derive(Template)]
#[template(path = "community/classes.html")]
struct ListPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    is_commune: bool,
    classes: Vec<ClassLine>,
    week: String,
    sessions_this_week: i64,
    audiences: &'static [(&'static str, &'static str)],
}

type ClassRow = (i64, String, String, String, String, String, String, i64, Option<i64>);

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let week = week_of(today()).to_string();
    let scope = staff.scope.predicate(Columns { commune: Some("c.commune_code"), ..Columns::default() }, 2);
    let sql = format!(
        "SELECT c.id, c.commune_code, c.title, c.audience, c.schedule, c.place, c.teacher, \
         (SELECT COUNT(*) FROM class_session s WHERE s.class_id = c.id AND s.week_of = $1), c.cancelled_at \
         FROM community_class c WHERE {} ORDER BY c.commune_code, c.title LIMIT 500",
        scope.sql
    );
    let rows: Vec<ClassRow> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&week), scope).fetch_all(pool).await)?;
    let classes: Vec<ClassLine> = rows
        .into_iter()
        .map(|(id, commune, title, audience, schedule, place, teacher, this_week, cancelled)| ClassLine {
            id,
            cancelled: cancelled.is_some(),
            commune,
            title,
            audience: AUDIENCES.iter().find(|(c, _)| *c == audience).map_or("", |(_, l)| l),
            schedule,
            place,
            teacher,
            this_week,
        })
        .collect();
    let sessions_this_week = classes.iter().map(|c| c.this_week).sum();
    let is_commune = commune_only(&unit).is_ok();
    Ok(Html(render(&ListPage {
        nav: ctx.nav(),
        unit,
        unit_name,
        is_commune,
        classes,
        week,
        sessions_this_week,
        audiences: AUDIENCES,
    })?))
}

#[derive(Deserialize)]
pub struct ClassForm {
    #[serde(default)]
    ten: String,
    #[serde(default)]
    bai_hoc: String,
    #[serde(default)]
    dia_diem: String,
    #[serde(default)]
    lich: String,
    #[serde(default)]
    giang_vien: String,
    #[serde(default)]
    doi_tuong: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<ClassForm>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let title = required(&form.ten, "missing_title", "Chủ đề")?;
    let place = required(&form.dia_diem, "missing_place", "Địa điểm")?;
    let schedule = required(&form.lich, "missing_schedule", "Thời gian")?;
    let teacher = required(&form.giang_vien, "missing_teacher", "Người dạy")?;
    let audience = AUDIENCES
        .iter()
        .find(|(c, _)| *c == form.doi_tuong.trim())
        .map(|(c, _)| *c)
        .ok_or_else(|| AppError::bad_request("invalid_audience", "Hãy chọn đối tượng của lớp."))?;
    let lessons: Vec<&str> = form.bai_hoc.split([' ', ',', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if lessons.len() > 20
        || lessons.iter().any(|s| s.len() > 100 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(AppError::bad_request(
            "invalid_lessons",
            "Bài học: ghi mã bài (ví dụ cai-dat-vneid), cách nhau bởi dấu cách.",
        )
        .into());
    }
    let lessons = lessons.join(" ");
    const INSERT: &str = "INSERT INTO community_class (commune_code, title, lessons, place, schedule, teacher, \
         audience, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    let texts = [&commune, &title, &lessons, &place, &schedule, &teacher, audience, staff.id()];
    let binds: Vec<Bind> = texts.into_iter().map(Bind::Text).chain([Bind::Int(now())]).collect();
    let entry = super::records::created(&ctx, &staff, "class.create", &commune);
    let id = super::records::insert_audited(&state, INSERT, &binds, entry, "class").await?;
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/lop-hoc/{id}")).into_response())
}

pub struct Class {
    pub id: i64,
    /// Cancelled by the commune: its past sessions stay, it takes no new ones.
    pub cancelled: bool,
    pub commune: String,
    pub title: String,
    pub lessons: Vec<String>,
    pub place: String,
    pub schedule: String,
    pub teacher: String,
    pub audience: &'static str,
}

impl Class {
    /// A cancelled class takes no new session and no new attendance.
    pub fn open(&self) -> Result<(), AppError> {
        if self.cancelled {
            return Err(AppError::bad_request("class_cancelled", "Lớp học này đã bị hủy. / This class was cancelled."));
        }
        Ok(())
    }
}

type FullRow = (i64, String, String, String, String, String, String, String, Option<i64>);

/// The class of this id, if the route's scope covers its commune.
pub async fn find(state: &AppState, staff: &Staff, class: i64) -> Result<Class, AppError> {
    let scope = staff.scope.predicate(Columns { commune: Some("commune_code"), ..Columns::default() }, 2);
    let sql = format!(
        "SELECT id, commune_code, title, lessons, place, schedule, teacher, audience, cancelled_at FROM community_class \
         WHERE id = $1 AND {}",
        scope.sql
    );
    let row: Option<FullRow> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(class), scope).fetch_optional(pool).await)?;
    let (id, commune, title, lessons, place, schedule, teacher, audience, cancelled_at) =
        row.ok_or_else(|| AppError::not_found("unknown_class", "Không có lớp học này. / No such class."))?;
    Ok(Class {
        id,
        cancelled: cancelled_at.is_some(),
        commune,
        title,
        lessons: lessons.split_whitespace().map(str::to_owned).collect(),
        place,
        schedule,
        teacher,
        audience: AUDIENCES.iter().find(|(c, _)| *c == audience).map_or("", |(_, l)| l),
    })
}

#[derive(Template)]
#[template(path = "community/class.html")]
struct ClassPage {
    nav: Nav,
    unit: String,
    class: Class,
    sessions: Vec<(i64, String, i64)>,
    today: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, class)): Path<(String, i64)>,
) -> Result<Html<String>, PageError> {
    let class = find(&state, &staff, class).await?;
    let sessions: Vec<(i64, String, i64)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT s.id, s.held_on, (SELECT COUNT(*) FROM class_attendance a WHERE a.session_id = s.id) \
         FROM class_session s WHERE s.class_id = $1 ORDER BY s.held_on DESC LIMIT 200",
    ).bind(class.id).fetch_all(pool).await)?;
    Ok(Html(render(&ClassPage { nav: ctx.nav(), unit, class, sessions, today: today().to_string() })?))
}

#[derive(Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    ngay: String,
}

pub async fn add_session(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, class)): Path<(String, i64)>,
    Form(form): Form<SessionForm>,
) -> Result<Response, PageError> {
    let class = find(&state, &staff, class).await?;
    class.open()?;
    let day = parse_day(&form.ngay)?;
    let id: i64 = on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO class_session (class_id, commune_code, held_on, week_of, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (class_id, held_on) DO NOTHING RETURNING id",
        )
        .bind(class.id).bind(&class.commune).bind(day.to_string()).bind(week_of(day).to_string())
        .bind(staff.id()).bind(now())
        .fetch_optional(&mut *tx).await.map_err(AppError::from)?;
        let id = match id {
            Some(id) => {
                audit_write!(&mut *tx, Entry {
                    account_id: Some(staff.id()),
                    action: "class.session",
                    unit_code: Some(&class.commune),
                    detail: Some(serde_json::json!({"class": class.id, "session": id, "day": day.to_string()})),
                    address: ctx.address(),
                    ..Default::default()
                }).map_err(AppError::from)?;
                id
            }
            // The same day twice is the same session: a resent form lands on it.
            None => sqlx::query_scalar("SELECT id FROM class_session WHERE class_id = $1 AND held_on = $2")
                .bind(class.id).bind(day.to_string()).fetch_one(&mut *tx).await.map_err(AppError::from)?,
        };
        tx.commit().await.map_err(AppError::from)?;
        id
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/lop-hoc/{}/buoi/{id}", class.id)).into_response())
}
