//! Reading the indicators: the figures of a unit, of a unit's children, and the JSON API.
//! Everything here reads counters (`indicator_count`) and targets, never person rows.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;

use crate::web::extract::{Path, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::indicators::{gap, targets, value};
use crate::domain::role::Role::{self, *};
use crate::on_pool;
use crate::registry::api::parse_unit_code;
use crate::store::Store;
use crate::store::units;
use crate::web::access::{Access, Ctx};
use crate::web::error::{AppError, ErrorBody};
use crate::web::routes::Route;

/// Staff who read a unit's exact figures: those who work for the unit or above it.
pub const READERS: &[Role] = &[CanBoXa, HoTroMotCua, QuanTriTinh, CanBoNganh, ToCongNgheSo, DaiSuSo, KiemToan];

pub fn routes() -> Vec<Route> {
    // Public: anonymous callers (and staff outside the unit) get the public, suppressed figures; the handler gives
    // staff whose scope covers the unit the exact ones.
    vec![Route::get("/api/v1/units/{code}/indicators", Access::Public, unit_indicators)]
}

/// One indicator of one unit and year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figure {
    /// Stable code from `targets.toml`, e.g. `nguoi_truong_thanh_ky_nang_so`.
    pub code: String,
    /// Vietnamese name of the indicator.
    pub name: String,
    /// People (or households) reached.
    pub numerator: i64,
    /// People (or households) counted.
    pub denominator: i64,
    /// numerator / denominator, 0..1; null when nobody is counted.
    pub value: Option<f64>,
    /// The share to reach by the end of the year, 0..1: the province's override for the unit, or the plan's.
    pub target: f64,
    /// People still missing to reach the target, rounded up (never below 0).
    pub gap: i64,
}

/// A unit with its figures, for lists of children.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitFigures {
    pub code: String,
    pub name: String,
    pub figures: Vec<Figure>,
}

/// The years that have targets (2025, 2026).
pub fn years() -> Vec<i32> {
    targets().years()
}

type CountRow = (String, String, i64, i64);
type TargetRow = (String, String, f64);
/// A unit's counters and target overrides, by indicator.
type UnitCounts<'a> = (HashMap<&'a str, (i64, i64)>, HashMap<&'a str, f64>);

pub(super) fn assemble(year: i32, counts: &HashMap<&str, (i64, i64)>, overrides: &HashMap<&str, f64>) -> Vec<Figure> {
    targets()
        .indicators
        .iter()
        .filter_map(|i| {
            let plan = i.target(year)?;
            let target = overrides.get(i.code.as_str()).copied().unwrap_or(plan);
            let (numerator, denominator) = counts.get(i.code.as_str()).copied().unwrap_or((0, 0));
            Some(Figure {
                code: i.code.clone(),
                name: i.name_vi.clone(),
                numerator,
                denominator,
                value: value(numerator, denominator),
                target,
                gap: gap(target, numerator, denominator),
            })
        })
        .collect()
}

