//! The coordinators' report, `sp4n status` and `/metrics`, rendered from fixed rows and
//! snapshots with the shipped calendar. Snapshots live in tests/snapshots/.

use chrono::{DateTime, NaiveDate, Utc};
use sp4n::model::{
    Author, Complaint, Location, Reporter, Status, StreamKey, ThreadEntry, TopicRef,
    parse_timestamp,
};
use sp4n::report::status::{
    AgentInfo, HeldEntry, JobView, MappingsView, OutboxView, SetAsideItem, SetAsideView, StoreView,
};
use sp4n::report::{
    Category, CsvStyle, MetricsSnapshot, Period, Report, ReportRow, StatusSnapshot, metrics, status,
};
use sp4n::schedule::{JobOutcome, RunRecord};
use sp4n::sla::{Calendar, SlaFacts, SlaState};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn t(s: &str) -> DateTime<Utc> {
    parse_timestamp(s).unwrap()
}

fn calendar() -> Calendar {
    Calendar::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/calendar.toml"))
        .unwrap()
        .0
}

const NOW: &str = "2026-12-30T10:00:00+07:00";
const SECRET_NAME: &str = "Sri Lestari Wulandari";
const SECRET_TEXT: &str = "isi aduan rahasia tentang pejabat";

struct Fixture {
    id: u64,
    opd: (&'static str, &'static str),
    status: Status,
    rahasia: bool,
    topic: &'static str,
    kapanewon: Option<&'static str>,
    first_seen: &'static str,
    disposed: Option<&'static str>,
    thread: &'static [(Author, &'static str)],
    updated: &'static str,
}

const DINKES: (&str, &str) = ("DINKES", "Dinas Kesehatan");
const DPUPKP: (&str, &str) = (
    "DPUPKP",
    "Dinas Pekerjaan Umum Perumahan dan Kawasan Permukiman",
);

fn fixtures() -> Vec<Fixture> {
    use Author::{Instansi, Pelapor};
    vec![
        Fixture {
            id: 1001,
            opd: DINKES,
            status: Status::Proses,
            rahasia: false,
            topic: "Kesehatan",
            kapanewon: Some("Wates"),
            first_seen: "2026-11-02T09:00:00+07:00",
            disposed: Some("2026-11-03T10:00:00+07:00"),
            thread: &[
                (Instansi, "2026-11-09T10:00:00+07:00"),
                (Pelapor, "2026-11-10T10:00:00+07:00"),
            ],
            updated: "2026-11-10T10:00:00+07:00",
        },
        Fixture {
            id: 1002,
            opd: DINKES,
            status: Status::BelumDitindaklanjuti,
            rahasia: false,
            topic: "Kesehatan",
            kapanewon: Some("Sentolo"),
            first_seen: "2026-12-14T08:00:00+07:00",
            disposed: Some("2026-12-15T08:00:00+07:00"),
            thread: &[],
            updated: "2026-12-15T08:00:00+07:00",
        },
        Fixture {
            id: 1003,
            opd: DPUPKP,
            status: Status::BelumDitindaklanjuti,
            rahasia: false,
            topic: "Jalan dan Jembatan",
            kapanewon: Some("Kokap"),
            first_seen: "2026-12-18T20:00:00+07:00",
            disposed: None,
            thread: &[],
            updated: "2026-12-18T20:00:00+07:00",
        },
        Fixture {
            id: 1004,
            opd: DPUPKP,
            status: Status::Selesai,
            rahasia: false,
            topic: "Drainase",
            kapanewon: Some("Galur"),
            first_seen: "2026-11-02T09:00:00+07:00",
            disposed: Some("2026-11-09T09:00:00+07:00"),
            thread: &[(Instansi, "2026-11-20T09:00:00+07:00")],
            updated: "2026-12-01T09:00:00+07:00",
        },
        Fixture {
            id: 1005,
            opd: ("KAP-KOKAP", "Kapanewon Kokap"),
            status: Status::BelumDitindaklanjuti,
            rahasia: true,
            topic: "Pemerintahan Kalurahan dan Dana Desa",
            kapanewon: Some("Kokap"),
            first_seen: "2026-12-01T09:00:00+07:00",
            disposed: Some("2026-12-02T09:00:00+07:00"),
            thread: &[],
            updated: "2026-12-02T09:00:00+07:00",
        },
        Fixture {
            id: 1006,
            opd: ("ADMIN", "Meja triase Diskominfo"),
            status: Status::BelumTerverifikasi,
            rahasia: false,
            topic: "Lainnya",
            kapanewon: None,
            first_seen: "2026-12-28T09:00:00+07:00",
            disposed: None,
            thread: &[],
            updated: "2026-12-28T09:00:00+07:00",
        },
        Fixture {
            id: 1007,
            opd: ("DISHUB", "Dinas Perhubungan"),
            status: Status::BelumDitindaklanjuti,
            rahasia: false,
            topic: "Perhubungan",
            kapanewon: Some("Temon"),
            first_seen: "2026-12-28T09:00:00+07:00",
            disposed: Some("2026-12-29T09:00:00+07:00"),
            thread: &[],
            updated: "2026-12-29T09:00:00+07:00",
        },
        Fixture {
            id: 1008,
            opd: DINKES,
            status: Status::Proses,
            rahasia: false,
            topic: "Kesehatan",
            kapanewon: Some("Pengasih"),
            first_seen: "2026-11-04T09:00:00+07:00",
            disposed: Some("2026-11-04T11:00:00+07:00"),
            thread: &[(Instansi, "2026-11-05T09:00:00+07:00")],
            updated: "2026-11-05T09:00:00+07:00",
        },
        Fixture {
            id: 1009,
            opd: DPUPKP,
            status: Status::Proses,
            rahasia: false,
            topic: "Jalan dan Jembatan",
            kapanewon: Some("Lendah"),
            first_seen: "2026-11-10T09:00:00+07:00",
            disposed: Some("2026-11-11T09:00:00+07:00"),
            thread: &[(Instansi, "2026-11-13T09:00:00+07:00")],
            updated: "2026-11-13T09:00:00+07:00",
        },
    ]
}

