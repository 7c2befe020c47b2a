//! The command line: `sp4n <command>`, one file per command group, clap derive.
//!
//! This module owns argument parsing, loading the configuration, opening the store, the
//! exit-code contract and how results are printed (a short summary, or JSON with
//! `--json`). Library errors arrive typed; [`CliError`] carries the message and the exit
//! code. Adding a command group: a file `src/cli/<group>.rs` with an `Args` type and a
//! `run` function, and one line in [`Command`] plus one in [`dispatch`].

mod complaints;
mod demo;
mod mappings;
mod pull;
mod push;
mod quarantine;
mod report;
mod run;
mod serve;
mod status;
mod store;
mod token;
mod triage;

use crate::app::AppError;
use crate::config::{Config, ConfigError, DEFAULT_CONFIG_FILE};
use crate::store::{Store, StoreError};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: finished, with items set aside or held for a person.
pub const EXIT_PARTIAL: i32 = 1;
/// Exit code: configuration or mapping error.
pub const EXIT_CONFIG: i32 = 2;
/// Exit code: the platform refused the token.
pub const EXIT_TOKEN: i32 = 3;
/// Exit code: the platform was unavailable and nothing could be done.
pub const EXIT_UNAVAILABLE: i32 = 4;
/// Exit code: store error (locked, damaged, other format version).
pub const EXIT_STORE: i32 = 5;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  finished, but items were set aside (see `sp4n quarantine list`), held (see
     `sp4n outbox list --held`) or left to retry later
  2  configuration or mapping error, or input refused (nothing was queued)
  3  the platform refused the token
  4  the platform (or the listen address) was unavailable and nothing could be
     done; a later run may succeed
  5  store error (locked by another process, damaged, other format version)";

