//! Evidence files of the responsibility matrix: an agency officer attaches a PDF or a picture to
//! their agency's update of a task for a quarter. The file is kept in the media store under a
//! private key (the public `/media/` route never serves it) and read back only by that agency and
//! the province's steering office and auditors.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::agencies;
use super::matrix::report_approved;
use super::pages::{QuarterQuery, parse_quarter};
use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role::{KiemToan, QuanTriTinh};
use crate::domain::tasks::matrix;
use crate::domain::time::now;
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::audit::Entry;
use crate::learning::media::{Kind, sniff};
use crate::on_pool;
use crate::tracking::snapshot::Quarter;
use crate::web::access::{Ctx, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{FormWithFile, Path, Query};

/// The largest evidence file (a scanned PDF), and the upload route's body limit.
pub const LIMIT: usize = 20 << 20;

#[derive(Deserialize)]
pub struct EvidenceForm {
    #[serde(default)]
    quy: String,
    /// `1`: take the attached file off the update.
    #[serde(default)]
    xoa: String,
}

fn no_task() -> AppError {
    AppError::not_found("task_not_found", "Không có nhiệm vụ này của cơ quan này / No such task")
}

/// A file the matrix takes as evidence: PDF, PNG, JPEG or WebP (no SVG: it could carry script),
/// within its kind's size.
fn check_file(bytes: &[u8]) -> Result<&'static str, AppError> {
    let refused = || {
        AppError::bad_request(
            "bad_file_type",
            "Minh chứng là tệp PDF hoặc ảnh PNG, JPEG, WebP. / Evidence is a PDF or a PNG, JPEG or WebP picture.",
        )
    };
    let (kind, _, ext) = sniff(bytes).map_err(|_| refused())?;
    if !matches!(kind, Kind::Pdf | Kind::Image) || ext == "svg" {
        return Err(refused());
    }
    if bytes.len() > kind.limit().min(LIMIT) {
        return Err(AppError::bad_request(
            "file_too_large",
            format!("Tệp quá lớn (tối đa {} MB). / File too large.", kind.limit().min(LIMIT) >> 20),
        ));
    }
    Ok(ext)
}

/// `POST /quan-ly/nhiem-vu/{task}/{agency}/minh-chung?csrf=…` (multipart, the file in `tep`):
/// attaches a file to the agency's update of the quarter, or takes it off (`xoa=1`). Only the
/// agency's officers; after the first update of the quarter (409 before); not once the agency's
/// report of the quarter is approved (409). One transaction with the audit entry `task.evidence`.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((task, agency)): Path<(String, String)>,
    upload: FormWithFile<EvidenceForm>,
) -> Result<Response, PageError> {
    let FormWithFile { form, file } = upload;
    let quarter = parse_quarter(Some(&form.quy))?;
    if !matrix().task(&task).is_some_and(|t| t.involves(&agency)) {
        return Err(no_task().into());
    }
    // Another agency's part is not found (as the matrix does not show it), not a 403.
    if !agencies(&staff).contains(&agency) {
        return Err(no_task().into());
    }
    if report_approved(&state, &agency, quarter).await? {
        return Err(AppError::Conflict {
            code: "report_approved",
            message: "Báo cáo quý của cơ quan đã được duyệt: số liệu quý này đã khóa.".to_owned(),
        }
        .into());
    }
    let key = match (file, form.xoa == "1") {
        (Some(bytes), _) => {
            let ext = check_file(&bytes)?;
            let key = format!("evidence/{}.{ext}", crate::crypto::short_hash(&bytes));
            // The object first (content-addressed, so a retry stores nothing new): a row never points at nothing.
            state.media.put_private(&key, Bytes::from(bytes)).await.map_err(AppError::from)?;
            Some(key)
        }
        (None, true) => None,
        (None, false) => return Err(AppError::bad_request("no_file", "Chưa chọn tệp. / No file chosen.").into()),
    };
    let q = quarter.to_string();
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let changed = sqlx::query(
            "UPDATE task_update SET evidence_key = $1, updated_by = $2, updated_at = $3 \
             WHERE task_code = $4 AND agency_code = $5 AND quarter = $6")
            .bind(&key).bind(staff.id()).bind(now()).bind(&task).bind(&agency).bind(&q)
            .execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if changed == 0 {
            return Err(AppError::Conflict {
                code: "task_not_updated",
                message: "Cập nhật trạng thái và tiến độ của nhiệm vụ trong quý trước, rồi đính kèm tệp. \
                          / Update the task's status for the quarter first, then attach the file."
                    .to_owned(),
            }
            .into());
        }
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "task.evidence",
            unit_code: Some(PROVINCE_CODE),
            detail: Some(serde_json::json!({"task": task, "agency": agency, "quarter": q, "file": key})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/nhiem-vu?quy={q}#{task}-{agency}")).into_response())
}

/// `GET /quan-ly/nhiem-vu/{task}/{agency}/minh-chung?quy=2025Q4`: the attached file, as a download,
/// to the agency's officers and the province's steering office and auditors (404 to others).
pub async fn download(
    State(state): State<AppState>,
    staff: Staff,
    Path((task, agency)): Path<(String, String)>,
    Query(q): Query<QuarterQuery>,
) -> Result<Response, PageError> {
    let quarter = parse_quarter(q.quy.as_deref())?;
    if !matrix().task(&task).is_some_and(|t| t.involves(&agency)) {
        return Err(no_task().into());
    }
    let whole = staff.user.scope(&[QuanTriTinh, KiemToan]).is_province();
    if !whole && !agencies(&staff).contains(&agency) {
        return Err(no_task().into());
    }
    let key = attached(&state, &task, &agency, quarter).await?.ok_or_else(|| {
        AppError::not_found("evidence_not_found", "Phần việc này chưa có tệp minh chứng. / No evidence file attached.")
    })?;
    let bytes = state.media.get_private(&key).await.map_err(AppError::from)?;
    let (_, content_type, ext) = sniff(&bytes).map_err(|m| AppError::Internal(anyhow::anyhow!(m)))?;
    let name = format!("attachment; filename=\"minh-chung-{task}-{agency}-{quarter}.{ext}\"");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_DISPOSITION, HeaderValue::try_from(name).map_err(|e| AppError::Internal(e.into()))?),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
    ];
    Ok((headers, bytes).into_response())
}

async fn attached(state: &AppState, task: &str, agency: &str, quarter: Quarter) -> Result<Option<String>, AppError> {
    let key: Option<Option<String>> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT evidence_key FROM task_update WHERE task_code = $1 AND agency_code = $2 AND quarter = $3")
        .bind(task).bind(agency).bind(quarter.to_string()).fetch_optional(pool).await)?;
    Ok(key.flatten())
}
