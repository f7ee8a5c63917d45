//! Door-to-door visits of the community tech teams (IV.6.5): what a visit holds, how it is checked,
//! and the one writer that stores them (`visits_write`).
//!
//! Each visit carries an id made on the phone (a UUID). The same id with the same content (the
//! SHA-256 of its canonical form) is a harmless resend: nothing is written again. The same id with
//! other content is a conflict: nothing is overwritten. Visits that arrive together are written in one
//! transaction (group commit, `store::batch`), with what they confirm (VNeID level 2, a digital bank
//! account) moved onto the person's facts, source `team_visit`, and the counters in the same
//! transaction (`tracking::counters`), and an audit entry per visit and per person changed.

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::time::today;
use crate::on_pool;
use crate::store::Store;
use crate::store::batch::Batcher;
use crate::web::error::AppError;
use crate::web::scope::UnitScope;

/// Most visits written in one transaction.
const BATCH: usize = 256;
/// Longest "what is still needed" note, in characters.
pub const NOTE_MAX: usize = 500;
/// Most people present at one visit (a household is never larger).
const PEOPLE_MAX: usize = 40;

/// What a visit can have done, as stored bits, with the form's code and the label.
pub const DONE: [(&str, &str); 6] = [
    ("cai_vneid", "Cài ứng dụng VNeID"),
    ("kich_hoat_muc2", "Kích hoạt định danh mức 2"),
    ("mo_tai_khoan", "Mở tài khoản ngân hàng số"),
    ("cai_ung_dung", "Cài ứng dụng khác"),
    ("hoc_bai", "Học một bài học"),
    ("lam_danh_gia", "Làm bài đánh giá"),
];

/// The codes of the bits set in `done`.
pub fn done_labels(done: i64) -> Vec<&'static str> {
    DONE.iter().enumerate().filter(|(i, _)| done & (1 << i) != 0).map(|(_, (_, label))| *label).collect()
}

/// One person present at the visit, and what the visit confirmed for them.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, utoipa::ToSchema)]
pub struct Present {
    /// The person's id in the registry.
    pub person: i64,
    /// The visit saw the person's VNeID account at level 2.
    #[serde(default)]
    pub vneid_level2: bool,
    /// The visit saw the person's digital bank account.
    #[serde(default)]
    pub bank_account: bool,
}

/// A visit as the phone sends it (`POST /api/v1/visits`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct VisitInput {
    /// The UUID made on the phone.
    #[schema(example = "0b8f6a3e-2f4c-4d6e-9a1b-3c5d7e9f1a2b")]
    pub id: String,
    /// The team's id.
    pub team: i64,
    /// The household's code within the team's commune.
    pub household: String,
    /// The day of the visit, `YYYY-MM-DD`.
    #[schema(example = "2026-12-06")]
    pub visited_on: String,
    #[serde(default)]
    pub present: Vec<Present>,
    /// Codes of what was done: cai_vneid, kich_hoat_muc2, mo_tai_khoan, cai_ung_dung, hoc_bai, lam_danh_gia.
    #[serde(default)]
    pub done: Vec<String>,
    #[serde(default)]
    pub still_needed: String,
    /// The next visit, `YYYY-MM-DD`, or empty.
    #[serde(default)]
    pub next_visit_on: String,
}

/// A visit checked against the database, ready for the writer.
#[derive(Clone, Debug)]
pub struct NewVisit {
    pub id: String,
    pub team: i64,
    pub commune: String,
    pub village: String,
    pub household: String,
    pub visited_on: String,
    pub done: i64,
    pub still_needed: Option<String>,
    pub next_visit_on: Option<String>,
    pub present: Vec<Present>,
    pub content_hash: String,
    pub by: String,
    pub address: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    /// The same visit again: nothing changed.
    Duplicate,
    /// The id is taken by a different visit: nothing changed.
    Conflict,
}

