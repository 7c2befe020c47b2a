//! `sp4n run`: the agent. Runs the `[schedule]` jobs (pull, push, reconcile) on their cron
//! lines with [`crate::schedule::Scheduler`], one at a time, and serves the local HTTP API
//! ([`crate::server`], under `/api/v1`) with `GET /healthz` and `GET /metrics` beside it on
//! `[server] listen` (or `--listen`).
//!
//! * One agent per store: the store's lock refuses a second one (exit 5, with the first
//!   one's PID).
//! * SIGTERM/SIGINT: the running job gets `[schedule] grace_seconds` to finish; every
//!   store write is atomic per page or outbox entry, so a job cut off after the grace time
//!   leaves nothing half-committed; the process exits 0.
//! * SIGHUP: re-reads the configuration after the running job (if any) finished and
//!   rebuilds the scheduler; an invalid new configuration is logged and the old one kept.
//!   The store path and the listen address only change on a restart.
//! * The pull and reconcile jobs load the mapping files at their start
//!   ([`crate::mapping::load_active`]): a valid edit routes from then on; an invalid one is
//!   logged and noted in the run report while the last valid revision keeps routing.
//! * Status: the agent publishes its snapshot to `<store>/agent-status.json` (see
//!   [`crate::app::status`]) whenever a job starts or ends, so `sp4n status` works while the
//!   agent holds the store.
//!
//! When ready, the agent prints one line to stdout:
//! `sp4n agent ready: pid PID, listening on http://ADDR` (tests and scripts wait for it).

use super::{CliError, Ctx};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Where /healthz and /metrics listen (overrides `[server] listen`; port 0 picks one).
    #[arg(long)]
    pub listen: Option<String>,
}

/// Runs the agent ([`crate::app::agent::run`]) until a signal stops it.
pub async fn run(ctx: &Ctx, args: RunArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    crate::app::agent::run(cfg, &ctx.config_path, args.listen).await?;
    Ok(0)
}
