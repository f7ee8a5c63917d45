//! `hocvuso report quarterly --quarter 2025Q4 [--unit CODE] --format pdf|xlsx|csv --out FILE`.

use std::path::Path;

use crate::config::Config;
use crate::domain::report::Reporter;
use crate::reports::render::{self, Format3};
use crate::tracking::snapshot::Quarter;

/// Writes the report of `unit` (the province by default, a commune's code or an agency's code) for
/// `quarter`: the stored file of an approved report, else one made from the figures now.
pub async fn quarterly(
    config: &Config,
    quarter: &str,
    unit: Option<&str>,
    format: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let quarter = Quarter::parse(quarter)
        .ok_or_else(|| anyhow::anyhow!("quý viết như 2025Q4 / a quarter is written like 2025Q4: {quarter:?}"))?;
    let unit = unit.unwrap_or(crate::domain::unit::PROVINCE_CODE);
    let reporter = Reporter::parse(unit).ok_or_else(|| {
        anyhow::anyhow!("không có đơn vị báo cáo {unit:?}: 25, mã xã 5 chữ số hoặc mã cơ quan / no such reporter")
    })?;
    let format = Format3::parse(format)
        .ok_or_else(|| anyhow::anyhow!("định dạng là pdf, xlsx hoặc csv / format is pdf, xlsx or csv: {format:?}"))?;
    let store = super::open_store(config).await?;
    let started = std::time::Instant::now();
    let (bytes, approved) = match crate::reports::approval::stored_file(&store, &reporter, quarter, format).await? {
        Some(bytes) => (bytes, true),
        None => {
            let data = crate::reports::content::gather(&store, &reporter, quarter)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            (tokio::task::spawn_blocking(move || render::file(&data, format)).await??, false)
        }
    };
    store.close().await;
    std::fs::write(out, &bytes)?;
    eprintln!(
        "{}: {} byte trong {:.2} giây{} / {} bytes in {:.2} s{}",
        out.display(),
        bytes.len(),
        started.elapsed().as_secs_f64(),
        if approved { " (bản đã duyệt)" } else { "" },
        bytes.len(),
        started.elapsed().as_secs_f64(),
        if approved { " (the approved file)" } else { "" },
    );
    Ok(())
}
