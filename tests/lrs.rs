//! The learning record store as outside content sees it: the xAPI 1.0.3 statements resource over
//! HTTP with basic credentials made by `hocvuso xapi client`, on both databases.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Lrs {
    client: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

/// Registers a client with `hocvuso xapi client` and returns its key and secret.
fn new_client(db: &TestDb, extra: &[&str]) -> (String, String) {
    let mut args = vec!["xapi", "client", "--name", "Nội dung thử"];
    args.extend(extra);
    let out = db.cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value =
        |name: &str| stdout.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap().trim().to_owned();
    (value("key"), value("secret"))
}

impl Lrs {
    async fn start(db: &TestDb) -> Self {
        let (key, secret) = new_client(db, &[]);
        let base = common::web::serve(db, db.config()).await;
        Self { client: reqwest::Client::new(), base, key, secret }
    }

    /// Another client of the same store.
    fn other(&self, db: &TestDb, extra: &[&str]) -> Self {
        let (key, secret) = new_client(db, extra);
        Self { client: reqwest::Client::new(), base: self.base.clone(), key, secret }
    }

    fn request(&self, method: reqwest::Method, query: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/xapi/statements{query}", self.base))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "1.0.3")
    }

    async fn post(&self, body: &Value) -> (StatusCode, Value) {
        let response = self.request(reqwest::Method::POST, "").json(body).send().await.unwrap();
        let status = response.status();
        assert_eq!(response.headers()["x-experience-api-version"], "1.0.3");
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, query: &str) -> (StatusCode, Value) {
        let response = self.request(reqwest::Method::GET, query).send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    fn actor(&self, name: &str) -> Value {
        json!({"objectType": "Agent", "account": {"homePage": "http://127.0.0.1:8080", "name": name}})
    }
}

fn statement(lrs: &Lrs, id: &str, who: &str, verb: &str, activity: &str) -> Value {
    json!({
        "id": id,
        "actor": lrs.actor(who),
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}"), "display": {"vi-VN": verb}},
        "object": {"id": format!("https://noi-dung.example/{activity}"), "definition": {"name": {"vi-VN": activity}}},
        "result": {"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}, "completion": true, "duration": "PT5M"}
    })
}

#[tokio::test]
async fn statements_round_trip_and_filter() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let a = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        let (status, ids) = lrs.post(&statement(&lrs, a, "acc-1", "completed", "bai-vneid")).await;
        assert_eq!(status, StatusCode::OK, "{ids}");
        assert_eq!(ids, json!([a]));
        let since = chrono::Utc::now().to_rfc3339();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let batch = json!([
            statement(&lrs, "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "acc-1", "progressed", "bai-vneid"),
            statement(&lrs, "6fa459ea-ee8a-4ca4-894e-db77e160355e", "acc-2", "completed", "bai-qr"),
        ]);
        assert_eq!(lrs.post(&batch).await.0, StatusCode::OK);
        // A statement without an id gets one.
        let (status, ids) = lrs
            .post(&{
                let mut s = statement(&lrs, a, "acc-3", "completed", "bai-qr");
                s.as_object_mut().unwrap().remove("id");
                s
            })
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ids[0].as_str().unwrap().len(), 36);

        let (status, one) = lrs.get(&format!("?statementId={a}")).await;
        assert_eq!(status, StatusCode::OK, "{} {one}", db.backend());
        assert_eq!(one["id"], a);
        assert_eq!(one["actor"]["account"]["name"], "acc-1");
        assert_eq!(one["version"], "1.0.3");
        assert!(one["stored"].is_string() && one["authority"].is_object());

