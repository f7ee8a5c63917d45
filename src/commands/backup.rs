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
            let status = pg_command("pg_dump", url)?
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(to)
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
            let mut command = pg_command("pg_restore", url)?;
            command.args(["--no-owner", "--exit-on-error", "--single-transaction"]);
            if force {
                command.args(["--clean", "--if-exists"]);
            }
            let status = command.arg(from).status().context("running pg_restore (Debian package postgresql-client)")?;
            if !status.success() {
                bail!("pg_restore failed ({status})");
            }
        }
    }
    eprintln!("đã khôi phục từ / restored from {}", from.display());
    Ok(())
}

/// `program` pointed at the database of `url`. The password goes to the child through its
/// environment (`PGPASSWORD`), never on its command line, where every user of the machine can read
/// it (`ps`, `/proc/PID/cmdline`); the URL passed carries no password, in its user part or its query.
fn pg_command(program: &str, url: &str) -> anyhow::Result<Command> {
    let mut parsed = url::Url::parse(url).context("DATABASE_URL is not a URL")?;
    let mut password =
        parsed.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    let _ = parsed.set_password(None);
    let mut query = Vec::new();
    for (key, value) in parsed.query_pairs() {
        if key == "password" {
            password = Some(value.into_owned());
        } else {
            query.push((key.into_owned(), value.into_owned()));
        }
    }
    if query.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(&query);
    }
    let mut command = Command::new(program);
    command.arg(format!("--dbname={parsed}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::pg_command;

    #[test]
    fn the_password_goes_through_the_environment_not_the_arguments() {
        for url in [
            "postgres://hocvuso:s%C3%AAcret%40x@db.example:5432/hocvuso?sslmode=require",
            "postgres://hocvuso@db.example/hocvuso?password=s%C3%AAcret%40x&sslmode=require",
        ] {
            let command = pg_command("pg_dump", url).unwrap();
            let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
            assert!(args.iter().all(|a| !a.contains("cret")), "{args:?}");
            assert!(args.iter().any(|a| a.contains("db.example") && a.contains("sslmode=require")), "{args:?}");
            let env: Vec<_> = command.get_envs().collect();
            assert_eq!(env, [(std::ffi::OsStr::new("PGPASSWORD"), Some(std::ffi::OsStr::new("sêcret@x")))]);
        }
        let command = pg_command("pg_restore", "postgres://postgres@127.0.0.1/db").unwrap();
        assert_eq!(command.get_envs().count(), 0);
    }
}
