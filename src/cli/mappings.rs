//! `sp4n mappings check|explain|preview` and `sp4n reroute`: the administrator's tools
//! around the mapping files.
//!
//! `check` validates the files an administrator edited (opd.toml, the rules and
//! calendar.toml) and, with `--online`, compares them with the platform's topics and
//! units. `explain` says why a complaint routes where it does. `preview` shows what an
//! edit would move, changing nothing. `reroute` applies the mappings in force to stored
//! complaints, recording who moved what (and queueing the disposition when
//! `[mappings] auto_dispose` is on) in one store update per complaint.
//!
//! `explain` may quote matched keywords of rahasia complaints: it is an administrator
//! command and its output is printed, never logged.

use super::{CliError, Ctx, EXIT_CONFIG, EXIT_STORE};
use crate::app::{context, mappings as app_mappings, reroute};
use crate::config::{Config, DEFAULT_CONFIG_FILE};
use crate::diag::{Diagnostic, Severity};
use crate::mapping::vocabulary::Vocabulary;
use crate::mapping::{Mappings, render_preview, today_wib};
use crate::model::Complaint;
use crate::store::{RoutedBy, Routing};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

const CHECK_HELP: &str = "\
Examples:
  sp4n mappings check                       the files of [mappings] dir in sp4n.toml
  sp4n mappings check --dir ./mappings      no configuration needed
  sp4n mappings check --online              also compare with gettopics/getunits
  sp4n mappings check --json

Exit codes: 0 valid (warnings allowed), 2 invalid, 3 token refused (--online),
4 platform unavailable (--online).";

const EXPLAIN_HELP: &str = "\
Examples:
  sp4n mappings explain 1916449              a stored complaint
  sp4n mappings explain --file laporan.xml   a <laporan> element or a getlaporan answer
  sp4n mappings explain 1916449 --json

A stored complaint is explained with the mappings in force (the last valid
revision when the files on disk are invalid) and its stored routing is shown;
--file uses the files of [mappings] dir. The output may quote keywords of
rahasia complaints: it is for administrators; do not paste it into tickets or logs.";

const PREVIEW_HELP: &str = "\
Examples:
  sp4n mappings preview                      the edited files of [mappings] dir
  sp4n mappings preview --against /tmp/new-mappings --json

Compares with where each complaint is routed now in the store and changes nothing.
Only complaints still in the stream and routed by the rules count: decisions taken by a
person (triage, reroute) or following the national admin's re-disposition stay.
Apply the moves with `sp4n reroute --all`.";

pub(super) const REROUTE_HELP: &str = "\
Examples:
  sp4n reroute 1916449                 route one complaint again with the mappings in force
  sp4n reroute --all                   show the preview, ask, then move them
  sp4n reroute --all --yes --by budi   for scripts

`--all` only moves complaints routed by the rules (see `sp4n mappings preview`); name a
tracking id to move any one complaint. With `[mappings] auto_dispose = true` the
disposition to the new OPD is queued in the same store update; `sp4n push` sends it.";

