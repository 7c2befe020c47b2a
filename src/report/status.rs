//! `sp4n status`: the agent's health at a glance, rendered from a [`StatusSnapshot`] that
//! the CLI fills from the store, the mapping files and (when an agent runs) its scheduler.
//!
//! The first line answers "is it healthy": `OK`, or `ATTENTION` followed by one line per
//! problem ([`StatusSnapshot::problems`]).

use super::table::{Align, Table};
use crate::model::{StreamKey, TrackingId, format_wib_short};
use crate::schedule::{JobOutcome, RunRecord};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::PathBuf;

/// Everything `sp4n status` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusSnapshot {
    pub generated_at: DateTime<Utc>,
    /// The running agent, if one holds the store.
    pub agent: Option<AgentInfo>,
    pub jobs: Vec<JobView>,
    /// Where the next pull resumes.
    pub cursor: Option<StreamKey>,
    pub outbox: OutboxView,
    pub set_aside: SetAsideView,
    pub mappings: MappingsView,
    pub store: StoreView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentInfo {
    pub pid: u32,
    pub since: Option<DateTime<Utc>>,
}

/// One scheduled job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobView {
    pub name: String,
    /// The cron line, `None` when the job is not scheduled.
    pub schedule: Option<String>,
    pub next_fire: Option<DateTime<Utc>>,
    pub last_run: Option<RunRecord>,
    pub last_success: Option<DateTime<Utc>>,
}

impl From<crate::schedule::JobStatus> for JobView {
    fn from(s: crate::schedule::JobStatus) -> JobView {
        JobView {
            name: s.name,
            schedule: Some(s.schedule),
            next_fire: s.next_fire,
            last_run: s.last_run,
            last_success: s.last_success,
        }
    }
}

/// The jobs of `[schedule]` with their next fire after `now`, for `sp4n status` when no
/// agent publishes its own; the caller adds each job's last run from the store. A line
/// that does not parse shows as not scheduled (`check` reports it).
pub fn jobs_from_config(cfg: &crate::config::ScheduleConfig, now: DateTime<Utc>) -> Vec<JobView> {
    let zone = crate::schedule::zone_of(cfg);
    crate::schedule::JOB_NAMES
        .into_iter()
        .zip([&cfg.pull, &cfg.push, &cfg.reconcile])
        .map(|(name, line)| {
            let parsed = line
                .as_deref()
                .and_then(|l| crate::schedule::CronSchedule::parse(l, zone).ok());
            JobView {
                name: name.to_string(),
                schedule: parsed.as_ref().map(|s| s.source().to_string()),
                next_fire: parsed.and_then(|s| s.next_after(now)),
                last_run: None,
                last_success: None,
            }
        })
        .collect()
}

/// An outbox entry that waits for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldEntry {
    pub tracking_id: TrackingId,
    /// `disposition`, `followup`, `status` or `complaint`.
    pub action: String,
    /// The platform's answer or what the operator must do (no complaint text).
    pub reason: String,
    pub since: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutboxView {
    /// Entries waiting to be sent (held ones included).
    pub depth: u64,
    pub held: Vec<HeldEntry>,
    pub oldest_queued: Option<DateTime<Utc>>,
}

/// A complaint the pull could not read and kept aside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetAsideItem {
    pub tracking_id: Option<TrackingId>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SetAsideView {
    pub count: u64,
    /// The most recent ones (the CLI decides how many).
    pub recent: Vec<SetAsideItem>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MappingsView {
    /// The revision routing uses now.
    pub active_revision: Option<String>,
    /// The revision of the files on disk, when they differ (an edit not yet active).
    pub disk_revision: Option<String>,
    /// False when the files on disk do not pass `mappings check`.
    pub files_valid: bool,
    /// The first line of each error on disk.
    pub errors: Vec<String>,
    pub calendar_years: Vec<i32>,
    /// Years the clocks need now (this year, and next year in December) that the calendar
    /// lacks.
    pub calendar_missing_years: Vec<i32>,
    /// The platform's vocabulary: never read, or what changed upstream and what to do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vocabulary: Vec<String>,
    /// Running SLA deadlines counted over a year the calendar lacks: they may move when
    /// its SKB days off are added.
    pub calendar_deadlines_may_move: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreView {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub complaints: u64,
}

/// How serious a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub level: Level,
    pub message: String,
}

/// The snapshot with its verdict, as `sp4n status --json` prints it.
#[derive(Serialize)]
struct StatusJson<'a> {
    healthy: bool,
    problems: Vec<Problem>,
    #[serde(flatten)]
    snapshot: &'a StatusSnapshot,
}

