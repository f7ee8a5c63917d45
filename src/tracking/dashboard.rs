//! Staff dashboards: a unit's overview (every indicator against its target, the trend per quarter,
//! the units below furthest behind) and the table of the units below, sortable by any indicator.
//! Server-rendered, charts as inline SVG each beside its data table; they read counters and
//! snapshots only ([`super::figures`], [`super::children_figures`], [`super::snapshot::trend`]).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::{Figure, UnitFigures, children_figures, figures, parse_year, years};
use super::snapshot::{self, Point, Quarter};
use crate::app::AppState;
use crate::audit_write;
use crate::domain::role::Role::{self, *};
use crate::domain::role::commune_of;
use crate::domain::time::{now, today};
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::audit::Entry;
use crate::on_pool;
use crate::registry::api::parse_unit_code;
use crate::store::units;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path, Query};
use crate::web::pages::{Nav, number_vi, render};
use crate::web::routes::Route;

/// Who reads the dashboards: commune officers and one-stop staff (their commune), the province's
/// steering office (administrators, over `25`) and auditors. Agency officers have no unit: their
/// staff's indicators are not counted per agency yet.
pub const DASHBOARD: &[Role] = &[CanBoXa, HoTroMotCua, QuanTriTinh, KiemToan];

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/chi-tieu", Access::roles(DASHBOARD, Scope::Anywhere), own_overview),
        Route::get("/quan-ly/chi-tieu/{unit}", Access::roles(DASHBOARD, Scope::Unit("unit")), overview),
        Route::get("/quan-ly/chi-tieu/{unit}/cap-duoi", Access::roles(DASHBOARD, Scope::Unit("unit")), below),
        Route::post("/quan-ly/chup-chi-tieu", Access::roles(&[QuanTriTinh], Scope::Province), take_snapshot),
        Route::post("/quan-ly/chi-tieu/{unit}/muc-tieu", Access::roles(&[QuanTriTinh], Scope::Province), set_target),
    ]
}

#[derive(Debug, Default, Deserialize)]
pub struct DashQuery {
    nam: Option<String>,
    sap_xep: Option<String>,
    theo: Option<String>,
}

/// 0.805 → "80,5 %" (one decimal, comma, no-break space).
pub fn percent_vi(share: f64) -> String {
    format!("{:.1}\u{a0}%", share * 100.0).replace('.', ",")
}

/// A target: "80 %", or "72,5 %" when it has a fraction.
pub(super) fn target_vi(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 { format!("{}\u{a0}%", p.round() as i64) } else { percent_vi(share) }
}

/// Reached: someone is counted and nobody is missing.
fn reached(f: &Figure) -> bool {
    f.denominator > 0 && f.gap == 0
}

pub(super) fn status(f: &Figure) -> (&'static str, &'static str, &'static str) {
    if f.denominator == 0 {
        ("–", "Chưa có số liệu", "khong-co")
    } else if reached(f) {
        ("✓", "Đạt", "dat")
    } else {
        ("✗", "Chưa đạt", "chua-dat")
    }
}

/// One indicator as the pages show it: strings formatted the Vietnamese way, and the numbers the
/// SVG needs formatted the SVG way (a decimal point).
pub struct Row {
    pub code: String,
    pub name: String,
    pub reached_of: String,
    pub value: String,
    pub target: String,
    pub gap: String,
    pub symbol: &'static str,
    pub status: &'static str,
    pub class: &'static str,
    /// Bar length and target marker on a 0..200 scale.
    pub bar: String,
    pub marker: String,
    pub trend: Vec<TrendPoint>,
    /// Target line of the trend chart, on its 0..50 scale (y from the top).
    pub trend_target_y: String,
    pub trend_width: usize,
}

pub struct TrendPoint {
    pub label: String,
    pub value: String,
    pub reached_of: String,
    pub x: usize,
    pub y: String,
    pub height: String,
}

fn gap_text(f: &Figure) -> String {
    if f.denominator == 0 {
        "–".to_owned()
    } else if f.gap == 0 {
        "không thiếu".to_owned()
    } else {
        format!("còn thiếu {} người", number_vi(f.gap))
    }
}

fn trend_points(points: &[Point], current: &Figure) -> Vec<TrendPoint> {
    let mut out: Vec<TrendPoint> = points
        .iter()
        .map(|p| (p.quarter.label_vi(), p.numerator, p.denominator))
        .chain(std::iter::once(("Hiện tại".to_owned(), current.numerator, current.denominator)))
        .enumerate()
        .map(|(i, (label, n, d))| {
            let share = if d > 0 { n as f64 / d as f64 } else { 0.0 };
            let height = share.clamp(0.0, 1.0) * 50.0;
            TrendPoint {
                label,
                value: if d > 0 { percent_vi(share) } else { "–".to_owned() },
                reached_of: format!("{}/{}", number_vi(n), number_vi(d)),
                x: i * 30 + 5,
                y: format!("{:.1}", 55.0 - height),
                height: format!("{height:.1}"),
            }
        })
        .collect();
    out.shrink_to_fit();
    out
}

