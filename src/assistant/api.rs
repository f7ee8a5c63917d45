//! `POST /api/v1/assistant/ask`: the assistant as JSON, without signing in, rate-limited per
//! address. Cross-site forgery is kept out by requiring `Content-Type: application/json` (a form on
//! another site cannot send it without the browser asking first), not by a form token.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::engine::{self, PassageOut};
use super::recommend::{self, Recommendation};
use super::{help, queue};
use crate::app::AppState;
use crate::domain::text::clean;
use crate::web::access::{Ctx, Principal};
use crate::web::error::AppError;
use crate::web::extract::Json;
use crate::web::limit::Throttled;

pub const MAX_QUESTION: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// The question in Vietnamese, with or without diacritics (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub question: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AskReply {
    /// A short answer: the best passage, or a plain "not found" that points to human help.
    pub answer: String,
    /// Whether the platform's content answers the question.
    pub found: bool,
    /// The passages that answer, best first (at most three).
    pub passages: Vec<PassageOut>,
    /// What to learn next (for a signed-in learner; the start of the programme otherwise).
    pub recommendations: Vec<Recommendation>,
    /// The stored question's id, to mark it unhelpful.
    pub question_id: String,
}

/// Everything the API and the page answer, and the question stored.
pub async fn reply(state: &AppState, user: Option<&Principal>, question: &str) -> Result<AskReply, AppError> {
    let question = clean(question);
    if question.is_empty() || question.chars().count() > MAX_QUESTION {
        return Err(AppError::Status {
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_question",
            message: "Câu hỏi cần từ 1 đến 500 ký tự. / The question needs 1 to 500 characters.".into(),
        });
    }
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let built = state.assistant.index(&state.store, &snapshot).await?;
    let what_next = engine::asks_what_next(&question);
    let found = engine::answer(&built.index, &question);
    let known = match user {
        Some(u) => recommend::known(state, u.id(), u.account.person_id).await?,
        None => recommend::Known { group: "nguoi_dan".into(), ..Default::default() },
    };
    let recommendations = recommend::next(&snapshot, &known, if what_next { 5 } else { 3 });
    let answer = if what_next && !recommendations.is_empty() {
        let list: Vec<String> = recommendations.iter().map(|r| format!("• {} — {}", r.title, r.reason)).collect();
        format!("Bạn nên học tiếp:\n{}", list.join("\n"))
    } else if let (Some(llm), true) = (&state.config.assistant_llm, found.found) {
        // The optional language model rephrases the passages; without an answer from it, the passages are the answer.
        match super::llm::rephrase(llm, &question, &found.passages).await {
            Some(text) => text,
            None => engine::text(&found, ""),
        }
    } else {
        let help = if found.found {
            String::new()
        } else {
            help::for_account(&state.store, user.map(Principal::id)).await?.sentence()
        };
        engine::text(&found, &help)
    };
    let answered = found.found || what_next;
    let question_id = queue::record(&state.store, &question, answered, found.top_lesson.as_deref()).await?;
    Ok(AskReply { answer, found: answered, passages: found.passages, recommendations, question_id })
}

/// `POST /api/v1/assistant/ask`
#[utoipa::path(post, path = "/api/v1/assistant/ask", tag = "assistant",
    request_body(content = AskBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The answer, its passages and what to learn next", body = AskReply),
        (status = 400, description = "The body is not JSON", body = crate::web::error::ErrorBody),
        (status = 403, description = "A cross-site request", body = crate::web::error::ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = crate::web::error::ErrorBody),
        (status = 422, description = "No question, or one too long", body = crate::web::error::ErrorBody),
        (status = 429, description = "Too many questions from this address", body = crate::web::error::ErrorBody),
    ))]
pub async fn ask(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Throttled,
    Json(body): Json<AskBody>,
) -> Result<Json<AskReply>, AppError> {
    Ok(Json(reply(&state, ctx.user.as_deref(), &body.question).await?))
}
