//! The officers' view of certificates and their VNeID confirmations: commune staff see those of
//! the people of their units and send failed confirmations again; the province sees every one and
//! alone revokes. Every list read and every change is in the audit log.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::audit_write;
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::COMMUNE_STAFF;
use crate::identity::access::{Ctx, Principal};
use crate::identity::accounts::now;
use crate::identity::audit::{self, Entry};
use crate::identity::role::Role;
use crate::on_pool;
use crate::store::Store;
use crate::web::AppState;
use crate::web::error::{AppError, PageError};
use crate::web::extract::Path;
use crate::web::pages::{Nav, render};

/// Certificates whose holder lives in unit `$1` (a commune or a village, `'25'` the whole province):
/// where their registry record puts them, or for a learner outside the registry the commune they gave.
const IN_UNIT: &str = "FROM certificate c JOIN account a ON a.id = c.account_id \
     LEFT JOIN person p ON p.id = coalesce(c.person_id, a.person_id) \
     LEFT JOIN vneid_outbox o ON o.certificate_id = c.id \
     WHERE ($1 = '25' OR p.commune_code = $1 OR p.village_code = $1 OR (p.id IS NULL AND a.home_commune = $1))";

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

/// The units whose certificates the officer sees, none inside another.
fn units_of(user: &Principal) -> Vec<String> {
    let mut units = user.scope_units(COMMUNE_STAFF);
    let all = units.clone();
    units.retain(|u| !all.iter().any(|o| o != u && u.starts_with(&format!("{o}-"))));
    units.sort();
    units.dedup();
    units
}

async fn page(state: &AppState, ctx: &Ctx, message: String) -> Result<String, AppError> {
    let user = ctx.user()?;
    let units = units_of(user);
    let mut rows: Vec<OfficerRow> = Vec::new();
    let mut counts: HashMap<String, i64> = HashMap::new();
    // Failed confirmations first: they need an officer.
    let list = format!(
        "SELECT c.id, c.holder_name, c.target_group, c.issued_at, c.revoked_at, c.withdrawn_at, o.state, o.attempts, \
         o.reference, o.last_error {IN_UNIT} \
         ORDER BY CASE WHEN o.state = 'failed' THEN 0 ELSE 1 END, c.issued_at DESC LIMIT {LIST_LIMIT}"
    );
    let count = format!("SELECT o.state, COUNT(*) {IN_UNIT} AND o.state IS NOT NULL GROUP BY o.state");
    for unit in &units {
        let found: Vec<OfficerRow> = on_pool!(&state.store, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(list.as_str())).bind(unit).fetch_all(pool).await?);
        rows.extend(found);
        let by_state: Vec<(String, i64)> = on_pool!(&state.store, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(count.as_str())).bind(unit).fetch_all(pool).await?);
        for (s, n) in by_state {
            *counts.entry(s).or_default() += n;
        }
    }
    rows.sort_by_key(|r| (r.state.as_deref() != Some("failed"), std::cmp::Reverse(r.issued_at)));
    rows.truncate(LIST_LIMIT);
    let mut counts: Vec<(String, i64)> = counts.into_iter().collect();
    counts.sort();
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
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    Ok(Html(page(&state, &ctx, String::new()).await?))
}

/// `POST /quan-tri/chung-nhan/{id}/thu-hoi`: the province revokes with a reason; the verify page shows both.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    crate::web::extract::Form(form): crate::web::extract::Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let reason = crate::domain::text::clean(form.get("ly_do").map_or("", String::as_str));
    if reason.is_empty() || reason.chars().count() > 500 {
        let page =
            page(&state, &ctx, "Cần ghi lý do thu hồi (tối đa 500 ký tự). / A reason is required.".into()).await?;
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
pub async fn retry(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let retry = format!(
        "UPDATE vneid_outbox SET state = 'pending', attempts = 0, next_at = $2, lease_until = NULL \
         WHERE certificate_id = $3 AND state = 'failed' AND (last_error IS NULL OR last_error <> 'withdrawn') \
           AND certificate_id IN (SELECT c.id {IN_UNIT} AND c.revoked_at IS NULL AND c.withdrawn_at IS NULL)"
    );
    let mut done = false;
    for unit in units_of(user) {
        on_pool!(&state.store, pool => {
            let mut tx = pool.begin().await.map_err(AppError::from)?;
            let n = sqlx::query(sqlx::AssertSqlSafe(retry.as_str()))
                .bind(&unit).bind(now()).bind(&id).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
            if n > 0 {
                audit_write!(&mut *tx, Entry {
                    account_id: Some(user.id()),
                    action: "certificate.retry",
                    unit_code: Some(&unit),
                    detail: Some(serde_json::json!({"certificate": id})),
                    address: ctx.address(),
                    ..Default::default()
                }).map_err(AppError::from)?;
            }
            tx.commit().await.map_err(AppError::from)?;
            done |= n > 0;
        });
        if done {
            break;
        }
    }
    let message = if done {
        "Đã đưa xác nhận trở lại hàng đợi gửi VNeID. / The confirmation is queued again."
    } else {
        "Không có xác nhận lỗi này trong phạm vi của bạn. / No such failed confirmation in your units."
    };
    Ok(Html(page(&state, &ctx, message.to_owned()).await?))
}

/// Shown above the list: whose certificates these are.
pub fn scope_label(units: &[String]) -> String {
    if units.iter().any(|u| u == PROVINCE_CODE) { "toàn tỉnh".to_owned() } else { units.join(", ") }
}
