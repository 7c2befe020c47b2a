//! What people read about the connector's work: the coordinators' report (`sp4n report`),
//! the health view (`sp4n status`, [`status`]) and the Prometheus text of `GET /metrics`
//! ([`metrics`]).
//!
//! Everything here is a pure function over plain rows and snapshots that other stages
//! fill in. A [`ReportRow`] holds only what a coordinator may see: the tracking id, the
//! OPD, the status, the topic, the kapanewon and the SLA clocks. No reporter identity and
//! no complaint text ever enter it, so no rendering can leak them; for rahasia complaints
//! the overdue list also leaves out the kapanewon. Report text, CSV headers and the
//! overdue list are in Bahasa Indonesia; `status` and metrics are operator output, in
//! English.

pub mod csv;
pub mod metrics;
pub mod status;
mod table;

pub use csv::CsvStyle;
pub use metrics::MetricsSnapshot;
pub use status::StatusSnapshot;

use crate::model::{Author, Complaint, Status, TrackingId, format_wib_short};
use crate::sla::{Calendar, Clocks, SlaFacts, SlaState};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use table::{Align, Table};

/// The public page of a complaint on LAPOR!.
pub fn lapor_link(tracking_id: TrackingId) -> String {
    format!("https://www.lapor.go.id/pengaduan/{tracking_id}")
}

/// One complaint as the report sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    pub tracking_id: TrackingId,
    /// Local OPD code (`DINKES`, `ADMIN`, ...).
    pub opd: String,
    pub opd_name: String,
    pub status: Status,
    pub rahasia: bool,
    /// The topic's name, if the complaint has one.
    pub topic: Option<String>,
    /// The kapanewon's name, if the location is known.
    pub kapanewon: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub disposed_at: Option<DateTime<Utc>>,
    pub first_followup_at: Option<DateTime<Utc>>,
    pub clocks: Clocks,
}

impl ReportRow {
    /// Builds the row of one stored complaint: its clocks at `now`, its first instansi
    /// follow-up from the thread, and nothing of its text or reporter.
    pub fn from_complaint(
        complaint: &Complaint,
        first_seen: DateTime<Utc>,
        disposed_at: Option<DateTime<Utc>>,
        opd: (&str, &str),
        kapanewon: Option<String>,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> ReportRow {
        let facts = SlaFacts {
            first_seen,
            disposed_at,
            complaint,
        };
        ReportRow {
            tracking_id: complaint.tracking_id,
            opd: opd.0.to_string(),
            opd_name: opd.1.to_string(),
            status: complaint.status,
            rahasia: complaint.rahasia,
            topic: complaint.topik.as_ref().map(|t| t.name.clone()),
            kapanewon,
            first_seen,
            disposed_at,
            first_followup_at: complaint
                .thread
                .iter()
                .filter(|t| t.oleh == Author::Instansi)
                .map(|t| t.waktu)
                .min(),
            clocks: crate::sla::clocks(&facts, cal, now),
        }
    }
}

/// The `--from`/`--to` period, inclusive, on the WIB date a complaint was first seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    pub fn contains(&self, first_seen: DateTime<Utc>) -> bool {
        let d = first_seen.with_timezone(&crate::model::WIB).date_naive();
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }
}

/// The figures of one OPD (or of all, in [`Report::total`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpdSummary {
    pub opd: String,
    pub opd_name: String,
    /// Every complaint of the period routed to this OPD; the sum of the next four.
    pub received: u64,
    /// Open and not yet disposed.
    pub awaiting_disposition: u64,
    /// Open, disposed, no follow-up by the instansi yet.
    pub awaiting_first_followup: u64,
    /// Open with at least one follow-up.
    pub in_progress: u64,
    /// Selesai, Bukan Wewenang or Arsip.
    pub closed: u64,
    /// Disposition or first follow-up overdue now (a subset of the above).
    pub overdue: u64,
    /// Median working days from disposition to the first follow-up, over complaints that
    /// have one.
    pub median_working_days_to_first_followup: Option<f64>,
    /// Share (0 to 1) of decided first follow-up clocks (met, met late, overdue) that were
    /// met on time.
    pub on_time_share: Option<f64>,
}

/// One overdue complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OverdueItem {
    pub tracking_id: TrackingId,
    pub opd: String,
    pub opd_name: String,
    /// `disposisi` or `tindak_lanjut_pertama`.
    pub clock: &'static str,
    pub due: DateTime<Utc>,
    /// Working days past the allowance.
    pub working_days_late: u32,
    pub topic: Option<String>,
    /// Left out for rahasia complaints.
    pub kapanewon: Option<String>,
    pub rahasia: bool,
    pub link: String,
}

/// The coordinators' report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub period: Period,
    /// Years the clocks were counted over that `calendar.toml` does not cover.
    pub uncovered_years: Vec<i32>,
    pub per_opd: Vec<OpdSummary>,
    pub total: OpdSummary,
    pub overdue: Vec<OverdueItem>,
}

fn median(mut v: Vec<u32>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        f64::from(v[n / 2])
    } else {
        (f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) / 2.0
    })
}

