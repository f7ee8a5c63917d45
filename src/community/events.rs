//! Events (IV.1.4): the "Ngày hội toàn dân học tập số" on 10 October each year, and others, held by
//! the province (everyone may come) or by a commune (its people). Learners register themselves;
//! staff check people in with the same QR pass as the classes (or the citizen number), registering at
//! the door whoever had not. Counts by commune go through the staff's [`UnitScope`].

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::classes::{commune_only, parse_day, required, unit_name};
use super::classes_pass::{self, Learner};
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::domain::time::{now, today};
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::audit::Entry;
use crate::tracking::counters::Bind;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, page_with_status, render};
use crate::web::routes::Route;
use crate::web::scope::Columns;
use crate::{audit_write, bind_scope, on_pool};

pub const EVENT_STAFF: &[Role] = &[CanBoXa, ToCongNgheSo, QuanTriTinh];

pub fn routes() -> Vec<Route> {
    let staff = Access::roles(EVENT_STAFF, Scope::Unit("unit"));
    vec![
        Route::get("/su-kien", Access::SignedIn, mine),
        Route::post("/su-kien/{event}/dang-ky", Access::SignedIn, register),
        Route::get("/quan-ly/don-vi/{unit}/su-kien", staff, list),
        Route::post("/quan-ly/don-vi/{unit}/su-kien", staff, create),
        Route::get("/quan-ly/don-vi/{unit}/su-kien/{event}", staff, show),
        Route::post("/quan-ly/don-vi/{unit}/su-kien/{event}", staff, check_in),
    ]
}

pub const KINDS: &[(&str, &str)] =
    &[("ngay_hoi_10_10", "Ngày hội toàn dân học tập số (10/10)"), ("khac", "Sự kiện khác")];

fn kind_label(code: &str) -> &'static str {
    KINDS.iter().find(|(c, _)| *c == code).map_or("", |(_, l)| l)
}

pub struct EventLine {
    pub id: i64,
    pub unit: String,
    pub kind: &'static str,
    pub title: String,
    pub held_on: String,
    pub place: String,
    pub registered: i64,
    pub present: i64,
}

/// An event with the learner's registration and check-in times.
type MineRow = (i64, String, String, String, String, String, Option<i64>, Option<i64>);
/// An event with its registrations and check-ins in scope.
type LineRow = (i64, String, String, String, String, String, i64, i64);

// ---- learners ----

#[derive(Template)]
#[template(path = "community/events_mine.html")]
struct MinePage {
    nav: Nav,
    events: Vec<(EventLine, &'static str)>,
    has_person: bool,
}

async fn learner_of(state: &AppState, ctx: &Ctx) -> Result<Option<Learner>, AppError> {
    match ctx.user()?.account.person_id {
        Some(id) => Ok(Some(classes_pass::by_id(state, id).await?)),
        None => Ok(None),
    }
}

/// `GET /su-kien`: the coming events of the province and of the learner's commune, and their registration.
pub async fn mine(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let learner = learner_of(&state, &ctx).await?;
    let commune = learner.as_ref().map_or(String::new(), |l| l.commune.clone());
    let person = learner.as_ref().map_or(0, |l| l.id);
    let rows: Vec<MineRow> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT e.id, e.unit_code, e.kind, e.title, e.held_on, e.place, p.registered_at, p.checked_in_at \
         FROM community_event e LEFT JOIN event_participant p ON p.event_id = e.id AND p.person_id = $1 \
         WHERE e.held_on >= $2 AND e.unit_code IN ($3, $4) ORDER BY e.held_on LIMIT 50",
    ).bind(person).bind(today().to_string()).bind(PROVINCE_CODE).bind(&commune).fetch_all(pool).await)?;
    let events = rows
        .into_iter()
        .map(|(id, unit, kind, title, held_on, place, registered, present)| {
            let status = match (registered, present) {
                (_, Some(_)) => "Đã điểm danh",
                (Some(_), None) => "Đã đăng ký",
                _ => "",
            };
            (EventLine { id, unit, kind: kind_label(&kind), title, held_on, place, registered: 0, present: 0 }, status)
        })
        .collect();
    Ok(Html(render(&MinePage { nav: ctx.nav(), events, has_person: learner.is_some() })?))
}

