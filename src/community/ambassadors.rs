//! Digital ambassadors (IV.6.1): mentors (accounts holding `dai_su_so`), the people assigned to them
//! (a mentor should have at least 5), and the mentoring sessions they log. A mentor's page lists
//! their mentees with their progress and who is stuck (nothing for 14 days).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role::{self, *};
use crate::domain::role::commune_of;
use crate::domain::time::{now, today};
use crate::identity::audit::{Actor, Entry};
use crate::on_pool;
use crate::store::Store;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::{Columns, UnitScope};

/// Who manages a commune's ambassadors: its officers and the province.
pub const MANAGERS: &[Role] = &[CanBoXa, QuanTriTinh];
/// The plan's minimum of mentees per mentor (the rule `dai_su_so_mentee`).
pub const MIN_MENTEES: i64 = 5;
/// A mentee with no learning, no session and no assignment for this long is stuck.
pub const STUCK_DAYS: i64 = 14;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/don-vi/{unit}/dai-su-so", Access::roles(MANAGERS, Scope::Unit("unit")), commune_page),
        Route::post("/quan-ly/don-vi/{unit}/dai-su-so", Access::roles(MANAGERS, Scope::Unit("unit")), assign),
        Route::get(
            "/quan-ly/dai-su-so/{account}",
            Access::roles(MANAGERS, Scope::Account("account")),
            mentor_for_staff,
        ),
        Route::get("/dai-su-so", Access::roles(&[DaiSuSo], Scope::Anywhere), mentor_own),
        Route::post("/dai-su-so/buoi", Access::roles(&[DaiSuSo], Scope::Anywhere), log_session),
    ]
}

/// A registry person found by citizen number: (id, commune, village).
pub async fn person_by_cccd(state: &AppState, raw: &str) -> Result<(i64, String, String), AppError> {
    let unknown = || {
        AppError::not_found(
            "person_not_found",
            "Không có người mang số CCCD này trong sổ. / No such person in the registry.",
        )
    };
    let id = crate::domain::cccd::CitizenId::parse(raw.trim()).map_err(|_| {
        AppError::bad_request("invalid_cccd", "Số CCCD phải có 12 chữ số. / A citizen number has 12 digits.")
    })?;
    let hash = state.keys.citizen.hash(&id);
    let row: Option<(i64, String, String)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT id, commune_code, village_code FROM person WHERE cccd_hash = $1 AND erased_at IS NULL")
        .bind(hash).fetch_optional(pool).await)?;
    row.ok_or_else(unknown)
}

/// One mentor of a commune: account, name, mentees, of them stuck, sessions.
#[derive(Debug)]
pub struct MentorLine {
    pub account: String,
    pub name: String,
    pub mentees: i64,
    pub stuck: i64,
    pub sessions: i64,
}

/// The latest of a mentee's activities, as three columns: the day they were assigned, the last lesson
/// touched, the last session with this mentor. `me` is the mentee row.
const ACTIVITY: &str = "me.assigned_at, \
     (SELECT max(pr.updated_at) FROM progress pr JOIN account a ON a.id = pr.account_id WHERE a.person_id = me.person_id), \
     (SELECT max(s.held_on) FROM mentoring_session s WHERE s.person_id = me.person_id AND s.mentor_id = me.mentor_id)";

fn last_activity(assigned: i64, lesson: Option<i64>, session: Option<String>) -> i64 {
    let session = session
        .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .map_or(0, crate::domain::time::start_of);
    assigned.max(lesson.unwrap_or(0)).max(session)
}

/// Mentors of the units in `scope` (accounts holding `dai_su_so` there), with their counts.
pub async fn mentors(store: &Store, scope: &UnitScope) -> sqlx::Result<Vec<MentorLine>> {
    let within = scope.predicate(Columns { unit: Some("g.unit_code"), ..Columns::default() }, 1);
    let mentor_filter = format!(
        "a.erased_at IS NULL AND EXISTS (SELECT 1 FROM role_grant g WHERE g.account_id = a.id \
         AND g.role = 'dai_su_so' AND {})",
        within.sql
    );
    let sql = format!(
        "SELECT a.id, coalesce(a.display_name, a.login, a.id), \
         (SELECT count(*) FROM mentoring_session s WHERE s.mentor_id = a.id) \
         FROM account a WHERE {mentor_filter} ORDER BY 2"
    );
    let rows: Vec<(String, String, i64)> = on_pool!(store, pool => crate::bind_scope!(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)), within).fetch_all(pool).await)?;
    let sql = format!(
        "SELECT me.mentor_id, {ACTIVITY} FROM mentee me JOIN account a ON a.id = me.mentor_id WHERE {mentor_filter}"
    );
    let acts: Vec<(String, i64, Option<i64>, Option<String>)> = on_pool!(store, pool => crate::bind_scope!(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)), within).fetch_all(pool).await)?;
    let stuck_before = now() - STUCK_DAYS * 86_400;
    Ok(rows
        .into_iter()
        .map(|(account, name, sessions)| {
            let mine = acts.iter().filter(|a| a.0 == account);
            let mentees = mine.clone().count() as i64;
            let stuck = mine.filter(|a| last_activity(a.1, a.2, a.3.clone()) < stuck_before).count() as i64;
            MentorLine { account, name, mentees, stuck, sessions }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "community/ambassadors.html")]
struct CommunePage {
    nav: Nav,
    unit: String,
    unit_name: String,
    mentors: Vec<MentorLine>,
    min: i64,
}

/// `GET /quan-ly/don-vi/{unit}/dai-su-so`: the commune's mentors, their mentees, who has fewer than 5.
pub async fn commune_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name =
        crate::store::units::get(&state.store, &unit).await?.map(|u| u.name).ok_or_else(AppError::hidden)?;
    let mentors = mentors(&state.store, &staff.scope).await?;
    Ok(Html(render(&CommunePage { nav: ctx.nav(), unit, unit_name, mentors, min: MIN_MENTEES })?))
}

