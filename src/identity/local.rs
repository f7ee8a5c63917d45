//! Local accounts: the login form, logout (here or everywhere), the account page and password change.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::time::now;
use crate::identity::accounts;
use crate::identity::audit::{self, Entry};
use crate::identity::password::{self, NewPassword};
use crate::identity::throttle;
use crate::web::access::{Ctx, encode};
use crate::web::cookies;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Query};
use crate::web::limit::retry_after_seconds;
use crate::web::pages::{Nav, render};
use crate::web::redirect::{safe_next, see_other};

#[derive(Template)]
#[template(path = "identity/login.html")]
struct LoginPage {
    nav: Nav,
    next: String,
    next_q: String,
    login: String,
    error: Option<String>,
    vneid: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    tiep: Option<String>,
}

pub async fn login_form(State(state): State<AppState>, ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.tiep.as_deref(), &state.config.public_url);
    if ctx.user.is_some() {
        return see_other(&next);
    }
    let page = LoginPage {
        nav: ctx.nav(),
        next_q: encode(&next),
        next,
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

/// "Wait n seconds" (or minutes), in both languages.
fn wait_text(seconds: u64) -> String {
    if seconds < 90 {
        format!(
            "Bạn đã thử đăng nhập sai nhiều lần. Xin đợi {seconds} giây rồi thử lại. / Too many failed logins; wait \
             {seconds} seconds and try again."
        )
    } else {
        let minutes = seconds.div_ceil(60);
        format!(
            "Bạn đã thử đăng nhập sai nhiều lần. Xin đợi {minutes} phút rồi thử lại. / Too many failed logins; wait \
             {minutes} minutes and try again."
        )
    }
}

/// A password login. In order, each refusal before the password is checked: the address's failures
/// (in memory, a delay that grows), then the login name's delay (in the database, doubling with
/// each failure). A known and an unknown login name go through the same steps and get the same
/// answers. Failures are audited one row per address, account, reason and minute, with a count.
pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let login = form.login.trim().to_owned();
    let next = safe_next(form.tiep.as_deref(), &state.config.public_url);
    let page = |error: Option<String>, status: StatusCode| {
        let page = LoginPage {
            nav: ctx.nav(),
            next: next.clone(),
            next_q: encode(&next),
            login: login.clone(),
            error,
            vneid: state.vneid.is_some(),
        };
        crate::web::pages::page_with_status(status, &page)
    };
    let failed = |account_id: Option<String>, reason: &'static str| {
        let (store, address) = (state.store.clone(), ctx.address.clone());
        async move {
            let entry = Entry {
                account_id: account_id.as_deref(),
                action: "login.failed",
                detail: Some(serde_json::json!({"reason": reason})),
                address: address.as_deref(),
                ..Default::default()
            };
            audit::record_repeated(&store, entry).await
        }
    };
    let wait = |seconds: u64| {
        let mut response = page(Some(wait_text(seconds)), StatusCode::TOO_MANY_REQUESTS);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    };

    if let Some(ip) = ctx.ip
        && let Err(delay) = state.login_limit.admit(ip)
    {
        failed(None, "address_limited").await?;
        return Ok(wait(retry_after_seconds(delay)));
    }
    let account = accounts::by_login(&state.store, &login).await?;
    let account_id = account.as_ref().map(|a| a.id.clone());
    let key = throttle::key(&login);
    if let Err(seconds) = throttle::take_attempt(&state.store, &key, now()).await? {
        // Hammering a delayed account counts against the address too: that bounds what one address
        // can add to the audit log by spreading over many delayed accounts.
        if let Some(ip) = ctx.ip {
            state.login_limit.failed(ip);
        }
        failed(account_id, "account_delayed").await?;
        return Ok(wait(seconds.max(1) as u64));
    }
    let usable = account.as_ref().filter(|a| a.erased_at.is_none());
    let ok = password::verify(form.password, usable.and_then(|a| a.password_hash.clone())).await;
    let Some(account) = usable.filter(|_| ok) else {
        if let Some(ip) = ctx.ip {
            state.login_limit.failed(ip);
        }
        failed(account_id, "wrong_password").await?;
        return Ok(page(
            Some("Tên đăng nhập hoặc mật khẩu không đúng. / Wrong login or password.".into()),
            StatusCode::UNAUTHORIZED,
        ));
    };
    Ok(start_session(&state, &ctx, &account.id, "password", Some(&key), &next).await?)
}

/// Opens a session, records the login (ending the login name's delay after a password login, in
/// the same transaction), sets the cookie and sends the person on.
pub async fn start_session(
    state: &AppState,
    ctx: &Ctx,
    account_id: &str,
    method: &str,
    throttle_key: Option<&[u8]>,
    next: &str,
) -> Result<Response, AppError> {
    let token = accounts::open_session(&state.store, account_id, ctx.address(), method, throttle_key).await?;
    let mut response = see_other(next);
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
    let entry =
        Entry { account_id: Some(user.id()), action: "password.change", address: ctx.address(), ..Default::default() };
    accounts::set_password(&state.store, user.id(), &hash, false, entry).await?;
    // Every session ended with the change; this one continues in a new session.
    start_session(&state, &ctx, user.id(), "password_change", None, "/tai-khoan").await.map_err(PageError)
}
