//! Bulk imports of rosters: people, villages and organisations.
//!
//! A file is checked whole. Rows are read and checked on one thread (the per-row checks and the
//! encryption of citizen numbers spread over all cores) while another writes them inside one
//! transaction; the transaction commits only if every row was good, or `--skip-invalid` was given.
//! A killed import therefore leaves the database exactly as it was.

pub mod organisations;
pub mod people;
pub mod progress;
pub mod report;
mod sink_postgres;
mod sink_sqlite;
pub mod source;
pub mod units;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use rayon::prelude::*;

use crate::config::DatabaseUrl;
use crate::crypto::CitizenCipher;
use crate::on_pool;
use crate::store::Store;
use people::{Batch, CrossRowRules, RowRules, VillageBook};
use progress::Progress;
use report::BadCell;
use source::{FileError, Table};

/// Rows checked together: large enough to keep both cores busy, small enough to stream.
const CHUNK_ROWS: usize = 16_384;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub skip_invalid: bool,
    pub report: Option<PathBuf>,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rows: u64,
    pub bad: Vec<BadCell>,
    pub committed: bool,
    pub inserted: u64,
    pub changed: u64,
    pub unchanged: u64,
}

impl Outcome {
    pub fn bad_rows(&self) -> u64 {
        bad_row_count(&self.bad)
    }
}

/// How many distinct rows the bad cells are on.
pub fn bad_row_count(bad: &[BadCell]) -> u64 {
    let mut lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.len() as u64
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Shared between the reading and the writing side: once a bad row is seen, and unless bad rows are
/// to be skipped, writing stops (the transaction will be rolled back anyway).
#[derive(Default)]
pub(crate) struct Verdict {
    has_bad: AtomicBool,
    aborted: AtomicBool,
    skip_invalid: bool,
}

impl Verdict {
    pub(crate) fn keep_writing(&self) -> bool {
        !self.aborted.load(Ordering::Acquire) && (self.skip_invalid || !self.has_bad.load(Ordering::Acquire))
    }
}

/// Counts a writer reports back.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub inserted: u64,
    pub affected: u64,
    pub committed: bool,
}

/// Imports a people roster. Takes the store and closes it before returning: on SQLite, before the
/// load itself, so that a load into an empty registry can find itself the only connection to the
/// database (see `sink_sqlite`). Callers that go on open the store again.
pub async fn people(
    store: Store,
    url: &DatabaseUrl,
    cipher: CitizenCipher,
    table: Table,
    options: &Options,
    progress: Progress,
) -> Result<Outcome, ImportError> {
    let organisations: HashSet<String> = on_pool!(&store, pool =>
        sqlx::query_scalar::<_, String>("SELECT code FROM organisation").fetch_all(pool).await)
    .context("reading organisations")?
    .into_iter()
    .collect();
    let existing: Vec<(String, String, String)> = on_pool!(&store, pool =>
        sqlx::query_as("SELECT parent_code, code, name_key FROM unit WHERE level = 'thon'").fetch_all(pool).await)
    .context("reading villages")?;
    let today = chrono::Local::now().date_naive();
    let rules = RowRules::new(&table.header, today, cipher, organisations);
    let mut villages = VillageBook::new(existing);

    let verdict = Arc::new(Verdict { skip_invalid: options.skip_invalid, ..Verdict::default() });
    let (sender, receiver) = tokio::sync::mpsc::channel::<Batch>(4);
    let reader_verdict = verdict.clone();
    // Reading the file into chunks of rows goes on while the previous chunk is checked.
    let (chunk_sender, chunks) = std::sync::mpsc::sync_channel::<Result<Vec<source::RawRow>, FileError>>(2);
    let mut rows = table.rows;
    std::thread::spawn(move || {
        loop {
            let mut chunk = Vec::with_capacity(CHUNK_ROWS);
            for row in rows.by_ref().take(CHUNK_ROWS) {
                match row {
                    Ok(row) => chunk.push(row),
                    Err(e) => {
                        let _ = chunk_sender.send(Err(e));
                        return;
                    }
                }
            }
            // An empty chunk is the end of the file; a closed channel, checking has stopped.
            if chunk.is_empty() || chunk_sender.send(Ok(chunk)).is_err() {
                return;
            }
        }
    });
    let reader = std::thread::spawn(move || -> Result<(Vec<BadCell>, u64), FileError> {
        let mut cross = CrossRowRules::default();
        let mut bad = Vec::new();
        let mut seen = 0u64;
        for chunk in chunks {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    reader_verdict.aborted.store(true, Ordering::Release);
                    return Err(e);
                }
            };
            seen += chunk.len() as u64;
            let checked: Vec<_> = chunk.par_iter().map(|row| rules.check(row)).collect();
            let batch = cross.apply(checked, &mut villages, &mut bad);
            if !bad.is_empty() {
                reader_verdict.has_bad.store(true, Ordering::Release);
            }
            if sender.blocking_send(batch).is_err() {
                break;
            }
        }
        Ok((bad, seen))
    });

    let written = match (&store, url) {
        (Store::Sqlite(_), DatabaseUrl::Sqlite(path)) => {
            store.close().await;
            let path = path.clone();
            let verdict = verdict.clone();
            tokio::task::spawn_blocking(move || sink_sqlite::write_people(&path, receiver, &verdict, progress))
                .await
                .context("the SQLite writer stopped")?
        }
        (Store::Postgres(pool), _) => {
            let written = sink_postgres::write_people(pool, receiver, &verdict, progress).await;
            store.close().await;
            written
        }
        _ => Err(anyhow::anyhow!("the store and the URL name different backends")),
    };
    let read = tokio::task::spawn_blocking(move || reader.join())
        .await
        .context("the reader stopped")?
        .map_err(|_| anyhow::anyhow!("the reader panicked"))?;
    let (bad, rows) = read?;
    let written = written?;
    let valid = rows - bad_row_count(&bad);
    Ok(Outcome {
        rows,
        bad,
        committed: written.committed,
        inserted: written.inserted,
        changed: written.affected.saturating_sub(written.inserted),
        unchanged: if written.committed { valid.saturating_sub(written.affected) } else { 0 },
    })
}

