use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::config::Config;
use crate::store::Store;

/// Serves the platform until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    config.require_data_key()?;
    let store = super::open_store(&config).await?;
    run(config, store).await
}

pub async fn run(config: Config, store: Store) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = %config.database_url, "serving");
    eprintln!("hocvuso đang chạy tại / is serving at http://{address}");
    let state = AppState::new(store.clone(), config).await?;
    crate::certificates::keys::ensure(&state.store, &state.keys.signing).await?;
    crate::certificates::vneid::spawn(&state);
    crate::tracking::snapshot::spawn(state.store.clone());
    // The assistant's index is built on start, not at the first question (issue 23).
    let warm = state.clone();
    tokio::spawn(async move {
        let built = match warm.catalog.snapshot(&warm.store).await {
            Ok(snapshot) => warm.assistant.index(&warm.store, &snapshot).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = built {
            tracing::warn!(error = %e, "the assistant's index will be built at the first question");
        }
    });
    axum::serve(listener, crate::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
