//! Keeping the per-unit counters current: the difference a change of some people's facts makes,
//! added to their villages, communes and the province in the caller's transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::facts::{Conn, CountRow, Ledger, Located};
use crate::domain::indicators::{Numerator, PersonFacts, Population, contributions, household_counts, targets};
use crate::domain::unit::PROVINCE_CODE;
use crate::on_conn;

/// The facts of some people before a change, to be settled after it.
#[must_use = "settle the snapshot after the change, in the same transaction"]
pub struct Before {
    ids: Vec<i64>,
    people: HashMap<i64, Located>,
}

/// Reads the facts of `ids` before the caller changes them.
pub async fn before(conn: &mut impl Ledger, ids: &[i64]) -> sqlx::Result<Before> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let people = if ids.is_empty() { HashMap::new() } else { conn.facts(&ids).await? };
    Ok(Before { ids, people })
}

/// Where a counter belongs: a unit of the tree, or an organisation (its people, wherever they live).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Holder {
    Unit(String),
    Organisation(String),
}

/// (holder, year, indicator) → (numerator, denominator) changes.
type Deltas = BTreeMap<(Holder, i64, &'static str), (i64, i64)>;

fn add(deltas: &mut Deltas, at: &Located, year: i64, code: &'static str, n: i64, d: i64) {
    let units = [Some(at.village.as_str()), at.commune.as_deref(), Some(PROVINCE_CODE)];
    let holders = units
        .into_iter()
        .flatten()
        .map(|u| Holder::Unit(u.to_owned()))
        .chain(at.organisation.iter().map(|o| Holder::Organisation(o.clone())));
    for holder in holders {
        let e = deltas.entry((holder, year, code)).or_default();
        e.0 += n;
        e.1 += d;
    }
}

fn person_deltas(deltas: &mut Deltas, at: &Located, sign: i64) {
    let t = targets();
    for year in t.years() {
        for c in contributions(t, &at.facts, year) {
            let code = t.indicators[c.indicator].code.as_str();
            // `targets()` is static, so its codes live for the program.
            add(deltas, at, i64::from(year), code, sign * i64::from(c.numerator), sign);
        }
    }
}

/// Reads the facts again and moves the counters by the difference. Households whose count of
/// learners went from 0 to 1 or back move the household indicator's numerator.
pub async fn settle(conn: &mut impl Ledger, before: Before) -> sqlx::Result<()> {
    if before.ids.is_empty() {
        return Ok(());
    }
    let after = conn.facts(&before.ids).await?;
    settle_to(conn, before, after).await
}

/// [`settle`] for a change whose effect on the facts the caller knows (`apply` makes it on a copy of
/// each person's facts before it): no second read. The certificate issue's batches, whose only
/// change is a profile bit or two per holder.
pub async fn settle_applied(
    conn: &mut impl Ledger,
    before: Before,
    apply: impl Fn(i64, &mut PersonFacts),
) -> sqlx::Result<()> {
    let after = before
        .people
        .iter()
        .map(|(id, l)| {
            let mut l = l.clone();
            apply(*id, &mut l.facts);
            (*id, l)
        })
        .collect();
    settle_to(conn, before, after).await
}

async fn settle_to(conn: &mut impl Ledger, before: Before, after: HashMap<i64, Located>) -> sqlx::Result<()> {
    let mut deltas = Deltas::new();
    let mut households: BTreeSet<(String, (String, String))> = BTreeSet::new();
    for id in &before.ids {
        let (old, new) = (before.people.get(id), after.get(id));
        if old == new {
            continue;
        }
        if let Some(old) = old {
            person_deltas(&mut deltas, old, -1);
        }
        if let Some(new) = new {
            person_deltas(&mut deltas, new, 1);
        }
        fn learned(l: Option<&Located>) -> Option<(bool, &(String, String), &String)> {
            l.map(|l| (l.facts.learned, &l.household, &l.village))
        }
        if learned(old) != learned(new) {
            households.extend(old.map(|l| (l.village.clone(), l.household.clone())));
            households.extend(new.map(|l| (l.village.clone(), l.household.clone())));
        }
    }
    let t = targets();
    let household_indicators: Vec<&'static str> = t
        .indicators
        .iter()
        .filter(|i| i.population == Population::Households && i.numerator == Numerator::HouseholdWithLearner)
        .map(|i| i.code.as_str())
        .collect();
    if !household_indicators.is_empty() {
        for (village, household) in households {
            let now = conn.learners(&village, &household).await?;
            let counted = |people: &HashMap<i64, Located>| {
                people.values().filter(|l| l.facts.learned && l.household == household && l.village == village).count()
                    as i64
            };
            let then = now - counted(&after) + counted(&before.people);
            let change = household_counts(now).1 - household_counts(then).1;
            if change == 0 {
                continue;
            }
            let commune = before
                .people
                .values()
                .chain(after.values())
                .find(|l| l.village == village)
                .and_then(|l| l.commune.clone());
            // Households count for the tree only: an organisation has no households.
            let at = Located {
                facts: Default::default(),
                village: village.clone(),
                commune,
                household: household.clone(),
                organisation: None,
            };
            for year in t.years() {
                for code in &household_indicators {
                    if t.indicator(code).and_then(|i| i.target(year)).is_some() {
                        add(&mut deltas, &at, i64::from(year), code, change, 0);
                    }
                }
            }
        }
    }
    write(conn, deltas).await
}

const UPSERT_UNIT: &str = "INSERT INTO indicator_count (unit_code, year, indicator, numerator, denominator) ";
const ON_CONFLICT_UNIT: &str = " ON CONFLICT (unit_code, year, indicator) DO UPDATE SET \
     numerator = indicator_count.numerator + excluded.numerator, \
     denominator = indicator_count.denominator + excluded.denominator";
const UPSERT_ORGANISATION: &str =
    "INSERT INTO organisation_indicator_count (organisation_code, year, indicator, numerator, denominator) ";
const ON_CONFLICT_ORGANISATION: &str = " ON CONFLICT (organisation_code, year, indicator) DO UPDATE SET \
     numerator = organisation_indicator_count.numerator + excluded.numerator, \
     denominator = organisation_indicator_count.denominator + excluded.denominator";

/// Keys are distinct, so PostgreSQL's upsert touches each row once; in key order, so two writers lock
/// rows in the same order.
async fn write(conn: &mut impl Ledger, deltas: Deltas) -> sqlx::Result<()> {
    let (mut units, mut organisations): (Vec<CountRow>, Vec<CountRow>) = (Vec::new(), Vec::new());
    for ((holder, year, code), (n, d)) in deltas {
        if n == 0 && d == 0 {
            continue;
        }
        match holder {
            Holder::Unit(u) => units.push((u, year, code, n, d)),
            Holder::Organisation(o) => organisations.push((o, year, code, n, d)),
        }
    }
    if !units.is_empty() {
        conn.add(&units, UPSERT_UNIT, ON_CONFLICT_UNIT).await?;
    }
    if !organisations.is_empty() {
        conn.add(&organisations, UPSERT_ORGANISATION, ON_CONFLICT_ORGANISATION).await?;
    }
    Ok(())
}

/// Runs `change` (statements on the same connection) between reading and settling `ids`' facts.
/// For changes that are a single statement, see [`set_learned`], [`recompute_certified`] …
pub async fn change(conn: &mut Conn<'_>, ids: &[i64], statement: &str, binds: &[Bind<'_>]) -> sqlx::Result<u64> {
    let snapshot = before(conn, ids).await?;
    let n = on_conn!(conn, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()));
        for b in binds {
            q = match b {
                Bind::Int(v) => q.bind(*v),
                Bind::OptInt(v) => q.bind(*v),
                Bind::Text(v) => q.bind(*v),
            };
        }
        q.execute(c).await?.rows_affected()
    });
    settle(conn, snapshot).await?;
    Ok(n)
}

