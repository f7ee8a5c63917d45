//! Delivery of certificate confirmations to VNeID (contract: `docs/vneid-confirm.md`).
//!
//! The outbox row is written in the transaction that issues the certificate. Workers on any number
//! of servers claim due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
//! writer), send each with the certificate id as the idempotency key, and record the outcome.
//! A request never outlives its lease (the lease is three times the request timeout), so two
//! workers never send the same confirmation at once; a delivered row is never claimed again. After
//! a crash mid-request the lease runs out and the row is sent once more, with the same key.

use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::config::ConfirmConfig;
use crate::domain::time::now;
use crate::learning::framework::target_group_label;
use crate::on_pool;
use crate::store::Store;

/// Rows claimed at once by one worker.
const CLAIM: i64 = 16;
/// How often an idle worker looks for due rows.
const IDLE: Duration = Duration::from_millis(500);

fn lease_seconds(config: &ConfirmConfig) -> i64 {
    3 * config.timeout.as_secs().max(1) as i64
}

/// Seconds before try `attempt + 1`: 2, 4, 8 … capped at an hour, with jitter so that many
/// failed rows do not come back at the same second.
pub fn backoff(attempt: i64) -> i64 {
    let base = 2_i64.saturating_pow(attempt.clamp(1, 12) as u32).min(3600);
    base + rand::rng().random_range(0..=base / 4)
}

/// Starts one worker when delivery is configured.
pub fn spawn(state: &AppState) {
    let Some(config) = state.config.vneid_confirm.clone() else { return };
    let state = state.clone();
    tokio::spawn(async move {
        let worker = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let client = match reqwest::Client::builder().timeout(config.timeout).build() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the VNeID delivery client could not start");
                return;
            }
        };
        tracing::info!(url = %config.url, "VNeID confirmation worker started");
        loop {
            match run_once(&state, &config, &client, &worker).await {
                Ok(0) => tokio::time::sleep(IDLE).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "VNeID delivery round failed");
                    tokio::time::sleep(IDLE * 4).await;
                }
            }
        }
    });
}

/// Claims due rows and sends each; the number sent.
pub async fn run_once(
    state: &AppState,
    config: &ConfirmConfig,
    client: &reqwest::Client,
    worker: &str,
) -> anyhow::Result<usize> {
    let claimed = claim(&state.store, worker, lease_seconds(config)).await?;
    for (id, attempts) in &claimed {
        deliver(state, config, client, id, *attempts).await?;
    }
    Ok(claimed.len())
}

async fn claim(store: &Store, worker: &str, lease: i64) -> sqlx::Result<Vec<(String, i64)>> {
    let at = now();
    let lock = if matches!(store, Store::Postgres(_)) { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE vneid_outbox SET claimed_by = $1, lease_until = $2 WHERE certificate_id IN (\
         SELECT certificate_id FROM vneid_outbox WHERE state = 'pending' AND next_at <= $3 \
         AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_at LIMIT {CLAIM}{lock}) \
         RETURNING certificate_id, attempts"
    );
    on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(worker).bind(at + lease).bind(at).fetch_all(pool).await)
}

/// What the receiver is sent: see `docs/vneid-confirm.md`.
async fn body(state: &AppState, id: &str) -> anyhow::Result<Option<Value>> {
    type Row = (String, i64, i64, i64, String, Option<Vec<u8>>, Option<Vec<u8>>, String);
    let row: Option<Row> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT c.target_group, c.level, c.share, c.issued_at, c.holder_name, p.cccd_enc, a.cccd_enc, c.credential \
         FROM certificate c JOIN account a ON a.id = c.account_id LEFT JOIN person p ON p.id = c.person_id \
         WHERE c.id = $1 AND c.withdrawn_at IS NULL AND c.revoked_at IS NULL")
        .bind(id).fetch_optional(pool).await?);
    let Some((group, level, share, issued_at, name, person_cccd, account_cccd, credential)) = row else {
        return Ok(None);
    };
    let citizen = person_cccd.or(account_cccd).and_then(|blob| state.keys.citizen.decrypt(&blob));
    let Some(citizen) = citizen else { return Ok(None) };
    Ok(Some(json!({
        "idempotency_key": id,
        "certificate_id": id,
        "citizen_id": citizen.expose(),
        "full_name": name,
        "achievement": {
            "profile": group,
            "name": format!("Phổ cập kỹ năng số — {}", target_group_label(&group)),
            "level": level,
            "result_percent": share,
        },
        "issued_at": crate::certificates::credential::rfc3339(issued_at),
        "verify_url": crate::certificates::pages::verify_url(state, id),
        "credential": crate::certificates::credential::with_proof_set(
            serde_json::from_str::<Value>(&credential).unwrap_or_default()
        ),
    })))
}