fn summarize(opd: &str, opd_name: &str, rows: &[&ReportRow]) -> OpdSummary {
    let mut s = OpdSummary {
        opd: opd.to_string(),
        opd_name: opd_name.to_string(),
        received: 0,
        awaiting_disposition: 0,
        awaiting_first_followup: 0,
        in_progress: 0,
        closed: 0,
        overdue: 0,
        median_working_days_to_first_followup: None,
        on_time_share: None,
    };
    let mut days = Vec::new();
    let (mut decided, mut met) = (0u32, 0u32);
    for r in rows {
        s.received += 1;
        if r.status.is_closed() {
            s.closed += 1;
        } else if r.disposed_at.is_none() {
            s.awaiting_disposition += 1;
        } else if r.first_followup_at.is_none() {
            s.awaiting_first_followup += 1;
        } else {
            s.in_progress += 1;
        }
        if r.clocks.is_overdue() {
            s.overdue += 1;
        }
        if let Some(f) = &r.clocks.first_followup {
            if r.first_followup_at.is_some() {
                days.push(f.working_days);
            }
            match f.state {
                SlaState::Met => {
                    decided += 1;
                    met += 1;
                }
                SlaState::MetLate | SlaState::Overdue => decided += 1,
                SlaState::OnTime | SlaState::DueSoon => {}
            }
        }
    }
    s.median_working_days_to_first_followup = median(days);
    s.on_time_share = (decided > 0).then(|| f64::from(met) / f64::from(decided));
    s
}

impl OpdSummary {
    /// The six counts in report order: received, awaiting disposition, awaiting first
    /// follow-up, in progress, closed, overdue.
    pub fn counts(&self) -> [u64; 6] {
        [
            self.received,
            self.awaiting_disposition,
            self.awaiting_first_followup,
            self.in_progress,
            self.closed,
            self.overdue,
        ]
    }
}

impl Report {
    /// Builds the report over the rows whose first-seen date is in `period`. OPDs appear
    /// in code order; the overdue list is most late first.
    pub fn build(rows: &[ReportRow], period: Period, now: DateTime<Utc>) -> Report {
        let rows: Vec<&ReportRow> = rows
            .iter()
            .filter(|r| period.contains(r.first_seen))
            .collect();
        let mut by_opd: BTreeMap<&str, (&str, Vec<&ReportRow>)> = BTreeMap::new();
        let mut uncovered = BTreeSet::new();
        for r in &rows {
            by_opd
                .entry(r.opd.as_str())
                .or_insert_with(|| (r.opd_name.as_str(), Vec::new()))
                .1
                .push(r);
            uncovered.extend(r.clocks.uncovered_years.iter().copied());
        }
        let per_opd = by_opd
            .iter()
            .map(|(opd, (name, rs))| summarize(opd, name, rs))
            .collect();
        let total = summarize("JUMLAH", "Seluruh OPD", &rows);
        let mut overdue: Vec<OverdueItem> = rows
            .iter()
            .filter_map(|r| {
                let (clock, c) = r.clocks.overdue_clock()?;
                Some(OverdueItem {
                    tracking_id: r.tracking_id,
                    opd: r.opd.clone(),
                    opd_name: r.opd_name.clone(),
                    clock,
                    due: c.due,
                    working_days_late: c.working_days.saturating_sub(c.allowed_working_days),
                    topic: r.topic.clone(),
                    kapanewon: if r.rahasia { None } else { r.kapanewon.clone() },
                    rahasia: r.rahasia,
                    link: lapor_link(r.tracking_id),
                })
            })
            .collect();
        overdue.sort_by(|a, b| {
            b.working_days_late
                .cmp(&a.working_days_late)
                .then(a.due.cmp(&b.due))
                .then(a.tracking_id.cmp(&b.tracking_id))
        });
        Report {
            generated_at: now,
            period,
            uncovered_years: uncovered.into_iter().collect(),
            per_opd,
            total,
            overdue,
        }
    }

    /// Adds years to warn about (e.g. the current year, when the calendar lacks it).
    pub fn warn_uncovered_years(&mut self, years: impl IntoIterator<Item = i32>) {
        self.uncovered_years.extend(years);
        self.uncovered_years.sort_unstable();
        self.uncovered_years.dedup();
    }
}

fn clock_label(clock: &str) -> &'static str {
    match clock {
        "disposisi" => "disposisi",
        _ => "tindak lanjut pertama",
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{:.0}%", v * 100.0))
}

fn decimal_id(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.1}").replace('.', ","))
}

fn period_text(p: &Period) -> String {
    match (p.from, p.to) {
        (None, None) => "semua pengaduan".to_string(),
        (Some(f), None) => format!("diterima sejak {f}"),
        (None, Some(t)) => format!("diterima sampai {t}"),
        (Some(f), Some(t)) => format!("diterima {f} s.d. {t}"),
    }
}

