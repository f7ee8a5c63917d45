//! The learning record store against the rules of xAPI 1.0.3 (issue 24), one test per rule,
//! through HTTP on both databases; and the privacy deviation (account actors only).

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const HOME: &str = "http://127.0.0.1:8080";

struct Lrs {
    client: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

impl Lrs {
    async fn start(db: &TestDb) -> Self {
        let out = db.cli(&["xapi", "client", "--name", "Nội dung thử"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let value =
            |name: &str| stdout.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap().trim().to_owned();
        let base = common::web::serve(db, db.config()).await;
        Self { client: reqwest::Client::new(), base, key: value("key"), secret: value("secret") }
    }

    fn request(&self, method: Method, path_and_query: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/xapi/{path_and_query}", self.base))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "1.0.3")
    }

    async fn post(&self, body: &Value) -> (StatusCode, Value) {
        let response = self.request(Method::POST, "statements").json(body).send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let response = self.request(Method::GET, path_and_query).send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }
}

fn actor(name: &str) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": HOME, "name": name}})
}

fn statement(id: &str, who: &str, activity: &str) -> Value {
    json!({
        "id": id,
        "actor": actor(who),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"vi-VN": "hoàn thành", "en-US": "completed"}},
        "object": {"id": format!("https://noi-dung.example/{activity}"),
                   "definition": {"name": {"vi-VN": activity}, "type": "http://adlnet.gov/expapi/activities/lesson"}},
        "result": {"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}, "completion": true, "duration": "PT5M"}
    })
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `good` with the value at `path` replaced (or removed when `value` is null).
fn with(good: &Value, path: &[&str], value: Value) -> Value {
    let mut s = good.clone();
    let mut at = &mut s;
    for key in &path[..path.len() - 1] {
        at = at.get_mut(*key).unwrap_or_else(|| panic!("{key}"));
    }
    let last = path[path.len() - 1];
    if value.is_null() {
        at.as_object_mut().unwrap().remove(last);
    } else {
        at[last] = value;
    }
    s
}

#[tokio::test]
async fn invalid_statements_get_400_naming_the_property() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let good = statement("22222222-2222-4222-8222-222222222222", "acc-1", "a");
        let sub = json!({"objectType": "SubStatement", "actor": actor("acc-2"),
                         "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}, "object": {"id": "https://a.example/b"}});
        let cases = [
            (with(&good, &["timestamp"], json!("2026-12-06T05:00:00-00:00")), "timestamp"),
            (with(&good, &["timestamp"], json!("06/12/2026")), "timestamp"),
            (with(&good, &["result", "duration"], json!("P4W1D")), "result.duration"),
            (with(&good, &["verb", "display"], json!({"tiếng việt": "xong"})), "verb.display.tiếng việt"),
            (with(&good, &["object", "definition", "name"], json!({"vi_VN": "a"})), "object.definition.name.vi_VN"),
            (with(&good, &["result", "extensions"], json!({"khong-phai-iri": 1})), "result.extensions.khong-phai-iri"),
            (
                with(&good, &["object", "definition", "interactionType"], json!("Choice")),
                "object.definition.interactionType",
            ),
            (with(&good, &["result", "score", "max"], json!("10")), "result.score.max"),
            (with(&good, &["result", "score", "raw"], json!(11)), "result.score.raw"),
            (with(&good, &["result", "score", "min"], json!(20)), "result.score.min"),
            (with(&good, &["result", "score", "scaled"], json!(1.5)), "result.score.scaled"),
            (with(&good, &["result", "success"], json!("true")), "result.success"),
            (
                with(&good, &["authority"], json!({"objectType": "Activity", "id": "https://a.example"})),
                "authority.objectType",
            ),
            (with(&good, &["verb", "id"], json!("hoàn thành")), "verb.id"),
            (with(&good, &["object", "id"], json!("khong phai iri")), "object.id"),
            (with(&good, &["id"], json!("not-a-uuid")), "id"),
            (with(&good, &["actor"], Value::Null), "actor"),
            (with(&good, &["actor"], json!({"objectType": "Agent"})), "actor"),
            (with(&good, &["ban_la_ai"], json!(1)), "ban_la_ai"),
            (with(&good, &["version"], json!("2.0.0")), "version"),
            (with(&good, &["context"], json!({"registration": "abc"})), "context.registration"),
            (
                with(&good, &["context"], json!({"contextActivities": {"cousin": []}})),
                "context.contextActivities.cousin",
            ),
            (
                with(&good, &["object"], json!({"objectType": "Agent", "account": {"homePage": HOME, "name": "x"}}))
                    .pipe(|s| with(&s, &["context"], json!({"platform": "hocvuso"}))),
                "context.platform",
            ),
            (with(&good, &["object"], with(&sub, &["object"], sub.clone())), "object.object.objectType"),
            (with(&good, &["object"], with(&sub, &["id"], json!("33333333-3333-4333-8333-333333333333"))), "object.id"),
            (with(&good, &["object"], with(&sub, &["stored"], json!("2026-12-06T05:00:00Z"))), "object.stored"),
            (with(&good, &["verb", "id"], json!("http://adlnet.gov/expapi/verbs/voided")), "object"),
            (
                with(
                    &good,
                    &["attachments"],
                    json!([{"usageType": "https://a.example/u", "display": {"vi": "x"},
                                                   "contentType": "text/plain", "length": 1}]),
                ),
                "attachments[0].sha2",
            ),
        ];
        for (bad, property) in cases {
            let (status, body) = lrs.post(&bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{property}: {bad}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.starts_with(&format!("statement 0: {property}:")), "{property}: {message}");
        }
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "0");
    }
}

trait Pipe: Sized {
    fn pipe(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }
}
impl Pipe for Value {}

#[tokio::test]
async fn personal_identifiers_are_refused_saying_why() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let good = statement("44444444-4444-4444-8444-444444444444", "acc-1", "a");
        let member = json!({"objectType": "Group", "member": [{"mbox": "mailto:an@example.com"}]});
        let cases = [
            (with(&good, &["actor"], json!({"mbox": "mailto:an@example.com"})), "actor.mbox"),
            (
                with(&good, &["actor"], json!({"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"})),
                "actor.mbox_sha1sum",
            ),
            (with(&good, &["actor"], json!({"openid": "https://openid.example/an"})), "actor.openid"),
            (with(&good, &["actor", "name"], json!("Nguyễn Văn An")), "actor.name"),
            (with(&good, &["object"], json!({"objectType": "Agent", "mbox": "mailto:b@example.com"})), "object.mbox"),
            (
                with(&good, &["context"], json!({"instructor": {"mbox": "mailto:gv@example.com"}})),
                "context.instructor.mbox",
            ),
            (with(&good, &["context"], json!({"team": member})), "context.team.member[0].mbox"),
            (with(&good, &["authority"], json!({"mbox": "mailto:admin@example.com"})), "authority.mbox"),
            (with(&good, &["actor", "account", "homePage"], json!("https://other.example")), "actor.account.homePage"),
            (
                with(
                    &good,
                    &["actor"],
                    json!({"objectType": "Group", "member": [actor("acc-1"), {"name": "Bình", "account": {"homePage": HOME, "name": "acc-2"}}]}),
                ),
                "actor.member[1].name",
            ),
            (
                with(
                    &good,
                    &["object"],
                    json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:c@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}, "object": {"id": "https://a.example/b"}}),
                ),
                "object.actor.mbox",
            ),
        ];
        for (bad, property) in &cases {
            let (status, body) = lrs.post(bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{property}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.starts_with(&format!("statement 0: {property}:")), "{property}: {message}");
        }
        let (status, body) = lrs.post(&cases[0].0).await;
        assert!(body["message"].as_str().unwrap().contains("pseudonymous account"), "{status} {body}");
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_statement").trim(), "0");
    }
}