pub(super) fn row(f: &Figure, points: &[Point]) -> Row {
    let (symbol, status, class) = status(f);
    let trend = trend_points(points, f);
    Row {
        code: f.code.clone(),
        name: f.name.clone(),
        reached_of: format!("{}/{}", number_vi(f.numerator), number_vi(f.denominator)),
        value: f.value.map_or_else(|| "–".to_owned(), percent_vi),
        target: target_vi(f.target),
        gap: gap_text(f),
        symbol,
        status,
        class,
        bar: format!("{:.1}", f.value.unwrap_or(0.0).clamp(0.0, 1.0) * 200.0),
        marker: format!("{:.1}", f.target.clamp(0.0, 1.0) * 200.0),
        trend_width: trend.len() * 30 + 10,
        trend,
        trend_target_y: format!("{:.1}", 55.0 - f.target.clamp(0.0, 1.0) * 50.0),
    }
}

/// A unit's share of people missing over every indicator: Σ gap / Σ denominator.
fn gap_share(u: &UnitFigures) -> f64 {
    let gap: i64 = u.figures.iter().map(|f| f.gap).sum();
    let counted: i64 = u.figures.iter().map(|f| f.denominator).sum();
    if counted == 0 { 0.0 } else { gap as f64 / counted as f64 }
}

pub struct Behind {
    pub code: String,
    pub name: String,
    pub share: String,
    pub gap: String,
}

/// The units below with the largest gap share first, at most `n`, those with a gap only.
pub fn furthest_behind(children: &[UnitFigures], n: usize) -> Vec<Behind> {
    let mut ranked: Vec<(&UnitFigures, f64)> =
        children.iter().map(|u| (u, gap_share(u))).filter(|(_, s)| *s > 0.0).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.code.cmp(&b.0.code)));
    ranked
        .into_iter()
        .take(n)
        .map(|(u, share)| Behind {
            code: u.code.clone(),
            name: u.name.clone(),
            share: percent_vi(share),
            gap: number_vi(u.figures.iter().map(|f| f.gap).sum()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "tracking/overview.html")]
struct Overview {
    nav: Nav,
    code: String,
    name: String,
    year: i32,
    years: Vec<i32>,
    crumbs: Vec<(String, String)>,
    rows: Vec<Row>,
    below_label: &'static str,
    has_below: bool,
    behind: Vec<Behind>,
    /// The province administrator's button: the quarter it would take.
    snapshot_quarter: Option<String>,
    snapshot_taken: bool,
    /// The province administrator may set this unit's own targets.
    may_set_targets: bool,
}

/// What the units below a unit are called.
fn below_label(code: &str) -> &'static str {
    if code == PROVINCE_CODE { "Các xã, phường" } else { "Các thôn, tổ dân phố" }
}

async fn unit_name(state: &AppState, code: &str) -> Result<String, AppError> {
    units::get(&state.store, code).await?.map(|u| u.name).ok_or_else(|| {
        AppError::not_found("unit_not_found", format!("Không có đơn vị mã {code} / No unit with code {code}"))
    })
}

/// The units above `code` the reader may open, province first.
async fn crumbs(state: &AppState, staff: &Staff, code: &str) -> Result<Vec<(String, String)>, AppError> {
    let mut above = Vec::new();
    if code != PROVINCE_CODE {
        above.push(PROVINCE_CODE.to_owned());
        if code.len() > 5
            && let Some(commune) = commune_of(code)
        {
            above.push(commune.to_owned());
        }
    }
    let scope = staff.user.scope(DASHBOARD);
    let mut out = Vec::new();
    for unit in above.into_iter().filter(|u| scope.covers_unit(u)) {
        let name = unit_name(state, &unit).await?;
        out.push((unit, name));
    }
    Ok(out)
}

async fn show(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    code: String,
    query: &DashQuery,
) -> Result<Html<String>, PageError> {
    let year = parse_year(query.nam.as_deref())?;
    let name = unit_name(state, &code).await?;
    let current = figures(&state.store, &code, year).await?;
    let trends = snapshot::trend(&state.store, &code, year).await?;
    let rows = current.iter().map(|f| row(f, trends.get(&f.code).map_or(&[], Vec::as_slice))).collect();
    let children = children_figures(&state.store, &code, year).await?;
    let may_set_targets = staff.user.scope(&[QuanTriTinh]).is_province();
    let is_admin = code == PROVINCE_CODE && may_set_targets;
    let (snapshot_quarter, snapshot_taken) = if is_admin {
        let q = Quarter::last_ended(today());
        (Some(q.label_vi()), snapshot::exists(&state.store, q).await?)
    } else {
        (None, false)
    };
    let page = Overview {
        nav: ctx.nav(),
        crumbs: crumbs(state, staff, &code).await?,
        below_label: below_label(&code),
        has_below: !children.is_empty(),
        behind: furthest_behind(&children, 5),
        code,
        name,
        year,
        years: years(),
        rows,
        snapshot_quarter,
        snapshot_taken,
        may_set_targets,
    };
    Ok(Html(render(&page)?))
}

