//! The learner's pages: home ("your program", progress, what next), program, course, lesson,
//! search and the competence framework. Server-rendered, light, and complete without JavaScript.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::person::TargetGroups;
use crate::learning::catalog::{BlockView, LessonView, Snapshot};
use crate::learning::content::{Course, Program};
use crate::learning::framework::{Framework, target_group_label};
use crate::learning::progress::{self, Row, new_event_id};
use crate::on_pool;
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Path, Query};
use crate::web::pages::{Nav, render};

/// One lesson in a list, with where this learner stands.
pub struct LessonItem {
    pub slug: String,
    pub title: String,
    pub minutes: u16,
    pub status: Status,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Done,
    Started,
    Open,
    Locked,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Done => "Đã học xong",
            Status::Started => "Đang học",
            Status::Open => "Chưa học",
            Status::Locked => "Chưa mở: hãy học xong bài trước",
        }
    }

    pub fn css(self) -> &'static str {
        match self {
            Status::Done => "xong",
            Status::Started => "dang",
            Status::Open => "chua",
            Status::Locked => "khoa",
        }
    }
}

fn done(progress: &HashMap<String, Row>, slug: &str) -> bool {
    progress.get(slug).is_some_and(Row::done)
}

/// The lessons of a course with their status; in a sequential course a lesson opens when the one
/// before it is done.
pub fn course_items(
    snapshot: &Snapshot,
    course: &Course,
    progress: &HashMap<String, Row>,
) -> Vec<(String, Vec<LessonItem>)> {
    let mut previous_done = true;
    course
        .modules
        .iter()
        .map(|module| {
            let items = module
                .lessons
                .iter()
                .filter_map(|slug| snapshot.lessons.get(slug))
                .map(|lesson| {
                    let status = match progress.get(&lesson.slug) {
                        Some(row) if row.done() => Status::Done,
                        Some(_) => Status::Started,
                        None if course.sequential && !previous_done => Status::Locked,
                        None => Status::Open,
                    };
                    previous_done = status == Status::Done;
                    LessonItem {
                        slug: lesson.slug.clone(),
                        title: lesson.title.clone(),
                        minutes: lesson.minutes,
                        status,
                    }
                })
                .collect();
            (module.title.clone(), items)
        })
        .collect()
}

/// The lesson after `slug` in its course, if any.
pub fn next_in_course(snapshot: &Snapshot, slug: &str) -> Option<String> {
    let (_, course) = snapshot.course_of(slug)?;
    let lessons: Vec<&String> = course.lessons().filter(|s| snapshot.lessons.contains_key(*s)).collect();
    let at = lessons.iter().position(|s| *s == slug)?;
    lessons.get(at + 1).map(|s| (*s).clone())
}

/// In a sequential course a lesson a learner has not started opens only once every lesson before
/// it is done. Checked on the page and on every write (a post would otherwise complete a lesson
/// the page refuses).
pub async fn ensure_open(state: &AppState, account_id: &str, slug: &str) -> Result<(), AppError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let earlier = earlier_in_sequence(&snapshot, slug);
    if earlier.is_empty() {
        return Ok(());
    }
    let progress = progress::of(state, account_id).await?;
    if progress.contains_key(slug) || earlier.iter().all(|s| done(&progress, s)) {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "lesson_locked",
        message: "Bài này mở khi bạn học xong bài trước trong khóa. / Finish the previous lesson first.".into(),
    })
}

/// The published lessons before `slug` in its course, when that course is sequential.
fn earlier_in_sequence<'a>(snapshot: &'a Snapshot, slug: &str) -> Vec<&'a String> {
    let Some((_, course)) = snapshot.course_of(slug) else { return Vec::new() };
    if !course.sequential {
        return Vec::new();
    }
    course.lessons().filter(|s| snapshot.lessons.contains_key(*s)).take_while(|s| *s != slug).collect()
}

struct ProgramCard {
    code: String,
    title: String,
    summary: String,
    group: &'static str,
    done: usize,
    total: usize,
}

fn card(snapshot: &Snapshot, program: &Program, progress: &HashMap<String, Row>) -> ProgramCard {
    let slugs: Vec<&String> =
        program.courses.iter().flat_map(Course::lessons).filter(|s| snapshot.lessons.contains_key(*s)).collect();
    ProgramCard {
        code: program.code.clone(),
        title: program.title.clone(),
        summary: program.summary.clone(),
        group: target_group_label(&program.target_group),
        done: slugs.iter().filter(|s| done(progress, s)).count(),
        total: slugs.len(),
    }
}

