//! News and announcements of the movement (plan IV.1.3): editors write and publish, anyone reads.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit_write;
use crate::domain::text::clean;
use crate::domain::time::now;
use crate::identity::audit::{Entry, format_time};
use crate::learning::lesson::markdown_html;
use crate::on_pool;
use crate::store::Store;
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NewsRow {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub kind: String,
    pub published_at: Option<i64>,
}

impl NewsRow {
    pub fn kind_label(&self) -> &'static str {
        if self.kind == "thong_bao" { "Thông báo" } else { "Tin tức" }
    }

    pub fn date(&self) -> String {
        self.published_at.map(format_time).unwrap_or_else(|| "chưa đăng".into())
    }

    pub fn html(&self) -> String {
        markdown_html(&self.body)
    }
}

const SELECT: &str = "SELECT id, title, summary, body, kind, published_at FROM news";

pub async fn all(store: &Store) -> sqlx::Result<Vec<NewsRow>> {
    let sql = format!("{SELECT} ORDER BY id DESC");
    on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await)
}

/// The latest published news, newest first (the home page shows a few).
pub async fn latest(store: &Store, limit: i64) -> sqlx::Result<Vec<NewsRow>> {
    let sql = format!("{SELECT} WHERE published_at IS NOT NULL ORDER BY published_at DESC, id DESC LIMIT $1");
    on_pool!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(limit).fetch_all(pool).await)
}

#[derive(Template)]
#[template(path = "learning/news_list.html")]
struct ListPage {
    nav: Nav,
    items: Vec<NewsRow>,
}

/// `GET /tin-tuc`: published news, newest first.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let sql = format!("{SELECT} WHERE published_at IS NOT NULL ORDER BY published_at DESC, id DESC LIMIT 50");
    let items =
        on_pool!(&state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await)?;
    Ok(Html(render(&ListPage { nav: ctx.nav(), items })?))
}

#[derive(Template)]
#[template(path = "learning/news_item.html")]
struct ItemPage {
    nav: Nav,
    item: NewsRow,
}

/// `GET /tin-tuc/{id}`
pub async fn item(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let missing = || AppError::not_found("news_not_found", "Không có tin này. / No such news item.");
    let id: i64 = id.parse().map_err(|_| missing())?;
    let sql = format!("{SELECT} WHERE id = $1 AND published_at IS NOT NULL");
    let item = on_pool!(&state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await)?.ok_or_else(missing)?;
    Ok(Html(render(&ItemPage { nav: ctx.nav(), item })?))
}

#[derive(Template)]
#[template(path = "learning/news_form.html")]
struct FormPage {
    nav: Nav,
    problem: String,
    title: String,
    summary: String,
    body: String,
}

/// `GET /bien-tap/tin-tuc/moi`
pub async fn form(ctx: Ctx) -> Result<Html<String>, PageError> {
    Ok(Html(render(&FormPage {
        nav: ctx.nav(),
        problem: String::new(),
        title: String::new(),
        summary: String::new(),
        body: String::new(),
    })?))
}

#[derive(Deserialize)]
pub struct NewsForm {
    title: String,
    summary: String,
    body: String,
    kind: String,
    publish: Option<String>,
}

/// `POST /bien-tap/tin-tuc`: a news item or announcement, published now or kept as a draft.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<NewsForm>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    let user = ctx.user()?;
    let (title, summary, body) = (clean(&form.title), clean(&form.summary), form.body.replace("\r\n", "\n"));
    let kind = if form.kind == "thong_bao" { "thong_bao" } else { "tin_tuc" };
    if title.chars().count() < 5 || summary.is_empty() || body.trim().is_empty() {
        let page = FormPage {
            nav: ctx.nav(),
            problem: "Cần tiêu đề (ít nhất 5 ký tự), tóm tắt và nội dung. / Title, summary and body are required."
                .into(),
            title,
            summary,
            body,
        };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response());
    }
    let at = now();
    let published = form.publish.is_some().then_some(at);
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO news (title, summary, body, kind, published_at, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
        ).bind(&title).bind(&summary).bind(&body).bind(kind).bind(published).bind(at).bind(user.id())
            .fetch_one(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(user.id()),
            action: "news.create",
            detail: Some(serde_json::json!({"news": id, "published": published.is_some()})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    if published.is_some() {
        crate::portal::news_changed(&state);
    }
    Ok(Redirect::to("/bien-tap").into_response())
}

/// `POST /bien-tap/tin-tuc/{id}/dang` and `/an`: publish or withdraw.
pub async fn publish(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, PageError> {
    set_published(&state, &ctx, &id, Some(now())).await
}

pub async fn withdraw(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, PageError> {
    set_published(&state, &ctx, &id, None).await
}

/// Publishes or withdraws an item, and records who did it in the same transaction.
async fn set_published(state: &AppState, ctx: &Ctx, id: &str, at: Option<i64>) -> Result<Redirect, PageError> {
    let user = ctx.user()?;
    let missing = || AppError::not_found("news_not_found", "Không có tin này. / No such news item.");
    let id: i64 = id.parse().map_err(|_| missing())?;
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let changed = sqlx::query("UPDATE news SET published_at = $1 WHERE id = $2").bind(at).bind(id)
            .execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        // No such item: nothing changed, so nothing is recorded.
        if changed == 0 {
            tx.rollback().await.map_err(AppError::from)?;
            return Ok(Redirect::to("/bien-tap"));
        }
        audit_write!(&mut *tx, Entry {
            account_id: Some(user.id()),
            action: if at.is_some() { "news.publish" } else { "news.withdraw" },
            detail: Some(serde_json::json!({"news": id})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    crate::portal::news_changed(state);
    Ok(Redirect::to("/bien-tap"))
}