/// The overview of the reader's own top unit: the province for province staff, else their first commune.
pub async fn own_overview(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<DashQuery>,
) -> Result<Html<String>, PageError> {
    let Some(code) = staff.scope.unit_codes().into_iter().next() else {
        return Err(AppError::not_found(
            "no_unit",
            "Vai trò của bạn không gắn với xã, phường nào / Your roles are not held over any unit",
        )
        .into());
    };
    show(&state, &ctx, &staff, code, &query).await
}

pub async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Query(query): Query<DashQuery>,
) -> Result<Html<String>, PageError> {
    let code = parse_unit_code(&unit)?;
    show(&state, &ctx, &staff, code, &query).await
}

/// How the table of the units below is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Lowest value first (no one counted last).
    Value,
    /// Most people missing first.
    Gap,
}

impl SortBy {
    pub(super) fn parse(raw: Option<&str>) -> Result<Option<Self>, AppError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some("gia_tri") => Ok(Some(Self::Value)),
            Some("thieu") => Ok(Some(Self::Gap)),
            Some(_) => {
                Err(AppError::bad_request("invalid_sort", "Sắp xếp theo gia_tri hoặc thieu / Sort by gia_tri or thieu"))
            }
        }
    }
}

/// Orders the units below by one indicator (its position in each unit's figures).
pub fn sort_units(units: &mut [UnitFigures], indicator: &str, by: SortBy) {
    let key = |u: &UnitFigures| u.figures.iter().find(|f| f.code == indicator).cloned();
    match by {
        SortBy::Value => units.sort_by(|a, b| {
            let (va, vb) = (key(a).and_then(|f| f.value), key(b).and_then(|f| f.value));
            match (va, vb) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
            .then_with(|| a.code.cmp(&b.code))
        }),
        SortBy::Gap => units.sort_by(|a, b| {
            let (ga, gb) = (key(a).map_or(0, |f| f.gap), key(b).map_or(0, |f| f.gap));
            gb.cmp(&ga).then_with(|| a.code.cmp(&b.code))
        }),
    }
}

pub struct BelowRow {
    pub code: String,
    pub name: String,
    pub reached_of: String,
    pub value: String,
    pub gap: String,
    pub symbol: &'static str,
    pub status: &'static str,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "tracking/below.html")]
struct Below {
    nav: Nav,
    code: String,
    name: String,
    year: i32,
    label: &'static str,
    /// (code, name) of every indicator, to choose the one shown.
    indicators: Vec<(String, String)>,
    indicator: String,
    indicator_name: String,
    target: String,
    sorted: &'static str,
    rows: Vec<BelowRow>,
}

pub async fn below(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(unit): Path<String>,
    Query(query): Query<DashQuery>,
) -> Result<Html<String>, PageError> {
    let code = parse_unit_code(&unit)?;
    let year = parse_year(query.nam.as_deref())?;
    let name = unit_name(&state, &code).await?;
    let by = SortBy::parse(query.theo.as_deref())?;
    let plan = super::api::figures(&state.store, &code, year).await?;
    let indicator = match query.sap_xep.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => plan.first().map(|f| f.code.clone()).unwrap_or_default(),
        Some(code) if plan.iter().any(|f| f.code == code) => code.to_owned(),
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_indicator",
                "Không có chỉ tiêu này trong năm đã chọn / No such indicator in that year",
            )
            .into());
        }
    };
    let mut children = children_figures(&state.store, &code, year).await?;
    if let Some(by) = by {
        sort_units(&mut children, &indicator, by);
    }
    let rows = children
        .iter()
        .filter_map(|u| {
            let f = u.figures.iter().find(|f| f.code == indicator)?;
            let (symbol, status, class) = status(f);
            Some(BelowRow {
                code: u.code.clone(),
                name: u.name.clone(),
                reached_of: format!("{}/{}", number_vi(f.numerator), number_vi(f.denominator)),
                value: f.value.map_or_else(|| "–".to_owned(), percent_vi),
                gap: if f.denominator == 0 { "–".to_owned() } else { number_vi(f.gap) },
                symbol,
                status,
                class,
            })
        })
        .collect();
    let chosen = plan.iter().find(|f| f.code == indicator);
    let page = Below {
        nav: ctx.nav(),
        label: below_label(&code),
        indicators: plan.iter().map(|f| (f.code.clone(), f.name.clone())).collect(),
        indicator_name: chosen.map(|f| f.name.clone()).unwrap_or_default(),
        target: chosen.map(|f| target_vi(f.target)).unwrap_or_default(),
        indicator,
        sorted: match by {
            None => "",
            Some(SortBy::Value) => "gia_tri",
            Some(SortBy::Gap) => "thieu",
        },
        code,
        name,
        year,
        rows,
    };
    Ok(Html(render(&page)?))
}

