//! Statement attachments (xAPI 1.0.3, 2.4.11 and 7.2.1): `multipart/mixed` requests whose first
//! part is the statement(s) and whose other parts are the attachments' bytes, each named by its
//! SHA-2 (`X-Experience-API-Hash`), checked against the bytes and against the statements'
//! `attachments`; kept in the media store (never served by `/media/`), and returned as
//! `multipart/mixed` to `GET …&attachments=true`. Signed statements (JWS) are not verified.

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::Digest;

use super::bad;
use crate::app::AppState;
use crate::on_pool;
use crate::web::error::AppError;

/// One part of a multipart body.
pub struct Part {
    pub content_type: String,
    pub hash: Option<String>,
    pub encoding: Option<String>,
    pub bytes: Bytes,
}

/// The boundary of a `multipart/mixed` content type, or `None` for another type.
pub fn boundary(content_type: &str) -> Option<Result<String, AppError>> {
    let mut params = content_type.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    let boundary = params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"').to_owned())
    });
    Some(
        boundary
            .filter(|b| !b.is_empty())
            .ok_or_else(|| bad("Content-Type: multipart/mixed cần boundary / needs a boundary")),
    )
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// The parts of a multipart body (RFC 2046): the first is the statements' JSON.
pub fn parse(body: &Bytes, boundary: &str) -> Result<Vec<Part>, AppError> {
    let malformed = || bad("multipart: thân không đúng định dạng / malformed multipart body");
    let delimiter = format!("\r\n--{boundary}");
    // The first delimiter may open the body without the line break before it.
    let start = if body.starts_with(&delimiter.as_bytes()[2..]) {
        delimiter.len() - 2
    } else {
        find(body, delimiter.as_bytes(), 0).ok_or_else(malformed)? + delimiter.len()
    };
    let mut parts = Vec::new();
    let mut at = start;
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            break;
        }
        // Skip transport padding to the end of the delimiter's line.
        at = find(body, b"\r\n", at).ok_or_else(malformed)? + 2;
        let end = find(body, delimiter.as_bytes(), at).ok_or_else(malformed)?;
        let (head_end, content_start) = if body[at..].starts_with(b"\r\n") {
            (at, at + 2)
        } else {
            let blank = find(&body[..end], b"\r\n\r\n", at).ok_or_else(malformed)?;
            (blank, blank + 4)
        };
        let head = std::str::from_utf8(&body[at..head_end]).map_err(|_| malformed())?;
        let header = |name: &str| {
            head.split("\r\n").find_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        parts.push(Part {
            content_type: header("content-type").unwrap_or_default(),
            hash: header("x-experience-api-hash").map(|h| h.to_ascii_lowercase()),
            encoding: header("content-transfer-encoding"),
            bytes: body.slice(content_start..end),
        });
        at = end + delimiter.len();
    }
    if parts.is_empty() {
        return Err(malformed());
    }
    Ok(parts)
}

fn sha2_hex(bytes: &[u8], hex_len: usize) -> Option<String> {
    Some(match hex_len {
        56 => hex::encode(sha2::Sha224::digest(bytes)),
        64 => hex::encode(sha2::Sha256::digest(bytes)),
        96 => hex::encode(sha2::Sha384::digest(bytes)),
        128 => hex::encode(sha2::Sha512::digest(bytes)),
        _ => return None,
    })
}

/// The attachments a statement declares (a SubStatement's included): (sha2, has a fileUrl).
fn declared(statement: &Value) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for s in [Some(statement), statement.get("object")].into_iter().flatten() {
        for a in s.get("attachments").and_then(Value::as_array).into_iter().flatten() {
            if let Some(sha2) = a.get("sha2").and_then(Value::as_str) {
                found.push((sha2.to_ascii_lowercase(), a.get("fileUrl").is_some()));
            }
        }
    }
    found
}

/// Every part's bytes match its hash and a declared attachment; every attachment without a
/// `fileUrl` has its part.
pub fn check(statements: &[Value], parts: &[Part]) -> Result<(), AppError> {
    let all: Vec<(usize, String, bool)> = statements
        .iter()
        .enumerate()
        .flat_map(|(i, s)| declared(s).into_iter().map(move |(h, url)| (i, h, url)))
        .collect();
    for (n, part) in parts.iter().enumerate() {
        let what = |m: &str| bad(format!("attachment part {}: {m}", n + 1));
        let hash = part.hash.as_deref().ok_or_else(|| what("X-Experience-API-Hash is required"))?;
        if part.content_type.is_empty() {
            return Err(what("Content-Type is required"));
        }
        if part.encoding.as_deref().is_some_and(|e| !e.eq_ignore_ascii_case("binary")) {
            return Err(what("Content-Transfer-Encoding must be binary"));
        }
        if sha2_hex(&part.bytes, hash.len()).as_deref() != Some(hash) {
            return Err(what("the bytes do not match X-Experience-API-Hash (SHA-2)"));
        }
        if !all.iter().any(|(_, h, _)| h == hash) {
            return Err(what("no statement declares an attachment with this sha2"));
        }
    }
    if let Some((i, hash, _)) =
        all.iter().find(|(_, h, url)| !url && !parts.iter().any(|p| p.hash.as_deref() == Some(h.as_str())))
    {
        return Err(bad(format!(
            "statement {i}: attachments: thiếu phần dữ liệu cho sha2 {hash} / no part for this attachment (and no fileUrl)"
        )));
    }
    Ok(())
}

/// Keeps the parts' bytes in the media store, one object per hash.
pub async fn keep(state: &AppState, parts: Vec<Part>) -> Result<(), AppError> {
    for part in parts {
        let Some(hash) = part.hash else { continue };
        let key = format!("xapi-attachments/{hash}");
        let length = part.bytes.len() as i64;
        state.media.put_private(&key, part.bytes).await.map_err(AppError::Internal)?;
        on_pool!(&state.store, pool => sqlx::query(
            "INSERT INTO xapi_attachment (sha2, content_type, length, media_key, stored_ms) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (sha2) DO NOTHING"
        ).bind(&hash).bind(&part.content_type).bind(length).bind(&key).bind(crate::domain::time::now_ms())
        .execute(pool).await.map(|_| ()))?;
    }
    Ok(())
}

/// The answer of a GET with `attachments=true`: the JSON, then the bytes of every attachment its
/// statements declare that the store holds.
pub async fn multipart(state: &AppState, json: String) -> Result<Response, AppError> {
    let value: Value = serde_json::from_str(&json).unwrap_or_default();
    let statements: Vec<&Value> = match value.get("statements").and_then(Value::as_array) {
        Some(list) => list.iter().collect(),
        None => vec![&value],
    };
    let mut hashes: Vec<String> = statements.iter().flat_map(|s| declared(s)).map(|(h, _)| h).collect();
    hashes.sort();
    hashes.dedup();
    let boundary = format!("xapi-{}", &crate::crypto::random_token()[..24]);
    let mut body = Vec::with_capacity(json.len() + 256);
    body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n").as_bytes());
    body.extend_from_slice(json.as_bytes());
    for hash in hashes {
        let row: Option<(String, String)> = on_pool!(&state.store, pool => sqlx::query_as(
            "SELECT content_type, media_key FROM xapi_attachment WHERE sha2 = $1"
        ).bind(&hash).fetch_optional(pool).await)?;
        let Some((content_type, key)) = row else { continue };
        let bytes = state.media.get_private(&key).await.map_err(AppError::Internal)?;
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n\
                 X-Experience-API-Hash: {hash}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = HeaderValue::from_str(&format!("multipart/mixed; boundary={boundary}"))
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
