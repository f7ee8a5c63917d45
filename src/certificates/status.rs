//! Revocation as a W3C Bitstring Status List (v1.0): every certificate issued names a position
//! (`statusListIndex`) in a list credential (`statusListCredential`), which anyone fetches from
//! `GET /api/v1/status/{list}`, signed like a certificate, and in which the bits of revoked and
//! withdrawn certificates are set. The page and JSON summary of `/verify/{id}` stay for people.
//!
//! Positions: one counter in the database, advanced in the transaction that issues, fills list 1,
//! then list 2, ...; inside a list the counter's value goes through a keyed permutation (a Feistel
//! network whose key is made once per database), so positions are unique by construction and look
//! random: a verifier who sees two certificates' positions learns nothing of which was issued first,
//! and a list of 262,144 positions (the spec asks at least 131,072) hides whose bit is whose.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::extract::State;

use crate::web::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::certificates::credential;
use crate::domain::time::now;
use crate::on_pool;
use crate::web::error::AppError;
use crate::web::limit::Throttled;

/// Positions in one list: 2^18, twice the spec's minimum for herd privacy; 32 KiB before gzip.
pub const LIST_SIZE: i64 = 1 << 18;
const HALF_BITS: u32 = 9;
const HALF_MASK: u32 = (1 << HALF_BITS) - 1;
const ROUNDS: u8 = 4;

/// Where the `seq`-th certificate ever issued goes: (list, index). A bijection within each list.
pub fn position(key: &[u8], seq: i64) -> (i64, i64) {
    let list = seq / LIST_SIZE + 1;
    let within = u32::try_from(seq % LIST_SIZE).expect("a position within a list fits 18 bits");
    (list, i64::from(scatter(key, list, within)))
}

/// A 4-round Feistel network over 18 bits (two 9-bit halves), keyed by the database's key and the
/// list number: a permutation of 0..2^18 whatever the round function.
pub fn scatter(key: &[u8], list: i64, within: u32) -> u32 {
    let key = blake3::hash(key);
    let (mut left, mut right) = (within >> HALF_BITS, within & HALF_MASK);
    for round in 0..ROUNDS {
        let mut hasher = blake3::Hasher::new_keyed(key.as_bytes());
        hasher.update(&list.to_le_bytes()).update(&[round]).update(&right.to_le_bytes());
        let bytes = hasher.finalize();
        let f = u32::from(u16::from_le_bytes([bytes.as_bytes()[0], bytes.as_bytes()[1]])) & HALF_MASK;
        (left, right) = (right, left ^ f);
    }
    (left << HALF_BITS) | right
}

/// Hands out `n` consecutive positions inside the caller's transaction: their sequence numbers
/// and the permutation key. The counter's row lock (PostgreSQL) or the write lock (SQLite) holds
/// until the transaction ends, so two issuers never get the same numbers, and a rolled-back issue
/// hands its numbers back.
#[macro_export]
macro_rules! allocate_status_in_tx {
    ($tx:expr, $n:expr) => {{
        let n: i64 = $n;
        let (next, key): (i64, Vec<u8>) = sqlx::query_as(
            "UPDATE status_allocator SET next_position = next_position + $1 WHERE id = 1 \
             RETURNING next_position, scramble_key",
        )
        .bind(n)
        .fetch_one(&mut *$tx)
        .await?;
        let first = next - n;
        (first..next).map(|seq| $crate::certificates::status::position(&key, seq)).collect::<Vec<(i64, i64)>>()
    }};
}

/// The bitstring of a list with the given indexes set, GZIP-compressed, as multibase base64url
/// (`u` prefix, no padding). Index 0 is the left-most (most significant) bit of the first byte.
pub fn encode(set: &[i64]) -> String {
    let mut bits = vec![0u8; usize::try_from(LIST_SIZE / 8).expect("list size fits")];
    for &index in set {
        if let Ok(i) = usize::try_from(index)
            && i < bits.len() * 8
        {
            bits[i / 8] |= 0x80 >> (i % 8);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bits).expect("writing to memory");
    let compressed = gz.finish().expect("writing to memory");
    format!("u{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed))
}

/// The unsigned status list credential.
pub fn list_credential(public_url: &url::Url, list: i64, encoded: String, at: i64) -> Value {
    let id = credential::status_list_url(public_url, list);
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": credential::issuer_did(public_url),
        "validFrom": credential::rfc3339(at),
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    })
}