#[derive(Deserialize)]
pub struct SnapshotForm {
    /// `2025Q4`; empty: the last ended quarter.
    #[serde(default)]
    quy: String,
}

/// The province administrator takes a quarter's snapshot now (the first take of a quarter stands).
/// One transaction with its audit entry.
pub async fn take_snapshot(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Form(form): Form<SnapshotForm>,
) -> Result<Response, PageError> {
    let quarter = if form.quy.trim().is_empty() {
        Quarter::last_ended(today())
    } else {
        Quarter::parse(&form.quy).ok_or_else(|| {
            AppError::bad_request("invalid_quarter", "Quý viết như 2025Q4 / A quarter is written like 2025Q4")
        })?
    };
    on_pool!(&state.store, pool => {
        let mut tx = pool.begin().await.map_err(AppError::from)?;
        let rows = sqlx::query(snapshot::TAKE).bind(quarter.to_string()).bind(now())
            .execute(&mut *tx).await.map_err(AppError::from)?.rows_affected();
        audit_write!(&mut *tx, Entry {
            account_id: Some(staff.id()),
            action: "indicator.snapshot",
            unit_code: Some(PROVINCE_CODE),
            detail: Some(serde_json::json!({"quarter": quarter.to_string(), "rows": rows})),
            address: ctx.address(),
            ..Default::default()
        }).map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
    });
    Ok(Redirect::to(&format!("/quan-ly/chi-tieu/{PROVINCE_CODE}")).into_response())
}

/// A target as the province administrator types it: a percentage ("85", "72,5"), or nothing to go
/// back to the plan's. Parsed once, here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetInput(Option<f64>);

impl TargetInput {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim().trim_end_matches('%').trim();
        if raw.is_empty() {
            return Ok(Self(None));
        }
        let percent: f64 = raw.replace(',', ".").parse().map_err(|_| invalid_target())?;
        if !(0.0..=100.0).contains(&percent) {
            return Err(invalid_target());
        }
        Ok(Self(Some((percent * 10.0).round() / 1000.0)))
    }
}

fn invalid_target() -> AppError {
    AppError::bad_request(
        "invalid_target",
        "Mục tiêu là một tỷ lệ phần trăm từ 0 đến 100, ví dụ 85 hoặc 72,5. / A target is a percentage from 0 to 100.",
    )
}

#[derive(Deserialize)]
pub struct TargetForm {
    chi_tieu: String,
    nam: String,
    #[serde(default)]
    muc_tieu: String,
}

/// `POST /quan-ly/chi-tieu/{unit}/muc-tieu`: the province sets (or clears) one unit's own target for
/// an indicator and a year; audited in the same transaction (`tracking::entry::set_target`).
pub async fn set_target(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path(unit): Path<String>,
    Form(form): Form<TargetForm>,
) -> Result<Response, PageError> {
    let unit = parse_unit_code(&unit)?;
    unit_name(&state, &unit).await?;
    let year = parse_year(Some(&form.nam))?;
    let TargetInput(target) = TargetInput::parse(&form.muc_tieu)?;
    let actor = crate::identity::audit::Actor { account_id: staff.id(), address: ctx.address() };
    super::entry::set_target(&state.store, &unit, year, form.chi_tieu.trim(), target, actor).await?;
    Ok(Redirect::to(&format!("/quan-ly/chi-tieu/{unit}?nam={year}#{}", form.chi_tieu.trim())).into_response())
}

#[cfg(test)]
mod target_tests {
    use super::TargetInput;

    #[test]
    fn targets_are_typed_as_percentages() {
        assert_eq!(TargetInput::parse("85").unwrap(), TargetInput(Some(0.85)));
        assert_eq!(TargetInput::parse(" 72,5 % ").unwrap(), TargetInput(Some(0.725)));
        assert_eq!(TargetInput::parse("").unwrap(), TargetInput(None));
        assert!(TargetInput::parse("150").is_err());
        assert!(TargetInput::parse("-1").is_err());
        assert!(TargetInput::parse("tám mươi").is_err());
        assert!(TargetInput::parse("NaN").is_err());
    }
}
