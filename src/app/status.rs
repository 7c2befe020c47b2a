//! The status snapshot: each job's last run and next fire, the cursor, the outbox (depth
//! and held entries), set-aside items, the mapping revision and whether the files on disk
//! are valid, the store's size. `sp4n status` builds it from an open store; the agent
//! builds it with its scheduler's view and publishes it to `<store>/agent-status.json`
//! (the store admits one process), which `sp4n status` prints while the agent runs.

use crate::config::Config;
use crate::report::status::{
    AgentInfo, HeldEntry, JobView, MappingsView, OutboxView, SetAsideItem, SetAsideView,
    StatusSnapshot, StoreView,
};
use crate::schedule::{JobOutcome, RunRecord};
use crate::store::{OutboxState, RunOutcome, Store, StoreError};
use chrono::{DateTime, Utc};
use std::path::Path;

/// The file a running agent publishes its status to, inside the store directory.
pub const AGENT_STATUS_FILE: &str = "agent-status.json";

/// How many set-aside items the snapshot lists.
const RECENT_SET_ASIDE: usize = 5;

/// The mapping files and calendar on disk, against the revision the store routes with.
pub fn mappings_view(
    dir: &Path,
    active: Option<String>,
    vocab: Option<&crate::mapping::vocabulary::Vocabulary>,
    now: DateTime<Utc>,
) -> MappingsView {
    let mut v = MappingsView {
        active_revision: active.clone(),
        ..Default::default()
    };
    let loaded =
        crate::mapping::read_sources(dir).and_then(|s| crate::mapping::check_against(s, vocab));
    match loaded {
        Ok((m, _)) => {
            v.files_valid = true;
            if active.as_deref() != Some(m.revision()) {
                v.disk_revision = Some(m.revision().to_string());
            }
        }
        Err(d) => {
            v.files_valid = false;
            v.errors = d
                .iter()
                .filter(|d| d.severity == crate::diag::Severity::Error)
                .map(|d| {
                    format!(
                        "{}:{}:{}: {}",
                        d.file.display(),
                        d.line,
                        d.column,
                        d.message.lines().next().unwrap_or("")
                    )
                })
                .collect();
        }
    }
    let (cal, warning) = super::report::load_calendar(dir);
    if let Some(w) = warning {
        v.files_valid = false;
        v.errors.push(w);
    }
    v.calendar_years = cal.years().collect();
    v.calendar_missing_years = cal.missing_years_near(now);
    v
}

/// What `status` says about the platform's vocabulary: the changes the last refresh
/// found (within a week of the last reading), with what to do (Bahasa Indonesia).
fn vocabulary_lines(
    vocab: Option<&crate::mapping::vocabulary::Vocabulary>,
    changes: Option<crate::mapping::vocabulary::ChangeRecord>,
) -> Vec<String> {
    // Never read: the first pull reads them; nothing to report yet.
    let Some(v) = vocab else {
        return Vec::new();
    };
    match changes {
        Some(c) if c.at >= v.fetched_at - crate::mapping::vocabulary::REFRESH_AFTER * 7 => {
            let mut out = vec![format!(
                "kosakata platform berubah ({}): {}",
                crate::model::format_wib_short(c.at),
                c.changes
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )];
            out.push("jalankan `sp4n mappings check`, lalu `sp4n mappings adopt` untuk usulan perbaikan berkas pemetaan".into());
            out
        }
        _ => Vec::new(),
    }
}

/// How many running SLA deadlines were counted over a year the calendar lacks.
fn deadlines_may_move(s: &Store, cfg: &Config, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let r = super::report::build(s, cfg, Default::default(), now)?;
    Ok(r.deadlines_may_move.len() as u64)
}

