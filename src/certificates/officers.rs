//! The officers' view of certificates and their VNeID confirmations: commune staff see those of
//! the people of their units and send failed confirmations again; the province sees every one and
//! alone revokes. Every list read and every change is in the audit log.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::domain::role::Role;
use crate::domain::time::now;
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::audit::{self, Entry};
use crate::on_pool;
use crate::store::Store;
use crate::web::access::{Ctx, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::Path;
use crate::web::pages::{Nav, render};
use crate::web::scope::{Columns, Predicate, UnitScope};
use crate::{audit_write, bind_scope};

/// Certificates whose holder is in the scope: where their registry record puts them, or for a
/// learner outside the registry the commune they gave: a `FROM … WHERE` clause, placeholders from `$first` on.
fn in_scope(scope: &UnitScope, first: usize) -> Predicate {
    let person = scope.predicate(
        Columns { commune: Some("p.commune_code"), village: Some("p.village_code"), ..Columns::default() },
        first,
    );
    let home =
        scope.predicate(Columns { commune: Some("a.home_commune"), ..Columns::default() }, first + person.binds.len());
    let sql = format!(
        "FROM certificate c JOIN account a ON a.id = c.account_id \
         LEFT JOIN person p ON p.id = coalesce(c.person_id, a.person_id) \
         LEFT JOIN vneid_outbox o ON o.certificate_id = c.id \
         WHERE ({} OR (p.id IS NULL AND {}))",
        person.sql, home.sql
    );
    Predicate { sql, binds: person.binds.into_iter().chain(home.binds).collect() }
}

#[derive(sqlx::FromRow)]
pub struct OfficerRow {
    pub id: String,
    pub holder_name: String,
    pub target_group: String,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
    pub state: Option<String>,
    pub attempts: Option<i64>,
    pub reference: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Template)]
#[template(path = "certificates/officers.html")]
struct OfficersPage {
    nav: Nav,
    rows: Vec<OfficerRow>,
    counts: Vec<(String, i64)>,
    units: Vec<String>,
    may_revoke: bool,
    message: String,
}

const LIST_LIMIT: usize = 200;

async fn page(state: &AppState, ctx: &Ctx, staff: &Staff, message: String) -> Result<String, AppError> {
    let user = &staff.user;
    let units = staff.scope.unit_codes();
    let within = in_scope(&staff.scope, 1);
    let from = &within.sql;
    // Failed confirmations first: they need an officer.
    let list = format!(
        "SELECT c.id, c.holder_name, c.target_group, c.issued_at, c.revoked_at, c.withdrawn_at, o.state, o.attempts, \
         o.reference, o.last_error {from} \
         ORDER BY CASE WHEN o.state = 'failed' THEN 0 ELSE 1 END, c.issued_at DESC LIMIT {LIST_LIMIT}"
    );
    let count = format!("SELECT o.state, COUNT(*) {from} AND o.state IS NOT NULL GROUP BY o.state ORDER BY o.state");
    let rows: Vec<OfficerRow> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(list)), within).fetch_all(pool).await?);
    let counts: Vec<(String, i64)> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(count)), within).fetch_all(pool).await?);
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "person.list",
            detail: Some(serde_json::json!({"list": "certificates", "units": units, "rows": rows.len()})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let may_revoke = user.holds(&[Role::QuanTriTinh]).any(|g| g.is_province());
    render(&OfficersPage { nav: ctx.nav(), rows, counts, units, may_revoke, message })
}

/// `GET /quan-tri/chung-nhan`
pub async fn list(State(state): State<AppState>, ctx: Ctx, staff: Staff) -> Result<Html<String>, PageError> {
    Ok(Html(page(&state, &ctx, &staff, String::new()).await?))
}

/// `POST /quan-tri/chung-nhan/{id}/thu-hoi`: the province revokes with a reason; the verify page shows both.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(id): Path<String>,
    crate::web::extract::Form(form): crate::web::extract::Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let reason = crate::domain::text::clean(form.get("ly_do").map_or("", String::as_str));
    if reason.is_empty() || reason.chars().count() > 500 {
        let page =
            page(&state, &ctx, &staff, "Cần ghi lý do thu hồi (tối đa 500 ký tự). / A reason is required.".into())
                .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response());
    }
    let row = crate::certificates::pages::load(&state, &id).await?.ok_or_else(crate::certificates::pages::not_found)?;
    revoke_in_store(&state.store, &row.id, &reason, Some(ctx.user()?.id()), ctx.address()).await?;
    Ok(Redirect::to(&format!("/verify/{}", row.id)).into_response())
}

/// Revokes a certificate not yet revoked, and records who did it (`by` is none from the command line).
pub async fn revoke_in_store(
    store: &Store,
    id: &str,
    reason: &str,
    by: Option<&str>,
    address: Option<&str>,
) -> sqlx::Result<bool> {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "UPDATE certificate SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now()).bind(reason).bind(id).execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            // The holder's valid certificates are fewer now: the indicators counting them move.
            let holder: Option<i64> = sqlx::query_scalar("SELECT person_id FROM certificate WHERE id = $1")
                .bind(id).fetch_one(&mut *tx).await?;
            let mut conn: crate::tracking::Conn = (&mut *tx).into();
            crate::tracking::counters::recompute_certified(&mut conn, holder.as_slice()).await?;
            audit_write!(&mut *tx, Entry {
                account_id: by,
                action: "certificate.revoke",
                detail: Some(serde_json::json!({"certificate": id})),
                address,
                ..Default::default()
            })?;
        }
        tx.commit().await?;
        Ok(n > 0)
    })
}

/// `POST /quan-tri/chung-nhan/{id}/gui-lai`: a failed confirmation of a holder in the officer's
/// units goes back to the queue, unless its certificate was revoked or withdrawn since (the
/// province's or the holder's decision). Any other id gets the same answer, so nothing is learnt of it.
pub async fn retry(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let within = in_scope(&staff.scope, 3);
    let from = &within.sql;
    let retry = format!(
        "UPDATE vneid_outbox SET state = 'pending', attempts = 0, next_at = $1, lease_until = NULL \
         WHERE certificate_id = $2 AND state = 'failed' AND (last_error IS NULL OR last_error <> 'withdrawn') \
           AND certificate_id IN (SELECT c.id {from} AND c.revoked_at IS NULL AND c.withdrawn_at IS NULL)"
    );
    let done = on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let n = bind_scope!(sqlx::query(sqlx::AssertSqlSafe(retry)).bind(now()).bind(&id), within)
            .execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if n > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(staff.id()),
                action: "certificate.retry",
                detail: Some(serde_json::json!({"certificate": id})),
                address: ctx.address(),
                ..Default::default()
            }).map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
        n > 0
    });
    let message = if done {
        "Đã đưa xác nhận trở lại hàng đợi gửi VNeID. / The confirmation is queued again."
    } else {
        "Không có xác nhận lỗi này trong phạm vi của bạn. / No such failed confirmation in your units."
    };
    Ok(Html(page(&state, &ctx, &staff, message.to_owned()).await?))
}

/// Shown above the list: whose certificates these are.
pub fn scope_label(units: &[String]) -> String {
    if units.iter().any(|u| u == PROVINCE_CODE) { "toàn tỉnh".to_owned() } else { units.join(", ") }
}
