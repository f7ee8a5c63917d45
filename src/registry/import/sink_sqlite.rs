//! The SQLite writer of a people import. It talks to SQLite through rusqlite's prepared statements
//! on its own connection: sqlx's per-statement round trip to its worker thread would cap the import
//! far below the budget. Same database file, same SQL texts, one transaction.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use anyhow::Context;
use rusqlite::{TransactionBehavior, params};
use tokio::sync::mpsc::Receiver;

use super::people::{Batch, HouseholdRow, ValidPerson};
use super::progress::Progress;
use super::{Verdict, Written, sql};
use crate::domain::text::match_key;
use crate::store::units::{RECOUNT_PARENT, RECOUNT_VILLAGES};

/// Rows per `INSERT` statement: fewer statements, same work for SQLite's engine.
const ROWS_PER_INSERT: usize = 64;
/// Values bound per person, after the shared timestamp `?1`.
const PERSON_VALUES: usize = 15;
/// Values bound per household.
const HOUSEHOLD_VALUES: usize = 3;

pub fn open(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(crate::store::SQLITE_BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -524288; PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}

pub fn write_people(
    path: &Path,
    batches: Receiver<Batch>,
    verdict: &Verdict,
    progress: Progress,
) -> anyhow::Result<Written> {
    let mut conn = open(path)?;
    let without_wal = leave_wal_if_alone(&conn)?;
    let written = write(&mut conn, batches, verdict, progress);
    if without_wal {
        back_to_wal(&conn);
    }
    written
}

/// A load into an empty registry by the only connection to the database writes without the WAL:
/// SQLite's rollback journal then keeps only the few pages that existed before (new pages are
/// simply cut off again on a rollback), instead of every page going to the WAL and then, at the
/// checkpoint, a second time into the database. Leaving the WAL needs every other connection
/// closed: when a server (or anything else) has the database open, the switch fails at once and
/// the load goes through the WAL, the server reading on meanwhile.
fn leave_wal_if_alone(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    let empty: bool = conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM person)", [], |r| r.get(0))?;
    if !empty {
        return Ok(false);
    }
    conn.busy_timeout(std::time::Duration::ZERO)?;
    let mode = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0));
    conn.busy_timeout(crate::store::SQLITE_BUSY_TIMEOUT)?;
    let alone = mode.is_ok_and(|m| m.eq_ignore_ascii_case("delete"));
    if !alone {
        // Said to the operator: alone, the same load runs faster.
        tracing::warn!(
            "another connection has the database open (a running server?): this first load goes through the WAL, \
             which makes it slower; readers go on reading meanwhile"
        );
    }
    Ok(alone)
}

/// Every other part of the platform expects WAL (readers never wait for a writer). Should the switch
/// fail (another process opened the database the moment the load ended), the next connection of
/// the server switches back itself (`store::sqlite_options`).
fn back_to_wal(conn: &rusqlite::Connection) {
    if let Err(e) = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
        tracing::warn!(error = %e, "could not switch the database back to WAL; the server's next connection will");
    }
}