const EXAMPLES_HELP: &str = "\
Examples:
  sp4n demo                          try everything against a bundled simulator
  sp4n pull                          fetch what changed since the last pull
  sp4n reconcile --json              full re-read; report as JSON
  sp4n complaints list --status proses --kapanewon 34.01.02
  sp4n complaints show 1916449
  sp4n mappings check                after editing mappings/*.toml
  sp4n triage list                   complaints no rule could route
  sp4n --config /etc/sp4n/sp4n.toml pull";

/// sp4n: federates Pemerintah Kabupaten Kulon Progo with SP4N-LAPOR!.
#[derive(Debug, Parser)]
#[command(
    name = "sp4n",
    version,
    about = "Federates Pemerintah Kabupaten Kulon Progo with SP4N-LAPOR!",
    long_about = "Pulls complaints addressed to Kulon Progo from SP4N-LAPOR!, routes each to a local OPD, pushes dispositions, follow-ups and status changes back, and reports statuses and SLA clocks.\n\nStart with `sp4n demo`: it runs everything against a bundled simulator, no configuration needed.",
    after_help = format!("{EXAMPLES_HELP}\n\n{EXIT_CODES_HELP}")
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "SP4N_CONFIG", default_value = DEFAULT_CONFIG_FILE)]
    pub config: PathBuf,
    /// Print reports as JSON instead of a short summary.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log format on stderr: human-readable text, or JSON lines for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a bundled simulator, pull from it into a temporary store, print a summary.
    Demo(demo::DemoArgs),
    /// One full cycle: pull (and route), then push; one report of both.
    #[command(after_help = format!("Example:\n  sp4n sync\n\n{EXIT_CODES_HELP}"))]
    Sync(push::SyncArgs),
    /// Fetch complaints that changed since the last pull.
    #[command(after_help = format!("Example:\n  sp4n pull --json\n\n{EXIT_CODES_HELP}"))]
    Pull(pull::PullArgs),
    /// Re-read the whole stream, repair anything missed, notice complaints that left.
    #[command(after_help = format!("Example:\n  sp4n reconcile\n\n{EXIT_CODES_HELP}"))]
    Reconcile(pull::PullArgs),
    /// Send queued dispositions, follow-ups, status changes and new complaints upstream.
    #[command(after_help = format!("Example:\n  sp4n push --json\n\n{EXIT_CODES_HELP}"))]
    Push(push::PushArgs),

    /// The agent: run the [schedule] jobs, serve /healthz and /metrics, until SIGTERM.
    #[command(after_help = format!("Example:\n  sp4n run --log-format json\n\n{EXIT_CODES_HELP}"))]
    Run(run::RunArgs),
    /// Is it healthy? Jobs, outbox, set-aside items, mappings, store (works beside a running agent).
    #[command(
        after_help = "Example:\n  sp4n status --json\n\nExit codes: 0 healthy, 1 something needs a person, 2 configuration, 5 store"
    )]
    Status(status::StatusArgs),
    /// Who is late? Per OPD figures and the overdue list with LAPOR! links (Bahasa Indonesia).
    #[command(
        after_help = "Example:\n  sp4n report --format csv --csv-style semicolon --from 2026-01-01 > laporan.csv"
    )]
    Report(report::ReportArgs),
    /// List and show stored complaints.
    #[command(subcommand)]
    Complaints(complaints::ComplaintsCmd),
    /// The triage desk (ADMIN): list waiting complaints, assign one to an OPD.
    #[command(subcommand)]
    Triage(triage::TriageCmd),
    /// Check, explain and preview the mapping files (opd.toml, rules, calendar.toml).
    #[command(subcommand)]
    Mappings(mappings::MappingsCmd),
    /// Route stored complaints again with the mappings in force, recording who moved them.
    #[command(after_help = mappings::REROUTE_HELP)]
    Reroute(mappings::RerouteArgs),
    /// Queue a disposition of a complaint to an OPD.
    #[command(after_help = "Example:\n  sp4n dispose 1916449 DPUPKP")]
    Dispose(push::DisposeArgs),
    /// Queue a follow-up by the OPD a complaint is routed to.
    #[command(
        after_help = "Example:\n  sp4n followup 1916449 --opd DPUPKP --text \"Lubang jalan sudah ditambal.\""
    )]
    Followup(push::FollowupArgs),
    /// Queue a status change (selesai, ditunda, bukan_wewenang).
    #[command(
        after_help = "Example:\n  sp4n set-status 1916449 selesai --reason \"Perbaikan selesai dan sudah dicek.\""
    )]
    SetStatus(push::SetStatusArgs),
    /// Queue a complaint received through a local channel (sent with addstream).
    #[command(after_help = "Example:\n  sp4n submit --file fixtures/submit-example.toml")]
    Submit(push::SubmitArgs),
    /// Queued writes: list them, retry or discard held ones.
    #[command(subcommand)]
    Outbox(push::OutboxCmd),
    /// Items set aside during runs (unreadable pages or complaints).
    #[command(subcommand)]
    Quarantine(quarantine::QuarantineCmd),
    /// Serve the local HTTP API (JSON under /api/v1) until Ctrl-C.
    Serve(serve::ServeArgs),
    /// API tokens: create (printed once), list, revoke.
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Store maintenance.
    #[command(subcommand)]
    Store(store::StoreCmd),
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The agent logs what it does; one-shot commands only warnings.
    let level = if matches!(cli.command, Command::Run(_)) {
        "info"
    } else {
        "warn"
    };
    init_tracing(cli.log_format, level);
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            e.code
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn init_tracing(format: LogFormat, level: &str) {
    // sled warns on every open that its blobs directory holds a path it cannot parse:
    // that is the store's own value log (`store/blobs.rs`), not damage.
    let quiet_sled = "sled::pagecache::blob_io=error"
        .parse()
        .expect("a valid log directive");
    let filter = tracing_subscriber::EnvFilter::try_from_env("SP4N_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level))
        .add_directive(quiet_sled);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Threads that run async tasks.
pub const RUNTIME_WORKER_THREADS: usize = 2;
/// Threads for blocking work (the store): the most at once, however many requests wait.
pub const RUNTIME_BLOCKING_THREADS: usize = 8;
/// Every thread the process may have: the runtime's, sled's own (flusher, and an I/O pool
/// that grows on demand: 19 threads in all were seen under load), the main thread and
/// headroom. `deploy/systemd/agent/sp4n.service` sets TasksMax (32) above this.
pub const RUNTIME_THREAD_BUDGET: usize = RUNTIME_WORKER_THREADS + RUNTIME_BLOCKING_THREADS + 14;

/// Parses `args` and runs the command (used by `main` and tests).
pub fn run(cli: Cli) -> Result<i32, CliError> {
    // Bounded threads (see RUNTIME_WORKER_THREADS): the systemd unit's TasksMax is
    // sized from these, and a refused thread is an error here, not a panic later.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RUNTIME_WORKER_THREADS)
        .max_blocking_threads(RUNTIME_BLOCKING_THREADS)
        .thread_keep_alive(std::time::Duration::from_secs(60))
        .enable_all()
        .build()
        .map_err(|e| {
            CliError::new(
                EXIT_UNAVAILABLE,
                format!(
                    "cannot start the runtime's threads: {e}; the system (or the service's TasksMax) allows too few threads: sp4n needs about {RUNTIME_THREAD_BUDGET}"
                ),
            )
        })?;
    let ctx = Ctx {
        config_path: cli.config.clone(),
        json: cli.json,
    };
    rt.block_on(dispatch(&ctx, cli.command))
}

async fn dispatch(ctx: &Ctx, cmd: Command) -> Result<i32, CliError> {
    match cmd {
        Command::Pull(a) => pull::run(ctx, crate::pull::Mode::Pull, a).await,
        Command::Reconcile(a) => pull::run(ctx, crate::pull::Mode::Reconcile, a).await,
        Command::Complaints(c) => complaints::run(ctx, c).await,
        Command::Store(c) => store::run(ctx, c).await,
        Command::Quarantine(c) => quarantine::run(ctx, c).await,
        Command::Demo(a) => demo::run(ctx, a).await,
        Command::Push(a) => push::run_push(ctx, a).await,
        Command::Sync(a) => push::run_sync(ctx, a).await,
        Command::Outbox(c) => push::run_outbox(ctx, c).await,
        Command::Followup(a) => push::run_followup(ctx, a).await,
        Command::SetStatus(a) => push::run_set_status(ctx, a).await,
        Command::Dispose(a) => push::run_dispose(ctx, a).await,
        Command::Submit(a) => push::run_submit(ctx, a).await,

        Command::Mappings(c) => mappings::run(ctx, c).await,
        Command::Reroute(a) => mappings::run_reroute(ctx, a).await,
        Command::Triage(c) => triage::run(ctx, c).await,

        Command::Run(a) => run::run(ctx, a).await,
        Command::Status(a) => status::run(ctx, a).await,
        Command::Report(a) => report::run(ctx, a).await,
        Command::Serve(a) => serve::run(ctx, a).await,
        Command::Token(c) => token::run(ctx, c).await,
    }
}

/// What every command gets: where the configuration is and how to print.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub config_path: PathBuf,
    pub json: bool,
}

impl Ctx {
    /// Loads the configuration file; exit code 2 with what to do when it fails.
    pub fn config(&self) -> Result<Config, CliError> {
        load_config(&self.config_path)
    }

    /// Opens the store the configuration names; exit code 5 when it cannot.
    pub async fn open_store(&self, cfg: &Config) -> Result<Store, CliError> {
        open_store(&cfg.store_path()).await
    }

    /// Prints a value as pretty JSON.
    pub fn print_json<T: serde::Serialize>(&self, v: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(v)
            .map_err(|e| CliError::new(EXIT_STORE, format!("cannot encode JSON: {e}")))?;
        println!("{text}");
        Ok(())
    }
}

pub fn load_config(path: &Path) -> Result<Config, CliError> {
    match Config::load(path) {
        Ok(c) => Ok(c),
        Err(ConfigError::Io { path, source }) if source.kind() == std::io::ErrorKind::NotFound => {
            Err(CliError::new(
                EXIT_CONFIG,
                format!(
                    "no configuration file at {}: create one (see sp4n.example.toml), point --config or SP4N_CONFIG at it, or try `sp4n demo` first",
                    path.display()
                ),
            ))
        }
        Err(e) => Err(CliError::new(EXIT_CONFIG, e.to_string())),
    }
}

/// The error of a listener that could not be bound. An address in use (an old process
/// still stopping, another service) may be free on the next start: exit 4, which the
/// systemd unit restarts; anything else is the configuration's (exit 2).
pub fn listen_error(listen: &str, e: &std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        CliError::new(
            EXIT_UNAVAILABLE,
            format!(
                "cannot listen on {listen}: the address is in use by another process; it is tried again on the next start (systemd restarts the service), or choose another address in [server] listen or with --listen"
            ),
        )
    } else {
        CliError::new(
            EXIT_CONFIG,
            format!("cannot listen on {listen}: {e}; change [server] listen or pass --listen"),
        )
    }
}

pub async fn open_store(path: &Path) -> Result<Store, CliError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .map_err(|e| {
            if e.is_panic() {
                // sled starts its flusher thread on open and cannot report a refusal.
                CliError::new(
                    EXIT_UNAVAILABLE,
                    format!(
                        "opening the store failed: a thread could not be started ({e}); the system (or the service's TasksMax) allows too few threads: sp4n needs about {RUNTIME_THREAD_BUDGET}"
                    ),
                )
            } else {
                CliError::new(EXIT_STORE, format!("opening the store failed: {e}"))
            }
        })?
        .map_err(CliError::from)
}

/// Prints the errors of a rejected mapping edit (the last valid revision keeps routing).
pub fn print_rejected(active: &crate::mapping::Active) {
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
}

/// An error at the command line's edge: a message saying what to do, and an exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<AppError> for CliError {
    fn from(e: AppError) -> Self {
        use crate::upstream::{ErrorCode, UpstreamError};
        let code = match &e {
            AppError::Config(_) | AppError::Refused(_) | AppError::NoValidMappings(_) => {
                EXIT_CONFIG
            }
            AppError::Store(e) => e.exit_code(),
            AppError::Io(_) => EXIT_STORE,
            AppError::Unavailable(_) => EXIT_UNAVAILABLE,
            AppError::Upstream { source, .. } => match source {
                UpstreamError::Rejected {
                    code: ErrorCode::TokenInvalid,
                    ..
                } => EXIT_TOKEN,
                UpstreamError::Config(_) => EXIT_CONFIG,
                _ => EXIT_UNAVAILABLE,
            },
        };
        CliError::new(code, e.to_string())
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::new(e.exit_code(), e.to_string())
    }
}