pub type Writer = Batcher<NewVisit, Outcome>;

pub fn start(store: Store) -> Writer {
    Batcher::start_direct(store, BATCH, "visits", super::visits_write::write_batch, super::visits_write::write_sqlite)
}

fn bad(code: &'static str, message: &str) -> AppError {
    AppError::bad_request(code, message)
}

fn parse_day(raw: &str, code: &'static str, message: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| bad(code, message))
}

/// The checks that need no database: the id, the dates, the codes, the lengths. Gives the parts the
/// content hash is made of, in canonical order.
struct Checked {
    id: String,
    household: String,
    visited_on: String,
    done: i64,
    still_needed: Option<String>,
    next_visit_on: Option<String>,
    present: Vec<Present>,
}

fn check(input: &VisitInput) -> Result<Checked, AppError> {
    let id = uuid::Uuid::parse_str(input.id.trim())
        .map_err(|_| bad("invalid_visit_id", "Mã lượt thăm phải là một UUID. / The visit id must be a UUID."))?
        .to_string();
    let household = input.household.trim().to_owned();
    if household.is_empty() || household.chars().count() > 40 {
        return Err(bad("invalid_household", "Chọn hộ gia đình. / Choose a household."));
    }
    let visited = parse_day(
        &input.visited_on,
        "invalid_visit_date",
        "Ngày thăm phải có dạng năm-tháng-ngày. / The visit date must be YYYY-MM-DD.",
    )?;
    if visited > today() + chrono::Days::new(1) || visited < NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default() {
        return Err(bad(
            "invalid_visit_date",
            "Ngày thăm không thể ở tương lai. / The visit date cannot be in the future.",
        ));
    }
    let next_visit_on = match input.next_visit_on.trim() {
        "" => None,
        raw => {
            let next = parse_day(
                raw,
                "invalid_next_visit",
                "Ngày thăm lần sau phải có dạng năm-tháng-ngày. / The next visit must be YYYY-MM-DD.",
            )?;
            if next < visited {
                return Err(bad(
                    "invalid_next_visit",
                    "Lần thăm sau phải sau ngày thăm này. / The next visit must come after this one.",
                ));
            }
            Some(next.to_string())
        }
    };
    let mut done = 0i64;
    for code in &input.done {
        let bit = DONE
            .iter()
            .position(|(c, _)| c == code)
            .ok_or_else(|| bad("invalid_done", "Việc đã làm không hợp lệ. / Unknown item of what was done."))?;
        done |= 1 << bit;
    }
    let note = input.still_needed.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(bad("note_too_long", "Ghi chú quá dài (tối đa 500 ký tự). / The note is too long (500 at most)."));
    }
    let mut present = input.present.clone();
    present.sort();
    let people: BTreeSet<i64> = present.iter().map(|p| p.person).collect();
    if people.len() != present.len() || present.len() > PEOPLE_MAX {
        return Err(bad(
            "invalid_present",
            "Danh sách người có mặt không hợp lệ. / The list of people present is not valid.",
        ));
    }
    Ok(Checked {
        id,
        household,
        visited_on: visited.to_string(),
        done,
        still_needed: (!note.is_empty()).then(|| note.to_owned()),
        next_visit_on,
        present,
    })
}

/// What staff may correct on a stored visit (what was done, what is still needed, the next visit,
/// what it confirmed for each person present), checked as a new visit is.
pub struct Correction {
    pub done: i64,
    pub still_needed: Option<String>,
    pub next_visit_on: Option<String>,
    pub present: Vec<Present>,
}

/// Checks a correction: `input` is the stored visit with the corrected fields.
pub fn check_correction(input: &VisitInput) -> Result<Correction, AppError> {
    let c = check(input)?;
    Ok(Correction { done: c.done, still_needed: c.still_needed, next_visit_on: c.next_visit_on, present: c.present })
}