/// The figures of these units for `year`, in the order of `targets.toml`; units without any
/// counter get zeros. Two queries whatever the number of units.
async fn figures_of(
    store: &Store,
    unit_codes: &[String],
    year: i32,
    quarter: Option<&str>,
) -> sqlx::Result<HashMap<String, Vec<Figure>>> {
    let mut counts: Vec<CountRow> = Vec::new();
    let mut overrides: Vec<TargetRow> = Vec::new();
    for chunk in unit_codes.chunks(1000) {
        on_pool!(store, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT unit_code, indicator, CAST(numerator AS BIGINT), CAST(denominator AS BIGINT) FROM ",
            );
            match quarter {
                None => q.push("indicator_count WHERE "),
                Some(quarter) => q.push("indicator_snapshot WHERE quarter = ").push_bind(quarter).push(" AND "),
            };
            q.push("year = ").push_bind(i64::from(year)).push(" AND unit_code IN (");
            let mut list = q.separated(", ");
            for code in chunk {
                list.push_bind(code);
            }
            q.push(")");
            let mut t =
                sqlx::QueryBuilder::new("SELECT unit_code, indicator, target FROM indicator_target WHERE year = ");
            t.push_bind(i64::from(year)).push(" AND unit_code IN (");
            let mut list = t.separated(", ");
            for code in chunk {
                list.push_bind(code);
            }
            t.push(")");
            counts.extend(q.build_query_as::<CountRow>().fetch_all(pool).await?);
            overrides.extend(t.build_query_as::<TargetRow>().fetch_all(pool).await?);
        });
    }
    let mut by_unit: HashMap<&str, UnitCounts> = HashMap::new();
    for (unit, indicator, n, d) in &counts {
        by_unit.entry(unit).or_default().0.insert(indicator, (*n, *d));
    }
    for (unit, indicator, target) in &overrides {
        by_unit.entry(unit).or_default().1.insert(indicator, *target);
    }
    let empty = (HashMap::new(), HashMap::new());
    Ok(unit_codes
        .iter()
        .map(|code| {
            let (c, o) = by_unit.get(code.as_str()).unwrap_or(&empty);
            (code.clone(), assemble(year, c, o))
        })
        .collect())
}

/// Every indicator of one unit (province `25`, a commune or a village) for `year`. A year without
/// targets gives an empty list.
pub async fn figures(store: &Store, unit_code: &str, year: i32) -> sqlx::Result<Vec<Figure>> {
    let mut all = figures_of(store, &[unit_code.to_owned()], year, None).await?;
    Ok(all.remove(unit_code).unwrap_or_default())
}

/// Like [`figures`], from the quarter's snapshot (`2025Q4`) instead of the counters: units the
/// snapshot lacks get zeros, so callers check [`super::snapshot::exists`] first. Targets are today's.
pub async fn figures_at(store: &Store, unit_code: &str, year: i32, quarter: &str) -> sqlx::Result<Vec<Figure>> {
    let mut all = figures_of(store, &[unit_code.to_owned()], year, Some(quarter)).await?;
    Ok(all.remove(unit_code).unwrap_or_default())
}

/// Like [`children_figures`], from the quarter's snapshot (see [`figures_at`]).
pub async fn children_figures_at(
    store: &Store,
    parent_code: &str,
    year: i32,
    quarter: &str,
) -> sqlx::Result<Vec<UnitFigures>> {
    let children = units::children(store, parent_code).await?;
    let codes: Vec<String> = children.iter().map(|c| c.code.clone()).collect();
    let mut all = figures_of(store, &codes, year, Some(quarter)).await?;
    Ok(children
        .into_iter()
        .map(|c| UnitFigures { figures: all.remove(&c.code).unwrap_or_default(), code: c.code, name: c.name })
        .collect())
}

/// Every indicator of each child of `parent_code` (the communes of the province, the villages of a
/// commune), in the order of `store::units::children`.
pub async fn children_figures(store: &Store, parent_code: &str, year: i32) -> sqlx::Result<Vec<UnitFigures>> {
    let children = units::children(store, parent_code).await?;
    let codes: Vec<String> = children.iter().map(|c| c.code.clone()).collect();
    let mut all = figures_of(store, &codes, year, None).await?;
    Ok(children
        .into_iter()
        .map(|c| UnitFigures { figures: all.remove(&c.code).unwrap_or_default(), code: c.code, name: c.name })
        .collect())
}

