//! `hocvuso demo` and the database URL rules, through the command line.

use crate::common;

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

/// The demo's movement: counters equal a rebuild, communes differ, every written fact is backed by
/// its rows, dates spread over 2025's quarters and 2026, and a certificate verifies.
#[tokio::test]
async fn the_demo_movement_is_consistent_varies_by_commune_and_its_certificates_verify() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    for db in TestDb::all() {
        // Lessons first, so that learning has progress rows to show (the demo keeps them).
        let content = db.cli(&["content", "import", &fixture("content")]);
        assert_exit(&content, 0);
        let out = db.cli(&["demo", "--no-serve", "--people", "2000", "--seed", "7"]);
        assert_exit(&out, 0);
        assert!(stderr(&out).contains("confirmed on VNeID"), "{}", stderr(&out));
        let counters = "SELECT unit_code, year, indicator, numerator, denominator FROM indicator_count \
                        WHERE numerator <> 0 OR denominator <> 0 ORDER BY unit_code, year, indicator";
        let kept = db.query(counters);
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
        assert_eq!(kept, db.query(counters), "{}: the demo's counters differ from a rebuild", db.backend());

        assert!(db.scalar("SELECT count(*) FROM certificate") > 300, "{}", db.backend());
        assert!(db.scalar("SELECT count(*) FROM person WHERE learned_at IS NOT NULL") > 300);
        assert!(db.scalar("SELECT count(*) FROM person WHERE vneid_level = 2 AND bank_account = 1") > 100);
        // Nothing the demo wrote contradicts the rest: each fact has the rows behind it.
        for (what, sql) in [
            (
                "certified without a certificate",
                "SELECT count(*) FROM person p WHERE p.certified_groups <> 0 AND NOT EXISTS \
              (SELECT 1 FROM certificate c WHERE c.person_id = p.id AND c.revoked_at IS NULL)",
            ),
            (
                "passed without a passed sitting",
                "SELECT count(*) FROM person p WHERE p.passed_groups <> 0 AND NOT EXISTS \
              (SELECT 1 FROM certificate c JOIN sitting s ON s.id = c.sitting_id WHERE c.person_id = p.id AND s.passed)",
            ),
            (
                "confirmed without a delivered outbox row",
                "SELECT count(*) FROM person p WHERE p.vneid_confirmed_at IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM certificate c JOIN vneid_outbox o ON o.certificate_id = c.id \
              WHERE c.person_id = p.id AND o.state = 'delivered')",
            ),
            (
                "delivered without the fact",
                "SELECT count(*) FROM vneid_outbox o JOIN certificate c ON c.id = o.certificate_id \
              JOIN person p ON p.id = c.person_id WHERE o.state = 'delivered' AND p.vneid_confirmed_at IS NULL",
            ),
            (
                "learned without a completed lesson",
                "SELECT count(*) FROM person p WHERE p.learned_at IS NOT NULL AND NOT EXISTS \
              (SELECT 1 FROM account a JOIN progress g ON g.account_id = a.id WHERE a.person_id = p.id \
              AND g.completed_at IS NOT NULL)",
            ),
        ] {
            assert_eq!(db.scalar(sql), 0, "{}: {what}", db.backend());
        }
        // Spread over the quarters of 2025, and on into 2026.
        for (from, to) in [
            ("2025-01-01", "2025-04-01"),
            ("2025-04-01", "2025-07-01"),
            ("2025-07-01", "2025-10-01"),
            ("2025-10-01", "2026-01-01"),
            ("2026-01-01", "2027-01-01"),
        ] {
            let (from, to) = (epoch(from), epoch(to));
            let n =
                db.scalar(&format!("SELECT count(*) FROM certificate WHERE issued_at >= {from} AND issued_at < {to}"));
            assert!(n > 0, "{}: no certificate in [{from}, {to})", db.backend());
        }
        // Some communes ahead of the 80 % target for adults in 2025, some far behind.
        let share = |cmp: &str| {
            db.scalar(&format!(
                "SELECT count(*) FROM indicator_count c JOIN unit u ON u.code = c.unit_code WHERE u.level = 'xa' \
                 AND c.year = 2025 AND c.indicator = 'nguoi_truong_thanh_ky_nang_so' AND c.denominator > 0 \
                 AND c.numerator * 100 {cmp}"
            ))
        };
        assert!(share("> c.denominator * 80") >= 1, "{}: no commune above 80 %", db.backend());
        assert!(share("< c.denominator * 40") >= 1, "{}: no commune below 40 %", db.backend());

        // A certificate the demo issued verifies: signed with the key the server publishes.
        let id = db.query("SELECT id FROM certificate ORDER BY id LIMIT 1").trim().to_owned();
        let app = db.app().await;
        let response =
            app.oneshot(Request::get(format!("/api/v1/certificates/{id}")).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["status"], "valid", "{}: {json}", db.backend());

        // --reset empties what the movement wrote and writes the same movement again.
        let before = db.query(
            "SELECT count(*) FROM sitting UNION ALL SELECT count(*) FROM certificate \
                               UNION ALL SELECT count(*) FROM progress",
        );
        assert_exit(&db.cli(&["demo", "--no-serve", "--people", "2000", "--seed", "7", "--reset"]), 0);
        assert_eq!(
            before,
            db.query(
                "SELECT count(*) FROM sitting UNION ALL SELECT count(*) FROM certificate \
                      UNION ALL SELECT count(*) FROM progress"
            )
        );
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM certificate c WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id = c.person_id)"
            ),
            0
        );
    }
}

fn epoch(date: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
}
