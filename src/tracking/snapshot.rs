//! Quarterly snapshots of the counters (`indicator_snapshot`), for the trend per quarter.
//!
//! A snapshot is one `INSERT … SELECT` copy of `indicator_count` in one transaction, with
//! `ON CONFLICT DO NOTHING`: the first take of a quarter stands, and servers racing at a quarter's
//! end (each runs [`spawn`]) or an officer's second click leave one set of rows; on PostgreSQL the
//! takes queue on a transaction lock, so the set is one server's whole (tests/two_servers.rs).

use std::time::Duration;

use chrono::{Datelike, NaiveDate};

use crate::domain::time::{now, today};
use crate::on_pool;
use crate::store::Store;

/// How often the server checks whether the last ended quarter has its snapshot.
const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// A quarter as `2025Q4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    /// 1..=4
    pub number: u32,
}

impl Quarter {
    pub fn of(date: NaiveDate) -> Self {
        Self { year: date.year(), number: date.month0() / 3 + 1 }
    }

    pub fn previous(self) -> Self {
        if self.number == 1 {
            Self { year: self.year - 1, number: 4 }
        } else {
            Self { number: self.number - 1, ..self }
        }
    }

    /// The last quarter that has ended on `date` (Vietnam's calendar).
    pub fn last_ended(date: NaiveDate) -> Self {
        Self::of(date).previous()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let (year, number) = raw.trim().split_once(['Q', 'q'])?;
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        let number: u32 = number.parse().ok().filter(|n| (1..=4).contains(n))?;
        Some(Self { year, number })
    }

    /// "Quý 4/2025", as the pages write it.
    pub fn label_vi(self) -> String {
        format!("Quý {}/{}", self.number, self.year)
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}Q{}", self.year, self.number)
    }
}

// `WHERE 1 = 1`: SQLite reads `ON` after a bare `FROM table` as a join constraint.
pub const TAKE: &str = "INSERT INTO indicator_snapshot \
     (quarter, unit_code, year, indicator, numerator, denominator, taken_at) \
     SELECT $1, unit_code, year, indicator, numerator, denominator, $2 FROM indicator_count WHERE 1 = 1 \
     ON CONFLICT (quarter, unit_code, year, indicator) DO NOTHING";

/// The transaction lock that makes servers racing at a quarter's end take their snapshots one
/// after the other on PostgreSQL: the first writes the whole set, the next finds it and writes
/// nothing (without it, two `INSERT … ON CONFLICT` of the same keys in another order can deadlock,
/// and the loser logs a failure). SQLite has one writer already.
const SNAPSHOT_LOCK: &str = "SELECT pg_advisory_xact_lock(7261501)";

/// Takes the snapshot of `quarter` from the counters as they are now; the rows written (0 when
/// the quarter had its snapshot already).
pub async fn take(store: &Store, quarter: Quarter) -> sqlx::Result<u64> {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        if matches!(store, Store::Postgres(_)) {
            sqlx::query(SNAPSHOT_LOCK).execute(&mut *tx).await?;
        }
        let n = sqlx::query(TAKE).bind(quarter.to_string()).bind(now()).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    })
}

/// Whether `quarter` has a snapshot.
pub async fn exists(store: &Store, quarter: Quarter) -> sqlx::Result<bool> {
    let found: Option<i64> = on_pool!(store, pool =>
        sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM indicator_snapshot WHERE quarter = $1 LIMIT 1")
            .bind(quarter.to_string()).fetch_optional(pool).await)?;
    Ok(found.is_some())
}

/// Takes the last ended quarter's snapshot if it has none yet.
pub async fn catch_up(store: &Store) -> sqlx::Result<Option<(Quarter, u64)>> {
    let quarter = Quarter::last_ended(today());
    if exists(store, quarter).await? {
        return Ok(None);
    }
    Ok(Some((quarter, take(store, quarter).await?)))
}

/// The server's scheduled job: every hour, the last ended quarter's snapshot if missing.
pub fn spawn(store: Store) {
    tokio::spawn(async move {
        loop {
            match catch_up(&store).await {
                Ok(Some((quarter, rows))) => tracing::info!(%quarter, rows, "indicator snapshot taken"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "indicator snapshot failed; retried in an hour"),
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
}

/// One point of a trend: a quarter's numerator and denominator.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub quarter: Quarter,
    pub numerator: i64,
    pub denominator: i64,
}

type PointRow = (String, String, i64, i64);

/// The snapshots of one unit and year, by indicator code, oldest first.
pub async fn trend(
    store: &Store,
    unit_code: &str,
    year: i32,
) -> sqlx::Result<std::collections::HashMap<String, Vec<Point>>> {
    let rows: Vec<PointRow> = on_pool!(store, pool => sqlx::query_as(
        "SELECT quarter, indicator, CAST(numerator AS BIGINT), CAST(denominator AS BIGINT) \
         FROM indicator_snapshot WHERE unit_code = $1 AND year = $2 ORDER BY quarter")
        .bind(unit_code).bind(i64::from(year)).fetch_all(pool).await)?;
    let mut out: std::collections::HashMap<String, Vec<Point>> = std::collections::HashMap::new();
    for (quarter, indicator, numerator, denominator) in rows {
        let Some(quarter) = Quarter::parse(&quarter) else { continue };
        out.entry(indicator).or_default().push(Point { quarter, numerator, denominator });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(Quarter::last_ended(d(2026, 1, 1)).to_string(), "2025Q4");
        assert_eq!(Quarter::last_ended(d(2025, 12, 31)).to_string(), "2025Q3");
        assert_eq!(Quarter::last_ended(d(2025, 4, 1)).to_string(), "2025Q1");
        assert_eq!(Quarter::parse("2025Q4"), Some(Quarter { year: 2025, number: 4 }));
        assert_eq!(Quarter::parse("2025Q5"), None);
        assert_eq!(Quarter::parse("x"), None);
    }
}
