//! The resources of xAPI 1.0.3 besides statements: `/xapi/about` (no credentials), `/xapi/agents`
//! (the Person of an account agent), `/xapi/activities` (the stored definition) and the document
//! resources (state, activity profile, agent profile; see `documents`).

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::alternate::Alternate;
use super::documents::{self, Kind};
use super::{LrsClient, VERSION, bad, require_version, with_version};
use crate::app::AppState;
use crate::on_pool;
use crate::web::error::AppError;
use crate::web::extract::{Json, Query};

type Pairs = Vec<(String, String)>;

fn only<'a>(pairs: &'a Pairs, name: &str) -> Result<&'a str, AppError> {
    if let Some((other, _)) = pairs.iter().find(|(n, _)| n != name) {
        return Err(bad(format!("{other}: tham số không dùng ở đây / unknown parameter")));
    }
    match pairs.as_slice() {
        [(_, value)] => Ok(value),
        _ => Err(bad(format!("{name}: bắt buộc, một lần / required, once"))),
    }
}

/// `GET /xapi/about`: the versions this store speaks. No credentials needed.
pub async fn about() -> Response {
    with_version(Json(json!({"version": [VERSION, "1.0.2", "1.0.1", "1.0.0"], "extensions": {}})).into_response())
}

/// `GET /xapi/agents?agent=…`: the Person object of an agent. Learners are known by their account
/// alone, so the Person carries that account.
pub async fn agents(headers: HeaderMap, Query(pairs): Query<Pairs>) -> Response {
    let result = (|| {
        require_version(&headers)?;
        let agent: Value =
            serde_json::from_str(only(&pairs, "agent")?).map_err(|_| bad("agent: phải là JSON / must be JSON"))?;
        super::validate::agent(&agent).map_err(super::statements::invalid)?;
        if agent.get("objectType").and_then(Value::as_str) == Some("Group") {
            return Err(bad("agent: phải là Agent / must be an Agent"));
        }
        Ok(Json(json!({"objectType": "Person", "account": [agent["account"]]})).into_response())
    })();
    with_version(result.unwrap_or_else(IntoResponse::into_response))
}

/// `GET /xapi/activities?activityId=…`: the activity with the latest definition the calling
/// client's statements gave it (a client with read_all: anyone's).
pub async fn activities(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<LrsClient>,
    headers: HeaderMap,
    Query(pairs): Query<Pairs>,
) -> Response {
    let result = async {
        require_version(&headers)?;
        let id = only(&pairs, "activityId")?;
        if !super::formats::is_iri(id) {
            return Err(bad("activityId: phải là IRI / must be an IRI"));
        }
        let bodies: Vec<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
            "SELECT body FROM xapi_statement WHERE activity_id = $1 AND ($2 OR authority = $3) \
             ORDER BY stored_ms DESC LIMIT 50"
        ).bind(id).bind(client.read_all).bind(&client.key).fetch_all(pool).await)?;
        let definition = bodies.iter().find_map(|b| {
            let statement: Value = serde_json::from_str(b).ok()?;
            statement.get("object")?.get("definition").cloned()
        });
        let mut activity = json!({"objectType": "Activity", "id": id});
        if let Some(definition) = definition {
            activity["definition"] = definition;
        }
        Ok(Json(activity).into_response())
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response))
}

fn not_alternate_get(alternate: Option<axum::Extension<Alternate>>) -> Option<Response> {
    if alternate.is_some_and(|a| a.0.0 == Method::GET) {
        return None;
    }
    Some(with_version(
        AppError::Status {
            status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "chỉ GET (hoặc POST ?method=GET) / only GET, or POST ?method=GET".into(),
        }
        .into_response(),
    ))
}

/// `POST /xapi/agents?method=GET` (the alternate request syntax): answered as the GET.
pub async fn agents_alternate(
    alternate: Option<axum::Extension<Alternate>>,
    headers: HeaderMap,
    query: Query<Pairs>,
) -> Response {
    match not_alternate_get(alternate) {
        Some(refused) => refused,
        None => agents(headers, query).await,
    }
}

/// `POST /xapi/activities?method=GET` (the alternate request syntax): answered as the GET.
pub async fn activities_alternate(
    state: State<AppState>,
    client: axum::Extension<LrsClient>,
    alternate: Option<axum::Extension<Alternate>>,
    headers: HeaderMap,
    query: Query<Pairs>,
) -> Response {
    match not_alternate_get(alternate) {
        Some(refused) => refused,
        None => activities(state, client, headers, query).await,
    }
}

async fn document(
    state: &AppState,
    client: &LrsClient,
    method: Method,
    uri: &Uri,
    pairs: &Pairs,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, AppError> {
    require_version(headers)?;
    let key = documents::key(Kind::of_path(uri.path()), pairs)?;
    match method {
        Method::GET | Method::HEAD => documents::get(state, client, key).await,
        Method::PUT => documents::write(state, client, key, headers, body, false).await,
        Method::POST => documents::write(state, client, key, headers, body, true).await,
        Method::DELETE => documents::delete(state, client, key, headers).await,
        _ => Err(bad("method: phải là GET, PUT, POST hoặc DELETE / must be GET, PUT, POST or DELETE")),
    }
}

/// Every method of the document resources (state, activity profile, agent profile), the alternate
/// syntax's included.
pub async fn documents(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<LrsClient>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.extensions.get::<Alternate>().map_or(parts.method.clone(), |a| a.0.clone());
    let pairs: Pairs =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let result = async {
        let body = axum::body::to_bytes(body, crate::web::BODY_LIMIT).await.map_err(|_| AppError::Status {
            status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large",
            message: "tài liệu quá lớn / the document is too large".into(),
        })?;
        document(&state, &client, method, &parts.uri, &pairs, &parts.headers, &body).await
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response))
}
