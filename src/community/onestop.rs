//! One-stop support staff (IV.6.1): at least one per commune (accounts holding `ho_tro_mot_cua`),
//! the hours they serve at the commune's desk, and each citizen they helped with an administrative
//! procedure on the public-service system (procedure, outcome).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::records::{Pairs, change_audited, confirmed, id_field};
use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role::{self, *};
use crate::domain::role::commune_of;
use crate::domain::time::{now, today};
use crate::identity::audit::{Actor, Entry};
use crate::tracking::counters::Bind;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::Columns;
use crate::{bind_scope, on_pool};

/// Who sees a commune's one-stop desk: its staff, its officers, the province.
pub const READERS: &[Role] = &[HoTroMotCua, CanBoXa, QuanTriTinh];
/// The outcomes of a help, with their labels.
pub const OUTCOMES: [(&str, &str); 3] = [
    ("xong", "Đã làm xong thủ tục"),
    ("huong_dan", "Đã hướng dẫn, người dân tự làm"),
    ("chua_xong", "Chưa xong, hẹn lại"),
];

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/don-vi/{unit}/mot-cua", Access::roles(READERS, Scope::Unit("unit")), page),
        Route::post(
            "/quan-ly/don-vi/{unit}/mot-cua/gio",
            Access::roles(&[HoTroMotCua], Scope::Unit("unit")),
            set_hours,
        ),
        Route::post(
            "/quan-ly/don-vi/{unit}/mot-cua/ho-tro",
            Access::roles(&[HoTroMotCua], Scope::Unit("unit")),
            log_help,
        ),
        Route::post(
            "/quan-ly/don-vi/{unit}/mot-cua/ho-tro/xoa",
            Access::roles(READERS, Scope::Unit("unit")),
            delete_help,
        ),
    ]
}

fn commune_only(unit: &str) -> Result<&str, AppError> {
    commune_of(unit).filter(|c| *c == unit).ok_or_else(|| {
        AppError::bad_request("one_stop_per_commune", "Bộ phận một cửa đặt theo xã, phường. / One desk per commune.")
    })
}

struct StaffLine {
    name: String,
    hours: String,
}

struct HelpLine {
    id: i64,
    helped_on: String,
    procedure: String,
    outcome: &'static str,
    by: String,
}

#[derive(Template)]
#[template(path = "community/onestop.html")]
struct DeskPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    staff: Vec<StaffLine>,
    helps: Vec<HelpLine>,
    total: i64,
    is_desk: bool,
    my_hours: String,
    today: String,
    outcomes: &'static [(&'static str, &'static str)],
}

fn outcome_label(code: &str) -> &'static str {
    OUTCOMES.iter().find(|(c, _)| *c == code).map_or("", |(_, l)| l)
}

/// `GET /quan-ly/don-vi/{unit}/mot-cua`: the commune's desk staff and hours, the latest helps.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let commune = commune_only(&unit)?;
    let unit_name =
        crate::store::units::get(&state.store, commune).await?.map(|u| u.name).ok_or_else(AppError::hidden)?;
    // The desk's staff: grants of the role over the commune or its villages, through the unit scope.
    let grants = crate::web::scope::UnitScope::unit(commune)
        .predicate(Columns { unit: Some("g.unit_code"), ..Columns::default() }, 2);
    let sql = format!(
        "SELECT a.id, coalesce(a.display_name, a.login, a.id), d.hours FROM account a \
         LEFT JOIN one_stop_desk d ON d.account_id = a.id AND d.commune_code = $1 \
         WHERE a.erased_at IS NULL AND EXISTS (SELECT 1 FROM role_grant g WHERE g.account_id = a.id \
         AND g.role = 'ho_tro_mot_cua' AND {}) ORDER BY 2",
        grants.sql
    );
    let desk: Vec<(String, String, Option<String>)> = on_pool!(&state.store, pool => bind_scope!(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(commune), grants).fetch_all(pool).await)?;
    let within = staff.scope.predicate(Columns { commune: Some("h.commune_code"), ..Columns::default() }, 1);
    let sql = format!(
        "SELECT h.id, h.helped_on, h.procedure_name, h.outcome, coalesce(a.display_name, a.login, a.id) \
         FROM one_stop_help h JOIN account a ON a.id = h.account_id WHERE {} \
         ORDER BY h.helped_on DESC, h.id DESC LIMIT 100",
        within.sql
    );
    let helps: Vec<(i64, String, String, String, String)> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), within).fetch_all(pool).await)?;
    let sql = format!("SELECT count(*) FROM one_stop_help h WHERE {}", within.sql);
    let total: i64 = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), within).fetch_one(pool).await)?;
    let my_hours = desk.iter().find(|(id, _, _)| id == staff.id()).and_then(|d| d.2.clone()).unwrap_or_default();
    let is_desk = staff.user.scope(&[HoTroMotCua]).covers_unit(commune);
    Ok(Html(render(&DeskPage {
        nav: ctx.nav(),
        unit: commune.to_owned(),
        unit_name,
        staff: desk.into_iter().map(|(_, name, hours)| StaffLine { name, hours: hours.unwrap_or_default() }).collect(),
        helps: helps
            .into_iter()
            .map(|(id, helped_on, procedure, outcome, by)| HelpLine {
                id,
                helped_on,
                procedure,
                outcome: outcome_label(&outcome),
                by,
            })
            .collect(),
        total,
        is_desk,
        my_hours,
        today: today().to_string(),
        outcomes: &OUTCOMES,
    })?))
}

