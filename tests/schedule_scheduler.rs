//! The scheduler of `sp4n run` on a driven clock: fire times in WIB, no overlap, a missed
//! fire runs once, bounded sleeps, stopping. No test sleeps for real.

use chrono::{DateTime, Utc};
use sp4n::config::ScheduleConfig;
use sp4n::model::{WIB, format_wib, parse_timestamp};
use sp4n::schedule::{
    Clock, CronSchedule, DrivenClock, Job, JobOutcome, Scheduler, StopReason, shutdown_channel,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn t(s: &str) -> DateTime<Utc> {
    parse_timestamp(s).unwrap()
}

fn cron(line: &str) -> CronSchedule {
    CronSchedule::parse(line, WIB).unwrap()
}

/// `(job, started, finished)` of every run, in WIB.
type Log = Arc<Mutex<Vec<(String, String, String)>>>;

/// A job that records its run and takes `work` of driven time.
fn recording_job(
    name: &str,
    line: &str,
    clock: &Arc<DrivenClock>,
    log: &Log,
    work: Duration,
) -> Job {
    let (clock, log, n) = (clock.clone(), log.clone(), name.to_string());
    Job::new(name, cron(line), move |_shutdown| {
        let (clock, log, n) = (clock.clone(), log.clone(), n.clone());
        async move {
            let started = clock.now();
            clock.advance(work);
            log.lock()
                .unwrap()
                .push((n, format_wib(started), format_wib(clock.now())));
            Ok(String::new())
        }
    })
}

/// A scheduler with recording jobs `(name, cron line, seconds of work)`.
fn scheduler(clock: &Arc<DrivenClock>, log: &Log, jobs: &[(&str, &str, u64)]) -> Scheduler {
    let mut s = Scheduler::new(clock.clone());
    for (name, line, secs) in jobs {
        s.add(recording_job(
            name,
            line,
            clock,
            log,
            Duration::from_secs(*secs),
        ));
    }
    s
}

fn starts(log: &Log, name: &str) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, s, _)| s.clone())
        .collect()
}

#[tokio::test]
async fn jobs_fire_at_their_wib_times_with_monday_as_1() {
    // Friday 27 Nov 2026, 23:00 WIB.
    let clock = DrivenClock::new(t("2026-11-27T23:00:00+07:00"));
    let log = Log::default();
    let s = scheduler(
        &clock,
        &log,
        &[
            ("weekday", "30 7 * * 1-5", 0),
            ("sunday", "0 6 * * 7", 0),
            ("seconds", "15 0 12 * * MON", 0),
        ],
    );
    let (stop, shutdown) = shutdown_channel();
    clock.stop_at(t("2026-12-01T23:00:00+07:00"), stop);
    assert_eq!(s.run(shutdown).await, StopReason::Shutdown);
    assert_eq!(
        starts(&log, "weekday"),
        ["2026-11-30T07:30:00+07:00", "2026-12-01T07:30:00+07:00"]
    );
    assert_eq!(starts(&log, "sunday"), ["2026-11-29T06:00:00+07:00"]);
    assert_eq!(starts(&log, "seconds"), ["2026-11-30T12:00:15+07:00"]);
}

#[tokio::test]
async fn jobs_never_overlap_and_a_waiting_job_runs_once() {
    let clock = DrivenClock::new(t("2026-11-30T08:00:30+07:00"));
    let log = Log::default();
    // pull takes 3.5 minutes and is due every minute; push is due every minute too.
    let s = scheduler(
        &clock,
        &log,
        &[("pull", "* * * * *", 210), ("push", "* * * * *", 10)],
    );
    let (stop, shutdown) = shutdown_channel();
    clock.stop_at(t("2026-11-30T08:12:00+07:00"), stop);
    s.run(shutdown).await;

    let runs = log.lock().unwrap().clone();
    // No two runs overlap.
    for w in runs.windows(2) {
        assert!(w[0].2 <= w[1].1, "overlap: {:?} and {:?}", w[0], w[1]);
    }
    // Each job runs once per turn, alternating: push, due at 08:01 while pull ran,
    // waited its turn and ran once, not once per minute it waited.
    let order: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        &order[..6],
        ["pull", "push", "pull", "push", "pull", "push"]
    );
    assert_eq!(runs[0].1, "2026-11-30T08:01:00+07:00");
    assert_eq!(runs[1].1, "2026-11-30T08:04:30+07:00");
    assert_eq!(runs[2].1, "2026-11-30T08:04:40+07:00");
}

