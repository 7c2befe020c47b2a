//! Working-day SLA clocks: for each complaint, how long the regency has to act and whether
//! it did so on time, from the platform's evidence (the contract's "Service levels"). This
//! module owns the calendar ([`calendar`]), the evidence kept per complaint ([`evidence`])
//! and the three clocks:
//!
//! * **disposition** — [`DISPOSITION_WORKING_DAYS`] working days from the moment the
//!   complaint was addressed to the instansi upstream (the national admin's forwarding
//!   entry in the thread, else `dibuat`; the connector's first read only when neither
//!   exists, marked as an estimate) until it reached a unit (OPD). It pauses while the
//!   complaint is `Ditunda`;
//! * **first follow-up** — [`FIRST_FOLLOWUP_WORKING_DAYS`] working days from the
//!   disposition to the unit (the first pulled update that carried a unit; before the next
//!   pull, the connector's confirmed local disposition) until the first thread entry by the
//!   instansi at or after it. A follow-up by the unit from before that time also meets it
//!   (the platform had it disposed earlier than the evidence shows);
//! * **closing** — [`CLOSING_WORKING_DAYS`] working days after the last instansi follow-up
//!   that the reporter did not answer; the platform closes the complaint then. This clock
//!   is informational: it is the platform's to keep, not an OPD's.
//!
//! Deadlines follow [`calendar::Calendar::deadline`]: a clock that starts on a non-working
//! day starts on the next working day (day 0), and the deadline is the end (23:59:59 WIB)
//! of the n-th working day after day 0.
//!
//! A clock is [`SlaState::Met`] or [`SlaState::MetLate`] once its event happened, and
//! otherwise [`SlaState::OnTime`], [`SlaState::DueSoon`] (its last working day has begun,
//! or only days off remain before it), [`SlaState::Overdue`] or [`SlaState::Paused`]. A
//! complaint that is closed (`Selesai`, `Bukan Wewenang`, `Arsip`) stops every clock still
//! running at the time it was closed, judged met or met late by that time.
//!
//! Everything is computed as of an instant `now`: thread entries, evidence and statuses
//! after it are ignored, so a report can be asked for as of any past instant.
//!
//! Everything here is pure: the caller passes the facts, the calendar and `now`.

pub mod calendar;
pub mod evidence;

pub use calendar::{Calendar, DayOff, DayOffKind, Deadline};
pub use evidence::{SlaEvidence, StatusMark, UnitEvidence};

use crate::model::{Author, Complaint, Status};
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
    /// Stopped for now: the complaint is `Ditunda` (waiting for the reporter).
    Paused,
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
            SlaState::Paused => "ditunda (jam berhenti)",
        }
    }

    /// True while the clock still runs (or is paused).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            SlaState::OnTime | SlaState::DueSoon | SlaState::Overdue | SlaState::Paused
        )
    }
}

/// Where a clock's start comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartSource {
    /// The national admin's entry that verified and forwarded it to the instansi.
    AdminEntry,
    /// The pulled update that ended `Belum Terverifikasi` (a complaint the instansi
    /// submitted itself), when no admin entry marks the verification.
    Verified,
    /// The complaint's `dibuat`.
    Dibuat,
    /// The connector's first read: nothing else was known. An estimate ("perkiraan").
    FirstRead,
    /// The pulled update that set the unit (the version before had none).
    UnitUpdate,
    /// The first version the connector read already carried the unit: that version's
    /// `diperbarui` (the unit was set then or earlier).
    UnitAtFirstRead,
    /// The connector's confirmed disposition, not yet seen in a pulled update.
    LocalDisposition,
    /// No disposition evidence, but the unit followed up: the follow-up itself.
    FollowUp,
    /// The last instansi follow-up (the closing clock).
    LastFollowUp,
}

impl StartSource {
    /// True when the start is the connector's own estimate, not the platform's evidence.
    pub fn is_estimate(self) -> bool {
        matches!(self, StartSource::FirstRead)
    }
}