#[derive(Deserialize)]
pub struct HoursForm {
    gio: String,
}

/// `POST /quan-ly/don-vi/{unit}/mot-cua/gio`: the signed-in staff member's hours at the desk.
pub async fn set_hours(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<HoursForm>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let hours = form.gio.trim();
    if hours.is_empty() || hours.chars().count() > 200 {
        return Err(
            AppError::bad_request("invalid_hours", "Nhập giờ trực (tối đa 200 ký tự). / Give the hours.").into()
        );
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        sqlx::query("INSERT INTO one_stop_desk (account_id, commune_code, hours, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (account_id, commune_code) DO UPDATE SET hours = excluded.hours, updated_at = excluded.updated_at")
            .bind(staff.id()).bind(&commune).bind(hours).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry { unit_code: Some(&commune), ..actor.entry("one_stop.hours", serde_json::json!({})) })
            .map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/mot-cua")).into_response())
}

#[derive(Deserialize)]
pub struct HelpForm {
    thu_tuc: String,
    ket_qua: String,
    ngay: String,
    #[serde(default)]
    cccd: String,
    #[serde(default)]
    ghi_chu: String,
}

/// `POST /quan-ly/don-vi/{unit}/mot-cua/ho-tro`: a citizen helped with a procedure. The citizen
/// number links the help to the registry person when given (never stored itself).
pub async fn log_help(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<HelpForm>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let procedure = form.thu_tuc.trim();
    if procedure.is_empty() || procedure.chars().count() > 200 || form.ghi_chu.trim().chars().count() > 500 {
        return Err(AppError::bad_request(
            "invalid_procedure",
            "Nhập tên thủ tục (tối đa 200 ký tự). / Name the procedure.",
        )
        .into());
    }
    if outcome_label(&form.ket_qua).is_empty() {
        return Err(AppError::bad_request("invalid_outcome", "Chọn kết quả. / Choose the outcome.").into());
    }
    let day = chrono::NaiveDate::parse_from_str(form.ngay.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| *d <= today() + chrono::Days::new(1))
        .ok_or_else(|| AppError::bad_request("invalid_help_date", "Ngày không hợp lệ. / Invalid date."))?;
    let person = match form.cccd.trim() {
        "" => None,
        raw => Some(super::ambassadors::person_by_cccd(&state, raw).await?.0),
    };
    let note = form.ghi_chu.trim();
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        sqlx::query("INSERT INTO one_stop_help (account_id, commune_code, person_id, helped_on, procedure_name, outcome, note, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(staff.id()).bind(&commune).bind(person).bind(day.to_string()).bind(procedure).bind(&form.ket_qua)
            .bind((!note.is_empty()).then_some(note)).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry { person_id: person, unit_code: Some(&commune),
            ..actor.entry("one_stop.help", serde_json::json!({"outcome": form.ket_qua})) }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/mot-cua")).into_response())
}

/// `POST /quan-ly/don-vi/{unit}/mot-cua/ho-tro/xoa`: a help logged by mistake is deleted (form
/// fields `id` and the confirmation `xac_nhan=1`).
pub async fn delete_help(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let id = id_field(&pairs, "id", "missing_help", "Chọn lượt hỗ trợ. / Choose the help record.")?;
    let row: Option<(Option<i64>, String)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT person_id, outcome FROM one_stop_help WHERE id = $1 AND commune_code = $2")
        .bind(id).bind(&commune).fetch_optional(pool).await)?;
    let (person, outcome) = row
        .filter(|_| staff.scope.covers_unit(&commune))
        .ok_or_else(|| AppError::not_found("help_not_found", "Không có lượt hỗ trợ này. / No such help record."))?;
    confirmed(&pairs)?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let entry = Entry {
        person_id: person,
        unit_code: Some(&commune),
        ..actor.entry("one_stop.help_delete", serde_json::json!({"help": id, "outcome": outcome}))
    };
    change_audited(&state, "DELETE FROM one_stop_help WHERE id = $1", &[Bind::Int(id)], entry).await?;
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/mot-cua")).into_response())
}
