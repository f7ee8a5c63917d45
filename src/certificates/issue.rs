//! Issuing a certificate: the signed credential, its row, its confirmation for VNeID in the
//! outbox and the holder's facts for the plan's indicators, inside the transaction that grades.

use std::sync::Arc;

use chrono::Datelike;
use ed25519_dalek::SigningKey;

use crate::app::AppState;
use crate::assessment::sitting::Paper;
use crate::certificates::credential::{self, Claim};
use crate::domain::grading::Grade;
use crate::learning::framework::{Framework, target_group_label};

pub struct Issue<'a> {
    pub paper: &'a Paper,
    pub grade: &'a Grade,
    pub framework: &'a Framework,
    pub min_level: u8,
    pub holder_name: &'a str,
    pub at: i64,
}

/// A certificate ready to be stored: its credential is signed in the storing transaction, once
/// its revocation position is known (the signature covers `credentialStatus`).
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
    /// The credential without `credentialStatus` and proof.
    pub document: serde_json::Value,
    pub public_url: url::Url,
    pub key: Arc<SigningKey>,
}

impl NewCertificate {
    /// The stored text of the credential at position (`list`, `index`), signed.
    pub fn seal(&self, list: i64, index: i64) -> String {
        let mut document = self.document.clone();
        document["credentialStatus"] = credential::status_entry(&self.public_url, list, index);
        let method = credential::method_id(&credential::issuer_did(&self.public_url), &self.kid);
        let secured = credential::sign(document, &self.key, &method, self.issued_at);
        serde_json::to_string(&secured).expect("a credential serialises")
    }
}

pub fn year_of(at: i64) -> i64 {
    i64::from(chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().year())
}

/// Builds the credential, to be signed when stored. The id is 122 random bits (UUIDv4): nobody can list certificates.
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
    let document = credential::build(public_url, &claim);
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
        document,
        public_url: public_url.clone(),
        key: key.clone(),
    }
}

/// Stores certificates inside a transaction with a few statements, however many there are: their
/// revocation positions, their credentials signed with them, their rows, their VNeID confirmations
/// (adults only) and the holders' facts (the profile passed, certified) that the indicators count.
/// `$certs` is `&[(&NewCertificate, person id, confirm)]`.
#[macro_export]
macro_rules! store_certificates_in_tx {
    ($tx:expr, $certs:expr) => {{
        let certs: &[(&$crate::certificates::issue::NewCertificate, Option<i64>, bool)] = $certs;
        if !certs.is_empty() {
            let positions = $crate::allocate_status_in_tx!($tx, certs.len() as i64);
            let sealed: Vec<(String, i64, i64)> = certs
                .iter()
                .zip(positions)
                .map(|((cert, _, _), (list, index))| (cert.seal(list, index), list, index))
                .collect();
            let mut rows = sqlx::QueryBuilder::new(
                "INSERT INTO certificate (id, sitting_id, account_id, person_id, target_group, holder_name, level, \
                 share, issued_at, kid, credential, status_list, status_index) ",
            );
            rows.push_values(certs.iter().zip(&sealed), |mut row, ((cert, person_id, _), (text, list, index))| {
                row.push_bind(&cert.id)
                    .push_bind(&cert.sitting_id)
                    .push_bind(&cert.account_id)
                    .push_bind(*person_id)
                    .push_bind(&cert.target_group)
                    .push_bind(&cert.holder_name)
                    .push_bind(cert.level)
                    .push_bind(cert.share)
                    .push_bind(cert.issued_at)
                    .push_bind(&cert.kid)
                    .push_bind(text)
                    .push_bind(*list)
                    .push_bind(*index);
            });
            rows.build().execute(&mut *$tx).await?;
        }
        let confirmed: Vec<&$crate::certificates::issue::NewCertificate> =
            certs.iter().filter(|(_, _, confirm)| *confirm).map(|(cert, _, _)| *cert).collect();
        if !confirmed.is_empty() {
            let mut outbox = sqlx::QueryBuilder::new("INSERT INTO vneid_outbox (certificate_id, state, next_at) ");
            outbox.push_values(confirmed, |mut row, cert| {
                row.push_bind(&cert.id).push("'pending'").push_bind(cert.issued_at);
            });
            outbox.build().execute(&mut *$tx).await?;
        }
        // One statement per (profile, second): a batch rarely spans more than a few.
        let mut facts: std::collections::BTreeMap<(i64, i64), Vec<i64>> = std::collections::BTreeMap::new();
        for (cert, person_id, _) in certs {
            if let Some(person) = person_id {
                let bit =
                    $crate::domain::person::TargetGroups::parse(&cert.target_group).map(|g| g.bits()).unwrap_or(0);
                facts.entry((bit, cert.issued_at)).or_default().push(*person);
            }
        }
        // The indicators' counters move with the facts, in this transaction.
        let holders: Vec<i64> = facts.values().flatten().copied().collect();
        let mut gained = std::collections::HashMap::<i64, i64>::new();
        for ((bit, _), people) in &facts {
            for person in people {
                *gained.entry(*person).or_default() |= *bit;
            }
        }
        let snapshot = {
            let mut conn: $crate::tracking::Conn = (&mut *$tx).into();
            $crate::tracking::counters::before(&mut conn, &holders).await?
        };
        for ((bit, at), mut people) in facts {
            people.sort_unstable();
            let mut update = sqlx::QueryBuilder::new("UPDATE person SET passed_groups = passed_groups | ");
            update
                .push_bind(bit)
                .push(", certified_groups = certified_groups | ")
                .push_bind(bit)
                .push(", certified_at = COALESCE(certified_at, ")
                .push_bind(at)
                .push(") WHERE id IN (");
            let mut ids = update.separated(", ");
            for person in people {
                ids.push_bind(person);
            }
            update.push(")");
            update.build().execute(&mut *$tx).await?;
        }
        // The change is known: the profile's bit, passed and certified, for each holder.
        let gained: std::collections::HashMap<i64, i64> = gained;
        let mut conn: $crate::tracking::Conn = (&mut *$tx).into();
        $crate::tracking::counters::settle_applied(&mut conn, snapshot, |id, facts| {
            if let Some(bits) = gained.get(&id) {
                facts.passed = $crate::domain::person::TargetGroups::from_bits(facts.passed.bits() | bits);
                facts.certified = $crate::domain::person::TargetGroups::from_bits(facts.certified.bits() | bits);
            }
        })
        .await?;
    }};
}
