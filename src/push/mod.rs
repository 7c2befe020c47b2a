//! The push stage: delivers what Kulon Progo decided locally (dispositions, follow-ups,
//! status changes, locally received complaints) to the platform, exactly once and in order.
//!
//! It owns the delivery loop over the store's outbox ([`run`]) and the checks that local
//! input passes before it is queued ([`input`]). Only the oldest unfinished entry of a
//! complaint is sent. Before the first attempt of a disposition or status change the
//! complaint is read: a target that already holds closes the entry as already true and
//! nothing is sent. Each attempt is marked in flight on disk (`outcome_unknown`, with the
//! first attempt's time) before its request leaves. A lost answer is resolved by reading
//! back and weighing the contract's evidence ([`policy`]): applied, not applied (then
//! sent again), or cannot tell (held for a person with what was seen), so no write takes
//! effect twice even on a platform that ignores `ref`, and none is counted done without
//! proof. Temporary failures back off, `Retry-After` is honoured within the run's wait
//! budget, conflicts are held for a person, a refused token stops the run. Entries of
//! paused OPDs stay pending. A run's outcome is `Ok` only when no entry is left.

pub mod input;
pub mod policy;

use crate::model::TrackingId;
use crate::store::{
    EventKind, OutboxEntry, OutboxState, RoutedBy, Routing, RunOutcome, RunReport, SeenBefore,
    Store, StoreError,
};
use crate::upstream::{Action, Client, ErrorCode, UpstreamError, WriteAction};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{info, warn};

pub use input::{InputError, OpdDirectory};

/// How many complaints are pushed at the same time (each complaint strictly in order).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How one push run behaves.
#[derive(Clone)]
pub struct PushOptions {
    pub backoff_initial_seconds: u64,
    pub backoff_max_seconds: u64,
    /// Total time the run may wait on `Retry-After` before deferring instead.
    pub wait_budget: Duration,
    /// Complaints pushed concurrently.
    pub concurrency: usize,
    /// OPD codes whose entries are skipped (mapping `paused = true`).
    pub paused_opds: HashSet<String>,
    /// Clock skew allowed when a platform time is compared with the first attempt.
    pub clock_skew_seconds: u64,
    /// How long a new complaint may take to appear in the stream (late visibility): a
    /// lost `addstream` is not resent before this has passed since its last attempt.
    pub visibility_delay_seconds: u64,
    /// Entries waiting on backoff are due now (`sp4n push --now`, after an outage).
    pub due_now: bool,
    /// The clock for due times, backoff and attempt times (tests move it forward).
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

impl std::fmt::Debug for PushOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushOptions")
            .field("wait_budget", &self.wait_budget)
            .field("concurrency", &self.concurrency)
            .field("paused_opds", &self.paused_opds)
            .finish_non_exhaustive()
    }
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            backoff_initial_seconds: crate::config::DEFAULT_BACKOFF_INITIAL_SECONDS,
            backoff_max_seconds: crate::config::DEFAULT_BACKOFF_MAX_SECONDS,
            wait_budget: Duration::from_secs(crate::config::DEFAULT_WAIT_BUDGET_SECONDS),
            concurrency: DEFAULT_CONCURRENCY,
            paused_opds: HashSet::new(),
            clock_skew_seconds: policy::DEFAULT_CLOCK_SKEW_SECONDS,
            visibility_delay_seconds: policy::DEFAULT_VISIBILITY_DELAY_SECONDS,
            due_now: false,
            clock: Arc::new(Utc::now),
        }
    }
}

impl PushOptions {
    /// Options from `[push]` of the configuration.
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        PushOptions {
            backoff_initial_seconds: cfg.push.backoff_initial_seconds,
            backoff_max_seconds: cfg.push.backoff_max_seconds,
            wait_budget: Duration::from_secs(cfg.push.wait_budget_seconds),
            clock_skew_seconds: cfg.push.clock_skew_seconds,
            visibility_delay_seconds: cfg.push.visibility_delay_seconds,
            ..PushOptions::default()
        }
    }

    /// Skips the entries of every OPD that the mapping files mark `paused`.
    pub fn with_paused_from(mut self, m: &crate::mapping::Mappings) -> Self {
        self.paused_opds = m
            .opds()
            .iter()
            .filter(|o| o.paused)
            .map(|o| o.code.clone())
            .collect();
        self
    }
}