/// The report as text for people, in Bahasa Indonesia.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    out.push_str("LAPORAN PENGADUAN SP4N-LAPOR! PEMERINTAH KABUPATEN KULON PROGO\n");
    out.push_str(&format!("Dibuat  : {}\n", format_wib_short(r.generated_at)));
    out.push_str(&format!("Periode : {}\n", period_text(&r.period)));
    for y in &r.uncovered_years {
        out.push_str(&format!(
            "PERINGATAN: tahun {y} belum ada di kalender (mappings/calendar.toml); jam SLA tahun itu hanya memperhitungkan Sabtu dan Minggu. Tambahkan hari libur dan cuti bersama {y}.\n"
        ));
    }
    out.push_str("\nRINGKASAN PER OPD\n");
    let mut t = Table::new(&[
        ("OPD", Align::Left),
        ("Diterima", Align::Right),
        ("Menunggu disposisi", Align::Right),
        ("Menunggu TL pertama", Align::Right),
        ("Diproses", Align::Right),
        ("Selesai", Align::Right),
        ("Terlambat", Align::Right),
        ("Median hari kerja ke TL pertama", Align::Right),
        ("Tepat waktu", Align::Right),
        ("Nama OPD", Align::Left),
    ]);
    for s in r.per_opd.iter().chain(std::iter::once(&r.total)) {
        let mut cells = vec![s.opd.clone()];
        cells.extend(s.counts().map(|n| n.to_string()));
        cells.extend([
            decimal_id(s.median_working_days_to_first_followup),
            percent(s.on_time_share),
            s.opd_name.clone(),
        ]);
        t.row(cells);
    }
    out.push_str(&t.render());
    out.push_str("TL = tindak lanjut. Tepat waktu = bagian tindak lanjut pertama yang dilakukan dalam 5 hari kerja setelah disposisi.\n");
    out.push_str(&format!("\nPENGADUAN TERLAMBAT ({})\n", r.overdue.len()));
    if r.overdue.is_empty() {
        out.push_str("Tidak ada pengaduan yang terlambat.\n");
        return out;
    }
    let mut t = Table::new(&[
        ("No. pelacakan", Align::Right),
        ("OPD", Align::Left),
        ("Tahap terlambat", Align::Left),
        ("Jatuh tempo", Align::Left),
        ("Lewat (hari kerja)", Align::Right),
        ("Topik", Align::Left),
        ("Kapanewon", Align::Left),
        ("Tautan LAPOR!", Align::Left),
    ]);
    for o in &r.overdue {
        t.row(vec![
            o.tracking_id.to_string(),
            o.opd.clone(),
            clock_label(o.clock).to_string(),
            format_wib_short(o.due),
            o.working_days_late.to_string(),
            o.topic.clone().unwrap_or_else(|| "-".into()),
            if o.rahasia {
                "(rahasia)".to_string()
            } else {
                o.kapanewon.clone().unwrap_or_else(|| "-".into())
            },
            o.link.clone(),
        ]);
    }
    out.push_str(&t.render());
    out
}

/// The report as JSON (the [`Report`] structure, times in UTC RFC 3339).
pub fn render_json(r: &Report) -> String {
    serde_json::to_string_pretty(r).expect("a report always serializes")
}

/// The per-OPD summary as CSV, one row per OPD (no total row, so that spreadsheet sums
/// stay right). See [`csv`] for the format.
pub fn render_csv(r: &Report, style: CsvStyle) -> String {
    let mut w = csv::CsvWriter::new(style);
    w.record(&[
        "kode_opd",
        "nama_opd",
        "diterima",
        "menunggu_disposisi",
        "menunggu_tindak_lanjut_pertama",
        "diproses",
        "selesai",
        "terlambat",
        "median_hari_kerja_ke_tindak_lanjut_pertama",
        "persen_tepat_waktu",
    ]);
    for s in &r.per_opd {
        let mut fields = vec![s.opd.clone(), s.opd_name.clone()];
        fields.extend(s.counts().map(|n| n.to_string()));
        fields.extend([
            s.median_working_days_to_first_followup
                .map_or(String::new(), |v| style.decimal(v)),
            s.on_time_share
                .map_or(String::new(), |v| format!("{:.0}", v * 100.0)),
        ]);
        w.record(&fields);
    }
    w.finish()
}

/// The overdue list as CSV, most late first.
pub fn render_overdue_csv(r: &Report, style: CsvStyle) -> String {
    let mut w = csv::CsvWriter::new(style);
    w.record(&[
        "nomor_pelacakan",
        "kode_opd",
        "nama_opd",
        "tahap_terlambat",
        "jatuh_tempo_wib",
        "lewat_hari_kerja",
        "topik",
        "kapanewon",
        "rahasia",
        "tautan_lapor",
    ]);
    for o in &r.overdue {
        w.record(&[
            o.tracking_id.to_string(),
            o.opd.clone(),
            o.opd_name.clone(),
            clock_label(o.clock).to_string(),
            o.due
                .with_timezone(&crate::model::WIB)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            o.working_days_late.to_string(),
            o.topic.clone().unwrap_or_default(),
            o.kapanewon.clone().unwrap_or_default(),
            if o.rahasia { "ya" } else { "tidak" }.to_string(),
            o.link.clone(),
        ]);
    }
    w.finish()
}
