//! What people read about the connector's work: the coordinators' report (`sp4n report`),
//! the health view (`sp4n status`, [`status`]) and the Prometheus text of `GET /metrics`
//! ([`metrics`]).
//!
//! Everything here is a pure function over plain rows and snapshots that other stages
//! fill in. A [`ReportRow`] holds only what a coordinator may see: the tracking id, the
//! OPD, the status and its [`Category`] (one to one with the platform's statuses, Belum
//! Ditindaklanjuti split by whether it reached a unit), the topic, the kapanewon and the
//! SLA clocks, all as of the report's instant. Each OPD's categories add up to its total;
//! the overdue list, the closing dates and the deadlines that may move with a missing
//! year's SKB follow; a clock started from the connector's first read is marked
//! "perkiraan" in every view. No reporter identity and
//! no complaint text ever enter it, so no rendering can leak them; for rahasia complaints
//! the overdue list also leaves out the kapanewon. Report text, CSV headers and the
//! overdue list are in Bahasa Indonesia; `status` and metrics are operator output, in
//! English.

pub mod csv;
pub mod history;
pub mod metrics;
pub mod status;
mod table;

pub use csv::CsvStyle;
pub use metrics::{MetricsCache, MetricsSnapshot};
pub use status::StatusSnapshot;

use crate::model::{Status, TrackingId, format_wib_short};
use crate::sla::{Calendar, Clocks, SlaFacts, SlaState};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use table::{Align, Table};

/// The public page of a complaint on LAPOR!.
pub fn lapor_link(tracking_id: TrackingId) -> String {
    format!("https://www.lapor.go.id/pengaduan/{tracking_id}")
}

/// Where a complaint stands, one to one with the platform's statuses; `Belum
/// Ditindaklanjuti` is split by whether it has reached a unit (OPD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Belum Terverifikasi (submitted by the instansi itself, not yet verified).
    BelumTerverifikasi,
    /// Belum Ditindaklanjuti, not yet at a unit.
    MenungguDisposisi,
    /// Belum Ditindaklanjuti, at a unit, no follow-up yet.
    MenungguTindakLanjutPertama,
    Proses,
    Ditunda,
    Selesai,
    BukanWewenang,
    Arsip,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 8] = [
        Category::BelumTerverifikasi,
        Category::MenungguDisposisi,
        Category::MenungguTindakLanjutPertama,
        Category::Proses,
        Category::Ditunda,
        Category::Selesai,
        Category::BukanWewenang,
        Category::Arsip,
    ];

    /// The category of a complaint in `status`; `disposed`: it has reached a unit.
    pub fn of(status: Status, disposed: bool) -> Category {
        match status {
            Status::BelumTerverifikasi => Category::BelumTerverifikasi,
            Status::BelumDitindaklanjuti if disposed => Category::MenungguTindakLanjutPertama,
            Status::BelumDitindaklanjuti => Category::MenungguDisposisi,
            Status::Proses => Category::Proses,
            Status::Ditunda => Category::Ditunda,
            Status::Selesai => Category::Selesai,
            Status::BukanWewenang => Category::BukanWewenang,
            Status::Arsip => Category::Arsip,
        }
    }

    /// The column heading in the text report.
    pub fn label_id(self) -> &'static str {
        match self {
            Category::BelumTerverifikasi => "Belum terverifikasi",
            Category::MenungguDisposisi => "BD: menunggu disposisi",
            Category::MenungguTindakLanjutPertama => "BD: menunggu TL pertama",
            Category::Proses => "Proses",
            Category::Ditunda => "Ditunda",
            Category::Selesai => "Selesai",
            Category::BukanWewenang => "Bukan wewenang",
            Category::Arsip => "Arsip",
        }
    }

    /// The CSV column name.
    pub fn key(self) -> &'static str {
        match self {
            Category::BelumTerverifikasi => "belum_terverifikasi",
            Category::MenungguDisposisi => "menunggu_disposisi",
            Category::MenungguTindakLanjutPertama => "menunggu_tindak_lanjut_pertama",
            Category::Proses => "proses",
            Category::Ditunda => "ditunda",
            Category::Selesai => "selesai",
            Category::BukanWewenang => "bukan_wewenang",
            Category::Arsip => "arsip",
        }
    }
}