/// One indicator of one unit and year as the API answers it: exact for staff in scope, through the disclosure
/// control for everyone else (`numerator`, `denominator`, `value` and `gap` are then null together).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IndicatorJson {
    /// Stable code from `targets.toml`, e.g. `nguoi_truong_thanh_ky_nang_so`.
    pub code: String,
    /// Vietnamese name of the indicator.
    pub name: String,
    /// People (or households) reached; null when suppressed.
    pub numerator: Option<i64>,
    /// People (or households) counted; null when suppressed.
    pub denominator: Option<i64>,
    /// numerator / denominator, 0..1; null when nobody is counted or when suppressed.
    pub value: Option<f64>,
    /// The share to reach by the end of the year, 0..1: the province's override for the unit, or the plan's.
    pub target: f64,
    /// People still missing to reach the target, rounded up (never below 0); null when suppressed.
    pub gap: Option<i64>,
    /// Hidden by the disclosure control (fewer than 10 people, or so that no hidden figure can be worked out).
    pub suppressed: bool,
}

impl From<Figure> for IndicatorJson {
    fn from(f: Figure) -> Self {
        Self {
            code: f.code,
            name: f.name,
            numerator: Some(f.numerator),
            denominator: Some(f.denominator),
            value: f.value,
            target: f.target,
            gap: Some(f.gap),
            suppressed: false,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorsJson {
    pub unit: String,
    pub year: i32,
    /// true: the exact figures (staff whose scope covers the unit); false: the public figures.
    pub exact: bool,
    pub indicators: Vec<IndicatorJson>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// 2025 or 2026 (default: the current year, within those).
    #[param(value_type = Option<i32>, minimum = 2025, maximum = 2026, example = 2025)]
    pub year: Option<String>,
}

/// A year from a query string: one that has targets, else 400.
pub fn parse_year(raw: Option<&str>) -> Result<i32, AppError> {
    let years = years();
    let Some(raw) = raw else {
        let now = chrono::Datelike::year(&crate::domain::time::today());
        return Ok(now.clamp(years[0], years[years.len() - 1]));
    };
    raw.trim().parse::<i32>().ok().filter(|y| years.contains(y)).ok_or_else(|| {
        AppError::bad_request(
            "invalid_year",
            format!(
                "Năm phải là một trong {years:?} / The year must be one of {years:?}",
                years = years.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

#[utoipa::path(get, path = "/api/v1/units/{code}/indicators", tag = "tracking",
    params(("code" = String, Path, pattern = r"^(25|[0-9]{5}(-[0-9]{3})?)$", example = "04792",
        description = "Unit code: `25` (the province), a commune's 5 digits, or a village's `NNNNN-NNN`"), YearQuery),
    responses(
        (status = 200, body = IndicatorsJson, description = "Exact figures (`exact`: true) for staff whose scope \
            covers the unit; for everyone else the public figures of the open data, suppressed ones null with \
            `suppressed`: true"),
        (status = 400, body = ErrorBody, description = "invalid_unit_code, invalid_year"),
        (status = 404, body = ErrorBody, description = "unit_not_found"),
    ))]
pub async fn unit_indicators(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Json<IndicatorsJson>, AppError> {
    let code = parse_unit_code(&code)?;
    let year = parse_year(query.year.as_deref())?;
    let missing =
        || AppError::not_found("unit_not_found", format!("Không có đơn vị mã {code} / No unit with code {code}"));
    units::get(&state.store, &code).await?.ok_or_else(missing)?;
    // The guard's rules for role routes: an account reads as staff only once it consented and set its own password.
    let staff = ctx
        .user
        .as_ref()
        .filter(|u| u.consented && !u.account.must_change_password)
        .is_some_and(|u| u.scope(READERS).covers_unit(&code));
    if staff {
        let indicators = figures(&state.store, &code, year).await?.into_iter().map(IndicatorJson::from).collect();
        return Ok(Json(IndicatorsJson { unit: code, year, exact: true, indicators }));
    }
    let published = crate::portal::stats::published(&state.store, &state.public_stats, year).await?;
    let indicators = published.unit(&code).ok_or_else(missing)?.figures.clone();
    Ok(Json(IndicatorsJson { unit: code, year, exact: false, indicators }))
}
