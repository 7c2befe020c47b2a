//! The agent's job history, kept in the store so that a reload (SIGHUP, even with a
//! rejected configuration) or a restart does not forget it: `/healthz` `last_success`,
//! `sp4n_job_last_success_timestamp_seconds` and `sp4n status` go on showing the last runs.

use crate::schedule::{JobOutcome, JobStatus, RunRecord};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the store remembers of one job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMemory {
    pub last_run: Option<RunRecord>,
    pub last_success: Option<DateTime<Utc>>,
    /// Runs recorded since the store was created.
    pub runs: u64,
}

fn key(job: &str) -> Vec<u8> {
    format!("job_history:{job}").into_bytes()
}

/// The remembered history of `jobs`.
pub fn recall(store: &Store, jobs: &[&str]) -> Result<BTreeMap<String, JobMemory>, StoreError> {
    let mut out = BTreeMap::new();
    for j in jobs {
        if let Some(m) = store.get_meta::<JobMemory>(&key(j))? {
            out.insert(j.to_string(), m);
        }
    }
    Ok(out)
}

/// Records a finished run of `job` and returns the updated memory.
pub fn remember(store: &Store, job: &str, run: RunRecord) -> Result<JobMemory, StoreError> {
    let mut m = store.get_meta::<JobMemory>(&key(job))?.unwrap_or_default();
    if matches!(run.outcome, JobOutcome::Ok { .. }) {
        m.last_success = Some(m.last_success.map_or(run.finished, |t| t.max(run.finished)));
    }
    m.runs += 1;
    m.last_run = Some(run);
    store.put_meta(&key(job), &m)?;
    Ok(m)
}

/// The scheduler's view of a job completed by what the store remembers: the later last
/// run, the later last success, the larger run count.
pub fn merge(mut s: JobStatus, m: Option<&JobMemory>) -> JobStatus {
    let Some(m) = m else {
        return s;
    };
    let newer = match (&s.last_run, &m.last_run) {
        (None, Some(r)) => Some(r.clone()),
        (Some(a), Some(r)) if r.finished > a.finished => Some(r.clone()),
        _ => None,
    };
    if let Some(r) = newer {
        s.last_run = Some(r);
    }
    s.last_success = s.last_success.max(m.last_success);
    s.runs = s.runs.max(m.runs);
    s
}
