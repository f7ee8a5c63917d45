//! `hocvuso tracking rebuild` and `hocvuso tracking snapshot`.

use crate::config::Config;

pub async fn rebuild(config: &Config) -> anyhow::Result<()> {
    let store = super::open_store(config).await?;
    let started = std::time::Instant::now();
    let rows = crate::tracking::rebuild::all(&store).await?;
    eprintln!(
        "đã tính lại {rows} dòng chỉ tiêu trong {:.1} giây / recomputed {rows} counter rows in {:.1} s",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}

pub async fn snapshot(config: &Config, quarter: Option<&str>) -> anyhow::Result<()> {
    use crate::tracking::snapshot::{Quarter, take};
    let quarter = match quarter {
        Some(raw) => Quarter::parse(raw)
            .ok_or_else(|| anyhow::anyhow!("quý viết như 2025Q4 / a quarter is written like 2025Q4: {raw:?}"))?,
        None => Quarter::last_ended(crate::domain::time::today()),
    };
    let store = super::open_store(config).await?;
    let rows = take(&store, quarter).await?;
    if rows == 0 {
        eprintln!("{quarter}: đã có số liệu, giữ nguyên / already taken, kept as it was");
    } else {
        eprintln!("{quarter}: đã chụp {rows} dòng / {rows} rows taken");
    }
    store.close().await;
    Ok(())
}
