//! A commune's officers manage its digital ambassadors (issue 22): register a person of the commune
//! (from the registry, by citizen number) as a mentor, which makes their account with the role
//! `dai_su_so` over the commune and hands over a first password once (changed at the first login);
//! deregister a mentor; take a mentee off a mentor; delete a mentoring session logged by mistake.
//! Each change is one transaction with its audit entries; each record is looked up through the
//! route's unit scope, so another commune's records answer as absent.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ambassadors::{MANAGERS, person_by_cccd};
use super::classes::commune_only;
use super::records::{Pairs, change_audited, confirmed, field, id_field};
use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role;
use crate::domain::time::now;
use crate::identity::accounts::{INSERT_ACCOUNT, INSERT_GRANT, new_account_id};
use crate::identity::audit::{Actor, Entry};
use crate::identity::password::NewPassword;
use crate::on_pool;
use crate::tracking::counters::Bind;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;

pub fn routes() -> Vec<Route> {
    let managers = Access::roles(MANAGERS, Scope::Unit("unit"));
    vec![
        Route::post("/quan-ly/don-vi/{unit}/dai-su-so/dang-ky", managers, register),
        Route::post("/quan-ly/don-vi/{unit}/dai-su-so/huy", managers, deregister),
        Route::post("/quan-ly/don-vi/{unit}/dai-su-so/nguoi-hoc/xoa", managers, remove_mentee),
        Route::post("/quan-ly/dai-su-so/buoi/xoa", Access::roles(MANAGERS, Scope::Anywhere), delete_session),
    ]
}

fn page_of(commune: &str) -> String {
    format!("/quan-ly/don-vi/{commune}/dai-su-so")
}

/// A login: 3 to 40 lower-case letters, digits, dots, dashes or underscores.
fn parse_login(raw: &str) -> Result<String, AppError> {
    let login = raw.trim().to_lowercase();
    let ok = (3..=40).contains(&login.len())
        && login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if !ok {
        return Err(AppError::bad_request(
            "invalid_login",
            "Tên đăng nhập gồm 3–40 chữ thường không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới. \
             / The login must be 3–40 lower-case letters, digits, '.', '-' or '_'.",
        ));
    }
    Ok(login)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    cccd: String,
    #[serde(default)]
    login: String,
}

#[derive(Template)]
#[template(path = "community/mentor_registered.html")]
struct RegisteredPage {
    nav: Nav,
    unit: String,
    name: String,
    login: String,
    /// The first password, shown this once; none when the person already had an account.
    password: Option<String>,
}

/// `POST /quan-ly/don-vi/{unit}/dai-su-so/dang-ky`: a person of the commune becomes a digital
/// ambassador. A person with no account gets one (the login the officer chose, a generated first
/// password to change at the first login); a person with an account gets the role on it.
pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let (person, person_commune, village) = person_by_cccd(&state, &form.cccd).await?;
    if person_commune != commune || !staff.scope.covers_unit(&village) {
        return Err(AppError::not_found(
            "person_not_found",
            "Không có người này trong xã. / No such person in the commune.",
        )
        .into());
    }
    let existing: Option<(String, Option<String>)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT id, login FROM account WHERE person_id = $1 AND erased_at IS NULL")
        .bind(person).fetch_optional(pool).await)?;
    let name: Option<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT full_name FROM person WHERE id = $1").bind(person).fetch_one(pool).await)?;
    let name = name.unwrap_or_default();
    let (account, login, password, hash) = match existing {
        Some((id, login)) => (id, login.unwrap_or_default(), None, None),
        None => {
            let login = parse_login(&form.login)?;
            if crate::identity::accounts::by_login(&state.store, &login).await?.is_some() {
                return Err(AppError::bad_request(
                    "login_taken",
                    "Tên đăng nhập này đã có người dùng; hãy chọn tên khác. / The login is taken.",
                )
                .into());
            }
            let (password, new) = NewPassword::generate(Some(&login));
            let hash = new.hash().await.map_err(AppError::Internal)?;
            (new_account_id(), login, Some(password), Some(hash))
        }
    };
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let at = now();
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        let result: Result<(), sqlx::Error> = async {
            if let Some(hash) = &hash {
                sqlx::query(INSERT_ACCOUNT)
                    .bind(&account).bind(&login).bind(hash).bind(true).bind(person)
                    .bind(None::<Vec<u8>>).bind(None::<Vec<u8>>).bind(None::<Vec<u8>>)
                    .bind(&name).bind(&commune).bind(None::<i16>).bind(false).bind(at)
                    .execute(&mut *tx).await?;
                audit_write!(&mut *tx, Entry { unit_code: Some(&commune),
                    ..actor.entry("account.create", serde_json::json!({"account": account, "roles": [Role::DaiSuSo.code()]})) })?;
            }
            sqlx::query(INSERT_GRANT).bind(&account).bind(Role::DaiSuSo.code()).bind(&commune).bind(None::<String>).bind(at)
                .execute(&mut *tx).await?;
            audit_write!(&mut *tx, Entry { person_id: Some(person), unit_code: Some(&village),
                ..actor.entry("mentor.register", serde_json::json!({"account": account, "new_account": hash.is_some()})) })?;
            Ok(())
        }.await;
        result.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    let page = render(&RegisteredPage { nav: ctx.nav(), unit: commune, name, login, password })?;
    // The password is on this page only: nothing may keep it.
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response())
}

