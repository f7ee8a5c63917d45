//! Accounts, their grants and their sessions: the queries, one SQL text for both databases.

use crate::crypto::{random_token, token_hash};
use crate::domain::role::{Grant, Role};
use crate::identity::audit::{Actor, Entry};
use crate::on_pool;
use crate::store::Store;
// The account as the route guard loads it, and the guard's session query, are shared HTTP pieces.
pub use crate::web::session::{AccountRow, session_principal};

/// How long a session lasts before the person must log in again.
pub const SESSION_SECONDS: i64 = 7 * 24 * 3600;

use crate::domain::time::now;

/// 128 random bits: the pseudonymous id learning records carry instead of a name.
pub fn new_account_id() -> String {
    random_token()[..32].to_owned()
}

macro_rules! account_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, login, password_hash, must_change_password, person_id, display_name, home_commune, \
             identity_level, self_registered, confirmed_at, created_at, erased_at FROM account ",
            $rest
        )
    };
}

/// What a new account starts with.
#[derive(Default)]
pub struct NewAccount {
    pub login: Option<String>,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub person_id: Option<i64>,
    pub oidc_subject_hash: Option<Vec<u8>>,
    pub cccd_hash: Option<Vec<u8>>,
    pub cccd_enc: Option<Vec<u8>>,
    pub display_name: Option<String>,
    pub home_commune: Option<String>,
    pub identity_level: Option<i16>,
    pub self_registered: bool,
    pub grants: Vec<Grant>,
}

pub const INSERT_ACCOUNT: &str = "INSERT INTO account (id, login, password_hash, must_change_password, person_id, \
     oidc_subject_hash, cccd_hash, cccd_enc, display_name, home_commune, identity_level, self_registered, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
pub const INSERT_GRANT: &str = "INSERT INTO role_grant (account_id, role, unit_code, organisation_code, granted_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, role, unit_code) DO NOTHING";

/// Creates the account and its grants in one transaction; returns its id.
pub async fn create(store: &Store, new: NewAccount) -> sqlx::Result<String> {
    create_as(store, new, None).await
}

/// Creates an account for someone else: the entry naming who created it (`account.create`, over
/// the unit of its first grant) is written in the same transaction.
pub async fn create_by(store: &Store, new: NewAccount, actor: Actor<'_>) -> sqlx::Result<String> {
    create_as(store, new, Some(actor)).await
}

async fn create_as(store: &Store, new: NewAccount, actor: Option<Actor<'_>>) -> sqlx::Result<String> {
    let id = new_account_id();
    let at = now();
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(INSERT_ACCOUNT)
            .bind(&id)
            .bind(&new.login)
            .bind(&new.password_hash)
            .bind(new.must_change_password)
            .bind(new.person_id)
            .bind(&new.oidc_subject_hash)
            .bind(&new.cccd_hash)
            .bind(&new.cccd_enc)
            .bind(&new.display_name)
            .bind(&new.home_commune)
            .bind(new.identity_level)
            .bind(new.self_registered)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        for grant in &new.grants {
            sqlx::query(INSERT_GRANT)
                .bind(&id)
                .bind(grant.role.code())
                .bind(&grant.unit_code)
                .bind(&grant.organisation_code)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(actor) = actor {
            let roles: Vec<&str> = new.grants.iter().map(|g| g.role.code()).collect();
            let mut entry = actor.entry("account.create", serde_json::json!({"account": id, "roles": roles}));
            entry.unit_code = new.grants.first().map(|g| g.unit_code.as_str());
            crate::audit_write!(&mut *tx, entry)?;
        }
        tx.commit().await?;
    });
    Ok(id)
}

pub async fn get(store: &Store, id: &str) -> sqlx::Result<Option<AccountRow>> {
    on_pool!(store, pool => sqlx::query_as::<_, AccountRow>(account_select!("WHERE id = $1")).bind(id).fetch_optional(pool).await)
}

pub async fn by_login(store: &Store, login: &str) -> sqlx::Result<Option<AccountRow>> {
    on_pool!(store, pool => sqlx::query_as::<_, AccountRow>(account_select!("WHERE login = $1"))
        .bind(login).fetch_optional(pool).await)
}

