//! The coordinators' report over the store: one row per complaint with its SLA clocks
//! (the working-day calendar of the mapping folder), the per-OPD figures and the overdue
//! list. `sp4n report`, `sp4n status` and the agent's `/metrics` read the same rows.

use crate::config::Config;
use crate::mapping::Mappings;
use crate::report::{Period, Report, ReportRow};
use crate::sla::{Calendar, SlaFacts};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::path::Path;

/// The calendar of `[mappings] dir`/calendar.toml. An unreadable or invalid calendar
/// falls back to weekends and the fixed-date holidays, with the reason returned as a warning.
pub fn load_calendar(dir: &Path) -> (Calendar, Option<String>) {
    let path = dir.join("calendar.toml");
    match Calendar::load(&path) {
        Ok((cal, _)) => (cal, None),
        Err(d) => (
            Calendar::weekends_only(crate::model::WIB),
            Some(format!(
                "{}: {} (clocks count weekends and fixed-date holidays only)",
                path.display(),
                d.first().map(|d| d.message.as_str()).unwrap_or("invalid")
            )),
        ),
    }
}

/// The OPD names: the mapping files when valid, else the bundled ones.
fn mappings_for_names(dir: &Path) -> Mappings {
    Mappings::load(dir)
        .map(|(m, _)| m)
        .unwrap_or_else(|_| crate::mapping::embedded())
}

/// The report rows of every stored complaint as of `now`.
pub fn rows(
    s: &Store,
    names: &Mappings,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Result<Vec<ReportRow>, StoreError> {
    let all = s.list_complaints(&Default::default())?;
    Ok(all
        .iter()
        .map(|rec| {
            let c = &rec.complaint;
            let code = rec.opd();
            let name = names
                .opd(code)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| code.to_string());
            let kapanewon = c
                .lokasi
                .as_ref()
                .map(|l| l.name.rsplit(", ").next().unwrap_or(&l.name).to_string());
            ReportRow::from_facts(&SlaFacts::of(rec), (code, &name), kapanewon, cal, now)
        })
        .collect())
}

/// Builds the report over the store.
pub fn build(
    s: &Store,
    cfg: &Config,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let (cal, _) = load_calendar(&cfg.mappings.dir);
    let names = mappings_for_names(&cfg.mappings.dir);
    let rows = rows(s, &names, &cal, now)?;
    let mut r = Report::build(&rows, period, now);
    r.warn_uncovered_years(cal.missing_years_near(now));
    Ok(r)
}
