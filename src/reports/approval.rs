//! The approval of quarterly reports, DHIS2's way: per reporter and quarter, draft → submitted →
//! approved, returned by the level above. The rules are `domain::report`; here they are applied in
//! one transaction with the audit entry, and an approval stores the figures and the files.

use crate::audit_write;
use crate::domain::report::{self, Action, Around, Reporter, State};
use crate::domain::time::now;
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::audit::{Actor, Entry};
use crate::on_pool;
use crate::store::Store;
use crate::tracking::snapshot::Quarter;
use crate::web::error::AppError;

use super::content::ReportData;
use super::render::Format3;

/// A report's row, without its files.
#[derive(Debug, Clone)]
pub struct Stored {
    pub state: State,
    /// The figures at approval (JSON of [`ReportData`]).
    pub figures: Option<ReportData>,
    pub note: String,
    pub changed_at: i64,
}

type Row = (String, Option<String>, String, i64);

pub async fn load(store: &Store, reporter: &Reporter, quarter: Quarter) -> sqlx::Result<Option<Stored>> {
    let row: Option<Row> = on_pool!(store, pool => sqlx::query_as(
        "SELECT state, figures, note, CAST(changed_at AS BIGINT) FROM quarterly_report WHERE reporter = $1 AND quarter = $2")
        .bind(reporter.key()).bind(quarter.to_string()).fetch_optional(pool).await)?;
    Ok(row.map(|(state, figures, note, changed_at)| Stored {
        state: State::parse(&state).unwrap_or(State::Draft),
        figures: figures.and_then(|f| serde_json::from_str(&f).ok()),
        note,
        changed_at,
    }))
}

/// The stored file of an approved report.
pub async fn stored_file(
    store: &Store,
    reporter: &Reporter,
    quarter: Quarter,
    format: Format3,
) -> sqlx::Result<Option<Vec<u8>>> {
    let sql = match format {
        Format3::Pdf => {
            "SELECT file_pdf FROM quarterly_report WHERE reporter = $1 AND quarter = $2 AND state = 'da_duyet'"
        }
        Format3::Xlsx => {
            "SELECT file_xlsx FROM quarterly_report WHERE reporter = $1 AND quarter = $2 AND state = 'da_duyet'"
        }
        Format3::Csv => {
            "SELECT file_csv FROM quarterly_report WHERE reporter = $1 AND quarter = $2 AND state = 'da_duyet'"
        }
    };
    let bytes: Option<Option<Vec<u8>>> = on_pool!(store, pool => sqlx::query_scalar(sql)
        .bind(reporter.key()).bind(quarter.to_string()).fetch_optional(pool).await)?;
    Ok(bytes.flatten())
}

/// The states of every report of a quarter, by reporter key.
pub async fn states(store: &Store, quarter: Quarter) -> sqlx::Result<Vec<(String, State)>> {
    let rows: Vec<(String, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT reporter, state FROM quarterly_report WHERE quarter = $1 ORDER BY reporter")
        .bind(quarter.to_string()).fetch_all(pool).await)?;
    Ok(rows.into_iter().filter_map(|(r, s)| Some((r, State::parse(&s)?))).collect())
}

/// What an approval stores: the figures and the three files made from them.
pub struct Locked {
    pub figures: ReportData,
    pub pdf: Vec<u8>,
    pub xlsx: Vec<u8>,
    pub csv: Vec<u8>,
}

impl Locked {
    pub fn make(figures: ReportData) -> Result<Self, AppError> {
        let pdf = super::render::pdf(&figures).map_err(|e| AppError::Internal(e.into()))?;
        let xlsx = super::render::xlsx(&figures).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
        let csv = super::render::csv(&figures).map_err(AppError::Internal)?;
        Ok(Self { figures, pdf, xlsx, csv })
    }
}

fn refused(r: report::Refusal) -> AppError {
    AppError::Conflict { code: r.code, message: r.message.to_owned() }
}

