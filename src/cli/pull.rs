//! `sp4n pull` and `sp4n reconcile`.

use super::{CliError, Ctx};
use crate::app::sync::Vocabulary;
use crate::pull::Mode;
use crate::store::{RunOutcome, RunReport};

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// No progress bar even on a terminal.
    #[arg(long)]
    pub quiet: bool,
    /// Read the platform's topics and units again now (otherwise: at the first pull, then
    /// once a day).
    #[arg(long)]
    pub refresh_vocabulary: bool,
}

pub async fn run(ctx: &Ctx, mode: Mode, args: PullArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let client = crate::app::context::client(&cfg)?;
    let store = ctx.open_store(&cfg).await?;
    let vocabulary = if args.refresh_vocabulary {
        Vocabulary::Now
    } else {
        Vocabulary::WhenDue
    };
    let progress = !args.quiet && !ctx.json;
    let report = crate::app::sync::pull(
        &store,
        &client,
        &cfg,
        mode,
        vocabulary,
        progress,
        &super::print_rejected,
    )
    .await?;
    print_report(ctx, &report)?;
    Ok(crate::pull::exit_code(&report))
}

/// Prints a run report: JSON with `--json`, otherwise a short summary (Bahasa Indonesia,
/// for administrators).
pub fn print_report(ctx: &Ctx, r: &RunReport) -> Result<(), CliError> {
    if ctx.json {
        return ctx.print_json(r);
    }
    println!("{}", summary(r));
    Ok(())
}

/// How a run ended, in the administrators' words.
pub fn outcome_label(o: Option<RunOutcome>) -> &'static str {
    match o {
        Some(RunOutcome::Ok) => "berhasil",
        Some(RunOutcome::Partial) => "selesai sebagian",
        Some(RunOutcome::Retry) => "gagal sementara, akan dicoba lagi",
        Some(RunOutcome::TokenRefused) => "token ditolak platform",
        Some(RunOutcome::Failed) | None => "gagal",
    }
}

/// The short human summary of a run.
pub fn summary(r: &RunReport) -> String {
    let hasil = outcome_label(r.outcome);
    let fmt_key = |k: &Option<crate::model::StreamKey>| {
        k.map(|k| k.to_string()).unwrap_or_else(|| "-".into())
    };
    let mut s = format!(
        "{}: {hasil}\n  halaman {}, diambil {} (baru {}, berubah {}, tetap {}), disisihkan {}, ditahan {}\n  kursor {} -> {}",
        r.job,
        r.pages,
        r.pulled,
        r.new,
        r.changed,
        r.unchanged,
        r.set_aside,
        r.held,
        fmt_key(&r.cursor_before),
        fmt_key(&r.cursor_after),
    );
    if r.left_stream > 0 {
        s.push_str(&format!("\n  keluar dari stream: {}", r.left_stream));
    }
    for p in &r.problems {
        s.push_str(&format!("\n  masalah: {p}"));
    }
    if r.set_aside > 0 {
        s.push_str("\n  lihat `sp4n quarantine list` untuk item yang disisihkan");
    }
    s
}
