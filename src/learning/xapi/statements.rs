//! Writing statements: `POST` and `PUT /xapi/statements`. Each statement is checked whole
//! (`validate`), completed with what the store adds, and written through the one record writer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat};
use serde_json::Value;

use super::attachments::Part;
use super::validate::{self, Invalid, VERB_VOIDED};
use super::{LrsClient, VERSION, actor_key, bad, parse_uuid};
use crate::app::AppState;
use crate::learning::records::{Outcome, Record, Statement};
use crate::on_pool;
use crate::web::error::AppError;
use crate::web::extract::Json;

/// A checked statement, ready to store.
pub struct Checked {
    pub statement: Statement,
}

pub(super) fn invalid(e: Invalid) -> AppError {
    match e {
        Invalid::Property { path, reason } => bad(format!("{path}: {reason}")),
        Invalid::Schema(e) => AppError::Internal(anyhow::anyhow!(e)),
    }
}

/// The key the `agent` filter finds an actor by: an account, or a group by its account or its members.
pub fn agent_key(agent: &Value) -> Option<String> {
    let account = |a: &Value| {
        let account = a.get("account")?;
        Some(actor_key(account.get("homePage")?.as_str()?.trim_end_matches('/'), account.get("name")?.as_str()?))
    };
    if let Some(key) = account(agent) {
        return Some(key);
    }
    let mut members: Vec<String> = agent.get("member")?.as_array()?.iter().filter_map(account).collect();
    members.sort();
    Some(format!("group|{}", crate::crypto::short_hash(members.join("\n").as_bytes())))
}

/// Learners on this platform: the actor's accounts (the group's members too) are on our home page.
fn actor_on_home(actor: &Value, home_page: &str, path: &str) -> Result<(), AppError> {
    if let Some(home) = actor.get("account").and_then(|a| a.get("homePage")).and_then(Value::as_str)
        && actor.get("objectType").and_then(Value::as_str) != Some("Group")
        && home.trim_end_matches('/') != home_page
    {
        return Err(bad(format!(
            "{path}.account.homePage: phải là {home_page} (người học của nền tảng) \
             / must be {home_page}: the actor is a learner on this platform"
        )));
    }
    for (i, member) in actor.get("member").and_then(Value::as_array).into_iter().flatten().enumerate() {
        actor_on_home(member, home_page, &format!("{path}.member[{i}]"))?;
    }
    Ok(())
}

/// Checks one statement as received and completes it with what the store adds.
pub fn check(
    value: Value,
    home_page: &str,
    (authority, authority_key): (&Value, &str),
    stored_ms: i64,
) -> Result<Checked, AppError> {
    validate::schema(&value).map_err(invalid)?;
    let Value::Object(mut s) = value else { return Err(bad("statement: must be an object")) };
    validate::rules(&s, "").map_err(invalid)?;
    let actor = s.get("actor").unwrap_or(&Value::Null);
    actor_on_home(actor, home_page, "actor")?;
    let actor_key = agent_key(actor).ok_or_else(|| bad("actor: needs an account"))?;
    validate::normalise(&mut s);
    // What the store sets itself is not part of what was sent (the authority is ours).
    s.remove("stored");
    s.remove("authority");
    let id = match s.get("id") {
        None => uuid::Uuid::new_v4().to_string(),
        Some(v) => parse_uuid(v).ok_or_else(|| bad("id: must be a UUID"))?,
    };
    s.insert("id".into(), Value::String(id.clone()));
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let verb_id = text(s.get("verb").and_then(|v| v.get("id"))).unwrap_or_default();
    let object = s.get("object").unwrap_or(&Value::Null);
    let kind = object.get("objectType").and_then(Value::as_str).unwrap_or("Activity");
    let activity_id = if kind == "Activity" { text(object.get("id")) } else { None };
    let voids = if verb_id == VERB_VOIDED { object.get("id").and_then(parse_uuid) } else { None };
    let registration = s.get("context").and_then(|c| c.get("registration")).and_then(parse_uuid);
    let stored =
        DateTime::from_timestamp_millis(stored_ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true);
    // What was sent, before the store fills in a timestamp: a retry hashes the same.
    let content_hash = crate::crypto::short_hash(Value::Object(s.clone()).to_string().as_bytes());
    s.entry("timestamp").or_insert_with(|| Value::String(stored.clone()));
    s.insert("stored".into(), Value::String(stored));
    s.insert("authority".into(), authority.clone());
    s.insert("version".into(), Value::String(VERSION.into()));
    Ok(Checked {
        statement: Statement {
            id,
            stored_ms,
            actor_key,
            verb_id,
            activity_id,
            registration,
            content_hash,
            body: Value::Object(s).to_string(),
            authority: authority_key.to_owned(),
            voids,
        },
    })
}

