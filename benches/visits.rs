//! Benchmark: door-to-door visits acknowledged per second on SQLite, through the JSON endpoint the
//! offline form sends them to (`POST /api/v1/visits`, each visit confirming a person's VNeID level 2),
//! next to plain single-row inserts into a bare table (same file settings) measured in the same run.
//! Then the durability check: the server is killed with SIGKILL while visits are in flight, and every
//! acknowledged visit must be in the database.
//!
//!   cargo bench --bench visits -- [SECONDS] [VOLUNTEERS]        (default 10 s, 64 volunteers)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hocvuso::config::DatabaseUrl;
use hocvuso::store::Store;
use reqwest::StatusCode;

use common::*;

/// Households of three people each in one village of commune 04792.
const HOUSEHOLDS: usize = 2000;

struct Volunteer {
    client: reqwest::Client,
    csrf: String,
}

/// The roster, `volunteers` accounts `bench.N` with `to_cong_nghe_so`, one team over the village.
async fn prepare_visits(dir: &std::path::Path, url: &str, volunteers: usize) -> Vec<(String, i64)> {
    let mut csv = String::from(
        "cccd,ho_ten,ngay_sinh,gioi_tinh,ma_xa,thon,ma_ho,dan_toc,doi_tuong,dien_thoai,cap_hoc,ma_to_chuc\n",
    );
    for i in 0..HOUSEHOLDS * 3 {
        // Names carry no digits: the index spelled in letters.
        let name: String = i.to_string().bytes().map(|d| char::from(b'a' + (d - b'0'))).collect();
        csv.push_str(&format!(
            "025080{i:06},Nguyễn Văn {name},1/1/1980,Nam,04792,Thôn Đông,HO-{},Kinh,nguoi_dan,,,\n",
            i / 3
        ));
    }
    let file = dir.join("people.csv");
    std::fs::write(&file, csv).unwrap();
    let out = hocvuso(dir, url).args(["import", "people", file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    for i in 0..volunteers {
        let user = hocvuso::commands::user::AddUser {
            login: format!("bench.{i}"),
            name: None,
            roles: vec!["to_cong_nghe_so".into()],
            unit: "04792".into(),
            organisation: None,
            password: Some(PASSWORD.into()),
        };
        hocvuso::commands::user::create(&store, user).await.unwrap();
    }
    let people: Vec<(String, i64)> = hocvuso::on_pool!(&store, pool => {
        sqlx::query("INSERT INTO tech_team (id, commune_code, name, created_at) VALUES (1, '04792', 'Tổ đo', 0)")
            .execute(pool).await.unwrap();
        sqlx::query("INSERT INTO tech_team_village (team_id, village_code) SELECT DISTINCT 1, village_code FROM person")
            .execute(pool).await.unwrap();
        sqlx::query("INSERT INTO tech_team_member (team_id, account_id) SELECT 1, id FROM account WHERE login LIKE 'bench.%'")
            .execute(pool).await.unwrap();
        sqlx::query_as("SELECT household_code, min(id) FROM person GROUP BY household_code ORDER BY household_code")
            .fetch_all(pool).await.unwrap()
    });
    store.close().await;
    people
}

async fn sign_in(base: &str, login: &str) -> Volunteer {
    let client = common::login(base, login).await;
    let form = client.get(format!("{base}/tham-nha/")).send().await.unwrap().text().await.unwrap();
    Volunteer { client, csrf: field(&form, "csrf") }
}

/// Posts visits until `stop`; returns the ids the server acknowledged.
async fn post_visits(
    base: String,
    who: Arc<Volunteer>,
    households: Arc<Vec<(String, i64)>>,
    offset: usize,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut acked = Vec::new();
    let mut i = offset;
    while !stop.load(Ordering::Relaxed) {
        let (household, person) = &households[i % households.len()];
        let id = uuid::Uuid::new_v4().to_string();
        let visit = serde_json::json!({
            "id": id, "team": 1, "household": household, "visited_on": "2025-06-02",
            "present": [{"person": person, "vneid_level2": true}], "done": ["kich_hoat_muc2", "hoc_bai"],
            "still_needed": "", "next_visit_on": "",
        });
        let sent = who
            .client
            .post(format!("{base}/api/v1/visits"))
            .header("x-csrf-token", &who.csrf)
            .json(&visit)
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == StatusCode::CREATED => acked.push(id),
            Ok(r) => panic!("unexpected answer {}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(_) => break, // the server is gone (the crash phase)
        }
        i += 7;
    }
    acked
}

async fn load(
    server: &mut Server,
    people: &Arc<Vec<(String, i64)>>,
    volunteers: usize,
    seconds: f64,
    kill_after: Option<f64>,
) -> (Vec<String>, f64) {
    let mut signed_in = Vec::new();
    for i in 0..volunteers {
        signed_in.push(Arc::new(sign_in(&server.base, &format!("bench.{i}")).await));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = signed_in
        .into_iter()
        .enumerate()
        .map(|(i, v)| tokio::spawn(post_visits(server.base.clone(), v, people.clone(), i * 31, stop.clone())))
        .collect();
    drive(server, tasks, stop, seconds, kill_after).await
}

async fn count_present(url: &str, ids: &[String]) -> usize {
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let mut present = 0;
    hocvuso::on_pool!(&store, pool => {
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
            let sql = format!("SELECT COUNT(*) FROM team_visit WHERE id IN ({list})");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap();
            present += n as usize;
        }
    });
    store.close().await;
    present
}

#[tokio::main]
async fn main() {
    let Some((seconds, volunteers)) = bench_args() else { return };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    println!("machine: {} cores; {volunteers} volunteers posting visits for {seconds} s", num_cpus());
    let people = Arc::new(prepare_visits(dir.path(), &url, volunteers).await);
    let body = "{\"team\":1,\"household\":\"HO-1\",\"visited_on\":\"2025-06-02\",\"present\":[{\"person\":1,\"vneid_level2\":true}],\"done\":[\"kich_hoat_muc2\",\"hoc_bai\"]}";
    let base_rate = baseline(dir.path(), "bare.db", body, volunteers, seconds).await;
    let mut server = start(dir.path(), &url, 18292);
    let (acked, elapsed) = load(&mut server, &people, volunteers, seconds, None).await;
    let rate = acked.len() as f64 / elapsed;
    println!("SQLite, visits acknowledged:           {rate:>10.0} /s ({} in {elapsed:.1} s)", acked.len());
    println!(
        "SQLite, plain single-row inserts:      {base_rate:>10.0} /s (baseline, same settings: WAL, synchronous=FULL)"
    );
    println!("ratio: {:.2}", rate / base_rate);
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // Durability: SIGKILL mid-run, then count what was acknowledged.
    let mut server = start(dir.path(), &url, 18293);
    let (acked, _) = load(&mut server, &people, volunteers, seconds, Some(seconds.min(3.0))).await;
    let present = count_present(&url, &acked).await;
    println!(
        "SIGKILL mid-run: {} visits acknowledged before the kill, {} in the database, {} lost",
        acked.len(),
        present,
        acked.len() - present
    );
    assert_eq!(present, acked.len(), "acknowledged visits were lost");
}
