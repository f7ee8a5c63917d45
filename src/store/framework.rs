//! The built-in competence framework, loaded into a new database with its schema so that a fresh
//! install can grade at once. Its rules and later versions belong to learning (`learning::framework`).

use anyhow::Context;

use crate::on_pool;
use crate::store::Store;

pub const BUILTIN: &str = include_str!("../../data-builtin/framework.toml");

/// Stores the built-in framework as the first version when the database has none.
pub async fn ensure_builtin(store: &Store) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Head {
        version: String,
    }
    let head: Head = toml::from_str(BUILTIN).context("the built-in framework's version")?;
    on_pool!(store, pool => sqlx::query(
        "INSERT INTO framework_version (version, source, imported_at, seq) \
         SELECT $1, $2, $3, 1 WHERE NOT EXISTS (SELECT 1 FROM framework_version) \
         ON CONFLICT (version) DO NOTHING",
    )
    .bind(&head.version)
    .bind(BUILTIN)
    .bind(crate::domain::time::now())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}
