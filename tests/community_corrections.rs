//! Correcting the community records (issue 22), over HTTP on both databases: a commune officer
//! corrects or deletes a door-to-door visit (a fact the visit set is taken back only while it still
//! came from that visit, and the counters always equal a rebuild), removes a mentee, deletes a
//! mentoring session and a one-stop help, cancels a class and takes back an attendance; exports
//! the commune's visits, attendance and mentors as CSV and XLSX; registers and deregisters a digital
//! ambassador. Every change is audited; another commune's officer is refused.

use crate::common;

use common::community::{counters, post_visit, team};
use common::web::{Browser, account, logged_in, serve};
use common::*;
use reqwest::StatusCode;
use serde_json::json;

const V1: &str = "5e1c1e8e-6c1a-4b55-9f1e-2d7c3b1a0e01";
const V2: &str = "5e1c1e8e-6c1a-4b55-9f1e-2d7c3b1a0e02";

/// The kept counters equal what a full rebuild computes from the rows.
fn assert_counters_equal_a_rebuild(db: &TestDb, what: &str) {
    let kept = counters(db);
    assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
    assert_eq!(kept, counters(db), "{what}: the kept counters equal a rebuild");
}

fn facts(db: &TestDb, person: i64) -> String {
    db.query(&format!(
        "SELECT vneid_level, vneid_level_source, bank_account, bank_source FROM person WHERE id = {person}"
    ))
    .trim()
    .to_owned()
}

fn audits(db: &TestDb, action: &str) -> i64 {
    db.scalar(&format!("SELECT count(*) FROM audit_log WHERE action = '{action}'"))
}

