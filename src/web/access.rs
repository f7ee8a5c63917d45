//! Who may reach a route: the declaration every route carries, the request context handlers read,
//! and the guard that enforces both, including CSRF on every state-changing request.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::crypto::{random_token, same_secret};
use crate::domain::role::{Grant, Place, Role};
use crate::on_pool;
use crate::web::cookies;
use crate::web::error::{AppError, PageError};
use crate::web::scope::UnitScope;
use crate::web::session::{self, AccountRow};

/// The version of the privacy notice a person accepts; a new version asks everyone again.
pub const PRIVACY_NOTICE_VERSION: &str = "2026-11-01";

/// Checks the credentials of outside software calling a route declared [`Access::Client`], and on
/// success gives the request back carrying who it is (as an extension its handlers read). The
/// capability that owns such routes provides it, so the guard enforces it without naming it.
pub type ClientCheck = fn(AppState, Request) -> futures::future::BoxFuture<'static, Result<Request, Response>>;

#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account that has accepted the privacy notice and set its own password.
    SignedIn,
    /// Any signed-in account, even before consent or a required password change (those pages, logout).
    SignedInSetup,
    /// One of the roles, held over the resource the route names.
    Roles { roles: &'static [Role], scope: Scope },
    /// Outside software with credentials of its own (the learning record store's xAPI clients,
    /// with HTTP basic credentials), checked by the given function; no cookies are read, so no CSRF
    /// token is needed.
    Client(ClientCheck),
}

