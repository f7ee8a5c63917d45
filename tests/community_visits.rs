//! Community tech teams and their door-to-door visits (issue 22), over HTTP on both databases: a
//! commune officer sets up a team, a volunteer records visits through the JSON API the offline form
//! uses and through the plain form; a resend of the same visit changes nothing, a changed resend is a
//! 409; what a visit confirms lands on the person's facts (source `team_visit`) with counters that a
//! full rebuild agrees with; scope, audit, and the person's download and erasure.

use crate::common;

use common::community::{counters, post_visit, team};
use common::web::{Browser, logged_in, serve};
use common::*;
use hocvuso::domain::role::{Grant, Role};
use hocvuso::identity::accounts::{self, NewAccount};
use hocvuso::identity::password::NewPassword;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_visit_is_stored_once_moves_the_facts_and_a_changed_resend_is_a_conflict() {
    for db in TestDb::all() {
        let what = db.backend();
        seed_people(&db);
        let base = serve(&db, db.config()).await;
        let officer = logged_in(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let volunteer = logged_in(&db, &base, "tv.xa", "to_cong_nghe_so", "04792").await;
        let outsider = logged_in(&db, &base, "tv.khac", "to_cong_nghe_so", "04795").await;
        let team = team(&db, &officer).await;
        // A volunteer of another commune cannot join the team, nor see it.
        let page = officer.get(&format!("/quan-ly/don-vi/04792/to-cong-nghe/{team}")).await;
        let refused = officer
            .post(
                &format!("/quan-ly/don-vi/04792/to-cong-nghe/{team}/thanh-vien"),
                &[("csrf", &page.csrf()), ("login", "tv.khac")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{what}: {}", refused.body);
        assert_eq!(
            outsider.get(&format!("/quan-ly/don-vi/04792/to-cong-nghe/{team}")).await.status,
            StatusCode::NOT_FOUND,
            "{what}"
        );
        // Nor through its own commune's address.
        assert_eq!(
            outsider.get(&format!("/quan-ly/don-vi/04795/to-cong-nghe/{team}")).await.status,
            StatusCode::NOT_FOUND,
            "{what}"
        );

        // The form and the household list the phone keeps: Thôn Đông's household only.
        let form = volunteer.get("/tham-nha/?ho=HO-1").await;
        assert_eq!(form.status, StatusCode::OK, "{what}: {}", form.body);
        assert!(form.body.contains("Nguyễn Văn An") && form.body.contains("Tổ số 1"), "{what}");
        let csrf = form.csrf();
        let list: serde_json::Value = volunteer
            .client
            .get(format!("{base}/api/v1/visits/households"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let codes: Vec<&str> =
            list["households"].as_array().unwrap().iter().map(|h| h["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["HO-1"], "{what}: {list}");

        let (an, binh, dung) =
            (person_id(&db, "Nguyễn Văn An"), person_id(&db, "Trần Thị Bình"), person_id(&db, "Bùi Văn Dũng"));
        let before = counters(&db);
        let visit = json!({
            "id": "6f1c1e8e-6c1a-4b55-9f1e-2d7c3b1a0e01", "team": team, "household": "HO-1", "visited_on": "2025-06-02",
            "present": [{"person": an, "vneid_level2": true, "bank_account": true}, {"person": binh, "bank_account": true}],
            "done": ["kich_hoat_muc2", "mo_tai_khoan"], "still_needed": "Chị Bình cần học bài về mật khẩu",
            "next_visit_on": "2025-06-16"
        });
        let (status, body) = post_visit(&volunteer, &csrf, &visit).await;
        assert_eq!(status, StatusCode::CREATED, "{what}: {body}");
        assert_eq!(body["outcome"], "stored");
        // The same request again (a phone that never saw the answer): harmless, nothing duplicated.
        let (status, body) = post_visit(&volunteer, &csrf, &visit).await;
        assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("duplicate")), "{what}");
        // The same id with other content: a conflict, nothing overwritten.
        let mut changed = visit.clone();
        changed["still_needed"] = json!("Nội dung khác");
        let (status, body) = post_visit(&volunteer, &csrf, &changed).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("visit_conflict")), "{what}");
        assert_eq!(db.scalar("SELECT count(*) FROM team_visit"), 1, "{what}");
        assert_eq!(db.scalar("SELECT count(*) FROM team_visit_person"), 2, "{what}");
        assert_eq!(
            db.query("SELECT still_needed FROM team_visit").trim(),
            "Chị Bình cần học bài về mật khẩu",
            "{what}: the first content stands"
        );
        // The facts, with their source, and counters that a rebuild from the rows agrees with.
        assert_eq!(
            db.query(&format!("SELECT vneid_level, vneid_level_source FROM person WHERE id = {an}")).trim(),
            "2|team_visit",
        );
        assert_eq!(
            db.query(&format!("SELECT bank_account, bank_source FROM person WHERE id = {binh}")).trim(),
            "1|team_visit"
        );
        let after = counters(&db);
        assert_ne!(before, after, "{what}: the counters moved");
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
        assert_eq!(after, counters(&db), "{what}: the kept counters equal a rebuild");
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'visit.record'"), 1, "{what}");
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) FROM audit_log WHERE action = 'person.digital_facts' AND person_id IN ({an}, {binh})"
            )),
            3,
            "{what}: An's level and account, Bình's account"
        );

        // Refusals: a household outside the team's villages, a person of another household, no CSRF token.
        let mut elsewhere = visit.clone();
        elsewhere["id"] = json!("6f1c1e8e-6c1a-4b55-9f1e-2d7c3b1a0e02");
        elsewhere["household"] = json!("HO-2");
        elsewhere["present"] = json!([{"person": dung}]);
        let (status, body) = post_visit(&volunteer, &csrf, &elsewhere).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("household_not_found")), "{what}");
        let mut stranger = visit.clone();
        stranger["id"] = json!("6f1c1e8e-6c1a-4b55-9f1e-2d7c3b1a0e03");
        stranger["present"] = json!([{"person": dung}]);
        let (status, body) = post_visit(&volunteer, &csrf, &stranger).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("person_not_in_household")),
            "{what}"
        );
        // Cross-site forgery: a JSON call under /api/ is guarded by its content type (a form of another
        // site cannot send application/json); a form post to the same address is refused.
        let forged = volunteer.post("/api/v1/visits", &[("csrf", csrf.as_str()), ("id", "x")]).await;
        assert_eq!(forged.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{what}: {}", forged.body);
        let (status, body) = post_visit(&outsider, &outsider.get("/tham-nha/").await.csrf(), &visit).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("team_not_found")), "{what}");

        // Without JavaScript: the same form as a plain post; sending it twice stores it once.
        let chau = person_id(&db, "Nguyễn Minh Châu");
        let id = form.body.split("name=\"id\" value=\"").nth(1).unwrap()[..36].to_owned();
        let fields = [
            ("csrf", csrf.as_str()),
            ("id", &id),
            ("to", &team.to_string()),
            ("ho", "HO-1"),
            ("ngay", "2025-06-03"),
            ("co_mat", &chau.to_string()),
            ("da_lam", "hoc_bai"),
            ("con_can", ""),
            ("lan_sau", ""),
        ];
        for _ in 0..2 {
            let sent = volunteer.post("/tham-nha/", &fields).await;
            assert_eq!(sent.status, StatusCode::SEE_OTHER, "{what}: {}", sent.body);
            assert!(sent.location.unwrap().contains("da_ghi=1"));
        }
        assert_eq!(db.scalar("SELECT count(*) FROM team_visit"), 2, "{what}");

        // The team's page lists the visits and leads to the gap lists.
        let page = officer.get(&format!("/quan-ly/don-vi/04792/to-cong-nghe/{team}")).await;
        assert!(page.body.contains("HO-1") && page.body.contains("danh_sach=so_hoa"), "{what}");
        let gaps = officer.get("/quan-ly/don-vi/04792/can-ho-tro?danh_sach=so_hoa&nam=2025").await;
        assert!(!gaps.body.contains("Nguyễn Văn An") || gaps.body.contains("tài khoản ngân hàng số"), "{what}");
    }
}

