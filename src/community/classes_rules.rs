//! The plan's structural rules that the classes and events feed (the compliance list of
//! `tracking::visit::rules`): a community class every week in every commune (IV.5.4.a) and the
//! 10/10 day every year (IV.1.4). Each answers "Đạt", "Chưa đạt", or `None` where nothing is recorded.

use chrono::{Datelike, NaiveDate};

use super::classes::week_of;
use crate::domain::role::commune_of;
use crate::domain::time::today;
use crate::domain::unit::PROVINCE_CODE;
use crate::on_pool;
use crate::store::Store;
use crate::web::error::AppError;

fn verdict(ok: bool) -> &'static str {
    if ok { "Đạt" } else { "Chưa đạt" }
}

/// The commune of a unit code, `None` for the province.
fn commune(unit: &str) -> Option<&str> {
    commune_of(unit).filter(|_| unit != PROVINCE_CODE)
}

/// Sessions held in this week of the commune, and in each of the four weeks before.
async fn weeks(store: &Store, commune: &str, this_week: NaiveDate) -> Result<(i64, Vec<i64>), AppError> {
    let from = this_week - chrono::Duration::days(28);
    let rows: Vec<(String, i64)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT week_of, COUNT(*) FROM class_session WHERE commune_code = $1 AND week_of >= $2 GROUP BY week_of",
    ).bind(commune).bind(from.to_string()).fetch_all(pool).await)?;
    let count = |week: NaiveDate| rows.iter().find(|(w, _)| *w == week.to_string()).map_or(0, |(_, n)| *n);
    let before = (1..=4).map(|i| count(this_week - chrono::Duration::days(7 * i))).collect();
    Ok((count(this_week), before))
}

/// "Mỗi xã, phường tổ chức buổi học cộng đồng hằng tuần": judged on the current week (Vietnam time),
/// with the four weeks before as detail. `None` when the commune (or the province) has never had a class.
pub async fn weekly_class_line(
    store: &Store,
    unit: &str,
    min: i64,
) -> Result<Option<(&'static str, String)>, AppError> {
    let this_week = week_of(today());
    match commune(unit) {
        Some(commune) => {
            let classes: i64 = on_pool!(store, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM community_class WHERE commune_code = $1",
            ).bind(commune).fetch_one(pool).await)?;
            if classes == 0 {
                return Ok(None);
            }
            let (now, before) = weeks(store, commune, this_week).await?;
            let met = before.iter().filter(|n| **n >= min).count();
            Ok(Some((
                verdict(now >= min),
                format!(
                    "Tuần này (từ {this_week}): {now} buổi học (cần ít nhất {min}); 4 tuần trước: {met}/4 tuần đạt"
                ),
            )))
        }
        None => {
            let (any, with): (i64, i64) = on_pool!(store, pool => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM community_class), \
                 (SELECT COUNT(*) FROM (SELECT commune_code FROM class_session WHERE week_of = $1 \
                  GROUP BY commune_code HAVING COUNT(*) >= $2) w)",
            ).bind(this_week.to_string()).bind(min).fetch_one(pool).await)?;
            if any == 0 {
                return Ok(None);
            }
            let all = crate::store::units::communes(store).await?.len() as i64;
            Ok(Some((
                verdict(all > 0 && with >= all),
                format!("{with}/{all} xã, phường có buổi học cộng đồng tuần này (từ {this_week})"),
            )))
        }
    }
}

/// "Ngày hội toàn dân học tập số ngày 10/10 hằng năm": this year's 10/10 events (the province's and
/// the commune's) and the commune's people checked in. `None` when no 10/10 event is recorded this year.
pub async fn october_day_line(store: &Store, unit: &str) -> Result<Option<(&'static str, String)>, AppError> {
    let year = today().year();
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let communes = crate::store::units::communes(store).await?.len() as i64;
    match commune(unit) {
        Some(commune) => {
            let (events, present): (i64, i64) = on_pool!(store, pool => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM community_event WHERE kind = 'ngay_hoi_10_10' \
                         AND held_on BETWEEN $1 AND $2 AND unit_code IN ($3, $4)), \
                 (SELECT COUNT(*) FROM event_participant p JOIN community_event e ON e.id = p.event_id \
                  WHERE e.kind = 'ngay_hoi_10_10' AND e.held_on BETWEEN $1 AND $2 AND p.commune_code = $3 \
                  AND p.checked_in_at IS NOT NULL)",
            ).bind(&from).bind(&to).bind(commune).bind(PROVINCE_CODE).fetch_one(pool).await)?;
            if events == 0 {
                return Ok(None);
            }
            Ok(Some((verdict(present > 0), format!("Năm {year}: {present} người của xã đã tham gia (điểm danh)"))))
        }
        None => {
            let (events, with): (i64, i64) = on_pool!(store, pool => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM community_event WHERE kind = 'ngay_hoi_10_10' AND held_on BETWEEN $1 AND $2), \
                 (SELECT COUNT(DISTINCT p.commune_code) FROM event_participant p JOIN community_event e ON e.id = p.event_id \
                  WHERE e.kind = 'ngay_hoi_10_10' AND e.held_on BETWEEN $1 AND $2 AND p.checked_in_at IS NOT NULL)",
            ).bind(&from).bind(&to).fetch_one(pool).await)?;
            if events == 0 {
                return Ok(None);
            }
            Ok(Some((
                verdict(communes > 0 && with >= communes),
                format!("Năm {year}: {with}/{communes} xã, phường có người tham gia ngày hội 10/10"),
            )))
        }
    }
}
