//! The visit form (`/tham-nha/`), which works with no signal: a service worker keeps the page, its
//! script and the team's household list; a visit saved offline waits in the phone's IndexedDB and is
//! sent to `POST /api/v1/visits` when the connection returns. Without JavaScript the same form is a
//! plain form post (with its CSRF token), online.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::teams::{self, Team};
use super::visits::{DONE, Outcome, Present, VisitInput, prepare};
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::identity::audit::{self, Entry};
use crate::on_pool;
use crate::store::Store;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, ErrorBody, PageError};
use crate::web::extract::{Form, Json, Query};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;

/// Who records visits: the members of the community tech teams.
pub const VISITORS: &[Role] = &[ToCongNgheSo];
const SCRIPT: &str = include_str!("../../static/tham-nha.js");
const WORKER: &str = include_str!("../../static/tham-nha-sw.js");

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/tham-nha/", Access::roles(VISITORS, Scope::Anywhere), form_page),
        Route::post("/tham-nha/", Access::roles(VISITORS, Scope::Anywhere), form_post),
        Route::get("/tham-nha/tham-nha.js", Access::Public, script),
        Route::get("/tham-nha/sw.js", Access::Public, worker),
        Route::post("/api/v1/visits", Access::roles(VISITORS, Scope::Anywhere), api_post),
        Route::get("/api/v1/visits/households", Access::roles(VISITORS, Scope::Anywhere), api_households),
    ]
}

fn javascript(body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], body)
        .into_response()
}

async fn script() -> Response {
    javascript(SCRIPT)
}

