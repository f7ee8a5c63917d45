//! Digital families (IV.6.2). A household is a digital family when at least one member whose data is
//! held has learned a lesson; the household page says which members learned and passed. A member
//! whose data was erased no longer makes the household one on this page (the page would have to name
//! them); the indicator's counters keep the erased person's learning, as erasure keeps the counts.
//!
//! The household head (set by staff) sees a minor member's progress, and an adult member's only
//! while that member consents, which they give and take back from their own account page.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Datelike;
use serde::Deserialize;

use super::classes::unit_name;
use crate::app::AppState;
use crate::domain::role::Role::{self, *};
use crate::domain::role::commune_of;
use crate::domain::time::{now, today};
use crate::identity::audit::Entry;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;
use crate::web::scope::Columns;
use crate::{audit_write, bind_scope, on_pool};

pub const FAMILY_STAFF: &[Role] = &[CanBoXa, HoTroMotCua, ToCongNgheSo, DaiSuSo, QuanTriTinh];
const ADULT_AGE: i32 = 18;

pub fn routes() -> Vec<Route> {
    let staff = Access::roles(FAMILY_STAFF, Scope::Unit("unit"));
    vec![
        Route::get("/tai-khoan/gia-dinh", Access::SignedIn, mine),
        Route::post("/tai-khoan/gia-dinh/chia-se", Access::SignedIn, consent),
        Route::get("/quan-ly/don-vi/{unit}/gia-dinh-so", staff, list),
        Route::get("/quan-ly/don-vi/{unit}/ho/{household}", staff, show),
        Route::post("/quan-ly/don-vi/{unit}/ho/{household}/chu-ho", staff, set_head),
    ]
}

pub struct Member {
    pub id: i64,
    pub name: String,
    pub birth_year: i64,
    pub erased: bool,
    pub learned: bool,
    pub passed: bool,
    pub lessons: i64,
    pub consented: bool,
}

impl Member {
    fn adult(&self) -> bool {
        today().year() - i32::try_from(self.birth_year).unwrap_or(0) >= ADULT_AGE
    }

    /// Counts for the digital-family rule: learned, and their data held.
    pub fn counts(&self) -> bool {
        self.learned && !self.erased
    }
}

type MemberRow = (i64, Option<String>, i64, i64, Option<i64>, i64, i64, Option<i64>);

/// The members of a household, oldest first.
pub async fn members(state: &AppState, commune: &str, household: &str) -> Result<Vec<Member>, AppError> {
    let rows: Vec<MemberRow> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT p.id, p.full_name, CAST(p.birth_year AS BIGINT), \
         CAST(CASE WHEN p.erased_at IS NULL THEN 0 ELSE 1 END AS BIGINT), p.learned_at, CAST(p.passed_groups AS BIGINT), \
         (SELECT COUNT(*) FROM progress pr JOIN account a ON a.id = pr.account_id \
          WHERE a.person_id = p.id AND pr.completed_at IS NOT NULL), \
         (SELECT c.granted_at FROM family_consent c WHERE c.person_id = p.id) \
         FROM household h JOIN person p ON p.village_code = h.village_code AND p.household_code = h.code \
           AND p.commune_code = h.commune_code \
         WHERE h.commune_code = $1 AND h.code = $2 ORDER BY p.birth_year, p.id",
    ).bind(commune).bind(household).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, birth_year, erased, learned, passed, lessons, consent)| Member {
            id,
            name: name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
            birth_year,
            erased: erased != 0,
            learned: learned.is_some(),
            passed: passed != 0,
            lessons,
            consented: consent.is_some(),
        })
        .collect())
}

/// The members that make the household a digital family (none: it is not one).
pub fn learners(members: &[Member]) -> Vec<&str> {
    members.iter().filter(|m| m.counts()).map(|m| m.name.as_str()).collect()
}