fn write(
    conn: &mut rusqlite::Connection,
    mut batches: Receiver<Batch>,
    verdict: &Verdict,
    mut progress: Progress,
) -> anyhow::Result<Written> {
    let count = |tx: &rusqlite::Transaction| -> rusqlite::Result<i64> {
        tx.query_row("SELECT count(*) FROM person", [], |r| r.get(0))
    };
    // A load into an empty registry (bulk) checks its references itself, once per distinct value
    // (`References`), instead of SQLite looking each row's household and organisation up.
    // The pragma only takes effect outside a transaction, so it is set before and, when the
    // registry turns out not to be empty, the transaction starts again with the checks on.
    conn.pragma_update(None, "foreign_keys", false)?;
    // IMMEDIATE takes the write lock now: a server keeps reading (WAL) and its writers wait.
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut before = count(&tx)?;
    let bulk = before == 0;
    if !bulk {
        tx.rollback()?;
        conn.pragma_update(None, "foreign_keys", true)?;
        tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        before = count(&tx)?;
    }
    let history_mark: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM person_history", [], |r| r.get(0))?;
    // Into an empty table, rows go in without the indexes, which are then built once by sorting:
    // far cheaper than millions of inserts at random places of a B-tree. The in-file checks have
    // already made the citizen numbers unique; rebuilding the unique index checks it again.
    let mut indexes = if bulk { drop_indexes(&tx, "person")? } else { Vec::new() };
    // Households likewise, when there are none yet (the first load of a province): each is new,
    // written in many-row statements, its village index built once at the end.
    let new_households = bulk && tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM household)", [], |r| r.get(0))?;
    if new_households {
        indexes.extend(drop_indexes(&tx, "household")?);
    }
    let mut references = References::default();
    let mut touched = BTreeSet::new();
    let mut affected = 0u64;
    let mut rows = 0u64;
    {
        let mut village = tx.prepare(sql::INSERT_VILLAGE)?;
        let (mut households, mut household) = if new_households {
            (Some(tx.prepare(&household_insert(ROWS_PER_INSERT))?), tx.prepare(&household_insert(1))?)
        } else {
            (None, tx.prepare(sql::UPSERT_HOUSEHOLD)?)
        };
        // The timestamps are bound once per statement: SQLite would otherwise format `now` for every row.
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let mut many = tx.prepare(&person_insert(ROWS_PER_INSERT, bulk))?;
        let mut one = tx.prepare(&person_insert(1, bulk))?;
        // SQLite keeps a statement's bindings from one execution to the next.
        many.raw_bind_parameter(1, &now)?;
        one.raw_bind_parameter(1, &now)?;
        let mut date = String::with_capacity(10);
        while let Some(batch) = batches.blocking_recv() {
            if !verdict.keep_writing() {
                continue;
            }
            for v in &batch.villages {
                village.execute(params![v.code, v.name, match_key(&v.name), v.kind.code(), v.commune_code])?;
            }
            if bulk {
                for h in &batch.households {
                    remember(&mut references.villages, &h.village_code);
                }
            }
            if let Some(many) = households.as_mut() {
                in_statements(many, &mut household, ROWS_PER_INSERT, 1, &batch.households, bind_household)?;
            } else {
                for h in &batch.households {
                    household.execute(params![h.commune_code, h.code, h.village_code])?;
                }
            }
            touched.extend(batch.communes.iter().copied());
            if bulk {
                for code in &batch.organisations {
                    remember(&mut references.organisations, code);
                }
            }
            affected += in_statements(&mut many, &mut one, ROWS_PER_INSERT, 2, &batch.people, |s, base, p| {
                bind_person(s, base, p, &mut date)
            })? as u64;
            rows += batch.people.len() as u64;
            progress.written(rows);
            // This thread is the import's bottleneck: the batch's thousands of strings are freed on
            // another one.
            rayon::spawn(move || drop(batch));
        }
    }
    if !verdict.keep_writing() {
        tx.rollback()?;
        progress.finish("không ghi gì / nothing was written");
        return Ok(Written::default());
    }
    if bulk {
        references.check(&tx, &touched)?;
    }
    let phase = std::time::Instant::now();
    tracing::debug!(rows, "rows written");
    if !indexes.is_empty() {
        sort_in_runs(&tx)?;
    }
    for (name, create) in &indexes {
        tx.execute(create, [])?;
        tracing::debug!(index = name, elapsed = ?phase.elapsed(), "index rebuilt");
    }
    let mut touched: BTreeSet<String> = touched.into_iter().map(str::to_owned).collect();
    {
        let mut moved = tx.prepare(sql::MOVED_FROM_SINCE)?;
        let from = moved.query_map([history_mark], |r| r.get::<_, String>(0))?;
        for commune in from {
            touched.insert(commune?);
        }
        let mut villages = tx.prepare(RECOUNT_VILLAGES)?;
        let mut parent = tx.prepare(RECOUNT_PARENT)?;
        for commune in &touched {
            villages.execute([commune])?;
            parent.execute([commune])?;
        }
        parent.execute([crate::domain::unit::PROVINCE_CODE])?;
    }
    // The indicators of the communes touched, recounted set-wise once the rows are in (no per-row work).
    if bulk {
        crate::tracking::rebuild::all_rusqlite(&tx)?;
    } else {
        let touched: Vec<String> = touched.into_iter().collect();
        crate::tracking::rebuild::communes_rusqlite(&tx, &touched)?;
    }
    tracing::debug!(elapsed = ?phase.elapsed(), "counters recomputed");
    // After a bulk load every affected row is new: no need to count 4M rows again.
    let inserted = if bulk { affected } else { u64::try_from(count(&tx)? - before).unwrap_or_default() };
    tx.commit()?;
    tracing::debug!(elapsed = ?phase.elapsed(), "committed");
    progress.finish(&format!("đã lưu {rows} dòng / committed {rows} rows"));
    Ok(Written { inserted, affected, committed: true })
}

