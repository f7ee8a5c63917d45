//! Digital ambassadors and the one-stop desk (issue 22), over HTTP on both databases: a mentor with
//! fewer than 5 mentees shows in the commune's compliance list, and stops showing at 5; the mentor's
//! page lists the mentees and who is stuck; a one-stop staff member logs hours and a citizen helped.

use crate::common;

use common::web::{Browser, logged_in, serve};
use common::*;
use reqwest::StatusCode;

/// A fifth person of commune 04792 (female, born 1995).
const FIFTH: &str = "025195000007,Hoàng Thị Năm,1/1/1995,Nữ,04792,Thôn Đông,HO-3,Kinh,nguoi_dan,,,\n";
const CCCD_04792: [&str; 4] = ["025090123456", "025192654321", "025312000001", "017085777777"];

/// The text of the compliance line of the mentor rule.
async fn mentor_rule(officer: &Browser) -> String {
    let page = officer.get("/quan-ly/don-vi/04792/quy-dinh").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let row = page.body.split("<tr>").find(|r| r.contains("Đại sứ số (mentor)")).expect("the mentor rule's row");
    row.to_owned()
}

#[tokio::test]
async fn a_mentor_with_fewer_than_five_mentees_shows_in_the_compliance_list() {
    for db in TestDb::all() {
        let what = db.backend();
        let file = db.write("people.csv", people_file(&format!("{GOOD_PEOPLE}{OTHER_COMMUNE_PERSON}{FIFTH}")));
        assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
        let base = serve(&db, db.config()).await;
        let officer = logged_in(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let mentor = logged_in(&db, &base, "ds.xa", "dai_su_so", "04792").await;

        let row = mentor_rule(&officer).await;
        assert!(row.contains("Chưa đạt") && row.contains("ds.xa (0 người học)"), "{what}: {row}");
        let page = officer.get("/quan-ly/don-vi/04792/dai-su-so").await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.body);
        let csrf = page.csrf();
        let mentor_id = db.query("SELECT id FROM account WHERE login = 'ds.xa'").trim().to_owned();
        for cccd in CCCD_04792 {
            let done = officer
                .post("/quan-ly/don-vi/04792/dai-su-so", &[("csrf", &csrf), ("mentor", &mentor_id), ("cccd", cccd)])
                .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{what}: {}", done.body);
        }
        let row = mentor_rule(&officer).await;
        assert!(row.contains("Chưa đạt") && row.contains("ds.xa (4 người học)"), "{what}: {row}");
        // A person of another commune cannot be assigned by this commune's officer.
        let refused = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so",
                &[("csrf", &csrf), ("mentor", &mentor_id), ("cccd", "025088123456")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what}");
        let fifth = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so",
                &[("csrf", &csrf), ("mentor", &mentor_id), ("cccd", "025195000007")],
            )
            .await;
        assert_eq!(fifth.status, StatusCode::SEE_OTHER, "{what}: {}", fifth.body);
        let row = mentor_rule(&officer).await;
        assert!(row.contains("Đạt") && !row.contains("Chưa đạt"), "{what}: {row}");

        // The mentor's page: five mentees, one stuck for 20 days, a session logged.
        let dung = person_id(&db, "Bùi Văn Dũng");
        db.query(&format!("UPDATE mentee SET assigned_at = assigned_at - 20 * 86400 WHERE person_id = {dung}"));
        let mine = mentor.get("/dai-su-so").await;
        assert_eq!(mine.status, StatusCode::OK, "{what}: {}", mine.body);
        for name in ["Nguyễn Văn An", "Hoàng Thị Năm", "Bùi Văn Dũng"] {
            assert!(mine.body.contains(name), "{what}: {name}");
        }
        assert!(mine.body.contains("1 người chững lại"), "{what}");
        let an = person_id(&db, "Nguyễn Văn An");
        let logged = mentor
            .post(
                "/dai-su-so/buoi",
                &[
                    ("csrf", &mine.csrf()),
                    ("nguoi", &an.to_string()),
                    ("ngay", "2025-06-01"),
                    ("noi_dung", "Cài VNeID"),
                    ("bai", "bai-mot"),
                ],
            )
            .await;
        assert_eq!(logged.status, StatusCode::SEE_OTHER, "{what}: {}", logged.body);
        let em = person_id(&db, "Lê Văn Em");
        let not_mine = mentor
            .post("/dai-su-so/buoi", &[("csrf", &mine.csrf()), ("nguoi", &em.to_string()), ("ngay", "2025-06-01")])
            .await;
        assert_eq!(not_mine.status, StatusCode::NOT_FOUND, "{what}");
        assert_eq!(db.scalar("SELECT count(*) FROM mentoring_session"), 1, "{what}: the refused session is not stored");
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'mentee.assign'"), 5, "{what}");
        // A session long ago does not bring Dũng back; one today does.
        let old = mentor
            .post("/dai-su-so/buoi", &[("csrf", &mine.csrf()), ("nguoi", &dung.to_string()), ("ngay", "2025-06-01")])
            .await;
        assert_eq!(old.status, StatusCode::SEE_OTHER, "{what}");
        assert!(mentor.get("/dai-su-so").await.body.contains("1 người chững lại"), "{what}");
        let again = mentor
            .post(
                "/dai-su-so/buoi",
                &[
                    ("csrf", &mine.csrf()),
                    ("nguoi", &dung.to_string()),
                    ("ngay", &hocvuso::domain::time::today().to_string()),
                ],
            )
            .await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{what}");
        assert!(mentor.get("/dai-su-so").await.body.contains("0 người chững lại"), "{what}");
        // The officer sees the same page; a mentor does not see the officer's pages.
        assert_eq!(officer.get(&format!("/quan-ly/dai-su-so/{mentor_id}")).await.status, StatusCode::OK, "{what}");
        assert_eq!(mentor.get("/quan-ly/don-vi/04792/dai-su-so").await.status, StatusCode::FORBIDDEN, "{what}");
        // A mentee of another commune (assigned by the province) is the mentor's, not the commune officer's to see.
        let province = logged_in(&db, &base, "quantri", "quan_tri_tinh", "25").await;
        let page = province.get("/quan-ly/don-vi/25/dai-su-so").await;
        let assigned = province
            .post(
                "/quan-ly/don-vi/25/dai-su-so",
                &[("csrf", &page.csrf()), ("mentor", &mentor_id), ("cccd", "025088123456")],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{what}: {}", assigned.body);
        assert!(mentor.get("/dai-su-so").await.body.contains("Lê Văn Em"), "{what}");
        let seen = officer.get(&format!("/quan-ly/dai-su-so/{mentor_id}")).await;
        assert!(seen.body.contains("Nguyễn Văn An") && !seen.body.contains("Lê Văn Em"), "{what}");
    }
}

