//! Assessment and certificates through the interfaces people use: a learner's browser taking an
//! exam over HTTP, the public check of a certificate, and an outside verifier (Node's crypto and the
//! JCS reference library, `tests/certificates/verify.mjs`) checking the signature, on both databases.

use crate::common;

use common::exam::*;
use common::web::{Browser, account, serve};
use common::*;
use reqwest::StatusCode;

/// Runs the outside verifier on a credential and the published DID document.
fn outside_check(dir: &std::path::Path, credential: &serde_json::Value, did: &serde_json::Value) -> (bool, String) {
    let cred = dir.join("credential.json");
    let doc = dir.join("did.json");
    std::fs::write(&cred, serde_json::to_vec(credential).unwrap()).unwrap();
    std::fs::write(&doc, serde_json::to_vec(did).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/certificates/verify.mjs"))
        .arg(&cred)
        .arg(&doc)
        .output()
        .expect("node runs");
    (out.status.success(), format!("{}{}", stdout(&out), stderr(&out)))
}

async fn json(browser: &Browser, path: &str) -> serde_json::Value {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    serde_json::from_str(&page.body).unwrap()
}

#[tokio::test]
async fn a_pass_issues_a_certificate_that_verifies_outside_our_code() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let lan = learner(&db, &base, "lan").await;
        // The first question answered twice (wrong, then right): it counts once, as the last answer.
        let sitting = start(&lan).await;
        answer(&lan, &sitting, 1, false).await;
        answer(&lan, &sitting, 1, true).await;
        assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM answer WHERE sitting_id = '{sitting}'")), 1);
        // One sitting at a time: starting again returns the same sitting.
        let home = lan.get("/kiem-tra").await;
        assert!(home.body.contains("Bài đang làm dở"), "{}", home.body);
        let again = lan.post("/kiem-tra/nguoi_dan/bat-dau", &[("csrf", &home.csrf())]).await;
        assert_eq!(sitting_of(&again), sitting);
        let count =
            db.scalar("SELECT COUNT(*) FROM sitting WHERE account_id = (SELECT id FROM account WHERE login = 'lan')");
        assert_eq!(count, 1);
        // Someone else cannot see or answer it.
        let binh = learner(&db, &base, "binh").await;
        assert_eq!(binh.get(&format!("/kiem-tra/bai/{sitting}")).await.status, StatusCode::NOT_FOUND);
        let csrf = binh.get("/kiem-tra").await.csrf();
        let page = binh.post(&format!("/kiem-tra/bai/{sitting}/cau/2"), &[("c", "0"), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        // Finish it: every other question right.
        let papers = db.scalar(&format!("SELECT COUNT(*) FROM answer WHERE sitting_id = '{sitting}'"));
        assert_eq!(papers, 1);
        let review = lan.get(&format!("/kiem-tra/bai/{sitting}/nop")).await;
        let n: usize = review.body.matches("class=\"chua\"").count() + 1;
        for q in 2..=n {
            answer(&lan, &sitting, q, true).await;
        }
        let done = lan.post(&format!("/kiem-tra/bai/{sitting}/nop"), &[("csrf", &review.csrf())]).await;
        let result = lan.follow(done, 1).await;
        assert!(result.body.contains("đã <strong>đạt</strong>"), "{}", result.body);
        let id = certificate_of(&result);

        // The public check: anyone, no session.
        let anyone = Browser::new(&base);
        let verify = anyone.get(&format!("/verify/{id}")).await;
        assert_eq!(verify.status, StatusCode::OK);
        assert!(verify.body.contains("Hợp lệ") && verify.body.contains("Người dân"), "{}", verify.body);
        let public = json(&anyone, &format!("/api/v1/certificates/{id}")).await;
        assert_eq!(public["status"], "valid");
        assert_eq!(public["profile"], "nguoi_dan");
        assert!(public.get("credential").is_none(), "the signed credential is the holder's");
        assert_eq!(anyone.get(&format!("/chung-nhan/{id}/pdf")).await.status, StatusCode::NOT_FOUND);
        // An id that is not a certificate, or not an id at all.
        let missing = anyone.get("/api/v1/certificates/00000000-0000-4000-8000-000000000000").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("certificate_not_found"));
        assert_eq!(anyone.get("/verify/khong-phai-ma").await.status, StatusCode::NOT_FOUND);

        // The holder gets the signed credential and the PDF.
        let mine = json(&lan, &format!("/api/v1/certificates/{id}")).await;
        let credential = mine["credential"].clone();
        assert_eq!(credential["type"][1], "OpenBadgeCredential");
        assert_eq!(credential["credentialSubject"]["identifier"][0]["identityHash"], "lan");
        let pdf = lan.get(&format!("/chung-nhan/{id}/pdf")).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.headers["content-type"], "application/pdf");
        // Read by outside tools: the Vietnamese text (pdftotext) and the QR code (pdftoppm, zbarimg),
        // which leads to the public check.
        let raw = lan.client.get(format!("{base}/chung-nhan/{id}/pdf")).send().await.unwrap().bytes().await.unwrap();
        let file = db.write("chung-nhan.pdf", &raw);
        let text = std::process::Command::new("pdftotext").arg(&file).arg("-").output().expect("pdftotext");
        let text = String::from_utf8_lossy(&text.stdout).replace('\u{a0}', " ");
        for words in
            ["Chứng nhận đạt chuẩn kỹ năng số cơ bản", "Cấp cho", "Đối tượng: Người dân", "Kết quả theo từng năng lực"]
        {
            assert!(text.contains(words), "{words} not in the PDF's text:\n{text}");
        }
        let png = db.dir.path().join("trang");
        let drawn = std::process::Command::new("pdftoppm")
            .args(["-png", "-r", "150", "-singlefile"])
            .arg(&file)
            .arg(&png)
            .status()
            .expect("pdftoppm");
        assert!(drawn.success());
        let qr = std::process::Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(png.with_extension("png"))
            .output()
            .expect("zbarimg");
        let qr = String::from_utf8_lossy(&qr.stdout).trim().to_owned();
        assert!(qr.ends_with(&format!("/verify/{id}")), "the QR code reads {qr:?}");

        // Outside our code: the published key checks the signature; one changed byte does not.
        let did = json(&anyone, "/.well-known/did.json").await;
        let (ok, why) = outside_check(db.dir.path(), &credential, &did);
        assert!(ok, "{why}");
        let mut changed = credential.clone();
        changed["credentialSubject"]["result"][0]["value"] = serde_json::json!("99");
        let (ok, why) = outside_check(db.dir.path(), &changed, &did);
        assert!(!ok && why.contains("signature does not match"), "{why}");

        // A share link lets someone else have the credential too.
        let verify = lan.get(&format!("/verify/{id}")).await;
        let shared = lan.post(&format!("/chung-nhan/{id}/chia-se"), &[("csrf", &verify.csrf())]).await;
        let start = shared.body.find("?chia_se=").unwrap() + 9;
        let token = &shared.body[start..start + 64];
        let via_link = json(&anyone, &format!("/api/v1/certificates/{id}?chia_se={token}")).await;
        assert_eq!(via_link["credential"], credential);
        let wrong = json(&anyone, &format!("/api/v1/certificates/{id}?chia_se={}", "0".repeat(64))).await;
        assert!(wrong.get("credential").is_none());

        // The pass is a fact for the indicators, and its confirmation waits in the outbox.
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM vneid_outbox WHERE certificate_id = '{id}' AND state = 'pending'"
            )),
            1
        );
    }
}