/// The SHA-256 of the canonical content: what makes two sends of one id "the same visit".
fn content_hash(team: i64, c: &Checked) -> String {
    let canonical = serde_json::json!({
        "team": team, "household": c.household, "visited_on": c.visited_on, "done": c.done,
        "still_needed": c.still_needed, "next_visit_on": c.next_visit_on, "present": c.present,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Checks a visit against the database: the account is a member of the team, the household is in one
/// of the team's villages and within the account's scope, every person present lives in it.
pub async fn prepare(
    store: &Store,
    input: &VisitInput,
    account: &str,
    scope: &UnitScope,
    address: Option<&str>,
) -> Result<NewVisit, AppError> {
    let checked = check(input)?;
    // One round trip: a row per living member of the household (or one row with none) when the account
    // is in the team: the team's commune, the village of a visit already stored under this id, the
    // household's village if it is one of the team's villages. The people are joined by village too:
    // it is what lets `person_village` serve the join (by commune and household alone, SQLite read
    // every person of the registry for each visit).
    const CHECK: &str = "SELECT t.commune_code, sv.village_code, h.village_code, p.id \
         FROM tech_team t JOIN tech_team_member m ON m.team_id = t.id AND m.account_id = $2 \
         LEFT JOIN team_visit sv ON sv.id = $3 AND sv.team_id = t.id \
         LEFT JOIN household h ON h.commune_code = t.commune_code AND h.code = $4 \
           AND h.village_code IN (SELECT tv.village_code FROM tech_team_village tv WHERE tv.team_id = t.id) \
         LEFT JOIN person p ON p.village_code = h.village_code AND p.household_code = h.code \
           AND p.commune_code = h.commune_code AND p.erased_at IS NULL \
         WHERE t.id = $1";
    type CheckRow = (String, Option<String>, Option<String>, Option<i64>);
    // Every visit a phone syncs makes this read: SQLite answers it on the calling thread.
    let rows: Vec<CheckRow> = match store {
        Store::Sqlite(sqlite) => sqlite.direct.all(
            CHECK,
            &[("$1", &input.team), ("$2", &account), ("$3", &checked.id), ("$4", &checked.household)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?,
        Store::Postgres(pool) => {
            sqlx::query_as(CHECK)
                .bind(input.team)
                .bind(account)
                .bind(&checked.id)
                .bind(&checked.household)
                .fetch_all(pool)
                .await?
        }
    };
    let Some((commune, stored, village, _)) = rows.first().cloned() else {
        return Err(AppError::not_found(
            "team_not_found",
            "Bạn không thuộc tổ công nghệ số này. / You are not in this team.",
        ));
    };
    let content_hash = content_hash(input.team, &checked);
    // A resend of a stored visit is answered from what is stored (duplicate or conflict), even when the
    // household or its people changed since (a person erased, a household moved).
    if let Some(village) = stored {
        return Ok(new_visit(checked, input.team, commune, village, content_hash, account, address));
    }
    let village = village.filter(|v| scope.covers_unit(v)).ok_or_else(|| {
        AppError::not_found(
            "household_not_found",
            "Không có hộ này trong các thôn của tổ. / No such household in the team's villages.",
        )
    })?;
    let members: HashSet<i64> = rows.iter().filter_map(|r| r.3).collect();
    if checked.present.iter().any(|p| !members.contains(&p.person)) {
        return Err(bad(
            "person_not_in_household",
            "Người có mặt phải là thành viên của hộ. / Everyone present must belong to the household.",
        ));
    }
    Ok(new_visit(checked, input.team, commune, village, content_hash, account, address))
}

fn new_visit(
    checked: Checked,
    team: i64,
    commune: String,
    village: String,
    content_hash: String,
    account: &str,
    address: Option<&str>,
) -> NewVisit {
    NewVisit {
        id: checked.id,
        team,
        commune,
        village,
        household: checked.household,
        visited_on: checked.visited_on,
        done: checked.done,
        still_needed: checked.still_needed,
        next_visit_on: checked.next_visit_on,
        present: checked.present,
        content_hash,
        by: account.to_owned(),
        address: address.map(str::to_owned),
    }
}

/// A visit as the team's pages list it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub id: String,
    pub village_code: String,
    pub household_code: String,
    pub visited_on: String,
    pub done: i64,
    pub still_needed: Option<String>,
    pub next_visit_on: Option<String>,
    pub present: i64,
}

/// The team's latest visits, within `scope`.
pub async fn of_team(store: &Store, team: i64, scope: &UnitScope, limit: i64) -> sqlx::Result<Vec<VisitRow>> {
    let within = scope.predicate(
        crate::web::scope::Columns {
            village: Some("v.village_code"),
            commune: Some("v.commune_code"),
            ..Default::default()
        },
        3,
    );
    let sql = format!(
        "SELECT v.id, v.village_code, v.household_code, v.visited_on, CAST(v.done AS BIGINT) AS done, v.still_needed, \
         v.next_visit_on, (SELECT count(*) FROM team_visit_person p WHERE p.visit_id = v.id) AS present \
         FROM team_visit v WHERE v.team_id = $1 AND v.deleted_at IS NULL AND {} ORDER BY v.visited_on DESC, v.recorded_at DESC LIMIT $2",
        within.sql
    );
    on_pool!(store, pool => crate::bind_scope!(
        sqlx::query_as::<_, VisitRow>(sqlx::AssertSqlSafe(sql)).bind(team).bind(limit), within)
        .fetch_all(pool).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> VisitInput {
        VisitInput {
            id: "0B8F6A3E-2F4C-4D6E-9A1B-3C5D7E9F1A2B".into(),
            team: 1,
            household: " HO-1 ".into(),
            visited_on: "2025-03-02".into(),
            present: vec![
                Present { person: 9, vneid_level2: true, bank_account: false },
                Present { person: 3, vneid_level2: false, bank_account: true },
            ],
            done: vec!["hoc_bai".into(), "cai_vneid".into()],
            still_needed: "  ".into(),
            next_visit_on: "".into(),
        }
    }

    #[test]
    fn the_hash_ignores_order_and_spacing_but_not_content() {
        let a = check(&input()).unwrap();
        assert_eq!(a.id, "0b8f6a3e-2f4c-4d6e-9a1b-3c5d7e9f1a2b");
        let mut reordered = input();
        reordered.present.reverse();
        reordered.done.reverse();
        reordered.household = "HO-1".into();
        assert_eq!(content_hash(1, &a), content_hash(1, &check(&reordered).unwrap()));
        let mut changed = input();
        changed.present[0].bank_account = true;
        assert_ne!(content_hash(1, &a), content_hash(1, &check(&changed).unwrap()));
        assert_ne!(content_hash(1, &a), content_hash(2, &a));
    }

    #[test]
    fn bad_input_is_refused_with_a_code() {
        let code = |f: fn(&mut VisitInput)| {
            let mut i = input();
            f(&mut i);
            match check(&i) {
                Err(AppError::BadRequest { code, .. }) => code,
                other => panic!("{:?}", other.map(|c| c.id)),
            }
        };
        assert_eq!(code(|i| i.id = "not-a-uuid".into()), "invalid_visit_id");
        assert_eq!(code(|i| i.visited_on = "2999-01-01".into()), "invalid_visit_date");
        assert_eq!(code(|i| i.next_visit_on = "2025-03-01".into()), "invalid_next_visit");
        assert_eq!(code(|i| i.done = vec!["bay".into()]), "invalid_done");
        assert_eq!(
            code(|i| i.present.push(Present { person: 9, vneid_level2: false, bank_account: false })),
            "invalid_present"
        );
        assert_eq!(code(|i| i.still_needed = "x".repeat(501)), "note_too_long");
    }
}
