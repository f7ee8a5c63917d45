//! SQLite reads on the hottest paths (the session behind every signed-in request, a learner's
//! progress, a sitting and its answers, a certificate), run on the calling thread.
//!
//! sqlx runs each SQLite statement on a worker thread of the connection and hands the rows back
//! through channels; for a point read that takes SQLite a few microseconds, the thread hand-offs
//! cost several times the read (BENCHMARKS.md, profile of the lesson page). In WAL mode a reader
//! never waits for a writer, so a read here holds the async worker no longer than the read itself.
//! Writes stay on sqlx (their cost is the disk flush, and one transaction code path serves both
//! backends), except for the batch writers whose batches are many statements (`store::batch`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, ToSql};

/// Named parameters as the shared SQL text spells them (`$1`, `$2`, ...).
pub type Params<'a> = &'a [(&'a str, &'a dyn ToSql)];

/// Idle connections kept; more are opened when more requests read at once, and closed after.
const IDLE_KEPT: usize = 8;

/// A reader waits for a lock only while another connection recovers the WAL index: rare and short.
const READ_BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Prepared statements kept per connection: there are a handful of hot queries.
const STATEMENTS_KEPT: usize = 32;

pub struct Direct {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Direct {
    pub fn new(path: &Path) -> Self {
        Self { path: path.to_owned(), idle: Mutex::new(Vec::new()) }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // Read-write flags with `query_only`: a read-only connection to a WAL database cannot
        // open it when the shared-memory file is missing.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(READ_BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -4096)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        Ok(conn)
    }

    /// A connection of a batch writer's own (`store::batch`), with the settings of sqlx's connections
    /// (`store::sqlite_options`): FULL sync, so that an acknowledged write survives a power cut;
    /// foreign keys on; the same wait for the write lock, which it shares with sqlx's writers. The
    /// file is in WAL mode already: sqlx opened it first.
    pub fn writer(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(super::SQLITE_BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "full")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "cache_size", -4096)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        Ok(conn)
    }

    /// Closes the idle connections (a later read opens a new one).
    pub fn close(&self) {
        self.idle.lock().expect("direct connections").clear();
    }

    /// Runs `read` on an idle connection (or a new one), then gives the connection back.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> sqlx::Result<T> {
        let idle = self.idle.lock().expect("direct connections").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(Error::wrap)?,
        };
        let out = read(&conn);
        let mut idle = self.idle.lock().expect("direct connections");
        if idle.len() < IDLE_KEPT {
            idle.push(conn);
        }
        out.map_err(Error::wrap)
    }

    /// The first row of a query, if any, mapped by `map`.
    pub fn optional<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> sqlx::Result<Option<T>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            let mut rows = statement.query(params)?;
            rows.next()?.map(map).transpose()
        })
    }

    /// Every row of a query, each mapped by `map`.
    pub fn all<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> sqlx::Result<Vec<T>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            let mut rows = statement.query(params)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row)?);
            }
            Ok(out)
        })
    }

    /// Every row of a query built at run time, whose parameters are numbered in order (`$1`, `$2`, …).
    pub fn all_numbered<T>(
        &self,
        sql: &str,
        values: &[rusqlite::types::Value],
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> sqlx::Result<Vec<T>> {
        let names: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
        let params: Vec<(&str, &dyn ToSql)> =
            names.iter().map(String::as_str).zip(values.iter().map(|v| v as &dyn ToSql)).collect();
        self.all(sql, &params, map)
    }
}

/// `Type::from_direct(&rusqlite::Row)`, for a struct whose fields are named as its query's columns
/// (the direct-read twin of `#[derive(sqlx::FromRow)]`). `flatten` fields embed another such struct.
#[macro_export]
macro_rules! direct_row {
    ($ty:ident { $($field:ident),* $(,)? } $(flatten { $($inner:ident: $inner_ty:ident),* $(,)? })?) => {
        impl $ty {
            fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(Self {
                    $($field: row.get(stringify!($field))?,)*
                    $($($inner: $inner_ty::from_direct(row)?,)*)?
                })
            }
        }
    };
}

/// A rusqlite error carried as a database error of sqlx, so callers keep one error type.
#[derive(Debug, thiserror::Error)]
#[error("SQLite (direct read): {0}")]
pub struct Error(rusqlite::Error);

impl Error {
    pub(crate) fn wrap(e: rusqlite::Error) -> sqlx::Error {
        sqlx::Error::Database(Box::new(Self(e)))
    }
}

impl sqlx::error::DatabaseError for Error {
    fn message(&self) -> &str {
        "direct SQLite read failed"
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    /// `.cargo/config.toml` builds SQLite without memory statistics (a global mutex per allocation).
    #[test]
    fn sqlite_is_built_without_memory_statistics() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }

    /// SQLite 3.51.0 and 3.51.1 deadlock their unix VFS when a connection closes a WAL database
    /// while another connection of the process opens it (fixed in 3.51.2): the test suite hung on
    /// it, every SQLite open of every test waiting on the VFS's global mutex. The pools of the
    /// server open and close connections all day, so the bundled SQLite must be past it.
    #[test]
    fn sqlite_is_past_the_unix_vfs_deadlock_of_3_51_1() {
        assert!(rusqlite::version_number() >= 3_051_002, "SQLite {}", rusqlite::version());
    }
}
