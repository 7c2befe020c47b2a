//! The scheduler behind `sp4n run`: it owns *when* jobs run, never *what* they do.
//!
//! A [`Job`] is a name, a [`CronSchedule`] (crontab lines as administrators write them,
//! evaluated by the `cron` crate, see [`crontab`]) and an async function. The [`Scheduler`] runs one job at a time: a job whose
//! time comes while another runs waits its turn (and that is logged), and runs once. A
//! fire missed while the machine slept or the wall clock jumped forward runs once when the
//! scheduler notices, not once per missed slot. Sleeps are cut into chunks of at most
//! [`DEFAULT_MAX_SLEEP`] so that wall-clock changes are noticed, and time comes from a
//! [`Clock`] so tests drive it ([`DrivenClock`]) instead of sleeping.
//!
//! Stopping: a [`ShutdownTrigger`] asks the scheduler to stop. The running job is handed a
//! [`Shutdown`] it can check between steps; the scheduler waits for it at most the grace
//! time, then returns. Next fire times and the last run of each job are published through
//! a [`StatusHandle`] (for `sp4n status` and `/metrics`).

pub mod crontab;

pub use crontab::{CronError, CronSchedule, Field};

use crate::config::ScheduleConfig;
use crate::diag::Diagnostic;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Longest single sleep: a wall-clock step or a suspend is noticed within this time.
pub const DEFAULT_MAX_SLEEP: Duration = Duration::from_secs(60);

/// A boxed future, as jobs and clocks return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the scheduler gets the time and how it waits.
pub trait Clock: Send + Sync {
    /// The wall-clock time.
    fn now(&self) -> DateTime<Utc>;
    /// Waits about `d` (the scheduler never asks for more than its max sleep).
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()>;
}

/// The real clock: system time and tokio's timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock for tests: time moves only when someone sleeps or advances it. A sleep returns
/// at once, with the time moved forward by its length, or to a scheduled jump (a suspend
/// or a wall-clock step) if the sleep crosses it.
#[derive(Default)]
pub struct DrivenClock {
    state: Mutex<DrivenState>,
}

#[derive(Default)]
struct DrivenState {
    now: DateTime<Utc>,
    /// `(when a sleep passes this, the time becomes that)`, in order.
    jumps: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    stop_at: Option<(DateTime<Utc>, ShutdownTrigger)>,
    sleeps: Vec<Duration>,
}

impl DrivenClock {
    pub fn new(now: DateTime<Utc>) -> Arc<DrivenClock> {
        let c = DrivenClock::default();
        c.state.lock().expect("clock lock").now = now;
        Arc::new(c)
    }

    /// Moves the time forward (a job taking time).
    pub fn advance(&self, d: Duration) {
        let mut s = self.state.lock().expect("clock lock");
        s.now += chrono::Duration::from_std(d).expect("duration fits");
        Self::check_stop(&mut s);
    }

    /// Sets the time (a wall-clock step, forward or backward).
    pub fn set(&self, t: DateTime<Utc>) {
        let mut s = self.state.lock().expect("clock lock");
        s.now = t;
        Self::check_stop(&mut s);
    }

    /// When a sleep passes `at`, the time becomes `to` (the machine was suspended).
    pub fn jump_when_passing(&self, at: DateTime<Utc>, to: DateTime<Utc>) {
        let mut s = self.state.lock().expect("clock lock");
        s.jumps.push((at, to));
        s.jumps.sort_by_key(|j| j.0);
    }

    /// Triggers `shutdown` once the time reaches `at`.
    pub fn stop_at(&self, at: DateTime<Utc>, shutdown: ShutdownTrigger) {
        self.state.lock().expect("clock lock").stop_at = Some((at, shutdown));
    }

    /// Every sleep asked of this clock so far.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().expect("clock lock").sleeps.clone()
    }

    fn check_stop(s: &mut DrivenState) {
        if let Some((at, trigger)) = &s.stop_at
            && s.now >= *at
        {
            trigger.trigger();
        }
    }
}

