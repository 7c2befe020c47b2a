//! The push-related commands: `sp4n push`, `sp4n sync`, `sp4n outbox list/retry/discard`,
//! and the local input commands `followup`, `set-status`, `dispose` and `submit`.
//!
//! Input commands check their input through [`crate::push::input`] (the same checks the
//! HTTP API uses) and print the queued entry only after it is on disk. `push` and `sync`
//! print a run report that always includes the number of held entries.

use super::{CliError, Ctx, EXIT_CONFIG, EXIT_PARTIAL, EXIT_STORE};
use crate::model::{Status, format_wib_short};
use crate::push::PushReport;
use crate::push::input::{self, Disposition, FollowUp, InputError, StatusChange, SubmitForm};
use crate::store::{OutboxEntry, OutboxState, RunReport, Store};
use crate::upstream::WriteAction;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sp4n push\n  sp4n push --now      # the platform is back after an outage: do not wait out the backoff"
)]
pub struct PushArgs {
    /// Send entries that wait on backoff now, instead of at their scheduled time (after
    /// an outage is over). Lost answers are still read back first.
    #[arg(long)]
    pub now: bool,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// No progress bar even on a terminal.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCmd {
    /// List unfinished entries (pending and held), oldest first.
    #[command(after_help = "Example:\n  sp4n outbox list --held --json")]
    List {
        /// Only entries held for a person.
        #[arg(long)]
        held: bool,
        /// Also done and discarded entries.
        #[arg(long)]
        all: bool,
    },
    /// Put a held entry back in line; the next `sp4n push` sends it.
    #[command(after_help = "Example:\n  sp4n outbox retry 42")]
    Retry {
        /// The entry number (first column of `sp4n outbox list`).
        id: u64,
    },
    /// Give up an entry; the reason is recorded in the complaint's history.
    #[command(
        after_help = "Example:\n  sp4n outbox discard 42 --reason \"Sudah dijawab langsung di portal LAPOR!\""
    )]
    Discard {
        id: u64,
        /// Why it is given up (kept in the complaint's history).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["text", "text_file"])))]
pub struct FollowupArgs {
    /// The complaint's tracking id.
    pub tracking_id: u64,
    /// The OPD code posting it (must be the one the complaint is routed to).
    #[arg(long)]
    pub opd: String,
    /// The follow-up text (1 to 10,000 characters).
    #[arg(long)]
    pub text: Option<String>,
    /// Read the follow-up text from a file (UTF-8).
    #[arg(long)]
    pub text_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SetStatusArgs {
    pub tracking_id: u64,
    /// selesai (from Proses), ditunda (from Belum Ditindaklanjuti) or bukan_wewenang.
    pub status: String,
    /// Why (sent to the platform with the status).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
pub struct DisposeArgs {
    pub tracking_id: u64,
    /// The OPD code to dispose it to.
    pub opd: String,
    /// The note sent with the disposition.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// A TOML or JSON file describing the complaint (see fixtures/submit-example.toml).
    #[arg(long)]
    pub file: PathBuf,
}

/// Who a CLI action is recorded as.
pub(super) fn who() -> String {
    let user = std::env::var("USER").unwrap_or_default();
    if user.trim().is_empty() {
        "cli".into()
    } else {
        format!("cli:{}", user.trim())
    }
}

fn input_error(e: InputError) -> CliError {
    match e {
        InputError::Store(s) => CliError::from(s),
        other => CliError::new(EXIT_CONFIG, other.to_string()),
    }
}

pub async fn run_push(ctx: &Ctx, args: PushArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let client = crate::app::context::client(&cfg)?;
    let store = ctx.open_store(&cfg).await?;
    let (report, pr) =
        crate::app::sync::push(&store, &client, &cfg, args.now, &super::print_rejected).await?;
    print_run(ctx, &report, &pr)?;
    Ok(crate::pull::exit_code(&report))
}

/// `sp4n sync`: [`crate::app::sync::sync`], one combined report.
pub async fn run_sync(ctx: &Ctx, args: SyncArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let client = crate::app::context::client(&cfg)?;
    let store = ctx.open_store(&cfg).await?;
    let progress = !args.quiet && !ctx.json;
    let (report, pr) =
        crate::app::sync::sync(&store, &client, &cfg, progress, &super::print_rejected).await?;
    match &pr {
        Some(pr) => print_run(ctx, &report, pr)?,
        None => {
            if ctx.json {
                ctx.print_json(&serde_json::json!({ "run": report, "push": null }))?;
            } else {
                println!("{}", super::pull::summary(&report));
            }
        }
    }
    Ok(crate::pull::exit_code(&report))
}

fn print_run(ctx: &Ctx, r: &RunReport, p: &PushReport) -> Result<(), CliError> {
    if ctx.json {
        return ctx.print_json(&serde_json::json!({ "run": r, "push": p }));
    }
    if r.job == "sync" {
        println!("{}", super::pull::summary(r));
    } else {
        let hasil = super::pull::outcome_label(r.outcome);
        println!("push: {hasil}");
        for line in &r.problems {
            println!("  masalah: {line}");
        }
    }
    println!(
        "  kirim: terkirim {}, terbukti lewat baca ulang {}, ditunda {}, ditahan {} (baru {}), menunggu OPD dijeda {}",
        p.sent, p.done_by_read_back, p.deferred, p.held, p.held_now, p.skipped_paused
    );
    if p.held > 0 {
        println!(
            "  lihat `sp4n outbox list --held`, lalu `sp4n outbox retry ID` atau `sp4n outbox discard ID --reason ...`"
        );
    }
    Ok(())
}

/// One outbox entry as `outbox list` shows it (no reporter identity, ever).
#[derive(Debug, Serialize)]
pub struct EntryView {
    pub id: u64,
    #[serde(rename = "ref")]
    pub ref_: String,
    pub state: &'static str,
    pub action: &'static str,
    pub tracking_id: Option<u64>,
    pub opd: String,
    pub requested_by: String,
    pub requested_at: chrono::DateTime<chrono::Utc>,
    pub attempts: u32,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub outcome_unknown: bool,
    pub last_error: Option<String>,
    pub held_reason: Option<String>,
    pub upstream_status: Option<String>,
    /// What it says, shortened (follow-up text, new status, unit, title).
    pub summary: String,
    /// When its first request left (the start of a read-back's evidence window).
    pub first_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How a done entry is known to be done without an answer: what a read-back found,
    /// or what was already true on the platform so that nothing was sent.
    pub evidence: Option<String>,
    /// The tracking id the platform gave a new complaint.
    pub created_tracking_id: Option<u64>,
}

fn shorten(s: &str, n: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        let mut t: String = one_line.chars().take(n).collect();
        t.push('…');
        t
    }
}

impl EntryView {
    pub fn of(e: &OutboxEntry) -> EntryView {
        let (held_reason, upstream_status) = match &e.state {
            OutboxState::Held {
                reason,
                upstream_status,
            } => (Some(reason.clone()), upstream_status.clone()),
            OutboxState::Discarded { reason, .. } => (Some(reason.clone()), None),
            _ => (None, None),
        };
        let summary = match &e.request.action {
            WriteAction::Disposisi { unit, .. } => format!("ke unit {unit}"),
            WriteAction::TindakLanjut { isi, .. } => shorten(isi, 60),
            WriteAction::SetStatus { nilai, .. } => format!("status {nilai}"),
            WriteAction::AddStream { laporan } => shorten(&laporan.judul, 60),
        };
        EntryView {
            id: e.seq,
            ref_: e.ref_.clone(),
            state: e.state.name(),
            action: e.request.action.kind(),
            tracking_id: e.tracking_id,
            opd: e.opd.clone(),
            requested_by: e.requested_by.clone(),
            requested_at: e.requested_at,
            attempts: e.attempts,
            next_attempt_at: e.next_attempt_at,
            outcome_unknown: e.outcome_unknown,
            last_error: e.last_error.clone(),
            held_reason,
            upstream_status,
            summary,
            first_attempt_at: e.first_attempt_at,
            evidence: match &e.state {
                OutboxState::Done { evidence, .. } => evidence.clone(),
                _ => None,
            },
            created_tracking_id: e.created_tracking_id,
        }
    }
}

pub async fn run_outbox(ctx: &Ctx, cmd: OutboxCmd) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let me = who();
    match cmd {
        OutboxCmd::List { held, all } => {
            let entries = store
                .run(move |s| {
                    if all {
                        s.outbox_all()
                    } else {
                        s.outbox_unfinished()
                    }
                })
                .await?;
            let views: Vec<EntryView> = entries
                .iter()
                .filter(|e| !held || matches!(e.state, OutboxState::Held { .. }))
                .map(EntryView::of)
                .collect();
            if ctx.json {
                ctx.print_json(&views)?;
            } else if views.is_empty() {
                println!(
                    "Tidak ada entri{}.",
                    if held { " yang ditahan" } else { "" }
                );
            } else {
                print_list(&views);
            }
            let n_held = views.iter().filter(|v| v.state == "held").count();
            Ok(if n_held > 0 { EXIT_PARTIAL } else { 0 })
        }
        OutboxCmd::Retry { id } => {
            let e = store
                .run(move |s| input::retry(s, id, &me))
                .await
                .map_err(input_error)?;
            accepted(ctx, &e, "dijadwalkan ulang; `sp4n push` akan mengirimnya")
        }
        OutboxCmd::Discard { id, reason } => {
            let e = store
                .run(move |s| input::discard(s, id, &reason, &me))
                .await
                .map_err(input_error)?;
            accepted(ctx, &e, "dibatalkan; alasannya tercatat di riwayat aduan")
        }
    }
}

fn print_list(views: &[EntryView]) {
    println!(
        "{:>6}  {:<9} {:<12} {:>9}  {:<12} {:>5}  {:<20}  ringkasan",
        "ID", "STATUS", "AKSI", "TRACKING", "OPD", "COBA", "CUBA LAGI"
    );
    for v in views {
        println!(
            "{:>6}  {:<9} {:<12} {:>9}  {:<12} {:>5}  {:<20}  {}",
            v.id,
            v.state,
            v.action,
            v.tracking_id.map(|t| t.to_string()).unwrap_or("-".into()),
            v.opd,
            v.attempts,
            format_wib_short(v.next_attempt_at),
            v.summary
        );
        if let Some(r) = &v.held_reason {
            println!("        ditahan: {r}");
        }
        if let Some(s) = &v.upstream_status {
            println!("        status di platform: {s}");
        }
        if let Some(ev) = &v.evidence {
            println!("        bukti: {ev}");
        }
        if v.held_reason.is_none()
            && let Some(e) = &v.last_error
        {
            println!("        galat terakhir: {e}");
        }
    }
}

fn accepted(ctx: &Ctx, e: &OutboxEntry, what: &str) -> Result<i32, CliError> {
    if ctx.json {
        ctx.print_json(&EntryView::of(e))?;
    } else {
        println!(
            "Entri {} ({}, ref {}) {what}.",
            e.seq,
            e.request.action.kind(),
            e.ref_
        );
    }
    Ok(0)
}

const QUEUED: &str = "tersimpan di antrean kirim; `sp4n push` atau `sp4n sync` mengirimnya";

pub async fn run_followup(ctx: &Ctx, a: FollowupArgs) -> Result<i32, CliError> {
    let text = match (&a.text, &a.text_file) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => {
            crate::limits::read_to_string_capped(f, crate::limits::MAX_INPUT_FILE_BYTES).map_err(
                |e| CliError::new(EXIT_CONFIG, format!("cannot read {}: {e}", f.display())),
            )?
        }
        (None, None) => {
            return Err(CliError::new(EXIT_CONFIG, "give --text or --text-file"));
        }
    };
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let mappings = crate::app::context::checked_mappings(&cfg, &store).await?;
    let input = FollowUp {
        tracking_id: a.tracking_id,
        opd: a.opd,
        text,
    };
    let e = blocking(&store, move |s| {
        input::followup(s, &mappings, &input, &who())
    })
    .await?;
    accepted(ctx, &e, QUEUED)
}

