//! Community tech teams (IV.6.5, "đi từng ngõ, gõ từng nhà"): teams per commune, their members
//! (accounts holding `to_cong_nghe_so` in the commune) and the villages they cover; each team's page
//! shows its latest visits and leads to the commune's and each village's gap lists (who has no VNeID
//! level 2 or no digital bank account: `tracking::visit`, list `so_hoa`).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role::{self, *};
use crate::domain::role::commune_of;
use crate::domain::time::now;
use crate::identity::audit::{Actor, Entry};
use crate::on_pool;
use crate::store::Store;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;

/// Who sees the teams of a commune: its officers, its teams, the province.
pub const READERS: &[Role] = &[CanBoXa, ToCongNgheSo, QuanTriTinh];
/// Who sets the teams up: the commune's officers and the province.
pub const MANAGERS: &[Role] = &[CanBoXa, QuanTriTinh];

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/don-vi/{unit}/to-cong-nghe", Access::roles(READERS, Scope::Unit("unit")), list),
        Route::post("/quan-ly/don-vi/{unit}/to-cong-nghe", Access::roles(MANAGERS, Scope::Unit("unit")), create),
        Route::get("/quan-ly/don-vi/{unit}/to-cong-nghe/{team}", Access::roles(READERS, Scope::Unit("unit")), show),
        Route::post(
            "/quan-ly/don-vi/{unit}/to-cong-nghe/{team}/thanh-vien",
            Access::roles(MANAGERS, Scope::Unit("unit")),
            add_member,
        ),
        Route::post(
            "/quan-ly/don-vi/{unit}/to-cong-nghe/{team}/thon",
            Access::roles(MANAGERS, Scope::Unit("unit")),
            add_village,
        ),
    ]
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Team {
    pub id: i64,
    pub commune_code: String,
    pub name: String,
}

pub async fn get(store: &Store, id: i64) -> sqlx::Result<Option<Team>> {
    on_pool!(store, pool => sqlx::query_as("SELECT id, commune_code, name FROM tech_team WHERE id = $1")
        .bind(id).fetch_optional(pool).await)
}

/// The teams an account is a member of.
pub async fn of_member(store: &Store, account: &str) -> sqlx::Result<Vec<Team>> {
    on_pool!(store, pool => sqlx::query_as(
        "SELECT t.id, t.commune_code, t.name FROM tech_team t JOIN tech_team_member m ON m.team_id = t.id \
         WHERE m.account_id = $1 ORDER BY t.id").bind(account).fetch_all(pool).await)
}

/// The villages a team covers: (code, name).
pub async fn villages(store: &Store, team: i64) -> sqlx::Result<Vec<(String, String)>> {
    on_pool!(store, pool => sqlx::query_as(
        "SELECT u.code, u.name FROM tech_team_village v JOIN unit u ON u.code = v.village_code \
         WHERE v.team_id = $1 ORDER BY u.code").bind(team).fetch_all(pool).await)
}

/// A team's members: (login or name).
async fn members(store: &Store, team: i64) -> sqlx::Result<Vec<String>> {
    on_pool!(store, pool => sqlx::query_scalar(
        "SELECT coalesce(a.display_name, a.login, a.id) FROM tech_team_member m JOIN account a ON a.id = m.account_id \
         WHERE m.team_id = $1 ORDER BY 1").bind(team).fetch_all(pool).await)
}

/// The team of the path: of the commune named in it (which the guard checked the scope covers).
pub async fn visible(state: &AppState, unit: &str, id: i64) -> Result<Team, AppError> {
    get(&state.store, id).await?.filter(|t| t.commune_code == unit).ok_or_else(AppError::hidden)
}

/// A team's page.
pub fn href(team: &Team) -> String {
    format!("/quan-ly/don-vi/{}/to-cong-nghe/{}", team.commune_code, team.id)
}

struct TeamLine {
    id: i64,
    name: String,
    villages: String,
    members: i64,
    visits: i64,
}

#[derive(Template)]
#[template(path = "community/teams.html")]
struct TeamsPage {
    nav: Nav,
    unit: String,
    unit_name: String,
    teams: Vec<TeamLine>,
    villages: Vec<(String, String)>,
    can_manage: bool,
}

fn commune_only(unit: &str) -> Result<&str, AppError> {
    commune_of(unit).filter(|c| *c == unit).ok_or_else(|| {
        AppError::bad_request("teams_per_commune", "Tổ công nghệ số lập theo xã, phường. / Teams are per commune.")
    })
}

