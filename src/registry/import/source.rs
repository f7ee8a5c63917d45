//! Reading a roster file (CSV or the first sheet of an XLSX workbook) as rows of text cells,
//! with header matching. Every cell is cleaned (NFC, trimmed) here, once.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::domain::text::{clean, cleaned};

/// One cell as read. XLSX keeps whether a value was stored as a number: a citizen number
/// stored as a number has lost its leading zero and cannot be trusted.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Borrowed from the row read when the file's text was already clean.
    Text(Cow<'a, str>),
    Number(String),
    /// The bytes were not UTF-8.
    NotUtf8,
}

impl Cell<'_> {
    pub fn text(&self) -> &str {
        match self {
            Self::Text(t) => t,
            Self::Number(t) => t,
            Self::NotUtf8 => "",
        }
    }
}

/// A data row with its number as a spreadsheet shows it (the header is row 1).
/// CSV rows stay bytes until they are checked, so that decoding runs on every core.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub line: u64,
    data: RowData,
}

#[derive(Debug, Clone)]
enum RowData {
    Bytes(csv::ByteRecord),
    Cells(Vec<Cell<'static>>),
}

impl RawRow {
    pub fn new(line: u64, cells: Vec<Cell<'static>>) -> Self {
        Self { line, data: RowData::Cells(cells) }
    }

    /// The row's cells, decoded and cleaned.
    pub fn cells(&self) -> Cow<'_, [Cell<'_>]> {
        match &self.data {
            RowData::Bytes(record) => Cow::Owned(record.iter().map(decode).collect()),
            RowData::Cells(cells) => Cow::Borrowed(cells),
        }
    }
}

/// Problems that make the whole file unusable.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("tệp rỗng / the file is empty")]
    Empty,
    #[error("tệp chỉ có dòng tiêu đề, không có dữ liệu / the file has a header but no data rows")]
    HeaderOnly,
    #[error("thiếu cột bắt buộc: {0} / missing required columns: {0}")]
    MissingColumns(String),
    #[error("cột không được hỗ trợ: {0} (cột hợp lệ: {1}) / unknown columns: {0} (allowed: {1})")]
    UnknownColumns(String, String),
    #[error("cột bị lặp: {0} / duplicated column: {0}")]
    DuplicateColumn(String),
    #[error("dòng tiêu đề không phải UTF-8 / the header row is not UTF-8")]
    HeaderNotUtf8,
    #[error("không đọc được tệp {path}: {reason} / cannot read the file")]
    Unreadable { path: String, reason: String },
    #[error("định dạng tệp không được hỗ trợ (chỉ .csv và .xlsx) / unsupported file type (only .csv and .xlsx)")]
    UnsupportedType,
}

/// Every message reads "Vietnamese / English".
impl crate::domain::Bilingual for FileError {
    fn vi(&self) -> String {
        let text = self.to_string();
        text.rsplit_once(" / ").map_or(text.clone(), |(vi, _)| vi.to_owned())
    }

    fn en(&self) -> String {
        let text = self.to_string();
        text.rsplit_once(" / ").map_or(text.clone(), |(_, en)| en.to_owned())
    }
}

/// The columns a kind of import understands.
pub struct Columns {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

/// Maps each known column name to its position in the file.
#[derive(Debug, Clone)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    fn resolve(raw: Vec<String>, columns: &Columns) -> Result<Self, FileError> {
        let names: Vec<String> = raw.iter().map(|h| clean(h).to_lowercase()).collect();
        let allowed: Vec<&str> = columns.required.iter().chain(columns.optional).copied().collect();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(FileError::DuplicateColumn(name.clone()));
            }
        }
        let unknown: Vec<&str> = names.iter().map(String::as_str).filter(|n| !allowed.contains(n)).collect();
        if !unknown.is_empty() {
            return Err(FileError::UnknownColumns(
                unknown.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "),
                allowed.join(","),
            ));
        }
        let missing: Vec<&str> = columns.required.iter().copied().filter(|r| !names.iter().any(|n| n == r)).collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns(missing.join(", ")));
        }
        Ok(Self { names })
    }

    pub fn position(&self, column: &str) -> Option<usize> {
        self.names.iter().position(|n| n == column)
    }

    /// The text of a named column in a decoded row; empty when the column or the cell is absent.
    pub fn text(&self, cells: &[Cell], column: &str) -> String {
        self.position(column).and_then(|p| cells.get(p)).map(|c| c.text().to_owned()).unwrap_or_default()
    }
}

/// The file opened: its header and an iterator over its data rows.
pub struct Table {
    pub header: Header,
    pub rows: Box<dyn Iterator<Item = Result<RawRow, FileError>> + Send>,
}