impl Clock for DrivenClock {
    fn now(&self) -> DateTime<Utc> {
        self.state.lock().expect("clock lock").now
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        {
            let mut s = self.state.lock().expect("clock lock");
            s.sleeps.push(d);
            let target = s.now + chrono::Duration::from_std(d).expect("duration fits");
            if let Some(i) = s.jumps.iter().position(|(at, _)| *at <= target) {
                let (_, to) = s.jumps.remove(i);
                s.now = to;
            } else {
                s.now = target;
            }
            Self::check_stop(&mut s);
        }
        Box::pin(tokio::task::yield_now())
    }
}

/// Asks the scheduler (and the running job) to stop.
#[derive(Clone, Debug)]
pub struct ShutdownTrigger(Arc<watch::Sender<bool>>);

impl ShutdownTrigger {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

/// Tells a job or the scheduler that stopping was asked for.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// True once stopping was asked for.
    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when stopping is asked for (never, if every trigger is gone unused).
    pub async fn requested(&mut self) {
        loop {
            if *self.0.borrow_and_update() {
                return;
            }
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// A new trigger and the signal it sets.
pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(Arc::new(tx)), Shutdown(rx))
}

/// What a job's function returns: a one-line summary, or what went wrong.
pub type JobResult = Result<String, JobError>;

/// Why a job's run failed, and whether its next scheduled run may succeed without a
/// person acting (the platform was unavailable) or not (token refused, invalid files).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JobError {
    pub message: String,
    pub retry: bool,
}

impl JobError {
    /// A failure the next run may get past on its own.
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retry: true,
        }
    }

    /// A failure that needs a person before a run can succeed.
    pub fn stop(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retry: false,
        }
    }
}

type JobFn = Box<dyn FnMut(Shutdown) -> BoxFuture<'static, JobResult> + Send>;

/// A named, scheduled async function.
pub struct Job {
    name: String,
    schedule: CronSchedule,
    run: JobFn,
}

impl Job {
    /// `f` receives a [`Shutdown`] to check between steps of its work.
    pub fn new<F, Fut>(name: impl Into<String>, schedule: CronSchedule, mut f: F) -> Job
    where
        F: FnMut(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        Job {
            name: name.into(),
            schedule,
            run: Box::new(move |s| Box::pin(f(s))),
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum JobOutcome {
    Ok {
        summary: String,
    },
    Failed {
        error: String,
    },
    /// Stopping was asked for and the job did not finish within the grace time.
    Interrupted,
}

/// One run of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RunRecord {
    /// The fire time this run answered (earlier than `started` when it waited its turn or
    /// the fire was missed).
    pub scheduled_for: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    #[serde(flatten)]
    pub outcome: JobOutcome,
}

/// What `sp4n status` and `/metrics` see of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobStatus {
    pub name: String,
    pub schedule: String,
    pub zone: String,
    pub next_fire: Option<DateTime<Utc>>,
    pub running: bool,
    pub last_run: Option<RunRecord>,
    pub last_success: Option<DateTime<Utc>>,
    pub runs: u64,
}

/// A shared view of the scheduler's jobs, readable while it runs.
#[derive(Clone, Debug, Default)]
pub struct StatusHandle(Arc<Mutex<Vec<JobStatus>>>);

impl StatusHandle {
    pub fn snapshot(&self) -> Vec<JobStatus> {
        self.0.lock().expect("status lock").clone()
    }

    fn update(&self, i: usize, f: impl FnOnce(&mut JobStatus)) {
        if let Some(s) = self.0.lock().expect("status lock").get_mut(i) {
            f(s);
        }
    }
}

/// Why [`Scheduler::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Stopping was asked for; the running job (if any) finished.
    Shutdown,
    /// Stopping was asked for and the running job outlived the grace time; its future was
    /// dropped.
    GraceExceeded,
    /// No job has any future fire.
    NothingScheduled,
}

/// Runs jobs on their schedules, one at a time.
pub struct Scheduler {
    clock: Arc<dyn Clock>,
    jobs: Vec<(Job, Option<DateTime<Utc>>)>,
    last_started: Vec<Option<DateTime<Utc>>>,
    max_sleep: Duration,
    grace: Duration,
    status: StatusHandle,
}

