//! Reading statements: `GET /xapi/statements` (and HEAD), one by id or a filtered page with a
//! `more` link, under the rules of xAPI 1.0.3 (7.2.3): unknown parameters refused, `format`,
//! `related_activities`/`related_agents`, and `X-Experience-API-Consistent-Through` on every answer.

use axum::http::HeaderValue;
use axum::response::Response;
use chrono::DateTime;
use serde_json::Value;

use super::statements::agent_key;
use super::{LrsClient, bad, now_iso, parse_uuid, raw_json};
use crate::app::AppState;
use crate::on_pool;
use crate::web::error::AppError;

const MAX_LIMIT: usize = 500;

/// The parameters of xAPI 1.0.3 for this resource, and `cursor`, the store's own (in `more`).
const PARAMS: [&str; 15] = [
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "cursor",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Exact,
    Ids,
    Canonical,
}

#[derive(Default)]
pub struct GetQuery {
    pairs: Vec<(String, String)>,
}

impl GetQuery {
    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, AppError> {
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !PARAMS.contains(&name.as_str()) {
                return Err(bad(format!("{name}: tham số không có trong xAPI / unknown parameter")));
            }
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(bad(format!("{name}: tham số lặp lại / repeated parameter")));
            }
        }
        Ok(Self { pairs })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> Result<bool, AppError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(bad(format!("{name}: phải là true hoặc false / must be true or false"))),
        }
    }

    fn format(&self) -> Result<Format, AppError> {
        match self.get("format") {
            None | Some("exact") => Ok(Format::Exact),
            Some("ids") => Ok(Format::Ids),
            Some("canonical") => Ok(Format::Canonical),
            Some(_) => Err(bad("format: phải là ids, exact hoặc canonical / must be ids, exact or canonical")),
        }
    }
}

/// The answer to a statements GET, whatever it is, carries the consistent-through header.
pub fn consistent(mut response: Response) -> Response {
    if let Ok(now) = HeaderValue::from_str(&now_iso()) {
        response.headers_mut().insert("x-experience-api-consistent-through", now);
    }
    response
}

pub async fn answer(
    state: &AppState,
    client: &LrsClient,
    q: &GetQuery,
    languages: &[String],
) -> Result<Response, AppError> {
    let format = q.format()?;
    let attach = q.flag("attachments")?;
    let single = match (q.get("statementId"), q.get("voidedStatementId")) {
        (Some(_), Some(_)) => return Err(bad("statementId, voidedStatementId: chỉ một / only one of them")),
        (Some(id), None) => Some((id, false)),
        (None, Some(id)) => Some((id, true)),
        (None, None) => None,
    };
    let Some((id, voided)) = single else {
        let body = list(state, client, q, format, languages).await?;
        return if attach { super::attachments::multipart(state, body).await } else { Ok(raw_json(body)) };
    };
    if let Some((name, _)) = q
        .pairs
        .iter()
        .find(|(n, _)| !["statementId", "voidedStatementId", "attachments", "format"].contains(&n.as_str()))
    {
        return Err(bad(format!(
            "{name}: không dùng cùng statementId/voidedStatementId / not allowed with statementId or voidedStatementId"
        )));
    }
    let id =
        parse_uuid(&Value::String(id.to_owned())).ok_or_else(|| bad("statementId: phải là UUID / must be a UUID"))?;
    let row: Option<(i64, String)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT stored_ms, body FROM xapi_statement WHERE id = $1 AND voided = $2 AND ($3 OR authority = $4)"
    ).bind(&id).bind(voided).bind(client.read_all).bind(&client.key).fetch_optional(pool).await)?;
    let (stored_ms, body) =
        row.ok_or_else(|| AppError::not_found("statement_not_found", "Không có statement này. / No such statement."))?;
    let body = shape(body, format, languages);
    let mut response = if attach { super::attachments::multipart(state, body).await? } else { raw_json(body) };
    let modified = DateTime::from_timestamp_millis(stored_ms).unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        response.headers_mut().insert(axum::http::header::LAST_MODIFIED, value);
    }
    Ok(response)
}

fn millis(raw: Option<&str>, name: &str) -> Result<Option<i64>, AppError> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_millis())
            .map_err(|_| bad(format!("{name}: phải theo RFC 3339 / must be an RFC 3339 timestamp")))
    })
    .transpose()
}

