//! The JSON API of the registry.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;
use crate::domain::unit::{PROVINCE_CODE, parse_commune_code, parse_village_code};
use crate::store::units::{self, UnitRow};
use crate::web::error::{AppError, ErrorBody};
use crate::web::extract::{Json, Path, Query};

/// A unit of the administrative tree with its counts and its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitJson {
    /// `25` for the province, 5 digits for a commune, `NNNNN-NNN` for a village.
    pub code: String,
    pub name: String,
    /// `tinh`, `xa` or `thon`.
    pub level: String,
    pub parent: Option<String>,
    pub people: i64,
    pub households: i64,
    pub children: Vec<ChildJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildJson {
    pub code: String,
    pub name: String,
    pub level: String,
    pub people: i64,
    pub households: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitListJson {
    pub units: Vec<ChildJson>,
}

impl From<UnitRow> for ChildJson {
    fn from(u: UnitRow) -> Self {
        Self { code: u.code, name: u.name, level: u.level, people: u.people_count, households: u.household_count }
    }
}

/// What `parse_unit_code` accepts in form: the province `25`, a commune's 5 digits, a village's
/// `NNNNN-NNN`. A code of that form that names no unit of the province is a 404.
pub const UNIT_CODE_PATTERN: &str = r"^(25|[0-9]{5}(-[0-9]{3})?)$";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// List the children of this unit (default: the province's communes).
    #[param(value_type = String, required = false, pattern = r"^(25|[0-9]{5}(-[0-9]{3})?)$", example = "04792")]
    pub parent: Option<String>,
}

/// A unit code from a URL, parsed once: the province, a commune or a village of the province.
pub fn parse_unit_code(raw: &str) -> Result<String, AppError> {
    if raw == PROVINCE_CODE {
        return Ok(raw.to_owned());
    }
    let parsed =
        if raw.contains('-') { parse_village_code(raw).map(|_| ()) } else { parse_commune_code(raw).map(|_| ()) };
    parsed.map(|()| raw.to_owned()).map_err(|e| {
        // A code of the right form that names no unit of the province is absent, not malformed
        // (what `UNIT_CODE_PATTERN` tells clients).
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let well_formed = match raw.split_once('-') {
            Some((commune, village)) => digits(commune, 5) && digits(village, 3),
            None => digits(raw, 5),
        };
        if well_formed {
            AppError::not_found("unit_not_found", format!("{} / {}", e.vi, e.en))
        } else {
            AppError::bad_request("invalid_unit_code", format!("{} / {}", e.vi, e.en))
        }
    })
}

pub async fn load_unit(state: &AppState, raw: &str) -> Result<(UnitRow, Vec<UnitRow>), AppError> {
    let code = parse_unit_code(raw)?;
    let unit = units::get(&state.store, &code).await?.ok_or_else(|| {
        AppError::not_found("unit_not_found", format!("Không có đơn vị mã {code} / No unit with code {code}"))
    })?;
    let children = units::children(&state.store, &code).await?;
    Ok((unit, children))
}

#[utoipa::path(get, path = "/api/v1/units/{code}", tag = "registry",
    params(("code" = String, Path, pattern = r"^(25|[0-9]{5}(-[0-9]{3})?)$", example = "04792",
        description = "Unit code: `25` (the province), a commune's 5 digits, or a village's `NNNNN-NNN`")),
    responses(
        (status = 200, body = UnitJson),
        (status = 400, body = ErrorBody, description = "invalid_unit_code, invalid_path: not a unit code"),
        (status = 404, body = ErrorBody, description = "unit_not_found: no such unit in the province"),
        (status = 503, body = ErrorBody, description = "database_unavailable"),
    ))]
pub async fn get_unit(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<UnitJson>, AppError> {
    let (unit, children) = load_unit(&state, &code).await?;
    Ok(Json(UnitJson {
        code: unit.code,
        name: unit.name,
        level: unit.level,
        parent: unit.parent_code,
        people: unit.people_count,
        households: unit.household_count,
        children: children.into_iter().map(ChildJson::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/units", tag = "registry", params(ListQuery),
    responses(
        (status = 200, body = UnitListJson),
        (status = 400, body = ErrorBody, description = "invalid_unit_code, invalid_query: `parent` is not a unit code"),
        (status = 404, body = ErrorBody, description = "unit_not_found: no such unit in the province"),
        (status = 503, body = ErrorBody, description = "database_unavailable"),
    ))]
pub async fn list_units(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<UnitListJson>, AppError> {
    let parent = query.parent.as_deref().unwrap_or(PROVINCE_CODE);
    let (_, children) = load_unit(&state, parent).await?;
    Ok(Json(UnitListJson { units: children.into_iter().map(ChildJson::from).collect() }))
}

/// The document of every JSON endpoint under `/api/v1`: each declares what the server enforces
/// (patterns, formats) and every status it answers with. `scripts/schemathesis` checks the running
/// server against it. New JSON endpoints are added here.
#[derive(OpenApi)]
#[openapi(
    info(title = "hocvuso API", description = "Bình dân học vụ số — API của nền tảng / the platform's API"),
    paths(
        get_unit,
        list_units,
        crate::certificates::pages::api,
        crate::certificates::pages::bare_credential,
        crate::certificates::status::list,
        crate::tracking::api::unit_indicators,
        crate::portal::open_data::json,
        crate::portal::open_data::csv,
        crate::assistant::api::ask,
        crate::community::visits_pages::api_post,
        crate::community::visits_pages::api_households
    ),
    components(schemas(
        UnitJson,
        ChildJson,
        UnitListJson,
        ErrorBody,
        crate::certificates::pages::Summary,
        crate::certificates::pages::Status,
        crate::tracking::api::IndicatorsJson,
        crate::tracking::api::IndicatorJson,
        crate::portal::open_data::OpenData,
        crate::portal::open_data::OpenRow,
        crate::assistant::api::AskBody,
        crate::assistant::api::AskReply,
        crate::assistant::engine::PassageOut,
        crate::assistant::recommend::Recommendation,
        crate::community::visits::VisitInput,
        crate::community::visits::Present,
        crate::community::visits_pages::VisitAnswer,
        crate::community::visits_pages::HouseholdsJson,
        crate::community::visits_pages::Household,
        crate::community::visits_pages::Member
    ))
)]
pub struct ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
