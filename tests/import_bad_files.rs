//! Bad files: each is refused with a report naming the row, the column and why, and the database
//! stays exactly as it was. Run against SQLite and PostgreSQL.

use crate::common;

use common::*;

struct Case {
    name: &'static str,
    content: Vec<u8>,
    /// Every one of these must appear in the report printed on stderr.
    expect: &'static [&'static str],
}

fn row(cccd: &str, name: &str, birth: &str, sex: &str, commune: &str) -> String {
    format!("{cccd},{name},{birth},{sex},{commune},Thôn Đông,HO-9,,,,,\n")
}

fn cases() -> Vec<Case> {
    let good = "025090123456,Nguyễn Văn An,7/3/1990,Nam,04792,Thôn Đông,HO-1,,,,,\n";
    let with = |extra: &str| people_file(&format!("{good}{extra}")).into_bytes();
    vec![
        Case {
            name: "missing column",
            content: b"cccd,ho_ten,ngay_sinh,gioi_tinh,ma_xa,thon\n025090123456,A,7/3/1990,Nam,04792,T\n".to_vec(),
            expect: &["thiếu cột bắt buộc: ma_ho", "missing required columns: ma_ho"],
        },
        Case {
            name: "unknown column",
            content: format!("{PEOPLE_HEADER},ghi_chu\n{good}").into_bytes(),
            expect: &["\"ghi_chu\"", "unknown columns"],
        },
        Case {
            name: "unknown commune",
            content: with(&row("025090123457", "Lê Văn Bình", "7/3/1990", "Nam", "99999")),
            expect: &["dòng 3, cột ma_xa", "không thuộc tỉnh Phú Thọ"],
        },
        Case {
            name: "impossible date",
            content: with(&row("025090123457", "Lê Văn Bình", "31/2/1990", "Nam", "04792")),
            expect: &["dòng 3, cột ngay_sinh", "không tồn tại", "does not exist"],
        },
        Case {
            name: "cccd year does not match the birth date",
            content: with(&row("025091123457", "Lê Văn Bình", "7/3/1990", "Nam", "04792")),
            expect: &["dòng 3, cột cccd", "năm sinh kết thúc bằng \"90\""],
        },
        Case {
            name: "cccd sex does not match",
            content: with(&row("025090123457", "Lê Thị Bình", "7/3/1990", "Nữ", "04792")),
            expect: &["dòng 3, cột cccd", "không khớp với giới tính"],
        },
        Case {
            name: "cccd with an unknown province",
            content: with(&row("099090123457", "Lê Văn Bình", "7/3/1990", "Nam", "04792")),
            expect: &["dòng 3, cột cccd", "mã tỉnh \"099\""],
        },
        Case {
            name: "duplicate citizen number",
            content: with(&row("025090123456", "Nguyễn Văn An", "7/3/1990", "Nam", "04792")),
            expect: &["dòng 3, cột cccd", "đã có ở dòng 2", "already on row 2"],
        },
        Case {
            name: "household split across villages",
            content: with("025090123458,Nguyễn Văn Ba,7/3/1990,Nam,04792,Thôn Tây,HO-1,,,,,\n"),
            expect: &["dòng 3, cột thon", "hộ HO-1 đã ở thôn khác (dòng 2)"],
        },
        Case { name: "empty file", content: Vec::new(), expect: &["tệp rỗng", "the file is empty"] },
        Case {
            name: "header only",
            content: format!("{PEOPLE_HEADER}\r\n").into_bytes(),
            expect: &["chỉ có dòng tiêu đề"],
        },
        Case {
            name: "a 1 MB field",
            content: with(&row("025090123457", &"A".repeat(1 << 20), "7/3/1990", "Nam", "04792")),
            expect: &["dòng 3, cột ho_ten", "dài quá 120 ký tự"],
        },
        Case {
            name: "invalid UTF-8",
            content: {
                let mut bytes = with("");
                bytes.extend_from_slice(b"025090123457,L\xea V\xe3n B\xecnh,7/3/1990,Nam,04792,Th\xf4n,HO-9,,,,,\n");
                bytes
            },
            expect: &["dòng 3, cột ho_ten", "không phải văn bản UTF-8"],
        },
        Case {
            name: "bad sex, group and phone together",
            content: with("025090123457,Lê Văn Bình,7/3/1990,nam giới,04792,Thôn Đông,HO-9,,giao_vien,12345,,\n"),
            expect: &["dòng 3, cột gioi_tinh", "dòng 3, cột doi_tuong", "dòng 3, cột dien_thoai"],
        },
    ]
}

