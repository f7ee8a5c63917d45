//! Every counter recomputed from the person and household rows, set-wise: one pass over `person`
//! (times the years) grouped by village, one over `household`, then communes from their villages
//! and the province from its communes. The same rules as `domain::indicators`, said in SQL; the
//! property test (`tests/tracking_counters.rs`) holds the two together.
//!
//! The texts run on sqlx and on rusqlite (the SQLite import's own connection) alike.

use std::sync::LazyLock;

use crate::domain::indicators::{ENTERPRISE_KINDS, Indicator, Numerator, Population, Targets, targets};
use crate::domain::person::{TargetGroup, TargetGroups};
use crate::domain::unit::PROVINCE_CODE;
use crate::on_pool;
use crate::store::Store;

fn bit(group: TargetGroup) -> i64 {
    let mut g = TargetGroups::default();
    g.insert(group);
    g.bits()
}

/// Whether a person (`p`, with organisation `o`) is in the indicator's population in `year`.
fn population_sql(i: &Indicator, year: i32) -> String {
    match i.population {
        Population::PublicSector => format!("(p.target_groups & {}) <> 0", bit(TargetGroup::Official)),
        Population::Students => {
            let levels: Vec<String> = i.school_levels_in(year).iter().map(|l| format!("'{}'", l.code())).collect();
            if levels.is_empty() {
                return "1 = 0".to_owned();
            }
            format!(
                "(p.target_groups & {}) <> 0 AND p.school_level IN ({})",
                bit(TargetGroup::Student),
                levels.join(", ")
            )
        }
        Population::Adults => format!("p.birth_year <= {}", year - 18),
        Population::Citizens16Plus => format!("p.birth_year <= {}", year - 16),
        Population::EnterpriseWorkers => format!(
            "(p.target_groups & {}) <> 0 AND o.kind IN ({})",
            bit(TargetGroup::Worker),
            ENTERPRISE_KINDS.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ")
        ),
        Population::Households => "1 = 0".to_owned(),
    }
}

fn numerator_sql(i: &Indicator) -> String {
    match i.numerator {
        Numerator::Certified => match i.population.profile() {
            Some(g) => format!("(p.certified_groups & {}) <> 0", bit(g)),
            None => "p.certified_groups <> 0".to_owned(),
        },
        Numerator::PassedBasic => "p.passed_groups <> 0".to_owned(),
        Numerator::ConfirmedOnVneid => "p.vneid_confirmed_at IS NOT NULL".to_owned(),
        Numerator::HasVneidAndBankAccount => "p.vneid_level >= 2 AND p.bank_account = 1".to_owned(),
        Numerator::HouseholdWithLearner => "1 = 0".to_owned(),
    }
}

const INSERT: &str = "INSERT INTO indicator_count (unit_code, year, indicator, numerator, denominator) ";
const INSERT_ORGANISATION: &str =
    "INSERT INTO organisation_indicator_count (organisation_code, year, indicator, numerator, denominator) ";

/// Counter rows of the person indicators grouped by `holder` (a column of `person p`), for the people
/// `filter` keeps (a `WHERE` clause, or empty). People are read once, one row per holder with a column
/// per (indicator, year): three times faster on SQLite than a row per (holder, year) from a join with
/// the years.
fn people_statement(t: &Targets, insert: &str, holder: &str, filter: &str) -> Option<String> {
    let mut sums = Vec::new();
    let mut pick_n = Vec::new();
    let mut pick_d = Vec::new();
    let mut keys = Vec::new();
    let mut k = 0usize;
    for i in t.indicators.iter().filter(|i| i.population != Population::Households) {
        for (year, _) in &i.targets {
            let pop = population_sql(i, *year);
            sums.push(format!("sum(CASE WHEN {pop} THEN 1 ELSE 0 END) AS d{k}"));
            sums.push(format!("sum(CASE WHEN {pop} AND {} THEN 1 ELSE 0 END) AS n{k}", numerator_sql(i)));
            pick_n.push(format!("WHEN {k} THEN a.n{k}"));
            pick_d.push(format!("WHEN {k} THEN a.d{k}"));
            keys.push(format!("SELECT {k} AS k, {year} AS year, '{}' AS code", i.code));
            k += 1;
        }
    }
    if keys.is_empty() {
        return None;
    }
    Some(format!(
        "{insert}SELECT r.holder, r.year, r.indicator, r.numerator, r.denominator FROM (\
         SELECT a.holder AS holder, x.year AS year, x.code AS indicator, \
         CASE x.k {} END AS numerator, CASE x.k {} END AS denominator FROM (\
         SELECT {holder} AS holder, {} FROM person p \
         LEFT JOIN organisation o ON o.code = p.organisation_code {filter} \
         GROUP BY {holder}) a CROSS JOIN ({}) x) r \
         WHERE r.numerator > 0 OR r.denominator > 0",
        pick_n.join(" "),
        pick_d.join(" "),
        sums.join(", "),
        keys.join(" UNION ALL ")
    ))
}

