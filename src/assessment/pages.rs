//! The learner's exam pages: the exams of their groups, one question per page (each answer saved
//! as it is given), the review before submitting, and the result with what to strengthen.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::assessment::exam::{self, Exam};
use crate::assessment::sitting::{self, AnswerJob, Sitting};
use crate::assessment::view::{self, Shown};
use crate::domain::person::TargetGroups;
use crate::domain::time::day_start;
use crate::domain::time::now;
use crate::learning::framework::target_group_label;
use crate::on_pool;
use crate::web::access::{Ctx, Principal};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path, Query};
use crate::web::pages::{Nav, render};

/// The profiles a learner may sit: their registry target groups; citizens' when none is known.
pub async fn groups_of(state: &AppState, user: &Principal) -> Result<Vec<&'static str>, AppError> {
    let bits: Option<i64> = match user.account.person_id {
        Some(id) => on_pool!(&state.store, pool => sqlx::query_scalar(
            "SELECT CAST(target_groups AS BIGINT) FROM person WHERE id = $1").bind(id).fetch_optional(pool).await?),
        None => None,
    };
    let groups: Vec<&'static str> = TargetGroups::from_bits(bits.unwrap_or(0)).iter().map(|g| g.code()).collect();
    Ok(if groups.is_empty() { vec!["nguoi_dan"] } else { groups })
}

/// Why a learner may not sit an exam yet: a self-registered learner whom no commune officer has
/// confirmed (nor linked to a person of the registry) may learn, but a certificate must name someone
/// the commune knows.
pub fn unconfirmed(user: &Principal) -> Option<&'static str> {
    let account = &user.account;
    if !account.self_registered || account.confirmed_at.is_some() || account.person_id.is_some() {
        return None;
    }
    Some(if account.home_commune.is_none() {
        "Bạn tự đăng ký qua VNeID nên chưa thể làm bài kiểm tra: hãy cho biết xã, phường nơi bạn sống (trang Tài \
         khoản), rồi nhờ cán bộ xã, phường đó xác nhận. Trong lúc chờ, bạn vẫn học được mọi bài. / You registered \
         yourself: name your commune on your account page and ask its officer to confirm you before sitting an exam."
    } else {
        "Bạn tự đăng ký qua VNeID nên chưa thể làm bài kiểm tra: cán bộ xã, phường nơi bạn sống cần xác nhận tài \
         khoản của bạn trước. Hãy liên hệ cán bộ xã (bộ phận một cửa). Trong lúc chờ, bạn vẫn học được mọi bài. / \
         Your commune officer must confirm your self-registered account before you sit an exam."
    })
}

pub struct ExamCard {
    pub target_group: String,
    pub label: &'static str,
    pub items: i64,
    pub minutes: i64,
    pub attempts_left: i64,
}

pub struct PastSitting {
    pub id: String,
    pub label: &'static str,
    pub date: String,
    pub percent: u32,
    pub passed: bool,
    pub certificate: Option<String>,
}

