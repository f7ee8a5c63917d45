//! Local accounts, sessions, CSRF, login rate limits, the audit log and erasure, over HTTP on a real
//! listener, on both databases.

use crate::common;

use common::web::{Browser, account, serve};
use common::*;
use hocvuso::domain::role::{Grant, Role};
use hocvuso::identity::accounts::{self, NewAccount};
use hocvuso::identity::password::NewPassword;
use reqwest::StatusCode;

fn redirects_to_login(page: &common::web::Page) -> bool {
    page.status == StatusCode::SEE_OTHER && page.location.as_deref().is_some_and(|l| l.starts_with("/dang-nhap"))
}

#[tokio::test]
async fn login_needs_a_csrf_token_and_logout_everywhere_ends_every_session() {
    for db in TestDb::all() {
        seed_people(&db);
        let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let base = serve(&db, db.config()).await;
        let browser = Browser::new(&base);

        let no_token = browser.post("/dang-nhap", &[("login", "canbo.xa"), ("password", &password)]).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN, "{}", db.backend());
        assert!(no_token.body.contains("Biểu mẫu đã hết hạn"), "{}", no_token.body);
        let wrong_token = browser
            .post("/dang-nhap", &[("login", "canbo.xa"), ("password", &password), ("csrf", &"0".repeat(32))])
            .await;
        assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
        assert_eq!(db.scalar("SELECT count(*) FROM session"), 0);

        assert!(redirects_to_login(&browser.get("/quan-ly").await));
        browser.login("canbo.xa", &password).await;
        let home = browser.get("/quan-ly").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        assert!(home.body.contains("/quan-ly/don-vi/04792/nguoi"));

        // A form of one session does not work in another: the token is bound to the session.
        let stale = browser.get("/tai-khoan").await.csrf();
        let other = Browser::new(&base);
        other.login("canbo.xa", &password).await;
        let refused = other.post("/dang-xuat/moi-noi", &[("csrf", &stale)]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        let csrf = browser.get("/tai-khoan").await.csrf();
        let out = browser.post("/dang-xuat/moi-noi", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(redirects_to_login(&other.get("/quan-ly").await), "the other session ended too");
        assert!(redirects_to_login(&browser.get("/quan-ly").await));
        assert_eq!(db.scalar("SELECT count(*) FROM session"), 0);
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'login'"), 2);
        assert_eq!(db.scalar("SELECT count(*) FROM consent WHERE notice_version = '2026-11-01'"), 1);
    }
}

/// The test database's configuration with more settings.
fn config_with(db: &TestDb, extra: &[(&str, String)]) -> hocvuso::config::Config {
    let (url, media) = (db.url.clone(), db.dir.path().join("media").display().to_string());
    let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    hocvuso::config::Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "HOCVUSO_MEDIA_URL" => Some(media.clone()),
        "HOCVUSO_DATA_KEY" => Some(TEST_KEY.into()),
        _ => extra.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
    })
    .unwrap()
}

/// A browser whose requests reach the platform through a reverse proxy that saw them come from `client`.
fn behind_proxy(base: &str, client: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    // The left-most hop is what the client claims; the proxy appended what it saw.
    headers.insert("x-forwarded-for", format!("10.9.9.9, {client}").parse().unwrap());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    Browser { client, base: base.to_owned() }
}

async fn try_login(browser: &Browser, csrf: &str, login: &str, password: &str) -> common::web::Page {
    browser.post("/dang-nhap", &[("login", login), ("password", password), ("csrf", csrf)]).await
}

