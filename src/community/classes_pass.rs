//! The attendance pass: a short signed token a learner shows as a QR code on their account page, and
//! staff scan at a class or an event. It names the person by internal id only (never the citizen
//! number) and expires after [`PASS_LIFETIME`]. Staff may instead type the citizen number, found
//! through its keyed hash. Both give a [`Learner`], refused with a clear message when the pass has
//! expired, nobody matches, or the person lives outside the unit of the class or event.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use base64::Engine;

use crate::app::AppState;
use crate::domain::cccd::CitizenId;
use crate::domain::time::{now, time_vi};
use crate::on_pool;
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::pages::{Nav, render};
use crate::web::scope::UnitScope;

/// How long a pass shown on a phone stays valid.
pub const PASS_LIFETIME: i64 = 15 * 60;
const PREFIX: &str = "HV1.";
const BODY_LEN: usize = 16;
const TAG_LEN: usize = 16;

/// A person found by a pass or a citizen number.
#[derive(Clone, Debug)]
pub struct Learner {
    pub id: i64,
    pub name: String,
    pub commune: String,
    pub village: String,
}

/// The pass of a person, valid until `expires` (Unix seconds).
pub fn issue(state: &AppState, person: i64, expires: i64) -> String {
    let mut body = [0u8; BODY_LEN];
    body[..8].copy_from_slice(&person.to_be_bytes());
    body[8..].copy_from_slice(&expires.to_be_bytes());
    let tag = state.keys.pass_tag(&body);
    let mut raw = Vec::with_capacity(BODY_LEN + TAG_LEN);
    raw.extend_from_slice(&body);
    raw.extend_from_slice(&tag);
    format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// The person a pass names, if its tag is right and it has not expired at `at`.
pub fn open(state: &AppState, token: &str, at: i64) -> Result<i64, AppError> {
    let invalid = || {
        AppError::bad_request(
            "invalid_pass",
            "Mã QR không hợp lệ: hãy quét lại mã trên trang tài khoản của người học. / The QR code is not valid.",
        )
    };
    let encoded = token.trim().strip_prefix(PREFIX).ok_or_else(invalid)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).map_err(|_| invalid())?;
    if raw.len() != BODY_LEN + TAG_LEN {
        return Err(invalid());
    }
    let (body, tag) = raw.split_at(BODY_LEN);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&state.keys.pass_tag(body)[..], tag)) {
        return Err(invalid());
    }
    let person = i64::from_be_bytes(body[..8].try_into().map_err(|_| invalid())?);
    let expires = i64::from_be_bytes(body[8..].try_into().map_err(|_| invalid())?);
    if expires < at {
        return Err(AppError::bad_request(
            "expired_pass",
            "Mã QR đã hết hạn. Người học hãy mở lại trang “Mã điểm danh” để lấy mã mới, hoặc nhập số CCCD. \
             / The QR code has expired.",
        ));
    }
    Ok(person)
}

fn unknown() -> AppError {
    AppError::not_found(
        "unknown_person",
        "Không tìm thấy người này trong sổ đăng ký dân cư của nền tảng. / No such person in the registry.",
    )
}

type Row = (i64, Option<String>, String, String);
const BY_ID: &str = "SELECT id, full_name, commune_code, village_code FROM person WHERE id = $1 AND erased_at IS NULL";
const BY_HASH: &str =
    "SELECT id, full_name, commune_code, village_code FROM person WHERE cccd_hash = $1 AND erased_at IS NULL";

fn learner(row: Option<Row>) -> Result<Learner, AppError> {
    let (id, name, commune, village) = row.ok_or_else(unknown)?;
    Ok(Learner { id, name: name.unwrap_or_default(), commune, village })
}

pub async fn by_id(state: &AppState, person: i64) -> Result<Learner, AppError> {
    let row: Option<Row> =
        on_pool!(&state.store, pool => sqlx::query_as(BY_ID).bind(person).fetch_optional(pool).await)?;
    learner(row)
}

pub async fn by_citizen_number(state: &AppState, raw: &str) -> Result<Learner, AppError> {
    let id = CitizenId::parse(raw.trim()).map_err(|_| {
        AppError::bad_request(
            "invalid_cccd",
            "Số CCCD phải gồm 12 chữ số, đúng mã tỉnh. / A citizen number has 12 digits with a province code.",
        )
    })?;
    let hash = state.keys.citizen.hash(&id);
    let row: Option<Row> =
        on_pool!(&state.store, pool => sqlx::query_as(BY_HASH).bind(hash).fetch_optional(pool).await)?;
    learner(row)
}

/// How attendance was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Qr,
    Cccd,
}

impl Method {
    pub fn code(self) -> &'static str {
        match self {
            Method::Qr => "qr",
            Method::Cccd => "cccd",
        }
    }
}

/// What staff typed or scanned: twelve digits are a citizen number, anything else a pass.
pub async fn identify(state: &AppState, input: &str) -> Result<(Learner, Method), AppError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AppError::bad_request(
            "missing_pass",
            "Hãy quét mã QR của người học hoặc nhập số CCCD. / Scan the learner's QR code or type the citizen number.",
        ));
    }
    if input.len() == 12 && input.bytes().all(|b| b.is_ascii_digit()) {
        return Ok((by_citizen_number(state, input).await?, Method::Cccd));
    }
    let person = open(state, input, now())?;
    Ok((by_id(state, person).await?, Method::Qr))
}

/// Refuses a person who does not live within `unit` (the commune of a class, say).
pub fn within(learner: &Learner, unit: &str, place: &str) -> Result<(), AppError> {
    if UnitScope::unit(unit).covers_unit(&learner.village) {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "out_of_scope",
        message: format!(
            "Người này không thuộc {place}, nên không điểm danh được ở đây. / This person is outside the unit."
        ),
    })
}

/// The QR code as an SVG data URI (the page's policy allows `data:` images).
fn qr_data_uri(text: &str) -> String {
    let svg = qrcode::QrCode::new(text.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build())
        .unwrap_or_default();
    format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg))
}

#[derive(Template)]
#[template(path = "community/pass.html")]
struct PassPage {
    nav: Nav,
    qr: Option<String>,
    token: String,
    until: String,
}

/// `GET /tai-khoan/ma-diem-danh`: the signed-in learner's pass, as a QR code and as text.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    let user = ctx.user()?;
    let expires = now() + PASS_LIFETIME;
    let (qr, token) = match user.account.person_id {
        Some(person) => {
            let token = issue(&state, person, expires);
            (Some(qr_data_uri(&token)), token)
        }
        None => (None, String::new()),
    };
    let html = Html(render(&PassPage { nav: ctx.nav(), qr, token, until: time_vi(expires) })?);
    // A pass is a bearer credential for a quarter of an hour: kept out of shared caches and history.
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], html).into_response())
}