/// The village rows of people and households; `village_filter` limits the villages (`IN (…)` of
/// unit codes).
fn village_statements(t: &Targets, village_filter: Option<&str>) -> Vec<String> {
    let where_people = village_filter.map(|f| format!("WHERE p.village_code IN ({f})")).unwrap_or_default();
    let mut out: Vec<String> = people_statement(t, INSERT, "p.village_code", &where_people).into_iter().collect();
    let where_households = village_filter.map(|f| format!("WHERE village_code IN ({f})")).unwrap_or_default();
    let learners_filter = village_filter.map(|f| format!("AND village_code IN ({f})")).unwrap_or_default();
    for i in t.indicators.iter().filter(|i| i.population == Population::Households) {
        let years =
            i.targets.iter().map(|(y, _)| format!("SELECT {y} AS year")).collect::<Vec<_>>().join(" UNION ALL ");
        // Households with a learner, from the people who learned (few, and none in a first load).
        out.push(format!(
            "{INSERT}SELECT h.village_code, y.year, '{}', coalesce(l.n, 0), h.d FROM (\
             SELECT village_code, count(*) AS d FROM household {where_households} GROUP BY village_code) h \
             LEFT JOIN (SELECT v.village_code, count(*) AS n FROM (SELECT DISTINCT village_code, commune_code, \
             household_code FROM person WHERE learned_at IS NOT NULL {learners_filter}) v GROUP BY v.village_code) l \
             ON l.village_code = h.village_code CROSS JOIN ({years}) y",
            i.code,
        ));
    }
    out
}

/// The province dashboard's numbers for `year` straight from the person rows, without the
/// counters: one row per commune, `commune_code` then `n{k}`, `d{k}` for the k-th person indicator
/// with a target in `year` (in the order of `targets.toml`), under the same rules as the rebuild.
/// Only the baseline of `benches/dashboard.rs`: the application reads the counters.
pub fn people_by_commune_sql(year: i32) -> String {
    let sums: Vec<String> = targets()
        .indicators
        .iter()
        .filter(|i| i.population != Population::Households && i.target(year).is_some())
        .enumerate()
        .flat_map(|(k, i)| {
            let pop = population_sql(i, year);
            [
                format!("sum(CASE WHEN {pop} AND {} THEN 1 ELSE 0 END) AS n{k}", numerator_sql(i)),
                format!("sum(CASE WHEN {pop} THEN 1 ELSE 0 END) AS d{k}"),
            ]
        })
        .collect();
    format!(
        "SELECT p.commune_code, {} FROM person p LEFT JOIN organisation o ON o.code = p.organisation_code \
         GROUP BY p.commune_code",
        sums.join(", ")
    )
}

fn communes_from_villages(commune_filter: &str) -> String {
    format!(
        "{INSERT}SELECT u.parent_code, c.year, c.indicator, sum(c.numerator), sum(c.denominator) \
         FROM indicator_count c JOIN unit u ON u.code = c.unit_code \
         WHERE u.level = 'thon' {commune_filter} GROUP BY u.parent_code, c.year, c.indicator"
    )
}

fn province_statements() -> Vec<String> {
    vec![
        format!("DELETE FROM indicator_count WHERE unit_code = '{PROVINCE_CODE}'"),
        format!(
            "{INSERT}SELECT '{PROVINCE_CODE}', c.year, c.indicator, sum(c.numerator), sum(c.denominator) \
             FROM indicator_count c JOIN unit u ON u.code = c.unit_code \
             WHERE u.level = 'xa' GROUP BY c.year, c.indicator"
        ),
    ]
}

/// Statements recounting one commune and its villages: each takes the commune's code as `$1`.
/// Follow them with [`PROVINCE`] once.
pub static COMMUNE: LazyLock<Vec<String>> = LazyLock::new(|| {
    let villages = "SELECT code FROM unit WHERE parent_code = $1 AND level = 'thon'";
    let mut out = vec![
        "DELETE FROM indicator_count WHERE unit_code = $1 \
         OR unit_code IN (SELECT code FROM unit WHERE parent_code = $1 AND level = 'thon')"
            .to_owned(),
    ];
    out.extend(village_statements(targets(), Some(villages)));
    out.push(communes_from_villages("AND u.parent_code = $1"));
    out
});