#[tokio::test]
async fn the_person_downloads_what_the_visits_hold_and_erasure_clears_the_notes_but_keeps_the_counts() {
    for db in TestDb::all() {
        let what = db.backend();
        seed_people(&db);
        let an = person_id(&db, "Nguyễn Văn An");
        let village = db.query(&format!("SELECT village_code FROM person WHERE id = {an}")).trim().to_owned();
        let store = db.store().await;
        let learner_password = "rừng cọ đồi chè an";
        accounts::create(
            &store,
            NewAccount {
                login: Some("an.hocvien".into()),
                password_hash: Some(NewPassword::parse(learner_password, None).unwrap().hash().await.unwrap()),
                person_id: Some(an),
                grants: vec![Grant { role: Role::HocVien, unit_code: village.clone(), organisation_code: None }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        store.close().await;
        let base = serve(&db, db.config()).await;
        let officer = logged_in(&db, &base, "canbo", "can_bo_xa", "04792").await;
        let volunteer = logged_in(&db, &base, "tv.xa", "to_cong_nghe_so", "04792").await;
        let team = team(&db, &officer).await;
        let csrf = volunteer.get("/tham-nha/").await.csrf();
        let visit = json!({
            "id": "7a1c1e8e-6c1a-4b55-9f1e-2d7c3b1a0e01", "team": team, "household": "HO-1", "visited_on": "2025-06-02",
            "present": [{"person": an}], "done": ["hoc_bai"], "still_needed": "Anh An cần cài lại VNeID"
        });
        assert_eq!(post_visit(&volunteer, &csrf, &visit).await.0, StatusCode::CREATED, "{what}");

        let me = Browser::new(&base);
        me.login("an.hocvien", learner_password).await;
        let data: serde_json::Value = serde_json::from_str(&me.get("/tai-khoan/du-lieu.json").await.body).unwrap();
        assert_eq!(data["community"]["visits"][0]["still_needed"], "Anh An cần cài lại VNeID", "{what}: {data}");
        let mine = me.get("/tai-khoan/du-lieu").await;
        assert_eq!(me.post("/tai-khoan/xoa-du-lieu", &[("csrf", &mine.csrf())]).await.status, StatusCode::SEE_OTHER);
        let queue = officer.get("/quan-ly/xoa-du-lieu").await;
        let start = queue.body.find("/quan-ly/xoa-du-lieu/").expect("the request is listed");
        let action: String = queue.body[start..].chars().take_while(|c| *c != '"').collect();
        assert_eq!(officer.post(&action, &[("csrf", &queue.csrf())]).await.status, StatusCode::SEE_OTHER, "{what}");
        assert!(!db.dump().contains("Anh An cần cài lại VNeID"), "{what}: the note is erased");
        assert_eq!(db.scalar("SELECT count(*) FROM team_visit"), 1, "{what}: the visit still counts");
        assert_eq!(db.scalar("SELECT count(*) FROM team_visit_person"), 1, "{what}");
        // A late resend of the same visit from the phone is still harmless.
        assert_eq!(post_visit(&volunteer, &csrf, &visit).await.0, StatusCode::OK, "{what}");
    }
}
