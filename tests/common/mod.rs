//! Shared test harness: the databases every contract test runs against, and the CLI.
#![allow(dead_code)]

pub mod community;
pub mod exam;
pub mod web;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hocvuso::app::AppState;
use hocvuso::config::{Config, DatabaseUrl};
use hocvuso::store::Store;

pub const TEST_KEY: &str = "6b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";

/// A fresh database of one backend, gone when dropped.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn backend(&self) -> &'static str {
        if self.pg_name.is_some() { "postgres" } else { "sqlite" }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self { url, dir, pg_name: None }
    }

    /// A new database on the test PostgreSQL server, or `None` (loudly) when none answers outside CI.
    pub fn postgres() -> Option<Self> {
        let admin = admin_url();
        let name = format!("hocvuso_test_{}_{}", std::process::id(), rand_suffix());
        match psql(&admin, &format!("CREATE DATABASE {name}")) {
            Ok(()) => {}
            Err(e) => {
                #[allow(clippy::disallowed_methods)] // the harness's own setting, not the app's configuration
                if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                    panic!("PostgreSQL at {admin} is required in CI and does not answer: {e}");
                }
                eprintln!("\n!!! SKIPPING PostgreSQL: no server at {admin} ({e}); set HOCVUSO_TEST_DATABASE_URL !!!\n");
                return None;
            }
        }
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        Some(Self { url: url.to_string(), dir: tempfile::tempdir().unwrap(), pg_name: Some(name) })
    }

    /// SQLite always, PostgreSQL when a server answers (always in CI).
    pub fn all() -> Vec<Self> {
        let mut all = vec![Self::sqlite()];
        all.extend(Self::postgres());
        all
    }

    pub fn config(&self) -> Config {
        let url = self.url.clone();
        let media = self.dir.path().join("media").display().to_string();
        Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(url.clone()),
            "HOCVUSO_MEDIA_URL" => Some(media.clone()),
            "HOCVUSO_DATA_KEY" => Some(TEST_KEY.into()),
            _ => None,
        })
        .unwrap()
    }

    pub async fn store(&self) -> Store {
        let store = Store::connect(&DatabaseUrl::parse(&self.url).unwrap()).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    pub async fn app(&self) -> axum::Router {
        hocvuso::app(AppState::new(self.store().await, self.config()).await.unwrap())
    }

    /// Runs `hocvuso ARGS` against this database, in its own temporary folder.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hocvuso"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("DATABASE_URL", &self.url)
            .env("HOCVUSO_MEDIA_URL", self.dir.path().join("media"))
            .env("HOCVUSO_DATA_KEY", TEST_KEY)
            .env_remove("HOCVUSO_DATA_KEY_FILE")
            .env("RUST_LOG", "warn");
        command
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Every row of the registry's tables, in a stable order: "unchanged" means equal snapshots.
    pub fn snapshot(&self) -> String {
        let tables = [
            "SELECT code, name, level, kind, coalesce(parent_code, ''), people_count, household_count FROM unit ORDER BY code",
            "SELECT code, name, kind, commune_code FROM organisation ORDER BY code",
            "SELECT commune_code, code, village_code FROM household ORDER BY commune_code, code",
            "SELECT id, full_name, birth_year, sex, coalesce(ethnicity, ''), coalesce(phone, ''), commune_code, village_code, household_code, target_groups, coalesce(school_level, ''), coalesce(organisation_code, ''), updated_at FROM person ORDER BY id",
            "SELECT person_id, from_village, to_village FROM person_history ORDER BY id",
        ];
        tables.iter().map(|sql| self.query(sql)).collect::<Vec<_>>().join("\n---\n")
    }

    /// Runs one query with the backend's own shell and returns its rows as text.
    pub fn query(&self, sql: &str) -> String {
        self.try_query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs one statement and returns whether the database accepted it, with its error text.
    pub fn try_query(&self, sql: &str) -> Result<String, String> {
        let output = if self.pg_name.is_some() {
            Command::new("psql").args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", &self.url, "-c", sql]).output()
        } else {
            Command::new("sqlite3").args(["-bail", self.url.trim_start_matches("sqlite://"), sql]).output()
        }
        .unwrap();
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Every row of every table, as the backend's own dump tool writes it.
    pub fn dump(&self) -> String {
        let output = if self.pg_name.is_some() {
            Command::new("pg_dump").args(["--data-only", "--inserts", &self.url]).output()
        } else {
            Command::new("sqlite3").args([self.url.trim_start_matches("sqlite://"), ".dump"]).output()
        }
        .unwrap();
        assert!(output.status.success(), "dump: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn scalar(&self, sql: &str) -> i64 {
        self.query(sql).trim().parse().unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            let _ = psql(&admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

#[allow(clippy::disallowed_methods)] // the harness's own setting, not the app's configuration
pub fn admin_url() -> String {
    std::env::var("HOCVUSO_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn psql(url: &str, sql: &str) -> Result<(), String> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql, url])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).trim().to_owned()) }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{nanos}_{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The header every people file of these tests uses.
pub const PEOPLE_HEADER: &str =
    "cccd,ho_ten,ngay_sinh,gioi_tinh,ma_xa,thon,ma_ho,dan_toc,doi_tuong,dien_thoai,cap_hoc,ma_to_chuc";

/// Four good people in two households of two villages of commune 04792.
pub const GOOD_PEOPLE: &str = "\
025090123456,Nguyễn Văn An,7/3/1990,Nam,04792,Thôn Đông,HO-1,Kinh,,0912345678,,
025192654321,Trần Thị Bình,1992-11-20,Nữ,04792,thôn đông,HO-1,Kinh,nguoi_dan,,,
025312000001,Nguyễn Minh Châu,1/9/2012,Nữ,04792,Thôn Đông,HO-1,Kinh,hoc_sinh_sinh_vien,,,
017085777777,Bùi Văn Dũng,15/6/1985,Nam,04792,Xóm Mới,HO-2,Mường,nguoi_dan|can_bo,,,
";

pub fn people_file(rows: &str) -> String {
    format!("{PEOPLE_HEADER}\n{rows}")
}

pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "exit status\nstdout: {}\nstderr: {}", stdout(output), stderr(output));
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A fifth person, in another commune (04795), to be out of a 04792 officer's scope.
pub const OTHER_COMMUNE_PERSON: &str =
    "025088123456,Lê Văn Em,2/2/1988,Nam,04795,Tổ 5,HO-9,Kinh,nguoi_dan,0987654321,,\n";

/// Imports GOOD_PEOPLE and OTHER_COMMUNE_PERSON through the CLI.
pub fn seed_people(db: &TestDb) {
    let file = db.write("people.csv", people_file(&format!("{GOOD_PEOPLE}{OTHER_COMMUNE_PERSON}")));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
}

/// The internal id of the person with that name.
pub fn person_id(db: &TestDb, name: &str) -> i64 {
    db.scalar(&format!("SELECT id FROM person WHERE full_name = '{name}'"))
}

/// A path under `tests/fixtures/`.
pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).display().to_string()
}
