//! The visits' writer: a batch of visits in one transaction, through sqlx (PostgreSQL) or on the
//! SQLite writer's own connection (`store::batch`), with the same writes: the visits, the people
//! present, the facts they confirm and the counters, the audit entries.

use std::collections::{HashMap, HashSet};

use futures::future::BoxFuture;
use sqlx::QueryBuilder;

use super::visits::{NewVisit, Outcome, Present};
use crate::domain::time::now;
use crate::on_pool;
use crate::store::Store;
use crate::store::batch::firsts;
use crate::tracking::counters;

pub(super) fn write_batch<'a>(store: &'a Store, visits: &'a [NewVisit]) -> BoxFuture<'a, sqlx::Result<Vec<Outcome>>> {
    Box::pin(write_visits(store, visits))
}

const INSERT_VISITS: &str = "INSERT INTO team_visit (id, team_id, commune_code, village_code, household_code, \
     visited_on, done, still_needed, next_visit_on, content_hash, recorded_by, recorded_at) ";
const INSERT_PRESENT: &str = "INSERT INTO team_visit_person (visit_id, person_id, vneid_level2, bank_account) ";
const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, account_id, action, person_id, unit_code, detail, address) ";
const SET_LEVEL: &str = "UPDATE person SET vneid_level = 2, vneid_level_source = 'team_visit', vneid_level_at = ";
const SET_BANK: &str = "UPDATE person SET bank_account = 1, bank_source = 'team_visit', bank_at = ";
const LEVEL_UNKNOWN: &str = "(vneid_level IS NULL OR vneid_level < 2)";
const BANK_UNKNOWN: &str = "(bank_account IS NULL OR bank_account = 0)";

/// An audit entry of the batch: by, person, unit, detail, address, action.
type AuditRow<'a> = (&'a str, Option<i64>, &'a str, String, Option<&'a str>, &'static str);

/// A fact a visit changed: the person, and `vneid_level` or `bank_account`.
type Changed = (i64, &'static str);

/// Rows per multi-row statement: under SQLite's 32,766 parameters with the widest row (12 columns).
const CHUNK: usize = 500;

/// The people present at the new visits whose VNeID level 2 and whose bank account the visits confirm.
fn confirmed<'a>(new: &[&'a NewVisit]) -> (Vec<(&'a str, &'a Present)>, Vec<i64>, Vec<i64>) {
    let present: Vec<(&str, &Present)> =
        new.iter().flat_map(|v| v.present.iter().map(move |p| (v.id.as_str(), p))).collect();
    let level = present.iter().filter(|(_, p)| p.vneid_level2).map(|(_, p)| p.person).collect();
    let bank = present.iter().filter(|(_, p)| p.bank_account).map(|(_, p)| p.person).collect();
    (present, level, bank)
}

/// What the updates of the batch did to a person's facts, made on a copy of the facts read before
/// them: the counters settle without reading the facts again.
fn apply(changed: &[Changed]) -> impl Fn(i64, &mut crate::domain::indicators::PersonFacts) + '_ {
    move |id, facts| {
        for (person, what) in changed {
            if *person == id {
                match *what {
                    "vneid_level" => facts.vneid_level = Some(2),
                    _ => facts.bank_account = true,
                }
            }
        }
    }
}

/// One entry per visit stored, and one per person whose facts it changed.
fn audit_rows<'a>(new: &[&'a NewVisit], changed: &[Changed]) -> Vec<AuditRow<'a>> {
    let visit_of: HashMap<i64, &NewVisit> =
        new.iter().flat_map(|v| v.present.iter().map(move |p| (p.person, *v))).collect();
    let mut entries: Vec<AuditRow<'a>> = new
        .iter()
        .map(|v| {
            let detail = serde_json::json!({"visit": v.id, "team": v.team, "present": v.present.len(), "done": v.done});
            (v.by.as_str(), None, v.village.as_str(), detail.to_string(), v.address.as_deref(), "visit.record")
        })
        .collect();
    for (person, what) in changed {
        if let Some(v) = visit_of.get(person) {
            let value = if *what == "vneid_level" { 2 } else { 1 };
            let detail = serde_json::json!({*what: value, "source": "team_visit", "visit": v.id});
            entries.push((
                v.by.as_str(),
                Some(*person),
                v.village.as_str(),
                detail.to_string(),
                v.address.as_deref(),
                "person.digital_facts",
            ));
        }
    }
    entries
}

