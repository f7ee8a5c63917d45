//! The learning record store: the xAPI 1.0.3 statements resource (`POST`/`PUT`/`GET
//! /xapi/statements`), for the platform's own progress and for outside content with HTTP basic
//! credentials. Learners appear only as accounts on this platform (`{homePage, name}` with the
//! pseudonymous account id): statements carrying an e-mail, a name or another identifier are refused.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::learning::records::{Outcome, Record, Statement};
use crate::on_pool;
use crate::web::error::AppError;
use crate::web::extract::{Json, Query};

pub const VERSION: &str = "1.0.3";
pub const VERB_PROGRESSED: &str = "http://adlnet.gov/expapi/verbs/progressed";
pub const VERB_COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
pub const ACTIVITY_LESSON: &str = "http://adlnet.gov/expapi/activities/lesson";
const MAX_LIMIT: usize = 500;

/// The outside content calling the store, once its basic credentials checked (see the guard).
#[derive(Clone, Debug)]
pub struct LrsClient {
    pub key: String,
    pub name: String,
    /// Reads every statement; without it a client reads only the statements it wrote.
    pub read_all: bool,
}

/// The authority of the platform's own statements (client keys start with `xapi-`).
pub const OWN_AUTHORITY: &str = "hocvuso";

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_request("bad_statement", message)
}

/// The actor of our learners: an account on this platform, named by the pseudonymous id.
pub fn actor(home_page: &str, account_id: &str) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": home_page, "name": account_id}})
}

pub fn actor_key(home_page: &str, account_id: &str) -> String {
    format!("{home_page}|{account_id}")
}

pub fn home_page(state: &AppState) -> String {
    state.config.public_url.as_str().trim_end_matches('/').to_owned()
}

pub fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A checked statement, ready to store.
pub struct Checked {
    pub statement: Statement,
    pub account_id: String,
}

/// Checks one statement as received and completes it with what the store adds.
pub fn check(
    value: Value,
    home_page: &str,
    (authority, authority_key): (&Value, &str),
    stored_ms: i64,
) -> Result<Checked, AppError> {
    let Value::Object(mut s) = value else {
        return Err(bad("statement phải là một đối tượng JSON / must be a JSON object"));
    };
    const ALLOWED: [&str; 10] =
        ["id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version"];
    if let Some(key) = s.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(bad(format!("thuộc tính không được hỗ trợ: {key} / unsupported property {key}")));
    }
    // What the store sets itself is not part of what was sent.
    s.remove("stored");
    s.remove("authority");
    if s.get("version").is_some_and(|v| !v.as_str().is_some_and(|v| v.starts_with("1.0"))) {
        return Err(bad("version phải là 1.0.x / version must be 1.0.x"));
    }
    let id = match s.get("id") {
        None => uuid::Uuid::new_v4().to_string(),
        Some(v) => parse_uuid(v).ok_or_else(|| bad("id phải là UUID / id must be a UUID"))?,
    };
    s.insert("id".into(), Value::String(id.clone()));
    let account_id = check_actor(s.get("actor").ok_or_else(|| bad("thiếu actor / actor is required"))?, home_page)?;
    let verb_id = check_verb(s.get("verb").ok_or_else(|| bad("thiếu verb / verb is required"))?)?;
    let activity_id = check_object(s.get("object").ok_or_else(|| bad("thiếu object / object is required"))?)?;
    if let Some(result) = s.get("result") {
        check_result(result)?;
    }
    let registration = match s.get("context") {
        Some(context) => check_context(context)?,
        None => None,
    };
    let stored =
        DateTime::from_timestamp_millis(stored_ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true);
    // What was sent, before the store fills in a timestamp: a retry hashes the same.
    let content_hash = crate::crypto::short_hash(Value::Object(s.clone()).to_string().as_bytes());
    match s.get("timestamp") {
        Some(Value::String(t)) if DateTime::parse_from_rfc3339(t).is_ok() => {}
        Some(_) => return Err(bad("timestamp phải theo ISO 8601 / timestamp must be ISO 8601")),
        None => {
            s.insert("timestamp".into(), Value::String(stored.clone()));
        }
    }
    s.insert("stored".into(), Value::String(stored));
    s.insert("authority".into(), authority.clone());
    s.insert("version".into(), Value::String(VERSION.into()));
    Ok(Checked {
        statement: Statement {
            id,
            stored_ms,
            actor_key: actor_key(home_page, &account_id),
            verb_id,
            activity_id,
            registration,
            content_hash,
            body: Value::Object(s).to_string(),
            authority: authority_key.to_owned(),
        },
        account_id,
    })
}