/// `GET /quan-ly/don-vi/{unit}/to-cong-nghe`: the commune's teams.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
) -> Result<Html<String>, PageError> {
    let commune = commune_only(&unit)?;
    let unit_row = crate::store::units::get(&state.store, commune).await?.ok_or_else(AppError::hidden)?;
    const TEAMS: &str = "SELECT t.id, t.name, \
         (SELECT count(*) FROM tech_team_member m WHERE m.team_id = t.id), \
         (SELECT count(*) FROM team_visit tv WHERE tv.team_id = t.id AND tv.deleted_at IS NULL) \
         FROM tech_team t WHERE t.commune_code = $1 ORDER BY t.id";
    const COVERED: &str = "SELECT v.team_id, u.name FROM tech_team_village v JOIN tech_team t ON t.id = v.team_id \
         JOIN unit u ON u.code = v.village_code WHERE t.commune_code = $1 ORDER BY u.code";
    let rows: Vec<(i64, String, i64, i64)> =
        on_pool!(&state.store, pool => sqlx::query_as(TEAMS).bind(commune).fetch_all(pool).await)?;
    let covered: Vec<(i64, String)> =
        on_pool!(&state.store, pool => sqlx::query_as(COVERED).bind(commune).fetch_all(pool).await)?;
    let villages = crate::store::units::children(&state.store, commune)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|u| staff.scope.covers_unit(&u.code))
        .map(|u| (u.code, u.name))
        .collect();
    let can_manage = staff.user.scope(MANAGERS).covers_unit(commune);
    let teams = rows
        .into_iter()
        .map(|(id, name, members, visits)| TeamLine {
            id,
            name,
            villages: covered.iter().filter(|(t, _)| *t == id).map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", "),
            members,
            visits,
        })
        .collect();
    Ok(Html(render(&TeamsPage {
        nav: ctx.nav(),
        unit: commune.to_owned(),
        unit_name: unit_row.name,
        teams,
        villages,
        can_manage,
    })?))
}

/// Repeated fields (`thon=…&thon=…`) as the pairs of the form.
type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// `POST /quan-ly/don-vi/{unit}/to-cong-nghe`: a new team with its name and villages.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<Pairs>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let name = field(&form, "ten").trim().to_owned();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(
            AppError::bad_request("invalid_team_name", "Nhập tên tổ (tối đa 120 ký tự). / Name the team.").into()
        );
    }
    let villages: Vec<&str> = form.iter().filter(|(k, _)| k == "thon").map(|(_, v)| v.as_str()).collect();
    if villages.iter().any(|v| commune_of(v) != Some(commune.as_str()) || *v == commune) {
        return Err(
            AppError::bad_request("village_not_in_commune", "Thôn phải thuộc xã. / Villages of the commune.").into()
        );
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let id: i64 = on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        let id: i64 = sqlx::query_scalar("INSERT INTO tech_team (commune_code, name, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(&commune).bind(&name).bind(now()).fetch_one(&mut *tx).await.map_err(AppError::from)?;
        for v in &villages {
            sqlx::query("INSERT INTO tech_team_village (team_id, village_code) SELECT $1, code FROM unit WHERE code = $2 \
                         ON CONFLICT DO NOTHING").bind(id).bind(*v).execute(&mut *tx).await.map_err(AppError::from)?;
        }
        audit_write!(&mut *tx, Entry { unit_code: Some(&commune), ..actor.entry("team.create", serde_json::json!({"team": id, "villages": villages.len()})) })
            .map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
        id
    });
    Ok(Redirect::to(&format!("/quan-ly/don-vi/{commune}/to-cong-nghe/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "community/team.html")]
struct TeamPage {
    nav: Nav,
    team: Team,
    commune_name: String,
    members: Vec<String>,
    villages: Vec<(String, String)>,
    other_villages: Vec<(String, String)>,
    visits: Vec<VisitLine>,
    can_manage: bool,
    is_member: bool,
}

struct VisitLine {
    id: String,
    visited_on: String,
    village: String,
    household: String,
    present: i64,
    done: String,
    still_needed: String,
    next_visit_on: String,
}

/// `GET /quan-ly/to-cong-nghe/{team}`: members, villages (each with its gap list), latest visits.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, id)): Path<(String, i64)>,
) -> Result<Html<String>, PageError> {
    let team = visible(&state, &unit, id).await?;
    let store = &state.store;
    let commune_name = crate::store::units::get(store, &team.commune_code).await?.map(|u| u.name).unwrap_or_default();
    let villages = villages(store, id).await?;
    let other_villages = crate::store::units::children(store, &team.commune_code)
        .await?
        .into_iter()
        .filter(|u| !villages.iter().any(|(c, _)| *c == u.code))
        .map(|u| (u.code, u.name))
        .collect();
    let rows = super::visits::of_team(store, id, &staff.scope, 100).await?;
    crate::identity::audit::record(
        store,
        Entry {
            account_id: Some(staff.id()),
            action: "visit.list",
            unit_code: Some(&team.commune_code),
            detail: Some(serde_json::json!({"team": id, "rows": rows.len()})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let name_of = |code: &str| villages.iter().find(|(c, _)| c == code).map_or(code.to_owned(), |(_, n)| n.clone());
    let visits = rows
        .into_iter()
        .map(|r| VisitLine {
            village: name_of(&r.village_code),
            id: r.id,
            visited_on: r.visited_on,
            household: r.household_code,
            present: r.present,
            done: super::visits::done_labels(r.done).join(", "),
            still_needed: r.still_needed.unwrap_or_default(),
            next_visit_on: r.next_visit_on.unwrap_or_default(),
        })
        .collect();
    let is_member = of_member(store, staff.id()).await?.iter().any(|t| t.id == id);
    Ok(Html(render(&TeamPage {
        nav: ctx.nav(),
        members: members(store, id).await?,
        can_manage: staff.user.scope(MANAGERS).covers_unit(&team.commune_code),
        team,
        commune_name,
        villages,
        other_villages,
        visits,
        is_member,
    })?))
}

#[derive(Deserialize)]
pub struct MemberForm {
    login: String,
}

/// `POST /quan-ly/to-cong-nghe/{team}/thanh-vien`: an account holding `to_cong_nghe_so` in the
/// team's commune joins it.
pub async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, id)): Path<(String, i64)>,
    Form(form): Form<MemberForm>,
) -> Result<Response, PageError> {
    let team = visible(&state, &unit, id).await?;
    let account = crate::identity::accounts::by_login(&state.store, form.login.trim())
        .await?
        .filter(|a| a.erased_at.is_none())
        .ok_or_else(|| AppError::not_found("account_not_found", "Không có tài khoản này. / No such account."))?;
    let grants: Vec<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT unit_code FROM role_grant WHERE account_id = $1 AND role = 'to_cong_nghe_so'")
        .bind(&account.id).fetch_all(pool).await)?;
    if !grants.iter().any(|u| commune_of(u) == Some(team.commune_code.as_str())) {
        return Err(AppError::bad_request(
            "not_a_team_volunteer",
            "Tài khoản này chưa có vai trò Tổ công nghệ số cộng đồng ở xã. / The account has no team role in the commune.",
        )
        .into());
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        sqlx::query("INSERT INTO tech_team_member (team_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id).bind(&account.id).execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry { unit_code: Some(&team.commune_code),
            ..actor.entry("team.member", serde_json::json!({"team": id, "account": account.id})) }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&href(&team)).into_response())
}