#[tokio::test]
async fn one_competence_below_its_minimum_fails_and_points_to_lessons() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let browser = learner(&db, &base, "minh").await;
        let sitting = start(&browser).await;
        // Everything right except both questions of one competence.
        let paper = db.query(&format!("SELECT paper FROM sitting WHERE id = '{sitting}'"));
        let items: Vec<serde_json::Value> = serde_json::from_str(paper.trim()).unwrap();
        // 4.2, which the fixture's lessons teach.
        let weak = "4.2".to_owned();
        for (i, item) in items.iter().enumerate() {
            answer(&browser, &sitting, i + 1, item["competence"] != weak.as_str()).await;
        }
        let review = browser.get(&format!("/kiem-tra/bai/{sitting}/nop")).await;
        let done = browser.post(&format!("/kiem-tra/bai/{sitting}/nop"), &[("csrf", &review.csrf())]).await;
        let result = browser.follow(done, 1).await;
        // 14 of 16 is 87%, above 70%, but one competence is at 0%.
        assert!(result.body.contains("14/16") && result.body.contains("chưa đạt"), "{}", result.body);
        assert!(result.body.contains(&format!("Học thêm: {weak}")), "{}", result.body);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM certificate"), 0);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM vneid_outbox"), 0);
    }
}

#[tokio::test]
async fn a_sitting_survives_a_restart_and_refuses_answers_after_its_time() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let browser = learner(&db, &base, "hoa").await;
        let sitting = start(&browser).await;
        answer(&browser, &sitting, 1, true).await;
        answer(&browser, &sitting, 2, false).await;
        // Another server process over the same database: the learner comes back to the same sitting.
        let other = serve(&db, db.config()).await;
        let again = Browser { client: browser.client.clone(), base: other };
        let page = again.get("/kiem-tra").await;
        assert!(page.body.contains(&format!("/kiem-tra/bai/{sitting}")), "{}", page.body);
        let page = again.get(&format!("/kiem-tra/bai/{sitting}")).await;
        assert!(page.body.contains("Câu 3 trên"), "resumes at the first unanswered question: {}", page.body);
        // The time runs out (the deadline moved to the past, as the clock would).
        db.query(&format!("UPDATE sitting SET deadline = started_at - 1 WHERE id = '{sitting}'"));
        let value = choice(&page, "Đáp án đúng");
        let late =
            again.post(&format!("/kiem-tra/bai/{sitting}/cau/3"), &[("c", &value), ("csrf", &page.csrf())]).await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
        assert!(late.body.contains("hết giờ"), "{}", late.body);
        assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM answer WHERE sitting_id = '{sitting}'")), 2);
        // Opening it now grades it with what was saved.
        let page = again.get(&format!("/kiem-tra/bai/{sitting}")).await;
        assert_eq!(page.location.as_deref(), Some(format!("/kiem-tra/ket-qua/{sitting}").as_str()));
        let result = again.follow(page, 1).await;
        assert!(result.body.contains("1/16"), "{}", result.body);
    }
}

