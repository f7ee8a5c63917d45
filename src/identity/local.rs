//! Local accounts: the login form, logout (here or everywhere), the account page and password change.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::identity::access::{Ctx, encode, safe_next};
use crate::identity::accounts::{self, now};
use crate::identity::audit::{self, Entry};
use crate::identity::cookies;
use crate::identity::password::{self, NewPassword};
use crate::web::AppState;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Query};
use crate::web::pages::{Nav, render};

/// Failed logins allowed in the window, per account and per address, before logins are refused.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;

#[derive(Template)]
#[template(path = "identity/login.html")]
struct LoginPage {
    nav: Nav,
    next: String,
    next_q: String,
    login: String,
    error: Option<&'static str>,
    vneid: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    tiep: Option<String>,
}

pub async fn login_form(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.user.is_some() {
        return Redirect::to(&safe_next(q.tiep.as_deref())).into_response();
    }
    let page = LoginPage {
        nav: ctx.nav(),
        next: safe_next(q.tiep.as_deref()),
        next_q: encode(&safe_next(q.tiep.as_deref())),
        login: String::new(),
        error: None,
        vneid: state.vneid.is_some(),
    };
    crate::web::pages::page(&page)
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    tiep: Option<String>,
}

fn failure_key(kind: &str, value: &str) -> Vec<u8> {
    blake3::hash(format!("{kind}:{}", value.trim().to_lowercase()).as_bytes()).as_bytes()[..16].to_vec()
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let login = form.login.trim().to_owned();
    let next = safe_next(form.tiep.as_deref());
    let account_key = failure_key("account", &login);
    let address_key = failure_key("address", ctx.address().unwrap_or("unknown"));
    let since = now() - FAILURE_WINDOW_SECONDS;
    let account = accounts::by_login(&state.store, &login).await?;
    let refuse = |error: &'static str, status: StatusCode| {
        let page = LoginPage {
            nav: ctx.nav(),
            next: next.clone(),
            next_q: encode(&next),
            login: login.clone(),
            error: Some(error),
            vneid: state.vneid.is_some(),
        };
        crate::web::pages::page_with_status(status, &page)
    };
    if accounts::failures_since(&state.store, &account_key, since).await? >= MAX_FAILURES_PER_ACCOUNT
        || accounts::failures_since(&state.store, &address_key, since).await? >= MAX_FAILURES_PER_ADDRESS
    {
        audit::record(
            &state.store,
            Entry {
                account_id: account.as_ref().map(|a| a.id.as_str()),
                action: "login.failed",
                detail: Some(serde_json::json!({"reason": "rate_limited"})),
                address: ctx.address(),
                ..Default::default()
            },
        )
        .await?;
        return Ok(refuse(
            "Đăng nhập sai quá nhiều lần. Xin đợi 15 phút rồi thử lại. / Too many failed logins; wait 15 minutes.",
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let usable = account.as_ref().filter(|a| a.erased_at.is_none());
    let ok = password::verify(form.password, usable.and_then(|a| a.password_hash.clone())).await;
    let Some(account) = usable.filter(|_| ok) else {
        accounts::record_failure(&state.store, &[account_key, address_key]).await?;
        audit::record(
            &state.store,
            Entry {
                account_id: account.as_ref().map(|a| a.id.as_str()),
                action: "login.failed",
                detail: Some(serde_json::json!({"reason": "wrong_password"})),
                address: ctx.address(),
                ..Default::default()
            },
        )
        .await?;
        return Ok(refuse(
            "Tên đăng nhập hoặc mật khẩu không đúng. / Wrong login or password.",
            StatusCode::UNAUTHORIZED,
        ));
    };
    accounts::clear_failures(&state.store, &account_key).await?;
    Ok(start_session(&state, &ctx, &account.id, "password", &next).await?)
}

/// Opens a session, records the login, sets the cookie and sends the person on.
pub async fn start_session(
    state: &AppState,
    ctx: &Ctx,
    account_id: &str,
    method: &str,
    next: &str,
) -> Result<Response, AppError> {
    let token = accounts::open_session(&state.store, account_id, ctx.address()).await?;
    audit::record(
        &state.store,
        Entry {
            account_id: Some(account_id),
            action: "login",
            detail: Some(serde_json::json!({"method": method})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let mut response = Redirect::to(next).into_response();
    cookies::set(response.headers_mut(), cookies::SESSION, &token, Some(accounts::SESSION_SECONDS), ctx.secure);
    Ok(response)
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let user = ctx.user()?;
    accounts::close_session(&state.store, &user.session_token).await?;
    audit::record(
        &state.store,
        Entry { account_id: Some(user.id()), action: "logout", address: ctx.address(), ..Default::default() },
    )
    .await?;
    let mut response = Redirect::to("/").into_response();
    cookies::remove(response.headers_mut(), cookies::SESSION, ctx.secure);
    Ok(response)
}

pub async fn logout_everywhere(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let closed = accounts::close_all_sessions(&state.store, user.id()).await?;
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "logout.all",
            detail: Some(serde_json::json!({"sessions": closed})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let mut response = Redirect::to("/").into_response();
    cookies::remove(response.headers_mut(), cookies::SESSION, ctx.secure);
    Ok(response)
}

#[derive(Template)]
#[template(path = "identity/account.html")]
struct AccountPage {
    nav: Nav,
    name: String,
    login: Option<String>,
    account_id: String,
    roles: Vec<(String, String)>,
    via_vneid: bool,
    level: Option<i16>,
    needs_home: bool,
    pending_confirmation: bool,
}

pub async fn account_page(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let mut roles = Vec::new();
    for grant in &user.grants {
        let unit =
            crate::store::units::get(&state.store, &grant.unit_code).await?.map_or(grant.unit_code.clone(), |u| u.name);
        roles.push((grant.role.label().to_owned(), unit));
    }
    let account = &user.account;
    Ok(Html(render(&AccountPage {
        nav: ctx.nav(),
        name: user.name().to_owned(),
        login: account.login.clone(),
        account_id: account.id.clone(),
        roles,
        via_vneid: account.identity_level.is_some(),
        level: account.identity_level,
        needs_home: account.person_id.is_none() && account.home_commune.is_none() && !user.is_staff(),
        pending_confirmation: account.self_registered && account.confirmed_at.is_none(),
    })?))
}

#[derive(Template)]
#[template(path = "identity/password.html")]
struct PasswordPage {
    nav: Nav,
    forced: bool,
    has_password: bool,
    error: Option<&'static str>,
    done: bool,
}

pub async fn password_form(ctx: Ctx) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    Ok(Html(render(&PasswordPage {
        nav: ctx.nav(),
        forced: user.account.must_change_password,
        has_password: user.account.password_hash.is_some(),
        error: None,
        done: false,
    })?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: Option<String>,
    new: String,
    repeat: String,
}

/// Changes one's own password; every other session of the account ends.
pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let account = &user.account;
    let page = |error: Option<&'static str>, done: bool| PasswordPage {
        nav: ctx.nav(),
        forced: account.must_change_password && !done,
        has_password: account.password_hash.is_some(),
        error,
        done,
    };
    if account.password_hash.is_some()
        && !password::verify(form.current.unwrap_or_default(), account.password_hash.clone()).await
    {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(render(&page(Some("Mật khẩu hiện tại không đúng. / The current password is wrong."), false))?),
        )
            .into_response());
    }
    if form.new != form.repeat {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(render(&page(
                Some("Hai lần nhập mật khẩu mới không giống nhau. / The two new passwords differ."),
                false,
            ))?),
        )
            .into_response());
    }
    let new = match NewPassword::parse(&form.new, account.login.as_deref()) {
        Ok(p) => p,
        Err(e) => return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page(Some(e), false))?)).into_response()),
    };
    let hash = new.hash().await?;
    accounts::set_password(&state.store, user.id(), &hash, false).await?;
    audit::record(
        &state.store,
        Entry { account_id: Some(user.id()), action: "password.change", address: ctx.address(), ..Default::default() },
    )
    .await?;
    // Every session ended with the change; this one continues in a new session.
    start_session(&state, &ctx, user.id(), "password_change", "/tai-khoan").await.map_err(PageError)
}