pub async fn run_set_status(ctx: &Ctx, a: SetStatusArgs) -> Result<i32, CliError> {
    let status = Status::parse_loose(&a.status).ok_or_else(|| {
        CliError::new(
            EXIT_CONFIG,
            format!(
                "'{}' is not a status: use selesai, ditunda or bukan_wewenang",
                a.status
            ),
        )
    })?;
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let input = StatusChange {
        tracking_id: a.tracking_id,
        status,
        reason: a.reason,
    };
    let e = blocking(&store, move |s| input::set_status(s, &input, &who())).await?;
    accepted(ctx, &e, QUEUED)
}

pub async fn run_dispose(ctx: &Ctx, a: DisposeArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let mappings = crate::app::context::checked_mappings(&cfg, &store).await?;
    let input = Disposition {
        tracking_id: a.tracking_id,
        opd: a.opd,
        note: a.note,
    };
    let e = blocking(&store, move |s| {
        input::dispose(s, &mappings, &input, &who())
    })
    .await?;
    accepted(ctx, &e, QUEUED)
}

pub async fn run_submit(ctx: &Ctx, a: SubmitArgs) -> Result<i32, CliError> {
    let form = SubmitForm::read(&a.file).map_err(input_error)?;
    // Check before touching the store, so a bad file never waits on a lock; the topic
    // is checked with the platform's tree kept in the store.
    let mut probe = form.clone();
    probe.topik = None;
    probe.to_complaint().map_err(input_error)?;
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let e = blocking(&store, move |s| input::submit(s, &form, &who())).await?;
    accepted(ctx, &e, QUEUED)
}

/// Runs a local-input check and enqueue on a blocking thread (it reads and flushes sled).
async fn blocking<F>(store: &Store, f: F) -> Result<OutboxEntry, CliError>
where
    F: FnOnce(&Store) -> Result<OutboxEntry, InputError> + Send + 'static,
{
    let s = store.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|e| CliError::new(EXIT_STORE, format!("the command failed: {e}")))?
        .map_err(input_error)
}
