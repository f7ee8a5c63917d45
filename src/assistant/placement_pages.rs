//! `/xep-lop`: the adaptive placement test, per domain of the framework, as pages that work without
//! JavaScript. It estimates a level and marks mastered lessons; it never issues a certificate.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::irt;
use super::placement::{self, Placement};
use super::recommend;
use crate::app::AppState;
use crate::assessment::item::{Item, Task};
use crate::web::access::{Ctx, Nav};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::render;

#[derive(Template)]
#[template(path = "assistant/placement.html")]
struct HomePage {
    nav: Nav,
    domains: Vec<(String, String)>,
}

/// `GET /xep-lop`
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let domains = snapshot.framework.domains.iter().map(|d| (d.code.clone(), d.name_vi.clone())).collect();
    Ok(Html(render(&HomePage { nav: ctx.nav(), domains })?))
}

/// `POST /xep-lop/{domain}`
pub async fn start(State(state): State<AppState>, ctx: Ctx, Path(domain): Path<String>) -> Result<Redirect, PageError> {
    let user = ctx.user()?;
    let snapshot = state.catalog.snapshot(&state.store).await?;
    match placement::start(&state.store, &snapshot.framework, user.id(), &domain).await? {
        Some(id) => Ok(Redirect::to(&format!("/xep-lop/bai/{id}"))),
        None => {
            Err(AppError::not_found("no_items", "Chưa có câu hỏi cho lĩnh vực này. / No items for this domain.").into())
        }
    }
}

#[derive(Template)]
#[template(path = "assistant/placement_item.html")]
struct ItemPage {
    nav: Nav,
    id: String,
    number: usize,
    question: String,
    choices: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "assistant/placement_done.html")]
struct DonePage {
    nav: Nav,
    domain: String,
    items: usize,
    theta: String,
    se: String,
    mastered: bool,
    mastered_lessons: Vec<(String, String)>,
    recommended: Vec<recommend::Recommendation>,
}

async fn own(state: &AppState, ctx: &Ctx, id: &str) -> Result<Placement, AppError> {
    let user = ctx.user()?;
    match placement::load(&state.store, id).await? {
        Some(p) if p.account_id == user.id() => Ok(p),
        _ => Err(AppError::not_found("no_placement", "Không có bài xếp lớp này. / No such placement.")),
    }
}

async fn item_of(state: &AppState, p: &Placement, index: usize) -> Result<std::sync::Arc<Item>, AppError> {
    let drawn = &p.state.pool[index];
    state
        .items
        .get(&state.store, &drawn.id, drawn.version)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a placement item version is missing")))
}

fn choices(item: &Item) -> Vec<(String, String)> {
    match &item.task {
        Task::Single { choices, .. } => choices.iter().enumerate().map(|(i, c)| (i.to_string(), c.clone())).collect(),
        _ => vec![("dung".into(), "Đúng".into()), ("sai".into(), "Sai".into())],
    }
}

/// `GET /xep-lop/bai/{id}`: the current question, or the result.
pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let p = own(&state, &ctx, &id).await?;
    let Some(current) = p.state.current.filter(|_| !p.finished) else {
        let user = ctx.user()?;
        let snapshot = state.catalog.snapshot(&state.store).await?;
        let known = recommend::known(&state, user.id(), user.account.person_id).await?;
        let domain = snapshot.framework.domains.iter().find(|d| d.code == p.domain);
        let codes: Vec<&str> =
            domain.map(|d| d.competences.iter().map(|c| c.code.as_str()).collect()).unwrap_or_default();
        let mastered_lessons = recommend::mastered_lessons(&snapshot, &known)
            .into_iter()
            .filter_map(|slug| snapshot.lessons.get(&slug))
            .filter(|l| l.competences.iter().any(|(c, _)| codes.contains(&c.as_str())))
            .map(|l| (l.slug.clone(), l.title.clone()))
            .collect();
        let page = DonePage {
            nav: ctx.nav(),
            domain: domain.map(|d| d.name_vi.clone()).unwrap_or_default(),
            items: p.state.asked.len(),
            theta: format!("{:.2}", p.theta).replace('.', ","),
            se: format!("{:.2}", p.se).replace('.', ","),
            mastered: p.theta >= irt::MASTERY,
            mastered_lessons,
            recommended: recommend::next(&snapshot, &known, 5),
        };
        return Ok(Html(render(&page)?).into_response());
    };
    let item = item_of(&state, &p, current).await?;
    let page = ItemPage {
        nav: ctx.nav(),
        id: p.id.clone(),
        number: p.state.asked.len() + 1,
        question: item.question.clone(),
        choices: choices(&item),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /xep-lop/bai/{id}`: the answer to question `n`; a resend of an earlier one changes nothing.
pub async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Redirect, PageError> {
    let mut p = own(&state, &ctx, &id).await?;
    let to = Redirect::to(&format!("/xep-lop/bai/{id}"));
    let number = form.iter().find(|(k, _)| k == "n").and_then(|(_, v)| v.parse::<usize>().ok());
    let Some(current) = p.state.current.filter(|_| !p.finished && number == Some(p.state.asked.len() + 1)) else {
        return Ok(to);
    };
    let item = item_of(&state, &p, current).await?;
    let order: Vec<usize> = (0..item.task.shuffled_len()).collect();
    let Ok(response) = item.read(&order, &form) else {
        return Ok(to);
    };
    let snapshot = state.catalog.snapshot(&state.store).await?;
    placement::answer(&state.store, &mut p, item.is_right(&response), &snapshot.framework).await?;
    Ok(to)
}
