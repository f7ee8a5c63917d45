//! The content editor over HTTP: write, preview, publish, edit again (a new version while a learner
//! keeps the one they started), unpublish; uploads checked by type and size; media served in ranges.

use crate::common;

use common::web::{Browser, Page, account};
use common::*;
use reqwest::StatusCode;

const BODY: &str = "Lời mở đầu của bài về VietQR.\n\n## Quét mã\n\nMở ứng dụng ngân hàng, chọn quét mã.\n";
const CHECKS: &str =
    "? Trước khi xác nhận, kiểm tra gì?\n- Màu của mã\n* Tên người nhận và số tiền\n> Luôn đọc tên người nhận.\n";

fn field(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.body.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    page.body[start..].split('"').next().unwrap().to_owned()
}

fn lesson_form<'a>(csrf: &'a str, body: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("slug", "tra-tien-vietqr"),
        ("title", "Trả tiền bằng VietQR"),
        ("summary", "Quét mã và kiểm tra người nhận."),
        ("level", "1"),
        ("minutes", "8"),
        ("competence", "2.1"),
        ("competence", "4.2"),
        ("theme", "thanh_toan_so"),
        ("body", body),
        ("checks", CHECKS),
        ("sources", "Ngân hàng Nhà nước Việt Nam | Hướng dẫn thanh toán QR | https://sbv.gov.vn"),
        ("hanh_dong", action),
    ]
}

