//! A person's rights over their data (Law 91/2025/QH15, Decree 356/2025): the privacy notice and
//! consent to it, seeing and downloading what is held, and asking for erasure.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::role::{Grant, Role};
use crate::domain::time::now;
use crate::domain::unit::{COMMUNES, parse_commune_code};
use crate::identity::accounts;
use crate::identity::audit::{self, Entry, format_time};
use crate::on_pool;
use crate::web::access::PRIVACY_NOTICE_VERSION;
use crate::web::access::{Ctx, Principal};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Query};
use crate::web::pages::{Nav, render};
use crate::web::redirect::{safe_next, see_other};

#[derive(Template)]
#[template(path = "identity/notice.html")]
struct NoticePage {
    nav: Nav,
    version: &'static str,
}

pub async fn notice(ctx: Ctx) -> Result<Html<String>, PageError> {
    Ok(Html(render(&NoticePage { nav: ctx.nav(), version: PRIVACY_NOTICE_VERSION })?))
}

#[derive(Template)]
#[template(path = "identity/consent.html")]
struct ConsentPage {
    nav: Nav,
    version: &'static str,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    tiep: Option<String>,
}

pub async fn consent_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Html<String>, PageError> {
    let next = safe_next(q.tiep.as_deref(), &state.config.public_url);
    Ok(Html(render(&ConsentPage { nav: ctx.nav(), version: PRIVACY_NOTICE_VERSION, next })?))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    dong_y: Option<String>,
    tiep: Option<String>,
}

pub async fn consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    if form.dong_y.as_deref() != Some("co") {
        return Err(AppError::bad_request(
            "consent_required",
            "Cần đánh dấu ô đồng ý để tiếp tục. / Tick the box to accept the notice.",
        )
        .into());
    }
    accounts::record_consent(&state.store, user.id(), PRIVACY_NOTICE_VERSION).await?;
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "consent",
            detail: Some(serde_json::json!({"notice_version": PRIVACY_NOTICE_VERSION})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    Ok(see_other(&safe_next(form.tiep.as_deref(), &state.config.public_url)))
}

#[derive(Template)]
#[template(path = "identity/home_commune.html")]
struct HomeCommunePage {
    nav: Nav,
    communes: Vec<(&'static str, &'static str)>,
    current: String,
}

pub async fn home_form(ctx: Ctx) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    Ok(Html(render(&HomeCommunePage {
        nav: ctx.nav(),
        communes: COMMUNES.iter().map(|c| (c.code.as_str(), c.name.as_str())).collect(),
        current: user.account.home_commune.clone().unwrap_or_default(),
    })?))
}

#[derive(Deserialize)]
pub struct HomeForm {
    ma_xa: String,
}

/// A self-registered learner says where they live, so that commune's officers can confirm them.
pub async fn set_home(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HomeForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    if user.account.person_id.is_some() {
        return Err(AppError::bad_request(
            "already_in_registry",
            "Bạn đã có trong sổ của xã; nơi ở do cán bộ xã cập nhật. / You are in the registry; your commune updates it.",
        )
        .into());
    }
    let code = parse_commune_code(form.ma_xa.trim())
        .map_err(|e| AppError::bad_request("bad_commune", format!("{} / {}", e.vi, e.en)))?
        .code
        .clone();
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        // An officer of the commune named before vouched for someone living there: another
        // commune's officers must confirm the learner afresh.
        sqlx::query("UPDATE account SET confirmed_at = NULL, confirmed_by = NULL \
                     WHERE id = $2 AND (home_commune IS NULL OR home_commune <> $1)")
            .bind(&code).bind(user.id()).execute(&mut *tx).await.map_err(AppError::from)?;
        sqlx::query("UPDATE account SET home_commune = $1 WHERE id = $2").bind(&code).bind(user.id()).execute(&mut *tx).await.map_err(AppError::from)?;
        sqlx::query("DELETE FROM role_grant WHERE account_id = $1 AND role = 'hoc_vien'").bind(user.id()).execute(&mut *tx).await.map_err(AppError::from)?;
        sqlx::query(accounts::INSERT_GRANT).bind(user.id()).bind(Role::HocVien.code()).bind(&code).bind(None::<String>).bind(now())
            .execute(&mut *tx).await.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/tai-khoan").into_response())
}

/// Everything the platform holds about the signed-in person, as shown and as downloaded.
#[derive(Serialize)]
struct MyData {
    account: AccountData,
    person: Option<PersonData>,
    roles: Vec<RoleData>,
    consents: Vec<ConsentData>,
    erasure_requests: Vec<ErasureData>,
    /// Staff reads and changes of this person's record: the audit log's entries about them.
    accesses: Vec<AccessData>,
    /// Door-to-door visits, mentoring, one-stop help (`community::rights`).
    community: Option<crate::community::rights::PersonData>,
    /// Classes, events, household consent, markets, volunteering, nominations (issue 22, part B).
    classes: Option<crate::community::classes_data::CommunityData>,
}

#[derive(Serialize)]
struct AccountData {
    id: String,
    login: Option<String>,
    display_name: Option<String>,
    identity_level: Option<i16>,
    self_registered: bool,
    home_commune: Option<String>,
    created_at: String,
}

#[derive(Serialize)]
struct PersonData {
    id: i64,
    cccd: Option<String>,
    full_name: Option<String>,
    birth_date: Option<String>,
    birth_year: i64,
    sex: String,
    ethnicity: Option<String>,
    phone: Option<String>,
    commune_code: String,
    village_code: String,
    household_code: String,
    target_groups: Vec<&'static str>,
    school_level: Option<String>,
    organisation_code: Option<String>,
}

