//! The site in a real browser: a learner's whole path with JavaScript disabled (lessons, then the exam,
//! the certificate's PDF and its QR code followed back to the public check), axe-core (WCAG 2.1 AA)
//! on every page type at 320 px and with larger text, and the weight of a lesson page.
//! The browser side is `tests/browser/e2e.mjs` (playwright-core + axe-core, pinned in its
//! package-lock.json) driving Debian's `/usr/bin/chromium`, with `pdftoppm` and `zbarimg` to read the
//! QR code; `scripts/test` installs them all.

mod common;

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
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .unwrap_or_else(|_| panic!("tests/browser/e2e.mjs did not finish in 180 s"))
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
