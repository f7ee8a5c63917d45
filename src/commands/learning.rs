//! `hocvuso content import`, `hocvuso framework import`, `hocvuso xapi client`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::commands::open_store;
use crate::config::Config;
use crate::identity::audit::Actor;
use crate::learning::{framework, import, media::Media, xapi};

pub async fn import(config: &Config, dir: &Path) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let media = Media::open(&config.media_url)?;
    let outcome = import::run(&store, &media, dir).await?;
    store.close().await;
    match outcome {
        Ok(s) => {
            eprintln!(
                "đã nhập {} chương trình, {} bài học ({} phiên bản mới), {} tệp, {} câu hỏi ({} phiên bản mới) \
                 / imported {} programs, {} lessons ({} new versions), {} media files, {} items ({} new versions)",
                s.programs,
                s.lessons,
                s.new_versions,
                s.media,
                s.items,
                s.new_item_versions,
                s.programs,
                s.lessons,
                s.new_versions,
                s.media,
                s.items,
                s.new_item_versions
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} lỗi; không nhập gì / {} problems; nothing was imported", problems.len(), problems.len());
            Ok(ExitCode::from(1))
        }
    }
}

pub async fn import_framework(config: &Config, file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let store = open_store(config).await?;
    crate::store::framework::ensure_builtin(&store).await?;
    let imported =
        framework::import(&store, &text, Some(Actor::CLI)).await.with_context(|| file.display().to_string())?;
    eprintln!(
        "đã nhập khung năng lực phiên bản {} / framework version {} imported",
        imported.version, imported.version
    );
    store.close().await;
    Ok(())
}

pub async fn xapi_client(config: &Config, name: &str, read_all: bool) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (key, secret) = xapi::create_client(&store, name, read_all).await?;
    println!("key: {key}\nsecret: {secret}");
    eprintln!("lưu secret ngay: nó không được hiện lại / keep the secret now: it is not shown again");
    store.close().await;
    Ok(())
}
