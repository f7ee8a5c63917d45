//! A person's facts for the indicators: where they live in the person row (migration 0010), how to
//! read them, and where each comes from.
//!
//! | fact | column(s) | written by |
//! | --- | --- | --- |
//! | birth year, target groups, school level, organisation | `birth_year`, `target_groups`, `school_level`, `organisation_code` | roster import |
//! | learned ≥ 1 lesson | `learned_at` | first completed lesson (`learning::records`) |
//! | passed, per profile | `passed_groups` | certificate issue (`store_certificates_in_tx!`) |
//! | certified (valid), per profile | `certified_groups`, `certified_at` | certificate issue; revocation recomputes it |
//! | confirmed on VNeID | `vneid_confirmed_at` | confirmation delivered (`certificates::vneid`) |
//! | VNeID level | `vneid_level`, `vneid_level_source`, `vneid_level_at` | VNeID login, staff entry, a community tech team's visit (`community::visits`) |
//! | digital bank account | `bank_account`, `bank_source`, `bank_at` | staff entry, a team's visit |

use std::collections::HashMap;

use sqlx::{PgConnection, SqliteConnection};

use crate::domain::indicators::PersonFacts;
use crate::domain::person::{SchoolLevel, TargetGroups};

/// A connection inside the caller's transaction, on either backend, so that the tracking
/// functions are plain functions: call them with `(&mut *tx).into()`.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl<'c> From<&'c mut SqliteConnection> for Conn<'c> {
    fn from(c: &'c mut SqliteConnection) -> Self {
        Self::Sqlite(c)
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(c: &'c mut PgConnection) -> Self {
        Self::Postgres(c)
    }
}

/// Runs the same expression on whichever connection `$conn` (a `&mut Conn`) holds.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::tracking::facts::Conn::Sqlite(inner) => {
                let $c = &mut **inner;
                $body
            }
            $crate::tracking::facts::Conn::Postgres(inner) => {
                let $c = &mut **inner;
                $body
            }
        }
    };
}

/// Where a fact came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    VneidLogin,
    Staff,
    TeamVisit,
    SelfDeclared,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Self::VneidLogin => "vneid_login",
            Self::Staff => "staff",
            Self::TeamVisit => "team_visit",
            Self::SelfDeclared => "self_declared",
        }
    }

    pub fn label_vi(code: &str) -> &'static str {
        match code {
            "vneid_login" => "Đăng nhập VNeID",
            "staff" => "Cán bộ ghi nhận",
            "team_visit" => "Tổ công nghệ số đến nhà",
            "self_declared" => "Tự khai",
            _ => "",
        }
    }
}

/// A person's facts and where they count: village, its commune, household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub facts: PersonFacts,
    pub village: String,
    pub commune: Option<String>,
    /// (commune code, household code): a household is keyed within its commune.
    pub household: (String, String),
    /// Where the person works or studies: its counters move too.
    pub organisation: Option<String>,
}

/// One person row as [`SELECT`] reads it.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    birth: i64,
    groups: i64,
    school: Option<String>,
    kind: Option<String>,
    passed: i64,
    certified: i64,
    confirmed: Option<i64>,
    level: Option<i64>,
    bank: Option<i64>,
    learned: Option<i64>,
    erased: i64,
    village: String,
    commune: Option<String>,
    hh_commune: String,
    household: String,
    organisation: Option<String>,
}

/// One statement text per use (an `IN` list for sqlx's batches, one id for the direct writer's cached
/// statement): the columns and joins are written once.
macro_rules! select_facts {
    () => {
        "SELECT p.id AS id, CAST(p.birth_year AS BIGINT) AS birth, CAST(p.target_groups AS BIGINT) AS groups, \
     p.school_level AS school, o.kind AS kind, CAST(p.passed_groups AS BIGINT) AS passed, \
     CAST(p.certified_groups AS BIGINT) AS certified, p.vneid_confirmed_at AS confirmed, \
     CAST(p.vneid_level AS BIGINT) AS level, CAST(p.bank_account AS BIGINT) AS bank, p.learned_at AS learned, \
     CAST(CASE WHEN p.erased_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS erased, p.village_code AS village, \
     v.parent_code AS commune, p.commune_code AS hh_commune, p.household_code AS household, \
     p.organisation_code AS organisation \
     FROM person p LEFT JOIN organisation o ON o.code = p.organisation_code \
     LEFT JOIN unit v ON v.code = p.village_code"
    };
}
const SELECT: &str = concat!(select_facts!(), " WHERE p.id IN (");
const SELECT_ONE: &str = concat!(select_facts!(), " WHERE p.id = $1");

crate::direct_row!(Row {
    id,
    birth,
    groups,
    school,
    kind,
    passed,
    certified,
    confirmed,
    level,
    bank,
    learned,
    erased,
    village,
    commune,
    hh_commune,
    household,
    organisation
});

fn located(row: Row) -> (i64, Located) {
    let facts = PersonFacts {
        birth_year: i32::try_from(row.birth).unwrap_or_default(),
        groups: TargetGroups::from_bits(row.groups),
        school_level: row.school.as_deref().and_then(|s| SchoolLevel::parse(s).ok()),
        organisation_kind: row.kind,
        passed: TargetGroups::from_bits(row.passed),
        certified: TargetGroups::from_bits(row.certified),
        confirmed_on_vneid: row.confirmed.is_some(),
        vneid_level: row.level.and_then(|l| i16::try_from(l).ok()),
        bank_account: row.bank == Some(1),
        learned: row.learned.is_some(),
        erased: row.erased != 0,
    };
    (
        row.id,
        Located {
            facts,
            village: row.village,
            commune: row.commune,
            household: (row.hh_commune, row.household),
            organisation: row.organisation,
        },
    )
}

