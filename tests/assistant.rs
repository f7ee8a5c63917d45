//! The learning assistant through HTTP and the CLI, on both databases: questions with and without
//! diacritics and with typos find the right lesson section; a question nothing answers says so and
//! points to human help; stored questions carry no citizen or phone numbers; the JSON API wants
//! JSON; editors' FAQ entries answer; recommendations skip what the learner masters.

use crate::common;

use common::exam::{learner, take};
use common::web::{Browser, account, serve};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const VNEID: &str = r#"+++
title = "Cài đặt VNeID trên điện thoại"
summary = "Tải ứng dụng định danh điện tử và đăng ký tài khoản."
level = 1
minutes = 10
competences = ["2.6"]
themes = ["vneid_danh_tinh_so"]

[[source]]
title = "Hướng dẫn VNeID"
publisher = "Bộ Công an"

[[check]]
question = "Tải VNeID ở đâu?"
choices = ["CH Play hoặc App Store", "Đường link lạ"]
answer = 0
+++
VNeID là ứng dụng định danh điện tử quốc gia.

## Cài đặt ứng dụng

1. Mở CH Play hoặc App Store.
2. Gõ VNeID, chọn ứng dụng của Bộ Công an và chạm Cài đặt.

## Kích hoạt tài khoản

Nhập mã kích hoạt gửi qua tin nhắn, rồi đặt mật khẩu và passcode sáu số.
"#;

const QR: &str = r#"+++
title = "Chuyển tiền bằng mã QR"
summary = "Quét mã VietQR để thanh toán an toàn."
level = 1
minutes = 10
competences = ["6.1"]
themes = ["thanh_toan_so"]

[[source]]
title = "Hướng dẫn VietQR"
publisher = "NAPAS"

[[check]]
question = "Trước khi xác nhận chuyển tiền, kiểm tra gì?"
choices = ["Tên người nhận và số tiền", "Màu của mã"]
answer = 0
+++
Mã QR giúp chuyển khoản nhanh.

## Quét mã và kiểm tra người nhận

Mở ứng dụng ngân hàng, chọn quét mã QR, kiểm tra tên người nhận và số tiền rồi mới xác nhận.
"#;