#[tokio::test]
async fn an_editor_writes_previews_publishes_edits_and_unpublishes() {
    for db in TestDb::all() {
        let editor_password = account(&db, "bt.an", "bien_tap", "25", None).await;
        let learner_password = account(&db, "hv.binh", "hoc_vien", "04792", None).await;
        let base = common::web::serve(&db, db.config()).await;
        let editor = Browser::new(&base);
        editor.login("bt.an", &editor_password).await;
        let csrf = editor.get("/bien-tap/bai-hoc/moi").await.csrf();

        // Not ready: no check question. The draft is kept and the problem named.
        let mut incomplete = lesson_form(&csrf, BODY, "dang");
        incomplete.retain(|(k, _)| *k != "checks");
        let page = editor.post("/bien-tap/bai-hoc", &incomplete).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
        assert!(page.body.contains("câu hỏi kiểm tra"), "{}", page.body);
        assert!(page.body.contains("Lời mở đầu của bài về VietQR"), "what was typed is shown back");

        let preview = editor.post("/bien-tap/bai-hoc", &lesson_form(&csrf, BODY, "xem")).await;
        assert_eq!(preview.status, StatusCode::OK);
        assert!(preview.body.contains("Bản xem trước") && preview.body.contains("Lời mở đầu"), "{}", preview.body);
        assert_eq!(Browser::new(&base).get("/bai-hoc/tra-tien-vietqr").await.status, StatusCode::NOT_FOUND);

        let published = editor.post("/bien-tap/bai-hoc", &lesson_form(&csrf, BODY, "dang")).await;
        assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);
        let public = Browser::new(&base).get("/bai-hoc/tra-tien-vietqr").await;
        assert_eq!(public.status, StatusCode::OK);
        assert!(public.body.contains("<audio"), "published lessons get synthesised audio");

        // A learner starts version 1 and moves to its second part.
        let learner = Browser::new(&base);
        learner.login("hv.binh", &learner_password).await;
        let lesson = learner.get("/bai-hoc/tra-tien-vietqr").await;
        let step = [
            ("csrf", field(&lesson, "csrf")),
            ("su_kien", field(&lesson, "su_kien")),
            ("phien_ban", field(&lesson, "phien_ban")),
            ("den", "1".to_owned()),
        ];
        let form: Vec<(&str, &str)> = step.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(learner.post("/bai-hoc/tra-tien-vietqr/tien-do", &form).await.status, StatusCode::SEE_OTHER);

        // The editor changes the text: version 2.
        let changed = BODY.replace("chọn quét mã", "chọn biểu tượng quét mã QR");
        let republished = editor.post("/bien-tap/bai-hoc", &lesson_form(&csrf, &changed, "dang")).await;
        assert_eq!(republished.status, StatusCode::SEE_OTHER);
        assert_eq!(db.query("SELECT MAX(version) FROM lesson_version").trim(), "2");
        assert!(
            Browser::new(&base).get("/bai-hoc/tra-tien-vietqr?phan=1").await.body.contains("biểu tượng quét mã QR")
        );
        // The learner mid-lesson keeps the version they started.
        let mid = learner.get("/bai-hoc/tra-tien-vietqr?phan=1").await;
        assert!(mid.body.contains("chọn quét mã") && !mid.body.contains("biểu tượng quét"), "{}", mid.body);
        assert_eq!(field(&mid, "phien_ban"), "1");

        let csrf = editor.get("/bien-tap").await.csrf();
        let gone = editor.post("/bien-tap/bai-hoc/tra-tien-vietqr/an", &[("csrf", &csrf)]).await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER);
        assert_eq!(Browser::new(&base).get("/bai-hoc/tra-tien-vietqr").await.status, StatusCode::NOT_FOUND);

        // News: written, published, listed publicly and on the home page at once (the home page keeps
        // what it shows for a minute; publishing makes it read again).
        let before = Browser::new(&base).get("/").await;
        assert!(!before.body.contains("Ngày hội 10/10 tại xã"));
        let news = [
            ("csrf", csrf.as_str()),
            ("kind", "thong_bao"),
            ("title", "Ngày hội 10/10 tại xã"),
            ("summary", "Mời bà con đến học cài VNeID."),
            ("body", "Sáng **10/10** tại nhà văn hóa."),
            ("publish", "co"),
        ];
        assert_eq!(editor.post("/bien-tap/tin-tuc", &news).await.status, StatusCode::SEE_OTHER);
        let list = Browser::new(&base).get("/tin-tuc").await;
        assert!(list.body.contains("Ngày hội 10/10 tại xã"), "{}", list.body);
        let home = Browser::new(&base).get("/").await;
        assert!(home.body.contains("Ngày hội 10/10 tại xã"), "{}", home.body);
        // Learners may not edit.
        assert_eq!(learner.get("/bien-tap").await.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn uploads_are_checked_by_type_and_size_and_media_answer_ranges() {
    let db = TestDb::sqlite();
    let password = account(&db, "bt.an", "bien_tap", "25", None).await;
    let base = common::web::serve(&db, db.config()).await;
    let editor = Browser::new(&base);
    editor.login("bt.an", &password).await;
    let csrf = editor.get("/bien-tap").await.csrf();
    let upload = |bytes: Vec<u8>, name: &'static str| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
        let form = reqwest::multipart::Form::new().part("tep", part);
        editor.client.post(format!("{base}/bien-tap/tep?csrf={csrf}")).multipart(form).send()
    };
    // A program renamed to .png is not a picture.
    let exe = upload(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec(), "anh.png").await.unwrap();
    assert_eq!(exe.status(), StatusCode::BAD_REQUEST);
    assert!(exe.text().await.unwrap().contains("loại tệp"));
    // An SVG with a script is refused.
    let svg = upload(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(), "a.svg");
    assert_eq!(svg.await.unwrap().status(), StatusCode::BAD_REQUEST);
    // A PNG over the 2 MB limit for pictures.
    let mut big = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    big.resize(3 << 20, 0);
    let too_big = upload(big, "to.png").await.unwrap();
    assert_eq!(too_big.status(), StatusCode::BAD_REQUEST);
    assert!(too_big.text().await.unwrap().contains("quá lớn"));
    // Without the CSRF token: refused.
    let part = reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.svg");
    let no_csrf = editor
        .client
        .post(format!("{base}/bien-tap/tep"))
        .multipart(reqwest::multipart::Form::new().part("tep", part))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);

    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend((0..5000).map(|i| b'a' + (i % 26) as u8));
    let ok = upload(pdf.clone(), "bai-giang.pdf").await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let body = ok.text().await.unwrap();
    let start = body.find("/media/").unwrap() + 7;
    let key: String = body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();

    let client = reqwest::Client::new();
    let whole = client.get(format!("{base}/media/{key}")).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert!(whole.headers()["cache-control"].to_str().unwrap().contains("max-age=31536000"));
    let etag = whole.headers()["etag"].clone();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let part = client.get(format!("{base}/media/{key}")).header("range", "bytes=100-199").send().await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], format!("bytes 100-199/{}", pdf.len()).as_str());
    assert_eq!(part.bytes().await.unwrap().as_ref(), &pdf[100..200]);
    let tail = client.get(format!("{base}/media/{key}")).header("range", "bytes=-10").send().await.unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &pdf[pdf.len() - 10..]);
    let beyond = client.get(format!("{base}/media/{key}")).header("range", "bytes=999999-").send().await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let cached = client.get(format!("{base}/media/{key}")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(client.get(format!("{base}/media/..%2Fetc")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

/// Every change of content or configuration writes who did what, in its own transaction: news
/// published and withdrawn, a lesson published and taken down, an item saved and taken out of draws,
/// an exam's settings, a framework imported on the web and by the command line. The auditor reads them.
#[tokio::test]
async fn every_editorial_change_names_who_made_it_in_the_audit_log() {
    for db in TestDb::all() {
        let imported = db.cli(&["content", "import", &fixture("content")]);
        assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
        let admin_password = account(&db, "qt.tinh", "quan_tri_tinh", "25", None).await;
        let auditor_password = account(&db, "kt.tinh", "kiem_toan", "25", None).await;
        let base = common::web::serve(&db, db.config()).await;
        let admin = Browser::new(&base);
        admin.login("qt.tinh", &admin_password).await;
        let admin_id = db.query("SELECT id FROM account WHERE login = 'qt.tinh'").trim().to_owned();
        let csrf = admin.get("/bien-tap").await.csrf();
        let entry = |action: &str| {
            db.query(&format!(
                "SELECT detail FROM audit_log WHERE action = '{action}' AND account_id = '{admin_id}' ORDER BY id"
            ))
        };

        let news = [
            ("csrf", csrf.as_str()),
            ("kind", "tin_tuc"),
            ("title", "Lớp học VNeID cuối tuần"),
            ("summary", "Mời bà con mang điện thoại."),
            ("body", "Sáng thứ bảy tại nhà văn hóa."),
        ];
        assert_eq!(admin.post("/bien-tap/tin-tuc", &news).await.status, StatusCode::SEE_OTHER);
        let id = db.scalar("SELECT id FROM news");
        assert!(entry("news.create").contains(&format!("\"news\":{id}")), "{}", entry("news.create"));
        for (path, action) in [("dang", "news.publish"), ("an", "news.withdraw")] {
            let done = admin.post(&format!("/bien-tap/tin-tuc/{id}/{path}"), &[("csrf", &csrf)]).await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
            assert!(entry(action).contains(&format!("\"news\":{id}")), "{action}: {}", entry(action));
        }
        assert_eq!(db.scalar("SELECT COUNT(*) FROM news WHERE published_at IS NULL"), 1, "withdrawn");

        let published = admin.post("/bien-tap/bai-hoc", &lesson_form(&csrf, BODY, "dang")).await;
        assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);
        assert!(entry("lesson.publish").contains("tra-tien-vietqr"), "{}", entry("lesson.publish"));
        let gone = admin.post("/bien-tap/bai-hoc/tra-tien-vietqr/an", &[("csrf", &csrf)]).await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER);
        assert!(entry("lesson.unpublish").contains("tra-tien-vietqr"), "{}", entry("lesson.unpublish"));
        // Taking down what is not shown changes nothing and records nothing.
        admin.post("/bien-tap/bai-hoc/tra-tien-vietqr/an", &[("csrf", &csrf)]).await;
        assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'lesson.unpublish'"), 1);

        let out = admin.post("/bien-tap/cau-hoi/t11-1/an", &[("active", "0"), ("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
        assert!(entry("item.deactivate").contains("t11-1"), "{}", entry("item.deactivate"));
        assert_eq!(db.scalar("SELECT COUNT(*) FROM item WHERE id = 't11-1' AND active"), 0);
        let text = "[[item]]\nid = \"t11-1\"\nkind = \"true_false\"\ncompetence = \"1.1\"\nthemes = [\"internet_tim_kiem\"]\n\
                    level = 1\ndifficulty = 1\nquestion = \"Trang .gov.vn là trang của cơ quan nhà nước.\"\nanswer = true\n\
                    explain = \"Tên miền .gov.vn chỉ cấp cho cơ quan nhà nước.\"\n";
        let saved = admin.post("/bien-tap/cau-hoi", &[("toml", text), ("csrf", &csrf)]).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        assert!(entry("item.save").contains("t11-1"), "{}", entry("item.save"));

        let exam = [("so_cau", "20"), ("so_phut", "25"), ("so_lan", "2"), ("csrf", &csrf)];
        assert_eq!(admin.post("/quan-tri/bai-kiem-tra/nguoi_dan", &exam).await.status, StatusCode::OK);
        assert!(entry("exam.update").contains("\"attempts_per_day\":2"), "{}", entry("exam.update"));

        let builtin =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data-builtin/framework.toml")).unwrap();
        let web = builtin.replace("version = \"2025.1\"", "version = \"2026.1\"");
        let imported = admin.post("/quan-tri/khung-nang-luc", &[("toml", &web), ("csrf", &csrf)]).await;
        assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
        assert!(entry("framework.import").contains("2026.1"), "{}", entry("framework.import"));
        let file = db.write("next.toml", builtin.replace("version = \"2025.1\"", "version = \"2026.2\""));
        let out = db.cli(&["framework", "import", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let by_cli = db.query("SELECT detail FROM audit_log WHERE action = 'framework.import' AND account_id = 'cli'");
        assert!(by_cli.contains("2026.2"), "{by_cli}");

        let auditor = Browser::new(&base);
        auditor.login("kt.tinh", &auditor_password).await;
        let log = auditor.get("/kiem-toan").await;
        for label in [
            "Đăng tin tức, thông báo",
            "Gỡ tin tức, thông báo",
            "Ẩn bài học",
            "Đưa câu hỏi ra khỏi đề",
            "Lưu câu hỏi",
            "Sửa cài đặt bài kiểm tra",
            "Nhập khung năng lực",
        ] {
            assert!(log.body.contains(label), "the auditor reads “{label}”: {}", log.body);
        }
    }
}

/// SVG is parsed and written back through an allow-list: the two payloads the old text check let
/// through are refused, and a clean picture is stored as re-written (comments gone), served with
/// the `sandbox` CSP.
#[tokio::test]
async fn svg_uploads_are_parsed_and_written_back() {
    let db = TestDb::sqlite();
    let password = account(&db, "bt.an", "bien_tap", "25", None).await;
    let base = common::web::serve(&db, db.config()).await;
    let editor = Browser::new(&base);
    editor.login("bt.an", &password).await;
    let csrf = editor.get("/bien-tap").await.csrf();
    let upload = |bytes: &'static [u8]| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("hinh.svg");
        let form = reqwest::multipart::Form::new().part("tep", part);
        editor.client.post(format!("{base}/bien-tap/tep?csrf={csrf}")).multipart(form).send()
    };
    for payload in [
        &b"<svg\tonload=\"alert(1)\" xmlns=\"http://www.w3.org/2000/svg\"></svg>"[..],
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><a href=\"javascript&#58;alert(1)\"><text>x</text></a></svg>",
    ] {
        let refused = upload(payload).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(payload));
        assert!(refused.text().await.unwrap().contains("SVG"));
    }
    // Neither a multipart nor a form body: 415 on the site's error page, not axum's plain text.
    let not_multipart = editor.client.post(format!("{base}/bien-tap/tep?csrf={csrf}")).body("x").send().await.unwrap();
    assert_eq!(not_multipart.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body = not_multipart.text().await.unwrap();
    assert!(body.contains("Lỗi 415") && body.contains("không hợp lệ"), "{body}");
    // A form with no file chosen: 400, named.
    let no_file = editor
        .client
        .post(format!("{base}/bien-tap/tep?csrf={csrf}"))
        .multipart(reqwest::multipart::Form::new().text("ghi_chu", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), StatusCode::BAD_REQUEST);
    assert!(no_file.text().await.unwrap().contains("Chưa chọn tệp"));
    let ok = upload(
        "<?xml version=\"1.0\"?><!-- ve tay --><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 4 4\">\
          <title>Ô</title><rect width=\"4\" height=\"4\" fill=\"#0a0\"/></svg>"
            .as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let body = ok.text().await.unwrap();
    let start = body.find("/media/").unwrap() + 7;
    let key: String = body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
    let served = reqwest::Client::new().get(format!("{base}/media/{key}")).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    assert!(served.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(
        served.text().await.unwrap(),
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 4 4\"><title>Ô</title>\
         <rect width=\"4\" height=\"4\" fill=\"#0a0\"/></svg>"
    );
}
