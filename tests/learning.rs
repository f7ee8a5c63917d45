//! Learning through the interfaces people use: `hocvuso content import` on the command line, and
//! the learner's and editor's pages over HTTP, on both databases.

use crate::common;

use common::web::{Browser, Page, account};
use common::*;
use reqwest::StatusCode;

/// The value of a form field on the page.
fn field(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.body.find(&marker).unwrap_or_else(|| panic!("no field {name} in {}", page.body)) + marker.len();
    page.body[start..].split('"').next().unwrap().to_owned()
}

fn import(db: &TestDb, dir: &str) -> std::process::Output {
    db.cli(&["content", "import", dir])
}

/// A copy of the test content in the database's folder, to break on purpose.
fn copy_fixture(db: &TestDb) -> std::path::PathBuf {
    let to = db.dir.path().join("content");
    let from = std::path::PathBuf::from(fixture("content"));
    for entry in walk(&from) {
        let target = to.join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    to
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

#[tokio::test]
async fn a_broken_lesson_is_reported_by_file_and_line_and_nothing_is_imported() {
    for db in TestDb::all() {
        let dir = copy_fixture(&db);
        let lesson = dir.join("thu/lessons/bai-mot.md");
        let good = std::fs::read_to_string(&lesson).unwrap();
        let cases = [
            // bad front matter: a number written as a word, on line 5
            (good.replace("minutes = 5", "minutes = \"năm\""), ":5:", "bai-mot.md"),
            // an unknown competence code
            (good.replace("competences = [\"4.2\"]", "competences = [\"9.9\"]"), "9.9", "bai-mot.md"),
            // a missing picture, on line 27 of the file
            (good.replace("media/otp.svg", "media/khong-co.svg"), ":27:", "khong-co.svg"),
        ];
        for (broken, expect_a, expect_b) in cases {
            std::fs::write(&lesson, &broken).unwrap();
            let out = import(&db, dir.to_str().unwrap());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(
                stderr.contains("bai-mot.md") && stderr.contains(expect_a) && stderr.contains(expect_b),
                "{stderr}"
            );
            // The good lesson beside it was not written either.
            assert_eq!(db.query("SELECT COUNT(*) FROM lesson_version").trim(), "0", "{}", db.backend());
            assert_eq!(db.query("SELECT COUNT(*) FROM program").trim(), "0");
        }
        std::fs::write(&lesson, &good).unwrap();
        let out = import(&db, dir.to_str().unwrap());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(db.query("SELECT COUNT(*) FROM lesson_version").trim(), "2");
        // Importing the same files again makes no new version.
        assert!(import(&db, dir.to_str().unwrap()).status.success());
        assert_eq!(db.query("SELECT COUNT(*) FROM lesson_version").trim(), "2");
        // Every lesson has its synthesised audio, Opus, in the media store.
        let audio = db.query("SELECT m.content_type FROM lesson_version v JOIN media m ON m.key = v.audio_key");
        assert_eq!(audio.lines().filter(|l| l.trim() == "audio/ogg").count(), 2, "{audio}");
    }
}

async fn learner(db: &TestDb) -> (Browser, String) {
    assert!(import(db, &fixture("content")).status.success());
    let password = account(db, "hv.hoc", "hoc_vien", "04792", None).await;
    let base = common::web::serve(db, db.config()).await;
    let browser = Browser::new(&base);
    browser.login("hv.hoc", &password).await;
    (browser, base)
}

#[tokio::test]
async fn a_learner_reads_answers_and_resumes_and_a_retry_counts_once() {
    for db in TestDb::all() {
        let (browser, _) = learner(&db).await;
        let home = browser.get("/hoc").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("Chương trình thử"), "{}", home.body);

        // The course is sequential: the second lesson opens only after the first.
        assert_eq!(browser.get("/bai-hoc/bai-hai").await.status, StatusCode::FORBIDDEN);

        let lesson = browser.get("/bai-hoc/bai-mot").await;
        assert!(lesson.body.contains("Mã OTP là mật khẩu dùng một lần"), "{}", lesson.body);
        assert!(lesson.body.contains("alt=\"Tin nhắn chứa mã OTP"), "the picture and its alt text");
        assert!(lesson.body.contains("<audio"), "the lesson can be listened to");
        let step = [
            ("csrf", field(&lesson, "csrf")),
            ("su_kien", field(&lesson, "su_kien")),
            ("phien_ban", field(&lesson, "phien_ban")),
            ("den", field(&lesson, "den")),
        ];
        let form: Vec<(&str, &str)> = step.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let moved = browser.post("/bai-hoc/bai-mot/tien-do", &form).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
        // The connection dropped and the browser sent the same event again: counted once.
        let again = browser.post("/bai-hoc/bai-mot/tien-do", &form).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "1", "{}", db.backend());
        assert_eq!(db.query("SELECT position FROM progress").trim(), "1");

        // Coming back later without saying where: the lesson opens where they left off.
        let resumed = browser.get("/bai-hoc/bai-mot").await;
        assert!(
            resumed.body.contains("Giữ mã cho riêng mình") && resumed.body.contains("aria-current=\"step\">Giữ mã"),
            "{}",
            resumed.body
        );

        let checks = browser.get("/bai-hoc/bai-mot?phan=2").await;
        let answer = [
            ("csrf", field(&checks, "csrf")),
            ("su_kien", field(&checks, "su_kien")),
            ("phien_ban", field(&checks, "phien_ban")),
            ("c0", "0".into()),
            ("c1", "0".into()),
        ];
        let form: Vec<(&str, &str)> = answer.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let result = browser.post("/bai-hoc/bai-mot/tra-loi", &form).await;
        assert_eq!(result.status, StatusCode::OK, "{}", result.body);
        assert!(result.body.contains("đúng 1/2 câu"), "{}", result.body);
        assert!(result.body.contains("Cúp máy và báo công an xã"), "the right answer is shown");
        assert_eq!(db.query("SELECT score FROM progress WHERE completed_at IS NOT NULL").trim(), "1");

        // The statements carry the pseudonymous account id, never the login or a name.
        let bodies = db.query("SELECT body FROM xapi_statement");
        let account_id = db.query("SELECT id FROM account WHERE login = 'hv.hoc'").trim().to_owned();
        assert!(bodies.contains(&account_id) && !bodies.contains("hv.hoc"), "{bodies}");
        assert!(bodies.contains("http://adlnet.gov/expapi/verbs/completed"));

        assert_eq!(browser.get("/bai-hoc/bai-hai").await.status, StatusCode::OK, "open once the first is done");
        let course = browser.get("/khoa-hoc/thu-khoa").await;
        assert!(course.body.contains("Đã học xong"), "{}", course.body);
    }
}