const LEARNERS: &str = "SELECT count(*) FROM person WHERE village_code = $1 AND household_code = $2 \
                        AND commune_code = $3 AND learned_at IS NOT NULL";

/// A counter's change: holder (unit or organisation code), year, indicator, numerator, denominator.
pub type CountRow = (String, i64, &'static str, i64, i64);

/// What the counters (`counters`) need of the transaction they run in: people's facts, a household's
/// learners, and the counters' upserts. Either a transaction of sqlx on either backend ([`Conn`]), or
/// the SQLite batch writer's own connection ([`OwnConnection`]).
// The futures are only awaited where the type is known (a Send future on the server's runtime for
// `Conn`, the batch writer's own thread for `OwnConnection`), so no auto-trait bound is needed on them.
#[allow(async_fn_in_trait)]
pub trait Ledger {
    /// The facts of these people, by id (people that do not exist are left out).
    async fn facts(&mut self, ids: &[i64]) -> sqlx::Result<HashMap<i64, Located>>;
    /// Members of a household who have learned, now.
    async fn learners(&mut self, village: &str, household: &(String, String)) -> sqlx::Result<i64>;
    /// Adds `rows` to the counters: `insert` names the table and columns, `on_conflict` adds to a row
    /// already there.
    async fn add(&mut self, rows: &[CountRow], insert: &'static str, on_conflict: &'static str) -> sqlx::Result<()>;
}

impl Ledger for Conn<'_> {
    async fn facts(&mut self, ids: &[i64]) -> sqlx::Result<HashMap<i64, Located>> {
        let mut out = HashMap::with_capacity(ids.len());
        // Bounded statements: SQLite allows 32,766 parameters, PostgreSQL 65,535.
        for chunk in ids.chunks(1000) {
            let rows: Vec<Row> = on_conn!(self, c => {
                let mut query = sqlx::QueryBuilder::new(SELECT);
                let mut list = query.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                query.push(")");
                query.build_query_as().fetch_all(c).await?
            });
            out.extend(rows.into_iter().map(located));
        }
        Ok(out)
    }

    async fn learners(&mut self, village: &str, household: &(String, String)) -> sqlx::Result<i64> {
        on_conn!(self, c => sqlx::query_scalar(LEARNERS).bind(village).bind(&household.1).bind(&household.0).fetch_one(c).await)
    }

    /// One statement per 500 rows (a certificate moves up to 2 years × 4 indicators × 3 units and an
    /// organisation): the write paths' budgets count round trips.
    async fn add(&mut self, rows: &[CountRow], insert: &'static str, on_conflict: &'static str) -> sqlx::Result<()> {
        for chunk in rows.chunks(500) {
            on_conn!(self, c => {
                let mut q = sqlx::QueryBuilder::new(insert);
                q.push_values(chunk, |mut row, (holder, year, code, n, d)| {
                    row.push_bind(holder).push_bind(*year).push_bind(*code).push_bind(*n).push_bind(*d);
                });
                q.push(on_conflict);
                q.build().execute(c).await?;
            });
        }
        Ok(())
    }
}

/// The SQLite batch writer's own connection, inside its transaction (`store::batch`): each statement
/// is a cached one-row statement run on the writer's thread, with no hand-off to another thread.
pub struct OwnConnection<'c>(pub &'c rusqlite::Connection);

impl Ledger for OwnConnection<'_> {
    async fn facts(&mut self, ids: &[i64]) -> sqlx::Result<HashMap<i64, Located>> {
        let mut read = self.0.prepare_cached(SELECT_ONE).map_err(crate::store::direct::Error::wrap)?;
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            let row = read.query([id]).and_then(|mut rows| rows.next()?.map(Row::from_direct).transpose());
            if let Some(row) = row.map_err(crate::store::direct::Error::wrap)? {
                let (id, l) = located(row);
                out.insert(id, l);
            }
        }
        Ok(out)
    }

    async fn learners(&mut self, village: &str, household: &(String, String)) -> sqlx::Result<i64> {
        let mut count = self.0.prepare_cached(LEARNERS).map_err(crate::store::direct::Error::wrap)?;
        count.query_row([village, &household.1, &household.0], |r| r.get(0)).map_err(crate::store::direct::Error::wrap)
    }

    async fn add(&mut self, rows: &[CountRow], insert: &'static str, on_conflict: &'static str) -> sqlx::Result<()> {
        let sql = format!("{insert} VALUES ($1, $2, $3, $4, $5){on_conflict}");
        let mut upsert = self.0.prepare_cached(&sql).map_err(crate::store::direct::Error::wrap)?;
        for (holder, year, code, n, d) in rows {
            upsert.execute(rusqlite::params![holder, year, code, n, d]).map_err(crate::store::direct::Error::wrap)?;
        }
        Ok(())
    }
}

/// Runs a [`Ledger`] future of [`OwnConnection`] to its end on the calling thread: it never waits, its
/// statements run as it is polled.
pub fn at_once<T>(work: impl std::future::Future<Output = sqlx::Result<T>>) -> sqlx::Result<T> {
    use futures::FutureExt;
    work.now_or_never().unwrap_or_else(|| Err(sqlx::Error::Protocol("a direct SQLite ledger future waited".into())))
}
