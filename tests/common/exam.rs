//! Taking an exam the way a learner's browser does, for the assessment and delivery tests.
#![allow(dead_code)]

use reqwest::StatusCode;

use super::web::{Browser, Page, account};
use super::*;

pub fn import_fixture(db: &TestDb) {
    let out = db.cli(&["content", "import", &fixture("content")]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The shown value of the choice with this text on a question page.
pub fn choice(page: &Page, text: &str) -> String {
    let marker = format!("> {text}</label>");
    let end = page.body.find(&marker).unwrap_or_else(|| panic!("no choice {text} in {}", page.body));
    let start = page.body[..end].rfind("value=\"").unwrap() + 7;
    page.body[start..end].trim_end_matches(['"', ' ']).split('"').next().unwrap().to_owned()
}

pub fn sitting_of(page: &Page) -> String {
    page.location
        .as_deref()
        .and_then(|l| l.strip_prefix("/kiem-tra/bai/"))
        .expect("a redirect to the sitting")
        .to_owned()
}

pub async fn start(browser: &Browser) -> String {
    let home = browser.get("/kiem-tra").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let page = browser.post("/kiem-tra/nguoi_dan/bat-dau", &[("csrf", &home.csrf())]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    sitting_of(&page)
}

/// Answers question `n` (from 1) right or wrong; returns the response.
pub async fn answer(browser: &Browser, sitting: &str, n: usize, right: bool) -> Page {
    let page = browser.get(&format!("/kiem-tra/bai/{sitting}?cau={n}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let value = choice(&page, if right { "Đáp án đúng" } else { "Đáp án sai" });
    browser
        .post(&format!("/kiem-tra/bai/{sitting}/cau/{n}"), &[("c", &value), ("csrf", &page.csrf()), ("di", "sau")])
        .await
}

pub async fn learner(db: &TestDb, base: &str, login: &str) -> Browser {
    let password = account(db, login, "hoc_vien", "25", None).await;
    let browser = Browser::new(base);
    browser.login(login, &password).await;
    browser
}

/// Takes the whole exam, `wrong` questions answered wrong; returns (sitting, result page).
pub async fn take(browser: &Browser, wrong: usize) -> (String, Page) {
    let sitting = start(browser).await;
    let first = browser.get(&format!("/kiem-tra/bai/{sitting}")).await;
    let count: usize =
        first.body.split("Câu 1 trên ").nth(1).unwrap().split('<').next().unwrap().trim().parse().unwrap();
    for n in 1..=count {
        let page = answer(browser, &sitting, n, n > wrong).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let review = browser.get(&format!("/kiem-tra/bai/{sitting}/nop")).await;
    assert!(review.body.contains(&format!("Bạn đã trả lời cả {count} câu")), "{}", review.body);
    let done = browser.post(&format!("/kiem-tra/bai/{sitting}/nop"), &[("csrf", &review.csrf())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let result = browser.follow(done, 1).await;
    (sitting, result)
}

pub fn certificate_of(result: &Page) -> String {
    let start = result.body.find("href=\"/verify/").expect("a certificate link") + 14;
    result.body[start..start + 36].to_owned()
}
