//! Open data: the public figures of a year as CSV and JSON, in the schema of `docs/open-data.md`.
//!
//! The CSV holds data rows only, under one header row, so that every CSV reader takes it as it is. Its licence goes
//! in the headers instead: `Link: <…/by/4.0/>; rel="license"` (the relation of RFC 4946), a companion
//! `rel="describedby"` link to the JSON (which carries the licence, the source and the footnotes in fields), and a
//! file name that names the licence (`du-lieu-mo-2025-CC-BY-4.0.csv`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::pages::YearParam;
use super::stats::{self, Published};
use crate::app::AppState;
use crate::domain::disclosure::{FOOTNOTE_EN, FOOTNOTE_VI};
use crate::web::error::{AppError, ErrorBody};
use crate::web::extract::Query;

pub const SOURCE: &str = "Nguồn: UBND tỉnh Phú Thọ — Nền tảng Bình dân học vụ số";
/// SPDX identifier.
pub const LICENCE: &str = "CC-BY-4.0";
pub const LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";
/// The CSV's columns, in order.
pub const COLUMNS: [&str; 10] = [
    "unit_code",
    "unit_name",
    "level",
    "year",
    "indicator",
    "numerator",
    "denominator",
    "value",
    "target",
    "suppressed",
];

/// One unit, year and indicator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenRow {
    /// `25`, a commune code (`04792`) or a village code (`04792-004`); `{parent}-khac` for people in no known village.
    pub unit_code: String,
    pub unit_name: String,
    /// `tinh`, `xa` or `thon`.
    pub level: String,
    pub year: i32,
    /// The indicator's code in `data-builtin/targets.toml`.
    pub indicator: String,
    /// Null when suppressed.
    pub numerator: Option<i64>,
    /// Null when suppressed.
    pub denominator: Option<i64>,
    /// numerator / denominator, four decimals; null when the denominator is 0 or when suppressed.
    pub value: Option<f64>,
    /// The share to reach by the end of the year, 0..1 (always published: it counts nobody).
    pub target: f64,
    pub suppressed: bool,
}

/// The open data of one year.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenData {
    /// The attribution line the licence asks for.
    pub source: String,
    /// SPDX identifier of the licence: `CC-BY-4.0`.
    pub licence: String,
    pub licence_url: String,
    pub footnote_vi: String,
    pub footnote_en: String,
    /// When the counters were read (RFC 3339, Vietnam's time).
    pub as_of: String,
    pub year: i32,
    pub rows: Vec<OpenRow>,
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// Rows by indicator (the order of `targets.toml`), then the unit tree.
pub fn rows(published: &Published) -> Vec<OpenRow> {
    let width = published.units.first().map_or(0, |u| u.figures.len());
    (0..width)
        .flat_map(|m| {
            published.units.iter().map(move |u| {
                let f = &u.figures[m];
                OpenRow {
                    unit_code: u.code.clone(),
                    unit_name: u.name.clone(),
                    level: u.level.clone(),
                    year: published.year,
                    indicator: f.code.clone(),
                    numerator: f.numerator,
                    denominator: f.denominator,
                    value: f.value.map(round4),
                    target: f.target,
                    suppressed: f.suppressed,
                }
            })
        })
        .collect()
}

#[utoipa::path(get, path = "/thong-ke/du-lieu-mo.json", tag = "open data",
    params(YearParam),
    responses(
        (status = 200, body = OpenData, description = "Every unit's public figures of the year (docs/open-data.md)"),
        (status = 400, body = ErrorBody, description = "invalid_year"),
    ))]
pub async fn json(State(state): State<AppState>, Query(param): Query<YearParam>) -> Result<Response, AppError> {
    let year = param.year()?;
    let published = stats::published(&state.store, &state.public_stats, year).await?;
    let body = OpenData {
        source: SOURCE.into(),
        licence: LICENCE.into(),
        licence_url: LICENCE_URL.into(),
        footnote_vi: FOOTNOTE_VI.into(),
        footnote_en: FOOTNOTE_EN.into(),
        as_of: crate::domain::time::in_vietnam(published.read_at).to_rfc3339(),
        year,
        rows: rows(&published),
    };
    let link = format!("<{LICENCE_URL}>; rel=\"license\"");
    Ok(([(header::LINK, link)], Json(body)).into_response())
}

#[utoipa::path(get, path = "/thong-ke/du-lieu-mo.csv", tag = "open data",
    params(YearParam),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "The same rows as the JSON: RFC 4180, \
            UTF-8 with a byte-order mark, one header row (the columns of docs/open-data.md), empty cells where \
            suppressed. The licence is in the `Link` header (rel=\"license\") and in the file name."),
        (status = 400, body = ErrorBody, description = "invalid_year"),
    ))]
pub async fn csv(State(state): State<AppState>, Query(param): Query<YearParam>) -> Result<Response, AppError> {
    let year = param.year()?;
    let published = stats::published(&state.store, &state.public_stats, year).await?;
    let body = to_csv(&rows(&published)).map_err(|e| AppError::Internal(e.context("writing the open data CSV")))?;
    let link = format!("<{LICENCE_URL}>; rel=\"license\", </thong-ke/du-lieu-mo.json?nam={year}>; rel=\"describedby\"");
    let disposition = format!("attachment; filename=\"du-lieu-mo-{year}-{LICENCE}.csv\"");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
        (header::CONTENT_DISPOSITION, HeaderValue::try_from(disposition).map_err(anyhow::Error::from)?),
        (header::LINK, HeaderValue::try_from(link).map_err(anyhow::Error::from)?),
    ];
    Ok((StatusCode::OK, headers, body).into_response())
}

fn to_csv(rows: &[OpenRow]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(COLUMNS)?;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        out.write_record([
            r.unit_code.clone(),
            r.unit_name.clone(),
            r.level.clone(),
            r.year.to_string(),
            r.indicator.clone(),
            opt(r.numerator),
            opt(r.denominator),
            r.value.map(|v| format!("{v:.4}")).unwrap_or_default(),
            r.target.to_string(),
            r.suppressed.to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}
