//! Benchmarks of assessment and certificates, each next to a baseline measured in the same run:
//!
//! 1. Answer submissions acknowledged per second on SQLite, through the exam page's form post (many
//!    learners, each in their own sitting), next to plain single-row inserts into a bare table with
//!    the same settings; then SIGKILL mid-run while learners sit whole exams, and every acknowledged
//!    answer must be in the database. With HOCVUSO_BENCH_POSTGRES=postgres://… the PostgreSQL figure.
//! 2. Certificate issue per second: passing sittings finished as a submission finishes them (grade,
//!    sign the credential, store it + its VNeID outbox row + the holder's facts), next to one-row
//!    transactions from as many tasks.
//! 3. Verification: `GET /api/v1/certificates/{id}` (read + Ed25519 check of the stored credential)
//!    with wrk, next to the same JSON bytes served as a static file by the same server.
//!
//!   cargo bench --bench assessment -- [SECONDS] [LEARNERS]        (default 10 s, 64 learners)

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hocvuso::config::{Config, DatabaseUrl};
use hocvuso::on_pool;
use hocvuso::store::Store;
use reqwest::StatusCode;

use common::*;

struct Learner {
    client: reqwest::Client,
    csrf: String,
}

async fn sign_in(base: &str, login: &str) -> Learner {
    let client = common::login(base, login).await;
    let home = client.get(format!("{base}/kiem-tra")).send().await.unwrap().text().await.unwrap();
    Learner { client, csrf: field(&home, "csrf") }
}

/// Starts (or resumes) the learner's sitting; its id.
async fn sitting(base: &str, learner: &Learner) -> Option<String> {
    let response = learner
        .client
        .post(format!("{base}/kiem-tra/nguoi_dan/bat-dau"))
        .form(&[("csrf", learner.csrf.as_str())])
        .send()
        .await
        .ok()?;
    let location = response.headers().get("location")?.to_str().ok()?;
    location.strip_prefix("/kiem-tra/bai/").map(str::to_owned)
}

/// One acknowledged answer: the sitting and the question's position (from 0).
type Acked = (String, i64);

/// Answers questions until `stop`. With `whole`, sits whole exams (16 answers, submit, start again),
/// so every answer is a new row; otherwise keeps changing answers in one sitting.
async fn answer_loop(base: String, learner: Arc<Learner>, stop: Arc<AtomicBool>, whole: bool) -> Vec<Acked> {
    let mut acked = Vec::new();
    let Some(mut id) = sitting(&base, &learner).await else { return acked };
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let number = n % 16 + 1;
        let choice = (n % 3).to_string();
        let form = [("csrf", learner.csrf.as_str()), ("c", choice.as_str()), ("di", "sau")];
        match learner.client.post(format!("{base}/kiem-tra/bai/{id}/cau/{number}")).form(&form).send().await {
            Ok(r) if r.status() == StatusCode::SEE_OTHER => acked.push((id.clone(), (number - 1) as i64)),
            Ok(r) => panic!("unexpected answer {}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(_) => break, // the server is gone (the crash phase)
        }
        n += 1;
        if whole && number == 16 {
            let submit = learner
                .client
                .post(format!("{base}/kiem-tra/bai/{id}/nop"))
                .form(&[("csrf", learner.csrf.as_str())])
                .send()
                .await;
            if submit.is_err() {
                break;
            }
            match sitting(&base, &learner).await {
                Some(next) => id = next,
                None => break,
            }
        }
    }
    acked
}

async fn prepare_exams(dir: &std::path::Path, url: &str, learners: usize) {
    let store = prepare(dir, url, learners).await;
    // Many whole exams a day in the crash phase.
    on_pool!(&store, pool => sqlx::query("UPDATE exam SET attempts_per_day = 100").execute(pool).await.unwrap().rows_affected());
    store.close().await;
}

