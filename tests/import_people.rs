//! Roster imports through the command line, against SQLite and PostgreSQL.

use crate::common;

use common::*;

fn import(db: &TestDb, kind: &str, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import", kind, path_str(file)];
    args.extend_from_slice(extra);
    db.cli(&args)
}

#[test]
fn a_good_file_lands_and_a_reimport_changes_nothing() {
    for db in TestDb::all() {
        let file = db.write("people.csv", people_file(GOOD_PEOPLE));
        let first = import(&db, "people", &file, &[]);
        assert_exit(&first, 0);
        assert!(stdout(&first).contains("4 mới"), "{}", stdout(&first));
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 4, "{}", db.backend());
        assert_eq!(db.scalar("SELECT count(*) FROM household"), 2);
        assert_eq!(db.scalar("SELECT people_count FROM unit WHERE code = '04792'"), 4);
        assert_eq!(db.scalar("SELECT household_count FROM unit WHERE code = '04792'"), 2);
        assert_eq!(db.scalar("SELECT people_count FROM unit WHERE code = '25'"), 4);
        if db.backend() == "postgres" {
            // The planner's statistics are read again at once: planned on those of before an import, a
            // commune's export took 30 times longer (BENCHMARKS.md, peak day).
            let analyzed = "SELECT count(*) FROM pg_stat_user_tables \
                            WHERE relname IN ('person', 'household') AND last_analyze IS NOT NULL";
            assert_eq!(db.scalar(analyzed), 2);
        }
        // "thôn đông" and "Thôn Đông" are one village; villages get codes commune-NNN.
        assert_eq!(
            db.query("SELECT code, name FROM unit WHERE parent_code = '04792' ORDER BY code"),
            "04792-001|Thôn Đông\n04792-002|Xóm Mới\n"
        );
        // Derived facts: an adult without groups is a citizen; a pupil's level comes from age.
        assert_eq!(
            db.query("SELECT target_groups, coalesce(school_level, '-') FROM person ORDER BY id"),
            "1|-\n1|-\n4|thcs\n3|-\n"
        );
        // The number is never stored in clear.
        assert_eq!(db.scalar("SELECT count(*) FROM person WHERE cccd_hash IS NOT NULL AND cccd_enc IS NOT NULL"), 4);
        let before = db.snapshot();
        let again = import(&db, "people", &file, &[]);
        assert_exit(&again, 0);
        assert!(stdout(&again).contains("4 không đổi"), "{}", stdout(&again));
        assert_eq!(db.snapshot(), before, "{}: a re-import changed the database", db.backend());
    }
}

#[test]
fn clear_numbers_never_reach_the_database_file() {
    let db = TestDb::sqlite();
    let file = db.write("people.csv", people_file(GOOD_PEOPLE));
    assert_exit(&import(&db, "people", &file, &[]), 0);
    let bytes = std::fs::read(db.dir.path().join("test.db")).unwrap();
    let wal = std::fs::read(db.dir.path().join("test.db-wal")).unwrap_or_default();
    for number in ["025090123456", "025192654321", "017085777777"] {
        let needle = number.as_bytes();
        assert!(!bytes.windows(12).chain(wal.windows(12)).any(|w| w == needle), "{number} found in clear");
    }
}

#[test]
fn a_move_is_an_update_kept_in_history() {
    for db in TestDb::all() {
        let file = db.write("people.csv", people_file(GOOD_PEOPLE));
        assert_exit(&import(&db, "people", &file, &[]), 0);
        // Bùi Văn Dũng moves to another commune, with a new household there.
        let moved = db.write(
            "moved.csv",
            people_file("017085777777,Bùi Văn Dũng,15/6/1985,Nam,04795,Tổ dân phố 3,HO-7,Mường,nguoi_dan|can_bo,,,\n"),
        );
        let out = import(&db, "people", &moved, &[]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("1 cập nhật"), "{}", stdout(&out));
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 4);
        assert_eq!(db.query("SELECT from_village, to_village FROM person_history"), "04792-002|04795-001\n");
        assert_eq!(db.scalar("SELECT people_count FROM unit WHERE code = '04792'"), 3, "{}", db.backend());
        assert_eq!(db.scalar("SELECT people_count FROM unit WHERE code = '04795'"), 1);
        assert_eq!(db.scalar("SELECT people_count FROM unit WHERE code = '25'"), 4);
        assert_eq!(db.query("SELECT kind FROM unit WHERE code = '04795-001'"), "to_dan_pho\n");
    }
}