/// What one push run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// Writes the platform confirmed with an answer.
    pub sent: u64,
    /// Entries found applied by reading the complaint back after a lost answer.
    pub done_by_read_back: u64,
    /// Dispositions and status changes whose target already held upstream before the
    /// first attempt: closed without sending anything.
    pub already_true: u64,
    /// Entries put on hold in this run.
    pub held_now: u64,
    /// Entries on hold at the end of the run (all of them, older ones included).
    pub held: u64,
    /// Entries that failed temporarily and wait for a later attempt.
    pub deferred: u64,
    /// Entries still pending at the end of the run (deferred, not yet due, paused, or
    /// queued behind a held entry); any of them makes the outcome `Partial`.
    pub pending: u64,
    /// Entries skipped because their OPD is paused.
    pub skipped_paused: u64,
    /// Failures by kind ([`UpstreamError::kind`]: a small fixed set of labels).
    pub errors: BTreeMap<String, u64>,
    pub outcome: Option<RunOutcome>,
    /// One line per problem (kind and guidance; never a token or personal data).
    pub problems: Vec<String>,
}

impl PushReport {
    /// Entries that reached the platform in this run.
    pub fn done(&self) -> u64 {
        self.sent + self.done_by_read_back
    }

    /// Copies the push figures into a run report (for `push` and `sync`).
    pub fn fill(&self, r: &mut RunReport) {
        r.sent += self.done();
        r.held = self.held;
        r.problems.extend(self.problems.iter().cloned());
        for (kind, n) in &self.errors {
            r.problems.push(format!("push: {n} × {kind}"));
        }
        if self.skipped_paused > 0 {
            r.problems.push(format!(
                "push: {} entri menunggu karena OPD-nya dijeda (paused)",
                self.skipped_paused
            ));
        }
    }
}

/// How the delivery of one entry ended in this run.
enum Delivered {
    Sent,
    ReadBack,
    AlreadyTrue,
    Held,
    Deferred,
    TokenRefused,
}

struct Shared<'a> {
    store: &'a Store,
    client: &'a Client,
    opts: &'a PushOptions,
    budget: Mutex<Duration>,
    stop: std::sync::atomic::AtomicBool,
    errors: Mutex<BTreeMap<String, u64>>,
    /// New complaints are delivered one at a time: a read-back of one must never take
    /// another's complaint (same text, sent meanwhile) as its own evidence.
    addstream: tokio::sync::Mutex<()>,
}

impl Shared<'_> {
    fn count_error(&self, e: &UpstreamError) {
        *self
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(e.kind().to_string())
            .or_insert(0) += 1;
    }

    /// Takes `d` from the wait budget when it fits.
    fn take_wait(&self, d: Duration) -> bool {
        let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
        if d <= *b {
            *b -= d;
            true
        } else {
            false
        }
    }

    async fn save(&self, e: &OutboxEntry) -> Result<(), StoreError> {
        let e = e.clone();
        self.store.run(move |s| s.update_entry(&e)).await
    }
}