/// Sets SQLite's sorter up for building indexes over millions of rows. With the temporary store in
/// memory it sorts all the keys as one list on one core; with temporary files it sorts runs the
/// size of the page cache, each on a helper thread while the table is still being read, and merges
/// them (https://sqlite.org/tempfiles.html). By now the threads that check the file are done, so
/// the helpers have the cores. Small runs fit the processor's caches: on 4,000,000 people the two
/// person indexes went from 12.6–13.9 s to 7.8–9.6 s (`BENCHMARKS.md`). The rows are all written by
/// then, so the smaller page cache costs nothing; its pages are written out now instead of at commit.
fn sort_in_runs(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    // SQLite caps the helper threads at 8.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8)) as i64;
    tx.pragma_update(None, "threads", cores)?;
    tx.pragma_update(None, "temp_store", "FILE")?;
    // KiB: runs of 16 MiB.
    tx.pragma_update(None, "cache_size", -16384)
}

/// The villages and organisations a bulk load refers to, each checked once at the end with its
/// communes (a village the load creates is in its household's commune). Every household is written
/// by the load itself, with its members' village.
#[derive(Default)]
struct References {
    villages: HashSet<String>,
    organisations: HashSet<String>,
}

/// Adds `code` to `set`, allocating only the first time it is seen (once per village, not per person).
fn remember(set: &mut HashSet<String>, code: &str) {
    if !set.contains(code) {
        set.insert(code.to_owned());
    }
}

impl References {
    /// Fails (and so rolls the load back) when a village or organisation has gone since the file was checked.
    fn check(&self, tx: &rusqlite::Transaction, communes: &BTreeSet<&str>) -> anyhow::Result<()> {
        let mut commune = tx.prepare("SELECT 1 FROM unit WHERE code = ?1 AND level = 'xa'")?;
        for code in communes {
            anyhow::ensure!(commune.exists([code])?, "the commune {code} does not exist; nothing was written");
        }
        let mut village = tx.prepare("SELECT 1 FROM unit WHERE code = ?1 AND level = 'thon'")?;
        for code in &self.villages {
            anyhow::ensure!(village.exists([code])?, "the village {code} no longer exists; nothing was written");
        }
        let mut organisation = tx.prepare("SELECT 1 FROM organisation WHERE code = ?1")?;
        for code in &self.organisations {
            anyhow::ensure!(
                organisation.exists([code])?,
                "the organisation {code} no longer exists; nothing was written"
            );
        }
        Ok(())
    }
}

/// Drops a table's own indexes (not those of its constraints) inside the transaction and returns
/// their names and definitions.
fn drop_indexes(tx: &rusqlite::Transaction, table: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let indexes = tx
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
    for (name, _) in &indexes {
        tx.execute(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")), [])?;
    }
    Ok(indexes)
}

/// `INSERT INTO person … VALUES (…), (…)` for `rows` people; `?1` is the timestamp, shared by every row.
/// Into an empty table (bulk) there is nothing to conflict with, and `OR FAIL` spares SQLite a
/// statement journal (a copy of every page each statement touches, kept to undo a half-done
/// statement): a failed statement fails the import, whose transaction is rolled back whole.
fn person_insert(rows: usize, bulk: bool) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (0..PERSON_VALUES).map(|c| format!("?{}", 2 + r * PERSON_VALUES + c)).collect();
            format!("({}, ?1, ?1)", params.join(", "))
        })
        .collect();
    format!(
        "INSERT {}INTO person ({}, created_at, updated_at) VALUES {}{}",
        if bulk { "OR FAIL " } else { "" },
        sql::PERSON_COLUMNS,
        values.join(", "),
        if bulk { String::new() } else { sql::PERSON_ON_CONFLICT.replace("{NOW}", "?1") }
    )
}

