//! Benchmark: the province dashboard's numbers (every indicator of the province and of its communes
//! for one year) read from the kept counters, next to the same numbers computed by `GROUP BY` over
//! the person rows in the same run, on the same store and pool. The two answers are compared first.
//!
//!   cargo bench --bench dashboard -- DATABASE_URL [COUNTER_RUNS] [GROUP_BY_RUNS] [YEAR]
//!   (default 200 counter reads, 5 GROUP BY runs, the last year of the plan)
//! `benches/dashboard.sh` prepares the database (roster import, `tracking rebuild`) and calls it.
//! Without arguments (as `cargo test --all-targets` builds it) it prints its usage and ends.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hocvuso::config::DatabaseUrl;
use hocvuso::domain::indicators::{Population, targets};
use hocvuso::domain::unit::PROVINCE_CODE;
use hocvuso::store::Store;
use hocvuso::tracking::api::{self, Figure, UnitFigures};
use hocvuso::tracking::rebuild;
use sqlx::Row;

/// (numerator, denominator) by unit code, then indicator code.
type Numbers = HashMap<String, HashMap<String, (i64, i64)>>;

/// The dashboard's path: what `/quan-ly/chi-tieu/25` reads.
async fn from_counters(store: &Store, year: i32) -> (Vec<Figure>, Vec<UnitFigures>) {
    let province = api::figures(store, PROVINCE_CODE, year).await.unwrap();
    let communes = api::children_figures(store, PROVINCE_CODE, year).await.unwrap();
    (province, communes)
}

/// The same numbers from the raw rows: people grouped by commune under the rebuild's rules,
/// households likewise, the province as the sum of its communes.
async fn from_people(store: &Store, year: i32) -> Numbers {
    let people: Vec<String> = targets()
        .indicators
        .iter()
        .filter(|i| i.population != Population::Households && i.target(year).is_some())
        .map(|i| i.code.clone())
        .collect();
    let households: Vec<String> = targets()
        .indicators
        .iter()
        .filter(|i| i.population == Population::Households && i.target(year).is_some())
        .map(|i| i.code.clone())
        .collect();
    let mut out: Numbers = HashMap::new();
    hocvuso::on_pool!(store, pool => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(rebuild::people_by_commune_sql(year))).fetch_all(pool).await.unwrap();
        for row in rows {
            let commune: String = row.get(0);
            let unit = out.entry(commune).or_default();
            for (k, code) in people.iter().enumerate() {
                let n: Option<i64> = row.get(1 + 2 * k);
                let d: Option<i64> = row.get(2 + 2 * k);
                unit.insert(code.clone(), (n.unwrap_or(0), d.unwrap_or(0)));
            }
        }
        if !households.is_empty() {
            let rows: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT h.commune_code, CAST(coalesce(l.n, 0) AS BIGINT), CAST(h.d AS BIGINT) FROM \
                 (SELECT commune_code, count(*) AS d FROM household GROUP BY commune_code) h LEFT JOIN \
                 (SELECT commune_code, count(*) AS n FROM (SELECT DISTINCT commune_code, household_code FROM person \
                 WHERE learned_at IS NOT NULL) v GROUP BY commune_code) l ON l.commune_code = h.commune_code",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for (commune, n, d) in rows {
                let unit = out.entry(commune).or_default();
                for code in &households {
                    unit.insert(code.clone(), (n, d));
                }
            }
        }
    });
    let mut province: HashMap<String, (i64, i64)> = HashMap::new();
    for unit in out.values() {
        for (code, (n, d)) in unit {
            let sum = province.entry(code.clone()).or_default();
            sum.0 += n;
            sum.1 += d;
        }
    }
    out.insert(PROVINCE_CODE.to_owned(), province);
    out
}

fn numbers_of(province: &[Figure], communes: &[UnitFigures]) -> Numbers {
    let mut out: Numbers = HashMap::new();
    let mut put = |unit: &str, figures: &[Figure]| {
        let nonzero = figures.iter().filter(|f| f.numerator != 0 || f.denominator != 0);
        out.insert(unit.to_owned(), nonzero.map(|f| (f.code.clone(), (f.numerator, f.denominator))).collect());
    };
    put(PROVINCE_CODE, province);
    for c in communes {
        put(&c.code, &c.figures);
    }
    out
}

fn without_zeros(mut n: Numbers) -> Numbers {
    for unit in n.values_mut() {
        unit.retain(|_, (num, den)| *num != 0 || *den != 0);
    }
    n.retain(|_, unit| !unit.is_empty());
    n
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let Some(url) = args.first() else {
        eprintln!("usage: cargo bench --bench dashboard -- DATABASE_URL [COUNTER_RUNS] [GROUP_BY_RUNS] [YEAR]");
        return;
    };
    let counter_runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200).max(1);
    let group_by_runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    let year: i32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or_else(|| *api::years().last().unwrap());
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let people = hocvuso::store::units::count_people(&store).await.unwrap();

    // The two paths must give the same numbers before their times mean anything.
    let (province, communes) = from_counters(&store, year).await;
    let counted = without_zeros(numbers_of(&province, &communes));
    let grouped = without_zeros(from_people(&store, year).await);
    assert_eq!(counted, grouped, "the counters and the GROUP BY disagree");
    let cells: usize = province.len() + communes.iter().map(|c| c.figures.len()).sum::<usize>();
    println!(
        "year {year}: {people} people; the province and {} communes, {cells} figures; counters = GROUP BY: yes",
        communes.len()
    );

    for _ in 0..10 {
        std::hint::black_box(from_counters(&store, year).await);
    }
    let mut counters = Vec::with_capacity(counter_runs);
    for _ in 0..counter_runs {
        let t = Instant::now();
        std::hint::black_box(from_counters(&store, year).await);
        counters.push(t.elapsed());
    }
    let mut grouping = Vec::with_capacity(group_by_runs);
    for _ in 0..group_by_runs {
        let t = Instant::now();
        std::hint::black_box(from_people(&store, year).await);
        grouping.push(t.elapsed());
    }
    counters.sort();
    grouping.sort();
    let (c50, c95) = (percentile(&counters, 0.5), percentile(&counters, 0.95));
    let (g50, g95) = (percentile(&grouping, 0.5), percentile(&grouping, 0.95));
    println!(
        "dashboard numbers from the counters: p50 {:>9.2} ms, p95 {:>9.2} ms ({counter_runs} runs)",
        ms(c50),
        ms(c95)
    );
    println!(
        "the same by GROUP BY over person:    p50 {:>9.2} ms, p95 {:>9.2} ms ({group_by_runs} runs, baseline)",
        ms(g50),
        ms(g95)
    );
    println!("ratio (p50): counters {:.0}x faster", g50.as_secs_f64() / c50.as_secs_f64());
    store.close().await;
}
