//! Confirmations delivered to VNeID through the outbox, against a local receiver that fails, times
//! out and answers slowly, with two `hocvuso serve` processes working the same database, and with
//! one of them killed (SIGKILL) in the middle of a delivery. The receiver keeps the log the
//! contract is judged by: for every certificate exactly one accepted request, and no request after
//! the platform recorded it delivered.

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
use common::web::serve;
use common::*;
use hocvuso::on_pool;
use hocvuso::store::Store;

/// How the receiver answers the n-th request (from 0) for one certificate.
#[derive(Clone, Copy)]
enum Act {
    Fail,
    /// Longer than the platform's request timeout.
    Hang,
    /// Slow, but within the timeout, then accepted.
    Slow(u64),
    Accept,
}

struct Receiver {
    store: Store,
    plan: Vec<Act>,
    /// Per idempotency key: every request, in order, and what became of it.
    log: Mutex<HashMap<String, Vec<&'static str>>>,
    accepted: Mutex<HashMap<String, String>>,
    /// Requests that arrived for a certificate the platform had already recorded delivered.
    after_delivered: Mutex<Vec<String>>,
    bodies_ok: Mutex<bool>,
}

async fn outbox_state(store: &Store, id: &str) -> String {
    on_pool!(store, pool => sqlx::query_scalar::<_, String>("SELECT state FROM vneid_outbox WHERE certificate_id = $1")
        .bind(id).fetch_one(pool).await.unwrap())
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, Json(body): Json<serde_json::Value>) -> Response {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if body["certificate_id"] != key.as_str()
        || body["citizen_id"].as_str().is_none_or(|c| c.len() != 12)
        || body["credential"]["proof"][0]["cryptosuite"] != "eddsa-jcs-2022"
    {
        *r.bodies_ok.lock().unwrap() = false;
    }
    if outbox_state(&r.store, &key).await == "delivered" {
        r.after_delivered.lock().unwrap().push(key.clone());
    }
    let n = r.log.lock().unwrap().get(&key).map_or(0, Vec::len);
    let act = r.plan.get(n).copied().unwrap_or(Act::Accept);
    let duplicate = r.accepted.lock().unwrap().get(&key).cloned();
    if let Some(reference) = duplicate {
        r.log.lock().unwrap().entry(key).or_default().push("duplicate");
        return (StatusCode::CONFLICT, Json(serde_json::json!({"reference": reference}))).into_response();
    }
    match act {
        Act::Fail => {
            r.log.lock().unwrap().entry(key).or_default().push("failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Act::Hang => {
            r.log.lock().unwrap().entry(key).or_default().push("hung");
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Act::Slow(_) | Act::Accept => {
            // Accepted when it arrives (a real receiver commits before answering), answered after the delay.
            let reference = format!("VNEID-{}", &key[..8]);
            r.accepted.lock().unwrap().insert(key.clone(), reference.clone());
            r.log.lock().unwrap().entry(key).or_default().push("accepted");
            if let Act::Slow(ms) = act {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            (StatusCode::CREATED, Json(serde_json::json!({"reference": reference}))).into_response()
        }
    }
}

async fn receiver(db: &TestDb, plan: Vec<Act>) -> (String, Arc<Receiver>) {
    let r = Arc::new(Receiver {
        store: db.store().await,
        plan,
        log: Mutex::default(),
        accepted: Mutex::default(),
        after_delivered: Mutex::default(),
        bodies_ok: Mutex::new(true),
    });
    let app = axum::Router::new().route("/xac-nhan", axum::routing::post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/xac-nhan"), r)
}

/// Adults of the registry pass the exam; their certificates wait in the outbox.
async fn certificates(db: &TestDb, logins: &[(&str, &str)]) -> Vec<String> {
    import_fixture(db);
    seed_people(db);
    let base = serve(db, db.config()).await;
    let mut ids = Vec::new();
    for (login, name) in logins {
        let browser = learner(db, &base, login).await;
        db.query(&format!(
            "UPDATE account SET person_id = (SELECT id FROM person WHERE full_name = '{name}') WHERE login = '{login}'"
        ));
        let (_, result) = take(&browser, 0).await;
        ids.push(certificate_of(&result));
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM vneid_outbox WHERE state = 'pending'"), logins.len() as i64);
    ids
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(db: &TestDb, url: &str, timeout: u64) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = db
        .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("HOCVUSO_VNEID_CONFIRM_URL", url)
        .env("HOCVUSO_VNEID_CONFIRM_TIMEOUT_SECONDS", timeout.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    Server(child)
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn two_workers_deliver_each_confirmation_once_through_failures_timeouts_and_slowness() {
    for db in TestDb::all() {
        // Every certificate meets a failure, then a timeout, then a slow acceptance.
        let (url, r) = receiver(&db, vec![Act::Fail, Act::Hang, Act::Slow(600)]).await;
        let ids =
            certificates(&db, &[("an.nv", "Nguyễn Văn An"), ("binh.tt", "Trần Thị Bình"), ("dung.bv", "Bùi Văn Dũng")])
                .await;
        let _first = worker(&db, &url, 2);
        let _second = worker(&db, &url, 2);
        wait_until("every confirmation delivered", Duration::from_secs(90), || {
            db.scalar("SELECT COUNT(*) FROM vneid_outbox WHERE state = 'delivered'") == ids.len() as i64
        })
        .await;
        // A moment more: nothing may be sent again.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let log = r.log.lock().unwrap().clone();
        for id in &ids {
            let requests = &log[id];
            assert_eq!(requests.iter().filter(|o| **o == "accepted").count(), 1, "{id}: {requests:?}");
            assert_eq!(requests, &vec!["failed", "hung", "accepted"], "{id} on {}", db.backend());
            let reference = db.query(&format!("SELECT reference FROM vneid_outbox WHERE certificate_id = '{id}'"));
            assert_eq!(reference.trim(), format!("VNEID-{}", &id[..8]));
        }
        assert!(r.after_delivered.lock().unwrap().is_empty(), "{:?}", r.after_delivered.lock().unwrap());
        assert!(*r.bodies_ok.lock().unwrap(), "every request carries the contract's fields");
        // The fact the indicators count.
        assert_eq!(db.scalar("SELECT COUNT(*) FROM person WHERE vneid_confirmed_at IS NOT NULL"), 3);
        // And the province's counter moved with it, as a rebuild from the person rows says.
        let confirmed = "SELECT numerator FROM indicator_count WHERE unit_code = '25' AND year = 2025 \
                         AND indicator = 'xac_nhan_vneid'";
        assert_eq!(db.scalar(confirmed), 3, "{}", db.backend());
        // Every counter the certificate issue and the deliveries moved, units' and organisations'.
        let counters = "SELECT unit_code, year, indicator, numerator, denominator FROM indicator_count \
                        WHERE numerator <> 0 OR denominator <> 0 UNION ALL \
                        SELECT organisation_code, year, indicator, numerator, denominator FROM organisation_indicator_count \
                        WHERE numerator <> 0 OR denominator <> 0 ORDER BY 1, 2, 3";
        let kept = db.query(counters);
        assert_exit(&db.cli(&["tracking", "rebuild"]), 0);
        assert_eq!(db.scalar(confirmed), 3);
        assert_eq!(kept, db.query(counters), "{}: the write paths' counters differ from a rebuild", db.backend());
    }
}

#[tokio::test]
async fn a_worker_killed_mid_delivery_repeats_it_at_most_once_with_the_same_key() {
    for db in TestDb::all() {
        // The first request is held long enough to kill the platform while it waits.
        let (url, r) = receiver(&db, vec![Act::Slow(2500)]).await;
        let ids = certificates(&db, &[("an.nv", "Nguyễn Văn An")]).await;
        let id = &ids[0];
        let mut first = worker(&db, &url, 3);
        wait_until("the first request arrives", Duration::from_secs(30), || r.log.lock().unwrap().contains_key(id))
            .await;
        first.0.kill().unwrap(); // SIGKILL
        first.0.wait().unwrap();
        assert_eq!(
            db.query(&format!("SELECT state FROM vneid_outbox WHERE certificate_id = '{id}'")).trim(),
            "pending"
        );
        let _second = worker(&db, &url, 3);
        wait_until("delivered after the restart", Duration::from_secs(60), || {
            db.scalar("SELECT COUNT(*) FROM vneid_outbox WHERE state = 'delivered'") == 1
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let requests = r.log.lock().unwrap()[id].clone();
        assert_eq!(requests, vec!["accepted", "duplicate"], "one repeat, recognised by its key");
        assert!(r.after_delivered.lock().unwrap().is_empty());
    }
}