#[tokio::test]
async fn search_finds_lessons_with_or_without_diacritics() {
    let db = TestDb::sqlite();
    assert!(import(&db, &fixture("content")).status.success());
    let base = common::web::serve(&db, db.config()).await;
    let browser = Browser::new(&base);
    for q in ["ma%20otp", "M%C3%83%20OTP", "mã%20otp", "duong%20link"] {
        let page = browser.get(&format!("/tim-kiem?q={q}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("/bai-hoc/"), "{q}: {}", page.body);
    }
    let none = browser.get("/tim-kiem?q=%22%28%29*").await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("Không tìm thấy"));
}

#[tokio::test]
async fn the_framework_is_browsable_and_a_new_version_keeps_old_lessons_on_theirs() {
    let db = TestDb::sqlite();
    assert!(import(&db, &fixture("content")).status.success());
    let builtin = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data-builtin/framework.toml")).unwrap();
    let duplicate = db.write("same.toml", &builtin);
    let out = db.cli(&["framework", "import", duplicate.to_str().unwrap()]);
    assert!(!out.status.success(), "the same version twice is refused");
    let next = db.write("next.toml", builtin.replace("version = \"2025.1\"", "version = \"2026.1\""));
    let out = db.cli(&["framework", "import", next.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(db.query("SELECT DISTINCT framework_version FROM lesson_version").trim(), "2025.1");
    let base = common::web::serve(&db, db.config()).await;
    let page = Browser::new(&base).get("/khung-nang-luc").await;
    assert!(page.body.contains("2026.1") && page.body.contains("2025.1"), "{}", page.body);
    assert!(page.body.contains("Quản lý danh tính số"));
}

/// The sequence lock holds on every write, not only on the page: a post cannot complete (or start)
/// a lesson the learner may not open yet.
#[tokio::test]
async fn a_locked_lesson_cannot_be_completed_by_a_post() {
    for db in TestDb::all() {
        let (browser, _) = learner(&db).await;
        let open = browser.get("/bai-hoc/bai-mot").await;
        let csrf = field(&open, "csrf");
        let event = field(&open, "su_kien");
        let answered = browser
            .post(
                "/bai-hoc/bai-hai/tra-loi",
                &[("csrf", &csrf), ("su_kien", &event), ("phien_ban", "1"), ("c0", "0"), ("c1", "0")],
            )
            .await;
        assert_eq!(answered.status, StatusCode::FORBIDDEN, "{}: {}", db.backend(), answered.body);
        assert!(answered.body.contains("học xong bài trước"), "{}", answered.body);
        let moved = browser
            .post("/bai-hoc/bai-hai/tien-do", &[("csrf", &csrf), ("su_kien", &event), ("phien_ban", "1"), ("den", "1")])
            .await;
        assert_eq!(moved.status, StatusCode::FORBIDDEN, "{}", moved.body);
        assert_eq!(db.query("SELECT COUNT(*) FROM progress").trim(), "0", "{}", db.backend());
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "0");
    }
}

/// `luc` (when the page was shown) comes from the client: an absurd value neither overflows (it
/// was a 500) nor counts, and no event counts more time than the server saw pass.
#[tokio::test]
async fn the_claimed_time_is_clamped_and_bounded_by_the_server_clock() {
    for db in TestDb::all() {
        let (browser, _) = learner(&db).await;
        let lesson = browser.get("/bai-hoc/bai-mot").await;
        let step = |event: String, luc: &str| {
            [
                ("csrf", field(&lesson, "csrf")),
                ("su_kien", event),
                ("phien_ban", field(&lesson, "phien_ban")),
                ("den", "1".to_owned()),
                ("luc", luc.to_owned()),
            ]
        };
        let first = step(field(&lesson, "su_kien"), "-9223372036854775808");
        let form: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let moved = browser.post("/bai-hoc/bai-mot/tien-do", &form).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}: {}", db.backend(), moved.body);
        let seconds = db.scalar("SELECT seconds FROM progress");
        assert!((0..=600).contains(&seconds), "{seconds}");

        // A second event at once, claiming the page was shown ten minutes ago: the server saw
        // (nearly) no time pass since the first, so (nearly) nothing is added.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let second = step(uuid::Uuid::now_v7().to_string(), &(now - 600).to_string());
        let form: Vec<(&str, &str)> = second.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(browser.post("/bai-hoc/bai-mot/tien-do", &form).await.status, StatusCode::SEE_OTHER);
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "2");
        let total = db.scalar("SELECT seconds FROM progress");
        assert!(total < seconds + 300, "{seconds} then {total}: the second claim of 600 s was counted");

        // Far in the future, or not a number: no 500 either.
        let third = step(uuid::Uuid::now_v7().to_string(), "9223372036854775807");
        let form: Vec<(&str, &str)> = third.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(browser.post("/bai-hoc/bai-mot/tien-do", &form).await.status, StatusCode::SEE_OTHER);
        let fourth = step(uuid::Uuid::now_v7().to_string(), "hôm qua");
        let form: Vec<(&str, &str)> = fourth.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = browser.post("/bai-hoc/bai-mot/tien-do", &form).await;
        assert!(refused.status.is_client_error() && refused.body.contains("Biểu mẫu không hợp lệ"), "{}", refused.body);
    }
}
