//! The SLA clocks and the coordinators' report against the simulator, driven across the
//! turn of the year (23 December 2026 to 12 January 2027, its clock moved by the control
//! API): a real pull (auto-dispose on), push and pull again every six hours, into sled on
//! disk.
//!
//! At every checkpoint the report's counts per category equal the ones computed from the
//! simulator's ground truth, and every due date equals an independent computation written
//! here from the contract's rules ("Service levels"), with its own calendar and its own
//! record of what the platform showed. Nothing here calls `sp4n::sla` to compute an
//! expectation. The report as of earlier instants (`sp4n report --at`) over the final
//! store gives the counts recorded at those instants.

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use sp4n::mapping::{MappingRouter, Mappings};
use sp4n::model::{Author, Complaint, Status, WIB};
use sp4n::pull::{Mode, PullOptions};
use sp4n::push::PushOptions;
use sp4n::report::{Category, Period, Report, ReportRow};
use sp4n::sim::{ClockMode, SimHandle, SimOptions};
use sp4n::sla::{Calendar, SlaFacts};
use sp4n::store::Store;
use sp4n::upstream::Client;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------
// The contract's calendar and counting, written out independently.
// ---------------------------------------------------------------------------------------

/// 2026's national holidays and cuti bersama (SKB 3 Menteri 2025), as (month, day).
const OFF_2026: &[(u32, u32)] = &[
    (1, 1),
    (1, 16),
    (2, 16),
    (2, 17),
    (3, 18),
    (3, 19),
    (3, 20),
    (3, 21),
    (3, 22),
    (3, 23),
    (3, 24),
    (4, 3),
    (4, 5),
    (5, 1),
    (5, 14),
    (5, 15),
    (5, 27),
    (5, 28),
    (5, 31),
    (6, 1),
    (6, 16),
    (8, 17),
    (8, 25),
    (12, 24),
    (12, 25),
];

/// "Fixed-date national holidays (1 January, 1 May, 1 June, 17 August, 25 December) hold
/// every year."
const FIXED: &[(u32, u32)] = &[(1, 1), (5, 1), (6, 1), (8, 17), (12, 25)];

fn working(d: NaiveDate) -> bool {
    let md = (d.month(), d.day());
    let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let off = FIXED.contains(&md) || (d.year() == 2026 && OFF_2026.contains(&md));
    !weekend && !off
}

fn wib_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&WIB).date_naive()
}

/// "A clock that starts on a non-working day starts on the next working day, which is
/// day 0; the deadline is the end (23:59:59 WIB) of the Nth working day after day 0."
fn due(start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    let mut d = wib_date(start);
    while !working(d) {
        d = d.succ_opt().unwrap();
    }
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap();
        if working(d) {
            left -= 1;
        }
    }
    WIB.from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap()))
        .unwrap()
        .with_timezone(&Utc)
}

/// Working days paused by a Ditunda interval: each working day after the day it began,
/// up to and including the day it ended.
fn paused_days(from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
    let (mut d, end) = (wib_date(from), wib_date(to));
    let mut n = 0;
    while d < end {
        d = d.succ_opt().unwrap();
        if working(d) {
            n += 1;
        }
    }
    n
}

// ---------------------------------------------------------------------------------------
// What the platform showed, recorded by the test from the ground truth after each pull.
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Seen {
    /// The `diperbarui` of the first version seen with a unit; whether the version seen
    /// before it had none.
    unit: Option<(DateTime<Utc>, bool)>,
    /// Statuses with the `diperbarui` of the version that first showed each.
    statuses: Vec<(DateTime<Utc>, Status)>,
    last: Option<Complaint>,
}

fn record(seen: &mut HashMap<u64, Seen>, sim: &SimHandle) {
    let truth = sim.ground_truth();
    for c in truth.complaints.iter().chain(truth.left_stream.iter()) {
        let s = seen.entry(c.tracking_id).or_default();
        if s.unit.is_none() && c.unit.is_some() {
            s.unit = Some((c.diperbarui, s.last.is_some()));
        }
        if s.statuses.last().map(|x| x.1) != Some(c.status) {
            s.statuses.push((c.diperbarui, c.status));
        }
        s.last = Some(c.clone());
    }
}

/// The category of a complaint from the ground truth: its status, and for Belum
/// Ditindaklanjuti whether the platform shows a unit (or the unit's follow-up).
fn truth_category(c: &Complaint) -> Category {
    match c.status {
        Status::BelumTerverifikasi => Category::BelumTerverifikasi,
        Status::BelumDitindaklanjuti
            if c.unit.is_some() || c.thread.iter().any(|t| t.oleh == Author::Instansi) =>
        {
            Category::MenungguTindakLanjutPertama
        }
        Status::BelumDitindaklanjuti => Category::MenungguDisposisi,
        Status::Proses => Category::Proses,
        Status::Ditunda => Category::Ditunda,
        Status::Selesai => Category::Selesai,
        Status::BukanWewenang => Category::BukanWewenang,
        Status::Arsip => Category::Arsip,
    }
}