async fn load(server: &mut Server, learners: usize, seconds: f64, kill_after: Option<f64>) -> (Vec<Acked>, f64) {
    let mut signed_in = Vec::new();
    for i in 0..learners {
        signed_in.push(Arc::new(sign_in(&server.base, &format!("bench.{i}")).await));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let whole = kill_after.is_some();
    let tasks =
        signed_in.into_iter().map(|l| tokio::spawn(answer_loop(server.base.clone(), l, stop.clone(), whole))).collect();
    drive(server, tasks, stop, seconds, kill_after).await
}

async fn count_present(url: &str, acked: &[Acked]) -> usize {
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let mut distinct: Vec<&Acked> = acked.iter().collect();
    distinct.sort();
    distinct.dedup();
    let mut present = 0;
    on_pool!(&store, pool => {
        for (sitting, position) in &distinct {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM answer WHERE sitting_id = $1 AND position = $2")
                .bind(sitting).bind(position).fetch_one(pool).await.unwrap();
            present += n as usize;
        }
    });
    assert_eq!(present, distinct.len(), "acknowledged answers were lost");
    store.close().await;
    distinct.len()
}

/// Finishes passing sittings for `seconds` from `tasks` concurrent tasks, through the same call as a
/// learner's submission: read the sitting and its answers, grade, sign the certificate, then record
/// the grade, the certificate, its VNeID outbox row and the holder's facts (group-committed).
async fn issue(dir: &std::path::Path, tasks: usize, seconds: f64) -> (f64, Vec<String>) {
    use hocvuso::assessment::exam::PaperItem;

    let url = format!("sqlite://{}", dir.join("issue.db").display());
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "HOCVUSO_DATA_KEY" => Some(KEY.into()),
        "HOCVUSO_MEDIA_URL" => Some(dir.join("media").display().to_string()),
        _ => None,
    })
    .unwrap();
    let store = Store::connect(&config.database_url).await.unwrap();
    store.migrate().await.unwrap();
    let state = hocvuso::app::AppState::new(store.clone(), config).await.unwrap();
    let framework = hocvuso::learning::framework::current(&store).await.unwrap();
    let profile = framework.profile("nguoi_dan").unwrap().clone();
    // Open sittings of 30 questions over the profile's competences, each answered right, one
    // learner each (a learner has one open sitting at a time).
    let items: Vec<PaperItem> = (0..30)
        .map(|i| PaperItem {
            id: format!("bench-{i}"),
            version: 1,
            competence: profile.required[i % profile.required.len()].clone(),
            order: Vec::new(),
        })
        .collect();
    let paper = serde_json::to_string(&items).unwrap();
    let n = (seconds * 6_000.0) as i64 + 10_000;
    on_pool!(&store, pool => {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
                     INSERT INTO account (id, login, created_at) SELECT 'b' || i, 'bench.' || i, 0 FROM n")
            .bind(n).execute(&mut *tx).await.unwrap();
        sqlx::query("INSERT INTO sitting (id, account_id, target_group, framework_version, started_at, deadline, paper) \
                     SELECT 's' || substr(id, 2), id, 'nguoi_dan', $1, 0, 4000000000, $2 FROM account WHERE login LIKE 'bench.%'")
            .bind(&framework.version).bind(&paper).execute(&mut *tx).await.unwrap();
        sqlx::query("WITH RECURSIVE q(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM q WHERE p + 1 < 30) \
                     INSERT INTO answer (sitting_id, position, response, correct, answered_at) \
                     SELECT s.id, q.p, '{\"choice\":0}', 1, 0 FROM sitting s, q")
            .execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    });
    let next = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (state, next, stop) = (state.clone(), next.clone(), stop.clone());
            tokio::spawn(async move {
                let mut finished = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    assert!(i < n, "more sittings needed");
                    hocvuso::assessment::sitting::finish(&state, &format!("s{i}")).await.unwrap();
                    finished += 1;
                }
                finished
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut finished = 0;
    for handle in handles {
        finished += handle.await.unwrap();
    }
    let rate = finished as f64 / started.elapsed().as_secs_f64();
    let ids: Vec<String> = on_pool!(&store, pool => sqlx::query_scalar(
        "SELECT c.id FROM certificate c JOIN vneid_outbox o ON o.certificate_id = c.id")
        .fetch_all(pool).await.unwrap());
    assert_eq!(ids.len(), finished, "every finished sitting has its certificate and its confirmation");
    store.close().await;
    (rate, ids)
}