#[tokio::test]
async fn a_corrected_or_deleted_visit_takes_back_only_the_facts_that_still_came_from_it() {
    for db in TestDb::all() {
        let what = db.backend();
        seed_people(&db);
        let base = serve(&db, db.config()).await;
        let officer = logged_in(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let volunteer = logged_in(&db, &base, "tv.xa", "to_cong_nghe_so", "04792").await;
        let other_officer = logged_in(&db, &base, "canbo.khac", "can_bo_xa", "04795").await;
        let team = team(&db, &officer).await;
        let (an, binh) = (person_id(&db, "Nguyễn Văn An"), person_id(&db, "Trần Thị Bình"));

        // V1 confirms An's level 2 and bank account and Bình's account; V2 (a day later) An's level 2 again.
        let csrf = volunteer.get("/tham-nha/").await.csrf();
        let v1 = json!({
            "id": V1, "team": team, "household": "HO-1", "visited_on": "2025-06-02",
            "present": [{"person": an, "vneid_level2": true, "bank_account": true}, {"person": binh, "bank_account": true}],
            "done": ["kich_hoat_muc2", "mo_tai_khoan"], "still_needed": "Cần học về mật khẩu", "next_visit_on": "2025-06-16"
        });
        assert_eq!(post_visit(&volunteer, &csrf, &v1).await.0, StatusCode::CREATED, "{what}");
        let v2 = json!({
            "id": V2, "team": team, "household": "HO-1", "visited_on": "2025-06-03",
            "present": [{"person": an, "vneid_level2": true}], "done": ["hoc_bai"]
        });
        assert_eq!(post_visit(&volunteer, &csrf, &v2).await.0, StatusCode::CREATED, "{what}");
        assert_eq!(facts(&db, an), "2|team_visit|1|team_visit", "{what}");
        assert_eq!(facts(&db, binh), "||1|team_visit", "{what}");

        // The team's page links each visit to its correction form.
        let edit = format!("/quan-ly/don-vi/04792/to-cong-nghe/{team}/tham/{V1}");
        let page = officer.get(&format!("/quan-ly/don-vi/04792/to-cong-nghe/{team}")).await;
        assert!(page.body.contains(&edit), "{what}: {}", page.body);
        let form = officer.get(&edit).await;
        assert_eq!(form.status, StatusCode::OK, "{what}: {}", form.body);
        assert!(form.body.contains("Nguyễn Văn An") && form.body.contains("Cần học về mật khẩu"), "{what}");
        assert_eq!(audits(&db, "visit.read"), 1, "{what}: the form is an audited read");

        // Refused: a volunteer (who records visits but does not correct them), another commune's officer
        // (through either commune's address), a visit of another team, a delete without its confirmation.
        assert_eq!(volunteer.get(&edit).await.status, StatusCode::FORBIDDEN, "{what}");
        assert_eq!(other_officer.get(&edit).await.status, StatusCode::NOT_FOUND, "{what}");
        let away = format!("/quan-ly/don-vi/04795/to-cong-nghe/{team}/tham/{V1}");
        assert_eq!(other_officer.get(&away).await.status, StatusCode::NOT_FOUND, "{what}");
        let forged = other_officer
            .post(&format!("{away}/xoa"), &[("csrf", &other_officer.csrf().await), ("xac_nhan", "1")])
            .await;
        assert_eq!(forged.status, StatusCode::NOT_FOUND, "{what}");
        let unconfirmed = officer.post(&format!("{edit}/xoa"), &[("csrf", &form.csrf())]).await;
        assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST, "{what}: {}", unconfirmed.body);
        assert_eq!(db.scalar("SELECT count(*) FROM team_visit WHERE deleted_at IS NULL"), 2, "{what}");

        // Correct V1: An's account was not seen after all; the note and next date change.
        let an_s = an.to_string();
        let binh_s = binh.to_string();
        let saved = officer
            .post(
                &edit,
                &[
                    ("csrf", &form.csrf()),
                    ("muc2", &an_s),
                    ("ngan_hang", &binh_s),
                    ("da_lam", "kich_hoat_muc2"),
                    ("con_can", "Cần mở tài khoản ngân hàng"),
                    ("lan_sau", "2025-06-20"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{what}: {}", saved.body);
        assert_eq!(facts(&db, an), "2|team_visit||", "{what}: An's account is taken back");
        assert_eq!(
            db.query(&format!("SELECT still_needed, next_visit_on, done FROM team_visit WHERE id = '{V1}'")).trim(),
            "Cần mở tài khoản ngân hàng|2025-06-20|2",
            "{what}"
        );
        assert_eq!(audits(&db, "visit.correct"), 1, "{what}");
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) FROM audit_log WHERE action = 'person.digital_facts' AND person_id = {an} \
                 AND detail LIKE '%taken_back%'"
            )),
            1,
            "{what}"
        );
        assert_counters_equal_a_rebuild(&db, what);
        // An invalid correction changes nothing.
        let bad = officer.post(&edit, &[("csrf", &form.csrf()), ("lan_sau", "2025-01-01")]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{what}: {}", bad.body);
        assert_eq!(facts(&db, an), "2|team_visit||", "{what}");

        // Staff have since recorded Bình's account themselves: deleting V1 leaves it. An's level 2 stays
        // too, since V2 confirmed it as well.
        let person_page = officer.get(&format!("/quan-ly/nguoi/{binh}")).await;
        let entered = officer
            .post(&format!("/quan-ly/nguoi/{binh}/so-hoa"), &[("csrf", &person_page.csrf()), ("ngan_hang", "co")])
            .await;
        assert_eq!(entered.status, StatusCode::SEE_OTHER, "{what}: {}", entered.body);
        let deleted = officer.post(&format!("{edit}/xoa"), &[("csrf", &form.csrf()), ("xac_nhan", "1")]).await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{what}: {}", deleted.body);
        assert_eq!(facts(&db, binh), "||1|staff", "{what}: a staff entry is not the visit's to take back");
        assert_eq!(facts(&db, an), "2|team_visit||", "{what}: V2 still confirms An's level 2");
        let v2_at = db.scalar(&format!("SELECT recorded_at FROM team_visit WHERE id = '{V2}'"));
        assert_eq!(db.scalar(&format!("SELECT vneid_level_at FROM person WHERE id = {an}")), v2_at, "{what}");
        assert_eq!(db.scalar(&format!("SELECT count(*) FROM team_visit_person WHERE visit_id = '{V1}'")), 0, "{what}");
        assert_eq!(audits(&db, "visit.delete"), 1, "{what}");
        assert_counters_equal_a_rebuild(&db, what);
        // The deleted visit is gone from the team's page and from the form's address.
        assert_eq!(officer.get(&edit).await.status, StatusCode::NOT_FOUND, "{what}");
        // A late resend from the phone is a harmless duplicate: the visit does not come back.
        assert_eq!(post_visit(&volunteer, &csrf, &v1).await.0, StatusCode::OK, "{what}");
        assert_eq!(db.scalar("SELECT count(*) FROM team_visit WHERE deleted_at IS NULL"), 1, "{what}");

        // Deleting V2 takes An's level 2 back: no visit still confirms it.
        let edit2 = format!("/quan-ly/don-vi/04792/to-cong-nghe/{team}/tham/{V2}");
        let form2 = officer.get(&edit2).await;
        let deleted = officer.post(&format!("{edit2}/xoa"), &[("csrf", &form2.csrf()), ("xac_nhan", "1")]).await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{what}: {}", deleted.body);
        assert_eq!(facts(&db, an), "|||", "{what}");
        assert_counters_equal_a_rebuild(&db, what);
    }
}