/// Which resource a role must be held over.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// The role held anywhere; the handler filters what it shows by the grants.
    Anywhere,
    /// The role held over the whole province.
    Province,
    /// The path parameter of that name is a unit code.
    Unit(&'static str),
    /// The path parameter of that name is a person's id.
    Person(&'static str),
    /// The path parameter of that name is an account id.
    Account(&'static str),
    /// The path parameter of that name is an erasure request's id.
    ErasureRequest(&'static str),
}

impl Access {
    pub const fn roles(roles: &'static [Role], scope: Scope) -> Self {
        Self::Roles { roles, scope }
    }
}

/// The signed-in account, with its grants.
#[derive(Debug)]
pub struct Principal {
    pub account: AccountRow,
    pub grants: Vec<Grant>,
    pub session_token: String,
    pub consented: bool,
}

impl Principal {
    pub fn id(&self) -> &str {
        &self.account.id
    }

    pub fn holds(&self, roles: &[Role]) -> impl Iterator<Item = &Grant> {
        self.grants.iter().filter(move |g| roles.contains(&g.role))
    }

    pub fn is_staff(&self) -> bool {
        self.grants.iter().any(|g| g.role.is_staff())
    }

    /// What the account's grants of these roles cover.
    pub fn scope(&self, roles: &[Role]) -> UnitScope {
        UnitScope::of_grants(self.holds(roles))
    }

    pub fn covers(&self, roles: &[Role], place: &Place) -> bool {
        self.scope(roles).covers(place)
    }

    pub fn name(&self) -> &str {
        self.account.display_name.as_deref().or(self.account.login.as_deref()).unwrap_or("Học viên")
    }
}

/// What every handler may know about the request: who, from where, and the CSRF token for its forms.
#[derive(Clone)]
pub struct Ctx {
    pub user: Option<Arc<Principal>>,
    pub csrf: String,
    /// The client's address (through trusted proxies, see `web::client_ip`), as text for the records.
    pub address: Option<String>,
    pub ip: Option<IpAddr>,
    pub secure: bool,
    pub large_text: bool,
}

impl Ctx {
    pub fn user(&self) -> Result<&Principal, AppError> {
        self.user.as_deref().ok_or(AppError::Unauthorized)
    }

    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    pub fn nav(&self) -> Nav {
        Nav {
            name: self.user.as_ref().map(|u| u.name().to_owned()),
            staff: self.user.as_ref().is_some_and(|u| u.is_staff()),
            csrf: self.csrf.clone(),
            large_text: self.large_text,
        }
    }
}

/// What the page layout shows: who is signed in, and the token for the logout form.
#[derive(Clone, Debug, Default)]
pub struct Nav {
    pub name: Option<String>,
    pub staff: bool,
    pub csrf: String,
    /// The reader chose larger text (a cookie, so it works without JavaScript and without an account).
    pub large_text: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| AppError::Internal(anyhow::anyhow!("route without guard")))
    }
}

/// A staff request on a route declared with roles: who, and what the route's roles let them see. The
/// guard makes it, so a handler that takes it cannot be reached without the declaration, and every
/// list it shows goes through `scope`.
#[derive(Clone)]
pub struct Staff {
    pub user: Arc<Principal>,
    /// For a route naming a unit, that unit; otherwise all the units the route's roles are held over.
    pub scope: UnitScope,
}

impl Staff {
    pub fn id(&self) -> &str {
        self.user.id()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Staff>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a staff handler on a route declared without roles")))
    }
}

/// Enforces a route's declaration before its handler runs.
pub async fn guard(State((state, access)): State<(AppState, Access)>, req: Request, next: Next) -> Response {
    match guarded(&state, access, req, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn guarded(state: &AppState, access: Access, req: Request, next: Next) -> Result<Response, Response> {
    if let Access::Client(check) = access {
        let req = check(state.clone(), req).await?;
        return Ok(next.run(req).await);
    }
    let (mut parts, body) = req.into_parts();
    let is_page = !parts.uri.path().starts_with("/api/");
    let fail = |e: AppError| if is_page { PageError(e).into_response() } else { e.into_response() };
    let jar = cookies::Jar::from_headers(&parts.headers);
    let ip = crate::web::client_ip::of_parts(&parts, &state.config.trusted_proxies);
    let address = ip.map(|ip| ip.to_string());
    let user = match jar.get(cookies::SESSION) {
        Some(token) => load_principal(state, token).await.map_err(fail)?.map(Arc::new),
        None => None,
    };
    let (seed, new_pre_session) = match (&user, jar.get(cookies::PRE_SESSION)) {
        (Some(user), _) => (user.session_token.clone(), None),
        (None, Some(pre)) if pre.len() == 64 => (pre.to_owned(), None),
        _ => {
            let pre = random_token();
            (pre.clone(), Some(pre))
        }
    };
    let csrf = state.keys.csrf_token(&seed);
    let here = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();

    let scope = match authorize(state, access, user.as_deref(), &mut parts).await {
        Ok(scope) => scope,
        Err(e) => {
            return Err(match e {
                AppError::Unauthorized if is_page => {
                    Redirect::to(&format!("/dang-nhap?tiep={}", encode(&here))).into_response()
                }
                other => fail(other),
            });
        }
    };
    if let (Some(user), Access::SignedIn | Access::Roles { .. }) = (&user, access) {
        if user.account.must_change_password {
            return Err(Redirect::to("/tai-khoan/mat-khau").into_response());
        }
        if !user.consented {
            return Err(Redirect::to(&format!("/dong-y?tiep={}", encode(&here))).into_response());
        }
    }
    let mut req = Request::from_parts(parts, body);
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        req = check_csrf(req, &csrf).await.map_err(fail)?;
    }
    let secure = state.config.public_url.scheme() == "https";
    let large_text = jar.get(cookies::TEXT_SIZE) == Some("lon");
    if let (Some(user), Some(scope)) = (&user, scope) {
        req.extensions_mut().insert(Staff { user: user.clone(), scope });
    }
    req.extensions_mut().insert(Ctx { user, csrf, address, ip, secure, large_text });
    let mut response = next.run(req).await;
    if let Some(pre) = new_pre_session {
        cookies::set(response.headers_mut(), cookies::PRE_SESSION, &pre, None, secure);
    }
    Ok(response)
}

/// The key and secret of an `Authorization: Basic` header.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (key, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((key.to_owned(), secret.to_owned()))
}

async fn load_principal(state: &AppState, token: &str) -> Result<Option<Principal>, AppError> {
    let found = session::session_principal(&state.store, token, PRIVACY_NOTICE_VERSION).await?;
    Ok(found.map(|(account, grants, consented)| Principal {
        account,
        grants,
        session_token: token.to_owned(),
        consented,
    }))
}

/// Checks the declaration; for a route declared with roles, gives the scope its handler works in.
async fn authorize(
    state: &AppState,
    access: Access,
    user: Option<&Principal>,
    parts: &mut Parts,
) -> Result<Option<UnitScope>, AppError> {
    let (roles, scope) = match access {
        Access::Public => return Ok(None),
        Access::SignedIn | Access::SignedInSetup => return user.map(|_| None).ok_or(AppError::Unauthorized),
        Access::Roles { roles, scope } => (roles, scope),
        Access::Client(_) => return Err(AppError::Unauthorized),
    };
    let user = user.ok_or(AppError::Unauthorized)?;
    let held = user.scope(roles);
    if user.holds(roles).next().is_none() {
        return Err(AppError::forbidden());
    }
    let place = match scope {
        Scope::Anywhere => return Ok(Some(held)),
        Scope::Province => return if held.is_province() { Ok(Some(held)) } else { Err(AppError::forbidden()) },
        Scope::Unit(name) => {
            let unit = path_param(parts, name).await?;
            // Out of scope looks the same as absent: a commune officer learns nothing of other communes.
            return if held.covers_unit(&unit) {
                Ok(Some(held.within(&UnitScope::unit(&unit))))
            } else {
                Err(AppError::hidden())
            };
        }
        Scope::Person(name) => place_of(state, PERSON_PLACE, numeric(path_param(parts, name).await?)?).await?,
        Scope::Account(name) => place_of(state, ACCOUNT_PLACE, Key::Text(path_param(parts, name).await?)).await?,
        Scope::ErasureRequest(name) => place_of(state, ERASURE_PLACE, numeric(path_param(parts, name).await?)?).await?,
    };
    if held.covers(&place) { Ok(Some(held)) } else { Err(AppError::hidden()) }
}

async fn path_param(parts: &mut Parts, name: &str) -> Result<String, AppError> {
    let raw = RawPathParams::from_request_parts(parts, &()).await.map_err(|_| AppError::hidden())?;
    raw.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_owned()).ok_or_else(AppError::hidden)
}

