//! The report pages: the list of a quarter's reports with their states, one report (its contents,
//! its state, the approval buttons, the downloads), the downloads, and the approval actions.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{may_decide, may_read, may_submit, own_reporters};
use super::approval::{self, Locked};
use super::content::{ReportData, gather, reporter_name};
use super::render::{self, Format3, change_text, percent, previous_text, status_text, value_text};
use crate::app::AppState;
use crate::domain::report::{Action, Reporter, State as ReportState};
use crate::domain::tasks::matrix;
use crate::domain::time::{date_vi, today};
use crate::identity::audit::Actor;
use crate::store::units;
use crate::tracking::snapshot::Quarter;
use crate::web::access::{Ctx, Staff};
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Form, Path, Query};
use crate::web::pages::{Nav, number_vi, render};

#[derive(Debug, Default, Deserialize)]
pub struct QuarterQuery {
    pub quy: Option<String>,
}

pub fn parse_quarter(raw: Option<&str>) -> Result<Quarter, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Quarter::last_ended(today())),
        Some(raw) => Quarter::parse(raw).ok_or_else(|| {
            AppError::bad_request("invalid_quarter", "Quý viết như 2025Q4 / A quarter is written like 2025Q4")
        }),
    }
}

fn parse_reporter(raw: &str) -> Result<Reporter, AppError> {
    Reporter::parse(raw)
        .ok_or_else(|| AppError::not_found("reporter_not_found", "Không có đơn vị báo cáo này / No such reporter"))
}

/// A report the reader may not read answers 404, like a unit outside their scope.
fn hidden() -> AppError {
    AppError::not_found("reporter_not_found", "Không có đơn vị báo cáo này / No such reporter")
}

pub struct ListLine {
    pub key: String,
    pub name: String,
    pub kind: &'static str,
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "reports/list.html")]
struct ListPage {
    nav: Nav,
    quarter: String,
    quarter_label: String,
    lines: Vec<ListLine>,
    due: String,
}

/// `GET /quan-ly/bao-cao?quy=2025Q4`: the reports the reader may open, with their states.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Query(q): Query<QuarterQuery>,
) -> Result<Html<String>, PageError> {
    let quarter = parse_quarter(q.quy.as_deref())?;
    let states = approval::states(&state.store, quarter).await?;
    let state_of =
        |key: &str| states.iter().find(|(k, _)| k == key).map_or("Chưa lập (bản nháp)", |(_, s)| s.label());
    let province =
        staff.user.scope(&[crate::domain::role::Role::QuanTriTinh, crate::domain::role::Role::KiemToan]).is_province();
    let mut lines = Vec::new();
    if province {
        lines.push(ListLine {
            key: "25".into(),
            name: reporter_name(&state.store, &Reporter::Province).await?,
            kind: "Tỉnh",
            state: state_of("25"),
        });
        for a in &matrix().agency {
            lines.push(ListLine {
                key: a.code.clone(),
                name: a.name_vi.clone(),
                kind: "Cơ quan",
                state: state_of(&a.code),
            });
        }
        for c in units::communes(&state.store).await? {
            let st = state_of(&c.code);
            lines.push(ListLine { key: c.code, name: c.name, kind: "Xã, phường", state: st });
        }
    } else {
        for r in own_reporters(&staff) {
            let name = reporter_name(&state.store, &r).await?;
            let kind = if matches!(r, Reporter::Agency(_)) { "Cơ quan" } else { "Xã, phường" };
            lines.push(ListLine { key: r.key().to_owned(), name, kind, state: state_of(r.key()) });
        }
    }
    let due = super::tasks::due_date(quarter).map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default();
    let page = ListPage { nav: ctx.nav(), quarter: quarter.to_string(), quarter_label: quarter.label_vi(), lines, due };
    Ok(Html(render(&page)?))
}

pub struct IndicatorRow {
    pub name: String,
    pub reached: String,
    pub value: String,
    pub target: String,
    pub gap: String,
    pub previous: String,
    pub change: String,
    pub status: &'static str,
}

pub struct TaskRow {
    pub code: String,
    pub title: String,
    pub agency: String,
    pub role: &'static str,
    pub status: &'static str,
    pub progress: String,
    pub evidence: String,
    pub overdue: bool,
}

pub struct LagRow {
    pub rank: usize,
    pub name: String,
    pub share: String,
    pub gap: String,
}

#[derive(Template)]
#[template(path = "reports/report.html")]
struct ReportPage {
    nav: Nav,
    key: String,
    name: String,
    quarter: String,
    quarter_label: String,
    state: &'static str,
    note: String,
    changed_on: String,
    source: String,
    commune: bool,
    indicators: Vec<IndicatorRow>,
    models: Vec<(String, String, String)>,
    tasks: Vec<TaskRow>,
    lagging_title: String,
    lagging: Vec<LagRow>,
    /// Figures that differ from those stored at approval (approved reports only).
    changed: Option<usize>,
    may_submit: bool,
    may_approve: bool,
    may_return: bool,
}

fn view_rows(data: &ReportData) -> (Vec<IndicatorRow>, Vec<TaskRow>, Vec<LagRow>) {
    let indicators = data
        .indicators
        .iter()
        .map(|l| IndicatorRow {
            name: l.name.clone(),
            reached: format!("{}/{}", number_vi(l.numerator), number_vi(l.denominator)),
            value: value_text(l),
            target: percent(l.target),
            gap: number_vi(l.gap),
            previous: previous_text(l),
            change: change_text(l),
            status: status_text(l),
        })
        .collect();
    let tasks = data
        .tasks
        .iter()
        .map(|t| TaskRow {
            code: t.code.clone(),
            title: t.title.clone(),
            agency: t.agency_name.clone(),
            role: t.role_label(),
            status: t.status_label(),
            progress: t.progress.map_or_else(|| "–".to_owned(), |p| format!("{p}\u{a0}%")),
            evidence: t.evidence.clone(),
            overdue: t.overdue,
        })
        .collect();
    let lagging = data
        .lagging
        .iter()
        .enumerate()
        .map(|(i, l)| LagRow {
            rank: i + 1,
            name: l.name.clone(),
            share: percent(l.missing_share),
            gap: number_vi(l.gap),
        })
        .collect();
    (indicators, tasks, lagging)
}

