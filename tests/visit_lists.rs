//! Who to visit next, over HTTP on both databases: exactly who is in each list of a small roster with
//! hand-known ages, facts and households; the exports (XLSX read back, CSV with BOM and neutralised
//! formulas); the unit scope; the structural rules page.

use crate::common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::web::{Browser, account, serve};
use common::*;
use reqwest::StatusCode;

/// Commune 04792: Cả is born 31/12/2007 (18 on 31/12/2025), Nhỏ 1/1/2008 (17); Già the oldest; Đạt has
/// passed, learned, VNeID level 2 and a bank account; Hộ and Bé live in HO-C where nobody learned.
/// Commune 04795: Em, who a 04792 officer must never see.
const PEOPLE: &str = "\
025207000001,Đỗ Văn Cả,31/12/2007,Nam,04792,Thôn Đông,HO-A,Kinh,nguoi_dan,,,
025308000002,Hà Thị Nhỏ,1/1/2008,Nữ,04792,Thôn Đông,HO-A,Kinh,nguoi_dan,,,
025050000003,Lý Văn Già,1/1/1950,Nam,04792,Xóm Mới,HO-B,Kinh,nguoi_dan,0912345678,,
025180000004,Mai Thị Đạt,1/1/1980,Nữ,04792,Xóm Mới,HO-B,Kinh,nguoi_dan,,,
025070000005,Phan Văn Hộ,1/1/1970,Nam,04792,Thôn Đông,HO-C,Kinh,nguoi_dan,,,
025310000006,Vũ Thị Bé,1/1/2010,Nữ,04792,Thôn Đông,HO-C,Kinh,nguoi_dan,,,
025088123456,Lê Văn Em,2/2/1988,Nam,04795,Tổ 5,HO-9,Kinh,nguoi_dan,0987654321,,
";

const ALL_04792: [&str; 6] = ["Đỗ Văn Cả", "Hà Thị Nhỏ", "Lý Văn Già", "Mai Thị Đạt", "Phan Văn Hộ", "Vũ Thị Bé"];

fn seed(db: &TestDb) {
    let file = db.write("people.csv", people_file(PEOPLE));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
    // The facts as the write paths leave them on the person row.
    db.query("UPDATE person SET learned_at = 1735700000 WHERE full_name IN ('Hà Thị Nhỏ', 'Mai Thị Đạt')");
    db.query(
        "UPDATE person SET passed_groups = 1, certified_groups = 1, vneid_level = 2, vneid_level_source = 'staff', \
         vneid_level_at = 1735700000, bank_account = 1, bank_source = 'staff', bank_at = 1735700000 \
         WHERE full_name = 'Mai Thị Đạt'",
    );
    db.query(
        "UPDATE person SET vneid_level = 2, vneid_level_source = 'staff', vneid_level_at = 1735700000 \
         WHERE full_name = 'Lý Văn Già'",
    );
}