#[derive(Deserialize)]
pub struct VillageForm {
    thon: String,
}

/// `POST /quan-ly/to-cong-nghe/{team}/thon`: the team covers one more village of its commune.
pub async fn add_village(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, id)): Path<(String, i64)>,
    Form(form): Form<VillageForm>,
) -> Result<Response, PageError> {
    let team = visible(&state, &unit, id).await?;
    let village = form.thon.trim();
    if commune_of(village) != Some(team.commune_code.as_str()) || village == team.commune_code {
        return Err(
            AppError::bad_request("village_not_in_commune", "Thôn phải thuộc xã. / Villages of the commune.").into()
        );
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        let n = sqlx::query("INSERT INTO tech_team_village (team_id, village_code) SELECT $1, code FROM unit \
                     WHERE code = $2 ON CONFLICT DO NOTHING").bind(id).bind(village).execute(&mut *tx).await.map_err(AppError::from)?;
        if n.rows_affected() > 0 {
            audit_write!(&mut *tx, Entry { unit_code: Some(village),
                ..actor.entry("team.village", serde_json::json!({"team": id})) }).map_err(AppError::from)?;
        }
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&href(&team)).into_response())
}

/// The community pages an account's roles lead to, for the staff home page: (address, label).
pub fn staff_links(user: &crate::web::access::Principal) -> Vec<(String, String)> {
    let mut links = Vec::new();
    if user.holds(&[ToCongNgheSo]).next().is_some() {
        links.push(("/tham-nha/".to_owned(), "Ghi lượt thăm hộ (dùng được khi mất mạng)".to_owned()));
    }
    if user.holds(&[DaiSuSo]).next().is_some() {
        links.push(("/dai-su-so".to_owned(), "Người học của tôi (Đại sứ số)".to_owned()));
    }
    let communes = |roles: &[Role]| -> std::collections::BTreeSet<String> {
        user.scope(roles).unit_codes().iter().filter_map(|u| commune_of(u).map(str::to_owned)).collect()
    };
    for c in communes(READERS) {
        links.push((format!("/quan-ly/don-vi/{c}/to-cong-nghe"), format!("Tổ công nghệ số cộng đồng, xã {c}")));
    }
    for c in communes(super::ambassadors::MANAGERS) {
        links.push((format!("/quan-ly/don-vi/{c}/dai-su-so"), format!("Đại sứ số và người học, xã {c}")));
    }
    for c in communes(super::onestop::READERS) {
        links.push((format!("/quan-ly/don-vi/{c}/mot-cua"), format!("Hỗ trợ một cửa, xã {c}")));
    }
    links
}