#[tokio::test]
async fn a_communes_visits_attendance_and_mentors_export_as_csv_and_xlsx_within_scope() {
    for db in TestDb::all() {
        let what = db.backend();
        seed_people(&db);
        let base = serve(&db, db.config()).await;
        let officer = logged_in(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let volunteer = logged_in(&db, &base, "tv.xa", "to_cong_nghe_so", "04792").await;
        let other_officer = logged_in(&db, &base, "canbo.khac", "can_bo_xa", "04795").await;
        let team = team(&db, &officer).await;
        let an = person_id(&db, "Nguyễn Văn An");
        let csrf = volunteer.get("/tham-nha/").await.csrf();
        let visit = json!({"id": V1, "team": team, "household": "HO-1", "visited_on": "2025-06-02",
            "present": [{"person": an}], "done": ["hoc_bai"], "still_needed": "=HYPERLINK(\"x\")"});
        assert_eq!(post_visit(&volunteer, &csrf, &visit).await.0, StatusCode::CREATED, "{what}");
        // A visit of another commune's team must not show.
        db.query(
            "INSERT INTO tech_team (id, commune_code, name, created_at) VALUES (99, '04795', 'Tổ xa', 0); \
             INSERT INTO team_visit (id, team_id, commune_code, village_code, household_code, visited_on, done, \
             content_hash, recorded_by, recorded_at) SELECT 'khac', 99, '04795', village_code, 'HO-9', '2025-06-01', 0, \
             'h', (SELECT id FROM account WHERE login = 'canbo'), 0 FROM person WHERE full_name = 'Lê Văn Em'",
        );
        // A class with a session and An's attendance; a mentor with a mentee.
        let classes = officer.get("/quan-ly/don-vi/04792/lop-hoc").await;
        let made = officer
            .post(
                "/quan-ly/don-vi/04792/lop-hoc",
                &[
                    ("csrf", &classes.csrf()),
                    ("ten", "Lớp điện thoại thông minh"),
                    ("dia_diem", "Nhà văn hóa"),
                    ("lich", "Sáng thứ Bảy"),
                    ("giang_vien", "Chị Hoa"),
                    ("doi_tuong", "moi_nguoi"),
                ],
            )
            .await;
        let class_page = made.location.unwrap();
        let session = officer
            .post(&format!("{class_page}/buoi"), &[("csrf", &classes.csrf()), ("ngay", "2025-06-07")])
            .await
            .location
            .unwrap();
        let attended = officer.post(&session, &[("csrf", &classes.csrf()), ("ma", "025090123456")]).await;
        assert_eq!(attended.status, StatusCode::OK, "{what}: {}", attended.body);
        account(&db, "ds.xa", "dai_su_so", "04792", None).await;
        let mentor = db.query("SELECT id FROM account WHERE login = 'ds.xa'").trim().to_owned();
        let page = officer.get("/quan-ly/don-vi/04792/dai-su-so").await;
        let assigned = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so",
                &[("csrf", &page.csrf()), ("mentor", &mentor), ("cccd", "025090123456")],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{what}");

        for (path, ours, theirs) in [
            ("/quan-ly/don-vi/04792/to-cong-nghe/luot-tham", "HO-1", "HO-9"),
            ("/quan-ly/don-vi/04792/lop-hoc/diem-danh", "Nguyễn Văn An", "Lê Văn Em"),
            ("/quan-ly/don-vi/04792/dai-su-so", "ds.xa", "Lê Văn Em"),
        ] {
            let csv = officer.get(&format!("{path}.csv")).await;
            assert_eq!(csv.status, StatusCode::OK, "{what} {path}: {}", csv.body);
            assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"), "{what}");
            assert!(csv.body.starts_with('\u{feff}'), "{what}: a BOM for Excel");
            assert!(csv.body.contains(ours) && !csv.body.contains(theirs), "{what} {path}: {}", csv.body);
            let xlsx = officer.client.get(format!("{base}{path}.xlsx")).send().await.unwrap();
            assert_eq!(xlsx.status(), StatusCode::OK, "{what} {path}");
            assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK", "{what}: a workbook (zip)");
            // Another commune's officer is refused the commune's export (out of scope answers as absent).
            let refused = other_officer.get(&format!("{path}.csv")).await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what} {path}");
        }
        let visits = officer.get("/quan-ly/don-vi/04792/to-cong-nghe/luot-tham.csv").await;
        assert!(visits.body.contains("'=HYPERLINK"), "{what}: a formula is neutralised: {}", visits.body);
        assert_eq!(
            db.scalar("SELECT count(*) FROM audit_log WHERE action = 'person.export' AND unit_code = '04792'"),
            7,
            "{what}: every export is an audited staff read"
        );
        // The mentors' export counts the mentee.
        let mentors = officer.get("/quan-ly/don-vi/04792/dai-su-so.csv").await;
        assert!(mentors.body.contains("ds.xa,1,"), "{what}: {}", mentors.body);
    }
}

