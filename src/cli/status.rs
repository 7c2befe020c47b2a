//! `sp4n status`: is the connector healthy? Each job's last run and next fire, the
//! cursor, the outbox (depth and held entries), set-aside items, the mapping revision and
//! whether the files on disk are valid, the store's size.
//!
//! Works whether or not an agent runs. The store admits one process at a time, so a
//! running `sp4n run` publishes its snapshot to `<store>/agent-status.json` (written
//! atomically at start and after every job); when the store is locked, `status` prints
//! that file with the agent's PID. Otherwise it opens the store and builds the snapshot
//! itself, with next fire times computed from `[schedule]`.

use super::{CliError, Ctx, EXIT_STORE};
use crate::app::status::{AGENT_STATUS_FILE, Published, snapshot};
use chrono::{DateTime, Utc};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Status as of this instant instead of now (RFC 3339, e.g. 2027-01-04T08:00:00+07:00).
    #[arg(long = "at", alias = "now", value_name = "RFC3339")]
    pub at: Option<DateTime<Utc>>,
}

pub async fn run(ctx: &Ctx, args: StatusArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let now = args.at.unwrap_or_else(Utc::now);
    let path = cfg.store_path();
    let store = match super::open_store(&path).await {
        Ok(s) => s,
        Err(e) => {
            let locked = std::fs::read_to_string(path.join("LOCK"))
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok());
            let published = std::fs::read(path.join(AGENT_STATUS_FILE))
                .ok()
                .and_then(|b| serde_json::from_slice::<Published>(&b).ok());
            return match (e.code, published) {
                (EXIT_STORE, Some(p)) if locked.is_some() => {
                    if ctx.json {
                        ctx.print_json(&p.json)?;
                    } else {
                        println!(
                            "(published by the running agent, PID {}; the store is in use)",
                            p.pid
                        );
                        print!("{}", p.text);
                    }
                    Ok(status_code(&p.json))
                }
                _ => Err(e),
            };
        }
    };
    let c = cfg.clone();
    let snap = store
        .run(move |s| snapshot(s, &c, None, None, now))
        .await
        .map_err(CliError::from)?;
    if ctx.json {
        println!("{}", crate::report::status::render_json(&snap));
    } else {
        print!("{}", crate::report::status::render_text(&snap));
    }
    Ok(if snap.problems().is_empty() { 0 } else { 1 })
}

fn status_code(json: &serde_json::Value) -> i32 {
    if json
        .get("healthy")
        .and_then(|h| h.as_bool())
        .unwrap_or(false)
    {
        0
    } else {
        1
    }
}