/// `POST /quan-ly/don-vi/{unit}/dai-su-so/huy`: the account no longer holds `dai_su_so` in the
/// commune; its mentees there are taken off it (their sessions stay, as history).
pub async fn deregister(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let mentor = field(&pairs, "mentor");
    if mentor.is_empty() {
        return Err(AppError::bad_request("missing_mentor", "Chọn Đại sứ số. / Choose the mentor.").into());
    }
    let mentors = super::ambassadors::mentors(&state.store, &staff.scope).await?;
    if !mentors.iter().any(|m| m.account == mentor) {
        return Err(AppError::not_found(
            "mentor_not_found",
            "Không có đại sứ số này trong đơn vị. / No such mentor in the unit.",
        )
        .into());
    }
    confirmed(&pairs)?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let prefix = format!("{commune}-%");
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        let result: Result<(), sqlx::Error> = async {
            let grants = sqlx::query("DELETE FROM role_grant WHERE account_id = $1 AND role = 'dai_su_so' \
                                      AND (unit_code = $2 OR unit_code LIKE $3)")
                .bind(mentor).bind(&commune).bind(&prefix).execute(&mut *tx).await?.rows_affected();
            let mentees = sqlx::query("DELETE FROM mentee WHERE mentor_id = $1 AND commune_code = $2")
                .bind(mentor).bind(&commune).execute(&mut *tx).await?.rows_affected();
            audit_write!(&mut *tx, Entry { unit_code: Some(&commune),
                ..actor.entry("mentor.deregister", serde_json::json!({"account": mentor, "grants": grants, "mentees": mentees})) })?;
            Ok(())
        }.await;
        result.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&page_of(&commune)).into_response())
}

/// `POST /quan-ly/don-vi/{unit}/dai-su-so/nguoi-hoc/xoa`: a mentee is taken off a mentor.
pub async fn remove_mentee(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let commune = commune_only(&unit)?.to_owned();
    let mentor = field(&pairs, "mentor");
    let person = id_field(&pairs, "nguoi", "missing_mentee", "Chọn người học. / Choose the mentee.")?;
    let village: Option<String> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT p.village_code FROM mentee me JOIN person p ON p.id = me.person_id \
         WHERE me.mentor_id = $1 AND me.person_id = $2 AND me.commune_code = $3")
        .bind(mentor).bind(person).bind(&commune).fetch_optional(pool).await)?;
    let village = village
        .filter(|v| staff.scope.covers_unit(v))
        .ok_or_else(|| AppError::not_found("mentee_not_found", "Không có người học này. / No such mentee."))?;
    confirmed(&pairs)?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let entry = Entry {
        person_id: Some(person),
        unit_code: Some(&village),
        ..actor.entry("mentee.remove", serde_json::json!({"mentor": mentor}))
    };
    const DELETE: &str = "DELETE FROM mentee WHERE mentor_id = $1 AND person_id = $2";
    change_audited(&state, DELETE, &[Bind::Text(mentor), Bind::Int(person)], entry).await?;
    Ok(Redirect::to(&format!("/quan-ly/dai-su-so/{mentor}")).into_response())
}

/// `POST /quan-ly/dai-su-so/buoi/xoa`: a mentoring session logged by mistake is deleted, by an
/// officer whose units hold the mentee (checked against the officer's grants, as the mentor's page
/// lists them).
pub async fn delete_session(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let id = id_field(&pairs, "buoi", "missing_session", "Chọn buổi hướng dẫn. / Choose the session.")?;
    let row: Option<(String, i64, String)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT s.mentor_id, s.person_id, p.village_code FROM mentoring_session s JOIN person p ON p.id = s.person_id \
         WHERE s.id = $1").bind(id).fetch_optional(pool).await)?;
    let (mentor, person, village) = row
        .filter(|r| staff.scope.covers_unit(&r.2))
        .ok_or_else(|| AppError::not_found("session_not_found", "Không có buổi hướng dẫn này. / No such session."))?;
    confirmed(&pairs)?;
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    let entry = Entry {
        person_id: Some(person),
        unit_code: Some(&village),
        ..actor.entry("mentoring.session_delete", serde_json::json!({"session": id, "mentor": mentor}))
    };
    change_audited(&state, "DELETE FROM mentoring_session WHERE id = $1", &[Bind::Int(id)], entry).await?;
    Ok(Redirect::to(&format!("/quan-ly/dai-su-so/{mentor}")).into_response())
}
