//! What the community tests share (issue 22): a commune's team, a visit posted as the offline form
//! posts it, the indicator counters as text.

use reqwest::StatusCode;

use super::TestDb;
use super::web::Browser;

/// The counters of every unit, year and indicator, as rows of text.
pub fn counters(db: &TestDb) -> String {
    db.query("SELECT unit_code, year, indicator, numerator, denominator FROM indicator_count ORDER BY 1, 2, 3")
}

/// Posts a visit as the offline form's script does: JSON, the session cookie, the page's CSRF token.
pub async fn post_visit(b: &Browser, csrf: &str, visit: &serde_json::Value) -> (StatusCode, serde_json::Value) {
    let r = b
        .client
        .post(format!("{}/api/v1/visits", b.base))
        .header("x-csrf-token", csrf)
        .json(visit)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// The code of a village of commune 04792 by its name.
pub fn village(db: &TestDb, name: &str) -> String {
    db.query(&format!("SELECT code FROM unit WHERE parent_code = '04792' AND name = '{name}'")).trim().to_owned()
}

/// The officer's team over Thôn Đông (household HO-1: An, Bình, Châu), with `tv.xa` as member.
pub async fn team(db: &TestDb, officer: &Browser) -> i64 {
    let list = officer.get("/quan-ly/don-vi/04792/to-cong-nghe").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let dong = village(db, "Thôn Đông");
    let made = officer
        .post("/quan-ly/don-vi/04792/to-cong-nghe", &[("csrf", &list.csrf()), ("ten", "Tổ số 1"), ("thon", &dong)])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let id: i64 = made.location.unwrap().rsplit('/').next().unwrap().parse().unwrap();
    let page = officer.get(&format!("/quan-ly/don-vi/04792/to-cong-nghe/{id}")).await;
    let added = officer
        .post(
            &format!("/quan-ly/don-vi/04792/to-cong-nghe/{id}/thanh-vien"),
            &[("csrf", &page.csrf()), ("login", "tv.xa")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let list = officer.get("/quan-ly/don-vi/04792/to-cong-nghe").await;
    let row = list.body.split("<tr>").find(|r| r.contains("Tổ số 1")).expect("the team is listed");
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains("Thôn Đông") && !row.contains("Xóm Mới"), "{row}");
    id
}
