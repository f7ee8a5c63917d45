//! Backups: SQLite through `VACUUM INTO` (a consistent copy while the server runs),
//! PostgreSQL through `pg_dump` / `pg_restore`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::config::{Config, DatabaseUrl};
use crate::store::Store;

pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        bail!("{} đã tồn tại; chọn tên khác / already exists; choose another name", to.display());
    }
    match &config.database_url {
        DatabaseUrl::Sqlite(path) => {
            if !path.exists() {
                bail!("không có cơ sở dữ liệu {} / no database at that path", path.display());
            }
            let store = Store::connect(&config.database_url).await?;
            let target = to.to_str().context("the backup path must be UTF-8")?;
            if let Store::Sqlite(sqlite) = &store {
                sqlx::query("VACUUM INTO $1").bind(target).execute(&sqlite.pool).await?;
            }
            store.close().await;
        }
        DatabaseUrl::Postgres(url) => {
            let status = Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(to)
                .arg(format!("--dbname={url}"))
                .status()
                .context("running pg_dump (Debian package postgresql-client)")?;
            if !status.success() {
                bail!("pg_dump failed ({status})");
            }
        }
    }
    eprintln!("đã sao lưu vào / backed up to {}", to.display());
    Ok(())
}

/// Restores into the configured database, which must be empty (or `force` given).
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<()> {
    if !from.exists() {
        bail!("không có tệp {} / no such file", from.display());
    }
    match &config.database_url {
        DatabaseUrl::Sqlite(path) => {
            if path.exists() && !force {
                bail!(
                    "{} đã tồn tại; dùng --force để ghi đè / already exists; use --force to overwrite it",
                    path.display()
                );
            }
            // Check the copy before it replaces anything.
            let probe = DatabaseUrl::Sqlite(from.to_path_buf());
            let store = Store::connect(&probe).await?;
            if let Store::Sqlite(sqlite) = &store {
                let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&sqlite.pool).await?;
                if check != "ok" {
                    bail!("bản sao lưu hỏng / the backup is damaged: {check}");
                }
            }
            store.close().await;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let staging = path.with_extension("restoring");
            std::fs::copy(from, &staging)?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            std::fs::rename(&staging, path)?;
        }
        DatabaseUrl::Postgres(url) => {
            let store = Store::connect(&config.database_url).await?;
            let tables: i64 = if let Store::Postgres(pool) = &store {
                sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetch_one(pool).await?
            } else {
                0
            };
            store.close().await;
            if tables > 0 && !force {
                bail!("cơ sở dữ liệu đích không trống; dùng --force / the target database is not empty; use --force");
            }
            let mut command = Command::new("pg_restore");
            command.args(["--no-owner", "--exit-on-error", "--single-transaction"]);
            if force {
                command.args(["--clean", "--if-exists"]);
            }
            let status = command
                .arg(format!("--dbname={url}"))
                .arg(from)
                .status()
                .context("running pg_restore (Debian package postgresql-client)")?;
            if !status.success() {
                bail!("pg_restore failed ({status})");
            }
        }
    }
    eprintln!("đã khôi phục từ / restored from {}", from.display());
    Ok(())
}
