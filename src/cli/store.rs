//! `sp4n store rebuild`: recovery from a damaged store; `sp4n store compact`: reclaims
//! the room superseded complaint records take in the value log.
//!
//! Moves the store aside (never deletes it), exports first what exists only locally —
//! unfinished outbox entries, routing decisions, triage notes — to a JSON file when the old
//! store is still readable, then pulls everything again into a fresh store and puts the
//! exported data back into it.

use super::{CliError, Ctx};
use crate::app::rebuild::restore;
use crate::app::sync::Vocabulary;
use crate::pull::Mode;
use crate::store::StoreError;

#[derive(Debug, clap::Subcommand)]
pub enum StoreCmd {
    /// Move the store aside, export local-only data, pull everything again, put the data back.
    #[command(
        after_help = "Example:\n  sp4n store rebuild\n\nThe old store is kept as <store>.damaged-<time>; the export is <store>.export-<time>.json. Routing decisions by people, triage notes and unfinished outbox entries (with their refs, so nothing is sent twice) are put back into the new store; anything that could not be is named, and stays in the export."
    )]
    Rebuild,
    /// Reclaim the room of superseded complaint records now.
    #[command(
        after_help = "Example:\n  sp4n store compact\n\nPulls compact on their own when superseded records outgrow the live ones (and take 32 MiB); this command does it at once. Safe to interrupt: the store stays readable."
    )]
    Compact,
}

pub async fn run(ctx: &Ctx, cmd: StoreCmd) -> Result<i32, CliError> {
    match cmd {
        StoreCmd::Rebuild => rebuild(ctx).await,
        StoreCmd::Compact => compact(ctx).await,
    }
}

/// What `store compact` reports.
#[derive(Debug, serde::Serialize)]
struct Compacted {
    value_log_bytes_before: u64,
    value_log_bytes_after: u64,
    reclaimed_bytes: u64,
}

async fn compact(ctx: &Ctx) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let (before, reclaimed) = store
        .run(|s| {
            let (before, _) = s.value_log_usage()?;
            Ok::<_, StoreError>((before, s.compact(true)?.unwrap_or(0)))
        })
        .await?;
    let out = Compacted {
        value_log_bytes_before: before,
        value_log_bytes_after: before - reclaimed,
        reclaimed_bytes: reclaimed,
    };
    if ctx.json {
        ctx.print_json(&out)?;
    } else {
        use crate::report::status::human_bytes;
        println!(
            "compacted the value log: {} -> {} ({} reclaimed)",
            human_bytes(out.value_log_bytes_before),
            human_bytes(out.value_log_bytes_after),
            human_bytes(out.reclaimed_bytes)
        );
    }
    Ok(0)
}

async fn rebuild(ctx: &Ctx) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let old = crate::app::rebuild::set_aside(&cfg).await?;
    eprintln!("{}", old.export_note);
    eprintln!("moved the old store to {}", old.aside.display());
    let client = crate::app::context::client(&cfg)?;
    let store = ctx.open_store(&cfg).await?;
    let report = crate::app::sync::pull(
        &store,
        &client,
        &cfg,
        Mode::Reconcile,
        Vocabulary::Skip,
        !ctx.json,
        &super::print_rejected,
    )
    .await?;
    super::pull::print_report(ctx, &report)?;
    if let Some(ex) = old.exported {
        let r = store.run(move |s| restore(s, &ex)).await?;
        eprintln!(
            "restored {} routing decisions, {} triage notes and {} unfinished outbox entries",
            r.routings, r.history_events, r.outbox_entries
        );
        if !r.missing.is_empty() {
            eprintln!(
                "not in the new store yet (their routing and notes stay in the export): {}",
                r.missing
                    .iter()
                    .map(|id| id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(crate::pull::exit_code(&report))
}
