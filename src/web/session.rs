//! The signed-in account as the route guard loads it: one query per request finds the session, its
//! live account, whether that account accepted the current privacy notice, and its grants.

use crate::crypto::token_hash;
use crate::domain::role::{Grant, Role};
use crate::domain::time::now;
use crate::store::Store;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub login: Option<String>,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub person_id: Option<i64>,
    pub display_name: Option<String>,
    pub home_commune: Option<String>,
    pub identity_level: Option<i16>,
    pub self_registered: bool,
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
    pub erased_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PrincipalRow {
    #[sqlx(flatten)]
    account: AccountRow,
    consented: bool,
    role: Option<String>,
    unit_code: Option<String>,
    organisation_code: Option<String>,
}

crate::direct_row!(PrincipalRow { consented, role, unit_code, organisation_code } flatten { account: AccountRow });

crate::direct_row!(AccountRow {
    id,
    login,
    password_hash,
    must_change_password,
    person_id,
    display_name,
    home_commune,
    identity_level,
    self_registered,
    confirmed_at,
    created_at,
    erased_at
});

const SESSION_PRINCIPAL: &str = "SELECT a.id, a.login, a.password_hash, a.must_change_password, a.person_id, \
    a.display_name, a.home_commune, a.identity_level, a.self_registered, a.confirmed_at, a.created_at, a.erased_at, \
    EXISTS (SELECT 1 FROM consent c WHERE c.account_id = a.id AND c.notice_version = $3) AS consented, \
    g.role, g.unit_code, g.organisation_code \
    FROM session s JOIN account a ON a.id = s.account_id LEFT JOIN role_grant g ON g.account_id = a.id \
    WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.erased_at IS NULL ORDER BY g.role, g.unit_code";

/// Everything the route guard needs about a session in one query: its live account, whether that
/// account accepted this notice version, and its grants (one row per grant). Every signed-in request
/// makes it, so SQLite answers it on the calling thread.
pub async fn session_principal(
    store: &Store,
    token: &str,
    notice_version: &str,
) -> sqlx::Result<Option<(AccountRow, Vec<Grant>, bool)>> {
    let hash = token_hash(token);
    let at = now();
    let rows: Vec<PrincipalRow> = match store {
        Store::Sqlite(sqlite) => sqlite.direct.all(
            SESSION_PRINCIPAL,
            &[("$1", &hash), ("$2", &at), ("$3", &notice_version)],
            PrincipalRow::from_direct,
        )?,
        Store::Postgres(pool) => {
            sqlx::query_as(SESSION_PRINCIPAL).bind(&hash).bind(at).bind(notice_version).fetch_all(pool).await?
        }
    };
    let consented = rows.first().is_some_and(|r| r.consented);
    let mut grants = Vec::with_capacity(rows.len());
    let mut account = None;
    for row in rows {
        if let (Some(role), Some(unit_code)) = (row.role.as_deref().and_then(Role::parse), row.unit_code) {
            grants.push(Grant { role, unit_code, organisation_code: row.organisation_code });
        }
        account.get_or_insert(row.account);
    }
    Ok(account.map(|a| (a, grants, consented)))
}
