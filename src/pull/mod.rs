//! The pull stage: brings every complaint addressed to Kulon Progo into the store, once,
//! complete, and keeps it current.
//!
//! [`pull`] pages through `getstream` with keyset paging (the `<lanjut>` key is passed back
//! unchanged), starting `overlap_seconds` behind the saved cursor so late-visible items are
//! caught; content hashes drop what is already known. Each page's records, their history
//! events, the queued auto-dispositions and the advanced cursor are committed in one store
//! transaction and flushed before the next request, so a crash at any moment resumes from
//! the last stored page and never stores an event twice.
//!
//! **The cursor and set-aside items.** The cursor only moves to the key of the last item
//! of a page that was committed (never backwards). A malformed `<laporan>` inside a good
//! page is kept whole in quarantine (raw XML and reason) in the same transaction, so the
//! cursor may pass it: it is stored, not lost, `sp4n quarantine list` shows it, and when
//! the platform corrects it its `diperbarui` moves and it comes back through the stream. A
//! page that cannot be read at all (truncated, invalid) is quarantined as raw bytes, the
//! cursor stays before it and the run ends as partial: nothing unseen is ever skipped.
//!
//! [`Mode::Reconcile`] re-reads the whole stream, repairs what differs, and checks stored
//! complaints that are no longer in the stream with `getlaporan` (`FORBIDDEN`,
//! `NOT_FOUND`, `Bukan Wewenang`, `Arsip`), recording that they left. A complaint whose
//! pulled update already says `Bukan Wewenang` or `Arsip` (the stream shows that final
//! update) is recorded as having left right away, without another request.
//!
//! New complaints are routed once, when first stored: to the OPD of the unit the platform
//! already disposed them to, else through the caller's [`Router`] ([`platform`]); later
//! pulls never re-route, except that a re-disposition by the national admin moves the
//! local routing to the OPD of the new unit (unknown unit: `ADMIN` triage) and holds a
//! disposition still queued to another unit.

mod diff;
pub mod platform;

pub use diff::changes;

use crate::model::{Complaint, Status, StreamKey, TrackingId};
use crate::store::{
    ADMIN_OPD, EventKind, NewOutboxEntry, NewQuarantine, PageCommit, RoutedBy, Routing, RunOutcome,
    RunReport, Store, StoreError, StoredComplaint, content_hash,
};
use crate::upstream::{Action, Client, ErrorCode, RawComplaint, UpstreamError};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

/// Where a full re-read starts: before any complaint the platform can hold.
pub fn beginning_of_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()
}

/// A routing decision for a new complaint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDecision {
    pub opd: String,
    pub rule_id: String,
}

/// What the pull needs from the mapping stage.
pub trait Router: Send + Sync {
    /// Routes a complaint seen for the first time.
    fn route(&self, c: &Complaint) -> RouteDecision;
    /// The revision of the mapping files in force.
    fn revision(&self) -> String;
    /// The local OPD of an upstream unit id, when known.
    fn opd_for_unit(&self, unit_id: &str) -> Option<String>;
    /// The upstream unit id of a local OPD, when known (needed to auto-dispose).
    fn unit_for_opd(&self, opd: &str) -> Option<String>;
}

/// The router used until mappings are configured: everything to `ADMIN` triage.
#[derive(Clone, Debug, Default)]
pub struct FallbackRouter;

impl Router for FallbackRouter {
    fn route(&self, _c: &Complaint) -> RouteDecision {
        RouteDecision {
            opd: ADMIN_OPD.into(),
            rule_id: "fallback".into(),
        }
    }
    fn revision(&self) -> String {
        "none".into()
    }
    fn opd_for_unit(&self, _unit_id: &str) -> Option<String> {
        None
    }
    fn unit_for_opd(&self, _opd: &str) -> Option<String> {
        None
    }
}

/// Incremental pull or full reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Pull,
    Reconcile,
}