#[tokio::test]
async fn officers_register_and_deregister_a_digital_ambassador_with_a_first_password_shown_once() {
    for db in TestDb::all() {
        let what = db.backend();
        seed_people(&db);
        let base = serve(&db, db.config()).await;
        let officer = logged_in(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let other_officer = logged_in(&db, &base, "canbo.khac", "can_bo_xa", "04795").await;
        let page = officer.get("/quan-ly/don-vi/04792/dai-su-so").await;
        assert!(page.body.contains("/dai-su-so/dang-ky"), "{what}");
        let csrf = page.csrf();

        // A person of another commune cannot be registered here; a bad login is refused.
        let away = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so/dang-ky",
                &[("csrf", &csrf), ("cccd", "025088123456"), ("login", "ds.em")],
            )
            .await;
        assert_eq!(away.status, StatusCode::NOT_FOUND, "{what}: {}", away.body);
        let bad = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so/dang-ky",
                &[("csrf", &csrf), ("cccd", "025090123456"), ("login", "Tên Có Dấu")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(
            other_officer
                .post(
                    "/quan-ly/don-vi/04792/dai-su-so/dang-ky",
                    &[("csrf", &csrf), ("cccd", "025090123456"), ("login", "ds.an")],
                )
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{what}"
        );

        let made = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so/dang-ky",
                &[("csrf", &csrf), ("cccd", "025090123456"), ("login", "ds.an")],
            )
            .await;
        assert_eq!(made.status, StatusCode::OK, "{what}: {}", made.body);
        assert_eq!(made.headers["cache-control"], "no-store", "{what}");
        let marker = "id=\"mat-khau-dau\">";
        let start = made.body.find(marker).expect("the first password is shown") + marker.len();
        let password: String = made.body[start..].chars().take_while(|c| *c != '<').collect();
        assert_eq!(password.len(), 19, "{what}: {password}");
        assert_eq!(
            db.query(
                "SELECT CAST(a.must_change_password AS INTEGER), g.role, g.unit_code, p.full_name FROM account a \
                 JOIN role_grant g ON g.account_id = a.id JOIN person p ON p.id = a.person_id WHERE a.login = 'ds.an'"
            )
            .trim(),
            "1|dai_su_so|04792|Nguyễn Văn An",
            "{what}"
        );
        assert_eq!(audits(&db, "mentor.register"), 1, "{what}");
        assert_eq!(
            db.scalar("SELECT count(*) FROM audit_log WHERE action = 'account.create' AND detail LIKE '%dai_su_so%'"),
            1,
            "{what}: the account's creation, by the officer"
        );
        // The new mentor logs in with the first password and must change it before anything else.
        let mentor = Browser::new(&base);
        let login_csrf = mentor.csrf().await;
        let signed =
            mentor.post("/dang-nhap", &[("login", "ds.an"), ("password", &password), ("csrf", &login_csrf)]).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{what}: {}", signed.body);
        let own = mentor.get("/dai-su-so").await;
        assert_eq!(own.location.as_deref(), Some("/tai-khoan/mat-khau"), "{what}");
        // The commune's page lists the mentor; registering them again hands over no new password.
        assert!(officer.get("/quan-ly/don-vi/04792/dai-su-so").await.body.contains("Nguyễn Văn An"), "{what}");
        let again = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so/dang-ky",
                &[("csrf", &csrf), ("cccd", "025090123456"), ("login", "")],
            )
            .await;
        assert_eq!(again.status, StatusCode::OK, "{what}: {}", again.body);
        assert!(!again.body.contains("mat-khau-dau"), "{what}");
        assert_eq!(db.scalar("SELECT count(*) FROM account WHERE person_id IS NOT NULL"), 1, "{what}");

        // Deregistered: the role over the commune is gone, and with it the mentees there.
        let id = db.query("SELECT id FROM account WHERE login = 'ds.an'").trim().to_owned();
        officer
            .post("/quan-ly/don-vi/04792/dai-su-so", &[("csrf", &csrf), ("mentor", &id), ("cccd", "025192654321")])
            .await;
        assert_eq!(db.scalar("SELECT count(*) FROM mentee"), 1, "{what}");
        let refused = other_officer
            .post(
                "/quan-ly/don-vi/04795/dai-su-so/huy",
                &[("csrf", &other_officer.csrf().await), ("mentor", &id), ("xac_nhan", "1")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what}: another commune's officer does not find the mentor");
        let gone = officer
            .post("/quan-ly/don-vi/04792/dai-su-so/huy", &[("csrf", &csrf), ("mentor", &id), ("xac_nhan", "1")])
            .await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER, "{what}: {}", gone.body);
        assert_eq!(db.scalar("SELECT count(*) FROM role_grant WHERE role = 'dai_su_so'"), 0, "{what}");
        assert_eq!(db.scalar("SELECT count(*) FROM mentee"), 0, "{what}");
        assert_eq!(audits(&db, "mentor.deregister"), 1, "{what}");
    }
}

