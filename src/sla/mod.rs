//! Working-day SLA clocks: for each complaint, how long the regency has to act and whether
//! it did so on time. This module owns the calendar ([`calendar`]) and the three clocks:
//!
//! * **disposition** — [`DISPOSITION_WORKING_DAYS`] working days from the moment the
//!   connector first saw the complaint until it is disposed to an OPD;
//! * **first follow-up** — [`FIRST_FOLLOWUP_WORKING_DAYS`] working days from the
//!   disposition until the first thread entry by the instansi (`oleh = instansi`);
//! * **closing** — [`CLOSING_WORKING_DAYS`] working days after the last instansi follow-up
//!   that the reporter did not answer; the platform closes the complaint then. This clock
//!   is informational: it is the platform's to keep, not an OPD's.
//!
//! Deadlines follow [`calendar::Calendar::deadline`]: the day a clock starts never counts,
//! and the deadline is the end (23:59:59 WIB) of the n-th working day after it.
//!
//! A clock is [`SlaState::Met`] or [`SlaState::MetLate`] once its event happened, and
//! otherwise [`SlaState::OnTime`], [`SlaState::DueSoon`] (its last working day has begun,
//! or only days off remain before it) or [`SlaState::Overdue`]. A complaint that is closed
//! (`Selesai`, `Bukan Wewenang`, `Arsip`) stops every clock still running at the time of
//! its last update, judged met or met late by that time.
//!
//! Everything here is pure: the caller passes the facts, the calendar and `now`.

pub mod calendar;

pub use calendar::{Calendar, DayOff, DayOffKind, Deadline};

use crate::model::{Author, Complaint};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// Working days the administrator has to dispose a complaint to an OPD.
pub const DISPOSITION_WORKING_DAYS: u32 = 3;
/// Working days an OPD has for its first follow-up after the disposition.
pub const FIRST_FOLLOWUP_WORKING_DAYS: u32 = 5;
/// Working days without a reporter reply after the last follow-up before the platform
/// closes the complaint.
pub const CLOSING_WORKING_DAYS: u32 = 10;

/// The state of one clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Running, more than one working day left.
    OnTime,
    /// Running, the deadline's working day has begun (or only days off remain before it).
    DueSoon,
    /// Running, past its deadline.
    Overdue,
    /// Done by the deadline.
    Met,
    /// Done after the deadline.
    MetLate,
}

impl SlaState {
    /// A short label in Bahasa Indonesia for reports.
    pub fn label_id(self) -> &'static str {
        match self {
            SlaState::OnTime => "berjalan",
            SlaState::DueSoon => "segera jatuh tempo",
            SlaState::Overdue => "terlambat",
            SlaState::Met => "tepat waktu",
            SlaState::MetLate => "selesai terlambat",
        }
    }

    /// True while the clock still runs.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            SlaState::OnTime | SlaState::DueSoon | SlaState::Overdue
        )
    }
}

/// One clock of one complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlaClock {
    pub state: SlaState,
    pub started: DateTime<Utc>,
    /// The end of the last allowed working day.
    pub due: DateTime<Utc>,
    /// When the awaited event happened (or the complaint was closed), if it did.
    pub done_at: Option<DateTime<Utc>>,
    /// Working days from `started` to `done_at`, or to `now` while running
    /// ([`Calendar::working_days_between`]).
    pub working_days: u32,
    /// The allowance of this clock, in working days.
    pub allowed_working_days: u32,
}

/// The three clocks of one complaint. A clock that has not started is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Clocks {
    pub disposition: SlaClock,
    pub first_followup: Option<SlaClock>,
    pub closing: Option<SlaClock>,
    /// Years these clocks were counted over that the calendar does not cover (weekends
    /// only were used). Non-empty means "add the year to calendar.toml".
    pub uncovered_years: Vec<i32>,
}

impl Clocks {
    /// True when the disposition or the first follow-up is overdue now (the clocks the
    /// regency answers for; the closing clock is the platform's).
    pub fn is_overdue(&self) -> bool {
        self.disposition.state == SlaState::Overdue
            || self
                .first_followup
                .as_ref()
                .is_some_and(|c| c.state == SlaState::Overdue)
    }

