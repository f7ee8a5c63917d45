//! `hocvuso certificates rotate-key`, `hocvuso certificates revoke`.

use std::process::ExitCode;

use crate::commands::open_store;
use crate::config::Config;
use crate::crypto::Keys;

pub async fn rotate_key(config: &Config) -> anyhow::Result<()> {
    let keys = Keys::new(&config.require_data_key()?);
    let store = open_store(config).await?;
    let kid = crate::certificates::keys::rotate(&store, &keys.signing).await?;
    eprintln!(
        "khóa ký mới: {kid}; các khóa cũ vẫn được công bố để kiểm tra / new signing key {kid}; old keys stay published"
    );
    println!("{kid}");
    store.close().await;
    Ok(())
}

pub async fn revoke(config: &Config, id: &str, reason: &str) -> anyhow::Result<ExitCode> {
    let reason = crate::domain::text::clean(reason);
    if reason.is_empty() {
        eprintln!("cần --reason / a reason is required");
        return Ok(ExitCode::from(2));
    }
    let store = open_store(config).await?;
    let done = crate::certificates::officers::revoke_in_store(&store, id, &reason, None, None).await?;
    store.close().await;
    if done {
        eprintln!("đã thu hồi chứng nhận {id} / certificate revoked");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("không có chứng nhận {id} chưa thu hồi / no such unrevoked certificate");
        Ok(ExitCode::from(1))
    }
}