impl Scheduler {
    pub fn new(clock: Arc<dyn Clock>) -> Scheduler {
        Scheduler {
            clock,
            jobs: Vec::new(),
            last_started: Vec::new(),
            max_sleep: DEFAULT_MAX_SLEEP,
            grace: Duration::from_secs(crate::config::DEFAULT_GRACE_SECONDS),
            status: StatusHandle::default(),
        }
    }

    /// How long the running job may take after stopping is asked for.
    pub fn with_grace(mut self, grace: Duration) -> Scheduler {
        self.grace = grace;
        self
    }

    /// The longest single sleep (default [`DEFAULT_MAX_SLEEP`]).
    pub fn with_max_sleep(mut self, max: Duration) -> Scheduler {
        self.max_sleep = max.max(Duration::from_millis(1));
        self
    }

    /// Adds a job. Of jobs due at the same moment, the one that started least recently runs
    /// first, then the order of adding.
    pub fn add(&mut self, job: Job) {
        let next = job.schedule.next_after(self.clock.now());
        self.status.0.lock().expect("status lock").push(JobStatus {
            name: job.name.clone(),
            schedule: job.schedule.source().to_string(),
            zone: job.schedule.zone().name().to_string(),
            next_fire: next,
            running: false,
            last_run: None,
            last_success: None,
            runs: 0,
        });
        self.jobs.push((job, next));
        self.last_started.push(None);
    }

    /// A handle on the jobs' status, valid while and after the scheduler runs.
    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    fn set_next(&mut self, i: usize, next: Option<DateTime<Utc>>) {
        self.jobs[i].1 = next;
        self.status.update(i, |s| s.next_fire = next);
    }

