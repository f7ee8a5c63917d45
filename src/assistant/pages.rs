//! `/tro-ly`: the assistant as a page that works without JavaScript (a form post), with the answer,
//! the lessons it comes from and the "không giúp được" button.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use super::api::{AskReply, reply};
use super::queue;
use crate::app::AppState;
use crate::web::access::{Ctx, Nav};
use crate::web::error::{AppError, PageError};
use crate::web::extract::Form;
use crate::web::limit::Throttled;
use crate::web::pages::render;

#[derive(Template)]
#[template(path = "assistant/ask.html")]
struct AskPage {
    nav: Nav,
    question: String,
    reply: Option<AskReply>,
    thanked: bool,
    error: Option<String>,
}

/// `GET /tro-ly`
pub async fn form(ctx: Ctx) -> Result<Html<String>, PageError> {
    Ok(Html(render(&AskPage { nav: ctx.nav(), question: String::new(), reply: None, thanked: false, error: None })?))
}

#[derive(Deserialize)]
pub struct AskForm {
    #[serde(default)]
    question: String,
}

/// `POST /tro-ly`
pub async fn ask(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Throttled,
    Form(form): Form<AskForm>,
) -> Result<Html<String>, PageError> {
    let (reply, error) = match reply(&state, ctx.user.as_deref(), &form.question).await {
        Ok(r) => (Some(r), None),
        Err(AppError::Status { message, .. }) => (None, Some(message)),
        Err(e) => return Err(e.into()),
    };
    let page =
        AskPage { nav: ctx.nav(), question: form.question.chars().take(500).collect(), reply, thanked: false, error };
    Ok(Html(render(&page)?))
}

#[derive(Deserialize)]
pub struct UnhelpfulForm {
    id: String,
}

/// `POST /tro-ly/khong-giup-duoc`: the learner says the answer did not help.
pub async fn unhelpful(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<UnhelpfulForm>,
) -> Result<Html<String>, PageError> {
    let marked = form.id.len() == 32 && queue::unhelpful(&state.store, &form.id).await?;
    if !marked && queue::question(&state.store, &form.id).await?.is_none() {
        return Err(AppError::not_found("no_question", "Không thấy câu hỏi này. / No such question.").into());
    }
    Ok(Html(render(&AskPage { nav: ctx.nav(), question: String::new(), reply: None, thanked: true, error: None })?))
}
