//! Durability: an import killed mid-write leaves nothing behind; a backup restores into a new
//! database with the same contents. Both backends.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

fn seeded(db: &TestDb) {
    let file = db.write("people.csv", people_file(GOOD_PEOPLE));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
}

/// Generated villages and organisations imported, and a generated roster of `people` written to `file`.
fn registry_and_roster(db: &TestDb, people: u32, file: &str) {
    for (what, units) in [("units", "units.csv"), ("organisations", "orgs.csv")] {
        assert_exit(&db.cli(&["generate", what, "--seed", "7", "--out", units]), 0);
        assert_exit(&db.cli(&["import", what, units]), 0);
    }
    assert_exit(&db.cli(&["generate", "people", "--count", &people.to_string(), "--seed", "7", "--out", file]), 0);
}

#[test]
fn an_import_killed_after_writing_rows_leaves_the_database_as_it_was() {
    for db in TestDb::all() {
        seeded(&db);
        registry_and_roster(&db, 150_000, "big.csv");
        let before = db.snapshot();
        let mut child = db.command(&["import", "people", "big.csv"]).stderr(Stdio::piped()).spawn().unwrap();
        let mut saw_written = false;
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            if line.contains("rows written") && !line.contains(" 0 rows") {
                saw_written = true;
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        let status = child.wait().unwrap();
        assert!(saw_written, "{}: the import never reported rows written", db.backend());
        assert!(!status.success(), "{}: the import finished before it was killed", db.backend());
        assert_eq!(db.snapshot(), before, "{}: a killed import left rows behind", db.backend());
        // The database is still whole: the same import now runs to the end.
        let out = db.cli(&["import", "people", "big.csv"]);
        assert_exit(&out, 0);
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 150_004, "{}", db.backend());
    }
}

/// The person and household tables' indexes and constraints, which a bulk load sets aside.
fn schema(db: &TestDb) -> String {
    if db.backend() == "postgres" {
        db.query(
            "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid IN ('person'::regclass, 'household'::regclass) \
             UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename IN ('person', 'household') ORDER BY 1",
        )
    } else {
        db.query("SELECT name || ' ' || coalesce(sql, '') FROM sqlite_master WHERE tbl_name IN ('person', 'household') ORDER BY 1")
    }
}

#[test]
fn a_bulk_load_into_an_empty_registry_killed_or_finished_keeps_its_indexes_and_references() {
    for db in TestDb::all() {
        registry_and_roster(&db, 150_000, "big.csv");
        let (before, shape) = (db.snapshot(), schema(&db));
        assert!(shape.contains("person_cccd_hash") && shape.contains("person_village"), "{shape}");
        let mut child = db.command(&["import", "people", "big.csv"]).stderr(Stdio::piped()).spawn().unwrap();
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            if line.contains("rows written") && !line.contains(" 0 rows") {
                child.kill().unwrap(); // SIGKILL, in the middle of the bulk load
                break;
            }
        }
        assert!(!child.wait().unwrap().success(), "{}: the import finished before it was killed", db.backend());
        assert_eq!(db.snapshot(), before, "{}: a killed bulk load left rows behind", db.backend());
        assert_eq!(schema(&db), shape, "{}: a killed bulk load changed the schema", db.backend());

        assert_exit(&db.cli(&["import", "people", "big.csv"]), 0);
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 150_000, "{}", db.backend());
        assert_eq!(schema(&db), shape, "{}: the indexes and references are not all back", db.backend());
        if db.backend() == "postgres" {
            // And enforced again: a person in a household that does not exist is refused.
            let orphan = db.try_query(
                "INSERT INTO person (birth_year, sex, commune_code, village_code, household_code, target_groups) \
                 VALUES (1990, 'nam', '04792', '04792-001', 'NO-SUCH-HOUSEHOLD', 1)",
            );
            assert!(orphan.is_err_and(|e| e.contains("foreign key")), "an orphan person was accepted");
        }
        // Every person is found again through the rebuilt citizen-number index.
        let distinct = db.scalar("SELECT count(DISTINCT cccd_hash) FROM person");
        assert_eq!(distinct, 150_000, "{}", db.backend());
        if db.backend() == "sqlite" {
            // The load, alone, wrote without the WAL; the database is back in WAL mode for the server.
            assert_eq!(db.query("PRAGMA journal_mode").trim(), "wal");
        }
    }
}