/// Sends every eligible outbox entry, pass after pass until nothing is eligible. Upstream
/// problems end in the report; only store errors are errors.
pub async fn run(
    store: &Store,
    client: &Client,
    opts: &PushOptions,
) -> Result<PushReport, StoreError> {
    let sh = Shared {
        store,
        client,
        opts,
        budget: Mutex::new(opts.wait_budget),
        stop: std::sync::atomic::AtomicBool::new(false),
        errors: Mutex::new(BTreeMap::new()),
        addstream: tokio::sync::Mutex::new(()),
    };
    let mut report = PushReport::default();
    let mut tried: HashSet<u64> = HashSet::new();
    let mut paused_seen: HashSet<u64> = HashSet::new();
    let mut token_refused = false;
    loop {
        let now = if opts.due_now {
            DateTime::<Utc>::MAX_UTC
        } else {
            (opts.clock)()
        };
        let eligible = store.run(move |s| s.eligible(now)).await?;
        let mut batch = Vec::new();
        for e in eligible {
            if opts.paused_opds.contains(&e.opd) {
                paused_seen.insert(e.seq);
                continue;
            }
            if tried.insert(e.seq) {
                batch.push(e);
            }
        }
        if batch.is_empty() {
            break;
        }
        let results: Vec<Result<Delivered, StoreError>> = futures_util::stream::iter(batch)
            .map(|e| deliver(&sh, e))
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;
        for r in results {
            match r? {
                Delivered::Sent => report.sent += 1,
                Delivered::ReadBack => report.done_by_read_back += 1,
                Delivered::AlreadyTrue => report.already_true += 1,
                Delivered::Held => report.held_now += 1,
                Delivered::Deferred => report.deferred += 1,
                Delivered::TokenRefused => token_refused = true,
            }
        }
        if token_refused {
            break;
        }
    }
    report.skipped_paused = paused_seen.len() as u64;
    report.errors = sh.errors.into_inner().unwrap_or_else(|p| p.into_inner());
    report.held = store.run(|s| s.held_count()).await?;
    report.pending = store
        .run(|s| s.outbox_unfinished())
        .await?
        .iter()
        .filter(|e| e.state == OutboxState::Pending)
        .count() as u64;
    let waiting = report.pending.saturating_sub(report.deferred);
    report.outcome = Some(if token_refused {
        report.problems.push(
            "push: token ditolak platform; minta token instansi yang berlaku ke admin LAPOR!, perbarui token_file/token_env, lalu jalankan lagi".into(),
        );
        RunOutcome::TokenRefused
    } else if report.deferred > 0
        && !report.errors.is_empty()
        && report.done() + report.already_true == 0
        && report.held_now == 0
    {
        report.problems.push(format!(
            "push: platform tidak tersedia; {} entri akan dicoba lagi otomatis",
            report.deferred
        ));
        RunOutcome::Retry
    } else if report.pending > 0 || report.held > 0 {
        if waiting > 0 {
            report.problems.push(format!(
                "push: {waiting} entri masih menunggu giliran (jadwal coba ulang, OPD dijeda, atau antre di belakang entri yang ditahan)"
            ));
        }
        if report.deferred > 0 {
            report.problems.push(format!(
                "push: {} entri gagal sementara dan akan dicoba lagi otomatis",
                report.deferred
            ));
        }
        if report.held > 0 {
            report.problems.push(format!(
                "push: {} entri ditahan menunggu petugas; lihat `sp4n outbox list --held`",
                report.held
            ));
        }
        RunOutcome::Partial
    } else {
        RunOutcome::Ok
    });
    info!(
        sent = report.sent,
        read_back = report.done_by_read_back,
        already_true = report.already_true,
        pending = report.pending,
        held = report.held,
        deferred = report.deferred,
        "Pushed outbox."
    );
    Ok(report)
}

/// One run of `sp4n push` (and of the agent's push job): [`run`] recorded as a saved run
/// report and as the last run of job `push`.
pub async fn push(
    store: &Store,
    client: &Client,
    opts: &PushOptions,
) -> Result<(RunReport, PushReport), StoreError> {
    let started = Utc::now();
    let pr = run(store, client, opts).await?;
    let mut r = RunReport {
        job: "push".into(),
        started: Some(started),
        ..Default::default()
    };
    pr.fill(&mut r);
    r.outcome = pr.outcome;
    r.finished = Some(Utc::now());
    let saved = r.clone();
    // Recorded as the pull records its job: the report, and the job's last run.
    r.id = store
        .run(move |s| {
            let id = s.save_run_report(&saved)?;
            s.set_job_run(&crate::store::JobRun {
                job: saved.job.clone(),
                started,
                finished: saved.finished,
                outcome: saved.outcome,
                report_id: Some(id),
            })?;
            Ok::<_, StoreError>(id)
        })
        .await?;
    Ok((r, pr))
}

fn hold_reason(e: &UpstreamError) -> String {
    match e {
        UpstreamError::Rejected { code, pesan, .. } => {
            format!("{}: {pesan} — {}", code.as_str(), e.guidance())
        }
        other => format!("{other} — {}", other.guidance()),
    }
}

