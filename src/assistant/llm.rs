//! The optional language model: an OpenAI-compatible chat endpoint (a model server the province
//! hosts) rephrases the retrieved passages into a friendly answer that cites them. It is told to
//! answer only from the passages; it is never asked when no passage fits. Any error, refusal or
//! time-out falls back to the passages as they are, so the assistant works fully without it.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::json;

use super::engine::PassageOut;
use crate::config::LlmConfig;

const SYSTEM: &str = "Bạn là trợ lý học tập của phong trào Bình dân học vụ số. Chỉ trả lời bằng thông tin trong các \
    đoạn trích được cung cấp, bằng tiếng Việt giản dị, ngắn gọn (tối đa 5 câu), và ghi tên bài nguồn trong ngoặc vuông. \
    Nếu các đoạn trích không trả lời được câu hỏi, hãy nói rõ là không có thông tin. Không thêm kiến thức bên ngoài. \
    Không bao giờ yêu cầu mật khẩu, mã OTP hay số căn cước.";

/// Longest answer kept from the model.
const MAX_ANSWER: usize = 1500;

#[derive(Deserialize)]
struct Reply {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

/// The model's rephrasing of `passages` for `question`, or None (then the passages are the answer).
pub async fn rephrase(config: &LlmConfig, question: &str, passages: &[PassageOut]) -> Option<String> {
    if passages.is_empty() {
        return None;
    }
    let sources: Vec<String> =
        passages.iter().enumerate().map(|(n, p)| format!("[{}] {}\n{}", n + 1, p.title, p.snippet)).collect();
    let body = json!({
        "model": config.model,
        "temperature": 0.2,
        "max_tokens": 400,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": format!("Câu hỏi: {question}\n\nĐoạn trích:\n{}", sources.join("\n\n"))},
        ],
    });
    let mut request = client().post(config.url.clone()).timeout(config.timeout).json(&body);
    if let Some(key) = &config.key {
        request = request.bearer_auth(key);
    }
    let response = match request.send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            tracing::warn!(status = %r.status(), "the assistant's language model refused; answering with the passages");
            return None;
        }
        Err(e) => {
            tracing::warn!(
                timeout = e.is_timeout(),
                "the assistant's language model did not answer; answering with the passages"
            );
            return None;
        }
    };
    let reply: Reply = match tokio::time::timeout(config.timeout, response.json()).await {
        Ok(Ok(reply)) => reply,
        _ => {
            tracing::warn!("the assistant's language model answered something unreadable; answering with the passages");
            return None;
        }
    };
    let text = reply.choices.into_iter().next()?.message.content?;
    let text = crate::domain::text::clean(&text);
    (!text.is_empty()).then(|| text.chars().take(MAX_ANSWER).collect())
}