/// Writers share these SQL texts: the dialects agree on them.
pub(crate) mod sql {
    pub const INSERT_VILLAGE: &str = "INSERT INTO unit (code, name, name_key, level, kind, parent_code) \
         VALUES ($1, $2, $3, 'thon', $4, $5)";

    pub const UPSERT_HOUSEHOLD: &str = "INSERT INTO household (commune_code, code, village_code) VALUES ($1, $2, $3) \
         ON CONFLICT (commune_code, code) DO UPDATE SET village_code = excluded.village_code \
         WHERE household.village_code <> excluded.village_code";

    /// `{NOW}` is the backend's current-timestamp expression.
    pub const PERSON_ON_CONFLICT: &str = " ON CONFLICT (cccd_hash) DO UPDATE SET \
         full_name = excluded.full_name, name_folded = excluded.name_folded, birth_date = excluded.birth_date, birth_year = excluded.birth_year, \
         sex = excluded.sex, ethnicity = excluded.ethnicity, phone = excluded.phone, \
         commune_code = excluded.commune_code, village_code = excluded.village_code, \
         household_code = excluded.household_code, target_groups = excluded.target_groups, \
         school_level = excluded.school_level, organisation_code = excluded.organisation_code, updated_at = {NOW} \
         WHERE person.full_name IS DISTINCT FROM excluded.full_name \
            OR person.birth_date IS DISTINCT FROM excluded.birth_date \
            OR person.sex IS DISTINCT FROM excluded.sex \
            OR person.ethnicity IS DISTINCT FROM excluded.ethnicity \
            OR person.phone IS DISTINCT FROM excluded.phone \
            OR person.village_code IS DISTINCT FROM excluded.village_code \
            OR person.household_code IS DISTINCT FROM excluded.household_code \
            OR person.target_groups IS DISTINCT FROM excluded.target_groups \
            OR person.school_level IS DISTINCT FROM excluded.school_level \
            OR person.organisation_code IS DISTINCT FROM excluded.organisation_code";

    pub const PERSON_COLUMNS: &str = "cccd_hash, cccd_enc, full_name, birth_date, birth_year, sex, ethnicity, phone, \
         commune_code, village_code, household_code, target_groups, school_level, organisation_code, name_folded";

    /// Communes whose people moved away during this import (their counters change too).
    pub const MOVED_FROM_SINCE: &str = "SELECT DISTINCT substr(from_village, 1, 5) FROM person_history WHERE id > $1";
}