#[tokio::test]
async fn attempts_per_day_are_limited_by_the_administrators_setting() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let admin_password = account(&db, "quantri", "quan_tri_tinh", "25", None).await;
        let admin = Browser::new(&base);
        admin.login("quantri", &admin_password).await;
        let form = admin.get("/quan-tri/bai-kiem-tra").await;
        let bad = admin
            .post(
                "/quan-tri/bai-kiem-tra/nguoi_dan",
                &[("so_cau", "3"), ("so_phut", "30"), ("so_lan", "1"), ("csrf", &form.csrf())],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "fewer items than required competences");
        let ok = admin
            .post(
                "/quan-tri/bai-kiem-tra/nguoi_dan",
                &[("so_cau", "8"), ("so_phut", "20"), ("so_lan", "1"), ("csrf", &form.csrf())],
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        let browser = learner(&db, &base, "tuan").await;
        let (sitting, _) = take(&browser, 8).await;
        let paper = db.query(&format!("SELECT paper FROM sitting WHERE id = '{sitting}'"));
        let items: Vec<serde_json::Value> = serde_json::from_str(paper.trim()).unwrap();
        // Eight items, one per required competence.
        let mut competences: Vec<&str> = items.iter().map(|i| i["competence"].as_str().unwrap()).collect();
        competences.sort();
        competences.dedup();
        assert_eq!((items.len(), competences.len()), (8, 8));
        // Each drawn item counts one showing, and no other item does.
        let ids: Vec<String> = items.iter().map(|i| format!("'{}'", i["id"].as_str().unwrap())).collect();
        let shown = format!("SELECT COUNT(*) FROM item WHERE exposure = 1 AND id IN ({})", ids.join(", "));
        assert_eq!(db.scalar(&shown), 8);
        assert_eq!(db.scalar("SELECT COALESCE(SUM(exposure), 0) FROM item"), 8);
        let home = browser.get("/kiem-tra").await;
        assert!(home.body.contains("còn 0 lượt"), "{}", home.body);
        let refused = browser.post("/kiem-tra/nguoi_dan/bat-dau", &[("csrf", &home.csrf())]).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
        // A group the learner is not in is not theirs to sit.
        let other = browser.post("/kiem-tra/can_bo/bat-dau", &[("csrf", &home.csrf())]).await;
        assert_eq!(other.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn revocation_shows_and_certificates_of_a_rotated_out_key_still_verify() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let first = learner(&db, &base, "anh").await;
        let (_, result) = take(&first, 0).await;
        let old_id = certificate_of(&result);
        let old = json(&first, &format!("/api/v1/certificates/{old_id}")).await["credential"].clone();
        // Rotate the key on the command line, as an operator would.
        let out = db.cli(&["certificates", "rotate-key"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let new_kid = stdout(&out).trim().to_owned();
        // A rotation reaches every server within a second.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let second = learner(&db, &base, "bao").await;
        let (_, result) = take(&second, 0).await;
        let new_id = certificate_of(&result);
        let new = json(&second, &format!("/api/v1/certificates/{new_id}")).await["credential"].clone();
        assert!(new["proof"][0]["verificationMethod"].as_str().unwrap().ends_with(&format!("#{new_kid}")));
        assert_ne!(old["proof"][0]["verificationMethod"], new["proof"][0]["verificationMethod"]);
        let anyone = Browser::new(&base);
        let did = json(&anyone, "/.well-known/did.json").await;
        assert_eq!(did["verificationMethod"].as_array().unwrap().len(), 2);
        for credential in [&old, &new] {
            let (ok, why) = outside_check(db.dir.path(), credential, &did);
            assert!(ok, "{why}");
        }
        // Revoked by the province, with its reason.
        let password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &password).await;
        let list = admin.get("/quan-tri/chung-nhan").await;
        assert!(list.body.contains(&old_id), "{}", list.body);
        let page = admin
            .post(
                &format!("/quan-tri/chung-nhan/{old_id}/thu-hoi"),
                &[("ly_do", "Cấp nhầm người"), ("csrf", &list.csrf())],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let verify = anyone.get(&format!("/verify/{old_id}")).await;
        assert!(verify.body.contains("Đã bị thu hồi") && verify.body.contains("Cấp nhầm người"), "{}", verify.body);
        assert_eq!(json(&anyone, &format!("/api/v1/certificates/{old_id}")).await["status"], "revoked");
        assert_eq!(json(&anyone, &format!("/api/v1/certificates/{new_id}")).await["status"], "valid");
        // A stored credential changed behind the platform's back no longer checks.
        db.query(&format!(
            "UPDATE certificate SET credential = REPLACE(credential, '\"bao\"', '\"bao-gia\"') WHERE id = '{new_id}'"
        ));
        assert_eq!(json(&anyone, &format!("/api/v1/certificates/{new_id}")).await["status"], "invalid");
        assert!(anyone.get(&format!("/verify/{new_id}")).await.body.contains("Không hợp lệ"));
        // A learner may not revoke.
        let csrf = first.get("/kiem-tra").await.csrf();
        let page =
            first.post(&format!("/quan-tri/chung-nhan/{new_id}/thu-hoi"), &[("ly_do", "x"), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn an_editor_changes_an_item_as_a_new_version_and_bad_text_is_shown_back() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let password = account(&db, "bientap", "bien_tap", "25", None).await;
        let editor = Browser::new(&base);
        editor.login("bientap", &password).await;
        let page = editor.get("/bien-tap/cau-hoi/t11-1").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Câu thử 1 của năng lực 1.1"), "{}", page.body);
        let text = "[[item]]\nid = \"t11-1\"\nkind = \"true_false\"\ncompetence = \"1.1\"\nthemes = [\"internet_tim_kiem\"]\n\
                    level = 1\ndifficulty = 1\nquestion = \"Trang .gov.vn là trang của cơ quan nhà nước.\"\nanswer = true\n\
                    explain = \"Tên miền .gov.vn chỉ cấp cho cơ quan nhà nước.\"\n";
        let saved = editor.post("/bien-tap/cau-hoi", &[("toml", text), ("csrf", &page.csrf())]).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        assert!(saved.body.contains("phiên bản 2"), "{}", saved.body);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM item_version WHERE item_id = 't11-1'"), 2);
        let bad =
            editor.post("/bien-tap/cau-hoi", &[("toml", &text.replace("1.1", "9.9")), ("csrf", &page.csrf())]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("dòng 2") && bad.body.contains("9.9"), "{}", bad.body);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM item_version WHERE item_id = 't11-1'"), 2);
    }
}

/// Submissions finish together (they share a transaction): each sitting is graded once and has one
/// certificate and one confirmation, even when a learner sends "submit" twice at once.
#[tokio::test]
async fn concurrent_submissions_each_issue_one_certificate() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let mut sittings = Vec::new();
        for i in 0..6 {
            let browser = learner(&db, &base, &format!("hv{i}")).await;
            let sitting = start(&browser).await;
            let review = browser.get(&format!("/kiem-tra/bai/{sitting}/nop")).await;
            let count = review.body.matches("class=\"chua\"").count();
            for n in 1..=count {
                assert_eq!(answer(&browser, &sitting, n, true).await.status, StatusCode::SEE_OTHER);
            }
            let csrf = browser.get(&format!("/kiem-tra/bai/{sitting}/nop")).await.csrf();
            sittings.push((browser, sitting, csrf));
        }
        let submits = sittings.iter().flat_map(|(browser, sitting, csrf)| {
            let path = format!("/kiem-tra/bai/{sitting}/nop");
            [0, 1].map(move |_| {
                let path = path.clone();
                async move { browser.post(&path, &[("csrf", csrf)]).await }
            })
        });
        for page in futures::future::join_all(submits).await {
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        }
        for (_, sitting, _) in &sittings {
            let certificates = db.scalar(&format!("SELECT COUNT(*) FROM certificate WHERE sitting_id = '{sitting}'"));
            assert_eq!(certificates, 1, "{} sitting {sitting}", db.backend());
            let confirmations = db.scalar(&format!(
                "SELECT COUNT(*) FROM vneid_outbox o JOIN certificate c ON c.id = o.certificate_id \
                 WHERE c.sitting_id = '{sitting}'"
            ));
            assert_eq!(confirmations, 1);
            let graded = db.scalar(&format!("SELECT COUNT(*) FROM sitting WHERE id = '{sitting}' AND passed"));
            assert_eq!(graded, 1);
        }
    }
}

#[tokio::test]
async fn commune_officers_see_and_resend_only_their_communes_failed_confirmations() {
    for db in TestDb::all() {
        import_fixture(&db);
        seed_people(&db);
        let base = serve(&db, db.config()).await;
        let mut ids = Vec::new();
        for (login, name) in [("hv.an", "Nguyễn Văn An"), ("hv.em", "Lê Văn Em")] {
            let browser = learner(&db, &base, login).await;
            db.query(&format!("UPDATE account SET person_id = {} WHERE login = '{login}'", person_id(&db, name)));
            let (_, result) = take(&browser, 0).await;
            ids.push(certificate_of(&result));
        }
        let (home_id, away_id) = (&ids[0], &ids[1]);
        // Both confirmations gave up after their tries (the receiver kept failing).
        db.query("UPDATE vneid_outbox SET state = 'failed', attempts = 8, last_error = 'HTTP 503'");
        let state = |id: &str| db.query(&format!("SELECT state FROM vneid_outbox WHERE certificate_id = '{id}'"));

        let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let officer = Browser::new(&base);
        officer.login("canbo.xa", &password).await;
        assert!(officer.get("/quan-ly").await.body.contains("/quan-tri/chung-nhan"));
        let list = officer.get("/quan-tri/chung-nhan").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains(home_id.as_str()) && list.body.contains("Nguyễn Văn An"), "{}", list.body);
        assert!(list.body.contains("Lỗi sau 8 lần: HTTP 503") && list.body.contains("Gửi lại"), "{}", list.body);
        assert!(!list.body.contains(away_id.as_str()) && !list.body.contains("Lê Văn Em"), "{}", list.body);
        assert!(!list.body.contains("Thu hồi"), "only the province revokes: {}", list.body);

        // Another commune's confirmation answers as if it did not exist, and stays failed.
        let other = officer.post(&format!("/quan-tri/chung-nhan/{away_id}/gui-lai"), &[("csrf", &list.csrf())]).await;
        assert_eq!(other.status, StatusCode::OK);
        assert!(other.body.contains("Không có xác nhận lỗi này trong phạm vi của bạn"), "{}", other.body);
        assert!(!other.body.contains("Lê Văn Em"));
        assert_eq!(state(away_id).trim(), "failed");
        let mine = officer.post(&format!("/quan-tri/chung-nhan/{home_id}/gui-lai"), &[("csrf", &list.csrf())]).await;
        assert!(mine.body.contains("Đã đưa xác nhận trở lại hàng đợi"), "{}", mine.body);
        assert_eq!(state(home_id).trim(), "pending");
        assert_eq!(db.scalar(&format!("SELECT attempts FROM vneid_outbox WHERE certificate_id = '{home_id}'")), 0);
        let revoke = officer
            .post(&format!("/quan-tri/chung-nhan/{home_id}/thu-hoi"), &[("ly_do", "x"), ("csrf", &list.csrf())])
            .await;
        assert_eq!(revoke.status, StatusCode::FORBIDDEN);

        // Every list read and the resend are in the audit log, under the officer.
        let officer_id = db.query("SELECT id FROM account WHERE login = 'canbo.xa'");
        let audited = |action: &str| {
            db.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND account_id = '{}'",
                officer_id.trim()
            ))
        };
        assert_eq!((audited("person.list"), audited("certificate.retry")), (3, 1), "{}", db.backend());

        // The province sees both and may revoke.
        let password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &password).await;
        let all = admin.get("/quan-tri/chung-nhan").await;
        assert!(all.body.contains(home_id.as_str()) && all.body.contains(away_id.as_str()), "{}", all.body);
        assert!(all.body.contains("toàn tỉnh") && all.body.contains("Thu hồi"), "{}", all.body);

        // A revoked certificate's failed confirmation is not sent again, even by the province.
        let revoked = admin
            .post(&format!("/quan-tri/chung-nhan/{away_id}/thu-hoi"), &[("ly_do", "Cấp nhầm"), ("csrf", &all.csrf())])
            .await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        let again = admin.post(&format!("/quan-tri/chung-nhan/{away_id}/gui-lai"), &[("csrf", &all.csrf())]).await;
        assert!(again.body.contains("Không có xác nhận lỗi này"), "{}", again.body);
        assert_eq!(state(away_id).trim(), "failed");
        assert!(!again.body.contains("/gui-lai"), "no resend button is left: {}", again.body);
    }
}

