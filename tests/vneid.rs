//! Login through VNeID against a real OpenID Connect provider (npm `oidc-provider`, started here with
//! Node), and the ways a login must fail: wrong state, replayed code, and ID tokens with one defect
//! each (expired, wrong audience, wrong issuer, signed by another key, no nonce), made by the
//! harness's tampering proxy and a second provider instance.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::web::{Browser, Page};

use common::*;
use reqwest::StatusCode;

const CLIENT_ID: &str = "hocvuso";
const CLIENT_SECRET: &str = "bi-mat-cua-ung-dung-thu";

/// The provider process; dropping it closes its stdin, which stops it.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_provider(redirect_uri: &str, tamper: Option<&str>) -> Provider {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
    assert!(
        std::path::Path::new(dir).join("node_modules/oidc-provider").exists(),
        "the test provider is not installed: run scripts/test (or `npm ci` in tests/oidc)"
    );
    let mut args = vec![
        "provider.mjs",
        "--port",
        "0",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--redirect-uri",
        redirect_uri,
    ];
    if let Some(mode) = tamper {
        args.extend(["--tamper", mode]);
    }
    let mut child = Command::new("node")
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node (installed by scripts/test)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let ready: serde_json::Value =
        serde_json::from_str(line.strip_prefix("READY ").unwrap_or_else(|| panic!("provider said: {line}"))).unwrap();
    Provider { child, issuer: ready["issuer"].as_str().unwrap().to_owned() }
}

/// The platform, configured as a relying party of `provider`, on the listener it was promised to.
async fn platform(db: &TestDb, listener: tokio::net::TcpListener, provider: &Provider, level: &str) -> String {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (url, issuer, redirect) = (db.url.clone(), provider.issuer.clone(), format!("{base}/dang-nhap/vneid/callback"));
    let config = hocvuso::config::Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "HOCVUSO_DATA_KEY" => Some(TEST_KEY.into()),
        "HOCVUSO_PUBLIC_URL" => Some(base.clone()),
        "HOCVUSO_OIDC_ISSUER" => Some(issuer.clone()),
        "HOCVUSO_OIDC_CLIENT_ID" => Some(CLIENT_ID.into()),
        "HOCVUSO_OIDC_CLIENT_SECRET" => Some(CLIENT_SECRET.into()),
        "HOCVUSO_OIDC_REDIRECT_URL" => Some(redirect.clone()),
        "HOCVUSO_OIDC_REQUIRED_LEVEL" => Some(level.into()),
        _ => None,
    })
    .unwrap();
    common::web::serve_on(db, listener, config).await;
    base
}

struct Setup {
    db: TestDb,
    base: String,
    _provider: Provider,
}