#[tokio::test]
async fn a_fire_missed_while_asleep_runs_once_on_wake() {
    let clock = DrivenClock::new(t("2026-11-30T10:00:30+07:00"));
    let log = Log::default();
    let s = scheduler(
        &clock,
        &log,
        &[("pull", "* * * * *", 0), ("reconcile", "30 2 * * *", 0)],
    );
    // The machine is suspended at 10:00:45 and wakes three days later at 10:00:50.
    clock.jump_when_passing(
        t("2026-11-30T10:00:45+07:00"),
        t("2026-12-03T10:00:50+07:00"),
    );
    let (stop, shutdown) = shutdown_channel();
    clock.stop_at(t("2026-12-03T10:02:30+07:00"), stop);
    s.run(shutdown).await;
    // Thousands of minute slots and three 02:30 slots were missed: each job runs once on
    // wake, then keeps its schedule.
    assert_eq!(
        starts(&log, "pull"),
        [
            "2026-12-03T10:00:50+07:00",
            "2026-12-03T10:01:00+07:00",
            "2026-12-03T10:02:00+07:00"
        ]
    );
    assert_eq!(starts(&log, "reconcile"), ["2026-12-03T10:00:50+07:00"]);
    // Every sleep was bounded, so the wake was noticed within a minute.
    assert!(clock.sleeps().iter().all(|d| *d <= Duration::from_secs(60)));
}

#[tokio::test]
async fn sleeps_are_bounded_even_for_a_daily_job() {
    let clock = DrivenClock::new(t("2026-11-30T03:00:00+07:00"));
    let log = Log::default();
    let s = scheduler(&clock, &log, &[("reconcile", "30 2 * * *", 0)]);
    let (stop, shutdown) = shutdown_channel();
    clock.stop_at(t("2026-12-01T03:00:00+07:00"), stop);
    s.run(shutdown).await;
    assert_eq!(starts(&log, "reconcile"), ["2026-12-01T02:30:00+07:00"]);
    let sleeps = clock.sleeps();
    assert!(sleeps.len() >= 23 * 60, "{} sleeps", sleeps.len());
    assert!(sleeps.iter().all(|d| *d <= Duration::from_secs(60)));
}

#[tokio::test]
async fn a_clock_stepped_back_does_not_hold_jobs_hostage() {
    let clock = DrivenClock::new(t("2026-11-30T10:00:30+07:00"));
    let log = Log::default();
    let mut s = scheduler(&clock, &log, &[("pull", "*/5 * * * *", 0)]);
    let (stop, shutdown) = shutdown_channel();
    s.add(Job::new("stopper", cron("41 9 * * *"), move |_| {
        let stop = stop.clone();
        async move {
            stop.trigger();
            Ok(String::new())
        }
    }));
    // At 10:04 the wall clock is corrected back to 09:30; the 09:35 slot runs (not
    // tomorrow's), and so does the stopper at 09:41 today.
    clock.jump_when_passing(
        t("2026-11-30T10:04:00+07:00"),
        t("2026-11-30T09:30:00+07:00"),
    );
    s.run(shutdown).await;
    assert_eq!(
        starts(&log, "pull"),
        ["2026-11-30T09:35:00+07:00", "2026-11-30T09:40:00+07:00"]
    );
}

