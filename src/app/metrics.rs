//! The agent's `/metrics`: the store's durable totals (pulled, pushed by action, outbox
//! depth and held entries, set-aside items, overdue complaints per OPD) and this process's
//! counters, as a [`MetricsSnapshot`] that [`crate::report::metrics`] renders.

use crate::config::Config;
use crate::report::MetricsSnapshot;
use crate::schedule::JobStatus;
use crate::store::{OutboxState, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The metrics of the store and this process.
pub fn snapshot(
    s: &Store,
    cfg: &Config,
    errors: BTreeMap<String, u64>,
    jobs: &[JobStatus],
    now: DateTime<Utc>,
) -> Result<MetricsSnapshot, StoreError> {
    let mut m = MetricsSnapshot {
        pulled_total: s.complaint_count() as u64,
        errors_total: errors,
        ..Default::default()
    };
    for e in s.outbox_all()? {
        match e.state {
            OutboxState::Done { .. } => {
                *m.pushed_total
                    .entry(e.request.action.kind().to_string())
                    .or_default() += 1
            }
            OutboxState::Pending => m.outbox_depth += 1,
            OutboxState::Held { .. } => {
                m.outbox_depth += 1;
                m.outbox_held += 1;
            }
            _ => {}
        }
    }
    let q = s.quarantined()?.len() as u64;
    if q > 0 {
        m.set_aside_total.insert("unreadable".into(), q);
    }
    for j in jobs {
        m.job_last_success.insert(j.name.clone(), j.last_success);
    }
    let (cal, _) = super::report::load_calendar(&cfg.mappings.dir);
    let names = crate::mapping::embedded();
    for r in super::report::rows(s, &names, &cal, now)? {
        if r.clocks.is_overdue() {
            *m.overdue_by_opd.entry(r.opd).or_default() += 1;
        }
    }
    m.calendar_covers_current_year = cal.covers(chrono::Datelike::year(&cal.local_date(now)));
    Ok(m)
}
