//! The public check of a certificate (`/verify/{id}`, `/api/v1/certificates/{id}`), the holder's
//! PDF and share link, and the issuer's DID document.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::AppState;
use crate::certificates::{credential, keys, pdf};
use crate::crypto::{random_token, token_hash};
use crate::domain::time::date_vi;
use crate::learning::framework::target_group_label;
use crate::on_pool;
use crate::store::Store;
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Json, Path, Query};
use crate::web::limit::Throttled;
use crate::web::pages::{Nav, render};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub account_id: String,
    pub target_group: String,
    pub holder_name: String,
    pub level: i64,
    pub share: i64,
    pub issued_at: i64,
    pub kid: String,
    pub credential: String,
    pub revoked_at: Option<i64>,
    pub revoke_reason: Option<String>,
    pub withdrawn_at: Option<i64>,
    pub share_token_hash: Option<Vec<u8>>,
}

crate::direct_row!(Row {
    id,
    account_id,
    target_group,
    holder_name,
    level,
    share,
    issued_at,
    kid,
    credential,
    revoked_at,
    revoke_reason,
    withdrawn_at,
    share_token_hash
});

const LOAD: &str = "SELECT id, account_id, target_group, holder_name, level, share, issued_at, kid, credential, \
                    revoked_at, revoke_reason, withdrawn_at, share_token_hash FROM certificate WHERE id = $1";

/// A certificate by id. Anyone may ask (the verify page and API), so SQLite answers on the calling thread.
pub async fn load(state: &AppState, id: &str) -> sqlx::Result<Option<Row>> {
    // Ids are UUIDs: anything else is absent without a query.
    let Ok(id) = uuid::Uuid::parse_str(id) else { return Ok(None) };
    let id = id.hyphenated().to_string();
    match &state.store {
        Store::Sqlite(sqlite) => sqlite.direct.optional(LOAD, &[("$1", &id)], Row::from_direct),
        Store::Postgres(pool) => sqlx::query_as(LOAD).bind(&id).fetch_optional(pool).await,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Revoked,
    Withdrawn,
    /// The signature does not check against the published key: the record was tampered with.
    Invalid,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Valid => "Hợp lệ",
            Status::Revoked => "Đã bị thu hồi",
            Status::Withdrawn => "Đã rút (người được cấp đã yêu cầu xóa dữ liệu)",
            Status::Invalid => "Không hợp lệ: chữ ký số không khớp",
        }
    }
}

/// The public summary: what anyone holding the id may know.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub id: String,
    pub status: Status,
    pub holder_name: Option<String>,
    pub profile: String,
    pub profile_label: &'static str,
    pub level: i64,
    pub result_percent: i64,
    pub issued_at: String,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
    pub key_id: String,
    pub verify_url: String,
}

async fn summary(state: &AppState, row: &Row) -> Result<Summary, AppError> {
    let status = if row.withdrawn_at.is_some() {
        Status::Withdrawn
    } else {
        let genuine = state.signers.genuine(&state.store, &row.kid, &row.credential).await?;
        match (genuine, row.revoked_at) {
            (false, _) => Status::Invalid,
            (true, Some(_)) => Status::Revoked,
            (true, None) => Status::Valid,
        }
    };
    Ok(Summary {
        id: row.id.clone(),
        status,
        holder_name: (status != Status::Withdrawn).then(|| row.holder_name.clone()),
        profile: row.target_group.clone(),
        profile_label: target_group_label(&row.target_group),
        level: row.level,
        result_percent: row.share,
        issued_at: credential::rfc3339(row.issued_at),
        revoked_at: row.revoked_at.map(credential::rfc3339),
        revoke_reason: row.revoke_reason.clone(),
        key_id: row.kid.clone(),
        verify_url: verify_url(state, &row.id),
    })
}

pub fn verify_url(state: &AppState, id: &str) -> String {
    format!("{}/verify/{id}", state.config.public_url.as_str().trim_end_matches('/'))
}

#[derive(Deserialize)]
pub struct ShareQuery {
    chia_se: Option<String>,
}

