//! Human help when the assistant cannot answer: the one-stop support staff of the learner's own
//! commune (accounts holding the role `ho_tro_mot_cua` over it), by display name only.

use crate::on_pool;
use crate::store::Store;

pub struct Help {
    pub commune: Option<String>,
    pub staff: Vec<String>,
}

impl Help {
    /// One sentence for the answer.
    pub fn sentence(&self) -> String {
        match (&self.commune, self.staff.is_empty()) {
            (Some(commune), false) => format!(
                "Bạn có thể hỏi cán bộ hỗ trợ một cửa của {commune}: {}. Đại sứ số và tổ công nghệ số cộng đồng ở \
                 thôn, tổ dân phố cũng sẵn lòng giúp.",
                self.staff.join(", ")
            ),
            (Some(commune), true) => format!(
                "Bạn có thể đến bộ phận một cửa của {commune}, hoặc hỏi đại sứ số, tổ công nghệ số cộng đồng ở thôn, \
                 tổ dân phố của mình."
            ),
            (None, _) => "Bạn có thể đến bộ phận một cửa của xã, phường nơi mình sống, hoặc hỏi đại sứ số, tổ công \
                          nghệ số cộng đồng ở thôn, tổ dân phố của mình."
                .to_owned(),
        }
    }
}

/// The commune of an account (its registry record's, or the one it gave), with the support staff there.
pub async fn for_account(store: &Store, account_id: Option<&str>) -> sqlx::Result<Help> {
    let Some(account_id) = account_id else { return Ok(Help { commune: None, staff: Vec::new() }) };
    let commune: Option<(String, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT u.code, u.name FROM account a LEFT JOIN person p ON p.id = a.person_id \
         JOIN unit u ON u.code = coalesce(p.commune_code, a.home_commune) WHERE a.id = $1"
    ).bind(account_id).fetch_optional(pool).await)?;
    let Some((code, name)) = commune else { return Ok(Help { commune: None, staff: Vec::new() }) };
    let staff: Vec<String> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT DISTINCT coalesce(a.display_name, a.login) FROM role_grant g JOIN account a ON a.id = g.account_id \
         WHERE g.role = 'ho_tro_mot_cua' AND g.unit_code = $1 AND a.erased_at IS NULL \
         AND coalesce(a.display_name, a.login) IS NOT NULL ORDER BY 1 LIMIT 5"
    ).bind(&code).fetch_all(pool).await)?;
    Ok(Help { commune: Some(name), staff })
}
