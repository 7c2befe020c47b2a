//! The Prometheus text exposition (format 0.0.4) of `GET /metrics`, rendered from a
//! [`MetricsSnapshot`] the server fills from the store and the scheduler.
//!
//! Label sets are bounded: each labelled family keeps at most [`MAX_LABEL_VALUES`] values
//! and sums the rest into `other`; label values are reduced to `[A-Za-z0-9_.-]` so that
//! no free text (an error message, a name) ever becomes a label.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The most label values one family exposes (42 OPDs and ADMIN fit).
pub const MAX_LABEL_VALUES: usize = 64;

/// Counters and gauges of one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Complaints pulled and stored, since the store was created.
    pub pulled_total: u64,
    /// Writes confirmed by the platform, by action (`disposition`, `followup`, `status`,
    /// `complaint`).
    pub pushed_total: BTreeMap<String, u64>,
    /// Complaints set aside as unreadable, by reason kind (a short fixed key).
    pub set_aside_total: BTreeMap<String, u64>,
    /// Errors by type (`UpstreamError::kind()`, a fixed set).
    pub errors_total: BTreeMap<String, u64>,
    pub outbox_depth: u64,
    pub outbox_held: u64,
    /// Per job name, the end of its last successful run (`None`: never).
    pub job_last_success: BTreeMap<String, Option<DateTime<Utc>>>,
    /// Overdue complaints per local OPD code.
    pub overdue_by_opd: BTreeMap<String, u64>,
    /// Whether calendar.toml covers the current year.
    pub calendar_covers_current_year: bool,
    /// The running version (`sp4n_build_info`; not rendered when `None`).
    pub build_version: Option<String>,
    /// Per job name, how long its last run took, in milliseconds.
    pub job_last_duration_ms: BTreeMap<String, u64>,
}

/// The figures of `/metrics` that read every complaint and the calendar file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClockFigures {
    pub overdue_by_opd: BTreeMap<String, u64>,
    pub calendar_covers_current_year: bool,
}

/// How long [`ClockFigures`] are reused before `/metrics` computes them again: overdue
/// counts move by the working day, not by the scrape.
pub const CLOCK_FIGURES_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The last [`ClockFigures`] and when they were computed, so that a scrape every few
/// seconds does not decode every complaint and re-read the calendar each time.
#[derive(Debug, Default)]
pub struct MetricsCache {
    last: std::sync::Mutex<Option<(std::time::Instant, ClockFigures)>>,
    computed: std::sync::atomic::AtomicU64,
}

