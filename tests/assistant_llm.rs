//! The optional language model of the assistant against a local stand-in that follows the
//! OpenAI-compatible chat API: its answer is used when it comes; an error, an unreadable reply or a
//! time-out falls back to the passages. Off by default.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::web::serve;
use common::*;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct StandIn {
    mode: Arc<Mutex<&'static str>>,
    seen: Arc<Mutex<Vec<Value>>>,
}

#[allow(clippy::disallowed_types)] // the stand-in server is plain axum
async fn completions(State(s): State<StandIn>, Json(body): Json<Value>) -> Response {
    s.seen.lock().unwrap().push(body);
    let mode = *s.mode.lock().unwrap();
    match mode {
        "ok" => Json(json!({"id": "x", "object": "chat.completion", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "Bạn mở CH Play, tìm VNeID rồi cài đặt [Cài đặt VNeID trên điện thoại]."},
            "finish_reason": "stop"}]}))
        .into_response(),
        "error" => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": {"message": "overloaded"}}))).into_response(),
        "garbage" => (StatusCode::OK, "not json").into_response(),
        _ => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json(json!({"choices": [{"message": {"content": "quá muộn"}}]})).into_response()
        }
    }
}

const LESSON: &str = r#"+++
title = "Cài đặt VNeID trên điện thoại"
summary = "Tải ứng dụng định danh điện tử."
level = 1
minutes = 10
competences = ["2.6"]
themes = ["vneid_danh_tinh_so"]

[[source]]
title = "Hướng dẫn VNeID"
publisher = "Bộ Công an"

[[check]]
question = "Tải VNeID ở đâu?"
choices = ["CH Play hoặc App Store", "Đường link lạ"]
answer = 0
+++
VNeID là ứng dụng định danh điện tử quốc gia.

## Cài đặt ứng dụng

Mở CH Play hoặc App Store, gõ VNeID, chọn ứng dụng của Bộ Công an và chạm Cài đặt.
"#;

#[tokio::test]
async fn the_model_rephrases_and_any_failure_falls_back_to_the_passages() {
    let stand_in = StandIn::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let model_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/v1/chat/completions", post(completions)).with_state(stand_in.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let db = TestDb::sqlite();
    let dir = db.dir.path().join("content");
    std::fs::create_dir_all(dir.join("thu/lessons")).unwrap();
    std::fs::write(
        dir.join("thu/program.toml"),
        "code = \"thu\"\ntarget_group = \"nguoi_dan\"\ntitle = \"Thử\"\nsummary = \"Thử.\"\n\n[[course]]\ncode = \"thu-k\"\n\
         title = \"Khóa\"\nsummary = \"Khóa.\"\n\n[[course.module]]\ncode = \"thu-m\"\ntitle = \"Mô-đun\"\nlessons = [\"vneid-thu\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("thu/lessons/vneid-thu.md"), LESSON).unwrap();
    let out = db.cli(&["content", "import", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let url = db.url.clone();
    let media = db.dir.path().join("media").display().to_string();
    let config = hocvuso::config::Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "HOCVUSO_MEDIA_URL" => Some(media.clone()),
        "HOCVUSO_DATA_KEY" => Some(TEST_KEY.into()),
        "HOCVUSO_ASSISTANT_LLM_URL" => Some(model_url.clone()),
        "HOCVUSO_ASSISTANT_LLM_TIMEOUT_MS" => Some("500".into()),
        _ => None,
    })
    .unwrap();
    assert!(db.config().assistant_llm.is_none(), "off by default");
    let base = serve(&db, config).await;
    let client = reqwest::Client::new();
    let ask = |question: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/assistant/ask"))
                .json(&json!({"question": question}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };

    *stand_in.mode.lock().unwrap() = "ok";
    let reply = ask("cai vneid the nao").await;
    assert!(reply["answer"].as_str().unwrap().starts_with("Bạn mở CH Play"), "{reply}");
    assert_eq!(reply["passages"][0]["lesson"], "vneid-thu");
    let sent = stand_in.seen.lock().unwrap().last().cloned().unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(messages[0]["content"].as_str().unwrap().contains("Chỉ trả lời bằng thông tin trong các đoạn trích"));
    assert!(messages[1]["content"].as_str().unwrap().contains("CH Play"), "the passages go to the model: {sent}");

    for mode in ["error", "garbage", "slow"] {
        *stand_in.mode.lock().unwrap() = mode;
        let reply = ask("cai vneid the nao").await;
        let answer = reply["answer"].as_str().unwrap();
        assert!(answer.starts_with("Theo bài") && answer.contains("CH Play"), "{mode}: {reply}");
    }

    // Nothing fits: the model is not asked.
    let before = stand_in.seen.lock().unwrap().len();
    *stand_in.mode.lock().unwrap() = "ok";
    let reply = ask("cách nấu phở bò ngon nhất").await;
    assert_eq!(reply["found"], false);
    assert_eq!(stand_in.seen.lock().unwrap().len(), before);
}