#[derive(Template)]
#[template(path = "assessment/home.html")]
struct HomePage {
    nav: Nav,
    exams: Vec<ExamCard>,
    blocked: Option<&'static str>,
    open: Option<(String, &'static str, String)>,
    past: Vec<PastSitting>,
}

use crate::domain::time::{date_vi, time_vi};

/// `GET /kiem-tra`
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let groups = groups_of(&state, user).await?;
    let mut sittings = sitting::of(&state.store, user.id()).await?;
    // A sitting whose time ran out is graded with what was saved.
    let at = now();
    if sittings.iter().any(|s| s.submitted_at.is_none() && !s.open(at)) {
        for s in sittings.iter().filter(|s| s.submitted_at.is_none() && !s.open(at)) {
            sitting::finish(&state, &s.paper.id).await?;
        }
        sittings = sitting::of(&state.store, user.id()).await?;
    }
    let today = sittings.iter().filter(|s| s.paper.started_at >= day_start(at)).count() as i64;
    let exams: Vec<Exam> = exam::all(&state.store).await?;
    let cards = groups
        .iter()
        .filter_map(|g| exams.iter().find(|e| e.target_group == *g))
        .map(|e| ExamCard {
            target_group: e.target_group.clone(),
            label: target_group_label(&e.target_group),
            items: e.items,
            minutes: e.minutes,
            attempts_left: (e.attempts_per_day - today).max(0),
        })
        .collect();
    let certificates: HashMap<String, String> = on_pool!(&state.store, pool => sqlx::query_as::<_, (String, String)>(
        "SELECT sitting_id, id FROM certificate WHERE account_id = $1").bind(user.id()).fetch_all(pool).await?)
    .into_iter()
    .collect();
    let open = sittings
        .iter()
        .find(|s| s.open(at))
        .map(|s| (s.paper.id.clone(), target_group_label(&s.paper.target_group), time_vi(s.paper.deadline)));
    let past = sittings
        .iter()
        .filter_map(|s| {
            let grade = s.grade.as_ref()?;
            Some(PastSitting {
                id: s.paper.id.clone(),
                label: target_group_label(&s.paper.target_group),
                date: date_vi(s.paper.started_at),
                percent: grade.percent(),
                passed: grade.passed,
                certificate: certificates.get(&s.paper.id).cloned(),
            })
        })
        .collect();
    Ok(Html(render(&HomePage { nav: ctx.nav(), exams: cards, blocked: unconfirmed(user), open, past })?))
}

/// `POST /kiem-tra/{group}/bat-dau`
pub async fn start(State(state): State<AppState>, ctx: Ctx, Path(group): Path<String>) -> Result<Redirect, PageError> {
    let user = ctx.user()?;
    if !groups_of(&state, user).await?.contains(&group.as_str()) {
        return Err(AppError::forbidden().into());
    }
    if let Some(why) = unconfirmed(user) {
        return Err(AppError::Forbidden { code: "not_confirmed", message: why.into() }.into());
    }
    let sitting = sitting::start(&state, user.id(), &group).await?;
    Ok(Redirect::to(&format!("/kiem-tra/bai/{}", sitting.paper.id)))
}

/// The learner's own sitting, or nothing: another's sitting answers as absent.
async fn own(state: &AppState, user: &Principal, id: &str) -> Result<Sitting, AppError> {
    match sitting::load(&state.store, id).await? {
        Some(s) if s.paper.account_id == user.id() => Ok(s),
        _ => Err(AppError::hidden()),
    }
}

/// The learner's sitting while it takes answers; once closed, it is finished and the learner is
/// sent to its result.
async fn own_open(state: &AppState, user: &Principal, id: &str) -> Result<Result<Sitting, Response>, AppError> {
    let sitting = own(state, user, id).await?;
    if sitting.open(now()) {
        return Ok(Ok(sitting));
    }
    sitting::finish(state, id).await?;
    Ok(Err(Redirect::to(&format!("/kiem-tra/ket-qua/{id}")).into_response()))
}

pub struct Mark {
    pub number: usize,
    pub answered: bool,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "assessment/question.html")]