/// `POST /su-kien/{event}/dang-ky`: the learner registers for an event of the province or their commune.
pub async fn register(State(state): State<AppState>, ctx: Ctx, Path(event): Path<i64>) -> Result<Response, PageError> {
    let learner = learner_of(&state, &ctx).await?.ok_or_else(|| {
        AppError::bad_request("no_person", "Tài khoản chưa gắn với hồ sơ người dân, nên chưa đăng ký được.")
    })?;
    let user = ctx.user()?;
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let unit: Option<String> = sqlx::query_scalar("SELECT unit_code FROM community_event WHERE id = $1 AND held_on >= $2")
            .bind(event).bind(today().to_string()).fetch_optional(&mut *tx).await.map_err(AppError::from)?;
        match unit {
            Some(u) if u == PROVINCE_CODE || u == learner.commune => {}
            _ => return Err(AppError::not_found("unknown_event", "Không có sự kiện này. / No such event.").into()),
        }
        let inserted = sqlx::query(
            "INSERT INTO event_participant (event_id, person_id, commune_code, registered_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id, person_id) DO NOTHING",
        ).bind(event).bind(learner.id).bind(&learner.commune).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if inserted > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(user.id()),
                action: "event.register",
                person_id: Some(learner.id),
                unit_code: Some(&learner.commune),
                detail: Some(serde_json::json!({"event": event})),
                address: ctx.address(),
            }).map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/su-kien").into_response())
}

// ---- staff ----

#[derive(Template)]
#[template(path = "community/events.html")]
struct ListPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    events: Vec<EventLine>,
    can_create: bool,
    kinds: &'static [(&'static str, &'static str)],
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let events = crate::community::events::lines(&state, &staff).await?;
    let can_create = unit == PROVINCE_CODE || commune_only(&unit).is_ok();
    Ok(Html(render(&ListPage { nav: ctx.nav(), unit, unit_name, events, can_create, kinds: KINDS })?))
}

/// The events staff see (the province's and those of the units in scope), with the registrations
/// and check-ins of the people in scope.
async fn lines(state: &AppState, staff: &Staff) -> Result<Vec<EventLine>, AppError> {
    let events = staff.scope.predicate(Columns { unit: Some("e.unit_code"), ..Columns::default() }, 2);
    let people = staff
        .scope
        .predicate(Columns { commune: Some("p.commune_code"), ..Columns::default() }, 2 + events.binds.len());
    let sql = format!(
        "SELECT e.id, e.unit_code, e.kind, e.title, e.held_on, e.place, \
         (SELECT COUNT(*) FROM event_participant p WHERE p.event_id = e.id AND {people}), \
         (SELECT COUNT(p.checked_in_at) FROM event_participant p WHERE p.event_id = e.id AND {people}) \
         FROM community_event e WHERE (e.unit_code = $1 OR {events}) ORDER BY e.held_on DESC LIMIT 200",
        people = people.sql,
        events = events.sql,
    );
    let rows: Vec<LineRow> = on_pool!(&state.store, pool => {
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(PROVINCE_CODE);
        let query = bind_scope!(query, events);
        bind_scope!(query, people).fetch_all(pool).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, unit, kind, title, held_on, place, registered, present)| EventLine {
            id,
            unit,
            kind: kind_label(&kind),
            title,
            held_on,
            place,
            registered,
            present,
        })
        .collect())
}

#[derive(Deserialize)]
pub struct EventForm {
    #[serde(default)]
    loai: String,
    #[serde(default)]
    ten: String,
    #[serde(default)]
    ngay: String,
    #[serde(default)]
    dia_diem: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<EventForm>,
) -> Result<Response, PageError> {
    if unit != PROVINCE_CODE {
        commune_only(&unit)?;
    }
    let kind = KINDS
        .iter()
        .find(|(c, _)| *c == form.loai.trim())
        .map(|(c, _)| *c)
        .ok_or_else(|| AppError::bad_request("invalid_kind", "Hãy chọn loại sự kiện."))?;
    let title = required(&form.ten, "missing_title", "Tên sự kiện")?;
    let place = required(&form.dia_diem, "missing_place", "Địa điểm")?;
    let day = parse_day(&form.ngay)?;
    const INSERT: &str = "INSERT INTO community_event (unit_code, kind, title, held_on, place, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let held_on = day.to_string();
    let texts = [&unit, kind, &title, &held_on, &place, staff.id()];
    let binds: Vec<Bind> = texts.into_iter().map(Bind::Text).chain([Bind::Int(now())]).collect();
    let entry = super::records::created(&ctx, &staff, "event.create", &unit);
    let id = super::records::insert_audited(&state, INSERT, &binds, entry, "event").await?;
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/su-kien/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "community/event.html")]
struct EventPage {
    nav: Nav,
    unit: String,
    event: EventLine,
    by_commune: Vec<(String, i64, i64)>,
    message: Option<String>,
    refused: bool,
}