#[tokio::test]
async fn public_certificate_lookups_are_limited_per_address() {
    let db = TestDb::sqlite();
    let mut config = db.config();
    config.public_lookups_per_minute = std::num::NonZeroU32::new(3).unwrap();
    let base = serve(&db, config).await;
    let anyone = Browser::new(&base);
    let unknown = "/api/v1/certificates/00000000-0000-4000-8000-000000000000";
    for _ in 0..3 {
        assert_eq!(anyone.get(unknown).await.status, StatusCode::NOT_FOUND);
    }
    let refused = anyone.get(unknown).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    let wait: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(body["error"], "rate_limited");
    // The page and the PDF count against the same allowance and say it in Vietnamese.
    let page = anyone.get("/verify/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("Bạn đã tra cứu quá nhiều lần"), "{}", page.body);
    assert_eq!(anyone.get("/chung-nhan/x/pdf").await.status, StatusCode::TOO_MANY_REQUESTS);
    // The rest of the site is not limited.
    assert_eq!(anyone.get("/healthz").await.status, StatusCode::OK);
}

/// Starts a sitting and submits it unanswered: one attempt of the day used.
async fn sit_blank(browser: &Browser) -> String {
    let sitting = start(browser).await;
    let review = browser.get(&format!("/kiem-tra/bai/{sitting}/nop")).await;
    let done = browser.post(&format!("/kiem-tra/bai/{sitting}/nop"), &[("csrf", &review.csrf())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    sitting
}

fn account_id(db: &TestDb, login: &str) -> String {
    db.query(&format!("SELECT id FROM account WHERE login = '{login}'")).trim().to_owned()
}

/// Start A, start B, submit B, A inserts: the start that counted two attempts before B landed
/// does not become a fourth attempt of a day that allows three.
#[tokio::test]
async fn a_start_that_counted_before_another_landed_takes_no_fourth_attempt() {
    use hocvuso::assessment::sitting;
    use hocvuso::web::error::AppError;
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let browser = learner(&db, &base, "dua").await;
        let account = account_id(&db, "dua");
        sit_blank(&browser).await;
        sit_blank(&browser).await;
        let state = hocvuso::app::AppState::new(db.store().await, db.config()).await.unwrap();
        // A counts two attempts and draws its paper...
        let a = sitting::draw(&state, &account, "nguoi_dan", hocvuso::domain::time::now())
            .await
            .expect("two attempts of three so far");
        // ...B starts and is submitted: the third...
        sit_blank(&browser).await;
        // ...and A's insert comes last.
        let late = sitting::insert(&state, a).await;
        assert!(matches!(late, Err(AppError::TooMany { code: "no_attempts_left", .. })), "{late:?}");
        assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM sitting WHERE account_id = '{account}'")), 3);
        let home = browser.get("/kiem-tra").await;
        assert!(home.body.contains("còn 0 lượt"), "{}", home.body);
    }
}

/// A learner who holds a valid certificate for the profile practises: a new pass is graded and
/// shown, but no second certificate and no second confirmation for VNeID.
#[tokio::test]
async fn a_second_pass_of_a_certified_profile_is_practice_and_issues_nothing_more() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let browser = learner(&db, &base, "lan").await;
        let (_, first) = take(&browser, 0).await;
        let held = certificate_of(&first);
        let (again, second) = take(&browser, 0).await;
        assert!(second.body.contains("đã có chứng nhận cho đối tượng này"), "{}", second.body);
        assert_eq!(certificate_of(&second), held, "the result links the certificate they hold");
        assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM sitting WHERE id = '{again}' AND passed")), 1);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM certificate"), 1);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM vneid_outbox"), 1);
    }
}

