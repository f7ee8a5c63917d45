//! The responsibility matrix pages: the whole matrix for the province (with the confirmation of
//! inferred leads), each agency officer's own tasks with the quarter's update form.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{agencies, is_province_admin};
use super::pages::parse_quarter;
use super::tasks::{TaskLine, due_date, lines};
use crate::app::AppState;
use crate::audit_write;
use crate::domain::report::{Reporter, State as ReportState};
use crate::domain::role::Role::{KiemToan, QuanTriTinh};
use crate::domain::tasks::{TaskStatus, matrix};
use crate::domain::time::now;
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::audit::Entry;
use crate::on_pool;
use crate::web::access::{Ctx, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path, Query};
use crate::web::pages::{Nav, render};

use super::pages::QuarterQuery;

pub struct MatrixRow {
    pub line: TaskLine,
    pub role: &'static str,
    pub status: &'static str,
    pub progress: String,
    /// The reader may update this row (their agency's, report not approved).
    pub editable: bool,
    /// The province may confirm the inferred lead of this task (shown on its first lead row).
    pub confirmable: bool,
}

#[derive(Template)]
#[template(path = "reports/matrix.html")]
struct MatrixPage {
    nav: Nav,
    quarter: String,
    quarter_label: String,
    due: String,
    whole: bool,
    rows: Vec<MatrixRow>,
    overdue: usize,
    not_updated: usize,
    statuses: Vec<(&'static str, &'static str)>,
}

pub(super) async fn report_approved(
    state: &AppState,
    agency: &str,
    quarter: crate::tracking::snapshot::Quarter,
) -> Result<bool, AppError> {
    let stored = super::approval::load(&state.store, &Reporter::Agency(agency.to_owned()), quarter).await?;
    Ok(stored.is_some_and(|s| s.state == ReportState::Approved))
}

/// `GET /quan-ly/nhiem-vu?quy=2025Q4`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(q): Query<QuarterQuery>,
) -> Result<Html<String>, PageError> {
    let quarter = parse_quarter(q.quy.as_deref())?;
    let whole = staff.user.scope(&[QuanTriTinh, KiemToan]).is_province();
    let own = agencies(&staff);
    let admin = is_province_admin(&staff);
    let mut locked = Vec::new();
    for a in &own {
        if report_approved(&state, a, quarter).await? {
            locked.push(a.clone());
        }
    }
    let all = lines(&state.store, quarter, None).await?;
    let mut seen_confirm = std::collections::HashSet::new();
    let rows: Vec<MatrixRow> = all
        .into_iter()
        .filter(|l| whole || own.contains(&l.agency))
        .map(|l| {
            let editable = own.contains(&l.agency) && !locked.contains(&l.agency);
            let confirmable = admin && l.lead_pending && seen_confirm.insert(l.code.clone());
            MatrixRow {
                role: l.role_label(),
                status: l.status_label(),
                progress: l.progress.map_or_else(|| "–".to_owned(), |p| format!("{p}\u{a0}%")),
                editable,
                confirmable,
                line: l,
            }
        })
        .collect();
    let page = MatrixPage {
        nav: ctx.nav(),
        quarter: quarter.to_string(),
        quarter_label: quarter.label_vi(),
        due: due_date(quarter).map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
        whole,
        overdue: rows.iter().filter(|r| r.line.overdue).count(),
        not_updated: rows.iter().filter(|r| r.line.status.is_none()).count(),
        rows,
        statuses: TaskStatus::ALL.iter().map(|s| (s.code(), s.label())).collect(),
    };
    Ok(Html(render(&page)?))
}

#[derive(Deserialize)]
pub struct UpdateForm {
    quy: String,
    trang_thai: String,
    tien_do: String,
    #[serde(default)]
    minh_chung: String,
}

/// `POST /quan-ly/nhiem-vu/{task}/{agency}`: an agency officer updates their agency's part of a
/// task for a quarter (status, progress 0–100, evidence text); one transaction with the audit
/// entry `task.update`. Another agency's task is refused (403); after the agency's report of the
/// quarter is approved the quarter is locked (409).
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((task, agency)): Path<(String, String)>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, PageError> {
    let quarter = parse_quarter(Some(&form.quy))?;
    let known = matrix().task(&task).is_some_and(|t| t.involves(&agency));
    if !known {
        return Err(
            AppError::not_found("task_not_found", "Không có nhiệm vụ này của cơ quan này / No such task").into()
        );
    }
    if !agencies(&staff).contains(&agency) {
        return Err(AppError::forbidden().into());
    }
    let status = TaskStatus::parse(&form.trang_thai)
        .ok_or_else(|| AppError::bad_request("invalid_status", "Trạng thái không hợp lệ / Invalid status"))?;
    let progress: i64 =
        form.tien_do.trim().trim_end_matches('%').trim().parse().ok().filter(|p| (0..=100).contains(p)).ok_or_else(
            || AppError::bad_request("invalid_progress", "Tiến độ là số từ 0 đến 100 / Progress is 0 to 100"),
        )?;
    let evidence: String = form.minh_chung.trim().chars().take(2000).collect();
    if report_approved(&state, &agency, quarter).await? {
        return Err(AppError::Conflict {
            code: "report_approved",
            message: "Báo cáo quý của cơ quan đã được duyệt: số liệu quý này đã khóa.".to_owned(),
        }
        .into());
    }
    let q = quarter.to_string();
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        sqlx::query(
            "INSERT INTO task_update (task_code, agency_code, quarter, status, progress, evidence, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (task_code, agency_code, quarter) DO UPDATE SET \
             status = excluded.status, progress = excluded.progress, evidence = excluded.evidence, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at")
            .bind(&task).bind(&agency).bind(&q).bind(status.code()).bind(progress).bind(&evidence)
            .bind(staff.id()).bind(now())
            .execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "task.update",
            unit_code: Some(PROVINCE_CODE),
            detail: Some(serde_json::json!({"task": task, "agency": agency, "quarter": q, "status": status.code(), "progress": progress})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/nhiem-vu?quy={q}#{task}-{agency}")).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    quy: String,
}

/// `POST /quan-ly/nhiem-vu/{task}/xac-nhan`: the province confirms a lead the plan only implies;
/// audited `task.confirm_lead`.
pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(task): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    if !matrix().task(&task).is_some_and(|t| t.lead_inferred()) {
        return Err(AppError::not_found("task_not_found", "Không có nhiệm vụ chờ xác nhận này / No such task").into());
    }
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        sqlx::query("INSERT INTO task_lead_confirmation (task_code, confirmed_by, confirmed_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (task_code) DO NOTHING")
            .bind(&task).bind(staff.id()).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "task.confirm_lead",
            unit_code: Some(PROVINCE_CODE),
            detail: Some(serde_json::json!({"task": task})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    let quarter = parse_quarter(Some(&form.quy)).map(|q| q.to_string()).unwrap_or_default();
    Ok(Redirect::to(&format!("/quan-ly/nhiem-vu?quy={quarter}")).into_response())
}
