//! The PostgreSQL writer of a people import: each chunk goes in as one statement over arrays
//! (`UNNEST`), all chunks in one transaction.

use std::collections::BTreeSet;

use anyhow::Context;
use sqlx::PgPool;
use tokio::sync::mpsc::Receiver;

use super::people::Batch;
use super::progress::Progress;
use super::{Verdict, Written, sql};
use crate::domain::text::match_key;
use crate::store::units::{RECOUNT_PARENT, RECOUNT_VILLAGES};

pub async fn write_people(
    pool: &PgPool,
    mut batches: Receiver<Batch>,
    verdict: &Verdict,
    mut progress: Progress,
) -> anyhow::Result<Written> {
    let mut tx = pool.begin().await?;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM person").fetch_one(&mut *tx).await?;
    let history_mark: i64 =
        sqlx::query_scalar("SELECT coalesce(max(id), 0)::bigint FROM person_history").fetch_one(&mut *tx).await?;
    let person_sql = format!(
        "INSERT INTO person ({}) SELECT * FROM UNNEST($1::bytea[], $2::bytea[], $3::text[], $4::date[], \
         $5::int4[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int8[], \
         $13::text[], $14::text[]){}",
        sql::PERSON_COLUMNS,
        sql::PERSON_ON_CONFLICT.replace("{NOW}", "now()")
    );
    let mut touched = BTreeSet::new();
    let mut affected = 0u64;
    let mut rows = 0u64;
    while let Some(batch) = batches.recv().await {
        if !verdict.keep_writing() {
            continue;
        }
        for v in &batch.villages {
            sqlx::query(sql::INSERT_VILLAGE)
                .bind(&v.code)
                .bind(&v.name)
                .bind(match_key(&v.name))
                .bind(v.kind.code())
                .bind(v.commune_code)
                .execute(&mut *tx)
                .await?;
        }
        if !batch.households.is_empty() {
            let (communes, (codes, villages)): (Vec<&str>, (Vec<&str>, Vec<&str>)) =
                batch.households.iter().map(|h| (h.commune_code, (h.code.as_str(), h.village_code.as_str()))).unzip();
            sqlx::query(
                "INSERT INTO household (commune_code, code, village_code) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[]) \
                 ON CONFLICT (commune_code, code) DO UPDATE SET village_code = excluded.village_code \
                 WHERE household.village_code <> excluded.village_code",
            )
            .bind(communes)
            .bind(codes)
            .bind(villages)
            .execute(&mut *tx)
            .await
            .context("writing households")?;
        }
        let people = &batch.people;
        for p in people {
            touched.insert(p.commune_code);
        }
        let result = sqlx::query(sqlx::AssertSqlSafe(person_sql.as_str()))
            .bind(people.iter().map(|p| p.cccd_hash.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.cccd_enc.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.full_name.as_str()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.birth_date).collect::<Vec<_>>())
            .bind(people.iter().map(|p| chrono::Datelike::year(&p.birth_date)).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.sex.code()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.ethnicity.as_deref()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.phone.as_deref()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.commune_code).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.village_code.as_str()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.household_code.as_str()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.groups.bits()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.school_level.map(|l| l.code())).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.organisation_code.as_deref()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .context("writing people")?;
        affected += result.rows_affected();
        rows += people.len() as u64;
        progress.written(rows);
    }
    if !verdict.keep_writing() {
        tx.rollback().await?;
        progress.finish("không ghi gì / nothing was written");
        return Ok(Written::default());
    }
    let mut touched: BTreeSet<String> = touched.into_iter().map(str::to_owned).collect();
    let moved: Vec<String> = sqlx::query_scalar(sql::MOVED_FROM_SINCE).bind(history_mark).fetch_all(&mut *tx).await?;
    touched.extend(moved);
    for commune in &touched {
        sqlx::query(RECOUNT_VILLAGES).bind(commune).execute(&mut *tx).await?;
        sqlx::query(RECOUNT_PARENT).bind(commune).execute(&mut *tx).await?;
    }
    sqlx::query(RECOUNT_PARENT).bind(crate::domain::unit::PROVINCE_CODE).execute(&mut *tx).await?;
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM person").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    progress.finish(&format!("đã lưu {rows} dòng / committed {rows} rows"));
    Ok(Written { inserted: u64::try_from(after - before).unwrap_or_default(), affected, committed: true })
}