        let count = |v: &Value| v["statements"].as_array().unwrap().len();
        let agent = urlencode(&lrs.actor("acc-1").to_string());
        assert_eq!(count(&lrs.get(&format!("?agent={agent}")).await.1), 2);
        let verb = urlencode("http://adlnet.gov/expapi/verbs/completed");
        assert_eq!(count(&lrs.get(&format!("?verb={verb}")).await.1), 3);
        let activity = urlencode("https://noi-dung.example/bai-qr");
        assert_eq!(count(&lrs.get(&format!("?activity={activity}")).await.1), 2);
        assert_eq!(count(&lrs.get(&format!("?since={}", urlencode(&since))).await.1), 3);
        // Paging: one at a time, following `more`.
        let (_, page) = lrs.get("?limit=1&ascending=true").await;
        assert_eq!(page["statements"][0]["id"], a);
        let more = page["more"].as_str().unwrap().trim_start_matches("/xapi/statements").to_owned();
        let (_, page2) = lrs.get(&more).await;
        assert_eq!(count(&page2), 1);
        assert_ne!(page2["statements"][0]["id"], a);

        assert_eq!(lrs.get("?statementId=00000000-0000-4000-8000-000000000000").await.0, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn same_id_same_body_is_a_retry_and_different_body_is_a_conflict() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let id = "9a8b7c6d-1234-4abc-8def-0123456789ab";
        let first = statement(&lrs, id, "acc-1", "completed", "bai-vneid");
        assert_eq!(lrs.post(&first).await.0, StatusCode::OK);
        assert_eq!(lrs.post(&first).await.0, StatusCode::OK, "a retry is accepted");
        let put = lrs.request(reqwest::Method::PUT, &format!("?statementId={id}")).json(&first).send().await.unwrap();
        assert_eq!(put.status(), StatusCode::NO_CONTENT);
        let (status, body) = lrs.post(&statement(&lrs, id, "acc-1", "failed", "bai-vneid")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"], "statement_conflict");
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "1");
        // A batch with one conflicting statement stores none of them.
        let batch = json!([
            statement(&lrs, "11111111-1111-4111-8111-111111111111", "acc-1", "completed", "x"),
            statement(&lrs, id, "acc-9", "completed", "y"),
        ]);
        assert_eq!(lrs.post(&batch).await.0, StatusCode::CONFLICT);
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "1");
    }
}

