//! `import organisations`: agencies, schools, enterprises and cooperatives (`ma_to_chuc,ten,loai,ma_xa`).

use std::collections::HashMap;

use anyhow::Context;

use super::report::BadCell;
use super::source::{Columns, Table};
use super::{Options, Outcome, bad_row_count};
use crate::domain::person::{FieldError, parse_code, parse_label};
use crate::domain::unit::{OrgKind, parse_commune_code};
use crate::on_pool;
use crate::store::Store;

pub const COLUMNS: Columns = Columns { required: &["ma_to_chuc", "ten", "loai", "ma_xa"], optional: &[] };

pub const UPSERT: &str = "INSERT INTO organisation (code, name, kind, commune_code) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, commune_code = excluded.commune_code \
     WHERE organisation.name <> excluded.name OR organisation.kind <> excluded.kind \
        OR organisation.commune_code <> excluded.commune_code";

pub async fn import(store: &Store, table: Table, options: &Options) -> anyhow::Result<Outcome> {
    let header = table.header;
    let mut bad = Vec::new();
    let mut rows = 0u64;
    let mut good: Vec<(u64, String, String, OrgKind, &'static str)> = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for row in table.rows {
        let row = row?;
        rows += 1;
        let cells = row.cells();
        let get = |c: &str| header.text(&cells, c);
        let code = parse_code(&get("ma_to_chuc"), "mã tổ chức", "organisation code").and_then(|code| match first_line
            .get(&code)
        {
            Some(first) => Err(FieldError::new(
                format!("mã tổ chức đã có ở dòng {first}"),
                format!("the organisation code is already on row {first}"),
            )),
            None => Ok(code),
        });
        let name = parse_label(&get("ten"), "tên tổ chức", "organisation name");
        let kind = OrgKind::parse(&get("loai"));
        let commune = parse_commune_code(&get("ma_xa"));
        for (column, error) in [
            ("ma_to_chuc", code.as_ref().err()),
            ("ten", name.as_ref().err()),
            ("loai", kind.as_ref().err()),
            ("ma_xa", commune.as_ref().err()),
        ] {
            if let Some(e) = error {
                bad.push(BadCell::new(row.line, column, &get(column), e));
            }
        }
        if let (Ok(code), Ok(name), Ok(kind), Ok(commune)) = (code, name, kind, commune) {
            first_line.insert(code.clone(), row.line);
            good.push((row.line, code, name, kind, commune.code.as_str()));
        }
    }
    let mut outcome = Outcome { rows, bad, ..Outcome::default() };
    if !outcome.bad.is_empty() && !options.skip_invalid {
        return Ok(outcome);
    }
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for (line, code, name, kind, commune) in &good {
            let result = sqlx::query(UPSERT)
                .bind(code)
                .bind(name)
                .bind(kind.code())
                .bind(*commune)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("row {line}"))?;
            outcome.changed += result.rows_affected();
        }
        tx.commit().await?;
    });
    outcome.committed = true;
    outcome.unchanged = rows - bad_row_count(&outcome.bad) - outcome.changed;
    Ok(outcome)
}