/// The names of 04792 (and Em) that appear in `body`, in the order they appear.
fn names_in(body: &str) -> Vec<&'static str> {
    let mut found: Vec<(usize, &'static str)> =
        ALL_04792.iter().chain(["Lê Văn Em"].iter()).filter_map(|n| body.find(n).map(|at| (at, *n))).collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

async fn officer(db: &TestDb, base: &str) -> Browser {
    let password = account(db, "canbo", "can_bo_xa", "04792", None).await;
    let browser = Browser::new(base);
    browser.login("canbo", &password).await;
    browser
}

#[tokio::test]
async fn each_list_holds_exactly_who_it_should() {
    for db in TestDb::all() {
        seed(&db);
        let base = serve(&db, db.config()).await;
        let officer = officer(&db, &base).await;
        let what = db.backend();

        let page = officer.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=chua_dat&nam=2025").await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.body);
        // Oldest first; Cả (31/12/2007) is an adult in 2025, Nhỏ (1/1/2008) is not; Đạt has passed.
        assert_eq!(names_in(&page.body), ["Lý Văn Già", "Phan Văn Hộ", "Đỗ Văn Cả"], "{what}");
        let by_village = officer.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=chua_dat&theo=thon&nam=2025").await;
        let mut grouped = names_in(&by_village.body);
        grouped.sort();
        assert_eq!(grouped, ["Lý Văn Già", "Phan Văn Hộ", "Đỗ Văn Cả"], "{what}");
        // Within one village the oldest first: Hộ (1970) before Cả (2007), both of Thôn Đông.
        let order = names_in(&by_village.body);
        let at = |n: &str| order.iter().position(|x| *x == n).unwrap();
        assert!(at("Phan Văn Hộ") < at("Đỗ Văn Cả"), "{what}: {order:?}");
        // One heading per village.
        assert_eq!(by_village.body.matches("colspan=\"9\">Thôn Đông<").count(), 1, "{what}");
        assert_eq!(by_village.body.matches("colspan=\"9\">Xóm Mới<").count(), 1, "{what}");
        // In 2026 Nhỏ is 18 too.
        let later = officer.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=chua_dat&nam=2026").await;
        assert!(names_in(&later.body).contains(&"Hà Thị Nhỏ"), "{what}");

        let households = officer.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=ho_chua_hoc&nam=2025").await;
        let mut in_households = names_in(&households.body);
        in_households.sort();
        assert_eq!(in_households, ["Phan Văn Hộ", "Vũ Thị Bé"], "{what}");

        let digital = officer.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=so_hoa&nam=2025").await;
        let mut in_digital = names_in(&digital.body);
        in_digital.sort();
        // 16+ in 2025 (born 2009 or before) without level 2 or a bank account: not Đạt (both), not Bé (15).
        assert_eq!(in_digital, ["Hà Thị Nhỏ", "Lý Văn Già", "Phan Văn Hộ", "Đỗ Văn Cả"], "{what}");
        assert!(digital.body.contains("Chưa có tài khoản ngân hàng số"), "{what}: Già has level 2, no bank");

        // Each row links to the record and shows the learning status.
        let id = person_id(&db, "Lý Văn Già");
        assert!(page.body.contains(&format!("href=\"/quan-ly/nguoi/{id}\"")), "{what}");
        assert!(page.body.contains("Chưa học"), "{what}");

        // A digital-technology team member sees the list, but no link to a record they may not open.
        let password = account(&db, "todoi", "to_cong_nghe_so", "04792", None).await;
        let team = Browser::new(&base);
        team.login("todoi", &password).await;
        let theirs = team.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=chua_dat&nam=2025").await;
        assert_eq!(names_in(&theirs.body), ["Lý Văn Già", "Phan Văn Hộ", "Đỗ Văn Cả"], "{what}");
        assert!(!theirs.body.contains("/quan-ly/nguoi/"), "{what}");
        assert_eq!(team.get(&format!("/quan-ly/nguoi/{id}")).await.status, StatusCode::FORBIDDEN, "{what}");

        let bad = officer.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=khong_co").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{what}");

        // Audited like the people list: the list's name and its row count, no names.
        let detail = db.query(
            "SELECT detail FROM audit_log WHERE action = 'person.list' AND unit_code = '04792' \
             AND detail LIKE '%ho_chua_hoc%'",
        );
        assert!(detail.contains("\"rows\":2"), "{what}: {detail}");
        assert!(!detail.contains("Hộ"), "{what}: {detail}");
    }
}

#[tokio::test]
async fn pages_follow_the_keyset() {
    for db in TestDb::all() {
        // 60 adults of one village, so the first page (50) has a next.
        // Ten birth years shared by six people each, so that the keyset must break ties by id.
        let name = |i: usize| format!("Người {}{}", (b'A' + (i / 26) as u8) as char, (b'a' + (i % 26) as u8) as char);
        let mut rows = String::new();
        for i in 0..60 {
            let year = 40 + i % 10;
            rows.push_str(&format!(
                "0250{year:02}00{i:04},{},1/1/19{year:02},Nam,04792,Thôn Đông,HO-{i},Kinh,,,,\n",
                name(i)
            ));
        }
        let file = db.write("many.csv", people_file(&rows));
        assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
        let base = serve(&db, db.config()).await;
        let officer = officer(&db, &base).await;
        // Oldest first (a cursor of numbers), by village (text and numbers), by household (text):
        // each household here has one person, so every list holds all 60.
        for list in ["danh_sach=chua_dat", "danh_sach=chua_dat&theo=thon", "danh_sach=ho_chua_hoc"] {
            let mut seen = std::collections::BTreeSet::new();
            let mut next = Some(format!("/quan-ly/don-vi/04792/can-ho-tro?{list}&nam=2025"));
            let mut pages = 0;
            while let Some(path) = next.take() {
                let page = officer.get(&path).await;
                assert_eq!(page.status, StatusCode::OK, "{}", page.body);
                for i in 0..60 {
                    if page.body.contains(&format!(">{}<", name(i))) {
                        assert!(seen.insert(i), "{}: {i} on two pages: {path}", db.backend());
                    }
                }
                next = page
                    .body
                    .split("<a href=\"")
                    .filter_map(|s| s.split('"').next())
                    .find(|h| h.contains("sau="))
                    .map(|h| h.replace("&amp;", "&").replace("&#38;", "&"));
                pages += 1;
                assert!(pages < 5);
            }
            assert_eq!(pages, 2, "{} {list}", db.backend());
            assert_eq!(seen.len(), 60, "{} {list}", db.backend());
        }
    }
}