async fn head_of(state: &AppState, commune: &str, household: &str) -> Result<Option<i64>, AppError> {
    Ok(on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT person_id FROM household_head WHERE commune_code = $1 AND household_code = $2",
    ).bind(commune).bind(household).fetch_optional(pool).await)?)
}

// ---- staff ----

#[derive(Template)]
#[template(path = "community/household.html")]
struct HouseholdPage {
    nav: Nav,
    unit: String,
    household: String,
    village_name: String,
    members: Vec<Member>,
    learners: String,
    /// The head's person id, 0 when none is set.
    head: i64,
}

/// The household named in the path, if the route's scope covers its village.
async fn household_in_scope(
    state: &AppState,
    staff: &Staff,
    unit: &str,
    household: &str,
) -> Result<(String, String), AppError> {
    let commune =
        commune_of(unit).ok_or_else(|| AppError::bad_request("commune_required", "Hãy mở hộ từ trang của xã."))?;
    let scope = staff
        .scope
        .predicate(Columns { commune: Some("commune_code"), village: Some("village_code"), ..Columns::default() }, 3);
    let sql = format!("SELECT village_code FROM household WHERE commune_code = $1 AND code = $2 AND {}", scope.sql);
    let village: Option<String> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(commune).bind(household), scope).fetch_optional(pool).await)?;
    let village =
        village.ok_or_else(|| AppError::not_found("unknown_household", "Không có hộ này. / No such household."))?;
    Ok((commune.to_owned(), village))
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, household)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let (commune, village) = household_in_scope(&state, &staff, &unit, &household).await?;
    let members = members(&state, &commune, &household).await?;
    super::classes::audit(
        &state,
        &ctx,
        &staff,
        "household.read",
        &village,
        serde_json::json!({"household": household, "rows": members.len()}),
    )
    .await?;
    let learners = learners(&members).join(", ");
    let head = head_of(&state, &commune, &household).await?.unwrap_or(0);
    let village_name = unit_name(&state, &village).await?;
    Ok(Html(render(&HouseholdPage { nav: ctx.nav(), unit, household, village_name, members, learners, head })?))
}

#[derive(Deserialize)]
pub struct HeadForm {
    #[serde(default)]
    chu_ho: String,
}

pub async fn set_head(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, household)): Path<(String, String)>,
    Form(form): Form<HeadForm>,
) -> Result<Response, PageError> {
    let (commune, village) = household_in_scope(&state, &staff, &unit, &household).await?;
    let person: i64 =
        form.chu_ho.trim().parse().map_err(|_| AppError::bad_request("invalid_head", "Hãy chọn chủ hộ."))?;
    let members = members(&state, &commune, &household).await?;
    if !members.iter().any(|m| m.id == person && !m.erased && m.adult()) {
        return Err(AppError::bad_request("invalid_head", "Chủ hộ phải là một thành viên đã thành niên của hộ.").into());
    }
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        sqlx::query(
            "INSERT INTO household_head (commune_code, household_code, person_id, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (commune_code, household_code) DO UPDATE SET person_id = $3, set_by = $4, set_at = $5",
        ).bind(&commune).bind(&household).bind(person).bind(staff.id()).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "household.head",
            person_id: Some(person),
            unit_code: Some(&village),
            detail: Some(serde_json::json!({"household": household})),
            address: ctx.address(),
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{unit}/ho/{household}")).into_response())
}

#[derive(Template)]
#[template(path = "community/families.html")]
struct ListPage {
    nav: Nav,
    unit_name: String,
    households: Vec<(String, String, String, i64, i64)>,
    digital: usize,
}

