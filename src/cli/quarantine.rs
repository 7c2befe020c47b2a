//! `sp4n quarantine list`: items set aside during runs.

use super::{CliError, Ctx};
use crate::model::format_wib_short;

#[derive(Debug, clap::Subcommand)]
pub enum QuarantineCmd {
    /// List set-aside items (reason, when, run; raw bytes with --json).
    List,
}

pub async fn run(ctx: &Ctx, cmd: QuarantineCmd) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    match cmd {
        QuarantineCmd::List => {
            let items = store.run(|s| s.quarantined()).await?;
            if ctx.json {
                ctx.print_json(&items)?;
            } else if items.is_empty() {
                println!("Nothing is set aside.");
            } else {
                for q in &items {
                    println!(
                        "#{} {} run {} complaint {}: {} ({} bytes)",
                        q.id,
                        format_wib_short(q.at),
                        q.run_id
                            .map(|r| r.to_string())
                            .unwrap_or_else(|| "-".into()),
                        q.tracking_id
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "-".into()),
                        q.reason,
                        q.raw_bytes().len()
                    );
                }
                println!("Raw bytes: `sp4n quarantine list --json`.");
            }
            Ok(0)
        }
    }
}