impl Mode {
    pub fn job(self) -> &'static str {
        match self {
            Mode::Pull => "pull",
            Mode::Reconcile => "reconcile",
        }
    }
}

/// How a run behaves.
#[derive(Clone)]
pub struct PullOptions {
    pub mode: Mode,
    /// How far behind the saved cursor an incremental pull starts.
    pub overlap: Duration,
    pub page_size: u32,
    /// Attempts per request for temporary failures (5xx, HTML, timeouts).
    pub max_attempts: u32,
    /// First backoff between attempts; doubles each time.
    pub backoff: Duration,
    /// Total time one run may wait on `Retry-After`.
    pub wait_budget: Duration,
    /// Queue a disposition for complaints routed to an OPD other than `ADMIN`.
    pub auto_dispose: bool,
    /// Show a progress bar (only when stderr is a terminal; the caller decides).
    pub progress: bool,
    /// Stop after this many pages (the run ends as partial; the next run continues).
    pub max_pages: Option<u64>,
    /// The clock for `first_seen` and routing times.
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// Problems found before the run (e.g. a rejected mapping edit), carried into its report.
    pub notes: Vec<String>,
}

impl std::fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("mode", &self.mode)
            .field("overlap", &self.overlap)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl PullOptions {
    pub fn new(mode: Mode) -> Self {
        PullOptions {
            mode,
            overlap: Duration::from_secs(crate::config::DEFAULT_OVERLAP_SECONDS),
            page_size: crate::config::DEFAULT_PAGE_SIZE,
            max_attempts: 4,
            backoff: Duration::from_secs(2),
            wait_budget: Duration::from_secs(crate::config::DEFAULT_WAIT_BUDGET_SECONDS),
            auto_dispose: false,
            progress: false,
            max_pages: None,
            clock: Arc::new(Utc::now),
            notes: Vec::new(),
        }
    }

    /// Options from the configuration file.
    pub fn from_config(mode: Mode, cfg: &crate::config::Config) -> Self {
        PullOptions {
            overlap: Duration::from_secs(cfg.upstream.overlap_seconds),
            page_size: cfg.upstream.page_size,
            wait_budget: Duration::from_secs(cfg.push.wait_budget_seconds),
            auto_dispose: cfg.mappings.auto_dispose,
            ..PullOptions::new(mode)
        }
    }
}

/// The exit code a finished run maps to (see the CLI's exit-code table).
pub fn exit_code(report: &RunReport) -> i32 {
    match report.outcome {
        Some(RunOutcome::Ok) if report.held == 0 && report.set_aside == 0 => 0,
        Some(RunOutcome::Ok) | Some(RunOutcome::Partial) => 1,
        Some(RunOutcome::TokenRefused) => 3,
        Some(RunOutcome::Retry) => 4,
        Some(RunOutcome::Failed) | None => 5,
    }
}

/// Why a request could not be completed within the run.
enum Stop {
    Token(UpstreamError),
    Unavailable(UpstreamError),
    Unreadable { reason: String, raw: Vec<u8> },
}