/// Marks a local learner as someone VNeID let in without a registry person: self-registered, with
/// the citizen number VNeID gave sealed on the account, confirmed by a commune officer.
async fn outside_registry(db: &TestDb, login: &str, cccd: &str) {
    let store = db.store().await;
    let keys = hocvuso::crypto::Keys::new(&db.config().require_data_key().unwrap());
    let id = hocvuso::domain::cccd::CitizenId::parse(cccd).unwrap();
    hocvuso::on_pool!(&store, pool => sqlx::query(
        "UPDATE account SET self_registered = TRUE, home_commune = '04792', confirmed_at = 1, cccd_hash = $1, \
         cccd_enc = $2 WHERE login = $3")
        .bind(keys.citizen.hash(&id)).bind(keys.citizen.encrypt(&id)).bind(login).execute(pool).await.unwrap().rows_affected());
    store.close().await;
}

/// Someone outside the registry has no birth year there: it is read from their citizen number, and a
/// minor's certificate is issued without a confirmation for VNeID, as a registry minor's is.
#[tokio::test]
async fn a_minor_outside_the_registry_is_certified_but_not_sent_to_vneid() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let minor = learner(&db, &base, "chau").await;
        outside_registry(&db, "chau", "025312000001").await;
        let adult = learner(&db, &base, "an.lon").await;
        outside_registry(&db, "an.lon", "025090123456").await;
        let (_, result) = take(&minor, 0).await;
        let minors = certificate_of(&result);
        let (_, result) = take(&adult, 0).await;
        let adults = certificate_of(&result);
        let queued = |id: &str| db.scalar(&format!("SELECT COUNT(*) FROM vneid_outbox WHERE certificate_id = '{id}'"));
        assert_eq!(queued(&minors), 0, "born 2012: no confirmation for VNeID");
        assert_eq!(queued(&adults), 1, "born 1990: confirmed on VNeID");
    }
}

