//! Media (pictures, audio, video, slides) in the object store, addressed by their content hash,
//! checked by their bytes (not their name), and served with range requests and long caching.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};

use crate::app::AppState;
use crate::domain::time::now;
use crate::on_pool;
use crate::store::Store;
use crate::web::error::AppError;
use crate::web::extract::Path as UrlPath;

/// What may be stored, recognised from the first bytes, with the largest size per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Image,
    Audio,
    Video,
    Pdf,
}

impl Kind {
    pub fn limit(self) -> usize {
        match self {
            Kind::Image => 2 << 20,
            Kind::Audio | Kind::Pdf => 20 << 20,
            Kind::Video => 100 << 20,
        }
    }
}

const INSERT_MEDIA: &str =
    "INSERT INTO media (key, content_type, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING";

/// The largest upload of any kind; the upload route's body limit.
pub const UPLOAD_LIMIT: usize = 100 << 20;

/// Recognises a file by its bytes: (kind, content type, extension).
pub fn sniff(bytes: &[u8]) -> Result<(Kind, &'static str, &'static str), String> {
    if looks_like_svg(bytes) {
        crate::learning::svg::clean(bytes)?;
        return Ok((Kind::Image, "image/svg+xml", "svg"));
    }
    let found = infer::get(bytes).map(|t| t.mime_type()).unwrap_or("");
    let known = match found {
        "image/png" => (Kind::Image, "image/png", "png"),
        "image/jpeg" => (Kind::Image, "image/jpeg", "jpg"),
        "image/webp" => (Kind::Image, "image/webp", "webp"),
        "audio/ogg" | "audio/opus" => (Kind::Audio, "audio/ogg", "opus"),
        "audio/mpeg" => (Kind::Audio, "audio/mpeg", "mp3"),
        "video/mp4" => (Kind::Video, "video/mp4", "mp4"),
        "video/webm" => (Kind::Video, "video/webm", "webm"),
        "application/pdf" => (Kind::Pdf, "application/pdf", "pdf"),
        _ => {
            return Err("loại tệp không được nhận; chỉ nhận SVG, PNG, JPEG, WebP, Opus, MP3, MP4, WebM, PDF \
                 / file type not accepted"
                .into());
        }
    };
    Ok(known)
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    (head.starts_with("<?xml") || head.starts_with("<svg") || head.starts_with("<!--")) && head.contains("<svg")
}

/// The media store: an object store (a local folder by default) plus a table of what it holds.
#[derive(Clone, Debug)]
pub struct Media {
    objects: Arc<dyn ObjectStore>,
    /// Small objects kept in memory: lesson pictures are read far more often than written, and a
    /// key names its bytes for ever, so nothing here can go stale.
    small: Arc<Mutex<Small>>,
}

/// Objects up to this size are kept in memory once read.
const SMALL_OBJECT: u64 = 512 << 10;
/// The memory all kept objects may take; past it the cache starts again empty.
const SMALL_TOTAL: usize = 32 << 20;

#[derive(Debug, Default)]
struct Small {
    objects: HashMap<String, (HeaderValue, Bytes)>,
    bytes: usize,
}