/// Another client of the database, connected until killed: a PostgreSQL session asleep, or a
/// `sqlite3` shell that has read from the database and waits for more.
fn other_client(db: &TestDb) -> std::process::Child {
    if db.backend() == "postgres" {
        let other = Command::new("psql").args(["-X", "-q", &db.url, "-c", "SELECT pg_sleep(60)"]).spawn().unwrap();
        let started = std::time::Instant::now();
        while db.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") == 0 {
            assert!(started.elapsed().as_secs() < 10, "the other client never connected");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        return other;
    }
    let mut other = Command::new("sqlite3")
        .arg(db.url.trim_start_matches("sqlite://"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(other.stdin.as_mut().unwrap(), "SELECT count(*) FROM unit;").unwrap();
    let mut answer = String::new();
    BufReader::new(other.stdout.as_mut().unwrap()).read_line(&mut answer).unwrap();
    assert!(answer.trim().parse::<u32>().is_ok_and(|n| n > 0), "the other client read {answer:?}");
    other
}

#[test]
fn a_bulk_load_with_another_client_connected_locks_nothing_and_loads_the_same() {
    for db in TestDb::all() {
        registry_and_roster(&db, 20_000, "some.csv");
        let shape = schema(&db);
        // A server stands for any other client: the load must not take its tables (PostgreSQL) or
        // its WAL (SQLite) away from it.
        let mut other = other_client(&db);
        let out = db.cli(&["import", "people", "some.csv"]);
        other.kill().unwrap();
        other.wait().unwrap();
        assert_exit(&out, 0);
        let said = if db.backend() == "postgres" {
            "another client is connected"
        } else {
            "another connection has the database open"
        };
        assert!(stderr(&out).contains(said), "{}: {}", db.backend(), stderr(&out));
        if db.backend() == "sqlite" {
            assert_eq!(db.query("PRAGMA journal_mode").trim(), "wal");
        }
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 20_000);
        assert_eq!(db.scalar("SELECT count(DISTINCT cccd_hash) FROM person"), 20_000);
        assert_eq!(schema(&db), shape);
    }
}

fn secrets(db: &TestDb) -> String {
    if db.backend() == "postgres" {
        db.query("SELECT encode(cccd_hash, 'hex'), encode(cccd_enc, 'hex') FROM person ORDER BY id")
    } else {
        db.query("SELECT hex(cccd_hash), hex(cccd_enc) FROM person ORDER BY id")
    }
    .to_lowercase()
}

#[test]
fn a_backup_restores_into_a_new_database_with_the_same_contents() {
    for db in TestDb::all() {
        seeded(&db);
        let moved = db.write(
            "moved.csv",
            people_file("017085777777,Bùi Văn Dũng,15/6/1985,Nam,04795,Tổ dân phố 3,HO-7,Mường,,,,\n"),
        );
        assert_exit(&db.cli(&["import", "people", path_str(&moved)]), 0);
        let file = db.dir.path().join("backup.bin");
        assert_exit(&db.cli(&["backup", "--to", path_str(&file)]), 0);
        // A second backup to the same file is refused rather than overwriting it.
        assert_exit(&db.cli(&["backup", "--to", path_str(&file)]), 1);

        let fresh = if db.backend() == "postgres" { TestDb::postgres().unwrap() } else { TestDb::sqlite() };
        assert_exit(&fresh.cli(&["restore", "--from", path_str(&file)]), 0);
        assert_eq!(fresh.snapshot(), db.snapshot(), "{}: restored contents differ", db.backend());
        assert_eq!(secrets(&fresh), secrets(&db));
        assert_eq!(fresh.scalar("SELECT count(*) FROM person_history"), 1);
        // Restoring over a database that holds data needs --force.
        assert_exit(&fresh.cli(&["restore", "--from", path_str(&file)]), 1);
        assert_exit(&fresh.cli(&["restore", "--from", path_str(&file), "--force"]), 0);
        assert_eq!(fresh.snapshot(), db.snapshot());
    }
}