#[derive(Deserialize)]
pub struct AssignForm {
    mentor: String,
    cccd: String,
}

/// `POST /quan-ly/don-vi/{unit}/dai-su-so`: a person of the unit becomes a mentor's mentee.
pub async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<AssignForm>,
) -> Result<Response, PageError> {
    let mentors = mentors(&state.store, &staff.scope).await?;
    let mentor = mentors.iter().find(|m| m.account == form.mentor.trim()).ok_or_else(|| {
        AppError::not_found("mentor_not_found", "Không có đại sứ số này trong đơn vị. / No such mentor in the unit.")
    })?;
    let (person, commune, village) = person_by_cccd(&state, &form.cccd).await?;
    if !staff.scope.covers_unit(&village) {
        return Err(AppError::not_found(
            "person_not_found",
            "Không có người này trong đơn vị. / No such person in the unit.",
        )
        .into());
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        sqlx::query("INSERT INTO mentee (mentor_id, person_id, commune_code, assigned_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING").bind(&mentor.account).bind(person).bind(&commune).bind(now())
            .execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry { person_id: Some(person), unit_code: Some(&village),
            ..actor.entry("mentee.assign", serde_json::json!({"mentor": mentor.account})) }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/dai-su-so")).into_response())
}

pub struct MenteeLine {
    pub person: i64,
    /// The commune the mentee was assigned in: where an officer corrects the assignment.
    pub commune: String,
    pub name: String,
    pub birth_year: i64,
    pub village: String,
    pub lessons: i64,
    pub learned: bool,
    pub passed: bool,
    pub last_activity: String,
    pub stuck: bool,
}

type MenteeRow =
    (i64, String, Option<String>, i64, Option<String>, i64, Option<i64>, i64, i64, Option<i64>, Option<String>);

/// A mentor's mentees, those in `scope` (the mentor's own page: all of theirs).
async fn mentees(store: &Store, mentor: &str, scope: &UnitScope) -> sqlx::Result<Vec<MenteeLine>> {
    let within = scope.predicate(Columns { village: Some("p.village_code"), ..Columns::default() }, 2);
    let sql = format!(
        "SELECT p.id, me.commune_code, p.full_name, CAST(p.birth_year AS BIGINT), u.name, \
         (SELECT count(*) FROM progress pr JOIN account a ON a.id = pr.account_id WHERE a.person_id = p.id \
          AND pr.completed_at IS NOT NULL), p.learned_at, CAST(p.passed_groups AS BIGINT), {ACTIVITY} \
         FROM mentee me JOIN person p ON p.id = me.person_id LEFT JOIN unit u ON u.code = p.village_code \
         WHERE me.mentor_id = $1 AND {} ORDER BY p.full_name, p.id",
        within.sql
    );
    let rows: Vec<MenteeRow> = on_pool!(store, pool => crate::bind_scope!(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(mentor), within).fetch_all(pool).await)?;
    let stuck_before = now() - STUCK_DAYS * 86_400;
    Ok(rows
        .into_iter()
        .map(|(person, commune, name, birth_year, village, lessons, learned, passed, assigned, lesson, session)| {
            let last = last_activity(assigned, lesson, session);
            MenteeLine {
                person,
                commune,
                name: name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
                birth_year,
                village: village.unwrap_or_default(),
                lessons,
                learned: learned.is_some(),
                passed: passed != 0,
                last_activity: crate::domain::time::date_vi(last),
                stuck: last < stuck_before,
            }
        })
        .collect())
}

pub struct SessionLine {
    pub id: i64,
    pub held_on: String,
    pub name: String,
    pub learned: String,
}

/// A mentor's latest sessions with mentees in `scope`.
async fn sessions(store: &Store, mentor: &str, scope: &UnitScope) -> sqlx::Result<Vec<SessionLine>> {
    let within = scope.predicate(Columns { village: Some("p.village_code"), ..Columns::default() }, 2);
    let sql = format!(
        "SELECT s.id, s.held_on, p.full_name, s.learned FROM mentoring_session s JOIN person p ON p.id = s.person_id \
         WHERE s.mentor_id = $1 AND {} ORDER BY s.held_on DESC, s.id DESC LIMIT 100",
        within.sql
    );
    let rows: Vec<(i64, String, Option<String>, Option<String>)> = on_pool!(store, pool => crate::bind_scope!(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(mentor), within).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, held_on, name, learned)| SessionLine {
            id,
            held_on,
            name: name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
            learned: learned.unwrap_or_default(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "community/mentor.html")]
struct MentorPage {
    nav: Nav,
    account: String,
    name: String,
    /// The sessions an officer may correct (none on the mentor's own page).
    sessions: Vec<SessionLine>,
    mentees: Vec<MenteeLine>,
    own: bool,
    today: String,
    min: i64,
    stuck_days: i64,
}

impl MentorPage {
    fn stuck_count(&self) -> usize {
        self.mentees.iter().filter(|m| m.stuck).count()
    }
}

async fn mentor_page(
    state: &AppState,
    ctx: &Ctx,
    reader: &str,
    mentor: &str,
    scope: &UnitScope,
    own: bool,
) -> Result<Html<String>, PageError> {
    // Any account the guard let through: one that is not a mentor simply has nobody to mentor.
    let name: Option<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT coalesce(display_name, login, id) FROM account a WHERE id = $1")
        .bind(mentor).fetch_optional(pool).await)?;
    let name = name.ok_or_else(AppError::hidden)?;
    let mentees = mentees(&state.store, mentor, scope).await?;
    let sessions = if own { Vec::new() } else { sessions(&state.store, mentor, scope).await? };
    crate::identity::audit::record(
        &state.store,
        Entry {
            account_id: Some(reader),
            action: "person.list",
            detail: Some(serde_json::json!({"list": "mentees", "mentor": mentor, "rows": mentees.len()})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    Ok(Html(render(&MentorPage {
        nav: ctx.nav(),
        account: mentor.to_owned(),
        name,
        sessions,
        mentees,
        own,
        today: today().to_string(),
        min: MIN_MENTEES,
        stuck_days: STUCK_DAYS,
    })?))
}

/// `GET /dai-su-so`: the signed-in mentor's mentees.
pub async fn mentor_own(State(state): State<AppState>, ctx: Ctx, staff: Staff) -> Result<Html<String>, PageError> {
    // Filtered by the mentor's own id: every one of their mentees, wherever an officer placed them.
    mentor_page(&state, &ctx, staff.id(), staff.id(), &UnitScope::province(), true).await
}

/// `GET /quan-ly/dai-su-so/{account}`: a mentor's page, for the officers of where the mentor is.
pub async fn mentor_for_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(account): Path<String>,
) -> Result<Html<String>, PageError> {
    // An officer sees the mentees within their own units only.
    mentor_page(&state, &ctx, staff.id(), &account, &staff.scope, false).await
}

#[derive(Deserialize)]
pub struct SessionForm {
    nguoi: i64,
    ngay: String,
    #[serde(default)]
    noi_dung: String,
    #[serde(default)]
    bai: String,
}

/// `POST /dai-su-so/buoi`: the mentor logs a session with one of their mentees.
pub async fn log_session(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Form(form): Form<SessionForm>,
) -> Result<Response, PageError> {
    let day = chrono::NaiveDate::parse_from_str(form.ngay.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| *d <= today() + chrono::Days::new(1))
        .ok_or_else(|| AppError::bad_request("invalid_session_date", "Ngày không hợp lệ. / Invalid date."))?;
    let learned = form.noi_dung.trim();
    let lessons: Vec<&str> = form.bai.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if learned.chars().count() > 500 || lessons.len() > 20 || lessons.iter().any(|l| l.len() > 100) {
        return Err(AppError::bad_request("session_too_long", "Nội dung quá dài. / Too long.").into());
    }
    let commune: Option<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT commune_code FROM mentee WHERE mentor_id = $1 AND person_id = $2")
        .bind(staff.id()).bind(form.nguoi).fetch_optional(pool).await)?;
    let commune = commune.ok_or_else(|| {
        AppError::not_found("mentee_not_found", "Người này không phải người bạn hướng dẫn. / Not your mentee.")
    })?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let lessons = lessons.join(",");
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        sqlx::query("INSERT INTO mentoring_session (mentor_id, person_id, commune_code, held_on, learned, lessons, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(staff.id()).bind(form.nguoi).bind(&commune).bind(day.to_string())
            .bind((!learned.is_empty()).then_some(learned)).bind(&lessons).bind(now())
            .execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry { person_id: Some(form.nguoi), unit_code: commune_of(&commune),
            ..actor.entry("mentoring.session", serde_json::json!({"day": day.to_string()})) }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/dai-su-so").into_response())
}

/// For the compliance list: mentors of the units in `scope` with fewer than the minimum of mentees,
/// and how many mentors there are.
pub async fn below_minimum(store: &Store, scope: &UnitScope, min: i64) -> sqlx::Result<(Vec<MentorLine>, usize)> {
    let all = mentors(store, scope).await?;
    let total = all.len();
    Ok((all.into_iter().filter(|m| m.mentees < min).collect(), total))
}
