//! `sp4n pull` and `sp4n reconcile`.

use super::{CliError, Ctx, EXIT_CONFIG};
use crate::pull::{FallbackRouter, Mode, PullOptions, Router};
use crate::store::{RunOutcome, RunReport};
use crate::upstream::Client;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// No progress bar even on a terminal.
    #[arg(long)]
    pub quiet: bool,
}

/// The router the CLI uses. Until the mapping files are wired in, everything goes to
/// `ADMIN` triage.
pub fn router(_cfg: &crate::config::Config) -> Result<Arc<dyn Router>, CliError> {
    Ok(Arc::new(FallbackRouter))
}

pub async fn run(ctx: &Ctx, mode: Mode, args: PullArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let token = cfg
        .upstream
        .load_token()
        .map_err(|m| CliError::new(EXIT_CONFIG, m))?;
    let client = Client::new(&cfg.upstream, token)
        .map_err(|e| CliError::new(EXIT_CONFIG, format!("{e}; {}", e.guidance())))?;
    let router = router(&cfg)?;
    let store = ctx.open_store(&cfg).await?;
    let mut opts = PullOptions::from_config(mode, &cfg);
    opts.progress = !args.quiet && !ctx.json;
    let report = crate::pull::pull(&store, &client, router, &opts).await?;
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

/// The short human summary of a run.
pub fn summary(r: &RunReport) -> String {
    let hasil = match r.outcome {
        Some(RunOutcome::Ok) => "berhasil",
        Some(RunOutcome::Partial) => "selesai sebagian",
        Some(RunOutcome::Retry) => "gagal sementara, akan dicoba lagi",
        Some(RunOutcome::TokenRefused) => "token ditolak platform",
        Some(RunOutcome::Failed) | None => "gagal",
    };
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