/// Delivers one entry, saving every state change before going on:
/// 1. before the first attempt of a disposition or status change, read the complaint: a
///    target that already holds closes the entry as already true, and nothing is sent;
/// 2. after a lost answer, read back and decide applied / not applied / cannot tell by the
///    contract's evidence ([`policy::read_back`], [`policy::find_submitted`]);
/// 3. mark the attempt in flight on disk (its time too) before the request leaves; send.
async fn deliver(sh: &Shared<'_>, mut e: OutboxEntry) -> Result<Delivered, StoreError> {
    use std::sync::atomic::Ordering;
    let _one_new_complaint_at_a_time = match e.request.action {
        WriteAction::AddStream { .. } => Some(sh.addstream.lock().await),
        _ => None,
    };
    loop {
        if sh.stop.load(Ordering::SeqCst) {
            return Ok(Delivered::Deferred);
        }
        // Step 1.
        if e.first_attempt_at.is_none()
            && !e.outcome_unknown
            && let Some(d) = check_before_first_attempt(sh, &mut e).await?
        {
            return Ok(d);
        }
        // Step 2.
        if e.outcome_unknown
            && let Some(d) = resolve_unknown(sh, &mut e).await?
        {
            return Ok(d);
        }
        // Step 3: in flight, on disk, before the request leaves.
        let now = (sh.opts.clock)();
        e.first_attempt_at.get_or_insert(now);
        e.last_attempt_at = Some(now);
        e.attempts += 1;
        e.outcome_unknown = true;
        sh.save(&e).await?;
        match sh.client.write(&e.request).await {
            Ok(answer) => {
                if e.request.action.tracking_id().is_none() {
                    e.created_tracking_id = Some(answer.tracking_id);
                }
                finish_done(sh, &mut e, answer.transaksi_id.clone(), None).await?;
                return Ok(Delivered::Sent);
            }
            Err(err) => {
                sh.count_error(&err);
                e.outcome_unknown = err.outcome_unknown();
                if let Action::RetryLater { after: Some(d) } = err.action()
                    && sh.take_wait(d)
                {
                    e.last_error = Some(format!("{err}; {}", err.guidance()));
                    sh.save(&e).await?;
                    tokio::time::sleep(d).await;
                    continue;
                }
                return after_failure(sh, &mut e, err, false).await;
            }
        }
    }
}

/// Step 1: a disposition or status change whose target already holds is not a write.
/// Records what was seen (the evidence window's reference) when it does not hold.
async fn check_before_first_attempt(
    sh: &Shared<'_>,
    e: &mut OutboxEntry,
) -> Result<Option<Delivered>, StoreError> {
    let action = &e.request.action;
    if !matches!(
        action,
        WriteAction::Disposisi { .. } | WriteAction::SetStatus { .. }
    ) {
        return Ok(None);
    }
    let tid = action.tracking_id().unwrap_or_default();
    match sh.client.get_laporan(tid).await {
        Ok(raw) => {
            if let Some(seen) = policy::already_true(action, &raw.complaint) {
                finish_done(sh, e, "-".into(), Some(seen)).await?;
                info!(
                    seq = e.seq,
                    "An entry's target already held upstream; nothing sent."
                );
                return Ok(Some(Delivered::AlreadyTrue));
            }
            e.seen_before = Some(SeenBefore::of(&raw.complaint));
            Ok(None)
        }
        Err(err) => {
            sh.count_error(&err);
            after_failure(sh, e, err, true).await.map(Some)
        }
    }
}

/// The other outbox entries' claims: the thread entries (follow-ups) and the tracking
/// ids (new complaints) that they already took as their own evidence.
async fn claims(
    sh: &Shared<'_>,
    e: &OutboxEntry,
) -> Result<(HashSet<String>, HashSet<TrackingId>), StoreError> {
    let (seq, tid) = (e.seq, e.tracking_id);
    sh.store
        .run(move |s| {
            let mut tx = HashSet::new();
            let mut ids = HashSet::new();
            for o in s.outbox_all()? {
                if o.seq == seq {
                    continue;
                }
                if let OutboxState::Done { transaksi_id, .. } = &o.state
                    && o.tracking_id == tid
                {
                    tx.insert(transaksi_id.clone());
                }
                if let Some(c) = o.created_tracking_id {
                    ids.insert(c);
                }
            }
            Ok((tx, ids))
        })
        .await
}