fn retry_after(page: &common::web::Page) -> u64 {
    page.headers.get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_flood_of_failed_logins_through_the_proxy_holds_up_that_address_only_and_the_log_counts_it() {
    for db in TestDb::all() {
        let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let auditor_password = account(&db, "kiemtoan", "kiem_toan", "25", None).await;
        let base = serve(&db, config_with(&db, &[("HOCVUSO_TRUSTED_PROXIES", "127.0.0.0/8, ::1".into())])).await;
        let attacker = behind_proxy(&base, "203.0.113.7");
        let csrf = attacker.csrf().await;
        let mut statuses = Vec::new();
        for i in 0..35 {
            statuses.push(try_login(&attacker, &csrf, &format!("ke.la.{i}"), "doan-bua-thoi").await.status);
        }
        assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
        let held = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert!(held >= 20, "{}: the address is held up after its failures: {statuses:?}", db.backend());
        let refused = try_login(&attacker, &csrf, "canbo.xa", &password).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "not even the right password gets through");
        assert!(refused.body.contains("Xin đợi") && retry_after(&refused) >= 1, "{}", refused.body);

        // Someone else behind the same proxy logs in at once.
        behind_proxy(&base, "198.51.100.9").login("canbo.xa", &password).await;
        assert_eq!(db.scalar("SELECT count(*) FROM session WHERE address = '198.51.100.9'"), 1);
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'login' AND address = '198.51.100.9'"), 1);

        // 36 failures from one address: a row per reason and minute, with the count.
        let failed = "FROM audit_log WHERE action = 'login.failed' AND address = '203.0.113.7'";
        assert_eq!(db.scalar(&format!("SELECT CAST(sum(repeats) AS BIGINT) {failed}")), 36, "{}", db.backend());
        let rows = db.scalar(&format!("SELECT count(*) {failed}"));
        assert!((2..=4).contains(&rows), "{rows} rows for 36 failures: {}", db.query(&format!("SELECT * {failed}")));
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE address LIKE '10.%' OR address = '127.0.0.1'"), 0);
        // The count may go up; nothing else about the row may change.
        let update = db.try_query("UPDATE audit_log SET address = '192.0.2.1' WHERE action = 'login.failed'");
        assert!(update.unwrap_err().contains("append-only"), "{}", db.backend());
        assert!(db.try_query("UPDATE audit_log SET repeats = 1 WHERE action = 'login.failed'").is_err());
        let auditor = behind_proxy(&base, "198.51.100.10");
        auditor.login("kiemtoan", &auditor_password).await;
        let log = auditor.get("/kiem-toan?action=login.failed").await;
        assert!(log.body.contains("203.0.113.7") && log.body.contains("lần / times"), "{}", log.body);
    }
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_is_ignored() {
    let db = TestDb::sqlite();
    let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
    let base = serve(&db, db.config()).await;
    behind_proxy(&base, "198.51.100.9").login("canbo.xa", &password).await;
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'login' AND address = '127.0.0.1'"), 1);
}

#[tokio::test]
async fn behind_the_proxy_the_public_lookup_limit_is_each_clients_own() {
    let db = TestDb::sqlite();
    let config = config_with(
        &db,
        &[("HOCVUSO_TRUSTED_PROXIES", "127.0.0.1".into()), ("HOCVUSO_PUBLIC_LOOKUPS_PER_MINUTE", "2".into())],
    );
    let base = serve(&db, config).await;
    let unknown = "/api/v1/certificates/00000000-0000-4000-8000-000000000000";
    let busy = behind_proxy(&base, "203.0.113.7");
    for _ in 0..2 {
        assert_eq!(busy.get(unknown).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(busy.get(unknown).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(behind_proxy(&base, "198.51.100.9").get(unknown).await.status, StatusCode::NOT_FOUND);
    assert_eq!(behind_proxy(&base, "2001:db8:1:2::9").get(unknown).await.status, StatusCode::NOT_FOUND);
}

/// Fails logins on `login` until one is held up (each failure doubles the wait; no attempt here waits).
async fn fail_until_slowed(browser: &Browser, csrf: &str, login: &str) -> (common::web::Page, common::web::Page) {
    let first = try_login(browser, csrf, login, "sai-mat-khau-roi").await;
    for _ in 0..12 {
        let page = try_login(browser, csrf, login, "sai-mat-khau-roi").await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            return (first, page);
        }
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    }
    panic!("{login} was never slowed down");
}

fn alert(page: &common::web::Page) -> String {
    let start = page.body.find("role=\"alert\">").expect("an error") + 13;
    page.body[start..].split("</p>").next().unwrap().to_owned()
}

#[tokio::test]
async fn failed_logins_slow_that_account_without_locking_it_and_an_unknown_login_is_answered_alike() {
    for db in TestDb::all() {
        let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let other_password = account(&db, "canbo.khac", "can_bo_xa", "04795", None).await;
        let base = serve(&db, config_with(&db, &[("HOCVUSO_TRUSTED_PROXIES", "127.0.0.1".into())])).await;
        let browser = behind_proxy(&base, "203.0.113.20");
        let csrf = browser.csrf().await;

        let (known_first, known_slowed) = fail_until_slowed(&browser, &csrf, "canbo.xa").await;
        let (unknown_first, unknown_slowed) = fail_until_slowed(&browser, &csrf, "khong.co.ai").await;
        assert_eq!(known_first.status, StatusCode::UNAUTHORIZED);
        assert!(alert(&known_first).contains("không đúng"));
        assert_eq!(alert(&known_first), alert(&unknown_first), "the same answer for a login that does not exist");
        for slowed in [&known_slowed, &unknown_slowed] {
            assert!(alert(slowed).contains("Xin đợi") && alert(slowed).contains("Too many"), "{}", slowed.body);
            assert!((1..=900).contains(&retry_after(slowed)));
        }

        // Many failures later the account waits minutes, and then the right password is not even checked...
        // The delay is the account's, wherever the attempt comes from.
        let browser = behind_proxy(&base, "198.51.100.30");
        let csrf = browser.csrf().await;
        db.query("UPDATE login_throttle SET failures = 10, delay_seconds = 512, next_at = next_at + 600");
        let held = try_login(&browser, &csrf, "canbo.xa", &password).await;
        assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
        assert!(retry_after(&held) > 60 && alert(&held).contains("phút"), "{}", held.body);
        assert_eq!(db.scalar("SELECT count(*) FROM session"), 0);
        // ...but other accounts, from the same address, are not held up,
        behind_proxy(&base, "198.51.100.30").login("canbo.khac", &other_password).await;
        // and once the wait is over the right password works and the delay is gone.
        db.query("UPDATE login_throttle SET next_at = 0");
        let rows = db.scalar("SELECT count(*) FROM login_throttle");
        assert_eq!(try_login(&browser, &csrf, "canbo.xa", &password).await.status, StatusCode::SEE_OTHER);
        assert_eq!(db.scalar("SELECT count(*) FROM login_throttle"), rows - 1);
        let delayed = "FROM audit_log WHERE action = 'login.failed' AND detail LIKE '%account_delayed%'";
        assert!(db.scalar(&format!("SELECT count(*) {delayed} AND account_id IS NOT NULL")) >= 1);
        assert!(db.scalar(&format!("SELECT count(*) {delayed} AND account_id IS NULL")) >= 1);
    }
}

/// A provider that answers discovery only: enough to start a VNeID login and see where it would return.
async fn discovery_only_provider() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let metadata = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", axum::routing::get(move || async move { axum::Json(metadata) }))
        .route("/jwks", axum::routing::get(|| async { axum::Json(serde_json::json!({"keys": []})) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

/// `tiep` as sent in a query string, and where the person must land.
const RETURN_ADDRESSES: &[(&str, &str)] = &[
    ("/%09/evil.example", "/tai-khoan"),
    ("/%0aX", "/tai-khoan"),
    ("/%0d%0aSet-Cookie:%20x=1", "/tai-khoan"),
    ("//evil", "/tai-khoan"),
    ("/%5Cevil", "/tai-khoan"),
    ("/.//evil.example", "/tai-khoan"),
    ("https://evil", "/tai-khoan"),
    ("https%3A%2F%2Fevil", "/tai-khoan"),
    ("%2F%2Fevil", "/tai-khoan"),
    ("javascript:alert(1)", "/tai-khoan"),
    ("%2Fbai-hoc%2Fx%3Fy%3D1", "/bai-hoc/x?y=1"),
    ("http://127.0.0.1:8080/hoc", "/hoc"),
];

#[tokio::test]
async fn a_return_address_is_a_path_of_this_site_or_the_account_page() {
    for db in TestDb::all() {
        let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let issuer = discovery_only_provider().await;
        let config = config_with(
            &db,
            &[
                ("HOCVUSO_OIDC_ISSUER", issuer.clone()),
                ("HOCVUSO_OIDC_CLIENT_ID", "hocvuso".into()),
                ("HOCVUSO_OIDC_CLIENT_SECRET", "bi-mat".into()),
            ],
        );
        let base = serve(&db, config).await;
        let signed_in = Browser::new(&base);
        signed_in.login("canbo.xa", &password).await;
        let csrf = signed_in.get("/tai-khoan").await.csrf();
        for (tiep, expected) in RETURN_ADDRESSES {
            let page = signed_in.get(&format!("/dang-nhap?tiep={tiep}")).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "GET /dang-nhap?tiep={tiep}: {}", page.body);
            assert_eq!(page.location.as_deref(), Some(*expected), "GET /dang-nhap?tiep={tiep}");

            let fresh = Browser::new(&base);
            let login_csrf = fresh.csrf().await;
            let decoded: String = url::form_urlencoded::parse(format!("t={tiep}").as_bytes()).next().unwrap().1.into();
            let page = fresh
                .post(
                    "/dang-nhap",
                    &[("login", "canbo.xa"), ("password", &password), ("csrf", &login_csrf), ("tiep", &decoded)],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "POST /dang-nhap tiep={tiep}: {}", page.body);
            assert_eq!(page.location.as_deref(), Some(*expected), "POST /dang-nhap tiep={tiep}");

            let form = signed_in.get(&format!("/dong-y?tiep={tiep}")).await;
            assert_eq!(form.status, StatusCode::OK, "GET /dong-y?tiep={tiep}");
            let hidden = format!("name=\"tiep\" value=\"{}\"", expected.replace('&', "&amp;"));
            assert!(form.body.contains(&hidden), "GET /dong-y?tiep={tiep}: {}", form.body);
            let page = signed_in.post("/dong-y", &[("dong_y", "co"), ("csrf", &csrf), ("tiep", &decoded)]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "POST /dong-y tiep={tiep}: {}", page.body);
            assert_eq!(page.location.as_deref(), Some(*expected), "POST /dong-y tiep={tiep}");

            db.query("DELETE FROM oidc_login");
            let page = Browser::new(&base).get(&format!("/dang-nhap/vneid?tiep={tiep}")).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "GET /dang-nhap/vneid?tiep={tiep}: {}", page.body);
            assert!(page.location.as_deref().is_some_and(|l| l.starts_with(&format!("{issuer}/auth?"))));
            let stored = db.query("SELECT next_path FROM oidc_login");
            assert_eq!(stored.trim(), *expected, "where VNeID returns for tiep={tiep}");
        }

        let mut referer = reqwest::header::HeaderMap::new();
        referer.insert("referer", "http://127.0.0.1:8080//evil.example/x".parse().unwrap());
        let back = signed_in
            .client
            .post(format!("{base}/co-chu"))
            .headers(referer)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        assert_eq!(back.headers()["location"], "/");
    }
}

#[tokio::test]
async fn staff_reads_are_audited_out_of_scope_is_hidden_and_the_log_cannot_be_changed() {
    for db in TestDb::all() {
        seed_people(&db);
        let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let base = serve(&db, db.config()).await;
        let browser = Browser::new(&base);
        browser.login("canbo.xa", &password).await;
        let an = person_id(&db, "Nguyễn Văn An");
        let em = person_id(&db, "Lê Văn Em");

        let list = browser.get("/quan-ly/don-vi/04792/nguoi").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("Nguyễn Văn An") && !list.body.contains("Lê Văn Em"));
        let record = browser.get(&format!("/quan-ly/nguoi/{an}")).await;
        assert_eq!(record.status, StatusCode::OK);
        assert!(record.body.contains("Nguyễn Văn An") && record.body.contains("••••••••3456"));
        assert!(!record.body.contains("025090123456"), "staff see only the last digits");

        let hidden = browser.get(&format!("/quan-ly/nguoi/{em}")).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        assert!(!hidden.body.contains("Lê Văn Em"));
        assert_eq!(browser.get("/quan-ly/don-vi/04795/nguoi").await.status, StatusCode::NOT_FOUND);

        let csrf = record.csrf();
        let changed =
            browser.post(&format!("/quan-ly/nguoi/{an}"), &[("dien_thoai", "0977 111 222"), ("csrf", &csrf)]).await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
        let bad = browser.post(&format!("/quan-ly/nguoi/{an}"), &[("dien_thoai", "gọi tôi"), ("csrf", &csrf)]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let export = browser.get("/quan-ly/don-vi/04792/nguoi.csv").await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(export.body.contains("Trần Thị Bình") && !export.body.contains("025192654321"));

        assert_eq!(
            db.scalar(&format!("SELECT count(*) FROM audit_log WHERE action = 'person.read' AND person_id = {an}")),
            1
        );
        assert_eq!(
            db.scalar(&format!("SELECT count(*) FROM audit_log WHERE action = 'person.update' AND person_id = {an}")),
            1
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM audit_log WHERE action = 'person.export' AND unit_code = '04792'"),
            1
        );
        let listed = db.query("SELECT detail FROM audit_log WHERE action = 'person.list' AND unit_code = '04792'");
        assert!(listed.contains("\"rows\":4"), "{listed}");
        let everything = db.query("SELECT * FROM audit_log");
        assert!(!everything.contains("Nguyễn") && !everything.contains("0977"), "no names or phones: {everything}");

        let update = db.try_query("UPDATE audit_log SET action = 'nothing'");
        assert!(update.unwrap_err().contains("append-only"), "{}", db.backend());
        let delete = db.try_query("DELETE FROM audit_log");
        assert!(delete.unwrap_err().contains("append-only"));
        if db.backend() == "postgres" {
            assert!(db.try_query("TRUNCATE audit_log").unwrap_err().contains("append-only"));
        }
        assert!(db.scalar("SELECT count(*) FROM audit_log") >= 6);
    }
}

/// A learner with a password, linked to a person of the registry.
async fn learner(db: &TestDb, login: &str, person: i64, village: &str) -> String {
    let store = db.store().await;
    let password = format!("rừng cọ đồi chè {}", login.len());
    accounts::create(
        &store,
        NewAccount {
            login: Some(login.to_owned()),
            password_hash: Some(NewPassword::parse(&password, None).unwrap().hash().await.unwrap()),
            person_id: Some(person),
            grants: vec![Grant { role: Role::HocVien, unit_code: village.to_owned(), organisation_code: None }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    password
}

#[tokio::test]
async fn a_learner_downloads_their_data_and_erasure_leaves_nothing_that_identifies_them() {
    for db in TestDb::all() {
        seed_people(&db);
        let an = person_id(&db, "Nguyễn Văn An");
        let village = db.query(&format!("SELECT village_code FROM person WHERE id = {an}")).trim().to_owned();
        let learner_password = learner(&db, "an.hocvien", an, &village).await;
        let officer_password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let base = serve(&db, db.config()).await;

        let me = Browser::new(&base);
        me.login("an.hocvien", &learner_password).await;
        let mine = me.get("/tai-khoan/du-lieu").await;
        assert!(mine.body.contains("Nguyễn Văn An") && mine.body.contains("025090123456"), "{}", mine.body);
        let json = me.get("/tai-khoan/du-lieu.json").await;
        assert_eq!(json.status, StatusCode::OK);
        let data: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(data["person"]["cccd"], "025090123456");
        assert_eq!(data["person"]["birth_date"], "1990-03-07");
        assert_eq!(data["person"]["phone"], "0912345678");
        assert_eq!(data["consents"][0]["notice_version"], "2026-11-01");

        let officer = Browser::new(&base);
        officer.login("canbo.xa", &officer_password).await;
        officer.get(&format!("/quan-ly/nguoi/{an}")).await;
        let seen = me.get("/tai-khoan/du-lieu").await;
        assert!(seen.body.contains("Xem hồ sơ một người"), "the person sees that staff read their record");

        let csrf = mine.csrf();
        let asked = me.post("/tai-khoan/xoa-du-lieu", &[("csrf", &csrf)]).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER);
        let queue = officer.get("/quan-ly/xoa-du-lieu").await;
        let start = queue.body.find("/quan-ly/xoa-du-lieu/").expect("the request is listed");
        let action: String = queue.body[start..].chars().take_while(|c| *c != '"').collect();
        assert!(action.ends_with("/duyet"));
        let approved = officer.post(&action, &[("csrf", &queue.csrf())]).await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);

        assert!(redirects_to_login(&me.get("/tai-khoan/du-lieu").await), "the erased account's session is gone");
        let dump = db.dump();
        for needle in ["Nguyễn Văn An", "025090123456", "0912345678", "1990-03-07", "an.hocvien"] {
            assert!(!dump.contains(needle), "{} still holds {needle}", db.backend());
        }
        let hash = db.query(&format!("SELECT coalesce(CAST(cccd_hash AS TEXT), 'none') FROM person WHERE id = {an}"));
        assert_eq!(hash.trim(), "none");
        // What the aggregates need stays.
        let kept =
            db.query(&format!("SELECT birth_year, sex, village_code, target_groups FROM person WHERE id = {an}"));
        assert!(kept.contains("1990") && kept.contains("nam") && kept.contains(&village), "{kept}");
        assert!(dump.contains("Trần Thị Bình"), "other people are untouched");
        assert_eq!(
            db.scalar(&format!("SELECT count(*) FROM audit_log WHERE action = 'erasure.approve' AND person_id = {an}")),
            1
        );
    }
}

#[tokio::test]
async fn security_headers_and_hsts_behind_tls() {
    let db = TestDb::sqlite();
    let base = serve(&db, db.config()).await;
    let page = Browser::new(&base).get("/dang-nhap").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert!(page.headers.get("referrer-policy").is_some());
    assert!(page.headers.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");

    let url = db.url.clone();
    let tls = hocvuso::config::Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "HOCVUSO_DATA_KEY" => Some(TEST_KEY.into()),
        "HOCVUSO_PUBLIC_URL" => Some("https://hocvuso.phutho.gov.vn".into()),
        _ => None,
    })
    .unwrap();
    let base = serve(&db, tls).await;
    let page = Browser::new(&base).get("/dang-nhap").await;
    assert!(page.headers["strict-transport-security"].to_str().unwrap().contains("max-age="));
    assert!(page.headers["set-cookie"].to_str().unwrap().contains("Secure"));
}

#[test]
fn user_add_creates_an_account_that_must_change_its_temporary_password() {
    let db = TestDb::sqlite();
    let output = db.cli(&["user", "add", "--login", "canbo.moi", "--role", "can_bo_xa", "--unit", "04792"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("mật khẩu tạm"));
    assert_eq!(db.scalar("SELECT count(*) FROM account WHERE login = 'canbo.moi' AND must_change_password"), 1);
    assert_eq!(db.scalar("SELECT count(*) FROM role_grant WHERE role = 'can_bo_xa' AND unit_code = '04792'"), 1);
    // Created by whoever ran the command on the server, recorded with the change.
    let id = db.query("SELECT id FROM account WHERE login = 'canbo.moi'").trim().to_owned();
    let created =
        db.query("SELECT detail, unit_code FROM audit_log WHERE action = 'account.create' AND account_id = 'cli'");
    assert!(created.contains(&id) && created.contains("04792") && !created.contains("canbo.moi"), "{created}");
    let bad = db.cli(&["user", "add", "--login", "x", "--role", "thu_truong", "--unit", "04792"]);
    assert_exit(&bad, 1);
    let province = db.cli(&["user", "add", "--login", "qt.tinh", "--role", "quan_tri_tinh", "--unit", "04792"]);
    assert!(stderr(&province).contains("--unit 25"), "{}", stderr(&province));
}

#[tokio::test]
async fn an_administrator_resets_a_password_and_the_user_must_choose_a_new_one() {
    let db = TestDb::sqlite();
    let admin_password = account(&db, "quantri", "quan_tri_tinh", "25", None).await;
    let old = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
    let base = serve(&db, db.config()).await;
    let user = Browser::new(&base);
    user.login("canbo.xa", &old).await;
    let admin = Browser::new(&base);
    admin.login("quantri", &admin_password).await;
    let found = admin.get("/quan-ly/tai-khoan?login=canbo.xa").await;
    assert_eq!(found.status, StatusCode::OK);
    // The search shows another person's account: recorded by who looked and what they found (by id).
    let id_of = |login: &str| db.query(&format!("SELECT id FROM account WHERE login = '{login}'")).trim().to_owned();
    let searched = db.query(&format!(
        "SELECT detail FROM audit_log WHERE action = 'account.search' AND account_id = '{}'",
        id_of("quantri")
    ));
    assert!(searched.contains(&id_of("canbo.xa")) && !searched.contains("canbo.xa"), "{searched}");
    let start = found.body.find("/quan-ly/tai-khoan/").expect("a reset form");
    let action: String = found.body[start..].chars().take_while(|c| *c != '"').collect();
    let reset = admin.post(&action, &[("password", "tạm thời 2026 xyz"), ("csrf", &found.csrf())]).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    assert!(redirects_to_login(&user.get("/quan-ly").await), "the old session ended");

    let again = Browser::new(&base);
    let csrf = again.csrf().await;
    let login =
        again.post("/dang-nhap", &[("login", "canbo.xa"), ("password", "tạm thời 2026 xyz"), ("csrf", &csrf)]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let forced = again.get("/quan-ly").await;
    assert_eq!(forced.location.as_deref(), Some("/tai-khoan/mat-khau"), "a new password comes first");
    let form = again.get("/tai-khoan/mat-khau").await;
    let changed = again
        .post(
            "/tai-khoan/mat-khau",
            &[
                ("current", "tạm thời 2026 xyz"),
                ("new", "đồi chè xanh mướt"),
                ("repeat", "đồi chè xanh mướt"),
                ("csrf", &form.csrf()),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    again.accept_notice().await;
    assert_eq!(again.get("/quan-ly").await.status, StatusCode::OK);
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE action = 'password.reset'"), 1);
}

/// Two decisions on one erasure request: the first stands, the second is told and changes nothing,
/// whichever way round.
#[tokio::test]
async fn of_two_decisions_on_an_erasure_request_the_first_stands_and_the_second_is_told() {
    for db in TestDb::all() {
        seed_people(&db);
        let mut passwords = Vec::new();
        for (login, name) in
            [("an.hocvien", "Nguyễn Văn An"), ("binh.hocvien", "Trần Thị Bình"), ("dung.hocvien", "Bùi Văn Dũng")]
        {
            let id = person_id(&db, name);
            let village = db.query(&format!("SELECT village_code FROM person WHERE id = {id}")).trim().to_owned();
            passwords.push((login, learner(&db, login, id, &village).await));
        }
        let mut officers = Vec::new();
        for login in ["canbo.mot", "canbo.hai"] {
            officers.push((login, account(&db, login, "can_bo_xa", "04792", None).await));
        }
        let base = serve(&db, db.config()).await;
        for (login, password) in &passwords {
            let me = Browser::new(&base);
            me.login(login, password).await;
            let page = me.get("/tai-khoan/du-lieu").await;
            assert_eq!(
                me.post("/tai-khoan/xoa-du-lieu", &[("csrf", &page.csrf())]).await.status,
                StatusCode::SEE_OTHER
            );
        }
        let request = |login: &str| {
            db.scalar(&format!(
                "SELECT r.id FROM erasure_request r JOIN account a ON a.id = r.account_id WHERE a.login = '{login}'"
            ))
        };
        let (an, binh, dung) = (request("an.hocvien"), request("binh.hocvien"), request("dung.hocvien"));
        let id_of =
            |login: &str| db.query(&format!("SELECT id FROM account WHERE login = '{login}'")).trim().to_owned();
        let first_officer = id_of("canbo.mot");
        let mut browsers = Vec::new();
        for (login, password) in &officers {
            let officer = Browser::new(&base);
            officer.login(login, password).await;
            let csrf = officer.get("/quan-ly/xoa-du-lieu").await.csrf();
            browsers.push((officer, csrf));
        }
        let decide = |n: usize, request: i64, how: &'static str| {
            let (officer, csrf) = &browsers[n];
            async move { officer.post(&format!("/quan-ly/xoa-du-lieu/{request}/{how}"), &[("csrf", csrf)]).await }
        };
        let decided = |request: i64| {
            db.query(&format!("SELECT status, decided_by FROM erasure_request WHERE id = {request}")).trim().to_owned()
        };
        let entries = |request: i64| {
            db.scalar(&format!(
                "SELECT count(*) FROM audit_log WHERE action LIKE 'erasure.%' AND action <> 'erasure.request' \
                 AND detail LIKE '%\"request\":{request}%'"
            ))
        };

        // Approved, then rejected.
        assert_eq!(decide(0, an, "duyet").await.status, StatusCode::SEE_OTHER);
        let late = decide(1, an, "tu-choi").await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
        assert!(late.body.contains("đã được quyết định"), "{}", late.body);
        assert!(decided(an).starts_with("da_duyet") && decided(an).ends_with(&first_officer), "{}", decided(an));
        assert_eq!(entries(an), 1);

        // Rejected, then approved: nothing is erased.
        assert_eq!(decide(0, binh, "tu-choi").await.status, StatusCode::SEE_OTHER);
        let late = decide(1, binh, "duyet").await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
        assert!(decided(binh).starts_with("tu_choi") && decided(binh).ends_with(&first_officer), "{}", decided(binh));
        assert_eq!(entries(binh), 1);
        assert_eq!(db.scalar("SELECT count(*) FROM account WHERE login = 'binh.hocvien' AND erased_at IS NULL"), 1);
        assert_eq!(db.scalar("SELECT count(*) FROM person WHERE full_name = 'Trần Thị Bình' AND erased_at IS NULL"), 1);

        // Both at once: exactly one wins, the other is told.
        let (approve, reject) = tokio::join!(decide(0, dung, "duyet"), decide(1, dung, "tu-choi"));
        let mut statuses = [approve.status, reject.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT], "{} / {}", approve.body, reject.body);
        assert_eq!(entries(dung), 1);
        let erased = db.scalar("SELECT count(*) FROM person WHERE full_name IS NULL AND erased_at IS NOT NULL");
        assert_eq!(erased, if approve.status == StatusCode::SEE_OTHER { 2 } else { 1 });
    }
}

/// The people search ignores case and diacritics the same way on both backends (SQLite's LIKE
/// folded ASCII case only, PostgreSQL's nothing), treats `%` and `_` as letters, and the next
/// page's link carries the query encoded.
#[tokio::test]
async fn the_people_search_folds_case_and_diacritics_on_both_backends() {
    for db in TestDb::all() {
        let mut rows = String::from(GOOD_PEOPLE);
        // 51 people named Đỗ Thị Hoa: more than one page of 50.
        for n in 0..51 {
            rows.push_str(&format!("0251901{n:05},ĐỖ Thị Hoa,5/5/1990,Nữ,04792,Thôn Đông,HO-7,Kinh,,,,\n"));
        }
        let file = db.write("people.csv", people_file(&rows));
        assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
        let password = account(&db, "canbo.xa", "can_bo_xa", "04792", None).await;
        let base = serve(&db, db.config()).await;
        let browser = Browser::new(&base);
        browser.login("canbo.xa", &password).await;

        let found = browser.get("/quan-ly/don-vi/04792/nguoi?q=nguyen%20van").await;
        assert_eq!(found.status, StatusCode::OK);
        assert!(found.body.contains("Nguyễn Văn An"), "{}: {}", db.backend(), found.body);
        assert!(!found.body.contains("Nguyễn Minh Châu") && !found.body.contains("Trần Thị Bình"));
        let upper = browser.get("/quan-ly/don-vi/04792/nguoi?q=NGUY%E1%BB%84N").await;
        assert!(upper.body.contains("Nguyễn Văn An") && upper.body.contains("Nguyễn Minh Châu"), "{}", db.backend());
        for q in ["%C4%90%E1%BB%96", "%C4%91%E1%BB%97", "do%20%20thi"] {
            let page = browser.get(&format!("/quan-ly/don-vi/04792/nguoi?q={q}")).await;
            assert_eq!(page.body.matches("ĐỖ Thị Hoa").count(), 50, "{q} on {}", db.backend());
        }
        // The next page keeps the query, encoded.
        let page = browser.get("/quan-ly/don-vi/04792/nguoi?q=do%20thi").await;
        let start = page.body.find("/quan-ly/don-vi/04792/nguoi?q=").expect("a next-page link");
        let link = page.body[start..].split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&");
        assert!(link.starts_with("/quan-ly/don-vi/04792/nguoi?q=do+thi&sau="), "{link}");
        assert_eq!(browser.get(&link).await.body.matches("ĐỖ Thị Hoa").count(), 1);
        // LIKE's wildcards are letters here.
        for q in ["%25", "_", "%5C"] {
            let page = browser.get(&format!("/quan-ly/don-vi/04792/nguoi?q={q}")).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.body.contains("Nguyễn Văn An"), "{q} matched everything on {}", db.backend());
        }
    }
}

/// Names written before migration 0009 get their folded form when the schema is next migrated.
#[tokio::test]
async fn names_written_before_the_folded_column_are_backfilled() {
    for db in TestDb::all() {
        seed_people(&db);
        db.query("UPDATE person SET name_folded = NULL");
        db.query("INSERT INTO backfill (name) VALUES ('person.name_folded')");
        assert_exit(&db.cli(&["migrate"]), 0);
        assert_eq!(
            db.query("SELECT name_folded FROM person WHERE full_name = 'Nguyễn Văn An'").trim(),
            "nguyen van an"
        );
        assert_eq!(db.scalar("SELECT COUNT(*) FROM person WHERE name_folded IS NULL"), 0);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM backfill"), 0, "{}", db.backend());
    }
}