impl Media {
    /// `url` is a local folder (created if missing). Other stores (S3) plug in here.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let folder = url.strip_prefix("file://").unwrap_or(url);
        std::fs::create_dir_all(folder).with_context(|| format!("creating the media folder {folder}"))?;
        let objects = LocalFileSystem::new_with_prefix(folder).with_context(|| format!("opening media at {folder}"))?;
        Ok(Self { objects: Arc::new(objects), small: Arc::default() })
    }

    /// Checks and stores bytes; returns the key (`<hash>.<ext>`). Storing the same bytes twice is one object.
    pub async fn put(&self, store: &Store, bytes: Vec<u8>) -> Result<String, String> {
        let (kind, content_type, ext) = sniff(&bytes)?;
        // An SVG is stored as written back from its parse: what the browser reads is what was checked.
        let bytes = if ext == "svg" { crate::learning::svg::clean(&bytes)? } else { bytes };
        if bytes.len() > kind.limit() {
            return Err(format!(
                "tệp quá lớn: {} MB, tối đa {} MB / file too large",
                bytes.len().div_ceil(1 << 20),
                kind.limit() >> 20
            ));
        }
        let key = format!("{}.{ext}", crate::crypto::short_hash(&bytes));
        self.store_as(store, &key, content_type, bytes).await.map_err(|e| {
            tracing::error!(error = %e, "storing media failed");
            "không lưu được tệp / could not store the file".to_owned()
        })?;
        Ok(key)
    }

    /// Stores bytes under a key the caller chose (synthesised audio is keyed by its text).
    pub async fn store_as(&self, store: &Store, key: &str, content_type: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        let size = bytes.len() as i64;
        // The object first: a row never points at nothing.
        self.objects.put(&Path::from(key), PutPayload::from(bytes)).await?;
        on_pool!(store, pool => sqlx::query(INSERT_MEDIA).bind(key).bind(content_type).bind(size).bind(now()).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Records an object the store already holds (speech synthesised for another database sharing
    /// the media store); false when there is no such object.
    pub async fn adopt(&self, store: &Store, key: &str, content_type: &str) -> anyhow::Result<bool> {
        let Ok(meta) = self.objects.head(&Path::from(key)).await else { return Ok(false) };
        on_pool!(store, pool => sqlx::query(INSERT_MEDIA).bind(key).bind(content_type).bind(meta.size as i64).bind(now()).execute(pool).await.map(|_| ()))?;
        Ok(true)
    }

    /// Stores bytes the public `/media/` route must never serve (the learning record store's
    /// attachments): no row in `media`, and a key with a `/`, which `/media/{key}` refuses.
    pub async fn put_private(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        anyhow::ensure!(key.contains('/'), "a private media key needs a folder");
        self.objects.put(&Path::from(key), PutPayload::from(bytes)).await?;
        Ok(())
    }

    pub async fn get_private(&self, key: &str) -> anyhow::Result<Bytes> {
        Ok(self.objects.get(&Path::from(key)).await?.bytes().await?)
    }

    pub async fn exists(store: &Store, key: &str) -> sqlx::Result<bool> {
        let found: Option<i64> = on_pool!(store, pool => sqlx::query_scalar("SELECT size FROM media WHERE key = $1")
            .bind(key).fetch_optional(pool).await)?;
        Ok(found.is_some())
    }
}

fn valid_key(key: &str) -> bool {
    key.len() <= 80 && !key.starts_with('.') && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// `GET /media/{key}`: whole file, or the one byte range asked for (206), cached for a year.
pub async fn serve(State(state): State<AppState>, UrlPath(key): UrlPath<String>, headers: HeaderMap) -> Response {
    match serve_inner(&state, &key, &headers).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn serve_inner(state: &AppState, key: &str, headers: &HeaderMap) -> Result<Response, AppError> {
    let missing = || AppError::not_found("media_not_found", "Không có tệp này. / No such file.");
    if !valid_key(key) {
        return Err(missing());
    }
    let kept = state.media.small.lock().expect("media cache lock").objects.get(key).cloned();
    if let Some((content_type, bytes)) = kept {
        return Ok(answer(key, headers, content_type, bytes.len() as u64, Body::Memory(bytes)));
    }
    let row: Option<(String, i64)> = on_pool!(&state.store, pool => sqlx::query_as(
        "SELECT content_type, size FROM media WHERE key = $1"
    ).bind(key).fetch_optional(pool).await)?;
    let (content_type, size) = row.ok_or_else(missing)?;
    let content_type =
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let size = size as u64;
    let location = Path::from(key);
    let gone = |e: object_store::Error| {
        tracing::error!(error = %e, "media object missing");
        missing()
    };
    if size <= SMALL_OBJECT {
        let bytes = state.media.objects.get(&location).await.map_err(gone)?.bytes().await.map_err(gone)?;
        let mut small = state.media.small.lock().expect("media cache lock");
        if small.bytes + bytes.len() > SMALL_TOTAL {
            *small = Small::default();
        }
        small.bytes += bytes.len();
        small.objects.insert(key.to_owned(), (content_type.clone(), bytes.clone()));
        drop(small);
        return Ok(answer(key, headers, content_type, size, Body::Memory(bytes)));
    }
    Ok(answer(key, headers, content_type, size, Body::Store(state.media.objects.clone(), location)))
}

/// Where an answer's bytes come from.
enum Body {
    Memory(Bytes),
    Store(Arc<dyn ObjectStore>, Path),
}

/// The whole object, or the one byte range asked for (206); `304` for a matching `ETag`.
fn answer(key: &str, headers: &HeaderMap, content_type: HeaderValue, size: u64, body: Body) -> Response {
    let etag = format!("\"{}\"", key.split('.').next().unwrap_or(key));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|raw| http_range_header::parse_range_header(raw).and_then(|r| r.validate(size)));
    let (status, range) = match range {
        None => (StatusCode::OK, None),
        Some(Ok(ranges)) if ranges.len() == 1 => (StatusCode::PARTIAL_CONTENT, Some(ranges[0].clone())),
        // Several ranges at once: the whole file is a correct answer, and simpler for weak clients.
        Some(Ok(_)) => (StatusCode::OK, None),
        Some(Err(_)) => {
            return (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{size}"))])
                .into_response();
        }
    };
    let (start, end) = range.as_ref().map_or((0, size), |r| (*r.start(), *r.end() + 1));
    let body = match body {
        Body::Memory(bytes) => axum::body::Body::from(bytes.slice(start as usize..end as usize)),
        Body::Store(objects, location) => {
            let options =
                GetOptions { range: range.is_some().then_some(GetRange::Bounded(start..end)), ..Default::default() };
            let stream = async_stream(objects, location, options);
            axum::body::Body::from_stream(stream)
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex etag"));
    // An SVG opened on its own must not run anything, whatever slipped through.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    if let Some(r) = range {
        let value = format!("bytes {}-{}/{size}", r.start(), r.end());
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&value).expect("ascii"));
    }
    response
}

/// Streams a large object (a video) from the store without holding it in memory.
fn async_stream(
    objects: Arc<dyn ObjectStore>,
    location: Path,
    options: GetOptions,
) -> impl futures::Stream<Item = Result<Bytes, object_store::Error>> {
    use futures::{StreamExt, TryStreamExt};
    futures::stream::once(async move { objects.get_opts(&location, options).await.map(|r| r.into_stream()) })
        .try_flatten()
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_with_script_or_handlers_is_refused() {
        let ok = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>x</title></svg>"#;
        assert_eq!(sniff(ok).unwrap().1, "image/svg+xml");
        assert!(sniff(br#"<svg><script>alert(1)</script></svg>"#).is_err());
        assert!(sniff(br#"<svg><rect onclick="x()"/></svg>"#).is_err());
        assert!(sniff(br#"<svg><image href="https://evil/x.png"/></svg>"#).is_err());
        assert!(sniff(b"<svg\tonload=\"alert(1)\"></svg>").is_err());
        assert!(sniff(br#"<svg><a href="javascript&#58;alert(1)"><text>x</text></a></svg>"#).is_err());
    }

    #[test]
    fn a_renamed_executable_is_not_a_picture() {
        assert!(sniff(b"MZ\x90\x00\x03\x00\x00\x00").is_err());
        assert!(sniff(b"plain text").is_err());
    }
}
