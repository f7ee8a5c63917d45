//! A commune's community records as downloads (CSV, XLSX) through the one export path of the
//! "who needs help" lists (`tracking::export`): the door-to-door visits, the attendance at the
//! weekly classes, the digital ambassadors with their mentee counts. Every row is read through the
//! route's unit scope; every export is an audited staff read (`person.export`).

use axum::extract::State;
use axum::response::Response;

use super::ambassadors::{self, MIN_MENTEES};
use super::classes::CLASS_STAFF;
use super::teams::READERS;
use crate::app::AppState;
use crate::domain::role::commune_of;
use crate::tracking::export::{Format, Table, download};
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::Path;
use crate::web::routes::Route;
use crate::web::scope::Columns;
use crate::{bind_scope, on_pool};

pub fn routes() -> Vec<Route> {
    let unit = |roles| Access::roles(roles, Scope::Unit("unit"));
    vec![
        Route::get("/quan-ly/don-vi/{unit}/to-cong-nghe/luot-tham.csv", unit(READERS), visits_csv),
        Route::get("/quan-ly/don-vi/{unit}/to-cong-nghe/luot-tham.xlsx", unit(READERS), visits_xlsx),
        Route::get("/quan-ly/don-vi/{unit}/lop-hoc/diem-danh.csv", unit(CLASS_STAFF), attendance_csv),
        Route::get("/quan-ly/don-vi/{unit}/lop-hoc/diem-danh.xlsx", unit(CLASS_STAFF), attendance_xlsx),
        Route::get("/quan-ly/don-vi/{unit}/dai-su-so.csv", unit(ambassadors::MANAGERS), mentors_csv),
        Route::get("/quan-ly/don-vi/{unit}/dai-su-so.xlsx", unit(ambassadors::MANAGERS), mentors_xlsx),
    ]
}

/// The unit of the path, if it is a commune or a village: the province's would not fit in one response.
async fn exported_unit(state: &AppState, unit: &str) -> Result<(), AppError> {
    crate::store::units::get(&state.store, unit).await?.ok_or_else(AppError::hidden)?;
    if commune_of(unit).is_none() || unit == crate::domain::unit::PROVINCE_CODE {
        return Err(AppError::bad_request(
            "export_per_commune",
            "Xin xuất danh sách theo từng xã, phường. / Export one commune at a time.",
        ));
    }
    Ok(())
}

async fn audit_export(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    unit: &str,
    list: &str,
    rows: usize,
    format: Format,
) -> Result<(), AppError> {
    super::classes::audit(
        state,
        ctx,
        staff,
        "person.export",
        unit,
        serde_json::json!({"list": list, "rows": rows, "format": format.code()}),
    )
    .await
}

const VISIT_HEADER: [&str; 8] =
    ["Ngày thăm", "Tổ", "Thôn", "Hộ", "Số người có mặt", "Đã làm", "Còn cần", "Lần thăm sau"];

type VisitRow = (String, String, Option<String>, String, i64, i64, Option<String>, Option<String>);

async fn visits(state: &AppState, ctx: &Ctx, staff: &Staff, unit: &str, format: Format) -> Result<Response, AppError> {
    exported_unit(state, unit).await?;
    let within = staff.scope.predicate(
        Columns { commune: Some("v.commune_code"), village: Some("v.village_code"), ..Columns::default() },
        1,
    );
    let sql = format!(
        "SELECT v.visited_on, t.name, u.name, v.household_code, \
         (SELECT count(*) FROM team_visit_person p WHERE p.visit_id = v.id), CAST(v.done AS BIGINT), \
         v.still_needed, v.next_visit_on FROM team_visit v JOIN tech_team t ON t.id = v.team_id \
         LEFT JOIN unit u ON u.code = v.village_code WHERE v.deleted_at IS NULL AND {} \
         ORDER BY v.visited_on, v.village_code, v.household_code, v.id",
        within.sql
    );
    let rows: Vec<VisitRow> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), within).fetch_all(pool).await)?;
    audit_export(state, ctx, staff, unit, "visits", rows.len(), format).await?;
    let rows = rows
        .into_iter()
        .map(|(day, team, village, household, present, done, needed, next)| {
            vec![
                day,
                team,
                village.unwrap_or_default(),
                household,
                present.to_string(),
                super::visits::done_labels(done).join(", "),
                needed.unwrap_or_default(),
                next.unwrap_or_default(),
            ]
        })
        .collect();
    download(format, &format!("luot-tham-{unit}"), Table { header: &VISIT_HEADER, rows, numbers: &[4] }).await
}