/// Signed lists already built, by list number: rebuilt when the set of revoked positions or the
/// signing key changes. Each request still reads the revoked positions (an index holds only
/// them), so a revocation made on another server shows at once.
#[derive(Default)]
pub struct Lists {
    built: Mutex<HashMap<i64, Built>>,
}

struct Built {
    issuer: String,
    kid: String,
    set: Vec<i64>,
    body: Arc<Vec<u8>>,
}

/// Whether list `list` has been started: list 1 always is.
async fn exists(state: &AppState, list: i64) -> Result<bool, AppError> {
    if list == 1 {
        return Ok(true);
    }
    let next: i64 = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT next_position FROM status_allocator WHERE id = 1").fetch_one(pool).await?);
    // Divided, not multiplied: any list number a client sends is safe.
    Ok(next > 0 && list <= (next - 1) / LIST_SIZE + 1)
}

fn not_found() -> AppError {
    AppError::not_found("status_list_not_found", "Không có danh sách trạng thái này. / No such status list.")
}

/// `GET /api/v1/status/{list}`: the signed revocation list, as `application/vc`.
#[utoipa::path(get, path = "/api/v1/status/{list}", tag = "certificates",
    params(("list" = i64, Path, minimum = 1, description = "The list number, from a certificate's `credentialStatus.statusListCredential`")),
    responses(
        (status = 200, content_type = "application/vc", body = serde_json::Value,
         description = "A BitstringStatusListCredential (W3C Bitstring Status List v1.0) signed with eddsa-jcs-2022: bit `statusListIndex` of `encodedList` is 1 when that certificate is revoked or withdrawn"),
        (status = 404, body = crate::web::error::ErrorBody, description = "status_list_not_found"),
        (status = 429, body = crate::web::error::ErrorBody, description = "rate_limited: too many lookups from this address; see `Retry-After`"),
    ))]
pub async fn list(State(state): State<AppState>, _: Throttled, Path(list): Path<String>) -> Result<Response, AppError> {
    let list: i64 = list.parse().ok().filter(|n| *n >= 1).ok_or_else(not_found)?;
    if !exists(&state, list).await? {
        return Err(not_found());
    }
    // The predicate is the partial index's, so only revoked rows are read.
    let mut set: Vec<i64> = on_pool!(&state.store, pool => sqlx::query_scalar(
        "SELECT status_index FROM certificate WHERE status_list = $1 \
         AND (revoked_at IS NOT NULL OR withdrawn_at IS NOT NULL)")
        .bind(list).fetch_all(pool).await?);
    set.sort_unstable();
    let (kid, key) = state.signers.current(&state.store, &state.keys.signing).await.map_err(AppError::Internal)?;
    let issuer = credential::issuer_did(&state.config.public_url);
    let cached = {
        let built = state.signers.status_lists.built.lock().expect("status lists");
        built.get(&list).filter(|b| b.kid == kid && b.set == set && b.issuer == issuer).map(|b| b.body.clone())
    };
    let body = match cached {
        Some(body) => body,
        None => {
            let document = list_credential(&state.config.public_url, list, encode(&set), now());
            let method = credential::method_id(&issuer, &kid);
            let signed = credential::sign(document, &key, &method, now());
            let body = Arc::new(serde_json::to_vec(&signed).expect("a credential serialises"));
            state
                .signers
                .status_lists
                .built
                .lock()
                .expect("status lists")
                .insert(list, Built { issuer, kid, set, body: body.clone() });
            body
        }
    };
    Ok((
        [(header::CONTENT_TYPE, credential::MEDIA_TYPE), (header::CACHE_CONTROL, "public, max-age=60")],
        body.as_ref().clone(),
    )
        .into_response())
}