/// Each visit's outcome: stored, or for an id already taken (stored earlier, or earlier in the batch)
/// a duplicate when the content is the same and a conflict when not.
fn outcomes(
    visits: &[NewVisit],
    first: &HashMap<&str, &NewVisit>,
    stored: &HashSet<String>,
    existing: &HashMap<String, String>,
) -> Vec<Outcome> {
    visits
        .iter()
        .map(|v| {
            let f = first[v.id.as_str()];
            if stored.contains(&v.id) {
                if std::ptr::eq(f, v) {
                    Outcome::Stored
                } else if f.content_hash == v.content_hash {
                    Outcome::Duplicate
                } else {
                    Outcome::Conflict
                }
            } else if existing.get(&v.id) == Some(&v.content_hash) {
                Outcome::Duplicate
            } else {
                Outcome::Conflict
            }
        })
        .collect()
}

/// A batch through sqlx (PostgreSQL, and SQLite when the writer has no connection of its own) in a
/// handful of statements: the new visits in one insert, the hashes of ids already stored in one read,
/// the people present in one insert, the facts in two updates between one read and one settle of the
/// counters, the audit entries in one insert.
async fn write_visits(store: &Store, visits: &[NewVisit]) -> sqlx::Result<Vec<Outcome>> {
    let (offered, first) = firsts(visits.iter(), |v| v.id.as_str());
    let at = now();
    on_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await?;
        let mut stored: HashSet<String> = HashSet::new();
        for chunk in offered.chunks(CHUNK) {
            let mut insert = QueryBuilder::new(INSERT_VISITS);
            insert.push_values(chunk, |mut row, v| {
                row.push_bind(&v.id).push_bind(v.team).push_bind(&v.commune).push_bind(&v.village)
                    .push_bind(&v.household).push_bind(&v.visited_on).push_bind(v.done).push_bind(&v.still_needed)
                    .push_bind(&v.next_visit_on).push_bind(&v.content_hash).push_bind(&v.by).push_bind(at);
            });
            insert.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
            stored.extend(insert.build_query_scalar::<String>().fetch_all(&mut *tx).await?);
        }
        let known: Vec<&str> = offered.iter().map(|v| v.id.as_str()).filter(|id| !stored.contains(*id)).collect();
        let mut existing: HashMap<String, String> = HashMap::new();
        for chunk in known.chunks(CHUNK) {
            let mut read = QueryBuilder::new("SELECT id, content_hash FROM team_visit WHERE id IN (");
            let mut ids = read.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            read.push(")");
            existing.extend(read.build_query_as::<(String, String)>().fetch_all(&mut *tx).await?);
        }
        let new: Vec<&NewVisit> = offered.iter().copied().filter(|v| stored.contains(&v.id)).collect();
        let (present, level, bank) = confirmed(&new);
        for chunk in present.chunks(CHUNK) {
            let mut insert = QueryBuilder::new(INSERT_PRESENT);
            insert.push_values(chunk, |mut row, (visit, p)| {
                row.push_bind(*visit).push_bind(p.person).push_bind(i64::from(p.vneid_level2))
                    .push_bind(i64::from(p.bank_account));
            });
            insert.build().execute(&mut *tx).await?;
        }
        let mut changed: Vec<Changed> = Vec::new();
        if !level.is_empty() || !bank.is_empty() {
            let people: Vec<i64> = level.iter().chain(&bank).copied().collect();
            let mut conn: crate::tracking::Conn = (&mut *tx).into();
            let snapshot = counters::before(&mut conn, &people).await?;
            for (ids, set, unknown, what) in
                [(&level, SET_LEVEL, LEVEL_UNKNOWN, "vneid_level"), (&bank, SET_BANK, BANK_UNKNOWN, "bank_account")]
            {
                for chunk in ids.chunks(CHUNK) {
                    let mut update = QueryBuilder::new(set);
                    update.push_bind(at).push(" WHERE erased_at IS NULL AND ").push(unknown).push(" AND id IN (");
                    let mut list = update.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    update.push(") RETURNING id");
                    let ids: Vec<i64> = update.build_query_scalar().fetch_all(&mut *tx).await?;
                    changed.extend(ids.into_iter().map(|id| (id, what)));
                }
            }
            let mut conn: crate::tracking::Conn = (&mut *tx).into();
            counters::settle_applied(&mut conn, snapshot, apply(&changed)).await?;
        }
        for chunk in audit_rows(&new, &changed).chunks(CHUNK) {
            let mut insert = QueryBuilder::new(INSERT_AUDIT);
            insert.push_values(chunk, |mut row, (by, person, unit, detail, address, action)| {
                row.push_bind(at).push_bind(*by).push_bind(*action).push_bind(*person).push_bind(*unit)
                    .push_bind(detail).push_bind(*address);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes(visits, &first, &stored, &existing))
    })
}

