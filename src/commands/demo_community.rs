//! The demo's community models for the demo commune (issue 22, part A): a community tech team over
//! two villages with its door-to-door visits, two digital ambassadors (one with fewer than 5 mentees,
//! so the compliance list has something to say) with their mentoring sessions, and the one-stop desk's
//! hours and the citizens it helped. Written in one transaction after the movement; a visit confirms
//! VNeID level 2 or a bank account only where the person's facts already say so (the movement wrote
//! them), so nothing here contradicts the counters.

use crate::domain::time::{now, today};
use crate::on_pool;
use crate::store::Store;

/// What was written, for the demo's summary line.
#[derive(Debug, Default)]
pub struct Summary {
    pub visits: usize,
    pub mentees: usize,
    pub helps: usize,
}

/// A person's id and the sources of their VNeID level and bank account.
type PersonFacts = (i64, Option<i64>, Option<String>, Option<i64>, Option<String>);

const PROCEDURES: [&str; 5] = [
    "Đăng ký khai sinh trực tuyến",
    "Cấp đổi căn cước",
    "Đăng ký thường trú",
    "Cấp phiếu lý lịch tư pháp",
    "Nộp thuế hộ kinh doanh trực tuyến",
];
const OUTCOMES: [&str; 3] = ["xong", "huong_dan", "chua_xong"];

