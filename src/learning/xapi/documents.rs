//! The document resources of xAPI 1.0.3 (7.3–7.6): state (`/xapi/activities/state`), activity
//! profile (`/xapi/activities/profile`) and agent profile (`/xapi/agents/profile`). Each document
//! belongs to the client that wrote it. ETags are the SHA-1 of the content; `If-Match` and
//! `If-None-Match` are honoured on every write, and a profile overwritten without either is a 409.
//! `POST` merges JSON objects (the posted properties over the stored ones).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use serde_json::Value;
use sha1::Digest;

use super::{LrsClient, bad, parse_uuid};
use crate::app::AppState;
use crate::on_pool;
use crate::web::error::AppError;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    State,
    ActivityProfile,
    AgentProfile,
}

impl Kind {
    pub fn of_path(path: &str) -> Self {
        if path.ends_with("/activities/state") {
            Self::State
        } else if path.ends_with("/activities/profile") {
            Self::ActivityProfile
        } else {
            Self::AgentProfile
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::ActivityProfile => "activity_profile",
            Self::AgentProfile => "agent_profile",
        }
    }

    fn id_param(self) -> &'static str {
        if self == Self::State { "stateId" } else { "profileId" }
    }

    fn params(self) -> &'static [&'static str] {
        match self {
            Self::State => &["activityId", "agent", "registration", "stateId", "since"],
            Self::ActivityProfile => &["activityId", "profileId", "since"],
            Self::AgentProfile => &["agent", "profileId", "since"],
        }
    }
}

/// One document, or the set a list or a state DELETE covers (`doc_id` absent).
pub struct Key {
    kind: Kind,
    activity_id: String,
    agent_key: String,
    registration: String,
    doc_id: Option<String>,
    since: Option<i64>,
}

pub fn key(kind: Kind, pairs: &[(String, String)]) -> Result<Key, AppError> {
    for (i, (name, _)) in pairs.iter().enumerate() {
        if !kind.params().contains(&name.as_str()) || pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(bad(format!("{name}: tham số không dùng ở đây / unknown or repeated parameter")));
        }
    }
    let get = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let activity_id = match (kind, get("activityId")) {
        (Kind::AgentProfile, _) => String::new(),
        (_, Some(id)) if super::formats::is_iri(id) => id.to_owned(),
        (_, Some(_)) => return Err(bad("activityId: phải là IRI / must be an IRI")),
        (_, None) => return Err(bad("activityId: bắt buộc / is required")),
    };
    let agent_key = match (kind, get("agent")) {
        (Kind::ActivityProfile, _) => String::new(),
        (_, Some(raw)) => {
            let agent: Value = serde_json::from_str(raw).map_err(|_| bad("agent: phải là JSON / must be JSON"))?;
            super::validate::agent(&agent).map_err(super::statements::invalid)?;
            super::statements::agent_key(&agent).ok_or_else(|| bad("agent: needs an account"))?
        }
        (_, None) => return Err(bad("agent: bắt buộc / is required")),
    };
    let registration = match get("registration") {
        None => String::new(),
        Some(r) => {
            parse_uuid(&Value::String(r.into())).ok_or_else(|| bad("registration: phải là UUID / must be a UUID"))?
        }
    };
    let since = get("since")
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp_millis())
                .map_err(|_| bad("since: phải theo RFC 3339 / must be an RFC 3339 timestamp"))
        })
        .transpose()?;
    Ok(Key { kind, activity_id, agent_key, registration, doc_id: get(kind.id_param()).map(str::to_owned), since })
}

fn needs_id(key: &Key) -> Result<&str, AppError> {
    key.doc_id.as_deref().ok_or_else(|| bad(format!("{}: bắt buộc / is required", key.kind.id_param())))
}

const WHERE_KEY: &str = "client = $1 AND kind = $2 AND activity_id = $3 AND agent_key = $4 AND registration = $5";

async fn current(
    state: &AppState,
    client: &LrsClient,
    key: &Key,
    id: &str,
) -> Result<Option<(String, String, Vec<u8>, i64)>, AppError> {
    let sql =
        format!("SELECT etag, content_type, content, updated_ms FROM xapi_document WHERE {WHERE_KEY} AND doc_id = $6");
    Ok(on_pool!(&state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&client.key).bind(key.kind.name()).bind(&key.activity_id).bind(&key.agent_key).bind(&key.registration)
        .bind(id).fetch_optional(pool).await)?)
}

fn etag_of(content: &[u8]) -> String {
    hex::encode(sha1::Sha1::digest(content))
}

/// Whether a conditional header's list names the current ETag (`*` names any).
fn names(header: &str, etag: &str) -> bool {
    header.split(',').map(|t| t.trim().trim_start_matches("W/").trim_matches('"')).any(|t| t == "*" || t == etag)
}

fn precondition_failed() -> AppError {
    AppError::Status {
        status: StatusCode::PRECONDITION_FAILED,
        code: "document_changed",
        message: "tài liệu đã thay đổi hoặc điều kiện không đúng / If-Match or If-None-Match does not hold".into(),
    }
}

fn changed_meanwhile() -> AppError {
    AppError::Conflict {
        code: "document_conflict",
        message:
            "tài liệu đã có: cần If-Match hoặc If-None-Match / the document exists: send If-Match or If-None-Match"
                .into(),
    }
}

