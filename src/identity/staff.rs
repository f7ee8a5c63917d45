//! Staff pages of identity: the staff home, erasure approvals, confirming self-registered learners,
//! password resets, and the auditor's search of the audit log.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role::{self, *};
use crate::domain::time::now;
use crate::identity::accounts;
use crate::identity::audit::{self, ACTIONS, Entry, Filter, action_label, format_time};
use crate::identity::password::NewPassword;
use crate::identity::{COMMUNE_STAFF, ERASURE_DECIDERS};
use crate::web::access::{Ctx, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path, Query};
use crate::web::pages::{Nav, render};
use crate::web::scope::Columns;
use crate::{bind_scope, on_pool};

#[derive(Template)]
#[template(path = "identity/staff_home.html")]
struct StaffHome {
    nav: Nav,
    links: Vec<(&'static str, &'static str)>,
    units: Vec<(String, String)>,
    /// Units whose who-to-visit lists and rules the account reads.
    visit_units: Vec<(String, String)>,
    /// The community models' pages (issue 22).
    community: Vec<(String, String)>,
}

/// Links to what each of the account's roles may do.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let has = |roles: &[Role]| user.holds(roles).next().is_some();
    let mut links = Vec::new();
    if has(crate::tracking::dashboard::DASHBOARD) {
        links.push(("/quan-ly/chi-tieu", "Chỉ tiêu: kết quả so với mục tiêu"));
    }
    if has(crate::tracking::agencies::READERS) {
        links.push(("/quan-ly/co-quan", "Chỉ tiêu theo cơ quan, trường học, doanh nghiệp"));
    }
    if has(crate::reports::access::REPORT_ROLES) {
        links.push(("/quan-ly/bao-cao", "Báo cáo quý: gửi, duyệt, tải về"));
        links.push(("/quan-ly/nhiem-vu", "Ma trận trách nhiệm: nhiệm vụ của các cơ quan"));
    }
    if user.scope(&[QuanTriTinh, KiemToan]).is_province() {
        links.push(("/quan-ly/xep-hang", "Xếp hạng thi đua"));
    }
    if has(COMMUNE_STAFF) {
        links.push(("/quan-ly/tu-dang-ky", "Người học tự đăng ký chờ xác nhận"));
        links.push(("/quan-tri/chung-nhan", "Chứng nhận và xác nhận lên VNeID"));
    }
    if has(ERASURE_DECIDERS) {
        links.push(("/quan-ly/xoa-du-lieu", "Yêu cầu xóa dữ liệu chờ duyệt"));
    }
    if has(&[QuanTriTinh]) {
        links.push(("/quan-ly/tai-khoan", "Tài khoản: tìm và đặt lại mật khẩu"));
    }
    if has(&[KiemToan]) {
        links.push(("/kiem-toan", "Nhật ký truy cập dữ liệu"));
    }
    let mut units = Vec::new();
    for unit in user.scope(crate::registry::people::READERS).unit_codes() {
        let name = crate::store::units::get(&state.store, &unit).await?.map_or(unit.clone(), |u| u.name);
        units.push((unit, name));
    }
    let mut visit_units = Vec::new();
    for unit in user.scope(crate::tracking::visit::VISITORS).unit_codes() {
        let name = crate::store::units::get(&state.store, &unit).await?.map_or(unit.clone(), |u| u.name);
        visit_units.push((unit, name));
    }
    let community = crate::community::teams::staff_links(user);
    Ok(Html(render(&StaffHome { nav: ctx.nav(), links, units, visit_units, community })?))
}

#[derive(sqlx::FromRow)]
struct ErasureRow {
    id: i64,
    account_id: String,
    commune_code: Option<String>,
    requested_at: i64,
}

#[derive(Template)]
#[template(path = "identity/erasure_queue.html")]
struct ErasureQueue {
    nav: Nav,
    rows: Vec<(i64, String, String, String)>,
}

