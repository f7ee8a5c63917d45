//! Certificates as generic tools see them: the bare credential (`application/vc`) validates against
//! the Open Badges 3.0 AchievementCredential JSON Schema (vendored in `tests/certificates/`, checked
//! by Ajv, not by us), every URL in it resolves on our origin, and revocation, from the officers'
//! page or the command line, sets the certificate's bit in the signed Bitstring Status List (read by
//! Node's zlib, its signature checked by `verify.mjs`), on both databases.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::exam::*;
use common::web::{Browser, account, serve_on};
use common::*;
use reqwest::StatusCode;
use serde_json::Value;

const CHECKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/certificates");
const SCHEMA_URL: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json";

/// Runs one of the Node checks on JSON documents written to files; (success, output).
fn node(dir: &Path, script: &str, documents: &[&Value], args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new("node");
    command.arg(format!("{CHECKS}/{script}"));
    for (i, document) in documents.iter().enumerate() {
        let file = dir.join(format!("{script}-{i}.json"));
        std::fs::write(&file, serde_json::to_vec(document).unwrap()).unwrap();
        command.arg(file);
    }
    let out = command.args(args).output().expect("node runs");
    (out.status.success(), format!("{}{}", stdout(&out), stderr(&out)))
}

fn schema() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("{CHECKS}/ob_v3p0_achievementcredential_schema.json")).unwrap(),
    )
    .unwrap()
}

/// The platform on a real listener whose public address is the listener's, so that the URLs in a
/// credential point at it.
async fn platform(db: &TestDb) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = db.config();
    config.public_url = url::Url::parse(&base).unwrap();
    serve_on(db, listener, config).await;
    base
}

async fn json_of(browser: &Browser, path: &str) -> Value {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    serde_json::from_str(&page.body).unwrap()
}

/// A learner who passes; returns their browser and certificate id.
async fn certified(db: &TestDb, base: &str, login: &str) -> (Browser, String) {
    let browser = learner(db, base, login).await;
    let (_, result) = take(&browser, 0).await;
    let id = certificate_of(&result);
    (browser, id)
}

/// The bare credential, as a wallet fetches it.
async fn bare(browser: &Browser, id: &str) -> Value {
    let page = browser.get(&format!("/api/v1/certificates/{id}/credential")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["content-type"], "application/vc");
    serde_json::from_str(&page.body).unwrap()
}

fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_bare_credential_validates_against_the_1edtech_schema_and_every_url_in_it_resolves() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = platform(&db).await;
        let (lan, id) = certified(&db, &base, "lan").await;
        let credential = bare(&lan, &id).await;
        let anyone = Browser::new(&base);
        let refused = anyone.get(&format!("/api/v1/certificates/{id}/credential")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(refused.body.contains("\"error\":\"credential_not_shared\""), "{}", refused.body);

        // The shape generic tools ask for.
        assert!(credential["proof"].is_array() && credential["proof"].as_array().unwrap().len() == 1);
        assert_eq!(credential["credentialSchema"][0]["id"], SCHEMA_URL);
        let status = &credential["credentialStatus"];
        assert_eq!(status["type"], "BitstringStatusListEntry");
        assert_eq!(status["statusPurpose"], "revocation");
        assert!(status["statusListIndex"].as_str().unwrap().parse::<u32>().is_ok(), "{status}");
        assert!(credential["image"]["id"].is_string());

        // Checked outside our code: the schema by Ajv, the signature by Node's crypto.
        let (ok, why) = node(db.dir.path(), "schema.mjs", &[&schema(), &credential], &[]);
        assert!(ok, "{why}");
        let did = json_of(&anyone, "/.well-known/did.json").await;
        let (ok, why) = node(db.dir.path(), "verify.mjs", &[&credential, &did], &[]);
        assert!(ok, "{why}");
        // The validator does catch what generic tools tripped on: a single proof object.
        let mut single = credential.clone();
        single["proof"] = credential["proof"][0].clone();
        let (ok, why) = node(db.dir.path(), "schema.mjs", &[&schema(), &single], &[]);
        assert!(!ok && why.contains("/proof"), "{why}");

        // Every URL: ours resolve (anchors included), the others are the published standards.
        let mut all = Vec::new();
        strings(&credential, &mut all);
        let did_id = credential["issuer"]["id"].as_str().unwrap();
        assert!(did_id.starts_with("did:web:127.0.0.1%3A"), "{did_id}");
        let external: BTreeSet<&str> = [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            SCHEMA_URL,
        ]
        .into();
        let mut walked = BTreeSet::new();
        for s in all {
            if s.starts_with("did:web:") {
                // did:web resolves to the DID document; the key a proof names is in it.
                let methods: Vec<&str> =
                    did["verificationMethod"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
                assert!(s == did_id || methods.contains(&s), "{s} is not in the DID document");
                continue;
            }
            if !(s.starts_with("http://") || s.starts_with("https://")) {
                continue;
            }
            if !s.starts_with(&base) {
                assert!(external.contains(s), "an unexpected outside URL: {s}");
                continue;
            }
            let (path, fragment) = s.split_once('#').map_or((s, None), |(p, f)| (p, Some(f)));
            let page = anyone.get(path).await;
            assert_eq!(page.status, StatusCode::OK, "{s}: {}", page.body);
            let html = page.headers["content-type"].to_str().unwrap().starts_with("text/html");
            if let (Some(fragment), true) = (fragment, html) {
                assert!(page.body.contains(&format!("id=\"{fragment}\"")), "no anchor #{fragment} on {path}");
            }
            walked.insert(s.to_owned());
        }
        // The pages a reader follows are among them.
        for expected in [
            format!("{base}/chung-nhan/chuan/nguoi_dan"),
            format!("{base}/chung-nhan/huy-hieu.svg"),
            format!("{base}/khung-nang-luc#nl-1.1"),
            status["statusListCredential"].as_str().unwrap().to_owned(),
        ] {
            assert!(walked.contains(&expected), "{expected} not walked: {walked:?}");
        }
        let image = anyone.get("/chung-nhan/huy-hieu.svg").await;
        assert_eq!(image.headers["content-type"], "image/svg+xml");
        assert_eq!(anyone.get("/chung-nhan/chuan/khong_co").await.status, StatusCode::NOT_FOUND);
        // The OpenAPI document names both new JSON endpoints and their media type.
        let doc = json_of(&anyone, "/api/v1/openapi.json").await;
        for path in ["/api/v1/certificates/{id}/credential", "/api/v1/status/{list}"] {
            let content = &doc["paths"][path]["get"]["responses"]["200"]["content"];
            assert!(content.get("application/vc").is_some(), "{path}: {content}");
        }
    }
}