const ATTENDANCE_HEADER: [&str; 6] = ["Lớp", "Ngày học", "Họ tên", "Năm sinh", "Thôn", "Cách điểm danh"];

type AttendanceRow = (String, String, Option<String>, i64, Option<String>, String);

async fn attendance(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    unit: &str,
    format: Format,
) -> Result<Response, AppError> {
    exported_unit(state, unit).await?;
    let within = staff.scope.predicate(
        Columns { commune: Some("s.commune_code"), village: Some("p.village_code"), ..Columns::default() },
        1,
    );
    let sql = format!(
        "SELECT c.title, s.held_on, p.full_name, CAST(p.birth_year AS BIGINT), u.name, a.method \
         FROM class_attendance a JOIN class_session s ON s.id = a.session_id JOIN community_class c ON c.id = s.class_id \
         JOIN person p ON p.id = a.person_id LEFT JOIN unit u ON u.code = p.village_code WHERE {} \
         ORDER BY s.held_on, c.title, a.at",
        within.sql
    );
    let rows: Vec<AttendanceRow> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), within).fetch_all(pool).await)?;
    audit_export(state, ctx, staff, unit, "class_attendance", rows.len(), format).await?;
    let rows = rows
        .into_iter()
        .map(|(class, day, name, birth_year, village, method)| {
            vec![
                class,
                day,
                name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
                birth_year.to_string(),
                village.unwrap_or_default(),
                if method == "qr" { "Quét mã QR" } else { "Số CCCD" }.to_owned(),
            ]
        })
        .collect();
    download(format, &format!("diem-danh-{unit}"), Table { header: &ATTENDANCE_HEADER, rows, numbers: &[3] }).await
}

const MENTOR_HEADER: [&str; 5] =
    ["Đại sứ số", "Số người học", "Người học chững lại (14 ngày)", "Số buổi hướng dẫn", "Đủ 5 người học"];

async fn mentors(state: &AppState, ctx: &Ctx, staff: &Staff, unit: &str, format: Format) -> Result<Response, AppError> {
    exported_unit(state, unit).await?;
    let lines = ambassadors::mentors(&state.store, &staff.scope).await?;
    audit_export(state, ctx, staff, unit, "mentors", lines.len(), format).await?;
    let rows = lines
        .into_iter()
        .map(|m| {
            vec![
                m.name,
                m.mentees.to_string(),
                m.stuck.to_string(),
                m.sessions.to_string(),
                if m.mentees >= MIN_MENTEES { "Đủ" } else { "Chưa đủ" }.to_owned(),
            ]
        })
        .collect();
    download(format, &format!("dai-su-so-{unit}"), Table { header: &MENTOR_HEADER, rows, numbers: &[1, 2, 3] }).await
}

/// The two handlers of one export: CSV and XLSX.
macro_rules! handlers {
    ($export:ident, $csv:ident, $xlsx:ident) => {
        pub async fn $csv(
            State(state): State<AppState>,
            ctx: Ctx,
            staff: Staff,
            Path(unit): Path<String>,
        ) -> Result<Response, PageError> {
            Ok($export(&state, &ctx, &staff, &unit, Format::Csv).await?)
        }

        pub async fn $xlsx(
            State(state): State<AppState>,
            ctx: Ctx,
            staff: Staff,
            Path(unit): Path<String>,
        ) -> Result<Response, PageError> {
            Ok($export(&state, &ctx, &staff, &unit, Format::Xlsx).await?)
        }
    };
}

handlers!(visits, visits_csv, visits_xlsx);
handlers!(attendance, attendance_csv, attendance_xlsx);
handlers!(mentors, mentors_csv, mentors_xlsx);