fn complaint(f: &Fixture) -> Complaint {
    Complaint {
        tracking_id: f.id,
        rahasia: f.rahasia,
        anonim: false,
        judul: format!("Judul {SECRET_TEXT}"),
        isi: SECRET_TEXT.into(),
        klasifikasi: Some("Pengaduan".into()),
        topik: Some(TopicRef {
            id: "x".into(),
            name: f.topic.into(),
        }),
        tags: vec![],
        kanal: Some("web".into()),
        lokasi: Some(Location {
            kode: "34.01.08.2001".into(),
            name: "Hargomulyo".into(),
        }),
        pelapor: Some(Reporter {
            namadepan: SECRET_NAME.into(),
            namabelakang: String::new(),
            email: "sri@example.org".into(),
            telpon: "081234567890".into(),
        }),
        status: f.status,
        unit: None,
        dibuat: Some(t(f.first_seen)),
        diperbarui: t(f.updated),
        lampiran: vec![],
        thread: f
            .thread
            .iter()
            .enumerate()
            .map(|(i, (oleh, waktu))| ThreadEntry {
                transaksi_id: format!("TL-{}-{i}", f.id),
                oleh: *oleh,
                unit: None,
                waktu: t(waktu),
                ref_: None,
                isi: SECRET_TEXT.into(),
            })
            .collect(),
    }
}

fn rows() -> Vec<ReportRow> {
    let cal = calendar();
    fixtures()
        .iter()
        .map(|f| {
            let c = complaint(f);
            let facts = SlaFacts {
                local_disposition: f.disposed.map(t),
                ..SlaFacts::first_read(&c, t(f.first_seen))
            };
            ReportRow::from_facts(&facts, f.opd, f.kapanewon.map(String::from), &cal, t(NOW))
        })
        .collect()
}

fn report() -> Report {
    Report::build(&rows(), Period::default(), t(NOW))
}

fn assert_no_personal_data(out: &str) {
    for secret in [
        SECRET_NAME,
        SECRET_TEXT,
        "sri@example.org",
        "081234567890",
        "Hargomulyo",
    ] {
        assert!(!out.contains(secret), "'{secret}' leaked into:\n{out}");
    }
}

