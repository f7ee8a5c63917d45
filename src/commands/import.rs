use std::path::Path;
use std::process::ExitCode;

use crate::config::Config;
use crate::crypto::CitizenCipher;
use crate::registry::import::progress::Progress;
use crate::registry::import::{self, ImportError, Options, Outcome, report, source};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    People,
    Units,
    Organisations,
}

/// Exit codes: 0 all rows written; 1 nothing written (bad file or bad rows); 3 good rows written, bad rows skipped.
pub async fn run(config: &Config, what: What, file: &Path, options: &Options) -> anyhow::Result<ExitCode> {
    let columns = match what {
        What::People => &import::people::COLUMNS,
        What::Units => &import::units::COLUMNS,
        What::Organisations => &import::organisations::COLUMNS,
    };
    let cipher = match what {
        What::People => Some(CitizenCipher::new(&config.require_data_key()?)),
        _ => None,
    };
    let table = match source::open(file, columns) {
        Ok(t) => t,
        Err(e) => return reject(file, &e, options),
    };
    let store = super::open_store(config).await?;
    let result = match (what, cipher) {
        (What::People, Some(cipher)) => {
            import::people(store.clone(), &config.database_url, cipher, table, options, Progress::for_stderr()).await
        }
        (What::Units, _) => import::units::import(&store, table, options).await.map_err(ImportError::from),
        _ => import::organisations::import(&store, table, options).await.map_err(ImportError::from),
    };
    store.close().await;
    let outcome = match result {
        Ok(o) => o,
        Err(ImportError::File(e)) => return reject(file, &e, options),
        Err(ImportError::Other(e)) => return Err(e),
    };
    conclude(&outcome, options)
}

/// A file refused whole: nothing is written, and the report (when asked for) says why.
fn reject(file: &Path, e: &source::FileError, options: &Options) -> anyhow::Result<ExitCode> {
    eprintln!("tệp {} bị từ chối, không ghi gì / file rejected, nothing written: {e}", file.display());
    if let Some(path) = &options.report {
        // Row 0 stands for the file as a whole.
        report::write_csv(&[report::BadCell::new(0, "", "", e)], path)?;
        eprintln!("báo cáo / report: {}", path.display());
    }
    Ok(ExitCode::from(1))
}

/// Prints the report and picks the exit code.
pub fn conclude(outcome: &Outcome, options: &Options) -> anyhow::Result<ExitCode> {
    if !outcome.bad.is_empty() {
        report::print(&outcome.bad, &mut std::io::stderr().lock())?;
    }
    if let Some(path) = &options.report {
        report::write_csv(&outcome.bad, path)?;
        eprintln!("báo cáo / report: {}", path.display());
    }
    let bad_rows = outcome.bad_rows();
    if !outcome.committed {
        eprintln!(
            "{} dòng, {bad_rows} dòng lỗi: không ghi gì. Sửa các dòng trên, hoặc dùng --skip-invalid để chỉ ghi các dòng đúng. \
             / {} rows, {bad_rows} bad: nothing was written. Fix them, or use --skip-invalid to write only the good rows.",
            outcome.rows, outcome.rows
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "{} dòng: {} mới, {} cập nhật, {} không đổi, {bad_rows} bỏ qua vì lỗi / {} rows: {} new, {} updated, {} unchanged, {bad_rows} skipped",
        outcome.rows,
        outcome.inserted,
        outcome.changed,
        outcome.unchanged,
        outcome.rows,
        outcome.inserted,
        outcome.changed,
        outcome.unchanged
    );
    Ok(if bad_rows > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}