    /// The overdue clock the regency answers for, named (`disposisi` or
    /// `tindak_lanjut_pertama`), the disposition first.
    pub fn overdue_clock(&self) -> Option<(&'static str, &SlaClock)> {
        if self.disposition.state == SlaState::Overdue {
            return Some(("disposisi", &self.disposition));
        }
        match &self.first_followup {
            Some(c) if c.state == SlaState::Overdue => Some(("tindak_lanjut_pertama", c)),
            _ => None,
        }
    }
}

/// What the clocks are computed from.
#[derive(Clone, Copy, Debug)]
pub struct SlaFacts<'a> {
    /// When the connector first stored the complaint.
    pub first_seen: DateTime<Utc>,
    /// When it was disposed to an OPD: the local disposition's time, or, for a complaint
    /// that arrived already disposed upstream, the time the connector first saw its unit.
    pub disposed_at: Option<DateTime<Utc>>,
    /// The complaint: its thread gives the follow-ups (`oleh = instansi`) and reporter
    /// replies (`oleh = pelapor`); its status and `diperbarui` tell whether and when it
    /// was closed.
    pub complaint: &'a Complaint,
}

/// Computes the three clocks of one complaint at `now`.
pub fn clocks(facts: &SlaFacts<'_>, cal: &Calendar, now: DateTime<Utc>) -> Clocks {
    let c = facts.complaint;
    let closed_at = c.status.is_closed().then_some(c.diperbarui);
    let mut uncovered = BTreeSet::new();

    let disposition = clock(
        cal,
        facts.first_seen,
        DISPOSITION_WORKING_DAYS,
        facts.disposed_at.or(closed_at),
        now,
        &mut uncovered,
    );

    let first_instansi = c
        .thread
        .iter()
        .filter(|t| t.oleh == Author::Instansi)
        .map(|t| t.waktu)
        .min();
    let first_followup = facts.disposed_at.map(|start| {
        clock(
            cal,
            start,
            FIRST_FOLLOWUP_WORKING_DAYS,
            first_instansi.or(closed_at),
            now,
            &mut uncovered,
        )
    });

    let last_instansi = c
        .thread
        .iter()
        .filter(|t| t.oleh == Author::Instansi)
        .map(|t| t.waktu)
        .max();
    let closing = last_instansi.and_then(|last| {
        let reporter_replied = c
            .thread
            .iter()
            .any(|t| t.oleh == Author::Pelapor && t.waktu > last);
        (!reporter_replied).then(|| {
            clock(
                cal,
                last,
                CLOSING_WORKING_DAYS,
                closed_at,
                now,
                &mut uncovered,
            )
        })
    });

    Clocks {
        disposition,
        first_followup,
        closing,
        uncovered_years: uncovered.into_iter().collect(),
    }
}

