//! `sp4n triage list|assign`: the administrator's triage desk (`ADMIN`).
//!
//! `list` shows the open complaints no rule could route, oldest first, with their age in
//! working days. `assign` records the administrator's decision (who, when, note) as the
//! complaint's routing and queues the disposition to the chosen OPD's unit, in one store
//! update that is flushed before the command reports success.

use super::{CliError, Ctx};
use crate::mapping::TRIAGE;
use crate::model::format_wib_short;
use crate::sla::Calendar;
use chrono::Utc;

#[derive(Debug, clap::Subcommand)]
pub enum TriageCmd {
    /// Open complaints waiting at the triage desk (ADMIN), oldest first.
    #[command(after_help = "Examples:\n  sp4n triage list\n  sp4n triage list --json")]
    List,
    /// Decide the OPD of a complaint: record it and queue the disposition.
    #[command(
        after_help = "Examples:\n  sp4n triage assign 1916449 DPUPKP\n  sp4n triage assign 1916449 KAP-WATES --note \"Mohon dicek ke lokasi.\" --by budi\n\nThe disposition waits in the outbox until `sp4n push` (or `sp4n sync`) sends it.\nOPD codes are those of mappings/opd.toml (case-sensitive)."
    )]
    Assign {
        /// The complaint's tracking id.
        tracking_id: u64,
        /// The OPD code (mappings/opd.toml).
        opd: String,
        /// The note sent with the disposition (default: "Mohon ditindaklanjuti sesuai kewenangan.").
        #[arg(long)]
        note: Option<String>,
        /// Who decided (default: $USER or $LOGNAME).
        #[arg(long)]
        by: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, cmd: TriageCmd) -> Result<i32, CliError> {
    match cmd {
        TriageCmd::List => list(ctx).await,
        TriageCmd::Assign {
            tracking_id,
            opd,
            note,
            by,
        } => assign(ctx, tracking_id, opd, note, by).await,
    }
}

async fn list(ctx: &Ctx) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let cal = Calendar::load(&cfg.mappings.dir.join("calendar.toml"))
        .map(|(c, _)| c)
        .unwrap_or_else(|_| Calendar::weekends_only(crate::model::WIB));
    let store = ctx.open_store(&cfg).await?;
    // Advice needs the mappings in force; the list still shows without them.
    let active = crate::app::context::active_mappings(&cfg, &store)
        .await
        .ok();
    let m = active.as_ref().map(|a| a.mappings.as_ref());
    let rows = crate::app::triage::waiting_list(&store, &cal, Utc::now(), m).await?;
    if ctx.json {
        ctx.print_json(&rows)?;
        return Ok(0);
    }
    if rows.is_empty() {
        println!("Tidak ada aduan di meja triase ({TRIAGE}).");
        return Ok(0);
    }
    println!(
        "{:>9}  {:<20}  {:>4}  {:<28}  {:<9}  judul",
        "TRACKING", "PERTAMA DILIHAT", "HK", "TOPIK", "KAPANEWON"
    );
    for w in &rows {
        let topic: String = w.topic.as_deref().unwrap_or("-").chars().take(28).collect();
        println!(
            "{:>9}  {:<20}  {:>4}  {:<28}  {:<9}  {}{}",
            w.tracking_id,
            format_wib_short(w.first_seen),
            w.age_working_days,
            topic,
            w.kapanewon.as_deref().unwrap_or("-"),
            if w.rahasia { "[RAHASIA] " } else { "" },
            w.title
        );
        if let Some(a) = &w.advice {
            print_advice(a);
        }
    }
    println!(
        "{} aduan menunggu triase (HK = hari kerja sejak pertama dilihat). Tetapkan OPD: `sp4n triage assign TRACKING OPD`.",
        rows.len()
    );
    Ok(0)
}

/// The advice under a row: suggested action, candidates, similar past complaints.
fn print_advice(a: &crate::mapping::Advice) {
    if let Some(s) = &a.suggestion {
        println!("{:>11}saran: {s}", "");
    }
    if a.candidates.len() > 1 {
        let c: Vec<String> = a
            .candidates
            .iter()
            .map(|c| format!("{} ({})", c.opd, c.score))
            .collect();
        println!("{:>11}kandidat: {}", "", c.join(", "));
    }
    for s in &a.similar {
        println!("{:>11}serupa: {s}", "");
    }
}

async fn assign(
    ctx: &Ctx,
    id: u64,
    code: String,
    note: Option<String>,
    by: Option<String>,
) -> Result<i32, CliError> {
    let who = super::mappings::operator(by)?;
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let active = crate::app::context::active_mappings(&cfg, &store).await?;
    super::print_rejected(&active);
    let done = crate::app::triage::assign(&store, &active.mappings, id, code, note, &who).await?;
    if ctx.json {
        ctx.print_json(&done)?;
    } else {
        println!(
            "Aduan {} ditetapkan ke {} ({}) oleh {} (sebelumnya {}); disposisi ke unit {} tersimpan di antrean kirim (ref {}): `sp4n push` atau `sp4n sync` mengirimnya.",
            done.tracking_id,
            done.opd,
            done.opd_name,
            done.by,
            done.from,
            done.unit,
            done.disposition_ref
        );
    }
    Ok(0)
}