/// A value bound to a [`change`]'s statement.
pub enum Bind<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
}

/// Recomputes `certified_groups` of these people from their certificates not revoked (after a
/// revocation, or a certificate issued), and moves the counters.
pub async fn recompute_certified(conn: &mut Conn<'_>, ids: &[i64]) -> sqlx::Result<()> {
    let snapshot = before(conn, ids).await?;
    for id in &snapshot.ids {
        on_conn!(conn, c => {
            sqlx::query(RECOMPUTE_CERTIFIED).bind(*id).execute(c).await?;
        });
    }
    settle(conn, snapshot).await
}

/// Target-group bits summed once each: the sum of distinct powers of two is their union, in SQL
/// both dialects speak (SQLite has no `bit_or`).
pub const RECOMPUTE_CERTIFIED: &str = "UPDATE person SET certified_groups = coalesce((\
     SELECT sum(DISTINCT CASE c.target_group WHEN 'nguoi_dan' THEN 1 WHEN 'can_bo' THEN 2 \
     WHEN 'hoc_sinh_sinh_vien' THEN 4 WHEN 'nguoi_lao_dong' THEN 8 ELSE 0 END) \
     FROM certificate c WHERE c.person_id = person.id AND c.revoked_at IS NULL), 0) WHERE id = $1";