/// wrk against one path, or a rotating list of paths from a file; requests per second.
fn wrk(base: &str, seconds: f64, path: &str, paths_file: Option<&std::path::Path>, dir: &std::path::Path) -> f64 {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c64", &format!("-d{}s", seconds.ceil() as u64)]);
    if let Some(file) = paths_file {
        let script = dir.join("rotate.lua");
        std::fs::write(
            &script,
            format!(
                "local paths = {{}}\nfor line in io.lines(\"{}\") do paths[#paths + 1] = line end\n\
                 local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n\
                 done = function(summary, latency, requests)\n  io.write(string.format(\"non2xx %d\\n\", summary.errors.status))\nend\n",
                file.display()
            ),
        )
        .unwrap();
        command.args(["-s", script.to_str().unwrap()]);
    }
    let out = command.arg(format!("{base}{path}")).output().expect("wrk (Debian package wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains("Non-2xx") && !text.contains("non2xx 1"), "non-2xx answers: {text}");
    text.lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no figure from wrk: {text}"))
}

async fn verification(dir: &std::path::Path, ids: &[String], seconds: f64) {
    let url = format!("sqlite://{}", dir.join("issue.db").display());
    let server = start(dir, &url, 18292);
    let paths: Vec<String> = ids.iter().take(10_000).map(|id| format!("/api/v1/certificates/{id}")).collect();
    let list = dir.join("paths.txt");
    std::fs::write(&list, paths.join("\n")).unwrap();
    // The same bytes as a static file of the same server: one answer stored in its media store.
    let body = reqwest::get(format!("{}{}", server.base, paths[0])).await.unwrap().bytes().await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("\"status\":\"valid\""), "the credential verifies");
    let key = "bench-certificate.json";
    std::fs::create_dir_all(dir.join("media")).unwrap();
    std::fs::write(dir.join("media").join(key), &body).unwrap();
    let store = Store::connect(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    on_pool!(&store, pool => sqlx::query(
        "INSERT INTO media (key, content_type, size, created_at) VALUES ($1, 'application/json', $2, 0)")
        .bind(key).bind(body.len() as i64).execute(pool).await.unwrap().rows_affected());
    store.close().await;
    let verify = wrk(&server.base, seconds, &paths[0], Some(&list), dir);
    let static_file = wrk(&server.base, seconds, &format!("/media/{key}"), None, dir);
    println!(
        "verification, GET /api/v1/certificates/{{id}}: {verify:>9.0} /s ({} bytes, 10,000 ids in turn)",
        body.len()
    );
    println!("same bytes as a static file, /media/:       {static_file:>9.0} /s (baseline)");
    println!("ratio: {:.2}", verify / static_file);
}

#[tokio::main]
async fn main() {
    let Some((seconds, learners)) = bench_args() else { return };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    println!("machine: {} cores; {learners} learners, {seconds} s per phase", num_cpus());

    prepare_exams(dir.path(), &url, learners).await;
    let base_rate = baseline(dir.path(), "bare.db", "{\"choice\":1}", learners, seconds).await;
    let mut server = start(dir.path(), &url, 18290);
    let (acked, elapsed) = load(&mut server, learners, seconds, None).await;
    let rate = acked.len() as f64 / elapsed;
    println!("SQLite, answers acknowledged:          {rate:>10.0} /s ({} in {elapsed:.1} s)", acked.len());
    println!(
        "SQLite, plain single-row inserts:      {base_rate:>10.0} /s (baseline, same settings: WAL, synchronous=FULL)"
    );
    println!("ratio: {:.2}", rate / base_rate);
    drop(server);

    let mut server = start(dir.path(), &url, 18291);
    let (acked, _) = load(&mut server, learners, seconds, Some(seconds.min(3.0))).await;
    let distinct = count_present(&url, &acked).await;
    println!(
        "SIGKILL mid-run (whole exams): {distinct} answers acknowledged before the kill, all {distinct} in the database, 0 lost"
    );

    let issue_base = baseline(dir.path(), "bare-issue.db", "{\"choice\":1}", learners, seconds).await;
    let (issue_rate, ids) = issue(dir.path(), learners, seconds).await;
    println!("passing sittings finished (grade + sign + store + outbox + facts): {issue_rate:>8.0} /s");
    println!("one-row transactions, same settings:                               {issue_base:>8.0} /s (baseline)");
    println!("ratio: {:.2}", issue_rate / issue_base);
    verification(dir.path(), &ids, seconds).await;

    #[allow(clippy::disallowed_methods)] // the harness's own setting
    if let Ok(pg) = std::env::var("HOCVUSO_BENCH_POSTGRES") {
        let name = format!("hocvuso_bench_{}", std::process::id());
        let admin = Store::connect(&DatabaseUrl::parse(&pg).unwrap()).await.unwrap();
        on_pool!(&admin, pool => sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(pool).await.map(|_| ())).unwrap();
        let mut url = url::Url::parse(&pg).unwrap();
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        prepare_exams(dir.path(), &url, learners).await;
        let mut server = start(dir.path(), &url, 18293);
        let (acked, elapsed) = load(&mut server, learners, seconds, None).await;
        println!("PostgreSQL, answers acknowledged: {:>10.0} /s", acked.len() as f64 / elapsed);
        drop(server);
        on_pool!(&admin, pool => sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).execute(pool).await.map(|_| ())).unwrap();
    }
}