/// One run of the pull (or reconcile). Upstream problems end in the report's outcome;
/// only store errors are errors.
pub async fn pull(
    store: &Store,
    client: &Client,
    router: Arc<dyn Router>,
    opts: &PullOptions,
) -> Result<RunReport, StoreError> {
    let run_id = store.run(|s| s.new_run_id()).await?;
    let cursor_before = store.run(|s| s.cursor()).await?;
    let mut report = RunReport {
        id: run_id,
        job: opts.mode.job().into(),
        started: Some(Utc::now()),
        cursor_before,
        problems: opts.notes.clone(),
        ..Default::default()
    };
    let mut key = match (opts.mode, cursor_before) {
        (Mode::Pull, Some(c)) => {
            let back = chrono::Duration::from_std(opts.overlap).unwrap_or_default();
            StreamKey::since(c.sejak - back)
        }
        _ => StreamKey::since(beginning_of_time()),
    };
    let mut cursor = cursor_before;
    let mut committed = cursor_before;
    let mut seen: HashSet<TrackingId> = HashSet::new();
    let mut budget = opts.wait_budget;
    let bar = progress_bar(opts.progress);
    let mut complete = false;
    loop {
        let page = match fetch(opts, &mut budget, || {
            client.get_stream(&key, opts.page_size)
        })
        .await
        {
            Ok(p) => p,
            Err(stop) => {
                end_with(store, &mut report, stop, run_id).await?;
                break;
            }
        };
        report.pages += 1;
        report.pulled += page.items.len() as u64;
        let last_key = page.items.iter().map(|i| i.complaint.key()).max();
        if let Some(k) = last_key {
            cursor = Some(cursor.map_or(k, |c| c.max(k)));
        }
        if opts.mode == Mode::Reconcile {
            seen.extend(page.items.iter().map(|i| i.complaint.tracking_id));
        }
        // An unreadable item whose tracking id is known is read alone with getlaporan
        // now, instead of waiting for the nightly reconcile.
        let mut items = page.items;
        let mut set_aside: Vec<NewQuarantine> = Vec::new();
        for a in page.set_aside {
            if let Some(id) = a.tracking_id
                && let Ok(fresh) = fetch(opts, &mut budget, || client.get_laporan(id)).await
            {
                info!(
                    tracking_id = id,
                    "Read a set-aside complaint alone (getlaporan)."
                );
                report.pulled += 1;
                items.push(fresh);
                continue;
            }
            warn!(
                tracking_id = a.tracking_id,
                reason = %a.reason,
                "Set aside a complaint."
            );
            set_aside.push(NewQuarantine {
                tracking_id: a.tracking_id,
                reason: a.reason,
                raw: a.raw.into_bytes(),
            });
        }
        report.set_aside += set_aside.len() as u64;
        let read_ids: Vec<TrackingId> = items.iter().map(|i| i.complaint.tracking_id).collect();
        let counts = commit_items(
            store,
            router.clone(),
            opts,
            items,
            set_aside,
            cursor.filter(|c| Some(*c) != committed),
            run_id,
        )
        .await?;
        committed = cursor;
        // Complaints set aside earlier and read fine now are no longer set aside.
        let healed = store.run(move |s| s.heal_quarantine(&read_ids)).await?;
        if healed > 0 {
            info!(
                healed,
                "Cleared set-aside items whose complaint was read fine."
            );
        }
        report.new += counts.new;
        report.changed += counts.changed;
        report.unchanged += counts.unchanged;
        if let Some(b) = &bar {
            b.set_message(format!(
                "{} pulled, {} new, {} changed",
                report.pulled, report.new, report.changed
            ));
            b.tick();
        }
        info!(page = report.pages, records = report.pulled, "Pulled page.");
        match page.next {
            Some(_) if opts.max_pages.is_some_and(|m| report.pages >= m) => {
                report.problems.push(format!(
                    "stopped after {} pages as asked; the next run continues from the cursor",
                    report.pages
                ));
                break;
            }
            Some(next) => key = next,
            None => {
                complete = true;
                break;
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if complete && opts.mode == Mode::Reconcile {
        check_left(
            store,
            client,
            router.clone(),
            opts,
            &seen,
            &mut report,
            &mut budget,
        )
        .await?;
    }
    // Every page from the cursor on was read: unreadable pages set aside earlier were
    // read fine this time. A complete reconcile with nothing set aside read every
    // complaint fine, so items whose tracking id was unreadable are cleared too.
    if complete && report.outcome.is_none() {
        let before = report.started.unwrap_or_else(Utc::now);
        let all = opts.mode == Mode::Reconcile && report.set_aside == 0;
        let healed = store
            .run(move |s| s.heal_unreadable_pages(before, all))
            .await?;
        if healed > 0 {
            info!(healed, "Cleared set-aside pages that were read fine.");
        }
    }
    if report.outcome.is_none() {
        report.outcome = Some(if report.set_aside > 0 || !report.problems.is_empty() {
            RunOutcome::Partial
        } else {
            RunOutcome::Ok
        });
    }
    // Superseded records accumulate as complaints change; reclaim them when they
    // outgrow the live ones. A failure leaves the store as it was: a problem, not an error.
    match store.run(|s| s.compact(false)).await {
        Ok(Some(bytes)) => info!(bytes, "Compacted the store's value log."),
        Ok(None) => {}
        Err(e) => {
            warn!(error = %e, "Could not compact the store's value log.");
            report
                .problems
                .push(format!("the store's value log could not be compacted: {e}"));
        }
    }
    report.cursor_after = store.run(|s| s.cursor()).await?;
    report.held = store.run(|s| s.held_count()).await?;
    report.finished = Some(Utc::now());
    let saved = report.clone();
    store
        .run(move |s| {
            s.save_run_report(&saved)?;
            s.set_job_run(&crate::store::JobRun {
                job: saved.job.clone(),
                started: saved.started.unwrap_or_else(Utc::now),
                finished: saved.finished,
                outcome: saved.outcome,
                report_id: Some(saved.id),
            })
        })
        .await?;
    Ok(report)
}

async fn end_with(
    store: &Store,
    report: &mut RunReport,
    stop: Stop,
    run_id: u64,
) -> Result<(), StoreError> {
    match stop {
        Stop::Token(e) => {
            report.outcome = Some(RunOutcome::TokenRefused);
            report
                .problems
                .push(format!("{}: {}", e.kind(), e.guidance()));
        }
        Stop::Unavailable(e) => {
            warn!(error = %e, "The platform is unavailable; stopping this run.");
            report.outcome = Some(if report.pages == 0 {
                RunOutcome::Retry
            } else {
                RunOutcome::Partial
            });
            report
                .problems
                .push(format!("{}: {}", e.kind(), e.guidance()));
        }
        Stop::Unreadable { reason, raw } => {
            warn!(%reason, "A page could not be read; its bytes are kept in quarantine.");
            report.set_aside += 1;
            report.outcome = Some(RunOutcome::Partial);
            report.problems.push(format!(
                "malformed page: {reason} (kept in quarantine; the next run reads it again)"
            ));
            let item = NewQuarantine {
                tracking_id: None,
                reason: format!("{}: {reason}", crate::store::UNREADABLE_PAGE),
                raw,
            };
            store
                .run(move |s| s.quarantine(&[item], Some(run_id)))
                .await?;
        }
    }
    Ok(())
}

/// Calls `f` with the run's retry policy.
async fn fetch<T, F, Fut>(opts: &PullOptions, budget: &mut Duration, f: F) -> Result<T, Stop>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, UpstreamError>>,
{
    let mut attempt = 0u32;
    let mut waits = 0u32;
    loop {
        let err = match f().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        match err.action() {
            Action::StopAndAlert => return Err(Stop::Token(err)),
            Action::HoldForPerson => return Err(Stop::Unavailable(err)),
            // The same page at the same size is as large again: no retry, the hint says
            // to lower page_size.
            Action::RetryLater { .. } if matches!(err, UpstreamError::TooLarge { .. }) => {
                return Err(Stop::Unavailable(err));
            }
            Action::RetryLater { after } => {
                if let UpstreamError::Malformed { reason, raw } = err {
                    // Truncated or garbled in transit: read it again (bounded) before
                    // setting it aside.
                    attempt += 1;
                    if attempt >= opts.max_attempts {
                        return Err(Stop::Unreadable { reason, raw });
                    }
                    warn!(%reason, attempt, "An answer could not be read; asking again.");
                    tokio::time::sleep(opts.backoff * 2u32.saturating_pow(attempt - 1)).await;
                    continue;
                }
                if let Some(after) = after {
                    // Rate limits and maintenance: wait as told, within the budget.
                    waits += 1;
                    if after > *budget || waits > 50 {
                        return Err(Stop::Unavailable(err));
                    }
                    *budget -= after;
                    tokio::time::sleep(after).await;
                    continue;
                }
                attempt += 1;
                if attempt >= opts.max_attempts {
                    return Err(Stop::Unavailable(err));
                }
                warn!(error = %err, attempt, "Temporary failure; retrying.");
                tokio::time::sleep(opts.backoff * 2u32.saturating_pow(attempt - 1)).await;
            }
        }
    }
}

#[derive(Default)]
struct Counts {
    new: u64,
    changed: u64,
    unchanged: u64,
}

/// Diffs a page against the store and commits it in one transaction.
async fn commit_items(
    store: &Store,
    router: Arc<dyn Router>,
    opts: &PullOptions,
    items: Vec<RawComplaint>,
    set_aside: Vec<NewQuarantine>,
    cursor: Option<StreamKey>,
    run_id: u64,
) -> Result<Counts, StoreError> {
    let now = (opts.clock)();
    let auto_dispose = opts.auto_dispose;
    store
        .run(move |s| {
            let mut counts = Counts::default();
            let mut commit = PageCommit {
                set_aside,
                cursor,
                run_id: Some(run_id),
                ..Default::default()
            };
            let mut in_page: HashSet<TrackingId> = HashSet::new();
            let mut redisposed: Vec<(TrackingId, String, String)> = Vec::new();
            for item in items {
                let tid = item.complaint.tracking_id;
                let hash = content_hash(&item.complaint);
                if !in_page.insert(tid) {
                    // Delivered twice in one page (duplicate delivery): identical copies
                    // count once; a newer copy replaces the earlier one.
                    if commit
                        .upserts
                        .iter()
                        .any(|(r, _)| r.tracking_id() == tid && r.hash == hash)
                    {
                        continue;
                    }
                    commit.upserts.retain(|(r, _)| r.tracking_id() != tid);
                    commit
                        .outbox
                        .retain(|o| o.request.action.tracking_id() != Some(tid));
                }
                let known = s.complaint_hash(tid)?;
                if known.as_deref() == Some(hash.as_str()) {
                    counts.unchanged += 1;
                    continue;
                }
                // Only a known complaint has a record to read (one index lookup for new ones).
                let old = match known {
                    Some(_) => s.get_complaint(tid)?,
                    None => None,
                };
                match old {
                    None => {
                        counts.new += 1;
                        let (rec, events, outbox) =
                            first_seen(router.as_ref(), item, hash, now, auto_dispose);
                        commit.upserts.push((rec, events));
                        commit.outbox.extend(outbox);
                    }
                    Some(old) => {
                        counts.changed += 1;
                        let before = old.complaint.unit.as_ref().map(|u| u.id.clone());
                        let (rec, events) = apply_change(router.as_ref(), old, item, hash, now);
                        if let Some(u) = rec.complaint.unit.as_ref()
                            && before.as_deref() != Some(u.id.as_str())
                        {
                            redisposed.push((rec.tracking_id(), u.id.clone(), u.name.clone()));
                        }
                        commit.upserts.push((rec, events));
                    }
                }
            }
            s.commit_page(commit)?;
            for (tid, unit, name) in redisposed {
                platform::hold_overridden(s, tid, &unit, &name)?;
            }
            Ok(counts)
        })
        .await
}

fn first_seen(
    router: &dyn Router,
    item: RawComplaint,
    hash: String,
    now: DateTime<Utc>,
    auto_dispose: bool,
) -> (StoredComplaint, Vec<EventKind>, Option<NewOutboxEntry>) {
    let (decision, by) = platform::initial_route(router, &item.complaint);
    let revision = router.revision();
    let mut events = vec![
        EventKind::FirstSeen,
        EventKind::Routed {
            opd: decision.opd.clone(),
            rule_id: decision.rule_id.clone(),
            revision: revision.clone(),
        },
    ];
    let c = &item.complaint;
    // Never over a unit the platform set: only complaints without one are disposed.
    let outbox = if auto_dispose && decision.opd != ADMIN_OPD && by == RoutedBy::Rules {
        router.unit_for_opd(&decision.opd).and_then(|unit| {
            platform::may_auto_dispose(c).then(|| {
                crate::push::input::auto_disposition(
                    c.tracking_id,
                    &decision.opd,
                    unit,
                    "auto-dispose",
                )
            })
        })
    } else {
        None
    };
    if c.status == Status::Selesai {
        events.push(EventKind::Closed);
    }
    let left = leaving(c.status);
    if let Some(reason) = &left {
        events.push(EventKind::LeftStream {
            reason: reason.clone(),
        });
    }
    let sla = crate::sla::SlaEvidence::first_read(&item.complaint);
    let rec = StoredComplaint {
        sla,
        complaint: item.complaint,
        raw: item.raw,
        hash,
        first_seen: now,
        last_seen: now,
        in_stream: left.is_none(),
        left_reason: left,
        routing: Some(Routing {
            opd: decision.opd,
            rule_id: decision.rule_id,
            revision,
            routed_at: now,
            by,
        }),
        disposed_at: None,
    };
    (rec, events, outbox)
}

fn apply_change(
    router: &dyn Router,
    mut old: StoredComplaint,
    item: RawComplaint,
    hash: String,
    now: DateTime<Utc>,
) -> (StoredComplaint, Vec<EventKind>) {
    let mut events = changes(&old.complaint, &item.complaint);
    let old_unit = old.complaint.unit.as_ref().map(|u| u.id.clone());
    let new_unit = item.complaint.unit.as_ref().map(|u| u.id.clone());
    if old_unit != new_unit
        && let Some(unit) = &new_unit
    {
        let target = router
            .opd_for_unit(unit)
            .unwrap_or_else(|| ADMIN_OPD.to_string());
        let current = old.opd().to_string();
        if target != current {
            events.push(EventKind::Rerouted {
                from: current,
                to: target.clone(),
                by: "upstream".into(),
            });
            old.routing = Some(Routing {
                opd: target,
                rule_id: "upstream-unit".into(),
                revision: router.revision(),
                routed_at: now,
                by: RoutedBy::Upstream,
            });
        }
    }
    old.sla.observe(&old.complaint, &item.complaint);
    old.complaint = item.complaint;
    old.raw = item.raw;
    old.hash = hash;
    old.last_seen = now;
    match leaving(old.complaint.status) {
        Some(reason) if old.in_stream => {
            old.in_stream = false;
            old.left_reason = Some(reason.clone());
            events.push(EventKind::LeftStream { reason });
        }
        Some(_) => {}
        None => {
            old.in_stream = true;
            old.left_reason = None;
        }
    }
    (old, events)
}

/// A status after which the complaint leaves (or has left) the instansi's stream: the
/// stream shows that final update, then no more.
/// Whether a left reason says the platform refused the complaint (moved to another
/// instansi or deleted), rather than a status that may still change.
fn moved_away(reason: Option<&String>) -> bool {
    reason.is_some_and(|r| r == ErrorCode::Forbidden.as_str() || r == ErrorCode::NotFound.as_str())
}

fn leaving(status: Status) -> Option<String> {
    matches!(status, Status::BukanWewenang | Status::Arsip)
        .then(|| status.default_label().to_string())
}

/// Reconcile: complaints stored as in the stream but not seen in the full re-read.
async fn check_left(
    store: &Store,
    client: &Client,
    router: Arc<dyn Router>,
    opts: &PullOptions,
    seen: &HashSet<TrackingId>,
    report: &mut RunReport,
    budget: &mut Duration,
) -> Result<(), StoreError> {
    // Stored as in the stream but not seen in the full re-read.
    let seen = seen.clone();
    let ids = store
        .run(move |s| {
            let mut ids = Vec::new();
            s.for_each_complaint(|c| {
                // Also Bukan Wewenang/Arsip complaints not yet known to have moved away:
                // they may stay or vanish from the stream, and only getlaporan's
                // FORBIDDEN says they went to another instansi (contract, setstatus).
                let parked = matches!(c.complaint.status, Status::BukanWewenang | Status::Arsip)
                    && !moved_away(c.left_reason.as_ref());
                if (c.in_stream || parked) && !seen.contains(&c.tracking_id()) {
                    ids.push(c.tracking_id());
                }
                true
            })?;
            Ok::<_, StoreError>(ids)
        })
        .await?;
    for id in ids {
        let answer = fetch(opts, budget, || client.get_laporan(id)).await;
        let now = (opts.clock)();
        let router = router.clone();
        let (reason, fresh) = match answer {
            Ok(raw) => match raw.complaint.status {
                Status::BukanWewenang | Status::Arsip => (
                    Some(raw.complaint.status.default_label().to_string()),
                    Some(raw),
                ),
                // Still addressed to us: a missed update; store it.
                _ => (None, Some(raw)),
            },
            Err(Stop::Unavailable(e)) | Err(Stop::Token(e))
                if matches!(
                    e.code(),
                    Some(ErrorCode::Forbidden) | Some(ErrorCode::NotFound)
                ) =>
            {
                (
                    Some(e.code().map(|c| c.as_str().to_string()).unwrap_or_default()),
                    None,
                )
            }
            Err(Stop::Token(e)) => {
                report.outcome = Some(RunOutcome::TokenRefused);
                report
                    .problems
                    .push(format!("{}: {}", e.kind(), e.guidance()));
                return Ok(());
            }
            Err(Stop::Unavailable(e)) => {
                report.problems.push(format!(
                    "could not check complaint {id}: {} ({})",
                    e.kind(),
                    e.guidance()
                ));
                continue;
            }
            Err(Stop::Unreadable { reason, raw }) => {
                report.set_aside += 1;
                let item = NewQuarantine {
                    tracking_id: Some(id),
                    reason: format!("unreadable getlaporan answer: {reason}"),
                    raw,
                };
                store.run(move |s| s.quarantine(&[item], None)).await?;
                continue;
            }
        };
        let was_read = fresh.is_some();
        if was_read {
            report.pulled += 1;
        }
        let (changed, left) = store
            .run(move |s| {
                let Some(old) = s.get_complaint(id)? else {
                    return Ok((false, false));
                };
                let old_hash = old.hash.clone();
                let (mut rec, mut events) = match fresh {
                    Some(item) => {
                        let hash = content_hash(&item.complaint);
                        apply_change(router.as_ref(), old, item, hash, now)
                    }
                    None => (old, Vec::new()),
                };
                // A Bukan Wewenang/Arsip complaint already counted as left is gone for
                // good once the platform refuses it (moved to another instansi).
                if let Some(r) = reason.filter(|r| {
                    rec.in_stream || (moved_away(Some(r)) && rec.left_reason.as_ref() != Some(r))
                }) {
                    rec.in_stream = false;
                    rec.left_reason = Some(r.clone());
                    events.push(EventKind::LeftStream { reason: r });
                }
                let changed = rec.hash != old_hash;
                let left = events
                    .iter()
                    .any(|e| matches!(e, EventKind::LeftStream { .. }));
                s.commit_page(PageCommit {
                    upserts: vec![(rec, events)],
                    ..Default::default()
                })?;
                Ok::<_, StoreError>((changed, left))
            })
            .await?;
        report.left_stream += u64::from(left);
        if was_read {
            if changed {
                report.changed += 1;
            } else {
                report.unchanged += 1;
            }
        }
    }
    Ok(())
}

fn progress_bar(enabled: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}
