//! The demo's community models of part B (issue 22) for the demo commune: weekly classes with their
//! sessions of the last six weeks and attendance, the province's 10/10 day, a 4T market with traders
//! and modules, Youth Union volunteers and their hours, household heads, and a nomination waiting for
//! the province. Written in one transaction, straight into the tables the pages read.

use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::community::classes::week_of;
use crate::domain::time::{now, today};
use crate::on_pool;
use crate::store::Store;

/// What `demo` empties before it fills the registry again (children before parents).
pub const WIPE: &[&str] = &[
    "DELETE FROM class_attendance",
    "DELETE FROM class_session",
    "DELETE FROM community_class",
    "DELETE FROM event_participant",
    "DELETE FROM community_event",
    "DELETE FROM household_head",
    "DELETE FROM family_consent",
    "DELETE FROM trader_module",
    "DELETE FROM market_module_lesson",
    "DELETE FROM market_trader",
    "DELETE FROM market",
    "DELETE FROM volunteer_activity",
    "DELETE FROM volunteer",
    "DELETE FROM nomination",
];

#[derive(Debug, Default)]
pub struct Summary {
    pub classes: usize,
    pub sessions: usize,
    pub attendances: usize,
    pub traders: usize,
    pub volunteers: usize,
}

const CLASSES: [(&str, &str, &str, &str); 3] = [
    ("Cài đặt và dùng VNeID", "nguoi_cao_tuoi", "Nhà văn hóa thôn, sáng thứ Bảy 8 giờ", "Tổ công nghệ số cộng đồng"),
    (
        "Điện thoại thông minh cho bà con dân tộc",
        "dan_toc_thieu_so",
        "Nhà văn hóa thôn, tối thứ Tư 19 giờ",
        "Đoàn Thanh niên xã",
    ),
    (
        "Bán hàng và thanh toán số cho tiểu thương",
        "tieu_thuong",
        "Chợ trung tâm, chiều thứ Hai 14 giờ",
        "Hội Phụ nữ xã",
    ),
];

const MODULES: [&str; 4] = ["tieu_thuong_so", "thuong_mai_dien_tu", "thanh_toan_khong_tien_mat", "tiet_kiem_so"];