pub async fn erasure_queue(State(state): State<AppState>, ctx: Ctx, staff: Staff) -> Result<Html<String>, PageError> {
    let within = staff.scope.predicate(Columns { commune: Some("commune_code"), ..Columns::default() }, 1);
    let sql = format!(
        "SELECT id, account_id, commune_code, requested_at FROM erasure_request \
         WHERE status = 'cho_duyet' AND {} ORDER BY id LIMIT 500",
        within.sql
    );
    let found: Vec<ErasureRow> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), within).fetch_all(pool).await)?;
    let rows = found
        .into_iter()
        .map(|r| (r.id, r.account_id, r.commune_code.unwrap_or_default(), format_time(r.requested_at)))
        .collect();
    Ok(Html(render(&ErasureQueue { nav: ctx.nav(), rows })?))
}

/// Erases the identifying fields of the person and the account, ends the sessions and records the
/// decision, all in one transaction.
pub async fn approve_erasure(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(request): Path<i64>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let at = now();
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        // The decision is taken while the request is pending, before anything is erased: of two
        // decisions at once exactly one changes the row, and the other is told it came too late.
        let decided = sqlx::query(
            "UPDATE erasure_request SET status = 'da_duyet', decided_by = $1, decided_at = $2 \
             WHERE id = $3 AND status = 'cho_duyet'",
        ).bind(user.id()).bind(at).bind(request).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if decided == 0 {
            tx.rollback().await.map_err(AppError::from)?;
            return Err(not_pending(&state, request).await.into());
        }
        let (account_id, person_id): (String, Option<i64>) = sqlx::query_as(
            "SELECT r.account_id, a.person_id FROM erasure_request r JOIN account a ON a.id = r.account_id WHERE r.id = $1",
        ).bind(request).fetch_one(&mut *tx).await.map_err(AppError::from)?;
        if let Some(person_id) = person_id {
            sqlx::query(
                "UPDATE person SET cccd_hash = NULL, cccd_enc = NULL, full_name = NULL, name_folded = NULL, \
                 birth_date = NULL, phone = NULL, \
                 erased_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP WHERE id = $1",
            ).bind(person_id).execute(&mut *tx).await.map_err(AppError::from)?;
            let mut conn: crate::tracking::Conn = (&mut *tx).into();
            crate::community::rights::erase(&mut conn, person_id).await.map_err(AppError::from)?;
        }
        sqlx::query(
            "UPDATE account SET login = NULL, password_hash = NULL, oidc_subject_hash = NULL, cccd_hash = NULL, \
             cccd_enc = NULL, display_name = NULL, erased_at = $1 WHERE id = $2",
        ).bind(at).bind(&account_id).execute(&mut *tx).await.map_err(AppError::from)?;
        sqlx::query("DELETE FROM session WHERE account_id = $1").bind(&account_id).execute(&mut *tx).await.map_err(AppError::from)?;
        // Certificates are withdrawn: the verify page says so without the name, and nothing more goes to VNeID.
        sqlx::query("UPDATE vneid_outbox SET state = 'failed', last_error = 'withdrawn', lease_until = NULL \
                     WHERE state = 'pending' AND certificate_id IN (SELECT id FROM certificate WHERE account_id = $1)")
            .bind(&account_id).execute(&mut *tx).await.map_err(AppError::from)?;
        sqlx::query("UPDATE certificate SET withdrawn_at = $1, holder_name = '', credential = '{}' \
                     WHERE account_id = $2 AND withdrawn_at IS NULL")
            .bind(at).bind(&account_id).execute(&mut *tx).await.map_err(AppError::from)?;
        audit_write!(&mut *tx, Entry {
            account_id: Some(user.id()),
            action: "erasure.approve",
            person_id,
            detail: Some(serde_json::json!({"request": request, "account": account_id})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/quan-ly/xoa-du-lieu").into_response())
}

pub async fn reject_erasure(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(request): Path<i64>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let done = sqlx::query(
            "UPDATE erasure_request SET status = 'tu_choi', decided_by = $1, decided_at = $2 WHERE id = $3 AND status = 'cho_duyet'",
        ).bind(user.id()).bind(now()).bind(request).execute(&mut *tx).await.map_err(AppError::from)?;
        if done.rows_affected() == 0 {
            tx.rollback().await.map_err(AppError::from)?;
            return Err(not_pending(&state, request).await.into());
        }
        audit_write!(&mut *tx, Entry {
            account_id: Some(user.id()),
            action: "erasure.reject",
            detail: Some(serde_json::json!({"request": request})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/quan-ly/xoa-du-lieu").into_response())
}

/// Why a decision on an erasure request changed nothing: no such request, or another decision
/// came first (that one stands).
async fn not_pending(state: &AppState, request: i64) -> AppError {
    let status: Result<Option<String>, _> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT status FROM erasure_request WHERE id = $1").bind(request).fetch_optional(pool).await);
    match status {
        Ok(Some(status)) => AppError::Conflict {
            code: "already_decided",
            message: format!(
                "Yêu cầu này đã được quyết định ({}) trước quyết định của bạn; không có gì thay đổi thêm. \
                 / This request was already decided ({status}); nothing more changed.",
                if status == "da_duyet" { "đã duyệt xóa" } else { "đã từ chối" }
            ),
        },
        Ok(None) => {
            AppError::not_found("no_pending_request", "Không có yêu cầu đang chờ này. / No such pending request.")
        }
        Err(e) => e.into(),
    }
}

#[derive(Template)]
#[template(path = "identity/self_registered.html")]
struct SelfRegistered {
    nav: Nav,
    rows: Vec<(String, String, String, String)>,
}

/// Learners who logged in through VNeID without being in the registry, in the officer's communes.
pub async fn self_registered(State(state): State<AppState>, ctx: Ctx, staff: Staff) -> Result<Html<String>, PageError> {
    let user = &staff.user;
    let within = staff.scope.predicate(Columns { commune: Some("home_commune"), ..Columns::default() }, 1);
    let sql = format!(
        "SELECT id, display_name, home_commune, created_at FROM account \
         WHERE self_registered AND confirmed_at IS NULL AND erased_at IS NULL AND home_commune IS NOT NULL \
           AND {} ORDER BY created_at LIMIT 500",
        within.sql
    );
    let found: Vec<(String, Option<String>, String, i64)> = on_pool!(&state.store, pool =>
        bind_scope!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), within).fetch_all(pool).await)?;
    let rows: Vec<(String, String, String, String)> = found
        .into_iter()
        .map(|(id, name, commune, at)| (id, name.unwrap_or_default(), commune, format_time(at)))
        .collect();
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "person.list",
            detail: Some(serde_json::json!({"list": "self_registered", "rows": rows.len()})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    Ok(Html(render(&SelfRegistered { nav: ctx.nav(), rows })?))
}

pub async fn confirm_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(account): Path<String>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        // The first confirmation stands: confirming again names no second confirmer.
        let confirmed = sqlx::query("UPDATE account SET confirmed_by = $1, confirmed_at = $2 \
                                     WHERE id = $3 AND self_registered AND confirmed_at IS NULL AND erased_at IS NULL")
            .bind(user.id()).bind(now()).bind(&account).execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        if confirmed == 0 {
            tx.rollback().await.map_err(AppError::from)?;
            return Err(AppError::Conflict {
                code: "already_confirmed",
                message: "Tài khoản này đã được xác nhận (hoặc không chờ xác nhận); không có gì thay đổi. \
                          / This account is already confirmed, or is not awaiting confirmation."
                    .into(),
            }
            .into());
        }
        audit_write!(&mut *tx, Entry {
            account_id: Some(user.id()),
            action: "account.confirm",
            detail: Some(serde_json::json!({"account": account})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to("/quan-ly/tu-dang-ky").into_response())
}

#[derive(Template)]
#[template(path = "identity/find_account.html")]
struct FindAccount {
    nav: Nav,
    login: String,
    found: Option<(String, String, Vec<String>, bool)>,
    done: bool,
}

#[derive(Deserialize)]
pub struct FindQuery {
    login: Option<String>,
    da_dat: Option<String>,
}

/// The administrator finds a local account by login, to reset its password.
pub async fn find_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FindQuery>,
) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let login = q.login.unwrap_or_default().trim().to_lowercase();
    let found = match accounts::by_login(&state.store, &login).await?.filter(|a| a.erased_at.is_none()) {
        Some(account) => {
            let grants = accounts::grants(&state.store, &account.id).await?;
            let roles = grants.iter().map(|g| format!("{} — {}", g.role.label(), g.unit_code)).collect();
            Some((account, roles))
        }
        None => None,
    };
    // A search shows another person's account: who looked, and what they found (by id, never the
    // login typed).
    if !login.is_empty() {
        audit::record(
            &state.store,
            Entry {
                account_id: Some(user.id()),
                action: "account.search",
                person_id: found.as_ref().and_then(|(a, _)| a.person_id),
                detail: Some(serde_json::json!({"found": found.as_ref().map(|(a, _)| a.id.as_str())})),
                address: ctx.address(),
                ..Default::default()
            },
        )
        .await?;
    }
    let found = found.map(|(account, roles)| {
        (account.id, account.display_name.unwrap_or_default(), roles, account.must_change_password)
    });
    Ok(Html(render(&FindAccount { nav: ctx.nav(), login, found, done: q.da_dat.is_some() })?))
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
}

/// An administrator sets a temporary password; the person must choose their own at the next login.
pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(account): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    let user = ctx.user()?;
    let target = accounts::get(&state.store, &account).await?.ok_or_else(AppError::hidden)?;
    let password = NewPassword::parse(&form.password, target.login.as_deref())
        .map_err(|e| AppError::bad_request("weak_password", e))?;
    let entry = Entry {
        account_id: Some(user.id()),
        action: "password.reset",
        person_id: target.person_id,
        detail: Some(serde_json::json!({"account": account})),
        address: ctx.address(),
        ..Default::default()
    };
    accounts::set_password(&state.store, &account, &password.hash().await?, true, entry).await?;
    let login = target.login.unwrap_or_default();
    Ok(Redirect::to(&format!("/quan-ly/tai-khoan?login={}&da_dat=1", crate::web::access::encode(&login)))
        .into_response())
}

struct AuditLine {
    at: String,
    account: String,
    action: String,
    person: String,
    unit: String,
    detail: String,
    address: String,
}

#[derive(Template)]
#[template(path = "identity/audit.html")]
struct AuditPage {
    nav: Nav,
    actions: &'static [(&'static str, &'static str)],
    filter: Filter,
    person_text: String,
    lines: Vec<AuditLine>,
    limit: i64,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    account: Option<String>,
    person: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The auditor's search; the search itself is recorded too.
pub async fn audit_search(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, PageError> {
    let user = &staff.user;
    let person_text = q.person.clone().unwrap_or_default();
    let filter = Filter {
        action: q.action.filter(|a| ACTIONS.iter().any(|(c, _)| c == a)),
        account: q.account,
        person: q.person.as_deref().and_then(|p| p.trim().parse().ok()),
        from: q.from,
        to: q.to,
    };
    let lines: Vec<AuditLine> = audit::search(&state.store, &filter, &staff.scope)
        .await?
        .into_iter()
        .map(|row| AuditLine {
            at: format_time(row.at),
            account: row.account_id.unwrap_or_default(),
            action: action_label(&row.action).to_owned(),
            person: row.person_id.map(|p| p.to_string()).unwrap_or_default(),
            unit: row.unit_code.unwrap_or_default(),
            detail: match (row.detail.unwrap_or_default(), row.repeats) {
                (detail, 1) => detail,
                (detail, n) => format!("{detail} ×{n} lần / times"),
            },
            address: row.address.unwrap_or_default(),
        })
        .collect();
    audit::record(
        &state.store,
        Entry {
            account_id: Some(user.id()),
            action: "audit.search",
            detail: Some(serde_json::json!({"action": filter.action, "person": filter.person, "rows": lines.len()})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    Ok(Html(render(&AuditPage {
        nav: ctx.nav(),
        actions: ACTIONS,
        filter,
        person_text,
        lines,
        limit: audit::PAGE_ROWS,
    })?))
}
