//! The learning record store, xAPI 1.0.3 (issue 24; the conformance statement is in the README):
//! statements (`statements`: write, `validate`/`formats`: checks, `query`/`formats_out`: reads,
//! `attachments`), the other resources (`resources`, `documents`) and the alternate request syntax
//! (`alternate`), for the platform's own progress and for outside content with HTTP basic
//! credentials. Learners appear only as accounts on this platform (`{homePage, name}` with the
//! pseudonymous account id): statements carrying an e-mail, a name or another identifier are refused.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

mod alternate;
mod attachments;
mod documents;
pub mod formats;
mod formats_out;
mod query;
pub mod resources;
pub mod statements;
pub mod validate;

use crate::app::AppState;
use crate::learning::records::Statement;
use crate::on_pool;
use crate::web::error::AppError;
use crate::web::extract::Query;

pub const VERSION: &str = "1.0.3";
pub const VERB_PROGRESSED: &str = "http://adlnet.gov/expapi/verbs/progressed";
pub const VERB_COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
pub const ACTIVITY_LESSON: &str = "http://adlnet.gov/expapi/activities/lesson";

/// The outside content calling the store, once its basic credentials checked (see the guard).
#[derive(Clone, Debug)]
pub struct LrsClient {
    pub key: String,
    pub name: String,
    /// Reads every statement; without it a client reads only the statements it wrote.
    pub read_all: bool,
}

/// The largest statements POST: a batch with its attachments (`multipart/mixed`).
pub const STATEMENTS_LIMIT: usize = 16 << 20;

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

fn parse_uuid(v: &Value) -> Option<String> {
    v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()).map(|u| u.hyphenated().to_string())
}

fn raw_json(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The statements of a request body, JSON or `multipart/mixed` with attachments (checked against
/// the statements' `attachments`).
fn received(headers: &HeaderMap, body: Bytes) -> Result<(Value, Vec<attachments::Part>), AppError> {
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (json, parts) = match attachments::boundary(content_type) {
        None => (body, Vec::new()),
        Some(boundary) => {
            let mut parts = attachments::parse(&body, &boundary?)?;
            let first = parts.remove(0);
            if !first.content_type.starts_with("application/json") {
                return Err(bad(
                    "multipart: phần đầu phải là application/json / the first part must be the statements",
                ));
            }
            (first.bytes, parts)
        }
    };
    let value = statements::parse_body(&json)?;
    let list = match &value {
        Value::Array(list) => list.as_slice(),
        one => std::slice::from_ref(one),
    };
    attachments::check(list, &parts)?;
    Ok((value, parts))
}

/// `POST /xapi/statements`: one statement or an array; answers the ids. With `?method=` (the
/// alternate request syntax), the request the form carries.
pub async fn post(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<LrsClient>,
    alternate: Option<axum::Extension<alternate::Alternate>>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use axum::http::Method;
    let method = alternate.map_or(Method::POST, |a| a.0.0);
    if method == Method::GET {
        return get(State(state), axum::Extension(client), headers, Query(pairs)).await;
    }
    let result = async {
        require_version(&headers)?;
        let (body, parts) = received(&headers, body)?;
        match method {
            Method::PUT => {
                let id = pairs.iter().find(|(n, _)| n == "statementId").map(|(_, v)| v.as_str());
                statements::put_value(&state, &client, id, body, parts).await
            }
            Method::POST => statements::post_values(&state, &client, body, parts).await,
            _ => Err(bad("method: phải là GET, PUT hoặc POST / must be GET, PUT or POST")),
        }
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
        let (body, parts) = received(&headers, body)?;
        statements::put_value(&state, &client, query.statement_id.as_deref(), body, parts).await
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response))
}

/// `GET /xapi/statements` (and HEAD): one statement by id, or a filtered page with a `more` link.
/// A client reads the statements it wrote; another's answer as if absent.
pub async fn get(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<LrsClient>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let result = async {
        require_version(&headers)?;
        let q = query::GetQuery::parse(pairs)?;
        let languages =
            formats_out::accepted(headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        query::answer(&state, &client, &q, &languages).await
    }
    .await;
    with_version(query::consistent(result.unwrap_or_else(IntoResponse::into_response)))
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
        voids: None,
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
        if req.method() == axum::http::Method::POST && req.uri().query().is_some_and(|q| q.starts_with("method=")) {
            req = alternate::unwrap(req).await.map_err(|e| with_version(e.into_response()))?;
        }
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
