//! Benchmark: the learning record store's statements POST (issue 24), on SQLite.
//!
//! 1. In process: checking one statement whole (the JSON Schema of xAPI 1.0.3 and the other rules,
//!    `learning::xapi::statements::check`) against parsing and printing the same JSON (the work every
//!    POST did before validation), µs per statement.
//! 2. Over HTTP: statements POSTed per second by `CLIENTS` outside-content clients with basic
//!    credentials, next to plain single-row inserts into a bare table measured in the same run.
//!
//!   cargo bench --bench xapi -- [SECONDS] [CLIENTS]        (default 10 s, 64 clients)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::*;

const HOME: &str = "http://127.0.0.1:8080";

fn statement(i: u64) -> Value {
    json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": format!("acc-{}", i % 1000)}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"vi-VN": "hoàn thành", "en-US": "completed"}},
        "object": {"id": "https://noi-dung.example/bai-vneid", "objectType": "Activity",
                   "definition": {"name": {"vi-VN": "Cài đặt VNeID"}, "type": "http://adlnet.gov/expapi/activities/lesson"}},
        "result": {"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}, "completion": true, "duration": "PT5M12S"},
        "context": {"registration": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "platform": "nha-cung-cap",
                    "contextActivities": {"parent": [{"id": "https://noi-dung.example/khoa"}]}},
        "timestamp": "2026-12-06T07:00:00.000+07:00"
    })
}

fn in_process() {
    let authority =
        json!({"objectType": "Agent", "account": {"homePage": format!("{HOME}/xapi/clients"), "name": "b"}});
    let bodies: Vec<String> = (0..20_000).map(|i| statement(i).to_string()).collect();
    let started = Instant::now();
    let mut bytes = 0;
    for body in &bodies {
        let value: Value = serde_json::from_str(body).unwrap();
        bytes += value.to_string().len();
    }
    let parse = started.elapsed().as_secs_f64() * 1e6 / bodies.len() as f64;
    let started = Instant::now();
    for body in &bodies {
        let value: Value = serde_json::from_str(body).unwrap();
        let checked = hocvuso::learning::xapi::statements::check(value, HOME, (&authority, "b"), 0);
        bytes += checked.map(|c| c.statement.body.len()).unwrap_or_else(|e| panic!("{e:?}"));
    }
    let check = started.elapsed().as_secs_f64() * 1e6 / bodies.len() as f64;
    println!("per statement: parse + print {parse:.1} µs; parse + check whole + print {check:.1} µs ({bytes} bytes)");
}

async fn post_statements(base: String, key: String, secret: String, stop: Arc<AtomicBool>) -> Vec<()> {
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let response = client
            .post(format!("{base}/xapi/statements"))
            .basic_auth(&key, Some(&secret))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&statement(i))
            .send()
            .await;
        match response {
            Ok(r) if r.status() == StatusCode::OK => acked.push(()),
            Ok(r) => panic!("unexpected answer {}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(_) => break,
        }
        i += 1;
    }
    acked
}

#[tokio::main]
async fn main() {
    let Some((seconds, clients)) = bench_args() else { return };
    in_process();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let out = hocvuso(dir.path(), &url).args(["xapi", "client", "--name", "bench"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value =
        |name: &str| stdout.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap().trim().to_owned();
    let (key, secret) = (value("key"), value("secret"));
    let base_rate = baseline(dir.path(), "bare.db", "{\"verb\":\"completed\"}", clients, seconds).await;
    let mut server = start(dir.path(), &url, 18291);
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = (0..clients)
        .map(|_| tokio::spawn(post_statements(server.base.clone(), key.clone(), secret.clone(), stop.clone())))
        .collect();
    let (acked, elapsed) = drive(&mut server, tasks, stop, seconds, None).await;
    let rate = acked.len() as f64 / elapsed;
    println!(
        "SQLite, xAPI statements POSTed:   {rate:>10.0} /s ({} in {elapsed:.1} s, {clients} clients)",
        acked.len()
    );
    println!("SQLite, plain single-row inserts: {base_rate:>10.0} /s (baseline, same settings: WAL, synchronous=FULL)");
    println!("ratio: {:.2}", rate / base_rate);
}