#[tokio::test]
async fn officers_remove_a_mentee_delete_a_session_and_a_help_cancel_a_class_and_take_back_an_attendance() {
    for db in TestDb::all() {
        let what = db.backend();
        seed_people(&db);
        let base = serve(&db, db.config()).await;
        let officer = logged_in(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let other_officer = logged_in(&db, &base, "canbo.khac", "can_bo_xa", "04795").await;
        let mentor = logged_in(&db, &base, "ds.xa", "dai_su_so", "04792").await;
        let desk = logged_in(&db, &base, "mc.xa", "ho_tro_mot_cua", "04792").await;
        let mentor_id = db.query("SELECT id FROM account WHERE login = 'ds.xa'").trim().to_owned();
        let an = person_id(&db, "Nguyễn Văn An");
        let an_s = an.to_string();

        // A mentee with a session.
        let page = officer.get("/quan-ly/don-vi/04792/dai-su-so").await;
        let csrf = page.csrf();
        officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so",
                &[("csrf", &csrf), ("mentor", &mentor_id), ("cccd", "025090123456")],
            )
            .await;
        let own = mentor.get("/dai-su-so").await;
        let logged = mentor
            .post(
                "/dai-su-so/buoi",
                &[("csrf", &own.csrf()), ("nguoi", &an_s), ("ngay", "2025-06-02"), ("noi_dung", "Cài VNeID")],
            )
            .await;
        assert_eq!(logged.status, StatusCode::SEE_OTHER, "{what}");
        let staff_view = officer.get(&format!("/quan-ly/dai-su-so/{mentor_id}")).await;
        assert!(staff_view.body.contains("Cài VNeID") && staff_view.body.contains("/dai-su-so/buoi/xoa"), "{what}");
        let session = db.scalar("SELECT id FROM mentoring_session").to_string();
        let other_csrf = other_officer.csrf().await;
        // Another commune's officer finds neither.
        let refused = other_officer
            .post("/quan-ly/dai-su-so/buoi/xoa", &[("csrf", &other_csrf), ("buoi", &session), ("xac_nhan", "1")])
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what}");
        let refused = other_officer
            .post(
                "/quan-ly/don-vi/04795/dai-su-so/nguoi-hoc/xoa",
                &[("csrf", &other_csrf), ("mentor", &mentor_id), ("nguoi", &an_s), ("xac_nhan", "1")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what}");
        let done = officer
            .post("/quan-ly/dai-su-so/buoi/xoa", &[("csrf", &csrf), ("buoi", &session), ("xac_nhan", "1")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{what}: {}", done.body);
        let done = officer
            .post(
                "/quan-ly/don-vi/04792/dai-su-so/nguoi-hoc/xoa",
                &[("csrf", &csrf), ("mentor", &mentor_id), ("nguoi", &an_s), ("xac_nhan", "1")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{what}: {}", done.body);
        assert_eq!(db.scalar("SELECT count(*) FROM mentoring_session") + db.scalar("SELECT count(*) FROM mentee"), 0);
        assert_eq!(audits(&db, "mentoring.session_delete") + audits(&db, "mentee.remove"), 2, "{what}");

        // A one-stop help logged by mistake.
        let desk_page = desk.get("/quan-ly/don-vi/04792/mot-cua").await;
        desk.post(
            "/quan-ly/don-vi/04792/mot-cua/ho-tro",
            &[
                ("csrf", &desk_page.csrf()),
                ("thu_tuc", "Đăng ký khai sinh"),
                ("ket_qua", "xong"),
                ("ngay", "2025-06-02"),
            ],
        )
        .await;
        let help = db.scalar("SELECT id FROM one_stop_help").to_string();
        let refused = other_officer
            .post(
                "/quan-ly/don-vi/04795/mot-cua/ho-tro/xoa",
                &[("csrf", &other_csrf), ("id", &help), ("xac_nhan", "1")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what}");
        let done = officer
            .post("/quan-ly/don-vi/04792/mot-cua/ho-tro/xoa", &[("csrf", &csrf), ("id", &help), ("xac_nhan", "1")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{what}: {}", done.body);
        assert_eq!(db.scalar("SELECT count(*) FROM one_stop_help"), 0, "{what}");
        assert_eq!(audits(&db, "one_stop.help_delete"), 1, "{what}");

        // A class: an attendance taken back, then the class cancelled (no new session).
        let classes = officer.get("/quan-ly/don-vi/04792/lop-hoc").await;
        let class_page = officer
            .post(
                "/quan-ly/don-vi/04792/lop-hoc",
                &[
                    ("csrf", &classes.csrf()),
                    ("ten", "Lớp VNeID"),
                    ("dia_diem", "Nhà văn hóa"),
                    ("lich", "Tối thứ Sáu"),
                    ("giang_vien", "Anh Hùng"),
                    ("doi_tuong", "nguoi_cao_tuoi"),
                ],
            )
            .await
            .location
            .unwrap();
        let session = officer
            .post(&format!("{class_page}/buoi"), &[("csrf", &csrf), ("ngay", "2025-06-06")])
            .await
            .location
            .unwrap();
        officer.post(&session, &[("csrf", &csrf), ("ma", "025090123456")]).await;
        let sheet = officer.get(&session).await;
        assert!(sheet.body.contains(&format!("{session}/xoa")), "{what}");
        let away = session.replace("/04792/", "/04795/");
        let refused = other_officer
            .post(&format!("{away}/xoa"), &[("csrf", &other_csrf), ("nguoi", &an_s), ("xac_nhan", "1")])
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{what}");
        let removed =
            officer.post(&format!("{session}/xoa"), &[("csrf", &csrf), ("nguoi", &an_s), ("xac_nhan", "1")]).await;
        assert_eq!(removed.status, StatusCode::OK, "{what}: {}", removed.body);
        assert!(removed.body.contains("Đã có mặt: 0 người"), "{what}");
        assert_eq!(db.scalar("SELECT count(*) FROM class_attendance"), 0, "{what}");
        assert_eq!(audits(&db, "class.attend_remove"), 1, "{what}");
        let cancelled = officer.post(&format!("{class_page}/huy"), &[("csrf", &csrf), ("xac_nhan", "1")]).await;
        assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "{what}: {}", cancelled.body);
        assert!(officer.get(&class_page).await.body.contains("đã bị hủy"), "{what}");
        let late = officer.post(&format!("{class_page}/buoi"), &[("csrf", &csrf), ("ngay", "2025-06-13")]).await;
        assert_eq!(late.status, StatusCode::BAD_REQUEST, "{what}: {}", late.body);
        let late = officer.post(&session, &[("csrf", &csrf), ("ma", "025090123456")]).await;
        assert_eq!(late.status, StatusCode::BAD_REQUEST, "{what}: {}", late.body);
        assert_eq!(audits(&db, "class.cancel"), 1, "{what}");
        assert!(officer.get("/quan-ly/don-vi/04792/lop-hoc").await.body.contains("(đã hủy)"), "{what}");
    }
}
