//! What each subcommand does. `main.rs` only parses the command line and calls these.

pub mod assistant;
pub mod backup;
pub mod certificates;
pub mod demo;
mod demo_classes;
mod demo_community;
mod demo_movement;
pub mod generate;
pub mod import;
pub mod learning;
pub mod report;
pub mod serve;
pub mod tracking;
pub mod user;

use crate::config::Config;
use crate::store::Store;

/// Opens the configured database and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    eprintln!("cơ sở dữ liệu {} đã được cập nhật cấu trúc / the database schema is up to date", config.database_url);
    store.close().await;
    Ok(())
}