const PERSON_PLACE: &str = "SELECT village_code, organisation_code FROM person WHERE id = $1";
/// An account sits where its person lives, or where it said it lives, or where its own grants are.
const ACCOUNT_PLACE: &str = "SELECT coalesce(p.village_code, a.home_commune, \
     (SELECT min(g.unit_code) FROM role_grant g WHERE g.account_id = a.id)), p.organisation_code \
     FROM account a LEFT JOIN person p ON p.id = a.person_id WHERE a.id = $1";
const ERASURE_PLACE: &str = "SELECT commune_code, CAST(NULL AS TEXT) FROM erasure_request WHERE id = $1";

/// The key a resource is named by in its path: a number for people and requests, text for accounts.
enum Key {
    Id(i64),
    Text(String),
}

async fn place_of(state: &AppState, sql: &'static str, key: Key) -> Result<Place, AppError> {
    let row: Option<(Option<String>, Option<String>)> = on_pool!(&state.store, pool => {
        let query = sqlx::query_as(sql);
        let query = match &key {
            Key::Id(id) => query.bind(*id),
            Key::Text(text) => query.bind(text.as_str()),
        };
        query.fetch_optional(pool).await
    })?;
    let (unit_code, organisation_code) = row.ok_or_else(AppError::hidden)?;
    Ok(Place { unit_code, organisation_code })
}

fn numeric(raw: String) -> Result<Key, AppError> {
    raw.parse().map(Key::Id).map_err(|_| AppError::hidden())
}

/// Under `/api/`, requires a JSON body instead (see below). Elsewhere reads the token from the `x-csrf-token` header, the `csrf` query parameter, or the `csrf` field of a
/// URL-encoded form, and gives the request back with its body intact.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, AppError> {
    // A JSON API call: a page of another site cannot send `application/json` without the browser
    // asking this server first (CORS, which it does not allow), so the content type is the guard.
    if req.uri().path().starts_with("/api/") {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        return if json {
            Ok(req)
        } else {
            Err(AppError::Status {
                status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message: "Gửi nội dung JSON với Content-Type: application/json. / Send JSON with Content-Type: \
                          application/json."
                    .into(),
            })
        };
    }
    let from_header = header_token(req.headers());
    let from_query = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned())
    });
    if let Some(token) = from_header.or(from_query) {
        return if same_secret(&token, expected) { Ok(req) } else { Err(AppError::csrf()) };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::csrf());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::web::BODY_LIMIT)
        .await
        .map_err(|_| AppError::bad_request("body_too_large", "Biểu mẫu quá lớn. / The form is too large."))?;
    let token = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
    match token {
        Some(token) if same_secret(&token, expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(AppError::csrf()),
    }
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

pub fn encode(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}