#[tokio::test]
async fn exports_for_the_teams() {
    for db in TestDb::all() {
        seed(&db);
        // A cell a spreadsheet would run as a formula.
        db.query("UPDATE person SET full_name = '=HYPERLINK(\"x\")' WHERE full_name = 'Phan Văn Hộ'");
        let base = serve(&db, db.config()).await;
        let officer = officer(&db, &base).await;
        let what = db.backend();

        let csv = officer
            .client
            .get(format!("{base}/quan-ly/don-vi/04792/can-ho-tro.csv?danh_sach=chua_dat&nam=2025"))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), StatusCode::OK, "{what}");
        let bytes = csv.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{what}: BOM");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Họ tên,Năm sinh,Thôn,Hộ,Điện thoại,Còn thiếu", "{what}");
        assert_eq!(lines.len(), 4, "{what}: {text}");
        assert!(lines[1].starts_with("Lý Văn Già,1950,Xóm Mới,HO-B,0912345678,"), "{what}: {text}");
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{what}: the formula is neutralised: {text}");
        assert!(!text.contains("025050000003"), "{what}: no citizen numbers");
        assert!(!text.contains("Lê Văn Em"), "{what}");

        let xlsx = officer
            .client
            .get(format!("{base}/quan-ly/don-vi/04792/can-ho-tro.xlsx?danh_sach=so_hoa&nam=2025"))
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), StatusCode::OK, "{what}");
        let bytes = xlsx.bytes().await.unwrap().to_vec();
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("Danh sach").unwrap();
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Float(f) => format!("{f}"),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(rows[0], ["Họ tên", "Năm sinh", "Thôn", "Hộ", "Điện thoại", "Còn thiếu"], "{what}");
        let mut names: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        names.sort();
        assert_eq!(names, ["=HYPERLINK(\"x\")", "Hà Thị Nhỏ", "Lý Văn Già", "Đỗ Văn Cả"], "{what}");
        let gia = rows.iter().find(|r| r[0] == "Lý Văn Già").unwrap();
        assert_eq!(gia[1], "1950", "{what}");
        assert_eq!(gia[5], "Chưa có tài khoản ngân hàng số", "{what}");
        // Written as text, not as a formula: calamine reads no formula back.
        assert!(book.worksheet_formula("Danh sach").unwrap().used_cells().next().is_none(), "{what}");

        let audited =
            db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'person.export' AND unit_code = '04792'");
        assert_eq!(audited, 2, "{what}");
    }
}

#[tokio::test]
async fn a_commune_officer_sees_only_their_commune() {
    for db in TestDb::all() {
        seed(&db);
        let base = serve(&db, db.config()).await;
        let officer = officer(&db, &base).await;
        let what = db.backend();
        for path in [
            "/quan-ly/don-vi/04795/can-ho-tro",
            "/quan-ly/don-vi/04795/can-ho-tro.csv",
            "/quan-ly/don-vi/04795/can-ho-tro.xlsx",
            "/quan-ly/don-vi/04795/quy-dinh",
            "/quan-ly/don-vi/25/can-ho-tro",
        ] {
            let page = officer.get(path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{what} {path}");
        }
        for list in ["chua_dat", "ho_chua_hoc", "so_hoa"] {
            let page = officer.get(&format!("/quan-ly/don-vi/04792/can-ho-tro.csv?danh_sach={list}&nam=2025")).await;
            assert_eq!(page.status, StatusCode::OK, "{what}");
            assert!(!page.body.contains("Lê Văn Em"), "{what} {list}");
        }
        // The province's administrator sees 04795's list, but exports one commune at a time.
        let password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &password).await;
        let away = admin.get("/quan-ly/don-vi/04795/can-ho-tro?nam=2025").await;
        assert_eq!(names_in(&away.body), ["Lê Văn Em"], "{what}");
        // The province's page is a choice of communes, not a sort of its millions.
        let choose = admin.get("/quan-ly/don-vi/25/can-ho-tro").await;
        assert_eq!(choose.status, StatusCode::OK, "{what}");
        assert!(choose.body.contains("/quan-ly/don-vi/04795/can-ho-tro?danh_sach=chua_dat"), "{what}");
        assert!(names_in(&choose.body).is_empty(), "{what}");
        let province = admin.get("/quan-ly/don-vi/25/can-ho-tro.csv").await;
        assert_eq!(province.status, StatusCode::BAD_REQUEST, "{what}");
    }
}