/// The holder, or whoever has the holder's share link, may have the full credential.
fn may_see_all(ctx: &Ctx, row: &Row, token: Option<&str>) -> bool {
    if row.withdrawn_at.is_some() {
        return false;
    }
    let holder = ctx.user.as_ref().is_some_and(|u| u.id() == row.account_id);
    let shared = match (token, &row.share_token_hash) {
        (Some(t), Some(hash)) => {
            use subtle::ConstantTimeEq;
            bool::from(token_hash(t).ct_eq(hash))
        }
        _ => false,
    };
    holder || shared
}

#[derive(Template)]
#[template(path = "certificates/verify.html")]
struct VerifyPage {
    nav: Nav,
    s: Summary,
    issued_on: String,
    revoked_on: Option<String>,
    holder: bool,
    full: bool,
    token: Option<String>,
    new_link: Option<String>,
}

pub(crate) fn not_found() -> AppError {
    AppError::not_found(
        "certificate_not_found",
        "Không có chứng nhận với mã này. Hãy kiểm tra lại đường dẫn hoặc mã QR. \
         / No certificate has this id.",
    )
}

/// `GET /verify/{id}`
pub async fn verify_page(
    State(state): State<AppState>,
    _: Throttled,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShareQuery>,
) -> Result<Html<String>, PageError> {
    let row = load(&state, &id).await?.ok_or_else(not_found)?;
    let s = summary(&state, &row).await?;
    let full = may_see_all(&ctx, &row, q.chia_se.as_deref());
    let page = VerifyPage {
        nav: ctx.nav(),
        issued_on: date_vi(row.issued_at),
        revoked_on: row.revoked_at.map(date_vi),
        holder: ctx.user.as_ref().is_some_and(|u| u.id() == row.account_id) && row.withdrawn_at.is_none(),
        full,
        token: q.chia_se.filter(|_| full),
        new_link: None,
        s,
    };
    Ok(Html(render(&page)?))
}

/// `GET /api/v1/certificates/{id}`: the public summary; with the holder's session or share link,
/// also the signed credential.
#[utoipa::path(get, path = "/api/v1/certificates/{id}", tag = "certificates",
    params(
        ("id" = String, Path, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "The certificate id (a UUID), as in its QR code; anything else is not found"),
        ("chia_se" = Option<String>, Query, description = "The holder's share token: adds `credential`, the signed Open Badges 3.0 credential"),
    ),
    responses(
        (status = 200, body = Summary, description = "The public summary; `credential` too for the holder or with the share token"),
        (status = 404, body = crate::web::error::ErrorBody, description = "certificate_not_found"),
        (status = 400, body = crate::web::error::ErrorBody, description = "invalid_path, invalid_query"),
        (status = 429, body = crate::web::error::ErrorBody, description = "rate_limited: too many lookups from this address; see `Retry-After`"),
        (status = 503, body = crate::web::error::ErrorBody, description = "database_unavailable"),
    ))]
pub async fn api(
    State(state): State<AppState>,
    _: Throttled,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShareQuery>,
) -> Result<Response, AppError> {
    let row = load(&state, &id).await?.ok_or_else(not_found)?;
    let s = summary(&state, &row).await?;
    let mut body = serde_json::to_value(&s).expect("a summary serialises");
    if may_see_all(&ctx, &row, q.chia_se.as_deref()) {
        let stored = serde_json::from_str(&row.credential).unwrap_or_default();
        body["credential"] = credential::with_proof_set(stored);
    }
    Ok(Json(body).into_response())
}