/// The households of a unit (the first 500) with their members and learners: codes and counts, no names.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let unit_name = unit_name(&state, &unit).await?;
    let scope = staff.scope.predicate(
        Columns { commune: Some("h.commune_code"), village: Some("h.village_code"), ..Columns::default() },
        1,
    );
    let sql = format!(
        "SELECT h.commune_code, h.code, u.name, COUNT(p.id), \
         COUNT(CASE WHEN p.learned_at IS NOT NULL AND p.erased_at IS NULL THEN 1 END) \
         FROM household h JOIN unit u ON u.code = h.village_code \
         LEFT JOIN person p ON p.village_code = h.village_code AND p.household_code = h.code AND p.commune_code = h.commune_code \
         WHERE {} GROUP BY h.commune_code, h.code, u.name ORDER BY u.name, h.code LIMIT 500",
        scope.sql
    );
    let households: Vec<(String, String, String, i64, i64)> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope).fetch_all(pool).await)?;
    let digital = households.iter().filter(|h| h.4 > 0).count();
    Ok(Html(render(&ListPage { nav: ctx.nav(), unit_name, households, digital })?))
}

// ---- the learner's own page ----

#[derive(Template)]
#[template(path = "community/family_mine.html")]
struct MinePage {
    nav: Nav,
    has_person: bool,
    is_head: bool,
    consented: bool,
    digital: bool,
    /// For the head: every member, and whether their progress may be shown.
    members: Vec<(Member, bool)>,
}

/// `GET /tai-khoan/gia-dinh`: whether my household is a digital family; my consent; for the head, the members.
pub async fn mine(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let Some(me) = user.account.person_id else {
        return Ok(Html(render(&MinePage {
            nav: ctx.nav(),
            has_person: false,
            is_head: false,
            consented: false,
            digital: false,
            members: Vec::new(),
        })?));
    };
    let me = super::classes_pass::by_id(&state, me).await?;
    let household: String = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT household_code FROM person WHERE id = $1").bind(me.id).fetch_one(pool).await)?;
    let all = members(&state, &me.commune, &household).await?;
    let digital = !learners(&all).is_empty();
    let consented = all.iter().any(|m| m.id == me.id && m.consented);
    let is_head = head_of(&state, &me.commune, &household).await? == Some(me.id);
    let members: Vec<(Member, bool)> = if is_head {
        all.into_iter()
            .filter(|m| !m.erased)
            .map(|m| {
                let visible = m.id == me.id || !m.adult() || m.consented;
                (m, visible)
            })
            .collect()
    } else {
        Vec::new()
    };
    if is_head {
        let shown = members.iter().filter(|(m, v)| *v && m.id != me.id).count();
        crate::identity::audit::record(
            &state.store,
            Entry {
                account_id: Some(user.id()),
                action: "family.read",
                person_id: Some(me.id),
                unit_code: Some(&me.village),
                detail: Some(serde_json::json!({"household": household, "shown": shown})),
                address: ctx.address(),
            },
        )
        .await?;
    }
    Ok(Html(render(&MinePage { nav: ctx.nav(), has_person: true, is_head, consented, digital, members })?))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    dong_y: String,
}

/// `POST /tai-khoan/gia-dinh/chia-se`: `dong_y=co` lets the household head see my progress, `khong` takes it back.
pub async fn consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let person = user
        .account
        .person_id
        .ok_or_else(|| AppError::bad_request("no_person", "Tài khoản chưa gắn với hồ sơ người dân."))?;
    let grant = match form.dong_y.trim() {
        "co" => true,
        "khong" => false,
        _ => return Err(AppError::bad_request("invalid_choice", "Hãy chọn đồng ý hoặc không.").into()),
    };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let changed = if grant {
            sqlx::query("INSERT INTO family_consent (person_id, granted_at) VALUES ($1, $2) ON CONFLICT (person_id) DO NOTHING")
                .bind(person).bind(now()).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected()
        } else {
            sqlx::query("DELETE FROM family_consent WHERE person_id = $1").bind(person).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected()
        };
        if changed > 0 {
            audit_write!(&mut *tx, Entry {
                account_id: Some(user.id()),
                action: if grant { "family.consent" } else { "family.revoke" },
                person_id: Some(person),
                address: ctx.address(),
                ..Default::default()
            }).map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/tai-khoan/gia-dinh").into_response())
}
