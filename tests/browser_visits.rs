//! The door-to-door visit form with no signal, in a real headless Chromium (issue 22): the browser
//! side is `tests/browser/visits.mjs` (playwright-core + axe-core, as `tests/browser.rs`). Here: the
//! database it needs, then what it left: exactly the two visits saved offline, once each, the first
//! content kept after a changed resend, and the volunteer's fix of it as a visit of its own.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::web::account;
use common::*;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");
const CHROMIUM: &str = "/usr/bin/chromium";

#[tokio::test]
async fn visits_saved_offline_arrive_once_and_the_pages_pass_axe() {
    assert!(
        Path::new(DIR).join("node_modules/playwright-core").exists(),
        "the browser test tools are not installed in tests/browser/node_modules: run scripts/test"
    );
    assert!(Path::new(CHROMIUM).exists(), "no browser at {CHROMIUM}: run scripts/test");
    let db = TestDb::sqlite();
    seed_people(&db);
    let volunteer_password = account(&db, "tv.trinh-duyet", "to_cong_nghe_so", "04792", None).await;
    let officer_password = account(&db, "cb.trinh-duyet", "can_bo_xa", "04792", None).await;
    let mentor_password = account(&db, "ds.trinh-duyet", "dai_su_so", "04792", None).await;
    let desk_password = account(&db, "mc.trinh-duyet", "ho_tro_mot_cua", "04792", None).await;
    db.query(
        "INSERT INTO tech_team (id, commune_code, name, created_at) VALUES (1, '04792', 'Tổ công nghệ số thôn Đông', 0); \
         INSERT INTO tech_team_village (team_id, village_code) SELECT 1, code FROM unit WHERE parent_code = '04792'; \
         INSERT INTO tech_team_member (team_id, account_id) SELECT 1, id FROM account WHERE login = 'tv.trinh-duyet'; \
         INSERT INTO mentee (mentor_id, person_id, commune_code, assigned_at) \
           SELECT a.id, p.id, '04792', 0 FROM account a, person p WHERE a.login = 'ds.trinh-duyet' AND p.commune_code = '04792'; \
         INSERT INTO mentoring_session (mentor_id, person_id, commune_code, held_on, learned, lessons, recorded_at) \
           SELECT mentor_id, person_id, commune_code, '2025-06-02', 'Cài VNeID', '', 0 FROM mentee; \
         INSERT INTO one_stop_help (account_id, commune_code, helped_on, procedure_name, outcome, recorded_at) \
           SELECT id, '04792', '2025-06-02', 'Đăng ký khai sinh trực tuyến', 'xong', 0 FROM account WHERE login = 'mc.trinh-duyet';",
    );
    let mentor_account = db.query("SELECT id FROM account WHERE login = 'ds.trinh-duyet'").trim().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = db.config();
    config.public_url = url::Url::parse(&base).unwrap();
    common::web::serve_on(&db, listener, config).await;

    let run = tokio::process::Command::new("node")
        .arg("visits.mjs")
        .arg(&base)
        .current_dir(DIR)
        .env("HOCVUSO_E2E_VOLUNTEER", "tv.trinh-duyet")
        .env("HOCVUSO_E2E_VOLUNTEER_PASSWORD", &volunteer_password)
        .env("HOCVUSO_E2E_OFFICER", "cb.trinh-duyet")
        .env("HOCVUSO_E2E_OFFICER_PASSWORD", &officer_password)
        .env("HOCVUSO_E2E_TEAM", "1")
        .env("HOCVUSO_E2E_MENTOR", "ds.trinh-duyet")
        .env("HOCVUSO_E2E_MENTOR_PASSWORD", &mentor_password)
        .env("HOCVUSO_E2E_MENTOR_ACCOUNT", &mentor_account)
        .env("HOCVUSO_E2E_DESK", "mc.trinh-duyet")
        .env("HOCVUSO_E2E_DESK_PASSWORD", &desk_password)
        .env("HOCVUSO_E2E_CHROMIUM", CHROMIUM)
        .kill_on_drop(true)
        .output();
    // A guard against a hang, not a timing: the suite runs two tests at a time on two cores, so the
    // browser shares the machine (134 s alone, over 180 s beside the rest on a busy machine).
    let output = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("tests/browser/visits.mjs did not finish in 600 s")
        .expect("node (installed by scripts/test)");
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "tests/browser/visits.mjs failed ({}):\n{out}\n{err}", output.status);
    assert!(out.contains("all visit checks passed"), "{out}\n{err}");
    println!("{out}");

    let ids: Vec<&str> =
        out.lines().find_map(|l| l.strip_prefix("visit ids: ")).expect("the ids of the visits").split(' ').collect();
    assert_eq!(ids.len(), 2, "{out}");
    // The two saved offline, and the refused resend as fixed by the volunteer (a new visit).
    assert_eq!(db.scalar("SELECT count(*) FROM team_visit"), 3, "each visit exactly once");
    for id in &ids {
        assert_eq!(db.scalar(&format!("SELECT count(*) FROM team_visit WHERE id = '{id}'")), 1, "{id}");
    }
    assert_eq!(
        db.query(
            "SELECT household_code, coalesce(still_needed, '') FROM team_visit ORDER BY household_code, still_needed"
        ),
        "HO-1|Cần học thêm về mật khẩu\nHO-1|Nội dung đã sửa\nHO-2|\n",
        "the first content stands after the changed resend"
    );
    let an = person_id(&db, "Nguyễn Văn An");
    assert_eq!(
        db.query(&format!("SELECT vneid_level, vneid_level_source FROM person WHERE id = {an}")).trim(),
        "2|team_visit"
    );
}