#[derive(Debug, clap::Subcommand)]
pub enum MappingsCmd {
    /// Validate opd.toml, the rules and calendar.toml; print every error and warning.
    #[command(after_help = CHECK_HELP)]
    Check {
        /// Also fetch gettopics and getunits and compare (needs [upstream] in the config).
        #[arg(long)]
        online: bool,
        /// The mappings folder (default: [mappings] dir of the config, else ./mappings).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Why a complaint routes where it does: the matching rule and every rule before it.
    #[command(after_help = EXPLAIN_HELP)]
    #[command(group(clap::ArgGroup::new("what").required(true).args(["tracking_id", "file"])))]
    Explain {
        /// A stored complaint's tracking id.
        tracking_id: Option<u64>,
        /// A file with a <laporan> element or a whole getlaporan answer.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Which stored complaints an edit would move, from which OPD to which.
    #[command(after_help = PREVIEW_HELP)]
    Preview {
        /// The folder with the edited files (default: [mappings] dir of the config).
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Adopt a deployment: propose the unit ids and topic names of the platform for the
    /// mapping files, as a diff with the reason of every match; --write applies it.
    #[command(after_help = ADOPT_HELP)]
    Adopt {
        /// Apply the proposed edit to the files (comments, keys and order are kept).
        #[arg(long)]
        write: bool,
        /// The mappings folder (default: [mappings] dir of the config).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// List the platform's units (getunits): id, active, name, and the OPD naming it.
    #[command(after_help = UNITS_HELP)]
    Units {
        /// Show the copy kept in the store instead of asking the platform.
        #[arg(long)]
        stored: bool,
    },
    /// List the platform's topic tree (gettopics): id and path of names, as rules write it.
    #[command(after_help = TOPICS_HELP)]
    Topics {
        /// Show the copy kept in the store instead of asking the platform.
        #[arg(long)]
        stored: bool,
    },
}

const ADOPT_HELP: &str = "\
Examples:
  sp4n mappings adopt                 show the proposed edit (changes nothing)
  sp4n mappings adopt --write         apply it, then check the files
  sp4n mappings adopt --json

Reads getunits and gettopics from the platform of sp4n.toml (and keeps them in the
store). Each OPD entry in force is matched to a unit by its name, then its aliases,
then the names of its older entries; an active unit wins over an inactive one. Each
topic a rule names by id is rewritten as its path of names. What cannot be matched is
listed with what to do; nothing is guessed.

Exit codes: 0 nothing left unmatched, 1 some OPD or topic could not be matched,
2 invalid files or configuration, 3 token refused, 4 platform unavailable.";

const UNITS_HELP: &str = "\
Examples:
  sp4n mappings units            ask the platform (and keep the list in the store)
  sp4n mappings units --stored   the list read by the last pull, offline
  sp4n mappings units --json";

const TOPICS_HELP: &str = "\
Examples:
  sp4n mappings topics            ask the platform (and keep the tree in the store)
  sp4n mappings topics --stored   the tree read by the last pull, offline
  sp4n mappings topics --json

A rule may name a topic by the path shown (parent first, separated by /), case and
accents ignored, or by its id; a topic covers its sub-topics.";

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["tracking_id", "all"])))]
pub struct RerouteArgs {
    /// The complaint to route again.
    pub tracking_id: Option<u64>,
    /// Every complaint routed by the rules that the mappings in force would move.
    #[arg(long)]
    pub all: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Who is recorded as having moved them (default: $USER or $LOGNAME).
    #[arg(long)]
    pub by: Option<String>,
}

pub async fn run(ctx: &Ctx, cmd: MappingsCmd) -> Result<i32, CliError> {
    match cmd {
        MappingsCmd::Check { online, dir } => check(ctx, online, dir).await,
        MappingsCmd::Explain { tracking_id, file } => explain(ctx, tracking_id, file).await,
        MappingsCmd::Preview { against } => preview(ctx, against).await,
        MappingsCmd::Adopt { write, dir } => adopt(ctx, write, dir).await,
        MappingsCmd::Units { stored } => list_units(ctx, stored).await,
        MappingsCmd::Topics { stored } => list_topics(ctx, stored).await,
    }
}

/// Who an administrator's action is recorded as: `--by`, else the OS user.
pub(super) fn operator(by: Option<String>) -> Result<String, CliError> {
    let name = by
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    name.ok_or_else(|| {
        CliError::new(
            EXIT_CONFIG,
            "cannot tell who you are ($USER and $LOGNAME are empty): give --by NAME",
        )
    })
}

/// The configuration when there is one; `None` only when the default file is absent.
fn optional_config(ctx: &Ctx) -> Result<Option<Config>, CliError> {
    if !ctx.config_path.exists() && ctx.config_path == Path::new(DEFAULT_CONFIG_FILE) {
        return Ok(None);
    }
    ctx.config().map(Some)
}

