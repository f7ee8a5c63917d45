//! What a quarterly report says, gathered from the counters, snapshots, the community models and
//! the responsibility matrix. The same [`ReportData`] feeds the PDF, XLSX and CSV files and the
//! page, and is what an approval stores.

use serde::{Deserialize, Serialize};

use super::tasks::{self, TaskLine};
use crate::domain::report::Reporter;
use crate::domain::tasks::matrix;
use crate::store::{Store, units};
use crate::tracking::api::{Figure, UnitFigures, children_figures, children_figures_at, figures, figures_at};
use crate::tracking::snapshot::{self, Quarter};
use crate::web::error::AppError;

/// Lagging units listed at most.
const LAGGING: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorLine {
    pub code: String,
    pub name: String,
    pub numerator: i64,
    pub denominator: i64,
    /// 0..1, none when nobody is counted.
    pub value: Option<f64>,
    pub target: f64,
    pub gap: i64,
    /// The share at the end of the quarter before, when its snapshot exists.
    pub previous: Option<f64>,
}

impl IndicatorLine {
    /// Change since the quarter before, in percentage points.
    pub fn change_points(&self) -> Option<f64> {
        Some((self.value? - self.previous?) * 100.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelLine {
    pub name: String,
    pub seed_ref: String,
    pub status: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaggingLine {
    pub code: String,
    pub name: String,
    /// People missing over people counted, all indicators.
    pub missing_share: f64,
    pub gap: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub reporter: String,
    pub reporter_name: String,
    pub quarter: String,
    pub quarter_label: String,
    pub year: i32,
    /// Where the figures come from, in words.
    pub source: String,
    pub indicators: Vec<IndicatorLine>,
    pub models: Vec<ModelLine>,
    pub tasks: Vec<TaskLine>,
    /// "Các xã, phường chậm tiến độ" or the villages of a commune; empty title: none for agencies.
    pub lagging_title: String,
    pub lagging: Vec<LaggingLine>,
}

impl ReportData {
    /// How many figures differ from `other` (indicators' counts and targets, tasks' status and progress).
    pub fn figures_changed(&self, other: &ReportData) -> usize {
        let mut n = 0;
        for line in &self.indicators {
            match other.indicators.iter().find(|o| o.code == line.code) {
                Some(o) => {
                    n += usize::from(o.numerator != line.numerator)
                        + usize::from(o.denominator != line.denominator)
                        + usize::from((o.target - line.target).abs() > 1e-9);
                }
                None => n += 3,
            }
        }
        for task in &self.tasks {
            match other.tasks.iter().find(|o| o.code == task.code && o.agency == task.agency) {
                Some(o) => n += usize::from(o.status != task.status) + usize::from(o.progress != task.progress),
                None => n += 2,
            }
        }
        n
    }
}

fn lines(current: &[Figure], previous: Option<&[Figure]>) -> Vec<IndicatorLine> {
    current
        .iter()
        .map(|f| IndicatorLine {
            code: f.code.clone(),
            name: f.name.clone(),
            numerator: f.numerator,
            denominator: f.denominator,
            value: f.value,
            target: f.target,
            gap: f.gap,
            previous: previous.and_then(|p| p.iter().find(|x| x.code == f.code)).and_then(|x| x.value),
        })
        .collect()
}

/// Units with some people missing, the largest share missing first.
fn lagging(children: &[UnitFigures]) -> Vec<LaggingLine> {
    let mut out: Vec<LaggingLine> = children
        .iter()
        .filter_map(|u| {
            let gap: i64 = u.figures.iter().map(|f| f.gap).sum();
            let counted: i64 = u.figures.iter().map(|f| f.denominator).sum();
            (gap > 0 && counted > 0).then(|| LaggingLine {
                code: u.code.clone(),
                name: u.name.clone(),
                missing_share: gap as f64 / counted as f64,
                gap,
            })
        })
        .collect();
    out.sort_by(|a, b| b.missing_share.total_cmp(&a.missing_share).then_with(|| a.code.cmp(&b.code)));
    out.truncate(LAGGING);
    out
}

/// The display name of a reporter, or not found.
pub async fn reporter_name(store: &Store, reporter: &Reporter) -> Result<String, AppError> {
    match reporter {
        Reporter::Agency(code) => Ok(matrix().agency(code).map(|a| a.name_vi.clone()).unwrap_or_default()),
        Reporter::Province | Reporter::Commune(_) => units::get(store, reporter.key())
            .await?
            .filter(|u| u.code.len() <= 5)
            .map(|u| u.name)
            .ok_or_else(|| AppError::not_found("unit_not_found", "Không có đơn vị này / No such unit")),
    }
}

/// Gathers the report of `reporter` for `quarter`: the quarter's snapshot when it has been taken,
/// else the counters as they are now.
pub async fn gather(store: &Store, reporter: &Reporter, quarter: Quarter) -> Result<ReportData, AppError> {
    let name = reporter_name(store, reporter).await?;
    let year = quarter.year;
    let q = quarter.to_string();
    let taken = snapshot::exists(store, quarter).await?;
    let before = quarter.previous();
    let before_taken = snapshot::exists(store, before).await?;
    let source = if taken {
        format!("Số liệu chốt cuối {} (ảnh chụp chỉ tiêu {q}).", quarter.label_vi())
    } else {
        format!("{} chưa được chốt số liệu: số liệu hiện tại.", quarter.label_vi())
    };
    let (indicators, models, lagging_title, lagging_units) = match reporter {
        Reporter::Agency(_) => (Vec::new(), Vec::new(), String::new(), Vec::new()),
        Reporter::Province | Reporter::Commune(_) => {
            let unit = reporter.key();
            let current =
                if taken { figures_at(store, unit, year, &q).await? } else { figures(store, unit, year).await? };
            let previous =
                if before_taken { Some(figures_at(store, unit, year, &before.to_string()).await?) } else { None };
            let models = crate::tracking::visit::rule_statuses(store, unit)
                .await?
                .into_iter()
                .map(|r| ModelLine {
                    name: r.name,
                    seed_ref: r.seed_ref,
                    status: r.status.to_owned(),
                    detail: r.detail,
                })
                .collect();
            let children = if taken {
                children_figures_at(store, unit, year, &q).await?
            } else {
                children_figures(store, unit, year).await?
            };
            let title = if reporter.is_province() {
                "Các xã, phường chậm tiến độ nhất"
            } else {
                "Các thôn, tổ dân phố chậm tiến độ nhất"
            };
            (lines(&current, previous.as_deref()), models, title.to_owned(), lagging(&children))
        }
    };
    let tasks = match reporter {
        Reporter::Province => tasks::lines(store, quarter, None).await?,
        Reporter::Agency(a) => tasks::lines(store, quarter, Some(a)).await?,
        Reporter::Commune(_) => Vec::new(),
    };
    Ok(ReportData {
        reporter: reporter.key().to_owned(),
        reporter_name: name,
        quarter: q,
        quarter_label: quarter.label_vi(),
        year,
        source,
        indicators,
        models,
        tasks,
        lagging_title,
        lagging: lagging_units,
    })
}