/// One clock of one complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlaClock {
    pub state: SlaState,
    pub started: DateTime<Utc>,
    /// Where `started` comes from.
    pub source: StartSource,
    /// True when `started` is an estimate ("perkiraan"): the connector's first read.
    pub estimate: bool,
    /// The end of the last allowed working day (pauses included).
    pub due: DateTime<Utc>,
    /// When the awaited event happened (or the complaint was closed), if it did.
    pub done_at: Option<DateTime<Utc>>,
    /// True when the event happened before `started` (a unit's follow-up from before the
    /// disposition evidence): met, but not a measure of how fast.
    pub met_before_start: bool,
    /// Working days from `started` to `done_at`, or to `now` while running, less the
    /// paused ones ([`Calendar::working_days_between`]).
    pub working_days: u32,
    /// The allowance of this clock, in working days.
    pub allowed_working_days: u32,
    /// Working days the clock was paused (Ditunda), added to the allowance.
    pub paused_working_days: u32,
    /// Years the deadline was counted over that the calendar lacks (movable holidays
    /// unknown): the deadline may move when they are added.
    pub uncovered_years: Vec<i32>,
}

/// The three clocks of one complaint. A clock that has not started is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Clocks {
    /// `None` while the complaint is `Belum Terverifikasi` (not yet addressed).
    pub disposition: Option<SlaClock>,
    pub first_followup: Option<SlaClock>,
    pub closing: Option<SlaClock>,
    /// Years these clocks were counted over that the calendar does not cover (weekends
    /// and fixed-date holidays only were used). Non-empty means "add the year's SKB to
    /// calendar.toml".
    pub uncovered_years: Vec<i32>,
}

impl Clocks {
    /// True when the disposition or the first follow-up is overdue now (the clocks the
    /// regency answers for; the closing clock is the platform's).
    pub fn is_overdue(&self) -> bool {
        self.overdue_clock().is_some()
    }

    /// The overdue clock the regency answers for, named (`disposisi` or
    /// `tindak_lanjut_pertama`), the disposition first.
    pub fn overdue_clock(&self) -> Option<(&'static str, &SlaClock)> {
        if let Some(d) = &self.disposition
            && d.state == SlaState::Overdue
        {
            return Some(("disposisi", d));
        }
        match &self.first_followup {
            Some(c) if c.state == SlaState::Overdue => Some(("tindak_lanjut_pertama", c)),
            _ => None,
        }
    }

    /// True when any clock starts from an estimate.
    pub fn estimate(&self) -> bool {
        self.all().any(|(_, c)| c.estimate)
    }

    /// Every started clock with its name (`disposisi`, `tindak_lanjut_pertama`,
    /// `penutupan`).
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &SlaClock)> {
        self.disposition
            .iter()
            .map(|c| ("disposisi", c))
            .chain(
                self.first_followup
                    .iter()
                    .map(|c| ("tindak_lanjut_pertama", c)),
            )
            .chain(self.closing.iter().map(|c| ("penutupan", c)))
    }
}

/// What the clocks are computed from.
#[derive(Clone, Debug)]
pub struct SlaFacts<'a> {
    /// The complaint as last read: its thread, `dibuat`, unit and status.
    pub complaint: &'a Complaint,
    /// When the connector first stored the complaint (the estimate of last resort).
    pub first_seen: DateTime<Utc>,
    /// When the connector's own disposition was confirmed upstream, if it made one.
    pub local_disposition: Option<DateTime<Utc>>,
    /// What the pulled versions showed (see [`evidence`]).
    pub evidence: SlaEvidence,
}