fn parse_uuid(v: &Value) -> Option<String> {
    v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()).map(|u| u.hyphenated().to_string())
}

fn is_iri(v: &Value) -> bool {
    v.as_str().and_then(|s| url::Url::parse(s).ok()).is_some()
}

fn check_actor(actor: &Value, home_page: &str) -> Result<String, AppError> {
    let Value::Object(a) = actor else { return Err(bad("actor phải là đối tượng / actor must be an object")) };
    if a.get("objectType").is_some_and(|t| t != "Agent") {
        return Err(bad("actor phải là Agent / actor must be an Agent"));
    }
    if let Some(key) = a.keys().find(|k| !["objectType", "account"].contains(&k.as_str())) {
        return Err(bad(format!(
            "actor chỉ được là tài khoản trên nền tảng (không {key}): người học không được nêu tên hay email \
             / the actor may only be an account on this platform ({key} refused)"
        )));
    }
    let account =
        a.get("account").and_then(Value::as_object).ok_or_else(|| bad("actor cần account / actor needs an account"))?;
    let home = account.get("homePage").and_then(Value::as_str).unwrap_or_default();
    let name = account.get("name").and_then(Value::as_str).unwrap_or_default();
    if home.trim_end_matches('/') != home_page || name.is_empty() || account.len() != 2 {
        return Err(bad(format!(
            "actor.account phải có homePage = {home_page} và name / account must be on {home_page}"
        )));
    }
    Ok(name.to_owned())
}

fn check_verb(verb: &Value) -> Result<String, AppError> {
    let id = verb.get("id").filter(|v| is_iri(v)).and_then(Value::as_str);
    let display_ok = verb.get("display").is_none_or(is_language_map);
    match id {
        Some(id) if display_ok => Ok(id.to_owned()),
        _ => Err(bad("verb cần id là IRI và display là bản đồ ngôn ngữ / verb needs an IRI id and a language map")),
    }
}

fn is_language_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.values().all(Value::is_string))
}

fn check_object(object: &Value) -> Result<Option<String>, AppError> {
    let kind = object.get("objectType").and_then(Value::as_str).unwrap_or("Activity");
    match kind {
        "Activity" => {
            let id = object.get("id").filter(|v| is_iri(v)).and_then(Value::as_str);
            let id = id.ok_or_else(|| bad("object.id phải là IRI / object.id must be an IRI"))?;
            if let Some(definition) = object.get("definition") {
                let ok = definition.is_object()
                    && ["name", "description"].iter().all(|k| definition.get(k).is_none_or(is_language_map))
                    && definition.get("type").is_none_or(is_iri);
                if !ok {
                    return Err(bad("object.definition không hợp lệ / object.definition is not valid"));
                }
            }
            Ok(Some(id.to_owned()))
        }
        "StatementRef" => {
            object
                .get("id")
                .and_then(parse_uuid)
                .ok_or_else(|| bad("StatementRef cần id là UUID / needs a UUID id"))?;
            Ok(None)
        }
        other => Err(bad(format!("object loại {other} chưa được hỗ trợ / object type {other} is not supported"))),
    }
}

fn check_result(result: &Value) -> Result<(), AppError> {
    let Value::Object(r) = result else {
        return Err(bad("result phải là đối tượng / result must be an object"));
    };
    const ALLOWED: [&str; 6] = ["score", "success", "completion", "response", "duration", "extensions"];
    if let Some(key) = r.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(bad(format!("result.{key} không có trong xAPI / unknown result property")));
    }
    if let Some(score) = r.get("score") {
        let n = |k: &str| score.get(k).and_then(Value::as_f64);
        let scaled_ok = score.get("scaled").is_none() || n("scaled").is_some_and(|s| (-1.0..=1.0).contains(&s));
        let raw_ok = match (n("raw"), n("min"), n("max")) {
            (Some(raw), min, max) => min.is_none_or(|m| raw >= m) && max.is_none_or(|m| raw <= m),
            _ => true,
        };
        if !score.is_object() || !scaled_ok || !raw_ok {
            return Err(bad("result.score: scaled trong [-1, 1], raw trong [min, max] / score out of range"));
        }
    }
    for key in ["success", "completion"] {
        if r.get(key).is_some_and(|v| !v.is_boolean()) {
            return Err(bad(format!("result.{key} phải là true/false / must be a boolean")));
        }
    }
    if r.get("duration").is_some_and(|d| !d.as_str().is_some_and(is_duration)) {
        return Err(bad("result.duration phải theo ISO 8601, ví dụ PT1M30S / duration must be ISO 8601"));
    }
    Ok(())
}