struct QuestionPage {
    nav: Nav,
    sitting: String,
    label: &'static str,
    number: usize,
    count: usize,
    deadline: String,
    minutes_left: i64,
    item: Shown,
    marks: Vec<Mark>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct QuestionQuery {
    cau: Option<usize>,
    #[serde(default)]
    thieu: Option<u8>,
}

/// `GET /kiem-tra/bai/{id}?cau=N` (N from 1): one question; without N, the first unanswered.
pub async fn question(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<QuestionQuery>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let sitting = match own_open(&state, user, &id).await? {
        Ok(sitting) => sitting,
        Err(to_result) => return Ok(to_result),
    };
    let saved = sitting::answers(&state.store, &id).await?;
    let paper = &sitting.paper;
    let count = paper.items.len();
    let number = q
        .cau
        .filter(|n| (1..=count).contains(n))
        .or_else(|| (0..count).find(|p| !saved.contains_key(&(*p as i64))).map(|p| p + 1))
        .unwrap_or(1);
    let entry = &paper.items[number - 1];
    let item = state
        .items
        .get(&state.store, &entry.id, entry.version)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item {} v{} is missing", entry.id, entry.version)))?;
    let shown = view::shown(&item, &entry.order, saved.get(&((number - 1) as i64)).map(|(r, _)| r));
    let marks = (1..=count)
        .map(|n| Mark { number: n, answered: saved.contains_key(&((n - 1) as i64)), current: n == number })
        .collect();
    let page = QuestionPage {
        nav: ctx.nav(),
        sitting: id.clone(),
        label: target_group_label(&paper.target_group),
        number,
        count,
        deadline: time_vi(paper.deadline),
        minutes_left: ((paper.deadline - now()) / 60).max(0),
        item: shown,
        marks,
        notice: q.thieu.map(|_| "Bạn chưa trả lời câu này. Hãy chọn hoặc điền câu trả lời rồi bấm “Lưu câu trả lời”."),
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /kiem-tra/bai/{id}/cau/{n}`: saves one answer (durably, before answering), then the next question.
pub async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, number)): Path<(String, usize)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Redirect, PageError> {
    let user = ctx.user()?;
    let paper = match state.papers.get(&state.store, &id).await? {
        Some(p) if p.account_id == user.id() => p,
        _ => return Err(AppError::hidden().into()),
    };
    let at = now();
    let closed = || AppError::Conflict {
        code: "sitting_closed",
        message: "Bài kiểm tra đã hết giờ hoặc đã nộp: câu trả lời này không được tính. \
                  / The time is up or the test was submitted: this answer does not count."
            .into(),
    };
    if at > paper.deadline {
        return Err(closed().into());
    }
    let Some(entry) = number.checked_sub(1).and_then(|p| paper.items.get(p)) else {
        return Err(AppError::hidden().into());
    };
    let item = state
        .items
        .get(&state.store, &entry.id, entry.version)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item {} v{} is missing", entry.id, entry.version)))?;
    let Ok(response) = item.read(&entry.order, &form) else {
        return Ok(Redirect::to(&format!("/kiem-tra/bai/{id}?cau={number}&thieu=1")));
    };
    let job = AnswerJob {
        sitting_id: id.clone(),
        position: (number - 1) as i64,
        correct: item.is_right(&response),
        response: serde_json::to_string(&response).expect("a response serialises"),
        at,
    };
    match state.answers.write(job).await {
        Ok(true) => {}
        Ok(false) => return Err(closed().into()),
        Err(e) => return Err(AppError::Internal(anyhow::anyhow!(e)).into()),
    }
    let next =
        if form.iter().any(|(k, v)| k == "di" && v == "truoc") { number.saturating_sub(1).max(1) } else { number + 1 };
    if next > paper.items.len() {
        return Ok(Redirect::to(&format!("/kiem-tra/bai/{id}/nop")));
    }
    Ok(Redirect::to(&format!("/kiem-tra/bai/{id}?cau={next}")))
}

#[derive(Template)]
#[template(path = "assessment/review.html")]
struct ReviewPage {
    nav: Nav,
    sitting: String,
    label: &'static str,
    count: usize,
    unanswered: Vec<usize>,
    deadline: String,
    marks: Vec<Mark>,
}

/// `GET /kiem-tra/bai/{id}/nop`: what is still unanswered, and the button that submits.
pub async fn review(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let sitting = match own_open(&state, user, &id).await? {
        Ok(sitting) => sitting,
        Err(to_result) => return Ok(to_result),
    };
    let saved = sitting::answers(&state.store, &id).await?;
    let count = sitting.paper.items.len();
    let unanswered: Vec<usize> = (1..=count).filter(|n| !saved.contains_key(&((n - 1) as i64))).collect();
    let marks = (1..=count)
        .map(|n| Mark { number: n, answered: saved.contains_key(&((n - 1) as i64)), current: false })
        .collect();
    let page = ReviewPage {
        nav: ctx.nav(),
        sitting: id,
        label: target_group_label(&sitting.paper.target_group),
        count,
        unanswered,
        deadline: time_vi(sitting.paper.deadline),
        marks,
    };
    Ok(Html(render(&page)?).into_response())
}

/// `POST /kiem-tra/bai/{id}/nop`: grades at once.
pub async fn submit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Redirect, PageError> {
    let user = ctx.user()?;
    own(&state, user, &id).await?;
    sitting::finish(&state, &id).await?;
    Ok(Redirect::to(&format!("/kiem-tra/ket-qua/{id}")))
}

pub struct CompetenceRow {
    pub code: String,
    pub name: String,
    pub right: u32,
    pub total: u32,
    pub percent: u32,
    pub met: bool,
    pub lessons: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "assessment/result.html")]
struct ResultPage {
    nav: Nav,
    label: &'static str,
    percent: u32,
    right: u32,
    total: u32,
    passed: bool,
    pass_percent: u32,
    min_percent: u32,
    rows: Vec<CompetenceRow>,
    certificate: Option<String>,
    already_held: bool,
    /// What to learn next after this result (issue 23).
    recommended: Vec<crate::assistant::recommend::Recommendation>,
}

/// `GET /kiem-tra/ket-qua/{id}`
pub async fn result(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let mut sitting = own(&state, user, &id).await?;
    if sitting.submitted_at.is_none() {
        if sitting.open(now()) {
            return Ok(Redirect::to(&format!("/kiem-tra/bai/{id}")).into_response());
        }
        sitting::finish(&state, &id).await?;
        sitting = own(&state, user, &id).await?;
    }
    let grade = sitting.grade.ok_or_else(|| AppError::Internal(anyhow::anyhow!("a finished sitting has no grade")))?;
    let framework = state
        .frameworks
        .get(&state.store, &sitting.paper.framework_version)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("framework version missing")))?;
    let profile = framework.profile(&sitting.paper.target_group);
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let rows = grade
        .competences
        .iter()
        .map(|c| {
            let mut lessons: Vec<(String, String)> = if c.met {
                Vec::new()
            } else {
                snapshot
                    .lessons
                    .values()
                    .filter(|l| l.competences.iter().any(|(code, _)| *code == c.code))
                    .map(|l| (l.slug.clone(), l.title.clone()))
                    .collect()
            };
            lessons.sort();
            lessons.truncate(4);
            CompetenceRow {
                code: c.code.clone(),
                name: framework.competence(&c.code).map(|k| k.name_vi.clone()).unwrap_or_default(),
                right: c.right,
                total: c.total,
                percent: c.percent(),
                met: c.met,
                lessons,
            }
        })
        .collect();
    let mut certificate: Option<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT id FROM certificate WHERE sitting_id = $1").bind(&id).fetch_optional(pool).await?);
    // A pass by someone already certified for the profile issued nothing: their certificate stands.
    let already_held = grade.passed && certificate.is_none();
    if already_held {
        certificate = on_pool!(&state.store, pool => sqlx::query_scalar(
            "SELECT id FROM certificate WHERE account_id = $1 AND target_group = $2 AND revoked_at IS NULL \
             AND withdrawn_at IS NULL ORDER BY issued_at LIMIT 1")
            .bind(user.id()).bind(&sitting.paper.target_group).fetch_optional(pool).await?);
    }
    let known = crate::assistant::recommend::known(&state, user.id(), user.account.person_id).await?;
    let recommended = crate::assistant::recommend::next(&snapshot, &known, 3);
    let page = ResultPage {
        nav: ctx.nav(),
        recommended,
        label: target_group_label(&sitting.paper.target_group),
        percent: grade.percent(),
        right: grade.right,
        total: grade.total,
        passed: grade.passed,
        pass_percent: profile.map_or(0, |p| (p.pass_share * 100.0).round() as u32),
        min_percent: profile.map_or(0, |p| (p.min_share_per_competence * 100.0).round() as u32),
        rows,
        already_held: already_held && certificate.is_some(),
        certificate,
    };
    Ok(Html(render(&page)?).into_response())
}
