//! The agent (`sp4n run`). Runs the `[schedule]` jobs (pull, push, reconcile) on their cron
//! lines with [`crate::schedule::Scheduler`], one at a time, and serves the local HTTP API
//! ([`crate::server`], under `/api/v1`) with `GET /healthz` and `GET /metrics` beside it on
//! `[server] listen` (or `--listen`).
//!
//! * One agent per store: the store's lock refuses a second one (exit 5, with the first
//!   one's PID).
//! * SIGTERM/SIGINT: the running job gets `[schedule] grace_seconds` to finish; every
//!   store write is atomic per page or outbox entry, so a job cut off after the grace time
//!   leaves nothing half-committed; the process exits 0.
//! * SIGHUP: re-reads the configuration after the running job (if any) finished and
//!   rebuilds the scheduler; an invalid new configuration is logged and the old one kept.
//!   The store path and the listen address only change on a restart.
//! * The pull and reconcile jobs load the mapping files at their start
//!   ([`crate::mapping::load_active`]): a valid edit routes from then on; an invalid one is
//!   logged and noted in the run report while the last valid revision keeps routing.
//! * Status: the agent publishes its snapshot to `<store>/agent-status.json` (see
//!   [`super::status`]) whenever a job starts or ends, so `sp4n status` works while the
//!   agent holds the store.
//!
//! When ready, the agent prints one line to stdout:
//! `sp4n agent ready: pid PID, listening on http://ADDR` (tests and scripts wait for it).

use super::AppError;
use super::sync::{self, OnRejected, Vocabulary};
use crate::config::Config;
use crate::mapping::Active;
use crate::pull::Mode;
use crate::report::status::{AgentInfo, JobView};
use crate::schedule::{
    Job, JobError, JobOutcome, JobResult, JobStatus, Scheduler, Shutdown, StatusHandle, StopReason,
    SystemClock, schedules_from_config, shutdown_channel,
};
use crate::store::{RunOutcome, RunReport, Store};
use crate::upstream::Client;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

/// Counters of this process's life (the store keeps the durable totals).
#[derive(Debug, Default)]
struct Counters {
    /// Errors by type: upstream error kinds of pushes, and pull outcomes.
    errors: BTreeMap<String, u64>,
    /// The platform refused the token in the latest pull or push.
    token_refused: bool,
}

/// What the jobs and the HTTP handlers share.
pub struct AgentState {
    store: Store,
    cfg: Mutex<Config>,
    counters: Mutex<Counters>,
    jobs: Mutex<StatusHandle>,
    started: DateTime<Utc>,
    /// The job history the store remembers (survives reloads and restarts).
    memory: Mutex<BTreeMap<String, crate::report::history::JobMemory>>,
    /// The last `/metrics` figures that read every complaint and the calendar.
    metrics_cache: crate::report::MetricsCache,
}