/// ISO 8601 durations as xAPI uses them: P[nY][nM][nD][T[nH][nM][n[.n]S]] or PnW.
fn is_duration(d: &str) -> bool {
    let Some(rest) = d.strip_prefix('P') else { return false };
    if rest.is_empty() || rest.ends_with('T') {
        return false;
    }
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let units = |part: &str, allowed: &str| {
        let mut number = String::new();
        let mut seen = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
            } else if allowed.contains(c) && !number.is_empty() && !seen.contains(c) {
                seen.push(c);
                number.clear();
            } else {
                return false;
            }
        }
        number.is_empty()
    };
    units(date, "YMDW") && units(time, "HMS")
}

fn check_context(context: &Value) -> Result<Option<String>, AppError> {
    let Value::Object(c) = context else {
        return Err(bad("context phải là đối tượng / context must be an object"));
    };
    const ALLOWED: [&str; 9] = [
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    ];
    if let Some(key) = c.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(bad(format!("context.{key} không có trong xAPI / unknown context property")));
    }
    if c.contains_key("instructor") || c.contains_key("team") {
        return Err(bad(
            "context.instructor/team có thể chứa danh tính người; không nhận / refused: may identify people",
        ));
    }
    match c.get("registration") {
        None => Ok(None),
        Some(v) => parse_uuid(v).map(Some).ok_or_else(|| bad("context.registration phải là UUID / must be a UUID")),
    }
}

fn require_version(headers: &HeaderMap) -> Result<(), AppError> {
    let version = headers.get("x-experience-api-version").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if version.starts_with("1.0") {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "xapi_version_required",
            "cần tiêu đề X-Experience-API-Version: 1.0.3 / the X-Experience-API-Version header is required",
        ))
    }
}

fn with_version(mut response: Response) -> Response {
    response.headers_mut().insert("x-experience-api-version", HeaderValue::from_static(VERSION));
    response
}

fn authority(state: &AppState, client: &LrsClient) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": format!("{}/xapi/clients", home_page(state)), "name": client.key}})
}

/// Checks every statement, refuses a conflicting id before anything is written, then writes.
async fn store_all(state: &AppState, client: &LrsClient, values: Vec<Value>) -> Result<Vec<String>, AppError> {
    let home = home_page(state);
    let authority = authority(state, client);
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

fn parse_body(body: &Bytes) -> Result<Value, AppError> {
    serde_json::from_slice(body).map_err(|e| bad(format!("JSON không hợp lệ: {e} / invalid JSON")))
}

/// `POST /xapi/statements`: one statement or an array; answers the ids.
pub async fn post(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<LrsClient>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        require_version(&headers)?;
        let values = match parse_body(&body)? {
            Value::Array(values) if !values.is_empty() => values,
            Value::Array(_) => return Err(bad("mảng rỗng / empty array")),
            one => vec![one],
        };
        Ok(Json(store_all(&state, &client, values).await?).into_response())
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response))
}

#[derive(Deserialize)]
pub struct PutQuery {
    #[serde(rename = "statementId")]
    statement_id: Option<String>,
}

/// `PUT /xapi/statements?statementId=…`: one statement under the given id; 204.
pub async fn put(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<LrsClient>,
    Query(query): Query<PutQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        require_version(&headers)?;
        let id = query
            .statement_id
            .as_deref()
            .and_then(|s| parse_uuid(&Value::String(s.into())))
            .ok_or_else(|| bad("cần statementId là UUID / statementId (a UUID) is required"))?;
        let Value::Object(mut statement) = parse_body(&body)? else {
            return Err(bad("statement phải là một đối tượng JSON / must be a JSON object"));
        };
        match statement.get("id").map(parse_uuid) {
            Some(Some(given)) if given != id => return Err(bad("id khác statementId / id differs from statementId")),
            Some(None) => return Err(bad("id phải là UUID / id must be a UUID")),
            _ => {}
        }
        statement.insert("id".into(), Value::String(id));
        store_all(&state, &client, vec![Value::Object(statement)]).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response))
}

#[derive(Deserialize, Default)]
pub struct GetQuery {
    #[serde(rename = "statementId")]
    statement_id: Option<String>,
    #[serde(rename = "voidedStatementId")]
    voided_statement_id: Option<String>,
    agent: Option<String>,
    verb: Option<String>,
    activity: Option<String>,
    registration: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
    ascending: Option<bool>,
    /// Where the previous page stopped: `{stored_ms}.{id}` (from `more`).
    cursor: Option<String>,
}

