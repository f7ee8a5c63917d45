//! A learner's progress: where they are in each lesson, time spent, completion. Every change is a
//! form post carrying an event id rendered into the page; the id is the xAPI statement id, so a
//! retry after a dropped connection is recognised and never counts twice.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::domain::time::now;
use crate::learning::catalog::LessonView;
use crate::learning::records::{Outcome, ProgressChange, Record};
use crate::learning::xapi::{self, VERB_COMPLETED, VERB_PROGRESSED};
use crate::store::Store;
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};

/// Longest stretch between two events counted as learning (a phone left on the table is not).
const MAX_GAP_SECONDS: i64 = 600;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Row {
    pub lesson_slug: String,
    pub version: i64,
    pub position: i64,
    pub seconds: i64,
    pub score: Option<i64>,
    pub completed_at: Option<i64>,
    pub updated_at: i64,
}

impl Row {
    pub fn done(&self) -> bool {
        self.completed_at.is_some()
    }
}

crate::direct_row!(Row { lesson_slug, version, position, seconds, score, completed_at, updated_at });

macro_rules! progress_select {
    ($rest:literal) => {
        concat!("SELECT lesson_slug, version, position, seconds, score, completed_at, updated_at FROM progress", $rest)
    };
}

const OF: &str = progress_select!(" WHERE account_id = $1");
const ONE: &str = progress_select!(" WHERE account_id = $1 AND lesson_slug = $2");

/// All of one learner's progress, by lesson. Lesson pages read it, so SQLite answers it on the
/// calling thread.
pub async fn of(state: &AppState, account_id: &str) -> sqlx::Result<HashMap<String, Row>> {
    let rows: Vec<Row> = match &state.store {
        Store::Sqlite(sqlite) => sqlite.direct.all(OF, &[("$1", &account_id)], Row::from_direct)?,
        Store::Postgres(pool) => sqlx::query_as(OF).bind(account_id).fetch_all(pool).await?,
    };
    Ok(rows.into_iter().map(|r| (r.lesson_slug.clone(), r)).collect())
}

pub async fn one(state: &AppState, account_id: &str, slug: &str) -> sqlx::Result<Option<Row>> {
    match &state.store {
        Store::Sqlite(sqlite) => sqlite.direct.optional(ONE, &[("$1", &account_id), ("$2", &slug)], Row::from_direct),
        Store::Postgres(pool) => sqlx::query_as(ONE).bind(account_id).bind(slug).fetch_optional(pool).await,
    }
}

/// The id a page renders into its progress form. Time-ordered (UUIDv7): statements of one moment
/// land side by side in the statement index, so a group commit writes a few index pages, not one
/// page per event. It says when the page was shown, which the statement records anyway.
pub fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn parse_event_id(raw: &str) -> Result<String, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| AppError::bad_request("bad_event", "Biểu mẫu thiếu mã sự kiện. / The form lacks its event id."))
}

/// The version a learner's post refers to; it must be one that exists.
async fn lesson_version(state: &AppState, slug: &str, version: i64) -> Result<std::sync::Arc<LessonView>, AppError> {
    state
        .catalog
        .version(&state.store, slug, version)
        .await?
        .ok_or_else(|| AppError::not_found("lesson_not_found", "Không có bài học này. / No such lesson."))
}

/// One learner event as the page posted it.
struct Event<'a> {
    id: String,
    verb: &'a str,
    position: i64,
    /// Right answers and questions, for a completion.
    score: Option<(i64, i64)>,
    shown_at: Option<i64>,
}