/// Step 2: a previous send may have been applied. `Some` ends this run's delivery.
async fn resolve_unknown(
    sh: &Shared<'_>,
    e: &mut OutboxEntry,
) -> Result<Option<Delivered>, StoreError> {
    let skew = chrono::Duration::seconds(sh.opts.clock_skew_seconds as i64);
    let first = e.first_attempt_at.unwrap_or(e.requested_at);
    let since = first - skew;
    let (claimed_tx, claimed_ids) = claims(sh, e).await?;
    let action = e.request.action.clone();
    let verdict = match &action {
        WriteAction::AddStream { laporan } => {
            match read_stream_since(sh.client, since).await {
                Ok(stream) => {
                    match policy::find_submitted(laporan, &stream, since, &claimed_ids) {
                        Some(c) => {
                            e.created_tracking_id = Some(c.tracking_id);
                            policy::ReadBack::Applied {
                                transaksi_id: None,
                                evidence: format!(
                                    "laporan baru {} dengan judul, isi dan kanal yang sama, dibuat {}",
                                    c.tracking_id,
                                    c.dibuat.map(crate::model::format_wib).unwrap_or_default()
                                ),
                            }
                        }
                        None => {
                            let last = e.last_attempt_at.unwrap_or(first);
                            // Late visibility is elapsed time after the request left.
                            let visible_by = last
                                + chrono::Duration::seconds(
                                    sh.opts.visibility_delay_seconds as i64,
                                );
                            let now = (sh.opts.clock)();
                            if now < visible_by {
                                // It may not be visible yet: look again later, send nothing.
                                e.next_attempt_at = visible_by;
                                e.last_error = Some(
                                    "jawaban hilang; laporan baru belum terlihat di stream, dicek lagi setelah batas keterlambatan tampil".into(),
                                );
                                sh.save(e).await?;
                                return Ok(Some(Delivered::Deferred));
                            }
                            policy::ReadBack::NotApplied {
                                seen: "tidak ada laporan baru yang sama di stream".into(),
                            }
                        }
                    }
                }
                Err(err) => {
                    sh.count_error(&err);
                    return after_failure(sh, e, err, true).await.map(Some);
                }
            }
        }
        action => {
            let tid = action.tracking_id().unwrap_or_default();
            match sh.client.get_laporan(tid).await {
                Ok(raw) => {
                    let w = policy::Window {
                        since,
                        before: e.seen_before.as_ref(),
                        claimed: &claimed_tx,
                    };
                    policy::read_back(action, &e.ref_, &raw.complaint, &w)
                }
                // A complaint returned as Bukan Wewenang may leave the instansi's stream,
                // so FORBIDDEN on its read-back is that write's effect.
                Err(err)
                    if err.code() == Some(&ErrorCode::Forbidden)
                        && matches!(
                            action,
                            WriteAction::SetStatus {
                                nilai: crate::model::Status::BukanWewenang,
                                ..
                            }
                        ) =>
                {
                    policy::ReadBack::Applied {
                        transaksi_id: None,
                        evidence:
                            "laporan tidak lagi dapat dibaca (FORBIDDEN) setelah Bukan Wewenang"
                                .into(),
                    }
                }
                Err(err) => {
                    sh.count_error(&err);
                    return after_failure(sh, e, err, true).await.map(Some);
                }
            }
        }
    };
    match verdict {
        policy::ReadBack::Applied {
            transaksi_id,
            evidence,
        } => {
            let tx = transaksi_id.unwrap_or_else(|| format!("dibaca-ulang:{}", e.ref_));
            finish_done(sh, e, tx, Some(format!("dibaca ulang: {evidence}"))).await?;
            info!(seq = e.seq, "Found a lost write applied on read-back.");
            Ok(Some(Delivered::ReadBack))
        }
        policy::ReadBack::NotApplied { .. } => {
            e.outcome_unknown = false;
            Ok(None)
        }
        policy::ReadBack::CannotTell { seen } => {
            let reason = format!(
                "tidak dapat dipastikan apakah kiriman sebelumnya sudah berlaku (jawabannya hilang); terlihat di platform: {seen}. Periksa laporan di LAPOR!, lalu `sp4n outbox retry` bila belum berlaku atau `sp4n outbox discard` bila sudah"
            );
            e.last_error = Some(reason.clone());
            e.state = OutboxState::Held {
                reason,
                upstream_status: None,
            };
            sh.save(e).await?;
            warn!(seq = e.seq, "Held an entry whose outcome cannot be told.");
            Ok(Some(Delivered::Held))
        }
    }
}

