//! Correcting a door-to-door visit (issue 22): the commune's officers edit what a visit did, what
//! is still needed and the next visit day, and what it confirmed for each person present, or
//! delete it. Both are one transaction with their audit entries.
//!
//! A fact a visit set (VNeID level 2, a digital bank account: source `team_visit`, dated with the
//! visit's `recorded_at`, as the writer in `visits` stores it) is taken back only if it still came
//! from that visit: when another visit still standing confirmed it too, the fact stays and is
//! dated from that one; otherwise it goes back to "not known" (the value before the visit is not
//! kept; the next VNeID login or staff entry records it again). A fact that staff or a VNeID login
//! wrote since is left alone. The counters move in the same transaction (`tracking::counters`).
//!
//! A deleted visit stays as a tombstone (id and content hash), so a late resend from the phone is a
//! harmless duplicate and never comes back. A corrected visit keeps the hash of what the phone sent,
//! so the phone's resend is harmless too and the officer's correction stands.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::records::confirmed;
use super::teams::{self, MANAGERS, Team};
use super::visits::{DONE, Present, VisitInput, check_correction};
use crate::app::AppState;
use crate::audit_write;
use crate::domain::time::now;
use crate::identity::audit::{Actor, Entry};
use crate::on_pool;
use crate::tracking::counters;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path};
use crate::web::pages::{Nav, render};
use crate::web::routes::Route;

pub fn routes() -> Vec<Route> {
    let managers = Access::roles(MANAGERS, Scope::Unit("unit"));
    vec![
        Route::get("/quan-ly/don-vi/{unit}/to-cong-nghe/{team}/tham/{visit}", managers, page),
        Route::post("/quan-ly/don-vi/{unit}/to-cong-nghe/{team}/tham/{visit}", managers, save),
        Route::post("/quan-ly/don-vi/{unit}/to-cong-nghe/{team}/tham/{visit}/xoa", managers, delete),
    ]
}

/// A stored visit, as its correction reads it.
#[derive(sqlx::FromRow)]
struct Stored {
    id: String,
    village_code: String,
    household_code: String,
    visited_on: String,
    done: i64,
    still_needed: Option<String>,
    next_visit_on: Option<String>,
    recorded_at: i64,
}

/// One person present, with their name and what the visit confirmed.
struct PresentLine {
    person: i64,
    name: String,
    vneid_level2: bool,
    bank_account: bool,
}

/// The visit of the path: of the team of the path (itself of the path's commune), not deleted, in
/// a village the route's scope covers; anything else answers as absent.
async fn visible(
    state: &AppState,
    staff: &Staff,
    unit: &str,
    team: i64,
    visit: &str,
) -> Result<(Team, Stored), AppError> {
    let team = teams::visible(state, unit, team).await?;
    const SQL: &str = "SELECT id, village_code, household_code, visited_on, CAST(done AS BIGINT) AS done, \
         still_needed, next_visit_on, recorded_at FROM team_visit \
         WHERE id = $1 AND team_id = $2 AND commune_code = $3 AND deleted_at IS NULL";
    let stored: Option<Stored> = on_pool!(&state.store, pool => sqlx::query_as(SQL)
        .bind(visit).bind(team.id).bind(&team.commune_code).fetch_optional(pool).await)?;
    let stored = stored.filter(|v| staff.scope.covers_unit(&v.village_code)).ok_or_else(AppError::hidden)?;
    Ok((team, stored))
}

async fn present(state: &AppState, visit: &str) -> Result<Vec<PresentLine>, AppError> {
    let rows: Vec<(i64, Option<String>, i64, i64)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT tp.person_id, p.full_name, CAST(tp.vneid_level2 AS BIGINT), CAST(tp.bank_account AS BIGINT) \
         FROM team_visit_person tp JOIN person p ON p.id = tp.person_id WHERE tp.visit_id = $1 ORDER BY p.birth_year, p.id")
        .bind(visit).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(person, name, level, bank)| PresentLine {
            person,
            name: name.unwrap_or_else(|| "(đã xóa dữ liệu)".into()),
            vneid_level2: level == 1,
            bank_account: bank == 1,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "community/visit_edit.html")]
struct EditPage {
    nav: Nav,
    team: Team,
    visit: Stored,
    present: Vec<PresentLine>,
    done: Vec<DoneLine>,
}

/// One item of what a visit can have done, ticked if this visit did it.
struct DoneLine {
    code: &'static str,
    label: &'static str,
    ticked: bool,
}