pub async fn run(store: &Store, commune: &str, seed: u64) -> anyhow::Result<Summary> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x22b);
    let mut summary = Summary::default();
    let at = now();
    let today = today();
    let year = today.year();
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let people: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, CAST(birth_year AS BIGINT), village_code FROM person WHERE commune_code = $1 AND erased_at IS NULL \
             ORDER BY id LIMIT 600",
        ).bind(commune).fetch_all(&mut *tx).await?;
        let adults: Vec<i64> = people.iter().filter(|p| year - (p.1 as i32) >= 18).map(|p| p.0).collect();
        let lessons: Vec<String> = sqlx::query_scalar(
            "SELECT slug FROM lesson WHERE published_version IS NOT NULL ORDER BY slug LIMIT 6",
        ).fetch_all(&mut *tx).await?;

        for (i, (title, audience, schedule, teacher)) in CLASSES.iter().enumerate() {
            let linked = lessons.iter().skip(i * 2).take(2).cloned().collect::<Vec<_>>().join(" ");
            let (place, _) = schedule.split_once(',').unwrap_or((schedule, ""));
            let class: i64 = sqlx::query_scalar(
                "INSERT INTO community_class (commune_code, title, lessons, place, schedule, teacher, audience, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            ).bind(commune).bind(*title).bind(&linked).bind(place).bind(*schedule).bind(*teacher).bind(*audience).bind(at)
            .fetch_one(&mut *tx).await?;
            summary.classes += 1;
            // One session a week for six weeks, on the class's weekday, never after today.
            for week in 0..6 {
                let monday = week_of(today) - chrono::Duration::days(7 * week);
                let day = monday + chrono::Duration::days(((i as i64) * 2) % 6);
                let day = if day > today { today } else { day };
                let session: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO class_session (class_id, commune_code, held_on, week_of, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (class_id, held_on) DO NOTHING RETURNING id",
                ).bind(class).bind(commune).bind(day.to_string()).bind(week_of(day).to_string()).bind(at)
                .fetch_optional(&mut *tx).await?;
                let Some(session) = session else { continue };
                summary.sessions += 1;
                let mut present = adults.clone();
                present.shuffle(&mut rng);
                for person in present.iter().take(rng.random_range(6..16)) {
                    let method = if rng.random_bool(0.7) { "qr" } else { "cccd" };
                    sqlx::query("INSERT INTO class_attendance (session_id, person_id, method, at) VALUES ($1, $2, $3, $4)")
                        .bind(session).bind(person).bind(method).bind(at).execute(&mut *tx).await?;
                    summary.attendances += 1;
                }
            }
        }

        // The province's 10/10 day of this year; its check-ins only once the day has come.
        let october = NaiveDate::from_ymd_opt(year, 10, 10).unwrap_or(today);
        let event: i64 = sqlx::query_scalar(
            "INSERT INTO community_event (unit_code, kind, title, held_on, place, created_at) \
             VALUES ('25', 'ngay_hoi_10_10', $1, $2, $3, $4) RETURNING id",
        ).bind(format!("Ngày hội toàn dân học tập số {year}")).bind(october.to_string())
        .bind("Nhà văn hóa các xã, phường và trực tuyến").bind(at).fetch_one(&mut *tx).await?;
        let held = october <= today;
        for person in adults.iter().take(40) {
            let checked = held && rng.random_bool(0.8);
            sqlx::query(
                "INSERT INTO event_participant (event_id, person_id, commune_code, registered_at, checked_in_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            ).bind(event).bind(person).bind(commune).bind(at).bind(checked.then_some(at)).execute(&mut *tx).await?;
        }

        // Household heads: the oldest adult of each household.
        sqlx::query(
            "INSERT INTO household_head (commune_code, household_code, person_id, set_at) \
             SELECT p.commune_code, p.household_code, MIN(p.id), $2 FROM person p \
             WHERE p.commune_code = $1 AND p.erased_at IS NULL AND p.birth_year = \
               (SELECT MIN(q.birth_year) FROM person q WHERE q.village_code = p.village_code \
                AND q.household_code = p.household_code AND q.commune_code = p.commune_code AND q.erased_at IS NULL) \
             GROUP BY p.commune_code, p.household_code",
        ).bind(commune).bind(at).execute(&mut *tx).await?;

        // A 4T market with its traders; lessons whose slug names a module count for it.
        let market: i64 = sqlx::query_scalar(
            "INSERT INTO market (commune_code, name, place, created_at) VALUES ($1, 'Chợ trung tâm', 'Khu trung tâm xã', $2) RETURNING id",
        ).bind(commune).bind(at).fetch_one(&mut *tx).await?;
        for (module, word) in [("thanh_toan_khong_tien_mat", "%thanh-toan%"), ("thuong_mai_dien_tu", "%mua-ban%")] {
            sqlx::query(
                "INSERT INTO market_module_lesson (module, lesson_slug) SELECT $1, slug FROM lesson WHERE slug LIKE $2 \
                 ON CONFLICT DO NOTHING",
            ).bind(module).bind(word).execute(&mut *tx).await?;
        }
        for (n, person) in adults.iter().skip(40).take(15).enumerate() {
            sqlx::query("INSERT INTO market_trader (market_id, person_id, stall, registered_at) VALUES ($1, $2, $3, $4)")
                .bind(market).bind(person).bind(format!("Quầy {}", n + 1)).bind(at).execute(&mut *tx).await?;
            summary.traders += 1;
            for module in MODULES {
                if rng.random_bool(0.45) {
                    sqlx::query("INSERT INTO trader_module (person_id, module, recorded_at) VALUES ($1, $2, $3)")
                        .bind(person).bind(module).bind(at).execute(&mut *tx).await?;
                }
            }
        }

        // Youth Union volunteers, the youngest adults, with a few weeks of work each.
        let mut young: Vec<&(i64, i64, String)> = people.iter().filter(|p| (16..=30).contains(&(year - p.1 as i32))).collect();
        young.truncate(6);
        for (n, (person, _, _)) in young.iter().enumerate() {
            let organisation = if n % 3 == 2 { "hoi_phu_nu" } else { "doan_thanh_nien" };
            let volunteer: i64 = sqlx::query_scalar(
                "INSERT INTO volunteer (person_id, commune_code, organisation, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            ).bind(person).bind(commune).bind(organisation).bind(at).fetch_one(&mut *tx).await?;
            summary.volunteers += 1;
            for week in 0..4 {
                let day = today - chrono::Duration::days(7 * week + 1);
                sqlx::query(
                    "INSERT INTO volunteer_activity (volunteer_id, done_on, minutes, classes_taught, households_helped, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                ).bind(volunteer).bind(day.to_string()).bind(rng.random_range(2..9_i64) * 30)
                .bind(rng.random_range(0..3_i64)).bind(rng.random_range(0..6_i64)).bind(at).execute(&mut *tx).await?;
            }
        }
        sqlx::query(
            "INSERT INTO nomination (commune_code, kind, collective, achievement, evidence, proposed_at) \
             VALUES ($1, 'tap_the', 'Chi đoàn thanh niên xã', $2, $3, $4)",
        ).bind(commune).bind("Tổ chức 18 buổi học cộng đồng và giúp 60 hộ cài đặt VNeID mức 2")
        .bind("Sổ điểm danh các buổi học trên nền tảng; biên bản của Tổ công nghệ số").bind(at).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(summary)
}
