//! The content editor's pages: write a lesson, preview it, publish it (a new version), unpublish it,
//! upload pictures, recordings and videos, and import a new framework version (administrators).

use std::collections::HashSet;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::domain::text::clean;
use crate::identity::audit::Actor;
use crate::learning::catalog::render as render_lesson;
use crate::learning::content::{self, Publish};
use crate::learning::framework::{self, Framework};
use crate::learning::lesson::{self, LessonSource, Problem};
use crate::learning::media::{Kind, Media, sniff};
use crate::learning::pages::LessonPage;
use crate::learning::progress::new_event_id;
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{FormWithFile, Path};
use crate::web::pages::{Nav, render};

#[derive(Template)]
#[template(path = "learning/editor_home.html")]
struct EditorHome {
    nav: Nav,
    lessons: Vec<(String, String, Option<i64>, bool)>,
    news: Vec<crate::learning::news::NewsRow>,
}

/// `GET /bien-tap`
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let lessons = content::editor_list(&state.store)
        .await?
        .into_iter()
        .map(|(slug, published, draft, latest)| {
            let title = draft
                .as_deref()
                .or(latest.as_deref())
                .and_then(|json| serde_json::from_str::<LessonSource>(json).ok())
                .map_or_else(|| slug.clone(), |l| l.title);
            (slug, title, published, draft.is_some())
        })
        .collect();
    let news = crate::learning::news::all(&state.store).await?;
    Ok(Html(render(&EditorHome { nav: ctx.nav(), lessons, news })?))
}

#[derive(Template)]
#[template(path = "learning/editor_lesson.html")]
struct EditorLesson {
    nav: Nav,
    is_new: bool,
    form: LessonForm,
    problems: Vec<Problem>,
    published: Option<i64>,
    framework: std::sync::Arc<Framework>,
    saved: bool,
}

impl EditorLesson {
    fn has_competence(&self, code: &str) -> bool {
        self.form.competences.iter().any(|c| c == code)
    }

    fn has_theme(&self, code: &str) -> bool {
        self.form.themes.iter().any(|c| c == code)
    }
}

/// The editor's form, as typed: kept as text so a mistake is shown back, never lost.
#[derive(Default)]
struct LessonForm {
    slug: String,
    title: String,
    summary: String,
    level: String,
    minutes: String,
    competences: Vec<String>,
    themes: Vec<String>,
    sources: String,
    checks: String,
    body: String,
}

impl LessonForm {
    fn from_source(source: &LessonSource) -> Self {
        Self {
            slug: source.slug.clone(),
            title: source.title.clone(),
            summary: source.summary.clone(),
            level: source.level.to_string(),
            minutes: source.minutes.to_string(),
            competences: source.competences.clone(),
            themes: source.themes.clone(),
            sources: lesson::sources_to_text(&source.sources),
            checks: lesson::checks_to_text(&source.checks),
            body: source.body.clone(),
        }
    }

    fn parse(body: &[u8]) -> (Self, String) {
        let mut form = Self::default();
        let mut action = String::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "slug" => form.slug = clean(&value),
                "title" => form.title = value,
                "summary" => form.summary = value,
                "level" => form.level = value,
                "minutes" => form.minutes = value,
                "competence" => form.competences.push(value),
                "theme" => form.themes.push(value),
                "sources" => form.sources = value,
                "checks" => form.checks = value,
                "body" => form.body = value.replace("\r\n", "\n"),
                "hanh_dong" => action = value,
                _ => {}
            }
        }
        (form, action)
    }

    /// The lesson source the form describes, or what is wrong with it (lines of the body/checks).
    fn source(&self) -> (LessonSource, Vec<Problem>) {
        let mut problems = Vec::new();
        let number = |raw: &str, what: &str, problems: &mut Vec<Problem>| {
            raw.trim().parse::<u16>().unwrap_or_else(|_| {
                problems
                    .push(Problem { line: 0, message: format!("{what} phải là số / {what} must be a number") });
                0
            })
        };
        let level = number(&self.level, "Bậc", &mut problems);
        let minutes = number(&self.minutes, "Thời lượng", &mut problems);
        let checks = lesson::checks_from_text(&self.checks).unwrap_or_else(|found| {
            problems.extend(
                found
                    .into_iter()
                    .map(|p| Problem { line: 0, message: format!("Câu hỏi, dòng {}: {}", p.line, p.message) }),
            );
            Vec::new()
        });
        let source = LessonSource {
            slug: self.slug.clone(),
            title: clean(&self.title),
            summary: clean(&self.summary),
            level: u8::try_from(level).unwrap_or(0),
            minutes,
            competences: self.competences.clone(),
            themes: self.themes.clone(),
            sources: lesson::sources_from_text(&self.sources),
            checks,
            body: clean(&self.body),
        };
        (source, problems)
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    form: LessonForm,
    is_new: bool,
    problems: Vec<Problem>,
    saved: bool,
) -> Result<Response, AppError> {
    let framework = state.catalog.snapshot(&state.store).await?.framework.clone();
    let published = content::draft(&state.store, &form.slug).await?.and_then(|(_, p)| p);
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = EditorLesson { nav: ctx.nav(), is_new, form, problems, published, framework, saved };
    Ok((status, Html(render(&page)?)).into_response())
}