#[tokio::test]
async fn rules_show_no_false_compliance_and_the_real_one_stop_count() {
    for db in TestDb::all() {
        seed(&db);
        account(&db, "motcua1", "ho_tro_mot_cua", "04792", None).await;
        account(&db, "motcua2", "ho_tro_mot_cua", "04792", None).await;
        account(&db, "motcua3", "ho_tro_mot_cua", "04795", None).await;
        let base = serve(&db, db.config()).await;
        let officer = officer(&db, &base).await;
        let what = db.backend();
        let page = officer.get("/quan-ly/don-vi/04792/quy-dinh").await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.body);
        let rows: Vec<&str> = page.body.split("<tr>").skip(2).collect();
        assert_eq!(rows.len(), 4, "{what}");
        let row = |code: &str| *rows.iter().find(|r| r.contains(code)).unwrap();
        assert!(row("05 người học").contains("Chưa có dữ liệu"), "{what}");
        assert!(row("hằng tuần").contains("Chưa có dữ liệu"), "{what}");
        assert!(row("10/10").contains("Chưa có dữ liệu"), "{what}");
        let one_stop = row("thủ tục hành chính");
        assert!(one_stop.contains("Đạt") && one_stop.contains("2 tài khoản"), "{what}: {one_stop}");
        assert_eq!(page.body.matches(">Đạt<").count(), 1, "{what}: only the one-stop rule is compliant");
        // A commune without one-stop staff is not compliant; the count is its own.
        db.query("DELETE FROM role_grant WHERE role = 'ho_tro_mot_cua' AND unit_code = '04792'");
        let none = officer.get("/quan-ly/don-vi/04792/quy-dinh").await;
        assert!(none.body.contains(">Chưa đạt<") && none.body.contains("0 tài khoản"), "{what}: {}", none.body);
        assert_eq!(none.body.matches(">Đạt<").count(), 0, "{what}");

        let home = officer.get("/quan-ly").await;
        assert!(home.body.contains("/quan-ly/don-vi/04792/can-ho-tro"), "{what}");
        assert!(home.body.contains("/quan-ly/don-vi/04792/quy-dinh"), "{what}");
        let people = officer.get("/quan-ly/don-vi/04792/nguoi").await;
        assert!(people.body.contains("/quan-ly/don-vi/04792/can-ho-tro"), "{what}");
    }
}

#[tokio::test]
async fn the_people_list_shows_learning_status() {
    for db in TestDb::all() {
        seed(&db);
        db.query("UPDATE person SET vneid_confirmed_at = 1735700000 WHERE full_name = 'Mai Thị Đạt'");
        let base = serve(&db, db.config()).await;
        let officer = officer(&db, &base).await;
        let page = officer.get("/quan-ly/don-vi/04792/nguoi").await;
        assert_eq!(page.status, StatusCode::OK);
        let row = page.body.split("<tr>").find(|r| r.contains("Mai Thị Đạt")).unwrap();
        assert!(row.contains("<td>Đã học</td><td>Có</td><td>Có</td><td>Có</td>"), "{}: {row}", db.backend());
        let row = page.body.split("<tr>").find(|r| r.contains("Lý Văn Già")).unwrap();
        assert!(row.contains("<td>Chưa học</td><td>Chưa</td><td>Chưa</td><td>Chưa</td>"), "{}: {row}", db.backend());
    }
}
