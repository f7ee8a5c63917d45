//! Issuing a certificate: the signed credential, its row, its confirmation for VNeID in the
//! outbox and the holder's facts for the plan's indicators, inside the transaction that grades.

use std::sync::Arc;

use chrono::Datelike;
use ed25519_dalek::SigningKey;

use crate::assessment::sitting::Paper;
use crate::certificates::credential::{self, Claim};
use crate::domain::grading::Grade;
use crate::learning::framework::{Framework, target_group_label};
use crate::web::AppState;

pub struct Issue<'a> {
    pub paper: &'a Paper,
    pub grade: &'a Grade,
    pub framework: &'a Framework,
    pub min_level: u8,
    pub holder_name: &'a str,
    pub at: i64,
}

/// A certificate ready to be stored.
pub struct NewCertificate {
    pub id: String,
    pub sitting_id: String,
    pub account_id: String,
    pub target_group: String,
    pub holder_name: String,
    pub level: i64,
    pub share: i64,
    pub issued_at: i64,
    pub kid: String,
    pub credential: String,
}

pub fn year_of(at: i64) -> i64 {
    i64::from(chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().year())
}

/// Builds and signs the credential. The id is 122 random bits (UUIDv4): nobody can list certificates.
pub fn credential(state: &AppState, issue: &Issue, signer: &(String, Arc<SigningKey>)) -> NewCertificate {
    let id = uuid::Uuid::new_v4().to_string();
    let name_of = |code: &str| issue.framework.competence(code).map(|c| c.name_vi.clone()).unwrap_or_default();
    let claim = Claim {
        id: &id,
        holder_name: issue.holder_name,
        target_group: &issue.paper.target_group,
        profile_label: target_group_label(&issue.paper.target_group),
        level: issue.min_level,
        grade: issue.grade,
        competence_name: &name_of,
        framework_version: &issue.framework.version,
        issued_at: issue.at,
    };
    let public_url = &state.config.public_url;
    let (kid, key) = signer;
    let method = credential::method_id(&credential::issuer_did(public_url), kid);
    let secured = credential::sign(credential::build(public_url, &claim), key, &method, issue.at);
    NewCertificate {
        id,
        sitting_id: issue.paper.id.clone(),
        account_id: issue.paper.account_id.clone(),
        target_group: issue.paper.target_group.clone(),
        holder_name: issue.holder_name.to_owned(),
        level: i64::from(issue.min_level),
        share: i64::from(issue.grade.percent()),
        issued_at: issue.at,
        kid: kid.clone(),
        credential: serde_json::to_string(&secured).expect("a credential serialises"),
    }
}

/// Stores a certificate inside a transaction: its row, its VNeID confirmation (for an adult) and
/// the holder's facts (the profile passed, certified) that the indicators count.
#[macro_export]
macro_rules! insert_certificate_in_tx {
    ($tx:expr, $cert:expr, $person_id:expr, $confirm:expr) => {{
        let cert: &$crate::certificates::issue::NewCertificate = $cert;
        let person_id: Option<i64> = $person_id;
        sqlx::query(
            "INSERT INTO certificate (id, sitting_id, account_id, person_id, target_group, holder_name, level, share, \
             issued_at, kid, credential) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&cert.id)
        .bind(&cert.sitting_id)
        .bind(&cert.account_id)
        .bind(person_id)
        .bind(&cert.target_group)
        .bind(&cert.holder_name)
        .bind(cert.level)
        .bind(cert.share)
        .bind(cert.issued_at)
        .bind(&cert.kid)
        .bind(&cert.credential)
        .execute(&mut *$tx)
        .await?;
        if $confirm {
            sqlx::query("INSERT INTO vneid_outbox (certificate_id, state, next_at) VALUES ($1, 'pending', $2)")
                .bind(&cert.id)
                .bind(cert.issued_at)
                .execute(&mut *$tx)
                .await?;
        }
        if let Some(person) = person_id {
            let bit = $crate::domain::person::TargetGroups::parse(&cert.target_group).map(|g| g.bits()).unwrap_or(0);
            sqlx::query(
                "UPDATE person SET passed_groups = passed_groups | $1, certified_at = COALESCE(certified_at, $2) \
                 WHERE id = $3",
            )
            .bind(bit)
            .bind(cert.issued_at)
            .bind(person)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}