/// `GET /bien-tap/bai-hoc/moi`
pub async fn new_lesson(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let form = LessonForm { level: "1".into(), minutes: "10".into(), ..Default::default() };
    Ok(form_page(&state, &ctx, form, true, Vec::new(), false).await?)
}

/// `GET /bien-tap/bai-hoc/{slug}`: the draft, or else the latest version.
pub async fn edit(State(state): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Result<Response, PageError> {
    let missing = || AppError::not_found("lesson_not_found", "Không có bài học này. / No such lesson.");
    let (draft, _) = content::draft(&state.store, &slug).await?.ok_or_else(missing)?;
    let source = match draft.and_then(|d| serde_json::from_str::<LessonSource>(&d).ok()) {
        Some(source) => source,
        None => content::latest_version(&state.store, &slug).await?.ok_or_else(missing)?.source,
    };
    Ok(form_page(&state, &ctx, LessonForm::from_source(&source), false, Vec::new(), false).await?)
}

/// Media the body refers to must be in the store (uploaded first).
async fn media_known(state: &AppState, source: &LessonSource) -> Result<HashSet<String>, AppError> {
    let mut known = HashSet::new();
    for src in lesson::media_in(&source.body) {
        if let Some(key) = src.strip_prefix("/media/")
            && Media::exists(&state.store, key).await?
        {
            known.insert(src);
        }
    }
    Ok(known)
}

/// `POST /bien-tap/bai-hoc`: save the draft, preview it, or publish it.
pub async fn save(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let (form, action) = LessonForm::parse(&body);
    let (source, mut problems) = form.source();
    let is_new = content::draft(&state.store, &source.slug).await?.is_none();
    if !lesson::valid_slug(&source.slug) {
        problems.push(Problem {
            line: 0,
            message: "Mã bài chỉ gồm a-z, 0-9 và dấu - / the slug must be a-z, 0-9 and -".into(),
        });
        return Ok(form_page(&state, &ctx, form, true, problems, false).await?);
    }
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let known = media_known(&state, &source).await?;
    problems.extend(source.check(&snapshot.framework, 1, &|src| known.contains(src)));
    // A draft is kept even when it is not ready: an editor never loses what they typed.
    content::save_draft(&state.store, &source).await?;
    match action.as_str() {
        "xem" => {
            let lesson = std::sync::Arc::new(render_lesson(&source, &snapshot.framework, 0, None));
            let page = LessonPage {
                nav: ctx.nav(),
                lesson,
                part: 0,
                course: None,
                signed_in: true,
                event: new_event_id(),
                shown_at: crate::domain::time::now(),
                preview: true,
                next_lesson: None,
            };
            Ok(Html(render(&page)?).into_response())
        }
        "dang" if problems.is_empty() => {
            // The synthesised voice follows the text; a recording made for an older text does not.
            let text = source.spoken_text();
            let audio = crate::learning::audio::speech(&state.media, &state.store, &text).await?;
            let publish = Publish {
                source: &source,
                framework_version: &snapshot.framework.version,
                audio_key: Some(&audio),
                audio_recorded: false,
                by: Some(user.id()),
            };
            content::publish(&state.store, &publish, Actor { account_id: user.id(), address: ctx.address() }).await?;
            state.catalog.invalidate();
            Ok(Redirect::to(&format!("/bien-tap/bai-hoc/{}?da_dang=1", source.slug)).into_response())
        }
        _ => Ok(form_page(&state, &ctx, form, is_new, problems, action == "luu").await?),
    }
}

/// `POST /bien-tap/bai-hoc/{slug}/an`: learners no longer see it (their records stay).
pub async fn unpublish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> Result<Redirect, PageError> {
    let user = ctx.user()?;
    content::unpublish(&state.store, &slug, Actor { account_id: user.id(), address: ctx.address() }).await?;
    state.catalog.invalidate();
    Ok(Redirect::to("/bien-tap"))
}

/// The editor's upload forms carry nothing but the file (their CSRF token is in the address).
#[derive(serde::Deserialize)]
pub struct FileOnly {}

/// The chosen file of an upload form, within `limit` (the route's body limit already bounds what
/// is read; this names the limit of the kind of file asked for).
fn chosen_file(upload: FormWithFile<FileOnly>, limit: usize) -> Result<Vec<u8>, AppError> {
    let bytes = upload.file.ok_or_else(|| AppError::bad_request("no_file", "Chưa chọn tệp. / No file chosen."))?;
    if bytes.len() > limit {
        return Err(AppError::bad_request(
            "file_too_large",
            format!("Tệp quá lớn (tối đa {} MB). / File too large.", limit >> 20),
        ));
    }
    Ok(bytes)
}

#[derive(Template)]
#[template(path = "learning/editor_uploaded.html")]
struct Uploaded {
    nav: Nav,
    key: String,
    content_type: String,
    is_image: bool,
}

/// `POST /bien-tap/tep`: a picture, recording, video or PDF for lessons; checked by its bytes and size.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    upload: FormWithFile<FileOnly>,
) -> Result<Response, PageError> {
    let bytes = chosen_file(upload, crate::learning::media::UPLOAD_LIMIT)?;
    let (kind, content_type, _) = sniff(&bytes).map_err(|m| AppError::bad_request("bad_file_type", m))?;
    let key = state.media.put(&state.store, bytes).await.map_err(|m| AppError::bad_request("bad_file", m))?;
    let page = Uploaded { nav: ctx.nav(), key, content_type: content_type.into(), is_image: kind == Kind::Image };
    Ok((StatusCode::CREATED, Html(render(&page)?)).into_response())
}

