//! `sp4n serve`: the local HTTP API on `[server] listen` (127.0.0.1:8080 by default) until
//! Ctrl-C or SIGTERM.

use super::{CliError, Ctx, EXIT_CONFIG};
use crate::mapping::today_wib;
use crate::server::{self, AppState, OpdDirectory};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Listen on this address instead of `[server] listen` (e.g. 127.0.0.1:8081).
    #[arg(long)]
    pub listen: Option<String>,
}

pub async fn run(ctx: &Ctx, args: ServeArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let vocab = store.run(crate::mapping::vocabulary::stored).await?;
    let loaded = crate::mapping::read_sources(&cfg.mappings.dir)
        .and_then(|s| crate::mapping::check_against(s, vocab.as_ref()));
    let (mappings, _warnings) = loaded.map_err(|diags| {
        CliError::new(
            EXIT_CONFIG,
            format!(
                "the mapping files in {} have errors; fix them (`sp4n mappings check`) before serving:\n{}",
                cfg.mappings.dir.display(),
                crate::diag::render_all(&diags)
            ),
        )
    })?;
    let opds = OpdDirectory::from_mappings(&mappings, today_wib());
    let listen = args.listen.unwrap_or(cfg.server.listen.clone());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| super::listen_error(&listen, &e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::new(EXIT_CONFIG, e.to_string()))?;
    eprintln!("Serving the API on http://{addr}/api/v1 (Ctrl-C to stop).");
    let state = AppState::new(store, opds, cfg.server.max_body_bytes);
    let limits = server::ServeLimits::from_config(&cfg.server);
    server::serve_limited(listener, server::router(state), limits, shutdown_signal())
        .await
        .map_err(|e| CliError::new(super::EXIT_STORE, format!("the API server failed: {e}")))?;
    eprintln!("API stopped.");
    Ok(0)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
