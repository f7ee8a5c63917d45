//! The PostgreSQL writer of a people import, all chunks in one transaction. Into an empty
//! registry (a bulk load) the people go in with `COPY`, the person table's secondary indexes and
//! foreign keys set aside and built or checked once at the end, in the same transaction; otherwise
//! each chunk is one upsert over arrays (`UNNEST`).

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
         $13::text[], $14::text[], $15::text[]){}",
        sql::PERSON_COLUMNS,
        sql::PERSON_ON_CONFLICT.replace("{NOW}", "now()")
    );
    // A load into an empty registry goes in with COPY. When no other client is connected and
    // this role owns the tables, it also sets the person table's indexes and foreign keys and the
    // household table's foreign keys aside; that DDL locks those tables and the ones they refer
    // to until the commit, so with a server connected they stay in place (slower, blocks no one).
    let bulk = before == 0 && lock_if_empty(&mut tx).await?;
    let mut set_aside = Vec::new();
    let mut new_households = false;
    if bulk {
        new_households = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM household)").fetch_one(&mut *tx).await?;
        if alone_and_owner(&mut tx).await? {
            set_aside.push(SetAside::take(&mut tx, "person", true).await?);
            set_aside.push(SetAside::take(&mut tx, "household", false).await?);
        } else {
            // Said to the operator: with no other client connected, the same load runs several times faster.
            tracing::warn!(
                "another client is connected (or this role does not own the tables): the person table's indexes \
                 and references stay in place during this first load, which makes it slower"
            );
        }
    }
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
        if new_households && !batch.households.is_empty() {
            // Into an empty table, and each household once per file (the cross-row checks): nothing to conflict with.
            let mut copy = tx.copy_in_raw("COPY household (commune_code, code, village_code) FROM STDIN").await?;
            let mut rows = Vec::with_capacity(batch.households.len() * 32);
            for h in &batch.households {
                text(&mut rows, Some(h.commune_code));
                rows.push(b'\t');
                text(&mut rows, Some(&h.code));
                rows.push(b'\t');
                text(&mut rows, Some(&h.village_code));
                rows.push(b'\n');
            }
            copy.send(rows).await.context("writing households")?;
            copy.finish().await.context("writing households")?;
        } else if !batch.households.is_empty() {
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
        if bulk {
            let mut copy = tx.copy_in_raw(&format!("COPY person ({}) FROM STDIN", sql::PERSON_COLUMNS)).await?;
            copy.send(copy_text(people)).await.context("writing people")?;
            affected += copy.finish().await.context("writing people")?;
            rows += people.len() as u64;
            progress.written(rows);
            continue;
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
            .bind(people.iter().map(|p| p.name_folded.as_str()).collect::<Vec<_>>())
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
    for table in set_aside {
        table.restore(&mut tx).await?;
    }
    let mut touched: BTreeSet<String> = touched.into_iter().map(str::to_owned).collect();
    let moved: Vec<String> = sqlx::query_scalar(sql::MOVED_FROM_SINCE).bind(history_mark).fetch_all(&mut *tx).await?;
    touched.extend(moved);
    for commune in &touched {
        sqlx::query(RECOUNT_VILLAGES).bind(commune).execute(&mut *tx).await?;
        sqlx::query(RECOUNT_PARENT).bind(commune).execute(&mut *tx).await?;
    }
    sqlx::query(RECOUNT_PARENT).bind(crate::domain::unit::PROVINCE_CODE).execute(&mut *tx).await?;
    // The indicators of the communes the import touched, recounted set-wise in its transaction.
    let mut conn: crate::tracking::Conn = (&mut *tx).into();
    if bulk {
        crate::tracking::rebuild::all_in_tx(&mut conn).await?;
    } else {
        let touched: Vec<String> = touched.into_iter().collect();
        crate::tracking::rebuild::communes_in_tx(&mut conn, &touched).await?;
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM person").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    // PostgreSQL plans from statistics that autovacuum refreshes only some time after a tenth of a
    // table changed: planned on the statistics of before the import, a commune's "who needs help"
    // export took 361 ms instead of 12 ms at 400,000 people (BENCHMARKS.md, peak day).
    // After the commit: the rows are written whatever happens here, so a failure is only logged.
    if affected > 0
        && let Err(e) = sqlx::raw_sql("ANALYZE person, household").execute(pool).await
    {
        tracing::warn!(error = %e, "the planner's statistics were not refreshed after the import");
    }
    progress.finish(&format!("đã lưu {rows} dòng / committed {rows} rows"));
    Ok(Written { inserted: u64::try_from(after - before).unwrap_or_default(), affected, committed: true })
}

/// Keeps other writers of `person` out until the commit (readers still read), then says whether
/// the table is still empty: another import may have committed since it was counted.
async fn lock_if_empty(tx: &mut sqlx::PgConnection) -> anyhow::Result<bool> {
    sqlx::raw_sql("LOCK TABLE person IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
    Ok(sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM person)").fetch_one(&mut *tx).await?)
}

/// No client backend other than this process's sessions is connected to the database, and this
/// role may alter the person and household tables.
async fn alone_and_owner(tx: &mut sqlx::PgConnection) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() \
             AND backend_type = 'client backend' AND application_name IS DISTINCT FROM $1) \
         AND (SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class \
             WHERE oid IN ('person'::regclass, 'household'::regclass))",
    )
    .bind(crate::store::application_name())
    .fetch_one(&mut *tx)
    .await?)
}