impl AgentState {
    fn cfg(&self) -> Config {
        self.cfg.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn jobs(&self) -> Vec<JobStatus> {
        let live = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot();
        let memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        live.into_iter()
            .map(|j| {
                let m = memory.get(&j.name);
                crate::report::history::merge(j, m)
            })
            .collect()
    }

    /// Records a finished run in the store's job history.
    async fn remember(
        &self,
        job: &str,
        started: DateTime<Utc>,
        result: &crate::schedule::JobResult,
    ) {
        let run = crate::schedule::RunRecord {
            scheduled_for: started,
            started,
            finished: Utc::now(),
            outcome: match result {
                Ok(summary) => JobOutcome::Ok {
                    summary: summary.clone(),
                },
                Err(error) => JobOutcome::Failed {
                    error: error.message.clone(),
                },
            },
        };
        let name = job.to_string();
        match self
            .store
            .run(move |s| crate::report::history::remember(s, &name, run))
            .await
        {
            Ok(m) => {
                self.memory
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(job.to_string(), m);
            }
            Err(e) => tracing::warn!(error = %e, job, "Cannot record the job's run in the store."),
        }
    }

    fn count_error(&self, kind: &str, n: u64) {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *c.errors.entry(kind.to_string()).or_default() += n;
    }

    fn set_token_refused(&self, v: bool) {
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .token_refused = v;
    }

    /// Records a pull, push or reconcile outcome in the counters; the job's result.
    fn judge(&self, r: &RunReport) -> JobResult {
        self.set_token_refused(r.outcome == Some(RunOutcome::TokenRefused));
        let summary = format!(
            "pulled {} (new {}, changed {}), sent {}, set aside {}, held {}",
            r.pulled, r.new, r.changed, r.sent, r.set_aside, r.held
        );
        match r.outcome {
            Some(RunOutcome::Ok) | Some(RunOutcome::Partial) => Ok(summary),
            Some(RunOutcome::TokenRefused) => {
                self.count_error("token_refused", 1);
                Err(JobError::stop(
                    "the platform refused the token; ask the LAPOR! admin for a valid instansi token and update token_file/token_env",
                ))
            }
            Some(RunOutcome::Retry) => {
                self.count_error("unavailable", 1);
                Err(JobError::retry(
                    "the platform was unavailable; the next run retries",
                ))
            }
            Some(RunOutcome::Failed) | None => {
                self.count_error("failed", 1);
                Err(JobError::stop(format!("failed: {}", r.problems.join("; "))))
            }
        }
    }
}

/// A configuration with what its jobs need.
struct JobCtx {
    cfg: Config,
    client: Client,
}

fn job_ctx(cfg: &Config) -> Result<JobCtx, AppError> {
    if let Err(errors) = schedules_from_config(&cfg.schedule) {
        return Err(AppError::Config(
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    if let Some(f) = &cfg.upstream.token_file
        && crate::upstream::token::world_readable(f)
    {
        return Err(AppError::Config(
            crate::upstream::token::world_readable_refusal(f),
        ));
    }
    let client = super::context::client(cfg)?;
    Ok(JobCtx {
        cfg: cfg.clone(),
        client,
    })
}

/// Logs the errors of a rejected mapping edit (the last valid revision keeps routing).
fn log_rejected(active: &Active) {
    for d in active.rejected.iter().flatten() {
        tracing::warn!(
            file = %d.file.display(),
            line = d.line,
            column = d.column,
            message = %d.message,
            kept = active.mappings.revision(),
            "The mapping files are invalid; the last valid revision keeps routing."
        );
    }
}

impl AgentState {
    /// A job's failure as the job's error, counted by type.
    fn failed(&self, e: AppError) -> JobError {
        let retry = e.retryable();
        let message = match e {
            AppError::NoValidMappings(d) => format!(
                "the mapping files are invalid and no valid revision is remembered ({} error(s), first: {}); fix them (sp4n mappings check)",
                d.len(),
                d.first().map(|d| d.message.as_str()).unwrap_or("")
            ),
            AppError::Store(e) => {
                self.count_error("store", 1);
                e.to_string()
            }
            other => other.to_string(),
        };
        JobError { message, retry }
    }
}

/// The pull or reconcile job: [`sync::pull`], as `sp4n pull` and `sp4n reconcile` run it.
pub async fn pull_job(state: &AgentState, cfg: &Config, client: &Client, mode: Mode) -> JobResult {
    let on_rejected: OnRejected<'_> = &log_rejected;
    let report = sync::pull(
        &state.store,
        client,
        cfg,
        mode,
        Vocabulary::WhenDue,
        false,
        on_rejected,
    )
    .await
    .map_err(|e| state.failed(e))?;
    state.judge(&report)
}

/// The push job: [`sync::push`], as `sp4n push` runs it (paused OPDs of the mappings in
/// force skipped; the run saved as the job's last run).
pub async fn push_job(state: &AgentState, cfg: &Config, client: &Client) -> JobResult {
    let (report, pr) = sync::push(&state.store, client, cfg, false, &|_| {})
        .await
        .map_err(|e| state.failed(e))?;
    for (kind, n) in &pr.errors {
        state.count_error(kind, *n);
    }
    state.judge(&report)
}

fn build_scheduler(state: &Arc<AgentState>, jc: Arc<JobCtx>) -> Scheduler {
    let mut sched = Scheduler::new(Arc::new(SystemClock))
        .with_grace(Duration::from_secs(jc.cfg.schedule.grace_seconds));
    let schedules = schedules_from_config(&jc.cfg.schedule).unwrap_or_default();
    for (name, schedule) in schedules {
        let state = state.clone();
        let jc = jc.clone();
        sched.add(Job::new(name, schedule, move |_sd: Shutdown| {
            let state = state.clone();
            let jc = jc.clone();
            async move {
                let started = Utc::now();
                let result = match name {
                    "push" => push_job(&state, &jc.cfg, &jc.client).await,
                    "reconcile" => pull_job(&state, &jc.cfg, &jc.client, Mode::Reconcile).await,
                    _ => pull_job(&state, &jc.cfg, &jc.client, Mode::Pull).await,
                };
                state.remember(name, started, &result).await;
                result
            }
        }));
    }
    sched
}

/// Publishes the status snapshot to the store directory.
async fn publish(state: &Arc<AgentState>) {
    let st = state.clone();
    let jobs: Vec<JobView> = state.jobs().into_iter().map(JobView::from).collect();
    let r = state
        .store
        .run(move |s| {
            let cfg = st.cfg();
            let snap = super::status::snapshot(
                s,
                &cfg,
                Some(jobs),
                Some(AgentInfo {
                    pid: std::process::id(),
                    since: Some(st.started),
                }),
                Utc::now(),
            )
            .map_err(|e| e.to_string())?;
            super::status::publish(s.path(), &snap).map_err(|e| e.to_string())
        })
        .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, "Cannot publish the status for `sp4n status`.");
    }
}

/// Publishes whenever a job starts or ends (a cheap comparison once a second).
async fn publisher(state: Arc<AgentState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let key = |jobs: &[JobStatus]| -> Vec<(u64, bool, Option<DateTime<Utc>>)> {
        jobs.iter()
            .map(|j| (j.runs, j.running, j.next_fire))
            .collect()
    };
    let mut last = None;
    loop {
        let now = key(&state.jobs());
        if last.as_ref() != Some(&now) {
            publish(&state).await;
            last = Some(now);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}

#[derive(Serialize)]
struct JobHealth {
    name: String,
    schedule: String,
    running: bool,
    next_fire: Option<DateTime<Utc>>,
    last_outcome: Option<&'static str>,
    last_finished: Option<DateTime<Utc>>,
    /// How long the last run took.
    last_duration_ms: Option<i64>,
    last_success: Option<DateTime<Utc>>,
}

/// The body of `GET /healthz`.
#[derive(Serialize)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    pub reasons: Vec<String>,
    pub pid: u32,
    pub since: DateTime<Utc>,
    jobs: Vec<JobHealth>,
    pub held: u64,
    pub token_refused: bool,
}

async fn health(state: &Arc<AgentState>) -> Health {
    let held = state.store.run(|s| s.held_count()).await.unwrap_or(0);
    let token_refused = state
        .counters
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .token_refused;
    let mut reasons = Vec::new();
    let mut jobs = Vec::new();
    for j in state.jobs() {
        let last_outcome = j.last_run.as_ref().map(|r| match &r.outcome {
            JobOutcome::Ok { .. } => "ok",
            JobOutcome::Failed { error } => {
                reasons.push(format!("{}: the last run failed: {error}", j.name));
                "failed"
            }
            JobOutcome::Interrupted => {
                reasons.push(format!("{}: the last run was stopped", j.name));
                "interrupted"
            }
        });
        jobs.push(JobHealth {
            last_finished: j.last_run.as_ref().map(|r| r.finished),
            last_duration_ms: j
                .last_run
                .as_ref()
                .map(|r| (r.finished - r.started).num_milliseconds()),
            name: j.name,
            schedule: j.schedule,
            running: j.running,
            next_fire: j.next_fire,
            last_outcome,
            last_success: j.last_success,
        });
    }
    if held > 0 {
        reasons.push(format!(
            "outbox: {held} entries held for a person (sp4n outbox list --held)"
        ));
    }
    if token_refused {
        reasons.push("the platform refused the token".into());
    }
    Health {
        status: if reasons.is_empty() { "ok" } else { "degraded" },
        reasons,
        pid: std::process::id(),
        since: state.started,
        jobs,
        held,
        token_refused,
    }
}

async fn healthz(State(state): State<Arc<AgentState>>) -> impl IntoResponse {
    let h = health(&state).await;
    let code = if h.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(h))
}

async fn metrics(State(state): State<Arc<AgentState>>) -> impl IntoResponse {
    let errors = state
        .counters
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .errors
        .clone();
    let jobs = state.jobs();
    let st = state.clone();
    let r = state
        .store
        .run(move |s| {
            super::metrics::snapshot(s, &st.cfg(), errors, &jobs, Utc::now(), &st.metrics_cache)
        })
        .await;
    match r {
        Ok(m) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            crate::report::metrics::render_prometheus(&m),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            format!("store error: {e}\n"),
        ),
    }
}

/// `GET /healthz` and `GET /metrics`.
pub fn health_router(state: Arc<AgentState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

enum Wake {
    Stop,
    Reload,
}

/// Runs the agent until SIGTERM or SIGINT: `cfg` read from `config_path` (read again on
/// SIGHUP); `listen` overrides `[server] listen`.
pub async fn run(cfg: Config, config_path: &Path, listen: Option<String>) -> Result<(), AppError> {
    let jc = job_ctx(&cfg)?;
    let store = super::context::open_store(&cfg.store_path()).await?;
    let listen = listen.unwrap_or_else(|| cfg.server.listen.clone());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| super::error::listen_error(&listen, &e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::Config(format!("cannot listen on {listen}: {e}")))?;
    let sig =
        |k: SignalKind| signal(k).map_err(|e| AppError::Io(format!("cannot watch signals: {e}")));
    let (mut sigterm, mut sigint, mut sighup) = (
        sig(SignalKind::terminate())?,
        sig(SignalKind::interrupt())?,
        sig(SignalKind::hangup())?,
    );
    let state = Arc::new(AgentState {
        store: store.clone(),
        cfg: Mutex::new(cfg),
        counters: Mutex::new(Counters::default()),
        jobs: Mutex::new(StatusHandle::default()),
        started: Utc::now(),
        memory: Mutex::new(
            store
                .run(|s| crate::report::history::recall(s, &["pull", "push", "reconcile"]))
                .await?,
        ),
        metrics_cache: crate::report::MetricsCache::default(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    // The local HTTP API (under /api/v1) with /healthz and /metrics beside it. Its OPD
    // directory: the revision that routes (the remembered one when the files are invalid).
    let dir = state.cfg().mappings.dir.clone();
    let routing = store
        .run(move |s| crate::mapping::load_active(&dir, s))
        .await
        .map(|a| a.mappings)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "No valid mapping revision; the API knows only the bundled OPD list.");
            Arc::new(crate::mapping::embedded())
        });
    let api = crate::server::AppState::new(
        store.clone(),
        crate::server::OpdDirectory::from_mappings(&routing, crate::mapping::today_wib()),
        state.cfg().server.max_body_bytes,
    );
    let app = crate::server::router_with(api, health_router(state.clone()));
    let limits = crate::server::ServeLimits::from_config(&state.cfg().server);
    let server = tokio::spawn(crate::server::serve_limited(
        listener,
        app,
        limits,
        async move {
            let _ = server_stop.changed().await;
        },
    ));
    let mut jc = Arc::new(jc);
    let mut sched = build_scheduler(&state, jc.clone());
    *state.jobs.lock().unwrap_or_else(|p| p.into_inner()) = sched.status();
    let pub_task = tokio::spawn(publisher(state.clone(), stop_rx));
    tracing::info!(pid = std::process::id(), %addr, store = %store.path().display(), "Agent started.");
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "sp4n agent ready: pid {}, listening on http://{addr}",
            std::process::id()
        );
        let _ = out.flush();
    }
    loop {
        let (trigger, sd) = shutdown_channel();
        let mut task = tokio::spawn(sched.run(sd));
        let mut ended = false;
        let wake = loop {
            tokio::select! {
                r = &mut task, if !ended => {
                    ended = true;
                    if let Ok(StopReason::NothingScheduled) = r {
                        tracing::warn!("No job has a future fire time; waiting for SIGHUP or SIGTERM.");
                    }
                    // Keep serving /healthz; wait for a signal.
                    continue;
                }
                _ = sigterm.recv() => break Wake::Stop,
                _ = sigint.recv() => break Wake::Stop,
                _ = sighup.recv() => break Wake::Reload,
            }
        };
        trigger.trigger();
        if !ended {
            match task.await {
                Ok(StopReason::GraceExceeded) => tracing::warn!(
                    "The running job was stopped after the grace time; its committed work is kept and the next run continues."
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "The scheduler ended abnormally."),
            }
        }
        match wake {
            Wake::Stop => {
                tracing::info!("Stopping: asked to by a signal.");
                break;
            }
            Wake::Reload => {
                let mut reloaded = false;
                match Config::load(config_path)
                    .map_err(|e| AppError::Config(e.to_string()))
                    .and_then(|c| job_ctx(&c))
                {
                    Ok(new) => {
                        if new.cfg.store_path() != state.cfg().store_path() {
                            tracing::warn!(
                                "The store path changed; it takes effect on a restart only."
                            );
                        }
                        *state.cfg.lock().unwrap_or_else(|p| p.into_inner()) = new.cfg.clone();
                        jc = Arc::new(new);
                        reloaded = true;
                    }
                    Err(e) => tracing::error!(
                        error = %e,
                        "The new configuration is invalid; keeping the old one."
                    ),
                }
                sched = build_scheduler(&state, jc.clone());
                *state.jobs.lock().unwrap_or_else(|p| p.into_inner()) = sched.status();
                if reloaded {
                    tracing::info!(
                        zone = %jc.cfg.schedule.zone,
                        pull = jc.cfg.schedule.pull.as_deref(),
                        push = jc.cfg.schedule.push.as_deref(),
                        reconcile = jc.cfg.schedule.reconcile.as_deref(),
                        "Configuration re-read (SIGHUP); scheduler rebuilt."
                    );
                }
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = pub_task.await;
    let _ = server.await;
    let _ = std::fs::remove_file(store.path().join(super::status::AGENT_STATUS_FILE));
    store.run(|s| s.flush()).await?;
    tracing::info!("Agent stopped.");
    Ok(())
}
