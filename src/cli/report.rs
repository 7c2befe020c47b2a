//! `sp4n report`: the coordinators' report (per OPD, and the overdue list with LAPOR!
//! links) over the store's complaints and the working-day calendar of the mapping folder.
//!
//! The rows hold no reporter identity and no complaint text (see [`crate::report`]); a
//! calendar year the clocks need but `calendar.toml` lacks is a warning in the report.

use super::{CliError, Ctx, EXIT_CONFIG, EXIT_STORE};
use crate::app::report::{build, load_calendar};
use crate::report::{CsvStyle, Period};
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Style {
    Comma,
    Semicolon,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output format (`--json` is the same as `--format json`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Only complaints first seen on or after this WIB date (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Only complaints first seen on or before this WIB date (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// CSV delimiter: comma (RFC 4180) or semicolon (Excel in the Indonesian locale).
    #[arg(long, value_enum, default_value_t = Style::Comma)]
    pub csv_style: Style,
    /// Compute the report as of this instant instead of now (RFC 3339, e.g.
    /// 2027-01-04T08:00:00+07:00): thread entries, dispositions and status changes after
    /// it are left out, and complaints created after it are not counted.
    #[arg(long = "at", alias = "now", value_name = "RFC3339")]
    pub at: Option<DateTime<Utc>>,
}

pub async fn run(ctx: &Ctx, args: ReportArgs) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    if let (Some(f), Some(t)) = (args.from, args.to)
        && f > t
    {
        return Err(CliError::new(
            EXIT_CONFIG,
            format!("--from {f} is after --to {t}; swap them"),
        ));
    }
    let store = ctx.open_store(&cfg).await?;
    let period = Period {
        from: args.from,
        to: args.to,
    };
    let now = args.at.unwrap_or_else(Utc::now);
    let (_, cal_warning) = load_calendar(&cfg.mappings.dir);
    if let Some(w) = &cal_warning {
        eprintln!("warning: {w}");
    }
    let report = store
        .run(move |s| build(s, &cfg, period, now))
        .await
        .map_err(CliError::from)?;
    let format = if ctx.json { Format::Json } else { args.format };
    let style = match args.csv_style {
        Style::Comma => CsvStyle::Comma,
        Style::Semicolon => CsvStyle::Semicolon,
    };
    let out = match format {
        Format::Text => crate::report::render_text(&report),
        Format::Json => crate::report::render_json(&report),
        Format::Csv => crate::report::render_csv(&report, style),
    };
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(|e| CliError::new(EXIT_STORE, format!("cannot write the report: {e}")))?;
    Ok(0)
}