impl Table {
    /// Rows made in memory (the synthetic province) read like a file with this header.
    pub fn from_rows(
        header: &[&str],
        columns: &Columns,
        rows: impl Iterator<Item = Vec<String>> + Send + 'static,
    ) -> Result<Self, FileError> {
        let header = Header::resolve(header.iter().map(|h| (*h).to_owned()).collect(), columns)?;
        let rows = rows
            .enumerate()
            .map(|(i, cells)| Ok(RawRow::new(i as u64 + 2, cells.into_iter().map(|c| Cell::Text(c.into())).collect())));
        Ok(Self { header, rows: Box::new(rows) })
    }
}

pub fn open(path: &Path, columns: &Columns) -> Result<Table, FileError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_lowercase).unwrap_or_default();
    let unreadable =
        |e: &dyn std::fmt::Display| FileError::Unreadable { path: path.display().to_string(), reason: e.to_string() };
    match extension.as_str() {
        "csv" | "txt" => {
            let file = File::open(path).map_err(|e| unreadable(&e))?;
            open_csv(BufReader::with_capacity(1 << 20, file), columns)
        }
        "xlsx" | "xlsm" => open_xlsx(path, columns),
        _ => Err(FileError::UnsupportedType),
    }
}

fn decode(bytes: &[u8]) -> Cell<'_> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cell::Text(cleaned(text)),
        Err(_) => Cell::NotUtf8,
    }
}

/// CSV: UTF-8 with or without BOM, comma or semicolon (whichever the header uses), CRLF or LF, quoted fields.
pub fn open_csv(mut input: impl Read + Send + 'static, columns: &Columns) -> Result<Table, FileError> {
    // Look at the first line to pick the delimiter, then hand everything to the csv reader.
    let mut head = Vec::with_capacity(4096);
    let mut byte = [0u8; 1];
    loop {
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                head.push(byte[0]);
                if byte[0] == b'\n' || head.len() > 1 << 20 {
                    break;
                }
            }
            Err(e) => {
                return Err(FileError::Unreadable { path: String::new(), reason: e.to_string() });
            }
        }
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        head.drain(..3);
    }
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    let delimiter = if head.iter().filter(|&&b| b == b';').count() > head.iter().filter(|&&b| b == b',').count() {
        b';'
    } else {
        b','
    };
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(std::io::Cursor::new(head).chain(input));
    let mut records = reader.into_byte_records();
    let header_record = match records.next() {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return Err(FileError::Unreadable { path: String::new(), reason: e.to_string() });
        }
        None => return Err(FileError::Empty),
    };
    let mut raw_header = Vec::new();
    for field in &header_record {
        raw_header.push(std::str::from_utf8(field).map_err(|_| FileError::HeaderNotUtf8)?.to_owned());
    }
    let header = Header::resolve(raw_header, columns)?;
    let mut line = 1u64;
    let mut rows = records
        .filter_map(move |record| {
            line += 1;
            match record {
                Ok(r) if r.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) => None,
                Ok(r) => Some(Ok(RawRow { line, data: RowData::Bytes(r) })),
                Err(e) => {
                    Some(Err(FileError::Unreadable { path: String::new(), reason: format!("dòng {line}: {e}") }))
                }
            }
        })
        .peekable();
    if rows.peek().is_none() {
        return Err(FileError::HeaderOnly);
    }
    Ok(Table { header, rows: Box::new(rows) })
}

/// Rows of an XLSX sheet in flight between the thread that reads it and the import.
const XLSX_ROWS_IN_FLIGHT: usize = 4096;