/// `GET /xapi/statements`: one statement by id, or a filtered page with a `more` link.
/// A client reads the statements it wrote; another's answer as if absent.
pub async fn get(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<LrsClient>,
    headers: HeaderMap,
    Query(q): Query<GetQuery>,
) -> Response {
    let result = async {
        require_version(&headers)?;
        if q.voided_statement_id.is_some() {
            return Err(AppError::not_found(
                "statement_not_found",
                "Không có statement bị hủy nào. / No voided statement.",
            ));
        }
        if let Some(id) = &q.statement_id {
            let id = parse_uuid(&Value::String(id.clone()))
                .ok_or_else(|| bad("statementId phải là UUID / must be a UUID"))?;
            let body: Option<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
                "SELECT body FROM xapi_statement WHERE id = $1 AND NOT voided AND ($2 OR authority = $3)"
            ).bind(&id).bind(client.read_all).bind(&client.key).fetch_optional(pool).await)?;
            let body = body.ok_or_else(|| {
                AppError::not_found("statement_not_found", "Không có statement này. / No such statement.")
            })?;
            return Ok(raw_json(body));
        }
        list(&state, &client, &q).await
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response))
}

fn raw_json(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn millis(raw: &Option<String>, name: &str) -> Result<Option<i64>, AppError> {
    raw.as_deref()
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp_millis())
                .map_err(|_| bad(format!("{name} phải theo ISO 8601 / {name} must be ISO 8601")))
        })
        .transpose()
}

async fn list(state: &AppState, client: &LrsClient, q: &GetQuery) -> Result<Response, AppError> {
    let home = home_page(state);
    let actor_key = match &q.agent {
        None => None,
        Some(raw) => {
            let agent: Value = serde_json::from_str(raw).map_err(|_| bad("agent phải là JSON / agent must be JSON"))?;
            Some(actor_key(&home, &check_actor(&agent, &home)?))
        }
    };
    let since = millis(&q.since, "since")?;
    let until = millis(&q.until, "until")?;
    let limit = match q.limit.unwrap_or(0) {
        0 => MAX_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let ascending = q.ascending.unwrap_or(false);
    let cursor = q.cursor.as_deref().and_then(|c| {
        let (ms, id) = c.split_once('.')?;
        Some((ms.parse::<i64>().ok()?, id.to_owned()))
    });
    let (cmp, order) = if ascending { (">", "ASC") } else { ("<", "DESC") };
    let sql = format!(
        "SELECT stored_ms, id, body FROM xapi_statement WHERE NOT voided \
         AND ($1 IS NULL OR actor_key = $1) AND ($2 IS NULL OR verb_id = $2) AND ($3 IS NULL OR activity_id = $3) \
         AND ($4 IS NULL OR registration = $4) AND ($5 IS NULL OR stored_ms > $5) AND ($6 IS NULL OR stored_ms <= $6) \
         AND ($7 IS NULL OR (stored_ms, id) {cmp} ($7, $8)) AND ($10 OR authority = $11) \
         ORDER BY stored_ms {order}, id {order} LIMIT $9"
    );
    let (cursor_ms, cursor_id) = cursor.map_or((None, None), |(ms, id)| (Some(ms), Some(id)));
    let rows: Vec<(i64, String, String)> = on_pool!(&state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&actor_key).bind(&q.verb).bind(&q.activity).bind(&q.registration).bind(since).bind(until)
        .bind(cursor_ms).bind(cursor_id).bind(limit as i64 + 1).bind(client.read_all).bind(&client.key)
        .fetch_all(pool).await)?;
    let more = (rows.len() > limit).then(|| {
        let (ms, id, _) = &rows[limit - 1];
        let mut params: Vec<(String, String)> = Vec::new();
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                params.push((k.to_owned(), v.clone()));
            }
        };
        add("agent", &q.agent);
        add("verb", &q.verb);
        add("activity", &q.activity);
        add("registration", &q.registration);
        add("since", &q.since);
        add("until", &q.until);
        params.push(("limit".into(), limit.to_string()));
        params.push(("ascending".into(), ascending.to_string()));
        params.push(("cursor".into(), format!("{ms}.{id}")));
        let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("/xapi/statements?{query}")
    });
    let statements: Vec<&str> = rows.iter().take(limit).map(|(_, _, body)| body.as_str()).collect();
    // The bodies are stored JSON: joined, not parsed and printed again.
    let body =
        format!("{{\"statements\":[{}],\"more\":{}}}", statements.join(","), Value::String(more.unwrap_or_default()));
    let mut response = raw_json(body);
    response.headers_mut().insert(
        "x-experience-api-consistent-through",
        HeaderValue::from_str(&now_iso()).unwrap_or(HeaderValue::from_static("")),
    );
    Ok(response)
}

