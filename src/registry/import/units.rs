//! `import units`: the villages and residential groups of communes (`ma_xa,ma_thon,ten_thon,loai`).

use std::collections::HashMap;

use anyhow::Context;

use super::report::BadCell;
use super::source::{Columns, RawRow, Table};
use super::{Options, Outcome, bad_row_count};
use crate::domain::person::{FieldError, parse_label};
use crate::domain::text::match_key;
use crate::domain::unit::{VillageKind, parse_commune_code, parse_village_code, village_code};
use crate::on_pool;
use crate::store::Store;
use crate::store::units::INSERT_UNIT;

pub const COLUMNS: Columns = Columns { required: &["ma_xa", "ten_thon", "loai"], optional: &["ma_thon"] };

struct Village {
    line: u64,
    commune: &'static str,
    number: Option<u32>,
    name: String,
    kind: VillageKind,
}

fn check(table_header: &super::source::Header, row: &RawRow) -> Result<Village, Vec<BadCell>> {
    let cells = row.cells();
    let get = |c: &str| table_header.text(&cells, c);
    let mut bad = Vec::new();
    let commune = parse_commune_code(&get("ma_xa"));
    let name = parse_label(&get("ten_thon"), "tên thôn", "village name");
    let kind = VillageKind::parse(&get("loai"));
    let code = get("ma_thon");
    let number = if code.is_empty() {
        Ok(None)
    } else {
        parse_village_code(&code).and_then(|(c, n)| match &commune {
            Ok(given) if given.code != c.code => Err(FieldError::new(
                format!("mã thôn {code} không thuộc xã {}", given.code),
                format!("village code {code} is not in commune {}", given.code),
            )),
            _ => Ok(Some(n)),
        })
    };
    for (column, result) in [
        ("ma_xa", commune.as_ref().err()),
        ("ten_thon", name.as_ref().err()),
        ("loai", kind.as_ref().err()),
        ("ma_thon", number.as_ref().err()),
    ] {
        if let Some(e) = result {
            bad.push(BadCell::new(row.line, column, &get(column), e));
        }
    }
    match (commune, name, kind, number) {
        (Ok(c), Ok(name), Ok(kind), Ok(number)) => {
            Ok(Village { line: row.line, commune: c.code.as_str(), number, name, kind })
        }
        _ => Err(bad),
    }
}

pub async fn import(store: &Store, table: Table, options: &Options) -> anyhow::Result<Outcome> {
    let header = table.header;
    let mut bad = Vec::new();
    let mut rows = 0u64;
    let mut villages = Vec::new();
    for row in table.rows {
        let row = row?;
        rows += 1;
        match check(&header, &row) {
            Ok(v) => villages.push(v),
            Err(cells) => bad.extend(cells),
        }
    }
    let existing: Vec<(String, String, String)> = on_pool!(store, pool =>
        sqlx::query_as("SELECT parent_code, code, name_key FROM unit WHERE level = 'thon'").fetch_all(pool).await)?;
    let mut code_by_name: HashMap<(String, String), String> = HashMap::new();
    let mut next: HashMap<String, u32> = HashMap::new();
    let bump = |next: &mut HashMap<String, u32>, commune: &str, number: u32| {
        let n = next.entry(commune.to_owned()).or_insert(1);
        *n = (*n).max(number + 1);
    };
    for (commune, code, key) in existing {
        if let Ok((_, number)) = parse_village_code(&code) {
            bump(&mut next, &commune, number);
        }
        code_by_name.insert((commune, key), code);
    }
    for v in &villages {
        if let Some(n) = v.number {
            bump(&mut next, v.commune, n);
        }
    }
    let mut seen_code: HashMap<String, u64> = HashMap::new();
    let mut seen_name: HashMap<(String, String), u64> = HashMap::new();
    let mut good = Vec::new();
    for v in villages {
        let key = (v.commune.to_owned(), match_key(&v.name));
        let code = match (v.number, code_by_name.get(&key)) {
            (Some(n), _) => village_code(v.commune, n),
            (None, Some(code)) => code.clone(),
            (None, None) => {
                let n = next.entry(v.commune.to_owned()).or_insert(1);
                *n += 1;
                village_code(v.commune, *n - 1)
            }
        };
        let reason = if let Some(first) = seen_code.get(&code) {
            Some(FieldError::new(
                format!("mã thôn {code} đã có ở dòng {first}"),
                format!("village code {code} is already on row {first}"),
            ))
        } else if let Some(first) = seen_name.get(&key) {
            Some(FieldError::new(
                format!("tên thôn đã có ở dòng {first}"),
                format!("the village name is already on row {first}"),
            ))
        } else {
            match code_by_name.get(&key) {
                Some(other) if *other != code => Some(FieldError::new(
                    format!("xã đã có thôn cùng tên với mã {other}"),
                    format!("the commune already has a village of this name, code {other}"),
                )),
                _ => None,
            }
        };
        if let Some(reason) = reason {
            bad.push(BadCell::new(v.line, "ten_thon", &v.name, &reason));
            continue;
        }
        seen_code.insert(code.clone(), v.line);
        seen_name.insert(key, v.line);
        good.push((code, v));
    }
    let mut outcome = Outcome { rows, bad, ..Outcome::default() };
    if !outcome.bad.is_empty() && !options.skip_invalid {
        return Ok(outcome);
    }
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        for (code, v) in &good {
            let result = sqlx::query(INSERT_UNIT)
                .bind(code)
                .bind(&v.name)
                .bind(match_key(&v.name))
                .bind("thon")
                .bind(v.kind.code())
                .bind(v.commune)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("row {}", v.line))?;
            outcome.changed += result.rows_affected();
        }
        tx.commit().await?;
    });
    outcome.committed = true;
    outcome.unchanged = rows - bad_row_count(&outcome.bad) - outcome.changed;
    Ok(outcome)
}
