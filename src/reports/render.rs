//! The report's files: PDF (through the document engine), XLSX (rust_xlsxwriter) and CSV, all
//! from the same [`ReportData`], in Vietnamese. The same data gives the same bytes.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde_json::json;

use super::content::{IndicatorLine, ReportData};
use crate::documents::{self, DocumentError};
use crate::registry::import::report::neutralise_formula;
use crate::web::pages::number_vi;

const TEMPLATE: &str = include_str!("report.typ");
const NO_DATA: &str = "Chưa có dữ liệu";

/// The formats a report is downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format3 {
    Pdf,
    Xlsx,
    Csv,
}

impl Format3 {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "pdf" => Some(Self::Pdf),
            "xlsx" => Some(Self::Xlsx),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// 0.805 → "80,5 %".
pub fn percent(share: f64) -> String {
    format!("{:.1}\u{a0}%", share * 100.0).replace('.', ",")
}

/// +2.5 points → "+2,5 điểm %".
pub fn points(change: f64) -> String {
    let sign = if change > 0.05 { "+" } else { "" };
    format!("{sign}{change:.1}\u{a0}điểm\u{a0}%").replace('.', ",")
}

pub fn value_text(line: &IndicatorLine) -> String {
    line.value.map_or_else(|| NO_DATA.to_owned(), percent)
}

pub fn previous_text(line: &IndicatorLine) -> String {
    line.previous.map_or_else(|| NO_DATA.to_owned(), percent)
}

pub fn change_text(line: &IndicatorLine) -> String {
    line.change_points().map_or_else(|| NO_DATA.to_owned(), points)
}

pub fn status_text(line: &IndicatorLine) -> &'static str {
    if line.denominator == 0 {
        NO_DATA
    } else if line.gap == 0 {
        "Đạt"
    } else {
        "Chưa đạt"
    }
}

pub fn file(data: &ReportData, format: Format3) -> Result<Vec<u8>, anyhow::Error> {
    Ok(match format {
        Format3::Pdf => pdf(data)?,
        Format3::Xlsx => xlsx(data)?,
        Format3::Csv => csv(data)?,
    })
}

pub fn pdf(data: &ReportData) -> Result<Vec<u8>, DocumentError> {
    let clean = |s: &str| documents::clean(s, 400);
    let indicators: Vec<_> = data
        .indicators
        .iter()
        .map(|l| {
            json!({
                "name": clean(&l.name),
                "reached": format!("{}/{}", number_vi(l.numerator), number_vi(l.denominator)),
                "value": value_text(l),
                "target": percent(l.target),
                "gap": number_vi(l.gap),
                "previous": previous_text(l),
                "change": change_text(l),
                "status": status_text(l),
            })
        })
        .collect();
    let models: Vec<_> = data
        .models
        .iter()
        .map(|m| json!({"name": clean(&m.name), "status": m.status, "detail": clean(&m.detail)}))
        .collect();
    let tasks: Vec<_> = data
        .tasks
        .iter()
        .map(|t| {
            json!({
                "code": t.code,
                "title": clean(&t.title),
                "agency": clean(&t.agency_name),
                "role": t.role_label(),
                "status": t.status_label(),
                "progress": t.progress.map_or_else(|| "–".to_owned(), |p| format!("{p}\u{a0}%")),
                "evidence": clean(&t.evidence_line()),
                "flag": t.overdue,
            })
        })
        .collect();
    let lagging: Vec<_> = data
        .lagging
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({"rank": i + 1, "name": clean(&l.name), "share": percent(l.missing_share), "gap": number_vi(l.gap)})
        })
        .collect();
    let view = json!({
        "title": format!("Báo cáo {} — {}", data.quarter_label.to_lowercase(), clean(&data.reporter_name)),
        "reporter": clean(&data.reporter_name),
        "quarter": data.quarter_label,
        "year": data.year,
        "source": data.source,
        "agency": data.indicators.is_empty() && data.lagging_title.is_empty(),
        "indicators": indicators,
        "models": models,
        "tasks": tasks,
        "task_scope": if data.reporter.len() == 5 && data.reporter.bytes().all(|b| b.is_ascii_digit()) { "commune" } else { "other" },
        "lagging_title": data.lagging_title,
        "lagging": lagging,
    });
    let ident = format!("bao-cao-{}-{}", data.reporter, data.quarter);
    documents::pdf(&documents::Document { template: TEMPLATE, data: &view, files: Vec::new(), ident: &ident })
}

