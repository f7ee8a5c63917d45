//! Attendance at a class session: staff scan the learner's QR pass with the phone's camera (the
//! script fills the field and sends the form) or type the citizen number. Without JavaScript the
//! same form works with the field typed or pasted. A refused entry answers with its status and a
//! clear message on the same page; the list of who came is an audited staff read.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::classes::{Class, find};
use super::classes_pass::{self, Learner};
use crate::app::AppState;
use crate::domain::time::now;
use crate::identity::audit::Entry;
use crate::web::access::{Ctx, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, page_with_status};
use crate::{audit_write, on_pool};

#[derive(Template)]
#[template(path = "community/attendance.html")]
struct AttendancePage {
    nav: Nav,
    unit: String,
    class: Class,
    session: i64,
    held_on: String,
    /// (person, name, how).
    attendees: Vec<(i64, String, &'static str)>,
    message: Option<String>,
    refused: bool,
}

pub(super) async fn session_day(state: &AppState, class: &Class, session: i64) -> Result<String, AppError> {
    let day: Option<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT held_on FROM class_session WHERE id = $1 AND class_id = $2",
    ).bind(session).bind(class.id).fetch_optional(pool).await)?;
    day.ok_or_else(|| AppError::not_found("unknown_session", "Không có buổi học này. / No such session."))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn show(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    unit: String,
    class: Class,
    session: i64,
    held_on: String,
    outcome: Result<String, AppError>,
) -> Result<Response, AppError> {
    let rows: Vec<(i64, Option<String>, String)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT p.id, p.full_name, a.method FROM class_attendance a JOIN person p ON p.id = a.person_id \
         WHERE a.session_id = $1 ORDER BY a.at",
    ).bind(session).fetch_all(pool).await)?;
    super::classes::audit(
        state,
        ctx,
        staff,
        "class.read",
        &class.commune,
        serde_json::json!({"session": session, "rows": rows.len()}),
    )
    .await?;
    let attendees = rows
        .into_iter()
        .map(|(person, name, method)| {
            let how = if method == "qr" { "Quét mã QR" } else { "Số CCCD" };
            (person, name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()), how)
        })
        .collect();
    let (status, message, refused) = match outcome {
        Ok(m) if m.is_empty() => (StatusCode::OK, None, false),
        Ok(m) => (StatusCode::OK, Some(m), false),
        // A failure of the server is not the person's: it goes up to be logged as one.
        Err(e @ (AppError::Internal(_) | AppError::Unavailable)) => return Err(e),
        Err(e) => (e.status(), Some(e.body().message), true),
    };
    let page = AttendancePage { nav: ctx.nav(), unit, class, session, held_on, attendees, message, refused };
    Ok(page_with_status(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, class, session)): Path<(String, i64, i64)>,
) -> Result<Response, PageError> {
    let class = find(&state, &staff, class).await?;
    let held_on = session_day(&state, &class, session).await?;
    Ok(show(&state, &ctx, &staff, unit, class, session, held_on, Ok(String::new())).await?)
}

#[derive(Deserialize)]
pub struct AttendForm {
    /// The scanned pass or a typed citizen number.
    #[serde(default)]
    ma: String,
}

/// Records one learner at the session, once (a second scan says they are already there).
async fn attend(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    class: &Class,
    session: i64,
    input: &str,
) -> Result<String, AppError> {
    class.open()?;
    let (learner, method): (Learner, _) = classes_pass::identify(state, input).await?;
    classes_pass::within(&learner, &class.commune, "xã, phường của lớp học")?;
    let inserted = on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO class_attendance (session_id, person_id, method, recorded_by, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (session_id, person_id) DO NOTHING",
        )
        .bind(session).bind(learner.id).bind(method.code()).bind(staff.id()).bind(now())
        .execute(&mut *tx).await?.rows_affected();
        if inserted > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(staff.id()),
                action: "class.attend",
                person_id: Some(learner.id),
                unit_code: Some(&class.commune),
                detail: Some(serde_json::json!({"class": class.id, "session": session, "method": method.code()})),
                address: ctx.address(),
            })?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(inserted)
    })?;
    Ok(if inserted > 0 {
        format!("Đã điểm danh: {}.", learner.name)
    } else {
        format!("{} đã được điểm danh ở buổi này rồi.", learner.name)
    })
}

pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, class, session)): Path<(String, i64, i64)>,
    Form(form): Form<AttendForm>,
) -> Result<Response, PageError> {
    let class = find(&state, &staff, class).await?;
    let held_on = session_day(&state, &class, session).await?;
    let outcome = attend(&state, &ctx, &staff, &class, session, &form.ma).await;
    Ok(show(&state, &ctx, &staff, unit, class, session, held_on, outcome).await?)
}