impl StatusSnapshot {
    /// What needs a person, most serious first. Empty means healthy.
    pub fn problems(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        let mut add = |level, message: String| p.push(Problem { level, message });
        for j in &self.jobs {
            if let Some(RunRecord {
                outcome: JobOutcome::Failed { error },
                finished,
                ..
            }) = &j.last_run
            {
                add(
                    Level::Error,
                    format!(
                        "{}: the last run failed at {}: {error}",
                        j.name,
                        format_wib_short(*finished)
                    ),
                );
            }
            if let Some(RunRecord {
                outcome: JobOutcome::Interrupted,
                ..
            }) = &j.last_run
            {
                add(
                    Level::Warning,
                    format!("{}: the last run was stopped before it finished", j.name),
                );
            }
        }
        if !self.outbox.held.is_empty() {
            add(
                Level::Error,
                format!(
                    "outbox: {} entr{} held for a person (see below)",
                    self.outbox.held.len(),
                    if self.outbox.held.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                ),
            );
        }
        if !self.mappings.files_valid {
            add(
                Level::Error,
                "mappings: the files on disk are invalid; the last valid revision keeps routing (run `sp4n mappings check`)".into(),
            );
        }
        for line in &self.mappings.vocabulary {
            add(Level::Warning, format!("platform: {line}"));
        }
        if self.set_aside.count > 0 {
            add(
                Level::Warning,
                format!(
                    "pull: {} complaint(s) set aside as unreadable",
                    self.set_aside.count
                ),
            );
        }
        for y in &self.mappings.calendar_missing_years {
            add(
                Level::Warning,
                format!(
                    "calendar: the SKB days off of {y} (movable holidays, cuti bersama) are missing from calendar.toml; fixed-date holidays are applied; {} running deadline(s) may move when {y} is added",
                    self.mappings.calendar_deadlines_may_move
                ),
            );
        }
        p.sort_by_key(|x| std::cmp::Reverse(x.level));
        p
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".to_string(), format_wib_short)
}

/// A byte count for people: `812 B`, `3.4 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `sp4n status` as text.
pub fn render_text(s: &StatusSnapshot) -> String {
    let mut out = String::new();
    let problems = s.problems();
    out.push_str(&format!(
        "sp4n status at {}: {}\n",
        format_wib_short(s.generated_at),
        if problems.is_empty() {
            "OK".to_string()
        } else {
            format!("ATTENTION ({} problem(s))", problems.len())
        }
    ));
    for p in &problems {
        let mark = match p.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        out.push_str(&format!("  {mark}: {}\n", p.message));
    }
    out.push_str(&match &s.agent {
        Some(a) => format!(
            "\nAgent:     running (pid {}{})\n",
            a.pid,
            a.since
                .map(|t| format!(", since {}", format_wib_short(t)))
                .unwrap_or_default()
        ),
        None => "\nAgent:     not running\n".to_string(),
    });
    out.push('\n');
    let mut t = Table::new(&[
        ("Job", Align::Left),
        ("Schedule", Align::Left),
        ("Last run", Align::Left),
        ("Outcome", Align::Left),
        ("Last success", Align::Left),
        ("Next fire", Align::Left),
    ]);
    for j in &s.jobs {
        let (last, outcome) = match &j.last_run {
            None => ("-".to_string(), "never run".to_string()),
            Some(r) => (
                format_wib_short(r.started),
                match &r.outcome {
                    JobOutcome::Ok { summary } if summary.is_empty() => "ok".to_string(),
                    JobOutcome::Ok { summary } => format!("ok: {summary}"),
                    JobOutcome::Failed { .. } => "FAILED".to_string(),
                    JobOutcome::Interrupted => "interrupted".to_string(),
                },
            ),
        };
        t.row(vec![
            j.name.clone(),
            j.schedule
                .clone()
                .unwrap_or_else(|| "(not scheduled)".into()),
            last,
            outcome,
            when(j.last_success),
            when(j.next_fire),
        ]);
    }
    out.push_str(&t.render());
    out.push('\n');
    out.push_str(&format!(
        "Cursor:    {}\n",
        s.cursor
            .map_or("(no pull yet)".to_string(), |c| c.to_string())
    ));
    out.push_str(&format!(
        "Outbox:    {} queued, {} held{}\n",
        s.outbox.depth,
        s.outbox.held.len(),
        s.outbox
            .oldest_queued
            .map(|t| format!(", oldest since {}", format_wib_short(t)))
            .unwrap_or_default()
    ));
    for h in &s.outbox.held {
        out.push_str(&format!(
            "  held: {} {} since {}: {}\n",
            h.tracking_id,
            h.action,
            format_wib_short(h.since),
            h.reason
        ));
    }
    out.push_str(&format!("Set aside: {}\n", s.set_aside.count));
    for a in &s.set_aside.recent {
        out.push_str(&format!(
            "  {} at {}: {}\n",
            a.tracking_id
                .map_or("(no tracking id)".to_string(), |id| id.to_string()),
            format_wib_short(a.at),
            a.reason
        ));
    }
    let m = &s.mappings;
    out.push_str(&format!(
        "Mappings:  revision {}; files on disk {}\n",
        m.active_revision.as_deref().unwrap_or("(none)"),
        match (m.files_valid, &m.disk_revision) {
            (false, _) => "INVALID".to_string(),
            (true, Some(r)) => format!("valid, revision {r} not active yet"),
            (true, None) => "valid".to_string(),
        }
    ));
    for e in &m.errors {
        out.push_str(&format!("  {e}\n"));
    }
    out.push_str(&format!(
        "Calendar:  covers {}{}\n",
        if m.calendar_years.is_empty() {
            "no year".to_string()
        } else {
            m.calendar_years
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
        if m.calendar_missing_years.is_empty() {
            String::new()
        } else {
            format!(
                "; MISSING {}",
                m.calendar_missing_years
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ));
    out.push_str(&format!(
        "Store:     {} ({}, {} complaints)\n",
        s.store.path.display(),
        human_bytes(s.store.size_bytes),
        s.store.complaints
    ));
    out
}

/// `sp4n status --json`: the snapshot plus `healthy` and `problems`.
pub fn render_json(s: &StatusSnapshot) -> String {
    let problems = s.problems();
    serde_json::to_string_pretty(&StatusJson {
        healthy: problems.is_empty(),
        problems,
        snapshot: s,
    })
    .expect("a status always serializes")
}