/// One table for every part (CSV): part, code, content, then the part's figures.
const CSV_HEADER: [&str; 12] = [
    "Phần",
    "Mã",
    "Nội dung",
    "Đạt",
    "Tổng số",
    "Tỷ lệ (%)",
    "Mục tiêu (%)",
    "Còn thiếu",
    "Tỷ lệ quý trước (%)",
    "Thay đổi (điểm %)",
    "Trạng thái",
    "Ghi chú",
];

/// Percent with two decimals and a dot, for machines; empty when unknown.
fn machine(share: Option<f64>) -> String {
    share.map(|s| format!("{:.2}", s * 100.0)).unwrap_or_default()
}

fn rows(data: &ReportData) -> Vec<[String; 12]> {
    let mut out = Vec::new();
    for l in &data.indicators {
        out.push([
            "Chỉ tiêu".into(),
            l.code.clone(),
            l.name.clone(),
            l.numerator.to_string(),
            l.denominator.to_string(),
            machine(l.value),
            format!("{:.2}", l.target * 100.0),
            l.gap.to_string(),
            machine(l.previous),
            l.change_points().map(|c| format!("{c:.2}")).unwrap_or_default(),
            status_text(l).into(),
            String::new(),
        ]);
    }
    if data.indicators.is_empty() {
        out.push(empty_row("Chỉ tiêu", "Cơ quan không có chỉ tiêu đếm theo người: chưa có dữ liệu"));
    }
    for m in &data.models {
        let mut row = empty_row("Mô hình cộng đồng", &m.name);
        row[10] = m.status.clone();
        row[11] = m.detail.clone();
        out.push(row);
    }
    for t in &data.tasks {
        let mut row = empty_row("Nhiệm vụ", &t.title);
        row[1] = t.code.clone();
        row[5] = t.progress.map(|p| p.to_string()).unwrap_or_default();
        row[10] = t.status_label().into();
        let evidence = t.evidence_line();
        row[11] = format!(
            "{}: {}{}",
            t.role_label(),
            t.agency_name,
            if evidence.is_empty() { String::new() } else { format!(" — {evidence}") }
        );
        out.push(row);
    }
    for l in &data.lagging {
        let mut row = empty_row("Đơn vị chậm tiến độ", &l.name);
        row[1] = l.code.clone();
        row[5] = format!("{:.2}", l.missing_share * 100.0);
        row[7] = l.gap.to_string();
        row[11] = "Tỷ lệ người còn thiếu trên tổng số được đếm".into();
        out.push(row);
    }
    out
}

fn empty_row(part: &str, content: &str) -> [String; 12] {
    let mut row: [String; 12] = Default::default();
    row[0] = part.to_owned();
    row[2] = content.to_owned();
    row
}

pub fn csv(data: &ReportData) -> Result<Vec<u8>, anyhow::Error> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(CSV_HEADER)?;
    for row in rows(data) {
        out.write_record(row.iter().map(|v| neutralise_formula(v)))?;
    }
    out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Sheets: "Chỉ tiêu" (numbers as numbers), "Mô hình", "Nhiệm vụ", "Chậm tiến độ".