/// `GET …/to-cong-nghe/{team}/tham/{visit}`: the correction form (an audited read of who was present).
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, team, visit)): Path<(String, i64, String)>,
) -> Result<Html<String>, PageError> {
    let (team, visit) = visible(&state, &staff, &unit, team, &visit).await?;
    let present = present(&state, &visit.id).await?;
    crate::identity::audit::record(
        &state.store,
        Entry {
            account_id: Some(staff.id()),
            action: "visit.read",
            unit_code: Some(&visit.village_code),
            detail: Some(serde_json::json!({"visit": visit.id, "rows": present.len()})),
            address: ctx.address(),
            ..Default::default()
        },
    )
    .await?;
    let done = DONE
        .iter()
        .enumerate()
        .map(|(i, &(code, label))| DoneLine { code, label, ticked: visit.done & (1 << i) != 0 })
        .collect();
    Ok(Html(render(&EditPage { nav: ctx.nav(), team, visit, present, done })?))
}

/// A fact a visit can confirm for a person, with its columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fact {
    Level,
    Bank,
}

impl Fact {
    /// (the value column, its source, its date, the value a visit sets, the flag on `team_visit_person`).
    fn columns(self) -> (&'static str, &'static str, &'static str, i64, &'static str) {
        match self {
            Self::Level => ("vneid_level", "vneid_level_source", "vneid_level_at", 2, "vneid_level2"),
            Self::Bank => ("bank_account", "bank_source", "bank_at", 1, "bank_account"),
        }
    }

    fn code(self) -> &'static str {
        self.columns().0
    }
}

/// What a correction changes on the people present: facts the visit no longer confirms, and facts it now does.
#[derive(Default)]
struct FactChanges {
    withdrawn: Vec<(i64, Fact)>,
    added: Vec<(i64, Fact)>,
}

impl FactChanges {
    fn people(&self) -> Vec<i64> {
        self.withdrawn.iter().chain(&self.added).map(|(p, _)| *p).collect()
    }
}

/// An audit entry for one person's fact: (person, fact, what happened).
type FactEntry = (i64, Fact, &'static str);

/// Runs inside the caller's transaction (`$tx`): takes back the withdrawn facts that still came
/// from the visit, sets the added ones as the visit writer would, moves the counters; returns the
/// entries to audit.
macro_rules! apply_facts {
    ($tx:expr, $visit:expr, $changes:expr) => {{
        let visit: &Stored = $visit;
        let changes: &FactChanges = $changes;
        let mut entries: Vec<FactEntry> = Vec::new();
        let people = changes.people();
        if !people.is_empty() {
            let mut conn: crate::tracking::Conn = (&mut *$tx).into();
            let snapshot = counters::before(&mut conn, &people).await?;
            for (person, fact) in &changes.withdrawn {
                let (value, source, at, set, flag) = fact.columns();
                let from_visit = format!(
                    "SELECT count(*) FROM person WHERE id = $1 AND erased_at IS NULL AND {value} = {set} \
                     AND {source} = 'team_visit' AND {at} = $2"
                );
                let still: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(from_visit))
                    .bind(*person)
                    .bind(visit.recorded_at)
                    .fetch_one(&mut *$tx)
                    .await?;
                if still == 0 {
                    continue;
                }
                let other = format!(
                    "SELECT min(v.recorded_at) FROM team_visit v JOIN team_visit_person tp ON tp.visit_id = v.id \
                     WHERE tp.person_id = $1 AND tp.{flag} = 1 AND v.id <> $2 AND v.deleted_at IS NULL"
                );
                let other: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(other))
                    .bind(*person)
                    .bind(&visit.id)
                    .fetch_one(&mut *$tx)
                    .await?;
                if let Some(other_at) = other {
                    // Another visit still standing confirmed it too: the fact stays, dated from that visit.
                    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE person SET {at} = $1 WHERE id = $2")))
                        .bind(other_at)
                        .bind(*person)
                        .execute(&mut *$tx)
                        .await?;
                    entries.push((*person, *fact, "kept"));
                } else {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE person SET {value} = NULL, {source} = NULL, {at} = NULL WHERE id = $1"
                    )))
                    .bind(*person)
                    .execute(&mut *$tx)
                    .await?;
                    entries.push((*person, *fact, "taken_back"));
                }
            }
            for (person, fact) in &changes.added {
                let (value, source, at, set, _) = fact.columns();
                let unknown = if *fact == Fact::Level {
                    "(vneid_level IS NULL OR vneid_level < 2)"
                } else {
                    "(bank_account IS NULL OR bank_account = 0)"
                };
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE person SET {value} = {set}, {source} = 'team_visit', {at} = $1 \
                     WHERE id = $2 AND erased_at IS NULL AND {unknown}"
                )))
                .bind(visit.recorded_at)
                .bind(*person)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
                if n > 0 {
                    entries.push((*person, *fact, "set"));
                }
            }
            let mut conn: crate::tracking::Conn = (&mut *$tx).into();
            counters::settle(&mut conn, snapshot).await?;
        }
        entries
    }};
}