#[test]
fn figures_per_opd() {
    let r = report();
    let by: BTreeMap<&str, _> = r.per_opd.iter().map(|s| (s.opd.as_str(), s)).collect();
    let dinkes = by["DINKES"];
    // received; belum terverifikasi, menunggu disposisi, menunggu TL pertama, proses,
    // ditunda, selesai, bukan wewenang, arsip; overdue.
    assert_eq!(dinkes.counts(), [3, 0, 0, 1, 2, 0, 0, 0, 0, 1]);
    // 1001: 4 working days, 1008: 1 -> median 2.5; 2 met of 3 decided (1002 overdue).
    assert_eq!(dinkes.median_working_days_to_first_followup, Some(2.5));
    assert_eq!(dinkes.on_time_share, Some(2.0 / 3.0));
    let dpupkp = by["DPUPKP"];
    assert_eq!(dpupkp.counts(), [3, 0, 1, 0, 1, 0, 1, 0, 0, 1]);
    // 1004 met late (9 days), 1009 on time (2 days).
    assert_eq!(dpupkp.median_working_days_to_first_followup, Some(5.5));
    assert_eq!(dpupkp.on_time_share, Some(0.5));
    assert_eq!(r.total.received, 9);
    assert_eq!(r.total.overdue, 3);
    // Every row adds up to its total, the JUMLAH row to the rows above it.
    for s in r.per_opd.iter().chain(std::iter::once(&r.total)) {
        assert_eq!(s.categories.values().sum::<u64>(), s.received, "{}", s.opd);
    }
    for c in Category::ALL {
        assert_eq!(
            r.per_opd.iter().map(|s| s.count(c)).sum::<u64>(),
            r.total.count(c)
        );
    }
    // 1006 is not verified yet: it is not addressed to the regency, no clock runs.
    let r1006 = rows().into_iter().find(|r| r.tracking_id == 1006).unwrap();
    assert_eq!(r1006.category, Category::BelumTerverifikasi);
    assert!(r1006.clocks.disposition.is_none());
    // 1009's closing clock ran out (the platform's to close), which is not "overdue".
    let r1009 = rows().into_iter().find(|r| r.tracking_id == 1009).unwrap();
    assert_eq!(r1009.clocks.closing.unwrap().state, SlaState::Overdue);
}

#[test]
fn overdue_list_is_most_late_first_with_links_and_hides_rahasia_places() {
    let r = report();
    let ids: Vec<u64> = r.overdue.iter().map(|o| o.tracking_id).collect();
    assert_eq!(ids, [1005, 1002, 1003]);
    assert_eq!(r.overdue[0].link, "https://www.lapor.go.id/pengaduan/1005");
    assert_eq!(r.overdue[0].kapanewon, None);
    assert_eq!(r.overdue[0].working_days_late, 13);
    assert_eq!(r.overdue[2].clock, "disposisi");
    assert_eq!(r.overdue[2].working_days_late, 3);
    // 1007's follow-up clock runs into 2027, which the calendar lacks.
    assert_eq!(r.uncovered_years, vec![2027]);
}

#[test]
fn period_filters_on_the_wib_date_first_seen() {
    let p = Period {
        from: NaiveDate::from_ymd_opt(2026, 12, 1),
        to: NaiveDate::from_ymd_opt(2026, 12, 18),
    };
    let r = Report::build(&rows(), p, t(NOW));
    assert_eq!(r.total.received, 3); // 1002, 1003 (18 Dec 20:00 WIB), 1005
    assert!(r.uncovered_years.is_empty());
    let text = sp4n::report::render_text(&r);
    assert!(
        text.contains("diterima 2026-12-01 s.d. 2026-12-18"),
        "{text}"
    );
}

#[test]
fn report_text() {
    let out = sp4n::report::render_text(&report());
    assert_no_personal_data(&out);
    insta::assert_snapshot!("report_text", out);
}

#[test]
fn report_json() {
    let out = sp4n::report::render_json(&report());
    assert_no_personal_data(&out);
    insta::assert_snapshot!("report_json", out);
}

#[test]
fn report_csv_both_styles() {
    let r = report();
    let comma = sp4n::report::render_csv(&r, CsvStyle::Comma);
    let semi = sp4n::report::render_csv(&r, CsvStyle::Semicolon);
    let overdue = sp4n::report::render_overdue_csv(&r, CsvStyle::Comma);
    for out in [&comma, &semi, &overdue] {
        assert_no_personal_data(out);
        assert!(out.starts_with('\u{feff}'));
        assert!(out.ends_with("\r\n"));
        // Every record has as many fields as its table's header (no field holds a
        // delimiter); the summary and the overdue list are separated by an empty line.
        let d = if out == &semi { ';' } else { ',' };
        for table in out.split("\r\n\r\n") {
            let counts: Vec<usize> = table.lines().map(|l| l.matches(d).count()).collect();
            assert!(counts.windows(2).all(|w| w[0] == w[1]), "{out}");
        }
    }
    // The CSV has what the text report has: the JUMLAH row and the overdue list.
    let (summary, overdue_part) = comma.split_once("\r\n\r\n").unwrap();
    assert!(
        summary.contains("\r\nJUMLAH,Seluruh OPD,9,1,1,3,3,0,1,0,0,3,"),
        "{summary}"
    );
    assert_eq!(overdue_part, overdue.trim_start_matches('\u{feff}'));
    assert!(semi.contains(";2,5;67"), "{semi}");
    insta::assert_snapshot!("report_csv_comma", comma);
    insta::assert_snapshot!("report_csv_semicolon", semi);
    insta::assert_snapshot!("report_overdue_csv", overdue);
}