/// For the platform's own pages: the statement of a learner's progress event.
pub fn own_statement(
    state: &AppState,
    id: &str,
    account_id: &str,
    verb: &str,
    lesson: (&str, &str, i64),
    result: Value,
) -> Statement {
    let home = home_page(state);
    let (slug, title, version) = lesson;
    let stored_ms = crate::domain::time::now_ms();
    let stored =
        DateTime::from_timestamp_millis(stored_ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true);
    let verb_name = if verb == VERB_COMPLETED { "completed" } else { "progressed" };
    let mut s = Map::new();
    s.insert("id".into(), json!(id));
    s.insert("actor".into(), actor(&home, account_id));
    s.insert("verb".into(), json!({"id": verb, "display": {"en-US": verb_name}}));
    s.insert(
        "object".into(),
        json!({"objectType": "Activity", "id": format!("{home}/bai-hoc/{slug}"),
               "definition": {"type": ACTIVITY_LESSON, "name": {"vi-VN": title}}}),
    );
    s.insert("result".into(), result);
    s.insert(
        "context".into(),
        json!({"platform": "hocvuso", "extensions": {format!("{home}/xapi/lesson-version"): version}}),
    );
    let content_hash = crate::crypto::short_hash(Value::Object(s.clone()).to_string().as_bytes());
    s.insert("timestamp".into(), json!(stored));
    s.insert("stored".into(), json!(stored));
    s.insert("authority".into(), json!({"objectType": "Agent", "account": {"homePage": home, "name": OWN_AUTHORITY}}));
    s.insert("version".into(), json!(VERSION));
    Statement {
        id: id.to_owned(),
        stored_ms,
        actor_key: actor_key(&home, account_id),
        verb_id: verb.to_owned(),
        activity_id: Some(format!("{home}/bai-hoc/{slug}")),
        registration: None,
        content_hash,
        body: Value::Object(s).to_string(),
        authority: OWN_AUTHORITY.to_owned(),
    }
}

/// How the route guard admits outside content to the store: HTTP basic credentials of an xAPI client.
pub const CLIENT: crate::web::access::Access = crate::web::access::Access::Client(check_client);

fn check_client(
    state: AppState,
    mut req: axum::extract::Request,
) -> futures::future::BoxFuture<'static, Result<axum::extract::Request, axum::response::Response>> {
    use axum::response::IntoResponse;
    Box::pin(async move {
        let refuse = || {
            let mut response = AppError::Unauthorized.into_response();
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"xapi\""),
            );
            response
        };
        let (key, secret) = crate::web::access::basic_credentials(req.headers()).ok_or_else(refuse)?;
        let client = authenticate(&state, &key, &secret).await.map_err(|e| e.into_response())?;
        req.extensions_mut().insert(client.ok_or_else(refuse)?);
        Ok(req)
    })
}

/// Checks an xAPI client's basic credentials against the stored hash of its secret.
pub async fn authenticate(state: &AppState, key: &str, secret: &str) -> Result<Option<LrsClient>, AppError> {
    let row: Option<(Vec<u8>, String, bool)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT secret_hash, name, read_all FROM xapi_client WHERE key = $1"
    ).bind(key).fetch_optional(pool).await)?;
    let given = crate::crypto::token_hash(secret);
    Ok(row.and_then(|(hash, name, read_all)| {
        use subtle::ConstantTimeEq;
        bool::from(hash.ct_eq(&given)).then(|| LrsClient { key: key.to_owned(), name, read_all })
    }))
}

/// Registers outside content; returns (key, secret). Only the secret's hash is kept. A client with
/// `read_all` reads every learner's statements (an outside reporting tool); the platform's own
/// reports read the database and need no client.
pub async fn create_client(
    store: &crate::store::Store,
    name: &str,
    read_all: bool,
) -> anyhow::Result<(String, String)> {
    let key = format!("xapi-{}", &crate::crypto::random_token()[..16]);
    let secret = crate::crypto::random_token();
    on_pool!(store, pool => sqlx::query(
        "INSERT INTO xapi_client (key, secret_hash, name, created_at, read_all) VALUES ($1, $2, $3, $4, $5)"
    ).bind(&key).bind(crate::crypto::token_hash(&secret)).bind(name).bind(crate::domain::time::now())
    .bind(read_all).execute(pool).await.map(|_| ()))?;
    Ok((key, secret))
}

#[cfg(test)]
mod tests {
    use super::is_duration;

    #[test]
    fn iso_durations() {
        for ok in ["PT1M30S", "P1D", "PT0.5S", "P1Y2M3DT4H5M6S", "P2W"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["P", "PT", "1M", "PT1X", "PTM", "P1M1M"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }
}
