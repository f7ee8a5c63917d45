//! Two `hocvuso serve` processes on one PostgreSQL database (issue 25): a session made on one works
//! on the other (and ends on both), the quarterly snapshot (the servers' scheduled job) is taken
//! once, and the VNeID outbox is delivered exactly once while one of the servers is killed
//! (SIGKILL) in the middle of a delivery. PostgreSQL only: one SQLite file is one server's.

use crate::common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::exam::*;
use common::web::{Browser, account, serve};
use common::*;

/// The confirmation receiver: accepts each request when it arrives and answers after `delay`
/// (so that a server can be killed while it waits); a key it accepted before gets 409 with the
/// same reference, as the contract says (docs/vneid-confirm.md).
struct Receiver {
    delay: Duration,
    /// Per idempotency key, every request: "accepted" or "duplicate".
    log: Mutex<HashMap<String, Vec<&'static str>>>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, Json(_): Json<serde_json::Value>) -> Response {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let reference = format!("VNEID-{}", key.get(..8).unwrap_or_default());
    let seen = {
        let mut log = r.log.lock().unwrap();
        let requests = log.entry(key).or_default();
        let seen = !requests.is_empty();
        requests.push(if seen { "duplicate" } else { "accepted" });
        seen
    };
    if seen {
        return (StatusCode::CONFLICT, Json(serde_json::json!({"reference": reference}))).into_response();
    }
    tokio::time::sleep(r.delay).await;
    (StatusCode::CREATED, Json(serde_json::json!({"reference": reference}))).into_response()
}

async fn receiver(delay: Duration) -> (String, Arc<Receiver>) {
    let r = Arc::new(Receiver { delay, log: Mutex::default() });
    let app = axum::Router::new().route("/xac-nhan", axum::routing::post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/xac-nhan"), r)
}

struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real server process, as deployed behind a proxy, with the confirmation worker on.
async fn server(db: &TestDb, url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = db
        .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("HOCVUSO_VNEID_CONFIRM_URL", url)
        .env("HOCVUSO_VNEID_CONFIRM_TIMEOUT_SECONDS", "5")
        .env("HOCVUSO_TRUSTED_PROXIES", "127.0.0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base }
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_servers_share_sessions_take_the_snapshot_once_and_deliver_each_confirmation_once_through_a_sigkill() {
    let Some(db) = TestDb::postgres() else { return };
    import_fixture(&db);
    seed_people(&db);

    // Four learners of the registry pass the exam (on an in-process server of the same database):
    // four confirmations wait in the outbox.
    let exams = serve(&db, db.config()).await;
    let people = [("an.nv", "Nguyễn Văn An"), ("binh.tt", "Trần Thị Bình"), ("dung.bv", "Bùi Văn Dũng")];
    let mut ids = Vec::new();
    for (login, name) in people.iter().chain([("em.lv", "Lê Văn Em")].iter()) {
        let browser = learner(&db, &exams, login).await;
        db.query(&format!(
            "UPDATE account SET person_id = (SELECT id FROM person WHERE full_name = '{name}') WHERE login = '{login}'"
        ));
        let (_, result) = take(&browser, 0).await;
        ids.push(certificate_of(&result));
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM vneid_outbox WHERE state = 'pending'"), ids.len() as i64);
    let password = account(&db, "hv.chung", "hoc_vien", "04792", None).await;

    // Each request waits 3 s at the receiver: the delivery of four takes longer than the steps below.
    let (url, r) = receiver(Duration::from_secs(3)).await;
    let mut servers = vec![server(&db, &url).await, server(&db, &url).await];

    // A session made on the first server works on the second, and a logout there ends it on both.
    let browser = Browser::new(&servers[0].base);
    browser.login("hv.chung", &password).await;
    let elsewhere = format!("{}/tai-khoan", servers[1].base);
    let page = browser.get(&elsewhere).await;
    assert_eq!(page.status, StatusCode::OK, "the session on the other server: {}", page.body);
    assert!(page.body.contains("hv.chung"), "the account page of the session's account: {}", page.body);
    let logout = page.body.split("action=\"/dang-xuat\"").nth(1).expect("a logout form");
    let csrf = logout.split("name=\"csrf\" value=\"").nth(1).unwrap()[..32].to_owned();
    let out = browser.post(&format!("{}/dang-xuat", servers[1].base), &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "logout on the second server (its CSRF check): {}", out.body);
    let after = browser.get(&format!("{}/tai-khoan", servers[0].base)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session ended on the first server too: {}", after.body);

    // The scheduled job: both servers took the last ended quarter's snapshot at start; one set stands.
    wait_until("the snapshot", Duration::from_secs(30), || db.scalar("SELECT COUNT(*) FROM indicator_snapshot") > 0)
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(db.scalar("SELECT COUNT(DISTINCT taken_at) FROM indicator_snapshot"), 1, "one server's snapshot");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM indicator_snapshot"),
        db.scalar(
            "SELECT COUNT(*) FROM (SELECT DISTINCT quarter, unit_code, year, indicator FROM indicator_snapshot) s"
        )
    );

    // The first confirmation is at the receiver: kill the server whose worker sent it, mid-request.
    wait_until("the first request arrives", Duration::from_secs(30), || !r.log.lock().unwrap().is_empty()).await;
    let in_flight = r.log.lock().unwrap().keys().next().unwrap().clone();
    let claimed_by = db.query(&format!("SELECT claimed_by FROM vneid_outbox WHERE certificate_id = '{in_flight}'"));
    let pid: u32 = claimed_by.trim().split('-').next().unwrap().parse().unwrap();
    let victim = servers.iter().position(|s| s.child.id() == pid).expect("the sender is one of the two servers");
    assert!(
        db.scalar("SELECT COUNT(*) FROM vneid_outbox WHERE state = 'delivered'") < ids.len() as i64,
        "killed before the outbox was done"
    );
    let mut killed = servers.remove(victim);
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();

    // The survivor takes over what the dead one had claimed once its lease (3 × 5 s) runs out.
    wait_until("every confirmation delivered", Duration::from_secs(120), || {
        db.scalar("SELECT COUNT(*) FROM vneid_outbox WHERE state = 'delivered'") == ids.len() as i64
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let log = r.log.lock().unwrap().clone();
    let mut repeats = 0;
    for id in &ids {
        let requests = log.get(id).unwrap_or_else(|| panic!("{id} never reached the receiver: {log:?}"));
        assert_eq!(requests[0], "accepted", "{id}: {requests:?}");
        assert_eq!(requests.iter().filter(|o| **o == "accepted").count(), 1, "{id}: {requests:?}");
        repeats += requests.len() - 1;
        let reference = db.query(&format!("SELECT reference FROM vneid_outbox WHERE certificate_id = '{id}'"));
        assert_eq!(reference.trim(), format!("VNEID-{}", &id[..8]));
    }
    // Only the request the killed server had in flight is sent again, with the same key.
    assert!(repeats <= 1, "{log:?}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM person WHERE vneid_confirmed_at IS NOT NULL"), ids.len() as i64);
}
