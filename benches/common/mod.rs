//! What the benchmark harnesses share: the server process, the test content and learners, and the
//! baseline of plain single-row inserts.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hocvuso::config::DatabaseUrl;
use hocvuso::store::Store;

pub const KEY: &str = "6b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
pub const PASSWORD: &str = "rừng cọ đồi chè 2025";

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server under measurement: this build's, or another build's binary named by `HOCVUSO_BIN`
/// (to measure two builds with the same bench).
#[allow(clippy::disallowed_methods)] // the harness's own setting
pub fn hocvuso(dir: &std::path::Path, url: &str) -> Command {
    let bin = std::env::var_os("HOCVUSO_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_hocvuso").into());
    let mut command = Command::new(bin);
    command
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("HOCVUSO_DATA_KEY", KEY)
        .env("HOCVUSO_MEDIA_URL", dir.join("media"))
        // The per-address limit still runs on every lookup, it just never refuses the one load generator.
        .env("HOCVUSO_PUBLIC_LOOKUPS_PER_MINUTE", "1000000000")
        // Quiet unless a run asks to see inside (`BENCH_SERVER_LOG` and `RUST_LOG` set).
        .env("RUST_LOG", bench_env("BENCH_SERVER_LOG").and(bench_env("RUST_LOG")).unwrap_or_else(|| "warn".into()));
    command
}

/// `hocvuso serve` on the port, once it accepts connections.
pub fn start(dir: &std::path::Path, url: &str, port: u16) -> Server {
    let child = hocvuso(dir, url)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(server_log())
        .spawn()
        .expect("start the server");
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not start");
}

/// A setting of the bench run itself (the platform's own settings are read in src/config.rs only).
#[allow(clippy::disallowed_methods)]
fn bench_env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name)
}

/// The server's log: to the file `BENCH_SERVER_LOG` names (with `RUST_LOG`, to see inside a run),
/// else nowhere.
fn server_log() -> Stdio {
    let file = bench_env("BENCH_SERVER_LOG")
        .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
    file.map_or_else(Stdio::null, Stdio::from)
}

pub fn field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// The test content, and `learners` accounts `bench.N` with the one password.
pub async fn prepare(dir: &std::path::Path, url: &str, learners: usize) -> Store {
    let out = hocvuso(dir, url)
        .args(["content", "import", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/content")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    for i in 0..learners {
        let user = hocvuso::commands::user::AddUser {
            login: format!("bench.{i}"),
            name: None,
            roles: vec!["hoc_vien".into()],
            unit: "04792".into(),
            organisation: None,
            password: Some(PASSWORD.into()),
        };
        hocvuso::commands::user::create(&store, user).await.unwrap();
    }
    store
}

/// Baseline: plain single-row autocommit inserts of `body` into a bare table of a new SQLite file
/// `name`, same settings as the platform's (WAL, synchronous=FULL), from `tasks` tasks; rows per second.
pub async fn baseline(dir: &std::path::Path, name: &str, body: &'static str, tasks: usize, seconds: f64) -> f64 {
    let options = hocvuso::store::sqlite_options(&dir.join(name));
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
    sqlx::query("CREATE TABLE bare (id TEXT PRIMARY KEY, body TEXT NOT NULL)").execute(&pool).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (pool, stop) = (pool.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    sqlx::query("INSERT INTO bare (id, body) VALUES ($1, $2)")
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind(body)
                        .execute(&pool)
                        .await
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for handle in handles {
        total += handle.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

pub fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Logs in as a browser does (the login page's CSRF token, then the privacy notice); the client keeps the session.
pub async fn login(base: &str, login: &str) -> reqwest::Client {
    use reqwest::StatusCode;
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{base}/dang-nhap")).send().await.unwrap().text().await.unwrap();
    let form = [("login", login), ("password", PASSWORD), ("csrf", &field(&page, "csrf"))];
    let response = client.post(format!("{base}/dang-nhap")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "login {login}");
    let page = client.get(format!("{base}/dong-y")).send().await.unwrap().text().await.unwrap();
    let form = [("dong_y", "co"), ("csrf", &field(&page, "csrf"))];
    client.post(format!("{base}/dong-y")).form(&form).send().await.unwrap();
    client
}

/// Lets the running `tasks` work for `seconds`, or kills the server with SIGKILL after `kill_after`
/// instead; then stops them and returns what they had acknowledged, and the time it took.
pub async fn drive<T: Send + 'static>(
    server: &mut Server,
    tasks: Vec<tokio::task::JoinHandle<Vec<T>>>,
    stop: Arc<AtomicBool>,
    seconds: f64,
    kill_after: Option<f64>,
) -> (Vec<T>, f64) {
    let started = Instant::now();
    match kill_after {
        Some(after) => {
            tokio::time::sleep(Duration::from_secs_f64(after)).await;
            server.child.kill().unwrap(); // SIGKILL
            server.child.wait().unwrap();
        }
        None => tokio::time::sleep(Duration::from_secs_f64(seconds)).await,
    }
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    (acked, started.elapsed().as_secs_f64())
}

/// `[SECONDS] [LEARNERS]` after `--`, or `None` when `cargo test --all-targets` runs the binary
/// without `--bench` (nothing to measure then).
pub fn bench_args() -> Option<(f64, usize)> {
    if !std::env::args().any(|a| a == "--bench") {
        return None;
    }
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let seconds: f64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let learners: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    Some((seconds, learners))
}