/// One complaint as the report sees it, as of the report's instant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    pub tracking_id: TrackingId,
    /// Local OPD code (`DINKES`, `ADMIN`, ...).
    pub opd: String,
    pub opd_name: String,
    /// The platform's status as of the report's instant.
    pub status: Status,
    pub category: Category,
    pub rahasia: bool,
    /// The topic's name, if the complaint has one.
    pub topic: Option<String>,
    /// The kapanewon's name, if the location is known.
    pub kapanewon: Option<String>,
    pub first_seen: DateTime<Utc>,
    /// When the complaint existed from: `dibuat`, or the first read when earlier/absent.
    pub created: DateTime<Utc>,
    /// When it reached a unit (the first follow-up clock's start), if it did.
    pub disposed_at: Option<DateTime<Utc>>,
    pub first_followup_at: Option<DateTime<Utc>>,
    /// The date the platform closes it if the reporter does not reply (running closing
    /// clock of a complaint in Proses).
    pub closes_at: Option<DateTime<Utc>>,
    /// Some clock starts from the connector's first read ("perkiraan").
    pub estimate: bool,
    pub clocks: Clocks,
}

impl ReportRow {
    /// Builds the row of one complaint from its facts: its clocks and category as of
    /// `now`, and nothing of its text or reporter.
    pub fn from_facts(
        facts: &SlaFacts<'_>,
        opd: (&str, &str),
        kapanewon: Option<String>,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> ReportRow {
        let complaint = facts.complaint;
        let status = facts.status_at(now);
        let clocks = crate::sla::clocks(facts, cal, now);
        let closes_at = clocks
            .closing
            .as_ref()
            .filter(|c| status == Status::Proses && c.done_at.is_none())
            .map(|c| c.due);
        ReportRow {
            tracking_id: complaint.tracking_id,
            opd: opd.0.to_string(),
            opd_name: opd.1.to_string(),
            status,
            category: Category::of(status, facts.is_disposed(now)),
            rahasia: complaint.rahasia,
            topic: complaint.topik.as_ref().map(|t| t.name.clone()),
            kapanewon,
            first_seen: facts.first_seen,
            created: complaint
                .dibuat
                .map_or(facts.first_seen, |d| d.min(facts.first_seen)),
            disposed_at: clocks.first_followup.as_ref().map(|c| c.started),
            first_followup_at: facts.first_followup(now),
            closes_at,
            estimate: clocks.estimate(),
            clocks,
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
    /// Every complaint of the period routed to this OPD; the sum of the categories.
    pub received: u64,
    /// Per category ([`Category::key`]), every category present (0 included).
    pub categories: BTreeMap<Category, u64>,
    /// Disposition or first follow-up overdue now (a subset of the above).
    pub overdue: u64,
    /// Complaints with a clock started from the connector's first read ("perkiraan").
    pub estimated: u64,
    /// Median working days from disposition to the first follow-up, over complaints whose
    /// follow-up came after the evidence of their disposition.
    pub median_working_days_to_first_followup: Option<f64>,
    /// Share (0 to 1) of decided first follow-up clocks (met, met late, overdue) that were
    /// met on time, leaving out those met by a follow-up from before the evidence of the
    /// disposition (not measurable).
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
    pub started: DateTime<Utc>,
    pub due: DateTime<Utc>,
    /// Working days past the allowance.
    pub working_days_late: u32,
    /// The clock's start is the connector's first read, not the platform's evidence.
    pub perkiraan: bool,
    pub topic: Option<String>,
    /// Left out for rahasia complaints.
    pub kapanewon: Option<String>,
    pub rahasia: bool,
    pub link: String,
}

/// A complaint the platform will close if the reporter does not reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClosingItem {
    pub tracking_id: TrackingId,
    pub opd: String,
    pub last_followup: DateTime<Utc>,
    /// The end of the 10th working day after the last follow-up.
    pub closes_at: DateTime<Utc>,
    pub link: String,
}

/// A running deadline counted over a year whose SKB days off are not in the calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MayMove {
    pub tracking_id: TrackingId,
    /// `disposisi`, `tindak_lanjut_pertama` or `penutupan`.
    pub clock: &'static str,
    pub due: DateTime<Utc>,
    pub years: Vec<i32>,
}

/// The coordinators' report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The instant the report is computed as of (`--at`, or now).
    pub generated_at: DateTime<Utc>,
    pub period: Period,
    /// Years the clocks were counted over that `calendar.toml` does not cover.
    pub uncovered_years: Vec<i32>,
    /// Running deadlines that may move when those years' SKB days off are added.
    pub deadlines_may_move: Vec<MayMove>,
    pub per_opd: Vec<OpdSummary>,
    pub total: OpdSummary,
    pub overdue: Vec<OverdueItem>,
    /// Complaints in Proses the platform will close without a reporter reply, soonest
    /// first.
    pub closing: Vec<ClosingItem>,
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
        categories: Category::ALL.into_iter().map(|c| (c, 0)).collect(),
        overdue: 0,
        estimated: 0,
        median_working_days_to_first_followup: None,
        on_time_share: None,
    };
    let mut days = Vec::new();
    let (mut decided, mut met) = (0u32, 0u32);
    for r in rows {
        s.received += 1;
        *s.categories.entry(r.category).or_insert(0) += 1;
        if r.clocks.is_overdue() {
            s.overdue += 1;
        }
        if r.estimate {
            s.estimated += 1;
        }
        // A follow-up from before the evidence of the disposition meets the clock but
        // measures nothing: it is left out of the median and the on-time share.
        if let Some(f) = r
            .clocks
            .first_followup
            .as_ref()
            .filter(|f| !f.met_before_start)
        {
            if r.first_followup_at.is_some() && f.done_at.is_some() {
                days.push(f.working_days);
            }
            match f.state {
                SlaState::Met => {
                    decided += 1;
                    met += 1;
                }
                SlaState::MetLate | SlaState::Overdue => decided += 1,
                SlaState::OnTime | SlaState::DueSoon | SlaState::Paused => {}
            }
        }
    }
    s.median_working_days_to_first_followup = median(days);
    s.on_time_share = (decided > 0).then(|| f64::from(met) / f64::from(decided));
    s
}