#[tokio::test]
async fn one_stop_staff_log_their_hours_and_the_citizens_they_helped() {
    for db in TestDb::all() {
        let what = db.backend();
        seed_people(&db);
        let base = serve(&db, db.config()).await;
        let desk = logged_in(&db, &base, "motcua.xa", "ho_tro_mot_cua", "04792").await;
        let other = logged_in(&db, &base, "motcua.khac", "ho_tro_mot_cua", "04795").await;
        let page = desk.get("/quan-ly/don-vi/04792/mot-cua").await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.body);
        let csrf = page.csrf();
        let hours = desk
            .post("/quan-ly/don-vi/04792/mot-cua/gio", &[("csrf", &csrf), ("gio", "Thứ Hai–Thứ Sáu, 7h30–11h30")])
            .await;
        assert_eq!(hours.status, StatusCode::SEE_OTHER, "{what}: {}", hours.body);
        let help = [
            ("csrf", csrf.as_str()),
            ("thu_tuc", "Đăng ký khai sinh trực tuyến"),
            ("ket_qua", "xong"),
            ("ngay", "2025-06-02"),
            ("cccd", "025090123456"),
            ("ghi_chu", ""),
        ];
        assert_eq!(
            desk.post("/quan-ly/don-vi/04792/mot-cua/ho-tro", &help).await.status,
            StatusCode::SEE_OTHER,
            "{what}"
        );
        let mut bad = help;
        bad[2] = ("ket_qua", "khong_biet");
        assert_eq!(
            desk.post("/quan-ly/don-vi/04792/mot-cua/ho-tro", &bad).await.status,
            StatusCode::BAD_REQUEST,
            "{what}"
        );
        let page = desk.get("/quan-ly/don-vi/04792/mot-cua").await;
        assert!(page.body.contains("7h30–11h30") && page.body.contains("Đăng ký khai sinh trực tuyến"), "{what}");
        let an = person_id(&db, "Nguyễn Văn An");
        assert_eq!(db.scalar(&format!("SELECT count(*) FROM one_stop_help WHERE person_id = {an}")), 1, "{what}");
        assert_eq!(
            db.scalar(&format!("SELECT count(*) FROM audit_log WHERE action = 'one_stop.help' AND person_id = {an}")),
            1,
            "{what}"
        );
        // Another commune's desk sees nothing of this one.
        assert_eq!(other.get("/quan-ly/don-vi/04792/mot-cua").await.status, StatusCode::NOT_FOUND, "{what}");
    }
}