/// A stored job run as the scheduler's record of it.
fn record_of(run: &crate::store::JobRun) -> RunRecord {
    let outcome = match run.outcome {
        Some(RunOutcome::Ok) => JobOutcome::Ok {
            summary: "ok".into(),
        },
        Some(RunOutcome::Partial) => JobOutcome::Ok {
            summary: "partial".into(),
        },
        Some(RunOutcome::Retry) => JobOutcome::Failed {
            error: "the platform was unavailable; retried on the next run".into(),
        },
        Some(RunOutcome::TokenRefused) => JobOutcome::Failed {
            error: "the platform refused the token".into(),
        },
        Some(RunOutcome::Failed) => JobOutcome::Failed {
            error: "failed".into(),
        },
        None => JobOutcome::Interrupted,
    };
    RunRecord {
        scheduled_for: run.started,
        started: run.started,
        finished: run.finished.unwrap_or(run.started),
        outcome,
    }
}

/// The status snapshot of an open store. `jobs`: the agent's own view of its scheduler;
/// `None` computes next fires from `[schedule]` and last runs from the store.
pub fn snapshot(
    s: &Store,
    cfg: &Config,
    jobs: Option<Vec<JobView>>,
    agent: Option<AgentInfo>,
    now: DateTime<Utc>,
) -> Result<StatusSnapshot, StoreError> {
    let jobs = match jobs {
        Some(j) => j,
        None => {
            let mut jobs = crate::report::status::jobs_from_config(&cfg.schedule, now);
            for j in &mut jobs {
                if let Some(run) = s.job_run(&j.name)? {
                    let rec = record_of(&run);
                    if matches!(rec.outcome, JobOutcome::Ok { .. }) {
                        j.last_success = Some(rec.finished);
                    }
                    j.last_run = Some(rec);
                }
            }
            jobs
        }
    };
    let unfinished = s.outbox_unfinished()?;
    let held = unfinished
        .iter()
        .filter_map(|e| match &e.state {
            OutboxState::Held { reason, .. } => Some(HeldEntry {
                tracking_id: e.tracking_id.unwrap_or_default(),
                action: e.request.action.kind().to_string(),
                reason: reason.clone(),
                since: e.requested_at,
            }),
            _ => None,
        })
        .collect();
    let quarantined = s.quarantined()?;
    let recent = quarantined
        .iter()
        .rev()
        .take(RECENT_SET_ASIDE)
        .map(|q| SetAsideItem {
            tracking_id: q.tracking_id,
            reason: q.reason.clone(),
            at: q.at,
        })
        .collect();
    Ok(StatusSnapshot {
        generated_at: now,
        agent,
        jobs,
        cursor: s.cursor()?,
        outbox: OutboxView {
            depth: unfinished.len() as u64,
            held,
            oldest_queued: unfinished.iter().map(|e| e.requested_at).min(),
        },
        set_aside: SetAsideView {
            count: quarantined.len() as u64,
            recent,
        },
        mappings: {
            let vocab = crate::mapping::vocabulary::stored(s)?;
            let mut v = mappings_view(
                &cfg.mappings.dir,
                s.mapping_revision()?,
                vocab.as_ref(),
                now,
            );
            v.vocabulary =
                vocabulary_lines(vocab.as_ref(), crate::mapping::vocabulary::last_changes(s)?);
            if !v.calendar_missing_years.is_empty() {
                v.calendar_deadlines_may_move = deadlines_may_move(s, cfg, now)?;
            }
            v
        },
        store: StoreView {
            path: s.path().to_path_buf(),
            size_bytes: s.size_on_disk()?,
            complaints: s.complaint_count() as u64,
        },
    })
}

/// What the agent publishes: the snapshot rendered both ways, so that `status` can print
/// it without opening the locked store.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Published {
    pub pid: u32,
    pub text: String,
    pub json: serde_json::Value,
}

/// Writes the agent's snapshot to the store directory (temporary file, then rename).
pub fn publish(dir: &Path, snap: &StatusSnapshot) -> std::io::Result<()> {
    let json: serde_json::Value =
        serde_json::from_str(&crate::report::status::render_json(snap)).unwrap_or_default();
    let p = Published {
        pid: std::process::id(),
        text: crate::report::status::render_text(snap),
        json,
    };
    let tmp = dir.join(format!("{AGENT_STATUS_FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&p).unwrap_or_default())?;
    std::fs::rename(&tmp, dir.join(AGENT_STATUS_FILE))
}
