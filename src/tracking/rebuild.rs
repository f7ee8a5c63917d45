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

fn years_list(years: impl IntoIterator<Item = i32>) -> String {
    years.into_iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", ")
}

fn population_sql(i: &Indicator) -> String {
    let years = years_list(i.targets.iter().map(|(y, _)| *y));
    let who = match i.population {
        Population::PublicSector => format!("(p.target_groups & {}) <> 0", bit(TargetGroup::Official)),
        Population::Students => {
            let per_year: Vec<String> = i
                .targets
                .iter()
                .map(|(y, _)| {
                    let levels: Vec<String> =
                        i.school_levels_in(*y).iter().map(|l| format!("'{}'", l.code())).collect();
                    let levels = if levels.is_empty() { "NULL".to_owned() } else { levels.join(", ") };
                    format!("(y.year = {y} AND p.school_level IN ({levels}))")
                })
                .collect();
            format!("(p.target_groups & {}) <> 0 AND ({})", bit(TargetGroup::Student), per_year.join(" OR "))
        }
        Population::Adults => "y.year - p.birth_year >= 18".to_owned(),
        Population::Citizens16Plus => "y.year - p.birth_year >= 16".to_owned(),
        Population::EnterpriseWorkers => format!(
            "(p.target_groups & {}) <> 0 AND o.kind IN ({})",
            bit(TargetGroup::Worker),
            ENTERPRISE_KINDS.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ")
        ),
        Population::Households => "1 = 0".to_owned(),
    };
    format!("y.year IN ({years}) AND {who}")
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

/// The village rows of people and households; `filter` limits the villages (`IN (…)` of unit codes).
fn village_statements(t: &Targets, village_filter: Option<&str>) -> Vec<String> {
    let years = format!(
        "(SELECT {})",
        t.years().iter().map(|y| format!("{y} AS year")).collect::<Vec<_>>().join(" UNION ALL SELECT ")
    );
    let people: Vec<(usize, &Indicator)> =
        t.indicators.iter().enumerate().filter(|(_, i)| i.population != Population::Households).collect();
    let mut sums = Vec::new();
    let mut pick_n = Vec::new();
    let mut pick_d = Vec::new();
    let mut codes = Vec::new();
    for (n, i) in &people {
        let pop = population_sql(i);
        sums.push(format!("sum(CASE WHEN {pop} THEN 1 ELSE 0 END) AS d{n}"));
        sums.push(format!("sum(CASE WHEN {pop} AND {} THEN 1 ELSE 0 END) AS n{n}", numerator_sql(i)));
        pick_n.push(format!("WHEN '{}' THEN a.n{n}", i.code));
        pick_d.push(format!("WHEN '{}' THEN a.d{n}", i.code));
        codes.push(format!("SELECT '{}' AS code", i.code));
    }
    let where_people = village_filter.map(|f| format!("WHERE p.village_code IN ({f})")).unwrap_or_default();
    let mut out = Vec::new();
    if !people.is_empty() {
        out.push(format!(
            "{INSERT}SELECT r.unit_code, r.year, r.indicator, r.numerator, r.denominator FROM (\
             SELECT a.village_code AS unit_code, a.year AS year, k.code AS indicator, \
             CASE k.code {} END AS numerator, CASE k.code {} END AS denominator FROM (\
             SELECT p.village_code, y.year, {} FROM person p CROSS JOIN {years} y \
             LEFT JOIN organisation o ON o.code = p.organisation_code {where_people} \
             GROUP BY p.village_code, y.year) a CROSS JOIN ({}) k) r \
             WHERE r.numerator > 0 OR r.denominator > 0",
            pick_n.join(" "),
            pick_d.join(" "),
            sums.join(", "),
            codes.join(" UNION ALL ")
        ));
    }
    let where_households = village_filter.map(|f| format!("WHERE h.village_code IN ({f})")).unwrap_or_default();
    for i in t.indicators.iter().filter(|i| i.population == Population::Households) {
        let years = years_list(i.targets.iter().map(|(y, _)| *y));
        out.push(format!(
            "{INSERT}SELECT h.village_code, y.year, '{}', sum(h.reached), count(*) FROM (\
             SELECT h.village_code, CASE WHEN EXISTS (SELECT 1 FROM person p WHERE p.village_code = h.village_code \
             AND p.household_code = h.code AND p.commune_code = h.commune_code AND p.learned_at IS NOT NULL) \
             THEN 1 ELSE 0 END AS reached FROM household h {where_households}) h \
             CROSS JOIN (SELECT year FROM {years_all} yy WHERE yy.year IN ({years})) y \
             GROUP BY h.village_code, y.year",
            i.code,
            years_all = format_args!(
                "(SELECT {}) ",
                t.years().iter().map(|y| format!("{y} AS year")).collect::<Vec<_>>().join(" UNION ALL SELECT ")
            ),
        ));
    }
    out
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

/// Statements recounting everything (no parameters).
pub static ALL: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut out = vec!["DELETE FROM indicator_count".to_owned()];
    out.extend(village_statements(targets(), None));
    out.push(communes_from_villages(""));
    out.extend(province_statements());
    out
});

/// Recomputes every counter from the person and household rows, in one transaction. Returns the
/// counter rows written.
pub async fn all(store: &Store) -> anyhow::Result<u64> {
    on_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await?;
        for statement in ALL.iter() {
            sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *tx).await?;
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
    for statement in PROVINCE.iter() {
        crate::on_conn!(conn, c => {
            sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(c).await?;
        });
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
    for statement in PROVINCE.iter() {
        tx.execute(statement, [])?;
    }
    Ok(())
}

/// Every counter row, zeros left out, in key order: to compare the kept counters with a rebuild.
pub async fn snapshot(store: &Store) -> sqlx::Result<Vec<(String, i64, String, i64, i64)>> {
    on_pool!(store, pool => sqlx::query_as(
        "SELECT unit_code, CAST(year AS BIGINT), indicator, CAST(numerator AS BIGINT), CAST(denominator AS BIGINT) \
         FROM indicator_count WHERE numerator <> 0 OR denominator <> 0 ORDER BY unit_code, year, indicator")
        .fetch_all(pool).await)
}