#[derive(Template)]
#[template(path = "learning/home.html")]
struct HomePage {
    nav: Nav,
    signed_in: bool,
    mine: Vec<ProgramCard>,
    others: Vec<ProgramCard>,
    resume: Option<(String, String, i64)>,
    next: Option<(String, String)>,
    /// What to learn next, weakest competence first (the assistant's recommendations, issue 23).
    recommended: Vec<crate::assistant::recommend::Recommendation>,
}

/// The target groups of the signed-in learner's registry record (none for staff and the self-registered).
async fn groups_of(state: &AppState, person_id: Option<i64>) -> Result<Vec<&'static str>, AppError> {
    let Some(id) = person_id else { return Ok(Vec::new()) };
    let bits: Option<i64> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT CAST(target_groups AS BIGINT) FROM person WHERE id = $1"
    ).bind(id).fetch_optional(pool).await)?;
    Ok(TargetGroups::from_bits(bits.unwrap_or(0)).iter().map(|g| g.code()).collect())
}

/// `GET /hoc`: the learner's home.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let (progress, groups) = match &ctx.user {
        Some(user) => (progress::of(&state, user.id()).await?, groups_of(&state, user.account.person_id).await?),
        None => (HashMap::new(), Vec::new()),
    };
    let (mine, others): (Vec<&Program>, Vec<&Program>) = if groups.is_empty() {
        (Vec::new(), snapshot.programs.iter().collect())
    } else {
        snapshot.programs.iter().partition(|p| groups.contains(&p.target_group.as_str()))
    };
    // Where to resume: the lesson most recently worked on and not finished.
    let resume = progress
        .values()
        .filter(|r| !r.done())
        .max_by_key(|r| r.updated_at)
        .and_then(|r| snapshot.lessons.get(&r.lesson_slug).map(|l| (l.slug.clone(), l.title.clone(), r.position)));
    let next = mine
        .iter()
        .chain(others.iter())
        .flat_map(|p| p.courses.iter().flat_map(Course::lessons))
        .find(|s| snapshot.lessons.contains_key(*s) && !progress.contains_key(*s))
        .and_then(|s| snapshot.lessons.get(s).map(|l| (l.slug.clone(), l.title.clone())));
    let recommended = match &ctx.user {
        Some(user) => {
            let known = crate::assistant::recommend::known(&state, user.id(), user.account.person_id).await?;
            crate::assistant::recommend::next(&snapshot, &known, 3)
        }
        None => Vec::new(),
    };
    let page = HomePage {
        nav: ctx.nav(),
        signed_in: ctx.user.is_some(),
        recommended,
        mine: mine.iter().map(|p| card(&snapshot, p, &progress)).collect(),
        others: others.iter().map(|p| card(&snapshot, p, &progress)).collect(),
        resume,
        next,
    };
    Ok(Html(render(&page)?))
}

/// The signed-in learner's progress; nothing for a visitor.
async fn viewer_progress(state: &AppState, ctx: &Ctx) -> Result<HashMap<String, Row>, AppError> {
    Ok(match &ctx.user {
        Some(user) => progress::of(state, user.id()).await?,
        None => HashMap::new(),
    })
}

#[derive(Template)]
#[template(path = "learning/program.html")]
struct ProgramPage {
    nav: Nav,
    program: ProgramCard,
    courses: Vec<(String, String, String, bool, usize, usize)>,
}

/// `GET /chuong-trinh/{code}`
pub async fn program(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let program = snapshot
        .program(&code)
        .ok_or_else(|| AppError::not_found("program_not_found", "Không có chương trình này. / No such program."))?;
    let progress = viewer_progress(&state, &ctx).await?;
    let courses = program
        .courses
        .iter()
        .map(|c| {
            let slugs: Vec<&String> = c.lessons().filter(|s| snapshot.lessons.contains_key(*s)).collect();
            let done = slugs.iter().filter(|s| done(&progress, s)).count();
            (c.code.clone(), c.title.clone(), c.summary.clone(), c.sequential, done, slugs.len())
        })
        .collect();
    Ok(Html(render(&ProgramPage { nav: ctx.nav(), program: card(&snapshot, program, &progress), courses })?))
}

#[derive(Template)]
#[template(path = "learning/course.html")]
struct CoursePage {
    nav: Nav,
    program_code: String,
    program_title: String,
    title: String,
    summary: String,
    sequential: bool,
    modules: Vec<(String, Vec<LessonItem>)>,
}

/// `GET /khoa-hoc/{code}`
pub async fn course(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let (program, course) = snapshot
        .course(&code)
        .ok_or_else(|| AppError::not_found("course_not_found", "Không có khóa học này. / No such course."))?;
    let progress = viewer_progress(&state, &ctx).await?;
    let page = CoursePage {
        nav: ctx.nav(),
        program_code: program.code.clone(),
        program_title: program.title.clone(),
        title: course.title.clone(),
        summary: course.summary.clone(),
        sequential: course.sequential,
        modules: course_items(&snapshot, course, &progress),
    };
    Ok(Html(render(&page)?))
}

