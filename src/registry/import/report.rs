//! The report of bad rows: on the terminal, and as a CSV an officer can open in Excel.

use std::io::Write;
use std::path::Path;

use crate::domain::Bilingual;
use crate::domain::person::excerpt;

/// One broken rule in one cell of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCell {
    /// The row number as a spreadsheet shows it (the header is row 1).
    pub line: u64,
    pub column: String,
    pub value: String,
    pub vi: String,
    pub en: String,
}

impl BadCell {
    pub fn new(line: u64, column: &str, value: &str, reason: &impl Bilingual) -> Self {
        Self { line, column: column.to_owned(), value: excerpt(value), vi: reason.vi(), en: reason.en() }
    }
}

/// Spreadsheet programs run a cell that starts with one of these as a formula: prefix it so it stays text.
pub fn neutralise_formula(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() }
}

pub fn print(bad: &[BadCell], out: &mut impl Write) -> std::io::Result<()> {
    let rows = {
        let mut lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
        lines.dedup();
        lines.len()
    };
    writeln!(out, "{rows} dòng không hợp lệ / {rows} invalid rows:")?;
    for b in bad {
        writeln!(
            out,
            "  dòng {}, cột {}, giá trị \"{}\": {} / row {}, column {}: {}",
            b.line, b.column, b.value, b.vi, b.line, b.column, b.en
        )?;
    }
    Ok(())
}

/// `dong,cot,gia_tri,ly_do,reason`, UTF-8 with BOM so that Excel shows Vietnamese letters.
pub fn write_csv(bad: &[BadCell], path: &Path) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(b"\xEF\xBB\xBF")?;
    let mut writer = csv::Writer::from_writer(file);
    writer.write_record(["dong", "cot", "gia_tri", "ly_do", "reason"])?;
    for b in bad {
        writer.write_record([b.line.to_string().as_str(), &b.column, &neutralise_formula(&b.value), &b.vi, &b.en])?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_formula("Nguyễn"), "Nguyễn");
    }
}