#[tokio::test]
async fn group_actors_of_account_agents_are_accepted_and_found_by_agent() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let group = json!({"objectType": "Group", "member": [actor("acc-1"), actor("acc-2")]});
        let s = with(&statement("55555555-5555-4555-8555-555555555555", "x", "nhom"), &["actor"], group.clone());
        let (status, body) = lrs.post(&s).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, found) = lrs.get(&format!("statements?agent={}", enc(&group.to_string()))).await;
        assert_eq!(found["statements"].as_array().unwrap().len(), 1, "{}: {found}", db.backend());
    }
}

#[tokio::test]
async fn substatements_are_accepted_and_context_activities_come_back_as_arrays() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let id = "66666666-6666-4666-8666-666666666666";
        let mut s = statement(id, "acc-1", "a");
        s["object"] = json!({"objectType": "SubStatement", "actor": actor("acc-1"),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"id": "https://noi-dung.example/bai"},
            "context": {"contextActivities": {"grouping": {"id": "https://noi-dung.example/khoa"}}}});
        s["context"] = json!({"contextActivities": {"parent": {"id": "https://noi-dung.example/khoa"}}});
        let (status, body) = lrs.post(&s).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, one) = lrs.get(&format!("statements?statementId={id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["object"]["objectType"], "SubStatement");
        assert_eq!(one["context"]["contextActivities"]["parent"], json!([{"id": "https://noi-dung.example/khoa"}]));
        assert!(one["object"]["context"]["contextActivities"]["grouping"].is_array(), "{one}");
    }
}