fn clock(
    cal: &Calendar,
    started: DateTime<Utc>,
    allowed: u32,
    done_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    uncovered: &mut BTreeSet<i32>,
) -> SlaClock {
    let due = cal.deadline(started, allowed);
    uncovered.extend(due.uncovered_years.iter().copied());
    let due = due.at;
    let state = match done_at {
        Some(t) if t <= due => SlaState::Met,
        Some(_) => SlaState::MetLate,
        None if now > due => SlaState::Overdue,
        None if allowed == 0 || now > cal.add_working_days(started, allowed - 1) => {
            SlaState::DueSoon
        }
        None => SlaState::OnTime,
    };
    let until = done_at.unwrap_or(now);
    SlaClock {
        state,
        started,
        due,
        done_at,
        working_days: cal.working_days_between(started, until),
        allowed_working_days: allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Status, ThreadEntry, parse_timestamp};
    use std::path::PathBuf;

    fn cal() -> Calendar {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mappings/calendar.toml");
        Calendar::load(&path).unwrap().0
    }

    fn t(s: &str) -> DateTime<Utc> {
        parse_timestamp(s).unwrap()
    }

    fn complaint(status: Status, thread: &[(Author, &str)], updated: &str) -> Complaint {
        Complaint {
            tracking_id: 1916449,
            rahasia: false,
            anonim: false,
            judul: String::new(),
            isi: String::new(),
            klasifikasi: None,
            topik: None,
            tags: vec![],
            kanal: None,
            lokasi: None,
            pelapor: None,
            status,
            unit: None,
            dibuat: None,
            diperbarui: t(updated),
            lampiran: vec![],
            thread: thread
                .iter()
                .enumerate()
                .map(|(i, (oleh, waktu))| ThreadEntry {
                    transaksi_id: format!("TL-{i}"),
                    oleh: *oleh,
                    unit: None,
                    waktu: t(waktu),
                    ref_: None,
                    isi: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn disposition_clock_over_the_idul_fitri_break() {
        let cal = cal();
        let c = complaint(Status::BelumTerverifikasi, &[], "2026-03-13T20:00:00+07:00");
        let facts = SlaFacts {
            first_seen: t("2026-03-13T20:00:00+07:00"), // Friday evening
            disposed_at: None,
            complaint: &c,
        };
        // Due at the end of Wednesday 25 March (see calendar docs).
        let at = |now: &str| clocks(&facts, &cal, t(now));
        let k = at("2026-03-16T09:00:00+07:00");
        assert_eq!(k.disposition.due, t("2026-03-25T23:59:59+07:00"));
        assert_eq!(k.disposition.state, SlaState::OnTime);
        assert_eq!(k.disposition.working_days, 1);
        assert!(k.first_followup.is_none() && k.closing.is_none());
        // Tuesday 17 ended working day 2: from then on only days off remain before the
        // last working day, so the clock is due soon all through the break.
        assert_eq!(
            at("2026-03-17T23:00:00+07:00").disposition.state,
            SlaState::OnTime
        );
        assert_eq!(
            at("2026-03-18T08:00:00+07:00").disposition.state,
            SlaState::DueSoon
        );
        assert_eq!(
            at("2026-03-25T23:59:59+07:00").disposition.state,
            SlaState::DueSoon
        );
        let late = at("2026-03-26T00:00:00+07:00");
        assert_eq!(late.disposition.state, SlaState::Overdue);
        assert!(late.is_overdue());
        assert_eq!(late.overdue_clock().unwrap().0, "disposisi");
        assert!(late.uncovered_years.is_empty());
    }

    #[test]
    fn met_and_met_late_and_first_followup() {
        let cal = cal();
        // Disposed Monday 10 Aug 2026; 17 Aug (Monday) is a holiday: 5 working days are
        // 11, 12, 13, 14, 18 -> due Tuesday 18 Aug.
        let c = complaint(
            Status::Proses,
            &[(Author::Instansi, "2026-08-18T16:00:00+07:00")],
            "2026-08-18T16:00:00+07:00",
        );
        let facts = SlaFacts {
            first_seen: t("2026-08-05T09:00:00+07:00"),
            disposed_at: Some(t("2026-08-10T10:00:00+07:00")),
            complaint: &c,
        };
        let k = clocks(&facts, &cal, t("2026-08-20T00:00:00+07:00"));
        assert_eq!(k.disposition.state, SlaState::Met); // Wed 5 -> due Mon 10
        assert_eq!(k.disposition.working_days, 3);
        let f = k.first_followup.as_ref().unwrap();
        assert_eq!(f.due, t("2026-08-18T23:59:59+07:00"));
        assert_eq!(f.state, SlaState::Met);
        assert_eq!(f.working_days, 5);
        // The closing clock runs from the follow-up: 10 working days.
        let closing = k.closing.as_ref().unwrap();
        assert_eq!(closing.state, SlaState::OnTime);
        assert_eq!(closing.due, t("2026-09-02T23:59:59+07:00")); // 25 Aug is Maulid

        let late = complaint(
            Status::Proses,
            &[(Author::Instansi, "2026-08-19T08:00:00+07:00")],
            "2026-08-19T08:00:00+07:00",
        );
        let facts = SlaFacts {
            complaint: &late,
            disposed_at: Some(t("2026-08-12T10:00:00+07:00")), // also late: 3 days from 5 Aug
            ..facts
        };
        let k = clocks(&facts, &cal, t("2026-08-20T00:00:00+07:00"));
        assert_eq!(k.disposition.state, SlaState::MetLate);
        assert_eq!(k.first_followup.as_ref().unwrap().state, SlaState::Met);
        assert!(!k.is_overdue());
    }

    #[test]
    fn first_followup_overdue_and_due_soon() {
        let cal = cal();
        let c = complaint(
            Status::BelumDitindaklanjuti,
            &[],
            "2026-11-02T10:00:00+07:00",
        );
        let facts = SlaFacts {
            first_seen: t("2026-11-02T08:00:00+07:00"),
            disposed_at: Some(t("2026-11-02T10:00:00+07:00")), // Monday
            complaint: &c,
        };
        let state = |now: &str| clocks(&facts, &cal, t(now)).first_followup.unwrap().state;
        assert_eq!(state("2026-11-06T12:00:00+07:00"), SlaState::OnTime); // day 4
        assert_eq!(state("2026-11-09T08:00:00+07:00"), SlaState::DueSoon); // day 5
        assert_eq!(state("2026-11-10T08:00:00+07:00"), SlaState::Overdue);
        let k = clocks(&facts, &cal, t("2026-11-10T08:00:00+07:00"));
        assert_eq!(k.overdue_clock().unwrap().0, "tindak_lanjut_pertama");
    }

    #[test]
    fn a_reporter_reply_stops_the_closing_clock() {
        let cal = cal();
        let c = complaint(
            Status::Proses,
            &[
                (Author::Instansi, "2026-11-02T10:00:00+07:00"),
                (Author::Pelapor, "2026-11-03T10:00:00+07:00"),
            ],
            "2026-11-03T10:00:00+07:00",
        );
        let facts = SlaFacts {
            first_seen: t("2026-11-01T08:00:00+07:00"),
            disposed_at: Some(t("2026-11-01T09:00:00+07:00")),
            complaint: &c,
        };
        assert!(
            clocks(&facts, &cal, t("2026-12-01T00:00:00Z"))
                .closing
                .is_none()
        );
    }

    #[test]
    fn closing_a_complaint_stops_running_clocks() {
        let cal = cal();
        // Bukan Wewenang on day 2, never disposed: the disposition clock is met.
        let c = complaint(Status::BukanWewenang, &[], "2026-11-04T10:00:00+07:00");
        let facts = SlaFacts {
            first_seen: t("2026-11-02T08:00:00+07:00"),
            disposed_at: None,
            complaint: &c,
        };
        let k = clocks(&facts, &cal, t("2027-01-10T00:00:00Z"));
        assert_eq!(k.disposition.state, SlaState::Met);
        assert_eq!(k.disposition.done_at, Some(t("2026-11-04T10:00:00+07:00")));
        assert!(!k.is_overdue());
        // Only the years the deadlines were counted over are flagged, not `now`'s.
        assert!(k.uncovered_years.is_empty());
    }

    #[test]
    fn a_clock_running_into_an_uncovered_year_is_flagged() {
        let cal = cal();
        let c = complaint(
            Status::BelumDitindaklanjuti,
            &[],
            "2026-12-28T09:00:00+07:00",
        );
        let facts = SlaFacts {
            first_seen: t("2026-12-22T09:00:00+07:00"),
            disposed_at: Some(t("2026-12-28T09:00:00+07:00")), // Monday
            complaint: &c,
        };
        let k = clocks(&facts, &cal, t("2026-12-30T09:00:00+07:00"));
        // 29, 30, 31 Dec, then 1 Jan 2027 (Friday, unknown: counted as working), 4 Jan.
        let f = k.first_followup.as_ref().unwrap();
        assert_eq!(f.due, t("2027-01-04T23:59:59+07:00"));
        assert_eq!(k.uncovered_years, vec![2027]);
        // The disposition clock (22 Dec -> 28 Dec: 23, 28 are working, 24-27 off)...
        assert_eq!(k.disposition.due, t("2026-12-29T23:59:59+07:00"));
        assert_eq!(k.disposition.state, SlaState::Met);
    }
}
