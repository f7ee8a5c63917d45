//! The indicators of organisations (agencies, schools, enterprises, cooperatives): their people's
//! figures wherever those people live, from the per-organisation counters kept in the same
//! transactions as the units' ([`super::counters`]). The table of organisations, sortable by any
//! indicator or gap, and one organisation's page; both through the reader's [`UnitScope`]: an agency
//! officer sees their agency, a commune officer the organisations of their commune, the province all.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use super::UnitFigures;
use super::api::{Figure, assemble, parse_year, years};
use super::dashboard::{BelowRow, Row, SortBy, percent_vi, row, sort_units, status, target_vi};
use crate::app::AppState;
use crate::domain::indicators::{Population, targets};
use crate::domain::person::parse_code;
use crate::domain::role::Role::{self, *};
use crate::domain::unit::OrgKind;
use crate::store::Store;
use crate::web::access::{Access, Ctx, Scope, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::Query;
use crate::web::pages::{Nav, number_vi, render};
use crate::web::routes::Route;
use crate::web::scope::{Columns, UnitScope};
use crate::{bind_scope, on_pool};

/// The dashboard's readers and the agencies' own officers.
pub const READERS: &[Role] = &[CanBoXa, HoTroMotCua, QuanTriTinh, KiemToan, CanBoNganh];
/// Rows shown at once: a province has thousands of organisations; filter by commune or kind for the rest.
const MAX_ROWS: usize = 300;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/quan-ly/co-quan", Access::roles(READERS, Scope::Anywhere), list),
        Route::get("/quan-ly/co-quan/chi-tiet", Access::roles(READERS, Scope::Anywhere), one),
    ]
}

/// Where an organisation's rows are, for the scope: its own code (an agency grant) and its commune.
const COLUMNS: Columns =
    Columns { commune: Some("o.commune_code"), organisation: Some("o.code"), village: None, unit: None };

pub struct Organisation {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub commune_name: String,
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "co_quan" => "Cơ quan",
        "truong_hoc" => "Trường học",
        "doanh_nghiep" => "Doanh nghiệp",
        "hop_tac_xa" => "Hợp tác xã",
        _ => "",
    }
}

/// The organisations in `scope` (of one kind, or one code), by code, with their figures for `year`:
/// two queries whatever their number. Only the indicators counted over people: households belong to
/// the tree. Targets are the plan's (the province overrides them per unit, not per organisation).
pub async fn organisation_figures(
    store: &Store,
    scope: &UnitScope,
    kind: Option<OrgKind>,
    code: Option<&str>,
    year: i32,
) -> sqlx::Result<Vec<(Organisation, Vec<Figure>)>> {
    let within = scope.predicate(COLUMNS, 1);
    let n = within.binds.len();
    let mut filter = String::new();
    if kind.is_some() {
        filter.push_str(&format!(" AND o.kind = ${}", n + 1));
    }
    if code.is_some() {
        filter.push_str(&format!(" AND o.code = ${}", n + 1 + usize::from(kind.is_some())));
    }
    let list_sql = format!(
        "SELECT o.code, o.name, o.kind, u.name FROM organisation o JOIN unit u ON u.code = o.commune_code \
         WHERE {}{filter} ORDER BY o.code",
        within.sql
    );
    let year_at = n + 1 + usize::from(kind.is_some()) + usize::from(code.is_some());
    let counts_sql = format!(
        "SELECT c.organisation_code, c.indicator, CAST(c.numerator AS BIGINT), CAST(c.denominator AS BIGINT) \
         FROM organisation_indicator_count c JOIN organisation o ON o.code = c.organisation_code \
         WHERE {}{filter} AND c.year = ${year_at}",
        within.sql
    );
    type OrgRow = (String, String, String, String);
    type CountRow = (String, String, i64, i64);
    let (orgs, counts): (Vec<OrgRow>, Vec<CountRow>) = on_pool!(store, pool => {
        let mut q = bind_scope!(sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(list_sql)), within);
        let mut c = bind_scope!(sqlx::query_as::<_, CountRow>(sqlx::AssertSqlSafe(counts_sql)), within);
        if let Some(k) = kind {
            q = q.bind(k.code());
            c = c.bind(k.code());
        }
        if let Some(code) = code {
            q = q.bind(code);
            c = c.bind(code);
        }
        (q.fetch_all(pool).await?, c.bind(i64::from(year)).fetch_all(pool).await?)
    });
    let mut by_org: HashMap<&str, HashMap<&str, (i64, i64)>> = HashMap::new();
    for (org, indicator, num, den) in &counts {
        by_org.entry(org).or_default().insert(indicator, (*num, *den));
    }
    let people: Vec<&str> = targets()
        .indicators
        .iter()
        .filter(|i| i.population != Population::Households)
        .map(|i| i.code.as_str())
        .collect();
    let none = HashMap::new();
    Ok(orgs
        .into_iter()
        .map(|(code, name, kind, commune_name)| {
            let mut figures = assemble(year, by_org.get(code.as_str()).unwrap_or(&none), &HashMap::new());
            figures.retain(|f| people.contains(&f.code.as_str()));
            (Organisation { code, name, kind, commune_name }, figures)
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    nam: Option<String>,
    loai: Option<String>,
    sap_xep: Option<String>,
    theo: Option<String>,
}

pub struct OrgRow {
    pub row: BelowRow,
    pub kind: &'static str,
    pub commune: String,
}

#[derive(Template)]
#[template(path = "tracking/agencies.html")]
struct ListPage {
    nav: Nav,
    year: i32,
    years: Vec<i32>,
    kinds: Vec<(&'static str, &'static str)>,
    kind: String,
    indicators: Vec<(String, String)>,
    indicator: String,
    indicator_name: String,
    target: String,
    sorted: &'static str,
    total: usize,
    rows: Vec<OrgRow>,
}

fn parse_kind(raw: Option<&str>) -> Result<Option<OrgKind>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => OrgKind::parse(raw)
            .map(Some)
            .map_err(|_| AppError::bad_request("invalid_kind", "Loại tổ chức không có / No such organisation kind")),
    }
}