/// The service worker: served from `/tham-nha/`, so it controls the form's pages and no other.
async fn worker() -> Response {
    javascript(WORKER)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub birth_year: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Household {
    pub code: String,
    pub village: String,
    pub village_name: String,
    pub members: Vec<Member>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HouseholdsJson {
    /// The team's id; null for an account in no team (and then no households).
    pub team: Option<i64>,
    pub households: Vec<Household>,
}

type MemberRow = (String, String, String, i64, Option<String>, i64);

/// The households of the team's villages within `scope`, with their living members; `only` narrows
/// to one household.
async fn households(
    store: &Store,
    team: &Team,
    scope: &crate::web::scope::UnitScope,
    only: Option<&str>,
) -> Result<Vec<Household>, AppError> {
    let within =
        scope.predicate(crate::web::scope::Columns { village: Some("p.village_code"), ..Default::default() }, 4);
    let sql = format!(
        "SELECT p.household_code, p.village_code, u.name, p.id, p.full_name, CAST(p.birth_year AS BIGINT) \
         FROM person p JOIN tech_team_village v ON v.village_code = p.village_code AND v.team_id = $1 \
         JOIN unit u ON u.code = p.village_code \
         WHERE p.commune_code = $2 AND p.erased_at IS NULL AND ($3 = '' OR p.household_code = $3) AND {} \
         ORDER BY p.village_code, p.household_code, p.birth_year, p.id",
        within.sql
    );
    let rows: Vec<MemberRow> = on_pool!(store, pool => crate::bind_scope!(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(team.id).bind(&team.commune_code).bind(only.unwrap_or("")),
        within).fetch_all(pool).await)?;
    let mut out: Vec<Household> = Vec::new();
    for (code, village, village_name, id, name, birth_year) in rows {
        let member = Member { id, name: name.unwrap_or_default(), birth_year };
        match out.last_mut() {
            Some(h) if h.code == code && h.village == village => h.members.push(member),
            _ => out.push(Household { code, village, village_name, members: vec![member] }),
        }
    }
    Ok(out)
}

async fn audit_list(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    team: &Team,
    rows: usize,
    household: Option<&str>,
) -> Result<(), AppError> {
    audit::record(
        &state.store,
        Entry {
            account_id: Some(staff.id()),
            action: "person.list",
            unit_code: Some(&team.commune_code),
            detail: Some(
                serde_json::json!({"list": "team_households", "team": team.id, "household": household, "rows": rows}),
            ),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct TeamQuery {
    #[serde(default, alias = "to")]
    team: Option<i64>,
    #[serde(default)]
    ho: Option<String>,
    #[serde(default)]
    da_ghi: Option<String>,
}

/// The team of the request: the one asked for among the account's teams, else its first.
async fn chosen_team(
    state: &AppState,
    staff: &Staff,
    asked: Option<i64>,
) -> Result<(Vec<Team>, Option<Team>), AppError> {
    let all = teams::of_member(&state.store, staff.id()).await?;
    let team = match asked {
        Some(id) => Some(all.iter().find(|t| t.id == id).cloned().ok_or_else(|| {
            AppError::not_found("team_not_found", "Bạn không thuộc tổ công nghệ số này. / You are not in this team.")
        })?),
        None => all.first().cloned(),
    };
    Ok((all, team))
}

#[derive(Template)]
#[template(path = "community/visit_form.html")]
struct FormPage {
    nav: Nav,
    teams: Vec<Team>,
    team: Option<Team>,
    villages: Vec<(String, String)>,
    household: Option<Household>,
    asked_household: String,
    id: String,
    today: String,
    done: &'static [(&'static str, &'static str)],
    saved: bool,
}

/// `GET /tham-nha/`: the visit form of the volunteer's team.
pub async fn form_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<TeamQuery>,
) -> Result<Html<String>, PageError> {
    let (all, team) = chosen_team(&state, &staff, query.team).await?;
    let asked = query.ho.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let (villages, household) = match (&team, asked) {
        (Some(t), Some(code)) => {
            let found = households(&state.store, t, &staff.scope, Some(code)).await?.into_iter().next();
            audit_list(&state, &ctx, &staff, t, found.as_ref().map_or(0, |h| h.members.len()), Some(code)).await?;
            (teams::villages(&state.store, t.id).await?, found)
        }
        (Some(t), None) => (teams::villages(&state.store, t.id).await?, None),
        _ => (Vec::new(), None),
    };
    Ok(Html(render(&FormPage {
        nav: ctx.nav(),
        teams: all,
        team,
        villages,
        household,
        asked_household: asked.unwrap_or_default().to_owned(),
        id: uuid::Uuid::new_v4().to_string(),
        today: crate::domain::time::today().to_string(),
        done: &DONE,
        saved: query.da_ghi.is_some(),
    })?))
}

/// The form's fields as pairs: the checkboxes repeat (`co_mat=…&co_mat=…`).
fn visit_of_form(pairs: &[(String, String)]) -> Result<VisitInput, AppError> {
    let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or(String::new(), |(_, v)| v.clone());
    let many = |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let ids = |name: &str| -> Result<Vec<i64>, AppError> {
        many(name)
            .iter()
            .map(|v| {
                v.parse()
                    .map_err(|_| AppError::bad_request("invalid_present", "Người có mặt không hợp lệ. / Bad person."))
            })
            .collect()
    };
    let (level, bank) = (ids("muc2")?, ids("ngan_hang")?);
    let mut present_ids = ids("co_mat")?;
    // Confirming a fact means the person was there.
    present_ids.extend(level.iter().chain(&bank));
    present_ids.sort_unstable();
    present_ids.dedup();
    let team = one("to").parse().map_err(|_| AppError::bad_request("invalid_team", "Chọn tổ. / Choose the team."))?;
    Ok(VisitInput {
        id: one("id"),
        team,
        household: one("ho"),
        visited_on: one("ngay"),
        present: present_ids
            .into_iter()
            .map(|person| Present {
                person,
                vneid_level2: level.contains(&person),
                bank_account: bank.contains(&person),
            })
            .collect(),
        done: many("da_lam"),
        still_needed: one("con_can"),
        next_visit_on: one("lan_sau"),
    })
}

fn conflict() -> AppError {
    AppError::Conflict {
        code: "visit_conflict",
        message: "Mã lượt thăm này đã được gửi với nội dung khác; bản trên máy chủ được giữ nguyên. \
                  / This visit id was already sent with other content; the server's copy is kept."
            .into(),
    }
}

async fn store_visit(state: &AppState, ctx: &Ctx, staff: &Staff, input: &VisitInput) -> Result<Outcome, AppError> {
    let visit = prepare(&state.store, input, staff.id(), &staff.scope, ctx.address()).await?;
    let outcome = state.visits.write(visit).await.map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    match outcome {
        Outcome::Conflict => Err(conflict()),
        other => Ok(other),
    }
}

/// `POST /tham-nha/`: the form without JavaScript.
pub async fn form_post(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let input = visit_of_form(&pairs)?;
    store_visit(&state, &ctx, &staff, &input).await?;
    Ok(Redirect::to(&format!("/tham-nha/?to={}&da_ghi=1", input.team)).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitAnswer {
    pub id: String,
    /// `stored` (201) or `duplicate` (200: the same visit was already stored; nothing changed).
    pub outcome: &'static str,
}

#[utoipa::path(post, path = "/api/v1/visits", tag = "community", request_body = VisitInput,
    description = "A door-to-door visit from a community tech team's phone, with the session cookie and the page's \
        CSRF token in `x-csrf-token`. The id is made on the phone: the same id with the same content is a harmless resend.",
    responses(
        (status = 201, body = VisitAnswer, description = "stored"),
        (status = 200, body = VisitAnswer, description = "duplicate: the same visit was already stored"),
        (status = 400, body = ErrorBody, description = "invalid_visit_id, invalid_visit_date, invalid_next_visit, invalid_done, invalid_present, note_too_long, person_not_in_household"),
        (status = 401, body = ErrorBody, description = "unauthorized"),
        (status = 403, body = ErrorBody, description = "forbidden, csrf_failed"),
        (status = 404, body = ErrorBody, description = "team_not_found, household_not_found"),
        (status = 409, body = ErrorBody, description = "visit_conflict: the id was stored with other content; nothing was overwritten"),
    ))]
pub async fn api_post(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Json(input): Json<VisitInput>,
) -> Result<Response, AppError> {
    let outcome = store_visit(&state, &ctx, &staff, &input).await?;
    let id = uuid::Uuid::parse_str(input.id.trim()).map(|u| u.to_string()).unwrap_or_default();
    Ok(match outcome {
        Outcome::Stored => (StatusCode::CREATED, Json(VisitAnswer { id, outcome: "stored" })).into_response(),
        _ => (StatusCode::OK, Json(VisitAnswer { id, outcome: "duplicate" })).into_response(),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HouseholdsQuery {
    /// The team's id; the account's first team when absent.
    team: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/visits/households", tag = "community", params(HouseholdsQuery),
    description = "The households of the team's villages with their members, for the visit form to keep offline.",
    responses(
        (status = 200, body = HouseholdsJson),
        (status = 401, body = ErrorBody, description = "unauthorized"),
        (status = 404, body = ErrorBody, description = "team_not_found"),
    ))]
pub async fn api_households(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<HouseholdsQuery>,
) -> Result<Response, AppError> {
    let (_, team) = chosen_team(&state, &staff, query.team).await?;
    // In no team yet: nothing to keep.
    let Some(team) = team else {
        return Ok(Json(HouseholdsJson { team: None, households: Vec::new() }).into_response());
    };
    let list = households(&state.store, &team, &staff.scope, None).await?;
    audit_list(&state, &ctx, &staff, &team, list.iter().map(|h| h.members.len()).sum(), None).await?;
    let mut response = Json(HouseholdsJson { team: Some(team.id), households: list }).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-cache"));
    Ok(response)
}