/// Runs after the demo accounts exist (`demo.to-cong-nghe-so`, `demo.dai-su-so`, `demo.ho-tro-mot-cua`).
pub async fn run(store: &Store, commune: &str) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let at = now();
    let day = |back: u64| (today() - chrono::Days::new(back)).to_string();
    on_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await?;
        let account = |login: &'static str| sqlx::query_scalar::<_, String>("SELECT id FROM account WHERE login = $1").bind(login);
        let volunteer: String = account("demo.to-cong-nghe-so").fetch_one(&mut *tx).await?;
        let mentor: String = account("demo.dai-su-so").fetch_one(&mut *tx).await?;
        let desk: String = account("demo.ho-tro-mot-cua").fetch_one(&mut *tx).await?;
        let villages: Vec<String> = sqlx::query_scalar("SELECT code FROM unit WHERE parent_code = $1 ORDER BY code LIMIT 2")
            .bind(commune).fetch_all(&mut *tx).await?;
        let team: i64 = sqlx::query_scalar(
            "INSERT INTO tech_team (commune_code, name, created_at) VALUES ($1, 'Tổ công nghệ số cộng đồng số 1', $2) RETURNING id")
            .bind(commune).bind(at).fetch_one(&mut *tx).await?;
        sqlx::query("INSERT INTO tech_team_member (team_id, account_id) VALUES ($1, $2)").bind(team).bind(&volunteer)
            .execute(&mut *tx).await?;
        for v in &villages {
            sqlx::query("INSERT INTO tech_team_village (team_id, village_code) VALUES ($1, $2)").bind(team).bind(v)
                .execute(&mut *tx).await?;
        }
        // The first households of the team's villages, a visit each over the last two months.
        let households: Vec<(String, String)> = sqlx::query_as(
            "SELECT code, village_code FROM household WHERE commune_code = $1 AND village_code IN ($2, $3) \
             ORDER BY village_code, code LIMIT 24")
            .bind(commune).bind(villages.first()).bind(villages.get(1).or(villages.first())).fetch_all(&mut *tx).await?;
        for (i, (household, village)) in households.iter().enumerate() {
            let people: Vec<PersonFacts> = sqlx::query_as(
                "SELECT id, CAST(vneid_level AS BIGINT), vneid_level_source, CAST(bank_account AS BIGINT), bank_source \
                 FROM person WHERE commune_code = $1 AND household_code = $2 AND erased_at IS NULL ORDER BY id")
                .bind(commune).bind(household).fetch_all(&mut *tx).await?;
            let id = uuid::Uuid::new_v4().to_string();
            let done = [1 << 4, (1 << 0) | (1 << 1), 1 << 2, (1 << 4) | (1 << 5)][i % 4];
            let note = ["Cần hướng dẫn thêm cách đăng nhập VNeID", "", "Bà cần học cách nhận diện lừa đảo qua điện thoại"][i % 3];
            let next = (i % 2 == 0).then(|| (today() + chrono::Days::new(7 + i as u64)).to_string());
            sqlx::query("INSERT INTO team_visit (id, team_id, commune_code, village_code, household_code, visited_on, done, \
                         still_needed, next_visit_on, content_hash, recorded_by, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                .bind(&id).bind(team).bind(commune).bind(village).bind(household).bind(day(2 + 2 * i as u64)).bind(done as i64)
                .bind((!note.is_empty()).then_some(note)).bind(next).bind(format!("demo-{id}")).bind(&volunteer).bind(at)
                .execute(&mut *tx).await?;
            for (person, level, level_source, bank, bank_source) in people.iter().take(3) {
                let by_team = |s: &Option<String>| s.as_deref() == Some("team_visit");
                let level2 = i64::from(*level == Some(2) && by_team(level_source));
                let account = i64::from(*bank == Some(1) && by_team(bank_source));
                sqlx::query("INSERT INTO team_visit_person (visit_id, person_id, vneid_level2, bank_account) VALUES ($1, $2, $3, $4)")
                    .bind(&id).bind(*person).bind(level2).bind(account).execute(&mut *tx).await?;
            }
            summary.visits += 1;
        }
        // Two mentors: the demo account with 6 mentees, another with 3 (under the plan's 5).
        let second: String = uuid::Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO account (id, display_name, created_at) VALUES ($1, 'Đại sứ số Lê Thị Hoa', $2)")
            .bind(&second).bind(at).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO role_grant (account_id, role, unit_code, granted_at) VALUES ($1, 'dai_su_so', $2, $3)")
            .bind(&second).bind(commune).bind(at).execute(&mut *tx).await?;
        let elders: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM person WHERE commune_code = $1 AND erased_at IS NULL AND birth_year <= 1970 ORDER BY id LIMIT 9")
            .bind(commune).fetch_all(&mut *tx).await?;
        for (i, person) in elders.iter().enumerate() {
            let who = if i < 6 { &mentor } else { &second };
            // Some were assigned long ago and have not been seen since: the mentor's page calls them stuck.
            let assigned = at - if i % 3 == 2 { 30 } else { 3 } * 86_400;
            sqlx::query("INSERT INTO mentee (mentor_id, person_id, commune_code, assigned_at) VALUES ($1, $2, $3, $4)")
                .bind(who).bind(*person).bind(commune).bind(assigned).execute(&mut *tx).await?;
            if i % 3 != 2 {
                sqlx::query("INSERT INTO mentoring_session (mentor_id, person_id, commune_code, held_on, learned, lessons, recorded_at) \
                             VALUES ($1, $2, $3, $4, $5, '', $6)")
                    .bind(who).bind(*person).bind(commune).bind(day(1 + i as u64))
                    .bind("Cài ứng dụng VNeID, đăng nhập bằng mật khẩu").bind(at).execute(&mut *tx).await?;
            }
            summary.mentees += 1;
        }
        sqlx::query("INSERT INTO one_stop_desk (account_id, commune_code, hours, updated_at) \
                     VALUES ($1, $2, 'Thứ Hai đến Thứ Sáu, 7h30–11h30 và 13h30–17h00', $3)")
            .bind(&desk).bind(commune).bind(at).execute(&mut *tx).await?;
        for (i, person) in elders.iter().take(8).enumerate() {
            sqlx::query("INSERT INTO one_stop_help (account_id, commune_code, person_id, helped_on, procedure_name, outcome, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&desk).bind(commune).bind(*person).bind(day(i as u64)).bind(PROCEDURES[i % PROCEDURES.len()])
                .bind(OUTCOMES[i % OUTCOMES.len()]).bind(at).execute(&mut *tx).await?;
            summary.helps += 1;
        }
        tx.commit().await?;
    });
    Ok(summary)
}
