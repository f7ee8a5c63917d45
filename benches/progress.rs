//! Benchmark: learning progress events acknowledged per second on SQLite, through the HTTP form the
//! learner's page posts, next to plain single-row inserts into a bare table (same file settings)
//! measured in the same run. Then the durability check: the server is killed with SIGKILL while
//! events are in flight, and every acknowledged event must be in the database.
//!
//!   cargo bench --bench progress -- [SECONDS] [LEARNERS]        (default 10 s, 64 learners)
//! With HOCVUSO_BENCH_POSTGRES=postgres://… it also states the PostgreSQL figure.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hocvuso::config::DatabaseUrl;
use hocvuso::store::Store;
use reqwest::StatusCode;

use common::*;

struct Learner {
    client: reqwest::Client,
    csrf: String,
    version: String,
}

async fn sign_in(base: &str, login: &str) -> Learner {
    let client = common::login(base, login).await;
    let lesson = client.get(format!("{base}/bai-hoc/bai-mot")).send().await.unwrap().text().await.unwrap();
    Learner { client, csrf: field(&lesson, "csrf"), version: field(&lesson, "phien_ban") }
}

/// Posts progress events until `stop`; returns the ids the server acknowledged.
async fn post_events(base: String, learner: Arc<Learner>, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut acked = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        // As the lesson page would render it.
        let id = hocvuso::learning::progress::new_event_id();
        let to = (i % 3).to_string();
        let form = [("csrf", learner.csrf.as_str()), ("su_kien", &id), ("phien_ban", &learner.version), ("den", &to)];
        match learner.client.post(format!("{base}/bai-hoc/bai-mot/tien-do")).form(&form).send().await {
            Ok(r) if r.status() == StatusCode::SEE_OTHER => acked.push(id),
            Ok(r) => panic!("unexpected answer {}", r.status()),
            Err(_) => break, // the server is gone (the crash phase)
        }
        i += 1;
    }
    acked
}

/// Runs the load for `seconds`; `kill_after` kills the server with SIGKILL mid-run instead.
async fn load(server: &mut Server, learners: usize, seconds: f64, kill_after: Option<f64>) -> (Vec<String>, f64) {
    let mut signed_in = Vec::new();
    for i in 0..learners {
        signed_in.push(Arc::new(sign_in(&server.base, &format!("bench.{i}")).await));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let tasks =
        signed_in.into_iter().map(|l| tokio::spawn(post_events(server.base.clone(), l, stop.clone()))).collect();
    drive(server, tasks, stop, seconds, kill_after).await
}

async fn count_present(url: &str, ids: &[String]) -> usize {
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let mut present = 0;
    hocvuso::on_pool!(&store, pool => {
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
            let sql = format!("SELECT COUNT(*) FROM xapi_statement WHERE id IN ({list})");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap();
            present += n as usize;
        }
    });
    store.close().await;
    present
}

#[tokio::main]
async fn main() {
    let Some((seconds, learners)) = bench_args() else { return };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    println!("machine: {} cores; {learners} learners posting progress for {seconds} s", num_cpus());

    prepare(dir.path(), &url, learners).await.close().await;
    let base_rate = baseline(dir.path(), "bare.db", "{\"verb\":\"progressed\"}", learners, seconds).await;
    let mut server = start(dir.path(), &url, 18282);
    let (acked, elapsed) = load(&mut server, learners, seconds, None).await;
    let rate = acked.len() as f64 / elapsed;
    println!("SQLite, progress events acknowledged:  {rate:>10.0} /s ({} in {elapsed:.1} s)", acked.len());
    println!(
        "SQLite, plain single-row inserts:      {base_rate:>10.0} /s (baseline, same settings: WAL, synchronous=FULL)"
    );
    println!("ratio: {:.2}", rate / base_rate);
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // Durability: SIGKILL mid-run, then count what was acknowledged.
    let mut server = start(dir.path(), &url, 18283);
    let (acked, _) = load(&mut server, learners, seconds, Some(seconds.min(3.0))).await;
    let present = count_present(&url, &acked).await;
    println!(
        "SIGKILL mid-run: {} events acknowledged before the kill, {} in the database, {} lost",
        acked.len(),
        present,
        acked.len() - present
    );
    assert_eq!(present, acked.len(), "acknowledged progress events were lost");

    #[allow(clippy::disallowed_methods)] // the harness's own setting
    if let Ok(pg) = std::env::var("HOCVUSO_BENCH_POSTGRES") {
        let name = format!("hocvuso_bench_{}", std::process::id());
        let admin = Store::connect(&DatabaseUrl::parse(&pg).unwrap()).await.unwrap();
        hocvuso::on_pool!(&admin, pool => sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(pool).await.map(|_| ())).unwrap();
        let mut url = url::Url::parse(&pg).unwrap();
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        prepare(dir.path(), &url, learners).await.close().await;
        let mut server = start(dir.path(), &url, 18284);
        let (acked, elapsed) = load(&mut server, learners, seconds, None).await;
        println!("PostgreSQL, progress events acknowledged: {:>7.0} /s", acked.len() as f64 / elapsed);
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        hocvuso::on_pool!(&admin, pool => sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).execute(pool).await.map(|_| ())).unwrap();
    }
}