/// `value` as it appears in a stored body (compact JSON, keys sorted), for a `LIKE` pattern.
fn like(fragment: String) -> String {
    let escaped = fragment.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

async fn list(
    state: &AppState,
    client: &LrsClient,
    q: &GetQuery,
    format: Format,
    languages: &[String],
) -> Result<String, AppError> {
    let related_agents = q.flag("related_agents")?;
    let related_activities = q.flag("related_activities")?;
    let ascending = q.flag("ascending")?;
    let (actor_key, agent_like) = match q.get("agent") {
        None => (None, None),
        Some(raw) => {
            let agent: Value = serde_json::from_str(raw).map_err(|_| bad("agent: phải là JSON / must be JSON"))?;
            super::validate::agent(&agent).map_err(super::statements::invalid)?;
            let account = agent.get("account").map(|a| {
                let account = format!("\"account\":{a}");
                like(if related_agents { account } else { format!("\"object\":{{{account}") })
            });
            (agent_key(&agent), account)
        }
    };
    let verb = q.get("verb");
    if verb.is_some_and(|v| !super::formats::is_iri(v)) {
        return Err(bad("verb: phải là IRI / must be an IRI"));
    }
    let activity = q.get("activity");
    if activity.is_some_and(|v| !super::formats::is_iri(v)) {
        return Err(bad("activity: phải là IRI / must be an IRI"));
    }
    let activity_like = activity.filter(|_| related_activities).map(|a| like(format!("\"id\":{}", Value::from(a))));
    let registration = match q.get("registration") {
        None => None,
        Some(r) => Some(
            parse_uuid(&Value::String(r.into())).ok_or_else(|| bad("registration: phải là UUID / must be a UUID"))?,
        ),
    };
    let since = millis(q.get("since"), "since")?;
    let until = millis(q.get("until"), "until")?;
    let limit = match q.get("limit").map(str::parse::<usize>).transpose() {
        Ok(n) => match n.unwrap_or(0) {
            0 => MAX_LIMIT,
            n => n.min(MAX_LIMIT),
        },
        Err(_) => return Err(bad("limit: phải là số nguyên không âm / must be a non-negative integer")),
    };
    let cursor = q.get("cursor").and_then(|c| {
        let (ms, id) = c.split_once('.')?;
        Some((ms.parse::<i64>().ok()?, id.to_owned()))
    });
    let (cmp, order) = if ascending { (">", "ASC") } else { ("<", "DESC") };
    let sql = format!(
        "SELECT stored_ms, id, body FROM xapi_statement WHERE NOT voided \
         AND ($1 IS NULL OR actor_key = $1 OR body LIKE $12 ESCAPE '\\') AND ($2 IS NULL OR verb_id = $2) \
         AND ($3 IS NULL OR activity_id = $3 OR body LIKE $13 ESCAPE '\\') \
         AND ($4 IS NULL OR registration = $4) AND ($5 IS NULL OR stored_ms > $5) AND ($6 IS NULL OR stored_ms <= $6) \
         AND ($7 IS NULL OR (stored_ms, id) {cmp} ($7, $8)) AND ($10 OR authority = $11) \
         ORDER BY stored_ms {order}, id {order} LIMIT $9"
    );
    let (cursor_ms, cursor_id) = cursor.map_or((None, None), |(ms, id)| (Some(ms), Some(id)));
    let rows: Vec<(i64, String, String)> = on_pool!(&state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&actor_key).bind(verb).bind(activity).bind(&registration).bind(since).bind(until)
        .bind(cursor_ms).bind(cursor_id).bind(limit as i64 + 1).bind(client.read_all).bind(&client.key)
        .bind(&agent_like).bind(&activity_like)
        .fetch_all(pool).await)?;
    let more = (rows.len() > limit).then(|| {
        let (ms, id, _) = &rows[limit - 1];
        let mut params: Vec<(&str, String)> = q
            .pairs
            .iter()
            .filter(|(n, _)| !["limit", "ascending", "cursor"].contains(&n.as_str()))
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        params.push(("limit", limit.to_string()));
        params.push(("ascending", ascending.to_string()));
        params.push(("cursor", format!("{ms}.{id}")));
        let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("/xapi/statements?{query}")
    });
    let statements: Vec<String> =
        rows.into_iter().take(limit).map(|(_, _, body)| shape(body, format, languages)).collect();
    // The bodies are stored JSON: joined, not parsed and printed again (unless a format asks).
    Ok(format!("{{\"statements\":[{}],\"more\":{}}}", statements.join(","), Value::String(more.unwrap_or_default())))
}

/// A stored statement in the format asked for: as stored (`exact`), identifiers only (`ids`), or
/// with each language map reduced to the language the caller prefers (`canonical`).
fn shape(body: String, format: Format, languages: &[String]) -> String {
    if format == Format::Exact {
        return body;
    }
    let Ok(mut statement) = serde_json::from_str::<Value>(&body) else { return body };
    match format {
        Format::Ids => super::formats_out::ids(&mut statement),
        _ => super::formats_out::canonical(&mut statement, languages),
    }
    statement.to_string()
}
