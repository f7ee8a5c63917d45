//! A person's records in the community models, for their data download (`identity::privacy`). The
//! records hold the person by internal id only, so erasure (which clears the person row's identifying
//! fields) leaves them as counts that name nobody.

use serde::Serialize;

use crate::on_pool;
use crate::store::Store;

#[derive(Serialize, Default)]
pub struct CommunityData {
    pub class_attendance: Vec<ClassAttendance>,
    pub events: Vec<EventRecord>,
    pub shares_progress_with_household_head: bool,
    pub markets: Vec<MarketRecord>,
    pub trainer_recorded_modules: Vec<String>,
    pub volunteer: Vec<VolunteerRecord>,
    pub nominations: Vec<NominationRecord>,
}

#[derive(Serialize)]
pub struct ClassAttendance {
    pub class: String,
    pub day: String,
    pub method: String,
}

#[derive(Serialize)]
pub struct EventRecord {
    pub event: String,
    pub day: String,
    pub checked_in: bool,
}

#[derive(Serialize)]
pub struct MarketRecord {
    pub market: String,
    pub stall: String,
}

#[derive(Serialize)]
pub struct VolunteerRecord {
    pub organisation: String,
    pub day: String,
    pub minutes: i64,
    pub classes_taught: i64,
    pub households_helped: i64,
}

#[derive(Serialize)]
pub struct NominationRecord {
    pub achievement: String,
    pub status: String,
}

pub async fn of_person(store: &Store, person: i64) -> sqlx::Result<CommunityData> {
    let attendance: Vec<(String, String, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT c.title, s.held_on, a.method FROM class_attendance a JOIN class_session s ON s.id = a.session_id \
         JOIN community_class c ON c.id = s.class_id WHERE a.person_id = $1 ORDER BY s.held_on",
    ).bind(person).fetch_all(pool).await)?;
    let events: Vec<(String, String, Option<i64>)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT e.title, e.held_on, p.checked_in_at FROM event_participant p JOIN community_event e ON e.id = p.event_id \
         WHERE p.person_id = $1 ORDER BY e.held_on",
    ).bind(person).fetch_all(pool).await)?;
    let consent: Option<i64> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT granted_at FROM family_consent WHERE person_id = $1").bind(person).fetch_optional(pool).await)?;
    let markets: Vec<(String, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT m.name, t.stall FROM market_trader t JOIN market m ON m.id = t.market_id WHERE t.person_id = $1",
    ).bind(person).fetch_all(pool).await)?;
    let modules: Vec<String> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT module FROM trader_module WHERE person_id = $1 ORDER BY module").bind(person).fetch_all(pool).await)?;
    let volunteer: Vec<(String, String, i64, i64, i64)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT v.organisation, a.done_on, CAST(a.minutes AS BIGINT), CAST(a.classes_taught AS BIGINT), \
         CAST(a.households_helped AS BIGINT) FROM volunteer v JOIN volunteer_activity a ON a.volunteer_id = v.id \
         WHERE v.person_id = $1 ORDER BY a.done_on",
    ).bind(person).fetch_all(pool).await)?;
    let nominations: Vec<(String, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT achievement, status FROM nomination WHERE person_id = $1 ORDER BY proposed_at",
    ).bind(person).fetch_all(pool).await)?;
    Ok(CommunityData {
        class_attendance: attendance
            .into_iter()
            .map(|(class, day, method)| ClassAttendance { class, day, method })
            .collect(),
        events: events
            .into_iter()
            .map(|(event, day, at)| EventRecord { event, day, checked_in: at.is_some() })
            .collect(),
        shares_progress_with_household_head: consent.is_some(),
        markets: markets.into_iter().map(|(market, stall)| MarketRecord { market, stall }).collect(),
        trainer_recorded_modules: modules,
        volunteer: volunteer
            .into_iter()
            .map(|(organisation, day, minutes, classes_taught, households_helped)| VolunteerRecord {
                organisation,
                day,
                minutes,
                classes_taught,
                households_helped,
            })
            .collect(),
        nominations: nominations
            .into_iter()
            .map(|(achievement, status)| NominationRecord { achievement, status })
            .collect(),
    })
}