const PENDING_BELOW: &str =
    "SELECT COUNT(*) FROM quarterly_report WHERE quarter = $1 AND reporter <> $2 AND state <> 'da_duyet'";
const PROVINCE_STATE: &str = "SELECT state FROM quarterly_report WHERE quarter = $1 AND reporter = $2";

/// Moves a report one step, in one transaction with its audit entry (`report.submit`,
/// `report.approve`, `report.return`). `locked` is required to approve. Refusals are 409 with the
/// rule's code. The caller has checked that `actor` may take this action on this reporter.
pub async fn apply(
    store: &Store,
    reporter: &Reporter,
    quarter: Quarter,
    action: Action,
    note: &str,
    locked: Option<Locked>,
    actor: Actor<'_>,
) -> Result<State, AppError> {
    let q = quarter.to_string();
    let key = reporter.key();
    let note: String = note.trim().chars().take(1000).collect();
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let current: Option<String> = sqlx::query_scalar(PROVINCE_STATE).bind(&q).bind(key).fetch_optional(&mut *tx).await?;
        let current_state = current.as_deref().and_then(State::parse);
        let pending: i64 = sqlx::query_scalar(PENDING_BELOW).bind(&q).bind(PROVINCE_CODE).fetch_one(&mut *tx).await?;
        let province: Option<String> =
            sqlx::query_scalar(PROVINCE_STATE).bind(&q).bind(PROVINCE_CODE).fetch_optional(&mut *tx).await?;
        let around = Around {
            pending_below: usize::try_from(pending).unwrap_or(usize::MAX),
            province_approved: province.as_deref() == Some("da_duyet"),
        };
        let next = report::next(reporter, current_state, action, around).map_err(refused)?;
        let at = now();
        let (figures, pdf, xlsx, csv) = match (next, locked) {
            (State::Approved, Some(l)) => {
                let json = serde_json::to_string(&l.figures).map_err(|e| AppError::Internal(e.into()))?;
                (Some(json), Some(l.pdf), Some(l.xlsx), Some(l.csv))
            }
            (State::Approved, None) => return Err(AppError::Internal(anyhow::anyhow!("approval without files"))),
            _ => (None, None, None, None),
        };
        let approved_at = (next == State::Approved).then_some(at);
        let written = if current.is_none() {
            sqlx::query(
                "INSERT INTO quarterly_report (reporter, quarter, state, note, changed_by, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (reporter, quarter) DO NOTHING")
                .bind(key).bind(&q).bind(next.code()).bind(&note).bind(actor.account_id).bind(at)
                .execute(&mut *tx).await?.rows_affected()
        } else {
            sqlx::query(
                "UPDATE quarterly_report SET state = $3, note = $4, changed_by = $5, changed_at = $6, figures = $7, \
                 file_pdf = $8, file_xlsx = $9, file_csv = $10, approved_at = $11 \
                 WHERE reporter = $1 AND quarter = $2 AND state = $12")
                .bind(key).bind(&q).bind(next.code()).bind(&note).bind(actor.account_id).bind(at)
                .bind(figures).bind(pdf).bind(xlsx).bind(csv).bind(approved_at).bind(current.as_deref())
                .execute(&mut *tx).await?.rows_affected()
        };
        if written != 1 {
            return Err(AppError::Conflict {
                code: "report_changed",
                message: "Báo cáo vừa được người khác thay đổi; hãy tải lại trang.".to_owned(),
            });
        }
        let action_code = match action {
            Action::Submit => "report.submit",
            Action::Approve => "report.approve",
            Action::Return => "report.return",
        };
        let unit = match reporter {
            Reporter::Commune(c) => c.as_str(),
            Reporter::Province | Reporter::Agency(_) => PROVINCE_CODE,
        };
        audit_write!(&mut *tx, Entry {
            account_id: Some(actor.account_id),
            action: action_code,
            unit_code: Some(unit),
            detail: Some(serde_json::json!({"reporter": key, "quarter": q, "state": next.code()})),
            address: actor.address,
            ..Default::default()
        })?;
        tx.commit().await?;
        Ok(next)
    })
}
