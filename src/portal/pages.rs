//! The public pages: the home page with the province's progress, `/thong-ke` (communes × indicators) and a commune's
//! page with its villages. Figures only from [`stats::published`]; a hidden figure shows "—" with the footnote.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use super::stats::{self, PublicUnit};
use crate::app::AppState;
use crate::domain::disclosure::{FOOTNOTE_EN, FOOTNOTE_VI};
use crate::domain::unit::PROVINCE_CODE;
use crate::store::memo::Memo;
use crate::store::units;
use crate::tracking::api::{IndicatorJson, parse_year, years};
use crate::web::access::Ctx;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{Path, Query};
use crate::web::pages::{Nav, number_vi, render};

/// `?nam=2025` (pages) or `?year=2025` (as the JSON API says it).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct YearParam {
    /// 2025 or 2026 (default: the current year, within those).
    pub nam: Option<String>,
    /// The same, named as in the JSON API.
    pub year: Option<String>,
}

impl YearParam {
    pub fn year(&self) -> Result<i32, AppError> {
        parse_year(self.nam.as_deref().or(self.year.as_deref()).filter(|y| !y.is_empty()))
    }
}

/// A short column heading for each indicator (the full name is in the legend above the table).
fn short_label(code: &str) -> &'static str {
    match code {
        "can_bo_ky_nang_so" => "Cán bộ, công chức",
        "hoc_sinh_sinh_vien_ky_nang_so" => "Học sinh, sinh viên",
        "nguoi_truong_thanh_ky_nang_so" => "Người trưởng thành",
        "xac_nhan_vneid" => "Xác nhận trên VNeID",
        "nguoi_lao_dong_dn_ky_nang_so" => "Lao động doanh nghiệp",
        "danh_tinh_so" => "Danh tính số",
        "gia_dinh_so" => "Gia đình số",
        _ => "Chỉ tiêu",
    }
}

/// A share as Vietnamese writes it: "74,6 %".
fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0).replace('.', ",")
}

fn target_text(target: f64) -> String {
    let p = (target * 1000.0).round() / 10.0;
    if p.fract() == 0.0 { format!("{p:.0} %") } else { percent(target) }
}

/// What a cell of a table shows.
fn cell(f: &IndicatorJson) -> String {
    match (f.suppressed, f.value) {
        (true, _) => "—".into(),
        (false, Some(v)) => percent(v),
        (false, None) => "chưa có người".into(),
    }
}

/// An indicator with everything said in words, so that nothing depends on colour.
struct Line {
    name: String,
    short: &'static str,
    value: String,
    target: String,
    reached: String,
    gap: String,
    status: &'static str,
}

fn line(f: &IndicatorJson) -> Line {
    let (value, reached, gap, status) = match (f.suppressed, f.numerator, f.denominator, f.gap) {
        (false, Some(n), Some(d), Some(gap)) if d > 0 => {
            let share = n as f64 / d as f64;
            let status = if gap == 0 {
                "Đã đạt mục tiêu"
            } else if share >= f.target * 0.9 {
                "Sắp đạt mục tiêu"
            } else if share >= f.target * 0.5 {
                "Đang thực hiện"
            } else {
                "Còn xa mục tiêu"
            };
            let gap = if gap == 0 {
                "không còn thiếu".to_owned()
            } else {
                format!("còn thiếu {} người", number_vi(gap))
            };
            (percent(share), format!("{} / {}", number_vi(n), number_vi(d)), gap, status)
        }
        (false, ..) => ("chưa có người".into(), "0 / 0".into(), "—".into(), "Chưa có số liệu"),
        (true, ..) => ("—".into(), "—".into(), "—".into(), "Số liệu được ẩn"),
    };
    Line {
        name: f.name.clone(),
        short: short_label(&f.code),
        value,
        target: target_text(f.target),
        reached,
        gap,
        status,
    }
}

struct YearLink {
    year: i32,
    current: bool,
}

fn year_links(year: i32) -> Vec<YearLink> {
    years().into_iter().map(|y| YearLink { year: y, current: y == year }).collect()
}

struct NewsLine {
    id: i64,
    title: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage<'a> {
    nav: Nav,
    year: i32,
    communes: String,
    people: String,
    households: String,
    lines: Vec<Line>,
    news: &'a [NewsLine],
    footnote: &'static str,
}

/// What the home page shows besides the figures, the same for everyone: kept as long as the figures.
pub struct FrontData {
    communes: usize,
    people: i64,
    households: i64,
    news: Vec<NewsLine>,
}

/// The home page's [`FrontData`], one entry (`store::memo`).
pub type Front = Memo<(), FrontData>;

pub fn front() -> Front {
    Memo::new(stats::TTL)
}

