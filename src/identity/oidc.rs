//! Login through VNeID as an OpenID Connect relying party: authorization code flow with PKCE, state
//! and nonce; the ID token's signature, issuer, audience, expiry and nonce are checked by the
//! `openidconnect` crate. Provider metadata and keys are cached and fetched again when a token
//! names a key the cache does not hold (key rotation).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::app::AppState;
use crate::config::OidcConfig;
use crate::crypto::{Keys, same_secret, token_hash};
use crate::domain::cccd::CitizenId;
use crate::domain::role::{Grant, Role};
use crate::domain::time::now;
use crate::identity::accounts::{self, NewAccount};
use crate::on_pool;
use crate::web::access::Ctx;
use crate::web::cookies;
use crate::web::error::{AppError, PageError};
use crate::web::extract::Query;

/// A login started at VNeID must come back within this time.
const LOGIN_SECONDS: i64 = 600;
/// Provider metadata and keys are fetched again after this long even without a rotation.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// Every claim the ID token carries beyond the standard ones; the citizen number's name is configured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExtraClaims(HashMap<String, serde_json::Value>);
impl AdditionalClaims for ExtraClaims {}

type Fields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponse = StandardTokenResponse<Fields, CoreTokenType>;
type Client = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct Vneid {
    config: OidcConfig,
    http: openidconnect::reqwest::Client,
    metadata: RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

impl Vneid {
    pub fn new(config: OidcConfig) -> anyhow::Result<Self> {
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects from the provider's endpoints would open a door to SSRF.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Self { config, http, metadata: RwLock::new(None) })
    }

    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, AppError> {
        if !refresh
            && let Some((metadata, at)) = self.metadata.read().await.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| AppError::Internal(e.into()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| {
            tracing::warn!(error = %e, "VNeID discovery failed");
            refused(
                "oidc_unavailable",
                "Không liên lạc được với VNeID, xin thử lại sau. / VNeID does not answer; try again later.",
            )
        })?;
        *self.metadata.write().await = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Client {
        Client::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::from_url(self.config.redirect_url.clone()))
    }
}

fn refused(code: &'static str, message: &str) -> AppError {
    AppError::bad_request(code, format!("Không thể đăng nhập bằng VNeID. {message}"))
}

fn vneid(state: &AppState) -> Result<&Vneid, AppError> {
    state.vneid.as_deref().ok_or_else(|| {
        AppError::not_found(
            "oidc_not_configured",
            "Máy chủ này chưa cấu hình đăng nhập VNeID. / VNeID login is not configured here.",
        )
    })
}

#[derive(Deserialize)]
pub struct StartQuery {
    tiep: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StartQuery>,
) -> Result<Response, PageError> {
    let vneid = vneid(&state)?;
    let client = vneid.client(vneid.metadata(false).await?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        // Phones are shared here (a family's one phone, a community class, a one-stop desk): after
        // one person logs out, the next one's VNeID login must not ride on the first one's session
        // at the provider.
        .add_prompt(CoreAuthPrompt::Login);
    for scope in vneid.config.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf_state, nonce) = request.url();
    let at = now();
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        // Logins abandoned at VNeID are cleared as new ones start.
        sqlx::query("DELETE FROM oidc_login WHERE created_at < $1")
            .bind(at - LOGIN_SECONDS).execute(&mut *tx).await.map_err(AppError::from)?;
        sqlx::query(
            "INSERT INTO oidc_login (state_hash, nonce, pkce_verifier, next_path, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(csrf_state.secret()))
        .bind(nonce.secret())
        .bind(verifier.secret())
        .bind(crate::web::redirect::safe_next(q.tiep.as_deref(), &state.config.public_url))
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    let mut response = Redirect::to(url.as_str()).into_response();
    cookies::set(response.headers_mut(), cookies::OIDC_STATE, csrf_state.secret(), Some(LOGIN_SECONDS), ctx.secure);
    Ok(response)
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// What a verified ID token tells about the person.
struct Identity {
    subject_hash: Vec<u8>,
    cccd: CitizenId,
    level: u8,
    name: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let vneid = vneid(&state)?;
    if q.error.is_some() {
        return Err(refused(
            "oidc_denied",
            "Bạn đã hủy đăng nhập hoặc VNeID từ chối. / The login was cancelled or refused.",
        )
        .into());
    }
    let (Some(code), Some(returned_state)) = (q.code, q.state) else {
        return Err(refused("oidc_bad_callback", "Thiếu mã đăng nhập. / The callback lacks its code.").into());
    };
    let jar = cookies::Jar::from_headers(&headers);
    // The state must be the one this browser was given: a login started elsewhere is refused.
    if !jar.get(cookies::OIDC_STATE).is_some_and(|c| same_secret(c, &returned_state)) {
        return Err(refused(
            "oidc_state_mismatch",
            "Phiên đăng nhập không khớp; xin bắt đầu lại. / The login state does not match; start again.",
        )
        .into());
    }
    // Consumed here: a replayed callback finds nothing.
    let pending: Option<(String, String, String, i64)> = on_pool!(&state.store, pool => sqlx::query_as(
        "DELETE FROM oidc_login WHERE state_hash = $1 RETURNING nonce, pkce_verifier, next_path, created_at",
    ).bind(token_hash(&returned_state)).fetch_optional(pool).await)
    .map_err(AppError::from)?;
    let Some((nonce, verifier, next, _)) = pending.filter(|(_, _, _, created_at)| now() - created_at <= LOGIN_SECONDS)
    else {
        return Err(refused("oidc_state_unknown", "Phiên đăng nhập đã dùng hoặc đã hết hạn; xin bắt đầu lại. / This login was already used or expired; start again.").into());
    };
    let identity = verify(vneid, &state.keys, code, verifier, nonce).await?;
    if identity.level < vneid.config.required_level {
        return Err(refused(
            "oidc_level_too_low",
            &format!(
                "Cần tài khoản định danh điện tử mức {}; tài khoản của bạn ở mức {}. / Identity level {} is required.",
                vneid.config.required_level, identity.level, vneid.config.required_level
            ),
        )
        .into());
    }
    let account_id = link_account(&state, &identity).await?;
    crate::tracking::entry::vneid_login(&state.store, &account_id, i16::from(identity.level)).await?;
    let mut response = crate::identity::local::start_session(&state, &ctx, &account_id, "vneid", None, &next).await?;
    cookies::remove(response.headers_mut(), cookies::OIDC_STATE, ctx.secure);
    Ok(response)
}

async fn verify(
    vneid: &Vneid,
    keys: &Keys,
    code: String,
    verifier: String,
    nonce: String,
) -> Result<Identity, AppError> {
    let client = vneid.client(vneid.metadata(false).await?);
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| AppError::Internal(e.into()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&vneid.http)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "VNeID code exchange refused");
            refused(
                "oidc_exchange_failed",
                "VNeID không chấp nhận mã đăng nhập (có thể đã dùng rồi). / VNeID refused the code.",
            )
        })?;
    let id_token = token
        .extra_fields()
        .id_token()
        .ok_or_else(|| refused("oidc_no_id_token", "VNeID không gửi thẻ định danh. / No ID token."))?;
    let nonce = Nonce::new(nonce);
    let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
            // The provider may have rotated its keys since they were cached.
            let fresh = vneid.client(vneid.metadata(true).await?);
            id_token.claims(&fresh.id_token_verifier(), &nonce).cloned()
        }
        other => other.cloned(),
    }
    .map_err(|e| {
        tracing::warn!(error = %e, "VNeID ID token refused");
        refused("oidc_id_token_invalid", "Thẻ định danh từ VNeID không hợp lệ. / The ID token is not valid.")
    })?;
    let extra = &claims.additional_claims().0;
    let claim_text = |name: &str| match extra.get(name) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let cccd = claim_text(&vneid.config.cccd_claim).and_then(|raw| CitizenId::parse(&raw).ok()).ok_or_else(|| {
        refused("oidc_no_cccd", "VNeID không cho biết số định danh cá nhân hợp lệ. / No valid citizen number.")
    })?;
    let level_raw = if vneid.config.level_claim == "acr" {
        claims.auth_context_ref().map(|acr| acr.as_str().to_owned())
    } else {
        claim_text(&vneid.config.level_claim)
    };
    // Levels come as "2", "level2" or a URN ending in the digit.
    let level = level_raw.and_then(|raw| raw.chars().last()?.to_digit(10)).unwrap_or(0) as u8;
    let name = claims.name().and_then(|n| n.get(None)).map(|n| crate::domain::text::clean(n.as_str()));
    let subject_hash = keys.subject_hash(claims.issuer().as_str(), claims.subject().as_str());
    Ok(Identity { subject_hash, cccd, level, name })
}

