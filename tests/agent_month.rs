//! End to end over a simulated month: the agent's jobs (pull with the shipped mappings and
//! auto-dispose, then push) on the scheduler with a driven clock against the simulator,
//! whose clock moves with it. At the end every complaint is pulled and routed, every
//! disposition applied upstream exactly once, and the report's overdue list equals what
//! the simulator's ground truth implies (computed with `sp4n::sla`).

use chrono::{DateTime, Duration as CDuration, TimeZone, Utc};
use sp4n::mapping::{MappingRouter, Mappings};
use sp4n::pull::{Mode, PullOptions};
use sp4n::push::PushOptions;
use sp4n::report::{Period, Report, ReportRow};
use sp4n::schedule::{CronSchedule, DrivenClock, Job, Scheduler, shutdown_channel};
use sp4n::sim::{ClockMode, SimHandle, SimOptions};
use sp4n::sla::Calendar;
use sp4n::store::{OutboxState, Store};
use sp4n::upstream::Client;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Monday 2 November 2026, 08:00 WIB.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
}

struct World {
    sim: SimHandle,
    store: Store,
    client: Client,
    mappings: Arc<Mappings>,
}

async fn pull(w: &World, clock: Arc<DrivenClock>) -> sp4n::schedule::JobResult {
    let mut o = PullOptions::new(Mode::Pull);
    o.auto_dispose = true;
    o.page_size = 200;
    o.backoff = std::time::Duration::ZERO;
    let c = clock.clone();
    o.clock = Arc::new(move || sp4n::schedule::Clock::now(c.as_ref()));
    let r = sp4n::pull::pull(
        &w.store,
        &w.client,
        Arc::new(MappingRouter(w.mappings.clone())),
        &o,
    )
    .await
    .map_err(|e| sp4n::schedule::JobError::stop(e.to_string()))?;
    Ok(format!("pulled {}", r.pulled))
}

async fn push(w: &World, clock: Arc<DrivenClock>) -> sp4n::schedule::JobResult {
    let c = clock.clone();
    // Outbox entries are queued at the wall-clock time: the push clock never runs behind it.
    let o = PushOptions {
        clock: Arc::new(move || sp4n::schedule::Clock::now(c.as_ref()).max(Utc::now())),
        ..PushOptions::default()
    };
    let r = sp4n::push::run(&w.store, &w.client, &o)
        .await
        .map_err(|e| sp4n::schedule::JobError::stop(e.to_string()))?;
    Ok(format!("sent {}", r.done()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_ticks_pulls_routes_disposes_and_reports_who_is_late() {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(64, 120, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(t0());
    so.events_per_day = 6;
    let sim = sp4n::sim::start(so).await.unwrap();
    let client = Client::new(&sim.upstream_config(), sim.token()).unwrap();
    let mdir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let mappings = Arc::new(Mappings::load(&mdir).unwrap().0);
    let cal = Calendar::load(&mdir.join("calendar.toml")).unwrap().0;
    let store = Store::open(&dir.path().join("store")).unwrap();
    let w = Arc::new(World {
        sim,
        store,
        client,
        mappings,
    });

    // The agent's schedule: pull every 2 hours on working hours, push 10 minutes later.
    let clock = DrivenClock::new(t0());
    let zone = sp4n::model::WIB;
    let mut sched =
        Scheduler::new(clock.clone()).with_max_sleep(std::time::Duration::from_secs(3600));
    for (name, line) in [("pull", "0 */2 * * *"), ("push", "10 */2 * * *")] {
        let (w, clock) = (w.clone(), clock.clone());
        sched.add(Job::new(
            name,
            CronSchedule::parse(line, zone).unwrap(),
            move |_| {
                let (w, clock) = (w.clone(), clock.clone());
                async move {
                    // The platform's clock follows the agent's.
                    w.sim.set_now(sp4n::schedule::Clock::now(clock.as_ref()));
                    if name == "pull" {
                        pull(&w, clock).await
                    } else {
                        push(&w, clock).await
                    }
                }
            },
        ));
    }
    let status = sched.status();
    let (trigger, shutdown) = shutdown_channel();
    let end = t0() + CDuration::days(30);
    clock.stop_at(end, trigger);
    sched.run(shutdown).await;
    let now = sp4n::schedule::Clock::now(clock.as_ref());
    w.sim.set_now(now);
    // A last pull so that the store sees the platform as it is now.
    pull(&w, clock.clone()).await.unwrap();
    push(&w, clock.clone()).await.unwrap();

    let jobs = status.snapshot();
    assert!(jobs.iter().all(|j| j.runs >= 300), "{jobs:?}");
    assert!(jobs.iter().all(|j| j.last_success.is_some()));

    // Every complaint pulled and routed.
    let truth = w.sim.ground_truth();
    let truth_ids: BTreeSet<u64> = truth.complaints.iter().map(|c| c.tracking_id).collect();
    let stored = w.store.list_complaints(&Default::default()).unwrap();
    let stored_ids: BTreeSet<u64> = stored.iter().map(|s| s.tracking_id()).collect();
    assert!(truth_ids.len() > 120, "the month added complaints");
    let missing: Vec<_> = truth_ids.difference(&stored_ids).collect();
    assert!(missing.is_empty(), "never pulled: {missing:?}");
    assert!(stored.iter().all(|s| s.routing.is_some()));

    // Every disposition applied upstream exactly once (or held by the platform's rules).
    let outbox = w.store.outbox_all().unwrap();
    let mut done = 0;
    for e in &outbox {
        match e.state {
            OutboxState::Done { .. } => {
                done += 1;
                assert_eq!(truth.applied(&e.ref_), 1, "{}", e.ref_);
            }
            OutboxState::Held { .. } => assert_eq!(truth.applied(&e.ref_), 0),
            ref s => panic!("entry {} not delivered: {s:?}", e.seq),
        }
    }
    assert!(done > 50, "only {done} dispositions delivered");
    assert!(truth.writes_applied.values().all(|n| *n == 1));
    for s in &stored {
        if s.disposed_at.is_some() {
            let unit = w.mappings.opd(s.opd()).and_then(|o| o.unit_id.clone());
            let up = truth.complaint(s.tracking_id()).unwrap();
            assert_eq!(
                up.unit.as_ref().map(|u| u.id.clone()),
                unit,
                "{}",
                s.tracking_id()
            );
        }
    }

    // The report's overdue list, against the clocks of the ground truth.
    let rows: Vec<ReportRow> = stored
        .iter()
        .map(|s| {
            ReportRow::from_facts(
                &sp4n::sla::SlaFacts::of(s),
                (s.opd(), s.opd()),
                None,
                &cal,
                now,
            )
        })
        .collect();
    let report = Report::build(&rows, Period::default(), now);
    let listed: BTreeSet<u64> = report.overdue.iter().map(|o| o.tracking_id).collect();
    let expected: BTreeSet<u64> = stored
        .iter()
        .filter(|s| {
            let c = truth.complaint(s.tracking_id()).unwrap();
            let facts = sp4n::sla::SlaFacts {
                complaint: c,
                ..sp4n::sla::SlaFacts::of(s)
            };
            sp4n::sla::clocks(&facts, &cal, now).is_overdue()
        })
        .map(|s| s.tracking_id())
        .collect();
    assert_eq!(listed, expected);
    for o in &report.overdue {
        assert_eq!(
            o.link,
            format!("https://www.lapor.go.id/pengaduan/{}", o.tracking_id)
        );
    }
}