async fn check(ctx: &Ctx, online: bool, dir: Option<PathBuf>) -> Result<i32, CliError> {
    let cfg = match (&dir, online) {
        (Some(_), false) => None,
        (_, true) => Some(ctx.config()?),
        (None, false) => optional_config(ctx)?,
    };
    let dir = dir
        .or_else(|| cfg.as_ref().map(|c| c.mappings.dir.clone()))
        .unwrap_or_else(|| PathBuf::from("mappings"));
    if !dir.is_dir() {
        return Err(CliError::new(
            EXIT_CONFIG,
            format!(
                "no mappings folder at {}: point --dir at the folder with opd.toml and rules.toml, or set [mappings] dir in the configuration",
                dir.display()
            ),
        ));
    }
    let (vocab, why_not) = match (online, &cfg) {
        (true, Some(cfg)) => {
            let v = context::fetch_vocabulary(cfg).await?;
            context::keep_vocabulary(cfg, &v).await;
            (Some(v), None)
        }
        _ => match context::stored_vocabulary(cfg.as_ref()).await {
            Ok(v) => (Some(v), None),
            Err(why) => (None, Some(why.to_string())),
        },
    };
    let report = app_mappings::check(dir, vocab.as_ref(), why_not.as_deref(), online);
    if ctx.json {
        ctx.print_json(&report)?;
    } else {
        let mut sorted: Vec<&Diagnostic> = report.diagnostics.iter().collect();
        sorted.sort_by_key(|d| d.severity != Severity::Error);
        for d in sorted {
            println!("{d}\n");
        }
        if report.valid {
            println!(
                "{}: valid (revision {}, {} rules, {} OPD entries{}), {} warning(s)",
                report.dir.display(),
                report.revision.as_deref().unwrap_or("-"),
                report.rules.unwrap_or(0),
                report.opds.unwrap_or(0),
                match (&vocab, online) {
                    (Some(_), true) => ", matches the platform".to_string(),
                    (Some(v), false) => format!(
                        ", matches the platform's topics and units read {}",
                        crate::model::format_wib_short(v.fetched_at)
                    ),
                    (None, _) => ", checked against the example tree only".to_string(),
                },
                report.warnings
            );
        } else {
            println!(
                "{}: INVALID, {} error(s), {} warning(s): fix each error at the line shown, then run `sp4n mappings check` again; until then the sync keeps routing with the last valid revision",
                report.dir.display(),
                report.errors,
                report.warnings
            );
        }
    }
    Ok(if report.valid { 0 } else { EXIT_CONFIG })
}

#[derive(Debug, Serialize)]
struct ExplainReport {
    #[serde(flatten)]
    explanation: crate::mapping::Explanation,
    /// Where the store has it now (None for --file).
    stored: Option<Routing>,
    /// The mapping files on disk are invalid; the remembered revision explained.
    files_rejected: bool,
}

async fn explain(ctx: &Ctx, id: Option<u64>, file: Option<PathBuf>) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let (complaint, mappings, stored, rejected) = match (id, file) {
        (_, Some(file)) => {
            let c = complaint_from_file(&file, &cfg)?;
            let vocab = context::stored_vocabulary(Some(&cfg)).await.ok();
            (
                c,
                app_mappings::load_valid(&cfg.mappings.dir, vocab.as_ref())?,
                None,
                false,
            )
        }
        (Some(id), None) => {
            let store = ctx.open_store(&cfg).await?;
            let active = crate::app::context::active_mappings(&cfg, &store).await?;
            super::print_rejected(&active);
            let rec = store
                .run(move |s| s.get_complaint(id))
                .await?
                .ok_or_else(|| reroute::unknown_complaint(id))?;
            let m = Mappings::clone(&active.mappings);
            (rec.complaint, m, rec.routing, active.rejected.is_some())
        }
        (None, None) => {
            return Err(CliError::new(
                EXIT_CONFIG,
                "give a tracking id or --file complaint.xml",
            ));
        }
    };
    let explanation = mappings.explain(&complaint, today_wib());
    let report = ExplainReport {
        explanation,
        stored,
        files_rejected: rejected,
    };
    if ctx.json {
        return ctx.print_json(&report).map(|_| 0);
    }
    println!("{}", report.explanation);
    if let Some(r) = &report.stored {
        let by = match &r.by {
            RoutedBy::Rules => "the rules".to_string(),
            RoutedBy::Upstream => "the national admin's re-disposition".to_string(),
            RoutedBy::Platform => "the platform (already disposed to that unit)".to_string(),
            RoutedBy::Person(p) => format!("{p} (by hand)"),
        };
        println!(
            "Stored routing: {} (rule {}, revision {}, by {by}).",
            r.opd, r.rule_id, r.revision
        );
        if r.opd != report.explanation.route.opd {
            println!(
                "Routing is sticky: run `sp4n reroute {}` to move it to {}.",
                report.explanation.tracking_id, report.explanation.route.opd
            );
        }
    }
    Ok(0)
}