impl<'a> SlaFacts<'a> {
    /// The facts of a stored complaint (a record without evidence gets its first read's).
    pub fn of(rec: &'a crate::store::StoredComplaint) -> SlaFacts<'a> {
        SlaFacts {
            complaint: &rec.complaint,
            first_seen: rec.first_seen,
            local_disposition: rec.disposed_at,
            evidence: rec.sla.or_first_read(&rec.complaint),
        }
    }

    /// The facts of a complaint known only by its current version, read first at
    /// `first_seen`.
    pub fn first_read(complaint: &'a Complaint, first_seen: DateTime<Utc>) -> SlaFacts<'a> {
        SlaFacts {
            complaint,
            first_seen,
            local_disposition: None,
            evidence: SlaEvidence::first_read(complaint),
        }
    }

    fn entries(&self, by: Author, now: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.complaint
            .thread
            .iter()
            .filter(move |t| t.oleh == by && t.waktu <= now)
            .map(|t| t.waktu)
    }

    /// The first instansi entry at or before `now`.
    pub fn first_followup(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.entries(Author::Instansi, now).min()
    }

    /// The status at `now`, as far as the connector saw.
    pub fn status_at(&self, now: DateTime<Utc>) -> Status {
        self.evidence
            .status_at(now)
            .unwrap_or(self.complaint.status)
    }

    /// When the complaint reached a unit, as known at `now`: the first pulled update that
    /// carried one, else the connector's confirmed disposition.
    pub fn disposition(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, StartSource)> {
        match self.evidence.unit {
            Some(u) if u.at <= now => Some((
                u.at,
                if u.witnessed {
                    StartSource::UnitUpdate
                } else {
                    StartSource::UnitAtFirstRead
                },
            )),
            _ => self
                .local_disposition
                .filter(|t| *t <= now)
                .map(|t| (t, StartSource::LocalDisposition)),
        }
    }

    /// True when the complaint had reached a unit by `now` (disposition evidence, or a
    /// follow-up by the unit).
    pub fn is_disposed(&self, now: DateTime<Utc>) -> bool {
        self.disposition(now).is_some() || self.first_followup(now).is_some()
    }

    /// When the complaint was addressed to the instansi: the national admin's forwarding
    /// entry, else `dibuat`, else the connector's first read (an estimate).
    ///
    /// The forwarding entry is the first admin entry of the thread, unless something shows
    /// it is a later admin act: an instansi entry or the unit's evidence before it (then it
    /// re-disposes), or the complaint went to `Bukan Wewenang` or `Arsip` at or before it
    /// (then it returned or archived the complaint).
    pub fn addressed(&self, now: DateTime<Utc>) -> (DateTime<Utc>, StartSource) {
        let admin = self.entries(Author::Admin, now).min();
        let first_instansi = self.first_followup(now);
        let ended = self
            .evidence
            .statuses
            .iter()
            .find(|m| matches!(m.status, Status::BukanWewenang | Status::Arsip))
            .map(|m| m.at);
        let forwarding = admin.filter(|a| {
            first_instansi.is_none_or(|f| f >= *a)
                && self.evidence.unit.is_none_or(|u| u.at > *a)
                && ended.is_none_or(|e| e > *a)
        });
        if let Some(a) = forwarding {
            return (a, StartSource::AdminEntry);
        }
        let marks = &self.evidence.statuses;
        if marks
            .first()
            .is_some_and(|m| m.status == Status::BelumTerverifikasi)
            && let Some(m) = marks
                .iter()
                .find(|m| m.status != Status::BelumTerverifikasi && m.at <= now)
        {
            return (m.at, StartSource::Verified);
        }
        match self.complaint.dibuat {
            Some(d) => (d, StartSource::Dibuat),
            None => (self.first_seen, StartSource::FirstRead),
        }
    }
}

/// Computes the three clocks of one complaint as of `now`.
pub fn clocks(facts: &SlaFacts<'_>, cal: &Calendar, now: DateTime<Utc>) -> Clocks {
    let closed_at = facts.evidence.closed_since(now);
    let mut uncovered = BTreeSet::new();
    let first_instansi = facts.first_followup(now);
    let disposed = facts.disposition(now);

    let (addressed, source) = facts.addressed(now);
    let reached_unit = match (disposed.map(|d| d.0), first_instansi) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let pauses = facts.evidence.intervals(Status::Ditunda, now);
    let disposition = (facts.status_at(now) != Status::BelumTerverifikasi).then(|| {
        clock(
            cal,
            Start {
                at: addressed,
                source,
            },
            DISPOSITION_WORKING_DAYS,
            reached_unit.or(closed_at),
            now,
            &pauses,
            &mut uncovered,
        )
    });

    let first_followup = match disposed {
        Some((at, source)) => {
            // A first read that already carried the unit only bounds the disposition: a
            // follow-up at that very update (its own `diperbarui`) is no later than it
            // and measures nothing.
            let exact = source != StartSource::UnitAtFirstRead;
            let after = facts
                .entries(Author::Instansi, now)
                .filter(|t| *t > at || (exact && *t == at))
                .min();
            let mut k = clock(
                cal,
                Start { at, source },
                FIRST_FOLLOWUP_WORKING_DAYS,
                after.or(first_instansi).or(closed_at),
                now,
                &[],
                &mut uncovered,
            );
            if after.is_none() && first_instansi.is_some() {
                // The unit answered before the evidence of its disposition: met.
                k.met_before_start = true;
                k.state = SlaState::Met;
                k.working_days = 0;
            }
            Some(k)
        }
        None => first_instansi.map(|f| {
            let mut k = clock(
                cal,
                Start {
                    at: f,
                    source: StartSource::FollowUp,
                },
                FIRST_FOLLOWUP_WORKING_DAYS,
                Some(f),
                now,
                &[],
                &mut uncovered,
            );
            k.met_before_start = true;
            k
        }),
    };

    let last_instansi = facts.entries(Author::Instansi, now).max();
    let closing = last_instansi.and_then(|last| {
        let reporter_replied = facts.entries(Author::Pelapor, now).any(|t| t > last);
        (!reporter_replied).then(|| {
            clock(
                cal,
                Start {
                    at: last,
                    source: StartSource::LastFollowUp,
                },
                CLOSING_WORKING_DAYS,
                closed_at.filter(|c| *c >= last),
                now,
                &[],
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

struct Start {
    at: DateTime<Utc>,
    source: StartSource,
}

fn clock(
    cal: &Calendar,
    start: Start,
    allowed: u32,
    done_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    pauses: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    uncovered: &mut BTreeSet<i32>,
) -> SlaClock {
    let started = start.at;
    let until = done_at.unwrap_or(now).max(started);
    // Each working day after the day a pause began, up to and including the day it ended
    // (or `until` while it lasts), extends the allowance by one.
    let mut paused = 0;
    let mut paused_now = false;
    for (from, to) in pauses {
        let from = (*from).max(started);
        if from >= until {
            continue;
        }
        let end = match to {
            Some(t) => (*t).min(until),
            None => {
                paused_now = done_at.is_none();
                until
            }
        };
        paused += cal.working_days_in(cal.local_date(from), cal.local_date(end));
    }
    let allowance = allowed + paused;
    let dl = cal.deadline(started, allowance);
    uncovered.extend(dl.uncovered_years.iter().copied());
    let due = dl.at;
    let state = match done_at {
        Some(t) if t <= due => SlaState::Met,
        Some(_) => SlaState::MetLate,
        None if paused_now => SlaState::Paused,
        None if now > due => SlaState::Overdue,
        None if allowance == 0 || now > cal.add_working_days(started, allowance - 1) => {
            SlaState::DueSoon
        }
        None => SlaState::OnTime,
    };
    SlaClock {
        state,
        started,
        source: start.source,
        estimate: start.source.is_estimate(),
        due,
        done_at,
        met_before_start: false,
        working_days: cal
            .working_days_between(started, until)
            .saturating_sub(paused),
        allowed_working_days: allowed,
        paused_working_days: paused,
        uncovered_years: dl.uncovered_years,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Status, ThreadEntry, UnitRef, parse_timestamp};
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

    fn unit() -> Option<UnitRef> {
        Some(UnitRef {
            id: "2417".into(),
            name: String::new(),
        })
    }

    /// Facts of a complaint read once at `first_seen`, disposed locally at `disposed`.
    fn facts<'a>(c: &'a Complaint, first_seen: &str, disposed: Option<&str>) -> SlaFacts<'a> {
        SlaFacts {
            local_disposition: disposed.map(t),
            ..SlaFacts::first_read(c, t(first_seen))
        }
    }

    #[test]
    fn disposition_clock_over_the_idul_fitri_break() {
        let cal = cal();
        let c = complaint(
            Status::BelumDitindaklanjuti,
            &[],
            "2026-03-13T20:00:00+07:00",
        );
        // No dibuat, no admin entry: the first read is all there is, an estimate.
        let facts = facts(&c, "2026-03-13T20:00:00+07:00", None); // Friday evening
        // Friday is day 0; due at the end of Wednesday 25 March (see calendar docs).
        let at = |now: &str| clocks(&facts, &cal, t(now));
        let k = at("2026-03-16T09:00:00+07:00");
        assert_eq!(
            k.disposition.as_ref().unwrap().due,
            t("2026-03-25T23:59:59+07:00")
        );
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::OnTime);
        assert_eq!(
            k.disposition.as_ref().unwrap().source,
            StartSource::FirstRead
        );
        assert!(k.disposition.as_ref().unwrap().estimate && k.estimate());
        assert_eq!(k.disposition.as_ref().unwrap().working_days, 1);
        assert!(k.first_followup.is_none() && k.closing.is_none());
        // Tuesday 17 ended working day 2: from then on only days off remain before the
        // last working day, so the clock is due soon all through the break.
        assert_eq!(
            at("2026-03-17T23:00:00+07:00").disposition.unwrap().state,
            SlaState::OnTime
        );
        assert_eq!(
            at("2026-03-18T08:00:00+07:00").disposition.unwrap().state,
            SlaState::DueSoon
        );
        assert_eq!(
            at("2026-03-25T23:59:59+07:00").disposition.unwrap().state,
            SlaState::DueSoon
        );
        let late = at("2026-03-26T00:00:00+07:00");
        assert_eq!(late.disposition.as_ref().unwrap().state, SlaState::Overdue);
        assert!(late.is_overdue());
        assert_eq!(late.overdue_clock().unwrap().0, "disposisi");
        assert!(late.uncovered_years.is_empty());
    }

    #[test]
    fn the_disposition_clock_starts_when_the_complaint_reached_the_regency() {
        let cal = cal();
        // Created in June, verified and forwarded by the national admin on Friday 3 July,
        // first read by the connector on 23 December.
        let mut c = complaint(
            Status::BelumDitindaklanjuti,
            &[(Author::Admin, "2026-07-03T10:00:00+07:00")],
            "2026-07-03T10:00:00+07:00",
        );
        c.dibuat = Some(t("2026-06-29T08:00:00+07:00"));
        let f = facts(&c, "2026-12-23T09:00:00+07:00", None);
        let k = clocks(&f, &cal, t("2026-12-23T09:00:00+07:00"));
        assert_eq!(
            k.disposition.as_ref().unwrap().source,
            StartSource::AdminEntry
        );
        assert_eq!(
            k.disposition.as_ref().unwrap().due,
            t("2026-07-08T23:59:59+07:00")
        );
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::Overdue);
        assert!(!k.estimate());
        // Without the admin's entry, dibuat.
        c.thread.clear();
        let f = facts(&c, "2026-12-23T09:00:00+07:00", None);
        let k = clocks(&f, &cal, t("2026-12-23T09:00:00+07:00"));
        assert_eq!(k.disposition.as_ref().unwrap().source, StartSource::Dibuat);
        assert_eq!(
            k.disposition.as_ref().unwrap().due,
            t("2026-07-02T23:59:59+07:00")
        );
        // An admin entry that returned the complaint (Bukan Wewenang) is not its start.
        let mut bw = complaint(
            Status::BukanWewenang,
            &[(Author::Admin, "2026-07-10T10:00:00+07:00")],
            "2026-07-10T10:00:00+07:00",
        );
        bw.dibuat = c.dibuat;
        let k = clocks(
            &facts(&bw, "2026-12-23T09:00:00+07:00", None),
            &cal,
            t("2026-12-23T09:00:00+07:00"),
        );
        assert_eq!(k.disposition.as_ref().unwrap().source, StartSource::Dibuat);
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::MetLate);
        assert_eq!(
            k.disposition.as_ref().unwrap().done_at,
            Some(t("2026-07-10T10:00:00+07:00"))
        );
    }

    #[test]
    fn a_complaint_disposed_upstream_before_the_first_read_is_disposed() {
        let cal = cal();
        // Read first on 23 Dec, already with its unit since an update of 15 Dec.
        let mut c = complaint(
            Status::BelumDitindaklanjuti,
            &[],
            "2026-12-15T10:00:00+07:00",
        );
        c.dibuat = Some(t("2026-12-14T08:00:00+07:00"));
        c.unit = unit();
        let f = facts(&c, "2026-12-23T09:00:00+07:00", None);
        let now = t("2026-12-23T09:00:00+07:00");
        assert!(f.is_disposed(now));
        let k = clocks(&f, &cal, now);
        // 14 Dec (day 0) -> 17 Dec; the unit was there on 15 Dec.
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::Met);
        let ff = k.first_followup.as_ref().unwrap();
        assert_eq!(ff.source, StartSource::UnitAtFirstRead);
        assert_eq!(ff.started, t("2026-12-15T10:00:00+07:00"));
        // 15 Dec day 0: 16, 17, 18, 21, 22 -> due 22 Dec, overdue on the 23rd.
        assert_eq!(ff.due, t("2026-12-22T23:59:59+07:00"));
        assert_eq!(ff.state, SlaState::Overdue);
        assert_eq!(k.overdue_clock().unwrap().0, "tindak_lanjut_pertama");
    }

    #[test]
    fn a_follow_up_before_the_disposition_evidence_meets_the_first_follow_up_clock() {
        let cal = cal();
        // In Proses when first read: the unit answered on 10 Dec, the reporter on 20 Dec;
        // the connector disposes it again locally on 23 Dec.
        let mut c = complaint(
            Status::Proses,
            &[
                (Author::Instansi, "2026-12-10T10:00:00+07:00"),
                (Author::Pelapor, "2026-12-20T10:00:00+07:00"),
            ],
            "2026-12-20T10:00:00+07:00",
        );
        c.dibuat = Some(t("2026-12-07T08:00:00+07:00"));
        c.unit = unit();
        let f = facts(
            &c,
            "2026-12-23T09:00:00+07:00",
            Some("2026-12-23T10:00:00+07:00"),
        );
        let k = clocks(&f, &cal, t("2026-12-28T09:00:00+07:00"));
        // Disposition stopped by the unit's follow-up (7 Dec day 0 -> 10 Dec: met).
        assert_eq!(
            k.disposition.as_ref().unwrap().done_at,
            Some(t("2026-12-10T10:00:00+07:00"))
        );
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::Met);
        let ff = k.first_followup.as_ref().unwrap();
        assert_eq!(ff.state, SlaState::Met);
        assert!(ff.met_before_start);
        assert!(!k.is_overdue());
        // Locally disposed first, answered by the OPD the same week: measured.
        let mut fresh = complaint(
            Status::Proses,
            &[(Author::Instansi, "2026-12-04T10:00:00+07:00")],
            "2026-12-04T10:00:00+07:00",
        );
        fresh.dibuat = Some(t("2026-11-30T08:00:00+07:00"));
        let mut f = facts(
            &fresh,
            "2026-11-30T09:00:00+07:00",
            Some("2026-12-01T09:00:00+07:00"),
        );
        f.evidence.unit = None;
        let k = clocks(&f, &cal, t("2026-12-07T09:00:00+07:00"));
        let ff = k.first_followup.unwrap();
        assert_eq!(ff.source, StartSource::LocalDisposition);
        assert_eq!(
            (ff.state, ff.working_days, ff.met_before_start),
            (SlaState::Met, 3, false)
        );
    }

    #[test]
    fn met_and_met_late_and_first_followup() {
        let cal = cal();
        // Disposed Monday 10 Aug 2026 (day 0); 17 Aug (Monday) is a holiday: 5 working
        // days are 11, 12, 13, 14, 18 -> due Tuesday 18 Aug.
        let c = complaint(
            Status::Proses,
            &[(Author::Instansi, "2026-08-18T16:00:00+07:00")],
            "2026-08-18T16:00:00+07:00",
        );
        let f = facts(
            &c,
            "2026-08-05T09:00:00+07:00",
            Some("2026-08-10T10:00:00+07:00"),
        );
        let k = clocks(&f, &cal, t("2026-08-20T00:00:00+07:00"));
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::Met); // Wed 5 -> due Mon 10
        assert_eq!(k.disposition.as_ref().unwrap().working_days, 3);
        let ff = k.first_followup.as_ref().unwrap();
        assert_eq!(ff.due, t("2026-08-18T23:59:59+07:00"));
        assert_eq!(ff.state, SlaState::Met);
        assert_eq!(ff.working_days, 5);
        // The closing clock runs from the follow-up: 10 working days.
        let closing = k.closing.as_ref().unwrap();
        assert_eq!(closing.state, SlaState::OnTime);
        assert_eq!(closing.due, t("2026-09-02T23:59:59+07:00")); // 25 Aug is Maulid

        let late = complaint(
            Status::Proses,
            &[(Author::Instansi, "2026-08-19T08:00:00+07:00")],
            "2026-08-19T08:00:00+07:00",
        );
        // Also late: 3 days from 5 Aug.
        let f = facts(
            &late,
            "2026-08-05T09:00:00+07:00",
            Some("2026-08-12T10:00:00+07:00"),
        );
        let k = clocks(&f, &cal, t("2026-08-20T00:00:00+07:00"));
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::MetLate);
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
        let f = facts(
            &c,
            "2026-11-02T08:00:00+07:00",
            Some("2026-11-02T10:00:00+07:00"),
        ); // Monday
        let state = |now: &str| clocks(&f, &cal, t(now)).first_followup.unwrap().state;
        assert_eq!(state("2026-11-06T12:00:00+07:00"), SlaState::OnTime); // day 4
        assert_eq!(state("2026-11-09T08:00:00+07:00"), SlaState::DueSoon); // day 5
        assert_eq!(state("2026-11-10T08:00:00+07:00"), SlaState::Overdue);
        let k = clocks(&f, &cal, t("2026-11-10T08:00:00+07:00"));
        assert_eq!(k.overdue_clock().unwrap().0, "tindak_lanjut_pertama");
        // As of a moment before the disposition, the first follow-up clock has not started.
        assert!(
            clocks(&f, &cal, t("2026-11-02T09:00:00+07:00"))
                .first_followup
                .is_none()
        );
    }

    #[test]
    fn a_start_on_a_holiday_and_on_a_saturday() {
        let cal = cal();
        // Disposed on Independence Day (Monday 17 Aug 2026): day 0 is Tuesday 18; 19, 20,
        // 21, 24, 26 (25 is Maulid) -> due Wednesday 26 Aug.
        let c = complaint(
            Status::BelumDitindaklanjuti,
            &[],
            "2026-08-17T10:00:00+07:00",
        );
        let f = facts(
            &c,
            "2026-08-17T09:00:00+07:00",
            Some("2026-08-17T10:00:00+07:00"),
        );
        let k = clocks(&f, &cal, t("2026-08-18T10:00:00+07:00"));
        assert_eq!(
            k.first_followup.unwrap().due,
            t("2026-08-26T23:59:59+07:00")
        );
        // Created on Saturday 21 Nov 2026: day 0 is Monday 23; 24, 25, 26 -> Thursday 26.
        let mut c = complaint(
            Status::BelumDitindaklanjuti,
            &[],
            "2026-11-21T10:00:00+07:00",
        );
        c.dibuat = Some(t("2026-11-21T10:00:00+07:00"));
        let f = facts(&c, "2026-11-21T10:05:00+07:00", None);
        let at = |now: &str| clocks(&f, &cal, t(now)).disposition.unwrap();
        assert_eq!(
            at("2026-11-23T10:00:00+07:00").due,
            t("2026-11-26T23:59:59+07:00")
        );
        assert_eq!(at("2026-11-23T10:00:00+07:00").working_days, 0);
        assert_eq!(at("2026-11-26T10:00:00+07:00").state, SlaState::DueSoon);
        assert_eq!(at("2026-11-27T00:00:00+07:00").state, SlaState::Overdue);
    }

    #[test]
    fn the_disposition_clock_pauses_while_ditunda() {
        let cal = cal();
        // Created Monday 2 Nov 2026 09:00 (day 0; due Thursday 5 Nov without a pause).
        // Ditunda from Tuesday 3 Nov 10:00 until the reporter answered on Monday 9 Nov
        // 10:00: 4, 5, 6 and 9 Nov were paused, so the deadline moves 4 working days,
        // to Wednesday 11 Nov.
        let mut v1 = complaint(
            Status::BelumDitindaklanjuti,
            &[],
            "2026-11-02T09:00:00+07:00",
        );
        v1.dibuat = Some(t("2026-11-02T09:00:00+07:00"));
        let mut v2 = v1.clone();
        v2.status = Status::Ditunda;
        v2.diperbarui = t("2026-11-03T10:00:00+07:00");
        let mut v3 = v2.clone();
        v3.status = Status::BelumDitindaklanjuti;
        v3.diperbarui = t("2026-11-09T10:00:00+07:00");
        v3.thread = complaint(
            Status::Proses,
            &[(Author::Pelapor, "2026-11-09T10:00:00+07:00")],
            "2026-11-09T10:00:00+07:00",
        )
        .thread;
        let mut ev = SlaEvidence::first_read(&v1);
        ev.observe(&v1, &v2);
        ev.observe(&v2, &v3);
        let f = SlaFacts {
            complaint: &v3,
            first_seen: t("2026-11-02T09:30:00+07:00"),
            local_disposition: None,
            evidence: ev,
        };
        let at = |now: &str| clocks(&f, &cal, t(now)).disposition.unwrap();
        // Paused in between: never overdue, even after the unpaused deadline.
        let k = at("2026-11-06T12:00:00+07:00");
        assert_eq!(k.state, SlaState::Paused);
        assert!(!clocks(&f, &cal, t("2026-11-06T12:00:00+07:00")).is_overdue());
        let k = at("2026-11-10T12:00:00+07:00");
        assert_eq!(k.paused_working_days, 4);
        assert_eq!(k.due, t("2026-11-11T23:59:59+07:00"));
        assert_eq!(k.state, SlaState::OnTime);
        assert_eq!(at("2026-11-11T08:00:00+07:00").state, SlaState::DueSoon);
        assert_eq!(at("2026-11-12T00:00:00+07:00").state, SlaState::Overdue);
        // As of 4 Nov, before the pause ended, the due date counted only Wednesday 4 Nov.
        let k = at("2026-11-04T12:00:00+07:00");
        assert_eq!((k.paused_working_days, k.state), (1, SlaState::Paused));
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
        let f = facts(
            &c,
            "2026-11-01T08:00:00+07:00",
            Some("2026-11-01T09:00:00+07:00"),
        );
        assert!(
            clocks(&f, &cal, t("2026-12-01T00:00:00Z"))
                .closing
                .is_none()
        );
        // As of before the reply, the closing clock ran.
        assert!(
            clocks(&f, &cal, t("2026-11-02T12:00:00+07:00"))
                .closing
                .is_some()
        );
    }

    #[test]
    fn closing_a_complaint_stops_running_clocks() {
        let cal = cal();
        // Bukan Wewenang on day 2, never disposed: the disposition clock is met.
        let c = complaint(Status::BukanWewenang, &[], "2026-11-04T10:00:00+07:00");
        let f = facts(&c, "2026-11-02T08:00:00+07:00", None);
        let k = clocks(&f, &cal, t("2027-01-10T00:00:00Z"));
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::Met);
        assert_eq!(
            k.disposition.as_ref().unwrap().done_at,
            Some(t("2026-11-04T10:00:00+07:00"))
        );
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
        let f = facts(
            &c,
            "2026-12-22T09:00:00+07:00",
            Some("2026-12-28T09:00:00+07:00"),
        ); // Monday
        let k = clocks(&f, &cal, t("2026-12-30T09:00:00+07:00"));
        // 29, 30, 31 Dec, then 1 Jan 2027 (a fixed-date holiday, though 2027's SKB is not
        // in the file), 4 and 5 Jan.
        let ff = k.first_followup.as_ref().unwrap();
        assert_eq!(ff.due, t("2027-01-05T23:59:59+07:00"));
        assert_eq!(ff.uncovered_years, vec![2027]);
        assert_eq!(k.uncovered_years, vec![2027]);
        // The disposition clock (22 Dec day 0 -> 23 (1), 28 (2), 29 (3); 24-27 off)...
        assert_eq!(
            k.disposition.as_ref().unwrap().due,
            t("2026-12-29T23:59:59+07:00")
        );
        assert_eq!(k.disposition.as_ref().unwrap().state, SlaState::Met);
        assert!(k.disposition.as_ref().unwrap().uncovered_years.is_empty());
    }
}
