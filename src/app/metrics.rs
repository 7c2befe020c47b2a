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
    cache: &crate::report::MetricsCache,
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
        if let Some(r) = &j.last_run {
            let ms = (r.finished - r.started).num_milliseconds().max(0) as u64;
            m.job_last_duration_ms.insert(j.name.clone(), ms);
        }
    }
    m.build_version = Some(env!("CARGO_PKG_VERSION").to_string());
    let figures = cache.get_or(crate::report::metrics::CLOCK_FIGURES_TTL, || {
        clock_figures(s, cfg, now)
    })?;
    m.overdue_by_opd = figures.overdue_by_opd;
    m.calendar_covers_current_year = figures.calendar_covers_current_year;
    Ok(m)
}

/// The figures of `/metrics` that read every complaint and the calendar file.
fn clock_figures(
    s: &Store,
    cfg: &Config,
    now: DateTime<Utc>,
) -> Result<crate::report::metrics::ClockFigures, StoreError> {
    let (cal, _) = super::report::load_calendar(&cfg.mappings.dir);
    let names = crate::mapping::embedded();
    let mut f = crate::report::metrics::ClockFigures::default();
    for r in super::report::rows(s, &names, &cal, now)? {
        if r.clocks.is_overdue() {
            *f.overdue_by_opd.entry(r.opd).or_default() += 1;
        }
    }
    f.calendar_covers_current_year = cal.covers(chrono::Datelike::year(&cal.local_date(now)));
    Ok(f)
}
