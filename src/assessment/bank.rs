//! The question bank: items from `cau-hoi/*.toml` files (loaded with the lessons) or from the
//! editor, kept by version. A sitting names the versions it drew; those never change, so they are
//! cached in memory once read.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use serde::Deserialize;

use crate::assessment::item::{Item, RawItem};
use crate::identity::audit::Actor;
use crate::learning::framework::Framework;
use crate::learning::import::FileProblem;
use crate::on_pool;
use crate::store::Store;

/// The folder of a content directory that holds the bank.
pub const FOLDER: &str = "cau-hoi";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BankFile {
    #[serde(default)]
    item: Vec<RawItem>,
}

/// Parses one bank file; problems carry their line.
pub fn parse(text: &str, framework: &Framework) -> Result<Vec<Item>, Vec<(usize, String)>> {
    let file: BankFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        vec![(line, e.message().to_owned())]
    })?;
    let line_of = |id: &str| {
        let needle = format!("\"{id}\"");
        text.lines().position(|l| l.trim_start().starts_with("id") && l.contains(&needle)).map_or(0, |i| i + 1)
    };
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for raw in file.item {
        let line = line_of(&raw.id);
        let id = raw.id.clone();
        match raw.check(framework) {
            Ok(item) => items.push(item),
            Err(found) => problems.extend(found.into_iter().map(|m| (line, format!("câu {id}: {m}")))),
        }
    }
    if problems.is_empty() { Ok(items) } else { Err(problems) }
}

/// Reads every `*.toml` of `dir/cau-hoi`, if there is one; ids must be unique across files.
pub fn load(dir: &Path, framework: &Framework) -> anyhow::Result<Result<Vec<Item>, Vec<FileProblem>>> {
    let folder = dir.join(FOLDER);
    if !folder.is_dir() {
        return Ok(Ok(Vec::new()));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut items: BTreeMap<String, (PathBuf, Item)> = BTreeMap::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                problems.push(FileProblem {
                    file, line: 0, message: format!("không đọc được tệp: {e} / cannot read")
                });
                continue;
            }
        };
        match parse(&text, framework) {
            Ok(found) => {
                for item in found {
                    if let Some((other, _)) = items.get(&item.id) {
                        problems.push(FileProblem {
                            file: file.clone(),
                            line: 0,
                            message: format!("mã câu {} trùng với {} / duplicate item id", item.id, other.display()),
                        });
                    }
                    items.insert(item.id.clone(), (file.clone(), item));
                }
            }
            Err(found) => problems.extend(found.into_iter().map(|(line, message)| FileProblem {
                file: file.clone(),
                line,
                message,
            })),
        }
    }
    if problems.is_empty() { Ok(Ok(items.into_values().map(|(_, i)| i).collect())) } else { Ok(Err(problems)) }
}

pub fn body(item: &Item) -> String {
    serde_json::to_string(item).expect("an item serialises")
}

/// Saves an item inside a transaction: a new version only when its content changed.
/// Evaluates to the item's current version.
#[macro_export]
macro_rules! save_item_in_tx {
    ($tx:expr, $item:expr) => {{
        let item: &$crate::assessment::item::Item = $item;
        let body = $crate::assessment::bank::body(item);
        let hash = $crate::crypto::short_hash(body.as_bytes());
        let at = $crate::domain::time::now();
        let latest: Option<(i64, String)> = sqlx::query_as(
            "SELECT version, content_hash FROM item_version WHERE item_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(&item.id)
        .fetch_optional(&mut *$tx)
        .await?;
        match latest {
            Some((version, ref h)) if *h == hash => version,
            other => {
                let version = other.map_or(1, |(v, _)| v + 1);
                sqlx::query(
                    "INSERT INTO item (id, version, competence, level, difficulty, kind, active) \
                     VALUES ($1, $2, $3, $4, $5, $6, TRUE) ON CONFLICT (id) DO UPDATE SET version = excluded.version, \
                     competence = excluded.competence, level = excluded.level, difficulty = excluded.difficulty, \
                     kind = excluded.kind, active = TRUE",
                )
                .bind(&item.id)
                .bind(version)
                .bind(&item.competence)
                .bind(i64::from(item.level))
                .bind(i64::from(item.difficulty))
                .bind(item.task.kind())
                .execute(&mut *$tx)
                .await?;
                sqlx::query(
                    "INSERT INTO item_version (item_id, version, content_hash, body, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&item.id)
                .bind(version)
                .bind(&hash)
                .bind(&body)
                .bind(at)
                .execute(&mut *$tx)
                .await?;
                version
            }
        }
    }};
}

/// Saves one item (the editor): its version.
pub async fn save(store: &Store, item: &Item, actor: Actor<'_>) -> sqlx::Result<i64> {
    let version = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let version = crate::save_item_in_tx!(tx, item);
        crate::audit_write!(&mut *tx, actor.entry("item.save", serde_json::json!({"item": item.id, "version": version})))?;
        tx.commit().await?;
        version
    });
    Ok(version)
}

/// Takes an item out of future draws (sittings that drew it keep it).
/// The entry naming who did it is written only when the item's state changed.
pub async fn set_active(store: &Store, id: &str, active: bool, actor: Actor<'_>) -> sqlx::Result<bool> {
    let found = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let was: Option<bool> = sqlx::query_scalar("SELECT active FROM item WHERE id = $1")
            .bind(id).fetch_optional(&mut *tx).await?;
        if was.is_some_and(|was| was != active) {
            sqlx::query("UPDATE item SET active = $1 WHERE id = $2").bind(active).bind(id).execute(&mut *tx).await?;
            let action = if active { "item.activate" } else { "item.deactivate" };
            crate::audit_write!(&mut *tx, actor.entry(action, serde_json::json!({"item": id})))?;
            tx.commit().await?;
        }
        was.is_some()
    });
    Ok(found)
}

/// One row of the bank, as the editor lists it and a draw weighs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Entry {
    pub id: String,
    pub version: i64,
    pub competence: String,
    pub level: i64,
    pub difficulty: i64,
    pub kind: String,
    pub active: bool,
    pub exposure: i64,
}

pub async fn entries(store: &Store) -> sqlx::Result<Vec<Entry>> {
    on_pool!(store, pool => sqlx::query_as(
        "SELECT id, version, competence, level, difficulty, kind, active, exposure FROM item ORDER BY competence, id")
        .fetch_all(pool).await)
}

/// Versions read once and kept: they never change.
#[derive(Default)]
pub struct Cache {
    items: RwLock<HashMap<(String, i64), Arc<Item>>>,
}

impl Cache {
    pub async fn get(&self, store: &Store, id: &str, version: i64) -> sqlx::Result<Option<Arc<Item>>> {
        let key = (id.to_owned(), version);
        if let Some(item) = self.items.read().expect("item cache").get(&key) {
            return Ok(Some(item.clone()));
        }
        let body: Option<String> = on_pool!(store, pool => sqlx::query_scalar(
            "SELECT body FROM item_version WHERE item_id = $1 AND version = $2")
            .bind(id).bind(version).fetch_optional(pool).await?);
        let Some(item) = body.and_then(|b| serde_json::from_str::<Item>(&b).ok()) else { return Ok(None) };
        let item = Arc::new(item);
        self.items.write().expect("item cache").insert(key, item.clone());
        Ok(Some(item))
    }
}