fn fact_entry<'a>(actor: &Actor<'a>, visit: &'a Stored, (person, fact, what): FactEntry) -> Entry<'a> {
    let value = match (fact, what) {
        (_, "taken_back") => serde_json::Value::Null,
        (Fact::Level, _) => 2.into(),
        (Fact::Bank, _) => 1.into(),
    };
    Entry {
        person_id: Some(person),
        unit_code: Some(&visit.village_code),
        ..actor.entry(
            "person.digital_facts",
            serde_json::json!({fact.code(): value, "source": "team_visit", "visit": visit.id, "correction": what}),
        )
    }
}

/// `POST …/tham/{visit}`: the corrected visit.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, team, visit)): Path<(String, i64, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (team, visit) = visible(&state, &staff, &unit, team, &visit).await?;
    let before = present(&state, &visit.id).await?;
    let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or(String::new(), |(_, v)| v.clone());
    let many = |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let ticked = |name: &str, person: i64| many(name).iter().any(|v| v.trim() == person.to_string());
    // Who was present stays as recorded; what the visit confirmed for each of them is corrected.
    let input = VisitInput {
        id: visit.id.clone(),
        team: team.id,
        household: visit.household_code.clone(),
        visited_on: visit.visited_on.clone(),
        present: before
            .iter()
            .map(|p| Present {
                person: p.person,
                vneid_level2: ticked("muc2", p.person),
                bank_account: ticked("ngan_hang", p.person),
            })
            .collect(),
        done: many("da_lam"),
        still_needed: one("con_can"),
        next_visit_on: one("lan_sau"),
    };
    let corrected = check_correction(&input)?;
    let mut changes = FactChanges::default();
    for (old, new) in before.iter().zip(input.present.iter()) {
        for (fact, was, is) in
            [(Fact::Level, old.vneid_level2, new.vneid_level2), (Fact::Bank, old.bank_account, new.bank_account)]
        {
            match (was, is) {
                (true, false) => changes.withdrawn.push((old.person, fact)),
                (false, true) => changes.added.push((old.person, fact)),
                _ => {}
            }
        }
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        let result: Result<(), sqlx::Error> = async {
            sqlx::query("UPDATE team_visit SET done = $1, still_needed = $2, next_visit_on = $3 WHERE id = $4")
                .bind(corrected.done).bind(&corrected.still_needed).bind(&corrected.next_visit_on).bind(&visit.id)
                .execute(&mut *tx).await?;
            for p in &corrected.present {
                sqlx::query("UPDATE team_visit_person SET vneid_level2 = $1, bank_account = $2 WHERE visit_id = $3 AND person_id = $4")
                    .bind(i64::from(p.vneid_level2)).bind(i64::from(p.bank_account)).bind(&visit.id).bind(p.person)
                    .execute(&mut *tx).await?;
            }
            let entries = apply_facts!(tx, &visit, &changes);
            audit_write!(&mut *tx, Entry { unit_code: Some(&visit.village_code), ..actor.entry("visit.correct", serde_json::json!({
                "visit": visit.id, "team": team.id, "done": [visit.done, corrected.done],
                "next_visit_on": [visit.next_visit_on, corrected.next_visit_on],
                "still_needed_changed": visit.still_needed != corrected.still_needed,
            })) })?;
            for entry in entries {
                audit_write!(&mut *tx, fact_entry(&actor, &visit, entry))?;
            }
            Ok(())
        }.await;
        result.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("{}?da_sua=1", teams::href(&team))).into_response())
}

/// `POST …/tham/{visit}/xoa`: the visit is deleted; the facts it set are taken back.
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((unit, team, visit)): Path<(String, i64, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (team, visit) = visible(&state, &staff, &unit, team, &visit).await?;
    confirmed(&pairs)?;
    let before = present(&state, &visit.id).await?;
    let mut changes = FactChanges::default();
    for p in &before {
        if p.vneid_level2 {
            changes.withdrawn.push((p.person, Fact::Level));
        }
        if p.bank_account {
            changes.withdrawn.push((p.person, Fact::Bank));
        }
    }
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin_with(state.store.begin_write()).await.map_err(AppError::from)?;
        let result: Result<(), sqlx::Error> = async {
            // The facts first, while the visit's own rows still say what it confirmed.
            let entries = apply_facts!(tx, &visit, &changes);
            sqlx::query("DELETE FROM team_visit_person WHERE visit_id = $1").bind(&visit.id).execute(&mut *tx).await?;
            sqlx::query("UPDATE team_visit SET deleted_at = $1, done = 0, still_needed = NULL, next_visit_on = NULL WHERE id = $2")
                .bind(now()).bind(&visit.id).execute(&mut *tx).await?;
            audit_write!(&mut *tx, Entry { unit_code: Some(&visit.village_code), ..actor.entry("visit.delete", serde_json::json!({
                "visit": visit.id, "team": team.id, "present": before.len(), "done": visit.done,
            })) })?;
            for entry in entries {
                audit_write!(&mut *tx, fact_entry(&actor, &visit, entry))?;
            }
            Ok(())
        }.await;
        result.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("{}?da_xoa=1", teams::href(&team))).into_response())
}
