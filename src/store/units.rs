//! Units of the administrative tree and their counters.

use serde::Serialize;

use crate::domain::text::match_key;
use crate::domain::unit::{COMMUNES, PROVINCE_CODE, PROVINCE_NAME, UnitLevel};
use crate::on_pool;
use crate::store::Store;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub kind: String,
    pub parent_code: Option<String>,
    pub people_count: i64,
    pub household_count: i64,
}

impl UnitRow {
    pub fn level(&self) -> UnitLevel {
        UnitLevel::parse_code(&self.level).unwrap_or(UnitLevel::Thon)
    }
}

macro_rules! unit_select {
    ($rest:literal) => {
        concat!("SELECT code, name, level, kind, parent_code, people_count, household_count FROM unit ", $rest)
    };
}

pub const INSERT_UNIT: &str = "INSERT INTO unit (code, name, name_key, level, kind, parent_code) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, kind = excluded.kind";

/// Recounts the people and households of one commune's villages, then the commune, then the province.
/// Run in the same transaction as the writes that changed them.
pub const RECOUNT_VILLAGES: &str = "UPDATE unit SET \
     people_count = (SELECT count(*) FROM person p WHERE p.village_code = unit.code), \
     household_count = (SELECT count(*) FROM household h WHERE h.village_code = unit.code) \
     WHERE parent_code = $1 AND level = 'thon'";
pub const RECOUNT_PARENT: &str = "UPDATE unit SET \
     people_count = (SELECT coalesce(sum(c.people_count), 0) FROM unit c WHERE c.parent_code = unit.code), \
     household_count = (SELECT coalesce(sum(c.household_count), 0) FROM unit c WHERE c.parent_code = unit.code) \
     WHERE code = $1";

pub async fn load_builtin_tree(store: &Store) -> anyhow::Result<()> {
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(INSERT_UNIT)
            .bind(PROVINCE_CODE)
            .bind(PROVINCE_NAME)
            .bind(match_key(PROVINCE_NAME))
            .bind("tinh")
            .bind("tinh")
            .bind(None::<String>)
            .execute(&mut *tx)
            .await?;
        for commune in COMMUNES.iter() {
            sqlx::query(INSERT_UNIT)
                .bind(&commune.code)
                .bind(&commune.name)
                .bind(match_key(&commune.name))
                .bind("xa")
                .bind(if commune.is_ward() { "phuong" } else { "xa" })
                .bind(PROVINCE_CODE)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn get(store: &Store, code: &str) -> sqlx::Result<Option<UnitRow>> {
    on_pool!(store, pool => sqlx::query_as::<_, UnitRow>(unit_select!("WHERE code = $1")).bind(code).fetch_optional(pool).await)
}

pub async fn children(store: &Store, code: &str) -> sqlx::Result<Vec<UnitRow>> {
    on_pool!(store, pool => sqlx::query_as::<_, UnitRow>(unit_select!(
        "WHERE parent_code = $1 ORDER BY CASE WHEN level = 'thon' THEN code ELSE name END, code"
    )).bind(code).fetch_all(pool).await)
}

/// The province's communes ordered by name, for listings (villages come in the order of their codes).
pub async fn communes(store: &Store) -> sqlx::Result<Vec<UnitRow>> {
    children(store, PROVINCE_CODE).await
}

pub async fn count_people(store: &Store) -> sqlx::Result<i64> {
    on_pool!(store, pool => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM person").fetch_one(pool).await)
}
