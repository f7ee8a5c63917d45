//! A person's data in the community records: what the data download shows, and what erasure clears.
//! Erasure clears the free text (notes, what was learned) and keeps the rows, so every count stays:
//! visits, mentees, sessions, people helped.

use serde::Serialize;

use crate::on_pool;
use crate::store::Store;
use crate::tracking::Conn;

#[derive(Serialize, Default)]
pub struct PersonData {
    visits: Vec<VisitData>,
    mentors: Vec<MentorData>,
    mentoring_sessions: Vec<SessionData>,
    one_stop_helps: Vec<HelpData>,
}

#[derive(Serialize)]
struct VisitData {
    visited_on: String,
    household: String,
    done: Vec<&'static str>,
    confirmed_vneid_level2: bool,
    confirmed_bank_account: bool,
    still_needed: Option<String>,
    next_visit_on: Option<String>,
}

#[derive(Serialize)]
struct MentorData {
    mentor: String,
    assigned_at: String,
}

#[derive(Serialize)]
struct SessionData {
    held_on: String,
    learned: Option<String>,
    lessons: String,
}

#[derive(Serialize)]
struct HelpData {
    helped_on: String,
    procedure: String,
    outcome: String,
    note: Option<String>,
}

type VisitRow = (String, String, i64, i64, i64, Option<String>, Option<String>);

/// Everything the community records hold about `person`.
pub async fn person_data(store: &Store, person: i64) -> sqlx::Result<PersonData> {
    let visits: Vec<VisitRow> = on_pool!(store, pool => sqlx::query_as(
        "SELECT v.visited_on, v.household_code, CAST(v.done AS BIGINT), CAST(p.vneid_level2 AS BIGINT), \
         CAST(p.bank_account AS BIGINT), v.still_needed, v.next_visit_on FROM team_visit_person p \
         JOIN team_visit v ON v.id = p.visit_id WHERE p.person_id = $1 ORDER BY v.visited_on")
        .bind(person).fetch_all(pool).await)?;
    let mentors: Vec<(String, i64)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT coalesce(a.display_name, a.login, a.id), m.assigned_at FROM mentee m JOIN account a ON a.id = m.mentor_id \
         WHERE m.person_id = $1 ORDER BY m.assigned_at").bind(person).fetch_all(pool).await)?;
    let sessions: Vec<(String, Option<String>, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT held_on, learned, lessons FROM mentoring_session WHERE person_id = $1 ORDER BY held_on, id")
        .bind(person).fetch_all(pool).await)?;
    let helps: Vec<(String, String, String, Option<String>)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT helped_on, procedure_name, outcome, note FROM one_stop_help WHERE person_id = $1 ORDER BY helped_on, id")
        .bind(person).fetch_all(pool).await)?;
    Ok(PersonData {
        visits: visits
            .into_iter()
            .map(|(visited_on, household, done, level, bank, still_needed, next_visit_on)| VisitData {
                visited_on,
                household,
                done: super::visits::done_labels(done),
                confirmed_vneid_level2: level == 1,
                confirmed_bank_account: bank == 1,
                still_needed,
                next_visit_on,
            })
            .collect(),
        mentors: mentors
            .into_iter()
            .map(|(mentor, at)| MentorData { mentor, assigned_at: crate::identity::audit::format_time(at) })
            .collect(),
        mentoring_sessions: sessions
            .into_iter()
            .map(|(held_on, learned, lessons)| SessionData { held_on, learned, lessons })
            .collect(),
        one_stop_helps: helps
            .into_iter()
            .map(|(helped_on, procedure, outcome, note)| HelpData { helped_on, procedure, outcome, note })
            .collect(),
    })
}

/// Clears the free text about `person` in the caller's transaction (the erasure's). The visit's
/// content hash stays, so a phone's late resend of the same visit is still a harmless duplicate.
pub async fn erase(conn: &mut Conn<'_>, person: i64) -> sqlx::Result<()> {
    const STATEMENTS: [&str; 3] = [
        "UPDATE team_visit SET still_needed = NULL WHERE id IN (SELECT visit_id FROM team_visit_person WHERE person_id = $1)",
        "UPDATE mentoring_session SET learned = NULL, lessons = '' WHERE person_id = $1",
        "UPDATE one_stop_help SET note = NULL WHERE person_id = $1",
    ];
    for sql in STATEMENTS {
        crate::on_conn!(conn, c => sqlx::query(sql).bind(person).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