#[tokio::test]
async fn stopping_lets_the_current_step_finish() {
    let clock = DrivenClock::new(t("2026-11-30T10:00:30+07:00"));
    let (stop, shutdown) = shutdown_channel();
    let steps = Arc::new(Mutex::new(0u32));
    let mut s = Scheduler::new(clock.clone()).with_grace(Duration::from_secs(30));
    let (c, st, trigger) = (clock.clone(), steps.clone(), stop.clone());
    s.add(Job::new("pull", cron("* * * * *"), move |shutdown| {
        let (c, st, trigger) = (c.clone(), st.clone(), trigger.clone());
        async move {
            // Ten pages; SIGTERM arrives during page 3; the job stops between pages.
            for page in 1..=10 {
                c.advance(Duration::from_secs(1));
                *st.lock().unwrap() += 1;
                if page == 3 {
                    trigger.trigger();
                }
                if shutdown.is_requested() {
                    return Ok(format!("stopped after page {page}"));
                }
            }
            Ok("done".into())
        }
    }));
    let status = s.status();
    assert_eq!(s.run(shutdown).await, StopReason::Shutdown);
    assert_eq!(*steps.lock().unwrap(), 3);
    let job = &status.snapshot()[0];
    assert_eq!(
        job.last_run.as_ref().unwrap().outcome,
        JobOutcome::Ok {
            summary: "stopped after page 3".into()
        }
    );
    assert!(!job.running);
}

#[tokio::test]
async fn a_job_that_outlives_the_grace_time_is_stopped() {
    let clock = DrivenClock::new(t("2026-11-30T10:00:30+07:00"));
    let (stop, shutdown) = shutdown_channel();
    let mut s = Scheduler::new(clock.clone()).with_grace(Duration::from_secs(30));
    s.add(Job::new("push", cron("* * * * *"), move |_| {
        let stop = stop.clone();
        async move {
            stop.trigger();
            std::future::pending::<()>().await;
            Ok(String::new())
        }
    }));
    let status = s.status();
    assert_eq!(s.run(shutdown).await, StopReason::GraceExceeded);
    let job = &status.snapshot()[0];
    assert_eq!(
        job.last_run.as_ref().unwrap().outcome,
        JobOutcome::Interrupted
    );
    assert_eq!(
        format_wib(job.last_run.as_ref().unwrap().finished),
        "2026-11-30T10:01:30+07:00"
    );
}

#[tokio::test]
async fn status_publishes_next_fires_and_outcomes() {
    let clock = DrivenClock::new(t("2026-11-30T10:00:30+07:00"));
    let mut s = Scheduler::new(clock.clone());
    s.add(Job::new("pull", cron("*/15 * * * *"), |_| async {
        Err(sp4n::schedule::JobError::retry("upstream: timeout"))
    }));
    let status = s.status();
    assert_eq!(
        status.snapshot()[0].next_fire,
        Some(t("2026-11-30T10:15:00+07:00"))
    );
    let (stop, shutdown) = shutdown_channel();
    clock.stop_at(t("2026-11-30T10:16:00+07:00"), stop);
    s.run(shutdown).await;
    let job = &status.snapshot()[0];
    assert_eq!(job.next_fire, Some(t("2026-11-30T10:30:00+07:00")));
    assert_eq!(job.runs, 1);
    assert_eq!(job.last_success, None);
    assert_eq!(
        job.last_run.as_ref().unwrap().outcome,
        JobOutcome::Failed {
            error: "upstream: timeout".into()
        }
    );
    assert_eq!(job.zone, "Asia/Jakarta");
}

#[test]
fn the_default_schedule_config_parses_and_bad_lines_name_the_job_and_field() {
    let cfg = ScheduleConfig::default();
    let fires = sp4n::schedule::next_fires(&cfg, t("2026-11-30T10:07:00+07:00")).unwrap();
    let names: Vec<_> = fires.iter().map(|f| f.0).collect();
    assert_eq!(names, ["pull", "push", "reconcile"]);
    assert_eq!(fires[0].1, Some(t("2026-11-30T10:15:00+07:00")));
    assert_eq!(fires[2].1, Some(t("2026-12-01T02:30:00+07:00")));

    let cfg = ScheduleConfig {
        push: Some("*/5 * * * MON-FRY".into()),
        ..ScheduleConfig::default()
    };
    let text = "[schedule]\npush = \"*/5 * * * MON-FRY\"\n";
    let d = sp4n::schedule::config_diagnostics(&cfg, std::path::Path::new("sp4n.toml"), text);
    assert_eq!(d.len(), 1);
    let msg = d[0].to_string();
    assert!(msg.contains("sp4n.toml:2:8"), "{msg}");
    assert!(
        msg.contains("the push schedule is not a cron line: day of week field 'FRY': 'FRY' is not a number; allowed: 0-7 or SUN-SAT (1 = Monday"),
        "{msg}"
    );
}
