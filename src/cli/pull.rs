//! `sp4n pull` and `sp4n reconcile`.

use super::{CliError, Ctx, EXIT_CONFIG};
use crate::pull::{Mode, PullOptions, Router};
use crate::store::{RunOutcome, RunReport};
use crate::upstream::Client;
use std::sync::Arc;

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

/// The mappings in force: the files of `[mappings] dir`, or the last valid revision
/// remembered in the store when an edit made them invalid (its errors are printed and kept
/// in `rejected` for the run report). Invalid files with no valid revision ever seen: exit 2.
pub async fn active_mappings(
    cfg: &crate::config::Config,
    store: &crate::store::Store,
) -> Result<crate::mapping::Active, CliError> {
    let dir = cfg.mappings.dir.clone();
    let active = store
        .run(move |s| crate::mapping::load_active(&dir, s))
        .await
        .map_err(|e| match e {
            crate::mapping::ActiveError::Store(e) => e.into(),
            crate::mapping::ActiveError::Invalid(d) => CliError::new(
                EXIT_CONFIG,
                format!(
                    "{}\n\nthe mapping files are invalid and no valid revision is remembered: fix them (sp4n mappings check), then run again",
                    crate::diag::render_all(&d)
                ),
            ),
        })?;
    if let Some(errors) = &active.rejected {
        tracing::warn!(
            errors = errors.len(),
            kept = active.mappings.revision(),
            "The mapping files are invalid; routing with the last valid revision."
        );
        for d in errors {
            eprintln!("{d}\n");
        }
    }
    Ok(active)
}

/// The router the CLI uses (see [`active_mappings`]), with the errors of a rejected edit.
pub async fn router(
    cfg: &crate::config::Config,
    store: &crate::store::Store,
) -> Result<(Arc<dyn Router>, Option<Vec<crate::diag::Diagnostic>>), CliError> {
    let active = active_mappings(cfg, store).await?;
    Ok((
        Arc::new(crate::mapping::MappingRouter(active.mappings)),
        active.rejected,
    ))
}

/// Reads the platform's topics and units when they are due (never read, or a day old)
/// or when `force`, keeping them in the store: every check and route after this uses
/// them. Returns one report line per change upstream; a failure is a line too (the
/// vocabulary read before keeps serving, and the pull reports the platform's problem).
pub async fn refresh_vocabulary(
    store: &crate::store::Store,
    client: &Client,
    force: bool,
) -> Result<Vec<String>, CliError> {
    use crate::mapping::vocabulary::{self, VocabularyError};
    match vocabulary::refresh(store, client, chrono::Utc::now(), force).await {
        Ok(Some(r)) => {
            if r.first {
                tracing::info!(
                    topics = r.vocabulary.topics.len(),
                    units = r.vocabulary.units.len(),
                    "Read the platform's topics and units for the first time."
                );
            }
            Ok(change_notes(&r.changes))
        }
        Ok(None) => Ok(Vec::new()),
        Err(VocabularyError::Store(e)) => Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "Could not read the platform's topics and units.");
            Ok(vec![format!(
                "platform: the topics and units could not be read ({e}); the ones read before keep serving"
            )])
        }
    }
}

/// Report lines for changes in the platform's vocabulary (Bahasa Indonesia).
pub fn change_notes(changes: &[crate::mapping::vocabulary::Change]) -> Vec<String> {
    if changes.is_empty() {
        return Vec::new();
    }
    let mut notes: Vec<String> = changes.iter().map(|c| format!("platform: {c}")).collect();
    notes.push(
        "platform: kosakata platform berubah; jalankan `sp4n mappings check` (aturan yang menyebut topik/unit yang hilang ditolak, revisi valid terakhir tetap dipakai) dan `sp4n mappings adopt` untuk usulan perbaikan".into(),
    );
    notes
}

/// One report line per error of a rejected mapping edit.
pub fn rejected_notes(rejected: Option<&[crate::diag::Diagnostic]>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(errors) = rejected {
        for d in errors {
            notes.push(format!(
                "mapping: {}:{}:{}: {} (the last valid revision keeps routing)",
                d.file.display(),
                d.line,
                d.column,
                d.message
            ));
        }
    }
    notes
}

pub async fn run(ctx: &Ctx, mode: Mode, args: PullArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let token = cfg
        .upstream
        .load_token()
        .map_err(|m| CliError::new(EXIT_CONFIG, m))?;
    let client = Client::new(&cfg.upstream, token)
        .map_err(|e| CliError::new(EXIT_CONFIG, format!("{e}; {}", e.guidance())))?;
    let store = ctx.open_store(&cfg).await?;
    let mut notes = refresh_vocabulary(&store, &client, args.refresh_vocabulary).await?;
    let (router, rejected) = router(&cfg, &store).await?;
    let mut opts = PullOptions::from_config(mode, &cfg);
    opts.progress = !args.quiet && !ctx.json;
    notes.extend(rejected_notes(rejected.as_deref()));
    opts.notes = notes;
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