/// The expected due dates of one complaint as of `now` (disposition, first follow-up,
/// closing), from the contract's rules and what the test saw.
fn expected_dues(c: &Complaint, s: &Seen, now: DateTime<Utc>) -> [Option<DateTime<Utc>>; 3] {
    let entries = |by: Author| {
        c.thread
            .iter()
            .filter(move |t| t.oleh == by && t.waktu <= now)
            .map(|t| t.waktu)
    };
    // Disposition: from the national admin's verifying/forwarding entry (the simulator
    // writes it with its own text), else dibuat. Paused while Ditunda.
    let forwarding = c
        .thread
        .iter()
        .find(|t| {
            t.oleh == Author::Admin && t.waktu <= now && t.isi == sp4n::sim::texts::ADMIN_NOTES[0]
        })
        .map(|t| t.waktu);
    let start = forwarding.unwrap_or(c.dibuat.expect("the simulator writes dibuat"));
    let unit_at = s.unit.map(|u| u.0).filter(|t| *t <= now);
    let first_instansi = entries(Author::Instansi).min();
    let marks: Vec<&(DateTime<Utc>, Status)> = s.statuses.iter().filter(|m| m.0 <= now).collect();
    let mut closed: Option<DateTime<Utc>> = None;
    for m in &marks {
        if matches!(m.1, Status::Selesai | Status::BukanWewenang | Status::Arsip) {
            closed.get_or_insert(m.0);
        } else {
            closed = None;
        }
    }
    let reached = [unit_at, first_instansi].into_iter().flatten().min();
    let until = reached.or(closed).unwrap_or(now).max(start);
    let mut paused = 0;
    for (i, m) in marks.iter().enumerate() {
        if m.1 != Status::Ditunda {
            continue;
        }
        let from = m.0.max(start);
        if from >= until {
            continue;
        }
        let to = marks.get(i + 1).map_or(until, |n| n.0.min(until));
        paused += paused_days(from, to);
    }
    // Not verified yet: not addressed to the regency, no disposition clock.
    let status_now = marks.last().map(|m| m.1);
    let disposition =
        (status_now != Some(Status::BelumTerverifikasi)).then(|| due(start, 3 + paused));
    // First follow-up: from the first update that carried a unit.
    let first_followup = unit_at
        .map(|u| due(u, 5))
        .or(first_instansi.map(|f| due(f, 5)));
    // Closing: 10 working days after the last instansi follow-up the reporter did not
    // answer.
    let closing = entries(Author::Instansi).max().and_then(|last| {
        let replied = entries(Author::Pelapor).any(|p| p > last);
        (!replied).then(|| due(last, 10))
    });
    [disposition, first_followup, closing]
}

// ---------------------------------------------------------------------------------------

fn mappings_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
}

/// 23 December 2026, 08:00 WIB.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 23, 1, 0, 0).unwrap()
}

fn report_rows(store: &Store, cal: &Calendar, now: DateTime<Utc>) -> Vec<ReportRow> {
    store
        .list_complaints(&Default::default())
        .unwrap()
        .iter()
        .map(|s| ReportRow::from_facts(&SlaFacts::of(s), (s.opd(), s.opd()), None, cal, now))
        .collect()
}

