//! The site in a real browser: a learner's whole path with JavaScript disabled (lessons, then the exam,
//! the certificate's PDF and its QR code followed back to the public check), axe-core (WCAG 2.1 AA)
//! on every page type at 320 px and with larger text, and the weight of a lesson page.
//! The browser side is `tests/browser/e2e.mjs` (playwright-core + axe-core, pinned in its
//! package-lock.json) driving Debian's `/usr/bin/chromium`, with `pdftoppm` and `zbarimg` to read the
//! QR code; `scripts/test` installs them all.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::web::account;
use common::*;
use hocvuso::commands::user::{AddUser, create};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");
const CHROMIUM: &str = "/usr/bin/chromium";
const LEARNER: &str = "hv.trinh-duyet";
/// The name the learner's certificate carries (the account's display name: no registry person).
const LEARNER_NAME: &str = "Hà Thị Trình";

#[tokio::test]
async fn a_learner_learns_without_javascript_and_every_page_passes_axe() {
    assert!(
        Path::new(DIR).join("node_modules/playwright-core").exists()
            && Path::new(DIR).join("node_modules/axe-core").exists(),
        "the browser test tools are not installed in tests/browser/node_modules: run scripts/test \
         (or `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci` in tests/browser)"
    );
    assert!(Path::new(CHROMIUM).exists(), "no browser at {CHROMIUM}: run scripts/test (or `apt-get install chromium`)");
    for (tool, package) in [("pdftoppm", "poppler-utils"), ("zbarimg", "zbar-tools")] {
        assert!(
            std::process::Command::new(tool).arg("-h").output().is_ok(),
            "no {tool}, which reads the certificate's QR code: run scripts/test (or `apt-get install {package}`)"
        );
    }

    let db = TestDb::sqlite();
    let out = db.cli(&["content", "import", &fixture("content")]);
    assert!(out.status.success(), "content import: {}", stderr(&out));
    let learner_password = "rừng cọ đồi chè trình duyệt";
    let store = db.store().await;
    create(
        &store,
        AddUser {
            login: LEARNER.into(),
            name: Some(LEARNER_NAME.into()),
            roles: vec!["hoc_vien".into()],
            unit: "04792".into(),
            organisation: None,
            password: Some(learner_password.into()),
        },
    )
    .await
    .unwrap();
    store.close().await;
    let editor_password = account(&db, "bt.trinh-duyet", "bien_tap", "25", None).await;
    // The dashboards, with a few people so that their tables and charts have something to show.
    let admin_password = account(&db, "qt.trinh-duyet", "quan_tri_tinh", "25", None).await;
    seed_people(&db);
    assert!(db.cli(&["tracking", "snapshot", "--quarter", "2025Q4"]).status.success());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    db.query(&format!(
        "INSERT INTO news (title, summary, body, kind, published_at, created_at) VALUES \
         ('Ngày hội chuyển đổi số 10/10', 'Cả tỉnh cùng học kỹ năng số.', \
          'Mỗi xã mở **lớp học cộng đồng** vào buổi tối.', 'tin_tuc', {now}, {now})"
    ));
    // Community records of 04792 (issue 22, part B), so that each page of the walk has rows to show.
    db.query(&format!(
        "INSERT INTO community_class (id, commune_code, title, lessons, place, schedule, teacher, audience, created_at) \
         VALUES (1, '04792', 'Cài đặt VNeID', 'bai-mot', 'Nhà văn hóa', 'Sáng thứ Bảy', 'Tổ công nghệ số', 'nguoi_cao_tuoi', {now})"
    ));
    db.query(&format!(
        "INSERT INTO class_session (id, class_id, commune_code, held_on, week_of, created_at) \
         VALUES (1, 1, '04792', '2026-12-05', '2026-11-30', {now})"
    ));
    db.query(&format!(
        "INSERT INTO class_attendance (session_id, person_id, method, at) SELECT 1, id, 'qr', {now} FROM person \
         WHERE commune_code = '04792'"
    ));
    db.query(&format!(
        "INSERT INTO community_event (id, unit_code, kind, title, held_on, place, created_at) \
         VALUES (1, '25', 'ngay_hoi_10_10', 'Ngày hội toàn dân học tập số', '2099-10-10', 'Các xã', {now})"
    ));
    db.query(&format!(
        "INSERT INTO event_participant (event_id, person_id, commune_code, registered_at, checked_in_at) \
         SELECT 1, id, commune_code, {now}, {now} FROM person"
    ));
    db.query(&format!(
        "INSERT INTO market (id, commune_code, name, place, created_at) VALUES (1, '04792', 'Chợ trung tâm', 'Thôn Đông', {now})"
    ));
    db.query(&format!(
        "INSERT INTO market_trader (market_id, person_id, stall, registered_at) SELECT 1, id, 'Quầy 1', {now} FROM person \
         WHERE full_name = 'Nguyễn Văn An'"
    ));
    db.query(&format!(
        "INSERT INTO trader_module (person_id, module, recorded_at) SELECT id, 'tiet_kiem_so', {now} FROM person \
         WHERE full_name = 'Nguyễn Văn An'"
    ));
    db.query(&format!(
        "INSERT INTO volunteer (id, person_id, commune_code, organisation, created_at) SELECT 1, id, '04792', \
         'doan_thanh_nien', {now} FROM person WHERE full_name = 'Trần Thị Bình'"
    ));
    db.query(&format!(
        "INSERT INTO volunteer_activity (volunteer_id, done_on, minutes, classes_taught, households_helped, recorded_at) \
         VALUES (1, '2026-12-01', 150, 1, 3, {now})"
    ));
    db.query(&format!(
        "INSERT INTO nomination (commune_code, kind, collective, achievement, evidence, proposed_at) \
         VALUES ('04792', 'tap_the', 'Chi đoàn xã', 'Mở 12 lớp học', 'Sổ điểm danh', {now})"
    ));
    // The QR code on the certificate leads to the public URL: here, the test server itself.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = db.config();
    config.public_url = url::Url::parse(&base).unwrap();
    common::web::serve_on(&db, listener, config).await;

    let started = Instant::now();
    let run = tokio::process::Command::new("node")
        .arg("e2e.mjs")
        .arg(&base)
        .current_dir(DIR)
        .env("HOCVUSO_E2E_LEARNER", LEARNER)
        .env("HOCVUSO_E2E_LEARNER_PASSWORD", learner_password)
        .env("HOCVUSO_E2E_LEARNER_NAME", LEARNER_NAME)
        .env("HOCVUSO_E2E_EDITOR", "bt.trinh-duyet")
        .env("HOCVUSO_E2E_EDITOR_PASSWORD", &editor_password)
        .env("HOCVUSO_E2E_ADMIN", "qt.trinh-duyet")
        .env("HOCVUSO_E2E_ADMIN_PASSWORD", &admin_password)
        .env("HOCVUSO_E2E_CHROMIUM", CHROMIUM)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .kill_on_drop(true)
        .output();
    // A guard against a hang, not a timing: the suite runs two tests at a time on two cores, so the
    // browser shares the machine (134 s alone, over 180 s beside the rest on a busy machine).
    let output = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .unwrap_or_else(|_| panic!("tests/browser/e2e.mjs did not finish in 600 s"))
        .expect("node (installed by scripts/test)");
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(
        output.status.success(),
        "tests/browser/e2e.mjs failed ({}) after {:.1} s:\n{out}\n{err}",
        output.status,
        started.elapsed().as_secs_f64()
    );
    assert!(out.contains("all browser checks passed"), "{out}\n{err}");
    // The run's own report (the lesson page's weight among it), visible with `--nocapture`.
    println!("{out}");
}