/// `GET /quan-ly/co-quan`: the organisations the reader may see, one indicator at a time.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let year = parse_year(query.nam.as_deref())?;
    let kind = parse_kind(query.loai.as_deref())?;
    let by = SortBy::parse(query.theo.as_deref())?;
    let found = organisation_figures(&state.store, &staff.scope, kind, None, year).await?;
    let plan: Vec<(String, String)> =
        found.first().map(|(_, f)| f.iter().map(|f| (f.code.clone(), f.name.clone())).collect()).unwrap_or_else(|| {
            targets()
                .indicators
                .iter()
                .filter(|i| i.population != Population::Households && i.target(year).is_some())
                .map(|i| (i.code.clone(), i.name_vi.clone()))
                .collect()
        });
    let indicator = match query.sap_xep.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // By default the indicator that counts the most of these organisations' people.
        None => {
            let counted = |code: &str| -> i64 {
                found.iter().flat_map(|(_, f)| f.iter()).filter(|f| f.code == code).map(|f| f.denominator).sum()
            };
            plan.iter().max_by_key(|(c, _)| counted(c)).map(|(c, _)| c.clone()).unwrap_or_default()
        }
        Some(code) if plan.iter().any(|(c, _)| c == code) => code.to_owned(),
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_indicator",
                "Không có chỉ tiêu này trong năm đã chọn / No such indicator in that year",
            )
            .into());
        }
    };
    let total = found.len();
    let mut units: Vec<UnitFigures> = Vec::with_capacity(total);
    let mut about: HashMap<String, (String, String)> = HashMap::with_capacity(total);
    for (org, figures) in found {
        about.insert(org.code.clone(), (org.kind, org.commune_name));
        units.push(UnitFigures { code: org.code, name: org.name, figures });
    }
    if let Some(by) = by {
        sort_units(&mut units, &indicator, by);
    }
    let rows = units
        .iter()
        .take(MAX_ROWS)
        .filter_map(|u| {
            let f = u.figures.iter().find(|f| f.code == indicator)?;
            let (kind, commune) = about.get(&u.code).cloned().unwrap_or_default();
            Some(OrgRow { row: below_row(u, f), kind: kind_label(&kind), commune })
        })
        .collect();
    let chosen = plan.iter().find(|(c, _)| *c == indicator);
    let target = targets().indicator(&indicator).and_then(|i| i.target(year)).map(target_vi).unwrap_or_default();
    let page = ListPage {
        nav: ctx.nav(),
        year,
        years: years(),
        kinds: OrgKind::ALL.iter().map(|k| (k.code(), kind_label(k.code()))).collect(),
        kind: kind.map(|k| k.code().to_owned()).unwrap_or_default(),
        indicator_name: chosen.map(|(_, n)| n.clone()).unwrap_or_default(),
        indicators: plan,
        indicator,
        target,
        sorted: match by {
            None => "",
            Some(SortBy::Value) => "gia_tri",
            Some(SortBy::Gap) => "thieu",
        },
        total,
        rows,
    };
    Ok(Html(render(&page)?))
}

fn below_row(u: &UnitFigures, f: &Figure) -> BelowRow {
    let (symbol, status, class) = status(f);
    BelowRow {
        code: u.code.clone(),
        name: u.name.clone(),
        reached_of: format!("{}/{}", number_vi(f.numerator), number_vi(f.denominator)),
        value: f.value.map_or_else(|| "–".to_owned(), percent_vi),
        gap: if f.denominator == 0 { "–".to_owned() } else { number_vi(f.gap) },
        symbol,
        status,
        class,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct OneQuery {
    ma: Option<String>,
    nam: Option<String>,
}

#[derive(Template)]
#[template(path = "tracking/agency.html")]
struct OnePage {
    nav: Nav,
    code: String,
    name: String,
    kind: &'static str,
    commune: String,
    year: i32,
    years: Vec<i32>,
    rows: Vec<Row>,
}

/// `GET /quan-ly/co-quan/chi-tiet?ma=`: one organisation's indicators. An organisation outside the
/// reader's scope is answered as one that does not exist.
pub async fn one(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<OneQuery>,
) -> Result<Html<String>, PageError> {
    let year = parse_year(query.nam.as_deref())?;
    let raw = query.ma.as_deref().map(str::trim).unwrap_or_default();
    let code = parse_code(raw, "mã tổ chức", "organisation code")
        .map_err(|e| AppError::bad_request("invalid_organisation_code", format!("{} / {}", e.vi, e.en)))?;
    let found = organisation_figures(&state.store, &staff.scope, None, Some(&code), year).await?;
    let Some((org, figures)) = found.into_iter().next() else {
        return Err(AppError::not_found(
            "organisation_not_found",
            "Không có tổ chức này trong phạm vi của bạn / No such organisation in your scope",
        )
        .into());
    };
    let page = OnePage {
        nav: ctx.nav(),
        kind: kind_label(&org.kind),
        code: org.code,
        name: org.name,
        commune: org.commune_name,
        year,
        years: years(),
        rows: figures.iter().map(|f| row(f, &[])).collect(),
    };
    Ok(Html(render(&page)?))
}