/// The list's signature checks outside our code, and the bits at `indexes` as Node reads them.
async fn list_bits(db: &TestDb, anyone: &Browser, list_url: &str, indexes: &[&str]) -> Vec<i64> {
    let page = anyone.get(list_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["content-type"], "application/vc");
    let list: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(list["id"], list_url);
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    let did = json_of(anyone, "/.well-known/did.json").await;
    let (ok, why) = node(db.dir.path(), "verify.mjs", &[&list, &did], &[]);
    assert!(ok, "{why}");
    let (ok, out) = node(db.dir.path(), "status.mjs", &[&list], indexes);
    assert!(ok, "{out}");
    let read: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(read["bits"].as_i64().unwrap() >= 131_072, "{read}");
    assert_eq!(read["purpose"], "revocation");
    indexes.iter().map(|i| read["set"][*i].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn revocation_from_the_officers_page_or_the_command_line_sets_the_bit_in_the_signed_list() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = platform(&db).await;
        let anyone = Browser::new(&base);
        let (lan, by_page) = certified(&db, &base, "lan").await;
        let (binh, by_cli) = certified(&db, &base, "binh").await;
        let (a, b) = (bare(&lan, &by_page).await, bare(&binh, &by_cli).await);
        let list_url = a["credentialStatus"]["statusListCredential"].as_str().unwrap().to_owned();
        assert_eq!(list_url, format!("{base}/api/v1/status/1"));
        assert_eq!(b["credentialStatus"]["statusListCredential"], list_url.as_str());
        let (ia, ib) = (
            a["credentialStatus"]["statusListIndex"].as_str().unwrap(),
            b["credentialStatus"]["statusListIndex"].as_str().unwrap(),
        );
        assert_ne!(ia, ib);
        assert_eq!(list_bits(&db, &anyone, &list_url, &[ia, ib]).await, [0, 0]);

        // The province revokes one on the officers' page...
        let password = account(&db, "tinh", "quan_tri_tinh", "25", None).await;
        let admin = Browser::new(&base);
        admin.login("tinh", &password).await;
        let list = admin.get("/quan-tri/chung-nhan").await;
        let page = admin
            .post(
                &format!("/quan-tri/chung-nhan/{by_page}/thu-hoi"),
                &[("ly_do", "Cấp nhầm người"), ("csrf", &list.csrf())],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(list_bits(&db, &anyone, &list_url, &[ia, ib]).await, [1, 0]);
        // ... an operator the other on the command line; the summary for people says it too.
        let out = db.cli(&["certificates", "revoke", &by_cli, "--reason", "Gian lận khi thi"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(list_bits(&db, &anyone, &list_url, &[ia, ib]).await, [1, 1]);
        assert_eq!(json_of(&anyone, &format!("/api/v1/certificates/{by_cli}")).await["status"], "revoked");

        // Lists not yet started, and anything else, are not there.
        for missing in
            ["/api/v1/status/2", "/api/v1/status/0", "/api/v1/status/mot", "/api/v1/status/9223372036854775807"]
        {
            let page = anyone.get(missing).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{missing}");
            assert!(page.body.contains("\"error\":\"status_list_not_found\""), "{}", page.body);
        }
    }
}

#[tokio::test]
async fn a_credential_stored_with_a_single_proof_object_still_verifies() {
    for db in TestDb::all() {
        import_fixture(&db);
        let base = platform(&db).await;
        let (lan, id) = certified(&db, &base, "lan").await;
        let credential = bare(&lan, &id).await;
        // Stored the way certificates issued before proof sets were: one proof object.
        let anyone = Browser::new(&base);
        let mut single = credential.clone();
        single["proof"] = credential["proof"][0].clone();
        let text = serde_json::to_string(&single).unwrap().replace('\'', "''");
        db.query(&format!("UPDATE certificate SET credential = '{text}' WHERE id = '{id}'"));
        assert_eq!(json_of(&anyone, &format!("/api/v1/certificates/{id}")).await["status"], "valid");
        assert!(anyone.get(&format!("/verify/{id}")).await.body.contains("Hợp lệ"));
        let served = bare(&lan, &id).await;
        assert_eq!(served, credential, "served as a proof set");
        let did = json_of(&anyone, "/.well-known/did.json").await;
        let (ok, why) = node(db.dir.path(), "verify.mjs", &[&single, &did], &[]);
        assert!(ok, "{why}");
    }
}

#[test]
fn positions_are_a_permutation_of_each_list() {
    let key = [7u8; 32];
    let size = hocvuso::certificates::status::LIST_SIZE;
    for list in [1, 2] {
        let mut seen = vec![false; usize::try_from(size).unwrap()];
        for within in 0..size {
            let (l, index) = hocvuso::certificates::status::position(&key, (list - 1) * size + within);
            assert_eq!(l, list);
            let slot = &mut seen[usize::try_from(index).unwrap()];
            assert!(!*slot, "index {index} of list {list} given twice");
            *slot = true;
        }
    }
    // Consecutive certificates do not get neighbouring positions.
    let first: Vec<i64> = (0..4).map(|seq| hocvuso::certificates::status::position(&key, seq).1).collect();
    assert_ne!(first, [0, 1, 2, 3]);
}