/// The account of this identity: already linked, or the registry's person with that citizen number,
/// or a new self-registered learner whom a commune officer will confirm.
async fn link_account(state: &AppState, identity: &Identity) -> Result<String, AppError> {
    let store = &state.store;
    let level = i16::from(identity.level);
    if let Some(account) = accounts::by_subject(store, &identity.subject_hash).await? {
        set_level(state, &account.id, level).await?;
        return Ok(account.id);
    }
    let cccd_hash = state.keys.citizen.hash(&identity.cccd);
    let person: Option<(i64, String)> = on_pool!(store, pool => sqlx::query_as(
        "SELECT id, village_code FROM person WHERE cccd_hash = $1",
    ).bind(&cccd_hash).fetch_optional(pool).await)?;
    let existing = match &person {
        Some((person_id, _)) => accounts::by_person(store, *person_id).await?,
        None => accounts::by_cccd(store, &cccd_hash).await?,
    };
    if let Some(account) = existing.filter(|a| a.erased_at.is_none()) {
        on_pool!(store, pool => sqlx::query(
            "UPDATE account SET oidc_subject_hash = $1, identity_level = $2 WHERE id = $3",
        ).bind(&identity.subject_hash).bind(level).bind(&account.id).execute(pool).await.map(|r| r.rows_affected()))?;
        return Ok(account.id);
    }
    let new = match person {
        Some((person_id, village)) => NewAccount {
            person_id: Some(person_id),
            oidc_subject_hash: Some(identity.subject_hash.clone()),
            identity_level: Some(level),
            grants: vec![Grant { role: Role::HocVien, unit_code: village, organisation_code: None }],
            ..Default::default()
        },
        None => NewAccount {
            oidc_subject_hash: Some(identity.subject_hash.clone()),
            cccd_hash: Some(cccd_hash),
            cccd_enc: Some(state.keys.citizen.encrypt(&identity.cccd)),
            display_name: identity.name.clone(),
            identity_level: Some(level),
            self_registered: true,
            ..Default::default()
        },
    };
    Ok(accounts::create(store, new).await?)
}

async fn set_level(state: &AppState, account_id: &str, level: i16) -> Result<(), AppError> {
    on_pool!(&state.store, pool => sqlx::query("UPDATE account SET identity_level = $1 WHERE id = $2")
        .bind(level).bind(account_id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}