/// A self-registered learner learns at once, sits an exam only once an officer of their commune has
/// confirmed them (the first confirmation stands), and names another commune only to be confirmed again.
#[tokio::test]
async fn an_unconfirmed_self_registered_learner_may_learn_but_not_sit_an_exam() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = serve(&db, db.config()).await;
        let browser = learner(&db, &base, "tu.dang.ky").await;
        db.query("UPDATE account SET self_registered = TRUE WHERE login = 'tu.dang.ky'");
        let me = account_id(&db, "tu.dang.ky");
        let refused = |db: &TestDb, page: &common::web::Page| {
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
            assert!(page.body.contains("cán bộ xã"), "{}", page.body);
            assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM sitting WHERE account_id = '{me}'")), 0);
        };

        let home = browser.get("/kiem-tra").await;
        assert!(home.body.contains("chưa thể làm bài kiểm tra") && home.body.contains("Tài khoản"), "{}", home.body);
        assert!(!home.body.contains("/kiem-tra/nguoi_dan/bat-dau"), "no start button: {}", home.body);
        refused(&db, &browser.post("/kiem-tra/nguoi_dan/bat-dau", &[("csrf", &browser.csrf().await)]).await);
        assert_eq!(browser.get("/hoc").await.status, StatusCode::OK, "learning is open");

        let form = browser.get("/tai-khoan/noi-o").await;
        let named = browser.post("/tai-khoan/noi-o", &[("ma_xa", "04792"), ("csrf", &form.csrf())]).await;
        assert_eq!(named.status, StatusCode::SEE_OTHER, "{}", named.body);
        let home = browser.get("/kiem-tra").await;
        assert!(home.body.contains("cán bộ xã, phường nơi bạn sống cần xác nhận"), "{}", home.body);
        refused(&db, &browser.post("/kiem-tra/nguoi_dan/bat-dau", &[("csrf", &browser.csrf().await)]).await);

        // Two officers confirm; the first stands and the second is told.
        let mut officers = Vec::new();
        for login in ["canbo.mot", "canbo.hai"] {
            let password = account(&db, login, "can_bo_xa", "04792", None).await;
            let officer = Browser::new(&base);
            officer.login(login, &password).await;
            officers.push(officer);
        }
        let list = officers[0].get("/quan-ly/tu-dang-ky").await;
        assert!(list.body.contains(&me), "{}", list.body);
        let confirm = format!("/quan-ly/tai-khoan/{me}/xac-nhan");
        let first = officers[0].post(&confirm, &[("csrf", &list.csrf())]).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        let csrf = officers[1].get("/quan-ly/tu-dang-ky").await.csrf();
        let second = officers[1].post(&confirm, &[("csrf", &csrf)]).await;
        assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.body);
        let confirmer = db.query(&format!("SELECT confirmed_by FROM account WHERE id = '{me}'"));
        assert_eq!(confirmer.trim(), account_id(&db, "canbo.mot"));
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'account.confirm' AND detail LIKE '%{me}%'"
            )),
            1
        );

        let home = browser.get("/kiem-tra").await;
        assert!(!home.body.contains("chưa thể làm bài kiểm tra"), "{}", home.body);
        sit_blank(&browser).await;

        // Another commune: its officers have not vouched for this learner.
        let form = browser.get("/tai-khoan/noi-o").await;
        let moved = browser.post("/tai-khoan/noi-o", &[("ma_xa", "04795"), ("csrf", &form.csrf())]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM account WHERE id = '{me}' AND confirmed_at IS NULL AND confirmed_by IS NULL"
            )),
            1
        );
        let page = browser.post("/kiem-tra/nguoi_dan/bat-dau", &[("csrf", &browser.csrf().await)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM sitting WHERE account_id = '{me}'")), 1);
    }
}