fn status_snapshot() -> StatusSnapshot {
    let run = |start: &str, end: &str, outcome| RunRecord {
        scheduled_for: t(start),
        started: t(start),
        finished: t(end),
        outcome,
    };
    StatusSnapshot {
        generated_at: t(NOW),
        agent: Some(AgentInfo {
            pid: 4242,
            since: Some(t("2026-12-29T07:00:00+07:00")),
        }),
        jobs: vec![
            JobView {
                name: "pull".into(),
                schedule: Some("*/15 * * * *".into()),
                next_fire: Some(t("2026-12-30T10:15:00+07:00")),
                last_run: Some(run(
                    "2026-12-30T10:00:00+07:00",
                    "2026-12-30T10:00:04+07:00",
                    JobOutcome::Ok {
                        summary: "12 pulled, 0 set aside".into(),
                    },
                )),
                last_success: Some(t("2026-12-30T10:00:04+07:00")),
            },
            JobView {
                name: "push".into(),
                schedule: Some("*/5 * * * *".into()),
                next_fire: Some(t("2026-12-30T10:05:00+07:00")),
                last_run: Some(run(
                    "2026-12-30T10:00:04+07:00",
                    "2026-12-30T10:00:09+07:00",
                    JobOutcome::Failed {
                        error: "upstream unreachable (connect); retrying later".into(),
                    },
                )),
                last_success: Some(t("2026-12-30T09:55:02+07:00")),
            },
            JobView {
                name: "reconcile".into(),
                schedule: None,
                next_fire: None,
                last_run: None,
                last_success: None,
            },
        ],
        cursor: Some(StreamKey {
            sejak: t("2026-12-30T09:58:12+07:00"),
            setelah: Some(1916449),
        }),
        outbox: OutboxView {
            depth: 4,
            held: vec![HeldEntry {
                tracking_id: 1916450,
                action: "disposition".into(),
                reason: "VALIDATION: unit 2499 unknown; fix opd.toml and release the entry".into(),
                since: t("2026-12-29T14:00:00+07:00"),
            }],
            oldest_queued: Some(t("2026-12-29T14:00:00+07:00")),
        },
        set_aside: SetAsideView {
            count: 1,
            recent: vec![SetAsideItem {
                tracking_id: Some(1916399),
                reason: "status label 'Diproses' is not configured".into(),
                at: t("2026-12-28T08:15:00+07:00"),
            }],
        },
        mappings: MappingsView {
            active_revision: Some("3f9a2c1e".into()),
            disk_revision: None,
            files_valid: true,
            errors: vec![],
            calendar_years: vec![2026],
            calendar_missing_years: vec![2027],
            vocabulary: vec![],
            calendar_deadlines_may_move: 3,
        },
        store: StoreView {
            path: PathBuf::from("/var/lib/sp4n/store"),
            size_bytes: 13_002_342,
            complaints: 1834,
        },
    }
}

#[test]
fn status_text_and_json() {
    let s = status_snapshot();
    let problems = s.problems();
    assert_eq!(problems.len(), 4, "{problems:?}");
    let text = status::render_text(&s);
    assert!(text.starts_with("sp4n status at 2026-12-30 10:00 WIB: ATTENTION (4 problem(s))"));
    insta::assert_snapshot!("status_text", text);
    let json = status::render_json(&s);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["healthy"], false);
    insta::assert_snapshot!("status_json", json);
}

#[test]
fn a_healthy_status_says_ok() {
    let mut s = status_snapshot();
    s.jobs.truncate(1);
    s.outbox.held.clear();
    s.set_aside = SetAsideView::default();
    s.mappings.calendar_missing_years.clear();
    let text = status::render_text(&s);
    assert!(
        text.starts_with("sp4n status at 2026-12-30 10:00 WIB: OK\n"),
        "{text}"
    );
    s.mappings.files_valid = false;
    s.mappings.errors = vec!["error: unknown OPD code 'DINKESS' (rules.toml:12:10)".into()];
    let text = status::render_text(&s);
    assert!(text.contains("files on disk INVALID"), "{text}");
    assert!(text.contains("ATTENTION (1 problem(s))"), "{text}");
}