async fn record(state: &AppState, account_id: &str, lesson: &LessonView, event: Event<'_>) -> Result<(), AppError> {
    let Event { id: event, verb, position, score, shown_at } = event;
    // The event happens when the server says. Time on this part: since the page was shown, as the
    // page's `luc` claims; the claim is the client's, so it is kept within the last MAX_GAP_SECONDS
    // of the server's clock (any value, even i64::MIN, neither overflows nor counts more), and the
    // writer counts no more than the server's own time since this learner's previous event on the
    // lesson (`records::ON_PROGRESS_CONFLICT`).
    let at = now();
    let seconds = shown_at.map_or(0, |shown| at - shown.clamp(at - MAX_GAP_SECONDS, at));
    let mut result = json!({"duration": format!("PT{seconds}S"), "extensions": {
        format!("{}/xapi/position", xapi::home_page(state)): position,
    }});
    if let Some((raw, max)) = score {
        result["completion"] = json!(true);
        result["success"] = json!(raw == max);
        result["score"] =
            json!({"raw": raw, "min": 0, "max": max, "scaled": if max > 0 { raw as f64 / max as f64 } else { 1.0 }});
    }
    let statement =
        xapi::own_statement(state, &event, account_id, verb, (&lesson.slug, &lesson.title, lesson.version), result);
    let progress = ProgressChange {
        account_id: account_id.to_owned(),
        slug: lesson.slug.clone(),
        version: lesson.version,
        position,
        seconds,
        score: score.map(|(raw, _)| raw),
        completed: score.is_some(),
        at,
    };
    match state.records.write(Record { statement, progress: Some(progress) }).await {
        // The same event again (a retry, a reload): already counted once.
        Ok(Outcome::Stored | Outcome::Duplicate | Outcome::Conflict) => Ok(()),
        Err(e) => Err(AppError::Internal(anyhow::anyhow!(e))),
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    su_kien: String,
    phien_ban: i64,
    den: i64,
    /// When the page was shown (Unix seconds).
    luc: Option<i64>,
}

/// `POST /bai-hoc/{slug}/tien-do`: the learner moves to part `den`.
pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let event = parse_event_id(&form.su_kien)?;
    let lesson = lesson_version(&state, &slug, form.phien_ban).await?;
    crate::learning::pages::ensure_open(&state, user.id(), &slug).await?;
    let last = lesson.parts.len() as i64;
    if !(0..=last).contains(&form.den) {
        return Err(AppError::bad_request("bad_position", "Phần không có trong bài. / No such part.").into());
    }
    let event = Event { id: event, verb: VERB_PROGRESSED, position: form.den, score: None, shown_at: form.luc };
    record(&state, user.id(), &lesson, event).await?;
    Ok(Redirect::to(&format!("/bai-hoc/{slug}?phan={}#bai", form.den)).into_response())
}

#[derive(Template)]
#[template(path = "learning/result.html")]
struct ResultPage {
    nav: Nav,
    lesson: std::sync::Arc<LessonView>,
    answers: Vec<Answered>,
    right: usize,
    next: Option<(String, String)>,
}

struct Answered {
    question: String,
    given: Option<String>,
    correct: String,
    right: bool,
    explain: String,
}

/// `POST /bai-hoc/{slug}/tra-loi`: the check questions answered; the lesson is complete.
pub async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let event = parse_event_id(form.get("su_kien").map_or("", String::as_str))?;
    let version = form.get("phien_ban").and_then(|v| v.parse().ok()).unwrap_or(0);
    let lesson = lesson_version(&state, &slug, version).await?;
    crate::learning::pages::ensure_open(&state, user.id(), &slug).await?;
    let answers: Vec<Answered> = lesson
        .checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let given =
                form.get(&format!("c{i}")).and_then(|v| v.parse::<usize>().ok()).filter(|g| *g < check.choices.len());
            Answered {
                question: check.question.clone(),
                given: given.map(|g| check.choices[g].clone()),
                correct: check.choices[check.answer].clone(),
                right: given == Some(check.answer),
                explain: check.explain.clone(),
            }
        })
        .collect();
    let right = answers.iter().filter(|a| a.right).count();
    let position = lesson.parts.len() as i64;
    let shown_at = form.get("luc").and_then(|v| v.parse().ok());
    let score = Some((right as i64, answers.len() as i64));
    record(&state, user.id(), &lesson, Event { id: event, verb: VERB_COMPLETED, position, score, shown_at }).await?;
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let next = crate::learning::pages::next_in_course(&snapshot, &slug)
        .and_then(|s| snapshot.lessons.get(&s).map(|l| (s.clone(), l.title.clone())));
    Ok(Html(render(&ResultPage { nav: ctx.nav(), lesson, answers, right, next })?))
}
