//! Dashboards: a unit's overview and the table of the units below, through HTTP on both databases,
//! over a small imported population whose figures are computed here by hand; quarterly snapshots
//! taken once per quarter however often they are asked for.

use crate::common;

use common::web::{Browser, account, serve};
use common::*;
use reqwest::StatusCode;

/// Four adults of 04792 (two villages) and two of 04795, plus a child of 04792.
const PEOPLE: &str = "\
025090123456,Nguyễn Văn An,7/3/1990,Nam,04792,Thôn Đông,HO-1,Kinh,nguoi_dan,,,
025192654321,Trần Thị Bình,1992-11-20,Nữ,04792,thôn đông,HO-1,Kinh,nguoi_dan,,,
025312000001,Nguyễn Minh Châu,1/9/2012,Nữ,04792,Thôn Đông,HO-1,Kinh,hoc_sinh_sinh_vien,,thcs,
017085777777,Bùi Văn Dũng,15/6/1985,Nam,04792,Xóm Mới,HO-2,Mường,nguoi_dan|can_bo,,,
025207123123,Hà Văn Giang,31/12/2007,Nam,04792,Xóm Mới,HO-2,Kinh,nguoi_dan,,,
025088123456,Lê Văn Em,2/2/1988,Nam,04795,Tổ 5,HO-9,Kinh,nguoi_dan,,,
025189123457,Lê Thị Phúc,3/3/1989,Nữ,04795,Tổ 5,HO-9,Kinh,nguoi_dan,,,
";

const ADULTS: &str = "nguoi_truong_thanh_ky_nang_so";

fn setup(db: &TestDb) {
    let file = db.write("people.csv", people_file(PEOPLE));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
    // Dũng passed (and holds the public-sector certificate); nobody of 04795 has passed.
    db.query(&format!(
        "UPDATE person SET passed_groups = 2, certified_groups = 2, certified_at = 1 WHERE id = {}",
        person_id(db, "Bùi Văn Dũng")
    ));
    assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
}

/// Where `needle` first appears in the page, for comparing orders.
fn at(body: &str, needle: &str) -> usize {
    body.find(needle).unwrap_or_else(|| panic!("{needle} not in the page:\n{body}"))
}