/// Publishing or withdrawing news shows on this server's home page at once (on the others within [`stats::TTL`]).
pub fn news_changed(state: &AppState) {
    state.front.expire(&());
}

async fn front_data(state: &AppState) -> sqlx::Result<FrontData> {
    let province = units::get(&state.store, PROVINCE_CODE).await?;
    let communes = units::communes(&state.store).await?.len();
    let (people, households) = province.map_or((0, 0), |p| (p.people_count, p.household_count));
    let news = crate::learning::news::latest(&state.store, 3)
        .await?
        .into_iter()
        .map(|n| NewsLine { id: n.id, title: n.title, summary: n.summary })
        .collect();
    Ok(FrontData { communes, people, households, news })
}

/// `GET /`: a third of all requests on the peak day, so it reads nothing from the database while its
/// figures are less than a minute old.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let year = parse_year(None)?;
    let front = state.front.get((), || front_data(&state)).await?;
    let published = stats::published(&state.store, &state.public_stats, year).await?;
    let lines = published.province().map(|p| p.figures.iter().map(line).collect()).unwrap_or_default();
    Ok(Html(render(&HomePage {
        nav: ctx.nav(),
        year,
        communes: number_vi(front.communes as i64),
        people: number_vi(front.people),
        households: number_vi(front.households),
        lines,
        news: &front.news,
        footnote: FOOTNOTE_VI,
    })?))
}

/// A unit's row in a table: its name, where it links, and one cell per indicator.
struct Row {
    code: String,
    name: String,
    link: bool,
    cells: Vec<String>,
}

fn row(unit: &PublicUnit, link: bool) -> Row {
    Row { code: unit.code.clone(), name: unit.name.clone(), link, cells: unit.figures.iter().map(cell).collect() }
}

#[derive(Template)]
#[template(path = "portal/statistics.html")]
struct StatisticsPage {
    nav: Nav,
    year: i32,
    years: Vec<YearLink>,
    lines: Vec<Line>,
    caption: String,
    /// The province first, then the communes.
    rows: Vec<Row>,
    footnote_vi: &'static str,
    footnote_en: &'static str,
}

/// `GET /thong-ke?nam=2025`: the province and every commune, each indicator's share.
pub async fn statistics(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(param): Query<YearParam>,
) -> Result<Html<String>, PageError> {
    let year = param.year()?;
    let published = stats::published(&state.store, &state.public_stats, year).await?;
    let province = published.province();
    let communes = published.children(PROVINCE_CODE).map(|u| row(u, u.level == "xa" && !u.code.ends_with("-khac")));
    let rows = province.map(|p| row(p, false)).into_iter().chain(communes);
    Ok(Html(render(&StatisticsPage {
        nav: ctx.nav(),
        year,
        years: year_links(year),
        lines: province.map(|p| p.figures.iter().map(line).collect()).unwrap_or_default(),
        caption: format!("Tỷ lệ đạt từng chỉ tiêu của các xã, phường, năm {year}"),
        rows: rows.collect(),
        footnote_vi: FOOTNOTE_VI,
        footnote_en: FOOTNOTE_EN,
    })?))
}

#[derive(Template)]
#[template(path = "portal/commune.html")]
struct CommunePage {
    nav: Nav,
    year: i32,
    years: Vec<YearLink>,
    code: String,
    name: String,
    lines: Vec<Line>,
    caption: String,
    rows: Vec<Row>,
    footnote_vi: &'static str,
    footnote_en: &'static str,
}

/// `GET /thong-ke/{commune}?nam=2025`: the commune's indicators and its villages'.
pub async fn commune(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(param): Query<YearParam>,
) -> Result<Html<String>, PageError> {
    let year = param.year()?;
    let published = stats::published(&state.store, &state.public_stats, year).await?;
    let unit = published.unit(&code).filter(|u| u.level == "xa" && !u.code.ends_with("-khac")).ok_or_else(|| {
        AppError::not_found("unit_not_found", format!("Không có xã, phường mã {code} / No commune with code {code}"))
    })?;
    Ok(Html(render(&CommunePage {
        nav: ctx.nav(),
        year,
        years: year_links(year),
        code: unit.code.clone(),
        name: unit.name.clone(),
        lines: unit.figures.iter().map(line).collect(),
        caption: format!("Tỷ lệ đạt từng chỉ tiêu của các thôn, tổ dân phố của {}, năm {year}", unit.name),
        rows: published.children(&unit.code).map(|u| row(u, false)).collect(),
        footnote_vi: FOOTNOTE_VI,
        footnote_en: FOOTNOTE_EN,
    })?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shares_and_targets_read_as_vietnamese_writes_them() {
        assert_eq!(super::percent(0.74567), "74,6 %");
        assert_eq!(super::target_text(0.8), "80 %");
        assert_eq!(super::target_text(0.705), "70,5 %");
    }
}
