//! `hocvuso tracking rebuild`.

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
