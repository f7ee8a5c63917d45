//! `hocvuso demo` and the database URL rules, through the command line.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

#[test]
fn demo_creates_a_key_a_province_and_refuses_to_overwrite() {
    for db in TestDb::all() {
        // No key given: demo makes one, owner-only, and says so.
        let run = |extra: &[&str]| {
            let mut args = vec!["demo", "--no-serve", "--people", "3000", "--seed", "11"];
            args.extend_from_slice(extra);
            db.command(&args).env_remove("HOCVUSO_DATA_KEY").output().unwrap()
        };
        let first = run(&[]);
        assert_exit(&first, 0);
        assert!(stderr(&first).contains("data/hocvuso.key"), "{}", stderr(&first));
        let key = db.dir.path().join("data/hocvuso.key");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 3000, "{}", db.backend());
        assert_eq!(db.scalar("SELECT people_count FROM unit WHERE code = '25'"), 3000);
        assert_eq!(db.scalar("SELECT count(DISTINCT commune_code) FROM person"), 148);
        assert!(db.scalar("SELECT count(*) FROM organisation") > 148);
        // Counters agree with the raw rows, commune by commune.
        assert_eq!(
            db.scalar("SELECT count(*) FROM unit u WHERE level = 'xa' AND people_count <> (SELECT count(*) FROM person p WHERE p.commune_code = u.code)"),
            0
        );
        let again = run(&[]);
        assert_exit(&again, 1);
        assert!(stderr(&again).contains("--reset"), "{}", stderr(&again));
        let reset = run(&["--reset"]);
        assert_exit(&reset, 0);
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 3000);
        assert_eq!(db.scalar("SELECT count(*) FROM person_history"), 0);
        assert_eq!(db.scalar("SELECT count(DISTINCT role) FROM role_grant g JOIN account a ON a.id = g.account_id WHERE a.login LIKE 'demo.%'"), 9);
    }
}

#[tokio::test]
async fn demo_prints_a_login_for_every_role_and_they_work() {
    let db = TestDb::sqlite();
    let output = db.cli(&["demo", "--no-serve", "--people", "2000"]);
    assert_exit(&output, 0);
    let printed = stderr(&output);
    let base = common::web::serve(&db, db.config()).await;
    for role in hocvuso::domain::role::Role::ALL {
        let login = format!("demo.{}", role.code().replace('_', "-"));
        let line =
            printed.lines().find(|l| l.contains(&login)).unwrap_or_else(|| panic!("{login} not printed: {printed}"));
        let password = line.rsplit(' ').next().unwrap();
        let browser = common::web::Browser::new(&base);
        browser.login(&login, password).await;
        let account = browser.get("/tai-khoan").await;
        assert!(account.body.contains(role.label()), "{login}: {}", account.body);
    }
    let commune = db.query("SELECT DISTINCT unit_code FROM role_grant WHERE role = 'can_bo_xa'");
    assert!(printed.contains(commune.trim()), "the demo names its commune");
}

#[test]
fn the_generator_is_deterministic_and_its_output_imports_cleanly() {
    let db = TestDb::sqlite();
    for out in ["a.csv", "b.csv"] {
        assert_exit(&db.cli(&["generate", "people", "--count", "2000", "--seed", "5", "--out", out]), 0);
    }
    let a = std::fs::read(db.dir.path().join("a.csv")).unwrap();
    assert_eq!(a, std::fs::read(db.dir.path().join("b.csv")).unwrap());
    assert!(String::from_utf8(a).unwrap().starts_with(PEOPLE_HEADER));
    for (what, file) in [("units", "u.csv"), ("organisations", "o.csv")] {
        assert_exit(&db.cli(&["generate", what, "--seed", "5", "--out", file]), 0);
        assert_exit(&db.cli(&["import", what, file]), 0);
    }
    assert_exit(&db.cli(&["import", "people", "a.csv"]), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM person"), 2000);
}

#[test]
fn an_unknown_database_scheme_is_an_error_and_creates_nothing() {
    let db = TestDb::sqlite();
    for url in ["mysql://root@localhost/hocvuso", "data/hocvuso.db", "sqlite:"] {
        let out = db.command(&["migrate"]).env("DATABASE_URL", url).output().unwrap();
        assert_exit(&out, 1);
        assert!(stderr(&out).contains("DATABASE_URL"), "{url}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read_dir(db.dir.path()).unwrap().count(), 0, "a file was created");
    // Both SQLite spellings work.
    for url in ["sqlite:one.db", "sqlite://two.db"] {
        assert_exit(&db.command(&["migrate"]).env("DATABASE_URL", url).output().unwrap(), 0);
    }
    assert!(db.dir.path().join("one.db").exists() && db.dir.path().join("two.db").exists());
}

#[test]
fn every_command_explains_itself() {
    let db = TestDb::sqlite();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["import", "people", "--help"],
        vec!["generate", "people", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "add", "--help"],
    ] {
        let out = db.cli(&args);
        assert_exit(&out, 0);
        assert!(stdout(&out).len() > 100, "{args:?}");
    }
}
