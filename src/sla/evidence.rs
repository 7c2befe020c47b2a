//! What the platform showed the connector about a complaint's SLA clocks, kept with its
//! stored record ([`crate::store::StoredComplaint::sla`]) because later versions of the
//! complaint no longer show it: when the complaint first carried a unit (the first update
//! that did, with the platform's `diperbarui`), and the statuses it went through, each
//! with the `diperbarui` of the update that brought it (for the Ditunda pause and for
//! reports as of an earlier instant).
//!
//! The pull calls [`SlaEvidence::first_read`] when it stores a complaint for the first
//! time and [`SlaEvidence::observe`] on every changed version. Times are always the
//! platform's, never the connector's clock. A record stored before this evidence existed
//! gets [`SlaEvidence::first_read`] of its current version (see
//! [`SlaEvidence::or_first_read`]).

use crate::model::{Complaint, Status};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// When the complaint first carried a unit (OPD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitEvidence {
    /// The `diperbarui` of the first version read that carried a unit.
    pub at: DateTime<Utc>,
    /// True when the version before it was read without a unit: `at` is the update that
    /// set it. False when the connector's first read already carried it: the unit was set
    /// at `at` or earlier.
    pub witnessed: bool,
}

/// One status the complaint was seen in, from the update that brought it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusMark {
    /// The `diperbarui` of the version that first showed this status.
    pub at: DateTime<Utc>,
    pub status: Status,
}

/// The platform's evidence about a complaint's clocks, gathered version by version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaEvidence {
    #[serde(default)]
    pub unit: Option<UnitEvidence>,
    /// Statuses in the order seen; consecutive marks differ.
    #[serde(default)]
    pub statuses: Vec<StatusMark>,
}

impl SlaEvidence {
    /// The evidence of a complaint's first read.
    pub fn first_read(c: &Complaint) -> SlaEvidence {
        SlaEvidence {
            unit: c.unit.as_ref().map(|_| UnitEvidence {
                at: c.diperbarui,
                witnessed: false,
            }),
            statuses: vec![StatusMark {
                at: c.diperbarui,
                status: c.status,
            }],
        }
    }

    /// Adds what a new version `new` of the complaint shows (the previous one was `old`).
    pub fn observe(&mut self, old: &Complaint, new: &Complaint) {
        if self.statuses.is_empty() {
            *self = SlaEvidence::first_read(old);
        }
        if self.unit.is_none() && new.unit.is_some() {
            self.unit = Some(UnitEvidence {
                at: new.diperbarui,
                witnessed: old.unit.is_none(),
            });
        }
        if self.statuses.last().map(|m| m.status) != Some(new.status) {
            self.statuses.push(StatusMark {
                at: new.diperbarui,
                status: new.status,
            });
        }
    }

    /// This evidence, or the first read of `c` when none was gathered (a record stored
    /// before the connector kept it).
    pub fn or_first_read(&self, c: &Complaint) -> SlaEvidence {
        if self.statuses.is_empty() {
            SlaEvidence::first_read(c)
        } else {
            self.clone()
        }
    }

    /// The status at `t` as far as the connector saw: the last mark at or before `t`, or
    /// the first mark when `t` is before every mark.
    pub fn status_at(&self, t: DateTime<Utc>) -> Option<Status> {
        self.statuses
            .iter()
            .take_while(|m| m.at <= t)
            .last()
            .or(self.statuses.first())
            .map(|m| m.status)
    }

    /// The intervals (start, end) spent in `status` that began at or before `t`; the end is
    /// `None` while it lasts at `t`.
    pub fn intervals(
        &self,
        status: Status,
        t: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let mut out = Vec::new();
        let marks: Vec<&StatusMark> = self.statuses.iter().filter(|m| m.at <= t).collect();
        for (i, m) in marks.iter().enumerate() {
            if m.status == status {
                out.push((m.at, marks.get(i + 1).map(|n| n.at)));
            }
        }
        out
    }

    /// When the complaint last entered a closed status (Selesai, Bukan Wewenang, Arsip)
    /// and stayed closed up to `t`, if it is closed at `t`.
    pub fn closed_since(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let marks: Vec<&StatusMark> = self.statuses.iter().filter(|m| m.at <= t).collect();
        let mut since = None;
        for m in marks {
            if m.status.is_closed() {
                since.get_or_insert(m.at);
            } else {
                since = None;
            }
        }
        since
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{UnitRef, parse_timestamp};

    fn c(status: Status, unit: bool, at: &str) -> Complaint {
        Complaint {
            tracking_id: 1,
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
            unit: unit.then(|| UnitRef {
                id: "2417".into(),
                name: String::new(),
            }),
            dibuat: None,
            diperbarui: parse_timestamp(at).unwrap(),
            lampiran: vec![],
            thread: vec![],
        }
    }

    #[test]
    fn the_first_update_that_carried_the_unit_and_the_status_marks() {
        let v1 = c(
            Status::BelumDitindaklanjuti,
            false,
            "2026-12-01T09:00:00+07:00",
        );
        let v2 = c(Status::Ditunda, false, "2026-12-02T09:00:00+07:00");
        let v3 = c(
            Status::BelumDitindaklanjuti,
            false,
            "2026-12-07T09:00:00+07:00",
        );
        let v4 = c(
            Status::BelumDitindaklanjuti,
            true,
            "2026-12-08T09:00:00+07:00",
        );
        let mut e = SlaEvidence::first_read(&v1);
        assert!(e.unit.is_none());
        e.observe(&v1, &v2);
        e.observe(&v2, &v3);
        e.observe(&v3, &v4);
        let u = e.unit.unwrap();
        assert!(u.witnessed);
        assert_eq!(u.at, v4.diperbarui);
        assert_eq!(e.statuses.len(), 3);
        assert_eq!(
            e.intervals(Status::Ditunda, v4.diperbarui),
            vec![(v2.diperbarui, Some(v3.diperbarui))]
        );
        assert_eq!(e.status_at(v2.diperbarui), Some(Status::Ditunda));
        // Before the first read: the first status seen.
        assert_eq!(
            e.status_at(parse_timestamp("2026-01-01T00:00:00Z").unwrap()),
            Some(Status::BelumDitindaklanjuti)
        );
        // Read first with a unit already: not witnessed.
        let first = SlaEvidence::first_read(&v4);
        assert!(!first.unit.unwrap().witnessed);
        assert_eq!(SlaEvidence::default().or_first_read(&v4), first);
    }

    #[test]
    fn closed_since_follows_reopening() {
        let mut e = SlaEvidence::first_read(&c(Status::Proses, true, "2026-12-01T09:00:00+07:00"));
        let p = c(Status::Proses, true, "2026-12-01T09:00:00+07:00");
        let s = c(Status::Selesai, true, "2026-12-10T09:00:00+07:00");
        let r = c(Status::Proses, true, "2026-12-11T09:00:00+07:00");
        let a = c(Status::Selesai, true, "2026-12-20T09:00:00+07:00");
        let ar = c(Status::Arsip, true, "2026-12-22T09:00:00+07:00");
        e.observe(&p, &s);
        e.observe(&s, &r);
        e.observe(&r, &a);
        e.observe(&a, &ar);
        assert_eq!(e.closed_since(s.diperbarui), Some(s.diperbarui));
        assert_eq!(e.closed_since(r.diperbarui), None);
        assert_eq!(e.closed_since(ar.diperbarui), Some(a.diperbarui));
    }
}
