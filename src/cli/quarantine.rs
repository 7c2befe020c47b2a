//! `sp4n quarantine list|clear`: items set aside during runs. Their raw bytes can carry
//! reporter identity, hidden unless `--reveal-reporter` is given.

use super::{CliError, Ctx, EXIT_CONFIG};
use crate::model::format_wib_short;

#[derive(Debug, clap::Subcommand)]
pub enum QuarantineCmd {
    /// List set-aside items (reason, when, run; raw bytes with --json, reporter hidden).
    List {
        /// Show reporter names, emails and phones in the raw bytes (personal data).
        #[arg(long)]
        reveal_reporter: bool,
    },
    /// Clear one set-aside item after a person looked at it (the reason is logged).
    #[command(
        after_help = "Example:\n  sp4n quarantine clear 42 --reason \"Halaman sudah terbaca pada rekonsiliasi.\""
    )]
    Clear {
        /// The item's id (`#N` in `sp4n quarantine list`).
        id: u64,
        /// Why it may go.
        #[arg(long)]
        reason: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: QuarantineCmd) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    match cmd {
        QuarantineCmd::List { reveal_reporter } => {
            let mut items = store.run(|s| s.quarantined()).await?;
            if !reveal_reporter {
                items = items.iter().map(|q| q.redacted()).collect();
            }
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
                println!(
                    "Raw bytes: `sp4n quarantine list --json` (reporter data hidden; --reveal-reporter shows it). Clear one: `sp4n quarantine clear ID --reason TEXT`."
                );
            }
            Ok(0)
        }
        QuarantineCmd::Clear { id, reason } => {
            let reason = reason.trim().to_string();
            if reason.is_empty() {
                return Err(CliError::new(
                    EXIT_CONFIG,
                    "say why the item may go with --reason",
                ));
            }
            match store.run(move |s| s.clear_quarantined(id)).await? {
                Some(q) => {
                    tracing::warn!(
                        item = q.id,
                        tracking_id = q.tracking_id,
                        reason = %reason,
                        by = %super::push::who(),
                        "A set-aside item was cleared by a person."
                    );
                    if ctx.json {
                        ctx.print_json(&serde_json::json!({"cleared": q.id, "reason": reason}))?;
                    } else {
                        println!("Item #{} cleared ({reason}).", q.id);
                    }
                    Ok(0)
                }
                None => Err(CliError::new(
                    EXIT_CONFIG,
                    format!("no set-aside item #{id}: see `sp4n quarantine list`"),
                )),
            }
        }
    }
}