/// A table's foreign keys (and secondary indexes), dropped for a bulk load and put back before its
/// commit: one sort per index and one join per foreign key instead of a B-tree insert and a lookup
/// trigger per row. Being DDL inside the transaction, a failed or killed load puts them back too.
struct SetAside {
    table: &'static str,
    /// `CREATE INDEX` statements.
    indexes: Vec<String>,
    /// (name, definition) of each foreign key.
    foreign_keys: Vec<(String, String)>,
}

impl SetAside {
    async fn take(tx: &mut sqlx::PgConnection, table: &'static str, with_indexes: bool) -> anyhow::Result<Self> {
        let indexes: Vec<(String, String)> = if with_indexes {
            sqlx::query_as(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
                 WHERE i.indrelid = $1::regclass \
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?
        } else {
            Vec::new()
        };
        let foreign_keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = $1::regclass AND contype = 'f'",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        for (name, _) in &foreign_keys {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} DROP CONSTRAINT {}", quoted(name))))
                .execute(&mut *tx)
                .await?;
        }
        for (name, _) in &indexes {
            // Already a qualified, quoted name (`regclass` output).
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP INDEX {name}"))).execute(&mut *tx).await?;
        }
        Ok(Self { table, indexes: indexes.into_iter().map(|(_, def)| def).collect(), foreign_keys })
    }

    async fn restore(self, tx: &mut sqlx::PgConnection) -> anyhow::Result<()> {
        if self.indexes.is_empty() && self.foreign_keys.is_empty() {
            return Ok(());
        }
        // Index builds sort in memory rather than in temporary files.
        sqlx::raw_sql("SET LOCAL maintenance_work_mem = '512MB'").execute(&mut *tx).await?;
        for create in self.indexes {
            sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut *tx).await.context("rebuilding an index")?;
        }
        for (name, definition) in self.foreign_keys {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {definition}",
                self.table,
                quoted(&name)
            )))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("checking the references of {}", self.table))?;
        }
        Ok(())
    }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// People as `COPY … FROM STDIN` text: tab-separated, `\N` for NULL, in `sql::PERSON_COLUMNS` order.
fn copy_text(people: &[super::people::ValidPerson]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(people.len() * 256);
    for p in people {
        bytea(&mut out, &p.cccd_hash);
        out.push(b'\t');
        bytea(&mut out, &p.cccd_enc);
        out.push(b'\t');
        text(&mut out, Some(&p.full_name));
        let year = chrono::Datelike::year(&p.birth_date);
        let _ = write!(out, "\t{}\t{year}\t", p.birth_date);
        text(&mut out, Some(p.sex.code()));
        out.push(b'\t');
        text(&mut out, p.ethnicity.as_deref());
        out.push(b'\t');
        text(&mut out, p.phone.as_deref());
        out.push(b'\t');
        text(&mut out, Some(p.commune_code));
        out.push(b'\t');
        text(&mut out, Some(&p.village_code));
        out.push(b'\t');
        text(&mut out, Some(&p.household_code));
        let _ = write!(out, "\t{}\t", p.groups.bits());
        text(&mut out, p.school_level.map(|l| l.code()));
        out.push(b'\t');
        text(&mut out, p.organisation_code.as_deref());
        out.push(b'\t');
        text(&mut out, Some(&p.name_folded));
        out.push(b'\n');
    }
    out
}

/// A text field of COPY's text format: backslash, tab, newline and carriage return escaped.
fn text(out: &mut Vec<u8>, value: Option<&str>) {
    let Some(value) = value else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for byte in value.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

/// `bytea` in hex, its leading backslash escaped for COPY.
fn bytea(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(b"\\\\x");
    out.extend_from_slice(hex::encode(bytes).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_read_as_syntax() {
        let mut out = Vec::new();
        text(&mut out, Some("a\\b\tc\nd\re"));
        out.push(b' ');
        text(&mut out, None);
        out.push(b' ');
        bytea(&mut out, &[0x00, 0xab]);
        assert_eq!(out, b"a\\\\b\\tc\\nd\\re \\N \\\\x00ab");
    }
}
