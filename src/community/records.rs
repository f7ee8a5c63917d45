//! What the community records' forms share (issue 22): their fields, the confirmation a deletion
//! needs, a new record with its audit entry in one transaction, and one audited change (a
//! correction) in one transaction.

use crate::app::AppState;
use crate::identity::audit::Entry;
use crate::tracking::counters::Bind;
use crate::web::access::{Ctx, Staff};
use crate::web::error::AppError;
use crate::{audit_write, on_pool};

/// A form's fields as pairs, in order (repeated checkboxes repeat).
pub type Pairs = Vec<(String, String)>;

/// The first value of a field, trimmed; empty when absent.
pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

/// A field holding a record's number: a clear 400 when it is missing or not a number.
pub fn id_field(pairs: &[(String, String)], name: &str, code: &'static str, message: &str) -> Result<i64, AppError> {
    field(pairs, name).parse().map_err(|_| AppError::bad_request(code, message))
}

/// The confirmation a deletion needs (`xac_nhan=1`), so that a stray post deletes nothing.
pub fn confirmed(pairs: &[(String, String)]) -> Result<(), AppError> {
    if field(pairs, "xac_nhan") == "1" {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "confirmation_required",
            "Hãy đánh dấu ô xác nhận trước khi xóa. / Tick the confirmation box before deleting.",
        ))
    }
}

/// Runs one statement (a deletion, a cancellation) and, when it changed a row, writes `entry`: one
/// transaction. Returns the rows changed.
pub async fn change_audited(
    state: &AppState,
    statement: &'static str,
    binds: &[Bind<'_>],
    entry: Entry<'_>,
) -> Result<u64, AppError> {
    let changed = on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await?;
        let mut query = sqlx::query(statement);
        for b in binds {
            query = match b {
                Bind::Int(v) => query.bind(*v),
                Bind::OptInt(v) => query.bind(*v),
                Bind::Text(v) => query.bind(*v),
            };
        }
        let n = query.execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            audit_write!(&mut *tx, entry)?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(n)
    })?;
    Ok(changed)
}

/// Inserts one record (`insert` ends in `RETURNING id`) and writes `entry`, whose detail gets the new
/// id under `key`: one transaction. Returns the id.
pub async fn insert_audited(
    state: &AppState,
    insert: &'static str,
    binds: &[Bind<'_>],
    mut entry: Entry<'_>,
    key: &str,
) -> Result<i64, AppError> {
    let id = on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await?;
        let mut query = sqlx::query_scalar::<_, i64>(insert);
        for b in binds {
            query = match b {
                Bind::Int(v) => query.bind(*v),
                Bind::OptInt(v) => query.bind(*v),
                Bind::Text(v) => query.bind(*v),
            };
        }
        let id = query.fetch_one(&mut *tx).await?;
        let mut detail = entry.detail.take().unwrap_or_else(|| serde_json::json!({}));
        detail[key] = id.into();
        entry.detail = Some(detail);
        audit_write!(&mut *tx, entry)?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(id)
    })?;
    Ok(id)
}

/// The audit entry of a new record made by `staff` over `unit` (the new id is added by [`insert_audited`]).
pub fn created<'a>(ctx: &'a Ctx, staff: &'a Staff, action: &'static str, unit: &'a str) -> Entry<'a> {
    Entry { account_id: Some(staff.id()), action, unit_code: Some(unit), address: ctx.address(), ..Default::default() }
}
