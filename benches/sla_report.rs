//! Speed of the pure parts of issue 6: SLA clocks and the coordinators' report over a
//! realistic year of complaints and over ten times that, cron evaluation, and the
//! scheduler's idle loop (one simulated day of a waiting agent on a driven clock).
//!
//! Run: `cargo bench --bench sla_report`. Prints the median of several rounds.

use chrono::{DateTime, Duration, Utc};
use sp4n::model::{Author, Complaint, Status, ThreadEntry, TopicRef, WIB, parse_timestamp};
use sp4n::report::{CsvStyle, Period, Report, ReportRow};
use sp4n::schedule::{CronSchedule, DrivenClock, Job, Scheduler, shutdown_channel};
use sp4n::sla::Calendar;
use std::path::Path;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn time<F: FnMut()>(rounds: usize, mut f: F) -> f64 {
    median(
        (0..rounds)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    )
}

fn complaints(
    n: u64,
    start: DateTime<Utc>,
) -> Vec<(Complaint, DateTime<Utc>, Option<DateTime<Utc>>)> {
    (0..n)
        .map(|i| {
            let seen = start + Duration::minutes((i * 263) as i64 % (365 * 24 * 60));
            let disposed = (i % 5 != 0).then(|| seen + Duration::hours((i % 97) as i64));
            let thread = match disposed {
                Some(d) if i % 3 != 0 => vec![ThreadEntry {
                    transaksi_id: format!("TL-{i}"),
                    oleh: Author::Instansi,
                    unit: None,
                    waktu: d + Duration::hours((i % 211) as i64),
                    ref_: None,
                    isi: String::new(),
                }],
                _ => vec![],
            };
            let c = Complaint {
                tracking_id: 1_900_000 + i,
                rahasia: i % 30 == 0,
                anonim: false,
                judul: String::new(),
                isi: String::new(),
                klasifikasi: None,
                topik: Some(TopicRef {
                    id: "2".into(),
                    name: "Kesehatan".into(),
                }),
                tags: vec![],
                kanal: None,
                lokasi: None,
                pelapor: None,
                status: if i % 7 == 0 {
                    Status::Selesai
                } else {
                    Status::Proses
                },
                unit: None,
                dibuat: Some(seen),
                diperbarui: seen + Duration::days(20),
                lampiran: vec![],
                thread,
            };
            (c, seen, disposed)
        })
        .collect()
}

fn main() {
    let cal = Calendar::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/calendar.toml"))
        .unwrap()
        .0;
    let start = parse_timestamp("2026-01-01T08:00:00+07:00").unwrap();
    let now = parse_timestamp("2026-12-30T10:00:00+07:00").unwrap();
    let opds = [
        "DINKES",
        "DPUPKP",
        "DISHUB",
        "DLH",
        "SATPOLPP",
        "KAP-WATES",
        "ADMIN",
    ];
    for n in [2_000u64, 20_000] {
        let input = complaints(n, start);
        let mut rows = Vec::new();
        let clocks_ms = time(7, || {
            rows = input
                .iter()
                .enumerate()
                .map(|(i, (c, seen, disposed))| {
                    let opd = opds[i % opds.len()];
                    let facts = sp4n::sla::SlaFacts {
                        local_disposition: *disposed,
                        ..sp4n::sla::SlaFacts::first_read(c, *seen)
                    };
                    ReportRow::from_facts(&facts, (opd, opd), None, &cal, now)
                })
                .collect();
        });
        let mut report = None;
        let build_ms = time(7, || {
            report = Some(Report::build(&rows, Period::default(), now))
        });
        let report = report.unwrap();
        let render_ms = time(7, || {
            let _ = sp4n::report::render_text(&report);
            let _ = sp4n::report::render_json(&report);
            let _ = sp4n::report::render_csv(&report, CsvStyle::Comma);
            let _ = sp4n::report::render_overdue_csv(&report, CsvStyle::Comma);
        });
        println!(
            "{n} complaints: clocks {clocks_ms:.2} ms, report build {build_ms:.2} ms, render text+json+csv {render_ms:.2} ms ({} overdue)",
            report.overdue.len()
        );
    }

    let lines = [
        "*/15 * * * *",
        "*/5 * * * *",
        "30 2 * * *",
        "0 8 * * MON-FRI",
        "0 0 29 2 *",
    ];
    for line in lines {
        let s = CronSchedule::parse(line, WIB).unwrap();
        let calls = 10_000;
        let ms = time(5, || {
            let mut t = now;
            for _ in 0..calls {
                t = s.next_after(t).unwrap_or(now);
            }
        });
        println!(
            "next_after(\"{line}\"): {:.2} µs per call",
            ms * 1000.0 / calls as f64
        );
    }

    // A waiting agent: the default three jobs doing nothing, one simulated day.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut sleeps = 0;
    let day_ms = time(5, || {
        let clock = DrivenClock::new(now);
        let mut s = Scheduler::new(clock.clone());
        for line in ["*/15 * * * *", "*/5 * * * *", "30 2 * * *"] {
            s.add(Job::new(
                line,
                CronSchedule::parse(line, WIB).unwrap(),
                |_| async { Ok(String::new()) },
            ));
        }
        let (stop, shutdown) = shutdown_channel();
        clock.stop_at(now + Duration::days(1), stop);
        rt.block_on(s.run(shutdown));
        sleeps = clock.sleeps().len();
    });
    println!(
        "scheduler, one simulated day of the default schedule ({sleeps} wake-ups, 385 empty runs): {day_ms:.2} ms, {:.2} µs per wake-up",
        day_ms * 1000.0 / sleeps as f64
    );
}