pub fn xlsx(data: &ReportData) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let title = format!("Báo cáo {} — {}", data.quarter_label.to_lowercase(), data.reporter_name);

    let sheet = book.add_worksheet();
    sheet.set_name("Chỉ tiêu")?;
    sheet.write_string_with_format(0, 0, &title, &bold)?;
    sheet.write_string(1, 0, &data.source)?;
    let header = [
        "Mã",
        "Chỉ tiêu",
        "Đạt",
        "Tổng số",
        "Tỷ lệ (%)",
        "Mục tiêu (%)",
        "Còn thiếu",
        "Tỷ lệ quý trước (%)",
        "Thay đổi (điểm %)",
        "Trạng thái",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (i, l) in data.indicators.iter().enumerate() {
        let r = 4 + i as u32;
        sheet.write_string(r, 0, &l.code)?;
        sheet.write_string(r, 1, neutralise_formula(&l.name))?;
        sheet.write_number(r, 2, l.numerator as f64)?;
        sheet.write_number(r, 3, l.denominator as f64)?;
        match l.value {
            Some(v) => sheet.write_number(r, 4, round2(v * 100.0))?,
            None => sheet.write_string(r, 4, NO_DATA)?,
        };
        sheet.write_number(r, 5, round2(l.target * 100.0))?;
        sheet.write_number(r, 6, l.gap as f64)?;
        match l.previous {
            Some(v) => sheet.write_number(r, 7, round2(v * 100.0))?,
            None => sheet.write_string(r, 7, NO_DATA)?,
        };
        match l.change_points() {
            Some(v) => sheet.write_number(r, 8, round2(v))?,
            None => sheet.write_string(r, 8, NO_DATA)?,
        };
        sheet.write_string(r, 9, status_text(l))?;
    }
    if data.indicators.is_empty() {
        sheet.write_string(4, 1, "Cơ quan không có chỉ tiêu đếm theo người: chưa có dữ liệu")?;
    }
    sheet.set_column_width(1, 60)?;

    let sheet = book.add_worksheet();
    sheet.set_name("Mô hình")?;
    for (c, h) in ["Mô hình cộng đồng", "Căn cứ", "Trạng thái", "Chi tiết"].iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, m) in data.models.iter().enumerate() {
        let r = 1 + i as u32;
        sheet.write_string(r, 0, neutralise_formula(&m.name))?;
        sheet.write_string(r, 1, &m.seed_ref)?;
        sheet.write_string(r, 2, &m.status)?;
        sheet.write_string(r, 3, neutralise_formula(&m.detail))?;
    }
    if data.models.is_empty() {
        sheet.write_string(1, 0, NO_DATA)?;
    }
    sheet.set_column_width(0, 60)?;

    let sheet = book.add_worksheet();
    sheet.set_name("Nhiệm vụ")?;
    for (c, h) in ["Mã", "Nhiệm vụ", "Cơ quan", "Vai trò", "Trạng thái", "Tiến độ (%)", "Minh chứng"].iter().enumerate()
    {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, t) in data.tasks.iter().enumerate() {
        let r = 1 + i as u32;
        sheet.write_string(r, 0, &t.code)?;
        sheet.write_string(r, 1, neutralise_formula(&t.title))?;
        sheet.write_string(r, 2, neutralise_formula(&t.agency_name))?;
        sheet.write_string(r, 3, t.role_label())?;
        sheet.write_string(r, 4, t.status_label())?;
        if let Some(p) = t.progress {
            sheet.write_number(r, 5, p as f64)?;
        }
        sheet.write_string(r, 6, neutralise_formula(&t.evidence_line()))?;
    }
    sheet.set_column_width(1, 60)?;

    let sheet = book.add_worksheet();
    sheet.set_name("Chậm tiến độ")?;
    for (c, h) in ["Hạng", "Mã", "Đơn vị", "Tỷ lệ còn thiếu (%)", "Số người còn thiếu"].iter().enumerate()
    {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, l) in data.lagging.iter().enumerate() {
        let r = 1 + i as u32;
        sheet.write_number(r, 0, (i + 1) as f64)?;
        sheet.write_string(r, 1, &l.code)?;
        sheet.write_string(r, 2, neutralise_formula(&l.name))?;
        sheet.write_number(r, 3, round2(l.missing_share * 100.0))?;
        sheet.write_number(r, 4, l.gap as f64)?;
    }
    book.save_to_buffer()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
