//! The HTTP interface: `app()` driven with `oneshot`, on both backends, plus the real binary on a real listener.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, Option<String>) {
    let response = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap(), content_type)
}

async fn get_json(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let (status, body, content_type) = get(app, uri).await;
    assert_eq!(content_type.as_deref(), Some("application/json"), "{uri}: {body}");
    (status, serde_json::from_str(&body).unwrap())
}

fn seeded(db: &TestDb) {
    let file = db.write("people.csv", people_file(GOOD_PEOPLE));
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
}

#[tokio::test]
async fn unit_json_shape_is_pinned() {
    for db in TestDb::all() {
        seeded(&db);
        let app = db.app().await;
        let (status, body) = get_json(&app, "/api/v1/units/04792").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({
                "code": "04792", "name": "Phường Tân Hòa", "level": "xa", "parent": "25",
                "people": 4, "households": 2,
                "children": [
                    {"code": "04792-001", "name": "Thôn Đông", "level": "thon", "people": 3, "households": 1},
                    {"code": "04792-002", "name": "Xóm Mới", "level": "thon", "people": 1, "households": 1},
                ]
            }),
            "{}",
            db.backend()
        );
        let (_, province) = get_json(&app, "/api/v1/units/25").await;
        assert_eq!(province["level"], "tinh");
        assert_eq!(province["parent"], Value::Null);
        assert_eq!(province["people"], 4);
        assert_eq!(province["children"].as_array().unwrap().len(), 148);
        let (_, village) = get_json(&app, "/api/v1/units/04792-001").await;
        assert_eq!(village["parent"], "04792");
        assert_eq!(village["children"], json!([]));
        let (status, list) = get_json(&app, "/api/v1/units").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["units"].as_array().unwrap().len(), 148);
        let (_, list) = get_json(&app, "/api/v1/units?parent=04792").await;
        assert_eq!(list["units"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn errors_have_a_stable_shape() {
    let db = TestDb::sqlite();
    let app = db.app().await;
    for (uri, status, code) in [
        ("/api/v1/units/abc", StatusCode::BAD_REQUEST, "invalid_unit_code"),
        ("/api/v1/units/04792-1", StatusCode::BAD_REQUEST, "invalid_unit_code"),
        ("/api/v1/units/%27%20OR%201=1--", StatusCode::BAD_REQUEST, "invalid_unit_code"),
        ("/api/v1/units/99999", StatusCode::NOT_FOUND, "unit_not_found"),
        ("/api/v1/units/04792-999", StatusCode::NOT_FOUND, "unit_not_found"),
        // Well formed (the document's pattern) but of a commune outside the province: absent too.
        ("/api/v1/units/99999-001", StatusCode::NOT_FOUND, "unit_not_found"),
        ("/api/v1/units?parent=x", StatusCode::BAD_REQUEST, "invalid_unit_code"),
        ("/api/v1/nothing-here", StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (got, body) = get_json(&app, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        let object = body.as_object().unwrap();
        assert_eq!(object.len(), 2, "{uri}: {body}");
        assert_eq!(body["error"], code, "{uri}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn pages_are_vietnamese_accessible_html() {
    for db in TestDb::all() {
        seeded(&db);
        let app = db.app().await;
        for uri in ["/", "/don-vi/25", "/don-vi/04792", "/don-vi/04792-001", "/thong-ke", "/thong-ke/04792"] {
            let (status, body, content_type) = get(&app, uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert!(content_type.unwrap().starts_with("text/html"));
            assert!(body.contains("<html lang=\"vi\">") && body.contains("<main id=\"noi-dung\">"), "{uri}");
            assert!(!body.contains("<script"), "{uri}: pages work without JavaScript");
        }
        let (_, body, _) = get(&app, "/don-vi/04792").await;
        assert!(body.contains("Phường Tân Hòa") && body.contains("href=\"/don-vi/04792-001\""), "{body}");
        assert!(body.contains("<strong>4</strong> người"), "{body}");
        let (status, body, _) = get(&app, "/don-vi/99999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("Lỗi 404"));
    }
}

#[tokio::test]
async fn names_are_escaped_in_pages() {
    let db = TestDb::sqlite();
    let file = db.write(
        "p.csv",
        people_file("025090123456,Nguyễn Văn An,7/3/1990,Nam,04792,<script>alert(1)</script>,HO-1,,,,,\n"),
    );
    assert_exit(&db.cli(&["import", "people", path_str(&file)]), 0);
    let (_, body, _) = get(&db.app().await, "/don-vi/04792").await;
    assert!(body.contains("&#60;script&#62;alert(1)") && !body.contains("<script>"), "{body}");
}

#[tokio::test]
async fn health_security_headers_and_openapi() {
    let db = TestDb::sqlite();
    let app = db.app().await;
    let response = app.clone().oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert!(!headers["content-security-policy"].to_str().unwrap().contains("unsafe-inline"));
    let (status, doc) = get_json(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/units/{code}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn health_is_503_when_the_database_does_not_answer() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy("postgres://postgres@127.0.0.1:9/nowhere")
        .unwrap();
    let db = TestDb::sqlite();
    let app = hocvuso::app(hocvuso::AppState::new(hocvuso::store::Store::Postgres(pool), db.config()).await.unwrap());
    let (status, body) = get_json(&app, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "database_unavailable");
    let (status, body) = get_json(&app, "/api/v1/units/04792").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

#[tokio::test]
async fn an_oversized_body_is_refused_not_crashed() {
    let db = TestDb::sqlite();
    let app = db.app().await;
    let big = vec![b'x'; 2 << 20];
    let response = app
        .oneshot(
            Request::post("/api/v1/units").header(header::CONTENT_LENGTH, big.len()).body(Body::from(big)).unwrap(),
        )
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}

/// The real binary: refuses to start without a key, serves on a real socket, stops on SIGTERM.
#[test]
fn serve_on_a_real_listener_and_stop_gracefully() {
    let db = TestDb::sqlite();
    let out = db.command(&["serve", "--listen", "127.0.0.1:0"]).env_remove("HOCVUSO_DATA_KEY").output().unwrap();
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("HOCVUSO_DATA_KEY"), "{}", stderr(&out));

    let mut child =
        db.command(&["serve", "--listen", "127.0.0.1:0"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    let address = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.trim().to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(60));
    };
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""), "{response}");
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
}

async fn send(app: &axum::Router, method: &str, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// TRACE, DELETE on a GET route, or a made-up method: 405 with `Allow` (the guard used to answer
/// 403 for a missing CSRF token first), in the site's error shapes.
#[tokio::test]
async fn other_methods_answer_405_with_allow() {
    let db = TestDb::sqlite();
    let app = db.app().await;
    for (method, uri) in [
        ("TRACE", "/api/v1/units"),
        ("DELETE", "/api/v1/units/04792"),
        ("POST", "/api/v1/units"),
        ("TRACE", "/healthz"),
        ("PUT", "/dang-nhap"),
        ("FOO", "/khung-nang-luc"),
    ] {
        let (status, headers, body) = send(&app, method, uri).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}: {body}");
        let allow = headers.get(header::ALLOW).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(allow.contains("GET"), "{method} {uri}: Allow {allow:?}");
        if uri.starts_with("/api/") {
            let json: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json, json!({"error": "method_not_allowed", "message": json["message"]}), "{body}");
        } else {
            assert!(body.contains("Lỗi 405"), "{method} {uri}: {body}");
        }
    }
    // A method no route takes, on a path that does not exist: 405 too, not 404 or 403.
    let (status, headers, _) = send(&app, "TRACE", "/khong-co").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(headers.contains_key(header::ALLOW));
    // The methods a route does take still work.
    assert_eq!(send(&app, "HEAD", "/healthz").await.0, StatusCode::OK);
}

/// axum's own extractor refusals (path, query, form) answer in the site's shapes: JSON under
/// `/api/`, the error page elsewhere (they were plain text).
#[tokio::test]
async fn malformed_paths_queries_and_forms_get_the_site_error_shapes() {
    let db = TestDb::sqlite();
    let app = db.app().await;
    for (uri, code) in [
        // Not UTF-8 once decoded.
        ("/api/v1/units/%FF%FE", "invalid_path"),
        // The same field twice.
        ("/api/v1/units?parent=04792&parent=04795", "invalid_query"),
    ] {
        let (status, body) = get_json(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        assert_eq!(body["error"], code, "{uri}: {body}");
        assert!(body["message"].as_str().unwrap().contains("không hợp lệ"), "{body}");
    }
    for uri in ["/bai-hoc/%FF%FE", "/bai-hoc/bai-mot?phan=mot"] {
        let (status, body, content_type) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(content_type.unwrap().starts_with("text/html"), "{uri}");
        assert!(body.contains("Lỗi 400") && body.contains("<main id=\"noi-dung\">"), "{uri}: {body}");
    }

    // A form that is not a form, with a valid CSRF token: the error page, not plain text.
    let base = common::web::serve(&db, db.config()).await;
    let browser = common::web::Browser::new(&base);
    let csrf = browser.csrf().await;
    let response = browser
        .client
        .post(format!("{base}/dang-nhap"))
        .header("x-csrf-token", &csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"login\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let body = response.text().await.unwrap();
    assert!(body.contains("Lỗi 415") && body.contains("Biểu mẫu không hợp lệ"), "{body}");
}

/// The OpenAPI document says what the server enforces (checked against the running server by
/// `scripts/schemathesis`): the unit code's pattern, `parent` as an optional query parameter, and
/// the error statuses with the error body.
#[tokio::test]
async fn the_openapi_document_declares_what_the_server_enforces() {
    let db = TestDb::sqlite();
    let (_, doc) = get_json(&db.app().await, "/api/v1/openapi.json").await;
    let pattern = hocvuso::registry::api::UNIT_CODE_PATTERN;
    let unit = &doc["paths"]["/api/v1/units/{code}"]["get"];
    assert_eq!(unit["parameters"][0]["schema"]["pattern"], pattern, "{unit}");
    let list = &doc["paths"]["/api/v1/units"]["get"];
    assert_eq!(list["parameters"][0]["in"], "query", "{list}");
    assert_eq!(list["parameters"][0]["required"], false, "{list}");
    assert_eq!(list["parameters"][0]["schema"]["pattern"], pattern);
    let error = json!({"$ref": "#/components/schemas/ErrorBody"});
    for (path, statuses) in [
        ("/api/v1/units/{code}", &["400", "404"][..]),
        ("/api/v1/units", &["400", "404"][..]),
        ("/api/v1/certificates/{id}", &["404", "429"][..]),
    ] {
        let responses = &doc["paths"][path]["get"]["responses"];
        for status in statuses {
            assert_eq!(responses[status]["content"]["application/json"]["schema"], error, "{path} {status}");
        }
    }
}