/// `GET /quan-ly/bao-cao/{reporter}/{quarter}`: an approved report shows its stored figures and
/// how many have changed since; any other shows the figures as they are now.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((reporter, quarter)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let reporter = parse_reporter(&reporter)?;
    let quarter = parse_quarter(Some(&quarter))?;
    if !may_read(&staff, &reporter) {
        return Err(hidden().into());
    }
    let stored = approval::load(&state.store, &reporter, quarter).await?;
    let live = gather(&state.store, &reporter, quarter).await?;
    let current = stored.as_ref().map_or(ReportState::Draft, |s| s.state);
    let (data, changed) = match stored.as_ref().and_then(|s| s.figures.clone()) {
        Some(locked) if current == ReportState::Approved => {
            let changed = live.figures_changed(&locked);
            (locked, Some(changed))
        }
        _ => (live, None),
    };
    let province_approved = approval::load(&state.store, &Reporter::Province, quarter)
        .await?
        .is_some_and(|s| s.state == ReportState::Approved);
    let (indicators, tasks, lagging) = view_rows(&data);
    let decide = may_decide(&staff, &reporter);
    let page = ReportPage {
        nav: ctx.nav(),
        key: reporter.key().to_owned(),
        name: data.reporter_name.clone(),
        quarter: quarter.to_string(),
        quarter_label: quarter.label_vi(),
        state: if stored.is_some() { current.label() } else { "Bản nháp (chưa gửi)" },
        note: stored.as_ref().map(|s| s.note.clone()).unwrap_or_default(),
        changed_on: stored.as_ref().map(|s| date_vi(s.changed_at)).unwrap_or_default(),
        source: data.source.clone(),
        commune: matches!(reporter, Reporter::Commune(_)),
        indicators,
        models: data.models.iter().map(|m| (m.name.clone(), m.status.clone(), m.detail.clone())).collect(),
        tasks,
        lagging_title: data.lagging_title.clone(),
        lagging,
        changed,
        may_submit: may_submit(&staff, &reporter) && matches!(current, ReportState::Draft | ReportState::Returned),
        may_approve: decide && current == ReportState::Submitted,
        may_return: decide
            && matches!(current, ReportState::Submitted | ReportState::Approved)
            && (reporter.is_province() || !province_approved),
    };
    Ok(Html(render(&page)?))
}

/// `GET /quan-ly/bao-cao/{reporter}/{quarter}/tai/{format}`: the stored bytes of an approved
/// report, else a file made now.
pub async fn download(
    State(state): State<AppState>,
    staff: Staff,
    Path((reporter, quarter, format)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let reporter = parse_reporter(&reporter)?;
    let quarter = parse_quarter(Some(&quarter))?;
    let format = Format3::parse(&format)
        .ok_or_else(|| AppError::not_found("format_not_found", "Định dạng là pdf, xlsx hoặc csv / pdf, xlsx or csv"))?;
    if !may_read(&staff, &reporter) {
        return Err(hidden().into());
    }
    let bytes = match approval::stored_file(&state.store, &reporter, quarter, format).await? {
        Some(bytes) => bytes,
        None => {
            let data = gather(&state.store, &reporter, quarter).await?;
            tokio::task::spawn_blocking(move || render::file(&data, format))
                .await
                .map_err(|e| AppError::Internal(e.into()))?
                .map_err(AppError::Internal)?
        }
    };
    let filename = format!("bao-cao-{}-{quarter}.{}", reporter.key(), format.extension());
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ActionForm {
    hanh_dong: String,
    #[serde(default)]
    ghi_chu: String,
}

/// `POST /quan-ly/bao-cao/{reporter}/{quarter}`: submit (`gui`), approve (`duyet`) or return
/// (`tra_lai`). Who may: see `access`; in what order: `domain::report::next`.
pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: Staff,
    Path((reporter, quarter)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let reporter = parse_reporter(&reporter)?;
    let quarter = parse_quarter(Some(&quarter))?;
    if !may_read(&staff, &reporter) {
        return Err(hidden().into());
    }
    let action = Action::parse(&form.hanh_dong)
        .ok_or_else(|| AppError::bad_request("invalid_action", "Thao tác là gui, duyet hoặc tra_lai"))?;
    let allowed = match action {
        Action::Submit => may_submit(&staff, &reporter),
        Action::Approve | Action::Return => may_decide(&staff, &reporter),
    };
    if !allowed {
        return Err(AppError::forbidden().into());
    }
    let locked = if action == Action::Approve {
        let data = gather(&state.store, &reporter, quarter).await?;
        Some(
            tokio::task::spawn_blocking(move || Locked::make(data))
                .await
                .map_err(|e| AppError::Internal(e.into()))??,
        )
    } else {
        None
    };
    let actor = Actor { account_id: staff.id(), address: ctx.address() };
    approval::apply(&state.store, &reporter, quarter, action, &form.ghi_chu, locked, actor).await?;
    Ok(Redirect::to(&format!("/quan-ly/bao-cao/{}/{quarter}", reporter.key())).into_response())
}