async fn setup(db: TestDb, tamper: Option<&str>) -> Setup {
    seed_people(&db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!("http://{}/dang-nhap/vneid/callback", listener.local_addr().unwrap());
    let provider = start_provider(&redirect, tamper);
    let base = platform(&db, listener, &provider, "2").await;
    Setup { db, base, _provider: provider }
}

/// Starts at the platform, logs in at the provider with `cccd` and `level`, and stops at the
/// redirect back to the platform's callback; returns that callback URL.
async fn through_provider(browser: &Browser, cccd: &str, level: &str) -> String {
    let start = browser.get("/dang-nhap/vneid?tiep=/tai-khoan").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let authorize = start.next.unwrap();
    assert!(authorize.contains("code_challenge=") && authorize.contains("nonce=") && authorize.contains("state="));
    let uid_path = browser.get(&authorize).await.next.expect("the provider sends the browser to its login page");
    let interaction = browser.get(&uid_path).await;
    assert_eq!(interaction.status, StatusCode::OK, "{}", interaction.body);
    let form = browser.post(&uid_path, &[("cccd", cccd), ("level", level), ("name", "Nguyễn Văn An")]).await;
    let mut next = form.next.expect("the provider redirects after the form");
    while !next.contains("/dang-nhap/vneid/callback") {
        let page = browser.get(&next).await;
        next = match page.next {
            Some(next) => next,
            // After ending another person's session (below) the provider asks for the login again.
            None if next.contains("/interaction/") => {
                let form = browser.post(&next, &[("cccd", cccd), ("level", level), ("name", "Nguyễn Văn An")]).await;
                form.next.expect("the provider redirects after the form")
            }
            // Another person's session at the provider: it ends that one first, behind a
            // "Continue" button (a form that submits itself when JavaScript runs).
            None => end_previous_session(browser, &page.body).await,
        };
    }
    next
}

/// Presses the provider's "Continue" on its page that ends the previous person's session there;
/// returns where the provider then sends the browser.
async fn end_previous_session(browser: &Browser, page: &str) -> String {
    let attribute = |html: &str, name: &str| -> String {
        let after = html.split(&format!("{name}=\"")).nth(1).unwrap_or_else(|| panic!("no {name} in {page}"));
        after.split('"').next().unwrap().to_owned()
    };
    let form = page.split("<form").nth(1).unwrap_or_else(|| panic!("neither a redirect nor a form: {page}"));
    let action = attribute(form, "action");
    assert!(action.ends_with("/session/end/confirm"), "{action}");
    let xsrf = attribute(form.split("name=\"xsrf\"").nth(1).unwrap(), "value");
    let ended = browser.post(&action, &[("xsrf", xsrf.as_str()), ("logout", "yes")]).await;
    ended.next.unwrap_or_else(|| panic!("the provider answered {} {}", ended.status, ended.body))
}

fn counts(db: &TestDb) -> (i64, i64) {
    (db.scalar("SELECT count(*) FROM account"), db.scalar("SELECT count(*) FROM session"))
}

fn refused(page: &Page, why: &str) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("Không thể đăng nhập bằng VNeID"), "{}", page.body);
    assert!(page.body.contains(why), "expected “{why}” in {}", page.body);
}

