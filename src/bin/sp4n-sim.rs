//! `sp4n-sim`: the SP4N-LAPOR! simulator as a process. Thin: arguments in, one JSON ready
//! line out, then it serves until SIGINT/SIGTERM. Everything else lives in `sp4n::sim`.

use anyhow::Context;
use clap::Parser;
use sp4n::sim::{self, ClockMode, Faults, SimOptions};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A simulator of SP4N-LAPOR!, the national complaint platform, for tests and demos.
///
/// It serves the platform's data API (gettopics, getunits) and stream API (getstream,
/// getlaporan, adddisposisi, addtindaklanjut, setstatus, addstream) over HTTPS with a CA it
/// generates at start, on a deterministic Kulon Progo world built from --seed. When it is
/// ready it prints ONE JSON line on stdout:
///
///   {"base_url":"https://127.0.0.1:PORT","control_url":"http://127.0.0.1:PORT",
///    "ca_file":"…/ca.pem","token_file":"…/token"}
///
/// Fetch a page with curl (the token is the content of token_file):
///
///   Q='<ambil sejak="2020-01-01T00:00:00+07:00" batas="5"/>'
///   curl --cacert ca.pem -H 'Content-Type: text/xml; charset=UTF-8' \
///     --data "<lapor token=\"$(cat token)\">$Q</lapor>" \
///     https://127.0.0.1:PORT/api/stream/getstream
///
/// The control API (plain HTTP, loopback only): GET /truth (the whole world and how often
/// each ref was applied), GET|POST /faults (JSON, fields as the --*-every flags below with
/// dashes as underscores), POST /clock {"set":"…"} or {"advance_seconds":N} (with
/// --clock-start), POST /tick, GET /now.
#[derive(Parser, Debug)]
#[command(name = "sp4n-sim", version, verbatim_doc_comment)]
struct Args {
    /// Seed of the world: the same seed always gives the same complaints.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Number of complaints created over the six months before the clock's start.
    #[arg(long, default_value_t = 1000)]
    complaints: usize,
    /// Address of the platform API.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Address of the control API (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    control_listen: SocketAddr,
    /// Directory for ca.pem and token (created if missing). Default: a new temporary
    /// directory.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Write the CA certificate (PEM) here instead of DIR/ca.pem.
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Write the token here instead of DIR/token.
    #[arg(long)]
    token_out: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS (loopback debugging only).
    #[arg(long)]
    plain_http: bool,
    /// Drive the clock from this instant (RFC 3339) instead of the wall clock; move it
    /// with POST /clock on the control API.
    #[arg(long)]
    clock_start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Platform events (new complaints, replies, admin actions) per simulated day.
    #[arg(long, default_value_t = sim::DEFAULT_EVENTS_PER_DAY)]
    events_per_day: u32,
    /// Every N-th request answers HTTP 500 INTERNAL.
    #[arg(long, default_value_t = 0, value_name = "N")]
    internal_every: u32,
    /// Every N-th request answers HTTP 503 MAINTENANCE with Retry-After.
    #[arg(long, default_value_t = 0, value_name = "N")]
    maintenance_every: u32,
    /// Every N-th request starts a burst of --rate-limit-burst HTTP 429 answers.
    #[arg(long, default_value_t = 0, value_name = "N")]
    rate_limit_every: u32,
    #[arg(long, default_value_t = 1, value_name = "N")]
    rate_limit_burst: u32,
    /// Retry-After seconds sent with 429 and 503.
    #[arg(long, default_value_t = 1)]
    retry_after_seconds: u64,
    /// Every N-th request hangs (never answers).
    #[arg(long, default_value_t = 0, value_name = "N")]
    hang_every: u32,
    /// Every N-th request gets an HTML maintenance page.
    #[arg(long, default_value_t = 0, value_name = "N")]
    html_every: u32,
    /// Every N-th request gets an error envelope with HTTP 200.
    #[arg(long, default_value_t = 0, value_name = "N")]
    error_200_every: u32,
    /// Every N-th request gets a truncated body.
    #[arg(long, default_value_t = 0, value_name = "N")]
    truncate_every: u32,
    /// Every N-th complaint in getstream pages is malformed.
    #[arg(long, default_value_t = 0, value_name = "N")]
    malformed_item_every: u32,
    /// Updates become visible up to this many seconds after their diperbarui.
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    late_visibility_max_seconds: u64,
    /// Behave like older deployments: neither deduplicate ref nor echo it on the thread.
    #[arg(long)]
    ignore_ref: bool,
    /// Deliver the first item of each next page also at the end of the current page.
    #[arg(long)]
    duplicate_delivery: bool,
    /// Every N-th write is applied, then never answered.
    #[arg(long, default_value_t = 0, value_name = "N")]
    apply_then_hang_every: u32,
    /// Every N-th write is applied, then its connection is dropped mid-answer.
    #[arg(long, default_value_t = 0, value_name = "N")]
    apply_then_drop_every: u32,
    /// Serve ids in the data API as JSON numbers.
    #[arg(long)]
    numeric_ids: bool,
    /// Which deployment to be: `standard` serves the topic and unit ids of the connector's
    /// example files in mappings/; `other` serves the same names under other ids
    /// (topics 3xx, units 7001 upward), in another order, with four older inactive units.
    /// Try `sp4n mappings adopt` against `other`.
    #[arg(long, default_value = "standard", value_parser = clap::builder::PossibleValuesParser::new(sim::vocabulary::NAMES))]
    vocabulary: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let (dir, _tmp) = match &a.dir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("sp4n-sim-")
                .tempdir()
                .context("cannot create a temporary directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let mut opts = SimOptions::new(a.seed, a.complaints, &dir);
    opts.plain_http = a.plain_http;
    opts.listen = a.listen;
    opts.control_listen = a.control_listen;
    opts.ca_out = a.ca_out.clone();
    opts.token_out = a.token_out.clone();
    opts.events_per_day = a.events_per_day;
    opts.vocabulary = sim::Vocabulary::by_name(&a.vocabulary)
        .context("unknown --vocabulary: use standard or other")?;
    if let Some(t) = a.clock_start {
        opts.clock = ClockMode::Driven(t.with_timezone(&chrono::Utc));
    }
    opts.faults = Faults {
        internal_every: a.internal_every,
        maintenance_every: a.maintenance_every,
        rate_limit_every: a.rate_limit_every,
        rate_limit_burst: a.rate_limit_burst,
        retry_after_seconds: a.retry_after_seconds,
        hang_every: a.hang_every,
        html_every: a.html_every,
        error_200_every: a.error_200_every,
        truncate_every: a.truncate_every,
        malformed_item_every: a.malformed_item_every,
        late_visibility_max_seconds: a.late_visibility_max_seconds,
        ignore_ref: a.ignore_ref,
        duplicate_delivery: a.duplicate_delivery,
        apply_then_hang_every: a.apply_then_hang_every,
        apply_then_drop_every: a.apply_then_drop_every,
        numeric_ids: a.numeric_ids,
        ..Faults::default()
    };
    let sim = sim::start(opts)
        .await
        .context("the simulator could not start")?;
    let ready = serde_json::json!({
        "base_url": sim.base_url(),
        "control_url": sim.control_url(),
        "ca_file": sim.ca_file(),
        "token_file": sim.token_file(),
    });
    println!("{ready}");
    use std::io::Write as _;
    std::io::stdout().flush().ok();

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}