/// `GET /chung-nhan/{id}/pdf`: for the holder or with the share link.
pub async fn pdf(
    State(state): State<AppState>,
    _: Throttled,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShareQuery>,
) -> Result<Response, PageError> {
    let row = load(&state, &id).await?.ok_or_else(not_found)?;
    if !may_see_all(&ctx, &row, q.chia_se.as_deref()) {
        return Err(AppError::hidden().into());
    }
    let signed: serde_json::Value = serde_json::from_str(&row.credential).unwrap_or_default();
    let competences: Vec<(String, String, u32)> = signed["credentialSubject"]["achievement"]["alignment"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|al| {
                    let code = al["targetCode"].as_str()?;
                    let name = al["targetName"].as_str()?.trim_start_matches(code).trim();
                    let percent = signed["credentialSubject"]["result"]
                        .as_array()?
                        .iter()
                        .find(|r| {
                            r["resultDescription"].as_str().is_some_and(|d| d.ends_with(&format!("#nang-luc-{code}")))
                        })
                        .and_then(|r| r["value"].as_str()?.parse().ok())?;
                    Some((code.to_owned(), name.to_owned(), percent))
                })
                .collect()
        })
        .unwrap_or_default();
    let url = verify_url(&state, &row.id);
    let issued_on = date_vi(row.issued_at);
    let (holder, group, kid, cert_id) =
        (row.holder_name.clone(), row.target_group.clone(), row.kid.clone(), row.id.clone());
    let (level, share) = (u8::try_from(row.level).unwrap_or(0), u32::try_from(row.share).unwrap_or(0));
    // Typesetting takes tens of milliseconds of CPU: off the async workers.
    let bytes = tokio::task::spawn_blocking(move || {
        pdf::render(&pdf::PdfCertificate {
            holder_name: &holder,
            title: "Chứng nhận đạt chuẩn kỹ năng số cơ bản",
            profile: target_group_label(&group),
            level,
            share_percent: share,
            competences: &competences,
            issued_on: &issued_on,
            issuer: "Ủy ban nhân dân tỉnh Phú Thọ — Phong trào Bình dân học vụ số",
            certificate_id: &cert_id,
            verify_url: &url,
            key_id: &kid,
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"chung-nhan-{}.pdf\"", row.id)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /chung-nhan/{id}/chia-se`: a new share link (the old one stops working).
pub async fn share(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let user = ctx.user()?;
    let row = load(&state, &id).await?.ok_or_else(not_found)?;
    if row.account_id != user.id() || row.withdrawn_at.is_some() {
        return Err(AppError::hidden().into());
    }
    let token = random_token();
    on_pool!(&state.store, pool => sqlx::query("UPDATE certificate SET share_token_hash = $1 WHERE id = $2")
        .bind(token_hash(&token)).bind(&row.id).execute(pool).await?.rows_affected());
    let s = summary(&state, &row).await?;
    let page = VerifyPage {
        nav: ctx.nav(),
        issued_on: date_vi(row.issued_at),
        revoked_on: row.revoked_at.map(date_vi),
        holder: true,
        full: true,
        token: None,
        new_link: Some(format!("{}?chia_se={token}", verify_url(&state, &row.id))),
        s,
    };
    Ok(Html(render(&page)?))
}

/// `GET /.well-known/did.json`: the issuer's keys, every one ever used, by key id.
pub async fn did_document(State(state): State<AppState>) -> Result<Response, AppError> {
    let did = credential::issuer_did(&state.config.public_url);
    let published = keys::published(&state.store).await?;
    let methods: Vec<serde_json::Value> = published
        .iter()
        .filter_map(|k| {
            let key = k.verifying()?;
            Some(json!({
                "id": credential::method_id(&did, &k.kid),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": keys::multibase(&key),
            }))
        })
        .collect();
    let ids: Vec<&serde_json::Value> = methods.iter().map(|m| &m["id"]).collect();
    let document = json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    });
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(document)).into_response())
}

/// `GET /api/v1/certificates/{id}/credential`: the bare signed credential as `application/vc`, for
/// a wallet or verifier; for the holder or with the holder's share link, as the PDF is. A
/// credential stored with a single proof object is served with it as a proof set (same signature).
#[utoipa::path(get, path = "/api/v1/certificates/{id}/credential", tag = "certificates",
    params(
        ("id" = String, Path, description = "The certificate id (a UUID), as in its QR code"),
        ("chia_se" = Option<String>, Query, description = "The holder's share token (not needed with the holder's session)"),
    ),
    responses(
        (status = 200, content_type = "application/vc", body = serde_json::Value,
         description = "The Open Badges 3.0 AchievementCredential (W3C VC 2.0), secured with an eddsa-jcs-2022 Data Integrity proof set"),
        (status = 403, body = crate::web::error::ErrorBody, description = "credential_not_shared: neither the holder's session nor a valid share token"),
        (status = 404, body = crate::web::error::ErrorBody, description = "certificate_not_found"),
        (status = 429, body = crate::web::error::ErrorBody, description = "rate_limited: too many lookups from this address; see `Retry-After`"),
    ))]
pub async fn bare_credential(
    State(state): State<AppState>,
    _: Throttled,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShareQuery>,
) -> Result<Response, AppError> {
    let row = load(&state, &id).await?.ok_or_else(not_found)?;
    if !may_see_all(&ctx, &row, q.chia_se.as_deref()) {
        return Err(AppError::Forbidden {
            code: "credential_not_shared",
            message: "Chỉ người được cấp, hoặc người có đường dẫn chia sẻ của họ, lấy được bản ký số. \
                      / Only the holder, or whoever has their share link, may fetch the credential."
                .into(),
        });
    }
    let stored: serde_json::Value = serde_json::from_str(&row.credential).map_err(anyhow::Error::from)?;
    let body = serde_json::to_vec(&credential::with_proof_set(stored)).expect("a credential serialises");
    Ok(([(header::CONTENT_TYPE, credential::MEDIA_TYPE), (header::CACHE_CONTROL, "private, no-store")], body)
        .into_response())
}

#[derive(Template)]
#[template(path = "certificates/achievement.html")]
struct AchievementPage {
    nav: Nav,
    label: &'static str,
    version: String,
    min_level: u8,
    pass_percent: String,
    min_percent: String,
    /// Code, name, required by the profile.
    competences: Vec<(String, String, bool)>,
}

/// `GET /chung-nhan/chuan/{group}`: what a certificate of a target group attests (`achievement.id`
/// of its credential), with the anchors its result descriptions name (`#ket-qua`, `#bac`,
/// `#nang-luc-{code}`).
pub async fn achievement(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(group): Path<String>,
) -> Result<Html<String>, PageError> {
    let snapshot = state.catalog.snapshot(&state.store).await?;
    let framework = &snapshot.framework;
    let profile = framework.profiles.iter().find(|p| p.target_group == group).cloned().ok_or_else(|| {
        AppError::not_found("achievement_not_found", "Không có chuẩn cho đối tượng này. / No such achievement.")
    })?;
    let competences = framework
        .competences()
        .map(|c| (c.code.clone(), c.name_vi.clone(), profile.required.contains(&c.code)))
        .collect();
    let page = AchievementPage {
        nav: ctx.nav(),
        label: target_group_label(&group),
        version: framework.version.clone(),
        min_level: profile.min_level,
        pass_percent: format!("{:.0}", profile.pass_share * 100.0),
        min_percent: format!("{:.0}", profile.min_share_per_competence * 100.0),
        competences,
    };
    Ok(Html(render(&page)?))
}

/// The badge: a plain SVG of shapes and text, the same for every certificate.
const BADGE_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256" role="img" aria-label="Bình dân học vụ số">
<circle cx="128" cy="128" r="120" fill="#b71c1c"/>
<circle cx="128" cy="128" r="100" fill="#fff8e1"/>
<polygon points="128,44 148,104 212,104 160,140 180,200 128,164 76,200 96,140 44,104 108,104" fill="#f9a825"/>
<text x="128" y="232" font-family="sans-serif" font-size="20" font-weight="bold" fill="#ffffff" text-anchor="middle">KỸ NĂNG SỐ</text>
</svg>
"##;

/// `GET /chung-nhan/huy-hieu.svg`: the image of every credential and achievement.
pub async fn badge() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::CONTENT_SECURITY_POLICY, "sandbox"),
        ],
        BADGE_SVG,
    )
        .into_response()
}