/// Reads a complaint from a file holding a `<laporan>` element or a getlaporan answer.
fn complaint_from_file(path: &Path, cfg: &Config) -> Result<Complaint, CliError> {
    let bad = |m: String| CliError::new(EXIT_CONFIG, format!("{}: {m}", path.display()));
    let text = crate::limits::read_to_string_capped(path, crate::limits::MAX_INPUT_FILE_BYTES)
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    use crate::upstream::xml::{Outcome, parse_laporan_file};
    match parse_laporan_file(&text, &cfg.upstream.labels()) {
        Ok(Outcome::Ok(Ok(raw))) => Ok(raw.complaint),
        Ok(Outcome::Ok(Err(set_aside))) => Err(bad(format!(
            "the <laporan> is not valid: {}",
            set_aside.reason
        ))),
        Ok(Outcome::Error(env)) => Err(bad(format!(
            "it holds an error answer ({}), not a complaint",
            env.kode
        ))),
        Err(e) => Err(bad(format!(
            "{e}; give a <laporan> element or a whole getlaporan answer"
        ))),
    }
}

async fn preview(ctx: &Ctx, against: Option<PathBuf>) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let dir = against.unwrap_or_else(|| cfg.mappings.dir.clone());
    let store = ctx.open_store(&cfg).await?;
    let vocab = store.run(crate::mapping::vocabulary::stored).await?;
    let m = std::sync::Arc::new(app_mappings::load_valid(&dir, vocab.as_ref())?);
    let revision = m.revision().to_string();
    let moves = reroute::moves(&store, m).await?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "dir": dir,
            "revision": revision,
            "moves": moves,
            "by_pair": reroute::pair_counts(&moves),
        }))?;
    } else {
        println!("{}", render_preview(&moves));
        if !moves.is_empty() {
            println!(
                "Nothing was changed. Apply with `sp4n reroute --all` once these files are in [mappings] dir."
            );
        }
    }
    Ok(0)
}

pub async fn run_reroute(ctx: &Ctx, a: RerouteArgs) -> Result<i32, CliError> {
    let who = operator(a.by)?;
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let active = crate::app::context::active_mappings(&cfg, &store).await?;
    super::print_rejected(&active);
    let m = active.mappings.clone();
    let revision = m.revision().to_string();
    let planned = match a.tracking_id {
        Some(id) => reroute::move_of(&store, &m, id)
            .await?
            .into_iter()
            .collect(),
        None => {
            let planned = reroute::moves(&store, m.clone()).await?;
            if !ctx.json {
                println!("{}", render_preview(&planned));
            }
            if !planned.is_empty() && !a.yes && !confirm(planned.len())? {
                println!("Nothing moved (not confirmed).");
                return Ok(0);
            }
            planned
        }
    };
    let mut moved = Vec::new();
    for mv in &planned {
        moved.push(reroute::apply(&store, &cfg, &m, mv, &who).await?);
    }
    if ctx.json {
        ctx.print_json(&serde_json::json!({ "revision": revision, "moved": moved }))?;
    } else if moved.is_empty() {
        println!("Nothing moved: every complaint already routes where the mappings in force say.");
    } else {
        for mv in &moved {
            print!(
                "{}: {} -> {} (rule {})",
                mv.tracking_id, mv.from, mv.to, mv.rule_id
            );
            match &mv.disposition_ref {
                Some(r) => println!(", disposisi diantrekan (ref {r})"),
                None => println!(),
            }
        }
        println!("{} complaint(s) moved, recorded as {who}.", moved.len());
    }
    Ok(0)
}