#[tokio::test]
async fn get_refuses_unknown_parameters_and_filters_with_a_statement_id() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let id = "77777777-7777-4777-8777-777777777777";
        assert_eq!(lrs.post(&statement(id, "acc-1", "a")).await.0, StatusCode::OK);
        let (status, body) = lrs.get("statements?foo=bar").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().starts_with("foo:"), "{body}");
        let verb = enc("http://adlnet.gov/expapi/verbs/completed");
        assert_eq!(lrs.get(&format!("statements?statementId={id}&verb={verb}")).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(lrs.get(&format!("statements?voidedStatementId={id}&limit=1")).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(
            lrs.get(&format!("statements?statementId={id}&format=ids&attachments=false")).await.0,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn format_ids_exact_and_canonical() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let id = "88888888-8888-4888-8888-888888888888";
        assert_eq!(lrs.post(&statement(id, "acc-1", "a")).await.0, StatusCode::OK);
        let (_, exact) = lrs.get(&format!("statements?statementId={id}&format=exact")).await;
        assert_eq!(exact["verb"]["display"].as_object().unwrap().len(), 2);
        assert!(exact["object"]["definition"].is_object());
        let (_, ids) = lrs.get(&format!("statements?statementId={id}&format=ids")).await;
        assert!(ids["verb"].get("display").is_none() && ids["object"].get("definition").is_none(), "{ids}");
        assert_eq!(ids["actor"]["account"]["name"], "acc-1");
        let canonical = lrs
            .request(Method::GET, &format!("statements?statementId={id}&format=canonical"))
            .header("Accept-Language", "en-US, vi;q=0.5")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(canonical["verb"]["display"], json!({"en-US": "completed"}));
        assert_eq!(lrs.get("statements?format=short").await.0, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn related_activities_and_related_agents_widen_the_filters() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let mut s = statement("99999999-9999-4999-8999-999999999999", "acc-1", "bai");
        s["context"] = json!({"contextActivities": {"parent": [{"id": "https://noi-dung.example/khoa"}]},
                              "instructor": actor("gv-1")});
        assert_eq!(lrs.post(&s).await.0, StatusCode::OK);
        let count = |v: &Value| v["statements"].as_array().map_or(usize::MAX, Vec::len);
        let course = enc("https://noi-dung.example/khoa");
        assert_eq!(count(&lrs.get(&format!("statements?activity={course}")).await.1), 0);
        assert_eq!(count(&lrs.get(&format!("statements?activity={course}&related_activities=true")).await.1), 1);
        let teacher = enc(&actor("gv-1").to_string());
        assert_eq!(count(&lrs.get(&format!("statements?agent={teacher}")).await.1), 0);
        assert_eq!(count(&lrs.get(&format!("statements?agent={teacher}&related_agents=true")).await.1), 1);
    }
}

#[tokio::test]
async fn consistent_through_on_every_statements_get() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let id = "aaaaaaaa-0000-4000-8000-000000000001";
        assert_eq!(lrs.post(&statement(id, "acc-1", "a")).await.0, StatusCode::OK);
        for (query, status) in [
            (format!("statements?statementId={id}"), StatusCode::OK),
            ("statements".to_owned(), StatusCode::OK),
            ("statements?statementId=aaaaaaaa-0000-4000-8000-00000000ffff".to_owned(), StatusCode::NOT_FOUND),
            ("statements?nope=1".to_owned(), StatusCode::BAD_REQUEST),
        ] {
            let response = lrs.request(Method::GET, &query).send().await.unwrap();
            assert_eq!(response.status(), status, "{query}");
            let through = response.headers()["x-experience-api-consistent-through"].to_str().unwrap().to_owned();
            assert!(chrono::DateTime::parse_from_rfc3339(&through).is_ok(), "{query}: {through}");
        }
    }
}