#[tokio::test]
async fn overview_shows_hand_computed_figures_within_the_readers_units() {
    for db in TestDb::all() {
        setup(&db);
        let officer_password = account(&db, "canbo", "can_bo_xa", "04792", None).await;
        let admin_password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let base = serve(&db, db.config()).await;
        let officer = Browser::new(&base);
        officer.login("canbo", &officer_password).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &admin_password).await;

        // The staff home links the overview; the officer's own overview is the commune's.
        assert!(officer.get("/quan-ly").await.body.contains("href=\"/quan-ly/chi-tieu\""));
        let own = officer.get("/quan-ly/chi-tieu?nam=2025").await;
        assert_eq!(own.status, StatusCode::OK, "{}: {}", db.backend(), own.body);
        // Adults of 04792 on 31/12/2025: An, Bình, Dũng, Giang; Dũng passed. 1/4 = 25,0 %;
        // 80 % of 4 = 3.2 → 4 people, 4 − 1 = 3 missing.
        let commune = officer.get("/quan-ly/chi-tieu/04792?nam=2025").await;
        assert_eq!(commune.status, StatusCode::OK);
        assert_eq!(own.body, commune.body);
        let row = &commune.body[at(&commune.body, "<a href=\"#nguoi_truong_thanh_ky_nang_so\">")..];
        let row = &row[..at(row, "</tr>")];
        assert!(row.contains("1/4") && row.contains("25,0\u{a0}%") && row.contains("80\u{a0}%"), "{row}");
        assert!(row.contains("còn thiếu 3 người") && row.contains("Chưa đạt"), "{row}");
        // Public sector: Dũng, certified: reached, said in words, not only in colour.
        let row = &commune.body[at(&commune.body, "<a href=\"#can_bo_ky_nang_so\">")..];
        assert!(row[..at(row, "</tr>")].contains("✓</span> Đạt"), "{row}");
        // A chart and its data table.
        assert!(commune.body.contains("<svg class=\"bar\" role=\"img\" aria-labelledby=\"bt-nguoi_truong_thanh"));
        assert!(commune.body.contains("<title id=\"bt-nguoi_truong_thanh_ky_nang_so\">"));
        assert!(commune.body.contains("<caption>Kết quả so với mục tiêu, năm 2025</caption>"));
        assert!(commune.body.contains("<caption>Theo quý</caption>"));
        // The villages furthest behind link to their overview.
        assert!(commune.body.contains("/quan-ly/chi-tieu/04792-"), "{}", commune.body);

        // Outside the officer's units: 404, the overview as the table.
        for path in ["/quan-ly/chi-tieu/04795", "/quan-ly/chi-tieu/04795/cap-duoi", "/quan-ly/chi-tieu/25"] {
            assert_eq!(officer.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        // Bad input: 400, never a 500.
        for path in [
            "/quan-ly/chi-tieu/04792?nam=1999",
            "/quan-ly/chi-tieu/04792/cap-duoi?sap_xep=khong_co",
            "/quan-ly/chi-tieu/04792/cap-duoi?theo=ngau_nhien",
        ] {
            assert_eq!(officer.get(path).await.status, StatusCode::BAD_REQUEST, "{path}");
        }
        assert_eq!(admin.get("/quan-ly/chi-tieu/99999").await.status, StatusCode::NOT_FOUND);

        // The commune officer's table holds its villages only.
        let villages = officer.get("/quan-ly/chi-tieu/04792/cap-duoi?nam=2025").await;
        assert_eq!(villages.status, StatusCode::OK);
        assert!(villages.body.contains("href=\"/quan-ly/chi-tieu/04792-"), "{}", villages.body);
        assert!(!villages.body.contains("/quan-ly/chi-tieu/04795"));

        // The province: adults 6 (4 + Em, Phúc), 1 passed: 16,7 %; 80 % of 6 = 4.8 → 5, 4 missing.
        let province = admin.get("/quan-ly/chi-tieu?nam=2025").await;
        assert_eq!(province.status, StatusCode::OK);
        let row = &province.body[at(&province.body, "<a href=\"#nguoi_truong_thanh_ky_nang_so\">")..];
        let row = &row[..at(row, "</tr>")];
        assert!(row.contains("1/6") && row.contains("16,7\u{a0}%") && row.contains("còn thiếu 4 người"), "{row}");
        // Furthest behind: 04795 (2 missing of 2 adults counted…) is listed before 04792.
        assert!(at(&province.body, "/quan-ly/chi-tieu/04795?") < at(&province.body, "/quan-ly/chi-tieu/04792?"));
        assert!(province.body.len() < 50_000, "overview weighs {} bytes", province.body.len());

        // The communes table: every commune, and sorting by value changes the order.
        let table = admin.get("/quan-ly/chi-tieu/25/cap-duoi?nam=2025").await;
        assert_eq!(table.status, StatusCode::OK);
        assert!(table.body.len() < 50_000, "table weighs {} bytes", table.body.len());
        let (a, b) = ("href=\"/quan-ly/chi-tieu/04792?", "href=\"/quan-ly/chi-tieu/04795?");
        assert!(table.body.contains(a) && table.body.contains(b));
        assert_eq!(
            table.body.matches("<tr><th scope=\"row\">").count(),
            db.scalar("SELECT count(*) FROM unit WHERE level = 'xa'") as usize
        );
        let by_value =
            admin.get(&format!("/quan-ly/chi-tieu/25/cap-duoi?nam=2025&sap_xep={ADULTS}&theo=gia_tri")).await;
        assert_eq!(by_value.status, StatusCode::OK);
        // 04795 at 0 % before 04792 at 25 %, and communes with nobody counted after both.
        assert!(at(&by_value.body, b) < at(&by_value.body, a), "{}", by_value.body);
        assert!(by_value.body.contains("aria-sort=\"ascending\""));
        // By gap, the other way round: 04792 misses 3, 04795 misses 2 (80 % of 2 = 1.6 → 2).
        let by_gap = admin.get(&format!("/quan-ly/chi-tieu/25/cap-duoi?nam=2025&sap_xep={ADULTS}&theo=thieu")).await;
        assert!(at(&by_gap.body, a) < at(&by_gap.body, b));
        // Rows link to the unit's overview, which the administrator may open.
        assert_eq!(admin.get("/quan-ly/chi-tieu/04795?nam=2025").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_quarter_is_snapshotted_once_and_shows_in_the_trend() {
    for db in TestDb::all() {
        setup(&db);
        let counters = db.scalar("SELECT count(*) FROM indicator_count");
        assert!(counters > 0);
        assert_exit(&db.cli(&["tracking", "snapshot", "--quarter", "2024Q4"]), 0);
        let count = |q: &str| db.scalar(&format!("SELECT count(*) FROM indicator_snapshot WHERE quarter = '{q}'"));
        assert_eq!(count("2024Q4"), counters);
        let adults_04792 = "SELECT numerator FROM indicator_snapshot WHERE quarter = '2024Q4' \
             AND unit_code = '04792' AND year = 2025 AND indicator = 'nguoi_truong_thanh_ky_nang_so'";
        assert_eq!(db.scalar(adults_04792), 1);
        // Bình passes afterwards; a second take of the same quarter keeps the first.
        db.query(&format!("UPDATE person SET passed_groups = 1 WHERE id = {}", person_id(&db, "Trần Thị Bình")));
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
        assert_exit(&db.cli(&["tracking", "snapshot", "--quarter", "2024Q4"]), 0);
        assert_eq!(count("2024Q4"), counters);
        assert_eq!(db.scalar(adults_04792), 1);
        assert_exit(&db.cli(&["tracking", "snapshot", "--quarter", "2025Q9"]), 1);

        // The administrator's button: audited, and once more a no-op for a quarter already taken.
        let password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let officer_password = account(&db, "canbo", "can_bo_xa", "04792", None).await;
        let base = serve(&db, db.config()).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &password).await;
        let before_job = admin.get("/quan-ly/chi-tieu/25").await;
        assert!(before_job.body.contains("action=\"/quan-ly/chup-chi-tieu\""), "{}", before_job.body);
        let csrf = before_job.csrf();
        let page = admin.post("/quan-ly/chup-chi-tieu", &[("quy", "2024Q4"), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}: {}", db.backend(), page.body);
        assert_eq!(count("2024Q4"), counters);
        let page = admin.post("/quan-ly/chup-chi-tieu", &[("quy", "2024Q3"), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(count("2024Q3"), counters);
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'indicator.snapshot'"), 2);
        let page = admin.post("/quan-ly/chup-chi-tieu", &[("quy", "2025-4"), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        // Only the province administrator may take one.
        let officer = Browser::new(&base);
        officer.login("canbo", &officer_password).await;
        let csrf = officer.get("/quan-ly/chi-tieu").await.csrf();
        let page = officer.post("/quan-ly/chup-chi-tieu", &[("quy", "2024Q2"), ("csrf", &csrf)]).await;
        assert!(page.status == StatusCode::NOT_FOUND || page.status == StatusCode::FORBIDDEN, "{}", page.status);
        assert_eq!(count("2024Q2"), 0);

        // The trend: the snapshots per quarter, then now (Bình passed: 2/4).
        let overview = admin.get("/quan-ly/chi-tieu/04792?nam=2025").await;
        let section = &overview.body[at(&overview.body, "id=\"nguoi_truong_thanh_ky_nang_so\"")..];
        let section = &section[..at(section, "</section>")];
        assert!(section.contains("<svg class=\"trend\" role=\"img\""), "{section}");
        let q3 = at(section, "<th scope=\"row\">Quý 3/2024</th><td class=\"num\">2/4</td>");
        let q4 = at(section, "<th scope=\"row\">Quý 4/2024</th><td class=\"num\">1/4</td>");
        let now = at(section, "<th scope=\"row\">Hiện tại</th><td class=\"num\">2/4</td>");
        assert!(q3 < q4 && q4 < now, "{section}");

        // The server's hourly job: the last ended quarter (after 2024, so not one taken above), once.
        let store = db.store().await;
        let last = hocvuso::tracking::snapshot::Quarter::last_ended(hocvuso::domain::time::today()).to_string();
        let before = count(&last);
        let first = hocvuso::tracking::snapshot::catch_up(&store).await.unwrap();
        assert_eq!(first.is_some(), before == 0);
        assert_eq!(count(&last), counters);
        assert_eq!(hocvuso::tracking::snapshot::catch_up(&store).await.unwrap(), None);
        assert_eq!(count(&last), counters);
        store.close().await;
        // The administrator's overview then says the quarter is taken, and offers no button.
        let overview = admin.get("/quan-ly/chi-tieu/25").await;
        assert_eq!(overview.status, StatusCode::OK, "{}: {}", db.backend(), overview.body);
        assert!(overview.body.contains("Đã chụp số liệu"), "{}", overview.body);
        assert!(!overview.body.contains("action=\"/quan-ly/chup-chi-tieu\""));
    }
}

/// The province sets one commune's own target for an indicator and a year (audited); the dashboard
/// and the API then measure the gap against it; an empty value goes back to the plan's; a commune
/// officer cannot set one, and a target out of 0..100 % is refused.
#[tokio::test]
async fn the_province_sets_a_communes_own_target() {
    for db in TestDb::all() {
        setup(&db);
        let officer_password = account(&db, "canbo", "can_bo_xa", "04792", None).await;
        let admin_password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let base = serve(&db, db.config()).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &admin_password).await;
        let officer = Browser::new(&base);
        officer.login("canbo", &officer_password).await;
        let csrf = admin.get("/quan-ly/chi-tieu/04792?nam=2025").await.csrf();
        let set = |value: &'static str| {
            let csrf = csrf.clone();
            let admin = &admin;
            async move {
                admin
                    .post(
                        "/quan-ly/chi-tieu/04792/muc-tieu",
                        &[("csrf", csrf.as_str()), ("chi_tieu", ADULTS), ("nam", "2025"), ("muc_tieu", value)],
                    )
                    .await
            }
        };
        let api_target = || async {
            let page = admin.get("/api/v1/units/04792/indicators?year=2025").await;
            let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
            let found = json["indicators"].as_array().unwrap().iter().find(|i| i["code"] == ADULTS).unwrap().clone();
            (found["target"].as_f64().unwrap(), found["gap"].as_i64().unwrap())
        };
        // The plan's 80 % of 4 adults (Giang, born 31/12/2007, is 18 in 2025): 4 needed, 1 reached.
        assert_eq!(api_target().await, (0.8, 3), "{}", db.backend());

        let done = set("72,5").await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        // 72.5 % of 4 is 2.9: 3 people, 1 reached.
        assert_eq!(api_target().await, (0.725, 2));
        let page = admin.get("/quan-ly/chi-tieu/04792?nam=2025").await;
        assert!(page.body.contains("72,5"), "{}", page.body);
        let audited = db.scalar(
            "SELECT count(*) FROM audit_log WHERE action = 'indicator.target' AND unit_code = '04792' \
             AND detail LIKE '%nguoi_truong_thanh_ky_nang_so%'",
        );
        assert_eq!(audited, 1);
        // 20 %: one of 4 is enough, the gap closes.
        assert_eq!(set("20").await.status, StatusCode::SEE_OTHER);
        assert_eq!(api_target().await, (0.2, 0));
        // Out of range: refused, nothing changed.
        assert_eq!(set("150").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(api_target().await, (0.2, 0));
        // Empty: back to the plan's.
        assert_eq!(set("").await.status, StatusCode::SEE_OTHER);
        assert_eq!(api_target().await, (0.8, 3));

        // A commune officer cannot set a target, not even for their own commune.
        let ocsrf = officer.get("/quan-ly/chi-tieu/04792?nam=2025").await.csrf();
        let refused = officer
            .post(
                "/quan-ly/chi-tieu/04792/muc-tieu",
                &[("csrf", ocsrf.as_str()), ("chi_tieu", ADULTS), ("nam", "2025"), ("muc_tieu", "10")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(api_target().await, (0.8, 3));
    }
}

/// People of an agency of 04792 and an enterprise of 04795, some living in the other commune.
const STAFF_PEOPLE: &str = "\
017085777777,Bùi Văn Dũng,15/6/1985,Nam,04792,Xóm Mới,HO-2,Mường,nguoi_dan|can_bo,,,UBND-04792
025088123456,Lê Văn Em,2/2/1988,Nam,04795,Tổ 5,HO-9,Kinh,nguoi_dan|can_bo,,,UBND-04792
025189123457,Lê Thị Phúc,3/3/1989,Nữ,04795,Tổ 5,HO-9,Kinh,nguoi_dan|nguoi_lao_dong,,,DN-04795
025090123456,Nguyễn Văn An,7/3/1990,Nam,04792,Thôn Đông,HO-1,Kinh,nguoi_dan|nguoi_lao_dong,,,DN-04795
";

/// The row of `name` in a table, up to its end.
fn table_row<'a>(body: &'a str, name: &str) -> &'a str {
    let row = &body[at(body, &format!(">{name}</a></th>"))..];
    &row[..at(row, "</tr>")]
}

#[tokio::test]
async fn agencies_see_their_staffs_indicators_and_only_theirs() {
    for db in TestDb::all() {
        let orgs = db.write(
            "orgs.csv",
            "ma_to_chuc,ten,loai,ma_xa\nUBND-04792,UBND Phường Tân Hòa,co_quan,04792\nDN-04795,Công ty Chè Xanh,doanh_nghiep,04795\n",
        );
        assert_exit(&db.cli(&["import", "organisations", path_str(&orgs)]), 0);
        let file = db.write("people.csv", people_file(STAFF_PEOPLE));
        assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
        // Dũng holds the public-sector certificate, An the enterprise workers' one (the counters'
        // agreement with the write paths is tests/tracking_counters.rs's).
        for (name, bit) in [("Bùi Văn Dũng", 2), ("Nguyễn Văn An", 8)] {
            db.query(&format!(
                "UPDATE person SET passed_groups = {bit}, certified_groups = {bit}, certified_at = 1 WHERE id = {}",
                person_id(&db, name)
            ));
        }
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);

        let agency_password = account(&db, "ubnd", "can_bo_nganh", "25", Some("UBND-04792")).await;
        let officer_password = account(&db, "canbo", "can_bo_xa", "04792", None).await;
        let admin_password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let base = serve(&db, db.config()).await;
        let (agency, officer, admin) = (Browser::new(&base), Browser::new(&base), Browser::new(&base));
        agency.login("ubnd", &agency_password).await;
        officer.login("canbo", &officer_password).await;
        admin.login("tinh", &admin_password).await;

        // The agency officer's home links the table, which holds their agency only.
        assert!(agency.get("/quan-ly").await.body.contains("href=\"/quan-ly/co-quan\""));
        let list = agency.get("/quan-ly/co-quan?nam=2025&sap_xep=can_bo_ky_nang_so").await;
        assert_eq!(list.status, StatusCode::OK, "{}: {}", db.backend(), list.body);
        // Public sector of the agency: Dũng (04792) and Em (04795, wherever he lives); Dũng certified.
        // 80 % of 2 = 1.6 → 2 people, one missing.
        let row = table_row(&list.body, "UBND Phường Tân Hòa");
        assert!(row.contains("1/2") && row.contains("50,0\u{a0}%") && row.contains(">1</td>"), "{row}");
        assert!(!list.body.contains("Công ty Chè Xanh"), "{}", list.body);
        let page = agency.get("/quan-ly/co-quan/chi-tiet?ma=UBND-04792&nam=2025").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("còn thiếu 1 người") && page.body.contains("<svg class=\"bar\""), "{}", page.body);
        assert_eq!(agency.get("/quan-ly/co-quan/chi-tiet?ma=DN-04795").await.status, StatusCode::NOT_FOUND);

        // The commune officer: organisations of the commune, not those where its residents work.
        let list = officer.get("/quan-ly/co-quan?nam=2025").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("UBND Phường Tân Hòa") && !list.body.contains("Công ty Chè Xanh"), "{}", list.body);
        assert_eq!(officer.get("/quan-ly/co-quan/chi-tiet?ma=DN-04795").await.status, StatusCode::NOT_FOUND);

        // The province: both; the enterprise's workers are Phúc and An (who lives in 04792), An certified.
        let list = admin.get("/quan-ly/co-quan?nam=2025&loai=doanh_nghiep&sap_xep=nguoi_lao_dong_dn_ky_nang_so").await;
        assert_eq!(list.status, StatusCode::OK);
        let row = table_row(&list.body, "Công ty Chè Xanh");
        assert!(row.contains("1/2") && row.contains("Doanh nghiệp"), "{row}");
        assert!(!list.body.contains("UBND Phường Tân Hòa"), "the kind filter: {}", list.body);
        let all = admin.get("/quan-ly/co-quan?nam=2025&sap_xep=can_bo_ky_nang_so&theo=thieu").await;
        assert!(all.body.contains("UBND Phường Tân Hòa") && all.body.contains("Công ty Chè Xanh"));
        // Most missing first: the agency (1 missing) before the enterprise (no public sector).
        assert!(at(&all.body, ">UBND Phường Tân Hòa<") < at(&all.body, ">Công ty Chè Xanh<"), "{}", all.body);

        // Bad input: 400, never a 500; people who are not staff: refused.
        for path in [
            "/quan-ly/co-quan?loai=cho",
            "/quan-ly/co-quan?nam=1999",
            "/quan-ly/co-quan?sap_xep=khong_co",
            "/quan-ly/co-quan/chi-tiet",
            "/quan-ly/co-quan/chi-tiet?ma=%3Cscript%3E",
        ] {
            assert_eq!(admin.get(path).await.status, StatusCode::BAD_REQUEST, "{path}");
        }
        assert_ne!(Browser::new(&base).get("/quan-ly/co-quan").await.status, StatusCode::OK);
    }
}