/// `INSERT OR FAIL INTO household … VALUES (…), (…)` for `rows` new households (see `person_insert`).
fn household_insert(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let base = 1 + r * HOUSEHOLD_VALUES;
            format!("(?{}, ?{}, ?{})", base, base + 1, base + 2)
        })
        .collect();
    format!("INSERT OR FAIL INTO household (commune_code, code, village_code) VALUES {}", values.join(", "))
}

/// Writes `rows` through `many`, a statement of `per` rows, and what is left over through `one`, its
/// one-row twin. Rows' values start at parameter `first` (those before are bound once by the caller);
/// `bind` binds a row's values from the given index on and returns the next. Returns the rows written.
fn in_statements<T>(
    many: &mut rusqlite::Statement,
    one: &mut rusqlite::Statement,
    per: usize,
    first: usize,
    rows: &[T],
    mut bind: impl FnMut(&mut rusqlite::Statement, usize, &T) -> rusqlite::Result<usize>,
) -> rusqlite::Result<usize> {
    let mut written = 0;
    let mut chunks = rows.chunks_exact(per);
    for chunk in chunks.by_ref() {
        let mut next = first;
        for row in chunk {
            next = bind(many, next, row)?;
        }
        written += many.raw_execute()?;
    }
    for row in chunks.remainder() {
        bind(one, first, row)?;
        written += one.raw_execute()?;
    }
    Ok(written)
}

fn bind_household(statement: &mut rusqlite::Statement, base: usize, h: &HouseholdRow) -> rusqlite::Result<usize> {
    statement.raw_bind_parameter(base, h.commune_code)?;
    statement.raw_bind_parameter(base + 1, &h.code)?;
    statement.raw_bind_parameter(base + 2, &h.village_code)?;
    Ok(base + HOUSEHOLD_VALUES)
}

/// Binds one person from `base` on and returns the next free index. `date` is a scratch buffer:
/// SQLite copies each bound text, so one buffer serves every row.
fn bind_person(
    statement: &mut rusqlite::Statement,
    base: usize,
    p: &ValidPerson,
    date: &mut String,
) -> rusqlite::Result<usize> {
    use std::fmt::Write;
    statement.raw_bind_parameter(base, &p.cccd_hash)?;
    statement.raw_bind_parameter(base + 1, &p.cccd_enc)?;
    statement.raw_bind_parameter(base + 2, &p.full_name)?;
    // `NaiveDate`'s `Display` is `YYYY-MM-DD`, without chrono's format-string interpreter.
    date.clear();
    write!(date, "{}", p.birth_date).expect("writing to a String");
    statement.raw_bind_parameter(base + 3, date.as_str())?;
    statement.raw_bind_parameter(base + 4, chrono::Datelike::year(&p.birth_date))?;
    statement.raw_bind_parameter(base + 5, p.sex.code())?;
    statement.raw_bind_parameter(base + 6, &p.ethnicity)?;
    statement.raw_bind_parameter(base + 7, &p.phone)?;
    statement.raw_bind_parameter(base + 8, p.commune_code)?;
    statement.raw_bind_parameter(base + 9, &p.village_code)?;
    statement.raw_bind_parameter(base + 10, &p.household_code)?;
    statement.raw_bind_parameter(base + 11, p.groups.bits())?;
    statement.raw_bind_parameter(base + 12, p.school_level.map(|l| l.code()))?;
    statement.raw_bind_parameter(base + 13, &p.organisation_code)?;
    statement.raw_bind_parameter(base + 14, &p.name_folded)?;
    Ok(base + PERSON_VALUES)
}
