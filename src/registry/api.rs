//! The JSON API of the registry.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::domain::unit::{PROVINCE_CODE, parse_commune_code, parse_village_code};
use crate::store::units::{self, UnitRow};
use crate::web::AppState;
use crate::web::error::{AppError, ErrorBody};

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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// List the children of this unit (default: the province's communes).
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
        if raw.len() == 5 && raw.bytes().all(|b| b.is_ascii_digit()) {
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
    params(("code" = String, Path, description = "Unit code: 25, a commune code or a village code")),
    responses(
        (status = 200, body = UnitJson),
        (status = 400, body = ErrorBody, description = "invalid_unit_code"),
        (status = 404, body = ErrorBody, description = "unit_not_found"),
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
        (status = 400, body = ErrorBody, description = "invalid_unit_code"),
        (status = 404, body = ErrorBody, description = "unit_not_found"),
    ))]
pub async fn list_units(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<UnitListJson>, AppError> {
    let parent = query.parent.as_deref().unwrap_or(PROVINCE_CODE);
    let (_, children) = load_unit(&state, parent).await?;
    Ok(Json(UnitListJson { units: children.into_iter().map(ChildJson::from).collect() }))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "hocvuso API", description = "Bình dân học vụ số — API của nền tảng / the platform's API"),
    paths(
        get_unit,
        list_units,
        crate::certificates::pages::api,
        crate::certificates::pages::bare_credential,
        crate::certificates::status::list,
        crate::tracking::api::unit_indicators
    ),
    components(schemas(
        UnitJson,
        ChildJson,
        UnitListJson,
        ErrorBody,
        crate::certificates::pages::Summary,
        crate::certificates::pages::Status,
        crate::tracking::api::IndicatorsJson,
        crate::tracking::api::Figure
    ))
)]
pub struct ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