#[test]
fn skip_invalid_writes_only_the_good_rows_and_exits_3() {
    for db in TestDb::all() {
        let rows = format!("{GOOD_PEOPLE}025090123457,Lê Văn Sai,7/3/1991,Nam,04792,Thôn Đông,HO-1,,,,,\n");
        let file = db.write("people.csv", people_file(&rows));
        let report = db.dir.path().join("report.csv");
        let out = import(&db, "people", &file, &["--skip-invalid", "--report", path_str(&report)]);
        assert_exit(&out, 3);
        assert_eq!(db.scalar("SELECT count(*) FROM person"), 4, "{}", db.backend());
        let report = std::fs::read_to_string(report).unwrap();
        assert!(report.starts_with("\u{feff}dong,cot,gia_tri,ly_do,reason"), "{report}");
        assert!(report.contains("6,cccd,025090123457"), "{report}");
    }
}

#[test]
fn units_and_organisations_import_and_people_refer_to_them() {
    for db in TestDb::all() {
        let units = db.write(
            "units.csv",
            "ma_xa;ma_thon;ten_thon;loai\n04792;04792-010;Tổ dân phố Mười;to_dan_pho\n04792;;Thôn Đông;thon\n",
        );
        assert_exit(&import(&db, "units", &units, &[]), 0);
        assert_eq!(
            db.query("SELECT code, name, kind FROM unit WHERE parent_code = '04792' ORDER BY code"),
            "04792-010|Tổ dân phố Mười|to_dan_pho\n04792-011|Thôn Đông|thon\n",
            "{}",
            db.backend()
        );
        let orgs = db.write("orgs.csv", "ma_to_chuc,ten,loai,ma_xa\nUBND-04792,UBND Phường Tân Hòa,co_quan,04792\n");
        assert_exit(&import(&db, "organisations", &orgs, &[]), 0);
        let people = db.write(
            "p.csv",
            people_file(
                "017085777777,Bùi Văn Dũng,15/6/1985,Nam,04792,thôn đông,HO-2,Mường,nguoi_dan|can_bo,,,UBND-04792\n",
            ),
        );
        assert_exit(&import(&db, "people", &people, &[]), 0);
        assert_eq!(db.query("SELECT village_code, organisation_code FROM person"), "04792-011|UBND-04792\n");
        let unknown = db
            .write("p2.csv", people_file("017085777778,Bùi Văn Em,15/6/1985,Nam,04792,Thôn Đông,HO-2,,,,,KHONG-CO\n"));
        let out = import(&db, "people", &unknown, &[]);
        assert_exit(&out, 1);
        assert!(stderr(&out).contains("KHONG-CO"), "{}", stderr(&out));
        // A re-import of the same units changes nothing.
        let before = db.snapshot();
        assert_exit(&import(&db, "units", &units, &[]), 0);
        assert_eq!(db.snapshot(), before);
    }
}

#[test]
fn xlsx_rosters_are_read_and_a_number_stored_cccd_is_a_bad_row() {
    use rust_xlsxwriter::Workbook;
    let db = TestDb::sqlite();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in PEOPLE_HEADER.split(',').enumerate() {
        sheet.write_string(0, col as u16, name).unwrap();
    }
    for (row, line) in GOOD_PEOPLE.lines().enumerate() {
        for (col, value) in line.split(',').enumerate() {
            sheet.write_string(row as u32 + 1, col as u16, value).unwrap();
        }
    }
    let path = db.dir.path().join("roster.xlsx");
    book.save(&path).unwrap();
    assert_exit(&import(&db, "people", &path, &[]), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM person"), 4);

    // The same with the citizen number typed as a number: Excel dropped its leading zero.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in PEOPLE_HEADER.split(',').enumerate() {
        sheet.write_string(0, col as u16, name).unwrap();
    }
    sheet.write_number(1, 0, 25090123499.0).unwrap();
    for (col, value) in ["Nguyễn Văn Số", "7/3/1990", "Nam", "04792", "Thôn Đông", "HO-1"].iter().enumerate() {
        sheet.write_string(1, col as u16 + 1, *value).unwrap();
    }
    let path = db.dir.path().join("numbers.xlsx");
    book.save(&path).unwrap();
    let before = db.snapshot();
    let out = import(&db, "people", &path, &[]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("dòng 2, cột cccd") && stderr(&out).contains("Excel"), "{}", stderr(&out));
    assert_eq!(db.snapshot(), before);
}
