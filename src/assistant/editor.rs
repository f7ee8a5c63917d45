//! `/bien-tap/tro-ly`: the editors' side of the assistant: the FAQ entries they keep (question,
//! answer, theme and competence tags) and the questions it could not answer or that learners
//! marked unhelpful, grouped by topic.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::faq::{self, Draft, Entry};
use super::queue::{self, Group};
use crate::app::AppState;
use crate::identity::audit::Actor;
use crate::web::access::{Ctx, Nav, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::Form;
use crate::web::pages::{page_with_status, render};

#[derive(Template)]
#[template(path = "assistant/editor.html")]
struct EditorPage {
    nav: Nav,
    entries: Vec<Entry>,
    groups: Vec<Group>,
    problems: Vec<String>,
    draft: Draft,
}

async fn show(state: &AppState, ctx: &Ctx, problems: Vec<String>, draft: Draft) -> Result<EditorPage, AppError> {
    Ok(EditorPage {
        nav: ctx.nav(),
        entries: faq::all(&state.store).await?,
        groups: queue::groups(&state.store, 100).await?,
        problems,
        draft,
    })
}

/// `GET /bien-tap/tro-ly`
pub async fn home(State(state): State<AppState>, ctx: Ctx, _: Staff) -> Result<Html<String>, PageError> {
    Ok(Html(render(&show(&state, &ctx, Vec::new(), Draft::default()).await?)?))
}

#[derive(Deserialize)]
pub struct FaqForm {
    #[serde(default)]
    id: Option<i64>,
    question: String,
    answer: String,
    #[serde(default)]
    themes: String,
    #[serde(default)]
    competences: String,
}

fn codes(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// `POST /bien-tap/tro-ly/hoi-dap`: adds an entry, or changes one (`id`).
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Form(form): Form<FaqForm>,
) -> Result<Response, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let mut draft = Draft {
        key: None,
        question: form.question,
        answer: form.answer,
        themes: codes(&form.themes),
        competences: codes(&form.competences),
    };
    let problems = draft.check(&snapshot.framework);
    if !problems.is_empty() {
        let page = show(&state, &ctx, problems, draft).await?;
        return Ok(page_with_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    if faq::save(&state.store, form.id, &draft, actor).await?.is_none() {
        return Err(AppError::not_found("no_faq", "Không có mục hỏi đáp này. / No such FAQ entry.").into());
    }
    state.catalog.invalidate();
    Ok(Redirect::to("/bien-tap/tro-ly").into_response())
}

#[derive(Deserialize)]
pub struct HideForm {
    id: i64,
    #[serde(default)]
    show: Option<String>,
}

/// `POST /bien-tap/tro-ly/hoi-dap/an`: hides an entry from the assistant (or shows it again).
pub async fn hide(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Form(form): Form<HideForm>,
) -> Result<Redirect, PageError> {
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    if !faq::set_hidden(&state.store, form.id, form.show.is_none(), actor).await? {
        return Err(AppError::not_found("no_faq", "Không có mục hỏi đáp này. / No such FAQ entry.").into());
    }
    state.catalog.invalidate();
    Ok(Redirect::to("/bien-tap/tro-ly"))
}

#[derive(Deserialize)]
pub struct ResolveForm {
    key: String,
}

/// `POST /bien-tap/tro-ly/nhom/xong`: a group of questions is dealt with.
pub async fn resolve(
    State(state): State<AppState>,
    _: Staff,
    Form(form): Form<ResolveForm>,
) -> Result<Redirect, PageError> {
    queue::resolve(&state.store, &form.key).await?;
    Ok(Redirect::to("/bien-tap/tro-ly"))
}
