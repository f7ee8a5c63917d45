//! A real listener and a browser-like client (cookie jar, no automatic redirects) for the
//! identity tests: what a user's browser does, over HTTP.
#![allow(dead_code)]

use std::net::SocketAddr;

use hocvuso::app::AppState;
use hocvuso::config::Config;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use super::TestDb;

/// Serves the app for `config` on a free loopback port; returns its base URL.
pub async fn serve(db: &TestDb, config: Config) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    serve_on(db, listener, config).await;
    format!("http://{address}")
}

/// Serves the app on a listener bound beforehand (when the address must be known first).
pub async fn serve_on(db: &TestDb, listener: tokio::net::TcpListener, config: Config) {
    let app = hocvuso::app(AppState::new(db.store().await, config).await.unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
}

pub struct Page {
    pub status: StatusCode,
    /// The `Location` header as sent.
    pub location: Option<String>,
    /// The same, resolved against the address that sent it.
    pub next: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let start = self.body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        self.body[start..start + 32].to_owned()
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Self { client, base: base.to_owned() }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    async fn page(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned());
        let next = location.as_deref().map(|l| response.url().join(l).unwrap().to_string());
        let body = response.text().await.unwrap();
        Page { status, location, next, body, headers }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(self.client.post(self.url(path)).form(form).send().await.unwrap()).await
    }

    /// Follows redirects by hand from `page`, at most `limit` times.
    pub async fn follow(&self, mut page: Page, limit: usize) -> Page {
        for _ in 0..limit {
            let Some(next) = page.next.clone() else { break };
            page = self.get(&next).await;
        }
        page
    }

    /// A CSRF token valid for this browser: the one on the login page or the account page.
    pub async fn csrf(&self) -> String {
        let page = self.get("/dang-nhap").await;
        if page.status == StatusCode::OK {
            return page.csrf();
        }
        self.get("/tai-khoan/mat-khau").await.csrf()
    }

    /// Logs in with a password and accepts the privacy notice; panics if that fails.
    pub async fn login(&self, login: &str, password: &str) {
        let csrf = self.csrf().await;
        let page = self.post("/dang-nhap", &[("login", login), ("password", password), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login {login}: {}", page.body);
        self.accept_notice().await;
    }

    pub async fn accept_notice(&self) {
        let page = self.get("/dong-y").await;
        let csrf = page.csrf();
        let page = self.post("/dong-y", &[("dong_y", "co"), ("csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "consent: {}", page.body);
    }
}

/// Creates a local account with one role over a unit; returns its password.
pub async fn account(db: &TestDb, login: &str, role: &str, unit: &str, organisation: Option<&str>) -> String {
    let store = db.store().await;
    let password = format!("rừng cọ đồi chè {}", login.len());
    hocvuso::commands::user::create(
        &store,
        hocvuso::commands::user::AddUser {
            login: login.to_owned(),
            name: None,
            roles: vec![role.to_owned()],
            unit: unit.to_owned(),
            organisation: organisation.map(str::to_owned),
            password: Some(password.clone()),
        },
    )
    .await
    .unwrap();
    store.close().await;
    password
}

/// A browser logged in as a new local account with one role over a unit.
pub async fn logged_in(db: &TestDb, base: &str, login: &str, role: &str, unit: &str) -> Browser {
    let password = account(db, login, role, unit, None).await;
    let browser = Browser::new(base);
    browser.login(login, &password).await;
    browser
}