/// Statements recounting the province from its communes' rows (no parameters).
pub static PROVINCE: LazyLock<Vec<String>> = LazyLock::new(province_statements);

/// Statements recounting every organisation from its people (no parameters). An import runs them
/// whole: a person it moves to another organisation leaves one that may lie in any commune.
pub static ORGANISATIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut out = vec!["DELETE FROM organisation_indicator_count".to_owned()];
    out.extend(people_statement(
        targets(),
        INSERT_ORGANISATION,
        "p.organisation_code",
        "WHERE p.organisation_code IS NOT NULL",
    ));
    out
});

/// Statements recounting everything (no parameters).
pub static ALL: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut out = vec!["DELETE FROM indicator_count".to_owned()];
    out.extend(village_statements(targets(), None));
    out.push(communes_from_villages(""));
    out.extend(province_statements());
    out.extend(ORGANISATIONS.iter().cloned());
    out
});

/// Recomputes every counter from the person and household rows, in one transaction. Returns the
/// counter rows written.
pub async fn all(store: &Store) -> anyhow::Result<u64> {
    on_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await?;
        for (n, statement) in ALL.iter().enumerate() {
            let started = std::time::Instant::now();
            sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *tx).await?;
            tracing::debug!(statement = n, elapsed = ?started.elapsed(), "rebuild step");
        }
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM indicator_count").fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(u64::try_from(rows).unwrap_or_default())
    })
}

/// Recounts these communes, their villages and the province, in the caller's transaction (a
/// roster import, whose changes are too many to follow one by one).
pub async fn communes_in_tx(conn: &mut super::Conn<'_>, communes: &[String]) -> sqlx::Result<()> {
    for commune in communes {
        for statement in COMMUNE.iter() {
            crate::on_conn!(conn, c => {
                sqlx::query(sqlx::AssertSqlSafe(statement.clone())).bind(commune).execute(c).await?;
            });
        }
    }
    for statement in PROVINCE.iter().chain(ORGANISATIONS.iter()) {
        crate::on_conn!(conn, c => {
            sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(c).await?;
        });
    }
    Ok(())
}

/// Everything recounted in the caller's transaction: a first load into an empty registry, where
/// one pass over every person costs less than one per commune.
pub async fn all_in_tx(conn: &mut super::Conn<'_>) -> sqlx::Result<()> {
    for statement in ALL.iter() {
        crate::on_conn!(conn, c => {
            sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(c).await?;
        });
    }
    Ok(())
}

/// [`all_in_tx`] with rusqlite.
pub fn all_rusqlite(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    for statement in ALL.iter() {
        tx.execute(statement, [])?;
    }
    Ok(())
}

/// The same with rusqlite, for the SQLite import's own connection.
pub fn communes_rusqlite(tx: &rusqlite::Transaction, communes: &[String]) -> rusqlite::Result<()> {
    for commune in communes {
        for statement in COMMUNE.iter() {
            // A statement that names `$1` once or more: rusqlite binds it by its position.
            if statement.contains("$1") {
                tx.execute(statement, [commune])?;
            } else {
                tx.execute(statement, [])?;
            }
        }
    }
    for statement in PROVINCE.iter().chain(ORGANISATIONS.iter()) {
        tx.execute(statement, [])?;
    }
    Ok(())
}

/// Every counter row, zeros left out, in key order: to compare the kept counters with a rebuild.
/// Organisations' rows come after the units', their codes prefixed with `organisation:`.
pub async fn snapshot(store: &Store) -> sqlx::Result<Vec<(String, i64, String, i64, i64)>> {
    on_pool!(store, pool => sqlx::query_as(
        "SELECT unit_code, CAST(year AS BIGINT), indicator, CAST(numerator AS BIGINT), CAST(denominator AS BIGINT) \
         FROM indicator_count WHERE numerator <> 0 OR denominator <> 0 \
         UNION ALL SELECT 'organisation:' || organisation_code, CAST(year AS BIGINT), indicator, \
         CAST(numerator AS BIGINT), CAST(denominator AS BIGINT) \
         FROM organisation_indicator_count WHERE numerator <> 0 OR denominator <> 0 ORDER BY 1, 2, 3")
        .fetch_all(pool).await)
}
