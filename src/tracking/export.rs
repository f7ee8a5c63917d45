//! Lists as downloads: CSV (UTF-8 with a BOM, so that Excel reads the diacritics) or an XLSX
//! workbook. Every export of people, visits, classes and mentors goes through this one path; the
//! caller reads its rows through the unit scope and audits the export before it calls [`download`].

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::registry::import::report::neutralise_formula;
use crate::web::error::AppError;

/// The two formats a list downloads as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// A list to download: its column titles, its rows (text), and which columns hold numbers (written
/// as numbers in a workbook when they parse as one).
pub struct Table<'a> {
    pub header: &'a [&'a str],
    pub rows: Vec<Vec<String>>,
    pub numbers: &'a [usize],
}

/// The table as `{stem}.csv` or `{stem}.xlsx`, never cached.
///
/// A commune's list is tens of thousands of rows: they are written out on a blocking thread, so
/// that the server's async workers (two on two cores) go on answering everyone else meanwhile.
pub async fn download(format: Format, stem: &str, table: Table<'static>) -> Result<Response, AppError> {
    let body = tokio::task::spawn_blocking(move || match format {
        Format::Csv => csv(&table),
        Format::Xlsx => xlsx(&table).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}"))),
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.{}\"", format.code())),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

fn csv(table: &Table<'_>) -> Result<Vec<u8>, AppError> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut write = || -> csv::Result<()> {
        out.write_record(table.header)?;
        for row in &table.rows {
            // Every text cell, since a spreadsheet would run any of them that looks like a formula.
            out.write_record(row.iter().map(|v| neutralise_formula(v)))?;
        }
        Ok(())
    };
    write().map_err(|e| AppError::Internal(e.into()))?;
    out.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

/// Every cell is written as text or number, never as a formula.
fn xlsx(table: &Table<'_>) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Danh sach")?;
    for (col, title) in table.header.iter().enumerate() {
        sheet.write_string(0, col as u16, *title)?;
    }
    for (i, row) in table.rows.iter().enumerate() {
        let line = i as u32 + 1;
        for (col, value) in row.iter().enumerate() {
            if table.numbers.contains(&col)
                && let Ok(number) = value.parse::<f64>()
            {
                sheet.write_number(line, col as u16, number)?;
            } else {
                sheet.write_string(line, col as u16, value)?;
            }
        }
    }
    book.save_to_buffer()
}
