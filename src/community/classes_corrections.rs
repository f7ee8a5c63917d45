//! Correcting the weekly classes (issue 22): the class staff cancel a class (its past sessions and
//! attendance stay: they happened; it takes no new ones) and take back an attendance recorded by
//! mistake. Each is one transaction with its audit entry; the class is found through the route's
//! unit scope, so another commune's class answers as absent.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::classes::find;
use super::classes_attendance::{session_day, show};
use super::records::{Pairs, change_audited, confirmed, id_field};
use crate::app::AppState;
use crate::domain::time::now;
use crate::identity::audit::{Actor, Entry};
use crate::tracking::counters::Bind;
use crate::web::access::{Ctx, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};

/// `POST /quan-ly/don-vi/{unit}/lop-hoc/{class}/huy`: the class is cancelled (`xac_nhan=1`).
pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, class)): Path<(String, i64)>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let class = find(&state, &staff, class).await?;
    confirmed(&pairs)?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let entry = Entry {
        unit_code: Some(&class.commune),
        ..actor.entry("class.cancel", serde_json::json!({"class": class.id}))
    };
    const CANCEL: &str = "UPDATE community_class SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL";
    change_audited(&state, CANCEL, &[Bind::Int(now()), Bind::Int(class.id)], entry).await?;
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/lop-hoc/{}", class.id)).into_response())
}

/// `POST /quan-ly/don-vi/{unit}/lop-hoc/{class}/buoi/{session}/xoa`: one attendance recorded by
/// mistake is taken back (`nguoi` = the person's id, `xac_nhan=1`); answers with the session's page.
pub async fn remove_attendance(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, class, session)): Path<(String, i64, i64)>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let class = find(&state, &staff, class).await?;
    let held_on = session_day(&state, &class, session).await?;
    let person = id_field(&pairs, "nguoi", "missing_person", "Chọn người cần bỏ điểm danh. / Choose the person.")?;
    confirmed(&pairs)?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let entry = Entry {
        person_id: Some(person),
        unit_code: Some(&class.commune),
        ..actor.entry("class.attend_remove", serde_json::json!({"class": class.id, "session": session}))
    };
    const DELETE: &str = "DELETE FROM class_attendance WHERE session_id = $1 AND person_id = $2";
    let removed = change_audited(&state, DELETE, &[Bind::Int(session), Bind::Int(person)], entry).await?;
    let outcome = if removed > 0 {
        Ok("Đã bỏ một lượt điểm danh ghi nhầm.".to_owned())
    } else {
        Err(AppError::not_found(
            "attendance_not_found",
            "Người này không có trong danh sách buổi học. / Not on the list.",
        ))
    };
    Ok(show(&state, &ctx, &staff, unit, class, session, held_on, outcome).await?)
}