/// A batch on the SQLite writer's own connection (`Batcher::start_direct`): the same writes as
/// [`write_visits`], as cached one-row statements, each a few microseconds on the writer's thread.
pub(super) fn write_sqlite(tx: &rusqlite::Transaction<'_>, visits: &[NewVisit]) -> sqlx::Result<Vec<Outcome>> {
    use crate::store::direct::Error;
    use crate::tracking::facts::{OwnConnection, at_once};
    use rusqlite::params;

    let (offered, first) = firsts(visits.iter(), |v| v.id.as_str());
    let at = now();
    let mut stored: HashSet<String> = HashSet::new();
    let mut existing: HashMap<String, String> = HashMap::new();
    {
        let sql = format!(
            "{INSERT_VISITS}VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING"
        );
        let mut insert = tx.prepare_cached(&sql).map_err(Error::wrap)?;
        let mut hash = tx.prepare_cached("SELECT content_hash FROM team_visit WHERE id = $1").map_err(Error::wrap)?;
        for v in &offered {
            let row = params![
                v.id,
                v.team,
                v.commune,
                v.village,
                v.household,
                v.visited_on,
                v.done,
                v.still_needed,
                v.next_visit_on,
                v.content_hash,
                v.by,
                at
            ];
            if insert.execute(row).map_err(Error::wrap)? == 1 {
                stored.insert(v.id.clone());
            } else {
                existing.insert(v.id.clone(), hash.query_row([&v.id], |r| r.get(0)).map_err(Error::wrap)?);
            }
        }
    }
    let new: Vec<&NewVisit> = offered.iter().copied().filter(|v| stored.contains(&v.id)).collect();
    let (present, level, bank) = confirmed(&new);
    {
        let mut insert = tx.prepare_cached(&format!("{INSERT_PRESENT}VALUES ($1, $2, $3, $4)")).map_err(Error::wrap)?;
        for (visit, p) in &present {
            let row = params![visit, p.person, i64::from(p.vneid_level2), i64::from(p.bank_account)];
            insert.execute(row).map_err(Error::wrap)?;
        }
    }
    let mut changed: Vec<Changed> = Vec::new();
    if !level.is_empty() || !bank.is_empty() {
        let people: Vec<i64> = level.iter().chain(&bank).copied().collect();
        let mut ledger = OwnConnection(tx);
        let snapshot = at_once(counters::before(&mut ledger, &people))?;
        for (ids, set, unknown, what) in
            [(&level, SET_LEVEL, LEVEL_UNKNOWN, "vneid_level"), (&bank, SET_BANK, BANK_UNKNOWN, "bank_account")]
        {
            let sql = format!("{set}$1 WHERE erased_at IS NULL AND {unknown} AND id = $2");
            let mut update = tx.prepare_cached(&sql).map_err(Error::wrap)?;
            for id in ids {
                if update.execute(params![at, id]).map_err(Error::wrap)? == 1 {
                    changed.push((*id, what));
                }
            }
        }
        at_once(counters::settle_applied(&mut ledger, snapshot, apply(&changed)))?;
    }
    let mut insert =
        tx.prepare_cached(&format!("{INSERT_AUDIT}VALUES ($1, $2, $3, $4, $5, $6, $7)")).map_err(Error::wrap)?;
    for (by, person, unit, detail, address, action) in audit_rows(&new, &changed) {
        insert.execute(params![at, by, action, person, unit, detail, address]).map_err(Error::wrap)?;
    }
    Ok(outcomes(visits, &first, &stored, &existing))
}
