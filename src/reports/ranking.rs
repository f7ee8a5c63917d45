//! `/quan-ly/xep-hang`: communes ranked by share against target and improvement this quarter, and
//! agencies by the progress of their tasks, with the formulas and the inputs printed (and the
//! inputs as CSV) so that anyone can recompute every score by hand.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::pages::{QuarterQuery, parse_quarter};
use super::render::percent;
use crate::app::AppState;
use crate::domain::ranking::{self, FULL_RISE_POINTS, Input, WEIGHT_ACHIEVEMENT, WEIGHT_IMPROVEMENT};
use crate::domain::tasks::matrix;
use crate::domain::unit::PROVINCE_CODE;
use crate::registry::import::report::neutralise_formula;
use crate::store::Store;
use crate::tracking::api::{UnitFigures, children_figures, children_figures_at};
use crate::tracking::snapshot::{self, Quarter};
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::Query;
use crate::web::pages::{Nav, render};

pub struct CommuneRank {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub counted: usize,
    pub achievement: String,
    pub improvement: String,
    pub score: String,
}

pub struct AgencyRank {
    pub rank: usize,
    pub name: String,
    pub parts: usize,
    pub score: String,
}

/// The communes' figures for the quarter and the quarter before (snapshots where taken, the
/// counters now for a quarter not yet taken).
async fn inputs(
    store: &Store,
    quarter: Quarter,
) -> Result<(Vec<UnitFigures>, Option<Vec<UnitFigures>>, bool), AppError> {
    let year = quarter.year;
    let taken = snapshot::exists(store, quarter).await?;
    let now = if taken {
        children_figures_at(store, PROVINCE_CODE, year, &quarter.to_string()).await?
    } else {
        children_figures(store, PROVINCE_CODE, year).await?
    };
    let before = quarter.previous();
    let previous = if snapshot::exists(store, before).await? {
        Some(children_figures_at(store, PROVINCE_CODE, year, &before.to_string()).await?)
    } else {
        None
    };
    Ok((now, previous, taken))
}

fn commune_inputs(unit: &UnitFigures, previous: Option<&Vec<UnitFigures>>) -> Vec<Input> {
    let before = previous.and_then(|p| p.iter().find(|u| u.code == unit.code));
    unit.figures
        .iter()
        .map(|f| Input {
            value: f.value,
            previous: before.and_then(|b| b.figures.iter().find(|x| x.code == f.code)).and_then(|x| x.value),
            target: f.target,
        })
        .collect()
}

fn points(x: f64) -> String {
    format!("{x:.1}").replace('.', ",")
}

#[derive(Template)]
#[template(path = "reports/ranking.html")]
struct RankingPage {
    nav: Nav,
    quarter: String,
    quarter_label: String,
    source: String,
    w_a: String,
    w_c: String,
    full_rise: String,
    communes: Vec<CommuneRank>,
    agencies: Vec<AgencyRank>,
}

/// `GET /quan-ly/xep-hang?quy=2025Q4`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<QuarterQuery>,
) -> Result<Html<String>, PageError> {
    let quarter = parse_quarter(q.quy.as_deref())?;
    let (now, previous, taken) = inputs(&state.store, quarter).await?;
    let mut scored: Vec<(&UnitFigures, ranking::Score)> =
        now.iter().map(|u| (u, ranking::commune_score(&commune_inputs(u, previous.as_ref())))).collect();
    scored.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then_with(|| a.0.code.cmp(&b.0.code)));
    let communes = scored
        .iter()
        .enumerate()
        .map(|(i, (u, s))| CommuneRank {
            rank: i + 1,
            code: u.code.clone(),
            name: u.name.clone(),
            counted: s.counted,
            achievement: percent(s.achievement),
            improvement: percent(s.improvement),
            score: points(s.score),
        })
        .collect();
    let lines = super::tasks::lines(&state.store, quarter, None).await?;
    let mut agencies: Vec<(String, usize, f64)> = matrix()
        .agency
        .iter()
        .filter_map(|a| {
            let parts: Vec<(bool, Option<i64>)> =
                lines.iter().filter(|l| l.agency == a.code).map(|l| (l.leads, l.progress)).collect();
            (!parts.is_empty()).then(|| (a.name_vi.clone(), parts.len(), ranking::agency_score(&parts)))
        })
        .collect();
    agencies.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let page = RankingPage {
        nav: ctx.nav(),
        quarter: quarter.to_string(),
        quarter_label: quarter.label_vi(),
        source: if taken {
            format!("Số liệu chốt cuối {} và quý trước đó.", quarter.label_vi())
        } else {
            format!("{} chưa được chốt số liệu: số liệu hiện tại.", quarter.label_vi())
        },
        w_a: points(WEIGHT_ACHIEVEMENT),
        w_c: points(WEIGHT_IMPROVEMENT),
        full_rise: points(FULL_RISE_POINTS),
        communes,
        agencies: agencies
            .into_iter()
            .enumerate()
            .map(|(i, (name, parts, score))| AgencyRank { rank: i + 1, name, parts, score: points(score) })
            .collect(),
    };
    Ok(Html(render(&page)?))
}

/// `GET /quan-ly/xep-hang.csv?quy=2025Q4`: every input of the communes' scores, one row per commune
/// and indicator (shares in percent, dot decimals).
pub async fn inputs_csv(State(state): State<AppState>, Query(q): Query<QuarterQuery>) -> Result<Response, PageError> {
    let quarter = parse_quarter(q.quy.as_deref())?;
    let (now, previous, _) = inputs(&state.store, quarter).await?;
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut write = || -> csv::Result<()> {
        out.write_record([
            "Mã xã",
            "Xã, phường",
            "Chỉ tiêu",
            "Đạt",
            "Tổng số",
            "Tỷ lệ (%)",
            "Mục tiêu (%)",
            "Tỷ lệ quý trước (%)",
        ])?;
        for u in &now {
            let inputs = commune_inputs(u, previous.as_ref());
            for (f, i) in u.figures.iter().zip(inputs) {
                let pct = |v: Option<f64>| v.map(|v| format!("{:.4}", v * 100.0)).unwrap_or_default();
                out.write_record([
                    u.code.clone(),
                    neutralise_formula(&u.name),
                    f.code.clone(),
                    f.numerator.to_string(),
                    f.denominator.to_string(),
                    pct(i.value),
                    format!("{:.2}", i.target * 100.0),
                    pct(i.previous),
                ])?;
            }
        }
        Ok(())
    };
    write().map_err(|e| AppError::Internal(e.into()))?;
    let body = out.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"xep-hang-{quarter}.csv\"")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