/// Posts sent together are written in one group: a retry, or a rival, of a statement in the same
/// group must be told apart from the one stored, as it is across groups.
#[tokio::test]
async fn concurrent_retries_store_once_and_concurrent_rivals_conflict() {
    for db in TestDb::all() {
        let lrs = std::sync::Arc::new(Lrs::start(&db).await);
        let id = "5e6f7a8b-2345-4bcd-9ef0-123456789abc";
        let same = statement(&lrs, id, "acc-2", "completed", "bai-qr");
        let posts: Vec<_> = (0..16)
            .map(|_| {
                let (lrs, body) = (lrs.clone(), same.clone());
                tokio::spawn(async move { lrs.post(&body).await.0 })
            })
            .collect();
        for post in posts {
            assert_eq!(post.await.unwrap(), StatusCode::OK, "every retry is accepted");
        }
        assert_eq!(db.query(&format!("SELECT COUNT(*) FROM xapi_statement WHERE id = '{id}'")).trim(), "1");

        let rival_id = "6f7a8b9c-3456-4cde-8f01-23456789abcd";
        let posts: Vec<_> = (0..16)
            .map(|i| {
                let (lrs, body) = (lrs.clone(), statement(&lrs, rival_id, &format!("acc-{i}"), "completed", "bai-qr"));
                tokio::spawn(async move { lrs.post(&body).await.0 })
            })
            .collect();
        let mut statuses = Vec::new();
        for post in posts {
            statuses.push(post.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 15, "{statuses:?}");
        assert_eq!(db.query(&format!("SELECT COUNT(*) FROM xapi_statement WHERE id = '{rival_id}'")).trim(), "1");
    }
}

#[tokio::test]
async fn a_client_reads_only_the_statements_it_wrote_unless_it_may_read_all() {
    for db in TestDb::all() {
        let a = Lrs::start(&db).await;
        let b = a.other(&db, &[]);
        let reporting = a.other(&db, &["--read-all"]);
        let (of_a, of_b) = ("aaaaaaaa-1111-4111-8111-111111111111", "bbbbbbbb-2222-4222-8222-222222222222");
        assert_eq!(a.post(&statement(&a, of_a, "acc-1", "completed", "bai-a")).await.0, StatusCode::OK);
        assert_eq!(b.post(&statement(&b, of_b, "acc-1", "completed", "bai-b")).await.0, StatusCode::OK);
        let ids = |v: &Value| -> Vec<String> {
            let mut ids: Vec<String> =
                v["statements"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&a.get("").await.1), [of_a], "{}", db.backend());
        assert_eq!(ids(&b.get("").await.1), [of_b]);
        let agent = urlencode(&a.actor("acc-1").to_string());
        assert_eq!(ids(&a.get(&format!("?agent={agent}")).await.1), [of_a], "the same learner, another client's");
        assert_eq!(ids(&reporting.get(&format!("?agent={agent}")).await.1), [of_a, of_b]);

        // Another client's statement answers as one that does not exist.
        let absent = a.get("?statementId=00000000-0000-4000-8000-000000000000").await;
        assert_eq!(absent.0, StatusCode::NOT_FOUND);
        assert_eq!(a.get(&format!("?statementId={of_b}")).await, absent);
        assert_eq!(b.get(&format!("?statementId={of_a}")).await, absent);
        let (status, own) = a.get(&format!("?statementId={of_a}")).await;
        assert_eq!((status, own["authority"]["account"]["name"].as_str()), (StatusCode::OK, Some(a.key.as_str())));
        assert_eq!(reporting.get(&format!("?statementId={of_b}")).await.0, StatusCode::OK);
        assert_eq!(db.query(&format!("SELECT authority FROM xapi_statement WHERE id = '{of_b}'")).trim(), b.key);
    }
}

#[tokio::test]
async fn bad_statements_get_400_with_the_reason_and_strangers_get_401() {
    let db = TestDb::sqlite();
    let lrs = Lrs::start(&db).await;
    let good = statement(&lrs, "22222222-2222-4222-8222-222222222222", "acc-1", "completed", "a");
    let with = |path: &[&str], value: Value| {
        let mut s = good.clone();
        let mut at = &mut s;
        for key in &path[..path.len() - 1] {
            at = at.get_mut(*key).unwrap();
        }
        at[path[path.len() - 1]] = value;
        s
    };
    let cases = [
        (with(&["id"], json!("not-a-uuid")), "UUID"),
        (with(&["actor"], json!({"mbox": "mailto:an@example.com"})), "mbox"),
        (with(&["actor", "name"], json!("Nguyễn Văn An")), "name"),
        (with(&["actor", "account", "homePage"], json!("https://other.example")), "homePage"),
        (with(&["verb"], json!({"display": {"vi": "xong"}})), "verb"),
        (with(&["object", "id"], json!("khong phai iri")), "object.id"),
        (with(&["result", "score", "scaled"], json!(1.5)), "score"),
        (with(&["result", "duration"], json!("5 phút")), "duration"),
        (with(&["timestamp"], json!("hôm qua")), "timestamp"),
        (with(&["ban_la_ai"], json!(1)), "ban_la_ai"),
        (json!("không phải đối tượng"), "object"),
    ];
    for (bad, reason) in cases {
        let (status, body) = lrs.post(&bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["message"].as_str().unwrap().contains(reason), "{reason}: {body}");
    }
    let raw = lrs.request(reqwest::Method::POST, "").body("{ not json").send().await.unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let no_version = reqwest::Client::new()
        .post(format!("{}/xapi/statements", lrs.base))
        .basic_auth(&lrs.key, Some(&lrs.secret))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), StatusCode::BAD_REQUEST);
    let stranger = reqwest::Client::new()
        .post(format!("{}/xapi/statements", lrs.base))
        .basic_auth(&lrs.key, Some("wrong"))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    assert!(stranger.headers().contains_key("www-authenticate"));
    assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "0");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