/// One row of a sheet: its 0-based row index and its cells by 0-based column.
type SheetRow = (u32, Vec<(u32, Cell<'static>)>);

/// XLSX: the first sheet, its first row with a value the header. Dates become `YYYY-MM-DD`.
/// The sheet is read cell by cell on a thread of its own and handed over row by row through a
/// bounded channel, so a roster of millions of rows is never held whole (only the workbook's
/// table of shared strings is).
fn open_xlsx(path: &Path, columns: &Columns) -> Result<Table, FileError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<SheetRow, FileError>>(XLSX_ROWS_IN_FLIGHT);
    let owned = path.to_owned();
    std::thread::Builder::new()
        .name("xlsx-reader".into())
        .spawn(move || {
            // A reader that stopped half-way must not look like the end of the sheet.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_sheet(&owned, &tx)))
                .unwrap_or_else(|_| {
                    Err(FileError::Unreadable {
                        path: owned.display().to_string(),
                        reason: "the XLSX reader failed".into(),
                    })
                });
            if let Err(e) = outcome {
                // The import may have stopped listening (a bad header): then nobody needs the error.
                let _ = tx.send(Err(e));
            }
        })
        .map_err(|e| FileError::Unreadable { path: path.display().to_string(), reason: e.to_string() })?;
    let mut rows = rx.into_iter();
    let (_, header_cells) = rows.next().ok_or(FileError::Empty)??;
    // Columns count from the header's first cell: a sheet may start at any column.
    let origin = header_cells.first().map_or(0, |(c, _)| *c);
    let raw_header: Vec<String> = spread(header_cells, origin).iter().map(|c| c.text().to_owned()).collect();
    let header = Header::resolve(raw_header, columns)?;
    let mut rows =
        rows.map(move |row| row.map(|(r, cells)| RawRow::new(u64::from(r) + 1, spread(cells, origin)))).peekable();
    match rows.peek() {
        None => return Err(FileError::HeaderOnly),
        Some(Err(_)) => return Err(rows.next().and_then(Result::err).unwrap_or(FileError::Empty)),
        Some(Ok(_)) => {}
    }
    Ok(Table { header, rows: Box::new(rows) })
}

/// Cells by column from `origin` on, empty text where the sheet has none; cells left of it dropped.
fn spread(cells: Vec<(u32, Cell<'static>)>, origin: u32) -> Vec<Cell<'static>> {
    let mut out = Vec::new();
    for (column, cell) in cells {
        let Some(at) = column.checked_sub(origin).map(|c| c as usize) else { continue };
        if out.len() <= at {
            out.resize(at + 1, Cell::Text(Cow::Borrowed("")));
        }
        out[at] = cell;
    }
    out
}

/// Reads the first sheet and sends its non-empty rows in order; stops when the receiver is gone.
fn read_sheet(path: &Path, tx: &std::sync::mpsc::SyncSender<Result<SheetRow, FileError>>) -> Result<(), FileError> {
    use calamine::{DataRef, Reader, Xlsx};
    let unreadable =
        |e: &dyn std::fmt::Display| FileError::Unreadable { path: path.display().to_string(), reason: e.to_string() };
    let mut workbook: Xlsx<_> = calamine::open_workbook(path).map_err(|e| unreadable(&e))?;
    let first = workbook.sheet_names().first().cloned().ok_or(FileError::Empty)?;
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(|e| unreadable(&e))?;
    let cell = |data: &DataRef| -> Cell<'static> {
        match data {
            DataRef::DateTimeIso(s) => Cell::Text(s.chars().take(10).collect::<String>().into()),
            DataRef::String(s) => Cell::Text(clean(s).into()),
            DataRef::SharedString(s) => Cell::Text(clean(s).into()),
            DataRef::Float(f) => {
                Cell::Number(if f.fract() == 0.0 && f.abs() < 1e15 { format!("{}", *f as i64) } else { f.to_string() })
            }
            DataRef::Int(i) => Cell::Number(i.to_string()),
            DataRef::DateTime(d) => Cell::Text(excel_date(d.as_f64()).into()),
            DataRef::Empty => Cell::Text(Cow::Borrowed("")),
            DataRef::Bool(b) => Cell::Text(b.to_string().into()),
            DataRef::DurationIso(d) => Cell::Text(clean(d).into()),
            DataRef::Error(e) => Cell::Text(e.to_string().into()),
        }
    };
    let mut row: Option<SheetRow> = None;
    let send = |row: SheetRow| -> bool {
        let blank = row.1.iter().all(|(_, c)| c.text().trim().is_empty());
        blank || tx.send(Ok(row)).is_ok()
    };
    while let Some(c) = cells.next_cell().map_err(|e| unreadable(&e))? {
        let (r, column) = c.get_position();
        let value = cell(c.get_value());
        match &mut row {
            Some((current, values)) if *current == r => values.push((column, value)),
            _ => {
                if let Some(done) = row.take()
                    && !send(done)
                {
                    return Ok(());
                }
                row = Some((r, vec![(column, value)]));
            }
        }
    }
    if let Some(done) = row {
        send(done);
    }
    Ok(())
}

/// Excel stores a date as days since 1899-12-30.
fn excel_date(serial: f64) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    base.checked_add_days(chrono::Days::new(serial.max(0.0) as u64))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: Columns = Columns { required: &["a", "b"], optional: &["c"] };

    fn read(text: &'static [u8]) -> Result<Vec<RawRow>, FileError> {
        let table = open_csv(text, &COLUMNS)?;
        table.rows.collect()
    }

    #[test]
    fn bom_semicolons_crlf_and_quotes() {
        let rows = read(b"\xEF\xBB\xBFB;A\r\n\"x;y\";2\r\n").unwrap();
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].cells()[0], Cell::Text("x;y".into()));
    }

    #[test]
    fn header_problems_are_named() {
        assert!(matches!(read(b"a,c\n1,2\n"), Err(FileError::MissingColumns(m)) if m == "b"));
        assert!(matches!(read(b"a,b,zzz\n1,2,3\n"), Err(FileError::UnknownColumns(u, _)) if u.contains("zzz")));
        assert!(matches!(read(b"a,b\n"), Err(FileError::HeaderOnly)));
        assert!(matches!(read(b""), Err(FileError::Empty)));
    }

    #[test]
    fn invalid_utf8_is_a_cell_not_a_crash() {
        let rows = read(b"a,b\n\xff\xfe,2\n").unwrap();
        assert_eq!(rows[0].cells()[0], Cell::NotUtf8);
    }
}