async fn event_in_scope(state: &AppState, staff: &Staff, event: i64) -> Result<EventLine, AppError> {
    lines(state, staff)
        .await?
        .into_iter()
        .find(|e| e.id == event)
        .ok_or_else(|| AppError::not_found("unknown_event", "Không có sự kiện này. / No such event."))
}

async fn show_event(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    unit: String,
    event: EventLine,
    outcome: Result<String, AppError>,
) -> Result<Response, AppError> {
    let people = staff.scope.predicate(Columns { commune: Some("p.commune_code"), ..Columns::default() }, 2);
    let sql = format!(
        "SELECT u.name, COUNT(*), COUNT(p.checked_in_at) FROM event_participant p JOIN unit u ON u.code = p.commune_code \
         WHERE p.event_id = $1 AND {} GROUP BY u.name ORDER BY u.name",
        people.sql
    );
    let by_commune: Vec<(String, i64, i64)> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(event.id), people).fetch_all(pool).await)?;
    let (status, message, refused) = match outcome {
        Ok(m) if m.is_empty() => (axum::http::StatusCode::OK, None, false),
        Ok(m) => (axum::http::StatusCode::OK, Some(m), false),
        // A failure of the server is not the person's: it goes up to be logged as one.
        Err(e @ (AppError::Internal(_) | AppError::Unavailable)) => return Err(e),
        Err(e) => (e.status(), Some(e.body().message), true),
    };
    Ok(page_with_status(status, &EventPage { nav: ctx.nav(), unit, event, by_commune, message, refused }))
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, event)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let event = event_in_scope(&state, &staff, event).await?;
    Ok(show_event(&state, &ctx, &staff, unit, event, Ok(String::new())).await?)
}

#[derive(Deserialize)]
pub struct CheckInForm {
    #[serde(default)]
    ma: String,
}

async fn admit(state: &AppState, ctx: &Ctx, staff: &Staff, event: &EventLine, input: &str) -> Result<String, AppError> {
    let (learner, method) = classes_pass::identify(state, input).await?;
    if event.unit != PROVINCE_CODE {
        classes_pass::within(&learner, &event.unit, "xã, phường tổ chức sự kiện")?;
    }
    if !staff.scope.covers_unit(&learner.village) {
        return Err(AppError::Forbidden {
            code: "out_of_scope",
            message: "Người này không thuộc đơn vị bạn phụ trách, nên bạn không điểm danh được. / Outside your unit."
                .into(),
        });
    }
    let at = now();
    let changed = on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await?;
        let changed = sqlx::query(
            "INSERT INTO event_participant (event_id, person_id, commune_code, registered_at, checked_in_at, checked_by) \
             VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (event_id, person_id) DO UPDATE \
             SET checked_in_at = $4, checked_by = $5 WHERE event_participant.checked_in_at IS NULL",
        ).bind(event.id).bind(learner.id).bind(&learner.commune).bind(at).bind(staff.id())
        .execute(&mut *tx).await?.rows_affected();
        if changed > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(staff.id()),
                action: "event.checkin",
                person_id: Some(learner.id),
                unit_code: Some(&learner.commune),
                detail: Some(serde_json::json!({"event": event.id, "method": method.code()})),
                address: ctx.address(),
            })?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(changed)
    })?;
    Ok(if changed > 0 {
        format!("Đã điểm danh: {}.", learner.name)
    } else {
        format!("{} đã được điểm danh rồi.", learner.name)
    })
}

pub async fn check_in(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, event)): Path<(String, i64)>,
    Form(form): Form<CheckInForm>,
) -> Result<Response, PageError> {
    let line = event_in_scope(&state, &staff, event).await?;
    let outcome = admit(&state, &ctx, &staff, &line, &form.ma).await;
    let line = event_in_scope(&state, &staff, event).await?;
    Ok(show_event(&state, &ctx, &staff, unit, line, outcome).await?)
}