#[tokio::test]
async fn a_full_login_links_the_registry_person_and_a_replay_is_refused() {
    for db in TestDb::all() {
        let s = setup(db, None).await;
        let browser = Browser::new(&s.base);
        let callback = through_provider(&browser, "025090123456", "2").await;
        let landed = browser.get(&callback).await;
        assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
        assert_eq!(landed.location.as_deref(), Some("/tai-khoan"));
        browser.accept_notice().await;
        let mine = browser.get("/tai-khoan/du-lieu").await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains("Nguyễn Văn An") && mine.body.contains("025090123456"), "linked to the person");
        let an = person_id(&s.db, "Nguyễn Văn An");
        assert_eq!(
            s.db.scalar(&format!("SELECT count(*) FROM account WHERE person_id = {an} AND identity_level = 2")),
            1
        );
        // The login told the person's identity level: a fact the "digital identity" indicator counts.
        assert_eq!(
            s.db.query(&format!("SELECT vneid_level, vneid_level_source FROM person WHERE id = {an}")).trim(),
            "2|vneid_login"
        );
        let grant = s.db.query("SELECT role FROM role_grant");
        assert_eq!(grant.trim(), "hoc_vien");
        assert_eq!(s.db.scalar("SELECT count(*) FROM audit_log WHERE action = 'login'"), 1);

        // The same callback again: in the same browser (its state cookie is gone), in another browser,
        // and with the state cookie forged back in: refused each time, nothing new.
        let before = counts(&s.db);
        refused(&browser.get(&callback).await, "không khớp");
        refused(&Browser::new(&s.base).get(&callback).await, "không khớp");
        let state = callback.split("state=").nth(1).unwrap().split('&').next().unwrap();
        let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = replay.get(&callback).header("cookie", format!("hv_vneid={state}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.text().await.unwrap().contains("đã dùng hoặc đã hết hạn"), "the login state is single-use");
        assert_eq!(counts(&s.db), before);

        // A second login finds the same account.
        let again = Browser::new(&s.base);
        let callback = through_provider(&again, "025090123456", "2").await;
        assert_eq!(again.get(&callback).await.status, StatusCode::SEE_OTHER);
        assert_eq!(s.db.scalar("SELECT count(*) FROM account"), 1);
    }
}

/// On a shared phone the next person's VNeID login is their own: the platform asks the provider to
/// authenticate again (`prompt=login`), so the previous person's session there signs nobody in.
#[tokio::test]
async fn after_a_logout_the_next_vneid_login_on_the_same_phone_authenticates_again() {
    for db in TestDb::all() {
        let s = setup(db, None).await;
        let phone = Browser::new(&s.base);
        let first = through_provider(&phone, "025090123456", "2").await;
        assert_eq!(phone.get(&first).await.status, StatusCode::SEE_OTHER);
        phone.accept_notice().await;
        let page = phone.get("/tai-khoan").await;
        let out = phone.post("/dang-xuat", &[("csrf", &page.csrf())]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
        // `through_provider` checks that the provider shows its login form again.
        let second = through_provider(&phone, "025091234567", "2").await;
        assert_eq!(phone.get(&second).await.status, StatusCode::SEE_OTHER);
        assert_eq!(s.db.scalar("SELECT count(*) FROM account"), 2, "the second person has an account of their own");
    }
}

#[tokio::test]
async fn someone_not_in_the_registry_becomes_a_self_registered_learner_an_officer_confirms() {
    let s = setup(TestDb::sqlite(), None).await;
    let browser = Browser::new(&s.base);
    let callback = through_provider(&browser, "025301000777", "2").await;
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    browser.accept_notice().await;
    assert_eq!(s.db.scalar("SELECT count(*) FROM account WHERE self_registered AND person_id IS NULL"), 1);
    assert!(!s.db.dump().contains("025301000777"), "the citizen number is stored encrypted only");
    let page = browser.get("/tai-khoan/noi-o").await;
    let saved = browser.post("/tai-khoan/noi-o", &[("ma_xa", "04792"), ("csrf", &page.csrf())]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);

    let password = common::web::account(&s.db, "canbo.xa", "can_bo_xa", "04792", None).await;
    let officer = Browser::new(&s.base);
    officer.login("canbo.xa", &password).await;
    let list = officer.get("/quan-ly/tu-dang-ky").await;
    let start = list.body.find("/quan-ly/tai-khoan/").expect("the learner is listed");
    let action: String = list.body[start..].chars().take_while(|c| *c != '"').collect();
    let confirmed = officer.post(&action, &[("csrf", &list.csrf())]).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(s.db.scalar("SELECT count(*) FROM account WHERE self_registered AND confirmed_at IS NOT NULL"), 1);
}

#[tokio::test]
async fn a_wrong_state_or_a_low_identity_level_is_refused_and_nothing_is_created() {
    let s = setup(TestDb::sqlite(), None).await;
    let browser = Browser::new(&s.base);
    let callback = through_provider(&browser, "025090123456", "2").await;
    let state = callback.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let forged = callback.replace(&state, "trang-thai-gia-mao");
    refused(&browser.get(&forged).await, "không khớp");
    assert_eq!(counts(&s.db), (0, 0));

    let low = Browser::new(&s.base);
    let callback = through_provider(&low, "025090123456", "1").await;
    refused(&low.get(&callback).await, "mức 2");
    assert_eq!(counts(&s.db), (0, 0));
}

#[tokio::test]
async fn id_tokens_with_one_defect_each_are_refused() {
    for mode in ["expired", "wrong_audience", "wrong_issuer", "other_key", "no_nonce"] {
        let s = setup(TestDb::sqlite(), Some(mode)).await;
        let browser = Browser::new(&s.base);
        let callback = through_provider(&browser, "025090123456", "2").await;
        let page = browser.get(&callback).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{mode}: {}", page.body);
        refused(&page, "không hợp lệ");
        assert_eq!(counts(&s.db), (0, 0), "{mode}: nothing is created");
        assert_eq!(s.db.scalar("SELECT count(*) FROM audit_log WHERE action = 'login'"), 0);
    }
}