pub async fn by_subject(store: &Store, subject_hash: &[u8]) -> sqlx::Result<Option<AccountRow>> {
    on_pool!(store, pool => sqlx::query_as::<_, AccountRow>(account_select!("WHERE oidc_subject_hash = $1"))
        .bind(subject_hash).fetch_optional(pool).await)
}

pub async fn by_person(store: &Store, person_id: i64) -> sqlx::Result<Option<AccountRow>> {
    on_pool!(store, pool => sqlx::query_as::<_, AccountRow>(account_select!("WHERE person_id = $1"))
        .bind(person_id).fetch_optional(pool).await)
}

pub async fn by_cccd(store: &Store, cccd_hash: &[u8]) -> sqlx::Result<Option<AccountRow>> {
    on_pool!(store, pool => sqlx::query_as::<_, AccountRow>(account_select!("WHERE cccd_hash = $1"))
        .bind(cccd_hash).fetch_optional(pool).await)
}

pub async fn grants(store: &Store, account_id: &str) -> sqlx::Result<Vec<Grant>> {
    let rows: Vec<(String, String, Option<String>)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT role, unit_code, organisation_code FROM role_grant WHERE account_id = $1 ORDER BY role, unit_code",
    ).bind(account_id).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(role, unit_code, organisation_code)| {
            Some(Grant { role: Role::parse(&role)?, unit_code, organisation_code })
        })
        .collect())
}

pub async fn add_grant(store: &Store, account_id: &str, grant: &Grant) -> sqlx::Result<()> {
    on_pool!(store, pool => sqlx::query(INSERT_GRANT)
        .bind(account_id)
        .bind(grant.role.code())
        .bind(&grant.unit_code)
        .bind(&grant.organisation_code)
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets a new password hash, ends every session of the account and writes `entry` (who changed it),
/// in one transaction.
pub async fn set_password(
    store: &Store,
    account_id: &str,
    hash: &str,
    must_change: bool,
    entry: Entry<'_>,
) -> sqlx::Result<()> {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE account SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(hash)
            .bind(must_change)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM session WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
        crate::audit_write!(&mut *tx, entry)?;
        tx.commit().await?;
    });
    Ok(())
}

/// Opens a session and returns the token for the cookie; the database keeps only its hash. In the
/// same transaction: the login's audit entry and, after a password login, the end of the login
/// name's delay (`throttle_key`).
pub async fn open_session(
    store: &Store,
    account_id: &str,
    address: Option<&str>,
    method: &str,
    throttle_key: Option<&[u8]>,
) -> sqlx::Result<String> {
    let token = random_token();
    let at = now();
    let entry = crate::identity::audit::Entry {
        account_id: Some(account_id),
        action: "login",
        detail: Some(serde_json::json!({"method": method})),
        address,
        ..Default::default()
    };
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        // Expired sessions are cleared as new ones open.
        sqlx::query("DELETE FROM session WHERE expires_at <= $1").bind(at).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO session (token_hash, account_id, created_at, expires_at, address) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(account_id)
        .bind(at)
        .bind(at + SESSION_SECONDS)
        .bind(address)
        .execute(&mut *tx)
        .await?;
        if let Some(key) = throttle_key {
            sqlx::query(crate::identity::throttle::CLEAR)
                .bind(key)
                .bind(at - crate::identity::throttle::FORGET_AFTER_SECONDS)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit_write!(&mut *tx, &entry)?;
        tx.commit().await?;
    });
    Ok(token)
}

pub async fn close_session(store: &Store, token: &str) -> sqlx::Result<()> {
    on_pool!(store, pool => sqlx::query("DELETE FROM session WHERE token_hash = $1").bind(token_hash(token)).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn close_all_sessions(store: &Store, account_id: &str) -> sqlx::Result<u64> {
    let done = on_pool!(store, pool => sqlx::query("DELETE FROM session WHERE account_id = $1")
        .bind(account_id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done)
}

pub async fn record_consent(store: &Store, account_id: &str, version: &str) -> sqlx::Result<()> {
    on_pool!(store, pool => sqlx::query(
        "INSERT INTO consent (account_id, notice_version, accepted_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, notice_version) DO NOTHING",
    ).bind(account_id).bind(version).bind(now()).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}
