//! The question bank in the browser (editors) and the exam settings (the province's administrator).
//! An item is edited in the same TOML form as its file, so a file and the page never disagree.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::assessment::bank::{self, Entry};
use crate::assessment::exam::{self, Exam};
use crate::assessment::item::Item;
use crate::identity::audit::Actor;
use crate::learning::framework::{self, target_group_label};
use crate::on_pool;
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};

#[derive(Template)]
#[template(path = "assessment/editor_items.html")]
struct ItemsPage {
    nav: Nav,
    entries: Vec<Entry>,
    per_competence: Vec<(String, usize)>,
}

/// `GET /bien-tap/cau-hoi`
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let entries = bank::entries(&state.store).await?;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for e in entries.iter().filter(|e| e.active) {
        *counts.entry(e.competence.clone()).or_default() += 1;
    }
    Ok(Html(render(&ItemsPage { nav: ctx.nav(), entries, per_competence: counts.into_iter().collect() })?))
}

#[derive(Template)]
#[template(path = "assessment/editor_item.html")]
struct ItemPage {
    nav: Nav,
    id: Option<String>,
    text: String,
    problems: Vec<String>,
    saved: Option<i64>,
    active: bool,
}

const NEW_ITEM: &str = "[[item]]\nid = \"\"\nkind = \"single\"\ncompetence = \"1.1\"\nthemes = [\"internet_tim_kiem\"]\n\
                        level = 1\ndifficulty = 1\nquestion = \"\"\nchoices = [\"\", \"\"]\nanswer = 0\nexplain = \"\"\n";

/// `GET /bien-tap/cau-hoi/moi`
pub async fn new_item(ctx: Ctx) -> Result<Html<String>, PageError> {
    Ok(Html(render(&ItemPage {
        nav: ctx.nav(),
        id: None,
        text: NEW_ITEM.into(),
        problems: vec![],
        saved: None,
        active: true,
    })?))
}

/// The item back as TOML, the way a bank file writes it.
fn to_toml(item: &Item) -> String {
    let mut value = serde_json::to_value(item).expect("an item serialises");
    let task = value.get_mut("task").and_then(|t| t.as_object_mut().cloned()).unwrap_or_default();
    let object = value.as_object_mut().expect("an item is an object");
    object.remove("task");
    for (k, v) in task {
        object.insert(k, v);
    }
    if let Some(fields) = object.get_mut("fields").and_then(|f| f.as_array_mut()) {
        for field in fields {
            if let Some(f) = field.as_object_mut()
                && f.remove("type").as_ref().and_then(|t| t.as_str()) == Some("date")
            {
                f.insert("kind".into(), "date".into());
            }
        }
    }
    let wrapped = serde_json::json!({ "item": [value] });
    toml::to_string(&wrapped).unwrap_or_default()
}

/// `GET /bien-tap/cau-hoi/{id}`
pub async fn edit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let row: Option<(i64, bool)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT version, active FROM item WHERE id = $1").bind(&id).fetch_optional(pool).await?);
    let Some((version, active)) = row else { return Err(AppError::hidden().into()) };
    let item = state.items.get(&state.store, &id, version).await?.ok_or_else(AppError::hidden)?;
    Ok(Html(render(&ItemPage {
        nav: ctx.nav(),
        id: Some(id),
        text: to_toml(&item),
        problems: vec![],
        saved: None,
        active,
    })?))
}

/// `POST /bien-tap/cau-hoi`: checks the text; saves a new version when it changed.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let text = form.get("toml").cloned().unwrap_or_default().replace("\r\n", "\n");
    let fw = framework::current(&state.store).await?;
    let parsed = match bank::parse(&text, &fw) {
        Ok(items) if items.len() == 1 => Ok(items),
        Ok(_) => Err(vec!["Mỗi lần lưu đúng một câu hỏi ([[item]]). / Save exactly one item at a time.".to_owned()]),
        Err(problems) => Err(problems.into_iter().map(|(line, m)| format!("dòng {line}: {m}")).collect()),
    };
    let items = match parsed {
        Ok(items) => items,
        Err(problems) => {
            let page = ItemPage { nav: ctx.nav(), id: None, text, problems, saved: None, active: true };
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response());
        }
    };
    let user = ctx.user()?;
    let item = &items[0];
    let version = bank::save(&state.store, item, Actor { account_id: user.id(), address: ctx.address() }).await?;
    let page = ItemPage {
        nav: ctx.nav(),
        id: Some(item.id.clone()),
        text,
        problems: vec![],
        saved: Some(version),
        active: true,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /bien-tap/cau-hoi/{id}/an`: out of (or back into) future draws.
pub async fn toggle(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Redirect, PageError> {
    let user = ctx.user()?;
    let active = form.get("active").is_some_and(|v| v == "1");
    if !bank::set_active(&state.store, &id, active, Actor { account_id: user.id(), address: ctx.address() }).await? {
        return Err(AppError::hidden().into());
    }
    Ok(Redirect::to(&format!("/bien-tap/cau-hoi/{id}")))
}

pub struct ExamRow {
    pub exam: Exam,
    pub label: &'static str,
    pub required: usize,
}

#[derive(Template)]
#[template(path = "assessment/exams_admin.html")]
struct ExamsPage {
    nav: Nav,
    rows: Vec<ExamRow>,
    message: String,
}

async fn exams_page(state: &AppState, ctx: &Ctx, message: String) -> Result<String, AppError> {
    let fw = framework::current(&state.store).await?;
    let rows = exam::all(&state.store)
        .await?
        .into_iter()
        .map(|e| ExamRow {
            label: target_group_label(&e.target_group),
            required: fw.profile(&e.target_group).map_or(0, |p| p.required.len()),
            exam: e,
        })
        .collect();
    render(&ExamsPage { nav: ctx.nav(), rows, message })
}

/// `GET /quan-tri/bai-kiem-tra`
pub async fn exams(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    Ok(Html(exams_page(&state, &ctx, String::new()).await?))
}

/// `POST /quan-tri/bai-kiem-tra/{group}`
pub async fn update_exam(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(group): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let number = |k: &str, lo: i64, hi: i64| {
        form.get(k).and_then(|v| v.trim().parse::<i64>().ok()).filter(|n| (lo..=hi).contains(n))
    };
    let fw = framework::current(&state.store).await?;
    let required = fw.profile(&group).map_or(1, |p| p.required.len() as i64);
    let (Some(items), Some(minutes), Some(attempts)) =
        (number("so_cau", required, 200), number("so_phut", 1, 600), number("so_lan", 1, 100))
    else {
        let message = format!(
            "Số câu từ {required} (mỗi năng lực bắt buộc ít nhất một câu) đến 200, số phút từ 1 đến 600, số lần từ 1 \
             đến 100. / Items {required}-200, minutes 1-600, attempts 1-100."
        );
        let page = exams_page(&state, &ctx, message).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response());
    };
    let exam = Exam { target_group: group, items, minutes, attempts_per_day: attempts };
    if !exam::update(&state.store, &exam, Actor { account_id: user.id(), address: ctx.address() }).await? {
        return Err(AppError::hidden().into());
    }
    let message = format!("Đã lưu bài kiểm tra “{}”.", target_group_label(&exam.target_group));
    Ok(Html(exams_page(&state, &ctx, message).await?).into_response())
}