impl OpdSummary {
    /// The count of one category.
    pub fn count(&self, c: Category) -> u64 {
        self.categories.get(&c).copied().unwrap_or(0)
    }

    /// The counts in report order: received, each category ([`Category::ALL`]), overdue.
    pub fn counts(&self) -> Vec<u64> {
        std::iter::once(self.received)
            .chain(Category::ALL.iter().map(|c| self.count(*c)))
            .chain(std::iter::once(self.overdue))
            .collect()
    }
}

impl Report {
    /// Builds the report as of `now` over the rows whose first-seen date is in `period`
    /// and that existed at `now`. OPDs appear in code order; the overdue list is most
    /// late first.
    pub fn build(rows: &[ReportRow], period: Period, now: DateTime<Utc>) -> Report {
        let rows: Vec<&ReportRow> = rows
            .iter()
            .filter(|r| period.contains(r.first_seen) && r.created <= now)
            .collect();
        let mut by_opd: BTreeMap<&str, (&str, Vec<&ReportRow>)> = BTreeMap::new();
        let mut uncovered = BTreeSet::new();
        let mut may_move = Vec::new();
        for r in &rows {
            by_opd
                .entry(r.opd.as_str())
                .or_insert_with(|| (r.opd_name.as_str(), Vec::new()))
                .1
                .push(r);
            uncovered.extend(r.clocks.uncovered_years.iter().copied());
            for (name, c) in r.clocks.all() {
                if c.done_at.is_none() && !c.uncovered_years.is_empty() {
                    may_move.push(MayMove {
                        tracking_id: r.tracking_id,
                        clock: name,
                        due: c.due,
                        years: c.uncovered_years.clone(),
                    });
                }
            }
        }
        may_move.sort_by(|a, b| a.due.cmp(&b.due).then(a.tracking_id.cmp(&b.tracking_id)));
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
                    started: c.started,
                    due: c.due,
                    working_days_late: c
                        .working_days
                        .saturating_sub(c.allowed_working_days + c.paused_working_days),
                    perkiraan: c.estimate,
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
        let mut closing: Vec<ClosingItem> = rows
            .iter()
            .filter_map(|r| {
                let at = r.closes_at?;
                Some(ClosingItem {
                    tracking_id: r.tracking_id,
                    opd: r.opd.clone(),
                    last_followup: r.clocks.closing.as_ref()?.started,
                    closes_at: at,
                    link: lapor_link(r.tracking_id),
                })
            })
            .collect();
        closing.sort_by(|a, b| {
            a.closes_at
                .cmp(&b.closes_at)
                .then(a.tracking_id.cmp(&b.tracking_id))
        });
        Report {
            generated_at: now,
            period,
            uncovered_years: uncovered.into_iter().collect(),
            deadlines_may_move: may_move,
            per_opd,
            total,
            overdue,
            closing,
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
        "penutupan" => "penutupan otomatis",
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

fn years_text(years: &[i32]) -> String {
    years
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The warning about years whose SKB days off are missing, in Bahasa Indonesia.
pub fn uncovered_warning_id(years: &[i32], may_move: usize) -> String {
    let y = years_text(years);
    format!(
        "PERINGATAN: daftar libur SKB tahun {y} belum ada di kalender (mappings/calendar.toml). Libur nasional bertanggal tetap (1 Januari, 1 Mei, 1 Juni, 17 Agustus, 25 Desember) sudah diperhitungkan, tetapi libur keagamaan dan cuti bersama tahun itu belum; {may_move} jatuh tempo yang masih berjalan dapat bergeser setelah SKB {y} ditambahkan.\n"
    )
}

/// The report as text for people, in Bahasa Indonesia.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    out.push_str("LAPORAN PENGADUAN SP4N-LAPOR! PEMERINTAH KABUPATEN KULON PROGO\n");
    out.push_str(&format!(
        "Per      : {}\n",
        format_wib_short(r.generated_at)
    ));
    out.push_str(&format!("Periode  : {}\n", period_text(&r.period)));
    if !r.uncovered_years.is_empty() {
        out.push_str(&uncovered_warning_id(
            &r.uncovered_years,
            r.deadlines_may_move.len(),
        ));
    }
    out.push_str("\nRINGKASAN PER OPD (kategori sesuai status di SP4N-LAPOR!)\n");
    let mut headers = vec![("OPD", Align::Left), ("Diterima", Align::Right)];
    headers.extend(Category::ALL.iter().map(|c| (c.label_id(), Align::Right)));
    headers.extend([
        ("Terlambat", Align::Right),
        ("Median hari kerja ke TL pertama", Align::Right),
        ("Tepat waktu", Align::Right),
        ("Nama OPD", Align::Left),
    ]);
    let mut t = Table::new(&headers);
    for s in r.per_opd.iter().chain(std::iter::once(&r.total)) {
        let mut cells = vec![s.opd.clone()];
        cells.extend(s.counts().into_iter().map(|n| n.to_string()));
        cells.extend([
            decimal_id(s.median_working_days_to_first_followup),
            percent(s.on_time_share),
            s.opd_name.clone(),
        ]);
        t.row(cells);
    }
    out.push_str(&t.render());
    out.push_str("BD = Belum Ditindaklanjuti, dipisah menurut sudah/belum sampai ke OPD. TL = tindak lanjut. Setiap baris: Diterima = jumlah semua kategori. Median dan Tepat waktu (bagian tindak lanjut pertama dalam 5 hari kerja setelah disposisi) hanya memakai tindak lanjut yang terjadi setelah waktu disposisi diketahui.\n");
    if r.total.estimated > 0 {
        out.push_str(&format!(
            "{} pengaduan memakai jam SLA (perkiraan): platform tidak memberi waktu mulainya, sehingga dihitung dari pembacaan pertama konektor.\n",
            r.total.estimated
        ));
    }
    out.push_str(&format!("\nPENGADUAN TERLAMBAT ({})\n", r.overdue.len()));
    if r.overdue.is_empty() {
        out.push_str("Tidak ada pengaduan yang terlambat.\n");
    } else {
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
                format!(
                    "{}{}",
                    format_wib_short(o.due),
                    if o.perkiraan { " (perkiraan)" } else { "" }
                ),
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
    }
    out.push_str(&format!(
        "\nAKAN DITUTUP OTOMATIS OLEH SP4N-LAPOR! ({})\n",
        r.closing.len()
    ));
    if r.closing.is_empty() {
        out.push_str("Tidak ada pengaduan Proses yang menunggu penutupan otomatis.\n");
    } else {
        out.push_str("Pengaduan Proses tanpa balasan pelapor ditutup platform 10 hari kerja setelah tindak lanjut terakhir.\n");
        let mut t = Table::new(&[
            ("No. pelacakan", Align::Right),
            ("OPD", Align::Left),
            ("TL terakhir", Align::Left),
            ("Ditutup pada", Align::Left),
            ("Tautan LAPOR!", Align::Left),
        ]);
        for c in &r.closing {
            t.row(vec![
                c.tracking_id.to_string(),
                c.opd.clone(),
                format_wib_short(c.last_followup),
                format_wib_short(c.closes_at),
                c.link.clone(),
            ]);
        }
        out.push_str(&t.render());
    }
    if !r.deadlines_may_move.is_empty() {
        out.push_str(&format!(
            "\nJATUH TEMPO YANG DAPAT BERGESER (tahun {} belum lengkap di kalender)\n",
            years_text(&r.uncovered_years)
        ));
        let mut t = Table::new(&[
            ("No. pelacakan", Align::Right),
            ("Tahap", Align::Left),
            ("Jatuh tempo saat ini", Align::Left),
        ]);
        for m in &r.deadlines_may_move {
            t.row(vec![
                m.tracking_id.to_string(),
                clock_label(m.clock).to_string(),
                format_wib_short(m.due),
            ]);
        }
        out.push_str(&t.render());
    }
    out
}

/// The report as JSON (the [`Report`] structure, times in UTC RFC 3339).
pub fn render_json(r: &Report) -> String {
    serde_json::to_string_pretty(r).expect("a report always serializes")
}

fn summary_fields(s: &OpdSummary, style: CsvStyle) -> Vec<String> {
    let mut fields = vec![s.opd.clone(), s.opd_name.clone()];
    fields.extend(s.counts().into_iter().map(|n| n.to_string()));
    fields.extend([
        s.estimated.to_string(),
        s.median_working_days_to_first_followup
            .map_or(String::new(), |v| style.decimal(v)),
        s.on_time_share
            .map_or(String::new(), |v| format!("{:.0}", v * 100.0)),
    ]);
    fields
}

/// The report as CSV: the per-OPD summary with the `JUMLAH` totals row, then an empty
/// line and the overdue list (as [`render_overdue_csv`]). See [`csv`] for the format.
pub fn render_csv(r: &Report, style: CsvStyle) -> String {
    let mut w = csv::CsvWriter::new(style);
    let mut header = vec!["kode_opd", "nama_opd", "diterima"];
    header.extend(Category::ALL.iter().map(|c| c.key()));
    header.extend([
        "terlambat",
        "perkiraan",
        "median_hari_kerja_ke_tindak_lanjut_pertama",
        "persen_tepat_waktu",
    ]);
    w.record(&header);
    for s in r.per_opd.iter().chain(std::iter::once(&r.total)) {
        w.record(&summary_fields(s, style));
    }
    w.blank();
    overdue_records(&mut w, r);
    w.finish()
}

fn overdue_records(w: &mut csv::CsvWriter, r: &Report) {
    w.record(&[
        "nomor_pelacakan",
        "kode_opd",
        "nama_opd",
        "tahap_terlambat",
        "jatuh_tempo_wib",
        "lewat_hari_kerja",
        "perkiraan",
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
            if o.perkiraan { "ya" } else { "tidak" }.to_string(),
            o.topic.clone().unwrap_or_default(),
            o.kapanewon.clone().unwrap_or_default(),
            if o.rahasia { "ya" } else { "tidak" }.to_string(),
            o.link.clone(),
        ]);
    }
}

/// The overdue list alone as CSV, most late first.
pub fn render_overdue_csv(r: &Report, style: CsvStyle) -> String {
    let mut w = csv::CsvWriter::new(style);
    overdue_records(&mut w, r);
    w.finish()
}