    /// Runs until stopping is asked for.
    pub async fn run(mut self, mut shutdown: Shutdown) -> StopReason {
        let mut last_now = self.clock.now();
        loop {
            if shutdown.is_requested() {
                return StopReason::Shutdown;
            }
            let now = self.clock.now();
            if now < last_now {
                tracing::warn!(
                    from = %last_now,
                    to = %now,
                    "The wall clock went back; recomputing the next fire times."
                );
                for i in 0..self.jobs.len() {
                    let next = self.jobs[i].0.schedule.next_after(now);
                    self.set_next(i, next);
                }
            }
            last_now = now;

            // The earliest due fire first; on a tie the job that started least recently
            // (so that a job that waited its turn is not overtaken again), then the order
            // of adding.
            let due = self
                .jobs
                .iter()
                .enumerate()
                .filter_map(|(i, (_, next))| {
                    next.filter(|n| *n <= now)
                        .map(|n| (n, self.last_started[i], i))
                })
                .min();
            if let Some((scheduled_for, _, i)) = due {
                if let Some(reason) = self.run_one(i, scheduled_for, &mut shutdown).await {
                    return reason;
                }
                last_now = last_now.max(self.clock.now());
                continue;
            }

            let Some(next) = self.jobs.iter().filter_map(|(_, n)| *n).min() else {
                return StopReason::NothingScheduled;
            };
            let wait = (next - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(self.max_sleep);
            let clock = self.clock.clone();
            tokio::select! {
                _ = clock.sleep(wait) => {}
                _ = shutdown.requested() => {}
            }
        }
    }

    async fn run_one(
        &mut self,
        i: usize,
        scheduled_for: DateTime<Utc>,
        shutdown: &mut Shutdown,
    ) -> Option<StopReason> {
        let clock = self.clock.clone();
        let started = clock.now();
        self.last_started[i] = Some(started);
        let name = self.jobs[i].0.name.clone();
        let late = started - scheduled_for;
        if late > chrono::Duration::from_std(self.max_sleep).unwrap_or_default() * 2 {
            tracing::info!(
                job = %name,
                scheduled_for = %scheduled_for,
                late_seconds = late.num_seconds(),
                "A fire was missed (the machine slept, the clock jumped or another job ran long); running once now."
            );
        }
        self.status.update(i, |s| s.running = true);
        tracing::info!(job = %name, "Job started.");
        let fut = (self.jobs[i].0.run)(shutdown.clone());
        let grace = self.grace;
        let mut grace_watch = shutdown.clone();
        let grace_clock = clock.clone();
        let outcome = tokio::select! {
            r = fut => match r {
                Ok(summary) => JobOutcome::Ok { summary },
                Err(e) => {
                    tracing::warn!(job = %name, retry = e.retry, error = %e.message, "Job failed.");
                    JobOutcome::Failed { error: e.message }
                }
            },
            _ = async move {
                grace_watch.requested().await;
                grace_clock.sleep(grace).await;
            } => JobOutcome::Interrupted,
        };
        let finished = clock.now();
        match &outcome {
            JobOutcome::Ok { summary } => tracing::info!(job = %name, %summary, "Job finished."),
            JobOutcome::Failed { error } => tracing::warn!(job = %name, %error, "Job failed."),
            JobOutcome::Interrupted => tracing::warn!(
                job = %name,
                grace_seconds = grace.as_secs(),
                "Job did not finish within the grace time; stopped."
            ),
        }
        let interrupted = outcome == JobOutcome::Interrupted;
        let ok = matches!(outcome, JobOutcome::Ok { .. });
        let record = RunRecord {
            scheduled_for,
            started,
            finished,
            outcome,
        };
        // The next fire after this run's start: a slot that passed while it ran is due at
        // once (and runs once); slots before the start are never replayed.
        let next = self.jobs[i].0.schedule.next_after(started);
        self.status.update(i, |s| {
            s.running = false;
            s.runs += 1;
            if ok {
                s.last_success = Some(finished);
            }
            s.last_run = Some(record);
        });
        self.set_next(i, next);
        if interrupted {
            return Some(StopReason::GraceExceeded);
        }
        for (j, (job, next)) in self.jobs.iter().enumerate() {
            if j != i
                && let Some(n) = next
                && *n <= finished
                && *n > scheduled_for.min(started)
            {
                tracing::info!(
                    job = %job.name,
                    due = %n,
                    waited_for = %name,
                    "Job came due while another ran; it runs next, once."
                );
            }
        }
        None
    }
}

/// The job names of `[schedule]`, in the order they run when due together.
pub const JOB_NAMES: [&str; 3] = ["pull", "push", "reconcile"];

/// A `[schedule]` line that is not a schedule.
#[derive(Debug, thiserror::Error)]
#[error("[schedule] {job}: {error}")]
pub struct ScheduleLineError {
    pub job: &'static str,
    pub error: CronError,
}

/// The zone of `[schedule]`, parsed (the configuration check already refused bad names).
pub fn zone_of(cfg: &ScheduleConfig) -> Tz {
    cfg.zone.parse().unwrap_or(crate::model::WIB)
}

/// The schedules of `[schedule]`: `(job name, schedule)` for every line present.
pub fn schedules_from_config(
    cfg: &ScheduleConfig,
) -> Result<Vec<(&'static str, CronSchedule)>, Vec<ScheduleLineError>> {
    let zone = zone_of(cfg);
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for (job, line) in JOB_NAMES
        .into_iter()
        .zip([&cfg.pull, &cfg.push, &cfg.reconcile])
    {
        if let Some(line) = line {
            match CronSchedule::parse(line, zone) {
                Ok(s) => ok.push((job, s)),
                Err(error) => errors.push(ScheduleLineError { job, error }),
            }
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(errors)
    }
}

/// The `[schedule]` lines' errors as diagnostics pointing into the configuration text.
pub fn config_diagnostics(cfg: &ScheduleConfig, path: &Path, text: &str) -> Vec<Diagnostic> {
    match schedules_from_config(cfg) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| {
                Diagnostic::error(
                    path,
                    text,
                    crate::config::find_key_span(text, e.job),
                    format!("the {} schedule is not a cron line: {}", e.job, e.error),
                    "5 fields as in crontab: minute hour day-of-month month day-of-week (1 = Monday), e.g. \"*/15 * * * *\"",
                )
            })
            .collect(),
    }
}

/// A job name with its next fire time.
pub type NextFire = (&'static str, Option<DateTime<Utc>>);

/// The next fire time of each configured job after `now` (for `sp4n status` when no agent
/// publishes its own).
pub fn next_fires(
    cfg: &ScheduleConfig,
    now: DateTime<Utc>,
) -> Result<Vec<NextFire>, Vec<ScheduleLineError>> {
    Ok(schedules_from_config(cfg)?
        .into_iter()
        .map(|(job, s)| (job, s.next_after(now)))
        .collect())
}