#[tokio::test]
async fn head_answers_on_every_get_resource() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let agent = enc(&actor("acc-1").to_string());
        let activity = enc("https://noi-dung.example/a");
        for path in [
            "about".to_owned(),
            "statements".to_owned(),
            format!("agents?agent={agent}"),
            format!("activities?activityId={activity}"),
            format!("activities/state?activityId={activity}&agent={agent}"),
            format!("activities/profile?activityId={activity}"),
            format!("agents/profile?agent={agent}"),
        ] {
            let response = lrs.request(Method::HEAD, &path).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert!(response.bytes().await.unwrap().is_empty(), "{path}");
        }
    }
}

#[tokio::test]
async fn about_answers_without_credentials() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let response = reqwest::get(format!("{}/xapi/about", lrs.base)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let about: Value = response.json().await.unwrap();
        assert!(about["version"].as_array().unwrap().contains(&json!("1.0.3")), "{about}");
    }
}

#[tokio::test]
async fn agents_answers_the_person_of_an_account_agent() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let (status, person) = lrs.get(&format!("agents?agent={}", enc(&actor("acc-1").to_string()))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(person, json!({"objectType": "Person", "account": [{"homePage": HOME, "name": "acc-1"}]}));
        let mbox = enc(&json!({"mbox": "mailto:an@example.com"}).to_string());
        assert_eq!(lrs.get(&format!("agents?agent={mbox}")).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(lrs.get("agents").await.0, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn activities_answers_the_stored_definition() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        assert_eq!(
            lrs.post(&statement("bbbbbbbb-0000-4000-8000-000000000001", "acc-1", "bai")).await.0,
            StatusCode::OK
        );
        let (status, activity) =
            lrs.get(&format!("activities?activityId={}", enc("https://noi-dung.example/bai"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(activity["id"], "https://noi-dung.example/bai");
        assert_eq!(activity["definition"]["name"]["vi-VN"], "bai", "{activity}");
    }
}

#[tokio::test]
async fn a_voided_statement_is_reached_only_by_voided_statement_id() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let target = "cccccccc-0000-4000-8000-000000000001";
        assert_eq!(lrs.post(&statement(target, "acc-1", "a")).await.0, StatusCode::OK);
        let voiding = json!({"actor": actor("acc-1"), "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                             "object": {"objectType": "StatementRef", "id": target}});
        let (status, body) = lrs.post(&voiding).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(lrs.get(&format!("statements?statementId={target}")).await.0, StatusCode::NOT_FOUND);
        let (status, voided) = lrs.get(&format!("statements?voidedStatementId={target}")).await;
        assert_eq!((status, voided["id"].as_str()), (StatusCode::OK, Some(target)), "{}", db.backend());
        let (_, list) = lrs.get("statements").await;
        let ids: Vec<&str> = list["statements"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [body[0].as_str().unwrap()], "only the voiding statement is listed");
    }
}

#[tokio::test]
async fn documents_honour_etags_and_merge_json_on_post() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let agent = enc(&actor("acc-1").to_string());
        let activity = enc("https://noi-dung.example/a");
        for resource in [
            format!("activities/state?activityId={activity}&agent={agent}&stateId=vi-tri"),
            format!("activities/profile?activityId={activity}&profileId=cau-hinh"),
            format!("agents/profile?agent={agent}&profileId=so-thich"),
        ] {
            let put = |body: Value| lrs.request(Method::PUT, &resource).json(&body);
            assert_eq!(put(json!({"a": 1})).send().await.unwrap().status(), StatusCode::NO_CONTENT, "{resource}");
            let first = lrs.request(Method::GET, &resource).send().await.unwrap();
            let etag = first.headers()["etag"].to_str().unwrap().to_owned();
            assert_eq!(first.json::<Value>().await.unwrap(), json!({"a": 1}));
            let status = |r: reqwest::RequestBuilder| async move { r.send().await.unwrap().status() };
            assert_eq!(
                status(put(json!({"a": 2})).header("If-Match", "\"0000\"")).await,
                StatusCode::PRECONDITION_FAILED
            );
            assert_eq!(
                status(put(json!({"a": 2})).header("If-None-Match", "*")).await,
                StatusCode::PRECONDITION_FAILED
            );
            let unconditional = status(put(json!({"a": 2}))).await;
            if resource.starts_with("activities/state") {
                assert_eq!(unconditional, StatusCode::NO_CONTENT);
            } else {
                assert_eq!(unconditional, StatusCode::CONFLICT, "{resource}");
                assert_eq!(status(put(json!({"a": 2})).header("If-Match", &etag)).await, StatusCode::NO_CONTENT);
            }
            let post = lrs.request(Method::POST, &resource).json(&json!({"b": 3}));
            assert_eq!(status(post).await, StatusCode::NO_CONTENT);
            let merged: Value = lrs.request(Method::GET, &resource).send().await.unwrap().json().await.unwrap();
            assert_eq!(merged, json!({"a": 2, "b": 3}), "{resource}");
            let not_json = lrs.request(Method::POST, &resource).header("Content-Type", "text/plain").body("x");
            assert_eq!(status(not_json).await, StatusCode::BAD_REQUEST);
            let list = resource.rsplit_once('&').unwrap().0;
            let (_, ids) = lrs.get(list).await;
            assert_eq!(ids.as_array().unwrap().len(), 1, "{list}: {ids}");
            assert_eq!(status(lrs.request(Method::DELETE, &resource)).await, StatusCode::NO_CONTENT);
            assert_eq!(lrs.get(&resource).await.0, StatusCode::NOT_FOUND);
        }
    }
}

#[tokio::test]
async fn alternate_request_syntax_carries_the_method_headers_and_content() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let id = "dddddddd-0000-4000-8000-000000000001";
        let auth = {
            use base64::Engine;
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", lrs.key, lrs.secret)))
        };
        let content = statement(id, "acc-1", "a").to_string();
        let form = [
            ("statementId", id),
            ("Authorization", auth.as_str()),
            ("X-Experience-API-Version", "1.0.3"),
            ("Content-Type", "application/json"),
            ("content", content.as_str()),
        ];
        let response =
            lrs.client.post(format!("{}/xapi/statements?method=PUT", lrs.base)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{}", response.text().await.unwrap());
        let form = [("statementId", id), ("Authorization", auth.as_str()), ("X-Experience-API-Version", "1.0.3")];
        let response =
            lrs.client.post(format!("{}/xapi/statements?method=GET", lrs.base)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["id"], id);
        let agent = actor("acc-1").to_string();
        let form = [("agent", agent.as_str()), ("Authorization", auth.as_str()), ("X-Experience-API-Version", "1.0.3")];
        let response =
            lrs.client.post(format!("{}/xapi/agents?method=GET", lrs.base)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["objectType"], "Person");
        let plain = lrs.request(Method::POST, &format!("agents?agent={}", enc(&agent))).send().await.unwrap();
        assert_eq!(plain.status(), StatusCode::METHOD_NOT_ALLOWED);
        let stranger = [("statementId", id), ("X-Experience-API-Version", "1.0.3")];
        let response =
            lrs.client.post(format!("{}/xapi/statements?method=GET", lrs.base)).form(&stranger).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

fn multipart(boundary: &str, statement: &Value, parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n{statement}").into_bytes();
    for (content_type, hash, bytes) in parts {
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n\
                 X-Experience-API-Hash: {hash}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn attachments_are_checked_by_sha2_stored_and_returned_as_multipart() {
    use sha2::Digest;
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let bytes = "chứng nhận hoàn thành".as_bytes();
        let hash = hex::encode(sha2::Sha256::digest(bytes));
        let id = "eeeeeeee-0000-4000-8000-000000000001";
        let mut s = statement(id, "acc-1", "a");
        s["attachments"] = json!([{"usageType": "http://adlnet.gov/expapi/attachments/signature",
            "display": {"vi-VN": "giấy chứng nhận"}, "contentType": "text/plain", "length": bytes.len(), "sha2": hash}]);
        let send = |body: Vec<u8>| {
            lrs.request(Method::POST, "statements")
                .header("Content-Type", "multipart/mixed; boundary=ranh-gioi")
                .body(body)
                .send()
        };
        let wrong = hex::encode(sha2::Sha256::digest(b"khac"));
        let response = send(multipart("ranh-gioi", &s, &[("text/plain", &wrong, bytes)])).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a part whose bytes do not match its hash");
        let response = send(multipart("ranh-gioi", &s, &[("text/plain", &hash, b"khac")])).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "bytes that do not match the hash");
        assert_eq!(lrs.post(&s).await.0, StatusCode::BAD_REQUEST, "an attachment without a part or a fileUrl");
        let response = send(multipart("ranh-gioi", &s, &[("text/plain", &hash, bytes)])).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());

        let response =
            lrs.request(Method::GET, &format!("statements?statementId={id}&attachments=true")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("multipart/mixed; boundary="), "{content_type}");
        let body = response.bytes().await.unwrap();
        assert!(body.windows(bytes.len()).any(|w| w == bytes), "the attachment's bytes come back");
        assert!(String::from_utf8_lossy(&body).contains(&format!("X-Experience-API-Hash: {hash}")));
        // Kept in the media store, not served to the public.
        assert_eq!(db.query("SELECT COUNT(*) FROM xapi_attachment").trim(), "1");
        let public = reqwest::get(format!("{}/media/{hash}", lrs.base)).await.unwrap();
        assert_eq!(public.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_valid_authority_is_replaced_by_the_clients_own() {
    for db in TestDb::all() {
        let lrs = Lrs::start(&db).await;
        let id = "ffffffff-0000-4000-8000-000000000001";
        let claimed =
            json!({"objectType": "Agent", "account": {"homePage": "https://khac.example", "name": "quan-tri"}});
        let (status, body) = lrs.post(&with(&statement(id, "acc-1", "a"), &["authority"], claimed)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, one) = lrs.get(&format!("statements?statementId={id}")).await;
        assert_eq!(one["authority"]["account"]["name"], lrs.key.as_str(), "{one}");
        assert_eq!(one["authority"]["account"]["homePage"], format!("{HOME}/xapi/clients"));
    }
}