#[derive(Template)]
#[template(path = "learning/lesson.html")]
pub struct LessonPage {
    pub nav: Nav,
    pub lesson: Arc<LessonView>,
    pub part: usize,
    pub course: Option<(String, String)>,
    pub signed_in: bool,
    pub event: String,
    /// When the page was rendered: the next post counts the time since.
    pub shown_at: i64,
    pub preview: bool,
    pub next_lesson: Option<(String, String)>,
}

impl LessonPage {
    pub fn on_checks(&self) -> bool {
        self.part >= self.lesson.parts.len()
    }

    pub fn current(&self) -> &[BlockView] {
        self.lesson.parts.get(self.part).map_or(&[], |p| p.blocks.as_slice())
    }

    pub fn current_title(&self) -> &str {
        self.lesson.parts.get(self.part).map_or("Câu hỏi kiểm tra", |p| p.title.as_str())
    }

    pub fn total(&self) -> usize {
        self.lesson.parts.len() + 1
    }
}

#[derive(Deserialize)]
pub struct PartQuery {
    phan: Option<usize>,
}

/// `GET /bai-hoc/{slug}[?phan=N]`: one part of the lesson; without `phan`, where the learner left off.
pub async fn lesson(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<PartQuery>,
) -> Result<Html<String>, PageError> {
    let missing = || AppError::not_found("lesson_not_found", "Không có bài học này. / No such lesson.");
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let row = match &ctx.user {
        Some(user) => progress::one(&state, user.id(), &slug).await?,
        None => None,
    };
    // A learner who started a version keeps it until they finish, even if an editor publishes a new one.
    let lesson = match &row {
        Some(r) if !r.done() => state.catalog.version(&state.store, &slug, r.version).await?.ok_or_else(missing)?,
        _ => snapshot.lessons.get(&slug).cloned().ok_or_else(missing)?,
    };
    if let Some(user) = &ctx.user
        && row.is_none()
    {
        ensure_open(&state, user.id(), &slug).await?;
    }
    let resume = row.as_ref().filter(|r| !r.done()).map_or(0, |r| r.position as usize);
    let part = q.phan.unwrap_or(resume).min(lesson.parts.len());
    let course = snapshot.course_of(&slug).map(|(_, c)| (c.code.clone(), c.title.clone()));
    let next_lesson =
        next_in_course(&snapshot, &slug).and_then(|s| snapshot.lessons.get(&s).map(|l| (s.clone(), l.title.clone())));
    let page = LessonPage {
        nav: ctx.nav(),
        lesson,
        part,
        course,
        signed_in: ctx.user.is_some(),
        event: new_event_id(),
        shown_at: crate::domain::time::now(),
        preview: false,
        next_lesson,
    };
    Ok(Html(render(&page)?))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "learning/search.html")]
struct SearchPage {
    nav: Nav,
    q: String,
    hits: Vec<(String, String, String, u16)>,
}

/// `GET /tim-kiem?q=`: with or without diacritics.
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<SearchQuery>,
) -> Result<Html<String>, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let q: String = query.q.unwrap_or_default().chars().take(200).collect();
    let hits = snapshot
        .search
        .search(&q, 20)
        .into_iter()
        .filter_map(|slug| snapshot.lessons.get(&slug))
        .map(|l| (l.slug.clone(), l.title.clone(), l.summary.clone(), l.minutes))
        .collect();
    Ok(Html(render(&SearchPage { nav: ctx.nav(), q, hits })?))
}

#[derive(Template)]
#[template(path = "learning/framework.html")]
struct FrameworkPage {
    nav: Nav,
    framework: Arc<Framework>,
    versions: Vec<(String, i64)>,
    lesson_counts: HashMap<String, usize>,
}

impl FrameworkPage {
    fn lessons_for(&self, code: &str) -> usize {
        self.lesson_counts.get(code).copied().unwrap_or(0)
    }

    fn group(&self, code: &str) -> &'static str {
        target_group_label(code)
    }
}

/// `GET /khung-nang-luc`: the current framework, its versions, and how many lessons teach each competence.
pub async fn framework(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let versions: Vec<(String, i64)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT version, imported_at FROM framework_version ORDER BY seq DESC"
    ).fetch_all(pool).await)?;
    let mut lesson_counts = HashMap::new();
    for lesson in snapshot.lessons.values() {
        for (code, _) in &lesson.competences {
            *lesson_counts.entry(code.clone()).or_insert(0) += 1;
        }
    }
    let page = FrameworkPage { nav: ctx.nav(), framework: snapshot.framework.clone(), versions, lesson_counts };
    Ok(Html(render(&page)?))
}