/// `POST /bien-tap/bai-hoc/{slug}/ghi-am`: a recording replaces the synthesised voice (a new version).
pub async fn recording(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    upload: FormWithFile<FileOnly>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let latest = content::latest_version(&state.store, &slug)
        .await?
        .ok_or_else(|| AppError::not_found("lesson_not_found", "Không có bài học này. / No such lesson."))?;
    let bytes = chosen_file(upload, Kind::Audio.limit())?;
    match sniff(&bytes) {
        Ok((Kind::Audio, _, _)) => {}
        _ => {
            return Err(AppError::bad_request(
                "bad_file_type",
                "Bản ghi âm phải là tệp Opus hoặc MP3. / A recording must be Opus or MP3.",
            )
            .into());
        }
    }
    let key = state.media.put(&state.store, bytes).await.map_err(|m| AppError::bad_request("bad_file", m))?;
    let publish = Publish {
        source: &latest.source,
        framework_version: &latest.framework_version,
        audio_key: Some(&key),
        audio_recorded: true,
        by: Some(user.id()),
    };
    content::publish(&state.store, &publish, Actor { account_id: user.id(), address: ctx.address() }).await?;
    state.catalog.invalidate();
    Ok(Redirect::to(&format!("/bien-tap/bai-hoc/{slug}?da_dang=1")).into_response())
}

#[derive(serde::Deserialize)]
pub struct FrameworkForm {
    toml: String,
}

#[derive(Template)]
#[template(path = "learning/editor_framework.html")]
struct FrameworkImport {
    nav: Nav,
    message: String,
    ok: bool,
}

/// `POST /quan-tri/khung-nang-luc`: a new framework version (older results keep theirs).
pub async fn import_framework(
    State(state): State<AppState>,
    ctx: Ctx,
    crate::web::extract::Form(form): crate::web::extract::Form<FrameworkForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let actor = Actor { account_id: user.id(), address: ctx.address() };
    let (status, message, ok) = match framework::import(&state.store, &form.toml, Some(actor)).await {
        Ok(f) => (StatusCode::OK, format!("Đã nhập khung năng lực phiên bản {}.", f.version), true),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, format!("Không nhập được: {e}"), false),
    };
    state.catalog.invalidate();
    Ok((status, Html(render(&FrameworkImport { nav: ctx.nav(), message, ok })?)).into_response())
}

/// `GET /quan-tri/khung-nang-luc`
pub async fn framework_form(ctx: Ctx) -> Result<Html<String>, PageError> {
    Ok(Html(render(&FrameworkImport { nav: ctx.nav(), message: String::new(), ok: false })?))
}