#[derive(Serialize)]
struct RoleData {
    role: &'static str,
    unit_code: String,
}

#[derive(Serialize)]
struct ConsentData {
    notice_version: String,
    accepted_at: String,
}

#[derive(Serialize)]
struct ErasureData {
    requested_at: String,
    status: String,
}

#[derive(Serialize)]
struct AccessData {
    at: String,
    action: String,
}

async fn gather(state: &AppState, user: &Principal) -> Result<MyData, AppError> {
    let store = &state.store;
    let account = &user.account;
    let person = match account.person_id {
        Some(id) => crate::registry::people::find_record(store, id).await?,
        None => None,
    };
    let person = person.map(|p| PersonData {
        id: p.id,
        cccd: p.cccd_enc.as_deref().and_then(|b| state.keys.citizen.decrypt(b)).map(|c| c.expose().to_owned()),
        full_name: p.full_name,
        birth_date: p.birth_date,
        birth_year: p.birth_year,
        sex: p.sex,
        ethnicity: p.ethnicity,
        phone: p.phone,
        commune_code: p.commune_code,
        village_code: p.village_code,
        household_code: p.household_code,
        target_groups: crate::domain::person::TargetGroups::from_bits(p.target_groups)
            .iter()
            .map(|g| g.code())
            .collect(),
        school_level: p.school_level,
        organisation_code: p.organisation_code,
    });
    let consents: Vec<(String, i64)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT notice_version, accepted_at FROM consent WHERE account_id = $1 ORDER BY accepted_at",
    ).bind(&account.id).fetch_all(pool).await)?;
    let erasures: Vec<(i64, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT requested_at, status FROM erasure_request WHERE account_id = $1 ORDER BY requested_at",
    ).bind(&account.id).fetch_all(pool).await)?;
    let accesses: Vec<(i64, String)> = match account.person_id {
        Some(id) => on_pool!(store, pool => sqlx::query_as(
            "SELECT at, action FROM audit_log WHERE person_id = $1 ORDER BY id DESC LIMIT 100",
        ).bind(id).fetch_all(pool).await)?,
        None => Vec::new(),
    };
    let community = match account.person_id {
        Some(id) => Some(crate::community::rights::person_data(store, id).await?),
        None => None,
    };
    let classes = match account.person_id {
        Some(id) => Some(crate::community::classes_data::of_person(store, id).await?),
        None => None,
    };
    Ok(MyData {
        community,
        classes,
        account: AccountData {
            id: account.id.clone(),
            login: account.login.clone(),
            display_name: account.display_name.clone(),
            identity_level: account.identity_level,
            self_registered: account.self_registered,
            home_commune: account.home_commune.clone(),
            created_at: format_time(account.created_at),
        },
        person,
        roles: user
            .grants
            .iter()
            .map(|g: &Grant| RoleData { role: g.role.code(), unit_code: g.unit_code.clone() })
            .collect(),
        consents: consents
            .into_iter()
            .map(|(v, at)| ConsentData { notice_version: v, accepted_at: format_time(at) })
            .collect(),
        erasure_requests: erasures
            .into_iter()
            .map(|(at, s)| ErasureData { requested_at: format_time(at), status: s })
            .collect(),
        accesses: accesses
            .into_iter()
            .map(|(at, action)| AccessData { at: format_time(at), action: audit::action_label(&action).to_owned() })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "identity/my_data.html")]
struct MyDataPage {
    nav: Nav,
    data: MyData,
    pending_erasure: bool,
    message: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct MessageQuery {
    da_gui: Option<String>,
}

pub async fn my_data(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<MessageQuery>,
) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let data = gather(&state, user).await?;
    let pending_erasure = data.erasure_requests.iter().any(|e| e.status == "cho_duyet");
    let message =
        q.da_gui.map(|_| "Đã gửi yêu cầu xóa dữ liệu. Cán bộ xã sẽ xem xét. / Your erasure request was sent.");
    Ok(Html(render(&MyDataPage { nav: ctx.nav(), data, pending_erasure, message })?))
}

pub async fn download(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let data = gather(&state, user).await?;
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "data.download",
            person_id: user.account.person_id,
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let body = serde_json::to_string_pretty(&data).map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"du-lieu-cua-toi.json\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// Files a request; an officer of the person's commune approves it (one pending request at a time).
pub async fn request_erasure(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let commune: Option<String> = match user.account.person_id {
        Some(id) => on_pool!(&state.store, pool => sqlx::query_scalar("SELECT commune_code FROM person WHERE id = $1")
            .bind(id).fetch_optional(pool).await)?,
        None => user.account.home_commune.clone(),
    };
    let inserted = on_pool!(&state.store, pool => sqlx::query(
        "INSERT INTO erasure_request (account_id, commune_code, requested_at, status) VALUES ($1, $2, $3, 'cho_duyet') \
         ON CONFLICT DO NOTHING",
    ).bind(user.id()).bind(&commune).bind(now()).execute(pool).await.map(|r| r.rows_affected()))?;
    if inserted > 0 {
        audit::record(
            &state.store,
            Entry {
                account_id: Some(user.id()),
                action: "erasure.request",
                person_id: user.account.person_id,
                unit_code: commune.as_deref(),
                address: ctx.address(),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(Redirect::to("/tai-khoan/du-lieu?da_gui=1").into_response())
}