/// The test programme with two more lessons, imported through the CLI.
fn import_content(db: &TestDb) {
    let to = db.dir.path().join("content");
    let from = std::path::PathBuf::from(fixture("content"));
    copy(&from, &to);
    std::fs::write(to.join("thu/lessons/cai-dat-vneid-thu.md"), VNEID).unwrap();
    std::fs::write(to.join("thu/lessons/chuyen-tien-qr-thu.md"), QR).unwrap();
    let program = std::fs::read_to_string(to.join("thu/program.toml")).unwrap().replace(
        "lessons = [\"bai-mot\", \"bai-hai\"]",
        "lessons = [\"bai-mot\", \"bai-hai\", \"cai-dat-vneid-thu\", \"chuyen-tien-qr-thu\"]",
    );
    std::fs::write(to.join("thu/program.toml"), program).unwrap();
    std::fs::write(to.join("cau-hoi/xep-lop.toml"), placement_bank()).unwrap();
    let out = db.cli(&["content", "import", to.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Thirty single-choice items of competence 4.2 (domain 4), easy, medium and hard, for placements.
fn placement_bank() -> String {
    (0..30)
        .map(|n| {
            let difficulty = [1, 2, 2, 3, 2][n % 5];
            format!(
                "[[item]]\nid = \"xl-{n}\"\nkind = \"single\"\ncompetence = \"4.2\"\nthemes = [\"an_toan_lua_dao\"]\n\
                 level = 1\ndifficulty = {difficulty}\nquestion = \"Câu xếp lớp số {n}?\"\n\
                 choices = [\"Đáp án đúng\", \"Đáp án sai\"]\nanswer = 0\nexplain = \"Câu dùng cho kiểm thử.\"\n\n"
            )
        })
        .collect()
}

fn copy(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() { copy(&path, &target) } else { std::fs::copy(&path, &target).map(|_| ()).unwrap() }
    }
}

async fn ask(browser: &Browser, question: &str) -> Value {
    let response = browser
        .client
        .post(format!("{}/api/v1/assistant/ask", browser.base))
        .json(&json!({ "question": question }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn lessons(reply: &Value) -> Vec<String> {
    reply["passages"].as_array().unwrap().iter().filter_map(|p| p["lesson"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn questions_find_the_section_that_answers_and_nothing_fits_says_so() {
    for db in TestDb::all() {
        let backend = db.backend();
        import_content(&db);
        let base = serve(&db, db.config()).await;
        let visitor = Browser::new(&base);

        for question in ["Cài VNeID thế nào?", "cai vneid the nao", "cài đặt ứng dụng vnied"] {
            let reply = ask(&visitor, question).await;
            assert_eq!(reply["found"], true, "{backend} {question}: {reply}");
            assert_eq!(lessons(&reply)[0], "cai-dat-vneid-thu", "{backend} {question}: {reply}");
            let first = &reply["passages"][0];
            assert!(
                first["title"].as_str().unwrap().contains("Cài đặt ứng dụng"),
                "the section, not the lesson: {reply}"
            );
            assert!(first["snippet"].as_str().unwrap().contains("CH Play"), "{reply}");
            assert!(!first["snippet"].as_str().unwrap().contains("passcode"), "only the section that answers: {reply}");
            assert_eq!(first["themes"], json!(["vneid_danh_tinh_so"]));
            assert_eq!(first["competences"], json!(["2.6"]));
        }
        // An everyday word from the synonym list: "chuyển khoản" ~ "chuyển tiền", "app" ~ "ứng dụng".
        let reply = ask(&visitor, "thanh toan bang ma qr tren app co an toan khong").await;
        assert_eq!(lessons(&reply)[0], "chuyen-tien-qr-thu", "{backend}: {reply}");

        let reply = ask(&visitor, "Cách nấu phở bò ngon nhất").await;
        assert_eq!(reply["found"], false, "{backend}: {reply}");
        assert!(reply["passages"].as_array().unwrap().is_empty());
        let answer = reply["answer"].as_str().unwrap();
        assert!(answer.contains("chưa tìm thấy") && answer.contains("một cửa"), "{answer}");

        // The page works without JavaScript: a form post.
        let form = visitor.get("/tro-ly").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.len() < 50_000);
        let page = visitor.post("/tro-ly", &[("question", "cai vneid the nao"), ("csrf", &form.csrf())]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("href=\"/bai-hoc/cai-dat-vneid-thu\""), "{}", page.body);
        assert!(page.body.contains("Không giúp được"));
    }
}

#[tokio::test]
async fn stored_questions_carry_no_numbers_and_unhelpful_ones_reach_the_editors() {
    for db in TestDb::all() {
        let backend = db.backend();
        import_content(&db);
        let password = account(&db, "bientap", "bien_tap", "25", None).await;
        let base = serve(&db, db.config()).await;
        let visitor = Browser::new(&base);

        let reply = ask(&visitor, "Tôi là 025090123456, số máy 0912 345 678, làm sao trồng lúa?").await;
        assert_eq!(reply["found"], false, "{reply}");
        let stored = db.query("SELECT question FROM assistant_question");
        assert!(
            !stored.contains("025090123456") && !stored.contains("345 678") && !stored.contains("0912"),
            "{backend}: {stored}"
        );
        assert!(stored.contains("[số đã ẩn]") && stored.contains("trồng lúa"), "{stored}");
        assert_eq!(db.scalar("SELECT count(*) FROM assistant_question"), 1);

        // Answered, then marked "không giúp được" on the page.
        let form = visitor.get("/tro-ly").await;
        let page = visitor.post("/tro-ly", &[("question", "cai vneid the nao"), ("csrf", &form.csrf())]).await;
        let id_at = page.body.find("name=\"id\" value=\"").unwrap() + 17;
        let id = page.body[id_at..id_at + 32].to_owned();
        let thanked = visitor.post("/tro-ly/khong-giup-duoc", &[("id", &id), ("csrf", &form.csrf())]).await;
        assert_eq!(thanked.status, StatusCode::OK, "{}", thanked.body);
        let missing = visitor.post("/tro-ly/khong-giup-duoc", &[("id", &"0".repeat(32)), ("csrf", &form.csrf())]).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        // Editors see both, grouped; visitors do not.
        assert_ne!(visitor.get("/bien-tap/tro-ly").await.status, StatusCode::OK);
        let editor = Browser::new(&base);
        editor.login("bientap", &password).await;
        let queue = editor.get("/bien-tap/tro-ly").await;
        assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
        assert!(queue.body.contains("trồng lúa") && queue.body.contains("cai vneid the nao"), "{}", queue.body);

        // An FAQ entry answers at once (the change counter moves), with its tags.
        let saved = editor
            .post(
                "/bien-tap/tro-ly/hoi-dap",
                &[
                    ("question", "Trồng lúa bằng máy bay không người lái được không?"),
                    ("answer", "Hợp tác xã có thể thuê dịch vụ phun thuốc bằng máy bay không người lái."),
                    ("themes", "cong_viec_so"),
                    ("competences", "5.1"),
                    ("csrf", &queue.csrf()),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let bad = editor
            .post(
                "/bien-tap/tro-ly/hoi-dap",
                &[
                    ("question", "Hỏi gì?"),
                    ("answer", "Trả lời đủ dài."),
                    ("themes", "khong_co"),
                    ("csrf", &queue.csrf()),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("khong_co"));
        let reply = ask(&visitor, "trong lua bang may bay khong nguoi lai").await;
        assert_eq!(reply["found"], true, "{backend}: {reply}");
        assert!(reply["passages"][0]["faq"].is_i64(), "{reply}");
        assert_eq!(reply["passages"][0]["themes"], json!(["cong_viec_so"]));
    }
}

#[tokio::test]
async fn the_api_wants_json_and_recommendations_skip_what_is_mastered() {
    for db in TestDb::all() {
        let backend = db.backend();
        import_content(&db);
        let base = serve(&db, db.config()).await;
        let url = format!("{base}/api/v1/assistant/ask");
        let client = reqwest::Client::new();
        let plain = client
            .post(&url)
            .header("content-type", "text/plain")
            .body("{\"question\": \"vneid\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{backend}");
        let body: Value = plain.json().await.unwrap();
        assert_eq!(body["error"], "unsupported_media_type");
        let form = client.post(&url).form(&[("question", "vneid")]).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let empty = client.post(&url).json(&json!({"question": "  "})).send().await.unwrap();
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let doc: Value = client.get(format!("{base}/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/api/v1/assistant/ask"]["post"].is_object(), "in the OpenAPI document");

        let learner = learner(&db, &base, "hocvien").await;
        let before = ask(&learner, "nên học gì tiếp?").await;
        let recommended: Vec<&str> =
            before["recommendations"].as_array().unwrap().iter().map(|r| r["lesson"].as_str().unwrap()).collect();
        assert!(recommended.contains(&"bai-mot"), "{backend}: {before}");
        let _ = take(&learner, 0).await;
        let after = ask(&learner, "nên học gì tiếp?").await;
        let recommended: Vec<&str> =
            after["recommendations"].as_array().unwrap().iter().map(|r| r["lesson"].as_str().unwrap()).collect();
        assert!(!recommended.contains(&"bai-mot") && !recommended.contains(&"cai-dat-vneid-thu"), "mastered: {after}");
        assert!(recommended.contains(&"chuyen-tien-qr-thu"), "{after}");
        let home = learner.get("/hoc").await;
        assert!(
            home.body.contains("/bai-hoc/chuyen-tien-qr-thu") && home.body.contains("Gợi ý bài nên học"),
            "{}",
            home.body
        );
    }
}

#[tokio::test]
async fn placement_adapts_stops_by_its_standard_error_and_issues_no_certificate() {
    for db in TestDb::all() {
        let backend = db.backend();
        import_content(&db);
        let base = serve(&db, db.config()).await;
        let learner = learner(&db, &base, "xeplop").await;
        let home = learner.get("/xep-lop").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        let started = learner.post("/xep-lop/4", &[("csrf", &home.csrf())]).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let at = started.next.clone().unwrap();
        let mut asked = 0;
        let done = loop {
            let page = learner.get(&at).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            if page.body.contains("Kết quả xếp lớp") {
                break page;
            }
            asked += 1;
            assert!(asked <= 20, "{backend}: the cap is 20 items");
            let value = common::exam::choice(&page, if asked % 2 == 0 { "Đáp án đúng" } else { "Đáp án sai" });
            let n = asked.to_string();
            let sent = learner.post(&at, &[("c", &value), ("n", &n), ("csrf", &page.csrf())]).await;
            assert_eq!(sent.status, StatusCode::SEE_OTHER);
            // A resend of the same answer changes nothing.
            learner.post(&at, &[("c", &value), ("n", &n), ("csrf", &page.csrf())]).await;
        };
        let se: f64 = db.query("SELECT se FROM placement").trim().parse().unwrap();
        assert!(se <= 0.4, "{backend}: stopped by its standard error ({se}) after {asked} items");
        assert!(asked < 20, "{backend}: fewer items than the cap: {asked}");
        assert_eq!(db.scalar("SELECT count(*) FROM certificate"), 0, "a placement never issues a certificate");
        assert!(!done.body.contains("/verify/") && done.body.contains("không cấp chứng chỉ"), "{}", done.body);
        assert_eq!(db.scalar("SELECT count(*) FROM learner_level WHERE competence IN ('4.1', '4.2', '4.3', '4.4')"), 4);
        let stored = db.scalar("SELECT count(*) FROM learner_level");
        assert_eq!(stored, 4, "only the domain's competences");

        // The answers calibrate the items (too few here to replace the defaults) and the fit is reported.
        let out = db.cli(&["assessment", "calibrate"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("fit: mean log-likelihood"), "{}", stdout(&out));
    }
}