impl MetricsCache {
    /// The cached figures when younger than `ttl`, else `compute()`'s (then cached).
    pub fn get_or<E>(
        &self,
        ttl: std::time::Duration,
        compute: impl FnOnce() -> Result<ClockFigures, E>,
    ) -> Result<ClockFigures, E> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, f)) = last.as_ref()
            && at.elapsed() < ttl
        {
            return Ok(f.clone());
        }
        let f = compute()?;
        self.computed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *last = Some((std::time::Instant::now(), f.clone()));
        Ok(f)
    }

    /// How many times the figures were computed (the rest of the scrapes reused them).
    pub fn computed(&self) -> u64 {
        self.computed.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn label_value(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if v.is_empty() { "unknown".into() } else { v }
}

/// Sanitizes and bounds a labelled family: at most [`MAX_LABEL_VALUES`] values (largest
/// first kept), the rest summed into `other`.
fn bounded(map: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut clean: BTreeMap<String, u64> = BTreeMap::new();
    for (k, v) in map {
        *clean.entry(label_value(k)).or_default() += v;
    }
    if clean.len() <= MAX_LABEL_VALUES {
        return clean;
    }
    let mut by_size: Vec<(String, u64)> = clean.into_iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rest: u64 = by_size[MAX_LABEL_VALUES - 1..].iter().map(|(_, v)| v).sum();
    let mut out: BTreeMap<String, u64> = by_size.into_iter().take(MAX_LABEL_VALUES - 1).collect();
    *out.entry("other".into()).or_default() += rest;
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn labelled(out: &mut String, name: &str, label: &str, values: &BTreeMap<String, u64>) {
    for (k, v) in bounded(values) {
        let _ = writeln!(out, "{name}{{{label}=\"{k}\"}} {v}");
    }
}

/// Renders the snapshot as Prometheus text.
pub fn render_prometheus(m: &MetricsSnapshot) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "sp4n_pulled_total",
        "counter",
        "Complaints pulled from the platform and stored.",
    );
    let _ = writeln!(out, "sp4n_pulled_total {}", m.pulled_total);
    family(
        &mut out,
        "sp4n_pushed_total",
        "counter",
        "Writes confirmed by the platform, by action.",
    );
    labelled(&mut out, "sp4n_pushed_total", "action", &m.pushed_total);
    family(
        &mut out,
        "sp4n_set_aside_total",
        "counter",
        "Complaints set aside as unreadable, by reason.",
    );
    labelled(
        &mut out,
        "sp4n_set_aside_total",
        "reason",
        &m.set_aside_total,
    );
    family(&mut out, "sp4n_errors_total", "counter", "Errors by type.");
    labelled(&mut out, "sp4n_errors_total", "error_type", &m.errors_total);
    family(
        &mut out,
        "sp4n_outbox_depth",
        "gauge",
        "Outbox entries waiting to be sent, held ones included.",
    );
    let _ = writeln!(out, "sp4n_outbox_depth {}", m.outbox_depth);
    family(
        &mut out,
        "sp4n_outbox_held",
        "gauge",
        "Outbox entries held for a person.",
    );
    let _ = writeln!(out, "sp4n_outbox_held {}", m.outbox_held);
    family(
        &mut out,
        "sp4n_job_last_success_timestamp_seconds",
        "gauge",
        "Unix time of the end of each job's last successful run (0: never).",
    );
    let mut jobs: BTreeMap<String, i64> = BTreeMap::new();
    for (job, t) in m.job_last_success.iter().take(MAX_LABEL_VALUES) {
        jobs.insert(label_value(job), t.map_or(0, |t| t.timestamp()));
    }
    for (job, t) in jobs {
        let _ = writeln!(
            out,
            "sp4n_job_last_success_timestamp_seconds{{job=\"{job}\"}} {t}"
        );
    }
    family(
        &mut out,
        "sp4n_overdue_complaints",
        "gauge",
        "Complaints whose disposition or first follow-up is overdue, by OPD.",
    );
    labelled(
        &mut out,
        "sp4n_overdue_complaints",
        "opd",
        &m.overdue_by_opd,
    );
    family(
        &mut out,
        "sp4n_calendar_covers_current_year",
        "gauge",
        "1 when calendar.toml lists this year's holidays.",
    );
    let _ = writeln!(
        out,
        "sp4n_calendar_covers_current_year {}",
        u8::from(m.calendar_covers_current_year)
    );
    if !m.job_last_duration_ms.is_empty() {
        family(
            &mut out,
            "sp4n_job_last_duration_seconds",
            "gauge",
            "How long each job's last run took.",
        );
        for (job, ms) in m.job_last_duration_ms.iter().take(MAX_LABEL_VALUES) {
            let _ = writeln!(
                out,
                "sp4n_job_last_duration_seconds{{job=\"{}\"}} {}.{:03}",
                label_value(job),
                ms / 1000,
                ms % 1000
            );
        }
    }
    if let Some(v) = &m.build_version {
        family(
            &mut out,
            "sp4n_build_info",
            "gauge",
            "The running sp4n version (always 1).",
        );
        let _ = writeln!(out, "sp4n_build_info{{version=\"{}\"}} 1", label_value(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sanitized_and_bounded() {
        let mut m = BTreeMap::new();
        for i in 0..100u64 {
            m.insert(format!("OPD-{i:03}"), i + 1);
        }
        m.insert("evil\"} 1\nx".into(), 1);
        let b = bounded(&m);
        assert_eq!(b.len(), MAX_LABEL_VALUES);
        assert!(b.contains_key("other"));
        assert_eq!(b.values().sum::<u64>(), m.values().sum::<u64>());
        assert!(b.keys().all(|k| !k.contains(['"', '\n', '}'])));
        assert_eq!(label_value("evil\"} 1\nx"), "evil___1_x");
    }
}
