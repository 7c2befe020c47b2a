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

use super::{CliError, Ctx, EXIT_CONFIG, EXIT_STORE, EXIT_TOKEN, EXIT_UNAVAILABLE};
use crate::config::{Config, DEFAULT_CONFIG_FILE};
use crate::diag::{Diagnostic, Severity};
use crate::mapping::vocabulary::Vocabulary;
use crate::mapping::{Mappings, Move, Route, TRIAGE, render_preview, today_wib};
use crate::model::{Complaint, Status};
use crate::push::input::DEFAULT_DISPOSITION_NOTE;
use crate::store::{EventKind, NewOutboxEntry, RoutedBy, Routing, Store, StoredComplaint, new_ref};
use crate::upstream::{ErrorCode, UpstreamError, WriteAction, WriteRequest};
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

/// The platform's vocabulary kept in the store of `cfg`, when there is one to read;
/// otherwise why not (for the warning).
async fn stored_vocabulary(cfg: Option<&Config>) -> (Option<Vocabulary>, Option<String>) {
    let Some(cfg) = cfg else {
        return (
            None,
            Some("no configuration, so no store to read it from".into()),
        );
    };
    let path = cfg.store_path();
    if !path.exists() {
        return (
            None,
            Some(format!("the store {} does not exist yet", path.display())),
        );
    }
    match super::open_store(&path).await {
        Ok(store) => match store.run(crate::mapping::vocabulary::stored).await {
            Ok(Some(v)) => (Some(v), None),
            Ok(None) => (None, Some("no pull has read them yet".into())),
            Err(e) => (None, Some(e.to_string())),
        },
        Err(e) => (None, Some(e.message)),
    }
}

/// Keeps a vocabulary read on demand in the store, when the store can be opened (a
/// running agent holds it: then the next pull reads it anyway).
async fn keep_vocabulary(cfg: &Config, v: &Vocabulary) -> Vec<crate::mapping::vocabulary::Change> {
    let Ok(store) = super::open_store(&cfg.store_path()).await else {
        return Vec::new();
    };
    let v = v.clone();
    match store
        .run(move |s| crate::mapping::vocabulary::record(s, v))
        .await
    {
        Ok(r) => r.changes,
        Err(e) => {
            tracing::warn!(error = %e, "Could not keep the platform's vocabulary in the store.");
            Vec::new()
        }
    }
}

/// The warning shown while the files are checked against the shipped example tree.
fn example_tree_warning(dir: &Path, why: Option<&str>) -> Diagnostic {
    Diagnostic::warning(
        &dir.join("rules.toml"),
        "",
        None,
        format!(
            "{}{}",
            crate::mapping::vocabulary::NOT_FETCHED,
            why.map(|w| format!(" ({w})")).unwrap_or_default()
        ),
        "run `sp4n pull` or `sp4n mappings topics` with the configuration, or `sp4n mappings check --online`",
    )
}

/// Loads mapping files for a command that needs them valid, checked against the
/// platform's vocabulary when it was read; exit 2 with the errors.
fn load_valid(dir: &Path, vocab: Option<&Vocabulary>) -> Result<Mappings, CliError> {
    let loaded =
        crate::mapping::read_sources(dir).and_then(|s| crate::mapping::check_against(s, vocab));
    loaded.map(|(m, _)| m).map_err(|d| {
        CliError::new(
            EXIT_CONFIG,
            format!(
                "{}\n\nthe mapping files in {} are invalid: fix them (`sp4n mappings check --dir {}`), then run again",
                crate::diag::render_all(&d),
                dir.display(),
                dir.display()
            ),
        )
    })
}