/// Asks on the terminal; true only for an explicit yes.
fn confirm(n: usize) -> Result<bool, CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::new(
            EXIT_CONFIG,
            "refusing to move complaints without confirmation: stdin is not a terminal; add --yes to confirm in a script",
        ));
    }
    use std::io::Write;
    print!("Move these {n} complaint(s)? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .map_err(|e| CliError::new(EXIT_STORE, format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "ya"))
}

/// The platform's vocabulary for a listing: asked on demand (and kept), or the stored copy.
async fn listing_vocabulary(ctx: &Ctx, stored: bool) -> Result<Vocabulary, CliError> {
    let cfg = ctx.config()?;
    if stored {
        return context::stored_vocabulary(Some(&cfg)).await.map_err(|why| {
            CliError::new(
                EXIT_CONFIG,
                format!(
                    "no copy of the platform's topics and units is kept ({why}): run without --stored to ask the platform"
                ),
            )
        });
    }
    let v = context::fetch_vocabulary(&cfg).await?;
    context::keep_vocabulary(&cfg, &v).await;
    Ok(v)
}

async fn list_units(ctx: &Ctx, stored: bool) -> Result<i32, CliError> {
    let v = listing_vocabulary(ctx, stored).await?;
    let cfg = ctx.config()?;
    let rows = app_mappings::unit_rows(&v, &cfg.mappings.dir);
    if ctx.json {
        ctx.print_json(&serde_json::json!({ "fetched_at": v.fetched_at, "units": rows }))?;
        return Ok(0);
    }
    println!(
        "{} unit(s) of the platform (read {}):",
        rows.len(),
        crate::model::format_wib_short(v.fetched_at)
    );
    for r in &rows {
        println!(
            "  {:>6}  {:<8}  {}{}",
            r.id,
            if r.active { "active" } else { "INACTIVE" },
            r.name,
            if r.opd.is_empty() {
                String::new()
            } else {
                format!("  [OPD {}]", r.opd.join(", "))
            }
        );
    }
    Ok(0)
}

async fn list_topics(ctx: &Ctx, stored: bool) -> Result<i32, CliError> {
    let v = listing_vocabulary(ctx, stored).await?;
    let rows = app_mappings::topic_rows(&v);
    if ctx.json {
        ctx.print_json(&serde_json::json!({ "fetched_at": v.fetched_at, "topics": rows }))?;
        return Ok(0);
    }
    let mut sorted: Vec<&app_mappings::TopicRow> = rows.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    println!(
        "{} topic(s) of the platform (read {}); rules may use the id or the path:",
        rows.len(),
        crate::model::format_wib_short(v.fetched_at)
    );
    for r in sorted {
        println!("  {:>6}  \"{}\"", r.id, r.path);
    }
    Ok(0)
}

async fn adopt(ctx: &Ctx, write: bool, dir: Option<PathBuf>) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let dir = dir.unwrap_or_else(|| cfg.mappings.dir.clone());
    let (report, sources) = app_mappings::adopt(&cfg, dir.clone(), write).await?;
    let unmatched = !report.plan.unmatched.is_empty();
    if ctx.json {
        ctx.print_json(&report)?;
    } else {
        print!("{}", crate::mapping::adopt::render(&sources, &report.plan));
        if write {
            if report.written {
                println!(
                    "\nWrote {} edit(s) to {}.",
                    report.plan.edits.len(),
                    dir.display()
                );
            }
            if report.remaining_errors.is_empty() {
                println!(
                    "The files are valid for this platform; `sp4n mappings preview` shows what would move."
                );
            } else {
                for d in &report.remaining_errors {
                    println!("{d}\n");
                }
                println!(
                    "{} error(s) remain: fix them at the lines shown, then run `sp4n mappings check`.",
                    report.remaining_errors.len()
                );
            }
        } else if !report.plan.edits.is_empty() {
            println!("\nNothing was changed. Apply with `sp4n mappings adopt --write`.");
        }
    }
    Ok(if !report.remaining_errors.is_empty() {
        EXIT_CONFIG
    } else if unmatched {
        1
    } else {
        0
    })
}