#[test]
fn prometheus_metrics() {
    let r = report();
    let mut overdue_by_opd = BTreeMap::new();
    for o in &r.overdue {
        *overdue_by_opd.entry(o.opd.clone()).or_insert(0) += 1;
    }
    let m = MetricsSnapshot {
        pulled_total: 1834,
        pushed_total: [("disposition", 1201), ("followup", 2210), ("status", 640)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        set_aside_total: [("malformed".to_string(), 3)].into_iter().collect(),
        errors_total: [("timeout", 7), ("rate_limited", 2), ("validation", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        outbox_depth: 4,
        outbox_held: 1,
        job_last_success: [
            ("pull".to_string(), Some(t("2026-12-30T10:00:04+07:00"))),
            ("push".to_string(), Some(t("2026-12-30T09:55:02+07:00"))),
            ("reconcile".to_string(), None),
        ]
        .into_iter()
        .collect(),
        overdue_by_opd,
        calendar_covers_current_year: true,
        ..Default::default()
    };
    let out = metrics::render_prometheus(&m);
    assert!(
        out.contains("sp4n_overdue_complaints{opd=\"KAP-KOKAP\"} 1\n"),
        "{out}"
    );
    assert!(out.contains("sp4n_job_last_success_timestamp_seconds{job=\"reconcile\"} 0\n"));
    // Every sample line is `name{labels} value` or `name value`.
    for line in out.lines().filter(|l| !l.starts_with('#')) {
        let (_, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    insta::assert_snapshot!("metrics", out);
}

#[test]
fn jobs_from_config_show_next_fires_in_wib() {
    let cfg = sp4n::config::ScheduleConfig {
        reconcile: None,
        ..Default::default()
    };
    let jobs = status::jobs_from_config(&cfg, t("2026-12-30T10:07:00+07:00"));
    let view: Vec<(String, Option<String>, Option<DateTime<Utc>>)> = jobs
        .into_iter()
        .map(|j| (j.name, j.schedule, j.next_fire))
        .collect();
    assert_eq!(
        view,
        [
            (
                "pull".into(),
                Some("*/15 * * * *".into()),
                Some(t("2026-12-30T10:15:00+07:00"))
            ),
            (
                "push".into(),
                Some("*/5 * * * *".into()),
                Some(t("2026-12-30T10:10:00+07:00"))
            ),
            ("reconcile".into(), None, None),
        ]
    );
}

#[test]
fn a_clock_started_from_the_first_read_is_marked_perkiraan_in_every_view() {
    let cal = calendar();
    // No dibuat and no admin entry: the disposition clock starts at the connector's
    // first read, an estimate.
    let mut c = complaint(&fixtures()[2]);
    c.dibuat = None;
    let facts = SlaFacts::first_read(&c, t("2026-12-18T20:00:00+07:00"));
    let row = ReportRow::from_facts(&facts, DPUPKP, None, &cal, t(NOW));
    assert!(row.estimate);
    let r = Report::build(&[row], Period::default(), t(NOW));
    assert_eq!(r.total.estimated, 1);
    assert!(r.overdue[0].perkiraan);
    let text = sp4n::report::render_text(&r);
    assert!(text.contains("2026-12-23 23:59 WIB (perkiraan)"), "{text}");
    assert!(
        text.contains("1 pengaduan memakai jam SLA (perkiraan)"),
        "{text}"
    );
    let json = sp4n::report::render_json(&r);
    assert!(json.contains("\"perkiraan\": true"), "{json}");
    assert!(json.contains("\"estimated\": 1"), "{json}");
    let csv = sp4n::report::render_csv(&r, CsvStyle::Comma);
    assert!(csv.contains(",disposisi,2026-12-23 23:59,3,ya,"), "{csv}");
    assert!(
        csv.contains("JUMLAH,Seluruh OPD,1,0,1,0,0,0,0,0,0,1,1,,"),
        "{csv}"
    );
}

#[test]
fn as_of_an_earlier_instant_later_facts_do_not_count() {
    let cal = calendar();
    // 1001 was disposed on 3 Nov and answered on 9 Nov: as of 5 Nov it awaited its
    // first follow-up; as of 1 Nov it did not exist yet.
    let f = &fixtures()[0];
    let c = complaint(f);
    let facts = SlaFacts {
        local_disposition: f.disposed.map(t),
        ..SlaFacts::first_read(&c, t(f.first_seen))
    };
    let at = t("2026-11-05T12:00:00+07:00");
    let row = ReportRow::from_facts(&facts, DINKES, None, &cal, at);
    assert_eq!(row.first_followup_at, None);
    assert!(row.clocks.closing.is_none());
    let ff = row.clocks.first_followup.as_ref().unwrap();
    assert_eq!(ff.done_at, None);
    let early = t("2026-11-01T12:00:00+07:00");
    let rows = [ReportRow::from_facts(&facts, DINKES, None, &cal, early)];
    assert_eq!(
        Report::build(&rows, Period::default(), early)
            .total
            .received,
        0
    );
}