#[test]
fn every_bad_file_is_refused_whole_and_nothing_changes() {
    for db in TestDb::all() {
        // Something already in the database, to see that it stays as it was.
        let seed = db.write("seed.csv", people_file(GOOD_PEOPLE));
        assert_exit(&db.cli(&["import", "people", path_str(&seed)]), 0);
        let before = db.snapshot();
        for case in cases() {
            let file = db.write("bad.csv", &case.content);
            let report = db.dir.path().join("report.csv");
            let _ = std::fs::remove_file(&report);
            let out = db.cli(&["import", "people", path_str(&file), "--report", path_str(&report)]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{} ({}): exit code; stderr: {err}", case.name, db.backend());
            for needle in case.expect {
                assert!(err.contains(needle), "{} ({}): report lacks {needle:?}:\n{err}", case.name, db.backend());
            }
            assert!(err.len() < 20_000, "{}: the report echoes huge values", case.name);
            // The report file names the same problem, for bad rows and for a file refused whole.
            let written = std::fs::read_to_string(&report)
                .unwrap_or_else(|e| panic!("{} ({}): no report file: {e}", case.name, db.backend()));
            assert!(written.starts_with("\u{feff}dong,cot,gia_tri,ly_do,reason"), "{}: {written}", case.name);
            let rows: Vec<csv::StringRecord> =
                csv::Reader::from_reader(written.as_bytes()).records().map(Result::unwrap).collect();
            assert!(!rows.is_empty(), "{}: an empty report file", case.name);
            for row in &rows {
                assert!(err.contains(&row[3]), "{}: the file says {:?}, the terminal does not", case.name, &row[3]);
                if err.contains("bị từ chối") {
                    assert_eq!(&row[0], "0", "{}: a file refused whole is row 0", case.name);
                }
            }
            assert_eq!(db.snapshot(), before, "{} ({}): the database changed", case.name, db.backend());
        }
    }
}

#[test]
fn a_cell_starting_with_equals_is_kept_as_text_and_neutralised_in_the_report() {
    let db = TestDb::sqlite();
    let rows = "025090123456,=Nguyễn Văn An,7/3/1990,Nam,04792,Thôn Đông,HO-1,,,,,\n\
                025190123457,Lê Thị Bình,7/3/1990,Nữ,04792,Thôn Đông,HO-1,,,=HYPERLINK(\"http://x\"),,\n";
    let file = db.write("eq.csv", people_file(rows));
    let report = db.dir.path().join("report.csv");
    let out = db.cli(&["import", "people", path_str(&file), "--skip-invalid", "--report", path_str(&report)]);
    assert_exit(&out, 3);
    assert_eq!(db.query("SELECT full_name FROM person"), "=Nguyễn Văn An\n");
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(report.contains("'=HYPERLINK"), "{report}");
    assert!(!report.contains(",=HYPERLINK"), "{report}");
}

#[test]
fn decomposed_letters_are_stored_composed_and_names_keep_their_letters() {
    let db = TestDb::sqlite();
    let decomposed = "Nguye\u{302}\u{303}n Thi\u{323} Ho\u{300}a";
    let rows = format!("025192654321,  {decomposed}  ,20/11/1992,Nữ,04792,Tho\u{302}n \u{110}o\u{302}ng,HO-1,,,,,\n");
    let file = db.write("nfd.csv", format!("\u{feff}{}", people_file(&rows).replace('\n', "\r\n")));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
    assert_eq!(db.query("SELECT full_name FROM person"), "Nguyễn Thị Hòa\n");
    assert_eq!(db.query("SELECT name FROM unit WHERE level = 'thon'"), "Thôn Đông\n");
}