/// Every complaint in the stream from `since` on (a few pages after a lost `addstream`).
async fn read_stream_since(
    client: &Client,
    since: DateTime<Utc>,
) -> Result<Vec<crate::model::Complaint>, UpstreamError> {
    let mut key = crate::model::StreamKey {
        sejak: since,
        setelah: None,
    };
    let mut out = Vec::new();
    loop {
        let page = client.get_stream(&key, client.page_size()).await?;
        out.extend(page.items.into_iter().map(|r| r.complaint));
        match page.next {
            Some(next) if next != key => key = next,
            _ => return Ok(out),
        }
    }
}

/// Handles a failure of a write or of a read-back, by the error's action.
async fn after_failure(
    sh: &Shared<'_>,
    e: &mut OutboxEntry,
    err: UpstreamError,
    during_read_back: bool,
) -> Result<Delivered, StoreError> {
    use std::sync::atomic::Ordering;
    let now = (sh.opts.clock)();
    warn!(
        seq = e.seq,
        kind = err.kind(),
        action = e.request.action.kind(),
        "Push failed."
    );
    match err.action() {
        Action::StopAndAlert => {
            e.last_error = Some(format!("{err}; {}", err.guidance()));
            sh.save(e).await?;
            sh.stop.store(true, Ordering::SeqCst);
            Ok(Delivered::TokenRefused)
        }
        Action::HoldForPerson => {
            let upstream_status = if err.code() == Some(&ErrorCode::StatusConflict) {
                match e.request.action.tracking_id() {
                    Some(tid) => sh
                        .client
                        .get_laporan(tid)
                        .await
                        .ok()
                        .map(|raw| sh.client.labels().label(raw.complaint.status).to_string()),
                    None => None,
                }
            } else {
                None
            };
            let mut reason = hold_reason(&err);
            if during_read_back {
                reason = format!("reading the complaint back failed: {reason}");
            }
            e.last_error = Some(reason.clone());
            e.state = OutboxState::Held {
                reason,
                upstream_status,
            };
            sh.save(e).await?;
            Ok(Delivered::Held)
        }
        Action::RetryLater { after } => {
            let seed = e.seq ^ u64::from(e.attempts);
            e.next_attempt_at = policy::next_attempt(
                now,
                e.attempts.max(1),
                after,
                sh.opts.backoff_initial_seconds,
                sh.opts.backoff_max_seconds,
                seed,
            );
            e.last_error = Some(format!("{err}; {}", err.guidance()));
            sh.save(e).await?;
            Ok(Delivered::Deferred)
        }
    }
}

/// Marks an entry done; a confirmed disposition starts the complaint's SLA clock and the
/// local routing follows the unit it was disposed to.
async fn finish_done(
    sh: &Shared<'_>,
    e: &mut OutboxEntry,
    transaksi_id: String,
    evidence: Option<String>,
) -> Result<(), StoreError> {
    let at = Utc::now();
    e.state = OutboxState::Done {
        transaksi_id,
        at,
        evidence,
    };
    e.outcome_unknown = false;
    e.last_error = None;
    sh.save(e).await?;
    if let WriteAction::Disposisi { tracking_id, .. } = &e.request.action {
        let (tid, opd, by) = (*tracking_id, e.opd.clone(), e.requested_by.clone());
        sh.store
            .run(move |s| mark_disposed(s, tid, &opd, &by, at))
            .await?;
    }
    Ok(())
}

fn mark_disposed(
    s: &Store,
    tid: TrackingId,
    opd: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    s.update_complaint(
        tid,
        |rec| {
            let mut events = Vec::new();
            if rec.disposed_at.is_none() {
                rec.disposed_at = Some(at);
            }
            let from = rec.opd().to_string();
            if from != opd {
                let revision = rec
                    .routing
                    .as_ref()
                    .map(|r| r.revision.clone())
                    .unwrap_or_default();
                rec.routing = Some(Routing {
                    opd: opd.to_string(),
                    rule_id: "disposisi".into(),
                    revision,
                    routed_at: at,
                    by: RoutedBy::Person(by.to_string()),
                });
                events.push(EventKind::Rerouted {
                    from,
                    to: opd.to_string(),
                    by: by.to_string(),
                });
            }
            Ok(events)
        },
        Vec::new(),
    )?;
    Ok(())
}