fn counts(r: &Report) -> BTreeMap<Category, u64> {
    r.total.categories.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clocks_and_categories_across_the_turn_of_the_year() {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(1212, 400, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(start());
    so.events_per_day = 40;
    let sim = sp4n::sim::start(so).await.unwrap();
    let client = Client::new(&sim.upstream_config(), sim.token()).unwrap();
    let store_dir = dir.path().join("store");
    let store = Store::open(&store_dir).unwrap();
    let mappings = Arc::new(Mappings::load(&mappings_dir()).unwrap().0);
    let cal = Calendar::load(&mappings_dir().join("calendar.toml"))
        .unwrap()
        .0;
    let end = Utc.with_ymd_and_hms(2027, 1, 12, 11, 0, 0).unwrap();

    let mut seen: HashMap<u64, Seen> = HashMap::new();
    let mut first_read_with_unit: Vec<u64> = Vec::new();
    let mut recorded: Vec<(DateTime<Utc>, BTreeMap<Category, u64>)> = Vec::new();
    let mut compared_dues = 0usize;
    let mut paused_seen = 0usize;
    let mut sources: BTreeMap<String, usize> = BTreeMap::new();
    let mut now = start();
    loop {
        for round in 0..2 {
            let mut o = PullOptions::new(Mode::Pull);
            o.auto_dispose = true;
            let at = now;
            o.clock = Arc::new(move || at);
            let r = sp4n::pull::pull(
                &store,
                &client,
                Arc::new(MappingRouter(mappings.clone())),
                &o,
            )
            .await
            .unwrap();
            assert_eq!(r.set_aside, 0, "{r:?}");
            let before: Vec<u64> = seen.keys().copied().collect();
            record(&mut seen, &sim);
            for (id, s) in &seen {
                if s.unit.is_some_and(|u| !u.1) && !before.contains(id) {
                    first_read_with_unit.push(*id);
                }
            }
            if round == 0 {
                let po = PushOptions {
                    clock: Arc::new(|| Utc::now() + chrono::Duration::days(3650)),
                    ..PushOptions::default()
                };
                sp4n::push::run(&store, &client, &po).await.unwrap();
            }
        }

        // The report as of now, against the ground truth.
        let truth = sim.ground_truth();
        assert_eq!(truth.now, now);
        let rows = report_rows(&store, &cal, now);
        let report = Report::build(&rows, Period::default(), now);
        let mut expected: BTreeMap<Category, u64> =
            Category::ALL.into_iter().map(|c| (c, 0)).collect();
        for c in truth.complaints.iter().chain(truth.left_stream.iter()) {
            *expected.get_mut(&truth_category(c)).unwrap() += 1;
        }
        assert_eq!(counts(&report), expected, "categories at {now}");
        assert_eq!(
            report.total.received,
            (truth.complaints.len() + truth.left_stream.len()) as u64
        );
        for s in report.per_opd.iter().chain(std::iter::once(&report.total)) {
            assert_eq!(s.categories.values().sum::<u64>(), s.received);
        }
        recorded.push((now, expected));

        // Every due date, independently.
        for row in &rows {
            let c = truth.complaint(row.tracking_id).unwrap();
            let s = &seen[&row.tracking_id];
            let [d, f, k] = expected_dues(c, s, now);
            let got_d = row.clocks.disposition.as_ref().map(|x| x.due);
            assert_eq!(got_d, d, "disposition due of {} at {now}", row.tracking_id);
            let got_f = row.clocks.first_followup.as_ref().map(|x| x.due);
            assert_eq!(
                got_f, f,
                "first follow-up due of {} at {now}",
                row.tracking_id
            );
            let got_k = row.clocks.closing.as_ref().map(|x| x.due);
            assert_eq!(got_k, k, "closing due of {} at {now}", row.tracking_id);
            compared_dues += 3;
            if row
                .clocks
                .disposition
                .as_ref()
                .is_some_and(|x| x.paused_working_days > 0)
            {
                paused_seen += 1;
            }
            for (_, k) in row.clocks.all() {
                *sources.entry(format!("{:?}", k.source)).or_insert(0usize) += 1;
            }
            // Disposed upstream before the connector first read it: never awaiting
            // disposition.
            if first_read_with_unit.contains(&row.tracking_id) {
                assert_ne!(
                    row.category,
                    Category::MenungguDisposisi,
                    "{}",
                    row.tracking_id
                );
            }
            assert!(!row.estimate, "{} has dibuat: no estimate", row.tracking_id);
        }

        if now >= end {
            break;
        }
        now += Duration::hours(6);
        sim.set_now(now);
    }
    assert!(recorded.len() > 70);
    assert!(compared_dues > 50_000, "{compared_dues}");
    assert!(
        first_read_with_unit.len() > 50,
        "{}",
        first_read_with_unit.len()
    );
    assert!(paused_seen > 0, "no Ditunda pause was exercised");
    // Every kind of evidence was exercised.
    for s in [
        "AdminEntry",
        "Dibuat",
        "UnitUpdate",
        "UnitAtFirstRead",
        "LastFollowUp",
    ] {
        assert!(sources.get(s).copied().unwrap_or(0) > 0, "{s}: {sources:?}");
    }
    store.flush().unwrap();
    drop(store);

    // `sp4n report --at` over the final store gives what the report said then.
    let cfg = dir.path().join("sp4n.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\n\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\n",
            sim.base_url(),
            sim.token_file().display(),
            sim.ca_file().display(),
            store_dir.display(),
            mappings_dir().display()
        ),
    )
    .unwrap();
    for (at, expected) in [
        &recorded[0],
        &recorded[recorded.len() / 2],
        &recorded[recorded.len() - 1],
    ] {
        let o = support::command(Some(&cfg))
            .args(["report", "--json", "--at", &at.to_rfc3339()])
            .output()
            .await
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for c in Category::ALL {
            assert_eq!(
                v["total"]["categories"][c.key()].as_u64(),
                Some(expected[&c]),
                "{} as of {at}",
                c.key()
            );
        }
    }
    sim.shutdown().await;
}