#[derive(Debug, Serialize)]
struct CheckReport {
    dir: PathBuf,
    valid: bool,
    revision: Option<String>,
    rules: Option<usize>,
    opds: Option<usize>,
    online: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<Diagnostic>,
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
    let mut diagnostics = Vec::new();
    let (vocab, why_not) = match (online, &cfg) {
        (true, Some(cfg)) => {
            let v = fetch_platform(cfg).await?;
            keep_vocabulary(cfg, &v).await;
            (Some(v), None)
        }
        _ => stored_vocabulary(cfg.as_ref()).await,
    };
    if vocab.is_none() {
        diagnostics.push(example_tree_warning(&dir, why_not.as_deref()));
    }
    let mut summary = (None, None, None);
    let loaded = crate::mapping::read_sources(&dir)
        .and_then(|s| Mappings::from_sources(s, vocab.as_ref().map(|v| v.topics.as_slice())));
    match loaded {
        Ok((m, warnings)) => {
            diagnostics.extend(warnings);
            if let Some(v) = &vocab {
                if online {
                    diagnostics.extend(m.check_online(&v.topics, &v.units));
                } else {
                    diagnostics.extend(m.check_units(&v.units, today_wib()));
                }
            }
            summary = (
                Some(m.revision().to_string()),
                Some(m.rule_count()),
                Some(m.opds().len()),
            );
        }
        Err(d) => {
            diagnostics.extend(d);
            // Report the unit errors in the same run: the OPD entries do not depend on
            // the topics, so read them with the example tree.
            if let Some(v) = &vocab
                && let Ok((m, _)) =
                    crate::mapping::read_sources(&dir).and_then(|s| Mappings::from_sources(s, None))
            {
                diagnostics.extend(m.check_units(&v.units, today_wib()));
            }
        }
    }
    let cal = dir.join("calendar.toml");
    if cal.exists() {
        diagnostics.extend(crate::sla::Calendar::check(&cal, chrono::Utc::now()));
    } else {
        diagnostics.push(Diagnostic::warning(
            &cal,
            "",
            None,
            "there is no calendar.toml: working-day clocks count weekends and fixed-date holidays only",
            "copy mappings/calendar.toml from the release and add this year's holidays",
        ));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let report = CheckReport {
        valid: errors == 0,
        revision: summary.0,
        rules: summary.1,
        opds: summary.2,
        online,
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics,
        dir,
    };
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

fn upstream_error(what: &str, e: UpstreamError) -> CliError {
    let code = match &e {
        UpstreamError::Rejected {
            code: ErrorCode::TokenInvalid,
            ..
        } => EXIT_TOKEN,
        UpstreamError::Config(_) => EXIT_CONFIG,
        _ => EXIT_UNAVAILABLE,
    };
    CliError::new(code, format!("{what}: {e}; {}", e.guidance()))
}

async fn fetch_platform(cfg: &Config) -> Result<Vocabulary, CliError> {
    let client = super::push::client(cfg)?;
    crate::mapping::vocabulary::fetch(&client, chrono::Utc::now())
        .await
        .map_err(|e| match e {
            crate::mapping::vocabulary::VocabularyError::Upstream { what, source } => {
                upstream_error(&format!("{what} failed"), source)
            }
            crate::mapping::vocabulary::VocabularyError::Store(e) => e.into(),
        })
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
            let (vocab, _) = stored_vocabulary(Some(&cfg)).await;
            (
                c,
                load_valid(&cfg.mappings.dir, vocab.as_ref())?,
                None,
                false,
            )
        }
        (Some(id), None) => {
            let store = ctx.open_store(&cfg).await?;
            let active = super::pull::active_mappings(&cfg, &store).await?;
            let rec = store
                .run(move |s| s.get_complaint(id))
                .await?
                .ok_or_else(|| unknown_complaint(id))?;
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

fn unknown_complaint(id: u64) -> CliError {
    CliError::new(
        EXIT_CONFIG,
        format!(
            "complaint {id} is not in the local store: check the tracking id, or run `sp4n pull` first if it is new"
        ),
    )
}

/// Reads a complaint from a file holding a `<laporan>` element or a getlaporan answer.
fn complaint_from_file(path: &Path, cfg: &Config) -> Result<Complaint, CliError> {
    let bad = |m: String| CliError::new(EXIT_CONFIG, format!("{}: {m}", path.display()));
    let text = crate::limits::read_to_string_capped(path, crate::limits::MAX_INPUT_FILE_BYTES)
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with("<?xml")
        && let Some(end) = body.find("?>")
    {
        body = body[end + 2..].trim_start();
    }
    let whole = body.starts_with("<lapor>") || body.starts_with("<lapor ");
    let doc = if whole {
        body.to_string()
    } else {
        format!("<lapor status=\"ok\">{body}</lapor>")
    };
    use crate::upstream::xml::{Outcome, parse_laporan_answer};
    match parse_laporan_answer(&doc, &cfg.upstream.labels()) {
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

/// One complaint that would move: its stored routing against the new one.
fn stored_route(s: &StoredComplaint) -> Route {
    Route {
        opd: s.opd().to_string(),
        rule_id: s
            .routing
            .as_ref()
            .map_or_else(|| "-".to_string(), |r| r.rule_id.clone()),
    }
}

/// The complaints the rules may move: in the stream and routed by the rules (or never).
fn movable(s: &StoredComplaint) -> bool {
    s.in_stream
        && s.routing
            .as_ref()
            .is_none_or(|r| matches!(r.by, RoutedBy::Rules))
}

/// Re-routes the movable stored complaints with `m`; the ones whose OPD would change.
async fn moves(store: &Store, m: std::sync::Arc<Mappings>) -> Result<Vec<Move>, CliError> {
    let on = today_wib();
    Ok(store
        .run(move |s| {
            let mut out = Vec::new();
            s.for_each_complaint(|rec| {
                if movable(&rec) {
                    let to = m.route(&rec.complaint, on);
                    if to.opd != rec.opd() {
                        out.push(Move {
                            tracking_id: rec.tracking_id(),
                            from: stored_route(&rec),
                            to,
                        });
                    }
                }
                true
            })?;
            Ok::<_, crate::store::StoreError>(out)
        })
        .await?)
}

#[derive(Debug, Serialize)]
struct PairCount {
    from: String,
    to: String,
    count: usize,
}

fn pair_counts(moves: &[Move]) -> Vec<PairCount> {
    let mut pairs: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for m in moves {
        *pairs
            .entry((m.from.opd.clone(), m.to.opd.clone()))
            .or_default() += 1;
    }
    pairs
        .into_iter()
        .map(|((from, to), count)| PairCount { from, to, count })
        .collect()
}

async fn preview(ctx: &Ctx, against: Option<PathBuf>) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let dir = against.unwrap_or_else(|| cfg.mappings.dir.clone());
    let store = ctx.open_store(&cfg).await?;
    let vocab = store.run(crate::mapping::vocabulary::stored).await?;
    let m = std::sync::Arc::new(load_valid(&dir, vocab.as_ref())?);
    let revision = m.revision().to_string();
    let moves = moves(&store, m).await?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "dir": dir,
            "revision": revision,
            "moves": moves,
            "by_pair": pair_counts(&moves),
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

/// The disposition a reroute queues with auto_dispose: to the new OPD's unit, when the
/// complaint is open and not already at that unit.
fn auto_disposition(
    cfg: &Config,
    m: &Mappings,
    c: &Complaint,
    opd: &str,
    who: &str,
) -> Option<NewOutboxEntry> {
    if !cfg.mappings.auto_dispose || opd == TRIAGE {
        return None;
    }
    let unit = m.opd_on(opd, today_wib())?.unit_id.clone()?;
    let needed = matches!(c.status, Status::BelumDitindaklanjuti | Status::Proses)
        && c.unit.as_ref().is_none_or(|u| u.id != unit);
    needed.then(|| NewOutboxEntry {
        opd: opd.to_string(),
        requested_by: who.to_string(),
        request: WriteRequest {
            ref_: new_ref(),
            action: WriteAction::Disposisi {
                tracking_id: c.tracking_id,
                unit,
                catatan: DEFAULT_DISPOSITION_NOTE.to_string(),
            },
        },
    })
}

#[derive(Debug, Serialize)]
struct Moved {
    tracking_id: u64,
    from: String,
    to: String,
    rule_id: String,
    disposition_ref: Option<String>,
}

/// Moves one complaint from `from` to `to` in one store update (refused when someone
/// moved it meanwhile).
async fn apply_move(
    store: &Store,
    cfg: &Config,
    m: &Mappings,
    mv: &Move,
    revision: &str,
    who: &str,
) -> Result<Moved, CliError> {
    let id = mv.tracking_id;
    let rec = store
        .run(move |s| s.get_complaint(id))
        .await?
        .ok_or_else(|| unknown_complaint(id))?;
    let outbox: Vec<NewOutboxEntry> = auto_disposition(cfg, m, &rec.complaint, &mv.to.opd, who)
        .into_iter()
        .collect();
    let disposition_ref = outbox.first().map(|e| e.request.ref_.clone());
    let (from, to, rule, rev, by) = (
        mv.from.opd.clone(),
        mv.to.opd.clone(),
        mv.to.rule_id.clone(),
        revision.to_string(),
        who.to_string(),
    );
    store
        .run(move |s| {
            s.update_complaint(
                id,
                |r| {
                    if r.opd() != from {
                        return Err(format!(
                            "complaint {id} moved to {} meanwhile; run the command again",
                            r.opd()
                        ));
                    }
                    r.routing = Some(Routing {
                        opd: to.clone(),
                        rule_id: rule.clone(),
                        revision: rev.clone(),
                        routed_at: chrono::Utc::now(),
                        by: RoutedBy::Person(by.clone()),
                    });
                    Ok(vec![EventKind::Rerouted {
                        from: from.clone(),
                        to: to.clone(),
                        by: by.clone(),
                    }])
                },
                outbox,
            )
        })
        .await?
        .ok_or_else(|| unknown_complaint(id))?;
    Ok(Moved {
        tracking_id: id,
        from: mv.from.opd.clone(),
        to: mv.to.opd.clone(),
        rule_id: mv.to.rule_id.clone(),
        disposition_ref,
    })
}

pub async fn run_reroute(ctx: &Ctx, a: RerouteArgs) -> Result<i32, CliError> {
    let who = operator(a.by)?;
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let active = super::pull::active_mappings(&cfg, &store).await?;
    let m = active.mappings.clone();
    let revision = m.revision().to_string();
    let planned = match a.tracking_id {
        Some(id) => {
            let rec = store
                .run(move |s| s.get_complaint(id))
                .await?
                .ok_or_else(|| unknown_complaint(id))?;
            let to = m.route(&rec.complaint, today_wib());
            if to.opd == rec.opd() {
                vec![]
            } else {
                vec![Move {
                    tracking_id: id,
                    from: stored_route(&rec),
                    to,
                }]
            }
        }
        None => {
            let planned = moves(&store, m.clone()).await?;
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
        moved.push(apply_move(&store, &cfg, &m, mv, &revision, &who).await?);
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
        let (v, why) = stored_vocabulary(Some(&cfg)).await;
        return v.ok_or_else(|| {
            CliError::new(
                EXIT_CONFIG,
                format!(
                    "no copy of the platform's topics and units is kept ({}): run without --stored to ask the platform",
                    why.unwrap_or_default()
                ),
            )
        });
    }
    let v = fetch_platform(&cfg).await?;
    keep_vocabulary(&cfg, &v).await;
    Ok(v)
}

#[derive(Debug, Serialize)]
struct UnitRow {
    id: String,
    name: String,
    active: bool,
    /// The OPD codes whose entry in force names this unit.
    opd: Vec<String>,
}

async fn list_units(ctx: &Ctx, stored: bool) -> Result<i32, CliError> {
    let v = listing_vocabulary(ctx, stored).await?;
    let cfg = ctx.config()?;
    let m = crate::mapping::read_sources(&cfg.mappings.dir)
        .and_then(|s| Mappings::from_sources(s, Some(&v.topics)))
        .ok();
    let on = today_wib();
    let rows: Vec<UnitRow> = v
        .units
        .iter()
        .map(|u| UnitRow {
            id: u.id.clone(),
            name: u.name.clone(),
            active: u.active,
            opd: m
                .as_ref()
                .and_then(|m| m.0.opd_by_unit(&u.id, on))
                .map(|o| vec![o.code.clone()])
                .unwrap_or_default(),
        })
        .collect();
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

#[derive(Debug, Serialize)]
struct TopicRow {
    id: String,
    parent: String,
    name: String,
    /// The path of names a rule can use.
    path: String,
}

async fn list_topics(ctx: &Ctx, stored: bool) -> Result<i32, CliError> {
    let v = listing_vocabulary(ctx, stored).await?;
    let tree = crate::mapping::world::TopicTree::new(&v.topics);
    let rows: Vec<TopicRow> = v
        .topics
        .iter()
        .filter_map(|t| {
            let i = tree.get(&t.id)?;
            Some(TopicRow {
                id: t.id.clone(),
                parent: t.parent.clone(),
                name: t.name.clone(),
                path: tree.path(i),
            })
        })
        .collect();
    if ctx.json {
        ctx.print_json(&serde_json::json!({ "fetched_at": v.fetched_at, "topics": rows }))?;
        return Ok(0);
    }
    let mut sorted: Vec<&TopicRow> = rows.iter().collect();
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

#[derive(Debug, Serialize)]
struct AdoptReport {
    dir: PathBuf,
    written: bool,
    #[serde(flatten)]
    plan: crate::mapping::adopt::Plan,
    /// After --write: the errors `mappings check` still finds.
    remaining_errors: Vec<Diagnostic>,
}

async fn adopt(ctx: &Ctx, write: bool, dir: Option<PathBuf>) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let dir = dir.unwrap_or_else(|| cfg.mappings.dir.clone());
    let sources = crate::mapping::read_sources(&dir).map_err(|d| {
        CliError::new(
            EXIT_CONFIG,
            format!(
                "{}\n\ncannot read the mapping files",
                crate::diag::render_all(&d)
            ),
        )
    })?;
    let v = fetch_platform(&cfg).await?;
    keep_vocabulary(&cfg, &v).await;
    let example = crate::mapping::world::TopicTree::modelled();
    let plan = crate::mapping::adopt::plan(&sources, &v.topics, &v.units, &example, today_wib())
        .map_err(|e| CliError::new(EXIT_CONFIG, format!("{e}; fix the file, then run again")))?;
    let mut remaining = Vec::new();
    if write && !plan.edits.is_empty() {
        for f in crate::mapping::adopt::apply(&sources, &plan) {
            if sources.iter().any(|s| s.path == f.path && s.text != f.text) {
                write_atomically(&f.path, &f.text)?;
            }
        }
    }
    if write {
        let after = crate::mapping::read_sources(&dir)
            .and_then(|s| crate::mapping::check_against(s, Some(&v)));
        if let Err(d) = after {
            remaining = d.into_iter().filter(Diagnostic::is_error).collect();
        }
    }
    let unmatched = !plan.unmatched.is_empty();
    let report = AdoptReport {
        dir: dir.clone(),
        written: write && !plan.edits.is_empty(),
        plan,
        remaining_errors: remaining,
    };
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

/// Replaces a file by writing a sibling and renaming it over, so an interrupted write
/// never leaves half a file for the next run to read.
fn write_atomically(path: &Path, text: &str) -> Result<(), CliError> {
    let fail = |e: std::io::Error| {
        CliError::new(
            EXIT_STORE,
            format!(
                "cannot write {}: {e}; check the folder's permissions",
                path.display()
            ),
        )
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    use std::io::Write;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
