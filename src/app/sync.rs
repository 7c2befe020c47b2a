//! The jobs that move complaints between the platform and the store: pull, reconcile,
//! push and sync. `sp4n pull|reconcile|push|sync`, `sp4n store rebuild` and the agent's
//! scheduled jobs call these, so each job refreshes the vocabulary, routes with the
//! mappings in force and records its run the same way wherever it starts.

use super::AppError;
use super::context::{active_mappings, refresh_vocabulary, rejected_notes};
use crate::config::Config;
use crate::mapping::{Active, MappingRouter};
use crate::pull::{Mode, PullOptions};
use crate::push::{PushOptions, PushReport};
use crate::store::{RunOutcome, RunReport, Store};
use crate::upstream::Client;
use std::sync::Arc;

/// When a pull reads the platform's topics and units before routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// Not at all (a rebuild routes with what the mappings were last checked against).
    Skip,
    /// At the first pull, then once a day.
    WhenDue,
    /// Now.
    Now,
}

/// How a caller hears about a rejected mapping edit (the last valid revision routes):
/// the command line prints the diagnostics, the agent logs them.
pub type OnRejected<'a> = &'a (dyn Fn(&Active) + Sync);

/// A pull or reconcile: the vocabulary when due, the mappings in force, then
/// [`crate::pull::pull`] (which saves the run report and the job's run).
pub async fn pull(
    store: &Store,
    client: &Client,
    cfg: &Config,
    mode: Mode,
    vocabulary: Vocabulary,
    progress: bool,
    on_rejected: OnRejected<'_>,
) -> Result<RunReport, AppError> {
    let mut notes = match vocabulary {
        Vocabulary::Skip => Vec::new(),
        Vocabulary::WhenDue => refresh_vocabulary(store, client, false).await?,
        Vocabulary::Now => refresh_vocabulary(store, client, true).await?,
    };
    let active = active_mappings(cfg, store).await?;
    if active.rejected.is_some() {
        on_rejected(&active);
    }
    notes.extend(rejected_notes(active.rejected.as_deref()));
    let mut opts = PullOptions::from_config(mode, cfg);
    opts.progress = progress;
    opts.notes = notes;
    let router = Arc::new(MappingRouter(active.mappings));
    Ok(crate::pull::pull(store, client, router, &opts).await?)
}

/// Push options with the paused OPDs of the mappings in force (the last valid revision
/// when the files are invalid, as for routing).
pub async fn push_options(
    cfg: &Config,
    store: &Store,
    on_rejected: OnRejected<'_>,
) -> Result<PushOptions, AppError> {
    let active = active_mappings(cfg, store).await?;
    if active.rejected.is_some() {
        on_rejected(&active);
    }
    Ok(PushOptions::from_config(cfg).with_paused_from(&active.mappings))
}

/// A push: every eligible outbox entry (`due_now`: also those waiting on backoff), paused
/// OPDs skipped; saved as a run report and as the last run of job `push`.
pub async fn push(
    store: &Store,
    client: &Client,
    cfg: &Config,
    due_now: bool,
    on_rejected: OnRejected<'_>,
) -> Result<(RunReport, PushReport), AppError> {
    let mut opts = push_options(cfg, store, on_rejected).await?;
    opts.due_now = due_now;
    Ok(crate::push::push(store, client, &opts).await?)
}

/// One full cycle: pull (new complaints are routed as they arrive), then push unless the
/// token was refused; one combined report (job `sync`), saved with the others.
pub async fn sync(
    store: &Store,
    client: &Client,
    cfg: &Config,
    progress: bool,
    on_rejected: OnRejected<'_>,
) -> Result<(RunReport, Option<PushReport>), AppError> {
    let pulled = pull(
        store,
        client,
        cfg,
        Mode::Pull,
        Vocabulary::WhenDue,
        progress,
        on_rejected,
    )
    .await?;
    let opts = push_options(cfg, store, &|_| {}).await?;
    let pr = if pulled.outcome == Some(RunOutcome::TokenRefused) {
        None
    } else {
        Some(crate::push::run(store, client, &opts).await?)
    };
    let report = combine(pulled, pr.as_ref());
    let saved = report.clone();
    let id = store.run(move |s| s.save_run_report(&saved)).await?;
    Ok((RunReport { id, ..report }, pr))
}

/// The sync report: the pull's figures, the push's, and the worse of the two outcomes.
pub fn combine(pull: RunReport, push: Option<&PushReport>) -> RunReport {
    let mut r = RunReport {
        id: 0,
        job: "sync".into(),
        ..pull.clone()
    };
    let Some(p) = push else {
        return r;
    };
    p.fill(&mut r);
    let po = pull.outcome.unwrap_or(RunOutcome::Failed);
    let qo = p.outcome.unwrap_or(RunOutcome::Failed);
    use RunOutcome::*;
    r.outcome = Some(match (po, qo) {
        (TokenRefused, _) | (_, TokenRefused) => TokenRefused,
        (Failed, _) | (_, Failed) => Failed,
        // Nothing could be done at all only when both stages got nothing through.
        (Retry, Retry) => Retry,
        (Retry, Ok) if p.done() == 0 && p.held == 0 => Retry,
        (Ok, Ok) => Ok,
        _ => Partial,
    });
    r.finished = Some(chrono::Utc::now());
    r
}
