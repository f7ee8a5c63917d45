//! The database: one pool per backend, chosen by the URL, with embedded migrations per backend.
//! Queries share one SQL text wherever the dialects agree; `on_pool!` runs it on whichever pool is open.

pub mod batch;
pub mod direct;
pub mod framework;
pub mod memo;
pub mod units;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::config::DatabaseUrl;

/// How long a writer waits for SQLite's write lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(Sqlite),
    Postgres(PgPool),
}

/// The SQLite database: sqlx's pool for writes and most reads, and direct connections for the
/// hottest reads.
#[derive(Clone, Debug)]
pub struct Sqlite {
    pub pool: SqlitePool,
    pub direct: Arc<direct::Direct>,
}

/// Runs the same expression on whichever pool the store holds; `$pool` is bound to it.
#[macro_export]
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

pub fn sqlite_options(path: &std::path::Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: an acknowledged write survives a power cut, not only a killed process.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        // 4 MiB of page cache per connection keeps the server well under its memory budget.
        .pragma("cache_size", "-4096")
}

/// The name this process's PostgreSQL sessions carry, so that it can tell them from other
/// clients' (a bulk import sets tables aside only when it is alone).
pub fn application_name() -> String {
    format!("hocvuso {}", std::process::id())
}

impl Store {
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(sqlite_options(path))
                    .await
                    .with_context(|| format!("opening SQLite database {}", path.display()))?;
                Ok(Self::Sqlite(Sqlite { pool, direct: Arc::new(direct::Direct::new(path)) }))
            }
            DatabaseUrl::Postgres(raw) => {
                let options = PgConnectOptions::from_str(raw)
                    .context("reading the PostgreSQL URL")?
                    .application_name(&application_name());
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .with_context(|| format!("connecting to PostgreSQL at {url}"))?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// After a bulk write outside the import (the demo's movement): PostgreSQL's planner statistics
    /// of `tables` read again at once rather than when autovacuum gets to them (see
    /// `registry::import::sink_postgres`). Only the tables written: analysed while empty, a table
    /// (sessions, consents) is planned as empty until autovacuum looks again, and every request's
    /// session lookup scanned it whole meanwhile. SQLite plans without them well enough (the
    /// commune's export: 18 ms at 400,000 people).
    pub async fn refresh_statistics(&self, tables: &[&'static str]) -> sqlx::Result<()> {
        if let Self::Postgres(pool) = self
            && !tables.is_empty()
        {
            let sql = format!("ANALYZE {}", tables.join(", "));
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
        }
        Ok(())
    }

    /// Applies the embedded migrations of this backend, then loads the built-in administrative tree.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(sqlite) => sqlx::migrate!("migrations/sqlite").run(&sqlite.pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        self.fill_name_folded().await?;
        units::load_builtin_tree(self).await?;
        framework::ensure_builtin(self).await
    }

    /// Migration 0009's backfill: the folded name of every person written before it, in chunks of
    /// one transaction each (a province's 4 million rows take a while, once). The marker row goes
    /// last, so an interrupted backfill carries on at the next start.
    async fn fill_name_folded(&self) -> anyhow::Result<()> {
        const MARK: &str = "person.name_folded";
        const CHUNK: i64 = 10_000;
        let pending: Option<String> = on_pool!(self, pool => sqlx::query_scalar("SELECT name FROM backfill WHERE name = $1")
                .bind(MARK).fetch_optional(pool).await)?;
        if pending.is_none() {
            return Ok(());
        }
        let mut after = 0i64;
        loop {
            let last = on_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT id, full_name FROM person WHERE id > $1 AND full_name IS NOT NULL ORDER BY id LIMIT $2",
                ).bind(after).bind(CHUNK).fetch_all(&mut *tx).await?;
                // A few hundred rows per statement: one round trip each, not one per person.
                for part in rows.chunks(500) {
                    let mut update = sqlx::QueryBuilder::new("UPDATE person SET name_folded = v.column2 FROM (");
                    update.push_values(part, |mut row, (id, name)| {
                        row.push_bind(*id).push_bind(crate::domain::text::search_key(name));
                    });
                    update.push(") AS v WHERE person.id = v.column1");
                    update.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(rows.last().map(|(id, _)| *id))
            })?;
            match last {
                Some(id) => after = id,
                None => break,
            }
        }
        on_pool!(self, pool => sqlx::query("DELETE FROM backfill WHERE name = $1").bind(MARK).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        let probe = on_pool!(self, pool => sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool).await);
        probe.is_ok()
    }

    /// Starts a transaction that will write: on SQLite it takes the write lock at once, so its reads
    /// and writes see one state (a deferred transaction that reads first may fail when it writes).
    pub fn begin_write(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "BEGIN IMMEDIATE",
            Self::Postgres(_) => "BEGIN",
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
        if let Self::Sqlite(sqlite) = self {
            sqlite.direct.close();
        }
    }
}