fn is_json(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// `GET`: one document with its ETag, or the ids of the documents (updated after `since`).
pub async fn get(state: &AppState, client: &LrsClient, key: Key) -> Result<Response, AppError> {
    let Some(id) = key.doc_id.as_deref() else {
        let sql = format!(
            "SELECT doc_id FROM xapi_document WHERE {WHERE_KEY} AND ($6 IS NULL OR updated_ms > $6) ORDER BY doc_id"
        );
        let ids: Vec<String> = on_pool!(&state.store, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&client.key).bind(key.kind.name()).bind(&key.activity_id).bind(&key.agent_key)
            .bind(&key.registration).bind(key.since).fetch_all(pool).await)?;
        return Ok(crate::web::extract::Json(ids).into_response());
    };
    let (etag, content_type, content, updated_ms) = current(state, client, &key, id)
        .await?
        .ok_or_else(|| AppError::not_found("document_not_found", "Không có tài liệu này. / No such document."))?;
    let mut response = content.into_response();
    let headers = response.headers_mut();
    let modified = DateTime::from_timestamp_millis(updated_ms).unwrap_or_default();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::ETAG, format!("\"{etag}\"")),
        (header::LAST_MODIFIED, modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// `PUT` (replace) or `POST` (merge JSON objects), under the preconditions the headers state.
pub async fn write(
    state: &AppState,
    client: &LrsClient,
    key: Key,
    headers: &HeaderMap,
    body: &[u8],
    merge: bool,
) -> Result<Response, AppError> {
    let id = needs_id(&key)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let existing = current(state, client, &key, id).await?;
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    let if_none_match = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    match (&existing, if_match, if_none_match) {
        (None, Some(_), _) => return Err(precondition_failed()),
        (Some((etag, ..)), Some(m), _) if !names(m, etag) => return Err(precondition_failed()),
        (Some((etag, ..)), None, Some(m)) if names(m, etag) => return Err(precondition_failed()),
        (Some(_), None, None) if !merge && key.kind != Kind::State => return Err(changed_meanwhile()),
        _ => {}
    }
    let (content_type, content) = match (&existing, merge) {
        (Some((_, stored_type, stored, _)), true) => {
            let posted = json_object(&content_type, body, "nội dung gửi / the posted document")?;
            let mut merged = json_object(stored_type, stored, "tài liệu đã lưu / the stored document")?;
            merged.extend(posted);
            ("application/json".to_owned(), Value::Object(merged).to_string().into_bytes())
        }
        (None, true) if is_json(&content_type) => {
            json_object(&content_type, body, "nội dung gửi / the posted document")?;
            (content_type, body.to_vec())
        }
        _ => (content_type, body.to_vec()),
    };
    let etag = etag_of(&content);
    let now = crate::domain::time::now_ms();
    let written = match &existing {
        // Only over the version read: a rival's write in between is a conflict, not lost.
        Some((old, ..)) => {
            let sql = format!(
                "UPDATE xapi_document SET content_type = $7, content = $8, etag = $9, updated_ms = $10 \
                 WHERE {WHERE_KEY} AND doc_id = $6 AND etag = $11"
            );
            on_pool!(&state.store, pool => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&client.key).bind(key.kind.name()).bind(&key.activity_id).bind(&key.agent_key)
                .bind(&key.registration).bind(id).bind(&content_type).bind(&content).bind(&etag).bind(now).bind(old)
                .execute(pool).await.map(|r| r.rows_affected()))?
        }
        None => on_pool!(&state.store, pool => sqlx::query(
            "INSERT INTO xapi_document (client, kind, activity_id, agent_key, registration, doc_id, content_type, \
             content, etag, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING")
            .bind(&client.key).bind(key.kind.name()).bind(&key.activity_id).bind(&key.agent_key)
            .bind(&key.registration).bind(id).bind(&content_type).bind(&content).bind(&etag).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?,
    };
    if written == 0 {
        return Err(if if_match.is_some() || if_none_match.is_some() {
            precondition_failed()
        } else {
            changed_meanwhile()
        });
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn json_object(content_type: &str, body: &[u8], what: &str) -> Result<serde_json::Map<String, Value>, AppError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) if is_json(content_type) => Ok(map),
        _ => Err(bad(format!(
            "{what}: POST chỉ gộp được đối tượng JSON / POST merges only JSON objects (application/json)"
        ))),
    }
}

/// `DELETE`: one document (under `If-Match` if given), or every state document of the activity,
/// agent and registration.
pub async fn delete(state: &AppState, client: &LrsClient, key: Key, headers: &HeaderMap) -> Result<Response, AppError> {
    let id = match (&key.doc_id, key.kind) {
        (None, Kind::State) => None,
        _ => Some(needs_id(&key)?.to_owned()),
    };
    if let (Some(id), Some(m)) = (&id, headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())) {
        match current(state, client, &key, id).await? {
            Some((etag, ..)) if names(m, &etag) => {}
            _ => return Err(precondition_failed()),
        }
    }
    let sql = format!("DELETE FROM xapi_document WHERE {WHERE_KEY} AND ($6 IS NULL OR doc_id = $6)");
    on_pool!(&state.store, pool => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&client.key).bind(key.kind.name()).bind(&key.activity_id).bind(&key.agent_key)
        .bind(&key.registration).bind(&id).execute(pool).await.map(|_| ()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