enum Outcome {
    Delivered(String),
    /// Worth trying again later.
    Retry(String),
    /// The receiver refused the request itself: an officer must look.
    Refused(String),
}

async fn deliver(
    state: &AppState,
    config: &ConfirmConfig,
    client: &reqwest::Client,
    id: &str,
    attempts: i64,
) -> anyhow::Result<()> {
    let outcome = match body(state, id).await? {
        None => Outcome::Refused(
            "không có số định danh cá nhân, hoặc chứng nhận đã rút hay bị thu hồi / no citizen number, or the \
             certificate was withdrawn or revoked"
                .into(),
        ),
        Some(body) => send(config, client, id, &body).await,
    };
    let at = now();
    match outcome {
        Outcome::Delivered(reference) => {
            on_pool!(&state.store, pool => {
                let mut tx = pool.begin().await?;
                sqlx::query("UPDATE vneid_outbox SET state = 'delivered', reference = $1, delivered_at = $2, \
                             attempts = attempts + 1, lease_until = NULL, last_error = NULL WHERE certificate_id = $3")
                    .bind(&reference).bind(at).bind(id).execute(&mut *tx).await?;
                let holder: Option<i64> = sqlx::query_scalar("SELECT person_id FROM certificate WHERE id = $1")
                    .bind(id).fetch_optional(&mut *tx).await?.flatten();
                let mut conn: crate::tracking::Conn = (&mut *tx).into();
                crate::tracking::counters::change(&mut conn, holder.as_slice(),
                    "UPDATE person SET vneid_confirmed_at = COALESCE(vneid_confirmed_at, $1) WHERE id = $2",
                    &[crate::tracking::counters::Bind::Int(at), crate::tracking::counters::Bind::OptInt(holder)]).await?;
                tx.commit().await?;
            });
        }
        Outcome::Retry(error) => {
            let tries = attempts + 1;
            let state_name = if tries >= config.max_attempts { "failed" } else { "pending" };
            tracing::warn!(certificate = id, tries, error = %error, "VNeID confirmation not delivered");
            on_pool!(&state.store, pool => sqlx::query(
                "UPDATE vneid_outbox SET state = $1, attempts = $2, next_at = $3, last_error = $4, lease_until = NULL \
                 WHERE certificate_id = $5 AND state = 'pending'")
                .bind(state_name).bind(tries).bind(at + backoff(tries)).bind(&error).bind(id)
                .execute(pool).await?.rows_affected());
        }
        Outcome::Refused(error) => {
            tracing::warn!(certificate = id, error = %error, "VNeID refused a confirmation");
            on_pool!(&state.store, pool => sqlx::query(
                "UPDATE vneid_outbox SET state = 'failed', attempts = attempts + 1, last_error = $1, lease_until = NULL \
                 WHERE certificate_id = $2 AND state = 'pending'")
                .bind(&error).bind(id).execute(pool).await?.rows_affected());
        }
    }
    Ok(())
}

async fn send(config: &ConfirmConfig, client: &reqwest::Client, id: &str, body: &Value) -> Outcome {
    let mut request = client.post(config.url.clone()).header("Idempotency-Key", id).json(body);
    if let Some(token) = &config.token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Outcome::Retry("hết thời gian chờ / timed out".into()),
        Err(e) => return Outcome::Retry(format!("không kết nối được / cannot connect: {}", e.without_url())),
    };
    let status = response.status();
    let reply: Value = response.json().await.unwrap_or_default();
    let reference = reply["reference"].as_str().map(str::to_owned);
    match (status.as_u16(), reference) {
        // 409: the receiver already holds this key; its reference stands.
        (200..=299 | 409, Some(reference)) => Outcome::Delivered(reference),
        (200..=299 | 409, None) => Outcome::Retry(format!("HTTP {status} thiếu reference / without a reference")),
        (400 | 401 | 403 | 404 | 422, _) => Outcome::Refused(format!("HTTP {status}")),
        _ => Outcome::Retry(format!("HTTP {status}")),
    }
}