/// Checks every statement, refuses a conflicting id before anything is written, then writes.
pub(super) async fn store_all(
    state: &AppState,
    client: &LrsClient,
    values: Vec<Value>,
    parts: Vec<Part>,
) -> Result<Vec<String>, AppError> {
    let home = super::home_page(state);
    let authority = super::authority(state, client);
    let stored_ms = crate::domain::time::now_ms();
    let mut checked = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let one = check(value, &home, (&authority, &client.key), stored_ms).map_err(|e| match e {
            AppError::BadRequest { code, message } => {
                AppError::BadRequest { code, message: format!("statement {i}: {message}") }
            }
            other => other,
        })?;
        if checked.iter().any(|c: &Checked| c.statement.id == one.statement.id) {
            return Err(bad(format!("statement {i}: id lặp lại trong cùng yêu cầu / repeated id in the request")));
        }
        checked.push(one);
    }
    for c in &checked {
        if existing_hash(state, &c.statement.id).await?.is_some_and(|h| h != c.statement.content_hash) {
            return Err(conflict(&c.statement.id));
        }
    }
    // The bytes before the statements that name them: a stored statement never lacks its attachments.
    super::attachments::keep(state, parts).await?;
    let mut ids = Vec::with_capacity(checked.len());
    for c in checked {
        let id = c.statement.id.clone();
        match state.records.write(Record { statement: c.statement, progress: None }).await {
            Ok(Outcome::Stored | Outcome::Duplicate) => ids.push(id),
            Ok(Outcome::Conflict) => return Err(conflict(&id)),
            Err(e) => return Err(AppError::Internal(anyhow::anyhow!(e))),
        }
    }
    Ok(ids)
}

fn conflict(id: &str) -> AppError {
    AppError::Conflict {
        code: "statement_conflict",
        message: format!("đã có statement {id} với nội dung khác / statement {id} exists with different content"),
    }
}

async fn existing_hash(state: &AppState, id: &str) -> sqlx::Result<Option<String>> {
    on_pool!(&state.store, pool => sqlx::query_scalar("SELECT content_hash FROM xapi_statement WHERE id = $1")
        .bind(id).fetch_optional(pool).await)
}

pub(super) fn parse_body(body: &[u8]) -> Result<Value, AppError> {
    serde_json::from_slice(body).map_err(|e| bad(format!("JSON không hợp lệ: {e} / invalid JSON")))
}

/// `POST /xapi/statements`: one statement or an array; answers the ids.
pub(super) async fn post_values(
    state: &AppState,
    client: &LrsClient,
    body: Value,
    parts: Vec<Part>,
) -> Result<Response, AppError> {
    let values = match body {
        Value::Array(values) if !values.is_empty() => values,
        Value::Array(_) => return Err(bad("mảng rỗng / empty array")),
        one => vec![one],
    };
    Ok(Json(store_all(state, client, values, parts).await?).into_response())
}

/// `PUT /xapi/statements?statementId=…`: one statement under the given id; 204.
pub(super) async fn put_value(
    state: &AppState,
    client: &LrsClient,
    statement_id: Option<&str>,
    body: Value,
    parts: Vec<Part>,
) -> Result<Response, AppError> {
    let id = statement_id
        .and_then(|s| parse_uuid(&Value::String(s.into())))
        .ok_or_else(|| bad("statementId: cần là UUID / statementId (a UUID) is required"))?;
    let Value::Object(mut statement) = body else {
        return Err(bad("statement: phải là một đối tượng JSON / must be a JSON object"));
    };
    match statement.get("id").map(parse_uuid) {
        Some(Some(given)) if given != id => return Err(bad("id: khác statementId / differs from statementId")),
        Some(None) => return Err(bad("id: phải là UUID / must be a UUID")),
        _ => {}
    }
    statement.insert("id".into(), Value::String(id));
    store_all(state, client, vec![Value::Object(statement)], parts).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
